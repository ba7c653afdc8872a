//! `kv put` and `kv patch`.

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};

use coffer_client::{Client, Secret};

use super::MountArg;
use super::paths::resolve;
use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::line;
use crate::output::secret::{header_for_map, map_table, path_block};

/// `kv put` arguments.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// Check-and-set: 0 writes only if the key does not exist, N only if the
    /// current version is N (v2).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub cas: Option<i64>,
    /// The secret path.
    pub path: String,
    /// Data as key=value, key=@file, key=- (stdin), @file.json or - (JSON on stdin).
    #[arg(value_name = "K=V")]
    pub data: Vec<String>,
}

/// `kv patch` arguments.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// Check-and-set version.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub cas: Option<i64>,
    /// "patch" (HTTP PATCH), "rw" (read then write); default: PATCH, falling back
    /// to read-then-write on permission denied.
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Key to remove from the secret (repeatable).
    #[arg(long = "remove-data", value_name = "KEY")]
    pub remove_data: Vec<String>,
    /// The secret path.
    pub path: String,
    /// Data as key=value, key=@file, key=- or -.
    #[arg(value_name = "K=V")]
    pub data: Vec<String>,
}

/// The body of a v2 write: `{"data": ..., "options": {"cas": N}}`.
pub fn v2_body(data: Map<String, Value>, cas: Option<i64>) -> Value {
    let mut options = Map::new();
    if let Some(cas) = cas.filter(|c| *c >= 0) {
        options.insert("cas".into(), Value::from(cas));
    }
    json!({ "data": data, "options": options })
}

/// Prints a v2 write answer like Vault: the path and the new version's metadata.
fn print_written(ctx: &Ctx, full: &str, secret: Option<Secret>) -> Result<()> {
    let Some(secret) = secret else {
        ctx.out
            .success(&format!("Success! Data written to: {full}"));
        return Ok(());
    };
    if ctx.out.field.is_some() || !ctx.out.is_table() || secret.wrap_info.is_some() {
        return ctx.out.secret(&secret);
    }
    let data = secret.data_or_empty();
    line(&path_block(full, "Secret Path"));
    line(&header_for_map("Metadata", &data));
    if let Some(t) = map_table(&data) {
        line(&t);
    }
    Ok(())
}

/// `kv put`.
pub async fn put(ctx: &Ctx, client: &Client, args: PutArgs) -> Result<()> {
    if args.data.is_empty() {
        bail!("Must supply data");
    }
    let data = crate::kv_data::parse(&args.data, &mut std::io::stdin())
        .context("Failed to parse K=V data")?;
    let kv = resolve(client, args.mount.get(), &args.path).await?;
    let full = kv.full_path("data");
    let body = if kv.v2 {
        v2_body(data, args.cas)
    } else {
        Value::Object(data)
    };
    let secret = client
        .write(&full, &body)
        .await
        .with_context(|| format!("Error writing data to {full}"))?;
    print_written(ctx, &full, secret)
}

/// `kv patch`.
pub async fn patch(ctx: &Ctx, client: &Client, args: PatchArgs) -> Result<()> {
    if args.data.is_empty() && args.remove_data.is_empty() {
        bail!("Must supply data");
    }
    let mut data = crate::kv_data::parse(&args.data, &mut std::io::stdin())
        .context("Failed to parse K=V data")?;
    for key in &args.remove_data {
        data.insert(key.clone(), Value::Null);
    }
    let kv = resolve(client, args.mount.get(), &args.path).await?;
    if !kv.v2 {
        return Err(Exit::remote("K/V engine mount must be version 2 for patch support").into());
    }
    let full = kv.full_path("data");
    let secret = match args.method.as_deref() {
        Some("rw") => read_then_write(client, &full, data).await?,
        Some("patch") => merge_patch(client, &full, data, args.cas).await?,
        None | Some("") => match client.patch(&full, &v2_body(data.clone(), args.cas)).await {
            Err(e) if e.status() == Some(403) => read_then_write(client, &full, data).await?,
            other => other.with_context(|| format!("Error writing data to {full}"))?,
        },
        Some(other) => bail!("Unsupported method provided to -method flag: {other}"),
    };
    print_written(ctx, &full, secret)
}

async fn merge_patch(
    client: &Client,
    full: &str,
    data: Map<String, Value>,
    cas: Option<i64>,
) -> Result<Option<Secret>> {
    client
        .patch(full, &v2_body(data, cas))
        .await
        .with_context(|| format!("Error writing data to {full}"))
}

/// Vault's `-method=rw`: read the current version, merge, write with
/// `cas` set to the version read.
async fn read_then_write(
    client: &Client,
    full: &str,
    patch: Map<String, Value>,
) -> Result<Option<Secret>> {
    let current = client
        .read(full)
        .await
        .with_context(|| format!("Error doing pre-read at {full}"))?
        .ok_or_else(|| Exit::remote(format!("No value found at {full}")))?;
    let version = current
        .data_field("metadata")
        .and_then(|m| m.get("version"))
        .cloned()
        .ok_or_else(|| {
            Exit::remote(format!(
                "No metadata found at {full}; patch only works on existing data"
            ))
        })?;
    let Some(Value::Object(mut data)) = current.data_field("data").cloned() else {
        return Err(Exit::remote(format!(
            "No data found at {full}; patch only works on existing data"
        ))
        .into());
    };
    merge(&mut data, patch);
    let body = json!({ "data": data, "options": { "cas": version } });
    client
        .write(full, &body)
        .await
        .with_context(|| format!("Error writing data to {full}"))
}

/// Applies a flat merge patch: `null` removes a key, anything else replaces it.
pub fn merge(data: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            data.remove(&k);
        } else {
            data.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_bodies_carry_cas_only_when_set() {
        let mut data = Map::new();
        data.insert("a".into(), json!("b"));
        assert_eq!(
            v2_body(data.clone(), None),
            json!({"data": {"a": "b"}, "options": {}})
        );
        assert_eq!(
            v2_body(data.clone(), Some(0)),
            json!({"data": {"a": "b"}, "options": {"cas": 0}})
        );
        assert_eq!(
            v2_body(data, Some(-1)),
            json!({"data": {"a": "b"}, "options": {}})
        );
    }

    #[test]
    fn merge_patch_semantics() {
        let mut data = json!({"a": "1", "b": "2"}).as_object().unwrap().clone();
        let patch = json!({"a": null, "c": "3"}).as_object().unwrap().clone();
        merge(&mut data, patch);
        assert_eq!(Value::Object(data), json!({"b": "2", "c": "3"}));
    }
}
