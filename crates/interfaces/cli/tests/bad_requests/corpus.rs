//! The generated part of the corpus: bad requests derived from the server's
//! own OpenAPI document (`sys/internal/specs/openapi`), which is generated
//! from every mounted backend's path declarations. A new engine, path or
//! field is covered without new test code; the committed
//! `generated.jsonl` shows reviewers what is sent.
//!
//! Only values Vault itself refuses are generated (Vault converts numbers
//! and booleans to strings, `0`/`1` and booleans to integers and booleans,
//! numbers to string lists: none of those is sent as "bad").

use serde_json::{Map, Value, json};

/// Everything the server must answer with a 4xx (or exactly 403).
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// What the case tests (`wrong-type`, `out-of-range`, `traversal`, ...).
    pub kind: String,
    /// HTTP method.
    pub method: String,
    /// The request target after `/v1/`, percent-encoding kept as is.
    pub path: String,
    /// Whether the root token is sent.
    pub token: bool,
    /// `Some(403)` for an exact status; `None` for any 4xx.
    pub expect: Option<u16>,
    /// The body, verbatim.
    pub body: Option<String>,
    /// A body of this many nested arrays, built at replay time.
    pub nested: Option<usize>,
    /// A body of this many bytes (declared in `Content-Length`), built at
    /// replay time.
    pub oversize: Option<usize>,
}

impl Case {
    fn new(kind: &str, method: &str, path: String, body: Option<String>) -> Self {
        Case {
            kind: kind.to_owned(),
            method: method.to_owned(),
            path,
            token: true,
            expect: None,
            body,
            nested: None,
            oversize: None,
        }
    }

    /// One line of `generated.jsonl`.
    pub fn to_line(&self) -> String {
        let mut m = Map::new();
        m.insert("kind".into(), json!(self.kind));
        m.insert("method".into(), json!(self.method));
        m.insert("path".into(), json!(self.path));
        m.insert("token".into(), json!(self.token));
        m.insert(
            "expect".into(),
            match self.expect {
                Some(code) => json!(code),
                None => json!("4xx"),
            },
        );
        if let Some(b) = &self.body {
            m.insert("body".into(), json!(b));
        }
        if let Some(n) = self.nested {
            m.insert("nested".into(), json!(n));
        }
        if let Some(n) = self.oversize {
            m.insert("oversize".into(), json!(n));
        }
        Value::Object(m).to_string()
    }

    /// Parses one line of `generated.jsonl`.
    pub fn from_line(line: &str) -> Case {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Case {
            kind: s("kind"),
            method: s("method"),
            path: s("path"),
            token: v["token"].as_bool().unwrap_or(true),
            expect: v["expect"].as_u64().map(|c| c as u16),
            body: v["body"].as_str().map(str::to_owned),
            nested: v["nested"].as_u64().map(|n| n as usize),
            oversize: v["oversize"].as_u64().map(|n| n as usize),
        }
    }

    /// The body bytes to send.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        if let Some(n) = self.nested {
            let mut b = "[".repeat(n).into_bytes();
            b.extend(std::iter::repeat_n(b']', n));
            return Some(b);
        }
        if let Some(n) = self.oversize {
            // A valid JSON object, just too large: only the size is wrong.
            let mut b = b"{\"pad\":\"".to_vec();
            b.resize(n - 2, b'a');
            b.extend_from_slice(b"\"}");
            return Some(b);
        }
        self.body.as_ref().map(|b| b.clone().into_bytes())
    }
}

/// Paths never sent anything: a request that `sys/seal` accepted by
/// mistake would seal the server and turn every later answer into a 503.
/// Their refusal of bad input is covered by `e2e_bad_input`.
const SKIP: &[&str] = &["/sys/seal"];

/// Bodies that are not a JSON object at all.
const MALFORMED: &[&str] = &["{not json", "[1,2,3]", "{\"a\":\"\\ud800\"}", "{\"a\":1}}"];

/// Nested arrays in the deeply-nested cases.
pub const NESTING: usize = 10_000;

/// Bytes in the oversize cases: one more than the 32 MiB limit.
pub const OVERSIZE: usize = 32 * 1024 * 1024 + 1;

/// Where oversize bodies are sent (each costs 32 MiB of transfer).
const OVERSIZE_PATHS: &[&str] = &[
    "sys/mounts/corpus-x",
    "secret/data/state/a",
    "auth/token/create",
];

/// Context for paths whose handlers refuse a body for another reason
/// before they read the field under test (a missing `type`, an unknown
/// mount): the parameter value to use and a valid body the bad field is
/// added to. Optional: paths not listed get the bad field alone and are
/// still covered. With a valid base, a bad value that is ignored is
/// accepted, which the replay reports (and the state comparison sees).
const CONTEXT: &[(&str, &str, &str)] = &[
    ("/sys/mounts/{path}/tune", "secret", "{}"),
    ("/sys/auth/{path}/tune", "userpass", "{}"),
    ("/sys/mounts/{path}", "corpus-x", r#"{"type":"kv"}"#),
    ("/sys/auth/{path}", "corpus-x", r#"{"type":"userpass"}"#),
    (
        "/sys/audit/{path}",
        "corpus-x",
        r#"{"type":"file","options":{"file_path":"stdout"}}"#,
    ),
    (
        "/sys/rekey/init",
        "",
        r#"{"secret_shares":3,"secret_threshold":2}"#,
    ),
    (
        "/sys/quotas/rate-limit/{name}",
        "corpus-x",
        r#"{"rate":1000}"#,
    ),
    (
        "/database/config/{name}",
        "corpus-x",
        r#"{"plugin_name":"postgresql-database-plugin","connection_url":"postgresql://{{username}}:{{password}}@127.0.0.1:1/x","username":"u","password":"p","verify_connection":false}"#,
    ),
    (
        "/database/roles/{name}",
        "corpus-x",
        r#"{"db_name":"corpus-x","creation_statements":["SELECT 1"]}"#,
    ),
    (
        "/database/static-roles/{name}",
        "corpus-x",
        r#"{"db_name":"corpus-x","username":"u","rotation_period":"1h"}"#,
    ),
    (
        "/auth/userpass/users/{username}",
        "corpus-x",
        r#"{"password":"corpus-password"}"#,
    ),
    // An entry that exists (PATCH needs one): a bad value taken by
    // mistake would change it, which the state comparison sees.
    ("/secret/data/{path}", "state/a", r#"{"data":{"a":"b"}}"#),
    ("/secret/metadata/{path}", "state/a", "{}"),
    ("/kv1/{path}", "corpus-x", r#"{"a":"b"}"#),
];

/// Parameter values naming objects the test creates first, for the paths
/// under a prefix (so a role's sub-paths find their role): (prefix, value).
const EXISTING: &[(&str, &str)] = &[
    ("/auth/approle/role/{role_name}", "corpus-role"),
    ("/auth/token/create/{role_name}", "corpus-role"),
    ("/auth/token/roles/{role_name}", "corpus-role"),
];

/// Object fields whose members are another path's fields: the mount
/// endpoints' `config` takes the TTLs and lists `tune` takes (not its
/// `description` and `options`, which Vault ignores inside `config`).
/// (path, field, the path whose fields it nests, fields left out.)
const NESTED: &[(&str, &str, &str, &[&str])] = &[
    (
        "/sys/mounts/{path}",
        "config",
        "/sys/mounts/{path}/tune",
        &["description", "options"],
    ),
    (
        "/sys/auth/{path}",
        "config",
        "/sys/auth/{path}/tune",
        &["description", "options"],
    ),
];

/// Values Vault accepts for a field in the context given above, so they
/// are not generated: (path, field, value).
const ACCEPTED: &[(&str, &str, &str)] = &[
    // A Redis option: the PostgreSQL plugin of the base ignores it.
    ("/database/config/{name}", "port", "-1"),
    // `version` selects what a read returns; a write ignores it.
    ("/secret/data/{path}", "version", "-1"),
];

/// `{"field":value, <base without field>}`: the base's own value of the
/// field never overrides the bad one.
fn with_base(name: &str, value: &str, base: &str) -> String {
    let mut rest: Map<String, Value> = serde_json::from_str(base).unwrap_or_default();
    rest.remove(name);
    let rest = Value::Object(rest).to_string();
    let tail = rest.trim_start_matches('{');
    if tail == "}" {
        format!("{{{}:{value}}}", json!(name))
    } else {
        format!("{{{}:{value},{tail}", json!(name))
    }
}

/// Bad values for a field of the given OpenAPI schema, as JSON text, each
/// with the kind of badness.
fn bad_values(schema: &Value) -> Vec<(&'static str, String)> {
    let ty = schema["type"].as_str().unwrap_or("");
    let format = schema["format"].as_str().unwrap_or("");
    let w = |v: &str| ("wrong-type", v.to_owned());
    let r = |v: &str| ("out-of-range", v.to_owned());
    match (ty, format) {
        ("string", "duration") => vec![
            w("\"abc\""),
            w("{}"),
            w("[1]"),
            w("true"),
            r("1e300"),
            r("18446744073709551616"),
            r("-1"),
            r("\"9000000000000000000s\""),
            r("\"99999999999999h\""),
            r(&format!("\"{}h\"", "9".repeat(400))),
        ],
        ("string", _) => vec![w("{\"a\":1}"), w("[{}]")],
        ("integer", _) => vec![
            w("\"abc\""),
            w("{}"),
            w("[1]"),
            r("-1"),
            r("9223372036854775808"),
            r("18446744073709551616"),
            r("1e300"),
            r(&format!("\"{}\"", "9".repeat(400))),
        ],
        ("boolean", _) => vec![w("\"notabool\""), w("{}"), w("[true]")],
        ("array", _) => vec![w("{}"), w("[{}]"), w("[[1]]")],
        ("object", _) => vec![w("\"notamap\""), w("[1]"), w("5"), w("true")],
        _ => Vec::new(),
    }
}

/// The parameter names of an OpenAPI path (`/a/{x}/b/{y}` -> `x`, `y`).
fn path_params(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split('}').next())
        .collect()
}

/// `/secret/data/{path}` with every parameter set to `fill`, except the
/// one at `abuse` (by index), which gets `abused`; without the leading `/`.
fn fill(template: &str, abuse: Option<(usize, &str)>) -> String {
    fill_with(template, "corpus-x", abuse)
}

/// [`fill`] with `value` for the parameters that are not abused.
fn fill_with(template: &str, value: &str, abuse: Option<(usize, &str)>) -> String {
    let mut out = String::new();
    let mut index = 0;
    let mut rest = template.trim_start_matches('/');
    // Bounded by the template's length.
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        out.push_str(match abuse {
            Some((i, v)) if i == index => v,
            _ => value,
        });
        index += 1;
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Capture values that must be refused anywhere: `..` and `.` segments,
/// however encoded, and NUL.
const TRAVERSAL: &[(&str, &str)] = &[
    ("traversal", ".."),
    ("traversal", "%2e%2e"),
    ("traversal", ".%2E"),
    ("traversal", "corpus%2f..%2fx"),
    ("traversal", "corpus/../x"),
    ("nul", "a%00b"),
    ("nul", "%00"),
];

/// Double percent-encoding: decoded once it is a literal name that does
/// not exist, so only reads are sent (an absent name is a 404).
const DOUBLE_ENCODED: &[&str] = &["%252e%252e", "%252fetc%252fpasswd", "%25%30%30"];

/// Every bad request derived from `doc`, in a stable order.
pub fn generate(doc: &Value) -> Vec<Case> {
    let empty = Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = paths.keys().collect();
    keys.sort();
    let mut cases = Vec::new();
    for key in keys {
        if SKIP.contains(&key.as_str()) {
            continue;
        }
        let item = &paths[key];
        let ops: Vec<&str> = item["x-coffer-operations"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let unauthenticated = item["x-vault-unauthenticated"] == json!(true);
        let writes = ops.contains(&"update") || ops.contains(&"create");
        let reads = ops.contains(&"read");
        let lists = ops.contains(&"list");
        let context = CONTEXT.iter().find(|(k, _, _)| k == key);
        let existing = EXISTING.iter().find(|(prefix, _)| key.starts_with(prefix));
        let target = match (context, existing) {
            (Some((_, value, _)), _) if !value.is_empty() => fill_with(key, value, None),
            (_, Some((_, value))) => fill_with(key, value, None),
            _ => fill(key, None),
        };
        let base = context.map_or("{}", |(_, _, base)| *base);
        let first = cases.len();
        if writes {
            let props =
                &item["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"];
            if let Some(props) = props.as_object() {
                let mut names: Vec<&String> = props.keys().collect();
                names.sort();
                // A body field named like a path parameter is overridden by
                // the path's value, in Vault as here: never bad.
                let params = path_params(key);
                for name in names.into_iter().filter(|n| !params.contains(&n.as_str())) {
                    for (kind, value) in bad_values(&props[name]) {
                        if ACCEPTED.contains(&(key.as_str(), name.as_str(), value.as_str())) {
                            continue;
                        }
                        let body = with_base(name, &value, base);
                        if ops.contains(&"patch") {
                            let patch =
                                Case::new(kind, "PATCH", target.clone(), Some(body.clone()));
                            cases.push(patch);
                        }
                        cases.push(Case::new(kind, "POST", target.clone(), Some(body)));
                    }
                }
            }
            for (_, field, source, left_out) in NESTED.iter().filter(|n| n.0 == key) {
                let source = &paths[*source]["post"]["requestBody"]["content"]["application/json"]
                    ["schema"]["properties"];
                let Some(members) = source.as_object() else {
                    continue;
                };
                let mut names: Vec<&String> = members
                    .keys()
                    .filter(|n| !left_out.contains(&n.as_str()))
                    .collect();
                names.sort();
                for name in names {
                    for (kind, value) in bad_values(&members[name]) {
                        let inner = format!("{{{}:{value}}}", json!(name));
                        let body = with_base(field, &inner, base);
                        cases.push(Case::new(kind, "POST", target.clone(), Some(body)));
                    }
                }
            }
            for body in MALFORMED {
                let c = Case::new(
                    "malformed-json",
                    "POST",
                    target.clone(),
                    Some((*body).into()),
                );
                cases.push(c);
            }
            let mut nested = Case::new("deeply-nested", "POST", target.clone(), None);
            nested.nested = Some(NESTING);
            cases.push(nested);
            if OVERSIZE_PATHS.contains(&target.as_str()) {
                let mut big = Case::new("oversize", "POST", target.clone(), None);
                big.oversize = Some(OVERSIZE);
                cases.push(big);
            }
        }
        // A share of the well-formed body cases without a token: 403
        // before anything else (a body that is not JSON is refused first,
        // as in Vault, so those keep the token).
        if !unauthenticated {
            let typed = cases[first..]
                .iter_mut()
                .filter(|c| c.kind == "wrong-type" || c.kind == "out-of-range");
            for (i, case) in typed.enumerate() {
                if i % 4 == 3 {
                    case.token = false;
                    case.expect = Some(403);
                }
            }
        }
        let params = key.matches('{').count();
        for index in 0..params {
            for (kind, value) in TRAVERSAL {
                let path = fill(key, Some((index, value)));
                if reads && lists {
                    cases.push(Case::new(kind, "LIST", path.clone(), None));
                }
                let case = if reads {
                    Case::new(kind, "GET", path, None)
                } else if lists {
                    Case::new(kind, "LIST", path, None)
                } else if writes {
                    Case::new(kind, "POST", path, Some("{}".into()))
                } else {
                    Case::new(kind, "DELETE", path, None)
                };
                cases.push(case);
            }
            if reads || lists {
                let method = if reads { "GET" } else { "LIST" };
                for value in DOUBLE_ENCODED {
                    let path = fill(key, Some((index, value)));
                    cases.push(Case::new("double-encoding", method, path, None));
                }
            }
        }
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_each_parameter() {
        assert_eq!(fill("/db/roles/{name}", None), "db/roles/corpus-x");
        assert_eq!(fill("/a/{x}/b/{y}", Some((1, ".."))), "a/corpus-x/b/..");
    }

    #[test]
    fn path_parameters() {
        assert_eq!(path_params("/a/{x}/b/{y}"), vec!["x", "y"]);
        assert!(path_params("/a/b").is_empty());
    }

    #[test]
    fn the_bad_value_wins_over_the_base() {
        assert_eq!(with_base("ttl", "1e300", "{}"), r#"{"ttl":1e300}"#);
        assert_eq!(
            with_base("type", "{}", r#"{"type":"kv","local":false}"#),
            r#"{"type":{},"local":false}"#
        );
    }

    #[test]
    fn lines_round_trip() {
        let mut c = Case::new(
            "wrong-type",
            "POST",
            "a/b".into(),
            Some("{\"x\":{}}".into()),
        );
        c.expect = Some(403);
        c.token = false;
        assert_eq!(Case::from_line(&c.to_line()), c);
    }
}
