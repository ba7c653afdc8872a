//! `sys/rotation`: Coffer's own endpoint listing every scheduled job, and
//! `sys/rotation/run/:id` to run one now. [`RotationSys`] is the
//! scheduler's piece of the `sys/` backend: a [`coffer_sdk::Backend`] over a
//! path table declared relative to `sys/`, holding the scheduler and the job
//! runner that `run` needs (the core's, which reaches the engines).

use std::sync::Arc;

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::run::JobRunner;
use crate::scheduler::Scheduler;

const ID_FIELDS: &[FieldDef] = &[FieldDef::new(
    "id",
    FieldType::String,
    "The job's id: the path of the mount that owns it followed by the job's path in that mount \
     (database/static-roles/web).",
)
.required()];

fn list_def() -> PathDef {
    PathDef {
        pattern: "rotation",
        fields: &[],
        operations: &[Operation::Read, Operation::List],
        existence_check: false,
        synopsis: "Every scheduled rotation, its last and next run.",
        description: "Lists every scheduled job as keys (the ids) and key_info (id to kind, \
             schedule, last run, next run, last error, attempts). An empty LIST is a 404, as in \
             Vault; a GET answers the empty list.",
    }
}

fn run_def() -> PathDef {
    PathDef {
        pattern: "rotation/run/*id",
        fields: ID_FIELDS,
        operations: &[Operation::Read, Operation::Update],
        existence_check: false,
        synopsis: "Run a scheduled rotation now.",
        description: "A write runs the job now and answers with its new state; a failed run is \
             an error with the runner's status and the job keeps its retry schedule. A read \
             answers the job whose id is run/<id> (a job of a mount at run/), as \
             rotation/<id> does for any other job.",
    }
}

fn job_def() -> PathDef {
    PathDef {
        pattern: "rotation/*id",
        fields: ID_FIELDS,
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "One scheduled rotation.",
        description: "The job's kind, schedule, last run, next run, last error and attempts; \
             404 when no job has this id.",
    }
}

/// The scheduler's `sys/` piece: its path table, the scheduler, and the
/// runner that `rotation/run/*id` runs a job with.
pub struct RotationSys {
    table: PathTable<RotationSys>,
    scheduler: Arc<Scheduler>,
    runner: Arc<dyn JobRunner>,
}

impl std::fmt::Debug for RotationSys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationSys")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl RotationSys {
    /// The piece over `scheduler`, running jobs on demand with `runner`.
    pub fn new(scheduler: Arc<Scheduler>, runner: Arc<dyn JobRunner>) -> Self {
        Self {
            // `rotation/run/*id` before `rotation/*id`: the first match wins.
            table: PathTable::new(vec![
                Path::new(list_def())
                    .read(handler!(list))
                    .list(handler!(list)),
                Path::new(run_def())
                    .read(handler!(read_run_job))
                    .update(handler!(run)),
                Path::new(job_def()).read(handler!(read)),
            ]),
            scheduler,
            runner,
        }
    }
}

/// `rotation` (LIST or GET): `keys` and `key_info`; an empty LIST is a 404.
async fn list(piece: &RotationSys, call: &Call<'_>) -> Result<Option<Response>> {
    let jobs = piece.scheduler.list().await?;
    if jobs.is_empty() && call.op == Operation::List {
        return Err(Error::not_found());
    }
    let keys: Vec<Value> = jobs.iter().map(|j| Value::String(j.id.clone())).collect();
    let key_info: Map<String, Value> = jobs
        .iter()
        .map(|j| (j.id.clone(), Value::Object(j.to_json())))
        .collect();
    let mut data = Map::new();
    data.insert("keys".into(), Value::Array(keys));
    data.insert("key_info".into(), Value::Object(key_info));
    Ok(Some(Response::with_data(data)))
}

/// The job `id`, 404 when unknown.
async fn job(piece: &RotationSys, id: &str) -> Result<Option<Response>> {
    match piece.scheduler.get(id).await? {
        Some(job) => Ok(Some(Response::with_data(job.to_json()))),
        None => Err(Error::not_found()),
    }
}

/// `rotation/*id` (GET): one job.
async fn read(piece: &RotationSys, call: &Call<'_>) -> Result<Option<Response>> {
    job(piece, call.capture("id")).await
}

/// `rotation/run/*id` (GET): the job `run/<id>`, which `rotation/*id`
/// would answer if this path did not come first.
async fn read_run_job(piece: &RotationSys, call: &Call<'_>) -> Result<Option<Response>> {
    job(piece, &format!("run/{}", call.capture("id"))).await
}

/// `rotation/run/*id` (POST/PUT): runs the job now and answers with its
/// new state; a failed run is an error with the runner's status.
async fn run(piece: &RotationSys, call: &Call<'_>) -> Result<Option<Response>> {
    let job = piece
        .scheduler
        .run_now(call.capture("id"), piece.runner.as_ref())
        .await?;
    Ok(Some(Response::with_data(job.to_json())))
}

/// The `sys/` piece; `req.relative_path` is relative to `sys/`.
impl Backend for RotationSys {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use async_trait::async_trait;
    use coffer_sdk::{Context, ManualClock, MountConfig, Services, special_path_matches};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Request;
    use serde_json::json;

    use super::*;
    use crate::job::{JobSpec, JobState};
    use crate::schedule::Schedule;

    struct Fails;

    #[async_trait]
    impl JobRunner for Fails {
        async fn run(&self, _job: &JobState) -> coffer_types::Result<()> {
            Err(Error::invalid(
                "password authentication failed for user \"web\"",
            ))
        }
    }

    struct Succeeds;

    #[async_trait]
    impl JobRunner for Succeeds {
        async fn run(&self, _job: &JobState) -> coffer_types::Result<()> {
            Ok(())
        }
    }

    async fn setup() -> Arc<Scheduler> {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let view = View::new(Arc::new(MemoryStorage::new()), Prefix::new("s/").unwrap());
        Scheduler::load(view, clock).await.unwrap()
    }

    /// The `sys/` mount's context as the core hands it to the piece (the
    /// piece ignores its storage: the scheduler keeps its own).
    fn ctx() -> Context {
        Context {
            storage: View::new(Arc::new(MemoryStorage::new()), Prefix::new("sys/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(ManualClock::new(UNIX_EPOCH)),
            services: Services::default(),
        }
    }

    /// `op` on `rel` (relative to `sys/`) with `body` through `piece`.
    async fn call(
        piece: &RotationSys,
        op: Operation,
        rel: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        let Value::Object(map) = body else {
            panic!("body must be an object")
        };
        piece
            .handle(&ctx(), &Request::new(op, rel).with_data(map))
            .await
    }

    fn data(resp: Option<Response>) -> Value {
        Value::Object(resp.unwrap().data.unwrap())
    }

    #[tokio::test]
    async fn declarations_and_special_paths() {
        let piece = RotationSys::new(setup().await, Arc::new(Succeeds));
        let decls: Vec<_> = piece
            .paths()
            .iter()
            .map(|d| {
                let fields: Vec<_> = d.fields.iter().map(|f| (f.name, f.required)).collect();
                (d.pattern, d.operations.to_vec(), fields)
            })
            .collect();
        assert_eq!(
            decls,
            vec![
                ("rotation", vec![Operation::Read, Operation::List], vec![]),
                (
                    "rotation/run/*id",
                    vec![Operation::Read, Operation::Update],
                    vec![("id", true)],
                ),
                ("rotation/*id", vec![Operation::Read], vec![("id", true)]),
            ]
        );
        let special = piece.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
        for p in [
            "rotation",
            "rotation/run/database/config/pg",
            "rotation/x/y",
        ] {
            assert!(!special_path_matches(&special.root, p), "{p} needs no sudo");
        }
        let matching = |rel: &str| {
            piece
                .paths()
                .iter()
                .find(|d| d.matches(rel))
                .map(|d| d.pattern)
        };
        assert_eq!(matching("rotation"), Some("rotation"));
        assert_eq!(matching("rotation/"), Some("rotation"));
        assert_eq!(matching("rotation/run/a/b"), Some("rotation/run/*id"));
        assert_eq!(matching("rotation/a/b/c"), Some("rotation/*id"));
        assert_eq!(matching("rotations"), None, "not the scheduler's");
        assert_eq!(matching("mounts"), None);
    }

    #[tokio::test]
    async fn list_and_read_shapes() {
        let s = setup().await;
        let piece = RotationSys::new(s.clone(), Arc::new(Succeeds));
        let e = call(&piece, Operation::List, "rotation", json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), 404);
        let empty = data(
            call(&piece, Operation::Read, "rotation", json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(empty["keys"], json!([]));

        s.upsert(JobSpec {
            id: "database/static-roles/web".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(86_400)),
        })
        .await
        .unwrap();
        s.upsert(JobSpec {
            id: "database/config/pg".into(),
            kind: "root-rotation".into(),
            schedule: Schedule::parse_cron("0 3 * * SUN", None).unwrap(),
        })
        .await
        .unwrap();

        for (path, op) in [
            ("rotation", Operation::List),
            ("rotation/", Operation::List),
            ("rotation", Operation::Read),
        ] {
            let d = data(call(&piece, op, path, json!({})).await.unwrap());
            assert_eq!(
                d["keys"],
                json!(["database/config/pg", "database/static-roles/web"])
            );
            let web = &d["key_info"]["database/static-roles/web"];
            assert_eq!(web["kind"], "static-role-rotation");
            assert_eq!(web["rotation_period"], 86_400);
            assert_eq!(web["next_run"], "2023-11-15T22:13:20Z");
            assert_eq!(web["last_run"], Value::Null);
            assert_eq!(web["last_error"], Value::Null);
            assert_eq!(web["attempts"], 0);
            let pg = &d["key_info"]["database/config/pg"];
            assert_eq!(pg["rotation_schedule"], "0 3 * * SUN");
            // 2023-11-14 is a Tuesday: next Sunday 03:00 UTC.
            assert_eq!(pg["next_run"], "2023-11-19T03:00:00Z");
        }

        let one = data(
            call(
                &piece,
                Operation::Read,
                "rotation/database/config/pg",
                json!({}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(one["id"], "database/config/pg");
        assert_eq!(one["kind"], "root-rotation");
        let missing = call(&piece, Operation::Read, "rotation/nope", json!({}))
            .await
            .unwrap_err();
        assert_eq!(missing.status(), 404);
        let del = call(
            &piece,
            Operation::Delete,
            "rotation/database/config/pg",
            json!({}),
        )
        .await
        .unwrap_err();
        assert_eq!(del.status(), 405);
        let post = call(&piece, Operation::Update, "rotation", json!({}))
            .await
            .unwrap_err();
        assert_eq!(post.status(), 405);
        let list_one = call(&piece, Operation::List, "rotation/x", json!({}))
            .await
            .unwrap_err();
        assert_eq!(list_one.status(), 405);
        // Not the scheduler's paths.
        for rel in ["rotations", "mounts"] {
            let e = call(&piece, Operation::Read, rel, json!({}))
                .await
                .unwrap_err();
            assert_eq!(e.status(), 404, "{rel}");
        }
    }

    #[tokio::test]
    async fn a_job_of_a_mount_at_run_is_still_readable() {
        let s = setup().await;
        s.upsert(JobSpec {
            id: "run/static-roles/web".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(3600)),
        })
        .await
        .unwrap();
        let piece = RotationSys::new(s, Arc::new(Succeeds));
        let one = data(
            call(
                &piece,
                Operation::Read,
                "rotation/run/static-roles/web",
                json!({}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(one["id"], "run/static-roles/web");
        let ran = data(
            call(
                &piece,
                Operation::Update,
                "rotation/run/run/static-roles/web",
                json!({}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(ran["last_run"], "2023-11-14T22:13:20Z");
    }

    #[tokio::test]
    async fn run_endpoint_runs_and_reports_failures() {
        let s = setup().await;
        s.upsert(JobSpec {
            id: "database/static-roles/web".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(3600)),
        })
        .await
        .unwrap();
        let succeeds = RotationSys::new(s.clone(), Arc::new(Succeeds));
        let fails = RotationSys::new(s.clone(), Arc::new(Fails));
        let path = "rotation/run/database/static-roles/web";
        let ok = data(
            call(&succeeds, Operation::Update, path, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(ok["last_run"], "2023-11-14T22:13:20Z");
        assert_eq!(ok["attempts"], 0);
        let created = data(
            call(&succeeds, Operation::Create, path, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(created["attempts"], 0, "create runs it as update does");

        let err = call(&fails, Operation::Update, path, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.messages()[0].contains("password authentication failed"));
        let after = data(
            call(
                &succeeds,
                Operation::Read,
                "rotation/database/static-roles/web",
                json!({}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(after["attempts"], 1);
        assert!(
            after["last_error"]
                .as_str()
                .unwrap()
                .contains("password authentication")
        );

        let missing = call(&succeeds, Operation::Update, "rotation/run/nope", json!({}))
            .await
            .unwrap_err();
        assert_eq!(missing.status(), 404);
    }

    #[tokio::test]
    async fn unknown_fields_are_warned_about() {
        let s = setup().await;
        s.upsert(JobSpec {
            id: "database/static-roles/web".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(3600)),
        })
        .await
        .unwrap();
        let piece = RotationSys::new(s, Arc::new(Succeeds));
        let resp = call(
            &piece,
            Operation::Update,
            "rotation/run/database/static-roles/web",
            json!({ "force": true }),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [force]"]
        );
        assert_eq!(resp.data.unwrap()["id"], "database/static-roles/web");
    }
}
