//! `login/:username` and the renewal of the tokens it grants.

use std::collections::BTreeMap;

use coffer_sdk::cidr::allowed;
use coffer_sdk::token_fields::equivalent_policies;
use coffer_sdk::{Call, Context, FieldDef, FieldType, PathDef};
use coffer_types::{AliasGrant, LoginGrant, Operation, Response, Result, Sensitive};

use crate::{Userpass, UserpassError, hashing, user};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("username", FieldType::String, "Username of the user."),
    FieldDef::new("password", FieldType::String, "Password for this user.")
        .required()
        .sensitive(),
];

/// The declaration of `login/:username`.
pub(crate) fn def() -> PathDef {
    PathDef {
        pattern: "login/:username",
        fields: FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Log in with a username and password.",
        description: "This endpoint authenticates using a username and password.",
    }
}

/// Counts a failed login for this mount.
fn record_failure(ctx: &Context) {
    metrics::counter!(
        "coffer_login_failures_total",
        "mount" => ctx.config.accessor.clone(),
        "method" => "userpass"
    )
    .increment(1);
}

/// Checks the password and answers with a [`LoginGrant`]. An unknown user
/// and a wrong password fail alike, after the same Argon2id work. A user
/// bound to CIDR blocks can only log in from inside them (403 otherwise,
/// like Vault).
pub(crate) async fn login(_: &Userpass, call: &Call<'_>) -> Result<Option<Response>> {
    let (ctx, name) = (call.ctx, &user::from_call(call)?);
    let Some(password) = call
        .fields
        .get_string("password")?
        .map(Sensitive::new)
        .filter(|p| !p.is_empty())
    else {
        return Err(UserpassError::MissingPassword.into());
    };
    let loaded = user::load(&ctx.storage, name).await;
    let phc = match &loaded {
        Ok(Some(u)) if !u.password_hash.is_empty() => Some(u.password_hash.clone()),
        _ => None,
    };
    let matches = hashing::verify(password, phc).await;
    // A storage failure is reported only after the (dummy) hash work.
    let Some(entry) = loaded?.filter(|_| matches) else {
        record_failure(ctx);
        return Err(UserpassError::InvalidCredentials.into());
    };

    if !allowed(&entry.token.bound_cidr_blocks()?, call.req.client_addr) {
        record_failure(ctx);
        return Err(UserpassError::AddressNotAllowed.into());
    }

    let mut grant = LoginGrant {
        display_name: name.to_owned(),
        metadata: BTreeMap::from([("username".to_owned(), name.to_owned())]),
        alias: Some(AliasGrant {
            name: name.to_owned(),
            metadata: BTreeMap::new(),
        }),
        ..LoginGrant::default()
    };
    entry.token.apply_to_grant(&mut grant);
    Ok(Some(Response {
        login: Some(Box::new(grant)),
        ..Response::default()
    }))
}

/// Renewal of a token from a userpass login: refused when the user is gone
/// or its policies changed; otherwise the user's current TTL, max TTL and
/// period apply.
pub(crate) async fn renew(ctx: &Context, grant: &LoginGrant) -> Result<LoginGrant> {
    let Some(name) = grant.metadata.get("username").filter(|n| !n.is_empty()) else {
        return Err(UserpassError::MissingUsername.into());
    };
    let name = user::normalize(name).map_err(|_| UserpassError::UserGone)?;
    let Some(entry) = user::load(&ctx.storage, &name).await? else {
        return Err(UserpassError::UserGone.into());
    };
    if !equivalent_policies(&entry.token.policies, &grant.policies) {
        return Err(UserpassError::PoliciesChanged.into());
    }
    let mut renewed = grant.clone();
    renewed.period = entry.token.period;
    renewed.ttl = entry.token.ttl;
    renewed.max_ttl = entry.token.max_ttl;
    Ok(renewed)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::test_support::{CountingRecorder, Harness, ip};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn login_grant_carries_the_users_token_fields() {
        let h = Harness::new();
        h.ok(
            Operation::Create,
            "users/Jane",
            json!({
                "password": "s3cret", "token_policies": "dev,ops", "token_ttl": 600,
                "token_max_ttl": 3600, "token_num_uses": 4, "token_type": "service",
                "token_explicit_max_ttl": 7200, "token_no_default_policy": true
            }),
        )
        .await;
        let g = h.login("JANE", "s3cret").await.unwrap();
        assert_eq!(g.display_name, "jane");
        assert_eq!(g.metadata.get("username").map(String::as_str), Some("jane"));
        assert_eq!(g.alias.as_ref().map(|a| a.name.as_str()), Some("jane"));
        assert_eq!(g.policies, vec!["dev", "ops"]);
        assert_eq!(g.ttl, Duration::from_secs(600));
        assert_eq!(g.max_ttl, Duration::from_secs(3600));
        assert_eq!(g.explicit_max_ttl, Duration::from_secs(7200));
        assert_eq!(g.num_uses, 4);
        assert_eq!(g.token_type, "service");
        assert!(g.renewable && g.no_default_policy);
        assert!(g.bound_cidrs.is_empty());
    }

    #[tokio::test]
    async fn failures_are_alike_and_counted() {
        let recorder = CountingRecorder::default();
        let _guard = metrics::set_default_local_recorder(&recorder);
        let h = Harness::new();
        h.ok(Operation::Create, "users/kim", json!({"password": "right"}))
            .await;
        for (user, pw) in [("kim", "wrong"), ("nobody", "right"), ("kim", "Right")] {
            let err = h.login(user, pw).await.unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(err.messages(), ["invalid username or password"]);
        }
        assert_eq!(
            recorder.count("coffer_login_failures_total", "test_accessor", "userpass"),
            3
        );

        let err = h.login("kim", "").await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["missing password".to_owned()][..])
        );
        let err = h
            .call(Operation::Update, "login/kim", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["missing password"]);
        h.login("kim", "right").await.unwrap();
        assert_eq!(
            recorder.count("coffer_login_failures_total", "test_accessor", "userpass"),
            3
        );
    }

    #[tokio::test]
    async fn cidr_binding() {
        let recorder = CountingRecorder::default();
        let _guard = metrics::set_default_local_recorder(&recorder);
        let h = Harness::new();
        h.ok(
            Operation::Create,
            "users/lee",
            json!({"password": "pw", "token_bound_cidrs": "10.0.0.0/8,192.168.1.7"}),
        )
        .await;
        let g = h
            .login_from("lee", "pw", Some(ip("10.20.30.40")))
            .await
            .unwrap();
        assert_eq!(g.bound_cidrs, vec!["10.0.0.0/8", "192.168.1.7"]);
        h.login_from("lee", "pw", Some(ip("192.168.1.7")))
            .await
            .unwrap();
        for addr in [Some(ip("192.168.1.8")), Some(ip("::1")), None] {
            let err = h.login_from("lee", "pw", addr).await.unwrap_err();
            assert_eq!(err.status(), 403, "{addr:?}");
            assert_eq!(err.messages(), ["permission denied"]);
        }
        // A wrong password from outside is still the generic failure.
        let err = h.login_from("lee", "bad", None).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            recorder.count("coffer_login_failures_total", "test_accessor", "userpass"),
            4
        );

        // The deprecated name binds too; unbound users log in from anywhere.
        h.ok(
            Operation::Create,
            "users/max",
            json!({"password": "pw", "bound_cidrs": ["127.0.0.1"]}),
        )
        .await;
        assert_eq!(
            h.login_from("max", "pw", None).await.unwrap_err().status(),
            403
        );
        h.login_from("max", "pw", Some(ip("127.0.0.1")))
            .await
            .unwrap();
        h.ok(Operation::Create, "users/ned", json!({"password": "pw"}))
            .await;
        h.login_from("ned", "pw", None).await.unwrap();
        h.login_from("ned", "pw", Some(ip("8.8.8.8")))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn renewal_rules() {
        let h = Harness::new();
        h.ok(
            Operation::Create,
            "users/olga",
            json!({"password": "pw", "token_policies": "a,b", "token_ttl": 60, "token_max_ttl": 600}),
        )
        .await;
        let grant = h.login("olga", "pw").await.unwrap();
        h.clock.advance(Duration::from_secs(30));

        // TTL limits follow the user.
        h.ok(
            Operation::Update,
            "users/olga",
            json!({"token_ttl": 120, "token_max_ttl": 900, "token_period": 300}),
        )
        .await;
        let renewed = h.renew(&grant).await.unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(120));
        assert_eq!(renewed.max_ttl, Duration::from_secs(900));
        assert_eq!(renewed.period, Duration::from_secs(300));
        assert_eq!(renewed.policies, grant.policies);
        assert_eq!(renewed.metadata, grant.metadata);

        // Same set of policies in another order (and `default`) still renews.
        let mut reordered = grant.clone();
        reordered.policies = vec!["b".into(), "default".into(), "a".into()];
        h.renew(&reordered).await.unwrap();

        h.ok(
            Operation::Update,
            "users/olga/policies",
            json!({"token_policies": "a"}),
        )
        .await;
        let err = h.renew(&grant).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["policies have changed, not renewing".to_owned()][..])
        );

        h.ok(Operation::Delete, "users/olga", json!({})).await;
        let err = h.renew(&grant).await.unwrap_err();
        assert_eq!(err.messages(), ["user no longer exists"]);

        let mut anonymous = grant.clone();
        anonymous.metadata.clear();
        assert_eq!(
            h.renew(&anonymous).await.unwrap_err().messages(),
            ["missing username"]
        );
    }
}
