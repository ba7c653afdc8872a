//! `coffer secrets enable|disable|list|tune`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use coffer_client::Client;

use crate::commands::mounts;
use crate::context::Ctx;
use crate::input::{ensure_trailing_slash, sanitize_path};
use crate::kv_data::parse_string_pairs;
use crate::output::{Format, line, to_json};

/// `coffer secrets` arguments.
#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// The secrets subcommand.
    #[command(subcommand)]
    pub command: SecretsCommand,
}

/// The secrets subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Enable a secrets engine.
    Enable(EnableArgs),
    /// Disable a secrets engine.
    Disable(PathArg),
    /// List enabled secrets engines.
    List,
    /// Tune a secrets engine's configuration.
    Tune(TuneArgs),
}

/// A mount path argument.
#[derive(Debug, Args)]
pub struct PathArg {
    /// The mount path.
    pub path: String,
}

/// Mount configuration flags shared by `enable` and `tune`.
#[derive(Debug, Default, Args)]
pub struct MountConfigArgs {
    /// Human-friendly description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Default lease TTL (e.g. "1h").
    #[arg(long, value_name = "DURATION")]
    pub default_lease_ttl: Option<String>,
    /// Maximum lease TTL (e.g. "24h").
    #[arg(long, value_name = "DURATION")]
    pub max_lease_ttl: Option<String>,
    /// Engine option key=value (repeatable).
    #[arg(long, value_name = "K=V")]
    pub options: Vec<String>,
    /// Engine version, sent as option "version" (e.g. 2 for KV v2).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
}

/// `secrets enable` arguments.
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Mount path (defaults to the engine type).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Shared mount configuration.
    #[command(flatten)]
    pub config: MountConfigArgs,
    /// Do not cache responses (send `force_no_cache`).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub force_no_cache: bool,
    /// Mark the mount local (not replicated).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub local: bool,
    /// Seal-wrap critical values.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub seal_wrap: bool,
    /// The engine type (e.g. kv, kv-v2, transit).
    pub engine_type: String,
}

/// `secrets tune` arguments.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Shared mount configuration.
    #[command(flatten)]
    pub config: MountConfigArgs,
    /// Listing visibility in the UI: "unauth" or "hidden".
    #[arg(long, value_name = "VISIBILITY")]
    pub listing_visibility: Option<String>,
    /// The mount path.
    pub path: String,
}

/// The `options` object: `-options` pairs plus `-version`.
pub fn options(config: &MountConfigArgs) -> Result<Map<String, Value>> {
    let mut options = parse_string_pairs(&config.options, "options")?;
    if let Some(v) = config.version.filter(|v| *v > 0) {
        options.insert("version".into(), Value::from(v.to_string()));
    }
    Ok(options)
}

/// The body of `POST sys/mounts/<path>` and the mount path, like Vault's CLI
/// (`kv-v2` means type `kv` with option version 2).
pub fn enable_body(args: &EnableArgs) -> Result<(String, Value)> {
    let mut engine = args.engine_type.trim().to_owned();
    let path = args.path.clone().unwrap_or_else(|| engine.clone());
    let mut opts = options(&args.config)?;
    if engine == "kv-v2" {
        engine = "kv".into();
        opts.insert("version".into(), Value::from("2"));
    }
    let mut config = Map::new();
    if let Some(t) = &args.config.default_lease_ttl {
        config.insert("default_lease_ttl".into(), Value::from(t.as_str()));
    }
    if let Some(t) = &args.config.max_lease_ttl {
        config.insert("max_lease_ttl".into(), Value::from(t.as_str()));
    }
    if args.force_no_cache {
        config.insert("force_no_cache".into(), Value::Bool(true));
    }
    let mut body = Map::new();
    body.insert("type".into(), Value::from(engine));
    body.insert(
        "description".into(),
        Value::from(args.config.description.clone().unwrap_or_default()),
    );
    body.insert("config".into(), Value::Object(config));
    body.insert("local".into(), Value::Bool(args.local));
    body.insert("seal_wrap".into(), Value::Bool(args.seal_wrap));
    if !opts.is_empty() {
        body.insert("options".into(), Value::Object(opts));
    }
    Ok((sanitize_path(&path), Value::Object(body)))
}

/// The body of `POST sys/mounts/<path>/tune`: only what was given.
pub fn tune_body(args: &TuneArgs) -> Result<Value> {
    let mut body = Map::new();
    let c = &args.config;
    if let Some(t) = &c.default_lease_ttl {
        body.insert("default_lease_ttl".into(), Value::from(t.as_str()));
    }
    if let Some(t) = &c.max_lease_ttl {
        body.insert("max_lease_ttl".into(), Value::from(t.as_str()));
    }
    if let Some(d) = &c.description {
        body.insert("description".into(), Value::from(d.as_str()));
    }
    if let Some(v) = &args.listing_visibility {
        body.insert("listing_visibility".into(), Value::from(v.as_str()));
    }
    let opts = options(c)?;
    if !opts.is_empty() {
        body.insert("options".into(), Value::Object(opts));
    }
    Ok(Value::Object(body))
}

/// Runs a secrets subcommand.
pub async fn run(ctx: &Ctx, args: SecretsArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        SecretsCommand::Enable(a) => {
            let (path, body) = enable_body(&a)?;
            let engine = body["type"].as_str().unwrap_or_default().to_owned();
            client
                .write(&format!("sys/mounts/{path}"), &body)
                .await
                .context("Error enabling")?;
            ctx.out.success(&format!(
                "Success! Enabled the {engine} secrets engine at: {}",
                ensure_trailing_slash(&path)
            ));
            Ok(())
        }
        SecretsCommand::Disable(a) => {
            let path = sanitize_path(&a.path);
            client
                .delete(&format!("sys/mounts/{path}"))
                .await
                .with_context(|| format!("Error disabling secrets engine at {path}"))?;
            ctx.out.success(&format!(
                "Success! Disabled the secrets engine (if it existed) at: {}",
                ensure_trailing_slash(&path)
            ));
            Ok(())
        }
        SecretsCommand::List => list(ctx, &client, "sys/mounts", "secrets engines").await,
        SecretsCommand::Tune(a) => {
            let path = sanitize_path(&a.path);
            client
                .write(&format!("sys/mounts/{path}/tune"), &tune_body(&a)?)
                .await
                .context("Error tuning secrets engine")?;
            ctx.out.success(&format!(
                "Success! Tuned the secrets engine at: {}",
                ensure_trailing_slash(&path)
            ));
            Ok(())
        }
    }
}

/// Lists a mount table (`sys/mounts` or `sys/auth`).
pub async fn list(ctx: &Ctx, client: &Client, path: &str, what: &str) -> Result<()> {
    let secret = client
        .read(path)
        .await
        .with_context(|| format!("Error listing {what}"))?
        .unwrap_or_default();
    let data = secret.data_or_empty();
    match ctx.out.format {
        Format::Json => line(&to_json(&data)?),
        Format::Table => line(&mounts::render(&data)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::args::{Cli, Command};

    fn enable(args: &[&str]) -> EnableArgs {
        let mut argv = vec!["coffer", "secrets", "enable"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Secrets(SecretsArgs {
                command: SecretsCommand::Enable(a),
            }) => a,
            _ => panic!("not secrets enable"),
        }
    }

    #[test]
    fn kv_v2_shorthand_and_version_flag() {
        let (path, body) = enable_body(&enable(&["kv-v2"])).unwrap();
        assert_eq!(path, "kv-v2");
        assert_eq!(body["type"], "kv");
        assert_eq!(body["options"], json!({"version": "2"}));
        let (path, body) = enable_body(&enable(&[
            "--path=secret",
            "--version=2",
            "--description",
            "d",
            "kv",
        ]))
        .unwrap();
        assert_eq!(path, "secret");
        assert_eq!(body["options"], json!({"version": "2"}));
        assert_eq!(body["description"], "d");
    }

    #[test]
    fn ttls_and_flags_go_into_config() {
        let (_, body) = enable_body(&enable(&[
            "--max-lease-ttl=24h",
            "--local",
            "--options",
            "a=b",
            "transit",
        ]))
        .unwrap();
        assert_eq!(body["config"], json!({"max_lease_ttl": "24h"}));
        assert_eq!(body["local"], true);
        assert_eq!(body["options"], json!({"a": "b"}));
    }

    #[test]
    fn tune_sends_only_given_fields() {
        let cli = Cli::try_parse_from([
            "coffer",
            "secrets",
            "tune",
            "--default-lease-ttl=1h",
            "secret/",
        ])
        .unwrap();
        let Command::Secrets(SecretsArgs {
            command: SecretsCommand::Tune(a),
        }) = cli.command
        else {
            panic!("not tune")
        };
        assert_eq!(tune_body(&a).unwrap(), json!({"default_lease_ttl": "1h"}));
    }
}
