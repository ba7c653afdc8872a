//! The quota configuration (`sys/quotas/config`) and the exempt paths.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Vault's default exempt paths: the endpoints an operator needs to recover a
/// sealed or locked-out server are never rate limited.
pub const DEFAULT_EXEMPT_PATHS: &[&str] = &[
    "sys/generate-recovery-token/attempt",
    "sys/generate-recovery-token/update",
    "sys/generate-root/attempt",
    "sys/generate-root/update",
    "sys/health",
    "sys/seal-status",
    "sys/unseal",
];

/// Operator preferences, stored as Vault stores them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QuotaConfig {
    /// Audit requests refused by a rate limit.
    #[serde(default)]
    pub enable_rate_limit_audit_logging: bool,
    /// Add `X-Ratelimit-*` headers to responses.
    #[serde(default)]
    pub enable_rate_limit_response_headers: bool,
    /// Paths no rate limit applies to.
    #[serde(default)]
    pub rate_limit_exempt_paths: Vec<String>,
}

impl QuotaConfig {
    /// The configuration before an operator ever wrote one.
    pub fn initial() -> Self {
        Self {
            rate_limit_exempt_paths: DEFAULT_EXEMPT_PATHS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            ..Self::default()
        }
    }

    /// The configuration as Vault's read endpoint shows it.
    pub fn to_data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert(
            "enable_rate_limit_audit_logging".into(),
            Value::Bool(self.enable_rate_limit_audit_logging),
        );
        data.insert(
            "enable_rate_limit_response_headers".into(),
            Value::Bool(self.enable_rate_limit_response_headers),
        );
        data.insert(
            "rate_limit_exempt_paths".into(),
            Value::Array(
                self.rate_limit_exempt_paths
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect(),
            ),
        );
        data
    }
}

/// The exempt paths, ready for matching: an entry ending in `*` exempts
/// every path starting with what precedes it; any other entry exempts
/// exactly that path (Vault's path manager).
#[derive(Clone, Debug, Default)]
pub(crate) struct ExemptPaths {
    exact: HashSet<String>,
    prefixes: Vec<String>,
}

impl ExemptPaths {
    /// Compiles a list of exempt paths.
    pub fn new(paths: &[String]) -> Self {
        let mut exempt = Self::default();
        for p in paths {
            let p = p.trim_start_matches('/');
            match p.strip_suffix('*') {
                Some(prefix) => exempt.prefixes.push(prefix.to_owned()),
                None => {
                    exempt.exact.insert(p.to_owned());
                }
            }
        }
        exempt
    }

    /// Whether no rate limit applies to `path`.
    pub fn contains(&self, path: &str) -> bool {
        let path = path.trim_start_matches('/');
        self.exact.contains(path) || self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_vaults() {
        let exempt = ExemptPaths::new(&QuotaConfig::initial().rate_limit_exempt_paths);
        for p in DEFAULT_EXEMPT_PATHS {
            assert!(exempt.contains(p), "{p}");
        }
        assert!(exempt.contains("/sys/health"));
        assert!(!exempt.contains("sys/health/x"));
        assert!(!exempt.contains("sys/mounts"));
        assert!(!exempt.contains("auth/userpass/login/bob"));
    }

    #[test]
    fn prefixes() {
        let exempt = ExemptPaths::new(&["secret/public/*".to_owned(), "sys/x".to_owned()]);
        assert!(exempt.contains("secret/public/a/b"));
        assert!(exempt.contains("secret/public/"));
        assert!(!exempt.contains("secret/private"));
        assert!(exempt.contains("sys/x"));
        assert!(!ExemptPaths::new(&[]).contains("sys/health"));
    }

    #[test]
    fn read_shape() {
        let data = Value::Object(QuotaConfig::default().to_data());
        assert_eq!(
            data,
            serde_json::json!({
                "enable_rate_limit_audit_logging": false,
                "enable_rate_limit_response_headers": false,
                "rate_limit_exempt_paths": []
            })
        );
    }
}
