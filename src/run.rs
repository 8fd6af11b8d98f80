//! A run: the five stages for one period, with the periods its cumulative figures need.
//!
//! Each stage reads the previous stage's artifact from the work directory and writes its
//! own, with a manifest holding a key over its inputs (the definition, the tool version,
//! the input files' hashes, the previous stage's key). A stage whose key has not changed
//! is skipped unless forced, so rerunning after fixing one return redoes only that period.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::aggregate::{self, References};
use crate::definition::{self, Definition, Severity};
use crate::ingest;
use crate::period::{Period, PeriodKind};
use crate::registry::{Hierarchy, Registry};
use crate::report::{self, ReportInput};
use crate::store::{self, stage_dir, Batch, StageDir};
use crate::{merge, validate};

/// The five stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Ingest,
    Validate,
    Merge,
    Aggregate,
    Report,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Validate => "validate",
            Stage::Merge => "merge",
            Stage::Aggregate => "aggregate",
            Stage::Report => "report",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub pipeline: PathBuf,
    pub data: PathBuf,
    pub period: Option<Period>,
    pub out: PathBuf,
    pub from: Stage,
    pub to: Stage,
    pub force: bool,
    /// Show a progress bar while reading files (for a person at a terminal).
    pub progress: bool,
}

/// What a run did, for people and for scripts (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub pipeline: String,
    pub period: String,
    pub exit_code: u8,
    pub files: FileCounts,
    pub rows: RowCounts,
    pub findings: BTreeMap<String, usize>,
    pub returns_missing: usize,
    pub stages: Vec<StageOutcome>,
    pub outputs: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct FileCounts {
    pub read: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub superseded: usize,
    pub ignored: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

#[derive(Debug, Serialize)]
pub struct StageOutcome {
    pub period: String,
    pub stage: Stage,
    /// `ran` or `skipped` (inputs unchanged).
    pub outcome: &'static str,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Manifest {
    stage: String,
    tool_version: String,
    /// SHA-256 of the definition file.
    definition: String,
    /// What the stage read: file names or earlier stages, with their SHA-256 or key.
    inputs: BTreeMap<String, String>,
    /// One hash over all of the above: the stage is fresh while it is unchanged.
    key: String,
}

/// Everything a run reads once.
struct Context<'a> {
    def: &'a Definition,
    definition_hash: String,
    opts: &'a RunOptions,
    registry: Registry,
    registry_hash: String,
    tables: Vec<String>,
    stages: Vec<StageOutcome>,
}

impl<'a> Context<'a> {
    fn new(def: &'a Definition, opts: &'a RunOptions) -> anyhow::Result<Context<'a>> {
        let registry_path = opts.data.join(&def.registry.file);
        Ok(Context {
            def,
            definition_hash: sha256_file(&opts.pipeline)?,
            opts,
            registry: Registry::load(&registry_path)?,
            registry_hash: sha256_file(&registry_path)?,
            tables: definition::table_names(def),
            stages: Vec::new(),
        })
    }
}

/// The names of `dir`'s entries that are periods of `kind`.
fn periods_in(dir: &Path, kind: PeriodKind) -> std::io::Result<Vec<Period>> {
    let mut periods: Vec<Period> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<Period>().ok()))
        .filter(|p| p.kind == kind)
        .collect();
    periods.sort();
    Ok(periods)
}

/// The newest period folder of the inbox (`YYYY-MM` or `YYYY-Qn`, as the pipeline's period).
pub fn newest_period(data: &Path, kind: PeriodKind) -> anyhow::Result<Period> {
    let inbox = data.join("inbox");
    let mut periods = periods_in(&inbox, kind).with_context(|| format!("cannot list {}", inbox.display()))?;
    periods.pop().with_context(|| format!("{} has no {} folder", inbox.display(), kind.pattern()))
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

pub fn run(def: &Definition, opts: &RunOptions) -> anyhow::Result<Summary> {
    let _lock = store::lock::acquire(&opts.out.join("work"))??;
    store::remove_leftovers(&opts.out)?;
    let period = match opts.period {
        Some(p) => p,
        None => newest_period(&opts.data, def.pipeline.period)?,
    };
    let mut ctx = Context::new(def, opts)?;
    let PeriodInputs {
        key: aggregate_key,
        inputs: aggregate_inputs,
        periods,
        period_keys,
        refs,
        references: reference_inputs,
    } = period_key(&ctx, period)?;

    // Earlier periods are brought up to date whatever the stage selection: the figures of
    // this one need them.
    for &p in &periods {
        let (first, last) = if p == period { (opts.from, opts.to) } else { (Stage::Ingest, Stage::Merge) };
        consolidate(&mut ctx, p, &period_keys[&p], p == period, first, last)?;
    }

    let mut outputs = Vec::new();
    let hierarchy = ctx.registry.hierarchy(period, &def.registry.levels)?;
    let mut refs = refs;
    let mut openings = aggregate::missing_openings(def, &refs, &hierarchy, period)?;
    crate::merge::name_units(def, &hierarchy, &mut openings);
    refs.findings.extend(openings);
    if (opts.from..=opts.to).contains(&Stage::Aggregate) {
        let dir = stage_dir(&opts.out, period, "aggregate");
        if !fresh(&dir, Stage::Aggregate, &aggregate_key, opts.force) {
            let mut history = BTreeMap::new();
            for &p in &periods {
                let batch = Batch::load(&stage_dir(&opts.out, p, "merge"), &ctx.tables)?;
                for (name, df) in batch.tables {
                    let entry: &mut polars::prelude::DataFrame = history.entry(name).or_default();
                    if entry.width() == 0 {
                        *entry = df;
                    } else {
                        entry.vstack_mut_owned(df)?;
                    }
                }
            }
            let mut figures = aggregate::aggregate(def, &hierarchy, period, &history, &refs)?;
            let _ = std::fs::remove_file(dir.file("manifest.json"));
            dir.write_frame("figures", &mut figures)?;
            seal(&dir, Stage::Aggregate, &aggregate_key, &ctx.definition_hash, aggregate_inputs)?;
            tracing::info!(%period, stage = "aggregate", units = figures.height(), periods = periods.len(), "stage ran");
            ctx.stages.push(StageOutcome { period: period.to_string(), stage: Stage::Aggregate, outcome: "ran" });
        } else {
            ctx.stages.push(StageOutcome { period: period.to_string(), stage: Stage::Aggregate, outcome: "skipped" });
        }
    }
    // The summary tells what the last period-level stage of this run knows.
    let summary_stage = opts.to.min(Stage::Merge);
    let merged = Batch::load(&stage_dir(&opts.out, period, summary_stage.name()), &ctx.tables)
        .with_context(|| format!("the {} stage of {period} has not run yet", summary_stage.name()))?;
    if (opts.from..=opts.to).contains(&Stage::Report) {
        let figures = stage_dir(&opts.out, period, "aggregate")
            .read_frame("figures")
            .context("the aggregate stage of this period has not run yet")?;
        let path = write_report(def, &hierarchy, period, &figures, &merged, &refs, &reference_inputs, &opts.out)?;
        tracing::info!(%period, stage = "report", workbook = %path.display(), "stage ran");
        let (json, parquet) = findings_paths(&path);
        outputs.extend([&path, &json, &parquet].map(|p| p.display().to_string()));
        ctx.stages.push(StageOutcome { period: period.to_string(), stage: Stage::Report, outcome: "ran" });
    }
    Ok(summarise(def, period, &merged, refs, ctx.stages, outputs))
}

/// The registry and the reference files with their size and SHA-256 (the registry's
/// hash is the one the run already took).
fn reference_files(ctx: &Context) -> anyhow::Result<Vec<(String, u64, String)>> {
    let size = |file: &str| -> anyhow::Result<u64> {
        let path = ctx.opts.data.join(file);
        Ok(std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.len())
    };
    let registry = &ctx.def.registry.file;
    let mut out = vec![(registry.clone(), size(registry)?, ctx.registry_hash.clone())];
    for r in &ctx.def.references {
        out.push((r.file.clone(), size(&r.file)?, sha256_file(&ctx.opts.data.join(&r.file))?));
    }
    Ok(out)
}

fn fresh(dir: &StageDir, stage: Stage, key: &str, force: bool) -> bool {
    !force
        && dir
            .read_json::<Manifest>("manifest.json")
            .is_ok_and(|m| m.stage == stage.name() && m.tool_version == env!("CARGO_PKG_VERSION") && m.key == key)
}

fn seal(
    dir: &StageDir,
    stage: Stage,
    key: &str,
    definition: &str,
    inputs: BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let manifest = Manifest {
        stage: stage.name().into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        definition: definition.into(),
        inputs,
        key: key.into(),
    };
    dir.write_json("manifest.json", &manifest)
}

/// A progress bar on stderr when asked for, else one that draws nothing.
fn progress_bar(show: bool, len: usize, message: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} files") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// A period's inbox files and the keys of its three period-level stages: each key covers
/// the stage's inputs (the tool version, the definition, the files' hashes, the registry).
#[derive(Clone)]
struct PeriodKeys {
    files: Vec<PathBuf>,
    /// Each inbox file's name and SHA-256.
    hashes: BTreeMap<String, String>,
    ingest: String,
    validate: String,
    merge: String,
}

fn period_keys(ctx: &Context, period: Period) -> anyhow::Result<PeriodKeys> {
    let inbox = ctx.opts.data.join("inbox").join(period.to_string());
    if !inbox.is_dir() {
        bail!("the figures of this period need the returns of {period}, but {} does not exist", inbox.display());
    }
    let files = ingest::inbox_files(&inbox)?;
    let hashes = files
        .par_iter()
        .map(|f| Ok((f.file_name().unwrap_or_default().to_string_lossy().into_owned(), sha256_file(f)?)))
        .collect::<anyhow::Result<BTreeMap<String, String>>>()?;
    let listing: Vec<String> = hashes.iter().map(|(name, hash)| format!("{name}={hash}")).collect();
    let version = env!("CARGO_PKG_VERSION");
    let ingest = key_of(&[version, &ctx.definition_hash, &period.to_string(), &listing.join(",")]);
    let validate = key_of(&[&ingest, &ctx.registry_hash]);
    let merge = key_of(&[&validate]);
    Ok(PeriodKeys { files, hashes, ingest, validate, merge })
}

/// The aggregate stage's inputs of a period, its key, the periods it adds up and the
/// reference tables.
struct PeriodInputs {
    key: String,
    inputs: BTreeMap<String, String>,
    periods: Vec<Period>,
    /// The keys of each of those periods, computed once (hashing every file is not free).
    period_keys: BTreeMap<Period, PeriodKeys>,
    refs: References,
    /// The reference files with their size and SHA-256, for the report's list of inputs.
    references: Vec<(String, u64, String)>,
}

fn period_key(ctx: &Context, period: Period) -> anyhow::Result<PeriodInputs> {
    let refs = aggregate::load_references(ctx.def, &ctx.opts.data, period)?;
    let periods = aggregate::periods_needed(ctx.def, period, refs.cutoff)?;
    let mut inputs = BTreeMap::new();
    let mut keys = BTreeMap::new();
    for &p in &periods {
        let k = period_keys(ctx, p)?;
        inputs.insert(format!("merge {p}"), k.merge.clone());
        keys.insert(p, k);
    }
    let references = reference_files(ctx)?;
    for (file, _, hash) in &references {
        inputs.insert(file.clone(), hash.clone());
    }
    let parts: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let key = key_of(&[&parts.join(",")]);
    Ok(PeriodInputs { key, inputs, periods, period_keys: keys, refs, references })
}

fn consolidate(
    ctx: &mut Context,
    period: Period,
    keys: &PeriodKeys,
    is_run_period: bool,
    first: Stage,
    last: Stage,
) -> anyhow::Result<()> {
    let PeriodKeys { files, hashes, ingest: ingest_key, validate: validate_key, merge: merge_key } = keys.clone();
    let hierarchy: Hierarchy = ctx.registry.hierarchy(period, &ctx.def.registry.levels)?;
    let def = ctx.def;
    let out = &ctx.opts.out;
    // `--force` reruns the selected stages of the run's period, not the earlier ones.
    let mut force = ctx.opts.force && is_run_period;

    let steps: [(Stage, &str); 3] =
        [(Stage::Ingest, &ingest_key), (Stage::Validate, &validate_key), (Stage::Merge, &merge_key)];
    for (stage, key) in steps {
        if stage > last {
            break;
        }
        let dir = stage_dir(out, period, stage.name());
        let outcome = if stage < first || fresh(&dir, stage, key, force) {
            // A stage before `--from` is not rerun, but what follows needs its artifact.
            if !dir.file("manifest.json").exists() {
                bail!("stage {} of {period} has never run; run it first", stage.name());
            }
            "skipped"
        } else {
            let started = std::time::Instant::now();
            let batch = match stage {
                Stage::Ingest => {
                    let bar = progress_bar(ctx.opts.progress, files.len(), &format!("{period} ingest"));
                    let batch = ingest::ingest(def, &files, &hashes, def.limits.caps(), &|| bar.inc(1))?;
                    bar.finish_and_clear();
                    batch
                }
                Stage::Validate => {
                    let input = Batch::load(&stage_dir(out, period, "ingest"), &ctx.tables)?;
                    validate::validate(def, &hierarchy, period, input)?
                }
                _ => {
                    let input = Batch::load(&stage_dir(out, period, "validate"), &ctx.tables)?;
                    merge::merge(def, &hierarchy, period, input)?
                }
            };
            // The old manifest goes first: artifacts half rewritten must not pass for fresh.
            let _ = std::fs::remove_file(dir.file("manifest.json"));
            batch.save(&dir)?;
            let inputs = match stage {
                Stage::Ingest => hashes.clone(),
                Stage::Validate => BTreeMap::from([
                    ("ingest".to_string(), ingest_key.clone()),
                    (ctx.def.registry.file.clone(), ctx.registry_hash.clone()),
                ]),
                _ => BTreeMap::from([("validate".to_string(), validate_key.clone())]),
            };
            seal(&dir, stage, key, &ctx.definition_hash, inputs)?;
            tracing::info!(%period, stage = stage.name(), files = batch.files.len(), findings = batch.findings.len(), elapsed_ms = started.elapsed().as_millis() as u64, "stage ran");
            // A stage that ran makes every later stage stale.
            force = true;
            "ran"
        };
        ctx.stages.push(StageOutcome { period: period.to_string(), stage, outcome });
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    def: &Definition,
    hierarchy: &Hierarchy,
    period: Period,
    figures: &polars::prelude::DataFrame,
    merged: &Batch,
    refs: &References,
    inputs: &[(String, u64, String)],
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let mut findings = merged.findings.clone();
    findings.extend(refs.findings.iter().cloned());
    let now = chrono::Local::now();
    let input = ReportInput {
        def,
        hierarchy,
        period,
        figures,
        tables: &merged.tables,
        findings: &findings,
        completeness: &merged.completeness,
        files: &merged.files,
        inputs,
        run_time: now.format("%Y-%m-%d %H:%M:%S").to_string(),
        today: now.date_naive(),
    };
    let bytes = report::render(&input)?;
    let path = out.join(def.workbook.file.replace("{period}", &period.to_string()));
    store::write_atomic(&path, &bytes)?;
    write_findings(def, period, &findings, &path)?;
    Ok(path)
}

/// Where the findings of a workbook go: beside it, `<stem>.findings.json|parquet`.
pub fn findings_paths(workbook: &Path) -> (PathBuf, PathBuf) {
    let stem = workbook.with_extension("");
    (stem.with_extension("findings.json"), stem.with_extension("findings.parquet"))
}

/// The version of `findings.json`'s layout; bump it when a field changes meaning.
pub const FINDINGS_SCHEMA: &str = "tonghop.findings/1";

/// `<workbook>.findings.json` and `.findings.parquet` beside the workbook, for scripts.
fn write_findings(
    def: &Definition,
    period: Period,
    findings: &[crate::finding::Finding],
    workbook: &Path,
) -> anyhow::Result<()> {
    let mut sorted = findings.to_vec();
    sorted.sort_by(|a, b| {
        (&a.group, &a.unit, &a.file, a.row, &a.cell).cmp(&(&b.group, &b.unit, &b.file, b.row, &b.cell))
    });
    let document = serde_json::json!({
        "schema": FINDINGS_SCHEMA,
        "pipeline": def.pipeline.name,
        "period": period.to_string(),
        "findings": sorted,
    });
    let (json, parquet) = findings_paths(workbook);
    store::write_atomic(&json, &serde_json::to_vec_pretty(&document)?)?;
    store::write_frame_atomic(&parquet, &mut crate::finding::to_frame(&sorted)?)
}

/// Consolidated periods (an aggregate in the work directory) whose inputs changed since:
/// a corrected return of an earlier period makes every later period that adds it up stale.
pub fn stale_periods(def: &Definition, opts: &RunOptions) -> anyhow::Result<Vec<Period>> {
    let ctx = Context::new(def, opts)?;
    let periods = periods_in(&opts.out.join("work"), def.pipeline.period).unwrap_or_default();
    let mut stale = Vec::new();
    for period in periods {
        let dir = stage_dir(&opts.out, period, "aggregate");
        if !dir.file("manifest.json").exists() {
            continue;
        }
        let fresh_now = period_key(&ctx, period).is_ok_and(|p| fresh(&dir, Stage::Aggregate, &p.key, false));
        if !fresh_now {
            stale.push(period);
        }
    }
    Ok(stale)
}

/// What `tonghop status` prints: who sent what for the period, per group, and who is missing.
pub fn status(def: &Definition, opts: &RunOptions) -> anyhow::Result<(String, u8)> {
    let upto_merge = RunOptions { from: Stage::Ingest, to: Stage::Merge, force: false, ..opts.clone() };
    let summary = run(def, &upto_merge)?;
    let period: Period = summary.period.parse()?;
    let tables = definition::table_names(def);
    let merged = Batch::load(&stage_dir(&opts.out, period, "merge"), &tables)?;
    let registry = Registry::load(&opts.data.join(&def.registry.file))?;
    let hierarchy = registry.hierarchy(period, &def.registry.levels)?;
    let sheet = def.workbook.sheets.iter().find(|s| s.kind == crate::definition::SheetKind::Completeness);
    let level = sheet
        .and_then(|s| s.group_by.as_ref().map(|g| g.get_ref().clone()))
        .or_else(|| def.registry.levels.get(1).cloned())
        .unwrap_or_default();
    let label = |key: &str| sheet.and_then(|s| s.labels.get(key).cloned()).unwrap_or_else(|| key.to_string());
    let columns: Vec<(String, String)> = match sheet {
        Some(s) => s
            .columns
            .iter()
            .map(|c| (c.label.display(), c.value.get_ref().trim_start_matches("completeness:").to_string()))
            .collect(),
        None => crate::report::COMPLETENESS_ATTRIBUTES.iter().map(|a| (a.to_string(), a.to_string())).collect(),
    };
    let (groups, total) = crate::merge::tally_by_group(&hierarchy, &merged.completeness, &level);
    let cell = |tally: &crate::merge::Tally, attribute: &str| match (attribute, tally.value(attribute)) {
        ("rate", Some(r)) => format!("{:.1}%", r * 100.0),
        (_, Some(v)) => format!("{v}"),
        _ => String::new(),
    };
    let mut rows = vec![columns.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>()];
    for (code, tally) in groups.iter().map(|(c, t)| (c.as_str(), t)).chain(std::iter::once(("", &total))) {
        rows.push(
            columns
                .iter()
                .map(|(_, a)| match a.as_str() {
                    "group" if code.is_empty() => label("total"),
                    "group" => hierarchy.unit(code).map(|u| u.name.clone()).unwrap_or_default(),
                    other => cell(tally, other),
                })
                .collect(),
        );
    }
    let widths: Vec<usize> =
        (0..columns.len()).map(|k| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0)).collect();
    let mut text = format!("{} {}\n", def.pipeline.title, period);
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let pad = " ".repeat(widths[k] - v.chars().count());
                if k == 0 {
                    format!("{v}{pad}")
                } else {
                    format!("{pad}{v}")
                }
            })
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    let listed: Vec<_> = merged.completeness.iter().filter(|e| e.status != "accepted").collect();
    if !listed.is_empty() {
        text.push_str(&format!(
            "\n{}:\n",
            sheet.and_then(|s| s.missing_title.clone()).unwrap_or_else(|| "missing or rejected".into())
        ));
        for e in listed {
            let group = hierarchy.ancestor_of_kind(&e.unit, &level).map(|g| g.name.clone()).unwrap_or_default();
            let ret = def.return_spec(&e.return_id).map(|r| r.title.clone()).unwrap_or_default();
            text.push_str(
                format!(
                    "  {group} | {} {} | {ret} | {} {}\n",
                    e.unit,
                    e.name,
                    label(&format!("status_{}", e.status)),
                    e.file
                )
                .trim_end(),
            );
            text.push('\n');
        }
    }
    let stale = stale_periods(def, opts)?;
    if !stale.is_empty() {
        let list: Vec<String> = stale.iter().map(Period::to_string).collect();
        text.push_str(&format!(
            "\nstale: {} (their inputs changed since they were consolidated; tonghop run --period {}..{})\n",
            list.join(", "),
            list[0],
            list[list.len() - 1]
        ));
    }
    Ok((text, summary.exit_code))
}

fn summarise(
    def: &Definition,
    period: Period,
    merged: &Batch,
    refs: References,
    stages: Vec<StageOutcome>,
    outputs: Vec<String>,
) -> Summary {
    let mut s = Summary {
        pipeline: def.pipeline.name.clone(),
        period: period.to_string(),
        stages,
        outputs,
        ..Summary::default()
    };
    for f in &merged.files {
        s.files.read += 1;
        match f.status.as_str() {
            "accepted" => s.files.accepted += 1,
            "rejected" => s.files.rejected += 1,
            "superseded" => s.files.superseded += 1,
            _ => s.files.ignored += 1,
        }
        s.rows.read += f.rows_read as u64;
        s.rows.accepted += f.rows_accepted as u64;
        s.rows.rejected += f.rows_rejected as u64;
    }
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        s.findings.insert(severity.as_str().into(), 0);
    }
    for f in merged.findings.iter().chain(&refs.findings) {
        *s.findings.entry(f.severity.clone()).or_default() += 1;
    }
    s.returns_missing = merged.completeness.iter().filter(|e| e.status == "missing").count();
    let rejected_anything = s.files.rejected > 0 || s.files.ignored > 0 || s.rows.rejected > 0;
    s.exit_code = if rejected_anything || s.returns_missing > 0 { 1 } else { 0 };
    s
}

impl Summary {
    /// The short text people read after a run.
    pub fn human(&self) -> String {
        let mut lines = vec![format!("tonghop: {} {}", self.pipeline, self.period)];
        let f = &self.files;
        lines.push(format!(
            "  files: {} read, {} accepted, {} rejected, {} superseded, {} not returns",
            f.read, f.accepted, f.rejected, f.superseded, f.ignored
        ));
        let r = &self.rows;
        lines.push(format!("  rows:  {} read = {} accepted + {} rejected", r.read, r.accepted, r.rejected));
        let n = |k: &str| self.findings.get(k).copied().unwrap_or(0);
        lines.push(format!(
            "  findings: {} errors, {} warnings, {} info; {} returns missing",
            n("error"),
            n("warning"),
            n("info"),
            self.returns_missing
        ));
        let skipped = self.stages.iter().filter(|s| s.outcome == "skipped").count();
        if skipped > 0 {
            lines.push(format!("  {skipped} stage(s) skipped: inputs unchanged (--force reruns them)"));
        }
        for o in &self.outputs {
            lines.push(format!("  wrote {o}"));
        }
        if self.exit_code == 1 {
            lines.push("  some returns were rejected or are missing: the workbook lists them".into());
        }
        lines.join("\n")
    }
}
