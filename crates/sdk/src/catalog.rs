//! The catalog of backend types the core may mount: which secrets engines and
//! auth methods exist, how each is built, and which are singletons. The core
//! receives a catalog when it is built, so it depends on no engine.
//!
//! Every entry is a type name of one [`Kind`] (secrets engine or auth method)
//! with an [`Availability`] and, for types the catalog can build, a
//! [`Factory`]. An alias is an entry that stands for another type: Vault's
//! `kv-v2` is `kv` with `version=2` (the mount is recorded as `kv`), and its
//! old name `generic` is KV version 1 recorded under its own name.

use std::collections::BTreeMap;
use std::sync::Arc;

use coffer_types::Result;
use serde_json::{Map, Value};

use crate::{Backend, SdkError};

/// Builds the backend of one mount from the mount's `options`.
pub type Factory = fn(&Map<String, Value>) -> Result<Arc<dyn Backend>>;

/// Whether a type is a secrets engine or an auth method: the two mount
/// tables (`sys/mounts` and `sys/auth`) and their two name spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A secrets engine, enabled under `sys/mounts`.
    Secret,
    /// An auth method, enabled under `sys/auth`.
    Auth,
}

impl Kind {
    /// Vault's plugin type name: `secret` or `auth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Auth => "auth",
        }
    }
}

/// How a type may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Operators can enable it at any path, any number of times.
    Mountable,
    /// Present once, created with the default mount table; an operator
    /// cannot enable it.
    Singleton,
}

/// How a mount enabled under an alias is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasMount {
    /// The mount takes the target's type, with the alias's options written
    /// over the request's (`kv-v2` becomes `kv` with `version=2`).
    AsTarget,
    /// The mount keeps the alias's name as its type and the target's factory
    /// builds it with the alias's options; the request may not set those
    /// options (Vault's `generic`, which is KV version 1).
    KeepsName,
}

/// What an alias stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    /// The type the alias stands for (of the same kind).
    pub target: String,
    /// The options the alias fixes.
    pub options: Vec<(String, String)>,
    /// How a mount enabled under the alias is recorded.
    pub mount: AliasMount,
}

/// One type of the catalog.
#[derive(Clone)]
pub struct Entry {
    name: String,
    kind: Kind,
    availability: Availability,
    factory: Option<Factory>,
    alias: Option<Alias>,
}

impl Entry {
    /// A type operators can enable, built by `factory`.
    pub fn mountable(kind: Kind, name: &str, factory: Factory) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            availability: Availability::Mountable,
            factory: Some(factory),
            alias: None,
        }
    }

    /// A type present once in the default mount table. With a factory, the
    /// catalog builds it (cubbyhole); without one, the core wires it itself
    /// (`system`, `identity`, `token`) and the entry only reserves the name.
    pub fn singleton(kind: Kind, name: &str, factory: Option<Factory>) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            availability: Availability::Singleton,
            factory,
            alias: None,
        }
    }

    /// Another name for `target`, fixing `options`; see [`AliasMount`].
    pub fn alias(
        kind: Kind,
        name: &str,
        target: &str,
        options: &[(&str, &str)],
        mount: AliasMount,
    ) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            availability: Availability::Mountable,
            factory: None,
            alias: Some(Alias {
                target: target.to_owned(),
                options: options
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                mount,
            }),
        }
    }

    /// The type name operators use (`kv`, `userpass`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Secrets engine or auth method.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether operators can enable it.
    pub fn availability(&self) -> Availability {
        self.availability
    }

    /// Whether the catalog can build it (false for the core's own singletons
    /// and for aliases, which build through their target).
    pub fn has_factory(&self) -> bool {
        self.factory.is_some()
    }

    /// What the entry stands for, if it is an alias.
    pub fn alias_of(&self) -> Option<&Alias> {
        self.alias.as_ref()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("availability", &self.availability)
            .field("has_factory", &self.factory.is_some())
            .field("alias", &self.alias)
            .finish()
    }
}

/// The types a server knows, by kind and name, and the database plugins
/// its database engine ships.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    entries: BTreeMap<(Kind, String), Entry>,
    database_plugins: Vec<String>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// The catalog with `entry` added, replacing an entry of the same kind
    /// and name.
    pub fn with(mut self, entry: Entry) -> Self {
        self.insert(entry);
        self
    }

    /// Adds `entry`, replacing an entry of the same kind and name.
    pub fn insert(&mut self, entry: Entry) {
        self.entries.insert((entry.kind, entry.name.clone()), entry);
    }

    /// The entry of `kind` named `name`.
    pub fn get(&self, kind: Kind, name: &str) -> Option<&Entry> {
        self.entries.get(&(kind, name.to_owned()))
    }

    /// The catalog listing `names` as the builtin database plugins (Vault's
    /// `postgresql-database-plugin`, ...), which the database engine builds
    /// itself: they are not mount types, only names for
    /// `sys/plugins/catalog`.
    pub fn with_database_plugins<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.database_plugins
            .extend(names.into_iter().map(str::to_owned));
        self.database_plugins.sort();
        self.database_plugins.dedup();
        self
    }

    /// The builtin database plugins' names, sorted.
    pub fn database_plugins(&self) -> &[String] {
        &self.database_plugins
    }

    /// Every entry, secrets engines first, each kind sorted by name (for
    /// `sys/plugins/catalog`).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Checks that an operator may enable a `kind` mount of `requested`
    /// type and returns the type to record. An alias that is recorded as its
    /// target writes its options into `options`; one that keeps its name
    /// refuses a request that sets the options it fixes.
    pub fn check_enable(
        &self,
        kind: Kind,
        requested: &str,
        options: &mut Map<String, Value>,
    ) -> Result<String> {
        let entry = self
            .get(kind, requested)
            .ok_or_else(|| SdkError::PluginNotFound(requested.to_owned()))?;
        if entry.availability == Availability::Singleton {
            return Err(match kind {
                Kind::Secret => SdkError::SecretNotMountable(requested.to_owned()),
                Kind::Auth => SdkError::AuthNotInstantiable(requested.to_owned()),
            }
            .into());
        }
        let Some(alias) = &entry.alias else {
            return Ok(requested.to_owned());
        };
        match alias.mount {
            AliasMount::AsTarget => {
                for (k, v) in &alias.options {
                    options.insert(k.clone(), Value::String(v.clone()));
                }
                Ok(alias.target.clone())
            }
            AliasMount::KeepsName => {
                for (k, _) in &alias.options {
                    let set = match options.get(k) {
                        None | Some(Value::Null) => false,
                        Some(Value::String(s)) => !s.is_empty(),
                        Some(_) => true,
                    };
                    if set {
                        return Err(SdkError::AliasOptionFixed {
                            engine: requested.to_owned(),
                            option: k.clone(),
                        }
                        .into());
                    }
                }
                Ok(requested.to_owned())
            }
        }
    }

    /// The type that builds mounts of `mount_type`: the alias's target for
    /// an alias, the type itself otherwise; `None` if the catalog does not
    /// know it.
    pub fn canonical<'a>(&'a self, kind: Kind, mount_type: &'a str) -> Option<&'a str> {
        let entry = self.get(kind, mount_type)?;
        Some(match &entry.alias {
            Some(alias) => &alias.target,
            None => &entry.name,
        })
    }

    /// Builds the backend of a `kind` mount of `mount_type` with the mount's
    /// `options`. `Ok(None)` when the catalog has no factory for the type:
    /// the core's own singletons, and types this server does not know (a
    /// mount table written by another build).
    pub fn build(
        &self,
        kind: Kind,
        mount_type: &str,
        options: &Map<String, Value>,
    ) -> Result<Option<Arc<dyn Backend>>> {
        let Some(entry) = self.get(kind, mount_type) else {
            return Ok(None);
        };
        let Some(alias) = &entry.alias else {
            return entry.factory.map(|f| f(options)).transpose();
        };
        let Some(factory) = self.get(kind, &alias.target).and_then(|t| t.factory) else {
            return Ok(None);
        };
        let mut options = options.clone();
        for (k, v) in &alias.options {
            options.insert(k.clone(), Value::String(v.clone()));
        }
        factory(&options).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use coffer_types::{Request, Response};
    use serde_json::json;

    use super::*;
    use crate::{Context, SpecialPaths};

    /// A backend that tells the options it was built with (as `k=v` root
    /// paths, which the tests read without a request).
    struct Built(Map<String, Value>);

    #[async_trait]
    impl Backend for Built {
        async fn handle(&self, _ctx: &Context, _req: &Request) -> Result<Option<Response>> {
            Ok(None)
        }

        fn special_paths(&self) -> SpecialPaths {
            SpecialPaths {
                root: self
                    .0
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                    .collect(),
                ..SpecialPaths::default()
            }
        }
    }

    fn built(options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
        if options.get("version").and_then(Value::as_str) == Some("9") {
            return Err(coffer_types::Error::invalid("bad version"));
        }
        Ok(Arc::new(Built(options.clone())))
    }

    fn built_with(backend: Option<Arc<dyn Backend>>) -> Vec<String> {
        backend.expect("a backend").special_paths().root
    }

    fn catalog() -> Catalog {
        Catalog::new()
            .with(Entry::mountable(Kind::Secret, "kv", built))
            .with(Entry::alias(
                Kind::Secret,
                "kv-v2",
                "kv",
                &[("version", "2")],
                AliasMount::AsTarget,
            ))
            .with(Entry::alias(
                Kind::Secret,
                "generic",
                "kv",
                &[("version", "1")],
                AliasMount::KeepsName,
            ))
            .with(Entry::singleton(Kind::Secret, "cubbyhole", Some(built)))
            .with(Entry::singleton(Kind::Secret, "system", None))
            .with(Entry::singleton(Kind::Auth, "token", None))
            .with(Entry::mountable(Kind::Auth, "userpass", built))
    }

    fn opts(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn enable_error(kind: Kind, name: &str, options: Value) -> (u16, String) {
        let err = catalog()
            .check_enable(kind, name, &mut opts(options))
            .unwrap_err();
        (err.status(), err.messages().join("; "))
    }

    #[test]
    fn unknown_types_and_singletons_are_refused_with_vaults_texts() {
        assert_eq!(
            enable_error(Kind::Secret, "nope", json!({})),
            (400, "plugin not found in the catalog: nope".to_owned())
        );
        // The two kinds are separate name spaces.
        assert_eq!(
            enable_error(Kind::Auth, "kv", json!({})),
            (400, "plugin not found in the catalog: kv".to_owned())
        );
        assert_eq!(
            enable_error(Kind::Secret, "userpass", json!({})),
            (400, "plugin not found in the catalog: userpass".to_owned())
        );
        for singleton in ["cubbyhole", "system"] {
            assert_eq!(
                enable_error(Kind::Secret, singleton, json!({})),
                (
                    400,
                    format!("mount type of \"{singleton}\" is not mountable")
                )
            );
        }
        assert_eq!(
            enable_error(Kind::Auth, "token", json!({})),
            (
                400,
                "token credential backend cannot be instantiated".to_owned()
            )
        );
    }

    #[test]
    fn mountable_types_are_recorded_as_requested() {
        let c = catalog();
        let mut options = opts(json!({"version": "2", "x": "y"}));
        assert_eq!(
            c.check_enable(Kind::Secret, "kv", &mut options).unwrap(),
            "kv"
        );
        assert_eq!(options, opts(json!({"version": "2", "x": "y"})));
        assert_eq!(
            c.check_enable(Kind::Auth, "userpass", &mut Map::new())
                .unwrap(),
            "userpass"
        );
    }

    #[test]
    fn an_alias_recorded_as_its_target_writes_its_options() {
        let c = catalog();
        let mut options = opts(json!({"version": "1", "x": "y"}));
        assert_eq!(
            c.check_enable(Kind::Secret, "kv-v2", &mut options).unwrap(),
            "kv"
        );
        assert_eq!(options, opts(json!({"version": "2", "x": "y"})));
        assert_eq!(c.canonical(Kind::Secret, "kv-v2"), Some("kv"));
    }

    #[test]
    fn an_alias_that_keeps_its_name_builds_its_target_with_fixed_options() {
        let c = catalog();
        let mut options = opts(json!({"x": "y", "version": ""}));
        assert_eq!(
            c.check_enable(Kind::Secret, "generic", &mut options)
                .unwrap(),
            "generic"
        );
        assert_eq!(options, opts(json!({"x": "y", "version": ""})));
        for set in [
            json!({"version": "1"}),
            json!({"version": "2"}),
            json!({"version": 2}),
        ] {
            assert_eq!(
                enable_error(Kind::Secret, "generic", set),
                (
                    400,
                    "secrets engine \"generic\" does not allow setting a version".to_owned()
                )
            );
        }
        let backend = c
            .build(Kind::Secret, "generic", &opts(json!({"x": "y"})))
            .unwrap();
        assert_eq!(built_with(backend), ["version=1", "x=y"]);
        assert_eq!(c.canonical(Kind::Secret, "generic"), Some("kv"));
    }

    #[test]
    fn build_uses_the_factory_and_passes_its_errors_on() {
        let c = catalog();
        let backend = c
            .build(Kind::Secret, "kv", &opts(json!({"version": "2"})))
            .unwrap();
        assert_eq!(built_with(backend), ["version=2"]);
        let err = c
            .build(Kind::Secret, "kv", &opts(json!({"version": "9"})))
            .err()
            .unwrap();
        assert_eq!(err.status(), 400);
        assert!(
            c.build(Kind::Secret, "cubbyhole", &Map::new())
                .unwrap()
                .is_some()
        );
        assert!(
            c.build(Kind::Auth, "userpass", &Map::new())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn build_has_nothing_for_the_cores_singletons_and_unknown_types() {
        let c = catalog();
        for (kind, name) in [
            (Kind::Secret, "system"),
            (Kind::Auth, "token"),
            (Kind::Secret, "database"),
            (Kind::Auth, "kv"),
        ] {
            assert!(
                c.build(kind, name, &Map::new()).unwrap().is_none(),
                "{name}"
            );
        }
        assert_eq!(c.canonical(Kind::Secret, "database"), None);
        // An alias whose target is missing builds nothing either.
        let orphan = Catalog::new().with(Entry::alias(
            Kind::Secret,
            "kv-v2",
            "kv",
            &[("version", "2")],
            AliasMount::AsTarget,
        ));
        assert!(
            orphan
                .build(Kind::Secret, "kv-v2", &Map::new())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn entries_are_listed_by_kind_then_name_and_replaced_by_name() {
        let c = catalog().with(Entry::singleton(Kind::Auth, "userpass", None));
        let listed: Vec<(Kind, &str, Availability, bool)> = c
            .entries()
            .map(|e| (e.kind(), e.name(), e.availability(), e.has_factory()))
            .collect();
        assert_eq!(
            listed,
            [
                (Kind::Secret, "cubbyhole", Availability::Singleton, true),
                (Kind::Secret, "generic", Availability::Mountable, false),
                (Kind::Secret, "kv", Availability::Mountable, true),
                (Kind::Secret, "kv-v2", Availability::Mountable, false),
                (Kind::Secret, "system", Availability::Singleton, false),
                (Kind::Auth, "token", Availability::Singleton, false),
                (Kind::Auth, "userpass", Availability::Singleton, false),
            ]
        );
        assert_eq!(
            c.get(Kind::Secret, "kv-v2").and_then(Entry::alias_of),
            Some(&Alias {
                target: "kv".to_owned(),
                options: vec![("version".to_owned(), "2".to_owned())],
                mount: AliasMount::AsTarget,
            })
        );
        assert_eq!(Kind::Secret.as_str(), "secret");
        assert_eq!(Kind::Auth.as_str(), "auth");
        // Debug names the entries, never a factory address.
        let debug = format!("{c:?}");
        assert!(debug.contains("\"kv-v2\"") && debug.contains("has_factory"));
    }
}
