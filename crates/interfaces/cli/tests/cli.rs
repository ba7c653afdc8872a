//! The real `coffer` binary against a real server: kv, policies, tokens,
//! login and the token helper file, secrets, status exit codes, operator
//! init/unseal, Vault-style single-dash flags and `-format=json`.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{ServerProcess, coffer_bin};

const ROOT: &str = "cli-root-token";

struct Cli<'a> {
    addr: &'a str,
    home: &'a Path,
    token: Option<&'a str>,
}

impl Cli<'_> {
    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(coffer_bin());
        cmd.args(args)
            .env("HOME", self.home)
            .env("VAULT_ADDR", self.addr)
            .env_remove("VAULT_TOKEN")
            .env_remove("COFFER_TOKEN")
            .env_remove("COFFER_ADDR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = self.token {
            cmd.env("VAULT_TOKEN", t);
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    /// Runs and asserts exit 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "coffer {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args))
            .unwrap_or_else(|e| panic!("coffer {args:?}: not JSON: {e}"))
    }
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn kv_policy_token_and_login_flows() {
    let home = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &[
            "-dev",
            "-dev-listen-address=127.0.0.1:0",
            &format!("-dev-root-token-id={ROOT}"),
        ],
        home.path(),
        false,
    );
    let cli = Cli {
        addr: &server.addr,
        home: home.path(),
        token: Some(ROOT),
    };

    // kv put / get in both path forms and output formats.
    cli.ok(&["kv", "put", "secret/app", "password=hunter2", "user=app"]);
    let table = cli.ok(&["kv", "get", "secret/app"]);
    assert!(
        table.contains("password") && table.contains("hunter2"),
        "{table}"
    );
    assert_eq!(
        cli.ok(&["kv", "get", "-field=password", "secret/app"])
            .trim(),
        "hunter2"
    );
    assert_eq!(
        cli.ok(&["kv", "get", "-mount=secret", "-field", "user", "app"])
            .trim(),
        "app"
    );
    let json = cli.json(&["kv", "get", "-format=json", "secret/app"]);
    assert_eq!(json["data"]["data"]["password"], "hunter2");
    let json = cli.json(&["kv", "get", "--format", "json", "-version=1", "secret/app"]);
    assert_eq!(json["data"]["metadata"]["version"], 1);
    cli.ok(&["kv", "patch", "secret/app", "user=changed"]);
    assert_eq!(
        cli.ok(&["kv", "get", "-field=user", "secret/app"]).trim(),
        "changed"
    );
    assert!(cli.ok(&["kv", "list", "secret/"]).contains("app"));
    cli.ok(&["kv", "metadata", "put", "-max-versions=3", "secret/app"]);
    assert_eq!(
        cli.json(&["kv", "metadata", "get", "-format=json", "secret/app"])["data"]["max_versions"],
        3
    );
    cli.ok(&["kv", "delete", "secret/app"]);
    cli.ok(&["kv", "undelete", "-versions=2", "secret/app"]);
    cli.ok(&["kv", "destroy", "-versions=1", "secret/app"]);

    // Missing secret: exit 2; bad usage: exit 1.
    assert_eq!(code(&cli.run(&["kv", "get", "secret/missing"])), Some(2));
    assert_eq!(code(&cli.run(&["no-such-command"])), Some(1));
    assert_eq!(
        code(&cli.run(&["kv", "put", "secret/x", "notakeyvalue"])),
        Some(1)
    );

    // KV v1 and generic commands.
    cli.ok(&["secrets", "enable", "-path=kv1", "kv"]);
    assert!(cli.ok(&["secrets", "list"]).contains("kv1/"));
    cli.ok(&["write", "kv1/db", "pw=s3cret"]);
    assert_eq!(cli.ok(&["read", "-field=pw", "kv1/db"]).trim(), "s3cret");
    cli.ok(&["kv", "put", "kv1/other", "a=b"]);
    assert_eq!(cli.ok(&["kv", "get", "-field=a", "kv1/other"]).trim(), "b");
    assert!(cli.ok(&["list", "kv1/"]).contains("db"));
    cli.ok(&["delete", "kv1/db"]);
    cli.ok(&["secrets", "tune", "-max-lease-ttl=2h", "kv1/"]);
    cli.ok(&["secrets", "disable", "kv1/"]);

    // Policies from stdin; a token with that policy; capabilities.
    let policy = "path \"secret/data/team/*\" {\n  capabilities = [\"read\", \"create\"]\n}\n";
    let out = cli.run_with_stdin(&["policy", "write", "team", "-"], Some(policy));
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cli.ok(&["policy", "list"]).contains("team"));
    assert!(
        cli.ok(&["policy", "read", "team"])
            .contains("secret/data/team/*")
    );
    let created = cli.json(&["token", "create", "-policy=team", "-ttl=1h", "-format=json"]);
    let team_token = created["auth"]["client_token"].as_str().unwrap().to_owned();
    let caps = cli.ok(&["token", "capabilities", &team_token, "secret/data/team/x"]);
    assert!(caps.contains("create") && caps.contains("read"), "{caps}");
    let looked = cli.json(&["token", "lookup", "-format=json", &team_token]);
    assert_eq!(
        looked["data"]["policies"],
        serde_json::json!(["default", "team"])
    );

    let renewed = cli.json(&[
        "token",
        "renew",
        "-increment=30m",
        "-format=json",
        &team_token,
    ]);
    assert_eq!(renewed["auth"]["lease_duration"], 1800);
    assert!(cli.ok(&["auth", "list"]).contains("token/"));
    assert_eq!(
        code(&cli.run(&["auth", "enable", "no-such-method"])),
        Some(2)
    );

    // login stores the token (mode 0600) and later commands use it.
    let anon = Cli {
        addr: &server.addr,
        home: home.path(),
        token: None,
    };
    anon.ok(&["login", &team_token]);
    let helper = home.path().join(".vault-token");
    assert_eq!(std::fs::read_to_string(&helper).unwrap().trim(), team_token);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&helper).unwrap().permissions().mode() & 0o777,
        0o600
    );
    anon.ok(&["kv", "put", "secret/team/svc", "k=v"]);
    assert_eq!(
        code(&anon.run(&["kv", "get", "secret/app"])),
        Some(2),
        "policy denies other paths"
    );
    assert_eq!(code(&anon.run(&["login", "not-a-token"])), Some(2));
    cli.ok(&["token", "revoke", &team_token]);
    assert_eq!(code(&anon.run(&["kv", "get", "secret/team/svc"])), Some(2));

    // Scheduled rotations: none yet; running an unknown one is a server error.
    assert!(
        cli.ok(&["rotation", "list"])
            .contains("No scheduled rotations")
    );
    assert!(cli.json(&["rotation", "list", "-format=json"])["keys"].is_array());
    assert_eq!(
        code(&cli.run(&["rotation", "run", "database/static-roles/none"])),
        Some(2)
    );

    // status: 0 unsealed, 2 sealed.
    assert_eq!(code(&cli.run(&["status"])), Some(0));
    cli.ok(&["operator", "seal"]);
    assert_eq!(code(&cli.run(&["status"])), Some(2));
    let out = server.kill();
    assert!(!out.contains("hunter2"), "secret value in server output");
}

#[test]
fn operator_init_unseal_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::write_config(dir.path(), None);
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        false,
    );
    let anon = Cli {
        addr: &server.addr,
        home: dir.path(),
        token: None,
    };
    assert_eq!(code(&anon.run(&["status"])), Some(2));
    let init = anon.json(&[
        "operator",
        "init",
        "-key-shares=3",
        "-key-threshold=2",
        "-format=json",
    ]);
    let keys: Vec<String> = init["unseal_keys_b64"]
        .as_array()
        .or(init["keys_base64"].as_array())
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let root = init["root_token"].as_str().unwrap().to_owned();
    anon.ok(&["operator", "unseal", &keys[0]]);
    assert_eq!(
        code(&anon.run(&["status"])),
        Some(2),
        "still sealed after one of two keys"
    );
    let out = anon.run_with_stdin(&["operator", "unseal", "-"], Some(&keys[2]));
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code(&anon.run(&["status"])), Some(0));
    let cli = Cli {
        addr: &server.addr,
        home: dir.path(),
        token: Some(&root),
    };
    assert!(cli.ok(&["operator", "key-status"]).contains('1'));
    cli.ok(&["operator", "rotate"]);
    let status = cli.json(&["operator", "key-status", "-format=json"]);
    let term = status["data"]["term"]
        .as_u64()
        .or(status["term"].as_u64())
        .unwrap();
    assert_eq!(term, 2);
    cli.ok(&["secrets", "enable", "-version=2", "-path=secret", "kv"]);
    cli.ok(&["kv", "put", "secret/a", "b=c"]);
    assert_eq!(cli.ok(&["kv", "get", "-field=b", "secret/a"]).trim(), "c");

    // Cancelling through the CLI sends the operation's nonce (the server
    // refuses a cancel without it).
    anon.json(&["operator", "generate-root", "-init", "-format=json"]);
    anon.ok(&["operator", "generate-root", "-cancel"]);
    let status = anon.json(&["operator", "generate-root", "-status", "-format=json"]);
    assert_eq!(status["started"], false, "{status}");
    anon.json(&[
        "operator",
        "rekey",
        "-init",
        "-key-shares=3",
        "-key-threshold=2",
        "-format=json",
    ]);
    anon.ok(&["operator", "rekey", "-cancel"]);
    let status = anon.json(&["operator", "rekey", "-status", "-format=json"]);
    assert_eq!(status["started"], false, "{status}");

    // generate-root through the CLI: init, two shares, decode with the OTP.
    let attempt = anon.json(&["operator", "generate-root", "-init", "-format=json"]);
    let otp = attempt["otp"].as_str().unwrap().to_owned();
    let nonce = attempt["nonce"].as_str().unwrap().to_owned();
    let nonce_flag = format!("-nonce={nonce}");
    anon.json(&[
        "operator",
        "generate-root",
        &nonce_flag,
        "-format=json",
        &keys[0],
    ]);
    let done = anon.json(&[
        "operator",
        "generate-root",
        &nonce_flag,
        "-format=json",
        &keys[1],
    ]);
    assert_eq!(done["complete"], true);
    let encoded = done["encoded_token"].as_str().unwrap().to_owned();
    let new_root = anon
        .ok(&[
            "operator",
            "generate-root",
            &format!("-decode={encoded}"),
            &format!("-otp={otp}"),
        ])
        .trim()
        .to_owned();
    assert!(new_root.starts_with("hvs.") && new_root != root);
    let as_new_root = Cli {
        addr: &server.addr,
        home: dir.path(),
        token: Some(&new_root),
    };
    assert_eq!(
        as_new_root.json(&["token", "lookup", "-format=json"])["data"]["policies"],
        serde_json::json!(["root"])
    );

    // The same with an OTP the operator chose (`-init -otp=`), as Vault's
    // CLI and server allow: exactly otp_length (28) bytes.
    let out = anon.run(&["operator", "generate-root", &keys[0]]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(1), "{err}");
    assert!(
        err.contains("No root generation is in progress") && err.contains("28 characters"),
        "{err}"
    );
    let out = anon.run(&["operator", "generate-root", "-init", "-otp=short"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(2), "{err}");
    assert!(err.contains("OTP string is wrong length"), "{err}");
    let my_otp = "MyOwnOneTimePassword12345678";
    assert_eq!(my_otp.len(), 28);
    let otp_flag = format!("-otp={my_otp}");
    let out = anon.run(&[
        "operator",
        "generate-root",
        "-init",
        &otp_flag,
        "-pgp-key=abc",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(1), "{err}");
    assert!(
        err.contains("cannot specify both -otp and -pgp-key"),
        "{err}"
    );
    let attempt = anon.json(&[
        "operator",
        "generate-root",
        "-init",
        &otp_flag,
        "-format=json",
    ]);
    assert_eq!(attempt["started"], true, "{attempt}");
    assert_eq!(attempt["otp"], "", "a chosen OTP is not echoed: {attempt}");
    let nonce_flag = format!("-nonce={}", attempt["nonce"].as_str().unwrap());
    anon.json(&[
        "operator",
        "generate-root",
        &nonce_flag,
        "-format=json",
        &keys[0],
    ]);
    let done = anon.json(&[
        "operator",
        "generate-root",
        &nonce_flag,
        "-format=json",
        &keys[1],
    ]);
    assert_eq!(done["complete"], true, "{done}");
    let decode_flag = format!("-decode={}", done["encoded_root_token"].as_str().unwrap());
    let decoded = anon.json(&[
        "operator",
        "generate-root",
        &decode_flag,
        &otp_flag,
        "-format=json",
    ]);
    let chosen_root = decoded["token"].as_str().unwrap();
    assert!(
        chosen_root.starts_with("hvs.") && chosen_root != new_root,
        "{decoded}"
    );
    let as_chosen_root = Cli {
        addr: &server.addr,
        home: dir.path(),
        token: Some(chosen_root),
    };
    assert_eq!(
        as_chosen_root.json(&["token", "lookup", "-format=json"])["data"]["policies"],
        serde_json::json!(["root"])
    );
    let out = anon.run(&["operator", "generate-root", &decode_flag]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(1), "{err}");
    assert!(err.contains("Missing otp: use -otp to supply it"), "{err}");

    // rekey through the CLI, then seal and unseal with the new shares.
    let started = anon.json(&[
        "operator",
        "rekey",
        "-init",
        "-key-shares=3",
        "-key-threshold=2",
        "-format=json",
    ]);
    let rekey_nonce = format!("-nonce={}", started["nonce"].as_str().unwrap());
    anon.json(&["operator", "rekey", &rekey_nonce, "-format=json", &keys[1]]);
    let rekeyed = anon.json(&["operator", "rekey", &rekey_nonce, "-format=json", &keys[2]]);
    let new_keys: Vec<String> = rekeyed["keys_base64"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys_base64 in {rekeyed}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new_keys.len(), 3);
    cli.ok(&["operator", "seal"]);
    anon.ok(&["operator", "unseal", &new_keys[2]]);
    anon.ok(&["operator", "unseal", &new_keys[0]]);
    assert_eq!(code(&anon.run(&["status"])), Some(0));
    assert_eq!(cli.ok(&["kv", "get", "-field=b", "secret/a"]).trim(), "c");
}
