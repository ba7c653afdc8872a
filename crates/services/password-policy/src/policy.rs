//! A validated password policy: a length and `charset` rules.

use crate::error::PasswordPolicyError;
use crate::parse::{self, RawRule};

/// Shortest password a policy may ask for (Vault's bound).
pub const MIN_LENGTH: usize = 4;
/// Longest password a policy may ask for (Vault's bound).
pub const MAX_LENGTH: usize = 100;
/// Largest de-duplicated union of charsets a policy may draw from.
pub const MAX_CHARSET_LEN: usize = 256;

/// One `rule "charset"`: at least `min_chars` characters of the password
/// come from `charset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharsetRule {
    charset: Vec<char>,
    min_chars: usize,
}

impl CharsetRule {
    /// The rule's characters, sorted and de-duplicated.
    pub fn charset(&self) -> &[char] {
        &self.charset
    }

    /// How many characters of the password must come from the charset.
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Whether `password` holds enough characters from this rule's charset.
    pub fn passes(&self, password: &[char]) -> bool {
        self.min_chars == 0
            || password
                .iter()
                .filter(|c| self.charset.binary_search(c).is_ok())
                .count()
                >= self.min_chars
    }
}

/// A validated password policy (Vault's `length` plus `rule "charset"`
/// blocks). Passwords are drawn from the de-duplicated union of every
/// rule's charset and satisfy every rule's `min-chars`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub(crate) length: usize,
    pub(crate) rules: Vec<CharsetRule>,
    pub(crate) charset: Vec<char>,
}

/// Sorted, de-duplicated characters of `s`.
fn dedup_sorted(chars: impl IntoIterator<Item = char>) -> Vec<char> {
    let mut v: Vec<char> = chars.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Vault's `unicode.IsPrint`: graphic characters and the ASCII space.
fn printable(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace())
}

impl PasswordPolicy {
    /// Parses and validates a policy document in Vault's HCL (or its JSON
    /// form). Errors are 400s: syntax errors carry a line and column;
    /// `length` must be within 4..=100 and at least the sum of every rule's
    /// `min-chars`; at least one charset must be given, every character in
    /// it printable, and the union of all charsets at most 256 characters.
    pub fn parse(text: &str) -> Result<Self, PasswordPolicyError> {
        let raw = parse::parse(text)?;
        let length = raw.length.ok_or_else(|| PasswordPolicyError::Structure {
            message: "length is required".into(),
            at: None,
        })?;
        let length = usize::try_from(length)
            .ok()
            .filter(|l| (MIN_LENGTH..=MAX_LENGTH).contains(l))
            .ok_or(PasswordPolicyError::LengthOutOfRange)?;
        let rules = raw
            .rules
            .into_iter()
            .map(rule)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(length, rules)
    }

    /// Validates an already-built policy (see [`PasswordPolicy::parse`] for
    /// the checks, other than the 4..=100 length bound which only
    /// [`PasswordPolicy::parse`] enforces, as Vault does on its API).
    fn new(length: usize, rules: Vec<CharsetRule>) -> Result<Self, PasswordPolicyError> {
        let required = rules.iter().map(|r| r.min_chars).sum::<usize>();
        if length < required {
            return Err(PasswordPolicyError::RulesTooLong { required, length });
        }
        let charset = dedup_sorted(rules.iter().flat_map(|r| r.charset.iter().copied()));
        if charset.is_empty() {
            return Err(PasswordPolicyError::NoCharset);
        }
        if let Some(index) = rules
            .iter()
            .position(|r| r.charset.is_empty() && r.min_chars > 0)
        {
            return Err(PasswordPolicyError::EmptyRuleCharset {
                index: index + 1,
                min_chars: rules[index].min_chars,
            });
        }
        if !charset.iter().copied().all(printable) {
            return Err(PasswordPolicyError::NonPrintable);
        }
        if charset.len() > MAX_CHARSET_LEN {
            return Err(PasswordPolicyError::CharsetTooLong);
        }
        Ok(Self {
            length,
            rules,
            charset,
        })
    }

    /// Vault's default policy: 20 characters from `a-z A-Z 0-9 -`, with at
    /// least one lowercase letter, one uppercase letter, one digit and one dash.
    pub fn default_policy() -> Self {
        let rule = |chars: &str| CharsetRule {
            charset: dedup_sorted(chars.chars()),
            min_chars: 1,
        };
        let rules = vec![
            rule("abcdefghijklmnopqrstuvwxyz"),
            rule("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            rule("0123456789"),
            rule("-"),
        ];
        let charset = dedup_sorted(rules.iter().flat_map(|r| r.charset.iter().copied()));
        Self {
            length: 20,
            rules,
            charset,
        }
    }

    /// The length of every generated password, in characters.
    pub fn length(&self) -> usize {
        self.length
    }

    /// The rules, in the order they were written.
    pub fn rules(&self) -> &[CharsetRule] {
        &self.rules
    }

    /// The sorted, de-duplicated union of every rule's charset: the
    /// characters passwords are drawn from.
    pub fn charset(&self) -> &[char] {
        &self.charset
    }

    /// Whether `password` conforms to the policy: the right length, only
    /// characters from the charset, and every rule satisfied.
    pub fn accepts(&self, password: &str) -> bool {
        let chars: Vec<char> = password.chars().collect();
        self.accepts_chars(&chars)
    }

    pub(crate) fn accepts_chars(&self, chars: &[char]) -> bool {
        chars.len() == self.length
            && chars.iter().all(|c| self.charset.binary_search(c).is_ok())
            && self.rules.iter().all(|r| r.passes(chars))
    }
}

fn rule(raw: RawRule) -> Result<CharsetRule, PasswordPolicyError> {
    let min_chars = usize::try_from(raw.min_chars).map_err(|_| PasswordPolicyError::Structure {
        message: "min-chars must not be negative".into(),
        at: raw.at,
    })?;
    Ok(CharsetRule {
        charset: dedup_sorted(raw.charset.chars()),
        min_chars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        PasswordPolicy::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn charsets_are_deduplicated_and_merged() {
        let p = PasswordPolicy::parse(
            "length = 8\nrule \"charset\" {\n charset = \"abcdeab\"\n min-chars = 1\n}\nrule \"charset\" {\n charset = \"cdefg\"\n min-chars = 1\n}\n",
        )
        .unwrap();
        assert_eq!(p.length(), 8);
        assert_eq!(p.charset().iter().collect::<String>(), "abcdefg");
        assert_eq!(p.rules()[0].charset(), ['a', 'b', 'c', 'd', 'e']);
        assert_eq!(p.rules()[1].min_chars(), 1);
        assert!(p.accepts("aaaaaaag"));
        assert!(p.accepts("cccccccc"), "c is in both rules");
        assert!(!p.accepts("aaaaaaaa"), "nothing from cdefg");
        assert!(!p.accepts("aaaaaaz1"), "outside the charset");
        assert!(!p.accepts("ag"), "too short");
    }

    #[test]
    fn length_bounds_are_vaults() {
        let rule = "rule \"charset\" { charset = \"ab\" }";
        assert!(PasswordPolicy::parse(&format!("length = 4\n{rule}")).is_ok());
        assert!(PasswordPolicy::parse(&format!("length = 100\n{rule}")).is_ok());
        for bad in ["3", "101", "0", "-5"] {
            assert_eq!(
                err(&format!("length = {bad}\n{rule}")),
                "passwords must be between 4 and 100 characters"
            );
        }
        assert_eq!(err(rule), "length is required");
    }

    #[test]
    fn validation_errors_are_vaults() {
        assert_eq!(err("length = 20"), "no charset specified");
        assert_eq!(
            err("length = 20\nrule \"charset\" { charset = \"\" }"),
            "no charset specified"
        );
        assert_eq!(
            err(
                "length = 4\nrule \"charset\" {\n charset = \"ab\"\n min-chars = 3\n}\nrule \"charset\" {\n charset = \"12\"\n min-chars = 2\n}"
            ),
            "specified rules require at least 5 characters but 4 is specified"
        );
        assert_eq!(
            err(
                "length = 8\nrule \"charset\" { charset = \"ab\" }\nrule \"charset\" { min-chars = 1 }"
            ),
            "rule 2 requires 1 characters from an empty charset"
        );
        assert_eq!(
            err("length = 8\nrule \"charset\" { charset = \"ab\\tc\" }"),
            "non-printable character in charset"
        );
        assert_eq!(
            err("length = 8\nrule \"charset\" {\n charset = \"ab\"\n min-chars = -1\n}"),
            "min-chars must not be negative on line 2, column 1"
        );
        let wide: String = ('\u{100}'..'\u{201}').collect();
        assert_eq!(
            err(&format!(
                "length = 8\nrule \"charset\" {{ charset = \"{wide}\" }}"
            )),
            "charset is too long: limited to 256 characters"
        );
        let ok: String = ('\u{100}'..'\u{200}').collect();
        assert!(
            PasswordPolicy::parse(&format!(
                "length = 8\nrule \"charset\" {{ charset = \"{ok} \" }}"
            ))
            .is_err()
        );
        assert!(
            PasswordPolicy::parse(&format!(
                "length = 8\nrule \"charset\" {{ charset = \"{ok}\" }}"
            ))
            .is_ok()
        );
    }

    #[test]
    fn default_policy_is_vaults() {
        let p = PasswordPolicy::default_policy();
        assert_eq!(p.length(), 20);
        assert_eq!(p.charset().len(), 63);
        assert!(p.charset().contains(&'-'));
        assert_eq!(p.rules().len(), 4);
        assert!(p.rules().iter().all(|r| r.min_chars() == 1));
        let same = PasswordPolicy::parse(
            "length = 20\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"0123456789\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"-\"\n  min-chars = 1\n}\n",
        )
        .unwrap();
        assert_eq!(p, same);
    }

    #[test]
    fn vault_doc_symbol_charset_parses() {
        let p = PasswordPolicy::parse(
            "length = 20\nrule \"charset\" {\n  charset = \"!\\\"#$%&'()*+,-./:;<=>?@[\\\\]^_`{|}~\"\n  min-chars = 1\n}\n",
        )
        .unwrap();
        assert_eq!(p.charset().len(), 32);
        assert!(p.charset().contains(&'\\') && p.charset().contains(&'"'));
    }
}
