//! `users/:username/policies`: replace a user's token policies.

use coffer_sdk::token_fields::{TokenFields, sanitize_policies};
use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result};

use crate::{Userpass, UserpassError, user};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("username", FieldType::String, "Username for this user."),
    TokenFields::LEGACY_POLICIES,
    TokenFields::TOKEN_POLICIES,
];

/// The declaration of `users/:username/policies`.
pub(crate) fn def() -> PathDef {
    PathDef {
        pattern: "users/:username/policies",
        fields: FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Update the policies associated with the username.",
        description: "This endpoint allows updating the policies associated with the username.",
    }
}

/// Sets `token_policies` (or the deprecated `policies`) of an existing user;
/// both are normalized as Vault's `ParsePolicies` does on this path.
pub(crate) async fn update(b: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let (ctx, name) = (call.ctx, &user::from_call(call)?);
    let token_policies = call.fields.get_string_list("token_policies")?;
    let legacy = call.fields.get_string_list("policies")?;
    let _guard = b.write_lock.lock().await;
    let Some(mut entry) = user::load(&ctx.storage, name).await? else {
        return Err(UserpassError::UserNotFound.into());
    };
    let t = &mut entry.token;
    match (token_policies, legacy) {
        (Some(new), legacy) => {
            t.policies = sanitize_policies(new);
            t.legacy.policies = if legacy.is_some() {
                t.policies.clone()
            } else {
                Vec::new()
            };
        }
        (None, Some(old)) => {
            t.legacy.policies = sanitize_policies(old);
            t.policies = t.legacy.policies.clone();
        }
        (None, None) => {}
    }
    user::save(&ctx.storage, name, &entry).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn updates_policies() {
        let h = Harness::new();
        let err = h
            .call(
                Operation::Update,
                "users/ivy/policies",
                json!({"token_policies": "a"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["username does not exist"]);

        h.ok(
            Operation::Create,
            "users/ivy",
            json!({"password": "x", "token_policies": "a"}),
        )
        .await;
        h.ok(
            Operation::Update,
            "users/ivy/policies",
            json!({"token_policies": "Z, b,b"}),
        )
        .await;
        let data = body(
            &h.call(Operation::Read, "users/ivy", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(data["token_policies"], json!(["b", "z"]));
        assert!(data.get("policies").is_none());

        h.ok(
            Operation::Update,
            "users/ivy/policies",
            json!({"policies": ["q"]}),
        )
        .await;
        let data = body(
            &h.call(Operation::Read, "users/ivy", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(data["token_policies"], json!(["q"]));
        assert_eq!(data["policies"], json!(["q"]));
        assert_eq!(h.login("ivy", "x").await.unwrap().policies, vec!["q"]);
    }
}
