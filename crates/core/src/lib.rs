//! The heart of Coffer: the seal lifecycle (init, unseal, seal, rekey,
//! generate-root, key rotation), the mount tables and router, the policy store,
//! and the one request pipeline every request passes through:
//! authenticate -> authorize (ACL with the existence check) -> audit -> route ->
//! respond.
//!
//! The HTTP layer turns wire requests into [`coffer_types::Request`]s and calls
//! [`Core::handle`]; nothing else reaches the backends.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod config;
mod core;
mod error;
mod generate_root;
mod jobs;
mod keys;
mod leases;
mod login;
mod mounts;
mod pgp;
mod pipeline;
mod policy_store;
mod rekey;
mod remount;
mod router;
mod seal;
mod sys;
mod unsealed;
mod wrapping;

pub use crate::config::{CoreConfig, core_catalog};
pub use crate::core::{Core, InitResult};
pub use crate::error::CoreError;
pub use crate::router::MountRouter;
pub use crate::seal::SealConfig;
pub use crate::sys::cors::{CorsConfig, STD_ALLOWED_HEADERS};
