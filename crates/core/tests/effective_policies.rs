//! Property: a token's effective policies (its own plus those its identity
//! inherits through groups) never grant more than the union of what the
//! attached policies grant one by one.

use std::collections::BTreeSet;
use std::sync::Arc;

use coffer_core::{Core, CoreConfig};
use coffer_policy::{Acl, Policy};
use coffer_storage::MemoryStorage;
use coffer_types::{Operation, Request};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const RULE_PATHS: &[&str] = &[
    "secret/data/a",
    "secret/data/*",
    "secret/+/b",
    "kv/x",
    "kv/*",
    "secret/*",
];
const CAPS: &[&str] = &["read", "update", "list", "create", "deny", "sudo"];
const PROBES: &[&str] = &[
    "secret/data/a",
    "secret/data/b",
    "secret/x/b",
    "secret/meta",
    "kv/x",
    "kv/y/z",
    "other/z",
];

fn policy_text(rules: &[(usize, Vec<usize>)]) -> String {
    rules
        .iter()
        .map(|(p, caps)| {
            let caps: Vec<String> = caps.iter().map(|c| format!("\"{}\"", CAPS[*c])).collect();
            format!(
                "path \"{}\" {{\n  capabilities = [{}]\n}}\n",
                RULE_PATHS[*p],
                caps.join(", ")
            )
        })
        .collect()
}

fn rules() -> impl Strategy<Value = Vec<(usize, Vec<usize>)>> {
    prop::collection::vec(
        (
            0..RULE_PATHS.len(),
            prop::collection::vec(0..CAPS.len(), 1..3),
        ),
        1..4,
    )
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn call(
    core: &Core,
    token: Option<&str>,
    op: Operation,
    path: &str,
    data: Value,
) -> Option<Map<String, Value>> {
    let mut req = Request::new(op, path).with_data(obj(data));
    if let Some(t) = token {
        req = req.with_token(t);
    }
    core.handle(req)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .data
}

fn caps(acl: &Acl, path: &str) -> BTreeSet<String> {
    acl.capabilities(path)
        .into_iter()
        .filter(|c| c != "deny")
        .collect()
}

async fn check(token_rules: Vec<(usize, Vec<usize>)>, group_rules: Vec<(usize, Vec<usize>)>) {
    let (a, b) = (policy_text(&token_rules), policy_text(&group_rules));
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    core.dev_init(Some("root")).await.unwrap();
    let root = Some("root");
    call(
        &core,
        root,
        Operation::Update,
        "sys/policies/acl/pa",
        json!({"policy": a}),
    )
    .await;
    call(
        &core,
        root,
        Operation::Update,
        "sys/policies/acl/pb",
        json!({"policy": b}),
    )
    .await;
    call(
        &core,
        root,
        Operation::Update,
        "sys/auth/userpass",
        json!({"type": "userpass"}),
    )
    .await;
    call(
        &core,
        root,
        Operation::Update,
        "auth/userpass/users/u",
        json!({"password": "p", "token_policies": "pa", "token_no_default_policy": true}),
    )
    .await;
    let login = core
        .handle(
            Request::new(Operation::Update, "auth/userpass/login/u")
                .with_data(obj(json!({"password": "p"}))),
        )
        .await
        .unwrap()
        .auth
        .unwrap();
    call(
        &core,
        root,
        Operation::Update,
        "identity/group",
        json!({"name": "g", "policies": ["pb"], "member_entity_ids": [login.entity_id]}),
    )
    .await;

    let acl_a = Acl::new(&[&Policy::parse("pa", &a).unwrap()]).unwrap();
    let acl_b = Acl::new(&[&Policy::parse("pb", &b).unwrap()]).unwrap();
    let (pa, pb) = (
        Policy::parse("pa", &a).unwrap(),
        Policy::parse("pb", &b).unwrap(),
    );
    let acl_ab = Acl::new(&[&pa, &pb]).unwrap();
    let effective = call(
        &core,
        root,
        Operation::Update,
        "sys/capabilities-accessor",
        json!({"accessor": login.accessor, "paths": PROBES}),
    )
    .await
    .unwrap();
    for probe in PROBES {
        let got: BTreeSet<String> = effective[*probe]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .filter(|c| c != "deny")
            .collect();
        let union: BTreeSet<String> = caps(&acl_a, probe)
            .union(&caps(&acl_b, probe))
            .cloned()
            .collect();
        assert!(
            got.is_subset(&union),
            "{probe}: effective {got:?} exceeds union {union:?}\nA:\n{a}\nB:\n{b}"
        );
        // And the identity's group policy really takes part.
        assert_eq!(
            got,
            caps(&acl_ab, probe),
            "{probe}: effective differs from token + group policies"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn effective_policies_never_exceed_the_union(token_rules in rules(), group_rules in rules()) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check(token_rules, group_rules));
    }
}
