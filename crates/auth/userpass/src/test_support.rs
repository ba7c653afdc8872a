//! Test harness: the sdk's harness with the userpass backend mounted, login
//! helpers, and a recorder counting metrics.

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use coffer_sdk::{Backend, testing};
use coffer_types::{LoginGrant, Operation, Response, Result};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::{Value, json};

use crate::Userpass;

/// The sdk harness with a userpass backend mounted at `auth/userpass/`.
pub(crate) struct Harness {
    pub t: testing::Harness,
    pub backend: Userpass,
}

impl Deref for Harness {
    type Target = testing::Harness;
    fn deref(&self) -> &testing::Harness {
        &self.t
    }
}

impl Harness {
    pub fn new() -> Self {
        let t = testing::Harness::builder()
            .mount_path("auth/userpass/")
            .prefix("auth/userpass-test/")
            .build();
        Self {
            t,
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
        self.t.call_from(&self.backend, op, path, data, addr).await
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        self.t.call(&self.backend, op, path, data).await
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
}

pub(crate) use testing::data as body;

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
