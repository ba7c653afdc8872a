//! The token bucket of one client under one quota.
//!
//! A bucket holds at most `capacity` tokens (the quota's `rate`, rounded, at
//! least one) and refills continuously at `rate / interval` tokens per
//! second. Each request takes one token. A bucket that is refused while the
//! quota has a `block_interval` blocks the client for that long.

use std::time::{Duration, SystemTime};

/// How many intervals a client must be idle (with a full bucket and no block)
/// before its bucket may be forgotten.
pub(crate) const STALE_INTERVALS: u32 = 3;

/// The shape of every bucket of one quota.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limit {
    /// Most tokens a bucket holds (the burst).
    pub capacity: f64,
    /// Tokens added per second.
    pub refill_per_sec: f64,
    /// How long a client that exceeds the limit is blocked (zero: not at all).
    pub block: Duration,
    /// Idle time after which a bucket is indistinguishable from a new one.
    pub stale_after: Duration,
}

impl Limit {
    /// The limit of a quota allowing `rate` requests per `interval` (zero
    /// means one second, as Vault defaults it). `rate` is validated by the
    /// caller; a non-positive or non-finite value is treated as the smallest
    /// positive rate rather than dividing by zero.
    pub fn new(rate: f64, interval: Duration, block: Duration) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::MIN_POSITIVE
        };
        let interval = if interval.is_zero() {
            Duration::from_secs(1)
        } else {
            interval
        };
        let capacity = rate.round().max(1.0);
        let refill_per_sec = (rate / interval.as_secs_f64()).max(f64::MIN_POSITIVE);
        let to_full = secs_to_duration(capacity / refill_per_sec);
        let stale_after = interval.saturating_mul(STALE_INTERVALS).max(to_full);
        Self {
            capacity,
            refill_per_sec,
            block,
            stale_after,
        }
    }
}

/// The outcome of taking a token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// The request may proceed.
    Allowed {
        /// Whole tokens left after this request.
        remaining: u64,
        /// Time until the bucket is full again.
        reset: Duration,
    },
    /// The request is refused; the client should wait `retry_after`.
    Denied {
        /// Whole seconds, at least one.
        retry_after: Duration,
    },
}

/// One client's bucket.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    last: SystemTime,
    blocked_until: Option<SystemTime>,
    stale_after: Duration,
}

/// `later - earlier`, or zero when the clock went backwards.
pub(crate) fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or(Duration::ZERO)
}

/// Seconds as a duration, saturating instead of panicking on huge or
/// invalid values.
fn secs_to_duration(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

/// Rounds up to whole seconds, at least one (the `Retry-After` header counts
/// whole seconds, and zero would invite an immediate retry).
pub(crate) fn whole_seconds(d: Duration) -> Duration {
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    Duration::from_secs(secs.max(1))
}

impl Bucket {
    /// A full bucket for a client first seen at `now`.
    pub fn full(limit: &Limit, now: SystemTime) -> Self {
        Self {
            tokens: limit.capacity,
            last: now,
            blocked_until: None,
            stale_after: limit.stale_after,
        }
    }

    /// Takes one token at `now`.
    pub fn take(&mut self, limit: &Limit, now: SystemTime) -> Verdict {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Verdict::Denied {
                    retry_after: whole_seconds(since(until, now)),
                };
            }
            self.blocked_until = None;
        }
        let elapsed = since(now, self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.refill_per_sec).min(limit.capacity);
        // Never move `last` backwards: a clock that steps back and forth
        // must not credit the same time twice.
        if now > self.last {
            self.last = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            let missing = limit.capacity - self.tokens;
            return Verdict::Allowed {
                remaining: self.tokens.floor() as u64,
                reset: secs_to_duration(missing / limit.refill_per_sec),
            };
        }
        if !limit.block.is_zero() {
            self.blocked_until = now.checked_add(limit.block).or(Some(now));
            return Verdict::Denied {
                retry_after: whole_seconds(limit.block),
            };
        }
        let wait = (1.0 - self.tokens) / limit.refill_per_sec;
        Verdict::Denied {
            retry_after: whole_seconds(secs_to_duration(wait)),
        }
    }

    /// Whether the client is blocked at `now`.
    pub fn is_blocked(&self, now: SystemTime) -> bool {
        self.blocked_until.is_some_and(|until| until > now)
    }

    /// Whether the bucket may be forgotten at `now`: not blocked, and idle
    /// long enough to have refilled completely.
    pub fn is_stale(&self, now: SystemTime) -> bool {
        !self.is_blocked(now) && since(now, self.last) >= self.stale_after
    }

    /// When the client was last seen.
    pub fn last_seen(&self) -> SystemTime {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn t(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)
    }

    fn allowed(v: Verdict) -> bool {
        matches!(v, Verdict::Allowed { .. })
    }

    #[test]
    fn burst_then_refill() {
        let limit = Limit::new(5.0, Duration::from_secs(1), Duration::ZERO);
        let mut b = Bucket::full(&limit, t(0));
        for _ in 0..5 {
            assert!(allowed(b.take(&limit, t(0))));
        }
        assert_eq!(
            b.take(&limit, t(0)),
            Verdict::Denied {
                retry_after: Duration::from_secs(1)
            }
        );
        // 5 tokens per second: 200 ms gives exactly one token back.
        assert!(allowed(b.take(&limit, t(200))));
        assert!(!allowed(b.take(&limit, t(200))));
        // A long pause refills to capacity, never beyond.
        let mut n = 0;
        while allowed(b.take(&limit, t(60_000))) {
            n += 1;
        }
        assert_eq!(n, 5);
    }

    #[test]
    fn interval_spreads_the_rate() {
        // 20 per 2 s: burst of 20, sustained 10 per second.
        let limit = Limit::new(20.0, Duration::from_secs(2), Duration::ZERO);
        let mut b = Bucket::full(&limit, t(0));
        for _ in 0..20 {
            assert!(allowed(b.take(&limit, t(0))));
        }
        assert!(!allowed(b.take(&limit, t(0))));
        for _ in 0..10 {
            assert!(allowed(b.take(&limit, t(1000))));
        }
        assert!(!allowed(b.take(&limit, t(1000))));
    }

    #[test]
    fn retry_after_is_time_to_next_token() {
        // One request per minute: the next token is 60 s away.
        let limit = Limit::new(1.0, Duration::from_secs(60), Duration::ZERO);
        let mut b = Bucket::full(&limit, t(0));
        assert!(allowed(b.take(&limit, t(0))));
        assert_eq!(
            b.take(&limit, t(0)),
            Verdict::Denied {
                retry_after: Duration::from_secs(60)
            }
        );
        assert_eq!(
            b.take(&limit, t(45_500)),
            Verdict::Denied {
                retry_after: Duration::from_secs(15)
            }
        );
        assert!(allowed(b.take(&limit, t(60_000))));
    }

    #[test]
    fn block_interval_blocks_after_exceeding() {
        let limit = Limit::new(1.0, Duration::from_secs(1), Duration::from_secs(30));
        let mut b = Bucket::full(&limit, t(0));
        assert!(allowed(b.take(&limit, t(0))));
        assert_eq!(
            b.take(&limit, t(0)),
            Verdict::Denied {
                retry_after: Duration::from_secs(30)
            }
        );
        assert!(b.is_blocked(t(1)));
        // Tokens are back after 1 s, but the block holds for 30 s.
        assert_eq!(
            b.take(&limit, t(10_000)),
            Verdict::Denied {
                retry_after: Duration::from_secs(20)
            }
        );
        assert!(allowed(b.take(&limit, t(30_000))));
        assert!(!b.is_blocked(t(30_000)));
    }

    #[test]
    fn remaining_and_reset() {
        let limit = Limit::new(4.0, Duration::from_secs(2), Duration::ZERO);
        let mut b = Bucket::full(&limit, t(0));
        assert_eq!(
            b.take(&limit, t(0)),
            Verdict::Allowed {
                remaining: 3,
                reset: Duration::from_millis(500)
            }
        );
    }

    #[test]
    fn backwards_clock_credits_nothing_twice() {
        let limit = Limit::new(1.0, Duration::from_secs(10), Duration::ZERO);
        let mut b = Bucket::full(&limit, t(10_000));
        assert!(allowed(b.take(&limit, t(10_000))));
        // The clock steps back 5 s, then forward to 5 s after the first take.
        assert!(!allowed(b.take(&limit, t(5_000))));
        assert!(!allowed(b.take(&limit, t(15_000))));
        assert!(allowed(b.take(&limit, t(20_000))));
    }

    #[test]
    fn fractional_and_tiny_rates_still_work() {
        let limit = Limit::new(0.4, Duration::from_secs(1), Duration::ZERO);
        assert_eq!(limit.capacity, 1.0);
        let mut b = Bucket::full(&limit, t(0));
        assert!(allowed(b.take(&limit, t(0))));
        assert_eq!(
            b.take(&limit, t(0)),
            Verdict::Denied {
                retry_after: Duration::from_secs(3)
            }
        );
        // Degenerate inputs never panic.
        let odd = Limit::new(f64::NAN, Duration::ZERO, Duration::MAX);
        let mut b = Bucket::full(&odd, t(0));
        let _ = b.take(&odd, t(0));
        let _ = b.take(&odd, t(0));
        let huge = Limit::new(1e300, Duration::from_secs(1), Duration::ZERO);
        let mut b = Bucket::full(&huge, t(0));
        assert!(allowed(b.take(&huge, t(0))));
    }

    #[test]
    fn staleness() {
        let limit = Limit::new(10.0, Duration::from_secs(2), Duration::ZERO);
        assert_eq!(limit.stale_after, Duration::from_secs(6));
        let mut b = Bucket::full(&limit, t(0));
        b.take(&limit, t(0));
        assert!(!b.is_stale(t(5_999)));
        assert!(b.is_stale(t(6_000)));
        // A slow refill makes the bucket stale only once it is full again.
        let slow = Limit::new(0.1, Duration::from_secs(1), Duration::ZERO);
        assert_eq!(slow.stale_after, Duration::from_secs(10));
    }

    #[test]
    fn whole_seconds_rounds_up_with_a_floor() {
        assert_eq!(whole_seconds(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(
            whole_seconds(Duration::from_millis(1001)),
            Duration::from_secs(2)
        );
        assert_eq!(
            whole_seconds(Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        assert_eq!(whole_seconds(Duration::MAX).as_secs(), u64::MAX);
    }
}
