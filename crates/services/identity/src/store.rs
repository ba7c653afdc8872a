//! The identity store: everything in memory for the per-request lookups,
//! written through to storage (one record per entity under `entity/`, one
//! per group under `group/`) before memory changes.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use coffer_policy::{TemplateAlias, TemplateContext, TemplateGroup};
use coffer_sdk::Clock;
use coffer_storage::{Key, Prefix, Storage, View, WriteOp};
use coffer_types::AliasGrant;

use crate::error::{IdentityError, Result};
use crate::model::{Entity, Group};
use crate::state::{Change, State};
use coffer_sdk::time::rfc3339;

const ENTITY_PREFIX: &str = "entity/";
const GROUP_PREFIX: &str = "group/";

/// Vault's identity store: entities, their aliases and groups.
///
/// Reads ([`IdentityStore::entity`], [`IdentityStore::identity_policies`],
/// [`IdentityStore::template_context`]) are served from memory. Writes are
/// serialised, persisted atomically, then applied in memory.
pub struct IdentityStore {
    view: View,
    clock: Arc<dyn Clock>,
    state: RwLock<State>,
    /// Held across a whole plan-persist-apply cycle, so writes never
    /// interleave and plans are made against the state they will change.
    writer: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore")
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

/// The guard a write holds; plans are made through it.
pub(crate) struct WriteGuard<'a> {
    store: &'a IdentityStore,
    _lock: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteGuard<'_> {
    /// The current state, to plan against.
    pub fn state(&self) -> RwLockReadGuard<'_, State> {
        self.store.read()
    }

    /// Persists `change` atomically, then applies it in memory.
    pub async fn commit(&self, change: Change) -> Result<()> {
        if change.is_empty() {
            return Ok(());
        }
        let mut ops = Vec::new();
        for id in &change.deleted_entities {
            ops.push(WriteOp::Delete(Key::new(format!("{ENTITY_PREFIX}{id}"))?));
        }
        for id in &change.deleted_groups {
            ops.push(WriteOp::Delete(Key::new(format!("{GROUP_PREFIX}{id}"))?));
        }
        for e in &change.entities {
            let bytes = serde_json::to_vec(e).map_err(|_| IdentityError::Encode("entity"))?;
            ops.push(WriteOp::Put(
                Key::new(format!("{ENTITY_PREFIX}{}", e.id))?,
                bytes,
            ));
        }
        for g in &change.groups {
            let bytes = serde_json::to_vec(g).map_err(|_| IdentityError::Encode("group"))?;
            ops.push(WriteOp::Put(
                Key::new(format!("{GROUP_PREFIX}{}", g.id))?,
                bytes,
            ));
        }
        self.store.view.write_batch(ops).await?;
        self.store
            .state
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .apply(change);
        Ok(())
    }
}

impl IdentityStore {
    /// Loads every entity and group from `view` (the core passes a barrier
    /// view) into memory.
    pub async fn load(view: View, clock: Arc<dyn Clock>) -> Result<Self> {
        let mut change = Change::default();
        for id in view.list(&Prefix::new(ENTITY_PREFIX)?).await? {
            if let Some(bytes) = view.get(&Key::new(format!("{ENTITY_PREFIX}{id}"))?).await? {
                let e: Entity =
                    serde_json::from_slice(&bytes).map_err(|_| IdentityError::Corrupt("entity"))?;
                change.put_entity(e);
            }
        }
        for id in view.list(&Prefix::new(GROUP_PREFIX)?).await? {
            if let Some(bytes) = view.get(&Key::new(format!("{GROUP_PREFIX}{id}"))?).await? {
                let g: Group =
                    serde_json::from_slice(&bytes).map_err(|_| IdentityError::Corrupt("group"))?;
                change.put_group(g);
            }
        }
        let mut state = State::default();
        state.apply(change);
        Ok(Self {
            view,
            clock,
            state: RwLock::new(state),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) async fn write(&self) -> WriteGuard<'_> {
        WriteGuard {
            store: self,
            _lock: self.writer.lock().await,
        }
    }

    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    /// Login: the entity behind (`mount_accessor`, `alias.name`), created
    /// with its alias (named `entity_<8 hex>`, as Vault names it) on first
    /// login; the alias metadata is updated from the grant. The mount type
    /// and path are not stored: reads resolve them from the accessor.
    /// A disabled entity is returned as it is; the core refuses it through
    /// [`IdentityStore::identity_policies`].
    pub async fn entity_for_login(
        &self,
        mount_accessor: &str,
        _mount_type: &str,
        _mount_path: &str,
        alias: &AliasGrant,
    ) -> Result<Entity> {
        // The common case, a returning user with unchanged metadata, needs
        // no write lock.
        if let Some(entity) = self.returning(mount_accessor, alias) {
            return Ok(entity);
        }
        let w = self.write().await;
        let (change, entity) = {
            let st = w.state();
            crate::ops_entity::plan_login(&st, mount_accessor, alias, self.now())?
        };
        w.commit(change).await?;
        Ok(entity)
    }

    /// The id of the entity behind a login, as
    /// [`IdentityStore::entity_for_login`] finds or creates it, without
    /// copying the entity (the core needs only its id).
    pub async fn entity_id_for_login(
        &self,
        mount_accessor: &str,
        mount_type: &str,
        mount_path: &str,
        alias: &AliasGrant,
    ) -> Result<String> {
        let known = self.with_returning(mount_accessor, alias, |e| e.id.clone());
        match known {
            Some(id) => Ok(id),
            None => self
                .entity_for_login(mount_accessor, mount_type, mount_path, alias)
                .await
                .map(|entity| entity.id),
        }
    }

    fn returning(&self, mount_accessor: &str, grant: &AliasGrant) -> Option<Entity> {
        self.with_returning(mount_accessor, grant, Entity::clone)
    }

    /// `f` of the entity of a returning login (alias known, metadata
    /// unchanged), under the read lock.
    fn with_returning<T>(
        &self,
        mount_accessor: &str,
        grant: &AliasGrant,
        f: impl FnOnce(&Entity) -> T,
    ) -> Option<T> {
        let st = self.read();
        let alias = st.alias_by_factors(mount_accessor, &grant.name)?;
        if alias.metadata != grant.metadata {
            return None;
        }
        st.entity(&alias.canonical_id).map(f)
    }

    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<Entity> {
        self.read().entity(id).cloned()
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<Group> {
        self.read().group(id).cloned()
    }

    /// The policies an entity brings to its tokens: its own and those of
    /// every group containing it, directly or through member groups
    /// (transitively, cycle-safe); sorted and deduplicated. An unknown
    /// entity (deleted since the token was made) brings none; a disabled
    /// one is an error, as Vault refuses its tokens.
    pub fn identity_policies(&self, entity_id: &str) -> Result<Vec<String>> {
        let st = self.read();
        let Some(entity) = st.entity(entity_id) else {
            return Ok(Vec::new());
        };
        if entity.disabled {
            return Err(IdentityError::EntityDisabled);
        }
        let mut policies: BTreeSet<&str> = entity.policies.iter().map(String::as_str).collect();
        let (direct, inherited) = st.groups_of_entity(entity_id);
        for group in direct.iter().chain(&inherited).filter_map(|g| st.group(g)) {
            policies.extend(group.policies.iter().map(String::as_str));
        }
        Ok(policies.into_iter().map(str::to_owned).collect())
    }

    /// What templated policies can read about the entity: its id, name and
    /// metadata, its aliases by mount accessor, every group it belongs to
    /// (directly or inherited), and the current time.
    pub fn template_context(&self, entity_id: &str) -> Option<TemplateContext> {
        let st = self.read();
        let entity = st.entity(entity_id)?;
        let mut ctx = TemplateContext::new(&entity.id, &entity.name);
        ctx.entity_metadata = entity.metadata.clone();
        for alias in &entity.aliases {
            ctx.aliases
                .entry(alias.mount_accessor.clone())
                .or_insert_with(|| TemplateAlias {
                    id: alias.id.clone(),
                    name: alias.name.clone(),
                    metadata: alias.metadata.clone(),
                    custom_metadata: alias.custom_metadata.clone(),
                    creation_time: rfc3339(alias.creation_time),
                    last_update_time: rfc3339(alias.last_update_time),
                });
        }
        let (direct, inherited) = st.groups_of_entity(entity_id);
        for group in direct.iter().chain(&inherited).filter_map(|g| st.group(g)) {
            ctx.groups.insert(
                group.id.clone(),
                TemplateGroup {
                    id: group.id.clone(),
                    name: group.name.clone(),
                    metadata: group.metadata.clone(),
                },
            );
        }
        ctx.now = Some(self.now());
        Some(ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{APPROLE, Harness, USERPASS};
    use coffer_policy::{Acl, Policy};
    use coffer_sdk::Clock as _;
    use coffer_types::{AliasGrant, Operation};
    use serde_json::json;

    fn grant(name: &str) -> AliasGrant {
        AliasGrant {
            name: name.into(),
            metadata: Default::default(),
        }
    }

    #[tokio::test]
    async fn entity_id_for_login_matches_the_entity_first_and_returning() {
        let h = Harness::new().await;
        let s = &h.store;
        let first = s
            .entity_id_for_login(USERPASS, "userpass", "auth/userpass/", &grant("dana"))
            .await
            .unwrap();
        let entity = s
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("dana"))
            .await
            .unwrap();
        assert_eq!(first, entity.id, "created on the first login");
        let again = s
            .entity_id_for_login(USERPASS, "userpass", "auth/userpass/", &grant("dana"))
            .await
            .unwrap();
        assert_eq!(again, entity.id, "the same entity when returning");
        let mut changed = grant("dana");
        changed.metadata.insert("team".into(), "ops".into());
        let updated = s
            .entity_id_for_login(USERPASS, "userpass", "auth/userpass/", &changed)
            .await
            .unwrap();
        assert_eq!(updated, entity.id);
        let aliases = s.entity(&entity.id).unwrap().aliases;
        assert_eq!(
            aliases[0].metadata.get("team").map(String::as_str),
            Some("ops")
        );
    }

    #[tokio::test]
    async fn login_creates_entity_and_alias_once() {
        let h = Harness::new().await;
        let s = &h.store;
        let e = s
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("alice"))
            .await
            .unwrap();
        assert!(e.name.starts_with("entity_") && e.name.len() == 15);
        let alias = &e.aliases[0];
        assert_eq!(
            (alias.mount_accessor.as_str(), alias.name.as_str()),
            (USERPASS, "alice")
        );
        h.advance(60);
        let again = s
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("alice"))
            .await
            .unwrap();
        assert_eq!(again, e, "the same entity, unchanged");
        // Another mount, same name: another entity.
        let other = s
            .entity_for_login(APPROLE, "approle", "auth/approle/", &grant("alice"))
            .await
            .unwrap();
        assert_ne!(other.id, e.id);
        let list = h.ok(Operation::List, "entity/id", json!({})).await;
        assert_eq!(list["keys"].as_array().unwrap().len(), 2);

        // Metadata from the auth method is copied onto the alias.
        let mut g = grant("alice");
        g.metadata.insert("team".into(), "payments".into());
        let updated = s
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &g)
            .await
            .unwrap();
        assert_eq!(updated.id, e.id);
        assert_eq!(updated.aliases[0].metadata["team"], "payments");
        assert!(updated.aliases[0].last_update_time > alias.last_update_time);
        assert_eq!(s.entity(&e.id).unwrap(), updated);
    }

    #[tokio::test]
    async fn identity_policies_through_nested_groups() {
        let h = Harness::new().await;
        let e = h
            .store
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("bob"))
            .await
            .unwrap();
        let path = format!("entity/id/{}", e.id);
        h.call(Operation::Update, &path, json!({"policies": "own,shared"}))
            .await
            .unwrap();
        let inner = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "inner", "policies": ["inner-p", "shared"], "member_entity_ids": [e.id]}),
            )
            .await;
        let middle = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "middle", "policies": "middle-p", "member_group_ids": [inner["id"]]}),
            )
            .await;
        h.ok(
            Operation::Update,
            "group",
            json!({"name": "outer", "policies": "outer-p", "member_group_ids": [middle["id"]]}),
        )
        .await;
        assert_eq!(
            h.store.identity_policies(&e.id).unwrap(),
            ["inner-p", "middle-p", "outer-p", "own", "shared"]
        );
        // outer cannot become a member of inner: that would be a cycle.
        let outer = h.ok(Operation::Read, "group/name/outer", json!({})).await;
        let (status, msg) = h
            .err(
                Operation::Update,
                "group/name/inner",
                json!({"member_group_ids": [outer["id"]]}),
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            msg.starts_with("cyclic relationship detected for member group ID"),
            "{msg}"
        );
        assert_eq!(h.store.identity_policies(&e.id).unwrap().len(), 5);
        // Unknown entities bring nothing; disabled ones are refused.
        assert!(
            h.store
                .identity_policies("no-such-entity")
                .unwrap()
                .is_empty()
        );
        h.call(Operation::Update, &path, json!({"disabled": true}))
            .await
            .unwrap();
        let err = h.store.identity_policies(&e.id).unwrap_err();
        assert_eq!(err.kind().status(), 403);
    }

    #[tokio::test]
    async fn everything_survives_a_reload() {
        let h = Harness::new().await;
        let e = h
            .store
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("carol"))
            .await
            .unwrap();
        let g = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "team", "policies": "p1", "member_entity_ids": e.id}),
            )
            .await;
        let child = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "child", "member_group_ids": []}),
            )
            .await;
        h.call(
            Operation::Update,
            "group/name/team",
            json!({"member_group_ids": [child["id"]]}),
        )
        .await
        .unwrap();
        let before_entity = h
            .ok(Operation::Read, &format!("entity/id/{}", e.id), json!({}))
            .await;
        let before_group = h.ok(Operation::Read, "group/name/team", json!({})).await;

        let h2 = h.reload().await;
        assert_eq!(h2.store.entity(&e.id), Some(e.clone()));
        assert_eq!(
            h2.ok(Operation::Read, &format!("entity/id/{}", e.id), json!({}))
                .await,
            before_entity
        );
        assert_eq!(
            h2.ok(Operation::Read, "group/name/team", json!({})).await,
            before_group
        );
        assert_eq!(before_group["member_group_ids"], json!([child["id"]]));
        assert_eq!(h2.store.identity_policies(&e.id).unwrap(), ["p1"]);
        // The alias index was rebuilt: a login finds the same entity.
        let again = h2
            .store
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &grant("carol"))
            .await
            .unwrap();
        assert_eq!(again.id, e.id);
        assert_eq!(g["name"], "team");
    }

    #[tokio::test]
    async fn template_context_renders_policies() {
        let h = Harness::new().await;
        let mut g = grant("dave");
        g.metadata.insert("region".into(), "eu".into());
        let e = h
            .store
            .entity_for_login(USERPASS, "userpass", "auth/userpass/", &g)
            .await
            .unwrap();
        h.call(
            Operation::Update,
            &format!("entity/id/{}", e.id),
            json!({"metadata": {"team": "payments"}}),
        )
        .await
        .unwrap();
        let inner = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "devs", "metadata": {"color": "blue"}, "member_entity_ids": [e.id]}),
            )
            .await;
        let outer = h
            .ok(
                Operation::Update,
                "group",
                json!({"name": "all", "member_group_ids": [inner["id"]]}),
            )
            .await;
        let ctx = h.store.template_context(&e.id).unwrap();
        assert_eq!(
            (ctx.entity_id.as_str(), ctx.entity_name.as_str()),
            (e.id.as_str(), e.name.as_str())
        );
        assert_eq!(ctx.entity_metadata["team"], "payments");
        let alias = ctx.alias(USERPASS).unwrap();
        assert_eq!(
            (alias.name.as_str(), alias.metadata["region"].as_str()),
            ("dave", "eu")
        );
        assert_eq!(alias.creation_time, "2023-11-14T22:13:20.123456789Z");
        assert_eq!(ctx.group_by_name("devs").unwrap().metadata["color"], "blue");
        assert!(ctx.group_by_id(outer["id"].as_str().unwrap()).is_some());
        assert_eq!(ctx.now, Some(h.clock.now()));
        assert!(h.store.template_context("nope").is_none());

        let policy = Policy::parse(
            "t",
            &format!(
                r#"path "secret/data/{{{{identity.entity.metadata.team}}}}/*" {{ capabilities = ["read"] }}
                   path "kv/{{{{identity.entity.aliases.{USERPASS}.metadata.region}}}}/{{{{identity.groups.names.all.id}}}}" {{ capabilities = ["read"] }}"#
            ),
        )
        .unwrap();
        let acl = Acl::new_with_context(&[&policy], Some(&ctx)).unwrap();
        assert!(
            acl.authorize("secret/data/payments/x", Operation::Read, None)
                .allowed
        );
        let group_path = format!("kv/eu/{}", outer["id"].as_str().unwrap());
        assert!(acl.authorize(&group_path, Operation::Read, None).allowed);
        assert!(
            !acl.authorize("secret/data/other/x", Operation::Read, None)
                .allowed
        );
    }
}
