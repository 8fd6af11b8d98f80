//! Checking a definition and resolving it into a `Plan`, in one pass.
//!
//! Syntax and shape errors come from `toml`/serde with a span; the cross-references (a
//! rule naming a field its table lacks, a measure naming an unknown source, an SQL
//! expression that does not parse) are found here, all of them, each with its span. Only
//! a definition with no problem at all becomes a plan.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use toml::Spanned;

use super::plan::*;
use super::spec::*;
use crate::period::{Month, PeriodKind};
use crate::text;

/// One thing wrong in a definition, at a place in its text.
#[derive(Debug, Clone)]
pub struct Problem {
    pub(crate) message: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) source_line: String,
}

/// A definition that cannot be used: every problem found, with its place.
#[derive(Debug, thiserror::Error)]
pub struct DefinitionError {
    pub(crate) path: PathBuf,
    pub(crate) problems: Vec<Problem>,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "error: {}", p.message)?;
            writeln!(f, " --> {}:{}:{}", self.path.display(), p.line, p.column)?;
            if !p.source_line.is_empty() {
                let gutter = p.line.to_string().len();
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{} | {}", p.line, p.source_line)?;
                write!(f, "{:gutter$} | {:>col$}", "", "^", col = p.column)?;
            }
        }
        Ok(())
    }
}

/// Read, check and resolve a definition file.
pub fn load(path: &Path) -> Result<Plan, DefinitionError> {
    let text = std::fs::read_to_string(path).map_err(|e| DefinitionError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            message: format!("cannot read the definition: {e}"),
            line: 1,
            column: 1,
            source_line: String::new(),
        }],
    })?;
    parse(path, &text)
}

/// Parse, check and resolve definition text; `path` only labels the messages.
pub fn parse(path: &Path, text: &str) -> Result<Plan, DefinitionError> {
    let error = |problems: Vec<(String, Option<Range<usize>>)>| DefinitionError {
        path: path.to_path_buf(),
        problems: problems.into_iter().map(|(message, span)| locate(text, message, span)).collect(),
    };
    let spec: DefinitionSpec = toml::from_str(text).map_err(|e| error(vec![(e.message().to_string(), e.span())]))?;
    Checker::default().resolve(spec).map_err(error)
}

/// The labels of every title block, folded.
fn title_labels(returns: &[Return], references: &[Reference]) -> Vec<String> {
    let mut labels: Vec<String> = returns
        .iter()
        .flat_map(|r| [&r.unit_label, &r.period_label])
        .chain(references.iter().filter_map(|r| r.cutoff.as_ref()))
        .map(|l| text::fold(l))
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

fn locate(text: &str, message: String, span: Option<Range<usize>>) -> Problem {
    let offset = span.map(|s| s.start).unwrap_or(0).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    let source_line = text[line_start..].lines().next().unwrap_or("").to_string();
    Problem { message, line, column, source_line }
}

type Problems = Vec<(String, Option<Range<usize>>)>;

/// The names a definition gives its parts, for the references between them.
#[derive(Default)]
struct Names {
    levels: Vec<String>,
    tables: HashMap<String, TableId>,
    references: HashMap<String, ReferenceId>,
    measures: HashMap<String, MeasureId>,
}

#[derive(Default)]
struct Checker {
    problems: Problems,
}

impl Checker {
    fn fail<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.problems.push((message.into(), Some(at.span())));
    }

    fn fail_nowhere(&mut self, message: impl Into<String>) {
        self.problems.push((message.into(), None));
    }

    fn resolve(mut self, mut spec: DefinitionSpec) -> Result<Plan, Problems> {
        let mut names = Names { levels: spec.registry.levels.clone(), ..Names::default() };
        let term = self.term(&spec.pipeline.term);
        let mut references = Vec::new();
        for (i, reference) in spec.references.into_iter().enumerate() {
            names.references.insert(reference.id.clone(), ReferenceId(i));
            references.push(self.reference(reference, &names));
        }
        let (returns, tables, table_returns) = self.returns(spec.returns, &mut names);
        let rules: Vec<_> = spec.rules.into_iter().map(|r| self.rule(r, &names, &tables)).collect();
        let merges: Vec<_> = spec.merges.into_iter().map(|m| self.merge(m, &names, &tables)).collect();
        let measures = self.measures(spec.measures, spec.pipeline.period, &mut names, &tables, &references);
        let sheets: Vec<_> =
            std::mem::take(&mut spec.workbook.sheets).into_iter().map(|s| self.sheet(s, &names, &tables)).collect();

        self.problems.sort_by_key(|(_, span)| span.as_ref().map(|s| s.start));
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        // With no problem found, every part resolved.
        let plan = (|| {
            let references: Vec<Reference> = references.into_iter().collect::<Option<_>>()?;
            let labels = title_labels(&returns, &references);
            let w = spec.workbook;
            Some(Plan {
                pipeline: Pipeline {
                    name: spec.pipeline.name,
                    title: spec.pipeline.title,
                    period: spec.pipeline.period,
                    quarter_words: spec.pipeline.quarter_words,
                    term_start: term?,
                },
                registry: RegistryFile { file: spec.registry.file, levels: spec.registry.levels },
                references,
                returns,
                tables: tables.into_iter().collect::<Option<_>>()?,
                table_returns,
                rules: rules.into_iter().collect::<Option<_>>()?,
                reconciliations: merges.into_iter().collect::<Option<_>>()?,
                measures: measures.into_iter().collect::<Option<_>>()?,
                workbook: Workbook {
                    file: w.file,
                    superior: w.superior,
                    issuer: w.issuer,
                    motto: w.motto,
                    place: w.place,
                    date_line: w.date_line,
                    period_line: w.period_line,
                    severities: w.severities,
                    signature: w.signature,
                    marks: w.marks,
                    sheets: sheets.into_iter().collect::<Option<_>>()?,
                },
                labels,
                messages: spec.messages,
                limits: spec.limits,
                policy: spec.policy,
            })
        })();
        plan.ok_or_else(|| vec![("the definition could not be resolved".to_string(), None)])
    }

    /// The term's first month; its end is checked too, though no figure needs it.
    fn term(&mut self, term: &TermSpec) -> Option<Month> {
        let mut month = |at: &Spanned<String>| match at.get_ref().parse::<Month>() {
            Ok(m) => Some(m),
            Err(_) => {
                self.fail(at, format!("`{}` is not a month, expected YYYY-MM", at.get_ref()));
                None
            }
        };
        let (start, end) = (month(&term.start), month(&term.end));
        end?;
        start
    }

    fn level(&mut self, names: &Names, at: &Spanned<String>) -> Option<String> {
        if names.levels.contains(at.get_ref()) {
            return Some(at.get_ref().clone());
        }
        self.fail(
            at,
            format!("`{}` is not a registry level, expected one of {}", at.get_ref(), names.levels.join(", ")),
        );
        None
    }

    fn reference(&mut self, spec: ReferenceSpec, names: &Names) -> Option<Reference> {
        let table = self.table(spec.table, spec.id);
        let key = table.as_ref().and_then(|t| self.field_of(t, &spec.key)).map(|_| spec.key.into_inner());
        let covers: Vec<Option<String>> = spec.covers.iter().map(|l| self.level(names, l)).collect();
        Some(Reference {
            file: spec.file,
            key: key?,
            cutoff: spec.cutoff.map(|c| c.label),
            covers: covers.into_iter().collect::<Option<_>>()?,
            table: table?,
        })
    }

    fn returns(&mut self, specs: Vec<ReturnSpec>, names: &mut Names) -> (Vec<Return>, Vec<Option<Table>>, Vec<usize>) {
        let mut ids = HashSet::new();
        let mut returns = Vec::new();
        let mut tables = Vec::new();
        let mut table_returns = Vec::new();
        for (r, spec) in specs.into_iter().enumerate() {
            if !ids.insert(spec.id.clone()) {
                self.fail_nowhere(format!("return `{}` is defined twice", spec.id));
            }
            for kind in &spec.senders {
                if !names.levels.contains(kind) {
                    self.fail_nowhere(format!(
                        "return `{}` is sent by `{kind}`, which is not a registry level",
                        spec.id
                    ));
                }
            }
            let mut own = Vec::new();
            for table in spec.tables {
                let name = format!("{}.{}", spec.id, table.id);
                for column in &table.columns {
                    if let Some(unit_of) = &column.unit_of {
                        self.level(names, &unit_of.kind);
                    }
                }
                let id = TableId(tables.len());
                names.tables.insert(name.clone(), id);
                tables.push(self.table(table, name));
                table_returns.push(r);
                own.push(id);
            }
            returns.push(Return {
                id: spec.id,
                title: spec.title,
                senders: spec.senders,
                unit_label: spec.header.unit.label,
                period_label: spec.header.period.label,
                date_marker: spec.header.date_marker,
                tables: own,
                template: spec.template,
            });
        }
        (returns, tables, table_returns)
    }

    fn table(&mut self, spec: TableSpec, name: String) -> Option<Table> {
        let mut fields = HashSet::new();
        let mut columns = Vec::new();
        for column in spec.columns {
            let field = column.field.get_ref();
            if !fields.insert(field.clone()) {
                self.fail(&column.field, format!("field `{field}` is defined twice"));
            }
            if field.starts_with('_') {
                self.fail(&column.field, "field ids starting with `_` are reserved for the engine");
            }
            match (column.kind, column.values.is_empty()) {
                (ValueKind::Category, true) => self.fail(&column.field, "a `category` column needs its `values`"),
                (kind, false) if kind != ValueKind::Category => {
                    self.fail(&column.field, "only `category` columns take `values`")
                }
                _ => {}
            }
            let values = column
                .values
                .into_iter()
                .map(|v| {
                    let matches = std::iter::once(&v.id)
                        .chain(std::iter::once(&v.label))
                        .chain(&v.aliases)
                        .map(|t| text::fold(t));
                    Category { matches: matches.collect(), id: v.id, label: v.label }
                })
                .collect();
            columns.push(Column {
                matches: Column::matches(&column.header, &column.aliases),
                field: column.field.into_inner(),
                header: column.header,
                aliases: column.aliases,
                kind: column.kind,
                required: column.required,
                ignore: column.ignore,
                blank: column.blank,
                values,
                unit_of: column.unit_of.map(|u| UnitOf { kind: u.kind.into_inner(), under_sender: u.under_sender }),
            });
        }
        let mut table = Table {
            id: spec.id,
            name,
            sheet: spec.sheet,
            header_rows: spec.header_rows,
            numbering_row: spec.numbering_row,
            total_row: None,
            stop_at: spec.stop_at.iter().map(|s| text::fold(s)).collect(),
            unique: Vec::new(),
            columns,
        };
        let mut complete = true;
        if let Some(total) = spec.total_row {
            match self.column_index(&table, &total.column) {
                Some(column) => {
                    let labels = || std::iter::once(&total.label).chain(&total.aliases);
                    let (folded, bare) =
                        (labels().map(|l| text::fold(l)).collect(), labels().map(|l| text::bare(l)).collect());
                    table.total_row = Some(TotalRow { column, label: total.label.clone(), folded, bare });
                }
                None => complete = false,
            }
        }
        for field in &spec.unique {
            match self.column_index(&table, field) {
                Some(i) => table.unique.push(i),
                None => complete = false,
            }
        }
        complete.then_some(table)
    }

    fn unknown_field(&mut self, table: &Table, field: &Spanned<String>) {
        let known: Vec<_> = table.columns.iter().map(|c| c.field.as_str()).collect();
        self.fail(field, format!("unknown field `{}`, expected one of {}", field.get_ref(), known.join(", ")));
    }

    /// The index of a column of the table (not an engine field such as `_unit`).
    fn column_index(&mut self, table: &Table, field: &Spanned<String>) -> Option<usize> {
        let found = table.columns.iter().position(|c| &c.field == field.get_ref());
        if found.is_none() {
            self.unknown_field(table, field);
        }
        found
    }

    /// The kind of a field of the table's rows: a column, or `_unit`/`_period`, which the
    /// engine adds to every row.
    fn field_of(&mut self, table: &Table, field: &Spanned<String>) -> Option<ValueKind> {
        let name = field.get_ref();
        if name == "_unit" || name == "_period" {
            return Some(ValueKind::Text);
        }
        match table.column(name) {
            Some(c) => Some(c.kind),
            None => {
                self.unknown_field(table, field);
                None
            }
        }
    }

    fn table_ref(&mut self, names: &Names, at: &Spanned<String>) -> Option<TableId> {
        let found = names.tables.get(at.get_ref()).copied();
        if found.is_none() {
            let mut known: Vec<_> = names.tables.iter().map(|(n, id)| (id, n.as_str())).collect();
            known.sort();
            let known: Vec<_> = known.into_iter().map(|(_, n)| n).collect();
            self.fail(at, format!("unknown table `{}`, expected one of {}", at.get_ref(), known.join(", ")));
        }
        found
    }

    fn sql(&mut self, at: &Spanned<String>, text: &str) -> Option<Sql> {
        match polars::sql::sql_expr(text) {
            Ok(expr) => Some(Sql { text: text.to_string(), expr }),
            Err(e) => {
                self.fail(at, format!("`{text}` is not a valid SQL expression: {e}"));
                None
            }
        }
    }

    fn rule(&mut self, spec: RuleSpec, names: &Names, tables: &[Option<Table>]) -> Option<Rule> {
        let id = self.table_ref(names, &spec.table)?;
        let table = tables[id.0].as_ref()?;
        let mut resolved = true;
        if let Some(cell) = &spec.cell {
            resolved &= self.field_of(table, cell).is_some();
        }
        let kind = match spec.scope {
            RuleScope::Return => RuleKind::Return(self.sql(&spec.check, spec.check.get_ref())?),
            RuleScope::Row if spec.for_each.is_empty() => {
                let check = self.sql(&spec.check, spec.check.get_ref());
                let Some(cell) = &spec.cell else {
                    self.fail(&spec.check, format!("rule `{}` needs `cell` or `for_each` to point at a cell", spec.id));
                    return None;
                };
                RuleKind::Row(vec![RowCheck { check: check?, cell: cell.get_ref().clone() }])
            }
            RuleScope::Row => {
                let mut checks = Vec::new();
                for field in &spec.for_each {
                    resolved &= self.field_of(table, field).is_some();
                    let text = spec.check.get_ref().replace("{field}", field.get_ref());
                    if let Some(check) = self.sql(&spec.check, &text) {
                        let cell = spec.cell.as_ref().unwrap_or(field).get_ref().clone();
                        checks.push(RowCheck { check, cell });
                    }
                }
                RuleKind::Row(checks)
            }
        };
        resolved.then_some(Rule { id: spec.id, table: id, severity: spec.severity, message: spec.message, kind })
    }

    fn side(&mut self, spec: &MergeSideSpec, names: &Names, tables: &[Option<Table>]) -> Option<Side> {
        let id = self.table_ref(names, &spec.table)?;
        let table = tables[id.0].as_ref()?;
        let (unit, field) = (self.field_of(table, &spec.unit), self.field_of(table, &spec.field));
        unit?;
        field?;
        Some(Side { table: id, unit: spec.unit.get_ref().clone(), field: spec.field.get_ref().clone() })
    }

    fn merge(&mut self, spec: MergeSpec, names: &Names, tables: &[Option<Table>]) -> Option<Reconciliation> {
        let (left, right) = (self.side(&spec.left, names, tables), self.side(&spec.right, names, tables));
        Some(Reconciliation { id: spec.id, severity: spec.severity, left: left?, right: right?, message: spec.message })
    }

    fn reference_field(
        &mut self,
        names: &Names,
        references: &[Option<Reference>],
        at: &Spanned<String>,
    ) -> Option<ReferenceField> {
        let Some((reference, field)) = at.get_ref().split_once('.') else {
            self.fail(at, "expected `reference.field`");
            return None;
        };
        let Some(&id) = names.references.get(reference) else {
            self.fail(at, format!("unknown reference `{reference}`"));
            return None;
        };
        let table = &references[id.0].as_ref()?.table;
        self.field_of(table, &Spanned::new(at.span(), field.to_string()))?;
        Some(ReferenceField { reference: id, field: field.to_string() })
    }

    fn measures(
        &mut self,
        specs: Vec<MeasureSpec>,
        period: PeriodKind,
        names: &mut Names,
        tables: &[Option<Table>],
        references: &[Option<Reference>],
    ) -> Vec<Option<Measure>> {
        let mut measures = Vec::new();
        for spec in specs {
            let id = spec.id.get_ref().clone();
            if names.measures.contains_key(&id) {
                self.fail(&spec.id, format!("measure `{id}` is defined twice"));
            }
            let kind = self.measure_kind(&spec, period, names, tables, references);
            names.measures.insert(id.clone(), MeasureId(measures.len()));
            measures.push(kind.map(|kind| Measure { id, kind }));
        }
        measures
    }

    fn measure_kind(
        &mut self,
        spec: &MeasureSpec,
        period: PeriodKind,
        names: &Names,
        tables: &[Option<Table>],
        references: &[Option<Reference>],
    ) -> Option<MeasureKind> {
        let id = spec.id.get_ref();
        match (&spec.source, &spec.reference, &spec.expr, &spec.ratio, &spec.window, &spec.level) {
            (Some(source), None, None, None, Some(window), _) => {
                let fits = self.window_fits(id, window, period);
                let source = self.table_ref(names, source);
                let table = source.and_then(|t| tables[t.0].as_ref());
                let field = match (&spec.field, table) {
                    (Some(f), Some(t)) => self.field_of(t, f).map(|kind| Some((f.get_ref().clone(), kind))),
                    (Some(_), None) => None,
                    (None, _) => Some(None),
                };
                let filter = self.optional(spec.filter.as_ref(), |c, f| c.sql(f, f.get_ref()));
                let opening = self.optional(spec.opening.as_ref(), |c, o| c.reference_field(names, references, o));
                let field = field.filter(|_| fits)?;
                Some(MeasureKind::Sum(Sum {
                    source: source?,
                    decimal: field.as_ref().is_some_and(|(_, kind)| *kind == ValueKind::Number),
                    field: field.map(|(f, _)| f),
                    filter: filter?,
                    window: *window.get_ref(),
                    opening: opening?,
                }))
            }
            (None, Some(reference), None, None, None, None) => {
                Some(MeasureKind::Reference(self.reference_field(names, references, reference)?))
            }
            (None, None, Some(expr), None, None, Some(level)) => {
                let (expr, level) = (self.sql(expr, expr.get_ref()), self.level(names, level));
                Some(MeasureKind::Expr { expr: expr?, level: level? })
            }
            (None, None, None, Some(parts), None, None) if parts.len() == 2 => {
                let mut measure = |part: &Spanned<String>| {
                    let found = names.measures.get(part.get_ref()).copied();
                    if found.is_none() {
                        self.fail(
                            part,
                            format!(
                                "unknown measure `{}` (a ratio may only use measures defined above it)",
                                part.get_ref()
                            ),
                        );
                    }
                    found
                };
                let (numerator, denominator) = (measure(&parts[0]), measure(&parts[1]));
                Some(MeasureKind::Ratio {
                    numerator: numerator?,
                    denominator: denominator?,
                    scale: spec.scale.unwrap_or(100.0),
                })
            }
            _ => {
                self.fail(
                    &spec.id,
                    format!(
                        "measure `{id}` needs exactly one of `source` (with `window`), `reference`, \
                         `expr` (with `level`) or `ratio` (two measures)"
                    ),
                );
                None
            }
        }
    }

    /// Whether a sum's window fits the pipeline's period (a quarterly pipeline has no month).
    fn window_fits(&mut self, id: &str, window: &Spanned<Window>, period: PeriodKind) -> bool {
        let wrong = match (window.get_ref(), period) {
            (Window::Month, PeriodKind::Quarter) => ("month", "quarter"),
            (Window::Quarter, PeriodKind::Month) => ("quarter", "month"),
            _ => return true,
        };
        self.fail(
            window,
            format!("measure `{id}` sums over a {}, but this pipeline's period is a {}", wrong.0, wrong.1),
        );
        false
    }

    /// An optional part resolved: `Some(None)` when absent, `None` when it failed.
    fn optional<S, T>(
        &mut self,
        spec: Option<&S>,
        resolve: impl FnOnce(&mut Self, &S) -> Option<T>,
    ) -> Option<Option<T>> {
        match spec {
            None => Some(None),
            Some(spec) => resolve(self, spec).map(Some),
        }
    }

    fn sheet(&mut self, spec: SheetSpec, names: &Names, tables: &[Option<Table>]) -> Option<Sheet> {
        let layout = match spec.kind {
            SheetKind::Units => Layout::Units(self.units_layout(&spec, names)?),
            SheetKind::Rows => {
                self.needs(&spec, "table", spec.table.as_ref());
                let table = spec.table.as_ref().and_then(|t| self.table_ref(names, t));
                let of = table.and_then(|t| tables[t.0].as_ref());
                let columns = self.columns(&spec.columns, |c, value| c.row_value(of, value));
                Layout::Rows(RowsLayout {
                    table: table?,
                    total_label: spec.total_label.clone().unwrap_or_default(),
                    columns: columns.into_iter().collect::<Option<_>>()?,
                })
            }
            SheetKind::Findings => {
                let columns = self.columns(&spec.columns, |c, value| c.attribute::<FindingAttribute>(value, "finding"));
                Layout::Findings(columns.into_iter().collect::<Option<_>>()?)
            }
            SheetKind::Completeness => {
                self.needs(&spec, "group_by", spec.group_by.as_ref());
                let group_by = spec.group_by.as_ref().and_then(|g| self.level(names, g));
                let columns =
                    self.columns(&spec.columns, |c, value| c.attribute::<CompletenessAttribute>(value, "completeness"));
                Layout::Completeness(CompletenessLayout {
                    group_by: group_by?,
                    missing_title: spec.missing_title.clone(),
                    columns: columns.into_iter().collect::<Option<_>>()?,
                })
            }
            SheetKind::Info => Layout::Info,
        };
        Some(Sheet { name: spec.name.into_inner(), title: spec.title, labels: spec.labels, layout })
    }

    fn units_layout(&mut self, spec: &SheetSpec, names: &Names) -> Option<UnitsLayout> {
        self.needs(spec, "level", spec.level.as_ref());
        let level = spec.level.as_ref().and_then(|l| self.level(names, l));
        let group_by = self.optional(spec.group_by.as_ref(), |c, g| c.level(names, g));
        let total = self.optional(spec.total.as_ref(), |c, t| c.level(names, t));
        let columns = self.columns(&spec.columns, |c, value| c.unit_value(names, value));
        let chart = self.optional(spec.chart.as_ref(), |c, chart| {
            let value = c.unit_value(names, &chart.value)?;
            let column = columns.iter().position(|col| col.as_ref().is_some_and(|col| col.value == value));
            if column.is_none() {
                let sheet = spec.name.get_ref();
                c.fail(&chart.value, format!("`{}` is not a column of sheet `{sheet}`", chart.value.get_ref()));
            }
            Some(Chart { title: chart.title.clone(), column: column? })
        });
        Some(UnitsLayout {
            level: level?,
            group_by: group_by?,
            subtotal_label: spec.labels.get("subtotal").cloned().unwrap_or_else(|| "{name}".into()),
            total: total?,
            total_label: spec.total_label.clone().unwrap_or_else(|| "{name}".into()),
            attainment: spec.attainment.clone(),
            chart: chart?,
            columns: columns.into_iter().collect::<Option<_>>()?,
        })
    }

    /// A sheet of this kind needs `key`.
    fn needs(&mut self, sheet: &SheetSpec, key: &str, value: Option<&Spanned<String>>) {
        if value.is_none() {
            let (name, kind): (&str, &str) = (sheet.name.get_ref(), sheet.kind.into());
            self.fail(&sheet.name, format!("sheet `{name}` of kind {kind} needs `{key}`"));
        }
    }

    /// The sheet's columns, each value resolved by `value`.
    fn columns<V>(
        &mut self,
        specs: &[SheetColumnSpec],
        mut value: impl FnMut(&mut Self, &Spanned<String>) -> Option<V>,
    ) -> Vec<Option<SheetColumn<V>>> {
        let column = |c: &SheetColumnSpec, value| SheetColumn {
            label: c.label.clone(),
            value,
            format: c.format,
            width: c.width,
        };
        specs.iter().map(|c| value(self, &c.value).map(|v| column(c, v))).collect()
    }

    fn cannot_show(&mut self, at: &Spanned<String>) {
        self.fail(at, format!("`{}` is not a value this sheet can show", at.get_ref()));
    }

    fn unit_value(&mut self, names: &Names, at: &Spanned<String>) -> Option<UnitValue> {
        let measure = |m: &str| names.measures.get(m).copied();
        let value = match at.get_ref().split_once(':') {
            Some(("unit", "reporting")) => Some(UnitValue::Reporting),
            Some(("unit", name)) => UnitAttribute::parse(name).map(UnitValue::Unit),
            Some(("measure", name)) => measure(name).map(UnitValue::Measure),
            Some(("fraction", name)) => {
                name.split_once('/').and_then(|(a, b)| Some(UnitValue::Fraction(measure(a)?, measure(b)?)))
            }
            _ => None,
        };
        if value.is_none() {
            self.cannot_show(at);
        }
        value
    }

    fn row_value(&mut self, table: Option<&Table>, at: &Spanned<String>) -> Option<RowValue> {
        match at.get_ref().split_once(':') {
            Some(("unit", name)) if UnitAttribute::parse(name).is_some() => {
                UnitAttribute::parse(name).map(RowValue::Unit)
            }
            Some(("field", name)) => {
                let table = table?;
                self.field_of(table, &Spanned::new(at.span(), name.to_string()))?;
                Some(RowValue::Field(name.to_string()))
            }
            _ => {
                self.cannot_show(at);
                None
            }
        }
    }

    fn attribute<A: FromStr>(&mut self, at: &Spanned<String>, source: &str) -> Option<A> {
        let value = at.get_ref().split_once(':').filter(|(s, _)| *s == source).and_then(|(_, n)| n.parse().ok());
        if value.is_none() {
            self.cannot_show(at);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> String {
        match parse(Path::new("p.toml"), text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let text = "[pipeline]\nname = \"x\"\ntitel = \"y\"\n";
        let out = problems(text);
        assert!(out.contains("unknown field `titel`"), "{out}");
        assert!(out.contains("p.toml:3:1"), "{out}");
    }

    #[test]
    fn every_broken_reference_is_reported_with_its_place_and_a_caret() {
        let broken = crate::testing::PIPELINE
            .replacen("field = \"admitted\"\nwindow = \"month\"", "field = \"admited\"\nwindow = \"month\"", 1)
            .replacen("check = \"female <= admitted\"", "check = \"female <= \"", 1)
            .replacen("value = \"measure:pct_plan\"", "value = \"measure:pct_plna\"", 1)
            .replacen("level = \"commune\"\ngroup_by", "level = \"communes\"\ngroup_by", 1)
            .replacen("window = \"year\"", "window = \"quarter\"", 1);
        let expected = r#"error: `female <= ` is not a valid SQL expression: unable to parse 'female <= ' as Expr
 --> p.toml:65:9
   |
65 | check = "female <= "
   |         ^
error: unknown field `admited`, expected one of name, admitted, female
 --> p.toml:87:9
   |
87 | field = "admited"
   |         ^
error: measure `adm_year` sums over a quarter, but this pipeline's period is a month
 --> p.toml:94:10
   |
94 | window = "quarter"
   |          ^
error: `communes` is not a registry level, expected one of province, district, commune
 --> p.toml:125:9
    |
125 | level = "communes"
    |         ^
error: `measure:pct_plna` is not a value this sheet can show
 --> p.toml:136:36
    |
136 |   { label = ["Plan", "%"], value = "measure:pct_plna", format = "percent" },
    |                                    ^"#;
        assert_eq!(problems(&broken), expected);
    }

    #[test]
    fn a_sheet_without_a_key_its_kind_needs_is_named() {
        let broken = crate::testing::PIPELINE.replacen("level = \"commune\"\ngroup_by", "group_by", 1);
        let out = problems(&broken);
        assert_eq!(out.lines().next(), Some("error: sheet `Units` of kind units needs `level`"), "{out}");
    }

    #[test]
    fn location_counts_characters_not_bytes() {
        let p = locate("a = \"Đảng\"\nb = 1\n", "m".into(), Some(14..15));
        assert_eq!((p.line, p.column), (2, 1));
        let p = locate("x = \"ĐĐ\" y", "m".into(), Some(10..11));
        assert_eq!((p.line, p.column), (1, 9));
    }
}
