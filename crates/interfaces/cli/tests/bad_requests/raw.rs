//! The hand-written part of the corpus, `raw.txt`: whole HTTP requests
//! (header abuse, conflicting framing, odd request lines) as data.
//!
//! Format: a request starts at a line `### name`; its lines are joined with
//! CRLF. A request without an empty line gets the CRLF CRLF that ends its
//! headers; with one, what follows it is the body, sent as written (no
//! final CRLF). Escapes: `\r`, `\n`, `\xNN` (any byte), `\\`. Placeholders:
//! `{ROOT}` (the root token), `{HOST}` (the listener's host:port),
//! A name ending in `[may-close]` accepts the connection being closed
//! without an answer. `{REPEAT n text}` (text n times), `{LEN}` in the headers (the length of
//! the body). Lines starting with `#` before the
//! first `###` are comments.

/// One raw request.
pub struct RawCase {
    /// Its name (the `###` line).
    pub name: String,
    /// Marked `[may-close]`: closing the connection without an answer is
    /// an acceptable refusal (a preface of another protocol).
    pub may_close: bool,
    /// The bytes to send.
    pub bytes: Vec<u8>,
}

fn expand(line: &str, root: &str, host: &str) -> Vec<u8> {
    let mut text = line.replace("{ROOT}", root).replace("{HOST}", host);
    // {REPEAT n text}: bounded by the number of placeholders in the line.
    while let Some(start) = text.find("{REPEAT ") {
        let Some(len) = text[start..].find('}') else {
            break;
        };
        let inner = &text[start + 8..start + len];
        let (n, unit) = inner.split_once(' ').unwrap_or((inner, ""));
        let n: usize = n
            .parse()
            .unwrap_or_else(|_| panic!("bad REPEAT in {line:?}"));
        let expanded = unit.repeat(n);
        text.replace_range(start..start + len + 1, &expanded);
    }
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'x' if i + 3 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap_or("");
                    let byte = u8::from_str_radix(hex, 16)
                        .unwrap_or_else(|_| panic!("bad \\x escape in {line:?}"));
                    out.push(byte);
                    i += 4;
                    continue;
                }
                other => panic!("unknown escape \\{} in {line:?}", other as char),
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Replaces `{LEN}` in the headers with the length of the body.
fn fill_length(bytes: &mut Vec<u8>) {
    let find = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
    let Some(head_end) = find(bytes, b"\r\n\r\n") else {
        return;
    };
    let Some(at) = find(&bytes[..head_end], b"{LEN}") else {
        return;
    };
    let body_len = bytes.len() - head_end - 4;
    bytes.splice(at..at + 5, body_len.to_string().into_bytes());
}

/// Parses `raw.txt`, filling in the root token and host.
pub fn parse(text: &str, root: &str, host: &str) -> Vec<RawCase> {
    let mut cases = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let finish = |name: String, mut lines: Vec<&str>, cases: &mut Vec<RawCase>| {
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let has_body = lines.iter().any(|l| l.is_empty());
        let mut bytes = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend(expand(line, root, host));
        }
        if !has_body {
            bytes.extend_from_slice(b"\r\n\r\n");
        }
        fill_length(&mut bytes);
        let may_close = name.ends_with("[may-close]");
        cases.push(RawCase {
            name,
            bytes,
            may_close,
        });
    };
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            if let Some((n, l)) = current.take() {
                finish(n, l, &mut cases);
            }
            current = Some((name.trim().to_owned(), Vec::new()));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((n, l)) = current.take() {
        finish(n, l, &mut cases);
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_escapes_and_placeholders() {
        let text = "# comment\n### a\nGET / HTTP/1.1\nX: {ROOT}\\x00{REPEAT 3 ab}\n\n### b\nPOST / HTTP/1.1\n\n{}\\r\\n\n";
        let cases = parse(text, "tok", "h:1");
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].name, "a");
        assert_eq!(
            cases[0].bytes,
            b"GET / HTTP/1.1\r\nX: tok\x00ababab\r\n\r\n"
        );
        assert_eq!(cases[1].bytes, b"POST / HTTP/1.1\r\n\r\n{}\r\n");
        let sized = parse(
            "### c\nPOST / HTTP/1.1\nContent-Length: {LEN}\n\n{\"a\":1}",
            "",
            "",
        );
        assert_eq!(
            sized[0].bytes,
            b"POST / HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        );
    }
}
