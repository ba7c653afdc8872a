//! Reads Vault's HCL policy syntax into raw path blocks, keeping positions
//! for error messages. Only literal values are allowed (no interpolation,
//! variables or function calls), as in Vault's HCL1 policies.

use crate::error::{PolicyError, Position};
use crate::lines::LineIndex;
use crate::parse_json;
use crate::rules::{RawAttr, RawBlock};
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::{Number, Span, parser};
use serde_json::{Map, Value};
use std::ops::Range;

/// Parses HCL policy text into path blocks (not yet validated).
pub(crate) fn parse(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    // `hcl-edit` backtracks exponentially on deep unclosed nesting (a
    // 225-byte policy took minutes): refuse deep nesting before parsing.
    coffer_types::hcl_nesting::check_hcl_nesting(text).map_err(|e| PolicyError::Syntax {
        at: Position {
            line: e.line,
            column: e.column,
        },
        message: e.message(),
    })?;
    let body = parser::parse_body(text).map_err(|e| PolicyError::Syntax {
        at: Position {
            line: e.location().line(),
            column: e.location().column(),
        },
        message: e.message().to_owned(),
    })?;
    // One index for the whole text: every position below is then found
    // without rescanning the text before it.
    let lines = LineIndex::new(text);
    let pos = |span: Option<Range<usize>>| lines.of_span(span);
    // Vault checks every top-level key before reading any path.
    for structure in body.iter() {
        let (key, span) = match structure {
            Structure::Attribute(a) => (a.key.as_str(), a.key.span()),
            Structure::Block(b) => (b.ident.as_str(), b.ident.span()),
        };
        if key != "name" && key != "path" {
            return Err(PolicyError::InvalidKey {
                path: None,
                key: key.to_owned(),
                at: pos(span),
            });
        }
    }
    let mut blocks = Vec::new();
    for structure in body.iter() {
        match structure {
            // The name comes from the API path; Vault ignores this one too.
            Structure::Attribute(a) if a.key.as_str() == "name" => {}
            // `path = { "secret/x" = { ... } }`: the object form of HCL1.
            Structure::Attribute(a) => {
                let value = to_json(&lines, &a.value)?;
                blocks.extend(parse_json::path_blocks(value, pos(a.key.span()))?);
            }
            Structure::Block(b) => blocks.push(path_block(&lines, b)?),
        }
    }
    Ok(blocks)
}

fn structure_error(
    lines: &LineIndex<'_>,
    span: Option<Range<usize>>,
    message: &str,
) -> PolicyError {
    PolicyError::Structure {
        message: message.to_owned(),
        at: lines.of_span(span),
    }
}

fn path_block(lines: &LineIndex<'_>, block: &Block) -> Result<RawBlock, PolicyError> {
    let [label] = block.labels.as_slice() else {
        return Err(structure_error(
            lines,
            block.ident.span(),
            "a path block takes exactly one label: the path",
        ));
    };
    let mut attrs = Vec::new();
    for structure in block.body.iter() {
        let (key, span, value) = match structure {
            Structure::Attribute(a) => (a.key.as_str(), a.key.span(), to_json(lines, &a.value)?),
            // HCL1 lets object-valued keys be written as blocks: `key { ... }`.
            Structure::Block(b) => (b.ident.as_str(), b.ident.span(), block_value(lines, b)?),
        };
        attrs.push(RawAttr {
            key: key.to_owned(),
            at: lines.of_span(span),
            value,
        });
    }
    Ok(RawBlock {
        path: label.as_str().to_owned(),
        at: lines.of_span(label.span()),
        attrs,
    })
}

/// A nested block as an object; labels become nested keys (HCL1 style).
fn block_value(lines: &LineIndex<'_>, block: &Block) -> Result<Value, PolicyError> {
    let mut value = body_value(lines, &block.body)?;
    for label in block.labels.iter().rev() {
        let mut wrapper = Map::new();
        wrapper.insert(label.as_str().to_owned(), value);
        value = Value::Object(wrapper);
    }
    Ok(value)
}

fn body_value(lines: &LineIndex<'_>, body: &Body) -> Result<Value, PolicyError> {
    let mut map = Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) => {
                map.insert(a.key.as_str().to_owned(), to_json(lines, &a.value)?);
            }
            Structure::Block(b) => {
                map.insert(b.ident.as_str().to_owned(), block_value(lines, b)?);
            }
        }
    }
    Ok(Value::Object(map))
}

fn number(n: &Number) -> Value {
    if let Some(u) = n.as_u64() {
        Value::from(u)
    } else if let Some(i) = n.as_i64() {
        Value::from(i)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

/// Converts a literal HCL expression to JSON. Nesting is bounded by the
/// HCL parser's own depth limit.
fn to_json(lines: &LineIndex<'_>, expr: &Expression) -> Result<Value, PolicyError> {
    Ok(match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(**b),
        Expression::Number(n) => number(n),
        Expression::String(s) => Value::String(s.as_str().to_owned()),
        Expression::Array(items) => Value::Array(
            items
                .iter()
                .map(|e| to_json(lines, e))
                .collect::<Result<_, _>>()?,
        ),
        Expression::Object(object) => {
            let mut map = Map::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                    ObjectKey::Expression(Expression::String(s)) => s.as_str().to_owned(),
                    ObjectKey::Expression(other) => {
                        return Err(structure_error(
                            lines,
                            other.span(),
                            "object keys must be names or strings",
                        ));
                    }
                };
                map.insert(key, to_json(lines, value.expr())?);
            }
            Value::Object(map)
        }
        Expression::Parenthesis(p) => to_json(lines, p.inner())?,
        other => {
            return Err(structure_error(
                lines,
                other.span(),
                "only literal values are allowed in policies (no interpolation, variables or functions)",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::{Capability, Policy, PolicyError, Position};
    use serde_json::json;
    use std::time::Duration;

    fn err(text: &str) -> PolicyError {
        Policy::parse("t", text).unwrap_err()
    }

    fn at(text: &str) -> (usize, usize) {
        let e = err(text);
        let p: Position = e.position().unwrap_or_else(|| panic!("no position: {e}"));
        (p.line, p.column)
    }

    #[test]
    fn deep_nesting_is_refused_before_the_hcl_parser() {
        // Found by the `policy` fuzz target: `hcl-edit` doubles its time
        // with each unclosed level (25 levels took minutes). 14 levels are
        // quick for it, so without the guard this fails instead of hanging.
        let e = err(&"k = a/b/{".repeat(14));
        assert!(e.to_string().contains("nested deeper than 12"), "{e}");
        assert_eq!(at(&"k = a/b/{".repeat(14)), (1, 9 * 13));
        let started = std::time::Instant::now();
        assert!(Policy::parse("t", &"k = a/b/{".repeat(1000)).is_err());
        // Generous: the guard is linear; the parser alone needs hours.
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn full_policy_parses() {
        let text = r#"
# hash comment
// slash comment
/* block
   comment */
name = "ignored"
path "/secret/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
  denied_parameters = { "baz" = ["*-prod"] }
  required_parameters = ["bar"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "90s"
  comment = "kept out of the rules"
}
path "secret/old" { policy = "read" }
path "secret/blockform" {
  capabilities = ["update"]
  allowed_parameters { foo = ["a"] }
}
path = { "secret/objform" = { capabilities = ["list"] } }
"#;
        let p = Policy::parse("Dev", text).unwrap();
        assert_eq!(p.name(), "dev");
        let rules = p.rules();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].path, "secret/data/*");
        assert_eq!(rules[0].capabilities.iter().count(), 7);
        assert_eq!(
            rules[0].allowed_parameters["bar"],
            vec![json!("zip"), json!("zap")]
        );
        assert_eq!(rules[0].denied_parameters["baz"], vec![json!("*-prod")]);
        assert_eq!(rules[0].required_parameters, ["bar"]);
        assert_eq!(rules[0].max_wrapping_ttl, Some(Duration::from_secs(90)));
        assert_eq!(
            rules[1].capabilities.to_vec(),
            [Capability::Read, Capability::List]
        );
        assert_eq!(rules[2].allowed_parameters["foo"], vec![json!("a")]);
        assert_eq!(rules[3].path, "secret/objform");
    }

    #[test]
    fn syntax_errors_have_positions() {
        // Unclosed block: reported at the end of the last line.
        assert_eq!(at("path \"a\" {\n  capabilities = [\"read\"]\n"), (2, 27));
        // Missing `=`.
        assert_eq!(at("path \"a\" {\n  capabilities [\"read\"]\n}\n"), (2, 16));
        // HCL rejects a redefined attribute.
        assert_eq!(
            at("path \"a\" {\n  policy = \"read\"\n  policy = \"write\"\n}\n"),
            (3, 3)
        );
        assert!(matches!(err("path \"a\" {"), PolicyError::Syntax { .. }));
    }

    #[test]
    fn each_semantic_error_has_a_position() {
        let cases: [(&str, (usize, usize), &str); 10] = [
            ("\n\nbogus = 1\n", (3, 1), "invalid key \"bogus\""),
            (
                "path \"a\" {\n  capabilities = [\"read\"]\n  bogus = 1\n}",
                (3, 3),
                "path \"a\": invalid key \"bogus\"",
            ),
            (
                "path \"a\" {\n    capabilities = [\"read\", \"reed\"]\n}",
                (2, 5),
                "invalid capability \"reed\"",
            ),
            (
                "path \"a\" {\n policy = \"admin\"\n}",
                (2, 2),
                "invalid policy \"admin\"",
            ),
            ("\npath \"a/+*\" {}", (2, 6), "'+*' is forbidden"),
            (
                "path \"a/{{x\" {}",
                (1, 6),
                "unbalanced templating characters",
            ),
            (
                "path \"a\" {\n  min_wrapping_ttl = \"2m\"\n  max_wrapping_ttl = \"1m\"\n}",
                (3, 3),
                "cannot be less than",
            ),
            (
                "path \"a\" {\n  capabilities = \"read\"\n}",
                (2, 3),
                "expected a list of strings",
            ),
            ("path {\n}", (1, 1), "exactly one label"),
            (
                "path \"a\" {\n  capabilities = [var.x]\n}",
                (2, 19),
                "only literal values",
            ),
        ];
        for (text, pos, needle) in cases {
            let e = err(text);
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
            assert_eq!(at(text), pos, "{text:?}: {e}");
            assert_eq!(e.kind().status(), 400);
        }
    }

    #[test]
    fn adversarial_inputs_fail_cleanly() {
        let deep = format!(
            "path \"a\" {{ x = {}{} }}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let deep_json = format!("{{\"path\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
        for text in [
            deep.as_str(),
            deep_json.as_str(),
            "path \"a\" { min_wrapping_ttl = 1e99999 }",
            "path \"a\" { min_wrapping_ttl = -1 }",
            "path \"a\" { capabilities = [\"${x}\"] }",
            "path \"a\" \"b\" {}",
            "\u{0}\u{feff}{{",
        ] {
            assert!(Policy::parse("x", text).is_err(), "{text:.40}");
        }
    }

    #[test]
    fn json_policies() {
        let text = r#"{"path": {"secret/*": {"capabilities": ["read", "list"]}, "secret/x": [{"policy": "deny"}]}}"#;
        let p = Policy::parse("j", text).unwrap();
        assert_eq!(p.rules().len(), 2);
        let e = err("{\n  \"path\": {\n    \"a\": {\"capabilities\": [\"read\",]}\n  }\n}");
        assert!(
            matches!(
                e,
                PolicyError::Syntax {
                    at: Position { line: 3, .. },
                    ..
                }
            ),
            "{e}"
        );
        let e = err(r#"{"paths": {}}"#);
        assert_eq!(
            e.to_string(),
            "failed to parse policy: invalid key \"paths\""
        );
        let e = err(r#"{"path": {"a": {"capabilities": ["sing"]}}}"#);
        assert!(
            matches!(e, PolicyError::InvalidCapability { at: None, .. }),
            "{e}"
        );
        assert!(matches!(
            err(r#"{"path": 5}"#),
            PolicyError::Structure { .. }
        ));
    }

    /// A policy of `n` blocks, each on three lines with two positions kept
    /// (the label and the attribute), and a non-ASCII character in each
    /// path so that columns must count characters, not bytes.
    fn many_blocks(n: usize) -> String {
        (0..n)
            .map(|i| format!("path \"secret/é{i}/*\" {{\n  capabilities = [\"read\"]\n}}\n"))
            .collect()
    }

    /// Regression (issue 12, part 8): each position used to be counted from
    /// the start of the text, so N blocks cost O(N²) (a minute at 50,000).
    /// Counting the bytes examined proves the work is now linear, with no
    /// timing: 20,000 blocks used to examine about 10 GB.
    #[test]
    fn positions_cost_linear_work() {
        for n in [1_000, 20_000] {
            let text = many_blocks(n);
            crate::work::take();
            let p = Policy::parse("big", &text).unwrap();
            let steps = crate::work::take();
            assert_eq!(p.rules().len(), n);
            assert!(
                steps <= 2 * text.len(),
                "{n} blocks ({} bytes): {steps} bytes examined",
                text.len()
            );
        }
    }

    #[test]
    fn positions_stay_right_at_the_end_of_a_large_policy() {
        let n = 20_000;
        let text = format!("{}path \"é/last\" {{\n  é = 1\n}}\n", many_blocks(n));
        let e = err(&text);
        assert_eq!(
            e.position(),
            Some(Position {
                line: 3 * n + 2,
                column: 3
            }),
            "{e}"
        );
        let text = format!(
            "{}path \"a\" {{\n  capabilities = [\"reed\"]\n}}\n",
            many_blocks(n)
        );
        assert_eq!(at(&text), (3 * n + 2, 3));
    }
}
