//! Longest-prefix routing of request paths to mounts.

use std::collections::BTreeMap;
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

/// An immutable snapshot of every mount; replaced whole when a table changes.
#[derive(Default)]
pub(crate) struct Router {
    routes: BTreeMap<String, Arc<Route>>,
}

impl Router {
    /// Adds a route.
    pub fn insert(&mut self, route: Route) {
        self.routes.insert(route.prefix.clone(), Arc::new(route));
    }

    /// The mount that serves `path`: the longest mount prefix of it. `path`
    /// without a trailing slash also matches a mount of the same name
    /// (`secret` -> `secret/`). Costs one map lookup per path segment.
    pub fn lookup(&self, path: &str) -> Option<Arc<Route>> {
        let with_slash;
        let candidate = if path.ends_with('/') {
            path
        } else {
            with_slash = format!("{path}/");
            &with_slash
        };
        let mut ends: Vec<usize> = candidate.match_indices('/').map(|(i, _)| i + 1).collect();
        ends.reverse();
        ends.into_iter()
            .find_map(|end| self.routes.get(&candidate[..end]).cloned())
    }

    /// The existing mount that conflicts with a new one at `prefix`: one that
    /// is equal to it, contains it, or is nested inside it.
    pub fn conflict(&self, prefix: &str) -> Option<String> {
        if let Some(route) = self.lookup(prefix) {
            return Some(route.prefix.clone());
        }
        self.routes
            .range(prefix.to_owned()..)
            .next()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(p, _)| p.clone())
    }

    /// Every route, sorted by prefix.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.routes.values()
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
            r.insert(route(p));
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
    }

    #[test]
    fn conflicts_cover_equal_parent_and_nested() {
        let mut r = Router::default();
        r.insert(route("secret/"));
        r.insert(route("a/b/"));
        assert_eq!(r.conflict("secret/").as_deref(), Some("secret/"));
        assert_eq!(r.conflict("secret/inner/").as_deref(), Some("secret/"));
        assert_eq!(r.conflict("a/").as_deref(), Some("a/b/"));
        assert_eq!(r.conflict("ab/"), None);
        assert_eq!(r.conflict("sec/"), None);
    }
}
