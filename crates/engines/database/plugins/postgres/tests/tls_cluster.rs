//! TLS (rustls) against a private cluster with a certificate from a test
//! CA: each sslmode's checks, and SCRAM channel binding.

mod common;

use coffer_database_plugin::{ConnectionSettings, PluginError};
use coffer_test_services::PgCluster;
use coffer_types::Sensitive;
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SignatureAlgorithm,
};

struct Pki {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

/// A CA, and a server certificate it signs for `names`.
fn make_pki(alg: &'static SignatureAlgorithm, names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "coffer test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate_for(alg).unwrap()).unwrap();
    let key = KeyPair::generate_for(alg).unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "coffer test server");
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_cert_pem: cert.pem(),
        server_key_pem: key.serialize_pem(),
    }
}

fn tls_settings(
    cluster: &PgCluster,
    host: &str,
    query: &str,
    ca: Option<&str>,
) -> ConnectionSettings {
    let mut s = ConnectionSettings {
        connection_url: format!(
            "postgresql://{{{{username}}}}:{{{{password}}}}@{host}:{}/postgres?{query}",
            cluster.port()
        ),
        username: "postgres".into(),
        password: Sensitive::from(cluster.superuser_password()),
        ..ConnectionSettings::default()
    };
    if let Some(ca) = ca {
        s.options.insert("tls_ca".into(), ca.into());
    }
    s
}

#[tokio::test]
async fn sslmodes_check_what_they_promise() {
    let pki = make_pki(&rcgen::PKCS_ECDSA_P256_SHA256, &["localhost", "127.0.0.1"]);
    let Some(cluster) = PgCluster::start_with_tls_or_skip(
        "sslmodes_check_what_they_promise",
        &pki.server_cert_pem,
        &pki.server_key_pem,
    ) else {
        return;
    };
    let other = make_pki(&rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    for (host, query, ca) in [
        ("127.0.0.1", "sslmode=require", None),
        ("127.0.0.1", "sslmode=verify-ca", Some(&pki.ca_pem)),
        ("127.0.0.1", "sslmode=verify-full", Some(&pki.ca_pem)),
        ("localhost", "sslmode=verify-full", Some(&pki.ca_pem)),
        ("127.0.0.1", "sslmode=disable", None),
        // Channel binding must be used: proves its hash matches the server's.
        ("127.0.0.1", "sslmode=require&channel_binding=require", None),
    ] {
        let db = plugin(&tls_settings(&cluster, host, query, ca.map(String::as_str))).await;
        db.verify()
            .await
            .unwrap_or_else(|e| panic!("{host} {query}: {e}\n{}", cluster.log()));
        // A full round: the user's password works over the same path.
        let name = unique_name("v-tls");
        let password = Sensitive::from("tls-Password-1");
        db.create_user(&new_user(&name, &password, in_secs(60), &[], &[]))
            .await
            .unwrap();
        db.revoke_user(&name, &[]).await.unwrap();
        db.close().await;
    }
    for (host, query, ca) in [
        // Another CA's certificate does not verify.
        ("127.0.0.1", "sslmode=verify-ca", Some(&other.ca_pem)),
        ("127.0.0.1", "sslmode=verify-full", Some(&other.ca_pem)),
        // With a CA, even require checks the chain (as libpq).
        ("127.0.0.1", "sslmode=require", Some(&other.ca_pem)),
    ] {
        let db = plugin(&tls_settings(&cluster, host, query, ca.map(String::as_str))).await;
        let err = db.verify().await.unwrap_err();
        eprintln!("{query}: {err}");
        assert!(matches!(err, PluginError::Connect(_)), "{query}: {err:?}");
    }
}

#[tokio::test]
async fn verify_full_checks_the_name_and_verify_ca_does_not() {
    let pki = make_pki(&rcgen::PKCS_ECDSA_P256_SHA256, &["db.example"]);
    let Some(cluster) = PgCluster::start_with_tls_or_skip(
        "verify_full_checks_the_name_and_verify_ca_does_not",
        &pki.server_cert_pem,
        &pki.server_key_pem,
    ) else {
        return;
    };
    let ca = Some(pki.ca_pem.as_str());
    let db = plugin(&tls_settings(
        &cluster,
        "127.0.0.1",
        "sslmode=verify-ca",
        ca,
    ))
    .await;
    db.verify().await.unwrap();
    let db = plugin(&tls_settings(
        &cluster,
        "127.0.0.1",
        "sslmode=verify-full",
        ca,
    ))
    .await;
    let err = db.verify().await.unwrap_err();
    eprintln!("verify-full, wrong name: {err}");
    assert!(matches!(err, PluginError::Connect(_)), "{err:?}");
}

#[tokio::test]
async fn channel_binding_follows_the_certificate_hash() {
    // An ECDSA P-384 certificate is bound with SHA-384, not SHA-256.
    let pki = make_pki(&rcgen::PKCS_ECDSA_P384_SHA384, &["127.0.0.1"]);
    let Some(cluster) = PgCluster::start_with_tls_or_skip(
        "channel_binding_follows_the_certificate_hash",
        &pki.server_cert_pem,
        &pki.server_key_pem,
    ) else {
        return;
    };
    let db = plugin(&tls_settings(
        &cluster,
        "127.0.0.1",
        "sslmode=verify-full&channel_binding=require",
        Some(&pki.ca_pem),
    ))
    .await;
    db.verify()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.log()));
}
