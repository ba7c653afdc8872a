//! Timestamps as Vault prints them: RFC 3339 in UTC with up to nine
//! fractional digits, trailing zeros trimmed (Go's `time.RFC3339Nano`).
//! The formatting lives in `coffer_types::timestamp`; backends reach it here.

pub use coffer_types::timestamp::rfc3339;
