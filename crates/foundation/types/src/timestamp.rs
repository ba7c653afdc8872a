//! Timestamps as Vault prints them: RFC 3339 in UTC with up to nine
//! fractional digits, trailing zeros trimmed (Go's `time.RFC3339Nano`).
//!
//! One place for it, and one that cannot fail: a time RFC 3339 cannot show
//! (before year 0 or after 9999) is printed as the nearest time it can, so
//! no stored value can make a read or a listing fail. [`Timestamp`] is the
//! stored form of a time for records that keep `{secs, nanos}`; Go's zero
//! time ([`ZERO_TIME`]) and parsing ([`parse_rfc3339`]) live here too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::duration::LATEST_TIME_SECS;

/// Seconds from the Unix epoch back to 0000-01-01T00:00:00Z.
const EARLIEST_TIME_SECS: i64 = -62_167_219_200;

/// `t` in the range RFC 3339 can print, as a `time` value.
fn clamped(t: SystemTime) -> OffsetDateTime {
    let nanos: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            i128::try_from(d.min(Duration::from_secs(LATEST_TIME_SECS)).as_nanos()).unwrap_or(0)
        }
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(0),
    };
    let nanos = nanos.clamp(
        i128::from(EARLIEST_TIME_SECS) * 1_000_000_000,
        i128::from(LATEST_TIME_SECS) * 1_000_000_000,
    );
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `t` as Vault prints `creation_time` (`2017-07-25T20:29:22.614756844Z`).
pub fn rfc3339(t: SystemTime) -> String {
    clamped(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// `t` in whole seconds (Go's `time.RFC3339`), as Vault's audit records
/// print `token_issue_time`.
pub fn rfc3339_seconds(t: SystemTime) -> String {
    clamped(t)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// What Go prints for the zero `time.Time`, as Vault answers an unset time
/// (an AppRole secret id without expiry).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An RFC 3339 time (any offset, any precision) read back; `None` if `s` is
/// not one.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// 0001-01-01T00:00:00Z, the earliest [`Timestamp`].
const TIMESTAMP_MIN_SECS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the latest second of a [`Timestamp`].
const TIMESTAMP_MAX_SECS: i64 = 253_402_300_799;

/// A point in time as stored records keep it: seconds and nanoseconds since
/// the Unix epoch (stored as `{"secs": .., "nanos": ..}`), clamped to the
/// years 1 to 9999, ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// The timestamp of `t`, clamped to the years 1 to 9999.
    pub fn from_system(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => {
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                if secs > TIMESTAMP_MAX_SECS {
                    Self::latest()
                } else {
                    Self {
                        secs,
                        nanos: d.subsec_nanos(),
                    }
                }
            }
            Err(before) => {
                let d = before.duration();
                let mut secs = -i64::try_from(d.as_secs()).unwrap_or(-TIMESTAMP_MIN_SECS);
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                if secs < TIMESTAMP_MIN_SECS {
                    Self {
                        secs: TIMESTAMP_MIN_SECS,
                        nanos: 0,
                    }
                } else {
                    Self { secs, nanos }
                }
            }
        }
    }

    /// 9999-12-31T23:59:59Z, where additions saturate.
    fn latest() -> Self {
        Self {
            secs: TIMESTAMP_MAX_SECS,
            nanos: 0,
        }
    }

    /// This time plus `d`, saturating at the end of year 9999.
    pub fn plus(self, d: Duration) -> Self {
        let add = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let mut secs = self.secs.saturating_add(add);
        let mut nanos = self.nanos.min(999_999_999) + d.subsec_nanos();
        if nanos >= 1_000_000_000 {
            secs = secs.saturating_add(1);
            nanos -= 1_000_000_000;
        }
        if secs > TIMESTAMP_MAX_SECS {
            Self::latest()
        } else {
            Self { secs, nanos }
        }
    }

    /// Printed as Vault prints `created_time` (see [`rfc3339`]). A stored
    /// value outside the years 1 to 9999 (only a corrupted record holds one)
    /// prints as the nearest time inside them.
    pub fn rfc3339(self) -> String {
        let nanos = i128::from(self.secs.clamp(TIMESTAMP_MIN_SECS, TIMESTAMP_MAX_SECS))
            * 1_000_000_000
            + i128::from(self.nanos.min(999_999_999));
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
    }
}

/// `t` printed as Vault does, or [`ZERO_TIME`] when absent (Go's zero
/// `time.Time`).
pub fn rfc3339_or_zero(t: Option<Timestamp>) -> String {
    t.map_or_else(|| ZERO_TIME.to_owned(), Timestamp::rfc3339)
}

/// `t` printed as Vault does, or `""` when absent (an unset protobuf
/// timestamp, as KV v2 metadata prints one).
pub fn rfc3339_or_empty(t: Option<Timestamp>) -> String {
    t.map(Timestamp::rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go_rfc3339nano() {
        let at = |s, n| rfc3339(UNIX_EPOCH + Duration::new(s, n));
        assert_eq!(
            at(1_700_000_000, 123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(at(1_700_000_000, 120_000_000), "2023-11-14T22:13:20.12Z");
        assert_eq!(at(1_700_000_000, 5_000), "2023-11-14T22:13:20.000005Z");
        assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::new(1, 500_000_000)),
            "1969-12-31T23:59:58.5Z"
        );
        assert_eq!(
            rfc3339_seconds(UNIX_EPOCH + Duration::new(1_700_000_000, 5)),
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn times_past_year_9999_print_as_its_end() {
        // 9000000000000000000 s after now: a `rotation_period` once stored.
        let far = UNIX_EPOCH + Duration::from_secs(9_000_000_000_000_000_000);
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339_seconds(far), "9999-12-31T23:59:59Z");
        let early = UNIX_EPOCH - Duration::from_secs(70_000_000_000);
        assert_eq!(rfc3339(early), "0000-01-01T00:00:00Z");
    }

    fn ts(secs: u64, nanos: u32) -> Timestamp {
        Timestamp::from_system(UNIX_EPOCH + Duration::new(secs, nanos))
    }

    #[test]
    fn timestamps_print_like_the_formatter() {
        for (s, n) in [
            (1_700_000_000, 123_456_789),
            (1_700_000_000, 120_000_000),
            (1_700_000_000, 0),
            (0, 0),
        ] {
            let t = UNIX_EPOCH + Duration::new(s, n);
            assert_eq!(Timestamp::from_system(t).rfc3339(), rfc3339(t), "{s}.{n}");
        }
        assert_eq!(
            ts(1_700_000_000, 120_000_000).rfc3339(),
            "2023-11-14T22:13:20.12Z"
        );
        // The last second of 9999 keeps its fraction, as stored (the
        // `SystemTime` formatter clamps to the whole second there).
        assert_eq!(
            ts(253_402_300_799, 500_000_000).rfc3339(),
            "9999-12-31T23:59:59.5Z"
        );
        let before = Timestamp::from_system(UNIX_EPOCH - Duration::new(1, 500_000_000));
        assert_eq!(before.rfc3339(), "1969-12-31T23:59:58.5Z");
        let ancient = Timestamp::from_system(UNIX_EPOCH - Duration::from_secs(70_000_000_000));
        assert_eq!(ancient.rfc3339(), ZERO_TIME);
    }

    #[test]
    fn timestamp_addition_carries_and_saturates() {
        assert_eq!(
            ts(10, 600_000_000).plus(Duration::new(1, 500_000_000)),
            ts(12, 100_000_000)
        );
        assert_eq!(ts(10, 5).plus(Duration::from_secs(3600)), ts(3610, 5));
        assert_eq!(
            ts(0, 0).plus(Duration::MAX).rfc3339(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            ts(u64::MAX / 4, 0).rfc3339(),
            "9999-12-31T23:59:59Z",
            "clamped on construction"
        );
        assert!(ts(10, 0) < ts(10, 1));
        assert!(ts(9, 999_999_999) < ts(10, 0));
    }

    #[test]
    fn timestamps_store_as_secs_and_nanos() {
        let t = ts(1_700_000_000, 5);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"secs":1700000000,"nanos":5}"#);
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        // A corrupted record still prints, as the nearest printable time.
        let bad: Timestamp = serde_json::from_str(r#"{"secs":-99999999999999,"nanos":7}"#).unwrap();
        assert_eq!(bad.rfc3339(), "0001-01-01T00:00:00.000000007Z");
    }

    #[test]
    fn absent_times() {
        assert_eq!(rfc3339_or_zero(None), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339_or_empty(None), "");
        assert_eq!(
            rfc3339_or_zero(Some(ts(1_700_000_000, 0))),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            rfc3339_or_empty(Some(ts(1_700_000_000, 0))),
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn parses_what_it_prints() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let back = parse_rfc3339(&rfc3339(t)).unwrap();
        assert_eq!(back.unix_timestamp_nanos(), 1_700_000_000_123_456_789);
        let offset = parse_rfc3339("2023-11-14T23:13:20+01:00").unwrap();
        assert_eq!(offset.unix_timestamp(), 1_700_000_000);
        assert!(parse_rfc3339("2023-11-14 22:13:20").is_none());
        assert!(parse_rfc3339("").is_none());
    }
}
