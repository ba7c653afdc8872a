//! Path patterns, compiled once: exact paths, trailing-`*` prefixes and `+`
//! segment wildcards, with Vault's priority order between matches.

use std::cmp::{Ordering, Reverse};

/// How a policy path pattern is matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PatternKind {
    /// Matches only this exact path.
    Exact(String),
    /// Matches every path starting with this prefix (the `*` is stripped).
    Prefix(String),
    /// Contains `+` segments (the full pattern, `*` kept).
    Segments(String),
}

/// Classifies a pattern as Vault's `parsePaths` does: a pattern has segment
/// wildcards when it is `+`, contains `/+` or starts with `+/`; otherwise a
/// trailing `*` makes it a prefix.
pub(crate) fn classify(path: &str) -> PatternKind {
    if path == "+" || path.contains("/+") || path.starts_with("+/") {
        PatternKind::Segments(path.to_owned())
    } else if let Some(prefix) = path.strip_suffix('*') {
        PatternKind::Prefix(prefix.to_owned())
    } else {
        PatternKind::Exact(path.to_owned())
    }
}

#[derive(Clone, Debug)]
enum Segment {
    /// `+`: any single segment (Vault also lets it match an empty one).
    Any,
    Literal(Box<str>),
}

/// A compiled pattern with `+` segments.
#[derive(Clone, Debug)]
pub(crate) struct SegmentPattern {
    /// The pattern without its trailing `*`.
    stem: Box<str>,
    segments: Box<[Segment]>,
    is_prefix: bool,
    /// Byte index of the first `+` in the full pattern.
    first_wildcard: usize,
    wildcards: usize,
}

impl SegmentPattern {
    /// Compiles a full pattern (as classified [`PatternKind::Segments`]).
    pub(crate) fn compile(full: &str) -> SegmentPattern {
        let first_wildcard = full.find('+').unwrap_or(full.len());
        let (stem, is_prefix) = match full.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (full, false),
        };
        let segments: Box<[Segment]> = stem
            .split('/')
            .map(|s| {
                if s == "+" {
                    Segment::Any
                } else {
                    Segment::Literal(s.into())
                }
            })
            .collect();
        let wildcards = segments
            .iter()
            .filter(|s| matches!(s, Segment::Any))
            .count();
        SegmentPattern {
            stem: stem.into(),
            segments,
            is_prefix,
            first_wildcard,
            wildcards,
        }
    }

    /// Whether `path` (with `path_segments` `/`-separated parts) matches.
    pub(crate) fn matches(&self, path: &str, path_segments: usize) -> bool {
        let n = self.segments.len();
        if path_segments < n || (!self.is_prefix && path_segments != n) {
            return false;
        }
        self.segments
            .iter()
            .zip(path.split('/'))
            .enumerate()
            .all(|(i, (seg, part))| match seg {
                Segment::Any => true,
                Segment::Literal(lit) => {
                    **lit == *part || (self.is_prefix && i == n - 1 && part.starts_with(&**lit))
                }
            })
    }

    /// This pattern's place in Vault's priority order.
    pub(crate) fn priority(&self) -> Priority<'_> {
        Priority {
            first_wildcard: self.first_wildcard,
            is_prefix: self.is_prefix,
            wildcards: self.wildcards,
            stem: &self.stem,
        }
    }
}

/// `+` patterns arranged by their segments, so a lookup
/// tries only the patterns whose leading segments fit the path instead of
/// every pattern. A node holds the patterns whose leading segments end
/// there; [`SegmentPattern::matches`] still decides each candidate.
#[derive(Clone, Debug, Default)]
pub(crate) struct SegmentTrie {
    literal: std::collections::HashMap<Box<str>, SegmentTrie>,
    any: Option<Box<SegmentTrie>>,
    here: Vec<usize>,
}

impl SegmentTrie {
    /// Files `pattern` under `index`: under all its segments, or for a
    /// `*` pattern all but the last (which matches a path segment by prefix).
    pub(crate) fn insert(&mut self, pattern: &SegmentPattern, index: usize) {
        let n = pattern.segments.len();
        let leading = if pattern.is_prefix {
            n.saturating_sub(1)
        } else {
            n
        };
        let mut node = self;
        for segment in &pattern.segments[..leading] {
            node = match segment {
                Segment::Any => node.any.get_or_insert_with(Box::default),
                Segment::Literal(lit) => node.literal.entry(lit.clone()).or_default(),
            };
        }
        node.here.push(index);
    }

    /// Calls `found` with the index of every pattern whose leading segments
    /// fit the path's. The recursion is as deep as the longest pattern.
    pub(crate) fn candidates<'p>(
        &self,
        mut segments: impl Iterator<Item = &'p str> + Clone,
        found: &mut impl FnMut(usize),
    ) {
        for &index in &self.here {
            found(index);
        }
        let Some(first) = segments.next() else {
            return;
        };
        if let Some(child) = self.literal.get(first) {
            child.candidates(segments.clone(), found);
        }
        if let Some(any) = &self.any {
            any.candidates(segments, found);
        }
    }
}

/// Where a matching non-exact pattern stands among other matches; the
/// greatest one wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Priority<'a> {
    pub first_wildcard: usize,
    pub is_prefix: bool,
    pub wildcards: usize,
    pub stem: &'a str,
}

impl<'a> Priority<'a> {
    /// The priority of a plain prefix pattern (`stem*`).
    pub(crate) fn prefix(stem: &'a str) -> Priority<'a> {
        Priority {
            first_wildcard: stem.len(),
            is_prefix: true,
            wildcards: 0,
            stem,
        }
    }

    /// Vault's rules in order: a later first wildcard wins; not ending in
    /// `*` wins; fewer `+` wins; longer wins; lexicographically larger wins.
    fn key(&self) -> (usize, bool, Reverse<usize>, usize, &'a str) {
        (
            self.first_wildcard,
            !self.is_prefix,
            Reverse(self.wildcards),
            self.stem.len(),
            self.stem,
        )
    }
}

impl Ord for Priority<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Priority<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two policy path patterns by Vault's priority rules (for
/// patterns that both match a request): `Greater` means `a` wins. Exact
/// patterns (no wildcard) always win over wildcard ones.
pub fn compare_priority(a: &str, b: &str) -> Ordering {
    fn with<R>(pattern: &str, f: impl FnOnce(Option<Priority<'_>>) -> R) -> R {
        match classify(pattern) {
            PatternKind::Exact(_) => f(None),
            PatternKind::Prefix(stem) => f(Some(Priority::prefix(&stem))),
            PatternKind::Segments(full) => f(Some(SegmentPattern::compile(&full).priority())),
        }
    }
    with(a, |pa| {
        with(b, |pb| {
            pa.is_none().cmp(&pb.is_none()).then_with(|| pa.cmp(&pb))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        let p = SegmentPattern::compile(pattern);
        p.matches(path, path.split('/').count())
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify("secret/foo"),
            PatternKind::Exact("secret/foo".into())
        );
        assert_eq!(classify("secret/*"), PatternKind::Prefix("secret/".into()));
        assert_eq!(classify("+/x*"), PatternKind::Segments("+/x*".into()));
        assert_eq!(
            classify("secret/a+b"),
            PatternKind::Exact("secret/a+b".into())
        );
        assert_eq!(classify("*"), PatternKind::Prefix(String::new()));
    }

    #[test]
    fn documented_plus_examples() {
        // "secret/+/teamb": the teamb path under any top-level path.
        assert!(matches("secret/+/teamb", "secret/foo/teamb"));
        assert!(!matches("secret/+/teamb", "secret/foo/bar/teamb"));
        assert!(!matches("secret/+/teamb", "secret/foo/teamb/x"));
        assert!(matches("secret/+/+/teamb", "secret/foo/bar/teamb"));
        assert!(matches("secret/+/team*", "secret/x/teamb/more"));
        assert!(!matches("secret/+/team*", "secret/x/tea"));
        assert!(matches("secret/+/*", "secret/a/b/c"));
        assert!(!matches("secret/+/*", "secret/a"));
        // `+` is not a literal-prefix match in the middle of a path.
        assert!(!matches("secret/+foo/x", "secret/a/x"));
        assert!(matches("secret/+foo/x", "secret/+foo/x"));
        // Vault quirk: `+` matches an empty segment too (e.g. a LIST of `secret/`).
        assert!(matches("secret/+", "secret/"));
    }

    #[test]
    fn documented_priority_examples() {
        use Ordering::*;
        // "secret/*" vs "secret/+/+/foo/*": rule 3 gives the latter lower priority.
        assert_eq!(compare_priority("secret/*", "secret/+/+/foo/*"), Greater);
        // Code comments in Vault's acl.go:
        assert_eq!(compare_priority("foo/a*", "foo/+"), Greater);
        assert_eq!(compare_priority("foo/bar/+/baz", "foo/+/bar/baz"), Greater);
        assert_eq!(compare_priority("foo/+/bar", "foo/+/ba*"), Greater);
        assert_eq!(compare_priority("foo/+", "foo/*"), Greater);
        assert_eq!(compare_priority("foo/bar/+/baz", "foo/+/+/baz"), Greater);
        assert_eq!(compare_priority("foo/+/bar/ba*", "foo/+/bar/b*"), Greater);
        // Rule 5: lexicographically larger wins.
        assert_eq!(compare_priority("a/+/y", "a/+/x"), Greater);
        assert_eq!(compare_priority("secret/foo", "secret/*"), Greater);
        assert_eq!(compare_priority("x/*", "x/*"), Equal);
    }
}
