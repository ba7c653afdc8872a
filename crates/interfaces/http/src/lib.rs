//! The HTTP layer: turns Vault's wire format into [`coffer_types::Request`]s
//! for [`coffer_core::Core::handle`] and renders the answers in Vault's
//! envelope and error shape. It owns the listeners, TLS (rustls with
//! aws-lc-rs) and graceful shutdown.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cors;
mod decode;
mod error;
mod render;
mod serve;
mod tls;

pub use decode::decode as decode_request;
pub use serve::{ConnInfo, ListenerOptions, MAX_REQUEST_SIZE, respond, serve, serve_with};
pub use tls::{TlsError, TlsSettings, load_tls_config};
