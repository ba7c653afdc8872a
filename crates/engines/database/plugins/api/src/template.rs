//! Statement templates and password redaction.

use std::borrow::Cow;

/// Values for a statement's placeholders.
#[derive(Clone, Copy, Default)]
pub struct Placeholders<'a> {
    /// `{{name}}`: the user the statement is about.
    pub name: Option<&'a str>,
    /// `{{username}}`: the same user (Vault accepts both), or the root user
    /// in root rotation statements.
    pub username: Option<&'a str>,
    /// `{{password}}`: the user's new password.
    pub password: Option<&'a str>,
    /// `{{expiration}}`: the credential's end, already formatted for the database.
    pub expiration: Option<&'a str>,
}

impl std::fmt::Debug for Placeholders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Placeholders")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "[redacted]"))
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Renders a statement: `{{name}}`, `{{username}}`, `{{password}}` and
/// `{{expiration}}` (with or without spaces inside the braces) are replaced
/// by their values; a placeholder without a value, or any other `{{...}}`,
/// is left as written.
pub fn render(statement: &str, values: &Placeholders<'_>) -> String {
    let mut out = String::with_capacity(statement.len() + 32);
    let mut rest = statement;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        let value = match key {
            "name" => values.name,
            "username" => values.username,
            "password" => values.password,
            "expiration" => values.expiration,
            _ => None,
        };
        match value {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Puts the root credentials into a connection URL's `{{username}}` and
/// `{{password}}` placeholders, percent-encoding them when the URL is a
/// URL (`scheme://`) so that `@`, `:` or `/` in a password stay data.
pub fn substitute_credentials(url: &str, username: &str, password: &str) -> String {
    let is_url = url.contains("://");
    let enc = |s: &str| -> String {
        if is_url {
            percent_encode_userinfo(s)
        } else {
            s.to_owned()
        }
    };
    render(
        url,
        &Placeholders {
            username: Some(&enc(username)),
            password: Some(&enc(password)),
            ..Placeholders::default()
        },
    )
}

fn percent_encode_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes every non-empty secret in `secrets` (and its percent-encoded
/// form) from `message`, for error messages that may echo a statement or a
/// connection string.
pub fn redact<'a>(message: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(message);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let encoded = percent_encode_userinfo(secret);
        for form in [*secret, encoded.as_str()] {
            if out.contains(form) {
                out = Cow::Owned(out.replace(form, "[redacted]"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_placeholders_with_or_without_spaces() {
        let v = Placeholders {
            name: Some("v-app-x"),
            password: Some("pw"),
            expiration: Some("2030-01-01 00:00:00+0000"),
            ..Placeholders::default()
        };
        let s = r#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{ password }}' VALID UNTIL '{{expiration}}';"#;
        assert_eq!(
            render(s, &v),
            r#"CREATE ROLE "v-app-x" WITH LOGIN PASSWORD 'pw' VALID UNTIL '2030-01-01 00:00:00+0000';"#
        );
        // Unknown or valueless placeholders and unterminated braces stay.
        assert_eq!(
            render("{{username}} {{other}} {{", &v),
            "{{username}} {{other}} {{"
        );
    }

    #[test]
    fn credentials_are_encoded_in_urls_only() {
        assert_eq!(
            substitute_credentials(
                "postgres://{{username}}:{{password}}@db/x",
                "ad min",
                "p@ss:/"
            ),
            "postgres://ad%20min:p%40ss%3A%2F@db/x"
        );
        assert_eq!(
            substitute_credentials(
                "{{username}}:{{password}}@tcp(127.0.0.1:3306)/",
                "root",
                "p@ss"
            ),
            "root:p@ss@tcp(127.0.0.1:3306)/"
        );
    }

    #[test]
    fn redacts_plain_and_encoded_secrets() {
        let msg = "syntax error near 'p@ss' in postgres://u:p%40ss@h";
        assert_eq!(
            redact(msg, &["p@ss", ""]),
            "syntax error near '[redacted]' in postgres://u:[redacted]@h"
        );
        assert!(matches!(redact("fine", &["x"]), Cow::Borrowed(_)));
    }
}
