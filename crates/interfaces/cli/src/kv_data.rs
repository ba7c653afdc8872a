//! `k=v` arguments like Vault's `kvbuilder`: `key=value`, `key=@file` (the
//! file's contents), `key=-` (all of stdin), `@file.json` and `-` (a JSON object
//! from a file or stdin, merged in). A repeated key collects its values in a list.

use std::io::Read;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

/// Parses `k=v` arguments. `stdin` is read at most once.
pub fn parse(args: &[String], stdin: &mut dyn Read) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    let mut stdin_used = false;
    let mut read_stdin = |what: &str| -> Result<String> {
        if stdin_used {
            bail!("stdin already consumed, cannot read it again for {what}");
        }
        stdin_used = true;
        let mut buf = String::new();
        stdin
            .read_to_string(&mut buf)
            .context("error reading stdin")?;
        Ok(buf)
    };
    for arg in args {
        if arg == "-" {
            merge_json(&mut out, &read_stdin("-")?, "stdin")?;
            continue;
        }
        if let Some(file) = arg.strip_prefix('@').filter(|_| !arg.contains('=')) {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("error reading file {file}"))?;
            merge_json(&mut out, &text, file)?;
            continue;
        }
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| anyhow!("format must be key=value, got {arg:?}"))?;
        if key.is_empty() {
            bail!("format must be key=value with a non-empty key, got {arg:?}");
        }
        let value = if raw == "-" {
            read_stdin(key)?
        } else if let Some(file) = raw.strip_prefix('@') {
            std::fs::read_to_string(file).with_context(|| format!("error reading file {file}"))?
        } else {
            raw.to_owned()
        };
        insert(&mut out, key, Value::String(value));
    }
    Ok(out)
}

/// Inserts, turning a repeated key into a list of its values.
fn insert(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        None => {
            map.insert(key.to_owned(), value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

fn merge_json(out: &mut Map<String, Value>, text: &str, source: &str) -> Result<()> {
    let parsed: Value =
        serde_json::from_str(text).with_context(|| format!("error parsing JSON from {source}"))?;
    let Value::Object(map) = parsed else {
        bail!("JSON from {source} must be an object");
    };
    for (k, v) in map {
        insert(out, &k, v);
    }
    Ok(())
}

/// Parses `k=v` pairs of a flag such as `-options` or `-custom-metadata` into
/// a map of strings (no files, no stdin).
pub fn parse_string_pairs(pairs: &[String], flag: &str) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| anyhow!("invalid -{flag} value {pair:?}: format must be key=value"))?;
        out.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn plain_pairs_and_repeats() {
        let map = parse(
            &args(&["a=1", "b=x=y", "p=one", "p=two", "p=three"]),
            &mut "".as_bytes(),
        )
        .unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"a": "1", "b": "x=y", "p": ["one", "two", "three"]})
        );
    }

    #[test]
    fn files_and_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.txt");
        std::fs::write(&file, "from-file\n").unwrap();
        let json_file = dir.path().join("d.json");
        std::fs::write(&json_file, r#"{"j": 1}"#).unwrap();
        let a = format!("k=@{}", file.display());
        let j = format!("@{}", json_file.display());
        let map = parse(&[a, j, "s=-".into()], &mut "stdin-value".as_bytes()).unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"k": "from-file\n", "j": 1, "s": "stdin-value"})
        );
    }

    #[test]
    fn whole_json_object_from_stdin() {
        let map = parse(&args(&["-"]), &mut r#"{"value":"itsasecret"}"#.as_bytes()).unwrap();
        assert_eq!(Value::Object(map), json!({"value": "itsasecret"}));
        assert!(parse(&args(&["-"]), &mut "[1]".as_bytes()).is_err());
    }

    #[test]
    fn errors() {
        assert!(parse(&args(&["novalue"]), &mut "".as_bytes()).is_err());
        assert!(parse(&args(&["=v"]), &mut "".as_bytes()).is_err());
        assert!(parse(&args(&["a=-", "b=-"]), &mut "x".as_bytes()).is_err());
        assert!(parse(&args(&["a=@/nonexistent/file"]), &mut "".as_bytes()).is_err());
    }

    #[test]
    fn string_pairs() {
        let map = parse_string_pairs(&args(&["version=2", "x=a=b"]), "options").unwrap();
        assert_eq!(Value::Object(map), json!({"version": "2", "x": "a=b"}));
        assert!(parse_string_pairs(&args(&["bad"]), "options").is_err());
    }
}
