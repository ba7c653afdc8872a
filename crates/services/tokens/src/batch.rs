//! Batch tokens: `hvb.` + base64url (no padding) of an AES-256-GCM sealed,
//! compact JSON token entry. Nothing is written to storage when one is
//! created (apart from the store's key, once), which makes them the cheap
//! choice for high-volume logins.
//!
//! The sealing key is 32 random bytes kept in the store's (barrier-encrypted)
//! view under `batch-key`, created on first use. A lookup decrypts and
//! validates the token: expiry against the clock, and the validity of its
//! parent (a batch token dies with its service parent; orphan batch tokens
//! live to their TTL). Anything that fails to decode, decrypt or parse is
//! simply not a token (`None`), never an error or a panic.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use coffer_crypto::{Secret, open_with_key, random_key, seal_with_key};
use coffer_storage::{Key, Storage};
use coffer_types::Sensitive;
use serde::{Deserialize, Serialize};

use crate::cidr::canonical_cidrs;
use crate::entry::TOKEN_TYPE_BATCH;
use crate::policies::sanitize_policies;
use crate::{CreateParams, Result, TokenEntry, TokenError, TokenStore};

/// Prefix of batch tokens.
pub const BATCH_TOKEN_PREFIX: &str = "hvb.";
/// Storage key (in the store's view) of the batch-token sealing key.
const BATCH_KEY: &str = "batch-key";
/// Associated data binding sealed entries to their purpose and format.
const AAD: &[u8] = b"coffer batch token v1";
const VERSION: u8 = 1;
/// Longest token body accepted for decoding; anything longer is not a token.
const MAX_BODY_LEN: usize = 16 * 1024;

/// The sealed content of a batch token: what a lookup needs, with short
/// field names to keep tokens small.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "v")]
    version: u8,
    #[serde(rename = "p")]
    policies: Vec<String>,
    #[serde(rename = "m", default, skip_serializing_if = "BTreeMap::is_empty")]
    meta: BTreeMap<String, String>,
    #[serde(rename = "d")]
    display_name: String,
    #[serde(rename = "pt")]
    path: String,
    /// Creation time: seconds and nanoseconds since the Unix epoch.
    #[serde(rename = "c")]
    created: (u64, u32),
    /// TTL: seconds and nanoseconds.
    #[serde(rename = "t")]
    ttl: (u64, u32),
    /// The parent's id hash.
    #[serde(rename = "pa", default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(rename = "e", default, skip_serializing_if = "String::is_empty")]
    entity_id: String,
    #[serde(rename = "r", default, skip_serializing_if = "String::is_empty")]
    role: String,
    #[serde(rename = "b", default, skip_serializing_if = "Vec::is_empty")]
    bound_cidrs: Vec<String>,
}

fn split(d: Duration) -> (u64, u32) {
    (d.as_secs(), d.subsec_nanos())
}

fn join((secs, nanos): (u64, u32)) -> Option<Duration> {
    (nanos < 1_000_000_000).then(|| Duration::new(secs, nanos))
}

impl Payload {
    fn into_entry(self, id_hash: String) -> Option<TokenEntry> {
        let ttl = join(self.ttl)?;
        let creation_time = UNIX_EPOCH.checked_add(join(self.created)?)?;
        let expire_time = creation_time.checked_add(ttl)?;
        Some(TokenEntry {
            id_hash,
            accessor: String::new(),
            parent: self.parent,
            policies: self.policies,
            meta: self.meta,
            display_name: self.display_name,
            num_uses: 0,
            creation_time,
            creation_ttl: ttl,
            ttl,
            expire_time: Some(expire_time),
            last_renewal_time: None,
            explicit_max_ttl: Duration::ZERO,
            period: Duration::ZERO,
            renewable: false,
            token_type: TOKEN_TYPE_BATCH.to_owned(),
            path: self.path,
            entity_id: self.entity_id,
            role: self.role,
            cubbyhole_id: String::new(),
            bound_cidrs: self.bound_cidrs,
            login_grant: None,
            max_ttl: Duration::ZERO,
            revocation_pending: false,
        })
    }
}

/// Lazily loaded sealing key.
pub(crate) struct BatchKey {
    cell: tokio::sync::OnceCell<Secret<[u8; 32]>>,
}

impl BatchKey {
    pub(crate) fn new() -> Self {
        Self {
            cell: tokio::sync::OnceCell::new(),
        }
    }
}

/// Vault's refusals for fields batch tokens cannot carry.
fn refuse_batch(params: &CreateParams) -> Result<()> {
    if params.explicit_id.is_some() {
        return Err(TokenError::invalid("batch tokens cannot have a custom ID"));
    }
    let bad = [
        ("explicit_max_ttl", !params.explicit_max_ttl.is_zero()),
        ("num_uses", params.num_uses != 0),
        ("period", !params.period.is_zero()),
    ];
    match bad.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(TokenError::invalid(format!(
            "batch tokens cannot have {name:?} set"
        ))),
        None => Ok(()),
    }
}

impl TokenStore {
    /// The sealing key; with `create`, made and stored if absent. `None`
    /// when absent and not to be created (no batch token was ever issued).
    async fn batch_key(&self, create: bool) -> Result<Option<&Secret<[u8; 32]>>> {
        if let Some(key) = self.batch_key.cell.get() {
            return Ok(Some(key));
        }
        let init = self
            .batch_key
            .cell
            .get_or_try_init(|| async {
                let key = Key::new(BATCH_KEY).map_err(|e| Some(e.into()))?;
                let stored = self.view.get(&key).await.map_err(|e| Some(e.into()))?;
                if let Some(bytes) = stored {
                    let mut out = Secret::new([0u8; 32]);
                    if bytes.len() != out.expose().len() {
                        return Err(Some(TokenError::corrupt(
                            BATCH_KEY,
                            "batch key has the wrong length",
                        )));
                    }
                    out.expose_mut().copy_from_slice(&bytes);
                    return Ok(out);
                }
                if !create {
                    return Err(None);
                }
                let fresh = random_key().map_err(|e| Some(e.into()))?;
                self.view
                    .put(&key, fresh.expose().to_vec())
                    .await
                    .map_err(|e| Some(e.into()))?;
                Ok(fresh)
            })
            .await;
        match init {
            Ok(key) => Ok(Some(key)),
            Err(None) => Ok(None),
            Err(Some(e)) => Err(e),
        }
    }

    /// Creates a batch token (see the module documentation). Nothing is
    /// stored; the parent, if any, must be valid.
    pub(crate) async fn create_batch(
        &self,
        params: CreateParams,
    ) -> Result<(Sensitive, TokenEntry, Vec<String>)> {
        refuse_batch(&params)?;
        let policies = sanitize_policies(&params.policies, false);
        if policies.iter().any(|p| p == "root") {
            return Err(TokenError::invalid("batch tokens cannot be root tokens"));
        }
        if let Some(parent) = &params.parent
            && self.resolve(parent, false).await?.is_none()
        {
            return Err(TokenError::ParentNotFound);
        }
        let bound_cidrs = canonical_cidrs(&params.bound_cidrs)?;
        let now = self.clock.now();
        let (ttl, warnings) = self.initial_ttl(&params, &policies, now)?;
        if ttl.is_zero() {
            return Err(TokenError::invalid("batch tokens must have a TTL"));
        }
        let since_epoch = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| TokenError::invalid("the clock is before the Unix epoch"))?;
        let payload = Payload {
            version: VERSION,
            policies,
            meta: params.meta,
            display_name: if params.display_name.is_empty() {
                "token".to_owned()
            } else {
                params.display_name
            },
            path: params.path,
            created: split(since_epoch),
            ttl: split(ttl),
            parent: params.parent,
            entity_id: params.entity_id,
            role: params.role,
            bound_cidrs,
        };
        let plain =
            serde_json::to_vec(&payload).map_err(|e| TokenError::corrupt("batch token", e))?;
        let key = self
            .batch_key(true)
            .await?
            .ok_or_else(|| TokenError::corrupt(BATCH_KEY, "batch key missing after creation"))?;
        let sealed = seal_with_key(key.expose(), AAD, &plain)?;
        let body = URL_SAFE_NO_PAD.encode(sealed);
        if body.len() > MAX_BODY_LEN {
            return Err(TokenError::invalid(
                "batch token would be too large; use less metadata",
            ));
        }
        let token = Sensitive::new(format!("{BATCH_TOKEN_PREFIX}{body}"));
        let id_hash = self.hash_token(token.expose()).await?;
        let entry = payload
            .into_entry(id_hash)
            .ok_or_else(|| TokenError::invalid("batch token lifetime out of range"))?;
        Ok((token, entry, warnings))
    }

    /// Looks a batch token up: `None` unless it decrypts under this store's
    /// key, has not expired and its parent (if any) is still valid.
    pub(crate) async fn lookup_batch(&self, token: &str) -> Result<Option<TokenEntry>> {
        let Some(body) = token.strip_prefix(BATCH_TOKEN_PREFIX) else {
            return Ok(None);
        };
        if body.is_empty() || body.len() > MAX_BODY_LEN {
            return Ok(None);
        }
        let Ok(sealed) = URL_SAFE_NO_PAD.decode(body) else {
            return Ok(None);
        };
        let Some(key) = self.batch_key(false).await? else {
            return Ok(None);
        };
        let Ok(plain) = open_with_key(key.expose(), AAD, &sealed) else {
            return Ok(None);
        };
        let Ok(payload) = serde_json::from_slice::<Payload>(plain.expose()) else {
            return Ok(None);
        };
        if payload.version != VERSION {
            return Ok(None);
        }
        let id_hash = self.hash_token(token).await?;
        let Some(entry) = payload.into_entry(id_hash) else {
            return Ok(None);
        };
        if entry.is_expired_at(self.clock.now()) {
            return Ok(None);
        }
        if let Some(parent) = &entry.parent
            && self.resolve(parent, false).await?.is_none()
        {
            return Ok(None);
        }
        Ok(Some(entry))
    }
}

/// True when `token` looks like a batch token.
pub(crate) fn is_batch_token(token: &str) -> bool {
    token.starts_with(BATCH_TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use coffer_storage::{Key, Prefix, Storage, View, list_recursive};

    use super::*;
    use crate::store::tests::{Recorder, child_of, fixture};
    use crate::{TokenType, TtlLimits};

    fn batch(ttl: u64) -> CreateParams {
        CreateParams {
            policies: vec!["web".into(), "default".into()],
            ttl: Duration::from_secs(ttl),
            token_type: TokenType::Batch,
            ..CreateParams::default()
        }
    }

    async fn snapshot(mem: &Arc<dyn Storage>) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for key in list_recursive(mem.as_ref(), &Prefix::root()).await.unwrap() {
            let value = mem.get(&Key::new(key.clone()).unwrap()).await.unwrap();
            out.push((key, value.unwrap_or_default()));
        }
        out
    }

    #[tokio::test]
    async fn batch_tokens_round_trip_and_expire_by_the_clock() {
        let f = fixture();
        let (token, entry, warnings) = f
            .store
            .create_with_warnings(CreateParams {
                meta: [("user".to_owned(), "amy".to_owned())].into(),
                display_name: "token-ci".into(),
                entity_id: "ent-1".into(),
                bound_cidrs: vec!["10.0.0.0/8".into()],
                ..batch(600)
            })
            .await
            .unwrap();
        assert!(warnings.is_empty());
        assert!(token.expose().starts_with("hvb."));
        assert!(
            token.expose().len() < 600,
            "compact: {}",
            token.expose().len()
        );
        assert!(entry.is_batch() && entry.accessor.is_empty());
        assert_eq!(entry.scope_id(), "", "no cubbyhole");
        assert!(!entry.renewable && entry.num_uses == 0);
        let found = f.store.lookup(token.expose()).await.unwrap().unwrap();
        assert_eq!(found, entry);
        assert_eq!(found.policies, ["default", "web"]);
        assert_eq!(found.meta["user"], "amy");
        assert_eq!(found.entity_id, "ent-1");
        assert_eq!(found.bound_cidrs, ["10.0.0.0/8"]);
        assert_eq!(found.ttl, Duration::from_secs(600));
        assert_eq!(
            found.id_hash,
            f.store.hash_token(token.expose()).await.unwrap()
        );
        assert!(found.cidr_allowed(Some("10.1.2.3".parse().unwrap())));
        assert!(!found.cidr_allowed(Some("11.1.2.3".parse().unwrap())));
        assert_eq!(
            f.store.lookup_tainted(token.expose()).await.unwrap(),
            Some(entry.clone())
        );
        // Using it is a no-op: batch tokens have no use count.
        assert_eq!(
            f.store.use_token(&entry).await.unwrap(),
            Some(entry.clone())
        );
        assert!(f.store.lookup_accessor("").await.unwrap().is_none());

        f.clock.advance(Duration::from_secs(599));
        assert!(f.store.lookup(token.expose()).await.unwrap().is_some());
        f.clock.advance(Duration::from_secs(1));
        assert!(
            f.store.lookup(token.expose()).await.unwrap().is_none(),
            "dead exactly at its TTL"
        );
    }

    #[tokio::test]
    async fn batch_tokens_die_with_their_parent_and_orphans_live_on() {
        let f = fixture();
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let (_, parent) = f.store.create(CreateParams::default()).await.unwrap();
        let (child, child_entry) = f
            .store
            .create(CreateParams {
                token_type: TokenType::Batch,
                ..child_of(&parent)
            })
            .await
            .unwrap();
        assert_eq!(child_entry.parent.as_deref(), Some(parent.id_hash.as_str()));
        assert!(!child_entry.is_orphan());
        let (orphan, _) = f.store.create(batch(3600)).await.unwrap();
        assert!(f.store.lookup(child.expose()).await.unwrap().is_some());
        f.store.revoke_tree(&parent).await.unwrap();
        assert!(
            f.store.lookup(child.expose()).await.unwrap().is_none(),
            "a batch token dies with its parent"
        );
        assert!(f.store.lookup(orphan.expose()).await.unwrap().is_some());
        assert_eq!(
            recorder.0.lock().unwrap().len(),
            1,
            "only the service parent went through the revocation hook"
        );
        // An expired parent takes its batch children too.
        let (_, short) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(60),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let (kid, _) = f
            .store
            .create(CreateParams {
                token_type: TokenType::Batch,
                ttl: Duration::from_secs(3600),
                ..child_of(&short)
            })
            .await
            .unwrap();
        f.clock.advance(Duration::from_secs(60));
        assert!(f.store.lookup(kid.expose()).await.unwrap().is_none());
        assert!(matches!(
            f.store
                .create(CreateParams {
                    token_type: TokenType::Batch,
                    ..child_of(&short)
                })
                .await,
            Err(TokenError::ParentNotFound)
        ));
    }

    #[tokio::test]
    async fn tampered_or_foreign_batch_tokens_are_not_tokens() {
        let f = fixture();
        assert!(
            f.store.lookup("hvb.AAAA").await.unwrap().is_none(),
            "no key yet, nothing created"
        );
        assert!(f.store.list_accessors().await.unwrap().is_empty());
        let (token, _) = f.store.create(batch(600)).await.unwrap();
        let t = token.expose();
        let body = &t[4..];
        // Flip every character of the body to another base64url character.
        for i in 0..body.len() {
            let mut chars: Vec<char> = body.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let forged: String = format!("hvb.{}", chars.into_iter().collect::<String>());
            assert!(
                f.store.lookup(&forged).await.unwrap().is_none(),
                "flip at {i} accepted"
            );
        }
        for forged in [
            "hvb.".to_owned(),
            format!("{}x", t),
            t[..t.len() - 1].to_owned(),
            format!("hvb.{}", "!!!not base64!!!"),
            format!("hvb.{}", "A".repeat(20_000)),
            format!("hvb.{}é", &body[..10]),
        ] {
            assert!(f.store.lookup(&forged).await.unwrap().is_none(), "{forged}");
        }
        // Another store (another key) cannot read it.
        let other = fixture();
        other.store.create(batch(60)).await.unwrap();
        assert!(other.store.lookup(t).await.unwrap().is_none());
        // A second store instance on the same storage shares the key.
        let again = crate::TokenStore::new(
            View::new(f.mem.clone(), Prefix::new("sys/token/").unwrap()),
            f.clock.clone(),
            TtlLimits::default(),
        );
        assert!(again.lookup(t).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn batch_creation_writes_nothing() {
        let f = fixture();
        // The first batch token creates the key (and the salt), once.
        f.store.create(batch(600)).await.unwrap();
        let before = snapshot(&f.mem).await;
        assert_eq!(before.len(), 2, "salt and batch-key: {before:?}");
        let (_, parent) = f.store.create(CreateParams::default()).await.unwrap();
        let before = snapshot(&f.mem).await;
        let mut tokens = Vec::new();
        for i in 0..50 {
            let params = if i % 2 == 0 {
                batch(600)
            } else {
                CreateParams {
                    token_type: TokenType::Batch,
                    ..child_of(&parent)
                }
            };
            tokens.push(f.store.create(params).await.unwrap().0);
        }
        for t in &tokens {
            assert!(f.store.lookup(t.expose()).await.unwrap().is_some());
        }
        let after = snapshot(&f.mem).await;
        assert_eq!(before, after, "no storage write for batch tokens");
        for t in &tokens {
            for (key, value) in &after {
                assert!(!key.contains(t.expose()));
                assert!(
                    !value
                        .windows(t.expose().len())
                        .any(|w| w == t.expose().as_bytes())
                );
            }
        }
    }

    #[tokio::test]
    async fn batch_tokens_refuse_what_vault_refuses() {
        let f = fixture();
        for (params, msg) in [
            (
                CreateParams {
                    num_uses: 3,
                    ..batch(60)
                },
                "batch tokens cannot have \"num_uses\" set",
            ),
            (
                CreateParams {
                    period: Duration::from_secs(60),
                    ..batch(60)
                },
                "batch tokens cannot have \"period\" set",
            ),
            (
                CreateParams {
                    explicit_max_ttl: Duration::from_secs(60),
                    ..batch(60)
                },
                "batch tokens cannot have \"explicit_max_ttl\" set",
            ),
            (
                CreateParams {
                    explicit_id: Some(Sensitive::new("custom")),
                    ..batch(60)
                },
                "batch tokens cannot have a custom ID",
            ),
            (
                CreateParams {
                    policies: vec!["root".into()],
                    ..batch(60)
                },
                "batch tokens cannot be root tokens",
            ),
            (
                CreateParams {
                    bound_cidrs: vec!["10.0.0.0/99".into()],
                    ..batch(60)
                },
                "invalid CIDR block \"10.0.0.0/99\"",
            ),
        ] {
            let err = f.store.create(params).await.unwrap_err();
            assert_eq!(err.to_string(), msg);
            assert_eq!(coffer_types::Error::from(err).status(), 400);
        }
        let (_, entry) = f.store.create(batch(60)).await.unwrap();
        for err in [
            f.store.renew(&entry, Duration::ZERO).await.unwrap_err(),
            f.store.revoke_tree(&entry).await.unwrap_err(),
            f.store.revoke_orphan(&entry).await.unwrap_err(),
        ] {
            assert!(matches!(err, TokenError::Batch(_)), "{err}");
        }
        let huge = CreateParams {
            meta: [("blob".to_owned(), "x".repeat(20_000))].into(),
            ..batch(60)
        };
        assert_eq!(
            f.store.create(huge).await.unwrap_err().to_string(),
            "batch token would be too large; use less metadata"
        );
        // A TTL above the max is capped with Vault's warning.
        let (_, capped, warnings) = f
            .store
            .create_with_warnings(batch(100 * 3600))
            .await
            .unwrap();
        assert_eq!(capped.ttl, Duration::from_secs(10 * 3600));
        assert_eq!(warnings.len(), 1);
    }
}
