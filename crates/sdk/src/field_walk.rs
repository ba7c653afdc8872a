//! The declared-fields walk (behind the `testing` feature): sends every
//! declared operation of every declared path of a backend (published or
//! not: [`Backend::paths`]), once with an empty body and once with every
//! declared field set to a value of its type, and reports each handler that
//! read a field its path does not declare.
//!
//! The dispatcher records such reads and, in debug builds, answers them with
//! an internal error naming the fields ([`crate::FieldData::check_reads`]);
//! the walk looks for that answer. It reaches the branches a generic body
//! reaches (writes before reads, so records exist when they are read); the
//! backends' own tests, which run in debug builds too, cover the rest.

use coffer_types::{Operation, Request};
use serde_json::{Map, Value, json};

use crate::{Backend, Context, FieldType, PathDef};

/// The prefix of the dispatcher's error for an undeclared read.
const UNDECLARED: &str = "handler read undeclared fields";

/// A concrete path for a pattern: captures become `walk` (a rest capture
/// `walk/item`).
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| {
            if seg.starts_with(':') {
                "walk"
            } else if seg.starts_with('*') {
                "walk/item"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A value of each declared field's type.
fn full_body(def: &PathDef) -> Map<String, Value> {
    def.fields
        .iter()
        .map(|f| {
            let v = match f.kind {
                FieldType::String | FieldType::Any => json!("walk"),
                FieldType::Int => json!(1),
                FieldType::Bool => json!(true),
                FieldType::Duration => json!("1h"),
                FieldType::StringList => json!(["walk"]),
                FieldType::Map => json!({}),
            };
            (f.name.to_owned(), v)
        })
        .collect()
}

/// Writes first, so that reads, lists and deletes find something.
const ORDER: &[Operation] = &[
    Operation::Create,
    Operation::Update,
    Operation::Patch,
    Operation::Read,
    Operation::List,
    Operation::Delete,
];

/// Walks `backend`'s declarations with `ctx`; returns one line per handler
/// that read an undeclared field (empty when every read is declared).
/// `prepare` may fill in what the core would (a token scope, an entity).
pub async fn undeclared_reads(
    backend: &dyn Backend,
    ctx: &Context,
    prepare: impl Fn(&mut Request),
) -> Vec<String> {
    let mut problems = Vec::new();
    for def in backend.paths() {
        let path = concrete(def.pattern);
        for op in ORDER {
            let declared =
                def.operations.contains(op) || (*op == Operation::Create && def.existence_check);
            if !declared {
                continue;
            }
            for body in [Map::new(), full_body(def)] {
                let mut req = Request::new(*op, path.clone());
                req.data = body;
                prepare(&mut req);
                if let Err(e) = backend.handle(ctx, &req).await
                    && let Some(msg) = e.messages().iter().find(|m| m.starts_with(UNDECLARED))
                {
                    let line = format!("{} {}: {msg}", op.as_str(), def.pattern);
                    if !problems.contains(&line) {
                        problems.push(line);
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use coffer_types::{Response, Result};

    use super::*;
    use crate::testing::Harness;
    use crate::{Call, FieldDef, Path, PathTable, Routes, handler};

    /// A backend with one honest path and one planted mistake.
    struct Planted {
        table: PathTable<Planted>,
    }

    const FIELDS: &[FieldDef] = &[FieldDef::new("name", FieldType::String, "n")];

    async fn honest(_: &Planted, call: &Call<'_>) -> Result<Option<Response>> {
        call.fields.get_string("name")?;
        Ok(None)
    }

    async fn sloppy(_: &Planted, call: &Call<'_>) -> Result<Option<Response>> {
        // Only when the declared field is set: the full body reaches it.
        if call.fields.is_set("name") {
            call.fields.get_bool("forgotten")?;
        }
        Ok(None)
    }

    fn def(pattern: &'static str) -> PathDef {
        PathDef {
            pattern,
            fields: FIELDS,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "",
            description: "",
        }
    }

    impl Backend for Planted {
        fn routes(&self) -> Routes<'_> {
            self.table.bind(self)
        }
    }

    #[tokio::test]
    async fn the_walk_finds_a_planted_undeclared_read() {
        let b = Planted {
            table: PathTable::new(vec![
                Path::new(def("ok/:name")).update(handler!(honest)),
                // Unpublished paths are walked too.
                Path::new(def("bad/*rest"))
                    .update(handler!(sloppy))
                    .unpublished(),
            ]),
        };
        assert_eq!(b.published_paths().len(), 1);
        let h = Harness::new();
        let found = undeclared_reads(&b, &h.ctx, |_| {}).await;
        assert_eq!(
            found,
            ["update bad/*rest: handler read undeclared fields: forgotten"]
        );
    }

    #[test]
    fn concrete_paths() {
        assert_eq!(concrete("roles/:name/secret-id"), "roles/walk/secret-id");
        assert_eq!(concrete("data/*path"), "data/walk/item");
    }
}
