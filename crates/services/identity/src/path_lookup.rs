//! `lookup/entity` and `lookup/group`: find one by id, name, alias id, or
//! alias name and mount accessor. Nothing found answers 204, as Vault does.

use coffer_sdk::{Call, FieldDef, FieldType};
use coffer_types::{Error, Response, Result};

use crate::backend::IdentityBackend;
use crate::render;

/// Fields of both lookup paths.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldType::String, "Name of the entity or group."),
    FieldDef::new("id", FieldType::String, "ID of the entity or group."),
    FieldDef::new("alias_id", FieldType::String, "ID of the alias."),
    FieldDef::new(
        "alias_name",
        FieldType::String,
        "Name of the alias. This should be supplied in conjunction with 'alias_mount_accessor'.",
    ),
    FieldDef::new(
        "alias_mount_accessor",
        FieldType::String,
        "Accessor of the mount to which the alias belongs to. This should be supplied in conjunction with 'alias_name'.",
    ),
];

/// The query, checked as Vault checks it.
#[derive(Debug, Default)]
struct Query {
    id: String,
    name: String,
    alias_id: String,
    alias_name: String,
    alias_mount_accessor: String,
}

fn query(call: &Call<'_>) -> Result<Query> {
    let fd = &call.fields;
    let mut count = 0;
    let mut get = |field: &str| -> Result<String> {
        if fd.is_set(field) {
            count += 1;
        }
        Ok(fd.get_string(field)?.unwrap_or_default())
    };
    let q = Query {
        id: get("id")?,
        name: get("name")?,
        alias_id: get("alias_id")?,
        alias_name: get("alias_name")?,
        alias_mount_accessor: get("alias_mount_accessor")?,
    };
    let by_alias = !q.alias_name.is_empty() && !q.alias_mount_accessor.is_empty();
    match count {
        0 => Err(Error::invalid("query parameter not supplied")),
        1 if !q.alias_name.is_empty() || !q.alias_mount_accessor.is_empty() => Err(Error::invalid(
            "both 'alias_name' and 'alias_mount_accessor' needs to be set",
        )),
        1 => Ok(q),
        2 if by_alias => Ok(q),
        _ => Err(Error::invalid(
            "query parameter conflict; please supply distinct set of query parameters",
        )),
    }
}

/// `lookup/entity`.
pub(crate) async fn entity(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let q = query(call)?;
    let st = b.store.read();
    let found = if !q.id.is_empty() {
        st.entity(&q.id)
    } else if !q.name.is_empty() {
        st.entity_by_name(&q.name)
    } else if !q.alias_id.is_empty() {
        st.entity_of_alias(&q.alias_id)
    } else if !q.alias_name.is_empty() && !q.alias_mount_accessor.is_empty() {
        st.alias_by_factors(&q.alias_mount_accessor, &q.alias_name)
            .and_then(|a| st.entity(&a.canonical_id))
    } else {
        None
    };
    Ok(found.map(|e| render::entity(&st, e, b.mounts())))
}

/// `lookup/group` (internal groups have no aliases, so alias queries find
/// nothing).
pub(crate) async fn group(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let q = query(call)?;
    let st = b.store.read();
    let found = if !q.id.is_empty() {
        st.group(&q.id)
    } else if !q.name.is_empty() {
        st.group_by_name(&q.name)
    } else {
        None
    };
    Ok(found.map(|g| render::group(&st, g)))
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, USERPASS};
    use coffer_types::Operation::Update;
    use serde_json::json;

    #[tokio::test]
    async fn lookup_forms() {
        let h = Harness::new().await;
        let alias = h
            .ok(
                Update,
                "entity-alias",
                json!({"name": "gina", "mount_accessor": USERPASS}),
            )
            .await;
        let eid = alias["canonical_id"].as_str().unwrap().to_owned();
        let name = h.store.entity(&eid).unwrap().name;
        for query in [
            json!({"id": eid}),
            json!({"name": name}),
            json!({"alias_id": alias["id"]}),
            json!({"alias_name": "gina", "alias_mount_accessor": USERPASS}),
        ] {
            let found = h.ok(Update, "lookup/entity", query.clone()).await;
            assert_eq!(found["id"], eid.as_str(), "{query}");
            assert_eq!(found["aliases"][0]["name"], "gina");
        }
        for query in [
            json!({"id": "nope"}),
            json!({"alias_id": "nope"}),
            json!({"alias_name": "nope", "alias_mount_accessor": USERPASS}),
        ] {
            let resp = h.call(Update, "lookup/entity", query).await.unwrap();
            assert!(resp.is_none(), "not found answers 204");
        }
        for (query, msg) in [
            (json!({}), "query parameter not supplied"),
            (json!({"id": "a", "name": "b"}), "query parameter conflict"),
            (
                json!({"alias_name": "gina"}),
                "both 'alias_name' and 'alias_mount_accessor' needs to be set",
            ),
        ] {
            let (status, got) = h.err(Update, "lookup/entity", query).await;
            assert_eq!(status, 400);
            assert!(got.starts_with(msg), "{got}");
        }

        let g = h
            .ok(
                Update,
                "group",
                json!({"name": "devs", "member_entity_ids": [eid]}),
            )
            .await;
        for query in [json!({"id": g["id"]}), json!({"name": "DEVS"})] {
            let found = h.ok(Update, "lookup/group", query).await;
            assert_eq!(found["id"], g["id"]);
            assert_eq!(found["member_entity_ids"], json!([eid]));
        }
        let none = h
            .call(Update, "lookup/group", json!({"alias_id": "x"}))
            .await
            .unwrap();
        assert!(none.is_none());
        assert_eq!(h.err(Update, "lookup/group", json!({})).await.0, 400);
    }
}
