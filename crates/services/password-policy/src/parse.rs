//! Reads a password policy document (Vault's HCL, or its JSON form) into
//! raw values with positions; [`crate::PasswordPolicy::parse`] validates them.
//!
//! As in Vault, unknown top-level keys and unknown keys inside a rule are
//! ignored; an unknown rule type is an error.

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Structure};
use hcl::edit::{Span, parser};
use serde_json::Value;

use crate::error::{PasswordPolicyError, Position};

/// The one rule type Vault knows.
pub(crate) const CHARSET_RULE: &str = "charset";

/// A policy as written, before validation.
#[derive(Debug, Default)]
pub(crate) struct RawPolicy {
    /// `length`, if given.
    pub(crate) length: Option<i64>,
    /// Every `rule "charset"` block, in order.
    pub(crate) rules: Vec<RawRule>,
}

/// One `rule "charset"` block as written.
#[derive(Debug)]
pub(crate) struct RawRule {
    /// `charset` (empty when absent).
    pub(crate) charset: String,
    /// `min-chars` (0 when absent).
    pub(crate) min_chars: i64,
    /// Where the rule starts.
    pub(crate) at: Option<Position>,
}

fn structure(message: impl Into<String>, at: Option<Position>) -> PasswordPolicyError {
    PasswordPolicyError::Structure {
        message: message.into(),
        at,
    }
}

/// Parses `text` as JSON when it starts with `{`, else as HCL.
pub(crate) fn parse(text: &str) -> Result<RawPolicy, PasswordPolicyError> {
    if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_hcl(text)
    }
}

fn parse_hcl(text: &str) -> Result<RawPolicy, PasswordPolicyError> {
    // `hcl-edit` backtracks exponentially on deep unclosed nesting: refuse
    // deep nesting before parsing.
    coffer_types::hcl_nesting::check_hcl_nesting(text).map_err(|e| {
        PasswordPolicyError::Syntax {
            at: Position {
                line: e.line,
                column: e.column,
            },
            message: e.message(),
        }
    })?;
    let body = parser::parse_body(text).map_err(|e| PasswordPolicyError::Syntax {
        at: Position {
            line: e.location().line(),
            column: e.location().column(),
        },
        message: e.message().to_owned(),
    })?;
    let mut raw = RawPolicy::default();
    for item in body.iter() {
        match item {
            Structure::Attribute(a) if a.key.as_str() == "length" => {
                let at = Position::of_span(text, a.value.span());
                if raw.length.is_some() {
                    return Err(structure("length is set more than once", at));
                }
                raw.length = Some(integer(&a.value, "length", at)?);
            }
            Structure::Block(b) if b.ident.as_str() == "rule" => raw.rules.push(hcl_rule(text, b)?),
            // Vault ignores keys it does not know.
            _ => {}
        }
    }
    Ok(raw)
}

fn integer(
    expr: &Expression,
    name: &str,
    at: Option<Position>,
) -> Result<i64, PasswordPolicyError> {
    match expr {
        Expression::Number(n) => n
            .as_i64()
            .ok_or_else(|| structure(format!("{name} must be a whole number"), at)),
        _ => Err(structure(format!("{name} must be a whole number"), at)),
    }
}

fn hcl_rule(text: &str, block: &Block) -> Result<RawRule, PasswordPolicyError> {
    let at = Position::of_span(text, block.ident.span());
    let [label] = block.labels.as_slice() else {
        return Err(structure(
            "a rule block takes exactly one label, its type: rule \"charset\" { ... }",
            at,
        ));
    };
    if label.as_str() != CHARSET_RULE {
        return Err(structure(
            format!("unrecognized rule type {:?}", label.as_str()),
            Position::of_span(text, label.span()),
        ));
    }
    let mut rule = RawRule {
        charset: String::new(),
        min_chars: 0,
        at,
    };
    for item in block.body.iter() {
        let Structure::Attribute(a) = item else {
            continue;
        };
        let value_at = Position::of_span(text, a.value.span());
        match a.key.as_str() {
            "charset" => match &a.value {
                Expression::String(s) => rule.charset = s.as_str().to_owned(),
                _ => {
                    return Err(structure(
                        "charset must be a string (template sequences such as ${ and %{ are not allowed; escape them as $${ and %%{)",
                        value_at,
                    ));
                }
            },
            "min-chars" => rule.min_chars = integer(&a.value, "min-chars", value_at)?,
            _ => {}
        }
    }
    Ok(rule)
}

fn parse_json(text: &str) -> Result<RawPolicy, PasswordPolicyError> {
    let value: Value = serde_json::from_str(text).map_err(|e| PasswordPolicyError::Syntax {
        at: Position {
            line: e.line(),
            column: e.column(),
        },
        message: e.to_string(),
    })?;
    let Value::Object(top) = value else {
        return Err(structure("a password policy must be an object", None));
    };
    let length = match top.get("length") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| structure("length must be a whole number", None))?,
        ),
    };
    let mut rules = Vec::new();
    match top.get("rule") {
        None => {}
        // HCL1's JSON form: `"rule": [{"charset": {...}}, ...]` or one object.
        Some(Value::Array(items)) => {
            for item in items {
                json_rules(item, &mut rules)?;
            }
        }
        Some(item) => json_rules(item, &mut rules)?,
    }
    Ok(RawPolicy { length, rules })
}

/// `{"charset": {...}}` or `{"charset": [{...}, {...}]}`.
fn json_rules(item: &Value, out: &mut Vec<RawRule>) -> Result<(), PasswordPolicyError> {
    let Value::Object(by_type) = item else {
        return Err(structure(
            "each rule must be an object keyed by its type",
            None,
        ));
    };
    for (kind, body) in by_type {
        if kind != CHARSET_RULE {
            return Err(structure(format!("unrecognized rule type {kind:?}"), None));
        }
        match body {
            Value::Array(bodies) => {
                for b in bodies {
                    out.push(json_rule(b)?);
                }
            }
            b => out.push(json_rule(b)?),
        }
    }
    Ok(())
}

fn json_rule(body: &Value) -> Result<RawRule, PasswordPolicyError> {
    let Value::Object(fields) = body else {
        return Err(structure("a charset rule must be an object", None));
    };
    let charset = match fields.get("charset") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(structure("charset must be a string", None)),
    };
    let min_chars = match fields.get("min-chars") {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| structure("min-chars must be a whole number", None))?,
    };
    Ok(RawRule {
        charset,
        min_chars,
        at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PasswordPolicyError {
        parse(text).unwrap_err()
    }

    #[test]
    fn hcl_policy_reads_length_and_rules() {
        let raw = parse(
            "length = 12\nunknown = true\nrule \"charset\" {\n  charset = \"ab\\\"c\"\n  min-chars = 2\n  other = 1\n}\nrule \"charset\" { charset = \"0-9\" }\n",
        )
        .unwrap();
        assert_eq!(raw.length, Some(12));
        assert_eq!(raw.rules.len(), 2);
        assert_eq!(raw.rules[0].charset, "ab\"c");
        assert_eq!(raw.rules[0].min_chars, 2);
        assert_eq!(raw.rules[0].at, Some(Position { line: 3, column: 1 }));
        assert_eq!(raw.rules[1].min_chars, 0);
    }

    #[test]
    fn deep_nesting_is_refused_before_the_hcl_parser() {
        // The `policy` fuzz target's finding, in the same parser: 25
        // unclosed levels take `hcl-edit` minutes; 14 are quick for it, so
        // without the guard this fails instead of hanging.
        let e = err(&"k = a/b/{".repeat(14));
        assert!(e.to_string().contains("nested deeper than 12"), "{e}");
        assert_eq!(e.position().map(|p| (p.line, p.column)), Some((1, 9 * 13)));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = err("length = 20\nrule \"charset\" {\n  charset = \"abc\n}\n");
        let at = e.position().unwrap();
        assert_eq!(at.line, 3, "{e}");
        assert!(
            e.to_string()
                .starts_with("unable to decode: syntax error on line 3")
        );
        let e = err("{\"length\": 20,\n \"rule\": }");
        assert_eq!(e.position().unwrap().line, 2);
    }

    #[test]
    fn shape_errors_are_explained() {
        let e = err("length = \"20\"");
        assert_eq!(
            e.to_string(),
            "length must be a whole number on line 1, column 10"
        );
        assert!(
            err("length = 2.5")
                .to_string()
                .starts_with("length must be a whole number")
        );
        let e = err("length = 4\nlength = 5");
        assert_eq!(e.position().map(|p| p.line), Some(2), "{e}");
        let e = err("length = 8\nrule \"symbols\" {\n}");
        assert_eq!(
            e.to_string(),
            "unrecognized rule type \"symbols\" on line 2, column 6"
        );
        assert!(
            err("rule { charset = \"a\" }")
                .to_string()
                .contains("exactly one label")
        );
        assert!(
            err("rule \"charset\" { charset = 5 }")
                .to_string()
                .starts_with("charset must be a string")
        );
        assert!(
            err("rule \"charset\" { charset = \"${x}\" }")
                .to_string()
                .starts_with("charset must be a string")
        );
        assert!(
            err("rule \"charset\" { min-chars = \"1\" }")
                .to_string()
                .starts_with("min-chars must be a whole number")
        );
    }

    #[test]
    fn json_form_is_accepted() {
        let raw = parse(r#"{"length": 8, "rule": [{"charset": {"charset": "abc", "min-chars": 1}}, {"charset": [{"charset": "12"}]}]}"#).unwrap();
        assert_eq!(raw.length, Some(8));
        assert_eq!(raw.rules.len(), 2);
        assert_eq!(raw.rules[1].charset, "12");
        let raw = parse(r#"{"length": 8, "rule": {"charset": {"charset": "x"}}}"#).unwrap();
        assert_eq!(raw.rules[0].charset, "x");
        assert!(
            err(r#"{"rule": {"nope": {}}}"#)
                .to_string()
                .contains("unrecognized rule type")
        );
        assert!(
            err(r#"{"length": "8"}"#)
                .to_string()
                .contains("whole number")
        );
        assert!(
            err(r#"{"rule": {"charset": {"charset": 1}}}"#)
                .to_string()
                .contains("must be a string")
        );
    }
}
