//! Vault's default token helper: the token cached in `~/.vault-token`, written
//! with mode 0600 (atomically, through a temporary file and a rename). Reading
//! it is the client's job (`coffer_client::token_file`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use coffer_client::token_file;
use coffer_types::Sensitive;

/// `$HOME/.vault-token`, or `None` when `HOME` is not set.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| token_file::token_path(Path::new(&home)))
}

/// Stores `token` at `path` with mode 0600, replacing any previous token.
pub fn store(path: &Path, token: &Sensitive) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".vault-token.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| -> Result<()> {
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("Error creating token file in {}", dir.display()))?;
        file.write_all(token.expose().as_bytes())
            .and_then(|()| file.sync_all())
            .context("Error writing the token file")?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("Error replacing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_writes_mode_0600_and_replaces() {
        let home = tempfile::tempdir().unwrap();
        let path = token_file::token_path(home.path());
        assert!(token_file::read_token(&path).unwrap().is_none());
        store(&path, &Sensitive::new("hvs.first")).unwrap();
        assert_eq!(
            token_file::read_token(&path).unwrap().unwrap().expose(),
            "hvs.first"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store(&path, &Sensitive::new("hvs.second")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hvs.second");
        let leftovers: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn store_into_missing_directory_fails_cleanly() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("missing").join(".vault-token");
        assert!(store(&path, &Sensitive::new("hvs.x")).is_err());
    }
}
