//! The storage layout, in the scheduler's view:
//!
//! - `job/<escaped id>`: the job record (JSON [`JobState`](crate::JobState)).
//! - `due/<20-digit unix seconds>/<escaped id>`: the next-run index, by the
//!   second the job is next due; `tick` walks it in order from the start.
//!   Entries have empty values.
//!
//! Ids contain `/`, so they are escaped into one path segment.

use std::time::SystemTime;

use coffer_storage::{Key, Prefix, StorageError};

use crate::civil::UtcSecs;

/// Where job records live.
pub(crate) const JOB: &str = "job/";
/// The next-run index.
pub(crate) const DUE: &str = "due/";

pub(crate) use coffer_storage::{escape_segment as escape, unescape_segment as unescape};

/// The record key of job `id`.
pub(crate) fn job_key(id: &str) -> Result<Key, StorageError> {
    Key::new(format!("{JOB}{}", escape(id)))
}

/// The whole second `t` falls in.
pub(crate) fn secs(t: SystemTime) -> u64 {
    u64::try_from(UtcSecs::from_system(t).0).unwrap_or(0)
}

/// The index folder (no slash) of the second `t` falls in.
pub(crate) fn due_folder(t: SystemTime) -> String {
    format!("{:020}", secs(t))
}

/// Parses an index folder as listed (`"00000000001700000000/"`).
pub(crate) fn parse_due_folder(listed: &str) -> Option<u64> {
    let digits = listed.strip_suffix('/')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The index key of job `id` due at `t`.
pub(crate) fn due_key(id: &str, t: SystemTime) -> Result<Key, StorageError> {
    Key::new(format!("{DUE}{}/{}", due_folder(t), escape(id)))
}

/// The index prefix.
pub(crate) fn due_prefix() -> Prefix {
    // "due/" is a constant, valid prefix; fall back to the root (an empty
    // listing of nothing due) rather than panic.
    Prefix::new(DUE).unwrap_or_default()
}

/// The records prefix.
pub(crate) fn job_prefix() -> Prefix {
    // As for `due_prefix`: a constant, valid prefix.
    Prefix::new(JOB).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn escape_round_trips_and_is_one_segment() {
        for id in ["database/static-roles/web", "..", "a%2Fb", "x.y/./z", "ünï"] {
            let e = escape(id);
            assert!(!e.contains('/') && e != "." && e != "..", "{e}");
            assert_eq!(unescape(&e).as_deref(), Some(id));
        }
        assert_eq!(unescape("a/b"), None);
        assert_eq!(unescape("%41"), None);
        assert_eq!(unescape("%4"), None);
    }

    #[test]
    fn due_keys_sort_by_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            due_key("db/x", t).unwrap().as_str(),
            "due/00000000001700000000/db%2Fx"
        );
        assert!(due_folder(t) < due_folder(t + Duration::from_secs(1)));
        assert_eq!(
            parse_due_folder("00000000001700000000/"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_due_folder("123/"), None);
        assert_eq!(parse_due_folder("00000000001700000000"), None);
    }
}
