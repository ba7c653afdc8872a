//! `sys/generate-root/*`: a new root token from a quorum of unseal key shares,
//! delivered XOR-ed with a one-time password (Vault's OTP flow).

use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Value, json};

use crate::Core;
use crate::keys::{self, ShareCollector};

/// Length of the OTP: the length of a root token (`hvs.` + 24 characters).
const OTP_LENGTH: usize = 28;

/// A root generation attempt in progress.
pub(crate) struct GenerateRootState {
    nonce: String,
    otp: coffer_types::Sensitive,
    shares: ShareCollector,
}

async fn status(core: &Core, state: Option<&GenerateRootState>) -> Result<Value> {
    let required = core
        .seal_config()
        .await?
        .map(|c| c.secret_threshold)
        .unwrap_or(0);
    Ok(json!({
        "started": state.is_some(),
        "nonce": state.map(|s| s.nonce.clone()).unwrap_or_default(),
        "progress": state.map(|s| s.shares.progress()).unwrap_or(0),
        "required": required,
        "encoded_token": "",
        "encoded_root_token": "",
        "pgp_fingerprint": "",
        "otp_length": OTP_LENGTH,
        "complete": false,
    }))
}

/// XORs two equal-length byte strings.
fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Dispatches `sys/generate-root/attempt` and `sys/generate-root/update`.
pub(crate) async fn handle(core: &Core, relative: &str, req: &Request) -> Result<Response> {
    let unsealed = core.unsealed()?;
    let mut guard = core.generate_root.lock().await;
    let op = match req.op() {
        Operation::Create => Operation::Update,
        other => other,
    };
    match (relative, op) {
        ("generate-root/attempt", Operation::Read) => {
            Ok(Response::raw(status(core, guard.as_ref()).await?, 200))
        }
        ("generate-root/attempt", Operation::Update) => {
            if guard.is_some() {
                return Err(Error::invalid("root generation already in progress"));
            }
            for name in ["pgp_key", "otp"] {
                if req
                    .data
                    .get(name)
                    .is_some_and(|v| !(v.is_null() || v.is_string()))
                {
                    return Err(Error::invalid(format!("'{name}' must be a string")));
                }
            }
            if req.get_str("pgp_key").is_some_and(|s| !s.is_empty()) {
                return Err(Error::invalid(
                    "pgp_key is not supported by this server yet",
                ));
            }
            if req.get_str("otp").is_some_and(|s| !s.is_empty()) {
                return Err(Error::invalid(
                    "supplying an OTP is not supported: omit it and the server generates one",
                ));
            }
            let otp = coffer_crypto::random_alphanumeric(OTP_LENGTH)
                .map_err(|e| Error::internal(format!("generating OTP: {e}")))?;
            let nonce = coffer_crypto::random_uuid()
                .map_err(|e| Error::internal(format!("generating nonce: {e}")))?;
            *guard = Some(GenerateRootState {
                nonce,
                otp: otp.clone().into(),
                shares: ShareCollector::default(),
            });
            let mut body = status(core, guard.as_ref()).await?;
            body["otp"] = json!(otp);
            Ok(Response::raw(body, 200))
        }
        ("generate-root/attempt", Operation::Delete) => {
            // Unauthenticated, so only whoever knows the attempt's nonce may
            // cancel it (as Vault 1.17.18 and later).
            let given = req
                .get_str("nonce")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| Error::invalid("missing required parameter 'nonce'"))?;
            if let Some(state) = guard.as_ref()
                && !coffer_crypto::ct_eq(given.as_bytes(), state.nonce.as_bytes())
            {
                return Err(Error::invalid(format!("incorrect nonce supplied: {given}")));
            }
            *guard = None;
            Ok(Response::default())
        }
        ("generate-root/update", Operation::Update) => {
            let state = guard
                .as_mut()
                .ok_or_else(|| Error::invalid("no root generation in progress"))?;
            let given_nonce = req.get_str("nonce").unwrap_or_default();
            if !coffer_crypto::ct_eq(given_nonce.as_bytes(), state.nonce.as_bytes()) {
                return Err(Error::invalid(format!(
                    "incorrect nonce supplied: {given_nonce}"
                )));
            }
            let key = req
                .get_str("key")
                .ok_or_else(|| Error::invalid("missing required parameter 'key'"))?;
            state.shares.add(keys::decode_share(key)?)?;
            let threshold = core
                .seal_config()
                .await?
                .map(|c| c.secret_threshold)
                .unwrap_or(1);
            if (state.shares.progress() as u32) < threshold {
                return Ok(Response::raw(status(core, Some(state)).await?, 200));
            }
            let combined = state.shares.combine(threshold);
            state.shares.reset();
            let unseal_key = combined?;
            let valid = unsealed
                .barrier
                .verify_unseal_key(&unseal_key)
                .await
                .map_err(|e| Error::internal(format!("verifying key shares: {e}")))?;
            if !valid {
                return Err(Error::invalid(
                    "the key shares given do not match the unseal key; progress has been reset",
                ));
            }
            let (token, _) = unsealed.tokens.create_root_token(None).await?;
            let otp = state.otp.clone();
            let nonce = state.nonce.clone();
            *guard = None;
            if token.expose().len() != otp.expose().len() {
                return Err(Error::internal("root token and OTP lengths differ"));
            }
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(xor(token.expose().as_bytes(), otp.expose().as_bytes()));
            Ok(Response::raw(
                json!({
                    "started": true, "nonce": nonce, "progress": threshold, "required": threshold,
                    "encoded_token": encoded, "encoded_root_token": encoded,
                    "pgp_fingerprint": "", "otp_length": OTP_LENGTH, "complete": true,
                }),
                200,
            ))
        }
        _ => Err(Error::unsupported("unsupported operation")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_round_trips() {
        let token = b"hvs.abcdefghijklmnopqrstuvwx";
        let otp = b"0123456789ABCDEFGHIJKLMNOPQR";
        assert_eq!(xor(&xor(token, otp), otp), token);
    }
}
