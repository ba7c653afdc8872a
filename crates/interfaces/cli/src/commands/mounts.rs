//! The mount tables of `secrets list` and `auth list`.

use serde_json::{Map, Value};

use crate::output::table::table;

/// `Path  Type  Accessor  Description`, sorted by path.
pub fn render(mounts: &Map<String, Value>) -> String {
    let mut paths: Vec<&String> = mounts.keys().filter(|k| mounts[*k].is_object()).collect();
    paths.sort();
    let field = |entry: &Value, key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let rows = paths
        .into_iter()
        .map(|p| {
            let e = &mounts[p];
            vec![
                p.clone(),
                field(e, "type"),
                field(e, "accessor"),
                field(e, "description"),
            ]
        })
        .collect();
    table(&["Path", "Type", "Accessor", "Description"], rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mount_table_like_vault() {
        let mounts = json!({
            "sys/": {"type": "system", "accessor": "system_1", "description": "system endpoints"},
            "cubbyhole/": {"type": "cubbyhole", "accessor": "cubbyhole_2", "description": ""},
            "request_id": "not a mount"
        });
        assert_eq!(
            render(mounts.as_object().unwrap()),
            "Path          Type         Accessor       Description\n\
             ----          ----         --------       -----------\n\
             cubbyhole/    cubbyhole    cubbyhole_2    n/a\n\
             sys/          system       system_1       system endpoints"
        );
    }
}
