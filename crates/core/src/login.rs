//! Logins: an auth method answers with a [`LoginGrant`]; the core turns it
//! into a token (and, once identity is wired, an entity alias) and hands
//! renewals back to the method that issued it.

use crate::error::CoreError;
use std::sync::Arc;

use coffer_tokens::{CreateParams, LoginRenewer, TokenEntry, TokenType};
use coffer_types::{Auth, Error, LoginGrant, Result};
use serde_json::{Map, Value};

use crate::router::{Route, RouterHandle};
use crate::unsealed::Unsealed;

/// The `auth` block for a freshly minted token.
pub(crate) fn auth_block(token: &str, entry: &TokenEntry, identity_policies: Vec<String>) -> Auth {
    let mut policies = entry.policies.clone();
    policies.extend(identity_policies.iter().cloned());
    policies.sort();
    policies.dedup();
    // Inserted one by one: `meta` is already in key order, and collecting
    // would sort a copy first.
    let mut metadata = Map::new();
    for (k, v) in &entry.meta {
        metadata.insert(k.clone(), Value::String(v.clone()));
    }
    Auth {
        client_token: token.to_owned(),
        accessor: entry.accessor.clone(),
        policies,
        token_policies: entry.policies.clone(),
        identity_policies,
        metadata: (!metadata.is_empty()).then_some(metadata),
        lease_duration: entry.ttl.as_secs(),
        renewable: entry.renewable,
        entity_id: entry.entity_id.clone(),
        token_type: entry.token_type.clone(),
        orphan: entry.parent.is_none(),
        num_uses: entry.num_uses,
    }
}

impl Unsealed {
    /// Mints the token for a successful login on `route` at `full_path` and
    /// registers its lease.
    pub(crate) async fn complete_login(
        &self,
        route: &Route,
        full_path: &str,
        grant: LoginGrant,
    ) -> Result<Auth> {
        let alias = grant.alias.clone();
        let mut params = CreateParams::from_login(grant, &route.prefix, full_path)?;
        if params.ttl.is_zero() {
            params.ttl = route.ctx.config.default_lease_ttl;
        }
        if params.max_ttl.is_zero() || params.max_ttl > route.ctx.config.max_lease_ttl {
            params.max_ttl = route.ctx.config.max_lease_ttl;
        }
        let mut identity_policies = Vec::new();
        if let Some(alias) = &alias {
            let entity_id = self
                .identity
                .entity_id_for_login(
                    &route.entry.accessor,
                    &route.entry.mount_type,
                    &route.prefix,
                    alias,
                )
                .await?;
            identity_policies = self.identity_policies(&entity_id)?;
            params.entity_id = entity_id;
        }
        if params.token_type == TokenType::Batch {
            let (token, entry) = self.tokens.create(params).await?;
            return Ok(auth_block(token.expose(), &entry, identity_policies));
        }
        // The token and its lease in one atomic write: one commit per
        // login, and never a token without its lease.
        let mut prepared = self.tokens.prepare_login_token(params).await?;
        let mut ops = std::mem::take(&mut prepared.ops);
        if let Some(lease) = crate::leases::token_lease(&prepared.entry) {
            let (_, lease_ops) = self.expiration.prepare_register(lease)?;
            ops.extend(lease_ops);
        }
        let written = self.storage.write_batch(ops).await;
        self.tokens.prepared_written(&prepared);
        written?;
        Ok(auth_block(
            prepared.token.expose(),
            &prepared.entry,
            identity_policies,
        ))
    }

    /// The policies an entity and its groups add, normalised like token policies.
    pub(crate) fn identity_policies(&self, entity_id: &str) -> Result<Vec<String>> {
        let mut policies: Vec<String> = self
            .identity
            .identity_policies(entity_id)?
            .into_iter()
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        policies.sort();
        policies.dedup();
        Ok(policies)
    }

    /// The ACL a token really has: its own policies plus its identity's,
    /// with templated policies rendered for its entity. A disabled entity
    /// is refused.
    pub(crate) fn effective_acl(&self, entry: &TokenEntry) -> Result<Arc<coffer_policy::Acl>> {
        self.resolve_policies(entry).map(|(acl, _)| acl)
    }

    /// The token's ACL and its entity's policies, resolved once per request
    /// (the pipeline keeps both on the caller; audit records the second).
    pub(crate) fn resolve_policies(
        &self,
        entry: &TokenEntry,
    ) -> Result<(Arc<coffer_policy::Acl>, Vec<String>)> {
        if entry.entity_id.is_empty() {
            return Ok((self.policies.acl(&entry.policies)?, Vec::new()));
        }
        let identity = self
            .identity_policies(&entry.entity_id)
            .map_err(|_| Error::permission_denied())?;
        let mut names = entry.policies.clone();
        names.extend(identity.iter().cloned());
        names.sort();
        names.dedup();
        let context = self.identity.template_context(&entry.entity_id);
        Ok((self.policies.acl_for(&names, context.as_ref())?, identity))
    }
}

/// Hands the renewal of a login token to the auth method that issued it.
#[async_trait::async_trait]
impl LoginRenewer for RouterHandle {
    async fn renew_login(&self, entry: &TokenEntry, grant: &LoginGrant) -> Result<LoginGrant> {
        let served = self
            .route_for(&entry.path)?
            .ok_or(CoreError::LoginMountGone)?;
        served.backend.renew_login(&served.ctx, grant).await
    }
}
