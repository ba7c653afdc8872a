//! The per-field endpoints of a role (`role/:role_name/policies`,
//! `.../secret-id-ttl`, ...), which let ACLs delegate single properties.
//! Read shows the field, update sets it, delete resets it to its default.

use std::time::Duration;

use coffer_sdk::token_fields::TokenFields;
use coffer_sdk::{Call, FieldData, FieldDef, FieldType, Path, PathDef, handler};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value};

use crate::env::{self, Env, non_negative, secs};
use crate::error::AppRoleError;
use crate::path_role::ROLE_NAME;
use crate::role::Role;
use crate::{AppRole, cidrs};

/// Which property a field endpoint manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoleField {
    Policies,
    SecretIdNumUses,
    SecretIdTtl,
    TokenTtl,
    TokenMaxTtl,
    TokenNumUses,
    BindSecretId,
    SecretIdBoundCidrs,
    TokenBoundCidrs,
    Period,
    LocalSecretIds,
}

const RW: &[Operation] = &[Operation::Read, Operation::Update, Operation::Delete];

const fn def(
    pattern: &'static str,
    fields: &'static [FieldDef],
    synopsis: &'static str,
    description: &'static str,
) -> PathDef {
    PathDef {
        pattern,
        fields,
        operations: RW,
        existence_check: false,
        synopsis,
        description,
    }
}

const SECRET_ID_BOUND_CIDRS: FieldDef = FieldDef::new(
    "secret_id_bound_cidrs",
    FieldType::StringList,
    "Comma separated string or list of CIDR blocks. If set, specifies the blocks of\nIP addresses which can perform the login operation.",
);

const SECRET_ID_NUM_USES: FieldDef = FieldDef::new(
    "secret_id_num_uses",
    FieldType::Int,
    "Number of times a SecretID can access the role, after which the SecretID will expire.",
);
const SECRET_ID_TTL: FieldDef = FieldDef::new(
    "secret_id_ttl",
    FieldType::Duration,
    "Duration in seconds after which the issued SecretID should expire. Defaults\nto 0, meaning no expiration.",
);
const BIND_SECRET_ID: FieldDef = FieldDef::new(
    "bind_secret_id",
    FieldType::Bool,
    "Impose secret_id to be presented when logging in using this role.",
);

impl RoleField {
    /// The field a request's path names: its last segment (the patterns
    /// differ only there).
    fn of(path: &str) -> Option<Self> {
        let last = path.trim_end_matches('/').rsplit('/').next()?;
        definitions()
            .into_iter()
            .find(|(def, _)| def.pattern.rsplit('/').next() == Some(last))
            .map(|(_, field)| field)
    }
}

/// Every field endpoint, bound to its handlers (`local-secret-ids` is
/// read-only).
pub(crate) fn paths() -> Vec<Path<AppRole>> {
    definitions()
        .into_iter()
        .map(|(def, _)| {
            let read_only = !def.operations.contains(&Operation::Update);
            let path = Path::new(def).read(handler!(read_field));
            if read_only {
                path
            } else {
                path.update(handler!(update_field))
                    .delete(handler!(delete_field))
            }
        })
        .collect()
}

/// Every field endpoint with the property it manages.
fn definitions() -> Vec<(PathDef, RoleField)> {
    vec![
        (
            def(
                "role/:role_name/policies",
                &[
                    ROLE_NAME,
                    TokenFields::TOKEN_POLICIES,
                    TokenFields::LEGACY_POLICIES,
                ],
                "Policies of the role.",
                "A comma-delimited set of Vault policies that defines access to the role.\nAll the Vault tokens with policies that encompass the policy set\ndefined on the role, can access the role.",
            ),
            RoleField::Policies,
        ),
        (
            def(
                "role/:role_name/secret-id-num-uses",
                &[ROLE_NAME, SECRET_ID_NUM_USES],
                "Use limit of the SecretID generated against the role.",
                "If a SecretID is generated/assigned against a role using the\n'role/<role_name>/secret-id' or 'role/<role_name>/custom-secret-id' endpoint,\nthen the number of times this SecretID can be used is defined by this option.\nHowever, this option may be overriden by the request's 'num_uses' field.",
            ),
            RoleField::SecretIdNumUses,
        ),
        (
            def(
                "role/:role_name/secret-id-ttl",
                &[ROLE_NAME, SECRET_ID_TTL],
                "Duration in seconds of the SecretID generated against the role.",
                "If a SecretID is generated/assigned against a role using the\n'role/<role_name>/secret-id' or 'role/<role_name>/custom-secret-id' endpoint,\nthen the lifetime of this SecretID is defined by this option.\nHowever, this option may be overridden by the request's 'ttl' field.",
            ),
            RoleField::SecretIdTtl,
        ),
        (
            def(
                "role/:role_name/token-ttl",
                &[ROLE_NAME, TokenFields::TOKEN_TTL],
                "Duration in seconds, the lifetime of the token issued by using the SecretID that\nis generated against this role, before which the token needs to be renewed.",
                "If SecretIDs are generated against the role, using 'role/<role_name>/secret-id' or the\n'role/<role_name>/custom-secret-id' endpoints, and if those SecretIDs are used\nto perform the login operation, then the value of 'token-ttl' defines the\nlifetime of the token issued, before which the token needs to be renewed.",
            ),
            RoleField::TokenTtl,
        ),
        (
            def(
                "role/:role_name/token-max-ttl",
                &[ROLE_NAME, TokenFields::TOKEN_MAX_TTL],
                "Duration in seconds, the maximum lifetime of the tokens issued by using\nthe SecretIDs that were generated against this role, after which the\ntokens are not allowed to be renewed.",
                "If SecretIDs are generated against the role using 'role/<role_name>/secret-id'\nor the 'role/<role_name>/custom-secret-id' endpoints, and if those SecretIDs\nare used to perform the login operation, then the value of 'token-max-ttl'\ndefines the maximum lifetime of the tokens issued, after which the tokens\ncannot be renewed. A reauthentication is required after this duration.\nThis value will be capped by the backend mount's maximum TTL value.",
            ),
            RoleField::TokenMaxTtl,
        ),
        (
            def(
                "role/:role_name/token-num-uses",
                &[ROLE_NAME, TokenFields::TOKEN_NUM_USES],
                "Number of times issued tokens can be used",
                "By default, this will be set to zero, indicating that the issued\ntokens can be used any number of times.",
            ),
            RoleField::TokenNumUses,
        ),
        (
            def(
                "role/:role_name/bind-secret-id",
                &[ROLE_NAME, BIND_SECRET_ID],
                "Impose secret_id to be presented during login using this role.",
                "By setting this to 'true', during login the field 'secret_id' becomes a mandatory argument.\nThe value of 'secret_id' can be retrieved using 'role/<role_name>/secret-id' endpoint.",
            ),
            RoleField::BindSecretId,
        ),
        (
            def(
                "role/:role_name/secret-id-bound-cidrs",
                &[ROLE_NAME, SECRET_ID_BOUND_CIDRS],
                "Comma separated list of CIDR blocks, if set, specifies blocks of IP\naddresses which can perform the login operation",
                "During login, the IP address of the client will be checked to see if it\nbelongs to the CIDR blocks specified. If CIDR blocks were set and if the\nIP is not encompassed by it, login fails",
            ),
            RoleField::SecretIdBoundCidrs,
        ),
        (
            def(
                "role/:role_name/token-bound-cidrs",
                &[ROLE_NAME, TokenFields::TOKEN_BOUND_CIDRS],
                "Comma separated string or list of CIDR blocks. If set, specifies the blocks of\nIP addresses which can use the returned token.",
                "During use of the returned token, the IP address of the client will be checked to see if it\nbelongs to the CIDR blocks specified. If CIDR blocks were set and if the\nIP is not encompassed by it, token use fails",
            ),
            RoleField::TokenBoundCidrs,
        ),
        (
            def(
                "role/:role_name/period",
                &[
                    ROLE_NAME,
                    TokenFields::TOKEN_PERIOD,
                    TokenFields::LEGACY_PERIOD,
                ],
                "Updates the value of 'period' on the role",
                "If set,  indicates that the token generated using this role\nshould never expire. The token should be renewed within the\nduration specified by this value. The renewal duration will\nbe fixed. If the Period in the role is modified, the token\nwill pick up the new value during its next renewal.",
            ),
            RoleField::Period,
        ),
        (
            PathDef {
                pattern: "role/:role_name/local-secret-ids",
                fields: &[ROLE_NAME],
                operations: &[Operation::Read],
                existence_check: false,
                synopsis: "Enables cluster local secret IDs",
                description: "If set, the secret IDs generated using this role will be cluster local.\nThis can only be set during role creation and once set, it can't be\nreset later.",
            },
            RoleField::LocalSecretIds,
        ),
    ]
}

/// The property the request's path names.
fn field_of(call: &Call<'_>) -> Result<RoleField> {
    RoleField::of(&call.req.relative_path)
        .ok_or_else(|| coffer_types::Error::internal("no role field for this path"))
}

/// READ: the property; a bare 404 when the role does not exist.
async fn read_field(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let field = field_of(call)?;
    let env = Env::open(b, call).await?;
    Ok(env::data(read(&env.role_for_read().await?, field)))
}

/// UPDATE: sets the property.
async fn update_field(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    write(
        &Env::open(b, call).await?,
        field_of(call)?,
        Operation::Update,
    )
    .await
}

/// DELETE: resets the property to its default.
async fn delete_field(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    write(
        &Env::open(b, call).await?,
        field_of(call)?,
        Operation::Delete,
    )
    .await
}

/// An update or a reset of `field` under the write lock.
async fn write(env: &Env<'_>, field: RoleField, op: Operation) -> Result<Option<Response>> {
    let fd = &env.fields;
    let name = env.role_name()?;
    let _guard = env.lock.write().await;
    let Some(mut role) = env.store.role(&name).await? else {
        // Vault: updates of a missing role are unsupported; deletes are no-ops.
        return match op {
            Operation::Delete => Ok(None),
            _ => Err(AppRoleError::UnsupportedPath.into()),
        };
    };
    if op == Operation::Delete {
        reset(&mut role, field);
    } else {
        update(
            &mut role,
            field,
            fd,
            &env.req.data,
            env.ctx.config.max_lease_ttl,
        )?;
    }
    env.store.put_role(&role, None).await?;
    Ok(None)
}

fn read(role: &Role, field: RoleField) -> Map<String, Value> {
    let t = &role.token;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    match field {
        RoleField::Policies => {
            put("token_policies", t.policies.clone().into());
            if !t.legacy.policies.is_empty() {
                put("policies", t.legacy.policies.clone().into());
            }
        }
        RoleField::SecretIdNumUses => put("secret_id_num_uses", role.secret_id_num_uses.into()),
        RoleField::SecretIdTtl => put("secret_id_ttl", role.secret_id_ttl.into()),
        RoleField::TokenTtl => put("token_ttl", t.ttl.as_secs().into()),
        RoleField::TokenMaxTtl => put("token_max_ttl", t.max_ttl.as_secs().into()),
        RoleField::TokenNumUses => put("token_num_uses", t.num_uses.into()),
        RoleField::BindSecretId => put("bind_secret_id", role.bind_secret_id.into()),
        RoleField::SecretIdBoundCidrs => put(
            "secret_id_bound_cidrs",
            role.secret_id_bound_cidrs.clone().into(),
        ),
        RoleField::TokenBoundCidrs => put("token_bound_cidrs", t.bound_cidrs.clone().into()),
        RoleField::Period => {
            put("token_period", t.period.as_secs().into());
            if !t.legacy.period.is_zero() {
                put("period", t.legacy.period.as_secs().into());
            }
        }
        RoleField::LocalSecretIds => put("local_secret_ids", role.local_secret_ids.into()),
    }
    m
}

fn reset(role: &mut Role, field: RoleField) {
    let t = &mut role.token;
    match field {
        RoleField::Policies => {
            t.policies.clear();
            t.legacy.policies.clear();
        }
        RoleField::SecretIdNumUses => role.secret_id_num_uses = 0,
        RoleField::SecretIdTtl => role.secret_id_ttl = 0,
        RoleField::TokenTtl => t.ttl = Duration::ZERO,
        RoleField::TokenMaxTtl => t.max_ttl = Duration::ZERO,
        RoleField::TokenNumUses => t.num_uses = 0,
        RoleField::BindSecretId => role.bind_secret_id = true,
        RoleField::SecretIdBoundCidrs => role.secret_id_bound_cidrs.clear(),
        RoleField::TokenBoundCidrs => t.bound_cidrs.clear(),
        RoleField::Period => {
            t.period = Duration::ZERO;
            t.legacy.period = Duration::ZERO;
        }
        RoleField::LocalSecretIds => {}
    }
}

/// Vault's `policyutil.ParsePolicies`: trimmed, lowercased, deduplicated
/// and sorted; `root` alone when present.
fn parse_policies(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    if out.iter().any(|p| p == "root") {
        return vec!["root".to_owned()];
    }
    out.sort();
    out.dedup();
    out
}

/// Sets `field` from `fd` (the call's fields; `body` is the raw body, for
/// the token fields).
fn update(
    role: &mut Role,
    field: RoleField,
    fd: &FieldData,
    body: &Map<String, Value>,
    max_lease_ttl: Duration,
) -> Result<()> {
    let missing =
        |name: &'static str| -> coffer_types::Error { AppRoleError::Missing(name).into() };
    match field {
        RoleField::Policies => {
            let legacy_given = fd.is_set("policies");
            let t = &mut role.token;
            if let Some(p) = fd.get_string_list("token_policies")? {
                t.policies = parse_policies(p);
                t.legacy.policies = if legacy_given {
                    t.policies.clone()
                } else {
                    Vec::new()
                };
            } else if let Some(p) = fd.get_string_list("policies")? {
                t.policies = parse_policies(p);
                t.legacy.policies = t.policies.clone();
            } else {
                return Err(missing("token_policies"));
            }
        }
        RoleField::SecretIdNumUses => {
            role.secret_id_num_uses = non_negative(fd, "secret_id_num_uses")?
                .ok_or_else(|| missing("secret_id_num_uses"))?;
        }
        RoleField::SecretIdTtl => {
            role.secret_id_ttl =
                secs(fd, "secret_id_ttl")?.ok_or_else(|| missing("secret_id_ttl"))?;
        }
        RoleField::TokenTtl => {
            let ttl = secs(fd, "token_ttl")?.ok_or_else(|| missing("token_ttl"))?;
            role.token.ttl = Duration::from_secs(ttl);
            if !role.token.max_ttl.is_zero() && role.token.ttl > role.token.max_ttl {
                return Err(AppRoleError::TtlAboveMax.into());
            }
        }
        RoleField::TokenMaxTtl => {
            let max = secs(fd, "token_max_ttl")?.ok_or_else(|| missing("token_max_ttl"))?;
            role.token.max_ttl = Duration::from_secs(max);
            if !role.token.max_ttl.is_zero() && role.token.ttl > role.token.max_ttl {
                return Err(AppRoleError::MaxBelowTtl.into());
            }
        }
        RoleField::TokenNumUses => {
            role.token.num_uses =
                non_negative(fd, "token_num_uses")?.ok_or_else(|| missing("token_num_uses"))?;
        }
        RoleField::BindSecretId => {
            role.bind_secret_id = fd
                .get_bool("bind_secret_id")?
                .ok_or_else(|| missing("bind_secret_id"))?;
        }
        RoleField::SecretIdBoundCidrs => {
            let list = cidrs::clean(
                fd.get_string_list("secret_id_bound_cidrs")?
                    .unwrap_or_default(),
            );
            if list.is_empty() {
                return Err(missing("bound_cidr_list"));
            }
            if cidrs::parse_strict(&list).is_none() {
                return Err(AppRoleError::InvalidCidrs.into());
            }
            role.secret_id_bound_cidrs = list;
        }
        RoleField::TokenBoundCidrs => {
            if fd.is_set("token_bound_cidrs") {
                env::parse_token_fields(&mut role.token, body, &[TokenFields::TOKEN_BOUND_CIDRS])
                    .map_err(|e| AppRoleError::TokenBoundCidrs(e.to_string()))?;
            }
        }
        RoleField::Period => {
            let t = &mut role.token;
            if let Some(p) = secs(fd, "token_period")? {
                t.period = Duration::from_secs(p);
                t.legacy.period = if fd.is_set("period") {
                    t.period
                } else {
                    Duration::ZERO
                };
            } else if let Some(p) = secs(fd, "period")? {
                t.period = Duration::from_secs(p);
                t.legacy.period = t.period;
            } else {
                return Err(missing("period"));
            }
            Role::check_period(t.period, max_lease_ttl)?;
        }
        RoleField::LocalSecretIds => {
            return Err(coffer_types::Error::unsupported("unsupported operation"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use serde_json::json;

    #[test]
    fn each_path_names_its_field() {
        for (def, field) in definitions() {
            assert_eq!(RoleField::of(def.pattern), Some(field), "{}", def.pattern);
            let trailing = format!("{}/", def.pattern.replace(":role_name", "web"));
            assert_eq!(RoleField::of(&trailing), Some(field));
        }
        assert_eq!(RoleField::of("role/web"), None);
    }

    #[test]
    fn policies_are_sanitised() {
        assert_eq!(
            parse_policies(vec![" B".into(), "a".into(), "b".into(), "".into()]),
            ["a", "b"]
        );
        assert_eq!(parse_policies(vec!["a".into(), "Root".into()]), ["root"]);
    }

    #[tokio::test]
    async fn every_field_reads_updates_and_resets() {
        let h = Harness::new();
        h.call(Operation::Create, "role/web", json!({}))
            .await
            .unwrap();
        let cases = [
            (
                "policies",
                json!({"token_policies": "b,A"}),
                json!({"token_policies": ["a", "b"]}),
                json!({"token_policies": []}),
            ),
            (
                "policies",
                json!({"policies": "x"}),
                json!({"token_policies": ["x"], "policies": ["x"]}),
                json!({"token_policies": []}),
            ),
            (
                "secret-id-num-uses",
                json!({"secret_id_num_uses": 7}),
                json!({"secret_id_num_uses": 7}),
                json!({"secret_id_num_uses": 0}),
            ),
            (
                "secret-id-ttl",
                json!({"secret_id_ttl": "1h"}),
                json!({"secret_id_ttl": 3600}),
                json!({"secret_id_ttl": 0}),
            ),
            (
                "token-ttl",
                json!({"token_ttl": "10m"}),
                json!({"token_ttl": 600}),
                json!({"token_ttl": 0}),
            ),
            (
                "token-max-ttl",
                json!({"token_max_ttl": 900}),
                json!({"token_max_ttl": 900}),
                json!({"token_max_ttl": 0}),
            ),
            (
                "token-num-uses",
                json!({"token_num_uses": 3}),
                json!({"token_num_uses": 3}),
                json!({"token_num_uses": 0}),
            ),
            (
                "bind-secret-id",
                json!({"bind_secret_id": true}),
                json!({"bind_secret_id": true}),
                json!({"bind_secret_id": true}),
            ),
            (
                "secret-id-bound-cidrs",
                json!({"secret_id_bound_cidrs": "10.0.0.0/8"}),
                json!({"secret_id_bound_cidrs": ["10.0.0.0/8"]}),
                json!({"secret_id_bound_cidrs": []}),
            ),
            (
                "token-bound-cidrs",
                json!({"token_bound_cidrs": ["10.0.0.1", "10.1.0.0/16"]}),
                json!({"token_bound_cidrs": ["10.0.0.1", "10.1.0.0/16"]}),
                json!({"token_bound_cidrs": []}),
            ),
            (
                "period",
                json!({"token_period": 60}),
                json!({"token_period": 60}),
                json!({"token_period": 0}),
            ),
            (
                "period",
                json!({"period": 60}),
                json!({"token_period": 60, "period": 60}),
                json!({"token_period": 0}),
            ),
        ];
        for (path, write, after, reset) in cases {
            let path = format!("role/web/{path}");
            assert!(
                h.call(Operation::Update, &path, write.clone())
                    .await
                    .unwrap()
                    .is_none(),
                "{path}"
            );
            assert_eq!(body(&h.read(&path).await), after, "{path} after {write}");
            h.call(Operation::Delete, &path, json!({})).await.unwrap();
            assert_eq!(body(&h.read(&path).await), reset, "{path} reset");
        }
        assert_eq!(
            body(&h.read("role/web/local-secret-ids").await),
            json!({"local_secret_ids": false})
        );
        // The whole role reflects field writes.
        h.call(
            Operation::Update,
            "role/web/token-ttl",
            json!({"token_ttl": 30}),
        )
        .await
        .unwrap();
        assert_eq!(body(&h.read("role/web").await)["token_ttl"], json!(30));
    }

    #[tokio::test]
    async fn field_errors() {
        let h = Harness::new();
        h.call(
            Operation::Create,
            "role/web",
            json!({"token_ttl": 100, "token_max_ttl": 200}),
        )
        .await
        .unwrap();
        let cases = [
            (
                "token-ttl",
                json!({"token_ttl": 300}),
                "token_ttl should not be greater than token_max_ttl",
            ),
            (
                "token-max-ttl",
                json!({"token_max_ttl": 50}),
                "token_max_ttl should be greater than or equal to token_ttl",
            ),
            ("token-ttl", json!({}), "missing token_ttl"),
            ("policies", json!({}), "missing token_policies"),
            ("period", json!({}), "missing period"),
            (
                "secret-id-bound-cidrs",
                json!({}),
                "missing bound_cidr_list",
            ),
            (
                "secret-id-num-uses",
                json!({"secret_id_num_uses": -2}),
                "secret_id_num_uses cannot be negative",
            ),
            (
                "bind-secret-id",
                json!({"bind_secret_id": false}),
                "at least one constraint should be enabled on the role",
            ),
        ];
        for (path, write, msg) in cases {
            let err = h
                .call(
                    Operation::Update,
                    &format!("role/web/{path}"),
                    write.clone(),
                )
                .await
                .unwrap_err();
            assert_eq!(err.messages(), [msg], "{path} {write}");
        }
        let err = h
            .call(
                Operation::Update,
                "role/web/token-bound-cidrs",
                json!({"token_bound_cidrs": "x"}),
            )
            .await
            .unwrap_err();
        assert!(err.messages()[0].starts_with("failed to parse token_bound_cidrs: "));
        let err = h
            .call(
                Operation::Update,
                "role/none/token-ttl",
                json!({"token_ttl": 1}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(
            h.call(Operation::Read, "role/none/token-ttl", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        assert!(
            h.call(Operation::Delete, "role/none/token-ttl", json!({}))
                .await
                .unwrap()
                .is_none()
        );
    }
}
