//! From the engine's `connection_url` (a `postgres://` URL or a libpq
//! `key=value` string) and options to what tokio-postgres and rustls need.
//!
//! tokio-postgres knows `sslmode` only up to `require` and none of the
//! certificate parameters, so `sslmode`, `sslrootcert`, `sslcert` and
//! `sslkey` are taken out of the string before it parses the rest.

use std::time::Duration;

use coffer_database_plugin::{ConnectionSettings, PluginError, redact, substitute_credentials};
use serde_json::Value;
use tokio_postgres::Config;

use crate::errors::with_causes;
use crate::tls::{SslMode, TlsMaterial};

/// The TCP connect timeout when the URL sets none (`connect_timeout`).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long sent data may stay unacknowledged before the connection is
/// considered dead, when the URL sets none (`tcp_user_timeout`).
const DEFAULT_TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to connect.
pub(crate) struct Target {
    /// tokio-postgres' settings, root credentials included.
    pub(crate) config: Config,
    /// The URL's `sslmode` (`prefer` when absent, as libpq).
    pub(crate) ssl_mode: SslMode,
    /// CA and client certificate, from the options or the URL's files.
    pub(crate) tls: TlsMaterial,
}

/// The certificate parameters of a connection string.
#[derive(Default)]
struct SslParams {
    mode: Option<String>,
    root_cert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

impl SslParams {
    /// Keeps `value` when `key` is one of ours.
    fn take(&mut self, key: &str, value: String) -> bool {
        let slot = match key {
            "sslmode" => &mut self.mode,
            "sslrootcert" => &mut self.root_cert,
            "sslcert" => &mut self.cert,
            "sslkey" => &mut self.key,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// Parses `settings` into a [`Target`]. Errors never contain the root
/// password.
pub(crate) fn parse(settings: &ConnectionSettings) -> Result<Target, PluginError> {
    if settings.connection_url.trim().is_empty() {
        return Err(PluginError::InvalidSettings(
            "connection_url is required".into(),
        ));
    }
    let secrets = [settings.password.expose()];
    let invalid = |msg: String| PluginError::InvalidSettings(redact(&msg, &secrets).into_owned());
    let url = substitute_credentials(
        &settings.connection_url,
        &settings.username,
        settings.password.expose(),
    );
    let (rest, ssl) = if url.contains("://") {
        split_url(&url).map_err(invalid)?
    } else {
        split_dsn(&url).map_err(invalid)?
    };
    let mut config: Config = rest
        .parse()
        .map_err(|e| invalid(format!("connection_url: {}", with_causes(&e))))?;
    if config.get_hosts().is_empty() {
        return Err(invalid("connection_url names no host".into()));
    }
    if config.get_user().is_none() && !settings.username.is_empty() {
        config.user(&settings.username);
    }
    if config.get_password().is_none() && !settings.password.is_empty() {
        config.password(settings.password.expose());
    }
    if config.get_user().is_none() {
        return Err(invalid(
            "no user: set username, or a user in connection_url".into(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(DEFAULT_TCP_USER_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("coffer");
    }
    let ssl_mode = match &ssl.mode {
        Some(mode) => SslMode::parse(mode)?,
        None => SslMode::Prefer,
    };
    config.ssl_mode(ssl_mode.negotiation());
    let tls = TlsMaterial {
        ca: pem(settings, "tls_ca", ssl.root_cert.as_deref())?,
        client_cert: pem(settings, "tls_certificate", ssl.cert.as_deref())?,
        client_key: pem(settings, "private_key", ssl.key.as_deref())?,
    };
    Ok(Target {
        config,
        ssl_mode,
        tls,
    })
}

/// PEM from the option `field` (the PEM itself), else from the URL's file
/// `path`.
fn pem(
    settings: &ConnectionSettings,
    field: &str,
    path: Option<&str>,
) -> Result<Option<Vec<u8>>, PluginError> {
    if let Some(text) = string_option(settings, field)? {
        return Ok(Some(text.as_bytes().to_vec()));
    }
    match path {
        None | Some("") => Ok(None),
        Some("system") => Err(PluginError::InvalidSettings(
            "sslrootcert=system is not supported: give the CA certificate (a file, or tls_ca)"
                .into(),
        )),
        Some(path) => std::fs::read(path)
            .map(Some)
            .map_err(|e| PluginError::InvalidSettings(format!("cannot read {path}: {e}"))),
    }
}

/// A string option of the config (absent, `null` and `""` are `None`).
pub(crate) fn string_option<'a>(
    settings: &'a ConnectionSettings,
    field: &str,
) -> Result<Option<&'a str>, PluginError> {
    match settings.options.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(PluginError::InvalidSettings(format!(
            "{field} must be a string"
        ))),
    }
}

/// `postgres://...?a=b&sslmode=x`: the URL without our parameters, and them.
fn split_url(url: &str) -> Result<(String, SslParams), String> {
    let mut ssl = SslParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), ssl));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !ssl.take(&percent_decode(key)?, percent_decode(value)?) {
            kept.push(pair);
        }
    }
    if kept.is_empty() {
        Ok((base.to_owned(), ssl))
    } else {
        Ok((format!("{base}?{}", kept.join("&")), ssl))
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "connection_url: bad percent-encoding".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "connection_url: percent-encoding is not UTF-8".to_owned())
}

/// `host=h user=u sslmode=x`: the string without our parameters, and them.
fn split_dsn(dsn: &str) -> Result<(String, SslParams), String> {
    let mut ssl = SslParams::default();
    let mut kept = Vec::new();
    let mut rest = dsn.trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        let after = rest[key_end..].trim_start();
        let Some(after) = after.strip_prefix('=') else {
            return Err(format!("connection_url: expected = after {key:?}"));
        };
        let (raw, value, remaining) = dsn_value(after.trim_start())?;
        if !ssl.take(key, value) {
            kept.push(format!("{key}={raw}"));
        }
        rest = remaining.trim_start();
    }
    Ok((kept.join(" "), ssl))
}

/// One value of a `key=value` string: (as written, unescaped, what follows).
fn dsn_value(s: &str) -> Result<(&str, String, &str), String> {
    let mut value = String::new();
    if let Some(quoted) = s.strip_prefix('\'') {
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    let end = 1 + i + 1;
                    return Ok((&s[..end], value, &s[end..]));
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                c => value.push(c),
            }
        }
        return Err("connection_url: unterminated quoted value".into());
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    let raw = &s[..end];
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.extend(chars.next()),
            c => value.push(c),
        }
    }
    Ok((raw, value, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Sensitive;
    use tokio_postgres::config::Host;

    fn settings(url: &str) -> ConnectionSettings {
        ConnectionSettings {
            connection_url: url.into(),
            username: "admin".into(),
            password: Sensitive::from("p@ss w?rd"),
            ..ConnectionSettings::default()
        }
    }

    #[test]
    fn vault_style_urls_parse() {
        let t = parse(&settings(
            "postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres?sslmode=disable",
        ))
        .unwrap();
        assert_eq!(t.ssl_mode, SslMode::Disable);
        assert_eq!(t.config.get_user(), Some("admin"));
        assert_eq!(t.config.get_password(), Some(&b"p@ss w?rd"[..]));
        assert_eq!(t.config.get_hosts(), [Host::Tcp("127.0.0.1".into())]);
        assert_eq!(t.config.get_ports(), [5432]);
        assert_eq!(t.config.get_dbname(), Some("postgres"));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&DEFAULT_CONNECT_TIMEOUT)
        );

        let t = parse(&settings(
            "postgres://u@db.example:6432/app?connect_timeout=3&sslmode=verify-full&application_name=x",
        ))
        .unwrap();
        assert_eq!(t.ssl_mode, SslMode::VerifyFull);
        assert_eq!(t.config.get_user(), Some("u"));
        // The URL has no password: the config's is used.
        assert_eq!(t.config.get_password(), Some(&b"p@ss w?rd"[..]));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(t.config.get_application_name(), Some("x"));

        // No sslmode: prefer, as libpq.
        let t = parse(&settings("postgres://u@h/db")).unwrap();
        assert_eq!(t.ssl_mode, SslMode::Prefer);
    }

    #[test]
    fn key_value_strings_parse() {
        let t = parse(&settings(
            "host=127.0.0.1 port=5433 user={{username}} password='{{password}}' sslmode = require dbname=postgres",
        ))
        .unwrap();
        assert_eq!(t.ssl_mode, SslMode::Require);
        assert_eq!(t.config.get_ports(), [5433]);
        assert_eq!(t.config.get_password(), Some(&b"p@ss w?rd"[..]));
        assert_eq!(t.config.get_dbname(), Some("postgres"));
    }

    #[test]
    fn certificates_come_from_options_or_files() {
        let dir = std::env::temp_dir().join(format!("coffer-pg-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "CA FROM FILE").unwrap();
        let url = format!(
            "postgres://u@h/db?sslmode=verify-ca&sslrootcert={}",
            ca.display()
        );
        let t = parse(&settings(&url)).unwrap();
        assert_eq!(t.tls.ca.as_deref(), Some(&b"CA FROM FILE"[..]));
        let mut s = settings(&url);
        s.options.insert("tls_ca".into(), "CA FROM OPTION".into());
        assert_eq!(
            parse(&s).unwrap().tls.ca.as_deref(),
            Some(&b"CA FROM OPTION"[..])
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let missing = parse(&settings(
            "postgres://u@h/db?sslrootcert=/nonexistent/ca.pem",
        ));
        assert!(matches!(missing, Err(PluginError::InvalidSettings(_))));
        let mut s = settings("postgres://u@h/db");
        s.options.insert("tls_ca".into(), 5.into());
        assert!(matches!(parse(&s), Err(PluginError::InvalidSettings(_))));
    }

    #[test]
    fn bad_urls_are_invalid_settings_without_the_password() {
        for url in [
            "",
            "postgres://{{username}}:{{password}}@h/db?sslmode=allow",
            "postgres://{{username}}:{{password}}@h/db?nonsense=1",
            "postgres://{{username}}:{{password}}@h:notaport/db",
            "host=h password='{{password}}",
            "host=h user",
        ] {
            match parse(&settings(url)) {
                Err(PluginError::InvalidSettings(msg)) => {
                    assert!(!msg.contains("p@ss"), "{url}: {msg}");
                    assert!(!msg.contains("p%40ss"), "{url}: {msg}");
                }
                Err(other) => panic!("{url}: {other:?}"),
                Ok(_) => panic!("{url}: accepted"),
            }
        }
    }
}
