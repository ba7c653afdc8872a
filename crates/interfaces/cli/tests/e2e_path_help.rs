//! `coffer path-help` with the real binary against a real server: help for a
//! KV v2 path and a `sys/` path, `-format=json`, Vault's error for a path no
//! mount serves and for a path a mount does not declare, the sealed message,
//! and usage errors.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{ServerProcess, coffer_bin};

const ROOT: &str = "path-help-root";

fn run(addr: &str, home: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(coffer_bin());
    cmd.args(args)
        .env("HOME", home)
        .env("VAULT_ADDR", addr)
        .env_remove("VAULT_TOKEN")
        .env_remove("COFFER_TOKEN")
        .env_remove("COFFER_ADDR")
        .env_remove("VAULT_FORMAT")
        .env_remove("COFFER_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        cmd.env("VAULT_TOKEN", t);
    }
    cmd.output().expect("run coffer")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dev_server(home: &Path) -> ServerProcess {
    ServerProcess::start(
        &[
            "-dev",
            "-dev-listen-address=127.0.0.1:0",
            &format!("-dev-root-token-id={ROOT}"),
        ],
        home,
        false,
    )
}

#[test]
fn help_for_kv_v2_and_sys_paths() {
    let home = tempfile::tempdir().unwrap();
    let server = dev_server(home.path());
    let help = |args: &[&str]| {
        let out = run(&server.addr, home.path(), Some(ROOT), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "coffer {args:?}: {}",
            stderr(&out)
        );
        stdout(&out)
    };

    // A KV v2 data path: the matching declaration and its fields.
    let text = help(&["path-help", "secret/data/app"]);
    assert!(text.contains("data/app"), "{text}");
    assert!(
        text.contains("options"),
        "KV v2 data fields missing:\n{text}"
    );
    assert!(text.contains("data"), "{text}");
    // Leading and trailing slashes are dropped, as by Vault's sanitizePath.
    assert_eq!(help(&["path-help", "/secret/data/app/"]), text);

    // A sys path.
    let text = help(&["path-help", "sys/mounts"]);
    assert!(text.contains("mounts"), "{text}");

    // JSON: an object (the OpenAPI part when the server sends one, else the
    // help object), never the table text.
    let json = help(&["path-help", "-format=json", "secret/data/app"]);
    let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert!(value.is_object(), "{json}");
}

#[test]
fn unknown_paths_are_vaults_api_errors() {
    let home = tempfile::tempdir().unwrap();
    let server = dev_server(home.path());

    // No mount serves the path: the router's 404.
    let out = run(
        &server.addr,
        home.path(),
        Some(ROOT),
        &["path-help", "no-such-mount/x"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("Error retrieving help: Error making API request."),
        "{err}"
    );
    assert!(err.contains("/v1/no-such-mount/x?help=1"), "{err}");
    assert!(err.contains("Code: 404"), "{err}");
    assert!(err.contains("no handler for route"), "{err}");
    assert!(stdout(&out).is_empty());

    // A mount that declares no such path: the backend's 404 `unsupported path`.
    let out = run(
        &server.addr,
        home.path(),
        Some(ROOT),
        &["auth", "enable", "userpass"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(
        &server.addr,
        home.path(),
        Some(ROOT),
        &["path-help", "auth/userpass/no-such-endpoint"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Code: 404"), "{err}");
    assert!(err.contains("* unsupported path"), "{err}");
    // A declared path of the same mount answers.
    let out = run(
        &server.addr,
        home.path(),
        Some(ROOT),
        &["path-help", "auth/userpass/users/bob"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("users/bob"), "{}", stdout(&out));

    // Help needs a token, as in Vault: without one, the 403 is reported.
    // (A fresh HOME: the dev server left its root token in this one.)
    let tokenless = tempfile::tempdir().unwrap();
    let out = run(
        &server.addr,
        tokenless.path(),
        None,
        &["path-help", "secret/data/app"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("Code: 403"), "{}", stderr(&out));

    // Usage errors are local (exit 1) and reach no server.
    let out = run(&server.addr, home.path(), Some(ROOT), &["path-help"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(
        &server.addr,
        home.path(),
        Some(ROOT),
        &["path-help", "a", "b"],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_sealed_server_gets_vaults_message() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.hcl");
    std::fs::write(
        &config,
        "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n",
    )
    .unwrap();
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        home.path(),
        false,
    );
    let out = run(
        &server.addr,
        home.path(),
        Some("any-token"),
        &["path-help", "secret/data/app"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("Error: Vault is sealed."), "{err}");
    assert!(err.contains("requires the Vault to be unsealed"), "{err}");
}
