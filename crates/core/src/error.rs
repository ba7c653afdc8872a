//! The core's one typed error, so that every failure the core reports
//! (unseal, rekey and root generation, the mount table and the router,
//! policies, response wrapping, the `sys/` endpoints) carries its
//! [`ErrorKind`](coffer_types::ErrorKind), declared once, and converts into
//! Coffer's [`Error`] with `?` or `.into()`. The messages are Vault's, word
//! for word: clients and tests match them.

use coffer_audit::AuditError;
use coffer_barrier::BarrierError;
use coffer_crypto::CryptoError;
use coffer_policy::PolicyError;
use coffer_storage::StorageError;
use coffer_types::{DurationError, Error};

/// Why the core refused a request or failed. No variant carries a secret:
/// they hold names (fields, mounts, policies), paths, client-given
/// non-secret values (a nonce, a format name) and source errors, never a
/// token, unseal key, key share or OTP.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    // ----- Generic request errors -----
    /// The path has no handler for the operation (405).
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// A required body parameter is absent (`missing required parameter 'key'`).
    #[error("missing required parameter '{0}'")]
    MissingParameter(String),
    /// A body field that must be a string is not.
    #[error("'{0}' must be a string")]
    NotAString(String),
    /// A body field that must be a list of strings is not.
    #[error("'{0}' must be a list of strings")]
    NotAStringList(String),
    /// A mount-tuning field that must be a list of strings is not
    /// (the name without quotes, as Vault writes it).
    #[error("{0} must be a list of strings")]
    TuneNotAStringList(String),
    /// A field that must be a non-negative integer is not (`sys/init`).
    #[error("{0} must be a non-negative integer")]
    NotANonNegativeInteger(String),
    /// A rekey field that must be a non-negative integer is not.
    #[error("{0} must be specified as a non-negative integer")]
    NotSpecifiedAsNonNegativeInteger(String),
    /// A field that must be a boolean is not.
    #[error("{0} must be a boolean")]
    NotABoolean(String),
    /// A required field of `sys/init` is absent.
    #[error("{0} must be specified")]
    MustBeSpecified(&'static str),
    /// A required value of a request is absent (`missing token`, `missing path`).
    #[error("missing {0}")]
    Missing(&'static str),
    /// The given nonce is not the one of the operation in progress. (A
    /// nonce is not a secret: the status endpoints show it.)
    #[error("incorrect nonce supplied: {0}")]
    IncorrectNonce(String),
    /// A request path with a NUL byte.
    #[error("invalid request path: contains NUL")]
    PathContainsNul,
    /// A request path with a `.` or `..` segment.
    #[error("invalid request path: contains a '.' or '..' segment")]
    PathDotSegment,
    /// No mount serves the request path.
    #[error("no handler for route {0:?}. route entry not found.")]
    NoRoute(String),
    /// The mount serving the path is being moved.
    #[error("no handler for route {0:?}. route entry is tainted.")]
    RouteTainted(String),

    // ----- Seal, unseal, init -----
    /// `sys/init` on an initialised server.
    #[error("Vault is already initialized")]
    AlreadyInitialized,
    /// An operation that needs a seal configuration before `sys/init`.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// `sys/unseal` without a key and without `reset`.
    #[error("'key' must be specified in request body as JSON, or 'reset' set to true")]
    UnsealKeyMissing,
    /// A key share of the wrong length.
    #[error("invalid key: expected {expected} bytes, got {got}")]
    UnsealKeyLength {
        /// The length of a share of this seal.
        expected: usize,
        /// The length of the given share.
        got: usize,
    },
    /// The combined shares do not open the barrier.
    #[error(
        "Error unsealing: the key shares do not open this Vault (wrong or mismatched keys); progress has been reset"
    )]
    UnsealWrongKeys,
    /// Fewer shares than the threshold (only reached if the threshold check
    /// is bypassed).
    #[error("not enough key shares to unseal")]
    NotEnoughShares,
    /// `stored_shares` on `sys/init` with the Shamir seal.
    #[error("stored keys are not supported by the current seal type")]
    StoredKeysUnsupported,
    /// The stored seal configuration does not decode.
    #[error("seal configuration is corrupt: {0}")]
    SealConfigCorrupt(serde_json::Error),
    /// A `sys/seal-status`-style status code parameter that does not parse.
    #[error("invalid status code for {name}: {text:?}")]
    InvalidStatusCode {
        /// The parameter name.
        name: String,
        /// The given text.
        text: String,
    },

    // ----- Key shares -----
    /// An empty `key`.
    #[error("missing required parameter 'key'")]
    KeyMissing,
    /// A `key` that is neither hex nor base64.
    #[error("'key' must be a valid hex or base64 string")]
    KeyEncoding,
    /// The same share given twice.
    #[error("given key has already been provided during this generation operation")]
    DuplicateShare,
    /// Combining without any share.
    #[error("no key shares provided")]
    NoShares,
    /// The shares do not combine.
    #[error("failed to combine key shares: {0}")]
    CombineShares(CryptoError),
    /// The shares combine to a key of the wrong length.
    #[error("combined key has the wrong length: the key shares are invalid")]
    CombinedKeyLength,
    /// `secret_threshold` above 255.
    #[error("secret_threshold too large")]
    ThresholdTooLarge,
    /// `secret_shares` above 255.
    #[error("secret_shares too large")]
    SharesTooLarge,
    /// Splitting the key failed.
    #[error("failed to split the unseal key: {0}")]
    SplitKey(CryptoError),
    /// `secret_shares` of zero.
    #[error("shares must be at least one")]
    ZeroShares,
    /// `secret_threshold` of zero.
    #[error("threshold must be at least one")]
    ZeroThreshold,
    /// A threshold of one with several shares.
    #[error("threshold must be greater than one for multiple shares")]
    ThresholdOneOfMany,
    /// More than 255 shares.
    #[error("shares must be less than 256")]
    TooManyShares,
    /// A threshold above the share count.
    #[error("threshold cannot be larger than shares")]
    ThresholdAboveShares,

    // ----- Rekey -----
    /// A rekey is already in progress.
    #[error("rekey already in progress")]
    RekeyInProgress,
    /// No rekey is in progress.
    #[error("no rekey in progress")]
    NoRekey,
    /// The rekey waits for the verification of its new shares.
    #[error("rekey is awaiting verification of the new shares")]
    RekeyAwaitingVerification,
    /// The current shares given to a rekey do not open the barrier.
    #[error("the key shares given do not match the current unseal key; progress has been reset")]
    RekeyWrongKeys,
    /// No rekey verification is in progress.
    #[error("no rekey verification in progress")]
    NoRekeyVerification,
    /// The new shares given to the verification do not match.
    #[error("the new key shares given do not match; verification progress has been reset")]
    RekeyVerifyMismatch,
    /// No backup of rekeyed shares is stored.
    #[error("no backed-up keys found")]
    NoBackup,
    /// A stored backup share is not hex.
    #[error("error decoding hex-encoded backup key")]
    BackupHex,
    /// Storage failed while handling the rekey backup.
    #[error("{doing}: {source}")]
    BackupStorage {
        /// Vault's description of the step.
        doing: &'static str,
        /// The storage error.
        source: StorageError,
    },

    // ----- Root generation -----
    /// An `otp` of the wrong length.
    #[error("OTP string is wrong length")]
    OtpLength,
    /// A root generation is already in progress.
    #[error("root generation already in progress")]
    RootGenerationInProgress,
    /// No root generation is in progress.
    #[error("no root generation in progress")]
    NoRootGeneration,
    /// The shares given to root generation do not open the barrier.
    #[error("the key shares given do not match the unseal key; progress has been reset")]
    RootGenerationWrongKeys,
    /// The attempt's state disappeared while it completed.
    #[error("root generation state vanished")]
    RootGenerationVanished,
    /// The token and the OTP it is XORed with differ in length.
    #[error("root token and OTP lengths differ")]
    OtpTokenLength,

    // ----- PGP -----
    /// A PGP key that is not valid base64.
    #[error("{context}error decoding given PGP key: {why}")]
    PgpKeyEncoding {
        /// Where the key was given (`invalid seal configuration: `), or empty.
        context: String,
        /// Why it did not decode.
        why: String,
    },
    /// A PGP key that does not parse.
    #[error("{context}error parsing given PGP key: {why}")]
    PgpKeyParse {
        /// Where the key was given, or empty.
        context: String,
        /// Why it did not parse.
        why: String,
    },
    /// Reading a PGP key failed otherwise.
    #[error("reading a PGP key: {0}")]
    PgpKeyRead(CryptoError),
    /// Shares and keys of different counts (a programming error).
    #[error("mismatch between number items to encrypt and number of PGP keys")]
    PgpCountMismatch,
    /// Encrypting to a PGP key failed.
    #[error("error encrypting PGP message: {0}")]
    PgpEncrypt(CryptoError),
    /// `sys/init` with a PGP key count other than the share count.
    #[error(
        "invalid seal configuration: count mismatch between number of provided PGP keys and number of shares"
    )]
    InitPgpCount,
    /// A rekey backup without PGP keys.
    #[error("cannot request a backup of the new keys without providing PGP keys for encryption")]
    BackupWithoutPgp,
    /// A rekey with a PGP key count other than the share count.
    #[error("incorrect number of PGP keys for rekey")]
    RekeyPgpCount,

    // ----- Mounts -----
    /// An empty mount path.
    #[error("path cannot be empty")]
    EmptyMountPath,
    /// A mount path with empty, `.` or `..` segments.
    #[error("invalid mount path {0:?}")]
    InvalidMountPath(String),
    /// A stored mount table that does not decode.
    #[error("mount table {key} is corrupt: {source}")]
    MountTableCorrupt {
        /// The table's storage key.
        key: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// A mount table is missing from storage (`mount`/`auth`).
    #[error("{0} table is missing from storage")]
    TableMissing(&'static str),
    /// A core mount (identity, cubbyhole) is missing.
    #[error("the {0} mount is missing")]
    CoreMountMissing(&'static str),
    /// A stored mount type that this server's catalog does not have.
    #[error("mount type {0:?} is not in this server's catalog")]
    NotInCatalog(String),
    /// Mounting under a reserved prefix.
    #[error("cannot mount under {0}")]
    ReservedMountPath(String),
    /// Mounting where a mount already is.
    #[error("path is already in use at {0}")]
    MountPathInUse(String),
    /// Unmounting a protected mount.
    #[error("cannot unmount {0:?}")]
    CannotUnmount(String),
    /// No mount at the path given.
    #[error("no mount at {0}")]
    NoMountAt(String),
    /// Tuning a path with no mount (`No secret engine mounted at x/.`).
    #[error("No {kind} mounted at {path}.")]
    NothingMounted {
        /// `secret engine` or `auth engine`.
        kind: &'static str,
        /// The path.
        path: String,
    },
    /// `force_no_cache` is not a boolean.
    #[error("force_no_cache must be a boolean")]
    ForceNoCacheNotBool,
    /// `listing_visibility` is not a string.
    #[error("listing_visibility must be a string")]
    ListingVisibilityNotString,
    /// `listing_visibility` is not one of Vault's values.
    #[error("invalid listing_visibility {0:?}")]
    InvalidListingVisibility(String),
    /// A tuned TTL that does not parse.
    #[error("{name}: {source}")]
    TuneTtl {
        /// The field name.
        name: String,
        /// Why it did not parse.
        source: DurationError,
    },
    /// A tuned max TTL above the system's.
    #[error("given max_lease_ttl is greater than system max lease TTL")]
    MaxTtlAboveSystem,
    /// A tuned default TTL above the max.
    #[error("given default_lease_ttl is greater than given max_lease_ttl")]
    DefaultTtlAboveMax,
    /// A mount entry that did not encode as a JSON object.
    #[error("mount entry did not encode as an object")]
    MountEntryNotObject,
    /// `type` missing when enabling a mount.
    #[error("backend type must be specified as a string")]
    BackendTypeMissing,
    /// Changing `options.version` of a KV mount.
    #[error("changing the KV version of an existing mount is not supported yet")]
    KvVersionChange,

    // ----- Remount -----
    /// `from` or `to` missing.
    #[error("both 'from' and 'to' path must be specified as a string")]
    RemountPathsMissing,
    /// A remount path with trailing whitespace.
    #[error("'{0}' path cannot contain trailing whitespace")]
    RemountTrailingSpace(&'static str),
    /// A remount destination with non-printable characters.
    #[error("invalid destination mount: path cannot contain non-printable characters")]
    RemountNonPrintable,
    /// Moving an auth mount out of `auth/`.
    #[error("cannot remount auth mount to non-auth mount {0:?}")]
    RemountAuthToNonAuth(String),
    /// Moving a protected mount.
    #[error("cannot remount {0:?}")]
    CannotRemount(String),
    /// Moving to a protected auth path (quoted).
    #[error("cannot remount to destination {0:?}")]
    RemountProtectedAuthDestination(String),
    /// Moving to a protected secrets path (unquoted, as Vault writes it).
    #[error("cannot remount to destination {0}")]
    RemountProtectedDestination(String),
    /// No mount at the remount source.
    #[error("no matching mount at {0:?}")]
    NoMatchingMount(String),
    /// The remount destination conflicts with a mount.
    #[error("path already in use at {0:?}")]
    PathAlreadyInUse(String),
    /// The remount destination is not a valid mount path.
    #[error("invalid destination mount: {0}")]
    InvalidDestination(Error),

    // ----- Policies and ACLs -----
    /// A stored policy that is not UTF-8.
    #[error("stored policy {0:?} is not UTF-8")]
    StoredPolicyNotUtf8(String),
    /// A stored policy that no longer parses.
    #[error("stored policy {name:?} no longer parses: {source}")]
    StoredPolicyInvalid {
        /// The policy name.
        name: String,
        /// The parse error.
        source: PolicyError,
    },
    /// The built-in response-wrapping policy does not parse.
    #[error("built-in response-wrapping policy: {0}")]
    BuiltinPolicy(PolicyError),
    /// A policy the client gave (or named) is refused (Vault's text).
    #[error("{0}")]
    Policy(PolicyError),
    /// A policy name with characters Vault refuses.
    #[error("invalid policy name {0:?}")]
    InvalidPolicyName(String),
    /// The policies do not compile into an ACL.
    #[error("compiling ACL: {0}")]
    CompileAcl(PolicyError),
    /// `sys/policy` without a policy text.
    #[error("'policy' parameter not supplied or empty")]
    PolicyMissing,
    /// The token of `capabilities` is not a token.
    #[error("invalid token")]
    InvalidToken,
    /// The accessor of `capabilities-accessor` is not an accessor.
    #[error("invalid accessor")]
    InvalidAccessor,
    /// The UI's preflight check found no access.
    #[error(
        "Preflight capability check returned 403, please ensure client's policies grant access to path \"{0}\""
    )]
    PreflightDenied(String),

    // ----- Response wrapping -----
    /// A wrapping TTL of zero.
    #[error("wrapping TTL must be greater than zero")]
    WrapTtlZero,
    /// A wrapping TTL above 768h.
    #[error("wrapping TTL is greater than the maximum of 768h")]
    WrapTtlTooLong,
    /// A wrapping token that is not one.
    #[error("wrapping token is not valid or does not exist")]
    InvalidWrappingToken,
    /// `sys/wrapping/wrap` without a TTL.
    #[error("wrapping requested but no TTL given: set X-Vault-Wrap-TTL")]
    WrapWithoutTtl,
    /// `sys/wrapping/wrap` without data.
    #[error("no data provided")]
    NoData,

    // ----- Leases, logins, jobs -----
    /// Renewing or revoking a token lease through the lease endpoints.
    #[error("token leases are managed by the token store")]
    TokenLease,
    /// A lease whose mount is gone.
    #[error("no mount serves lease {0:?} any more")]
    LeaseMountGone(String),
    /// Renewing a login whose auth method is gone.
    #[error("the auth method that issued this token is no longer mounted")]
    LoginMountGone,
    /// A scheduled job whose mount is gone.
    #[error("no mount serves the job {0:?}")]
    JobMountGone(String),
    /// The audit broker refused the request.
    #[error("audit logging failed: the request was refused")]
    AuditRefused,

    // ----- CORS -----
    /// Enabling CORS without origins.
    #[error("at least one origin or the wildcard must be provided")]
    CorsNoOrigin,
    /// `*` among other origins.
    #[error("to allow all origins the '*' must be the only value for allowed_origins")]
    CorsWildcardNotAlone,

    // ----- Tools, plugins -----
    /// A `sys/tools/random` byte count in the URL that does not parse.
    #[error("error parsing url-set byte count: strconv.Atoi: parsing {0:?}: invalid syntax")]
    UrlByteCount(String),
    /// `bytes` below one.
    #[error("\"bytes\" cannot be less than 1")]
    BytesTooFew,
    /// `bytes` above the maximum.
    #[error("\"bytes\" should be less than {0}")]
    BytesTooMany(i64),
    /// `bytes` does not fit in memory.
    #[error("\"bytes\" is out of range")]
    BytesOutOfRange,
    /// An output format other than hex or base64 (quoted, `sys/tools/random`).
    #[error("unsupported encoding format {0:?}; must be \"hex\" or \"base64\"")]
    RandomFormat(String),
    /// An output format other than hex or base64 (unquoted, `sys/tools/hash`).
    #[error("unsupported encoding format {0}; must be \"hex\" or \"base64\"")]
    HashFormat(String),
    /// An entropy source Vault does not know.
    #[error("unsupported entropy source {0:?}; must be \"platform\" or \"seal\", or \"all\"")]
    EntropySource(String),
    /// Hash input that is not base64.
    #[error("unable to decode input as base64: {0}")]
    HashInput(base64::DecodeError),
    /// A hash algorithm Vault does not know.
    #[error("unsupported algorithm {0}")]
    HashAlgorithm(String),
    /// A plugin type Vault does not know.
    #[error("{0:?} is not a supported plugin type")]
    PluginType(String),
    /// Registering a plugin in the catalog (only built-ins exist).
    #[error("{0}")]
    BuiltinOnly(&'static str),

    // ----- Internal failures with a typed source -----
    /// A crypto primitive failed (`generating nonce: ...`).
    #[error("{doing}: {source}")]
    Crypto {
        /// What the core was doing.
        doing: &'static str,
        /// The crypto error.
        source: CryptoError,
    },
    /// The barrier failed (`initializing the barrier: ...`).
    #[error("{doing}: {source}")]
    Barrier {
        /// What the core was doing.
        doing: &'static str,
        /// The barrier error.
        source: BarrierError,
    },
    /// The audit devices failed (`starting audit devices: ...`).
    #[error("{doing}: {source}")]
    Audit {
        /// What the core was doing.
        doing: &'static str,
        /// The audit error.
        source: AuditError,
    },
    /// JSON encoding or decoding of a stored record failed
    /// (`encoding mount table: ...`).
    #[error("{doing}: {source}")]
    Json {
        /// What the core was doing.
        doing: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A stored version record that does not decode.
    #[error("reading version record {name}: {source}")]
    VersionRecord {
        /// The record's key.
        name: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// A blocking task failed (`collecting host information: ...`).
    #[error("{doing}: {source}")]
    Task {
        /// What the core was doing.
        doing: &'static str,
        /// The join error.
        source: tokio::task::JoinError,
    },
    /// The core of a `sys/` piece was dropped.
    #[error("the server core is gone")]
    CoreGone,
}

coffer_types::error_kinds! {
    CoreError {
        UnsupportedOperation => UnsupportedOperation,
        NoRoute(_) | RouteTainted(_) => NotFound,
        MissingParameter(_)
        | NotAString(_)
        | NotAStringList(_)
        | TuneNotAStringList(_)
        | NotANonNegativeInteger(_)
        | NotSpecifiedAsNonNegativeInteger(_)
        | NotABoolean(_)
        | MustBeSpecified(_)
        | Missing(_)
        | IncorrectNonce(_)
        | PathContainsNul
        | PathDotSegment
        | AlreadyInitialized
        | NotInitialized
        | UnsealKeyMissing
        | UnsealKeyLength { .. }
        | UnsealWrongKeys
        | NotEnoughShares
        | StoredKeysUnsupported
        | InvalidStatusCode { .. }
        | KeyMissing
        | KeyEncoding
        | DuplicateShare
        | NoShares
        | CombineShares(_)
        | CombinedKeyLength
        | ThresholdTooLarge
        | SharesTooLarge
        | ZeroShares
        | ZeroThreshold
        | ThresholdOneOfMany
        | TooManyShares
        | ThresholdAboveShares
        | RekeyInProgress
        | NoRekey
        | RekeyAwaitingVerification
        | RekeyWrongKeys
        | NoRekeyVerification
        | RekeyVerifyMismatch
        | NoBackup
        | OtpLength
        | RootGenerationInProgress
        | NoRootGeneration
        | RootGenerationWrongKeys
        | PgpKeyEncoding { .. }
        | PgpKeyParse { .. }
        | InitPgpCount
        | BackupWithoutPgp
        | RekeyPgpCount
        | EmptyMountPath
        | InvalidMountPath(_)
        | ReservedMountPath(_)
        | MountPathInUse(_)
        | CannotUnmount(_)
        | NoMountAt(_)
        | NothingMounted { .. }
        | ForceNoCacheNotBool
        | ListingVisibilityNotString
        | InvalidListingVisibility(_)
        | TuneTtl { .. }
        | MaxTtlAboveSystem
        | DefaultTtlAboveMax
        | BackendTypeMissing
        | KvVersionChange
        | RemountPathsMissing
        | RemountTrailingSpace(_)
        | RemountNonPrintable
        | RemountAuthToNonAuth(_)
        | CannotRemount(_)
        | RemountProtectedAuthDestination(_)
        | RemountProtectedDestination(_)
        | NoMatchingMount(_)
        | PathAlreadyInUse(_)
        | InvalidDestination(_)
        | Policy(_)
        | InvalidPolicyName(_)
        | PolicyMissing
        | InvalidToken
        | InvalidAccessor
        | PreflightDenied(_)
        | WrapTtlZero
        | WrapTtlTooLong
        | InvalidWrappingToken
        | WrapWithoutTtl
        | NoData
        | TokenLease
        | LeaseMountGone(_)
        | LoginMountGone
        | JobMountGone(_)
        | CorsNoOrigin
        | CorsWildcardNotAlone
        | UrlByteCount(_)
        | BytesTooFew
        | BytesTooMany(_)
        | BytesOutOfRange
        | RandomFormat(_)
        | HashFormat(_)
        | EntropySource(_)
        | HashInput(_)
        | HashAlgorithm(_)
        | PluginType(_)
        | BuiltinOnly(_) => InvalidRequest,
        SealConfigCorrupt(_)
        | SplitKey(_)
        | BackupHex
        | BackupStorage { .. }
        | RootGenerationVanished
        | OtpTokenLength
        | PgpKeyRead(_)
        | PgpCountMismatch
        | PgpEncrypt(_)
        | MountTableCorrupt { .. }
        | TableMissing(_)
        | CoreMountMissing(_)
        | NotInCatalog(_)
        | MountEntryNotObject
        | StoredPolicyNotUtf8(_)
        | StoredPolicyInvalid { .. }
        | BuiltinPolicy(_)
        | CompileAcl(_)
        | AuditRefused
        | Crypto { .. }
        | Barrier { .. }
        | Audit { .. }
        | Json { .. }
        | VersionRecord { .. }
        | Task { .. }
        | CoreGone => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_error() -> serde_json::Error {
        serde_json::from_str::<serde_json::Value>("{").unwrap_err()
    }

    fn policy_error() -> PolicyError {
        PolicyError::CannotUpdate("root".into())
    }

    async fn join_error() -> tokio::task::JoinError {
        let task = tokio::spawn(std::future::pending::<()>());
        task.abort();
        task.await.unwrap_err()
    }

    /// One of every variant with the status Vault answers it with.
    async fn every_variant() -> Vec<(CoreError, u16)> {
        use CoreError as E;
        let s = String::from;
        vec![
            (E::UnsupportedOperation, 405),
            (E::NoRoute(s("kv/a")), 404),
            (E::RouteTainted(s("kv/a")), 404),
            (E::MissingParameter(s("nonce")), 400),
            (E::NotAString(s("otp")), 400),
            (E::NotAStringList(s("pgp_keys")), 400),
            (E::TuneNotAStringList(s("audit_non_hmac_request_keys")), 400),
            (E::NotANonNegativeInteger(s("secret_shares")), 400),
            (E::NotSpecifiedAsNonNegativeInteger(s("secret_shares")), 400),
            (E::NotABoolean(s("reset")), 400),
            (E::MustBeSpecified("secret_shares"), 400),
            (E::Missing("token"), 400),
            (E::IncorrectNonce(s("abc")), 400),
            (E::PathContainsNul, 400),
            (E::PathDotSegment, 400),
            (E::AlreadyInitialized, 400),
            (E::NotInitialized, 400),
            (E::UnsealKeyMissing, 400),
            (
                E::UnsealKeyLength {
                    expected: 33,
                    got: 3,
                },
                400,
            ),
            (E::UnsealWrongKeys, 400),
            (E::NotEnoughShares, 400),
            (E::StoredKeysUnsupported, 400),
            (E::SealConfigCorrupt(json_error()), 500),
            (
                E::InvalidStatusCode {
                    name: s("sealedcode"),
                    text: s("x"),
                },
                400,
            ),
            (E::KeyMissing, 400),
            (E::KeyEncoding, 400),
            (E::DuplicateShare, 400),
            (E::NoShares, 400),
            (E::CombineShares(CryptoError::InvalidShares(s("x"))), 400),
            (E::CombinedKeyLength, 400),
            (E::ThresholdTooLarge, 400),
            (E::SharesTooLarge, 400),
            (E::SplitKey(CryptoError::Random), 500),
            (E::ZeroShares, 400),
            (E::ZeroThreshold, 400),
            (E::ThresholdOneOfMany, 400),
            (E::TooManyShares, 400),
            (E::ThresholdAboveShares, 400),
            (E::RekeyInProgress, 400),
            (E::NoRekey, 400),
            (E::RekeyAwaitingVerification, 400),
            (E::RekeyWrongKeys, 400),
            (E::NoRekeyVerification, 400),
            (E::RekeyVerifyMismatch, 400),
            (E::NoBackup, 400),
            (E::BackupHex, 500),
            (
                E::BackupStorage {
                    doing: "error deleting backup keys",
                    source: StorageError::Backend(s("down")),
                },
                500,
            ),
            (E::OtpLength, 400),
            (E::RootGenerationInProgress, 400),
            (E::NoRootGeneration, 400),
            (E::RootGenerationWrongKeys, 400),
            (E::RootGenerationVanished, 500),
            (E::OtpTokenLength, 500),
            (
                E::PgpKeyEncoding {
                    context: String::new(),
                    why: s("bad base64"),
                },
                400,
            ),
            (
                E::PgpKeyParse {
                    context: s("invalid seal configuration: "),
                    why: s("no key"),
                },
                400,
            ),
            (E::PgpKeyRead(CryptoError::Random), 500),
            (E::PgpCountMismatch, 500),
            (E::PgpEncrypt(CryptoError::Encrypt), 500),
            (E::InitPgpCount, 400),
            (E::BackupWithoutPgp, 400),
            (E::RekeyPgpCount, 400),
            (E::EmptyMountPath, 400),
            (E::InvalidMountPath(s("a//b")), 400),
            (
                E::MountTableCorrupt {
                    key: s("core/mounts"),
                    source: json_error(),
                },
                500,
            ),
            (E::TableMissing("auth"), 500),
            (E::CoreMountMissing("cubbyhole"), 500),
            (E::NotInCatalog(s("nope")), 500),
            (E::ReservedMountPath(s("sys/")), 400),
            (E::MountPathInUse(s("kv/")), 400),
            (E::CannotUnmount(s("sys/")), 400),
            (E::NoMountAt(s("kv/")), 400),
            (
                E::NothingMounted {
                    kind: "secret engine",
                    path: s("x/"),
                },
                400,
            ),
            (E::ForceNoCacheNotBool, 400),
            (E::ListingVisibilityNotString, 400),
            (E::InvalidListingVisibility(s("public")), 400),
            (
                E::TuneTtl {
                    name: s("default_lease_ttl"),
                    source: coffer_types::parse_duration("soon").unwrap_err(),
                },
                400,
            ),
            (E::MaxTtlAboveSystem, 400),
            (E::DefaultTtlAboveMax, 400),
            (E::MountEntryNotObject, 500),
            (E::BackendTypeMissing, 400),
            (E::KvVersionChange, 400),
            (E::RemountPathsMissing, 400),
            (E::RemountTrailingSpace("to"), 400),
            (E::RemountNonPrintable, 400),
            (E::RemountAuthToNonAuth(s("kv")), 400),
            (E::CannotRemount(s("sys/")), 400),
            (E::RemountProtectedAuthDestination(s("auth/token")), 400),
            (E::RemountProtectedDestination(s("sys/x")), 400),
            (E::NoMatchingMount(s("kv/")), 400),
            (E::PathAlreadyInUse(s("kv/")), 400),
            (
                E::InvalidDestination(Error::invalid("path cannot be empty")),
                400,
            ),
            (E::StoredPolicyNotUtf8(s("p")), 500),
            (
                E::StoredPolicyInvalid {
                    name: s("p"),
                    source: policy_error(),
                },
                500,
            ),
            (E::BuiltinPolicy(policy_error()), 500),
            (E::Policy(policy_error()), 400),
            (E::InvalidPolicyName(s("a b")), 400),
            (E::CompileAcl(policy_error()), 500),
            (E::PolicyMissing, 400),
            (E::InvalidToken, 400),
            (E::InvalidAccessor, 400),
            (E::PreflightDenied(s("kv/")), 400),
            (E::WrapTtlZero, 400),
            (E::WrapTtlTooLong, 400),
            (E::InvalidWrappingToken, 400),
            (E::WrapWithoutTtl, 400),
            (E::NoData, 400),
            (E::TokenLease, 400),
            (E::LeaseMountGone(s("kv/x/1")), 400),
            (E::LoginMountGone, 400),
            (E::JobMountGone(s("db/rotate")), 400),
            (E::AuditRefused, 500),
            (E::CorsNoOrigin, 400),
            (E::CorsWildcardNotAlone, 400),
            (E::UrlByteCount(s("x")), 400),
            (E::BytesTooFew, 400),
            (E::BytesTooMany(1024), 400),
            (E::BytesOutOfRange, 400),
            (E::RandomFormat(s("x")), 400),
            (E::HashFormat(s("x")), 400),
            (E::EntropySource(s("x")), 400),
            (
                E::HashInput({
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode("!")
                        .unwrap_err()
                }),
                400,
            ),
            (E::HashAlgorithm(s("md4")), 400),
            (E::PluginType(s("x")), 400),
            (E::BuiltinOnly("only built-in plugins"), 400),
            (
                E::Crypto {
                    doing: "generating nonce",
                    source: CryptoError::Random,
                },
                500,
            ),
            (
                E::Barrier {
                    doing: "unsealing",
                    source: BarrierError::NotInitialized,
                },
                500,
            ),
            (
                E::Audit {
                    doing: "reopening audit devices",
                    source: AuditError::Internal(s("x")),
                },
                500,
            ),
            (
                E::Json {
                    doing: "encoding mount table",
                    source: json_error(),
                },
                500,
            ),
            (
                E::VersionRecord {
                    name: s("1.0"),
                    source: json_error(),
                },
                500,
            ),
            (
                E::Task {
                    doing: "collecting host information",
                    source: join_error().await,
                },
                500,
            ),
            (E::CoreGone, 500),
        ]
    }

    #[tokio::test]
    async fn each_variant_maps_to_its_status() {
        for (err, status) in every_variant().await {
            let shown = err.to_string();
            let err = Error::from(err);
            assert_eq!(err.status(), status, "{shown}");
            assert_eq!(err.messages(), [shown]);
        }
    }

    #[test]
    fn messages_are_vaults() {
        let cases = [
            (
                CoreError::NoRoute("kv/a".into()),
                "no handler for route \"kv/a\". route entry not found.",
            ),
            (
                CoreError::MissingParameter("key".into()),
                "missing required parameter 'key'",
            ),
            (
                CoreError::UnsealKeyLength {
                    expected: 33,
                    got: 3,
                },
                "invalid key: expected 33 bytes, got 3",
            ),
            (
                CoreError::NothingMounted {
                    kind: "auth engine",
                    path: "x/".into(),
                },
                "No auth engine mounted at x/.",
            ),
            (
                CoreError::RemountProtectedAuthDestination("auth/token".into()),
                "cannot remount to destination \"auth/token\"",
            ),
            (
                CoreError::RemountProtectedDestination("sys/x".into()),
                "cannot remount to destination sys/x",
            ),
            (
                CoreError::RandomFormat("x".into()),
                "unsupported encoding format \"x\"; must be \"hex\" or \"base64\"",
            ),
            (
                CoreError::HashFormat("x".into()),
                "unsupported encoding format x; must be \"hex\" or \"base64\"",
            ),
            (
                CoreError::PreflightDenied("kv/".into()),
                "Preflight capability check returned 403, please ensure client's policies grant access to path \"kv/\"",
            ),
            (
                CoreError::Crypto {
                    doing: "generating nonce",
                    source: CryptoError::Random,
                },
                &format!("generating nonce: {}", CryptoError::Random),
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
