//! One way for a crate's typed error to carry its [`ErrorKind`] into
//! Coffer's [`Error`]. Every crate keeps its own `thiserror` enum (its
//! messages are Vault's, word for word) and states once which kind each
//! variant is, with [`error_kinds!`](crate::error_kinds); the conversion into
//! [`Error`] (kind and message) is written here once, for all of them.

use crate::error::{Error, ErrorKind};

/// A typed error that knows its [`ErrorKind`], and so converts into Coffer's
/// [`Error`] (with `?` or `.into()`): the kind decides the HTTP status and the
/// `Display` text becomes the one message the client sees. Implement it with
/// [`error_kinds!`](crate::error_kinds) rather than by hand.
pub trait HasErrorKind: std::fmt::Display {
    /// The class of the failure, which decides the HTTP status.
    fn kind(&self) -> ErrorKind;

    /// The [`Error`] the client sees: [`kind`](Self::kind) with the
    /// `Display` text as its one message. Overridden only by an error that
    /// wraps an [`Error`] to pass on unchanged.
    fn into_error(self) -> Error
    where
        Self: Sized,
    {
        Error::new(self.kind(), self.to_string())
    }
}

/// Every [`HasErrorKind`] error converts into [`Error`], keeping its kind and
/// its message word for word. ([`Error`] itself does not implement
/// [`HasErrorKind`], so this does not overlap `From<T> for T`.)
impl<E: HasErrorKind> From<E> for Error {
    fn from(err: E) -> Self {
        err.into_error()
    }
}

/// Declares which [`ErrorKind`] each variant of a crate's error enum is: it
/// writes the enum's inherent `pub fn kind(&self) -> ErrorKind` (so callers
/// call `.kind()` without importing a trait) and its [`HasErrorKind`] impl,
/// and with it the conversion into [`Error`].
///
/// Each arm lists variants by name (with `(..)`/`{ .. }` patterns as in a
/// `match`, without the enum's name) and gives the kind: a bare
/// [`ErrorKind`] variant name, or any expression using the bindings (a
/// wrapped error's own kind). The match is exhaustive: a new variant does not
/// compile until it is given a kind. Doc comments before the enum's name
/// document the generated `kind()`; without them it gets a standard one.
/// An optional `unchanged: Variant` names a variant wrapping an [`Error`]
/// that reaches the client as it is, with its kind and all its messages.
///
/// ```
/// use coffer_types::{Error, ErrorKind};
///
/// #[derive(Debug, thiserror::Error)]
/// pub enum ShelfError {
///     #[error("missing book")]
///     Missing,
///     #[error("shelf {0:?} is full")]
///     Full(String),
///     #[error("stored {0} could not be decoded")]
///     Corrupt(&'static str),
///     #[error("{0}")]
///     Upstream(Error),
/// }
///
/// coffer_types::error_kinds! {
///     ShelfError {
///         Missing | Full(_) => InvalidRequest,
///         Corrupt(_) => Internal,
///         Upstream(e) => e.kind(),
///     }
/// }
///
/// assert_eq!(ShelfError::Full("a".into()).kind(), ErrorKind::InvalidRequest);
/// let err: Error = ShelfError::Corrupt("book").into();
/// assert_eq!(err.status(), 500);
/// assert_eq!(err.messages(), ["stored book could not be decoded"]);
/// ```
#[macro_export]
macro_rules! error_kinds {
    (
        $ty:ident { $($arms:tt)* }
        $(unchanged: $through:ident $(,)?)?
    ) => {
        $crate::error_kinds! {
            /// The error kind, which decides the HTTP status.
            $ty { $($arms)* }
            $(unchanged: $through)?
        }
    };
    (
        $(#[$meta:meta])+
        $ty:ident {
            $(
                $( $variant:ident $( ( $($tuple:tt)* ) )? $( { $($fields:tt)* } )? )|+
                => $kind:expr
            ),+ $(,)?
        }
        $(unchanged: $through:ident $(,)?)?
    ) => {
        impl $ty {
            $(#[$meta])+
            pub fn kind(&self) -> $crate::ErrorKind {
                #[allow(unused_imports)]
                use $crate::ErrorKind::*;
                match self {
                    $(
                        $( $ty::$variant $( ( $($tuple)* ) )? $( { $($fields)* } )? )|+
                        => $kind,
                    )+
                }
            }
        }

        impl $crate::HasErrorKind for $ty {
            fn kind(&self) -> $crate::ErrorKind {
                $ty::kind(self)
            }

            $(
                fn into_error(self) -> $crate::Error {
                    match self {
                        $ty::$through(err) => err,
                        other => $crate::Error::new($ty::kind(&other), other.to_string()),
                    }
                }
            )?
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate error as the crates write them: unit, tuple and struct
    /// variants, a wrapped error with its own kind, a pass-through.
    #[derive(Debug, thiserror::Error)]
    enum SampleError {
        #[error("check-and-set parameter did not match the current version")]
        CasMismatch,
        #[error("missing {0}")]
        Missing(&'static str),
        #[error("error converting input for field {field:?}: {reason}")]
        InvalidField {
            field: &'static str,
            reason: &'static str,
        },
        #[error("stored {0} could not be decoded")]
        Corrupt(&'static str),
        #[error("storage: {0}")]
        Inner(Error),
        #[error("{0}")]
        Passed(Error),
    }

    error_kinds! {
        SampleError {
            CasMismatch => CasMismatch,
            Missing(_) | InvalidField { .. } => InvalidRequest,
            Corrupt(_) => ErrorKind::Internal,
            Inner(e) | Passed(e) => e.kind(),
        }
        unchanged: Passed
    }

    /// The same without a pass-through and with a documented `kind()`.
    #[derive(Debug, thiserror::Error)]
    enum PlainError {
        #[error("unsupported path")]
        UnsupportedPath,
        #[error("Vault is sealed")]
        Sealed,
    }

    error_kinds! {
        /// Documented here.
        PlainError {
            UnsupportedPath => NotFound,
            Sealed => Sealed,
        }
    }

    fn through_question_mark(err: SampleError) -> crate::Result<()> {
        Err(err)?
    }

    #[test]
    fn kind_and_message_survive_the_conversion() {
        let err = Error::from(SampleError::CasMismatch);
        assert_eq!(err.kind(), ErrorKind::CasMismatch);
        assert_eq!(
            err.messages(),
            ["check-and-set parameter did not match the current version"]
        );
        let err = through_question_mark(SampleError::Missing("role_id")).unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["missing role_id".to_owned()][..])
        );
        let err: Error = SampleError::InvalidField {
            field: "data",
            reason: "an object",
        }
        .into();
        assert_eq!(
            (err.kind(), err.to_string().as_str()),
            (
                ErrorKind::InvalidRequest,
                "error converting input for field \"data\": an object"
            )
        );
        let err: Error = SampleError::Corrupt("lease").into();
        assert_eq!(err.status(), 500);
        assert_eq!(err.messages(), ["stored lease could not be decoded"]);
        assert_eq!(Error::from(PlainError::UnsupportedPath).status(), 404);
        assert_eq!(
            Error::from(PlainError::Sealed).messages(),
            ["Vault is sealed"]
        );
    }

    #[test]
    fn a_wrapped_error_lends_its_kind() {
        let inner = SampleError::Inner(Error::sealed());
        assert_eq!(inner.kind(), ErrorKind::Sealed);
        assert_eq!(HasErrorKind::kind(&inner), ErrorKind::Sealed);
        assert_eq!(Error::from(inner).messages(), ["storage: Vault is sealed"]);
    }

    #[test]
    fn unchanged_passes_the_wrapped_error_through() {
        let bare = Error::not_found();
        assert_eq!(Error::from(SampleError::Passed(bare.clone())), bare);
        let limited = Error::rate_limited("kv/a", std::time::Duration::from_secs(3));
        let passed = Error::from(SampleError::Passed(limited.clone()));
        assert_eq!(passed, limited);
        assert_eq!(
            passed.retry_after(),
            Some(std::time::Duration::from_secs(3))
        );
        // The other variants of the same enum still convert as usual.
        let inner = Error::from(SampleError::Inner(Error::not_found()));
        assert_eq!(inner.kind(), ErrorKind::NotFound);
        assert_eq!(inner.messages(), ["storage: "]);
    }
}
