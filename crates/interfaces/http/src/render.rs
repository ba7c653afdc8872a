//! [`coffer_types::Response`] / [`coffer_types::Error`] -> wire response.

use bytes::Bytes;
use coffer_types::{Envelope, Error, Response};
use http_body_util::Full;
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde_json::json;

use crate::error::HttpError;

/// What the listeners send: a complete body, known length.
pub(crate) type HttpResponse = hyper::Response<Full<Bytes>>;

fn json_response(status: u16, body: &serde_json::Value, head: bool) -> HttpResponse {
    let bytes = if head {
        Vec::new()
    } else {
        serde_json::to_vec(body).unwrap_or_default()
    };
    bytes_response(status, bytes, head)
}

/// A JSON answer with `bytes` as its body (dropped for `HEAD`).
fn bytes_response(status: u16, bytes: Vec<u8>, head: bool) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = if head { Vec::new() } else { bytes };
    let mut resp = HttpResponse::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Renders an error in Vault's `{"errors": [...]}` shape.
pub(crate) fn error(err: &Error, head: bool) -> HttpResponse {
    if err.status() >= 500 && err.status() != 503 && err.status() != 501 {
        tracing::error!(status = err.status(), error = %err, "request failed");
    }
    let mut resp = json_response(err.status(), &json!({ "errors": err.messages() }), head);
    if let Some(wait) = err.retry_after() {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Renders a successful response: raw JSON, 204, or Vault's envelope.
pub(crate) fn response(request_id: &str, resp: Response, head: bool) -> HttpResponse {
    if let Some(raw) = &resp.raw {
        return json_response(resp.status.unwrap_or(200), raw, head);
    }
    if resp.is_empty() && resp.status.is_none() {
        let mut r = HttpResponse::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NO_CONTENT;
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return r;
    }
    let status = resp.status.unwrap_or(200);
    let envelope = Envelope::new(request_id, resp);
    // Straight to bytes: no intermediate `Value` tree on the hot path.
    match serde_json::to_vec(&envelope) {
        Ok(bytes) => bytes_response(status, bytes, head),
        Err(e) => error(&HttpError::EncodeResponse(e).into(), head),
    }
}
