//! Secret-id metadata parsing, as Vault's `strutil.ParseArbitraryKeyValues`:
//! a JSON object of strings, the same base64-encoded, or a comma-separated
//! list of `key=value` pairs (optionally base64-encoded).

use std::collections::BTreeMap;

use base64::Engine;

use crate::error::AppRoleError;

/// Parses the `metadata` field of a secret-id request. An empty string is
/// no metadata.
pub(crate) fn parse(input: &str) -> Result<BTreeMap<String, String>, AppRoleError> {
    let input = input.trim();
    let mut out = BTreeMap::new();
    if input.is_empty() {
        return Ok(out);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(input)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let text = decoded.as_deref().unwrap_or(input);
    match serde_json::from_str::<Option<BTreeMap<String, String>>>(text) {
        Ok(parsed) => out.extend(parsed.unwrap_or_default()),
        Err(_) => parse_key_values(text, &mut out)?,
    }
    if let Some((key, _)) = out.iter().find(|(k, v)| !k.is_empty() && v.is_empty()) {
        return Err(AppRoleError::Metadata(format!(
            "invalid value for key {key:?}"
        )));
    }
    Ok(out)
}

/// Vault's `ParseKeyValues` over `ParseDedupLowercaseAndSortStrings`: the
/// pairs are trimmed, lowercased, deduplicated and each must be exactly
/// `key=value` with both sides non-empty.
fn parse_key_values(text: &str, out: &mut BTreeMap<String, String>) -> Result<(), AppRoleError> {
    let fail =
        |reason: String| AppRoleError::Metadata(format!("failed to parse the input: {reason}"));
    let mut pairs: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    pairs.sort();
    pairs.dedup();
    for pair in pairs {
        let shards: Vec<&str> = pair.split('=').collect();
        let [key, value] = shards.as_slice() else {
            return Err(fail("invalid <key,value> format".into()));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            return Err(fail(format!(
                "invalid <key,value> pair: key: {key:?} value: {value:?}"
            )));
        }
        out.insert(key.to_owned(), value.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn accepts_vaults_forms() {
        assert!(parse("").unwrap().is_empty());
        assert_eq!(
            parse(r#"{ "tag1": "production" }"#).unwrap(),
            map(&[("tag1", "production")])
        );
        // base64 of {"a":"B"}
        assert_eq!(parse("eyJhIjoiQiJ9").unwrap(), map(&[("a", "B")]));
        assert_eq!(
            parse("Env=Prod, team=core").unwrap(),
            map(&[("env", "prod"), ("team", "core")])
        );
        assert!(parse("null").unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [r#"{"a": 1}"#, "a=b=c", "a=", r#"{"a": ""}"#, "justtext"] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.to_string().starts_with("failed to parse metadata: "),
                "{bad}: {err}"
            );
        }
    }
}
