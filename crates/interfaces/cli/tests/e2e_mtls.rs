//! TLS client certificates, as Vault's listeners handle them: asked for but
//! optional by default; required and verified with
//! `tls_require_and_verify_client_cert`.

mod support;

use std::time::Duration;

use support::{ServerProcess, TlsFiles, make_tls};

fn config(dir: &std::path::Path, tls: &TlsFiles, require: bool) -> std::path::PathBuf {
    let extra = if require {
        format!(
            "  tls_client_ca_file = \"{}\"\n  tls_require_and_verify_client_cert = true\n",
            tls.ca_cert.display()
        )
    } else {
        String::new()
    };
    let text = format!(
        "storage \"inmem\" {{}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n{extra}}}\n",
        tls.cert.display(),
        tls.key.display()
    );
    let name = if require { "mtls.hcl" } else { "tls.hcl" };
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn client(tls: &TlsFiles, with_cert: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([reqwest::Certificate::from_pem(tls.ca_pem.as_bytes()).unwrap()]);
    if with_cert {
        b = b.identity(reqwest::Identity::from_pem(tls.client_identity_pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn seal_status(client: &reqwest::Client, addr: &str) -> Result<u16, reqwest::Error> {
    Ok(client
        .get(format!("{addr}/v1/sys/seal-status"))
        .send()
        .await?
        .status()
        .as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_optional_by_default_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());

    let optional = ServerProcess::start(
        &[&format!(
            "-config={}",
            config(dir.path(), &tls, false).display()
        )],
        dir.path(),
        true,
    );
    assert_eq!(
        seal_status(&client(&tls, false), &optional.addr)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        seal_status(&client(&tls, true), &optional.addr)
            .await
            .unwrap(),
        200
    );
    drop(optional);

    let required = ServerProcess::start(
        &[&format!(
            "-config={}",
            config(dir.path(), &tls, true).display()
        )],
        dir.path(),
        true,
    );
    assert!(
        seal_status(&client(&tls, false), &required.addr)
            .await
            .is_err(),
        "a client without a certificate must be refused"
    );
    assert_eq!(
        seal_status(&client(&tls, true), &required.addr)
            .await
            .unwrap(),
        200
    );

    // Plain HTTP against a TLS listener gets nothing useful and does not crash it.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let http_addr = required.addr.replace("https://", "http://");
    assert!(
        plain
            .get(format!("{http_addr}/v1/sys/seal-status"))
            .send()
            .await
            .map(|r| r.status().as_u16() != 200)
            .unwrap_or(true)
    );
    assert_eq!(
        seal_status(&client(&tls, true), &required.addr)
            .await
            .unwrap(),
        200
    );
}
