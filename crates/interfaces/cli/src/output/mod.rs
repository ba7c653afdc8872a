//! Output like Vault's CLI: `-format=table` (aligned Key/Value tables),
//! `-format=json` (the response as JSON, 2-space indent) and `-field=NAME` (one
//! value, raw, without a trailing newline when piped).

pub mod secret;
pub mod table;
pub mod value;

use std::io::{IsTerminal, Write};

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::Value;

use coffer_client::Secret;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human tables (the default).
    Table,
    /// JSON.
    Json,
}

impl Format {
    /// Parses `-format` / `VAULT_FORMAT`.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "" | "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            _ => bail!("Invalid output format: {raw}"),
        }
    }
}

/// Writes a line to stdout. A closed pipe is not an error worth a panic.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Writes a line to stderr.
pub fn error_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// Vault's `PrintRaw`: the value followed by a newline only on a terminal.
pub fn raw(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = if std::io::stdout().is_terminal() {
        writeln!(out, "{text}")
    } else {
        write!(out, "{text}")
    };
    let _ = out.flush();
}

/// Pretty JSON with Go's `MarshalIndent(v, "", "  ")` layout.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}

/// The output settings of one command run.
#[derive(Clone, Debug)]
pub struct Output {
    /// The output format.
    pub format: Format,
    /// `-field`, when given.
    pub field: Option<String>,
}

impl Output {
    /// True for table output (the format of "Success!" messages).
    pub fn is_table(&self) -> bool {
        self.format == Format::Table
    }

    /// Prints a response envelope (Vault's `OutputSecret`, honouring `-field`).
    pub fn secret(&self, secret: &Secret) -> Result<()> {
        if let Some(field) = &self.field {
            let value = secret::raw_field(secret, field);
            return self.field_value(field, value);
        }
        match self.format {
            Format::Json => line(&to_json(secret)?),
            Format::Table => {
                if let Some(w) = secret::warnings_block(secret) {
                    error_line(&w);
                }
                if let Some(t) = secret::secret_table(secret) {
                    line(&t);
                }
            }
        }
        Ok(())
    }

    /// Prints one `-field` value (Vault's `PrintRawField`).
    pub fn field_value(&self, field: &str, value: Option<Value>) -> Result<()> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            bail!("Field \"{field}\" not present in secret");
        };
        match self.format {
            Format::Table => raw(&value::go_value(&value)),
            Format::Json => raw(&to_json(&value)?),
        }
        Ok(())
    }

    /// Prints a bare data value (Vault's `OutputData`): a Key/Value table for an
    /// object, one line per item for a list, JSON in JSON format.
    pub fn data(&self, data: &Value) -> Result<()> {
        match (self.format, data) {
            (Format::Json, _) => line(&to_json(data)?),
            (Format::Table, Value::Object(map)) => {
                if let Some(t) = secret::map_table(map) {
                    line(&t);
                }
            }
            (Format::Table, Value::Array(items)) => {
                for item in items {
                    line(&value::go_value(item));
                }
            }
            (Format::Table, other) => line(&value::go_value(other)),
        }
        Ok(())
    }

    /// Prints a LIST answer (Vault's `OutputList`): the keys only.
    pub fn list(&self, secret: &Secret) -> Result<()> {
        match self.format {
            Format::Json => {
                let keys = secret
                    .data_field("keys")
                    .cloned()
                    .unwrap_or(Value::Array(vec![]));
                line(&to_json(&keys)?);
            }
            Format::Table => {
                if let Some(w) = secret::warnings_block(secret) {
                    error_line(&w);
                }
                if let Some(t) = secret::list_table(secret) {
                    line(&t);
                }
            }
        }
        Ok(())
    }

    /// Prints a "Success!" style message; Vault prints them in table format only.
    pub fn success(&self, message: &str) {
        if self.is_table() {
            line(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse("json").unwrap(), Format::Json);
        assert_eq!(Format::parse("TABLE").unwrap(), Format::Table);
        assert_eq!(Format::parse("").unwrap(), Format::Table);
        assert_eq!(
            Format::parse("xml").unwrap_err().to_string(),
            "Invalid output format: xml"
        );
    }

    #[test]
    fn missing_field_is_an_error() {
        let out = Output {
            format: Format::Table,
            field: Some("x".into()),
        };
        let err = out.field_value("x", None).unwrap_err();
        assert_eq!(err.to_string(), "Field \"x\" not present in secret");
        assert!(out.field_value("x", Some(Value::Null)).is_err());
    }

    #[test]
    fn json_uses_two_space_indent() {
        assert_eq!(
            to_json(&serde_json::json!({"a": [1]})).unwrap(),
            "{\n  \"a\": [\n    1\n  ]\n}"
        );
    }
}
