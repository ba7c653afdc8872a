//! The request pipeline. Every request, login included, goes through
//! [`Core::handle`] and then `Unsealed::handle`, in this order (the code
//! below follows it step by step):
//!
//! 1. request id (if the HTTP layer gave none), path validation;
//! 2. the seal lifecycle's paths (`sys/init`, `sys/unseal`, `sys/health`,
//!    ...), which the core's own piece declares and answers sealed or not,
//!    without quotas or audit, as Vault's HTTP handlers for them
//!    ([`crate::sys::lifecycle`]);
//! 3. sealed check;
//! 4. admit: route (longest mount prefix; `sys/` is a mount like any other)
//!    -> quota -> authenticate (the caller: token entry, ACL and identity
//!    policies, resolved once; none for the paths the backend declares
//!    unauthenticated) -> existence check -> authorize (ACL, the sudo the
//!    backend declares, wrapping TTL bounds);
//! 5. audit the request (when a device is enabled; fail closed);
//! 6. dispatch: spend a token use, give the backend the typed caller and
//!    the mount-relative path, call it;
//! 7. finish: mint a login's token, register leases, wrap if asked;
//! 8. audit the response (when a device is enabled).

use crate::error::CoreError;
use std::sync::Arc;

use coffer_policy::Acl;
use coffer_tokens::TokenEntry;
use coffer_types::{Error, ErrorKind, Operation, Request, Response, Result};

use crate::Core;
use crate::router::Route;
use crate::unsealed::Unsealed;

/// A request that passed admission, on its way to its backend.
pub(crate) struct Admitted {
    /// The request, its `relative_path` set to the path below its mount.
    pub req: Request,
    /// The mount that serves it.
    pub route: Arc<Route>,
    /// Who is asking.
    pub caller: Caller,
}

/// Who is asking: the token entry (absent for unauthenticated paths) and its
/// ACL. The backend sees what it may know of it as the request's
/// [`coffer_types::Caller`] ([`Caller::describe`]).
pub(crate) struct Caller {
    /// The caller's token entry, shared with the token store's cache.
    pub entry: Option<Arc<TokenEntry>>,
    /// The ACL compiled from the token's policies and its entity's.
    pub acl: Arc<Acl>,
    /// The policies the token has through its entity and groups, resolved
    /// with the ACL (empty without an entity).
    pub identity_policies: Vec<String>,
}

impl Caller {
    /// What a backend may know of the caller with token `entry`: its ids,
    /// identity and policies, never the token. Batch tokens have no
    /// cubbyhole, no accessor and no storage id.
    fn describe(&self, entry: &TokenEntry) -> coffer_types::Caller {
        let present = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        coffer_types::Caller {
            token_id: (!entry.is_batch())
                .then(|| present(&entry.id_hash))
                .flatten(),
            accessor: present(&entry.accessor),
            scope: present(entry.scope_id()),
            entity_id: present(&entry.entity_id),
            display_name: present(&entry.display_name),
            policies: entry.policies.clone(),
            identity_policies: self.identity_policies.clone(),
        }
    }
}

fn validate_path(path: &str) -> Result<()> {
    if path.contains('\0') {
        return Err(CoreError::PathContainsNul.into());
    }
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(CoreError::PathDotSegment.into());
    }
    Ok(())
}

/// The ACL of an unauthenticated request: it allows nothing. One for the
/// whole process, so logins do not build one each.
fn empty_acl() -> Arc<Acl> {
    static EMPTY: std::sync::LazyLock<Arc<Acl>> =
        std::sync::LazyLock::new(|| Arc::new(Acl::default()));
    EMPTY.clone()
}

/// Whether `path` matches one of `patterns`, Vault's special-path globs
/// (exact, `*` prefix, `+` one segment).
pub(crate) fn matches_special(patterns: &[String], path: &str) -> bool {
    coffer_sdk::special_path_matches(patterns, path)
}

impl Core {
    /// Handles one request from start to end and returns the response to send.
    pub async fn handle(&self, mut req: Request) -> Result<Response> {
        if req.id.is_empty() {
            req.id = coffer_crypto::random_uuid().map_err(|source| CoreError::Crypto {
                doing: "generating request id",
                source,
            })?;
        }
        req.path = req.path.trim_start_matches('/').to_owned();
        validate_path(&req.path)?;
        req.relative_path.clear();
        // The lifecycle's futures are large: boxed, and only for its paths,
        // so every other request's future stays small (it is moved whole
        // whenever it is created or boxed).
        if self.serves_lifecycle(&req) {
            return Box::pin(self.handle_lifecycle(req)).await;
        }
        let unsealed = self.unsealed()?;
        unsealed.handle(self, req).await
    }

    /// Whether `req` is for one of the seal lifecycle's paths.
    fn serves_lifecycle(&self, req: &Request) -> bool {
        let (piece, _) = self.lifecycle();
        req.path
            .strip_prefix(crate::sys::MOUNT)
            .is_some_and(|relative| piece.paths().iter().any(|d| d.matches(relative)))
    }

    /// Step 2: the seal lifecycle's piece answers, sealed or not.
    async fn handle_lifecycle(&self, mut req: Request) -> Result<Response> {
        let (piece, ctx) = self.lifecycle();
        req.relative_path = req.path[crate::sys::MOUNT.len()..].to_owned();
        req.mount_point = crate::sys::MOUNT.to_owned();
        req.mount_type = "system".to_owned();
        Ok(piece.handle(ctx, &req).await?.unwrap_or_default())
    }
}

impl Unsealed {
    /// The caller of `req`: its token's entry, ACL and identity policies;
    /// 403 without a valid token. Pieces that answer unauthenticated paths
    /// but say more to a caller with a token call it themselves.
    pub(crate) async fn authenticate(&self, req: &Request) -> Result<Caller> {
        let token = req
            .client_token
            .as_ref()
            .filter(|t| !t.is_empty())
            .ok_or_else(Error::permission_denied)?;
        let entry = self
            .tokens
            .lookup_shared(token.expose())
            .await?
            .filter(|e| e.cidr_allowed(req.client_addr))
            .ok_or_else(Error::permission_denied)?;
        let (acl, identity_policies) = self.resolve_policies(&entry)?;
        Ok(Caller {
            entry: Some(entry),
            acl,
            identity_policies,
        })
    }

    /// The pipeline from authentication on, in this order: admit (route,
    /// quota, authenticate, existence check, authorize), audit the request,
    /// dispatch (spend a token use, call the backend), finish (login token,
    /// leases, wrapping), audit the response. The audit steps do nothing
    /// when no device is enabled; when one is, a request no device could
    /// record is refused (fail closed), and a request refused at admission
    /// is recorded too (rate-limited ones excepted).
    pub(crate) async fn handle(&self, core: &Core, req: Request) -> Result<Response> {
        let audited = self.audit.broker().is_enabled();
        // A request refused at admission is audited too, so keep a copy.
        let copy = audited.then(|| req.clone());
        let mut admitted = match self.admit(req).await {
            Ok(admitted) => admitted,
            Err(e) => {
                if let Some(copy) = copy
                    && e.kind() != ErrorKind::RateLimited
                {
                    Box::pin(self.audit_rejected(copy, &e)).await?;
                }
                return Err(e);
            }
        };
        drop(copy);
        let record = if audited {
            Some(Box::pin(self.audit_request(&admitted)).await?)
        } else {
            None
        };
        let result = match self.dispatch(&mut admitted).await {
            Ok(response) => self.finish(&admitted, response).await,
            Err(e) => Err(e),
        };
        if let Some(record) = record {
            Box::pin(self.audit_response(core, &admitted, record, &result)).await?;
        }
        result
    }

    /// Routes the request, applies rate limits, authenticates the caller and
    /// authorizes the operation (ACL with the existence check, sudo, wrapping
    /// TTL bounds). On success the request carries the path relative to its
    /// mount.
    pub(crate) async fn admit(&self, mut req: Request) -> Result<Admitted> {
        // Vault lists a folder: `LIST secret/metadata/dir` is a listing of
        // `secret/metadata/dir/`, and the policy is checked on that path.
        if req.op() == Operation::List && !req.path.is_empty() && !req.path.ends_with('/') {
            req.path.push('/');
        }
        let full_path = req.path.as_str();
        let route = self.router().lookup(full_path);
        let relative = route
            .as_ref()
            .map(|r| relative_path(full_path, &r.prefix))
            .unwrap_or_default();
        let unauthenticated = route
            .as_ref()
            .is_some_and(|r| matches_special(&r.special.unauthenticated, &relative));
        let mount = route.as_ref().map(|r| r.prefix.as_str()).unwrap_or("");
        self.quotas
            .check(full_path, mount, req.client_addr, unauthenticated)?;
        let caller = if unauthenticated {
            Caller {
                entry: None,
                acl: empty_acl(),
                identity_policies: Vec::new(),
            }
        } else {
            self.authenticate(&req).await?
        };

        req.relative_path = relative;
        if let Some(route) = &route {
            req.mount_point = route.prefix.clone();
            req.mount_type = route.entry.mount_type.clone();
            req.mount_accessor = route.entry.accessor.clone();
        }

        if !unauthenticated {
            if let Some(route) = &route {
                self.existence_check(route, &mut req).await?;
            }
            let decision = caller.acl.authorize_with_wrapping(
                &req.path,
                req.op(),
                Some(&req.data),
                req.wrap_ttl,
            );
            if !decision.allowed {
                return Err(Error::permission_denied());
            }
            let needs_sudo = route
                .as_ref()
                .is_some_and(|r| matches_special(&r.special.root, &req.relative_path));
            if needs_sudo && !decision.root_privs {
                return Err(Error::permission_denied());
            }
        }

        let Some(route) = route else {
            return Err(CoreError::NoRoute(req.path.clone()).into());
        };
        Ok(Admitted { req, route, caller })
    }

    /// Spends a token use and hands the request, with its typed caller, to
    /// its backend. The request that spends a token's last use still
    /// succeeds; the token is revoked once it is answered.
    pub(crate) async fn dispatch(&self, admitted: &mut Admitted) -> Result<Response> {
        let Admitted { req, route, caller } = admitted;
        let mut spent_last_use = false;
        // Only tokens with a use limit have a use to spend (rare: boxed).
        if let Some(entry) = caller.entry.as_ref().filter(|e| e.num_uses > 0) {
            match Box::pin(self.tokens.use_token_deferred(entry)).await? {
                Some(updated) => {
                    spent_last_use = entry.num_uses > 0 && updated.num_uses == 0;
                    caller.entry = Some(Arc::new(updated));
                }
                None => return Err(Error::permission_denied()),
            }
        }
        if let Some(entry) = &caller.entry {
            req.caller = Some(caller.describe(entry));
        }
        let response = route.backend.handle(&route.ctx, req).await;
        if spent_last_use && let Some(entry) = &caller.entry {
            Box::pin(self.tokens.revoke_tree(entry)).await?;
        }
        match response? {
            Some(response) => Ok(response),
            // Vault answers a read that found nothing with 404 and no message.
            None if req.op() == Operation::Read => Err(Error::not_found()),
            None => Ok(Response::default()),
        }
    }

    /// Completes a backend's answer: mints the token of a login, registers
    /// token and secret leases, and wraps the response when asked.
    pub(crate) async fn finish(
        &self,
        admitted: &Admitted,
        mut response: Response,
    ) -> Result<Response> {
        let Admitted { req, route, caller } = admitted;
        if let Some(grant) = response.login.take() {
            // A login's token lease is registered as the token is minted.
            response.auth = Some(Box::pin(self.complete_login(route, &req.path, *grant)).await?);
        } else if response.auth.is_some() {
            Box::pin(self.track_token_lease(route, &req.relative_path, &response)).await?;
        }
        let token_ref = caller
            .entry
            .as_ref()
            .map(|e| e.id_hash.as_str())
            .unwrap_or("");
        if response.secret.is_some() {
            Box::pin(self.register_lease(route, &req.path, token_ref, &mut response)).await?;
        }
        if !response.is_empty() {
            response.mount_type = route.entry.mount_type.clone();
        }
        if let Some(ttl) = req.wrap_ttl
            && !response.is_empty()
            && response.raw.is_none()
        {
            return Box::pin(self.wrap(&req.id, response, ttl, &req.path)).await;
        }
        Ok(response)
    }

    /// Keeps token leases in step with the token store: a new service token
    /// (from `auth/token/create*` or a login) gets a lease; a renewal moves
    /// its lease's expiry.
    async fn track_token_lease(
        &self,
        route: &Route,
        relative: &str,
        response: &Response,
    ) -> Result<()> {
        let Some(auth) = response
            .auth
            .as_ref()
            .filter(|a| !a.client_token.is_empty())
        else {
            return Ok(());
        };
        let token_mount =
            route.table == crate::mounts::Table::Auth && route.entry.mount_type == "token";
        if token_mount && relative.starts_with("renew") {
            self.extend_token_lease(
                &auth.client_token,
                std::time::Duration::from_secs(auth.lease_duration),
            )
            .await
        } else {
            self.register_token_lease(&auth.client_token).await
        }
    }

    /// Turns an `update` into a `create` when the backend says the target
    /// does not exist yet, so policies can tell the two apart.
    async fn existence_check(&self, route: &Route, req: &mut Request) -> Result<()> {
        if req.op() != Operation::Update {
            return Ok(());
        }
        if route.backend.exists(&route.ctx, req).await? == Some(false) {
            req.operation = Some(Operation::Create);
        }
        Ok(())
    }
}

/// `path` relative to a mount prefix (`secret/data/x` under `secret/` -> `data/x`).
fn relative_path(path: &str, prefix: &str) -> String {
    path.strip_prefix(prefix)
        .or_else(|| (format!("{path}/") == prefix).then_some(""))
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_path_matching() {
        let pats = vec![
            "login/*".to_owned(),
            "accessors/".to_owned(),
            "exact".to_owned(),
        ];
        assert!(matches_special(&pats, "login/bob"));
        assert!(matches_special(&pats, "accessors"));
        assert!(matches_special(&pats, "accessors/"));
        assert!(matches_special(&pats, "exact"));
        assert!(!matches_special(&pats, "exactly"));
        assert!(!matches_special(&pats, "logi"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("secret/data/x", "secret/"), "data/x");
        assert_eq!(relative_path("secret", "secret/"), "");
        assert_eq!(
            relative_path("auth/token/lookup-self", "auth/token/"),
            "lookup-self"
        );
    }

    #[test]
    fn traversal_and_nul_rejected() {
        assert!(validate_path("secret/../sys").is_err());
        assert!(validate_path("secret/a\0").is_err());
        assert!(validate_path("secret/a..b").is_ok());
    }
}
