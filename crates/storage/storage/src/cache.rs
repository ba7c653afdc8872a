//! [`DecodedCache`]: a bounded in-memory cache of decoded storage records,
//! for hot paths that would otherwise read, decrypt and parse the same record
//! on every request (token entries, KV metadata).
//!
//! Coherence is the owner's job and follows one rule: write to storage
//! first, then [`DecodedCache::invalidate`] the key. A reader takes a
//! [`Ticket`] before it reads storage and offers what it read with
//! [`DecodedCache::insert`]; the offer is refused if any invalidation
//! happened since the ticket was taken, so a value read before a write can
//! never be cached after it. The cache only ever holds what one process
//! wrote or read itself: it is correct for a single active node, and must
//! be dropped by anything that changes the storage behind the owner's back.
//!
//! Size is bounded by two generations: lookups hit the young map, then the
//! old one (promoting the entry); when the young map is full it becomes the
//! old one and the previous old one is dropped. At most `2 × capacity` is
//! held, counted in entries or, with [`DecodedCache::weighted`], in the
//! weight of the values (bytes), and recently used entries survive.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Proof of when a reader started reading storage; see [`DecodedCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

/// A bounded cache of decoded records with invalidation-safe inserts.
pub struct DecodedCache<K, V> {
    generations: Mutex<Generations<K, V>>,
    /// Bumped by every invalidation (under the lock).
    epoch: AtomicU64,
    /// The most weight one generation holds.
    capacity: usize,
    /// The most entries one generation holds.
    max_entries: usize,
    /// The weight of a value (1 for entry-counted caches).
    weigh: fn(&V) -> usize,
}

struct Generations<K, V> {
    young: HashMap<K, V>,
    /// The total weight of `young`.
    young_weight: usize,
    old: HashMap<K, V>,
}

fn one<V>(_: &V) -> usize {
    1
}

impl<K, V> std::fmt::Debug for DecodedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> DecodedCache<K, V> {
    /// A cache holding up to `2 × capacity` records (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self::weighted(capacity, one::<V>)
    }

    /// A cache holding values of total weight up to `2 × capacity`, each
    /// weighed by `weigh`; a value heavier than an eighth of `capacity` is
    /// never cached.
    pub fn weighted(capacity: usize, weigh: fn(&V) -> usize) -> Self {
        Self {
            generations: Mutex::new(Generations {
                young: HashMap::new(),
                young_weight: 0,
                old: HashMap::new(),
            }),
            epoch: AtomicU64::new(0),
            capacity: capacity.max(1),
            max_entries: usize::MAX,
            weigh,
        }
    }

    /// Also holds at most `2 × entries` entries, whatever they weigh.
    pub fn with_max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<K, V>> {
        // Nothing panics while the lock is held; a poisoned map is still a
        // valid map.
        self.generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached record for `key`, if any.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut generations = self.lock();
        if let Some(v) = generations.young.get(key) {
            return Some(v.clone());
        }
        let (k, v) = generations.old.remove_entry(key)?;
        let found = v.clone();
        self.store(&mut generations, k, v);
        Some(found)
    }

    /// Call before reading storage; pass the ticket to [`DecodedCache::insert`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.epoch.load(Ordering::Acquire))
    }

    /// Caches `value` read from storage under `ticket`, unless something was
    /// invalidated since the ticket was taken.
    pub fn insert(&self, ticket: Ticket, key: K, value: V) {
        let mut generations = self.lock();
        if self.epoch.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        self.store(&mut generations, key, value);
    }

    fn store(&self, generations: &mut Generations<K, V>, key: K, value: V) {
        let weight = (self.weigh)(&value);
        if weight > (self.capacity / 8).max(1) {
            return;
        }
        if let Some(previous) = generations.young.remove(&key) {
            generations.young_weight -= (self.weigh)(&previous).min(generations.young_weight);
        }
        if generations.young_weight + weight > self.capacity
            || generations.young.len() >= self.max_entries
        {
            generations.old = std::mem::take(&mut generations.young);
            generations.young_weight = 0;
        }
        generations.young_weight += weight;
        generations.young.insert(key, value);
    }

    /// Forgets `key`. Call after the write to storage has completed.
    pub fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut generations = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(gone) = generations.young.remove(key) {
            generations.young_weight -= (self.weigh)(&gone).min(generations.young_weight);
        }
        generations.old.remove(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut generations = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        generations.young.clear();
        generations.young_weight = 0;
        generations.old.clear();
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        let generations = self.lock();
        generations.young.len() + generations.old.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_write_is_not_cached() {
        let cache: DecodedCache<String, u32> = DecodedCache::new(8);
        // Reader takes its ticket, then reads the old value (1) ...
        let ticket = cache.ticket();
        // ... meanwhile a writer stores 2 and invalidates.
        cache.invalidate("k");
        // The reader's stale value is refused.
        cache.insert(ticket, "k".into(), 1);
        assert_eq!(cache.get("k"), None);
        // A read that started after the write is cached.
        let ticket = cache.ticket();
        cache.insert(ticket, "k".into(), 2);
        assert_eq!(cache.get("k"), Some(2));
        cache.invalidate("k");
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn size_is_bounded_and_recent_entries_survive() {
        let cache: DecodedCache<u32, u32> = DecodedCache::new(4);
        for n in 0..100 {
            cache.insert(cache.ticket(), n, n);
            // Key 0 is used all the time, so it keeps being promoted.
            assert_eq!(cache.get(&0), Some(0), "hot key lost at {n}");
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.get(&1), None, "a cold key is evicted");
        assert_eq!(cache.get(&99), Some(99));
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn weighted_caches_bound_the_bytes_held() {
        let cache: DecodedCache<u32, Vec<u8>> = DecodedCache::weighted(1000, Vec::len);
        for n in 0..100 {
            cache.insert(cache.ticket(), n, vec![0; 100]);
            let held: usize = (0..=n).filter_map(|k| cache.get(&k)).map(|v| v.len()).sum();
            assert!(held <= 2000, "{held} bytes held");
        }
        // Too heavy for the cache (more than an eighth of a generation).
        cache.insert(cache.ticket(), 999, vec![0; 200]);
        assert_eq!(cache.get(&999), None);
        // Replacing a value does not count it twice.
        let small: DecodedCache<u32, Vec<u8>> = DecodedCache::weighted(80, Vec::len);
        for _ in 0..100 {
            small.insert(small.ticket(), 1, vec![0; 10]);
        }
        small.insert(small.ticket(), 2, vec![0; 10]);
        assert_eq!(small.len(), 2, "no generation swap from rewriting one key");
    }

    #[test]
    fn concurrent_readers_and_writers_never_leave_a_stale_value() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicU32;
        // "Storage" is an atomic; writers bump it then invalidate, readers
        // take a ticket, read it and offer it. At the end, a cached value
        // must equal storage.
        let storage = Arc::new(AtomicU32::new(0));
        let cache: Arc<DecodedCache<&'static str, u32>> = Arc::new(DecodedCache::new(4));
        let mut threads = Vec::new();
        for t in 0..4 {
            let storage = storage.clone();
            let cache = cache.clone();
            threads.push(std::thread::spawn(move || {
                for _ in 0..5_000 {
                    if t == 0 {
                        storage.fetch_add(1, Ordering::SeqCst);
                        cache.invalidate("k");
                    } else if cache.get("k").is_none() {
                        let ticket = cache.ticket();
                        let v = storage.load(Ordering::SeqCst);
                        cache.insert(ticket, "k", v);
                    }
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        if let Some(v) = cache.get("k") {
            assert_eq!(v, storage.load(Ordering::SeqCst));
        }
    }
}
