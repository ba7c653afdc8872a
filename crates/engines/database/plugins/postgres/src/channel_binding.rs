//! SCRAM channel binding (`tls-server-end-point`, RFC 5929): a hash of the
//! server's certificate, with the hash of the certificate's own signature
//! algorithm (SHA-256 when that is MD5 or SHA-1). Binding the password
//! exchange to the TLS session defeats a man in the middle even when the
//! certificate is not verified (`sslmode=require`).

type Hash = fn(&[u8]) -> Vec<u8>;

fn sha256(data: &[u8]) -> Vec<u8> {
    coffer_crypto::sha256(data).to_vec()
}

/// The `tls-server-end-point` value of a DER certificate; `None` for a
/// signature algorithm whose hash cannot be told from its identifier alone
/// (RSASSA-PSS, EdDSA), or a certificate that does not parse.
pub(crate) fn tls_server_end_point(cert_der: &[u8]) -> Option<Vec<u8>> {
    let hash = hash_for(signature_algorithm(cert_der)?)?;
    Some(hash(cert_der))
}

/// DER contents of signature algorithm identifiers (OIDs), by hash.
const SHA256_OR_WEAKER: &[&[u8]] = &[
    // md5WithRSAEncryption, sha1WithRSAEncryption, sha256WithRSAEncryption
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x04],
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05],
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B],
    // ecdsa-with-SHA1, ecdsa-with-SHA256
    &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01],
    &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02],
];
const SHA384_ALGS: &[&[u8]] = &[
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C],
    &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03],
];
const SHA512_ALGS: &[&[u8]] = &[
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D],
    &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04],
];

fn hash_for(oid: &[u8]) -> Option<Hash> {
    if SHA256_OR_WEAKER.contains(&oid) {
        Some(sha256)
    } else if SHA384_ALGS.contains(&oid) {
        Some(coffer_crypto::sha384)
    } else if SHA512_ALGS.contains(&oid) {
        Some(coffer_crypto::sha512)
    } else {
        None
    }
}

/// The OID of `Certificate.signatureAlgorithm`:
/// `SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, .. }, .. }`.
fn signature_algorithm(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (SEQUENCE, body, _) = read_tlv(cert)? else {
        return None;
    };
    let (SEQUENCE, _tbs, rest) = read_tlv(body)? else {
        return None;
    };
    let (SEQUENCE, algorithm, _) = read_tlv(rest)? else {
        return None;
    };
    let (OID, oid, _) = read_tlv(algorithm)? else {
        return None;
    };
    Some(oid)
}

/// One DER tag-length-value: (tag, contents, what follows).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(n)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let (contents, after) = rest.split_at_checked(len)?;
    Some((tag, contents, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_der(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn hashes_with_the_signature_hash() {
        let p256 = cert_der(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(
            tls_server_end_point(&p256).unwrap(),
            coffer_crypto::sha256(&p256).to_vec()
        );
        let p384 = cert_der(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(tls_server_end_point(&p384).unwrap().len(), 48);
        let ed = cert_der(&rcgen::PKCS_ED25519);
        assert_eq!(tls_server_end_point(&ed), None);
    }

    #[test]
    fn garbage_has_no_binding() {
        assert_eq!(tls_server_end_point(b""), None);
        assert_eq!(
            tls_server_end_point(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
        assert_eq!(tls_server_end_point(&[0x30, 0x03, 0x02, 0x01, 0x00]), None);
    }
}
