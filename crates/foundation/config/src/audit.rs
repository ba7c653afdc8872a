//! `audit "<type>" { ... }` stanzas: audit devices declared in the server
//! configuration, which an API token cannot disable.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::stanza::Labelled;
use crate::{AuditDeviceConfig, ConfigError, value};

/// The device types Coffer has.
const TYPES: &[&str] = &["file", "socket", "syslog"];

/// Reads one `audit "<type>"` stanza: `path` (default: the type),
/// `description`, and an `options` map of strings (numbers and booleans are
/// written as strings, as Vault's API takes them).
pub(crate) fn parse(stanza: &Labelled<'_>) -> Result<AuditDeviceConfig, ConfigError> {
    let device_type = stanza.label.to_owned();
    let where_ = format!("audit {device_type:?}");
    if !TYPES.contains(&stanza.label) {
        return Err(ConfigError::InvalidStanza {
            stanza: where_,
            reason: format!(
                "unknown audit device type; expected one of {}",
                TYPES.join(", ")
            ),
        });
    }
    let mut options = BTreeMap::new();
    let mut path = device_type.clone();
    let mut description = String::new();
    for (key, v) in stanza.body {
        match key.as_str() {
            "path" => path = value::opt_string(v, "path")?.unwrap_or(path),
            "description" => description = value::opt_string(v, "description")?.unwrap_or_default(),
            "options" => {
                let map = match v {
                    Value::Object(m) => m.clone(),
                    // HCL blocks (`options { ... }`) arrive as a list of one object.
                    Value::Array(items) if items.len() == 1 && items[0].is_object() => {
                        items[0].as_object().cloned().unwrap_or_default()
                    }
                    _ => {
                        return Err(ConfigError::InvalidStanza {
                            stanza: where_,
                            reason: "options must be a map".to_owned(),
                        });
                    }
                };
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => {
                            return Err(ConfigError::InvalidStanza {
                                stanza: where_,
                                reason: format!("option {k:?} must be a string, number or boolean"),
                            });
                        }
                    };
                    options.insert(k, text);
                }
            }
            other => {
                return Err(ConfigError::InvalidStanza {
                    stanza: where_,
                    reason: format!(
                        "unknown setting {other:?}; expected path, description or options"
                    ),
                });
            }
        }
    }
    let path = path.trim_matches('/').to_owned();
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(ConfigError::InvalidStanza {
            stanza: where_,
            reason: "invalid path".to_owned(),
        });
    }
    Ok(AuditDeviceConfig {
        device_type,
        path,
        description,
        options,
    })
}

#[cfg(test)]
mod tests {
    use crate::{parse_hcl, parse_json};

    const BASE: &str = "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n}\n";

    #[test]
    fn audit_stanzas_in_hcl_and_json() {
        let hcl = format!(
            "{BASE}disable_api_audit_creation = true\naudit \"file\" {{\n  path = \"primary\"\n  description = \"main log\"\n  options = {{\n    file_path = \"/var/log/coffer/audit.log\"\n    log_raw = false\n  }}\n}}\naudit \"socket\" {{\n  options {{\n    address = \"127.0.0.1:9090\"\n  }}\n}}\n"
        );
        let c = parse_hcl(&hcl).unwrap();
        assert!(c.disable_api_audit_creation);
        assert_eq!(c.audit_devices.len(), 2);
        let file = c
            .audit_devices
            .iter()
            .find(|d| d.device_type == "file")
            .unwrap();
        assert_eq!(
            (file.path.as_str(), file.description.as_str()),
            ("primary", "main log")
        );
        assert_eq!(file.options["file_path"], "/var/log/coffer/audit.log");
        assert_eq!(file.options["log_raw"], "false");
        let socket = c
            .audit_devices
            .iter()
            .find(|d| d.device_type == "socket")
            .unwrap();
        assert_eq!(
            (socket.path.as_str(), socket.options["address"].as_str()),
            ("socket", "127.0.0.1:9090")
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);

        let json = r#"{"storage": {"inmem": {}}, "listener": {"tcp": {"tls_disable": true}},
            "audit": {"file": {"options": {"file_path": "stdout"}}}}"#;
        let c = parse_json(json).unwrap();
        assert_eq!(c.audit_devices[0].options["file_path"], "stdout");
        assert!(!c.disable_api_audit_creation);
    }

    #[test]
    fn bad_audit_stanzas_are_errors() {
        for bad in [
            "audit \"kafka\" {\n}\n",
            "audit \"file\" {\n  colour = \"red\"\n}\n",
            "audit \"file\" {\n  path = \"../x\"\n}\n",
            "audit \"file\" {\n  options = \"x\"\n}\n",
        ] {
            assert!(parse_hcl(&format!("{BASE}{bad}")).is_err(), "{bad}");
        }
    }
}
