//! Reading typed settings out of JSON values, as leniently as Vault does
//! (booleans from `true`, `"true"`, `1`, `"1"`; durations from seconds or
//! `"1h30m"`). Errors name the setting, never the value.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::ConfigError;

/// A boolean the way Vault's `parseutil.ParseBool` reads one: JSON booleans,
/// numbers (non-zero is true), and Go's `strconv.ParseBool` strings.
pub(crate) fn boolean(value: &Value, key: &str) -> Result<bool, ConfigError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => match s.trim() {
            "" => Ok(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err(ConfigError::invalid(
                key,
                "expected a boolean (true, false, 1 or 0)",
            )),
        },
        Value::Array(_) | Value::Object(_) => Err(ConfigError::invalid(
            key,
            "expected a boolean (true, false, 1 or 0)",
        )),
    }
}

/// A whole number at least 1, from a JSON number or a numeric string
/// (`cache_size = "131072"`, as Vault accepts).
pub(crate) fn positive(value: &Value, key: &str) -> Result<u64, ConfigError> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::invalid(key, "expected a whole number greater than 0"))
}

/// A string; numbers are accepted and written out as Vault's decoder does.
pub(crate) fn string(value: &Value, key: &str) -> Result<String, ConfigError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ConfigError::invalid(key, "expected a string")),
    }
}

/// An optional string: empty means unset.
pub(crate) fn opt_string(value: &Value, key: &str) -> Result<Option<String>, ConfigError> {
    let s = string(value, key)?;
    Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// An optional file path: empty means unset.
pub(crate) fn opt_path(value: &Value, key: &str) -> Result<Option<PathBuf>, ConfigError> {
    Ok(opt_string(value, key)?.map(PathBuf::from))
}

/// A duration: a number of seconds or a Vault duration string.
pub(crate) fn duration(value: &Value, key: &str) -> Result<Duration, ConfigError> {
    match value {
        Value::Number(_) | Value::String(_) | Value::Null => {
            coffer_types::duration::parse_duration_value(value).map_err(|_| bad_duration(key))
        }
        _ => Err(bad_duration(key)),
    }
}

fn bad_duration(key: &str) -> ConfigError {
    ConfigError::invalid(
        key,
        "expected a duration such as \"768h\" or \"1h30m\", or a number of seconds",
    )
}

/// A list of strings given as one comma-separated string or an array of
/// strings (each of which may itself hold commas); blanks are dropped.
pub(crate) fn string_list(value: &Value, key: &str) -> Result<Vec<String>, ConfigError> {
    let parts: Vec<&str> = match value {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.as_str()),
                _ => Err(ConfigError::invalid(key, "expected a list of strings")),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ConfigError::invalid(
                key,
                "expected a comma-separated string or a list of strings",
            ));
        }
    };
    Ok(parts
        .into_iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Checks that `addr` is an IP address or a CIDR block (`10.0.0.0/8`).
pub(crate) fn check_ip_or_cidr(addr: &str, key: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::invalid(key, "expected IP addresses or CIDR blocks");
    let (ip, bits) = match addr.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits)),
        None => (addr, None),
    };
    let ip: std::net::IpAddr = ip.parse().map_err(|_| bad())?;
    if let Some(bits) = bits {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match bits.parse::<u8>() {
            Ok(b) if b <= max => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_are_read_like_vault() {
        for yes in [
            json!(true),
            json!(1),
            json!("1"),
            json!("true"),
            json!("T"),
            json!(2.5),
        ] {
            assert!(boolean(&yes, "k").unwrap(), "{yes}");
        }
        for no in [
            json!(false),
            json!(0),
            json!("0"),
            json!("false"),
            json!(""),
            json!(null),
        ] {
            assert!(!boolean(&no, "k").unwrap(), "{no}");
        }
        for bad in [json!("yes"), json!("maybe"), json!([true]), json!({})] {
            let err = boolean(&bad, "ui").unwrap_err().to_string();
            assert!(err.starts_with("invalid value for ui:"), "{err}");
            assert!(!err.contains("maybe"), "value leaked: {err}");
        }
    }

    #[test]
    fn strings_accept_numbers_but_not_structures() {
        assert_eq!(string(&json!("a"), "k").unwrap(), "a");
        assert_eq!(string(&json!(8200), "k").unwrap(), "8200");
        assert!(string(&json!(true), "k").is_err());
        assert!(string(&json!(["a"]), "k").is_err());
        assert_eq!(opt_string(&json!("  "), "k").unwrap(), None);
        assert_eq!(
            opt_path(&json!("/a"), "k").unwrap(),
            Some(PathBuf::from("/a"))
        );
    }

    #[test]
    fn durations_take_seconds_and_go_strings() {
        assert_eq!(
            duration(&json!(3600), "k").unwrap(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            duration(&json!("1h30m"), "k").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            duration(&json!("2d"), "k").unwrap(),
            Duration::from_secs(172_800)
        );
        assert!(duration(&json!("soon"), "max_lease_ttl").is_err());
        assert!(duration(&json!(-5), "k").is_err());
        assert!(duration(&json!(true), "k").is_err());
    }

    #[test]
    fn lists_split_commas_and_arrays() {
        assert_eq!(
            string_list(&json!("10.0.0.0/8, 127.0.0.1"), "k").unwrap(),
            ["10.0.0.0/8", "127.0.0.1"]
        );
        assert_eq!(
            string_list(&json!(["10.0.0.0/8", "::1,192.168.0.1"]), "k").unwrap(),
            ["10.0.0.0/8", "::1", "192.168.0.1"]
        );
        assert!(string_list(&json!([1]), "k").is_err());
        assert!(string_list(&json!(true), "k").is_err());
    }

    #[test]
    fn ip_and_cidr_checks() {
        for good in ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "0.0.0.0/0"] {
            check_ip_or_cidr(good, "k").unwrap();
        }
        for bad in ["localhost", "10.0.0.0/33", "::1/129", "10.0.0.0/x", ""] {
            assert!(check_ip_or_cidr(bad, "k").is_err(), "{bad}");
        }
    }
}
