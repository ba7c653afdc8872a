//! `coffer token create|lookup|renew|revoke|capabilities`.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use coffer_client::Client;

use crate::context::Ctx;
use crate::kv_data::parse_string_pairs;
use crate::output::{Format, line, to_json};

/// `coffer token` arguments.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The token subcommand.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a new token.
    Create(CreateArgs),
    /// Display information about a token (the current one by default).
    Lookup(TargetArgs),
    /// Renew a token's lease (the current one by default).
    Renew(RenewArgs),
    /// Revoke a token and its children.
    Revoke(RevokeArgs),
    /// Print a token's capabilities on a path.
    Capabilities(CapabilitiesArgs),
}

/// `token create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Explicit token id (root only).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Display name.
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// Initial TTL.
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Hard upper bound on the token's lifetime.
    #[arg(long, value_name = "DURATION")]
    pub explicit_max_ttl: Option<String>,
    /// Periodic token: renewable indefinitely, by this period.
    #[arg(long, value_name = "DURATION")]
    pub period: Option<String>,
    /// Whether the token can be renewed.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "true", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub renewable: bool,
    /// Create the token without a parent (uses auth/token/create-orphan).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub orphan: bool,
    /// Do not attach the "default" policy.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_default_policy: bool,
    /// Number of uses (0 = unlimited).
    #[arg(long, value_name = "N")]
    pub use_limit: Option<u64>,
    /// Token role (uses auth/token/create/ROLE).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Token type: "service" or "batch".
    #[arg(long = "type", value_name = "TYPE")]
    pub token_type: Option<String>,
    /// Policy to attach (repeatable or comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub policy: Vec<String>,
    /// Metadata key=value (repeatable).
    #[arg(long, value_name = "K=V")]
    pub metadata: Vec<String>,
    /// Entity alias to associate with the token.
    #[arg(long, value_name = "ALIAS")]
    pub entity_alias: Option<String>,
}

/// Which token a command acts on.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Treat the argument as an accessor instead of a token.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub accessor: bool,
    /// The token or accessor; the current token when absent.
    pub token: Option<String>,
}

/// `token renew` arguments.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Which token.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requested extension of the TTL.
    #[arg(long, short = 'i', value_name = "DURATION")]
    pub increment: Option<String>,
}

/// `token revoke` arguments.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Which token.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Revoke the current token.
    #[arg(long = "self", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub revoke_self: bool,
    /// "orphan" revokes only the token, leaving its children orphaned.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
}

/// `token capabilities` arguments.
#[derive(Debug, Args)]
pub struct CapabilitiesArgs {
    /// Treat the token argument as an accessor.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub accessor: bool,
    /// `[TOKEN] PATH`: with one argument, the current token's capabilities on PATH.
    #[arg(required = true, num_args = 1..=2, value_name = "TOKEN|PATH")]
    pub args: Vec<String>,
}

/// The create endpoint and body, like Vault's `TokenCreateRequest`.
pub fn create_request(args: &CreateArgs) -> Result<(String, Value)> {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    if let Some(v) = &args.id {
        put("id", json!(v));
    }
    if !args.policy.is_empty() {
        put("policies", json!(args.policy));
    }
    if !args.metadata.is_empty() {
        put(
            "meta",
            Value::Object(parse_string_pairs(&args.metadata, "metadata")?),
        );
    }
    put("no_parent", json!(args.orphan));
    put("no_default_policy", json!(args.no_default_policy));
    if let Some(v) = &args.display_name {
        put("display_name", json!(v));
    }
    if let Some(v) = args.use_limit {
        put("num_uses", json!(v));
    }
    put("renewable", json!(args.renewable));
    for (k, v) in [
        ("ttl", &args.ttl),
        ("explicit_max_ttl", &args.explicit_max_ttl),
        ("period", &args.period),
    ] {
        if let Some(v) = v {
            put(k, json!(v));
        }
    }
    if let Some(v) = &args.token_type {
        put("type", json!(v));
    }
    if let Some(v) = &args.entity_alias {
        put("entity_alias", json!(v));
    }
    let path = match (&args.role, args.orphan) {
        (Some(role), _) => format!("auth/token/create/{role}"),
        (None, true) => "auth/token/create-orphan".to_owned(),
        (None, false) => "auth/token/create".to_owned(),
    };
    Ok((path, Value::Object(body)))
}

/// Runs a token subcommand.
pub async fn run(ctx: &Ctx, args: TokenArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        TokenCommand::Create(a) => {
            let (path, body) = create_request(&a)?;
            let secret = client
                .write(&path, &body)
                .await
                .context("Error creating token")?;
            print_optional(ctx, secret)
        }
        TokenCommand::Lookup(a) => {
            let secret = match (&a.token, a.accessor) {
                (None, false) => client.read("auth/token/lookup-self").await,
                (Some(t), false) => {
                    client
                        .write("auth/token/lookup", &json!({ "token": t }))
                        .await
                }
                (Some(t), true) => {
                    client
                        .write("auth/token/lookup-accessor", &json!({ "accessor": t }))
                        .await
                }
                (None, true) => bail!("Must specify an accessor with -accessor"),
            }
            .context("Error looking up token")?;
            print_optional(ctx, secret)
        }
        TokenCommand::Renew(a) => {
            let mut body = Map::new();
            if let Some(i) = &a.increment {
                body.insert("increment".into(), json!(i));
            }
            let path = match (&a.target.token, a.target.accessor) {
                (None, false) => "auth/token/renew-self",
                (Some(t), false) => {
                    body.insert("token".into(), json!(t));
                    "auth/token/renew"
                }
                (Some(t), true) => {
                    body.insert("accessor".into(), json!(t));
                    "auth/token/renew-accessor"
                }
                (None, true) => bail!("Must specify an accessor with -accessor"),
            };
            let secret = client
                .write(path, &Value::Object(body))
                .await
                .context("Error renewing token")?;
            print_optional(ctx, secret)
        }
        TokenCommand::Revoke(a) => revoke(ctx, &client, a).await,
        TokenCommand::Capabilities(a) => capabilities(ctx, &client, a).await,
    }
}

fn print_optional(ctx: &Ctx, secret: Option<coffer_client::Secret>) -> Result<()> {
    match secret {
        Some(s) => ctx.out.secret(&s),
        None => Ok(()),
    }
}

async fn revoke(ctx: &Ctx, client: &Client, a: RevokeArgs) -> Result<()> {
    let orphan = match a.mode.as_deref() {
        None | Some("") => false,
        Some("orphan") => true,
        Some(other) => bail!("Invalid mode: {other}"),
    };
    let (path, body) = match (a.revoke_self, &a.target.token, a.target.accessor) {
        (true, Some(_), _) => bail!("Cannot specify both -self and a token"),
        (true, None, _) => ("auth/token/revoke-self", json!({})),
        (false, None, _) => bail!("Not enough arguments (expected 1, got 0)"),
        (false, Some(t), true) => ("auth/token/revoke-accessor", json!({ "accessor": t })),
        (false, Some(t), false) if orphan => ("auth/token/revoke-orphan", json!({ "token": t })),
        (false, Some(t), false) => ("auth/token/revoke", json!({ "token": t })),
    };
    client
        .write(path, &body)
        .await
        .context("Error revoking token")?;
    ctx.out.success("Success! Revoked token (if it existed)");
    Ok(())
}

/// Extracts the capabilities for `path` from a capabilities answer, sorted.
pub fn capabilities_of(data: &Map<String, Value>, path: &str) -> Vec<String> {
    let list = data
        .get(path)
        .or_else(|| data.get("capabilities"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut caps: Vec<String> = list
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    caps.sort();
    caps
}

async fn capabilities(ctx: &Ctx, client: &Client, a: CapabilitiesArgs) -> Result<()> {
    let (path, endpoint, body) = match a.args.as_slice() {
        [path] => (
            path.clone(),
            "sys/capabilities-self",
            json!({ "paths": [path] }),
        ),
        [token, path] if a.accessor => (
            path.clone(),
            "sys/capabilities-accessor",
            json!({ "accessor": token, "paths": [path] }),
        ),
        [token, path] => (
            path.clone(),
            "sys/capabilities",
            json!({ "token": token, "paths": [path] }),
        ),
        _ => bail!("Too many arguments (expected 1-2, got {})", a.args.len()),
    };
    let secret = client
        .write(endpoint, &body)
        .await
        .context("Error listing capabilities")?
        .unwrap_or_default();
    let caps = capabilities_of(&secret.data_or_empty(), &path);
    match ctx.out.format {
        Format::Table => line(&caps.join(", ")),
        Format::Json => line(&to_json(&caps)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn create(args: &[&str]) -> CreateArgs {
        let mut argv = vec!["coffer", "token", "create"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Token(TokenArgs {
                command: TokenCommand::Create(a),
            }) => a,
            _ => panic!("not token create"),
        }
    }

    #[test]
    fn create_body_follows_vaults_token_create_request() {
        let (path, body) = create_request(&create(&[
            "--policy=a",
            "--policy",
            "b,c",
            "--ttl=1h",
            "--renewable=false",
            "--use-limit=3",
            "--display-name=ci",
            "--metadata=team=x",
            "--period=24h",
            "--explicit-max-ttl=48h",
        ]))
        .unwrap();
        assert_eq!(path, "auth/token/create");
        assert_eq!(body["policies"], json!(["a", "b", "c"]));
        assert_eq!(body["ttl"], "1h");
        assert_eq!(body["renewable"], false);
        assert_eq!(body["num_uses"], 3);
        assert_eq!(body["display_name"], "ci");
        assert_eq!(body["meta"], json!({"team": "x"}));
        assert_eq!(body["period"], "24h");
        assert_eq!(body["explicit_max_ttl"], "48h");
        assert_eq!(body["no_parent"], false);
    }

    #[test]
    fn orphan_and_role_choose_the_endpoint() {
        let (path, body) = create_request(&create(&["--orphan"])).unwrap();
        assert_eq!(path, "auth/token/create-orphan");
        assert_eq!(body["no_parent"], true);
        assert_eq!(body["renewable"], true);
        let (path, _) = create_request(&create(&["--role=ci"])).unwrap();
        assert_eq!(path, "auth/token/create/ci");
    }

    #[test]
    fn capabilities_are_sorted() {
        let data = json!({"capabilities": ["update", "read"], "secret/x": ["update", "read"]});
        assert_eq!(
            capabilities_of(data.as_object().unwrap(), "secret/x"),
            ["read", "update"]
        );
        let only = json!({"capabilities": ["deny"]});
        assert_eq!(capabilities_of(only.as_object().unwrap(), "p"), ["deny"]);
    }
}
