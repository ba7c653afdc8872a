//! The client's typed error, with the HTTP status and Vault's `errors` list.

use std::path::PathBuf;

use coffer_types::ErrorKind;

/// Result with the client's [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a Coffer or Vault server. Messages
/// never contain the token or secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configuration is unusable (bad address, unparsable environment value).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The CA certificate file could not be read or parsed.
    #[error("error loading CA certificate {}: {message}", path.display())]
    CaCert {
        /// The file named by `VAULT_CACERT` / `ca_cert`.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("error building the HTTP client: {0}")]
    Build(String),
    /// The request never got an HTTP answer (connection refused, TLS failure, timeout).
    #[error("error making API request to {method} {url}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Full URL of the request.
        url: String,
        /// The underlying transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{}", api_message(method, url, *status, errors))]
    Api {
        /// HTTP method.
        method: String,
        /// Full URL of the request.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Vault's `errors` list (or the raw body when it was not Vault's JSON).
        errors: Vec<String>,
    },
    /// The server answered with a body that is not the expected JSON.
    #[error("error decoding the response to {method} {url}: {message}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Full URL of the request.
        url: String,
        /// What did not parse.
        message: String,
    },
}

/// Renders an API error the way Vault's Go client does.
fn api_message(method: &str, url: &str, status: u16, errors: &[String]) -> String {
    let mut out =
        format!("Error making API request.\n\nURL: {method} {url}\nCode: {status}. Errors:\n\n");
    let items: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
    out.push_str(&items.join("\n"));
    out
}

impl ClientError {
    /// The HTTP status of an API error; `None` when the server never answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Vault's `errors` list of an API error (empty for other errors).
    pub fn errors(&self) -> &[String] {
        match self {
            ClientError::Api { errors, .. } => errors,
            _ => &[],
        }
    }
}

coffer_types::error_kinds! {
    /// The class of the failure, mapped from the HTTP status for API errors.
    ClientError {
        Config(_) | CaCert { .. } => InvalidRequest,
        Build(_) | Transport { .. } | Decode { .. } => Internal,
        Api { status, .. } => kind_for_status(*status),
    }
}

/// The error kind Vault means by an HTTP status code.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        405 => ErrorKind::UnsupportedOperation,
        413 => ErrorKind::PayloadTooLarge,
        429 => ErrorKind::RateLimited,
        501 => ErrorKind::NotInitialized,
        503 => ErrorKind::Sealed,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Internal,
    }
}

/// Extracts Vault's `errors` list from an error body; falls back to the trimmed
/// raw body when it is not Vault's JSON shape.
pub(crate) fn parse_error_body(body: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    match serde_json::from_str::<Body>(body) {
        Ok(parsed) => parsed
            .errors
            .into_iter()
            .map(|e| match e {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Err(_) => {
            let trimmed = body.trim();
            if trimmed.is_empty() {
                Vec::new()
            } else {
                vec![trimmed.to_owned()]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_renders_like_vault() {
        let err = ClientError::Api {
            method: "GET".into(),
            url: "http://127.0.0.1:8200/v1/secret/data/x".into(),
            status: 403,
            errors: vec!["permission denied".into()],
        };
        assert_eq!(
            err.to_string(),
            "Error making API request.\n\nURL: GET http://127.0.0.1:8200/v1/secret/data/x\nCode: 403. Errors:\n\n* permission denied"
        );
        assert_eq!(err.status(), Some(403));
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(err.errors(), ["permission denied"]);
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_for_status(400), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(404), ErrorKind::NotFound);
        assert_eq!(kind_for_status(418), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(501), ErrorKind::NotInitialized);
        assert_eq!(kind_for_status(503), ErrorKind::Sealed);
        assert_eq!(kind_for_status(502), ErrorKind::Internal);
    }

    #[test]
    fn error_bodies_parse() {
        assert_eq!(parse_error_body(r#"{"errors":["a","b"]}"#), ["a", "b"]);
        assert!(parse_error_body(r#"{"errors":[]}"#).is_empty());
        assert!(parse_error_body("").is_empty());
        assert_eq!(parse_error_body("  bad gateway \n"), ["bad gateway"]);
    }
}
