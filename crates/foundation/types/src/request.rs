//! The request every layer below HTTP sees.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{Operation, Sensitive};

/// One client request, as decoded from Vault's wire format by the HTTP layer.
///
/// `path` is the full logical path (after `/v1/`) until the router hands the
/// request to a backend; it then holds the path relative to the mount and
/// `mount_point` holds the mount's path (`secret/`).
#[derive(Clone, Default)]
pub struct Request {
    /// A unique id (UUID) for this request, echoed in the response envelope.
    pub id: String,
    /// What the request does.
    pub operation: Option<Operation>,
    /// Logical path; see the type's documentation.
    pub path: String,
    /// Body fields (JSON object), merged with query parameters for reads.
    pub data: Map<String, Value>,
    /// The client token, if one was presented.
    pub client_token: Option<Sensitive>,
    /// The connecting client's address.
    pub client_addr: Option<IpAddr>,
    /// The response-wrapping TTL the client asked for (`X-Vault-Wrap-TTL`).
    pub wrap_ttl: Option<Duration>,
    /// The mount the router matched (`secret/`, `auth/token/`); empty before routing.
    pub mount_point: String,
    /// The mount's type (`kv`, `cubbyhole`, ...); empty before routing.
    pub mount_type: String,
    /// The mount's accessor; empty before routing.
    pub mount_accessor: String,
    /// The caller's entity id, when the token has one.
    pub entity_id: Option<String>,
    /// The display name of the caller's token (`token`, `userpass-alice`);
    /// engines put it in generated user names.
    pub display_name: Option<String>,
    /// The accessor of the caller's token (for owner-scoped engines such as cubbyhole).
    pub token_accessor: Option<String>,
    /// An id that is stable for the caller's token, used to scope per-token
    /// storage (cubbyhole). Never the token itself.
    pub token_scope: Option<String>,
    /// The storage id (salted HMAC) of the caller's service token, set by
    /// the core once it has authenticated the token, so the token store can
    /// find the caller again without hashing the token twice. Never the
    /// token itself; unset for batch tokens and unauthenticated requests.
    pub token_id: Option<String>,
    /// The TLS client certificate chain presented by the client (DER), if any.
    pub peer_certificates: Vec<Vec<u8>>,
}

impl Request {
    /// A request with the given operation and path and no body.
    pub fn new(operation: Operation, path: impl Into<String>) -> Self {
        Self {
            operation: Some(operation),
            path: path.into(),
            ..Self::default()
        }
    }

    /// The operation, `Read` when unset.
    pub fn op(&self) -> Operation {
        self.operation.unwrap_or(Operation::Read)
    }

    /// Builder: sets the body.
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }

    /// Builder: sets the client token.
    pub fn with_token(mut self, token: impl Into<Sensitive>) -> Self {
        self.client_token = Some(token.into());
        self
    }

    /// A string field of the body, if present and a string.
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.data.get(field).and_then(Value::as_str)
    }
}

impl std::fmt::Debug for Request {
    /// Prints the shape of the request; body values and the token are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("operation", &self.operation)
            .field("path", &self.path)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field(
                "client_token",
                &self.client_token.as_ref().map(|_| "[redacted]"),
            )
            .field("client_addr", &self.client_addr)
            .field("mount_point", &self.mount_point)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_body_values_and_token() {
        let mut data = Map::new();
        data.insert("password".into(), Value::String("canary-xyzzy".into()));
        let req = Request::new(Operation::Update, "secret/data/app")
            .with_data(data)
            .with_token("hvs.canarytoken");
        let shown = format!("{req:?}");
        assert!(shown.contains("password"));
        assert!(!shown.contains("canary"));
    }
}
