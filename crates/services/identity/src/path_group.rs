//! `group`, `group/id/:id`, `group/name/:name` and their lists.

use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType};
use coffer_types::{Error, Response, Result};
use serde_json::{Map, json};

use crate::backend::IdentityBackend;
use crate::metadata::parse_kv_pairs;
use crate::ops_group::{GroupInput, plan_delete, plan_upsert};
use crate::render;

/// Fields of the group paths.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "id",
        FieldType::String,
        "ID of the group. If set, updates the corresponding existing group.",
    ),
    FieldDef::new(
        "type",
        FieldType::String,
        "Type of the group, 'internal' or 'external'. Defaults to 'internal'",
    )
    .default(FieldDefault::Str("internal")),
    FieldDef::new("name", FieldType::String, "Name of the group."),
    FieldDef::new(
        "metadata",
        FieldType::Any,
        "Metadata to be associated with the group.",
    ),
    FieldDef::new(
        "policies",
        FieldType::StringList,
        "Policies to be tied to the group.",
    ),
    FieldDef::new(
        "member_group_ids",
        FieldType::StringList,
        "Group IDs to be assigned as group members.",
    ),
    FieldDef::new(
        "member_entity_ids",
        FieldType::StringList,
        "Entity IDs to be assigned as group members.",
    ),
];

/// Which existing group a write targets.
enum Target {
    /// A new group.
    New,
    /// The group with this id (it must exist).
    Id(String),
    /// The group with this name, created when absent.
    Name(String),
}

/// `GET group/id/:id`.
pub(crate) async fn read_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let group = st.group(call.capture("id")).ok_or_else(Error::not_found)?;
    Ok(Some(render::group(&st, group)))
}

/// `GET group/name/:name`.
pub(crate) async fn read_by_name(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let group = st
        .group_by_name(call.capture("name"))
        .ok_or_else(Error::not_found)?;
    Ok(Some(render::group(&st, group)))
}

/// `DELETE group/id/:id` (an unknown id answers 204).
pub(crate) async fn delete_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    delete(b, Target::Id(call.capture("id").to_owned())).await
}

/// `DELETE group/name/:name` (an unknown name answers 204).
pub(crate) async fn delete_by_name(
    b: &IdentityBackend,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    delete(b, Target::Name(call.capture("name").to_owned())).await
}

async fn delete(b: &IdentityBackend, target: Target) -> Result<Option<Response>> {
    let w = b.store.write().await;
    let change = {
        let st = w.state();
        let group = match &target {
            Target::Id(id) => st.group(id),
            Target::Name(name) => st.group_by_name(name),
            Target::New => None,
        };
        match group {
            Some(g) => plan_delete(&st, &g.id),
            None => return Ok(None),
        }
    };
    w.commit(change).await?;
    Ok(None)
}

/// `POST group`: create, or update the group the body's `id` or `name`
/// names.
pub(crate) async fn write(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let fd = &call.fields;
    let target = if fd.is_set("id") {
        Target::Id(fd.get_string("id")?.unwrap_or_default())
    } else if fd.is_set("name") {
        Target::Name(fd.get_string("name")?.unwrap_or_default())
    } else {
        Target::New
    };
    upsert(b, call, target).await
}

/// `POST group/id/:id`: update that group.
pub(crate) async fn write_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    upsert(b, call, Target::Id(call.capture("id").to_owned())).await
}

/// `POST group/name/:name`: update the group with that name, or create it.
pub(crate) async fn write_by_name(
    b: &IdentityBackend,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    upsert(b, call, Target::Name(call.capture("name").to_owned())).await
}

async fn upsert(b: &IdentityBackend, call: &Call<'_>, target: Target) -> Result<Option<Response>> {
    let fd = &call.fields;
    let store = &b.store;
    let mut input = GroupInput {
        name: fd.get_string("name")?.unwrap_or_default(),
        group_type: fd.get_string("type")?,
        policies: fd.get_string_list("policies")?,
        metadata: parse_kv_pairs("metadata", fd.raw("metadata"))?,
        member_entity_ids: fd.get_string_list("member_entity_ids")?,
        member_group_ids: fd.get_string_list("member_group_ids")?,
    };
    let w = store.write().await;
    let (change, created) = {
        let st = w.state();
        let existing = match target {
            Target::New => None,
            Target::Id(id) if id.is_empty() => {
                return Err(Error::invalid("empty group ID"));
            }
            Target::Id(id) => match st.group(&id) {
                Some(g) => Some(g.clone()),
                None => return Err(Error::invalid("invalid group ID")),
            },
            Target::Name(name) if name.is_empty() => {
                return Err(Error::invalid("empty group name"));
            }
            Target::Name(name) => {
                let found = st.group_by_name(&name).cloned();
                input.name = name;
                found
            }
        };
        plan_upsert(&st, existing.as_ref(), input, store.now())?
    };
    w.commit(change).await?;
    Ok(created.and_then(|g| render::data(json!({"id": g.id, "name": g.name}))))
}

/// `LIST group/id`.
pub(crate) async fn list_ids(b: &IdentityBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    list(b, true)
}

/// `LIST group/name`.
pub(crate) async fn list_names(b: &IdentityBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    list(b, false)
}

fn list(b: &IdentityBackend, by_id: bool) -> Result<Option<Response>> {
    let st = b.store.read();
    let mut keys = Vec::new();
    let mut info = Map::new();
    for g in st.groups_by_id() {
        keys.push(if by_id { g.id.clone() } else { g.name.clone() });
        info.insert(
            g.id.clone(),
            json!({
                "name": g.name,
                "num_member_entities": g.member_entity_ids.len(),
                "num_parent_groups": g.parent_group_ids.len(),
            }),
        );
    }
    render::list(keys, info)
}

#[cfg(test)]
mod tests {
    use crate::test_support::Harness;
    use coffer_types::Operation::{Delete, List, Read, Update};
    use serde_json::{Value, json};

    #[tokio::test]
    async fn group_endpoints() {
        let h = Harness::new().await;
        let e = h.ok(Update, "entity", json!({})).await;
        let eid = e["id"].as_str().unwrap();
        let created = h
            .ok(
                Update,
                "group",
                json!({"name": "devs", "policies": "b,a", "metadata": {"k": "v"}, "member_entity_ids": [eid]}),
            )
            .await;
        assert_eq!(created["name"], "devs");
        let gid = created["id"].as_str().unwrap().to_owned();
        let read = h.ok(Read, &format!("group/id/{gid}"), json!({})).await;
        assert_eq!(read["policies"], json!(["a", "b"]));
        assert_eq!(read["member_entity_ids"], json!([eid]));
        assert_eq!(read["metadata"], json!({"k": "v"}));
        assert_eq!(read["type"], "internal");
        assert_eq!(read["namespace_id"], "root");
        assert_eq!(read["alias"], json!({}));
        assert_eq!(read["member_group_ids"], Value::Null);
        assert_eq!(read["parent_group_ids"], Value::Null);
        assert_eq!(read["modify_index"], 1);

        // `group` with a known name updates it (204); so does group/name.
        assert!(
            h.call(Update, "group", json!({"name": "devs", "policies": "c"}))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            h.call(Update, "group/name/devs", json!({"metadata": {}}))
                .await
                .unwrap()
                .is_none()
        );
        // `group` with an id updates that group.
        assert!(
            h.call(Update, "group", json!({"id": gid, "name": "developers"}))
                .await
                .unwrap()
                .is_none()
        );
        let read = h.ok(Read, "group/name/developers", json!({})).await;
        assert_eq!(read["policies"], json!(["c"]));
        assert_eq!(read["metadata"], Value::Null);
        assert_eq!(read["modify_index"], 4);
        // group/name/:name creates when absent.
        let sub = h.ok(Update, "group/name/sub", json!({})).await;
        h.call(
            Update,
            &format!("group/id/{gid}"),
            json!({"member_group_ids": [sub["id"]]}),
        )
        .await
        .unwrap();
        let read = h.ok(Read, &format!("group/id/{gid}"), json!({})).await;
        assert_eq!(read["member_group_ids"], json!([sub["id"]]));
        let sub_read = h.ok(Read, "group/name/sub", json!({})).await;
        assert_eq!(sub_read["parent_group_ids"], json!([gid]));

        let ids = h.ok(List, "group/id", json!({})).await;
        assert_eq!(ids["keys"].as_array().unwrap().len(), 2);
        assert_eq!(ids["key_info"][&gid]["num_member_entities"], 1);
        assert_eq!(
            ids["key_info"][sub["id"].as_str().unwrap()]["num_parent_groups"],
            1
        );
        let names = h.ok(List, "group/name", json!({})).await;
        let mut keys: Vec<String> = serde_json::from_value(names["keys"].clone()).unwrap();
        keys.sort();
        assert_eq!(keys, ["developers", "sub"]);

        assert!(
            h.call(Delete, "group/name/developers", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.err(Read, &format!("group/id/{gid}"), json!({})).await.0,
            404
        );
        let sub_read = h.ok(Read, "group/name/sub", json!({})).await;
        assert_eq!(sub_read["parent_group_ids"], Value::Null);
        assert!(
            h.call(Delete, "group/id/unknown", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let e = h.ok(Read, &format!("entity/id/{eid}"), json!({})).await;
        assert_eq!(e["direct_group_ids"], json!([]));
    }

    #[tokio::test]
    async fn invalid_group_requests() {
        let h = Harness::new().await;
        let g = h.ok(Update, "group", json!({"name": "g"})).await;
        for (path, body, msg) in [
            (
                "group",
                json!({"type": "external"}),
                "external groups are not supported yet",
            ),
            (
                "group",
                json!({"type": "other"}),
                "invalid group type \"other\"",
            ),
            (
                "group",
                json!({"policies": ["root"]}),
                "policies cannot contain root",
            ),
            ("group", json!({"id": "nope"}), "invalid group ID"),
            ("group", json!({"id": ""}), "empty group ID"),
            ("group/id/nope", json!({}), "invalid group ID"),
            (
                "group",
                json!({"member_entity_ids": ["ghost"]}),
                "invalid entity ID \"ghost\"",
            ),
            (
                "group",
                json!({"member_group_ids": ["ghost"]}),
                "invalid member group ID \"ghost\"",
            ),
            (
                "group/name/g",
                json!({"type": "external"}),
                "group type cannot be changed",
            ),
            (
                "group/name/new",
                json!({"type": "external"}),
                "external groups are not supported yet",
            ),
            ("group", json!({"metadata": 7}), "failed to parse metadata"),
        ] {
            let (status, got) = h.err(Update, path, body.clone()).await;
            assert_eq!(status, 400, "{path} {body}");
            assert!(got.contains(msg), "{path} {body}: {got}");
        }
        let other = h.ok(Update, "group", json!({})).await;
        assert!(other["name"].as_str().unwrap().starts_with("group_"));
        let (_, msg) = h
            .err(
                Update,
                &format!("group/id/{}", other["id"].as_str().unwrap()),
                json!({"name": "G"}),
            )
            .await;
        assert_eq!(msg, "group name is already in use");
        let gid = g["id"].as_str().unwrap();
        let (_, msg) = h
            .err(
                Update,
                &format!("group/id/{gid}"),
                json!({"member_group_ids": [gid]}),
            )
            .await;
        assert!(msg.contains("is same as the ID of the group"), "{msg}");
    }
}
