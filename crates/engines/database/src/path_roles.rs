//! `roles/:name` (and LIST `roles`): how dynamic users are made.

use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::fields::{self, seconds, statements};
use crate::model::Role;
use crate::store::{self, Kind};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldType::String, "Name of the role.").required(),
    FieldDef::new(
        "db_name",
        FieldType::String,
        "Name of the database connection this role uses.",
    )
    .required(),
    FieldDef::new(
        "creation_statements",
        FieldType::Any,
        "Statements that create the user; {{name}}, {{password}} and {{expiration}} are filled in. Empty: the plugin's default.",
    ),
    FieldDef::new(
        "revocation_statements",
        FieldType::Any,
        "Statements that drop the user. Empty: the plugin's default, which also ends the user's sessions.",
    ),
    FieldDef::new(
        "rollback_statements",
        FieldType::Any,
        "Statements run when creation fails midway. Empty: the plugin's default.",
    ),
    FieldDef::new(
        "renew_statements",
        FieldType::Any,
        "Statements that extend the user's validity on renewal.",
    ),
    FieldDef::new(
        "default_ttl",
        FieldType::Duration,
        "Default lease TTL of the credentials. Defaults to the mount's.",
    ),
    FieldDef::new(
        "max_ttl",
        FieldType::Duration,
        "Maximum lease TTL of the credentials. Defaults to the mount's.",
    ),
    FieldDef::new(
        "credential_type",
        FieldType::String,
        "The type of credential: only \"password\".",
    ),
];

/// `roles`: LIST.
pub(crate) fn list_definition() -> PathDef {
    PathDef {
        pattern: "roles",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Manage the roles that can be created with this backend.",
        description: "Lists the roles.",
    }
}

/// `roles/:name`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "roles/:name",
        fields: FIELDS,
        operations: &[
            Operation::Create,
            Operation::Update,
            Operation::Read,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: "Manage the roles that can be created with this backend.",
        description: "A role names a connection and the statements that create, renew and drop its users, and the TTLs of their leases.",
    }
}

/// LIST `roles`.
pub(crate) async fn list(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(store::list(&call.ctx.storage, Kind::Role).await?)
}

/// The existence check of `roles/:name`.
pub(crate) async fn exists(_: &DatabaseBackend, call: &Call<'_>) -> Result<bool> {
    fields::exists(call, Kind::Role).await
}

/// READ `roles/:name`.
pub(crate) async fn read(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let role: Option<Role> = store::get(&call.ctx.storage, Kind::Role, name).await?;
    Ok(role.map(|r| Response::with_data(to_json(&r))))
}

/// DELETE `roles/:name` (leases already issued keep their users until they
/// end).
pub(crate) async fn delete(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let _lock = backend.lock.lock().await;
    store::delete(&call.ctx.storage, Kind::Role, name).await?;
    Ok(None)
}

fn to_json(role: &Role) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("db_name".into(), role.db_name.clone().into());
    m.insert(
        "creation_statements".into(),
        role.creation_statements.clone().into(),
    );
    m.insert(
        "revocation_statements".into(),
        role.revocation_statements.clone().into(),
    );
    m.insert(
        "rollback_statements".into(),
        role.rollback_statements.clone().into(),
    );
    m.insert(
        "renew_statements".into(),
        role.renew_statements.clone().into(),
    );
    m.insert("default_ttl".into(), role.default_ttl.into());
    m.insert("max_ttl".into(), role.max_ttl.into());
    m.insert("credential_type".into(), "password".into());
    m.insert("credential_config".into(), Value::Object(Map::new()));
    m
}

/// CREATE/UPDATE `roles/:name`: merges the fields over the stored role.
pub(crate) async fn write(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let input = &call.fields;
    let _lock = backend.lock.lock().await;
    let old: Option<Role> = store::get(&call.ctx.storage, Kind::Role, name).await?;
    let mut role = old.unwrap_or_default();
    if let Some(db) = input.get_string("db_name")? {
        role.db_name = db;
    }
    if role.db_name.is_empty() {
        return Err(DatabaseError::EmptyDbName.into());
    }
    if let Some(t) = input.get_string("credential_type")?
        && t != "password"
    {
        return Err(DatabaseError::UnsupportedCredentialType(t).into());
    }
    if let Some(s) = statements(input, "creation_statements")? {
        role.creation_statements = s;
    }
    if let Some(s) = statements(input, "revocation_statements")? {
        role.revocation_statements = s;
    }
    if let Some(s) = statements(input, "rollback_statements")? {
        role.rollback_statements = s;
    }
    if let Some(s) = statements(input, "renew_statements")? {
        role.renew_statements = s;
    }
    if let Some(t) = seconds(input, "default_ttl")? {
        role.default_ttl = t;
    }
    if let Some(t) = seconds(input, "max_ttl")? {
        role.max_ttl = t;
    }
    if role.max_ttl > 0 && role.default_ttl > role.max_ttl {
        return Err(DatabaseError::TtlAboveMax.into());
    }
    store::put(&call.ctx.storage, Kind::Role, name, &role).await?;
    Ok(None)
}
