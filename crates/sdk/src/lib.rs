//! The contract between the core and every secrets engine or auth method.
//!
//! A backend implements [`Backend`]; it declares its paths in a [`PathTable`]
//! ([`Path`]s: a [`PathDef`] with pattern, typed fields, operations and help,
//! a handler per operation, an optional existence function, and
//! unauthenticated/sudo flags) and names that table once, in
//! [`Backend::routes`] (`self.table.bind(self)`); the trait's provided
//! `handle`, `exists`, `special_paths` and `paths` then answer from it
//! ([`Routes`]), and [`PathTable::dispatch`] routes each request to a
//! handler, which gets a [`Call`]: its own storage view, its mount's
//! configuration, the server's [`Clock`], the captures and the validated
//! fields. Help, OpenAPI, the existence check and the special paths come
//! from the same declarations. Backends never see the core, the HTTP layer
//! or another mount's storage.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assembly;
mod backend;
pub mod catalog;
pub mod cidr;
mod clock;
pub mod dispatch;
mod error;
#[cfg(feature = "testing")]
pub mod field_walk;
mod fields;
mod paths;
mod routes;
mod services;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod token_fields;

pub use assembly::Assembly;
pub use backend::{Backend, Context, MountConfig, SpecialPaths};
pub use clock::{Clock, ManualClock, SystemClock};
pub use dispatch::{BoxFuture, Call, Existence, Handler, Path, PathTable};
pub use error::SdkError;
pub use fields::{FieldData, FieldDef, FieldDefault, FieldType};
pub use paths::{Captures, PathDef, special_path_matches};
pub use routes::Routes;
pub use services::{JobRegistry, JobSchedule, JobStatus, PasswordSource, Services, Unavailable};

pub use coffer_storage as storage;
pub use coffer_storage::cache;
pub use coffer_types as types;
