//! Planning entity changes: login, create/update, delete (Vault's
//! `handleEntityUpdateCommon`, `handleEntityDeleteCommon`, and the login
//! path's alias lookup-or-create).

use std::collections::BTreeMap;
use std::time::SystemTime;

use coffer_types::AliasGrant;

use crate::error::{IdentityError, Result};
use crate::ids::{generated_name, new_id};
use crate::metadata;
use crate::model::{Alias, Entity, sorted_policies};
use crate::state::{Change, State};

/// The fields of an entity create/update request.
#[derive(Debug, Default)]
pub(crate) struct EntityInput {
    /// The entity to update (body `id`, or the `:id` of the path).
    pub id: String,
    /// The name to give it (body `name`, or the `:name` of the path).
    pub name: String,
    /// New metadata, when given.
    pub metadata: Option<BTreeMap<String, String>>,
    /// New policies, when given.
    pub policies: Option<Vec<String>>,
    /// New disabled flag, when given.
    pub disabled: Option<bool>,
}

/// A new entity with a generated, unused `entity_<8 hex>` name.
pub(crate) fn fresh_entity(st: &State, now: SystemTime) -> Result<Entity> {
    let name = generated_name("entity", |n| st.entity_name_taken(n))?;
    Ok(Entity::new(new_id("entity id")?, name, now))
}

/// Vault's login step: the entity behind (mount accessor, alias name),
/// created with its alias on first login; the alias metadata is refreshed
/// from the grant.
pub(crate) fn plan_login(
    st: &State,
    mount_accessor: &str,
    grant: &AliasGrant,
    now: SystemTime,
) -> Result<(Change, Entity)> {
    if mount_accessor.is_empty() {
        return Err(IdentityError::invalid("missing mount accessor"));
    }
    if grant.name.is_empty() {
        return Err(IdentityError::invalid("missing alias name"));
    }
    metadata::validate(&grant.metadata, "alias")?;
    let mut change = Change::default();
    if let Some(alias) = st.alias_by_factors(mount_accessor, &grant.name) {
        let Some(mut entity) = st.entity(&alias.canonical_id).cloned() else {
            return Err(IdentityError::Corrupt("alias index"));
        };
        if alias.metadata != grant.metadata {
            if let Some(a) = entity.aliases.iter_mut().find(|a| a.id == alias.id) {
                a.metadata = grant.metadata.clone();
                a.last_update_time = now;
            }
            change.put_entity(entity.clone());
        }
        return Ok((change, entity));
    }
    let mut entity = fresh_entity(st, now)?;
    let mut alias = Alias::new(
        new_id("alias id")?,
        entity.id.clone(),
        mount_accessor.to_owned(),
        grant.name.clone(),
        now,
    );
    alias.metadata = grant.metadata.clone();
    entity.aliases.push(alias);
    change.put_entity(entity.clone());
    Ok((change, entity))
}

/// Vault's `handleEntityUpdateCommon`: returns the change and, when a new
/// entity was created, that entity (an update answers 204).
pub(crate) fn plan_upsert(
    st: &State,
    input: EntityInput,
    now: SystemTime,
) -> Result<(Change, Option<Entity>)> {
    let mut entity: Option<Entity> = None;
    if !input.id.is_empty() {
        match st.entity(&input.id) {
            Some(e) => entity = Some(e.clone()),
            None => return Err(IdentityError::invalid("entity not found from id")),
        }
    }
    if !input.name.is_empty()
        && let Some(by_name) = st.entity_by_name(&input.name)
    {
        match &entity {
            None => entity = Some(by_name.clone()),
            Some(e) if e.id == by_name.id => {}
            Some(_) => return Err(IdentityError::invalid("entity name is already in use")),
        }
    }
    let is_new = entity.is_none();
    let mut entity = match entity {
        Some(e) => e,
        None => {
            let mut e = fresh_entity(st, now)?;
            if !input.name.is_empty() {
                e.name = input.name.clone();
            }
            e
        }
    };
    if !input.name.is_empty() {
        entity.name = input.name;
    }
    if let Some(policies) = input.policies {
        entity.policies = sorted_policies(&policies);
    }
    if entity.policies.iter().any(|p| p == "root") {
        return Err(IdentityError::invalid("policies cannot contain root"));
    }
    if let Some(disabled) = input.disabled {
        entity.disabled = disabled;
    }
    if let Some(meta) = input.metadata {
        entity.metadata = meta;
    }
    metadata::validate(&entity.metadata, "entity")?;
    if !is_new {
        entity.last_update_time = now;
    }
    let mut change = Change::default();
    change.put_entity(entity.clone());
    Ok((change, is_new.then_some(entity)))
}

/// Deletes entities (unknown ids are skipped): their aliases go with them
/// and they leave every group they were members of.
pub(crate) fn plan_delete(st: &State, ids: &[String]) -> Change {
    let mut change = Change::default();
    for id in ids {
        if st.entity(id).is_none() || change.deleted_entities.contains(id) {
            continue;
        }
        for group_id in st.direct_group_ids(id) {
            if let Some(mut group) = change.group(st, &group_id) {
                group.member_entity_ids.retain(|m| m != id);
                group.modify_index += 1;
                change.put_group(group);
            }
        }
        change.deleted_entities.push(id.clone());
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Group;
    use std::time::{Duration, UNIX_EPOCH};

    fn grant(name: &str, meta: &[(&str, &str)]) -> AliasGrant {
        AliasGrant {
            name: name.into(),
            metadata: meta
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn login_creates_once_then_refreshes_metadata() {
        let mut st = State::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        let (change, e) = plan_login(&st, "acc", &grant("alice", &[]), t0).unwrap();
        st.apply(change);
        assert!(e.name.starts_with("entity_"));
        assert_eq!(e.aliases.len(), 1);
        assert_eq!(e.aliases[0].canonical_id, e.id);

        let (change, again) = plan_login(&st, "acc", &grant("alice", &[]), t0).unwrap();
        assert!(change.is_empty(), "nothing to write on a repeat login");
        assert_eq!(again.id, e.id);

        let t1 = t0 + Duration::from_secs(5);
        let (change, updated) =
            plan_login(&st, "acc", &grant("alice", &[("team", "x")]), t1).unwrap();
        assert!(!change.is_empty());
        assert_eq!(updated.aliases[0].metadata["team"], "x");
        assert_eq!(updated.aliases[0].last_update_time, t1);
        assert_eq!(updated.aliases[0].creation_time, t0);

        let bad = plan_login(&st, "acc", &grant("alice", &[("vault-x", "1")]), t1);
        assert_eq!(bad.unwrap_err().kind().status(), 400);
        assert!(plan_login(&st, "acc", &grant("", &[]), t1).is_err());
    }

    #[test]
    fn upsert_follows_vaults_rules() {
        let mut st = State::default();
        let now = UNIX_EPOCH;
        let (change, created) = plan_upsert(
            &st,
            EntityInput {
                name: "Alice".into(),
                policies: Some(vec!["b".into(), "a".into(), "b".into()]),
                ..EntityInput::default()
            },
            now,
        )
        .unwrap();
        st.apply(change);
        let created = created.unwrap();
        assert_eq!(created.policies, ["a", "b"]);
        // The same name (any case) updates it.
        let (change, again) = plan_upsert(
            &st,
            EntityInput {
                name: "alice".into(),
                disabled: Some(true),
                ..EntityInput::default()
            },
            now,
        )
        .unwrap();
        assert!(again.is_none());
        st.apply(change);
        let e = st.entity(&created.id).unwrap();
        assert!(e.disabled);
        assert_eq!(e.name, "alice");
        assert_eq!(e.policies, ["a", "b"], "unchanged when not given");

        let errors = [
            (
                EntityInput {
                    id: "nope".into(),
                    ..EntityInput::default()
                },
                "entity not found from id",
            ),
            (
                EntityInput {
                    policies: Some(vec!["root".into()]),
                    ..EntityInput::default()
                },
                "policies cannot contain root",
            ),
            (
                EntityInput {
                    metadata: Some(BTreeMap::from([(" ".into(), "x".into())])),
                    ..EntityInput::default()
                },
                "invalid entity metadata",
            ),
        ];
        for (input, msg) in errors {
            let err = plan_upsert(&st, input, now).unwrap_err().to_string();
            assert!(err.contains(msg), "{err}");
        }
        let (change, other) = plan_upsert(&st, EntityInput::default(), now).unwrap();
        st.apply(change);
        let other = other.unwrap();
        let err = plan_upsert(
            &st,
            EntityInput {
                id: other.id.clone(),
                name: "ALICE".into(),
                ..EntityInput::default()
            },
            now,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "entity name is already in use");
    }

    #[test]
    fn delete_leaves_groups() {
        let mut st = State::default();
        let (change, e) = plan_login(&st, "acc", &grant("bob", &[]), UNIX_EPOCH).unwrap();
        st.apply(change);
        let mut g = Group::new("g1".into(), "devs".into(), UNIX_EPOCH);
        g.member_entity_ids = vec![e.id.clone(), "other".into()];
        let mut change = Change::default();
        change.put_group(g);
        st.apply(change);
        let change = plan_delete(&st, &[e.id.clone(), e.id.clone(), "unknown".into()]);
        assert_eq!(change.deleted_entities, [e.id.as_str()]);
        st.apply(change);
        assert!(st.alias_by_factors("acc", "bob").is_none());
        assert_eq!(st.group("g1").unwrap().member_entity_ids, ["other"]);
    }
}
