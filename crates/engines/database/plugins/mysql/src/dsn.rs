//! Parsing `connection_url`: Vault's Go DSN form
//! (`user:password@tcp(host:port)/dbname?param=value`) or a `mysql://` URL.
//!
//! The root credentials have already been substituted
//! ([`substitute_credentials`](coffer_database_plugin::substitute_credentials)
//! leaves a DSN unencoded), so a password may hold `@`, `:`, `/` or `(`:
//! the DSN is split at the last `@` whose remainder is a well-formed
//! `[net[(address)]][/dbname][?params]`. No error message here quotes the
//! DSN: it holds the root password.

use std::time::Duration;

use mysql_async::{Opts, OptsBuilder};

/// How long to wait for a new connection (TCP, TLS and the handshake) when
/// the DSN sets no `timeout`.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the DSN's `tls` parameter asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DsnTls {
    /// No `tls` parameter, or `tls=false`.
    Off,
    /// `tls=true`: TLS, verifying the server's certificate.
    Verify,
    /// `tls=skip-verify`: TLS without verifying the certificate.
    SkipVerify,
}

/// A parsed `connection_url`: everything about the connection except the
/// pool limits and TLS files, which come from the rest of the settings.
#[derive(Clone)]
pub(crate) struct Target {
    /// Host, port or socket, user, password, database, init statements.
    pub opts: OptsBuilder,
    /// The user the plugin logs in as (to recognise a root rotation).
    pub user: String,
    /// Longest wait for a new connection.
    pub connect_timeout: Duration,
    /// The DSN's `tls` parameter.
    pub tls: DsnTls,
}

/// Why a `connection_url` was refused. Never contains the URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DsnError(pub String);

/// Go driver parameters that only tune the Go client; they mean nothing
/// here and are accepted so that Vault configs keep working.
const IGNORED_PARAMS: &[&str] = &[
    "allowAllFiles",
    "allowCleartextPasswords",
    "allowFallbackToPlaintext",
    "allowNativePasswords",
    "allowOldPasswords",
    "charset",
    "checkConnLiveness",
    "clientFoundRows",
    "collation",
    "columnsWithAlias",
    "connectionAttributes",
    "interpolateParams",
    "loc",
    "maxAllowedPacket",
    "multiStatements",
    "parseTime",
    "readTimeout",
    "rejectReadOnly",
    "serverPubKey",
    "timeTruncate",
    "writeTimeout",
];

/// Parses a `connection_url` whose credentials are already substituted.
pub(crate) fn parse(url: &str) -> Result<Target, DsnError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(DsnError("connection_url cannot be empty".into()));
    }
    if url.contains("://") {
        parse_url(url)
    } else {
        parse_dsn(url)
    }
}

fn parse_url(url: &str) -> Result<Target, DsnError> {
    let opts = Opts::from_url(url).map_err(|e| {
        // The URL crate's messages name a part, never the whole URL; still,
        // keep only the kind of problem.
        DsnError(format!(
            "connection_url is not a valid mysql:// URL ({})",
            url_error_kind(&e)
        ))
    })?;
    let user = opts.user().unwrap_or_default().to_owned();
    Ok(Target {
        opts: OptsBuilder::from_opts(opts),
        user,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        tls: DsnTls::Off,
    })
}

fn url_error_kind(e: &mysql_async::UrlError) -> String {
    match e {
        mysql_async::UrlError::UnknownParameter { param } => format!("unknown parameter {param}"),
        mysql_async::UrlError::InvalidParamValue { param, .. } => {
            format!("invalid value for {param}")
        }
        mysql_async::UrlError::UnsupportedScheme { scheme } => {
            format!("unsupported scheme {scheme}")
        }
        _ => "malformed URL".to_owned(),
    }
}

/// The pieces of `[user[:password]@][net[(address)]][/dbname][?params]`.
#[derive(Debug, PartialEq, Eq)]
struct DsnParts<'a> {
    user: &'a str,
    password: Option<&'a str>,
    net: &'a str,
    address: Option<&'a str>,
    db_name: &'a str,
    params: &'a str,
}

/// The part after the credentials: `[net[(address)]][/dbname][?params]`.
#[derive(Debug, PartialEq, Eq)]
struct Tail<'a> {
    net: &'a str,
    address: Option<&'a str>,
    db_name: &'a str,
    params: &'a str,
}

fn parse_tail(tail: &str) -> Option<Tail<'_>> {
    let net_end = tail.find(['(', '/', '?']).unwrap_or(tail.len());
    let net = &tail[..net_end];
    if !matches!(net, "" | "tcp" | "tcp4" | "tcp6" | "unix") {
        return None;
    }
    let mut rest = &tail[net_end..];
    let mut address = None;
    if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')')?;
        address = Some(&after[..close]);
        rest = &after[close + 1..];
    }
    let (path, params) = match rest.find('?') {
        Some(q) => (&rest[..q], &rest[q + 1..]),
        None => (rest, ""),
    };
    let db_name = match path.strip_prefix('/') {
        Some(db) => db,
        None if path.is_empty() => "",
        None => return None,
    };
    if db_name.contains('/') {
        return None;
    }
    Some(Tail {
        net,
        address,
        db_name,
        params,
    })
}

fn split_dsn(dsn: &str) -> Option<DsnParts<'_>> {
    // The rightmost `@` followed by a well-formed tail ends the credentials:
    // a password may itself hold `@`, but the host part cannot.
    let mut end = dsn.len();
    while let Some(at) = dsn[..end].rfind('@') {
        if let Some(tail) = parse_tail(&dsn[at + 1..]) {
            let userinfo = &dsn[..at];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            return Some(DsnParts {
                user,
                password,
                net: tail.net,
                address: tail.address,
                db_name: tail.db_name,
                params: tail.params,
            });
        }
        end = at;
    }
    let tail = parse_tail(dsn)?;
    Some(DsnParts {
        user: "",
        password: None,
        net: tail.net,
        address: tail.address,
        db_name: tail.db_name,
        params: tail.params,
    })
}

fn parse_dsn(dsn: &str) -> Result<Target, DsnError> {
    let parts = split_dsn(dsn).ok_or_else(|| {
        DsnError(
            "connection_url is not a valid MySQL DSN (expected \
             user:password@tcp(host:port)/dbname or a mysql:// URL)"
                .into(),
        )
    })?;
    let mut opts = OptsBuilder::default()
        .user((!parts.user.is_empty()).then(|| parts.user.to_owned()))
        .pass(parts.password.filter(|p| !p.is_empty()).map(str::to_owned))
        .db_name((!parts.db_name.is_empty()).then(|| parts.db_name.to_owned()))
        .prefer_socket(false);
    match parts.net {
        "unix" => {
            let path = parts
                .address
                .filter(|a| !a.is_empty())
                .ok_or_else(|| DsnError("connection_url: unix() needs a socket path".into()))?;
            opts = opts.socket(Some(path));
        }
        _ => {
            let (host, port) = host_port(parts.address.unwrap_or(""))?;
            opts = opts.ip_or_hostname(host).tcp_port(port);
        }
    }
    let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    let mut tls = DsnTls::Off;
    let mut init = Vec::new();
    for pair in parts.params.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(raw)
            .ok_or_else(|| DsnError(format!("connection_url: parameter {key} is not valid")))?;
        match key {
            "timeout" => {
                connect_timeout = go_duration(&value).ok_or_else(|| {
                    DsnError(format!("connection_url: invalid timeout {value:?}"))
                })?;
            }
            "tls" => {
                tls = match value.as_str() {
                    "true" => DsnTls::Verify,
                    "skip-verify" => DsnTls::SkipVerify,
                    "false" | "" => DsnTls::Off,
                    other => {
                        return Err(DsnError(format!(
                            "connection_url: tls={other} is not supported (use true, \
                             skip-verify, false, or the tls_ca / tls_certificate_key fields)"
                        )));
                    }
                };
            }
            k if IGNORED_PARAMS.contains(&k) => {}
            k => {
                // The Go driver sends any other parameter as a session
                // variable; so do we.
                if k.is_empty()
                    || !k
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
                {
                    return Err(DsnError(format!(
                        "connection_url: parameter {k:?} is not a system variable name"
                    )));
                }
                init.push(format!("SET {k}={value}"));
            }
        }
    }
    if !init.is_empty() {
        opts = opts.init(init);
    }
    Ok(Target {
        opts,
        user: parts.user.to_owned(),
        connect_timeout,
        tls,
    })
}

/// `host:port`, `[v6]:port`, `host` or empty (the Go driver's default,
/// 127.0.0.1:3306).
fn host_port(address: &str) -> Result<(String, u16), DsnError> {
    if address.is_empty() {
        return Ok(("127.0.0.1".into(), 3306));
    }
    let bad = || DsnError(format!("connection_url: invalid address {address:?}"));
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 3306,
            None => return Err(bad()),
        };
        return Ok((host.to_owned(), port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Ok((host.to_owned(), port.parse().map_err(|_| bad())?))
        }
        Some(_) => Err(bad()),
        None => Ok((address.to_owned(), 3306)),
    }
}

/// Decodes `%XX` escapes and `+` (as Go's `url.QueryUnescape` does).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A Go duration: `1h2m3.5s`, `500ms`, `10s`.
fn go_duration(s: &str) -> Option<Duration> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += value * seconds;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(t: &Target) -> Opts {
        Opts::from(t.opts.clone())
    }

    #[test]
    fn vaults_default_form() {
        let t = parse("root:secret@tcp(127.0.0.1:3306)/").unwrap();
        let o = opts(&t);
        assert_eq!(o.user(), Some("root"));
        assert_eq!(o.pass(), Some("secret"));
        assert_eq!(o.ip_or_hostname(), "127.0.0.1");
        assert_eq!(o.tcp_port(), 3306);
        assert_eq!(o.db_name(), None);
        assert!(!o.prefer_socket());
        assert_eq!(t.user, "root");
        assert_eq!(t.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(t.tls, DsnTls::Off);
    }

    #[test]
    fn passwords_with_separators_stay_whole() {
        for pw in ["p@ss", "a:b@c", "x@tcp(evil:1)/", "/(@)?&=", "@"] {
            let dsn = format!("admin:{pw}@tcp(db.example:3307)/app?timeout=2s");
            let t = parse(&dsn).unwrap_or_else(|e| panic!("{pw}: {e:?}"));
            let o = opts(&t);
            assert_eq!(o.pass(), Some(pw), "{dsn}");
            assert_eq!(o.user(), Some("admin"));
            assert_eq!(o.ip_or_hostname(), "db.example");
            assert_eq!(o.tcp_port(), 3307);
            assert_eq!(o.db_name(), Some("app"));
            assert_eq!(t.connect_timeout, Duration::from_secs(2));
        }
    }

    #[test]
    fn other_shapes() {
        let o = opts(&parse("u@tcp(db)/").unwrap());
        assert_eq!((o.ip_or_hostname(), o.tcp_port()), ("db", 3306));
        assert_eq!(o.pass(), None);
        let o = opts(&parse("root:@tcp(db)/").unwrap());
        assert_eq!((o.user(), o.pass()), (Some("root"), None));
        let o = opts(&parse("u:p@tcp([::1]:3310)/x").unwrap());
        assert_eq!((o.ip_or_hostname(), o.tcp_port()), ("::1", 3310));
        let o = opts(&parse("u:p@/x").unwrap());
        assert_eq!((o.ip_or_hostname(), o.tcp_port()), ("127.0.0.1", 3306));
        let o = opts(&parse("u:p@tcp(h:1)").unwrap());
        assert_eq!(o.db_name(), None);
        let o = opts(&parse("u:p@unix(/run/mysqld/mysqld.sock)/").unwrap());
        assert_eq!(o.socket(), Some("/run/mysqld/mysqld.sock"));
        let o = opts(&parse("/onlydb").unwrap());
        assert_eq!(o.user(), None);
        assert_eq!(o.db_name(), Some("onlydb"));
    }

    #[test]
    fn params() {
        let t =
            parse("u:p@tcp(h:1)/?tls=skip-verify&parseTime=true&sql_mode=%27ANSI%27&timeout=1m30s")
                .unwrap();
        assert_eq!(t.tls, DsnTls::SkipVerify);
        assert_eq!(t.connect_timeout, Duration::from_secs(90));
        assert_eq!(opts(&t).init(), ["SET sql_mode='ANSI'"]);
        assert_eq!(parse("u:p@tcp(h:1)/?tls=true").unwrap().tls, DsnTls::Verify);
        assert!(parse("u:p@tcp(h:1)/?tls=custom").is_err());
        assert!(parse("u:p@tcp(h:1)/?timeout=soon").is_err());
        assert!(parse("u:p@tcp(h:1)/?bad;name=1").is_err());
    }

    #[test]
    fn urls() {
        let t = parse("mysql://ad%40min:p%40ss%3A@127.0.0.1:3307/db").unwrap();
        let o = opts(&t);
        assert_eq!(o.user(), Some("ad@min"));
        assert_eq!(o.pass(), Some("p@ss:"));
        assert_eq!(o.tcp_port(), 3307);
        assert_eq!(t.user, "ad@min");
    }

    #[test]
    fn errors_never_quote_the_password() {
        for bad in [
            "root:canary-pw@tcp(h:notaport)/",
            "root:canary-pw@ftp(h:1)/",
            "root:canary-pw",
            "mysql://root:canary-pw@h:1/?nonsense=1",
            "postgres://root:canary-pw@h/",
            "",
        ] {
            let err = parse(bad).err().unwrap_or_else(|| panic!("{bad} parsed"));
            assert!(!err.0.contains("canary-pw"), "{bad}: {}", err.0);
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("5"), None);
        assert_eq!(go_duration(""), None);
    }
}
