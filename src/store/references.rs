//! The reference tables as they were last read, kept by a key over everything they were
//! read from (the definition, the registry, every reference file, the period, the tool):
//! a run whose inputs of that kind are unchanged does not open the board's workbooks
//! again. An entry is a folder named by its key, written under a temporary name and
//! renamed whole, so a half-written one is never seen; its files are checked against the
//! SHA-256 it records before any is used, and anything amiss means reading the tables
//! again, never a failed run.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::PathBuf;

use anyhow::Context as _;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{sha256, write_frame_atomic, WorkDir, ARTIFACTS_SCHEMA};
use crate::model::{Finding, Period, References};

/// `work/<pipeline>/<period>/references/`: one entry, the last.
pub(crate) struct ReferenceCache {
    dir: PathBuf,
    period: Period,
}

/// What an entry holds besides its frames.
#[derive(Serialize, Deserialize)]
struct Entry {
    /// Per table, whether it was read (an optional table may not have been).
    read: Vec<bool>,
    unknown: Vec<HashSet<String>>,
    missing_fields: Vec<HashSet<String>>,
    cutoff: Option<String>,
    /// Each frame file's SHA-256.
    files: BTreeMap<String, String>,
}

const ENTRY: &str = "entry.json";
const FINDINGS: &str = "findings.parquet";

impl WorkDir {
    pub(crate) fn references(&self, period: Period) -> ReferenceCache {
        ReferenceCache { dir: self.root.join(period.to_string()).join("references"), period }
    }
}

impl ReferenceCache {
    /// The key of the tables read under `definition` (its SHA-256) from `files` (each
    /// with its SHA-256: the registry and every reference file).
    pub(crate) fn key<'f>(&self, definition: &str, files: impl Iterator<Item = (&'f str, &'f str)>) -> String {
        let mut text = format!("{ARTIFACTS_SCHEMA}\n{}\n{}\n{definition}", env!("CARGO_PKG_VERSION"), self.period);
        for (file, hash) in files {
            text.push_str(&format!("\n{file}={hash}"));
        }
        sha256(text.as_bytes())
    }

    /// The tables kept under `key`, when they are there and as written.
    pub(crate) fn load(&self, key: &str) -> Option<References> {
        let dir = self.dir.join(key);
        let entry: Entry = serde_json::from_slice(&fs::read(dir.join(ENTRY)).ok()?).ok()?;
        let mut frames = BTreeMap::new();
        for (name, hash) in &entry.files {
            let bytes = fs::read(dir.join(name)).ok()?;
            if &sha256(&bytes) != hash {
                return None;
            }
            frames.insert(name.clone(), ParquetReader::new(std::io::Cursor::new(bytes)).finish().ok()?);
        }
        let mut tables = Vec::new();
        for (i, read) in entry.read.iter().enumerate() {
            tables.push(match read {
                true => frames.remove(&table_file(i))?,
                false => DataFrame::empty(),
            });
        }
        Some(References {
            tables,
            unknown: entry.unknown,
            missing_fields: entry.missing_fields,
            cutoff: match entry.cutoff {
                Some(period) => Some(period.parse().ok()?),
                None => None,
            },
            findings: Finding::from_frame(&frames.remove(FINDINGS)?).ok()?,
            last_year: None,
        })
    }

    /// Keep `refs` under `key`, in place of the entry before.
    pub(crate) fn save(&self, key: &str, refs: &References) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut files = BTreeMap::new();
        let mut write = |name: String, df: &DataFrame| -> anyhow::Result<()> {
            let path = tmp.join(&name);
            write_frame_atomic(&path, &mut df.clone())?;
            files.insert(name, sha256(&fs::read(&path)?));
            Ok(())
        };
        let mut read = Vec::new();
        for (i, table) in refs.tables.iter().enumerate() {
            read.push(table.width() > 0);
            if table.width() > 0 {
                write(table_file(i), table)?;
            }
        }
        write(FINDINGS.into(), &Finding::to_frame(&refs.findings)?)?;
        let entry = Entry {
            read,
            unknown: refs.unknown.clone(),
            missing_fields: refs.missing_fields.clone(),
            cutoff: refs.cutoff.map(|p| p.to_string()),
            files,
        };
        super::write_atomic(&tmp.join(ENTRY), &serde_json::to_vec(&entry)?)?;
        // The entry before, then this one in its place: the rename is whole or not at all.
        for old in fs::read_dir(&self.dir)?.flatten() {
            if old.path() != tmp {
                let _ = fs::remove_dir_all(old.path());
            }
        }
        fs::rename(&tmp, self.dir.join(key)).with_context(|| format!("cannot write {}", self.dir.display()))
    }
}

fn table_file(index: usize) -> String {
    format!("table.{index}.parquet")
}
