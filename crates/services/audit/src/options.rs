//! A device's `options` map (strings, as Vault takes them), parsed and
//! validated once at enable time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::AuditError;

/// The record options shared by every device type.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormatOptions {
    /// `log_raw`: write values in clear instead of HMAC-ing them.
    pub log_raw: bool,
    /// `hmac_accessor` (default true): HMAC token accessors.
    pub hmac_accessor: bool,
    /// `elide_list_responses`: replace list `keys`/`key_info` with counts.
    pub elide_list_responses: bool,
    /// `prefix`: written in front of every line.
    pub prefix: String,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            log_raw: false,
            hmac_accessor: true,
            elide_list_responses: false,
            prefix: String::new(),
        }
    }
}

/// Where a `file` device writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileTarget {
    /// A file, opened append-only.
    Path(PathBuf),
    /// Standard output (`file_path=stdout`).
    Stdout,
    /// Nowhere (`file_path=discard`, for tests).
    Discard,
}

/// The transport of a `socket` device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketType {
    /// A TCP stream.
    Tcp,
    /// UDP datagrams, one per line.
    Udp,
    /// A UNIX stream socket.
    Unix,
}

/// The type-specific part of a device's options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkOptions {
    /// `type=file`.
    File {
        /// `file_path`.
        target: FileTarget,
        /// `mode` (default `0600`); `None` for `0000`: leave the mode alone.
        mode: Option<u32>,
    },
    /// `type=socket`.
    Socket {
        /// `address` (`127.0.0.1:9090`, `/run/audit.sock`).
        address: String,
        /// `socket_type` (default `tcp`).
        socket_type: SocketType,
        /// `write_timeout` (default 2 s).
        write_timeout: Duration,
    },
    /// `type=syslog`.
    Syslog {
        /// `facility` (default `AUTH`) as its syslog number.
        facility: u8,
        /// `tag` (default `vault`).
        tag: String,
    },
}

/// A device's parsed options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceOptions {
    /// Record formatting.
    pub format: FormatOptions,
    /// Where records go.
    pub sink: SinkOptions,
}

/// The default `write_timeout` of socket devices.
pub const DEFAULT_SOCKET_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The device types Coffer supports.
pub const DEVICE_TYPES: &[&str] = &["file", "socket", "syslog"];

impl DeviceOptions {
    /// Parses the options of a device of `device_type`, with Vault's
    /// defaults and messages.
    pub fn parse(
        device_type: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<Self, AuditError> {
        let format = parse_format(options)?;
        let sink = match device_type {
            "file" => parse_file(options)?,
            "socket" => parse_socket(options)?,
            "syslog" => parse_syslog(options)?,
            other => {
                return Err(AuditError::Invalid(format!(
                    "audit device type not supported: {other}"
                )));
            }
        };
        Ok(Self { format, sink })
    }
}

/// Go's `strconv.ParseBool`, which Vault uses for boolean options.
fn parse_bool(
    options: &BTreeMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool, AuditError> {
    match options.get(name).map(String::as_str) {
        None => Ok(default),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(AuditError::Invalid(format!(
            "unable to parse {name:?}: invalid boolean value {other:?}"
        ))),
    }
}

fn parse_format(options: &BTreeMap<String, String>) -> Result<FormatOptions, AuditError> {
    match options.get("format").map(String::as_str) {
        None | Some("" | "json") => {}
        Some("jsonx") => {
            return Err(AuditError::Invalid(
                "format \"jsonx\" is not supported yet".into(),
            ));
        }
        Some(other) => {
            return Err(AuditError::Invalid(format!(
                "invalid format {other:?}: must be \"json\" or \"jsonx\""
            )));
        }
    }
    let prefix = options.get("prefix").cloned().unwrap_or_default();
    if prefix.contains(['\n', '\r']) {
        return Err(AuditError::Invalid(
            "prefix must not contain a line break".into(),
        ));
    }
    Ok(FormatOptions {
        log_raw: parse_bool(options, "log_raw", false)?,
        hmac_accessor: parse_bool(options, "hmac_accessor", true)?,
        elide_list_responses: parse_bool(options, "elide_list_responses", false)?,
        prefix,
    })
}

fn parse_file(options: &BTreeMap<String, String>) -> Result<SinkOptions, AuditError> {
    // `path` is the option's legacy name.
    let path = options
        .get("file_path")
        .or_else(|| options.get("path"))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| AuditError::Invalid("file_path is required".into()))?;
    let target = match path.as_str() {
        "stdout" => FileTarget::Stdout,
        "discard" => FileTarget::Discard,
        // A relative name would land wherever the server was started.
        p if Path::new(p).is_absolute() => FileTarget::Path(PathBuf::from(p)),
        p => {
            return Err(AuditError::Invalid(format!(
                "file_path must be an absolute path, \"stdout\" or \"discard\", not {:?}",
                p.chars().take(256).collect::<String>()
            )));
        }
    };
    let mode = match options.get("mode").map(String::as_str) {
        None | Some("") => Some(0o600),
        Some(m) => {
            let bits = u32::from_str_radix(m, 8).map_err(|_| {
                AuditError::Invalid(format!(
                    "unable to parse \"mode\": invalid octal mode {m:?}"
                ))
            })?;
            if bits > 0o7777 {
                return Err(AuditError::Invalid(format!(
                    "unable to parse \"mode\": invalid octal mode {m:?}"
                )));
            }
            (bits != 0).then_some(bits)
        }
    };
    Ok(SinkOptions::File { target, mode })
}

fn parse_socket(options: &BTreeMap<String, String>) -> Result<SinkOptions, AuditError> {
    let address = options
        .get("address")
        .filter(|a| !a.is_empty())
        .cloned()
        .ok_or_else(|| AuditError::Invalid("address is required".into()))?;
    let socket_type = match options.get("socket_type").map(String::as_str) {
        None | Some("" | "tcp" | "tcp4" | "tcp6") => SocketType::Tcp,
        Some("udp" | "udp4" | "udp6") => SocketType::Udp,
        Some("unix") => SocketType::Unix,
        Some(other) => {
            return Err(AuditError::Invalid(format!(
                "unsupported socket_type {other:?}: must be \"tcp\", \"udp\" or \"unix\""
            )));
        }
    };
    let write_timeout = match options.get("write_timeout").map(String::as_str) {
        None | Some("") => DEFAULT_SOCKET_WRITE_TIMEOUT,
        Some(t) => coffer_types::parse_duration(t)
            .map_err(|e| AuditError::Invalid(format!("unable to parse \"write_timeout\": {e}")))?,
    };
    if write_timeout.is_zero() {
        return Err(AuditError::Invalid("write_timeout must be positive".into()));
    }
    Ok(SinkOptions::Socket {
        address,
        socket_type,
        write_timeout,
    })
}

const FACILITIES: &[(&str, u8)] = &[
    ("KERN", 0),
    ("USER", 1),
    ("MAIL", 2),
    ("DAEMON", 3),
    ("AUTH", 4),
    ("SYSLOG", 5),
    ("LPR", 6),
    ("NEWS", 7),
    ("UUCP", 8),
    ("CRON", 9),
    ("AUTHPRIV", 10),
    ("FTP", 11),
    ("LOCAL0", 16),
    ("LOCAL1", 17),
    ("LOCAL2", 18),
    ("LOCAL3", 19),
    ("LOCAL4", 20),
    ("LOCAL5", 21),
    ("LOCAL6", 22),
    ("LOCAL7", 23),
];

fn parse_syslog(options: &BTreeMap<String, String>) -> Result<SinkOptions, AuditError> {
    let name = options
        .get("facility")
        .filter(|f| !f.is_empty())
        .map_or("AUTH", String::as_str);
    let facility = FACILITIES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
        .ok_or_else(|| AuditError::Invalid(format!("invalid syslog facility {name:?}")))?;
    let tag = options
        .get("tag")
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| "vault".to_owned());
    Ok(SinkOptions::Syslog { facility, tag })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn file_defaults_and_targets() {
        let o = DeviceOptions::parse("file", &opts(&[("file_path", "/tmp/a.log")])).unwrap();
        assert_eq!(o.format, FormatOptions::default());
        assert!(o.format.hmac_accessor);
        assert_eq!(
            o.sink,
            SinkOptions::File {
                target: FileTarget::Path("/tmp/a.log".into()),
                mode: Some(0o600)
            }
        );
        let o = DeviceOptions::parse("file", &opts(&[("file_path", "stdout"), ("mode", "0000")]))
            .unwrap();
        assert_eq!(
            o.sink,
            SinkOptions::File {
                target: FileTarget::Stdout,
                mode: None
            }
        );
        let o =
            DeviceOptions::parse("file", &opts(&[("path", "discard"), ("mode", "0640")])).unwrap();
        assert_eq!(
            o.sink,
            SinkOptions::File {
                target: FileTarget::Discard,
                mode: Some(0o640)
            }
        );
        let err = DeviceOptions::parse("file", &opts(&[])).unwrap_err();
        assert_eq!(err.to_string(), "file_path is required");
        assert!(
            DeviceOptions::parse("file", &opts(&[("file_path", "/x"), ("mode", "9")])).is_err()
        );
    }

    #[test]
    fn file_path_is_absolute_or_a_keyword() {
        // Numbers and booleans given as options arrive as "123" and "true":
        // they used to create files of that name in the working directory.
        for bad in ["123", "true", "audit.log", "./audit.log", "../x"] {
            let err = DeviceOptions::parse("file", &opts(&[("file_path", bad)])).unwrap_err();
            assert!(err.to_string().contains("absolute path"), "{bad}: {err}");
        }
        assert!(DeviceOptions::parse("file", &opts(&[("file_path", "/var/log/a.log")])).is_ok());
    }

    #[test]
    fn common_options() {
        let o = DeviceOptions::parse(
            "file",
            &opts(&[
                ("file_path", "discard"),
                ("log_raw", "true"),
                ("hmac_accessor", "0"),
                ("elide_list_responses", "T"),
                ("prefix", "audit: "),
            ]),
        )
        .unwrap();
        assert!(o.format.log_raw && !o.format.hmac_accessor && o.format.elide_list_responses);
        assert_eq!(o.format.prefix, "audit: ");
        let bad = DeviceOptions::parse("file", &opts(&[("file_path", "x"), ("log_raw", "yes")]));
        assert!(bad.unwrap_err().to_string().contains("log_raw"));
        let jsonx = DeviceOptions::parse("file", &opts(&[("file_path", "x"), ("format", "jsonx")]));
        assert!(jsonx.unwrap_err().to_string().contains("not supported yet"));
        assert!(
            DeviceOptions::parse("file", &opts(&[("file_path", "x"), ("format", "xml")])).is_err()
        );
        assert!(
            DeviceOptions::parse("file", &opts(&[("file_path", "x"), ("prefix", "a\nb")])).is_err()
        );
    }

    #[test]
    fn socket_and_syslog() {
        let o = DeviceOptions::parse("socket", &opts(&[("address", "127.0.0.1:9090")])).unwrap();
        assert_eq!(
            o.sink,
            SinkOptions::Socket {
                address: "127.0.0.1:9090".into(),
                socket_type: SocketType::Tcp,
                write_timeout: Duration::from_secs(2)
            }
        );
        let o = DeviceOptions::parse(
            "socket",
            &opts(&[
                ("address", "/s"),
                ("socket_type", "unix"),
                ("write_timeout", "150ms"),
            ]),
        )
        .unwrap();
        assert!(matches!(
            o.sink,
            SinkOptions::Socket { socket_type: SocketType::Unix, write_timeout, .. }
                if write_timeout == Duration::from_millis(150)
        ));
        assert!(DeviceOptions::parse("socket", &opts(&[])).is_err());
        assert!(
            DeviceOptions::parse(
                "socket",
                &opts(&[("address", "a"), ("socket_type", "sctp")])
            )
            .is_err()
        );
        let o = DeviceOptions::parse("syslog", &opts(&[("facility", "local3")])).unwrap();
        assert_eq!(
            o.sink,
            SinkOptions::Syslog {
                facility: 19,
                tag: "vault".into()
            }
        );
        assert!(DeviceOptions::parse("syslog", &opts(&[("facility", "NOPE")])).is_err());
        let err = DeviceOptions::parse("kafka", &opts(&[])).unwrap_err();
        assert_eq!(err.to_string(), "audit device type not supported: kafka");
    }
}
