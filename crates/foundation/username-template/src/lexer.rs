//! Splits template text into literal text and actions (`{{ ... }}`), applies
//! the trim markers (`{{- ` and ` -}}`), drops comments (`{{/* ... */}}`) and
//! turns each action into tokens, following Go's `text/template` lexer.

use crate::TemplateError;

/// The characters trim markers remove (Go's `spaceChars`).
const SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// A piece of the template: literal text or an action's tokens.
#[derive(Debug, PartialEq)]
pub(crate) enum Item {
    /// Literal text, already trimmed by neighbouring trim markers.
    Text(String),
    /// The tokens of one action; `start` is the byte offset of its `{{`.
    Action {
        /// The action's tokens, in order.
        tokens: Vec<Token>,
        /// Byte offset of the action's `{{`.
        start: usize,
    },
}

/// One token of an action, with the byte offset where it starts.
#[derive(Debug, PartialEq)]
pub(crate) struct Token {
    /// What the token is.
    pub(crate) kind: Tok,
    /// Byte offset of its first character in the template text.
    pub(crate) offset: usize,
}

/// The kinds of tokens inside an action.
#[derive(Debug, PartialEq)]
pub(crate) enum Tok {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `|`
    Pipe,
    /// A string literal, escapes already decoded.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// `.Name` (the name without the dot).
    Field(String),
    /// A bare `.` (the whole data).
    Dot,
    /// A function name or keyword.
    Ident(String),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `text` into items.
pub(crate) fn lex(text: &str) -> Result<Vec<Item>, TemplateError> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    loop {
        let open = text[pos..].find("{{").map(|i| pos + i);
        let mut literal = &text[pos..open.unwrap_or(text.len())];
        if trim_next {
            literal = literal.trim_start_matches(SPACE);
        }
        let Some(open) = open else {
            push_text(&mut items, literal);
            return Ok(items);
        };
        let mut cursor = open + 2;
        if bytes.get(cursor) == Some(&b'-') && bytes.get(cursor + 1).is_some_and(|b| is_space(*b)) {
            literal = literal.trim_end_matches(SPACE);
            cursor += 2;
        }
        push_text(&mut items, literal);
        let (end, trim) = if text[cursor..].starts_with("/*") {
            comment(text, open, cursor + 2)?
        } else {
            let (tokens, end, trim) = action(text, open, cursor)?;
            items.push(Item::Action {
                tokens,
                start: open,
            });
            (end, trim)
        };
        pos = end;
        trim_next = trim;
    }
}

fn push_text(items: &mut Vec<Item>, literal: &str) {
    if !literal.is_empty() {
        items.push(Item::Text(literal.to_owned()));
    }
}

/// Skips a comment whose body starts at `body`; returns the offset after the
/// closing delimiter and whether it carries a trim marker.
fn comment(text: &str, open: usize, body: usize) -> Result<(usize, bool), TemplateError> {
    let Some(close) = text[body..].find("*/").map(|i| body + i + 2) else {
        return Err(TemplateError::syntax(text, open, "unclosed comment"));
    };
    let rest = &text[close..];
    if rest.starts_with("}}") {
        Ok((close + 2, false))
    } else if rest.len() >= 4 && is_space(rest.as_bytes()[0]) && rest[1..].starts_with("-}}") {
        Ok((close + 4, true))
    } else {
        Err(TemplateError::syntax(
            text,
            close,
            "comment ends before closing delimiter",
        ))
    }
}

/// Tokenizes the action whose `{{` is at `open`, starting at `p`; returns its
/// tokens, the offset after `}}` and whether it ended with a trim marker.
fn action(
    text: &str,
    open: usize,
    mut p: usize,
) -> Result<(Vec<Token>, usize, bool), TemplateError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    loop {
        let rest = &text[p..];
        let Some(&c) = rest.as_bytes().first() else {
            return Err(TemplateError::syntax(text, open, "unclosed action"));
        };
        if rest.starts_with("}}") {
            return Ok((tokens, p + 2, false));
        }
        if is_space(c) {
            if rest[1..].starts_with("-}}") {
                return Ok((tokens, p + 4, true));
            }
            p += 1;
            continue;
        }
        let start = p;
        let kind = match c {
            b'(' => {
                p += 1;
                Tok::LParen
            }
            b')' => {
                p += 1;
                Tok::RParen
            }
            b'|' => {
                p += 1;
                Tok::Pipe
            }
            b'"' => {
                let (s, end) = quoted(text, p)?;
                p = end;
                Tok::Str(s)
            }
            b'`' => {
                let (s, end) = raw(text, p)?;
                p = end;
                Tok::Str(s)
            }
            b'.' if bytes.get(p + 1).is_some_and(|b| is_ident_start(*b)) => {
                let end = ident_end(bytes, p + 1);
                if bytes.get(end) == Some(&b'.') {
                    return Err(TemplateError::syntax(
                        text,
                        p,
                        "chained fields (.A.B) are not supported",
                    ));
                }
                let name = text[p + 1..end].to_owned();
                p = end;
                Tok::Field(name)
            }
            b'0'..=b'9' => {
                let (n, end) = number(text, p)?;
                p = end;
                Tok::Int(n)
            }
            b'+' | b'-' | b'.' if bytes.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                let (n, end) = number(text, p)?;
                p = end;
                Tok::Int(n)
            }
            b'.' => {
                p += 1;
                Tok::Dot
            }
            b'$' => {
                return Err(TemplateError::syntax(
                    text,
                    p,
                    "variables ($name) are not supported",
                ));
            }
            c if is_ident_start(c) => {
                let end = ident_end(bytes, p);
                let name = text[p..end].to_owned();
                p = end;
                Tok::Ident(name)
            }
            _ => {
                let ch = rest.chars().next().unwrap_or('?');
                return Err(TemplateError::syntax(
                    text,
                    p,
                    format!("unexpected {:?} in action", ch.to_string()),
                ));
            }
        };
        tokens.push(Token {
            kind,
            offset: start,
        });
    }
}

fn ident_end(bytes: &[u8], mut p: usize) -> usize {
    while bytes.get(p).is_some_and(|b| is_ident_char(*b)) {
        p += 1;
    }
    p
}

/// An interpreted string literal starting at the `"` at `start`, with Go's
/// escapes; returns the decoded text and the offset after the closing quote.
fn quoted(text: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let unterminated = || TemplateError::syntax(text, start, "unterminated quoted string");
    let body = start + 1;
    let mut out = String::new();
    let mut chars = text[body..].char_indices();
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(unterminated());
        };
        match c {
            '"' => return Ok((out, body + i + 1)),
            '\n' => return Err(unterminated()),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(unterminated());
                };
                let bad = |message: &str| TemplateError::syntax(text, body + i, message);
                let decoded = match e {
                    'a' => '\x07',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\x0b',
                    '\\' => '\\',
                    '"' => '"',
                    'x' => {
                        ascii(hex_digits(&mut chars, 2, 16).ok_or_else(|| bad("bad \\x escape"))?)
                            .ok_or_else(|| bad("\\x escapes above \\x7f are not supported"))?
                    }
                    'u' | 'U' => {
                        let n = if e == 'u' { 4 } else { 8 };
                        hex_digits(&mut chars, n, 16)
                            .and_then(char::from_u32)
                            .ok_or_else(|| bad("bad unicode escape"))?
                    }
                    '0'..='7' => {
                        let rest =
                            hex_digits(&mut chars, 2, 8).ok_or_else(|| bad("bad octal escape"))?;
                        let value = e.to_digit(8).unwrap_or(0) * 64 + rest;
                        ascii(value)
                            .ok_or_else(|| bad("octal escapes above \\177 are not supported"))?
                    }
                    _ => return Err(bad("unknown escape sequence")),
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
}

/// Reads exactly `n` digits of `radix` from `chars` as one number.
fn hex_digits(chars: &mut std::str::CharIndices<'_>, n: usize, radix: u32) -> Option<u32> {
    let mut value = 0u32;
    for _ in 0..n {
        let (_, c) = chars.next()?;
        value = value.checked_mul(radix)?.checked_add(c.to_digit(radix)?)?;
    }
    Some(value)
}

fn ascii(value: u32) -> Option<char> {
    if value < 0x80 {
        char::from_u32(value)
    } else {
        None
    }
}

/// A raw string literal starting at the backquote at `start` (carriage
/// returns are dropped, as Go does).
fn raw(text: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let body = start + 1;
    let Some(len) = text[body..].find('`') else {
        return Err(TemplateError::syntax(
            text,
            start,
            "unterminated raw quoted string",
        ));
    };
    let s = text[body..body + len].replace('\r', "");
    Ok((s, body + len + 1))
}

/// An integer literal starting at `start` (optional sign; decimal, `0x`,
/// `0o`, `0b` or leading-zero octal, `_` separators), as Go reads it.
fn number(text: &str, start: usize) -> Result<(i64, usize), TemplateError> {
    let bytes = text.as_bytes();
    let mut end = start + 1;
    while bytes
        .get(end)
        .is_some_and(|b| is_ident_char(*b) || *b == b'.')
    {
        end += 1;
    }
    let literal = &text[start..end];
    parse_int(literal)
        .map(|n| (n, end))
        .map_err(|why| TemplateError::syntax(text, start, format!("{why}: {literal:?}")))
}

fn parse_int(literal: &str) -> Result<i64, &'static str> {
    let (negative, body) = match literal.as_bytes().first() {
        Some(b'-') => (true, &literal[1..]),
        Some(b'+') => (false, &literal[1..]),
        _ => (false, literal),
    };
    let prefixed = |p: &str| {
        body.strip_prefix(p)
            .or_else(|| body.strip_prefix(&p.to_uppercase()))
    };
    let (radix, digits) = if let Some(d) = prefixed("0x") {
        (16, d)
    } else if let Some(d) = prefixed("0o") {
        (8, d)
    } else if let Some(d) = prefixed("0b") {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(if radix == 10 && body.contains(['.', 'e', 'E']) {
            "floating-point numbers are not supported"
        } else {
            "bad number syntax"
        });
    }
    let magnitude = u64::from_str_radix(&digits, radix).map_err(|_| "number out of range")?;
    let value = if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    i64::try_from(value).map_err(|_| "number out of range")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        match lex(text).unwrap().into_iter().next().unwrap() {
            Item::Action { tokens, .. } => tokens.into_iter().map(|t| t.kind).collect(),
            other => panic!("not an action: {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        lex(text).unwrap_err().to_string()
    }

    #[test]
    fn text_and_actions() {
        let items = lex("a{{ .RoleName }}b").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], Item::Text("a".into()));
        assert!(matches!(&items[1], Item::Action { start: 1, tokens } if tokens.len() == 1));
        assert_eq!(items[2], Item::Text("b".into()));
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds(r#"{{printf "%s" (.DisplayName | truncate 8) . 0x1F -3 `r\n`}}"#),
            vec![
                Tok::Ident("printf".into()),
                Tok::Str("%s".into()),
                Tok::LParen,
                Tok::Field("DisplayName".into()),
                Tok::Pipe,
                Tok::Ident("truncate".into()),
                Tok::Int(8),
                Tok::RParen,
                Tok::Dot,
                Tok::Int(31),
                Tok::Int(-3),
                Tok::Str("r\\n".into()),
            ]
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            kinds(r#"{{ "a\"b\\c\nd\te\x41\u00e9\101" }}"#),
            vec![Tok::Str("a\"b\\c\nd\teAéA".into())]
        );
        assert_eq!(kinds(r#"{{ "}}" }}"#), vec![Tok::Str("}}".into())]);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("{{ 10 +5 0o17 017 0b101 1_000 }}"),
            [10, 5, 15, 15, 5, 1000].map(Tok::Int)
        );
        assert_eq!(
            kinds("{{ -9223372036854775808 }}"),
            vec![Tok::Int(i64::MIN)]
        );
        assert!(err("{{ 9223372036854775808 }}").contains("number out of range"));
        assert!(err("{{ 1.5 }}").contains("floating-point numbers are not supported"));
        assert!(err("{{ 12ab }}").contains("bad number syntax: \"12ab\""));
    }

    #[test]
    fn trim_markers() {
        let items = lex("a \n{{- .RoleName -}} \t b").unwrap();
        assert_eq!(items[0], Item::Text("a".into()));
        assert_eq!(items[2], Item::Text("b".into()));
        // Without the space the dash is part of a number, as in Go.
        assert_eq!(kinds("{{-3}}"), vec![Tok::Int(-3)]);
        let items = lex("a {{.RoleName-}} b").unwrap_err();
        assert!(items.to_string().contains("unexpected \"-\""));
    }

    #[test]
    fn comments() {
        let items = lex("a {{- /* note */ -}} b{{/* x */}}c").unwrap();
        assert_eq!(
            items,
            vec![
                Item::Text("a".into()),
                Item::Text("b".into()),
                Item::Text("c".into())
            ]
        );
        assert!(err("{{/* x */ }}").contains("comment ends before closing delimiter"));
        assert!(err("{{/* x").contains("unclosed comment"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("ab{{ .RoleName"),
            "unable to parse template: unclosed action on line 1, column 3"
        );
        assert!(err("{{ .RoleName }").contains("unexpected \"}\" in action on line 1, column 14"));
        assert!(err("{{ \"abc }}").contains("unterminated quoted string"));
        assert!(err("{{ \"a\nb\" }}").contains("unterminated quoted string"));
        assert!(err("{{ `abc }}").contains("unterminated raw quoted string"));
        assert!(err(r#"{{ "\q" }}"#).contains("unknown escape sequence"));
        assert!(err(r#"{{ "\xff" }}"#).contains("not supported"));
        assert!(err("{{ $x }}").contains("variables ($name) are not supported"));
        assert!(err("{{ .A.B }}").contains("chained fields"));
        assert!(err("{{ # }}").contains("unexpected \"#\" in action"));
    }
}
