//! The plugin's TLS settings (`tls_ca`, `tls_certificate_key`, the DSN's
//! `tls=`) against a private MariaDB that this test starts on a free port
//! with a throwaway CA (the shared server has no TLS). It runs with
//! `--skip-grant-tables`, so any user logs in: only TLS is under test.
//! Needs the `mariadbd` (or `mysqld`) binary; without it the test is
//! skipped, or fails under `COFFER_REQUIRE_SERVICES=1`.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coffer_database_mysql::MysqlFactory;
use coffer_database_plugin::{ConnectionSettings, PluginError, PluginFactory};
use coffer_test_services::skip_or_fail;
use coffer_types::Sensitive;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, PKCS_RSA_SHA256,
};

/// A `mariadbd` child; killed on drop.
struct TlsMariaDb {
    child: Child,
    port: u16,
    ca: CertifiedIssuer<'static, KeyPair>,
    _dir: tempfile::TempDir,
}

impl Drop for TlsMariaDb {
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

fn server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .flat_map(|dir| [dir.join("mariadbd"), dir.join("mysqld")])
        .find(|p| p.is_file())
}

fn start() -> Option<TlsMariaDb> {
    let Some(binary) = server_binary() else {
        skip_or_fail("mysql TLS test", "no mariadbd/mysqld binary");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = self_signed_ca("coffer test CA");
    let server_key = KeyPair::generate().expect("key");
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
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
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("datadir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut command = Command::new(binary);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", dir.path().join("s.sock").display()))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .arg(format!(
            "--log-error={}",
            dir.path().join("err.log").display()
        ))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--skip-grant-tables")
        .arg("--skip-name-resolve")
        .arg("--skip-log-bin")
        .arg("--innodb-buffer-pool-size=8M")
        .arg(format!("--ssl-cert={}", cert.display()))
        .arg(format!("--ssl-key={}", key.display()))
        .arg(format!("--ssl-ca={}", ca_file.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
        command.arg("--user=root");
    }
    let child = command.spawn().expect("start mariadbd");
    let mut server = TlsMariaDb {
        child,
        port,
        ca,
        _dir: dir,
    };
    // A loaded machine gets a wide margin.
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("mariadbd exited: {status}");
        }
        assert!(Instant::now() < deadline, "mariadbd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

fn settings(port: u16, params: &str, options: serde_json::Value) -> ConnectionSettings {
    ConnectionSettings {
        connection_url: format!("{{{{username}}}}:{{{{password}}}}@tcp(127.0.0.1:{port})/{params}"),
        username: "root".into(),
        password: Sensitive::from(""),
        options: options.as_object().cloned().unwrap_or_default(),
        ..ConnectionSettings::default()
    }
}

async fn verify(settings: &ConnectionSettings) -> Result<(), PluginError> {
    let plugin = MysqlFactory.connect(settings).await?;
    let outcome = plugin.verify().await;
    plugin.close().await;
    outcome
}

#[tokio::test]
async fn tls_settings_against_a_private_tls_mariadb() {
    let Some(server) = start() else {
        return;
    };
    let port = server.port;
    let ca = server.ca.pem();

    // The server's certificate, checked against tls_ca.
    verify(&settings(port, "", serde_json::json!({ "tls_ca": ca })))
        .await
        .expect("TLS with tls_ca");

    // A client certificate too: an RSA key in PKCS#8 form, with its
    // certificate, in one PEM (Vault's tls_certificate_key).
    let client_key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("rsa key");
    let client_cert = CertificateParams::new(vec!["client".to_owned()])
        .expect("params")
        .signed_by(&client_key, &server.ca)
        .expect("client cert");
    let combined = format!("{}{}", client_cert.pem(), client_key.serialize_pem());
    verify(&settings(
        port,
        "",
        serde_json::json!({ "tls_ca": ca, "tls_certificate_key": combined }),
    ))
    .await
    .expect("TLS with a client certificate");

    // The DSN's tls=skip-verify needs no CA.
    verify(&settings(port, "?tls=skip-verify", serde_json::json!({})))
        .await
        .expect("tls=skip-verify");

    // Refusals: the public roots (tls=true) and another CA do not know it.
    let other = self_signed_ca("another CA").pem();
    for (what, params, options) in [
        ("public roots", "?tls=true", serde_json::json!({})),
        ("another CA", "", serde_json::json!({ "tls_ca": other })),
    ] {
        let err = verify(&settings(port, params, options))
            .await
            .expect_err(what);
        assert!(matches!(err, PluginError::Connect(_)), "{what}: {err}");
    }
    // Those failed for their certificates: the server still answers.
    verify(&settings(port, "?tls=skip-verify", serde_json::json!({})))
        .await
        .expect("still up");
}
