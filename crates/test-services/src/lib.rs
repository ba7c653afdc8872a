//! For tests only: the services of the build machine.
//!
//! Tests that need PostgreSQL, MariaDB/MySQL or Redis call [`require`]: it
//! reads the service's URL from its environment variable (with the standard
//! local default), checks that something listens there, and returns the URL.
//! When nothing does, the test is skipped with a printed reason (`None`),
//! unless `COFFER_REQUIRE_SERVICES=1` (set by `.ci/run`), where it panics so
//! the run fails instead of passing quietly.
//!
//! Tests that must prove a password works (or stopped working) start a
//! [`PgCluster`]: a throwaway PostgreSQL server where every connection needs
//! `scram-sha-256`, unlike the machine's server, which trusts local
//! connections.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod pg_cluster;
mod pg_tools;

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

/// The service's URL if it is reachable. Otherwise prints why the calling
/// test is skipped and returns `None`, or panics when
/// [`services_required`].
pub fn require(service: Service, test: &str) -> Option<String> {
    let url = service.url();
    match reachable(&url, default_port(service)) {
        Ok(()) => Some(url),
        Err(why) if services_required() => panic!(
            "{test}: {service:?} is required (COFFER_REQUIRE_SERVICES=1) but unreachable at {}: {why}",
            service.env_var()
        ),
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: {service:?} unreachable ({why}); set {} or start it",
                service.env_var()
            );
            None
        }
    }
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
    fn the_build_machine_services_answer() {
        for s in [Service::Postgres, Service::Mysql, Service::Redis] {
            // Skips (or fails under COFFER_REQUIRE_SERVICES=1) like every service test.
            let _ = require(s, "the_build_machine_services_answer");
        }
    }
}
