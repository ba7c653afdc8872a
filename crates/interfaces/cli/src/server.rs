//! `coffer server`: runs the server from a Vault configuration file, or in
//! dev mode (in memory, unsealed, plain HTTP on 127.0.0.1:8200).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use coffer_core::{Core, CoreConfig};
use coffer_storage::{CachedStorage, MemoryStorage, Storage};
use tokio::net::TcpListener;

use crate::args::ServerArgs;

const DEV_LISTEN_ADDRESS: &str = "127.0.0.1:8200";

/// Memory for the read cache in front of physical storage (ciphertext, as
/// stored): besides `cache_size`, it never holds more than this.
const PHYSICAL_CACHE_BYTES: usize = 32 << 20;

/// Installs the log subscriber: `COFFER_LOG`, else `level`, else `info`;
/// the targets that would print secrets stay off whatever the filter says
/// (see [`crate::logging`]).
fn init_logging(level: Option<&str>) {
    crate::logging::init(level);
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}

/// Reopens file audit devices on every SIGHUP (log rotation), as Vault does.
/// The handler is registered before this returns, so a SIGHUP sent once the
/// server has printed its banner can never take the default action (exit).
fn spawn_sighup_reopen(core: Arc<Core>) {
    let kind = tokio::signal::unix::SignalKind::hangup();
    let mut hup = match tokio::signal::unix::signal(kind) {
        Ok(hup) => hup,
        Err(e) => {
            tracing::warn!(
                error = %e,
                "cannot listen for SIGHUP: audit files will not be reopened on rotation"
            );
            return;
        }
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match core.reopen_audit_devices().await {
                Ok(()) => tracing::info!("SIGHUP: audit devices reopened"),
                Err(e) => tracing::error!(error = %e, "SIGHUP: reopening audit devices failed"),
            }
        }
    });
}

/// Runs the server until it is asked to stop.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    if args.dev {
        return run_dev(args).await;
    }
    let Some(path) = args.config.as_deref() else {
        bail!(
            "a configuration file is required: coffer server -config=FILE (or -dev to try Coffer out)"
        );
    };
    let config =
        coffer_config::load(path).with_context(|| format!("loading {}", path.display()))?;
    init_logging(args.log_level.as_deref().or(config.log_level.as_deref()));
    for warning in &config.warnings {
        eprintln!("WARNING: {warning}");
    }
    crate::hardening::disable_core_dumps()?;
    if !config.disable_mlock {
        crate::hardening::lock_memory()?;
    }
    let (storage, storage_type): (Arc<dyn Storage>, &str) = match &config.storage {
        coffer_config::StorageConfig::InMemory => (Arc::new(MemoryStorage::new()), "inmem"),
        coffer_config::StorageConfig::Redb {
            path,
            page_cache_mb,
        } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let page_cache =
                usize::try_from(page_cache_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
            let store = coffer_storage_redb::RedbStorage::open_async(path, page_cache)
                .await
                .with_context(|| format!("opening storage {}", path.display()))?;
            if config.disable_cache {
                (Arc::new(store), "redb")
            } else {
                let entries = usize::try_from(config.cache_size).unwrap_or(usize::MAX);
                let cached = CachedStorage::new(store, PHYSICAL_CACHE_BYTES, entries);
                (Arc::new(cached), "redb")
            }
        }
    };
    let core = Core::new(
        storage,
        CoreConfig {
            default_lease_ttl: config.default_lease_ttl,
            max_lease_ttl: config.max_lease_ttl,
            storage_type: storage_type.to_owned(),
            api_addr: config.api_addr.clone(),
            audit_devices: config
                .audit_devices
                .iter()
                .map(|d| {
                    let mut device =
                        coffer_audit::DeviceConfig::new(&d.path, &d.device_type, d.options.clone());
                    device.description = d.description.clone();
                    device
                })
                .collect(),
            audit_api_creation: !config.disable_api_audit_creation,
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    if config.listeners.is_empty() {
        bail!("the configuration has no listener \"tcp\" stanza");
    }
    let mut servers = Vec::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    spawn_sighup_reopen(core.clone());
    println!("==> Coffer server configuration:\n");
    println!("             Storage: {storage_type}");
    for (i, listener) in config.listeners.iter().enumerate() {
        let tls = if listener.tls_disable {
            None
        } else {
            let settings = coffer_http::TlsSettings {
                cert_file: listener
                    .tls_cert_file
                    .clone()
                    .context("tls_cert_file is required")?,
                key_file: listener
                    .tls_key_file
                    .clone()
                    .context("tls_key_file is required")?,
                client_ca_file: listener.tls_client_ca_file.clone(),
                require_and_verify_client_cert: listener.tls_require_and_verify_client_cert,
            };
            Some(
                coffer_http::load_tls_config(&settings)
                    .with_context(|| format!("TLS for listener {}", listener.address))?,
            )
        };
        let tcp = TcpListener::bind(&listener.address)
            .await
            .with_context(|| format!("binding {}", listener.address))?;
        let bound: SocketAddr = tcp.local_addr()?;
        println!(
            "          Listener {}: tcp (addr: \"{bound}\", tls: \"{}\")",
            i + 1,
            if tls.is_some() { "enabled" } else { "disabled" }
        );
        let mut rx = stop_rx.clone();
        let forwarded = coffer_sdk::cidr::parse_cidrs(&listener.x_forwarded_for_authorized_addrs)
            .map_err(|e| anyhow::anyhow!("x_forwarded_for_authorized_addrs: {e}"))?;
        let options = coffer_http::ListenerOptions {
            tls,
            x_forwarded_for_authorized: forwarded,
            read_timeout: listener.http_read_timeout,
        };
        servers.push(tokio::spawn(coffer_http::serve_with(
            tcp,
            core.clone(),
            options,
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            },
        )));
    }
    println!(
        "\n==> Coffer server started! It is sealed until unsealed with `coffer operator unseal`."
    );
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    for server in servers {
        server.await??;
    }
    core.close_audit_devices().await;
    Ok(())
}

async fn run_dev(args: ServerArgs) -> anyhow::Result<()> {
    init_logging(args.log_level.as_deref());
    crate::hardening::disable_core_dumps()?;
    // Like Vault, the environment can set what the flags did not.
    let env_address = std::env::var("VAULT_DEV_LISTEN_ADDRESS").ok();
    let address = args
        .dev_listen_address
        .as_deref()
        .filter(|a| *a != DEV_LISTEN_ADDRESS || env_address.is_none())
        .or(env_address.as_deref())
        .unwrap_or(DEV_LISTEN_ADDRESS);
    let root_token_id = args
        .dev_root_token_id
        .clone()
        .or_else(|| std::env::var("VAULT_DEV_ROOT_TOKEN_ID").ok())
        .filter(|t| !t.is_empty());
    let tcp = TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let bound = tcp.local_addr()?;
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    // A log rotation that signals the server must not kill it (SIGHUP's
    // default action): dev mode handles it as production does, from before
    // the banner that tells the address.
    spawn_sighup_reopen(core.clone());
    let init = core
        .dev_init(root_token_id.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("dev mode setup failed: {e}"))?;
    let token = init.root_token.expose().to_owned();
    if let Some(path) = crate::token_helper::default_path()
        && let Err(e) = crate::token_helper::store(&path, &init.root_token)
    {
        eprintln!(
            "WARNING: could not write the root token to {}: {e:#}",
            path.display()
        );
    }
    println!(
        "==> Coffer server configuration:\n\n\
         \x20            Storage: inmem\n\
         \x20         Listener 1: tcp (addr: \"{bound}\", tls: \"disabled\")\n\n\
         WARNING! dev mode is enabled! In this mode, Coffer runs entirely in-memory\n\
         and starts unsealed with a single unseal key. The root token is already\n\
         authenticated to the CLI, so you can immediately begin using Coffer.\n\n\
         You may need to set the following environment variables:\n\n\
         \x20   $ export VAULT_ADDR='http://{bound}'\n\n\
         The unseal key and root token are displayed below in case you want to\n\
         seal/unseal the Vault or re-authenticate.\n\n\
         Unseal Key: {}\n\
         Root Token: {token}\n\n\
         Development mode should NOT be used in production installations!\n",
        init.keys_base64
            .first()
            .map(|k| k.expose())
            .unwrap_or_default(),
    );
    coffer_http::serve(tcp, core, None, shutdown_signal()).await?;
    Ok(())
}
