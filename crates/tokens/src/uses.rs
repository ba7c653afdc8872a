//! Use counting and renewal.

use std::time::Duration;

use crate::ttl::{TtlInput, calculate_ttl};
use crate::{Result, TokenEntry, TokenError, TokenStore};

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
    /// min(system max, explicit max), except that periodic tokens without an
    /// explicit max have no lifetime cap). Returns the updated entry and
    /// warnings. Non-renewable and non-expiring tokens fail with
    /// [`TokenError::NotRenewable`].
    pub async fn renew(
        &self,
        entry: &TokenEntry,
        increment: Duration,
    ) -> Result<(TokenEntry, Vec<String>)> {
        let _guard = self.lock.lock().await;
        let Some(mut current) = self.resolve_locked(&entry.id_hash, false).await? else {
            return Err(TokenError::invalid("token not found"));
        };
        if current.expire_time.is_none() || !current.renewable {
            return Err(TokenError::NotRenewable);
        }
        let now = self.clock.now();
        let input = TtlInput {
            increment,
            backend_ttl: current.ttl,
            period: current.period,
            explicit_max_ttl: current.explicit_max_ttl,
            start: current.creation_time,
            now,
        };
        let (ttl, warnings) = calculate_ttl(self.limits, &input)?;
        current.ttl = ttl;
        current.expire_time = Some(now + ttl);
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
    use crate::{CreateParams, TokenError};

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
}
