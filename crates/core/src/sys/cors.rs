//! `sys/config/cors`: which browser origins may call the API, as Vault's
//! `sys/config/cors`. The configuration lives in the barrier (the `sys/`
//! view's `config/cors`, where Vault keeps it), is loaded at unseal and kept
//! in memory behind an `Arc`, so the HTTP layer can read it on every request
//! through [`crate::Core::cors`] without touching storage. [`CorsPiece`] is
//! the `sys/` piece that reads and changes it (a [`coffer_sdk::Backend`] over
//! a path table declared relative to `sys/`, sudo as in Vault).

use crate::error::CoreError;
use std::sync::{Arc, LazyLock, RwLock};

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_storage::{Key, Storage, View};
use coffer_types::{Operation, Response, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The headers Vault allows on every cross-origin request once CORS is
/// enabled (Vault's `StdAllowedHeaders`, in its order); the configured
/// `allowed_headers` are appended to them.
pub const STD_ALLOWED_HEADERS: &[&str] = &[
    "Content-Type",
    "X-Requested-With",
    "X-Vault-AWS-IAM-Server-ID",
    "X-Vault-MFA",
    "X-Vault-No-Request-Forwarding",
    "X-Vault-Wrap-Format",
    "X-Vault-Wrap-TTL",
    "X-Vault-Policy-Override",
    "Authorization",
    "X-Vault-Token",
];

/// Where the configuration is kept, relative to the `sys/` view (Vault's
/// system view `config/` + `cors`).
const STORAGE_KEY: &str = "config/cors";

/// The CORS configuration: off, or the origins allowed to make cross-origin
/// requests and the headers they may send.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsConfig {
    #[serde(default)]
    enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allowed_headers: Vec<String>,
}

impl CorsConfig {
    /// CORS enabled for `origins` (`*` alone allows any origin), allowing
    /// Vault's standard headers plus `extra_headers`. Refuses an empty list
    /// of origins and `*` next to other origins, with Vault's messages.
    pub fn enabled(origins: Vec<String>, extra_headers: Vec<String>) -> Result<Self> {
        if origins.is_empty() {
            return Err(CoreError::CorsNoOrigin.into());
        }
        if origins.len() > 1 && origins.iter().any(|o| o == "*") {
            return Err(CoreError::CorsWildcardNotAlone.into());
        }
        let mut allowed_headers: Vec<String> = STD_ALLOWED_HEADERS
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        allowed_headers.extend(extra_headers);
        Ok(Self {
            enabled: true,
            allowed_origins: origins,
            allowed_headers,
        })
    }

    /// CORS off: no origin lists, no CORS headers on any response.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Whether CORS is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The allowed origins (`["*"]` for any).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The headers allowed on cross-origin requests: Vault's standard ones,
    /// then the configured ones.
    pub fn allowed_headers(&self) -> &[String] {
        &self.allowed_headers
    }

    /// Whether `origin` (the request's `Origin` header, as sent) may make
    /// cross-origin requests, as Vault's `IsValidOrigin`: every origin while
    /// CORS is off; with it on, any origin under `*`, otherwise an exact
    /// (case-sensitive) match of one allowed origin.
    pub fn allows_origin(&self, origin: &[u8]) -> bool {
        if !self.enabled {
            return true;
        }
        match self.allowed_origins.as_slice() {
            [] => false,
            [only] if only == "*" => true,
            list => list.iter().any(|o| o.as_bytes() == origin),
        }
    }

    /// The `sys/config/cors` read answer: `enabled`, and the lists when on.
    fn to_response(&self) -> Response {
        let mut data = Map::new();
        data.insert("enabled".into(), Value::Bool(self.enabled));
        if self.enabled {
            data.insert("allowed_origins".into(), strings(&self.allowed_origins));
            data.insert("allowed_headers".into(), strings(&self.allowed_headers));
        }
        Response::with_data(data)
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// The `sys/config/cors` piece and the live configuration it keeps.
pub(crate) struct CorsPiece {
    /// The configuration in force; replaced whole on every change.
    current: RwLock<Arc<CorsConfig>>,
    /// Serialises changes, so storage and memory end in the same order.
    writing: tokio::sync::Mutex<()>,
}

impl CorsPiece {
    /// The piece with the configuration stored in `sys_view` (the barrier's
    /// `sys/` view); CORS off when none is stored.
    pub(crate) async fn load(sys_view: &View) -> Result<Self> {
        let config = match sys_view.get(&Key::new(STORAGE_KEY)?).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|source| CoreError::Json {
                doing: "decoding the CORS configuration",
                source,
            })?,
            None => CorsConfig::disabled(),
        };
        Ok(Self {
            current: RwLock::new(Arc::new(config)),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration in force.
    pub(crate) fn current(&self) -> Arc<CorsConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stores `config` in `sys_view`, then puts it in force.
    async fn replace(&self, sys_view: &View, config: CorsConfig) -> Result<()> {
        let _writing = self.writing.lock().await;
        let bytes = serde_json::to_vec(&config).map_err(|source| CoreError::Json {
            doing: "encoding the CORS configuration",
            source,
        })?;
        sys_view.put(&Key::new(STORAGE_KEY)?, bytes).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        Ok(())
    }
}

const CORS_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "allowed_origins",
        FieldType::StringList,
        "A comma-separated string or array of strings indicating origins that may make cross-origin requests.",
    ),
    FieldDef::new(
        "allowed_headers",
        FieldType::StringList,
        "A comma-separated string or array of strings indicating headers that are allowed on cross-origin requests.",
    ),
    FieldDef::new(
        "enabled",
        FieldType::Bool,
        "Enables or disables CORS headers on requests.",
    ),
];

fn config_def() -> PathDef {
    PathDef {
        pattern: "config/cors",
        fields: CORS_FIELDS,
        operations: &[Operation::Read, Operation::Update, Operation::Delete],
        existence_check: false,
        synopsis: "Configures or returns the current configuration of CORS settings.",
        description: "This path responds to the following HTTP methods.\n\n    \
             GET /\n        Returns the configuration of the CORS setting.\n\n    \
             POST /\n        Sets the comma-separated list of origins that can make cross-origin requests.\n\n    \
             DELETE /\n        Clears the CORS configuration and disables acceptance of CORS requests.",
    }
}

/// The piece's one path, relative to `sys/`; sudo, as Vault marks it.
static TABLE: LazyLock<PathTable<CorsPiece>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(config_def())
            .read(handler!(read))
            .update(handler!(write))
            .delete(handler!(delete))
            .sudo(),
    ])
});

/// `config/cors` (read): `{enabled}`, with `allowed_origins` and
/// `allowed_headers` when enabled.
async fn read(piece: &CorsPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    Ok(Some(piece.current().to_response()))
}

/// `config/cors` (create/update): enables CORS for `allowed_origins`, with
/// `allowed_headers` added to the standard ones; 204. `enabled` is not read
/// (Vault declares it and ignores it on writes).
async fn write(piece: &CorsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let origins = call
        .fields
        .get_string_list("allowed_origins")?
        .unwrap_or_default();
    let headers = call
        .fields
        .get_string_list("allowed_headers")?
        .unwrap_or_default();
    let config = CorsConfig::enabled(origins, headers)?;
    piece.replace(&call.ctx.storage, config).await?;
    Ok(None)
}

/// `config/cors` (delete): disables CORS and clears the lists; 204.
async fn delete(piece: &CorsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    piece
        .replace(&call.ctx.storage, CorsConfig::disabled())
        .await?;
    Ok(None)
}

impl Backend for CorsPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use coffer_storage::{MemoryStorage, Prefix};
    use coffer_types::{ErrorKind, Request};
    use serde_json::json;

    use crate::{Core, CoreConfig};

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn origins_match_exactly_or_by_the_lone_wildcard() {
        let config = CorsConfig::enabled(
            list(&["https://app.example", "http://localhost:3000"]),
            vec![],
        )
        .unwrap();
        assert!(config.allows_origin(b"https://app.example"));
        assert!(config.allows_origin(b"http://localhost:3000"));
        for other in [
            &b"https://evil.example"[..],
            b"https://APP.example",
            b"https://app.example/",
            b"https://app.example:443",
            b"http://app.example",
            b"",
            b"null",
        ] {
            assert!(!config.allows_origin(other), "{other:?}");
        }
        let any = CorsConfig::enabled(list(&["*"]), vec![]).unwrap();
        assert!(any.allows_origin(b"https://evil.example"));
        assert!(any.allows_origin(b"null"));
        // Off: every origin is valid (no CORS check at all).
        assert!(CorsConfig::disabled().allows_origin(b"https://evil.example"));
        // A stored config that is on with no origins allows none.
        let empty = CorsConfig {
            enabled: true,
            ..CorsConfig::default()
        };
        assert!(!empty.allows_origin(b"https://app.example"));
    }

    #[test]
    fn enabling_validates_origins_as_vault() {
        let e = CorsConfig::enabled(vec![], vec![]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert_eq!(
            e.messages(),
            ["at least one origin or the wildcard must be provided"]
        );
        let e = CorsConfig::enabled(list(&["*", "https://app.example"]), vec![]).unwrap_err();
        assert_eq!(
            e.messages(),
            ["to allow all origins the '*' must be the only value for allowed_origins"]
        );
    }

    #[test]
    fn configured_headers_follow_the_standard_ones() {
        let config = CorsConfig::enabled(list(&["*"]), list(&["X-Custom", "X-Other"])).unwrap();
        let mut expected = list(STD_ALLOWED_HEADERS);
        expected.extend(list(&["X-Custom", "X-Other"]));
        assert_eq!(config.allowed_headers(), expected.as_slice());
        assert!(
            config
                .allowed_headers()
                .iter()
                .any(|h| h == "X-Vault-Token")
        );
        let plain = CorsConfig::enabled(list(&["*"]), vec![]).unwrap();
        assert_eq!(plain.allowed_headers().len(), STD_ALLOWED_HEADERS.len());
        // Disabling clears both lists.
        let off = CorsConfig::disabled();
        assert!(!off.is_enabled());
        assert!(off.allowed_origins().is_empty() && off.allowed_headers().is_empty());
    }

    #[test]
    fn the_path_is_declared_with_sudo() {
        let piece_paths: Vec<&str> = TABLE.declarations().iter().map(|d| d.pattern).collect();
        assert_eq!(piece_paths, ["config/cors"]);
        let special = TABLE.special_paths();
        assert_eq!(special.root, ["config/cors"]);
        assert!(special.unauthenticated.is_empty());
        assert!(coffer_sdk::special_path_matches(
            &special.root,
            "config/cors"
        ));
        assert!(!coffer_sdk::special_path_matches(
            &special.root,
            "config/cors/x"
        ));
        let declares = |p: &str| TABLE.declarations().iter().any(|d| d.matches(p));
        assert!(declares("config/cors"));
        assert!(!declares("config/corsx"));
        assert!(!declares("config"));
    }

    #[tokio::test]
    async fn a_missing_or_stored_configuration_loads() {
        let physical: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let view = View::new(physical.clone(), Prefix::new("sys/").unwrap());
        let piece = CorsPiece::load(&view).await.unwrap();
        assert_eq!(*piece.current(), CorsConfig::disabled());
        let on = CorsConfig::enabled(list(&["https://app.example"]), list(&["X-A"])).unwrap();
        piece.replace(&view, on.clone()).await.unwrap();
        assert_eq!(*piece.current(), on);
        // Kept where Vault keeps it, and read back by a fresh load.
        assert!(
            physical
                .get(&Key::new("sys/config/cors").unwrap())
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(*CorsPiece::load(&view).await.unwrap().current(), on);
        // A damaged entry fails the load rather than silently disabling CORS.
        view.put(&Key::new(STORAGE_KEY).unwrap(), b"{not json".to_vec())
            .await
            .unwrap();
        assert!(CorsPiece::load(&view).await.is_err());
    }

    async fn root_call(core: &Core, root: &str, op: Operation, data: Value) -> Result<Response> {
        let data = data.as_object().cloned().unwrap_or_default();
        core.handle(
            Request::new(op, "sys/config/cors")
                .with_data(data)
                .with_token(root),
        )
        .await
    }

    #[tokio::test]
    async fn the_endpoint_configures_the_core_and_survives_a_seal() {
        let core = Core::new(Arc::new(MemoryStorage::new()), CoreConfig::default());
        let init = core.dev_init(None).await.unwrap();
        let root = init.root_token.expose().to_owned();
        // Off by default: the read says so and the core has nothing for the
        // HTTP layer.
        let resp = root_call(&core, &root, Operation::Read, json!({}))
            .await
            .unwrap();
        assert_eq!(
            Value::Object(resp.data.clone().unwrap()),
            json!({"enabled": false})
        );
        assert!(core.cors().is_none());

        // Enable with a comma string and an extra header.
        let resp = root_call(
            &core,
            &root,
            Operation::Update,
            json!({"allowed_origins": "https://app.example, https://b.example", "allowed_headers": "X-Custom"}),
        )
        .await
        .unwrap();
        assert!(resp.is_empty(), "{resp:?}");
        let live = core.cors().expect("CORS on");
        assert!(live.allows_origin(b"https://b.example"));
        assert!(!live.allows_origin(b"https://evil.example"));
        let resp = root_call(&core, &root, Operation::Read, json!({}))
            .await
            .unwrap();
        let data = Value::Object(resp.data.clone().unwrap());
        assert_eq!(data["enabled"], true);
        assert_eq!(
            data["allowed_origins"],
            json!(["https://app.example", "https://b.example"])
        );
        let headers = data["allowed_headers"].as_array().unwrap();
        assert_eq!(headers.len(), STD_ALLOWED_HEADERS.len() + 1);
        assert_eq!(headers.last().unwrap(), "X-Custom");

        // Bad input: 400 with Vault's message, configuration unchanged.
        for bad in [
            json!({}),
            json!({"allowed_origins": ""}),
            json!({"allowed_origins": ["*", "https://x.example"]}),
            json!({"allowed_origins": {"a": 1}}),
        ] {
            let e = root_call(&core, &root, Operation::Update, bad.clone())
                .await
                .unwrap_err();
            assert_eq!(e.status(), 400, "{bad}: {e}");
        }
        assert_eq!(core.cors().unwrap(), live);

        // An unknown field is ignored with Vault's warning.
        let resp = root_call(
            &core,
            &root,
            Operation::Update,
            json!({"allowed_origins": "*", "bogus": 1}),
        )
        .await
        .unwrap();
        assert_eq!(resp.warnings.len(), 1, "{resp:?}");
        assert!(core.cors().unwrap().allows_origin(b"https://any.example"));

        // Sealing drops it from view; unsealing loads it back.
        root_call(
            &core,
            &root,
            Operation::Update,
            json!({"allowed_origins": ["https://app.example"]}),
        )
        .await
        .unwrap();
        core.seal().await.unwrap();
        assert!(core.cors().is_none());
        core.unseal_with_keys(&init.keys).await.unwrap();
        let reloaded = core.cors().expect("loaded at unseal");
        assert_eq!(reloaded.allowed_origins(), ["https://app.example"]);

        // Delete disables it.
        assert!(
            root_call(&core, &root, Operation::Delete, json!({}))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(core.cors().is_none());
        let resp = root_call(&core, &root, Operation::Read, json!({}))
            .await
            .unwrap();
        assert_eq!(
            Value::Object(resp.data.clone().unwrap()),
            json!({"enabled": false})
        );
    }

    #[tokio::test]
    async fn the_endpoint_needs_sudo() {
        let core = Core::new(Arc::new(MemoryStorage::new()), CoreConfig::default());
        let root = core
            .dev_init(None)
            .await
            .unwrap()
            .root_token
            .expose()
            .to_owned();
        let policy = |caps: &str| json!({"policy": format!("path \"sys/config/cors\" {{ capabilities = [{caps}] }}")});
        for (name, caps) in [
            ("cors-rw", r#""read", "update", "delete""#),
            ("cors-sudo", r#""read", "update", "delete", "sudo""#),
        ] {
            core.handle(
                Request::new(Operation::Update, format!("sys/policies/acl/{name}"))
                    .with_data(policy(caps).as_object().cloned().unwrap())
                    .with_token(root.as_str()),
            )
            .await
            .unwrap();
        }
        let token_for = |policy: &'static str| {
            let core = core.clone();
            let root = root.clone();
            async move {
                let resp = core
                    .handle(
                        Request::new(Operation::Update, "auth/token/create")
                            .with_data(json!({"policies": [policy]}).as_object().cloned().unwrap())
                            .with_token(root.as_str()),
                    )
                    .await
                    .unwrap();
                resp.auth.unwrap().client_token
            }
        };
        let plain = token_for("cors-rw").await;
        let sudo = token_for("cors-sudo").await;
        for op in [Operation::Read, Operation::Update, Operation::Delete] {
            let e = root_call(&core, &plain, op, json!({"allowed_origins": "*"}))
                .await
                .unwrap_err();
            assert_eq!(e.status(), 403, "{op:?}");
        }
        assert!(core.cors().is_none());
        root_call(
            &core,
            &sudo,
            Operation::Update,
            json!({"allowed_origins": "*"}),
        )
        .await
        .unwrap();
        assert!(core.cors().is_some());
        root_call(&core, &sudo, Operation::Read, json!({}))
            .await
            .unwrap();
    }
}
