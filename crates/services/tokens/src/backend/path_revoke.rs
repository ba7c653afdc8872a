//! `revoke`, `revoke-self`, `revoke-accessor` and `revoke-orphan`.

use coffer_sdk::{Call, FieldDef, FieldType, Path, PathDef, handler};
use coffer_types::{Error, Operation, Response, Result};

use super::{TokenBackend, client_token};

const TOKEN_FIELD: &[FieldDef] =
    &[
        FieldDef::new("token", FieldType::String, "Token to revoke (request body)")
            .required()
            .sensitive(),
    ];
const ACCESSOR_FIELD: &[FieldDef] = &[FieldDef::new(
    "accessor",
    FieldType::String,
    "Accessor of the token (request body)",
)
.required()];

/// `revoke-accessor`, `revoke-orphan` (sudo), `revoke-self` and `revoke`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "revoke-accessor",
            fields: ACCESSOR_FIELD,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will delete the token associated with the accessor and all of its child tokens.",
            description: "This endpoint will delete the token associated with the accessor and all of its child tokens.",
        })
        .update(handler!(revoke_accessor)),
        Path::new(PathDef {
            pattern: "revoke-orphan",
            fields: TOKEN_FIELD,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will delete the token and orphan its child tokens.",
            description: "This endpoint will delete the token and orphan its child tokens.",
        })
        .update(handler!(revoke_orphan))
        .sudo(),
        Path::new(PathDef {
            pattern: "revoke-self",
            fields: &[],
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will delete the token used to call it and all of its child tokens.",
            description: "This endpoint will delete the token used to call it and all of its child tokens.",
        })
        .update(handler!(revoke_self)),
        Path::new(PathDef {
            pattern: "revoke",
            fields: TOKEN_FIELD,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint will delete the given token and all of its child tokens.",
            description: "This endpoint will delete the given token and all of its child tokens.",
        })
        .update(handler!(revoke)),
    ]
}

/// Revokes a token and its tree; an unknown token is not an error (204).
async fn revoke_token(b: &TokenBackend, token: &str) -> Result<Option<Response>> {
    if let Some(entry) = b.store.lookup(token).await? {
        b.store.revoke_tree(&entry).await?;
    }
    Ok(None)
}

/// `revoke`: the body's token and its children.
async fn revoke(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let token = call.fields.get_string("token")?.unwrap_or_default();
    if token.is_empty() {
        return Err(Error::invalid("missing token ID"));
    }
    revoke_token(b, &token).await
}

/// `revoke-self`: the caller's token and its children.
async fn revoke_self(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    // The caller's token may be spending its last use on this very request.
    if let Some(entry) = b.store.lookup_tainted(client_token(call.req)).await? {
        b.store.revoke_tree(&entry).await?;
    }
    Ok(None)
}

/// `revoke-accessor`: the token behind an accessor and its children.
async fn revoke_accessor(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let accessor = call.fields.get_string("accessor")?.unwrap_or_default();
    if accessor.is_empty() {
        return Err(Error::invalid("missing accessor"));
    }
    match b.store.lookup_accessor(&accessor).await? {
        Some(entry) => {
            b.store.revoke_tree(&entry).await?;
            Ok(None)
        }
        None => Ok(Some(
            Response::default().warn("No token found with this accessor"),
        )),
    }
}

/// `revoke-orphan`: the body's token only; its children become orphans.
async fn revoke_orphan(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let req = call.req;
    let token = call.fields.get_string("token")?.unwrap_or_default();
    if token.is_empty() {
        return Err(Error::invalid("missing token ID"));
    }
    let sudo = match b.caller(req).await? {
        Some(caller) => b.is_sudo(&caller, req).await,
        None => false,
    };
    if !sudo {
        return Err(Error::invalid(
            "root or sudo privileges required to revoke and orphan",
        ));
    }
    let Some(entry) = b.store.lookup(&token).await? else {
        return Err(Error::invalid("token to revoke not found"));
    };
    b.store.revoke_orphan(&entry).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn revoke_takes_the_whole_tree() {
        let h = Harness::new().await;
        let parent = h.create(&h.root, json!({})).await;
        let child = h.create(&parent, json!({})).await;
        let grandchild = h.create(&child, json!({})).await;
        let resp = h
            .call(
                Operation::Update,
                "revoke",
                &h.root,
                json!({"token": parent.expose()}),
            )
            .await
            .unwrap();
        assert!(resp.is_none(), "204");
        for t in [&parent, &child, &grandchild] {
            assert!(h.backend.store.lookup(t.expose()).await.unwrap().is_none());
        }
        // Revoking again (unknown token) is still a 204.
        assert!(
            h.call(
                Operation::Update,
                "revoke",
                &h.root,
                json!({"token": parent.expose()})
            )
            .await
            .unwrap()
            .is_none()
        );
    }

    #[tokio::test]
    async fn revoke_self_and_accessor() {
        let h = Harness::new().await;
        let a = h.create(&h.root, json!({})).await;
        assert!(
            h.call(Operation::Update, "revoke-self", &a, json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.backend.store.lookup(a.expose()).await.unwrap().is_none());

        let resp = h
            .call(Operation::Update, "create", &h.root, json!({}))
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        let out = h
            .call(
                Operation::Update,
                "revoke-accessor",
                &h.root,
                json!({"accessor": auth.accessor}),
            )
            .await
            .unwrap();
        assert!(out.is_none());
        assert!(
            h.backend
                .store
                .lookup(&auth.client_token)
                .await
                .unwrap()
                .is_none()
        );
        let out = h
            .call(
                Operation::Update,
                "revoke-accessor",
                &h.root,
                json!({"accessor": auth.accessor}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.warnings, ["No token found with this accessor"]);
    }

    #[tokio::test]
    async fn revoke_orphan_requires_sudo_and_keeps_children() {
        let h = Harness::new().await;
        let parent = h.create(&h.root, json!({"policies": ["web"]})).await;
        let child = h.create(&parent, json!({})).await;
        let err = h
            .call(
                Operation::Update,
                "revoke-orphan",
                &parent,
                json!({"token": parent.expose()}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["root or sudo privileges required to revoke and orphan"]
        );
        assert!(
            h.call(
                Operation::Update,
                "revoke-orphan",
                &h.root,
                json!({"token": parent.expose()})
            )
            .await
            .unwrap()
            .is_none()
        );
        assert!(
            h.backend
                .store
                .lookup(parent.expose())
                .await
                .unwrap()
                .is_none()
        );
        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &child, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["orphan"], true);
        let err = h
            .call(
                Operation::Update,
                "revoke-orphan",
                &h.root,
                json!({"token": "hvs.nope"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["token to revoke not found"]);
    }
}
