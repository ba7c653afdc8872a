//! Stored users: names, entries and their storage layout (`user/<name>`).

use coffer_sdk::Call;
use coffer_sdk::token_fields::TokenFields;
use coffer_storage::{Key, Prefix, Storage, View};
use serde::{Deserialize, Serialize};

use crate::UserpassError;

/// Where users live in the mount's storage view.
const USER_PREFIX: &str = "user/";

/// One user: its token parameters and its Argon2id password hash (PHC).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct UserEntry {
    /// The `token_*` parameters (and deprecated names).
    pub token: TokenFields,
    /// The PHC string of the password; never shown to clients or logged.
    pub password_hash: String,
}

impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry")
            .field("token", &self.token)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Validates a username from a path as Vault's route does
/// (`\w(([\w-.@]+)?\w)?`) and lowercases it, as Vault stores users.
pub(crate) fn normalize(name: &str) -> Result<String, UserpassError> {
    let b = name.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return Err(UserpassError::InvalidUsername);
    };
    let middle_ok = b
        .iter()
        .all(|&c| is_word(c) || c == b'-' || c == b'.' || c == b'@');
    if !is_word(*first) || !is_word(*last) || !middle_ok {
        return Err(UserpassError::InvalidUsername);
    }
    Ok(name.to_ascii_lowercase())
}

/// The normalized username a call's path captured (`:username`); 404 for a
/// name Vault's route would not match.
pub(crate) fn from_call(call: &Call<'_>) -> Result<String, UserpassError> {
    normalize(call.capture("username"))
}

fn key(name: &str) -> Result<Key, UserpassError> {
    Ok(Key::new(format!("{USER_PREFIX}{name}"))?)
}

/// The user `name` (already normalized), if it exists.
pub(crate) async fn load(storage: &View, name: &str) -> Result<Option<UserEntry>, UserpassError> {
    match storage.get(&key(name)?).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| UserpassError::Corrupt),
    }
}

/// Stores the user `name` (already normalized).
pub(crate) async fn save(
    storage: &View,
    name: &str,
    entry: &UserEntry,
) -> Result<(), UserpassError> {
    let bytes = serde_json::to_vec(entry).map_err(|_| UserpassError::Encode)?;
    Ok(storage.put(&key(name)?, bytes).await?)
}

/// Deletes the user `name` (already normalized); absent users are fine.
pub(crate) async fn delete(storage: &View, name: &str) -> Result<(), UserpassError> {
    Ok(storage.delete(&key(name)?).await?)
}

/// Every username, sorted.
pub(crate) async fn list(storage: &View) -> Result<Vec<String>, UserpassError> {
    Ok(storage.list(&Prefix::new(USER_PREFIX)?).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_vaults_pattern_and_are_lowercased() {
        assert_eq!(normalize("Alice").unwrap(), "alice");
        assert_eq!(normalize("a").unwrap(), "a");
        assert_eq!(
            normalize("bob.smith@example-corp_1").unwrap(),
            "bob.smith@example-corp_1"
        );
        for bad in ["", "-a", "a-", ".a", "a b", "a/b", "é", "a\u{0}"] {
            assert!(
                matches!(normalize(bad), Err(UserpassError::InvalidUsername)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_hides_the_hash() {
        let e = UserEntry {
            password_hash: "$argon2id$secret-hash".into(),
            ..UserEntry::default()
        };
        assert!(!format!("{e:?}").contains("argon2id"));
    }
}
