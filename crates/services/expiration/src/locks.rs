//! One lock per lease id, held across the storage reads, the backend call and
//! the storage writes of one operation. Only leases being worked on have an
//! entry: memory is bounded by concurrency, not by the number of leases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The table of per-lease locks.
#[derive(Default)]
pub(crate) struct LeaseLocks {
    map: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Holds one lease's lock; dropping it releases the lock and forgets the
/// entry once nobody else holds or waits for it.
pub(crate) struct LeaseGuard<'a> {
    table: &'a LeaseLocks,
    id: String,
    mutex: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl LeaseLocks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AsyncMutex<()>>>> {
        // A poisoned map only means a thread panicked while inserting or
        // removing an Arc; the map itself is still consistent.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for and takes the lock of `lease_id`.
    pub(crate) async fn lock(&self, lease_id: &str) -> LeaseGuard<'_> {
        let mutex = self.map().entry(lease_id.to_owned()).or_default().clone();
        // The guard exists before the wait, so a cancelled wait still
        // cleans the entry up.
        let mut held = LeaseGuard {
            table: self,
            id: lease_id.to_owned(),
            mutex: mutex.clone(),
            guard: None,
        };
        held.guard = Some(mutex.lock_owned().await);
        held
    }

    /// How many leases currently have a lock entry.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

impl Drop for LeaseGuard<'_> {
    fn drop(&mut self) {
        // Release the lock first: the owned guard holds a clone of the Arc.
        self.guard = None;
        let mut map = self.table.map();
        // Clones are only made under the map lock, so a count of two (the
        // map's and ours) means nobody else holds or waits for this lock.
        if Arc::strong_count(&self.mutex) == 2 {
            map.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_are_forgotten_when_released() {
        let locks = LeaseLocks::default();
        {
            let _a = locks.lock("a").await;
            let _b = locks.lock("b").await;
            assert_eq!(locks.len(), 2);
        }
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn a_lease_is_locked_by_one_holder_at_a_time() {
        let locks = Arc::new(LeaseLocks::default());
        let first = locks.lock("a").await;
        let l2 = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("a").await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        waiter.await.unwrap();
        assert_eq!(locks.len(), 0);
    }
}
