//! The commands. Each module owns one command family: its flags and behaviour.

pub mod audit;
pub mod auth;
pub mod generic;
pub mod kv;
pub mod lease;
pub mod login;
pub mod mounts;
pub mod operator;
pub mod path_help;
pub mod policy;
pub mod rotation;
pub mod seal_status;
pub mod secrets;
pub mod status;
pub mod token;

use anyhow::Result;

use crate::args::{Cli, Command};
use crate::context::Ctx;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let Cli { global, command } = cli;
    if let Command::Server(args) = command {
        return crate::server::run(args).await;
    }
    let ctx = Ctx::new(global)?;
    match command {
        Command::Server(_) => Ok(()),
        Command::Operator(a) => operator::run(&ctx, a).await,
        Command::Status => status::run(&ctx).await,
        Command::Login(a) => login::run(&ctx, a).await,
        Command::Kv(a) => kv::run(&ctx, a).await,
        Command::Secrets(a) => secrets::run(&ctx, a).await,
        Command::Auth(a) => auth::run(&ctx, a).await,
        Command::Policy(a) => policy::run(&ctx, a).await,
        Command::Token(a) => token::run(&ctx, a).await,
        Command::Audit(a) => audit::run(&ctx, a).await,
        Command::Rotation(a) => rotation::run(&ctx, a).await,
        Command::Lease(a) => lease::run(&ctx, a).await,
        Command::PathHelp(a) => path_help::run(&ctx, a).await,
        Command::Read(a) => generic::read(&ctx, a).await,
        Command::Write(a) => generic::write(&ctx, a).await,
        Command::List(a) => generic::list(&ctx, a).await,
        Command::Delete(a) => generic::delete(&ctx, a).await,
        Command::Version => {
            crate::output::line(&format!("Coffer v{}", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
    }
}
