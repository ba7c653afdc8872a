//! ACL policies: persisted in the barrier under `sys/policy/`, kept parsed in
//! memory, and compiled into cached ACLs per set of policy names.

use crate::error::CoreError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use coffer_policy::{Acl, Capability, Policy, TemplateContext};
use coffer_storage::{Key, Prefix, Storage, View};
use coffer_types::Result;

/// The reserved policy that grants everything.
pub(crate) const ROOT_POLICY: &str = "root";
/// The policy attached to every token unless asked otherwise.
pub(crate) const DEFAULT_POLICY: &str = "default";
/// The policy of response-wrapping tokens; built in and immutable.
pub(crate) const RESPONSE_WRAPPING_POLICY: &str = "response-wrapping";

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
    /// Loads every stored policy from `view`, plus the built-in
    /// `response-wrapping` policy.
    pub async fn load(view: View) -> Result<Self> {
        let mut policies = HashMap::new();
        for name in view.list(&Prefix::root()).await? {
            if name.ends_with('/') {
                continue;
            }
            if let Some(bytes) = view.get(&Key::new(name.clone())?).await? {
                let text = String::from_utf8(bytes)
                    .map_err(|_| CoreError::StoredPolicyNotUtf8(name.clone()))?;
                let policy = Policy::parse(&name, &text).map_err(|source| {
                    CoreError::StoredPolicyInvalid {
                        name: name.clone(),
                        source,
                    }
                })?;
                policies.insert(name, Arc::new(policy));
            }
        }
        let store = Self {
            view,
            policies: RwLock::new(policies),
            acls: RwLock::new(HashMap::new()),
        };
        store.install_response_wrapping()?;
        Ok(store)
    }

    /// Writes the built-in `default` policy unless it exists.
    pub async fn ensure_builtin(&self) -> Result<()> {
        if self.get(DEFAULT_POLICY).is_none() {
            self.set(DEFAULT_POLICY, coffer_policy::DEFAULT_POLICY)
                .await?;
        }
        Ok(())
    }

    /// The `response-wrapping` policy lives only in memory: it cannot be
    /// changed, so it is never stored.
    fn install_response_wrapping(&self) -> Result<()> {
        let policy = Policy::parse(
            RESPONSE_WRAPPING_POLICY,
            coffer_policy::default_policy::RESPONSE_WRAPPING_POLICY,
        )
        .map_err(CoreError::BuiltinPolicy)?;
        write_lock(&self.policies).insert(RESPONSE_WRAPPING_POLICY.to_owned(), Arc::new(policy));
        Ok(())
    }

    /// A policy by name.
    pub fn get(&self, name: &str) -> Option<Arc<Policy>> {
        read_lock(&self.policies)
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// Every policy name, sorted, including `root` (the built-in
    /// `response-wrapping` policy is not listed, as in Vault).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = read_lock(&self.policies)
            .keys()
            .filter(|n| n.as_str() != RESPONSE_WRAPPING_POLICY)
            .cloned()
            .collect();
        names.push(ROOT_POLICY.to_owned());
        names.sort();
        names
    }

    /// Parses and stores a policy. `root` cannot be written.
    pub async fn set(&self, name: &str, text: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        coffer_policy::default_policy::check_writable(&name).map_err(CoreError::Policy)?;
        if name.is_empty() || !Policy::is_valid_name(&name) {
            return Err(CoreError::InvalidPolicyName(name).into());
        }
        let policy = Policy::parse(&name, text).map_err(CoreError::Policy)?;
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
        coffer_policy::default_policy::check_deletable(&name).map_err(CoreError::Policy)?;
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
            Arc::new(Acl::new(&refs).map_err(CoreError::CompileAcl)?)
        };
        let mut cache = write_lock(&self.acls);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(names.to_vec(), acl.clone());
        Ok(acl)
    }

    /// The ACL for `names` rendered for an identity: templated policies are
    /// filled in from `context`. Without templates (or without an identity)
    /// this is the cached [`PolicyStore::acl`]; rendered ACLs are built per
    /// request, since they depend on the entity and the time.
    pub fn acl_for(&self, names: &[String], context: Option<&TemplateContext>) -> Result<Arc<Acl>> {
        let Some(context) = context else {
            return self.acl(names);
        };
        if names.iter().any(|n| n == ROOT_POLICY) {
            return self.acl(names);
        }
        let found: Vec<Arc<Policy>> = names.iter().filter_map(|n| self.get(n)).collect();
        if !found.iter().any(|p| p.has_templates()) {
            return self.acl(names);
        }
        let refs: Vec<&Policy> = found.iter().map(|p| p.as_ref()).collect();
        Acl::new_with_context(&refs, Some(context))
            .map(Arc::new)
            .map_err(|e| CoreError::CompileAcl(e).into())
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
