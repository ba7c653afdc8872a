//! Vault's table rendering of a response envelope, a data map and a list, and
//! its `-field` lookup (`RawField`).

use serde_json::{Map, Value};

use coffer_client::Secret;

use super::table;
use super::value::{cell, go_quoted_list, go_value, human_duration, wrap_with_padding};

/// The rows Vault's `TableFormatter.OutputSecret` prints, or `None` when there
/// is nothing to print.
pub fn secret_table(secret: &Secret) -> Option<String> {
    let mut rows: Vec<(String, String)> = Vec::new();
    if secret.lease_duration > 0 {
        if secret.lease_id.is_empty() {
            rows.push((
                "refresh_interval".into(),
                human_duration(secret.lease_duration),
            ));
        } else {
            rows.push(("lease_id".into(), secret.lease_id.clone()));
            rows.push((
                "lease_duration".into(),
                human_duration(secret.lease_duration),
            ));
            rows.push(("lease_renewable".into(), secret.renewable.to_string()));
        }
    }
    if let Some(auth) = &secret.auth {
        if let Some(mfa) = &auth.mfa_requirement {
            let id = mfa.get("mfa_request_id").map(go_value).unwrap_or_default();
            rows.push(("mfa_request_id".into(), id));
        } else {
            rows.push(("token".into(), auth.client_token.expose().to_owned()));
            rows.push(("token_accessor".into(), auth.accessor.clone()));
            let duration = if auth.lease_duration == 0 {
                "∞".to_owned()
            } else {
                human_duration(auth.lease_duration)
            };
            rows.push(("token_duration".into(), duration));
            rows.push(("token_renewable".into(), auth.renewable.to_string()));
            rows.push((
                "token_policies".into(),
                go_quoted_list(&auth.token_policies),
            ));
            rows.push((
                "identity_policies".into(),
                go_quoted_list(&auth.identity_policies),
            ));
            rows.push(("policies".into(), go_quoted_list(&auth.policies)));
            if let Some(meta) = &auth.metadata {
                for (k, v) in sorted(meta) {
                    rows.push((format!("token_meta_{k}"), go_value(v)));
                }
            }
        }
    }
    if let Some(wrap) = &secret.wrap_info {
        rows.push(("wrapping_token:".into(), wrap.token.expose().to_owned()));
        rows.push(("wrapping_accessor:".into(), wrap.accessor.clone()));
        rows.push(("wrapping_token_ttl:".into(), human_duration(wrap.ttl)));
        rows.push((
            "wrapping_token_creation_time:".into(),
            wrap.creation_time.clone(),
        ));
        rows.push((
            "wrapping_token_creation_path:".into(),
            wrap.creation_path.clone(),
        ));
        if !wrap.wrapped_accessor.is_empty() {
            rows.push(("wrapped_accessor:".into(), wrap.wrapped_accessor.clone()));
        }
    }
    if let Some(data) = &secret.data {
        rows.extend(sorted(data).map(|(k, v)| (k.clone(), cell(k, v))));
    }
    (!rows.is_empty()).then(|| table::key_value(rows))
}

/// Vault's `OutputMap`: a sorted `Key`/`Value` table of a data map, or `None`
/// when the map is empty.
pub fn map_table(data: &Map<String, Value>) -> Option<String> {
    let rows: Vec<(String, String)> = sorted(data).map(|(k, v)| (k.clone(), cell(k, v))).collect();
    (!rows.is_empty()).then(|| table::key_value(rows))
}

/// Vault's `OutputList`: the sorted `keys` under a `Keys` header, or `None`
/// when the answer has no keys.
pub fn list_table(secret: &Secret) -> Option<String> {
    let mut keys = list_keys(secret)?;
    keys.sort();
    Some(table::table(
        &["Keys"],
        keys.into_iter().map(|k| vec![k]).collect(),
    ))
}

/// The `keys` of a LIST answer.
pub fn list_keys(secret: &Secret) -> Option<Vec<String>> {
    let keys = secret.data_field("keys")?.as_array()?;
    let keys: Vec<String> = keys.iter().map(go_value).collect();
    (!keys.is_empty()).then_some(keys)
}

/// The warnings block Vault prints to stderr before a table.
pub fn warnings_block(secret: &Secret) -> Option<String> {
    let warnings = secret.warnings.as_ref().filter(|w| !w.is_empty())?;
    let mut out = String::from("WARNING! The following warnings were returned from Vault:\n");
    for w in warnings {
        out.push('\n');
        out.push_str(&wrap_with_padding(&format!("* {w}"), 2));
        out.push('\n');
    }
    Some(out)
}

/// Vault's `RawField`: the value `-field=NAME` prints.
pub fn raw_field(secret: &Secret, field: &str) -> Option<Value> {
    let data = |name: &str| secret.data_field(name).cloned();
    if let Some(auth) = &secret.auth {
        return match field {
            "token" => Some(Value::from(auth.client_token.expose())),
            "token_accessor" => Some(Value::from(auth.accessor.as_str())),
            "token_duration" => Some(Value::from(auth.lease_duration)),
            "token_renewable" => Some(Value::from(auth.renewable)),
            "token_policies" => Some(Value::from(auth.token_policies.clone())),
            "identity_policies" => Some(Value::from(auth.identity_policies.clone())),
            "policies" => Some(Value::from(auth.policies.clone())),
            other => data(other),
        };
    }
    if let Some(wrap) = &secret.wrap_info {
        return match field {
            "wrapping_token" => Some(Value::from(wrap.token.expose())),
            "wrapping_accessor" => Some(Value::from(wrap.accessor.as_str())),
            "wrapping_token_ttl" => Some(Value::from(wrap.ttl)),
            "wrapping_token_creation_time" => Some(Value::from(wrap.creation_time.as_str())),
            "wrapping_token_creation_path" => Some(Value::from(wrap.creation_path.as_str())),
            "wrapped_accessor" => Some(Value::from(wrap.wrapped_accessor.as_str())),
            other => data(other),
        };
    }
    match field {
        "lease_duration" | "refresh_interval" => Some(Value::from(secret.lease_duration)),
        "lease_id" => Some(Value::from(secret.lease_id.as_str())),
        "request_id" => Some(Value::from(secret.request_id.as_str())),
        "renewable" => Some(Value::from(secret.renewable)),
        "data" => data("data").or_else(|| secret.data.clone().map(Value::Object)),
        other => data(other),
    }
    .filter(|v| !v.is_null())
}

/// Vault's `padEqualSigns`: `== Header ==` about `total` characters wide.
pub fn pad_equal_signs(header: &str, total: usize) -> String {
    let mut signs = total as i64 - (header.len() as i64 + 2);
    if signs <= 0 {
        signs = 4;
    }
    if signs % 2 != 0 {
        signs += 1;
    }
    let side = "=".repeat((signs / 2) as usize);
    format!("{side} {header} {side}")
}

/// Vault's `getHeaderForMap`: a section header as wide as the map's table.
pub fn header_for_map(header: &str, data: &Map<String, Value>) -> String {
    let max_key = data.keys().map(String::len).max().unwrap_or(0);
    pad_equal_signs(header, max_key + 4 + 5)
}

/// Vault's `outputPath`: a titled path block (`== Secret Path ==`).
pub fn path_block(path: &str, title: &str) -> String {
    format!("{}\n{path}\n", pad_equal_signs(title, path.len()))
}

fn sorted(map: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.into_iter()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secret(v: Value) -> Secret {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn kv_v1_style_secret_with_refresh_interval() {
        let s = secret(json!({"lease_duration": 2764800, "data": {"value": "itsasecret"}}));
        assert_eq!(
            secret_table(&s).unwrap(),
            "Key                 Value\n---                 -----\nrefresh_interval    768h\nvalue               itsasecret"
        );
    }

    #[test]
    fn auth_rows_and_token_field() {
        let s = secret(json!({"auth": {"client_token": "hvs.x", "accessor": "acc",
            "lease_duration": 0, "renewable": false, "policies": ["root"],
            "token_policies": ["root"], "metadata": null}}));
        let out = secret_table(&s).unwrap();
        assert!(out.contains("token                hvs.x"));
        assert!(out.contains("token_duration       ∞"));
        assert!(out.contains(r#"token_policies       ["root"]"#));
        assert!(out.contains("identity_policies    []"));
        assert_eq!(raw_field(&s, "token"), Some(json!("hvs.x")));
        assert_eq!(raw_field(&s, "policies"), Some(json!(["root"])));
        assert_eq!(raw_field(&s, "nope"), None);
    }

    #[test]
    fn data_field_lookup_and_nothing_to_print() {
        let s = secret(json!({"request_id": "r1", "data": {"data": {"a": 1}, "x": null}}));
        assert_eq!(raw_field(&s, "request_id"), Some(json!("r1")));
        assert_eq!(raw_field(&s, "data"), Some(json!({"a": 1})));
        assert_eq!(raw_field(&s, "x"), None);
        assert!(secret_table(&Secret::default()).is_none());
    }

    #[test]
    fn lists_are_sorted_under_keys() {
        let s = secret(json!({"data": {"keys": ["b", "a/"]}}));
        assert_eq!(list_table(&s).unwrap(), "Keys\n----\na/\nb");
        assert!(list_table(&secret(json!({"data": {"keys": []}}))).is_none());
    }

    #[test]
    fn section_headers_match_vaults_examples() {
        let data = json!({"passcode": "x"});
        assert_eq!(
            header_for_map("Data", data.as_object().unwrap()),
            "====== Data ======"
        );
        let meta = json!({"created_time": "", "custom_metadata": null, "deletion_time": "",
                          "destroyed": false, "version": 1});
        assert_eq!(
            header_for_map("Metadata", meta.as_object().unwrap()),
            "======= Metadata ======="
        );
        assert_eq!(
            path_block("secret/data/creds", "Secret Path"),
            "== Secret Path ==\nsecret/data/creds\n"
        );
        assert_eq!(pad_equal_signs("Long Header", 3), "== Long Header ==");
    }

    #[test]
    fn warnings_are_listed() {
        let s = secret(json!({"warnings": ["careful"]}));
        assert_eq!(
            warnings_block(&s).unwrap(),
            "WARNING! The following warnings were returned from Vault:\n\n  * careful\n"
        );
        assert!(warnings_block(&Secret::default()).is_none());
    }
}
