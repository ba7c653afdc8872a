//! Looking up and destroying one secret id, by its value
//! (`role/:role_name/secret-id/{lookup,destroy}`) or by its accessor
//! (`role/:role_name/secret-id-accessor/{lookup,destroy}`).

use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result, Sensitive};

use crate::AppRole;
use crate::env::{self, Env, trimmed};
use crate::error::AppRoleError;
use crate::path_role::ROLE_NAME;
use crate::role::Role;
use crate::secret_id::SecretIdEntry;

const BY_VALUE: &[FieldDef] = &[
    ROLE_NAME,
    FieldDef::new(
        "secret_id",
        FieldType::String,
        "SecretID attached to the role.",
    )
    .required()
    .sensitive(),
];

const BY_ACCESSOR: &[FieldDef] = &[
    ROLE_NAME,
    FieldDef::new(
        "secret_id_accessor",
        FieldType::String,
        "Accessor of the SecretID",
    )
    .required(),
];

/// Which of the four operations a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `secret-id/lookup`.
    Lookup,
    /// `secret-id/destroy`.
    Destroy,
    /// `secret-id-accessor/lookup`.
    AccessorLookup,
    /// `secret-id-accessor/destroy`.
    AccessorDestroy,
}

/// `role/:role_name/secret-id/lookup`.
pub(crate) fn lookup_definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name/secret-id/lookup",
        fields: BY_VALUE,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Read the properties of an issued secret_id",
        description: "This endpoint is used to read the properties of a secret_id associated to a\nrole.",
    }
}

/// `role/:role_name/secret-id/destroy`.
pub(crate) fn destroy_definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name/secret-id/destroy",
        fields: BY_VALUE,
        operations: &[Operation::Update, Operation::Delete],
        existence_check: false,
        synopsis: "Invalidate an issued secret_id",
        description: "This endpoint is used to delete the properties of a secret_id associated to a\nrole.",
    }
}

/// `role/:role_name/secret-id-accessor/lookup`.
pub(crate) fn accessor_lookup_definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name/secret-id-accessor/lookup",
        fields: BY_ACCESSOR,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Read an issued secret_id, using its accessor",
        description: "This is particularly useful to lookup the non-expiring 'secret_id's.
The list operation on the 'role/<role_name>/secret-id' endpoint will return
the 'secret_id_accessor's. This endpoint can be used to read the properties
of the secret. If the 'secret_id_num_uses' field in the response is 0, it
represents a non-expiring 'secret_id'.",
    }
}

/// `role/:role_name/secret-id-accessor/destroy`.
pub(crate) fn accessor_destroy_definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name/secret-id-accessor/destroy",
        fields: BY_ACCESSOR,
        operations: &[Operation::Update, Operation::Delete],
        existence_check: false,
        synopsis: "Delete an issued secret_id, using its accessor",
        description: "This is particularly useful to clean-up the non-expiring 'secret_id's.
The list operation on the 'role/<role_name>/secret-id' endpoint will return
the 'secret_id_accessor's. This endpoint can be used to read the properties
of the secret. If the 'secret_id_num_uses' field in the response is 0, it
represents a non-expiring 'secret_id'.",
    }
}

/// `secret-id/lookup`: the properties of a secret id given by value.
pub(crate) async fn lookup(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    handle(&Env::open(b, call).await?, Op::Lookup).await
}

/// `secret-id/destroy`: removes a secret id given by value.
pub(crate) async fn destroy(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    handle(&Env::open(b, call).await?, Op::Destroy).await
}

/// `secret-id-accessor/lookup`: the properties of a secret id given by
/// accessor.
pub(crate) async fn accessor_lookup(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    handle(&Env::open(b, call).await?, Op::AccessorLookup).await
}

/// `secret-id-accessor/destroy`: removes a secret id given by accessor.
pub(crate) async fn accessor_destroy(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    handle(&Env::open(b, call).await?, Op::AccessorDestroy).await
}

/// Handles one of the four operations.
async fn handle(env: &Env<'_>, op: Op) -> Result<Option<Response>> {
    let by_value = matches!(op, Op::Lookup | Op::Destroy);
    let name = env.role_name()?;
    let field = if by_value {
        "secret_id"
    } else {
        "secret_id_accessor"
    };
    let given = Sensitive::new(trimmed(&env.fields, field)?);
    if given.is_empty() {
        return Err(AppRoleError::Missing(field).into());
    }

    let _guard = env.lock.write().await;
    let Some(role) = env.store.role(&name).await? else {
        return Err(AppRoleError::RoleDoesNotExist(name).into());
    };
    let entry = if by_value {
        by_secret_id(env, &role, given.expose()).await?
    } else {
        by_accessor(env, &role, given.expose(), op).await?
    };
    let Some(entry) = entry else {
        return Ok(None);
    };
    match op {
        Op::Lookup | Op::AccessorLookup => Ok(env::data(entry.to_response())),
        Op::Destroy | Op::AccessorDestroy => {
            env.store.delete_secret_id(&role, &entry).await?;
            Ok(None)
        }
    }
}

/// The entry of a secret id given by value. One whose accessor index is gone
/// is removed and reported as invalid, as Vault does.
async fn by_secret_id(
    env: &Env<'_>,
    role: &Role,
    secret_id: &str,
) -> Result<Option<SecretIdEntry>> {
    let hmac = env.store.secret_id_hmac(secret_id);
    let Some(entry) = env.store.secret_id(role, &hmac).await? else {
        return Ok(None);
    };
    if env.store.accessor(role, &entry.accessor).await?.is_none() {
        env.store.delete_secret_id(role, &entry).await?;
        return Err(AppRoleError::InvalidSecretId.into());
    }
    Ok(Some(entry))
}

/// The entry of a secret id given by accessor.
async fn by_accessor(
    env: &Env<'_>,
    role: &Role,
    accessor: &str,
    op: Op,
) -> Result<Option<SecretIdEntry>> {
    let Some(index) = env.store.accessor(role, accessor).await? else {
        return Err(AppRoleError::AccessorNotFound(accessor.to_owned()).into());
    };
    match env.store.secret_id(role, &index.secret_id_hmac).await? {
        Some(entry) => Ok(Some(entry)),
        None if op == Op::AccessorDestroy => Err(AppRoleError::InvalidAccessor.into()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn lookup_and_destroy_by_value() {
        let h = Harness::new();
        h.call(Operation::Create, "role/web", json!({}))
            .await
            .unwrap();
        let secret = h
            .secret_id(
                "web",
                json!({"metadata": "{\"tag1\": \"production\"}", "ttl": 60}),
            )
            .await;

        let data = body(
            &h.call(
                Operation::Update,
                "role/web/secret-id/lookup",
                json!({"secret_id": secret}),
            )
            .await
            .unwrap()
            .unwrap(),
        );
        assert_eq!(data["metadata"], json!({"tag1": "production"}));
        assert_eq!(data["secret_id_ttl"], json!(60));
        assert_eq!(data["secret_id_num_uses"], json!(0));
        assert_eq!(
            data["creation_time"],
            json!("2023-11-14T22:13:20.123456789Z")
        );
        assert_eq!(
            data["expiration_time"],
            json!("2023-11-14T22:14:20.123456789Z")
        );
        assert_eq!(data["cidr_list"], json!([]));
        assert_eq!(data["token_bound_cidrs"], json!([]));
        assert!(data.get("secret_id").is_none());

        // Unknown secret ids look up as nothing (204).
        assert!(
            h.call(
                Operation::Update,
                "role/web/secret-id/lookup",
                json!({"secret_id": "nope"})
            )
            .await
            .unwrap()
            .is_none()
        );

        assert!(
            h.call(
                Operation::Delete,
                "role/web/secret-id/destroy",
                json!({"secret_id": secret})
            )
            .await
            .unwrap()
            .is_none()
        );
        assert!(
            h.call(
                Operation::Update,
                "role/web/secret-id/lookup",
                json!({"secret_id": secret})
            )
            .await
            .unwrap()
            .is_none()
        );
        let role_id = h.role_id("web").await;
        assert!(h.login(&role_id, &secret, None).await.is_err());
    }

    #[tokio::test]
    async fn lookup_and_destroy_by_accessor() {
        let h = Harness::new();
        h.call(Operation::Create, "role/web", json!({}))
            .await
            .unwrap();
        h.call(Operation::Create, "role/other", json!({}))
            .await
            .unwrap();
        let resp = h
            .call(
                Operation::Update,
                "role/web/secret-id",
                json!({"cidr_list": "10.0.0.0/8"}),
            )
            .await
            .unwrap()
            .unwrap();
        let data = body(&resp);
        let accessor = data["secret_id_accessor"].as_str().unwrap().to_owned();
        let secret = data["secret_id"].as_str().unwrap().to_owned();

        let looked = body(
            &h.call(
                Operation::Update,
                "role/web/secret-id-accessor/lookup",
                json!({"secret_id_accessor": accessor}),
            )
            .await
            .unwrap()
            .unwrap(),
        );
        assert_eq!(looked["secret_id_accessor"], json!(accessor));
        assert_eq!(looked["cidr_list"], json!(["10.0.0.0/8"]));

        // An accessor of another role's secret id is not found there.
        let err = h
            .call(
                Operation::Update,
                "role/other/secret-id-accessor/lookup",
                json!({"secret_id_accessor": accessor}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(
            err.messages(),
            [format!(
                "failed to find accessor entry for secret_id_accessor: {accessor:?}"
            )]
        );

        h.call(
            Operation::Update,
            "role/web/secret-id-accessor/destroy",
            json!({"secret_id_accessor": accessor}),
        )
        .await
        .unwrap();
        let err = h
            .call(
                Operation::Update,
                "role/web/secret-id-accessor/lookup",
                json!({"secret_id_accessor": accessor}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        let role_id = h.role_id("web").await;
        let ip = Some("10.1.2.3".parse().unwrap());
        assert_eq!(
            h.login(&role_id, &secret, ip).await.unwrap_err().messages(),
            ["invalid role or secret ID"]
        );
    }

    #[tokio::test]
    async fn errors() {
        let h = Harness::new();
        let err = h
            .call(Operation::Update, "role/web/secret-id/lookup", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing secret_id"]);
        let err = h
            .call(
                Operation::Update,
                "role/web/secret-id-accessor/destroy",
                json!({}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing secret_id_accessor"]);
        let err = h
            .call(
                Operation::Update,
                "role/web/secret-id/destroy",
                json!({"secret_id": "x"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["role \"web\" does not exist"]);
        let err = h
            .call(Operation::Read, "role/web/secret-id/lookup", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }
}
