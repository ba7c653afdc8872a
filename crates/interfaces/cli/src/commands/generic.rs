//! `coffer read|write|list|delete PATH [k=v...]`: any path of the API.

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value};

use crate::context::Ctx;
use crate::exit::Exit;
use crate::input::{ensure_trailing_slash, sanitize_path};
use crate::output::secret::list_keys;

/// `coffer read` arguments.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The path to read.
    pub path: String,
    /// Query parameters as key=value.
    #[arg(value_name = "K=V")]
    pub data: Vec<String>,
}

/// `coffer write` arguments.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Allow writing with no data.
    #[arg(long, short = 'f', num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub force: bool,
    /// The path to write.
    pub path: String,
    /// Data as key=value, key=@file, key=- (stdin), @file.json or - (JSON on stdin).
    #[arg(value_name = "K=V")]
    pub data: Vec<String>,
}

/// `coffer list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The path to list.
    pub path: String,
}

/// `coffer delete` arguments.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The path to delete.
    pub path: String,
    /// Query parameters as key=value.
    #[arg(value_name = "K=V")]
    pub data: Vec<String>,
}

/// Turns data into query parameters (lists repeat the key).
pub fn to_query(data: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in data {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().map(|i| (k.clone(), scalar(i))));
            }
            other => out.push((k.clone(), scalar(other))),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_data(args: &[String]) -> Result<Map<String, Value>> {
    crate::kv_data::parse(args, &mut std::io::stdin()).context("Failed to parse K=V data")
}

/// Runs `coffer read`.
pub async fn read(ctx: &Ctx, args: ReadArgs) -> Result<()> {
    let client = ctx.client()?;
    let path = sanitize_path(&args.path);
    let query = to_query(&parse_data(&args.data)?);
    let secret = client
        .read_with_query(&path, &query)
        .await
        .with_context(|| format!("Error reading {path}"))?
        .ok_or_else(|| Exit::remote(format!("No value found at {path}")))?;
    ctx.out.secret(&secret)
}

/// Runs `coffer write`.
pub async fn write(ctx: &Ctx, args: WriteArgs) -> Result<()> {
    if args.data.is_empty() && !args.force {
        bail!("Must supply data or use -force");
    }
    let client = ctx.client()?;
    let path = sanitize_path(&args.path);
    let data = parse_data(&args.data)?;
    let secret = client
        .write(&path, &Value::Object(data))
        .await
        .with_context(|| format!("Error writing data to {path}"))?;
    match secret {
        Some(s) => ctx.out.secret(&s),
        None => {
            ctx.out
                .success(&format!("Success! Data written to: {path}"));
            Ok(())
        }
    }
}

/// Runs `coffer list`.
pub async fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let client = ctx.client()?;
    let path = ensure_trailing_slash(&sanitize_path(&args.path));
    let secret = client
        .list(&path)
        .await
        .with_context(|| format!("Error listing {path}"))?;
    match secret {
        Some(s) if s.wrap_info.is_some() => ctx.out.secret(&s),
        Some(s) if list_keys(&s).is_some() => ctx.out.list(&s),
        _ => Err(Exit::remote(format!("No value found at {path}")).into()),
    }
}

/// Runs `coffer delete`.
pub async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let client = ctx.client()?;
    let path = sanitize_path(&args.path);
    let query = to_query(&parse_data(&args.data)?);
    let secret = if query.is_empty() {
        client.delete(&path).await
    } else {
        client.delete_with_query(&path, &query).await
    }
    .with_context(|| format!("Error deleting {path}"))?;
    match secret {
        Some(s) if ctx.out.field.is_some() || !ctx.out.is_table() => ctx.out.secret(&s),
        _ => {
            ctx.out
                .success(&format!("Success! Data deleted (if it existed) at: {path}"));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn data_becomes_query_parameters() {
        let data = json!({"a": "1", "l": ["x", "y"], "n": 2})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            to_query(&data),
            [
                ("a".into(), "1".into()),
                ("l".into(), "x".into()),
                ("l".into(), "y".into()),
                ("n".into(), "2".into())
            ]
        );
    }
}
