//! Timestamps as Vault prints them: RFC 3339 in UTC with up to nine
//! fractional digits, trailing zeros trimmed (Go's `time.RFC3339Nano`).
//! The formatting lives in `coffer_types::timestamp`; backends reach it here.

pub use coffer_types::timestamp::rfc3339;

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

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
    }
}
