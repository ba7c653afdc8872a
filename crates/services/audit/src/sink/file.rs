//! The `file` device's sink: an append-only file, fsync'ed after every write.

use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use super::{OpenFile, Sink};

/// An append-only audit file.
pub(crate) struct FileSink {
    path: PathBuf,
    mode: Option<u32>,
    file: File,
    open: OpenFile,
}

fn open_file(path: &PathBuf, mode: Option<u32>) -> Result<(File, OpenFile), String> {
    let fail = |e: std::io::Error| {
        format!(
            "sanity check failed; unable to open {:?} for writing: {e}",
            path.display().to_string()
        )
    };
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode.unwrap_or(0o600))
        .open(path)
        .map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
    if meta.is_dir() {
        return Err(format!(
            "sanity check failed; {:?} is a directory",
            path.display().to_string()
        ));
    }
    if let (Some(mode), true) = (mode, meta.is_file()) {
        // An existing file keeps its mode on open; Vault sets it. Device
        // files (`/dev/null`) are left alone.
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    let open = OpenFile {
        regular: meta.is_file(),
        path: path.clone(),
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
    };
    Ok((file, open))
}

impl FileSink {
    /// Opens (creating if needed) `path` append-only with `mode`.
    pub(crate) fn open(path: PathBuf, mode: Option<u32>) -> Result<Self, String> {
        let (file, open) = open_file(&path, mode)?;
        Ok(Self {
            path,
            mode,
            file,
            open,
        })
    }

    fn try_write(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        for line in lines {
            self.file.write_all(line)?;
        }
        self.file.sync_data()
    }
}

impl Sink for FileSink {
    fn write_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        let path = self.path.display().to_string();
        let before = self
            .file
            .metadata()
            .map_err(|e| format!("audit file {path:?}: {e}"))?
            .len();
        match self.try_write(lines) {
            Ok(()) => {
                self.open.len = before + lines.iter().map(|l| l.len() as u64).sum::<u64>();
                Ok(())
            }
            Err(e) => {
                // Cut any partial line so the next record starts on a clean
                // line and the file never holds a record we report as failed.
                if self.open.regular
                    && let Err(t) = self
                        .file
                        .set_len(before)
                        .and_then(|()| self.file.sync_data())
                {
                    tracing::error!(path = %path, error = %t, "could not truncate audit file after a failed write");
                }
                Err(format!("writing audit file {path:?}: {e}"))
            }
        }
    }

    fn reopen(&mut self) -> Result<(), String> {
        let (file, open) = open_file(&self.path, self.mode)?;
        self.file = file;
        self.open = open;
        Ok(())
    }

    fn open_file(&self) -> Option<OpenFile> {
        Some(self.open.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_with_mode_and_reopens_after_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, b"existing\n").unwrap();
        let mut sink = FileSink::open(path.clone(), Some(0o600)).unwrap();
        sink.write_lines(&[b"one\n".to_vec(), b"two\n".to_vec()])
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"existing\none\ntwo\n");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(sink.open_file().unwrap().len, meta.len());

        let rotated = dir.path().join("audit.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        sink.write_lines(&[b"three\n".to_vec()]).unwrap();
        assert!(!path.exists());
        sink.reopen().unwrap();
        sink.write_lines(&[b"four\n".to_vec()]).unwrap();
        assert_eq!(
            std::fs::read(&rotated).unwrap(),
            b"existing\none\ntwo\nthree\n"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"four\n");
        assert_eq!(sink.open_file().unwrap().len, 5);
    }

    #[test]
    fn unwritable_paths_fail_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let err = FileSink::open(dir.path().join("missing/dir/audit.log"), None)
            .err()
            .unwrap();
        assert!(
            err.starts_with("sanity check failed; unable to open"),
            "{err}"
        );
        let err = FileSink::open(dir.path().to_path_buf(), None)
            .err()
            .unwrap();
        assert!(err.contains("sanity check failed"), "{err}");
    }
}
