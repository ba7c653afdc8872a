//! Stored password policies: `password_policy/<name>` in a storage view,
//! holding `{"policy": "<text>"}` as Vault does.

use coffer_storage::{Key, Prefix, Storage, View};
use coffer_types::Sensitive;
use serde::{Deserialize, Serialize};

use crate::error::PasswordPolicyError;
use crate::policy::PasswordPolicy;

/// Where the policies live inside the store's view.
const PREFIX: &str = "password_policy/";

#[derive(Serialize, Deserialize)]
struct StoredPolicy {
    policy: String,
}

/// Whether `name` is a valid password policy name: Vault's generic name
/// pattern (word characters, `-` and `.`, starting and ending with a word
/// character).
pub fn valid_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return false;
    };
    word(first) && word(last) && name.chars().all(|c| word(c) || c == '-' || c == '.')
}

/// The named password policies, over a storage view (the system view in
/// the server; any [`View`] in tests).
#[derive(Clone, Debug)]
pub struct PasswordPolicyStore {
    view: View,
}

impl PasswordPolicyStore {
    /// A store over `view`; policies are kept under `password_policy/`.
    pub fn new(view: View) -> Self {
        Self { view }
    }

    fn key(name: &str) -> Result<Key, PasswordPolicyError> {
        if !valid_name(name) {
            return Err(PasswordPolicyError::UnsupportedPath);
        }
        Ok(Key::new(format!("{PREFIX}{name}"))?)
    }

    /// The stored policy text of `name`, or `None`.
    pub async fn get(&self, name: &str) -> Result<Option<String>, PasswordPolicyError> {
        let Some(bytes) = self.view.get(&Self::key(name)?).await? else {
            return Ok(None);
        };
        let stored: StoredPolicy =
            serde_json::from_slice(&bytes).map_err(|_| PasswordPolicyError::Corrupt)?;
        Ok(Some(stored.policy))
    }

    /// The parsed policy `name`, or `None` (for engines that generate
    /// passwords with a named policy).
    pub async fn policy(&self, name: &str) -> Result<Option<PasswordPolicy>, PasswordPolicyError> {
        match self.get(name).await? {
            None => Ok(None),
            Some(text) => PasswordPolicy::parse(&text)
                .map(Some)
                .map_err(|_| PasswordPolicyError::Corrupt),
        }
    }

    /// Validates `text` and stores it as `name`, replacing any previous
    /// policy. Returns the parsed policy.
    pub async fn put(&self, name: &str, text: &str) -> Result<PasswordPolicy, PasswordPolicyError> {
        let key = Self::key(name)?;
        let policy = PasswordPolicy::parse(text)?;
        let stored = StoredPolicy {
            policy: text.to_owned(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(|_| PasswordPolicyError::Corrupt)?;
        self.view.put(&key, bytes).await?;
        Ok(policy)
    }

    /// Removes `name` (no error when absent, as in Vault).
    pub async fn delete(&self, name: &str) -> Result<(), PasswordPolicyError> {
        Ok(self.view.delete(&Self::key(name)?).await?)
    }

    /// The names of every stored policy, sorted.
    pub async fn list(&self) -> Result<Vec<String>, PasswordPolicyError> {
        let prefix = Prefix::new(PREFIX)?;
        Ok(self
            .view
            .list(&prefix)
            .await?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect())
    }

    /// A password from the named policy; [`PasswordPolicyError::NotFound`]
    /// when there is none.
    pub async fn generate(&self, name: &str) -> Result<Sensitive, PasswordPolicyError> {
        self.policy(name)
            .await?
            .ok_or(PasswordPolicyError::NotFound)?
            .generate()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use coffer_storage::MemoryStorage;

    use super::*;

    fn store() -> (PasswordPolicyStore, Arc<MemoryStorage>) {
        let mem = Arc::new(MemoryStorage::new());
        let view = View::new(mem.clone(), Prefix::new("sys/").unwrap());
        (PasswordPolicyStore::new(view), mem)
    }

    const TEXT: &str = "length = 10\nrule \"charset\" {\n  charset = \"xyz\"\n  min-chars = 1\n}\n";

    #[test]
    fn names_follow_vaults_pattern() {
        for ok in ["a", "my-policy", "db.v2", "x_y", "A1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", ".a", "a/b", "a b", "..", "é"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn put_get_list_delete_round_trip() {
        let (s, mem) = store();
        assert_eq!(s.get("p").await.unwrap(), None);
        assert!(s.list().await.unwrap().is_empty());
        s.put("p", TEXT).await.unwrap();
        s.put("a", TEXT).await.unwrap();
        assert_eq!(s.get("p").await.unwrap().as_deref(), Some(TEXT));
        assert_eq!(s.list().await.unwrap(), ["a", "p"]);
        let raw = mem
            .get(&Key::new("sys/password_policy/p").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&raw).unwrap(),
            serde_json::json!({ "policy": TEXT })
        );
        let pw = s.generate("p").await.unwrap();
        assert_eq!(pw.expose().len(), 10);
        assert!(pw.expose().chars().all(|c| "xyz".contains(c)));
        s.delete("p").await.unwrap();
        s.delete("p").await.unwrap();
        assert_eq!(s.list().await.unwrap(), ["a"]);
        assert!(matches!(
            s.generate("p").await,
            Err(PasswordPolicyError::NotFound)
        ));
    }

    #[tokio::test]
    async fn invalid_policies_and_names_are_refused_without_writing() {
        let (s, _) = store();
        assert!(matches!(
            s.put("p", "length = 2\nrule \"charset\" { charset = \"a\" }")
                .await,
            Err(PasswordPolicyError::LengthOutOfRange)
        ));
        assert!(matches!(
            s.put("../x", TEXT).await,
            Err(PasswordPolicyError::UnsupportedPath)
        ));
        assert!(s.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn corrupt_records_are_internal_errors() {
        let (s, mem) = store();
        mem.put(
            &Key::new("sys/password_policy/bad").unwrap(),
            b"nope".to_vec(),
        )
        .await
        .unwrap();
        assert!(matches!(
            s.get("bad").await,
            Err(PasswordPolicyError::Corrupt)
        ));
        mem.put(
            &Key::new("sys/password_policy/bad").unwrap(),
            br#"{"policy":"length = 1"}"#.to_vec(),
        )
        .await
        .unwrap();
        let e = s.generate("bad").await.unwrap_err();
        assert_eq!(e.kind().status(), 500);
    }
}
