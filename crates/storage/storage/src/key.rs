//! Parsed storage keys and prefixes.

use crate::StorageError;

fn check_segments(s: &str, what: &str) -> Result<(), StorageError> {
    if s.starts_with('/') {
        return Err(StorageError::InvalidKey(format!(
            "{what} must not start with '/'"
        )));
    }
    if s.contains('\0') {
        return Err(StorageError::InvalidKey(format!(
            "{what} must not contain NUL"
        )));
    }
    let body = s.strip_suffix('/').unwrap_or(s);
    if body.is_empty() {
        return Ok(());
    }
    for seg in body.split('/') {
        if seg.is_empty() {
            return Err(StorageError::InvalidKey(format!(
                "{what} has an empty segment"
            )));
        }
        if seg == ".." || seg == "." {
            return Err(StorageError::InvalidKey(format!(
                "{what} must not contain '{seg}'"
            )));
        }
    }
    Ok(())
}

/// A storage key: non-empty, `/`-separated segments, no leading or trailing
/// `/`, no empty, `.` or `..` segment, no NUL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(String);

impl Key {
    /// Parses a key.
    pub fn new(s: impl Into<String>) -> Result<Self, StorageError> {
        let s = s.into();
        if s.is_empty() {
            return Err(StorageError::InvalidKey("key is empty".into()));
        }
        if s.ends_with('/') {
            return Err(StorageError::InvalidKey("key must not end with '/'".into()));
        }
        check_segments(&s, "key")?;
        Ok(Self(s))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix made of every segment but the last (`a/b/c` -> `a/b/`).
    pub fn parent(&self) -> Prefix {
        match self.0.rfind('/') {
            Some(i) => Prefix(self.0[..=i].to_owned()),
            None => Prefix(String::new()),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for Key {
    type Error = StorageError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Key::new(s)
    }
}

/// A key prefix for listing: empty (the root) or segments ending in `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(String);

impl Prefix {
    /// Parses a prefix. A non-empty prefix without a trailing `/` gets one.
    pub fn new(s: impl Into<String>) -> Result<Self, StorageError> {
        let mut s = s.into();
        check_segments(&s, "prefix")?;
        if !s.is_empty() && !s.ends_with('/') {
            s.push('/');
        }
        Ok(Self(s))
    }

    /// The root prefix.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// The prefix as a string (empty or ending in `/`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key `prefix + rest`.
    pub fn join(&self, rest: &str) -> Result<Key, StorageError> {
        Key::new(format!("{}{rest}", self.0))
    }

    /// The prefix `prefix + rest` (`rest` empty or ending in `/`).
    pub fn join_prefix(&self, rest: &str) -> Result<Prefix, StorageError> {
        Prefix::new(format!("{}{rest}", self.0))
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bytes [`escape_segment`] replaces by `%XX`: the escape character itself,
/// the separator, and what could make a segment `.`, `..` or an invalid key.
fn needs_escape(b: u8) -> bool {
    matches!(b, b'%' | b'/' | b'.' | 0)
}

/// Makes any string (a lease id, a job id, a token ref) into ONE key
/// segment that is never `.` or `..`: `%`, `/`, `.` and NUL become `%25`,
/// `%2F`, `%2E`, `%00`. Nearly as short as the input, unlike hex.
pub fn escape_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match u8::try_from(c) {
            Ok(b) if needs_escape(b) => out.push_str(&format!("%{b:02X}")),
            _ => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_segment`]; `None` for anything it cannot produce.
pub fn unescape_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let decoded = u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?;
            if !needs_escape(decoded) {
                return None;
            }
            out.push(decoded);
            i += 3;
        } else if needs_escape(b) {
            return None;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal_nul_and_slashes() {
        for bad in ["", "/a", "a/", "a//b", "a/../b", "..", "a/./b", "a\0b"] {
            assert!(Key::new(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["a", "a/b", "core/mounts", "a..b", "...x"] {
            assert!(Key::new(good).is_ok(), "{good:?} rejected");
        }
    }

    #[test]
    fn escaped_segments_round_trip_and_stay_one_segment() {
        for id in [
            "db/creds/web/AbC",
            "..",
            ".",
            "a%2Fb",
            "x\0y",
            "plain",
            "ünï/cødé",
        ] {
            let e = escape_segment(id);
            assert!(!e.contains('/') && e != "." && e != "..", "{e}");
            assert!(Key::new(format!("p/{e}")).is_ok(), "{e}");
            assert_eq!(unescape_segment(&e).as_deref(), Some(id));
        }
        assert_eq!(escape_segment("db/creds/web/AbC"), "db%2Fcreds%2Fweb%2FAbC");
        for bad in ["a/b", "%2", "%zz", "%41", "..", "a%"] {
            assert_eq!(unescape_segment(bad), None, "{bad}");
        }
    }

    #[test]
    fn prefixes_normalise_trailing_slash() {
        assert_eq!(Prefix::new("a/b").unwrap().as_str(), "a/b/");
        assert_eq!(Prefix::new("").unwrap().as_str(), "");
        assert!(Prefix::new("../x").is_err());
        assert_eq!(Key::new("a/b/c").unwrap().parent().as_str(), "a/b/");
    }
}
