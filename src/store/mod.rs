//! The work directory: stage artifacts, their manifests, and the lock.
//!
//! Layout under `--out`: `work/<pipeline>/<period>/<stage>/…` (`2023-10`, `2025-Q3`) for
//! each period consolidated, and the workbooks themselves directly in `--out`. Every file is written
//! to a temporary name in its final folder and renamed into place, so a reader never sees
//! half a file. A stage's manifest holds a key over everything it read; the stage is fresh
//! while the key of its inputs now is the same. The store knows the stages' contract (the
//! model) and nothing of what they do.

mod lock;
mod references;
mod saver;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use lock::Locked;
pub(crate) use lock::{LockError, WorkLock};
pub(crate) use saver::{Save, Saver};

use crate::model::{Batch, Finding, Period, PeriodKind, Placement, Stage, TableSchemas};

/// The work directory of one pipeline, `OUT/work/<pipeline>`: pipelines share an out
/// directory without touching each other's artifacts.
#[derive(Debug, Clone)]
pub(crate) struct WorkDir {
    out: PathBuf,
    root: PathBuf,
    pipeline: String,
}

impl WorkDir {
    pub(crate) fn new(out: &Path, pipeline: &str) -> WorkDir {
        WorkDir { out: out.to_path_buf(), root: out.join("work").join(pipeline), pipeline: pipeline.to_string() }
    }

    /// `OUT/work` when it holds periods directly, as tonghop before 0.2 laid it out.
    pub(crate) fn old_layout(&self) -> Option<PathBuf> {
        let work = self.out.join("work");
        let entries = fs::read_dir(&work).ok()?;
        let old =
            entries.filter_map(|e| e.ok()).any(|e| e.file_name().to_str().is_some_and(|n| n.parse::<Period>().is_ok()));
        old.then_some(work)
    }

    /// The artifact folder of one stage of one period.
    pub(crate) fn stage(&self, period: Period, stage: Stage) -> StageDir {
        StageDir {
            path: self.root.join(period.to_string()).join(stage.name()),
            pipeline: self.pipeline.clone(),
            period,
        }
    }

    /// Take the work directory's lock, or say who holds it.
    pub(crate) fn lock(&self) -> Result<WorkLock, LockError> {
        lock::acquire(&self.root)
    }

    /// The periods of `kind` with a folder in the work directory, oldest first.
    pub(crate) fn periods(&self, kind: PeriodKind) -> Vec<Period> {
        periods_in(&self.root, kind).unwrap_or_default()
    }

    /// Remove the temporary files a killed run left behind (`.<name>.<pid>.tmp`), in the
    /// work directory and beside the workbooks. Call it holding the lock, so no live
    /// writer owns them.
    pub(crate) fn remove_leftovers(&self) -> anyhow::Result<()> {
        remove_leftovers(&self.out)
    }
}

/// The names of `dir`'s entries that are periods of `kind`, oldest first.
pub(crate) fn periods_in(dir: &Path, kind: PeriodKind) -> std::io::Result<Vec<Period>> {
    let mut periods: Vec<Period> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<Period>().ok()))
        .filter(|p| p.kind == kind)
        .collect();
    periods.sort();
    Ok(periods)
}

/// The layout of the artifacts (their files, columns and types, docs/data.md): part of
/// every stage's key, so artifacts of another layout are made again, never misread.
pub(crate) const ARTIFACTS_SCHEMA: &str = "tonghop.artifacts/3";

/// What a stage read, and one key over it: the stage is fresh while the key is unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// `ARTIFACTS_SCHEMA` when the stage wrote its artifacts.
    #[serde(default)]
    pub(crate) schema: String,
    pub(crate) stage: Stage,
    pub(crate) tool_version: String,
    /// SHA-256 of the definition file.
    pub(crate) definition: String,
    /// What the stage read: file names or earlier stages, with their SHA-256 or key.
    pub(crate) inputs: BTreeMap<String, String>,
    /// One hash over all of the above and the period.
    pub(crate) key: String,
    /// What the stage wrote, each file with its SHA-256: artifacts changed since (a disk
    /// error, a hand edit) are not used.
    #[serde(default)]
    pub(crate) artifacts: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest a stage of `period` would write after reading `inputs` under the
    /// definition whose SHA-256 is `definition`, with this version of the tool.
    pub(crate) fn new(stage: Stage, period: Period, definition: &str, inputs: BTreeMap<String, String>) -> Manifest {
        let version = env!("CARGO_PKG_VERSION");
        let mut h = Sha256::new();
        for part in [ARTIFACTS_SCHEMA, version, stage.name(), &period.to_string(), definition] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for (name, hash) in &inputs {
            h.update(format!("{name}={hash}").as_bytes());
            h.update([0]);
        }
        Manifest {
            schema: ARTIFACTS_SCHEMA.into(),
            stage,
            tool_version: version.into(),
            definition: definition.into(),
            inputs,
            key: hex(&h.finalize()),
            artifacts: BTreeMap::new(),
        }
    }
}

/// Whether a stage's artifacts can be used as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Sealed under the same key, and as written.
    Fresh,
    /// Sealed under another key: an input, the definition or the tool changed.
    Stale,
    /// Sealed under the same key, but an artifact changed since.
    Damaged,
    /// Never sealed (or cut short).
    Never,
}

impl Freshness {
    /// What keeps the artifacts from being used as they are, in words; none when fresh.
    pub(crate) fn problem(self) -> Option<&'static str> {
        match self {
            Freshness::Fresh => None,
            Freshness::Stale => Some("is stale: its inputs or the definition changed since it ran"),
            Freshness::Damaged => Some("has artifacts that changed since they were written"),
            Freshness::Never => Some("has never run"),
        }
    }
}

/// The artifact folder of one stage of one period. Every frame written here carries the
/// pipeline and the period as its first columns (`pipeline`, `period`; a return table,
/// whose own columns are the definition's, `_pipeline` beside its `_period`), so an
/// artifact read alone, or many read as one, says what it is of; they are dropped again
/// when the frame is read back.
#[derive(Debug, Clone)]
pub(crate) struct StageDir {
    path: PathBuf,
    pipeline: String,
    period: Period,
}

/// The columns naming the pipeline and period of a frame that is not a return table.
const LABELS: [&str; 2] = ["pipeline", "period"];
/// The column naming a return table's pipeline (its rows have `_period` already).
const TABLE_PIPELINE: &str = "_pipeline";

const MANIFEST: &str = "manifest.json";

impl StageDir {
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The manifest the stage sealed its artifacts with, if it ever did.
    pub(crate) fn manifest(&self) -> Option<Manifest> {
        self.read_json(MANIFEST).ok()
    }

    /// Whether the artifacts were sealed under this key (their inputs have not changed)
    /// and are as they were written.
    pub(crate) fn is_fresh(&self, manifest: &Manifest) -> Freshness {
        let Some(sealed) = self.manifest() else { return Freshness::Never };
        if sealed.key != manifest.key {
            return Freshness::Stale;
        }
        let intact =
            sealed.artifacts.iter().all(|(name, hash)| sha256_file(&self.file(name)).is_ok_and(|h| &h == hash));
        if intact {
            Freshness::Fresh
        } else {
            Freshness::Damaged
        }
    }

    /// The batch this stage saved under `sealed` (its manifest as it was before the stage
    /// began again), when that was made under the definition and tool version of `now`,
    /// from the same inputs but `upstream` (the earlier stage whose part it redoes), and
    /// its artifacts are as written: what a stage may reuse the unchanged part of. Its
    /// placements only `with_placements`.
    pub(crate) fn reusable(
        &self,
        sealed: &Manifest,
        now: &Manifest,
        upstream: Option<&str>,
        (tables, with_placements): (&TableSchemas, bool),
    ) -> Option<Batch> {
        fn other_inputs<'m>(m: &'m Manifest, upstream: Option<&str>) -> Vec<(&'m String, &'m String)> {
            m.inputs.iter().filter(|(k, _)| Some(k.as_str()) != upstream).collect()
        }
        if sealed.schema != now.schema || sealed.definition != now.definition || sealed.tool_version != now.tool_version
        {
            return None;
        }
        if upstream.is_some() && other_inputs(sealed, upstream) != other_inputs(now, upstream) {
            return None;
        }
        let intact =
            sealed.artifacts.iter().all(|(name, hash)| sha256_file(&self.file(name)).is_ok_and(|h| &h == hash));
        intact.then(|| self.load(tables, with_placements).ok()).flatten()
    }

    /// Remove the manifest before rewriting artifacts: artifacts half rewritten must not
    /// pass for fresh.
    pub(crate) fn unseal(&self) -> anyhow::Result<()> {
        match fs::remove_file(self.file(MANIFEST)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.file(MANIFEST).display()))
            }
            _ => Ok(()),
        }
    }

    /// Write the manifest last, with the hash of every artifact: the artifacts are whole.
    pub(crate) fn seal(&self, manifest: &Manifest) -> anyhow::Result<()> {
        let mut manifest = manifest.clone();
        manifest.artifacts = BTreeMap::new();
        if let Ok(entries) = fs::read_dir(&self.path) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name != MANIFEST && !name.starts_with('.') {
                    manifest.artifacts.insert(name, sha256_file(&entry.path())?);
                }
            }
        }
        self.write_json(MANIFEST, &manifest)
    }

    /// Write `df` as `<name>.parquet`, labelled with the pipeline and period.
    pub(crate) fn write_frame(&self, name: &str, df: &DataFrame) -> anyhow::Result<()> {
        write_frame_atomic(&self.file(&format!("{name}.parquet")), &mut labelled(&self.pipeline, self.period, df)?)
    }

    /// The frame `write_frame` wrote, without its labels.
    pub(crate) fn read_frame(&self, name: &str) -> anyhow::Result<DataFrame> {
        Ok(self.read_parquet(name)?.drop_many(LABELS))
    }

    fn read_parquet(&self, name: &str) -> anyhow::Result<DataFrame> {
        let path = self.file(&format!("{name}.parquet"));
        let file = fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        ParquetReader::new(file)
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
    }

    /// A return table's rows as `table.<name>.parquet`: `_pipeline` after `_period`, the
    /// date fields as dates.
    fn write_table(&self, name: &str, dates: &[String], df: &DataFrame) -> anyhow::Result<()> {
        let mut df = df.clone();
        for field in dates {
            if let Ok(column) = df.column(field) {
                let days = column.str()?.iter().map(|iso| iso.and_then(days_since_epoch));
                df.with_column(Int32Chunked::from_iter_options(field.into(), days).into_date().into_column())?;
            }
        }
        let at = df.get_column_index("_period").map_or(0, |i| i + 1);
        df.insert_column(at, Column::new(TABLE_PIPELINE.into(), vec![self.pipeline.as_str(); df.height()]))?;
        write_frame_atomic(&self.file(&format!("table.{name}.parquet")), &mut df)
    }

    /// The rows `write_table` wrote, as the stages hold them.
    fn read_table(&self, name: &str, dates: &[String]) -> anyhow::Result<DataFrame> {
        let mut df = self.read_parquet(&format!("table.{name}"))?.drop_many([TABLE_PIPELINE]);
        for field in dates {
            if let Ok(column) = df.column(field) {
                let days = column.date()?.physical().clone();
                let iso: StringChunked = days.iter().map(|d| d.and_then(iso_date)).collect();
                df.with_column(iso.with_name(field.into()).into_column())?;
            }
        }
        Ok(df)
    }

    /// Indented, for the files a person opens (the manifest).
    pub(crate) fn write_json<T: Serialize>(&self, name: &str, value: &T) -> anyhow::Result<()> {
        write_atomic(&self.file(name), &serde_json::to_vec_pretty(value)?)
    }

    /// On one line, for records only the next stage reads.
    fn write_json_compact<T: Serialize>(&self, name: &str, value: &T) -> anyhow::Result<()> {
        write_atomic(&self.file(name), &serde_json::to_vec(value)?)
    }

    pub(crate) fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> anyhow::Result<T> {
        let path = self.file(name);
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("cannot parse {}", path.display()))
    }

    /// A batch as its artifacts: a Parquet file per table, the findings and placements,
    /// the file records and completeness as JSON, written on both cores. `before`: the
    /// stage whose batch this one was made from, or the stage's own last run. Validate and
    /// merge pass the placements on unchanged (130,000 rows at ten thousand returns), and
    /// often the tables; ingest after a few returns changed keeps most of what it saved
    /// last. What is the same is copied from there rather than encoded again (labelled
    /// alike, they are the same bytes), or left in place.
    pub(crate) fn save_batch(
        &self,
        batch: &Batch,
        tables: &TableSchemas,
        before: Option<Before>,
    ) -> anyhow::Result<()> {
        let before = before.filter(|b| b.dir.pipeline == self.pipeline && b.dir.period == self.period);
        let same = |was: &DataFrame, now: &DataFrame| was.schema() == now.schema() && was.equals_missing(now);
        // An artifact equal to one saved before is copied from there, not encoded again;
        // one of this very folder is left where it is.
        let copied = |name: &str| -> anyhow::Result<bool> {
            let Some(before) = before else { return Ok(false) };
            if before.dir.path == self.path {
                return Ok(self.file(name).is_file());
            }
            let Ok(bytes) = fs::read(before.dir.file(name)) else { return Ok(false) };
            write_atomic(&self.file(name), &bytes)?;
            Ok(true)
        };
        let write_tables = || -> anyhow::Result<()> {
            for (name, dates) in tables.iter() {
                let Some(df) = batch.tables.get(name) else { continue };
                let unchanged = before.and_then(|b| b.tables.get(name)).is_some_and(|was| same(was, df));
                if !(unchanged && copied(&format!("table.{name}.parquet"))?) {
                    self.write_table(name, dates, df)?;
                }
            }
            Ok(())
        };
        let parts = before.map(|b| b.parts);
        let write_files = || -> anyhow::Result<()> {
            self.write_json_compact("files.json", &batch.files)?;
            let unchanged = matches!(parts, Some(Some((_, titles))) if same(titles, &batch.titles));
            if !(unchanged && copied("titles.parquet")?) {
                self.write_frame("titles", &batch.titles)?;
            }
            Ok(())
        };
        let write_rest = || -> anyhow::Result<()> {
            let unchanged = match parts {
                Some(Some((placements, _))) => same(placements, &batch.placements),
                Some(None) => true,
                None => false,
            };
            if !(unchanged && copied("placements.parquet")?) {
                self.write_frame("placements", &batch.placements)?;
            }
            self.write_frame("findings", &Finding::to_frame(&batch.findings)?)?;
            self.write_json_compact("completeness.json", &batch.completeness)
        };
        let ((tables, files), rest) = rayon::join(|| rayon::join(write_tables, write_files), write_rest);
        tables.and(files).and(rest)
    }

    /// The batch saved here, with the tables named.
    pub(crate) fn load_batch(&self, schemas: &TableSchemas) -> anyhow::Result<Batch> {
        self.load(schemas, true)
    }

    /// The batch saved here without its placements (where each field was found: 130,000
    /// rows at ten thousand returns), which only validation reads: for what reads the
    /// rows, the files and the findings, and never saves the batch again.
    pub(crate) fn load_batch_without_placements(&self, schemas: &TableSchemas) -> anyhow::Result<Batch> {
        self.load(schemas, false)
    }

    fn load(&self, schemas: &TableSchemas, with_placements: bool) -> anyhow::Result<Batch> {
        let mut tables = BTreeMap::new();
        for (name, dates) in schemas.iter() {
            tables.insert(name.to_string(), self.read_table(name, dates)?);
        }
        Ok(Batch {
            files: self.read_json("files.json")?,
            tables,
            placements: match with_placements {
                true => self.read_frame("placements")?,
                false => Placement::none(),
            },
            titles: self.read_frame("titles")?,
            findings: Finding::from_frame(&self.read_frame("findings")?)?,
            completeness: self.read_json("completeness.json")?,
        })
    }
}

/// What a batch was made from, for `StageDir::save_batch`: where its artifacts are (the
/// stage before, or the same stage's last run) and the tables saved there.
#[derive(Clone, Copy)]
pub(crate) struct Before<'a> {
    pub(crate) dir: &'a StageDir,
    pub(crate) tables: &'a BTreeMap<String, DataFrame>,
    /// The placements and title lines saved there, to compare with the batch's; `None`
    /// when the batch passes on the placements saved there unchanged (validate, merge).
    pub(crate) parts: Option<(&'a DataFrame, &'a DataFrame)>,
}

/// A file as it was when it was last hashed: what says it is still the same file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    modified_ns: i64,
    changed_ns: i64,
    inode: u64,
    sha256: String,
}

impl Seen {
    /// The size, times and inode of `path`, without its hash; none where the platform does
    /// not tell them all (the file is then always hashed).
    fn stat(path: &Path) -> Option<Seen> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = fs::metadata(path).ok()?;
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            Some(Seen {
                size: m.size(),
                modified_ns: ns(m.mtime(), m.mtime_nsec()),
                changed_ns: ns(m.ctime(), m.ctime_nsec()),
                inode: m.ino(),
                sha256: String::new(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}

/// The SHA-256 of an inbox's files, each read again only when it changed, as git's index
/// does it: a file whose size, modification and change times and inode are those recorded
/// keeps its hash, unless it was modified in the second the index was written (it may have
/// changed again within that second, unseen).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct HashIndex {
    /// When the index was written, nanoseconds since the epoch.
    written_ns: i64,
    files: BTreeMap<String, Seen>,
    /// Whether `hash_all` learnt anything the index did not hold.
    #[serde(skip)]
    learnt: bool,
    /// When `hash_all` began, before it looked at any file: the time the index holds true
    /// for, whenever it is written.
    #[serde(skip)]
    hashed_ns: i64,
}

impl HashIndex {
    const FILE: &'static str = "inbox-hashes.json";

    /// The index of a period, or an empty one.
    pub(crate) fn load(work: &WorkDir, period: Period) -> HashIndex {
        let path = work.root.join(period.to_string()).join(Self::FILE);
        fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// The SHA-256 of each file, `(name, path)`, hashing only those that changed; a file
    /// that cannot be read is hashed as its reason. Keeps what it learnt for `save`.
    pub(crate) fn hash_all(&mut self, files: &[(String, PathBuf)]) -> BTreeMap<String, String> {
        use rayon::prelude::*;
        self.hashed_ns = now_ns();
        let written_s = self.written_ns.div_euclid(1_000_000_000);
        let known = &self.files;
        let seen: Vec<(String, Option<Seen>, String)> = files
            .par_iter()
            .map(|(name, path)| {
                let stat = Seen::stat(path);
                let same = |old: &Seen, now: &Seen| {
                    Seen { sha256: String::new(), ..old.clone() } == *now
                        && now.modified_ns.div_euclid(1_000_000_000) < written_s
                };
                let hash = match (known.get(name), &stat) {
                    (Some(old), Some(now)) if same(old, now) => old.sha256.clone(),
                    _ => sha256_file(path).unwrap_or_else(|e| format!("unreadable: {e:#}")),
                };
                (name.clone(), stat, hash)
            })
            .collect();
        let files: BTreeMap<String, Seen> = seen
            .iter()
            .filter(|(_, _, hash)| !hash.starts_with("unreadable"))
            .filter_map(|(name, stat, hash)| stat.clone().map(|s| (name.clone(), Seen { sha256: hash.clone(), ..s })))
            .collect();
        self.learnt = files != self.files;
        self.files = files;
        seen.into_iter().map(|(name, _, hash)| (name, hash)).collect()
    }

    /// The modification time of a file `hash_all` saw, seconds since the epoch (0 before it).
    pub(crate) fn modified_s(&self, name: &str) -> Option<i64> {
        self.files.get(name).map(|seen| seen.modified_ns.max(0) / 1_000_000_000)
    }

    /// Write the index for the next run, whole or not at all; as it was when nothing
    /// changed (its older time only makes fewer files trusted). It is dated when the files
    /// were looked at, so it may be written later: a file changed since then, even in the
    /// same second, is hashed again next time.
    pub(crate) fn save(&mut self, work: &WorkDir, period: Period) -> anyhow::Result<()> {
        if !self.learnt && self.written_ns > 0 {
            return Ok(());
        }
        self.written_ns = if self.hashed_ns > 0 { self.hashed_ns } else { now_ns() };
        let path = work.root.join(period.to_string()).join(Self::FILE);
        write_atomic(&path, &serde_json::to_vec(self)?)
    }
}

/// Nanoseconds since the epoch.
fn now_ns() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_nanos() as i64
}

/// The SHA-256 of a file, as hex.
pub(crate) fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(sha256(&bytes))
}

/// The SHA-256 of bytes, as hex.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A frame as Parquet at `path`, whole or not at all.
pub(crate) fn write_frame_atomic(path: &Path, df: &mut DataFrame) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(df).map_err(|e| anyhow::anyhow!("cannot encode {}: {e}", path.display()))?;
    write_atomic(path, &bytes)
}

/// Days since 1970-01-01 of an ISO date (`2023-10-05`), as Parquet stores dates.
fn days_since_epoch(iso: &str) -> Option<i32> {
    let date = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok()?;
    Some((date - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days() as i32)
}

/// The ISO date `days` after 1970-01-01.
fn iso_date(days: i32) -> Option<String> {
    let date = chrono::DateTime::UNIX_EPOCH.date_naive().checked_add_signed(chrono::Duration::days(days.into()))?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// `df` with the pipeline and the period as its first columns, `pipeline` and `period`.
pub(crate) fn labelled(pipeline: &str, period: Period, df: &DataFrame) -> PolarsResult<DataFrame> {
    let rows = df.height();
    let mut columns = vec![
        Column::new(LABELS[0].into(), vec![pipeline; rows]),
        Column::new(LABELS[1].into(), vec![period.to_string(); rows]),
    ];
    columns.extend(df.columns().iter().cloned());
    DataFrame::new(rows, columns)
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

fn remove_leftovers(dir: &Path) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of one table, `cells`, of the given cell names.
    fn batch_of(names: &[&str]) -> Batch {
        let df = df!("_file" => vec!["a.xlsx"; names.len()], "_period" => vec!["2023-10"; names.len()], "cell_name" => names)
            .unwrap();
        Batch { tables: BTreeMap::from([("cells".to_string(), df)]), ..Batch::default() }
    }

    #[test]
    fn a_table_the_stage_before_handed_on_unchanged_is_copied_and_a_changed_one_written() {
        let out = tempfile::tempdir().unwrap();
        let work = WorkDir::new(out.path(), "p");
        let period: Period = "2023-10".parse().unwrap();
        let schemas = TableSchemas(vec![("cells".to_string(), Vec::new())]);
        let (ingest, validate, merge) =
            (work.stage(period, Stage::Ingest), work.stage(period, Stage::Validate), work.stage(period, Stage::Merge));
        let handed = batch_of(&["Chi bộ 1", "Chi bộ 2"]);
        ingest.save_batch(&handed, &schemas, None).unwrap();
        let table = "table.cells.parquet";
        // Made to look different, the copy is told from an encoding by its bytes.
        let marked = [fs::read(ingest.file(table)).unwrap(), b"copied".to_vec()].concat();
        write_atomic(&ingest.file(table), &marked).unwrap();
        let before = Before { dir: &ingest, tables: &handed.tables, parts: None };
        validate.save_batch(&batch_of(&["Chi bộ 1", "Chi bộ 2"]), &schemas, Some(before)).unwrap();
        assert_eq!(fs::read(validate.file(table)).unwrap(), marked);

        // A row fewer: encoded anew, and read back as it is.
        let dropped = batch_of(&["Chi bộ 1"]);
        merge.save_batch(&dropped, &schemas, Some(before)).unwrap();
        assert_ne!(fs::read(merge.file(table)).unwrap(), marked);
        assert!(merge.load_batch(&schemas).unwrap().tables["cells"].equals_missing(&dropped.tables["cells"]));
    }

    #[test]
    fn the_inbox_index_is_dated_when_its_files_were_looked_at_not_when_it_is_written() {
        let out = tempfile::tempdir().unwrap();
        let work = WorkDir::new(out.path(), "p");
        let period: Period = "2023-10".parse().unwrap();
        let file = out.path().join("a.xlsx");
        fs::write(&file, b"return").unwrap();
        let mut index = HashIndex::load(&work, period);
        let before = now_ns();
        let hashes = index.hash_all(&[("a.xlsx".to_string(), file.clone())]);
        let looked = now_ns();
        assert_eq!(hashes["a.xlsx"], sha256(b"return"));
        // Saved a while later, as the saver does while the run goes on.
        std::thread::sleep(std::time::Duration::from_millis(20));
        index.save(&work, period).unwrap();
        let saved = HashIndex::load(&work, period);
        assert!((before..=looked).contains(&saved.written_ns), "{before} {} {looked}", saved.written_ns);
        assert_eq!(saved.files["a.xlsx"].sha256, sha256(b"return"));
    }

    #[test]
    fn what_a_stage_saved_last_and_saves_again_unchanged_is_left_in_place() {
        let out = tempfile::tempdir().unwrap();
        let work = WorkDir::new(out.path(), "p");
        let ingest = work.stage("2023-10".parse().unwrap(), Stage::Ingest);
        let schemas = TableSchemas(vec![("cells".to_string(), Vec::new())]);
        let last = batch_of(&["Chi bộ 1", "Chi bộ 2"]);
        ingest.save_batch(&last, &schemas, None).unwrap();
        // Marked, what is left in place is told from what is written again.
        let mark = |name: &str| {
            let marked = [fs::read(ingest.file(name)).unwrap(), b"kept".to_vec()].concat();
            write_atomic(&ingest.file(name), &marked).unwrap();
            marked
        };
        let (table, placements) = (mark("table.cells.parquet"), mark("placements.parquet"));
        let before = Before { dir: &ingest, tables: &last.tables, parts: Some((&last.placements, &last.titles)) };
        ingest.save_batch(&batch_of(&["Chi bộ 1", "Chi bộ 2"]), &schemas, Some(before)).unwrap();
        assert_eq!(fs::read(ingest.file("table.cells.parquet")).unwrap(), table);
        assert_eq!(fs::read(ingest.file("placements.parquet")).unwrap(), placements);

        // A return changed: its table is written again; placements that changed too.
        let placed = Placement {
            file: "a.xlsx".into(),
            table: "cells".into(),
            sheet: "BC".into(),
            field: "cell_name".into(),
            column: "B".into(),
        };
        let changed =
            Batch { placements: Placement::to_frame(&[placed]).unwrap(), ..batch_of(&["Chi bộ 1", "Chi bộ 3"]) };
        ingest.save_batch(&changed, &schemas, Some(before)).unwrap();
        let read = ingest.load_batch(&schemas).unwrap();
        assert!(read.tables["cells"].equals_missing(&changed.tables["cells"]));
        assert!(read.placements.equals_missing(&changed.placements));
    }

    #[test]
    fn dates_are_stored_as_days_since_1970_and_read_back_as_they_were() {
        assert_eq!(days_since_epoch("1970-01-02"), Some(1));
        assert_eq!(days_since_epoch("2023-10-05"), Some(19635));
        assert_eq!(days_since_epoch("05/10/2023"), None);
        for iso in ["1945-09-02", "2023-10-05", "2024-02-29"] {
            assert_eq!(iso_date(days_since_epoch(iso).unwrap()).as_deref(), Some(iso));
        }
    }
}
