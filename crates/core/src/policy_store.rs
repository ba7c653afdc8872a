//! ACL policies: persisted in the barrier under `sys/policy/`, kept parsed in
//! memory, and compiled into cached ACLs per set of policy names.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use coffer_policy::{Acl, Capability, Policy};
use coffer_storage::{Key, Prefix, Storage, View};
use coffer_types::{Error, Result};

/// The reserved policy that grants everything.
pub(crate) const ROOT_POLICY: &str = "root";
/// The policy attached to every token unless asked otherwise.
pub(crate) const DEFAULT_POLICY: &str = "default";

/// The policy store.
pub(crate) struct PolicyStore {
    view: View,
    policies: RwLock<HashMap<String, Arc<Policy>>>,
    acls: RwLock<HashMap<Vec<String>, Arc<Acl>>>,
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Poisoning only means a panic elsewhere; the maps stay consistent because
    // every write below is a single insert/remove/clear.
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl PolicyStore {
    /// Loads every stored policy from `view`.
    pub async fn load(view: View) -> Result<Self> {
        let mut policies = HashMap::new();
        for name in view.list(&Prefix::root()).await? {
            if name.ends_with('/') {
                continue;
            }
            if let Some(bytes) = view.get(&Key::new(name.clone())?).await? {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::internal(format!("stored policy {name:?} is not UTF-8")))?;
                let policy = Policy::parse(&name, &text).map_err(|e| {
                    Error::internal(format!("stored policy {name:?} no longer parses: {e}"))
                })?;
                policies.insert(name, Arc::new(policy));
            }
        }
        Ok(Self {
            view,
            policies: RwLock::new(policies),
            acls: RwLock::new(HashMap::new()),
        })
    }

    /// Writes the built-in `default` policy unless it exists.
    pub async fn ensure_default(&self) -> Result<()> {
        if self.get(DEFAULT_POLICY).is_none() {
            self.set(DEFAULT_POLICY, coffer_policy::DEFAULT_POLICY)
                .await?;
        }
        Ok(())
    }

    /// A policy by name.
    pub fn get(&self, name: &str) -> Option<Arc<Policy>> {
        read_lock(&self.policies)
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// Every policy name, sorted, including `root`.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = read_lock(&self.policies).keys().cloned().collect();
        names.push(ROOT_POLICY.to_owned());
        names.sort();
        names
    }

    /// Parses and stores a policy. `root` cannot be written.
    pub async fn set(&self, name: &str, text: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        if name == ROOT_POLICY {
            return Err(Error::invalid("cannot update \"root\" policy"));
        }
        if name.is_empty() || !Policy::is_valid_name(&name) {
            return Err(Error::invalid(format!("invalid policy name {name:?}")));
        }
        let policy = Policy::parse(&name, text)
            .map_err(|e| Error::invalid(format!("failed to parse policy: {e}")))?;
        self.view
            .put(&Key::new(name.clone())?, text.as_bytes().to_vec())
            .await?;
        write_lock(&self.policies).insert(name, Arc::new(policy));
        write_lock(&self.acls).clear();
        Ok(())
    }

    /// Deletes a policy. `root` and `default` cannot be deleted.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        if name == ROOT_POLICY {
            return Err(Error::invalid("cannot delete \"root\" policy"));
        }
        if name == DEFAULT_POLICY {
            return Err(Error::invalid("cannot delete \"default\" policy"));
        }
        self.view.delete(&Key::new(name.clone())?).await?;
        write_lock(&self.policies).remove(&name);
        write_lock(&self.acls).clear();
        Ok(())
    }

    /// The ACL for a set of policy names, compiled once and cached. Unknown
    /// names contribute nothing.
    pub fn acl(&self, names: &[String]) -> Result<Arc<Acl>> {
        if let Some(acl) = read_lock(&self.acls).get(names) {
            return Ok(acl.clone());
        }
        let acl = if names.iter().any(|n| n == ROOT_POLICY) {
            Arc::new(Acl::root())
        } else {
            let found: Vec<Arc<Policy>> = names.iter().filter_map(|n| self.get(n)).collect();
            let refs: Vec<&Policy> = found.iter().map(|p| p.as_ref()).collect();
            Arc::new(Acl::new(&refs).map_err(|e| Error::internal(format!("compiling ACL: {e}")))?)
        };
        let mut cache = write_lock(&self.acls);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(names.to_vec(), acl.clone());
        Ok(acl)
    }

    /// Whether any of the named policies grants something at or below the
    /// mount `prefix` (`secret/`): what decides if `sys/internal/ui/mounts`
    /// shows a mount to a token.
    pub fn has_access_under(&self, names: &[String], prefix: &str) -> bool {
        if names.iter().any(|n| n == ROOT_POLICY) {
            return true;
        }
        names.iter().filter_map(|n| self.get(n)).any(|policy| {
            policy.rules().iter().any(|rule| {
                !rule.capabilities.is_empty()
                    && !rule.capabilities.contains(Capability::Deny)
                    && rule_reaches_under(&rule.path, prefix)
            })
        })
    }
}

/// Whether a rule's path pattern can match some path at or below `prefix`.
fn rule_reaches_under(pattern: &str, prefix: &str) -> bool {
    let pattern = pattern.trim_start_matches('/');
    let rule_segs: Vec<&str> = pattern.split('/').collect();
    let prefix_segs: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
    for (i, p) in prefix_segs.iter().enumerate() {
        let Some(r) = rule_segs.get(i) else {
            return false;
        };
        if let Some(glob) = r.strip_suffix('*') {
            return p.starts_with(glob);
        }
        if *r != "+" && r != p {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::rule_reaches_under;

    #[test]
    fn rules_reaching_under_a_mount() {
        assert!(rule_reaches_under("secret/data/*", "secret/"));
        assert!(rule_reaches_under("secret/*", "secret/"));
        assert!(rule_reaches_under("sec*", "secret/"));
        assert!(rule_reaches_under("+/data/x", "secret/"));
        assert!(rule_reaches_under("team/app/x", "team/app/"));
        assert!(!rule_reaches_under("other/*", "secret/"));
        assert!(!rule_reaches_under("team", "team/app/"));
        assert!(!rule_reaches_under("team/other/x", "team/app/"));
    }
}
