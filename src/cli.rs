//! The command line: clap definitions only; the work lives in the library.
//!
//! Paths not given come from the project file (`tonghop.toml` in the current directory or
//! the nearest parent, or `--project`); flags override it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::Stage;
use crate::period::{Period, PeriodRange};

/// Consolidate the monthly Excel returns of a reporting hierarchy into one workbook.
#[derive(Debug, Parser)]
#[command(
    name = "tonghop",
    version,
    about,
    long_about = "Consolidate the Excel returns units send up a reporting hierarchy into one \
                  workbook, as a pipeline definition describes them.\n\n\
                  Paths not given on the command line come from the project file, \
                  tonghop.toml, found in the current directory or the nearest parent.",
    after_long_help = "Examples:\n  \
                       tonghop init ../ninh-binh --registry don_vi.csv   start a province's project\n  \
                       tonghop run                                      consolidate the newest month\n  \
                       tonghop status                                   who has sent what\n  \
                       tonghop template --all                           blank returns for every unit\n\n\
                       Documentation: README.md and docs/ in the source; `tonghop man` prints the manual page."
)]
pub struct Cli {
    /// The project file to use (default: tonghop.toml here or in the nearest parent).
    #[arg(long, global = true, value_name = "FILE")]
    pub project: Option<PathBuf>,
    /// When logs are coloured: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

/// When output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consolidate a period: ingest, validate, merge, aggregate, report.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop run                              the newest month of the inbox\n  \
                                 tonghop run --period 2023-09..2023-10    two months, in order\n  \
                                 tonghop run --only report --date 2023-11-05   redraw the workbook, dated\n  \
                                 tonghop run --quiet --json               for cron and scripts")]
    Run(RunArgs),
    /// Check a pipeline definition; every error is shown with file:line:column.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop check                                   the project's pipeline\n  \
                                 tonghop check --pipeline pipelines/ptdv_ninh_binh.toml\n  \
                                 tonghop check --expanded > resolved.toml   what extends, families and defaults make")]
    Check(CheckArgs),
    /// Who has sent which return for a period, per group, and who is missing.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop status                     the newest month\n  \
                                 tonghop status --period 2023-09 --json")]
    Status(StatusArgs),
    /// Blank returns, ready to fill in, for one unit or every expected unit.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop template --all                     every unit, this month\n  \
                                 tonghop template --unit 13456 --period 2024-03 --out forms")]
    Template(TemplateArgs),
    /// Every consolidated figure and finding of the periods, as two tables for analysts.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop export                              every period of the inbox, Parquet\n  \
                                 tonghop export --period 2023-01..2023-12 --format csv --dest year2023\n\n\
                                 Read it: duckdb -c \"SELECT * FROM read_parquet('out/export/figures/**/*.parquet', hive_partitioning = true)\"\n\
                                 docs/data.md has every column.")]
    Export(ExportArgs),
    /// For each unit of the definition's feedback level (and each sender with errors), a
    /// printable workbook of what it must correct.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop feedback                           the newest month, into OUT/feedback/<period>/\n  \
                                 tonghop feedback --period 2023-10 --dest to-mail")]
    Feedback(FeedbackArgs),
    /// Start a province's project: the project file, the reference tables to fill, the inbox.
    #[command(after_long_help = "Examples:\n  \
                                 tonghop init ../ninh-binh --registry don_vi.csv\n  \
                                 tonghop init board --registry units.csv --period 2024-03 --pipeline shared/ptdv.toml\n\n\
                                 docs/new-province.md goes from a registry to a consolidated month.")]
    Init(InitArgs),
    /// Print a shell's completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_long_help = "Example:\n  tonghop completions bash > /etc/bash_completion.d/tonghop")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff).
    #[command(after_long_help = "Example:\n  tonghop man > /usr/local/share/man/man1/tonghop.1")]
    Man,
}

#[derive(Debug, Args)]
pub struct PipelineArg {
    /// The pipeline definition (default: the project's).
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// Print the definition as it resolves (`extends`, families and defaults done), as
    /// TOML that checks and runs as the same pipeline.
    #[arg(long)]
    pub expanded: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// The data directory, holding `reference/` and `inbox/YYYY-MM/` (or `inbox/YYYY-Qn/`)
    /// (default: the project's).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The period to consolidate (YYYY-MM, or YYYY-Qn for a quarterly pipeline), or
    /// periods in order (A..B); default: the newest period in the inbox.
    #[arg(long, value_name = "P|A..B")]
    pub period: Option<PeriodRange>,
    /// Where the workbook and the work directory go (default: the project's, else `out`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start at this stage (the stages before it must be up to date).
    #[arg(long, conflicts_with = "only", value_name = "STAGE")]
    pub from: Option<Stage>,
    /// Stop after this stage.
    #[arg(long, conflicts_with = "only", value_name = "STAGE")]
    pub to: Option<Stage>,
    /// Run this stage alone (the stages before it must be up to date).
    #[arg(long, value_name = "STAGE")]
    pub only: Option<Stage>,
    /// Rerun the selected stages even when their inputs are unchanged.
    #[arg(long)]
    pub force: bool,
    /// The date the workbook's date line gives, for a report drawn again later
    /// (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
    /// Print the summary as one JSON object on stdout (schema `tonghop.summary/1`); an
    /// error is JSON too (`tonghop.error/1`).
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log what the stages do on stderr (-v: stages, -vv: every file); RUST_LOG overrides.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The pipeline, the data and the work directory of the commands that read what `run`
/// consolidates (status, export, feedback).
#[derive(Debug, Args)]
pub struct WorkArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// The data directory (default: the project's).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Where the work directory is (default: the project's, else `out`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub work: WorkArgs,
    /// The period (YYYY-MM or YYYY-Qn); default: the newest period in the inbox.
    #[arg(long, value_name = "P")]
    pub period: Option<Period>,
    /// Print the status as one JSON object on stdout (schema `tonghop.status/1`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// The data directory, for the registry (default: the project's).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The unit's code.
    #[arg(long, required_unless_present = "all", conflicts_with = "all", value_name = "CODE")]
    pub unit: Option<String>,
    /// Every unit expected to report in the period.
    #[arg(long)]
    pub all: bool,
    /// The period the returns are for (YYYY-MM, or YYYY-Qn for a quarterly pipeline);
    /// default: the current month (or quarter).
    #[arg(long, value_name = "P")]
    pub period: Option<Period>,
    /// Where the returns go (default: the project's `templates/<period>/`, else
    /// `out/templates/<period>/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub work: WorkArgs,
    /// The periods (P or A..B); default: every period folder of the inbox.
    #[arg(long, value_name = "P|A..B")]
    pub period: Option<PeriodRange>,
    /// parquet (partitioned pipeline=…/period=…/) or csv (UTF-8 with a BOM, for Excel).
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet, value_name = "FORMAT")]
    pub format: ExportFormat,
    /// Where the tables go (default: OUT/export).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Do not consolidate periods that are not: leave them out and say so.
    #[arg(long)]
    pub no_run: bool,
}

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    #[command(flatten)]
    pub work: WorkArgs,
    /// The period (default: the newest in the inbox).
    #[arg(long, value_name = "P")]
    pub period: Option<Period>,
    /// Where the workbooks go (default: OUT/feedback/<period>).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// The date their date line gives (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
}

/// How `export` writes its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Csv,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project's folder (created if need be; it must not hold a tonghop.toml already).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The province's units: CSV with `code,name,kind,parent,valid_from,valid_to,aliases`.
    #[arg(long, value_name = "FILE")]
    pub registry: PathBuf,
    /// The pipeline the project runs (default: the party-member development pipeline
    /// tonghop ships, written into DIR).
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,
    /// The first period to consolidate (YYYY-MM, or YYYY-Qn for a quarterly pipeline);
    /// default: the current month (or quarter).
    #[arg(long, value_name = "P")]
    pub period: Option<Period>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
