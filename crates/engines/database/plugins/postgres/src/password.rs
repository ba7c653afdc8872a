//! Vault's `password_authentication`: how a new password reaches the
//! server.

use coffer_database_plugin::{ConnectionSettings, PluginError};
use coffer_types::Sensitive;

use crate::url::string_option;

/// What `{{password}}` becomes in the statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PasswordAuthentication {
    /// `password` (the default): the password itself; the server hashes it.
    Password,
    /// `scram-sha-256`: a SCRAM-SHA-256 verifier computed here, which the
    /// server stores as is, so the password never crosses the connection
    /// nor reaches the server's statement log.
    ScramSha256,
}

impl PasswordAuthentication {
    /// The config's `password_authentication` (absent: `password`).
    pub(crate) fn from_settings(settings: &ConnectionSettings) -> Result<Self, PluginError> {
        match string_option(settings, "password_authentication")? {
            None | Some("password") => Ok(Self::Password),
            Some("scram-sha-256") => Ok(Self::ScramSha256),
            Some(other) => Err(PluginError::InvalidSettings(format!(
                "'{other}' is not a valid password authentication type (use password or scram-sha-256)"
            ))),
        }
    }

    /// The value of `{{password}}` for `password`.
    pub(crate) fn value(self, password: &Sensitive) -> Sensitive {
        match self {
            Self::Password => password.clone(),
            Self::ScramSha256 => Sensitive::new(postgres_protocol::password::scram_sha_256(
                password.expose().as_bytes(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: serde_json::Value) -> ConnectionSettings {
        let mut s = ConnectionSettings::default();
        s.options.insert("password_authentication".into(), value);
        s
    }

    #[test]
    fn parses_vaults_values() {
        assert_eq!(
            PasswordAuthentication::from_settings(&ConnectionSettings::default()).unwrap(),
            PasswordAuthentication::Password
        );
        assert_eq!(
            PasswordAuthentication::from_settings(&with("scram-sha-256".into())).unwrap(),
            PasswordAuthentication::ScramSha256
        );
        assert!(matches!(
            PasswordAuthentication::from_settings(&with("md5".into())),
            Err(PluginError::InvalidSettings(_))
        ));
    }

    #[test]
    fn scram_hashes_the_password() {
        let pw = Sensitive::from("secret-pw");
        assert_eq!(
            PasswordAuthentication::Password.value(&pw).expose(),
            "secret-pw"
        );
        let verifier = PasswordAuthentication::ScramSha256.value(&pw);
        assert!(verifier.expose().starts_with("SCRAM-SHA-256$4096:"));
        assert!(!verifier.expose().contains("secret-pw"));
    }
}
