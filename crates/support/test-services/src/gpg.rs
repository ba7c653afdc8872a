//! A throwaway GnuPG home for the tests that check Coffer's OpenPGP
//! messages against `gpg` itself (the crypto crate's and the CLI's
//! end-to-end tests): keys are made by `gpg`, and what Coffer encrypts must
//! come back from `gpg --decrypt`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::pg_tools::random_alphanumeric;

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A GnuPG home of its own (mode 0700), removed with its agent stopped on
/// drop.
pub struct Gpg {
    home: PathBuf,
}

impl Gpg {
    /// A fresh home, or `None` (the test is skipped, or fails under
    /// `COFFER_REQUIRE_SERVICES=1`) when `gpg` is not installed.
    pub fn new(test: &str) -> Option<Self> {
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
        crate::require_environment(test, found)?;
        let home = std::env::temp_dir().join(format!(
            "coffer-gpg-{}-{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed),
            random_alphanumeric(8).expect("random name")
        ));
        fs::create_dir(&home).expect("a GnuPG home");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).expect("mode 0700");
        }
        Some(Self { home })
    }

    /// The home directory (`GNUPGHOME`).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Runs `gpg` in batch mode with an empty passphrase.
    pub fn run(&self, args: &[&str]) -> Output {
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
            .expect("gpg runs")
    }

    /// [`Gpg::run`] that must succeed; its standard output.
    ///
    /// # Panics
    /// When `gpg` fails (with its error output).
    pub fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Makes a key for `uid` with `algo` and `usage` (as
    /// `--quick-gen-key` takes them), plus an encryption subkey of
    /// `subkey` when given; returns the primary fingerprint (lower case).
    pub fn make_key(&self, uid: &str, algo: &str, usage: &str, subkey: Option<&str>) -> String {
        self.ok(&["--quick-gen-key", uid, algo, usage, "never"]);
        let listing = String::from_utf8(self.ok(&["--with-colons", "--list-keys", uid]))
            .expect("gpg lists in UTF-8");
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

    /// What `gpg --decrypt` makes of `message` (binary OpenPGP).
    pub fn decrypt(&self, message: &[u8]) -> Output {
        let path = self.home().join("message.gpg");
        fs::write(&path, message).expect("message written");
        self.run(&["--decrypt", path.to_str().expect("a UTF-8 path")])
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
        let _ = fs::remove_dir_all(&self.home);
    }
}
