//! Response wrapping: a response is stored in the cubbyhole of a new
//! single-use token and the client receives only that token (`wrap_info`).
//! The pipeline wraps a response when the request asks for it; the
//! `sys/wrapping/*` endpoints that unwrap, rewrap and look up are the
//! `sys/` piece [`crate::sys::wrapping`], built on the helpers here.

use crate::error::CoreError;
use std::time::{Duration, SystemTime};

use coffer_tokens::{CreateParams, TokenEntry};
use coffer_types::{Envelope, LeaseInfo, Operation, Request, Response, Result, WrapInfo};
use serde_json::{Map, Value};

use crate::policy_store::RESPONSE_WRAPPING_POLICY;
use crate::unsealed::Unsealed;

/// Where a wrapping token's cubbyhole keeps the wrapped response.
const RESPONSE_KEY: &str = "response";
/// Longest wrapping TTL Vault accepts when nothing narrower applies.
const MAX_WRAP_TTL: Duration = Duration::from_secs(768 * 3600);

fn rfc3339(t: SystemTime) -> String {
    coffer_sdk::time::rfc3339(t)
}

impl Unsealed {
    /// Calls the cubbyhole backend as the owner `scope` would.
    async fn cubbyhole(
        &self,
        op: Operation,
        scope: &str,
        data: Map<String, Value>,
    ) -> Result<Option<Response>> {
        let route = self
            .router()
            .lookup("cubbyhole/")
            .ok_or(CoreError::CoreMountMissing("cubbyhole"))?;
        let backend = &route.backend;
        let mut req = Request::new(op, format!("{}{RESPONSE_KEY}", route.prefix)).with_data(data);
        req.relative_path = RESPONSE_KEY.to_owned();
        req.mount_point = route.prefix.clone();
        req.mount_type = route.entry.mount_type.clone();
        req.caller_mut().scope = Some(scope.to_owned());
        backend.handle(&route.ctx, &req).await
    }

    /// Replaces `response` by a wrapping token whose cubbyhole holds it.
    pub(crate) async fn wrap(
        &self,
        request_id: &str,
        response: Response,
        ttl: Duration,
        creation_path: &str,
    ) -> Result<Response> {
        if ttl.is_zero() {
            return Err(CoreError::WrapTtlZero.into());
        }
        if ttl > MAX_WRAP_TTL {
            return Err(CoreError::WrapTtlTooLong.into());
        }
        let wrapped_accessor = response
            .auth
            .as_ref()
            .map(|a| a.accessor.clone())
            .unwrap_or_default();
        let body =
            serde_json::to_string(&Envelope::new(request_id, response)).map_err(|source| {
                CoreError::Json {
                    doing: "encoding the wrapped response",
                    source,
                }
            })?;
        let (token, entry) = self
            .tokens
            .create(CreateParams {
                policies: vec![RESPONSE_WRAPPING_POLICY.to_owned()],
                ttl,
                num_uses: 1,
                renewable: false,
                path: creation_path.to_owned(),
                display_name: "response-wrapping".to_owned(),
                parent: None,
                ..CreateParams::default()
            })
            .await?;
        let mut data = Map::new();
        data.insert(RESPONSE_KEY.into(), Value::String(body));
        self.cubbyhole(Operation::Update, entry.scope_id(), data)
            .await?;
        Ok(Response {
            wrap_info: Some(WrapInfo {
                token: token.expose().to_owned(),
                accessor: entry.accessor.clone(),
                ttl: ttl.as_secs(),
                creation_time: rfc3339(entry.creation_time),
                creation_path: creation_path.to_owned(),
                wrapped_accessor,
            }),
            ..Response::default()
        })
    }

    /// Reads the stored response of a wrapping token.
    pub(crate) async fn wrapped_response(&self, entry: &TokenEntry) -> Result<Envelope> {
        let stored = self
            .cubbyhole(Operation::Read, entry.scope_id(), Map::new())
            .await
            .ok()
            .flatten()
            .and_then(|r| r.data)
            .and_then(|d| {
                d.get(RESPONSE_KEY)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or(CoreError::InvalidWrappingToken)?;
        serde_json::from_str(&stored).map_err(|source| {
            CoreError::Json {
                doing: "stored wrapped response is corrupt",
                source,
            }
            .into()
        })
    }
}

/// Turns a stored envelope back into the response it was.
pub(crate) fn unwrap_envelope(envelope: Envelope) -> Response {
    let secret =
        (!envelope.lease_id.is_empty() || envelope.lease_duration > 0).then(|| LeaseInfo {
            lease_id: envelope.lease_id.clone(),
            ttl: Duration::from_secs(envelope.lease_duration),
            renewable: envelope.renewable,
            ..LeaseInfo::default()
        });
    Response {
        data: envelope.data,
        secret,
        auth: envelope.auth,
        warnings: envelope.warnings.unwrap_or_default(),
        mount_type: envelope.mount_type,
        ..Response::default()
    }
}
