//! Stage 1, ingest: every workbook of a month's inbox to typed rows with their provenance.
//!
//! Each file is read on its own, in parallel, and isolated: a file that cannot be read, is
//! not a return, or lacks a required column becomes a finding, and the others go on. The
//! output holds, per return table, one row per data row of every recognised return (with
//! `_file`, `_sheet`, `_row`, `_unit`, `_period`), the files read, where each field was
//! found (for findings at later stages), and the findings of reading.

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::definition::{Plan, Return};
use crate::model::{Batch, FileRecord, FileStatus, Finding, FindingCode, Placement, Severity, TitleLine};
use crate::period::{Month, Period, PeriodKind};
use crate::text;
use crate::workbook::locate::{self, locate, FoldedTop};
use crate::workbook::table::{to_frame, FileRows, Found};
use crate::workbook::{self, a1, column_letters, Caps, Cell, Grid};

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

/// A file of an inbox folder.
#[derive(Debug, Clone)]
pub(crate) struct InboxFile {
    pub(crate) path: PathBuf,
    /// The path under the inbox folder, `/`-separated (`gui lai/BC T10.xlsx`); a name that
    /// is not UTF-8 is shown with its bad bytes replaced.
    pub(crate) name: String,
}

/// How deep folders in an inbox folder are followed.
const INBOX_DEPTH: usize = 8;

/// Every file under an inbox folder, in its subfolders too, whatever its name, sorted:
/// each one is read, or listed with the reason it is not.
pub(crate) fn inbox_files(inbox: &Path) -> anyhow::Result<Vec<InboxFile>> {
    let mut files = Vec::new();
    collect(inbox, "", 0, &mut files)?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn collect(dir: &Path, prefix: &str, depth: usize, files: &mut Vec<InboxFile>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot list the inbox {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list the inbox {}", dir.display()))?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        // The listing says what an entry is without a call per file; a link is followed.
        let is_dir = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => kind.is_dir(),
            _ => path.is_dir(),
        };
        if is_dir && depth < INBOX_DEPTH {
            collect(&path, &format!("{name}/"), depth + 1, files)?;
        } else if !is_dir {
            files.push(InboxFile { path, name });
        }
    }
    Ok(())
}

/// Read every file of an inbox, in parallel; `tick` is called once per file read.
/// `hashes` holds the SHA-256 of files already hashed (by file name), so none is hashed twice.
pub(crate) fn ingest(
    plan: &Plan,
    files: &[InboxFile],
    hashes: &BTreeMap<String, String>,
    tick: &(dyn Fn() + Sync),
) -> anyhow::Result<Batch> {
    let caps = Caps::from(&plan.limits);
    let results: Vec<FileRead> = files
        .par_iter()
        .map(|path| {
            let read = read_file_isolated(plan, path, hashes, caps);
            tracing::debug!(file = %read.record.file, r#return = %read.record.return_id, unit = %read.record.unit, rows = read.record.rows_read, findings = read.findings.len(), "read");
            tick();
            read
        })
        .collect();
    assemble(plan, results)
}

/// Read the files of an inbox that `previous` (the period's last ingest, under the same
/// definition and tool version) does not hold as they are now, by name and SHA-256; the
/// others keep what was read of them then. Gives what reading every file gives, and how
/// many files were read.
pub(crate) fn ingest_reusing(
    plan: &Plan,
    files: &[InboxFile],
    hashes: &BTreeMap<String, String>,
    previous: Option<Batch>,
    tick: &(dyn Fn() + Sync),
) -> anyhow::Result<(Batch, usize)> {
    let Some(previous) = previous else { return Ok((ingest(plan, files, hashes, tick)?, files.len())) };
    let unchanged: HashSet<String> =
        previous.files.iter().filter(|r| hashes.get(&r.file) == Some(&r.sha256)).map(|r| r.file.clone()).collect();
    let changed: Vec<InboxFile> = files.iter().filter(|f| !unchanged.contains(&f.name)).cloned().collect();
    let read = ingest(plan, &changed, hashes, tick)?;
    Ok((previous.of_files(&unchanged)?.join(read)?, changed.len()))
}

/// Workbooks held in memory, by file name, read as `ingest` reads an inbox.
#[cfg(test)]
pub(crate) fn ingest_bytes(plan: &Plan, files: &[(&str, Vec<u8>)]) -> anyhow::Result<Batch> {
    let caps = Caps::from(&plan.limits);
    let results = files
        .iter()
        .map(|(name, bytes)| {
            read_bytes_isolated(plan, bytes, caps, FileRecord { file: name.to_string(), ..FileRecord::default() })
        })
        .collect();
    assemble(plan, results)
}

/// The files read, as one batch: their records, findings and placements, and each
/// table's rows from every file.
fn assemble(plan: &Plan, results: Vec<FileRead>) -> anyhow::Result<Batch> {
    let mut out = Batch::default();
    let mut rows: BTreeMap<String, Vec<FileRows>> = BTreeMap::new();
    let mut placements = Vec::new();
    for mut result in results {
        // Provisional until validate judges the file: what reading alone could tell.
        let record = &mut result.record;
        record.status = if record.is_return() { FileStatus::Accepted } else { FileStatus::Ignored };
        record.rows_rejected = record.rows_refused;
        record.rows_accepted = record.rows_read - record.rows_refused;
        out.files.push(result.record);
        out.findings.extend(result.findings);
        placements.extend(result.placements);
        for (table, part) in result.tables {
            rows.entry(table).or_default().push(part);
        }
    }
    for table in &plan.tables {
        let parts = rows.remove(&table.name).unwrap_or_default();
        out.tables.insert(table.name.clone(), to_frame(table, &parts)?);
    }
    out.placements = Placement::to_frame(&placements)?;
    out.titles = TitleLine::to_frame(&out.files)?;
    for file in &mut out.files {
        file.title = Vec::new();
    }
    Ok(out)
}

struct FileRead {
    record: FileRecord,
    /// Rows per table, by the table's name.
    tables: Vec<(String, FileRows)>,
    placements: Vec<Placement>,
    findings: Vec<Finding>,
}

impl FileRead {
    /// A file that yields nothing but its findings.
    fn nothing(record: FileRecord, finding: Finding) -> FileRead {
        FileRead { record, tables: vec![], placements: vec![], findings: vec![finding] }
    }
}

fn read_file_isolated(plan: &Plan, file: &InboxFile, hashes: &BTreeMap<String, String>, caps: Caps) -> FileRead {
    let (path, name) = (&file.path, file.name.clone());
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
    match bytes {
        Ok(bytes) => read_bytes_isolated(plan, &bytes, caps, record),
        Err(e) => unreadable(plan, record, e.to_string()),
    }
}

/// A file that cannot be read, and why.
fn unreadable(plan: &Plan, record: FileRecord, reason: String) -> FileRead {
    let finding = Finding::builder(plan, FindingCode::FileUnreadable, Severity::Error).file(&record.file).value(reason);
    FileRead::nothing(record, finding.build())
}

/// One file's bytes as a return, a panic inside a reader turned into a finding.
fn read_bytes_isolated(plan: &Plan, bytes: &[u8], caps: Caps, mut record: FileRecord) -> FileRead {
    if record.sha256.is_empty() {
        record.sha256 = hex(&Sha256::digest(bytes));
    }
    let base = record.file.rsplit('/').next().unwrap_or_default();
    if base.starts_with("~$") || (base.starts_with(".~lock.") && base.ends_with('#')) {
        let finding = Finding::builder(plan, FindingCode::FileLock, Severity::Info).file(&record.file);
        return FileRead::nothing(record, finding.build());
    }
    if base.starts_with('.') || ["thumbs.db", "desktop.ini"].contains(&base.to_lowercase().as_str()) {
        let finding = Finding::builder(plan, FindingCode::FileHidden, Severity::Info).file(&record.file);
        return FileRead::nothing(record, finding.build());
    }
    READING.with(|r| r.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| read_return(plan, bytes, caps, record.clone())));
    READING.with(|r| r.set(false));
    match outcome {
        Ok(Ok(read)) => read,
        Ok(Err(reason)) => {
            let (key, default) = reason.key();
            let text = plan.message(key, default).replace("{detail}", &reason.detail());
            unreadable(plan, record, text)
        }
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let text =
                plan.message("reason-panic", "the reader failed on this file ({detail})").replace("{detail}", &why);
            unreadable(plan, record, text)
        }
    }
}

/// One file's bytes as ingest reads them, isolated: the fuzz target's entry, which only
/// asks that it returns. Returns how many findings the file gave.
pub fn read_isolated(plan: &Plan, name: &str, bytes: &[u8], caps: Caps) -> usize {
    read_bytes_isolated(plan, bytes, caps, FileRecord { file: name.to_string(), ..FileRecord::default() })
        .findings
        .len()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_return(
    plan: &Plan,
    bytes: &[u8],
    caps: Caps,
    mut record: FileRecord,
) -> Result<FileRead, workbook::Unreadable> {
    let grids = workbook::read(bytes, caps)?;
    let visible: Vec<&Grid> = grids.iter().filter(|g| !g.hidden).collect();
    let Some((ret, found)) = recognise(plan, &visible) else {
        let finding = Finding::builder(plan, FindingCode::NotAReturn, Severity::Error).file(&record.file);
        return Ok(FileRead::nothing(record, finding.build()));
    };
    record.return_id = ret.id.clone();
    let mut findings = Vec::new();
    // The title block of the first table's sheet says who sent the return and for when.
    findings.extend(read_title_block(plan, ret, &found[0], &mut record));

    let file = record.file.clone();
    let mut tables = Vec::new();
    let mut placements = Vec::new();
    for &id in &ret.tables {
        let table = plan.table(id);
        let Some(f) = found.iter().find(|f| std::ptr::eq(f.spec, table)) else {
            findings.push(
                Finding::builder(plan, FindingCode::TableMissing, Severity::Error)
                    .file(&file)
                    .value(&table.name)
                    .build(),
            );
            continue;
        };
        if let Some(finding) = twice(plan, &file, f) {
            findings.push(finding);
            continue;
        }
        let missing = f.at.missing_required(table);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|c| c.header.display()).collect();
            findings.push(
                Finding::builder(plan, FindingCode::ColumnMissing, Severity::Error)
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
                    table: table.name.clone(),
                    sheet: f.grid.name.clone(),
                    field: column.field.clone(),
                    column: column_letters(*col),
                });
            }
        }
        let rows = f.read_rows(plan, &file);
        record.rows_read += rows.read;
        record.rows_refused += rows.refused;
        findings.extend(rows.findings);
        let part = FileRows {
            file: file.clone(),
            sheet: f.grid.name.clone(),
            unit: record.unit.clone(),
            period: record.period.clone(),
            rows: rows.rows,
        };
        tables.push((table.name.clone(), part));
    }
    Ok(FileRead { record, tables, placements, findings })
}

/// A table the file holds twice, on two sheets or with a column twice: an error naming
/// both, since which one holds the figures only the unit can say.
fn twice(plan: &Plan, file: &str, f: &Found) -> Option<Finding> {
    if let Some(other) = f.also.first() {
        let finding = Finding::builder(plan, FindingCode::TableTwice, Severity::Error).file(file);
        let finding = finding.at(&f.grid.name, &a1(f.at.header_row, 0)).value(&f.spec.name).expected(other);
        return Some(finding.build());
    }
    let &(i, first, second) = f.at.twice.first()?;
    let finding = Finding::builder(plan, FindingCode::ColumnTwice, Severity::Error).file(file);
    let finding = finding.at(&f.grid.name, &a1(f.at.header_row, second)).value(f.spec.columns[i].header.display());
    Some(finding.expected(column_letters(first)).var("column", column_letters(second)).build())
}

/// The unit code, the period and the date line of a return's title block, into `record`;
/// a period that cannot be read is a finding.
fn read_title_block(plan: &Plan, ret: &Return, first: &Found, record: &mut FileRecord) -> Option<Finding> {
    record.title_sheet = first.grid.name.clone();
    let labels = &plan.labels;
    if let Some((cell, r, c)) = locate::labelled_value(first.grid, &ret.unit_label, first.at.header_row, labels) {
        record.unit = text::clean(&cell.text());
        record.unit_cell = a1(r, c);
    }
    record.title = locate::title_texts(first.grid, first.at.header_row)
        .into_iter()
        .map(|(cell, text)| TitleLine { cell, text })
        .collect();
    if let Some((date, cell)) = ret.date_marker.as_ref().and_then(|m| date_line(&record.title, m)) {
        (record.dated, record.dated_cell) = (date, cell);
    }
    let (cell, r, c) = locate::labelled_value(first.grid, &ret.period_label, first.at.header_row, labels)?;
    record.period_cell = a1(r, c);
    // A date stands for the period it falls in (a quarter's return dated 30/09/2025).
    let kind = plan.pipeline.period;
    let period = match &cell {
        Cell::Date(d) => {
            Month::new(chrono::Datelike::year(d), chrono::Datelike::month(d)).map(|m| Period::containing(m, kind))
        }
        other => Period::parse_loose(&other.text(), kind, &plan.pipeline.quarter_words),
    };
    if let Some(p) = period {
        record.period = p.to_string();
        return None;
    }
    let expected = match kind {
        PeriodKind::Month => plan.message("expect-month", "mm/yyyy"),
        PeriodKind::Quarter => plan.message("expect-quarter", "Qn/yyyy"),
    };
    Some(
        Finding::builder(plan, FindingCode::PeriodMissing, Severity::Error)
            .file(&record.file)
            .at(&first.grid.name, &a1(r, c))
            .value(cell.text())
            .expected(expected)
            .build(),
    )
}

/// The return type whose tables the sheets hold: the one with the most tables found.
fn recognise<'a>(plan: &'a Plan, sheets: &[&'a Grid]) -> Option<(&'a Return, Vec<Found<'a>>)> {
    let deepest = plan.tables.iter().map(|t| t.header_rows).max().unwrap_or(1);
    let tops: Vec<FoldedTop> = sheets.iter().map(|g| FoldedTop::of(g, deepest)).collect();
    let mut best: Option<(&Return, Vec<Found>)> = None;
    for ret in &plan.returns {
        let mut found = Vec::new();
        for &id in &ret.tables {
            let table = plan.table(id);
            let mut hits: Vec<Found> = sheets
                .iter()
                .zip(&tops)
                .filter_map(|(g, top)| locate(g, top, table).map(|at| Found { spec: table, grid: g, at, also: vec![] }))
                .collect();
            // The best match, naming the other sheets that hold the table too.
            hits.sort_by_key(|f| std::cmp::Reverse(f.at.matched));
            let others: Vec<String> = hits.iter().skip(1).map(|f| f.grid.name.clone()).collect();
            found.extend(hits.into_iter().next().map(|f| Found { also: others, ..f }));
        }
        if !found.is_empty() && best.as_ref().is_none_or(|(_, b)| found.len() > b.len()) {
            best = Some((ret, found));
        }
    }
    best
}

/// The date of the place/date line (the three numbers after `marker`: day, month, year),
/// ISO, and its cell.
fn date_line(title: &[TitleLine], marker: &str) -> Option<(String, String)> {
    let marker = text::fold(marker);
    title.iter().find_map(|TitleLine { cell, text: t }| {
        let folded = text::fold(t);
        let (_, rest) = folded.split_once(&marker)?;
        let numbers: Vec<u32> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let [d, m, y] = numbers.get(..3)? else { return None };
        let date = chrono::NaiveDate::from_ymd_opt(*y as i32, *m, *d)?;
        Some((date.format("%Y-%m-%d").to_string(), cell.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_inbox_lists_files_in_folders_and_follows_a_linked_folder() {
        let inbox = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(inbox.path().join("a.xlsx"), b"a").unwrap();
        std::fs::create_dir(inbox.path().join("Huyện Bình Lục")).unwrap();
        std::fs::write(inbox.path().join("Huyện Bình Lục/b.xlsx"), b"b").unwrap();
        std::fs::write(elsewhere.path().join("c.xlsx"), b"c").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), inbox.path().join("Lý Nhân")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("c.xlsx"), inbox.path().join("d.xlsx")).unwrap();
        let names: Vec<String> = inbox_files(inbox.path()).unwrap().into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["Huyện Bình Lục/b.xlsx", "Lý Nhân/c.xlsx", "a.xlsx", "d.xlsx"]);
    }
}
