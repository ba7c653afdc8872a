//! Vault's identity store for Coffer: entities (one per client, whatever
//! auth method it logs in with), their aliases (the identity an auth mount
//! knows the client by) and groups (which carry policies to their member
//! entities and, transitively, to the members of member groups).
//!
//! - [`IdentityStore`] keeps every entity, alias and group in memory for
//!   the lookups made on every request ([`IdentityStore::identity_policies`],
//!   [`IdentityStore::template_context`]) and writes through to its storage
//!   view. The core calls [`IdentityStore::entity_for_login`] on each login.
//! - [`IdentityBackend`] serves Vault's `identity/` API: `entity`,
//!   `entity-alias`, `group` and `lookup`, with Vault's paths, fields,
//!   response shapes and messages.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod error;
mod ids;
mod metadata;
mod model;
mod ops_alias;
mod ops_entity;
mod ops_group;
mod ops_merge;
mod path_alias;
mod path_entity;
mod path_group;
mod path_lookup;
mod render;
mod state;
mod store;

#[cfg(test)]
mod test_support;

pub use backend::{IdentityBackend, MountResolver};
pub use error::{IdentityError, Result};
pub use model::{Alias, Entity, Group, ROOT_NAMESPACE_ID};
pub use store::IdentityStore;
