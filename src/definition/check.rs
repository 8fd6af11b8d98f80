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

use polars::prelude::{self as pl, col, DataType, Expr, IntoLazy, LazyFrame};
use toml::Spanned;

use super::expand;
use super::plan::*;
use super::spec::*;
use crate::period::{Month, PeriodKind};
use crate::print::{column_points, Page};
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

impl Problem {
    /// The problem as `check` shows it: `kind: message`, the file, line and column, and
    /// the line with a caret under the place.
    pub fn shown(&self, kind: &str, path: &Path) -> String {
        let mut out = format!("{kind}: {}\n --> {}:{}:{}\n", self.message, path.display(), self.line, self.column);
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            out.push_str(&format!("{:gutter$} |\n{} | {}\n", "", self.line, self.source_line));
            out.push_str(&format!("{:gutter$} | {:>col$}", "", "^", col = self.column));
        }
        out
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", p.shown("error", &self.path))?;
        }
        Ok(())
    }
}

/// Read, check and resolve a definition file.
pub fn load(path: &Path) -> Result<Plan, DefinitionError> {
    load_with_warnings(path).map(|(plan, _)| plan)
}

/// Read, check and resolve a definition file, with what it says that changes nothing (an
/// override of the definition it extends equal to the base).
pub fn load_with_warnings(path: &Path) -> Result<(Plan, Vec<Problem>), DefinitionError> {
    let text = read(path)?;
    parse_with_warnings(path, &text)
}

/// The definition file as it resolves, `extends`, families and defaults done: TOML that
/// reads as the same plan.
pub fn expanded(path: &Path) -> Result<String, DefinitionError> {
    let text = read(path)?;
    let error = |problems: Problems| located(path, &text, problems);
    let chain = expand::chain(path, &text).map_err(error)?;
    let (root, _) = expand::expand(&chain).map_err(error)?;
    expand::to_toml(root).map_err(|e| error(vec![(e, None)]))
}

/// The definition file and every file it `extends`, with their texts, the file first:
/// what a stage key covers, so that a change to a base makes the stages stale too.
pub fn sources(path: &Path) -> Result<Vec<(PathBuf, String)>, DefinitionError> {
    let text = read(path)?;
    let chain = expand::chain(path, &text).map_err(|problems| located(path, &text, problems))?;
    Ok(chain.files)
}

fn read(path: &Path) -> Result<String, DefinitionError> {
    std::fs::read_to_string(path).map_err(|e| DefinitionError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            message: format!("cannot read the definition: {e}"),
            line: 1,
            column: 1,
            source_line: String::new(),
        }],
    })
}

/// Parse, check and resolve definition text; `path` labels the messages and is where a
/// definition it `extends` is looked for.
pub fn parse(path: &Path, text: &str) -> Result<Plan, DefinitionError> {
    parse_with_warnings(path, text).map(|(plan, _)| plan)
}

fn parse_with_warnings(path: &Path, text: &str) -> Result<(Plan, Vec<Problem>), DefinitionError> {
    let error = |problems: Problems| located(path, text, problems);
    let chain = expand::chain(path, text).map_err(error)?;
    let (root, warnings) = expand::expand(&chain).map_err(error)?;
    let spec = read_spec(root).map_err(error)?;
    let plan = Checker { problems: Vec::new(), path, text }.resolve(spec).map_err(error)?;
    Ok((plan, warnings.into_iter().map(|(message, span)| locate(text, message, span)).collect()))
}

fn located(path: &Path, text: &str, mut problems: Problems) -> DefinitionError {
    problems.sort_by_key(|(_, span)| span.as_ref().map(|s| s.start));
    // A family's members share their family's place: one of its errors is said once.
    problems.dedup();
    DefinitionError {
        path: path.to_path_buf(),
        problems: problems.into_iter().map(|(message, span)| locate(text, message, span)).collect(),
    }
}

/// The definition's sections, each read on its own (each item of a list too), so that every
/// section's first error is reported, not only the file's: TOML and serde stop at one.
fn read_spec(root: toml::de::DeTable) -> Result<DefinitionSpec, Problems> {
    use serde::de::IntoDeserializer;
    use toml::de::DeValue;

    let mut problems: Problems = Vec::new();
    fn one<T: serde::de::DeserializeOwned>(value: Spanned<DeValue>, problems: &mut Problems) -> Option<T> {
        T::deserialize(value.into_deserializer()).map_err(|e| problems.push((e.message().to_string(), e.span()))).ok()
    }
    fn many<T: serde::de::DeserializeOwned>(value: Spanned<DeValue>, problems: &mut Problems) -> Option<Vec<T>> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => {
                let read: Vec<Option<T>> = items.into_iter().map(|item| one(item, problems)).collect();
                read.into_iter().collect()
            }
            other => one(Spanned::new(span, other), problems),
        }
    }
    let mut pipeline = None;
    let mut registry = None;
    let (mut references, mut returns, mut rules, mut merges, mut measures) =
        (Some(vec![]), None, Some(vec![]), Some(vec![]), Some(vec![]));
    let mut workbook = None;
    let (mut messages, mut titles, mut limits, mut policy) =
        (Some(Default::default()), Some(Default::default()), Some(Default::default()), Some(Default::default()));
    let mut feedback = Some(None);
    const SECTIONS: [&str; 12] = [
        "pipeline",
        "registry",
        "references",
        "returns",
        "rules",
        "merges",
        "measures",
        "workbook",
        "messages",
        "limits",
        "policy",
        "feedback",
    ];
    let mut seen = HashSet::new();
    for (key, value) in root {
        seen.insert(key.get_ref().to_string());
        match key.get_ref().as_ref() {
            "pipeline" => pipeline = one(value, &mut problems),
            "registry" => registry = one(value, &mut problems),
            "references" => references = many(value, &mut problems),
            "returns" => returns = many(value, &mut problems),
            "rules" => rules = many(value, &mut problems),
            "merges" => merges = many(value, &mut problems),
            "measures" => measures = many(value, &mut problems),
            "workbook" => workbook = one(value, &mut problems),
            "messages" => messages = one(value, &mut problems),
            "titles" => titles = one(value, &mut problems),
            "limits" => limits = one(value, &mut problems),
            "policy" => policy = one(value, &mut problems),
            "feedback" => feedback = one(value, &mut problems).map(Some),
            other => problems.push((
                format!("unknown field `{other}`, expected one of {}", SECTIONS.map(|s| format!("`{s}`")).join(", ")),
                Some(key.span()),
            )),
        }
    }
    for section in ["pipeline", "registry", "returns", "workbook"] {
        if !seen.contains(section) {
            problems.push((format!("missing field `{section}`"), None));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let spec = (|| {
        Some(DefinitionSpec {
            pipeline: pipeline?,
            registry: registry?,
            references: references?,
            returns: returns?,
            rules: rules?,
            merges: merges?,
            measures: measures?,
            workbook: workbook?,
            messages: messages?,
            titles: titles?,
            limits: limits?,
            policy: policy?,
            feedback: feedback?,
        })
    })();
    // Every section read or reported above: this is never an error.
    spec.ok_or_else(|| vec![("the definition could not be read".into(), None)])
}

/// An empty frame with the columns a table's rows carry (`_file`, `_unit`, `_period`…, then
/// each kept field in its type): what expressions over the rows are tried on.
fn empty_rows(table: &Table) -> pl::DataFrame {
    let text = |name: &str| pl::Column::new(name.into(), Vec::<String>::new());
    let mut columns = vec![
        text("_file"),
        text("_sheet"),
        pl::Column::new("_row".into(), Vec::<u32>::new()),
        text("_unit"),
        text("_period"),
    ];
    for column in table.columns.iter().filter(|c| !c.ignore) {
        let name = column.field.as_str();
        columns.push(match column.kind {
            ValueKind::Count | ValueKind::Integer => pl::Column::new(name.into(), Vec::<i64>::new()),
            ValueKind::Number => pl::Column::new(name.into(), Vec::<f64>::new()),
            _ => text(name),
        });
    }
    pl::DataFrame::new_infer_height(columns).unwrap_or_default()
}

/// A row rule's check as validate applies it.
fn row_check(rows: LazyFrame, check: Expr) -> LazyFrame {
    rows.select([check.cast(DataType::Boolean)])
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
/// The sheet's columns with each `months:<measure>` column made twelve, `month:<measure>:1`
/// to `:12`, `{month}` in their label the month's number.
fn by_month(columns: &[SheetColumnSpec]) -> Vec<SheetColumnSpec> {
    let mut out = Vec::new();
    for column in columns {
        match column.value.get_ref().strip_prefix("months:") {
            Some(measure) => out.extend((1..=12).map(|m| SheetColumnSpec {
                label: column.label.replace("{month}", &m.to_string()),
                value: Spanned::new(column.value.span(), format!("month:{measure}:{m}")),
                format: column.format,
                width: column.width,
            })),
            None => out.push(SheetColumnSpec {
                label: column.label.clone(),
                value: column.value.clone(),
                format: column.format,
                width: column.width,
            }),
        }
    }
    out
}

/// The columns of the figures besides the measures' own: a measure may not take their
/// names, nor contain `__`, which names the columns about a measure (`<id>__status`).
const FIGURES_COLUMNS: [&str; 7] = ["pipeline", "period", "code", "name", "kind", "parent", "order"];

#[derive(Default)]
struct Names {
    levels: Vec<String>,
    tables: HashMap<String, TableId>,
    references: HashMap<String, ReferenceId>,
    measures: HashMap<String, MeasureId>,
    /// The sums and expressions defined so far: what an expression may use.
    additive: Vec<String>,
    /// Every measure's id, for telling a measure defined below from an unknown one.
    declared: HashSet<String>,
    /// The sums over a month: what a month-by-month column or a trend can show.
    month_sums: HashSet<String>,
}

struct Checker<'t> {
    problems: Problems,
    /// The definition's file and text, for the places that run-time messages name.
    path: &'t Path,
    text: &'t str,
}

impl Checker<'_> {
    fn fail<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.problems.push((message.into(), Some(at.span())));
    }

    fn resolve(mut self, mut spec: DefinitionSpec) -> Result<Plan, Problems> {
        let mut names = Names { levels: spec.registry.levels.clone(), ..Names::default() };
        let term = self.term(&spec.pipeline.term);
        let succession = self.optional(spec.registry.succession.take().as_ref(), |c, s| c.succession(s));
        let mut references = Vec::new();
        for (i, reference) in spec.references.into_iter().enumerate() {
            names.references.insert(reference.id.clone(), ReferenceId(i));
            references.push(self.reference(reference, &names));
        }
        let (returns, tables, table_returns) = self.returns(spec.returns, &mut names);
        self.unique_ids("rule", spec.rules.iter().map(|r| &r.id));
        self.unique_ids("merge", spec.merges.iter().map(|m| &m.id));
        let rules: Vec<_> = spec.rules.into_iter().map(|r| self.rule(r, &names, &tables)).collect();
        let merges: Vec<_> = spec.merges.into_iter().map(|m| self.merge(m, &names, &tables)).collect();
        let measures = self.measures(spec.measures, spec.pipeline.period, &mut names, &tables, &references);
        self.sheet_names(&spec.workbook.sheets);
        let sheets: Vec<_> =
            std::mem::take(&mut spec.workbook.sheets).into_iter().map(|s| self.sheet(s, &names, &tables)).collect();
        let feedback = match spec.feedback.take() {
            None => Some(None),
            Some(f) => {
                let level = self.level(&names, &f.level);
                // Finding codes are the model's: `tonghop check` names a key that is
                // neither one nor a rule's or merge's id (`model::unknown_keys`).
                let fixes = f.fixes.into_iter().map(|(k, v)| (k.into_inner(), v)).collect();
                self.sheet_names(&f.sheets);
                let sheets: Vec<Option<Sheet>> = f.sheets.into_iter().map(|s| self.sheet(s, &names, &tables)).collect();
                let sheets: Option<Vec<Sheet>> = sheets.into_iter().collect();
                let recipients = f.recipients;
                level
                    .zip(sheets)
                    .map(|(level, sheets)| Some(Feedback { file: f.file, level, recipients, fixes, sheets }))
            }
        };

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
                    deadline: spec.pipeline.deadline,
                },
                registry: RegistryFile {
                    file: spec.registry.file,
                    levels: spec.registry.levels,
                    succession: succession?,
                },
                references,
                returns,
                tables: tables.into_iter().collect::<Option<_>>()?,
                table_returns,
                rules: rules.into_iter().collect::<Option<_>>()?,
                reconciliations: merges.into_iter().collect::<Option<_>>()?,
                measures: measures.into_iter().collect::<Option<_>>()?,
                workbook: Workbook {
                    file: w.file,
                    motto: w.motto,
                    date_line: w.date_line,
                    period_line: w.period_line,
                    severities: w.severities,
                    marks: w.marks,
                    print: w.print,
                    sheets: sheets.into_iter().collect::<Option<_>>()?,
                },
                labels,
                messages: spec.messages,
                titles: spec.titles,
                limits: spec.limits,
                policy: spec.policy,
                feedback: feedback?,
            })
        })();
        plan.ok_or_else(|| vec![("the definition could not be resolved".to_string(), None)])
    }

    /// Names Excel accepts for sheets (1 to 31 characters, none of `[]:*?/\`, no quote at
    /// either end), each once whatever its case: a workbook that could not be written is
    /// found here, not after a run.
    fn sheet_names(&mut self, sheets: &[SheetSpec]) {
        let mut seen = HashSet::new();
        for name in sheets.iter().map(|s| &s.name) {
            let text = name.get_ref();
            let length = text.chars().count();
            if length == 0 || length > 31 {
                self.fail(name, format!("sheet name `{text}` has {length} characters; Excel takes 1 to 31"));
            } else if let Some(c) = text.chars().find(|c| "[]:*?/\\".contains(*c)) {
                self.fail(name, format!("sheet name `{text}` holds `{c}`, which Excel does not take in a sheet name"));
            } else if text.starts_with('\'') || text.ends_with('\'') {
                self.fail(name, format!("sheet name `{text}` begins or ends with a quote, which Excel does not take"));
            } else if text.eq_ignore_ascii_case("history") {
                self.fail(name, "`History` is a name Excel keeps for itself");
            }
            if !seen.insert(text.to_lowercase()) {
                self.fail(name, format!("sheet `{text}` is defined twice"));
            }
        }
    }

    /// Each id of a kind once.
    fn unique_ids<'s>(&mut self, kind: &str, ids: impl Iterator<Item = &'s Spanned<String>>) {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id.get_ref()) {
                self.fail(id, format!("{kind} `{}` is defined twice", id.get_ref()));
            }
        }
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
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                self.fail(&term.end, format!("the term ends ({end}) before it starts ({start})"));
                return None;
            }
        }
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
            optional: spec.optional,
        })
    }

    fn returns(&mut self, specs: Vec<ReturnSpec>, names: &mut Names) -> (Vec<Return>, Vec<Option<Table>>, Vec<usize>) {
        let mut ids = HashSet::new();
        let mut returns = Vec::new();
        let mut tables = Vec::new();
        let mut table_returns = Vec::new();
        for (r, spec) in specs.into_iter().enumerate() {
            let ret = spec.id.get_ref().clone();
            if !ids.insert(ret.clone()) {
                self.fail(&spec.id, format!("return `{ret}` is defined twice"));
            }
            for kind in &spec.senders {
                if !names.levels.contains(kind.get_ref()) {
                    self.fail(
                        kind,
                        format!("return `{ret}` is sent by `{}`, which is not a registry level", kind.get_ref()),
                    );
                }
            }
            let mut own = Vec::new();
            for table in spec.tables {
                let name = format!("{ret}.{}", table.id);
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
                id: ret,
                title: spec.title,
                senders: spec.senders.into_iter().map(Spanned::into_inner).collect(),
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

    /// Whether `sql` can be evaluated over `frame` as `apply` uses it: every column it
    /// names is there, and the types agree (tried on no rows). A problem at `at` if not.
    fn planned(
        &mut self,
        at: &Spanned<String>,
        sql: &Sql,
        frame: &pl::DataFrame,
        apply: impl FnOnce(LazyFrame, Expr) -> LazyFrame,
    ) -> Option<()> {
        let known: Vec<&str> = frame.get_column_names().into_iter().map(|n| n.as_str()).collect();
        let unknown: Vec<String> = sql
            .expr
            .clone()
            .meta()
            .root_names()
            .into_iter()
            .map(|n| n.to_string())
            .filter(|n| !known.contains(&n.as_str()))
            .collect();
        if let Some(name) = unknown.first() {
            let fields: Vec<&str> =
                known.iter().copied().filter(|n| !n.starts_with('_') || *n == "_unit" || *n == "_period").collect();
            self.fail(at, format!("`{}` uses `{name}`, which is not one of {}", sql.text, fields.join(", ")));
            return None;
        }
        if let Err(e) = apply(frame.clone().lazy(), sql.expr.clone()).collect() {
            let reason = e.to_string();
            let reason = reason.lines().next().unwrap_or_default();
            self.fail(at, format!("`{}` cannot be evaluated: {reason}", sql.text));
            return None;
        }
        Some(())
    }

    fn sql(&mut self, at: &Spanned<String>, text: &str) -> Option<Sql> {
        match polars::sql::sql_expr(text) {
            Ok(expr) => {
                let place = locate(self.text, String::new(), Some(at.span()));
                let at = format!("{}:{}:{}", self.path.display(), place.line, place.column);
                Some(Sql { text: text.to_string(), expr, at })
            }
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
        let rows = empty_rows(table);
        let kind = match spec.scope {
            RuleScope::Return => {
                let check = self.sql(&spec.check, spec.check.get_ref())?;
                let per_return = |df: LazyFrame, e: Expr| df.group_by([col("_file")]).agg([e.cast(DataType::Boolean)]);
                self.planned(&spec.check, &check, &rows, per_return)?;
                RuleKind::Return(check)
            }
            RuleScope::Row if spec.for_each.is_empty() => {
                let check = self.sql(&spec.check, spec.check.get_ref());
                let check = check.and_then(|c| self.planned(&spec.check, &c, &rows, row_check).map(|()| c));
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
                    let check = self.sql(&spec.check, &text);
                    if let Some(check) = check.filter(|c| self.planned(&spec.check, c, &rows, row_check).is_some()) {
                        let cell = spec.cell.as_ref().unwrap_or(field).get_ref().clone();
                        checks.push(RowCheck { check, cell });
                    }
                }
                RuleKind::Row(checks)
            }
        };
        resolved.then_some(Rule {
            id: spec.id.into_inner(),
            table: id,
            severity: spec.severity,
            title: spec.title,
            message: spec.message,
            kind,
        })
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
        Some(Reconciliation {
            id: spec.id.into_inner(),
            title: spec.title,
            severity: spec.severity,
            left: left?,
            right: right?,
            message: spec.message,
        })
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
        names.declared = specs.iter().map(|s| s.id.get_ref().clone()).collect();
        for spec in specs {
            let id = spec.id.get_ref().clone();
            let twice = names.measures.contains_key(&id);
            if twice {
                self.fail(&spec.id, format!("measure `{id}` is defined twice"));
            }
            if FIGURES_COLUMNS.contains(&id.as_str()) || id.contains("__") {
                self.fail(
                    &spec.id,
                    format!(
                        "measure `{id}`: the figures already have a column of that name ({}, and `<measure>__…`)",
                        FIGURES_COLUMNS.join(", ")
                    ),
                );
            }
            let kind = match (&spec.year_ago, &spec.shortfall) {
                (Some(of), None) => self.year_ago(&spec, of, names, &measures, references),
                (None, Some(parts)) => self.shortfall(&spec, parts, names),
                (Some(_), Some(_)) => {
                    self.fail(&spec.id, format!("measure `{id}` has both `year_ago` and `shortfall`"));
                    None
                }
                (None, None) => self.measure_kind(&spec, period, names, tables, references),
            };
            if !twice && matches!(kind, Some(MeasureKind::Sum(_) | MeasureKind::Expr { .. })) {
                names.additive.push(id.clone());
            }
            if matches!(&kind, Some(MeasureKind::Sum(sum)) if sum.window == Window::Month) {
                names.month_sums.insert(id.clone());
            }
            // A measure defined twice is the first one to what follows: one error, not more.
            if !twice {
                names.measures.insert(id.clone(), MeasureId(measures.len()));
            }
            measures.push(kind.map(|kind| Measure { id, kind }));
        }
        measures
    }

    /// Whether every name an expression measure uses is a sum or an expression defined
    /// above it (what `aggregate` has per unit when it computes the expression).
    fn expression_inputs(&mut self, at: &Spanned<String>, sql: &Sql, names: &Names) -> bool {
        for name in sql.expr.clone().meta().root_names() {
            let name = name.as_str();
            if names.additive.iter().any(|m| m == name) {
                continue;
            }
            let why = if names.measures.contains_key(name) {
                "a reference or a ratio: an expression can use only sums and other expressions"
            } else if names.declared.contains(name) {
                "defined below it: an expression can use only the measures above it"
            } else {
                "not a measure"
            };
            self.fail(at, format!("`{}` uses `{name}`, which is {why}", sql.text));
            return false;
        }
        true
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
                let filter = self.optional(spec.filter.as_ref(), |c, f| {
                    let sql = c.sql(f, f.get_ref())?;
                    match table {
                        Some(t) => c.planned(f, &sql, &empty_rows(t), |df, e| df.filter(e)).map(|()| sql),
                        None => Some(sql),
                    }
                });
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
            (None, None, Some(at), None, None, Some(level)) => {
                let (expr, level) = (self.sql(at, at.get_ref()), self.level(names, level));
                let expr = expr.filter(|e| self.expression_inputs(at, e, names));
                // The measures summed or computed above it, per unit.
                let mut columns = vec![pl::Column::new("_kind".into(), Vec::<String>::new())];
                columns.extend(names.additive.iter().map(|m| pl::Column::new(m.as_str().into(), Vec::<f64>::new())));
                let frame = pl::DataFrame::new_infer_height(columns).unwrap_or_default();
                let expr = expr.and_then(|e| self.planned(at, &e, &frame, |df, e| df.select([e])).map(|()| e));
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

    /// A measure `year_ago` another: a sum over a month, a quarter or the year, and where
    /// last year's published figures are (`reference.field{month}`, every month present).
    fn year_ago(
        &mut self,
        spec: &MeasureSpec,
        of: &Spanned<String>,
        names: &Names,
        earlier: &[Option<Measure>],
        references: &[Option<Reference>],
    ) -> Option<MeasureKind> {
        let id = spec.id.get_ref();
        let others = [spec.source.is_some(), spec.reference.is_some(), spec.expr.is_some(), spec.ratio.is_some()];
        if others.into_iter().any(|o| o) || spec.window.is_some() {
            self.fail(&spec.id, format!("measure `{id}` has `year_ago`: it takes only `published` besides"));
            return None;
        }
        let found = names.measures.get(of.get_ref()).copied();
        let sum = found.and_then(|m| earlier.get(m.0)?.as_ref()).and_then(|m| match &m.kind {
            MeasureKind::Sum(sum) if sum.window != Window::Term => Some(sum),
            _ => None,
        });
        if sum.is_none() {
            self.fail(
                of,
                format!(
                    "`year_ago` needs a sum over a month, a quarter or the year defined above it, not `{}`",
                    of.get_ref()
                ),
            );
        }
        let published = self.optional(spec.published.as_ref(), |c, at| {
            if !at.get_ref().contains("{month}") {
                c.fail(at, "`published` names last year's monthly fields with `{month}` (`last_year.m{month}`)");
                return None;
            }
            let months = (1..=12).map(|m| {
                let field = Spanned::new(at.span(), at.get_ref().replace("{month}", &m.to_string()));
                c.reference_field(names, references, &field)
            });
            months.collect::<Option<Vec<_>>>()
        });
        sum?;
        let year = sum.is_some_and(|s| s.window == Window::Year);
        if spec.full_year && !year {
            self.fail(&spec.id, format!("measure `{id}`: `full_year` needs `year_ago` of a sum over the year"));
            return None;
        }
        Some(MeasureKind::YearAgo(YearAgo { of: found?, full_year: spec.full_year, published: published? }))
    }

    /// A measure `shortfall = [plan, done]`: two measures above it.
    fn shortfall(&mut self, spec: &MeasureSpec, parts: &[Spanned<String>], names: &Names) -> Option<MeasureKind> {
        let id = spec.id.get_ref();
        let others = [spec.source.is_some(), spec.reference.is_some(), spec.expr.is_some(), spec.ratio.is_some()];
        if others.into_iter().any(|o| o) || parts.len() != 2 {
            self.fail(
                &spec.id,
                format!("measure `{id}`: `shortfall` is two measures, `[plan, done]`, and nothing else"),
            );
            return None;
        }
        let mut measure = |part: &Spanned<String>| {
            let found = names.measures.get(part.get_ref()).copied();
            if found.is_none() {
                self.fail(part, format!("unknown measure `{}` (defined above it?)", part.get_ref()));
            }
            found
        };
        let (plan, done) = (measure(&parts[0]), measure(&parts[1]));
        Some(MeasureKind::Shortfall { plan: plan?, done: done? })
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

    fn sheet(&mut self, mut spec: SheetSpec, names: &Names, tables: &[Option<Table>]) -> Option<Sheet> {
        if spec.kind == SheetKind::Units {
            spec.columns = by_month(&spec.columns);
        }
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
        let print = self.sheet_print(&spec);
        Some(Sheet {
            name: spec.name.into_inner(),
            title: spec.title,
            labels: spec.labels,
            layout,
            print: print?,
            signed: spec.signed,
        })
    }

    /// How a sheet prints: its repeated columns and blocks resolved to column ranges, each
    /// block (with the repeated columns) as wide as an A4 page at most.
    fn sheet_print(&mut self, spec: &SheetSpec) -> Option<SheetPrint> {
        let default = Spanned::new(spec.name.span(), SheetPrintSpec::default());
        let at = spec.print.as_ref().unwrap_or(&default);
        let print = at.get_ref();
        let orientation = print.orientation;
        if spec.kind == SheetKind::Info {
            if !print.repeat.is_empty() || !print.blocks.is_empty() {
                self.fail(at, "the info sheet lays out its own columns: it takes only `orientation`");
                return None;
            }
            return Some(SheetPrint { orientation, repeat: 0, blocks: vec![] });
        }
        // Consecutive columns of one group label, as the headers merge them.
        let mut groups: Vec<(String, std::ops::Range<usize>)> = Vec::new();
        for (k, column) in spec.columns.iter().enumerate() {
            let group = column.label.parts().first().copied().unwrap_or_default().to_string();
            match groups.last_mut() {
                Some((last, range)) if *last == group && column.label.parts().len() > 1 => range.end = k + 1,
                _ => groups.push((group, k..k + 1)),
            }
        }
        // The columns of the groups `names` name, which must be side by side.
        let span = |c: &mut Self, names: &[Spanned<String>]| -> Option<std::ops::Range<usize>> {
            let mut found: Vec<std::ops::Range<usize>> = Vec::new();
            for name in names {
                match groups.iter().find(|(g, _)| text::fold(g) == text::fold(name.get_ref())) {
                    Some((_, range)) => found.push(range.clone()),
                    None => {
                        let known: Vec<&str> = groups.iter().map(|(g, _)| g.as_str()).collect();
                        c.fail(
                            name,
                            format!("no column or group `{}`; the sheet has {}", name.get_ref(), known.join(", ")),
                        );
                        return None;
                    }
                }
            }
            found.sort_by_key(|r| r.start);
            if !found.windows(2).all(|w| w[0].end == w[1].start) {
                c.fail(&names[0], "a printed block is columns side by side: its groups must follow each other");
                return None;
            }
            Some(found.first()?.start..found.last()?.end)
        };
        let mut ok = true;
        let repeat = match print.repeat.first() {
            None => 0..0,
            Some(first) => match span(self, &print.repeat) {
                Some(range) if range.start == 0 => range,
                Some(_) => {
                    self.fail(first, "the repeated columns must be the sheet's first");
                    return None;
                }
                None => return None,
            },
        };
        let mut blocks = Vec::new();
        for names in print.blocks.iter().filter(|b| !b.is_empty()) {
            let Some(block) = span(self, names) else {
                ok = false;
                continue;
            };
            if block.start != blocks.last().map_or(repeat.end, |b: &std::ops::Range<usize>| b.end) {
                self.fail(
                    &names[0],
                    "each printed block starts where the one before it (or the repeated columns) ends",
                );
                ok = false;
            }
            blocks.push(block);
        }
        if print.blocks.is_empty() && repeat.end < spec.columns.len() {
            blocks.push(repeat.end..spec.columns.len());
        }
        if !ok {
            return None;
        }
        let page = Page::a4(orientation);
        let points = |range: &std::ops::Range<usize>| -> f64 {
            spec.columns[range.clone()].iter().map(|c| column_points(c.width.unwrap_or(c.format.default_width()))).sum()
        };
        for (i, block) in blocks.iter().enumerate() {
            let width = points(&repeat) + points(block);
            if width > page.width {
                let first = &spec.columns[block.start].label;
                let last = &spec.columns[block.end - 1].label;
                let place = print.blocks.get(i).and_then(|b| b.first()).unwrap_or(&spec.name);
                self.fail(
                    place,
                    format!(
                        "printed on A4 {}, the columns from “{}” to “{}”{} take {width:.0} pt, and a page \
                         holds {:.0} pt: narrow them, or split them into `blocks`",
                        <&str>::from(orientation),
                        first.display(),
                        last.display(),
                        if repeat.is_empty() { "" } else { " with the repeated ones" },
                        page.width
                    ),
                );
                ok = false;
            }
        }
        ok.then_some(SheetPrint { orientation, repeat: repeat.end, blocks })
    }

    /// `[registry.succession]`, its month parsed.
    fn succession(&mut self, spec: &SuccessionSpec) -> Option<Succession> {
        let Ok(from) = spec.from.get_ref().parse() else {
            self.fail(&spec.from, "expected the reorganisation's first month, `YYYY-MM`");
            return None;
        };
        Some(Succession {
            file: spec.file.clone(),
            from,
            unit: spec.unit.clone(),
            predecessor: spec.predecessor.clone(),
            how: spec.how.clone(),
            whole: spec.whole.clone(),
        })
    }

    fn units_layout(&mut self, spec: &SheetSpec, names: &Names) -> Option<UnitsLayout> {
        self.needs(spec, "level", spec.level.as_ref());
        let level = spec.level.as_ref().and_then(|l| self.level(names, l));
        let group_by = self.optional(spec.group_by.as_ref(), |c, g| c.level(names, g));
        let total = self.optional(spec.total.as_ref(), |c, t| c.level(names, t));
        let columns = self.columns(&spec.columns, |c, value| c.unit_value(names, value));
        let behind = self.optional(spec.behind.as_ref(), |c, p| {
            let mut measure = |at: &Spanned<String>| {
                let found = names.measures.get(at.get_ref()).copied();
                if found.is_none() {
                    c.fail(at, format!("unknown measure `{}`", at.get_ref()));
                }
                found
            };
            let (done, plan) = (measure(&p.done), measure(&p.plan));
            let schedule = match &p.schedule {
                Some(s) => {
                    let shares = s.get_ref();
                    let rising = shares.windows(2).all(|w| w[0] <= w[1]);
                    if shares.len() != 12 || !rising || shares.iter().any(|v| !(0.0..=1.0).contains(v)) {
                        c.fail(s, "`schedule` is the share of the plan due by each month's end: 12 rising fractions");
                        return None;
                    }
                    std::array::from_fn(|k| shares[k])
                }
                None => std::array::from_fn(|k| (k + 1) as f64 / 12.0),
            };
            Some(Box::new(Pace { done: done?, plan: plan?, schedule }))
        });
        for column in &spec.columns {
            if column.value.get_ref().starts_with("pace:") && spec.behind.is_none() {
                self.fail(&column.value, "`pace:` columns are for a sheet with `behind`");
            }
        }
        let trend = self.optional(spec.trend.as_ref(), |c, t| {
            let measure = c.month_sum(names, &t.measure);
            let plan = names.measures.get(t.plan.get_ref()).copied();
            if plan.is_none() {
                c.fail(&t.plan, format!("unknown measure `{}`", t.plan.get_ref()));
            }
            Some(Box::new(Trend { title: t.title.clone(), measure: measure?, plan: plan?, labels: t.labels.clone() }))
        });
        let chart = self.optional(spec.chart.as_ref(), |c, chart| {
            let value = c.unit_value(names, &chart.value)?;
            let column = columns.iter().position(|col| col.as_ref().is_some_and(|col| col.value == value));
            if column.is_none() {
                let sheet = spec.name.get_ref();
                c.fail(&chart.value, format!("`{}` is not a column of sheet `{sheet}`", chart.value.get_ref()));
            }
            let legend = chart.legend.as_ref().map_or(vec![], |l| l.get_ref().clone());
            if let Some(at) = &chart.legend {
                if legend.len() != 3 || spec.attainment.is_none() {
                    c.fail(
                        at,
                        "a chart's `legend` names the three bands of the sheet's `attainment`: low, middle, high",
                    );
                }
            }
            Some(Chart { title: chart.title.clone(), column: column?, legend })
        });
        Some(UnitsLayout {
            level: level?,
            group_by: group_by?,
            subtotal_label: spec.labels.get("subtotal").cloned().unwrap_or_else(|| "{name}".into()),
            total: total?,
            total_label: spec.total_label.clone().unwrap_or_else(|| "{name}".into()),
            attainment: spec.attainment.clone(),
            chart: chart?,
            trend: trend?,
            behind: behind?,
            columns: columns.into_iter().collect::<Option<_>>()?,
        })
    }

    /// A sum over a month, named at `at`.
    fn month_sum(&mut self, names: &Names, at: &Spanned<String>) -> Option<MeasureId> {
        let found = names.measures.get(at.get_ref()).copied().filter(|_| names.month_sums.contains(at.get_ref()));
        if found.is_none() {
            self.fail(at, format!("`{}` is not a sum over a month", at.get_ref()));
        }
        found
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
            Some(("pace", "due")) => Some(UnitValue::Pace(PaceValue::Due)),
            Some(("pace", "short")) => Some(UnitValue::Pace(PaceValue::Short)),
            Some(("month", rest)) => rest.rsplit_once(':').and_then(|(name, month)| {
                let month: u32 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
                Some(UnitValue::Month(measure(name).filter(|_| names.month_sums.contains(name))?, month))
            }),
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
 --> p.toml:123:9
    |
123 | level = "communes"
    |         ^
error: `measure:pct_plna` is not a value this sheet can show
 --> p.toml:134:36
    |
134 |   { label = ["Plan", "%"], value = "measure:pct_plna", format = "percent" },
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
