//! `sys/rotation`: Coffer's own endpoint listing every scheduled job, and
//! `sys/rotation/run/:id` to run one now.

use coffer_types::{Error, Operation, Request, Response};
use serde_json::{Map, Value};

use crate::run::JobRunner;
use crate::scheduler::Scheduler;

impl Scheduler {
    /// Serves the scheduler's paths, `relative` to `sys/`:
    /// - `rotation` (LIST, or GET): every job, as Vault lists: `keys` (the
    ///   ids) and `key_info` (id -> kind, schedule, last run, next run, last
    ///   error, attempts). An empty LIST is a 404, as in Vault.
    /// - `rotation/:id` (GET): one job, 404 when unknown.
    /// - `rotation/run/:id` (POST/PUT): runs the job now with `runner` and
    ///   answers with its new state; a failed run is an error with the
    ///   runner's status and the job keeps its retry schedule.
    ///
    /// Any other path answers `None` (not the scheduler's).
    pub async fn handle_sys(
        &self,
        relative: &str,
        req: &Request,
        runner: &dyn JobRunner,
    ) -> coffer_types::Result<Option<Response>> {
        let Some(rest) = relative.strip_prefix("rotation") else {
            return Ok(None);
        };
        let rest = match rest {
            "" | "/" => None,
            r => match r.strip_prefix('/') {
                Some(id) => Some(id),
                None => return Ok(None),
            },
        };
        let op = req.op();
        match rest {
            None => match op {
                Operation::List | Operation::Read => self.list_response(op).await.map(Some),
                _ => Err(Error::unsupported(format!(
                    "unsupported operation {op} on sys/rotation"
                ))),
            },
            Some(path) => {
                if let Some(id) = path.strip_prefix("run/")
                    && matches!(op, Operation::Update | Operation::Create)
                {
                    let job = self.run_now(id, runner).await?;
                    return Ok(Some(Response::with_data(job.to_json())));
                }
                match op {
                    Operation::Read => match self.get(path).await? {
                        Some(job) => Ok(Some(Response::with_data(job.to_json()))),
                        None => Err(Error::not_found()),
                    },
                    _ => Err(Error::unsupported(format!(
                        "unsupported operation {op} on sys/rotation/{path}"
                    ))),
                }
            }
        }
    }

    async fn list_response(&self, op: Operation) -> coffer_types::Result<Response> {
        let jobs = self.list().await?;
        if jobs.is_empty() && op == Operation::List {
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
        Ok(Response::with_data(data))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use async_trait::async_trait;
    use coffer_sdk::ManualClock;
    use coffer_storage::{MemoryStorage, Prefix, View};

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

    fn data(resp: Option<Response>) -> Value {
        Value::Object(resp.unwrap().data.unwrap())
    }

    #[tokio::test]
    async fn list_and_read_shapes() {
        let s = setup().await;
        let list = Request::new(Operation::List, "sys/rotation");
        assert_eq!(
            s.handle_sys("rotation", &list, &Succeeds)
                .await
                .unwrap_err()
                .status(),
            404
        );
        let get = Request::new(Operation::Read, "sys/rotation");
        let empty = data(s.handle_sys("rotation", &get, &Succeeds).await.unwrap());
        assert_eq!(empty["keys"], serde_json::json!([]));

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

        for (path, req) in [
            ("rotation", &list),
            ("rotation/", &list),
            ("rotation", &get),
        ] {
            let d = data(s.handle_sys(path, req, &Succeeds).await.unwrap());
            assert_eq!(
                d["keys"],
                serde_json::json!(["database/config/pg", "database/static-roles/web"])
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
            s.handle_sys("rotation/database/config/pg", &get, &Succeeds)
                .await
                .unwrap(),
        );
        assert_eq!(one["id"], "database/config/pg");
        assert_eq!(one["kind"], "root-rotation");
        let missing = s
            .handle_sys("rotation/nope", &get, &Succeeds)
            .await
            .unwrap_err();
        assert_eq!(missing.status(), 404);
        let del = Request::new(Operation::Delete, "sys/rotation/x");
        assert_eq!(
            s.handle_sys("rotation/database/config/pg", &del, &Succeeds)
                .await
                .unwrap_err()
                .status(),
            405
        );
        // Not the scheduler's paths.
        assert!(
            s.handle_sys("rotations", &get, &Succeeds)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.handle_sys("mounts", &get, &Succeeds)
                .await
                .unwrap()
                .is_none()
        );
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
        let post = Request::new(
            Operation::Update,
            "sys/rotation/run/database/static-roles/web",
        );
        let path = "rotation/run/database/static-roles/web";
        let ok = data(s.handle_sys(path, &post, &Succeeds).await.unwrap());
        assert_eq!(ok["last_run"], "2023-11-14T22:13:20Z");
        assert_eq!(ok["attempts"], 0);

        let err = s.handle_sys(path, &post, &Fails).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.messages()[0].contains("password authentication failed"));
        let get = Request::new(Operation::Read, "sys/rotation");
        let after = data(
            s.handle_sys("rotation/database/static-roles/web", &get, &Succeeds)
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

        let missing = s
            .handle_sys("rotation/run/nope", &post, &Succeeds)
            .await
            .unwrap_err();
        assert_eq!(missing.status(), 404);
    }
}
