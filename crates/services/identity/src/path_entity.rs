//! `entity`, `entity/id/:id`, `entity/name/:name`, their lists,
//! `entity/batch-delete` and `entity/merge`.

use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType};
use coffer_types::{Error, Response, Result};
use serde_json::{Map, Value, json};

use crate::backend::IdentityBackend;
use crate::metadata::parse_kv_pairs;
use crate::ops_entity::{EntityInput, plan_delete, plan_upsert};
use crate::ops_merge::plan_merge;
use crate::render;

/// Fields of the entity create/update paths.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "id",
        FieldType::String,
        "ID of the entity. If set, updates the corresponding existing entity.",
    ),
    FieldDef::new("name", FieldType::String, "Name of the entity"),
    FieldDef::new(
        "metadata",
        FieldType::Any,
        "Metadata to be associated with the entity.",
    ),
    FieldDef::new(
        "policies",
        FieldType::StringList,
        "Policies to be tied to the entity.",
    ),
    FieldDef::new(
        "disabled",
        FieldType::Bool,
        "If set true, tokens tied to this identity will not be able to be used (but will not be revoked).",
    )
    .default(FieldDefault::Bool(false)),
];

/// Fields of `entity/batch-delete`.
pub(crate) const BATCH_FIELDS: &[FieldDef] =
    &[FieldDef::new("entity_ids", FieldType::StringList, "Entity IDs to delete").required()];

/// Fields of `entity/merge`.
pub(crate) const MERGE_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "from_entity_ids",
        FieldType::StringList,
        "Entity IDs which need to get merged",
    )
    .required(),
    FieldDef::new(
        "to_entity_id",
        FieldType::String,
        "Entity ID into which all the other entities need to get merged",
    )
    .required(),
    FieldDef::new(
        "conflicting_alias_ids_to_keep",
        FieldType::StringList,
        "Alias IDs to keep in case of conflicting aliases. Ignored if no conflicting aliases found",
    ),
    FieldDef::new(
        "force",
        FieldType::Bool,
        "Setting this will follow the 'mine' strategy for merging MFA secrets.",
    )
    .default(FieldDefault::Bool(false)),
];

/// Which entity a write or delete addresses.
enum Target<'a> {
    /// `entity`: the body's `id` or `name` says (a new entity otherwise).
    Body,
    /// `entity/id/:id`.
    Id(&'a str),
    /// `entity/name/:name`.
    Name(&'a str),
}

/// `GET entity/id/:id`.
pub(crate) async fn read_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let e = st.entity(call.capture("id")).ok_or_else(Error::not_found)?;
    Ok(Some(render::entity(&st, e, b.mounts())))
}

/// `GET entity/name/:name`.
pub(crate) async fn read_by_name(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let e = st
        .entity_by_name(call.capture("name"))
        .ok_or_else(Error::not_found)?;
    Ok(Some(render::entity(&st, e, b.mounts())))
}

/// `POST entity`: create, or update the entity the body's `id` names.
pub(crate) async fn write(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    upsert(b, call, Target::Body).await
}

/// `POST entity/id/:id`: update that entity.
pub(crate) async fn write_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    upsert(b, call, Target::Id(call.capture("id"))).await
}

/// `POST entity/name/:name`: update the entity with that name, or create it.
pub(crate) async fn write_by_name(
    b: &IdentityBackend,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    upsert(b, call, Target::Name(call.capture("name"))).await
}

async fn upsert(
    b: &IdentityBackend,
    call: &Call<'_>,
    target: Target<'_>,
) -> Result<Option<Response>> {
    let fd = &call.fields;
    let mut input = EntityInput {
        id: fd.get_string("id")?.unwrap_or_default(),
        name: fd.get_string("name")?.unwrap_or_default(),
        metadata: parse_kv_pairs("metadata", fd.raw("metadata"))?,
        policies: fd.get_string_list("policies")?,
        disabled: fd.get_bool("disabled")?,
    };
    match target {
        Target::Id(id) => input.id = id.to_owned(),
        Target::Name(name) => input.name = name.to_owned(),
        Target::Body => {}
    }
    let store = &b.store;
    let w = store.write().await;
    let (change, created) = {
        let st = w.state();
        plan_upsert(&st, input, store.now())?
    };
    w.commit(change).await?;
    Ok(created
        .and_then(|e| render::data(json!({"id": e.id, "name": e.name, "aliases": Value::Null}))))
}

/// `DELETE entity/id/:id` (an unknown id answers 204).
pub(crate) async fn delete_by_id(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    delete(b, Target::Id(call.capture("id"))).await
}

/// `DELETE entity/name/:name` (an unknown name answers 204).
pub(crate) async fn delete_by_name(
    b: &IdentityBackend,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    delete(b, Target::Name(call.capture("name"))).await
}

async fn delete(b: &IdentityBackend, target: Target<'_>) -> Result<Option<Response>> {
    let w = b.store.write().await;
    let change = {
        let st = w.state();
        let id = match target {
            Target::Id(id) => Some(id.to_owned()),
            Target::Name(name) => st.entity_by_name(name).map(|e| e.id.clone()),
            Target::Body => None,
        };
        match id {
            Some(id) => plan_delete(&st, &[id]),
            None => return Ok(None),
        }
    };
    w.commit(change).await?;
    Ok(None)
}

/// `LIST entity/id`.
pub(crate) async fn list_ids(b: &IdentityBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    list(b, true)
}

/// `LIST entity/name`.
pub(crate) async fn list_names(b: &IdentityBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    list(b, false)
}

fn list(b: &IdentityBackend, by_id: bool) -> Result<Option<Response>> {
    let st = b.store.read();
    let mut keys = Vec::new();
    let mut info = Map::new();
    for e in st.entities_by_id() {
        keys.push(if by_id { e.id.clone() } else { e.name.clone() });
        let mut entry = Map::new();
        entry.insert("name".into(), json!(e.name));
        if !e.aliases.is_empty() {
            let aliases: Vec<Value> = e
                .aliases
                .iter()
                .map(|a| {
                    let mut m = Map::new();
                    m.insert("id".into(), json!(a.id));
                    m.insert("name".into(), json!(a.name));
                    m.insert("mount_accessor".into(), json!(a.mount_accessor));
                    if let Some((kind, path)) = b.mounts()(&a.mount_accessor) {
                        m.insert("mount_type".into(), json!(kind));
                        m.insert("mount_path".into(), json!(path));
                    }
                    Value::Object(m)
                })
                .collect();
            entry.insert("aliases".into(), Value::Array(aliases));
        }
        info.insert(e.id.clone(), Value::Object(entry));
    }
    render::list(keys, info)
}

/// `entity/batch-delete`.
pub(crate) async fn batch_delete(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let fd = &call.fields;
    let ids = fd.get_string_list("entity_ids")?.unwrap_or_default();
    if ids.is_empty() {
        return Err(Error::invalid("missing entity ids to delete"));
    }
    let w = b.store.write().await;
    let change = plan_delete(&w.state(), &ids);
    w.commit(change).await?;
    Ok(None)
}

/// `entity/merge`.
pub(crate) async fn merge(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let fd = &call.fields;
    let to = fd.get_string("to_entity_id")?.unwrap_or_default();
    let from = fd.get_string_list("from_entity_ids")?.unwrap_or_default();
    let keep = fd
        .get_string_list("conflicting_alias_ids_to_keep")?
        .unwrap_or_default();
    // `force` only concerns MFA secrets, which Coffer does not keep.
    fd.get_bool("force")?;
    let w = b.store.write().await;
    let change = plan_merge(&w.state(), &to, &from, &keep)?;
    w.commit(change).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, USERPASS};
    use coffer_types::Operation::{self, Delete, List, Read, Update};
    use serde_json::{Value, json};

    async fn create(h: &Harness, body: Value) -> Value {
        h.ok(Update, "entity", body).await
    }

    #[tokio::test]
    async fn create_read_update_delete_by_id_and_name() {
        let h = Harness::new().await;
        let created = create(
            &h,
            json!({"name": "testentity", "metadata": {"team": "vault"}, "policies": ["b", "a"]}),
        )
        .await;
        assert_eq!(created["name"], "testentity");
        assert_eq!(created["aliases"], Value::Null);
        let id = created["id"].as_str().unwrap().to_owned();

        let read = h.ok(Read, &format!("entity/id/{id}"), json!({})).await;
        assert_eq!(read["id"], id.as_str());
        assert_eq!(read["name"], "testentity");
        assert_eq!(read["metadata"], json!({"team": "vault"}));
        assert_eq!(read["policies"], json!(["a", "b"]));
        assert_eq!(read["disabled"], false);
        assert_eq!(read["namespace_id"], "root");
        assert_eq!(read["aliases"], json!([]));
        assert_eq!(read["direct_group_ids"], json!([]));
        assert_eq!(read["inherited_group_ids"], json!([]));
        assert_eq!(read["group_ids"], json!([]));
        assert_eq!(read["merged_entity_ids"], Value::Null);
        assert_eq!(read["creation_time"], "2023-11-14T22:13:20.123456789Z");
        assert_eq!(read["last_update_time"], read["creation_time"]);

        // Update by id answers 204 and keeps unspecified fields.
        h.advance(10);
        let resp = h
            .call(
                Update,
                &format!("entity/id/{id}"),
                json!({"disabled": "true"}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let read = h.ok(Read, "entity/name/TESTENTITY", json!({})).await;
        assert_eq!(read["disabled"], true);
        assert_eq!(read["policies"], json!(["a", "b"]));
        assert_eq!(read["last_update_time"], "2023-11-14T22:13:30.123456789Z");

        // Write by name: updates the existing entity...
        let resp = h
            .call(Update, "entity/name/testentity", json!({"policies": "c"}))
            .await
            .unwrap();
        assert!(resp.is_none());
        // ...or creates one with that name.
        let other = h.ok(Update, "entity/name/other", json!({})).await;
        assert_eq!(other["name"], "other");

        let names = h.ok(List, "entity/name", json!({})).await;
        let mut keys: Vec<String> = serde_json::from_value(names["keys"].clone()).unwrap();
        keys.sort();
        assert_eq!(keys, ["other", "testentity"]);
        let ids = h.ok(List, "entity/id/", json!({})).await;
        assert_eq!(ids["key_info"][&id]["name"], "testentity");

        // Renaming onto another entity's name is refused.
        let (status, msg) = h
            .err(Update, &format!("entity/id/{id}"), json!({"name": "Other"}))
            .await;
        assert_eq!(
            (status, msg.as_str()),
            (400, "entity name is already in use")
        );

        assert!(
            h.call(Delete, "entity/name/other", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            h.call(Delete, &format!("entity/id/{id}"), json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            h.call(Delete, "entity/id/unknown", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.err(Read, &format!("entity/id/{id}"), json!({})).await.0,
            404
        );
        assert_eq!(h.err(List, "entity/id", json!({})).await.0, 404);
    }

    #[tokio::test]
    async fn invalid_requests_are_400() {
        let h = Harness::new().await;
        for (path, body, msg) in [
            ("entity", json!({"id": "nope"}), "entity not found from id"),
            ("entity/id/nope", json!({}), "entity not found from id"),
            (
                "entity",
                json!({"policies": ["root"]}),
                "policies cannot contain root",
            ),
            (
                "entity",
                json!({"metadata": ["novalue"]}),
                "failed to parse metadata",
            ),
            (
                "entity",
                json!({"metadata": {"vault-x": "1"}}),
                "invalid entity metadata",
            ),
            (
                "entity",
                json!({"disabled": "maybe"}),
                "error converting input",
            ),
            (
                "entity/batch-delete",
                json!({}),
                "missing entity ids to delete",
            ),
            (
                "entity/merge",
                json!({"from_entity_ids": "x"}),
                "missing entity id to merge to",
            ),
        ] {
            let (status, got) = h.err(Update, path, body).await;
            assert_eq!(status, 400, "{path}");
            assert!(got.contains(msg), "{path}: {got}");
        }
        assert_eq!(h.err(Operation::Read, "entity", json!({})).await.0, 405);
        assert_eq!(h.err(Read, "nothing/here", json!({})).await.0, 404);
    }

    #[tokio::test]
    async fn delete_cascades_to_aliases_and_groups() {
        let h = Harness::new().await;
        let e = create(&h, json!({})).await;
        let id = e["id"].as_str().unwrap();
        let alias = h
            .ok(
                Update,
                "entity-alias",
                json!({"name": "eve", "mount_accessor": USERPASS, "canonical_id": id}),
            )
            .await;
        let g = h
            .ok(
                Update,
                "group",
                json!({"name": "g", "member_entity_ids": [id]}),
            )
            .await;
        let gid = g["id"].as_str().unwrap();
        let read = h.ok(Read, &format!("entity/id/{id}"), json!({})).await;
        assert_eq!(read["direct_group_ids"], json!([gid]));
        assert_eq!(read["aliases"][0]["mount_type"], "userpass");
        assert_eq!(read["aliases"][0]["mount_path"], "auth/userpass/");

        h.call(Delete, &format!("entity/id/{id}"), json!({}))
            .await
            .unwrap();
        let alias_path = format!("entity-alias/id/{}", alias["id"].as_str().unwrap());
        assert_eq!(h.err(Read, &alias_path, json!({})).await.0, 404);
        let group = h.ok(Read, &format!("group/id/{gid}"), json!({})).await;
        assert_eq!(group["member_entity_ids"], json!([]));
        // The alias's factors are free again: a login makes a new entity.
        let fresh = h
            .store
            .entity_for_login(
                USERPASS,
                "userpass",
                "auth/userpass/",
                &coffer_types::AliasGrant {
                    name: "eve".into(),
                    metadata: Default::default(),
                },
            )
            .await
            .unwrap();
        assert_ne!(fresh.id, id);
    }

    #[tokio::test]
    async fn batch_delete_and_merge() {
        let h = Harness::new().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                create(&h, json!({})).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        h.call(
            Update,
            "entity/batch-delete",
            json!({"entity_ids": [ids[0], "unknown"]}),
        )
        .await
        .unwrap();
        assert_eq!(
            h.err(Read, &format!("entity/id/{}", ids[0]), json!({}))
                .await
                .0,
            404
        );

        let (to, from) = (&ids[1], &ids[2]);
        let alias = h
            .ok(
                Update,
                "entity-alias",
                json!({"name": "frank", "mount_accessor": USERPASS, "canonical_id": from}),
            )
            .await;
        let g = h
            .ok(
                Update,
                "group",
                json!({"name": "g", "member_entity_ids": [from]}),
            )
            .await;
        let resp = h
            .call(
                Update,
                "entity/merge",
                json!({"to_entity_id": to, "from_entity_ids": [from], "force": true}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let read = h.ok(Read, &format!("entity/id/{to}"), json!({})).await;
        assert_eq!(read["merged_entity_ids"], json!([from]));
        assert_eq!(read["aliases"][0]["id"], alias["id"]);
        assert_eq!(
            read["aliases"][0]["merged_from_canonical_ids"],
            json!([from])
        );
        assert_eq!(read["direct_group_ids"], json!([g["id"]]));
        assert_eq!(
            h.err(Read, &format!("entity/id/{from}"), json!({})).await.0,
            404
        );
        let (status, msg) = h
            .err(
                Update,
                "entity/merge",
                json!({"to_entity_id": to, "from_entity_ids": [from]}),
            )
            .await;
        assert_eq!(
            (status, msg.as_str()),
            (400, "entity id to merge from is invalid")
        );
    }
}
