//! The quotas and configuration in force: an immutable snapshot, replaced
//! whole on every change, so `check` reads it without waiting on writers.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::bucket::Limit;
use crate::config::{ExemptPaths, QuotaConfig};
use crate::quota::{QuotaRecord, Rank};

/// A quota in force.
#[derive(Debug)]
pub(crate) struct ActiveQuota {
    /// What is stored and shown.
    pub record: QuotaRecord,
    /// Identifies this version of the quota's buckets.
    pub generation: u64,
    /// The bucket shape.
    pub limit: Limit,
    /// The comparable path (see [`QuotaRecord::target`]).
    target: String,
}

impl ActiveQuota {
    /// A quota in force, with fresh buckets under `generation`.
    pub fn new(record: QuotaRecord, generation: u64) -> Self {
        Self {
            limit: record.limit(),
            target: record.target(),
            record,
            generation,
        }
    }
}

/// Everything `check` needs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    /// Quotas by name.
    pub quotas: BTreeMap<String, Arc<ActiveQuota>>,
    /// Operator preferences.
    pub config: QuotaConfig,
    /// The compiled exempt paths.
    pub exempt: ExemptPaths,
}

impl Rules {
    /// Rules from a configuration and quotas.
    pub fn new(config: QuotaConfig, quotas: impl IntoIterator<Item = ActiveQuota>) -> Self {
        Self {
            exempt: ExemptPaths::new(&config.rate_limit_exempt_paths),
            config,
            quotas: quotas
                .into_iter()
                .map(|q| (q.record.name.clone(), Arc::new(q)))
                .collect(),
        }
    }

    /// The quota that governs a request, Vault's precedence: a quota on the
    /// exact path, then `*` path quotas (longest prefix first), then the
    /// mount's quota, then the global one. A login request that none of them
    /// covers falls to the default login quota, if it exists.
    pub fn select(&self, path: &str, mount: &str, is_login: bool) -> Option<&Arc<ActiveQuota>> {
        let mut best: Option<(Rank, &Arc<ActiveQuota>)> = None;
        let mut login_default = None;
        for quota in self.quotas.values() {
            if quota.record.login_default {
                login_default = login_default.or(Some(quota));
                continue;
            }
            if let Some(rank) = quota.record.rank(&quota.target, path, mount)
                && best.is_none_or(|(r, _)| rank > r)
            {
                best = Some((rank, quota));
            }
        }
        best.map(|(_, q)| q)
            .or(if is_login { login_default } else { None })
    }

    /// The name of another quota that covers the same path as `record`
    /// (Vault refuses two quotas "with similar properties").
    pub fn similar(&self, record: &QuotaRecord) -> Option<&str> {
        let target = record.target();
        self.quotas
            .values()
            .find(|q| {
                q.record.name != record.name
                    && q.record.login_default == record.login_default
                    && q.target == target
            })
            .map(|q| q.record.name.as_str())
    }

    /// These rules with `quota` added or replaced.
    pub fn with_quota(&self, quota: ActiveQuota) -> Self {
        let mut next = self.clone();
        next.quotas
            .insert(quota.record.name.clone(), Arc::new(quota));
        next
    }

    /// These rules without the quota `name`.
    pub fn without(&self, name: &str) -> Self {
        let mut next = self.clone();
        next.quotas.remove(name);
        next
    }

    /// These rules with another configuration.
    pub fn with_config(&self, config: QuotaConfig) -> Self {
        Self {
            exempt: ExemptPaths::new(&config.rate_limit_exempt_paths),
            config,
            quotas: self.quotas.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(name: &str, mount: &str, suffix: &str) -> ActiveQuota {
        ActiveQuota::new(
            QuotaRecord {
                name: name.into(),
                mount_path: mount.into(),
                path_suffix: suffix.into(),
                rate: 1.0,
                interval_seconds: 1,
                block_interval_seconds: 0,
                login_default: false,
            },
            0,
        )
    }

    fn login_default() -> ActiveQuota {
        let mut q = quota("default-login", "", "");
        q.record.login_default = true;
        q
    }

    fn selected(rules: &Rules, path: &str, mount: &str, login: bool) -> Option<String> {
        rules
            .select(path, mount, login)
            .map(|q| q.record.name.clone())
    }

    #[test]
    fn precedence_path_then_glob_then_mount_then_global() {
        let rules = Rules::new(
            QuotaConfig::default(),
            [
                quota("global", "", ""),
                quota("mount", "secret/", ""),
                quota("glob-short", "secret/", "data/*"),
                quota("glob-long", "secret/", "data/app*"),
                quota("exact", "secret/", "data/app"),
                login_default(),
            ],
        );
        let s = |p, m| selected(&rules, p, m, false);
        assert_eq!(s("secret/data/app", "secret/").as_deref(), Some("exact"));
        assert_eq!(
            s("secret/data/apple", "secret/").as_deref(),
            Some("glob-long")
        );
        assert_eq!(
            s("secret/data/other", "secret/").as_deref(),
            Some("glob-short")
        );
        assert_eq!(
            s("secret/metadata/app", "secret/").as_deref(),
            Some("mount")
        );
        assert_eq!(s("kv/x", "kv/").as_deref(), Some("global"));
        assert_eq!(s("nowhere", "").as_deref(), Some("global"));
        // An operator quota covers logins too: the default does not apply.
        assert_eq!(
            selected(&rules, "auth/userpass/login/bob", "auth/userpass/", true).as_deref(),
            Some("global")
        );
    }

    #[test]
    fn login_default_only_for_uncovered_logins() {
        let rules = Rules::new(
            QuotaConfig::default(),
            [quota("mount", "secret/", ""), login_default()],
        );
        assert_eq!(
            selected(&rules, "auth/userpass/login/bob", "auth/userpass/", true).as_deref(),
            Some("default-login")
        );
        assert_eq!(
            selected(&rules, "auth/userpass/users/bob", "auth/userpass/", false),
            None
        );
        assert_eq!(
            selected(&rules, "secret/x", "secret/", true).as_deref(),
            Some("mount")
        );
        let none = Rules::new(QuotaConfig::default(), []);
        assert_eq!(
            selected(&none, "auth/userpass/login/bob", "auth/userpass/", true),
            None
        );
    }

    #[test]
    fn similar_quotas() {
        let rules = Rules::new(
            QuotaConfig::default(),
            [quota("a", "secret/", ""), login_default()],
        );
        assert_eq!(rules.similar(&quota("b", "secret/", "").record), Some("a"));
        assert_eq!(rules.similar(&quota("a", "secret/", "").record), None);
        assert_eq!(rules.similar(&quota("b", "secret/", "x").record), None);
        // A global quota does not clash with the login default.
        assert_eq!(rules.similar(&quota("g", "", "").record), None);
    }

    #[test]
    fn replacing_and_removing() {
        let rules = Rules::new(QuotaConfig::default(), [quota("a", "secret/", "")]);
        let more = rules.with_quota(quota("b", "", ""));
        assert_eq!(more.quotas.len(), 2);
        assert_eq!(rules.quotas.len(), 1);
        assert_eq!(more.without("a").quotas.len(), 1);
        let cfg = more.with_config(QuotaConfig::initial());
        assert!(cfg.exempt.contains("sys/health"));
        assert_eq!(cfg.quotas.len(), 2);
    }
}
