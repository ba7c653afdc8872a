//! A mounted engine over memory storage, with the real scheduler and
//! password policies, a manual clock, and helpers to reach databases.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use coffer_scheduler::{JobRunner, JobState, Scheduler, TickReport};
use coffer_sdk::storage::{MemoryStorage, Prefix, Storage, View};
use coffer_sdk::{Backend, Context, ManualClock, Services, testing};
use coffer_types::{LeaseData, Operation, Response, Result};
use serde_json::{Map, Value, json};

use crate::DatabaseBackend;

pub(crate) const MOUNT: &str = "database/";

pub(crate) fn backend() -> DatabaseBackend {
    DatabaseBackend::new(vec![
        Arc::new(coffer_database_postgres::PostgresFactory),
        Arc::new(coffer_database_mysql::MysqlFactory),
        Arc::new(coffer_database_redis::RedisFactory),
    ])
}

/// The sdk harness with the engine mounted at [`MOUNT`], requests from a
/// root token (display name `token`), and the real scheduler.
pub(crate) struct Harness {
    pub t: testing::Harness,
    pub backend: Arc<DatabaseBackend>,
    pub scheduler: Arc<Scheduler>,
}

impl Deref for Harness {
    type Target = testing::Harness;
    fn deref(&self) -> &testing::Harness {
        &self.t
    }
}

struct Runner {
    backend: Arc<DatabaseBackend>,
    ctx: Context,
}

#[async_trait::async_trait]
impl JobRunner for Runner {
    async fn run(&self, job: &JobState) -> Result<()> {
        let relative = job.id.strip_prefix(MOUNT).unwrap_or(&job.id);
        self.backend
            .run_scheduled(&self.ctx, relative, &job.kind)
            .await
    }
}

impl Harness {
    pub(crate) async fn new() -> Self {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        Self::over(Arc::new(MemoryStorage::new()), clock).await
    }

    /// The engine as a restarted server sees it: the same storage and
    /// clock, a new engine instance (no cached connection, no lock held).
    pub(crate) async fn restart(&self) -> Self {
        Self::over(self.physical.clone(), self.clock.clone()).await
    }

    async fn over(storage: Arc<MemoryStorage>, clock: Arc<ManualClock>) -> Self {
        let dyn_storage: Arc<dyn Storage> = storage.clone();
        let scheduler = Scheduler::load(
            View::new(dyn_storage.clone(), Prefix::new("sys/scheduler/").unwrap()),
            clock.clone(),
        )
        .await
        .unwrap();
        let passwords = coffer_password_policy::PasswordPolicyStore::new(View::new(
            dyn_storage,
            Prefix::new("sys/").unwrap(),
        ));
        let t = testing::Harness::builder()
            .physical(storage)
            .clock(clock)
            .mount_path(MOUNT)
            .accessor("database_test")
            .prefix("logical/db/")
            .ttls(Duration::from_secs(3600), Duration::from_secs(86_400))
            .display_name("token")
            .services(Services {
                jobs: Arc::new(coffer_scheduler::MountJobs::new(scheduler.clone(), MOUNT)),
                passwords: Arc::new(passwords),
            })
            .build();
        Self {
            t,
            backend: Arc::new(backend()),
            scheduler,
        }
    }

    pub(crate) fn arm_crash_after_apply(&self) {
        *self.backend.fault.lock().unwrap() = Some(crate::rotation::Fault::AfterApply);
    }

    pub(crate) async fn call(
        &self,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        self.t.call(&*self.backend, op, path, body).await
    }

    pub(crate) async fn write(&self, path: &str, body: Value) -> Result<Option<Response>> {
        self.call(Operation::Update, path, body).await
    }

    pub(crate) async fn read(&self, path: &str) -> Result<Option<Response>> {
        self.call(Operation::Read, path, json!({})).await
    }

    /// The `data` of a read that must succeed.
    pub(crate) async fn data(&self, path: &str) -> Map<String, Value> {
        self.read(path)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("nothing at {path}"))
            .data
            .unwrap()
    }

    pub(crate) async fn tick(&self) -> TickReport {
        let runner = Runner {
            backend: self.backend.clone(),
            ctx: self.ctx.clone(),
        };
        self.scheduler.tick(&runner).await.unwrap()
    }

    /// The lease the core would register for a `creds/` response.
    pub(crate) fn lease_of(&self, response: &Response, role: &str) -> LeaseData {
        let secret = response.secret.as_ref().unwrap();
        LeaseData {
            lease_id: format!("{MOUNT}creds/{role}/test"),
            path: format!("creds/{role}"),
            internal_data: secret.internal_data.clone().unwrap(),
            issue_time: self.clock_now(),
            ttl: secret.ttl,
        }
    }

    pub(crate) fn clock_now(&self) -> std::time::SystemTime {
        self.now()
    }
}

/// A unique suffix for names in the shared services.
pub(crate) fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Connects to PostgreSQL at `url` and runs `SELECT 1`.
pub(crate) async fn pg_login(url: &str) -> std::result::Result<(), String> {
    let message = |e: tokio_postgres::Error| match e.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => e.to_string(),
    };
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(message)?;
    tokio::spawn(conn);
    client
        .simple_query("SELECT 1")
        .await
        .map(|_| ())
        .map_err(message)
}

/// A client of the PostgreSQL at `url` (a superuser), for checks and set-up.
pub(crate) async fn pg_admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// The connection URL form the engine takes, for a server at `port`.
pub(crate) fn pg_config_url(port: u16) -> String {
    format!(
        "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{port}/postgres?sslmode=disable"
    )
}

/// The connection URL form the engine takes, for the server at the host and
/// port of `url` (the one `require` returned).
pub(crate) fn pg_config_url_of(url: &str) -> String {
    let (host, port) = coffer_test_services::host_port(url, 5432)
        .expect("the test PostgreSQL URL has a host and port");
    format!("postgresql://{{{{username}}}}:{{{{password}}}}@{host}:{port}/postgres?sslmode=disable")
}

/// Whether a role exists.
pub(crate) async fn pg_role_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

pub(crate) fn s(map: &Map<String, Value>, key: &str) -> String {
    map[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {map:?}"))
        .to_owned()
}

impl Harness {
    /// Revokes the lease of a `creds/` response through the engine.
    pub(crate) async fn backend_revoke(&self, response: &Response, role: &str) {
        self.backend
            .revoke_lease(&self.ctx, &self.lease_of(response, role))
            .await
            .unwrap();
    }
}
