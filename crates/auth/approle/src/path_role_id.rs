//! `role/:role_name/role-id`: read the role id, or set a custom one.

use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result};

use crate::AppRole;
use crate::env::{self, Env};
use crate::error::AppRoleError;
use crate::path_role::ROLE_NAME;
use crate::role::MAX_NAME_LEN;

const FIELDS: &[FieldDef] = &[
    ROLE_NAME,
    FieldDef::new(
        "role_id",
        FieldType::String,
        "Identifier of the role. Defaults to a UUID.",
    )
    .required()
    .sensitive(),
];

/// The path declaration.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name/role-id",
        fields: FIELDS,
        operations: &[Operation::Read, Operation::Update],
        existence_check: false,
        synopsis: "Returns the 'role_id' of the role.",
        description: "If login is performed from an role, then its 'role_id' should be presented
as a credential during the login. This 'role_id' can be retrieved using
this endpoint.",
    }
}

/// READ: the role id; a bare 404 when the role does not exist.
pub(crate) async fn read(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    Ok(env::one("role_id", env.role_for_read().await?.role_id))
}

/// UPDATE: sets a custom role id, unique across the mount's roles.
pub(crate) async fn update(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    let name = env.role_name()?;
    let _guard = env.lock.write().await;
    let Some(mut role) = env.store.role(&name).await? else {
        return Err(AppRoleError::UnsupportedPath.into());
    };
    let role_id = env.fields.get_string("role_id")?.unwrap_or_default();
    if role_id.is_empty() {
        return Err(AppRoleError::Missing("role_id").into());
    }
    if role_id.len() > MAX_NAME_LEN {
        return Err(AppRoleError::ValueTooLong.into());
    }
    let previous = std::mem::replace(&mut role.role_id, role_id);
    env.store.put_role(&role, Some(&previous)).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn generated_then_custom_role_id() {
        let h = Harness::new();
        h.call(Operation::Create, "role/web", json!({}))
            .await
            .unwrap();
        let generated = body(&h.read("role/web/role-id").await)["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(generated.len(), 36, "a UUID");

        h.call(
            Operation::Update,
            "role/web/role-id",
            json!({"role_id": "custom-role-id"}),
        )
        .await
        .unwrap();
        assert_eq!(
            body(&h.read("role/web/role-id").await),
            json!({"role_id": "custom-role-id"})
        );
        // Logins use the new id; the old one no longer names the role.
        let secret = h.secret_id("web", json!({})).await;
        h.login("custom-role-id", &secret, None).await.unwrap();
        let err = h.login(&generated, &secret, None).await.unwrap_err();
        assert_eq!(err.messages(), ["invalid role or secret ID"]);
    }

    #[tokio::test]
    async fn errors() {
        let h = Harness::new();
        assert_eq!(
            h.call(Operation::Read, "role/none/role-id", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        let err = h
            .call(
                Operation::Update,
                "role/none/role-id",
                json!({"role_id": "x"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        h.call(Operation::Create, "role/a", json!({"role_id": "taken"}))
            .await
            .unwrap();
        h.call(Operation::Create, "role/b", json!({}))
            .await
            .unwrap();
        let err = h
            .call(Operation::Update, "role/b/role-id", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing role_id"]);
        let err = h
            .call(
                Operation::Update,
                "role/b/role-id",
                json!({"role_id": "taken"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["role_id already in use"]);
    }
}
