//! Entities, their aliases and groups, as stored (one JSON record per
//! entity, aliases inside it, as Vault keeps them; one record per group).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The namespace every identity object belongs to (Coffer has only the
/// root namespace).
pub const ROOT_NAMESPACE_ID: &str = "root";

/// A client's identity: one entity, reached through any of its aliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entity {
    /// The entity id (a UUID).
    pub id: String,
    /// The entity name (`entity_<8 hex>` when generated).
    pub name: String,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Policies attached to the entity itself (sorted, deduplicated).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Disabled entities' tokens cannot be used (but are not revoked).
    #[serde(default)]
    pub disabled: bool,
    /// The entity's aliases (at most one per auth mount).
    #[serde(default)]
    pub aliases: Vec<Alias>,
    /// Entities merged into this one.
    #[serde(default)]
    pub merged_entity_ids: Vec<String>,
    /// When the entity was created.
    pub creation_time: SystemTime,
    /// When it was last changed.
    pub last_update_time: SystemTime,
}

/// The identity an auth mount knows a client by (a username, a role id),
/// tied to one entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Alias {
    /// The alias id (a UUID).
    pub id: String,
    /// The id of the entity the alias belongs to.
    pub canonical_id: String,
    /// The accessor of the auth mount.
    pub mount_accessor: String,
    /// The name within the auth mount.
    pub name: String,
    /// Metadata set by the auth method at login.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Metadata set through the identity API.
    #[serde(default)]
    pub custom_metadata: BTreeMap<String, String>,
    /// Entities this alias was moved from by merges.
    #[serde(default)]
    pub merged_from_canonical_ids: Vec<String>,
    /// When the alias was created.
    pub creation_time: SystemTime,
    /// When it was last changed.
    pub last_update_time: SystemTime,
}

/// A group of entities and other groups, carrying policies to its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// The group id (a UUID).
    pub id: String,
    /// The group name.
    pub name: String,
    /// `internal` (Coffer does not support `external` groups yet).
    #[serde(rename = "type")]
    pub group_type: String,
    /// Policies granted to every member (sorted, deduplicated).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Entities directly in the group.
    #[serde(default)]
    pub member_entity_ids: Vec<String>,
    /// Groups this group is a member of.
    #[serde(default)]
    pub parent_group_ids: Vec<String>,
    /// When the group was created.
    pub creation_time: SystemTime,
    /// When it was last changed.
    pub last_update_time: SystemTime,
    /// Incremented on every change.
    #[serde(default)]
    pub modify_index: u64,
}

impl Entity {
    /// A new entity with no metadata, policies or aliases.
    pub(crate) fn new(id: String, name: String, now: SystemTime) -> Entity {
        Entity {
            id,
            name,
            metadata: BTreeMap::new(),
            policies: Vec::new(),
            disabled: false,
            aliases: Vec::new(),
            merged_entity_ids: Vec::new(),
            creation_time: now,
            last_update_time: now,
        }
    }

    /// The alias of the auth mount with this accessor, if any.
    pub fn alias_for_mount(&self, mount_accessor: &str) -> Option<&Alias> {
        self.aliases
            .iter()
            .find(|a| a.mount_accessor == mount_accessor)
    }
}

impl Alias {
    /// A new alias of `canonical_id` for (`mount_accessor`, `name`).
    pub(crate) fn new(
        id: String,
        canonical_id: String,
        mount_accessor: String,
        name: String,
        now: SystemTime,
    ) -> Alias {
        Alias {
            id,
            canonical_id,
            mount_accessor,
            name,
            metadata: BTreeMap::new(),
            custom_metadata: BTreeMap::new(),
            merged_from_canonical_ids: Vec::new(),
            creation_time: now,
            last_update_time: now,
        }
    }
}

impl Group {
    /// A new internal group with no members.
    pub(crate) fn new(id: String, name: String, now: SystemTime) -> Group {
        Group {
            id,
            name,
            group_type: "internal".to_owned(),
            policies: Vec::new(),
            metadata: BTreeMap::new(),
            member_entity_ids: Vec::new(),
            parent_group_ids: Vec::new(),
            creation_time: now,
            last_update_time: now,
            modify_index: 0,
        }
    }
}

/// Sorted, deduplicated policy names, as Vault's `RemoveDuplicates` leaves
/// them (items trimmed, empty ones dropped).
pub(crate) fn sorted_policies(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn records_round_trip_through_json() {
        let now = UNIX_EPOCH;
        let mut e = Entity::new("e1".into(), "entity_0a1b2c3d".into(), now);
        e.aliases.push(Alias::new(
            "a1".into(),
            "e1".into(),
            "auth_userpass_1".into(),
            "alice".into(),
            now,
        ));
        let back: Entity = serde_json::from_slice(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.alias_for_mount("auth_userpass_1").unwrap().id, "a1");
        let g = Group::new("g1".into(), "devs".into(), now);
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["type"], "internal");
        assert_eq!(serde_json::from_value::<Group>(json).unwrap(), g);
    }

    #[test]
    fn policies_are_sorted_and_deduplicated() {
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            sorted_policies(&p(&["b", " a", "b", "", "c "])),
            ["a", "b", "c"]
        );
    }
}
