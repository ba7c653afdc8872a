//! For tests only: the services of the build machine.
//!
//! Tests that need PostgreSQL, MariaDB/MySQL or Redis call [`require`]: it
//! reads the service's URL from its environment variable (with the standard
//! local default), checks that something listens there, and returns the URL.
//! When nothing does, the test is skipped with a printed reason (`None`),
//! unless `COFFER_REQUIRE_SERVICES=1` (set by `.ci/run`), where it panics so
//! the run fails instead of passing quietly. Every other environment skip
//! (no tmpfs, no server binary, ...) goes through the same rule:
//! [`skip_or_fail`] and [`require_environment`].
//!
//! Tests that must prove a password works (or stopped working) start a
//! [`PgCluster`]: a throwaway PostgreSQL server where every connection needs
//! `scram-sha-256`, unlike the machine's server, which trusts local
//! connections. Tests of OpenPGP messages use a [`Gpg`] home of their own.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod gpg;
mod pg_cluster;
mod pg_tools;

pub use gpg::Gpg;
pub use pg_cluster::PgCluster;

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A service of the build machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// PostgreSQL: `COFFER_TEST_POSTGRES_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/postgres` (trust authentication).
    Postgres,
    /// MariaDB or MySQL: `COFFER_TEST_MYSQL_URL`, default
    /// `mysql://root@127.0.0.1:3306/` (root with an empty password).
    Mysql,
    /// Redis: `COFFER_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`.
    Redis,
}

impl Service {
    /// The environment variable that overrides the URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Postgres => "COFFER_TEST_POSTGRES_URL",
            Service::Mysql => "COFFER_TEST_MYSQL_URL",
            Service::Redis => "COFFER_TEST_REDIS_URL",
        }
    }

    /// The standard local URL.
    pub fn default_url(self) -> &'static str {
        match self {
            Service::Postgres => "postgres://postgres@127.0.0.1:5432/postgres",
            Service::Mysql => "mysql://root@127.0.0.1:3306/",
            Service::Redis => "redis://127.0.0.1:6379",
        }
    }

    /// The URL to use: the environment variable's, or the default.
    pub fn url(self) -> String {
        std::env::var(self.env_var())
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.default_url().to_owned())
    }
}

/// Host and port of a `scheme://[user[:pass]@]host[:port][/...]` URL.
pub fn host_port(url: &str, default_port: u16) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_owned(), p.parse().ok()?)),
        None => Some((hostport.to_owned(), default_port)),
    }
}

fn default_port(service: Service) -> u16 {
    match service {
        Service::Postgres => 5432,
        Service::Mysql => 3306,
        Service::Redis => 6379,
    }
}

/// Whether `COFFER_REQUIRE_SERVICES=1`: missing services fail tests.
pub fn services_required() -> bool {
    std::env::var("COFFER_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn reachable(url: &str, port: u16) -> Result<(), String> {
    let (host, port) = host_port(url, port).ok_or_else(|| format!("cannot parse {url}"))?;
    let addrs = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?;
    let mut last = format!("no address for {host}:{port}");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

/// The one rule for a test that cannot run here: prints
/// `SKIPPED <test>: <why>` and returns, or panics when
/// [`services_required`] (under `COFFER_REQUIRE_SERVICES=1` nothing may
/// skip). Every environment skip of the suite goes through it (or through
/// [`require_environment`], [`require`] and [`PgCluster`]'s `*_or_skip`).
///
/// # Panics
///
/// When [`services_required`].
pub fn skip_or_fail(test: &str, why: &str) {
    match skip_verdict(services_required(), test, why) {
        Ok(skipped) => eprintln!("{skipped}"),
        Err(failure) => panic!("{failure}"),
    }
}

/// What [`skip_or_fail`] does: `Ok(line to print)` to skip, `Err(panic
/// message)` when skips are forbidden.
fn skip_verdict(required: bool, test: &str, why: &str) -> Result<String, String> {
    if required {
        Err(format!(
            "{test}: cannot run here, and COFFER_REQUIRE_SERVICES=1 forbids skipping: {why}"
        ))
    } else {
        Ok(format!("SKIPPED {test}: {why}"))
    }
}

/// `Some(value)` when what the test needs from its environment is there;
/// otherwise [`skip_or_fail`] with the error as the reason, and `None`.
///
/// # Panics
///
/// When `needed` is an error and [`services_required`].
pub fn require_environment<T, E: std::fmt::Display>(test: &str, needed: Result<T, E>) -> Option<T> {
    match needed {
        Ok(value) => Some(value),
        Err(why) => {
            skip_or_fail(test, &why.to_string());
            None
        }
    }
}

/// The service's URL if it is reachable. Otherwise prints why the calling
/// test is skipped and returns `None`, or panics when
/// [`services_required`] (see [`skip_or_fail`]).
pub fn require(service: Service, test: &str) -> Option<String> {
    let url = service.url();
    let needed = reachable(&url, default_port(service))
        .map(|()| url)
        .map_err(|why| {
            format!(
                "{service:?} unreachable at {} ({why}); set it or start the service",
                service.env_var()
            )
        });
    require_environment(test, needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_and_port() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/postgres", 1),
            Some(("127.0.0.1".into(), 5432))
        );
        assert_eq!(
            host_port("redis://127.0.0.1", 6379),
            Some(("127.0.0.1".into(), 6379))
        );
        assert_eq!(
            host_port("mysql://root:p@ss@localhost:3307/", 3306),
            Some(("localhost".into(), 3307))
        );
        assert_eq!(host_port("nonsense", 1), None);
    }

    #[test]
    fn skips_are_failures_when_services_are_required() {
        assert_eq!(
            skip_verdict(false, "t", "no tmpfs"),
            Ok("SKIPPED t: no tmpfs".to_owned())
        );
        let failure = skip_verdict(true, "t", "no tmpfs").unwrap_err();
        assert!(failure.starts_with("t: "), "{failure}");
        assert!(failure.contains("COFFER_REQUIRE_SERVICES=1"), "{failure}");
        assert!(failure.ends_with("no tmpfs"), "{failure}");
        assert_eq!(require_environment::<_, String>("t", Ok(7)), Some(7));
    }

    #[test]
    fn the_build_machine_services_answer() {
        for s in [Service::Postgres, Service::Mysql, Service::Redis] {
            // Skips (or fails under COFFER_REQUIRE_SERVICES=1) like every service test.
            let _ = require(s, "the_build_machine_services_answer");
        }
    }
}
