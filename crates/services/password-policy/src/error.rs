//! Typed errors for parsing, generating and storing password policies.
//! Messages follow Vault's wording and never contain a generated password.

use coffer_crypto::CryptoError;
use coffer_storage::StorageError;

use crate::policy::{MAX_CHARSET_LEN, MAX_LENGTH, MIN_LENGTH};

pub use coffer_types::Position;

/// `" on line L, column C"` when a position is known.
fn fmt_at(pos: &Option<Position>) -> String {
    Position::suffix(pos)
}

/// Why a password policy could not be parsed, generated from or stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// The text is not valid HCL (or JSON).
    #[error("unable to decode: syntax error on {at}: {message}")]
    Syntax {
        /// Where the parser stopped.
        at: Position,
        /// The parser's explanation.
        message: String,
    },
    /// The text parses but does not have the shape of a password policy.
    #[error("{message}{}", fmt_at(.at))]
    Structure {
        /// What is wrong.
        message: String,
        /// Where, when known.
        at: Option<Position>,
    },
    /// `length` is missing or outside Vault's bounds.
    #[error("passwords must be between {MIN_LENGTH} and {MAX_LENGTH} characters")]
    LengthOutOfRange,
    /// The rules' `min-chars` add up to more than `length`.
    #[error("specified rules require at least {required} characters but {length} is specified")]
    RulesTooLong {
        /// Sum of every rule's `min-chars`.
        required: usize,
        /// The policy's `length`.
        length: usize,
    },
    /// No rule contributes any character.
    #[error("no charset specified")]
    NoCharset,
    /// A rule asks for characters from an empty charset.
    #[error("rule {index} requires {min_chars} characters from an empty charset")]
    EmptyRuleCharset {
        /// 1-based position of the rule in the policy.
        index: usize,
        /// Its `min-chars`.
        min_chars: usize,
    },
    /// A charset holds a control or other non-printable character.
    #[error("non-printable character in charset")]
    NonPrintable,
    /// The de-duplicated union of every charset is too long.
    #[error("charset is too long: limited to {MAX_CHARSET_LEN} characters")]
    CharsetTooLong,
    /// The `policy` parameter is missing or empty.
    #[error("missing policy")]
    MissingPolicy,
    /// The named policy is not stored.
    #[error("policy does not exist")]
    NotFound,
    /// No password policy endpoint at this path.
    #[error("unsupported path")]
    UnsupportedPath,
    /// A stored policy could not be decoded or no longer parses.
    #[error("stored password policy configuration failed to parse")]
    Corrupt,
    /// A freshly generated password broke a rule (an internal invariant;
    /// the password is discarded and never shown).
    #[error("failed to generate password from policy: generated password broke a rule")]
    Invariant,
    /// The OS random number generator failed.
    #[error("failed to generate password from policy: {0}")]
    Random(#[from] CryptoError),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    PasswordPolicyError {
        Syntax { .. }
        | Structure { .. }
        | LengthOutOfRange
        | RulesTooLong { .. }
        | NoCharset
        | EmptyRuleCharset { .. }
        | NonPrintable
        | CharsetTooLong
        | MissingPolicy => InvalidRequest,
        NotFound | UnsupportedPath => NotFound,
        Corrupt | Invariant | Random(_) => Internal,
        Storage(e) => e.kind(),
    }
}

impl PasswordPolicyError {
    /// Whether this error says the policy text itself is invalid (Vault
    /// prefixes those with `invalid password policy: `).
    pub fn is_invalid_policy(&self) -> bool {
        matches!(
            self,
            PasswordPolicyError::Syntax { .. }
                | PasswordPolicyError::Structure { .. }
                | PasswordPolicyError::RulesTooLong { .. }
                | PasswordPolicyError::NoCharset
                | PasswordPolicyError::EmptyRuleCharset { .. }
                | PasswordPolicyError::NonPrintable
                | PasswordPolicyError::CharsetTooLong
        )
    }

    /// The position in the policy text the error points at, if any.
    pub fn position(&self) -> Option<Position> {
        match self {
            PasswordPolicyError::Syntax { at, .. } => Some(*at),
            PasswordPolicyError::Structure { at, .. } => *at,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_vault_statuses() {
        let e: coffer_types::Error = PasswordPolicyError::NotFound.into();
        assert_eq!(e.status(), 404);
        assert_eq!(e.messages(), ["policy does not exist"]);
        assert_eq!(PasswordPolicyError::LengthOutOfRange.kind().status(), 400);
        assert_eq!(PasswordPolicyError::MissingPolicy.kind().status(), 400);
        assert_eq!(PasswordPolicyError::Corrupt.kind().status(), 500);
        assert_eq!(
            PasswordPolicyError::Random(CryptoError::Random)
                .kind()
                .status(),
            500
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "ab\nçd\nxyz";
        assert_eq!(
            Position::from_offset(text, 6),
            Position { line: 2, column: 3 }
        );
        assert_eq!(
            Position::from_offset(text, 0).to_string(),
            "line 1, column 1"
        );
        assert_eq!(Position::from_offset(text, 99).line, 3);
        // Inside a multi-byte character: clamped back to its start.
        assert_eq!(Position::from_offset(text, 4).column, 1);
        let e = PasswordPolicyError::Structure {
            message: "bad".into(),
            at: Some(Position { line: 2, column: 5 }),
        };
        assert_eq!(e.to_string(), "bad on line 2, column 5");
        assert_eq!(e.position(), Some(Position { line: 2, column: 5 }));
    }
}
