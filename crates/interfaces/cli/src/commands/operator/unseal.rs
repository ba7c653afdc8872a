//! `operator unseal` and `operator seal`.

use anyhow::{Context, Result};
use clap::Args;

use coffer_client::Client;

use crate::commands::seal_status;
use crate::context::Ctx;
use crate::input::secret_arg;

/// `operator unseal` arguments.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// Discard the key shares supplied so far.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub reset: bool,
    /// The key share; read as one line from stdin when absent or "-".
    pub key: Option<String>,
}

/// Runs `operator unseal`.
pub async fn unseal(ctx: &Ctx, client: &Client, args: UnsealArgs) -> Result<()> {
    let status = if args.reset {
        client
            .sys()
            .unseal_reset()
            .await
            .context("Error resetting unseal process")?
    } else {
        let key = secret_arg(args.key.as_deref(), "unseal key")?;
        client.sys().unseal(&key).await.context("Error unsealing")?
    };
    seal_status::print(client, &ctx.out, &status).await
}

/// Runs `operator seal`.
pub async fn seal(ctx: &Ctx, client: &Client) -> Result<()> {
    client.sys().seal().await.context("Error sealing")?;
    ctx.out.success("Success! Vault is sealed.");
    Ok(())
}
