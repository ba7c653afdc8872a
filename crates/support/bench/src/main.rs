//! `coffer-bench`: the load benchmark of issue 6.
//!
//! Starts a Coffer server from the same target directory (or targets one
//! with `--addr`), drives it from this process with keep-alive HTTP/1.1
//! connections, one scenario at a time, and measures a bare hyper server
//! answering a body of the same size (the ceiling) in the same run. Prints a
//! table, or JSON with `--json`. See `bench/README.md`.
#![forbid(unsafe_code)]

mod admin;
mod args;
mod ceiling;
mod load;
mod probe;
mod report;
mod run;
mod scenario;
mod setup;
mod target;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Args, Internal};

/// A progress line on standard error (standard output carries the results).
pub(crate) fn progress(line: &str) {
    eprintln!("==> {line}");
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match &args.command {
        Some(Internal::CeilingServer { body_bytes }) => ceiling::serve(*body_bytes),
        None => benchmark(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coffer-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the scenarios on a runtime of `--client-threads` workers and prints
/// the results.
fn benchmark(args: &Args) -> anyhow::Result<()> {
    let threads = usize::try_from(args.client_threads)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let rows = runtime.block_on(run::run(args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", report::table(&rows));
    }
    Ok(())
}
