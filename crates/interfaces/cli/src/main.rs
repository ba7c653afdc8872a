//! The `coffer` binary: the server and a Vault-compatible CLI (operator, status,
//! login, kv, secrets, auth, policy, token and the generic read/write/list/delete).
//!
//! This file is glue: arguments are normalised (Vault's `-flag=value` spelling),
//! parsed by clap, dispatched to [`commands`], and errors become Vault's exit
//! codes (1 local, 2 remote; see [`exit`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod commands;
mod context;
mod exit;
mod flags_compat;
mod hardening;
mod input;
mod kv_data;
mod logging;
mod output;
mod server;
mod token_helper;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

#[tokio::main]
async fn main() -> ExitCode {
    let command = args::Cli::command();
    let known = flags_compat::long_flag_names(&command);
    let argv = flags_compat::normalize(std::env::args_os().collect(), &known);
    let parsed = command
        .try_get_matches_from(argv)
        .and_then(|m| args::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit::OK,
                _ => exit::LOCAL,
            };
            return ExitCode::from(code);
        }
    };
    match commands::run(cli).await {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            if let Some(message) = exit::message_for(&err) {
                output::error_line(&message);
            }
            ExitCode::from(exit::code_for(&err))
        }
    }
}
