//! Typed access to request fields, with Vault's lenient conversions and 400s
//! for values of the wrong type.

use std::time::Duration;

use coffer_types::{Error, Result, duration::parse_duration_value};
use serde_json::{Map, Value};

use crate::SdkError;

/// The declared type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A string (numbers and booleans are converted, as Vault does).
    String,
    /// An integer (numeric strings accepted).
    Int,
    /// A boolean (`"true"`/`"false"` strings accepted).
    Bool,
    /// A duration: seconds or a Go duration string.
    Duration,
    /// A list of strings, or one comma-separated string.
    StringList,
    /// A JSON object.
    Map,
    /// Any JSON value.
    Any,
}

impl FieldType {
    /// The name shown in help.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Int => "int",
            FieldType::Bool => "bool",
            FieldType::Duration => "duration (sec)",
            FieldType::StringList => "comma-separated strings",
            FieldType::Map => "map",
            FieldType::Any => "any",
        }
    }
}

/// A declared default value, documented in help and OpenAPI. Handlers still
/// see an absent field as absent (`get_*` returns `None`), so an update can
/// tell "not given" from "given as the default", as Vault's `GetOk` does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldDefault {
    /// A string.
    Str(&'static str),
    /// An integer (also durations, in seconds).
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl FieldDefault {
    /// The default as JSON.
    pub fn to_json(self) -> Value {
        match self {
            FieldDefault::Str(s) => Value::String(s.to_owned()),
            FieldDefault::Int(i) => Value::from(i),
            FieldDefault::Bool(b) => Value::Bool(b),
        }
    }
}

/// One declared field of a path.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// The field name.
    pub name: &'static str,
    /// Its type.
    pub kind: FieldType,
    /// Help text.
    pub description: &'static str,
    /// Whether the operation needs it (documented in OpenAPI; handlers give
    /// Vault's own error when it is missing).
    pub required: bool,
    /// Whether its value is a secret (a password, a secret id): OpenAPI marks
    /// it so, and nothing may log or echo it.
    pub sensitive: bool,
    /// The value the handler uses when the field is absent.
    pub default: Option<FieldDefault>,
}

impl FieldDef {
    /// A field declaration (usable in `const` tables).
    pub const fn new(name: &'static str, kind: FieldType, description: &'static str) -> Self {
        Self {
            name,
            kind,
            description,
            required: false,
            sensitive: false,
            default: None,
        }
    }

    /// The same field, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same field, marked secret.
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// The same field with a documented default.
    pub const fn default(mut self, value: FieldDefault) -> Self {
        self.default = Some(value);
        self
    }
}

/// A request body read through a path's declared fields.
///
/// Reading a name the path does not declare is a programming error: the
/// value is still returned, but the name is recorded and
/// [`FieldData::check_reads`] reports it (the dispatcher makes it an error in
/// debug builds, so tests catch it).
pub struct FieldData<'a> {
    data: &'a Map<String, Value>,
    fields: &'a [FieldDef],
    undeclared: std::sync::Mutex<Vec<String>>,
}

fn conversion_error(name: &str, expected: &'static str) -> Error {
    SdkError::FieldType {
        field: name.to_owned(),
        expected,
    }
    .into()
}

impl<'a> FieldData<'a> {
    /// Reads `data` through `fields`; fails with 400 if a declared field has a
    /// value that cannot be converted to its type.
    pub fn new(data: &'a Map<String, Value>, fields: &'a [FieldDef]) -> Result<Self> {
        let fd = Self {
            data,
            fields,
            undeclared: std::sync::Mutex::new(Vec::new()),
        };
        for f in fields {
            if data.contains_key(f.name) {
                fd.check(f)?;
            }
        }
        Ok(fd)
    }

    fn check(&self, f: &FieldDef) -> Result<()> {
        match f.kind {
            FieldType::String => self.get_string(f.name).map(|_| ()),
            FieldType::Int => self.get_int(f.name).map(|_| ()),
            FieldType::Bool => self.get_bool(f.name).map(|_| ()),
            FieldType::Duration => self.get_duration(f.name).map(|_| ()),
            FieldType::StringList => self.get_string_list(f.name).map(|_| ()),
            FieldType::Map => self.get_map(f.name).map(|_| ()),
            FieldType::Any => Ok(()),
        }
    }

    /// Names in the body that no field declares (Vault warns about these).
    pub fn unknown_fields(&self) -> Vec<String> {
        self.data
            .keys()
            .filter(|k| !self.fields.iter().any(|f| f.name == k.as_str()))
            .cloned()
            .collect()
    }

    /// The raw value, if present and not null.
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        if !self.fields.iter().any(|f| f.name == name) {
            let mut seen = self.undeclared.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.iter().any(|s| s == name) {
                seen.push(name.to_owned());
            }
        }
        self.data.get(name).filter(|v| !v.is_null())
    }

    /// Fails (in debug builds) when a handler read a field its path does not
    /// declare: help, OpenAPI and the bad-request corpus would not know it.
    pub fn check_reads(&self) -> Result<()> {
        let seen = self.undeclared.lock().unwrap_or_else(|p| p.into_inner());
        if cfg!(debug_assertions) && !seen.is_empty() {
            return Err(SdkError::UndeclaredReads(seen.clone()).into());
        }
        Ok(())
    }

    /// Whether the path declares `name` (a question about the declaration,
    /// not a read of the field).
    pub fn declares(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// True when the body sets `name` (to anything but null).
    pub fn is_set(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A string field.
    pub fn get_string(&self, name: &str) -> Result<Option<String>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(conversion_error(name, "a string")),
        }
    }

    /// A required, non-empty string field; 400 `missing <name>` otherwise.
    pub fn require_string(&self, name: &str) -> Result<String> {
        match self.get_string(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(SdkError::MissingField(name.to_owned()).into()),
        }
    }

    /// An integer field.
    pub fn get_int(&self, name: &str) -> Result<Option<i64>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| conversion_error(name, "an integer")),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| conversion_error(name, "an integer")),
            Some(_) => Err(conversion_error(name, "an integer")),
        }
    }

    /// A non-negative integer field.
    pub fn get_uint(&self, name: &str) -> Result<Option<u64>> {
        match self.get_int(name)? {
            None => Ok(None),
            Some(i) if i >= 0 => Ok(Some(i as u64)),
            Some(_) => Err(conversion_error(name, "a non-negative integer")),
        }
    }

    /// A boolean field.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "t" => Ok(Some(true)),
                "false" | "0" | "f" | "" => Ok(Some(false)),
                _ => Err(conversion_error(name, "a boolean")),
            },
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(_) => Err(conversion_error(name, "a boolean")),
        }
    }

    /// A duration field (seconds or a duration string).
    pub fn get_duration(&self, name: &str) -> Result<Option<Duration>> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => parse_duration_value(v).map(Some).map_err(|source| {
                SdkError::FieldDuration {
                    field: name.to_owned(),
                    source,
                }
                .into()
            }),
        }
    }

    /// A list of strings: a JSON array of strings, or a comma-separated string.
    /// Empty items are dropped; items are trimmed.
    pub fn get_string_list(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.trim().to_owned()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(conversion_error(name, "a list of strings")),
                })
                .filter(|r| !matches!(r, Ok(s) if s.is_empty()))
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(conversion_error(name, "a list of strings")),
        }
    }

    /// A JSON object field.
    pub fn get_map(&self, name: &str) -> Result<Option<&'a Map<String, Value>>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(conversion_error(name, "an object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[FieldDef] = &[
        FieldDef::new("name", FieldType::String, "n"),
        FieldDef::new("n", FieldType::Int, "n"),
        FieldDef::new("flag", FieldType::Bool, "b"),
        FieldDef::new("ttl", FieldType::Duration, "t"),
        FieldDef::new("policies", FieldType::StringList, "p"),
    ];

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn lenient_conversions() {
        let data =
            obj(json!({"name": 5, "n": "7", "flag": "true", "ttl": "1h", "policies": "a, b,,c"}));
        let f = FieldData::new(&data, FIELDS).unwrap();
        assert_eq!(f.get_string("name").unwrap().as_deref(), Some("5"));
        assert_eq!(f.get_int("n").unwrap(), Some(7));
        assert_eq!(f.get_bool("flag").unwrap(), Some(true));
        assert_eq!(
            f.get_duration("ttl").unwrap(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            f.get_string_list("policies").unwrap().unwrap(),
            vec!["a", "b", "c"]
        );
    }

    #[test]
    fn wrong_types_are_400() {
        for bad in [
            json!({"n": "seven"}),
            json!({"flag": [1]}),
            json!({"ttl": "soon"}),
            json!({"name": {"a": 1}}),
            json!({"policies": [{"x": 1}]}),
        ] {
            let data = obj(bad.clone());
            let err = FieldData::new(&data, FIELDS)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(err.status(), 400, "{bad}");
        }
    }

    #[test]
    fn undeclared_reads_are_recorded() {
        let data = obj(json!({"name": "x", "bogus": 1}));
        let f = FieldData::new(&data, FIELDS).unwrap();
        assert_eq!(f.get_string("name").unwrap().as_deref(), Some("x"));
        assert!(f.check_reads().is_ok());
        assert_eq!(f.get_int("bogus").unwrap(), Some(1));
        assert!(!f.is_set("other"));
        let err = f.check_reads().unwrap_err();
        assert_eq!(err.status(), 500);
        assert!(err.messages()[0].ends_with("bogus, other"), "{err:?}");
    }

    #[test]
    fn flags_and_defaults() {
        let f = FieldDef::new("ttl", FieldType::Duration, "t")
            .required()
            .sensitive()
            .default(FieldDefault::Int(30));
        assert_eq!((f.required, f.sensitive), (true, true));
        assert_eq!(f.default.unwrap().to_json(), json!(30));
    }

    #[test]
    fn unknown_fields_are_reported() {
        let data = obj(json!({"name": "x", "bogus": 1}));
        let f = FieldData::new(&data, FIELDS).unwrap();
        assert_eq!(f.unknown_fields(), vec!["bogus"]);
    }
}
