//! `tonghop`: parse the command line, find the project, call the library, map the outcome
//! to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tonghop::cli::{
    CheckArgs, Cli, Color, Command, ExportArgs, ExportFormat, FeedbackArgs, InitArgs, PipelineArg, RunArgs, StatusArgs,
    TemplateArgs, WorkArgs,
};
use tonghop::definition::{self, Plan};
use tonghop::model::Stage;
use tonghop::period::Period;
use tonghop::project::{self, Project};
use tonghop::run::{self, RunOptions};
use tonghop::{init, store, Error};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tonghop::ingest::quiet_reader_panics();
    let json = matches!(
        &cli.command,
        Command::Run(RunArgs { json: true, .. }) | Command::Status(StatusArgs { json: true, .. })
    );
    let outcome = project(cli.project.as_deref()).and_then(|project| {
        let env = Env { project, color: cli.color };
        match cli.command {
            Command::Check(args) => check(&env, args),
            Command::Run(args) => run_command(&env, args),
            Command::Status(args) => status_command(&env, args),
            Command::Template(args) => template_command(&env, args),
            Command::Init(args) => init_command(args),
            Command::Export(args) => export_command(&env, args),
            Command::Feedback(args) => feedback_command(&env, args),
            Command::Completions(args) => {
                clap_complete::generate(args.shell, &mut Cli::command(), "tonghop", &mut std::io::stdout());
                Ok(0)
            }
            Command::Man => {
                let _ = clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout());
                Ok(0)
            }
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if json => {
            let error = serde_json::json!({
                "schema": "tonghop.error/1",
                "exit_code": e.code(),
                "error": e.to_string().trim_start_matches("error: "),
            });
            say(&serde_json::to_string_pretty(&error).unwrap_or_default());
            ExitCode::from(e.code())
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            ExitCode::from(e.code())
        }
    }
}

/// What every command starts from: the project, if any, and how to colour.
struct Env {
    project: Option<Project>,
    color: Color,
}

impl Env {
    fn pipeline(&self, flag: &PipelineArg) -> Result<PathBuf, Error> {
        match (&flag.pipeline, &self.project) {
            (Some(path), _) => Ok(path.clone()),
            (None, Some(project)) => Ok(project.pipeline.clone()),
            (None, None) => Err(no_project("--pipeline")),
        }
    }

    fn data(&self, flag: &Option<PathBuf>) -> Result<PathBuf, Error> {
        match (flag, &self.project) {
            (Some(path), _) => Ok(path.clone()),
            (None, Some(project)) => Ok(project.data.clone()),
            (None, None) => Err(no_project("--data")),
        }
    }

    fn out(&self, flag: &Option<PathBuf>) -> PathBuf {
        match (flag, &self.project) {
            (Some(path), _) => path.clone(),
            (None, Some(project)) => project.out.clone(),
            (None, None) => PathBuf::from("out"),
        }
    }

    fn identity(&self) -> Option<project::Identity> {
        self.project.as_ref().map(|p| p.identity.clone())
    }
}

/// The project named by `--project`, else the one found from the current directory up.
fn project(flag: Option<&Path>) -> Result<Option<Project>, Error> {
    let path = match flag {
        Some(path) => Some(path.to_path_buf()),
        None => std::env::current_dir().ok().and_then(|dir| project::find(&dir)),
    };
    path.map(|p| project::load(&p).map_err(|e| Error::Usage(e.to_string()))).transpose()
}

fn no_project(flag: &str) -> Error {
    let here = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| ".".into());
    Error::Usage(format!(
        "no {} in {here} or a folder above it, and no {flag}: make a project with \
         `tonghop init DIR --registry FILE` (docs/new-province.md) and run tonghop in it, or give \
         --pipeline and --data",
        project::FILE
    ))
}

/// A line on stdout. A reader that went away (`tonghop run | head -4`) ends the printing,
/// never the work: the exit code still tells what was done.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn check(env: &Env, args: CheckArgs) -> Result<u8, Error> {
    let pipeline = env.pipeline(&args.pipeline)?;
    let (plan, warnings) = definition::load_with_warnings(&pipeline)?;
    if args.expanded {
        say(&definition::expanded(&pipeline)?);
        return Ok(0);
    }
    for w in warnings {
        let _ = writeln!(std::io::stderr(), "{}", w.shown("warning", &pipeline));
    }
    // Words under a key nothing shows: a typo in a finding code or a rule's id.
    for key in tonghop::model::unknown_keys(&plan) {
        let _ = writeln!(
            std::io::stderr(),
            "warning: {}: {key} is neither a finding code (docs/findings.md) nor a rule's or merge's id",
            pipeline.display()
        );
    }
    say(&format!("{}: ok", pipeline.display()));
    Ok(0)
}

/// Logs on stderr: errors only with --quiet, warnings by default, more with -v; RUST_LOG
/// (e.g. `RUST_LOG=tonghop=debug`) overrides all of these. Coloured as `--color` says;
/// `auto` colours a terminal unless NO_COLOR is set.
fn init_logging(quiet: bool, verbose: u8, color: Color) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("tonghop={level}")));
    let ansi = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        // A log reader that went away must not end the run (tracing would say so on the
        // stderr that is gone, and panic).
        .log_internal_errors(false)
        .init();
}

/// The plan at `path`, with `--period` of its kind (a month given to a quarterly
/// pipeline is a usage error).
fn plan_for(path: &Path, period: Option<Period>) -> Result<Plan, Error> {
    let plan = definition::load(path)?;
    if let Some(Err(e)) = period.map(|p| p.expect_kind(plan.pipeline.period)) {
        return Err(Error::Usage(format!("--period {e}")));
    }
    Ok(plan)
}

fn run_command(env: &Env, args: RunArgs) -> Result<u8, Error> {
    init_logging(args.quiet, args.verbose, env.color);
    let pipeline = env.pipeline(&args.pipeline)?;
    let data = env.data(&args.data)?;
    let plan = plan_for(&pipeline, args.period.map(|r| r.first))?;
    let (from, to) = match args.only {
        Some(stage) => (stage, stage),
        None => (args.from.unwrap_or(Stage::Ingest), args.to.unwrap_or(Stage::Report)),
    };
    if from > to {
        return Err(Error::Usage(format!("--from {} comes after --to {}", from.name(), to.name())));
    }
    match &env.project {
        // A cron job pointed at the checkout by mistake is told, even with --quiet.
        Some(project) if project.sample && !std::io::stderr().is_terminal() => {
            let _ = writeln!(
                std::io::stderr(),
                "note: {} is tonghop's sample project: this run consolidates the sample data in {}. \
                 A board runs tonghop in its own project (tonghop init).",
                project.path.display(),
                data.display()
            );
        }
        None => tracing::warn!(
            "no {}: the workbook's letterhead names only the registry's top unit (tonghop init writes one)",
            project::FILE
        ),
        _ => {}
    }
    let periods: Vec<Option<Period>> = match args.period {
        Some(range) => range.first.through(range.last).into_iter().map(Some).collect(),
        None => vec![None],
    };
    let mut summaries = Vec::new();
    for period in periods {
        let opts = RunOptions {
            pipeline: pipeline.clone(),
            data: data.clone(),
            period,
            out: env.out(&args.out),
            from,
            to,
            force: args.force,
            date: args.date,
            identity: env.identity(),
            progress: !args.quiet && !args.json && std::io::stderr().is_terminal(),
        };
        let summary = run::run(&plan, &opts)?;
        if !args.json && !args.quiet {
            say(&summary.human());
        }
        summaries.push(summary);
    }
    if args.json {
        let text = match summaries.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        say(&text.map_err(anyhow::Error::from)?);
    }
    Ok(summaries.iter().map(|s| s.exit_code).max().unwrap_or(0))
}

/// The plan and the options of a command that consolidates `period` up to stage `to`
/// and reads what it made (status, export, feedback).
fn consolidation(
    env: &Env,
    work: &WorkArgs,
    period: Option<Period>,
    to: Stage,
    date: Option<chrono::NaiveDate>,
) -> Result<(Plan, RunOptions), Error> {
    let pipeline = env.pipeline(&work.pipeline)?;
    let plan = plan_for(&pipeline, period)?;
    let opts = RunOptions {
        pipeline,
        data: env.data(&work.data)?,
        period,
        out: env.out(&work.out),
        from: Stage::Ingest,
        to,
        force: false,
        date,
        identity: env.identity(),
        progress: false,
    };
    Ok((plan, opts))
}

fn status_command(env: &Env, args: StatusArgs) -> Result<u8, Error> {
    let (plan, opts) = consolidation(env, &args.work, args.period, Stage::Merge, None)?;
    let status = run::status(&plan, &opts)?;
    if args.json {
        say(&serde_json::to_string_pretty(&status.json).map_err(anyhow::Error::from)?);
    } else {
        say(status.text.trim_end_matches('\n'));
    }
    Ok(status.exit_code)
}

fn template_command(env: &Env, args: TemplateArgs) -> Result<u8, Error> {
    let pipeline = env.pipeline(&args.pipeline)?;
    let plan = plan_for(&pipeline, args.period)?;
    let period = args.period.unwrap_or_else(|| Period::current(plan.pipeline.period));
    let data = env.data(&args.data)?;
    let out = match (&args.out, &env.project) {
        (Some(out), _) => out.clone(),
        (None, Some(project)) => project.templates.join(period.to_string()),
        (None, None) => PathBuf::from("out/templates").join(period.to_string()),
    };
    let identity = env.identity().unwrap_or_default();
    let forms = run::templates(&plan, &data, &env.out(&None), &identity, period, args.unit.as_deref())?;
    for (name, bytes) in forms {
        let path = out.join(name);
        store::write_atomic(&path, &bytes)?;
        say(&path.display().to_string());
    }
    Ok(0)
}

fn export_command(env: &Env, args: ExportArgs) -> Result<u8, Error> {
    init_logging(false, 0, env.color);
    // The export is given each period; the first only checks the periods' kind here.
    let (plan, mut opts) = consolidation(env, &args.work, args.period.map(|r| r.first), Stage::Aggregate, None)?;
    opts.period = None;
    let out = opts.out.clone();
    let export = run::ExportOptions {
        periods: args.period.map(|r| (r.first, r.last)),
        format: match args.format {
            ExportFormat::Parquet => run::Format::Parquet,
            ExportFormat::Csv => run::Format::Csv,
        },
        dest: args.dest.unwrap_or_else(|| out.join("export")),
        no_run: args.no_run,
    };
    let exported = run::export(&plan, &opts, &export)?;
    say(&exported.text());
    Ok(u8::from(!exported.missing.is_empty()))
}

fn feedback_command(env: &Env, args: FeedbackArgs) -> Result<u8, Error> {
    init_logging(false, 0, env.color);
    let (plan, opts) = consolidation(env, &args.work, args.period, Stage::Merge, args.date)?;
    let written = run::feedback(&plan, &opts, args.dest.as_deref())?;
    say(&written.text());
    Ok(0)
}

fn init_command(args: InitArgs) -> Result<u8, Error> {
    let made = init::init(&args.dir, &args.registry, args.pipeline.as_deref(), args.period)?;
    say(&made.text());
    Ok(0)
}
