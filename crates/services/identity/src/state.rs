//! The in-memory identity database: every entity and group, indexed for the
//! lookups made on every request (alias by mount and name, groups of an
//! entity, parents of a group). Changes are planned against a snapshot,
//! persisted, then applied here.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::model::{Alias, Entity, Group};

/// Records to write and delete, planned against the current [`State`].
#[derive(Debug, Default)]
pub(crate) struct Change {
    /// Entities to store (replacing any with the same id).
    pub entities: Vec<Entity>,
    /// Ids of entities to delete.
    pub deleted_entities: Vec<String>,
    /// Groups to store (replacing any with the same id).
    pub groups: Vec<Group>,
    /// Ids of groups to delete.
    pub deleted_groups: Vec<String>,
}

impl Change {
    /// Adds (or replaces, by id) an entity to store.
    pub fn put_entity(&mut self, entity: Entity) {
        self.entities.retain(|e| e.id != entity.id);
        self.entities.push(entity);
    }

    /// Adds (or replaces, by id) a group to store.
    pub fn put_group(&mut self, group: Group) {
        self.groups.retain(|g| g.id != group.id);
        self.groups.push(group);
    }

    /// The version of group `id` this change will store, or the current
    /// one: the copy to modify when a change touches a group twice.
    pub fn group(&self, state: &State, id: &str) -> Option<Group> {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .or_else(|| state.group(id))
            .cloned()
    }

    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.deleted_entities.is_empty()
            && self.groups.is_empty()
            && self.deleted_groups.is_empty()
    }
}

/// Every identity object, with its indexes.
#[derive(Debug, Default)]
pub(crate) struct State {
    entities: HashMap<String, Entity>,
    /// Lowercased entity name -> entity id (names are case-insensitive).
    entity_names: HashMap<String, String>,
    /// Alias id -> entity id.
    aliases: HashMap<String, String>,
    /// (mount accessor, alias name) -> alias id.
    alias_factors: HashMap<(String, String), String>,
    groups: HashMap<String, Group>,
    /// Lowercased group name -> group id.
    group_names: HashMap<String, String>,
    /// Entity id -> groups listing it as a member.
    entity_groups: HashMap<String, BTreeSet<String>>,
    /// Group id -> groups listing it as a parent (its member groups).
    group_children: HashMap<String, BTreeSet<String>>,
}

impl State {
    /// Applies a change already persisted.
    pub fn apply(&mut self, change: Change) {
        for id in &change.deleted_entities {
            self.remove_entity(id);
        }
        for id in &change.deleted_groups {
            self.remove_group(id);
        }
        for entity in change.entities {
            self.remove_entity(&entity.id);
            self.insert_entity(entity);
        }
        for group in change.groups {
            self.remove_group(&group.id);
            self.insert_group(group);
        }
    }

    fn remove_entity(&mut self, id: &str) {
        let Some(entity) = self.entities.remove(id) else {
            return;
        };
        let name = entity.name.to_lowercase();
        if self.entity_names.get(&name).is_some_and(|i| i == id) {
            self.entity_names.remove(&name);
        }
        for alias in &entity.aliases {
            self.aliases.remove(&alias.id);
            let factors = (alias.mount_accessor.clone(), alias.name.clone());
            if self.alias_factors.get(&factors) == Some(&alias.id) {
                self.alias_factors.remove(&factors);
            }
        }
    }

    fn insert_entity(&mut self, entity: Entity) {
        self.entity_names
            .insert(entity.name.to_lowercase(), entity.id.clone());
        for alias in &entity.aliases {
            self.aliases.insert(alias.id.clone(), entity.id.clone());
            self.alias_factors.insert(
                (alias.mount_accessor.clone(), alias.name.clone()),
                alias.id.clone(),
            );
        }
        self.entities.insert(entity.id.clone(), entity);
    }

    fn remove_group(&mut self, id: &str) {
        let Some(group) = self.groups.remove(id) else {
            return;
        };
        let name = group.name.to_lowercase();
        if self.group_names.get(&name).is_some_and(|i| i == id) {
            self.group_names.remove(&name);
        }
        for (index, keys) in [
            (&mut self.entity_groups, &group.member_entity_ids),
            (&mut self.group_children, &group.parent_group_ids),
        ] {
            for key in keys {
                if let Some(set) = index.get_mut(key) {
                    set.remove(id);
                    if set.is_empty() {
                        index.remove(key);
                    }
                }
            }
        }
    }

    fn insert_group(&mut self, group: Group) {
        self.group_names
            .insert(group.name.to_lowercase(), group.id.clone());
        for (index, keys) in [
            (&mut self.entity_groups, &group.member_entity_ids),
            (&mut self.group_children, &group.parent_group_ids),
        ] {
            for key in keys {
                index
                    .entry(key.clone())
                    .or_default()
                    .insert(group.id.clone());
            }
        }
        self.groups.insert(group.id.clone(), group);
    }

    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.entities.get(id)
    }

    /// The entity with this name (case-insensitive, as Vault's).
    pub fn entity_by_name(&self, name: &str) -> Option<&Entity> {
        self.entity_names
            .get(&name.to_lowercase())
            .and_then(|id| self.entities.get(id))
    }

    /// Whether an entity has this name (case-insensitive).
    pub fn entity_name_taken(&self, name: &str) -> bool {
        self.entity_names.contains_key(&name.to_lowercase())
    }

    /// The entity owning alias `alias_id`.
    pub fn entity_of_alias(&self, alias_id: &str) -> Option<&Entity> {
        self.aliases
            .get(alias_id)
            .and_then(|e| self.entities.get(e))
    }

    /// The alias with this id.
    pub fn alias(&self, alias_id: &str) -> Option<&Alias> {
        self.entity_of_alias(alias_id)?
            .aliases
            .iter()
            .find(|a| a.id == alias_id)
    }

    /// The alias named `name` on the auth mount `mount_accessor`.
    pub fn alias_by_factors(&self, mount_accessor: &str, name: &str) -> Option<&Alias> {
        let id = self
            .alias_factors
            .get(&(mount_accessor.to_owned(), name.to_owned()))?;
        self.alias(id)
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// The group with this name (case-insensitive).
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.group_names
            .get(&name.to_lowercase())
            .and_then(|id| self.groups.get(id))
    }

    /// Every entity, by id.
    pub fn entities_by_id(&self) -> Vec<&Entity> {
        let mut all: Vec<&Entity> = self.entities.values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Every group, by id.
    pub fn groups_by_id(&self) -> Vec<&Group> {
        let mut all: Vec<&Group> = self.groups.values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Ids of the groups listing `entity_id` as a member, sorted.
    pub fn direct_group_ids(&self, entity_id: &str) -> Vec<String> {
        self.entity_groups
            .get(entity_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The entity's direct groups and the groups it inherits through
    /// them (their parents, transitively; cycle-safe), both sorted by id.
    pub fn groups_of_entity(&self, entity_id: &str) -> (Vec<String>, Vec<String>) {
        let direct = self.direct_group_ids(entity_id);
        let mut seen: BTreeSet<&str> = direct.iter().map(String::as_str).collect();
        let mut queue: VecDeque<&str> = direct.iter().map(String::as_str).collect();
        let mut inherited = Vec::new();
        while let Some(id) = queue.pop_front() {
            let Some(group) = self.groups.get(id) else {
                continue;
            };
            for parent in &group.parent_group_ids {
                if self.groups.contains_key(parent) && seen.insert(parent) {
                    inherited.push(parent.clone());
                    queue.push_back(parent);
                }
            }
        }
        inherited.sort();
        (direct, inherited)
    }

    /// Ids of the groups that are members of `group_id`, sorted.
    pub fn member_group_ids(&self, group_id: &str) -> Vec<String> {
        self.group_children
            .get(group_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `target` can be reached from `from` by following member
    /// groups downwards (Vault's cycle check before adding `from` as a
    /// member of `target`).
    pub fn reaches_down(&self, from: &str, target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(id) = stack.pop() {
            if id == target {
                return true;
            }
            if !seen.insert(id) {
                continue;
            }
            if let Some(children) = self.group_children.get(id) {
                stack.extend(children.iter().map(String::as_str));
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn entity(id: &str, name: &str, aliases: &[(&str, &str, &str)]) -> Entity {
        let mut e = Entity::new(id.into(), name.into(), UNIX_EPOCH);
        for (aid, acc, n) in aliases {
            e.aliases.push(Alias::new(
                (*aid).into(),
                id.into(),
                (*acc).into(),
                (*n).into(),
                UNIX_EPOCH,
            ));
        }
        e
    }

    fn group(id: &str, members: &[&str], parents: &[&str]) -> Group {
        let mut g = Group::new(id.into(), format!("name-{id}"), UNIX_EPOCH);
        g.member_entity_ids = members.iter().map(|s| (*s).to_owned()).collect();
        g.parent_group_ids = parents.iter().map(|s| (*s).to_owned()).collect();
        g
    }

    #[test]
    fn indexes_follow_changes() {
        let mut st = State::default();
        let mut change = Change::default();
        change.put_entity(entity("e1", "Alice", &[("a1", "acc", "alice")]));
        change.put_group(group("g1", &["e1"], &[]));
        change.put_group(group("g2", &[], &["g1"]));
        st.apply(change);
        assert_eq!(st.entity_by_name("alice").unwrap().id, "e1");
        assert_eq!(st.alias_by_factors("acc", "alice").unwrap().id, "a1");
        assert!(st.alias_by_factors("acc", "Alice").is_none());
        assert_eq!(st.entity_of_alias("a1").unwrap().id, "e1");
        assert_eq!(st.direct_group_ids("e1"), ["g1"]);
        assert_eq!(st.member_group_ids("g1"), ["g2"]);
        assert_eq!(st.group_by_name("NAME-G1").unwrap().id, "g1");

        // Rename and drop the alias: old index entries go away.
        let mut change = Change::default();
        change.put_entity(entity("e1", "bob", &[]));
        change.put_group(group("g1", &[], &[]));
        st.apply(change);
        assert!(st.entity_by_name("alice").is_none());
        assert!(st.alias("a1").is_none());
        assert!(st.alias_by_factors("acc", "alice").is_none());
        assert!(st.direct_group_ids("e1").is_empty());

        let change = Change {
            deleted_entities: vec!["e1".into()],
            deleted_groups: vec!["g2".into()],
            ..Change::default()
        };
        st.apply(change);
        assert!(st.entity("e1").is_none() && st.entity_by_name("bob").is_none());
        assert!(st.member_group_ids("g1").is_empty());
    }

    #[test]
    fn inherited_groups_are_transitive_and_cycle_safe() {
        let mut st = State::default();
        let mut change = Change::default();
        change.put_entity(entity("e1", "e", &[]));
        // e1 in g1; g1 member of g2; g2 member of g3 and of g1 (a cycle
        // loaded from storage must not hang the walk).
        change.put_group(group("g1", &["e1"], &["g2"]));
        change.put_group(group("g2", &[], &["g3", "g1"]));
        change.put_group(group("g3", &[], &["missing"]));
        st.apply(change);
        let (direct, inherited) = st.groups_of_entity("e1");
        assert_eq!(direct, ["g1"]);
        assert_eq!(inherited, ["g2", "g3"]);
        assert!(st.reaches_down("g3", "g1"));
        assert!(!st.reaches_down("g1", "g3"));
        assert!(!st.reaches_down("g1", "nope"));
    }
}
