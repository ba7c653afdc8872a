//! A named, parsed policy.

use crate::context::TemplateContext;
use crate::default_policy::{DEFAULT_POLICY, DEFAULT_POLICY_NAME, ROOT_POLICY_NAME};
use crate::error::PolicyError;
use crate::rules::{PathRule, build_rule};
use crate::template::render_rule;
use crate::{parse, parse_json};

/// An ACL policy: its name, the text it was written in and its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    name: String,
    raw: String,
    rules: Vec<PathRule>,
    templated: bool,
}

impl Policy {
    /// Parses a policy written in HCL or, when the text starts with `{`, in
    /// JSON (as Vault accepts both). The name is normalized
    /// ([`Policy::normalize_name`]); a policy without path blocks is valid
    /// and grants nothing.
    pub fn parse(name: &str, raw: &str) -> Result<Policy, PolicyError> {
        let blocks = if raw.trim_start().starts_with('{') {
            parse_json::parse(raw)?
        } else {
            parse::parse(raw)?
        };
        let rules = blocks
            .into_iter()
            .map(build_rule)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            name: Policy::normalize_name(name),
            raw: raw.to_owned(),
            templated: rules.iter().any(|r| r.templated),
            rules,
        })
    }

    /// The built-in `root` policy (no rules; an ACL made of it allows everything).
    pub fn root() -> Policy {
        Policy {
            name: ROOT_POLICY_NAME.to_owned(),
            raw: String::new(),
            rules: Vec::new(),
            templated: false,
        }
    }

    /// The built-in `default` policy, parsed from [`DEFAULT_POLICY`].
    pub fn default_policy() -> Policy {
        // DEFAULT_POLICY is a constant that parses: the `default_policy_parses`
        // test below proves it, so this cannot fail at run time.
        #[allow(clippy::expect_used)]
        Policy::parse(DEFAULT_POLICY_NAME, DEFAULT_POLICY).expect("built-in default policy parses")
    }

    /// The normalized (lowercased, trimmed) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy text as written.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The path rules, in the order written.
    pub fn rules(&self) -> &[PathRule] {
        &self.rules
    }

    /// Whether any path uses identity templating (`{{identity...}}`). Such
    /// paths are skipped by [`crate::Acl::new`]; [`Policy::render`] and
    /// [`crate::Acl::new_with_context`] render them.
    pub fn has_templates(&self) -> bool {
        self.templated
    }

    /// This policy with its templated paths rendered for `ctx`, as Vault
    /// renders them for a request: a path whose directives cannot all be
    /// rendered (a missing value, or a value that would widen the rule) is
    /// dropped. The name and raw text are kept.
    pub fn render(&self, ctx: &TemplateContext) -> Policy {
        Policy {
            name: self.name.clone(),
            raw: self.raw.clone(),
            rules: self
                .rules
                .iter()
                .filter_map(|r| render_rule(r, ctx))
                .collect(),
            templated: false,
        }
    }

    /// Vault's policy name normalization: trimmed and lowercased.
    pub fn normalize_name(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Whether `name` can name a stored policy: non-empty after
    /// normalization, no `/`, no control characters, not `.` or `..`.
    pub fn is_valid_name(name: &str) -> bool {
        let name = name.trim();
        !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.chars().any(char::is_control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses() {
        let p = Policy::default_policy();
        assert_eq!(p.name(), "default");
        assert!(p.has_templates());
        assert_eq!(p.rules().len(), 18);
        assert!(
            p.rules()
                .iter()
                .any(|r| r.path == "sys/control-group/request")
        );
    }

    #[test]
    fn render_replaces_or_drops_templated_rules() {
        let p = Policy::parse(
            "t",
            r#"
            path "secret/data/{{identity.entity.name}}/*" { capabilities = ["read"] }
            path "secret/data/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
            path "secret/shared" { capabilities = ["read"] }
            "#,
        )
        .unwrap();
        assert!(p.has_templates());
        let r = p.render(&TemplateContext::new("e1", "alice"));
        assert!(!r.has_templates());
        assert_eq!((r.name(), r.raw()), (p.name(), p.raw()));
        let paths: Vec<_> = r.rules().iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["secret/data/alice/*", "secret/shared"]);
        assert!(r.rules().iter().all(|r| !r.templated));
    }

    #[test]
    fn names() {
        assert_eq!(Policy::normalize_name("  My-Policy "), "my-policy");
        assert!(Policy::is_valid_name("dev-readonly"));
        for bad in ["", "   ", "a/b", "..", "a\nb"] {
            assert!(!Policy::is_valid_name(bad), "{bad:?}");
        }
        let p = Policy::parse("Admins", "# nothing yet\n").unwrap();
        assert_eq!(p.name(), "admins");
        assert!(p.rules().is_empty() && !p.has_templates());
        assert_eq!(p.raw(), "# nothing yet\n");
        assert_eq!(p.render(&TemplateContext::default()), p);
        assert!(Policy::parse("empty", "").unwrap().rules().is_empty());
    }
}
