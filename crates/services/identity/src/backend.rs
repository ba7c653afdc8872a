//! The `identity/` backend: Vault's entity, entity-alias, group and lookup
//! endpoints over an [`IdentityStore`], declared as one [`PathTable`] that
//! the sdk dispatches.

use std::sync::Arc;

use coffer_sdk::{Backend, FieldDef, Path, PathDef, PathTable, Routes, handler};
use coffer_types::Operation;

use crate::store::IdentityStore;
use crate::{path_alias, path_entity, path_group, path_lookup};

/// Resolves an auth mount accessor to the mount's (type, path), or `None`
/// when no auth mount has that accessor. Supplied by the core.
pub type MountResolver = Arc<dyn Fn(&str) -> Option<(String, String)> + Send + Sync>;

const LIST: &[Operation] = &[Operation::List];
const WRITE: &[Operation] = &[Operation::Update];
const RUD: &[Operation] = &[Operation::Read, Operation::Update, Operation::Delete];

fn def(
    pattern: &'static str,
    fields: &'static [FieldDef],
    operations: &'static [Operation],
    synopsis: &'static str,
) -> PathDef {
    PathDef {
        pattern,
        fields,
        operations,
        existence_check: false,
        synopsis,
        description: "",
    }
}

/// The identity paths, specific before general (the first match wins).
fn table() -> PathTable<IdentityBackend> {
    PathTable::new(vec![
        Path::new(def(
            "entity",
            path_entity::FIELDS,
            WRITE,
            "Create a new entity",
        ))
        .update(handler!(path_entity::write)),
        Path::new(def("entity/id", &[], LIST, "List all the entity IDs"))
            .list(handler!(path_entity::list_ids)),
        Path::new(def(
            "entity/id/:id",
            path_entity::FIELDS,
            RUD,
            "Update, read or delete an entity using entity ID",
        ))
        .read(handler!(path_entity::read_by_id))
        .update(handler!(path_entity::write_by_id))
        .delete(handler!(path_entity::delete_by_id)),
        Path::new(def("entity/name", &[], LIST, "List all the entity names"))
            .list(handler!(path_entity::list_names)),
        Path::new(def(
            "entity/name/*name",
            path_entity::FIELDS,
            RUD,
            "Update, read or delete an entity using entity name",
        ))
        .read(handler!(path_entity::read_by_name))
        .update(handler!(path_entity::write_by_name))
        .delete(handler!(path_entity::delete_by_name)),
        Path::new(def(
            "entity/batch-delete",
            path_entity::BATCH_FIELDS,
            WRITE,
            "Delete all of the entities provided",
        ))
        .update(handler!(path_entity::batch_delete)),
        Path::new(def(
            "entity/merge",
            path_entity::MERGE_FIELDS,
            WRITE,
            "Merge two or more entities together",
        ))
        .update(handler!(path_entity::merge)),
        Path::new(def(
            "entity-alias",
            path_alias::FIELDS,
            WRITE,
            "Create a new alias.",
        ))
        .update(handler!(path_alias::write)),
        Path::new(def("entity-alias/id", &[], LIST, "List all the alias IDs."))
            .list(handler!(path_alias::list)),
        Path::new(def(
            "entity-alias/id/:id",
            path_alias::FIELDS,
            RUD,
            "Update, read or delete an alias ID.",
        ))
        .read(handler!(path_alias::read))
        .update(handler!(path_alias::write))
        .delete(handler!(path_alias::delete)),
        Path::new(def(
            "group",
            path_group::FIELDS,
            WRITE,
            "Create a new group.",
        ))
        .update(handler!(path_group::write)),
        Path::new(def("group/id", &[], LIST, "List all the group IDs."))
            .list(handler!(path_group::list_ids)),
        Path::new(def(
            "group/id/:id",
            path_group::FIELDS,
            RUD,
            "Update or delete an existing group using its ID.",
        ))
        .read(handler!(path_group::read_by_id))
        .update(handler!(path_group::write_by_id))
        .delete(handler!(path_group::delete_by_id)),
        Path::new(def("group/name", &[], LIST, "List all the group names."))
            .list(handler!(path_group::list_names)),
        Path::new(def(
            "group/name/*name",
            path_group::FIELDS,
            RUD,
            "Update or delete an existing group using its name.",
        ))
        .read(handler!(path_group::read_by_name))
        .update(handler!(path_group::write_by_name))
        .delete(handler!(path_group::delete_by_name)),
        Path::new(def(
            "lookup/entity",
            path_lookup::FIELDS,
            WRITE,
            "Query entities based on various properties.",
        ))
        .update(handler!(path_lookup::entity)),
        Path::new(def(
            "lookup/group",
            path_lookup::FIELDS,
            WRITE,
            "Query groups based on various properties.",
        ))
        .update(handler!(path_lookup::group)),
    ])
}

/// The identity backend, mounted at `identity/`.
pub struct IdentityBackend {
    pub(crate) store: Arc<IdentityStore>,
    pub(crate) mounts: MountResolver,
    table: PathTable<IdentityBackend>,
}

impl std::fmt::Debug for IdentityBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityBackend")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl IdentityBackend {
    /// The backend over `store`; `mounts` tells which auth mounts exist
    /// (for alias validation and the `mount_type`/`mount_path` of reads).
    pub fn new(store: Arc<IdentityStore>, mounts: MountResolver) -> Self {
        Self {
            store,
            mounts,
            table: table(),
        }
    }

    /// The mount resolver as a plain function reference.
    pub(crate) fn mounts(&self) -> &(dyn Fn(&str) -> Option<(String, String)> + Send + Sync) {
        &*self.mounts
    }
}

impl Backend for IdentityBackend {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use coffer_sdk::Backend;
    use coffer_types::Operation::{Help, List, Read, Update};
    use serde_json::json;

    use crate::test_support::Harness;

    #[tokio::test]
    async fn declarations_are_vaults_identity_paths() {
        let h = Harness::new().await;
        let patterns: Vec<&str> = h.backend.paths().iter().map(|d| d.pattern).collect();
        assert_eq!(
            patterns,
            [
                "entity",
                "entity/id",
                "entity/id/:id",
                "entity/name",
                "entity/name/*name",
                "entity/batch-delete",
                "entity/merge",
                "entity-alias",
                "entity-alias/id",
                "entity-alias/id/:id",
                "group",
                "group/id",
                "group/id/:id",
                "group/name",
                "group/name/*name",
                "lookup/entity",
                "lookup/group",
            ]
        );
        // Every identity path needs a token and none needs sudo.
        let special = h.backend.special_paths();
        assert!(special.unauthenticated.is_empty());
        assert!(special.root.is_empty());
    }

    #[tokio::test]
    async fn every_handler_reads_only_declared_fields() {
        let h = Harness::new().await;
        let found = coffer_sdk::field_walk::undeclared_reads(&h.backend, &h.ctx, |_| {}).await;
        assert!(found.is_empty(), "{found:?}");
    }

    #[tokio::test]
    async fn help_unknown_fields_and_operations() {
        let h = Harness::new().await;
        let help = h.ok(Help, "entity/id/x", json!({})).await;
        assert!(help["help"].as_str().unwrap().contains("disabled (bool)"));
        let resp = h
            .call(Update, "entity", json!({"name": "e", "bogus": 1}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
        assert_eq!(h.err(Read, "entity/id", json!({})).await.0, 405);
        assert_eq!(h.err(List, "group", json!({})).await.0, 405);
    }
}
