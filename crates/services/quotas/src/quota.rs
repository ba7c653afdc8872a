//! One rate-limit quota: its stored form, its path, and which requests it
//! covers.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::bucket::Limit;
use crate::error::{QuotaError, shorten};
use std::time::Duration;

/// The only quota type Coffer has, as Vault names it.
pub(crate) const TYPE_RATE_LIMIT: &str = "rate-limit";

/// Longest accepted quota `path`.
const MAX_PATH_LEN: usize = 512;

/// A quota as stored and as read back through the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct QuotaRecord {
    /// The quota's name.
    pub name: String,
    /// The mount the quota applies to (`secret/`, `auth/userpass/`), or ""
    /// for a global quota.
    pub mount_path: String,
    /// A path below the mount (`data/app`), possibly ending in `*` to cover
    /// every path starting with it; "" for the whole mount.
    #[serde(default)]
    pub path_suffix: String,
    /// Requests allowed per interval (the bucket's capacity).
    pub rate: f64,
    /// The interval, in whole seconds (at least one).
    pub interval_seconds: u64,
    /// How long a client that exceeds the quota is blocked, in seconds.
    #[serde(default)]
    pub block_interval_seconds: u64,
    /// Whether the quota is the built-in login quota, which applies only to
    /// login requests that no operator quota covers.
    #[serde(default)]
    pub login_default: bool,
}

/// How closely a quota matches a request; greater is more specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// A global quota (`path` "").
    Global,
    /// A quota on the request's mount.
    Mount,
    /// A `*` path quota; the number is the length of its prefix, and a
    /// longer prefix is more specific.
    Glob(usize),
    /// A quota on exactly the request's path.
    Exact,
}

impl QuotaRecord {
    /// The path as the API shows it: mount and suffix together.
    pub fn path(&self) -> String {
        format!("{}{}", self.mount_path, self.path_suffix)
    }

    /// Global and login-default quotas are "namespace" quotas, which Vault
    /// reports as inheritable; mount and path quotas are not.
    pub fn inheritable(&self) -> bool {
        self.mount_path.is_empty()
    }

    /// The quota's bucket shape.
    pub fn limit(&self) -> Limit {
        Limit::new(
            self.rate,
            Duration::from_secs(self.interval_seconds),
            Duration::from_secs(self.block_interval_seconds),
        )
    }

    /// Checks a record read from storage (a hand-edited or damaged record
    /// must not divide by zero or match paths it was never meant to).
    pub fn validate(&self) -> Result<(), QuotaError> {
        let corrupt = || QuotaError::Corrupt(format!("quota {:?}", shorten(&self.name)));
        if !(valid_name(&self.name) && self.rate.is_finite() && self.rate > 0.0) {
            return Err(corrupt());
        }
        if self.interval_seconds == 0 || (self.login_default && !self.mount_path.is_empty()) {
            return Err(corrupt());
        }
        let full = sanitize_path(&self.path()).map_err(|_| corrupt())?;
        if !self.mount_path.is_empty() && !full.starts_with(&self.mount_path) {
            return Err(corrupt());
        }
        Ok(())
    }

    /// The quota as Vault's read endpoint shows it.
    pub fn to_data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("type".into(), Value::String(TYPE_RATE_LIMIT.into()));
        data.insert("name".into(), Value::String(self.name.clone()));
        data.insert("path".into(), Value::String(self.path()));
        data.insert("role".into(), Value::String(String::new()));
        data.insert("rate".into(), rate_value(self.rate));
        data.insert("interval".into(), Value::from(self.interval_seconds));
        data.insert(
            "block_interval".into(),
            Value::from(self.block_interval_seconds),
        );
        data.insert("inheritable".into(), Value::Bool(self.inheritable()));
        data
    }

    /// The comparable form of the quota's path: mount and suffix without a
    /// trailing `/` ("" for global quotas).
    pub fn target(&self) -> String {
        self.path().trim_end_matches('/').to_owned()
    }

    /// How this quota matches a request for `path` served by `mount`
    /// (`None`: it does not apply). The login-default quota never matches
    /// here; the caller falls back to it.
    pub fn rank(&self, target: &str, path: &str, mount: &str) -> Option<Rank> {
        if self.login_default {
            return None;
        }
        if target.is_empty() {
            return Some(Rank::Global);
        }
        if mount.is_empty() {
            return None;
        }
        let mount_trimmed = mount.trim_end_matches('/');
        if target == mount_trimmed {
            return Some(Rank::Mount);
        }
        let rest = target
            .strip_prefix(mount_trimmed)
            .and_then(|r| r.strip_prefix('/'))?;
        let request_suffix = path
            .strip_prefix(mount_trimmed)
            .map(|r| r.strip_prefix('/').unwrap_or(r))
            .unwrap_or("")
            .trim_end_matches('/');
        match rest.strip_suffix('*') {
            Some(prefix) => request_suffix
                .starts_with(prefix)
                .then_some(Rank::Glob(prefix.len())),
            None => (rest == request_suffix).then_some(Rank::Exact),
        }
    }
}

/// Vault prints a float64 rate without a fraction when it has none (`20`,
/// `897.3`).
fn rate_value(rate: f64) -> Value {
    if rate.fract() == 0.0 && rate.abs() < 9.0e15 {
        Value::Number(Number::from(rate as i64))
    } else {
        Number::from_f64(rate).map_or(Value::Null, Value::Number)
    }
}

/// Whether `name` is a valid quota name: Vault's `GenericNameRegex`, that is
/// ASCII letters, digits and `_`, with `-` and `.` allowed inside.
pub(crate) fn valid_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return false;
    };
    name.len() <= 256
        && word(first)
        && word(last)
        && name.chars().all(|c| word(c) || c == '-' || c == '.')
}

/// Vault's `sanitizePath` (leading `/` removed, trailing `/` added, "" kept),
/// followed by the checks a real mount path would pass: no empty, `.` or `..`
/// segment, no control character, and `*` only at the very end.
pub(crate) fn sanitize_path(input: &str) -> Result<String, QuotaError> {
    let mut path = input.trim_start_matches('/').to_owned();
    if path.is_empty() {
        return Ok(path);
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    let invalid = || QuotaError::InvalidMountPath(shorten(&path));
    if path.len() > MAX_PATH_LEN || path.chars().any(char::is_control) {
        return Err(invalid());
    }
    let body = &path[..path.len() - 1];
    if let Some(star) = body.find('*')
        && star + 1 != body.len()
    {
        return Err(invalid());
    }
    if body
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(invalid());
    }
    Ok(path)
}

/// Splits a sanitized path into mount and suffix when no mount table is
/// available: `auth/<name>/` or the first segment is taken as the mount,
/// which is right for every mount created at one level (`secret/`,
/// `auth/userpass/`). Matching does not depend on the split; only the path
/// shown back does.
pub(crate) fn split_without_mounts(sanitized: &str) -> (String, String) {
    let segments = if sanitized.starts_with("auth/") { 2 } else { 1 };
    let mut end = 0;
    for _ in 0..segments {
        match sanitized[end..].find('/') {
            Some(i) => end += i + 1,
            None => break,
        }
    }
    split_at_mount(sanitized, &sanitized[..end])
}

/// Splits a sanitized path at `mount` (a prefix of it), as Vault does:
/// the suffix loses its trailing `/`.
pub(crate) fn split_at_mount(sanitized: &str, mount: &str) -> (String, String) {
    let suffix = sanitized
        .strip_prefix(mount)
        .unwrap_or("")
        .trim_end_matches('/');
    (mount.to_owned(), suffix.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(mount: &str, suffix: &str) -> QuotaRecord {
        QuotaRecord {
            name: "q".into(),
            mount_path: mount.into(),
            path_suffix: suffix.into(),
            rate: 1.0,
            interval_seconds: 1,
            block_interval_seconds: 0,
            login_default: false,
        }
    }

    fn rank(mount_path: &str, suffix: &str, path: &str, mount: &str) -> Option<Rank> {
        let r = record(mount_path, suffix);
        r.rank(&r.target(), path, mount)
    }

    #[test]
    fn ranks() {
        assert_eq!(rank("", "", "secret/x", "secret/"), Some(Rank::Global));
        assert_eq!(rank("", "", "nowhere", ""), Some(Rank::Global));
        assert_eq!(
            rank("secret/", "", "secret/x", "secret/"),
            Some(Rank::Mount)
        );
        assert_eq!(rank("secret/", "", "secret", "secret/"), Some(Rank::Mount));
        assert_eq!(rank("secret/", "", "other/x", "other/"), None);
        assert_eq!(rank("secret/", "", "secretive/x", "secretive/"), None);
        assert_eq!(rank("secret/", "", "x", ""), None);
        assert_eq!(
            rank("secret/", "data/app", "secret/data/app", "secret/"),
            Some(Rank::Exact)
        );
        assert_eq!(
            rank("secret/", "data/app", "secret/data/app/", "secret/"),
            Some(Rank::Exact)
        );
        assert_eq!(
            rank("secret/", "data/app", "secret/data/apple", "secret/"),
            None
        );
        assert_eq!(
            rank("secret/", "data/app*", "secret/data/apple", "secret/"),
            Some(Rank::Glob(8))
        );
        assert_eq!(
            rank("secret/", "*", "secret/anything", "secret/"),
            Some(Rank::Glob(0))
        );
        assert_eq!(
            rank("secret/", "data/app*", "secret/data/x", "secret/"),
            None
        );
        // A split made without the mount table matches the same requests.
        assert_eq!(
            rank("team/", "kv/data/app", "team/kv/data/app", "team/kv/"),
            Some(Rank::Exact)
        );
        assert_eq!(
            rank("team/", "kv", "team/kv/x", "team/kv/"),
            Some(Rank::Mount)
        );
        assert!(Rank::Exact > Rank::Glob(100));
        assert!(Rank::Glob(3) > Rank::Glob(2));
        assert!(Rank::Glob(0) > Rank::Mount);
        assert!(Rank::Mount > Rank::Global);
    }

    #[test]
    fn login_default_never_ranks() {
        let mut r = record("", "");
        r.login_default = true;
        assert_eq!(r.rank("", "auth/userpass/login/x", "auth/userpass/"), None);
    }

    #[test]
    fn sanitizing() {
        assert_eq!(sanitize_path("").unwrap(), "");
        assert_eq!(sanitize_path("/").unwrap(), "");
        assert_eq!(sanitize_path("secret").unwrap(), "secret/");
        assert_eq!(sanitize_path("/secret/").unwrap(), "secret/");
        assert_eq!(
            sanitize_path("secret/data/app").unwrap(),
            "secret/data/app/"
        );
        assert_eq!(sanitize_path("secret/data/*").unwrap(), "secret/data/*/");
        for bad in [
            "secret//x",
            "secret/../sys",
            "secret/./x",
            "sec*ret/x",
            "secret/*/x",
            "a\nb",
            &"x".repeat(600),
        ] {
            let err = sanitize_path(bad).unwrap_err();
            assert!(matches!(err, QuotaError::InvalidMountPath(_)), "{bad}");
        }
    }

    #[test]
    fn splitting_without_mounts() {
        assert_eq!(
            split_without_mounts("secret/"),
            ("secret/".into(), String::new())
        );
        assert_eq!(
            split_without_mounts("secret/data/app/"),
            ("secret/".into(), "data/app".into())
        );
        assert_eq!(
            split_without_mounts("auth/userpass/login/*/"),
            ("auth/userpass/".into(), "login/*".into())
        );
        assert_eq!(
            split_without_mounts("auth/"),
            ("auth/".into(), String::new())
        );
    }

    #[test]
    fn names() {
        for good in ["a", "global-rate-limiter", "kv.v2_limit", "A9"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", ".", "a/b", "a b", "é"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn read_shape() {
        let mut r = record("secret/", "data/app");
        r.rate = 897.3;
        r.interval_seconds = 120;
        r.block_interval_seconds = 300;
        let data = Value::Object(r.to_data());
        assert_eq!(
            data,
            serde_json::json!({
                "type": "rate-limit", "name": "q", "path": "secret/data/app", "role": "",
                "rate": 897.3, "interval": 120, "block_interval": 300, "inheritable": false
            })
        );
        assert_eq!(rate_value(20.0), serde_json::json!(20));
    }

    #[test]
    fn stored_records_are_validated() {
        assert!(record("secret/", "data/app").validate().is_ok());
        assert!(record("", "").validate().is_ok());
        let mut zero = record("", "");
        zero.interval_seconds = 0;
        assert!(zero.validate().is_err());
        let mut nan = record("", "");
        nan.rate = f64::NAN;
        assert!(nan.validate().is_err());
        assert!(record("secret/", "../x").validate().is_err());
        let mut login = record("secret/", "");
        login.login_default = true;
        assert!(login.validate().is_err());
    }
}
