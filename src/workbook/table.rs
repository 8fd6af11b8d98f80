//! Reading the rows of a table found on a sheet into typed values, with a finding at the
//! cell of every value that cannot be read.

use polars::prelude::*;

use super::coerce::{coerce, Expected, Refusal, Value};
use super::formula;
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
    /// Other visible sheets that hold the table too.
    pub(crate) also: Vec<String>,
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
    /// rows are skipped; the total row is checked against the rows above it; a row after it
    /// that holds figures rejects the return (whether it belongs to the table, only the
    /// unit can say); an unlabelled last row that adds up the rows above is taken for the
    /// total it is, never for a party cell.
    pub(crate) fn read_rows(&self, plan: &Plan, file: &str) -> Rows {
        let spec = self.spec;
        let grid = self.grid;
        let mut out = Rows::default();
        let mapped = self.mapped();
        let mut sums: Vec<i64> = vec![0; spec.columns.len()];
        let mut total_at = None;
        for r in self.at.data_row..grid.rows.len() {
            match self.row_kind(r) {
                RowKind::Blank => continue,
                RowKind::Footer => break,
                RowKind::Total => {
                    out.findings.extend(self.check_total(plan, file, r, &sums));
                    total_at = Some(r);
                    break;
                }
                RowKind::Data => {}
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
                match computed(cell, grid).and_then(|c| coerce(&c, column)) {
                    Ok(v) => {
                        if let Value::Int(n) = v {
                            sums[i] = sums[i].saturating_add(n);
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
        match total_at {
            Some(r) => out.findings.extend(self.rows_after_total(plan, file, r)),
            None => {
                if let Some(total) = self.unlabelled_total(plan, file, &mut out.rows) {
                    // Not a row of the table after all.
                    out.read -= 1;
                    out.findings.push(total);
                }
            }
        }
        out
    }

    /// Each kept column of the table with its sheet column.
    fn mapped(&self) -> Vec<(usize, usize)> {
        let columns = self.at.columns.iter().enumerate();
        columns.filter_map(|(i, c)| c.filter(|_| !self.spec.columns[i].ignore).map(|col| (i, col))).collect()
    }

    /// What row `r` is, by its first cells: blank, the footer, the total row, or data.
    fn row_kind(&self, r: usize) -> RowKind {
        let grid = self.grid;
        if grid.rows[r].iter().all(Cell::is_empty) {
            return RowKind::Blank;
        }
        let first_col = self.at.columns.iter().flatten().min().copied().unwrap_or(0);
        let lead: Vec<String> = (first_col..first_col + 3).map(|c| grid.get(r, c).text()).collect();
        let stops = &self.spec.stop_at;
        if lead.iter().map(|t| text::fold(t)).any(|t| stops.iter().any(|s| !s.is_empty() && t.starts_with(s.as_str())))
        {
            return RowKind::Footer;
        }
        match &self.spec.total_row {
            Some(total) if lead.iter().any(|t| total.labels(t)) => RowKind::Total,
            _ => RowKind::Data,
        }
    }

    /// A finding for the first row between the total row and the footer that holds a
    /// figure: the table goes on past its total.
    fn rows_after_total(&self, plan: &Plan, file: &str, total: usize) -> Option<Finding> {
        let numeric: Vec<usize> = self
            .mapped()
            .into_iter()
            .filter(|&(i, _)| {
                matches!(self.spec.columns[i].kind, ValueKind::Count | ValueKind::Integer | ValueKind::Number)
            })
            .map(|(_, col)| col)
            .collect();
        let r = (total + 1..self.grid.rows.len())
            .take_while(|&r| self.row_kind(r) != RowKind::Footer)
            .find(|&r| numeric.iter().any(|&col| !self.grid.get(r, col).is_empty()))?;
        let col = numeric.iter().copied().find(|&col| !self.grid.get(r, col).is_empty()).unwrap_or(0);
        Some(
            Finding::builder(plan, FindingCode::RowAfterTotal, Severity::Error)
                .file(file)
                .at(&self.grid.name, &a1(r, col))
                .value(self.grid.get(r, col).text())
                .var("total", (total + 1).to_string())
                .build(),
        )
    }

    /// The last row read, when it adds up the rows above it (in every count column, not all
    /// zero) and its label is a mark rather than a name (`TC`, `Σ`: three characters at
    /// most): the total row, dropped with a warning. A row named like a party cell stays
    /// one whatever its figures, and a row without a label is refused for the label it lacks.
    fn unlabelled_total(&self, plan: &Plan, file: &str, rows: &mut Vec<(u32, Vec<Value>)>) -> Option<Finding> {
        let (last, above) = rows.split_last()?;
        let label_col = self.at.columns[self.spec.total_row.as_ref()?.column]?;
        let label = self.grid.get(last.0 as usize - 1, label_col).text();
        if above.len() < 2 || label.trim().chars().count() > 3 {
            return None;
        }
        let counts: Vec<usize> = (0..self.spec.columns.len())
            .filter(|&i| matches!(self.spec.columns[i].kind, ValueKind::Count | ValueKind::Integer))
            .filter(|&i| self.at.columns[i].is_some() && !self.spec.columns[i].ignore)
            .collect();
        let int = |v: &Value| if let Value::Int(n) = v { *n } else { 0 };
        let adds_up = counts.iter().all(|&i| above.iter().map(|r| int(&r.1[i])).sum::<i64>() == int(&last.1[i]));
        let all_zero = counts.iter().all(|&i| int(&last.1[i]) == 0);
        if counts.is_empty() || !adds_up || all_zero {
            return None;
        }
        let row = last.0;
        rows.pop();
        Some(
            Finding::builder(plan, FindingCode::TotalUnlabelled, Severity::Warning)
                .file(file)
                .at(&self.grid.name, &a1(row as usize - 1, label_col))
                .row(&self.spec.name, row)
                .value(label)
                .build(),
        )
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
            let stated = match computed(cell, self.grid).and_then(|c| coerce(&c, column)) {
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

/// What a row of a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Blank,
    Data,
    Total,
    Footer,
}

/// A cell as a value: a formula saved without its result is worked out when it is plain
/// arithmetic over the sheet, else refused.
fn computed(cell: &Cell, grid: &Grid) -> Result<Cell, Refusal> {
    match cell {
        Cell::Formula(f) => formula::evaluate(f, grid)
            .map(Cell::Number)
            .ok_or(Refusal { code: FindingCode::CellFormula, expected: Expected::Computed }),
        other => Ok(other.clone()),
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
