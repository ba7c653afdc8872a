//! Token CIDR binding: validation and canonical form of `bound_cidrs`, and
//! the "narrower than" test used when a child asks for its own binding.

use std::net::IpAddr;

use coffer_sdk::cidr::{CidrBlock, all_within, parse_cidrs};

use crate::entry::TokenEntry;
use crate::{Result, TokenError, TokenStore};

/// Parses `items` and returns them in Vault's canonical form (`10.0.0.0/8`;
/// a single host as a bare address). Any invalid block is a 400 naming it.
pub(crate) fn canonical_cidrs(items: &[String]) -> Result<Vec<String>> {
    let blocks = parse_cidrs(items).map_err(|e| TokenError::invalid(e.to_string()))?;
    Ok(blocks.iter().map(canonical).collect())
}

fn canonical(block: &CidrBlock) -> String {
    let host = if block.network().is_ipv4() { 32 } else { 128 };
    if block.prefix() == host {
        block.network().to_string()
    } else {
        block.to_string()
    }
}

/// True when every block of `child` lies inside some block of `parent`
/// (same address family, at least as long a prefix, network inside).
/// Unparseable input is never "within".
pub(crate) fn within(child: &[String], parent: &[String]) -> bool {
    match (parse_cidrs(child), parse_cidrs(parent)) {
        (Ok(child), Ok(parent)) => all_within(&child, &parent),
        _ => false,
    }
}

impl TokenStore {
    /// Whether a request from `client` may use the token described by
    /// `entry` (see [`TokenEntry::cidr_allowed`]). The core calls this after
    /// every lookup and answers 403 when it is false.
    pub fn cidr_allowed(&self, entry: &TokenEntry, client: Option<IpAddr>) -> bool {
        entry.cidr_allowed(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn canonical_form_matches_vault() {
        assert_eq!(
            canonical_cidrs(&v(&[
                "10.0.0.0/8",
                "127.0.0.1",
                "127.0.0.1/32",
                "::1/128",
                "fd00::/8"
            ]))
            .unwrap(),
            v(&["10.0.0.0/8", "127.0.0.1", "127.0.0.1", "::1", "fd00::/8"])
        );
        let err = canonical_cidrs(&v(&["10.0.0.0/40"])).unwrap_err();
        assert_eq!(coffer_types::Error::from(err).status(), 400);
    }

    #[test]
    fn narrower_blocks_are_within() {
        let parent = v(&["10.0.0.0/8", "192.168.1.0/24"]);
        assert!(within(&v(&["10.1.0.0/16"]), &parent));
        assert!(within(&v(&["10.1.2.3", "192.168.1.128/25"]), &parent));
        assert!(within(&v(&["10.0.0.0/8"]), &parent));
        assert!(!within(&v(&["0.0.0.0/0"]), &parent), "wider");
        assert!(!within(&v(&["10.0.0.0/7"]), &parent), "wider, same network");
        assert!(!within(&v(&["11.0.0.1"]), &parent));
        assert!(!within(&v(&["::1"]), &parent), "other family");
        assert!(!within(&v(&["junk"]), &parent));
        assert!(within(&[], &parent), "nothing asked");
    }
}
