//! The board's reference tables (targets, opening balances), read for one period with the
//! machinery that reads returns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use anyhow::{bail, Context as _};
use polars::prelude::DataFrame;

use super::locate::{self, FoldedTop};
use super::table::{to_frame, FileRows, Found};
use super::{Caps, Cell};
use crate::definition::{Plan, Table};
use crate::model::{Finding, References};
use crate::period::{Month, Period};

/// Every reference table of the plan, read for `period` from the data directory, and the
/// cut-off of the opening balances. A reference that cannot be read is an error: the
/// board's own tables are not a unit's return to reject.
pub(crate) fn load(plan: &Plan, data: &Path, period: Period) -> anyhow::Result<References> {
    let mut refs = References::default();
    for spec in &plan.references {
        let path = data.join(&spec.file);
        let table = spec.table.for_year(period.year);
        let (df, cutoff, findings) = read(plan, &path, &table, spec.cutoff.as_deref())?;
        refs.findings.extend(findings);
        if let Some(label) = &spec.cutoff {
            let closed = cutoff_period(plan, &path, label, cutoff.as_ref())?;
            if closed >= period {
                bail!("{}: the opening balances are at {closed}, not before {period}", path.display());
            }
            refs.cutoff = Some(closed);
        }
        refs.tables.push(df);
    }
    Ok(refs)
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

/// Read a reference workbook's table: the first visible sheet where the table is found.
/// Returns the rows, the value of the cut-off label if asked, and the findings.
pub(crate) fn read(
    plan: &Plan,
    path: &Path,
    spec: &Table,
    cutoff_label: Option<&str>,
) -> anyhow::Result<(DataFrame, Option<Cell>, Vec<Finding>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The board's own tables are read under the engine's default caps: `[limits]` guards
    // against what the inbox brings, and a tight one must not refuse the board's targets.
    let grids = catch_unwind(AssertUnwindSafe(|| super::read(&bytes, Caps::default())))
        .map_err(|_| anyhow::anyhow!("the reader failed on {}", path.display()))?
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let found = grids
        .iter()
        .filter(|g| !g.hidden)
        .find_map(|g| {
            locate::locate(g, &FoldedTop::of(g, spec.header_rows), spec).map(|at| Found {
                spec,
                grid: g,
                at,
                also: vec![],
            })
        })
        .ok_or_else(|| anyhow::anyhow!("{}: no sheet holds the table the definition describes", path.display()))?;
    let missing = found.at.missing_required(spec);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| c.header.display()).collect();
        bail!("{}: required column(s) missing: {}", path.display(), names.join("; "));
    }
    let labelled = |l: &str| locate::labelled_value(found.grid, l, found.at.header_row, &plan.labels);
    let cutoff = cutoff_label.and_then(labelled).map(|v| v.0);
    let rows = found.read_rows(plan, &file);
    let parts = [FileRows {
        file,
        sheet: found.grid.name.clone(),
        unit: String::new(),
        period: String::new(),
        rows: rows.rows,
    }];
    Ok((to_frame(spec, &parts)?, cutoff, rows.findings))
}
