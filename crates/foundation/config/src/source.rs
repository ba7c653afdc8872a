//! Reading a file and turning HCL or JSON text into a [`ServerConfig`].

use std::path::Path;

use crate::server::interpret;
use crate::{ConfigError, ServerConfig};

/// Reads the configuration file at `path`: JSON if its name ends in `.json`
/// (or, as Vault's HCL reader does, if the text starts with `{`), HCL
/// otherwise.
pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        || without_bom(&text).trim_start().starts_with('{');
    if is_json {
        parse_json(&text)
    } else {
        parse_hcl(&text)
    }
}

/// Parses a configuration written in HCL.
pub fn parse_hcl(text: &str) -> Result<ServerConfig, ConfigError> {
    let text = without_bom(text);
    // `hcl-edit` backtracks exponentially on deep unclosed nesting (found
    // by the `policy` fuzz target): refuse deep nesting before parsing.
    coffer_types::hcl_nesting::check_hcl_nesting(text).map_err(|e| ConfigError::Hcl {
        line: e.line,
        column: e.column,
        message: e.message(),
    })?;
    let body = hcl::parse(text).map_err(|err| match err {
        hcl::Error::Parse(p) => ConfigError::Hcl {
            line: p.location().line(),
            column: p.location().column(),
            message: p.message().to_owned(),
        },
        other => ConfigError::Hcl {
            line: 0,
            column: 0,
            message: other.to_string(),
        },
    })?;
    // HCL's JSON form: blocks become nested objects keyed by name and label.
    let value: serde_json::Value =
        hcl::from_body(body).map_err(|e| ConfigError::HclExpression(e.to_string()))?;
    interpret(&value)
}

/// Parses a configuration written in JSON (Vault's JSON form of the HCL).
pub fn parse_json(text: &str) -> Result<ServerConfig, ConfigError> {
    let text = without_bom(text);
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ConfigError::Json {
        line: e.line(),
        column: e.column(),
        message: json_reason(&e),
    })?;
    interpret(&value)
}

/// The text without a leading UTF-8 byte order mark, which editors on
/// Windows add and neither parser accepts.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// serde_json's message without its trailing " at line L column C".
fn json_reason(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_before_the_hcl_parser() {
        // 25 unclosed levels take `hcl-edit` minutes; 14 are quick for it,
        // so without the guard this fails instead of hanging.
        match parse_hcl(&"k = a/b/{".repeat(14)) {
            Err(ConfigError::Hcl {
                line: 1,
                column,
                message,
            }) => {
                assert_eq!(column, 9 * 13);
                assert!(message.contains("nested deeper than 12"), "{message}");
            }
            other => panic!("expected a nesting error, got {other:?}"),
        }
    }

    #[test]
    fn byte_order_marks_are_skipped() {
        assert!(parse_hcl("\u{feff}storage \"inmem\" {}").is_ok());
        assert!(parse_json("\u{feff}{\"storage\": {\"inmem\": {}}}").is_ok());
    }

    #[test]
    fn hcl_expressions_stay_literal_text() {
        // As in HCL's JSON form (and Vault's HCL 1), an interpolation is kept
        // as written rather than evaluated.
        let c = parse_hcl("storage \"inmem\" {}\napi_addr = \"http://${host}:8200\"").unwrap();
        assert_eq!(c.api_addr.as_deref(), Some("http://${host}:8200"));
    }

    #[test]
    fn json_reasons_drop_the_position_suffix() {
        let err = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(json_reason(&err), "EOF while parsing an object");
    }
}
