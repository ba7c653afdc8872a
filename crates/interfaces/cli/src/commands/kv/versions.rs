//! `kv delete`, `kv undelete` and `kv destroy`.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::json;

use coffer_client::Client;

use super::MountArg;
use super::paths::resolve;
use crate::context::Ctx;

/// `kv delete` arguments.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// Versions to delete (comma separated or repeated); the latest when not given (v2).
    #[arg(long, value_name = "N,N", value_delimiter = ',')]
    pub versions: Vec<String>,
    /// The secret path.
    pub path: String,
}

/// `kv undelete` / `kv destroy` arguments.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// Versions to act on (comma separated or repeated).
    #[arg(long, value_name = "N,N", value_delimiter = ',')]
    pub versions: Vec<String>,
    /// The secret path.
    pub path: String,
}

/// Parses `-versions` values into numbers.
pub fn parse_versions(raw: &[String]) -> Result<Vec<u64>> {
    raw.iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| anyhow!("invalid version {v:?}"))
        })
        .collect()
}

/// `kv delete`.
pub async fn delete(ctx: &Ctx, client: &Client, args: DeleteArgs) -> Result<()> {
    let versions = parse_versions(&args.versions)?;
    let kv = resolve(client, args.mount.get(), &args.path).await?;
    let full = kv.full_path("data");
    let result = if kv.v2 && !versions.is_empty() {
        client
            .write(&kv.full_path("delete"), &json!({ "versions": versions }))
            .await
    } else {
        client.delete(&full).await
    };
    result.with_context(|| format!("Error deleting {full}"))?;
    ctx.out
        .success(&format!("Success! Data deleted (if it existed) at: {full}"));
    Ok(())
}

async fn versions_op(
    ctx: &Ctx,
    client: &Client,
    args: VersionsArgs,
    op: &str,
    name: &str,
) -> Result<()> {
    let versions = parse_versions(&args.versions)?;
    if versions.is_empty() {
        bail!("No versions provided, use the \"-versions\" flag to specify the version to {op}.");
    }
    let kv = resolve(client, args.mount.get(), &args.path).await?;
    if !kv.v2 {
        bail!("{name} not supported on KV Version 1");
    }
    let full = kv.full_path(op);
    let secret = client
        .write(&full, &json!({ "versions": versions }))
        .await
        .with_context(|| format!("Error writing data to {full}"))?;
    match secret {
        Some(s) => ctx.out.secret(&s),
        None => {
            ctx.out
                .success(&format!("Success! Data written to: {full}"));
            Ok(())
        }
    }
}

/// `kv undelete`.
pub async fn undelete(ctx: &Ctx, client: &Client, args: VersionsArgs) -> Result<()> {
    versions_op(ctx, client, args, "undelete", "Undelete").await
}

/// `kv destroy`.
pub async fn destroy(ctx: &Ctx, client: &Client, args: VersionsArgs) -> Result<()> {
    versions_op(ctx, client, args, "destroy", "Destroy").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        let raw = vec!["1".to_owned(), " 2".to_owned(), String::new()];
        assert_eq!(parse_versions(&raw).unwrap(), [1, 2]);
        assert!(parse_versions(&["x".to_owned()]).is_err());
    }
}
