//! Stage 1, ingest: every workbook of a month's inbox to typed rows with their provenance.
//!
//! Each file is read on its own, in parallel, and isolated: a file that cannot be read, is
//! not a return, or lacks a required column becomes a finding, and the others go on. The
//! output holds, per return table, one row per data row of every recognised return (with
//! `_file`, `_sheet`, `_row`, `_unit`, `_period`), the files read, where each field was
//! found (for findings at later stages), and the findings of reading.

mod biff;
pub mod coerce;
pub mod locate;
pub mod workbook;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::definition::{Definition, ReturnSpec, Severity, TableSpec, ValueKind};
use crate::finding::{code, Finding};
use crate::period::{Month, Period, PeriodKind};
use crate::store::Batch;
use crate::text;
use coerce::{coerce, Value};
use locate::{locate, Located};
use workbook::{a1, column_letters, Caps, Cell, Grid};

/// One input file as read, and what became of it at each stage.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
    /// `accepted`, `rejected`, `superseded`, or `ignored` (not a return); set by validate and merge.
    pub status: String,
    pub rows_accepted: u32,
    pub rows_rejected: u32,
}

/// Where a field of a table was found in one file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub file: String,
    pub table: String,
    pub sheet: String,
    pub field: String,
    pub column: String,
}

thread_local! {
    /// Set while a reader works on one file: its panics become findings, not noise.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keep the default panic message for real bugs, but not for a reader's panic on one
/// file, which `ingest` turns into a finding for that file.
pub fn quiet_reader_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !READING.with(|r| r.get()) {
            default(info);
        }
    }));
}

/// The files of an inbox folder, sorted by name, hidden files left out.
pub fn inbox_files(inbox: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(inbox).with_context(|| format!("cannot list the inbox {}", inbox.display()))? {
        let path = entry?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
        if path.is_file() && !hidden {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Read every file of an inbox, in parallel; `tick` is called once per file read.
/// `hashes` holds the SHA-256 of files already hashed (by file name), so none is hashed twice.
pub fn ingest(
    def: &Definition,
    files: &[PathBuf],
    hashes: &BTreeMap<String, String>,
    caps: Caps,
    tick: &(dyn Fn() + Sync),
) -> anyhow::Result<Batch> {
    let results: Vec<FileRead> = files
        .par_iter()
        .map(|path| {
            let read = read_file_isolated(def, path, hashes, caps);
            tracing::debug!(file = %read.record.file, r#return = %read.record.return_id, unit = %read.record.unit, rows = read.record.rows_read, findings = read.findings.len(), "read");
            tick();
            read
        })
        .collect();
    let mut out = Batch::default();
    let mut rows: BTreeMap<String, Vec<TableRows>> = BTreeMap::new();
    for mut result in results {
        // Provisional until validate judges the file: what reading alone could tell.
        let record = &mut result.record;
        record.status = if record.return_id.is_empty() { "ignored" } else { "accepted" }.into();
        record.rows_rejected = record.rows_refused;
        record.rows_accepted = record.rows_read - record.rows_refused;
        out.files.push(result.record);
        out.findings.extend(result.findings);
        out.placements.extend(result.placements);
        for table in result.tables {
            rows.entry(table.table.clone()).or_default().push(table);
        }
    }
    for ret in &def.returns {
        for table in &ret.tables {
            let name = format!("{}.{}", ret.id, table.id);
            let parts = rows.remove(&name).unwrap_or_default();
            out.tables.insert(name, to_frame(table, &parts)?);
        }
    }
    Ok(out)
}

/// The rows read from one table of one file.
struct TableRows {
    table: String,
    file: String,
    sheet: String,
    unit: String,
    period: String,
    rows: Vec<(u32, Vec<Value>)>,
}

struct FileRead {
    record: FileRecord,
    tables: Vec<TableRows>,
    placements: Vec<Placement>,
    findings: Vec<Finding>,
}

fn read_file_isolated(def: &Definition, path: &Path, hashes: &BTreeMap<String, String>, caps: Caps) -> FileRead {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = std::fs::read(path);
    let sha256 = hashes.get(&name).cloned().unwrap_or_default();
    let mut record = FileRecord { file: name.clone(), sha256, ..FileRecord::default() };
    if let Ok(meta) = std::fs::metadata(path) {
        record.size = meta.len();
        record.modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
    }
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return unreadable(def, record, e.to_string()),
    };
    read_bytes_isolated(def, &bytes, caps, record)
}

/// A file that yields nothing but the finding saying why.
fn unreadable(def: &Definition, record: FileRecord, reason: String) -> FileRead {
    FileRead {
        findings: vec![Finding::builder(
            def,
            code::FILE_UNREADABLE,
            Severity::Error,
            "The file {file} cannot be read: {value}",
        )
        .file(&record.file)
        .value(reason)
        .build()],
        record,
        tables: vec![],
        placements: vec![],
    }
}

/// One file's bytes as a return, a panic inside a reader turned into a finding.
fn read_bytes_isolated(def: &Definition, bytes: &[u8], caps: Caps, mut record: FileRecord) -> FileRead {
    let name = record.file.clone();
    if record.sha256.is_empty() {
        record.sha256 = hex(&Sha256::digest(bytes));
    }
    if name.starts_with("~$") {
        return FileRead {
            findings: vec![Finding::builder(
                def,
                code::FILE_LOCK,
                Severity::Info,
                "{file} is a temporary lock file left by Excel; it is ignored",
            )
            .file(&name)
            .build()],
            record,
            tables: vec![],
            placements: vec![],
        };
    }
    READING.with(|r| r.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| read_return(def, bytes, caps, record.clone())));
    READING.with(|r| r.set(false));
    match outcome {
        Ok(Ok(read)) => read,
        Ok(Err(reason)) => {
            let (key, default) = reason.key();
            let text = def.message(key, default).replace("{detail}", &reason.detail());
            unreadable(def, record, text)
        }
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let text =
                def.message("reason-panic", "the reader failed on this file ({detail})").replace("{detail}", &why);
            unreadable(def, record, text)
        }
    }
}

/// One file's bytes as ingest reads them, isolated: the fuzz target's entry. Returns the
/// record and the findings.
pub fn read_isolated(def: &Definition, name: &str, bytes: &[u8], caps: Caps) -> (FileRecord, Vec<Finding>) {
    let read = read_bytes_isolated(def, bytes, caps, FileRecord { file: name.to_string(), ..FileRecord::default() });
    (read.record, read.findings)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A table of a return found on a sheet.
struct Found<'a> {
    spec: &'a TableSpec,
    grid: &'a Grid,
    at: Located,
}

fn read_return(
    def: &Definition,
    bytes: &[u8],
    caps: Caps,
    mut record: FileRecord,
) -> Result<FileRead, workbook::Unreadable> {
    let grids = workbook::read(bytes, caps)?;
    let visible: Vec<&Grid> = grids.iter().filter(|g| !g.hidden).collect();
    let file = record.file.clone();
    let mut findings = Vec::new();

    let Some((ret, found)) = recognise(def, &visible) else {
        findings.push(
            Finding::builder(
                def,
                code::NOT_A_RETURN,
                Severity::Error,
                "{file} is not one of the returns of this pipeline (no known table header found)",
            )
            .file(&file)
            .build(),
        );
        return Ok(FileRead { record, tables: vec![], placements: vec![], findings });
    };
    record.return_id = ret.id.clone();

    // The title block of the first table's sheet says who sent the return and for when.
    let first = &found[0];
    let header = &ret.header;
    record.title_sheet = first.grid.name.clone();
    if let Some((cell, r, c)) = locate::labelled_value(first.grid, &header.unit.label, first.at.header_row) {
        record.unit = text::clean(&cell.text());
        record.unit_cell = a1(r, c);
    }
    if record.unit.is_empty() {
        record.title_lines = locate::title_texts(first.grid, first.at.header_row);
    }
    if let Some((cell, r, c)) = locate::labelled_value(first.grid, &header.period.label, first.at.header_row) {
        record.period_cell = a1(r, c);
        // A date stands for the period it falls in (a quarter's return dated 30/09/2025).
        let kind = def.pipeline.period;
        let period = match &cell {
            Cell::Date(d) => {
                Month::new(chrono::Datelike::year(d), chrono::Datelike::month(d)).map(|m| Period::containing(m, kind))
            }
            other => Period::parse_loose(&other.text(), kind, &def.pipeline.quarter_words),
        };
        match period {
            Some(p) => record.period = p.to_string(),
            None => findings.push(
                Finding::builder(
                    def,
                    code::PERIOD_MISSING,
                    Severity::Error,
                    "{file}: the period `{value}` at {sheet}!{cell} is not one this pipeline reads",
                )
                .file(&file)
                .at(&first.grid.name, &a1(r, c))
                .value(cell.text())
                .expected(match kind {
                    PeriodKind::Month => def.message("expect-month", "mm/yyyy"),
                    PeriodKind::Quarter => def.message("expect-quarter", "Qn/yyyy"),
                })
                .build(),
            ),
        }
    }
    if let Some(marker) = &header.date_marker {
        record.dated = date_line(first.grid, first.at.header_row, marker).unwrap_or_default();
    }

    let mut tables = Vec::new();
    let mut placements = Vec::new();
    for table in &ret.tables {
        let name = format!("{}.{}", ret.id, table.id);
        let Some(f) = found.iter().find(|f| std::ptr::eq(f.spec, table)) else {
            findings.push(
                Finding::builder(
                    def,
                    code::TABLE_MISSING,
                    Severity::Error,
                    "{file}: the table `{value}` was not found in any sheet",
                )
                .file(&file)
                .value(name.clone())
                .build(),
            );
            continue;
        };
        let missing = f.at.missing_required(table);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|c| c.header.display()).collect();
            findings.push(
                Finding::builder(
                    def,
                    code::COLUMN_MISSING,
                    Severity::Error,
                    "{file}: required column(s) {value} missing in sheet {sheet}",
                )
                .file(&file)
                .at(&f.grid.name, &a1(f.at.header_row, 0))
                .value(names.join("; "))
                .build(),
            );
            continue;
        }
        for (column, at) in table.columns.iter().zip(&f.at.columns) {
            if let (Some(col), false) = (at, column.ignore) {
                placements.push(Placement {
                    file: file.clone(),
                    table: name.clone(),
                    sheet: f.grid.name.clone(),
                    field: column.field.get_ref().clone(),
                    column: column_letters(*col),
                });
            }
        }
        let rows = read_rows(def, &file, &name, f, &mut findings, &mut record);
        tables.push(TableRows {
            table: name,
            file: file.clone(),
            sheet: f.grid.name.clone(),
            unit: record.unit.clone(),
            period: record.period.clone(),
            rows,
        });
    }
    Ok(FileRead { record, tables, placements, findings })
}

/// The return type whose tables the sheets hold: the one with the most tables found.
fn recognise<'a>(def: &'a Definition, sheets: &[&'a Grid]) -> Option<(&'a ReturnSpec, Vec<Found<'a>>)> {
    let deepest = def.returns.iter().flat_map(|r| &r.tables).map(|t| t.header_rows).max().unwrap_or(1);
    let tops: Vec<locate::FoldedTop> = sheets.iter().map(|g| locate::FoldedTop::of(g, deepest)).collect();
    let mut best: Option<(&ReturnSpec, Vec<Found>)> = None;
    for ret in &def.returns {
        let mut found = Vec::new();
        for table in &ret.tables {
            let hit = sheets
                .iter()
                .zip(&tops)
                .filter_map(|(g, top)| locate(g, top, table).map(|at| Found { spec: table, grid: g, at }))
                .max_by_key(|f| f.at.matched);
            found.extend(hit);
        }
        if !found.is_empty() && best.as_ref().is_none_or(|(_, b)| found.len() > b.len()) {
            best = Some((ret, found));
        }
    }
    best
}

/// The date of the place/date line: the three numbers after `marker` (day, month, year).
fn date_line(grid: &Grid, before_row: usize, marker: &str) -> Option<String> {
    let marker = text::fold(marker);
    locate::title_texts(grid, before_row).iter().find_map(|t| {
        let folded = text::fold(t);
        let (_, rest) = folded.split_once(&marker)?;
        let numbers: Vec<u32> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let [d, m, y] = numbers.get(..3)? else { return None };
        chrono::NaiveDate::from_ymd_opt(*y as i32, *m, *d).map(|d| d.format("%Y-%m-%d").to_string())
    })
}

fn read_rows(
    def: &Definition,
    file: &str,
    table_name: &str,
    found: &Found,
    findings: &mut Vec<Finding>,
    record: &mut FileRecord,
) -> Vec<(u32, Vec<Value>)> {
    let spec = found.spec;
    let grid = found.grid;
    let stops: Vec<String> = spec.stop_at.iter().map(|s| text::fold(s)).collect();
    let total = spec.total_row.as_ref().map(|t| (text::fold(&t.label), t));
    let mapped: Vec<(usize, usize)> = found
        .at
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.filter(|_| !spec.columns[i].ignore).map(|col| (i, col)))
        .collect();
    let first_col = found.at.columns.iter().flatten().min().copied().unwrap_or(0);
    let mut rows = Vec::new();
    let mut sums: Vec<i64> = vec![0; spec.columns.len()];
    for r in found.at.data_row..grid.rows.len() {
        let row_blank = grid.rows[r].iter().all(Cell::is_empty);
        if row_blank {
            continue;
        }
        let lead: Vec<String> = (first_col..first_col + 3).map(|c| text::fold(&grid.get(r, c).text())).collect();
        if lead.iter().any(|t| stops.iter().any(|s| !s.is_empty() && t.starts_with(s.as_str()))) {
            break;
        }
        if let Some((label, _)) = &total {
            if lead.iter().any(|t| t.starts_with(label.as_str())) {
                check_total(def, file, table_name, found, r, &sums, findings);
                break;
            }
        }
        if mapped.iter().all(|&(_, col)| grid.get(r, col).is_empty()) {
            continue;
        }
        record.rows_read += 1;
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
                    findings.push(
                        Finding::builder(
                            def,
                            refusal.code,
                            Severity::Error,
                            "{sheet}!{cell}: `{value}` in column {column}, expected {expected}",
                        )
                        .file(file)
                        .at(&grid.name, &a1(r, col))
                        .row(table_name, r as u32 + 1)
                        .value(cell.text())
                        .expected(def.message(key, default))
                        .var("column", column.header.display())
                        .build(),
                    );
                }
            }
        }
        if refused {
            record.rows_refused += 1;
        } else {
            rows.push((r as u32 + 1, values));
        }
    }
    rows
}

/// Compare a total row with the sum of the rows read, where the total row has values.
fn check_total(
    def: &Definition,
    file: &str,
    table_name: &str,
    found: &Found,
    r: usize,
    sums: &[i64],
    findings: &mut Vec<Finding>,
) {
    for (i, column) in found.spec.columns.iter().enumerate() {
        let Some(col) = found.at.columns[i] else { continue };
        if column.ignore || !matches!(column.kind, ValueKind::Count | ValueKind::Integer) {
            continue;
        }
        let cell = found.grid.get(r, col);
        if cell.is_empty() {
            continue;
        }
        let stated = match coerce(cell, column) {
            Ok(Value::Int(n)) => n,
            _ => continue,
        };
        if stated != sums[i] {
            findings.push(
                Finding::builder(
                    def,
                    code::TOTAL_MISMATCH,
                    Severity::Warning,
                    "{sheet}!{cell}: the total row says {value} for {column}, the rows add up to {expected}",
                )
                .file(file)
                .at(&found.grid.name, &a1(r, col))
                .row(table_name, 0)
                .value(stated.to_string())
                .expected(sums[i].to_string())
                .var("column", column.header.display())
                .build(),
            );
        }
    }
}

/// The rows of one table from every file, as a frame with provenance columns first.
fn to_frame(spec: &TableSpec, parts: &[TableRows]) -> PolarsResult<DataFrame> {
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
        let name: PlSmallStr = column.field.get_ref().as_str().into();
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

/// Read a reference workbook's table (targets, opening balances) with the same machinery
/// as returns: the first sheet where the table is found. Returns the rows, the value of
/// the cut-off label if asked, and the findings.
pub fn read_reference(
    def: &Definition,
    path: &Path,
    spec: &TableSpec,
    cutoff_label: Option<&str>,
) -> anyhow::Result<(DataFrame, Option<Cell>, Vec<Finding>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The board's own tables are read under the engine's default caps: `[limits]` guards
    // against what the inbox brings, and a tight one must not refuse the board's targets.
    let grids = catch_unwind(AssertUnwindSafe(|| workbook::read(&bytes, workbook::Caps::default())))
        .map_err(|_| anyhow::anyhow!("the reader failed on {}", path.display()))?
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let found = grids
        .iter()
        .filter(|g| !g.hidden)
        .find_map(|g| {
            locate(g, &locate::FoldedTop::of(g, spec.header_rows), spec).map(|at| Found { spec, grid: g, at })
        })
        .ok_or_else(|| anyhow::anyhow!("{}: no sheet holds the table the definition describes", path.display()))?;
    let missing = found.at.missing_required(spec);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| c.header.display()).collect();
        anyhow::bail!("{}: required column(s) missing: {}", path.display(), names.join("; "));
    }
    let cutoff = cutoff_label.and_then(|l| locate::labelled_value(found.grid, l, found.at.header_row)).map(|v| v.0);
    let mut findings = Vec::new();
    let mut record = FileRecord::default();
    let rows = read_rows(def, &file, "", &found, &mut findings, &mut record);
    let parts = [TableRows {
        table: String::new(),
        file,
        sheet: found.grid.name.clone(),
        unit: String::new(),
        period: String::new(),
        rows,
    }];
    Ok((to_frame(spec, &parts)?, cutoff, findings))
}
