//! `role` (LIST) and `role/:role_name` (create, update, read, delete).

use coffer_crypto::random_uuid;
use coffer_sdk::token_fields::TokenFields;
use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value};

use crate::env::{self, Env, non_negative, secs};
use crate::error::AppRoleError;
use crate::role::{MAX_NAME_LEN, Role};
use crate::{AppRole, cidrs};

/// The `role_name` capture, declared on every `role/:role_name/...` path.
pub(crate) const ROLE_NAME: FieldDef = FieldDef::new(
    "role_name",
    FieldType::String,
    "Name of the role. Must be less than 4096 bytes.",
);

const FIELDS: &[FieldDef] = &[
    ROLE_NAME,
    FieldDef::new(
        "bind_secret_id",
        FieldType::Bool,
        "Impose secret_id to be presented when logging in using this role. Defaults to 'true'.",
    )
    .default(FieldDefault::Bool(true)),
    FieldDef::new(
        "bound_cidr_list",
        FieldType::StringList,
        "Use \"secret_id_bound_cidrs\" instead.",
    ),
    FieldDef::new(
        "secret_id_bound_cidrs",
        FieldType::StringList,
        "Comma separated string or list of CIDR blocks. If set, specifies the blocks of\nIP addresses which can perform the login operation.",
    ),
    FieldDef::new(
        "secret_id_num_uses",
        FieldType::Int,
        "Number of times a SecretID can access the role, after which the SecretID\nwill expire. Defaults to 0 meaning that the the secret_id is of unlimited use.",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "secret_id_ttl",
        FieldType::Duration,
        "Duration in seconds after which the issued SecretID should expire. Defaults\nto 0, meaning no expiration.",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "role_id",
        FieldType::String,
        "Identifier of the role. Defaults to a UUID.",
    )
    .sensitive(),
    FieldDef::new(
        "local_secret_ids",
        FieldType::Bool,
        "If set, the secret IDs generated using this role will be cluster local. This\ncan only be set during role creation and once set, it can't be reset later.",
    )
    .default(FieldDefault::Bool(false)),
    TokenFields::TOKEN_BOUND_CIDRS,
    TokenFields::TOKEN_EXPLICIT_MAX_TTL,
    TokenFields::TOKEN_MAX_TTL,
    TokenFields::TOKEN_NO_DEFAULT_POLICY,
    TokenFields::TOKEN_PERIOD,
    TokenFields::TOKEN_POLICIES,
    TokenFields::TOKEN_TYPE,
    TokenFields::TOKEN_TTL,
    TokenFields::TOKEN_NUM_USES,
    TokenFields::LEGACY_POLICIES,
    TokenFields::LEGACY_PERIOD,
];

/// `role/`: list the roles.
pub(crate) fn list_definition() -> PathDef {
    PathDef {
        pattern: "role",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Lists all the roles registered with the backend.",
        description: "The list will contain the names of the roles.",
    }
}

/// `role/:role_name`: the role itself.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "role/:role_name",
        fields: FIELDS,
        operations: &[
            Operation::Create,
            Operation::Update,
            Operation::Read,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: "Register an role with the backend.",
        description: "A role can represent a service, a machine or anything that can be IDed.
The set of policies on the role defines access to the role, meaning, any
Vault token with a policy set that is a superset of the policies on the
role registered here will have access to the role. If a SecretID is desired
to be generated against only this specific role, it can be done via
'role/<role_name>/secret-id' and 'role/<role_name>/custom-secret-id' endpoints.
The properties of the SecretID created against the role and the properties
of the token issued with the SecretID generated against the role, can be
configured using the fields of this endpoint.",
    }
}

/// LIST `role/`.
pub(crate) async fn list(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    Response::list(env.store.role_names().await?)
}

/// READ `role/:role_name`.
pub(crate) async fn read(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    Ok(env::data(env.role_for_read().await?.to_response()))
}

/// DELETE `role/:role_name` (no error when absent).
pub(crate) async fn delete(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    let name = env.role_name()?;
    let _guard = env.lock.write().await;
    if let Some(role) = env.store.role(&name).await? {
        env.store.delete_role(&role).await?;
    }
    Ok(None)
}

/// Vault's backwards-compatible `token_type` values, rewritten with a warning.
fn legacy_token_type(data: &mut Map<String, Value>) -> Option<&'static str> {
    let (new, warning) = match data.get("token_type").and_then(Value::as_str) {
        Some("default-service") => (
            "service",
            "default-service has no useful meaning; adjusting to service",
        ),
        Some("default-batch") => (
            "batch",
            "default-batch has no useful meaning; adjusting to batch",
        ),
        _ => return None,
    };
    data.insert("token_type".into(), Value::String(new.into()));
    Some(warning)
}

/// Creates or updates `role/:role_name`.
pub(crate) async fn write(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    let raw_name = env.capture("role_name");
    if raw_name.len() > MAX_NAME_LEN {
        return Err(AppRoleError::RoleNameTooLong.into());
    }
    let name = env.role_name()?;
    let mut body = env.req.data.clone();
    let mut warnings: Vec<String> = legacy_token_type(&mut body)
        .map(str::to_owned)
        .into_iter()
        .collect();
    let fd = &env.fields;
    let _guard = env.lock.write().await;
    let existing = env.store.role(&name).await?;
    // The existence check makes a write to a missing role a create; a plain
    // update of a missing role is treated the same way.
    let creating = existing.is_none();
    let previous_role_id = existing.as_ref().map(|r| r.role_id.clone());
    let mut role = match existing {
        Some(role) => role,
        None => Role::new(&name, String::new()),
    };

    // Vault's legacy `token_type` values are rewritten before the token
    // fields are parsed.
    env::parse_token_fields(&mut role.token, &body, FIELDS)?;

    if let Some(local) = fd.get_bool("local_secret_ids")? {
        if !creating {
            return Err(AppRoleError::LocalSecretIdsImmutable.into());
        }
        role.local_secret_ids = local;
    }

    if fd.is_set("role_id") {
        role.role_id = fd.get_string("role_id")?.unwrap_or_default();
    } else if creating {
        role.role_id = random_uuid().map_err(|_| AppRoleError::Random("role_id"))?;
    }
    if role.role_id.is_empty() {
        return Err(coffer_types::Error::invalid(
            "invalid role_id supplied, or failed to generate a role_id",
        ));
    }
    if role.role_id.len() > MAX_NAME_LEN {
        return Err(AppRoleError::ValueTooLong.into());
    }

    if let Some(bind) = fd.get_bool("bind_secret_id")? {
        role.bind_secret_id = bind;
    }

    let bound = if fd.is_set("secret_id_bound_cidrs") {
        fd.get_string_list("secret_id_bound_cidrs")?
    } else {
        fd.get_string_list("bound_cidr_list")?
    };
    if let Some(list) = bound {
        let list = cidrs::clean(list);
        if cidrs::parse_strict(&list).is_none() {
            return Err(AppRoleError::InvalidRoleCidrs.into());
        }
        role.secret_id_bound_cidrs = list;
    }

    if let Some(n) = non_negative(fd, "secret_id_num_uses")? {
        role.secret_id_num_uses = n;
    }
    if let Some(ttl) = secs(fd, "secret_id_ttl")? {
        role.secret_id_ttl = ttl;
    }

    let max_lease_ttl = env.ctx.config.max_lease_ttl;
    Role::check_period(role.token.legacy.period, max_lease_ttl)?;
    if !max_lease_ttl.is_zero() && role.token.max_ttl > max_lease_ttl {
        warnings.push(
            "token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated"
                .to_owned(),
        );
    }

    env.store
        .put_role(&role, previous_role_id.as_deref())
        .await?;
    if warnings.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Response {
            warnings,
            ..Response::default()
        }))
    }
}

/// The existence check: whether the role exists.
pub(crate) async fn exists(b: &AppRole, call: &Call<'_>) -> Result<bool> {
    Ok(Env::open(b, call).await?.role().await?.is_some())
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn create_read_update_delete() {
        let h = Harness::new();
        let resp = h
            .call(
                Operation::Create,
                "role/Web",
                json!({
                    "token_ttl": "10m", "token_max_ttl": "15m", "token_policies": ["default", "app"],
                    "secret_id_ttl": 600, "secret_id_num_uses": 40, "token_type": "service"
                }),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let data = body(&h.read("role/web").await);
        assert_eq!(
            data,
            json!({
                "bind_secret_id": true, "secret_id_bound_cidrs": [], "secret_id_num_uses": 40,
                "secret_id_ttl": 600, "local_secret_ids": false, "token_bound_cidrs": [],
                "token_explicit_max_ttl": 0, "token_max_ttl": 900, "token_no_default_policy": false,
                "token_period": 0, "token_policies": ["default", "app"], "token_type": "service",
                "token_ttl": 600, "token_num_uses": 0
            })
        );

        // An update changes only what it names.
        h.call(
            Operation::Update,
            "role/web",
            json!({"secret_id_num_uses": 5}),
        )
        .await
        .unwrap();
        let data = body(&h.read("role/web").await);
        assert_eq!(data["secret_id_num_uses"], json!(5));
        assert_eq!(data["token_ttl"], json!(600));

        let list = h
            .call(Operation::List, "role/", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&list), json!({"keys": ["web"]}));

        assert!(
            h.call(Operation::Delete, "role/web", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let err = h
            .call(Operation::Read, "role/web", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert!(err.messages().is_empty(), "a bare 404, as Vault");
        let err = h
            .call(Operation::List, "role", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
    }

    #[tokio::test]
    async fn legacy_fields_and_warnings() {
        let h = Harness::new();
        let resp = h
            .call(
                Operation::Create,
                "role/old",
                json!({"policies": "a,b", "period": 60, "bound_cidr_list": "10.0.0.0/8", "token_type": "default-service"}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["default-service has no useful meaning; adjusting to service"]
        );
        let data = body(&h.read("role/old").await);
        assert_eq!(data["policies"], json!(["a", "b"]));
        assert_eq!(data["token_policies"], json!(["a", "b"]));
        assert_eq!(data["period"], json!(60));
        assert_eq!(data["token_period"], json!(60));
        assert_eq!(data["secret_id_bound_cidrs"], json!(["10.0.0.0/8"]));
        assert_eq!(data["token_type"], json!("service"));

        let resp = h
            .call(
                Operation::Update,
                "role/old",
                json!({"token_max_ttl": "9999h"}),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(resp.warnings[0].starts_with("token_max_ttl is greater"));
    }

    #[tokio::test]
    async fn vault_validation_errors() {
        let h = Harness::new();
        let cases = [
            (
                json!({"bind_secret_id": false}),
                "at least one constraint should be enabled on the role",
            ),
            (
                json!({"secret_id_num_uses": -1}),
                "secret_id_num_uses cannot be negative",
            ),
            (
                json!({"secret_id_bound_cidrs": "10.0.0.1"}),
                "invalid CIDR blocks",
            ),
            (
                json!({"role_id": ""}),
                "invalid role_id supplied, or failed to generate a role_id",
            ),
            (
                json!({"period": "9999h"}),
                "period of \"9999h0m0s\" is greater than the backend's maximum lease TTL of \"768h0m0s\"",
            ),
            (
                json!({"token_type": "nope"}),
                "invalid 'token_type' value \"nope\"",
            ),
        ];
        for (bad, msg) in cases {
            let err = h
                .call(Operation::Create, "role/x", bad.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(err.messages(), [msg], "{bad}");
        }
        assert_eq!(
            h.call(Operation::Read, "role/x", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );

        h.call(Operation::Create, "role/x", json!({}))
            .await
            .unwrap();
        let err = h
            .call(
                Operation::Update,
                "role/x",
                json!({"local_secret_ids": true}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["local_secret_ids can only be modified during role creation"]
        );

        let long = format!("role/{}", "a".repeat(4097));
        let err = h
            .call(Operation::Create, &long, json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["role_name is longer than maximum of 4096 bytes"]
        );
        let err = h
            .call(Operation::Create, "role/bad name", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
    }

    #[tokio::test]
    async fn role_ids_are_unique_and_existence_is_checked() {
        let h = Harness::new();
        h.call(Operation::Create, "role/a", json!({"role_id": "shared"}))
            .await
            .unwrap();
        let err = h
            .call(Operation::Create, "role/b", json!({"role_id": "shared"}))
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["role_id already in use"]);
        assert!(h.exists("role/a").await);
        assert!(!h.exists("role/b").await);
        assert!(!h.exists("role/b/secret-id").await);
    }
}
