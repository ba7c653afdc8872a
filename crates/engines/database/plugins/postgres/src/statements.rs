//! The statements the plugin runs: its defaults, and how a list of
//! templates becomes SQL.

use std::time::{SystemTime, UNIX_EPOCH};

use coffer_database_plugin::{Placeholders, PluginError, render};
use time::OffsetDateTime;
use time::macros::format_description;

/// Creates a login role valid until the lease ends, allowed to read the
/// tables of schema `public` (the creation statement of Vault's PostgreSQL
/// documentation).
pub const DEFAULT_CREATION: &str = r#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";"#;

/// Undoes a failed creation (drops the role if it was made).
pub const DEFAULT_ROLLBACK: &str = r#"DROP ROLE IF EXISTS "{{name}}";"#;

/// Moves a role's expiry (Vault's default renew statement).
pub const DEFAULT_RENEW: &str = r#"ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';"#;

/// Sets a role's password (Vault's default rotation statement).
pub const DEFAULT_ROTATION: &str = r#"ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';"#;

/// The templated part of the default revocation, after the role's sessions
/// are ended (and, when the connection may, its objects are reassigned and
/// dropped: see the plugin's `revoke_user`): revokes what the role was
/// granted in schema `public`, then drops it.
pub const DEFAULT_REVOCATION: &str = r#"REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}"; REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM "{{name}}"; REVOKE ALL PRIVILEGES ON ALL FUNCTIONS IN SCHEMA public FROM "{{name}}"; REVOKE USAGE ON SCHEMA public FROM "{{name}}";"#;

/// Hands what the role owns to the connecting user and drops what remains
/// granted to it in this database (run by the default revocation when the
/// connection has the role's privileges, as a superuser does).
pub const DEFAULT_REVOCATION_OWNED: &str =
    r#"REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}";"#;

/// The last step of the default revocation.
pub const DEFAULT_REVOCATION_DROP: &str = r#"DROP ROLE IF EXISTS "{{name}}";"#;

/// Which statements to run: the role's own, or the plugin's defaults.
pub(crate) enum Statements<'a> {
    /// The role's statements, rendered as written (the role's author
    /// quotes the values).
    Custom(&'a [String]),
    /// The plugin's defaults, rendered with `"` doubled in names and `'`
    /// doubled in passwords, since the defaults quote them.
    Default(&'a [&'a str]),
}

impl<'a> Statements<'a> {
    /// The role's list, or `defaults` when the list is empty (or holds only
    /// blank entries, which would otherwise run nothing at all).
    pub(crate) fn choose(custom: &'a [String], defaults: &'a [&'a str]) -> Self {
        if custom.iter().all(|s| s.trim().is_empty()) {
            Statements::Default(defaults)
        } else {
            Statements::Custom(custom)
        }
    }

    /// Renders every non-blank entry; each may hold several `;`-separated
    /// statements.
    pub(crate) fn render(&self, values: &Placeholders<'_>) -> Vec<String> {
        match self {
            Statements::Custom(list) => list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| render(s, values))
                .collect(),
            Statements::Default(list) => {
                let name = values.name.map(|n| n.replace('"', "\"\""));
                let username = values.username.map(|n| n.replace('"', "\"\""));
                let password = values.password.map(|p| p.replace('\'', "''"));
                let escaped = Placeholders {
                    name: name.as_deref(),
                    username: username.as_deref(),
                    password: password.as_deref(),
                    expiration: values.expiration,
                };
                list.iter().map(|s| render(s, &escaped)).collect()
            }
        }
    }
}

/// `{{expiration}}` for PostgreSQL: `YYYY-MM-DD HH:MM:SS+0000`, in UTC.
pub(crate) fn format_expiration(at: SystemTime) -> Result<String, PluginError> {
    let secs = match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok(),
        Err(before) => i64::try_from(before.duration().as_secs()).ok().map(|s| -s),
    };
    let out_of_range = || PluginError::InvalidStatements("expiration is out of range".into());
    let dt = secs
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(out_of_range)?;
    dt.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]+0000"
    ))
    .map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expiration_is_utc_with_offset() {
        let at = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        assert_eq!(format_expiration(at).unwrap(), "2030-03-17 17:46:40+0000");
        assert_eq!(
            format_expiration(UNIX_EPOCH).unwrap(),
            "1970-01-01 00:00:00+0000"
        );
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 2);
        assert!(matches!(
            format_expiration(far),
            Err(PluginError::InvalidStatements(_))
        ));
    }

    #[test]
    fn empty_or_blank_lists_mean_the_defaults() {
        let defaults = [DEFAULT_RENEW];
        assert!(matches!(
            Statements::choose(&[], &defaults),
            Statements::Default(_)
        ));
        assert!(matches!(
            Statements::choose(&[" ".into(), String::new()], &defaults),
            Statements::Default(_)
        ));
        let custom = ["SELECT 1".to_owned(), " ".to_owned()];
        let chosen = Statements::choose(&custom, &defaults);
        assert_eq!(chosen.render(&Placeholders::default()), ["SELECT 1"]);
    }

    #[test]
    fn defaults_escape_quotes_custom_statements_do_not() {
        let values = Placeholders {
            name: Some(r#"we"ird"#),
            username: Some(r#"we"ird"#),
            password: Some("it's"),
            expiration: Some("2030-01-01 00:00:00+0000"),
        };
        let defaults = [DEFAULT_CREATION];
        assert_eq!(
            Statements::choose(&[], &defaults).render(&values),
            [
                r#"CREATE ROLE "we""ird" WITH LOGIN PASSWORD 'it''s' VALID UNTIL '2030-01-01 00:00:00+0000'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "we""ird";"#
            ]
        );
        let custom = [r#"CREATE USER "{{username}}" PASSWORD '{{password}}'"#.to_owned()];
        assert_eq!(
            Statements::choose(&custom, &defaults).render(&values),
            [r#"CREATE USER "we"ird" PASSWORD 'it's'"#]
        );
    }
}
