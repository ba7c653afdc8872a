//! The Shamir seal configuration, kept in physical storage beside the barrier.

use crate::error::CoreError;
use coffer_storage::{Key, Storage};
use coffer_types::Result;
use serde::{Deserialize, Serialize};

/// Physical key of the seal configuration. It is not secret (share counts), and
/// lives under the barrier's reserved prefix so no logical write can reach it.
const SEAL_CONFIG_KEY: &str = "core/barrier/seal-config";

/// How the unseal key is split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealConfig {
    /// Always `shamir` for now.
    #[serde(rename = "type")]
    pub seal_type: String,
    /// Number of key shares.
    pub secret_shares: u32,
    /// Shares needed to unseal.
    pub secret_threshold: u32,
}

impl SealConfig {
    /// A Shamir configuration.
    pub fn shamir(secret_shares: u32, secret_threshold: u32) -> Self {
        Self {
            seal_type: "shamir".to_owned(),
            secret_shares,
            secret_threshold,
        }
    }

    /// Reads the configuration from physical storage.
    pub(crate) async fn load(physical: &dyn Storage) -> Result<Option<Self>> {
        let key = seal_key()?;
        match physical.get(&key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CoreError::SealConfigCorrupt(e).into()),
        }
    }

    /// Writes the configuration to physical storage.
    pub(crate) async fn save(&self, physical: &dyn Storage) -> Result<()> {
        let bytes = serde_json::to_vec(self).map_err(|source| CoreError::Json {
            doing: "encoding seal configuration",
            source,
        })?;
        physical.put(&seal_key()?, bytes).await?;
        Ok(())
    }
}

fn seal_key() -> Result<Key> {
    Ok(Key::new(SEAL_CONFIG_KEY)?)
}
