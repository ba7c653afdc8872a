//! Turns the lexer's items into expression trees, following Go's
//! `text/template` grammar for pipelines (`a | f x`: the piped value is the
//! last argument of `f`), commands and parenthesised pipelines. Function
//! names, field names, argument counts and argument types are all checked
//! here, so a template that parses can only fail at render time on values.

use crate::functions::{Func, Ty};
use crate::lexer::{self, Item, Tok, Token};
use crate::{MAX_DEPTH, MAX_TEMPLATE_LEN, TemplateError, printf};

/// A piece of a parsed template.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// Literal text.
    Text(String),
    /// An action, whose value is printed.
    Action(Expr),
}

/// The data fields a template may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// `.DisplayName`
    DisplayName,
    /// `.RoleName`
    RoleName,
}

/// An expression: a value, or a function applied to arguments.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Field(Field),
    Str(String),
    Int(i64),
    Call(Func, Vec<Expr>),
}

impl Expr {
    fn ty(&self) -> Ty {
        match self {
            Expr::Int(_) => Ty::Int,
            Expr::Field(_) | Expr::Str(_) | Expr::Call(..) => Ty::Str,
        }
    }

    fn depth(&self) -> usize {
        match self {
            Expr::Call(_, args) => 1 + args.iter().map(Expr::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn describe(&self) -> String {
        match self {
            Expr::Field(Field::DisplayName) => ".DisplayName".into(),
            Expr::Field(Field::RoleName) => ".RoleName".into(),
            Expr::Str(s) => format!("{s:?}"),
            Expr::Int(n) => n.to_string(),
            Expr::Call(f, _) => format!("({} ...)", f.name()),
        }
    }
}

/// Parses `text` into nodes, enforcing the length and depth limits.
pub(crate) fn parse(text: &str) -> Result<Vec<Node>, TemplateError> {
    if text.is_empty() {
        return Err(TemplateError::Empty);
    }
    if text.len() > MAX_TEMPLATE_LEN {
        return Err(TemplateError::TooLong {
            len: text.len(),
            max: MAX_TEMPLATE_LEN,
        });
    }
    lexer::lex(text)?
        .into_iter()
        .map(|item| match item {
            Item::Text(t) => Ok(Node::Text(t)),
            Item::Action { tokens, start } => {
                let mut parser = Parser {
                    text,
                    tokens: &tokens,
                    pos: 0,
                    start,
                };
                let expr = parser.pipeline(0, None)?;
                if expr.depth() > MAX_DEPTH {
                    return Err(TemplateError::syntax(
                        text,
                        start,
                        format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                    ));
                }
                Ok(Node::Action(expr))
            }
        })
        .collect()
}

/// An operand of a command before it is known whether it is called.
enum Operand {
    Func(Func, usize),
    Value(Expr, usize),
}

impl Operand {
    fn offset(&self) -> usize {
        match self {
            Operand::Func(_, at) | Operand::Value(_, at) => *at,
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Token],
    pos: usize,
    /// Byte offset of the action's `{{`.
    start: usize,
}

impl Parser<'_> {
    fn error(&self, at: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::syntax(self.text, at, message)
    }

    /// Offset of the next token, or of the action when none is left.
    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.start, |t| t.offset)
    }

    /// A pipeline up to the end of the action (`open` is `None`) or up to
    /// the `)` matching the `(` at `open`.
    fn pipeline(&mut self, nesting: usize, open: Option<usize>) -> Result<Expr, TemplateError> {
        let mut piped = None;
        let mut stage = 1;
        loop {
            let at = self.here();
            let operands = self.command(nesting)?;
            let expr = self.build(stage, operands, piped.take(), at)?;
            match self.tokens.get(self.pos) {
                Some(Token {
                    kind: Tok::Pipe, ..
                }) => {
                    self.pos += 1;
                    piped = Some(expr);
                    stage += 1;
                }
                Some(Token {
                    kind: Tok::RParen,
                    offset,
                }) => {
                    if open.is_none() {
                        return Err(self.error(*offset, "unexpected right paren"));
                    }
                    self.pos += 1;
                    return Ok(expr);
                }
                Some(Token { offset, .. }) => {
                    return Err(self.error(*offset, "unexpected token in pipeline"));
                }
                None => {
                    return match open {
                        Some(open) => Err(self.error(open, "unclosed left paren")),
                        None => Ok(expr),
                    };
                }
            }
        }
    }

    /// The operands of one command, up to `|`, `)` or the end.
    fn command(&mut self, nesting: usize) -> Result<Vec<Operand>, TemplateError> {
        let mut operands = Vec::new();
        while let Some(token) = self.tokens.get(self.pos) {
            let at = token.offset;
            let operand = match &token.kind {
                Tok::Pipe | Tok::RParen => break,
                Tok::LParen => {
                    if nesting >= MAX_DEPTH {
                        return Err(self.error(
                            at,
                            format!(
                                "parentheses are nested too deeply (more than {MAX_DEPTH} levels)"
                            ),
                        ));
                    }
                    self.pos += 1;
                    let inner = self.pipeline(nesting + 1, Some(at))?;
                    operands.push(Operand::Value(inner, at));
                    continue;
                }
                Tok::Str(s) => Operand::Value(Expr::Str(s.clone()), at),
                Tok::Int(n) => Operand::Value(Expr::Int(*n), at),
                Tok::Field(name) => Operand::Value(Expr::Field(self.field(name, at)?), at),
                Tok::Dot => {
                    return Err(self.error(
                        at,
                        "\".\" (the whole data) is not supported; use .DisplayName or .RoleName",
                    ));
                }
                Tok::Ident(name) => Operand::Func(self.function(name, at)?, at),
            };
            self.pos += 1;
            operands.push(operand);
        }
        Ok(operands)
    }

    fn field(&self, name: &str, at: usize) -> Result<Field, TemplateError> {
        match name {
            "DisplayName" => Ok(Field::DisplayName),
            "RoleName" => Ok(Field::RoleName),
            _ => Err(self.error(
                at,
                format!("unknown field \".{name}\" (the fields are .DisplayName and .RoleName)"),
            )),
        }
    }

    fn function(&self, name: &str, at: usize) -> Result<Func, TemplateError> {
        if let Some(func) = Func::from_name(name) {
            return Ok(func);
        }
        let message = match name {
            "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block"
            | "break" | "continue" => format!("unsupported keyword {name:?}"),
            "true" | "false" | "nil" => format!("unsupported constant {name:?}"),
            _ => format!("unknown function {name:?}"),
        };
        Err(self.error(at, message))
    }

    /// The expression of one command of a pipeline (`stage` counts from 1);
    /// `piped` is the previous stage's value.
    fn build(
        &self,
        stage: usize,
        operands: Vec<Operand>,
        piped: Option<Expr>,
        at: usize,
    ) -> Result<Expr, TemplateError> {
        let mut operands = operands.into_iter();
        match operands.next() {
            None => Err(self.error(at, "missing value for command")),
            Some(Operand::Func(func, at)) => {
                let mut args = operands
                    .map(|op| self.argument(op))
                    .collect::<Result<Vec<_>, _>>()?;
                args.extend(piped);
                self.call(func, args, at)
            }
            Some(Operand::Value(expr, at)) => {
                if piped.is_some() {
                    return Err(self.error(
                        at,
                        format!("non executable command in pipeline stage {stage}"),
                    ));
                }
                match operands.next() {
                    Some(extra) => Err(self.error(
                        extra.offset(),
                        format!("can't give argument to non-function {}", expr.describe()),
                    )),
                    None => Ok(expr),
                }
            }
        }
    }

    /// An argument: a value, or a function named alone (called without
    /// arguments, as Go does).
    fn argument(&self, operand: Operand) -> Result<Expr, TemplateError> {
        match operand {
            Operand::Func(func, at) => self.call(func, Vec::new(), at),
            Operand::Value(expr, _) => Ok(expr),
        }
    }

    /// `func` applied to `args`, after checking their number and types.
    fn call(&self, func: Func, args: Vec<Expr>, at: usize) -> Result<Expr, TemplateError> {
        let params = func.params();
        let count_ok = if func.variadic() {
            args.len() >= params.len()
        } else {
            args.len() == params.len()
        };
        if !count_ok {
            let want = if func.variadic() {
                format!("at least {}", params.len())
            } else {
                params.len().to_string()
            };
            return Err(self.error(
                at,
                format!(
                    "wrong number of args for {}: want {want} got {}",
                    func.name(),
                    args.len()
                ),
            ));
        }
        for (i, arg) in args.iter().enumerate() {
            let want = params.get(i).copied().unwrap_or(Ty::Any);
            if want != Ty::Any && want != arg.ty() {
                return Err(self.error(
                    at,
                    format!(
                        "wrong type for argument {} of {}: want {}, got {}",
                        i + 1,
                        func.name(),
                        want.name(),
                        arg.ty().name()
                    ),
                ));
            }
        }
        if let (Func::Printf, Some(Expr::Str(format))) = (func, args.first()) {
            printf::check_format(format).map_err(|m| self.error(at, m))?;
        }
        Ok(Expr::Call(func, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(text: &str) -> Expr {
        match parse(text).unwrap().pop() {
            Some(Node::Action(e)) => e,
            other => panic!("no action: {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text).unwrap_err() {
            TemplateError::Syntax { message, at } => format!("{message} @{}", at.column),
            other => other.to_string(),
        }
    }

    fn call(f: Func, args: Vec<Expr>) -> Expr {
        Expr::Call(f, args)
    }

    #[test]
    fn pipelines_pass_the_value_last() {
        assert_eq!(
            action("{{ .DisplayName | truncate 8 | uppercase }}"),
            call(
                Func::Uppercase,
                vec![call(
                    Func::Truncate,
                    vec![Expr::Int(8), Expr::Field(Field::DisplayName)]
                )]
            )
        );
        assert_eq!(
            action(r#"{{ "x" | replace "a" "b" }}"#),
            call(
                Func::Replace,
                vec![
                    Expr::Str("a".into()),
                    Expr::Str("b".into()),
                    Expr::Str("x".into())
                ]
            )
        );
    }

    #[test]
    fn parentheses_and_bare_functions() {
        assert_eq!(
            action(r#"{{ printf "%s-%s" (.RoleName) unix_time }}"#),
            call(
                Func::Printf,
                vec![
                    Expr::Str("%s-%s".into()),
                    Expr::Field(Field::RoleName),
                    call(Func::UnixTime, vec![])
                ]
            )
        );
        assert_eq!(action("{{ (((7))) }}"), Expr::Int(7));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(err("{{ foo }}"), "unknown function \"foo\" @4");
        assert_eq!(
            err("{{ .RoleName | eq \"x\" }}"),
            "unknown function \"eq\" @16"
        );
        assert_eq!(
            err("ab {{ .Role }}"),
            "unknown field \".Role\" (the fields are .DisplayName and .RoleName) @7"
        );
        assert_eq!(
            err("{{ if .RoleName }}x{{ end }}"),
            "unsupported keyword \"if\" @4"
        );
        assert_eq!(err("{{ true }}"), "unsupported constant \"true\" @4");
        assert!(err("{{ . }}").contains("the whole data"));
    }

    #[test]
    fn arguments_are_checked() {
        assert_eq!(
            err("{{ .RoleName | truncate }}"),
            "wrong number of args for truncate: want 2 got 1 @16"
        );
        assert_eq!(
            err("{{ random }}"),
            "wrong number of args for random: want 1 got 0 @4"
        );
        assert_eq!(
            err("{{ uuid 1 }}"),
            "wrong number of args for uuid: want 0 got 1 @4"
        );
        assert_eq!(
            err("{{ printf }}"),
            "wrong number of args for printf: want at least 1 got 0 @4"
        );
        assert_eq!(
            err("{{ printf \"%s\" truncate }}"),
            "wrong number of args for truncate: want 2 got 0 @16"
        );
        assert_eq!(
            err("{{ truncate \"8\" .RoleName }}"),
            "wrong type for argument 1 of truncate: want int, got string @4"
        );
        assert_eq!(
            err("{{ 5 | uppercase }}"),
            "wrong type for argument 1 of uppercase: want string, got int @8"
        );
        assert_eq!(
            err("{{ printf \"%q\" .RoleName }}"),
            "printf: the verb %q is not supported (use %s, %v, %d, %x, %X or %%) @4"
        );
    }

    #[test]
    fn pipeline_shape_is_checked() {
        assert_eq!(err("{{ }}"), "missing value for command @1");
        assert_eq!(err("{{ .RoleName | }}"), "missing value for command @1");
        assert_eq!(err("{{ | lowercase }}"), "missing value for command @4");
        assert_eq!(
            err("{{ .RoleName | \"x\" }}"),
            "non executable command in pipeline stage 2 @16"
        );
        assert_eq!(
            err("{{ .RoleName 5 }}"),
            "can't give argument to non-function .RoleName @14"
        );
        assert_eq!(err("{{ (.RoleName }}"), "unclosed left paren @4");
        assert_eq!(err("{{ .RoleName) }}"), "unexpected right paren @13");
        assert_eq!(err("{{ () }}"), "missing value for command @5");
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(40), ")".repeat(40));
        assert!(err(&deep).contains("parentheses are nested too deeply"));
        let long = format!("{{{{ .RoleName{} }}}}", " | lowercase".repeat(40));
        assert!(err(&long).contains("expression is nested too deeply"));
        let ok = format!("{{{{ .RoleName{} }}}}", " | lowercase".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn length_is_limited() {
        assert_eq!(parse(""), Err(TemplateError::Empty));
        let long = "a".repeat(MAX_TEMPLATE_LEN + 1);
        assert_eq!(
            parse(&long),
            Err(TemplateError::TooLong {
                len: MAX_TEMPLATE_LEN + 1,
                max: MAX_TEMPLATE_LEN
            })
        );
        assert!(parse(&"a".repeat(MAX_TEMPLATE_LEN)).is_ok());
    }
}
