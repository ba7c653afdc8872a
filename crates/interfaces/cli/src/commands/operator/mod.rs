//! `coffer operator`: init, unseal, seal, rekey, generate-root, key-status, rotate.

pub mod generate_root;
pub mod init;
pub mod keys;
pub mod rekey;
pub mod unseal;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::context::Ctx;

/// `coffer operator` arguments.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// The operator subcommand.
    #[command(subcommand)]
    pub command: OperatorCommand,
}

/// The operator subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Initialize a server: create the root key shares and the root token.
    Init(init::InitArgs),
    /// Provide one unseal key share.
    Unseal(unseal::UnsealArgs),
    /// Seal the server.
    Seal,
    /// Generate new unseal key shares.
    Rekey(rekey::RekeyArgs),
    /// Generate a new root token from a quorum of key shares.
    GenerateRoot(generate_root::GenerateRootArgs),
    /// Print the active encryption key term.
    KeyStatus,
    /// Rotate the barrier encryption key.
    Rotate,
}

/// Runs an operator subcommand.
pub async fn run(ctx: &Ctx, args: OperatorArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        OperatorCommand::Init(a) => init::run(ctx, &client, a).await,
        OperatorCommand::Unseal(a) => unseal::unseal(ctx, &client, a).await,
        OperatorCommand::Seal => unseal::seal(ctx, &client).await,
        OperatorCommand::Rekey(a) => rekey::run(ctx, &client, a).await,
        OperatorCommand::GenerateRoot(a) => generate_root::run(ctx, &client, a).await,
        OperatorCommand::KeyStatus => keys::key_status(ctx, &client).await,
        OperatorCommand::Rotate => keys::rotate(ctx, &client).await,
    }
}

/// A boolean field of a raw JSON answer.
pub(crate) fn flag(v: &serde_json::Value, key: &str) -> bool {
    v.get(key)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// An unsigned field of a raw JSON answer.
pub(crate) fn num(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// A string field of a raw JSON answer.
pub(crate) fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
