//! Timestamps printed as Vault prints protobuf timestamps: RFC 3339 in UTC
//! with up to nine fractional digits, trailing zeros trimmed.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// `t` as Vault prints `creation_time` (`2017-07-25T20:29:22.614756844Z`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs - 1, 1_000_000_000 - n),
            }
        }
    };
    // Out-of-range times can only come from a corrupted record or a clock
    // set beyond year 9999: print the epoch rather than fail a read.
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn prints_like_go_rfc3339nano() {
        let at = |s, n| rfc3339(UNIX_EPOCH + Duration::new(s, n));
        assert_eq!(
            at(1_700_000_000, 123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(at(1_700_000_000, 120_000_000), "2023-11-14T22:13:20.12Z");
        assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::new(1, 500_000_000)),
            "1969-12-31T23:59:58.5Z"
        );
    }
}
