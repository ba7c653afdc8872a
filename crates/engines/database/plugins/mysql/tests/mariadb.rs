//! The plugin against the machine's MariaDB/MySQL (`COFFER_TEST_MYSQL_URL`,
//! default `mysql://root@127.0.0.1:3306/`). Every user is unique to its
//! test and dropped at the end, even when the test fails.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use coffer_database_mysql::{MysqlFactory, MysqlLegacyFactory};
use coffer_database_plugin::{
    ConnectionSettings, DatabasePlugin, NewUser, PluginError, PluginFactory,
};
use coffer_test_services::{Service, host_port, require};
use coffer_types::Sensitive;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

/// The server under test, from its URL.
#[derive(Clone)]
struct Server {
    host: String,
    port: u16,
    root_user: String,
    root_password: String,
}

impl Server {
    fn from_url(url: &str) -> Self {
        let (host, port) = host_port(url, 3306).expect("test URL");
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let userinfo = authority.rsplit_once('@').map_or("", |(u, _)| u);
        let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        Server {
            host,
            port,
            root_user: if user.is_empty() {
                "root".into()
            } else {
                user.into()
            },
            root_password: pass.into(),
        }
    }

    /// Plugin settings in Vault's DSN form, logging in as `user`.
    fn settings_as(&self, user: &str, password: &str) -> ConnectionSettings {
        ConnectionSettings {
            connection_url: format!(
                "{{{{username}}}}:{{{{password}}}}@tcp({}:{})/",
                self.host, self.port
            ),
            username: user.into(),
            password: Sensitive::from(password),
            ..ConnectionSettings::default()
        }
    }

    fn settings(&self) -> ConnectionSettings {
        self.settings_as(&self.root_user, &self.root_password)
    }

    async fn plugin(&self) -> Arc<dyn DatabasePlugin> {
        MysqlFactory
            .connect(&self.settings())
            .await
            .expect("connect")
    }

    /// A direct TCP login (not through the plugin).
    async fn login(&self, user: &str, password: &str) -> Result<Conn, mysql_async::Error> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(user))
            .pass(Some(password))
            .prefer_socket(false);
        let mut conn = Conn::new(opts).await?;
        conn.query_drop("SELECT 1").await?;
        Ok(conn)
    }

    async fn root(&self) -> Conn {
        self.login(&self.root_user, &self.root_password)
            .await
            .expect("root login")
    }

    async fn user_exists(&self, name: &str) -> bool {
        let mut root = self.root().await;
        let count: Option<u64> = root
            .exec_first("SELECT COUNT(*) FROM mysql.user WHERE User = ?", (name,))
            .await
            .expect("count");
        count.unwrap_or(0) > 0
    }

    /// Runs `body` as a task, then drops `users` whatever happened, then
    /// re-raises a failure.
    async fn with_cleanup<F>(&self, users: &[&str], body: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(body).await;
        let mut root = self.root().await;
        for user in users {
            let _ = root
                .query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
                .await;
        }
        let _ = root.disconnect().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id() % 10_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn new_user<'a>(name: &'a str, password: &'a Sensitive, creation: &'a [String]) -> NewUser<'a> {
    NewUser {
        username: name,
        password,
        expiration: SystemTime::now() + Duration::from_secs(3600),
        creation_statements: creation,
        rollback_statements: &[],
    }
}

macro_rules! server {
    ($name:literal) => {{
        let Some(url) = require(Service::Mysql, $name) else {
            return;
        };
        Server::from_url(&url)
    }};
}

#[tokio::test]
async fn created_user_logs_in_with_its_password_only() {
    let server = server!("created_user_logs_in_with_its_password_only");
    let name = unique("v-login");
    let s = server.clone();
    let n = name.clone();
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            plugin.verify().await.expect("verify");
            let pw = Sensitive::from("Aa1-login-secret-pw");
            plugin
                .create_user(&new_user(&n, &pw, &[]))
                .await
                .expect("create");
            let mut conn = s
                .login(&n, pw.expose())
                .await
                .expect("login as the new user");
            // The default creation statement grants SELECT on everything.
            let one: Option<u8> = conn.query_first("SELECT 1").await.expect("select");
            assert_eq!(one, Some(1));
            conn.disconnect().await.expect("disconnect");
            assert!(s.login(&n, "wrong-password").await.is_err());
            plugin.revoke_user(&n, &[]).await.expect("revoke");
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn set_password_replaces_the_old_one() {
    let server = server!("set_password_replaces_the_old_one");
    let name = unique("v-rot");
    let s = server.clone();
    let n = name.clone();
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let old = Sensitive::from("Aa1-old-password");
            let new = Sensitive::from("Aa1-new-password");
            plugin
                .create_user(&new_user(&n, &old, &[]))
                .await
                .expect("create");
            plugin.set_password(&n, &new, &[]).await.expect("rotate");
            assert!(
                s.login(&n, old.expose()).await.is_err(),
                "old password still works"
            );
            s.login(&n, new.expose()).await.expect("new password");
            // A static role for a user that does not exist is an error.
            let missing = unique("v-missing");
            let err = plugin.set_password(&missing, &new, &[]).await.unwrap_err();
            assert!(matches!(err, PluginError::Statement(_)), "{err}");
            assert!(!err.to_string().contains(new.expose()), "{err}");
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn revoke_ends_open_sessions_and_can_repeat() {
    let server = server!("revoke_ends_open_sessions_and_can_repeat");
    let name = unique("v-rev");
    let s = server.clone();
    let n = name.clone();
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let pw = Sensitive::from("Aa1-revoke-secret");
            plugin
                .create_user(&new_user(&n, &pw, &[]))
                .await
                .expect("create");
            let mut session = s.login(&n, pw.expose()).await.expect("login");
            plugin.revoke_user(&n, &[]).await.expect("revoke");
            assert!(
                session.query_drop("SELECT 1").await.is_err(),
                "the user's open session survived revocation"
            );
            assert!(
                s.login(&n, pw.expose()).await.is_err(),
                "login after revoke"
            );
            assert!(!s.user_exists(&n).await);
            plugin.revoke_user(&n, &[]).await.expect("second revoke");

            // Sessions end even when the role's statements keep the user.
            let keep = vec!["REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%'".to_owned()];
            plugin
                .create_user(&new_user(&n, &pw, &[]))
                .await
                .expect("create again");
            let mut session = s.login(&n, pw.expose()).await.expect("login");
            plugin
                .revoke_user(&n, &keep)
                .await
                .expect("revoke, keeping the user");
            assert!(s.user_exists(&n).await);
            assert!(
                session.query_drop("SELECT 1").await.is_err(),
                "session survived"
            );
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn failed_creation_rolls_back_and_hides_the_password() {
    let server = server!("failed_creation_rolls_back_and_hides_the_password");
    let name = unique("v-fail");
    let s = server.clone();
    let n = name.clone();
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let canary = Sensitive::from("canary-Zq9-pw");
            // The user is created, then a syntax error whose text MariaDB
            // echoes back ("near '... canary ...'").
            let creation = vec![
                "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';".to_owned(),
                "GRANT SELECT ON *.* TO '{{name}}'@'%' IDENTIFIED BYY '{{password}}'".to_owned(),
            ];
            let err = plugin
                .create_user(&new_user(&n, &canary, &creation))
                .await
                .unwrap_err();
            assert!(matches!(err, PluginError::Statement(_)), "{err}");
            let message = err.to_string();
            assert!(message.contains("1064"), "{message}");
            assert!(!message.contains("canary"), "{message}");
            // MariaDB did quote the password; the plugin removed it.
            assert!(message.contains("[redacted]"), "{message}");
            assert!(
                !s.user_exists(&n).await,
                "the rollback left the user behind"
            );
            assert!(s.login(&n, canary.expose()).await.is_err());
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn custom_statements_and_renewal() {
    let server = server!("custom_statements_and_renewal");
    let name = unique("v-cust");
    let s = server.clone();
    let n = name.clone();
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let pw = Sensitive::from("Aa1-custom-pw");
            let creation = vec![
                "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'".to_owned(),
                "GRANT USAGE ON *.* TO '{{name}}'@'%'; -- no privileges".to_owned(),
            ];
            plugin
                .create_user(&new_user(&n, &pw, &creation))
                .await
                .expect("create");
            let mut conn = s.login(&n, pw.expose()).await.expect("login");
            assert!(
                conn.query_drop("SELECT COUNT(*) FROM mysql.user")
                    .await
                    .is_err(),
                "USAGE only: no reads"
            );
            // No user expiry in MySQL: renewal without statements does nothing.
            let later = SystemTime::now() + Duration::from_secs(7200);
            plugin.renew_user(&n, later, &[]).await.expect("renew");
            plugin
                .renew_user(
                    &n,
                    later,
                    &["SELECT '{{name}}', '{{expiration}}'".to_owned()],
                )
                .await
                .expect("renew statements");
            let err = plugin
                .renew_user(&n, later, &["SELEC 1".to_owned()])
                .await
                .unwrap_err();
            assert!(matches!(err, PluginError::Statement(_)));
            plugin
                .revoke_user(&n, &["DROP USER '{{name}}'@'%'".to_owned()])
                .await
                .expect("custom revoke");
            assert!(!s.user_exists(&n).await);
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn root_rotation_reconnects_with_the_new_password() {
    let server = server!("root_rotation_reconnects_with_the_new_password");
    let admin = unique("v-adm");
    let child = unique("v-kid");
    let s = server.clone();
    let (a, c) = (admin.clone(), child.clone());
    server
        .with_cleanup(&[&admin, &child], async move {
            let mut root = s.root().await;
            root.query_drop(format!(
                "CREATE USER '{a}'@'%' IDENTIFIED BY 'Aa1-first-admin-pw'"
            ))
            .await
            .expect("create admin");
            root.query_drop(format!("GRANT ALL ON *.* TO '{a}'@'%' WITH GRANT OPTION"))
                .await
                .expect("grant admin");
            let plugin = MysqlFactory
                .connect(&s.settings_as(&a, "Aa1-first-admin-pw"))
                .await
                .expect("connect as admin");
            plugin.verify().await.expect("verify as admin");
            let rotated = Sensitive::from("Aa1-rotated-admin-pw");
            plugin
                .set_password(&a, &rotated, &[])
                .await
                .expect("rotate root");
            // The same plugin keeps working (new connections use the new password).
            plugin.verify().await.expect("verify after rotation");
            let pw = Sensitive::from("Aa1-child-pw");
            plugin
                .create_user(&new_user(&c, &pw, &[]))
                .await
                .expect("create after rotation");
            s.login(&c, pw.expose()).await.expect("child login");
            plugin.revoke_user(&c, &[]).await.expect("revoke child");
            plugin.close().await;

            let fresh = MysqlFactory
                .connect(&s.settings_as(&a, rotated.expose()))
                .await
                .expect("connect");
            fresh.verify().await.expect("new password works");
            fresh.close().await;
            let stale = MysqlFactory
                .connect(&s.settings_as(&a, "Aa1-first-admin-pw"))
                .await
                .expect("connect is lazy");
            let err = stale.verify().await.unwrap_err();
            assert!(matches!(err, PluginError::Connect(_)), "{err}");
            assert!(!err.to_string().contains("Aa1-first-admin-pw"));
            stale.close().await;
        })
        .await;
}

#[tokio::test]
async fn url_form_and_legacy_names_connect() {
    let server = server!("url_form_and_legacy_names_connect");
    let mut settings = server.settings();
    settings.connection_url = format!(
        "mysql://{{{{username}}}}:{{{{password}}}}@{}:{}/",
        server.host, server.port
    );
    let plugin = MysqlFactory.connect(&settings).await.expect("connect");
    plugin.verify().await.expect("verify with a mysql:// URL");
    plugin.close().await;
    let legacy = MysqlLegacyFactory::RDS
        .connect(&server.settings())
        .await
        .expect("connect");
    legacy.verify().await.expect("verify");
    legacy.close().await;
}

#[tokio::test]
async fn tls_is_never_silently_dropped() {
    let server = server!("tls_is_never_silently_dropped");
    let key = rcgen::KeyPair::generate().expect("key");
    let ca = rcgen::CertificateParams::new(vec!["ca".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let mut settings = server.settings();
    settings
        .options
        .insert("tls_ca".into(), serde_json::Value::String(ca.pem()));
    let plugin = MysqlFactory.connect(&settings).await.expect("connect");
    // The test server has no TLS (or a certificate this CA did not sign):
    // either way no plaintext fallback.
    let err = plugin.verify().await.unwrap_err();
    assert!(matches!(err, PluginError::Connect(_)), "{err}");
    plugin.close().await;
}

/// How long a failing connect may take before a test calls it hung: the
/// connects below end at once (refused) or after the DSN's 300 ms (the
/// default is 10 s), so only a connect that never gives up reaches it, with
/// a margin no loaded machine reaches. (That the DSN's `timeout` is read is
/// checked in the `dsn` unit tests.)
const CONNECT_BOUND: Duration = Duration::from_secs(120);

#[tokio::test]
async fn unreachable_server_fails_fast() {
    let settings = ConnectionSettings {
        connection_url: "{{username}}:{{password}}@tcp(127.0.0.1:1)/".into(),
        username: "root".into(),
        password: Sensitive::from("canary-unreachable"),
        ..ConnectionSettings::default()
    };
    let plugin = MysqlFactory.connect(&settings).await.expect("lazy connect");
    let err = tokio::time::timeout(CONNECT_BOUND, plugin.verify())
        .await
        .expect("still connecting to a closed port")
        .unwrap_err();
    assert!(matches!(err, PluginError::Connect(_)), "{err}");
    assert!(!err.to_string().contains("canary"));
    let pw = Sensitive::from("pw");
    let err = plugin
        .create_user(&new_user("x", &pw, &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::Connect(_)), "{err}");
    plugin.close().await;

    // A host that drops packets: the connect timeout (here the DSN's) ends the wait.
    let settings = ConnectionSettings {
        connection_url: "root:x@tcp(10.255.255.1:3306)/?timeout=300ms".into(),
        ..ConnectionSettings::default()
    };
    let plugin = MysqlFactory.connect(&settings).await.expect("lazy connect");
    let err = tokio::time::timeout(CONNECT_BOUND, plugin.verify())
        .await
        .expect("still connecting to a host that drops packets")
        .unwrap_err();
    assert!(matches!(err, PluginError::Connect(_)), "{err}");
}
