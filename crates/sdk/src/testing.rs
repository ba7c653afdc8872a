//! A test harness for backends (behind the `testing` feature): a backend over
//! an in-memory view with a manual clock, and helpers to send it requests.
//!
//! Every engine, auth method and service used to carry its own copy of this:
//! a [`Context`] over a [`View`] of a [`MemoryStorage`], a [`ManualClock`]
//! stopped at a known instant, and a `call` that wraps a JSON body in a
//! [`Request`]. [`Harness`] is that copy, once; a crate's own test support
//! keeps only what is specific to it (creating a user, logging in).
//!
//! Writes go through the existence check the way the core's pipeline runs it
//! (an `update` the backend says targets nothing is sent as `create`), so a
//! handler is tested on the operation it receives in production. Turn it off
//! with [`HarnessBuilder::existence_check`] to send operations verbatim.
//!
//! Add it as a dev-dependency only:
//! `coffer-sdk = { workspace = true, features = ["testing"] }`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coffer_storage::{Key, MemoryStorage, Prefix, Storage, View, list_recursive};
use coffer_types::{Error, Operation, Request, Response, Result, Sensitive};
use serde_json::{Map, Value};

use crate::{Backend, Clock, Context, ManualClock, MountConfig, Services};

/// The instant every test clock starts at unless told otherwise, as RFC 3339.
pub const START: &str = "2023-11-14T22:13:20.123456789Z";

/// [`START`] as a duration since the UNIX epoch (1_700_000_000.123456789 s).
pub const START_UNIX: Duration = Duration::new(1_700_000_000, 123_456_789);

/// [`START`] as a [`SystemTime`].
pub fn start() -> SystemTime {
    UNIX_EPOCH + START_UNIX
}

/// Vault's default system lease TTL and maximum (768 hours), what a mount
/// resolves to when it sets neither.
pub const DEFAULT_TTL: Duration = Duration::from_secs(768 * 3600);

/// A mount's context over in-memory storage and a manual clock, and helpers
/// to send requests to a [`Backend`] in it. Fields are public so tests can
/// reach the context, the clock and the physical store directly.
pub struct Harness {
    /// What the backend gets with every request.
    pub ctx: Context,
    /// The clock in `ctx`; only [`Harness::advance`] (or the test) moves it.
    pub clock: Arc<ManualClock>,
    /// The physical store under the mount's view (and any other view a test
    /// opens with [`Harness::view_at`]).
    pub physical: Arc<MemoryStorage>,
    existence_check: bool,
    display_name: Option<String>,
}

/// How a [`Harness`] differs from the default one: see each method.
#[must_use]
pub struct HarnessBuilder {
    config: MountConfig,
    prefix: String,
    services: Services,
    physical: Option<Arc<MemoryStorage>>,
    clock: Option<Arc<ManualClock>>,
    start: SystemTime,
    existence_check: bool,
    display_name: Option<String>,
}

impl Default for HarnessBuilder {
    fn default() -> Self {
        Self {
            config: MountConfig {
                path: "test/".into(),
                accessor: "test_accessor".into(),
                default_lease_ttl: DEFAULT_TTL,
                max_lease_ttl: DEFAULT_TTL,
                options: Map::new(),
            },
            prefix: "logical/test-mount/".into(),
            services: Services::default(),
            physical: None,
            clock: None,
            start: start(),
            existence_check: true,
            display_name: None,
        }
    }
}

impl HarnessBuilder {
    /// The mount path (default `test/`); also each request's `mount_point`.
    pub fn mount_path(mut self, path: &str) -> Self {
        self.config.path = path.to_owned();
        self
    }

    /// The mount accessor (default `test_accessor`); also each request's
    /// `mount_accessor`.
    pub fn accessor(mut self, accessor: &str) -> Self {
        self.config.accessor = accessor.to_owned();
        self
    }

    /// The prefix of the mount's view in the physical store (default
    /// `logical/test-mount/`).
    ///
    /// # Panics
    /// When `prefix` is not a valid storage prefix (a test bug).
    pub fn prefix(mut self, prefix: &str) -> Self {
        Prefix::new(prefix).expect("a valid storage prefix");
        self.prefix = prefix.to_owned();
        self
    }

    /// The mount's default and maximum lease TTLs (default 768 hours each).
    pub fn ttls(mut self, default: Duration, max: Duration) -> Self {
        self.config.default_lease_ttl = default;
        self.config.max_lease_ttl = max;
        self
    }

    /// The mount's `options` map (default empty).
    ///
    /// # Panics
    /// When `options` is not a JSON object (a test bug).
    pub fn options(mut self, options: Value) -> Self {
        self.config.options = object(options);
        self
    }

    /// The services lent to the mount (default: none, every call fails).
    pub fn services(mut self, services: Services) -> Self {
        self.services = services;
        self
    }

    /// An existing physical store (default: a fresh one), to see what an
    /// earlier harness wrote, as after a restart, or to share it with
    /// services built before the harness.
    pub fn physical(mut self, physical: Arc<MemoryStorage>) -> Self {
        self.physical = Some(physical);
        self
    }

    /// An existing clock (default: a new one at the start instant), shared
    /// with services or an earlier harness. Overrides [`Self::start`].
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where a new clock starts (default [`START`]).
    pub fn start(mut self, at: SystemTime) -> Self {
        self.start = at;
        self
    }

    /// Whether writes go through the backend's existence check the way the
    /// core runs it (default `true`): an `update` whose target the backend
    /// says is absent is sent as `create`.
    pub fn existence_check(mut self, on: bool) -> Self {
        self.existence_check = on;
        self
    }

    /// The caller's token display name on every request (default none; the
    /// core sets `token` for a root token).
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_owned());
        self
    }

    /// The harness.
    pub fn build(self) -> Harness {
        let physical = self.physical.unwrap_or_default();
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(ManualClock::new(self.start)));
        let storage = view(&physical, &self.prefix);
        let ctx = Context {
            storage,
            config: self.config,
            clock: clock.clone(),
            services: self.services,
        };
        Harness {
            ctx,
            clock,
            physical,
            existence_check: self.existence_check,
            display_name: self.display_name,
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// The default harness: a mount `test/` over a fresh store, the clock at
    /// [`START`], 768-hour TTLs, no services, existence checks on.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a harness that differs from the default.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// A request as the core hands it to the mount: `op` on `path`
    /// (relative to the mount) with `body` (a JSON object, or `null` for
    /// none) and the mount's point and accessor filled in.
    ///
    /// # Panics
    /// When `body` is neither an object nor `null` (a test bug).
    pub fn request(&self, op: Operation, path: &str, body: Value) -> Request {
        let mut req = Request::new(op, path).with_data(object(body));
        req.path = format!("{}{path}", self.ctx.config.path);
        req.mount_point = self.ctx.config.path.clone();
        req.mount_accessor = self.ctx.config.accessor.clone();
        if let Some(name) = &self.display_name {
            req.caller_mut().display_name = Some(name.clone());
        }
        req
    }

    /// Sends a prepared request to `backend`, through the existence check
    /// when it is on.
    pub async fn send(&self, backend: &dyn Backend, mut req: Request) -> Result<Option<Response>> {
        if self.existence_check
            && req.op() == Operation::Update
            && backend.exists(&self.ctx, &req).await? == Some(false)
        {
            req.operation = Some(Operation::Create);
        }
        backend.handle(&self.ctx, &req).await
    }

    /// Sends `op` on `path` with `body` to `backend`.
    pub async fn call(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        self.send(backend, self.request(op, path, body)).await
    }

    /// [`Self::call`] with the caller's token scope (per-token storage such
    /// as cubbyhole), or none.
    pub async fn scoped(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
        scope: Option<&str>,
    ) -> Result<Option<Response>> {
        let mut req = self.request(op, path, body);
        if let Some(scope) = scope {
            req.caller_mut().scope = Some(scope.to_owned());
        }
        self.send(backend, req).await
    }

    /// [`Self::call`] from a client address, or none.
    pub async fn call_from(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
        addr: Option<IpAddr>,
    ) -> Result<Option<Response>> {
        let mut req = self.request(op, path, body);
        req.client_addr = addr;
        self.send(backend, req).await
    }

    /// [`Self::call`] with a client token.
    pub async fn call_with_token(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        token: &Sensitive,
        body: Value,
    ) -> Result<Option<Response>> {
        let req = self.request(op, path, body).with_token(token.clone());
        self.send(backend, req).await
    }

    /// [`Self::call`] by a caller with an entity.
    pub async fn call_as_entity(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        entity_id: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        let mut req = self.request(op, path, body);
        req.caller_mut().entity_id = Some(entity_id.to_owned());
        self.send(backend, req).await
    }

    /// A call that must succeed; its response (`None` for a 204).
    ///
    /// # Panics
    /// With the operation, path and error when the call fails.
    pub async fn ok(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Option<Response> {
        self.call(backend, op, path, body)
            .await
            .unwrap_or_else(|e| panic!("{op} {path}: {e}"))
    }

    /// A call that must succeed with a body; its `data` as a JSON value.
    ///
    /// # Panics
    /// When the call fails or answers nothing.
    pub async fn ok_data(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Value {
        let resp = self.ok(backend, op, path, body).await;
        data(&resp.unwrap_or_else(|| panic!("{op} {path}: no body")))
    }

    /// A call that must fail; its error.
    ///
    /// # Panics
    /// When the call succeeds.
    pub async fn err(
        &self,
        backend: &dyn Backend,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Error {
        match self.call(backend, op, path, body).await {
            Ok(resp) => panic!("{op} {path}: succeeded with {resp:?}"),
            Err(e) => e,
        }
    }

    /// What `backend`'s existence check says about a write to `path`.
    pub async fn exists(&self, backend: &dyn Backend, path: &str) -> Result<Option<bool>> {
        let req = self.request(Operation::Update, path, Value::Null);
        backend.exists(&self.ctx, &req).await
    }

    /// Advances the clock by whole seconds.
    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// The clock's reading.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Another view of the same physical store (a service's, beside the
    /// mount's).
    ///
    /// # Panics
    /// When `prefix` is not a valid storage prefix (a test bug).
    pub fn view_at(&self, prefix: &str) -> View {
        view(&self.physical, prefix)
    }

    /// Keys stored under `prefix` inside the mount's view, recursively.
    ///
    /// # Panics
    /// When `prefix` is invalid or the store fails.
    pub async fn keys_under(&self, prefix: &str) -> Vec<String> {
        let prefix = Prefix::new(prefix).expect("a valid storage prefix");
        list_recursive(&self.ctx.storage, &prefix)
            .await
            .expect("memory storage lists")
    }

    /// Every key and value in the whole physical store, in key order: what a
    /// test scans to prove no secret is stored in the clear.
    ///
    /// # Panics
    /// When the store fails.
    pub async fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let keys = list_recursive(&*self.physical, &Prefix::root())
            .await
            .expect("memory storage lists");
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let key = Key::new(k.clone()).expect("listed keys are valid");
            let value = self
                .physical
                .get(&key)
                .await
                .expect("memory storage reads")
                .unwrap_or_default();
            out.push((k, value));
        }
        out
    }
}

/// A response's `data` as a JSON value (`null` when absent).
pub fn data(resp: &Response) -> Value {
    resp.data.clone().map(Value::Object).unwrap_or(Value::Null)
}

fn object(body: Value) -> Map<String, Value> {
    match body {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => panic!("test bodies are JSON objects, not {other}"),
    }
}

fn view(physical: &Arc<MemoryStorage>, prefix: &str) -> View {
    let physical: Arc<dyn Storage> = physical.clone();
    View::new(
        physical,
        Prefix::new(prefix).expect("a valid storage prefix"),
    )
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use serde_json::json;

    use super::*;

    /// A backend that stores each write's `v` at its path and answers with
    /// what it saw; `exists` checks the key.
    struct Echo;

    fn key(req: &Request) -> Key {
        Key::new(req.relative_path.clone()).map_err(|_| ()).unwrap()
    }

    #[async_trait]
    impl Backend for Echo {
        async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
            match req.op() {
                Operation::Create | Operation::Update => {
                    let Some(v) = req.data.get("v") else {
                        return Err(Error::invalid("missing v"));
                    };
                    let bytes = serde_json::to_vec(v).unwrap();
                    ctx.storage.put(&key(req), bytes).await.unwrap();
                }
                Operation::Read => {}
                _ => return Ok(None),
            }
            let seen = json!({
                "op": req.op().as_str(),
                "now": crate::time::rfc3339(ctx.clock.now()),
                "mount_point": req.mount_point,
                "mount_accessor": req.mount_accessor,
                "scope": req.token_scope(),
                "entity": req.entity_id(),
                "addr": req.client_addr.map(|a| a.to_string()),
                "token": req.client_token.as_ref().map(|t| t.expose().to_owned()),
                "display_name": req.display_name(),
                "ttl": ctx.config.default_lease_ttl.as_secs(),
                "options": ctx.config.options,
            });
            Ok(Some(Response::with_data(object(seen))))
        }

        async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
            if req.relative_path.starts_with("unchecked/") {
                return Ok(None);
            }
            Ok(Some(ctx.storage.get(&key(req)).await.unwrap().is_some()))
        }
    }

    #[tokio::test]
    async fn clock_starts_at_the_common_instant_and_advances() {
        let h = Harness::new();
        assert_eq!(crate::time::rfc3339(h.now()), START);
        assert_eq!(h.now(), start());
        h.advance(90);
        let seen = h.ok_data(&Echo, Operation::Read, "x", json!({})).await;
        assert_eq!(seen["now"], "2023-11-14T22:14:50.123456789Z");
    }

    #[tokio::test]
    async fn writes_run_the_existence_check_like_the_core() {
        let h = Harness::new();
        let first = h
            .ok_data(&Echo, Operation::Update, "a", json!({"v": 1}))
            .await;
        assert_eq!(first["op"], "create");
        let second = h
            .ok_data(&Echo, Operation::Update, "a", json!({"v": 2}))
            .await;
        assert_eq!(second["op"], "update");
        let unchecked = h
            .ok_data(&Echo, Operation::Update, "unchecked/b", json!({"v": 3}))
            .await;
        assert_eq!(unchecked["op"], "update");
        assert_eq!(h.exists(&Echo, "a").await.unwrap(), Some(true));
        assert_eq!(h.exists(&Echo, "zzz").await.unwrap(), Some(false));

        let verbatim = Harness::builder().existence_check(false).build();
        let seen = verbatim
            .ok_data(&Echo, Operation::Update, "a", json!({"v": 1}))
            .await;
        assert_eq!(seen["op"], "update");
    }

    #[tokio::test]
    async fn requests_carry_the_mount_and_the_caller() {
        let h = Harness::builder()
            .mount_path("secret/")
            .accessor("kv_1234")
            .display_name("token")
            .build();
        let seen = data(
            &h.scoped(&Echo, Operation::Read, "x", json!({}), Some("alice"))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(seen["mount_point"], "secret/");
        assert_eq!(seen["mount_accessor"], "kv_1234");
        assert_eq!(seen["scope"], "alice");
        assert_eq!(seen["display_name"], "token");

        let addr: IpAddr = "10.0.0.7".parse().unwrap();
        let seen = data(
            &h.call_from(&Echo, Operation::Read, "x", Value::Null, Some(addr))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(seen["addr"], "10.0.0.7");

        let token = Sensitive::new("s.abc".to_owned());
        let seen = data(
            &h.call_with_token(&Echo, Operation::Read, "x", &token, json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(seen["token"], "s.abc");

        let seen = data(
            &h.call_as_entity(&Echo, Operation::Read, "x", "ent-1", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(seen["entity"], "ent-1");
    }

    #[tokio::test]
    async fn ok_and_err_split_outcomes() {
        let h = Harness::new();
        assert!(
            h.ok(&Echo, Operation::Delete, "x", json!({}))
                .await
                .is_none()
        );
        let e = h.err(&Echo, Operation::Update, "x", json!({})).await;
        assert_eq!(e.status(), 400);
        assert_eq!(e.messages(), ["missing v"]);
        let failed = tokio::spawn(async move {
            h.ok(&Echo, Operation::Update, "x", json!({})).await;
        })
        .await
        .unwrap_err();
        assert!(failed.is_panic());
    }

    #[tokio::test]
    async fn builder_sets_ttls_options_prefix_and_shares_store_and_clock() {
        let h = Harness::builder()
            .prefix("auth/abc/")
            .ttls(Duration::from_secs(60), Duration::from_secs(120))
            .options(json!({"version": "2"}))
            .start(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
            .build();
        let seen = h
            .ok_data(&Echo, Operation::Update, "k", json!({"v": "x"}))
            .await;
        assert_eq!(seen["ttl"], 60);
        assert_eq!(seen["options"], json!({"version": "2"}));
        assert_eq!(seen["now"], "2027-01-15T08:00:00Z");
        assert_eq!(h.keys_under("").await, ["k"]);
        assert_eq!(
            h.stored().await,
            [("auth/abc/k".to_owned(), b"\"x\"".to_vec())]
        );

        let again = Harness::builder()
            .prefix("auth/abc/")
            .physical(h.physical.clone())
            .clock(h.clock.clone())
            .build();
        h.advance(5);
        assert_eq!(again.now(), h.now());
        assert_eq!(
            again.exists(&Echo, "k").await.unwrap(),
            Some(true),
            "a second harness over the same store sees the first one's writes"
        );
        let other = h.view_at("sys/other/");
        assert_eq!(other.prefix().as_str(), "sys/other/");
    }

    #[test]
    #[should_panic(expected = "test bodies are JSON objects")]
    fn a_body_that_is_not_an_object_is_a_test_bug() {
        Harness::new().request(Operation::Update, "x", json!([1]));
    }
}
