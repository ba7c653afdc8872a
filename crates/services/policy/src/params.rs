//! Parameter constraints (`allowed_parameters`, `denied_parameters`,
//! `required_parameters`): compiled values, Vault's merge rules and checks.

use crate::authorization::DenyReason;
use crate::work;
use coffer_types::glob::EdgeGlob;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One value of an allowed/denied list, compiled.
#[derive(Clone, Debug, PartialEq)]
enum ParamValue {
    Null,
    /// Vault's `GlobbedStringsMatch`: `*` only at the ends; the string as
    /// written is kept for [`ParamConstraints::export`].
    Glob(EdgeGlob, String),
    Other(Value),
}

impl ParamValue {
    fn compile(value: &Value) -> ParamValue {
        match value {
            Value::Null => ParamValue::Null,
            Value::String(s) => ParamValue::Glob(EdgeGlob::compile(s), s.clone()),
            other => ParamValue::Other(other.clone()),
        }
    }

    /// Vault's `valueInParameterList` for a single list element.
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (ParamValue::Null, Value::Null) => true,
            (ParamValue::Null, _) | (_, Value::Null) => false,
            (ParamValue::Glob(g, _), Value::String(s)) => g.matches(s),
            (ParamValue::Glob(..), _) => false,
            (ParamValue::Other(e), v) => e == v,
        }
    }

    /// The value as the policy wrote it.
    fn to_value(&self) -> Value {
        match self {
            ParamValue::Null => Value::Null,
            ParamValue::Glob(_, s) => Value::String(s.clone()),
            ParamValue::Other(v) => v.clone(),
        }
    }

    fn matches_str(&self, s: &str) -> bool {
        matches!(self, ParamValue::Glob(g, _) if g.matches(s))
    }
}

fn in_list(v: &Value, list: &[ParamValue]) -> bool {
    list.iter().any(|el| el.matches(v))
}

fn str_in_list(s: &str, list: &[ParamValue]) -> bool {
    list.iter().any(|el| el.matches_str(s))
}

/// Vault's `ParseCommaStringSlice`: `""` gives no element.
fn comma_parts(s: &str) -> impl Iterator<Item = &str> {
    s.split(',')
        .map(str::trim)
        .take(if s.is_empty() { 0 } else { usize::MAX })
}

/// Vault's `valueInAllowedParameterList` (non-legacy mode): arrays and
/// comma-separated strings pass when every element is allowed.
fn allowed_value(v: &Value, list: &[ParamValue]) -> bool {
    if list.is_empty() || in_list(v, list) {
        return true;
    }
    match v {
        Value::Array(items) => items.iter().all(|item| in_list(item, list)),
        Value::String(s) => comma_parts(s).all(|part| str_in_list(part, list)),
        _ => false,
    }
}

/// Vault's `valueInDeniedParameterList`: any denied element denies.
fn denied_value(v: &Value, list: &[ParamValue]) -> bool {
    if list.is_empty() || in_list(v, list) {
        return true;
    }
    match v {
        Value::Array(items) => items.iter().any(|item| in_list(item, list)),
        Value::String(s) => comma_parts(s).any(|part| str_in_list(part, list)),
        _ => false,
    }
}

fn lowercase(key: &str) -> Cow<'_, str> {
    if key.chars().any(char::is_uppercase) {
        Cow::Owned(key.to_lowercase())
    } else {
        Cow::Borrowed(key)
    }
}

type ParamMap = HashMap<String, Vec<ParamValue>>;

/// [`ParamConstraints`] as plain values.
pub(crate) struct ExportedParams {
    pub(crate) allowed: BTreeMap<String, Vec<Value>>,
    pub(crate) denied: BTreeMap<String, Vec<Value>>,
    pub(crate) required: Vec<String>,
}

/// The merged parameter constraints of one path pattern.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ParamConstraints {
    allowed: ParamMap,
    denied: ParamMap,
    /// Lowercased, deduplicated, in the order first written.
    required: Vec<String>,
    /// The names in `required`, so that merging N rules for one path
    /// stays linear (a scan of `required` per name was quadratic).
    required_seen: HashSet<String>,
}

fn compile_map(map: &BTreeMap<String, Vec<Value>>) -> ParamMap {
    map.iter()
        .map(|(k, vs)| (k.clone(), vs.iter().map(ParamValue::compile).collect()))
        .collect()
}

/// Vault's merge of allowed/denied maps: an empty list on either side wins
/// (any value); otherwise the lists are concatenated.
fn merge_map(into: &mut ParamMap, from: ParamMap) {
    for (key, values) in from {
        match into.get_mut(&key) {
            Some(existing) if values.is_empty() || existing.is_empty() => existing.clear(),
            Some(existing) => existing.extend(values),
            None => {
                into.insert(key, values);
            }
        }
    }
}

impl ParamConstraints {
    /// Adds the constraints of one more rule for the same pattern.
    pub(crate) fn merge(
        &mut self,
        allowed: &BTreeMap<String, Vec<Value>>,
        denied: &BTreeMap<String, Vec<Value>>,
        required: &[String],
    ) {
        merge_map(&mut self.allowed, compile_map(allowed));
        merge_map(&mut self.denied, compile_map(denied));
        for p in required {
            let p = p.to_lowercase();
            work::add(1);
            if !self.required_seen.contains(&p) {
                self.required_seen.insert(p.clone());
                self.required.push(p);
            }
        }
    }

    /// The merged constraints as written values: the allowed and denied
    /// maps (keys lowercased) and the required names in the order first
    /// written, for Vault's `sys/internal/ui/resultant-acl`.
    pub(crate) fn export(&self) -> ExportedParams {
        let values = |map: &ParamMap| -> BTreeMap<String, Vec<Value>> {
            map.iter()
                .map(|(k, vs)| (k.clone(), vs.iter().map(ParamValue::to_value).collect()))
                .collect()
        };
        ExportedParams {
            allowed: values(&self.allowed),
            denied: values(&self.denied),
            required: self.required.clone(),
        }
    }

    /// The required parameter names, in the order first written.
    #[cfg(test)]
    pub(crate) fn required_names(&self) -> &[String] {
        &self.required
    }

    /// Drops allowed/denied parameters (a deny rule took over).
    pub(crate) fn clear_values(&mut self) {
        self.allowed.clear();
        self.denied.clear();
    }

    /// Checks request data against the constraints, in Vault's order.
    pub(crate) fn check(&self, data: Option<&Map<String, Value>>) -> Result<(), DenyReason> {
        for p in &self.required {
            if !data.is_some_and(|d| d.contains_key(p)) {
                return Err(DenyReason::MissingRequiredParameter(p.clone()));
            }
        }
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        if !self.denied.is_empty() {
            if self.denied.contains_key("*") {
                return Err(DenyReason::DeniedParameter("*".into()));
            }
            for (key, value) in data {
                if let Some(list) = self.denied.get(&*lowercase(key))
                    && denied_value(value, list)
                {
                    return Err(DenyReason::DeniedParameter(key.clone()));
                }
            }
        }
        if self.allowed.is_empty() {
            return Ok(());
        }
        let allowed_all = self.allowed.contains_key("*");
        if allowed_all && self.allowed.len() == 1 {
            return Ok(());
        }
        for (key, value) in data {
            let ok = match self.allowed.get(&*lowercase(key)) {
                Some(list) => allowed_value(value, list),
                None => allowed_all,
            };
            if !ok {
                return Err(DenyReason::ParameterNotAllowed(key.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn constraints(allowed: Value, denied: Value, required: &[&str]) -> ParamConstraints {
        let to_map =
            |v: Value| -> BTreeMap<String, Vec<Value>> { serde_json::from_value(v).unwrap() };
        let mut c = ParamConstraints::default();
        let required: Vec<String> = required.iter().map(|s| s.to_string()).collect();
        c.merge(&to_map(allowed), &to_map(denied), &required);
        c
    }

    fn ok(c: &ParamConstraints, data: Value) -> bool {
        c.check(data.as_object()).is_ok()
    }

    #[test]
    fn documented_allowed_parameter_examples() {
        // "bar" = [] : only bar, any value.
        let c = constraints(json!({"bar": []}), json!({}), &[]);
        assert!(ok(&c, json!({"bar": "anything"})));
        assert!(!ok(&c, json!({"bar": "x", "other": 1})));
        // "bar" = ["zip", "zap"]
        let c = constraints(json!({"bar": ["zip", "zap"]}), json!({}), &[]);
        assert!(ok(&c, json!({"bar": "zap"})));
        assert!(!ok(&c, json!({"bar": "zoo"})));
        assert!(ok(&c, json!({"bar": ["zip", "zap"]})));
        assert!(ok(&c, json!({"bar": "zip,zap"})));
        assert!(!ok(&c, json!({"bar": "zip,zoo"})));
        // With "*" = [] any other parameter is allowed; bar stays restricted.
        let c = constraints(json!({"bar": ["zip", "zap"], "*": []}), json!({}), &[]);
        assert!(ok(&c, json!({"bar": "zip", "other": true})));
        assert!(!ok(&c, json!({"bar": "nope"})));
        // Value globs.
        let c = constraints(json!({"bar": ["foo-*"]}), json!({}), &[]);
        assert!(ok(&c, json!({"bar": "foo-123"})));
        assert!(!ok(&c, json!({"bar": "bar-123"})));
        // Keys are case-insensitive; no data is always fine.
        assert!(ok(&c, json!({"BAR": "foo-1"})));
        assert!(c.check(None).is_ok());
    }

    #[test]
    fn documented_denied_and_required_examples() {
        let c = constraints(json!({}), json!({"bar": []}), &[]);
        assert!(ok(&c, json!({"foo": 1})));
        assert!(!ok(&c, json!({"bar": "x"})));
        let c = constraints(json!({}), json!({"bar": ["zip", "zap"]}), &[]);
        assert!(ok(&c, json!({"bar": "zoo"})));
        assert!(!ok(&c, json!({"bar": "zip"})));
        assert!(!ok(&c, json!({"bar": ["ok", "zap"]})));
        assert!(!ok(&c, json!({"bar": "ok, zap"})));
        let c = constraints(json!({}), json!({"*": []}), &[]);
        assert!(!ok(&c, json!({"anything": 1})));
        assert!(ok(&c, json!({})));
        // Denied wins over allowed.
        let c = constraints(json!({"bar": []}), json!({"bar": ["zip"]}), &[]);
        assert!(!ok(&c, json!({"bar": "zip"})));
        let c = constraints(json!({}), json!({}), &["Bar", "baz"]);
        assert!(ok(&c, json!({"bar": 1, "baz": 2})));
        assert_eq!(
            c.check(json!({"bar": 1}).as_object()),
            Err(DenyReason::MissingRequiredParameter("baz".into()))
        );
        assert!(c.check(None).is_err());
    }

    #[test]
    fn non_string_values_compare_exactly() {
        let c = constraints(json!({"n": [5, true, null]}), json!({}), &[]);
        assert!(ok(&c, json!({"n": 5})));
        assert!(ok(&c, json!({"n": null})));
        assert!(!ok(&c, json!({"n": 6})));
        assert!(!ok(&c, json!({"n": "5"})));
        // Vault quirk kept: an empty string splits into no elements.
        assert!(ok(&c, json!({"n": ""})));
    }

    #[test]
    fn merging_follows_vault() {
        let mut c = constraints(
            json!({"a": ["x"], "b": ["y"], "*": []}),
            json!({"d": ["1"]}),
            &["r"],
        );
        let allowed: BTreeMap<String, Vec<Value>> =
            serde_json::from_value(json!({"a": ["z"], "b": []})).unwrap();
        c.merge(&allowed, &BTreeMap::new(), &["r".into(), "s".into()]);
        assert!(ok(&c, json!({"a": "z", "b": "anything", "r": 1, "s": 1})));
        assert!(ok(&c, json!({"a": "x", "r": 1, "s": 1})));
        assert!(!ok(&c, json!({"a": "q", "r": 1, "s": 1})));
        assert_eq!(c.required, ["r", "s"]);
        c.clear_values();
        assert!(ok(&c, json!({"zzz": 1, "r": 1, "s": 1})));
    }
}
