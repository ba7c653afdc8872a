//! Response wrapping: a response is stored in the cubbyhole of a new
//! single-use token and the client receives only that token (`wrap_info`).
//! `sys/wrapping/{wrap,unwrap,lookup,rewrap}` follow Vault's API.

use std::time::{Duration, SystemTime};

use coffer_tokens::{CreateParams, TokenEntry};
use coffer_types::{Envelope, Error, LeaseInfo, Operation, Request, Response, Result, WrapInfo};
use serde_json::{Map, Value, json};

use crate::pipeline::Caller;
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
            .ok_or_else(|| Error::internal("the cubbyhole mount is missing"))?;
        let backend = route
            .backend
            .as_ref()
            .ok_or_else(|| Error::internal("cubbyhole has no backend"))?;
        let mut req = Request::new(op, RESPONSE_KEY).with_data(data);
        req.mount_point = route.prefix.clone();
        req.mount_type = route.entry.mount_type.clone();
        req.token_scope = Some(scope.to_owned());
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
            return Err(Error::invalid("wrapping TTL must be greater than zero"));
        }
        if ttl > MAX_WRAP_TTL {
            return Err(Error::invalid(
                "wrapping TTL is greater than the maximum of 768h",
            ));
        }
        let wrapped_accessor = response
            .auth
            .as_ref()
            .map(|a| a.accessor.clone())
            .unwrap_or_default();
        let body = serde_json::to_string(&Envelope::new(request_id, response))
            .map_err(|e| Error::internal(format!("encoding the wrapped response: {e}")))?;
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

    /// The wrapping token named in `req` (`token` field), else the caller's own.
    async fn wrapping_token(
        &self,
        caller: &Caller,
        req: &Request,
    ) -> Result<std::sync::Arc<TokenEntry>> {
        let entry = match req.get_str("token").filter(|t| !t.is_empty()) {
            Some(token) => self.tokens.lookup_shared(token).await?,
            None => caller.entry.clone(),
        };
        entry
            .filter(|e| e.policies.iter().any(|p| p == RESPONSE_WRAPPING_POLICY))
            .ok_or_else(|| Error::invalid("wrapping token is not valid or does not exist"))
    }

    /// Reads the stored response of a wrapping token.
    async fn wrapped_response(&self, entry: &TokenEntry) -> Result<Envelope> {
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
            .ok_or_else(|| Error::invalid("wrapping token is not valid or does not exist"))?;
        serde_json::from_str(&stored)
            .map_err(|e| Error::internal(format!("stored wrapped response is corrupt: {e}")))
    }

    /// `sys/wrapping/lookup`, which needs no token of its own: the wrapping
    /// token is given in the body (or as the client token).
    pub(crate) async fn wrapping_lookup(&self, req: &Request) -> Result<Response> {
        crate::sys::allow(req.op(), &[Operation::Update, Operation::Read])?;
        let token = req
            .get_str("token")
            .filter(|t| !t.is_empty())
            .or_else(|| req.client_token.as_ref().map(|t| t.expose()))
            .ok_or_else(|| Error::invalid("missing token"))?;
        let entry = self
            .tokens
            .lookup(token)
            .await?
            .filter(|e| e.policies.iter().any(|p| p == RESPONSE_WRAPPING_POLICY))
            .ok_or_else(|| Error::invalid("wrapping token is not valid or does not exist"))?;
        Response::from_serialize(&json!({
            "creation_path": entry.path,
            "creation_time": rfc3339(entry.creation_time),
            "creation_ttl": entry.creation_ttl.as_secs(),
        }))
    }

    /// `sys/wrapping/wrap`, `unwrap` and `rewrap` (relative to `sys/`).
    pub(crate) async fn handle_wrapping(
        &self,
        caller: &Caller,
        relative: &str,
        req: &Request,
    ) -> Result<Option<Response>> {
        crate::sys::allow(req.op(), &[Operation::Update, Operation::Read])?;
        match relative {
            "wrapping/wrap" => {
                if req.wrap_ttl.is_none() {
                    return Err(Error::invalid(
                        "wrapping requested but no TTL given: set X-Vault-Wrap-TTL",
                    ));
                }
                if req.data.is_empty() {
                    return Err(Error::invalid("no data provided"));
                }
                Ok(Some(Response::with_data(req.data.clone())))
            }
            "wrapping/unwrap" => {
                let own = req.get_str("token").is_none_or(str::is_empty);
                let entry = self.wrapping_token(caller, req).await?;
                let envelope = self.wrapped_response(&entry).await?;
                // Single use: a wrapping token presented as the client token is
                // revoked by the pipeline after this request; one passed in
                // the body is revoked here.
                if !own {
                    self.tokens.revoke_tree(&entry).await?;
                }
                Ok(Some(unwrap_envelope(envelope)))
            }
            "wrapping/rewrap" => {
                let entry = self.wrapping_token(caller, req).await?;
                let envelope = self.wrapped_response(&entry).await?;
                let ttl = entry.creation_ttl;
                let response = unwrap_envelope(envelope);
                let rewrapped = self.wrap(&req.id, response, ttl, &entry.path).await?;
                self.tokens.revoke_tree(&entry).await?;
                Ok(Some(rewrapped))
            }
            _ => Err(Error::not_found()),
        }
    }
}

/// Turns a stored envelope back into the response it was.
fn unwrap_envelope(envelope: Envelope) -> Response {
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
