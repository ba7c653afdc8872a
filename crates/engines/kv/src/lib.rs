//! The KV secrets engine, versions 1 and 2, and cubbyhole, speaking Vault's
//! HTTP API exactly.
//!
//! - [`KvV1`]: read, write, delete and list at any path; a write stores the
//!   whole body.
//! - [`KvV2`]: versioned secrets: `config`, `data/`, `metadata/`, `delete/`,
//!   `undelete/`, `destroy/` and `subkeys/`, with check-and-set,
//!   `max_versions` trimming and `delete_version_after`.
//! - [`Cubbyhole`]: KV v1 in a private space per token, wiped when the core
//!   tells the mount the token was revoked ([`Backend::token_revoked`]).
//!
//! [`kv_backend`] builds the right KV version from a mount's options. Every
//! backend declares its paths in a [`coffer_sdk::PathTable`], so help is
//! generated from the same declarations.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use coffer_sdk::Backend;
use coffer_types::Result;
use serde_json::{Map, Value};

mod cubbyhole;
mod error;
mod kv1;
mod kv2;
mod kv2_store;
mod passthrough;
mod path_config;
mod path_data;
mod path_delete;
mod path_metadata;
mod path_subkeys;

#[cfg(test)]
mod test_support;

pub use cubbyhole::Cubbyhole;
pub use error::KvError;
pub use kv1::KvV1;
pub use kv2::KvV2;

/// The KV backend a mount's options ask for: `version` `"1"` (the default
/// when absent or empty) or `"2"`; anything else is a 400.
pub fn kv_backend(options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
    let version = match options.get("version") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    };
    match version.as_str() {
        "" | "1" => Ok(Arc::new(KvV1::new())),
        "2" => Ok(Arc::new(KvV2::new())),
        _ => Err(KvError::InvalidVersion(version.chars().take(32).collect()).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    fn options(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn version_option_picks_the_engine() {
        let h = Harness::new();
        for v1 in [
            json!({}),
            json!({"version": "1"}),
            json!({"version": ""}),
            json!({"version": 1}),
        ] {
            let b = kv_backend(&options(v1.clone())).unwrap();
            // KV v1 stores the whole body at any path.
            h.call(&*b, Operation::Update, "config", json!({"a": 1}))
                .await
                .unwrap();
            let resp = h
                .call(&*b, Operation::Read, "config", json!({}))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(body(&resp), json!({"a": 1}), "{v1}");
        }
        for v2 in [json!({"version": "2"}), json!({"version": 2})] {
            let b = kv_backend(&options(v2)).unwrap();
            let resp = h
                .call(&*b, Operation::Read, "metadata/none", json!({}))
                .await
                .unwrap_err();
            assert_eq!(resp.status(), 404);
        }
        for bad in [
            json!({"version": "3"}),
            json!({"version": "two"}),
            json!({"version": true}),
        ] {
            let err = kv_backend(&options(bad.clone())).err().unwrap();
            assert_eq!(err.status(), 400, "{bad}");
        }
    }
}
