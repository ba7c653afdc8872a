//! The plugin's config fields (Vault's names): `host`, `port`, `tls`,
//! `insecure_tls`, `ca_cert`. Values may arrive as JSON strings (`"6379"`,
//! `"true"`), as Vault's CLI sends them.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Map, Value};

/// The Redis server's host name or address (required).
pub const HOST: &str = "host";
/// The Redis server's port (default 6379).
pub const PORT: &str = "port";
/// Whether to connect with TLS (default false).
pub const TLS: &str = "tls";
/// With TLS, skip verifying the server's certificate (default false).
pub const INSECURE_TLS: &str = "insecure_tls";
/// With TLS, the PEM CA certificates that sign the server's (default: the
/// system's trusted roots).
pub const CA_CERT: &str = "ca_cert";

/// Every config field of the plugin beyond the common ones.
pub(crate) const FIELDS: &[&str] = &[HOST, PORT, TLS, INSECURE_TLS, CA_CERT];

/// The server's address and how to secure the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    pub host: String,
    pub port: u16,
    pub tls: Option<Tls>,
}

/// TLS settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tls {
    /// Accept any server certificate.
    pub insecure: bool,
    /// PEM roots; `None`: the system's.
    pub ca_cert: Option<String>,
}

impl Options {
    /// Reads the fields from a config's options.
    pub(crate) fn from_map(options: &Map<String, Value>) -> Result<Self, String> {
        let host = match options.get(HOST) {
            Some(Value::String(h)) if !h.trim().is_empty() => h.trim().to_owned(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(format!("{HOST} is required"));
            }
            Some(_) => return Err(format!("{HOST} must be a string")),
        };
        let port = match options.get(PORT) {
            None | Some(Value::Null) => 6379,
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{PORT} must be between 1 and 65535"))?,
            Some(Value::String(s)) if s.trim().is_empty() => 6379,
            Some(Value::String(s)) => s
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{PORT} must be between 1 and 65535"))?,
            Some(_) => return Err(format!("{PORT} must be a number")),
        };
        let tls = if flag(options, TLS)? {
            let ca_cert = match options.get(CA_CERT) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => {
                    let certs = CertificateDer::pem_slice_iter(s.as_bytes())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| format!("{CA_CERT} is not valid PEM"))?;
                    if certs.is_empty() {
                        return Err(format!("{CA_CERT} holds no PEM certificate"));
                    }
                    Some(s.clone())
                }
                Some(_) => return Err(format!("{CA_CERT} must be a PEM string")),
            };
            Some(Tls {
                insecure: flag(options, INSECURE_TLS)?,
                ca_cert,
            })
        } else {
            None
        };
        Ok(Options { host, port, tls })
    }
}

/// A boolean field, read as Go's `strconv.ParseBool` would; absent is false.
fn flag(options: &Map<String, Value>, name: &str) -> Result<bool, String> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.trim() {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            _ => Err(format!("{name} must be true or false")),
        },
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(_) => Err(format!("{name} must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Options, String> {
        Options::from_map(v.as_object().unwrap_or(&Map::new()))
    }

    #[test]
    fn plain_and_weakly_typed() {
        assert_eq!(
            parse(json!({"host": "127.0.0.1", "port": 6380})).unwrap(),
            Options {
                host: "127.0.0.1".into(),
                port: 6380,
                tls: None
            }
        );
        let o =
            parse(json!({"host": "h", "port": "6390", "tls": "true", "insecure_tls": 1})).unwrap();
        assert_eq!(o.port, 6390);
        assert_eq!(
            o.tls,
            Some(Tls {
                insecure: true,
                ca_cert: None
            })
        );
        assert_eq!(parse(json!({"host": "h"})).unwrap().port, 6379);
        // No TLS: the TLS-only fields are ignored.
        assert_eq!(
            parse(json!({"host": "h", "tls": false, "ca_cert": "x"}))
                .unwrap()
                .tls,
            None
        );
    }

    #[test]
    fn refusals() {
        assert!(parse(json!({})).is_err());
        assert!(parse(json!({"host": " "})).is_err());
        assert!(parse(json!({"host": "h", "port": 0})).is_err());
        assert!(parse(json!({"host": "h", "port": "70000"})).is_err());
        assert!(parse(json!({"host": "h", "tls": "maybe"})).is_err());
        assert!(parse(json!({"host": "h", "tls": true, "ca_cert": 3})).is_err());
        assert!(parse(json!({"host": "h", "tls": true, "ca_cert": "no pem"})).is_err());
    }
}
