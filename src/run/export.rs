//! `tonghop export`: every consolidated figure and finding of the periods asked for, as two
//! long, tidy tables an analyst reads with one `read_parquet` (or opens in Excel as CSV).
//! Periods not consolidated yet are consolidated first, up to their figures. The columns
//! are documented in docs/data.md; their schema ids are `FIGURES_SCHEMA` and
//! `FINDINGS_EXPORT_SCHEMA`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use polars::prelude::*;

use super::{run, Run, RunOptions};
use crate::definition::{MeasureKind, Plan, Window};
use crate::error::Error;
use crate::model::frame::status_column;
use crate::model::{Finding, Period, Stage, TableSchemas};
use crate::store::{self, WorkDir};
use crate::workbook::reference;

/// The export's tables and their versions (docs/data.md).
pub const FIGURES_SCHEMA: &str = "tonghop.figures/1";
pub const FINDINGS_EXPORT_SCHEMA: &str = "tonghop.findings-export/1";

/// How the tables are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Parquet, partitioned `pipeline=…/period=…/` (hive style).
    Parquet,
    /// CSV in UTF-8 with a byte order mark, for Excel.
    Csv,
}

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The periods, oldest first; every period folder of the inbox when none.
    pub periods: Option<(Period, Period)>,
    pub format: Format,
    pub dest: PathBuf,
    /// Do not consolidate what is not consolidated yet: say which periods are missing.
    pub no_run: bool,
}

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    pub periods: Vec<Period>,
    /// Periods left out: not consolidated (with `--no-run`), or stale.
    pub missing: Vec<Period>,
    pub files: Vec<PathBuf>,
    pub figures: usize,
    pub findings: usize,
}

impl Exported {
    pub fn text(&self) -> String {
        let list = |ps: &[Period]| ps.iter().map(Period::to_string).collect::<Vec<_>>().join(", ");
        let mut text = format!(
            "exported {} figures and {} findings of {}",
            self.figures,
            self.findings,
            if self.periods.is_empty() { "no period".to_string() } else { list(&self.periods) }
        );
        for file in &self.files {
            text.push_str(&format!("\n  wrote {}", file.display()));
        }
        if !self.missing.is_empty() {
            text.push_str(&format!(
                "\n  not consolidated, left out: {} (tonghop run --period {}..{} consolidates them)",
                list(&self.missing),
                self.missing[0],
                self.missing[self.missing.len() - 1]
            ));
        }
        text
    }
}

/// Export the figures and findings of the periods `export` asks for.
pub fn export(plan: &Plan, opts: &RunOptions, export: &ExportOptions) -> Result<Exported, Error> {
    let kind = plan.pipeline.period;
    let periods = match export.periods {
        Some((first, last)) => first.through(last),
        None => {
            let inbox = opts.data.join("inbox");
            store::periods_in(&inbox, kind).with_context(|| format!("cannot list {}", inbox.display()))?
        }
    };
    let mut done = Vec::new();
    let mut missing = Vec::new();
    let work = WorkDir::new(&opts.out, &plan.pipeline.name);
    // The registry and the definition's hash, read once: consolidating changes neither.
    let checked = Run::new(plan, opts, work.clone())?;
    for &period in &periods {
        if export.no_run {
            let sealed = work.stage(period, Stage::Aggregate).manifest();
            let fresh = checked.aggregate_inputs_now(period).is_ok_and(|now| sealed.is_some_and(|s| s.inputs == now));
            if fresh {
                done.push(period);
            } else {
                missing.push(period);
            }
        } else {
            let upto = RunOptions { period: Some(period), from: Stage::Ingest, to: Stage::Aggregate, ..opts.clone() };
            run(plan, &upto)?;
            done.push(period);
        }
    }
    let mut figures = Vec::new();
    let mut findings = Vec::new();
    for &period in &done {
        let aggregated = work.stage(period, Stage::Aggregate);
        figures.push(long_figures(plan, period, &aggregated.read_frame("figures")?)?);
        let mut all = work.stage(period, Stage::Merge).load_batch_without_placements(&TableSchemas::of(plan))?.findings;
        let hierarchy = checked.hierarchy(period)?;
        let mut refs = reference::load(plan, &opts.data, period, &hierarchy)?.findings;
        crate::model::name_units(&hierarchy, &mut refs);
        all.extend(refs);
        all.extend(Finding::from_frame(&aggregated.read_frame("findings")?)?);
        findings.push(findings_frame(plan, period, &all)?);
    }
    let (n_figures, n_findings) =
        (figures.iter().map(DataFrame::height).sum(), findings.iter().map(DataFrame::height).sum());
    let files = match export.format {
        Format::Parquet => {
            let mut files = partitioned(&export.dest.join("figures"), plan, &done, &mut figures)?;
            files.extend(partitioned(&export.dest.join("findings"), plan, &done, &mut findings)?);
            files
        }
        Format::Csv => vec![
            csv(&export.dest.join("figures.csv"), &mut figures)?,
            csv(&export.dest.join("findings.csv"), &mut findings)?,
        ],
    };
    Ok(Exported { periods: done, missing, files, figures: n_figures, findings: n_findings })
}

/// A measure's window as the export names it (`year_ago_month` for the same month a year
/// earlier); none for references, expressions and ratios.
fn window(plan: &Plan, kind: &MeasureKind) -> Option<&'static str> {
    match kind {
        MeasureKind::Sum(sum) => Some(match sum.window {
            Window::Month => "month",
            Window::Quarter => "quarter",
            Window::Year => "year",
            Window::Term => "term",
        }),
        MeasureKind::YearAgo(y) => match &plan.measure(y.of).kind {
            MeasureKind::Sum(sum) => Some(match sum.window {
                Window::Month => "year_ago_month",
                Window::Quarter => "year_ago_quarter",
                _ => "year_ago_year",
            }),
            _ => None,
        },
        _ => None,
    }
}

/// One period's figures, long: a row per unit and measure, ratios as fractions, the
/// state of each figure (`reported`, `missing`, `incomplete`, `unknown`).
fn long_figures(plan: &Plan, period: Period, wide: &DataFrame) -> anyhow::Result<DataFrame> {
    let text = |name: &str| crate::model::frame::text_column(wide, name);
    let (codes, names, kinds, parents) = (text("code")?, text("name")?, text("kind")?, text("parent")?);
    let mut columns: [Vec<Option<String>>; 6] = Default::default();
    let (mut values, mut statuses) = (Vec::new(), Vec::new());
    for measure in &plan.measures {
        let numbers = wide.column(&measure.id)?.cast(&DataType::Float64)?;
        let numbers = numbers.f64()?;
        let states = wide.column(&status_column(&measure.id)).ok().and_then(|c| c.str().ok().cloned());
        for (i, code) in codes.iter().enumerate() {
            columns[0].push(Some(code.clone()));
            columns[1].push(Some(names[i].clone()));
            columns[2].push(Some(kinds[i].clone()));
            columns[3].push(Some(parents[i].clone()).filter(|p| !p.is_empty()));
            columns[4].push(Some(measure.id.clone()));
            columns[5].push(window(plan, &measure.kind).map(str::to_string));
            values.push(numbers.get(i));
            let state = states.as_ref().and_then(|s| s.get(i)).unwrap_or("reported");
            statuses.push(state.to_string());
        }
    }
    let [unit_code, unit_name, level, parent_code, measure, window] = columns;
    let rows = values.len();
    Ok(DataFrame::new_infer_height(vec![
        Column::new("pipeline".into(), vec![plan.pipeline.name.as_str(); rows]),
        Column::new("period".into(), vec![period.to_string(); rows]),
        Column::new("period_kind".into(), vec![period_kind(period); rows]),
        Column::new("unit_code".into(), unit_code),
        Column::new("unit_name".into(), unit_name),
        Column::new("level".into(), level),
        Column::new("parent_code".into(), parent_code),
        Column::new("measure".into(), measure),
        Column::new("window".into(), window),
        Column::new("value".into(), values),
        Column::new("status".into(), statuses),
    ])?)
}

fn period_kind(period: Period) -> &'static str {
    match period.kind {
        crate::model::PeriodKind::Month => "month",
        crate::model::PeriodKind::Quarter => "quarter",
    }
}

/// One period's findings as the artifacts hold them (absent values as nulls), with the
/// pipeline and the period.
fn findings_frame(plan: &Plan, period: Period, findings: &[Finding]) -> anyhow::Result<DataFrame> {
    Ok(store::labelled(&plan.pipeline.name, period, &Finding::to_frame(findings)?)?)
}

/// Each period's frame at `root/pipeline=…/period=…/part-0.parquet`, without those two
/// columns, which the path holds: the hive layout every engine reads as one table.
fn partitioned(root: &Path, plan: &Plan, periods: &[Period], frames: &mut [DataFrame]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (period, frame) in periods.iter().zip(frames.iter_mut()) {
        let path = root
            .join(format!("pipeline={}", plan.pipeline.name))
            .join(format!("period={period}"))
            .join("part-0.parquet");
        let mut inner = frame.drop_many(["pipeline", "period"]);
        store::write_frame_atomic(&path, &mut inner)?;
        files.push(path);
    }
    Ok(files)
}

/// The frames as one CSV for Excel: UTF-8 with a byte order mark, and a text that Excel
/// would take for a formula (`=`, `+`, `-`, `@` first) written with an apostrophe first,
/// which Excel shows as text.
fn csv(path: &Path, frames: &mut [DataFrame]) -> anyhow::Result<PathBuf> {
    let mut all = frames.first().cloned().unwrap_or_default();
    for frame in frames.iter().skip(1) {
        all.vstack_mut(frame)?;
    }
    let guard = |s: &Series| -> PolarsResult<Series> {
        match s.dtype() {
            DataType::String => Ok(s
                .str()?
                .apply_values(|t| {
                    if t.starts_with(['=', '+', '-', '@']) {
                        format!("'{t}").into()
                    } else {
                        t.to_string().into()
                    }
                })
                .into_series()),
            _ => Ok(s.clone()),
        }
    };
    let guarded: Vec<Column> = all
        .columns()
        .iter()
        .map(|c| guard(c.as_materialized_series()).map(Column::from))
        .collect::<PolarsResult<_>>()?;
    let mut all = DataFrame::new_infer_height(guarded)?;
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    CsvWriter::new(&mut bytes).finish(&mut all)?;
    store::write_atomic(path, &bytes)?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_excel_would_take_for_a_formula_is_written_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let names = Column::new("unit_name".into(), ["=HYPERLINK(\"x\")", "-Chi bộ 1", "Chi bộ 2", "@x"]);
        let counts = Column::new("value".into(), [-1.0, 2.0, 3.0, 4.0]);
        let mut frames = [DataFrame::new_infer_height(vec![names, counts]).unwrap()];
        let path = csv(&dir.path().join("t.csv"), &mut frames).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            text,
            "\u{feff}unit_name,value\n\"'=HYPERLINK(\"\"x\"\")\",-1.0\n'-Chi bộ 1,2.0\nChi bộ 2,3.0\n'@x,4.0\n"
        );
    }
}
