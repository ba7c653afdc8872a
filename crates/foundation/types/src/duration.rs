//! Vault-style durations: integer seconds, or Go duration strings such as
//! `"1h30m"`, `"90s"`, `"1.5h"`, with `d` for days as Vault accepts.
//!
//! Every duration is bounded by Go's `time.Duration`, the largest Vault can
//! hold: [`MAX_DURATION`] (`2562047h47m16.854775807s`, about 292 years). A
//! value beyond it (`1e300`, `18446744073709551616`, `"9000000000000000000s"`)
//! is a client's mistake and refused with a 400, so no time computed from a
//! duration can overflow a clock (later additions are checked anyway).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest duration Coffer accepts: Go's `time.Duration` maximum,
/// `i64::MAX` nanoseconds.
pub const MAX_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Why a duration did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

fn fail(input: &str, reason: &'static str) -> DurationError {
    DurationError {
        input: input.chars().take(64).collect(),
        reason,
    }
}

const OUT_OF_RANGE: &str = "out of range (the largest duration is 2562047h47m16s)";

fn from_nanos(input: &str, nanos: u128) -> Result<Duration, DurationError> {
    if nanos > MAX_DURATION.as_nanos() {
        return Err(fail(input, OUT_OF_RANGE));
    }
    let secs = u64::try_from(nanos / NANOS_PER_SEC).map_err(|_| fail(input, OUT_OF_RANGE))?;
    // The remainder of a division by 10^9 always fits in a u32.
    let sub = u32::try_from(nanos % NANOS_PER_SEC).map_err(|_| fail(input, OUT_OF_RANGE))?;
    Ok(Duration::new(secs, sub))
}

/// `<digits>[.<digits>]` times `unit_nanos`, exactly (as Go computes it),
/// or `None` past the range of a duration.
fn scaled(number: &str, unit_nanos: u128) -> Option<u128> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let cap = MAX_DURATION.as_nanos();
    let mut total: u128 = 0;
    for d in whole.bytes() {
        total = total.checked_mul(10)?.checked_add(u128::from(d - b'0'))?;
        if total > cap {
            return None;
        }
    }
    total = total.checked_mul(unit_nanos)?;
    // Fractional digits past nanosecond precision of the largest unit add
    // nothing; Go drops them the same way.
    let mut scale = unit_nanos;
    for d in frac.bytes().take(24) {
        scale /= 10;
        total = total.checked_add(u128::from(d - b'0') * scale)?;
    }
    (total <= cap).then_some(total)
}

/// Parses a duration the way Vault's `parseutil.ParseDurationSecond` does:
/// a bare number is seconds; otherwise a sequence of `<number><unit>` with
/// units `ns us µs ms s m h d`. Negative and out-of-range durations are
/// rejected.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() || s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return scaled(s, NANOS_PER_SEC)
            .ok_or_else(|| fail(input, OUT_OF_RANGE))
            .and_then(|n| from_nanos(input, n));
    }
    if s.starts_with('-') {
        return Err(fail(input, "negative durations are not allowed"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail(input, "missing unit"))?;
        let number = &rest[..num_len];
        if number.bytes().filter(|b| *b == b'.').count() > 1
            || !number.bytes().any(|b| b.is_ascii_digit())
        {
            return Err(fail(input, "expected a number"));
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            "d" => 86_400 * NANOS_PER_SEC,
            _ => return Err(fail(input, "unknown unit")),
        };
        rest = &rest[unit_len..];
        total = scaled(number, unit_nanos)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| fail(input, OUT_OF_RANGE))?;
    }
    from_nanos(input, total)
}

/// Parses a JSON value as a duration: numbers are seconds, strings as
/// [`parse_duration`]. Values beyond [`MAX_DURATION`] are refused.
pub fn parse_duration_value(value: &serde_json::Value) -> Result<Duration, DurationError> {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(secs) = n.as_u64() {
                from_nanos(&n.to_string(), u128::from(secs) * NANOS_PER_SEC)
            } else if n.as_i64().is_some() {
                Err(fail(&n.to_string(), "negative durations are not allowed"))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() && f < 0.0 => {
                        Err(fail(&n.to_string(), "negative durations are not allowed"))
                    }
                    Some(f) if f.is_finite() && f <= MAX_DURATION.as_secs_f64() => {
                        Duration::try_from_secs_f64(f)
                            .ok()
                            .filter(|d| *d <= MAX_DURATION)
                            .ok_or_else(|| fail(&n.to_string(), OUT_OF_RANGE))
                    }
                    _ => Err(fail(&n.to_string(), OUT_OF_RANGE)),
                }
            }
        }
        serde_json::Value::String(s) => parse_duration(s),
        serde_json::Value::Null => Ok(Duration::ZERO),
        _ => Err(fail("<non-scalar>", "expected a number or a string")),
    }
}

/// The latest time Coffer computes: the last second of year 9999, the end
/// of what RFC 3339 (and so Vault's JSON) can print.
pub const LATEST_TIME_SECS: u64 = 253_402_300_799;

/// `t + d`, checked: a sum past [`LATEST_TIME_SECS`] (or one the platform's
/// clock cannot hold) is that latest time, never a panic. Every deadline
/// and expiry is computed with it.
pub fn time_after(t: SystemTime, d: Duration) -> SystemTime {
    let latest = UNIX_EPOCH + Duration::from_secs(LATEST_TIME_SECS);
    t.checked_add(d).filter(|s| *s <= latest).unwrap_or(latest)
}

/// Formats a duration as Go does (`"768h0m0s"`, `"1h30m0s"`, `"0s"`), which is
/// what Vault prints in config reads.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vault_forms() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(
            parse_duration("768h").unwrap(),
            Duration::from_secs(2_764_800)
        );
        assert_eq!(parse_duration("").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["-5s", "5x", "h", "1h-", "abc", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(Duration::from_secs(0)), "0s");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format_duration(Duration::from_secs(2_764_800)), "768h0m0s");
        assert_eq!(format_duration(Duration::from_secs(61)), "1m1s");
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        use serde_json::json;
        for bad in [
            json!(1e300),
            json!(1.8446744073709552e19),
            json!(9_223_372_037u64),
            json!(u64::MAX),
            json!(-1),
            json!(-0.5),
            json!("9000000000000000000s"),
            json!("99999999999999h"),
            json!("18446744073709551616"),
            json!("2562048h"),
            json!("106752d1s"),
        ] {
            let err = parse_duration_value(&bad).expect_err(&bad.to_string());
            assert!(err.to_string().contains("invalid duration"), "{err}");
        }
        // serde_json reads integers past u64 as floats: the same refusal.
        let huge: serde_json::Value = serde_json::from_str("18446744073709551616").unwrap();
        assert!(parse_duration_value(&huge).is_err());
        assert_eq!(
            parse_duration("2562047h47m16.854775807s").unwrap(),
            MAX_DURATION
        );
        assert!(parse_duration("2562047h47m16.854775808s").is_err());
        assert_eq!(
            parse_duration_value(&json!(9_223_372_036u64)).unwrap(),
            Duration::from_secs(9_223_372_036)
        );
    }

    #[test]
    fn time_after_saturates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            time_after(now, Duration::from_secs(10)),
            now + Duration::from_secs(10)
        );
        let latest = UNIX_EPOCH + Duration::from_secs(LATEST_TIME_SECS);
        assert_eq!(time_after(now, Duration::MAX), latest);
        assert_eq!(time_after(now, MAX_DURATION), now + MAX_DURATION);
        assert_eq!(time_after(latest, Duration::from_secs(1)), latest);
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration(".5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            parse_duration("0.000000001s").unwrap(),
            Duration::from_nanos(1)
        );
        assert_eq!(
            parse_duration("1h0.1ms").unwrap(),
            Duration::new(3600, 100_000)
        );
        assert!(parse_duration(".s").is_err());
        assert!(parse_duration("1.2.3s").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn numbers_never_panic_and_stay_in_range(f in proptest::num::f64::ANY, u in proptest::num::u64::ANY) {
            for v in [serde_json::json!(f), serde_json::json!(u)] {
                if let Ok(d) = parse_duration_value(&v) {
                    proptest::prop_assert!(d <= MAX_DURATION);
                }
            }
        }

        #[test]
        fn strings_stay_in_range(n in proptest::num::u64::ANY, unit in proptest::sample::select(vec!["ns", "ms", "s", "m", "h", "d"])) {
            if let Ok(d) = parse_duration(&format!("{n}{unit}")) {
                proptest::prop_assert!(d <= MAX_DURATION);
            }
        }

        #[test]
        fn format_then_parse_round_trips(secs in 0u64..=MAX_DURATION.as_secs()) {
            let d = Duration::from_secs(secs);
            proptest::prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
