//! Every builtin backend's handlers read only the fields their paths
//! declare: the declared-fields walk (`coffer_sdk::field_walk`) sends every
//! declared operation of every declared path of every type in the catalog,
//! with an empty body and with every declared field set, and fails on any
//! undeclared read. (The walk itself is shown to catch a planted mistake in
//! the sdk's own tests.) The token store and identity backends, which the
//! core builds itself, run the same walk in their own crates.

use coffer_sdk::catalog::Kind;
use coffer_sdk::field_walk::undeclared_reads;
use coffer_sdk::testing::Harness;
use serde_json::{Map, Value};

#[tokio::test]
async fn every_builtin_reads_only_declared_fields() {
    let catalog = coffer_builtins::catalog();
    let mut walked = Vec::new();
    let mut problems = Vec::new();
    for entry in catalog.entries() {
        let options: Map<String, Value> = Map::new();
        let Some(backend) = catalog
            .build(entry.kind(), entry.name(), &options)
            .expect("builtin factories build")
        else {
            continue;
        };
        let h = Harness::new();
        let found = undeclared_reads(backend.as_ref(), &h.ctx, |req| {
            // What the core fills in for a caller with a token and entity.
            let caller = req.caller_mut();
            caller.scope = Some("walkscope".to_owned());
            caller.entity_id = Some("walk-entity".to_owned());
            caller.display_name = Some("walk".to_owned());
            req.mount_point = "walk/".to_owned();
        })
        .await;
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", entry.name())));
        walked.push((entry.kind() == Kind::Auth, entry.name().to_owned()));
    }
    assert!(walked.len() >= 6, "walked only {walked:?}");
    assert!(
        problems.is_empty(),
        "undeclared reads:\n{}",
        problems.join("\n")
    );
}
