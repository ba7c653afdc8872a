//! Reading the token that `vault login` / `coffer login` cached in `~/.vault-token`.

use std::path::{Path, PathBuf};

use coffer_types::Sensitive;

use crate::error::{ClientError, Result};

/// The file name of Vault's default token helper, inside the home directory.
pub const TOKEN_FILE_NAME: &str = ".vault-token";

/// `<home>/.vault-token`.
pub fn token_path(home: &Path) -> PathBuf {
    home.join(TOKEN_FILE_NAME)
}

/// Reads a cached token. A missing file means "no token"; surrounding
/// whitespace is trimmed and an empty file also means "no token".
pub fn read_token(path: &Path) -> Result<Option<Sensitive>> {
    match std::fs::read_to_string(path) {
        Ok(contents) => {
            let token = contents.trim();
            Ok((!token.is_empty()).then(|| Sensitive::new(token)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::Config(format!(
            "error reading token file {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trimmed_token_and_treats_missing_as_none() {
        let dir = std::env::temp_dir().join(format!("coffer-client-tf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = token_path(&dir);
        assert_eq!(path.file_name().unwrap(), ".vault-token");
        let _ = std::fs::remove_file(&path);
        assert!(read_token(&path).unwrap().is_none());
        std::fs::write(&path, "hvs.abc\n").unwrap();
        assert_eq!(read_token(&path).unwrap().unwrap().expose(), "hvs.abc");
        std::fs::write(&path, "  \n").unwrap();
        assert!(read_token(&path).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
