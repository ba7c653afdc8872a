//! End to end with keys made by GnuPG (issue 13): `coffer operator init
//! -pgp-keys=... -root-token-pgp-key=...` against the real binary hands out
//! shares and a root token that only `gpg --decrypt` can read, and what gpg
//! decrypts unseals the server and is a working root token; a rekey with
//! `pgp_keys` and `backup` returns encrypted shares with their
//! fingerprints, keeps them for `sys/rekey/backup` (read and delete, by the
//! API and by `operator rekey -backup-retrieve/-backup-delete`), and the
//! decrypted new shares unseal; `generate-root` with a PGP key gives an
//! encoded token gpg turns into a root token. Bad keys are 400s with
//! Vault's texts and change nothing. Without `gpg` the test skips, except
//! under `COFFER_REQUIRE_SERVICES=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use coffer_test_services::Gpg;
use serde_json::{Value, json};
use support::{Api, ServerProcess, coffer_bin, unseal, write_config};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A key for `uid` (primary `algo` for signing, encryption subkey
/// `subkey`); its fingerprint in lower case.
fn make_key(gpg: &Gpg, uid: &str, algo: &str, subkey: &str) -> String {
    gpg.make_key(uid, algo, "sign,cert", Some(subkey))
}

/// The plaintext of a base64-encoded OpenPGP message.
fn decrypt_b64(gpg: &Gpg, b64: &str) -> String {
    let out = gpg.decrypt(&B64.decode(b64).expect("base64 message"));
    assert!(
        out.status.success(),
        "gpg --decrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the `coffer` CLI against `addr`.
fn cli(addr: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(coffer_bin());
    cmd.args(args)
        .env("VAULT_ADDR", addr)
        .env_remove("VAULT_TOKEN")
        .env("HOME", std::env::temp_dir());
    if let Some(t) = token {
        cmd.env("VAULT_TOKEN", t);
    }
    cmd.output().unwrap()
}

fn cli_json(addr: &str, token: Option<&str>, args: &[&str]) -> Value {
    let out = cli(addr, token, args);
    assert!(
        out.status.success(),
        "coffer {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "coffer {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn error_text(body: &Value) -> String {
    body["errors"][0].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgp_init_rekey_backup_and_generate_root_with_gnupg_keys() {
    let Some(gpg) = Gpg::new("pgp_init_rekey_backup_and_generate_root_with_gnupg_keys") else {
        return;
    };
    let fp1 = make_key(&gpg, "One <one@example.com>", "rsa3072", "rsa3072");
    let fp2 = make_key(&gpg, "Two <two@example.com>", "ed25519", "cv25519");
    let fp3 = make_key(&gpg, "Three <three@example.com>", "rsa2048", "rsa2048");
    let fps = [fp1.clone(), fp2.clone(), fp3.clone()];
    let binary: Vec<Vec<u8>> = fps.iter().map(|f| gpg.ok(&["--export", f])).collect();
    let b64: Vec<String> = binary.iter().map(|b| B64.encode(b)).collect();

    // The three forms Vault's CLI reads: armored, binary, base64 text.
    let dir = tempfile::tempdir().unwrap();
    let files = [
        write(
            dir.path(),
            "one.asc",
            &gpg.ok(&["--armor", "--export", &fp1]),
        ),
        write(dir.path(), "two.gpg", &binary[1]),
        write(dir.path(), "three.b64", format!("{}\n", b64[2]).as_bytes()),
    ];
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();

    let config = write_config(dir.path(), None);
    let config_arg = format!("-config={}", config.display());
    let server = ServerProcess::start(&[&config_arg], dir.path(), false);
    let mut api = Api::new(&server.addr, None);

    // Bad keys are Vault's 400s and leave the server uninitialised.
    for (body, expected) in [
        (
            json!({"secret_shares": 3, "secret_threshold": 2, "pgp_keys": [b64[0], b64[1]]}),
            "invalid seal configuration: count mismatch between number of provided PGP keys and number of shares".to_owned(),
        ),
        (
            json!({"secret_shares": 1, "secret_threshold": 1, "pgp_keys": ["not*base64"]}),
            "invalid seal configuration: error decoding given PGP key: illegal base64 data at input byte 3".to_owned(),
        ),
        (
            json!({"secret_shares": 1, "secret_threshold": 1, "root_token_pgp_key": B64.encode(b"\x99\x00\x01")}),
            "error parsing given PGP key: malformed OpenPGP key: truncated packet".to_owned(),
        ),
    ] {
        let (status, answer) = api.put("sys/init", body).await;
        assert_eq!((status, error_text(&answer)), (400, expected));
    }
    assert_eq!(api.get("sys/init").await.1["initialized"], false);

    // Init through the CLI, reading the key files.
    let pgp_keys = format!("-pgp-keys={}", paths.join(","));
    let root_key = format!("-root-token-pgp-key={}", paths[0]);
    let init = cli_json(
        &server.addr,
        None,
        &[
            "operator",
            "init",
            "-key-shares=3",
            "-key-threshold=2",
            &pgp_keys,
            &root_key,
            "-format=json",
        ],
    );
    let encrypted = strings(&init["unseal_keys_b64"]);
    assert_eq!(encrypted.len(), 3);
    let hex_forms = strings(&init["unseal_keys_hex"]);
    for (h, b) in hex_forms.iter().zip(&encrypted) {
        assert_eq!(hex::decode(h).unwrap(), B64.decode(b).unwrap());
    }
    // Each share is the hex of a 33-byte share, readable only by its key.
    let shares: Vec<String> = encrypted.iter().map(|m| decrypt_b64(&gpg, m)).collect();
    for s in &shares {
        assert_eq!(s.len(), 66, "hex of a 33-byte share: {s}");
        assert!(hex::decode(s).is_ok());
    }
    let root_encrypted = init["root_token"].as_str().unwrap().to_owned();
    assert!(!root_encrypted.starts_with("hvs."));
    let root = decrypt_b64(&gpg, &root_encrypted);
    assert!(root.starts_with("hvs.") && root.len() == 28, "{root}");

    // The decrypted shares unseal; the decrypted token is root.
    let status = unseal(&api, &[&shares[2], &shares[0]]).await;
    assert_eq!(status["sealed"], false, "{status}");
    api.token = Some(root.clone());
    let (status, me) = api.get("auth/token/lookup-self").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["policies"], json!(["root"]));

    // Rekey to the second and third keys, with a backup.
    let (status, answer) = api
        .put(
            "sys/rekey/init",
            json!({"secret_shares": 2, "secret_threshold": 2, "backup": true, "pgp_keys": [b64[0]]}),
        )
        .await;
    assert_eq!(
        (status, error_text(&answer)),
        (400, "incorrect number of PGP keys for rekey".to_owned())
    );
    let (status, answer) = api
        .put(
            "sys/rekey/init",
            json!({"secret_shares": 1, "secret_threshold": 1, "backup": true}),
        )
        .await;
    assert_eq!(
        (status, error_text(&answer)),
        (
            400,
            "cannot request a backup of the new keys without providing PGP keys for encryption"
                .to_owned()
        )
    );
    let (status, started) = api
        .put(
            "sys/rekey/init",
            json!({"secret_shares": 2, "secret_threshold": 2, "backup": true,
                   "pgp_keys": [b64[1], b64[2]]}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["pgp_fingerprints"], json!([fp2, fp3]));
    assert_eq!(started["backup"], true);
    let (_, read) = api.get("sys/rekey/init").await;
    assert_eq!(read["pgp_fingerprints"], json!([fp2, fp3]));
    let nonce = started["nonce"].as_str().unwrap().to_owned();
    let mut done = Value::Null;
    for share in [&shares[1], &shares[2]] {
        let (status, body) = api
            .put("sys/rekey/update", json!({"nonce": nonce, "key": share}))
            .await;
        assert_eq!(status, 200, "{body}");
        done = body;
    }
    assert_eq!(done["complete"], true, "{done}");
    assert_eq!(done["backup"], true);
    assert_eq!(done["pgp_fingerprints"], json!([fp2, fp3]));
    let new_hex = strings(&done["keys"]);
    let new_b64 = strings(&done["keys_base64"]);
    let new_shares: Vec<String> = new_b64.iter().map(|m| decrypt_b64(&gpg, m)).collect();

    // The backup: the rekey's nonce and each fingerprint's encrypted share.
    let (status, backup) = api.get("sys/rekey/backup").await;
    assert_eq!(status, 200, "{backup}");
    assert_eq!(backup["data"]["nonce"], json!(nonce));
    assert_eq!(
        backup["data"]["keys"],
        json!({ fp2.clone(): [new_hex[0]], fp3.clone(): [new_hex[1]] })
    );
    assert_eq!(
        backup["data"]["keys_base64"],
        json!({ fp2.clone(): [new_b64[0]], fp3.clone(): [new_b64[1]] })
    );
    // An authenticated path: no token, no backup.
    api.token = None;
    assert_eq!(api.get("sys/rekey/backup").await.0, 403);
    api.token = Some(root.clone());

    // The CLI reads it (Vault's field names) and deletes it.
    let retrieved = cli_json(
        &server.addr,
        Some(&root),
        &["operator", "rekey", "-backup-retrieve", "-format=json"],
    );
    assert_eq!(retrieved["data"]["Nonce"], json!(nonce));
    assert_eq!(retrieved["data"]["Keys"], backup["data"]["keys"]);
    assert_eq!(retrieved["data"]["KeysB64"], backup["data"]["keys_base64"]);
    let out = cli(
        &server.addr,
        Some(&root),
        &["operator", "rekey", "-backup-delete"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Success!"));
    let (status, gone) = api.get("sys/rekey/backup").await;
    assert_eq!(
        (status, error_text(&gone)),
        (400, "no backed-up keys found".to_owned())
    );

    // The decrypted new shares unseal; the old ones no longer do.
    assert_eq!(api.put("sys/seal", json!({})).await.0, 204);
    unseal(&api, &[&shares[0]]).await;
    let (status, refused) = api.put("sys/unseal", json!({"key": shares[1]})).await;
    assert_eq!(
        status, 400,
        "old shares no longer open the barrier: {refused}"
    );
    let status = unseal(&api, &[&new_shares[0], &new_shares[1]]).await;
    assert_eq!(status["sealed"], false, "{status}");

    // generate-root with a PGP key: bad keys first, then the CLI with a file.
    let (status, answer) = api
        .put("sys/generate-root/attempt", json!({"pgp_key": "@@@@"}))
        .await;
    assert_eq!(
        (status, error_text(&answer)),
        (
            400,
            "error parsing PGP key: error decoding given PGP key: illegal base64 data at input byte 0"
                .to_owned()
        )
    );
    let pgp_key = format!("-pgp-key={}", paths[1]);
    let attempt = cli_json(
        &server.addr,
        None,
        &[
            "operator",
            "generate-root",
            "-init",
            &pgp_key,
            "-format=json",
        ],
    );
    assert_eq!(attempt["pgp_fingerprint"], json!(fp2), "{attempt}");
    assert_eq!(attempt["otp"], "");
    let nonce = attempt["nonce"].as_str().unwrap().to_owned();
    let mut done = Value::Null;
    for share in &new_shares {
        let (status, body) = api
            .put(
                "sys/generate-root/update",
                json!({"nonce": nonce, "key": share}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        done = body;
    }
    assert_eq!(done["complete"], true, "{done}");
    assert_eq!(done["pgp_fingerprint"], json!(fp2));
    let encoded = done["encoded_root_token"].as_str().unwrap();
    assert_eq!(done["encoded_token"], json!(encoded));
    let new_root = decrypt_b64(&gpg, encoded);
    assert_ne!(new_root, root);
    api.token = Some(new_root);
    let (status, me) = api.get("auth/token/lookup-self").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["policies"], json!(["root"]));
}
