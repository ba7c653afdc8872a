//! The `listener "tcp"` stanza.

use crate::stanza::Labelled;
use crate::value;
use crate::{ConfigError, ListenerConfig};

/// The settings of a tcp listener that Coffer reads.
const KNOWN: &[&str] = &[
    "address",
    "tls_disable",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
    "tls_require_and_verify_client_cert",
    "x_forwarded_for_authorized_addrs",
    "http_read_timeout",
];

/// Reads one `listener "tcp"` stanza, adding a warning per unsupported
/// setting, and checks that a TLS listener has its certificate and key.
pub(crate) fn parse_tcp(
    stanza: &Labelled<'_>,
    warnings: &mut Vec<String>,
) -> Result<ListenerConfig, ConfigError> {
    let body = stanza.body;
    let mut listener = ListenerConfig::default();
    if let Some(v) = body.get("address")
        && let Some(address) = value::opt_string(v, "listener \"tcp\": address")?
    {
        listener.address = address;
    }
    let name = format!("listener \"tcp\" on {}", listener.address);
    let key = |k: &str| format!("{name}: {k}");
    if let Some(v) = body.get("tls_disable") {
        listener.tls_disable = value::boolean(v, &key("tls_disable"))?;
    }
    if let Some(v) = body.get("tls_cert_file") {
        listener.tls_cert_file = value::opt_path(v, &key("tls_cert_file"))?;
    }
    if let Some(v) = body.get("tls_key_file") {
        listener.tls_key_file = value::opt_path(v, &key("tls_key_file"))?;
    }
    if let Some(v) = body.get("tls_client_ca_file") {
        listener.tls_client_ca_file = value::opt_path(v, &key("tls_client_ca_file"))?;
    }
    if let Some(v) = body.get("tls_require_and_verify_client_cert") {
        listener.tls_require_and_verify_client_cert =
            value::boolean(v, &key("tls_require_and_verify_client_cert"))?;
    }
    if let Some(v) = body.get("x_forwarded_for_authorized_addrs") {
        let k = key("x_forwarded_for_authorized_addrs");
        let addrs = value::string_list(v, &k)?;
        for addr in &addrs {
            value::check_ip_or_cidr(addr, &k)?;
        }
        listener.x_forwarded_for_authorized_addrs = addrs;
    }
    if let Some(v) = body.get("http_read_timeout") {
        listener.http_read_timeout = value::duration(v, &key("http_read_timeout"))?;
    }
    if !listener.tls_disable
        && (listener.tls_cert_file.is_none() || listener.tls_key_file.is_none())
    {
        return Err(ConfigError::MissingTls {
            address: listener.address,
        });
    }
    for k in body.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        warnings.push(format!(
            "{name}: {k:?} is not supported by Coffer yet and was ignored"
        ));
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn tcp(body: Value) -> (Result<ListenerConfig, ConfigError>, Vec<String>) {
        let Value::Object(body) = body else {
            panic!("object")
        };
        let mut warnings = Vec::new();
        let got = parse_tcp(
            &Labelled {
                label: "tcp",
                body: &body,
            },
            &mut warnings,
        );
        (got, warnings)
    }

    #[test]
    fn defaults_apply() {
        let (got, w) = tcp(json!({"tls_disable": true}));
        let got = got.unwrap();
        assert_eq!(got.address, "127.0.0.1:8200");
        assert!(got.tls_disable && !got.tls_require_and_verify_client_cert);
        assert!(w.is_empty());
    }

    #[test]
    fn tls_disable_takes_every_vault_form() {
        for v in [json!(true), json!("true"), json!(1), json!("1")] {
            assert!(tcp(json!({"tls_disable": v})).0.unwrap().tls_disable, "{v}");
        }
        let (got, _) = tcp(json!({"tls_disable": "sure"}));
        let msg = got.unwrap_err().to_string();
        assert!(
            msg.contains("listener \"tcp\" on 127.0.0.1:8200: tls_disable"),
            "{msg}"
        );
    }

    #[test]
    fn tls_needs_cert_and_key() {
        for body in [
            json!({"address": "0.0.0.0:8200"}),
            json!({"address": "0.0.0.0:8200", "tls_disable": "0", "tls_cert_file": "/c.pem"}),
            json!({"address": "0.0.0.0:8200", "tls_key_file": "/k.pem"}),
            json!({"address": "0.0.0.0:8200", "tls_disable": false, "tls_cert_file": "", "tls_key_file": "/k"}),
        ] {
            let err = tcp(body).0.unwrap_err();
            assert!(
                matches!(&err, ConfigError::MissingTls { address } if address == "0.0.0.0:8200")
            );
            assert!(err.to_string().contains("0.0.0.0:8200"));
        }
        let (got, _) = tcp(json!({
            "tls_cert_file": "/c.pem", "tls_key_file": "/k.pem", "tls_client_ca_file": "/ca.pem",
            "tls_require_and_verify_client_cert": "true"
        }));
        let got = got.unwrap();
        assert_eq!(
            got.tls_cert_file.as_deref(),
            Some(std::path::Path::new("/c.pem"))
        );
        assert_eq!(
            got.tls_client_ca_file.as_deref(),
            Some(std::path::Path::new("/ca.pem"))
        );
        assert!(got.tls_require_and_verify_client_cert && !got.tls_disable);
    }

    #[test]
    fn forwarded_for_addresses_are_checked() {
        let (got, _) = tcp(
            json!({"tls_disable": 1, "x_forwarded_for_authorized_addrs": "10.0.0.0/8,127.0.0.1"}),
        );
        assert_eq!(
            got.unwrap().x_forwarded_for_authorized_addrs,
            ["10.0.0.0/8", "127.0.0.1"]
        );
        let (got, _) =
            tcp(json!({"tls_disable": 1, "x_forwarded_for_authorized_addrs": ["proxy.local"]}));
        assert!(matches!(got, Err(ConfigError::InvalidValue { .. })));
    }

    #[test]
    fn http_read_timeout_takes_durations_and_seconds() {
        let timeout = |v: Value| tcp(json!({"tls_disable": 1, "http_read_timeout": v})).0;
        assert_eq!(
            tcp(json!({"tls_disable": 1})).0.unwrap().http_read_timeout,
            std::time::Duration::from_secs(30)
        );
        for (v, secs) in [
            (json!("2s"), 2),
            (json!("1m30s"), 90),
            (json!(45), 45),
            (json!("45"), 45),
            (json!("0s"), 0),
        ] {
            assert_eq!(
                timeout(v.clone()).unwrap().http_read_timeout,
                std::time::Duration::from_secs(secs),
                "{v}"
            );
        }
        for bad in [
            json!("abc"),
            json!("-1s"),
            json!(-1),
            json!(true),
            json!([1]),
        ] {
            let err = timeout(bad.clone()).unwrap_err();
            assert!(matches!(err, ConfigError::InvalidValue { .. }), "{bad}");
            let msg = err.to_string();
            assert!(
                msg.contains("listener \"tcp\" on 127.0.0.1:8200: http_read_timeout"),
                "{bad}: {msg}"
            );
        }
    }

    #[test]
    fn unknown_settings_warn_once_each() {
        let (got, w) = tcp(json!({
            "tls_disable": 1, "cluster_address": "0.0.0.0:8201", "tls_min_version": "tls13"
        }));
        assert!(got.is_ok());
        assert_eq!(w.len(), 2);
        assert!(
            w.iter()
                .all(|w| w.starts_with("listener \"tcp\" on 127.0.0.1:8200: \""))
        );
    }
}
