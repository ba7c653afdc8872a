//! Metadata fields: Vault's `TypeKVPairs` parsing (an object, or a list of
//! `key=value` strings) and its validation rules for identity metadata.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{IdentityError, Result};

/// At most this many metadata pairs.
const MAX_PAIRS: usize = 64;
/// Longest metadata key, in bytes.
const MAX_KEY_LEN: usize = 128;
/// Longest metadata value, in bytes.
const MAX_VALUE_LEN: usize = 512;
/// Keys starting with this are reserved.
const RESERVED_PREFIX: &str = "vault-";

/// Reads a `TypeKVPairs` field, `None` when absent or null.
pub(crate) fn parse_kv_pairs(
    field: &str,
    raw: Option<&Value>,
) -> Result<Option<BTreeMap<String, String>>> {
    let fail = |why: String| IdentityError::invalid(format!("failed to parse {field}: {why}"));
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            _ => None,
        }
    };
    let list = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let v = scalar(v).ok_or_else(|| fail(format!("value of {k:?} is not a string")))?;
                out.insert(k.clone(), v);
            }
            return Ok(Some(out));
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| scalar(v).ok_or_else(|| fail("expected a list of key=value strings".into())))
            .collect::<Result<Vec<_>>>()?,
        Some(Value::String(s)) => vec![s.clone()],
        Some(_) => return Err(fail("expected a map or a list of key=value strings".into())),
    };
    let mut out = BTreeMap::new();
    for pair in list {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_owned(), v.to_owned());
            }
            _ => return Err(fail(format!("invalid key pair {pair:?}"))),
        }
    }
    Ok(Some(out))
}

/// Vault's `validateMetadata` for entity, group and alias metadata; `what`
/// names the owner in the message (`entity`, `group`, `alias`).
pub(crate) fn validate(meta: &BTreeMap<String, String>, what: &str) -> Result<()> {
    let fail = |why: String| IdentityError::invalid(format!("invalid {what} metadata: {why}"));
    if meta.len() > MAX_PAIRS {
        return Err(fail(format!(
            "metadata cannot contain more than {MAX_PAIRS} key/value pairs"
        )));
    }
    for (key, value) in meta {
        let problem = if key.is_empty() {
            Some("key cannot be blank".to_owned())
        } else if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=/+_-".contains(&b))
        {
            Some("key contains invalid characters".to_owned())
        } else if key.len() > MAX_KEY_LEN {
            Some(format!("key is too long (limit: {MAX_KEY_LEN} characters)"))
        } else if key.starts_with(RESERVED_PREFIX) {
            Some(format!(
                "key prefix {RESERVED_PREFIX:?} is reserved for internal use"
            ))
        } else if value.len() > MAX_VALUE_LEN {
            Some(format!(
                "value is too long (limit: {MAX_VALUE_LEN} characters)"
            ))
        } else {
            None
        };
        if let Some(why) = problem {
            return Err(fail(format!(
                "failed to load metadata pair ({key:?}, {value:?}): {why}"
            )));
        }
    }
    Ok(())
}

/// Vault's `custommetadata.Validate` for alias custom metadata.
pub(crate) fn validate_custom(meta: &BTreeMap<String, String>) -> Result<()> {
    let mut problems = Vec::new();
    if meta.len() > MAX_PAIRS {
        problems.push(format!(
            "payload must contain at most {MAX_PAIRS} keys, provided {}",
            meta.len()
        ));
    }
    for (key, value) in meta {
        if key.len() > MAX_KEY_LEN {
            problems.push(format!(
                "length of key {key:?} is {} which exceeds the maximum of {MAX_KEY_LEN}",
                key.len()
            ));
        }
        if value.len() > MAX_VALUE_LEN {
            problems.push(format!(
                "length of value for key {key:?} is {} which exceeds the maximum of {MAX_VALUE_LEN}",
                value.len()
            ));
        }
        if key.is_empty() || key.chars().any(|c| c.is_control()) {
            problems.push(format!("key {key:?} contains unprintable characters"));
        }
        if value.chars().any(|c| c.is_control()) {
            problems.push(format!(
                "value for key {key:?} contains unprintable characters"
            ));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(IdentityError::invalid(problems.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> Result<Option<BTreeMap<String, String>>> {
        parse_kv_pairs("metadata", Some(&v))
    }

    #[test]
    fn kv_pairs_accept_vault_forms() {
        let m = parsed(json!({"team": "vault", "n": 5, "ok": true}))
            .unwrap()
            .unwrap();
        assert_eq!(m["team"], "vault");
        assert_eq!(m["n"], "5");
        assert_eq!(m["ok"], "true");
        let m = parsed(json!(["a=1", "b=x=y"])).unwrap().unwrap();
        assert_eq!((m["a"].as_str(), m["b"].as_str()), ("1", "x=y"));
        assert_eq!(parsed(json!("k=v")).unwrap().unwrap()["k"], "v");
        assert!(parse_kv_pairs("metadata", None).unwrap().is_none());
        assert!(parsed(Value::Null).unwrap().is_none());
        for bad in [
            json!(["novalue"]),
            json!(["=v"]),
            json!({"a": {"b": 1}}),
            json!(5),
        ] {
            let err = parsed(bad.clone()).unwrap_err();
            assert!(
                err.to_string().starts_with("failed to parse metadata: "),
                "{bad}"
            );
        }
    }

    #[test]
    fn metadata_validation() {
        let one = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(validate(&one("team/sub+x=y_z-1", "v"), "entity").is_ok());
        for (k, v, why) in [
            ("", "v", "key cannot be blank"),
            ("a b", "v", "key contains invalid characters"),
            ("vault-x", "v", "reserved"),
            (&"k".repeat(129), "v", "key is too long"),
            ("k", &"v".repeat(513), "value is too long"),
        ] {
            let err = validate(&one(k, v), "group").unwrap_err().to_string();
            assert!(err.starts_with("invalid group metadata: "), "{err}");
            assert!(err.contains(why), "{err}");
        }
        let many: BTreeMap<_, _> = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate(&many, "entity").is_err());
        assert!(validate_custom(&many).is_err());
        assert!(validate_custom(&one("k", "v")).is_ok());
        assert!(validate_custom(&one("k", "a\u{0}b")).is_err());
    }
}
