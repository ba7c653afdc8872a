//! Reading secrets and files given as arguments: `-` means stdin.

use std::io::Read;

use anyhow::{Context, Result, bail};

use coffer_types::Sensitive;

/// Reads all of stdin.
pub fn stdin_all() -> Result<String> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .context("Error reading from stdin")?;
    Ok(buf)
}

/// Reads one line of stdin (without echo control: the CLI never prompts).
pub fn stdin_line() -> Result<String> {
    let mut buf = String::new();
    std::io::stdin()
        .read_line(&mut buf)
        .context("Error reading from stdin")?;
    Ok(buf)
}

/// A secret value given as an argument, or read as one line from stdin when the
/// argument is `-` or absent. Surrounding whitespace is trimmed.
pub fn secret_arg(arg: Option<&str>, what: &str) -> Result<Sensitive> {
    let value = match arg {
        Some(v) if v != "-" => v.trim().to_owned(),
        _ => stdin_line()?.trim().to_owned(),
    };
    if value.is_empty() {
        bail!("No {what} provided");
    }
    Ok(Sensitive::new(value))
}

/// The contents of `path`, or of stdin when `path` is `-`.
pub fn file_or_stdin(path: &str) -> Result<String> {
    if path == "-" {
        return stdin_all();
    }
    std::fs::read_to_string(path).with_context(|| format!("Error opening file: {path}"))
}

/// Vault's `sanitizePath`: trims whitespace and one leading and one trailing slash.
pub fn sanitize_path(path: &str) -> String {
    let p = path.trim();
    let p = p.strip_prefix('/').unwrap_or(p);
    let p = p.strip_suffix('/').unwrap_or(p);
    p.to_owned()
}

/// `path` with a trailing slash.
pub fn ensure_trailing_slash(path: &str) -> String {
    if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sanitised_like_vault() {
        assert_eq!(sanitize_path(" /secret/foo/ "), "secret/foo");
        assert_eq!(sanitize_path("secret//"), "secret/");
        assert_eq!(ensure_trailing_slash("secret"), "secret/");
        assert_eq!(ensure_trailing_slash("secret/"), "secret/");
    }

    #[test]
    fn literal_secret_args_are_trimmed() {
        assert_eq!(secret_arg(Some(" key \n"), "key").unwrap().expose(), "key");
        assert!(secret_arg(Some("  "), "key").is_err());
    }
}
