//! Stanzas in their JSON form.
//!
//! HCL is turned into JSON following HCL's JSON specification, and a JSON
//! configuration is already in that form, so both are read the same way. A
//! labelled stanza such as `listener "tcp" { ... }` appears as
//! `{"listener": {"tcp": {...}}}`; repeated stanzas as arrays at either level
//! (`{"listener": {"tcp": [{...}, {...}]}}` or
//! `{"listener": [{"tcp": {...}}, {"tcp": {...}}]}`).

use serde_json::{Map, Value};

use crate::ConfigError;

/// One labelled stanza: its type label and its body.
pub(crate) struct Labelled<'a> {
    /// The label (`"tcp"` in `listener "tcp"`).
    pub(crate) label: &'a str,
    /// The stanza's settings.
    pub(crate) body: &'a Map<String, Value>,
}

/// Every labelled stanza named `stanza` held by `value`, in order.
pub(crate) fn labelled<'a>(
    stanza: &str,
    value: &'a Value,
) -> Result<Vec<Labelled<'a>>, ConfigError> {
    let mut out = Vec::new();
    collect(stanza, value, &mut out)?;
    Ok(out)
}

fn collect<'a>(
    stanza: &str,
    value: &'a Value,
    out: &mut Vec<Labelled<'a>>,
) -> Result<(), ConfigError> {
    match value {
        Value::Object(by_label) => {
            for (label, inner) in by_label {
                match inner {
                    Value::Object(body) => out.push(Labelled { label, body }),
                    Value::Array(bodies) => {
                        for body in bodies {
                            let Value::Object(body) = body else {
                                return Err(needs_label(stanza));
                            };
                            out.push(Labelled { label, body });
                        }
                    }
                    _ => return Err(needs_label(stanza)),
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                if !item.is_object() {
                    return Err(needs_label(stanza));
                }
                collect(stanza, item, out)?;
            }
            Ok(())
        }
        _ => Err(needs_label(stanza)),
    }
}

fn needs_label(stanza: &str) -> ConfigError {
    ConfigError::InvalidStanza {
        stanza: stanza.to_owned(),
        reason: format!("expected a block with a type label, like {stanza} \"<type>\" {{ ... }}"),
    }
}

/// How many unlabelled stanzas `value` holds (one object, or an array of them).
pub(crate) fn count_unlabelled(value: &Value) -> Option<usize> {
    match value {
        Value::Object(_) => Some(1),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            Some(items.len())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: &Value) -> Vec<String> {
        labelled("listener", v)
            .unwrap()
            .iter()
            .map(|l| format!("{}:{}", l.label, l.body.len()))
            .collect()
    }

    #[test]
    fn reads_every_json_shape_of_a_labelled_stanza() {
        assert_eq!(labels(&json!({"tcp": {"a": 1}})), ["tcp:1"]);
        assert_eq!(labels(&json!({"tcp": [{"a": 1}, {}]})), ["tcp:1", "tcp:0"]);
        assert_eq!(
            labels(&json!([{"tcp": {}}, {"unix": {"a": 1, "b": 2}}])),
            ["tcp:0", "unix:2"]
        );
    }

    #[test]
    fn rejects_stanzas_without_a_label() {
        for bad in [
            json!({"address": "x"}),
            json!("tcp"),
            json!([1]),
            json!({"tcp": [1]}),
        ] {
            let err = labelled("listener", &bad).err().unwrap().to_string();
            assert!(err.contains("type label"), "{err}");
        }
    }

    #[test]
    fn counts_unlabelled_stanzas() {
        assert_eq!(count_unlabelled(&json!({})), Some(1));
        assert_eq!(count_unlabelled(&json!([{}, {}])), Some(2));
        assert_eq!(count_unlabelled(&json!("x")), None);
        assert_eq!(count_unlabelled(&json!([])), None);
    }
}
