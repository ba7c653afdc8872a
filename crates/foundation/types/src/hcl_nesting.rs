//! A guard run before HCL text reaches the `hcl-edit` parser.
//!
//! `hcl-edit` 0.10 backtracks exponentially on unclosed nested objects that
//! follow a binary operator: `"k = a/b/{" * 20` (180 bytes) takes seconds
//! to be refused and 25 repetitions take minutes, pinning a core (found by
//! the `policy` fuzz target; the same parser reads server configs and
//! password policies). The cost doubles with each unclosed level, so
//! refusing text nested deeper than [`MAX_HCL_NESTING`] before parsing
//! bounds it, far above what any policy or configuration needs (Vault's
//! own policies nest three levels: block, parameter map, list).

/// The deepest nesting of `{`, `[`, `(` and `${`/`%{` template
/// interpolations accepted in HCL text.
pub const MAX_HCL_NESTING: usize = 12;

/// Where HCL text first nests deeper than allowed: 1-based line and column
/// (in characters) of the opening bracket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl TooDeep {
    /// The message for the client.
    pub fn message(&self) -> String {
        format!("nested deeper than {MAX_HCL_NESTING} levels")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `{`, `[` or `(` in code, or a template interpolation.
    Bracket,
    Interpolation,
    /// A quoted string (ends at `"` or at the end of the line).
    Str,
    /// A heredoc; the index of its marker in `markers`.
    Heredoc(usize),
}

/// Checks that `text` nests at most [`MAX_HCL_NESTING`] levels. Brackets
/// inside comments and quoted strings do not count; interpolations inside
/// strings and heredocs do (with what they contain). Never under-counts
/// what `hcl-edit` would parse as nesting; runs in linear time.
pub fn check_hcl_nesting(text: &str) -> Result<(), TooDeep> {
    check_lexical_nesting(text)?;
    check_raw_nesting(text)
}

/// The nesting `hcl-edit` parses as code, as its lexer sees the text.
fn check_lexical_nesting(text: &str) -> Result<(), TooDeep> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines_end: Option<std::collections::HashMap<String, usize>> = None;
    let mut stack: Vec<Frame> = Vec::new();
    let mut markers: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let (mut line, mut column) = (1usize, 0usize);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
        }
        let in_code = matches!(
            stack.last(),
            None | Some(Frame::Bracket | Frame::Interpolation)
        );
        let open = |stack: &mut Vec<Frame>, depth: &mut usize, frame| {
            stack.push(frame);
            *depth += 1;
            if *depth > MAX_HCL_NESTING {
                return Err(TooDeep { line, column });
            }
            Ok(())
        };
        if in_code {
            match (c, next) {
                ('#', _) | ('/', Some('/')) => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                ('/', Some('*')) => {
                    i += 2;
                    while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                        if chars[i] == '\n' {
                            line += 1;
                            column = 0;
                        }
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                ('"', _) => stack.push(Frame::Str),
                ('{' | '[' | '(', _) => open(&mut stack, &mut depth, Frame::Bracket)?,
                ('}' | ']' | ')', _) => {
                    if matches!(stack.last(), Some(Frame::Bracket | Frame::Interpolation)) {
                        stack.pop();
                        depth -= 1;
                    }
                }
                ('<', Some('<')) => {
                    // `<<MARKER` or `<<-MARKER`, then the rest of the line.
                    let mut j = i + 2;
                    if chars.get(j) == Some(&'-') {
                        j += 1;
                    }
                    let start = j;
                    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                        j += 1;
                    }
                    let marker: String = chars[start..j].iter().collect();
                    // An unterminated heredoc is not one: `hcl-edit` fails
                    // it and reparses the text after `<<` as code, so the
                    // text is counted as code too.
                    let ends = lines_end.get_or_insert_with(|| last_lines(&chars));
                    if j > start && ends.get(&marker).is_some_and(|at| *at > j) {
                        markers.push(marker);
                        stack.push(Frame::Heredoc(markers.len() - 1));
                        while j < chars.len() && chars[j] != '\n' {
                            j += 1;
                        }
                        column += j - i - 1;
                        i = j;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        // Inside a string or heredoc: only interpolations nest.
        match (c, next) {
            ('\\', _) if stack.last() == Some(&Frame::Str) => {
                i += 2;
                column += 1;
                continue;
            }
            // Every `${`/`%{` counts, even an escaped `$${`: over-counting a
            // rare literal is safe, under-counting is not.
            ('$' | '%', Some('{')) => {
                open(&mut stack, &mut depth, Frame::Interpolation)?;
                i += 2;
                column += 1;
                continue;
            }
            ('"', _) | ('\n', _) if stack.last() == Some(&Frame::Str) => {
                stack.pop();
            }
            ('\n', _) => {
                if let Some(Frame::Heredoc(m)) = stack.last().copied() {
                    let mut j = i + 1;
                    while j < chars.len() && chars[j] != '\n' {
                        j += 1;
                    }
                    let next_line: String = chars[i + 1..j].iter().collect();
                    if next_line.trim() == markers[m] {
                        stack.pop();
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// For every distinct trimmed line, the character index where its last
/// occurrence starts: a heredoc opened at `i` ends when its marker's last
/// line starts after `i`. One pass, so many heredocs stay linear.
/// The most brackets that may be open at once counting every `{`, `[` and
/// `(` of the text, in strings, heredocs and comments too. What `hcl-edit`
/// lexes as a string it may also try as code when a parse fails, so the
/// lexical count above can miss nesting it explores: a 2 KB text of
/// unterminated heredocs among braces (69 raw levels, within the lexical
/// limit) took it over 100 s. Over-counting only refuses texts that nest
/// brackets this deep even inside strings; ordinary policies and
/// configurations (templated paths included) stay under 8.
pub const MAX_RAW_BRACKETS: usize = 16;

/// Refuses text whose raw bracket depth passes [`MAX_RAW_BRACKETS`].
fn check_raw_nesting(text: &str) -> Result<(), TooDeep> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    for c in text.chars() {
        column += 1;
        match c {
            '\n' => {
                line += 1;
                column = 0;
            }
            '{' | '[' | '(' => {
                depth += 1;
                if depth > MAX_RAW_BRACKETS {
                    return Err(TooDeep { line, column });
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn last_lines(chars: &[char]) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    let mut start = 0;
    for (i, c) in chars.iter().enumerate() {
        if *c == '\n' {
            let line: String = chars[start..i].iter().collect();
            out.insert(line.trim().to_owned(), start);
            start = i + 1;
        }
    }
    let line: String = chars[start..].iter().collect();
    out.insert(line.trim().to_owned(), start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_policies_and_configs_pass() {
        let policy = r#"
# Allow tokens to look up their own properties (and more [sic)
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read", "list"]
  allowed_parameters = { "a" = [] "n" = [1, [2, {x = 3}]] }
}
/* a comment with { { { { { */
path "secret/{{{{{" { capabilities = ["deny"] }
"#;
        assert_eq!(check_hcl_nesting(policy), Ok(()));
        let heredoc = "x = <<EOF\n{{{{{{{{ ${a} %{ if b }c%{ endif }\nEOF\ny = 1\n";
        assert_eq!(check_hcl_nesting(heredoc), Ok(()));
        let twelve = format!("k = {}{}", "[".repeat(12), "]".repeat(12));
        assert_eq!(check_hcl_nesting(&twelve), Ok(()));
    }

    #[test]
    fn the_fuzzers_exponential_input_is_refused_early() {
        // `hcl-edit` needs seconds for 20 repetitions, minutes for 25.
        let text = "k = a/b/{".repeat(25);
        let err = check_hcl_nesting(&text).unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(err.column, 9 * 13);
        assert!(err.message().contains("12"));
    }

    #[test]
    fn nesting_hidden_in_interpolations_counts() {
        let text = format!("k = \"{}\"", "${a/b/{k = \"".repeat(7));
        assert!(check_hcl_nesting(&text).is_err());
        let heredoc = format!("k = <<EOT\n{}\nEOT\n", "${[".repeat(7));
        assert!(check_hcl_nesting(&heredoc).is_err());
        // Closed interpolations do not add up.
        let closed = format!("k = \"{}\"", "${x}$${y}%{ if z }".repeat(20));
        assert_eq!(check_hcl_nesting(&closed), Ok(()));
    }

    #[test]
    fn an_unterminated_heredoc_is_counted_as_code() {
        // Found by the `policy` fuzz target after the first fix: text after
        // a `<<h` that never ends is parsed as code by `hcl-edit`.
        let text = format!("k = <<h\n{}", "a/b/{".repeat(13));
        assert!(check_hcl_nesting(&text).is_err());
        let closed = format!("k = <<h\n{}\nh\n", "a/b/{".repeat(13));
        assert_eq!(check_hcl_nesting(&closed), Ok(()));
    }

    #[test]
    fn brackets_hidden_in_strings_and_heredocs_count_raw() {
        // The fuzzer's second slow input: within the lexical limit, 69
        // brackets deep counted raw.
        let slow =
            include_bytes!("../../../../fuzz/corpus/policy/regression-unterminated-heredoc-braces");
        let text = String::from_utf8_lossy(slow);
        assert!(check_hcl_nesting(&text).is_err());
        let deep_string = format!("k = \"{}\"\n", "[".repeat(MAX_RAW_BRACKETS + 1));
        assert!(check_hcl_nesting(&deep_string).is_err());
        let templated = r#"path "secret/{{identity.entity.id}}/{{identity.groups.names.g.id}}/*" {
  capabilities = ["read"]
  allowed_parameters = { "k" = [["a"], ["{{x}}"]] }
}"#;
        assert_eq!(check_hcl_nesting(templated), Ok(()));
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let text = format!("# é\nx = 1\nk = {}", "(".repeat(13));
        assert_eq!(
            check_hcl_nesting(&text),
            Err(TooDeep {
                line: 3,
                column: 4 + 13
            })
        );
    }
}
