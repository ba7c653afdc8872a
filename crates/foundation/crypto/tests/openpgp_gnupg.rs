//! OpenPGP messages from `coffer_crypto::openpgp` decrypted by GnuPG: keys
//! are made by `gpg` in a throwaway `GNUPGHOME` (RSA with an encryption
//! subkey, Ed25519 with a Curve25519 subkey, RSA encrypting with its primary
//! key), exported as Vault takes them (base64 of the binary export) and as
//! ASCII armor, and what Coffer encrypts to them must come back byte for
//! byte from `gpg --decrypt`, with the fingerprint `gpg` prints. Without
//! `gpg` the tests skip, except under `COFFER_REQUIRE_SERVICES=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use coffer_crypto::openpgp::PublicKey;

/// A GnuPG home of its own, removed (and its agent stopped) on drop.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    /// A fresh home, or `None` (skipped) when `gpg` is not installed.
    fn new(test: &str) -> Option<Self> {
        let found = Command::new("gpg")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("gpg not found ({e}); install gnupg"))
            .and_then(|s| {
                s.success()
                    .then_some(())
                    .ok_or_else(|| "gpg --version failed".to_owned())
            });
        coffer_test_services::require_environment(test, found)?;
        let home = tempfile::Builder::new()
            .prefix("coffer-gpg")
            .tempdir()
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Some(Self { home })
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("gpg")
            .env("GNUPGHOME", self.home())
            .args([
                "--batch",
                "--no-tty",
                "--quiet",
                "--passphrase",
                "",
                "--pinentry-mode",
                "loopback",
            ])
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Makes a key for `uid` with `algo`/`usage`, plus an encryption subkey
    /// of `subkey` when given; returns the primary fingerprint (lower case).
    fn make_key(&self, uid: &str, algo: &str, usage: &str, subkey: Option<&str>) -> String {
        self.ok(&["--quick-gen-key", uid, algo, usage, "never"]);
        let listing = String::from_utf8(self.ok(&["--with-colons", "--list-keys", uid])).unwrap();
        let fpr = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| f.len() == 40))
            .expect("a fingerprint")
            .to_ascii_lowercase();
        if let Some(sub) = subkey {
            self.ok(&["--quick-add-key", &fpr, sub, "encr", "never"]);
        }
        fpr
    }

    /// What `gpg --decrypt` makes of `message`.
    fn decrypt(&self, message: &[u8]) -> Output {
        let path: PathBuf = self.home().join("message.gpg");
        std::fs::write(&path, message).unwrap();
        self.run(&["--decrypt", path.to_str().unwrap()])
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home())
            .args(["--kill", "gpg-agent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

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
