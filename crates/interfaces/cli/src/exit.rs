//! Exit codes like Vault's CLI: 0 success, 1 local errors (bad flags, wrong
//! number of arguments, failed validation), 2 remote errors (API failures, bad
//! TLS, unreachable server). Some commands pick their own codes (`status`: 2 when
//! sealed); they return an [`Exit`].

use coffer_client::ClientError;

/// Success.
pub const OK: u8 = 0;
/// A local error.
pub const LOCAL: u8 = 1;
/// A remote error.
pub const REMOTE: u8 = 2;

/// An explicit exit code, with an optional message for stderr.
#[derive(Debug)]
pub struct Exit {
    /// The process exit code.
    pub code: u8,
    /// Printed to stderr when present.
    pub message: Option<String>,
}

impl Exit {
    /// Exit with `code` and nothing more to say.
    pub fn silent(code: u8) -> Self {
        Self {
            code,
            message: None,
        }
    }

    /// Exit with `code` after printing `message`.
    pub fn with_message(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: Some(message.into()),
        }
    }

    /// A remote failure reported with Vault's wording ("No value found at ...").
    pub fn remote(message: impl Into<String>) -> Self {
        Self::with_message(REMOTE, message)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for Exit {}

/// The exit code for a failed command: an [`Exit`] decides itself; any error
/// caused by the client (API, transport, TLS, client configuration) is remote;
/// everything else is local.
pub fn code_for(err: &anyhow::Error) -> u8 {
    if let Some(exit) = err.downcast_ref::<Exit>() {
        return exit.code;
    }
    if err.chain().any(|cause| cause.is::<ClientError>()) {
        return REMOTE;
    }
    LOCAL
}

/// The message to print for a failed command, or `None` for a silent exit.
pub fn message_for(err: &anyhow::Error) -> Option<String> {
    match err.downcast_ref::<Exit>() {
        Some(exit) => exit.message.clone(),
        None => Some(format!("{err:#}")),
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn local_errors_exit_1() {
        let err = anyhow::anyhow!("Not enough arguments (expected 1, got 0)");
        assert_eq!(code_for(&err), LOCAL);
        assert_eq!(
            message_for(&err).unwrap(),
            "Not enough arguments (expected 1, got 0)"
        );
    }

    #[test]
    fn client_errors_exit_2_even_with_context() {
        let api = ClientError::Api {
            method: "GET".into(),
            url: "u".into(),
            status: 403,
            errors: vec!["permission denied".into()],
        };
        let err = Err::<(), _>(api)
            .context("Error reading secret/x")
            .unwrap_err();
        assert_eq!(code_for(&err), REMOTE);
        assert!(
            message_for(&err)
                .unwrap()
                .starts_with("Error reading secret/x: Error making API request.")
        );
        let cfg = anyhow::Error::new(ClientError::Config("bad".into()));
        assert_eq!(code_for(&cfg), REMOTE);
    }

    #[test]
    fn explicit_exits_choose_their_code() {
        let sealed = anyhow::Error::new(Exit::silent(2));
        assert_eq!(code_for(&sealed), 2);
        assert!(message_for(&sealed).is_none());
        let missing = anyhow::Error::new(Exit::remote("No value found at secret/data/x"));
        assert_eq!(code_for(&missing), REMOTE);
        assert_eq!(
            message_for(&missing).unwrap(),
            "No value found at secret/data/x"
        );
        assert_eq!(OK, 0);
    }
}
