//! A run: the five stages for one period, with the periods its cumulative figures need.
//!
//! Each stage reads the previous stage's artifact from the work directory and writes its
//! own, sealed with a manifest over its inputs (the definition, the tool version, the
//! input files' hashes, the previous stage's key). `run_stage` skips a stage whose
//! manifest matches unless forced, so rerunning after fixing one return redoes only that
//! period and what adds it up.

mod export;
mod feedback;
mod summary;

pub use export::{export, ExportOptions, Exported, Format, FIGURES_SCHEMA, FINDINGS_EXPORT_SCHEMA};
pub use feedback::{feedback, FeedbackWritten};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use polars::prelude::DataFrame;

pub use summary::{FileCounts, RowCounts, Summary};

use crate::definition::Plan;
use crate::error::Error;
use crate::model::{
    name_units, status_json, status_text, Batch, FileRecord, Finding, History, LastYear, Period, PeriodKind,
    References, Stage, StageOutcome, StageRun, StatusJson, TableSchemas, FINDINGS_SCHEMA,
};
use crate::project::Identity;
use crate::registry::{Hierarchy, Registry};
use crate::report::{self, ReportInput};
use crate::store::{self, Before, Freshness, HashIndex, Manifest, Save, Saver, StageDir, WorkDir};
use crate::workbook::reference;
use crate::{aggregate, ingest, merge, template, validate};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The definition file, hashed into every stage's key.
    pub pipeline: PathBuf,
    pub data: PathBuf,
    /// The period to consolidate; the newest inbox folder when none.
    pub period: Option<Period>,
    pub out: PathBuf,
    pub from: Stage,
    pub to: Stage,
    pub force: bool,
    /// The date of the workbook's date line; today when none.
    pub date: Option<chrono::NaiveDate>,
    /// Who the board is (the project's); without one the registry's top unit heads the
    /// letterhead.
    pub identity: Option<Identity>,
    /// Show a progress bar while reading files (for a person at a terminal).
    pub progress: bool,
}

/// Consolidate one period, bringing the earlier periods its figures add up up to date.
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Summary, Error> {
    // The inputs first: nothing is created under --out before they are known good.
    let period = match opts.period {
        Some(p) => p,
        None => newest_period(&opts.data, plan.pipeline.period)?,
    };
    let run = Run::new(plan, opts, WorkDir::new(&opts.out, &plan.pipeline.name))?;
    if let Some(old) = run.work.old_layout() {
        tracing::warn!(
            "{} holds periods as tonghop 0.1 laid them out; they are no longer read: {OLD_LAYOUT}",
            old.display()
        );
    }
    let _lock = run.work.lock()?;
    run.work.remove_leftovers()?;
    run.consolidate(period)
}

/// The blank returns of `unit` (every expected unit when none) for `period`, each table
/// sized for the unit: as many rows as its last accepted return held, up to `period`, and
/// `template::SPARE_ROWS` more.
pub fn templates(
    plan: &Plan,
    data: &Path,
    out: &Path,
    identity: &Identity,
    period: Period,
    unit: Option<&str>,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let registry = Registry::load(&data.join(&plan.registry.file), &plan.registry.levels)?;
    let hierarchy = registry.hierarchy(period, &plan.registry.levels)?;
    let work = WorkDir::new(out, &plan.pipeline.name);
    let mut rows = HashMap::new();
    let consolidated = work.periods(plan.pipeline.period).into_iter().filter(|p| *p <= period);
    let last = consolidated
        .rev()
        .find_map(|p| work.stage(p, Stage::Merge).load_batch_without_placements(&TableSchemas::of(plan)).ok());
    for (table, frame) in last.iter().flat_map(|batch| &batch.tables) {
        for code in crate::model::frame::text_column(frame, "_unit").unwrap_or_default() {
            *rows.entry((table.clone(), code)).or_insert(template::SPARE_ROWS) += 1;
        }
    }
    let options = template::Options { identity: identity.clone(), rows, fill: None };
    let forms = match unit {
        Some(code) => template::for_unit(plan, &hierarchy, code, period, &options)?,
        None => template::for_all(plan, &hierarchy, period, &options)?,
    };
    Ok(forms)
}

/// The report stage's record of the files it wrote, each with its SHA-256.
const OUTPUTS: &str = "outputs.json";

/// What to do with a work directory of tonghop 0.1 (`OUT/work/<period>/`).
const OLD_LAYOUT: &str = "each pipeline now has its own `work/<pipeline>/`, which `tonghop run --period A..B` fills \
                          again from the inbox; delete the old period folders under `work/` once it has";

/// The newest period folder of the inbox (`YYYY-MM` or `YYYY-Qn`, as the pipeline's period).
pub fn newest_period(data: &Path, kind: PeriodKind) -> anyhow::Result<Period> {
    let inbox = data.join("inbox");
    let mut periods = store::periods_in(&inbox, kind).with_context(|| format!("cannot list {}", inbox.display()))?;
    periods.pop().with_context(|| format!("{} has no {} folder", inbox.display(), kind.pattern()))
}

/// What `tonghop status` says of a period, for people and for scripts.
pub struct Status {
    pub text: String,
    pub json: StatusJson,
    /// The exit code of the run up to merge that the status made.
    pub exit_code: u8,
}

/// A period brought up to merge, as `status` and `feedback` read it: the run's summary,
/// the period, its merged batch (without placements) and its hierarchy.
struct UpToMerge<'a> {
    run: Run<'a>,
    summary: Summary,
    period: Period,
    merged: Batch,
    hierarchy: Hierarchy,
}

fn up_to_merge<'a>(plan: &'a Plan, opts: &'a RunOptions) -> Result<UpToMerge<'a>, Error> {
    let upto_merge = RunOptions { from: Stage::Ingest, to: Stage::Merge, force: false, ..opts.clone() };
    let summary = run(plan, &upto_merge)?;
    let period: Period = summary.period.parse().map_err(anyhow::Error::from)?;
    let run = Run::new(plan, opts, WorkDir::new(&opts.out, &plan.pipeline.name))?;
    let merged = run.work.stage(period, Stage::Merge).load_batch_without_placements(&TableSchemas::of(plan))?;
    let hierarchy = run.hierarchy(period)?;
    Ok(UpToMerge { run, summary, period, merged, hierarchy })
}

/// The status of a period: who has sent what, after a run up to merge.
pub fn status(plan: &Plan, opts: &RunOptions) -> Result<Status, Error> {
    let UpToMerge { run, summary, period, merged, hierarchy } = up_to_merge(plan, opts)?;
    let stale = run.stale_periods()?;
    let mut text = status_text(plan, &hierarchy, period, &merged.completeness, &stale);
    if let Some(old) = run.work.old_layout() {
        text.push_str(&format!("\nnote: {} holds periods as tonghop 0.1 laid them out: {OLD_LAYOUT}\n", old.display()));
    }
    let json = status_json(plan, &hierarchy, period, &merged.completeness, &stale, summary.exit_code);
    Ok(Status { text, json, exit_code: summary.exit_code })
}

/// Everything a run reads once, and what its stages did.
struct Run<'a> {
    plan: &'a Plan,
    opts: &'a RunOptions,
    work: WorkDir,
    /// SHA-256 of the definition file.
    definition: String,
    registry: Registry,
    registry_hash: String,
    /// The date of the workbook's date line: `--date`, else the day the run began.
    today: chrono::NaiveDate,
}

/// The stages of a run: each run unless fresh, and what became of it.
struct Stages {
    work: WorkDir,
    runs: Vec<StageRun>,
    /// Writes and seals the artifacts of the stages that ran, while the next one works.
    saver: Saver,
}

/// What a rerun may keep of a period's last ingest and validation, unless `--force` asks
/// for everything again: a file unchanged since is not read, nor validated, again. Each
/// batch is read on a thread of its own, from the manifest read when this was made; its
/// stage's folder is not written before the stage has taken it.
struct Previous {
    period: Period,
    ingest: Option<Reading>,
    validate: Option<Reading>,
}

/// A stage's last batch being read, or its manifest until it is.
enum Reading {
    Sealed(StageDir, Manifest),
    Started(std::thread::JoinHandle<Option<Batch>>),
}

impl Reading {
    /// The batch, when it can be kept.
    fn join(self) -> Option<Batch> {
        match self {
            Reading::Sealed(..) => None,
            Reading::Started(reading) => reading.join().ok().flatten(),
        }
    }
}

impl Previous {
    fn of(run: &Run, period: Period, asked: Selection) -> Previous {
        // A stage the selection does not run, or reruns whole, keeps nothing: its manifest
        // is not read.
        let sealed = |stage| {
            if stage < asked.first || asked.forced_by_flag(stage) {
                return None;
            }
            let dir = run.work.stage(period, stage);
            let manifest = dir.manifest()?;
            Some(Reading::Sealed(dir, manifest))
        };
        Previous { period, ingest: sealed(Stage::Ingest), validate: sealed(Stage::Validate) }
    }

    /// Start reading the batches of `stages` not read yet. A batch is kept when it was
    /// made under this definition and tool version (and, for validation, the same
    /// registry) and its artifacts are as written.
    fn read(&mut self, run: &Run, stages: std::ops::RangeInclusive<Stage>) {
        let tables = TableSchemas::of(run.plan);
        let start = |reading: &mut Option<Reading>, now: Manifest, upstream, with_placements| {
            *reading = match reading.take() {
                Some(Reading::Sealed(dir, sealed)) => {
                    let tables = tables.clone();
                    Some(Reading::Started(std::thread::spawn(move || {
                        idle_priority();
                        dir.reusable(&sealed, &now, upstream, (&tables, with_placements))
                    })))
                }
                started => started,
            };
        };
        let period = self.period;
        if stages.contains(&Stage::Ingest) {
            start(&mut self.ingest, Manifest::new(Stage::Ingest, period, &run.definition, BTreeMap::new()), None, true);
        }
        if stages.contains(&Stage::Validate) {
            start(&mut self.validate, run.validate_manifest(period, ""), Some("ingest"), false);
        }
    }
}

/// The calling thread works only when the run leaves a core idle: it reads what the run
/// may need later, and must not slow what the run needs now.
fn idle_priority() {
    // Linux gives each thread a priority of its own; elsewhere this would lower the whole
    // process, so the thread keeps the run's.
    #[cfg(target_os = "linux")]
    unsafe {
        // SAFETY: setpriority only reads its arguments; the thread id is the caller's own.
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
    }
}

/// A period's inbox files and the manifests its period-level stages would seal.
struct PeriodInputs {
    period: Period,
    files: Vec<ingest::InboxFile>,
    /// Each inbox file's name and SHA-256.
    hashes: BTreeMap<String, String>,
    /// Each inbox file's modification time, seconds since the epoch.
    modified: BTreeMap<String, i64>,
    ingest: Manifest,
    validate: Manifest,
    merge: Manifest,
}

/// The stages of a period to run: `first..=last`, and whether to rerun them when fresh.
#[derive(Clone, Copy)]
struct Selection {
    first: Stage,
    last: Stage,
    /// The stages `--force` redoes: the ones selected, in every period read.
    forced: Option<(Stage, Stage)>,
    /// A stage before ran: every later one reruns.
    cascade: bool,
}

impl Selection {
    fn forces(&self, stage: Stage) -> bool {
        self.cascade || self.forced_by_flag(stage)
    }

    /// Whether `--force` asks for this stage to be done from nothing.
    fn forced_by_flag(&self, stage: Stage) -> bool {
        self.forced.is_some_and(|(first, last)| (first..=last).contains(&stage))
    }
}

impl<'a> Run<'a> {
    fn new(plan: &'a Plan, opts: &'a RunOptions, work: WorkDir) -> Result<Run<'a>, Error> {
        let registry_path = opts.data.join(&plan.registry.file);
        Ok(Run {
            plan,
            opts,
            work,
            definition: definition_hash(&opts.pipeline)?,
            registry: Registry::load(&registry_path, &plan.registry.levels)?,
            registry_hash: store::sha256_file(&registry_path)?,
            today: opts.date.unwrap_or_else(|| chrono::Local::now().date_naive()),
        })
    }

    fn hierarchy(&self, period: Period) -> anyhow::Result<Hierarchy> {
        self.registry.hierarchy(period, &self.plan.registry.levels)
    }

    fn consolidate(&self, period: Period) -> Result<Summary, Error> {
        let opts = self.opts;
        let mut stages = Stages { work: self.work.clone(), runs: Vec::new(), saver: Saver::default() };
        let started = std::time::Instant::now();
        // What a rerun keeps of the period's last ingest and validation is read while the
        // inbox is listed and hashed, which leaves the other core idle.
        let forced = opts.force.then_some((opts.from, opts.to));
        let asked = Selection { first: opts.from, last: opts.to, forced, cascade: false };
        let mut ahead = Previous::of(self, period, asked);
        ahead.read(self, opts.from..=Stage::Ingest);
        let mut ahead = Some(ahead);
        let hierarchy = self.hierarchy(period)?;
        let references = self.reference_files()?;
        let (mut refs, to_keep) = self.reference_tables(period, &hierarchy, &references)?;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "reference tables read");
        let (periods, from_inbox) = self.periods_for(period, refs.cutoff);
        refs.last_year = self.last_year(period, from_inbox)?;
        let inputs: Vec<PeriodInputs> =
            periods.iter().map(|&p| self.period_inputs(p)).collect::<anyhow::Result<_>>()?;
        // Kept once the run's inputs are all there: a run that cannot start leaves nothing.
        if let Some(key) = to_keep {
            self.work.references(period).save(&key, &refs)?;
        }
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "inbox listed and hashed");
        let mut aggregate_inputs: BTreeMap<String, String> =
            inputs.iter().map(|p| (format!("merge {}", p.period), p.merge.key.clone())).collect();
        aggregate_inputs.extend(references.iter().map(|(file, _, hash)| (file.clone(), hash.clone())));
        let aggregate_key = Manifest::new(Stage::Aggregate, period, &self.definition, aggregate_inputs);
        if let Some(last) = inputs.last() {
            self.check_unselected(last, &aggregate_key)?;
        }
        // Earlier periods are brought up to date whatever the stage selection: the figures
        // of this one need them.
        // The merged batches made by this run, handed on in memory rather than read back.
        let mut merged_now = BTreeMap::new();
        for p in &inputs {
            let (selection, previous) = match p.period == period {
                true => (asked, ahead.take()),
                false => (Selection { first: Stage::Ingest, last: Stage::Merge, forced, cascade: false }, None),
            };
            let previous = previous.unwrap_or_else(|| Previous::of(self, p.period, selection));
            if let Some(batch) = self.period_stages(&mut stages, p, selection, previous)? {
                merged_now.insert(p.period, batch);
            }
        }
        name_units(&hierarchy, &mut refs.findings);

        let selection = Selection {
            first: opts.from,
            last: opts.to,
            forced: opts.force.then_some((opts.from, opts.to)),
            cascade: false,
        };
        // The figures and their findings as aggregate made them, when it ran.
        let mut aggregated_now = None;
        stages.run(period, Stage::Aggregate, &aggregate_key, selection, |dir| {
            let history = self.history(&periods, &merged_now)?;
            let (figures, mut findings) = aggregate::aggregate(self.plan, &hierarchy, period, &history, &refs)?;
            name_units(&hierarchy, &mut findings);
            tracing::info!(%period, units = figures.height(), periods = periods.len(), "aggregated");
            let (dir, frames) = (dir.clone(), (figures.clone(), Finding::to_frame(&findings)?));
            aggregated_now = Some((figures, findings));
            Ok(Some(Box::new(move || {
                dir.write_frame("figures", &frames.0)?;
                dir.write_frame("findings", &frames.1)
            })))
        })?;
        // What the figures say of the inputs, once the figures exist.
        let aggregated = self.work.stage(period, Stage::Aggregate);
        let mut more = refs.findings.clone();
        if opts.to >= Stage::Aggregate {
            match &aggregated_now {
                Some((_, findings)) => more.extend(findings.iter().cloned()),
                None => {
                    stages.saver.wait()?;
                    more.extend(Finding::from_frame(&aggregated.read_frame("findings")?)?);
                }
            }
        }

        // The summary tells what the last period-level stage of this run knows.
        let summary_stage = opts.to.min(Stage::Merge);
        let merged = match merged_now.remove(&period) {
            Some(batch) if summary_stage == Stage::Merge => batch,
            _ => {
                stages.saver.wait()?;
                self.work
                    .stage(period, summary_stage)
                    .load_batch_without_placements(&TableSchemas::of(self.plan))
                    .with_context(|| format!("the {} stage of {period} has not run yet", summary_stage.name()))?
            }
        };
        let mut outputs = Vec::new();
        // The workbook is drawn again when its figures, the date of its date line, the
        // board's identity or the files it wrote changed since; else it stands as drawn.
        let today = self.today;
        let identity = serde_json::to_vec(&opts.identity).map_err(anyhow::Error::from)?;
        let report_inputs = BTreeMap::from([
            ("aggregate".to_string(), aggregate_key.key.clone()),
            ("merge".to_string(), inputs.last().map(|p| p.merge.key.clone()).unwrap_or_default()),
            ("date".to_string(), today.to_string()),
            ("identity".to_string(), store::sha256(&identity)),
        ]);
        let report_key = Manifest::new(Stage::Report, period, &self.definition, report_inputs);
        let report_dir = self.work.stage(period, Stage::Report);
        let written_before: BTreeMap<String, String> = report_dir.read_json(OUTPUTS).unwrap_or_default();
        // Named under the out directory: a copy of it is a copy of what was written.
        let outputs_intact = !written_before.is_empty()
            && written_before
                .iter()
                .all(|(name, hash)| store::sha256_file(&opts.out.join(name)).is_ok_and(|h| &h == hash));
        let selection = Selection { cascade: !outputs_intact, ..selection };
        let figures_now = aggregated_now.map(|(figures, _)| figures);
        if figures_now.is_none() {
            stages.saver.wait()?;
        }
        // The workbook is published only once every stage before it is saved: a run whose
        // artifacts could not be written publishes nothing new. Drawing it takes longer
        // than those saves, so this seldom waits.
        let mut saved_before = std::mem::take(&mut stages.saver);
        stages.run(period, Stage::Report, &report_key, selection, |dir| {
            let figures = match figures_now {
                Some(figures) => figures,
                None => aggregated.read_frame("figures")?,
            };
            let (bytes, findings) = self.draw_report(&hierarchy, period, &figures, &merged, &more, &references)?;
            let waited = std::time::Instant::now();
            saved_before.wait()?;
            tracing::debug!(elapsed_ms = waited.elapsed().as_millis() as u64, "earlier stages' saves waited for");
            let written = self.write_report(period, bytes, findings)?;
            let named = |p: &PathBuf| p.strip_prefix(&opts.out).unwrap_or(p).to_string_lossy().into_owned();
            let hashes: anyhow::Result<BTreeMap<String, String>> =
                written.iter().map(|p| Ok((named(p), store::sha256_file(p)?))).collect();
            dir.write_json(OUTPUTS, &hashes?)?;
            outputs.extend(written.iter().map(|p| p.display().to_string()));
            Ok(None)
        })?;
        // The run is over when everything it made is on disk.
        saved_before.wait()?;
        stages.saver.wait()?;
        let report_ran = stages.runs.iter().any(|s| s.stage == Stage::Report && s.outcome == StageOutcome::Ran);
        let mut summary = Summary::of(&self.plan.pipeline.name, period, &merged, &more, stages.runs, outputs);
        if !report_ran && opts.to >= Stage::Report {
            summary.kept = written_before.into_keys().map(|name| opts.out.join(name).display().to_string()).collect();
        }
        free_on_the_side((merged, merged_now, more, refs, inputs, hierarchy));
        Ok(summary)
    }

    /// The stages of the run's period before the selection (`--from`, `--only`) must be up
    /// to date with the inputs on disk now: checked before anything runs, so a refused
    /// selection changes nothing.
    fn check_unselected(&self, p: &PeriodInputs, aggregate: &Manifest) -> Result<(), Error> {
        let stages = [(Stage::Ingest, &p.ingest), (Stage::Validate, &p.validate), (Stage::Merge, &p.merge)];
        for (stage, manifest) in stages.into_iter().chain([(Stage::Aggregate, aggregate)]) {
            if stage >= self.opts.from {
                break;
            }
            if let Some(why) = self.work.stage(p.period, stage).is_fresh(manifest).problem() {
                return Err(Error::Stale { stage, period: p.period, why });
            }
        }
        Ok(())
    }

    /// Ingest, validate and merge of one period, as selected; a stage that ran makes the
    /// ones after it rerun. Each stage hands the batch it saved to the next in memory; the
    /// merged batch is returned when merge ran.
    fn period_stages(
        &self,
        stages: &mut Stages,
        p: &PeriodInputs,
        mut selection: Selection,
        mut previous: Previous,
    ) -> Result<Option<Batch>, Error> {
        let (plan, period) = (self.plan, p.period);
        let hierarchy = self.hierarchy(period)?;
        let tables = TableSchemas::of(plan);
        let progress = self.opts.progress;
        let mut handed = None;
        let ran = stages.run(period, Stage::Ingest, &p.ingest, selection, |dir| {
            // Validate runs again whenever ingest does: its last batch is read meanwhile.
            previous.read(self, Stage::Ingest..=Stage::Validate);
            let previous = previous.ingest.take().and_then(Reading::join);
            // What it saved last, to leave in place what did not change.
            let kept = previous.as_ref().map(|b| (b.tables.clone(), b.placements.clone(), b.titles.clone()));
            let bar = progress_bar(progress, p.files.len(), &format!("{period} ingest"));
            let (mut batch, read) = ingest::ingest_reusing(plan, &p.files, &p.hashes, previous, &|| bar.inc(1))?;
            bar.finish_and_clear();
            for file in &mut batch.files {
                file.modified = p.modified.get(&file.file).copied().unwrap_or(file.modified);
            }
            tracing::info!(%period, read, of = p.files.len(), "files read; the others unchanged since the last run");
            log_batch(period, Stage::Ingest, &batch);
            let (dir, tables, saved) = (dir.clone(), tables.clone(), batch.clone());
            handed = Some(batch);
            Ok(Some(Box::new(move || {
                let before = kept.as_ref().map(|(t, placements, titles)| Before {
                    dir: &dir,
                    tables: t,
                    parts: Some((placements, titles)),
                });
                dir.save_batch(&saved, &tables, before)
            })))
        })?;
        selection.cascade |= ran == StageOutcome::Ran;
        let work = &self.work;
        // Validation is of each file alone: a file unchanged keeps what its last validation
        // found, when the registry is the same.
        let ran = stages.run(period, Stage::Validate, &p.validate, selection, |dir| {
            let input = match handed.take() {
                Some(batch) => batch,
                None => work.stage(period, Stage::Ingest).load_batch(&tables)?,
            };
            let handed_tables = input.tables.clone();
            previous.read(self, Stage::Validate..=Stage::Validate);
            let previous = previous.validate.take().and_then(Reading::join);
            let batch = match previous {
                Some(previous) => {
                    let before: HashMap<&str, &str> =
                        previous.files.iter().map(|f| (f.file.as_str(), f.sha256.as_str())).collect();
                    let unchanged = |f: &&FileRecord| before.get(f.file.as_str()) == Some(&f.sha256.as_str());
                    let same: HashSet<String> = input.files.iter().filter(unchanged).map(|f| f.file.clone()).collect();
                    let changed: HashSet<String> =
                        input.files.iter().filter(|f| !unchanged(f)).map(|f| f.file.clone()).collect();
                    tracing::info!(%period, validated = changed.len(), of = input.files.len(), "files validated again");
                    // Validation passes the placements on: all of them, as ingest saved them.
                    let placements = input.placements.clone();
                    let fresh = validate::validate(plan, &hierarchy, period, input.of_files(&changed)?)?;
                    Batch { placements, ..previous.of_files(&same)?.join(fresh)? }
                }
                None => validate::validate(plan, &hierarchy, period, input)?,
            };
            log_batch(period, Stage::Validate, &batch);
            let (dir, tables, saved) = (dir.clone(), tables.clone(), batch.clone());
            let ingested = work.stage(period, Stage::Ingest);
            handed = Some(batch);
            Ok(Some(Box::new(move || {
                dir.save_batch(&saved, &tables, Some(Before { dir: &ingested, tables: &handed_tables, parts: None }))
            })))
        })?;
        selection.cascade |= ran == StageOutcome::Ran;
        stages.run(period, Stage::Merge, &p.merge, selection, |dir| {
            let mut input = match handed.take() {
                Some(batch) => batch,
                None => work.stage(period, Stage::Validate).load_batch(&tables)?,
            };
            let handed_tables = input.tables.clone();
            // Resubmissions are ordered by the files' times as they are now.
            for file in &mut input.files {
                file.modified = p.modified.get(&file.file).copied().unwrap_or(0);
            }
            let batch = merge::merge(plan, &hierarchy, period, input)?;
            log_batch(period, Stage::Merge, &batch);
            let (dir, tables, saved) = (dir.clone(), tables.clone(), batch.clone());
            let validated = work.stage(period, Stage::Validate);
            handed = Some(batch);
            Ok(Some(Box::new(move || {
                dir.save_batch(&saved, &tables, Some(Before { dir: &validated, tables: &handed_tables, parts: None }))
            })))
        })?;
        Ok(handed)
    }

    /// A period's inbox, hashed, and the manifests of its period-level stages.
    fn period_inputs(&self, period: Period) -> anyhow::Result<PeriodInputs> {
        let inbox = self.opts.data.join("inbox").join(period.to_string());
        if !inbox.is_dir() {
            bail!("the figures of this period need the returns of {period}, but {} does not exist", inbox.display());
        }
        let files = ingest::inbox_files(&inbox)?;
        // A file that cannot be read is the finding ingest makes of it, not the run's end:
        // its key is the reason, so a readable file later makes the stage stale. A file
        // unchanged since the last run is not read again to be hashed.
        let mut index = HashIndex::load(&self.work, period);
        let named: Vec<(String, PathBuf)> = files.iter().map(|f| (f.name.clone(), f.path.clone())).collect();
        let hashes = index.hash_all(&named);
        index.save(&self.work, period)?;
        let time = |f: &ingest::InboxFile| index.modified_s(&f.name).unwrap_or_else(|| modified(&f.path));
        let modified: BTreeMap<String, i64> = files.iter().map(|f| (f.name.clone(), time(f))).collect();
        let ingest = Manifest::new(Stage::Ingest, period, &self.definition, hashes.clone());
        let validate = self.validate_manifest(period, &ingest.key);
        // Which of a unit's returns is the newest can turn on file times.
        let times: Vec<String> = modified.iter().map(|(name, time)| format!("{name}={time}")).collect();
        let merge_inputs = BTreeMap::from([
            ("validate".to_string(), validate.key.clone()),
            ("file times".to_string(), store::sha256(times.join("\n").as_bytes())),
        ]);
        let merge = Manifest::new(Stage::Merge, period, &self.definition, merge_inputs);
        Ok(PeriodInputs { period, files, hashes, modified, ingest, validate, merge })
    }

    /// The manifest validate seals after the ingest sealed under `ingest`: the registry
    /// counts too.
    fn validate_manifest(&self, period: Period, ingest: &str) -> Manifest {
        let registry = (self.plan.registry.file.clone(), self.registry_hash.clone());
        let inputs = BTreeMap::from([("ingest".to_string(), ingest.to_string()), registry]);
        Manifest::new(Stage::Validate, period, &self.definition, inputs)
    }

    /// Every merged row of each return table over `periods`, and who was missing when: the
    /// history the sums run over. The batches merged by this run are taken as they are,
    /// the others read back.
    fn history(&self, periods: &[Period], merged_now: &BTreeMap<Period, Batch>) -> anyhow::Result<History> {
        let mut history = History::default();
        for &p in periods {
            match merged_now.get(&p) {
                Some(batch) => history.add(p, batch)?,
                None => {
                    let merged = self.work.stage(p, Stage::Merge);
                    history.add(p, &merged.load_batch_without_placements(&TableSchemas::of(self.plan))?)?
                }
            }
        }
        Ok(history)
    }

    /// Every period whose returns the figures of `period` add up, oldest first, and
    /// whether last year's are among them: when the inbox has every period the same period
    /// a year earlier needs, and this definition's levels fit last year's units, those are
    /// consolidated too; else the published figures stand for them (across a
    /// reorganisation that removed a level, last year's returns are another definition's).
    fn periods_for(&self, period: Period, cutoff: Option<Period>) -> (Vec<Period>, bool) {
        let mut periods = aggregate::periods_needed(self.plan, period, cutoff);
        let last_year = self.plan.year_ago_periods(period);
        let inbox = self.opts.data.join("inbox");
        let readable = |p: &Period| inbox.join(p.to_string()).is_dir() && self.hierarchy(*p).is_ok();
        let from_inbox = !last_year.is_empty() && last_year.iter().all(readable);
        if from_inbox {
            periods.extend(last_year);
            periods.sort();
            periods.dedup();
        }
        (periods, from_inbox)
    }

    /// What the same period a year earlier is made of, when a measure shows it: last
    /// year's units, and the successors of a reorganisation between then and `period`.
    fn last_year(&self, period: Period, from_inbox: bool) -> anyhow::Result<Option<LastYear>> {
        if self.plan.year_ago_periods(period).is_empty() {
            return Ok(None);
        }
        let before = period.year_before();
        // Last year's units as they were, whatever their kinds then: a reorganisation can
        // have removed a level (the districts of 2025).
        let mut levels = self.plan.registry.levels.clone();
        for unit in &self.registry.units {
            if !levels.contains(&unit.kind) {
                levels.push(unit.kind.clone());
            }
        }
        let Ok(hierarchy) = self.registry.hierarchy(before, &levels) else { return Ok(None) };
        let mut successors = HashMap::new();
        if let Some(s) = &self.plan.registry.succession {
            if before.last_month() < s.from && s.from <= period.last_month() {
                let headers = [s.unit.as_str(), s.predecessor.as_str(), s.how.as_str()];
                successors = crate::registry::successors(&self.opts.data.join(&s.file), headers, &s.whole)?;
            }
        }
        Ok(Some(LastYear { hierarchy, from_inbox, successors }))
    }

    /// The reference tables of `period`: as last read when nothing they are read from
    /// changed (`references`, the registry among them, and the definition); else read,
    /// with the key to keep them under for the next run.
    fn reference_tables(
        &self,
        period: Period,
        hierarchy: &Hierarchy,
        references: &[(String, u64, String)],
    ) -> anyhow::Result<(References, Option<String>)> {
        let cache = self.work.references(period);
        let key = cache.key(&self.definition, references.iter().map(|(file, _, hash)| (file.as_str(), hash.as_str())));
        if let Some(refs) = cache.load(&key) {
            tracing::info!(%period, "reference tables unchanged since the last run: not read again");
            return Ok((refs, None));
        }
        Ok((reference::load(self.plan, &self.opts.data, period, hierarchy)?, Some(key)))
    }

    /// The registry and the reference files with their size and SHA-256.
    fn reference_files(&self) -> anyhow::Result<Vec<(String, u64, String)>> {
        let size = |file: &str| -> anyhow::Result<u64> {
            let path = self.opts.data.join(file);
            Ok(std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.len())
        };
        let registry = &self.plan.registry.file;
        let mut out = vec![(registry.clone(), size(registry)?, self.registry_hash.clone())];
        let succession = self.plan.registry.succession.iter().map(|s| (&s.file, false));
        for (file, optional) in self.plan.references.iter().map(|r| (&r.file, r.optional)).chain(succession) {
            let path = self.opts.data.join(file);
            if optional && !path.exists() {
                // A table the board may not have: the key says so, and the file put in
                // later makes the figures stale.
                out.push((file.clone(), 0, "absent".into()));
                continue;
            }
            out.push((file.clone(), size(file)?, store::sha256_file(&path)?));
        }
        Ok(out)
    }

    /// The workbook's bytes, and the findings it shows.
    fn draw_report(
        &self,
        hierarchy: &Hierarchy,
        period: Period,
        figures: &DataFrame,
        merged: &Batch,
        more: &[Finding],
        inputs: &[(String, u64, String)],
    ) -> anyhow::Result<(Vec<u8>, Vec<Finding>)> {
        let plan = self.plan;
        let mut findings = merged.findings.clone();
        findings.extend(more.iter().cloned());
        let now = chrono::Local::now();
        let top = || hierarchy.units.iter().find(|u| u.parent.is_empty()).map_or("", |u| u.name.as_str());
        let identity = self.opts.identity.clone().unwrap_or_else(|| Identity::of_top_unit(top()));
        let input = ReportInput {
            plan,
            identity: &identity,
            hierarchy,
            period,
            figures,
            tables: &merged.tables,
            findings: &findings,
            completeness: &merged.completeness,
            files: &merged.files,
            inputs,
            run_time: now.format("%Y-%m-%d %H:%M:%S").to_string(),
            today: self.today,
        };
        Ok((report::render(&input)?, findings))
    }

    /// The workbook, and its findings as JSON and Parquet beside it; returns the three paths.
    fn write_report(&self, period: Period, bytes: Vec<u8>, mut findings: Vec<Finding>) -> anyhow::Result<[PathBuf; 3]> {
        let plan = self.plan;
        let workbook = self.opts.out.join(plan.workbook.file.replace("{period}", &period.to_string()));
        let (json, parquet) = findings_paths(&workbook);
        // Three files, each synced to disk: side by side.
        let (written, findings_written) = rayon::join(
            || store::write_atomic(&workbook, &bytes),
            || write_findings(plan, period, &mut findings, &json, &parquet),
        );
        written.and(findings_written)?;
        free_on_the_side(bytes);
        tracing::info!(%period, workbook = %workbook.display(), "report drawn");
        Ok([workbook, json, parquet])
    }

    /// Consolidated periods (an aggregate in the work directory) whose inputs changed since:
    /// a corrected return of an earlier period makes every later period that adds it up stale.
    fn stale_periods(&self) -> anyhow::Result<Vec<Period>> {
        let mut stale = Vec::new();
        for period in self.work.periods(self.plan.pipeline.period) {
            let dir = self.work.stage(period, Stage::Aggregate);
            let Some(sealed) = dir.manifest() else { continue };
            if !self.aggregate_inputs_now(period).is_ok_and(|now| now == sealed.inputs) {
                stale.push(period);
            }
        }
        Ok(stale)
    }

    /// What the aggregate stage of `period` would read now.
    fn aggregate_inputs_now(&self, period: Period) -> anyhow::Result<BTreeMap<String, String>> {
        let references = self.reference_files()?;
        let (refs, _) = self.reference_tables(period, &self.hierarchy(period)?, &references)?;
        let mut inputs = BTreeMap::new();
        for p in self.periods_for(period, refs.cutoff).0 {
            inputs.insert(format!("merge {p}"), self.period_inputs(p)?.merge.key);
        }
        inputs.extend(references.into_iter().map(|(file, _, hash)| (file, hash)));
        Ok(inputs)
    }
}

impl Stages {
    /// Run one stage of one period, when selected, unless its artifacts were sealed under
    /// the same manifest and are as written: `work` writes the artifacts into the stage's
    /// folder, or returns what writes them, which the saver runs while the next stage
    /// works; then the manifest seals them. A stage before the selection is not run, but
    /// what follows needs its artifacts: it must be up to date, or the selection is refused.
    fn run(
        &mut self,
        period: Period,
        stage: Stage,
        manifest: &Manifest,
        selection: Selection,
        work: impl FnOnce(&StageDir) -> anyhow::Result<Option<Save>>,
    ) -> Result<StageOutcome, Error> {
        if stage > selection.last {
            return Ok(StageOutcome::NotSelected);
        }
        let dir = self.work.stage(period, stage);
        let freshness = dir.is_fresh(manifest);
        let outcome = match (stage < selection.first, freshness.problem()) {
            (true, None) => StageOutcome::NotSelected,
            (true, Some(why)) => return Err(Error::Stale { stage, period, why }),
            (false, None) if !selection.forces(stage) => StageOutcome::Unchanged,
            (false, _) => {
                if freshness == Freshness::Damaged {
                    tracing::warn!(%period, stage = stage.name(), "artifacts changed since they were written: redone");
                }
                let started = std::time::Instant::now();
                dir.unseal()?;
                let save = work(&dir)?;
                let elapsed_ms = started.elapsed().as_millis() as u64;
                tracing::info!(%period, stage = stage.name(), elapsed_ms, "stage ran");
                let manifest = manifest.clone();
                self.saver.submit(Box::new(move || {
                    let started = std::time::Instant::now();
                    if let Some(save) = save {
                        save()?;
                    }
                    dir.seal(&manifest)?;
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    tracing::debug!(%period, stage = stage.name(), elapsed_ms, "artifacts saved and sealed");
                    Ok(())
                }));
                StageOutcome::Ran
            }
        };
        self.runs.push(StageRun { period, stage, outcome });
        Ok(outcome)
    }
}

/// `value` freed on a thread of its own while the run goes on: the batches and tables of
/// ten thousand returns take milliseconds to free. A run that ends first leaves them to
/// the operating system.
fn free_on_the_side<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// SHA-256 over the definition file and every file it `extends`: a change to any of them
/// makes every stage stale.
fn definition_hash(path: &Path) -> Result<String, Error> {
    let sources = crate::definition::sources(path)?;
    let mut joined = Vec::new();
    for (_, text) in &sources {
        joined.extend_from_slice(text.as_bytes());
        joined.push(0);
    }
    // One file alone hashes as its bytes, as before `extends` existed: its stages stay fresh.
    Ok(match sources.as_slice() {
        [(_, only)] => store::sha256(only.as_bytes()),
        _ => store::sha256(&joined),
    })
}

/// A file's modification time, seconds since the epoch (0 when unknown).
fn modified(path: &Path) -> i64 {
    let time = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    time.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64)
}

fn log_batch(period: Period, stage: Stage, batch: &Batch) {
    tracing::debug!(%period, stage = stage.name(), files = batch.files.len(), findings = batch.findings.len(), "batch");
}

/// Where the findings of a workbook go: beside it, `<stem>.findings.json|parquet`.
pub(crate) fn findings_paths(workbook: &Path) -> (PathBuf, PathBuf) {
    let stem = workbook.with_extension("");
    (stem.with_extension("findings.json"), stem.with_extension("findings.parquet"))
}

/// The findings, sorted, as JSON (schema `FINDINGS_SCHEMA`) and Parquet, for scripts.
fn write_findings(
    plan: &Plan,
    period: Period,
    findings: &mut [Finding],
    json: &Path,
    parquet: &Path,
) -> anyhow::Result<()> {
    findings.sort_by(|a, b| {
        (&a.group, &a.unit, &a.file, a.row, &a.cell).cmp(&(&b.group, &b.unit, &b.file, b.row, &b.cell))
    });
    let document = serde_json::json!({
        "schema": FINDINGS_SCHEMA,
        "pipeline": plan.pipeline.name,
        "period": period.to_string(),
        "findings": findings,
    });
    store::write_atomic(json, &serde_json::to_vec_pretty(&document)?)?;
    let frame = Finding::to_frame(findings)?;
    store::write_frame_atomic(parquet, &mut store::labelled(&plan.pipeline.name, period, &frame)?)
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
