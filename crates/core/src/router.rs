//! Longest-prefix routing of request paths to mounts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use coffer_sdk::{Backend, Context, SpecialPaths};

use crate::mounts::{MountEntry, Table};

/// One routable mount.
pub(crate) struct Route {
    /// The full routing prefix (`secret/`, `auth/token/`).
    pub prefix: String,
    /// Which table it is in.
    pub table: Table,
    /// The mount entry.
    pub entry: MountEntry,
    /// The backend (`None` for `sys/`, which the core answers itself).
    pub backend: Option<Arc<dyn Backend>>,
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
            backend: None,
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
