//! The audit stages of the pipeline ([`Unsealed::handle`] calls them when a
//! device is enabled): every admitted request is logged before it reaches
//! its backend and its outcome before the response leaves; a request no
//! audit device could record is refused (fail closed).

use crate::error::CoreError;
use coffer_audit::{AuditAuth, AuditRequest, AuditResponse};
use coffer_tokens::TokenEntry;
use coffer_types::{Error, Request, Response, Result, Sensitive};
use serde_json::{Map, Value};

use crate::Core;
use crate::pipeline::Admitted;
use crate::unsealed::Unsealed;

/// What the audit log records about a token.
fn audit_auth(
    entry: &TokenEntry,
    token: Option<Sensitive>,
    identity_policies: Vec<String>,
) -> AuditAuth {
    let mut policies = entry.policies.clone();
    policies.extend(identity_policies.iter().cloned());
    policies.sort();
    policies.dedup();
    AuditAuth {
        client_token: token,
        accessor: entry.accessor.clone(),
        display_name: entry.display_name.clone(),
        policies,
        token_policies: entry.policies.clone(),
        identity_policies,
        metadata: entry
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
        entity_id: entry.entity_id.clone(),
        token_type: entry.token_type.clone(),
        token_ttl: entry.ttl,
        token_issue_time: Some(entry.creation_time),
        remaining_uses: entry.num_uses,
    }
}

impl AuditRecord {
    /// The audit input for this record's request.
    fn input<'a>(&'a self, admitted: &'a Admitted) -> AuditRequest<'a> {
        let mut input = AuditRequest::new(&self.logged);
        input.auth = self.auth.as_ref();
        input.non_hmac_request_keys = &admitted.route.entry.config.audit_non_hmac_request_keys;
        input
    }
}

/// The error a client sees when no audit device could record its request.
fn audit_failed(err: coffer_audit::AuditError) -> Error {
    tracing::error!(error = %err, "audit logging failed; request refused");
    CoreError::AuditRefused.into()
}

/// What the request's audit record was made from, kept for the response's.
pub(crate) struct AuditRecord {
    /// The request as logged: its full path.
    logged: Request,
    /// The caller's token, as logged.
    auth: Option<AuditAuth>,
}

impl Unsealed {
    /// The audit-request stage: records an admitted request on every
    /// enabled device before it reaches its backend.
    pub(crate) async fn audit_request(&self, admitted: &Admitted) -> Result<AuditRecord> {
        let logged = admitted.req.clone();
        let auth = admitted.caller.entry.as_ref().map(|entry| {
            audit_auth(
                entry,
                logged.client_token.clone(),
                admitted.caller.identity_policies.clone(),
            )
        });
        let record = AuditRecord { logged, auth };
        let input = record.input(admitted);
        self.audit.log_request(&input).await.map_err(audit_failed)?;
        Ok(record)
    }

    /// The audit-response stage: records the outcome before the response
    /// leaves; closes the logs when that request sealed the server.
    pub(crate) async fn audit_response(
        &self,
        core: &Core,
        admitted: &Admitted,
        record: AuditRecord,
        result: &Result<Response>,
    ) -> Result<()> {
        let input = record.input(admitted);
        let tuning = &admitted.route.entry.config;
        let message;
        let output = match result {
            Ok(response) => AuditResponse {
                response: Some(response),
                non_hmac_response_keys: &tuning.audit_non_hmac_response_keys,
                ..AuditResponse::default()
            },
            Err(e) => {
                message = e.to_string();
                AuditResponse::failed(&message)
            }
        };
        self.audit
            .log_response(&input, &output)
            .await
            .map_err(audit_failed)?;
        // That request sealed the server: its response was the last record,
        // so close the logs now with a final checkpoint covering it.
        if core.is_sealed() {
            self.close_audit().await;
        }
        Ok(())
    }

    /// Writes a final checkpoint on every audit log and saves the heads.
    pub(crate) async fn close_audit(&self) {
        if let Err(e) = self.audit.shutdown().await {
            tracing::error!(error = %e, "closing audit devices");
        }
    }

    /// Logs a request that was refused before reaching a backend.
    pub(crate) async fn audit_rejected(&self, req: Request, err: &Error) -> Result<()> {
        let message = err.to_string();
        let input = AuditRequest::new(&req).with_error(&message);
        self.audit.log_request(&input).await.map_err(audit_failed)?;
        self.audit
            .log_response(&input, &AuditResponse::failed(&message))
            .await
            .map_err(audit_failed)
    }
}
