//! Vault's two kinds of `*` glob, in one place, named apart because they
//! differ and clients rely on each:
//!
//! - [`matches`]: Vault's `go-glob` (`github.com/ryanuber/go-glob`), where
//!   `*` anywhere matches any run of characters. Token roles'
//!   `allowed_policies_glob`, database `allowed_roles`.
//! - [`EdgeGlob`]: Vault's `strutil.GlobbedStringsMatch`, where only a
//!   leading and/or trailing `*` is a wildcard, and only in patterns of two
//!   characters or more (a lone `*` and an inner `*` are literal). ACL
//!   policy parameter values (`allowed_parameters`, `denied_parameters`).
//!
//! They agree on patterns of two characters or more whose only `*` are at
//! the ends; they differ on a lone `*` (any value vs. the literal `*`), on an
//! inner `*` (`a*b`), and on a `*` between edge stars (`***`).
//!
//! Here rather than in the sdk so that the pure policy crate, which depends
//! on this crate alone, shares it; the sdk re-exports it as `coffer_sdk::glob`.

/// Whether `value` matches `pattern`, where every `*` matches any run of
/// characters (possibly empty) and everything else is literal. Vault's
/// `go-glob`.
pub fn matches(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(last) = parts.next_back() else {
        return pattern == value;
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    for middle in parts {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether `value` [`matches`] any of `patterns`.
pub fn matches_any(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| matches(p, value))
}

/// A pattern of Vault's `strutil.GlobbedStringsMatch`, compiled once: a
/// leading `*` matches any prefix, a trailing `*` any suffix, both any
/// surroundings; patterns shorter than two characters and every other `*`
/// are literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeGlob {
    /// No wildcard: the value must equal this.
    Equal(Box<str>),
    /// `abc*`: the value must start with this.
    Prefix(Box<str>),
    /// `*abc`: the value must end with this.
    Suffix(Box<str>),
    /// `*abc*`: the value must contain this.
    Contains(Box<str>),
}

impl EdgeGlob {
    /// Compiles `item`.
    pub fn compile(item: &str) -> EdgeGlob {
        if item.len() < 2 {
            return EdgeGlob::Equal(item.into());
        }
        match (item.strip_prefix('*'), item.strip_suffix('*')) {
            (Some(rest), Some(_)) => EdgeGlob::Contains(rest[..rest.len() - 1].into()),
            (Some(rest), None) => EdgeGlob::Suffix(rest.into()),
            (None, Some(rest)) => EdgeGlob::Prefix(rest.into()),
            (None, None) => EdgeGlob::Equal(item.into()),
        }
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            EdgeGlob::Equal(s) => value == &**s,
            EdgeGlob::Prefix(s) => value.starts_with(&**s),
            EdgeGlob::Suffix(s) => value.ends_with(&**s),
            EdgeGlob::Contains(s) => value.contains(&**s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Backtracking reference for `*`-anywhere globs: obviously right, slow.
    fn reference(pattern: &[u8], value: &[u8]) -> bool {
        match pattern.split_first() {
            None => value.is_empty(),
            Some((b'*', rest)) => (0..=value.len()).any(|i| reference(rest, &value[i..])),
            Some((c, rest)) => value.first() == Some(c) && reference(rest, &value[1..]),
        }
    }

    #[test]
    fn table_of_both_kinds() {
        // (pattern, value, go-glob, GlobbedStringsMatch)
        let cases = [
            ("dev-*", "dev-web", true, true),
            ("*-web", "dev-web", true, true),
            ("*o-b*", "foo-bar", true, true),
            ("*o-b*", "fo_bar", false, false),
            ("foo-*", "foo-", true, true),
            ("dev", "dev-web", false, false),
            ("dev", "dev", true, true),
            ("", "", true, true),
            ("", "x", false, false),
            // A lone `*`: anything for go-glob, a literal for policy values.
            ("*", "anything", true, false),
            ("*", "*", true, true),
            ("*", "", true, false),
            // An inner `*`: a wildcard for go-glob, a literal for policy values.
            ("a*c*e", "abcde", true, false),
            ("a*c*e", "abcd", false, false),
            ("a*c*e", "a*c*e", true, true),
            ("ab*ba", "aba", false, false),
            ("ab*ba", "abba", true, false),
            ("a*b*c", "aXXcYYb", false, false),
            // Stars between edge stars: literal for policy values.
            ("***", "abc", true, false),
            ("***", "x*y", true, true),
            ("**", "", true, true),
        ];
        for (pattern, value, go, edge) in cases {
            assert_eq!(matches(pattern, value), go, "go-glob {pattern:?} {value:?}");
            assert_eq!(
                EdgeGlob::compile(pattern).matches(value),
                edge,
                "edge {pattern:?} {value:?}"
            );
        }
        let list = vec!["x".to_owned(), "app-*".to_owned()];
        assert!(matches_any(&list, "app-1"));
        assert!(!matches_any(&list, "web"));
        assert!(!matches_any(&[], "x"));
    }

    proptest! {
        #[test]
        fn go_glob_agrees_with_backtracking(pattern in "[ab*]{0,7}", value in "[ab*]{0,9}") {
            prop_assert_eq!(
                matches(&pattern, &value),
                reference(pattern.as_bytes(), value.as_bytes())
            );
        }

        #[test]
        fn edge_glob_is_go_glob_on_edge_patterns(
            lead in any::<bool>(),
            core in "[ab]{0,4}",
            trail in any::<bool>(),
            value in "[ab*]{0,8}",
        ) {
            let pattern = format!("{}{core}{}", if lead { "*" } else { "" }, if trail { "*" } else { "" });
            prop_assume!(pattern.len() >= 2);
            prop_assert_eq!(EdgeGlob::compile(&pattern).matches(&value), matches(&pattern, &value));
        }
    }
}
