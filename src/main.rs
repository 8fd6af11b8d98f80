//! `tonghop`: parse the command line, call the library, map the outcome to an exit code.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use tonghop::cli::{Cli, Command, RunArgs, StatusArgs, TemplateArgs};
use tonghop::definition::{self, DefinitionError};
use tonghop::period::Period;
use tonghop::run::{self, RunOptions, Stage};

/// Exit codes of DESIGN.md.
const USAGE: u8 = 2;
const LOCKED: u8 = 3;
const FAILURE: u8 = 4;

/// The exit code of a failed run: 3 when another run holds the lock.
fn failure(e: &anyhow::Error) -> u8 {
    eprintln!("error: {e:#}");
    if e.downcast_ref::<tonghop::store::lock::Locked>().is_some() {
        LOCKED
    } else {
        FAILURE
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tonghop::ingest::quiet_reader_panics();
    let code = match cli.command {
        Command::Check(args) => match definition::load(&args.pipeline) {
            Ok(_) => {
                println!("{}: ok", args.pipeline.display());
                0
            }
            Err(e) => report_definition_error(&e),
        },
        Command::Run(args) => run_command(args),
        Command::Status(args) => status_command(args),
        Command::Template(args) => template_command(args),
    };
    ExitCode::from(code)
}

fn report_definition_error(e: &DefinitionError) -> u8 {
    eprintln!("{e}");
    eprintln!("{} error(s) in {}", e.problems.len(), e.path.display());
    USAGE
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
        .init();
}

fn run_command(args: RunArgs) -> u8 {
    init_logging(args.quiet, args.verbose);
    let def = match definition_for(&args.pipeline.pipeline, args.period.map(|r| r.first)) {
        Ok(def) => def,
        Err(code) => return code,
    };
    let (from, to) = match args.only {
        Some(stage) => (stage, stage),
        None => (args.from.unwrap_or(Stage::Ingest), args.to.unwrap_or(Stage::Report)),
    };
    if from > to {
        eprintln!("error: --from {} comes after --to {}", from.name(), to.name());
        return USAGE;
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
            progress: !args.quiet && !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        match run::run(&def, &opts) {
            Ok(summary) => {
                if !args.json && !args.quiet {
                    println!("{}", summary.human());
                }
                summaries.push(summary);
            }
            Err(e) => return failure(&e),
        }
    }
    if args.json {
        let text = match summaries.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        match text {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    summaries.iter().map(|s| s.exit_code).max().unwrap_or(0)
}

/// The definition at `path`, with `--period` of its kind (a month given to a quarterly
/// pipeline is a usage error); else the exit code, the problem said on stderr.
fn definition_for(path: &Path, period: Option<Period>) -> Result<definition::Definition, u8> {
    let def = definition::load(path).map_err(|e| report_definition_error(&e))?;
    if let Some(Err(e)) = period.map(|p| p.expect_kind(def.pipeline.period)) {
        eprintln!("error: --period {e}");
        return Err(USAGE);
    }
    Ok(def)
}

fn status_command(args: StatusArgs) -> u8 {
    let def = match definition_for(&args.pipeline.pipeline, args.period) {
        Ok(def) => def,
        Err(code) => return code,
    };
    let opts = RunOptions {
        pipeline: args.pipeline.pipeline,
        data: args.data,
        period: args.period,
        out: args.out,
        from: Stage::Ingest,
        to: Stage::Merge,
        force: false,
        progress: false,
    };
    match run::status(&def, &opts) {
        Ok((text, code)) => {
            print!("{text}");
            code
        }
        Err(e) => failure(&e),
    }
}

fn template_command(args: TemplateArgs) -> u8 {
    let def = match definition_for(&args.pipeline.pipeline, args.period) {
        Ok(def) => def,
        Err(code) => return code,
    };
    let written = (|| -> anyhow::Result<Vec<std::path::PathBuf>> {
        let period = match args.period {
            Some(p) => p,
            None => run::newest_period(&args.data, def.pipeline.period)?,
        };
        let registry = tonghop::registry::Registry::load(&args.data.join(&def.registry.file))?;
        let hierarchy = registry.hierarchy(period, &def.registry.levels)?;
        match &args.unit {
            Some(code) => tonghop::template::write_unit(&def, &hierarchy, code, period, &args.out),
            None => tonghop::template::write_all(&def, &hierarchy, period, &args.out),
        }
    })();
    match written {
        Ok(paths) => {
            for p in &paths {
                println!("{}", p.display());
            }
            0
        }
        Err(e) => failure(&e),
    }
}
