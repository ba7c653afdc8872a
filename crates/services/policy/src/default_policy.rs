//! Built-in policies (`root`, `default`, `response-wrapping`) and the rules
//! Vault applies to their names.

use crate::error::PolicyError;

/// The name of the root policy: grants everything, cannot be written or deleted.
pub const ROOT_POLICY_NAME: &str = "root";

/// The name of the default policy: attached to tokens unless excluded; can
/// be updated but not deleted.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// The name of the fixed policy of response-wrapping tokens: immutable and
/// never assignable to other tokens.
pub const RESPONSE_WRAPPING_POLICY_NAME: &str = "response-wrapping";

/// The text of Vault's built-in `default` policy, written on first unseal
/// (never overwritten afterwards).
pub const DEFAULT_POLICY: &str = r#"
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own entity by id or name
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}


# Allow a token to look up its resultant ACL from all policies. This is useful
# for UIs. It is an internal path because the format may change at any time
# based on how the internal ACL features and capabilities change.
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token. This is a convenience to
# avoid client token swapping since this is also part of the response wrapping
# policy.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Allow checking the status of a Control Group request if the user has the
# accessor
path "sys/control-group/request" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
"#;

/// The text of the `response-wrapping` policy given to wrapping tokens.
pub const RESPONSE_WRAPPING_POLICY: &str = r#"
path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
"#;

/// Whether the policy can never be written or deleted (`root`, `response-wrapping`).
pub fn is_immutable(name: &str) -> bool {
    matches!(name, ROOT_POLICY_NAME | RESPONSE_WRAPPING_POLICY_NAME)
}

/// Whether the policy may be attached to tokens, roles or entities
/// (`response-wrapping` may not).
pub fn is_assignable(name: &str) -> bool {
    name != RESPONSE_WRAPPING_POLICY_NAME
}

/// Refuses writes to immutable policies (`cannot update "root" policy`).
/// `name` must already be normalized ([`crate::Policy::normalize_name`]).
pub fn check_writable(name: &str) -> Result<(), PolicyError> {
    if is_immutable(name) {
        return Err(PolicyError::CannotUpdate(name.to_owned()));
    }
    Ok(())
}

/// Refuses deleting immutable policies and `default`. `name` must already
/// be normalized ([`crate::Policy::normalize_name`]).
pub fn check_deletable(name: &str) -> Result<(), PolicyError> {
    if is_immutable(name) {
        return Err(PolicyError::CannotDelete(name.to_owned()));
    }
    if name == DEFAULT_POLICY_NAME {
        return Err(PolicyError::CannotDeleteDefault);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_follow_vault() {
        assert_eq!(
            check_writable("root").unwrap_err().to_string(),
            "cannot update \"root\" policy"
        );
        assert!(check_writable("default").is_ok());
        assert!(check_writable("response-wrapping").is_err());
        assert_eq!(
            check_deletable("root").unwrap_err().to_string(),
            "cannot delete \"root\" policy"
        );
        assert_eq!(
            check_deletable("default").unwrap_err().to_string(),
            "cannot delete default policy"
        );
        assert!(check_deletable("my-policy").is_ok());
        assert!(!is_assignable("response-wrapping") && is_assignable("default"));
    }
}
