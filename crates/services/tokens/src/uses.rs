//! Use counting and renewal.

use coffer_types::duration::time_after;
use std::time::Duration;

use crate::ttl::{TtlInput, calculate_ttl, nonzero_min};
use crate::{Result, TokenEntry, TokenError, TokenStore, equivalent_policies};

impl TokenStore {
    /// Consumes one use of a token with `num_uses > 0` and returns the entry
    /// after the use; `None` if the token is no longer valid. When the last
    /// use is spent the token is revoked at once (the request spending it
    /// still succeeds: the caller already holds the entry). Tokens with
    /// unlimited uses are returned unchanged.
    pub async fn use_token(&self, entry: &TokenEntry) -> Result<Option<TokenEntry>> {
        self.use_token_inner(entry, false).await
    }

    /// Like [`TokenStore::use_token`], but when the last use is spent the token
    /// is only marked for revocation (it stops authenticating at once, but
    /// its cubbyhole survives): the caller must call
    /// [`TokenStore::revoke_tree`] once the request is done. This is what
    /// Vault does for response-wrapping tokens, whose single use reads their
    /// own cubbyhole.
    pub async fn use_token_deferred(&self, entry: &TokenEntry) -> Result<Option<TokenEntry>> {
        self.use_token_inner(entry, true).await
    }

    async fn use_token_inner(&self, entry: &TokenEntry, defer: bool) -> Result<Option<TokenEntry>> {
        if entry.num_uses == 0 {
            return Ok(Some(entry.clone()));
        }
        let _guard = self.lock.lock().await;
        let Some(mut current) = self.resolve_locked(&entry.id_hash, false).await? else {
            return Ok(None);
        };
        if current.num_uses == 0 {
            return Ok(Some(current));
        }
        current.num_uses -= 1;
        if current.num_uses > 0 {
            self.save(&current).await?;
        } else if defer {
            current.revocation_pending = true;
            self.save(&current).await?;
        } else {
            self.revoke_tree_locked(&current.id_hash).await?;
        }
        Ok(Some(current))
    }

    /// Renews a token: Vault's rules (periodic tokens get their period; others
    /// the increment, else their last TTL; never past creation +
    /// min(system max, backend max, explicit max), except that periodic
    /// tokens without an explicit max have no lifetime cap). Returns the
    /// updated entry and warnings. Non-renewable and non-expiring tokens fail
    /// with [`TokenError::NotRenewable`], batch tokens with
    /// [`TokenError::Batch`].
    ///
    /// A login token (one with a [`TokenEntry::login_grant`]) is first
    /// offered to the [`LoginRenewer`](crate::LoginRenewer), outside the
    /// store's lock: its refusal is returned as is
    /// ([`TokenError::LoginRefused`]); changed policies fail with
    /// [`TokenError::PoliciesChanged`]; otherwise the refreshed grant's TTL,
    /// max TTL and period drive the new TTL (an explicit max TTL can only
    /// shrink), and the grant replaces the stored one.
    pub async fn renew(
        &self,
        entry: &TokenEntry,
        increment: Duration,
    ) -> Result<(TokenEntry, Vec<String>)> {
        if entry.is_batch() {
            return Err(TokenError::Batch("batch tokens cannot be renewed"));
        }
        let Some(current) = self.resolve(&entry.id_hash, false).await? else {
            return Err(TokenError::invalid("token not found"));
        };
        if current.expire_time.is_none() || !current.renewable {
            return Err(TokenError::NotRenewable);
        }
        let refreshed = match &current.login_grant {
            None => None,
            Some(grant) => {
                let renewer = self.login_renewer().ok_or(TokenError::NoLoginRenewer)?;
                let fresh = renewer
                    .renew_login(&current, grant)
                    .await
                    .map_err(TokenError::LoginRefused)?;
                if !equivalent_policies(&grant.policies, &fresh.policies) {
                    return Err(TokenError::PoliciesChanged);
                }
                Some(fresh)
            }
        };

        let _guard = self.lock.lock().await;
        let Some(mut current) = self.resolve_locked(&entry.id_hash, false).await? else {
            return Err(TokenError::invalid("token not found"));
        };
        if current.expire_time.is_none() || !current.renewable {
            return Err(TokenError::NotRenewable);
        }
        let now = self.clock.now();
        let mut input = TtlInput {
            increment,
            backend_ttl: current.ttl,
            period: current.period,
            backend_max_ttl: current.max_ttl,
            explicit_max_ttl: current.explicit_max_ttl,
            start: current.creation_time,
            now,
        };
        if let Some(grant) = &refreshed {
            input.backend_ttl = grant.ttl;
            input.period = grant.period;
            input.backend_max_ttl = grant.max_ttl;
            input.explicit_max_ttl = nonzero_min(current.explicit_max_ttl, grant.explicit_max_ttl);
        }
        let (ttl, warnings) = calculate_ttl(self.limits, &input)?;
        if let Some(grant) = refreshed {
            current.period = input.period;
            current.max_ttl = input.backend_max_ttl;
            current.explicit_max_ttl = input.explicit_max_ttl;
            current.renewable = grant.renewable;
            current.login_grant = Some(grant);
        }
        current.ttl = ttl;
        current.expire_time = Some(time_after(now, ttl));
        current.last_renewal_time = Some(now);
        self.save(&current).await?;
        Ok((current, warnings))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::store::tests::{Recorder, fixture};
    use crate::{CreateParams, LoginRenewer, TokenEntry, TokenError};
    use coffer_types::LoginGrant;

    #[tokio::test]
    async fn num_uses_are_consumed_and_the_last_use_succeeds() {
        let f = fixture();
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let (token, entry) = f
            .store
            .create(CreateParams {
                num_uses: 2,
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let first = f.store.use_token(&entry).await.unwrap().unwrap();
        assert_eq!(first.num_uses, 1);
        assert_eq!(
            f.store
                .lookup(token.expose())
                .await
                .unwrap()
                .unwrap()
                .num_uses,
            1
        );
        let last = f.store.use_token(&first).await.unwrap();
        assert!(last.is_some(), "the request spending the last use succeeds");
        assert!(f.store.lookup(token.expose()).await.unwrap().is_none());
        assert_eq!(recorder.0.lock().unwrap().len(), 1);
        assert!(
            f.store.use_token(&first).await.unwrap().is_none(),
            "no use left"
        );

        let (_, unlimited) = f.store.create(CreateParams::default()).await.unwrap();
        for _ in 0..5 {
            assert_eq!(
                f.store
                    .use_token(&unlimited)
                    .await
                    .unwrap()
                    .unwrap()
                    .num_uses,
                0
            );
        }
    }

    #[tokio::test]
    async fn deferred_last_use_keeps_the_entry_until_revoked() {
        let f = fixture();
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let (token, entry) = f
            .store
            .create(CreateParams {
                num_uses: 1,
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let used = f.store.use_token_deferred(&entry).await.unwrap().unwrap();
        assert!(
            f.store.lookup(token.expose()).await.unwrap().is_none(),
            "no longer authenticates"
        );
        assert!(
            f.store
                .lookup_tainted(token.expose())
                .await
                .unwrap()
                .is_some(),
            "visible to lookup-self"
        );
        assert!(
            recorder.0.lock().unwrap().is_empty(),
            "cubbyhole untouched so far"
        );
        f.store.revoke_tree(&used).await.unwrap();
        assert_eq!(recorder.0.lock().unwrap().len(), 1);
        assert!(
            f.store
                .lookup_tainted(token.expose())
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn renewal_respects_limits() {
        let f = fixture();
        let (_, entry) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(9 * 3600),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        f.clock.advance(Duration::from_secs(8 * 3600 + 1800));
        let (renewed, warnings) = f
            .store
            .renew(&entry, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(3600));
        assert!(warnings.is_empty());
        f.clock.advance(Duration::from_secs(50 * 60));
        let (renewed, warnings) = f
            .store
            .renew(&entry, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(
            renewed.ttl,
            Duration::from_secs(40 * 60),
            "capped at creation + 10h"
        );
        assert_eq!(warnings.len(), 1);
        assert!(renewed.last_renewal_time.is_some());
        f.clock.advance(Duration::from_secs(40 * 60));
        assert!(
            f.store.renew(&entry, Duration::ZERO).await.is_err(),
            "expired at the max TTL"
        );

        let (_, fixed) = f
            .store
            .create(CreateParams {
                renewable: false,
                ..CreateParams::default()
            })
            .await
            .unwrap();
        assert!(matches!(
            f.store.renew(&fixed, Duration::ZERO).await,
            Err(TokenError::NotRenewable)
        ));
    }

    /// A stand-in auth method: answers renewals from a scripted grant (or
    /// refuses), recording what it was asked. It exercises the hook itself.
    struct ScriptedMethod {
        answer: std::sync::Mutex<coffer_types::Result<LoginGrant>>,
        calls: std::sync::Mutex<Vec<(String, LoginGrant)>>,
    }

    impl ScriptedMethod {
        fn new(answer: coffer_types::Result<LoginGrant>) -> Arc<Self> {
            Arc::new(Self {
                answer: std::sync::Mutex::new(answer),
                calls: std::sync::Mutex::new(Vec::new()),
            })
        }

        fn answer(&self, answer: coffer_types::Result<LoginGrant>) {
            *self.answer.lock().unwrap() = answer;
        }
    }

    #[async_trait::async_trait]
    impl LoginRenewer for ScriptedMethod {
        async fn renew_login(
            &self,
            entry: &TokenEntry,
            grant: &LoginGrant,
        ) -> coffer_types::Result<LoginGrant> {
            self.calls
                .lock()
                .unwrap()
                .push((entry.display_name.clone(), grant.clone()));
            self.answer.lock().unwrap().clone()
        }
    }

    fn bob() -> LoginGrant {
        let mut internal = serde_json::Map::new();
        internal.insert("password_hash_version".into(), serde_json::json!(1));
        LoginGrant {
            display_name: "bob".into(),
            policies: vec!["dev".into()],
            metadata: [("username".to_owned(), "bob".to_owned())].into(),
            ttl: Duration::from_secs(600),
            max_ttl: Duration::from_secs(1800),
            renewable: true,
            internal_data: internal,
            ..LoginGrant::default()
        }
    }

    async fn login(f: &crate::store::tests::Fixture, grant: LoginGrant) -> (String, TokenEntry) {
        let params =
            CreateParams::from_login(grant, "auth/userpass/", "auth/userpass/login/bob").unwrap();
        let (token, entry) = f.store.create(params).await.unwrap();
        (token.expose().to_owned(), entry)
    }

    #[tokio::test]
    async fn login_grants_are_persisted_with_the_token() {
        let f = fixture();
        let (token, entry) = login(&f, bob()).await;
        assert_eq!(entry.display_name, "userpass-bob");
        assert_eq!(entry.path, "auth/userpass/login/bob");
        assert_eq!(entry.policies, ["default", "dev"]);
        assert_eq!(entry.meta["username"], "bob");
        assert_eq!(entry.ttl, Duration::from_secs(600));
        assert_eq!(entry.max_ttl, Duration::from_secs(1800));
        let found = f.store.lookup(&token).await.unwrap().unwrap();
        assert_eq!(found.login_grant, Some(bob()), "read back from storage");
        // A second store instance (after a restart) still has it.
        let again = crate::TokenStore::new(
            coffer_storage::View::new(
                f.mem.clone(),
                coffer_storage::Prefix::new("sys/token/").unwrap(),
            ),
            f.clock.clone(),
            f.store.limits(),
        );
        assert_eq!(
            again.lookup(&token).await.unwrap().unwrap().login_grant,
            Some(bob())
        );
        // A login asking for a TTL past its max gets the max.
        let (_, capped) = login(
            &f,
            LoginGrant {
                ttl: Duration::from_secs(7200),
                ..bob()
            },
        )
        .await;
        assert_eq!(capped.ttl, Duration::from_secs(1800));
    }

    #[tokio::test]
    async fn login_renewal_goes_through_the_auth_method() {
        let f = fixture();
        let (token, entry) = login(&f, bob()).await;
        assert!(matches!(
            f.store.renew(&entry, Duration::ZERO).await,
            Err(TokenError::NoLoginRenewer)
        ));

        // The method refreshes the grant: new TTL, new internal data.
        let mut refreshed = bob();
        refreshed.ttl = Duration::from_secs(300);
        refreshed
            .internal_data
            .insert("password_hash_version".into(), serde_json::json!(2));
        refreshed.policies = vec!["default".into(), "dev".into()];
        let method = ScriptedMethod::new(Ok(refreshed.clone()));
        f.store.set_login_renewer(method.clone());
        f.clock.advance(Duration::from_secs(100));
        let (renewed, _) = f.store.renew(&entry, Duration::ZERO).await.unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(300), "the grant's TTL");
        assert_eq!(renewed.login_grant, Some(refreshed.clone()));
        {
            let calls = method.calls.lock().unwrap();
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].0, "userpass-bob");
            assert_eq!(calls[0].1, bob(), "the method sees the stored grant");
        }
        let stored = f.store.lookup(&token).await.unwrap().unwrap();
        assert_eq!(stored.login_grant, Some(refreshed.clone()));

        // The grant's max TTL caps renewals, counted from creation.
        f.clock.advance(Duration::from_secs(250));
        let (renewed, warnings) = f
            .store
            .renew(&entry, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(1450), "1800 - 350");
        assert_eq!(warnings.len(), 1);

        // The method refuses (user deleted): its error, unchanged, and no renewal.
        let refusal = coffer_types::Error::invalid("user no longer exists");
        method.answer(Err(refusal.clone()));
        let expiry = f.store.lookup(&token).await.unwrap().unwrap().expire_time;
        match f.store.renew(&entry, Duration::ZERO).await {
            Err(TokenError::LoginRefused(e)) => assert_eq!(e, refusal),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            f.store.lookup(&token).await.unwrap().unwrap().expire_time,
            expiry
        );

        // The user's policies changed since the login: Vault's refusal.
        method.answer(Ok(LoginGrant {
            policies: vec!["dev".into(), "admin".into()],
            ..refreshed
        }));
        let err = f.store.renew(&entry, Duration::ZERO).await.unwrap_err();
        assert!(matches!(err, TokenError::PoliciesChanged));
        assert_eq!(
            coffer_types::Error::from(err).messages(),
            ["failed to renew entry: policies have changed, not renewing"]
        );
        assert_eq!(method.calls.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn renewal_cannot_lift_an_explicit_max_ttl_or_revive_a_fixed_token() {
        let f = fixture();
        let (_, entry) = login(
            &f,
            LoginGrant {
                explicit_max_ttl: Duration::from_secs(900),
                max_ttl: Duration::ZERO,
                ..bob()
            },
        )
        .await;
        let method = ScriptedMethod::new(Ok(LoginGrant {
            explicit_max_ttl: Duration::ZERO,
            ttl: Duration::from_secs(3600),
            ..bob()
        }));
        f.store.set_login_renewer(method.clone());
        f.clock.advance(Duration::from_secs(300));
        let (renewed, _) = f.store.renew(&entry, Duration::ZERO).await.unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(600), "900 - 300");
        assert_eq!(renewed.explicit_max_ttl, Duration::from_secs(900));

        let (_, fixed) = login(
            &f,
            LoginGrant {
                renewable: false,
                ..bob()
            },
        )
        .await;
        assert!(matches!(
            f.store.renew(&fixed, Duration::ZERO).await,
            Err(TokenError::NotRenewable)
        ));
        assert_eq!(
            method.calls.lock().unwrap().len(),
            1,
            "non-renewable tokens never reach the method"
        );
    }
}
