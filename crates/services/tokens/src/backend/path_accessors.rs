//! `accessors` (LIST, sudo): every token accessor.

use coffer_sdk::{Call, Path, PathDef, handler};
use coffer_types::{Operation, Response, Result};

use super::TokenBackend;

/// `accessors` (LIST, sudo).
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "accessors",
            fields: &[],
            operations: &[Operation::List],
            existence_check: false,
            synopsis: "List token accessors, which can then be used to iterate and discover their properties or revoke them. Because this can be used to cause a denial of service, this endpoint requires 'sudo' capability in addition to 'list'.",
            description: "List token accessors, which can then be used to iterate and discover their properties or revoke them. Because this can be used to cause a denial of service, this endpoint requires 'sudo' capability in addition to 'list'.",
        })
        .list(handler!(list))
        .sudo(),
    ]
}

/// Every token accessor; an empty list is a 404.
async fn list(b: &TokenBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(b.store.list_accessors().await?)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use coffer_sdk::Backend;
    use serde_json::json;

    #[tokio::test]
    async fn lists_every_accessor_and_is_sudo_protected() {
        let h = Harness::new().await;
        let resp = h
            .call(Operation::Update, "create", &h.root, json!({}))
            .await
            .unwrap()
            .unwrap();
        let accessor = resp.auth.unwrap().accessor;
        let d = Harness::data(
            h.call(Operation::List, "accessors/", &h.root, json!({}))
                .await
                .unwrap(),
        );
        let keys = d["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2, "root token and the new one");
        assert!(keys.contains(&json!(accessor)));
        assert!(coffer_sdk::special_path_matches(
            &h.backend.special_paths().root,
            "accessors/"
        ));
    }
}
