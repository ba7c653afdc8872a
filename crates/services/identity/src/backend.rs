//! The `identity/` backend: Vault's entity, entity-alias, group and lookup
//! endpoints over an [`IdentityStore`].

use std::sync::Arc;

use async_trait::async_trait;
use coffer_sdk::{Backend, Context, PathDef, RouteTable};
use coffer_types::{Operation, Request, Response, Result};

use crate::store::IdentityStore;
use crate::{path_alias, path_entity, path_group, path_lookup};

/// Resolves an auth mount accessor to the mount's (type, path), or `None`
/// when no auth mount has that accessor. Supplied by the core.
pub type MountResolver = Arc<dyn Fn(&str) -> Option<(String, String)> + Send + Sync>;

/// Which endpoint a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Entity,
    EntityIdList,
    EntityId,
    EntityNameList,
    EntityName,
    EntityBatchDelete,
    EntityMerge,
    Alias,
    AliasIdList,
    AliasId,
    Group,
    GroupIdList,
    GroupId,
    GroupNameList,
    GroupName,
    LookupEntity,
    LookupGroup,
}

const LIST: &[Operation] = &[Operation::List];
const WRITE: &[Operation] = &[Operation::Update];
const RUD: &[Operation] = &[Operation::Read, Operation::Update, Operation::Delete];

fn def(
    pattern: &'static str,
    fields: &'static [coffer_sdk::FieldDef],
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

fn table() -> RouteTable<Route> {
    use Route::*;
    RouteTable::new(vec![
        (
            def("entity", path_entity::FIELDS, WRITE, "Create a new entity"),
            Entity,
        ),
        (
            def("entity/id", &[], LIST, "List all the entity IDs"),
            EntityIdList,
        ),
        (
            def(
                "entity/id/:id",
                path_entity::FIELDS,
                RUD,
                "Update, read or delete an entity using entity ID",
            ),
            EntityId,
        ),
        (
            def("entity/name", &[], LIST, "List all the entity names"),
            EntityNameList,
        ),
        (
            def(
                "entity/name/*name",
                path_entity::FIELDS,
                RUD,
                "Update, read or delete an entity using entity name",
            ),
            EntityName,
        ),
        (
            def(
                "entity/batch-delete",
                path_entity::BATCH_FIELDS,
                WRITE,
                "Delete all of the entities provided",
            ),
            EntityBatchDelete,
        ),
        (
            def(
                "entity/merge",
                path_entity::MERGE_FIELDS,
                WRITE,
                "Merge two or more entities together",
            ),
            EntityMerge,
        ),
        (
            def(
                "entity-alias",
                path_alias::FIELDS,
                WRITE,
                "Create a new alias.",
            ),
            Alias,
        ),
        (
            def("entity-alias/id", &[], LIST, "List all the alias IDs."),
            AliasIdList,
        ),
        (
            def(
                "entity-alias/id/:id",
                path_alias::FIELDS,
                RUD,
                "Update, read or delete an alias ID.",
            ),
            AliasId,
        ),
        (
            def("group", path_group::FIELDS, WRITE, "Create a new group."),
            Group,
        ),
        (
            def("group/id", &[], LIST, "List all the group IDs."),
            GroupIdList,
        ),
        (
            def(
                "group/id/:id",
                path_group::FIELDS,
                RUD,
                "Update or delete an existing group using its ID.",
            ),
            GroupId,
        ),
        (
            def("group/name", &[], LIST, "List all the group names."),
            GroupNameList,
        ),
        (
            def(
                "group/name/*name",
                path_group::FIELDS,
                RUD,
                "Update or delete an existing group using its name.",
            ),
            GroupName,
        ),
        (
            def(
                "lookup/entity",
                path_lookup::FIELDS,
                WRITE,
                "Query entities based on various properties.",
            ),
            LookupEntity,
        ),
        (
            def(
                "lookup/group",
                path_lookup::FIELDS,
                WRITE,
                "Query groups based on various properties.",
            ),
            LookupGroup,
        ),
    ])
}

/// The identity backend, mounted at `identity/`.
pub struct IdentityBackend {
    pub(crate) store: Arc<IdentityStore>,
    pub(crate) mounts: MountResolver,
    table: RouteTable<Route>,
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

#[async_trait]
impl Backend for IdentityBackend {
    fn paths(&self) -> Vec<&coffer_sdk::PathDef> {
        self.table.declarations().collect()
    }

    async fn handle(&self, _ctx: &Context, req: &Request) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return self.table.help(&req.path).map(Some);
        }
        let matched = self.table.route(&req.path)?;
        matched.require_operation(op)?;
        let op = if op == Operation::Create {
            Operation::Update
        } else {
            op
        };
        let caps = &matched.captures;
        match matched.route {
            Route::Entity | Route::EntityId | Route::EntityName => {
                path_entity::handle(self, matched.route, op, req, caps).await
            }
            Route::EntityIdList => path_entity::list(self, true),
            Route::EntityNameList => path_entity::list(self, false),
            Route::EntityBatchDelete => path_entity::batch_delete(self, req).await,
            Route::EntityMerge => path_entity::merge(self, req).await,
            Route::Alias | Route::AliasId => path_alias::handle(self, op, req, caps).await,
            Route::AliasIdList => path_alias::list(self),
            Route::Group | Route::GroupId | Route::GroupName => {
                path_group::handle(self, matched.route, op, req, caps).await
            }
            Route::GroupIdList => path_group::list(self, true),
            Route::GroupNameList => path_group::list(self, false),
            Route::LookupEntity => path_lookup::entity(self, req),
            Route::LookupGroup => path_lookup::group(self, req),
        }
    }
}
