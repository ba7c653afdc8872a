//! `renew`, `renew-self` and `renew-accessor`.

use std::time::Duration;

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, Path, PathDef, handler};
use coffer_types::{Error, Operation, Response, Result};

use super::response::auth_block;
use super::{TokenBackend, client_token};

const TOKEN_FIELDS: &[FieldDef] = &[
    FieldDef::new("token", FieldType::String, "Token to renew (request body)")
        .required()
        .sensitive(),
    INCREMENT,
];
const SELF_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "token",
        FieldType::String,
        "Token to renew (unused, does not need to be set)",
    )
    .sensitive(),
    INCREMENT,
];
const ACCESSOR_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "accessor",
        FieldType::String,
        "Accessor of the token to renew (request body)",
    )
    .required(),
    INCREMENT,
];
const INCREMENT: FieldDef = FieldDef::new(
    "increment",
    FieldType::Duration,
    "The desired increment in seconds to the token expiration",
)
.default(FieldDefault::Int(0));

/// `renew-accessor`, `renew-self` and `renew`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "renew-accessor",
            fields: ACCESSOR_FIELDS,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will renew a token associated with the given accessor and its properties. Response will not contain the token ID.",
            description: "This endpoint will renew a token associated with the given accessor and its properties. Response will not contain the token ID.",
        })
        .update(handler!(renew_accessor)),
        Path::new(PathDef {
            pattern: "renew-self",
            fields: SELF_FIELDS,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will renew the token used to call it and prevent expiration.",
            description: "This endpoint will renew the token used to call it and prevent expiration.",
        })
        .update(handler!(renew_self)),
        Path::new(PathDef {
            pattern: "renew",
            fields: TOKEN_FIELDS,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will renew the given token and prevent expiration.",
            description: "This endpoint will renew the given token and prevent expiration.",
        })
        .update(handler!(renew)),
    ]
}

async fn renew_token(
    b: &TokenBackend,
    token: &str,
    fields: &FieldData<'_>,
    show_token: bool,
) -> Result<Option<Response>> {
    if token.is_empty() {
        return Err(Error::invalid("missing token ID"));
    }
    let increment = fields.get_duration("increment")?.unwrap_or(Duration::ZERO);
    let Some(entry) = b.store.lookup(token).await? else {
        return Err(Error::invalid("token not found"));
    };
    let (entry, warnings) = b.store.renew(&entry, increment).await?;
    Ok(Some(Response {
        auth: Some(auth_block(&entry, if show_token { token } else { "" })),
        warnings,
        ..Response::default()
    }))
}

/// `renew`: the body's token.
async fn renew(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let token = call.fields.get_string("token")?.unwrap_or_default();
    renew_token(b, &token, &call.fields, true).await
}

/// `renew-self`: the caller's token.
async fn renew_self(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    renew_token(b, client_token(call.req), &call.fields, true).await
}

/// `renew-accessor`: the token behind an accessor, without showing its id.
async fn renew_accessor(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let fields = &call.fields;
    let accessor = fields.get_string("accessor")?.unwrap_or_default();
    if accessor.is_empty() {
        return Err(Error::invalid("missing accessor"));
    }
    let Some(entry) = b.store.lookup_accessor(&accessor).await? else {
        return Err(Error::invalid("invalid accessor"));
    };
    let increment = fields.get_duration("increment")?.unwrap_or(Duration::ZERO);
    let (entry, warnings) = b.store.renew(&entry, increment).await?;
    Ok(Some(Response {
        auth: Some(auth_block(&entry, "")),
        warnings,
        ..Response::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn renew_self_extends_and_renew_accessor_hides_token() {
        let h = Harness::new().await;
        let tok = h.create(&h.root, json!({"ttl": "1h"})).await;
        h.clock.advance(Duration::from_secs(1800));
        let resp = h
            .call(
                Operation::Update,
                "renew-self",
                &tok,
                json!({"increment": "2h"}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert_eq!(auth.client_token, tok.expose());
        assert_eq!(auth.lease_duration, 7200);
        h.clock.advance(Duration::from_secs(3600));
        assert!(
            h.backend
                .store
                .lookup(tok.expose())
                .await
                .unwrap()
                .is_some(),
            "renewal moved the expiry"
        );

        let accessor = auth.accessor;
        let resp = h
            .call(
                Operation::Update,
                "renew-accessor",
                &h.root,
                json!({"accessor": accessor}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert_eq!(auth.client_token, "");
        assert_eq!(
            auth.lease_duration, 7200,
            "no increment: the last TTL again"
        );
    }

    #[tokio::test]
    async fn renew_errors_match_vault() {
        let h = Harness::new().await;
        let fixed = h.create(&h.root, json!({"renewable": false})).await;
        let err = h
            .call(
                Operation::Update,
                "renew",
                &h.root,
                json!({"token": fixed.expose()}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease is not renewable".to_owned()][..])
        );
        let err = h
            .call(Operation::Update, "renew-self", &h.root, json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["lease is not renewable"],
            "root tokens have no lease"
        );
        let err = h
            .call(
                Operation::Update,
                "renew",
                &h.root,
                json!({"token": "hvs.nope"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["token not found"]);
        let err = h
            .call(Operation::Update, "renew", &h.root, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing token ID"]);
    }

    #[tokio::test]
    async fn explicit_max_ttl_caps_renewal() {
        let h = Harness::new().await;
        let tok = h
            .create(&h.root, json!({"ttl": "1h", "explicit_max_ttl": "90m"}))
            .await;
        h.clock.advance(Duration::from_secs(1800));
        let resp = h
            .call(
                Operation::Update,
                "renew-self",
                &tok,
                json!({"increment": "5h"}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.auth.unwrap().lease_duration,
            3600,
            "capped to the 1h left of the 90m"
        );
        assert_eq!(resp.warnings.len(), 1);
        h.clock.advance(Duration::from_secs(3600));
        assert!(
            h.backend
                .store
                .lookup(tok.expose())
                .await
                .unwrap()
                .is_none(),
            "dead at creation + 90m"
        );
    }

    #[tokio::test]
    async fn periodic_tokens_renew_to_their_period_forever() {
        let h = Harness::new().await;
        let tok = h
            .create(&h.root, json!({"period": "2h", "ttl": "5m"}))
            .await;
        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &tok, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["ttl"], 7200);
        assert_eq!(d["period"], 7200);
        // Renew every hour for 20 hours: well past the 10h system max.
        for _ in 0..20 {
            h.clock.advance(Duration::from_secs(3600));
            let resp = h
                .call(
                    Operation::Update,
                    "renew-self",
                    &tok,
                    json!({"increment": "10m"}),
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                resp.auth.unwrap().lease_duration,
                7200,
                "periodic renewals ignore the increment"
            );
        }
        h.clock.advance(Duration::from_secs(7200));
        assert!(
            h.backend
                .store
                .lookup(tok.expose())
                .await
                .unwrap()
                .is_none(),
            "expires one period after the last renewal"
        );
    }
}
