//! Wire request -> [`coffer_types::Request`].

use coffer_types::{Error, Operation, Request, Sensitive, parse_duration};
use hyper::http::{HeaderMap, Method, Uri};
use serde_json::{Map, Value};

use crate::error::HttpError;

/// Decodes `%XX` escapes in a path; invalid escapes or UTF-8 are a 400.
fn percent_decode(path: &str) -> Result<String, Error> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(HttpError::PercentEncoding)?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| HttpError::PathNotUtf8.into())
}

fn operation(method: &Method, list: bool, help: bool) -> Result<Operation, Error> {
    if help {
        return Ok(Operation::Help);
    }
    Ok(match method.as_str() {
        "GET" | "HEAD" if list => Operation::List,
        "GET" | "HEAD" => Operation::Read,
        "LIST" => Operation::List,
        "PUT" | "POST" => Operation::Update,
        "PATCH" => Operation::Patch,
        "DELETE" => Operation::Delete,
        other => return Err(HttpError::UnsupportedMethod(other.to_owned()).into()),
    })
}

fn truthy(v: &str) -> bool {
    matches!(v, "true" | "1" | "t" | "True" | "TRUE")
}

/// The client token: `X-Vault-Token`, else `Authorization: Bearer`.
fn token(headers: &HeaderMap) -> Option<Sensitive> {
    if let Some(t) = headers.get("x-vault-token").and_then(|v| v.to_str().ok()) {
        return Some(Sensitive::new(t.trim()));
    }
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| Sensitive::new(t.trim()))
}

/// Builds the request from the wire: method, URI (`/v1/...`), headers and
/// the raw body (already size-limited). Pure: no I/O and no core, so it is
/// also the entry point of the `decode` fuzz target (`fuzz/`). Every
/// malformed input is an [`Error`] with a 4xx status, never a panic.
pub fn decode(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Request, Error> {
    let raw_path = uri
        .path()
        .strip_prefix("/v1/")
        .ok_or_else(Error::not_found)?;
    let path = percent_decode(raw_path)?;
    let query: Vec<(String, String)> = match uri.query() {
        Some(q) => serde_urlencoded::from_str(q).map_err(HttpError::QueryString)?,
        None => Vec::new(),
    };
    let flag = |name: &str| query.iter().any(|(k, v)| k == name && truthy(v));
    let op = operation(method, flag("list"), flag("help"))?;

    let mut data = Map::new();
    if matches!(op, Operation::Update | Operation::Patch)
        && !body.iter().all(u8::is_ascii_whitespace)
    {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => data = map,
            Ok(Value::Null) => {}
            Ok(_) => return Err(HttpError::BodyNotObject.into()),
            Err(e) => return Err(Error::client_json(&e)),
        }
    } else if op == Operation::Delete
        && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body)
    {
        // Vault ignores DELETE bodies on logical paths, but its operator
        // endpoints read one (the nonce that cancels a rekey or a root
        // generation): a JSON object is taken, anything else ignored.
        data = map;
    }
    if matches!(
        op,
        Operation::Read | Operation::List | Operation::Delete | Operation::Help
    ) {
        for (k, v) in query {
            if k != "list" && k != "help" {
                data.insert(k, Value::String(v));
            }
        }
    }

    let wrap_ttl = match headers
        .get("x-vault-wrap-ttl")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => Some(parse_duration(v).map_err(HttpError::WrapTtl)?),
        None => None,
    };
    let mut client_token = token(headers);
    // Unwrapping needs no token of its own: a tokenless unwrap presents the
    // wrapping token in the body, and it is the request's token (the
    // wrapping token's policy allows exactly this path).
    if path == "sys/wrapping/unwrap"
        && client_token.as_ref().is_none_or(|t| t.expose().is_empty())
        && let Some(Value::String(wrapping)) = data.remove("token")
    {
        client_token = Some(Sensitive::from(wrapping));
    }
    Ok(Request {
        operation: Some(op),
        path,
        data,
        client_token,
        wrap_ttl,
        ..Request::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str, body: &str) -> Result<Request, Error> {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let uri: Uri = uri.parse().unwrap();
        decode(&method, &uri, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn a_tokenless_unwrap_presents_the_body_token() {
        let r = req("POST", "/v1/sys/wrapping/unwrap", r#"{"token":"hvs.wrap"}"#).unwrap();
        assert_eq!(
            r.client_token.as_ref().map(|t| t.expose()),
            Some("hvs.wrap")
        );
        assert!(!r.data.contains_key("token"));

        let method = Method::POST;
        let uri: Uri = "/v1/sys/wrapping/unwrap".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-vault-token", "hvs.own".parse().unwrap());
        let r = decode(&method, &uri, &headers, br#"{"token":"hvs.wrap"}"#).unwrap();
        assert_eq!(r.client_token.as_ref().map(|t| t.expose()), Some("hvs.own"));
        assert_eq!(
            r.data["token"], "hvs.wrap",
            "with a token of its own, the body names the wrapping token"
        );

        let r = req("POST", "/v1/sys/wrapping/lookup", r#"{"token":"hvs.wrap"}"#).unwrap();
        assert!(
            r.client_token.is_none(),
            "only unwrap takes the body token as its own"
        );
    }

    #[test]
    fn methods_map_to_operations() {
        assert_eq!(
            req("GET", "/v1/secret/data/a", "").unwrap().op(),
            Operation::Read
        );
        assert_eq!(
            req("GET", "/v1/secret/metadata/?list=true", "")
                .unwrap()
                .op(),
            Operation::List
        );
        assert_eq!(
            req("LIST", "/v1/secret/metadata/", "").unwrap().op(),
            Operation::List
        );
        assert_eq!(
            req("POST", "/v1/secret/data/a", "{}").unwrap().op(),
            Operation::Update
        );
        assert_eq!(
            req("PUT", "/v1/secret/data/a", "").unwrap().op(),
            Operation::Update
        );
        assert_eq!(
            req("PATCH", "/v1/secret/data/a", "{}").unwrap().op(),
            Operation::Patch
        );
        assert_eq!(
            req("DELETE", "/v1/secret/data/a", "").unwrap().op(),
            Operation::Delete
        );
        assert_eq!(
            req("GET", "/v1/secret/data/a?help=1", "").unwrap().op(),
            Operation::Help
        );
        assert_eq!(req("TRACE", "/v1/x", "").unwrap_err().status(), 405);
    }

    #[test]
    fn query_becomes_data_for_reads() {
        let r = req("GET", "/v1/secret/data/a?version=3", "").unwrap();
        assert_eq!(r.data["version"], "3");
        assert_eq!(r.path, "secret/data/a");
    }

    #[test]
    fn delete_takes_a_json_object_body_and_ignores_others() {
        let r = req("DELETE", "/v1/sys/rekey/init", r#"{"nonce":"n1"}"#).unwrap();
        assert_eq!(r.get_str("nonce"), Some("n1"));
        let r = req("DELETE", "/v1/sys/rekey/init?nonce=n2", "").unwrap();
        assert_eq!(r.get_str("nonce"), Some("n2"));
        for junk in ["{not json", "[1]", "\"s\""] {
            let r = req("DELETE", "/v1/secret/data/a", junk).unwrap();
            assert!(r.data.is_empty(), "{junk}");
        }
    }

    #[test]
    fn bad_bodies_are_400() {
        assert_eq!(req("PUT", "/v1/x", "{not json").unwrap_err().status(), 400);
        assert_eq!(req("PUT", "/v1/x", "[1,2]").unwrap_err().status(), 400);
        assert_eq!(req("PUT", "/v1/x", "\"s\"").unwrap_err().status(), 400);
        assert!(req("PUT", "/v1/x", "  ").unwrap().data.is_empty());
    }

    #[test]
    fn paths_are_decoded_and_checked() {
        assert_eq!(
            req("GET", "/v1/secret/data/a%20b", "").unwrap().path,
            "secret/data/a b"
        );
        assert_eq!(req("GET", "/v1/secret/%zz", "").unwrap_err().status(), 400);
        assert_eq!(req("GET", "/v1/secret/%ff", "").unwrap_err().status(), 400);
        assert_eq!(req("GET", "/v2/secret", "").unwrap_err().status(), 404);
    }

    #[test]
    fn token_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer hvs.abc".parse().unwrap());
        assert_eq!(token(&h).unwrap().expose(), "hvs.abc");
        h.insert("x-vault-token", "hvs.xyz".parse().unwrap());
        assert_eq!(token(&h).unwrap().expose(), "hvs.xyz");
    }
}
