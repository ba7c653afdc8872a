//! Go's `fmt.Sprintf` for the verbs username templates need: `%s`, `%v`,
//! `%d`, `%x`, `%X` and `%%`, with the flags `-+# 0`, a width and a
//! precision. Like Go, a missing, extra or mistyped argument is not an error
//! but shows up in the output (`%!d(string=abc)`, `%!s(MISSING)`,
//! `%!(EXTRA int=5)`). Other verbs are refused.
//!
//! `write!` into a `String` cannot fail, so its result is ignored here.

use std::fmt::Write as _;

use crate::TemplateError;
use crate::eval::Value;

/// Go's limit on widths and precisions (larger ones are `%!(BADWIDTH)`).
const MAX_NUMBER: usize = 1_000_000;

/// One parsed `%` directive.
#[derive(Debug, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
    verb: char,
}

enum Directive {
    /// `%%`
    Percent,
    /// A `%` (with flags) at the end of the format.
    NoVerb,
    Verb(Spec),
}

/// Checks that every directive of `format` is supported (called when the
/// format is a literal in the template, so mistakes show at parse time).
pub(crate) fn check_format(format: &str) -> Result<(), String> {
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        let (_, used) = directive(&rest[i + 1..])?;
        rest = &rest[i + 1 + used..];
    }
    Ok(())
}

/// Formats `args` by `format`, refusing output longer than `max` bytes.
pub(crate) fn sprintf(format: &str, args: &[Value], max: usize) -> Result<String, TemplateError> {
    let too_long = || TemplateError::OutputTooLong { max };
    let mut out = String::new();
    let mut next = 0;
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let (d, used) =
            directive(&rest[i + 1..]).map_err(|m| TemplateError::function("printf", m))?;
        rest = &rest[i + 1 + used..];
        match d {
            Directive::Percent => out.push('%'),
            Directive::NoVerb => out.push_str("%!(NOVERB)"),
            Directive::Verb(spec) => {
                if spec.width.unwrap_or(0) > max || spec.precision.unwrap_or(0) > max {
                    return Err(too_long());
                }
                match args.get(next) {
                    Some(value) => format_value(&mut out, &spec, value),
                    None => {
                        let _ = write!(out, "%!{}(MISSING)", spec.verb);
                    }
                }
                next += 1;
            }
        }
        if out.len() > max {
            return Err(too_long());
        }
    }
    out.push_str(rest);
    if let Some(extra) = args.get(next..).filter(|e| !e.is_empty()) {
        out.push_str("%!(EXTRA ");
        for (i, value) in extra.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}={value}", value.type_name());
        }
        out.push(')');
    }
    if out.len() > max {
        return Err(too_long());
    }
    Ok(out)
}

/// Parses the directive after a `%` at the start of `rest`; returns it and
/// the number of bytes it spans.
fn directive(rest: &str) -> Result<(Directive, usize), String> {
    let bytes = rest.as_bytes();
    let mut spec = Spec::default();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'-' => {
                spec.minus = true;
                spec.zero = false;
            }
            b'+' => spec.plus = true,
            b'#' => spec.sharp = true,
            b' ' => spec.space = true,
            b'0' => spec.zero = !spec.minus,
            _ => break,
        }
        i += 1;
    }
    spec.width = number(bytes, &mut i)?;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        spec.precision = Some(number(bytes, &mut i)?.unwrap_or(0));
    }
    match bytes.get(i) {
        Some(b'*') => return Err("printf: '*' widths and precisions are not supported".into()),
        Some(b'[') => return Err("printf: argument indexes are not supported".into()),
        _ => {}
    }
    let Some(verb) = rest[i..].chars().next() else {
        return Ok((Directive::NoVerb, i));
    };
    let used = i + verb.len_utf8();
    match verb {
        '%' => Ok((Directive::Percent, used)),
        's' | 'v' | 'd' | 'x' | 'X' => {
            spec.verb = verb;
            Ok((Directive::Verb(spec), used))
        }
        _ => Err(format!(
            "printf: the verb %{verb} is not supported (use %s, %v, %d, %x, %X or %%)"
        )),
    }
}

/// A run of decimal digits at `*i`, if any.
fn number(bytes: &[u8], i: &mut usize) -> Result<Option<usize>, String> {
    let start = *i;
    let mut n: usize = 0;
    while let Some(d) = bytes.get(*i).filter(|b| b.is_ascii_digit()) {
        n = n * 10 + usize::from(d - b'0');
        if n > MAX_NUMBER {
            return Err("printf: width or precision is too large".into());
        }
        *i += 1;
    }
    Ok((*i > start).then_some(n))
}

fn format_value(out: &mut String, spec: &Spec, value: &Value) {
    match (spec.verb, value) {
        ('s' | 'v', Value::Str(s)) => {
            let s = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            pad(out, spec, &s, spec.zero);
        }
        ('d' | 'v', Value::Int(n)) => integer(out, spec, *n, 10, false),
        ('x', Value::Int(n)) => integer(out, spec, *n, 16, false),
        ('X', Value::Int(n)) => integer(out, spec, *n, 16, true),
        ('x' | 'X', Value::Str(s)) => {
            let bytes = s.as_bytes();
            let bytes = &bytes[..spec.precision.unwrap_or(bytes.len()).min(bytes.len())];
            let mut hex = String::new();
            if spec.sharp && !bytes.is_empty() {
                hex.push_str(if spec.verb == 'x' { "0x" } else { "0X" });
            }
            for b in bytes {
                let _ = if spec.verb == 'x' {
                    write!(hex, "{b:02x}")
                } else {
                    write!(hex, "{b:02X}")
                };
            }
            pad(out, spec, &hex, spec.zero);
        }
        (verb, value) => {
            let _ = write!(out, "%!{verb}({}={value})", value.type_name());
        }
    }
}

/// Go's `fmtInteger`: sign, `0x` prefix, digits with precision or zero
/// padding, then space padding to the width.
fn integer(out: &mut String, spec: &Spec, n: i64, radix: u32, upper: bool) {
    let magnitude = n.unsigned_abs();
    let mut digits = match (radix, upper) {
        (16, false) => format!("{magnitude:x}"),
        (16, true) => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let signed = n < 0 || spec.plus || spec.space;
    let min_digits = match spec.precision {
        Some(0) if magnitude == 0 => {
            pad(out, spec, "", false);
            return;
        }
        Some(p) => p,
        None if spec.zero && spec.width.is_some() => {
            spec.width.unwrap_or(0).saturating_sub(usize::from(signed))
        }
        None => 0,
    };
    if digits.len() < min_digits {
        digits.insert_str(0, &"0".repeat(min_digits - digits.len()));
    }
    let mut text = String::new();
    if n < 0 {
        text.push('-');
    } else if spec.plus {
        text.push('+');
    } else if spec.space {
        text.push(' ');
    }
    if spec.sharp && radix == 16 {
        text.push_str(if upper { "0X" } else { "0x" });
    }
    text.push_str(&digits);
    pad(out, spec, &text, false);
}

/// Appends `s` padded to the width (in characters): on the right with `-`,
/// else on the left with zeros (when `zeros`) or spaces.
fn pad(out: &mut String, spec: &Spec, s: &str, zeros: bool) {
    let fill = spec.width.unwrap_or(0).saturating_sub(s.chars().count());
    let padding = if zeros && !spec.minus { "0" } else { " " }.repeat(fill);
    if spec.minus {
        out.push_str(s);
        out.push_str(&padding);
    } else {
        out.push_str(&padding);
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Value]) -> String {
        sprintf(format, args, 1024).unwrap()
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    #[test]
    fn basic_verbs() {
        assert_eq!(f("v_%s_%s", &[s("a"), s("b")]), "v_a_b");
        assert_eq!(
            f("%d|%v|%v", &[Value::Int(-42), Value::Int(7), s("x")]),
            "-42|7|x"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(
            f("%x %X %#x", &[Value::Int(255), Value::Int(255), s("hi")]),
            "ff FF 0x6869"
        );
        assert_eq!(f("héllo", &[]), "héllo");
    }

    #[test]
    fn widths_and_precisions() {
        assert_eq!(
            f("[%5s][%-5s][%.2s]", &[s("ab"), s("ab"), s("abc")]),
            "[   ab][ab   ][ab]"
        );
        assert_eq!(
            f(
                "[%05d][%-5d][%+d][%.3d]",
                &[
                    Value::Int(-42),
                    Value::Int(42),
                    Value::Int(5),
                    Value::Int(7)
                ]
            ),
            "[-0042][42   ][+5][007]"
        );
        assert_eq!(
            f("[%.0d][%3.0d]", &[Value::Int(0), Value::Int(0)]),
            "[][   ]"
        );
        assert_eq!(f("[%.2s]", &[s("éèà")]), "[éè]");
    }

    #[test]
    fn go_error_forms() {
        assert_eq!(f("%d", &[s("abc")]), "%!d(string=abc)");
        assert_eq!(f("%s", &[Value::Int(5)]), "%!s(int=5)");
        assert_eq!(f("%s-%s", &[s("a")]), "a-%!s(MISSING)");
        assert_eq!(
            f("%s", &[s("a"), Value::Int(1), s("b")]),
            "a%!(EXTRA int=1, string=b)"
        );
        assert_eq!(f("a%", &[]), "a%!(NOVERB)");
    }

    #[test]
    fn unsupported_verbs_are_refused() {
        assert!(check_format("v_%s_%d_%%").is_ok());
        assert_eq!(
            check_format("%q").unwrap_err(),
            "printf: the verb %q is not supported (use %s, %v, %d, %x, %X or %%)"
        );
        assert!(check_format("%*d").is_err());
        assert!(check_format("%[1]s").is_err());
        assert!(check_format("%99999999s").is_err());
        assert!(sprintf("%q", &[s("a")], 1024).is_err());
    }

    #[test]
    fn output_is_bounded() {
        let too_long = Err(TemplateError::OutputTooLong { max: 10 });
        assert_eq!(sprintf("%20s", &[s("a")], 10), too_long);
        assert_eq!(sprintf("%s%s", &[s("abcdef"), s("abcdef")], 10), too_long);
        assert_eq!(sprintf("0123456789ab", &[], 10), too_long);
    }
}
