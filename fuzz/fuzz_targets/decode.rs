//! Request decoding: `coffer_http::decode_request`, the function that turns
//! a request off the wire (method, URI, headers, body) into a
//! `coffer_types::Request`. The input reads like an HTTP/1.1 head: a first
//! line `METHOD URI`, header lines `name: value`, a blank line, then the
//! body. Whatever hyper would accept must decode or be refused with a 4xx,
//! never panic, and the request's `Debug` output must not depend on the
//! client token's value.
#![no_main]

use coffer_types::Sensitive;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;

/// Splits `data` at the first blank line (`\n\n` or `\r\n\r\n`).
fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    for i in 0..data.len() {
        if data[i..].starts_with(b"\r\n\r\n") {
            return (&data[..i], &data[i + 4..]);
        }
        if data[i..].starts_with(b"\n\n") {
            return (&data[..i], &data[i + 2..]);
        }
    }
    (data, &[])
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = split_head(data);
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(first) = lines.next() else { return };
    let mut parts = first.splitn(2, |b| *b == b' ');
    let (Some(method), Some(uri)) = (parts.next(), parts.next()) else {
        return;
    };
    // Only what hyper itself would hand over: a valid method, URI and
    // header names/values (hyper refuses the rest before Coffer sees it).
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let Ok(uri) = Uri::try_from(uri) else { return };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    match coffer_http::decode_request(&method, &uri, &headers, body) {
        Err(e) => {
            let status = e.status();
            assert!(
                (400..500).contains(&status),
                "malformed request answered {status}: {e:?}"
            );
        }
        Ok(mut request) => {
            // The token's Debug form must not depend on its value: the same
            // request with another token prints exactly the same. (A plain
            // "does the output contain the token" check is wrong for short
            // tokens such as "ac", found in "[redacted]".)
            let Some(token) = request.client_token.as_ref().map(|t| t.expose().to_owned()) else {
                return;
            };
            let shown = format!("{request:?}");
            let other = if token == "x" { "y" } else { "x" };
            request.client_token = Some(Sensitive::new(other));
            let substituted = format!("{request:?}");
            // `assert!`, not `assert_eq!`: a failure must not print the token.
            assert!(
                shown == substituted,
                "the client token shows in the request's Debug output"
            );
        }
    }
});
