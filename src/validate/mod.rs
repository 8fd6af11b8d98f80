//! Stage 2, validate: which files and rows of a period can be trusted.
//!
//! A file is rejected when it is not a return, lacks a required column, comes from a unit
//! the registry does not know for the period (or of a kind that does not send this return),
//! or is for another period. A row is rejected when a cell could not be read or a rule of
//! a rejecting severity fails on it. Rules are SQL expressions from the definition,
//! evaluated by polars; a rule whose operands are missing (null) is not applied to that row.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use crate::definition::{Plan, Return, Rule, RuleKind, Sql, Table};
use crate::model::frame::{any_text, text_column};
use crate::model::{
    Batch, FieldCells, FileRecord, FileStatus, Finding, FindingBuilder, FindingCode, Period, Placement, Severity,
    TitleLine,
};
use crate::registry::{Hierarchy, Unit};

/// Keep the trusted part of a period's returns, and say why the rest was refused.
pub(crate) fn validate(plan: &Plan, hierarchy: &Hierarchy, period: Period, ingested: Batch) -> anyhow::Result<Batch> {
    let Batch { mut files, mut tables, placements, titles, mut findings, completeness } = ingested;
    // Read for attribution; the later stages do not need them.
    let lines = TitleLine::by_file(&titles)?;
    for file in files.iter_mut().filter(|f| f.is_return()) {
        let title = lines.get(file.file.as_str()).map_or(&[][..], Vec::as_slice);
        findings.extend(attribute(plan, hierarchy, period, file, title));
        findings.extend(check_period(plan, period, file));
        findings.extend(check_date_line(plan, period, file));
    }
    // Findings made while reading name their file only; the file says whose it is.
    let unit_of: HashMap<&str, &str> = files.iter().map(|f| (f.file.as_str(), f.unit.as_str())).collect();
    for f in findings.iter_mut().filter(|f| f.unit.is_empty()) {
        f.unit = unit_of.get(f.file.as_str()).copied().unwrap_or_default().to_string();
    }
    for rule in &plan.rules {
        if let (RuleKind::Return(check), Some(df)) = (&rule.kind, tables.get(&plan.table(rule.table).name)) {
            findings.extend(apply_return_rule(plan, rule, check, df)?);
        }
    }
    let policy = &plan.policy;
    let rejected_files: HashSet<String> = findings
        .iter()
        .filter(|f| f.row == 0 && !f.file.is_empty() && policy.reject_file.contains(&f.severity))
        .map(|f| f.file.clone())
        .collect();
    let cells = Placement::by_field(&placements)?;

    let mut accepted = BTreeMap::new();
    let mut rows_rejected: HashMap<String, u32> = HashMap::new();
    for (id, table) in plan.table_ids() {
        let Some(mut df) = tables.remove(&table.name) else { continue };
        // A unit recognised here by name was unknown when the rows were read.
        let sent_by = text_column(&df, "_file")?;
        let units: Vec<&str> = sent_by.iter().map(|f| unit_of.get(f.as_str()).copied().unwrap_or_default()).collect();
        df.with_column(Column::new("_unit".into(), units))?;
        let from_good_files: Vec<bool> = sent_by.iter().map(|f| !rejected_files.contains(f)).collect();
        let df = df.filter(&BooleanChunked::from_slice("keep".into(), &from_good_files))?;
        let rows = Rows::new(table, &df, &cells)?;
        let mut failures = Vec::new();
        for rule in plan.rules.iter().filter(|r| r.table == id) {
            if let RuleKind::Row(checks) = &rule.kind {
                for check in checks {
                    failures.extend(apply_row_check(plan, rule, &check.check, &check.cell, &df, &rows)?);
                }
            }
        }
        failures.extend(duplicate_keys(plan, table, &df, &rows)?);
        failures.extend(units_named(plan, hierarchy, table, &df, &rows)?);
        let mut keep = vec![true; df.height()];
        for failure in failures {
            if policy.reject_row.contains(&failure.finding.severity) && keep[failure.index] {
                keep[failure.index] = false;
                *rows_rejected.entry(failure.finding.file.clone()).or_default() += 1;
            }
            findings.push(failure.finding);
        }
        accepted.insert(table.name.clone(), df.filter(&BooleanChunked::from_slice("keep".into(), &keep))?);
    }

    for file in &mut files {
        if !file.is_return() || rejected_files.contains(&file.file) {
            file.status = if file.is_return() { FileStatus::Rejected } else { FileStatus::Ignored };
            file.rows_rejected = file.rows_read;
            file.rows_accepted = 0;
        } else {
            file.status = FileStatus::Accepted;
            file.rows_rejected = file.rows_refused + rows_rejected.get(&file.file).copied().unwrap_or(0);
            file.rows_accepted = file.rows_read - file.rows_rejected;
        }
    }
    // Each file's findings together, in the files' order: what validating the files one
    // part at a time and joining the parts gives too.
    findings.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Batch { files, tables: accepted, placements, titles: TitleLine::none(), findings, completeness })
}

/// Who sent a return: the unit its code names, cross-checked against the unit its title
/// block names; or, when the code names no unit that sends this return, the one unit the
/// title block names (a warning, naming the cell). Sets `file.unit`. A code of one unit on
/// a return whose title block names another is an error naming both: the return counts
/// for neither until they agree.
fn attribute(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    file: &mut FileRecord,
    title: &[(&str, &str)],
) -> Vec<Finding> {
    let Some(ret) = plan.return_by_id(&file.return_id) else { return vec![] };
    let texts: Vec<&str> = title.iter().map(|(_, text)| *text).collect();
    let named = hierarchy.named_in(&texts, &ret.senders);
    let sender = hierarchy.unit(&file.unit).filter(|u| ret.senders.contains(&u.kind));
    let new = |code, severity| Finding::builder(plan, code, severity).file(&file.file);
    match (sender, named.as_slice()) {
        (Some(unit), [(other, i)]) if other.code != unit.code => vec![new(FindingCode::UnitMismatch, Severity::Error)
            .unit(&unit.code)
            .at(&file.title_sheet, &file.unit_cell)
            .value(&file.unit)
            .expected(&other.code)
            .var("name", unit.name.clone())
            .var("named", format!("{} {}", other.code, other.name))
            .var("named_cell", title[*i].0.to_string())
            .var("text", title[*i].1.to_string())
            .build()],
        (Some(_), _) => vec![],
        (None, [(unit, i)]) => {
            let finding = new(FindingCode::UnitByName, Severity::Warning)
                .unit(&unit.code)
                .at(&file.title_sheet, title[*i].0)
                .value(title[*i].1.to_string())
                .expected(format!("{} {}", unit.code, unit.name))
                .var("code", if file.unit.is_empty() { "—".to_string() } else { file.unit.clone() })
                .build();
            file.unit = unit.code.clone();
            vec![finding]
        }
        (None, []) => unattributed(plan, hierarchy, period, ret, file),
        (None, many) => {
            let listed: Vec<String> = many.iter().map(|(u, _)| format!("{} {}", u.code, u.name)).collect();
            let finding = new(FindingCode::UnitAmbiguous, Severity::Error).unit(&file.unit).at(&file.title_sheet, "");
            vec![finding.value(listed.join("; ")).build()]
        }
    }
}

/// Why a return whose title block names no unit cannot be attributed by its code.
fn unattributed(plan: &Plan, hierarchy: &Hierarchy, period: Period, ret: &Return, file: &FileRecord) -> Vec<Finding> {
    let new = |code| Finding::builder(plan, code, Severity::Error).file(&file.file).unit(&file.unit);
    let at_unit = |code| new(code).at(&file.title_sheet, &file.unit_cell).value(&file.unit);
    if file.unit.is_empty() {
        return vec![new(FindingCode::UnitMissing).at(&file.title_sheet, "").build()];
    }
    vec![match (hierarchy.unit(&file.unit), hierarchy.other_times(&file.unit)) {
        (Some(unit), _) => at_unit(FindingCode::UnitWrongKind)
            .expected(ret.senders.join(", "))
            .var("name", unit.name.clone())
            .var("kind", unit.kind.clone())
            .var("return", ret.title.clone())
            .build(),
        (None, []) => at_unit(FindingCode::UnitUnknown).var("period", period.to_string()).build(),
        (None, others) => at_unit(FindingCode::UnitNotValid)
            .expected(period.to_string())
            .var("period", period.to_string())
            .var("name", others.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", "))
            .var("validity", others.iter().map(Unit::validity).collect::<Vec<_>>().join(", "))
            .build(),
    }]
}

/// A date line before the return's period starts or more than a year after it ends is a
/// typo (`2032` for `2023`): it is reported and set aside, so it cannot decide which of a
/// unit's returns is the newest. Judged against the period the return gives (else the
/// run's), never the clock, so a run gives the same answer any day.
fn check_date_line(plan: &Plan, period: Period, file: &mut FileRecord) -> Option<Finding> {
    let date = chrono::NaiveDate::parse_from_str(&file.dated, "%Y-%m-%d").ok()?;
    let period = file.period.parse().unwrap_or(period);
    let (first, last) = (period.first_month(), period.last_month().next());
    let start = chrono::NaiveDate::from_ymd_opt(first.year, first.month, 1)?;
    let latest = chrono::NaiveDate::from_ymd_opt(last.year + 1, last.month, 1)?;
    if (start..latest).contains(&date) {
        return None;
    }
    let finding = Finding::builder(plan, FindingCode::DateImplausible, Severity::Warning)
        .file(&file.file)
        .unit(&file.unit)
        .at(&file.title_sheet, &file.dated_cell)
        .value(date.format("%d/%m/%Y").to_string())
        .expected(period.to_string())
        .build();
    file.dated.clear();
    Some(finding)
}

/// The return's period: written, and the run's.
fn check_period(plan: &Plan, period: Period, file: &FileRecord) -> Option<Finding> {
    let new = |code| Finding::builder(plan, code, Severity::Error).file(&file.file).unit(&file.unit);
    if file.period.is_empty() {
        // An unreadable period was reported by ingest already.
        let missing = new(FindingCode::PeriodMissing).at(&file.title_sheet, "").expected(period.to_string());
        return file.period_cell.is_empty().then(|| missing.build());
    }
    let other = new(FindingCode::PeriodOther).at(&file.title_sheet, &file.period_cell);
    (file.period != period.to_string()).then(|| other.value(file.period.clone()).expected(period.to_string()).build())
}

struct Failure {
    index: usize,
    finding: Finding,
}

/// The rows of one table, with what a finding about one of their cells must name.
struct Rows<'a> {
    table: &'a Table,
    files: Vec<String>,
    units: Vec<String>,
    /// 1-based sheet rows.
    numbers: Vec<u32>,
    cells: &'a FieldCells<'a>,
}

impl<'a> Rows<'a> {
    fn new(table: &'a Table, df: &DataFrame, cells: &'a FieldCells<'a>) -> PolarsResult<Rows<'a>> {
        let numbers = df.column("_row")?.u32()?.iter().map(|r| r.unwrap_or(0)).collect();
        Ok(Rows { table, files: text_column(df, "_file")?, units: text_column(df, "_unit")?, numbers, cells })
    }

    /// `finding` about the cell of `field` in row `i`: its file, unit, sheet, cell (empty
    /// when the field was not placed) and row.
    fn at(&self, finding: FindingBuilder, field: &str, i: usize) -> FindingBuilder {
        let (sheet, cell) = match self.cells.get(&(self.files[i].as_str(), self.table.name.as_str(), field)) {
            Some((sheet, column)) => (*sheet, format!("{column}{}", self.numbers[i])),
            None => ("", String::new()),
        };
        finding.file(&self.files[i]).unit(&self.units[i]).at(sheet, &cell).row(&self.table.name, self.numbers[i])
    }

    /// The header of a field's column, as findings name it.
    fn label(&self, field: &str) -> String {
        self.table.column(field).map(|c| c.header.display()).unwrap_or_default()
    }
}

/// A return-scope rule: the check, an aggregate, evaluated over each return's rows.
fn apply_return_rule(plan: &Plan, rule: &Rule, check: &Sql, df: &DataFrame) -> anyhow::Result<Vec<Finding>> {
    let per_file = df
        .clone()
        .lazy()
        .group_by([col("_file"), col("_unit")])
        .agg([check.expr.clone().cast(DataType::Boolean).alias("_ok")])
        .sort(["_file"], SortMultipleOptions::default())
        .collect()
        .map_err(|e| check.failed(&format!("rule `{}`", rule.id), e))?;
    let files = text_column(&per_file, "_file")?;
    let units = text_column(&per_file, "_unit")?;
    let flags = per_file.column("_ok")?.bool()?.clone();
    Ok(flags
        .iter()
        .enumerate()
        .filter(|(_, ok)| *ok == Some(false))
        .map(|(i, _)| {
            Finding::builder(plan, FindingCode::Rule, rule.severity)
                .template(&rule.message)
                .rule(&rule.id)
                .file(&files[i])
                .unit(&units[i])
                .expected(check.text.clone())
                .build()
        })
        .collect())
}

/// Every row of `df` where one check of a row rule is false, pointing at `cell`'s cell.
fn apply_row_check(
    plan: &Plan,
    rule: &Rule,
    check: &Sql,
    cell: &str,
    df: &DataFrame,
    rows: &Rows,
) -> anyhow::Result<Vec<Failure>> {
    let flags = df.clone().lazy().select([check.expr.clone().cast(DataType::Boolean).alias("_ok")]).collect();
    let flags = flags.map_err(|e| check.failed(&format!("rule `{}`", rule.id), e))?;
    let flags = flags.column("_ok")?.bool()?.clone();
    let label = rows.label(cell);
    let mut failures = Vec::new();
    for (i, ok) in flags.iter().enumerate() {
        if ok != Some(false) {
            continue;
        }
        let values = row_values(df, i)?;
        let value = values.iter().find(|(n, _)| n == cell).map(|(_, v)| v.clone()).unwrap_or_default();
        let finding = Finding::builder(plan, FindingCode::Rule, rule.severity).template(&rule.message).rule(&rule.id);
        let finding = rows
            .at(finding, cell, i)
            .value(value)
            .expected(check.text.clone())
            .var("label", label.clone())
            .vars(values)
            .build();
        failures.push(Failure { index: i, finding });
    }
    Ok(failures)
}

/// Rows repeating, within one return, the value of a field the table declares unique.
fn duplicate_keys(plan: &Plan, table: &Table, df: &DataFrame, rows: &Rows) -> anyhow::Result<Vec<Failure>> {
    let files = &rows.files;
    let mut failures = Vec::new();
    for &k in &table.unique {
        let field = table.columns[k].field.as_str();
        let values: Vec<String> = df.column(field)?.as_materialized_series().iter().map(|v| any_text(&v)).collect();
        let mut first_seen: HashMap<(&str, &str), u32> = HashMap::new();
        for i in 0..df.height() {
            if values[i].is_empty() {
                continue;
            }
            if let Some(first) = first_seen.get(&(files[i].as_str(), values[i].as_str())) {
                let finding = Finding::builder(plan, FindingCode::DuplicateKey, Severity::Error);
                let finding = rows.at(finding, field, i).value(values[i].clone());
                let finding = finding.var("column", rows.label(field)).var("first", first.to_string()).build();
                failures.push(Failure { index: i, finding });
            } else {
                first_seen.insert((files[i].as_str(), values[i].as_str()), rows.numbers[i]);
            }
        }
    }
    Ok(failures)
}

/// Cells that must name a unit of a kind (under the sender): checked against the registry.
fn units_named(
    plan: &Plan,
    hierarchy: &Hierarchy,
    table: &Table,
    df: &DataFrame,
    rows: &Rows,
) -> anyhow::Result<Vec<Failure>> {
    let senders = &rows.units;
    let mut failures = Vec::new();
    for column in &table.columns {
        let Some(unit_of) = &column.unit_of else { continue };
        let field = column.field.as_str();
        let kind = &unit_of.kind;
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
            let finding = Finding::builder(plan, FindingCode::UnitNotUnder, Severity::Error);
            let finding = rows
                .at(finding, field, i)
                .value(values[i].clone())
                .expected(kind.clone())
                .var("kind", kind.clone())
                .var("sender", sender)
                .var("found", found)
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

#[cfg(test)]
mod tests;
