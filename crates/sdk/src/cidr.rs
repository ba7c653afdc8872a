//! CIDR blocks for binding tokens, secret ids and logins to client networks:
//! parsing, membership and containment of one block in another (Vault's
//! `cidrutil.SubsetBlocks`), in one place for every backend.

use std::net::IpAddr;
use std::str::FromStr;

use coffer_types::{Error, Result};

use crate::SdkError;

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`); a bare address is a
/// single-host block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CidrBlock {
    network: IpAddr,
    prefix: u8,
}

impl CidrBlock {
    /// Whether `addr` is inside the block. IPv4-mapped IPv6 addresses match
    /// IPv4 blocks.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask_eq(&net.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(a)) => mask_eq(&net.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }

    /// The network address as written (`10.0.0.0` of `10.0.0.0/8`).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length (32 or 128 for a bare address).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `inner` lies inside this block: same address family, a
    /// prefix at least as long, and its network address inside this one.
    pub fn covers(&self, inner: &CidrBlock) -> bool {
        self.network.is_ipv4() == inner.network.is_ipv4()
            && inner.prefix >= self.prefix
            && self.contains(inner.network)
    }
}

/// Whether every block of `inner` lies inside some block of `outer`
/// ([`CidrBlock::covers`]). An empty `inner` is within anything; a non-empty
/// one is within no empty `outer` (callers that treat an empty `outer` as
/// "unrestricted" check that first).
pub fn all_within(inner: &[CidrBlock], outer: &[CidrBlock]) -> bool {
    inner.iter().all(|i| outer.iter().any(|o| o.covers(i)))
}

fn mask_eq(net: &[u8], addr: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if net[..full] != addr[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rest);
    net[full] & mask == addr[full] & mask
}

impl FromStr for CidrBlock {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || Error::from(SdkError::InvalidCidr(s.to_owned()));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for CidrBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Parses a list of CIDR blocks; any invalid entry is a 400 naming it.
pub fn parse_cidrs(items: &[String]) -> Result<Vec<CidrBlock>> {
    items.iter().map(|s| s.parse()).collect()
}

/// Whether `addr` may use something bound to `blocks`: true when `blocks` is
/// empty, false when bound but the address is unknown.
pub fn allowed(blocks: &[CidrBlock], addr: Option<IpAddr>) -> bool {
    if blocks.is_empty() {
        return true;
    }
    addr.is_some_and(|a| blocks.iter().any(|b| b.contains(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn membership() {
        let b: CidrBlock = "10.1.0.0/16".parse().unwrap();
        assert!(b.contains(ip("10.1.255.3")));
        assert!(!b.contains(ip("10.2.0.1")));
        assert!(b.contains(ip("::ffff:10.1.0.9")));
        let odd: CidrBlock = "192.168.1.128/25".parse().unwrap();
        assert!(odd.contains(ip("192.168.1.200")) && !odd.contains(ip("192.168.1.100")));
        let host: CidrBlock = "127.0.0.1".parse().unwrap();
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        let v6: CidrBlock = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: CidrBlock = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
    }

    #[test]
    fn parsing_errors_are_400() {
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129", ""] {
            assert_eq!(bad.parse::<CidrBlock>().unwrap_err().status(), 400, "{bad}");
        }
    }

    #[test]
    fn containment() {
        let blocks = |items: &[&str]| {
            parse_cidrs(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let outer = blocks(&["10.0.0.0/8", "192.168.1.0/24"]);
        assert!(all_within(
            &blocks(&["10.1.0.0/16", "192.168.1.128/25"]),
            &outer
        ));
        assert!(all_within(&blocks(&["10.0.0.0/8", "10.1.2.3"]), &outer));
        assert!(!all_within(&blocks(&["10.0.0.0/7"]), &outer), "wider");
        assert!(!all_within(&blocks(&["0.0.0.0/0"]), &outer));
        assert!(!all_within(&blocks(&["172.16.0.0/12"]), &outer));
        assert!(!all_within(&blocks(&["::/0"]), &outer), "other family");
        // An IPv4-mapped IPv6 block is another family, though its addresses match.
        assert!(!all_within(&blocks(&["::ffff:10.0.0.0/104"]), &outer));
        assert!(all_within(&[], &outer));
        assert!(!all_within(&blocks(&["10.0.0.1"]), &[]));
        assert!(all_within(
            &blocks(&["127.0.0.1/32"]),
            &blocks(&["127.0.0.1"])
        ));
        let b = blocks(&["fd00::/8"])[0];
        assert_eq!((b.network(), b.prefix()), (ip("fd00::"), 8));
    }

    #[test]
    fn binding() {
        let blocks = parse_cidrs(&["10.0.0.0/8".into()]).unwrap();
        assert!(allowed(&[], None));
        assert!(!allowed(&blocks, None));
        assert!(allowed(&blocks, Some(ip("10.9.9.9"))));
    }
}
