//! Generated user names: the config's `username_template`, or the
//! plugin's default.

use std::time::SystemTime;

use coffer_types::Result;
use coffer_username_template::{TemplateData, UsernameTemplate};

use crate::error::DatabaseError;

/// Checks a template when a config is written (a 400 when it does not parse).
pub(crate) fn check(template: &str) -> Result<()> {
    UsernameTemplate::parse(template)
        .map(|_| ())
        .map_err(|e| DatabaseError::InvalidUsernameTemplate(e).into())
}

/// A fresh user name for `role`, requested by a token shown as `display_name`.
pub(crate) fn generate(
    template: &str,
    display_name: &str,
    role: &str,
    now: SystemTime,
) -> Result<String> {
    let parsed =
        UsernameTemplate::parse(template).map_err(DatabaseError::InvalidUsernameTemplate)?;
    let name = parsed
        .render(&TemplateData {
            display_name: display_name.to_owned(),
            role_name: role.to_owned(),
            now,
        })
        .map_err(DatabaseError::GenerateUsername)?;
    if name.is_empty() {
        return Err(DatabaseError::EmptyUsername.into());
    }
    Ok(name)
}
