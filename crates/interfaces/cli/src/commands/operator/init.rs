//! `operator init`.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{Value, json};

use coffer_client::{Client, InitRequest, InitResponse};

use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::value::wrap_with_padding;
use crate::output::{Format, line, to_json};

/// `operator init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Number of key shares to split the root key into.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub key_shares: u64,
    /// Number of key shares required to reconstruct the root key.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub key_threshold: u64,
    /// Comma-separated base64 PGP public keys, one per share.
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub pgp_keys: Vec<String>,
    /// Base64 PGP public key to encrypt the root token with.
    #[arg(long, value_name = "KEY")]
    pub root_token_pgp_key: Option<String>,
    /// Only report whether the server is initialized (exit 0 yes, 2 no).
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub status: bool,
}

/// Runs `operator init`.
pub async fn run(ctx: &Ctx, client: &Client, args: InitArgs) -> Result<()> {
    if args.status {
        let initialized = client
            .sys()
            .init_status()
            .await
            .context("Error checking init status")?;
        if initialized {
            line("Vault is initialized");
            return Ok(());
        }
        return Err(Exit::with_message(2, "Vault is not initialized").into());
    }
    let request = InitRequest {
        secret_shares: args.key_shares,
        secret_threshold: args.key_threshold,
        pgp_keys: (!args.pgp_keys.is_empty()).then(|| args.pgp_keys.clone()),
        root_token_pgp_key: args.root_token_pgp_key.clone(),
        ..InitRequest::default()
    };
    let response = client
        .sys()
        .init(&request)
        .await
        .context("Error initializing")?;
    match ctx.out.format {
        Format::Json => line(&to_json(&machine_output(&request, &response))?),
        Format::Table => line(&render(&request, &response)),
    }
    Ok(())
}

fn exposed(keys: &[coffer_types::Sensitive]) -> Vec<&str> {
    keys.iter().map(|k| k.expose()).collect()
}

/// Vault's JSON output of `operator init`.
pub fn machine_output(request: &InitRequest, response: &InitResponse) -> Value {
    json!({
        "unseal_keys_b64": exposed(&response.keys_base64),
        "unseal_keys_hex": exposed(&response.keys),
        "unseal_shares": request.secret_shares,
        "unseal_threshold": request.secret_threshold,
        "recovery_keys_b64": exposed(&response.recovery_keys_base64),
        "recovery_keys_hex": exposed(&response.recovery_keys),
        "recovery_keys_shares": request.recovery_shares.unwrap_or(0),
        "recovery_keys_threshold": request.recovery_threshold.unwrap_or(0),
        "root_token": response.root_token.expose(),
    })
}

/// Vault's table output of `operator init`.
pub fn render(request: &InitRequest, response: &InitResponse) -> String {
    let keys = if response.keys_base64.len() == response.keys.len() {
        &response.keys_base64
    } else {
        &response.keys
    };
    let mut out: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("Unseal Key {}: {}", i + 1, k.expose()))
        .collect();
    out.push(String::new());
    out.push(format!(
        "Initial Root Token: {}",
        response.root_token.expose()
    ));
    let (n, t) = (request.secret_shares, request.secret_threshold);
    out.push(String::new());
    out.push(wrap_with_padding(
        &format!(
            "Vault initialized with {n} key shares and a key threshold of {t}. Please \
             securely distribute the key shares printed above. When the Vault is \
             re-sealed, restarted, or stopped, you must supply at least {t} of these \
             keys to unseal it before it can start servicing requests."
        ),
        0,
    ));
    out.push(String::new());
    out.push(wrap_with_padding(
        &format!(
            "Vault does not store the generated root key. Without at least {t} keys \
             to reconstruct the root key, Vault will remain permanently sealed!"
        ),
        0,
    ));
    out.push(String::new());
    out.push(wrap_with_padding(
        "It is possible to generate new unseal keys, provided you have a quorum of \
         existing unseal keys shares. See \"coffer operator rekey\" for more information.",
        0,
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> InitResponse {
        serde_json::from_value(
            json!({"keys": ["aa", "bb"], "keys_base64": ["qg==", "uw=="],
            "root_token": "hvs.root"}),
        )
        .unwrap()
    }

    #[test]
    fn table_lists_base64_keys_and_root_token() {
        let req = InitRequest {
            secret_shares: 2,
            secret_threshold: 2,
            ..InitRequest::default()
        };
        let out = render(&req, &response());
        assert!(out.starts_with(
            "Unseal Key 1: qg==\nUnseal Key 2: uw==\n\nInitial Root Token: hvs.root\n\n"
        ));
        assert!(out.contains("initialized with 2 key shares and a key threshold of 2."));
    }

    #[test]
    fn json_has_vaults_field_names() {
        let req = InitRequest {
            secret_shares: 2,
            secret_threshold: 2,
            ..InitRequest::default()
        };
        let v = machine_output(&req, &response());
        assert_eq!(v["unseal_keys_b64"], json!(["qg==", "uw=="]));
        assert_eq!(v["unseal_keys_hex"], json!(["aa", "bb"]));
        assert_eq!(v["unseal_threshold"], 2);
        assert_eq!(v["root_token"], "hvs.root");
        assert_eq!(v["recovery_keys_b64"], json!([]));
    }
}
