//! What the core hands the audit broker for each request and response.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use coffer_types::{Request, Response, Sensitive};
use serde_json::{Map, Value};

/// The caller's token as the core resolved it (Vault's `logical.Auth` of the
/// request). Filled by the core after authentication; `None` in
/// [`AuditRequest::auth`] for unauthenticated requests.
#[derive(Clone, Default)]
pub struct AuditAuth {
    /// The client token (always HMAC-ed unless `log_raw`).
    pub client_token: Option<Sensitive>,
    /// The token's accessor (HMAC-ed when `hmac_accessor`).
    pub accessor: String,
    /// The token's display name.
    pub display_name: String,
    /// All policies that apply.
    pub policies: Vec<String>,
    /// Policies attached to the token.
    pub token_policies: Vec<String>,
    /// Policies from the identity (entity and groups).
    pub identity_policies: Vec<String>,
    /// Token metadata.
    pub metadata: Map<String, Value>,
    /// Entity id ("" when none).
    pub entity_id: String,
    /// `service` or `batch` ("" prints Vault's `default`).
    pub token_type: String,
    /// The token's TTL (zero for root tokens).
    pub token_ttl: Duration,
    /// When the token was issued.
    pub token_issue_time: Option<SystemTime>,
    /// Uses left on a limited-use token (0: unlimited, omitted).
    pub remaining_uses: u64,
}

impl std::fmt::Debug for AuditAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditAuth")
            .field(
                "client_token",
                &self.client_token.as_ref().map(|_| "[redacted]"),
            )
            .field("accessor", &self.accessor)
            .field("display_name", &self.display_name)
            .field("policies", &self.policies)
            .field("entity_id", &self.entity_id)
            .finish_non_exhaustive()
    }
}

/// A request header chosen for auditing (Vault's
/// `sys/config/auditing/request-headers`): its values, and whether they are
/// HMAC-ed.
#[derive(Clone, Default)]
pub struct AuditHeader {
    /// The header's values.
    pub values: Vec<String>,
    /// Whether the values are HMAC-ed (unless the device logs raw).
    pub hmac: bool,
}

impl std::fmt::Debug for AuditHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditHeader")
            .field("values", &self.values.len())
            .field("hmac", &self.hmac)
            .finish()
    }
}

/// One request as the audit devices see it.
///
/// `request.path` must be the full logical path (`secret/data/app`), and
/// `request.mount_*` the matched mount, as Vault logs them.
#[derive(Clone, Copy, Debug)]
pub struct AuditRequest<'a> {
    /// The request.
    pub request: &'a Request,
    /// The caller's token, when the request was authenticated.
    pub auth: Option<&'a AuditAuth>,
    /// The error the request failed with (permission denied, ...), logged
    /// in the record's `error` field.
    pub error: Option<&'a str>,
    /// The client's source port.
    pub remote_port: Option<u16>,
    /// Audited request headers, by lowercase name.
    pub headers: Option<&'a BTreeMap<String, AuditHeader>>,
    /// The mount's `audit_non_hmac_request_keys`.
    pub non_hmac_request_keys: &'a [String],
}

impl<'a> AuditRequest<'a> {
    /// An audit input for `request` with no auth, error, port or headers.
    pub fn new(request: &'a Request) -> Self {
        Self {
            request,
            auth: None,
            error: None,
            remote_port: None,
            headers: None,
            non_hmac_request_keys: &[],
        }
    }

    /// Builder: the caller's token.
    pub fn with_auth(mut self, auth: &'a AuditAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Builder: the error the request failed with.
    pub fn with_error(mut self, error: &'a str) -> Self {
        self.error = Some(error);
        self
    }
}

/// The outcome of a request: the response, or the error it failed with.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditResponse<'a> {
    /// The response, if the request produced one.
    pub response: Option<&'a Response>,
    /// The error the request failed with; overrides [`AuditRequest::error`]
    /// in the response record.
    pub error: Option<&'a str>,
    /// The mount's `audit_non_hmac_response_keys`.
    pub non_hmac_response_keys: &'a [String],
}

impl<'a> AuditResponse<'a> {
    /// A successful response.
    pub fn ok(response: &'a Response) -> Self {
        Self {
            response: Some(response),
            ..Self::default()
        }
    }

    /// A failed request.
    pub fn failed(error: &'a str) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token_and_header_values() {
        let auth = AuditAuth {
            client_token: Some(Sensitive::new("hvs.canary")),
            accessor: "acc".into(),
            ..AuditAuth::default()
        };
        assert!(!format!("{auth:?}").contains("canary"));
        let h = AuditHeader {
            values: vec!["canary".into()],
            hmac: true,
        };
        assert!(!format!("{h:?}").contains("canary"));
    }
}
