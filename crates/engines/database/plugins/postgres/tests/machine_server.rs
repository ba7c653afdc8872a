//! The plugin against the machine's PostgreSQL (trust authentication):
//! statements, defaults, rollback, errors.

mod common;

use std::time::{Duration, Instant};

use coffer_database_plugin::{PluginError, PluginFactory};
use coffer_database_postgres::{DEFAULT_USERNAME_TEMPLATE, PLUGIN_NAME, PostgresFactory};
use coffer_test_services::{PgCluster, Service, require};
use coffer_types::Sensitive;
use common::*;

fn disable_tls(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

#[test]
fn the_factory_describes_itself() {
    assert_eq!(PostgresFactory.name(), "postgresql-database-plugin");
    assert_eq!(PLUGIN_NAME, PostgresFactory.name());
    assert!(DEFAULT_USERNAME_TEMPLATE.contains("truncate 63"));
    assert_eq!(
        PostgresFactory.default_username_template(),
        r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}"#
    );
    assert!(
        PostgresFactory
            .option_fields()
            .contains(&"password_authentication")
    );
}

#[tokio::test]
async fn defaults_create_renew_and_revoke() {
    let Some(url) = require(Service::Postgres, "defaults_create_renew_and_revoke") else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let db = plugin(&settings(&url)).await;
    db.verify().await.unwrap();
    let name = unique_name("v-defaults");
    let password = Sensitive::from("defaults-pw-1");
    let expires = in_secs(3600);

    db.create_user(&new_user(&name, &password, expires, &[], &[]))
        .await
        .unwrap();
    let row = admin
        .query_one(
            "SELECT rolcanlogin, extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i64>(1), unix(expires));

    let later = in_secs(7200);
    db.renew_user(&name, later, &[]).await.unwrap();
    let until: i64 = admin
        .query_one(
            "SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(until, unix(later));

    db.revoke_user(&name, &[]).await.unwrap();
    assert!(!role_exists(&admin, &name).await);
    // Revoking what is gone succeeds.
    db.revoke_user(&name, &[]).await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn revocation_keeps_the_users_objects_and_ends_its_grants() {
    let Some(url) = require(
        Service::Postgres,
        "revocation_keeps_the_users_objects_and_ends_its_grants",
    ) else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let db = plugin(&settings(&url)).await;
    let name = unique_name("v-owner");
    let table = unique_name("coffer_owned");
    let password = Sensitive::from("owner-pw");
    db.create_user(&new_user(&name, &password, in_secs(600), &[], &[]))
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            r#"CREATE TABLE "{table}" (x int); ALTER TABLE "{table}" OWNER TO "{name}";"#
        ))
        .await
        .unwrap();

    db.revoke_user(&name, &[]).await.unwrap();
    assert!(!role_exists(&admin, &name).await);
    let owner: String = admin
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = $1",
            &[&table],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, "postgres");
    admin
        .batch_execute(&format!(r#"DROP TABLE "{table}""#))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failing_creation_leaves_no_role_and_runs_the_rollback() {
    let Some(url) = require(
        Service::Postgres,
        "a_failing_creation_leaves_no_role_and_runs_the_rollback",
    ) else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let db = plugin(&settings(&disable_tls(&url))).await;
    let name = unique_name("v-broken");
    let marker = format!("{name}-rolled-back");
    let password = Sensitive::from("broken-pw");
    let creation = [
        r#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';"#.to_owned(),
        "CRATE TABLE nothing (x int);".to_owned(),
    ];
    let rollback = [format!(r#"CREATE ROLE "{marker}""#)];

    let err = db
        .create_user(&new_user(
            &name,
            &password,
            in_secs(60),
            &creation,
            &rollback,
        ))
        .await
        .unwrap_err();
    let PluginError::Statement(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(msg.contains(r#"syntax error at or near "CRATE""#), "{msg}");
    assert!(
        err.to_string()
            .starts_with(r#"statement failed: syntax error at or near "CRATE""#)
    );
    assert!(
        !role_exists(&admin, &name).await,
        "the creation was not undone"
    );
    assert!(
        role_exists(&admin, &marker).await,
        "the rollback did not run"
    );
    drop_role(&admin, &marker).await;

    // The default rollback (DROP ROLE IF EXISTS) is quiet when nothing was made.
    let err = db
        .create_user(&new_user(&name, &password, in_secs(60), &creation, &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::Statement(_)));
    assert!(!role_exists(&admin, &name).await);
}

#[tokio::test]
async fn custom_statements_run_with_their_placeholders() {
    let Some(url) = require(
        Service::Postgres,
        "custom_statements_run_with_their_placeholders",
    ) else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let db = plugin(&settings(&url)).await;
    let name = unique_name("v-custom");
    let password = Sensitive::from("custom-pw");
    let expires = in_secs(900);
    let creation = [
        r#"CREATE USER "{{username}}" WITH PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' CONNECTION LIMIT 3; COMMENT ON ROLE "{{name}}" IS 'made by coffer'"#.to_owned(),
        r#"ALTER ROLE "{{name}}" SET statement_timeout = '5s'"#.to_owned(),
    ];
    db.create_user(&new_user(&name, &password, expires, &creation, &[]))
        .await
        .unwrap();
    let row = admin
        .query_one(
            "SELECT rolconnlimit, shobj_description(oid, 'pg_authid'), extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    assert_eq!(row.get::<_, String>(1), "made by coffer");
    assert_eq!(row.get::<_, i64>(2), unix(expires));

    let renew = [r#"ALTER ROLE "{{name}}" CONNECTION LIMIT 5"#.to_owned()];
    db.renew_user(&name, in_secs(60), &renew).await.unwrap();
    let limit: i32 = admin
        .query_one(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(limit, 5);

    let rotation = [
        r#"ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}' CONNECTION LIMIT 7"#.to_owned(),
    ];
    db.set_password(&name, &Sensitive::from("custom-pw-2"), &rotation)
        .await
        .unwrap();

    let revocation = [r#"DROP ROLE "{{name}}""#.to_owned()];
    db.revoke_user(&name, &revocation).await.unwrap();
    assert!(!role_exists(&admin, &name).await);
    db.revoke_user(&name, &revocation).await.unwrap();
}

#[tokio::test]
async fn a_failing_renewal_or_rotation_changes_nothing() {
    let Some(url) = require(
        Service::Postgres,
        "a_failing_renewal_or_rotation_changes_nothing",
    ) else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let db = plugin(&settings(&url)).await;
    let name = unique_name("v-atomic");
    let password = Sensitive::from("atomic-pw");
    db.create_user(&new_user(&name, &password, in_secs(60), &[], &[]))
        .await
        .unwrap();
    let renew = [
        r#"ALTER ROLE "{{name}}" CONNECTION LIMIT 9"#.to_owned(),
        "SELECT 1/0".to_owned(),
    ];
    let err = db.renew_user(&name, in_secs(60), &renew).await.unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
    let limit: i32 = admin
        .query_one(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(limit, -1, "the first statement was kept");

    // Renewing a role that does not exist is an error (nothing to extend).
    let missing = db.renew_user("v-no-such-role-here", in_secs(60), &[]).await;
    assert!(matches!(missing, Err(PluginError::Statement(_))));
    db.revoke_user(&name, &[]).await.unwrap();
}

#[tokio::test]
async fn passwords_never_appear_in_errors() {
    let Some(url) = require(Service::Postgres, "passwords_never_appear_in_errors") else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let canary = format!("canary{}", unique_name("pw").replace('-', ""));
    let password = Sensitive::from(canary.as_str());
    let name = unique_name("v-canary");
    // PostgreSQL echoes the bad value back in its message.
    let creation = [r#"SELECT '{{password}}'::int"#.to_owned()];
    for auth in ["password", "scram-sha-256"] {
        let mut s = settings(&url);
        s.options
            .insert("password_authentication".into(), auth.into());
        let db = plugin(&s).await;
        let err = db
            .create_user(&new_user(&name, &password, in_secs(60), &creation, &[]))
            .await
            .unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(shown.contains("invalid input syntax"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
            assert!(!shown.contains(&canary), "{auth}: {shown}");
            assert!(!shown.contains("SCRAM-SHA-256$"), "{auth}: {shown}");
        }
        let err = db
            .set_password(&name, &password, &creation)
            .await
            .unwrap_err();
        assert!(!err.to_string().contains(&canary), "{err}");
    }
    assert!(!role_exists(&admin, &name).await);
}

#[tokio::test]
async fn an_unreachable_database_fails_promptly_with_connect() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for url in [
        "postgresql://postgres:pw@127.0.0.1:1/postgres?sslmode=disable".to_owned(),
        "postgresql://postgres:pw@127.0.0.1:1/postgres".to_owned(),
        format!(
            "postgresql://postgres:pw@127.0.0.1:{silent_port}/postgres?connect_timeout=1&sslmode=disable"
        ),
        format!("postgresql://postgres:pw@127.0.0.1:{silent_port}/postgres?connect_timeout=1"),
    ] {
        let db = plugin(&settings(&url)).await;
        let started = Instant::now();
        let pw = Sensitive::from("unreachable-pw");
        // Connects here end in milliseconds (refused) or after the URL's
        // 1 s `connect_timeout`; the bound only catches a connect that never
        // gives up, with a margin no loaded machine reaches. (That the
        // timeout is read from the URL is checked in the `url` unit tests.)
        let (verified, created) = tokio::time::timeout(CONNECT_BOUND, async {
            let verified = db.verify().await;
            let created = db
                .create_user(&new_user("v-x", &pw, in_secs(60), &[], &[]))
                .await;
            (verified, created)
        })
        .await
        .unwrap_or_else(|_| panic!("{url}: still connecting after {CONNECT_BOUND:?}"));
        eprintln!("{url}: failed after {:?}", started.elapsed());
        let err = verified.unwrap_err();
        assert!(matches!(err, PluginError::Connect(_)), "{url}: {err:?}");
        let err = created.unwrap_err();
        assert!(matches!(err, PluginError::Connect(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}

/// How long a failing connect may take before a test calls it hung: far
/// beyond every connect timeout involved (1 s, 10 s by default).
const CONNECT_BOUND: Duration = Duration::from_secs(120);

#[tokio::test]
async fn bad_settings_are_refused_before_connecting() {
    for (url, why) in [
        ("postgres://u@127.0.0.1/db?sslmode=allow", "sslmode"),
        ("postgres://u@127.0.0.1/db?sslmode=verify-full", "CA"),
        ("postgres://u@127.0.0.1/db?bogus=1", "bogus"),
        ("", "required"),
    ] {
        match PostgresFactory.connect(&settings(url)).await {
            Err(PluginError::InvalidSettings(msg)) => assert!(msg.contains(why), "{url}: {msg}"),
            Err(e) => panic!("{url}: {e:?}"),
            Ok(_) => panic!("{url}: accepted"),
        }
    }
    let mut s = settings("postgres://u@127.0.0.1/db");
    s.options
        .insert("password_authentication".into(), "md5".into());
    assert!(matches!(
        PostgresFactory.connect(&s).await,
        Err(PluginError::InvalidSettings(_))
    ));
}

/// TLS through the plugin (`sslmode=prefer`, the default, and `require`,
/// the certificate unchecked), proven on the server side by `pg_stat_ssl`.
/// On the machine's server when it has `ssl = on`; otherwise on a private
/// cluster started with `ssl = on` and a fresh self-signed certificate, so
/// the TLS path is tested on every machine (never a quiet skip).
#[tokio::test]
async fn tls_to_the_machine_server() {
    let Some(url) = require(Service::Postgres, "tls_to_the_machine_server") else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl == "on" {
        connections_are_encrypted(&url, &admin).await;
        return;
    }
    eprintln!(
        "tls_to_the_machine_server: the machine's server has ssl = {ssl}; \
         testing against a private cluster with ssl = on"
    );
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let Some(cluster) = PgCluster::start_with_tls_or_skip(
        "tls_to_the_machine_server",
        &certified.cert.pem(),
        &certified.signing_key.serialize_pem(),
    ) else {
        return;
    };
    let admin = connect(&disable_tls(&cluster.url())).await.unwrap();
    let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(ssl, "on", "{}", cluster.log());
    connections_are_encrypted(&cluster.url(), &admin).await;
}

/// Connects the plugin to `url` with `sslmode=prefer` and `require`, and
/// asks the server (through `admin`) whether each connection is encrypted.
async fn connections_are_encrypted(url: &str, admin: &tokio_postgres::Client) {
    for mode in ["prefer", "require"] {
        let sep = if url.contains('?') { '&' } else { '?' };
        let app = unique_name(&format!("coffer-tls-{mode}"));
        let db = plugin(&settings(&format!(
            "{url}{sep}sslmode={mode}&application_name={app}"
        )))
        .await;
        db.verify().await.unwrap();
        let ssl: bool = admin
            .query_one(
                "SELECT bool_or(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
                &[&app],
            )
            .await
            .unwrap()
            .get::<_, Option<bool>>(0)
            .unwrap_or(false);
        assert!(ssl, "{mode}: the connection is not encrypted");
        db.close().await;
    }
}

/// The server pids of the plugin's connections (found by application name).
async fn backend_pids(admin: &tokio_postgres::Client, app: &str) -> Vec<i32> {
    admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn connections_are_reused_until_max_connection_lifetime() {
    let Some(url) = require(
        Service::Postgres,
        "connections_are_reused_until_max_connection_lifetime",
    ) else {
        return;
    };
    let admin = connect(&url).await.unwrap();
    for (lifetime, reused) in [(Duration::ZERO, true), (Duration::from_nanos(1), false)] {
        let app = unique_name("coffer-lifetime");
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut s = settings(&format!("{url}{sep}application_name={app}"));
        s.max_connection_lifetime = lifetime;
        let db = plugin(&s).await;
        db.verify().await.unwrap();
        let first = backend_pids(&admin, &app).await;
        assert_eq!(first.len(), 1, "{first:?}");
        db.verify().await.unwrap();
        let second = backend_pids(&admin, &app).await;
        assert_eq!(
            second == first,
            reused,
            "lifetime {lifetime:?}: {first:?} then {second:?}"
        );
        db.close().await;
    }
}
