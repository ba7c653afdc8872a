//! The policy parser (`coffer_policy::Policy::parse`, HCL and JSON) and the
//! ACL built from what it accepts. Arbitrary text must parse or be refused,
//! never panic; an accepted policy must build an ACL that answers requests.
#![no_main]

use coffer_policy::{Acl, Policy};
use coffer_types::Operation;
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "secret/data/a",
    "secret/metadata/dir",
    "secret/metadata/dir/",
    "sys/mounts",
    "auth/token/create",
    "",
];

const OPS: &[Operation] = &[
    Operation::Read,
    Operation::List,
    Operation::Update,
    Operation::Create,
    Operation::Delete,
    Operation::Patch,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse("fuzz", text) else {
        return;
    };
    let Ok(acl) = Acl::new(&[&policy]) else {
        return;
    };
    // Paths the policy itself names, besides a few common ones.
    let named: Vec<String> = text
        .split('"')
        .skip(1)
        .step_by(2)
        .take(16)
        .map(str::to_owned)
        .collect();
    let params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"a":"b","n":1,"l":["x"]}"#).unwrap_or_default();
    for path in PATHS
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
    {
        for op in OPS {
            let _ = acl.authorize(path, *op, Some(&params));
        }
        let _ = acl.capabilities(path);
    }
});
