//! The JSON shapes Vault answers for entities, aliases, groups and lists.

use std::collections::BTreeMap;

use coffer_types::{Response, Result};
use serde_json::{Map, Value, json};

use crate::model::{Alias, Entity, Group, ROOT_NAMESPACE_ID};
use crate::state::State;
use coffer_sdk::time::rfc3339;

/// Resolves a mount accessor to the auth mount's (type, path).
pub(crate) type Mounts<'a> = &'a dyn Fn(&str) -> Option<(String, String)>;

/// A list of strings, `null` when empty (Go's nil slice).
pub(crate) fn list_or_null(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        json!(items)
    }
}

/// A string map, `null` when empty (Go's nil map).
pub(crate) fn map_or_null(map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        json!(map)
    }
}

fn add_mount(out: &mut Map<String, Value>, accessor: &str, mounts: Mounts<'_>) {
    if let Some((kind, path)) = mounts(accessor) {
        out.insert("mount_type".into(), Value::String(kind));
        out.insert("mount_path".into(), Value::String(path));
    }
}

/// An alias as `entity-alias/id/:id` shows it (`with_namespace`) or as an
/// entity read lists it.
pub(crate) fn alias(a: &Alias, mounts: Mounts<'_>, with_namespace: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), json!(a.id));
    out.insert("canonical_id".into(), json!(a.canonical_id));
    out.insert("mount_accessor".into(), json!(a.mount_accessor));
    out.insert("metadata".into(), map_or_null(&a.metadata));
    out.insert("custom_metadata".into(), json!(a.custom_metadata));
    out.insert("name".into(), json!(a.name));
    out.insert(
        "merged_from_canonical_ids".into(),
        list_or_null(&a.merged_from_canonical_ids),
    );
    out.insert("creation_time".into(), json!(rfc3339(a.creation_time)));
    out.insert(
        "last_update_time".into(),
        json!(rfc3339(a.last_update_time)),
    );
    out.insert("local".into(), json!(false));
    if with_namespace {
        out.insert("namespace_id".into(), json!(ROOT_NAMESPACE_ID));
    }
    add_mount(&mut out, &a.mount_accessor, mounts);
    out
}

/// An entity as Vault's `handleEntityReadCommon` shows it.
pub(crate) fn entity(st: &State, e: &Entity, mounts: Mounts<'_>) -> Response {
    let (direct, inherited) = st.groups_of_entity(&e.id);
    let all: Vec<String> = direct.iter().chain(&inherited).cloned().collect();
    let mut out = Map::new();
    out.insert("id".into(), json!(e.id));
    out.insert("name".into(), json!(e.name));
    out.insert("metadata".into(), map_or_null(&e.metadata));
    out.insert(
        "merged_entity_ids".into(),
        list_or_null(&e.merged_entity_ids),
    );
    out.insert("policies".into(), json!(e.policies));
    out.insert("disabled".into(), json!(e.disabled));
    out.insert("namespace_id".into(), json!(ROOT_NAMESPACE_ID));
    out.insert("creation_time".into(), json!(rfc3339(e.creation_time)));
    out.insert(
        "last_update_time".into(),
        json!(rfc3339(e.last_update_time)),
    );
    let aliases: Vec<Value> = e
        .aliases
        .iter()
        .map(|a| Value::Object(alias(a, mounts, false)))
        .collect();
    out.insert("aliases".into(), Value::Array(aliases));
    out.insert("direct_group_ids".into(), json!(direct));
    out.insert("inherited_group_ids".into(), json!(inherited));
    out.insert("group_ids".into(), json!(all));
    Response::with_data(out)
}

/// A group as Vault's `handleGroupReadCommon` shows it.
pub(crate) fn group(st: &State, g: &Group) -> Response {
    let mut out = Map::new();
    out.insert("id".into(), json!(g.id));
    out.insert("name".into(), json!(g.name));
    out.insert("policies".into(), json!(g.policies));
    out.insert("member_entity_ids".into(), json!(g.member_entity_ids));
    out.insert("parent_group_ids".into(), list_or_null(&g.parent_group_ids));
    out.insert("metadata".into(), map_or_null(&g.metadata));
    out.insert("creation_time".into(), json!(rfc3339(g.creation_time)));
    out.insert(
        "last_update_time".into(),
        json!(rfc3339(g.last_update_time)),
    );
    out.insert("modify_index".into(), json!(g.modify_index));
    out.insert("type".into(), json!(g.group_type));
    out.insert("namespace_id".into(), json!(ROOT_NAMESPACE_ID));
    out.insert("alias".into(), json!({}));
    out.insert(
        "member_group_ids".into(),
        list_or_null(&st.member_group_ids(&g.id)),
    );
    Response::with_data(out)
}

/// Vault's `ListResponseWithInfo`; an empty list is a 404, as Vault's
/// HTTP layer answers it.
pub(crate) fn list(keys: Vec<String>, info: Map<String, Value>) -> Result<Option<Response>> {
    let mut resp = Response::list(keys)?;
    if let Some(data) = resp.as_mut().and_then(|r| r.data.as_mut()) {
        data.insert("key_info".into(), Value::Object(info));
    }
    Ok(resp)
}

/// A response with the given data fields.
pub(crate) fn data(fields: Value) -> Option<Response> {
    match fields {
        Value::Object(map) => Some(Response::with_data(map)),
        _ => None,
    }
}
