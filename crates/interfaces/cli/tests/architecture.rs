//! DESIGN.md's dependency rules, checked with `cargo metadata` so they stay true:
//! engines and auth methods never reach into the core, HTTP or a physical
//! backend; the storage trait crate knows no backend; only `coffer-crypto`
//! imports cryptographic primitives; `anyhow` only in the binaries; and every
//! crate root forbids `unsafe`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates that implement cryptographic primitives.
const PRIMITIVES: &[&str] = &[
    "aws-lc-rs",
    "ring",
    "sha2",
    "sha1",
    "hmac",
    "hkdf",
    "aes-gcm",
    "chacha20poly1305",
    "vsss-rs",
    "argon2",
    "ed25519-dalek",
    "p256",
    "rsa",
    "rand",
    "rand_core",
    "getrandom",
    "subtle",
];

struct Package {
    name: String,
    dir: PathBuf,
    /// (dependency name, kind) with kind "normal", "dev" or "build".
    deps: Vec<(String, String)>,
}

fn workspace() -> Vec<Package> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Package {
            name: p["name"].as_str().unwrap().to_owned(),
            dir: Path::new(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_owned(),
            deps: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["name"].as_str().unwrap().to_owned(),
                        d["kind"].as_str().unwrap_or("normal").to_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn normal_deps(p: &Package) -> impl Iterator<Item = &str> {
    p.deps
        .iter()
        .filter(|(_, k)| k == "normal")
        .map(|(n, _)| n.as_str())
}

#[test]
fn engines_and_auth_methods_see_only_sdk_and_types() {
    let packages = workspace();
    let plugins: Vec<&Package> = packages
        .iter()
        .filter(|p| {
            let d = p.dir.to_string_lossy();
            d.contains("/crates/engines/") || d.contains("/crates/auth/")
        })
        .collect();
    assert!(!plugins.is_empty(), "no engine crates found");
    for p in plugins {
        for dep in normal_deps(p) {
            let forbidden = [
                "coffer-core",
                "coffer-http",
                "coffer-barrier",
                "coffer-tokens",
            ]
            .contains(&dep)
                || dep.starts_with("coffer-storage-");
            assert!(!forbidden, "{} depends on {dep}", p.name);
        }
    }
}

#[test]
fn storage_trait_crate_knows_no_backend() {
    let packages = workspace();
    let storage = packages
        .iter()
        .find(|p| p.name == "coffer-storage")
        .unwrap();
    assert!(
        storage
            .deps
            .iter()
            .all(|(d, _)| !d.starts_with("coffer-storage-"))
    );
    for backend in packages
        .iter()
        .filter(|p| p.name.starts_with("coffer-storage-"))
    {
        assert!(
            normal_deps(backend).any(|d| d == "coffer-storage"),
            "{} must implement coffer-storage",
            backend.name
        );
    }
}

#[test]
fn only_the_crypto_crate_imports_primitives() {
    for p in workspace() {
        if p.name == "coffer-crypto" {
            continue;
        }
        for dep in normal_deps(&p) {
            assert!(
                !PRIMITIVES.contains(&dep),
                "{} imports the primitive crate {dep}; use coffer-crypto",
                p.name
            );
        }
    }
}

#[test]
fn anyhow_only_in_the_binary() {
    for p in workspace() {
        // The two binaries: the server/CLI and the load benchmark.
        if p.name == "coffer" || p.name == "coffer-bench" {
            continue;
        }
        assert!(
            normal_deps(&p).all(|d| d != "anyhow"),
            "library {} uses anyhow",
            p.name
        );
    }
}

#[test]
fn every_crate_root_forbids_unsafe() {
    for p in workspace() {
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| p.dir.join(f))
            .find(|f| f.exists())
            .unwrap_or_else(|| panic!("{} has no crate root", p.name));
        let text = std::fs::read_to_string(&root).unwrap();
        assert!(
            text.contains("#![forbid(unsafe_code)]"),
            "{} does not forbid unsafe",
            root.display()
        );
    }
}
