//! Vault ACL policies for Coffer: the parser for Vault's HCL (and JSON)
//! policy syntax, the ACL compiled from a token's policies with Vault's
//! matching and priority rules, parameter constraints, the built-in
//! `root`/`default` policies and the rules about their names, and Vault's
//! identity templating of policy paths ([`TemplateContext`]).
//! Pure: no I/O, no clock, no global state.
//!
//! ```
//! use coffer_policy::{Acl, Policy};
//! use coffer_types::Operation;
//!
//! let p = Policy::parse("dev", r#"path "secret/data/*" { capabilities = ["read"] }"#)?;
//! let acl = Acl::new(&[&p])?;
//! assert!(acl.authorize("secret/data/app", Operation::Read, None).allowed);
//! assert!(!acl.authorize("secret/data/app", Operation::Update, None).allowed);
//! assert_eq!(acl.capabilities("secret/data/app"), ["read"]);
//! # Ok::<(), coffer_policy::PolicyError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod acl;
mod authorization;
mod capability;
mod context;
pub mod default_policy;
mod error;
mod lines;
pub mod matching;
mod params;
mod parse;
mod parse_json;
mod policy;
mod resultant;
mod rules;
mod template;
mod work;

pub use acl::Acl;
pub use authorization::{Authorization, DenyReason};
pub use capability::{Capability, CapabilitySet};
pub use context::{TemplateAlias, TemplateContext, TemplateGroup};
pub use default_policy::{DEFAULT_POLICY, DEFAULT_POLICY_NAME, ROOT_POLICY_NAME};
pub use error::{PolicyError, Position};
pub use policy::Policy;
pub use resultant::{PatternPermissions, ResultantAcl};
pub use rules::PathRule;
