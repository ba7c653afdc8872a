//! The username templates Vault's database plugins use when a connection
//! sets no `username_template`, copied verbatim from Vault (or, for Redis,
//! written to produce the names its plugin builds in code).

/// `postgresql-database-plugin` (Vault's `plugins/database/postgresql`):
/// at most 63 bytes, PostgreSQL's identifier limit.
pub const POSTGRES_DEFAULT: &str = r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}"#;

/// `mysql-database-plugin` (Vault's `DefaultUserNameTemplate` in
/// `plugins/database/mysql`): at most 32 bytes, MySQL 5.7's user name limit.
pub const MYSQL_DEFAULT: &str = r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}"#;

/// `mysql-legacy-database-plugin` (Vault's `DefaultLegacyUserNameTemplate`):
/// at most 16 bytes, for MySQL before 5.7.
pub const MYSQL_LEGACY_DEFAULT: &str =
    r#"{{ printf "v-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}"#;

/// `redis-database-plugin`. Vault's Redis plugin takes no template: it builds
/// `v_<display name>_<role name>_<20 random>_<unix time>` with each name cut
/// to 64 bytes, cuts the result to 100 bytes and uppercases it
/// (`credsutil.GenerateUsername` then `strings.ToUpper`). This template
/// renders the same names, except that Vault drops the separator of an empty
/// display or role name where the template keeps it.
pub const REDIS_DEFAULT: &str = r#"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 64) (.RoleName | truncate 64) (random 20) (unix_time) | truncate 100 | uppercase }}"#;
