//! The storage layout, in the manager's view:
//!
//! - `id/<lease_id>`: the lease record (JSON). Lease ids contain `/`, so
//!   `id/` mirrors the request paths and listing by prefix is a storage list.
//! - `exp/<20-digit unix seconds>/<escaped lease id>`: the time index, by
//!   the second in which the lease is next due (expiry, or the retry after a
//!   failed revocation). `tick` walks it in order from the start.
//! - `token/<escaped token ref>/<escaped lease id>`: leases by creating token.
//! - `irr/<escaped lease id>`: irrevocable leases.
//!
//! Index entries have empty values; the lease id is in the key, escaped (see
//! [`escape`]) so that it is one path segment.

use std::time::SystemTime;

use coffer_storage::{Key, Prefix, StorageError};

use crate::entry::{LeaseEntry, LeaseKind};

/// Where lease records live.
pub(crate) const ID: &str = "id/";
/// The time index.
pub(crate) const EXP: &str = "exp/";
/// The by-token index.
pub(crate) const TOKEN: &str = "token/";
/// The irrevocable index.
pub(crate) const IRR: &str = "irr/";

/// The record key of a lease. `None` when `lease_id` cannot be a storage
/// key (a client-supplied id with `..` or `//`): no such lease can exist.
pub(crate) fn id_key(lease_id: &str) -> Option<Key> {
    Key::new(format!("{ID}{lease_id}")).ok()
}

/// The prefix under `id/` for listing (`""` or `a/b/`). `None` when not
/// a valid prefix.
pub(crate) fn id_prefix(prefix: &str) -> Option<Prefix> {
    Prefix::new(format!("{ID}{prefix}")).ok()
}

/// Whole seconds since the epoch (0 before it).
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The time-index folder name (no slash) of an instant.
pub(crate) fn exp_folder(t: SystemTime) -> String {
    format!("{:020}", unix_secs(t))
}

/// Parses a time-index folder as listed (`"00000000001700000000/"`).
pub(crate) fn parse_exp_folder(listed: &str) -> Option<u64> {
    let digits = listed.strip_suffix('/')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(crate) use coffer_storage::{escape_segment as escape, unescape_segment as unescape};

fn key(s: String) -> Result<Key, StorageError> {
    Key::new(s)
}

/// The time-index key of `entry`, if it is due at some point.
pub(crate) fn exp_key(entry: &LeaseEntry) -> Result<Option<Key>, StorageError> {
    entry
        .due()
        .map(|due| {
            key(format!(
                "{EXP}{}/{}",
                exp_folder(due),
                escape(&entry.lease_id)
            ))
        })
        .transpose()
}

/// The by-token folder of a token ref.
pub(crate) fn token_prefix(token_ref: &str) -> Result<Prefix, StorageError> {
    Prefix::new(format!("{TOKEN}{}/", escape(token_ref)))
}

/// The by-token index key of `entry`: only secrets are indexed by token (a
/// token's own lease is revoked with the token, as in Vault).
pub(crate) fn token_key(entry: &LeaseEntry) -> Result<Option<Key>, StorageError> {
    if entry.kind != LeaseKind::Secret || entry.token_ref.is_empty() {
        return Ok(None);
    }
    token_prefix(&entry.token_ref)?
        .join(&escape(&entry.lease_id))
        .map(Some)
}

/// The irrevocable index key of `entry`, if it is irrevocable.
pub(crate) fn irr_key(entry: &LeaseEntry) -> Result<Option<Key>, StorageError> {
    if !entry.irrevocable {
        return Ok(None);
    }
    key(format!("{IRR}{}", escape(&entry.lease_id))).map(Some)
}

/// Every index key `entry` should have.
pub(crate) fn index_keys(entry: &LeaseEntry) -> Result<Vec<Key>, StorageError> {
    Ok([exp_key(entry)?, token_key(entry)?, irr_key(entry)?]
        .into_iter()
        .flatten()
        .collect())
}

/// A fixed prefix (one of the constants above) as a [`Prefix`].
pub(crate) fn prefix(p: &str) -> Result<Prefix, StorageError> {
    Prefix::new(p)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn escaping_round_trips_and_is_one_segment() {
        for id in [
            "db/creds/web/AbC123",
            "a",
            "ü/../x",
            "",
            "..",
            "50%/x.y",
            "a\0b",
        ] {
            let e = escape(id);
            assert!(!e.contains('/') && !e.contains('.') && !e.contains('\0'));
            assert_eq!(unescape(&e).as_deref(), Some(id));
            if !id.is_empty() {
                assert!(Key::new(e).is_ok(), "{id:?}");
            }
        }
        assert_eq!(escape("db/creds/web/AbC"), "db%2Fcreds%2Fweb%2FAbC");
        for bad in ["%", "%2", "%zz", "%41", "a/b", "a.b", "%FF"] {
            assert_eq!(unescape(bad), None, "{bad}");
        }
    }

    #[test]
    fn folders_sort_by_time_and_parse_back() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let early = exp_folder(t);
        let late = exp_folder(t + Duration::from_secs(100_000_000_000));
        assert!(early < late);
        assert_eq!(parse_exp_folder(&format!("{early}/")), Some(1_700_000_000));
        assert_eq!(parse_exp_folder("123/"), None);
        assert_eq!(parse_exp_folder(&early), None, "listed folders end in /");
    }

    #[test]
    fn invalid_ids_have_no_key() {
        assert!(id_key("db/creds/x").is_some());
        assert!(id_key("db/../x").is_none());
        assert!(id_key("db//x").is_none());
        assert!(id_key("").is_none());
        assert!(id_prefix("").is_some());
        assert!(id_prefix("../").is_none());
    }
}
