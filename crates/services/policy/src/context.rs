//! What identity templating can read: the caller's entity, its aliases and
//! its groups, as Vault's `identitytpl` sees them.

use std::collections::BTreeMap;
use std::time::SystemTime;

/// The identity a request is made with, for rendering templated policy
/// paths (`{{identity.entity.id}}`, ...). Built by the identity store; none
/// of it is secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateContext {
    /// The entity id.
    pub entity_id: String,
    /// The entity name.
    pub entity_name: String,
    /// The entity's metadata.
    pub entity_metadata: BTreeMap<String, String>,
    /// The entity's aliases, keyed by the mount accessor of their auth mount.
    pub aliases: BTreeMap<String, TemplateAlias>,
    /// Every group the entity belongs to, directly or through member groups,
    /// keyed by group id.
    pub groups: BTreeMap<String, TemplateGroup>,
    /// The time `{{time.now}}` renders; `None` drops rules that use it.
    pub now: Option<SystemTime>,
}

/// One entity alias, as templating sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateAlias {
    /// The alias id.
    pub id: String,
    /// The alias name (a username, a role id).
    pub name: String,
    /// The alias metadata (set by the auth method at login).
    pub metadata: BTreeMap<String, String>,
    /// The alias custom metadata (set through the identity API).
    pub custom_metadata: BTreeMap<String, String>,
    /// When the alias was created (RFC 3339, as Vault shows it).
    pub creation_time: String,
    /// When the alias was last updated (RFC 3339, as Vault shows it).
    pub last_update_time: String,
}

/// One group, as templating sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateGroup {
    /// The group id.
    pub id: String,
    /// The group name.
    pub name: String,
    /// The group metadata.
    pub metadata: BTreeMap<String, String>,
}

impl TemplateContext {
    /// A context for the entity `id` named `name`, with no metadata,
    /// aliases or groups.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> TemplateContext {
        TemplateContext {
            entity_id: id.into(),
            entity_name: name.into(),
            ..TemplateContext::default()
        }
    }

    /// The group with this id, if the entity belongs to it.
    pub fn group_by_id(&self, id: &str) -> Option<&TemplateGroup> {
        self.groups.get(id)
    }

    /// The group with this name, if the entity belongs to it.
    pub fn group_by_name(&self, name: &str) -> Option<&TemplateGroup> {
        self.groups.values().find(|g| g.name == name)
    }

    /// The alias of the auth mount with this accessor, if any.
    pub fn alias(&self, mount_accessor: &str) -> Option<&TemplateAlias> {
        self.aliases.get(mount_accessor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let mut ctx = TemplateContext::new("e1", "alice");
        ctx.groups.insert(
            "g1".into(),
            TemplateGroup {
                id: "g1".into(),
                name: "devs".into(),
                metadata: BTreeMap::new(),
            },
        );
        ctx.aliases.insert(
            "auth_userpass_1".into(),
            TemplateAlias {
                id: "a1".into(),
                name: "alice".into(),
                ..TemplateAlias::default()
            },
        );
        assert_eq!(ctx.group_by_name("devs").map(|g| g.id.as_str()), Some("g1"));
        assert_eq!(ctx.group_by_id("g1").map(|g| g.name.as_str()), Some("devs"));
        assert!(ctx.group_by_name("ops").is_none());
        assert_eq!(
            ctx.alias("auth_userpass_1").map(|a| a.id.as_str()),
            Some("a1")
        );
        assert!(ctx.alias("nope").is_none());
        assert_eq!(ctx.entity_name, "alice");
    }
}
