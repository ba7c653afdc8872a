//! Vault's token store, end to end.
//!
//! [`TokenStore`] owns service tokens (`hvs.` + 24 random characters): it
//! creates them, looks them up for every request (checking expiry against the
//! clock and the validity of every ancestor), counts uses, renews, and revokes
//! whole trees or single tokens (orphaning their children). Only a salted
//! HMAC-SHA256 of each token is stored (`id/<hmac>`), next to an accessor index
//! (`accessor/<hmac>`) and a parent-to-children index
//! (`parent/<parent-hmac>/<child-hmac>`); the salt lives in the same view.
//!
//! Batch tokens (`hvb.`) are never stored: the token is the AEAD-sealed entry
//! itself, under a key kept in the store's view (see [`BATCH_TOKEN_PREFIX`]).
//! Tokens may be bound to client networks ([`TokenEntry::cidr_allowed`]), and
//! tokens minted for auth-method logins keep the method's [`LoginGrant`]
//! (`coffer_types::LoginGrant`) and go back to it on renewal through a
//! [`LoginRenewer`].
//!
//! [`LoginGrant`]: coffer_types::LoginGrant
//!
//! [`TokenBackend`] serves Vault's `auth/token/` API on top of a store:
//! `create`, `create-orphan`, `create/:role_name`, `lookup*`, `renew*`,
//! `revoke*`, `roles`, `accessors` and `tidy`, with Vault's fields, messages
//! and response shapes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod batch;
mod cidr;
mod create;
mod entry;
mod error;
mod login;
mod policies;
mod revoke;
mod role;
mod salt;
mod store;
mod tidy;
mod ttl;
mod uses;

pub use backend::{RootPolicySudo, SudoCheck, TokenBackend};
pub use batch::BATCH_TOKEN_PREFIX;
pub use create::{CreateParams, PreparedToken};
pub use entry::{TOKEN_TYPE_BATCH, TOKEN_TYPE_SERVICE, TokenEntry, TokenType};
pub use error::{Result, TokenError};
pub use login::{LoginRenewer, equivalent_policies, login_display_name};
pub use policies::{NON_ASSIGNABLE_POLICIES, sanitize_policies};
pub use role::{TokenRole, valid_role_name};
pub use store::{ACCESSOR_LEN, RevocationHook, SERVICE_TOKEN_PREFIX, TOKEN_RANDOM_LEN, TokenStore};
pub use tidy::TidyReport;
pub use ttl::TtlLimits;
