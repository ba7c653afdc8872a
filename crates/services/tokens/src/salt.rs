//! The per-store salt, and the HMACs under it that name tokens and accessors
//! in storage.

use coffer_crypto::{HmacSha256Key, Secret, random_key};
use coffer_storage::{Key, Storage, View};
use tokio::sync::OnceCell;

use crate::{Result, TokenError};

const SALT_KEY: &str = "salt";
const SALT_LEN: usize = 32;

/// Loads the salt from the view on first use, creating it if absent.
pub(crate) struct Salt {
    cell: OnceCell<HmacSha256Key>,
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

impl Salt {
    pub(crate) fn new() -> Self {
        Self {
            cell: OnceCell::new(),
        }
    }

    async fn get(&self, view: &View) -> Result<&HmacSha256Key> {
        self.cell
            .get_or_try_init(|| async {
                let key = Key::new(SALT_KEY)?;
                if let Some(existing) = view.get(&key).await? {
                    // Wiped when dropped: only the prepared key stays.
                    let existing = Secret::new(existing);
                    if existing.expose().len() != SALT_LEN {
                        return Err(TokenError::corrupt(SALT_KEY, "salt has the wrong length"));
                    }
                    return Ok(HmacSha256Key::new(existing.expose()));
                }
                let fresh = random_key()?;
                view.put(&key, fresh.expose().to_vec()).await?;
                Ok(HmacSha256Key::new(fresh.expose()))
            })
            .await
    }

    async fn hmac_hex(&self, view: &View, domain: &[u8], value: &str) -> Result<String> {
        let salt = self.get(view).await?;
        let mut msg = Vec::with_capacity(domain.len() + value.len());
        msg.extend_from_slice(domain);
        msg.extend_from_slice(value.as_bytes());
        let mac = salt.sign(&msg);
        zeroize_vec(&mut msg);
        Ok(to_hex(&mac))
    }

    /// The storage id of a token.
    pub(crate) async fn token_id(&self, view: &View, token: &str) -> Result<String> {
        self.hmac_hex(view, b"token\0", token).await
    }

    /// The storage id of an accessor.
    pub(crate) async fn accessor_id(&self, view: &View, accessor: &str) -> Result<String> {
        self.hmac_hex(view, b"accessor\0", accessor).await
    }
}

fn zeroize_vec(v: &mut [u8]) {
    for b in v.iter_mut() {
        // Overwrite the copy of the token; a plain loop is enough here since
        // the buffer is dropped right after and never read again.
        *b = 0;
    }
    std::hint::black_box(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_storage::{MemoryStorage, Prefix};
    use std::sync::Arc;

    #[tokio::test]
    async fn salt_is_created_once_and_persisted() {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let view = View::new(mem, Prefix::new("sys/token/").unwrap());
        let a = Salt::new().token_id(&view, "hvs.abc").await.unwrap();
        let b = Salt::new().token_id(&view, "hvs.abc").await.unwrap();
        assert_eq!(a, b, "a second store instance reuses the stored salt");
        assert_eq!(a.len(), 64);
        let acc = Salt::new().accessor_id(&view, "hvs.abc").await.unwrap();
        assert_ne!(a, acc, "token and accessor hashes are domain separated");
    }

    #[test]
    fn hex_encoding() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x10]), "00ab10");
    }
}
