//! The request pipeline. Every request, login included, goes through
//! [`Core::handle`] and then `Unsealed::handle`, in this order (the code
//! below follows it step by step):
//!
//! 1. request id (if the HTTP layer gave none), path validation;
//! 2. the unauthenticated `sys/` endpoints that work while sealed;
//! 3. sealed check;
//! 4. admit: route (longest mount prefix) -> quota -> authenticate (the
//!    caller: token entry, ACL and identity policies, resolved once; none
//!    for the backend's unauthenticated paths) -> existence check ->
//!    authorize (ACL, sudo, wrapping TTL bounds);
//! 5. audit the request (when a device is enabled; fail closed);
//! 6. dispatch: spend a token use, call the backend (or the core for
//!    `sys/`);
//! 7. finish: mint a login's token, register leases, wrap if asked;
//! 8. audit the response (when a device is enabled).

use std::sync::Arc;

use coffer_policy::Acl;
use coffer_tokens::TokenEntry;
use coffer_types::{Error, ErrorKind, Operation, Request, Response, Result};
use serde_json::Value;

use crate::Core;
use crate::router::Route;
use crate::sys;
use crate::unsealed::Unsealed;

/// A request that passed admission, on its way to its backend.
pub(crate) struct Admitted {
    /// The request, its path now relative to the mount.
    pub req: Request,
    /// The full request path (`secret/data/app`).
    pub full_path: String,
    /// The mount that serves it.
    pub route: Arc<Route>,
    /// Who is asking.
    pub caller: Caller,
}

/// Who is asking: the token entry (absent for unauthenticated paths) and its ACL.
pub(crate) struct Caller {
    /// The caller's token entry, shared with the token store's cache.
    pub entry: Option<Arc<TokenEntry>>,
    /// The ACL compiled from the token's policies and its entity's.
    pub acl: Arc<Acl>,
    /// The policies the token has through its entity and groups, resolved
    /// with the ACL (empty without an entity).
    pub identity_policies: Vec<String>,
}

fn validate_path(path: &str) -> Result<()> {
    if path.contains('\0') {
        return Err(Error::invalid("invalid request path: contains NUL"));
    }
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(Error::invalid(
            "invalid request path: contains a '.' or '..' segment",
        ));
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
            req.id = coffer_crypto::random_uuid()
                .map_err(|e| Error::internal(format!("generating request id: {e}")))?;
        }
        req.path = req.path.trim_start_matches('/').to_owned();
        validate_path(&req.path)?;
        // As Vault: unwrapping with no client token uses the token in the body.
        if req.path == "sys/wrapping/unwrap"
            && req.client_token.as_ref().is_none_or(|t| t.is_empty())
            && let Some(Value::String(token)) = req.data.remove("token")
        {
            req.client_token = Some(token.into());
        }
        // The unauthenticated sys endpoints' futures are large: boxed, and
        // only for sys paths, so every other request's future stays small
        // (it is moved whole whenever it is created or boxed).
        if req.path.starts_with("sys/")
            && let Some(response) = Box::pin(sys::unauthenticated(self, &req)).await
        {
            return response;
        }
        let unsealed = self.unsealed()?;
        unsealed.handle(self, req).await
    }
}

impl Unsealed {
    async fn authenticate(&self, req: &Request) -> Result<Caller> {
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
        let result = match self.dispatch(core, &mut admitted).await {
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
        let mut full_path = std::mem::take(&mut req.path);
        // Vault lists a folder: `LIST secret/metadata/dir` is a listing of
        // `secret/metadata/dir/`, and the policy is checked on that path.
        if req.op() == Operation::List && !full_path.is_empty() && !full_path.ends_with('/') {
            full_path.push('/');
        }
        let route = self.router().lookup(&full_path);
        let relative = route
            .as_ref()
            .map(|r| relative_path(&full_path, &r.prefix))
            .unwrap_or_default();
        let is_sys = route.as_ref().is_some_and(|r| r.backend.is_none());
        let unauthenticated = route
            .as_ref()
            .is_some_and(|r| matches_special(&r.special.unauthenticated, &relative));
        let acl_exempt = is_sys && sys::acl_exempt(&relative);
        let mount = route.as_ref().map(|r| r.prefix.as_str()).unwrap_or("");
        self.quotas
            .check(&full_path, mount, req.client_addr, unauthenticated)?;
        let caller = if unauthenticated {
            Caller {
                entry: None,
                acl: empty_acl(),
                identity_policies: Vec::new(),
            }
        } else {
            self.authenticate(&req).await?
        };

        req.path = relative;
        if let Some(route) = &route {
            req.mount_point = route.prefix.clone();
            req.mount_type = route.entry.mount_type.clone();
            req.mount_accessor = route.entry.accessor.clone();
        }

        if !unauthenticated && !acl_exempt {
            if let Some(route) = &route {
                self.existence_check(route, &mut req).await?;
            }
            let decision = caller.acl.authorize_with_wrapping(
                &full_path,
                req.op(),
                Some(&req.data),
                req.wrap_ttl,
            );
            if !decision.allowed {
                return Err(Error::permission_denied());
            }
            let needs_sudo = match &route {
                Some(_) if is_sys => sys::needs_sudo(self, &req.path),
                Some(r) => matches_special(&r.special.root, &req.path),
                None => false,
            };
            if needs_sudo && !decision.root_privs {
                return Err(Error::permission_denied());
            }
        }

        let Some(route) = route else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no handler for route {full_path:?}. route entry not found."),
            ));
        };
        Ok(Admitted {
            req,
            full_path,
            route,
            caller,
        })
    }

    /// Spends a token use and hands the request to its backend (or to the
    /// core for `sys/`). The request that spends a token's last use still
    /// succeeds; the token is revoked once it is answered.
    pub(crate) async fn dispatch(&self, core: &Core, admitted: &mut Admitted) -> Result<Response> {
        let Admitted {
            req,
            full_path,
            route,
            caller,
        } = admitted;
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
            // Batch tokens have no cubbyhole and no accessor.
            req.token_scope = Some(entry.scope_id().to_owned()).filter(|s| !s.is_empty());
            req.token_accessor = Some(entry.accessor.clone()).filter(|a| !a.is_empty());
            req.token_id =
                (!entry.is_batch() && !entry.id_hash.is_empty()).then(|| entry.id_hash.clone());
            req.entity_id = (!entry.entity_id.is_empty()).then(|| entry.entity_id.clone());
            req.display_name = Some(entry.display_name.clone()).filter(|d| !d.is_empty());
        }
        let response = match &route.backend {
            None => Box::pin(sys::handle(core, self, &route.ctx, caller, req, full_path)).await,
            Some(backend) => backend.handle(&route.ctx, req).await,
        };
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
        let Admitted {
            req,
            full_path,
            route,
            caller,
        } = admitted;
        if let Some(grant) = response.login.take() {
            // A login's token lease is registered as the token is minted.
            response.auth = Some(Box::pin(self.complete_login(route, full_path, *grant)).await?);
        } else if response.auth.is_some() {
            Box::pin(self.track_token_lease(route, &req.path, &response)).await?;
        }
        let token_ref = caller
            .entry
            .as_ref()
            .map(|e| e.id_hash.as_str())
            .unwrap_or("");
        if response.secret.is_some() {
            Box::pin(self.register_lease(route, full_path, token_ref, &mut response)).await?;
        }
        if !response.is_empty() {
            response.mount_type = route.entry.mount_type.clone();
        }
        if let Some(ttl) = req.wrap_ttl
            && !response.is_empty()
            && response.raw.is_none()
        {
            return Box::pin(self.wrap(&req.id, response, ttl, full_path)).await;
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
    /// does not exist yet, so policies can tell the two apart. `req.path` is
    /// already relative to the mount.
    async fn existence_check(&self, route: &Route, req: &mut Request) -> Result<()> {
        if req.op() != Operation::Update {
            return Ok(());
        }
        let exists = match &route.backend {
            Some(backend) => backend.exists(&route.ctx, req).await?,
            None => coffer_sdk::Backend::exists(&self.sys_pieces, &route.ctx, req).await?,
        };
        if exists == Some(false) {
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
