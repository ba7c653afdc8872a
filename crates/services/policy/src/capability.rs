//! Capabilities a policy grants on a path, and a compact set of them.

use coffer_types::Operation;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One capability of a path rule, as written in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Capability {
    /// Overrides everything else for the path.
    Deny,
    /// `create` operations.
    Create,
    /// `read` operations.
    Read,
    /// `update` operations.
    Update,
    /// `patch` operations.
    Patch,
    /// `delete` operations.
    Delete,
    /// `list` operations.
    List,
    /// Access to root-protected paths.
    Sudo,
    /// Event subscriptions (accepted as Vault does; no operation maps to it here).
    Subscribe,
    /// Snapshot recovery (accepted as Vault does; no operation maps to it here).
    Recover,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 10] = [
        Capability::Deny,
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Patch,
        Capability::Delete,
        Capability::List,
        Capability::Sudo,
        Capability::Subscribe,
        Capability::Recover,
    ];

    /// The name used in policies and in `sys/capabilities` answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Deny => "deny",
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Patch => "patch",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Subscribe => "subscribe",
            Capability::Recover => "recover",
        }
    }

    /// Parses a capability name (exact, lowercase, as Vault requires).
    pub fn from_name(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The capability an operation needs; `None` for `help`, which is always allowed.
    pub fn for_operation(op: Operation) -> Option<Capability> {
        match op {
            Operation::Create => Some(Capability::Create),
            Operation::Read => Some(Capability::Read),
            Operation::Update => Some(Capability::Update),
            Operation::Patch => Some(Capability::Patch),
            Operation::Delete => Some(Capability::Delete),
            Operation::List => Some(Capability::List),
            Operation::Help => None,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of capabilities stored as a bitmap (cheap to copy and merge).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapabilitySet(u16);

impl CapabilitySet {
    /// The empty set.
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// A set holding only `deny`.
    pub fn deny() -> CapabilitySet {
        CapabilitySet(Capability::Deny.bit())
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }

    /// Adds `cap`.
    pub fn insert(&mut self, cap: Capability) {
        self.0 |= cap.bit();
    }

    /// The union of both sets.
    pub fn union(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The capabilities in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// The capabilities as a vector, in declaration order.
    pub fn to_vec(self) -> Vec<Capability> {
        self.iter().collect()
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = CapabilitySet::EMPTY;
        for cap in iter {
            set.insert(cap);
        }
        set
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Capability::as_str))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for cap in Capability::ALL {
            assert_eq!(Capability::from_name(cap.as_str()), Some(cap));
        }
        assert_eq!(Capability::from_name("READ"), None);
        assert_eq!(Capability::from_name("root"), None);
    }

    #[test]
    fn set_operations() {
        let mut set: CapabilitySet = [Capability::Read, Capability::List].into_iter().collect();
        assert!(set.contains(Capability::Read) && !set.contains(Capability::Sudo));
        set.insert(Capability::Sudo);
        assert_eq!(
            set.to_vec(),
            [Capability::Read, Capability::List, Capability::Sudo]
        );
        assert_eq!(format!("{set:?}"), r#"{"read", "list", "sudo"}"#);
        assert!(CapabilitySet::EMPTY.is_empty());
        assert_eq!(CapabilitySet::deny().union(set).iter().count(), 4);
    }

    #[test]
    fn operations_map_to_capabilities() {
        assert_eq!(
            Capability::for_operation(Operation::Patch),
            Some(Capability::Patch)
        );
        assert_eq!(Capability::for_operation(Operation::Help), None);
    }
}
