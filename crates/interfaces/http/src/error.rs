//! The HTTP layer's own failures (a request that cannot be decoded, a body
//! too large or too slow, an untrusted `X-Forwarded-For`, a handler that
//! panicked), each with its kind, converted into Coffer's
//! [`Error`](coffer_types::Error) when they are rendered. Messages are the
//! ones clients have always seen and never contain a token or body content.

use coffer_crypto::CryptoError;
use coffer_types::DurationError;

/// Why the HTTP layer refused or failed a request before or after the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum HttpError {
    /// A `%XX` escape in the path is not two hex digits.
    #[error("invalid percent-encoding in request path")]
    PercentEncoding,
    /// The decoded path is not UTF-8.
    #[error("request path is not valid UTF-8")]
    PathNotUtf8,
    /// A method Vault does not serve.
    #[error("unsupported method {0}")]
    UnsupportedMethod(String),
    /// The query string did not decode.
    #[error("invalid query string: {0}")]
    QueryString(#[source] serde_urlencoded::de::Error),
    /// The body is JSON but not an object (nor `null`).
    #[error("failed to parse JSON input: request body must be a JSON object")]
    BodyNotObject,
    /// `X-Vault-Wrap-TTL` is not a duration.
    #[error("invalid X-Vault-Wrap-TTL: {0}")]
    WrapTtl(#[source] DurationError),
    /// `X-Forwarded-For` came from a peer outside the trusted addresses.
    #[error(
        "client address not authorized for X-Forwarded-For and rejecting connection: permission denied"
    )]
    ForwardedForNotAuthorized,
    /// `X-Forwarded-For` from a trusted peer holds no address.
    #[error("malformed X-Forwarded-For header")]
    MalformedForwardedFor,
    /// The body is larger than [`MAX_REQUEST_SIZE`](crate::MAX_REQUEST_SIZE).
    #[error("http: request body too large")]
    TooLarge,
    /// The body did not arrive within the listener's `http_read_timeout`
    /// (sent with status 408).
    #[error(
        "http: request read timed out: the request did not arrive in full within the \
         listener's http_read_timeout"
    )]
    ReadTimedOut,
    /// Reading the body failed (the connection broke).
    #[error("failed to read the request body")]
    BodyRead,
    /// The random generator failed while making the request id.
    #[error("generating request id: {0}")]
    RequestId(#[source] CryptoError),
    /// The handler panicked; nothing about the panic is shown.
    #[error("internal error while handling the request")]
    Panicked,
    /// The response envelope did not encode.
    #[error("encoding response: {0}")]
    EncodeResponse(#[source] serde_json::Error),
}

coffer_types::error_kinds! {
    HttpError {
        PercentEncoding
        | PathNotUtf8
        | QueryString(_)
        | BodyNotObject
        | WrapTtl(_)
        | MalformedForwardedFor
        | ReadTimedOut
        | BodyRead => InvalidRequest,
        UnsupportedMethod(_) => UnsupportedOperation,
        ForwardedForNotAuthorized => PermissionDenied,
        TooLarge => PayloadTooLarge,
        RequestId(_) | Panicked | EncodeResponse(_) => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_and_messages_reach_the_client() {
        let e = Error::from(HttpError::UnsupportedMethod("TRACE".into()));
        assert_eq!(
            (e.status(), e.messages()),
            (405, &["unsupported method TRACE".to_owned()][..])
        );
        let e = Error::from(HttpError::ForwardedForNotAuthorized);
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.messages(),
            [
                "client address not authorized for X-Forwarded-For and rejecting connection: permission denied"
            ]
        );
        let e = Error::from(HttpError::TooLarge);
        assert_eq!(
            (e.status(), e.to_string().as_str()),
            (413, "http: request body too large")
        );
        let e = Error::from(HttpError::RequestId(CryptoError::Random));
        assert_eq!(e.status(), 500);
        assert_eq!(
            e.messages(),
            ["generating request id: random number generator failure"]
        );
        assert_eq!(Error::from(HttpError::Panicked).status(), 500);
        assert_eq!(Error::from(HttpError::BodyNotObject).status(), 400);
    }
}
