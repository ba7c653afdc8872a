//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// The first retry delay.
const BASE: Duration = Duration::from_secs(10);
/// The longest retry delay, whatever the schedule.
const MAX: Duration = Duration::from_secs(3600);

/// The delay before the next attempt after `attempts` consecutive failures
/// (`attempts >= 1`): 10s, 20s, 40s, ... up to one hour. It grows whatever
/// the job's schedule: a job with a short period that keeps failing (an
/// unreachable database) must not be retried every few seconds for ever.
pub(crate) fn delay(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    BASE.saturating_mul(1u32 << exp).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        assert_eq!(delay(0), Duration::from_secs(10));
        assert_eq!(delay(1), Duration::from_secs(10));
        assert_eq!(delay(2), Duration::from_secs(20));
        assert_eq!(delay(4), Duration::from_secs(80));
        assert_eq!(delay(30), MAX);
        assert_eq!(delay(u32::MAX), MAX);
    }
}
