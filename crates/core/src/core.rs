//! The server core: seal state and the entry point for every request.

use crate::error::CoreError;
use std::sync::{Arc, RwLock};

use coffer_barrier::SealedBarrier;
use coffer_storage::Storage;
use coffer_types::{Error, ErrorKind, Result, Sensitive};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::CoreConfig;
use crate::generate_root::GenerateRootState;
use crate::keys::{self, ShareCollector};
use crate::rekey::RekeyState;
use crate::seal::SealConfig;
use crate::unsealed::Unsealed;

/// What `sys/init` returns: the key shares and the initial root token.
pub struct InitResult {
    /// Hex-encoded key shares.
    pub keys: Vec<Sensitive>,
    /// The same shares, base64-encoded.
    pub keys_base64: Vec<Sensitive>,
    /// The initial root token.
    pub root_token: Sensitive,
}

impl std::fmt::Debug for InitResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitResult")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// Unseal progress: the shares given so far and the attempt's nonce.
#[derive(Default)]
pub(crate) struct UnsealProgress {
    pub shares: ShareCollector,
    pub nonce: String,
}

/// The server core. Cheap to share (`Arc<Core>`); every method is safe to call
/// concurrently.
pub struct Core {
    pub(crate) sealed: SealedBarrier,
    pub(crate) config: CoreConfig,
    state: RwLock<Option<Arc<Unsealed>>>,
    pub(crate) unseal_progress: Mutex<UnsealProgress>,
    pub(crate) rekey: Mutex<Option<RekeyState>>,
    pub(crate) generate_root: Mutex<Option<GenerateRootState>>,
    /// The seal lifecycle's `sys/` paths, answered sealed or not
    /// ([`crate::sys::lifecycle`]).
    lifecycle: Arc<crate::sys::lifecycle::LifecyclePiece>,
    /// The context the lifecycle piece is called with: it keeps nothing in
    /// a mount's storage (it works through the core), so an empty view.
    lifecycle_ctx: coffer_sdk::Context,
    /// `sys/seal`, `sys/key-status`, `sys/rotate`.
    keys: Arc<crate::sys::keys::KeysPiece>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .field("sealed", &self.unsealed_state().is_none())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A sealed core over `physical` storage.
    pub fn new(physical: Arc<dyn Storage>, config: CoreConfig) -> Arc<Self> {
        let lifecycle_ctx = coffer_sdk::Context {
            storage: coffer_storage::View::new(
                Arc::new(coffer_storage::MemoryStorage::new()),
                coffer_storage::Prefix::root(),
            ),
            config: coffer_sdk::MountConfig {
                path: crate::sys::MOUNT.to_owned(),
                ..coffer_sdk::MountConfig::default()
            },
            clock: config.clock.clone(),
            services: coffer_sdk::Services::default(),
        };
        Arc::new_cyclic(|core| Self {
            sealed: SealedBarrier::new(physical),
            config,
            state: RwLock::new(None),
            unseal_progress: Mutex::new(UnsealProgress::default()),
            rekey: Mutex::new(None),
            generate_root: Mutex::new(None),
            lifecycle: Arc::new(crate::sys::lifecycle::LifecyclePiece::new(core.clone())),
            lifecycle_ctx,
            keys: Arc::new(crate::sys::keys::KeysPiece::new(core.clone())),
        })
    }

    /// The seal lifecycle piece and the context to call it with.
    pub(crate) fn lifecycle(&self) -> (&dyn coffer_sdk::Backend, &coffer_sdk::Context) {
        (self.lifecycle.as_ref(), &self.lifecycle_ctx)
    }

    /// The core's own `sys/` pieces, for the unsealed `sys/` backend.
    pub(crate) fn sys_pieces(&self) -> Vec<Arc<dyn coffer_sdk::Backend>> {
        vec![self.lifecycle.clone(), self.keys.clone()]
    }

    /// The configuration the core was built with.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub(crate) fn physical(&self) -> Arc<dyn Storage> {
        self.sealed.physical()
    }

    pub(crate) fn unsealed_state(&self) -> Option<Arc<Unsealed>> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The unsealed state, or Vault's 503 `Vault is sealed`.
    pub(crate) fn unsealed(&self) -> Result<Arc<Unsealed>> {
        self.unsealed_state().ok_or_else(Error::sealed)
    }

    fn set_state(&self, state: Option<Arc<Unsealed>>) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
    }

    /// The CORS configuration the listeners apply (`sys/config/cors`), read
    /// from memory: `None` while sealed or while CORS is disabled.
    pub fn cors(&self) -> Option<Arc<crate::CorsConfig>> {
        let config = self.unsealed_state()?.cors.current();
        config.is_enabled().then_some(config)
    }

    /// True when the server is sealed.
    pub fn is_sealed(&self) -> bool {
        self.unsealed_state().is_none()
    }

    /// True when `sys/init` has run.
    pub async fn is_initialized(&self) -> Result<bool> {
        self.sealed.is_initialized().await.map_err(|source| {
            CoreError::Barrier {
                doing: "checking initialization",
                source,
            }
            .into()
        })
    }

    /// The seal configuration, if initialised.
    pub async fn seal_config(&self) -> Result<Option<SealConfig>> {
        SealConfig::load(self.physical().as_ref()).await
    }

    /// Initialises the server (Vault's `PUT sys/init`): generates the unseal
    /// key, splits it, creates the barrier, the default mounts and policies and
    /// the root token. The server stays sealed.
    pub async fn init(&self, shares: u32, threshold: u32) -> Result<InitResult> {
        self.init_with_root_token(shares, threshold, None).await
    }

    pub(crate) async fn init_with_root_token(
        &self,
        shares: u32,
        threshold: u32,
        root_token_id: Option<&str>,
    ) -> Result<InitResult> {
        keys::validate_shares(shares, threshold)?;
        let _guard = self.unseal_progress.lock().await;
        if self.is_initialized().await? {
            return Err(CoreError::AlreadyInitialized.into());
        }
        let unseal_key = coffer_crypto::random_key().map_err(|source| CoreError::Crypto {
            doing: "generating unseal key",
            source,
        })?;
        let (hex, b64) = keys::split_key(&unseal_key, shares, threshold)?;
        SealConfig::shamir(shares, threshold)
            .save(self.physical().as_ref())
            .await?;
        let now = self.config.clock.now();
        self.sealed
            .initialize(&unseal_key, now)
            .await
            .map_err(|source| CoreError::Barrier {
                doing: "initializing the barrier",
                source,
            })?;
        let barrier =
            self.sealed
                .unseal(&unseal_key)
                .await
                .map_err(|source| CoreError::Barrier {
                    doing: "opening the new barrier",
                    source,
                })?;
        let root_token = Unsealed::initialize(
            Arc::new(barrier),
            &self.config,
            self.sys_pieces(),
            root_token_id,
        )
        .await?;
        Ok(InitResult {
            keys: hex.into_iter().map(Sensitive::from).collect(),
            keys_base64: b64.into_iter().map(Sensitive::from).collect(),
            root_token,
        })
    }

    /// Gives one unseal key share (hex or base64), or resets progress.
    /// Returns the seal status afterwards (Vault's `PUT sys/unseal`).
    pub async fn unseal(&self, key: Option<&str>, reset: bool) -> Result<Value> {
        let mut progress = self.unseal_progress.lock().await;
        if reset {
            progress.shares.reset();
            progress.nonce.clear();
            drop(progress);
            return self.seal_status().await;
        }
        if !self.is_sealed() {
            drop(progress);
            return self.seal_status().await;
        }
        let config = self.seal_config().await?.ok_or(CoreError::NotInitialized)?;
        let key = key.ok_or(CoreError::UnsealKeyMissing)?;
        let share = keys::decode_share(key)?;
        let expected_len = if config.secret_threshold == 1 { 32 } else { 33 };
        if share.expose().len() != expected_len {
            return Err(CoreError::UnsealKeyLength {
                expected: expected_len,
                got: share.expose().len(),
            }
            .into());
        }
        progress.shares.add(share)?;
        if progress.nonce.is_empty() {
            progress.nonce = coffer_crypto::random_uuid().map_err(|source| CoreError::Crypto {
                doing: "generating nonce",
                source,
            })?;
        }
        if (progress.shares.progress() as u32) < config.secret_threshold {
            drop(progress);
            return self.seal_status().await;
        }
        let combined = progress.shares.combine(config.secret_threshold);
        progress.shares.reset();
        progress.nonce.clear();
        let unseal_key = combined?;
        let barrier = self
            .sealed
            .unseal(&unseal_key)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidRequest => CoreError::UnsealWrongKeys,
                _ => CoreError::Barrier {
                    doing: "unsealing",
                    source: e,
                },
            })?;
        let unsealed = Unsealed::load(Arc::new(barrier), &self.config, self.sys_pieces()).await?;
        unsealed.start_background();
        self.set_state(Some(unsealed));
        tracing::info!("vault is unsealed");
        drop(progress);
        self.seal_status().await
    }

    /// Unseals with the full key (dev mode and tests): every share at once.
    pub async fn unseal_with_keys(&self, keys: &[Sensitive]) -> Result<()> {
        for key in keys {
            let status = self.unseal(Some(key.expose()), false).await?;
            if status["sealed"] == Value::Bool(false) {
                return Ok(());
            }
        }
        Err(CoreError::NotEnoughShares.into())
    }

    /// Seals the server: drops the unsealed state, whose keys are zeroized
    /// once the last in-flight request finishes, and cancels rekey and
    /// root-generation attempts.
    pub async fn seal(&self) -> Result<()> {
        let _guard = self.unseal_progress.lock().await;
        if let Some(unsealed) = self.unsealed_state() {
            unsealed.stop_background();
        }
        self.set_state(None);
        *self.rekey.lock().await = None;
        *self.generate_root.lock().await = None;
        tracing::info!("vault is sealed");
        Ok(())
    }

    /// Runs one expiration pass now: revokes every lease that is due by the
    /// core's clock and retries failed revocations whose back-off has
    /// passed. The server does this every second on its own; tests that
    /// advance a manual clock call it instead of waiting.
    pub async fn expire_leases_now(&self) -> Result<()> {
        self.unsealed()?.expiration.tick().await?;
        Ok(())
    }

    /// Closes the audit devices: writes a final checkpoint on each log and
    /// saves the log heads. Called when the process stops; a seal through
    /// the API does it right after the seal's own response is recorded.
    pub async fn close_audit_devices(&self) {
        if let Some(unsealed) = self.unsealed_state() {
            unsealed.close_audit().await;
        }
    }

    /// Reopens file audit devices (after log rotation; the server calls this
    /// on SIGHUP). A sealed server has nothing to reopen.
    pub async fn reopen_audit_devices(&self) -> Result<()> {
        if let Some(unsealed) = self.unsealed_state() {
            unsealed
                .audit
                .reopen()
                .await
                .map_err(|source| CoreError::Audit {
                    doing: "reopening audit devices",
                    source,
                })?;
        }
        Ok(())
    }

    /// Vault's `sys/seal-status` body.
    pub async fn seal_status(&self) -> Result<Value> {
        let initialized = self.is_initialized().await?;
        let config = self.seal_config().await?;
        let (t, n) = config
            .as_ref()
            .map(|c| (c.secret_threshold, c.secret_shares))
            .unwrap_or((0, 0));
        let (progress, nonce) = {
            let p = self.unseal_progress.lock().await;
            (p.shares.progress(), p.nonce.clone())
        };
        let sealed = self.is_sealed();
        let mut status = json!({
            "type": "shamir",
            "initialized": initialized,
            "sealed": sealed,
            "t": t,
            "n": n,
            "progress": if sealed { progress } else { 0 },
            "nonce": if sealed { nonce } else { String::new() },
            "version": crate::sys::VERSION,
            "build_date": crate::sys::BUILD_DATE,
            "migration": false,
            "recovery_seal": false,
            "storage_type": self.config.storage_type,
            "removed_from_cluster": false,
        });
        if initialized && !sealed {
            status["cluster_name"] = json!(self.config.cluster_name);
            status["cluster_id"] = json!(self.cluster_id());
        }
        Ok(status)
    }

    pub(crate) fn cluster_id(&self) -> String {
        self.unsealed_state()
            .map(|u| u.cluster_id.clone())
            .unwrap_or_default()
    }

    /// Dev mode: initialise with one key share, unseal, and mount a KV v2
    /// engine at `secret/`. Returns the unseal key and root token.
    pub async fn dev_init(&self, root_token_id: Option<&str>) -> Result<InitResult> {
        let result = self.init_with_root_token(1, 1, root_token_id).await?;
        self.unseal_with_keys(&result.keys).await?;
        let unsealed = self.unsealed()?;
        let mut options = serde_json::Map::new();
        options.insert("version".into(), json!("2"));
        let request = crate::mounts::NewMount {
            path: "secret/".into(),
            mount_type: "kv".into(),
            description: "key/value secret storage".into(),
            options,
            ..Default::default()
        };
        unsealed
            .mount(crate::mounts::Table::Secrets, request)
            .await?;
        Ok(result)
    }
}
