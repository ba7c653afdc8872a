//! Where a `kv` command's path goes: the mount (from `-mount` or found by asking
//! the server, like Vault's `kvPreflightVersionRequest`), the KV version, and the
//! API path with `data/`, `metadata/`, `delete/`... inserted for version 2.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use coffer_client::Client;

use crate::input::sanitize_path;

/// Go's `path.Join`: joins the non-empty parts with `/` and cleans the result
/// (no empty or `.` segments, `..` resolved, no trailing slash).
pub fn path_join(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if joined.is_empty() {
        return String::new();
    }
    let rooted = joined.starts_with('/');
    let mut stack: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if stack.last().is_some_and(|s| *s != "..") {
                    stack.pop();
                } else if !rooted {
                    stack.push("..");
                }
            }
            other => stack.push(other),
        }
    }
    let body = stack.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Vault's `addPrefixToKVPath`: `secret/foo` on mount `secret/` with prefix
/// `data` becomes `secret/data/foo`.
pub fn add_prefix_to_kv_path(path: &str, mount_path: &str, api_prefix: &str) -> String {
    if path == mount_path || path == mount_path.trim_end_matches('/') {
        return path_join(&[mount_path, api_prefix]);
    }
    let mut mount = mount_path.to_owned();
    let mut rest = path.strip_prefix(mount.as_str()).unwrap_or(path).to_owned();
    // A mount path reported with a namespace prefix that the user's path lacks:
    // drop leading segments of the mount path until it matches.
    while rest == path {
        let Some((_, tail)) = mount.split_once('/') else {
            break;
        };
        if tail.is_empty() {
            break;
        }
        mount = tail.trim_end_matches('/').to_owned();
        rest = rest
            .strip_prefix(mount.as_str())
            .unwrap_or(&rest)
            .to_owned();
    }
    path_join(&[&mount, api_prefix, &rest])
}

/// A resolved `kv` path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvPath {
    /// The mount path as reported by the server (`secret/`), or "" when unknown.
    pub mount_path: String,
    /// True for KV version 2.
    pub v2: bool,
    /// The path the user meant, including the mount for v2 and for the
    /// `secret/foo` syntax.
    pub partial: String,
    /// True when the mount came from `-mount`.
    pub mount_flag: bool,
}

impl KvPath {
    /// Combines the user's arguments with the preflight answer.
    pub fn new(mount_flag: Option<&str>, arg: &str, mount_path: String, version: u8) -> Self {
        let v2 = version == 2;
        let mut partial = sanitize_path(arg);
        if mount_flag.is_some() && v2 {
            partial = path_join(&[&mount_path, &partial]);
        }
        Self {
            mount_path,
            v2,
            partial,
            mount_flag: mount_flag.is_some(),
        }
    }

    /// The API path: for v2, with `api_prefix` (`data`, `metadata`, `delete`,
    /// `undelete`, `destroy`) after the mount; for v1, the plain path.
    pub fn full_path(&self, api_prefix: &str) -> String {
        if self.v2 {
            add_prefix_to_kv_path(&self.partial, &self.mount_path, api_prefix)
        } else if self.mount_flag {
            path_join(&[&self.mount_path, &self.partial])
        } else {
            self.partial.clone()
        }
    }
}

/// The path to ask the server about: the `-mount` value, else the whole path.
pub fn preflight_target(mount_flag: Option<&str>, arg: &str) -> String {
    match mount_flag {
        Some(mount) => sanitize_path(mount),
        None => sanitize_path(arg),
    }
}

/// Reads `options.version` of a mount entry ("2", 2 or absent).
fn version_of(entry: &Map<String, Value>) -> u8 {
    let version = entry.get("options").and_then(|o| o.get("version"));
    match version {
        Some(Value::String(s)) if s == "2" => 2,
        Some(Value::Number(n)) if n.as_u64() == Some(2) => 2,
        _ => 1,
    }
}

/// The mount path and version from `sys/internal/ui/mounts/<path>` data.
pub fn from_ui_mount(data: &Map<String, Value>) -> (String, u8) {
    let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
    (path.to_owned(), version_of(data))
}

/// The longest mount in a `sys/mounts` table that contains `path`.
pub fn from_mount_table(table: &Map<String, Value>, path: &str) -> Option<(String, u8)> {
    let with_slash = format!("{}/", path.trim_end_matches('/'));
    table
        .iter()
        .filter(|(mount, _)| with_slash.starts_with(mount.as_str()) && mount.ends_with('/'))
        .max_by_key(|(mount, _)| mount.len())
        .map(|(mount, entry)| {
            let version = entry.as_object().map(version_of).unwrap_or(1);
            (mount.clone(), version)
        })
}

/// Asks the server for the mount and KV version of `path`:
/// `sys/internal/ui/mounts/<path>`, then `sys/mounts` when that is not found,
/// else version 1 with no known mount.
pub async fn preflight(client: &Client, path: &str) -> Result<(String, u8)> {
    let ui = client
        .read(&format!("sys/internal/ui/mounts/{path}"))
        .await
        .context("Error determining the KV version of the mount")?;
    if let Some(data) = ui.as_ref().and_then(|s| s.data.as_ref()) {
        return Ok(from_ui_mount(data));
    }
    if let Ok(Some(mounts)) = client.read("sys/mounts").await
        && let Some(found) = mounts.data.as_ref().and_then(|t| from_mount_table(t, path))
    {
        return Ok(found);
    }
    Ok((String::new(), 1))
}

/// Resolves the user's `-mount` and path arguments against the server.
pub async fn resolve(client: &Client, mount_flag: Option<&str>, arg: &str) -> Result<KvPath> {
    let target = preflight_target(mount_flag, arg);
    let (mount_path, version) = preflight(client, &target).await?;
    Ok(KvPath::new(mount_flag, arg, mount_path, version))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_path_join() {
        assert_eq!(path_join(&["secret/", "data", "foo"]), "secret/data/foo");
        assert_eq!(path_join(&["secret/", "data", ""]), "secret/data");
        assert_eq!(path_join(&["a//b/", "./c/../d/"]), "a/b/d");
        assert_eq!(path_join(&["", ""]), "");
        assert_eq!(path_join(&["a", ".."]), ".");
    }

    #[test]
    fn vault_prefix_insertion() {
        assert_eq!(
            add_prefix_to_kv_path("secret/foo", "secret/", "data"),
            "secret/data/foo"
        );
        assert_eq!(
            add_prefix_to_kv_path("secret/a/b", "secret/", "metadata"),
            "secret/metadata/a/b"
        );
        assert_eq!(
            add_prefix_to_kv_path("secret", "secret/", "metadata"),
            "secret/metadata"
        );
        assert_eq!(
            add_prefix_to_kv_path("secret/", "secret/", "data"),
            "secret/data"
        );
        assert_eq!(
            add_prefix_to_kv_path("kv/x", "ns1/kv/", "data"),
            "kv/data/x"
        );
    }

    #[test]
    fn both_path_syntaxes_give_the_same_v2_path() {
        let positional = KvPath::new(None, "secret/app", "secret/".into(), 2);
        let flagged = KvPath::new(Some("secret"), "app", "secret/".into(), 2);
        assert_eq!(positional.full_path("data"), "secret/data/app");
        assert_eq!(flagged.full_path("data"), "secret/data/app");
        assert_eq!(flagged.full_path("metadata"), "secret/metadata/app");
        assert_eq!(
            KvPath::new(Some("secret"), "", "secret/".into(), 2).full_path("metadata"),
            "secret/metadata"
        );
        assert_eq!(preflight_target(Some("/secret/"), "app"), "secret");
        assert_eq!(preflight_target(None, "/secret/app"), "secret/app");
    }

    #[test]
    fn v1_paths_are_unchanged() {
        assert_eq!(
            KvPath::new(None, "/kv/app/", "kv/".into(), 1).full_path("data"),
            "kv/app"
        );
        assert_eq!(
            KvPath::new(Some("kv"), "app", "kv/".into(), 1).full_path("data"),
            "kv/app"
        );
        assert_eq!(
            KvPath::new(None, "x/y", String::new(), 1).full_path("data"),
            "x/y"
        );
    }

    #[test]
    fn mount_answers_are_read() {
        let ui = json!({"path": "secret/", "type": "kv", "options": {"version": "2"}});
        assert_eq!(
            from_ui_mount(ui.as_object().unwrap()),
            ("secret/".into(), 2)
        );
        let ui = json!({"path": "kv/", "options": null});
        assert_eq!(from_ui_mount(ui.as_object().unwrap()), ("kv/".into(), 1));
        let table = json!({
            "secret/": {"type": "kv", "options": {"version": "2"}},
            "secret/team/": {"type": "kv", "options": {"version": 1}},
            "sys/": {"type": "system"}
        });
        let t = table.as_object().unwrap();
        assert_eq!(
            from_mount_table(t, "secret/app"),
            Some(("secret/".into(), 2))
        );
        assert_eq!(
            from_mount_table(t, "secret/team/x"),
            Some(("secret/team/".into(), 1))
        );
        assert_eq!(from_mount_table(t, "secret"), Some(("secret/".into(), 2)));
        assert_eq!(from_mount_table(t, "other/x"), None);
    }
}
