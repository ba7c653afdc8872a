//! Detecting a deleted, replaced or truncated audit file by comparing it with
//! the log head the server holds (in memory while running, in the barrier at
//! start-up). The head is only ever persisted after the records it counts
//! were fsync'ed, so a file shorter than the head was cut by someone else.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::Value;

/// Largest tail read while looking for the last record (records larger than
/// this are not checked by sequence number, only by size).
const MAX_TAIL: u64 = 16 * 1024 * 1024;

/// What the server expects to find in the file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expected {
    /// Bytes the file had after our last durable write.
    pub len: u64,
    /// `(st_dev, st_ino)` of the file the device has open, while running.
    pub id: Option<(u64, u64)>,
    /// Records in the log (the next sequence number).
    pub head_size: u64,
}

/// What was found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FileCheck {
    /// The file's size, when it exists.
    pub size: Option<u64>,
    /// The sequence number of the last record in the file.
    pub last_seq: Option<u64>,
    /// The tampering detected, if any.
    pub problem: Option<String>,
}

/// Checks the file at `path` against `expected`. Never panics on any file
/// content.
pub(crate) fn check_file(path: &Path, expected: Expected, prefix: &str) -> FileCheck {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let problem = (expected.len > 0 || expected.id.is_some()).then(|| {
                format!(
                    "audit file {shown:?} was deleted; the log head holds {} records",
                    expected.head_size
                )
            });
            return FileCheck {
                problem,
                ..FileCheck::default()
            };
        }
        Err(e) => {
            return FileCheck {
                problem: Some(format!("audit file {shown:?} cannot be inspected: {e}")),
                ..FileCheck::default()
            };
        }
    };
    let size = meta.len();
    let last_seq = last_record_seq(path, size, prefix);
    let mut check = FileCheck {
        size: Some(size),
        last_seq,
        problem: None,
    };
    if let Some(id) = expected.id
        && id != (meta.dev(), meta.ino())
    {
        check.problem = Some(format!(
            "audit file {shown:?} was replaced or moved; the server still writes to the file it opened (send SIGHUP after rotating logs)"
        ));
        return check;
    }
    if size < expected.len {
        check.problem = Some(format!(
            "audit file {shown:?} was truncated: {size} bytes on disk, {} written",
            expected.len
        ));
    } else if let Some(seq) = last_seq
        && seq.saturating_add(1) < expected.head_size
    {
        check.problem = Some(format!(
            "audit file {shown:?} was truncated: its last record is {seq}, the log head holds {} records",
            expected.head_size
        ));
    }
    check
}

/// The `seq` of the last record line (not a checkpoint) in the file, read
/// from its tail.
fn last_record_seq(path: &Path, size: u64, prefix: &str) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    let mut window = 64 * 1024u64;
    loop {
        let start = size.saturating_sub(window);
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut buf = Vec::new();
        file.by_ref()
            .take(size - start)
            .read_to_end(&mut buf)
            .ok()?;
        // The first piece may be a partial line unless we read from the start.
        let mut pieces: Vec<&[u8]> = buf.split(|b| *b == b'\n').collect();
        if start > 0 && !pieces.is_empty() {
            pieces.remove(0);
        }
        for line in pieces.iter().rev() {
            if let Some(seq) = record_seq(line, prefix) {
                return Some(seq);
            }
        }
        if start == 0 || window >= MAX_TAIL {
            return None;
        }
        window *= 4;
    }
}

fn record_seq(line: &[u8], prefix: &str) -> Option<u64> {
    let body = line.strip_prefix(prefix.as_bytes()).unwrap_or(line);
    let value: Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    if obj.get("type").and_then(Value::as_str) == Some("checkpoint") {
        return None;
    }
    obj.get("seq")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, lines: &[&str]) {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        std::fs::write(path, s).unwrap();
    }

    #[test]
    fn detects_deletion_truncation_and_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        write(
            &path,
            &[
                r#"p:{"seq":0,"type":"request"}"#,
                r#"p:{"seq":1,"type":"response"}"#,
                r#"p:{"type":"checkpoint","size":2}"#,
            ],
        );
        let size = std::fs::metadata(&path).unwrap().len();
        let meta = std::fs::metadata(&path).unwrap();
        let id = Some((meta.dev(), meta.ino()));
        let ok = check_file(
            &path,
            Expected {
                len: size,
                id,
                head_size: 2,
            },
            "p:",
        );
        assert_eq!(ok.problem, None);
        assert_eq!(ok.last_seq, Some(1));

        let more = check_file(
            &path,
            Expected {
                len: size,
                id,
                head_size: 3,
            },
            "p:",
        );
        assert!(more.problem.unwrap().contains("its last record is 1"));

        let short = check_file(
            &path,
            Expected {
                len: size + 1,
                id,
                head_size: 2,
            },
            "p:",
        );
        assert!(short.problem.unwrap().contains("was truncated"));

        let other = check_file(
            &path,
            Expected {
                len: size,
                id: Some((0, 0)),
                head_size: 2,
            },
            "p:",
        );
        assert!(other.problem.unwrap().contains("replaced or moved"));

        std::fs::remove_file(&path).unwrap();
        let gone = check_file(
            &path,
            Expected {
                len: size,
                id,
                head_size: 2,
            },
            "p:",
        );
        assert!(gone.problem.unwrap().contains("was deleted"));
        // A rotated-away file nobody wrote to yet is not a problem.
        let fresh = check_file(
            &path,
            Expected {
                len: 0,
                id: None,
                head_size: 2,
            },
            "p:",
        );
        assert_eq!(fresh.problem, None);
    }

    #[test]
    fn garbage_files_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.log");
        std::fs::write(&path, [0xffu8, b'\n', b'{', b'\n', b'[', b']']).unwrap();
        let c = check_file(
            &path,
            Expected {
                len: 0,
                id: None,
                head_size: 5,
            },
            "",
        );
        assert_eq!(c.last_seq, None);
        assert_eq!(c.problem, None);
        let big = "x".repeat(200_000);
        write(&path, &[r#"{"seq":7}"#, &big]);
        let c = check_file(
            &path,
            Expected {
                len: 0,
                id: None,
                head_size: 8,
            },
            "",
        );
        assert_eq!(c.last_seq, Some(7));
    }
}
