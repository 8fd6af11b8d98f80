//! The board's reference tables (targets, opening balances), read for one period with the
//! machinery that reads returns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Context as _};
use polars::prelude::*;

use super::locate::{self, FoldedTop};
use super::table::{to_frame, FileRows, Found};
use super::{a1, column_letters, Caps, Cell};
use crate::definition::{Plan, Reference, Table};
use crate::model::frame::text_column;
use crate::model::{Finding, FindingCode, References, Severity};
use crate::period::{Month, Period};
use crate::registry::{Hierarchy, Unit};

/// Every reference table of the plan, read for `period` from the data directory, and the
/// cut-off of the opening balances, each row checked against the hierarchy of the period.
/// A table that cannot be found at all is an error: the board's own tables are not a
/// unit's return to reject. What is wrong inside one (a column missing, a unit twice, a
/// code the registry does not know, a unit the table must cover and does not) is a finding,
/// and the figures that depend on it are unknown.
pub(crate) fn load(plan: &Plan, data: &Path, period: Period, hierarchy: &Hierarchy) -> anyhow::Result<References> {
    let mut refs = References::default();
    for (id, spec) in plan.reference_ids() {
        let path = data.join(&spec.file);
        let table = spec.table.for_year(period.year);
        let read = match path.exists() {
            true => read(plan, &path, &table, spec.cutoff.as_deref(), &plan.fields_used(id)),
            false => Err(anyhow::anyhow!("{} does not exist", path.display())),
        };
        let mut read = match read {
            Ok(read) => read,
            // A table the board may not have (last year's figures), or not for that year:
            // what comes from it is unknown, and the run goes on.
            Err(why) if spec.optional => {
                let unusable = Finding::builder(plan, FindingCode::ReferenceUnavailable, Severity::Warning);
                refs.findings.push(unusable.file(&spec.file).value(format!("{why:#}")).build());
                refs.tables.push(DataFrame::empty());
                refs.unknown.push(HashSet::new());
                refs.missing_fields.push(plan.fields_used(id).into_iter().map(str::to_string).collect());
                continue;
            }
            Err(e) => return Err(e),
        };
        let unknown = check_rows(plan, spec, &mut read, hierarchy)?;
        refs.findings.append(&mut read.findings);
        if let Some(label) = &spec.cutoff {
            let closed = cutoff_period(plan, &path, label, read.cutoff.as_ref())?;
            if closed >= period {
                bail!("{}: the opening balances are at {closed}, not before {period}", path.display());
            }
            refs.cutoff = Some(closed);
        }
        refs.tables.push(read.frame);
        refs.unknown.push(unknown);
        refs.missing_fields.push(read.missing_fields);
    }
    Ok(refs)
}

/// A reference table as read.
struct Read {
    frame: DataFrame,
    cutoff: Option<Cell>,
    findings: Vec<Finding>,
    file: String,
    sheet: String,
    /// The key column's letter, for findings about a row.
    key_column: String,
    /// Fields measures read that the sheet lacks.
    missing_fields: HashSet<String>,
}

/// Every row's unit checked against the hierarchy: a code typed as a number that lost its
/// leading zeros is padded when that names exactly one unit (said so); a code the registry
/// does not know is a warning; a unit listed twice is an error and its values unknown; a
/// unit of a level the table covers without a row is an error and its values unknown.
/// Returns the units whose values are unknown.
fn check_rows(
    plan: &Plan,
    spec: &Reference,
    read: &mut Read,
    hierarchy: &Hierarchy,
) -> anyhow::Result<HashSet<String>> {
    let codes = text_column(&read.frame, &spec.key)?;
    let rows: Vec<u32> = read.frame.column("_row")?.u32()?.iter().map(|r| r.unwrap_or(0)).collect();
    let mut fixed = codes.clone();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut unknown = HashSet::new();
    for (i, code) in codes.iter().enumerate() {
        if code.is_empty() {
            continue;
        }
        let cell = format!("{}{}", read.key_column, rows[i]);
        let new = |code, severity| {
            Finding::builder(plan, code, severity)
                .file(&read.file)
                .at(&read.sheet, &cell)
                .row(&spec.table.name, rows[i])
        };
        if hierarchy.unit(code).is_none() {
            match padded(hierarchy, code) {
                Some(unit) => {
                    let finding =
                        new(FindingCode::ReferenceCodePadded, Severity::Info).value(code).expected(&unit.code);
                    read.findings.push(finding.unit(&unit.code).build());
                    fixed[i] = unit.code.clone();
                }
                None if hierarchy.other_times(code).is_empty() => {
                    read.findings.push(new(FindingCode::ReferenceUnknownUnit, Severity::Warning).value(code).build());
                    continue;
                }
                None => continue,
            }
        }
        let code = &fixed[i];
        if let Some(first) = seen.insert(code.clone(), rows[i]) {
            let finding = new(FindingCode::ReferenceDuplicate, Severity::Error).unit(code).value(code);
            let finding = finding.var("first", first.to_string());
            read.findings.push(finding.build());
            unknown.insert(code.clone());
        }
    }
    for unit in hierarchy.units.iter().filter(|u| spec.covers.contains(&u.kind) && !seen.contains_key(&u.code)) {
        read.findings.push(
            Finding::builder(plan, FindingCode::ReferenceMissing, Severity::Error)
                .file(&read.file)
                .at(&read.sheet, "")
                .unit(&unit.code)
                .value(&unit.code)
                .var("name", unit.name.clone())
                .build(),
        );
        unknown.insert(unit.code.clone());
    }
    read.frame.with_column(Column::new(spec.key.as_str().into(), fixed))?;
    Ok(unknown)
}

/// The one unit whose all-digit code is `code` with the zeros a number cell dropped (`58`
/// for `058`), if exactly one unit's is.
fn padded<'a>(hierarchy: &'a Hierarchy, code: &str) -> Option<&'a Unit> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut matches = hierarchy.units.iter().filter(|u| {
        u.code.len() > code.len()
            && u.code.bytes().all(|b| b.is_ascii_digit())
            && u.code.trim_start_matches('0') == code
    });
    let unit = matches.next()?;
    matches.next().is_none().then_some(unit)
}

/// The period a cut-off cell closes: `06/2025` (a month that ends a period of the
/// pipeline) or the period itself (`Quý II/2025`).
fn cutoff_period(plan: &Plan, path: &Path, label: &str, cell: Option<&Cell>) -> anyhow::Result<Period> {
    let kind = plan.pipeline.period;
    let text = cell.map(Cell::text).unwrap_or_default();
    let month = match cell {
        Some(Cell::Date(d)) => Month::new(chrono::Datelike::year(d), chrono::Datelike::month(d)),
        _ => Month::parse_loose(&text),
    };
    let closed = match month {
        Some(m) => Some(Period::ending_with(m, kind).with_context(|| {
            format!(
                "{}: the opening balances are at {m}, which does not end a period ({})",
                path.display(),
                kind.pattern()
            )
        })?),
        None => Period::parse_loose(&text, kind, &plan.pipeline.quarter_words),
    };
    closed.with_context(|| format!("{}: no period next to `{label}`", path.display()))
}

/// Read a reference workbook's table from the first visible sheet where it is found, with
/// the value of the cut-off label if asked. A column a measure uses (`used`) that the sheet
/// lacks is a finding naming the header it looked for (`{year}` filled in); its values
/// are unknown.
fn read(plan: &Plan, path: &Path, spec: &Table, cutoff_label: Option<&str>, used: &[&str]) -> anyhow::Result<Read> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The board's own tables are read under the engine's default caps: `[limits]` guards
    // against what the inbox brings, and a tight one must not refuse the board's targets.
    let grids = catch_unwind(AssertUnwindSafe(|| super::read(&bytes, Caps::default())))
        .map_err(|_| anyhow::anyhow!("the reader failed on {}", path.display()))?
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let headers: Vec<String> = spec.columns.iter().map(|c| c.header.display()).collect();
    let found = grids
        .iter()
        .filter(|g| !g.hidden)
        .find_map(|g| {
            let at = locate::locate(g, &FoldedTop::of(g, spec.header_rows), spec)?;
            Some(Found { spec, grid: g, at, also: vec![] })
        })
        .with_context(|| {
            format!("{}: no sheet holds the table the definition describes ({})", path.display(), headers.join(", "))
        })?;
    let missing = found.at.missing_required(spec);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| c.header.display()).collect();
        bail!("{}: required column(s) missing: {}", path.display(), names.join("; "));
    }
    let labelled = |l: &str| locate::labelled_value(found.grid, l, found.at.header_row, &plan.labels);
    let cutoff = cutoff_label.and_then(labelled).map(|v| v.0);
    let rows = found.read_rows(plan, &file);
    let mut findings = rows.findings;
    let mut missing_fields = HashSet::new();
    for (column, at) in spec.columns.iter().zip(&found.at.columns) {
        if at.is_none() && used.contains(&column.field.as_str()) {
            missing_fields.insert(column.field.clone());
            findings.push(
                Finding::builder(plan, FindingCode::ReferenceColumnMissing, Severity::Error)
                    .file(&file)
                    .at(&found.grid.name, &a1(found.at.header_row, 0))
                    .value(column.header.display())
                    .build(),
            );
        }
    }
    let sheet = found.grid.name.clone();
    let key_column = spec
        .columns
        .iter()
        .zip(&found.at.columns)
        .find(|(c, _)| c.required)
        .and_then(|(_, at)| *at)
        .map(column_letters)
        .unwrap_or_default();
    let parts = [FileRows {
        file: file.clone(),
        sheet: sheet.clone(),
        unit: String::new(),
        period: String::new(),
        rows: rows.rows,
    }];
    Ok(Read { frame: to_frame(spec, &parts)?, cutoff, findings, file, sheet, key_column, missing_fields })
}
