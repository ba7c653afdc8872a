//! The answer of an ACL check and why a request was refused.

use crate::capability::Capability;
use std::fmt;
use std::time::Duration;

/// Why the ACL refused a request. For logs and audit; clients only ever see
/// Vault's `permission denied`. Parameter names are included, values never.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No policy rule matches the path.
    NoMatchingRule,
    /// The winning rule says `deny`.
    ExplicitDeny,
    /// The winning rule lacks the capability the operation needs.
    MissingCapability(Capability),
    /// A `required_parameters` entry is absent from the request.
    MissingRequiredParameter(String),
    /// A parameter (or `*`) is denied by `denied_parameters`.
    DeniedParameter(String),
    /// A parameter or its value is not in `allowed_parameters`.
    ParameterNotAllowed(String),
    /// The path needs response wrapping and the request is not wrapped.
    WrappingRequired,
    /// The requested wrapping TTL is above `max_wrapping_ttl`.
    WrappingTtlTooLong,
    /// The requested wrapping TTL is below `min_wrapping_ttl`.
    WrappingTtlTooShort,
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::NoMatchingRule => f.write_str("no policy grants access to the path"),
            DenyReason::ExplicitDeny => f.write_str("a policy denies the path"),
            DenyReason::MissingCapability(c) => write!(f, "missing {:?} capability", c.as_str()),
            DenyReason::MissingRequiredParameter(p) => {
                write!(f, "missing required parameter {p:?}")
            }
            DenyReason::DeniedParameter(p) => write!(f, "parameter {p:?} is denied"),
            DenyReason::ParameterNotAllowed(p) => write!(f, "parameter {p:?} is not allowed"),
            DenyReason::WrappingRequired => f.write_str("response wrapping is required"),
            DenyReason::WrappingTtlTooLong => f.write_str("wrapping TTL exceeds max_wrapping_ttl"),
            DenyReason::WrappingTtlTooShort => {
                f.write_str("wrapping TTL is below min_wrapping_ttl")
            }
        }
    }
}

/// The result of [`crate::Acl::authorize`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Whether the matched rule grants `sudo` (or the token is root): needed
    /// on root-protected paths. Set even when `allowed` is false, as in Vault.
    pub root_privs: bool,
    /// Whether the ACL is the `root` policy.
    pub is_root: bool,
    /// Capabilities of the winning rule (empty for root and for help).
    pub capabilities: Vec<Capability>,
    /// Smallest wrapping TTL the client may request, if any.
    pub min_wrapping_ttl: Option<Duration>,
    /// Largest wrapping TTL the client may request, if any.
    pub max_wrapping_ttl: Option<Duration>,
    /// Why the request was denied, when it was.
    pub reason: Option<DenyReason>,
}

impl Authorization {
    pub(crate) fn root() -> Authorization {
        Authorization {
            root_privs: true,
            is_root: true,
            ..Authorization::allow_help()
        }
    }

    pub(crate) fn allow_help() -> Authorization {
        Authorization {
            allowed: true,
            reason: None,
            ..Authorization::denied(DenyReason::NoMatchingRule)
        }
    }

    pub(crate) fn denied(reason: DenyReason) -> Authorization {
        Authorization {
            allowed: false,
            root_privs: false,
            is_root: false,
            capabilities: Vec::new(),
            min_wrapping_ttl: None,
            max_wrapping_ttl: None,
            reason: Some(reason),
        }
    }

    /// Applies the wrapping TTL bounds to the TTL the client asked for
    /// (`X-Vault-Wrap-TTL`; `None` when the response is not wrapped), as
    /// Vault does after the capability check.
    pub fn check_wrapping_ttl(&self, requested: Option<Duration>) -> Result<(), DenyReason> {
        if let Some(max) = self.max_wrapping_ttl {
            match requested {
                None => return Err(DenyReason::WrappingRequired),
                Some(ttl) if ttl > max => return Err(DenyReason::WrappingTtlTooLong),
                Some(_) => {}
            }
        }
        if let Some(min) = self.min_wrapping_ttl {
            match requested {
                None => return Err(DenyReason::WrappingRequired),
                Some(ttl) if ttl < min => return Err(DenyReason::WrappingTtlTooShort),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Denies this authorization if the wrapping TTL is out of bounds.
    pub(crate) fn apply_wrapping(mut self, requested: Option<Duration>) -> Authorization {
        if self.allowed
            && !self.is_root
            && let Err(reason) = self.check_wrapping_ttl(requested)
        {
            self.allowed = false;
            self.reason = Some(reason);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_bounds() {
        let mut a = Authorization::allow_help();
        assert_eq!(a.check_wrapping_ttl(None), Ok(()));
        a.min_wrapping_ttl = Some(Duration::from_secs(1));
        a.max_wrapping_ttl = Some(Duration::from_secs(90));
        assert_eq!(
            a.check_wrapping_ttl(None),
            Err(DenyReason::WrappingRequired)
        );
        assert_eq!(a.check_wrapping_ttl(Some(Duration::from_secs(30))), Ok(()));
        assert_eq!(
            a.check_wrapping_ttl(Some(Duration::from_secs(91))),
            Err(DenyReason::WrappingTtlTooLong)
        );
        assert_eq!(
            a.check_wrapping_ttl(Some(Duration::from_millis(500))),
            Err(DenyReason::WrappingTtlTooShort)
        );
        let denied = a.apply_wrapping(None);
        assert!(!denied.allowed);
        assert_eq!(denied.reason, Some(DenyReason::WrappingRequired));
    }

    #[test]
    fn root_and_help_shapes() {
        let root = Authorization::root();
        assert!(root.allowed && root.root_privs && root.is_root && root.reason.is_none());
        let help = Authorization::allow_help();
        assert!(help.allowed && !help.root_privs && help.capabilities.is_empty());
        assert_eq!(
            DenyReason::DeniedParameter("bar".into()).to_string(),
            "parameter \"bar\" is denied"
        );
    }
}
