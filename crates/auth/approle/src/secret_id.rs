//! The stored properties of a secret id (never the secret id itself) and how
//! a lookup shows them.

use std::collections::BTreeMap;

use coffer_types::timestamp::{Timestamp, rfc3339_or_zero};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One secret id, stored under the HMAC of its value.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SecretIdEntry {
    /// Hex HMAC of the secret id, compared in constant time on use.
    pub secret_id_hmac: String,
    /// The accessor (a UUID): lists, looks up and destroys the secret id.
    pub accessor: String,
    /// Uses left (0: unlimited).
    pub num_uses: u64,
    /// The TTL asked for, in seconds (0: the mount maximum or none).
    pub ttl: u64,
    /// When it was created.
    pub creation_time: Timestamp,
    /// When it expires; `None` for never.
    pub expiration_time: Option<Timestamp>,
    /// When it was last changed (a use counted).
    pub last_updated_time: Timestamp,
    /// Copied onto tokens and aliases at login.
    pub metadata: BTreeMap<String, String>,
    /// Client networks it may be used from.
    pub cidr_list: Vec<String>,
    /// Client networks the issued tokens may be used from (overrides the
    /// role's `token_bound_cidrs`).
    pub token_bound_cidrs: Vec<String>,
}

impl std::fmt::Debug for SecretIdEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretIdEntry")
            .field("secret_id_hmac", &"[redacted]")
            .field("accessor", &self.accessor)
            .field("num_uses", &self.num_uses)
            .field("expiration_time", &self.expiration_time)
            .finish_non_exhaustive()
    }
}

impl SecretIdEntry {
    /// Whether the secret id has expired at `now`.
    pub(crate) fn expired(&self, now: Timestamp) -> bool {
        self.expiration_time.is_some_and(|exp| now > exp)
    }

    /// The lookup response (Vault's `ToResponseData`).
    pub(crate) fn to_response(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("secret_id_accessor".into(), self.accessor.clone().into());
        m.insert("secret_id_num_uses".into(), self.num_uses.into());
        m.insert("secret_id_ttl".into(), self.ttl.into());
        m.insert("creation_time".into(), self.creation_time.rfc3339().into());
        m.insert(
            "expiration_time".into(),
            rfc3339_or_zero(self.expiration_time).into(),
        );
        m.insert(
            "last_updated_time".into(),
            self.last_updated_time.rfc3339().into(),
        );
        m.insert(
            "metadata".into(),
            Value::Object(
                self.metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        m.insert("cidr_list".into(), self.cidr_list.clone().into());
        m.insert(
            "token_bound_cidrs".into(),
            self.token_bound_cidrs.clone().into(),
        );
        m
    }
}

/// The accessor index entry: which stored secret id an accessor names.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AccessorEntry {
    /// Hex HMAC of the secret id.
    pub secret_id_hmac: String,
    /// The directory of the role the secret id belongs to.
    pub role_dir: String,
}

impl std::fmt::Debug for AccessorEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessorEntry").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry() -> SecretIdEntry {
        let t = Timestamp::from_system(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        SecretIdEntry {
            secret_id_hmac: "canary-hmac".into(),
            accessor: "acc".into(),
            num_uses: 2,
            ttl: 60,
            creation_time: t,
            expiration_time: Some(t.plus(Duration::from_secs(60))),
            last_updated_time: t,
            metadata: BTreeMap::from([("k".to_string(), "v".to_string())]),
            cidr_list: vec![],
            token_bound_cidrs: vec![],
        }
    }

    #[test]
    fn lookup_shape_matches_vault() {
        let data = Value::Object(entry().to_response());
        assert_eq!(
            data,
            json!({
                "secret_id_accessor": "acc", "secret_id_num_uses": 2, "secret_id_ttl": 60,
                "creation_time": "2023-11-14T22:13:20Z",
                "expiration_time": "2023-11-14T22:14:20Z",
                "last_updated_time": "2023-11-14T22:13:20Z",
                "metadata": {"k": "v"}, "cidr_list": [], "token_bound_cidrs": []
            })
        );
    }

    #[test]
    fn expiry_and_debug() {
        let e = entry();
        let start = e.creation_time;
        assert!(!e.expired(start.plus(Duration::from_secs(60))));
        assert!(e.expired(start.plus(Duration::from_secs(61))));
        assert!(!format!("{e:?}").contains("canary"));
    }
}
