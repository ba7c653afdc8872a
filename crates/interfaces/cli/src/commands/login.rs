//! `coffer login`: token method only. The token is verified with
//! `auth/token/lookup-self`, then stored in `~/.vault-token` (mode 0600).

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

use coffer_client::{Secret, SecretAuth};
use coffer_types::Sensitive;

use crate::context::Ctx;
use crate::input::secret_arg;
use crate::output::{line, raw};
use crate::token_helper;

/// `coffer login` arguments.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Auth method; only "token" is supported.
    #[arg(long, default_value = "token", value_name = "METHOD")]
    pub method: String,
    /// Do not store the token in ~/.vault-token.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_store: bool,
    /// Print only the token (implies -no-store).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub token_only: bool,
    /// The token, or "-" to read it as one line from stdin (the default).
    pub token: Option<String>,
}

/// Builds Vault's login `auth` block from a `lookup-self` answer.
pub fn auth_from_lookup(token: &Sensitive, lookup: &Secret) -> Secret {
    let data = lookup.data_or_empty();
    let strings = |key: &str| -> Vec<String> {
        data.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let policies = strings("policies");
    let identity = strings("identity_policies");
    let mut all = policies.clone();
    all.extend(identity.iter().cloned());
    let auth = SecretAuth {
        client_token: token.clone(),
        accessor: data
            .get("accessor")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        policies: all,
        token_policies: policies,
        identity_policies: identity,
        metadata: data.get("meta").and_then(Value::as_object).cloned(),
        orphan: data.get("orphan").and_then(Value::as_bool).unwrap_or(false),
        entity_id: data
            .get("entity_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        lease_duration: data.get("ttl").and_then(Value::as_i64).unwrap_or(0),
        renewable: data
            .get("renewable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        mfa_requirement: None,
    };
    Secret {
        request_id: lookup.request_id.clone(),
        auth: Some(auth),
        ..Secret::default()
    }
}

/// Runs `coffer login`.
pub async fn run(ctx: &Ctx, args: LoginArgs) -> Result<()> {
    if args.method != "token" {
        bail!(
            "Unknown auth method: {}. Only the \"token\" method is supported.",
            args.method
        );
    }
    let token = secret_arg(args.token.as_deref(), "token")?;
    let client = ctx.client()?.with_token(token.clone());
    let lookup = client
        .read("auth/token/lookup-self")
        .await
        .context("Error authenticating")?
        .ok_or_else(|| anyhow::anyhow!("Error authenticating: no response from lookup-self"))?;
    let secret = auth_from_lookup(&token, &lookup);

    if args.token_only {
        raw(token.expose());
        return Ok(());
    }
    if args.no_store {
        if ctx.out.is_table() && ctx.out.field.is_none() {
            line(
                "Success! You are now authenticated. The token information displayed below\n\
                 is NOT stored in the token helper. Set VAULT_TOKEN or pass it to\n\
                 \"coffer login\" again to use it.\n",
            );
        }
        return ctx.out.secret(&secret);
    }
    let path = token_helper::default_path()
        .ok_or_else(|| anyhow::anyhow!("Error storing token: HOME is not set"))?;
    token_helper::store(&path, &token).context("Error storing token")?;
    if ctx.out.is_table() && ctx.out.field.is_none() {
        line(
            "Success! You are now authenticated. The token information displayed below\n\
             is already stored in the token helper. You do NOT need to run \"coffer login\"\n\
             again. Future requests will automatically use this token.\n",
        );
    }
    ctx.out.secret(&secret)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lookup_becomes_an_auth_block() {
        let lookup: Secret = serde_json::from_value(json!({"request_id": "r", "data": {
            "accessor": "acc", "policies": ["root"], "ttl": 0, "renewable": false,
            "meta": null, "entity_id": ""}}))
        .unwrap();
        let s = auth_from_lookup(&Sensitive::new("hvs.t"), &lookup);
        let auth = s.auth.unwrap();
        assert_eq!(auth.client_token.expose(), "hvs.t");
        assert_eq!(auth.accessor, "acc");
        assert_eq!(auth.policies, ["root"]);
        assert_eq!(auth.token_policies, ["root"]);
        assert_eq!(auth.lease_duration, 0);
        assert!(auth.metadata.is_none());
    }
}
