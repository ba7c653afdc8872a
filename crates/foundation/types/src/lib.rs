//! Coffer's shared vocabulary: the request and response that flow through the
//! pipeline, Vault's response envelope, the error kinds and their single mapping
//! to HTTP status codes, Vault-style durations, and a redacting wrapper for
//! sensitive strings. This crate does no I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod duration;
pub mod error;
pub mod error_kinds;
pub mod glob;
pub mod hcl_nesting;
pub mod login;
pub mod operation;
pub mod position;
pub mod request;
pub mod response;
pub mod sensitive;
pub mod stored_time;
pub mod timestamp;

pub use duration::{DurationError, MAX_DURATION, format_duration, parse_duration};
pub use error::{Error, ErrorKind, Result};
pub use error_kinds::HasErrorKind;
pub use login::{AliasGrant, LeaseData, LoginGrant};
pub use operation::Operation;
pub use position::Position;
pub use request::{Caller, Request};
pub use response::{Auth, Envelope, LeaseInfo, Response, WrapInfo};
pub use sensitive::Sensitive;
