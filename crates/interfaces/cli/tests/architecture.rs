//! DESIGN.md's dependency rules, checked with `cargo metadata` so they stay true:
//! the layer folders under `crates/` point downwards; the core depends on no
//! engine (the builtins catalog names them); engines and auth methods reach
//! the services only through the sdk and never reach into the core, HTTP or a
//! physical backend; the storage trait crate knows no backend; only
//! `coffer-crypto` imports cryptographic primitives; `anyhow` only in the
//! binaries; and every crate root forbids `unsafe`.

use std::collections::HashMap;

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

/// The layer folders under `crates/`, lowest first: a crate's normal
/// dependencies on workspace crates come from its own layer or below.
/// `support` (test services, the load benchmark) is the top, so no crate
/// below it can have a normal dependency on it: it is only ever a
/// dev-dependency, or used by the bench binary that lives there.
const LAYERS: &[(&str, u8)] = &[
    ("foundation", 0),
    ("storage", 1),
    ("sdk", 2),
    ("services", 3),
    ("core", 4),
    ("engines", 5),
    ("auth", 5),
    ("builtins", 6),
    ("interfaces", 7),
    ("support", 8),
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

/// The folder under `crates/` a package lives in (`engines` for
/// `crates/engines/database/plugins/postgres`), and the path below it.
fn layer_of(p: &Package) -> (String, PathBuf) {
    let parts: Vec<String> = p
        .dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let crates = parts
        .iter()
        .rposition(|c| c == "crates")
        .unwrap_or_else(|| panic!("{} is not under crates/", p.dir.display()));
    let layer = parts
        .get(crates + 1)
        .unwrap_or_else(|| panic!("{} has no layer folder", p.dir.display()));
    (layer.clone(), parts[crates + 1..].iter().collect())
}

fn rank(p: &Package) -> u8 {
    let (layer, _) = layer_of(p);
    LAYERS
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("{} is in crates/{layer}/, not a known layer", p.name))
}

/// The workspace's packages by name.
fn by_name(packages: &[Package]) -> HashMap<&str, &Package> {
    packages.iter().map(|p| (p.name.as_str(), p)).collect()
}

/// Every layer violation among `packages`: a normal or build dependency on a
/// workspace crate of a higher layer.
fn layer_violations(packages: &[Package]) -> Vec<String> {
    let names = by_name(packages);
    let mut found = Vec::new();
    for p in packages {
        for (dep, kind) in &p.deps {
            if kind == "dev" {
                continue;
            }
            if let Some(d) = names.get(dep.as_str())
                && rank(d) > rank(p)
            {
                found.push(format!(
                    "{} (crates/{}, layer {}) depends on {} (crates/{}, layer {})",
                    p.name,
                    layer_of(p).0,
                    rank(p),
                    d.name,
                    layer_of(d).0,
                    rank(d)
                ));
            }
        }
    }
    found
}

#[test]
fn layers_point_downwards() {
    let packages = workspace();
    assert!(
        packages.iter().any(|p| layer_of(p).0 == "builtins"),
        "the builtins crate is missing"
    );
    let violations = layer_violations(&packages);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_layer_check_catches_an_upward_dependency() {
    // The check itself must fail on a violation: a service that uses the
    // core, and a foundation crate that uses the test services.
    let mut packages = workspace();
    for p in &mut packages {
        if p.name == "coffer-tokens" {
            p.deps.push(("coffer-core".into(), "normal".into()));
        }
        if p.name == "coffer-types" {
            p.deps.push(("coffer-test-services".into(), "build".into()));
            // A dev-dependency is allowed in any direction.
            p.deps.push(("coffer-bench".into(), "dev".into()));
        }
    }
    let violations = layer_violations(&packages);
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("coffer-tokens") || violations[1].contains("coffer-tokens"));
}

#[test]
fn core_depends_on_no_engine_auth_method_or_builtins() {
    let packages = workspace();
    let names = by_name(&packages);
    let core = names["coffer-core"];
    for dep in normal_deps(core) {
        if let Some(d) = names.get(dep) {
            let layer = layer_of(d).0;
            assert!(
                !["engines", "auth", "builtins"].contains(&layer.as_str()),
                "coffer-core depends on {dep} (crates/{layer}/): engines reach the core only \
                 through the catalog in CoreConfig"
            );
        }
    }
}

#[test]
fn engines_and_auth_methods_reach_services_only_through_the_sdk() {
    // What an engine or auth method may use from the workspace: the
    // foundation, the storage trait, the sdk, and crates in its own folder
    // (the database engine and its plugins). No service, no other engine.
    let packages = workspace();
    let names = by_name(&packages);
    for p in &packages {
        let (layer, path) = layer_of(p);
        if layer != "engines" && layer != "auth" {
            continue;
        }
        let home: PathBuf = path.iter().take(2).collect();
        for dep in normal_deps(p) {
            let Some(d) = names.get(dep) else { continue };
            let (dep_layer, dep_path) = layer_of(d);
            let allowed = match dep_layer.as_str() {
                "foundation" | "sdk" => true,
                "storage" => d.name == "coffer-storage",
                "engines" | "auth" => dep_path.starts_with(&home),
                _ => false,
            };
            assert!(
                allowed,
                "{} (crates/{}) depends on {dep} (crates/{})",
                p.name,
                path.display(),
                dep_path.display()
            );
        }
    }
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
