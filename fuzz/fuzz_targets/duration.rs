//! Durations: `coffer_types::duration::parse_duration` on arbitrary text and
//! `parse_duration_value` on arbitrary JSON. Neither may panic; an accepted
//! duration is within Go's `time.Duration` (what Vault can hold), and
//! formatting it and parsing the result gives back its whole seconds.
#![no_main]

use std::time::Duration;

use coffer_types::duration::{format_duration, parse_duration, parse_duration_value};
use libfuzzer_sys::fuzz_target;

/// Go's `time.Duration` maximum: `i64::MAX` nanoseconds.
const GO_MAX_NANOS: u128 = i64::MAX as u128;

fn check_accepted(input: &dyn std::fmt::Debug, d: Duration) {
    assert!(
        d.as_nanos() <= GO_MAX_NANOS,
        "{input:?} accepted as {d:?}, beyond Go's time.Duration"
    );
    let printed = format_duration(d);
    let again = parse_duration(&printed)
        .unwrap_or_else(|e| panic!("{input:?}: formatted as {printed:?}, which fails: {e}"));
    assert_eq!(
        again,
        Duration::from_secs(d.as_secs()),
        "{input:?}: {d:?} formatted as {printed:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(d) = parse_duration(text)
    {
        check_accepted(&text, d);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(d) = parse_duration_value(&value) {
            check_accepted(&value, d);
        }
        // The same value as a field of a request body, as handlers see it.
        if let Some(ttl) = value.get("ttl")
            && let Ok(d) = parse_duration_value(ttl)
        {
            check_accepted(ttl, d);
        }
    }
});
