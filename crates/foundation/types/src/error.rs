//! Error kinds and their one exhaustive mapping to HTTP status codes.

/// The class of a failure. Every crate's typed error maps onto one of these,
/// and [`ErrorKind::status`] is the only place that turns a kind into an HTTP
/// status code (no string matching anywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client sent something invalid (400).
    InvalidRequest,
    /// Missing or invalid token, or the policy denies the request (403).
    PermissionDenied,
    /// Nothing at this path (404).
    NotFound,
    /// The path exists but does not support the operation (405).
    UnsupportedOperation,
    /// A check-and-set or other precondition failed (400 in Vault's KV; kept apart for clarity).
    CasMismatch,
    /// The request body exceeds the size limit (413).
    PayloadTooLarge,
    /// A rate-limit quota was exceeded (429).
    RateLimited,
    /// A server-side failure that is not the client's fault (500).
    Internal,
    /// The server has not been initialised (501 for most paths).
    NotInitialized,
    /// The server is sealed (503).
    Sealed,
}

impl ErrorKind {
    /// The HTTP status code Vault answers with for this kind of error.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::CasMismatch => 400,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::UnsupportedOperation => 405,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::NotInitialized => 501,
            ErrorKind::Sealed => 503,
        }
    }
}

/// An error with a kind (which decides the status code) and the messages the
/// client sees in Vault's `{"errors": [...]}` body. Messages must never contain
/// secret values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .messages.join("; "))]
pub struct Error {
    kind: ErrorKind,
    messages: Vec<String>,
    retry_after: Option<std::time::Duration>,
}

/// Result with Coffer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with one message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            messages: vec![message.into()],
            retry_after: None,
        }
    }

    /// An error of `kind` with no message (Vault's bare 404 has `"errors": []`).
    pub fn bare(kind: ErrorKind) -> Self {
        Self {
            kind,
            messages: Vec::new(),
            retry_after: None,
        }
    }

    /// 400: the client sent something invalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// 403 with Vault's message.
    pub fn permission_denied() -> Self {
        Self::new(ErrorKind::PermissionDenied, "permission denied")
    }

    /// 404 with no message, as Vault answers for a missing entry.
    pub fn not_found() -> Self {
        Self::bare(ErrorKind::NotFound)
    }

    /// 405: the path does not support the operation.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedOperation, message)
    }

    /// 500: a server-side failure. The message must say what failed without
    /// secret values.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// 503: the server is sealed.
    pub fn sealed() -> Self {
        Self::new(ErrorKind::Sealed, "Vault is sealed")
    }

    /// 429 with Vault's message for `path` and a `Retry-After` of `retry_after`.
    pub fn rate_limited(path: &str, retry_after: std::time::Duration) -> Self {
        Self {
            kind: ErrorKind::RateLimited,
            messages: vec![format!("request path {path:?}: rate limit quota exceeded")],
            retry_after: Some(retry_after),
        }
    }

    /// How long the client should wait before retrying (rate limits).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// The kind, which decides the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The messages shown to the client.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Adds context in front of the first message (`"context: message"`).
    pub fn context(mut self, context: &str) -> Self {
        match self.messages.first_mut() {
            Some(first) => *first = format!("{context}: {first}"),
            None => self.messages.push(context.to_owned()),
        }
        self
    }
}

/// JSON failures, by whose fault they are. There is deliberately no
/// `From<serde_json::Error>`: the same `serde_json` error is the client's
/// fault when it decodes a request body, and the server's when it encodes a
/// value of ours or decodes a record we stored.
impl Error {
    /// 400: a client's JSON input that does not parse (bad syntax, cut
    /// short) or that parses but has the wrong shape (a string where a
    /// number belongs, a missing field). The message says which, with
    /// serde's explanation (it quotes the client's own input, never ours).
    pub fn client_json(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Error::invalid(format!("failed to parse JSON input: {err}"))
            }
            Category::Data => Error::invalid(format!("invalid JSON input: {err}")),
        }
    }

    /// 500: a value of ours could not be encoded as JSON (`what` names it,
    /// e.g. `"lease entry"`). The message names the value, not its content.
    pub fn json_encode(what: &str, err: &serde_json::Error) -> Self {
        Error::internal(format!("could not encode {what} as JSON: {err}"))
    }

    /// 500: a record we stored does not decode (`what` names it). Only the
    /// category and position of the failure are given: serde's text could
    /// quote the record, which may hold secrets.
    pub fn json_stored(what: &str, err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match err.classify() {
            Category::Syntax => "malformed JSON",
            Category::Eof => "truncated JSON",
            Category::Data => "unexpected shape",
            Category::Io => "read failure",
        };
        Error::internal(format!(
            "stored {what} could not be decoded: {category} at line {}, column {}",
            err.line(),
            err.column()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        assert_eq!(Error::invalid("x").status(), 400);
        assert_eq!(Error::permission_denied().status(), 403);
        assert_eq!(Error::not_found().status(), 404);
        assert_eq!(Error::sealed().status(), 503);
        assert_eq!(ErrorKind::NotInitialized.status(), 501);
    }

    #[test]
    fn client_json_is_a_400_that_tells_syntax_from_shape() {
        let syntax = serde_json::from_str::<serde_json::Value>("{not json").unwrap_err();
        let e = Error::client_json(&syntax);
        assert_eq!(e.status(), 400);
        assert!(
            e.messages()[0].starts_with("failed to parse JSON input: key must be a string"),
            "{e}"
        );
        let eof = serde_json::from_str::<serde_json::Value>("{\"a\": [1,").unwrap_err();
        let e = Error::client_json(&eof);
        assert_eq!(e.status(), 400);
        assert!(
            e.messages()[0].starts_with("failed to parse JSON input: EOF"),
            "{e}"
        );
        let shape = serde_json::from_str::<Vec<u64>>("[\"x\"]").unwrap_err();
        let e = Error::client_json(&shape);
        assert_eq!(e.status(), 400);
        assert!(
            e.messages()[0].starts_with("invalid JSON input: invalid type: string \"x\""),
            "{e}"
        );
    }

    #[test]
    fn our_own_json_failures_are_internal_and_echo_no_content() {
        let unencodable: std::collections::HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let err = serde_json::to_vec(&unencodable).unwrap_err();
        let e = Error::json_encode("lease entry", &err);
        assert_eq!(e.status(), 500);
        assert!(
            e.messages()[0].starts_with("could not encode lease entry as JSON: "),
            "{e}"
        );
        let stored = serde_json::from_str::<Vec<u64>>("[\"s3cr3t\"]").unwrap_err();
        let e = Error::json_stored("user entry", &stored);
        assert_eq!(e.status(), 500);
        assert_eq!(
            e.messages(),
            ["stored user entry could not be decoded: unexpected shape at line 1, column 9"]
        );
        assert!(!e.to_string().contains("s3cr3t"));
        let cut = serde_json::from_str::<serde_json::Value>("[1").unwrap_err();
        assert!(Error::json_stored("x", &cut).messages()[0].contains("truncated JSON"));
    }

    #[test]
    fn context_prefixes_first_message() {
        let e = Error::invalid("bad").context("kv");
        assert_eq!(e.messages(), ["kv: bad"]);
        assert_eq!(e.to_string(), "kv: bad");
    }
}
