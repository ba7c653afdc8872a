//! Responses, and Vault's JSON envelope around them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A lease attached to a response that hands out a secret.
///
/// A backend that hands out something it must later revoke (a database user)
/// sets `internal_data`; the core then registers a lease with the expiration
/// manager and fills in `lease_id`. Without `internal_data` only the TTL is
/// shown (`lease_duration`), as KV v1 does for its refresh interval.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The lease id (`<mount>/<path>/<random>`); filled in by the expiration manager.
    pub lease_id: String,
    /// Time to live.
    pub ttl: Duration,
    /// Whether the lease may be renewed.
    pub renewable: bool,
    /// Longest the lease may live through renewals; zero means the mount's max.
    pub max_ttl: Duration,
    /// The backend's data for revoking and renewing; `Some` registers a lease.
    pub internal_data: Option<Map<String, Value>>,
}

impl std::fmt::Debug for LeaseInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseInfo")
            .field("lease_id", &self.lease_id)
            .field("ttl", &self.ttl)
            .field("renewable", &self.renewable)
            .field("registers_lease", &self.internal_data.is_some())
            .finish()
    }
}

/// The `auth` block of a login or token-creation response.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// The new token.
    pub client_token: String,
    /// Its accessor.
    pub accessor: String,
    /// All policies on the token.
    pub policies: Vec<String>,
    /// Policies attached to the token itself.
    pub token_policies: Vec<String>,
    /// Policies inherited from the identity (entity and groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_policies: Vec<String>,
    /// Metadata attached to the token.
    pub metadata: Option<Map<String, Value>>,
    /// Seconds until expiry (0 = never, root only).
    pub lease_duration: u64,
    /// Whether the token can be renewed.
    pub renewable: bool,
    /// Entity id ("" when none).
    pub entity_id: String,
    /// `service` or `batch`.
    pub token_type: String,
    /// Whether the token has no parent.
    pub orphan: bool,
    /// Remaining uses (0 = unlimited).
    pub num_uses: u64,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("client_token", &"[redacted]")
            .field("accessor", &self.accessor)
            .field("policies", &self.policies)
            .field("lease_duration", &self.lease_duration)
            .finish_non_exhaustive()
    }
}

/// The `wrap_info` block of a wrapped response.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrapInfo {
    /// The single-use wrapping token.
    pub token: String,
    /// Its accessor.
    pub accessor: String,
    /// TTL in seconds.
    pub ttl: u64,
    /// RFC 3339 creation time.
    pub creation_time: String,
    /// The path whose response was wrapped.
    pub creation_path: String,
    /// Entity id of the wrapper, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wrapped_accessor: String,
}

impl std::fmt::Debug for WrapInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrapInfo")
            .field("token", &"[redacted]")
            .field("accessor", &self.accessor)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What a backend answers. The HTTP layer renders it in Vault's envelope
/// (see [`Envelope`]), or as a raw body when `raw` is set (the unauthenticated
/// `sys/init`, `sys/seal-status`, `sys/health` endpoints answer bare JSON).
#[derive(Clone, Default)]
pub struct Response {
    /// The `data` object.
    pub data: Option<Map<String, Value>>,
    /// A lease on the returned secret, if any.
    pub secret: Option<LeaseInfo>,
    /// The auth block, for logins and token creation.
    pub auth: Option<Auth>,
    /// Non-fatal warnings.
    pub warnings: Vec<String>,
    /// Set when the response has been wrapped.
    pub wrap_info: Option<WrapInfo>,
    /// A bare JSON body to send instead of the envelope.
    pub raw: Option<Value>,
    /// An HTTP status to send instead of 200 (KV v2 answers 404 with a body for
    /// a deleted version; `sys/health` picks its status from the server state).
    pub status: Option<u16>,
    /// The type of the mount that answered (set by the core; shown in the envelope).
    pub mount_type: String,
    /// A successful login from an auth method; the core turns it into a token
    /// and fills in `auth`.
    pub login: Option<Box<crate::LoginGrant>>,
}

impl Response {
    /// A response with a `data` object.
    pub fn with_data(data: Map<String, Value>) -> Self {
        Self {
            data: Some(data),
            ..Self::default()
        }
    }

    /// A response with `data` built from any serialisable value that is a JSON
    /// object. Returns an internal error if `value` does not serialise to an object.
    pub fn from_serialize<T: Serialize>(value: &T) -> crate::Result<Self> {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => Ok(Self::with_data(map)),
            Ok(_) => Err(crate::Error::internal("response data is not an object")),
            Err(e) => Err(crate::Error::internal(format!("encoding response: {e}"))),
        }
    }

    /// A bare JSON body (no envelope) with the given status.
    pub fn raw(body: Value, status: u16) -> Self {
        Self {
            raw: Some(body),
            status: Some(status),
            ..Self::default()
        }
    }

    /// True when there is nothing to send (HTTP 204).
    pub fn is_empty(&self) -> bool {
        self.login.is_none()
            && self.data.is_none()
            && self.secret.is_none()
            && self.auth.is_none()
            && self.warnings.is_empty()
            && self.wrap_info.is_none()
            && self.raw.is_none()
    }

    /// Vault's LIST answer: `{"keys": [...]}`, and a 404 when there are none.
    pub fn list(keys: Vec<String>) -> crate::Result<Option<Self>> {
        if keys.is_empty() {
            return Err(crate::Error::not_found());
        }
        let mut data = Map::new();
        data.insert("keys".into(), keys.into());
        Ok(Some(Self::with_data(data)))
    }

    /// Adds a warning.
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
}

impl std::fmt::Debug for Response {
    /// Prints the shape only: data values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field(
                "data_keys",
                &self.data.as_ref().map(|d| d.keys().collect::<Vec<_>>()),
            )
            .field("secret", &self.secret)
            .field("auth", &self.auth)
            .field("warnings", &self.warnings)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Vault's response envelope, exactly as it appears on the wire.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The request id.
    pub request_id: String,
    /// Lease id ("" when none).
    pub lease_id: String,
    /// Whether the lease is renewable.
    pub renewable: bool,
    /// Lease duration in seconds.
    pub lease_duration: u64,
    /// The data object, or null.
    pub data: Option<Map<String, Value>>,
    /// Wrap info, or null.
    pub wrap_info: Option<WrapInfo>,
    /// Warnings, or null when there are none.
    pub warnings: Option<Vec<String>>,
    /// The auth block, or null.
    pub auth: Option<Auth>,
    /// The type of the mount that answered ("" for none).
    pub mount_type: String,
}

impl Envelope {
    /// Wraps a response for the wire.
    pub fn new(request_id: &str, response: Response) -> Self {
        let (lease_id, renewable, lease_duration) = match &response.secret {
            Some(lease) => (lease.lease_id.clone(), lease.renewable, lease.ttl.as_secs()),
            None => (String::new(), false, 0),
        };
        Self {
            request_id: request_id.to_owned(),
            lease_id,
            renewable,
            lease_duration,
            data: response.data,
            wrap_info: response.wrap_info,
            warnings: (!response.warnings.is_empty()).then_some(response.warnings),
            auth: response.auth,
            mount_type: response.mount_type,
        }
    }
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("request_id", &self.request_id)
            .field("lease_id", &self.lease_id)
            .finish_non_exhaustive()
    }
}
