//! A backend's path table, bound to the backend, as [`Backend`] sees it.
//!
//! Every backend over a [`PathTable`] answers the core's four routing
//! questions the same way: `handle` is the table's dispatch, `exists` its
//! existence check, `special_paths` its unauthenticated and sudo flags,
//! `paths` its declarations. Writing those four delegations by hand in every
//! backend let some forget `exists` (every write became an `update` for the
//! ACL) or `special_paths` (a login path needed a token). Instead a backend
//! implements one method, [`Backend::routes`], as
//! `fn routes(&self) -> Routes<'_> { self.table.bind(self) }` (or
//! `TABLE.bind(self)` for a static table), and [`Backend`]'s provided
//! `handle`, `exists`, `special_paths` and `paths` all come from the
//! [`Routes`] it returns, so none can be left out. Backends without a table
//! (the `sys/` [`crate::Assembly`], test doubles) keep writing `handle` (and
//! whichever of the others they answer) by hand.
//!
//! [`Routes`] erases the backend's type so that [`Backend`] stays usable as
//! `dyn Backend`: it costs one small allocation per call of `routes`.

use std::fmt;

use coffer_types::{Request, Response, Result};

use crate::dispatch::{BoxFuture, PathTable};
use crate::{Context, PathDef, SdkError, SpecialPaths};

#[cfg(doc)]
use crate::Backend;

/// A backend's [`PathTable`] bound to the backend itself, returned by
/// [`Backend::routes`]; [`Backend`]'s provided routing methods answer from
/// it. Build one with [`PathTable::bind`]; [`Routes::none`] (the default of
/// [`Backend::routes`]) is a backend without a table.
pub struct Routes<'a> {
    bound: Option<Box<dyn Route<'a> + 'a>>,
}

/// The table and its backend with the backend's type erased.
trait Route<'a>: Send + Sync {
    fn dispatch<'s>(
        &'s self,
        ctx: &'s Context,
        req: &'s Request,
    ) -> BoxFuture<'s, Result<Option<Response>>>;

    fn exists<'s>(
        &'s self,
        ctx: &'s Context,
        req: &'s Request,
    ) -> BoxFuture<'s, Result<Option<bool>>>;

    fn special_paths(&self) -> SpecialPaths;

    fn declarations(&self) -> Vec<&'a PathDef>;

    fn published(&self) -> Vec<&'a PathDef>;
}

/// A table with the backend its handlers are called with.
struct Bound<'a, B> {
    table: &'a PathTable<B>,
    backend: &'a B,
}

impl<'a, B: Sync> Route<'a> for Bound<'a, B> {
    fn dispatch<'s>(
        &'s self,
        ctx: &'s Context,
        req: &'s Request,
    ) -> BoxFuture<'s, Result<Option<Response>>> {
        Box::pin(self.table.dispatch(self.backend, ctx, req))
    }

    fn exists<'s>(
        &'s self,
        ctx: &'s Context,
        req: &'s Request,
    ) -> BoxFuture<'s, Result<Option<bool>>> {
        Box::pin(self.table.exists(self.backend, ctx, req))
    }

    fn special_paths(&self) -> SpecialPaths {
        self.table.special_paths()
    }

    fn declarations(&self) -> Vec<&'a PathDef> {
        self.table.declarations()
    }

    fn published(&self) -> Vec<&'a PathDef> {
        self.table.published()
    }
}

impl<B: Sync> PathTable<B> {
    /// This table bound to `backend`, the value its handlers receive: what
    /// a backend returns from [`Backend::routes`]
    /// (`fn routes(&self) -> Routes<'_> { self.table.bind(self) }`).
    pub fn bind<'a>(&'a self, backend: &'a B) -> Routes<'a> {
        Routes {
            bound: Some(Box::new(Bound {
                table: self,
                backend,
            })),
        }
    }
}

impl<'a> Routes<'a> {
    /// No table: what [`Backend::routes`] returns unless a backend says
    /// otherwise. Such a backend must write its own `handle`; the provided
    /// one answers an internal error that says so. It has no existence
    /// check, no special paths and declares nothing.
    pub const fn none() -> Self {
        Self { bound: None }
    }

    /// Whether a table is bound.
    pub fn is_bound(&self) -> bool {
        self.bound.is_some()
    }

    /// The table's [`PathTable::dispatch`] for the bound backend.
    ///
    /// # Errors
    /// Whatever the dispatch answers; without a table, an internal error
    /// naming the missing method (a programming error the backend's first
    /// test finds).
    pub async fn dispatch(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        match &self.bound {
            Some(route) => route.dispatch(ctx, req).await,
            None => Err(SdkError::NoPathTable.into()),
        }
    }

    /// The table's [`PathTable::exists`] for the bound backend; `None`
    /// without a table.
    ///
    /// # Errors
    /// Whatever the path's existence function answers.
    pub async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        match &self.bound {
            Some(route) => route.exists(ctx, req).await,
            None => Ok(None),
        }
    }

    /// The table's [`PathTable::special_paths`]; none without a table.
    pub fn special_paths(&self) -> SpecialPaths {
        self.bound
            .as_ref()
            .map(|route| route.special_paths())
            .unwrap_or_default()
    }

    /// The table's [`PathTable::declarations`]; none without a table.
    pub fn declarations(&self) -> Vec<&'a PathDef> {
        self.bound
            .as_ref()
            .map(|route| route.declarations())
            .unwrap_or_default()
    }

    /// The table's [`PathTable::published`] (its declarations but the
    /// unpublished ones); none without a table.
    pub fn published(&self) -> Vec<&'a PathDef> {
        self.bound
            .as_ref()
            .map(|route| route.published())
            .unwrap_or_default()
    }
}

impl Default for Routes<'_> {
    fn default() -> Self {
        Self::none()
    }
}

impl fmt::Debug for Routes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.declarations().iter().map(|d| d.pattern))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use async_trait::async_trait;
    use coffer_storage::{Key, MemoryStorage, Prefix, Storage, View};
    use coffer_types::Operation;
    use serde_json::{Map, Value};

    use super::*;
    use crate::{
        Backend, Call, FieldDef, FieldType, ManualClock, MountConfig, Path, Services, handler,
    };

    /// A table backend that writes nothing but `routes`: its existence
    /// check, special paths and declarations must come from the table.
    struct Tabled {
        table: PathTable<Tabled>,
    }

    /// The same table as a static, as the `sys/` pieces declare it.
    struct Static;

    static STATIC_TABLE: std::sync::LazyLock<PathTable<Static>> =
        std::sync::LazyLock::new(|| PathTable::new(vec![login()]));

    /// A backend that answers `handle` itself and nothing else (like a
    /// mount whose type the catalog lacks).
    struct HandleOnly;

    /// A backend that forgot both `routes` and `handle`.
    struct Forgot;

    impl Backend for Tabled {
        fn routes(&self) -> Routes<'_> {
            self.table.bind(self)
        }
    }

    impl Backend for Static {
        fn routes(&self) -> Routes<'_> {
            STATIC_TABLE.bind(self)
        }
    }

    #[async_trait]
    impl Backend for HandleOnly {
        async fn handle(&self, _: &Context, _: &Request) -> Result<Option<Response>> {
            Ok(Some(Response::default()))
        }
    }

    impl Backend for Forgot {}

    const FIELDS: &[FieldDef] = &[FieldDef::new("value", FieldType::String, "v")];

    fn def(pattern: &'static str, ops: &'static [Operation], existence: bool) -> PathDef {
        PathDef {
            pattern,
            fields: FIELDS,
            operations: ops,
            existence_check: existence,
            synopsis: "s",
            description: "d",
        }
    }

    fn key(call: &Call<'_>) -> Result<Key> {
        Ok(Key::new(call.capture("name"))?)
    }

    async fn write(_: &Tabled, call: &Call<'_>) -> Result<Option<Response>> {
        let v = call.fields.require_string("value")?;
        call.ctx.storage.put(&key(call)?, v.into_bytes()).await?;
        Ok(None)
    }

    async fn exists(_: &Tabled, call: &Call<'_>) -> Result<bool> {
        let found = call.ctx.storage.get(&key(call)?).await;
        Ok(found?.is_some())
    }

    async fn hello<B>(_: &B, _: &Call<'_>) -> Result<Option<Response>> {
        let mut m = Map::new();
        m.insert("hello".into(), Value::Bool(true));
        Ok(Some(Response::with_data(m)))
    }

    fn login<B: Sync + 'static>() -> Path<B> {
        Path::new(def("login/:name", &[Operation::Update], false))
            .update(handler!(hello))
            .unauthenticated()
    }

    fn tabled() -> Arc<dyn Backend> {
        Arc::new(Tabled {
            table: PathTable::new(vec![
                Path::new(def("items/:name", &[Operation::Update], true))
                    .update(handler!(write))
                    .existence(handler!(exists)),
                login(),
                Path::new(def("rotate", &[Operation::Update], false))
                    .update(handler!(hello))
                    .sudo(),
            ]),
        })
    }

    fn ctx() -> Context {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        Context {
            storage: View::new(mem, Prefix::new("logical/t/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1))),
            services: Services::default(),
        }
    }

    fn req(op: Operation, path: &str, value: &str) -> Request {
        let mut data = Map::new();
        data.insert("value".into(), Value::String(value.into()));
        Request::new(op, path).with_data(data)
    }

    #[tokio::test]
    async fn a_table_backend_gets_routing_from_routes_alone() {
        let (b, c) = (tabled(), ctx());
        // special paths: from the flags, without `special_paths` written.
        let special = b.special_paths();
        assert_eq!(special.unauthenticated, ["login/+"]);
        assert_eq!(special.root, ["rotate"]);
        // existence: the path's function, without `exists` written.
        let write_a = req(Operation::Update, "items/a", "x");
        assert_eq!(b.exists(&c, &write_a).await, Ok(Some(false)));
        assert!(b.handle(&c, &write_a).await.unwrap().is_none());
        assert_eq!(b.exists(&c, &write_a).await, Ok(Some(true)));
        // a path without an existence function, and an unknown path.
        let login = req(Operation::Update, "login/bob", "x");
        assert_eq!(b.exists(&c, &login).await, Ok(None));
        assert_eq!(
            b.exists(&c, &req(Operation::Update, "nope", "")).await,
            Ok(None)
        );
        // declarations and dispatch.
        let patterns: Vec<_> = b.paths().iter().map(|d| d.pattern).collect();
        assert_eq!(patterns, ["items/:name", "login/:name", "rotate"]);
        assert_eq!(b.published_paths().len(), 3);
        let got = b.handle(&c, &login).await.unwrap().unwrap();
        assert_eq!(got.data.unwrap()["hello"], true);
        let err = b.handle(&c, &req(Operation::Read, "nope", "")).await;
        assert_eq!(err.unwrap_err().status(), 404);
    }

    #[tokio::test]
    async fn a_static_table_binds_the_same_way() {
        let b: Arc<dyn Backend> = Arc::new(Static);
        assert_eq!(b.special_paths().unauthenticated, ["login/+"]);
        assert_eq!(b.paths().len(), 1);
        let got = b
            .handle(&ctx(), &req(Operation::Update, "login/x", "v"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.data.unwrap()["hello"], true);
        assert_eq!(format!("{:?}", b.routes()), r#"["login/:name"]"#);
    }

    #[tokio::test]
    async fn without_a_table_the_defaults_route_nothing() {
        let (b, c): (Arc<dyn Backend>, _) = (Arc::new(HandleOnly), ctx());
        let write = req(Operation::Update, "items/a", "x");
        assert!(!b.routes().is_bound());
        assert_eq!(b.exists(&c, &write).await, Ok(None));
        assert!(b.special_paths().unauthenticated.is_empty());
        assert!(b.special_paths().root.is_empty());
        assert!(b.paths().is_empty());
        assert!(b.routes().published().is_empty());
        assert!(b.handle(&c, &write).await.unwrap().is_some());

        let err = Forgot.handle(&c, &write).await.unwrap_err();
        assert_eq!(err.status(), 500);
        assert!(err.messages()[0].contains("Backend::routes"), "{err:?}");
    }
}
