//! Reads the JSON form of policies, which Vault accepts as well:
//! `{"path": {"secret/*": {"capabilities": ["read"]}}}`.

use crate::error::{PolicyError, Position};
use crate::rules::{RawAttr, RawBlock};
use serde_json::Value;

/// Parses JSON policy text into path blocks (not yet validated).
pub(crate) fn parse(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let at = Position {
            line: e.line(),
            column: e.column(),
        };
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        PolicyError::Syntax { at, message }
    })?;
    let Value::Object(top) = value else {
        return Err(structure("does not contain a root object", None));
    };
    if let Some(bad) = top.keys().find(|k| *k != "name" && *k != "path") {
        return Err(PolicyError::InvalidKey {
            path: None,
            key: bad.clone(),
            at: None,
        });
    }
    match top.get("path") {
        Some(paths) => path_blocks(paths.clone(), None),
        None => Ok(Vec::new()),
    }
}

fn structure(message: &str, at: Option<Position>) -> PolicyError {
    PolicyError::Structure {
        message: message.to_owned(),
        at,
    }
}

/// Reads the value of a `path` key: an object of path bodies, or a list of
/// such objects; a body may itself be a list of bodies (HCL1's JSON shapes).
pub(crate) fn path_blocks(
    value: Value,
    at: Option<Position>,
) -> Result<Vec<RawBlock>, PolicyError> {
    let mut out = Vec::new();
    match value {
        Value::Array(items) => {
            for item in items {
                out.extend(path_blocks(item, at)?);
            }
        }
        Value::Object(paths) => {
            for (path, body) in paths {
                push_bodies(&mut out, path, body, at)?;
            }
        }
        _ => return Err(structure("\"path\" must be an object of path blocks", at)),
    }
    Ok(out)
}

fn push_bodies(
    out: &mut Vec<RawBlock>,
    path: String,
    body: Value,
    at: Option<Position>,
) -> Result<(), PolicyError> {
    match body {
        Value::Object(attrs) => out.push(RawBlock {
            path,
            at,
            attrs: attrs
                .into_iter()
                .map(|(key, value)| RawAttr { key, at, value })
                .collect(),
        }),
        Value::Array(bodies) => {
            for body in bodies {
                push_bodies(out, path.clone(), body, at)?;
            }
        }
        _ => return Err(structure("a path block must be an object", at)),
    }
    Ok(())
}
