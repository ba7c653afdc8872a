//! Renders parsed templates: evaluates each action's expression against the
//! data and concatenates the pieces, bounding every value and the output.

use std::fmt;

use crate::parser::{Expr, Field, Node};
use crate::{MAX_OUTPUT_LEN, TemplateData, TemplateError, functions};

/// A value during rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
}

impl Value {
    /// The name Go gives the value's type (for printf's `%!d(string=...)`).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
        }
    }
}

/// The text of `nodes` rendered with `data`.
pub(crate) fn render(nodes: &[Node], data: &TemplateData) -> Result<String, TemplateError> {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Action(expr) => out.push_str(&eval(expr, data)?.to_string()),
        }
        check_len(&out)?;
    }
    Ok(out)
}

fn eval(expr: &Expr, data: &TemplateData) -> Result<Value, TemplateError> {
    Ok(match expr {
        Expr::Field(Field::DisplayName) => Value::Str(data.display_name.clone()),
        Expr::Field(Field::RoleName) => Value::Str(data.role_name.clone()),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Int(n) => Value::Int(*n),
        Expr::Call(func, args) => {
            let args = args
                .iter()
                .map(|arg| eval(arg, data))
                .collect::<Result<Vec<_>, _>>()?;
            let value = functions::call(*func, &args, data.now)?;
            check_len(&value)?;
            Value::Str(value)
        }
    })
}

fn check_len(s: &str) -> Result<(), TemplateError> {
    if s.len() > MAX_OUTPUT_LEN {
        return Err(TemplateError::OutputTooLong {
            max: MAX_OUTPUT_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::parser::parse;

    fn data() -> TemplateData {
        TemplateData {
            display_name: "token-with-display-name".into(),
            role_name: "my_custom_database_role".into(),
            now: UNIX_EPOCH + std::time::Duration::from_secs(1_234_567_890),
        }
    }

    fn render_text(text: &str) -> Result<String, TemplateError> {
        render(&parse(text).unwrap(), &data())
    }

    #[test]
    fn fields_literals_and_calls() {
        assert_eq!(
            render_text("{{.DisplayName}}_{{.RoleName}}").unwrap(),
            "token-with-display-name_my_custom_database_role"
        );
        assert_eq!(render_text("{{ 42 }}-{{ \"s\" }}").unwrap(), "42-s");
        assert_eq!(render_text("{{ unix_time }}").unwrap(), "1234567890");
    }

    #[test]
    fn render_errors_name_the_function() {
        assert_eq!(
            render_text("{{ .RoleName | truncate 0 }}")
                .unwrap_err()
                .to_string(),
            "unable to apply template: error calling truncate: max length must be > 0 but was 0"
        );
    }

    #[test]
    fn output_is_bounded() {
        let each = "{{ random 10000 }}".repeat(2);
        assert_eq!(
            render_text(&each),
            Err(TemplateError::OutputTooLong {
                max: MAX_OUTPUT_LEN
            })
        );
        assert!(render_text("{{ random 16385 }}").is_err());
        assert_eq!(render_text("{{ random 16384 }}").unwrap().len(), 16384);
    }
}
