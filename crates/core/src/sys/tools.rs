//! `sys/tools/random` and `sys/tools/hash`, and the `sys/` piece that
//! serves them with the other endpoints Vault users reach for that have no
//! state of their own service: `sys/host-info` ([`super::host_info`]),
//! `sys/version-history` ([`super::version_history`]) and
//! `sys/plugins/catalog` ([`super::plugins`]).
//!
//! The piece is a [`Backend`] over one [`PathTable`] whose patterns are
//! relative to `sys/`; each path family lives in its own file and
//! contributes its [`Path`]s, typed handlers over [`ToolsPiece`].

use crate::error::CoreError;
use base64::Engine as _;
use coffer_crypto::DigestAlgorithm;
use coffer_sdk::catalog::Catalog;
use coffer_sdk::{
    Backend, Call, FieldDef, FieldDefault, FieldType, Path, PathDef, PathTable, Routes, handler,
};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value};

/// The `sys/` piece of tools, host information, version history and the
/// plugin catalog.
pub(crate) struct ToolsPiece {
    table: PathTable<ToolsPiece>,
    /// The types this server can mount, listed by `sys/plugins/catalog`.
    pub(super) catalog: Catalog,
}

impl std::fmt::Debug for ToolsPiece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolsPiece")
            .field("paths", &self.table)
            .finish_non_exhaustive()
    }
}

impl ToolsPiece {
    /// The piece over the server's catalog.
    pub(crate) fn new(catalog: Catalog) -> Self {
        let mut paths = tool_paths();
        paths.extend(super::host_info::paths());
        paths.extend(super::version_history::paths());
        paths.extend(super::plugins::paths());
        Self {
            table: PathTable::new(paths),
            catalog,
        }
    }
}

impl Backend for ToolsPiece {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

/// Vault's limit on `sys/tools/random` (128 KiB, `random.APIMaxBytes`
/// before Vault added DRBG mode).
pub(crate) const RANDOM_MAX_BYTES: i64 = 128 * 1024;

const RANDOM_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "urlbytes",
        FieldType::String,
        "The number of bytes to generate (POST URL parameter)",
    ),
    FieldDef::new(
        "bytes",
        FieldType::Int,
        "The number of bytes to generate (POST body parameter). Defaults to 32 (256 bits).",
    )
    .default(FieldDefault::Int(32)),
    FieldDef::new(
        "format",
        FieldType::String,
        "Encoding format to use. Can be \"hex\" or \"base64\". Defaults to \"base64\".",
    )
    .default(FieldDefault::Str("base64")),
    FieldDef::new(
        "source",
        FieldType::String,
        "Which system to source random data from, \"platform\", \"seal\", or \"all\". \
         Coffer has only the platform's CSPRNG: \"seal\" and \"all\" are accepted and \
         served from it.",
    )
    .default(FieldDefault::Str("platform")),
];

const HASH_FIELDS: &[FieldDef] = &[
    FieldDef::new("input", FieldType::String, "The base64-encoded input data")
        .required()
        .sensitive(),
    FieldDef::new(
        "algorithm",
        FieldType::String,
        "Algorithm to use (POST body parameter). Valid values are: sha2-224, sha2-256, \
         sha2-384, sha2-512, sha3-256, sha3-384, sha3-512. Defaults to \"sha2-256\". \
         (Vault's sha3-224 is not available in Coffer.)",
    )
    .default(FieldDefault::Str("sha2-256")),
    FieldDef::new(
        "urlalgorithm",
        FieldType::String,
        "Algorithm to use (POST URL parameter)",
    ),
    FieldDef::new(
        "format",
        FieldType::String,
        "Encoding format to use. Can be \"hex\" or \"base64\". Defaults to \"hex\".",
    )
    .default(FieldDefault::Str("hex")),
];

const RANDOM_SYNOPSIS: &str = "Generate random bytes";
const RANDOM_DESCRIPTION: &str = "This function can be used to generate high-entropy random bytes. \
     The byte count (at most 131072) may be given in the body or as the last URL segment, and the \
     source as the segment before it. Coffer's only entropy source is the platform's CSPRNG: the \
     sources \"seal\" and \"all\" are accepted and return platform bytes (\"seal\" with Vault's \
     warning that no entropy augmentation is available).";

fn random_def(pattern: &'static str) -> PathDef {
    PathDef {
        pattern,
        fields: RANDOM_FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: RANDOM_SYNOPSIS,
        description: RANDOM_DESCRIPTION,
    }
}

fn hash_def(pattern: &'static str) -> PathDef {
    PathDef {
        pattern,
        fields: HASH_FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Generate a hash sum for input data",
        description: "Generates a hash sum of the given algorithm against the given input data. \
             Coffer supports sha2-224, sha2-256, sha2-384, sha2-512, sha3-256, sha3-384 and \
             sha3-512; Vault's sha3-224 is refused as an unsupported algorithm.",
    }
}

/// `tools/random` with its URL forms, and `tools/hash` with its URL form.
/// Vault's `tools/random(/:source)(/:urlbytes)` is one pattern with two
/// optional segments; one segment is a source or a byte count (told apart
/// by the handler, as Vault does), so `tools/random/:source` also serves
/// `tools/random/:urlbytes`.
fn tool_paths() -> Vec<Path<ToolsPiece>> {
    vec![
        Path::new(random_def("tools/random")).update(handler!(random)),
        Path::new(random_def("tools/random/:source")).update(handler!(random)),
        Path::new(random_def("tools/random/:source/:urlbytes")).update(handler!(random)),
        Path::new(hash_def("tools/hash")).update(handler!(hash)),
        Path::new(hash_def("tools/hash/:urlalgorithm")).update(handler!(hash)),
    ]
}

fn valid_source(s: &str) -> bool {
    matches!(s, "" | "platform" | "seal" | "all")
}

/// Go's `strconv.Atoi` with its error text, for Vault's URL byte counts.
fn atoi(s: &str) -> Result<i64> {
    s.parse::<i64>()
        .map_err(|_| CoreError::UrlByteCount(s.to_owned()).into())
}

fn encode(bytes: &[u8], format: &str) -> String {
    if format == "hex" {
        hex::encode(bytes)
    } else {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// `sys/tools/random(/:source)(/:urlbytes)`: Vault's `HandleRandomAPI`.
async fn random(_: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let url_source = call.capture("source");
    let url_bytes = call.capture("urlbytes");
    let body_bytes = || -> Result<i64> { Ok(call.fields.get_int("bytes")?.unwrap_or(32)) };
    let body_source = call.fields.get_string("source")?;
    let (source, bytes) = if url_source.is_empty() {
        (body_source.unwrap_or_default(), body_bytes()?)
    } else if url_bytes.is_empty() && valid_source(url_source) {
        (url_source.to_owned(), body_bytes()?)
    } else if url_bytes.is_empty() {
        (body_source.unwrap_or_default(), atoi(url_source)?)
    } else {
        (url_source.to_owned(), atoi(url_bytes)?)
    };
    let format = call
        .fields
        .get_string("format")?
        .unwrap_or_else(|| "base64".to_owned());
    if bytes < 1 {
        return Err(CoreError::BytesTooFew.into());
    }
    if bytes > RANDOM_MAX_BYTES {
        return Err(CoreError::BytesTooMany(RANDOM_MAX_BYTES).into());
    }
    if format != "hex" && format != "base64" {
        return Err(CoreError::RandomFormat(format).into());
    }
    if !valid_source(&source) {
        return Err(CoreError::EntropySource(source).into());
    }
    let len = usize::try_from(bytes).map_err(|_| CoreError::BytesOutOfRange)?;
    let mut buf = vec![0u8; len];
    coffer_crypto::fill_random(&mut buf).map_err(|source| CoreError::Crypto {
        doing: "generating random bytes",
        source,
    })?;
    let mut data = Map::new();
    data.insert("random_bytes".into(), Value::String(encode(&buf, &format)));
    let mut resp = Response::with_data(data);
    if source == "seal" {
        resp = resp.warn("no seal/entropy augmentation available, using platform entropy source");
    }
    Ok(Some(resp))
}

/// Base64 as Go's `StdEncoding` reads it: padded, and lenient about the
/// unused bits of the last character (Vault's own sample input,
/// `adba32==`, has some set).
const GO_STD_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// `sys/tools/hash(/:urlalgorithm)`: Vault's `pathHashWrite`.
async fn hash(_: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let input = call.fields.get_string("input")?.unwrap_or_default();
    let format = call
        .fields
        .get_string("format")?
        .unwrap_or_else(|| "hex".to_owned());
    let algorithm = match call.capture("urlalgorithm") {
        "" => call
            .fields
            .get_string("algorithm")?
            .unwrap_or_else(|| "sha2-256".to_owned()),
        url => url.to_owned(),
    };
    let input = GO_STD_BASE64
        .decode(input.as_bytes())
        .map_err(CoreError::HashInput)?;
    if format != "hex" && format != "base64" {
        return Err(CoreError::HashFormat(format).into());
    }
    let algorithm = DigestAlgorithm::from_name(&algorithm)
        .ok_or_else(|| CoreError::HashAlgorithm(algorithm.clone()))?;
    let sum = coffer_crypto::digest(algorithm, &input);
    let mut data = Map::new();
    data.insert("sum".into(), Value::String(encode(&sum, &format)));
    Ok(Some(Response::with_data(data)))
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use coffer_sdk::{Context, ManualClock, MountConfig, Services};
    use coffer_storage::{MemoryStorage, Prefix, Storage, View};
    use coffer_types::Request;
    use serde_json::json;

    use super::*;

    /// A `sys/` context over in-memory storage and a clock stopped at
    /// 2023-11-14T22:13:20Z.
    pub(crate) fn ctx() -> (Context, Arc<ManualClock>) {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let ctx = Context {
            storage: View::new(mem, Prefix::new("sys/").unwrap()),
            config: MountConfig::default(),
            clock: clock.clone(),
            services: Services::default(),
        };
        (ctx, clock)
    }

    /// Sends `op path body` to a piece over the core's default catalog.
    pub(crate) async fn send(
        piece: &ToolsPiece,
        ctx: &Context,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        let mut req = Request::new(op, path);
        req.data = body.as_object().cloned().unwrap_or_default();
        piece.handle(ctx, &req).await
    }

    fn piece() -> ToolsPiece {
        ToolsPiece::new(crate::config::core_catalog())
    }

    async fn post(path: &str, body: Value) -> Result<Response> {
        let (ctx, _) = ctx();
        send(&piece(), &ctx, Operation::Update, path, body)
            .await
            .map(|r| r.expect("a response"))
    }

    fn field(resp: &Response, name: &str) -> String {
        resp.data.as_ref().unwrap()[name]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn message(r: Result<Response>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status(), e.messages()[0].clone())
    }

    #[tokio::test]
    async fn random_defaults_to_32_base64_bytes() {
        let resp = post("tools/random", json!({})).await.unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(field(&resp, "random_bytes"))
            .unwrap();
        assert_eq!(decoded.len(), 32);
        assert!(resp.warnings.is_empty());
        let again = post("tools/random", json!({})).await.unwrap();
        assert_ne!(field(&resp, "random_bytes"), field(&again, "random_bytes"));
    }

    #[tokio::test]
    async fn random_url_forms() {
        let hex_of = |r: &Response| hex::decode(field(r, "random_bytes")).unwrap().len();
        let r = post("tools/random/164", json!({"format": "hex"}))
            .await
            .unwrap();
        assert_eq!(hex_of(&r), 164);
        let r = post(
            "tools/random/platform",
            json!({"format": "hex", "bytes": 5}),
        )
        .await
        .unwrap();
        assert_eq!(hex_of(&r), 5);
        let r = post("tools/random/all/7", json!({"format": "hex"}))
            .await
            .unwrap();
        assert_eq!(hex_of(&r), 7);
        let r = post("tools/random/seal/3", json!({"format": "hex"}))
            .await
            .unwrap();
        assert_eq!(hex_of(&r), 3);
        assert_eq!(
            r.warnings,
            ["no seal/entropy augmentation available, using platform entropy source"]
        );
        let r = post("tools/random", json!({"bytes": "131072"}))
            .await
            .unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(field(&r, "random_bytes"))
                .unwrap()
                .len(),
            131_072
        );
    }

    #[tokio::test]
    async fn random_refuses_as_vault_does() {
        let cases = [
            (
                "tools/random",
                json!({"bytes": 0}),
                "\"bytes\" cannot be less than 1",
            ),
            (
                "tools/random/-4",
                json!({}),
                "\"bytes\" cannot be less than 1",
            ),
            (
                "tools/random/131073",
                json!({}),
                "\"bytes\" should be less than 131072",
            ),
            (
                "tools/random/abc",
                json!({}),
                "error parsing url-set byte count: strconv.Atoi: parsing \"abc\": invalid syntax",
            ),
            (
                "tools/random/platform/x",
                json!({}),
                "error parsing url-set byte count: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "tools/random",
                json!({"format": "raw"}),
                "unsupported encoding format \"raw\"; must be \"hex\" or \"base64\"",
            ),
            (
                "tools/random/hsm/8",
                json!({}),
                "unsupported entropy source \"hsm\"; must be \"platform\" or \"seal\", or \"all\"",
            ),
            (
                "tools/random",
                json!({"source": "hsm"}),
                "unsupported entropy source \"hsm\"; must be \"platform\" or \"seal\", or \"all\"",
            ),
        ];
        for (path, body, want) in cases {
            assert_eq!(
                message(post(path, body.clone()).await),
                (400, want.to_owned()),
                "{path} {body}"
            );
        }
        let (status, _) = message(post("tools/random", json!({"bytes": "many"})).await);
        assert_eq!(status, 400);
    }

    /// FIPS 180-4 and FIPS 202 "abc" examples through the endpoint.
    #[tokio::test]
    async fn hash_known_answers() {
        let abc = base64::engine::general_purpose::STANDARD.encode("abc");
        let r = post("tools/hash", json!({ "input": abc })).await.unwrap();
        assert_eq!(
            field(&r, "sum"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let r = post("tools/hash/sha2-224", json!({ "input": abc }))
            .await
            .unwrap();
        assert_eq!(
            field(&r, "sum"),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
        );
        let r = post(
            "tools/hash",
            json!({ "input": abc, "algorithm": "sha3-256", "format": "base64" }),
        )
        .await
        .unwrap();
        assert_eq!(
            hex::encode(
                base64::engine::general_purpose::STANDARD
                    .decode(field(&r, "sum"))
                    .unwrap()
            ),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        // The URL algorithm wins over the body's, as in Vault.
        let r = post(
            "tools/hash/sha2-512",
            json!({ "input": abc, "algorithm": "sha2-256" }),
        )
        .await
        .unwrap();
        assert!(field(&r, "sum").starts_with("ddaf35a193617aba"));
        // Vault's own sample payload decodes (Go ignores the unused bits).
        post("tools/hash/sha2-512", json!({"input": "adba32=="}))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn hash_refuses_as_vault_does() {
        let abc = base64::engine::general_purpose::STANDARD.encode("abc");
        assert_eq!(
            message(post("tools/hash/sha3-224", json!({ "input": abc })).await),
            (400, "unsupported algorithm sha3-224".to_owned())
        );
        assert_eq!(
            message(post("tools/hash", json!({ "input": abc, "algorithm": "md5" })).await),
            (400, "unsupported algorithm md5".to_owned())
        );
        assert_eq!(
            message(post("tools/hash", json!({ "input": abc, "format": "raw" })).await),
            (
                400,
                "unsupported encoding format raw; must be \"hex\" or \"base64\"".to_owned()
            )
        );
        let (status, text) = message(post("tools/hash", json!({"input": "not base64!"})).await);
        assert_eq!(status, 400);
        assert!(
            text.starts_with("unable to decode input as base64: "),
            "{text}"
        );
    }

    #[tokio::test]
    async fn unknown_fields_warn_and_other_operations_are_405() {
        let r = post("tools/random", json!({"drbg": "auto"})).await.unwrap();
        assert_eq!(
            r.warnings,
            ["Endpoint ignored these unrecognized parameters: [drbg]"]
        );
        let (ctx, _) = ctx();
        let err = send(&piece(), &ctx, Operation::Read, "tools/random", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }

    /// The declarations Vault has for these paths, and the piece's sudo
    /// globs on concrete paths (what Vault's `plugins/catalog/*` covers).
    #[test]
    fn declarations_and_special_paths() {
        let p = piece();
        let patterns: Vec<&str> = p.paths().iter().map(|d| d.pattern).collect();
        assert_eq!(
            patterns,
            [
                "tools/random",
                "tools/random/:source",
                "tools/random/:source/:urlbytes",
                "tools/hash",
                "tools/hash/:urlalgorithm",
                "host-info",
                "version-history",
                "plugins/catalog",
                "plugins/catalog/:type",
                "plugins/catalog/:type/:name",
            ]
        );
        let special = p.special_paths();
        assert!(special.unauthenticated.is_empty());
        assert_eq!(special.root, ["plugins/catalog/+", "plugins/catalog/+/+"]);
        for path in [
            "plugins/catalog/auth",
            "plugins/catalog/auth/",
            "plugins/catalog/secret/kv",
            "plugins/catalog/database/mysql-database-plugin",
        ] {
            assert!(
                coffer_sdk::special_path_matches(&special.root, path),
                "{path}"
            );
        }
        let serves = |path: &str| p.paths().iter().any(|d| d.matches(path));
        for path in [
            "plugins/catalog",
            "tools/random",
            "tools/hash/sha2-256",
            "host-info",
            "version-history/",
        ] {
            assert!(
                !coffer_sdk::special_path_matches(&special.root, path),
                "{path}"
            );
            assert!(serves(path), "{path}");
        }
        assert!(!serves("tools"));
        assert!(!serves("plugins/catalog/a/b/c"));
        for d in p.paths() {
            for f in d.fields {
                assert!(!f.description.is_empty(), "{}: {}", d.pattern, f.name);
            }
        }
    }
}
