//! Planning `entity/merge`, as Vault's `mergeEntity` does it for the API:
//! aliases move to the target entity (conflicts on a mount are refused
//! unless `conflicting_alias_ids_to_keep` settles them), group
//! memberships move, the merged entities are deleted. Vault's API merge
//! does not merge policies, so neither does this.

use crate::error::{IdentityError, Result};
use crate::state::{Change, State};

/// Vault's multierror rendering of a list of errors.
fn multierror(errors: &[String]) -> String {
    let noun = if errors.len() == 1 { "error" } else { "errors" };
    let items: String = errors.iter().map(|e| format!("\t* {e}\n")).collect();
    format!("{} {noun} occurred:\n{items}\n", errors.len())
}

/// The merge of `from_ids` into `to_id`.
pub(crate) fn plan_merge(
    st: &State,
    to_id: &str,
    from_ids: &[String],
    keep: &[String],
) -> Result<Change> {
    if to_id.is_empty() {
        return Err(IdentityError::invalid("missing entity id to merge to"));
    }
    if from_ids.is_empty() {
        return Err(IdentityError::invalid("missing entity ids to merge from"));
    }
    let Some(mut to) = st.entity(to_id).cloned() else {
        return Err(IdentityError::invalid("entity id to merge to is invalid"));
    };
    if from_ids.len() > 1 && keep.len() > 1 {
        return Err(IdentityError::invalid(
            "aliases conflicts cannot be resolved with multiple from entity ids - merge one entity at a time",
        ));
    }
    let mut from_list: Vec<&String> = Vec::new();
    for id in from_ids {
        if !from_list.contains(&id) {
            from_list.push(id);
        }
    }

    // First pass: every source exists, and (unless conflicts are being
    // settled) no two aliases would share a mount.
    let mut clashes = Vec::new();
    let mut seen_accessors: Vec<(&str, &str)> = Vec::new();
    for from_id in &from_list {
        if *from_id == to_id {
            return Err(IdentityError::invalid(
                "to_entity_id should not be present in from_entity_ids",
            ));
        }
        let Some(from) = st.entity(from_id) else {
            return Err(IdentityError::invalid("entity id to merge from is invalid"));
        };
        if !keep.is_empty() {
            continue;
        }
        for to_alias in &to.aliases {
            for from_alias in &from.aliases {
                let accessor = from_alias.mount_accessor.as_str();
                if let Some((_, owner)) = seen_accessors.iter().find(|(a, _)| *a == accessor)
                    && owner != from_id
                {
                    return Err(IdentityError::invalid(format!(
                        "mount accessor {accessor} found in multiple fromEntities, merge should be done with one fromEntity at a time"
                    )));
                }
                seen_accessors.push((accessor, from_id.as_str()));
                if to_alias.mount_accessor == from_alias.mount_accessor {
                    if clashes.is_empty() {
                        clashes.push("toEntity and at least one fromEntity have aliases with the same mount accessor, repeat the merge request specifying exactly one fromEntity, clashes: ".to_owned());
                    }
                    clashes.push(format!(
                        "mountAccessor: {}, toEntity ID: {}, fromEntity ID: {}, conflicting toEntity alias ID: {}, conflicting fromEntity alias ID: {}",
                        to_alias.mount_accessor, to.id, from_id, to_alias.id, from_alias.id
                    ));
                }
            }
        }
    }
    if !clashes.is_empty() {
        return Err(IdentityError::invalid(multierror(&clashes)));
    }

    // Second pass: move aliases and memberships.
    let mut change = Change::default();
    let mut gained_groups = Vec::new();
    for from_id in from_list {
        let Some(from) = st.entity(from_id) else {
            return Err(IdentityError::invalid("entity id to merge from is invalid"));
        };
        for alias in &from.aliases {
            let conflict = to
                .aliases
                .iter()
                .find(|a| a.mount_accessor == alias.mount_accessor)
                .map(|a| a.id.clone());
            if let Some(to_alias_id) = conflict {
                if keep.contains(&to_alias_id) {
                    // Keep the target's alias; the source's is dropped.
                    continue;
                } else if keep.contains(&alias.id) {
                    to.aliases.retain(|a| a.id != to_alias_id);
                } else {
                    return Err(IdentityError::invalid(format!(
                        "conflicting mount accessors in following alias IDs and neither were present in conflicting_alias_ids_to_keep: {}, {}",
                        alias.id, to_alias_id
                    )));
                }
            }
            let mut moved = alias.clone();
            moved.canonical_id = to.id.clone();
            moved.merged_from_canonical_ids.push(from.id.clone());
            to.aliases.push(moved);
        }
        to.merged_entity_ids
            .extend(from.merged_entity_ids.iter().cloned());
        to.merged_entity_ids.push(from.id.clone());
        for group_id in st.direct_group_ids(&from.id) {
            if let Some(mut group) = change.group(st, &group_id) {
                group.member_entity_ids.retain(|m| m != &from.id);
                group.modify_index += 1;
                change.put_group(group);
                gained_groups.push(group_id);
            }
        }
        change.deleted_entities.push(from.id.clone());
    }
    for group_id in gained_groups {
        if let Some(mut group) = change.group(st, &group_id) {
            if !group.member_entity_ids.contains(&to.id) {
                group.member_entity_ids.push(to.id.clone());
            }
            change.put_group(group);
        }
    }
    change.put_entity(to);
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Alias, Entity, Group};
    use std::time::UNIX_EPOCH;

    fn entity(id: &str, aliases: &[(&str, &str)]) -> Entity {
        let mut e = Entity::new(id.into(), format!("n-{id}"), UNIX_EPOCH);
        for (aid, acc) in aliases {
            e.aliases.push(Alias::new(
                (*aid).into(),
                id.into(),
                (*acc).into(),
                format!("user-{aid}"),
                UNIX_EPOCH,
            ));
        }
        e.policies = vec![format!("p-{id}")];
        e
    }

    fn state(entities: Vec<Entity>, groups: Vec<Group>) -> State {
        let mut st = State::default();
        let mut change = Change::default();
        entities.into_iter().for_each(|e| change.put_entity(e));
        groups.into_iter().for_each(|g| change.put_group(g));
        st.apply(change);
        st
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn merge_moves_aliases_and_groups() {
        let mut g = Group::new("g1".into(), "devs".into(), UNIX_EPOCH);
        g.member_entity_ids = ids(&["from"]);
        let mut st = state(
            vec![
                entity("to", &[("a1", "acc1")]),
                entity("from", &[("a2", "acc2")]),
            ],
            vec![g],
        );
        let change = plan_merge(&st, "to", &ids(&["from", "from"]), &[]).unwrap();
        st.apply(change);
        assert!(st.entity("from").is_none());
        let to = st.entity("to").unwrap();
        assert_eq!(to.aliases.len(), 2);
        assert_eq!(to.merged_entity_ids, ["from"]);
        assert_eq!(to.policies, ["p-to"], "Vault's API merge keeps policies");
        let moved = st.alias("a2").unwrap();
        assert_eq!(moved.canonical_id, "to");
        assert_eq!(moved.merged_from_canonical_ids, ["from"]);
        assert_eq!(st.entity_of_alias("a2").unwrap().id, "to");
        assert_eq!(st.direct_group_ids("to"), ["g1"]);
        assert_eq!(st.group("g1").unwrap().member_entity_ids, ["to"]);
    }

    #[test]
    fn conflicts_need_an_explicit_choice() {
        let st = state(
            vec![
                entity("to", &[("a1", "acc")]),
                entity("from", &[("a2", "acc")]),
                entity("other", &[]),
            ],
            vec![],
        );
        let err = plan_merge(&st, "to", &ids(&["from"]), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("2 errors occurred:\n\t* toEntity and at least one fromEntity"),
            "{err}"
        );
        assert!(err.contains("conflicting fromEntity alias ID: a2"), "{err}");

        let err = plan_merge(&st, "to", &ids(&["from"]), &ids(&["zzz"]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("conflicting mount accessors"), "{err}");

        // Keep the source's alias: the target's is dropped.
        let mut st2 = state(
            vec![
                entity("to", &[("a1", "acc")]),
                entity("from", &[("a2", "acc")]),
            ],
            vec![],
        );
        st2.apply(plan_merge(&st2, "to", &ids(&["from"]), &ids(&["a2"])).unwrap());
        let to = st2.entity("to").unwrap();
        assert_eq!(
            to.aliases.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["a2"]
        );
        assert!(st2.alias("a1").is_none());

        // Keep the target's.
        let mut st3 = state(
            vec![
                entity("to", &[("a1", "acc")]),
                entity("from", &[("a2", "acc")]),
            ],
            vec![],
        );
        st3.apply(plan_merge(&st3, "to", &ids(&["from"]), &ids(&["a1"])).unwrap());
        assert!(st3.alias("a2").is_none());
        assert_eq!(st3.alias("a1").unwrap().canonical_id, "to");

        for (to, from, keep, msg) in [
            ("", vec!["from"], vec![], "missing entity id to merge to"),
            ("to", vec![], vec![], "missing entity ids to merge from"),
            (
                "nope",
                vec!["from"],
                vec![],
                "entity id to merge to is invalid",
            ),
            (
                "to",
                vec!["nope"],
                vec![],
                "entity id to merge from is invalid",
            ),
            ("to", vec!["to"], vec![], "should not be present"),
            (
                "to",
                vec!["from", "other"],
                vec!["a", "b"],
                "merge one entity at a time",
            ),
        ] {
            let err = plan_merge(&st, to, &ids(&from), &ids(&keep)).unwrap_err();
            assert!(err.to_string().contains(msg), "{err}");
        }
    }
}
