//! Stage 2, validate: which files and rows of a period can be trusted.
//!
//! A file is rejected when it is not a return, lacks a required column, comes from a unit
//! the registry does not know for the period (or of a kind that does not send this return),
//! or is for another period. A row is rejected when a cell could not be read or a rule of
//! severity `error` fails on it. Rules are SQL expressions from the definition, evaluated
//! by polars; a rule whose operands are missing (null) is not applied to that row.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use crate::definition::{Definition, RuleScope, RuleSpec, Severity, TableSpec};
use crate::finding::{code, Finding, FindingBuilder};
use crate::ingest::FileRecord;
use crate::period::Period;
use crate::registry::{Hierarchy, Unit};
use crate::store::Batch;

/// Keep the trusted part of a period's returns, and say why the rest was refused.
pub fn validate(def: &Definition, hierarchy: &Hierarchy, period: Period, ingested: Batch) -> anyhow::Result<Batch> {
    let Batch { mut files, tables, placements, mut findings, completeness } = ingested;
    for file in &mut files {
        if file.unit.is_empty() && !file.return_id.is_empty() {
            findings.extend(unit_by_name(def, hierarchy, file));
        }
        findings.extend(check_file(def, hierarchy, period, file));
    }
    // Findings made while reading name their file only; the file says whose it is.
    let unit_of: HashMap<String, String> = files.iter().map(|f| (f.file.clone(), f.unit.clone())).collect();
    for f in findings.iter_mut().filter(|f| f.unit.is_empty()) {
        f.unit = unit_of.get(&f.file).cloned().unwrap_or_default();
    }
    for rule in def.rules.iter().filter(|r| r.scope == RuleScope::Return) {
        if let Some(df) = tables.get(rule.table.get_ref()) {
            findings.extend(apply_return_rule(def, rule, df)?);
        }
    }
    let policy = &def.policy;
    let rejected_files: HashSet<String> = findings
        .iter()
        .filter(|f| f.row == 0 && !f.file.is_empty() && policy.reject_file.contains(&f.severity()))
        .map(|f| f.file.clone())
        .collect();
    let cells: Cells = placements
        .iter()
        .map(|p| ((p.file.as_str(), p.table.as_str(), p.field.as_str()), (p.sheet.as_str(), p.column.as_str())))
        .collect();

    let mut accepted = BTreeMap::new();
    let mut rows_rejected: HashMap<String, u32> = HashMap::new();
    for (name, mut df) in tables {
        // A unit recognised here by name was unknown when the rows were read.
        let units: Vec<String> =
            text_column(&df, "_file")?.iter().map(|f| unit_of.get(f).cloned().unwrap_or_default()).collect();
        df.with_column(Column::new("_unit".into(), units))?;
        let from_good_files: Vec<bool> =
            text_column(&df, "_file")?.iter().map(|f| !rejected_files.contains(f)).collect();
        let df = df.filter(&BooleanChunked::from_slice("keep".into(), &from_good_files))?;
        let (_, spec) = def.table(&name).ok_or_else(|| anyhow::anyhow!("unknown table {name}"))?;
        let rows = Rows::new(&name, &df, &cells)?;
        let mut failures = Vec::new();
        for rule in def.rules.iter().filter(|r| r.table.get_ref() == &name && r.scope == RuleScope::Row) {
            failures.extend(apply_rule(def, rule, &df, &rows)?);
        }
        failures.extend(duplicate_keys(def, spec, &df, &rows)?);
        failures.extend(units_named(def, hierarchy, spec, &df, &rows)?);
        let mut keep = vec![true; df.height()];
        for failure in failures {
            if policy.reject_row.contains(&failure.finding.severity()) && keep[failure.index] {
                keep[failure.index] = false;
                *rows_rejected.entry(failure.finding.file.clone()).or_default() += 1;
            }
            findings.push(failure.finding);
        }
        accepted.insert(name, df.filter(&BooleanChunked::from_slice("keep".into(), &keep))?);
    }

    for file in &mut files {
        let rejected_here = rows_rejected.get(&file.file).copied().unwrap_or(0);
        if file.return_id.is_empty() || rejected_files.contains(&file.file) {
            file.status = if file.return_id.is_empty() { "ignored" } else { "rejected" }.into();
            file.rows_rejected = file.rows_read;
            file.rows_accepted = 0;
        } else {
            file.status = "accepted".into();
            file.rows_rejected = file.rows_refused + rejected_here;
            file.rows_accepted = file.rows_read - file.rows_rejected;
        }
    }
    Ok(Batch { files, tables: accepted, placements, findings, completeness })
}

/// A return without a unit code: the unit whose committee its title block names, if
/// exactly one does. Sets `file.unit` then.
fn unit_by_name(def: &Definition, hierarchy: &Hierarchy, file: &mut FileRecord) -> Vec<Finding> {
    let Some(ret) = def.return_spec(&file.return_id) else { return vec![] };
    let candidates = hierarchy.named_in(&file.title_lines, &ret.senders);
    match candidates.as_slice() {
        [unit] => {
            file.unit = unit.code.clone();
            vec![Finding::builder(
                def,
                code::UNIT_BY_NAME,
                Severity::Info,
                "{file} gives no unit code; its title block names {value}",
            )
            .file(&file.file)
            .unit(&unit.code)
            .value(format!("{} {}", unit.code, unit.name))
            .build()]
        }
        [] => vec![],
        many => {
            let listed: Vec<String> = many.iter().map(|u| format!("{} {}", u.code, u.name)).collect();
            vec![Finding::builder(
                def,
                code::UNIT_AMBIGUOUS,
                Severity::Error,
                "{file} gives no unit code and its title block could be any of: {value}",
            )
            .file(&file.file)
            .at(&file.title_sheet, "")
            .value(listed.join("; "))
            .build()]
        }
    }
}

/// The title-block checks of one recognised file: a known unit of a sending kind, and the period.
fn check_file(def: &Definition, hierarchy: &Hierarchy, period: Period, file: &FileRecord) -> Vec<Finding> {
    let Some(ret) = def.return_spec(&file.return_id) else { return vec![] };
    let mut findings = Vec::new();
    let at_unit =
        |f: crate::finding::FindingBuilder| f.file(&file.file).unit(&file.unit).at(&file.title_sheet, &file.unit_cell);
    if file.unit.is_empty() && hierarchy.named_in(&file.title_lines, &ret.senders).len() > 1 {
        // Reported as ambiguous already.
    } else if file.unit.is_empty() {
        findings.push(
            Finding::builder(
                def,
                code::UNIT_MISSING,
                Severity::Error,
                "{file}: the return does not give its unit code",
            )
            .file(&file.file)
            .at(&file.title_sheet, "")
            .build(),
        );
    } else {
        match hierarchy.unit(&file.unit) {
            None => match hierarchy.other_times(&file.unit) {
                [] => findings.push(
                    at_unit(Finding::builder(
                        def,
                        code::UNIT_UNKNOWN,
                        Severity::Error,
                        "{file}: unit code {value} at {sheet}!{cell} is not in the registry for {period}",
                    ))
                    .value(file.unit.clone())
                    .var("period", period.to_string())
                    .build(),
                ),
                others => findings.push(
                    at_unit(Finding::builder(
                        def,
                        code::UNIT_NOT_VALID,
                        Severity::Error,
                        "{file}: unit {value} ({name}) exists in the registry for {validity}, not in {period}",
                    ))
                    .value(file.unit.clone())
                    .expected(period.to_string())
                    .var("period", period.to_string())
                    .var("name", others.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", "))
                    .var("validity", others.iter().map(Unit::validity).collect::<Vec<_>>().join(", "))
                    .build(),
                ),
            },
            Some(unit) if !ret.senders.contains(&unit.kind) => findings.push(
                at_unit(Finding::builder(
                    def,
                    code::UNIT_WRONG_KIND,
                    Severity::Error,
                    "{file}: unit {value} ({name}) is a {kind}, which does not send {return}",
                ))
                .value(file.unit.clone())
                .expected(ret.senders.join(", "))
                .var("name", unit.name.clone())
                .var("kind", unit.kind.clone())
                .var("return", ret.title.clone())
                .build(),
            ),
            Some(_) => {}
        }
    }
    if file.period.is_empty() {
        if !file.period_cell.is_empty() {
            // An unreadable period was reported by ingest already.
        } else {
            findings.push(
                Finding::builder(
                    def,
                    code::PERIOD_MISSING,
                    Severity::Error,
                    "{file}: the return does not say which period it reports",
                )
                .file(&file.file)
                .unit(&file.unit)
                .at(&file.title_sheet, "")
                .expected(period.to_string())
                .build(),
            );
        }
    } else if file.period != period.to_string() {
        findings.push(
            Finding::builder(
                def,
                code::PERIOD_OTHER,
                Severity::Error,
                "{file}: the return is for {value}, not for {expected}",
            )
            .file(&file.file)
            .unit(&file.unit)
            .at(&file.title_sheet, &file.period_cell)
            .value(file.period.clone())
            .expected(period.to_string())
            .build(),
        );
    }
    findings
}

struct Failure {
    index: usize,
    finding: Finding,
}

/// Where each field of each file was found: `(file, table, field) -> (sheet, column)`.
type Cells<'a> = HashMap<(&'a str, &'a str, &'a str), (&'a str, &'a str)>;

/// The rows of one table, with what a finding about one of their cells must name.
struct Rows<'a> {
    table: &'a str,
    files: Vec<String>,
    /// 1-based sheet rows.
    numbers: Vec<u32>,
    cells: &'a Cells<'a>,
}

impl<'a> Rows<'a> {
    fn new(table: &'a str, df: &DataFrame, cells: &'a Cells<'a>) -> PolarsResult<Rows<'a>> {
        let numbers = df.column("_row")?.u32()?.iter().map(|r| r.unwrap_or(0)).collect();
        Ok(Rows { table, files: text_column(df, "_file")?, numbers, cells })
    }

    /// `finding` about the cell of `field` in row `i`: its file, sheet, cell (empty when
    /// the field was not placed) and row.
    fn at(&self, finding: FindingBuilder, field: &str, i: usize) -> FindingBuilder {
        let (sheet, cell) = match self.cells.get(&(self.files[i].as_str(), self.table, field)) {
            Some((sheet, column)) => (*sheet, format!("{column}{}", self.numbers[i])),
            None => ("", String::new()),
        };
        finding.file(&self.files[i]).at(sheet, &cell).row(self.table, self.numbers[i])
    }
}

/// A return-scope rule: the check, an aggregate, evaluated over each return's rows.
fn apply_return_rule(def: &Definition, rule: &RuleSpec, df: &DataFrame) -> anyhow::Result<Vec<Finding>> {
    let expr = polars::sql::sql_expr(rule.check.get_ref())?;
    let per_file = df
        .clone()
        .lazy()
        .group_by([col("_file"), col("_unit")])
        .agg([expr.cast(DataType::Boolean).alias("_ok")])
        .sort(["_file"], SortMultipleOptions::default())
        .collect()?;
    let files = text_column(&per_file, "_file")?;
    let units = text_column(&per_file, "_unit")?;
    let flags = per_file.column("_ok")?.bool()?.clone();
    Ok(flags
        .iter()
        .enumerate()
        .filter(|(_, ok)| *ok == Some(false))
        .map(|(i, _)| {
            Finding::builder(def, code::RULE, rule.severity, &rule.message)
                .rule(&rule.id)
                .file(&files[i])
                .unit(&units[i])
                .expected(rule.check.get_ref().clone())
                .build()
        })
        .collect())
}

/// Rows repeating, within one return, the value of a field the table declares unique.
fn duplicate_keys(def: &Definition, spec: &TableSpec, df: &DataFrame, rows: &Rows) -> anyhow::Result<Vec<Failure>> {
    let files = &rows.files;
    let mut failures = Vec::new();
    for field in &spec.unique {
        let field = field.get_ref().as_str();
        let values: Vec<String> = df.column(field)?.as_materialized_series().iter().map(|v| any_text(&v)).collect();
        let mut first_seen: HashMap<(&str, &str), u32> = HashMap::new();
        for i in 0..df.height() {
            if values[i].is_empty() {
                continue;
            }
            if let Some(first) = first_seen.get(&(files[i].as_str(), values[i].as_str())) {
                let label = spec.column(field).map(|c| c.header.display()).unwrap_or_default();
                let finding = Finding::builder(
                    def,
                    code::DUPLICATE,
                    Severity::Error,
                    "{sheet}!{cell}: `{value}` in column {column} already appears in row {first}",
                );
                failures.push(Failure {
                    index: i,
                    finding: rows
                        .at(finding, field, i)
                        .value(values[i].clone())
                        .var("column", label)
                        .var("first", first.to_string())
                        .build(),
                });
            } else {
                first_seen.insert((files[i].as_str(), values[i].as_str()), rows.numbers[i]);
            }
        }
    }
    Ok(failures)
}

/// Cells that must name a unit of a kind (under the sender): checked against the registry.
fn units_named(
    def: &Definition,
    hierarchy: &Hierarchy,
    spec: &TableSpec,
    df: &DataFrame,
    rows: &Rows,
) -> anyhow::Result<Vec<Failure>> {
    let senders = text_column(df, "_unit")?;
    let mut failures = Vec::new();
    for column in &spec.columns {
        let Some(unit_of) = &column.unit_of else { continue };
        let field = column.field.get_ref().as_str();
        let kind = unit_of.kind.get_ref();
        let values = text_column(df, field)?;
        for i in 0..df.height() {
            if values[i].is_empty() {
                continue;
            }
            let unit = hierarchy.unit(&values[i]);
            let fits = unit.is_some_and(|u| {
                &u.kind == kind
                    && (!unit_of.under_sender || hierarchy.ancestors(&u.code).iter().any(|a| a.code == senders[i]))
            });
            if fits {
                continue;
            }
            let sender = hierarchy.unit(&senders[i]).map(|u| u.name.clone()).unwrap_or_else(|| senders[i].clone());
            let found = unit.map(|u| format!("{} ({})", u.name, u.kind)).unwrap_or_default();
            let finding = Finding::builder(
                def,
                code::UNIT_NOT_UNDER,
                Severity::Error,
                "{sheet}!{cell}: `{value}` is not a {kind} under {sender} in the registry for the period {found}",
            );
            failures.push(Failure {
                index: i,
                finding: rows
                    .at(finding, field, i)
                    .value(values[i].clone())
                    .expected(kind.clone())
                    .var("kind", kind.clone())
                    .var("sender", sender)
                    .var("found", found)
                    .build(),
            });
        }
    }
    Ok(failures)
}

/// Every row of `df` where the rule's check is false.
fn apply_rule(def: &Definition, rule: &RuleSpec, df: &DataFrame, rows: &Rows) -> anyhow::Result<Vec<Failure>> {
    let expansions: Vec<(Option<&str>, String)> = if rule.for_each.is_empty() {
        vec![(None, rule.check.get_ref().clone())]
    } else {
        rule.for_each
            .iter()
            .map(|f| (Some(f.get_ref().as_str()), rule.check.get_ref().replace("{field}", f.get_ref())))
            .collect()
    };
    let table = rule.table.get_ref();
    let (_, spec) = def.table(table).ok_or_else(|| anyhow::anyhow!("rule {} names unknown table {table}", rule.id))?;
    let units = text_column(df, "_unit")?;
    let mut failures = Vec::new();
    for (field, check) in expansions {
        let expr = polars::sql::sql_expr(&check)?;
        let flags = df.clone().lazy().select([expr.cast(DataType::Boolean).alias("_ok")]).collect()?;
        let flags = flags.column("_ok")?.bool()?.clone();
        let cell_field = rule.cell.as_ref().map(|c| c.get_ref().as_str()).or(field).unwrap_or("");
        let label = spec.column(cell_field).map(|c| c.header.display()).unwrap_or_default();
        for (i, ok) in flags.iter().enumerate() {
            if ok != Some(false) {
                continue;
            }
            let values = row_values(df, i)?;
            let value = values.iter().find(|(n, _)| n == cell_field).map(|(_, v)| v.clone()).unwrap_or_default();
            let finding =
                Finding::builder(def, code::RULE, rule.severity, &rule.message).rule(&rule.id).unit(&units[i]);
            let finding = rows
                .at(finding, cell_field, i)
                .value(value)
                .expected(check.clone())
                .var("label", label.clone())
                .vars(values)
                .build();
            failures.push(Failure { index: i, finding });
        }
    }
    Ok(failures)
}

/// `(field, value as text)` of every column of row `i`, for message templates.
fn row_values(df: &DataFrame, i: usize) -> PolarsResult<Vec<(String, String)>> {
    df.columns().iter().map(|c| Ok((c.name().to_string(), any_text(&c.get(i)?)))).collect()
}

/// A cell value as a person reads it.
pub fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A string column as owned texts, nulls as empty.
pub fn text_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
}
