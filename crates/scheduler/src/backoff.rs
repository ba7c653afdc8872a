//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// The first retry delay.
const BASE: Duration = Duration::from_secs(10);
/// The longest retry delay, whatever the schedule.
const MAX: Duration = Duration::from_secs(3600);

/// The delay before the next attempt after `attempts` consecutive failures
/// (`attempts >= 1`): 10s, 20s, 40s, ... capped at the schedule's `period`
/// and at one hour, and never below one second.
pub(crate) fn delay(attempts: u32, period: Duration) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let raw = BASE.saturating_mul(1u32 << exp);
    raw.min(period).min(MAX).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let day = Duration::from_secs(86_400);
        assert_eq!(delay(1, day), Duration::from_secs(10));
        assert_eq!(delay(2, day), Duration::from_secs(20));
        assert_eq!(delay(4, day), Duration::from_secs(80));
        assert_eq!(delay(30, day), MAX);
        assert_eq!(delay(u32::MAX, day), MAX);
        assert_eq!(delay(5, Duration::from_secs(60)), Duration::from_secs(60));
        assert_eq!(delay(1, Duration::ZERO), Duration::from_secs(1));
    }
}
