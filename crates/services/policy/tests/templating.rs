//! Property tests of identity templating: a rendered value never widens a
//! rule beyond what the policy says with that value written in literally,
//! and never turns into a glob.

use coffer_policy::{Acl, Policy, TemplateContext};
use coffer_types::Operation;
use proptest::prelude::*;

const META: &str = "{{identity.entity.metadata.k}}";
const NAME: &str = "{{identity.entity.name}}";

fn rule(path: &str, caps: &[&str]) -> String {
    let caps: Vec<String> = caps.iter().map(|c| format!("{c:?}")).collect();
    format!("path {path:?} {{ capabilities = [{}] }}\n", caps.join(", "))
}

fn acl_of(texts: &[String], ctx: Option<&TemplateContext>) -> Acl {
    let policies: Vec<Policy> = texts
        .iter()
        .map(|t| Policy::parse("p", t).expect("generated policy parses"))
        .collect();
    Acl::new_with_context(&policies.iter().collect::<Vec<_>>(), ctx).expect("acl builds")
}

/// Literal patterns over a tiny alphabet, as in `properties.rs`.
fn literal_pattern() -> impl Strategy<Value = String> {
    ("[ab]{1,2}(/(\\+|[ab]{1,2})){0,2}", prop::bool::ANY)
        .prop_map(|(p, glob)| if glob { format!("{p}*") } else { p })
        .prop_filter("'+*' is rejected", |p| !p.contains("+*"))
}

/// Templated patterns: literal pieces (wildcards included, when `wild`)
/// around at least one directive.
fn template(wild: bool) -> impl Strategy<Value = String> {
    let mut pieces = vec!["a", "b", "/", META, NAME];
    if wild {
        pieces.push("+");
    }
    (
        prop::collection::vec(prop::sample::select(pieces), 1..6),
        prop::bool::ANY,
    )
        .prop_map(move |(parts, glob)| {
            let mut p = parts.concat();
            if wild && glob {
                p.push('*');
            }
            p
        })
        .prop_filter("needs a directive and must parse", |p| {
            p.contains("{{") && Policy::parse("t", &rule(p, &["read"])).is_ok()
        })
}

/// Values an attacker might put in metadata or a name.
fn value() -> impl Strategy<Value = String> {
    "[ab/+*.]{0,3}"
}

fn request_path() -> impl Strategy<Value = String> {
    "/?[ab+*.]{0,2}(/[ab+*.]{0,2}){0,3}/?"
}

fn allow_caps() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(vec!["read", "list", "update"], 1..=3)
}

fn deny_caps() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(vec!["read", "list", "update", "deny"], 0..=3)
}

fn context(meta: &str, name: &str) -> TemplateContext {
    let mut ctx = TemplateContext::new("e-1", name);
    ctx.entity_metadata.insert("k".into(), meta.into());
    ctx
}

fn substitute(template: &str, meta: &str, name: &str) -> String {
    template.replace(META, meta).replace(NAME, name)
}

fn op() -> impl Strategy<Value = Operation> {
    prop::sample::select(vec![Operation::Read, Operation::List, Operation::Update])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What the rendered ACL allows, the literal rules allow, or the
    /// templated rule with its values written in literally allows.
    #[test]
    fn rendered_acl_is_within_the_literal_union(
        base in prop::collection::vec((literal_pattern(), deny_caps()), 0..4),
        tpl in template(true),
        caps in allow_caps(),
        meta in value(),
        name in value(),
        path in request_path(),
        op in op(),
    ) {
        let base: String = base.iter().map(|(p, c)| rule(p, c)).collect();
        let ctx = context(&meta, &name);
        let rendered = acl_of(&[base.clone(), rule(&tpl, &caps)], Some(&ctx));
        let literal_text = rule(&substitute(&tpl, &meta, &name), &caps);
        let literal_allows = match Policy::parse("lit", &literal_text) {
            Ok(p) => Acl::new(&[&p]).expect("acl builds").authorize(&path, op, None).allowed,
            Err(_) => false,
        };
        let base_allows = acl_of(&[base], None).authorize(&path, op, None).allowed;
        let allowed = rendered.authorize(&path, op, None).allowed;
        prop_assert!(!allowed || base_allows || literal_allows);
    }

    /// A template written without wildcards matches exactly one path once
    /// rendered, whatever the values hold.
    #[test]
    fn rendered_value_never_becomes_a_glob(
        base in prop::collection::vec((literal_pattern(), deny_caps()), 0..3),
        tpl in template(false),
        meta in value(),
        name in value(),
        path in request_path(),
        op in prop::sample::select(vec![Operation::Read, Operation::Update]),
    ) {
        let base: String = base.iter().map(|(p, c)| rule(p, c)).collect();
        let ctx = context(&meta, &name);
        let rendered = acl_of(&[base.clone(), rule(&tpl, &["read", "update"])], Some(&ctx));
        let literal = substitute(&tpl, &meta, &name);
        let literal = literal.strip_prefix('/').unwrap_or(&literal);
        let base_allows = acl_of(&[base], None).authorize(&path, op, None).allowed;
        if rendered.authorize(&path, op, None).allowed && !base_allows {
            prop_assert_eq!(path.trim_start_matches('/'), literal);
        }
    }

    /// A value holding `*` or `+` drops its rule: the ACL is the literal
    /// rules' ACL, path for path.
    #[test]
    fn wildcard_values_drop_the_rule(
        base in prop::collection::vec((literal_pattern(), deny_caps()), 0..4),
        tpl in template(true),
        meta in "[ab/]{0,2}[+*][ab/+*]{0,2}",
        path in request_path(),
        op in op(),
    ) {
        let base: String = base.iter().map(|(p, c)| rule(p, c)).collect();
        // Both directives get the wildcard value.
        let ctx = context(&meta, &meta);
        let rendered = acl_of(&[base.clone(), rule(&tpl, &["read", "list", "update"])], Some(&ctx));
        let bare = acl_of(&[base], None);
        prop_assert_eq!(
            rendered.authorize(&path, op, None).allowed,
            bare.authorize(&path, op, None).allowed
        );
    }
}
