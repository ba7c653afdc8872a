//! A harness for the unit tests: the manager over in-memory storage with a
//! manual clock, and a handler that records what it is asked and fails on
//! demand (it stands in for the backend behind a lease, which the core
//! supplies in production).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use coffer_sdk::{Clock, ManualClock};
use coffer_storage::{MemoryStorage, Prefix, Storage, View};
use coffer_types::{Error, Operation, Request};
use serde_json::{Map, Value, json};

use crate::{ExpirationManager, LeaseEntry, LeaseHandler, LeaseKind, NewLease};

/// Records revocations and renewals; fails revocations while `fail` is set.
pub(crate) struct RecordingHandler {
    clock: Arc<ManualClock>,
    revoked: Mutex<Vec<String>>,
    attempts: Mutex<Vec<SystemTime>>,
    renewed: Mutex<Vec<(String, Duration)>>,
    fail: Mutex<Option<Error>>,
    grant: Mutex<Duration>,
    gone_tokens: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RecordingHandler {
    pub(crate) fn revoked(&self) -> Vec<String> {
        lock(&self.revoked).clone()
    }
    /// Clock readings at every revocation attempt (failed or not).
    pub(crate) fn attempts(&self) -> Vec<SystemTime> {
        lock(&self.attempts).clone()
    }
    pub(crate) fn renewed(&self) -> Vec<(String, Duration)> {
        lock(&self.renewed).clone()
    }
    pub(crate) fn fail_with(&self, err: Option<Error>) {
        *lock(&self.fail) = err;
    }
    pub(crate) fn grant(&self, ttl: Duration) {
        *lock(&self.grant) = ttl;
    }
    pub(crate) fn forget_token(&self, token_ref: &str) {
        lock(&self.gone_tokens).insert(token_ref.to_owned());
    }
}

#[async_trait]
impl LeaseHandler for RecordingHandler {
    async fn revoke(&self, lease: &LeaseEntry) -> coffer_types::Result<()> {
        lock(&self.attempts).push(self.clock.now());
        if let Some(err) = lock(&self.fail).clone() {
            return Err(err);
        }
        lock(&self.revoked).push(lease.lease_id.clone());
        Ok(())
    }

    async fn renew(
        &self,
        lease: &LeaseEntry,
        increment: Duration,
    ) -> coffer_types::Result<Duration> {
        lock(&self.renewed).push((lease.lease_id.clone(), increment));
        Ok(*lock(&self.grant))
    }

    async fn token_exists(&self, token_ref: &str) -> coffer_types::Result<bool> {
        Ok(!lock(&self.gone_tokens).contains(token_ref))
    }
}

pub(crate) struct Harness {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) handler: Arc<RecordingHandler>,
    pub(crate) mgr: Arc<ExpirationManager>,
}

impl Harness {
    pub(crate) async fn new() -> Self {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let handler = Arc::new(RecordingHandler {
            clock: clock.clone(),
            revoked: Mutex::default(),
            attempts: Mutex::default(),
            renewed: Mutex::default(),
            fail: Mutex::default(),
            grant: Mutex::new(Duration::ZERO),
            gone_tokens: Mutex::default(),
        });
        let mgr = Self::manager(&storage, &clock, &handler).await;
        Self {
            storage,
            clock,
            handler,
            mgr,
        }
    }

    async fn manager(
        storage: &Arc<dyn Storage>,
        clock: &Arc<ManualClock>,
        handler: &Arc<RecordingHandler>,
    ) -> Arc<ExpirationManager> {
        let view = View::new(storage.clone(), Prefix::new("sys/expire/").unwrap());
        ExpirationManager::load(view, clock.clone(), handler.clone())
            .await
            .unwrap()
    }

    /// A second manager over the same storage (a restart or an unseal).
    pub(crate) async fn reload(&self) -> Arc<ExpirationManager> {
        Self::manager(&self.storage, &self.clock, &self.handler).await
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Every key stored by the manager (relative to its view).
    pub(crate) async fn keys(&self) -> Vec<String> {
        coffer_storage::list_recursive(self.storage.as_ref(), &Prefix::new("sys/expire/").unwrap())
            .await
            .unwrap()
    }
}

/// A renewable secret lease at `path` with `ttl_secs`, created by token `tok`.
pub(crate) fn secret(path: &str, ttl_secs: u64) -> NewLease {
    let mut internal_data = Map::new();
    internal_data.insert("username".into(), Value::String("v-web-1".into()));
    NewLease {
        path: path.to_owned(),
        kind: LeaseKind::Secret,
        mount_accessor: "database_1234".into(),
        ttl: Duration::from_secs(ttl_secs),
        max_ttl: Duration::ZERO,
        renewable: true,
        internal_data,
        token_ref: "tok".into(),
        id_suffix: None,
    }
}

/// A request with `op`, a path (unused by `handle_sys`) and a JSON body.
pub(crate) fn request(op: Operation, body: Value) -> Request {
    let data = match body {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Request::new(op, "sys/leases").with_data(data)
}

/// An empty JSON body.
pub(crate) fn no_body() -> Value {
    json!({})
}
