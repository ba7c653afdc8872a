//! CIDR lists as AppRole uses them: secret-id bindings must be written in CIDR
//! notation (Vault's `cidrutil.ValidateCIDRListSlice`), and a secret id's
//! blocks must lie inside its role's (`cidrutil.SubsetBlocks`).

use coffer_sdk::cidr::{CidrBlock, all_within, parse_cidrs};

/// Parses `items`, each of which must be `address/prefix`; `None` if any is
/// not.
pub(crate) fn parse_strict(items: &[String]) -> Option<Vec<CidrBlock>> {
    if items.iter().any(|s| !s.contains('/')) {
        return None;
    }
    parse_cidrs(items).ok()
}

/// True when every block of `inner` lies inside some block of `outer`. An
/// empty `outer` imposes nothing; a bare address in `outer` is a single host.
/// Unparsable entries are not subsets.
pub(crate) fn is_subset(outer: &[String], inner: &[String]) -> bool {
    if outer.is_empty() || inner.is_empty() {
        return true;
    }
    match (parse_cidrs(outer), parse_cidrs(inner)) {
        (Ok(outer), Ok(inner)) => all_within(&inner, &outer),
        _ => false,
    }
}

/// Trims the items of a CIDR list and drops empty ones.
pub(crate) fn clean(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strict_parsing_needs_a_mask() {
        assert!(parse_strict(&v(&["10.0.0.0/8", "::1/128"])).is_some());
        assert!(parse_strict(&v(&["10.0.0.1"])).is_none());
        assert!(parse_strict(&v(&["10.0.0.0/33"])).is_none());
        assert_eq!(parse_strict(&[]).map(|b| b.len()), Some(0));
    }

    #[test]
    fn subsets() {
        let role = v(&["10.0.0.0/8", "192.168.1.0/24"]);
        assert!(is_subset(&role, &v(&["10.1.0.0/16", "192.168.1.128/25"])));
        assert!(is_subset(&role, &v(&["10.0.0.0/8"])));
        assert!(!is_subset(&role, &v(&["10.0.0.0/7"])));
        assert!(!is_subset(&role, &v(&["172.16.0.0/12"])));
        assert!(!is_subset(&role, &v(&["::/0"])));
        assert!(is_subset(&[], &v(&["1.2.3.4/32"])));
        assert!(is_subset(&role, &[]));
        assert!(is_subset(&v(&["127.0.0.1"]), &v(&["127.0.0.1/32"])));
    }
}
