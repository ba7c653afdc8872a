//! `roles` (LIST) and `roles/:role_name` (read, create/update, delete).

use std::time::Duration;

use coffer_sdk::token_fields::TokenFields;
use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType, Path, PathDef, handler};
use coffer_types::{Error, ErrorKind, Operation, Response, Result};
use serde_json::{Map, Value, json};

use super::TokenBackend;
use crate::cidr::canonical_cidrs;
use crate::policies::{dedup_lowercase, sanitize_policies};
use crate::{TokenRole, valid_role_name};

const ROLE_FIELDS: &[FieldDef] = &[
    FieldDef::new("role_name", FieldType::String, "Name of the role"),
    FieldDef::new(
        "allowed_policies",
        FieldType::StringList,
        "If set, tokens can be created with any subset of the policies in this list, rather than the normal semantics of tokens being a subset of the calling token's policies.",
    ),
    FieldDef::new(
        "disallowed_policies",
        FieldType::StringList,
        "If set, successful token creation via this role will require that no policies in the given list are requested.",
    ),
    FieldDef::new(
        "allowed_policies_glob",
        FieldType::StringList,
        "Glob patterns of allowed policies.",
    ),
    FieldDef::new(
        "disallowed_policies_glob",
        FieldType::StringList,
        "Glob patterns of disallowed policies.",
    ),
    FieldDef::new(
        "orphan",
        FieldType::Bool,
        "If true, tokens created via this role will be orphan tokens (have no parent)",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new("period", FieldType::Duration, "Use 'token_period' instead."),
    FieldDef::new(
        "path_suffix",
        FieldType::String,
        "If set, tokens created via this role will contain the given suffix as a part of their path.",
    ),
    FieldDef::new(
        "explicit_max_ttl",
        FieldType::Duration,
        "Use 'token_explicit_max_ttl' instead.",
    ),
    FieldDef::new(
        "renewable",
        FieldType::Bool,
        "Tokens created via this role will be renewable or not according to this value. Defaults to \"true\".",
    )
    .default(FieldDefault::Bool(true)),
    FieldDef::new(
        "allowed_entity_aliases",
        FieldType::StringList,
        "String or JSON list of allowed entity aliases.",
    ),
    // Roles take `default-service` and `default-batch` besides Vault's
    // common token types.
    FieldDef::new(
        "token_type",
        FieldType::String,
        "The type of token to generate: service, batch, default-service or default-batch.",
    )
    .default(FieldDefault::Str("default-service")),
    TokenFields::TOKEN_EXPLICIT_MAX_TTL,
    TokenFields::TOKEN_PERIOD,
    TokenFields::TOKEN_NO_DEFAULT_POLICY,
    TokenFields::TOKEN_NUM_USES,
    TokenFields::TOKEN_BOUND_CIDRS,
    FieldDef::new(
        "bound_cidrs",
        FieldType::StringList,
        "Use 'token_bound_cidrs' instead.",
    ),
];

/// `roles` (LIST) and `roles/:role_name`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "roles",
            fields: &[],
            operations: &[Operation::List],
            existence_check: false,
            synopsis: "This endpoint lists configured roles.",
            description: "This endpoint lists configured roles.",
        })
        .list(handler!(list)),
        Path::new(PathDef {
            pattern: "roles/:role_name",
            fields: ROLE_FIELDS,
            operations: &[
                Operation::Read,
                Operation::Create,
                Operation::Update,
                Operation::Delete,
            ],
            existence_check: true,
            synopsis: "This endpoint allows creating, reading, and deleting roles.",
            description: "This endpoint allows creating, reading, and deleting roles.",
        })
        .read(handler!(read))
        .update(handler!(write))
        .delete(handler!(delete))
        .existence(handler!(exists)),
    ]
}

/// Every role name; an empty list is a 404.
async fn list(b: &TokenBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(b.store.list_roles().await?)
}

/// The role name the path names; a name Vault's pattern would not match
/// is Vault's 404 `unsupported path`.
fn role_name<'a>(call: &'a Call<'_>) -> Result<&'a str> {
    let name = call.capture("role_name");
    if valid_role_name(name) {
        Ok(name)
    } else {
        Err(Error::new(ErrorKind::NotFound, "unsupported path"))
    }
}

/// Whether the role exists: a write to a new role is a `create`.
async fn exists(b: &TokenBackend, call: &Call<'_>) -> Result<bool> {
    let name = call.capture("role_name");
    if !valid_role_name(name) {
        return Ok(false);
    }
    Ok(b.store.role(name).await?.is_some())
}

/// Deletes the role (an unknown role answers 204).
async fn delete(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    b.store.delete_role(role_name(call)?).await?;
    Ok(None)
}

fn secs(d: Duration) -> Value {
    json!(d.as_secs())
}

/// The role as Vault shows it.
async fn read(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = role_name(call)?;
    let Some(role) = b.store.role(name).await? else {
        return Err(Error::not_found());
    };
    let mut data = Map::new();
    data.insert("period".into(), secs(role.period));
    data.insert("token_period".into(), secs(role.token_period));
    data.insert("explicit_max_ttl".into(), secs(role.explicit_max_ttl));
    data.insert(
        "token_explicit_max_ttl".into(),
        secs(role.token_explicit_max_ttl),
    );
    data.insert(
        "disallowed_policies".into(),
        json!(role.disallowed_policies),
    );
    data.insert("allowed_policies".into(), json!(role.allowed_policies));
    data.insert(
        "disallowed_policies_glob".into(),
        json!(role.disallowed_policies_glob),
    );
    data.insert(
        "allowed_policies_glob".into(),
        json!(role.allowed_policies_glob),
    );
    data.insert("name".into(), json!(role.name));
    data.insert("orphan".into(), json!(role.orphan));
    data.insert("path_suffix".into(), json!(role.path_suffix));
    data.insert("renewable".into(), json!(role.renewable));
    data.insert("token_type".into(), json!(role.token_type));
    data.insert(
        "allowed_entity_aliases".into(),
        json!(role.allowed_entity_aliases),
    );
    data.insert(
        "token_no_default_policy".into(),
        json!(role.token_no_default_policy),
    );
    if !role.token_bound_cidrs.is_empty() {
        data.insert("token_bound_cidrs".into(), json!(role.token_bound_cidrs));
    }
    if !role.bound_cidrs.is_empty() {
        data.insert("bound_cidrs".into(), json!(role.bound_cidrs));
    }
    if role.token_num_uses > 0 {
        data.insert("token_num_uses".into(), json!(role.token_num_uses));
    }
    Ok(Some(Response::with_data(data)))
}

/// Vault's `pathSuffixSanitize` (`\w[\w-.]+\w`, unanchored): some run of at
/// least three characters starts and ends with a word character.
fn path_suffix_ok(suffix: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let inner = |c: char| word(c) || c == '-' || c == '.';
    let chars: Vec<char> = suffix.chars().collect();
    chars.split(|c| !inner(*c)).any(|run| {
        let first = run.iter().position(|c| word(*c));
        let last = run.iter().rposition(|c| word(*c));
        matches!((first, last), (Some(f), Some(l)) if l >= f + 2)
    })
}

/// Creates the role or updates the fields the body sets.
async fn write(b: &TokenBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let (name, fields) = (role_name(call)?, &call.fields);
    let mut role = b.store.role(name).await?.unwrap_or_else(|| TokenRole {
        name: name.to_owned(),
        ..TokenRole::default()
    });
    let mut warnings = Vec::new();

    if let Some(orphan) = fields.get_bool("orphan")? {
        role.orphan = orphan;
    }
    if let Some(renewable) = fields.get_bool("renewable")? {
        role.renewable = renewable;
    }
    if let Some(suffix) = fields.get_string("path_suffix")? {
        if !suffix.is_empty() && !path_suffix_ok(&suffix) {
            return Err(Error::invalid(
                "given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w",
            ));
        }
        role.path_suffix = suffix;
    }
    if role.path_suffix.contains("..") {
        return Err(Error::invalid(
            "error registering path suffix: path cannot contain parent references",
        ));
    }
    if let Some(list) = fields.get_string_list("allowed_policies")? {
        role.allowed_policies = sanitize_policies(&list, false);
    }
    if let Some(list) = fields.get_string_list("disallowed_policies")? {
        role.disallowed_policies = dedup_lowercase(&list);
    }
    if let Some(list) = fields.get_string_list("allowed_policies_glob")? {
        role.allowed_policies_glob = sanitize_policies(&list, false);
    }
    if let Some(list) = fields.get_string_list("disallowed_policies_glob")? {
        role.disallowed_policies_glob = dedup_lowercase(&list);
    }
    if let Some(token_type) = fields.get_string("token_type")? {
        role.token_type = match token_type.as_str() {
            "service" | "batch" | "default-service" | "default-batch" => token_type,
            other => {
                return Err(Error::invalid(format!(
                    "invalid 'token_type' value {other:?}"
                )));
            }
        };
    }
    if let Some(no_default) = fields.get_bool("token_no_default_policy")? {
        role.token_no_default_policy = no_default;
    }

    match (
        fields.get_duration("token_period")?,
        fields.get_duration("period")?,
    ) {
        (Some(tp), legacy) => {
            if legacy.is_some() {
                warnings.push("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value".to_owned());
            }
            role.token_period = tp;
            role.period = Duration::ZERO;
        }
        (None, Some(p)) => {
            role.period = p;
            role.token_period = p;
        }
        (None, None) => {}
    }
    match (
        fields.get_string_list("token_bound_cidrs")?,
        fields.get_string_list("bound_cidrs")?,
    ) {
        (Some(blocks), legacy) => {
            if legacy.is_some() {
                warnings.push("Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value".to_owned());
            }
            role.token_bound_cidrs = canonical_cidrs(&blocks)
                .map_err(|e| Error::invalid(format!("error parsing role fields: {e}")))?;
            role.bound_cidrs = Vec::new();
        }
        (None, Some(blocks)) => {
            role.bound_cidrs = canonical_cidrs(&blocks)
                .map_err(|e| Error::invalid(format!("error parsing bound_cidrs: {e}")))?;
            role.token_bound_cidrs = role.bound_cidrs.clone();
        }
        (None, None) => {}
    }
    match (
        fields.get_duration("token_explicit_max_ttl")?,
        fields.get_duration("explicit_max_ttl")?,
    ) {
        (Some(t), legacy) => {
            if legacy.is_some() {
                warnings.push("Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated value".to_owned());
            }
            role.token_explicit_max_ttl = t;
            role.explicit_max_ttl = Duration::ZERO;
        }
        (None, Some(t)) => {
            role.explicit_max_ttl = t;
            role.token_explicit_max_ttl = t;
        }
        (None, None) => {}
    }
    let max = b.store.limits().max_ttl;
    if !role.token_explicit_max_ttl.is_zero() && role.token_explicit_max_ttl > max {
        warnings.push(format!(
            "Given explicit max TTL of {} is greater than system/mount allowed value of {} seconds; until this is fixed attempting to create tokens against this role will result in an error",
            role.token_explicit_max_ttl.as_secs(),
            max.as_secs()
        ));
    }
    if let Some(uses) = fields.get_int("token_num_uses")? {
        if uses < 0 {
            return Err(Error::invalid(
                "error parsing role fields: token_num_uses cannot be negative",
            ));
        }
        role.token_num_uses = uses.unsigned_abs();
    }
    if role.token_type == "batch" {
        let reason = if !role.orphan {
            Some("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens")
        } else if !role.period.is_zero() || !role.token_period.is_zero() {
            Some("'token_type' cannot be 'batch' when role is set to generate periodic tokens")
        } else if role.renewable {
            Some("'token_type' cannot be 'batch' when role is set to generate renewable tokens")
        } else if !role.explicit_max_ttl.is_zero() || !role.token_explicit_max_ttl.is_zero() {
            Some(
                "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL",
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::invalid(reason));
        }
    }
    if let Some(list) = fields.get_string_list("allowed_entity_aliases")? {
        role.allowed_entity_aliases = dedup_lowercase(&list);
    }
    b.store.put_role(&role).await?;
    if warnings.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Response {
            warnings,
            ..Response::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use serde_json::json;

    #[test]
    fn path_suffixes() {
        assert!(path_suffix_ok("v1.2"));
        assert!(path_suffix_ok("abc"));
        assert!(!path_suffix_ok("ab"));
        assert!(!path_suffix_ok("-.-"));
    }

    #[tokio::test]
    async fn role_crud_and_list() {
        let h = Harness::new().await;
        let err = h
            .call(Operation::List, "roles", &h.root, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        h.call(
            Operation::Update,
            "roles/nomad",
            &h.root,
            json!({"allowed_policies": "dev, ops", "orphan": true, "token_period": "1h"}),
        )
        .await
        .unwrap();
        let d = Harness::data(
            h.call(Operation::Read, "roles/nomad", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["name"], "nomad");
        assert_eq!(d["allowed_policies"], json!(["dev", "ops"]));
        assert_eq!(d["orphan"], true);
        assert_eq!(d["renewable"], true);
        assert_eq!(d["token_period"], 3600);
        assert_eq!(d["period"], 0);
        assert_eq!(d["token_type"], "default-service");
        // An update keeps fields it does not mention.
        h.call(
            Operation::Update,
            "roles/nomad",
            &h.root,
            json!({"renewable": false}),
        )
        .await
        .unwrap();
        let d = Harness::data(
            h.call(Operation::Read, "roles/nomad", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(
            (d["renewable"].clone(), d["orphan"].clone()),
            (json!(false), json!(true))
        );
        let keys = Harness::data(
            h.call(Operation::List, "roles/", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(keys["keys"], json!(["nomad"]));
        assert!(
            h.call(Operation::Delete, "roles/nomad", &h.root, json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.call(Operation::Read, "roles/nomad", &h.root, json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        let err = h
            .call(
                Operation::Update,
                "roles/x",
                &h.root,
                json!({"token_type": "nope"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn create_against_a_role() {
        let h = Harness::new().await;
        h.call(
            Operation::Update,
            "roles/app",
            &h.root,
            json!({"allowed_policies": ["app", "extra"], "disallowed_policies": ["bad"], "orphan": true, "path_suffix": "rev1", "token_explicit_max_ttl": "2h", "token_num_uses": 5}),
        )
        .await
        .unwrap();
        // A token with unrelated policies may use the role to get the role's policies.
        let other = h.create(&h.root, json!({"policies": ["unrelated"]})).await;
        let resp = h
            .call(
                Operation::Update,
                "create/app",
                &other,
                json!({"policies": ["app"], "ttl": "5h"}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert_eq!(auth.policies, ["app", "default"]);
        assert!(auth.orphan);
        assert_eq!(auth.num_uses, 5);
        assert_eq!(
            auth.lease_duration, 7200,
            "capped by the role's explicit max TTL"
        );
        let entry = h
            .backend
            .store
            .lookup(&auth.client_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.path, "auth/token/create/app/rev1");
        assert_eq!(entry.role, "app");
        let d = Harness::data(
            h.call(
                Operation::Update,
                "lookup",
                &h.root,
                json!({"token": auth.client_token}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(d["role"], "app");

        let err = h
            .call(
                Operation::Update,
                "create/app",
                &other,
                json!({"policies": ["admin"]}),
            )
            .await
            .unwrap_err();
        assert!(err.messages()[0].starts_with("token policies ([\"admin\" \"default\"]) must be subset of the role's allowed policies"), "{err}");
        let err = h
            .call(Operation::Update, "create/missing", &other, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["unknown role missing"]);
    }

    #[tokio::test]
    async fn roles_issue_batch_tokens_and_bind_cidrs() {
        let h = Harness::new().await;
        // Vault's batch-role rules still apply.
        let err = h
            .call(
                Operation::Update,
                "roles/b",
                &h.root,
                json!({"token_type": "batch"}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["'token_type' cannot be 'batch' when role is set to generate non-orphan tokens"]
        );
        h.call(
            Operation::Update,
            "roles/b",
            &h.root,
            json!({"token_type": "batch", "orphan": true, "renewable": false, "token_num_uses": 3, "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1"]}),
        )
        .await
        .unwrap();
        let d = Harness::data(
            h.call(Operation::Read, "roles/b", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["token_type"], "batch");
        assert_eq!(d["token_bound_cidrs"], json!(["10.0.0.0/8", "127.0.0.1"]));
        assert!(!d.contains_key("bound_cidrs"));
        let resp = h
            .call(
                Operation::Update,
                "create/b",
                &h.root,
                json!({"type": "service", "policies": ["web"]}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = resp.auth.unwrap();
        assert!(
            auth.client_token.starts_with("hvb."),
            "the role forces batch"
        );
        assert_eq!(
            auth.num_uses, 0,
            "the role's uses are dropped for batch tokens"
        );
        assert!(auth.orphan);
        let entry = h
            .backend
            .store
            .lookup(&auth.client_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.bound_cidrs, ["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(entry.role, "b");

        // default-batch: batch unless the caller asks for service.
        h.call(
            Operation::Update,
            "roles/db",
            &h.root,
            json!({"token_type": "default-batch", "bound_cidrs": "192.168.0.0/16"}),
        )
        .await
        .unwrap();
        let d = Harness::data(
            h.call(Operation::Read, "roles/db", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(
            d["bound_cidrs"],
            json!(["192.168.0.0/16"]),
            "legacy name read back"
        );
        assert_eq!(d["token_bound_cidrs"], json!(["192.168.0.0/16"]));
        let batch = h
            .call(
                Operation::Update,
                "create/db",
                &h.root,
                json!({"policies": ["web"]}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(batch.auth.unwrap().token_type, "batch");
        let service = h
            .call(
                Operation::Update,
                "create/db",
                &h.root,
                json!({"type": "service", "policies": ["web"]}),
            )
            .await
            .unwrap()
            .unwrap();
        let auth = service.auth.unwrap();
        assert_eq!(auth.token_type, "service");
        let entry = h
            .backend
            .store
            .lookup(&auth.client_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.bound_cidrs, ["192.168.0.0/16"], "the role's binding");

        // Both names: the new one wins, with Vault's warning.
        let resp = h
            .call(
                Operation::Update,
                "roles/db",
                &h.root,
                json!({"token_bound_cidrs": "10.0.0.0/8", "bound_cidrs": "11.0.0.0/8"}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.warnings.len(), 1);
        let d = Harness::data(
            h.call(Operation::Read, "roles/db", &h.root, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(d["token_bound_cidrs"], json!(["10.0.0.0/8"]));
        assert!(!d.contains_key("bound_cidrs"));
        let err = h
            .call(
                Operation::Update,
                "roles/db",
                &h.root,
                json!({"token_bound_cidrs": "x"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
