//! `sys/seal`, `sys/key-status` and `sys/rotate`: sealing the server and the
//! barrier's encryption key, as a `sys/` piece. Unlike the seal lifecycle's
//! paths ([`super::lifecycle`]) these need a token (and `sudo` for `seal`
//! and `rotate`, declared here) and an unsealed server.

use crate::error::CoreError;
use std::sync::Weak;

use coffer_sdk::{Backend, Call, Path, PathDef, PathTable, Routes, handler, time::rfc3339};
use coffer_types::Operation::{Read, Update};
use coffer_types::{Response, Result};
use serde_json::json;

use crate::Core;

/// Sealing and the barrier key, over the core that owns them.
pub(crate) struct KeysPiece {
    core: super::CoreHandle,
    table: PathTable<KeysPiece>,
}

impl KeysPiece {
    /// The piece answering for `core` (weak: the core owns it).
    pub(crate) fn new(core: Weak<Core>) -> Self {
        Self {
            core: super::CoreHandle::new(core),
            table: PathTable::new(paths()),
        }
    }
}

impl Backend for KeysPiece {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

fn paths() -> Vec<Path<KeysPiece>> {
    vec![
        Path::new(PathDef {
            pattern: "seal",
            fields: &[],
            operations: &[Update],
            existence_check: false,
            synopsis: "Seal the server.",
            description: "Seals the server: the barrier's keys are dropped from memory and every \
                          request but the seal lifecycle's is refused until it is unsealed.",
        })
        .update(handler!(seal))
        .sudo(),
        Path::new(PathDef {
            pattern: "key-status",
            fields: &[],
            operations: &[Read],
            existence_check: false,
            synopsis: "The barrier's key term.",
            description: "The term of the barrier's current encryption key, when it was \
                          installed, and how many encryptions it has done.",
        })
        .read(handler!(key_status)),
        Path::new(PathDef {
            pattern: "rotate",
            fields: &[],
            operations: &[Update],
            existence_check: false,
            synopsis: "Rotate the barrier's encryption key.",
            description: "Installs a new barrier encryption key; data written from now on is \
                          encrypted with it, older data stays readable with the older terms.",
        })
        .update(handler!(rotate))
        .sudo(),
    ]
}

async fn seal(p: &KeysPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    p.core.get()?.seal().await?;
    Ok(None)
}

async fn key_status(p: &KeysPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    let status = p.core.get()?.unsealed()?.barrier.key_status();
    Response::from_serialize(&json!({
        "term": status.term,
        "install_time": rfc3339(status.install_time),
        "encryptions": status.encryptions,
    }))
    .map(Some)
}

async fn rotate(p: &KeysPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    core.unsealed()?
        .barrier
        .rotate(core.config.clock.now())
        .await
        .map_err(|source| CoreError::Barrier {
            doing: "rotating the barrier key",
            source,
        })?;
    Ok(None)
}
