//! The shapes Vault answers with: the `lookup` data object and the `auth` block.

use std::time::SystemTime;

use coffer_types::Auth;
use serde_json::{Map, Value, json};

use crate::TokenEntry;
use crate::entry::{rfc3339, unix_secs};

fn meta_value(entry: &TokenEntry) -> Value {
    if entry.meta.is_empty() {
        Value::Null
    } else {
        json!(entry.meta)
    }
}

/// The `data` of `lookup`, `lookup-self` and `lookup-accessor`. `id` is the
/// token itself for the first two and "" for the accessor form, as in Vault.
pub(crate) fn lookup_data(entry: &TokenEntry, id: &str, now: SystemTime) -> Map<String, Value> {
    let text = |s: &str| Value::String(s.to_owned());
    let mut fields: Vec<(&'static str, Value)> = vec![
        ("id", text(id)),
        ("accessor", text(&entry.accessor)),
        ("policies", Value::from(entry.policies.clone())),
        ("path", text(&entry.path)),
        ("meta", meta_value(entry)),
        ("display_name", text(&entry.display_name)),
        ("num_uses", Value::from(entry.num_uses)),
        ("orphan", Value::Bool(entry.is_orphan())),
        ("creation_time", Value::from(unix_secs(entry.creation_time))),
        ("creation_ttl", Value::from(entry.creation_ttl.as_secs())),
        ("expire_time", Value::Null),
        ("ttl", Value::from(0)),
        (
            "explicit_max_ttl",
            Value::from(entry.explicit_max_ttl.as_secs()),
        ),
        ("entity_id", text(&entry.entity_id)),
        ("type", text(&entry.token_type)),
    ];
    if !entry.role.is_empty() {
        fields.push(("role", text(&entry.role)));
    }
    if !entry.period.is_zero() {
        fields.push(("period", Value::from(entry.period.as_secs())));
    }
    if !entry.bound_cidrs.is_empty() {
        fields.push(("bound_cidrs", json!(entry.bound_cidrs)));
    }
    if let Some(expire) = entry.expire_time {
        // Vault reports lease times only for tokens that have a lease;
        // non-expiring root tokens have none.
        if let Some(renewed) = entry.last_renewal_time {
            fields.push(("last_renewal_time", Value::from(unix_secs(renewed))));
            fields.push(("last_renewal", Value::String(rfc3339(renewed))));
        }
        // Replaces the placeholders above.
        fields.retain(|(k, _)| !matches!(*k, "expire_time" | "ttl"));
        fields.push(("expire_time", Value::String(rfc3339(expire))));
        fields.push(("ttl", json!(entry.ttl_remaining(now))));
        fields.push(("renewable", Value::Bool(entry.renewable && expire > now)));
        fields.push(("issue_time", Value::String(rfc3339(entry.creation_time))));
    }
    // Collected at once: the map is built from sorted entries in one pass.
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The `auth` block of `create` and `renew*`.
pub(crate) fn auth_block(entry: &TokenEntry, client_token: &str) -> Auth {
    Auth {
        client_token: client_token.to_owned(),
        accessor: entry.accessor.clone(),
        policies: entry.policies.clone(),
        token_policies: entry.policies.clone(),
        identity_policies: Vec::new(),
        metadata: match meta_value(entry) {
            Value::Object(m) => Some(m),
            _ => None,
        },
        lease_duration: entry.ttl.as_secs(),
        renewable: entry.renewable,
        entity_id: entry.entity_id.clone(),
        token_type: entry.token_type.clone(),
        orphan: entry.is_orphan(),
        num_uses: entry.num_uses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::tests::sample;
    use std::time::Duration;

    #[test]
    fn lookup_fields_match_vault() {
        let mut e = sample();
        e.meta.insert("user".into(), "armon".into());
        let now = e.creation_time + Duration::from_secs(10);
        let d = lookup_data(&e, "", now);
        for key in [
            "id",
            "accessor",
            "policies",
            "path",
            "meta",
            "display_name",
            "num_uses",
            "orphan",
            "creation_time",
            "creation_ttl",
            "expire_time",
            "ttl",
            "explicit_max_ttl",
            "entity_id",
            "type",
            "renewable",
            "issue_time",
        ] {
            assert!(d.contains_key(key), "missing {key}");
        }
        assert_eq!(d["ttl"], 3590);
        assert_eq!(d["creation_ttl"], 3600);
        assert_eq!(d["creation_time"], 1_700_000_000u64);
        assert_eq!(d["expire_time"], "2023-11-14T23:13:20Z");
        assert_eq!(d["meta"]["user"], "armon");
        assert!(!d.contains_key("period"));
        assert!(!d.contains_key("bound_cidrs"), "only shown when bound");
        e.bound_cidrs = vec!["10.0.0.0/8".into()];
        assert_eq!(
            lookup_data(&e, "", now)["bound_cidrs"],
            json!(["10.0.0.0/8"])
        );
        let auth = auth_block(&e, "tok");
        assert_eq!(auth.lease_duration, 3600);
        assert_eq!(auth.metadata.unwrap()["user"], "armon");
    }

    #[test]
    fn non_expiring_tokens_have_no_lease_fields() {
        let mut e = sample();
        e.expire_time = None;
        e.policies = vec!["root".into()];
        let d = lookup_data(&e, "x", e.creation_time);
        assert_eq!(d["expire_time"], Value::Null);
        assert_eq!(d["ttl"], 0);
        assert_eq!(d["meta"], Value::Null);
        assert!(!d.contains_key("issue_time"));
    }
}
