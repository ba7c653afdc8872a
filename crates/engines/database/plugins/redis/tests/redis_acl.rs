//! The plugin against the machine's Redis (`COFFER_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`, the `default` user without a password). Every
//! ACL user is unique to its test and deleted at the end, even when the
//! test fails.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use coffer_database_plugin::{
    ConnectionSettings, DatabasePlugin, NewUser, PluginError, PluginFactory,
};
use coffer_database_redis::RedisFactory;
use coffer_test_services::{Service, host_port, require};
use coffer_types::Sensitive;
use redis::aio::MultiplexedConnection;
use redis::{Client, ConnectionAddr, ConnectionInfo, RedisConnectionInfo, Value};

#[derive(Clone)]
struct Server {
    host: String,
    port: u16,
    root_user: String,
    root_password: String,
}

impl Server {
    fn from_url(url: &str) -> Self {
        let (host, port) = host_port(url, 6379).expect("test URL");
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let userinfo = authority.rsplit_once('@').map_or("", |(u, _)| u);
        let (user, pass) = userinfo.split_once(':').unwrap_or(("", userinfo));
        Server {
            host,
            port,
            root_user: user.into(),
            root_password: pass.into(),
        }
    }

    fn settings_as(&self, user: &str, password: &str) -> ConnectionSettings {
        let mut options = serde_json::Map::new();
        options.insert("host".into(), self.host.clone().into());
        // As Vault's CLI sends it: a string.
        options.insert("port".into(), self.port.to_string().into());
        ConnectionSettings {
            username: user.into(),
            password: Sensitive::from(password),
            options,
            ..ConnectionSettings::default()
        }
    }

    async fn plugin(&self) -> Arc<dyn DatabasePlugin> {
        RedisFactory
            .connect(&self.settings_as(&self.root_user, &self.root_password))
            .await
            .expect("connect")
    }

    /// A direct connection that authenticated (`AUTH` in the handshake)
    /// as `user` (none: `default`).
    async fn login(&self, user: &str, password: &str) -> redis::RedisResult<MultiplexedConnection> {
        let client = Client::open(ConnectionInfo {
            addr: ConnectionAddr::Tcp(self.host.clone(), self.port),
            redis: RedisConnectionInfo {
                username: (!user.is_empty()).then(|| user.to_owned()),
                password: (!password.is_empty()).then(|| password.to_owned()),
                ..RedisConnectionInfo::default()
            },
        })?;
        client.get_multiplexed_async_connection().await
    }

    async fn root(&self) -> MultiplexedConnection {
        self.login(&self.root_user, &self.root_password)
            .await
            .expect("root login")
    }

    async fn user_exists(&self, name: &str) -> bool {
        let reply: Value = redis::cmd("ACL")
            .arg("GETUSER")
            .arg(name)
            .query_async(&mut self.root().await)
            .await
            .expect("getuser");
        !matches!(reply, Value::Nil)
    }

    /// Runs `body` as a task, deletes `users` whatever happened, then
    /// re-raises a failure.
    async fn with_cleanup<F>(&self, users: &[&str], body: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(body).await;
        let mut root = self.root().await;
        for user in users {
            let _: redis::RedisResult<Value> = redis::cmd("ACL")
                .arg("DELUSER")
                .arg(*user)
                .query_async(&mut root)
                .await;
        }
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
        "coffer-test-{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
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
        let Some(url) = require(Service::Redis, $name) else {
            return;
        };
        Server::from_url(&url)
    }};
}

#[tokio::test]
async fn created_user_authenticates_with_its_password_and_rules() {
    let server = server!("created_user_authenticates_with_its_password_and_rules");
    let name = unique("ro");
    let key = unique("key");
    let (s, n, k) = (server.clone(), name.clone(), key.clone());
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            plugin.verify().await.expect("verify");
            let pw = Sensitive::from("redis-login-secret");
            // No statement: Vault's default, read any key.
            plugin
                .create_user(&new_user(&n, &pw, &[]))
                .await
                .expect("create");
            let mut conn = s
                .login(&n, pw.expose())
                .await
                .expect("AUTH as the new user");
            let value: Option<String> = redis::cmd("GET")
                .arg(&k)
                .query_async(&mut conn)
                .await
                .expect("read");
            assert_eq!(value, None);
            let write: redis::RedisResult<Value> = redis::cmd("SET")
                .arg(&k)
                .arg("x")
                .query_async(&mut conn)
                .await;
            let err = write.expect_err("a read-only user wrote");
            assert!(err.to_string().contains("NOPERM"), "{err}");
            assert!(s.login(&n, "wrong-password").await.is_err());

            // Rules given by the role.
            let writer = format!("{n}-w");
            let rules = vec![format!(r#"["~{k}", "+set", "+get"]"#)];
            plugin
                .create_user(&new_user(&writer, &pw, &rules))
                .await
                .expect("create writer");
            let mut conn = s.login(&writer, pw.expose()).await.expect("login writer");
            let _: Value = redis::cmd("SET")
                .arg(&k)
                .arg("x")
                .query_async(&mut conn)
                .await
                .expect("the writer writes its key");
            let other: redis::RedisResult<Value> = redis::cmd("GET")
                .arg("some-other-key")
                .query_async(&mut conn)
                .await;
            assert!(other.is_err(), "key pattern not applied");
            plugin
                .revoke_user(&writer, &[])
                .await
                .expect("revoke writer");
            plugin.revoke_user(&n, &[]).await.expect("revoke");
            let _: Value = redis::cmd("DEL")
                .arg(&k)
                .query_async(&mut s.root().await)
                .await
                .expect("del");
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn set_password_replaces_the_old_one() {
    let server = server!("set_password_replaces_the_old_one");
    let name = unique("rot");
    let (s, n) = (server.clone(), name.clone());
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let old = Sensitive::from("redis-old-password");
            let new = Sensitive::from("redis-new-password");
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
            // A static role for a user that does not exist is an error, and
            // does not create the user.
            let missing = unique("missing");
            let err = plugin.set_password(&missing, &new, &[]).await.unwrap_err();
            assert!(matches!(err, PluginError::Statement(_)), "{err}");
            assert!(!s.user_exists(&missing).await);
            // Renewal does nothing (ACL users do not expire).
            plugin
                .renew_user(&n, SystemTime::now(), &[])
                .await
                .expect("renew");
            plugin.revoke_user(&n, &[]).await.expect("revoke");
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn revoke_disconnects_the_users_clients_and_can_repeat() {
    let server = server!("revoke_disconnects_the_users_clients_and_can_repeat");
    let name = unique("rev");
    let (s, n) = (server.clone(), name.clone());
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let pw = Sensitive::from("redis-revoke-secret");
            plugin
                .create_user(&new_user(&n, &pw, &[]))
                .await
                .expect("create");
            let mut session = s.login(&n, pw.expose()).await.expect("login");
            let before: Option<String> = redis::cmd("GET")
                .arg("any-key")
                .query_async(&mut session)
                .await
                .expect("the session reads before revocation");
            assert_eq!(before, None);
            plugin.revoke_user(&n, &[]).await.expect("revoke");
            let after: redis::RedisResult<Value> = redis::cmd("GET")
                .arg("any-key")
                .query_async(&mut session)
                .await;
            assert!(after.is_err(), "the user's client survived revocation");
            assert!(s.login(&n, pw.expose()).await.is_err(), "AUTH after revoke");
            assert!(!s.user_exists(&n).await);
            plugin.revoke_user(&n, &[]).await.expect("second revoke");
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn bad_statements_leave_no_user() {
    let server = server!("bad_statements_leave_no_user");
    let name = unique("bad");
    let (s, n) = (server.clone(), name.clone());
    server
        .with_cleanup(&[&name], async move {
            let plugin = s.plugin().await;
            let canary = Sensitive::from("canary-redis-pw");
            for bad in [r#"["~*", "+@read""#, "+@read", r#"["nopass"]"#] {
                let err = plugin
                    .create_user(&new_user(&n, &canary, &[bad.to_owned()]))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(err, PluginError::InvalidStatements(_)),
                    "{bad}: {err}"
                );
                assert!(!s.user_exists(&n).await, "{bad}");
            }
            // Valid JSON, but a rule Redis refuses.
            let err = plugin
                .create_user(&new_user(
                    &n,
                    &canary,
                    &[r#"["+@no-such-category"]"#.to_owned()],
                ))
                .await
                .unwrap_err();
            assert!(matches!(err, PluginError::Statement(_)), "{err}");
            assert!(!err.to_string().contains("canary"), "{err}");
            assert!(!s.user_exists(&n).await);
            plugin.close().await;
        })
        .await;
}

#[tokio::test]
async fn root_rotation_reconnects_with_the_new_password() {
    let server = server!("root_rotation_reconnects_with_the_new_password");
    let admin = unique("adm");
    let child = unique("kid");
    let (s, a, c) = (server.clone(), admin.clone(), child.clone());
    server
        .with_cleanup(&[&admin, &child], async move {
            let _: Value = redis::cmd("ACL")
                .arg("SETUSER")
                .arg(&a)
                .arg("on")
                .arg(">redis-first-admin-pw")
                .arg("~*")
                .arg("&*")
                .arg("+@all")
                .query_async(&mut s.root().await)
                .await
                .expect("create admin");
            let plugin = RedisFactory
                .connect(&s.settings_as(&a, "redis-first-admin-pw"))
                .await
                .expect("connect as admin");
            plugin.verify().await.expect("verify as admin");
            let rotated = Sensitive::from("redis-rotated-admin-pw");
            plugin
                .set_password(&a, &rotated, &[])
                .await
                .expect("rotate root");
            plugin.verify().await.expect("verify after rotation");
            let pw = Sensitive::from("redis-child-pw");
            plugin
                .create_user(&new_user(&c, &pw, &[]))
                .await
                .expect("create after rotation");
            s.login(&c, pw.expose()).await.expect("child login");
            plugin.revoke_user(&c, &[]).await.expect("revoke child");
            plugin.close().await;

            let fresh = RedisFactory
                .connect(&s.settings_as(&a, rotated.expose()))
                .await
                .expect("connect");
            fresh.verify().await.expect("the new password works");
            fresh.close().await;
            let stale = RedisFactory
                .connect(&s.settings_as(&a, "redis-first-admin-pw"))
                .await
                .expect("connect is lazy");
            let err = stale.verify().await.unwrap_err();
            assert!(matches!(err, PluginError::Connect(_)), "{err}");
            assert!(!err.to_string().contains("redis-first-admin-pw"));
        })
        .await;
}

/// How long a failing connect may take before a test calls it hung.
const CONNECT_BOUND: Duration = Duration::from_secs(120);

#[tokio::test]
async fn unreachable_server_fails_fast() {
    let mut options = serde_json::Map::new();
    options.insert("host".into(), "127.0.0.1".into());
    options.insert("port".into(), 1.into());
    let settings = ConnectionSettings {
        username: "admin".into(),
        password: Sensitive::from("canary-unreachable"),
        options,
        ..ConnectionSettings::default()
    };
    let plugin = RedisFactory.connect(&settings).await.expect("lazy connect");
    // Refused at once; the plugin's own connect timeout is 10 s. The bound
    // only catches a connect that never gives up, with a margin no loaded
    // machine reaches.
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
}
