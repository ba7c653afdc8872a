//! `users/:username/password`: reset a user's password.

use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result, Sensitive};

use crate::{Userpass, UserpassError, hashing, user};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("username", FieldType::String, "Username for this user."),
    FieldDef::new("password", FieldType::String, "Password for this user.")
        .required()
        .sensitive(),
];

/// The declaration of `users/:username/password`.
pub(crate) fn def() -> PathDef {
    PathDef {
        pattern: "users/:username/password",
        fields: FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Reset user's password.",
        description: "This endpoint allows resetting the user's password.",
    }
}

/// Replaces the password of an existing user.
pub(crate) async fn update(b: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let (ctx, name) = (call.ctx, &user::from_call(call)?);
    let password = call.fields.get_string("password")?.map(Sensitive::new);
    let _guard = b.write_lock.lock().await;
    let Some(mut entry) = user::load(&ctx.storage, name).await? else {
        return Err(UserpassError::UserNotFound.into());
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(UserpassError::MissingPassword.into());
    };
    entry.password_hash = hashing::hash(password).await?;
    user::save(&ctx.storage, name, &entry).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::test_support::Harness;
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn resets_the_password() {
        let h = Harness::new();
        let err = h
            .call(
                Operation::Update,
                "users/hank/password",
                json!({"password": "x"}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["username does not exist".to_owned()][..])
        );

        h.ok(
            Operation::Create,
            "users/hank",
            json!({"password": "old", "token_policies": "p"}),
        )
        .await;
        let err = h
            .call(Operation::Update, "users/hank/password", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing password"]);
        h.ok(
            Operation::Update,
            "users/HANK/password",
            json!({"password": "new"}),
        )
        .await;
        assert_eq!(h.login("hank", "old").await.unwrap_err().status(), 400);
        let grant = h.login("hank", "new").await.unwrap();
        // The token fields were untouched.
        assert_eq!(grant.policies, vec!["p"]);
        let err = h
            .call(Operation::Read, "users/hank/password", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }
}
