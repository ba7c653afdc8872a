//! Everything that exists only while the server is unsealed: the barrier, the
//! mount tables and router, the token store and the policy store.

use crate::error::CoreError;
use std::sync::{Arc, RwLock, Weak};

use coffer_barrier::Barrier;
use coffer_expiration::ExpirationManager;
use coffer_identity::{IdentityBackend, IdentityStore};
use coffer_quotas::QuotaManager;
use coffer_sdk::catalog::Kind;
use coffer_sdk::{Backend, Context, MountConfig};
use coffer_storage::{Key, Prefix, Storage, View, WriteOp, list_recursive};
use coffer_tokens::{TokenBackend, TokenEntry, TokenStore, TtlLimits};
use coffer_types::{Result, Sensitive};
use tokio::sync::Mutex;

use crate::CoreConfig;
use crate::mounts::{self, MountEntry, NewMount, Table};
use crate::policy_store::PolicyStore;
use crate::router::{Route, Router, RouterHandle, RouterSlot};

const CLUSTER_ID_KEY: &str = "core/cluster-id";

/// Both mount tables, changed only under the lock that holds them.
pub(crate) struct Tables {
    pub secrets: Vec<MountEntry>,
    pub auth: Vec<MountEntry>,
}

impl Tables {
    pub(crate) fn get_mut(&mut self, table: Table) -> &mut Vec<MountEntry> {
        match table {
            Table::Secrets => &mut self.secrets,
            Table::Auth => &mut self.auth,
        }
    }
}

/// The unsealed server.
pub(crate) struct Unsealed {
    /// The encrypting barrier; every logical read and write goes through it.
    pub barrier: Arc<Barrier>,
    /// The barrier as a plain store.
    pub storage: Arc<dyn Storage>,
    /// The router's slot: the unsealed state is its only owner; the
    /// services' callbacks hold [`RouterHandle`]s to it.
    pub(crate) router: Arc<RouterSlot>,
    pub(crate) tables: Mutex<Tables>,
    /// The token store.
    pub tokens: Arc<TokenStore>,
    /// The `auth/token/` backend over the token store.
    token_backend: Arc<dyn coffer_sdk::Backend>,
    /// The policy store.
    pub policies: Arc<PolicyStore>,
    /// Rate-limit quotas, checked before authentication.
    pub quotas: Arc<QuotaManager>,
    /// Audit devices and the tamper-evident logs.
    pub audit: Arc<coffer_audit::AuditManager>,
    /// Password policies (`sys/policies/password`).
    pub password_policies: Arc<coffer_password_policy::PasswordPolicyStore>,
    /// Periodic jobs (rotations); ticks in the background while unsealed.
    pub scheduler: Arc<coffer_scheduler::Scheduler>,
    /// Runs the scheduler's jobs through the engines that own them (see
    /// `crate::jobs`).
    pub job_runner: RouterHandle,
    /// Every lease; ticks in the background while unsealed.
    pub expiration: Arc<ExpirationManager>,
    /// Stops the background tasks when the server seals.
    stop: tokio::sync::watch::Sender<bool>,
    /// Entities, aliases and groups (also mounted at `identity/`).
    pub identity: Arc<IdentityStore>,
    /// The `identity/` backend over the identity store.
    identity_backend: Arc<dyn coffer_sdk::Backend>,
    /// `sys/config/cors` and the CORS configuration in force.
    pub cors: Arc<crate::sys::cors::CorsPiece>,
    /// Core settings.
    pub config: CoreConfig,
    /// This cluster's id.
    pub cluster_id: String,
    /// The `sys/` backend: the pieces the core (seal lifecycle, keys,
    /// mounts, policies, capabilities, wrapping, ...) and the services
    /// (leases, quotas, audit, password policies, rotation) contribute,
    /// each declared on the sdk's path table. The router serves it at
    /// `sys/` like any mount.
    pub sys_backend: Arc<coffer_sdk::Assembly>,
}

/// Cleans up after a revoked token: tells every mounted backend, so the
/// cubbyhole wipes the token's private space, and revokes the leases the
/// token created (lazily, through the expiration manager's next tick).
/// Holds the router and the expiration manager weakly: the token store that
/// keeps this hook belongs to the same unsealed state. Once that is gone
/// there is nothing left to clean up, so the hook does nothing.
struct TokenCleanup {
    router: RouterHandle,
    expiration: Weak<ExpirationManager>,
}

#[async_trait::async_trait]
impl coffer_tokens::RevocationHook for TokenCleanup {
    async fn token_revoked(&self, entry: &TokenEntry) -> Result<()> {
        if !entry.scope_id().is_empty()
            && let Some(router) = self.router.snapshot()
        {
            for route in router.routes() {
                route
                    .backend
                    .token_revoked(&route.ctx, entry.scope_id())
                    .await?;
            }
        }
        if let Some(expiration) = self.expiration.upgrade() {
            expiration.revoke_by_token(&entry.id_hash).await?;
        }
        Ok(())
    }
}

/// The catalog's name space for a mount table.
pub(crate) fn catalog_kind(table: Table) -> Kind {
    match table {
        Table::Secrets => Kind::Secret,
        Table::Auth => Kind::Auth,
    }
}

/// Serves a mount whose type this server's catalog cannot build (a mount
/// table written by a build with other engines): the mount keeps its place
/// and its storage, and every request to it fails until a server that knows
/// the type opens the storage.
struct NotInCatalog {
    mount_type: String,
}

#[async_trait::async_trait]
impl Backend for NotInCatalog {
    async fn handle(
        &self,
        _ctx: &Context,
        _req: &coffer_types::Request,
    ) -> Result<Option<coffer_types::Response>> {
        Err(CoreError::NotInCatalog(self.mount_type.clone()).into())
    }
}

/// Maps an auth mount accessor to its type and path, for identity aliases;
/// `None` once sealed.
fn auth_mount_resolver(router: RouterHandle) -> coffer_identity::MountResolver {
    Arc::new(move |accessor: &str| {
        let snapshot = router.snapshot()?;
        snapshot
            .routes()
            .find(|r| r.table == Table::Auth && r.entry.accessor == accessor)
            .map(|r| (r.entry.mount_type.clone(), r.prefix.clone()))
    })
}

/// Tells the quota manager which mount serves a path; `None` once sealed.
impl coffer_quotas::MountResolver for RouterHandle {
    fn matching_mount(&self, path: &str) -> Option<String> {
        self.snapshot()?.lookup(path).map(|r| r.prefix.clone())
    }
}

/// Decides `sudo` for the token store from the caller's real ACL.
struct AclSudo {
    policies: Arc<PolicyStore>,
}

#[async_trait::async_trait]
impl coffer_tokens::SudoCheck for AclSudo {
    async fn has_sudo(&self, caller: &TokenEntry, path: &str) -> bool {
        match self.policies.acl(&caller.policies) {
            Ok(acl) => {
                acl.authorize(path, coffer_types::Operation::Update, None)
                    .root_privs
            }
            Err(_) => false,
        }
    }
}

impl Unsealed {
    /// First unseal after `sys/init`: writes the default tables, the default
    /// policy and the root token. Returns the root token; the state is dropped
    /// (Vault stays sealed after init).
    pub async fn initialize(
        barrier: Arc<Barrier>,
        config: &CoreConfig,
        core_pieces: Vec<Arc<dyn Backend>>,
        root_token_id: Option<&str>,
    ) -> Result<Sensitive> {
        let storage: Arc<dyn Storage> = barrier.clone();
        let (secrets, auth) = mounts::default_tables()?;
        mounts::save_table(storage.as_ref(), Table::Secrets, &secrets).await?;
        mounts::save_table(storage.as_ref(), Table::Auth, &auth).await?;
        let cluster_id = coffer_crypto::random_uuid().map_err(|source| CoreError::Crypto {
            doing: "generating cluster id",
            source,
        })?;
        storage
            .put(&Key::new(CLUSTER_ID_KEY)?, cluster_id.into_bytes())
            .await?;
        let unsealed = Self::load(barrier, config, core_pieces).await?;
        unsealed.policies.ensure_builtin().await?;
        let (token, _) = unsealed.tokens.create_root_token(root_token_id).await?;
        Ok(token)
    }

    /// Builds the unsealed state from what the barrier holds; `core_pieces`
    /// are the core's own `sys/` pieces (seal lifecycle, keys), assembled
    /// with the services' into the `sys/` backend.
    pub async fn load(
        barrier: Arc<Barrier>,
        config: &CoreConfig,
        core_pieces: Vec<Arc<dyn Backend>>,
    ) -> Result<Arc<Self>> {
        let storage: Arc<dyn Storage> = barrier.clone();
        let secrets = mounts::load_table(storage.as_ref(), Table::Secrets)
            .await?
            .ok_or(CoreError::TableMissing("mount"))?;
        let auth = mounts::load_table(storage.as_ref(), Table::Auth)
            .await?
            .ok_or(CoreError::TableMissing("auth"))?;
        let cluster_id = match storage.get(&Key::new(CLUSTER_ID_KEY)?).await? {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => String::new(),
        };
        crate::sys::version_history::record_running_version(
            &View::new(storage.clone(), Prefix::new("sys/")?),
            config.clock.now(),
        )
        .await?;
        let token_view = View::new(storage.clone(), Prefix::new("sys/token/")?);
        let tokens = Arc::new(TokenStore::new(
            token_view,
            config.clock.clone(),
            TtlLimits {
                default_ttl: config.default_lease_ttl,
                max_ttl: config.max_lease_ttl,
            },
        ));
        let policies = Arc::new(
            PolicyStore::load(View::new(storage.clone(), Prefix::new("sys/policy/")?)).await?,
        );
        let token_backend = Arc::new(TokenBackend::new(tokens.clone()).with_sudo_check(Arc::new(
            AclSudo {
                policies: policies.clone(),
            },
        )));
        let quotas = QuotaManager::load(
            View::new(storage.clone(), Prefix::new("sys/quotas/")?),
            config.clock.clone(),
        )
        .await?;
        let identity_entry = secrets
            .iter()
            .find(|e| e.mount_type == "identity")
            .ok_or(CoreError::CoreMountMissing("identity"))?;
        let identity = Arc::new(
            IdentityStore::load(
                View::new(storage.clone(), Table::Secrets.view_prefix(identity_entry)?),
                config.clock.clone(),
            )
            .await?,
        );
        // The services call back into the router (see `crate::router` for
        // why through a weak handle). The slot exists, empty, before any
        // service that gets a handle to it:
        // - at their construction: the expiration manager's lease handler,
        //   the scheduler's job runner (background ticks and sys/rotation)
        //   and the identity backend's auth mount resolver;
        // - once the services exist, before the unsealed state: the token
        //   store's login renewer and revocation hook (the hook also needs
        //   the expiration manager) and the quota manager's mount resolver;
        // - after the unsealed state is built: the routes themselves
        //   (`rebuild_router`), since building a route needs that state (the
        //   token and identity backends it owns, the scheduler and password
        //   policies for the mounts' contexts). Nothing calls back before
        //   `load` returns: the background work starts later.
        let router: Arc<RouterSlot> = Arc::new(RwLock::new(Arc::new(Router::default())));
        let handle = RouterHandle::new(&router);
        let expiration = ExpirationManager::load(
            View::new(storage.clone(), Prefix::new("sys/expire/")?),
            config.clock.clone(),
            Arc::new(crate::leases::RouterLeaseHandler {
                router: handle.clone(),
                tokens: Arc::downgrade(&tokens),
                clock: config.clock.clone(),
            }),
        )
        .await?;
        let (stop, _) = tokio::sync::watch::channel(false);
        let password_policies = coffer_password_policy::PasswordPolicyStore::new(View::new(
            storage.clone(),
            Prefix::new("sys/")?,
        ));
        let scheduler = coffer_scheduler::Scheduler::load(
            View::new(storage.clone(), Prefix::new("sys/scheduler/")?),
            config.clock.clone(),
        )
        .await?;
        let rotation_sys =
            coffer_scheduler::RotationSys::new(scheduler.clone(), Arc::new(handle.clone()));
        let audit = coffer_audit::AuditManager::load(
            View::new(storage.clone(), Prefix::new("sys/audit/")?),
            config.clock.clone(),
            coffer_audit::AuditManagerOptions::default().with_api_enable(config.audit_api_creation),
        )
        .await
        .map_err(|source| CoreError::Audit {
            doing: "starting audit devices",
            source,
        })?;
        audit
            .declare_from_config(config.audit_devices.clone())
            .await
            .map_err(|source| CoreError::Audit {
                doing: "starting the audit devices of the configuration",
                source,
            })?;
        let cors =
            crate::sys::cors::CorsPiece::load(&View::new(storage.clone(), Prefix::new("sys/")?))
                .await?;
        let identity_backend = Arc::new(IdentityBackend::new(
            identity.clone(),
            auth_mount_resolver(handle.clone()),
        ));
        tokens.set_login_renewer(Arc::new(handle.clone()));
        tokens.set_revocation_hook(Arc::new(TokenCleanup {
            router: handle.clone(),
            expiration: Arc::downgrade(&expiration),
        }));
        quotas.set_mount_resolver(Arc::new(handle.clone()));
        let quotas = Arc::new(quotas);
        let audit = Arc::new(audit);
        let password_policies = Arc::new(password_policies);
        let rotation_sys = Arc::new(rotation_sys);
        let cors = Arc::new(cors);
        let sys_tools = Arc::new(crate::sys::tools::ToolsPiece::new(config.catalog.clone()));
        let sys_policies = Arc::new(crate::sys::policies::PoliciesPiece::new(policies.clone()));
        let unsealed = Arc::new_cyclic(|this| {
            let remount = Arc::new(crate::sys::remount::RemountSys::new(this.clone()));
            let mounts_sys = Arc::new(crate::sys::mounts::MountsPiece::new(this.clone()));
            let mut pieces = core_pieces;
            pieces.extend([
                password_policies.clone() as Arc<dyn Backend>,
                rotation_sys,
                expiration.clone(),
                cors.clone(),
                remount,
                mounts_sys,
                sys_tools,
                quotas.clone(),
                audit.clone(),
                sys_policies,
                Arc::new(crate::sys::capabilities::CapabilitiesPiece::new(
                    this.clone(),
                )),
                Arc::new(crate::sys::internal::InternalPiece::new(this.clone())),
                Arc::new(crate::sys::wrapping::WrappingPiece::new(this.clone())),
                Arc::new(crate::sys::rekey_backup::RekeyBackupPiece::new(
                    storage.clone(),
                )),
            ]);
            let sys_backend = Arc::new(coffer_sdk::Assembly::new(pieces));
            Self {
                barrier,
                storage,
                router,
                tables: Mutex::new(Tables { secrets, auth }),
                tokens,
                token_backend,
                policies,
                quotas,
                expiration,
                password_policies,
                scheduler,
                job_runner: handle,
                audit,
                stop,
                identity,
                identity_backend,
                cors,
                config: config.clone(),
                cluster_id,
                sys_backend,
            }
        });
        unsealed.rebuild_router(&*unsealed.tables.lock().await)?;
        Ok(unsealed)
    }

    /// The current router snapshot.
    pub fn router(&self) -> Arc<Router> {
        crate::router::current(&self.router)
    }

    /// The backend already serving this very mount (same accessor, type and
    /// options), so a router rebuild keeps its connections and locks.
    fn live_backend(
        &self,
        table: Table,
        entry: &MountEntry,
    ) -> Option<Arc<dyn coffer_sdk::Backend>> {
        self.router()
            .routes()
            .find(|r| {
                r.table == table
                    && r.entry.accessor == entry.accessor
                    && r.entry.mount_type == entry.mount_type
                    && r.entry.options == entry.options
            })
            .map(|r| r.backend.clone())
    }

    fn build_route(&self, table: Table, entry: &MountEntry) -> Result<Route> {
        let (default_lease_ttl, max_lease_ttl) =
            entry.ttls(self.config.default_lease_ttl, self.config.max_lease_ttl);
        let prefix = format!("{}{}", table.route_prefix(), entry.path);
        let backend = match (table, entry.mount_type.as_str()) {
            (Table::Secrets, "system") => self.sys_backend.clone() as Arc<dyn Backend>,
            (Table::Secrets, "identity") => self.identity_backend.clone(),
            (Table::Auth, "token") => self.token_backend.clone(),
            (_, t) => match self.live_backend(table, entry) {
                Some(same) => same,
                None => {
                    match self
                        .config
                        .catalog
                        .build(catalog_kind(table), t, &entry.options)?
                    {
                        Some(built) => built,
                        None => {
                            tracing::warn!(
                                mount = %prefix,
                                mount_type = %t,
                                "mount type not in the catalog; the mount answers with errors"
                            );
                            Arc::new(NotInCatalog {
                                mount_type: t.to_owned(),
                            })
                        }
                    }
                }
            },
        };
        Ok(Route {
            prefix: prefix.clone(),
            table,
            entry: entry.clone(),
            special: backend.special_paths(),
            backend,
            ctx: Context {
                storage: View::new(self.storage.clone(), table.view_prefix(entry)?),
                config: MountConfig {
                    path: prefix.clone(),
                    accessor: entry.accessor.clone(),
                    default_lease_ttl,
                    max_lease_ttl,
                    options: entry.options.clone(),
                },
                clock: self.config.clock.clone(),
                services: coffer_sdk::Services {
                    jobs: Arc::new(coffer_scheduler::MountJobs::new(
                        self.scheduler.clone(),
                        prefix,
                    )),
                    passwords: self.password_policies.clone(),
                },
            },
        })
    }

    pub(crate) fn rebuild_router(&self, tables: &Tables) -> Result<()> {
        let mut router = Router::default();
        for entry in &tables.secrets {
            router.insert_route(self.build_route(Table::Secrets, entry)?);
        }
        for entry in &tables.auth {
            router.insert_route(self.build_route(Table::Auth, entry)?);
        }
        crate::router::install(&self.router, router);
        Ok(())
    }

    /// Enables an engine or auth method at `path` (already type-checked by
    /// the caller). Refuses a path in use or nested in/around another mount.
    pub async fn mount(&self, table: Table, request: NewMount) -> Result<MountEntry> {
        let entry = request.into_entry()?;
        let full = format!("{}{}", table.route_prefix(), entry.path);
        if table == Table::Secrets {
            for reserved in ["sys/", "auth/", "cubbyhole/", "identity/"] {
                if full.starts_with(reserved) {
                    return Err(CoreError::ReservedMountPath(reserved.to_owned()).into());
                }
            }
        }
        let mut tables = self.tables.lock().await;
        if let Some(existing) = self.router().conflict(&full) {
            let shown = existing
                .strip_prefix(table.route_prefix())
                .unwrap_or(&existing);
            return Err(CoreError::MountPathInUse(shown.to_string()).into());
        }
        // Build the route first: an unknown type or bad option fails before anything is stored.
        self.build_route(table, &entry)?;
        tables.get_mut(table).push(entry.clone());
        if let Err(e) =
            mounts::save_table(self.storage.as_ref(), table, tables.get_mut(table)).await
        {
            tables.get_mut(table).pop();
            return Err(e);
        }
        self.rebuild_router(&tables)?;
        Ok(entry)
    }

    /// Disables the mount at `path` and deletes its storage.
    pub async fn unmount(&self, table: Table, path: &str) -> Result<()> {
        let path = mounts::normalize_mount_path(path)?;
        let mut tables = self.tables.lock().await;
        let list = tables.get_mut(table);
        let Some(index) = list.iter().position(|e| e.path == path) else {
            // Vault answers 204 for disabling a path that is not mounted.
            return Ok(());
        };
        let entry = list[index].clone();
        let protected = match table {
            Table::Secrets => {
                ["cubbyhole", "identity", "system"].contains(&entry.mount_type.as_str())
            }
            Table::Auth => entry.mount_type == "token",
        };
        if protected {
            let shown = format!("{}{}", table.route_prefix(), entry.path);
            return Err(CoreError::CannotUnmount(shown).into());
        }
        let route = self
            .router()
            .lookup(&format!("{}{}", table.route_prefix(), entry.path));
        if let Some(route) = &route {
            let backend = &route.backend;
            // As Vault does: the mount's secrets are revoked first (its
            // database users dropped); a failure keeps the mount.
            if table == Table::Secrets {
                self.expiration.revoke_prefix(&route.prefix, false).await?;
            }
            backend.cleanup(&route.ctx).await?;
        }
        list.remove(index);
        if let Err(e) = mounts::save_table(self.storage.as_ref(), table, list).await {
            list.insert(index, entry);
            return Err(e);
        }
        self.rebuild_router(&tables)?;
        drop(tables);
        let view_prefix = table.view_prefix(&entry)?;
        let keys = list_recursive(self.storage.as_ref(), &view_prefix).await?;
        for chunk in keys.chunks(256) {
            let ops = chunk
                .iter()
                .map(|k| Ok(WriteOp::Delete(view_prefix.join(k)?)))
                .collect::<Result<Vec<_>>>()?;
            self.storage.write_batch(ops).await?;
        }
        Ok(())
    }

    /// Applies `change` to the tuning of the mount at `path`.
    pub async fn tune(
        &self,
        table: Table,
        path: &str,
        change: impl FnOnce(&mut MountEntry) -> Result<()>,
    ) -> Result<()> {
        let path = mounts::normalize_mount_path(path)?;
        let mut tables = self.tables.lock().await;
        let list = tables.get_mut(table);
        let entry = list
            .iter_mut()
            .find(|e| e.path == path)
            .ok_or_else(|| CoreError::NoMountAt(path.to_string()))?;
        let before = entry.clone();
        change(entry)?;
        if let Err(e) = mounts::save_table(self.storage.as_ref(), table, list).await {
            if let Some(e2) = list.iter_mut().find(|e| e.path == path) {
                *e2 = before;
            }
            return Err(e);
        }
        self.rebuild_router(&tables)
    }

    /// Starts the background work of an unsealed server: lease expiry and
    /// scheduled jobs, each once a second until sealed.
    pub fn start_background(self: &Arc<Self>) {
        let mut stopped = self.stop.subscribe();
        self.expiration.spawn(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        let weak = Arc::downgrade(self);
        let mut stopped = self.stop.subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => break,
                    _ = every.tick() => {}
                }
                let Some(unsealed) = weak.upgrade() else {
                    break;
                };
                if let Err(e) = unsealed.scheduler.tick(&unsealed.job_runner).await {
                    tracing::error!(error = %e, "scheduled jobs pass failed");
                }
            }
        });
    }

    /// Stops the background work (on seal).
    pub fn stop_background(&self) {
        let _ = self.stop.send(true);
    }

    /// A copy of one table.
    pub async fn table(&self, table: Table) -> Vec<MountEntry> {
        self.tables.lock().await.get_mut(table).clone()
    }
}
