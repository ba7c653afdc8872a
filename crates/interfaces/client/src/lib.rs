//! Typed HTTP client for Coffer and Vault, used by the CLI, the agent and the tests.
//!
//! The client speaks Vault's `/v1` HTTP API: [`Client::read`], [`Client::write`],
//! [`Client::list`], [`Client::delete`] and [`Client::patch`] behave like Vault's Go
//! `Logical()` client (a `404` on a read or list is "nothing there", `204` is an
//! empty answer), and [`Client::sys`] gives typed access to the unauthenticated and
//! operator `sys/` endpoints. Connection settings come from [`ClientConfig`], usually
//! built by [`ClientConfig::from_env`] from `VAULT_*` / `COFFER_*` variables and the
//! `~/.vault-token` file. TLS is rustls with the aws-lc-rs provider (reqwest's
//! default); `VAULT_CACERT` replaces the system roots, as in Vault.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod secret;
pub mod sys;
pub mod sys_types;
pub mod token_file;

pub use client::{Client, RawResponse};
pub use config::{ClientConfig, DEFAULT_ADDRESS};
pub use error::{ClientError, Result};
pub use secret::{Secret, SecretAuth, SecretWrapInfo};
pub use sys::{RekeyTarget, Sys};
pub use sys_types::{InitRequest, InitResponse, SealStatus};
