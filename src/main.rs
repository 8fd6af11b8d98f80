//! `tonghop`: parse the command line, call the library, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tonghop::cli::{Cli, Command, PipelineArg, RunArgs, StatusArgs, TemplateArgs};
use tonghop::definition::{self, Plan};
use tonghop::model::Stage;
use tonghop::period::Period;
use tonghop::run::{self, RunOptions};
use tonghop::{store, template, Error};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tonghop::ingest::quiet_reader_panics();
    let outcome = match cli.command {
        Command::Check(args) => check(args),
        Command::Run(args) => run_command(args),
        Command::Status(args) => status_command(args),
        Command::Template(args) => template_command(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            ExitCode::from(e.code())
        }
    }
}

/// A line on stdout. A reader that went away (`tonghop run | head -4`) ends the printing,
/// never the work: the exit code still tells what was done.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn check(args: PipelineArg) -> Result<u8, Error> {
    definition::load(&args.pipeline)?;
    say(&format!("{}: ok", args.pipeline.display()));
    Ok(0)
}

/// Logs on stderr: errors only with --quiet, warnings by default, more with -v; RUST_LOG
/// (e.g. `RUST_LOG=tonghop=debug`) overrides all of these.
fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("tonghop={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        // A log reader that went away must not end the run (tracing would say so on the
        // stderr that is gone, and panic).
        .log_internal_errors(false)
        .init();
}

/// The plan at `path`, with `--period` of its kind (a month given to a quarterly
/// pipeline is a usage error).
fn plan_for(args: &PipelineArg, period: Option<Period>) -> Result<Plan, Error> {
    let plan = definition::load(&args.pipeline)?;
    if let Some(Err(e)) = period.map(|p| p.expect_kind(plan.pipeline.period)) {
        return Err(Error::Usage(format!("--period {e}")));
    }
    Ok(plan)
}

fn run_command(args: RunArgs) -> Result<u8, Error> {
    init_logging(args.quiet, args.verbose);
    let plan = plan_for(&args.pipeline, args.period.map(|r| r.first))?;
    let (from, to) = match args.only {
        Some(stage) => (stage, stage),
        None => (args.from.unwrap_or(Stage::Ingest), args.to.unwrap_or(Stage::Report)),
    };
    if from > to {
        return Err(Error::Usage(format!("--from {} comes after --to {}", from.name(), to.name())));
    }
    let periods: Vec<Option<Period>> = match args.period {
        Some(range) => range.first.through(range.last).into_iter().map(Some).collect(),
        None => vec![None],
    };
    let mut summaries = Vec::new();
    for period in periods {
        let opts = RunOptions {
            pipeline: args.pipeline.pipeline.clone(),
            data: args.data.clone(),
            period,
            out: args.out.clone(),
            from,
            to,
            force: args.force,
            date: args.date,
            progress: !args.quiet && !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
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

fn status_command(args: StatusArgs) -> Result<u8, Error> {
    let plan = plan_for(&args.pipeline, args.period)?;
    let opts = RunOptions {
        pipeline: args.pipeline.pipeline,
        data: args.data,
        period: args.period,
        out: args.out,
        from: Stage::Ingest,
        to: Stage::Merge,
        force: false,
        date: None,
        progress: false,
    };
    let (text, code) = run::status(&plan, &opts)?;
    say(text.trim_end_matches('\n'));
    Ok(code)
}

fn template_command(args: TemplateArgs) -> Result<u8, Error> {
    let plan = plan_for(&args.pipeline, args.period)?;
    let period = match args.period {
        Some(p) => p,
        None => run::newest_period(&args.data, plan.pipeline.period)?,
    };
    let registry = tonghop::registry::Registry::load(&args.data.join(&plan.registry.file), &plan.registry.levels)?;
    let hierarchy = registry.hierarchy(period, &plan.registry.levels)?;
    let forms = match &args.unit {
        Some(code) => template::for_unit(&plan, &hierarchy, code, period)?,
        None => template::for_all(&plan, &hierarchy, period)?,
    };
    for (name, bytes) in forms {
        let path = args.out.join(name);
        store::write_atomic(&path, &bytes)?;
        say(&path.display().to_string());
    }
    Ok(0)
}
