//! Tokens minted for auth-method logins: turning a [`LoginGrant`] into
//! [`CreateParams`], Vault's display-name rule, and the hook through which
//! renewals go back to the auth method.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_types::LoginGrant;

use crate::policies::{NON_ASSIGNABLE_POLICIES, sanitize_policies};
use crate::ttl::nonzero_min;
use crate::{CreateParams, Result, TokenEntry, TokenError, TokenStore, TokenType};

/// Asks the auth method that issued a login token whether it may be renewed.
/// The core implements it by routing to the method's `Backend::renew_login`.
///
/// [`TokenStore::renew`] calls it (without holding the store's lock) for
/// every token whose entry carries a [`TokenEntry::login_grant`], before
/// extending the token.
#[async_trait]
pub trait LoginRenewer: Send + Sync {
    /// Returns the refreshed grant (current policies, TTLs, internal data),
    /// or an error when the user or role is gone or may no longer log in;
    /// the error is returned to the client as is and the token is not
    /// renewed.
    async fn renew_login(
        &self,
        entry: &TokenEntry,
        grant: &LoginGrant,
    ) -> coffer_types::Result<LoginGrant>;
}

/// Vault's display name for a login token: the mount path without `auth/`,
/// `/` replaced by `-`, then the method's name; one trailing `-` removed
/// (`auth/userpass/` + `bob` gives `userpass-bob`).
pub fn login_display_name(mount_point: &str, name: &str) -> String {
    let source = mount_point
        .strip_prefix("auth/")
        .unwrap_or(mount_point)
        .replace('/', "-");
    let full = format!("{source}{name}");
    match full.strip_suffix('-') {
        Some(trimmed) => trimmed.to_owned(),
        None => full,
    }
}

/// Vault's `policyutil.EquivalentPolicies`: the same set once duplicates
/// and `default` are ignored.
pub fn equivalent_policies(a: &[String], b: &[String]) -> bool {
    let set = |v: &[String]| -> BTreeSet<String> {
        v.iter()
            .filter(|p| p.as_str() != "default")
            .cloned()
            .collect()
    };
    set(a) == set(b)
}

impl CreateParams {
    /// The parameters of the token for a successful login on the auth mount
    /// `mount_point` (e.g. `auth/userpass/`) at the full request `path`
    /// (e.g. `auth/userpass/login/bob`), as Vault's `LoginCreateToken` builds
    /// them: policies with `default` unless the grant says otherwise (never
    /// `root`, never an internal policy), the prefixed display name, the
    /// grant's metadata, TTLs, uses and CIDR binding, no parent, and the grant
    /// itself kept for renewals.
    ///
    /// The grant's `token_type` picks the type (`batch`, or `service` for
    /// `service`/`default`/empty); the core may override it with the mount's
    /// tuned type. For batch tokens the fields batch tokens cannot carry are
    /// folded into the TTL as Vault does: a period becomes the TTL, an
    /// explicit max TTL caps it, uses are dropped, and the token is not
    /// renewable. The core sets `entity_id` once the identity is known.
    pub fn from_login(grant: LoginGrant, mount_point: &str, path: &str) -> Result<Self> {
        let policies = sanitize_policies(&grant.policies, !grant.no_default_policy);
        if policies.iter().any(|p| p == "root") {
            return Err(TokenError::invalid(
                "auth methods cannot create root tokens",
            ));
        }
        if let Some(p) = policies
            .iter()
            .find(|p| NON_ASSIGNABLE_POLICIES.contains(&p.as_str()))
        {
            return Err(TokenError::invalid(format!("cannot assign policy {p:?}")));
        }
        let token_type = match grant.token_type.as_str() {
            "" | "default" | "service" => TokenType::Service,
            "batch" => TokenType::Batch,
            _ => return Err(TokenError::invalid("invalid 'token_type' value")),
        };
        let mut params = CreateParams {
            policies,
            meta: grant.metadata.clone(),
            display_name: login_display_name(mount_point, &grant.display_name),
            num_uses: grant.num_uses,
            ttl: grant.ttl,
            max_ttl: grant.max_ttl,
            explicit_max_ttl: grant.explicit_max_ttl,
            period: grant.period,
            renewable: grant.renewable,
            path: path.to_owned(),
            bound_cidrs: grant.bound_cidrs.clone(),
            token_type,
            parent: None,
            ..CreateParams::default()
        };
        if token_type == TokenType::Batch {
            if !params.period.is_zero() {
                params.ttl = params.period;
                params.period = Duration::ZERO;
            }
            params.max_ttl = nonzero_min(params.max_ttl, params.explicit_max_ttl);
            params.explicit_max_ttl = Duration::ZERO;
            params.num_uses = 0;
            params.renewable = false;
        }
        params.login_grant = Some(grant);
        Ok(params)
    }
}

impl TokenStore {
    /// Installs the hook that takes login-token renewals back to their auth
    /// method (replacing any other). Without one, login tokens cannot be
    /// renewed.
    pub fn set_login_renewer(&self, renewer: Arc<dyn LoginRenewer>) {
        let mut slot = self.renewer.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(renewer);
    }

    pub(crate) fn login_renewer(&self) -> Option<Arc<dyn LoginRenewer>> {
        self.renewer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn display_names_are_prefixed_with_the_mount() {
        assert_eq!(login_display_name("auth/userpass/", "bob"), "userpass-bob");
        assert_eq!(
            login_display_name("auth/team/ldap/", "amy"),
            "team-ldap-amy"
        );
        assert_eq!(login_display_name("auth/approle/", ""), "approle");
    }

    #[test]
    fn policy_equivalence_ignores_default_and_order() {
        assert!(equivalent_policies(
            &v(&["a", "b"]),
            &v(&["b", "a", "default"])
        ));
        assert!(equivalent_policies(&[], &v(&["default"])));
        assert!(!equivalent_policies(&v(&["a"]), &v(&["a", "b"])));
        assert!(!equivalent_policies(&[], &v(&["a"])));
    }

    #[test]
    fn login_params_follow_the_grant() {
        let grant = LoginGrant {
            display_name: "bob".into(),
            policies: v(&["Dev", "ops"]),
            ttl: Duration::from_secs(600),
            max_ttl: Duration::from_secs(3600),
            renewable: true,
            bound_cidrs: v(&["10.0.0.0/8"]),
            ..LoginGrant::default()
        };
        let p =
            CreateParams::from_login(grant.clone(), "auth/userpass/", "auth/userpass/login/bob")
                .unwrap();
        assert_eq!(p.policies, v(&["default", "dev", "ops"]));
        assert_eq!(p.display_name, "userpass-bob");
        assert_eq!(p.path, "auth/userpass/login/bob");
        assert_eq!(
            (p.ttl, p.max_ttl),
            (Duration::from_secs(600), Duration::from_secs(3600))
        );
        assert_eq!(p.token_type, TokenType::Service);
        assert!(p.parent.is_none() && p.renewable);
        assert_eq!(p.login_grant.as_ref(), Some(&grant));

        let no_default = LoginGrant {
            no_default_policy: true,
            ..grant.clone()
        };
        let p = CreateParams::from_login(no_default, "auth/userpass/", "x").unwrap();
        assert_eq!(p.policies, v(&["dev", "ops"]));

        let batch = LoginGrant {
            token_type: "batch".into(),
            period: Duration::from_secs(300),
            explicit_max_ttl: Duration::from_secs(1200),
            num_uses: 4,
            ..grant.clone()
        };
        let p = CreateParams::from_login(batch, "auth/userpass/", "x").unwrap();
        assert_eq!(p.token_type, TokenType::Batch);
        assert_eq!(
            p.ttl,
            Duration::from_secs(300),
            "the period becomes the TTL"
        );
        assert_eq!(p.max_ttl, Duration::from_secs(1200), "explicit max caps it");
        assert_eq!(
            (p.period, p.explicit_max_ttl, p.num_uses),
            (Duration::ZERO, Duration::ZERO, 0)
        );
        assert!(!p.renewable);

        for (bad, msg) in [
            (v(&["root"]), "auth methods cannot create root tokens"),
            (
                v(&["response-wrapping"]),
                "cannot assign policy \"response-wrapping\"",
            ),
        ] {
            let g = LoginGrant {
                policies: bad,
                ..grant.clone()
            };
            let err = CreateParams::from_login(g, "auth/userpass/", "x").unwrap_err();
            assert_eq!(err.to_string(), msg);
        }
    }
}
