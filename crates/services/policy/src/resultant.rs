//! The ACL's rules exported as plain values: what Vault's
//! `sys/internal/ui/resultant-acl` shows a token about itself (the UI uses
//! it to decide which menus to offer).

use crate::capability::{Capability, CapabilitySet};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The capability names Vault's resultant ACL reports, in its order (not
/// alphabetical). Vault leaves `recover` out, so a pattern granting only
/// `recover` shows as `["deny"]` there too.
const REPORTED: [Capability; 8] = [
    Capability::Create,
    Capability::Delete,
    Capability::List,
    Capability::Read,
    Capability::Sudo,
    Capability::Update,
    Capability::Patch,
    Capability::Subscribe,
];

/// Vault's capability list for one pattern: the granted names in
/// [`REPORTED`] order, or `["deny"]` when the pattern denies or grants
/// none of them.
pub(crate) fn capability_names(caps: CapabilitySet) -> Vec<&'static str> {
    if caps.contains(Capability::Deny) {
        return vec![Capability::Deny.as_str()];
    }
    let names: Vec<&'static str> = REPORTED
        .iter()
        .filter(|c| caps.contains(**c))
        .map(|c| c.as_str())
        .collect();
    if names.is_empty() {
        vec![Capability::Deny.as_str()]
    } else {
        names
    }
}

/// What the merged policies say about one path pattern.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatternPermissions {
    /// Capability names in Vault's order; `["deny"]` when denied.
    pub capabilities: Vec<&'static str>,
    /// The lowest `min_wrapping_ttl` written, if any.
    pub min_wrapping_ttl: Option<Duration>,
    /// The lowest `max_wrapping_ttl` written, if any.
    pub max_wrapping_ttl: Option<Duration>,
    /// Merged `allowed_parameters` (keys lowercased; an empty list allows
    /// any value).
    pub allowed_parameters: BTreeMap<String, Vec<Value>>,
    /// Merged `denied_parameters` (keys lowercased; an empty list denies
    /// any value).
    pub denied_parameters: BTreeMap<String, Vec<Value>>,
    /// Merged `required_parameters`, lowercased, in the order first written.
    pub required_parameters: Vec<String>,
}

/// An ACL's rules: Vault's `exactRules` and `prefixRules`. Patterns with
/// `+` segments are not included, as Vault's endpoint walks only those two
/// trees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultantAcl {
    /// Whether this is the root ACL (the maps are then empty).
    pub root: bool,
    /// Exact patterns, by path.
    pub exact: BTreeMap<String, PatternPermissions>,
    /// Trailing-`*` patterns, by their prefix (the `*` removed, as Vault
    /// reports them).
    pub glob: BTreeMap<String, PatternPermissions>,
}
