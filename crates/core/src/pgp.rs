//! The PGP side of the seal lifecycle, as Vault's `helper/pgpkeys`: reading
//! the public keys `sys/init` (`pgp_keys`, `root_token_pgp_key`),
//! `sys/rekey/init` (`pgp_keys`, `backup`) and `sys/generate-root/attempt`
//! (`pgp_key`) are given, with Vault's error texts, and encrypting to them
//! what those endpoints hand out: each key share's hex encoding (Vault
//! encrypts the hex, so `gpg --decrypt` prints a share `sys/unseal` takes)
//! and root tokens. Keys are parsed before anything changes, so a bad key
//! is a 400 that leaves the server as it was. The OpenPGP work itself is
//! `coffer_crypto::openpgp`.

use crate::error::CoreError;
use base64::Engine as _;
use coffer_crypto::openpgp::PublicKey;
use coffer_crypto::{CryptoError, Secret};
use coffer_types::{Error, Request, Result};
use serde_json::{Value, json};

use crate::core::InitResult;
use crate::keys;

/// A list-of-keys body field (`pgp_keys`): a JSON array of strings or a
/// comma-separated string (base64 never holds a comma). Absent, null or
/// empty: no keys.
pub(crate) fn keys_field(req: &Request, name: &str) -> Result<Vec<String>> {
    let bad = || Error::from(CoreError::NotAStringList(name.to_owned()));
    match req.data.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split(',').map(|k| k.trim().to_owned()).collect()),
        Some(_) => Err(bad()),
    }
}

/// A one-key body field (`root_token_pgp_key`, `pgp_key`): absent, null or
/// empty is no key.
pub(crate) fn key_field(req: &Request, name: &str) -> Result<Option<String>> {
    match req.data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CoreError::NotAString(name.to_owned()).into()),
    }
}

/// Parses one key. Errors are Vault's (`error decoding given PGP key: ...`
/// for bad base64, `error parsing given PGP key: ...` otherwise) after
/// `context` (e.g. `invalid seal configuration: `).
pub(crate) fn parse_key(text: &str, context: &str) -> Result<PublicKey> {
    PublicKey::parse(text).map_err(|e| match e {
        CryptoError::PgpKeyEncoding(why) => CoreError::PgpKeyEncoding {
            context: context.to_owned(),
            why,
        }
        .into(),
        CryptoError::PgpKey(why) => CoreError::PgpKeyParse {
            context: context.to_owned(),
            why,
        }
        .into(),
        other => CoreError::PgpKeyRead(other).into(),
    })
}

/// Parses every key of a list (see [`parse_key`]).
pub(crate) fn parse_keys(texts: &[String], context: &str) -> Result<Vec<PublicKey>> {
    texts.iter().map(|t| parse_key(t, context)).collect()
}

/// Key shares encrypted to PGP keys, encoded as Vault returns them.
pub(crate) struct EncryptedShares {
    /// Hex of each OpenPGP message (`keys`).
    pub hex: Vec<String>,
    /// Base64 of each OpenPGP message (`keys_base64`).
    pub base64: Vec<String>,
    /// The fingerprint of each share's key, in order (`pgp_fingerprints`).
    pub fingerprints: Vec<String>,
}

/// Encrypts each hex-encoded share to the key of the same index. The
/// plaintext shares are zeroized once encrypted.
pub(crate) fn encrypt_shares(
    hex_shares: Vec<String>,
    keys: &[PublicKey],
) -> Result<EncryptedShares> {
    let shares: Vec<Secret<String>> = hex_shares.into_iter().map(Secret::new).collect();
    if shares.len() != keys.len() {
        return Err(CoreError::PgpCountMismatch.into());
    }
    let mut out = EncryptedShares {
        hex: Vec::with_capacity(keys.len()),
        base64: Vec::with_capacity(keys.len()),
        fingerprints: Vec::with_capacity(keys.len()),
    };
    for (share, key) in shares.iter().zip(keys) {
        let message = key
            .encrypt(share.expose().as_bytes())
            .map_err(CoreError::PgpEncrypt)?;
        out.hex.push(hex::encode(&message));
        out.base64
            .push(base64::engine::general_purpose::STANDARD.encode(&message));
        out.fingerprints.push(key.fingerprint());
    }
    Ok(out)
}

/// A root token encrypted to `key`: the base64 of the OpenPGP message, as
/// Vault returns `root_token` and `encoded_token`.
pub(crate) fn encrypt_token(token: &str, key: &PublicKey) -> Result<String> {
    let message = key
        .encrypt(token.as_bytes())
        .map_err(CoreError::PgpEncrypt)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(message))
}

/// The PGP keys `sys/init` was given, parsed before the server is
/// initialised.
pub(crate) struct InitKeys {
    shares: Vec<PublicKey>,
    root_token: Option<PublicKey>,
}

impl InitKeys {
    /// Reads `pgp_keys` (one per share: Vault checks the share counts
    /// first, then the number of keys, then each key) and
    /// `root_token_pgp_key`.
    pub(crate) fn from_request(req: &Request, shares: u32, threshold: u32) -> Result<Self> {
        let texts = keys_field(req, "pgp_keys")?;
        let share_keys = if texts.is_empty() {
            Vec::new()
        } else {
            keys::validate_shares(shares, threshold)?;
            if texts.len() != shares as usize {
                return Err(CoreError::InitPgpCount.into());
            }
            parse_keys(&texts, "invalid seal configuration: ")?
        };
        let root_token = key_field(req, "root_token_pgp_key")?
            .map(|t| parse_key(&t, ""))
            .transpose()?;
        Ok(Self {
            shares: share_keys,
            root_token,
        })
    }

    /// Vault's `sys/init` answer for `result`: `keys` and `keys_base64` are
    /// the hex and base64 of the encrypted shares when `pgp_keys` was
    /// given, `root_token` the base64 of the encrypted token when
    /// `root_token_pgp_key` was.
    pub(crate) fn answer(&self, result: &InitResult) -> Result<Value> {
        let expose = |v: &[coffer_types::Sensitive]| {
            v.iter().map(|s| s.expose().to_owned()).collect::<Vec<_>>()
        };
        let (keys, keys_base64) = if self.shares.is_empty() {
            (expose(&result.keys), expose(&result.keys_base64))
        } else {
            let encrypted = encrypt_shares(expose(&result.keys), &self.shares)?;
            (encrypted.hex, encrypted.base64)
        };
        let root_token = match &self.root_token {
            Some(key) => encrypt_token(result.root_token.expose(), key)?,
            None => result.root_token.expose().to_owned(),
        };
        Ok(json!({
            "keys": keys,
            "keys_base64": keys_base64,
            "root_token": root_token,
        }))
    }
}

/// The PGP side of a rekey: the keys the new shares go to, and whether the
/// encrypted shares are kept for `sys/rekey/backup`.
#[derive(Clone, Default)]
pub(crate) struct RekeyKeys {
    keys: Vec<PublicKey>,
    backup: bool,
}

impl RekeyKeys {
    /// Reads `pgp_keys` and `backup` of `sys/rekey/init` with Vault's checks
    /// and texts: a backup needs keys, the keys must be one per new share,
    /// the share counts must be valid, and every key must parse.
    pub(crate) fn from_request(req: &Request, shares: u32, threshold: u32) -> Result<Self> {
        let texts = keys_field(req, "pgp_keys")?;
        let backup = crate::sys::status::field_bool(req, "backup")?;
        if backup && texts.is_empty() {
            return Err(CoreError::BackupWithoutPgp.into());
        }
        if !texts.is_empty() && texts.len() != shares as usize {
            return Err(CoreError::RekeyPgpCount.into());
        }
        keys::validate_shares(shares, threshold)?;
        Ok(Self {
            keys: parse_keys(&texts, "invalid rekey seal configuration: ")?,
            backup,
        })
    }

    /// Whether the new shares are PGP-encrypted.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the encrypted shares are backed up.
    pub(crate) fn backup(&self) -> bool {
        self.backup
    }

    /// The keys' fingerprints, in order: `null` without keys, as Vault.
    pub(crate) fn fingerprints(&self) -> Value {
        if self.keys.is_empty() {
            Value::Null
        } else {
            json!(
                self.keys
                    .iter()
                    .map(PublicKey::fingerprint)
                    .collect::<Vec<_>>()
            )
        }
    }

    /// Encrypts the new hex-encoded shares, one per key.
    pub(crate) fn encrypt(&self, hex_shares: Vec<String>) -> Result<EncryptedShares> {
        encrypt_shares(hex_shares, &self.keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Operation;

    fn request(body: Value) -> Request {
        Request::new(Operation::Update, "sys/init")
            .with_data(body.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn key_lists_take_arrays_and_comma_strings() {
        let r =
            request(json!({"a": ["x", "y"], "b": "x, y", "c": "", "d": null, "e": 3, "f": [1]}));
        assert_eq!(keys_field(&r, "a").unwrap(), ["x", "y"]);
        assert_eq!(keys_field(&r, "b").unwrap(), ["x", "y"]);
        assert!(keys_field(&r, "c").unwrap().is_empty());
        assert!(keys_field(&r, "d").unwrap().is_empty());
        assert!(keys_field(&r, "missing").unwrap().is_empty());
        assert!(keys_field(&r, "e").is_err());
        assert!(keys_field(&r, "f").is_err());
        assert_eq!(key_field(&r, "b").unwrap().as_deref(), Some("x, y"));
        assert_eq!(key_field(&r, "c").unwrap(), None);
        assert!(key_field(&r, "e").is_err());
    }

    /// Public keys GnuPG exported (see the crypto crate's testdata README).
    const RSA3072: &str = include_str!("../../foundation/crypto/src/openpgp/testdata/rsa3072.asc");
    const CV25519: &str = include_str!("../../foundation/crypto/src/openpgp/testdata/cv25519.asc");
    const RSA_FP: &str = "1e5d6ec3dccacbeafbaac141f7e0a81fe7f47e75";
    const CV_FP: &str = "a8e9e028a2fb7542777ef50cc78519eeca10020a";

    /// Hex shares long enough never to appear in a ciphertext by chance.
    const SHARE_ONE: &str = "5eed1e55c0ffee0ddba11ca75eed1e55c0ffee0d";
    const SHARE_TWO: &str = "0b5e55edfee1900d0b5e55edfee1900d0b5e55ed";

    /// The key ID a message's first packet (a new-format PKESK) names.
    fn pkesk_key_id(message: &[u8]) -> String {
        assert_eq!(message[0], 0xc1, "a PKESK packet first");
        let body = if message[1] < 192 { 2 } else { 3 };
        assert_eq!(message[body], 3, "PKESK version 3");
        hex::encode(&message[body + 1..body + 9])
    }

    #[test]
    fn init_answer_encrypts_shares_and_token() {
        let req = request(json!({
            "pgp_keys": [RSA3072, CV25519],
            "root_token_pgp_key": CV25519,
        }));
        let keys = InitKeys::from_request(&req, 2, 2).unwrap();
        let result = InitResult {
            keys: vec![SHARE_ONE.into(), SHARE_TWO.into()],
            keys_base64: vec!["qhE=".into(), "uyI=".into()],
            root_token: "hvs.ABCDEFGHIJKLMNOPQRSTUVWX".into(),
        };
        let answer = keys.answer(&result).unwrap();
        let hex_keys: Vec<&str> = answer["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(hex_keys.len(), 2);
        for (i, (h, b)) in hex_keys
            .iter()
            .zip(answer["keys_base64"].as_array().unwrap())
            .enumerate()
        {
            let message = hex::decode(h).unwrap();
            assert_eq!(
                base64::engine::general_purpose::STANDARD
                    .decode(b.as_str().unwrap())
                    .unwrap(),
                message
            );
            // Each share goes to its own key's encryption subkey (the key
            // IDs gpg lists).
            assert_eq!(
                pkesk_key_id(&message),
                ["36ea901f5a608cc8", "6190d67aa7a5e3fe"][i]
            );
            // Neither the hex nor the base64 plaintext share shows through.
            assert!(!h.contains(SHARE_ONE) && !h.contains(SHARE_TWO));
        }
        let token = answer["root_token"].as_str().unwrap();
        assert!(!token.starts_with("hvs."));
        let message = base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap();
        assert_eq!(pkesk_key_id(&message), "6190d67aa7a5e3fe");

        // Without keys, the plaintext answer as before.
        let plain = InitKeys::from_request(&request(json!({})), 2, 2)
            .unwrap()
            .answer(&result)
            .unwrap();
        assert_eq!(plain["keys"], json!([SHARE_ONE, SHARE_TWO]));
        assert_eq!(plain["root_token"], json!("hvs.ABCDEFGHIJKLMNOPQRSTUVWX"));
    }

    #[test]
    fn rekey_keys_report_fingerprints_in_order() {
        let req = request(json!({"pgp_keys": [CV25519, RSA3072], "backup": true}));
        let keys = RekeyKeys::from_request(&req, 2, 2).unwrap();
        assert!(!keys.is_empty() && keys.backup());
        assert_eq!(keys.fingerprints(), json!([CV_FP, RSA_FP]));
        let encrypted = keys.encrypt(vec!["01".into(), "02".into()]).unwrap();
        assert_eq!(encrypted.fingerprints, [CV_FP, RSA_FP]);
        assert_eq!(encrypted.hex.len(), 2);
        assert!(keys.encrypt(vec!["01".into()]).is_err());
    }

    #[test]
    fn bad_keys_get_vaults_messages() {
        let err = parse_key("not*base64", "invalid seal configuration: ").unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.messages(),
            [
                "invalid seal configuration: error decoding given PGP key: illegal base64 data at input byte 3"
            ]
        );
        let err = parse_key("AAAA", "").unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(
            err.messages()[0].starts_with("error parsing given PGP key: malformed OpenPGP key"),
            "{:?}",
            err.messages()
        );
    }

    #[test]
    fn init_checks_counts_before_keys() {
        // Share counts first (Vault's Validate order), then the number of
        // keys, and only then the keys themselves.
        let two = request(json!({"pgp_keys": ["AAAA", "AAAA"]}));
        let msg = |r: Result<InitKeys>| r.err().unwrap().messages()[0].clone();
        assert_eq!(
            msg(InitKeys::from_request(&two, 2, 1)),
            "threshold must be greater than one for multiple shares"
        );
        assert_eq!(
            msg(InitKeys::from_request(&two, 3, 2)),
            "invalid seal configuration: count mismatch between number of provided PGP keys and number of shares"
        );
        assert!(
            msg(InitKeys::from_request(&two, 2, 2))
                .starts_with("invalid seal configuration: error parsing given PGP key:")
        );
        let none = InitKeys::from_request(&request(json!({})), 5, 3).unwrap();
        assert!(none.shares.is_empty() && none.root_token.is_none());
        assert!(
            msg(InitKeys::from_request(
                &request(json!({"root_token_pgp_key": "@@"})),
                1,
                1
            ))
            .starts_with("error decoding given PGP key:")
        );
    }

    #[test]
    fn rekey_checks_backup_then_count_then_keys() {
        let msg = |body: Value, n, t| {
            RekeyKeys::from_request(&request(body), n, t)
                .err()
                .unwrap()
                .messages()[0]
                .clone()
        };
        assert_eq!(
            msg(json!({"backup": true}), 1, 1),
            "cannot request a backup of the new keys without providing PGP keys for encryption"
        );
        assert_eq!(
            msg(json!({"pgp_keys": ["AAAA"]}), 2, 2),
            "incorrect number of PGP keys for rekey"
        );
        assert!(
            msg(json!({"pgp_keys": ["AAAA"]}), 1, 1)
                .starts_with("invalid rekey seal configuration: error parsing given PGP key:")
        );
        let plain = RekeyKeys::from_request(&request(json!({"backup": false})), 3, 2).unwrap();
        assert!(plain.is_empty() && !plain.backup());
        assert_eq!(plain.fingerprints(), Value::Null);
    }
}
