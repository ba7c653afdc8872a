//! The contract between the core and every secrets engine or auth method.
//!
//! A backend implements [`Backend`]; it declares its paths in a [`PathTable`]
//! (pattern, fields, operations, help) and receives each routed request with a
//! [`Context`] that gives it its own storage view, its mount's configuration
//! and the server's [`Clock`]. Help text is generated from the same
//! declarations. Backends never see the core, the HTTP layer or another mount's
//! storage.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
pub mod catalog;
pub mod cidr;
mod clock;
mod fields;
mod paths;
mod services;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod token_fields;

pub use backend::{Backend, Context, MountConfig, SpecialPaths};
pub use clock::{Clock, ManualClock, SystemClock};
pub use fields::{FieldData, FieldDef, FieldType};
pub use paths::{Captures, Matched, PathDef, PathTable};
pub use services::{JobRegistry, JobSchedule, JobStatus, PasswordSource, Services, Unavailable};

pub use coffer_storage as storage;
pub use coffer_storage::cache;
pub use coffer_types as types;
