//! Test harness: the backend over in-memory storage with a manual clock, a
//! scan of every stored byte, and a recorder counting metrics.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use coffer_sdk::{Backend, Context, ManualClock, MountConfig};
use coffer_storage::{MemoryStorage, Prefix, Storage, View, list_recursive};
use coffer_types::{LoginGrant, Operation, Request, Response, Result};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::{Value, json};

use crate::Userpass;

pub(crate) struct Harness {
    pub ctx: Context,
    pub clock: Arc<ManualClock>,
    pub raw: Arc<MemoryStorage>,
    pub backend: Userpass,
}

impl Harness {
    pub fn new() -> Self {
        let raw = Arc::new(MemoryStorage::new());
        let storage = View::new(raw.clone(), Prefix::new("auth/userpass-test/").unwrap());
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let ctx = Context {
            storage,
            config: MountConfig {
                path: "auth/userpass/".into(),
                accessor: "test_accessor".into(),
                default_lease_ttl: Duration::from_secs(768 * 3600),
                max_lease_ttl: Duration::from_secs(768 * 3600),
                options: serde_json::Map::new(),
            },
            clock: clock.clone(),
            services: coffer_sdk::Services::default(),
        };
        Self {
            ctx,
            clock,
            raw,
            backend: Userpass::new(),
        }
    }

    pub async fn call_from(
        &self,
        op: Operation,
        path: &str,
        data: Value,
        addr: Option<IpAddr>,
    ) -> Result<Option<Response>> {
        let mut req = Request::new(op, path);
        req.data = data.as_object().cloned().expect("test bodies are objects");
        req.client_addr = addr;
        self.backend.handle(&self.ctx, &req).await
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        self.call_from(op, path, data, None).await
    }

    /// A call that must succeed without a body (204).
    pub async fn ok(&self, op: Operation, path: &str, data: Value) {
        let resp = self.call(op, path, data).await;
        assert!(matches!(resp, Ok(None)), "{op:?} {path}: {resp:?}");
    }

    pub async fn login_from(
        &self,
        user: &str,
        pw: &str,
        addr: Option<IpAddr>,
    ) -> Result<LoginGrant> {
        let resp = self
            .call_from(
                Operation::Update,
                &format!("login/{user}"),
                json!({"password": pw}),
                addr,
            )
            .await?
            .expect("a login answers");
        assert!(resp.data.is_none() && resp.auth.is_none());
        Ok(*resp.login.expect("a login grant"))
    }

    pub async fn login(&self, user: &str, pw: &str) -> Result<LoginGrant> {
        self.login_from(user, pw, None).await
    }

    pub async fn renew(&self, grant: &LoginGrant) -> Result<LoginGrant> {
        self.backend.renew_login(&self.ctx, grant).await
    }

    /// Every key and value in the underlying store.
    pub async fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for key in list_recursive(&*self.raw, &Prefix::root()).await.unwrap() {
            let value = self
                .raw
                .get(&key.as_str().try_into().unwrap())
                .await
                .unwrap()
                .unwrap();
            out.push((key, value));
        }
        out
    }
}

/// The response's `data` as a JSON value (`null` when absent).
pub(crate) fn body(resp: &Response) -> Value {
    resp.data.clone().map(Value::Object).unwrap_or(Value::Null)
}

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

type Series = (String, Vec<(String, String)>, Arc<AtomicU64>);

/// Counts counter increments by name and labels.
#[derive(Default)]
pub(crate) struct CountingRecorder {
    series: Mutex<Vec<Series>>,
}

struct Cell(Arc<AtomicU64>);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::SeqCst);
    }
}

impl CountingRecorder {
    pub fn count(&self, name: &str, mount: &str, method: &str) -> u64 {
        let want = vec![
            ("method".to_owned(), method.to_owned()),
            ("mount".to_owned(), mount.to_owned()),
        ];
        self.series
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, labels, _)| n == name && *labels == want)
            .map(|(_, _, c)| c.load(Ordering::SeqCst))
            .sum()
    }
}

impl Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let cell = Arc::new(AtomicU64::new(0));
        self.series
            .lock()
            .unwrap()
            .push((key.name().to_owned(), labels, cell.clone()));
        Counter::from_arc(Arc::new(Cell(cell)))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
