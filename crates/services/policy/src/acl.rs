//! The ACL compiled from a token's policies, and the per-request check.

use crate::authorization::{Authorization, DenyReason};
use crate::capability::{Capability, CapabilitySet};
use crate::context::TemplateContext;
use crate::default_policy::ROOT_POLICY_NAME;
use crate::error::PolicyError;
use crate::matching::{PatternKind, Priority, SegmentPattern, SegmentTrie, classify};
use crate::params::ParamConstraints;
use crate::policy::Policy;
use crate::resultant::{PatternPermissions, ResultantAcl, capability_names};
use crate::rules::PathRule;
use crate::template::render_rule;
use coffer_types::Operation;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Everything the policies say about one path pattern, merged.
#[derive(Clone, Debug, Default)]
struct Permissions {
    capabilities: CapabilitySet,
    /// Zero when unset.
    min_wrapping_ttl: Duration,
    /// Zero when unset.
    max_wrapping_ttl: Duration,
    params: ParamConstraints,
}

impl Permissions {
    /// Vault's merge of one more rule for the same pattern: `deny` wins
    /// outright; otherwise capabilities are united, the lowest wrapping TTLs
    /// kept and parameter constraints merged.
    fn merge(&mut self, rule: &PathRule) {
        if self.capabilities.contains(Capability::Deny) {
            return;
        }
        if rule.capabilities.contains(Capability::Deny) {
            self.capabilities = CapabilitySet::deny();
            self.params.clear_values();
            return;
        }
        self.capabilities = self.capabilities.union(rule.capabilities);
        for (ours, theirs) in [
            (&mut self.min_wrapping_ttl, rule.min_wrapping_ttl),
            (&mut self.max_wrapping_ttl, rule.max_wrapping_ttl),
        ] {
            if let Some(t) = theirs.filter(|t| ours.is_zero() || t < ours) {
                *ours = t;
            }
        }
        self.params.merge(
            &rule.allowed_parameters,
            &rule.denied_parameters,
            &rule.required_parameters,
        );
    }
}

impl Permissions {
    fn export(&self) -> PatternPermissions {
        let params = self.params.export();
        PatternPermissions {
            capabilities: capability_names(self.capabilities),
            min_wrapping_ttl: nonzero(self.min_wrapping_ttl),
            max_wrapping_ttl: nonzero(self.max_wrapping_ttl),
            allowed_parameters: params.allowed,
            denied_parameters: params.denied,
            required_parameters: params.required,
        }
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    Some(d).filter(|d| !d.is_zero())
}

/// An access-control list: the union of a token's policies, compiled for
/// fast lookups (hash maps for exact and prefix patterns, pre-split `+`
/// patterns; no allocation on the lookup path).
#[derive(Clone, Debug, Default)]
pub struct Acl {
    root: bool,
    exact: HashMap<String, Permissions>,
    prefix: HashMap<String, Permissions>,
    /// Distinct prefix lengths, longest first.
    prefix_lengths: Vec<usize>,
    segments: Vec<(SegmentPattern, Permissions)>,
    /// Indices into `segments` by their leading segments, so a lookup only
    /// tries the patterns that can match.
    segment_trie: SegmentTrie,
}

impl Acl {
    /// Compiles the ACL of a set of policies. The `root` policy makes a root
    /// ACL and must then be the only policy. Templated paths are skipped
    /// (as Vault skips templates it cannot fill when the token has no
    /// entity); [`Acl::new_with_context`] renders them.
    pub fn new(policies: &[&Policy]) -> Result<Acl, PolicyError> {
        Acl::new_with_context(policies, None)
    }

    /// Compiles the ACL of a set of policies for a caller whose identity is
    /// `ctx`: templated paths are rendered as [`Policy::render`] renders
    /// them (a path that cannot be rendered is dropped); with `None` they
    /// are all dropped.
    pub fn new_with_context(
        policies: &[&Policy],
        ctx: Option<&TemplateContext>,
    ) -> Result<Acl, PolicyError> {
        let mut acl = Acl::default();
        let mut segments: HashMap<String, Permissions> = HashMap::new();
        for policy in policies {
            if policy.name() == ROOT_POLICY_NAME {
                if policies.len() != 1 {
                    return Err(PolicyError::RootWithOtherPolicies);
                }
                acl.root = true;
            }
            for written in policy.rules() {
                let rendered;
                let rule = if written.templated {
                    match ctx.and_then(|c| render_rule(written, c)) {
                        Some(r) => {
                            rendered = r;
                            &rendered
                        }
                        None => continue,
                    }
                } else {
                    written
                };
                let (map, key) = match classify(&rule.path) {
                    PatternKind::Exact(p) => (&mut acl.exact, p),
                    PatternKind::Prefix(p) => (&mut acl.prefix, p),
                    PatternKind::Segments(p) => (&mut segments, p),
                };
                map.entry(key).or_default().merge(rule);
            }
        }
        acl.prefix_lengths = acl.prefix.keys().map(String::len).collect();
        acl.prefix_lengths.sort_unstable_by(|a, b| b.cmp(a));
        acl.prefix_lengths.dedup();
        acl.segments = segments
            .into_iter()
            .map(|(full, perms)| (SegmentPattern::compile(&full), perms))
            .collect();
        for (i, (pattern, _)) in acl.segments.iter().enumerate() {
            acl.segment_trie.insert(pattern, i);
        }
        Ok(acl)
    }

    /// The ACL of the `root` policy: everything is allowed, with sudo.
    pub fn root() -> Acl {
        Acl {
            root: true,
            ..Acl::default()
        }
    }

    /// Whether this is the root ACL.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// The exact and prefix rules as plain values (Vault's
    /// `sys/internal/ui/resultant-acl`): rendered templated paths included,
    /// `+` patterns left out as Vault leaves them out.
    pub fn resultant(&self) -> ResultantAcl {
        if self.root {
            return ResultantAcl {
                root: true,
                ..ResultantAcl::default()
            };
        }
        let export = |map: &HashMap<String, Permissions>| {
            map.iter()
                .map(|(path, perms)| (path.clone(), perms.export()))
                .collect()
        };
        ResultantAcl {
            root: false,
            exact: export(&self.exact),
            glob: export(&self.prefix),
        }
    }

    /// Checks one request: `path` is the full request path (leading `/`
    /// ignored), `data` the request parameters. Wrapping TTL bounds are
    /// returned, not enforced: call [`Authorization::check_wrapping_ttl`] or
    /// use [`Acl::authorize_with_wrapping`].
    pub fn authorize(
        &self,
        path: &str,
        op: Operation,
        data: Option<&Map<String, Value>>,
    ) -> Authorization {
        if self.root {
            return Authorization::root();
        }
        let Some(needed) = Capability::for_operation(op) else {
            return Authorization::allow_help();
        };
        let path = path.trim_start_matches('/');
        let Some(perms) = self.lookup(path, op == Operation::List) else {
            return Authorization::denied(DenyReason::NoMatchingRule);
        };
        let caps = perms.capabilities;
        let verdict = if caps.contains(Capability::Deny) {
            Err(DenyReason::ExplicitDeny)
        } else if !caps.contains(needed) {
            Err(DenyReason::MissingCapability(needed))
        } else if matches!(
            op,
            Operation::Read | Operation::Create | Operation::Update | Operation::Patch
        ) {
            perms.params.check(data)
        } else {
            Ok(())
        };
        Authorization {
            allowed: verdict.is_ok(),
            root_privs: caps.contains(Capability::Sudo),
            is_root: false,
            capabilities: caps.to_vec(),
            min_wrapping_ttl: nonzero(perms.min_wrapping_ttl),
            max_wrapping_ttl: nonzero(perms.max_wrapping_ttl),
            reason: verdict.err(),
        }
    }

    /// [`Acl::authorize`] plus Vault's wrapping TTL bounds, given the TTL
    /// the client asked for (`None` when the response is not wrapped).
    pub fn authorize_with_wrapping(
        &self,
        path: &str,
        op: Operation,
        data: Option<&Map<String, Value>>,
        wrap_ttl: Option<Duration>,
    ) -> Authorization {
        self.authorize(path, op, data).apply_wrapping(wrap_ttl)
    }

    /// The capabilities on `path` as `sys/capabilities` reports them:
    /// sorted names, `["root"]` for root, `["deny"]` when the path is denied
    /// or nothing matches.
    pub fn capabilities(&self, path: &str) -> Vec<String> {
        if self.root {
            return vec!["root".to_owned()];
        }
        let caps = self
            .lookup(path.trim_start_matches('/'), true)
            .map(|p| p.capabilities)
            .unwrap_or_default();
        if caps.is_empty() || caps.contains(Capability::Deny) {
            return vec![Capability::Deny.as_str().to_owned()];
        }
        let mut names: Vec<&str> = caps.iter().map(Capability::as_str).collect();
        names.sort_unstable();
        names.into_iter().map(str::to_owned).collect()
    }

    /// Vault's lookup order: exact, then (for LIST) exact without the
    /// trailing `/`, then wildcard matches without and with the slash.
    fn lookup(&self, path: &str, list: bool) -> Option<&Permissions> {
        if let Some(p) = self.exact.get(path) {
            return Some(p);
        }
        let trimmed = path.strip_suffix('/').filter(|_| list);
        if let Some(p) = trimmed.and_then(|t| self.exact.get(t).or_else(|| self.non_exact(t))) {
            return Some(p);
        }
        self.non_exact(path)
    }

    /// The highest-priority prefix or `+` pattern matching `path`.
    fn non_exact(&self, path: &str) -> Option<&Permissions> {
        let prefix = self.prefix_lengths.iter().find_map(|&len| {
            let stem = path.get(..len)?;
            self.prefix.get_key_value(stem)
        });
        if self.segments.is_empty() {
            return prefix.map(|(_, p)| p);
        }
        let parts = path.bytes().filter(|b| *b == b'/').count() + 1;
        let mut best = prefix.map(|(stem, p)| (Priority::prefix(stem), p));
        self.segment_trie.candidates(path.split('/'), &mut |i| {
            let Some((pattern, perms)) = self.segments.get(i) else {
                return;
            };
            if pattern.matches(path, parts) {
                let priority = pattern.priority();
                if best.as_ref().is_none_or(|(b, _)| priority > *b) {
                    best = Some((priority, perms));
                }
            }
        });
        best.map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;
    use serde_json::json;

    fn acl(texts: &[&str]) -> Acl {
        let policies: Vec<Policy> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Policy::parse(&format!("p{i}"), t).unwrap())
            .collect();
        Acl::new(&policies.iter().collect::<Vec<_>>()).unwrap()
    }

    fn allowed(acl: &Acl, path: &str, op: Operation) -> bool {
        acl.authorize(path, op, None).allowed
    }

    #[test]
    fn documented_detailed_policy() {
        let acl = acl(&[r#"
            path "secret/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }
            path "secret/super-secret" { capabilities = ["deny"] }
            path "secret/restricted" {
              capabilities = ["create"]
              allowed_parameters = { "foo" = [], "bar" = ["zip", "zap"] }
            }"#]);
        assert!(allowed(&acl, "secret/anything/deep", Patch));
        let denied = acl.authorize("secret/super-secret", Read, None);
        assert_eq!(denied.reason, Some(DenyReason::ExplicitDeny));
        assert_eq!(acl.capabilities("secret/super-secret"), ["deny"]);
        let data = json!({"foo": "any", "bar": "zap"});
        assert!(
            acl.authorize("secret/restricted", Create, data.as_object())
                .allowed
        );
        let data = json!({"bar": "nope"});
        let res = acl.authorize("secret/restricted", Create, data.as_object());
        assert_eq!(
            res.reason,
            Some(DenyReason::ParameterNotAllowed("bar".into()))
        );
        // The exact rule wins over secret/*: no read there.
        assert!(!allowed(&acl, "secret/restricted", Read));
    }

    #[test]
    fn documented_glob_examples() {
        let acl = acl(&[r#"
            path "secret/foo" { capabilities = ["read"] }
            path "secret/bar/*" { capabilities = ["read"] }
            path "secret/zip-*" { capabilities = ["read"] }"#]);
        let table = [
            ("secret/foo", true),
            ("secret/food", false),
            ("secret/foo/bar", false),
            ("secret/bar/zip", true),
            ("secret/bar/zip/zap", true),
            ("secret/bars/zip", false),
            ("secret/zip-zap", true),
            ("secret/zip-zap/zong", true),
            ("secret/zip/zap", false),
            ("/secret/foo", true),
        ];
        for (path, expected) in table {
            assert_eq!(allowed(&acl, path, Read), expected, "{path}");
        }
    }

    #[test]
    fn priority_picks_one_pattern_across_policies() {
        // Each pattern grants a distinct capability so the winner is visible.
        let acl = acl(&[
            r#"path "secret/*" { capabilities = ["read"] }
               path "secret/+/+/foo/*" { capabilities = ["list"] }"#,
            r#"path "secret/+/bar" { capabilities = ["update"] }
               path "secret/a/ba*" { capabilities = ["delete"] }
               path "secret/a/+" { capabilities = ["create"] }"#,
        ]);
        let table = [
            ("secret/x/y/foo/z", "read"), // rule 3: fewer + wins
            ("secret/x/bar", "update"), // only these two match; + at 7 equals * at 7, prefix loses
            ("secret/a/bar", "delete"), // first wildcard later wins
            ("secret/a/qux", "create"), // + at 9 beats * at 7
            ("secret/q", "read"),
        ];
        for (path, cap) in table {
            assert_eq!(acl.capabilities(path), [cap], "{path}");
        }
    }

    #[test]
    fn same_pattern_merges_and_deny_wins() {
        let acl_union = acl(&[
            r#"path "kv/*" { capabilities = ["read"] }"#,
            r#"path "kv/*" { capabilities = ["list", "sudo"] }"#,
        ]);
        assert_eq!(acl_union.capabilities("kv/x"), ["list", "read", "sudo"]);
        assert!(acl_union.authorize("kv/x", Read, None).root_privs);
        for order in [[0, 1], [1, 0]] {
            let texts = [
                r#"path "kv/x" { capabilities = ["read"] }"#,
                r#"path "kv/x" { capabilities = ["deny"] }"#,
            ];
            let acl = acl(&[texts[order[0]], texts[order[1]]]);
            assert_eq!(acl.capabilities("kv/x"), ["deny"]);
            assert!(!acl.authorize("kv/x", Read, None).root_privs);
        }
    }

    #[test]
    fn list_uses_the_path_without_trailing_slash() {
        let acl = acl(&[r#"
            path "secret/metadata" { capabilities = ["list"] }
            path "kv/+" { capabilities = ["list"] }"#]);
        assert!(allowed(&acl, "secret/metadata/", List));
        assert!(!allowed(&acl, "secret/metadata/", Read));
        assert!(allowed(&acl, "kv/team/", List));
        // Vault quirk: `+` also matches the empty last segment of `kv/`.
        assert!(allowed(&acl, "kv/", List));
    }

    #[test]
    fn acl_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Acl>();
        assert_send_sync::<Policy>();
    }

    #[test]
    fn resultant_exports_exact_and_glob_rules_as_vault() {
        let acl = acl(&[
            r#"
            path "secret/data/app" {
              capabilities = ["update", "read", "create"]
              allowed_parameters = { "Foo" = [], "bar" = ["zip", 5] }
              required_parameters = ["bar"]
              min_wrapping_ttl = "1m"
            }
            path "secret/metadata/*" { capabilities = ["list"] }
            path "secret/+/team" { capabilities = ["read"] }
            path "kv/off" { capabilities = ["deny"] }"#,
            r#"path "secret/metadata/*" { capabilities = ["sudo", "patch"] }
               path "kv/recover-only" { capabilities = ["recover"] }"#,
        ]);
        let r = acl.resultant();
        assert!(!r.root);
        let app = &r.exact["secret/data/app"];
        // Vault's order, not alphabetical.
        assert_eq!(app.capabilities, ["create", "read", "update"]);
        assert_eq!(app.min_wrapping_ttl, Some(Duration::from_secs(60)));
        assert_eq!(app.max_wrapping_ttl, None);
        assert_eq!(
            serde_json::to_value(&app.allowed_parameters).unwrap(),
            json!({"foo": [], "bar": ["zip", 5]})
        );
        assert!(app.denied_parameters.is_empty());
        assert_eq!(app.required_parameters, ["bar"]);
        assert_eq!(r.exact["kv/off"].capabilities, ["deny"]);
        assert_eq!(r.exact["kv/recover-only"].capabilities, ["deny"]);
        // The prefix is reported without its `*`, both policies merged.
        let meta = &r.glob["secret/metadata/"];
        assert_eq!(meta.capabilities, ["list", "sudo", "patch"]);
        assert!(meta.allowed_parameters.is_empty() && meta.required_parameters.is_empty());
        // `+` patterns are in neither map, as in Vault.
        assert_eq!(r.exact.len(), 3);
        assert_eq!(r.glob.len(), 1);
        let root = Acl::new(&[&Policy::root()]).unwrap().resultant();
        assert!(root.root && root.exact.is_empty() && root.glob.is_empty());
        assert_eq!(Acl::default().resultant(), ResultantAcl::default());
    }

    #[test]
    fn root_help_and_empty() {
        let root = Acl::new(&[&Policy::root()]).unwrap();
        assert!(root.is_root() && Acl::root().is_root());
        let res = root.authorize("sys/audit", Update, None);
        assert!(res.allowed && res.root_privs && res.is_root);
        assert_eq!(root.capabilities("anything"), ["root"]);
        let other = Policy::parse("x", "").unwrap();
        assert_eq!(
            Acl::new(&[&Policy::root(), &other]).unwrap_err(),
            PolicyError::RootWithOtherPolicies
        );
        let empty = Acl::new(&[]).unwrap();
        assert!(empty.authorize("any/path", Help, None).allowed);
        let res = empty.authorize("any/path", Read, None);
        assert_eq!(res.reason, Some(DenyReason::NoMatchingRule));
        assert_eq!(empty.capabilities("any/path"), ["deny"]);
        // A rule with no capabilities still wins and grants nothing.
        let acl = acl(&[r#"path "a/*" { capabilities = ["read"] }
                           path "a/b" { capabilities = [] }"#]);
        assert_eq!(
            acl.authorize("a/b", Read, None).reason,
            Some(DenyReason::MissingCapability(Capability::Read))
        );
        assert_eq!(acl.capabilities("a/b"), ["deny"]);
    }

    #[test]
    fn wrapping_ttls_merge_to_the_lowest() {
        let acl = acl(&[
            r#"path "auth/approle/role/my-role/secret-id" {
                 capabilities = ["create", "update"]
                 min_wrapping_ttl = "1s"
                 max_wrapping_ttl = "90s"
               }"#,
            r#"path "auth/approle/role/my-role/secret-id" { max_wrapping_ttl = 60 }"#,
        ]);
        let path = "auth/approle/role/my-role/secret-id";
        let res = acl.authorize(path, Update, None);
        assert!(res.allowed);
        assert_eq!(res.min_wrapping_ttl, Some(Duration::from_secs(1)));
        assert_eq!(res.max_wrapping_ttl, Some(Duration::from_secs(60)));
        let wrapped = |ttl| acl.authorize_with_wrapping(path, Update, None, ttl).allowed;
        assert!(!wrapped(None));
        assert!(wrapped(Some(Duration::from_secs(30))));
        assert!(!wrapped(Some(Duration::from_secs(61))));
    }

    #[test]
    fn parameters_apply_to_read_create_update_patch_only() {
        let acl = acl(&[r#"path "p" {
            capabilities = ["read", "update", "delete", "patch"]
            denied_parameters = { "*" = [] }
        }"#]);
        let data = json!({"x": 1});
        for (op, expected) in [
            (Read, false),
            (Update, false),
            (Patch, false),
            (Delete, true),
        ] {
            assert_eq!(
                acl.authorize("p", op, data.as_object()).allowed,
                expected,
                "{op}"
            );
        }
        assert!(acl.authorize("p", Update, None).allowed);
    }

    #[test]
    fn default_policy_grants_what_vault_grants() {
        let acl = Acl::new(&[&Policy::default_policy()]).unwrap();
        assert!(allowed(&acl, "auth/token/lookup-self", Read));
        assert!(allowed(&acl, "cubbyhole/my/secret", Create));
        assert!(allowed(&acl, "sys/wrapping/unwrap", Update));
        assert!(allowed(&acl, "sys/tools/hash/sha2-256", Update));
        assert!(allowed(
            &acl,
            "identity/oidc/provider/default/authorize",
            Read
        ));
        assert!(!allowed(&acl, "secret/data/x", Read));
        // Templated paths are not matched literally before rendering.
        assert!(!allowed(
            &acl,
            "identity/entity/id/{{identity.entity.id}}",
            Read
        ));
    }

    fn identity() -> TemplateContext {
        let mut ctx = TemplateContext::new("e-1", "alice");
        ctx.entity_metadata.insert("team".into(), "payments".into());
        ctx.entity_metadata.insert("evil".into(), "*".into());
        ctx
    }

    #[test]
    fn templated_rules_render_with_a_context() {
        let p = Policy::parse(
            "t",
            r#"
            path "secret/data/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
            path "secret/data/{{identity.entity.metadata.evil}}" { capabilities = ["read"] }
            path "secret/data/{{identity.entity.metadata.gone}}/*" { capabilities = ["update"] }
            path "secret/data/shared" { capabilities = ["list"] }
            "#,
        )
        .unwrap();
        let ctx = identity();
        let acl = Acl::new_with_context(&[&p], Some(&ctx)).unwrap();
        assert!(allowed(&acl, "secret/data/payments/x", Read));
        assert!(!allowed(&acl, "secret/data/payments/x", Update));
        assert!(!allowed(&acl, "secret/data/other/x", Read));
        // The `*` value dropped its rule instead of matching everything.
        assert!(!allowed(&acl, "secret/data/*", Read));
        assert!(!allowed(&acl, "secret/data/anything", Read));
        assert!(allowed(&acl, "secret/data/shared", List));
        // Same result through Policy::render.
        let rendered = Acl::new(&[&p.render(&ctx)]).unwrap();
        for path in ["secret/data/payments/x", "secret/data/anything"] {
            assert_eq!(allowed(&rendered, path, Read), allowed(&acl, path, Read));
        }
        // Without a context templated rules match nothing.
        let bare = Acl::new_with_context(&[&p], None).unwrap();
        assert!(!allowed(&bare, "secret/data/payments/x", Read));
        assert!(allowed(&bare, "secret/data/shared", List));
    }

    #[test]
    fn default_policy_renders_entity_paths() {
        let acl = Acl::new_with_context(&[&Policy::default_policy()], Some(&identity())).unwrap();
        assert!(allowed(&acl, "identity/entity/id/e-1", Read));
        assert!(allowed(&acl, "identity/entity/name/alice", Read));
        assert!(!allowed(&acl, "identity/entity/id/e-2", Read));
        assert!(!allowed(&acl, "identity/entity/name/bob", Read));
    }

    #[test]
    fn rendered_rules_merge_with_literal_ones() {
        let acl = Acl::new_with_context(
            &[
                &Policy::parse("a", r#"path "kv/alice" { capabilities = ["read"] }"#).unwrap(),
                &Policy::parse(
                    "b",
                    r#"path "kv/{{identity.entity.name}}" { capabilities = ["update"] }"#,
                )
                .unwrap(),
            ],
            Some(&identity()),
        )
        .unwrap();
        assert_eq!(acl.capabilities("kv/alice"), ["read", "update"]);
    }

    /// The indexed search for `+` patterns, against a scan of every
    /// pattern: the same winner for any path.
    fn non_exact_by_scan<'a>(acl: &'a Acl, path: &str) -> Option<&'a Permissions> {
        let prefix = acl.prefix_lengths.iter().find_map(|&len| {
            let stem = path.get(..len)?;
            acl.prefix.get_key_value(stem)
        });
        let parts = path.bytes().filter(|b| *b == b'/').count() + 1;
        let mut best = prefix.map(|(stem, p)| (Priority::prefix(stem), p));
        for (pattern, perms) in &acl.segments {
            if pattern.matches(path, parts) {
                let priority = pattern.priority();
                if best.as_ref().is_none_or(|(b, _)| priority > *b) {
                    best = Some((priority, perms));
                }
            }
        }
        best.map(|(_, p)| p)
    }

    proptest::proptest! {
        #[test]
        fn indexed_segment_lookup_equals_a_full_scan(
            patterns in proptest::collection::vec(
                ("(\\+|[ab]{1,2})(/(\\+|[ab]{1,2})){0,3}", proptest::bool::ANY),
                1..12,
            ),
            path in "[ab]{1,2}(/[ab]{1,2}){0,4}",
        ) {
            let text: String = patterns
                .iter()
                .enumerate()
                .map(|(i, (p, glob))| {
                    let caps = ["read", "update", "list", "deny"][i % 4];
                    let glob = if *glob && !p.ends_with('+') { "*" } else { "" };
                    format!("path \"{p}{glob}\" {{ capabilities = [\"{caps}\"] }}\n")
                })
                .collect();
            let acl = acl(&[&text]);
            let indexed = acl.non_exact(&path).map(|p| p.capabilities.to_vec());
            let scanned = non_exact_by_scan(&acl, &path).map(|p| p.capabilities.to_vec());
            proptest::prop_assert_eq!(indexed, scanned);
        }
    }

    /// Regression (issue 12, part 8): merging the required parameters of N
    /// blocks for one path scanned the list merged so far for each name,
    /// O(N²). Counted, not timed: 20,000 blocks used to compare 2·10⁸ names.
    #[test]
    fn duplicate_paths_merge_in_linear_work() {
        let n = 20_000;
        let text: String = (0..n)
            .map(|i| {
                format!(
                    "path \"secret/app\" {{\n  capabilities = [\"read\"]\n  \
                     required_parameters = [\"R{i}\", \"common\"]\n}}\n"
                )
            })
            .collect();
        let policy = Policy::parse("dup", &text).unwrap();
        crate::work::take();
        let acl = Acl::new(&[&policy]).unwrap();
        let steps = crate::work::take();
        assert!(steps <= 2 * 2 * n, "{steps} steps for {n} blocks");
        // Vault's merge is unchanged: names lowercased, deduplicated, in
        // the order first written, the first missing one reported.
        let perms = acl.exact.get("secret/app").unwrap();
        assert_eq!(perms.params.required_names().len(), n + 1);
        assert_eq!(perms.params.required_names()[..3], ["r0", "common", "r1"]);
        let data = json!({"r0": 1, "common": 1});
        assert_eq!(
            acl.authorize("secret/app", Read, data.as_object()).reason,
            Some(DenyReason::MissingRequiredParameter("r1".into()))
        );
    }
}
