//! `coffer auth enable|disable|list`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use crate::commands::secrets::list;
use crate::context::Ctx;
use crate::input::{ensure_trailing_slash, sanitize_path};
use crate::kv_data::parse_string_pairs;

/// `coffer auth` arguments.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// The auth subcommand.
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// The auth subcommands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Enable an auth method.
    Enable(AuthEnableArgs),
    /// Disable an auth method.
    Disable(AuthPathArg),
    /// List enabled auth methods.
    List,
}

/// An auth mount path.
#[derive(Debug, Args)]
pub struct AuthPathArg {
    /// The mount path.
    pub path: String,
}

/// `auth enable` arguments.
#[derive(Debug, Args)]
pub struct AuthEnableArgs {
    /// Mount path (defaults to the method type).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Human-friendly description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Default lease TTL of tokens issued by this method.
    #[arg(long, value_name = "DURATION")]
    pub default_lease_ttl: Option<String>,
    /// Maximum lease TTL of tokens issued by this method.
    #[arg(long, value_name = "DURATION")]
    pub max_lease_ttl: Option<String>,
    /// Listing visibility in the UI: "unauth" or "hidden".
    #[arg(long, value_name = "VISIBILITY")]
    pub listing_visibility: Option<String>,
    /// Method option key=value (repeatable).
    #[arg(long, value_name = "K=V")]
    pub options: Vec<String>,
    /// Mark the mount local (not replicated).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub local: bool,
    /// The method type (e.g. userpass, approle).
    pub method_type: String,
}

/// The body of `POST sys/auth/<path>` and the path.
pub fn enable_body(args: &AuthEnableArgs) -> Result<(String, Value)> {
    let method = args.method_type.trim().to_owned();
    let path = sanitize_path(args.path.as_deref().unwrap_or(&method));
    let mut config = Map::new();
    for (key, value) in [
        ("default_lease_ttl", &args.default_lease_ttl),
        ("max_lease_ttl", &args.max_lease_ttl),
        ("listing_visibility", &args.listing_visibility),
    ] {
        if let Some(v) = value {
            config.insert(key.into(), Value::from(v.as_str()));
        }
    }
    let mut body = Map::new();
    body.insert("type".into(), Value::from(method));
    body.insert(
        "description".into(),
        Value::from(args.description.clone().unwrap_or_default()),
    );
    body.insert("config".into(), Value::Object(config));
    body.insert("local".into(), Value::Bool(args.local));
    let options = parse_string_pairs(&args.options, "options")?;
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Ok((path, Value::Object(body)))
}

/// Runs an auth subcommand.
pub async fn run(ctx: &Ctx, args: AuthArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        AuthCommand::Enable(a) => {
            let (path, body) = enable_body(&a)?;
            client
                .write(&format!("sys/auth/{path}"), &body)
                .await
                .context("Error enabling auth method")?;
            ctx.out.success(&format!(
                "Success! Enabled {} auth method at: {}",
                a.method_type.trim(),
                ensure_trailing_slash(&path)
            ));
            Ok(())
        }
        AuthCommand::Disable(a) => {
            let path = sanitize_path(&a.path);
            client
                .delete(&format!("sys/auth/{path}"))
                .await
                .with_context(|| format!("Error disabling auth method at {path}"))?;
            ctx.out.success(&format!(
                "Success! Disabled the auth method (if it existed) at: {}",
                ensure_trailing_slash(&path)
            ));
            Ok(())
        }
        AuthCommand::List => list(ctx, &client, "sys/auth", "enabled auth methods").await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::args::{Cli, Command};

    #[test]
    fn enable_defaults_path_to_type() {
        let cli = Cli::try_parse_from([
            "coffer",
            "auth",
            "enable",
            "--default-lease-ttl=1h",
            "userpass",
        ])
        .unwrap();
        let Command::Auth(AuthArgs {
            command: AuthCommand::Enable(a),
        }) = cli.command
        else {
            panic!("not auth enable")
        };
        let (path, body) = enable_body(&a).unwrap();
        assert_eq!(path, "userpass");
        assert_eq!(body["type"], "userpass");
        assert_eq!(body["config"], json!({"default_lease_ttl": "1h"}));
        assert_eq!(body["local"], false);
    }
}
