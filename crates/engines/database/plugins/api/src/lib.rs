//! The contract between the `database` secrets engine and its plugins.
//!
//! A plugin ([`PluginFactory`]) turns [`ConnectionSettings`] (the engine's
//! `config/:name`) into a connected [`DatabasePlugin`] that creates, renews,
//! re-passwords and drops users by running statements. Statements are
//! templates (`{{name}}`, `{{username}}`, `{{password}}`, `{{expiration}}`)
//! rendered by [`render`]; an empty statement list means the plugin's own
//! defaults. Every error a plugin returns has had the passwords it knew about
//! removed ([`redact`]), so a database that echoes a statement back cannot
//! leak a password into a response or a log.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod plugin;
mod settings;
mod template;

pub use error::PluginError;
pub use plugin::{DatabasePlugin, NewUser, PluginFactory};
pub use settings::ConnectionSettings;
pub use template::{Placeholders, redact, render, substitute_credentials};
