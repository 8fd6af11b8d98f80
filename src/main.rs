//! `tonghop`: parse the command line, call the library, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use tonghop::cli::{Cli, Command, RunArgs, StatusArgs};
use tonghop::definition::{self, DefinitionError};
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
    };
    ExitCode::from(code)
}

fn report_definition_error(e: &DefinitionError) -> u8 {
    eprintln!("{e}");
    eprintln!("{} error(s) in {}", e.problems.len(), e.path.display());
    USAGE
}

fn run_command(args: RunArgs) -> u8 {
    let def = match definition::load(&args.pipeline.pipeline) {
        Ok(def) => def,
        Err(e) => return report_definition_error(&e),
    };
    let (from, to) = match args.only {
        Some(stage) => (stage, stage),
        None => (args.from.unwrap_or(Stage::Ingest), args.to.unwrap_or(Stage::Report)),
    };
    if from > to {
        eprintln!("error: --from {} comes after --to {}", from.name(), to.name());
        return USAGE;
    }
    let opts = RunOptions {
        pipeline: args.pipeline.pipeline,
        data: args.data,
        period: args.period,
        out: args.out,
        from,
        to,
        force: args.force,
    };
    match run::run(&def, &opts) {
        Ok(summary) => {
            if args.json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("error: {e}"),
                }
            } else if !args.quiet {
                println!("{}", summary.human());
            }
            summary.exit_code
        }
        Err(e) => failure(&e),
    }
}

fn status_command(args: StatusArgs) -> u8 {
    let def = match definition::load(&args.pipeline.pipeline) {
        Ok(def) => def,
        Err(e) => return report_definition_error(&e),
    };
    let opts = RunOptions {
        pipeline: args.pipeline.pipeline,
        data: args.data,
        period: args.period,
        out: args.out,
        from: Stage::Ingest,
        to: Stage::Merge,
        force: false,
    };
    match run::status(&def, &opts) {
        Ok((text, code)) => {
            print!("{text}");
            code
        }
        Err(e) => failure(&e),
    }
}
