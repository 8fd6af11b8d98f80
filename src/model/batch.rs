//! A period's returns as one stage hands them to the next.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::completeness::Expectation;
use super::frame::text_column;
use super::Finding;

/// What the stages made of a period's inbox: the files, their rows per table, where each
/// field was found, the findings, and who was expected to report.
#[derive(Debug, Default)]
pub struct Batch {
    pub files: Vec<FileRecord>,
    /// Rows per return table, by its qualified name (`mau01.cells`); each row carries
    /// `_file`, `_sheet`, `_row`, `_unit` and `_period`.
    pub tables: BTreeMap<String, DataFrame>,
    pub placements: Vec<Placement>,
    pub findings: Vec<Finding>,
    /// Who was expected to report and what arrived; filled by merge.
    pub completeness: Vec<Expectation>,
}

/// What became of an input file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum FileStatus {
    #[default]
    Accepted,
    Rejected,
    /// A newer return of the same unit counts instead.
    Superseded,
    /// Not a return of this pipeline (a lock file, an unrecognised workbook).
    Ignored,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One input file as read, and what became of it at each stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileRecord {
    /// The file name, relative to the inbox.
    pub file: String,
    pub size: u64,
    pub sha256: String,
    /// Modification time, seconds since the epoch (orders resubmissions without a date line).
    pub modified: i64,
    /// The recognised return type, empty when none.
    pub return_id: String,
    pub unit: String,
    pub period: String,
    /// The date of the place/date line, ISO, empty when none.
    pub dated: String,
    pub rows_read: u32,
    /// Rows refused while reading.
    pub rows_refused: u32,
    /// The texts of the title block, for recognising the unit by its committee's name;
    /// kept only when the code is missing (the records of ten thousand files go from
    /// stage to stage).
    pub title_lines: Vec<String>,
    /// Where the title block's unit code and period were read (`Sheet!A1`), for findings.
    pub title_sheet: String,
    pub unit_cell: String,
    pub period_cell: String,
    /// Provisional after ingest (what reading alone could tell), settled by validate and merge.
    pub status: FileStatus,
    pub rows_accepted: u32,
    pub rows_rejected: u32,
}

impl FileRecord {
    /// Whether the file was recognised as a return of the pipeline.
    pub fn is_return(&self) -> bool {
        !self.return_id.is_empty()
    }
}

/// Where a field of a table was found in one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Placement {
    pub file: String,
    pub table: String,
    pub sheet: String,
    pub field: String,
    pub column: String,
}

const PLACEMENT_COLUMNS: [&str; 5] = ["file", "table", "sheet", "field", "column"];

impl Placement {
    /// Placements as a table: one row a file and field, 130,000 rows for ten thousand
    /// returns, which Parquet stores in a fraction of JSON's bytes.
    pub fn to_frame(placements: &[Placement]) -> PolarsResult<DataFrame> {
        let column = |name: &str, get: fn(&Placement) -> &str| {
            Column::new(name.into(), placements.iter().map(get).collect::<Vec<_>>())
        };
        DataFrame::new_infer_height(vec![
            column(PLACEMENT_COLUMNS[0], |p| &p.file),
            column(PLACEMENT_COLUMNS[1], |p| &p.table),
            column(PLACEMENT_COLUMNS[2], |p| &p.sheet),
            column(PLACEMENT_COLUMNS[3], |p| &p.field),
            column(PLACEMENT_COLUMNS[4], |p| &p.column),
        ])
    }

    pub fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Placement>> {
        let [file, table, sheet, field, column] = PLACEMENT_COLUMNS.map(|name| text_column(df, name));
        let rows = file?.into_iter().zip(table?).zip(sheet?).zip(field?).zip(column?);
        Ok(rows
            .map(|((((file, table), sheet), field), column)| Placement { file, table, sheet, field, column })
            .collect())
    }
}
