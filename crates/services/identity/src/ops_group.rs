//! Planning group changes, as Vault's `handleGroupUpdateCommon`,
//! `sanitizeAndUpsertGroup` and `handleGroupDeleteCommon` do them.
//! Membership of groups in groups is stored on the member
//! (`parent_group_ids`), as in Vault.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::{IdentityError, Result};
use crate::ids::{generated_name, new_id};
use crate::metadata;
use crate::model::{Group, sorted_policies};
use crate::state::{Change, State};

/// The fields of a group create/update request.
#[derive(Debug, Default)]
pub(crate) struct GroupInput {
    /// The name (body `name`, or the `:name` of the path).
    pub name: String,
    /// `internal` or `external`, when given.
    pub group_type: Option<String>,
    /// New policies, when given.
    pub policies: Option<Vec<String>>,
    /// New metadata, when given.
    pub metadata: Option<BTreeMap<String, String>>,
    /// New member entities, when given.
    pub member_entity_ids: Option<Vec<String>>,
    /// New member groups, when given (an empty list removes them all).
    pub member_group_ids: Option<Vec<String>>,
}

/// Vault's `RemoveDuplicatesStable(policies, true)`: trimmed, empty items
/// dropped, the first of case-insensitive duplicates kept.
fn dedupe_case_insensitive(items: &[String]) -> Vec<String> {
    let mut seen = Vec::<String>::new();
    let mut out = Vec::new();
    for item in items {
        let item = item.trim();
        let lower = item.to_lowercase();
        if item.is_empty() || seen.contains(&lower) {
            continue;
        }
        seen.push(lower);
        out.push(item.to_owned());
    }
    out
}

fn sorted_ids(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().filter(|s| !s.is_empty()).cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// Creates a group (`existing` is `None`) or updates one. Returns the
/// change and, for a new group, the group (an update answers 204).
pub(crate) fn plan_upsert(
    st: &State,
    existing: Option<&Group>,
    input: GroupInput,
    now: SystemTime,
) -> Result<(Change, Option<Group>)> {
    let is_new = existing.is_none();
    let mut group = match existing {
        Some(g) => g.clone(),
        None => Group::new(String::new(), String::new(), now),
    };
    if let Some(policies) = &input.policies {
        group.policies = sorted_policies(&dedupe_case_insensitive(policies));
    }
    if group
        .policies
        .iter()
        .any(|p| p.eq_ignore_ascii_case("root"))
    {
        return Err(IdentityError::invalid("policies cannot contain root"));
    }
    if let Some(kind) = input.group_type.filter(|t| !t.is_empty()) {
        if !is_new && kind != group.group_type {
            return Err(IdentityError::invalid("group type cannot be changed"));
        }
        group.group_type = kind;
    }
    match group.group_type.as_str() {
        "internal" => {}
        "external" => {
            return Err(IdentityError::invalid(
                "external groups are not supported yet",
            ));
        }
        other => {
            return Err(IdentityError::invalid(format!(
                "invalid group type {other:?}"
            )));
        }
    }
    if !input.name.is_empty() {
        if st
            .group_by_name(&input.name)
            .is_some_and(|g| g.id != group.id)
        {
            return Err(IdentityError::invalid("group name is already in use"));
        }
        group.name = input.name;
    }
    if let Some(meta) = input.metadata {
        group.metadata = meta;
    }
    if let Some(members) = input.member_entity_ids {
        group.member_entity_ids = members;
    }

    if is_new {
        group.id = new_id("group id")?;
    }
    if group.name.is_empty() {
        group.name = generated_name("group", |n| st.group_by_name(n).is_some())?;
    }
    metadata::validate(&group.metadata, "group")?;
    if !is_new {
        group.last_update_time = now;
    }
    group.member_entity_ids = sorted_ids(&group.member_entity_ids);
    if let Some(bad) = group
        .member_entity_ids
        .iter()
        .find(|id| st.entity(id).is_none())
    {
        return Err(IdentityError::invalid(format!("invalid entity ID {bad:?}")));
    }

    let mut change = Change::default();
    if let Some(members) = input.member_group_ids {
        let members = sorted_ids(&members);
        for removed in st
            .member_group_ids(&group.id)
            .into_iter()
            .filter(|id| !members.contains(id))
        {
            if let Some(mut child) = change.group(st, &removed) {
                child.parent_group_ids.retain(|p| p != &group.id);
                child.modify_index += 1;
                change.put_group(child);
            }
        }
        for member_id in &members {
            let Some(mut member) = change.group(st, member_id) else {
                return Err(IdentityError::invalid(format!(
                    "invalid member group ID {member_id:?}"
                )));
            };
            if member.parent_group_ids.contains(&group.id) {
                continue;
            }
            if *member_id == group.id {
                return Err(IdentityError::invalid(format!(
                    "member group ID {:?} is same as the ID of the group",
                    group.id
                )));
            }
            if !is_new && st.reaches_down(member_id, &group.id) {
                return Err(IdentityError::invalid(format!(
                    "cyclic relationship detected for member group ID {member_id:?}"
                )));
            }
            member.parent_group_ids.push(group.id.clone());
            member.modify_index += 1;
            change.put_group(member);
        }
    }
    group.modify_index += 1;
    change.put_group(group.clone());
    Ok((change, is_new.then_some(group)))
}

/// Deletes a group; its member groups stop naming it as a parent.
pub(crate) fn plan_delete(st: &State, group_id: &str) -> Change {
    let mut change = Change::default();
    if st.group(group_id).is_none() {
        return change;
    }
    for child_id in st.member_group_ids(group_id) {
        if let Some(mut child) = change.group(st, &child_id) {
            child.parent_group_ids.retain(|p| p != group_id);
            child.modify_index += 1;
            change.put_group(child);
        }
    }
    change.deleted_groups.push(group_id.to_owned());
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entity;
    use std::time::UNIX_EPOCH;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn create(st: &mut State, name: &str, members: &[&str], groups: &[&str]) -> Result<Group> {
        let input = GroupInput {
            name: name.into(),
            member_entity_ids: Some(ids(members)),
            member_group_ids: Some(ids(groups)),
            ..GroupInput::default()
        };
        let (change, g) = plan_upsert(st, None, input, UNIX_EPOCH)?;
        st.apply(change);
        g.ok_or(IdentityError::Corrupt("test"))
    }

    fn update_members(st: &mut State, id: &str, groups: &[&str]) -> Result<()> {
        let existing = st.group(id).cloned();
        let input = GroupInput {
            member_group_ids: Some(ids(groups)),
            ..GroupInput::default()
        };
        let (change, created) = plan_upsert(st, existing.as_ref(), input, UNIX_EPOCH)?;
        assert!(created.is_none());
        st.apply(change);
        Ok(())
    }

    #[test]
    fn nesting_and_cycles() {
        let mut st = State::default();
        let mut change = Change::default();
        change.put_entity(Entity::new("e1".into(), "e".into(), UNIX_EPOCH));
        st.apply(change);
        let inner = create(&mut st, "inner", &["e1", "e1"], &[]).unwrap();
        assert_eq!(inner.member_entity_ids, ["e1"]);
        let outer = create(&mut st, "outer", &[], &[&inner.id]).unwrap();
        assert_eq!(
            st.group(&inner.id).unwrap().parent_group_ids,
            [outer.id.as_str()]
        );
        assert_eq!(st.groups_of_entity("e1").1, [outer.id.as_str()]);

        // inner cannot take outer as a member: outer already contains inner.
        let err = update_members(&mut st, &inner.id, &[&outer.id]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cyclic relationship detected for member group ID {:?}",
                outer.id
            )
        );
        let err = update_members(&mut st, &outer.id, &[&outer.id]).unwrap_err();
        assert!(err.to_string().contains("is same as the ID of the group"));
        // A longer cycle: top > outer > inner, then inner > top.
        let top = create(&mut st, "top", &[], &[&outer.id]).unwrap();
        assert!(update_members(&mut st, &inner.id, &[&top.id]).is_err());

        // Removing members clears their parent link.
        update_members(&mut st, &outer.id, &[]).unwrap();
        assert!(st.group(&inner.id).unwrap().parent_group_ids.is_empty());
        assert!(st.groups_of_entity("e1").1.is_empty());
        // Now inner may contain top.
        update_members(&mut st, &inner.id, &[&top.id]).unwrap();

        st.apply(plan_delete(&st, &inner.id));
        assert!(st.group(&top.id).unwrap().parent_group_ids.is_empty());
    }

    #[test]
    fn validation() {
        let mut st = State::default();
        let g = create(&mut st, "", &[], &[]).unwrap();
        assert!(g.name.starts_with("group_"));
        for (input, msg) in [
            (
                GroupInput {
                    policies: Some(ids(&["a", "ROOT"])),
                    ..GroupInput::default()
                },
                "policies cannot contain root",
            ),
            (
                GroupInput {
                    group_type: Some("external".into()),
                    ..GroupInput::default()
                },
                "external groups are not supported yet",
            ),
            (
                GroupInput {
                    group_type: Some("weird".into()),
                    ..GroupInput::default()
                },
                "invalid group type \"weird\"",
            ),
            (
                GroupInput {
                    name: g.name.to_uppercase(),
                    ..GroupInput::default()
                },
                "group name is already in use",
            ),
            (
                GroupInput {
                    member_entity_ids: Some(ids(&["ghost"])),
                    ..GroupInput::default()
                },
                "invalid entity ID \"ghost\"",
            ),
            (
                GroupInput {
                    member_group_ids: Some(ids(&["ghost"])),
                    ..GroupInput::default()
                },
                "invalid member group ID \"ghost\"",
            ),
        ] {
            let err = plan_upsert(&st, None, input, UNIX_EPOCH).unwrap_err();
            assert_eq!(err.to_string(), msg);
        }
        let existing = st.group(&g.id).cloned();
        let (change, _) = plan_upsert(
            &st,
            existing.as_ref(),
            GroupInput {
                policies: Some(ids(&["b", "A", "a", " c "])),
                ..GroupInput::default()
            },
            UNIX_EPOCH,
        )
        .unwrap();
        st.apply(change);
        assert_eq!(st.group(&g.id).unwrap().policies, ["A", "b", "c"]);
        assert_eq!(st.group(&g.id).unwrap().modify_index, 2);
    }
}
