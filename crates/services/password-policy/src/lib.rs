//! Vault's password policies: how Coffer generates every password it hands
//! out (database credentials, rotated root passwords) and the
//! `sys/policies/password` endpoints that manage them.
//!
//! A policy is Vault's HCL (or its JSON form):
//!
//! ```hcl
//! length = 20
//! rule "charset" {
//!   charset   = "abcdefghijklmnopqrstuvwxyz"
//!   min-chars = 1
//! }
//! ```
//!
//! [`PasswordPolicy::parse`] validates it with Vault's rules and messages,
//! [`PasswordPolicy::generate`] draws a conforming password from the OS
//! CSPRNG (through `coffer-crypto`), and [`PasswordPolicyStore`] keeps named
//! policies in a storage view and answers the HTTP endpoints. Generated
//! passwords are [`coffer_types::Sensitive`]: never printed by `Debug`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod generate;
mod parse;
mod policy;
mod source;
mod store;
mod sys;

pub use error::{PasswordPolicyError, Position};
pub use policy::{CharsetRule, MAX_CHARSET_LEN, MAX_LENGTH, MIN_LENGTH, PasswordPolicy};
pub use store::{PasswordPolicyStore, valid_name};
