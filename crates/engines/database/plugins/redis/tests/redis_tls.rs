//! The plugin's TLS settings against a private Redis that this test starts
//! on a free port with a throwaway CA (the shared Redis has no TLS). Needs
//! the `redis-server` binary; without it the test is skipped, or fails
//! under `COFFER_REQUIRE_SERVICES=1`.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use coffer_database_plugin::{ConnectionSettings, NewUser, PluginError, PluginFactory};
use coffer_database_redis::RedisFactory;
use coffer_test_services::skip_or_fail;
use coffer_types::Sensitive;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Map, Value, json};

/// A `redis-server` child with only a TLS port; killed on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn self_signed_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

fn start_tls_redis() -> Option<TlsRedis> {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        skip_or_fail("redis TLS test", "no redis-server binary on PATH");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = self_signed_ca("coffer test CA");
    let server_key = KeyPair::generate().expect("key");
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let write = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).expect("write pem");
        path
    };
    let cert = write("server.pem", &server_cert.pem());
    let key = write("server.key", &server_key.serialize_pem());
    let ca_file = write("ca.pem", &ca.pem());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--tls-port")
        .arg(port.to_string())
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(&ca_file)
        .args(["--tls-auth-clients", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let server = TlsRedis {
        child,
        port,
        ca_pem: ca.pem(),
        _dir: dir,
    };
    // Starts in milliseconds; a loaded machine gets a wide margin.
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

fn settings(port: u16, user: &str, password: &str, tls: Value) -> ConnectionSettings {
    let mut options: Map<String, Value> = tls.as_object().cloned().unwrap_or_default();
    options.insert("host".into(), "127.0.0.1".into());
    options.insert("port".into(), port.into());
    ConnectionSettings {
        username: user.into(),
        password: Sensitive::from(password),
        options,
        ..ConnectionSettings::default()
    }
}

#[tokio::test]
async fn tls_settings_against_a_private_tls_redis() {
    let Some(server) = start_tls_redis() else {
        return;
    };
    let port = server.port;

    // Verified against the given CA; users work over TLS.
    let trusted = json!({"tls": true, "ca_cert": server.ca_pem});
    let plugin = RedisFactory
        .connect(&settings(port, "", "", trusted.clone()))
        .await
        .expect("connect");
    plugin.verify().await.expect("verify over TLS");
    let pw = Sensitive::from("redis-tls-user-pw");
    let rules = vec![r#"["+ping"]"#.to_owned()];
    plugin
        .create_user(&NewUser {
            username: "tls-user",
            password: &pw,
            expiration: SystemTime::now(),
            creation_statements: &rules,
            rollback_statements: &[],
        })
        .await
        .expect("create over TLS");
    let as_user = RedisFactory
        .connect(&settings(port, "tls-user", pw.expose(), trusted))
        .await
        .expect("connect");
    as_user
        .verify()
        .await
        .expect("the new user logs in over TLS");
    as_user.close().await;
    plugin.revoke_user("tls-user", &[]).await.expect("revoke");
    plugin.close().await;

    // insecure_tls: any certificate.
    let insecure = RedisFactory
        .connect(&settings(
            port,
            "",
            "",
            json!({"tls": "true", "insecure_tls": "true"}),
        ))
        .await
        .expect("connect");
    insecure
        .verify()
        .await
        .expect("verify without checking the cert");

    // Refusals: another CA, the system roots, or no TLS at all.
    let other_ca = self_signed_ca("another CA").pem();
    for (what, tls) in [
        ("another CA", json!({"tls": true, "ca_cert": other_ca})),
        ("system roots", json!({"tls": true})),
        ("plaintext", json!({"tls": false})),
    ] {
        let plugin = RedisFactory
            .connect(&settings(port, "", "", tls))
            .await
            .expect("connect is lazy");
        // Refused by the handshake at once; the plugin's connect timeout is
        // 10 s. The bound only catches a connect that never gives up.
        let err = tokio::time::timeout(Duration::from_secs(120), plugin.verify())
            .await
            .unwrap_or_else(|_| panic!("{what}: still connecting after 120 s"))
            .expect_err(what);
        assert!(matches!(err, PluginError::Connect(_)), "{what}: {err}");
    }
}
