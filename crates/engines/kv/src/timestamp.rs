//! Stored timestamps, printed as Vault prints protobuf timestamps: RFC 3339 in
//! UTC with up to nine fractional digits, trailing zeros trimmed (Go's
//! `time.RFC3339Nano`).

use std::time::{SystemTime, UNIX_EPOCH};

use coffer_sdk::Clock;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// 9999-12-31T23:59:59Z, the last second RFC 3339 can print.
const MAX_SECS: i64 = 253_402_300_799;
/// 0001-01-01T00:00:00Z.
const MIN_SECS: i64 = -62_135_596_800;

/// A point in time, seconds and nanoseconds since the Unix epoch, clamped to
/// the years 1 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// The timestamp of `t`.
    pub(crate) fn from_system(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self {
                secs: i64::try_from(d.as_secs()).unwrap_or(MAX_SECS).min(MAX_SECS),
                nanos: d.subsec_nanos(),
            },
            Err(before) => {
                let d = before.duration();
                let mut secs = -i64::try_from(d.as_secs()).unwrap_or(-MIN_SECS);
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Self {
                    secs: secs.max(MIN_SECS),
                    nanos,
                }
            }
        }
    }

    /// Now, by `clock`.
    pub(crate) fn now(clock: &dyn Clock) -> Self {
        Self::from_system(clock.now())
    }

    /// This time plus `secs` seconds, saturating at the end of year 9999.
    pub(crate) fn plus_secs(self, secs: u64) -> Self {
        let add = i64::try_from(secs).unwrap_or(i64::MAX);
        let total = self.secs.saturating_add(add);
        if total > MAX_SECS {
            Self {
                secs: MAX_SECS,
                nanos: 0,
            }
        } else {
            Self {
                secs: total,
                ..self
            }
        }
    }

    /// RFC 3339 with trimmed nanoseconds, as Vault prints `created_time`.
    pub(crate) fn rfc3339(self) -> String {
        // Out-of-range values can only come from a corrupted record; print
        // the epoch rather than fail a read over a display detail.
        let dt = OffsetDateTime::from_unix_timestamp(self.secs.clamp(MIN_SECS, MAX_SECS))
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
            let frac = format!("{nanos:09}");
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

/// `t` printed as Vault does, or `""` when absent.
pub(crate) fn rfc3339_or_empty(t: Option<Timestamp>) -> String {
    t.map(Timestamp::rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, nanos: u32) -> Timestamp {
        Timestamp::from_system(UNIX_EPOCH + Duration::new(secs, nanos))
    }

    #[test]
    fn prints_like_go_rfc3339nano() {
        assert_eq!(
            at(1_700_000_000, 123_456_789).rfc3339(),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(
            at(1_700_000_000, 120_000_000).rfc3339(),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(at(1_700_000_000, 0).rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(at(0, 0).rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn before_epoch_and_saturation() {
        let t = Timestamp::from_system(UNIX_EPOCH - Duration::new(1, 500_000_000));
        assert_eq!(t.rfc3339(), "1969-12-31T23:59:58.5Z");
        assert_eq!(
            at(0, 0).plus_secs(u64::MAX).rfc3339(),
            "9999-12-31T23:59:59Z"
        );
        assert!(at(10, 0) < at(10, 1));
        assert_eq!(at(10, 5).plus_secs(3600), at(3610, 5));
    }

    #[test]
    fn empty_when_absent() {
        assert_eq!(rfc3339_or_empty(None), "");
    }
}
