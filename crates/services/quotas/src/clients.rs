//! Every client's bucket, with bounded memory.
//!
//! Buckets are keyed by the quota's generation (a number that changes when
//! the quota is created, updated or loaded, which resets its buckets as Vault
//! does) and the client address. Buckets of idle clients are swept once a
//! minute of clock time; when the table is full anyway, the longest-idle
//! clients are forgotten first and blocked clients last.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::bucket::{Bucket, Limit, Verdict};

/// How often (in clock time) idle buckets are swept.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The default cap on tracked (quota, client) pairs.
pub const DEFAULT_MAX_CLIENTS: usize = 100_000;

/// A bucket's key: the quota generation and the client address (`None` for
/// requests that carry no address, which share one bucket).
type ClientKey = (u64, Option<IpAddr>);

/// The table of buckets.
#[derive(Debug)]
pub(crate) struct ClientTable {
    buckets: HashMap<ClientKey, Bucket>,
    max_clients: usize,
    next_sweep: Option<SystemTime>,
}

impl ClientTable {
    /// An empty table holding at most `max_clients` buckets (at least one).
    pub fn new(max_clients: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            max_clients: max_clients.max(1),
            next_sweep: None,
        }
    }

    /// Takes a token from `client`'s bucket under the quota `generation`.
    pub fn take(
        &mut self,
        generation: u64,
        limit: &Limit,
        client: Option<IpAddr>,
        now: SystemTime,
    ) -> Verdict {
        if self.next_sweep.is_none_or(|at| now >= at) {
            self.sweep(now);
        }
        // IPv4 clients reaching a dual-stack listener appear as `::ffff:a.b.c.d`;
        // they are the same client as `a.b.c.d`.
        let key = (generation, client.map(|ip| ip.to_canonical()));
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.max_clients {
            self.sweep(now);
            if self.buckets.len() >= self.max_clients {
                self.evict_idlest(now);
            }
        }
        self.buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(limit, now))
            .take(limit, now)
    }

    /// Forgets buckets that have refilled and are not blocked.
    fn sweep(&mut self, now: SystemTime) {
        self.buckets.retain(|_, b| !b.is_stale(now));
        self.next_sweep = now.checked_add(SWEEP_EVERY);
    }

    /// Forgets an eighth of the table: unblocked clients before blocked
    /// ones, the longest idle first.
    fn evict_idlest(&mut self, now: SystemTime) {
        let count = (self.max_clients / 8).max(1).min(self.buckets.len());
        let mut order: Vec<(bool, SystemTime, ClientKey)> = self
            .buckets
            .iter()
            .map(|(k, b)| (b.is_blocked(now), b.last_seen(), *k))
            .collect();
        if count < order.len() {
            order.select_nth_unstable(count - 1);
        }
        for (_, _, key) in order.into_iter().take(count) {
            self.buckets.remove(&key);
        }
    }

    /// Drops every bucket whose quota generation fails `keep`.
    pub fn retain_generations(&mut self, keep: impl Fn(u64) -> bool) {
        self.buckets.retain(|(generation, _), _| keep(*generation));
    }

    /// How many buckets are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::UNIX_EPOCH;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn ip(n: u32) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)))
    }

    fn allowed(v: Verdict) -> bool {
        matches!(v, Verdict::Allowed { .. })
    }

    #[test]
    fn clients_have_separate_buckets() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::ZERO);
        let mut table = ClientTable::new(100);
        assert!(allowed(table.take(1, &limit, ip(1), t(0))));
        assert!(!allowed(table.take(1, &limit, ip(1), t(0))));
        assert!(allowed(table.take(1, &limit, ip(2), t(0))));
        // Another quota generation is another bucket.
        assert!(allowed(table.take(2, &limit, ip(1), t(0))));
        // Clients without an address share one bucket.
        assert!(allowed(table.take(1, &limit, None, t(0))));
        assert!(!allowed(table.take(1, &limit, None, t(0))));
    }

    #[test]
    fn mapped_ipv4_is_the_same_client() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::ZERO);
        let mut table = ClientTable::new(100);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert!(allowed(table.take(1, &limit, Some(v4), t(0))));
        assert!(!allowed(table.take(1, &limit, Some(mapped), t(0))));
    }

    #[test]
    fn idle_clients_are_swept() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::ZERO);
        let mut table = ClientTable::new(1000);
        for n in 0..50 {
            table.take(1, &limit, ip(n), t(0));
        }
        assert_eq!(table.len(), 50);
        // The next sweep is due a minute later; by then everyone is idle.
        table.take(1, &limit, ip(999), t(61));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn blocked_clients_survive_sweeps() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::from_secs(600));
        let mut table = ClientTable::new(1000);
        table.take(1, &limit, ip(1), t(0));
        assert!(!allowed(table.take(1, &limit, ip(1), t(0))));
        table.take(1, &limit, ip(2), t(120));
        assert_eq!(table.len(), 2);
        assert!(!allowed(table.take(1, &limit, ip(1), t(121))));
        assert!(allowed(table.take(1, &limit, ip(1), t(600))));
    }

    #[test]
    fn the_cap_holds_and_blocked_clients_go_last() {
        let limit = Limit::new(1.0, Duration::from_secs(3600), Duration::from_secs(3600));
        let mut table = ClientTable::new(16);
        // Client 0 gets itself blocked.
        table.take(1, &limit, ip(0), t(0));
        assert!(!allowed(table.take(1, &limit, ip(0), t(0))));
        // Active (not stale) clients flood the table.
        for n in 1..200 {
            table.take(1, &limit, ip(n), t(1));
            assert!(table.len() <= 16);
        }
        assert!(!allowed(table.take(1, &limit, ip(0), t(2))));
    }

    #[test]
    fn dropping_generations() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::ZERO);
        let mut table = ClientTable::new(100);
        table.take(1, &limit, ip(1), t(0));
        table.take(2, &limit, ip(1), t(0));
        table.retain_generations(|g| g == 2);
        assert_eq!(table.len(), 1);
        assert!(!allowed(table.take(2, &limit, ip(1), t(0))));
    }
}
