//! Token roles (`auth/token/roles/:role_name`), stored in the store's view
//! under `roles/`.

use std::time::Duration;

use coffer_storage::{Key, Prefix, Storage};
use serde::{Deserialize, Serialize};

use crate::{Result, TokenError, TokenStore};

/// A token role: rules applied to tokens created through
/// `auth/token/create/:role_name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenRole {
    /// The role's name.
    pub name: String,
    /// Policies tokens may get (any subset), instead of the caller's.
    pub allowed_policies: Vec<String>,
    /// Policies tokens may not get.
    pub disallowed_policies: Vec<String>,
    /// Glob patterns of allowed policies.
    pub allowed_policies_glob: Vec<String>,
    /// Glob patterns of disallowed policies.
    pub disallowed_policies_glob: Vec<String>,
    /// Tokens are created without a parent.
    pub orphan: bool,
    /// Tokens may be renewed.
    pub renewable: bool,
    /// Appended to the token path (`auth/token/create/<role>/<suffix>`).
    pub path_suffix: String,
    /// Entity aliases (globs) allowed in `entity_alias`.
    pub allowed_entity_aliases: Vec<String>,
    /// `service`, `batch`, `default-service` or `default-batch`.
    pub token_type: String,
    /// Deprecated `explicit_max_ttl` as last written (read back as such).
    pub explicit_max_ttl: Duration,
    /// Explicit max TTL given to tokens.
    pub token_explicit_max_ttl: Duration,
    /// Deprecated `period` as last written.
    pub period: Duration,
    /// Period given to tokens.
    pub token_period: Duration,
    /// Do not add the `default` policy.
    pub token_no_default_policy: bool,
    /// Uses of created tokens (0: unlimited).
    pub token_num_uses: u64,
    /// CIDR blocks created tokens are bound to (canonical form).
    pub token_bound_cidrs: Vec<String>,
    /// Deprecated `bound_cidrs` as last written (read back as such).
    pub bound_cidrs: Vec<String>,
}

impl Default for TokenRole {
    fn default() -> Self {
        Self {
            name: String::new(),
            allowed_policies: Vec::new(),
            disallowed_policies: Vec::new(),
            allowed_policies_glob: Vec::new(),
            disallowed_policies_glob: Vec::new(),
            orphan: false,
            renewable: true,
            path_suffix: String::new(),
            allowed_entity_aliases: Vec::new(),
            token_type: "default-service".to_owned(),
            explicit_max_ttl: Duration::ZERO,
            token_explicit_max_ttl: Duration::ZERO,
            period: Duration::ZERO,
            token_period: Duration::ZERO,
            token_no_default_policy: false,
            token_num_uses: 0,
            token_bound_cidrs: Vec::new(),
            bound_cidrs: Vec::new(),
        }
    }
}

/// True for names Vault's `GenericNameRegex` accepts: word characters, `-`
/// and `.`, starting and ending with a word character.
pub fn valid_role_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = name.chars();
    match (chars.next(), name.chars().last()) {
        (Some(first), Some(last)) => {
            word(first) && word(last) && name.chars().all(|c| word(c) || c == '-' || c == '.')
        }
        _ => false,
    }
}

fn role_key(name: &str) -> Result<Key> {
    if !valid_role_name(name) {
        return Err(TokenError::invalid("invalid role name"));
    }
    Ok(Key::new(format!("roles/{name}"))?)
}

impl TokenStore {
    /// The role called `name`, if any.
    pub async fn role(&self, name: &str) -> Result<Option<TokenRole>> {
        let key = role_key(name)?;
        match self.view.get(&key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| TokenError::corrupt(key.as_str(), e)),
        }
    }

    /// Stores a role under its name.
    pub async fn put_role(&self, role: &TokenRole) -> Result<()> {
        let key = role_key(&role.name)?;
        let bytes = serde_json::to_vec(role).map_err(|e| TokenError::corrupt(key.as_str(), e))?;
        self.view.put(&key, bytes).await?;
        Ok(())
    }

    /// Deletes a role (no error if absent).
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        self.view.delete(&role_key(name)?).await?;
        Ok(())
    }

    /// The names of all roles, sorted.
    pub async fn list_roles(&self) -> Result<Vec<String>> {
        Ok(self.view.list(&Prefix::new("roles/")?).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_generic_name_regex() {
        for good in ["a", "nomad", "web-1", "a.b", "x_y"] {
            assert!(valid_role_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", ".", "..", "a/b", "a b", "é"] {
            assert!(!valid_role_name(bad), "{bad}");
        }
    }
}
