//! `lookup`, `lookup-self` and `lookup-accessor`.

use coffer_sdk::{Call, FieldDef, FieldType, Path, PathDef, handler};
use coffer_types::{Error, ErrorKind, Operation, Response, Result};

use super::response::lookup_data;
use super::{TokenBackend, client_token};

const TOKEN_FIELD: &[FieldDef] = &[FieldDef::new(
    "token",
    FieldType::String,
    "Token to lookup (POST request body)",
)
.sensitive()];
const ACCESSOR_FIELD: &[FieldDef] = &[FieldDef::new(
    "accessor",
    FieldType::String,
    "Accessor of the token to look up (request body)",
)
.required()];

/// `lookup-accessor`, `lookup-self` and `lookup`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "lookup-accessor",
            fields: ACCESSOR_FIELD,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will lookup a token associated with the given accessor and its properties. Response will not contain the token ID.",
            description: "This endpoint will lookup a token associated with the given accessor and its properties. Response will not contain the token ID.",
        })
        .update(handler!(lookup_accessor)),
        Path::new(PathDef {
            pattern: "lookup-self",
            fields: TOKEN_FIELD,
            operations: &[Operation::Read, Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will lookup a token and its properties.",
            description: "This endpoint will lookup a token and its properties.",
        })
        .read(handler!(lookup_self))
        .update(handler!(lookup_self)),
        Path::new(PathDef {
            pattern: "lookup",
            fields: TOKEN_FIELD,
            operations: &[Operation::Read, Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will lookup a token and its properties.",
            description: "This endpoint will lookup a token and its properties.",
        })
        .read(handler!(lookup))
        .update(handler!(lookup)),
    ]
}

async fn lookup_token(b: &TokenBackend, token: &str) -> Result<Option<Response>> {
    if token.is_empty() {
        return Err(Error::invalid("missing token ID"));
    }
    let Some(entry) = b.store.lookup_tainted(token).await? else {
        return Err(Error::new(ErrorKind::PermissionDenied, "bad token"));
    };
    Ok(Some(Response::with_data(lookup_data(
        &entry,
        token,
        b.store.clock.now(),
    ))))
}

/// `lookup`: the body's token, or the caller's.
async fn lookup(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let token = call.fields.get_string("token")?.filter(|t| !t.is_empty());
    match token {
        Some(token) => lookup_token(b, &token).await,
        None => lookup_token(b, client_token(call.req)).await,
    }
}

/// `lookup-self`: the caller's token.
async fn lookup_self(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let req = call.req;
    let token = client_token(req);
    // The core has authenticated this very token: find it by its id.
    let Some(id) = req.token_id().filter(|_| !token.is_empty()) else {
        return lookup_token(b, token).await;
    };
    let Some(entry) = b.store.lookup_tainted_by_id(id).await? else {
        return Err(Error::new(ErrorKind::PermissionDenied, "bad token"));
    };
    Ok(Some(Response::with_data(lookup_data(
        &entry,
        token,
        b.store.clock.now(),
    ))))
}

/// `lookup-accessor`: the token behind an accessor, without its id.
async fn lookup_accessor(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let accessor = call.fields.get_string("accessor")?.unwrap_or_default();
    if accessor.is_empty() {
        return Err(Error::invalid("missing accessor"));
    }
    let Some(entry) = b.store.lookup_accessor(&accessor).await? else {
        return Err(Error::invalid("invalid accessor"));
    };
    Ok(Some(Response::with_data(lookup_data(
        &entry,
        "",
        b.store.clock.now(),
    ))))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use coffer_types::Sensitive;
    use serde_json::{Value, json};

    #[tokio::test]
    async fn lookup_self_and_lookup_show_the_token() {
        let h = Harness::new().await;
        let tok = h
            .create(
                &h.root,
                json!({"policies": ["web"], "ttl": "1h", "meta": {"k": "v"}}),
            )
            .await;
        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &tok, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["id"], tok.expose());
        assert_eq!(d["policies"], json!(["default", "web"]));
        assert_eq!(d["ttl"], 3600);
        assert_eq!(d["creation_ttl"], 3600);
        assert_eq!(d["display_name"], "token");
        assert_eq!(d["orphan"], false);
        assert_eq!(d["path"], "auth/token/create");
        assert_eq!(d["meta"], json!({"k": "v"}));
        assert_eq!(d["type"], "service");
        assert!(d["expire_time"].is_string() && d["issue_time"].is_string());

        let d = Harness::data(
            h.call(
                Operation::Update,
                "lookup",
                &h.root,
                json!({"token": tok.expose()}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(d["id"], tok.expose());

        let err = h
            .call(
                Operation::Update,
                "lookup",
                &h.root,
                json!({"token": "hvs.unknown"}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (403, &["bad token".to_owned()][..])
        );
    }

    #[tokio::test]
    async fn root_lookup_has_no_expiry() {
        let h = Harness::new().await;
        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["policies"], json!(["root"]));
        assert_eq!(d["display_name"], "root");
        assert_eq!(d["path"], "auth/token/root");
        assert_eq!(d["expire_time"], Value::Null);
        assert_eq!(d["ttl"], 0);
        assert_eq!(d["orphan"], true);
    }

    #[tokio::test]
    async fn lookup_accessor_hides_the_id() {
        let h = Harness::new().await;
        let resp = h
            .call(Operation::Update, "create", &h.root, json!({}))
            .await
            .unwrap()
            .unwrap();
        let accessor = resp.auth.unwrap().accessor;
        let d = Harness::data(
            h.call(
                Operation::Update,
                "lookup-accessor",
                &h.root,
                json!({"accessor": accessor}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(d["id"], "");
        assert_eq!(d["accessor"], accessor.as_str());
        let err = h
            .call(
                Operation::Update,
                "lookup-accessor",
                &h.root,
                json!({"accessor": "nope"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["invalid accessor"]);
        let err = h
            .call(Operation::Update, "lookup-accessor", &h.root, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing accessor"]);
        let _ = Sensitive::new("unused");
    }
}
