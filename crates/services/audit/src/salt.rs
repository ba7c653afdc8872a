//! A device's salt: the HMAC key its records' strings are hashed under.

use coffer_crypto::{Secret, hmac_sha256, random_key};

use crate::AuditError;

/// Length of a salt in bytes.
pub const SALT_LEN: usize = 32;

/// The prefix Vault puts in front of every hashed value.
pub const HMAC_PREFIX: &str = "hmac-sha256:";

/// A per-device HMAC-SHA256 key (32 random bytes kept in the barrier). Never
/// printed.
#[derive(Clone, Debug)]
pub struct Salt(Secret<[u8; SALT_LEN]>);

impl Salt {
    /// A fresh random salt from the OS CSPRNG.
    pub fn generate() -> Result<Self, AuditError> {
        random_key()
            .map(Salt)
            .map_err(|e| AuditError::Internal(format!("generating a salt: {e}")))
    }

    /// A salt from its stored bytes; fails unless there are exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuditError> {
        let arr: [u8; SALT_LEN] = bytes
            .try_into()
            .map_err(|_| AuditError::Internal("stored salt has the wrong length".into()))?;
        Ok(Salt(Secret::new(arr)))
    }

    /// The bytes to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.expose().to_vec()
    }

    /// Vault's identified HMAC: `hmac-sha256:<hex of HMAC-SHA256(salt, input)>`.
    pub fn hash(&self, input: &str) -> String {
        let mac = hmac_sha256(self.0.expose(), input.as_bytes());
        format!("{HMAC_PREFIX}{}", hex::encode(mac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_hmac_sha256_identified() {
        let salt = Salt::from_bytes(&[7u8; 32]).unwrap();
        let expected = hex::encode(hmac_sha256(&[7u8; 32], b"hunter2"));
        assert_eq!(salt.hash("hunter2"), format!("hmac-sha256:{expected}"));
        assert_ne!(salt.hash("hunter2"), salt.hash("hunter3"));
    }

    #[test]
    fn salts_are_random_and_round_trip() {
        let a = Salt::generate().unwrap();
        let b = Salt::generate().unwrap();
        assert_ne!(a.hash("x"), b.hash("x"));
        let a2 = Salt::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(a.hash("x"), a2.hash("x"));
        assert!(Salt::from_bytes(&[1, 2, 3]).is_err());
        assert_eq!(format!("{a:?}"), "Salt([redacted])");
    }
}
