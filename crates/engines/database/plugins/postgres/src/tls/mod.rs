//! TLS to PostgreSQL with rustls (aws-lc-rs), as libpq's `sslmode`s:
//! `prefer` and `require` encrypt without checking the certificate,
//! `verify-ca` checks it chains to the configured CA, `verify-full` also
//! checks it names the host. With a CA configured, every TLS mode checks the
//! chain at least (libpq does the same when a root certificate exists).

mod stream;
mod verify;

use std::sync::Arc;

use coffer_database_plugin::PluginError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub(crate) use stream::MakeRustlsConnect;
use verify::{AnyCertificate, ChainOnly};

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it (libpq's default).
    Prefer,
    /// TLS, certificate not checked (unless a CA is configured).
    Require,
    /// TLS, certificate chains to the CA.
    VerifyCa,
    /// TLS, certificate chains to the CA and names the host.
    VerifyFull,
}

impl SslMode {
    /// Parses a `sslmode` value.
    pub(crate) fn parse(value: &str) -> Result<Self, PluginError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // `allow` tries plain first; nothing here tries plain first, and
            // silently encrypting less than asked is worse than refusing.
            other => {
                return Err(PluginError::InvalidSettings(format!(
                    "unsupported sslmode {other:?} (use disable, prefer, require, verify-ca or verify-full)"
                )));
            }
        })
    }

    /// What tokio-postgres does at connection start.
    pub(crate) fn negotiation(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        }
    }
}

/// PEM material for TLS: the CA that signs the server's certificate, and a
/// client certificate with its key.
#[derive(Default)]
pub(crate) struct TlsMaterial {
    /// CA certificates (PEM).
    pub(crate) ca: Option<Vec<u8>>,
    /// Client certificate chain (PEM).
    pub(crate) client_cert: Option<Vec<u8>>,
    /// Client private key (PEM).
    pub(crate) client_key: Option<Vec<u8>>,
}

/// Builds the rustls configuration for `mode` (`None` for `disable`).
pub(crate) fn client_config(
    mode: SslMode,
    material: &TlsMaterial,
) -> Result<Option<Arc<ClientConfig>>, PluginError> {
    if mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = material.ca.as_deref().map(root_store).transpose()?;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(PluginError::InvalidSettings(
                "sslmode=verify-ca and verify-full need the CA certificate (sslrootcert or tls_ca)"
                    .into(),
            ));
        }
        (_, None) => Arc::new(AnyCertificate {
            provider: provider.clone(),
        }),
        (mode, Some(roots)) => {
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| PluginError::InvalidSettings(format!("CA certificate: {e}")))?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly { inner: webpki })
            }
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PluginError::InvalidSettings(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&material.client_cert, &material.client_key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PluginError::InvalidSettings(format!("client certificate: {e}")))?;
            if chain.is_empty() {
                return Err(PluginError::InvalidSettings(
                    "client certificate: no PEM certificate found".into(),
                ));
            }
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| PluginError::InvalidSettings(format!("client key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| PluginError::InvalidSettings(format!("client certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(PluginError::InvalidSettings(
                "a client certificate needs its key, and a key its certificate".into(),
            ));
        }
    };
    Ok(Some(Arc::new(config)))
}

fn root_store(pem: &[u8]) -> Result<RootCertStore, PluginError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert =
            cert.map_err(|e| PluginError::InvalidSettings(format!("CA certificate: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| PluginError::InvalidSettings(format!("CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(PluginError::InvalidSettings(
            "CA certificate: no PEM certificate found".into(),
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmodes_parse_and_negotiate() {
        assert_eq!(SslMode::parse("verify-full").unwrap(), SslMode::VerifyFull);
        assert_eq!(
            SslMode::parse("verify-ca").unwrap().negotiation(),
            tokio_postgres::config::SslMode::Require
        );
        let err = SslMode::parse("allow").unwrap_err().to_string();
        assert!(err.contains("unsupported sslmode \"allow\""), "{err}");
    }

    #[test]
    fn verification_needs_a_ca() {
        let none = TlsMaterial::default();
        assert!(client_config(SslMode::Disable, &none).unwrap().is_none());
        assert!(client_config(SslMode::Require, &none).unwrap().is_some());
        assert!(matches!(
            client_config(SslMode::VerifyFull, &none),
            Err(PluginError::InvalidSettings(_))
        ));
        let garbage = TlsMaterial {
            ca: Some(b"not pem".to_vec()),
            ..TlsMaterial::default()
        };
        assert!(matches!(
            client_config(SslMode::VerifyCa, &garbage),
            Err(PluginError::InvalidSettings(_))
        ));
        let half = TlsMaterial {
            client_cert: Some(b"x".to_vec()),
            ..TlsMaterial::default()
        };
        assert!(matches!(
            client_config(SslMode::Require, &half),
            Err(PluginError::InvalidSettings(_))
        ));
    }
}
