//! OpenPGP messages from `coffer_crypto::openpgp` decrypted by GnuPG: keys
//! are made by `gpg` in a throwaway `GNUPGHOME` (RSA with an encryption
//! subkey, Ed25519 with a Curve25519 subkey, RSA encrypting with its primary
//! key), exported as Vault takes them (base64 of the binary export) and as
//! ASCII armor, and what Coffer encrypts to them must come back byte for
//! byte from `gpg --decrypt`, with the fingerprint `gpg` prints. Without
//! `gpg` the tests skip, except under `COFFER_REQUIRE_SERVICES=1`.

use base64::Engine as _;
use coffer_crypto::openpgp::PublicKey;
use coffer_test_services::Gpg;

/// Encrypts to the key `fpr` (read both ways) and has gpg decrypt it.
fn round_trip(gpg: &Gpg, fpr: &str) {
    let binary = gpg.ok(&["--export", fpr]);
    let armored = String::from_utf8(gpg.ok(&["--armor", "--export", fpr])).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&binary);
    let key = PublicKey::parse(&b64).unwrap();
    assert_eq!(key.fingerprint(), fpr);
    assert_eq!(PublicKey::parse(&armored).unwrap().fingerprint(), fpr);

    // A hex-encoded unseal key share, as Vault encrypts it, and a token.
    for plaintext in [
        &b"8d0e5a7f3c2b19e4a6d5c8b7f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e"[..],
        b"hvs.ABCDEFGHIJKLMNOPQRSTUVWX",
    ] {
        let message = key.encrypt(plaintext).unwrap();
        let out = gpg.decrypt(&message);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "gpg --decrypt failed: {stderr}");
        assert_eq!(out.stdout, plaintext);
        assert!(!stderr.contains("integrity"), "{stderr}");
    }

    // The integrity protection is real: one flipped byte near the end (in
    // the MDC) makes gpg refuse the message.
    let mut tampered = key.encrypt(b"0123456789abcdef").unwrap();
    let last = tampered.len() - 3;
    tampered[last] ^= 0x01;
    let out = gpg.decrypt(&tampered);
    assert!(!out.status.success(), "a tampered message decrypted");
}

#[test]
fn gnupg_decrypts_to_an_rsa_encryption_subkey() {
    let Some(gpg) = Gpg::new("gnupg_decrypts_to_an_rsa_encryption_subkey") else {
        return;
    };
    let fpr = gpg.make_key(
        "RSA Test <rsa@example.com>",
        "rsa3072",
        "sign,cert",
        Some("rsa3072"),
    );
    round_trip(&gpg, &fpr);
}

#[test]
fn gnupg_decrypts_to_a_cv25519_subkey() {
    let Some(gpg) = Gpg::new("gnupg_decrypts_to_a_cv25519_subkey") else {
        return;
    };
    let fpr = gpg.make_key(
        "EC Test <ec@example.com>",
        "ed25519",
        "sign",
        Some("cv25519"),
    );
    round_trip(&gpg, &fpr);
}

#[test]
fn gnupg_decrypts_to_an_rsa_primary_key() {
    let Some(gpg) = Gpg::new("gnupg_decrypts_to_an_rsa_primary_key") else {
        return;
    };
    let fpr = gpg.make_key(
        "SCE Test <sce@example.com>",
        "rsa2048",
        "cert,sign,encr",
        None,
    );
    round_trip(&gpg, &fpr);
}

#[test]
fn a_gnupg_signing_only_key_is_refused() {
    let Some(gpg) = Gpg::new("a_gnupg_signing_only_key_is_refused") else {
        return;
    };
    // The primary key alone, flagged for signing and certifying.
    let fpr = gpg.make_key("Sign Test <sign@example.com>", "rsa3072", "default", None);
    let binary = gpg.ok(&["--export", &fpr]);
    let err = PublicKey::from_binary(&binary).unwrap_err();
    assert!(err.to_string().contains("no encryption key"), "{err}");
}
