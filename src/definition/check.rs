//! Loading a definition and checking that its parts refer to each other correctly.
//!
//! Syntax and shape errors come from `toml`/serde with a span; the cross-references
//! (a rule naming a field its table lacks, a measure naming an unknown source, an SQL
//! expression that does not parse) are checked here, all of them, each with its span.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{table_names, Definition, MeasureKind, RuleScope, SheetKind, TableSpec, ValueKind, Window};
use crate::period::{Month, PeriodKind};

/// One thing wrong in a definition, at a place in its text.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub source_line: String,
}

/// A definition that cannot be used: every problem found, with its place.
#[derive(Debug, thiserror::Error)]
pub struct DefinitionError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
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

/// Read and check a definition file.
pub fn load(path: &Path) -> Result<Definition, DefinitionError> {
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

/// Parse and check definition text; `path` only labels the messages.
pub fn parse(path: &Path, text: &str) -> Result<Definition, DefinitionError> {
    let error = |problems: Vec<(String, Option<Range<usize>>)>| DefinitionError {
        path: path.to_path_buf(),
        problems: problems.into_iter().map(|(message, span)| locate(text, message, span)).collect(),
    };
    let def: Definition = toml::from_str(text).map_err(|e| error(vec![(e.message().to_string(), e.span())]))?;
    let problems = Checker::default().run(&def);
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(error(problems))
    }
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

#[derive(Default)]
struct Checker {
    problems: Vec<(String, Option<Range<usize>>)>,
}

impl Checker {
    fn fail<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.problems.push((message.into(), Some(at.span())));
    }

    fn fail_nowhere(&mut self, message: impl Into<String>) {
        self.problems.push((message.into(), None));
    }

    fn run(mut self, def: &Definition) -> Vec<(String, Option<Range<usize>>)> {
        self.term(def);
        self.returns(def);
        self.rules(def);
        self.merges(def);
        self.measures(def);
        self.sheets(def);
        self.problems.sort_by_key(|(_, span)| span.as_ref().map(|s| s.start));
        self.problems
    }

    fn term(&mut self, def: &Definition) {
        for at in [&def.pipeline.term.start, &def.pipeline.term.end] {
            if at.get_ref().parse::<Month>().is_err() {
                self.fail(at, format!("`{}` is not a month, expected YYYY-MM", at.get_ref()));
            }
        }
    }

    fn returns(&mut self, def: &Definition) {
        let mut ids = HashSet::new();
        for ret in &def.returns {
            if !ids.insert(&ret.id) {
                self.fail_nowhere(format!("return `{}` is defined twice", ret.id));
            }
            for kind in &ret.senders {
                if !def.registry.levels.contains(kind) {
                    self.fail_nowhere(format!(
                        "return `{}` is sent by `{kind}`, which is not a registry level",
                        ret.id
                    ));
                }
            }
            for table in &ret.tables {
                self.table(table);
                for column in &table.columns {
                    if let Some(unit_of) = &column.unit_of {
                        if !def.registry.levels.contains(unit_of.kind.get_ref()) {
                            self.fail(&unit_of.kind, format!("`{}` is not a registry level", unit_of.kind.get_ref()));
                        }
                    }
                }
            }
        }
        for reference in &def.references {
            self.table(&reference.table);
            self.field_of(&reference.table, &reference.key);
        }
    }

    fn table(&mut self, table: &TableSpec) {
        let mut fields = HashSet::new();
        for column in &table.columns {
            if !fields.insert(column.field.get_ref()) {
                self.fail(&column.field, format!("field `{}` is defined twice", column.field.get_ref()));
            }
            if column.field.get_ref().starts_with('_') {
                self.fail(&column.field, "field ids starting with `_` are reserved for the engine");
            }
            match (column.kind, column.values.is_empty()) {
                (ValueKind::Category, true) => self.fail(&column.field, "a `category` column needs its `values`"),
                (kind, false) if kind != ValueKind::Category => {
                    self.fail(&column.field, "only `category` columns take `values`")
                }
                _ => {}
            }
        }
        if let Some(total) = &table.total_row {
            self.field_of(table, &total.column);
        }
        for field in &table.unique {
            self.field_of(table, field);
        }
    }

    fn field_of(&mut self, table: &TableSpec, field: &Spanned<String>) -> Option<ValueKind> {
        let name = field.get_ref();
        if name == "_unit" || name == "_period" {
            return Some(ValueKind::Text);
        }
        match table.column(name) {
            Some(c) => Some(c.kind),
            None => {
                let known: Vec<_> = table.columns.iter().map(|c| c.field.get_ref().as_str()).collect();
                self.fail(field, format!("unknown field `{name}`, expected one of {}", known.join(", ")));
                None
            }
        }
    }

    fn table_ref<'d>(&mut self, def: &'d Definition, at: &Spanned<String>) -> Option<&'d TableSpec> {
        match def.table(at.get_ref()) {
            Some((_, t)) => Some(t),
            None => {
                self.fail(
                    at,
                    format!("unknown table `{}`, expected one of {}", at.get_ref(), table_names(def).join(", ")),
                );
                None
            }
        }
    }

    fn sql(&mut self, at: &Spanned<String>, text: &str) {
        if let Err(e) = polars::sql::sql_expr(text) {
            self.fail(at, format!("`{text}` is not a valid SQL expression: {e}"));
        }
    }

    fn rules(&mut self, def: &Definition) {
        for rule in &def.rules {
            let Some(table) = self.table_ref(def, &rule.table) else { continue };
            if rule.for_each.is_empty() {
                self.sql(&rule.check, rule.check.get_ref());
                if rule.cell.is_none() && rule.scope == RuleScope::Row {
                    self.fail(&rule.check, format!("rule `{}` needs `cell` or `for_each` to point at a cell", rule.id));
                }
            }
            for field in &rule.for_each {
                self.field_of(table, field);
                self.sql(&rule.check, &rule.check.get_ref().replace("{field}", field.get_ref()));
            }
            if let Some(cell) = &rule.cell {
                self.field_of(table, cell);
            }
        }
    }

    fn merges(&mut self, def: &Definition) {
        for merge in &def.merges {
            for side in [&merge.left, &merge.right] {
                if let Some(table) = self.table_ref(def, &side.table) {
                    self.field_of(table, &side.unit);
                    self.field_of(table, &side.field);
                }
            }
        }
    }

    fn reference_field(&mut self, def: &Definition, at: &Spanned<String>) {
        let Some((reference, field)) = at.get_ref().split_once('.') else {
            self.fail(at, "expected `reference.field`");
            return;
        };
        match def.reference(reference) {
            Some(r) => {
                let spanned = Spanned::new(at.span(), field.to_string());
                self.field_of(&r.table, &spanned);
            }
            None => self.fail(at, format!("unknown reference `{reference}`")),
        }
    }

    fn measures(&mut self, def: &Definition) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for measure in &def.measures {
            if !seen.insert(&measure.id) {
                self.fail_nowhere(format!("measure `{}` is defined twice", measure.id));
            }
            let Some(kind) = measure.kind() else {
                self.fail_nowhere(format!(
                    "measure `{}` needs exactly one of `source` (with `window`), `reference`, \
                     `expr` (with `level`) or `ratio` (two measures)",
                    measure.id
                ));
                continue;
            };
            match kind {
                MeasureKind::Sum { window, .. } => {
                    let wrong = match (window, def.pipeline.period) {
                        (Window::Month, PeriodKind::Quarter) => Some("month"),
                        (Window::Quarter, PeriodKind::Month) => Some("quarter"),
                        _ => None,
                    };
                    if let Some(wrong) = wrong {
                        self.fail_nowhere(format!(
                            "measure `{}` sums over a {wrong}, but this pipeline's period is a {}",
                            measure.id,
                            if wrong == "month" { "quarter" } else { "month" }
                        ));
                    }
                    let source = measure.source.as_ref().expect("kind Sum has a source");
                    if let Some(table) = self.table_ref(def, source) {
                        if let Some(field) = &measure.field {
                            self.field_of(table, field);
                        }
                    }
                    if let Some(filter) = &measure.filter {
                        self.sql(filter, filter.get_ref());
                    }
                    if let Some(opening) = &measure.opening {
                        self.reference_field(def, opening);
                    }
                }
                MeasureKind::Reference(_) => {
                    let at = measure.reference.as_ref().expect("kind Reference has a reference");
                    self.reference_field(def, at);
                }
                MeasureKind::Expr { expr, level } => {
                    let at = measure.expr.as_ref().expect("kind Expr has an expr");
                    self.sql(at, expr);
                    if !def.registry.levels.iter().any(|l| l == level) {
                        let at = measure.level.as_ref().expect("kind Expr has a level");
                        self.fail(at, format!("`{level}` is not a registry level"));
                    }
                }
                MeasureKind::Ratio { .. } => {
                    for part in measure.ratio.iter().flatten() {
                        if !seen.contains(part.get_ref().as_str()) {
                            self.fail(
                                part,
                                format!(
                                    "unknown measure `{}` (a ratio may only use measures defined above it)",
                                    part.get_ref()
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    fn level(&mut self, def: &Definition, at: &Option<Spanned<String>>) {
        if let Some(at) = at {
            if !def.registry.levels.contains(at.get_ref()) {
                self.fail(
                    at,
                    format!(
                        "`{}` is not a registry level, expected one of {}",
                        at.get_ref(),
                        def.registry.levels.join(", ")
                    ),
                );
            }
        }
    }

    fn sheets(&mut self, def: &Definition) {
        for sheet in &def.workbook.sheets {
            self.level(def, &sheet.level);
            self.level(def, &sheet.group_by);
            self.level(def, &sheet.total);
            let rows_table = match (sheet.kind, &sheet.table) {
                (SheetKind::Rows, Some(t)) => self.table_ref(def, t),
                (SheetKind::Rows, None) => {
                    self.fail_nowhere(format!("sheet `{}` of kind rows needs `table`", sheet.name));
                    None
                }
                _ => None,
            };
            if sheet.kind == SheetKind::Units && sheet.level.is_none() {
                self.fail_nowhere(format!("sheet `{}` of kind units needs `level`", sheet.name));
            }
            if sheet.kind == SheetKind::Completeness && sheet.group_by.is_none() {
                self.fail_nowhere(format!("sheet `{}` of kind completeness needs `group_by`", sheet.name));
            }
            for column in &sheet.columns {
                self.sheet_value(def, sheet.kind, rows_table, &column.value);
            }
            if let Some(chart) = &sheet.chart {
                self.sheet_value(def, sheet.kind, rows_table, &chart.value);
            }
        }
    }

    fn sheet_value(&mut self, def: &Definition, kind: SheetKind, table: Option<&TableSpec>, at: &Spanned<String>) {
        let value = at.get_ref();
        let (source, name) = value.split_once(':').unwrap_or(("", value));
        let known_measure = |m: &str| def.measure(m).is_some();
        let ok = match (kind, source) {
            (SheetKind::Units | SheetKind::Rows, "unit") => ["code", "name", "parent", "parent_name"].contains(&name),
            (SheetKind::Units, "measure") => known_measure(name),
            (SheetKind::Units, "fraction") => {
                name.split_once('/').is_some_and(|(a, b)| known_measure(a) && known_measure(b))
            }
            (SheetKind::Rows, "field") => {
                if let Some(table) = table {
                    self.field_of(table, &Spanned::new(at.span(), name.to_string()));
                }
                true
            }
            (SheetKind::Findings, "finding") => crate::finding::ATTRIBUTES.contains(&name),
            (SheetKind::Completeness, "completeness") => crate::report::COMPLETENESS_ATTRIBUTES.contains(&name),
            _ => false,
        };
        if !ok {
            self.fail(at, format!("`{value}` is not a value this sheet can show"));
        }
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
    fn location_counts_characters_not_bytes() {
        let p = locate("a = \"Đảng\"\nb = 1\n", "m".into(), Some(14..15));
        assert_eq!((p.line, p.column), (2, 1));
        let p = locate("x = \"ĐĐ\" y", "m".into(), Some(10..11));
        assert_eq!((p.line, p.column), (1, 9));
    }
}
