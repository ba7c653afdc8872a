//! A count of the work done by the steps that must stay linear (computing
//! positions, merging duplicate paths), kept only in tests: a test proves
//! that parsing a policy of N blocks does O(N) work by counting steps, not
//! by timing anything.

#[cfg(test)]
use std::cell::Cell;

#[cfg(test)]
thread_local! {
    static STEPS: Cell<usize> = const { Cell::new(0) };
}

/// Counts `n` steps (bytes examined, entries compared) on this thread.
#[cfg(test)]
pub(crate) fn add(n: usize) {
    STEPS.with(|s| s.set(s.get().saturating_add(n)));
}

/// Outside tests nothing is counted.
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn add(_: usize) {}

/// Steps counted on this thread since the last call; resets the count.
#[cfg(test)]
pub(crate) fn take() -> usize {
    STEPS.with(|s| s.replace(0))
}
