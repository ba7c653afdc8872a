//! `operator generate-root`: create a new root token from a quorum of shares,
//! and decode the encoded token with the one-time password.

use anyhow::{Context, Result, bail};
use base64::Engine;
use clap::Args;
use serde_json::Value;

use coffer_client::Client;

use super::{flag, num, text};
use crate::context::Ctx;
use crate::input::secret_arg;
use crate::output::table::columns;
use crate::output::value::wrap_with_padding;
use crate::output::{Format, error_line, line, raw, to_json};

/// `operator generate-root` arguments.
#[derive(Debug, Args)]
pub struct GenerateRootArgs {
    /// Start a root token generation (the server creates the one-time password).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub init: bool,
    /// Cancel the generation in progress.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub cancel: bool,
    /// Print the status of the generation in progress.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub status: bool,
    /// Decode this encoded root token with -otp and print it.
    #[arg(long, value_name = "ENCODED")]
    pub decode: Option<String>,
    /// The one-time password (for -decode, or to supply one at -init).
    #[arg(long, value_name = "OTP")]
    pub otp: Option<String>,
    /// Base64 PGP public key to encrypt the new token with (with -init).
    #[arg(long, value_name = "KEY")]
    pub pgp_key: Option<String>,
    /// Nonce of the generation in progress (looked up when not given).
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
    /// A key share; read as one line from stdin when absent or "-".
    pub key: Option<String>,
}

/// Runs `operator generate-root`.
pub async fn run(ctx: &Ctx, client: &Client, args: GenerateRootArgs) -> Result<()> {
    if let Some(encoded) = &args.decode {
        let Some(otp) = args.otp.as_deref().filter(|o| !o.is_empty()) else {
            bail!("Must specify -otp with -decode");
        };
        raw(&decode_token(encoded, otp)?);
        return Ok(());
    }
    let sys = client.sys();
    if args.init {
        let status = sys
            .generate_root_init(args.otp.as_deref(), args.pgp_key.as_deref())
            .await
            .context("Error initializing root generation")?;
        return print_status(ctx, &status);
    }
    if args.cancel {
        // The server wants the attempt's nonce: -nonce, or the one the
        // status shows.
        let nonce = match &args.nonce {
            Some(n) => n.clone(),
            None => text(
                &sys.generate_root_status()
                    .await
                    .context("Error reading root generation status")?,
                "nonce",
            ),
        };
        if nonce.is_empty() {
            ctx.out
                .success("Success! Root token generation canceled (if it was started)");
            return Ok(());
        }
        sys.generate_root_cancel(&nonce)
            .await
            .context("Error canceling root token generation")?;
        ctx.out
            .success("Success! Root token generation canceled (if it was started)");
        return Ok(());
    }
    let status = sys
        .generate_root_status()
        .await
        .context("Error getting root generation status")?;
    if args.status {
        return print_status(ctx, &status);
    }
    let nonce = match &args.nonce {
        Some(n) => n.clone(),
        None if flag(&status, "started") => text(&status, "nonce"),
        None => bail!(
            "No root generation is in progress. Start a root generation by running \"coffer operator generate-root -init\"."
        ),
    };
    let key = secret_arg(args.key.as_deref(), "unseal key")?;
    let answer = sys
        .generate_root_update(&key, &nonce)
        .await
        .context("Error posting unseal key")?;
    print_status(ctx, &answer)
}

/// Vault's generate-root status table (no header row).
pub fn render_status(status: &Value) -> String {
    let mut rows = vec![
        vec!["Nonce".to_owned(), text(status, "nonce")],
        vec!["Started".to_owned(), flag(status, "started").to_string()],
        vec![
            "Progress".to_owned(),
            format!("{}/{}", num(status, "progress"), num(status, "required")),
        ],
        vec!["Complete".to_owned(), flag(status, "complete").to_string()],
    ];
    let fingerprint = text(status, "pgp_fingerprint");
    if !fingerprint.is_empty() {
        rows.push(vec!["PGP Fingerprint".into(), fingerprint]);
    }
    let token = text(status, "encoded_token");
    let root_token = text(status, "encoded_root_token");
    if !token.is_empty() {
        rows.push(vec!["Encoded Token".into(), token]);
    } else if !root_token.is_empty() {
        rows.push(vec!["Encoded Root Token".into(), root_token]);
    }
    let otp = text(status, "otp");
    if !otp.is_empty() {
        rows.push(vec!["OTP".into(), otp]);
    }
    let otp_length = num(status, "otp_length");
    if otp_length != 0 {
        rows.push(vec!["OTP Length".into(), otp_length.to_string()]);
    }
    columns(&rows)
}

fn print_status(ctx: &Ctx, status: &Value) -> Result<()> {
    if ctx.out.format == Format::Json {
        line(&to_json(status)?);
        return Ok(());
    }
    if !text(status, "otp").is_empty() {
        error_line(&wrap_with_padding(
            "A One-Time-Password has been generated for you and is shown in the OTP \
             field. You will need this value to decode the resulting root token, so \
             keep it safe.",
            0,
        ));
    }
    line(&render_status(status));
    Ok(())
}

/// Decodes an encoded root token: base64 (unpadded) XOR the one-time password.
pub fn decode_token(encoded: &str, otp: &str) -> Result<String> {
    let trimmed = encoded.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .context("Error decoding base64'd token")?;
    if bytes.len() != otp.len() {
        bail!(
            "Error decoding the token: length of the encoded token ({}) does not match the OTP ({})",
            bytes.len(),
            otp.len()
        );
    }
    let decoded: Vec<u8> = bytes
        .iter()
        .zip(otp.as_bytes())
        .map(|(a, b)| a ^ b)
        .collect();
    String::from_utf8(decoded).context("Error decoding the token: not valid UTF-8")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decoding_reverses_the_xor_encoding() {
        let token = "hvs.ABCDEFGHIJKLMNOPQRSTUVWX";
        let otp = "0123456789abcdefghijklmnopqr";
        assert_eq!(token.len(), otp.len());
        let xored: Vec<u8> = token.bytes().zip(otp.bytes()).map(|(a, b)| a ^ b).collect();
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&xored);
        assert_eq!(decode_token(&encoded, otp).unwrap(), token);
        let padded = base64::engine::general_purpose::STANDARD.encode(&xored);
        assert_eq!(decode_token(&padded, otp).unwrap(), token);
        assert!(decode_token(&encoded, "short").is_err());
        assert!(decode_token("***", otp).is_err());
    }

    #[test]
    fn status_rows() {
        let out = render_status(&json!({"nonce": "n", "started": true, "progress": 0,
            "required": 3, "complete": false, "otp": "abc", "otp_length": 28}));
        assert_eq!(
            out,
            "Nonce         n\nStarted       true\nProgress      0/3\nComplete      false\nOTP           abc\nOTP Length    28"
        );
    }
}
