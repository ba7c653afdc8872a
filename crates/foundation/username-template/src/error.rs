//! Typed errors for parsing and rendering username templates. Messages name
//! the template construct at fault (Go's wording where it has one) and never
//! contain rendered values.

pub use coffer_types::Position;

/// Why a username template could not be parsed or rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template text is empty (Vault: `missing template`).
    #[error("missing template")]
    Empty,
    /// The template text is longer than [`crate::MAX_TEMPLATE_LEN`].
    #[error("template is too long: {len} bytes, at most {max} are allowed")]
    TooLong {
        /// Length of the text, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The text is not a valid template: bad syntax, an unknown function or
    /// field, a wrong number or type of arguments.
    #[error("unable to parse template: {message} on {at}")]
    Syntax {
        /// What is wrong, e.g. `unknown function "foo"`.
        message: String,
        /// Where in the template text.
        at: Position,
    },
    /// A function refused its arguments while rendering, e.g. `truncate 0`.
    #[error("unable to apply template: error calling {function}: {message}")]
    Function {
        /// The template function's name.
        function: &'static str,
        /// Why it failed.
        message: String,
    },
    /// A rendered value or the whole output grew beyond
    /// [`crate::MAX_OUTPUT_LEN`] bytes.
    #[error("unable to apply template: output is longer than {max} bytes")]
    OutputTooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The render time cannot be expressed as a date (far outside the years
    /// -9999 to 9999).
    #[error("unable to apply template: the current time is out of range")]
    TimeOutOfRange,
    /// The CSPRNG failed (`random`, `uuid`).
    #[error("unable to apply template: the random generator failed")]
    Random,
}

coffer_types::error_kinds! {
    /// The kind of failure, which decides the HTTP status: a bad template is
    /// the client's fault (400); a failing clock or CSPRNG is not (500).
    TemplateError {
        Empty
        | TooLong { .. }
        | Syntax { .. }
        | Function { .. }
        | OutputTooLong { .. } => InvalidRequest,
        TimeOutOfRange | Random => Internal,
    }
}

impl TemplateError {
    /// The position in the template text the error points at, if any.
    pub fn position(&self) -> Option<Position> {
        match self {
            TemplateError::Syntax { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// A syntax error at byte `offset` of `text`.
    pub(crate) fn syntax(text: &str, offset: usize, message: impl Into<String>) -> Self {
        TemplateError::Syntax {
            message: message.into(),
            at: Position::from_offset(text, offset),
        }
    }

    /// A failure of template function `function`.
    pub(crate) fn function(function: &'static str, message: impl Into<String>) -> Self {
        TemplateError::Function {
            function,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = TemplateError::syntax("ab\ncd", 4, "unexpected \"}\"");
        assert_eq!(err.position(), Some(Position { line: 2, column: 2 }));
        assert_eq!(
            err.to_string(),
            "unable to parse template: unexpected \"}\" on line 2, column 2"
        );
    }

    #[test]
    fn kinds_map_to_statuses() {
        let e: coffer_types::Error = TemplateError::Empty.into();
        assert_eq!(e.status(), 400);
        assert_eq!(e.messages(), ["missing template"]);
        assert_eq!(TemplateError::Random.kind().status(), 500);
        assert_eq!(
            TemplateError::function("truncate", "max length must be > 0 but was 0")
                .kind()
                .status(),
            400
        );
    }
}
