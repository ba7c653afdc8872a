//! Declarative paths: patterns with captures, the operations they accept and
//! their fields, from which routing inside a backend, help text, OpenAPI and
//! the bad-request corpus all come. [`crate::dispatch`] binds handlers to
//! them.

use coffer_types::{Operation, Response};
use serde_json::{Map, Value};

use crate::FieldDef;

/// One path family of a backend.
///
/// Pattern syntax: `/`-separated segments; a literal matches itself, `:name`
/// matches one non-empty segment, and a final `*name` matches the rest of the
/// path, which may be empty and may contain `/`. A `*name` followed by more
/// segments (`mounts/*path/tune`) matches the shortest non-empty run of
/// segments after which the rest of the pattern matches (Vault's
/// `(?P<path>.+?)/tune$`).
#[derive(Debug)]
pub struct PathDef {
    /// The pattern, relative to the mount.
    pub pattern: &'static str,
    /// The fields the path accepts.
    pub fields: &'static [FieldDef],
    /// The operations it supports.
    pub operations: &'static [Operation],
    /// Whether writes are split into create/update by an existence check.
    pub existence_check: bool,
    /// One line of help.
    pub synopsis: &'static str,
    /// Longer help.
    pub description: &'static str,
}

impl PathDef {
    /// Whether this declaration's pattern matches `path` (relative to the
    /// mount).
    pub fn matches(&self, path: &str) -> bool {
        match_pattern(self.pattern, path).is_some()
    }

    /// Vault's `help` response for a request to `path` matched by this
    /// declaration.
    pub fn help(&self, path: &str) -> Response {
        let mut text = format!(
            "Request:        {}\nMatching Route: ^{}$\n\n{}\n",
            path, self.pattern, self.synopsis
        );
        if !self.fields.is_empty() {
            text.push_str("\n## PARAMETERS\n\n");
            for f in self.fields {
                text.push_str(&format!(
                    "    {} ({})\n        {}\n\n",
                    f.name,
                    f.kind.name(),
                    f.description
                ));
            }
        }
        text.push_str(&format!("\n## DESCRIPTION\n\n{}\n", self.description));
        let mut data = Map::new();
        data.insert("help".into(), Value::String(text));
        Response::with_data(data)
    }
}

/// The Vault special-path glob that covers a pattern: `:name` segments
/// become `+` (any one segment) and a final `*name` a trailing `*` (any
/// rest), so `login/:user` is `login/+` and `data/*path` is `data/*`.
pub(crate) fn special_glob(pattern: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in pattern.split('/') {
        if seg.starts_with('*') {
            let mut glob = out.join("/");
            if !glob.is_empty() {
                glob.push('/');
            }
            glob.push('*');
            return glob;
        }
        out.push(if seg.starts_with(':') { "+" } else { seg });
    }
    out.join("/")
}

/// Whether `path` (relative to its mount) matches one of Vault's special-path
/// globs: an exact path (a trailing `/` on either side tolerated), a prefix
/// ending in `*`, and `+` standing for exactly one non-empty segment.
pub fn special_path_matches(globs: &[String], path: &str) -> bool {
    globs.iter().any(|g| glob_matches(g, path))
}

fn glob_matches(glob: &str, path: &str) -> bool {
    let (glob, prefix) = match glob.strip_suffix('*') {
        Some(g) => (g, true),
        None => (glob.strip_suffix('/').unwrap_or(glob), false),
    };
    if !glob.contains('+') {
        return if prefix {
            path.starts_with(glob)
        } else {
            path.strip_suffix('/').unwrap_or(path) == glob
        };
    }
    let mut rest = path;
    let segs: Vec<&str> = glob.split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if last && prefix {
            // `a/+/b*`: the final segment of the glob is a prefix of the rest.
            return if *seg == "+" {
                !rest.is_empty()
            } else {
                rest.starts_with(seg)
            };
        }
        let (head, tail) = match rest.split_once('/') {
            Some((h, t)) => (h, Some(t)),
            None => (rest, None),
        };
        let ok = if *seg == "+" {
            !head.is_empty()
        } else {
            *seg == head
        };
        if !ok {
            return false;
        }
        match tail {
            Some(t) if last => return t.is_empty(),
            Some(t) => rest = t,
            None => return last,
        }
    }
    rest.is_empty()
}

/// Values captured from a path by a pattern.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captures(Vec<(&'static str, String)>);

impl Captures {
    /// The capture called `name` ("" when the pattern has no such capture).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

pub(crate) fn match_pattern(pattern: &'static str, path: &str) -> Option<Captures> {
    let mut caps = Vec::new();
    let mut rest = path;
    let segs: Vec<&'static str> = pattern.split('/').collect();
    let mut offset = 0;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if let Some(name) = seg.strip_prefix('*') {
            if last {
                caps.push((name, rest.to_owned()));
                return Some(Captures(caps));
            }
            // A `*name` before other segments (`mounts/*path/tune`, Vault's
            // `mounts/(?P<path>.+?)/tune$`): the shortest non-empty capture
            // after which the rest of the pattern matches the rest of the
            // path, with no trailing slash tolerated.
            let after: &'static str = &pattern[offset + seg.len() + 1..];
            for (j, _) in rest.match_indices('/').filter(|(j, _)| *j > 0) {
                let tail = &rest[j + 1..];
                if tail.ends_with('/') && !after.ends_with('/') {
                    continue;
                }
                if let Some(more) = match_pattern(after, tail) {
                    caps.push((name, rest[..j].to_owned()));
                    caps.extend(more.0);
                    return Some(Captures(caps));
                }
            }
            return None;
        }
        let (head, tail) = match rest.find('/') {
            Some(j) => (&rest[..j], Some(&rest[j + 1..])),
            None => (rest, None),
        };
        if let Some(name) = seg.strip_prefix(':') {
            if head.is_empty() {
                return None;
            }
            caps.push((name, head.to_owned()));
        } else if *seg != head {
            return None;
        }
        offset += seg.len() + 1;
        match tail {
            Some(t) if last => {
                // A trailing slash after the final segment is tolerated (LIST).
                if !t.is_empty() {
                    return None;
                }
                rest = "";
            }
            Some(t) => rest = t,
            None if last => rest = "",
            None => {
                // Only a final `*` capture may match nothing.
                let next = segs.get(i + 1)?;
                if next.starts_with('*') && i + 2 == segs.len() {
                    caps.push((&next[1..], String::new()));
                    return Some(Captures(caps));
                }
                return None;
            }
        }
    }
    rest.is_empty().then_some(Captures(caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(p: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
        match_pattern(p, path).map(|c| c.0)
    }

    #[test]
    fn literal_and_named_segments() {
        assert_eq!(caps("config", "config"), Some(vec![]));
        assert_eq!(caps("config", "configx"), None);
        assert_eq!(
            caps("roles/:name", "roles/web"),
            Some(vec![("name", "web".into())])
        );
        assert_eq!(caps("roles/:name", "roles/"), None);
        assert_eq!(caps("roles/:name", "roles/a/b"), None);
        assert_eq!(caps("roles/", "roles/"), Some(vec![]));
    }

    #[test]
    fn rest_captures() {
        assert_eq!(
            caps("data/*path", "data/a/b/c"),
            Some(vec![("path", "a/b/c".into())])
        );
        assert_eq!(caps("data/*path", "data/"), Some(vec![("path", "".into())]));
        assert_eq!(caps("data/*path", "data"), Some(vec![("path", "".into())]));
        assert_eq!(caps("data/*path", "datax/a"), None);
        assert_eq!(
            caps("*path", "anything/at/all/"),
            Some(vec![("path", "anything/at/all/".into())])
        );
    }

    #[test]
    fn inner_rest_captures() {
        let p = "mounts/*path/tune";
        assert_eq!(caps(p, "mounts/a/tune"), Some(vec![("path", "a".into())]));
        assert_eq!(
            caps(p, "mounts/a/b/tune"),
            Some(vec![("path", "a/b".into())])
        );
        assert_eq!(
            caps(p, "mounts/a/tune/tune"),
            Some(vec![("path", "a/tune".into())])
        );
        assert_eq!(caps(p, "mounts/tune"), None);
        assert_eq!(caps(p, "mounts//tune"), None);
        assert_eq!(caps(p, "mounts/a/tune/"), None);
        assert_eq!(caps(p, "mounts/a/tunex"), None);
        assert_eq!(caps(p, "mounts/a"), None);
        assert_eq!(
            caps("x/*a/:b/y", "x/1/2/3/y"),
            Some(vec![("a", "1/2".into()), ("b", "3".into())])
        );
        assert_eq!(
            caps("x/*a/k/*b", "x/1/k/2/k/3"),
            Some(vec![("a", "1".into()), ("b", "2/k/3".into())])
        );
        assert_eq!(special_glob(p), "mounts/*");
    }

    #[test]
    fn special_globs() {
        assert_eq!(special_glob("login/:user"), "login/+");
        assert_eq!(special_glob("login"), "login");
        assert_eq!(special_glob("data/*path"), "data/*");
        assert_eq!(special_glob("*path"), "*");
        assert_eq!(special_glob("role/:name/secret-id"), "role/+/secret-id");
        let m = |g: &str, p: &str| special_path_matches(&[g.to_owned()], p);
        assert!(m("login/+", "login/bob"));
        assert!(!m("login/+", "login/"));
        assert!(!m("login/+", "login/a/b"));
        assert!(!m("login/+", "login"));
        assert!(m("login", "login") && m("login", "login/") && !m("login", "loginx"));
        assert!(m("revoke-orphan*", "revoke-orphan/x") && !m("revoke-orphan*", "revoke"));
        assert!(m("role/+/secret-id", "role/web/secret-id"));
        assert!(!m("role/+/secret-id", "role/web/secret-id/x"));
        assert!(m("a/+/b*", "a/x/bcd") && !m("a/+/b*", "a/x/c"));
        assert!(m("a/+*", "a/x/y") && !m("a/+*", "a/"));
    }
}
