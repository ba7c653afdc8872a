//! Timestamps printed as Vault prints protobuf timestamps: RFC 3339 in UTC
//! with up to nine fractional digits, trailing zeros trimmed.

use std::time::SystemTime;

/// `t` as Vault prints `creation_time` (`2017-07-25T20:29:22.614756844Z`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    coffer_sdk::time::rfc3339(t)
}
