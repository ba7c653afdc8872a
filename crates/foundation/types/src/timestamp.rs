//! Timestamps as Vault prints them: RFC 3339 in UTC with up to nine
//! fractional digits, trailing zeros trimmed (Go's `time.RFC3339Nano`).
//!
//! One place for it, and one that cannot fail: a time RFC 3339 cannot show
//! (before year 0 or after 9999) is printed as the nearest time it can, so
//! no stored value can make a read or a listing fail.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
}
