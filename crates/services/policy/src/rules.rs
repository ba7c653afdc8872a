//! Path rules: what one `path "..." { ... }` block says, validated the way
//! Vault's `parsePaths` validates it.

use crate::capability::{Capability, CapabilitySet};
use crate::error::{PolicyError, Position};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// One path block as read from HCL or JSON, before validation.
#[derive(Debug)]
pub(crate) struct RawBlock {
    pub path: String,
    pub at: Option<Position>,
    pub attrs: Vec<RawAttr>,
}

/// One `key = value` inside a path block.
#[derive(Debug)]
pub(crate) struct RawAttr {
    pub key: String,
    pub at: Option<Position>,
    pub value: Value,
}

/// Keys Vault accepts inside a path block. `comment`, `mfa_methods`,
/// `control_group` and `subscribe_event_types` are accepted and ignored
/// (Enterprise or event features Coffer does not enforce).
const VALID_KEYS: [&str; 11] = [
    "comment",
    "policy",
    "capabilities",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
    "subscribe_event_types",
];

/// A validated rule for one path pattern.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PathRule {
    /// The pattern as written, without a leading `/` (e.g. `secret/data/*`).
    pub path: String,
    /// Granted capabilities; exactly `{deny}` when the rule denies.
    pub capabilities: CapabilitySet,
    /// Allowed parameters (keys lowercased); an empty list allows any value.
    pub allowed_parameters: BTreeMap<String, Vec<Value>>,
    /// Denied parameters (keys lowercased); an empty list denies any value.
    pub denied_parameters: BTreeMap<String, Vec<Value>>,
    /// Parameters that must be present.
    pub required_parameters: Vec<String>,
    /// Smallest response-wrapping TTL a client may ask for.
    pub min_wrapping_ttl: Option<Duration>,
    /// Largest response-wrapping TTL a client may ask for.
    pub max_wrapping_ttl: Option<Duration>,
    /// Whether the path uses identity templating (`{{...}}`).
    pub templated: bool,
}

impl PathRule {
    fn new(path: String, templated: bool) -> PathRule {
        PathRule {
            path,
            capabilities: CapabilitySet::EMPTY,
            allowed_parameters: BTreeMap::new(),
            denied_parameters: BTreeMap::new(),
            required_parameters: Vec::new(),
            min_wrapping_ttl: None,
            max_wrapping_ttl: None,
            templated,
        }
    }
}

/// Vault's templating validity check: every `{{` has a matching `}}` and no
/// `}}` comes first. Returns whether the path is templated.
pub(crate) fn check_templating(path: &str) -> Result<bool, ()> {
    let mut pieces = path.split("{{");
    if pieces.next().is_some_and(|first| first.contains("}}")) {
        return Err(());
    }
    let mut templated = false;
    for piece in pieces {
        if piece.matches("}}").count() != 1 {
            return Err(());
        }
        templated = true;
    }
    Ok(templated)
}

/// Validates one raw block into a rule, in Vault's order of checks.
pub(crate) fn build_rule(block: RawBlock) -> Result<PathRule, PolicyError> {
    let RawBlock { path, at, attrs } = block;
    let templated = check_templating(&path).map_err(|()| PolicyError::InvalidPath {
        path: path.clone(),
        reason: "failed to validate policy templating: unbalanced templating characters",
        at,
    })?;
    if let Some(bad) = attrs.iter().find(|a| !VALID_KEYS.contains(&a.key.as_str())) {
        return Err(PolicyError::InvalidKey {
            path: Some(path),
            key: bad.key.clone(),
            at: bad.at,
        });
    }
    let stripped = path.strip_prefix('/').unwrap_or(&path).to_owned();
    if stripped.contains("+*") {
        return Err(PolicyError::InvalidPath {
            path: stripped,
            reason: "invalid use of wildcards ('+*' is forbidden)",
            at,
        });
    }
    let get = |key: &str| attrs.iter().find(|a| a.key == key);
    let invalid = |attr: &RawAttr, reason: String| PolicyError::InvalidValue {
        path: path.clone(),
        key: attr.key.clone(),
        reason,
        at: attr.at,
    };

    let mut names: Vec<String> = match get("capabilities") {
        Some(attr) => string_list(&attr.value)
            .ok_or_else(|| invalid(attr, "expected a list of strings".into()))?,
        None => Vec::new(),
    };
    if let Some(attr) = get("policy") {
        let legacy = attr
            .value
            .as_str()
            .ok_or_else(|| invalid(attr, "expected a string".into()))?;
        let extra: &[&str] = match legacy {
            "deny" => {
                names = vec!["deny".into()];
                &[]
            }
            "read" => &["read", "list"],
            "write" => &["create", "read", "update", "delete", "list"],
            "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
            other => {
                return Err(PolicyError::InvalidLegacyPolicy {
                    path,
                    policy: other.to_owned(),
                    at: attr.at,
                });
            }
        };
        names.extend(extra.iter().map(|s| (*s).to_owned()));
    }

    let mut rule = PathRule::new(stripped, templated);
    for name in &names {
        match Capability::from_name(name) {
            // A deny ends the block: nothing else in it is read (as in Vault).
            Some(Capability::Deny) => {
                rule.capabilities = CapabilitySet::deny();
                return Ok(rule);
            }
            Some(cap) => rule.capabilities.insert(cap),
            None => {
                return Err(PolicyError::InvalidCapability {
                    path,
                    capability: name.clone(),
                    at: get("capabilities").and_then(|a| a.at),
                });
            }
        }
    }

    for (key, target) in [
        ("allowed_parameters", &mut rule.allowed_parameters),
        ("denied_parameters", &mut rule.denied_parameters),
    ] {
        if let Some(attr) = get(key) {
            *target = parameter_map(&attr.value).map_err(|reason| invalid(attr, reason))?;
        }
    }
    for (key, target) in [
        ("min_wrapping_ttl", &mut rule.min_wrapping_ttl),
        ("max_wrapping_ttl", &mut rule.max_wrapping_ttl),
    ] {
        if let Some(attr) = get(key) {
            let ttl = coffer_types::duration::parse_duration_value(&attr.value)
                .map_err(|e| invalid(attr, format!("error parsing {key}: {e}")))?;
            *target = Some(ttl).filter(|d| !d.is_zero());
        }
    }
    if let (Some(min), Some(max)) = (rule.min_wrapping_ttl, rule.max_wrapping_ttl)
        && max < min
        && let Some(attr) = get("max_wrapping_ttl")
    {
        let reason = "max_wrapping_ttl cannot be less than min_wrapping_ttl";
        return Err(invalid(attr, reason.into()));
    }
    if let Some(attr) = get("required_parameters") {
        rule.required_parameters = string_list(&attr.value)
            .ok_or_else(|| invalid(attr, "expected a list of strings".into()))?;
    }
    Ok(rule)
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Reads `{ "key" = [values...] }`, lowercasing keys and checking them the
/// way Vault's `validateParameter` does.
fn parameter_map(value: &Value) -> Result<BTreeMap<String, Vec<Value>>, String> {
    let empty = Map::new();
    let object = match value {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err("expected an object of parameter lists".into()),
    };
    let mut out = BTreeMap::new();
    for (key, values) in object {
        if key.starts_with('/') {
            return Err(format!(
                "parameter key {key:?}: JSON pointer parameter keys are not supported"
            ));
        }
        if key.contains('*') && key != "*" {
            return Err(format!(
                "parameter key {key:?} cannot contain non-tail wildcards"
            ));
        }
        let Value::Array(list) = values else {
            return Err(format!("parameter {key:?}: expected a list of values"));
        };
        out.insert(key.to_lowercase(), list.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(attrs: Vec<(&str, Value)>) -> RawBlock {
        RawBlock {
            path: "/secret/*".into(),
            at: None,
            attrs: attrs
                .into_iter()
                .map(|(k, v)| RawAttr {
                    key: k.into(),
                    at: None,
                    value: v,
                })
                .collect(),
        }
    }

    #[test]
    fn templating_check_matches_vault() {
        assert_eq!(
            check_templating("secret/{{identity.entity.id}}/*"),
            Ok(true)
        );
        assert_eq!(check_templating("secret/plain"), Ok(false));
        assert!(check_templating("secret/}}x{{y").is_err());
        assert!(check_templating("secret/{{x").is_err());
        assert!(check_templating("secret/{{x}}}}").is_err());
    }

    #[test]
    fn legacy_policies_expand() {
        let rule = build_rule(block(vec![("policy", json!("write"))])).unwrap();
        assert_eq!(rule.path, "secret/*");
        let names: Vec<_> = rule.capabilities.iter().map(Capability::as_str).collect();
        assert_eq!(names, ["create", "read", "update", "delete", "list"]);
        let rule = build_rule(block(vec![
            ("capabilities", json!(["sudo"])),
            ("policy", json!("read")),
        ]))
        .unwrap();
        assert_eq!(rule.capabilities.iter().count(), 3);
    }

    #[test]
    fn deny_short_circuits_the_block() {
        let rule = build_rule(block(vec![
            ("capabilities", json!(["deny", "bogus"])),
            ("min_wrapping_ttl", json!("not a duration")),
        ]))
        .unwrap();
        assert_eq!(rule.capabilities, CapabilitySet::deny());
        assert_eq!(rule.min_wrapping_ttl, None);
    }

    #[test]
    fn parameters_and_ttls() {
        let rule = build_rule(block(vec![
            ("capabilities", json!(["create"])),
            ("allowed_parameters", json!({"Foo": [], "*": []})),
            ("denied_parameters", json!({"bar": ["zip"]})),
            ("required_parameters", json!(["Foo"])),
            ("min_wrapping_ttl", json!("1s")),
            ("max_wrapping_ttl", json!(90)),
        ]))
        .unwrap();
        assert_eq!(
            rule.allowed_parameters.keys().collect::<Vec<_>>(),
            ["*", "foo"]
        );
        assert_eq!(rule.denied_parameters["bar"], vec![json!("zip")]);
        assert_eq!(rule.required_parameters, ["Foo"]);
        assert_eq!(rule.min_wrapping_ttl, Some(Duration::from_secs(1)));
        assert_eq!(rule.max_wrapping_ttl, Some(Duration::from_secs(90)));
    }

    #[test]
    fn invalid_values_are_rejected() {
        let cases = [
            ("capabilities", json!("read"), "expected a list of strings"),
            (
                "allowed_parameters",
                json!({"a*": []}),
                "non-tail wildcards",
            ),
            ("denied_parameters", json!({"/a/b": []}), "JSON pointer"),
            ("allowed_parameters", json!({"a": "x"}), "expected a list"),
            (
                "min_wrapping_ttl",
                json!("soon"),
                "error parsing min_wrapping_ttl",
            ),
            ("policy", json!(["read"]), "expected a string"),
        ];
        for (key, value, needle) in cases {
            let err = build_rule(block(vec![(key, value)])).unwrap_err();
            assert!(err.to_string().contains(needle), "{key}: {err}");
        }
        let err = build_rule(block(vec![
            ("min_wrapping_ttl", json!("2m")),
            ("max_wrapping_ttl", json!("1m")),
        ]));
        assert!(err.unwrap_err().to_string().contains("cannot be less than"));
    }
}
