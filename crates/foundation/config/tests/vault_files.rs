//! Realistic Vault configuration files, HCL and JSON, read through `load`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coffer_config::{ConfigError, StorageConfig, load, parse_hcl, parse_json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn raft_with_tls_hcl() {
    let c = load(&fixture("raft-tls.hcl")).unwrap();
    assert_eq!(
        c.storage,
        StorageConfig::Redb {
            path: "/opt/vault/data/coffer.redb".into(),
            page_cache_mb: coffer_config::DEFAULT_REDB_PAGE_CACHE_MB,
        }
    );
    assert_eq!(c.listeners.len(), 1);
    let l = &c.listeners[0];
    assert_eq!(l.address, "127.0.0.1:8200");
    assert!(!l.tls_disable);
    assert_eq!(
        l.tls_cert_file.as_deref(),
        Some(Path::new("/opt/vault/tls/tls.crt"))
    );
    assert_eq!(
        l.tls_key_file.as_deref(),
        Some(Path::new("/opt/vault/tls/tls.key"))
    );
    assert_eq!(
        l.tls_client_ca_file.as_deref(),
        Some(Path::new("/opt/vault/tls/ca.crt"))
    );
    assert!(c.ui && c.disable_mlock);
    assert_eq!(c.api_addr.as_deref(), Some("https://127.0.0.1:8200"));
    assert_eq!(c.cluster_addr.as_deref(), Some("https://127.0.0.1:8201"));
    assert_eq!(c.default_lease_ttl, Duration::from_secs(168 * 3600));
    assert_eq!(c.max_lease_ttl, Duration::from_secs(720 * 3600));
    assert_eq!(c.log_level.as_deref(), Some("info"));
    let mut w = c.warnings.clone();
    w.sort();
    assert_eq!(
        w,
        [
            "\"cluster_name\" is not supported by Coffer yet and was ignored",
            "telemetry stanza is not supported by Coffer yet and was ignored",
        ]
    );
}

#[test]
fn json_form_reads_the_same_as_hcl() {
    let from_json = load(&fixture("raft-tls.json")).unwrap();
    let from_hcl = load(&fixture("raft-tls.hcl")).unwrap();
    let (mut a, mut b) = (from_json.clone(), from_hcl.clone());
    a.warnings.sort();
    b.warnings.sort();
    assert_eq!(a, b);
}

#[test]
fn docs_example_with_unsupported_stanzas() {
    let c = load(&fixture("docs-example.hcl")).unwrap();
    assert_eq!(
        c.storage,
        StorageConfig::Redb {
            path: "/vault/file/coffer.redb".into(),
            page_cache_mb: coffer_config::DEFAULT_REDB_PAGE_CACHE_MB,
        }
    );
    assert_eq!(
        c.listeners.len(),
        2,
        "two tcp listeners, the unix one ignored"
    );
    assert_eq!(c.listeners[0].address, "127.0.0.1:8200");
    assert!(c.listeners[0].tls_disable && c.listeners[1].tls_disable);
    assert_eq!(
        c.listeners[1].x_forwarded_for_authorized_addrs,
        ["10.0.0.0/8", "192.168.1.1"]
    );
    assert_eq!(c.default_lease_ttl, Duration::from_secs(3600));
    assert_eq!(c.max_lease_ttl, Duration::from_secs(768 * 3600));
    let mut w = c.warnings.clone();
    w.sort();
    assert_eq!(
        w,
        [
            "\"plugin_directory\" is not supported by Coffer yet and was ignored",
            "ha_storage \"consul\" stanza is not supported by Coffer yet and was ignored",
            "listener \"tcp\" on 0.0.0.0:8300: \"cluster_address\" is not supported by Coffer yet and was ignored",
            "listener \"unix\" is not supported by Coffer yet and was ignored",
            "seal \"awskms\" stanza is not supported by Coffer yet and was ignored",
        ]
    );
    // Nothing from the ignored stanzas leaks into the warnings.
    assert!(!w.concat().contains("c6examplekey"));
}

#[test]
fn legacy_backend_and_inmem() {
    let c = parse_hcl("backend \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\n").unwrap();
    assert_eq!(c.storage, StorageConfig::InMemory);
    assert_eq!(c.listeners[0].address, "127.0.0.1:8200");
    let c = parse_hcl("storage \"redb\" { path = \"/srv/coffer/coffer.redb\" }").unwrap();
    assert_eq!(
        c.storage,
        StorageConfig::Redb {
            path: "/srv/coffer/coffer.redb".into(),
            page_cache_mb: coffer_config::DEFAULT_REDB_PAGE_CACHE_MB,
        }
    );
    assert!(c.listeners.is_empty());
}

#[test]
fn json_listener_shapes() {
    let c = parse_json(
        r#"{"backend": {"file": {"path": "/d"}},
            "listener": {"tcp": [{"address": "127.0.0.1:1", "tls_disable": "1"},
                                 {"address": "127.0.0.1:2", "tls_disable": 1}]}}"#,
    )
    .unwrap();
    let addrs: Vec<_> = c.listeners.iter().map(|l| l.address.as_str()).collect();
    assert_eq!(addrs, ["127.0.0.1:1", "127.0.0.1:2"]);
}

#[test]
fn json_text_without_json_extension_is_read_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.conf");
    std::fs::write(&path, r#"{"storage": {"inmem": {}}}"#).unwrap();
    assert_eq!(load(&path).unwrap().storage, StorageConfig::InMemory);
}

#[test]
fn missing_file_names_the_path() {
    let err = load(Path::new("/nonexistent/coffer.hcl")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/coffer.hcl"));
}

#[test]
fn invalid_hcl_reports_line_and_column() {
    let text = "storage \"inmem\" {}\n\nlistener \"tcp\" {\n  address = \n}\n";
    match parse_hcl(text).unwrap_err() {
        ConfigError::Hcl {
            line,
            column,
            message,
        } => {
            assert_eq!(line, 4, "{message}");
            assert!(column >= 1, "{message}");
        }
        other => panic!("expected an HCL error, got {other}"),
    }
    let err = parse_hcl("storage \"inmem\" {").unwrap_err().to_string();
    assert!(err.starts_with("invalid HCL at line 1, column"), "{err}");
}

#[test]
fn invalid_json_reports_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    std::fs::write(&path, "{\n  \"storage\": {\"inmem\": {}},\n  \"ui\": @\n}").unwrap();
    match load(&path).unwrap_err() {
        ConfigError::Json {
            line,
            column,
            message,
        } => {
            assert_eq!(line, 3, "{message}");
            assert_eq!(column, 9, "{message}");
            assert!(!message.contains(" at line "), "{message}");
        }
        other => panic!("expected a JSON error, got {other}"),
    }
}

#[test]
fn every_semantic_error_is_reported() {
    let cases: &[(&str, &str)] = &[
        (
            "listener \"tcp\" { tls_disable = 1 }",
            "A storage backend must be specified",
        ),
        (
            "storage \"inmem\" {}\nstorage \"file\" { path = \"/d\" }",
            "only one \"storage\" block is permitted",
        ),
        (
            "storage \"consul\" {\n address = \"127.0.0.1:8500\"\n token = \"abcd-secret\"\n}",
            "storage type \"consul\" is not supported by Coffer",
        ),
        (
            "storage \"postgresql\" { connection_url = \"postgres://u:pw@h/db\" }",
            "storage type \"postgresql\" is not supported by Coffer",
        ),
        (
            "storage \"raft\" { node_id = \"a\" }",
            "storage \"raft\": \"path\" must be set",
        ),
        (
            "storage \"inmem\" {}\nlistener \"tcp\" { address = \"0.0.0.0:8200\" }",
            "listener \"tcp\" on 0.0.0.0:8200: tls_cert_file and tls_key_file must be set",
        ),
        (
            "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = \"nope\" }",
            "invalid value for listener \"tcp\" on 127.0.0.1:8200: tls_disable",
        ),
        (
            "storage \"inmem\" {}\nmax_lease_ttl = \"forever\"",
            "invalid value for max_lease_ttl",
        ),
        (
            "storage \"inmem\" {}\ndefault_lease_ttl = \"1000h\"",
            "default_lease_ttl (1000h0m0s) cannot be larger than max_lease_ttl (768h0m0s)",
        ),
        ("storage \"inmem\" {}\nui = \"on\"", "invalid value for ui"),
        (
            "storage \"inmem\" {}\napi_addr = [\"a\"]",
            "invalid value for api_addr",
        ),
        (
            "storage \"inmem\" {}\nlog_level = \"loud\"",
            "invalid value for log_level",
        ),
        ("storage { path = \"/d\" }", "invalid storage stanza"),
        (
            "storage \"inmem\" {}\nlistener { address = \"x\" }",
            "invalid listener stanza",
        ),
    ];
    for (text, want) in cases {
        let err = parse_hcl(text).expect_err(text).to_string();
        assert!(err.contains(want), "{text:?}: got {err:?}, want {want:?}");
        for secret in ["abcd-secret", "pw@h", "nope", "forever", "loud"] {
            assert!(!err.contains(secret), "{text:?}: value in message {err:?}");
        }
    }
}

#[test]
fn json_errors_match_hcl_ones() {
    let err = parse_json(r#"{"listener": {"tcp": {}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::MissingStorage));
    let err = parse_json(r#"{"storage": {"s3": {"bucket": "b"}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedStorage(ref t) if t == "s3"));
    let err = parse_json(r#"{"storage": [{"inmem": {}}, {"inmem": {}}]}"#).unwrap_err();
    assert!(matches!(err, ConfigError::Duplicate("storage")));
    let err = parse_json(r#"[]"#).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidStanza { .. }));
}
