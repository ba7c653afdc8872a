//! A backend assembled from pieces: several backends, each with its own
//! path table, answering under one mount. `sys/` is built this way from the
//! pieces the services and the core contribute (leases, quotas, audit,
//! password policies, rotation, tools, ...): each piece declares its paths
//! relative to the mount like any backend, and the assembly routes a request
//! to the first piece that declares a matching path. Its declarations and
//! special paths are the pieces', in order, so help, OpenAPI, the
//! bad-request corpus and the sudo checks come from the same declarations.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_types::{Request, Response, Result};

use crate::{Backend, Context, PathDef, SdkError, SpecialPaths};

/// Several backends under one mount, tried in order.
pub struct Assembly {
    pieces: Vec<Arc<dyn Backend>>,
    special: SpecialPaths,
}

impl std::fmt::Debug for Assembly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembly")
            .field("pieces", &self.pieces.len())
            .field("special", &self.special)
            .finish()
    }
}

impl Assembly {
    /// An assembly of `pieces`; a path two pieces declare goes to the first.
    pub fn new(pieces: Vec<Arc<dyn Backend>>) -> Self {
        let mut special = SpecialPaths::default();
        for p in &pieces {
            let s = p.special_paths();
            special.unauthenticated.extend(s.unauthenticated);
            special.root.extend(s.root);
        }
        Self { pieces, special }
    }

    /// The merged special paths of the pieces (what
    /// [`Backend::special_paths`] returns, without a copy).
    pub fn special(&self) -> &SpecialPaths {
        &self.special
    }

    /// The piece that declares `path`, if any.
    pub fn piece_for(&self, path: &str) -> Option<&Arc<dyn Backend>> {
        self.pieces
            .iter()
            .find(|p| p.paths().iter().any(|d| d.matches(path)))
    }

    fn route(&self, path: &str) -> Result<&Arc<dyn Backend>> {
        self.piece_for(path)
            .ok_or_else(|| SdkError::UnsupportedPath.into())
    }
}

#[async_trait]
impl Backend for Assembly {
    async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        self.route(&req.relative_path)?.handle(ctx, req).await
    }

    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        match self.piece_for(&req.relative_path) {
            Some(piece) => piece.exists(ctx, req).await,
            None => Ok(None),
        }
    }

    fn special_paths(&self) -> SpecialPaths {
        self.special.clone()
    }

    fn paths(&self) -> Vec<&PathDef> {
        self.pieces.iter().flat_map(|p| p.paths()).collect()
    }

    fn published_paths(&self) -> Vec<&PathDef> {
        self.pieces
            .iter()
            .flat_map(|p| p.published_paths())
            .collect()
    }

    async fn token_revoked(&self, ctx: &Context, scope_id: &str) -> Result<()> {
        for p in &self.pieces {
            p.token_revoked(ctx, scope_id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use coffer_types::Operation;
    use serde_json::{Map, Value};

    use super::*;
    use crate::testing::Harness;
    use crate::{Call, FieldDef, FieldType, Path, PathTable, handler};

    /// A piece answering one path with its own name.
    struct Piece {
        name: &'static str,
        table: PathTable<Piece>,
    }

    const FIELDS: &[FieldDef] = &[FieldDef::new("x", FieldType::String, "x")];

    async fn answer(p: &Piece, _: &Call<'_>) -> Result<Option<Response>> {
        let mut m = Map::new();
        m.insert("piece".into(), Value::String(p.name.to_owned()));
        Ok(Some(Response::with_data(m)))
    }

    fn def(pattern: &'static str) -> PathDef {
        PathDef {
            pattern,
            fields: FIELDS,
            operations: &[Operation::Read],
            existence_check: false,
            synopsis: "",
            description: "",
        }
    }

    fn piece(name: &'static str, pattern: &'static str, sudo: bool) -> Arc<dyn Backend> {
        let mut path = Path::new(def(pattern)).read(handler!(answer));
        if sudo {
            path = path.sudo();
        }
        Arc::new(Piece {
            name,
            table: PathTable::new(vec![path]),
        })
    }

    #[async_trait]
    impl Backend for Piece {
        async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
            self.table.dispatch(self, ctx, req).await
        }
        fn paths(&self) -> Vec<&PathDef> {
            self.table.declarations()
        }
        fn special_paths(&self) -> SpecialPaths {
            self.table.special_paths()
        }
    }

    #[tokio::test]
    async fn routes_to_the_declaring_piece() {
        let a = Assembly::new(vec![
            piece("leases", "leases/:id", true),
            piece("quotas", "quotas/*rest", false),
        ]);
        let h = Harness::new();
        let got = h
            .ok_data(&a, Operation::Read, "quotas/a/b", Value::Null)
            .await;
        assert_eq!(got["piece"], "quotas");
        let got = h
            .ok_data(&a, Operation::Read, "leases/x", Value::Null)
            .await;
        assert_eq!(got["piece"], "leases");
        let err = h.err(&a, Operation::Read, "nope", Value::Null).await;
        assert_eq!(err.status(), 404);
        assert_eq!(a.special_paths().root, ["leases/+"]);
        assert_eq!(a.paths().len(), 2);
    }

    /// A piece over a bound table, so that its unpublished paths are not
    /// published.
    struct Tabled(PathTable<Piece>, Piece);

    impl Backend for Tabled {
        fn routes(&self) -> crate::Routes<'_> {
            self.0.bind(&self.1)
        }
    }

    #[tokio::test]
    async fn unpublished_paths_are_routed_but_not_published() {
        let hidden = Tabled(
            PathTable::new(vec![
                Path::new(def("catch/*rest"))
                    .read(handler!(answer))
                    .unpublished(),
            ]),
            Piece {
                name: "hidden",
                table: PathTable::new(Vec::new()),
            },
        );
        let a = Assembly::new(vec![piece("leases", "leases/:id", false), Arc::new(hidden)]);
        let got = Harness::new()
            .ok_data(&a, Operation::Read, "catch/a/b", Value::Null)
            .await;
        assert_eq!(got["piece"], "hidden");
        let patterns = |defs: Vec<&PathDef>| defs.iter().map(|d| d.pattern).collect::<Vec<_>>();
        assert_eq!(patterns(a.paths()), ["leases/:id", "catch/*rest"]);
        assert_eq!(patterns(a.published_paths()), ["leases/:id"]);
    }
}
