//! Searching an audit file for the incident question "who read secret X,
//! and when", over Vault-format records.

use std::io::BufRead;

use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{AuditLogError, Result};
use crate::lines::LineReader;

/// Which records to return. Every set field must match.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// `request.path` starts with this.
    pub path_prefix: Option<String>,
    /// `auth.entity_id` equals this.
    pub entity_id: Option<String>,
    /// `auth.accessor` or `request.client_token_accessor` equals this (as
    /// written in the file, i.e. HMAC-ed unless `hmac_accessor` is off).
    pub accessor_hash: Option<String>,
    /// `request.operation` equals this (`read`, `update`, ...).
    pub operation: Option<String>,
    /// `request.remote_address` equals this.
    pub remote_address: Option<String>,
    /// The record `type` equals this (`request` or `response`).
    pub record_type: Option<String>,
    /// `time` is at or after this.
    pub since: Option<OffsetDateTime>,
    /// `time` is at or before this.
    pub until: Option<OffsetDateTime>,
    /// Some string anywhere in the record equals one of these (values
    /// hashed with the device's salt through `sys/audit-hash`).
    pub hashed_values: Vec<String>,
}

/// One record returned by [`search`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The line it is on (1-based).
    pub line: u64,
    /// The parsed record.
    pub value: Value,
}

impl Record {
    fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut v = &self.value;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str()
    }

    /// The `seq` field.
    pub fn seq(&self) -> Option<u64> {
        self.value.get("seq").and_then(Value::as_u64)
    }

    /// The `time` field, parsed.
    pub fn time(&self) -> Option<OffsetDateTime> {
        coffer_types::timestamp::parse_rfc3339(self.str_at(&["time"])?)
    }

    /// The `time` field as written.
    pub fn time_text(&self) -> Option<&str> {
        self.str_at(&["time"])
    }

    /// The record type (`request` or `response`).
    pub fn record_type(&self) -> Option<&str> {
        self.str_at(&["type"])
    }

    /// `request.path`.
    pub fn path(&self) -> Option<&str> {
        self.str_at(&["request", "path"])
    }

    /// `request.operation`.
    pub fn operation(&self) -> Option<&str> {
        self.str_at(&["request", "operation"])
    }

    /// `auth.entity_id`.
    pub fn entity_id(&self) -> Option<&str> {
        self.str_at(&["auth", "entity_id"])
    }

    /// `auth.display_name`.
    pub fn display_name(&self) -> Option<&str> {
        self.str_at(&["auth", "display_name"])
    }

    /// `auth.accessor`, else `request.client_token_accessor`.
    pub fn accessor(&self) -> Option<&str> {
        self.str_at(&["auth", "accessor"])
            .or_else(|| self.str_at(&["request", "client_token_accessor"]))
    }

    /// `request.remote_address`.
    pub fn remote_address(&self) -> Option<&str> {
        self.str_at(&["request", "remote_address"])
    }

    /// `error`, when set.
    pub fn error(&self) -> Option<&str> {
        self.str_at(&["error"]).filter(|e| !e.is_empty())
    }
}

impl SearchFilter {
    /// Whether `record` matches every set criterion.
    pub fn matches(&self, record: &Record) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        let path_ok = self
            .path_prefix
            .as_deref()
            .is_none_or(|prefix| record.path().is_some_and(|p| p.starts_with(prefix)));
        if !path_ok {
            return false;
        }
        let accessor_ok = self.accessor_hash.as_deref().is_none_or(|w| {
            record.str_at(&["auth", "accessor"]) == Some(w)
                || record.str_at(&["request", "client_token_accessor"]) == Some(w)
        });
        if !(accessor_ok
            && eq(&self.entity_id, record.entity_id())
            && eq(&self.operation, record.operation())
            && eq(&self.remote_address, record.remote_address())
            && eq(&self.record_type, record.record_type()))
        {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = record.time() else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        self.hashed_values.is_empty() || contains_string(&record.value, &self.hashed_values)
    }
}

fn contains_string(v: &Value, wanted: &[String]) -> bool {
    match v {
        Value::String(s) => wanted.iter().any(|w| w == s),
        Value::Array(a) => a.iter().any(|x| contains_string(x, wanted)),
        Value::Object(m) => m.values().any(|x| contains_string(x, wanted)),
        _ => false,
    }
}

/// Iterator returned by [`search`].
pub struct Search<R> {
    lines: LineReader<R>,
    filter: SearchFilter,
    done: bool,
}

impl<R: BufRead> Iterator for Search<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let line = match self.lines.next_line()? {
                Ok(l) => l,
                Err(e) => {
                    self.done = true;
                    return Some(Err(AuditLogError::from(e)));
                }
            };
            let Ok(value @ Value::Object(_)) = serde_json::from_slice::<Value>(line.bytes) else {
                continue; // malformed lines are the verifier's business
            };
            if value.get("type").and_then(Value::as_str) == Some("checkpoint") {
                continue;
            }
            let record = Record {
                line: line.number,
                value,
            };
            if self.filter.matches(&record) {
                return Some(Ok(record));
            }
        }
    }
}

/// Streams the records of an audit file that match `filter` (checkpoint
/// and unparseable lines are skipped).
pub fn search<R: BufRead>(reader: R, filter: SearchFilter) -> Search<R> {
    Search {
        lines: LineReader::new(reader),
        filter,
        done: false,
    }
}
