//! The concurrency guard: a job runs at most once at a time in this process.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The ids of the jobs running now.
#[derive(Debug, Default, Clone)]
pub(crate) struct Running(Arc<Mutex<HashSet<String>>>);

/// Held while a job runs; frees the job when dropped (also on panic or
/// cancellation of the future that holds it).
#[derive(Debug)]
pub(crate) struct RunGuard {
    running: Running,
    id: String,
}

impl Running {
    /// Marks `id` as running, or `None` when it already is.
    pub(crate) fn try_start(&self, id: &str) -> Option<RunGuard> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id.to_owned()).then(|| RunGuard {
            running: self.clone(),
            id: id.to_owned(),
        })
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let mut set = self.running.0.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let r = Running::default();
        let g = r.try_start("a").unwrap();
        assert!(r.try_start("a").is_none());
        assert!(r.try_start("b").is_some());
        drop(g);
        assert!(r.try_start("a").is_some());
    }
}
