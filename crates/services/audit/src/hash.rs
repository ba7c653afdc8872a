//! Vault's `hashstructure`: every string value in a JSON structure is replaced
//! by its salted HMAC, recursively through objects and arrays. Object keys are
//! never hashed; numbers, booleans and null pass through, as in Vault.

use serde_json::{Map, Value};

use crate::Salt;

/// Replaces every string value in `data` (recursively, including values in
/// nested objects and items of arrays, but not keys) with `salt.hash(value)`.
/// A string whose nearest enclosing object key is in `ignored_keys` is left
/// as it is (a mount's `audit_non_hmac_*_keys`).
pub fn hash_map(salt: &Salt, data: &mut Map<String, Value>, ignored_keys: &[String]) {
    for (key, value) in data.iter_mut() {
        hash_value(salt, value, key, ignored_keys);
    }
}

fn hash_value(salt: &Salt, value: &mut Value, key: &str, ignored_keys: &[String]) {
    match value {
        Value::String(s) => {
            if !ignored_keys.iter().any(|k| k == key) {
                *s = salt.hash(s);
            }
        }
        Value::Array(items) => {
            for item in items {
                hash_value(salt, item, key, ignored_keys);
            }
        }
        Value::Object(map) => hash_map(salt, map, ignored_keys),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Vault's list-response elision: a top-level `keys` array of strings becomes
/// its length and a `key_info` object becomes its number of entries; values
/// of other shapes are left as they are.
pub fn elide_list_response(data: &mut Map<String, Value>) {
    if let Some(keys) = data.get_mut("keys")
        && let Value::Array(items) = keys
        && items.iter().all(Value::is_string)
    {
        *keys = Value::from(items.len());
    }
    if let Some(info) = data.get_mut("key_info")
        && let Value::Object(map) = info
    {
        *info = Value::from(map.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn salt() -> Salt {
        Salt::from_bytes(&[9u8; 32]).unwrap()
    }

    fn hmac(s: &str) -> String {
        format!(
            "hmac-sha256:{}",
            hex::encode(coffer_crypto::hmac_sha256(&[9u8; 32], s.as_bytes()))
        )
    }

    #[test]
    fn hashes_nested_values_not_keys() {
        let mut data = json!({
            "password": "p1",
            "nested": {"inner": "p2", "deeper": {"list": ["a", 1, true, null, {"k": "b"}]}},
            "count": 5,
            "flag": false,
        })
        .as_object()
        .unwrap()
        .clone();
        hash_map(&salt(), &mut data, &[]);
        assert_eq!(
            Value::Object(data),
            json!({
                "password": hmac("p1"),
                "nested": {"inner": hmac("p2"), "deeper": {"list": [hmac("a"), 1, true, null, {"k": hmac("b")}]}},
                "count": 5,
                "flag": false,
            })
        );
    }

    #[test]
    fn ignored_keys_apply_to_the_nearest_key() {
        let mut data = json!({
            "public": "clear",
            "list": ["x"],
            "nested": {"public": "also clear", "secret": "s"},
        })
        .as_object()
        .unwrap()
        .clone();
        hash_map(&salt(), &mut data, &["public".into(), "list".into()]);
        assert_eq!(data["public"], "clear");
        assert_eq!(data["list"], json!(["x"]));
        assert_eq!(data["nested"]["public"], "also clear");
        assert_eq!(data["nested"]["secret"], hmac("s"));
    }

    #[test]
    fn elision_counts_keys_and_key_info() {
        let mut data =
            json!({"keys": ["a", "b", "c"], "key_info": {"a": {}, "b": {}}, "other": "x"})
                .as_object()
                .unwrap()
                .clone();
        elide_list_response(&mut data);
        assert_eq!(
            Value::Object(data),
            json!({"keys": 3, "key_info": 2, "other": "x"})
        );
        let mut odd = json!({"keys": "not a list", "key_info": [1]})
            .as_object()
            .unwrap()
            .clone();
        elide_list_response(&mut odd);
        assert_eq!(
            Value::Object(odd),
            json!({"keys": "not a list", "key_info": [1]})
        );
    }
}
