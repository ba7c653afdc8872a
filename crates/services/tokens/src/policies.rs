//! Policy-list handling exactly as Vault's `policyutil` and `strutil` do it.

/// Policies that can never be attached to a token by a client.
pub const NON_ASSIGNABLE_POLICIES: &[&str] = &["response-wrapping", "control-group"];

/// Trims and lowercases every name, drops empty names, collapses the list to
/// `["root"]` when it contains `root`, adds `default` when `add_default` is set
/// (unless `root` is present), then sorts and deduplicates.
pub fn sanitize_policies(policies: &[String], add_default: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(policies.len() + 1);
    for p in policies {
        let p = p.trim().to_lowercase();
        if p.is_empty() {
            continue;
        }
        if p == "root" {
            return vec!["root".to_owned()];
        }
        out.push(p);
    }
    if add_default && !out.iter().any(|p| p == "default") {
        out.push("default".to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// Lowercases, trims, drops empties, sorts and deduplicates (Vault's
/// `strutil.RemoveDuplicates(list, true)`).
pub fn dedup_lowercase(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// True when every item of `subset` is in `superset`.
pub fn is_subset(superset: &[String], subset: &[String]) -> bool {
    subset.iter().all(|s| superset.contains(s))
}

/// True when `value` matches any glob in `patterns` (Vault's `go-glob`,
/// `*` anywhere).
pub fn matches_any_glob(patterns: &[String], value: &str) -> bool {
    coffer_types::glob::matches_any(patterns, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sanitize_sorts_dedups_and_adds_default() {
        assert_eq!(
            sanitize_policies(&v(&["web", " Stage", "web", ""]), true),
            v(&["default", "stage", "web"])
        );
        assert_eq!(sanitize_policies(&v(&["web"]), false), v(&["web"]));
        assert_eq!(sanitize_policies(&v(&[]), true), v(&["default"]));
        assert_eq!(
            sanitize_policies(&v(&["a", "root", "b"]), true),
            v(&["root"])
        );
    }

    #[test]
    fn subset_and_globs() {
        assert!(is_subset(&v(&["a", "b"]), &v(&["b"])));
        assert!(!is_subset(&v(&["a"]), &v(&["a", "c"])));
        assert!(matches_any_glob(&v(&["x", "app-*"]), "app-1"));
    }
}
