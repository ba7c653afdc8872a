//! CORS on the listeners, as Vault's HTTP layer applies it (its
//! `wrapCORSHandler`), from the configuration `sys/config/cors` keeps in the
//! core ([`coffer_core::Core::cors`]). It exists so browsers on the allowed
//! origins can call the API, and others are refused before the core sees
//! their requests.
//!
//! With CORS off, or a request without an `Origin` header, nothing changes.
//! With it on: a request from an origin not allowed is answered 403
//! `origin not allowed`; a preflight (`OPTIONS`) from an allowed origin is
//! answered here, without reaching the core: 405 with an empty body when its
//! `Access-Control-Request-Method` is not one Vault serves, otherwise 200
//! with an empty body and the allowed origin, methods and headers and a
//! max-age of 300 s (Go's server sends 200 for Vault's bodiless answer);
//! any other request from an allowed origin is served as usual and its
//! response, errors included, carries `Access-Control-Allow-Origin` (the
//! request's origin, also under `*`) and `Vary: Origin`.

use bytes::Bytes;
use coffer_core::CorsConfig;
use coffer_types::{Error, ErrorKind};
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};

use crate::render::{self, HttpResponse};

/// The methods a preflight may ask for, Vault's list in its order.
const ALLOWED_METHODS: &[&str] = &["DELETE", "GET", "OPTIONS", "POST", "PUT", "LIST"];

/// How long a browser may cache a preflight answer, in seconds (Vault's).
const MAX_AGE: &str = "300";

/// What CORS makes of a request.
#[derive(Debug)]
pub(crate) enum Cors {
    /// No CORS processing (off, or no `Origin`): served as usual.
    Off,
    /// Answered here, without reaching the core: a refused origin or
    /// preflight method, or a preflight.
    Answered(HttpResponse),
    /// Served as usual; the response then carries this origin.
    Allowed(HeaderValue),
}

/// Decides what CORS does with a request, from the configuration in force
/// (`None`: sealed or off).
pub(crate) fn decide(
    config: Option<&CorsConfig>,
    method: &Method,
    headers: &HeaderMap,
    head: bool,
) -> Cors {
    let Some(config) = config.filter(|c| c.is_enabled()) else {
        return Cors::Off;
    };
    let Some(origin) = headers.get(header::ORIGIN).filter(|o| !o.is_empty()) else {
        return Cors::Off;
    };
    if !config.allows_origin(origin.as_bytes()) {
        let refused = Error::new(ErrorKind::PermissionDenied, "origin not allowed");
        return Cors::Answered(render::error(&refused, head));
    }
    if method != Method::OPTIONS {
        return Cors::Allowed(origin.clone());
    }
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !ALLOWED_METHODS.iter().any(|m| m.as_bytes() == requested) {
        return Cors::Answered(empty(StatusCode::METHOD_NOT_ALLOWED));
    }
    let mut resp = empty(StatusCode::OK);
    allow_origin(&mut resp, origin.clone());
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("DELETE,GET,OPTIONS,POST,PUT,LIST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        allowed_headers(config.allowed_headers()),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    Cors::Answered(resp)
}

/// Marks `resp` as readable by `origin`: `Access-Control-Allow-Origin` and
/// `Vary: Origin`.
pub(crate) fn allow_origin(resp: &mut HttpResponse, origin: HeaderValue) {
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// The allowed headers joined with `,` as Vault sends them. A configured
/// name that cannot appear in a header value (a control character) is left
/// out rather than failing the preflight.
fn allowed_headers(names: &[String]) -> HeaderValue {
    let usable: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| HeaderValue::from_str(n).is_ok())
        .collect();
    HeaderValue::from_str(&usable.join(",")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A bodiless answer, with the `Cache-Control: no-store` every answer has.
fn empty(status: StatusCode) -> HttpResponse {
    let mut resp = HttpResponse::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    use http_body_util::BodyExt as _;

    fn config(origins: &[&str], extra: &[&str]) -> CorsConfig {
        CorsConfig::enabled(
            origins.iter().map(|s| (*s).to_owned()).collect(),
            extra.iter().map(|s| (*s).to_owned()).collect(),
        )
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn answered(c: Cors) -> HttpResponse {
        match c {
            Cors::Answered(resp) => resp,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    async fn body(resp: HttpResponse) -> Vec<u8> {
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    const APP: &str = "https://app.example";

    #[test]
    fn off_or_without_origin_changes_nothing() {
        let from_app = headers(&[("origin", APP)]);
        assert!(matches!(
            decide(None, &Method::GET, &from_app, false),
            Cors::Off
        ));
        let off = CorsConfig::disabled();
        assert!(matches!(
            decide(Some(&off), &Method::OPTIONS, &from_app, false),
            Cors::Off
        ));
        let on = config(&[APP], &[]);
        for h in [headers(&[]), headers(&[("origin", "")])] {
            assert!(matches!(
                decide(Some(&on), &Method::GET, &h, false),
                Cors::Off
            ));
            assert!(matches!(
                decide(Some(&on), &Method::OPTIONS, &h, false),
                Cors::Off
            ));
        }
    }

    #[tokio::test]
    async fn a_disallowed_origin_is_refused_with_vaults_error() {
        let on = config(&[APP], &[]);
        for method in [Method::GET, Method::OPTIONS, Method::POST] {
            let resp = answered(decide(
                Some(&on),
                &method,
                &headers(&[
                    ("origin", "https://evil.example"),
                    ("access-control-request-method", "GET"),
                ]),
                false,
            ));
            assert_eq!(resp.status(), 403);
            assert!(resp.headers().get("access-control-allow-origin").is_none());
            let body: serde_json::Value = serde_json::from_slice(&body(resp).await).unwrap();
            assert_eq!(body, serde_json::json!({"errors": ["origin not allowed"]}));
        }
        // Matching is exact: another scheme, case or port is another origin.
        for other in [
            "http://app.example",
            "https://APP.example",
            "https://app.example:8443",
        ] {
            let h = {
                let mut h = HeaderMap::new();
                h.insert("origin", HeaderValue::from_str(other).unwrap());
                h
            };
            assert_eq!(
                answered(decide(Some(&on), &Method::GET, &h, false)).status(),
                403
            );
        }
    }

    #[tokio::test]
    async fn a_preflight_gets_the_methods_headers_and_max_age() {
        let on = config(&[APP], &["X-Custom"]);
        let resp = answered(decide(
            Some(&on),
            &Method::OPTIONS,
            &headers(&[("origin", APP), ("access-control-request-method", "PUT")]),
            false,
        ));
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], APP);
        assert_eq!(h["vary"], "Origin");
        assert_eq!(
            h["access-control-allow-methods"],
            "DELETE,GET,OPTIONS,POST,PUT,LIST"
        );
        let mut expected: Vec<&str> = coffer_core::STD_ALLOWED_HEADERS.to_vec();
        expected.push("X-Custom");
        assert_eq!(
            h["access-control-allow-headers"],
            expected.join(",").as_str()
        );
        assert_eq!(h["access-control-max-age"], "300");
        assert_eq!(h["cache-control"], "no-store");
        assert!(body(resp).await.is_empty());
        // Every method of Vault's list is accepted, LIST included.
        for m in ALLOWED_METHODS {
            let mut h = headers(&[("origin", APP)]);
            h.insert("access-control-request-method", HeaderValue::from_static(m));
            assert_eq!(
                answered(decide(Some(&on), &Method::OPTIONS, &h, false)).status(),
                200,
                "{m}"
            );
        }
    }

    #[tokio::test]
    async fn a_preflight_for_another_method_gets_an_empty_405() {
        let on = config(&["*"], &[]);
        for requested in [Some("PATCH"), Some("get"), Some("FOO"), None] {
            let mut h = headers(&[("origin", APP)]);
            if let Some(m) = requested {
                h.insert("access-control-request-method", HeaderValue::from_static(m));
            }
            let resp = answered(decide(Some(&on), &Method::OPTIONS, &h, false));
            assert_eq!(resp.status(), 405, "{requested:?}");
            assert!(resp.headers().get("access-control-allow-origin").is_none());
            assert!(body(resp).await.is_empty());
        }
    }

    #[test]
    fn an_allowed_request_is_served_and_echoes_its_origin() {
        let any = config(&["*"], &[]);
        let h = headers(&[("origin", "https://whoever.example")]);
        let Cors::Allowed(origin) = decide(Some(&any), &Method::GET, &h, false) else {
            panic!("expected the request to be served");
        };
        // Under `*` the request's own origin is echoed, as Vault does.
        assert_eq!(origin, "https://whoever.example");
        let mut resp = empty(StatusCode::NOT_FOUND);
        allow_origin(&mut resp, origin);
        assert_eq!(
            resp.headers()["access-control-allow-origin"],
            "https://whoever.example"
        );
        assert_eq!(resp.headers()["vary"], "Origin");
    }

    #[test]
    fn unusable_configured_headers_are_left_out() {
        let names = vec!["X-A".to_owned(), "bad\nname".to_owned(), "X-B".to_owned()];
        assert_eq!(allowed_headers(&names), "X-A,X-B");
        assert_eq!(allowed_headers(&[]), "");
    }
}
