//! `operator rekey`: start, inspect, cancel or advance a rekey of the unseal
//! keys, and fetch or delete the PGP-encrypted backup of the new shares
//! (`-backup-retrieve`, `-backup-delete`).

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};

use coffer_client::Client;
use coffer_client::sys::RekeyTarget;

use super::{flag, num, text};
use crate::context::Ctx;
use crate::input::secret_arg;
use crate::output::table::table;
use crate::output::value::{go_value, wrap_with_padding};
use crate::output::{Format, line, to_json};

/// `operator rekey` arguments.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Start a rekey.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub init: bool,
    /// Cancel the rekey in progress.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub cancel: bool,
    /// Print the status of the rekey in progress.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub status: bool,
    /// Number of new key shares (with -init).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub key_shares: u64,
    /// Number of new shares needed to unseal (with -init).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub key_threshold: u64,
    /// Nonce of the rekey in progress (looked up when not given).
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
    /// Comma-separated PGP public key files (binary, base64 or ASCII armor),
    /// one per new share (with -init).
    #[arg(long, value_delimiter = ',', value_name = "FILES")]
    pub pgp_keys: Vec<String>,
    /// Store PGP-encrypted shares in the backend (with -init and -pgp-keys).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub backup: bool,
    /// Print the PGP-encrypted shares a rekey with -backup stored.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub backup_retrieve: bool,
    /// Delete the PGP-encrypted shares a rekey with -backup stored.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub backup_delete: bool,
    /// Require the new shares to be verified before they take effect.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub verify: bool,
    /// "barrier" (unseal keys) or "recovery" (recovery keys).
    #[arg(long, default_value = "barrier", value_name = "TARGET")]
    pub target: String,
    /// An existing key share; read as one line from stdin when absent or "-".
    pub key: Option<String>,
}

/// Runs `operator rekey`.
pub async fn run(ctx: &Ctx, client: &Client, args: RekeyArgs) -> Result<()> {
    let target = match args.target.as_str() {
        "barrier" => RekeyTarget::Barrier,
        "recovery" | "hsm" => RekeyTarget::Recovery,
        other => bail!("Unknown target: {other}"),
    };
    let sys = client.sys();
    if args.backup_delete {
        return backup_delete(ctx, client, target).await;
    }
    if args.backup_retrieve {
        return backup_retrieve(ctx, client, target).await;
    }
    if args.init {
        let mut body = json!({
            "secret_shares": args.key_shares,
            "secret_threshold": args.key_threshold,
            "backup": args.backup,
            "require_verification": args.verify,
        });
        let pgp_keys = super::init::read_pgp_keys("pgp-keys", &args.pgp_keys)?;
        if !pgp_keys.is_empty() {
            body["pgp_keys"] = json!(pgp_keys);
        }
        let status = sys
            .rekey_init(target, &body)
            .await
            .context("Error initializing rekey")?;
        return print_status(ctx, &status);
    }
    if args.cancel {
        // The server wants the operation's nonce: -nonce, or the one the
        // status shows.
        let nonce = match &args.nonce {
            Some(n) => n.clone(),
            None => text(
                &sys.rekey_status(target)
                    .await
                    .context("Error reading rekey status")?,
                "nonce",
            ),
        };
        if nonce.is_empty() {
            ctx.out
                .success("Success! Canceled rekeying (if it was started)");
            return Ok(());
        }
        sys.rekey_cancel(target, &nonce)
            .await
            .context("Error canceling rekey")?;
        ctx.out
            .success("Success! Canceled rekeying (if it was started)");
        return Ok(());
    }
    let status = sys
        .rekey_status(target)
        .await
        .context("Error reading rekey status")?;
    if args.status {
        return print_status(ctx, &status);
    }
    let nonce = match &args.nonce {
        Some(n) => n.clone(),
        None if flag(&status, "started") => text(&status, "nonce"),
        None => bail!(
            "No rekey is in progress. Start a rekey process by running \"coffer operator rekey -init\"."
        ),
    };
    let key = secret_arg(args.key.as_deref(), "unseal key")?;
    let answer = if args.verify {
        sys.rekey_verify(target, &key, &nonce).await
    } else {
        sys.rekey_update(target, &key, &nonce).await
    }
    .context("Error posting unseal key")?;
    if !flag(&answer, "complete") {
        return print_status(ctx, &answer);
    }
    match ctx.out.format {
        Format::Json => line(&to_json(&answer)?),
        Format::Table => line(&render_keys(&status, &answer)),
    }
    Ok(())
}

/// The backup's path for the rekey target.
fn backup_path(target: RekeyTarget) -> &'static str {
    if target == RekeyTarget::Recovery {
        "sys/rekey/recovery-key-backup"
    } else {
        "sys/rekey/backup"
    }
}

/// `-backup-retrieve`: the stored backup as Vault prints it (its fields
/// named as the Go struct's, `Keys`, `KeysB64`, `Nonce`).
async fn backup_retrieve(ctx: &Ctx, client: &Client, target: RekeyTarget) -> Result<()> {
    let stored = client
        .read(backup_path(target))
        .await
        .context("Error retrieving rekey stored keys")?
        .and_then(|s| s.data)
        .unwrap_or_default();
    let field = |k: &str| stored.get(k).cloned().unwrap_or(Value::Null);
    let mut data = serde_json::Map::new();
    data.insert("Keys".into(), field("keys"));
    data.insert("KeysB64".into(), field("keys_base64"));
    data.insert("Nonce".into(), field("nonce"));
    let secret = coffer_client::Secret {
        data: Some(data),
        ..Default::default()
    };
    ctx.out.secret(&secret)
}

/// `-backup-delete`.
async fn backup_delete(ctx: &Ctx, client: &Client, target: RekeyTarget) -> Result<()> {
    client
        .delete(backup_path(target))
        .await
        .context("Error deleting rekey stored keys")?;
    ctx.out
        .success("Success! Delete stored keys (if they existed)");
    Ok(())
}

/// Vault's rekey status table.
pub fn render_status(status: &Value) -> String {
    let mut rows = vec![
        vec!["Nonce".to_owned(), text(status, "nonce")],
        vec!["Started".to_owned(), flag(status, "started").to_string()],
    ];
    if flag(status, "started") {
        let (progress, required) = (num(status, "progress"), num(status, "required"));
        let mut p = format!("{progress}/{required}");
        if progress == required && required > 0 {
            p.push_str(" (verification in progress)");
        }
        rows.push(vec!["Rekey Progress".into(), p]);
        rows.push(vec!["New Shares".into(), num(status, "n").to_string()]);
        rows.push(vec!["New Threshold".into(), num(status, "t").to_string()]);
        rows.push(vec![
            "Verification Required".into(),
            flag(status, "verification_required").to_string(),
        ]);
        let vnonce = text(status, "verification_nonce");
        if !vnonce.is_empty() {
            rows.push(vec!["Verification Nonce".into(), vnonce]);
        }
    }
    if let Some(Value::Array(fps)) = status.get("pgp_fingerprints")
        && !fps.is_empty()
    {
        rows.push(vec![
            "PGP Fingerprints".into(),
            go_value(&Value::Array(fps.clone())),
        ]);
        rows.push(vec!["Backup".into(), flag(status, "backup").to_string()]);
    }
    table(&["Key", "Value"], rows)
}

fn print_status(ctx: &Ctx, status: &Value) -> Result<()> {
    match ctx.out.format {
        Format::Json => line(&to_json(status)?),
        Format::Table => line(&render_status(status)),
    }
    Ok(())
}

/// Vault's output once a rekey completes: the new shares and what to do with them.
pub fn render_keys(status: &Value, answer: &Value) -> String {
    let strings = |key: &str| -> Vec<String> {
        answer
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let hex = strings("keys");
    let b64 = strings("keys_base64");
    let fingerprints = strings("pgp_fingerprints");
    let keys = if b64.len() == hex.len() { b64 } else { hex };
    let mut out = vec![String::new()];
    out.extend(
        keys.iter()
            .enumerate()
            .map(|(i, k)| match fingerprints.get(i) {
                Some(fp) => format!("Key {} fingerprint: {fp}; value: {k}", i + 1),
                None => format!("Key {}: {k}", i + 1),
            }),
    );
    out.push(String::new());
    out.push(format!("Operation nonce: {}", text(answer, "nonce")));
    out.push(String::new());
    if !fingerprints.is_empty() && flag(answer, "backup") {
        out.push(wrap_with_padding(
            "The encrypted unseal keys are backed up to \"core/unseal-keys-backup\" in \
             the storage backend. Remove these keys at any time using \"coffer operator \
             rekey -backup-delete\". Vault does not automatically remove these keys.",
            0,
        ));
        out.push(String::new());
    }
    let (n, t) = (num(status, "n"), num(status, "t"));
    out.push(wrap_with_padding(
        &format!(
            "Vault rekeyed with {n} key shares and a key threshold of {t}. Please \
             securely distribute the key shares printed above. When Vault is \
             re-sealed, restarted, or stopped, you must supply at least {t} of \
             these keys to unseal it before it can start servicing requests."
        ),
        0,
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let out = render_status(&json!({"nonce": "abc", "started": true, "progress": 1,
            "required": 3, "n": 5, "t": 3, "verification_required": false}));
        assert!(out.starts_with("Key                      Value\n---                      -----\nNonce                    abc"));
        assert!(out.contains("Rekey Progress           1/3\n"));
        let idle = render_status(&json!({"nonce": "", "started": false}));
        assert_eq!(
            idle,
            "Key        Value\n---        -----\nNonce      n/a\nStarted    false"
        );
    }

    #[test]
    fn completed_rekey_lists_new_keys() {
        let status = json!({"n": 2, "t": 2});
        let answer = json!({"complete": true, "nonce": "abc", "keys": ["aa", "bb"],
            "keys_base64": ["qg==", "uw=="]});
        let out = render_keys(&status, &answer);
        assert!(out.starts_with("\nKey 1: qg==\nKey 2: uw==\n\nOperation nonce: abc\n\n"));
        assert!(out.contains("rekeyed with 2 key shares"));
    }

    #[test]
    fn completed_pgp_rekey_names_fingerprints_and_the_backup() {
        let status = json!({"n": 2, "t": 2});
        let answer = json!({"complete": true, "nonce": "abc", "keys": ["aa", "bb"],
            "keys_base64": ["qg==", "uw=="], "pgp_fingerprints": ["f1", "f2"], "backup": true});
        let out = render_keys(&status, &answer);
        assert!(out.starts_with(
            "\nKey 1 fingerprint: f1; value: qg==\nKey 2 fingerprint: f2; value: uw==\n\nOperation nonce: abc\n\n"
        ), "{out}");
        assert!(
            out.contains("\"core/unseal-keys-backup\"") && out.contains("-backup-delete\""),
            "{out}"
        );
        let no_backup = render_keys(
            &status,
            &json!({"keys": ["aa"], "keys_base64": ["qg=="],
            "pgp_fingerprints": ["f1"], "backup": false}),
        );
        assert!(!no_backup.contains("backed up"), "{no_backup}");
    }
}
