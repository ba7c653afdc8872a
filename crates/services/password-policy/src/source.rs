//! The store as the [`PasswordSource`] lent to engines.

use async_trait::async_trait;
use coffer_sdk::PasswordSource;
use coffer_types::{Error, Result, Sensitive};

use crate::error::PasswordPolicyError;
use crate::policy::PasswordPolicy;
use crate::store::PasswordPolicyStore;

#[async_trait]
impl PasswordSource for PasswordPolicyStore {
    async fn generate(&self, policy: Option<&str>) -> Result<Sensitive> {
        match policy.filter(|p| !p.is_empty()) {
            None => Ok(PasswordPolicy::default_policy().generate()?),
            Some(name) => match self.generate(name).await {
                Err(PasswordPolicyError::NotFound) => Err(Error::invalid(format!(
                    "password policy {name:?} does not exist"
                ))),
                other => Ok(other?),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use coffer_storage::{MemoryStorage, Prefix, View};

    use super::*;

    #[tokio::test]
    async fn default_named_and_missing_policies() {
        let store = PasswordPolicyStore::new(View::new(
            Arc::new(MemoryStorage::new()),
            Prefix::new("sys/").unwrap(),
        ));
        let source: &dyn PasswordSource = &store;
        let default = source.generate(None).await.unwrap();
        assert_eq!(default.expose().len(), 20);
        store
            .put(
                "digits",
                "length = 12\nrule \"charset\" {\n  charset = \"0123456789\"\n}\n",
            )
            .await
            .unwrap();
        let digits = source.generate(Some("digits")).await.unwrap();
        assert_eq!(digits.expose().len(), 12);
        assert!(digits.expose().chars().all(|c| c.is_ascii_digit()));
        let err = source.generate(Some("nope")).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("\"nope\" does not exist"), "{err}");
    }
}
