//! Typed errors for parsing policies and for the reserved policy names.

pub use coffer_types::Position;

/// `" on line L, column C"` when a position is known.
fn fmt_at(pos: &Option<Position>) -> String {
    Position::suffix(pos)
}

/// `path "x": ` when the error belongs to a path block.
fn in_path(path: &Option<String>) -> String {
    path.as_ref()
        .map(|p| format!("path {p:?}: "))
        .unwrap_or_default()
}

/// Why a policy could not be parsed, or why a policy operation is refused.
/// Messages follow Vault's wording and never contain request data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not valid HCL (or JSON).
    #[error("failed to parse policy: {message} on {at}")]
    Syntax {
        /// Where the problem is.
        at: Position,
        /// What is wrong.
        message: String,
    },
    /// Valid syntax in a shape policies do not allow (a block without its
    /// path label, interpolation, function calls, a non-object root...).
    #[error("failed to parse policy: {message}{}", fmt_at(.at))]
    Structure {
        /// What is wrong.
        message: String,
        /// Where, when known.
        at: Option<Position>,
    },
    /// A key Vault does not accept at the top level or inside a path block.
    #[error("failed to parse policy: {}invalid key {key:?}{}", in_path(.path), fmt_at(.at))]
    InvalidKey {
        /// The path block, or `None` at the top level.
        path: Option<String>,
        /// The offending key.
        key: String,
        /// Where the key is (unknown for JSON policies).
        at: Option<Position>,
    },
    /// A capability name that does not exist.
    #[error("failed to parse policy: path {path:?}: invalid capability {capability:?}{}", fmt_at(.at))]
    InvalidCapability {
        /// The path block.
        path: String,
        /// The unknown capability.
        capability: String,
        /// Where the `capabilities` value is.
        at: Option<Position>,
    },
    /// A legacy `policy = "..."` value other than deny, read, write or sudo.
    #[error("failed to parse policy: path {path:?}: invalid policy {policy:?}{}", fmt_at(.at))]
    InvalidLegacyPolicy {
        /// The path block.
        path: String,
        /// The unknown value.
        policy: String,
        /// Where the `policy` value is.
        at: Option<Position>,
    },
    /// A path pattern Vault rejects (`+*`, unbalanced `{{ }}` templating).
    #[error("failed to parse policy: path {path:?}: {reason}{}", fmt_at(.at))]
    InvalidPath {
        /// The path as written.
        path: String,
        /// Why it is invalid.
        reason: &'static str,
        /// Where the path label is.
        at: Option<Position>,
    },
    /// A value of the wrong type or an invalid value (durations, parameter keys).
    #[error("failed to parse policy: path {path:?}: {key}: {reason}{}", fmt_at(.at))]
    InvalidValue {
        /// The path block.
        path: String,
        /// The key whose value is wrong.
        key: String,
        /// What is wrong with it.
        reason: String,
        /// Where the value is.
        at: Option<Position>,
    },
    /// The policy name is empty or unusable.
    #[error("invalid policy name {0:?}")]
    InvalidName(String),
    /// The policy is immutable (`root`, `response-wrapping`).
    #[error("cannot update {0:?} policy")]
    CannotUpdate(String),
    /// The policy cannot be deleted (`root`, `response-wrapping`).
    #[error("cannot delete {0:?} policy")]
    CannotDelete(String),
    /// The `default` policy can be changed but never deleted.
    #[error("cannot delete default policy")]
    CannotDeleteDefault,
    /// An ACL was built from `root` together with other policies.
    #[error("other policies present along with root")]
    RootWithOtherPolicies,
}

coffer_types::error_kinds! {
    /// The error kind clients see: every parse or naming error is the
    /// client's (400, as Vault answers); an inconsistent ACL is internal.
    PolicyError {
        Syntax { .. }
        | Structure { .. }
        | InvalidKey { .. }
        | InvalidCapability { .. }
        | InvalidLegacyPolicy { .. }
        | InvalidPath { .. }
        | InvalidValue { .. }
        | InvalidName(_)
        | CannotUpdate(_)
        | CannotDelete(_)
        | CannotDeleteDefault => InvalidRequest,
        RootWithOtherPolicies => Internal,
    }
}

impl PolicyError {
    /// The position the error points at, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            PolicyError::Syntax { at, .. } => Some(*at),
            PolicyError::Structure { at, .. }
            | PolicyError::InvalidKey { at, .. }
            | PolicyError::InvalidCapability { at, .. }
            | PolicyError::InvalidLegacyPolicy { at, .. }
            | PolicyError::InvalidPath { at, .. }
            | PolicyError::InvalidValue { at, .. } => *at,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\ncdé f\n";
        assert_eq!(
            Position::from_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::from_offset(text, 3),
            Position { line: 2, column: 1 }
        );
        // 'f' is after a two-byte character.
        assert_eq!(
            Position::from_offset(text, 8),
            Position { line: 2, column: 5 }
        );
        assert_eq!(Position::from_offset(text, 999).line, 3);
    }

    #[test]
    fn messages_and_kinds() {
        let e = PolicyError::InvalidKey {
            path: Some("secret/*".into()),
            key: "bogus".into(),
            at: Some(Position { line: 3, column: 3 }),
        };
        assert_eq!(
            e.to_string(),
            "failed to parse policy: path \"secret/*\": invalid key \"bogus\" on line 3, column 3"
        );
        assert_eq!(e.kind().status(), 400);
        assert_eq!(
            PolicyError::CannotUpdate("root".into()).to_string(),
            "cannot update \"root\" policy"
        );
        assert_eq!(PolicyError::RootWithOtherPolicies.kind().status(), 500);
        let api: coffer_types::Error = PolicyError::CannotDeleteDefault.into();
        assert_eq!(api.messages(), ["cannot delete default policy"]);
    }
}
