//! The one dispatcher every backend uses.
//!
//! A backend builds a [`PathTable`] of [`Path`]s: each is a declaration
//! ([`PathDef`]: pattern, typed fields, operations, help) with a handler per
//! operation, an optional existence function, and flags (unauthenticated,
//! sudo, arbitrary input, unpublished). [`PathTable::dispatch`] then does, in this order,
//! what every backend used to write by hand:
//!
//! 1. `help` requests: the help text generated from the declaration;
//! 2. match the path (first declaration wins; none is Vault's 404
//!    `unsupported path`);
//! 3. pick the operation's handler (none is a 405; a `create` falls back to
//!    the `update` handler, as Vault's framework does);
//! 4. validate the body against the declared field types (400);
//! 5. call the handler with a [`Call`];
//! 6. add Vault's "Endpoint ignored these unrecognized parameters" warning
//!    for body fields no declaration knows.
//!
//! [`PathTable::exists`] runs a path's existence function for the core's
//! create/update decision, and [`PathTable::special_paths`] turns the flags
//! into the unauthenticated and sudo lists the core checks before routing.
//!
//! Handlers may only read declared fields: [`FieldData`] records every read
//! of an undeclared name, and in debug builds (every test) the dispatch turns
//! such a read into an internal error naming the field, so a missing
//! declaration fails the first test that reaches the handler, and the walk
//! in [`crate::testing`] covers every declared path.

use std::future::Future;
use std::pin::Pin;

use coffer_types::{Operation, Request, Response, Result};

use crate::paths::{Captures, match_pattern, special_glob};
use crate::{Context, FieldData, PathDef, SdkError, SpecialPaths};

/// A boxed, sendable future (what handlers return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An operation's handler: a typed async function of the backend and the
/// call. Write it as `async fn read(b: &MyBackend, call: &Call<'_>) ->
/// Result<Option<Response>>` and register it with [`crate::handler!`].
pub type Handler<B> = for<'a> fn(&'a B, &'a Call<'a>) -> BoxFuture<'a, Result<Option<Response>>>;

/// A path's existence function: does the target of this write exist? Its
/// answer makes the write a `create` or an `update` for the ACL.
pub type Existence<B> = for<'a> fn(&'a B, &'a Call<'a>) -> BoxFuture<'a, Result<bool>>;

/// Wraps an `async fn(&B, &Call<'_>) -> Result<Option<Response>>` (or, for
/// [`Path::existence`], `-> Result<bool>`) into the function pointer the
/// table stores.
#[macro_export]
macro_rules! handler {
    ($f:path) => {
        |b, c| ::std::boxed::Box::pin($f(b, c))
    };
}

/// What a handler is given: the request, its mount's context, the captured
/// path segments and the body read through the path's declared fields.
pub struct Call<'a> {
    /// The backend's storage view, mount configuration, clock and services.
    pub ctx: &'a Context,
    /// The request, with `path` relative to the mount.
    pub req: &'a Request,
    /// The operation being handled (`create` or `update` after the core's
    /// existence check).
    pub op: Operation,
    /// The path segments the pattern captured.
    pub captures: Captures,
    /// The body, read through the declared fields.
    pub fields: FieldData<'a>,
}

impl Call<'_> {
    /// The capture called `name` ("" when the pattern has none).
    pub fn capture(&self, name: &str) -> &str {
        self.captures.get(name)
    }
}

/// One declared path with its handlers.
pub struct Path<B> {
    def: PathDef,
    handlers: Vec<(Operation, Handler<B>)>,
    existence: Option<Existence<B>>,
    unauthenticated: bool,
    sudo: bool,
    arbitrary_input: bool,
    unpublished: bool,
}

impl<B> Path<B> {
    /// A path from its declaration; add a handler for each declared
    /// operation.
    pub fn new(def: PathDef) -> Self {
        Self {
            def,
            handlers: Vec::new(),
            existence: None,
            unauthenticated: false,
            sudo: false,
            arbitrary_input: false,
            unpublished: false,
        }
    }

    /// The handler of `op`.
    pub fn on(mut self, op: Operation, handler: Handler<B>) -> Self {
        self.handlers.push((op, handler));
        self
    }

    /// The handler of `read`.
    pub fn read(self, handler: Handler<B>) -> Self {
        self.on(Operation::Read, handler)
    }

    /// The handler of `update` (and of `create`, unless one is given).
    pub fn update(self, handler: Handler<B>) -> Self {
        self.on(Operation::Update, handler)
    }

    /// The handler of `create` when it differs from `update`'s.
    pub fn create(self, handler: Handler<B>) -> Self {
        self.on(Operation::Create, handler)
    }

    /// The handler of `delete`.
    pub fn delete(self, handler: Handler<B>) -> Self {
        self.on(Operation::Delete, handler)
    }

    /// The handler of `list`.
    pub fn list(self, handler: Handler<B>) -> Self {
        self.on(Operation::List, handler)
    }

    /// The handler of `patch`.
    pub fn patch(self, handler: Handler<B>) -> Self {
        self.on(Operation::Patch, handler)
    }

    /// The existence check that splits writes into create and update (the
    /// declaration must say `existence_check: true`).
    pub fn existence(mut self, check: Existence<B>) -> Self {
        self.existence = Some(check);
        self
    }

    /// The path needs no token (login endpoints).
    pub fn unauthenticated(mut self) -> Self {
        self.unauthenticated = true;
        self
    }

    /// The path needs the `sudo` capability besides the operation's.
    pub fn sudo(mut self) -> Self {
        self.sudo = true;
        self
    }

    /// The path takes any body fields (KV v1): no warning for undeclared
    /// ones, and handlers read the body from `call.req.data`.
    pub fn arbitrary_input(mut self) -> Self {
        self.arbitrary_input = true;
        self
    }

    /// The path is dispatched like any other but not published: it is left
    /// out of [`PathTable::published`] (so of
    /// [`Backend::published_paths`](crate::Backend::published_paths), which
    /// `sys/internal/specs/openapi` and the bad-request corpus are made
    /// from), as Vault's framework leaves out `Unpublished` operations. For
    /// paths that exist only to refuse (KV v2's catch-all); matching, help,
    /// special paths and the declared-fields walk still see it.
    pub fn unpublished(mut self) -> Self {
        self.unpublished = true;
        self
    }

    fn handler(&self, op: Operation) -> Option<Handler<B>> {
        let find = |op| {
            self.handlers
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, h)| *h)
        };
        find(op).or_else(|| {
            (op == Operation::Create)
                .then(|| find(Operation::Update))
                .flatten()
        })
    }

    /// Declared operations and handlers must agree: a handler for every
    /// declared operation (`create` may use `update`'s), no handler for an
    /// undeclared one, and an existence function exactly when declared.
    fn check(&self) -> std::result::Result<(), String> {
        let pattern = self.def.pattern;
        for op in self.def.operations {
            if self.handler(*op).is_none() {
                return Err(format!(
                    "{pattern}: {} is declared without a handler",
                    op.as_str()
                ));
            }
        }
        for (op, _) in &self.handlers {
            let declared = self.def.operations.contains(op)
                || (*op == Operation::Create && self.def.existence_check);
            if !declared {
                return Err(format!(
                    "{pattern}: a handler for undeclared {}",
                    op.as_str()
                ));
            }
        }
        if self.def.existence_check != self.existence.is_some() {
            return Err(format!(
                "{pattern}: existence_check and the existence function disagree"
            ));
        }
        Ok(())
    }
}

/// A backend's ordered paths; the first declaration that matches wins, so
/// declare specific paths before general ones.
pub struct PathTable<B> {
    paths: Vec<Path<B>>,
}

impl<B> std::fmt::Debug for PathTable<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.paths.iter().map(|p| p.def.pattern))
            .finish()
    }
}

/// The warning Vault's framework adds for body fields no declaration knows.
fn ignored_warning(mut ignored: Vec<String>) -> String {
    ignored.sort();
    format!(
        "Endpoint ignored these unrecognized parameters: [{}]",
        ignored.join(" ")
    )
}

impl<B: Sync> PathTable<B> {
    /// A table of paths, checked for consistency.
    ///
    /// # Panics
    /// When a path's declared operations and its handlers disagree: a
    /// programming error that every test constructing the backend reports,
    /// like an invalid pattern in Vault's framework.
    pub fn new(paths: Vec<Path<B>>) -> Self {
        for p in &paths {
            if let Err(e) = p.check() {
                panic!("invalid path declaration: {e}");
            }
        }
        Self { paths }
    }

    fn find(&self, path: &str) -> Option<(&Path<B>, Captures)> {
        self.paths
            .iter()
            .find_map(|p| match_pattern(p.def.pattern, path).map(|c| (p, c)))
    }

    fn route(&self, path: &str) -> Result<(&Path<B>, Captures)> {
        self.find(path)
            .ok_or_else(|| SdkError::UnsupportedPath.into())
    }

    /// Handles `req` (its path relative to the mount) for `backend`.
    pub async fn dispatch(
        &self,
        backend: &B,
        ctx: &Context,
        req: &Request,
    ) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return self.help(&req.relative_path).map(Some);
        }
        let (path, captures) = self.route(&req.relative_path)?;
        let handler = path.handler(op).ok_or(SdkError::UnsupportedOperation)?;
        let call = Call {
            ctx,
            req,
            op,
            captures,
            fields: FieldData::new(&req.data, path.def.fields)?,
        };
        let result = handler(backend, &call).await;
        call.fields.check_reads()?;
        let resp = result?;
        let ignored = if path.arbitrary_input {
            Vec::new()
        } else {
            call.fields.unknown_fields()
        };
        if ignored.is_empty() {
            return Ok(resp);
        }
        Ok(Some(
            resp.unwrap_or_default().warn(ignored_warning(ignored)),
        ))
    }

    /// The existence check for a write to `req.relative_path`: `Some(exists)` when the
    /// path declares one, `None` when it does not (the write stays an update)
    /// and for an unknown path, which fails later, after the ACL, as in
    /// Vault (an unauthorised caller gets 403, not a 404 that would tell it
    /// which paths exist).
    pub async fn exists(&self, backend: &B, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        let Some((path, captures)) = self.find(&req.relative_path) else {
            return Ok(None);
        };
        let Some(check) = path.existence else {
            return Ok(None);
        };
        let call = Call {
            ctx,
            req,
            op: req.op(),
            captures,
            fields: FieldData::new(&req.data, path.def.fields)?,
        };
        let found = check(backend, &call).await;
        call.fields.check_reads()?;
        found.map(Some)
    }

    /// Help for `path`, generated from its declaration (Vault's `help`
    /// response).
    pub fn help(&self, path: &str) -> Result<Response> {
        let (p, _) = self.route(path)?;
        Ok(p.def.help(path))
    }

    /// Every declaration, in matching order.
    pub fn declarations(&self) -> Vec<&PathDef> {
        self.paths.iter().map(|p| &p.def).collect()
    }

    /// The declarations to publish, in matching order: every one but those
    /// marked [`Path::unpublished`].
    pub fn published(&self) -> Vec<&PathDef> {
        self.paths
            .iter()
            .filter(|p| !p.unpublished)
            .map(|p| &p.def)
            .collect()
    }

    /// The unauthenticated and sudo paths as Vault globs, from the flags.
    pub fn special_paths(&self) -> SpecialPaths {
        let globs = |flag: fn(&Path<B>) -> bool| {
            self.paths
                .iter()
                .filter(|p| flag(p))
                .map(|p| special_glob(p.def.pattern))
                .collect()
        };
        SpecialPaths {
            unauthenticated: globs(|p| p.unauthenticated),
            root: globs(|p| p.sudo),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use coffer_storage::{MemoryStorage, Prefix, Storage, View};
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::{FieldDef, FieldType, ManualClock, MountConfig, Services};

    /// A toy backend: `items/:name` with create/read/delete and a sloppy
    /// path whose handler reads a field it never declared.
    struct Toy {
        table: PathTable<Toy>,
    }

    const ITEM_FIELDS: &[FieldDef] = &[FieldDef::new("value", FieldType::String, "v")];

    fn key(call: &Call<'_>) -> Result<coffer_storage::Key> {
        Ok(coffer_storage::Key::new(call.capture("name"))?)
    }

    async fn write(_: &Toy, call: &Call<'_>) -> Result<Option<Response>> {
        let v = call.fields.require_string("value")?;
        call.ctx.storage.put(&key(call)?, v.into_bytes()).await?;
        Ok(None)
    }

    async fn read(_: &Toy, call: &Call<'_>) -> Result<Option<Response>> {
        let got = call.ctx.storage.get(&key(call)?).await?;
        Ok(got.map(|v| {
            let mut m = Map::new();
            m.insert(
                "value".into(),
                Value::String(String::from_utf8_lossy(&v).into()),
            );
            Response::with_data(m)
        }))
    }

    async fn exists(_: &Toy, call: &Call<'_>) -> Result<bool> {
        Ok(call.ctx.storage.get(&key(call)?).await?.is_some())
    }

    async fn sloppy(_: &Toy, call: &Call<'_>) -> Result<Option<Response>> {
        let _ = call.fields.get_string("not_declared")?;
        Ok(None)
    }

    fn def(
        pattern: &'static str,
        operations: &'static [Operation],
        existence_check: bool,
    ) -> PathDef {
        PathDef {
            pattern,
            fields: ITEM_FIELDS,
            operations,
            existence_check,
            synopsis: "toy",
            description: "a toy path",
        }
    }

    impl Toy {
        fn new() -> Self {
            use Operation::*;
            Self {
                table: PathTable::new(vec![
                    Path::new(def("items/:name", &[Read, Update], true))
                        .read(crate::handler!(read))
                        .update(crate::handler!(write))
                        .existence(crate::handler!(exists)),
                    Path::new(def("login/:name", &[Update], false))
                        .update(crate::handler!(write))
                        .unauthenticated(),
                    Path::new(def("sloppy", &[Update], false))
                        .update(crate::handler!(sloppy))
                        .sudo(),
                ]),
            }
        }
    }

    fn ctx() -> Context {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        Context {
            storage: View::new(mem, Prefix::new("logical/toy/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1))),
            services: Services::default(),
        }
    }

    fn req(op: Operation, path: &str, body: Value) -> Request {
        let mut r = Request::new(op, path);
        r.data = body.as_object().cloned().unwrap();
        r
    }

    async fn send(
        t: &Toy,
        c: &Context,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        t.table.dispatch(t, c, &req(op, path, body)).await
    }

    #[tokio::test]
    async fn routes_validates_and_calls_the_handler() {
        let (t, c) = (Toy::new(), ctx());
        assert!(
            send(&t, &c, Operation::Create, "items/a", json!({"value": "x"}))
                .await
                .unwrap()
                .is_none()
        );
        let got = send(&t, &c, Operation::Read, "items/a", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.data.unwrap()["value"], "x");
        let err = send(&t, &c, Operation::Update, "items/a", json!({"value": [1]}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = send(&t, &c, Operation::Delete, "items/a", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = send(&t, &c, Operation::Read, "nope", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (404, "unsupported path")
        );
    }

    #[tokio::test]
    async fn unknown_fields_are_a_warning() {
        let (t, c) = (Toy::new(), ctx());
        let resp = send(
            &t,
            &c,
            Operation::Update,
            "items/a",
            json!({"value": "x", "b": 1, "a": 2}),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [a b]"]
        );
    }

    #[tokio::test]
    async fn existence_and_help() {
        let (t, c) = (Toy::new(), ctx());
        let update = req(Operation::Update, "items/a", json!({}));
        assert_eq!(t.table.exists(&t, &c, &update).await, Ok(Some(false)));
        send(&t, &c, Operation::Update, "items/a", json!({"value": "x"}))
            .await
            .unwrap();
        assert_eq!(t.table.exists(&t, &c, &update).await, Ok(Some(true)));
        let login = req(Operation::Update, "login/a", json!({}));
        assert_eq!(t.table.exists(&t, &c, &login).await, Ok(None));
        let unknown = req(Operation::Update, "nope", json!({}));
        assert_eq!(t.table.exists(&t, &c, &unknown).await, Ok(None));
        let help = send(&t, &c, Operation::Help, "items/a", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert!(
            help.data.unwrap()["help"]
                .as_str()
                .unwrap()
                .contains("value (string)")
        );
    }

    #[tokio::test]
    async fn reading_an_undeclared_field_is_caught() {
        let (t, c) = (Toy::new(), ctx());
        let err = send(&t, &c, Operation::Update, "sloppy", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 500);
        assert!(err.messages()[0].contains("not_declared"), "{err:?}");
    }

    #[test]
    fn flags_become_special_paths() {
        let s = Toy::new().table.special_paths();
        assert_eq!(s.unauthenticated, ["login/+"]);
        assert_eq!(s.root, ["sloppy"]);
    }

    #[tokio::test]
    async fn unpublished_paths_dispatch_but_are_not_published() {
        use Operation::*;
        let t = Toy {
            table: PathTable::new(vec![
                Path::new(def("items/:name", &[Read, Update], true))
                    .read(crate::handler!(read))
                    .update(crate::handler!(write))
                    .existence(crate::handler!(exists)),
                Path::new(def("hidden/:name", &[Update], false))
                    .update(crate::handler!(write))
                    .sudo()
                    .unpublished(),
            ]),
        };
        let c = ctx();
        let patterns = |defs: Vec<&PathDef>| defs.iter().map(|d| d.pattern).collect::<Vec<_>>();
        assert_eq!(
            patterns(t.table.declarations()),
            ["items/:name", "hidden/:name"]
        );
        assert_eq!(patterns(t.table.published()), ["items/:name"]);
        // Still dispatched, helped and flagged.
        send(&t, &c, Update, "hidden/a", json!({"value": "x"}))
            .await
            .unwrap();
        let got = send(&t, &c, Read, "items/a", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.data.unwrap()["value"], "x");
        assert!(send(&t, &c, Help, "hidden/a", json!({})).await.is_ok());
        assert_eq!(t.table.special_paths().root, ["hidden/+"]);
        // A table without the flag publishes everything it declares.
        let toy = Toy::new();
        assert_eq!(
            patterns(toy.table.published()),
            patterns(toy.table.declarations())
        );
    }

    #[test]
    #[should_panic(expected = "declared without a handler")]
    fn a_declared_operation_needs_a_handler() {
        let _: PathTable<Toy> =
            PathTable::new(vec![Path::new(def("x", &[Operation::Read], false))]);
    }

    #[test]
    #[should_panic(expected = "existence_check")]
    fn existence_must_match_the_declaration() {
        let _: PathTable<Toy> = PathTable::new(vec![
            Path::new(def("x", &[Operation::Update], true)).update(crate::handler!(write)),
        ]);
    }
}
