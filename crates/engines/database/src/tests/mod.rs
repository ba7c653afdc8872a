//! Engine tests against the real services: the machine's PostgreSQL
//! (trust authentication: good for checking what exists) and throwaway
//! clusters with scram-sha-256 (to prove a password works or stopped
//! working), Redis and MariaDB.

mod harness;
mod test_config;
mod test_creds;
mod test_paths;
mod test_redis_mysql;
mod test_root;
mod test_static;
