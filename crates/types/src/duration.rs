//! Vault-style durations: integer seconds, or Go duration strings such as
//! `"1h30m"`, `"90s"`, `"1.5h"`, with `d` for days as Vault accepts.

use std::time::Duration;

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

/// Parses a duration the way Vault's `parseutil.ParseDurationSecond` does:
/// a bare number is seconds; otherwise a sequence of `<number><unit>` with
/// units `ns us µs ms s m h d`. Negative durations are rejected.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(Duration::ZERO);
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    if s.starts_with('-') {
        return Err(fail(input, "negative durations are not allowed"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    let mut rest = s;
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail(input, "missing unit"))?;
        if num_len == 0 {
            return Err(fail(input, "expected a number"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| fail(input, "bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(fail(input, "unknown unit")),
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    if !total.is_finite() || total > u64::MAX as f64 / 2.0 {
        return Err(fail(input, "out of range"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parses a JSON value as a duration: numbers are seconds, strings as
/// [`parse_duration`].
pub fn parse_duration_value(value: &serde_json::Value) -> Result<Duration, DurationError> {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(secs) = n.as_u64() {
                Ok(Duration::from_secs(secs))
            } else if let Some(f) = n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()) {
                Ok(Duration::from_secs_f64(f))
            } else {
                Err(fail(&n.to_string(), "negative durations are not allowed"))
            }
        }
        serde_json::Value::String(s) => parse_duration(s),
        serde_json::Value::Null => Ok(Duration::ZERO),
        _ => Err(fail("<non-scalar>", "expected a number or a string")),
    }
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

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn format_then_parse_round_trips(secs in 0u64..10_000_000) {
            let d = Duration::from_secs(secs);
            proptest::prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
