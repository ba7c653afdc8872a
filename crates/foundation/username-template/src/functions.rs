//! Vault's template functions (`sdk/helper/template/funcs.go`): their names,
//! signatures (checked when a template is parsed) and implementations.
//! Randomness and SHA-256 come from `coffer-crypto`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::eval::Value;
use crate::{MAX_OUTPUT_LEN, TemplateError, layout, printf};

/// The type of a function parameter or of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// Anything (printf's arguments).
    Any,
}

impl Ty {
    /// The name Go uses for the type.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Any => "any",
        }
    }
}

/// One of Vault's template functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Printf,
    Random,
    Truncate,
    TruncateSha256,
    Uppercase,
    Lowercase,
    Replace,
    Sha256,
    Base64,
    UnixTime,
    UnixTimeMillis,
    Timestamp,
    Uuid,
}

const ALL: [Func; 13] = [
    Func::Printf,
    Func::Random,
    Func::Truncate,
    Func::TruncateSha256,
    Func::Uppercase,
    Func::Lowercase,
    Func::Replace,
    Func::Sha256,
    Func::Base64,
    Func::UnixTime,
    Func::UnixTimeMillis,
    Func::Timestamp,
    Func::Uuid,
];

impl Func {
    /// The function called `name` in templates.
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        ALL.into_iter().find(|f| f.name() == name)
    }

    /// Its name in templates.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Printf => "printf",
            Func::Random => "random",
            Func::Truncate => "truncate",
            Func::TruncateSha256 => "truncate_sha256",
            Func::Uppercase => "uppercase",
            Func::Lowercase => "lowercase",
            Func::Replace => "replace",
            Func::Sha256 => "sha256",
            Func::Base64 => "base64",
            Func::UnixTime => "unix_time",
            Func::UnixTimeMillis => "unix_time_millis",
            Func::Timestamp => "timestamp",
            Func::Uuid => "uuid",
        }
    }

    /// Its parameters, in order (a piped value is the last argument).
    pub(crate) fn params(self) -> &'static [Ty] {
        match self {
            Func::Printf => &[Ty::Str],
            Func::Random => &[Ty::Int],
            Func::Truncate | Func::TruncateSha256 => &[Ty::Int, Ty::Str],
            Func::Uppercase | Func::Lowercase | Func::Sha256 | Func::Base64 => &[Ty::Str],
            Func::Replace => &[Ty::Str, Ty::Str, Ty::Str],
            Func::Timestamp => &[Ty::Str],
            Func::UnixTime | Func::UnixTimeMillis | Func::Uuid => &[],
        }
    }

    /// Whether it takes any number of extra arguments after
    /// [`Func::params`] (only `printf`).
    pub(crate) fn variadic(self) -> bool {
        self == Func::Printf
    }
}

/// Calls `func` with `args` (already checked against its signature by the
/// parser) at time `now`.
pub(crate) fn call(func: Func, args: &[Value], now: SystemTime) -> Result<String, TemplateError> {
    let s = |i| str_arg(func, args, i);
    let n = |i| int_arg(func, args, i);
    match func {
        Func::Printf => printf::sprintf(s(0)?, args.get(1..).unwrap_or_default(), MAX_OUTPUT_LEN),
        Func::Random => random(n(0)?),
        Func::Truncate => truncate(n(0)?, s(1)?),
        Func::TruncateSha256 => truncate_sha256(n(0)?, s(1)?),
        Func::Uppercase => Ok(map_chars(s(0)?, char::to_uppercase)),
        Func::Lowercase => Ok(map_chars(s(0)?, char::to_lowercase)),
        Func::Replace => replace(s(0)?, s(1)?, s(2)?),
        Func::Sha256 => Ok(sha256_hex(s(0)?.as_bytes())),
        Func::Base64 => Ok(base64::engine::general_purpose::STANDARD.encode(s(0)?)),
        Func::UnixTime => Ok(unix_nanos(now)?.div_euclid(1_000_000_000).to_string()),
        Func::UnixTimeMillis => Ok((unix_nanos(now)? / 1_000_000).to_string()),
        Func::Timestamp => layout::format(s(0)?, unix_nanos(now)?),
        Func::Uuid => coffer_crypto::random_uuid().map_err(|_| TemplateError::Random),
    }
}

fn str_arg(func: Func, args: &[Value], i: usize) -> Result<&str, TemplateError> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(TemplateError::function(
            func.name(),
            "expected a string argument",
        )),
    }
}

fn int_arg(func: Func, args: &[Value], i: usize) -> Result<i64, TemplateError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(TemplateError::function(
            func.name(),
            "expected an int argument",
        )),
    }
}

/// `n` characters from `[A-Za-z0-9]` (Vault: base62).
fn random(n: i64) -> Result<String, TemplateError> {
    let len = usize::try_from(n).map_err(|_| {
        TemplateError::function("random", format!("length must be >= 0 but was {n}"))
    })?;
    if len > MAX_OUTPUT_LEN {
        return Err(TemplateError::OutputTooLong {
            max: MAX_OUTPUT_LEN,
        });
    }
    coffer_crypto::random_alphanumeric(len).map_err(|_| TemplateError::Random)
}

/// The largest char boundary of `s` at or below byte `n`.
fn floor_boundary(s: &str, n: usize) -> usize {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The first `max` bytes of `s` (Vault's limit is in bytes, like the
/// databases' name limits), cut back to a whole character.
fn truncate(max: i64, s: &str) -> Result<String, TemplateError> {
    let max = usize::try_from(max)
        .ok()
        .filter(|m| *m > 0)
        .ok_or_else(|| {
            TemplateError::function("truncate", format!("max length must be > 0 but was {max}"))
        })?;
    Ok(s[..floor_boundary(s, max)].to_owned())
}

/// Length of the hash suffix `truncate_sha256` appends.
const SHA256_SUFFIX_LEN: usize = 8;

/// `s` if it fits in `max` bytes; otherwise its first `max - 8` bytes followed
/// by the first 8 hex digits of the SHA-256 of the bytes cut off (Vault's
/// behaviour: the hash covers the removed tail, not the whole string).
fn truncate_sha256(max: i64, s: &str) -> Result<String, TemplateError> {
    let max = usize::try_from(max)
        .ok()
        .filter(|m| *m > SHA256_SUFFIX_LEN)
        .ok_or_else(|| {
            TemplateError::function(
                "truncate_sha256",
                format!("max length must be > {SHA256_SUFFIX_LEN} but was {max}"),
            )
        })?;
    if s.len() <= max {
        return Ok(s.to_owned());
    }
    let cut = floor_boundary(s, max - SHA256_SUFFIX_LEN);
    let hash = sha256_hex(&s.as_bytes()[cut..]);
    Ok(format!("{}{}", &s[..cut], &hash[..SHA256_SUFFIX_LEN]))
}

/// Maps every character with its simple (one-character) case mapping, like
/// Go's `strings.ToUpper`/`ToLower`; characters whose mapping is several
/// characters (`ß` to `SS`) are kept.
fn map_chars<I: Iterator<Item = char>>(s: &str, map: impl Fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut mapped = map(c);
            match (mapped.next(), mapped.next()) {
                (Some(m), None) => m,
                _ => c,
            }
        })
        .collect()
}

/// Every `old` in `s` replaced by `new` (an empty `old` matches before every
/// character and at the end, as in Go), refusing results over the limit.
fn replace(old: &str, new: &str, s: &str) -> Result<String, TemplateError> {
    let count = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    let len = (s.len() - count * old.len()).saturating_add(count.saturating_mul(new.len()));
    if len > MAX_OUTPUT_LEN {
        return Err(TemplateError::OutputTooLong {
            max: MAX_OUTPUT_LEN,
        });
    }
    Ok(s.replace(old, new))
}

/// Lowercase hex SHA-256 of `data`.
fn sha256_hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in coffer_crypto::sha256(data) {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Nanoseconds since the Unix epoch (negative before it).
fn unix_nanos(now: SystemTime) -> Result<i128, TemplateError> {
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()),
        Err(before) => i128::try_from(before.duration().as_nanos()).map(|n| -n),
    }
    .map_err(|_| TemplateError::TimeOutOfRange)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn run(func: Func, args: Vec<Value>) -> Result<String, TemplateError> {
        call(
            func,
            &args,
            UNIX_EPOCH + Duration::from_millis(1_234_567_890_123),
        )
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    #[test]
    fn names_round_trip() {
        for f in ALL {
            assert_eq!(Func::from_name(f.name()), Some(f));
        }
        assert_eq!(Func::from_name("rand"), None);
    }

    #[test]
    fn truncate_matches_vault() {
        let t = |n, v| run(Func::Truncate, vec![Value::Int(n), s(v)]);
        assert_eq!(t(1, "foobarbaz").unwrap(), "f");
        assert_eq!(t(5, "foobarbaz").unwrap(), "fooba");
        assert_eq!(t(9, "foobarbaz").unwrap(), "foobarbaz");
        assert_eq!(t(100, "foobarbaz").unwrap(), "foobarbaz");
        assert_eq!(
            t(0, "foobarbaz").unwrap_err().to_string(),
            "unable to apply template: error calling truncate: max length must be > 0 but was 0"
        );
        assert!(t(-1, "x").is_err());
        // Bytes, never half a character.
        assert_eq!(t(2, "éa").unwrap(), "é");
        assert_eq!(t(1, "éa").unwrap(), "");
    }

    #[test]
    fn truncate_sha256_matches_vault() {
        let t = |n| {
            run(
                Func::TruncateSha256,
                vec![Value::Int(n), s("thisisareallylongstring")],
            )
        };
        assert!(t(8).is_err());
        assert!(t(-1).is_err());
        assert_eq!(t(9).unwrap(), "t4bb25641");
        assert_eq!(t(12).unwrap(), "this704cd12b");
        assert_eq!(t(22).unwrap(), "thisisareallyl7f978be6");
        assert_eq!(t(23).unwrap(), "thisisareallylongstring");
        assert_eq!(t(100).unwrap(), "thisisareallylongstring");
        // The example of Vault's documentation.
        let doc = run(
            Func::TruncateSha256,
            vec![Value::Int(20), s("abcdefghijklmnopqrstuvwxyz")],
        );
        assert_eq!(doc.unwrap(), "abcdefghijkl872808ff");
    }

    #[test]
    fn sha256_and_base64() {
        assert_eq!(
            run(Func::Sha256, vec![s("")]).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            run(Func::Sha256, vec![s("foobar")]).unwrap(),
            "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"
        );
        assert_eq!(run(Func::Base64, vec![s("foobar")]).unwrap(), "Zm9vYmFy");
        assert_eq!(run(Func::Base64, vec![s("ab")]).unwrap(), "YWI=");
    }

    #[test]
    fn case_and_replace() {
        assert_eq!(
            run(Func::Uppercase, vec![s("fOoBaR-é")]).unwrap(),
            "FOOBAR-É"
        );
        assert_eq!(
            run(Func::Lowercase, vec![s("fOoBaR-É")]).unwrap(),
            "foobar-é"
        );
        assert_eq!(run(Func::Uppercase, vec![s("ß")]).unwrap(), "ß");
        let r = |old, new, v| run(Func::Replace, vec![s(old), s(new), s(v)]).unwrap();
        assert_eq!(r(".", "_", "foo.bar.baz"), "foo_bar_baz");
        assert_eq!(r(".", "", "foo.bar"), "foobar");
        assert_eq!(r("bar", "_", "foobarbaz"), "foo_baz");
        assert_eq!(r(".", "_", "foobar"), "foobar");
        assert_eq!(r("", "-", "ab"), "-a-b-");
        let big = "x".repeat(MAX_OUTPUT_LEN);
        assert_eq!(
            run(Func::Replace, vec![s("x"), s("yy"), s(&big)]),
            Err(TemplateError::OutputTooLong {
                max: MAX_OUTPUT_LEN
            })
        );
    }

    #[test]
    fn random_and_uuid() {
        let r = run(Func::Random, vec![Value::Int(20)]).unwrap();
        assert_eq!(r.len(), 20);
        assert!(r.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(run(Func::Random, vec![Value::Int(0)]).unwrap(), "");
        assert!(run(Func::Random, vec![Value::Int(-1)]).is_err());
        assert!(run(Func::Random, vec![Value::Int(i64::MAX)]).is_err());
        let u = run(Func::Uuid, vec![]).unwrap();
        let groups: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(
            u.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn times() {
        assert_eq!(run(Func::UnixTime, vec![]).unwrap(), "1234567890");
        assert_eq!(run(Func::UnixTimeMillis, vec![]).unwrap(), "1234567890123");
        assert_eq!(
            run(Func::Timestamp, vec![s("2006-01-02T15:04:05.000Z07:00")]).unwrap(),
            "2009-02-13T23:31:30.123Z"
        );
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(call(Func::UnixTime, &[], before).unwrap(), "-2");
        assert_eq!(call(Func::UnixTimeMillis, &[], before).unwrap(), "-1500");
    }

    #[test]
    fn mistyped_arguments_are_errors_not_panics() {
        assert!(run(Func::Truncate, vec![s("8"), s("x")]).is_err());
        assert!(run(Func::Uppercase, vec![]).is_err());
    }
}
