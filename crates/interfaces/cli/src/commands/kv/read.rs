//! `kv get` and `kv list`.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use coffer_client::{Client, Secret};

use super::MountArg;
use super::paths::{KvPath, resolve};
use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::secret::{header_for_map, map_table, path_block, warnings_block};
use crate::output::{error_line, line};

/// `kv get` arguments.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// The version to read (v2); the latest when not given.
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    /// The secret path.
    pub path: String,
}

/// `kv list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The KV mount.
    #[command(flatten)]
    pub mount: MountArg,
    /// The folder to list (optional with -mount).
    pub path: Option<String>,
}

/// `kv get`.
pub async fn get(ctx: &Ctx, client: &Client, args: GetArgs) -> Result<()> {
    let kv = resolve(client, args.mount.get(), &args.path).await?;
    let full = kv.full_path("data");
    let query: Vec<(String, String)> = match args.version.filter(|v| *v > 0 && kv.v2) {
        Some(v) => vec![("version".to_owned(), v.to_string())],
        None => Vec::new(),
    };
    let secret = client
        .read_with_query(&full, &query)
        .await
        .with_context(|| format!("Error reading {full}"))?
        .ok_or_else(|| Exit::remote(format!("No value found at {full}")))?;

    if let Some(field) = &ctx.out.field {
        return ctx
            .out
            .field_value(field, field_of(&kv, &secret, field, &full)?);
    }
    if secret.wrap_info.is_some() || !ctx.out.is_table() {
        return ctx.out.secret(&secret);
    }
    if let Some(w) = warnings_block(&secret) {
        error_line(&w);
    }
    line(&render_get(&secret, kv.v2, &full));
    Ok(())
}

/// The value `-field` prints for `kv get` (Vault looks inside `data.data` for v2).
fn field_of(kv: &KvPath, secret: &Secret, field: &str, full: &str) -> Result<Option<Value>> {
    if !kv.v2 {
        return Ok(crate::output::secret::raw_field(secret, field));
    }
    let Some(Value::Object(data)) = secret.data_field("data") else {
        return Err(Exit::remote(format!("No data found at {full}")).into());
    };
    if field == "data" && !data.contains_key("data") {
        return Ok(crate::output::secret::raw_field(secret, field));
    }
    Ok(data.get(field).cloned())
}

/// The table form of `kv get`: for v2 the secret path, the metadata and the
/// data sections; for v1 the data section.
pub fn render_get(secret: &Secret, v2: bool, full_path: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if v2 {
        parts.push(path_block(full_path, "Secret Path"));
    }
    if let Some(Value::Object(meta)) = secret.data_field("metadata") {
        parts.push(header_for_map("Metadata", meta));
        if let Some(t) = map_table(meta) {
            parts.push(t);
        }
        parts.push(String::new());
    }
    let data = if v2 {
        match secret.data_field("data") {
            Some(Value::Object(d)) => Some(d.clone()),
            _ => None,
        }
    } else {
        secret.data.clone()
    };
    if let Some(data) = data {
        parts.push(header_for_map("Data", &data));
        if let Some(t) = map_table(&data) {
            parts.push(t);
        }
    }
    parts.join("\n").trim_end_matches('\n').to_owned()
}

/// `kv list`.
pub async fn list(ctx: &Ctx, client: &Client, args: ListArgs) -> Result<()> {
    let arg = match (&args.path, args.mount.get()) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => anyhow::bail!("Not enough arguments (expected 1, got 0)"),
    };
    let kv = resolve(client, args.mount.get(), &arg).await?;
    let full = kv.full_path("metadata");
    let secret = client
        .list(&full)
        .await
        .with_context(|| format!("Error listing {full}"))?;
    match secret {
        Some(s) if crate::output::secret::list_keys(&s).is_some() => ctx.out.list(&s),
        _ => Err(Exit::remote(format!("No value found at {full}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn v2_get_renders_like_vaults_docs() {
        let secret: Secret = serde_json::from_value(json!({"data": {
            "data": {"passcode": "my-long-passcode"},
            "metadata": {"created_time": "2022-06-15T20:23:40.067093Z", "custom_metadata": null,
                         "deletion_time": "", "destroyed": false, "version": 1}}}))
        .unwrap();
        let expected = "== Secret Path ==\nsecret/data/creds\n\n\
            ======= Metadata =======\n\
            Key                Value\n\
            ---                -----\n\
            created_time       2022-06-15T20:23:40.067093Z\n\
            custom_metadata    <nil>\n\
            deletion_time      n/a\n\
            destroyed          false\n\
            version            1\n\n\
            ====== Data ======\n\
            Key         Value\n\
            ---         -----\n\
            passcode    my-long-passcode";
        assert_eq!(render_get(&secret, true, "secret/data/creds"), expected);
    }

    #[test]
    fn v1_get_has_only_data() {
        let secret: Secret =
            serde_json::from_value(json!({"data": {"passcode": "my-long-passcode"}})).unwrap();
        assert_eq!(
            render_get(&secret, false, "kv/creds"),
            "====== Data ======\nKey         Value\n---         -----\npasscode    my-long-passcode"
        );
    }

    #[test]
    fn v2_fields_come_from_the_inner_data() {
        let kv = KvPath::new(None, "secret/x", "secret/".into(), 2);
        let secret: Secret = serde_json::from_value(json!({"data": {
            "data": {"password": "pw"}, "metadata": {"version": 3}}}))
        .unwrap();
        assert_eq!(
            field_of(&kv, &secret, "password", "p").unwrap(),
            Some(json!("pw"))
        );
        assert_eq!(field_of(&kv, &secret, "version", "p").unwrap(), None);
        assert_eq!(
            field_of(&kv, &secret, "data", "p").unwrap(),
            Some(json!({"password": "pw"}))
        );
        let deleted: Secret =
            serde_json::from_value(json!({"data": {"data": null, "metadata": {}}})).unwrap();
        assert!(field_of(&kv, &deleted, "password", "p").is_err());
    }
}
