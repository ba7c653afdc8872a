//! The shapes Vault answers with: the `lookup` data object and the `auth` block.

use std::time::SystemTime;

use coffer_types::Auth;
use coffer_types::timestamp::rfc3339;
use serde_json::{Map, Value, json};

use crate::TokenEntry;
use crate::entry::unix_secs;

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
    let text = |s: &str| Some(Value::String(s.to_owned()));
    // Vault reports lease times only for tokens that have a lease;
    // non-expiring root tokens have none.
    let expire = entry.expire_time;
    let renewed = entry.last_renewal_time.filter(|_| expire.is_some());
    // In key order, so the map is built in one pass without reordering.
    let fields: [(&str, Option<Value>); 22] = [
        ("accessor", text(&entry.accessor)),
        (
            "bound_cidrs",
            (!entry.bound_cidrs.is_empty()).then(|| json!(entry.bound_cidrs)),
        ),
        (
            "creation_time",
            Some(Value::from(unix_secs(entry.creation_time))),
        ),
        (
            "creation_ttl",
            Some(Value::from(entry.creation_ttl.as_secs())),
        ),
        ("display_name", text(&entry.display_name)),
        ("entity_id", text(&entry.entity_id)),
        (
            "expire_time",
            Some(expire.map_or(Value::Null, |e| Value::String(rfc3339(e)))),
        ),
        (
            "explicit_max_ttl",
            Some(Value::from(entry.explicit_max_ttl.as_secs())),
        ),
        ("id", text(id)),
        (
            "issue_time",
            expire.map(|_| Value::String(rfc3339(entry.creation_time))),
        ),
        ("last_renewal", renewed.map(|r| Value::String(rfc3339(r)))),
        (
            "last_renewal_time",
            renewed.map(|r| Value::from(unix_secs(r))),
        ),
        ("meta", Some(meta_value(entry))),
        ("num_uses", Some(Value::from(entry.num_uses))),
        ("orphan", Some(Value::Bool(entry.is_orphan()))),
        ("path", text(&entry.path)),
        (
            "period",
            (!entry.period.is_zero()).then(|| Value::from(entry.period.as_secs())),
        ),
        ("policies", Some(Value::from(entry.policies.clone()))),
        (
            "renewable",
            expire.map(|e| Value::Bool(entry.renewable && e > now)),
        ),
        (
            "role",
            (!entry.role.is_empty())
                .then(|| text(&entry.role))
                .flatten(),
        ),
        (
            "ttl",
            Some(expire.map_or(Value::from(0), |_| json!(entry.ttl_remaining(now)))),
        ),
        ("type", text(&entry.token_type)),
    ];
    fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect()
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
