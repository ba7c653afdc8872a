//! `coffer lease revoke|renew|lookup`: leases of dynamic secrets
//! (`sys/leases/*`). `lease revoke -prefix database/creds/web` is the
//! incident-response switch: it revokes every lease under the prefix, so
//! the database drops every user that role created.

use anyhow::{Context, Result};
use clap::{ArgAction, Args, Subcommand};
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::exit::Exit;

/// `coffer lease` arguments.
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// The lease subcommand.
    #[command(subcommand)]
    pub command: LeaseCommand,
}

/// The lease subcommands.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Revoke a lease, or with -prefix every lease under a path.
    Revoke(RevokeArgs),
    /// Renew a lease.
    Renew(RenewArgs),
    /// Show a lease's metadata.
    Lookup {
        /// The lease id.
        lease_id: String,
    },
}

/// `lease revoke` arguments.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Treat the argument as a prefix: revoke every lease under it
    /// (`database/creds/web`).
    #[arg(long)]
    pub prefix: bool,
    /// With -prefix: drop the leases even when the backend fails to revoke
    /// the secrets (they may outlive their leases). Needs sudo.
    #[arg(long)]
    pub force: bool,
    /// Wait until every secret is revoked (the default; `-sync=false`
    /// queues the revocations instead).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub sync: bool,
    /// The lease id, or the prefix.
    pub target: String,
}

/// `lease renew` arguments.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// The TTL asked for (`1h`); the engine and the lease's maximum may grant less.
    #[arg(long)]
    pub increment: Option<String>,
    /// The lease id.
    pub lease_id: String,
}

/// Runs a lease subcommand.
pub async fn run(ctx: &Ctx, args: LeaseArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        LeaseCommand::Revoke(a) => {
            let target = a.target.trim_matches('/');
            if target.is_empty() {
                return Err(Exit::with_message(
                    crate::exit::LOCAL,
                    "lease revoke needs a lease id or, with -prefix, a path",
                )
                .into());
            }
            let path = match (a.prefix, a.force) {
                (true, true) => format!("sys/leases/revoke-force/{target}"),
                (true, false) => format!("sys/leases/revoke-prefix/{target}"),
                (false, true) => {
                    return Err(
                        Exit::with_message(crate::exit::LOCAL, "-force requires -prefix").into(),
                    );
                }
                (false, false) => "sys/leases/revoke".to_owned(),
            };
            let body = if a.prefix {
                json!({ "sync": a.sync })
            } else {
                json!({ "lease_id": target, "sync": a.sync })
            };
            client
                .write(&path, &body)
                .await
                .with_context(|| format!("Error revoking {target}"))?;
            let what = if a.prefix {
                "every lease under"
            } else {
                "lease"
            };
            if a.sync {
                ctx.out
                    .success(&format!("Success! Revoked {what}: {target}"));
            } else {
                ctx.out
                    .success("All revocation operations queued successfully!");
            }
            Ok(())
        }
        LeaseCommand::Renew(a) => {
            let mut body = json!({ "lease_id": a.lease_id });
            if let Some(inc) = a.increment {
                body["increment"] = Value::String(inc);
            }
            let secret = client
                .write("sys/leases/renew", &body)
                .await
                .context("Error renewing lease")?
                .ok_or_else(|| Exit::remote("No answer to the lease renewal"))?;
            ctx.out.secret(&secret)
        }
        LeaseCommand::Lookup { lease_id } => {
            let secret = client
                .write("sys/leases/lookup", &json!({ "lease_id": lease_id }))
                .await
                .context("Error looking up lease")?
                .ok_or_else(|| Exit::remote("No lease information"))?;
            ctx.out.secret(&secret)
        }
    }
}
