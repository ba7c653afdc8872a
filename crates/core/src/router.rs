//! Longest-prefix routing of request paths to mounts, and the one weak
//! [`RouterHandle`] through which the services call back into the router.
//!
//! Services must reach the mounts: the expiration manager revokes a lease
//! through the engine that issued it, the token store renews a login through
//! its auth method and tells every mount that a token is gone, the scheduler
//! runs a job in its engine, the quota manager and the identity store resolve
//! mounts. But the router owns the backends, and the token and identity
//! backends own the very stores that hold such callbacks: a strong pointer
//! back would be a cycle that keeps the backends (and the barrier's keys in
//! their views) alive after sealing. So the unsealed state is the router's
//! only owner, and every callback holds a [`RouterHandle`], a weak pointer to
//! the router's slot. Once the server seals and the unsealed state is
//! dropped, the handle upgrades to nothing: the callbacks fail with the
//! sealed error (503), or do nothing where nothing is left to do, as a
//! request to a sealed server does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, Weak};

use coffer_sdk::{Backend, Context, SpecialPaths};
use coffer_types::{Error, Result};

use crate::mounts::{MountEntry, Table};

/// One routable mount.
pub(crate) struct Route {
    /// The full routing prefix (`secret/`, `auth/token/`).
    pub prefix: String,
    /// Which table it is in.
    pub table: Table,
    /// The mount entry.
    pub entry: MountEntry,
    /// The backend.
    pub backend: Arc<dyn Backend>,
    /// The backend's unauthenticated and sudo paths, read once at mount time.
    pub special: SpecialPaths,
    /// The context handed to the backend.
    pub ctx: Context,
}

/// Longest-prefix routing of request paths to values keyed by mount prefix
/// (`secret/`, `auth/token/`). Lookups do not allocate and cost one map
/// probe per path segment. The core's [`Router`] is one over its routes.
#[derive(Debug)]
pub struct MountRouter<T> {
    routes: BTreeMap<String, Arc<T>>,
    /// The same routes by prefix without its trailing `/`, for lookups by
    /// slices of the request path.
    by_name: HashMap<String, Arc<T>>,
}

impl<T> Default for MountRouter<T> {
    fn default() -> Self {
        Self {
            routes: BTreeMap::new(),
            by_name: HashMap::new(),
        }
    }
}

/// An immutable snapshot of every mount; replaced whole when a table changes.
pub(crate) type Router = MountRouter<Route>;

impl Router {
    /// Adds a route under its own prefix.
    pub fn insert_route(&mut self, route: Route) {
        let prefix = route.prefix.clone();
        self.insert(prefix, route);
    }
}

impl Route {
    /// `path` relative to this mount (`database/creds/app` on `database/`
    /// is `creds/app`); empty for the mount itself.
    pub fn relative<'a>(&self, path: &'a str) -> &'a str {
        path.strip_prefix(self.prefix.as_str()).unwrap_or("")
    }
}

/// Where the current router snapshot lives: replaced whole (under the write
/// lock) on every mount change, read by cloning the `Arc`.
pub(crate) type RouterSlot = RwLock<Arc<Router>>;

/// The current snapshot in `slot`. A poisoned lock still holds a whole
/// snapshot (writers only swap an `Arc`), so it is read anyway.
pub(crate) fn current(slot: &RouterSlot) -> Arc<Router> {
    slot.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Makes `router` the snapshot in `slot`: requests already routed keep the
/// one they have.
pub(crate) fn install(slot: &RouterSlot, router: Router) {
    *slot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(router);
}

/// A cheap, clonable, weak handle on the router, for the services' callbacks
/// (see the module documentation for why it is weak). It implements the
/// services' traits that need nothing but the router (the scheduler's
/// `JobRunner`, the token store's `LoginRenewer`, the quota manager's
/// `MountResolver`); the adapters that need more hold one.
#[derive(Clone)]
pub(crate) struct RouterHandle {
    slot: Weak<RouterSlot>,
}

impl RouterHandle {
    /// A handle on `slot` that does not keep it alive.
    pub fn new(slot: &Arc<RouterSlot>) -> Self {
        Self {
            slot: Arc::downgrade(slot),
        }
    }

    /// The current snapshot, or `None` once the unsealed state is gone.
    pub fn snapshot(&self) -> Option<Arc<Router>> {
        self.slot.upgrade().map(|slot| current(&slot))
    }

    /// The mount that serves `path` (`None` when no mount does); the
    /// sealed error once the unsealed state is gone.
    pub fn route_for(&self, path: &str) -> Result<Option<Arc<Route>>> {
        let router = self.snapshot().ok_or_else(Error::sealed)?;
        Ok(router.lookup(path))
    }
}

impl<T> MountRouter<T> {
    /// Adds `value` for the mount `prefix` (which ends in `/`).
    pub fn insert(&mut self, prefix: String, value: T) {
        let value = Arc::new(value);
        let name = prefix.strip_suffix('/').unwrap_or(&prefix).to_owned();
        self.by_name.insert(name, value.clone());
        self.routes.insert(prefix, value);
    }

    /// The value of the mount that serves `path`: the longest mount prefix
    /// of it. `path` without a trailing slash also matches a mount of the
    /// same name (`secret` -> `secret/`).
    pub fn lookup(&self, path: &str) -> Option<Arc<T>> {
        let path = path.strip_suffix('/').unwrap_or(path);
        if let Some(whole) = self.by_name.get(path) {
            return Some(whole.clone());
        }
        path.match_indices('/')
            .rev()
            .find_map(|(i, _)| self.by_name.get(&path[..i]).cloned())
    }

    /// The existing mount that conflicts with a new one at `prefix`: one that
    /// is equal to it, contains it, or is nested inside it.
    pub fn conflict(&self, prefix: &str) -> Option<String> {
        if let Some((existing, _)) = self.lookup_entry(prefix) {
            return Some(existing);
        }
        self.routes
            .range(prefix.to_owned()..)
            .next()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(p, _)| p.clone())
    }

    /// Like [`MountRouter::lookup`], with the matching prefix.
    fn lookup_entry(&self, path: &str) -> Option<(String, Arc<T>)> {
        let with_slash = if path.ends_with('/') {
            path.to_owned()
        } else {
            format!("{path}/")
        };
        with_slash.match_indices('/').rev().find_map(|(i, _)| {
            let prefix = &with_slash[..=i];
            self.routes
                .get(prefix)
                .map(|v| (prefix.to_owned(), v.clone()))
        })
    }

    /// Every value, sorted by prefix.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<T>> {
        self.routes.values()
    }

    /// How many mounts there are.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_sdk::{MountConfig, SystemClock};
    use coffer_storage::{MemoryStorage, Prefix, View};

    fn route(prefix: &str) -> Route {
        Route {
            prefix: prefix.to_owned(),
            table: Table::Secrets,
            entry: MountEntry::new(prefix, "kv", "").unwrap(),
            backend: Arc::new(coffer_sdk::Assembly::new(Vec::new())),
            special: SpecialPaths::default(),
            ctx: Context {
                storage: View::new(Arc::new(MemoryStorage::new()), Prefix::root()),
                config: MountConfig::default(),
                clock: Arc::new(SystemClock),
                services: coffer_sdk::Services::default(),
            },
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let mut r = Router::default();
        for p in ["secret/", "secret/team/", "auth/token/", "kv/"] {
            r.insert_route(route(p));
        }
        assert_eq!(r.lookup("secret/data/x").unwrap().prefix, "secret/");
        assert_eq!(r.lookup("secret/team/x").unwrap().prefix, "secret/team/");
        assert_eq!(r.lookup("secret").unwrap().prefix, "secret/");
        assert_eq!(
            r.lookup("auth/token/lookup-self").unwrap().prefix,
            "auth/token/"
        );
        assert!(r.lookup("secretx/a").is_none());
        assert!(r.lookup("nothing").is_none());
        assert!(r.lookup("secre").is_none());
        assert!(
            r.lookup("secret-x").is_none(),
            "a longer sibling is not a match"
        );
        assert_eq!(r.lookup("secret/team").unwrap().prefix, "secret/team/");
        assert_eq!(r.lookup("secret/").unwrap().prefix, "secret/");
    }

    #[test]
    fn the_handle_serves_mounts_until_the_router_is_gone() {
        let mut r = Router::default();
        r.insert_route(route("sys/"));
        r.insert_route(route("database/"));
        let slot: Arc<RouterSlot> = Arc::new(RwLock::new(Arc::new(r)));
        let handle = RouterHandle::new(&slot);

        let route = handle.route_for("database/creds/app").unwrap().unwrap();
        assert_eq!(route.prefix, "database/");
        assert_eq!(route.relative("database/creds/app"), "creds/app");
        assert_eq!(route.relative("database"), "");
        assert!(handle.route_for("nothing/x").unwrap().is_none());

        // A rebuilt router is seen at once: the handle reads the slot.
        *slot.write().unwrap() = Arc::new(Router::default());
        assert!(handle.route_for("database/creds/app").unwrap().is_none());
        assert_eq!(handle.snapshot().unwrap().len(), 0);

        drop(slot);
        assert!(handle.snapshot().is_none());
        assert_eq!(
            handle
                .clone()
                .route_for("database/x")
                .err()
                .unwrap()
                .status(),
            503,
            "once sealed, callbacks fail as a sealed server does"
        );
    }

    #[test]
    fn conflicts_cover_equal_parent_and_nested() {
        let mut r = Router::default();
        r.insert_route(route("secret/"));
        r.insert_route(route("a/b/"));
        assert_eq!(r.conflict("secret/").as_deref(), Some("secret/"));
        assert_eq!(r.conflict("secret/inner/").as_deref(), Some("secret/"));
        assert_eq!(r.conflict("a/").as_deref(), Some("a/b/"));
        assert_eq!(r.conflict("ab/"), None);
        assert_eq!(r.conflict("sec/"), None);
    }
}
