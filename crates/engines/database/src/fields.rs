//! Field parsing shared by the path handlers.

use coffer_sdk::{Call, FieldData};
use coffer_types::Result;
use serde_json::Value;

use crate::error::DatabaseError;
use crate::model::Rotation;
use crate::store::{self, Kind};

/// Longest name accepted for a connection or role.
const MAX_NAME_LEN: usize = 128;

/// Vault's names for connections and roles: word characters, with `-` and
/// `.` inside (`\w(([\w-.]+)?\w)?`). Anything else is a 404 `unsupported
/// path`, as Vault's path pattern would not have matched.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(word)
        && name.ends_with(word)
        && name.chars().all(|c| word(c) || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(DatabaseError::UnsupportedPath.into())
    }
}

/// The call's `name` capture, checked with [`check_name`].
pub(crate) fn name<'c>(call: &'c Call<'_>) -> Result<&'c str> {
    let name = call.capture("name");
    check_name(name)?;
    Ok(name)
}

/// The existence check of `config/:name`, `roles/:name` and
/// `static-roles/:name`: whether a `kind` object of that name is stored (a
/// name Vault's pattern would reject never exists).
pub(crate) async fn exists(call: &Call<'_>, kind: Kind) -> Result<bool> {
    let name = call.capture("name");
    if check_name(name).is_err() {
        return Ok(false);
    }
    let found: Option<Value> = store::get(&call.ctx.storage, kind, name).await?;
    Ok(found.is_some())
}

/// A statements field: a list of strings, or one string that is ONE entry
/// (Vault does not split statements on commas: a Redis or MongoDB statement
/// is JSON full of them). Empty entries are dropped.
pub(crate) fn statements(fields: &FieldData<'_>, name: &str) -> Result<Option<Vec<String>>> {
    let Some(raw) = fields.raw(name) else {
        return Ok(None);
    };
    let list = match raw {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(DatabaseError::InvalidStatements {
                    field: name.to_owned(),
                    expected: "a list of strings",
                }
                .into()),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => {
            return Err(DatabaseError::InvalidStatements {
                field: name.to_owned(),
                expected: "a string or a list of strings",
            }
            .into());
        }
    };
    Ok(Some(
        list.into_iter().filter(|s| !s.trim().is_empty()).collect(),
    ))
}

/// A duration field in whole seconds.
pub(crate) fn seconds(fields: &FieldData<'_>, name: &str) -> Result<Option<u64>> {
    Ok(fields.get_duration(name)?.map(|d| d.as_secs()))
}

/// Vault's shortest `rotation_period` for static roles, applied to root
/// rotation too: a shorter period against an unreachable database is a
/// retry storm.
pub(crate) const MIN_ROTATION_PERIOD: u64 = 5;

/// A rotation schedule from `rotation_period`, `rotation_schedule` and
/// `rotation_window`, merged over `old`, checked as Vault does: the period
/// and the schedule exclude each other (a zero period or an empty schedule
/// clears it), a period is at least `min_period` seconds, and a window goes
/// only with a schedule. Cron syntax is checked by the scheduler.
pub(crate) fn rotation_from(
    fields: &FieldData<'_>,
    old: Option<&Rotation>,
    min_period: u64,
) -> Result<Rotation> {
    let period = seconds(fields, "rotation_period")?;
    let schedule = fields.get_string("rotation_schedule")?;
    let window = seconds(fields, "rotation_window")?;
    if period.is_some_and(|p| p > 0) && schedule.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Err(DatabaseError::PeriodAndSchedule.into());
    }
    let mut new = old.cloned().unwrap_or_default();
    match period {
        Some(0) => new.period = None,
        Some(p) if p < min_period => {
            return Err(DatabaseError::PeriodTooShort(min_period).into());
        }
        Some(p) => {
            new = Rotation {
                period: Some(p),
                ..Rotation::default()
            };
        }
        None => {}
    }
    if let Some(s) = schedule {
        let s = s.trim().to_owned();
        if s.is_empty() {
            new.schedule = None;
        } else {
            new.period = None;
            new.schedule = Some(s);
        }
    }
    if let Some(w) = window {
        if new.schedule.is_none() && w > 0 {
            return Err(DatabaseError::WindowWithoutSchedule.into());
        }
        new.window = (w > 0).then_some(w);
    }
    if new.schedule.is_none() {
        new.window = None;
    }
    Ok(new)
}

/// Whether `name` matches one of `patterns`, where `*` matches any run of
/// characters (Vault's `allowed_roles` globs).
pub(crate) fn glob_list_contains(patterns: &[String], name: &str) -> bool {
    coffer_types::glob::matches_any(patterns, name)
}

#[cfg(test)]
mod tests {
    use coffer_sdk::{FieldDef, FieldType};
    use serde_json::{Map, json};

    use super::*;

    #[test]
    fn names() {
        for ok in ["pg", "my-db", "a.b_c", "x", "A1"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a/b", "a b", "é", &"a".repeat(129)] {
            assert_eq!(check_name(bad).unwrap_err().status(), 404, "{bad}");
        }
    }

    #[test]
    fn statements_are_not_split_on_commas() {
        const F: &[FieldDef] = &[FieldDef::new("s", FieldType::Any, "")];
        let parse = |v: Value| {
            let mut m = Map::new();
            m.insert("s".into(), v);
            let fd = FieldData::new(&m, F).unwrap();
            statements(&fd, "s")
        };
        assert_eq!(
            parse(json!(r#"["~*", "+@read"]"#)).unwrap().unwrap(),
            vec![r#"["~*", "+@read"]"#]
        );
        assert_eq!(
            parse(json!(["CREATE ...", "", "GRANT ..."]))
                .unwrap()
                .unwrap(),
            vec!["CREATE ...", "GRANT ..."]
        );
        assert_eq!(parse(json!("")).unwrap().unwrap(), Vec::<String>::new());
        assert_eq!(parse(json!(5)).unwrap_err().status(), 400);
        assert_eq!(parse(json!([1])).unwrap_err().status(), 400);
    }

    #[test]
    fn globs() {
        let p = vec!["app-*".to_owned(), "exact".to_owned(), "*-ro".to_owned()];
        assert!(glob_list_contains(&p, "app-web"));
        assert!(glob_list_contains(&p, "exact"));
        assert!(glob_list_contains(&p, "billing-ro"));
        assert!(!glob_list_contains(&p, "exactly"));
        assert!(!glob_list_contains(&p, "web"));
        assert!(glob_list_contains(&["*".to_owned()], "anything"));
        assert!(glob_list_contains(&["a*b*c".to_owned()], "aXXbYYc"));
        assert!(!glob_list_contains(&["a*b*c".to_owned()], "aXXcYYb"));
        assert!(!glob_list_contains(&[], "x"));
    }
}
