//! `users/:username` (create, update, read, delete) and `users` (list).

use coffer_sdk::token_fields::TokenFields;
use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Error, Operation, Response, Result, Sensitive};
use serde_json::Map;

use crate::{Userpass, UserpassError, hashing, user};

/// The fields of `users/:username`: Vault's, including the token fields and
/// the deprecated names userpass accepts.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef::new("username", FieldType::String, "Username for this user."),
    FieldDef::new("password", FieldType::String, "Password for this user.").sensitive(),
    TokenFields::TOKEN_BOUND_CIDRS,
    TokenFields::TOKEN_EXPLICIT_MAX_TTL,
    TokenFields::TOKEN_MAX_TTL,
    TokenFields::TOKEN_NO_DEFAULT_POLICY,
    TokenFields::TOKEN_PERIOD,
    TokenFields::TOKEN_POLICIES,
    TokenFields::TOKEN_TYPE,
    TokenFields::TOKEN_TTL,
    TokenFields::TOKEN_NUM_USES,
    TokenFields::LEGACY_POLICIES,
    TokenFields::LEGACY_TTL,
    TokenFields::LEGACY_MAX_TTL,
    TokenFields::LEGACY_BOUND_CIDRS,
];

const SYNOPSIS: &str = "Manage users allowed to authenticate.";

const DESCRIPTION: &str = "This endpoint allows you to create, read, update, and delete users
that are allowed to authenticate.

Deleting a user will not revoke auth for prior authenticated users
with that name. To do this, do a revoke on \"login/<username>\" for
the username you want revoked. If you don't need to revoke login immediately,
then the next renew will cause the lease to expire.";

/// The declaration of `users/:username`.
pub(crate) fn user_def() -> PathDef {
    PathDef {
        pattern: "users/:username",
        fields: FIELDS,
        operations: &[
            Operation::Read,
            Operation::Create,
            Operation::Update,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: SYNOPSIS,
        description: DESCRIPTION,
    }
}

/// The declaration of `users` (LIST).
pub(crate) fn list_def() -> PathDef {
    PathDef {
        pattern: "users",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: SYNOPSIS,
        description: DESCRIPTION,
    }
}

/// Reads a user: its token fields, never its password or hash; 404 if absent.
pub(crate) async fn read(_: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let name = user::from_call(call)?;
    let Some(entry) = user::load(&call.ctx.storage, &name).await? else {
        return Err(Error::not_found());
    };
    let mut data = Map::new();
    entry.token.to_response_map(&mut data);
    Ok(Some(Response::with_data(data)))
}

/// Creates or updates a user. A new user needs a password; a password given
/// on update replaces the old one.
pub(crate) async fn write(b: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let (ctx, name, fields) = (call.ctx, &user::from_call(call)?, &call.fields);
    let password = fields.get_string("password")?.map(Sensitive::new);
    let _guard = b.write_lock.lock().await;
    let existing = user::load(&ctx.storage, name).await?;
    // A write to a missing user is a create, whatever the core called it.
    if existing.is_none() && password.as_ref().is_none_or(Sensitive::is_empty) {
        return Err(UserpassError::MissingPassword.into());
    }
    let mut entry = existing.unwrap_or_default();
    entry.token.parse_update(fields)?;
    if let Some(password) = password {
        if password.is_empty() {
            return Err(UserpassError::MissingPassword.into());
        }
        entry.password_hash = hashing::hash(password).await?;
    }
    user::save(&ctx.storage, name, &entry).await?;
    Ok(None)
}

/// Deletes a user (no error if absent). Tokens issued to it stay valid
/// until they expire; their renewal is refused.
pub(crate) async fn delete(b: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let name = user::from_call(call)?;
    let _guard = b.write_lock.lock().await;
    user::delete(&call.ctx.storage, &name).await?;
    Ok(None)
}

/// Whether the user exists: a write to a new user is a `create`.
pub(crate) async fn exists(_: &Userpass, call: &Call<'_>) -> Result<bool> {
    let name = user::from_call(call)?;
    Ok(user::load(&call.ctx.storage, &name).await?.is_some())
}

/// Lists usernames; 404 when there are none, as Vault answers.
pub(crate) async fn list(_: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(user::list(&call.ctx.storage).await?)
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn create_read_update_delete_list() {
        let h = Harness::new();
        let err = h
            .call(Operation::List, "users", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);

        h.ok(
            Operation::Create,
            "users/Alice",
            json!({"password": "pw1", "token_policies": "dev,ops", "token_ttl": "1h"}),
        )
        .await;
        h.ok(Operation::Create, "users/bob", json!({"password": "pw2"}))
            .await;

        let resp = h
            .call(Operation::Read, "users/ALICE", json!({}))
            .await
            .unwrap()
            .unwrap();
        let data = body(&resp);
        assert_eq!(data["token_policies"], json!(["dev", "ops"]));
        assert_eq!(data["token_ttl"], json!(3600));
        assert_eq!(data["token_type"], json!("default"));
        assert!(data.get("password").is_none() && data.get("password_hash").is_none());
        assert!(!data.to_string().contains("argon2"), "{data}");

        let resp = h
            .call(Operation::List, "users", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["alice", "bob"]}));

        // Update without a password keeps the old one and changes only what is given.
        h.ok(
            Operation::Update,
            "users/alice",
            json!({"token_max_ttl": 7200}),
        )
        .await;
        let data = body(
            &h.call(Operation::Read, "users/alice", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(data["token_policies"], json!(["dev", "ops"]));
        assert_eq!(data["token_max_ttl"], json!(7200));
        h.login("alice", "pw1").await.unwrap();

        h.ok(Operation::Delete, "users/Alice", json!({})).await;
        h.ok(Operation::Delete, "users/alice", json!({})).await;
        let err = h
            .call(Operation::Read, "users/alice", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        let resp = h
            .call(Operation::List, "users", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["bob"]}));
    }

    #[tokio::test]
    async fn password_rules() {
        let h = Harness::new();
        for body in [
            json!({}),
            json!({"password": ""}),
            json!({"token_policies": "a"}),
        ] {
            let err = h
                .call(Operation::Create, "users/carol", body.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert_eq!(err.messages(), ["missing password"]);
        }
        // An update of a missing user is still a create.
        let err = h
            .call(Operation::Update, "users/carol", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing password"]);
        h.ok(Operation::Create, "users/carol", json!({"password": "one"}))
            .await;
        let err = h
            .call(Operation::Update, "users/carol", json!({"password": ""}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing password"]);
        h.ok(Operation::Update, "users/carol", json!({"password": "two"}))
            .await;
        assert_eq!(h.login("carol", "one").await.unwrap_err().status(), 400);
        h.login("carol", "two").await.unwrap();
    }

    #[tokio::test]
    async fn invalid_token_fields_are_rejected_and_nothing_is_stored() {
        let h = Harness::new();
        let err = h
            .call(
                Operation::Create,
                "users/dave",
                json!({"password": "x", "token_type": "odd"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.messages(), ["invalid 'token_type' value \"odd\""]);
        assert_eq!(
            h.call(Operation::Read, "users/dave", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        let err = h
            .call(
                Operation::Create,
                "users/dave",
                json!({"password": "x", "token_ttl": "soon"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn legacy_fields_round_trip() {
        let h = Harness::new();
        h.ok(
            Operation::Create,
            "users/erin",
            json!({"password": "x", "policies": "B,a", "ttl": 60, "max_ttl": 120, "bound_cidrs": "10.0.0.0/8"}),
        )
        .await;
        let data = body(
            &h.call(Operation::Read, "users/erin", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(data["policies"], json!(["a", "b"]));
        assert_eq!(data["token_policies"], json!(["a", "b"]));
        assert_eq!(data["ttl"], json!(60));
        assert_eq!(data["token_max_ttl"], json!(120));
        assert_eq!(data["bound_cidrs"], json!(["10.0.0.0/8"]));
        assert_eq!(data["token_bound_cidrs"], json!(["10.0.0.0/8"]));
    }

    #[tokio::test]
    async fn full_token_field_round_trip() {
        let h = Harness::new();
        h.ok(
            Operation::Create,
            "users/frank",
            json!({
                "password": "x", "token_policies": ["p1", "p2"], "token_ttl": "10m",
                "token_max_ttl": "1h", "token_period": 0, "token_explicit_max_ttl": "2h",
                "token_num_uses": 5, "token_bound_cidrs": "127.0.0.1,10.0.0.0/8",
                "token_type": "service", "token_no_default_policy": true
            }),
        )
        .await;
        let data = body(
            &h.call(Operation::Read, "users/frank", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(
            data,
            json!({
                "token_bound_cidrs": ["127.0.0.1", "10.0.0.0/8"], "token_explicit_max_ttl": 7200,
                "token_max_ttl": 3600, "token_no_default_policy": true, "token_period": 0,
                "token_policies": ["p1", "p2"], "token_type": "service", "token_ttl": 600,
                "token_num_uses": 5
            })
        );
    }

    #[tokio::test]
    async fn invalid_names_and_unknown_fields() {
        let h = Harness::new();
        let err = h
            .call(Operation::Create, "users/-bad", json!({"password": "x"}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        let resp = h
            .call(
                Operation::Create,
                "users/gina",
                json!({"password": "x", "bogus": 1}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
        // Reads and lists are not accepted on unrelated operations.
        let err = h
            .call(Operation::List, "users/gina", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }
}
