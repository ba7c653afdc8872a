//! `sys/rekey/*`: new unseal key shares, with Vault's optional verification
//! step (the new shares must be proven before they replace the old ones).
//! With `pgp_keys` the new shares are handed out encrypted, one per key
//! ([`crate::pgp`]), and with `backup` the encrypted shares are also kept
//! for `sys/rekey/backup` ([`crate::sys::rekey_backup`]).

use crate::error::CoreError;
use coffer_crypto::Secret;
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Value, json};

use crate::Core;
use crate::keys::{self, ShareCollector};
use crate::seal::SealConfig;

/// New shares handed out but not yet verified.
pub(crate) struct PendingRekey {
    new_key: Secret<[u8; 32]>,
    verification_nonce: String,
    verify_shares: ShareCollector,
}

/// A rekey attempt in progress.
pub(crate) struct RekeyState {
    nonce: String,
    new_config: SealConfig,
    require_verification: bool,
    shares: ShareCollector,
    pending: Option<PendingRekey>,
    /// The keys the new shares are encrypted to (none: plaintext shares).
    pgp: crate::pgp::RekeyKeys,
}

fn nonce() -> Result<String> {
    coffer_crypto::random_uuid().map_err(|source| {
        CoreError::Crypto {
            doing: "generating nonce",
            source,
        }
        .into()
    })
}

fn body_u32(req: &Request, name: &str) -> Result<u32> {
    match req.data.get(name) {
        Some(Value::Number(n)) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| CoreError::NotSpecifiedAsNonNegativeInteger(name.to_owned()).into())
}

fn body_str<'a>(req: &'a Request, name: &str) -> Result<&'a str> {
    req.get_str(name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CoreError::MissingParameter(name.to_owned()).into())
}

fn check_nonce(expected: &str, req: &Request) -> Result<()> {
    let given = body_str(req, "nonce")?;
    if !coffer_crypto::ct_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(CoreError::IncorrectNonce(given.to_owned()).into());
    }
    Ok(())
}

async fn status(core: &Core, state: Option<&RekeyState>) -> Result<Value> {
    let current = core.seal_config().await?;
    let required = current.map(|c| c.secret_threshold).unwrap_or(0);
    Ok(match state {
        None => json!({
            "nonce": "", "started": false, "t": 0, "n": 0, "progress": 0,
            "required": required, "pgp_fingerprints": null, "backup": false,
            "verification_required": false,
        }),
        Some(s) => json!({
            "nonce": s.nonce, "started": true,
            "t": s.new_config.secret_threshold, "n": s.new_config.secret_shares,
            "progress": s.shares.progress(), "required": required,
            "pgp_fingerprints": s.pgp.fingerprints(), "backup": s.pgp.backup(),
            "verification_required": s.require_verification,
            "verification_nonce": s.pending.as_ref().map(|p| p.verification_nonce.clone()).unwrap_or_default(),
        }),
    })
}

/// Dispatches `sys/rekey/init`, `sys/rekey/update`, `sys/rekey/verify`.
pub(crate) async fn handle(core: &Core, relative: &str, req: &Request) -> Result<Response> {
    let unsealed = core.unsealed()?;
    let mut guard = core.rekey.lock().await;
    let op = req.op();
    let op = if op == Operation::Create {
        Operation::Update
    } else {
        op
    };
    match (relative, op) {
        ("rekey/init", Operation::Read) => {
            Ok(Response::raw(status(core, guard.as_ref()).await?, 200))
        }
        ("rekey/init", Operation::Update) => {
            if guard.is_some() {
                return Err(CoreError::RekeyInProgress.into());
            }
            let shares = body_u32(req, "secret_shares")?;
            let threshold = body_u32(req, "secret_threshold")?;
            // Vault's checks: backup needs keys, one key per share, valid
            // share counts, keys that parse.
            let pgp = crate::pgp::RekeyKeys::from_request(req, shares, threshold)?;
            let require_verification = crate::sys::status::field_bool(req, "require_verification")?;
            *guard = Some(RekeyState {
                nonce: nonce()?,
                new_config: SealConfig::shamir(shares, threshold),
                require_verification,
                shares: ShareCollector::default(),
                pending: None,
                pgp,
            });
            Ok(Response::raw(status(core, guard.as_ref()).await?, 200))
        }
        ("rekey/init", Operation::Delete) => {
            // Unauthenticated, so only whoever knows the operation's nonce
            // may cancel it (as Vault 1.17.18 and later).
            body_str(req, "nonce")?;
            if let Some(state) = guard.as_ref() {
                check_nonce(&state.nonce, req)?;
            }
            *guard = None;
            Ok(Response::default())
        }
        ("rekey/update", Operation::Update) => {
            let state = guard.as_mut().ok_or(CoreError::NoRekey)?;
            check_nonce(&state.nonce, req)?;
            if state.pending.is_some() {
                return Err(CoreError::RekeyAwaitingVerification.into());
            }
            let current = core.seal_config().await?.ok_or(CoreError::NotInitialized)?;
            state
                .shares
                .add(keys::decode_share(body_str(req, "key")?)?)?;
            if (state.shares.progress() as u32) < current.secret_threshold {
                return Ok(Response::raw(status(core, Some(state)).await?, 200));
            }
            let combined = state.shares.combine(current.secret_threshold);
            state.shares.reset();
            let old_key = combined?;
            let valid = unsealed
                .barrier
                .verify_unseal_key(&old_key)
                .await
                .map_err(|source| CoreError::Barrier {
                    doing: "verifying key shares",
                    source,
                })?;
            if !valid {
                return Err(CoreError::RekeyWrongKeys.into());
            }
            let new_key = coffer_crypto::random_key().map_err(|source| CoreError::Crypto {
                doing: "generating key",
                source,
            })?;
            let (hex, b64) = keys::split_key(
                &new_key,
                state.new_config.secret_shares,
                state.new_config.secret_threshold,
            )?;
            let (hex, b64) = encrypt_new_shares(&unsealed, state, hex, b64).await?;
            let mut body = json!({
                "complete": true, "keys": hex, "keys_base64": b64, "nonce": state.nonce,
                "backup": state.pgp.backup(), "pgp_fingerprints": state.pgp.fingerprints(),
                "verification_required": state.require_verification,
            });
            if state.require_verification {
                let verification_nonce = nonce()?;
                body["verification_nonce"] = json!(verification_nonce);
                state.pending = Some(PendingRekey {
                    new_key,
                    verification_nonce,
                    verify_shares: ShareCollector::default(),
                });
            } else {
                let config = state.new_config.clone();
                apply(core, &unsealed, &new_key, &config).await?;
                *guard = None;
            }
            Ok(Response::raw(body, 200))
        }
        ("rekey/verify", Operation::Read) => {
            let state = guard.as_ref().ok_or(CoreError::NoRekey)?;
            let pending = state
                .pending
                .as_ref()
                .ok_or(CoreError::NoRekeyVerification)?;
            Ok(Response::raw(
                json!({
                    "nonce": pending.verification_nonce, "started": true,
                    "t": state.new_config.secret_threshold, "n": state.new_config.secret_shares,
                    "progress": pending.verify_shares.progress(),
                }),
                200,
            ))
        }
        ("rekey/verify", Operation::Delete) => {
            let state = guard.as_mut().ok_or(CoreError::NoRekey)?;
            check_nonce(&state.nonce, req)?;
            let pending = state
                .pending
                .as_mut()
                .ok_or(CoreError::NoRekeyVerification)?;
            pending.verify_shares.reset();
            pending.verification_nonce = nonce()?;
            Ok(Response::default())
        }
        ("rekey/verify", Operation::Update) => {
            let state = guard.as_mut().ok_or(CoreError::NoRekey)?;
            let threshold = state.new_config.secret_threshold;
            let pending = state
                .pending
                .as_mut()
                .ok_or(CoreError::NoRekeyVerification)?;
            check_nonce(&pending.verification_nonce, req)?;
            pending
                .verify_shares
                .add(keys::decode_share(body_str(req, "key")?)?)?;
            if (pending.verify_shares.progress() as u32) < threshold {
                return Ok(Response::raw(
                    json!({
                        "nonce": pending.verification_nonce, "started": true,
                        "t": threshold, "n": state.new_config.secret_shares,
                        "progress": pending.verify_shares.progress(),
                    }),
                    200,
                ));
            }
            let combined = pending.verify_shares.combine(threshold);
            pending.verify_shares.reset();
            let given = combined?;
            if !coffer_crypto::ct_eq(given.expose(), pending.new_key.expose()) {
                return Err(CoreError::RekeyVerifyMismatch.into());
            }
            let verification_nonce = pending.verification_nonce.clone();
            let new_key = Secret::new(*pending.new_key.expose());
            let config = state.new_config.clone();
            apply(core, &unsealed, &new_key, &config).await?;
            *guard = None;
            Ok(Response::raw(
                json!({ "nonce": verification_nonce, "complete": true }),
                200,
            ))
        }
        _ => Err(CoreError::UnsupportedOperation.into()),
    }
}

/// The new shares as they are handed out: as they are without PGP keys;
/// otherwise encrypted (hex and base64 of the messages) and, with `backup`,
/// stored for `sys/rekey/backup` under the rekey's nonce, as Vault does
/// (before any verification, which may still cancel the rekey).
async fn encrypt_new_shares(
    unsealed: &crate::unsealed::Unsealed,
    state: &RekeyState,
    hex: Vec<String>,
    b64: Vec<String>,
) -> Result<(Vec<String>, Vec<String>)> {
    if state.pgp.is_empty() {
        return Ok((hex, b64));
    }
    drop(b64.into_iter().map(Secret::new).collect::<Vec<_>>());
    let encrypted = state.pgp.encrypt(hex)?;
    if state.pgp.backup() {
        crate::sys::rekey_backup::save(unsealed.storage.as_ref(), &state.nonce, &encrypted).await?;
    }
    Ok((encrypted.hex, encrypted.base64))
}

/// Re-wraps the root key under the new unseal key and records the new shares.
async fn apply(
    core: &Core,
    unsealed: &crate::unsealed::Unsealed,
    key: &Secret<[u8; 32]>,
    config: &SealConfig,
) -> Result<()> {
    unsealed
        .barrier
        .rekey(key)
        .await
        .map_err(|source| CoreError::Barrier {
            doing: "rekeying the barrier",
            source,
        })?;
    config.save(core.physical().as_ref()).await
}
