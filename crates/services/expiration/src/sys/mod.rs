//! The lease endpoints under `sys/` (the expiration service's piece of the
//! system backend): their declarations, with Vault's fields and sudo flags,
//! and one typed handler per operation. The core dispatches `sys/` requests
//! whose path one of these declarations matches to
//! [`ExpirationManager`]'s [`Backend::handle`]. One path family per file.

mod admin;
mod lookup;
mod renew;
mod revoke;

#[cfg(test)]
use coffer_sdk::Context;
use coffer_sdk::{Backend, FieldDef, Path, PathDef, PathTable, Routes, handler};
use coffer_types::Operation::{self, List, Read, Update};
#[cfg(test)]
use coffer_types::{Request, Response, Result};

use crate::ExpirationManager;

const UPDATE: &[Operation] = &[Update];
const READ: &[Operation] = &[Read];
const LIST: &[Operation] = &[List];

/// A declaration of a lease endpoint (none has an existence check: writes
/// stay updates, as in Vault's system backend).
const fn def(
    pattern: &'static str,
    fields: &'static [FieldDef],
    operations: &'static [Operation],
    synopsis: &'static str,
    description: &'static str,
) -> PathDef {
    PathDef {
        pattern,
        fields,
        operations,
        existence_check: false,
        synopsis,
        description,
    }
}

/// The lease endpoints, relative to `sys/`, in matching order (the first
/// match wins, so a bare path comes before its `/*rest` twin, which also
/// matches it with an empty capture). Vault's `sys/renew` and
/// `sys/leases/renew` (and the other legacy twins) are one endpoint under
/// two paths: both are declared, with the same handlers.
///
/// Sudo, as in Vault's system backend: `leases/lookup/*`,
/// `(leases/)?revoke-prefix/*` and `(leases/)?revoke-force/*`.
pub(crate) fn table() -> PathTable<ExpirationManager> {
    PathTable::new(vec![
        // A LIST of `sys/leases/lookup` arrives as `leases/lookup/` (the
        // core adds the slash). Its own declaration must come before
        // `leases/lookup`, which tolerates a trailing slash; it is not
        // flagged sudo because the glob of a flagged `leases/lookup/` would
        // also cover `leases/lookup` (the update), but the sudo glob of
        // `leases/lookup/*prefix`, `leases/lookup/*`, covers it.
        Path::new(lookup::list_root_def()).list(handler!(lookup::list)),
        Path::new(lookup::lookup_def()).update(handler!(lookup::lookup)),
        Path::new(lookup::list_def())
            .list(handler!(lookup::list))
            .sudo(),
        Path::new(renew::def("renew")).update(handler!(renew::renew)),
        Path::new(renew::def("renew/*url_lease_id")).update(handler!(renew::renew)),
        Path::new(renew::def("leases/renew")).update(handler!(renew::renew)),
        Path::new(renew::def("leases/renew/*url_lease_id")).update(handler!(renew::renew)),
        Path::new(revoke::revoke_def("revoke")).update(handler!(revoke::revoke)),
        Path::new(revoke::revoke_def("revoke/*url_lease_id")).update(handler!(revoke::revoke)),
        Path::new(revoke::revoke_def("leases/revoke")).update(handler!(revoke::revoke)),
        Path::new(revoke::revoke_def("leases/revoke/*url_lease_id"))
            .update(handler!(revoke::revoke)),
        Path::new(revoke::prefix_def("revoke-prefix/*prefix"))
            .update(handler!(revoke::revoke_prefix))
            .sudo(),
        Path::new(revoke::prefix_def("leases/revoke-prefix/*prefix"))
            .update(handler!(revoke::revoke_prefix))
            .sudo(),
        Path::new(revoke::force_def("revoke-force/*prefix"))
            .update(handler!(revoke::revoke_force))
            .sudo(),
        Path::new(revoke::force_def("leases/revoke-force/*prefix"))
            .update(handler!(revoke::revoke_force))
            .sudo(),
        Path::new(admin::tidy_def()).update(handler!(admin::tidy)),
        Path::new(admin::count_def()).read(handler!(admin::count)),
        Path::new(admin::list_def()).read(handler!(admin::list)),
    ])
}

/// The lease endpoints' piece of `sys/`. Handlers use the manager's own
/// storage view, never `ctx.storage`; `req.relative_path` is relative to `sys/`.
/// Responses, statuses and messages are Vault's; `Ok(None)` is a 204.
impl Backend for ExpirationManager {
    fn routes(&self) -> Routes<'_> {
        self.sys.bind(self)
    }
}

/// Sends `req` to the lease endpoint at `relative` (a path under `sys/`)
/// through the piece's dispatch, with a throwaway `sys/` context: what the
/// core does, for the unit tests.
#[cfg(test)]
pub(crate) async fn call_sys(
    mgr: &ExpirationManager,
    relative: &str,
    req: &Request,
) -> Result<Option<Response>> {
    use std::sync::Arc;

    use coffer_storage::{MemoryStorage, Prefix, Storage, View};

    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let ctx = Context {
        storage: View::new(storage, Prefix::new("sys/").expect("a valid prefix")),
        config: coffer_sdk::MountConfig::default(),
        clock: mgr.clock.clone(),
        services: coffer_sdk::Services::default(),
    };
    let mut req = req.clone();
    req.relative_path = relative.to_owned();
    mgr.handle(&ctx, &req).await
}

#[cfg(test)]
mod tests {
    use coffer_sdk::special_path_matches;
    use serde_json::json;

    use super::*;
    use crate::test_support::{Harness, no_body, request, secret};

    /// The pattern of the first declaration matching `relative`.
    fn route(mgr: &ExpirationManager, relative: &str) -> Option<&'static str> {
        mgr.paths()
            .into_iter()
            .find(|d| d.matches(relative))
            .map(|d| d.pattern)
    }

    #[tokio::test]
    async fn declarations_are_vaults_lease_paths() {
        let h = Harness::new().await;
        let declared: Vec<(&str, &[Operation])> = h
            .mgr
            .paths()
            .into_iter()
            .map(|d| (d.pattern, d.operations))
            .collect();
        let mut expected: Vec<(&str, &[Operation])> = vec![
            ("leases/lookup/", LIST),
            ("leases/lookup", UPDATE),
            ("leases/lookup/*prefix", LIST),
        ];
        for family in ["renew", "revoke"] {
            for pattern in [
                family.to_owned(),
                format!("{family}/*url_lease_id"),
                format!("leases/{family}"),
                format!("leases/{family}/*url_lease_id"),
            ] {
                expected.push((pattern.leak(), UPDATE));
            }
        }
        for pattern in [
            "revoke-prefix/*prefix",
            "leases/revoke-prefix/*prefix",
            "revoke-force/*prefix",
            "leases/revoke-force/*prefix",
            "leases/tidy",
        ] {
            expected.push((pattern, UPDATE));
        }
        expected.push(("leases/count", READ));
        expected.push(("leases", READ));
        assert_eq!(declared, expected);
        let fields = |pattern: &str| -> Vec<&str> {
            let defs = h.mgr.paths();
            let d = defs.iter().find(|d| d.pattern == pattern).unwrap();
            d.fields.iter().map(|f| f.name).collect()
        };
        assert_eq!(fields("leases/lookup"), ["lease_id"]);
        assert_eq!(fields("renew/*url_lease_id"), ["lease_id", "increment"]);
        assert_eq!(fields("leases/revoke"), ["lease_id", "sync"]);
        assert_eq!(fields("revoke-prefix/*prefix"), ["sync"]);
        assert!(fields("leases/revoke-force/*prefix").is_empty());
        assert_eq!(fields("leases/count"), ["type", "include_child_namespaces"]);
        assert_eq!(
            fields("leases"),
            ["type", "include_child_namespaces", "limit"]
        );
    }

    #[tokio::test]
    async fn paths_route_like_vaults_patterns() {
        let h = Harness::new().await;
        let m = &h.mgr;
        assert_eq!(route(m, "leases/lookup"), Some("leases/lookup"));
        assert_eq!(route(m, "leases/lookup/"), Some("leases/lookup/"));
        assert_eq!(
            route(m, "leases/lookup/db/creds/"),
            Some("leases/lookup/*prefix")
        );
        assert_eq!(route(m, "renew"), Some("renew"));
        assert_eq!(
            route(m, "leases/renew/db/creds/x/AB"),
            Some("leases/renew/*url_lease_id")
        );
        assert_eq!(route(m, "revoke/db/x"), Some("revoke/*url_lease_id"));
        assert_eq!(route(m, "leases/revoke"), Some("leases/revoke"));
        assert_eq!(route(m, "revoke-prefix/db"), Some("revoke-prefix/*prefix"));
        assert_eq!(
            route(m, "leases/revoke-force/db/creds"),
            Some("leases/revoke-force/*prefix")
        );
        assert_eq!(route(m, "leases/tidy"), Some("leases/tidy"));
        assert_eq!(route(m, "leases/count"), Some("leases/count"));
        assert_eq!(route(m, "leases"), Some("leases"));
        for none in [
            "renewx",
            "leases/bogus",
            "mounts",
            "revoke-forcex/a",
            "leases/lookupx",
        ] {
            assert_eq!(route(m, none), None, "{none}");
        }
    }

    /// The sudo globs from the flags cover exactly what the hand-written
    /// list (Vault's) covered, checked on concrete paths.
    #[tokio::test]
    async fn sudo_comes_from_the_flags_and_matches_vaults_list() {
        const OLD_SUDO_PATHS: &[&str] = &[
            "leases/lookup/*",
            "leases/revoke-prefix/*",
            "leases/revoke-force/*",
            "revoke-prefix/*",
            "revoke-force/*",
        ];
        let old = |path: &str| {
            OLD_SUDO_PATHS
                .iter()
                .any(|p| path.starts_with(p.strip_suffix('*').unwrap()))
        };
        let h = Harness::new().await;
        let special = h.mgr.special_paths();
        assert!(special.unauthenticated.is_empty());
        assert_eq!(
            special.root,
            [
                "leases/lookup/*",
                "revoke-prefix/*",
                "leases/revoke-prefix/*",
                "revoke-force/*",
                "leases/revoke-force/*",
            ]
        );
        for path in [
            "leases/lookup/",
            "leases/lookup/db/creds/",
            "leases/lookup/db/creds/a/XYZ",
            "revoke-prefix/db",
            "revoke-prefix/db/creds/",
            "leases/revoke-prefix/db",
            "revoke-force/db",
            "leases/revoke-force/aws/creds",
            "leases/lookup",
            "renew",
            "renew/db/creds/a/XYZ",
            "leases/renew/db/creds/a/XYZ",
            "revoke/db/creds/a/XYZ",
            "leases/revoke",
            "leases/tidy",
            "leases/count",
            "leases",
        ] {
            assert_eq!(
                special_path_matches(&special.root, path),
                old(path),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn wrong_operations_are_405_and_unknown_paths_404() {
        let h = Harness::new().await;
        let m = &h.mgr;
        let err = call_sys(m, "leases/lookup", &request(Operation::Read, no_body()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let update = request(Operation::Update, no_body());
        for path in ["leases/lookup/x/", "leases/lookup/"] {
            let err = call_sys(m, path, &update).await.unwrap_err();
            assert_eq!(err.status(), 405, "{path}");
        }
        let err = call_sys(m, "leases/count", &update).await.unwrap_err();
        assert_eq!(err.status(), 405);
        let err = call_sys(m, "leases/nope", &update).await.unwrap_err();
        assert_eq!(err.status(), 404);
        // Create (a write to a path without an existence check) is an update.
        assert!(
            call_sys(m, "revoke/x/y", &request(Operation::Create, no_body()))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn an_empty_prefix_is_not_a_path() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let update = request(Operation::Update, no_body());
        for path in [
            "revoke-prefix",
            "revoke-prefix/",
            "leases/revoke-prefix/",
            "revoke-force",
            "leases/revoke-force/",
        ] {
            let err = call_sys(&h.mgr, path, &update).await.unwrap_err();
            assert_eq!(
                (err.status(), err.messages()),
                (404, &["unsupported path".to_owned()][..]),
                "{path}"
            );
        }
        assert!(h.mgr.lookup(&lease.lease_id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn unknown_fields_are_a_warning() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let req = request(
            Operation::Update,
            json!({"lease_id": lease.lease_id, "bogus": 1}),
        );
        let resp = call_sys(&h.mgr, "leases/revoke", &req)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
        assert!(h.mgr.lookup(&lease.lease_id).await.unwrap().is_none());
    }

    /// Every handler reads only the fields its path declares.
    #[tokio::test]
    async fn handlers_read_only_declared_fields() {
        let h = Harness::new().await;
        let sdk = coffer_sdk::testing::Harness::new();
        let problems =
            coffer_sdk::field_walk::undeclared_reads(h.mgr.as_ref(), &sdk.ctx, |_| {}).await;
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[tokio::test]
    async fn help_comes_from_the_declarations() {
        let h = Harness::new().await;
        let resp = call_sys(
            &h.mgr,
            "leases/renew/x",
            &request(Operation::Help, no_body()),
        )
        .await
        .unwrap()
        .unwrap();
        let help = resp.data.unwrap()["help"].as_str().unwrap().to_owned();
        assert!(help.contains("increment (duration (sec))"), "{help}");
    }
}
