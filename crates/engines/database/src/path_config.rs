//! `config/:name` (and LIST `config`), `reset/:name`, `rotate-root/:name`.

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, JobSchedule, PathDef};
use coffer_types::duration::format_duration;
use coffer_types::{Operation, Response, Result, Sensitive};
use serde_json::{Map, Value};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::fields::{self, seconds, statements};
use crate::model::{DbConfig, Rotation};
use crate::rotation::{self, root_job};
use crate::store::{self, Kind};

const NAME: FieldDef = FieldDef::new(
    "name",
    FieldType::String,
    "Name of this database connection.",
)
.required();

/// Vault's default `max_open_connections`.
const DEFAULT_MAX_OPEN: u32 = 4;

/// The fields of `config/:name`: the database backend's own, then the
/// connection fields Vault documents for the PostgreSQL, MySQL/MariaDB and
/// Redis plugins (a plugin ignores the others').
const FIELDS: &[FieldDef] = &[
    NAME,
    FieldDef::new(
        "plugin_name",
        FieldType::String,
        "The name of a builtin database plugin: postgresql-database-plugin, mysql-database-plugin, redis-database-plugin.",
    )
    .required(),
    FieldDef::new(
        "plugin_version",
        FieldType::String,
        "The version of the plugin (builtin plugins have none).",
    )
    .default(FieldDefault::Str("")),
    FieldDef::new(
        "verify_connection",
        FieldType::Bool,
        "If true, the connection details are verified by connecting to the database. Defaults to true.",
    )
    .default(FieldDefault::Bool(true)),
    FieldDef::new(
        "allowed_roles",
        FieldType::StringList,
        "Roles allowed to use this connection; \"*\" or globs allowed. Defaults to none.",
    ),
    FieldDef::new(
        "root_rotation_statements",
        FieldType::Any,
        "Statements run to rotate the root user's password.",
    ),
    FieldDef::new(
        "password_policy",
        FieldType::String,
        "Password policy used to generate passwords for this connection.",
    ),
    FieldDef::new(
        "rotation_period",
        FieldType::Duration,
        "Rotate the root password this often (Coffer gives everyone Vault Enterprise's scheduled root rotation).",
    ),
    FieldDef::new(
        "rotation_schedule",
        FieldType::String,
        "Rotate the root password at the times of this 5-field cron expression (UTC).",
    ),
    FieldDef::new(
        "rotation_window",
        FieldType::Duration,
        "With rotation_schedule: how long after a scheduled time the rotation may still start (at least 1h).",
    ),
    FieldDef::new(
        "disable_automated_rotation",
        FieldType::Bool,
        "Stop scheduled root rotation without forgetting the schedule.",
    )
    .default(FieldDefault::Bool(false)),
    // Every plugin.
    FieldDef::new(
        "connection_url",
        FieldType::String,
        "PostgreSQL and MySQL: connection string, with {{username}} and {{password}} placeholders for the root credentials.",
    ),
    FieldDef::new(
        "username",
        FieldType::String,
        "The root (management) user.",
    ),
    FieldDef::new(
        "password",
        FieldType::String,
        "The root user's password. Never returned.",
    )
    .sensitive(),
    FieldDef::new(
        "username_template",
        FieldType::String,
        "Template for generated user names.",
    ),
    FieldDef::new(
        "max_open_connections",
        FieldType::Int,
        "Maximum number of open connections. Defaults to 4.",
    )
    .default(FieldDefault::Int(DEFAULT_MAX_OPEN as i64)),
    FieldDef::new(
        "max_idle_connections",
        FieldType::Int,
        "Maximum number of idle connections. 0: max_open_connections.",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "max_connection_lifetime",
        FieldType::Duration,
        "Longest a connection is reused. Defaults to 0 (no limit).",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "disable_escaping",
        FieldType::Bool,
        "PostgreSQL and MySQL: turn off the escaping of special characters in username and password. Not supported by Coffer (ignored, with a warning).",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "auth_type",
        FieldType::String,
        "PostgreSQL and MySQL: gcp_iam for Google Cloud SQL IAM authentication. Not supported by Coffer (ignored, with a warning).",
    ),
    FieldDef::new(
        "service_account_json",
        FieldType::String,
        "PostgreSQL and MySQL: the Google service account for auth_type gcp_iam. Not supported by Coffer (ignored, with a warning).",
    )
    .sensitive(),
    FieldDef::new(
        "use_private_ip",
        FieldType::Bool,
        "PostgreSQL and MySQL: reach Google Cloud SQL over its private IP. Not supported by Coffer (ignored, with a warning).",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "private_service_connect",
        FieldType::Bool,
        "PostgreSQL and MySQL: reach Google Cloud SQL through Private Service Connect. Not supported by Coffer (ignored, with a warning).",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "tls_ca",
        FieldType::String,
        "PostgreSQL and MySQL: PEM CA certificate that verifies the server.",
    ),
    // PostgreSQL.
    FieldDef::new(
        "password_authentication",
        FieldType::String,
        "PostgreSQL: how passwords are sent in statements (password or scram-sha-256).",
    )
    .default(FieldDefault::Str("password")),
    FieldDef::new(
        "tls_certificate",
        FieldType::String,
        "PostgreSQL: PEM client certificate for TLS.",
    ),
    FieldDef::new(
        "private_key",
        FieldType::String,
        "PostgreSQL: PEM private key of tls_certificate. Never returned.",
    )
    .sensitive(),
    FieldDef::new(
        "self_managed",
        FieldType::Bool,
        "PostgreSQL (Vault Enterprise): a connection without root credentials. Not supported by Coffer (ignored, with a warning).",
    )
    .default(FieldDefault::Bool(false)),
    // MySQL.
    FieldDef::new(
        "tls_certificate_key",
        FieldType::String,
        "MySQL: PEM client certificate and private key for TLS. Never returned.",
    )
    .sensitive(),
    FieldDef::new(
        "tls_server_name",
        FieldType::String,
        "MySQL: the server name TLS verifies. Not supported by Coffer (ignored, with a warning).",
    ),
    FieldDef::new(
        "tls_skip_verify",
        FieldType::Bool,
        "MySQL: skip verification of the server's certificate. Not supported by Coffer (ignored, with a warning).",
    )
    .default(FieldDefault::Bool(false)),
    // Redis.
    FieldDef::new("host", FieldType::String, "Redis: host name or address."),
    FieldDef::new("port", FieldType::Int, "Redis: port."),
    FieldDef::new("tls", FieldType::Bool, "Redis: use TLS.").default(FieldDefault::Bool(false)),
    FieldDef::new(
        "insecure_tls",
        FieldType::Bool,
        "Redis: skip certificate verification (dangerous).",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "ca_cert",
        FieldType::String,
        "Redis: PEM CA certificate for TLS.",
    ),
];

/// Fields Vault documents for its plugins that Coffer's plugins do not
/// implement: accepted (no unknown-field warning), ignored, and named in a
/// warning when set to anything but their default.
const UNSUPPORTED: &[&str] = &[
    "disable_escaping",
    "auth_type",
    "service_account_json",
    "use_private_ip",
    "private_service_connect",
    "self_managed",
    "tls_server_name",
    "tls_skip_verify",
];

/// `config`: LIST.
pub(crate) fn list_definition() -> PathDef {
    PathDef {
        pattern: "config",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Configure connection details to a database plugin.",
        description: "Lists the configured connections.",
    }
}

/// `config/:name`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "config/:name",
        fields: FIELDS,
        operations: &[
            Operation::Create,
            Operation::Update,
            Operation::Read,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: "Configure connection details to a database plugin.",
        description: "A connection names a plugin, its connection details and root credentials, the roles allowed to use it, and the schedule of its root rotation. The root password is never returned.",
    }
}

/// `reset/:name`.
pub(crate) fn reset_definition() -> PathDef {
    PathDef {
        pattern: "reset/:name",
        fields: &[NAME],
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Resets a database plugin.",
        description: "Closes the connection and opens a new one with the stored configuration.",
    }
}

/// `rotate-root/:name`.
pub(crate) fn rotate_root_definition() -> PathDef {
    PathDef {
        pattern: "rotate-root/:name",
        fields: &[NAME],
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Request to rotate the root credentials for a certain database connection.",
        description: "Sets a new generated password for the root user; only Coffer knows it afterwards.",
    }
}

/// LIST `config`.
pub(crate) async fn list(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let keys = store::list(&call.ctx.storage, Kind::Config).await?;
    Response::list(keys)
}

/// The existence check of `config/:name`.
pub(crate) async fn exists(_: &DatabaseBackend, call: &Call<'_>) -> Result<bool> {
    fields::exists(call, Kind::Config).await
}

/// The stored connection `name`.
pub(crate) async fn load(
    call_or_ctx: &coffer_sdk::Context,
    name: &str,
) -> Result<Option<DbConfig>> {
    store::get(&call_or_ctx.storage, Kind::Config, name).await
}

/// READ `config/:name`: everything but the secrets.
pub(crate) async fn read(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let Some(config) = load(call.ctx, name).await? else {
        return Ok(None);
    };
    let secret_options = backend
        .factory(&config.plugin_name)
        .map(|f| f.secret_option_fields())
        .unwrap_or_default();
    let mut details = config.options.clone();
    details.retain(|k, _| !secret_options.contains(&k.as_str()));
    details.insert(
        "connection_url".into(),
        mask_url_password(&config.connection_url).into(),
    );
    details.insert("username".into(), config.username.clone().into());
    details.insert(
        "max_open_connections".into(),
        config.max_open_connections.into(),
    );
    details.insert(
        "max_idle_connections".into(),
        config.max_idle_connections.into(),
    );
    details.insert(
        "max_connection_lifetime".into(),
        format_duration(std::time::Duration::from_secs(
            config.max_connection_lifetime,
        ))
        .into(),
    );
    let mut data = Map::new();
    data.insert("plugin_name".into(), config.plugin_name.into());
    data.insert("plugin_version".into(), config.plugin_version.into());
    data.insert("connection_details".into(), Value::Object(details));
    data.insert("allowed_roles".into(), config.allowed_roles.into());
    data.insert(
        "root_credentials_rotate_statements".into(),
        config.root_rotation_statements.into(),
    );
    data.insert("password_policy".into(), config.password_policy.into());
    data.insert("username_template".into(), config.username_template.into());
    data.insert("verify_connection".into(), config.verify_connection.into());
    config.rotation.to_fields(&mut data);
    data.insert(
        "disable_automated_rotation".into(),
        config.disable_automated_rotation.into(),
    );
    data.insert(
        "last_root_rotation".into(),
        config
            .last_root_rotation
            .map_or(Value::Null, |t| coffer_sdk::time::rfc3339(t).into()),
    );
    data.insert(
        "root_rotation_pending".into(),
        config.pending.is_some().into(),
    );
    Ok(Some(Response::with_data(data)))
}

/// Hides a literal password in a URL's or DSN's user info (`user:pw@`);
/// the `{{password}}` placeholder stays visible.
fn mask_url_password(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), url),
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let (userinfo, host) = rest.split_at(at);
    match userinfo.split_once(':') {
        Some((user, pw)) if pw != "{{password}}" && !pw.is_empty() => {
            format!("{scheme}{user}:*****{host}")
        }
        _ => url.to_owned(),
    }
}

/// DELETE `config/:name`: the connection, its root rotation job and its
/// cached pool.
pub(crate) async fn delete(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let _lock = backend.lock.lock().await;
    call.ctx.services.jobs.unschedule(&root_job(name)).await?;
    store::delete(&call.ctx.storage, Kind::Config, name).await?;
    backend.drop_connection(name).await;
    Ok(None)
}

fn u32_field(input: &FieldData<'_>, name: &str) -> Result<Option<u32>> {
    match input.get_int(name)? {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| DatabaseError::OutOfU32Range(name.to_owned()).into()),
    }
}

/// CREATE/UPDATE `config/:name`: merges the fields over the stored
/// connection, proves it connects, stores it and (re)schedules its root
/// rotation.
pub(crate) async fn write(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let input = &call.fields;
    let _lock = backend.lock.lock().await;
    let old = load(call.ctx, name).await?;
    let plugin_name = match (input.get_string("plugin_name")?, &old) {
        (Some(p), _) if !p.is_empty() => p,
        (_, Some(old)) => old.plugin_name.clone(),
        _ => return Err(DatabaseError::EmptyPluginName.into()),
    };
    let factory = backend.factory(&plugin_name)?.clone();
    let mut config = old.clone().unwrap_or_else(|| DbConfig {
        plugin_name: plugin_name.clone(),
        connection_url: String::new(),
        username: String::new(),
        password: Sensitive::from(""),
        pending: None,
        allowed_roles: Vec::new(),
        verify_connection: true,
        password_policy: String::new(),
        username_template: String::new(),
        root_rotation_statements: Vec::new(),
        max_open_connections: DEFAULT_MAX_OPEN,
        max_idle_connections: 0,
        max_connection_lifetime: 0,
        options: Map::new(),
        rotation: Rotation::default(),
        disable_automated_rotation: false,
        last_root_rotation: None,
        plugin_version: String::new(),
        generation: 0,
    });
    config.plugin_name = plugin_name;
    if let Some(v) = input.get_string("plugin_version")? {
        config.plugin_version = v;
    }
    if let Some(v) = input.get_bool("verify_connection")? {
        config.verify_connection = v;
    }
    if let Some(v) = input.get_string_list("allowed_roles")? {
        config.allowed_roles = v.into_iter().filter(|r| !r.is_empty()).collect();
    }
    if let Some(v) = statements(input, "root_rotation_statements")? {
        config.root_rotation_statements = v;
    }
    if let Some(v) = input.get_string("password_policy")? {
        if !v.is_empty() {
            // Proves the policy exists (an unknown one is a 400).
            call.ctx.services.passwords.generate(Some(&v)).await?;
        }
        config.password_policy = v;
    }
    if let Some(v) = input.get_string("username_template")? {
        if !v.is_empty() {
            crate::username::check(&v)?;
        }
        config.username_template = v;
    }
    let mut credentials_changed = false;
    if let Some(v) = input.get_string("connection_url")? {
        credentials_changed |= v != config.connection_url;
        config.connection_url = v;
    }
    if let Some(v) = input.get_string("username")? {
        credentials_changed |= v != config.username;
        config.username = v;
    }
    if let Some(v) = input.get_string("password")? {
        credentials_changed = true;
        config.password = Sensitive::from(v);
    }
    if credentials_changed {
        // The operator states the truth: a root rotation in flight is void.
        config.pending = None;
    }
    if let Some(v) = u32_field(input, "max_open_connections")? {
        config.max_open_connections = if v == 0 { DEFAULT_MAX_OPEN } else { v };
    }
    if let Some(v) = u32_field(input, "max_idle_connections")? {
        config.max_idle_connections = v;
    }
    if config.max_idle_connections > config.max_open_connections {
        config.max_idle_connections = config.max_open_connections;
    }
    if let Some(v) = seconds(input, "max_connection_lifetime")? {
        config.max_connection_lifetime = v;
    }
    for option in factory.option_fields() {
        if let Some(v) = input.raw(option) {
            config.options.insert((*option).to_owned(), v.clone());
        }
    }
    config.rotation =
        fields::rotation_from(input, Some(&config.rotation), fields::MIN_ROTATION_PERIOD)?;
    if let Some(v) = input.get_bool("disable_automated_rotation")? {
        config.disable_automated_rotation = v;
    }
    let schedule: Option<JobSchedule> = config
        .rotation
        .job_schedule()
        .filter(|_| !config.disable_automated_rotation);
    if let Some(s) = &schedule {
        call.ctx.services.jobs.validate(s)?;
    }
    if config.verify_connection {
        let plugin = backend
            .connect_verified(&config, &config.password)
            .await
            .map_err(|e| DatabaseError::CreateDatabaseObject(e.messages().join("; ")))?;
        plugin.close().await;
    } else {
        // Still proves the settings parse.
        let plugin = factory
            .connect(&crate::connections::settings(&config, &config.password))
            .await
            .map_err(|e| DatabaseError::CreateDatabaseObject(e.to_string()))?;
        plugin.close().await;
    }
    config.generation = old.as_ref().map_or(1, |o| o.generation + 1);
    store::put(&call.ctx.storage, Kind::Config, name, &config).await?;
    backend.drop_connection(name).await;
    rotation::sync_root_job(call.ctx, name, schedule.as_ref()).await?;
    let mut response = Response::default();
    response.warnings.extend(unsupported_warnings(input));
    if config.allowed_roles.is_empty() {
        response.warnings.push(
            "no allowed_roles: no role can use this connection until allowed_roles is set (\"*\" allows every role)".into(),
        );
    }
    Ok((!response.warnings.is_empty()).then_some(response))
}

/// Warnings naming the [`UNSUPPORTED`] fields set to something other than
/// their default (false, empty).
fn unsupported_warnings(input: &FieldData<'_>) -> Vec<String> {
    UNSUPPORTED
        .iter()
        .filter(|f| match input.raw(f) {
            None | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !matches!(s.trim(), "" | "false" | "0"),
            Some(Value::Number(n)) => n.as_i64() != Some(0),
            Some(_) => true,
        })
        .map(|f| format!("{f} is not supported by Coffer and was ignored"))
        .collect()
}

/// `reset/:name`: closes the connection; the next use opens a new one.
pub(crate) async fn reset(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    if load(call.ctx, name).await?.is_none() {
        return Err(DatabaseError::ConfigNotFound(name.to_owned()).into());
    }
    backend.drop_connection(name).await;
    Ok(None)
}

/// `rotate-root/:name`.
pub(crate) async fn rotate_root(
    backend: &DatabaseBackend,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    rotation::rotate_root(backend, call.ctx, name, true).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_literal_passwords_only() {
        assert_eq!(
            mask_url_password("postgres://admin:hunter2@db:5432/x"),
            "postgres://admin:*****@db:5432/x"
        );
        assert_eq!(
            mask_url_password("postgres://{{username}}:{{password}}@db/x"),
            "postgres://{{username}}:{{password}}@db/x"
        );
        assert_eq!(
            mask_url_password("root:p@ss@tcp(127.0.0.1:3306)/"),
            "root:*****@tcp(127.0.0.1:3306)/"
        );
        assert_eq!(mask_url_password("redis://host"), "redis://host");
    }
}
