//! `create`, `create-orphan` and `create/:role_name`: Vault's
//! `handleCreateCommon`.
//!
//! Privileges: the caller is the token in `req.client_token`. Wherever Vault
//! asks for "root or sudo" (custom `id`, `no_parent`, `period`, policies
//! outside the caller's), the backend's [`SudoCheck`](super::SudoCheck)
//! decides; by default only `root` tokens have sudo. A `root` policy can only
//! be given by a token that has `root` itself.

use std::collections::BTreeMap;
use std::time::Duration;

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, Path, PathDef, handler};
use coffer_types::{Error, Operation, Response, Result, Sensitive};
use serde_json::Value;

use super::TokenBackend;
use super::response::auth_block;
use crate::cidr::{canonical_cidrs, within};
use crate::policies::{NON_ASSIGNABLE_POLICIES, is_subset, matches_any_glob, sanitize_policies};
use crate::{CreateParams, TokenEntry, TokenRole, TokenType, valid_role_name};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("role_name", FieldType::String, "Name of the role"),
    FieldDef::new(
        "display_name",
        FieldType::String,
        "Name to associate with this token",
    ),
    FieldDef::new(
        "explicit_max_ttl",
        FieldType::Duration,
        "Explicit Max TTL of this token",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "entity_alias",
        FieldType::String,
        "Name of the entity alias to associate with this token",
    ),
    FieldDef::new(
        "num_uses",
        FieldType::Int,
        "Max number of uses for this token",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new("period", FieldType::Duration, "Renew period"),
    FieldDef::new(
        "renewable",
        FieldType::Bool,
        "Allow token to be renewed past its initial TTL up to system/mount maximum TTL",
    )
    .default(FieldDefault::Bool(true)),
    FieldDef::new("ttl", FieldType::Duration, "Time to live for this token"),
    FieldDef::new("lease", FieldType::Duration, "Deprecated: use ttl"),
    FieldDef::new("type", FieldType::String, "Token type").default(FieldDefault::Str("service")),
    FieldDef::new(
        "no_default_policy",
        FieldType::Bool,
        "Do not include default policy for this token",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new("id", FieldType::String, "Value for the token").sensitive(),
    FieldDef::new(
        "meta",
        FieldType::Map,
        "Arbitrary key=value metadata to associate with the token",
    ),
    FieldDef::new(
        "no_parent",
        FieldType::Bool,
        "Create the token with no parent",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "policies",
        FieldType::StringList,
        "List of policies for the token",
    ),
    FieldDef::new("format", FieldType::String, "Return json formatted output"),
    FieldDef::new(
        "bound_cidrs",
        FieldType::StringList,
        "Coffer extension: CIDR blocks the token may be used from; within the parent's (or the role's) binding when that is set",
    ),
];

fn def(pattern: &'static str, synopsis: &'static str) -> PathDef {
    PathDef {
        pattern,
        fields: FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis,
        description: synopsis,
    }
}

/// `create-orphan`, `create/:role_name` and `create`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(def(
            "create-orphan",
            "The token create path is used to create new orphan tokens.",
        ))
        .update(handler!(create_orphan)),
        Path::new(def(
            "create/:role_name",
            "This token create path is used to create new tokens adhering to the given role.",
        ))
        .update(handler!(create_role)),
        Path::new(def(
            "create",
            "The token create path is used to create new tokens.",
        ))
        .update(handler!(create)),
    ]
}

/// `create`: a child of the calling token (an orphan with `no_parent` and
/// sudo).
async fn create(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    handle(b, call, Kind::Plain).await
}

/// `create-orphan`: an orphan, without sudo.
async fn create_orphan(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    handle(b, call, Kind::Orphan).await
}

/// `create/:role_name`: a token shaped by the role.
async fn create_role(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    handle(b, call, Kind::Role(call.capture("role_name"))).await
}

/// Which create path was called.
enum Kind<'a> {
    Plain,
    Orphan,
    Role(&'a str),
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(message)
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// `meta`: a map of strings (numbers and booleans are converted, as Vault's
/// weak decoding does).
fn parse_meta(fields: &FieldData<'_>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(map) = fields.get_map("meta")? {
        for (k, v) in map {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => {
                    return Err(invalid(format!(
                        "Error decoding request: 'meta[{k}]' expected type 'string'"
                    )));
                }
            };
            out.insert(k.clone(), value);
        }
    }
    Ok(out)
}

/// Vault's display name: `token-<name>` with anything outside
/// `[a-zA-Z0-9-]` replaced by `-` and one trailing `-` removed.
fn display_name(given: &str) -> String {
    if given.is_empty() {
        return "token".to_owned();
    }
    let full: String = format!("token-{given}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    full.strip_suffix('-').map(str::to_owned).unwrap_or(full)
}

/// Policies of the new token when the role restricts them (Vault's
/// allowed/disallowed role branch).
fn role_policies(
    role: &TokenRole,
    requested: &[String],
    parent: &[String],
    no_default: bool,
) -> Result<Vec<String>> {
    let add_default = !no_default
        && !role.token_no_default_policy
        && !role.disallowed_policies.iter().any(|p| p == "default")
        && !matches_any_glob(&role.disallowed_policies_glob, "default");
    let mut finals = if requested.is_empty() {
        Vec::new()
    } else {
        sanitize_policies(requested, add_default)
    };
    if !role.allowed_policies.is_empty() || !role.allowed_policies_glob.is_empty() {
        let allowed = sanitize_policies(&role.allowed_policies, add_default);
        if finals.is_empty() {
            finals = allowed;
        } else {
            let globs = sanitize_policies(&role.allowed_policies_glob, false);
            if finals
                .iter()
                .any(|p| !allowed.contains(p) && !matches_any_glob(&globs, p))
            {
                return Err(invalid(format!(
                    "token policies ({}) must be subset of the role's allowed policies ({}) or glob policies ({})",
                    go_list(&finals),
                    go_list(&allowed),
                    go_list(&globs)
                )));
            }
        }
    } else if finals.is_empty() {
        finals = sanitize_policies(parent, add_default);
    }
    if let Some(p) = finals.iter().find(|p| {
        role.disallowed_policies.contains(p) || matches_any_glob(&role.disallowed_policies_glob, p)
    }) {
        return Err(invalid(format!(
            "token policy {p:?} is disallowed by this role"
        )));
    }
    Ok(finals)
}

/// Vault's refusals for fields a batch token cannot have.
fn refuse_batch_fields(fields: &FieldData<'_>) -> Result<()> {
    let nonzero = |name: &str| -> Result<bool> {
        Ok(fields.get_duration(name)?.is_some_and(|d| !d.is_zero()))
    };
    let bad = if nonzero("explicit_max_ttl")? {
        Some("explicit_max_ttl")
    } else if fields.get_int("num_uses")?.unwrap_or(0) != 0 {
        Some("num_uses")
    } else if nonzero("period")? {
        Some("period")
    } else {
        None
    };
    match bad {
        Some(name) => Err(invalid(format!("batch tokens cannot have {name:?} set"))),
        None => Ok(()),
    }
}

/// The new token's CIDR binding. As in Vault, a role's `token_bound_cidrs`
/// win, and a child created without a role inherits its parent's binding.
/// Coffer also accepts `bound_cidrs` on create: with no inherited binding it
/// is used as given; otherwise it may only narrow the inherited one.
fn bound_cidrs(
    fields: &FieldData<'_>,
    role: Option<&TokenRole>,
    orphan: bool,
    caller: &TokenEntry,
) -> Result<Vec<String>> {
    let requested = canonical_cidrs(&fields.get_string_list("bound_cidrs")?.unwrap_or_default())?;
    let (base, source) = match role {
        Some(role) => (role.token_bound_cidrs.clone(), "the role"),
        None if !orphan => (caller.bound_cidrs.clone(), "the parent token"),
        None => (Vec::new(), ""),
    };
    if requested.is_empty() {
        return Ok(base);
    }
    if base.is_empty() || within(&requested, &base) {
        return Ok(requested);
    }
    Err(invalid(format!(
        "bound_cidrs must be within {source}'s bound CIDRs"
    )))
}

/// Vault's `handleCreateCommon`.
async fn handle(b: &TokenBackend, call: &Call<'_>, kind: Kind<'_>) -> Result<Option<Response>> {
    let (req, fields) = (call.req, &call.fields);
    let Some(caller) = b.caller(req).await? else {
        return Err(invalid("parent token lookup failed: no parent found"));
    };
    if caller.is_batch() {
        return Err(invalid("batch tokens cannot create more tokens"));
    }
    if caller.num_uses > 0 {
        return Err(invalid("restricted use token cannot generate child tokens"));
    }
    let role = match kind {
        Kind::Role(name) => {
            let found = if valid_role_name(name) {
                b.store.role(name).await?
            } else {
                None
            };
            match found {
                Some(role) => Some(role),
                None => return Err(invalid(format!("unknown role {name}"))),
            }
        }
        _ => None,
    };
    let is_sudo = b.is_sudo(&caller, req).await;
    let mut warnings = Vec::new();

    let mut renewable = fields.get_bool("renewable")?.unwrap_or(true);
    let mut token_type = fields.get_string("type")?.unwrap_or_default();
    if let Some(role) = &role {
        match role.token_type.as_str() {
            "default" | "default-service" => {}
            "default-batch" if token_type.is_empty() => token_type = "batch".to_owned(),
            "default-batch" => {}
            "service" | "batch" => token_type = role.token_type.clone(),
            other => {
                return Err(invalid(format!(
                    "role being used for token creation contains invalid token type {other:?}"
                )));
            }
        }
    }
    let token_type = match token_type.as_str() {
        "" | "service" => TokenType::Service,
        "batch" => {
            refuse_batch_fields(fields)?;
            renewable = false;
            TokenType::Batch
        }
        _ => return Err(invalid("invalid 'token_type' value")),
    };
    let batch = token_type == TokenType::Batch;

    let num_uses = match fields.get_int("num_uses")?.unwrap_or(0) {
        n if n < 0 => return Err(invalid("number of uses cannot be negative")),
        n => n.unsigned_abs(),
    };

    if let Some(alias) = fields.get_string("entity_alias")?.filter(|a| !a.is_empty()) {
        let Some(role) = &role else {
            return Err(invalid(
                "'entity_alias' is only allowed in combination with token role",
            ));
        };
        let alias = alias.to_lowercase();
        if !role.allowed_entity_aliases.contains(&alias)
            && !matches_any_glob(&role.allowed_entity_aliases, &alias)
        {
            return Err(invalid("invalid 'entity_alias' value"));
        }
        return Err(invalid(
            "'entity_alias' is not supported by this server: it has no identity store",
        ));
    }

    let mut path = format!("auth/token/{}", req.relative_path.trim_end_matches('/'));
    let mut num_uses = num_uses;
    if let Some(role) = &role {
        renewable = renewable && role.renewable;
        // Batch tokens carry no use count: Vault drops the role's.
        if !batch && role.token_num_uses != 0 && (num_uses == 0 || role.token_num_uses < num_uses) {
            num_uses = role.token_num_uses;
        }
        if !role.path_suffix.is_empty() {
            path = format!("{path}/{}", role.path_suffix);
        }
    }

    let explicit_id = match fields.get_string("id")?.filter(|id| !id.is_empty()) {
        Some(_) if !is_sudo => {
            return Err(invalid(
                "root or sudo privileges required to specify token id",
            ));
        }
        // Vault ignores a custom id for batch tokens.
        Some(_) if batch => None,
        Some(id) => Some(Sensitive::new(id)),
        None => None,
    };

    // Policies, as Vault computes them.
    let requested = fields.get_string_list("policies")?.unwrap_or_default();
    let no_default = fields.get_bool("no_default_policy")?.unwrap_or(false);
    let role_restricts = role.as_ref().is_some_and(|r| {
        !r.allowed_policies.is_empty()
            || !r.disallowed_policies.is_empty()
            || !r.allowed_policies_glob.is_empty()
            || !r.disallowed_policies_glob.is_empty()
    });
    let mut add_default = false;
    let base = match &role {
        Some(role) if role_restricts => {
            role_policies(role, &requested, &caller.policies, no_default)?
        }
        _ if requested.is_empty() => sanitize_policies(&caller.policies, false),
        _ if !is_sudo => {
            let input = sanitize_policies(&requested, false);
            let parent = sanitize_policies(&caller.policies, false);
            if !is_subset(&parent, &input) {
                return Err(invalid("child policies must be subset of parent"));
            }
            add_default = !no_default && caller.policies.iter().any(|p| p == "default");
            requested
        }
        _ => {
            add_default = !no_default;
            requested
        }
    };
    let mut policies = sanitize_policies(&base, add_default);
    if no_default {
        policies.retain(|p| p != "default");
    }
    if let Some(p) = policies
        .iter()
        .find(|p| NON_ASSIGNABLE_POLICIES.contains(&p.as_str()))
    {
        return Err(invalid(format!("cannot assign policy {p:?}")));
    }
    if policies.iter().any(|p| p == "root") {
        if !caller.policies.iter().any(|p| p == "root") {
            return Err(invalid(
                "root tokens may not be created without parent token being root",
            ));
        }
        if batch {
            return Err(invalid("batch tokens cannot be root tokens"));
        }
    }

    // Parent.
    let no_parent = fields.get_bool("no_parent")?.unwrap_or(false);
    let orphan = match (&role, &kind) {
        (Some(role), _) => role.orphan,
        (None, _) if no_parent => {
            if !is_sudo {
                return Err(invalid(
                    "root or sudo privileges required to create orphan token",
                ));
            }
            true
        }
        (None, Kind::Orphan) => true,
        (None, _) => false,
    };
    let parent = (!orphan).then(|| caller.id_hash.clone());
    let entity_id = if orphan {
        String::new()
    } else {
        caller.entity_id.clone()
    };
    let bound_cidrs = bound_cidrs(fields, role.as_ref(), orphan, &caller)?;

    // Lifetimes.
    let mut explicit_max_ttl = fields
        .get_duration("explicit_max_ttl")?
        .unwrap_or(Duration::ZERO);
    let mut period = fields.get_duration("period")?.unwrap_or(Duration::ZERO);
    if !period.is_zero() && !is_sudo {
        return Err(invalid(
            "root or sudo privileges required to create periodic token",
        ));
    }
    let ttl = match fields.get_duration("ttl")? {
        Some(ttl) if !ttl.is_zero() => ttl,
        _ => fields.get_duration("lease")?.unwrap_or(Duration::ZERO),
    };
    if let Some(role) = role.as_ref().filter(|_| !batch) {
        if !role.token_explicit_max_ttl.is_zero() {
            if explicit_max_ttl.is_zero() {
                explicit_max_ttl = role.token_explicit_max_ttl;
            } else {
                explicit_max_ttl = explicit_max_ttl.min(role.token_explicit_max_ttl);
                warnings.push(format!(
                    "Explicit max TTL specified both during creation call and in role; using the lesser value of {} seconds",
                    explicit_max_ttl.as_secs()
                ));
            }
        }
        if !role.token_period.is_zero() {
            if period.is_zero() {
                period = role.token_period;
            } else {
                period = period.min(role.token_period);
                warnings.push(format!(
                    "Period specified both during creation call and in role; using the lesser value of {} seconds",
                    period.as_secs()
                ));
            }
        }
    }

    let params = CreateParams {
        policies,
        meta: parse_meta(fields)?,
        display_name: display_name(&fields.get_string("display_name")?.unwrap_or_default()),
        num_uses,
        ttl,
        explicit_max_ttl,
        period,
        renewable,
        path,
        entity_id,
        role: role.map(|r| r.name).unwrap_or_default(),
        parent,
        explicit_id,
        max_ttl: Duration::ZERO,
        bound_cidrs,
        token_type,
        login_grant: None,
    };
    let (token, entry, ttl_warnings) = b.store.create_with_warnings(params).await?;
    warnings.extend(ttl_warnings);
    Ok(Some(Response {
        auth: Some(auth_block(&entry, token.expose())),
        warnings,
        ..Response::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use serde_json::json;

    #[test]
    fn display_names_are_sanitized() {
        assert_eq!(display_name(""), "token");
        assert_eq!(display_name("web app"), "token-web-app");
        assert_eq!(display_name("x!"), "token-x");
    }

    #[tokio::test]
    async fn create_returns_vaults_auth_block() {
        let h = Harness::new().await;
        let resp = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"policies": ["web", "stage", "web"], "meta": {"user": "armon"}, "ttl": "1h", "display_name": "ci"}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert!(auth.client_token.starts_with("hvs.") && auth.client_token.len() == 28);
        assert_eq!(auth.accessor.len(), 24);
        assert_eq!(auth.policies, ["default", "stage", "web"]);
        assert_eq!(auth.token_policies, auth.policies);
        assert_eq!(auth.metadata.unwrap()["user"], "armon");
        assert_eq!(auth.lease_duration, 3600);
        assert!(auth.renewable && !auth.orphan);
        assert_eq!(auth.token_type, "service");
        let entry = h
            .backend
            .store
            .lookup(&auth.client_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.display_name, "token-ci");
        assert_eq!(entry.path, "auth/token/create");
    }

    #[tokio::test]
    async fn child_policies_must_be_a_subset_of_the_parent() {
        let h = Harness::new().await;
        let parent = h.create(&h.root, json!({"policies": ["web", "db"]})).await;
        let ok = h
            .call(
                Operation::Update,
                "create",
                &parent,
                json!({"policies": ["web"]}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ok.auth.unwrap().policies, ["default", "web"]);
        let err = h
            .call(
                Operation::Update,
                "create",
                &parent,
                json!({"policies": ["admin"]}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.messages(), ["child policies must be subset of parent"]);
        // No policies: inherit the parent's.
        let inherit = h
            .call(Operation::Update, "create", &parent, json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(inherit.auth.unwrap().policies, ["db", "default", "web"]);
        // no_default_policy strips default.
        let nd = h
            .call(
                Operation::Update,
                "create",
                &parent,
                json!({"policies": "web", "no_default_policy": true}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(nd.auth.unwrap().policies, ["web"]);
    }

    #[tokio::test]
    async fn root_only_privileges_are_enforced() {
        let h = Harness::new().await;
        let user = h.create(&h.root, json!({"policies": ["web"]})).await;
        for (body, msg) in [
            (
                json!({"policies": ["root"]}),
                "child policies must be subset of parent",
            ),
            (
                json!({"no_parent": true}),
                "root or sudo privileges required to create orphan token",
            ),
            (
                json!({"id": "custom"}),
                "root or sudo privileges required to specify token id",
            ),
            (
                json!({"period": "1h"}),
                "root or sudo privileges required to create periodic token",
            ),
            (json!({"num_uses": -1}), "number of uses cannot be negative"),
            (json!({"type": "weird"}), "invalid 'token_type' value"),
        ] {
            let err = h
                .call(Operation::Update, "create", &user, body.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert_eq!(err.messages(), [msg], "{body}");
        }
        // Root may do all of it; a root child of root never expires.
        let resp = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"policies": ["root"], "id": "myroot", "no_parent": true}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert_eq!(auth.client_token, "myroot");
        assert_eq!(auth.policies, ["root"]);
        assert_eq!(auth.lease_duration, 0);
        assert!(auth.orphan && !auth.renewable);
        // Ids with a dot are refused.
        let err = h
            .call(Operation::Update, "create", &h.root, json!({"id": "a.b"}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn limited_use_and_unknown_callers_cannot_create() {
        let h = Harness::new().await;
        let limited = h.create(&h.root, json!({"num_uses": 3})).await;
        let err = h
            .call(Operation::Update, "create", &limited, json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["restricted use token cannot generate child tokens"]
        );
        let err = h
            .call(
                Operation::Update,
                "create",
                &Sensitive::new("hvs.nope"),
                json!({}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["parent token lookup failed: no parent found"]
        );
    }

    #[tokio::test]
    async fn create_orphan_needs_no_sudo_and_makes_orphans() {
        let h = Harness::new().await;
        let user = h.create(&h.root, json!({"policies": ["web"]})).await;
        let resp = h
            .call(Operation::Update, "create-orphan", &user, json!({}))
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert!(auth.orphan);
        let entry = h
            .backend
            .store
            .lookup(&auth.client_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.path, "auth/token/create-orphan");
        assert!(entry.parent.is_none());
    }

    #[tokio::test]
    async fn ttl_is_capped_with_a_warning() {
        let h = Harness::new().await;
        let resp = h
            .call(Operation::Update, "create", &h.root, json!({"ttl": "100h"}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.auth.unwrap().lease_duration, 10 * 3600);
        assert_eq!(
            resp.warnings,
            [
                "TTL of \"100h\" exceeded the effective max_ttl of \"10h\"; TTL value is capped accordingly"
            ]
        );
        let dflt = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"policies": ["a"]}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dflt.auth.unwrap().lease_duration, 3600);
    }

    #[tokio::test]
    async fn batch_tokens_through_the_api() {
        let h = Harness::new().await;
        let parent = h.create(&h.root, json!({"policies": ["web"]})).await;
        let resp = h
            .call(
                Operation::Update,
                "create",
                &parent,
                json!({"type": "batch", "ttl": "20m", "meta": {"k": "v"}}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert!(auth.client_token.starts_with("hvb."));
        assert_eq!(auth.accessor, "", "batch tokens have no accessor");
        assert_eq!(auth.token_type, "batch");
        assert_eq!(auth.policies, ["default", "web"]);
        assert_eq!(auth.lease_duration, 1200);
        assert!(!auth.renewable && !auth.orphan);
        let batch = Sensitive::new(auth.client_token.clone());

        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &batch, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["type"], "batch");
        assert_eq!(d["id"], batch.expose());
        assert_eq!(d["accessor"], "");
        assert_eq!(d["renewable"], false);
        assert_eq!(d["orphan"], false);
        assert_eq!(d["ttl"], 1200);
        assert_eq!(d["meta"], json!({"k": "v"}));

        for (path, body, msg) in [
            (
                "create",
                json!({}),
                "batch tokens cannot create more tokens",
            ),
            ("renew-self", json!({}), "batch tokens cannot be renewed"),
            ("revoke-self", json!({}), "batch tokens cannot be revoked"),
        ] {
            let err = h
                .call(Operation::Update, path, &batch, body)
                .await
                .unwrap_err();
            assert_eq!(
                (err.status(), err.messages()),
                (400, &[msg.to_owned()][..]),
                "{path}"
            );
        }
        for path in ["revoke", "renew", "revoke-orphan"] {
            let err = h
                .call(
                    Operation::Update,
                    path,
                    &h.root,
                    json!({"token": batch.expose()}),
                )
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{path}");
        }

        // Revoking the parent takes the batch token with it.
        h.call(
            Operation::Update,
            "revoke",
            &h.root,
            json!({"token": parent.expose()}),
        )
        .await
        .unwrap();
        let err = h
            .call(Operation::Read, "lookup-self", &batch, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 403);
    }

    #[tokio::test]
    async fn batch_creation_refusals_match_vault() {
        let h = Harness::new().await;
        for (body, msg) in [
            (
                json!({"type": "batch", "num_uses": 2}),
                "batch tokens cannot have \"num_uses\" set",
            ),
            (
                json!({"type": "batch", "period": "1h"}),
                "batch tokens cannot have \"period\" set",
            ),
            (
                json!({"type": "batch", "explicit_max_ttl": "1h"}),
                "batch tokens cannot have \"explicit_max_ttl\" set",
            ),
            (
                json!({"type": "batch", "policies": ["root"]}),
                "batch tokens cannot be root tokens",
            ),
        ] {
            let err = h
                .call(Operation::Update, "create", &h.root, body.clone())
                .await
                .unwrap_err();
            assert_eq!(
                (err.status(), err.messages()),
                (400, &[msg.to_owned()][..]),
                "{body}"
            );
        }
        // Zero values are fine, and a custom id is ignored as in Vault.
        let resp = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"type": "batch", "policies": ["web"], "num_uses": 0, "period": "0", "id": "ignored", "renewable": true}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert!(auth.client_token.starts_with("hvb.") && !auth.renewable);
        assert_eq!(auth.lease_duration, 3600, "the default TTL");
    }

    #[tokio::test]
    async fn bound_cidrs_are_set_inherited_and_only_narrowed() {
        let h = Harness::new().await;
        let resp = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"policies": ["web"], "bound_cidrs": "10.0.0.0/8, 192.168.1.5/32"}),
            )
            .await
            .unwrap()
            .unwrap();
        let bound = Sensitive::new(resp.auth.unwrap().client_token);
        let d = Harness::data(
            h.call(Operation::Read, "lookup-self", &bound, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["bound_cidrs"], json!(["10.0.0.0/8", "192.168.1.5"]));

        // A child without a role inherits the binding (Vault).
        let child = h.create(&bound, json!({})).await;
        let entry = h
            .backend
            .store
            .lookup(child.expose())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.bound_cidrs, ["10.0.0.0/8", "192.168.1.5"]);
        // It may narrow it, never widen it.
        let narrow = h
            .create(&bound, json!({"bound_cidrs": ["10.1.0.0/16"]}))
            .await;
        let entry = h
            .backend
            .store
            .lookup(narrow.expose())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.bound_cidrs, ["10.1.0.0/16"]);
        let err = h
            .call(
                Operation::Update,
                "create",
                &bound,
                json!({"bound_cidrs": ["0.0.0.0/0"]}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (
                400,
                &["bound_cidrs must be within the parent token's bound CIDRs".to_owned()][..]
            )
        );
        let err = h
            .call(
                Operation::Update,
                "create",
                &h.root,
                json!({"bound_cidrs": ["nope"]}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        // Unbound parents give unbound children.
        let free = h.create(&h.root, json!({})).await;
        let entry = h
            .backend
            .store
            .lookup(free.expose())
            .await
            .unwrap()
            .unwrap();
        assert!(entry.bound_cidrs.is_empty());
    }
}
