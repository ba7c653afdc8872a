//! Default statements and splitting a statement list into single
//! statements.

/// Coffer's creation statement when a role gives none (Vault has no
/// default and refuses an empty list): a user that may read everything.
pub const DEFAULT_CREATION: &str = "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON *.* TO '{{name}}'@'%';";

/// Vault's default revocation statements. The plugin also ends the user's
/// sessions (`KILL`), before and after running them.
pub const DEFAULT_REVOCATION: &str =
    "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%'; DROP USER '{{name}}'@'%';";

/// Vault's default rotation statement (static roles and root rotation).
pub const DEFAULT_ROTATION: &str = "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}';";

/// The rollback run when creation fails midway (MySQL's DDL commits as it
/// goes, so there is no transaction to roll back).
pub const DEFAULT_ROLLBACK: &str = "DROP USER IF EXISTS '{{name}}'@'%';";

/// `statements`, or `default` when the list holds nothing but blanks.
pub(crate) fn or_default<'a>(statements: &'a [String], default: &'a str) -> Vec<&'a str> {
    let given: Vec<&str> = statements
        .iter()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect();
    if given.is_empty() {
        vec![default]
    } else {
        given
    }
}

/// Splits one list element into its statements: on `;` outside quotes
/// (`'`, `"`, `` ` ``, with backslash escapes inside `'` and `"`) and
/// outside comments (`-- `, `#`, `/* */`, kept verbatim), trimming each and
/// skipping those that hold only blanks and comments. Split the template,
/// before rendering, so that a password cannot move the boundaries.
pub(crate) fn split(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                has_code = true;
                i += 1;
                while i < chars.len() {
                    let q = chars[i];
                    if q == '\\' && c != '`' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if q == c {
                        // A doubled quote is an escaped quote: stay inside.
                        if chars.get(i) == Some(&c) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                continue;
            }
            '-' if next == Some('-') && chars.get(i + 2).is_none_or(|w| w.is_whitespace()) => {
                i = line_end(&chars, i);
                continue;
            }
            '#' => {
                i = line_end(&chars, i);
                continue;
            }
            '/' if next == Some('*') => {
                // `/*! ... */` is code that MySQL runs, not a comment.
                if chars.get(i + 2) == Some(&'!') {
                    has_code = true;
                }
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(chars.len());
                continue;
            }
            ';' => {
                push_statement(&mut out, &chars[start..i], has_code);
                start = i + 1;
                has_code = false;
            }
            c if !c.is_whitespace() => has_code = true,
            _ => {}
        }
        i += 1;
    }
    push_statement(&mut out, &chars[start.min(chars.len())..], has_code);
    out
}

fn line_end(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i] != '\n' {
        i += 1;
    }
    i
}

fn push_statement(out: &mut Vec<String>, piece: &[char], has_code: bool) {
    if has_code {
        out.push(piece.iter().collect::<String>().trim().to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        assert_eq!(
            split(
                "CREATE USER 'a;b'@'%' IDENTIFIED BY 'p;w\\';x'; ;\n  GRANT SELECT ON `d;b`.* TO \"a\"\"; \" -- c;omment\n; # x;y\n/* z;w */ SELECT 1; -- trailing"
            ),
            vec![
                "CREATE USER 'a;b'@'%' IDENTIFIED BY 'p;w\\';x'",
                "GRANT SELECT ON `d;b`.* TO \"a\"\"; \" -- c;omment",
                "# x;y\n/* z;w */ SELECT 1",
            ]
        );
        assert_eq!(
            split("SELECT 5--3; SELECT 1"),
            vec!["SELECT 5--3", "SELECT 1"]
        );
        assert_eq!(split("/*!40101 SET x=1 */"), vec!["/*!40101 SET x=1 */"]);
        assert!(split("  ;; ").is_empty());
        assert_eq!(split("SELECT 'it''s;'"), vec!["SELECT 'it''s;'"]);
    }

    #[test]
    fn defaults_when_empty() {
        assert_eq!(or_default(&[], "D"), vec!["D"]);
        assert_eq!(or_default(&[" ".into()], "D"), vec!["D"]);
        assert_eq!(or_default(&["A".into(), "".into()], "D"), vec!["A"]);
    }

    #[test]
    fn defaults_split_cleanly() {
        assert_eq!(split(DEFAULT_CREATION).len(), 2);
        assert_eq!(split(DEFAULT_REVOCATION).len(), 2);
        assert_eq!(split(DEFAULT_ROTATION).len(), 1);
        assert_eq!(split(DEFAULT_ROLLBACK).len(), 1);
    }
}
