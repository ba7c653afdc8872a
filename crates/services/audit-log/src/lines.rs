//! Streaming line reading with a length cap, and cheap classification of a
//! line as a sealed record, a checkpoint, or neither.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use crate::merkle::{Hash, leaf_hash};

/// Longest line kept; longer lines are skipped and reported as malformed.
pub(crate) const MAX_LINE: usize = 64 << 20;

/// One line of the file, without its newline.
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// The bytes (empty when the line was too long).
    pub bytes: &'a [u8],
    /// Whether the line exceeded [`MAX_LINE`].
    pub too_long: bool,
}

/// Reads lines from a `BufRead` into one reused buffer.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: u64,
    /// Bytes consumed so far.
    pub offset: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(4096),
            number: 0,
            offset: 0,
        }
    }

    /// The next line, `None` at end of input.
    pub(crate) fn next_line(&mut self) -> Option<std::io::Result<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e)),
            };
            if available.is_empty() {
                if !any {
                    return None;
                }
                break;
            }
            any = true;
            let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > MAX_LINE {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            self.offset += used as u64;
            if done {
                break;
            }
        }
        self.number += 1;
        Some(Ok(Line {
            number: self.number,
            bytes: &self.buf,
            too_long,
        }))
    }
}

/// The top-level fields the verifier looks at; everything else is skipped.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(borrow, default)]
    prev: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    checkpoint: Option<Cow<'a, str>>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(borrow, default)]
    root: Option<Cow<'a, str>>,
}

/// What a line is.
pub(crate) enum Kind {
    /// A sealed record: its sequence number, its `prev` field (`None` when
    /// missing or not a 64-digit hex hash) and its leaf hash.
    Record {
        seq: u64,
        prev: Option<Hash>,
        leaf: Hash,
    },
    /// A checkpoint line: the signed note and the unsigned convenience fields.
    Checkpoint {
        note: String,
        size: Option<u64>,
        root: Option<String>,
    },
    /// Neither; the reason.
    Malformed(&'static str),
}

fn parse_prev(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

/// Classifies one line (without its newline).
pub(crate) fn classify(bytes: &[u8]) -> Kind {
    if bytes.is_empty() {
        return Kind::Malformed("empty line");
    }
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(bytes) else {
        return Kind::Malformed("not a JSON object with valid seq/prev/type fields");
    };
    if probe.kind.as_deref() == Some("checkpoint") {
        if probe.seq.is_some() {
            return Kind::Malformed("a checkpoint line must not carry a sequence number");
        }
        return match probe.checkpoint {
            Some(note) => Kind::Checkpoint {
                note: note.into_owned(),
                size: probe.size,
                root: probe.root.map(Cow::into_owned),
            },
            None => Kind::Malformed("checkpoint line without a checkpoint note"),
        };
    }
    match probe.seq {
        Some(seq) => Kind::Record {
            seq,
            prev: probe.prev.as_deref().and_then(parse_prev),
            leaf: leaf_hash(bytes),
        },
        None => Kind::Malformed("not a sealed record (no seq field) nor a checkpoint"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_lines_with_and_without_final_newline() {
        let mut r = LineReader::new(Cursor::new(b"a\n\nbc\nlast".to_vec()));
        let mut got = Vec::new();
        while let Some(l) = r.next_line() {
            let l = l.unwrap();
            got.push((l.number, String::from_utf8(l.bytes.to_vec()).unwrap()));
        }
        assert_eq!(
            got,
            [
                (1, "a".into()),
                (2, "".into()),
                (3, "bc".into()),
                (4, "last".into())
            ]
        );
        assert_eq!(r.offset, 10);
    }

    #[test]
    fn classifies() {
        let prev = "0".repeat(64);
        let rec =
            format!(r#"{{"type":"request","seq":3,"prev":"{prev}","request":{{"seq":"x"}}}}"#);
        match classify(rec.as_bytes()) {
            Kind::Record { seq, prev, leaf } => {
                assert_eq!(seq, 3);
                assert_eq!(prev, Some([0; 32]));
                assert_eq!(leaf, leaf_hash(rec.as_bytes()));
            }
            _ => panic!("not a record"),
        }
        match classify(br#"{"seq":1,"prev":"xyz"}"#) {
            Kind::Record { prev, .. } => assert_eq!(prev, None),
            _ => panic!("not a record"),
        }
        assert!(matches!(
            classify(br#"{"type":"checkpoint","size":2,"root":"r","checkpoint":"n"}"#),
            Kind::Checkpoint { size: Some(2), .. }
        ));
        for bad in [
            &b""[..],
            b"garbage",
            b"[1,2]",
            br#"{"type":"request"}"#,
            br#"{"seq":-1}"#,
            br#"{"seq":"1"}"#,
            br#"{"seq":1,"seq":2}"#,
            br#"{"type":"checkpoint"}"#,
            b"\xff\xfe",
        ] {
            assert!(matches!(classify(bad), Kind::Malformed(_)), "{bad:?}");
        }
    }
}
