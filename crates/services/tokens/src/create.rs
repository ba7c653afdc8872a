//! Token creation: fresh `hvs.` tokens and root tokens (batch tokens are
//! made in `batch.rs`).

use coffer_types::duration::time_after;
use std::time::Duration;

use coffer_crypto::{random_alphanumeric, random_token};
use coffer_storage::WriteOp;
use coffer_types::{LoginGrant, Sensitive};

use crate::cidr::canonical_cidrs;
use crate::entry::TOKEN_TYPE_SERVICE;
use crate::policies::sanitize_policies;
use crate::store::{AccessorEntry, accessor_key, id_key, parent_key};
use crate::ttl::{TtlInput, calculate_ttl};
use crate::{
    ACCESSOR_LEN, Result, SERVICE_TOKEN_PREFIX, TOKEN_RANDOM_LEN, TokenEntry, TokenError,
    TokenStore, TokenType,
};

/// What a new token should look like. Policies are sanitized (sorted,
/// deduplicated, `root` alone) by [`TokenStore::create`]; permission checks
/// (subset of the parent's, sudo) and inheritance from the parent (entity,
/// CIDR binding) are the caller's job. For logins, build it with
/// [`CreateParams::from_login`].
#[derive(Clone, Debug)]
pub struct CreateParams {
    /// The token's policies.
    pub policies: Vec<String>,
    /// Metadata.
    pub meta: std::collections::BTreeMap<String, String>,
    /// Full display name; empty means `token`. Login tokens carry the mount
    /// prefix (`userpass-bob`, see [`crate::login_display_name`]).
    pub display_name: String,
    /// Number of uses, 0 for unlimited.
    pub num_uses: u64,
    /// Requested TTL; zero means the default (or none for root tokens).
    pub ttl: Duration,
    /// Hard lifetime cap from creation; zero for none.
    pub explicit_max_ttl: Duration,
    /// The backend's cap on the lifetime through renewals (a login's
    /// `max_ttl`); zero: only the system max applies.
    pub max_ttl: Duration,
    /// Period for a periodic token; zero for none.
    pub period: Duration,
    /// Whether the token may be renewed.
    pub renewable: bool,
    /// The creating path (`auth/token/create`, `auth/userpass/login/bob`).
    pub path: String,
    /// Identity entity, "" for none.
    pub entity_id: String,
    /// Token role name, "" for none.
    pub role: String,
    /// The parent's `id_hash`; `None` creates an orphan.
    pub parent: Option<String>,
    /// A caller-chosen token id (root/sudo only; checked by the caller).
    /// Not allowed for batch tokens.
    pub explicit_id: Option<Sensitive>,
    /// CIDR blocks the token may be used from (empty: anywhere). Invalid
    /// blocks are refused; non-expiring tokens are never bound (as in Vault).
    pub bound_cidrs: Vec<String>,
    /// Service (stored) or batch (encrypted, never stored). Batch tokens may
    /// not have uses, a period, an explicit max TTL, a custom id or `root`.
    pub token_type: TokenType,
    /// The auth method's grant, kept with a service token and handed back to
    /// the method on renewal ([`crate::LoginRenewer`]). Not carried by batch
    /// tokens, which cannot be renewed.
    pub login_grant: Option<LoginGrant>,
}

impl Default for CreateParams {
    fn default() -> Self {
        Self {
            policies: Vec::new(),
            meta: Default::default(),
            display_name: String::new(),
            num_uses: 0,
            ttl: Duration::ZERO,
            explicit_max_ttl: Duration::ZERO,
            max_ttl: Duration::ZERO,
            period: Duration::ZERO,
            renewable: true,
            path: "auth/token/create".to_owned(),
            entity_id: String::new(),
            role: String::new(),
            parent: None,
            explicit_id: None,
            bound_cidrs: Vec::new(),
            token_type: TokenType::Service,
            login_grant: None,
        }
    }
}

fn validate_explicit_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(TokenError::invalid("token ID cannot be empty"));
    }
    if id.contains('.') {
        return Err(TokenError::invalid(
            "custom token ID cannot have a '.' in the value",
        ));
    }
    if id.contains(char::is_whitespace) || id.len() > 512 {
        return Err(TokenError::invalid("custom token ID is invalid"));
    }
    Ok(())
}

/// A service token made but not yet written (see
/// [`TokenStore::prepare_login_token`]). `Debug` never shows the token.
pub struct PreparedToken {
    /// The token, shown to the client once and never stored.
    pub token: Sensitive,
    /// Its entry.
    pub entry: TokenEntry,
    /// Vault's warnings (TTL capped, ...).
    pub warnings: Vec<String>,
    /// The writes that store it; keys are in the view's underlying store
    /// once prepared for the caller.
    pub ops: Vec<WriteOp>,
}

impl std::fmt::Debug for PreparedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedToken")
            .field("accessor", &self.entry.accessor)
            .field("ops", &self.ops)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Creates a token. Returns the token (shown to the client once, never
    /// stored) and its entry.
    pub async fn create(&self, params: CreateParams) -> Result<(Sensitive, TokenEntry)> {
        let (token, entry, _) = self.create_with_warnings(params).await?;
        Ok((token, entry))
    }

    /// Like [`TokenStore::create`], also returning Vault's warnings (TTL capped
    /// by the max TTL, ...).
    pub async fn create_with_warnings(
        &self,
        params: CreateParams,
    ) -> Result<(Sensitive, TokenEntry, Vec<String>)> {
        if params.token_type == TokenType::Batch {
            return self.create_batch(params).await;
        }
        // The write lock keeps a child from being created while its parent
        // is being revoked, and an explicit id from being taken twice. An
        // orphan with a random id (every login) races with nothing: 143
        // random bits do not collide, so logins are not serialised.
        let _guard = match (&params.parent, &params.explicit_id) {
            (None, None) => None,
            _ => Some(self.lock.lock().await),
        };
        let now = self.clock.now();
        let parent = match &params.parent {
            None => None,
            Some(hash) => match self.resolve_locked(hash, false).await? {
                Some(parent) => Some(parent),
                None => return Err(TokenError::ParentNotFound),
            },
        };
        let prepared = self.new_service_token(params, parent, now).await?;
        self.commit(prepared.ops).await?;
        Ok((prepared.token, prepared.entry, prepared.warnings))
    }

    /// A login's token, prepared but not written: the core writes its
    /// records together with the token's lease in one atomic batch (one
    /// commit, and never a token without its lease), then calls
    /// [`TokenStore::prepared_written`]. Only for what every login makes:
    /// an orphan service token with a generated id.
    pub async fn prepare_login_token(&self, params: CreateParams) -> Result<PreparedToken> {
        if params.parent.is_some()
            || params.explicit_id.is_some()
            || params.token_type == TokenType::Batch
        {
            return Err(TokenError::invalid(
                "only orphan service tokens with generated ids can be prepared",
            ));
        }
        let mut prepared = self
            .new_service_token(params, None, self.clock.now())
            .await?;
        prepared.ops = prepared
            .ops
            .into_iter()
            .map(|op| self.view.absolute(op))
            .collect::<std::result::Result<_, _>>()?;
        Ok(prepared)
    }

    /// Tells the store that a [`PreparedToken`]'s writes are done (or may
    /// be: call it after a failed write too).
    pub fn prepared_written(&self, prepared: &PreparedToken) {
        self.entries.invalidate(prepared.entry.id_hash.as_str());
    }

    /// Builds a service token under `parent` (already resolved), its entry
    /// and the writes that store it (relative to the store's view).
    async fn new_service_token(
        &self,
        params: CreateParams,
        parent: Option<TokenEntry>,
        now: std::time::SystemTime,
    ) -> Result<PreparedToken> {
        let policies = sanitize_policies(&params.policies, false);
        let token = match &params.explicit_id {
            Some(id) => {
                validate_explicit_id(id.expose())?;
                id.clone()
            }
            None => random_token(SERVICE_TOKEN_PREFIX, TOKEN_RANDOM_LEN)?,
        };
        let id_hash = self.hash_token(token.expose()).await?;
        // Only an explicit id can already be taken (a generated one is 143
        // random bits).
        if params.explicit_id.is_some() && self.load_raw(&id_hash).await?.is_some() {
            return Err(TokenError::invalid(
                "cannot create a token with a duplicate ID",
            ));
        }

        let (ttl, warnings) = self.initial_ttl(&params, &policies, now)?;
        let bound_cidrs = canonical_cidrs(&params.bound_cidrs)?;
        let mut renewable = params.renewable;
        if ttl.is_zero() {
            if parent.as_ref().is_some_and(|p| p.expire_time.is_some()) {
                return Err(TokenError::invalid(
                    "expiring root tokens cannot create non-expiring root tokens",
                ));
            }
            renewable = false;
        }

        let entry = TokenEntry {
            id_hash: id_hash.clone(),
            accessor: random_alphanumeric(ACCESSOR_LEN)?,
            parent: parent.map(|p| p.id_hash),
            policies,
            meta: params.meta,
            display_name: if params.display_name.is_empty() {
                "token".to_owned()
            } else {
                params.display_name
            },
            num_uses: params.num_uses,
            creation_time: now,
            creation_ttl: ttl,
            ttl,
            expire_time: (!ttl.is_zero()).then(|| time_after(now, ttl)),
            last_renewal_time: None,
            explicit_max_ttl: params.explicit_max_ttl,
            period: params.period,
            renewable,
            token_type: TOKEN_TYPE_SERVICE.to_owned(),
            path: params.path,
            entity_id: params.entity_id,
            role: params.role,
            cubbyhole_id: random_alphanumeric(24)?,
            // Vault does not CIDR-restrict non-expiring tokens.
            bound_cidrs: if ttl.is_zero() {
                Vec::new()
            } else {
                bound_cidrs
            },
            login_grant: params.login_grant,
            max_ttl: params.max_ttl,
            revocation_pending: false,
        };
        let accessor_index = AccessorEntry {
            accessor: entry.accessor.clone(),
            id_hash: id_hash.clone(),
        };
        let accessor_bytes =
            serde_json::to_vec(&accessor_index).map_err(|e| TokenError::corrupt("accessor/", e))?;
        let mut ops = vec![
            WriteOp::Put(id_key(&id_hash)?, Self::encode(&entry)?),
            WriteOp::Put(
                accessor_key(&self.salt.accessor_id(&self.view, &entry.accessor).await?)?,
                accessor_bytes,
            ),
        ];
        if let Some(parent_hash) = &entry.parent {
            ops.push(WriteOp::Put(parent_key(parent_hash, &id_hash)?, Vec::new()));
        }
        Ok(PreparedToken {
            token,
            entry,
            warnings,
            ops,
        })
    }

    /// The TTL of a new token, as Vault's `handleCreateCommon` computes it:
    /// only periodic tokens, tokens asking for a TTL and non-root tokens go
    /// through `CalculateTTL`; a root token without one never expires unless
    /// it has an explicit max TTL.
    pub(crate) fn initial_ttl(
        &self,
        params: &CreateParams,
        policies: &[String],
        now: std::time::SystemTime,
    ) -> Result<(Duration, Vec<String>)> {
        let is_root = policies.len() == 1 && policies[0] == "root";
        let mut ttl = params.ttl;
        let mut warnings = Vec::new();
        if !params.period.is_zero() || !ttl.is_zero() || !is_root {
            let input = TtlInput {
                increment: Duration::ZERO,
                backend_ttl: ttl,
                period: params.period,
                backend_max_ttl: params.max_ttl,
                explicit_max_ttl: params.explicit_max_ttl,
                start: now,
                now,
            };
            (ttl, warnings) = calculate_ttl(self.limits, &input)?;
        }
        if ttl.is_zero() && !params.explicit_max_ttl.is_zero() {
            ttl = params.explicit_max_ttl;
        }
        Ok((ttl, warnings))
    }

    /// Creates a root token: policies `["root"]`, no TTL, no parent, display
    /// name `root`. `explicit_id` chooses the token (dev mode's
    /// `-dev-root-token-id`); it may not contain a `.`.
    pub async fn create_root_token(
        &self,
        explicit_id: Option<&str>,
    ) -> Result<(Sensitive, TokenEntry)> {
        self.create(CreateParams {
            policies: vec!["root".to_owned()],
            display_name: "root".to_owned(),
            path: "auth/token/root".to_owned(),
            renewable: false,
            explicit_id: explicit_id.map(Sensitive::from),
            ..CreateParams::default()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_storage::{Key, Prefix, Storage, list_recursive};
    use coffer_types::Sensitive;

    use crate::store::tests::fixture;
    use crate::{ACCESSOR_LEN, CreateParams, TokenError};

    async fn all_bytes(mem: &std::sync::Arc<dyn Storage>) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for key in list_recursive(mem.as_ref(), &Prefix::root()).await.unwrap() {
            let value = mem
                .get(&Key::new(key.clone()).unwrap())
                .await
                .unwrap()
                .unwrap();
            out.push((key, value));
        }
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[tokio::test]
    async fn create_and_lookup() {
        let f = fixture();
        let (token, entry) = f
            .store
            .create(CreateParams {
                policies: vec!["Web".into(), "default".into(), "web".into()],
                ..CreateParams::default()
            })
            .await
            .unwrap();
        assert!(token.expose().starts_with("hvs.") && token.expose().len() == 28);
        assert_eq!(entry.policies, ["default", "web"]);
        assert_eq!(entry.accessor.len(), ACCESSOR_LEN);
        assert_eq!(entry.ttl, Duration::from_secs(3600), "system default TTL");
        let found = f.store.lookup(token.expose()).await.unwrap().unwrap();
        assert_eq!(found, entry);
        assert_ne!(found.scope_id(), found.id_hash);
        assert!(!found.scope_id().contains(token.expose()));
        assert!(f.store.lookup("hvs.nope").await.unwrap().is_none());
        assert!(f.store.lookup("").await.unwrap().is_none());
        assert_eq!(
            f.store
                .lookup_accessor(&entry.accessor)
                .await
                .unwrap()
                .unwrap(),
            entry
        );
        assert!(f.store.lookup_accessor("nope").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn raw_tokens_never_reach_storage() {
        let f = fixture();
        let (root, _) = f
            .store
            .create_root_token(Some("canaryRootTokenValue"))
            .await
            .unwrap();
        let (child, _) = f
            .store
            .create(CreateParams {
                explicit_id: Some(Sensitive::new("canaryChildTokenValue")),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let (random, entry) = f.store.create(CreateParams::default()).await.unwrap();
        f.store
            .renew(&entry, Duration::from_secs(60))
            .await
            .unwrap();
        let stored = all_bytes(&f.mem).await;
        assert!(stored.len() >= 7, "salt + 3 ids + 3 accessors");
        for token in [&root, &child, &random] {
            for (key, value) in &stored {
                assert!(!key.contains(token.expose()), "token in key {key}");
                assert!(
                    !contains(value, token.expose().as_bytes()),
                    "token in value of {key}"
                );
            }
        }
    }

    #[tokio::test]
    async fn root_tokens_never_expire() {
        let f = fixture();
        let (root, entry) = f.store.create_root_token(None).await.unwrap();
        assert!(entry.is_root() && entry.is_orphan() && !entry.renewable);
        assert_eq!(entry.expire_time, None);
        assert_eq!(entry.display_name, "root");
        f.clock.advance(Duration::from_secs(100 * 365 * 86400));
        assert!(f.store.lookup(root.expose()).await.unwrap().is_some());
        assert!(matches!(
            f.store.renew(&entry, Duration::ZERO).await,
            Err(TokenError::NotRenewable)
        ));
        assert!(f.store.create_root_token(Some("has.dot")).await.is_err());
        let (_, again) = f.store.create_root_token(Some("fixed")).await.unwrap();
        assert!(again.is_root());
        assert!(
            f.store.create_root_token(Some("fixed")).await.is_err(),
            "duplicate id"
        );
    }

    #[tokio::test]
    async fn cidr_binding_is_validated_stored_and_skipped_for_root() {
        let f = fixture();
        let (token, entry) = f
            .store
            .create(CreateParams {
                bound_cidrs: vec!["10.0.0.0/8".into(), "127.0.0.1/32".into()],
                ..CreateParams::default()
            })
            .await
            .unwrap();
        assert_eq!(entry.bound_cidrs, ["10.0.0.0/8", "127.0.0.1"]);
        let found = f.store.lookup(token.expose()).await.unwrap().unwrap();
        assert_eq!(found.bound_cidrs, entry.bound_cidrs);
        let addr = |s: &str| Some(s.parse::<std::net::IpAddr>().unwrap());
        assert!(f.store.cidr_allowed(&found, addr("127.0.0.1")));
        assert!(f.store.cidr_allowed(&found, addr("10.9.8.7")));
        assert!(!f.store.cidr_allowed(&found, addr("192.168.0.1")));
        assert!(!f.store.cidr_allowed(&found, None));

        let err = f
            .store
            .create(CreateParams {
                bound_cidrs: vec!["10.0.0.0/8".into(), "bogus".into()],
                ..CreateParams::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid CIDR block \"bogus\"");

        // Vault never CIDR-restricts non-expiring tokens.
        let (_, root) = f
            .store
            .create(CreateParams {
                policies: vec!["root".into()],
                bound_cidrs: vec!["10.0.0.0/8".into()],
                ..CreateParams::default()
            })
            .await
            .unwrap();
        assert!(root.bound_cidrs.is_empty());
        assert!(f.store.cidr_allowed(&root, None));
    }
}
