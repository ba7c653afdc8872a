//! `sys/wrapping/wrap`, `unwrap`, `rewrap` and `lookup`, as a `sys/` piece.
//!
//! [`WrappingPiece`] is a [`Backend`] over a path table declared relative to
//! `sys/` with Vault's fields; the wrapping itself (a response stored in the
//! cubbyhole of a single-use token) is [`crate::wrapping`]. The wrapping
//! token is named in the body (`token`: a third party unwraps it) or is the
//! client token itself. `wrapping/lookup` is unauthenticated, as in Vault;
//! the others need a token, so a tokenless unwrap is refused with 403 as
//! Vault's server refuses it (Vault's clients send the wrapping token as the
//! client token when they have none). The piece holds the unsealed state
//! weakly because it is part of it.

use crate::error::CoreError;
use std::sync::{Arc, LazyLock, Weak};

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_tokens::TokenEntry;
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Value, json};

use crate::policy_store::RESPONSE_WRAPPING_POLICY;
use crate::unsealed::Unsealed;
use crate::wrapping::unwrap_envelope;

/// The response-wrapping endpoints over the unsealed state.
pub(crate) struct WrappingPiece {
    unsealed: Weak<Unsealed>,
}

impl WrappingPiece {
    /// The piece answering from `unsealed` (held weakly: the piece is part
    /// of it).
    pub(crate) fn new(unsealed: Weak<Unsealed>) -> Self {
        Self { unsealed }
    }

    fn unsealed(&self) -> Result<Arc<Unsealed>> {
        self.unsealed.upgrade().ok_or_else(Error::sealed)
    }
}

const TOKEN_FIELDS: &[FieldDef] = &[FieldDef::new(
    "token",
    FieldType::String,
    "The wrapping token (omit to use the client token).",
)];

const UPDATE: &[Operation] = &[Operation::Update];

/// The piece's paths, relative to `sys/`.
static TABLE: LazyLock<PathTable<WrappingPiece>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "wrapping/wrap",
            fields: &[],
            operations: UPDATE,
            existence_check: false,
            synopsis: "Response-wraps an arbitrary JSON object.",
            description: "Wraps the request body in a new single-use wrapping token; the \
                 request must ask for wrapping (X-Vault-Wrap-TTL).",
        })
        .update(handler!(wrap))
        .arbitrary_input(),
        Path::new(PathDef {
            pattern: "wrapping/unwrap",
            fields: TOKEN_FIELDS,
            operations: UPDATE,
            existence_check: false,
            synopsis: "Unwraps a response-wrapped token.",
            description: "Returns the response stored in the wrapping token, once: the token \
                 is revoked. Give the wrapping token as the client token, or as \"token\" \
                 with a client token of your own.",
        })
        .update(handler!(unwrap)),
        Path::new(PathDef {
            pattern: "wrapping/rewrap",
            fields: TOKEN_FIELDS,
            operations: UPDATE,
            existence_check: false,
            synopsis: "Rotates a response-wrapped token.",
            description: "Moves the wrapped response into a new wrapping token with the same \
                 creation TTL and path, and revokes the old one.",
        })
        .update(handler!(rewrap)),
        Path::new(PathDef {
            pattern: "wrapping/lookup",
            fields: TOKEN_FIELDS,
            operations: &[Operation::Read, Operation::Update],
            existence_check: false,
            synopsis: "Looks up the properties of a response-wrapped token.",
            description: "Returns the creation path, time and TTL of a wrapping token without \
                 using it. Needs no token of its own.",
        })
        .read(handler!(lookup))
        .update(handler!(lookup))
        .unauthenticated(),
    ])
});

impl Backend for WrappingPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

/// 400 `wrapping token is not valid or does not exist`.
fn invalid_wrapping_token() -> Error {
    CoreError::InvalidWrappingToken.into()
}

fn is_wrapping_token(entry: &TokenEntry) -> bool {
    entry.policies.iter().any(|p| p == RESPONSE_WRAPPING_POLICY)
}

/// The wrapping token of an unwrap or rewrap: the one named in the body,
/// whose use is spent here (so two concurrent unwraps cannot both read it),
/// or the caller's own, whose use the core spent before this handler ran
/// (found *tainted*, see [`super::capabilities::own_token`]). The second
/// value says which: a named token is revoked by the handler, the caller's
/// own by the core once the request is answered.
async fn wrapping_token(unsealed: &Unsealed, call: &Call<'_>) -> Result<(Arc<TokenEntry>, bool)> {
    let named = call.fields.get_string("token")?.filter(|t| !t.is_empty());
    let Some(token) = named else {
        let own = super::capabilities::own_token(unsealed, call.req)
            .await?
            .filter(|e| is_wrapping_token(e))
            .ok_or_else(invalid_wrapping_token)?;
        return Ok((own, false));
    };
    let entry = unsealed
        .tokens
        .lookup_shared(&token)
        .await?
        .filter(|e| is_wrapping_token(e))
        .ok_or_else(invalid_wrapping_token)?;
    let spent = unsealed
        .tokens
        .use_token_deferred(&entry)
        .await?
        .ok_or_else(invalid_wrapping_token)?;
    Ok((Arc::new(spent), true))
}

/// `wrapping/wrap` (update): the body, which the core then wraps; 400 when
/// the request does not ask for wrapping or the body is empty.
async fn wrap(_piece: &WrappingPiece, call: &Call<'_>) -> Result<Option<Response>> {
    if call.req.wrap_ttl.is_none() {
        return Err(CoreError::WrapWithoutTtl.into());
    }
    if call.req.data.is_empty() {
        return Err(CoreError::NoData.into());
    }
    Ok(Some(Response::with_data(call.req.data.clone())))
}

/// `wrapping/unwrap` (update): the wrapped response, once.
async fn unwrap(piece: &WrappingPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let (entry, named) = wrapping_token(&unsealed, call).await?;
    let envelope = unsealed.wrapped_response(&entry).await;
    if named {
        unsealed.tokens.revoke_tree(&entry).await?;
    }
    Ok(Some(unwrap_envelope(envelope?)))
}

/// `wrapping/rewrap` (update): a new wrapping token for the same response,
/// creation TTL and path; the old token is revoked.
async fn rewrap(piece: &WrappingPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let (entry, _) = wrapping_token(&unsealed, call).await?;
    let envelope = unsealed.wrapped_response(&entry).await;
    let rewrapped = match envelope {
        Ok(envelope) => {
            unsealed
                .wrap(
                    &call.req.id,
                    unwrap_envelope(envelope),
                    entry.creation_ttl,
                    &entry.path,
                )
                .await
        }
        Err(e) => Err(e),
    };
    unsealed.tokens.revoke_tree(&entry).await?;
    rewrapped.map(Some)
}

/// `wrapping/lookup` (read or update, no token needed): the creation path,
/// time and TTL of the wrapping token in the body, else of the client
/// token; the token is not used.
async fn lookup(piece: &WrappingPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let named = call.fields.get_string("token")?.filter(|t| !t.is_empty());
    let token = match &named {
        Some(token) => token.as_str(),
        None => call
            .req
            .client_token
            .as_ref()
            .map(|t| t.expose())
            .filter(|t| !t.is_empty())
            .ok_or(CoreError::Missing("token"))?,
    };
    let unsealed = piece.unsealed()?;
    let entry = unsealed
        .tokens
        .lookup(token)
        .await?
        .filter(is_wrapping_token)
        .ok_or_else(invalid_wrapping_token)?;
    Response::from_serialize(&json!({
        "creation_path": entry.path,
        "creation_time": coffer_sdk::time::rfc3339(entry.creation_time),
        "creation_ttl": Value::from(entry.creation_ttl.as_secs()),
    }))
    .map(Some)
}

#[cfg(test)]
mod tests {
    use coffer_types::ErrorKind;
    use serde_json::json;

    use super::*;
    use crate::sys::capabilities::tests::{Dev, status};

    /// A response wrapped for `token` by `sys/wrapping/wrap`: its wrapping
    /// token.
    async fn wrapped(dev: &Dev, token: &str, body: Value) -> String {
        dev.send(
            Some(token),
            Operation::Update,
            "sys/wrapping/wrap",
            body,
            Some(120),
        )
        .await
        .unwrap()
        .wrap_info
        .unwrap()
        .token
    }

    #[test]
    fn lookup_is_the_only_unauthenticated_path() {
        let piece = WrappingPiece::new(Weak::new());
        let special = piece.special_paths();
        assert_eq!(special.unauthenticated, ["wrapping/lookup"]);
        assert!(special.root.is_empty());
    }

    /// Lookup needs no token, by body or client token, and does not use the
    /// wrapping token.
    #[tokio::test]
    async fn lookup_without_a_token() {
        let dev = Dev::new().await;
        let w = wrapped(&dev, &dev.root, json!({"k": "v"})).await;
        for op in [Operation::Read, Operation::Update] {
            let r = dev
                .call(None, op, "sys/wrapping/lookup", json!({"token": w}))
                .await
                .unwrap();
            let data = r.data.unwrap();
            assert_eq!(data["creation_path"], "sys/wrapping/wrap");
            assert_eq!(data["creation_ttl"], 120);
        }
        let r = dev
            .call(
                Some(&w),
                Operation::Update,
                "sys/wrapping/lookup",
                json!({}),
            )
            .await;
        assert_eq!(status(&r), 200);
        let e = dev
            .call(None, Operation::Update, "sys/wrapping/lookup", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (e.status(), e.to_string()),
            (400, "missing token".to_owned())
        );
        let e = dev
            .call(
                None,
                Operation::Update,
                "sys/wrapping/lookup",
                json!({"token": dev.root}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.status(), 400);
        // Still unwrappable: lookup did not use it.
        let data = dev
            .data(
                &dev.root,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": w}),
            )
            .await;
        assert_eq!(data, json!({"k": "v"}));
    }

    /// Unwrap by a third party naming the token in the body, once.
    #[tokio::test]
    async fn unwrap_via_the_body_token() {
        let dev = Dev::new().await;
        let other = dev.token(json!({"policies": ["default"]})).await;
        let w = wrapped(&dev, &dev.root, json!({"k": "v"})).await;
        let data = dev
            .data(
                &other,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": w}),
            )
            .await;
        assert_eq!(data, json!({"k": "v"}));
        let again = dev
            .call(
                Some(&other),
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": w}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (again.status(), again.to_string()),
            (
                400,
                "wrapping token is not valid or does not exist".to_owned()
            )
        );
        // A token that is not a wrapping token.
        let e = dev
            .call(
                Some(&other),
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": other}),
            )
            .await;
        assert_eq!(status(&e), 400);
    }

    /// The wrapping token as the client token: the core spends its one use
    /// before the handler, which still finds it; it is revoked afterwards.
    #[tokio::test]
    async fn unwrap_with_the_wrapping_token_itself() {
        let dev = Dev::new().await;
        let w = wrapped(&dev, &dev.root, json!({"k": "v"})).await;
        let data = dev
            .data(&w, Operation::Update, "sys/wrapping/unwrap", json!({}))
            .await;
        assert_eq!(data, json!({"k": "v"}));
        let again = dev
            .call(
                Some(&w),
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({}),
            )
            .await;
        assert_eq!(status(&again), 403);
        let looked = dev
            .call(
                None,
                Operation::Update,
                "sys/wrapping/lookup",
                json!({"token": w}),
            )
            .await;
        assert_eq!(status(&looked), 400);
    }

    /// As Vault's server: unwrap is not an unauthenticated path, so a
    /// request without a client token is refused even with a valid body
    /// token (which it does not use).
    #[tokio::test]
    async fn unwrap_without_a_client_token_is_refused() {
        let dev = Dev::new().await;
        let w = wrapped(&dev, &dev.root, json!({"k": "v"})).await;
        let r = dev
            .call(
                None,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": w}),
            )
            .await;
        assert_eq!(status(&r), 403);
        let data = dev
            .data(&w, Operation::Update, "sys/wrapping/unwrap", json!({}))
            .await;
        assert_eq!(data, json!({"k": "v"}));
    }

    /// Rewrap moves the response to a new token with the same TTL and
    /// creation path and revokes the old one.
    #[tokio::test]
    async fn rewrap_moves_the_response() {
        let dev = Dev::new().await;
        let w1 = wrapped(&dev, &dev.root, json!({"k": "v"})).await;
        let info = dev
            .call(
                Some(&dev.root),
                Operation::Update,
                "sys/wrapping/rewrap",
                json!({"token": w1}),
            )
            .await
            .unwrap()
            .wrap_info
            .unwrap();
        assert_eq!(
            (info.ttl, info.creation_path.as_str()),
            (120, "sys/wrapping/wrap")
        );
        let w2 = info.token;
        let gone = dev
            .call(
                None,
                Operation::Update,
                "sys/wrapping/lookup",
                json!({"token": w1}),
            )
            .await;
        assert_eq!(status(&gone), 400);
        // The response-wrapping policy grants unwrap only (as Vault's): a
        // wrapping token cannot rewrap itself, and stays usable.
        let own = dev
            .call(
                Some(&w2),
                Operation::Update,
                "sys/wrapping/rewrap",
                json!({}),
            )
            .await;
        assert_eq!(status(&own), 403);
        let w3 = dev
            .call(
                Some(&dev.root),
                Operation::Update,
                "sys/wrapping/rewrap",
                json!({"token": w2}),
            )
            .await
            .unwrap()
            .wrap_info
            .unwrap()
            .token;
        let data = dev
            .data(
                &dev.root,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": w3}),
            )
            .await;
        assert_eq!(data, json!({"k": "v"}));
        let gone = dev
            .call(
                None,
                Operation::Update,
                "sys/wrapping/lookup",
                json!({"token": w2}),
            )
            .await;
        assert_eq!(status(&gone), 400);
    }

    /// Wrap takes any fields (no unknown-field warning) and needs a TTL and
    /// a body; only update is declared.
    #[tokio::test]
    async fn wrap_needs_a_ttl_and_data() {
        let dev = Dev::new().await;
        let root = Some(dev.root.as_str());
        let e = dev
            .call(
                root,
                Operation::Update,
                "sys/wrapping/wrap",
                json!({"a": 1}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("X-Vault-Wrap-TTL"), "{e}");
        let e = dev
            .send(
                root,
                Operation::Update,
                "sys/wrapping/wrap",
                json!({}),
                Some(60),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (e.status(), e.to_string()),
            (400, "no data provided".to_owned())
        );
        let r = dev
            .send(
                root,
                Operation::Update,
                "sys/wrapping/wrap",
                json!({"anything": {"nested": true}}),
                Some(60),
            )
            .await
            .unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let e = dev
            .call(root, Operation::Read, "sys/wrapping/unwrap", json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedOperation);
    }
}
