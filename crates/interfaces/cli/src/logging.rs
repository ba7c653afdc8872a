//! The server's log subscriber, and the targets no log level may print.
//!
//! Operators pick a level with `COFFER_LOG` (an `EnvFilter` spec, such as
//! `debug` or `info,coffer_core=trace`), `-log-level` or `log_level` in the
//! configuration. Some dependencies print, at `debug` or `trace`, exactly
//! what a secrets manager must never write down: the statements sent to a
//! database (`CREATE ROLE ... PASSWORD '...'`, `ALTER USER ... IDENTIFIED
//! BY '...'`, `ACL SETUSER ... >password`), the parameters bound to them,
//! and HTTP and TLS traffic (the `X-Vault-Token` header, request and
//! response bodies). Those targets are turned off whatever the filter says:
//! a global filter layer in front of the user's `EnvFilter` drops them, so
//! no directive (`tokio_postgres=trace`, a more specific
//! `tokio_postgres::simple_query=trace`, a span or field directive) can turn
//! them back on.
//!
//! Silenced ([`SILENCED_TARGETS`]; a target is silenced when it is one of
//! these or starts with one followed by `::` or `.`):
//!
//! - `tokio_postgres`: logs every simple query, statement batch and
//!   prepared statement at `debug` (`executing statement batch: CREATE ROLE
//!   ... PASSWORD '<password>'`), and the bound parameters of each query.
//! - `postgres_protocol`, `postgres_types`: the PostgreSQL wire protocol,
//!   authentication (SCRAM) included; they log nothing today, and must not
//!   start to.
//! - `deadpool_postgres`, `deadpool` (its events use the target
//!   `deadpool.postgres`): the PostgreSQL pool, which logs connection and
//!   recycling errors of `tokio_postgres` verbatim.
//! - `mysql_async`, `mysql_common`: with its `tracing` feature, a span per
//!   query carrying the SQL text and, at `debug`, the parameters.
//! - `redis`: the Redis client, whose logging (`log` feature) covers
//!   commands sent, `ACL SETUSER` and `AUTH` among them.
//! - `hyper`, `hyper_util`, `h2`, `tower`, `tower_http`: the HTTP server and
//!   its middleware; at `trace` they print headers (the client's token) and
//!   frames.
//! - `reqwest`, `hyper_rustls`: outgoing HTTP (plugins, OIDC, forwarding),
//!   which can print request and response headers and bodies.
//! - `rustls`, `tokio_rustls`, `rustls_platform_verifier`: TLS, which at
//!   `trace` describes every handshake message.
//!
//! Not silenced: Coffer's own crates (they log names, ids and errors, never a
//! secret; the plugins redact database messages before they become errors),
//! and `redb`, which is built without its `logging` feature and stores only
//! ciphertext.

use tracing::{Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Crates (and other targets) that no log level may print: see the module
/// documentation for what each one would write.
pub(crate) const SILENCED_TARGETS: &[&str] = &[
    "tokio_postgres",
    "postgres_protocol",
    "postgres_types",
    "deadpool_postgres",
    "deadpool",
    "mysql_async",
    "mysql_common",
    "redis",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "tower_http",
    "reqwest",
    "hyper_rustls",
    "rustls",
    "tokio_rustls",
    "rustls_platform_verifier",
];

/// Whether `target` belongs to a silenced crate: equal to one of
/// [`SILENCED_TARGETS`], or one of them followed by `::` or `.`.
pub(crate) fn is_silenced(target: &str) -> bool {
    SILENCED_TARGETS.iter().any(|silenced| {
        target
            .strip_prefix(silenced)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::") || rest.starts_with('.'))
    })
}

/// The operator's filter: `COFFER_LOG` when it is set and parses, else
/// `level` (the flag or the configuration), else `info`.
fn user_filter(level: Option<&str>) -> EnvFilter {
    EnvFilter::try_from_env("COFFER_LOG")
        .or_else(|_| EnvFilter::try_new(level.unwrap_or("info")))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The subscriber: the silencing filter, then `filter`, then a formatter
/// writing to `writer`.
fn subscriber<W>(filter: EnvFilter, writer: W, ansi: bool) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // A global filter layer: when it says no, the event or span is disabled
    // for the whole subscriber, whatever the layers after it would allow.
    // Records of the `log` crate reach it with their own target (the
    // `tracing-log` bridge asks `enabled` with the record's metadata).
    let silencer = FilterFn::new(|meta: &Metadata<'_>| !is_silenced(meta.target()));
    tracing_subscriber::registry()
        .with(silencer)
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(ansi),
        )
}

/// Installs the server's subscriber (once; later calls do nothing), writing
/// to standard error, and bridges the `log` crate into it.
pub(crate) fn init(level: Option<&str>) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = subscriber(user_filter(level), std::io::stderr, ansi).try_init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer that keeps everything in memory.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Logs, under the filter `spec`, what the database clients log (through
    /// the `log` crate, as `tokio_postgres` does, and through `tracing`), and
    /// one event of Coffer's own; returns what was printed.
    fn printed_under(spec: &str) -> String {
        let out = Buffer::default();
        let sub = subscriber(EnvFilter::try_new(spec).unwrap(), out.clone(), false);
        tracing::subscriber::with_default(sub, || {
            let bridge = tracing_log::LogTracer::new();
            for target in [
                "tokio_postgres::simple_query",
                "tokio_postgres::query",
                "deadpool.postgres",
                "mysql_async::conn::routines::exec",
                "redis::cmd",
                "hyper::proto::h1::io",
                "rustls::client::hs",
            ] {
                log::Log::log(
                    &bridge,
                    &log::Record::builder()
                        .level(log::Level::Debug)
                        .target(target)
                        .args(format_args!("via log: PASSWORD 'canary-log-{target}'"))
                        .build(),
                );
            }
            tracing::debug!(target: "tokio_postgres::simple_query", "via tracing: PASSWORD 'canary-tracing'");
            tracing::trace!(target: "deadpool.postgres", "via tracing: canary-deadpool");
            let span =
                tracing::info_span!(target: "mysql_async::exec", "query", sql = "canary-span");
            span.in_scope(|| tracing::info!(target: "coffer_core::x", "inside a span"));
            tracing::debug!(target: "coffer_engine_database::path_creds", "coffer's own line");
        });
        out.text()
    }

    #[test]
    fn database_statements_never_print_whatever_the_filter() {
        for spec in [
            "trace",
            "debug",
            "trace,tokio_postgres=trace",
            "tokio_postgres::simple_query=trace,deadpool.postgres=trace,coffer_engine_database=debug",
            "trace,mysql_async=trace,redis=trace,hyper=trace,rustls=trace",
            "[query]=trace,trace",
            "[{sql}]=trace,trace",
        ] {
            let printed = printed_under(spec);
            assert!(
                !printed.contains("canary"),
                "{spec} let a silenced target print:\n{printed}"
            );
            // The filter is applied, not everything dropped.
            assert!(
                printed.contains("coffer's own line"),
                "{spec} printed nothing of Coffer's:\n{printed}"
            );
        }
    }

    #[test]
    fn the_same_lines_print_when_not_silenced() {
        // The control: the bridge and the events above do reach the
        // formatter when their targets are not silenced.
        let out = Buffer::default();
        let sub = subscriber(EnvFilter::try_new("trace").unwrap(), out.clone(), false);
        tracing::subscriber::with_default(sub, || {
            log::Log::log(
                &tracing_log::LogTracer::new(),
                &log::Record::builder()
                    .level(log::Level::Debug)
                    .target("some_other_crate::query")
                    .args(format_args!("visible-via-log"))
                    .build(),
            );
            tracing::trace!(target: "some_other_crate", "visible-via-tracing");
        });
        let printed = out.text();
        assert!(printed.contains("visible-via-log"), "{printed}");
        assert!(printed.contains("visible-via-tracing"), "{printed}");
    }

    #[test]
    fn silenced_targets_match_on_boundaries() {
        assert!(is_silenced("tokio_postgres"));
        assert!(is_silenced("tokio_postgres::simple_query"));
        assert!(is_silenced("deadpool.postgres"));
        assert!(is_silenced("redis::aio"));
        assert!(!is_silenced("redis_like_crate"));
        assert!(!is_silenced("hyperion"));
        assert!(!is_silenced("coffer_database_redis"));
        assert!(!is_silenced("coffer_core::pipeline"));
    }
}
