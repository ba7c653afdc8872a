//! Typed bodies of the raw (un-enveloped) `sys/` endpoints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use coffer_types::Sensitive;

use crate::secret::null_default;

/// `sys/seal-status` (and the answer of `sys/unseal`), Go's `api.SealStatusResponse`.
/// Fields this struct does not name are kept in `extra` so JSON output loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SealStatus {
    /// Seal type (`shamir`).
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub seal_type: String,
    /// Whether the server is initialised.
    #[serde(deserialize_with = "null_default")]
    pub initialized: bool,
    /// Whether the server is sealed.
    #[serde(deserialize_with = "null_default")]
    pub sealed: bool,
    /// Threshold of key shares.
    #[serde(deserialize_with = "null_default")]
    pub t: u64,
    /// Number of key shares.
    #[serde(deserialize_with = "null_default")]
    pub n: u64,
    /// Shares supplied so far in this unseal attempt.
    #[serde(deserialize_with = "null_default")]
    pub progress: u64,
    /// Nonce of the current unseal attempt.
    #[serde(deserialize_with = "null_default")]
    pub nonce: String,
    /// Server version.
    #[serde(deserialize_with = "null_default")]
    pub version: String,
    /// Build date.
    #[serde(deserialize_with = "null_default")]
    pub build_date: String,
    /// Whether a seal migration is in progress.
    #[serde(deserialize_with = "null_default")]
    pub migration: bool,
    /// Cluster name.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_name: String,
    /// Cluster id.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_id: String,
    /// Whether the seal uses recovery keys.
    #[serde(deserialize_with = "null_default")]
    pub recovery_seal: bool,
    /// Storage backend type.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub storage_type: String,
    /// Any other fields the server sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `PUT sys/init`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitRequest {
    /// Number of key shares to split the root key into.
    pub secret_shares: u64,
    /// Shares needed to reconstruct the root key.
    pub secret_threshold: u64,
    /// PGP public keys (base64) to encrypt each share with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgp_keys: Option<Vec<String>>,
    /// PGP public key (base64) to encrypt the root token with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_token_pgp_key: Option<String>,
    /// Recovery shares (auto-unseal only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_shares: Option<u64>,
    /// Recovery threshold (auto-unseal only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
    /// PGP keys for the recovery shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_pgp_keys: Option<Vec<String>>,
    /// Shares stored by the seal (auto-unseal only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_shares: Option<u64>,
}

/// The answer of `PUT sys/init`. Every key and the root token are [`Sensitive`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InitResponse {
    /// Unseal key shares, hex encoded.
    #[serde(deserialize_with = "null_default")]
    pub keys: Vec<Sensitive>,
    /// Unseal key shares, base64 encoded.
    #[serde(deserialize_with = "null_default")]
    pub keys_base64: Vec<Sensitive>,
    /// Recovery key shares, hex encoded.
    #[serde(deserialize_with = "null_default")]
    pub recovery_keys: Vec<Sensitive>,
    /// Recovery key shares, base64 encoded.
    #[serde(deserialize_with = "null_default")]
    pub recovery_keys_base64: Vec<Sensitive>,
    /// The initial root token.
    #[serde(deserialize_with = "null_default")]
    pub root_token: Sensitive,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_status_keeps_unknown_fields() {
        let s: SealStatus = serde_json::from_str(
            r#"{"type":"shamir","initialized":true,"sealed":true,"t":3,"n":5,"progress":1,
                "nonce":"abc","version":"1.0","build_date":"x","migration":false,
                "recovery_seal":false,"storage_type":"redb","removed_from_cluster":false}"#,
        )
        .unwrap();
        assert_eq!((s.t, s.n, s.progress), (3, 5, 1));
        assert_eq!(s.seal_type, "shamir");
        assert_eq!(
            s.extra.get("removed_from_cluster"),
            Some(&Value::Bool(false))
        );
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["type"], "shamir");
        assert_eq!(back["removed_from_cluster"], false);
    }

    #[test]
    fn init_response_redacts_in_debug() {
        let r: InitResponse = serde_json::from_str(
            r#"{"keys":["canaryhex"],"keys_base64":["canaryb64"],"root_token":"hvs.canary"}"#,
        )
        .unwrap();
        assert_eq!(r.keys[0].expose(), "canaryhex");
        assert!(r.recovery_keys.is_empty());
        assert!(!format!("{r:?}").contains("canary"));
    }

    #[test]
    fn init_request_omits_unset_options() {
        let body = serde_json::to_string(&InitRequest {
            secret_shares: 5,
            secret_threshold: 3,
            ..InitRequest::default()
        })
        .unwrap();
        assert_eq!(body, r#"{"secret_shares":5,"secret_threshold":3}"#);
    }
}
