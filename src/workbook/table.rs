//! Reading the rows of a table found on a sheet into typed values, with a finding at the
//! cell of every value that cannot be read.

use polars::prelude::*;

use super::coerce::{coerce, Value};
use super::locate::Located;
use super::{a1, Cell, Grid};
use crate::definition::{Plan, Table, ValueKind};
use crate::model::{Finding, FindingCode, Severity};
use crate::text;

/// A table of the definition found on a sheet.
pub(crate) struct Found<'a> {
    pub(crate) spec: &'a Table,
    pub(crate) grid: &'a Grid,
    pub(crate) at: Located,
}

/// The rows of one table as read: each row's 1-based sheet row and its values (one per
/// column of the table, `Missing` for ignored and absent columns).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) rows: Vec<(u32, Vec<Value>)>,
    /// Rows read, including those refused.
    pub(crate) read: u32,
    /// Rows refused because a cell could not be read.
    pub(crate) refused: u32,
    pub(crate) findings: Vec<Finding>,
}

/// The rows of one table from one file, with what every row of it shares.
pub(crate) struct FileRows {
    pub(crate) file: String,
    pub(crate) sheet: String,
    pub(crate) unit: String,
    pub(crate) period: String,
    pub(crate) rows: Vec<(u32, Vec<Value>)>,
}

impl Found<'_> {
    /// Read the data rows, from under the header to the total row or the footer. Blank
    /// rows are skipped; the total row is checked against the rows above it.
    pub(crate) fn read_rows(&self, plan: &Plan, file: &str) -> Rows {
        let spec = self.spec;
        let grid = self.grid;
        let mut out = Rows::default();
        let mapped: Vec<(usize, usize)> = self
            .at
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.filter(|_| !spec.columns[i].ignore).map(|col| (i, col)))
            .collect();
        let first_col = self.at.columns.iter().flatten().min().copied().unwrap_or(0);
        let total_label = spec.total_row.as_ref().map(|t| text::fold(&t.label));
        let mut sums: Vec<i64> = vec![0; spec.columns.len()];
        for r in self.at.data_row..grid.rows.len() {
            if grid.rows[r].iter().all(Cell::is_empty) {
                continue;
            }
            let lead: Vec<String> = (first_col..first_col + 3).map(|c| text::fold(&grid.get(r, c).text())).collect();
            if lead.iter().any(|t| spec.stop_at.iter().any(|s| !s.is_empty() && t.starts_with(s.as_str()))) {
                break;
            }
            if let Some(label) = &total_label {
                if lead.iter().any(|t| t.starts_with(label.as_str())) {
                    out.findings.extend(self.check_total(plan, file, r, &sums));
                    break;
                }
            }
            if mapped.iter().all(|&(_, col)| grid.get(r, col).is_empty()) {
                continue;
            }
            out.read += 1;
            let mut values = vec![Value::Missing; spec.columns.len()];
            let mut refused = false;
            for &(i, col) in &mapped {
                let column = &spec.columns[i];
                let cell = grid.get(r, col);
                match coerce(cell, column) {
                    Ok(v) => {
                        if let Value::Int(n) = v {
                            sums[i] += n;
                        }
                        values[i] = v;
                    }
                    Err(refusal) => {
                        refused = true;
                        let (key, default) = refusal.expected.key();
                        out.findings.push(
                            Finding::builder(plan, refusal.code, Severity::Error)
                                .file(file)
                                .at(&grid.name, &a1(r, col))
                                .row(&spec.name, r as u32 + 1)
                                .value(cell.text())
                                .expected(plan.message(key, default))
                                .var("column", column.header.display())
                                .build(),
                        );
                    }
                }
            }
            if refused {
                out.refused += 1;
            } else {
                out.rows.push((r as u32 + 1, values));
            }
        }
        out
    }

    /// Compare a total row with the sum of the rows read, where the total row has values.
    fn check_total(&self, plan: &Plan, file: &str, r: usize, sums: &[i64]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (i, column) in self.spec.columns.iter().enumerate() {
            let Some(col) = self.at.columns[i] else { continue };
            if column.ignore || !matches!(column.kind, ValueKind::Count | ValueKind::Integer) {
                continue;
            }
            let cell = self.grid.get(r, col);
            if cell.is_empty() {
                continue;
            }
            let stated = match coerce(cell, column) {
                Ok(Value::Int(n)) => n,
                _ => continue,
            };
            if stated != sums[i] {
                findings.push(
                    Finding::builder(plan, FindingCode::TotalMismatch, Severity::Warning)
                        .file(file)
                        .at(&self.grid.name, &a1(r, col))
                        .row(&self.spec.name, 0)
                        .value(stated.to_string())
                        .expected(sums[i].to_string())
                        .var("column", column.header.display())
                        .build(),
                );
            }
        }
        findings
    }
}

/// The rows of one table from every file, as a frame with provenance columns first
/// (`_file`, `_sheet`, `_row`, `_unit`, `_period`), then a column per kept field.
pub(crate) fn to_frame(spec: &Table, parts: &[FileRows]) -> PolarsResult<DataFrame> {
    let each_row = || parts.iter().flat_map(|p| p.rows.iter().map(move |r| (p, r)));
    let mut columns = vec![
        Column::new("_file".into(), each_row().map(|(p, _)| p.file.as_str()).collect::<Vec<_>>()),
        Column::new("_sheet".into(), each_row().map(|(p, _)| p.sheet.as_str()).collect::<Vec<_>>()),
        Column::new("_row".into(), each_row().map(|(_, r)| r.0).collect::<Vec<u32>>()),
        Column::new("_unit".into(), each_row().map(|(p, _)| p.unit.as_str()).collect::<Vec<_>>()),
        Column::new("_period".into(), each_row().map(|(p, _)| p.period.as_str()).collect::<Vec<_>>()),
    ];
    for (i, column) in spec.columns.iter().enumerate() {
        if column.ignore {
            continue;
        }
        let name: PlSmallStr = column.field.as_str().into();
        let values = each_row().map(|(_, r)| &r.1[i]);
        columns.push(match column.kind {
            ValueKind::Count | ValueKind::Integer => Column::new(
                name,
                values.map(|v| if let Value::Int(n) = v { Some(*n) } else { None }).collect::<Vec<_>>(),
            ),
            ValueKind::Number => Column::new(
                name,
                values
                    .map(|v| match v {
                        Value::Float(f) => Some(*f),
                        Value::Int(n) => Some(*n as f64),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => Column::new(
                name,
                values.map(|v| if let Value::Text(t) = v { Some(t.as_str()) } else { None }).collect::<Vec<_>>(),
            ),
        });
    }
    DataFrame::new_infer_height(columns)
}
