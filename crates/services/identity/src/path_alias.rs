//! `entity-alias`, `entity-alias/id/:id` and `LIST entity-alias/id`.

use coffer_sdk::{Call, FieldDef, FieldType};
use coffer_types::{Error, Response, Result};
use serde_json::{Map, Value, json};

use crate::backend::IdentityBackend;
use crate::metadata::parse_kv_pairs;
use crate::ops_alias::{AliasInput, plan_delete, plan_write};
use crate::render;

/// Fields of the alias paths.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "id",
        FieldType::String,
        "ID of the entity alias. If set, updates the corresponding entity alias.",
    ),
    FieldDef::new(
        "entity_id",
        FieldType::String,
        "Entity ID to which this alias belongs. This field is deprecated, use canonical_id.",
    ),
    FieldDef::new(
        "canonical_id",
        FieldType::String,
        "Entity ID to which this alias belongs",
    ),
    FieldDef::new(
        "mount_accessor",
        FieldType::String,
        "Mount accessor to which this alias belongs to; unused for a modify",
    ),
    FieldDef::new(
        "name",
        FieldType::String,
        "Name of the alias; unused for a modify",
    ),
    FieldDef::new(
        "custom_metadata",
        FieldType::Any,
        "User provided key-value pairs",
    ),
];

/// `GET entity-alias/id/:id`.
pub(crate) async fn read(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let alias = st.alias(call.capture("id")).ok_or_else(Error::not_found)?;
    Ok(Some(Response::with_data(render::alias(
        alias,
        b.mounts(),
        true,
    ))))
}

/// `DELETE entity-alias/id/:id` (an unknown id answers 204).
pub(crate) async fn delete(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let w = b.store.write().await;
    let change = plan_delete(&w.state(), call.capture("id"));
    w.commit(change).await?;
    Ok(None)
}

/// `POST entity-alias` (create, or update the body's `id`) and
/// `POST entity-alias/id/:id`.
pub(crate) async fn write(b: &IdentityBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let fd = &call.fields;
    let path_id = call.capture("id");
    let mut canonical_id = fd.get_string("canonical_id")?.unwrap_or_default();
    if canonical_id.is_empty() {
        canonical_id = fd.get_string("entity_id")?.unwrap_or_default();
    }
    let input = AliasInput {
        id: if path_id.is_empty() {
            fd.get_string("id")?.unwrap_or_default()
        } else {
            path_id.to_owned()
        },
        name: fd.get_string("name")?.unwrap_or_default(),
        mount_accessor: fd.get_string("mount_accessor")?.unwrap_or_default(),
        canonical_id,
        custom_metadata: parse_kv_pairs("custom_metadata", fd.raw("custom_metadata"))?,
    };
    let mounts = b.mounts();
    let exists = |accessor: &str| mounts(accessor).is_some();
    let w = b.store.write().await;
    let (change, ids) = {
        let st = w.state();
        plan_write(&st, input, &exists, b.store.now())?
    };
    w.commit(change).await?;
    Ok(ids.and_then(|(id, canonical)| render::data(json!({"id": id, "canonical_id": canonical}))))
}

/// `LIST entity-alias/id`.
pub(crate) async fn list(b: &IdentityBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    let st = b.store.read();
    let mut keys = Vec::new();
    let mut info = Map::new();
    for e in st.entities_by_id() {
        for a in &e.aliases {
            keys.push(a.id.clone());
            let mut entry = Map::new();
            entry.insert("name".into(), json!(a.name));
            entry.insert("canonical_id".into(), json!(a.canonical_id));
            entry.insert("mount_accessor".into(), json!(a.mount_accessor));
            entry.insert("custom_metadata".into(), json!(a.custom_metadata));
            entry.insert("local".into(), json!(false));
            if let Some((kind, path)) = b.mounts()(&a.mount_accessor) {
                entry.insert("mount_type".into(), json!(kind));
                entry.insert("mount_path".into(), json!(path));
            }
            info.insert(a.id.clone(), Value::Object(entry));
        }
    }
    keys.sort();
    render::list(keys, info)
}

#[cfg(test)]
mod tests {
    use crate::test_support::{APPROLE, Harness, USERPASS};
    use coffer_types::Operation::{Delete, List, Read, Update};
    use serde_json::{Value, json};

    #[tokio::test]
    async fn alias_endpoints() {
        let h = Harness::new().await;
        // Without canonical_id, an entity is created for the alias.
        let created = h
            .ok(
                Update,
                "entity-alias",
                json!({"name": "alice", "mount_accessor": USERPASS}),
            )
            .await;
        let (id, entity) = (
            created["id"].as_str().unwrap().to_owned(),
            created["canonical_id"].as_str().unwrap().to_owned(),
        );
        let read = h
            .ok(Read, &format!("entity-alias/id/{id}"), json!({}))
            .await;
        assert_eq!(read["name"], "alice");
        assert_eq!(read["canonical_id"], entity.as_str());
        assert_eq!(read["mount_accessor"], USERPASS);
        assert_eq!(read["mount_type"], "userpass");
        assert_eq!(read["mount_path"], "auth/userpass/");
        assert_eq!(read["namespace_id"], "root");
        assert_eq!(read["local"], false);
        assert_eq!(read["metadata"], Value::Null);
        assert_eq!(read["custom_metadata"], json!({}));
        assert_eq!(read["merged_from_canonical_ids"], Value::Null);
        assert_eq!(read["creation_time"], "2023-11-14T22:13:20.123456789Z");

        // One alias per (mount accessor, name): the same factors update the
        // existing alias rather than making a second one.
        let (status, msg) = h
            .err(
                Update,
                "entity-alias",
                json!({"name": "alice2", "mount_accessor": USERPASS, "canonical_id": entity}),
            )
            .await;
        assert_eq!(
            (status, msg.as_str()),
            (
                400,
                "Alias already exists for requested entity and mount accessor"
            )
        );
        let again = h
            .call(
                Update,
                "entity-alias",
                json!({"name": "alice", "mount_accessor": USERPASS}),
            )
            .await
            .unwrap();
        assert!(again.is_none(), "no change answers 204");
        let other = h
            .ok(
                Update,
                "entity-alias",
                json!({"name": "bob", "mount_accessor": USERPASS}),
            )
            .await;
        let (status, msg) = h
            .err(
                Update,
                &format!("entity-alias/id/{}", other["id"].as_str().unwrap()),
                json!({"name": "alice"}),
            )
            .await;
        assert_eq!(
            (status, msg.as_str()),
            (
                400,
                "alias with combination of mount accessor and name already exists"
            )
        );

        // Update by id: custom metadata, and a move to another mount.
        h.advance(5);
        let updated = h
            .ok(
                Update,
                &format!("entity-alias/id/{id}"),
                json!({"custom_metadata": {"k": "v"}, "mount_accessor": APPROLE}),
            )
            .await;
        assert_eq!(updated, json!({"id": id, "canonical_id": entity}));
        let read = h
            .ok(Read, &format!("entity-alias/id/{id}"), json!({}))
            .await;
        assert_eq!(read["custom_metadata"], json!({"k": "v"}));
        assert_eq!(read["mount_type"], "approle");
        assert_eq!(read["last_update_time"], "2023-11-14T22:13:25.123456789Z");

        let list = h.ok(List, "entity-alias/id", json!({})).await;
        assert_eq!(list["keys"].as_array().unwrap().len(), 2);
        assert_eq!(list["key_info"][&id]["canonical_id"], entity.as_str());
        assert_eq!(list["key_info"][&id]["mount_path"], "auth/approle/");

        assert!(
            h.call(Delete, &format!("entity-alias/id/{id}"), json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.err(Read, &format!("entity-alias/id/{id}"), json!({}))
                .await
                .0,
            404
        );
        let e = h.ok(Read, &format!("entity/id/{entity}"), json!({})).await;
        assert_eq!(
            e["aliases"],
            json!([]),
            "the entity stays, without the alias"
        );
    }

    #[tokio::test]
    async fn unknown_mount_accessors_are_refused() {
        let h = Harness::new().await;
        let (status, msg) = h
            .err(
                Update,
                "entity-alias",
                json!({"name": "x", "mount_accessor": "auth_gone_0000"}),
            )
            .await;
        assert_eq!(
            (status, msg.as_str()),
            (400, "invalid mount accessor \"auth_gone_0000\"")
        );
        let (status, msg) = h.err(Update, "entity-alias", json!({"name": "x"})).await;
        assert_eq!(status, 400);
        assert_eq!(msg, "'id' or 'mount_accessor' and 'name' must be provided");
        let (_, msg) = h
            .err(
                Update,
                "entity-alias",
                json!({"name": "x", "mount_accessor": USERPASS, "entity_id": "ghost"}),
            )
            .await;
        assert_eq!(msg, "invalid canonical ID");
        assert_eq!(h.err(List, "entity-alias/id", json!({})).await.0, 404);
    }
}
