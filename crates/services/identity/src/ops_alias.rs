//! Planning entity-alias changes, as Vault's `handleAliasCreateUpdate`,
//! `handleAliasUpdate` and `pathAliasIDDelete` do them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::{IdentityError, Result};
use crate::ids::new_id;
use crate::metadata;
use crate::model::{Alias, Entity};
use crate::ops_entity::fresh_entity;
use crate::state::{Change, State};

/// The fields of an `entity-alias` write.
#[derive(Debug, Default)]
pub(crate) struct AliasInput {
    /// The alias to update (body `id` or the `:id` of the path).
    pub id: String,
    /// The alias name.
    pub name: String,
    /// The auth mount's accessor.
    pub mount_accessor: String,
    /// The entity to tie the alias to (`canonical_id`, or legacy `entity_id`).
    pub canonical_id: String,
    /// New custom metadata, when given.
    pub custom_metadata: Option<BTreeMap<String, String>>,
}

/// What a successful write answers: the alias id and its entity id
/// (`None` when nothing changed: Vault answers 204).
pub(crate) type AliasIds = Option<(String, String)>;

/// Whether an auth mount with this accessor exists.
pub(crate) type MountExists<'a> = &'a dyn Fn(&str) -> bool;

fn invalid_accessor(accessor: &str) -> IdentityError {
    IdentityError::invalid(format!("invalid mount accessor {accessor:?}"))
}

/// Creates or updates an alias.
pub(crate) fn plan_write(
    st: &State,
    input: AliasInput,
    mount_exists: MountExists<'_>,
    now: SystemTime,
) -> Result<(Change, AliasIds)> {
    let custom_given = input.custom_metadata.is_some();
    let mut custom = input.custom_metadata.unwrap_or_default();
    if !custom.is_empty() {
        metadata::validate_custom(&custom)?;
    }
    let (mut name, mut accessor) = (input.name, input.mount_accessor);
    let canonical = input.canonical_id;
    if !input.id.is_empty() {
        let Some(alias) = st.alias(&input.id) else {
            return Err(IdentityError::invalid("invalid alias ID provided"));
        };
        if !custom_given {
            custom = alias.custom_metadata.clone();
        }
        match (accessor.is_empty(), name.is_empty()) {
            (true, true) => {
                if canonical.is_empty() && !custom_given {
                    return Ok((Change::default(), None));
                }
                name = alias.name.clone();
                accessor = alias.mount_accessor.clone();
            }
            (true, false) => accessor = alias.mount_accessor.clone(),
            (false, true) => name = alias.name.clone(),
            (false, false) => {}
        }
        let target = Target {
            canonical: &canonical,
            name: &name,
            accessor: &accessor,
            custom,
        };
        return plan_update(st, alias, target, mount_exists, now);
    }
    if accessor.is_empty() || name.is_empty() {
        return Err(IdentityError::invalid(
            "'id' or 'mount_accessor' and 'name' must be provided",
        ));
    }
    if !mount_exists(&accessor) {
        return Err(invalid_accessor(&accessor));
    }
    let target = Target {
        canonical: &canonical,
        name: &name,
        accessor: &accessor,
        custom,
    };
    if let Some(alias) = st.alias_by_factors(&accessor, &name) {
        return plan_update(st, alias, target, mount_exists, now);
    }
    plan_create(st, target, now)
}

/// What an alias should become.
struct Target<'a> {
    canonical: &'a str,
    name: &'a str,
    accessor: &'a str,
    custom: BTreeMap<String, String>,
}

fn plan_create(st: &State, t: Target<'_>, now: SystemTime) -> Result<(Change, AliasIds)> {
    let mut entity: Entity = if t.canonical.is_empty() {
        fresh_entity(st, now)?
    } else {
        match st.entity(t.canonical) {
            Some(e) => e.clone(),
            None => return Err(IdentityError::invalid("invalid canonical ID")),
        }
    };
    if entity.alias_for_mount(t.accessor).is_some() {
        return Err(IdentityError::invalid(
            "Alias already exists for requested entity and mount accessor",
        ));
    }
    let mut alias = Alias::new(
        new_id("alias id")?,
        entity.id.clone(),
        t.accessor.to_owned(),
        t.name.to_owned(),
        now,
    );
    alias.custom_metadata = t.custom;
    let ids = (alias.id.clone(), entity.id.clone());
    entity.aliases.push(alias);
    let mut change = Change::default();
    change.put_entity(entity);
    Ok((change, Some(ids)))
}

fn plan_update(
    st: &State,
    alias: &Alias,
    t: Target<'_>,
    mount_exists: MountExists<'_>,
    now: SystemTime,
) -> Result<(Change, AliasIds)> {
    let same_entity = t.canonical.is_empty() || t.canonical == alias.canonical_id;
    if t.name == alias.name
        && t.accessor == alias.mount_accessor
        && same_entity
        && t.custom == alias.custom_metadata
    {
        return Ok((Change::default(), None));
    }
    let Some(mut current) = st.entity(&alias.canonical_id).cloned() else {
        return Err(IdentityError::invalid(
            "given alias is not associated with an entity",
        ));
    };
    if t.accessor != alias.mount_accessor
        && same_entity
        && current.alias_for_mount(t.accessor).is_some()
    {
        return Err(IdentityError::invalid(
            "Alias cannot be updated as the entity already has an alias for the given 'mount_accessor' ",
        ));
    }
    let mut updated = alias.clone();
    updated.last_update_time = now;
    if t.name != alias.name
        || t.accessor != alias.mount_accessor
        || t.custom != alias.custom_metadata
    {
        if !mount_exists(t.accessor) {
            return Err(invalid_accessor(t.accessor));
        }
        if st
            .alias_by_factors(t.accessor, t.name)
            .is_some_and(|other| other.id != alias.id)
        {
            return Err(IdentityError::invalid(
                "alias with combination of mount accessor and name already exists",
            ));
        }
        updated.name = t.name.to_owned();
        updated.mount_accessor = t.accessor.to_owned();
        updated.custom_metadata = t.custom;
    }
    if !mount_exists(&updated.mount_accessor) {
        return Err(invalid_accessor(&updated.mount_accessor));
    }
    let mut change = Change::default();
    if same_entity {
        if let Some(slot) = current.aliases.iter_mut().find(|a| a.id == alias.id) {
            *slot = updated.clone();
        }
        change.put_entity(current);
    } else {
        let Some(mut target) = st.entity(t.canonical).cloned() else {
            return Err(IdentityError::invalid(
                "given 'canonical_id' is not associated with an entity",
            ));
        };
        if target.alias_for_mount(t.accessor).is_some() {
            return Err(IdentityError::invalid(
                "Alias cannot be updated as the given entity already has an alias for this mount ",
            ));
        }
        updated.canonical_id = target.id.clone();
        target.aliases.push(updated.clone());
        current.aliases.retain(|a| a.id != alias.id);
        change.put_entity(current);
        change.put_entity(target);
    }
    Ok((change, Some((updated.id, updated.canonical_id))))
}

/// Deletes an alias (an unknown id changes nothing).
pub(crate) fn plan_delete(st: &State, alias_id: &str) -> Change {
    let mut change = Change::default();
    if let Some(mut entity) = st.entity_of_alias(alias_id).cloned() {
        entity.aliases.retain(|a| a.id != alias_id);
        change.put_entity(entity);
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn mounts(accessor: &str) -> bool {
        accessor.starts_with("auth_")
    }

    fn write(st: &mut State, input: AliasInput) -> Result<AliasIds> {
        let (change, ids) = plan_write(st, input, &mounts, UNIX_EPOCH)?;
        st.apply(change);
        Ok(ids)
    }

    fn input(name: &str, accessor: &str, canonical: &str) -> AliasInput {
        AliasInput {
            name: name.into(),
            mount_accessor: accessor.into(),
            canonical_id: canonical.into(),
            ..AliasInput::default()
        }
    }

    #[test]
    fn create_update_move_and_delete() {
        let mut st = State::default();
        // Without canonical_id a new entity is created.
        let (alias_id, e1) = write(&mut st, input("alice", "auth_up", ""))
            .unwrap()
            .unwrap();
        assert_eq!(st.entity_of_alias(&alias_id).unwrap().id, e1);
        // A second alias on the same mount for the same entity is refused.
        let err = write(&mut st, input("alice2", "auth_up", &e1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Alias already exists for requested entity and mount accessor"
        );
        // Same factors again: an update, here a no-op (204).
        assert!(
            write(&mut st, input("alice", "auth_up", ""))
                .unwrap()
                .is_none()
        );
        // Another mount for the same entity is fine.
        let (other_id, _) = write(&mut st, input("alice", "auth_ar", &e1))
            .unwrap()
            .unwrap();
        assert_eq!(st.entity(&e1).unwrap().aliases.len(), 2);

        // Move the first alias to a new entity via its id.
        let (_, e2) = write(&mut st, input("bob", "auth_up", ""))
            .unwrap()
            .unwrap();
        let err = write(
            &mut st,
            AliasInput {
                id: alias_id.clone(),
                canonical_id: e2.clone(),
                ..AliasInput::default()
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("given entity already has an alias for this mount")
        );
        let (_, e3) = write(&mut st, input("carol", "auth_ar", ""))
            .unwrap()
            .unwrap();
        let moved = write(
            &mut st,
            AliasInput {
                id: alias_id.clone(),
                canonical_id: e3.clone(),
                ..AliasInput::default()
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(moved, (alias_id.clone(), e3.clone()));
        assert_eq!(st.entity(&e1).unwrap().aliases.len(), 1);
        assert_eq!(st.entity_of_alias(&alias_id).unwrap().id, e3);

        // Renaming onto existing factors is refused.
        let err = write(
            &mut st,
            AliasInput {
                id: alias_id.clone(),
                name: "bob".into(),
                ..AliasInput::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "alias with combination of mount accessor and name already exists"
        );
        // Custom metadata update.
        write(
            &mut st,
            AliasInput {
                id: other_id.clone(),
                custom_metadata: Some(BTreeMap::from([("k".into(), "v".into())])),
                ..AliasInput::default()
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(st.alias(&other_id).unwrap().custom_metadata["k"], "v");

        st.apply(plan_delete(&st, &other_id));
        assert!(st.alias(&other_id).is_none());
        assert!(st.entity(&e1).unwrap().aliases.is_empty());
        assert!(plan_delete(&st, "unknown").is_empty());
    }

    #[test]
    fn invalid_inputs() {
        let mut st = State::default();
        for (inp, msg) in [
            (
                input("a", "", ""),
                "'id' or 'mount_accessor' and 'name' must be provided",
            ),
            (
                input("", "auth_up", ""),
                "'id' or 'mount_accessor' and 'name' must be provided",
            ),
            (input("a", "nope", ""), "invalid mount accessor \"nope\""),
            (input("a", "auth_up", "missing"), "invalid canonical ID"),
            (
                AliasInput {
                    id: "missing".into(),
                    ..AliasInput::default()
                },
                "invalid alias ID provided",
            ),
        ] {
            let err = write(&mut st, inp).unwrap_err();
            assert_eq!(err.to_string(), msg);
            assert_eq!(err.kind().status(), 400);
        }
    }
}
