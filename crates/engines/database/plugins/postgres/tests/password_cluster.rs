//! The plugin against a private cluster that checks passwords
//! (`scram-sha-256`): the credentials it makes work, and stop working.

mod common;

use coffer_database_plugin::PluginError;
use coffer_test_services::PgCluster;
use coffer_types::Sensitive;
use common::*;

#[tokio::test]
async fn created_users_log_in_and_rotation_replaces_their_password() {
    let Some(cluster) =
        PgCluster::start_or_skip("created_users_log_in_and_rotation_replaces_their_password")
    else {
        return;
    };
    let db = plugin(&root_settings(cluster.port(), cluster.superuser_password())).await;
    db.verify().await.unwrap();
    let name = unique_name("v-login");
    let first = Sensitive::from("first-Password-1");
    db.create_user(&new_user(&name, &first, in_secs(3600), &[], &[]))
        .await
        .unwrap();
    let user = connect(&cluster.url_for(&name, first.expose()))
        .await
        .unwrap();
    user.simple_query("SELECT 1").await.unwrap();
    assert!(connect(&cluster.url_for(&name, "wrong")).await.is_err());

    let second = Sensitive::from("second-Password-2");
    db.set_password(&name, &second, &[]).await.unwrap();
    let old = connect(&cluster.url_for(&name, first.expose())).await;
    let err = old.expect_err("the old password still works");
    let msg = err.as_db_error().map(|db| db.message().to_owned());
    assert!(
        msg.as_deref()
            .is_some_and(|m| m.contains("password authentication failed")),
        "{err:?}"
    );
    connect(&cluster.url_for(&name, second.expose()))
        .await
        .unwrap()
        .simple_query("SELECT 1")
        .await
        .unwrap();
}

#[tokio::test]
async fn scram_verifiers_are_sent_instead_of_passwords() {
    let Some(cluster) = PgCluster::start_or_skip("scram_verifiers_are_sent_instead_of_passwords")
    else {
        return;
    };
    let mut settings = root_settings(cluster.port(), cluster.superuser_password());
    settings
        .options
        .insert("password_authentication".into(), "scram-sha-256".into());
    let db = plugin(&settings).await;
    let name = unique_name("v-scram");
    let password = Sensitive::from("scram-Password-1");
    // The statement records what {{password}} was.
    let creation = [
        r#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; COMMENT ON ROLE "{{name}}" IS '{{password}}'"#.to_owned(),
    ];
    db.create_user(&new_user(&name, &password, in_secs(60), &creation, &[]))
        .await
        .unwrap();
    let admin = connect(&cluster.url()).await.unwrap();
    let sent: String = admin
        .query_one(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(sent.starts_with("SCRAM-SHA-256$4096:"), "{sent}");
    assert!(!sent.contains(password.expose()));
    connect(&cluster.url_for(&name, password.expose()))
        .await
        .unwrap()
        .simple_query("SELECT 1")
        .await
        .unwrap();

    let next = Sensitive::from("scram-Password-2");
    db.set_password(&name, &next, &[]).await.unwrap();
    assert!(
        connect(&cluster.url_for(&name, password.expose()))
            .await
            .is_err()
    );
    assert!(
        connect(&cluster.url_for(&name, next.expose()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn revocation_ends_open_sessions_and_logins() {
    let Some(cluster) = PgCluster::start_or_skip("revocation_ends_open_sessions_and_logins") else {
        return;
    };
    let db = plugin(&root_settings(cluster.port(), cluster.superuser_password())).await;
    let name = unique_name("v-session");
    let password = Sensitive::from("session-Password-1");
    db.create_user(&new_user(&name, &password, in_secs(3600), &[], &[]))
        .await
        .unwrap();
    let session = connect(&cluster.url_for(&name, password.expose()))
        .await
        .unwrap();
    session.simple_query("SELECT 1").await.unwrap();
    // A session in the middle of a transaction, holding a lock.
    session
        .batch_execute("BEGIN; CREATE TEMP TABLE held (x int); LOCK TABLE held")
        .await
        .unwrap();

    db.revoke_user(&name, &[]).await.unwrap();
    assert!(
        session.simple_query("SELECT 1").await.is_err(),
        "the session outlived the revocation"
    );
    let login = connect(&cluster.url_for(&name, password.expose())).await;
    assert!(login.is_err(), "the revoked user still logs in");
    db.revoke_user(&name, &[]).await.unwrap();

    // Custom revocation statements end the sessions too.
    let other = unique_name("v-session-custom");
    db.create_user(&new_user(&other, &password, in_secs(3600), &[], &[]))
        .await
        .unwrap();
    let session = connect(&cluster.url_for(&other, password.expose()))
        .await
        .unwrap();
    session.simple_query("SELECT 1").await.unwrap();
    let revocation = [r#"ALTER ROLE "{{name}}" NOLOGIN"#.to_owned()];
    db.revoke_user(&other, &revocation).await.unwrap();
    assert!(session.simple_query("SELECT 1").await.is_err());
    assert!(
        connect(&cluster.url_for(&other, password.expose()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn root_rotation_moves_the_plugin_to_the_new_password() {
    let Some(cluster) =
        PgCluster::start_or_skip("root_rotation_moves_the_plugin_to_the_new_password")
    else {
        return;
    };
    // The cluster is private: rotating its superuser touches nothing shared.
    let old = cluster.superuser_password().to_owned();
    let settings = root_settings(cluster.port(), &old);
    let db = plugin(&settings).await;
    db.verify().await.unwrap();
    let new = Sensitive::from("rotated-Root-Password-1");
    db.set_password("postgres", &new, &[]).await.unwrap();

    // The same plugin keeps working: its new connections use the new password.
    let name = unique_name("v-after-rotation");
    let password = Sensitive::from("after-Password-1");
    db.create_user(&new_user(&name, &password, in_secs(60), &[], &[]))
        .await
        .unwrap();
    db.revoke_user(&name, &[]).await.unwrap();
    db.close().await;

    // A plugin with the old password is refused, without leaking it.
    let stale = plugin(&settings).await;
    let err = stale.verify().await.unwrap_err();
    assert!(matches!(err, PluginError::Connect(_)), "{err:?}");
    assert!(
        err.to_string().contains("password authentication failed"),
        "{err}"
    );
    assert!(!err.to_string().contains(&old));
    // One with the new password connects.
    let fresh = plugin(&root_settings(cluster.port(), new.expose())).await;
    fresh.verify().await.unwrap();
    assert!(
        connect(&cluster.url_for("postgres", new.expose()))
            .await
            .is_ok()
    );
    assert!(connect(&cluster.url_for("postgres", &old)).await.is_err());
}

#[tokio::test]
async fn a_wrong_root_password_is_a_connect_error() {
    let Some(cluster) = PgCluster::start_or_skip("a_wrong_root_password_is_a_connect_error") else {
        return;
    };
    let db = plugin(&root_settings(cluster.port(), "not-the-Root-Password")).await;
    let err = db.verify().await.unwrap_err();
    eprintln!("wrong root password: {err}");
    assert!(matches!(err, PluginError::Connect(_)), "{err:?}");
    assert!(!err.to_string().contains("not-the-Root-Password"), "{err}");
}

#[tokio::test]
async fn unix_sockets_work_with_the_default_sslmode() {
    let Some(cluster) = PgCluster::start_or_skip("unix_sockets_work_with_the_default_sslmode")
    else {
        return;
    };
    // A libpq key=value string; no sslmode: prefer, which a socket declines.
    let settings = coffer_database_plugin::ConnectionSettings {
        connection_url: format!(
            "host={} port={} dbname=postgres user={{{{username}}}} password={{{{password}}}}",
            cluster.socket_dir().display(),
            cluster.port()
        ),
        username: "postgres".into(),
        password: Sensitive::from(cluster.superuser_password()),
        ..Default::default()
    };
    let db = plugin(&settings).await;
    db.verify()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.log()));
}
