//! `tidy`: cleans up the token store's indexes and revokes expired tokens.

use coffer_sdk::PathDef;
use coffer_types::{Operation, Response, Result};

use super::{Route, TokenBackend};

pub(crate) fn paths() -> Vec<(PathDef, Route)> {
    vec![(
        PathDef {
            pattern: "tidy",
            fields: &[],
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "This endpoint performs cleanup tasks that can be run if certain error conditions have occurred.",
            description: "This endpoint performs cleanup tasks that can be run if certain error conditions have occurred.",
        },
        Route::Tidy,
    )]
}

/// Runs the tidy pass to completion, then answers as Vault does when it
/// starts one (202 with a warning).
pub(crate) async fn tidy(b: &TokenBackend) -> Result<Option<Response>> {
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
