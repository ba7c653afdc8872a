//! Property tests of the matching rules and the parser.

use coffer_policy::{Acl, Policy};
use coffer_types::Operation;
use proptest::prelude::*;

fn acl_of(texts: &[String]) -> Acl {
    let policies: Vec<Policy> = texts
        .iter()
        .map(|t| Policy::parse("p", t).expect("generated policy parses"))
        .collect();
    Acl::new(&policies.iter().collect::<Vec<_>>()).expect("acl builds")
}

fn rule(path: &str, caps: &[&str]) -> String {
    let caps: Vec<String> = caps.iter().map(|c| format!("{c:?}")).collect();
    format!("path {path:?} {{ capabilities = [{}] }}\n", caps.join(", "))
}

/// Patterns over a tiny alphabet so that random paths often match.
fn pattern() -> impl Strategy<Value = String> {
    ("[ab]{1,2}(/(\\+|[ab]{1,2})){0,2}", prop::bool::ANY)
        .prop_map(|(p, glob)| if glob { format!("{p}*") } else { p })
        .prop_filter("'+*' is rejected", |p| !p.contains("+*"))
}

fn caps() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(vec!["read", "list", "update", "deny"], 0..=3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) `prefix*` matches exactly the paths starting with `prefix`.
    #[test]
    fn glob_matches_exactly_its_prefix(prefix in "[ab][ab/]{0,6}", path in "[ab][ab/]{0,8}") {
        let acl = acl_of(&[rule(&format!("{prefix}*"), &["read"])]);
        prop_assert_eq!(acl.authorize(&path, Operation::Read, None).allowed, path.starts_with(&prefix));
    }

    /// (b) `+` matches exactly one segment: any text without `/`.
    #[test]
    fn plus_matches_one_segment(
        head in "[a-z]{1,4}",
        tail in "[a-z]{1,4}",
        segment in "[^/]{1,8}",
        multi in "[a-z]{1,3}/[a-z]{1,3}",
    ) {
        let acl = acl_of(&[rule(&format!("{head}/+/{tail}"), &["read"])]);
        let read = |mid: &str, end: &str| {
            acl.authorize(&format!("{head}/{mid}{tail}{end}"), Operation::Read, None).allowed
        };
        let one = format!("{segment}/");
        let two = format!("{multi}/");
        prop_assert!(read(&one, ""));
        prop_assert!(!read(&two, ""));
        prop_assert!(!read(&one, "/x"));
        prop_assert!(!read("", ""));
    }

    /// (c) What the union of two policies allows, one of them allows alone
    /// (the winning pattern is also the winner within the policy that holds it).
    #[test]
    fn union_allows_only_what_a_member_allows(
        rules1 in prop::collection::vec((pattern(), caps()), 0..4),
        rules2 in prop::collection::vec((pattern(), caps()), 0..4),
        path in "[ab]{1,2}(/[ab]{1,2}){0,3}/?",
        op in prop::sample::select(vec![Operation::Read, Operation::List, Operation::Update]),
    ) {
        let text = |rules: &[(String, Vec<&str>)]| -> String {
            rules.iter().map(|(p, c)| rule(p, c)).collect()
        };
        let (p1, p2) = (text(&rules1), text(&rules2));
        let both = acl_of(&[p1.clone(), p2.clone()]).authorize(&path, op, None).allowed;
        let one = acl_of(&[p1]).authorize(&path, op, None).allowed;
        let two = acl_of(&[p2]).authorize(&path, op, None).allowed;
        prop_assert!(!both || one || two);
    }

    /// (d) The parser never panics, whatever the input.
    #[test]
    fn parser_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::parse("fuzz", &text);
    }

    /// (d) ... including input made of policy-like tokens.
    #[test]
    fn parser_never_panics_on_policy_like_input(tokens in prop::collection::vec(
        prop::sample::select(vec![
            "path", "\"secret/*\"", "{", "}", "[", "]", "=", "capabilities", "\"read\"", ",",
            "\n", "allowed_parameters", "\"*\"", "min_wrapping_ttl", "\"1s\"", "#", "{{", "}}",
            "\"+\"", "policy", "-", "1.5", "null", "true", ":", "${x}", "\"",
        ]),
        0..40,
    )) {
        let text = tokens.join(" ");
        let _ = Policy::parse("fuzz", &text);
        let _ = Policy::parse("fuzz", &format!("{{\"path\": {text}}}"));
    }
}
