//! Timestamps as Vault prints them (RFC 3339 with nanoseconds).

use std::time::SystemTime;

use serde_json::Value;

/// `t` as an RFC 3339 string in UTC.
pub(crate) fn rfc3339(t: SystemTime) -> Value {
    Value::String(coffer_sdk::time::rfc3339(t))
}

/// [`rfc3339`] of an optional time; null when absent.
pub(crate) fn rfc3339_opt(t: Option<SystemTime>) -> Value {
    t.map_or(Value::Null, rfc3339)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_utc_with_fraction() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 5_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.000005Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(rfc3339_opt(None), Value::Null);
    }
}
