//! The work directory: stage artifacts as Parquet, written whole or not at all.
//!
//! Layout under `--out`: `work/<period>/<stage>/…` (`2023-10`, `2025-Q3`) for each period
//! consolidated, and the workbooks themselves directly in `--out`. Every file is written
//! to a temporary name in its final folder and renamed into place, so a reader never sees
//! half a file.

pub mod lock;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use polars::prelude::*;

use std::collections::BTreeMap;

use crate::finding::{self, Finding};
use crate::ingest::{FileRecord, Placement};
use crate::merge::Expectation;
use crate::period::Period;

/// The artifact folder of one stage of one period.
#[derive(Debug, Clone)]
pub struct StageDir {
    pub path: PathBuf,
}

pub fn stage_dir(out: &Path, period: Period, stage: &str) -> StageDir {
    StageDir { path: out.join("work").join(period.to_string()).join(stage) }
}

impl StageDir {
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write_frame(&self, name: &str, df: &mut DataFrame) -> anyhow::Result<()> {
        write_frame_atomic(&self.file(&format!("{name}.parquet")), df)
    }

    pub fn read_frame(&self, name: &str) -> anyhow::Result<DataFrame> {
        let path = self.file(&format!("{name}.parquet"));
        let file = fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        ParquetReader::new(file).finish().map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
    }

    /// Indented, for the files a person opens (the manifest).
    pub fn write_json<T: serde::Serialize>(&self, name: &str, value: &T) -> anyhow::Result<()> {
        write_atomic(&self.file(name), &serde_json::to_vec_pretty(value)?)
    }

    /// On one line, for records only the next stage reads.
    pub fn write_json_compact<T: serde::Serialize>(&self, name: &str, value: &T) -> anyhow::Result<()> {
        write_atomic(&self.file(name), &serde_json::to_vec(value)?)
    }

    pub fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> anyhow::Result<T> {
        let path = self.file(name);
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("cannot parse {}", path.display()))
    }
}

/// A frame as Parquet at `path`, whole or not at all.
pub fn write_frame_atomic(path: &Path, df: &mut DataFrame) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(df).map_err(|e| anyhow::anyhow!("cannot encode {}: {e}", path.display()))?;
    write_atomic(path, &bytes)
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("an output path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().context("an output path has no name")?.to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        failpoint(path);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// A period's returns as one stage hands them to the next.
#[derive(Debug, Default)]
pub struct Batch {
    pub files: Vec<FileRecord>,
    /// Rows per return table (`return.table`).
    pub tables: BTreeMap<String, DataFrame>,
    pub placements: Vec<Placement>,
    pub findings: Vec<Finding>,
    /// Who was expected to report and what arrived; filled by merge.
    pub completeness: Vec<Expectation>,
}

impl Batch {
    pub fn save(&self, dir: &StageDir) -> anyhow::Result<()> {
        for (name, df) in &self.tables {
            dir.write_frame(&format!("table.{name}"), &mut df.clone())?;
        }
        dir.write_frame("findings", &mut finding::to_frame(&self.findings)?)?;
        dir.write_json_compact("files.json", &self.files)?;
        dir.write_frame("placements", &mut placements_frame(&self.placements)?)?;
        dir.write_json_compact("completeness.json", &self.completeness)
    }

    pub fn load(dir: &StageDir, table_names: &[String]) -> anyhow::Result<Batch> {
        let mut tables = BTreeMap::new();
        for name in table_names {
            tables.insert(name.clone(), dir.read_frame(&format!("table.{name}"))?);
        }
        Ok(Batch {
            files: dir.read_json("files.json")?,
            tables,
            placements: placements_of(&dir.read_frame("placements")?)?,
            findings: finding::from_frame(&dir.read_frame("findings")?)?,
            completeness: dir.read_json("completeness.json")?,
        })
    }
}

/// Remove the temporary files a killed run left behind (`.<name>.<pid>.tmp`). Call it
/// holding the work directory's lock, so no live writer owns them.
pub fn remove_leftovers(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            remove_leftovers(&entry.path())?;
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Crash tests set `TONGHOP_FAILPOINT` to a stage name: the process then kills itself
/// with SIGKILL in the middle of that stage (its second file, or the workbook, written
/// to its temporary name but not renamed), as a power cut or the OOM killer would.
fn failpoint(path: &Path) {
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let Ok(stage) = std::env::var("TONGHOP_FAILPOINT") else { return };
    let text = path.to_string_lossy();
    let in_stage = text.contains(&format!("/{stage}/"));
    let is_report = stage == "report" && text.ends_with(".xlsx");
    if (in_stage && WRITES.fetch_add(1, Ordering::SeqCst) >= 1) || is_report {
        let _ = std::process::Command::new("kill").args(["-9", &std::process::id().to_string()]).status();
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
}

const PLACEMENT_COLUMNS: [&str; 5] = ["file", "table", "sheet", "field", "column"];

/// Where each field was found, as a table: one row a file and field, 130,000 rows for ten
/// thousand returns, which Parquet stores in a fraction of JSON's bytes.
fn placements_frame(placements: &[Placement]) -> PolarsResult<DataFrame> {
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

fn placements_of(df: &DataFrame) -> anyhow::Result<Vec<Placement>> {
    let [file, table, sheet, field, column] = PLACEMENT_COLUMNS.map(|name| crate::validate::text_column(df, name));
    let rows = file?.into_iter().zip(table?).zip(sheet?).zip(field?).zip(column?);
    Ok(rows.map(|((((file, table), sheet), field), column)| Placement { file, table, sheet, field, column }).collect())
}
