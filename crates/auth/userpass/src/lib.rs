//! Vault's `userpass` auth method, API-compatible with
//! `/v1/auth/<mount>/...`:
//!
//! - `users/:username`: create/update (`password`, required on create, plus
//!   the `token_*` fields and the deprecated `policies`, `ttl`, `max_ttl`,
//!   `bound_cidrs`), read (token fields only, never the password or its
//!   hash), delete; `users` lists usernames.
//! - `users/:username/password` and `users/:username/policies`: targeted
//!   updates.
//! - `login/:username` (unauthenticated): checks the password and answers
//!   with a [`coffer_types::LoginGrant`]; the core creates the token.
//!
//! Usernames are lowercased. Passwords are stored only as Argon2id PHC
//! strings (via `coffer-crypto`). Failed logins take the same hash work
//! whether or not the user exists, answer Vault's 400 `invalid username or
//! password`, and increment `coffer_login_failures_total{mount, method}`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod error;
mod hashing;
mod path_login;
mod path_password;
mod path_policies;
mod path_users;
mod user;

#[cfg(test)]
mod test_support;

pub use backend::Userpass;
pub use error::UserpassError;

#[cfg(test)]
mod tests {
    use crate::test_support::Harness;
    use coffer_types::Operation;
    use serde_json::json;

    const CANARY: &str = "canary-Pa55w0rd-7f3e";

    #[tokio::test]
    async fn passwords_never_leak() {
        let h = Harness::new();
        let first = format!("{CANARY}-first");
        let second = format!("{CANARY}-second");
        let mut seen = Vec::new();
        let resp = h
            .call(
                Operation::Create,
                "users/quinn",
                json!({"password": first, "token_policies": "p"}),
            )
            .await;
        seen.push(format!("{resp:?}"));
        let resp = h
            .call(
                Operation::Update,
                "users/quinn/password",
                json!({"password": second}),
            )
            .await;
        seen.push(format!("{resp:?}"));
        let resp = h
            .call(Operation::Update, "users/quinn", json!({"password": first}))
            .await;
        seen.push(format!("{resp:?}"));
        for (user, pw) in [
            ("quinn", CANARY),
            ("quinn", first.as_str()),
            ("ghost", CANARY),
        ] {
            let err = h.login(user, pw).await;
            seen.push(format!("{err:?}"));
        }
        let err = h
            .call(
                Operation::Update,
                "login/quinn",
                json!({"password": {"x": CANARY}}),
            )
            .await;
        assert_eq!(err.as_ref().unwrap_err().status(), 400);
        seen.push(format!("{err:?}"));
        let grant = h.login("quinn", &first).await.unwrap();
        seen.push(format!("{grant:?}"));
        seen.push(serde_json::to_string(&grant).unwrap());
        let read = h.call(Operation::Read, "users/quinn", json!({})).await;
        seen.push(format!(
            "{:?}",
            read.as_ref().unwrap().as_ref().unwrap().data
        ));
        seen.push(format!("{read:?}"));
        let entry = crate::user::load(&h.ctx.storage, "quinn")
            .await
            .unwrap()
            .unwrap();
        seen.push(format!("{entry:?}"));

        for text in &seen {
            assert!(!text.contains("canary"), "leak: {text}");
            assert!(!text.contains("argon2"), "hash leak: {text}");
        }
        let stored = h.stored().await;
        assert_eq!(stored.len(), 1, "one user record");
        for (key, value) in stored {
            assert!(!key.contains("canary"));
            assert!(
                !value.windows(6).any(|w| w == b"canary"),
                "password in clear at {key}"
            );
            // What is stored is an Argon2id PHC string.
            let text = String::from_utf8(value).unwrap();
            assert!(text.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{key}");
        }
    }
}
