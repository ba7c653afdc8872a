//! Vault's response envelope as a client sees it (Go's `api.Secret`).
//!
//! Deserialisation is lenient (missing fields and `null`s take defaults) so the
//! client works against any Vault-compatible server; serialisation follows the
//! Go client's field order and `omitempty` rules so `-format=json` output matches
//! Vault's CLI.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use coffer_types::Sensitive;

/// Deserialises `null` as the type's default.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A response envelope. `Debug` shows the shape only: data values may be secrets.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Secret {
    /// The request id.
    #[serde(deserialize_with = "null_default")]
    pub request_id: String,
    /// Lease id ("" when none).
    #[serde(deserialize_with = "null_default")]
    pub lease_id: String,
    /// Lease duration in seconds.
    #[serde(deserialize_with = "null_default")]
    pub lease_duration: i64,
    /// Whether the lease is renewable.
    #[serde(deserialize_with = "null_default")]
    pub renewable: bool,
    /// The data object.
    pub data: Option<Map<String, Value>>,
    /// Warnings, if any.
    pub warnings: Option<Vec<String>>,
    /// The auth block of a login or token creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<SecretAuth>,
    /// Wrap info of a wrapped response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrap_info: Option<SecretWrapInfo>,
    /// Type of the mount that answered.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub mount_type: String,
}

impl Secret {
    /// A copy of the data object, or an empty map when there is none.
    pub fn data_or_empty(&self) -> Map<String, Value> {
        self.data.clone().unwrap_or_default()
    }

    /// One field of `data`.
    pub fn data_field(&self, name: &str) -> Option<&Value> {
        self.data.as_ref().and_then(|d| d.get(name))
    }

    /// True when the envelope carries data or warnings (Vault's test for a
    /// meaningful 404 body, e.g. a deleted KV v2 version).
    pub fn has_data_or_warnings(&self) -> bool {
        self.data.as_ref().is_some_and(|d| !d.is_empty())
            || self.warnings.as_ref().is_some_and(|w| !w.is_empty())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("request_id", &self.request_id)
            .field("lease_id", &self.lease_id)
            .field("lease_duration", &self.lease_duration)
            .field(
                "data_keys",
                &self.data.as_ref().map(|d| d.keys().collect::<Vec<_>>()),
            )
            .field("warnings", &self.warnings)
            .field("auth", &self.auth)
            .field("wrap_info", &self.wrap_info)
            .finish_non_exhaustive()
    }
}

/// The `auth` block (Go's `api.SecretAuth`). The token is [`Sensitive`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretAuth {
    /// The token.
    #[serde(deserialize_with = "null_default")]
    pub client_token: Sensitive,
    /// Its accessor.
    #[serde(deserialize_with = "null_default")]
    pub accessor: String,
    /// All policies.
    #[serde(deserialize_with = "null_default")]
    pub policies: Vec<String>,
    /// Policies attached to the token.
    #[serde(deserialize_with = "null_default")]
    pub token_policies: Vec<String>,
    /// Policies from the identity.
    #[serde(deserialize_with = "null_default")]
    pub identity_policies: Vec<String>,
    /// Token metadata.
    pub metadata: Option<Map<String, Value>>,
    /// Whether the token has no parent.
    #[serde(deserialize_with = "null_default")]
    pub orphan: bool,
    /// Entity id.
    #[serde(deserialize_with = "null_default")]
    pub entity_id: String,
    /// Seconds until expiry (0 = never).
    #[serde(deserialize_with = "null_default")]
    pub lease_duration: i64,
    /// Whether the token can be renewed.
    #[serde(deserialize_with = "null_default")]
    pub renewable: bool,
    /// An MFA requirement, when the login needs a second factor.
    pub mfa_requirement: Option<Value>,
}

/// The `wrap_info` block (Go's `api.SecretWrapInfo`). The token is [`Sensitive`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretWrapInfo {
    /// The wrapping token.
    #[serde(deserialize_with = "null_default")]
    pub token: Sensitive,
    /// Its accessor.
    #[serde(deserialize_with = "null_default")]
    pub accessor: String,
    /// TTL in seconds.
    #[serde(deserialize_with = "null_default")]
    pub ttl: i64,
    /// RFC 3339 creation time.
    #[serde(deserialize_with = "null_default")]
    pub creation_time: String,
    /// The path whose response was wrapped.
    #[serde(deserialize_with = "null_default")]
    pub creation_path: String,
    /// Accessor of the wrapped token, if a token was wrapped.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub wrapped_accessor: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parse_of_partial_and_null_fields() {
        let s: Secret = serde_json::from_str(
            r#"{"request_id":"r","lease_id":null,"data":{"a":1},"warnings":null,
                "auth":{"client_token":"hvs.canary","policies":null,"lease_duration":0}}"#,
        )
        .unwrap();
        assert_eq!(s.request_id, "r");
        assert_eq!(s.lease_id, "");
        assert_eq!(s.data_field("a"), Some(&Value::from(1)));
        let auth = s.auth.as_ref().unwrap();
        assert_eq!(auth.client_token.expose(), "hvs.canary");
        assert!(auth.policies.is_empty());
        assert!(s.has_data_or_warnings());
        let debug = format!("{s:?}");
        assert!(!debug.contains("canary"));
        assert!(!debug.contains(":1"));
    }

    #[test]
    fn serialises_in_go_client_order_with_omitempty() {
        let s = Secret {
            request_id: "r".into(),
            data: Some(Map::new()),
            ..Secret::default()
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"request_id":"r","lease_id":"","lease_duration":0,"renewable":false,"data":{},"warnings":null}"#
        );
    }

    #[test]
    fn empty_secret_has_no_data() {
        assert!(!Secret::default().has_data_or_warnings());
    }
}
