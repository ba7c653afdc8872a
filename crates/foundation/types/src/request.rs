//! The request every layer below HTTP sees.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{Operation, Sensitive};

/// One client request, as decoded from Vault's wire format by the HTTP layer.
///
/// `path` is the full logical path (after `/v1/`) and never changes;
/// `relative_path` is the part below the mount the router matched, which is
/// what a backend matches its paths against (`mount_point` holds the
/// mount's path, `secret/`). [`Request::new`] sets both to the same path: a
/// request made for a backend directly is already relative to it.
#[derive(Clone, Default)]
pub struct Request {
    /// A unique id (UUID) for this request, echoed in the response envelope.
    pub id: String,
    /// What the request does.
    pub operation: Option<Operation>,
    /// The full logical path (`secret/data/app`); see the type's documentation.
    pub path: String,
    /// The path relative to the mount (`data/app`), set by the router.
    pub relative_path: String,
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
    /// Who sent the request, as the core authenticated it; `None` for an
    /// unauthenticated path and before authentication.
    pub caller: Option<Caller>,
    /// The TLS client certificate chain presented by the client (DER), if any.
    pub peer_certificates: Vec<Vec<u8>>,
}

impl Request {
    /// A request with the given operation and path and no body.
    pub fn new(operation: Operation, path: impl Into<String>) -> Self {
        let path = path.into();
        Self {
            operation: Some(operation),
            relative_path: path.clone(),
            path,
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
            .field("relative_path", &self.relative_path)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field(
                "client_token",
                &self.client_token.as_ref().map(|_| "[redacted]"),
            )
            .field("client_addr", &self.client_addr)
            .field("mount_point", &self.mount_point)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

/// Who sent a request: what the core learnt from the token when it
/// authenticated it (token entry, identity), resolved once per request.
/// Never the token itself.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The storage id (salted HMAC) of the caller's service token, so the
    /// token store can find it again without hashing the token twice;
    /// `None` for batch tokens.
    pub token_id: Option<String>,
    /// The token's accessor; `None` for batch tokens.
    pub accessor: Option<String>,
    /// An id that is stable for the caller's token, used to scope
    /// per-token storage (cubbyhole); `None` for batch tokens.
    pub scope: Option<String>,
    /// The caller's entity id, when the token has one.
    pub entity_id: Option<String>,
    /// The display name of the token (`token`, `userpass-alice`); engines
    /// put it in generated user names.
    pub display_name: Option<String>,
    /// The token's own policies.
    pub policies: Vec<String>,
    /// The policies the token has through its entity and groups.
    pub identity_policies: Vec<String>,
}

impl std::fmt::Debug for Caller {
    /// Prints who the caller is; the token's ids (storage id, accessor,
    /// scope) are only said to be present, as audit devices HMAC them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("token_id", &self.token_id.as_ref().map(|_| "[redacted]"))
            .field("accessor", &self.accessor.as_ref().map(|_| "[redacted]"))
            .field("scope", &self.scope.as_ref().map(|_| "[redacted]"))
            .field("entity_id", &self.entity_id)
            .field("display_name", &self.display_name)
            .field("policies", &self.policies)
            .field("identity_policies", &self.identity_policies)
            .finish()
    }
}

impl Request {
    /// The caller's entity id, if the request is authenticated and the
    /// token has one.
    pub fn entity_id(&self) -> Option<&str> {
        self.caller.as_ref()?.entity_id.as_deref()
    }

    /// The caller's token display name, if authenticated and set.
    pub fn display_name(&self) -> Option<&str> {
        self.caller.as_ref()?.display_name.as_deref()
    }

    /// The caller's per-token storage scope (cubbyhole), if any.
    pub fn token_scope(&self) -> Option<&str> {
        self.caller.as_ref()?.scope.as_deref()
    }

    /// The caller's token accessor, if any.
    pub fn token_accessor(&self) -> Option<&str> {
        self.caller.as_ref()?.accessor.as_deref()
    }

    /// The storage id of the caller's service token, if any.
    pub fn token_id(&self) -> Option<&str> {
        self.caller.as_ref()?.token_id.as_deref()
    }

    /// The caller, created empty if the request has none yet (for tests and
    /// for the core's internal requests).
    pub fn caller_mut(&mut self) -> &mut Caller {
        self.caller.get_or_insert_with(Caller::default)
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
