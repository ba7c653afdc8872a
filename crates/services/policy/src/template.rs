//! Identity templating of policy paths, as Vault's `identitytpl` renders
//! them in ACL mode: `{{identity.entity.*}}`, `{{identity.groups.*}}` and
//! `{{time.now...}}` directives are replaced by the caller's values; a rule
//! with a directive that has no value is dropped (it matches nothing).
//!
//! A rendered value can never widen a rule. As Vault does, a value holding
//! `*` or `+` drops the rule. Coffer also drops it when a value is empty,
//! holds a control character, starts the path with `/`, changes the
//! pattern's wildcard structure together with the literal text around it
//! (a `/` in a value turning a literal `x+` into a `+` segment), or adds a
//! `.`/`..` segment: cases in which Vault would render a pattern wider than
//! the one written, or one that no request path can match.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::context::{TemplateAlias, TemplateContext, TemplateGroup};
use crate::matching::{PatternKind, classify};
use crate::rules::PathRule;

/// The rule with its path rendered for `ctx`, or `None` when the rule must
/// be dropped. Rules that are not templated are returned unchanged.
pub(crate) fn render_rule(rule: &PathRule, ctx: &TemplateContext) -> Option<PathRule> {
    if !rule.templated {
        return Some(rule.clone());
    }
    let path = render_path(&rule.path, ctx)?;
    let mut rendered = rule.clone();
    rendered.path = path;
    rendered.templated = false;
    Some(rendered)
}

/// Renders every directive of `template` (a rule path, leading `/` already
/// stripped), or `None` if any directive cannot be rendered safely.
pub(crate) fn render_path(template: &str, ctx: &TemplateContext) -> Option<String> {
    let mut pieces = template.split("{{");
    let first = pieces.next()?;
    if first.contains("}}") {
        return None;
    }
    let mut out = String::with_capacity(template.len() * 2);
    // The template with each directive replaced by a neutral segment text:
    // the wildcard structure the author wrote.
    let mut shape = String::with_capacity(template.len());
    out.push_str(first);
    shape.push_str(first);
    for piece in pieces {
        let mut parts = piece.split("}}");
        let (Some(expr), Some(rest), None) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let value = directive(expr.trim(), ctx)?;
        if !safe_value(&value) {
            return None;
        }
        out.push_str(&value);
        out.push_str(rest);
        shape.push('x');
        shape.push_str(rest);
    }
    // The template's own leading `/` was stripped when it was parsed; a
    // value must not bring another one (Vault would strip it, and
    // stripping twice could turn `/{{v}}*` with `v = "/"` into `*`).
    if out.starts_with('/') {
        return None;
    }
    let same_structure = !out.contains("+*")
        && structure(&out) == structure(&shape)
        && dot_segments(&out) == dot_segments(&shape);
    same_structure.then_some(out)
}

/// Vault's check on a rendered value, plus Coffer's stricter ones.
fn safe_value(value: &str) -> bool {
    !value.is_empty() && !value.contains(['*', '+']) && !value.chars().any(char::is_control)
}

/// How a pattern matches: its kind, and how many `+` segments it has.
fn structure(pattern: &str) -> (u8, usize) {
    let (kind, stem) = match classify(pattern) {
        PatternKind::Exact(p) => (0, p),
        PatternKind::Prefix(p) => (1, p),
        PatternKind::Segments(p) => {
            let stem = p.strip_suffix('*').map(str::to_owned).unwrap_or(p);
            (2, stem)
        }
    };
    (kind, stem.split('/').filter(|s| *s == "+").count())
}

fn dot_segments(path: &str) -> usize {
    path.split('/').filter(|s| *s == "." || *s == "..").count()
}

/// One directive (`identity.entity.id`, ...), without the braces.
fn directive(expr: &str, ctx: &TemplateContext) -> Option<String> {
    if let Some(rest) = expr.strip_prefix("identity.entity.") {
        entity(rest, ctx)
    } else if let Some(rest) = expr.strip_prefix("identity.groups.") {
        if ctx.groups.is_empty() {
            return None;
        }
        groups(rest, ctx)
    } else if let Some(rest) = expr.strip_prefix("time.") {
        time(rest, ctx.now?)
    } else {
        None
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn entity(selector: &str, ctx: &TemplateContext) -> Option<String> {
    match selector {
        "id" => non_empty(&ctx.entity_id),
        "name" => non_empty(&ctx.entity_name),
        _ => {
            if let Some(key) = selector.strip_prefix("metadata.") {
                return ctx.entity_metadata.get(key).cloned();
            }
            let (accessor, field) = selector.strip_prefix("aliases.")?.split_once('.')?;
            alias(field, ctx.alias(accessor)?)
        }
    }
}

fn alias(selector: &str, alias: &TemplateAlias) -> Option<String> {
    match selector {
        "id" => non_empty(&alias.id),
        "name" => non_empty(&alias.name),
        _ => {
            if let Some(key) = selector.strip_prefix("metadata.") {
                alias.metadata.get(key).cloned()
            } else {
                let key = selector.strip_prefix("custom_metadata.")?;
                alias.custom_metadata.get(key).cloned()
            }
        }
    }
}

fn groups(selector: &str, ctx: &TemplateContext) -> Option<String> {
    let (by, rest) = selector.split_once('.')?;
    let (key, field) = rest.split_once('.')?;
    let group: &TemplateGroup = match by {
        "ids" => ctx.group_by_id(key)?,
        "names" => ctx.group_by_name(key)?,
        _ => return None,
    };
    match field {
        "id" => Some(group.id.clone()),
        "name" => non_empty(&group.name),
        _ => group
            .metadata
            .get(field.strip_prefix("metadata.")?)
            .cloned(),
    }
}

/// `now`, `now.plus.<duration>`, `now.minus.<duration>`: Unix seconds.
fn time(selector: &str, now: SystemTime) -> Option<String> {
    let mut ops = selector.splitn(3, '.');
    if ops.next()? != "now" {
        return None;
    }
    let mut nanos = unix_nanos(now);
    match (ops.next(), ops.next()) {
        (None, _) => {}
        (Some(_), None) => return None,
        (Some(op), Some(amount)) => {
            let d = i128::try_from(coffer_types::parse_duration(amount).ok()?.as_nanos()).ok()?;
            nanos = match op {
                "plus" => nanos.checked_add(d)?,
                "minus" => nanos.checked_sub(d)?,
                _ => return None,
            };
        }
    }
    Some(nanos.div_euclid(1_000_000_000).to_string())
}

fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    pub(crate) fn context() -> TemplateContext {
        let mut ctx = TemplateContext::new("e-1234", "alice");
        ctx.entity_metadata = map(&[
            ("team", "payments"),
            ("a.b", "dotted"),
            ("empty", ""),
            ("glob", "x*"),
            ("plus", "+"),
            ("slash", "a/b"),
            ("trail", "a/"),
            ("up", ".."),
            ("nl", "a\nb"),
        ]);
        ctx.aliases.insert(
            "auth_userpass_1a2b".into(),
            TemplateAlias {
                id: "alias-1".into(),
                name: "alice-up".into(),
                metadata: map(&[("region", "eu")]),
                custom_metadata: map(&[("cost", "c42")]),
                creation_time: "2024-01-01T00:00:00Z".into(),
                last_update_time: "2024-01-01T00:00:00Z".into(),
            },
        );
        for (id, name, meta) in [("g-1", "devs", "blue"), ("g-2", "", "red")] {
            ctx.groups.insert(
                id.into(),
                TemplateGroup {
                    id: id.into(),
                    name: name.into(),
                    metadata: map(&[("color", meta)]),
                },
            );
        }
        ctx.now = Some(UNIX_EPOCH + Duration::new(1_700_000_000, 900_000_000));
        ctx
    }

    fn render(template: &str) -> Option<String> {
        render_path(template, &context())
    }

    #[test]
    fn each_directive_form() {
        let cases: &[(&str, Option<&str>)] = &[
            ("s/{{identity.entity.id}}/*", Some("s/e-1234/*")),
            ("s/{{ identity.entity.name }}", Some("s/alice")),
            (
                "s/{{identity.entity.metadata.team}}/x",
                Some("s/payments/x"),
            ),
            ("s/{{identity.entity.metadata.a.b}}", Some("s/dotted")),
            (
                "s/{{identity.entity.aliases.auth_userpass_1a2b.id}}",
                Some("s/alias-1"),
            ),
            (
                "s/{{identity.entity.aliases.auth_userpass_1a2b.name}}",
                Some("s/alice-up"),
            ),
            (
                "s/{{identity.entity.aliases.auth_userpass_1a2b.metadata.region}}",
                Some("s/eu"),
            ),
            (
                "s/{{identity.entity.aliases.auth_userpass_1a2b.custom_metadata.cost}}",
                Some("s/c42"),
            ),
            ("s/{{identity.groups.ids.g-1.name}}", Some("s/devs")),
            ("s/{{identity.groups.names.devs.id}}", Some("s/g-1")),
            ("s/{{identity.groups.ids.g-2.id}}", Some("s/g-2")),
            (
                "s/{{identity.groups.names.devs.metadata.color}}",
                Some("s/blue"),
            ),
            (
                "s/{{identity.groups.ids.g-2.metadata.color}}",
                Some("s/red"),
            ),
            ("t/{{time.now}}", Some("t/1700000000")),
            ("t/{{time.now.plus.1h}}", Some("t/1700003600")),
            ("t/{{time.now.minus.60}}", Some("t/1699999940")),
            (
                "{{identity.entity.name}}/{{identity.entity.id}}+x",
                Some("alice/e-1234+x"),
            ),
        ];
        for (template, expected) in cases {
            assert_eq!(render(template).as_deref(), *expected, "{template}");
        }
    }

    #[test]
    fn missing_values_drop_the_rule() {
        for template in [
            "s/{{identity.entity.metadata.nope}}",
            "s/{{identity.entity.metadata}}",
            "s/{{identity.entity.groups.names}}",
            "s/{{identity.entity.groups.ids}}",
            "s/{{identity.entity.aliases.auth_other.id}}",
            "s/{{identity.entity.aliases.auth_userpass_1a2b}}",
            "s/{{identity.entity.aliases.auth_userpass_1a2b.metadata.nope}}",
            "s/{{identity.entity.aliases.auth_userpass_1a2b.metadata}}",
            "s/{{identity.entity.unknown}}",
            "s/{{identity.entity}}",
            "s/{{identity.groups.ids.g-9.name}}",
            "s/{{identity.groups.names.ops.id}}",
            "s/{{identity.groups.ids.g-2.name}}",
            "s/{{identity.groups.ids.g-1}}",
            "s/{{identity.groups.other.g-1.id}}",
            "s/{{identity.groups.ids.g-1.metadata.nope}}",
            "s/{{time.now.plus}}",
            "s/{{time.now.later.1h}}",
            "s/{{time.now.plus.soon}}",
            "s/{{time.then}}",
            "s/{{bogus}}",
            "s/{{}}",
            "s/{{identity.entity.id}}}}",
            "s/}}{{identity.entity.id}}",
        ] {
            assert_eq!(render(template), None, "{template}");
        }
        let mut ctx = context();
        ctx.groups.clear();
        ctx.now = None;
        ctx.entity_name.clear();
        for template in [
            "s/{{identity.groups.names.devs.id}}",
            "s/{{time.now}}",
            "s/{{identity.entity.name}}",
        ] {
            assert_eq!(render_path(template, &ctx), None, "{template}");
        }
    }

    #[test]
    fn injected_values_never_widen() {
        // Vault: values with `*` or `+` are refused.
        assert_eq!(render("s/{{identity.entity.metadata.glob}}"), None);
        assert_eq!(render("s/{{identity.entity.metadata.plus}}/x"), None);
        // Coffer: an empty value would turn `s/x*` into `s/*`.
        assert_eq!(render("s/{{identity.entity.metadata.empty}}*"), None);
        // A `/` value is allowed where it adds plain segments...
        assert_eq!(
            render("s/{{identity.entity.metadata.slash}}/*").as_deref(),
            Some("s/a/b/*")
        );
        // ...but not where it would turn literal text into a `+` segment.
        assert_eq!(render("s/q{{identity.entity.metadata.trail}}+/x"), None);
        assert_eq!(render("s/{{identity.entity.metadata.trail}}+b"), None);
        assert_eq!(
            render("s/q{{identity.entity.metadata.slash}}+/x").as_deref(),
            Some("s/qa/b+/x")
        );
        // No traversal segments, no control characters.
        assert_eq!(render("s/{{identity.entity.metadata.up}}/sys/*"), None);
        assert_eq!(render("s/{{identity.entity.metadata.nl}}"), None);
        // A value may not start the path with `/` (the template's own
        // leading `/` is already gone: `/{{v}}*` must not become `*`).
        let mut ctx = context();
        ctx.entity_metadata.insert("abs".into(), "/".into());
        assert_eq!(render_path("{{identity.entity.metadata.abs}}*", &ctx), None);
        ctx.entity_metadata.insert("abs".into(), "/sys".into());
        assert_eq!(
            render_path("{{identity.entity.metadata.abs}}/x", &ctx),
            None
        );
        // Rendering is one pass: braces in a value are text.
        ctx.entity_metadata
            .insert("tpl".into(), "{{identity.entity.id}}".into());
        assert_eq!(
            render_path("s/{{identity.entity.metadata.tpl}}", &ctx).as_deref(),
            Some("s/{{identity.entity.id}}")
        );
    }
}
