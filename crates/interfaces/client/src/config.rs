//! Connection settings, and reading them from the environment like Vault's CLI.

use std::path::PathBuf;
use std::time::Duration;

use coffer_types::Sensitive;

use crate::error::{ClientError, Result};
use crate::token_file;

/// The address used when neither `COFFER_ADDR` nor `VAULT_ADDR` is set (Vault's default).
pub const DEFAULT_ADDRESS: &str = "https://127.0.0.1:8200";

/// The default request timeout (Vault's `VAULT_CLIENT_TIMEOUT` default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach and authenticate to the server. `Debug` never shows the token.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Server URL, e.g. `https://127.0.0.1:8200`.
    pub address: String,
    /// Token sent as `X-Vault-Token`.
    pub token: Option<Sensitive>,
    /// PEM file of CA certificates; when set, it replaces the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Accept any server certificate. Dangerous; for tests and dev servers only.
    pub danger_skip_verify: bool,
    /// Sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            address: DEFAULT_ADDRESS.to_owned(),
            token: None,
            ca_cert: None,
            danger_skip_verify: false,
            namespace: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ClientConfig {
    /// A configuration for `address` with defaults for everything else.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            ..Self::default()
        }
    }

    /// Reads `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_CACERT`, `VAULT_SKIP_VERIFY` and
    /// `VAULT_NAMESPACE` (the `COFFER_*` equivalents win). Without a token in the
    /// environment, the token cached in `~/.vault-token` is used.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ClientConfig::from_env`] with an explicit variable lookup (for tests and
    /// embedding). `HOME` is looked up through the same function.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |suffix: &str| {
            [format!("COFFER_{suffix}"), format!("VAULT_{suffix}")]
                .iter()
                .find_map(|name| lookup(name).filter(|v| !v.is_empty()))
        };
        let mut config = Self::default();
        if let Some(addr) = var("ADDR") {
            config.address = addr;
        }
        if let Some(path) = var("CACERT") {
            config.ca_cert = Some(PathBuf::from(path));
        }
        if let Some(raw) = var("SKIP_VERIFY") {
            config.danger_skip_verify = parse_bool(&raw).ok_or_else(|| {
                ClientError::Config("could not parse VAULT_SKIP_VERIFY".to_owned())
            })?;
        }
        config.namespace = var("NAMESPACE");
        config.token = match var("TOKEN") {
            Some(token) => Some(Sensitive::new(token)),
            None => match lookup("HOME").filter(|h| !h.is_empty()) {
                Some(home) => token_file::read_token(&token_file::token_path(home.as_ref()))?,
                None => None,
            },
        };
        Ok(config)
    }
}

/// Go's `strconv.ParseBool`, which Vault uses for boolean environment variables.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_without_environment() {
        let c = ClientConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(c.address, DEFAULT_ADDRESS);
        assert!(c.token.is_none() && c.ca_cert.is_none() && c.namespace.is_none());
        assert!(!c.danger_skip_verify);
    }

    #[test]
    fn coffer_variables_win_over_vault_ones() {
        let c = ClientConfig::from_lookup(lookup(&[
            ("VAULT_ADDR", "http://vault:8200"),
            ("COFFER_ADDR", "http://coffer:8200"),
            ("VAULT_TOKEN", "hvs.vault"),
            ("COFFER_TOKEN", "hvs.coffer"),
            ("VAULT_CACERT", "/v.pem"),
            ("VAULT_SKIP_VERIFY", "true"),
            ("COFFER_SKIP_VERIFY", "0"),
            ("VAULT_NAMESPACE", "ns1"),
        ]))
        .unwrap();
        assert_eq!(c.address, "http://coffer:8200");
        assert_eq!(c.token.as_ref().unwrap().expose(), "hvs.coffer");
        assert_eq!(c.ca_cert.unwrap(), PathBuf::from("/v.pem"));
        assert!(!c.danger_skip_verify);
        assert_eq!(c.namespace.as_deref(), Some("ns1"));
        assert!(
            !format!(
                "{:?}",
                ClientConfig::from_lookup(lookup(&[("VAULT_TOKEN", "hvs.secret")])).unwrap()
            )
            .contains("hvs.secret")
        );
    }

    #[test]
    fn bad_skip_verify_is_an_error() {
        let err = ClientConfig::from_lookup(lookup(&[("VAULT_SKIP_VERIFY", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("VAULT_SKIP_VERIFY"));
    }

    #[test]
    fn token_falls_back_to_the_token_file() {
        let home = std::env::temp_dir().join(format!("coffer-client-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join(".vault-token"), "hvs.fromfile\n").unwrap();
        let home_str = home.to_str().unwrap().to_owned();
        let c = ClientConfig::from_lookup(lookup(&[("HOME", &home_str)])).unwrap();
        assert_eq!(c.token.unwrap().expose(), "hvs.fromfile");
        let c =
            ClientConfig::from_lookup(lookup(&[("HOME", &home_str), ("VAULT_TOKEN", "hvs.env")]))
                .unwrap();
        assert_eq!(c.token.unwrap().expose(), "hvs.env");
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn go_parse_bool() {
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
