//! TLS from Vault's `tls_ca` and `tls_certificate_key` fields (PEM), or
//! the DSN's `tls=true|skip-verify`.
//!
//! The MySQL driver reads client keys only as PKCS#1 RSA keys, so a
//! PKCS#8 RSA key (`BEGIN PRIVATE KEY`, what `openssl req -newkey` writes)
//! is unwrapped to PKCS#1 here; other key types are refused up front
//! instead of failing at the first connection.

use base64::Engine;
use mysql_async::{ClientIdentity, SslOpts};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Map, Value};

use crate::dsn::DsnTls;

/// The config field with the CA certificates (PEM) that sign the server's.
pub const TLS_CA: &str = "tls_ca";
/// The config field with the client certificate and its private key (one PEM).
pub const TLS_CERTIFICATE_KEY: &str = "tls_certificate_key";

/// The TLS options for `options` and the DSN's `tls` parameter; `None`
/// for a plain connection. Errors never quote the key.
pub(crate) fn ssl_opts(
    options: &Map<String, Value>,
    dsn_tls: DsnTls,
) -> Result<Option<SslOpts>, String> {
    let ca = pem_field(options, TLS_CA)?;
    let cert_key = pem_field(options, TLS_CERTIFICATE_KEY)?;
    let mut ssl = match (&ca, &cert_key, dsn_tls) {
        (None, None, DsnTls::Off) => return Ok(None),
        _ => SslOpts::default(),
    };
    ensure_crypto_provider();
    if let Some(ca) = ca {
        let certs = certificates(ca.as_bytes(), TLS_CA)?;
        let pem = certs_to_pem(&certs);
        ssl = ssl
            .with_root_certs(vec![pem.into_bytes().into()])
            .with_disable_built_in_roots(true);
    }
    if let Some(cert_key) = cert_key {
        let certs = certificates(cert_key.as_bytes(), TLS_CERTIFICATE_KEY)?;
        let key = rsa_key_pem(cert_key.as_bytes())?;
        ssl = ssl.with_client_identity(Some(ClientIdentity::new(
            certs_to_pem(&certs).into_bytes().into(),
            key.into_bytes().into(),
        )));
    }
    if dsn_tls == DsnTls::SkipVerify {
        ssl = ssl.with_danger_accept_invalid_certs(true);
    }
    Ok(Some(ssl))
}

/// The driver builds its TLS config with rustls' process-wide crypto
/// provider, which rustls cannot pick by itself when a build enables more
/// than one: make it aws-lc-rs unless the process chose one already.
fn ensure_crypto_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A non-empty string field, or `None` when absent or empty.
fn pem_field<'a>(options: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{name} must be a PEM string")),
    }
}

fn certificates(pem: &[u8], field: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("{field} is not valid PEM"))?;
    if certs.is_empty() {
        return Err(format!("{field} holds no PEM certificate"));
    }
    Ok(certs)
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn certs_to_pem(certs: &[CertificateDer<'_>]) -> String {
    certs.iter().map(|c| pem_block("CERTIFICATE", c)).collect()
}

/// The client key as a PKCS#1 `RSA PRIVATE KEY` PEM block.
fn rsa_key_pem(pem: &[u8]) -> Result<String, String> {
    let key = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| format!("{TLS_CERTIFICATE_KEY} holds no PEM private key"))?;
    let pkcs1 = match &key {
        PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der().to_vec(),
        PrivateKeyDer::Pkcs8(k) => pkcs8_rsa_to_pkcs1(k.secret_pkcs8_der()).ok_or_else(|| {
            format!("{TLS_CERTIFICATE_KEY}: only RSA client keys are supported by the MySQL driver")
        })?,
        _ => {
            return Err(format!(
                "{TLS_CERTIFICATE_KEY}: only RSA client keys are supported by the MySQL driver"
            ));
        }
    };
    Ok(pem_block("RSA PRIVATE KEY", &pkcs1))
}

/// DER `rsaEncryption` object identifier (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 key inside a PKCS#8 `PrivateKeyInfo`, if it is an RSA key:
/// `SEQUENCE { INTEGER version, SEQUENCE { OID, params }, OCTET STRING key, .. }`.
fn pkcs8_rsa_to_pkcs1(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, info, _) = der_item(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _, rest) = der_item(info)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, algorithm, rest) = der_item(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, _) = der_item(algorithm)?;
    if tag != 0x06 || oid != RSA_ENCRYPTION_OID {
        return None;
    }
    let (tag, key, _) = der_item(rest)?;
    (tag == 0x04).then(|| key.to_vec())
}

/// One DER item: (tag, contents, the bytes after it).
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn rsa_cert_and_key() -> (String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn no_tls_by_default() {
        assert!(ssl_opts(&Map::new(), DsnTls::Off).unwrap().is_none());
        let o = options(json!({"tls_ca": "", "tls_certificate_key": null}));
        assert!(ssl_opts(&o, DsnTls::Off).unwrap().is_none());
    }

    #[test]
    fn dsn_tls_modes() {
        let s = ssl_opts(&Map::new(), DsnTls::Verify).unwrap().unwrap();
        assert!(!s.accept_invalid_certs());
        let s = ssl_opts(&Map::new(), DsnTls::SkipVerify).unwrap().unwrap();
        assert!(s.accept_invalid_certs());
    }

    #[test]
    fn ca_only() {
        let (cert, _) = rsa_cert_and_key();
        let s = ssl_opts(&options(json!({ "tls_ca": cert })), DsnTls::Off)
            .unwrap()
            .unwrap();
        assert!(s.disable_built_in_roots());
        assert_eq!(s.root_certs().len(), 1);
        assert!(s.client_identity().is_none());
    }

    #[tokio::test]
    async fn pkcs8_rsa_key_becomes_pkcs1() {
        let (cert, key) = rsa_cert_and_key();
        assert!(key.contains("BEGIN PRIVATE KEY"));
        let combined = format!("{cert}{key}");
        let s = ssl_opts(
            &options(json!({ "tls_certificate_key": combined })),
            DsnTls::Off,
        )
        .unwrap()
        .unwrap();
        let identity = s.client_identity().unwrap();
        let key_pem = identity.priv_key().read().await.unwrap().into_owned();
        assert!(String::from_utf8_lossy(&key_pem).contains("BEGIN RSA PRIVATE KEY"));
        let parsed = PrivateKeyDer::from_pem_slice(&key_pem).unwrap();
        let PrivateKeyDer::Pkcs1(pkcs1) = parsed else {
            panic!("PKCS#1 expected")
        };
        // A real RSA key: rustls' provider can load it for signing.
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs1(pkcs1))
            .unwrap();
    }

    #[test]
    fn refuses_non_rsa_and_garbage_without_quoting() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["c".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let combined = format!("{}{}", cert.pem(), key.serialize_pem());
        let err = ssl_opts(
            &options(json!({ "tls_certificate_key": combined })),
            DsnTls::Off,
        )
        .err()
        .unwrap();
        assert!(err.contains("only RSA"), "{err}");
        let err = ssl_opts(
            &options(json!({ "tls_certificate_key": "canary-not-pem" })),
            DsnTls::Off,
        )
        .err()
        .unwrap();
        assert!(!err.contains("canary"), "{err}");
        assert!(ssl_opts(&options(json!({ "tls_ca": 5 })), DsnTls::Off).is_err());
    }
}
