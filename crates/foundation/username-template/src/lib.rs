//! Vault's username templates: the subset of Go's `text/template` that
//! Vault's `username_template` settings use, with Vault's functions
//! (`sdk/helper/template`), for the names of generated database users.
//!
//! ```
//! use coffer_username_template::{TemplateData, UsernameTemplate, POSTGRES_DEFAULT};
//!
//! let template = UsernameTemplate::parse(POSTGRES_DEFAULT)?;
//! let name = template.render(&TemplateData::new("token", "readonly"))?;
//! assert!(name.starts_with("v-token-readonly-") && name.len() <= 63);
//! # Ok::<(), coffer_username_template::TemplateError>(())
//! ```
//!
//! Supported: literal text; actions `{{ ... }}` with the trim markers `{{- `
//! and ` -}}`; comments `{{/* ... */}}`; pipelines `a | f x` (the piped value
//! is the last argument of `f`); parenthesised pipelines; string literals
//! (`"..."` with Go's escapes, and raw `` `...` ``); integer literals; the
//! fields `.DisplayName` and `.RoleName`; and the functions `printf` (`%s %v
//! %d %x %X %%`), `random`, `truncate`, `truncate_sha256`, `uppercase`,
//! `lowercase`, `replace`, `sha256`, `base64`, `unix_time`,
//! `unix_time_millis`, `timestamp` (Go layouts, UTC) and `uuid`.
//! Not supported: control actions (`if`, `range`, ...), variables and Go's
//! built-in functions other than `printf`.
//!
//! Everything that can be checked without the data is checked by
//! [`UsernameTemplate::parse`]: syntax, function and field names, argument
//! counts and types, printf verbs of literal formats. Lengths (`truncate`)
//! are in bytes, like Vault's, and never split a character.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod defaults;
mod error;
mod eval;
mod functions;
mod layout;
mod lexer;
mod parser;
mod printf;

use std::time::SystemTime;

pub use defaults::{MYSQL_DEFAULT, MYSQL_LEGACY_DEFAULT, POSTGRES_DEFAULT, REDIS_DEFAULT};
pub use error::{Position, TemplateError};

/// The longest template text accepted, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 4096;

/// The deepest nesting accepted: of parentheses, and of function calls in
/// one action (each pipeline stage is one level).
pub const MAX_DEPTH: usize = 32;

/// The longest value (and rendered output) produced, in bytes.
pub const MAX_OUTPUT_LEN: usize = 16 * 1024;

/// What a template can read: Vault's `UsernameMetadata` plus the clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateData {
    /// `.DisplayName`: the display name of the requesting token.
    pub display_name: String,
    /// `.RoleName`: the name of the role the credentials are for.
    pub role_name: String,
    /// The time `unix_time`, `unix_time_millis` and `timestamp` report.
    pub now: SystemTime,
}

impl TemplateData {
    /// Data for `display_name` and `role_name` at the current time.
    pub fn new(display_name: impl Into<String>, role_name: impl Into<String>) -> Self {
        TemplateData {
            display_name: display_name.into(),
            role_name: role_name.into(),
            now: SystemTime::now(),
        }
    }
}

/// A parsed username template, ready to render any number of times.
#[derive(Clone, Debug, PartialEq)]
pub struct UsernameTemplate {
    text: String,
    nodes: Vec<parser::Node>,
}

impl UsernameTemplate {
    /// Parses and checks `text` (at most [`MAX_TEMPLATE_LEN`] bytes).
    pub fn parse(text: &str) -> Result<UsernameTemplate, TemplateError> {
        Ok(UsernameTemplate {
            text: text.to_owned(),
            nodes: parser::parse(text)?,
        })
    }

    /// Renders the template with `data`. Fails only on values: a function
    /// refusing its arguments (`truncate 0`), output over
    /// [`MAX_OUTPUT_LEN`] bytes, or a failing clock or CSPRNG.
    pub fn render(&self, data: &TemplateData) -> Result<String, TemplateError> {
        eval::render(&self.nodes, data)
    }

    /// The template's text, as given to [`UsernameTemplate::parse`].
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for UsernameTemplate {
    type Err = TemplateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        UsernameTemplate::parse(text)
    }
}
