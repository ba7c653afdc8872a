//! Stored timestamps, printed as Vault prints Go `time.Time` values in JSON:
//! RFC 3339 in UTC with trailing zeros of the nanoseconds trimmed; the zero
//! time (`0001-01-01T00:00:00Z`) stands for "never".

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// 9999-12-31T23:59:59Z, the last second RFC 3339 can print.
const MAX_SECS: u64 = 253_402_300_799;

/// What Go prints for the zero `time.Time` (an unset expiration).
pub(crate) const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A point in time after the Unix epoch (earlier clocks read as the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Timestamp {
    secs: u64,
    nanos: u32,
}

impl Timestamp {
    /// The timestamp of `t`, clamped to the years 1970 to 9999.
    pub(crate) fn from_system(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        if d.as_secs() > MAX_SECS {
            return Self {
                secs: MAX_SECS,
                nanos: 0,
            };
        }
        Self {
            secs: d.as_secs(),
            nanos: d.subsec_nanos(),
        }
    }

    /// This time plus `d`, saturating at the end of year 9999.
    pub(crate) fn plus(self, d: Duration) -> Self {
        let secs = self.secs.saturating_add(d.as_secs());
        let nanos = self.nanos + d.subsec_nanos();
        let (secs, nanos) = if nanos >= 1_000_000_000 {
            (secs.saturating_add(1), nanos - 1_000_000_000)
        } else {
            (secs, nanos)
        };
        if secs > MAX_SECS {
            Self {
                secs: MAX_SECS,
                nanos: 0,
            }
        } else {
            Self { secs, nanos }
        }
    }

    /// RFC 3339 in UTC with trimmed nanoseconds (Go's `RFC3339Nano`).
    pub(crate) fn rfc3339(self) -> String {
        // `secs` is clamped to MAX_SECS on construction, so the conversion
        // cannot fail; the epoch fallback only guards a corrupted record.
        let dt = i64::try_from(self.secs)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        let nanos = self.nanos.min(999_999_999);
        if nanos > 0 {
            out.push('.');
            out.push_str(format!("{nanos:09}").trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

/// `t` as Vault prints it, or Go's zero time when absent.
pub(crate) fn rfc3339_or_zero(t: Option<Timestamp>) -> String {
    t.map(Timestamp::rfc3339)
        .unwrap_or_else(|| ZERO_TIME.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> Timestamp {
        Timestamp::from_system(UNIX_EPOCH + Duration::new(secs, nanos))
    }

    #[test]
    fn prints_like_go() {
        assert_eq!(
            at(1_700_000_000, 123_456_789).rfc3339(),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(at(1_700_000_000, 0).rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_or_zero(None), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn addition_carries_and_saturates() {
        assert_eq!(
            at(10, 600_000_000).plus(Duration::new(1, 500_000_000)),
            at(12, 100_000_000)
        );
        assert_eq!(
            at(0, 0).plus(Duration::MAX).rfc3339(),
            "9999-12-31T23:59:59Z"
        );
        assert!(at(10, 0) < at(10, 1));
    }
}
