//! Random ids and Vault-style generated names, from the OS CSPRNG.

use crate::error::{IdentityError, Result};

/// A fresh UUID for an entity, alias or group (`what` names it in errors).
pub(crate) fn new_id(what: &'static str) -> Result<String> {
    coffer_crypto::random_uuid().map_err(|_| IdentityError::Random(what))
}

/// Vault's `generateName`: `<prefix>_<8 hex digits>`, drawn again until
/// `taken` says it is free.
pub(crate) fn generated_name(prefix: &str, taken: impl Fn(&str) -> bool) -> Result<String> {
    loop {
        let mut bytes = [0u8; 4];
        coffer_crypto::fill_random(&mut bytes).map_err(|_| IdentityError::Random("name"))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{prefix}_{hex}");
        if !taken(&name) {
            return Ok(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_vaults_and_avoid_taken_ones() {
        let name = generated_name("entity", |_| false).unwrap();
        assert_eq!(name.len(), "entity_".len() + 8);
        assert!(name.starts_with("entity_"));
        assert!(
            name[7..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let first = std::cell::Cell::new(true);
        let again = generated_name("group", |_| first.replace(false)).unwrap();
        assert!(again.starts_with("group_"));
        assert_ne!(new_id("entity").unwrap(), new_id("entity").unwrap());
    }
}
