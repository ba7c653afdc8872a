//! `kv metadata get|put|delete` (v2 only).

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use coffer_client::{Client, Secret};

use super::MountArg;
use super::paths::resolve;
use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::line;
use crate::output::secret::{header_for_map, map_table, path_block};

/// `kv metadata` arguments.
#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// The metadata subcommand.
    #[command(subcommand)]
    pub command: MetadataCommand,
}

/// The metadata subcommands.
#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Retrieve the metadata and versions of a secret.
    Get(PathArgs),
    /// Create or update the metadata of a secret.
    Put(MetadataPutArgs),
    /// Delete a secret, all its versions and its metadata.
    Delete(PathArgs),
}

/// A mount and a path.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// The secret path.
    pub path: String,
}

/// `kv metadata put` arguments.
#[derive(Debug, Args)]
pub struct MetadataPutArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// Number of versions to keep (0 = the mount's setting).
    #[arg(long, value_name = "N")]
    pub max_versions: Option<u64>,
    /// Require check-and-set on every write.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub cas_required: Option<bool>,
    /// Delete versions this long after they are written ("0s" = never).
    #[arg(long, value_name = "DURATION")]
    pub delete_version_after: Option<String>,
    /// Custom metadata key=value (repeatable).
    #[arg(long, value_name = "K=V")]
    pub custom_metadata: Vec<String>,
    /// The secret path.
    pub path: String,
}

/// Runs a metadata subcommand.
pub async fn run(ctx: &Ctx, client: &Client, args: MetadataArgs) -> Result<()> {
    match args.command {
        MetadataCommand::Get(a) => get(ctx, client, a).await,
        MetadataCommand::Put(a) => put(ctx, client, a).await,
        MetadataCommand::Delete(a) => delete(ctx, client, a).await,
    }
}

async fn metadata_path(client: &Client, mount: &MountArg, path: &str) -> Result<String> {
    let kv = resolve(client, mount.get(), path).await?;
    if !kv.v2 {
        bail!("Metadata not supported on KV Version 1");
    }
    Ok(kv.full_path("metadata"))
}

async fn get(ctx: &Ctx, client: &Client, args: PathArgs) -> Result<()> {
    let full = metadata_path(client, &args.mount, &args.path).await?;
    let secret = client
        .read(&full)
        .await
        .with_context(|| format!("Error reading {full}"))?
        .ok_or_else(|| Exit::remote(format!("No value found at {full}")))?;
    if ctx.out.field.is_some() || !ctx.out.is_table() {
        return ctx.out.secret(&secret);
    }
    line(&render_metadata(&secret, &full));
    Ok(())
}

/// The table form of `kv metadata get`: the metadata, then one section per version.
pub fn render_metadata(secret: &Secret, full: &str) -> String {
    let mut data = secret.data_or_empty();
    let versions = data.remove("versions");
    let mut parts = vec![
        path_block(full, "Metadata Path"),
        header_for_map("Metadata", &data),
    ];
    if let Some(t) = map_table(&data) {
        parts.push(t);
    }
    if let Some(Value::Object(versions)) = versions {
        let mut numbered: Vec<(u64, &Map<String, Value>)> = versions
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_object()?)))
            .collect();
        numbered.sort_by_key(|(n, _)| *n);
        for (n, version) in numbered {
            parts.push(format!(
                "\n{}",
                header_for_map(&format!("Version {n}"), version)
            ));
            if let Some(t) = map_table(version) {
                parts.push(t);
            }
        }
    }
    parts.join("\n")
}

async fn put(ctx: &Ctx, client: &Client, args: MetadataPutArgs) -> Result<()> {
    let mut body = Map::new();
    if let Some(n) = args.max_versions {
        body.insert("max_versions".into(), Value::from(n));
    }
    if let Some(b) = args.cas_required {
        body.insert("cas_required".into(), Value::from(b));
    }
    if let Some(d) = &args.delete_version_after {
        body.insert("delete_version_after".into(), Value::from(d.as_str()));
    }
    if !args.custom_metadata.is_empty() {
        let custom = crate::kv_data::parse_string_pairs(&args.custom_metadata, "custom-metadata")?;
        body.insert("custom_metadata".into(), Value::Object(custom));
    }
    let full = metadata_path(client, &args.mount, &args.path).await?;
    let secret = client
        .write(&full, &Value::Object(body))
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

async fn delete(ctx: &Ctx, client: &Client, args: PathArgs) -> Result<()> {
    let full = metadata_path(client, &args.mount, &args.path).await?;
    client
        .delete(&full)
        .await
        .with_context(|| format!("Error deleting {full}"))?;
    ctx.out
        .success(&format!("Success! Data deleted (if it existed) at: {full}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_renders_versions_in_order() {
        let secret: Secret = serde_json::from_value(json!({"data": {
            "current_version": 2, "max_versions": 0,
            "versions": {"10": {"destroyed": false}, "2": {"destroyed": true}}}}))
        .unwrap();
        let out = render_metadata(&secret, "secret/metadata/app");
        assert!(out.starts_with("== Metadata Path ==\nsecret/metadata/app\n"));
        let v2 = out.find("Version 2 ").unwrap();
        let v10 = out.find("Version 10 ").unwrap();
        assert!(v2 < v10);
        assert!(out.contains("current_version    2"));
        assert!(!out.lines().any(|l| l.starts_with("versions ")));
    }
}
