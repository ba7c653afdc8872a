//! The stored AppRole and how it reads back.

use std::time::Duration;

use coffer_sdk::token_fields::TokenFields;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::AppRoleError;

/// Longest role name (and HMAC input) Vault accepts, in bytes.
pub(crate) const MAX_NAME_LEN: usize = 4096;

/// One role. `name` is the lowercased name it is stored under.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Role {
    /// The lowercased role name.
    pub name: String,
    /// The role id: the login credential that names the role.
    pub role_id: String,
    /// Whether a secret id is required to log in.
    pub bind_secret_id: bool,
    /// Client networks that may log in with this role.
    #[serde(default)]
    pub secret_id_bound_cidrs: Vec<String>,
    /// Default number of uses of a secret id (0: unlimited).
    #[serde(default)]
    pub secret_id_num_uses: u64,
    /// Default life of a secret id, in seconds (0: no expiry).
    #[serde(default)]
    pub secret_id_ttl: u64,
    /// Whether secret ids are cluster-local (set only at creation).
    #[serde(default)]
    pub local_secret_ids: bool,
    /// The `token_*` parameters of issued tokens.
    #[serde(default)]
    pub token: TokenFields,
}

impl std::fmt::Debug for Role {
    /// The role id is a login credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Role")
            .field("name", &self.name)
            .field("role_id", &"[redacted]")
            .field("bind_secret_id", &self.bind_secret_id)
            .field("secret_id_bound_cidrs", &self.secret_id_bound_cidrs)
            .field("secret_id_num_uses", &self.secret_id_num_uses)
            .field("secret_id_ttl", &self.secret_id_ttl)
            .field("token", &self.token)
            .finish()
    }
}

impl Role {
    /// A new role with Vault's defaults (`bind_secret_id` true).
    pub(crate) fn new(name: &str, role_id: String) -> Self {
        Self {
            name: name.to_owned(),
            role_id,
            bind_secret_id: true,
            secret_id_bound_cidrs: Vec::new(),
            secret_id_num_uses: 0,
            secret_id_ttl: 0,
            local_secret_ids: false,
            token: TokenFields::default(),
        }
    }

    /// Vault refuses to store a role that binds nothing: a secret id, the
    /// login address, or the token's address.
    pub(crate) fn check_constraints(&self) -> Result<(), AppRoleError> {
        if self.bind_secret_id
            || !self.secret_id_bound_cidrs.is_empty()
            || !self.token.bound_cidrs.is_empty()
        {
            Ok(())
        } else {
            Err(AppRoleError::NoConstraint)
        }
    }

    /// Vault's check that a period fits the mount's maximum lease TTL.
    pub(crate) fn check_period(
        period: Duration,
        max_lease_ttl: Duration,
    ) -> Result<(), AppRoleError> {
        if !max_lease_ttl.is_zero() && period > max_lease_ttl {
            return Err(AppRoleError::PeriodTooLong {
                period: go_duration(period),
                max: go_duration(max_lease_ttl),
            });
        }
        Ok(())
    }

    /// The role as `GET role/:name` shows it.
    pub(crate) fn to_response(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("bind_secret_id".into(), self.bind_secret_id.into());
        m.insert(
            "secret_id_bound_cidrs".into(),
            self.secret_id_bound_cidrs.clone().into(),
        );
        m.insert("secret_id_num_uses".into(), self.secret_id_num_uses.into());
        m.insert("secret_id_ttl".into(), self.secret_id_ttl.into());
        m.insert("local_secret_ids".into(), self.local_secret_ids.into());
        self.token.to_response_map(&mut m);
        m
    }

    /// The storage prefix of this role's secret ids.
    pub(crate) fn secret_id_prefix(&self) -> &'static str {
        if self.local_secret_ids {
            "secret_id_local/"
        } else {
            "secret_id/"
        }
    }

    /// The storage prefix of this role's secret-id accessors.
    pub(crate) fn accessor_prefix(&self) -> &'static str {
        if self.local_secret_ids {
            "accessor_local/"
        } else {
            "accessor/"
        }
    }
}

/// Go's `Duration.String()` for whole seconds (`"1h0m0s"`, `"30s"`).
pub(crate) fn go_duration(d: Duration) -> String {
    coffer_types::format_duration(Duration::from_secs(d.as_secs()))
}

/// Whether `name` is a valid role name: Vault's `\w(([\w-.]+)?\w)?`.
pub(crate) fn valid_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return false;
    };
    word(first) && word(last) && name.chars().all(|c| word(c) || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_read_back_like_vault() {
        let role = Role::new("web", "rid".into());
        let data = Value::Object(role.to_response());
        assert_eq!(data["bind_secret_id"], json!(true));
        assert_eq!(data["secret_id_bound_cidrs"], json!([]));
        assert_eq!(data["secret_id_num_uses"], json!(0));
        assert_eq!(data["secret_id_ttl"], json!(0));
        assert_eq!(data["local_secret_ids"], json!(false));
        assert_eq!(data["token_policies"], json!([]));
        assert_eq!(data["token_type"], json!("default"));
        assert!(data.get("role_id").is_none());
    }

    #[test]
    fn constraints_and_period() {
        let mut role = Role::new("web", "rid".into());
        assert!(role.check_constraints().is_ok());
        role.bind_secret_id = false;
        assert!(matches!(
            role.check_constraints(),
            Err(AppRoleError::NoConstraint)
        ));
        role.secret_id_bound_cidrs = vec!["10.0.0.0/8".into()];
        assert!(role.check_constraints().is_ok());
        let err =
            Role::check_period(Duration::from_secs(7200), Duration::from_secs(3600)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "period of \"2h0m0s\" is greater than the backend's maximum lease TTL of \"1h0m0s\""
        );
    }

    #[test]
    fn names() {
        for ok in ["web", "a", "my-role.v2", "A_b"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a/b", "ü"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_role_id() {
        let role = Role::new("web", "canary-role-id".into());
        assert!(!format!("{role:?}").contains("canary"));
    }
}
