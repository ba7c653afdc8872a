//! `tidy`: cleans up the token store's indexes and revokes expired tokens.

use coffer_sdk::{Call, Path, PathDef, handler};
use coffer_types::{Operation, Response, Result};

use super::TokenBackend;

/// `tidy`.
pub(crate) fn paths() -> Vec<Path<TokenBackend>> {
    vec![
        Path::new(PathDef {
            pattern: "tidy",
            fields: &[],
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint performs cleanup tasks that can be run if certain error conditions have occurred.",
            description: "This endpoint performs cleanup tasks that can be run if certain error conditions have occurred.",
        })
        .update(handler!(tidy)),
    ]
}

/// Runs the tidy pass to completion, then answers as Vault does when it
/// starts one (202 with a warning).
async fn tidy(b: &TokenBackend, _call: &Call<'_>) -> Result<Option<Response>> {
    match b.store.tidy().await? {
        Some(_) => Ok(Some(Response {
            status: Some(202),
            ..Response::default().warn(
                "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.",
            )
        })),
        None => Ok(Some(Response::default().warn("Tidy operation already in progress."))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Harness;
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn tidy_answers_202_with_vaults_warning() {
        let h = Harness::new().await;
        let resp = h
            .call(Operation::Update, "tidy", &h.root, json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert_eq!(resp.warnings.len(), 1);
    }
}
