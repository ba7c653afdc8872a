//! Decoding key shares from what operators type, and collecting them.

use crate::error::CoreError;
use coffer_crypto::Secret;
use coffer_types::Result;

/// Decodes a key share given as hex or base64 (Vault accepts both).
pub(crate) fn decode_share(input: &str) -> Result<Secret<Vec<u8>>> {
    use base64::Engine as _;
    let input = input.trim();
    if input.is_empty() {
        return Err(CoreError::KeyMissing.into());
    }
    if let Ok(bytes) = hex::decode(input) {
        return Ok(Secret::new(bytes));
    }
    base64::engine::general_purpose::STANDARD
        .decode(input)
        .map(Secret::new)
        .map_err(|_| CoreError::KeyEncoding.into())
}

/// Key shares gathered toward a threshold.
#[derive(Default)]
pub(crate) struct ShareCollector {
    shares: Vec<Secret<Vec<u8>>>,
}

impl ShareCollector {
    /// How many shares have been given.
    pub fn progress(&self) -> usize {
        self.shares.len()
    }

    /// Forgets every share (they are zeroized on drop).
    pub fn reset(&mut self) {
        self.shares.clear();
    }

    /// Adds a share; a share given twice is refused.
    pub fn add(&mut self, share: Secret<Vec<u8>>) -> Result<()> {
        if self
            .shares
            .iter()
            .any(|s| coffer_crypto::ct_eq(s.expose(), share.expose()))
        {
            return Err(CoreError::DuplicateShare.into());
        }
        self.shares.push(share);
        Ok(())
    }

    /// Combines the shares into the 32-byte key they encode. With one share and
    /// a threshold of one, the share is the key.
    pub fn combine(&self, threshold: u32) -> Result<Secret<[u8; 32]>> {
        let combined = if threshold == 1 {
            match self.shares.first() {
                Some(s) => Secret::new(s.expose().clone()),
                None => return Err(CoreError::NoShares.into()),
            }
        } else {
            let parts: Vec<&[u8]> = self.shares.iter().map(|s| s.expose().as_slice()).collect();
            coffer_crypto::combine_shares(&parts).map_err(CoreError::CombineShares)?
        };
        let bytes: [u8; 32] = combined
            .expose()
            .as_slice()
            .try_into()
            .map_err(|_| CoreError::CombinedKeyLength)?;
        Ok(Secret::new(bytes))
    }
}

/// Splits a fresh unseal key into shares, hex- and base64-encoded as Vault returns them.
pub(crate) fn split_key(
    key: &Secret<[u8; 32]>,
    shares: u32,
    threshold: u32,
) -> Result<(Vec<String>, Vec<String>)> {
    use base64::Engine as _;
    let parts = if shares == 1 {
        vec![Secret::new(key.expose().to_vec())]
    } else {
        let (t, n) = (
            u8::try_from(threshold).map_err(|_| CoreError::ThresholdTooLarge)?,
            u8::try_from(shares).map_err(|_| CoreError::SharesTooLarge)?,
        );
        coffer_crypto::split_secret(key.expose(), t, n).map_err(CoreError::SplitKey)?
    };
    let hex = parts.iter().map(|p| hex::encode(p.expose())).collect();
    let b64 = parts
        .iter()
        .map(|p| base64::engine::general_purpose::STANDARD.encode(p.expose()))
        .collect();
    Ok((hex, b64))
}

/// Checks `secret_shares`/`secret_threshold` as Vault does.
pub(crate) fn validate_shares(shares: u32, threshold: u32) -> Result<()> {
    if shares == 0 {
        return Err(CoreError::ZeroShares.into());
    }
    if threshold == 0 {
        return Err(CoreError::ZeroThreshold.into());
    }
    if shares > 1 && threshold == 1 {
        return Err(CoreError::ThresholdOneOfMany.into());
    }
    if shares > 255 {
        return Err(CoreError::TooManyShares.into());
    }
    if threshold > shares {
        return Err(CoreError::ThresholdAboveShares.into());
    }
    Ok(())
}
