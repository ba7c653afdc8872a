//! `coffer policy write|read|list|delete` (ACL policies under `sys/policies/acl`).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::exit::Exit;
use crate::input::file_or_stdin;
use crate::output::{Format, line, to_json};

/// `coffer policy` arguments.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The policy subcommand.
    #[command(subcommand)]
    pub command: PolicyCommand,
}

/// The policy subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Upload a policy from a file, or from stdin with "-".
    Write {
        /// Policy name.
        name: String,
        /// HCL or JSON policy file, or "-" for stdin.
        file: String,
    },
    /// Print a policy's rules.
    Read {
        /// Policy name.
        name: String,
    },
    /// List policy names.
    List,
    /// Delete a policy.
    Delete {
        /// Policy name.
        name: String,
    },
}

/// Policy names are case-insensitive; Vault lower-cases them.
pub fn normalize_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Runs a policy subcommand.
pub async fn run(ctx: &Ctx, args: PolicyArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        PolicyCommand::Write { name, file } => {
            let name = normalize_name(&name);
            let rules = file_or_stdin(&file)?;
            client
                .write(
                    &format!("sys/policies/acl/{name}"),
                    &json!({ "policy": rules }),
                )
                .await
                .context("Error uploading policy")?;
            ctx.out
                .success(&format!("Success! Uploaded policy: {name}"));
            Ok(())
        }
        PolicyCommand::Read { name } => {
            let name = normalize_name(&name);
            let secret = client
                .read(&format!("sys/policies/acl/{name}"))
                .await
                .context("Error reading policy")?
                .ok_or_else(|| Exit::remote(format!("No policy named: {name}")))?;
            let rules = secret
                .data_field("policy")
                .or_else(|| secret.data_field("rules"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match ctx.out.format {
                Format::Table => line(rules.trim()),
                Format::Json => line(&to_json(&json!({ "policy": rules }))?),
            }
            Ok(())
        }
        PolicyCommand::List => {
            let secret = client
                .list("sys/policies/acl")
                .await
                .context("Error listing policies")?
                .unwrap_or_default();
            let keys = secret.data_field("keys").cloned().unwrap_or(json!([]));
            ctx.out.data(&keys)
        }
        PolicyCommand::Delete { name } => {
            let name = normalize_name(&name);
            client
                .delete(&format!("sys/policies/acl/{name}"))
                .await
                .context("Error deleting policy")?;
            ctx.out.success(&format!("Success! Deleted policy: {name}"));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased() {
        assert_eq!(normalize_name(" My-Policy "), "my-policy");
    }
}
