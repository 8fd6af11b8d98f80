//! The command line: clap definitions only; the work lives in the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::model::Stage;
use crate::period::{Period, PeriodRange};

/// Consolidate the monthly Excel returns of a reporting hierarchy into one workbook.
#[derive(Debug, Parser)]
#[command(name = "tonghop", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consolidate a period: ingest, validate, merge, aggregate, report.
    Run(RunArgs),
    /// Check a pipeline definition; every error is shown with file:line:column.
    Check(PipelineArg),
    /// Who has sent which return for a period, per group, and who is missing.
    Status(StatusArgs),
    /// Blank returns, ready to fill in, for one unit or every expected unit.
    Template(TemplateArgs),
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    #[arg(long, default_value = "sample_data")]
    pub data: PathBuf,
    /// The unit's code.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub unit: Option<String>,
    /// Every unit expected to report in the period.
    #[arg(long)]
    pub all: bool,
    /// The period the returns are for (YYYY-MM, or YYYY-Qn for a quarterly pipeline);
    /// default: the newest period in the inbox.
    #[arg(long)]
    pub period: Option<Period>,
    #[arg(long, default_value = "out/templates")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    #[arg(long, default_value = "sample_data")]
    pub data: PathBuf,
    #[arg(long)]
    pub period: Option<Period>,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct PipelineArg {
    /// The pipeline definition.
    #[arg(long, default_value = "pipelines/ptdv_monthly.toml")]
    pub pipeline: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// The data directory, holding `reference/` and `inbox/YYYY-MM/` (or `inbox/YYYY-Qn/`).
    #[arg(long, default_value = "sample_data")]
    pub data: PathBuf,
    /// The period to consolidate (YYYY-MM, or YYYY-Qn for a quarterly pipeline), or
    /// periods in order (A..B); default: the newest period in the inbox.
    #[arg(long)]
    pub period: Option<PeriodRange>,
    /// Where the workbook and the work directory go.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Start at this stage (earlier stages' artifacts must exist).
    #[arg(long, conflicts_with = "only")]
    pub from: Option<Stage>,
    /// Stop after this stage.
    #[arg(long, conflicts_with = "only")]
    pub to: Option<Stage>,
    /// Run this stage alone.
    #[arg(long)]
    pub only: Option<Stage>,
    /// Rerun stages even when their inputs are unchanged.
    #[arg(long)]
    pub force: bool,
    /// The date the workbook's date line gives (YYYY-MM-DD), for a report drawn again
    /// later; default: today.
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log what the stages do on stderr (-v: stages, -vv: every file); RUST_LOG overrides.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
