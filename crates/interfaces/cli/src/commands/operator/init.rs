//! `operator init`, and reading PGP public key files as Vault's CLI does
//! ([`read_pgp_key`], also used by `operator rekey` and `generate-root`).

use anyhow::{Context, Result, bail};
use base64::Engine as _;
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
    /// Comma-separated PGP public key files (binary, base64 or ASCII
    /// armor), one per share: each share is encrypted to its key.
    #[arg(long, value_delimiter = ',', value_name = "FILES")]
    pub pgp_keys: Vec<String>,
    /// PGP public key file to encrypt the root token with.
    #[arg(long, value_name = "FILE")]
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
    let pgp_keys = read_pgp_keys("pgp-keys", &args.pgp_keys)?;
    let root_token_pgp_key = args
        .root_token_pgp_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| read_pgp_key("root-token-pgp-key", k))
        .transpose()?;
    let request = InitRequest {
        secret_shares: args.key_shares,
        secret_threshold: args.key_threshold,
        pgp_keys: (!pgp_keys.is_empty()).then_some(pgp_keys),
        root_token_pgp_key,
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

/// Reads the PGP public key a flag names, as Vault's CLI does: a file
/// (a leading `@` is dropped) holding an ASCII-armored key (sent as the
/// base64 of its binary form), base64 (sent as it is) or the binary key
/// (sent base64-encoded). A value naming no file that is itself the base64
/// of an OpenPGP packet is taken as the key (Coffer's earlier form of these
/// flags). `keybase:` users are not supported.
pub fn read_pgp_key(flag: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let b64 = &base64::engine::general_purpose::STANDARD;
    if value.starts_with("keybase:") {
        bail!(
            "invalid value {value:?} for flag -{flag}: keybase users are not supported; \
             export the key (gpg --export KEY > key.gpg) and give the file"
        );
    }
    let path = value.strip_prefix('@').unwrap_or(value);
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && b64
                    .decode(value)
                    .is_ok_and(|d| d.first().is_some_and(|b| b & 0x80 != 0)) =>
        {
            return Ok(value.to_owned());
        }
        Err(e) => bail!("invalid value {value:?} for flag -{flag}: open {path}: {e}"),
    };
    if let Ok(text) = std::str::from_utf8(&bytes) {
        if coffer_crypto::openpgp::is_armored(text) {
            let binary = coffer_crypto::openpgp::dearmor(text)
                .map_err(|e| anyhow::anyhow!("invalid value {value:?} for flag -{flag}: {e}"))?;
            return Ok(b64.encode(binary));
        }
        // Go's decoder, which Vault's CLI uses, skips line breaks.
        let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        let compact = compact.trim();
        if !compact.is_empty() && b64.decode(compact).is_ok() {
            return Ok(compact.to_owned());
        }
    }
    Ok(b64.encode(bytes))
}

/// [`read_pgp_key`] for each value of a comma-separated flag.
pub fn read_pgp_keys(flag: &str, values: &[String]) -> Result<Vec<String>> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| read_pgp_key(flag, v))
        .collect()
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
    fn pgp_key_files_are_read_as_vaults_cli_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let b64 = &base64::engine::general_purpose::STANDARD;
        // A public-key packet header and a few bytes: enough for the CLI,
        // which only encodes (the server parses).
        let binary = vec![0x99u8, 0x00, 0x03, 4, 0, 0];
        let armored = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}\n-----END PGP PUBLIC KEY BLOCK-----\n",
            b64.encode(&binary)
        );
        let write = |name: &str, contents: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, contents).unwrap();
            p.to_str().unwrap().to_owned()
        };
        let bin = write("key.gpg", &binary);
        let asc = write("key.asc", armored.as_bytes());
        let txt = write("key.b64", format!("{}\n", b64.encode(&binary)).as_bytes());
        let expected = b64.encode(&binary);
        assert_eq!(read_pgp_key("pgp-keys", &bin).unwrap(), expected);
        assert_eq!(read_pgp_key("pgp-keys", &asc).unwrap(), expected);
        assert_eq!(read_pgp_key("pgp-keys", &txt).unwrap(), expected);
        assert_eq!(
            read_pgp_key("pgp-keys", &format!("@{bin}")).unwrap(),
            expected
        );
        // The key itself instead of a file name.
        assert_eq!(read_pgp_key("pgp-keys", &expected).unwrap(), expected);
        let missing = read_pgp_key("pgp-keys", "/nonexistent/key.asc").unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("invalid value \"/nonexistent/key.asc\" for flag -pgp-keys: open"),
            "{missing}"
        );
        assert!(read_pgp_key("pgp-key", "keybase:someone").is_err());
        assert_eq!(
            read_pgp_keys("pgp-keys", &[bin, asc]).unwrap(),
            [expected.clone(), expected]
        );
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
