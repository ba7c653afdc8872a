//! The HTTP-level lease endpoints under `sys/`: which paths they are, which
//! operations each takes, and dispatch. One path family per file.

mod admin;
mod lookup;
mod renew;
mod revoke;

use coffer_types::{Operation, Request, Response, Result};

use crate::ExpirationManager;
use crate::error::ExpirationError;

/// `sys/` paths (relative, `*` = prefix) of this crate that need `sudo`, as
/// in Vault's system backend.
pub const SUDO_PATHS: &[&str] = &[
    "leases/lookup/*",
    "leases/revoke-prefix/*",
    "leases/revoke-force/*",
    "revoke-prefix/*",
    "revoke-force/*",
];

/// One lease endpoint, parsed from the path relative to `sys/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint<'a> {
    /// `leases/lookup`
    Lookup,
    /// `leases/lookup/:prefix` (the prefix may be empty)
    LookupList(&'a str),
    /// `(leases/)?renew(/:lease_id)?`
    Renew(Option<&'a str>),
    /// `(leases/)?revoke(/:lease_id)?`
    Revoke(Option<&'a str>),
    /// `(leases/)?revoke-prefix/:prefix`
    RevokePrefix(&'a str),
    /// `(leases/)?revoke-force/:prefix`
    RevokeForce(&'a str),
    /// `leases/tidy`
    Tidy,
    /// `leases/count`
    Count,
    /// `leases`
    List,
}

/// `name` or `name/<something non-empty>`; `None` if `path` is neither.
fn with_optional_param<'a>(path: &'a str, name: &str) -> Option<Option<&'a str>> {
    let rest = path.strip_prefix(name)?;
    if rest.is_empty() {
        return Some(None);
    }
    let param = rest.strip_prefix('/')?;
    (!param.is_empty()).then_some(Some(param))
}

/// `name/<something non-empty>`.
fn with_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    with_optional_param(path, name).flatten()
}

fn parse(relative: &str) -> Option<Endpoint<'_>> {
    match relative {
        "leases" => return Some(Endpoint::List),
        "leases/lookup" => return Some(Endpoint::Lookup),
        "leases/tidy" => return Some(Endpoint::Tidy),
        "leases/count" => return Some(Endpoint::Count),
        _ => {}
    }
    if let Some(prefix) = relative.strip_prefix("leases/lookup/") {
        return Some(Endpoint::LookupList(prefix));
    }
    let rest = relative.strip_prefix("leases/").unwrap_or(relative);
    if let Some(id) = with_optional_param(rest, "renew") {
        return Some(Endpoint::Renew(id));
    }
    if let Some(id) = with_optional_param(rest, "revoke") {
        return Some(Endpoint::Revoke(id));
    }
    if let Some(prefix) = with_param(rest, "revoke-prefix") {
        return Some(Endpoint::RevokePrefix(prefix));
    }
    with_param(rest, "revoke-force").map(Endpoint::RevokeForce)
}

fn allow(op: Operation, allowed: Operation) -> Result<()> {
    let op = if op == Operation::Create {
        Operation::Update
    } else {
        op
    };
    if op == allowed {
        Ok(())
    } else {
        Err(ExpirationError::UnsupportedOperation.into())
    }
}

impl ExpirationManager {
    /// Whether `relative` (a path under `sys/`) is one of the lease
    /// endpoints [`ExpirationManager::handle_sys`] answers.
    pub fn handles_sys_path(relative: &str) -> bool {
        parse(relative).is_some()
    }

    /// Answers a lease endpoint; `relative` is the path under `sys/`:
    /// `leases/lookup` (update), `leases/lookup/:prefix` (list),
    /// `(leases/)?renew(/:lease_id)?`, `(leases/)?revoke(/:lease_id)?`,
    /// `(leases/)?revoke-prefix/:prefix`, `(leases/)?revoke-force/:prefix`
    /// and `leases/tidy` (update), `leases/count` and `leases` (read).
    /// Response shapes, status codes and messages are Vault's; `Ok(None)` is
    /// a 204. The core enforces `sudo` (see [`SUDO_PATHS`]).
    pub async fn handle_sys(&self, relative: &str, req: &Request) -> Result<Option<Response>> {
        let Some(endpoint) = parse(relative) else {
            return Err(ExpirationError::UnsupportedPath.into());
        };
        let op = req.op();
        match endpoint {
            Endpoint::Lookup => {
                allow(op, Operation::Update)?;
                lookup::lookup(self, req).await.map(Some)
            }
            Endpoint::LookupList(prefix) => {
                allow(op, Operation::List)?;
                lookup::list(self, prefix).await.map(Some)
            }
            Endpoint::Renew(url_id) => {
                allow(op, Operation::Update)?;
                renew::renew(self, url_id, req).await.map(Some)
            }
            Endpoint::Revoke(url_id) => {
                allow(op, Operation::Update)?;
                revoke::revoke(self, url_id, req).await
            }
            Endpoint::RevokePrefix(prefix) => {
                allow(op, Operation::Update)?;
                revoke::revoke_prefix(self, prefix, req).await
            }
            Endpoint::RevokeForce(prefix) => {
                allow(op, Operation::Update)?;
                revoke::revoke_force(self, prefix).await
            }
            Endpoint::Tidy => {
                allow(op, Operation::Update)?;
                Ok(Some(admin::tidy(self)))
            }
            Endpoint::Count => {
                allow(op, Operation::Read)?;
                admin::count(self, req).await
            }
            Endpoint::List => {
                allow(op, Operation::Read)?;
                admin::list(self, req).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, no_body, request};

    #[test]
    fn paths_parse_like_vaults_patterns() {
        assert_eq!(parse("leases/lookup"), Some(Endpoint::Lookup));
        assert_eq!(parse("leases/lookup/"), Some(Endpoint::LookupList("")));
        assert_eq!(
            parse("leases/lookup/db/creds/"),
            Some(Endpoint::LookupList("db/creds/"))
        );
        assert_eq!(parse("renew"), Some(Endpoint::Renew(None)));
        assert_eq!(
            parse("leases/renew/db/creds/x/AB"),
            Some(Endpoint::Renew(Some("db/creds/x/AB")))
        );
        assert_eq!(parse("revoke/db/x"), Some(Endpoint::Revoke(Some("db/x"))));
        assert_eq!(parse("leases/revoke"), Some(Endpoint::Revoke(None)));
        assert_eq!(
            parse("revoke-prefix/db"),
            Some(Endpoint::RevokePrefix("db"))
        );
        assert_eq!(
            parse("leases/revoke-force/db/creds"),
            Some(Endpoint::RevokeForce("db/creds"))
        );
        assert_eq!(parse("leases/tidy"), Some(Endpoint::Tidy));
        assert_eq!(parse("leases/count"), Some(Endpoint::Count));
        assert_eq!(parse("leases"), Some(Endpoint::List));
        for none in [
            "revoke-prefix",
            "revoke-prefix/",
            "revoke/",
            "renewx",
            "leases/bogus",
            "mounts",
            "revoke-forcex/a",
        ] {
            assert_eq!(parse(none), None, "{none}");
            assert!(!ExpirationManager::handles_sys_path(none));
        }
    }

    #[tokio::test]
    async fn wrong_operations_are_405_and_unknown_paths_404() {
        let h = Harness::new().await;
        let err = h
            .mgr
            .handle_sys("leases/lookup", &request(Operation::Read, no_body()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = h
            .mgr
            .handle_sys("leases/lookup/x/", &request(Operation::Update, no_body()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = h
            .mgr
            .handle_sys("leases/count", &request(Operation::Update, no_body()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = h
            .mgr
            .handle_sys("leases/nope", &request(Operation::Update, no_body()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        // Create (a write to a path without an existence check) is an update.
        assert!(
            h.mgr
                .handle_sys("revoke/x/y", &request(Operation::Create, no_body()))
                .await
                .unwrap()
                .is_none()
        );
    }
}
