//! A job's specification and its persisted state.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::schedule::Schedule;

/// What a caller registers: which job, of what kind, on what schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// A stable id, usually the path it rotates (`database/static-roles/web`).
    pub id: String,
    /// What the job does (`static-role-rotation`, `root-rotation`); the
    /// runner dispatches on it.
    pub kind: String,
    /// When it runs.
    pub schedule: Schedule,
}

/// A job as stored: its spec and what happened when it last ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    /// The job's id.
    pub id: String,
    /// The job's kind.
    pub kind: String,
    /// The job's schedule.
    pub schedule: Schedule,
    /// When the job is next due (a schedule time, or a retry after failure).
    pub next_run: SystemTime,
    /// When the job last ran, successfully or not.
    pub last_run: Option<SystemTime>,
    /// When the job last succeeded.
    pub last_success: Option<SystemTime>,
    /// The error of the last run, if it failed.
    pub last_error: Option<String>,
    /// Consecutive failures (0 after a success).
    pub attempts: u32,
}

fn time_value(t: Option<SystemTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(coffer_sdk::time::rfc3339(t)))
}

impl JobState {
    /// The JSON shape `sys/rotation` answers with for one job.
    pub fn to_json(&self) -> Map<String, Value> {
        let (schedule, period, expr, window) = match &self.schedule {
            Schedule::Every(p) => ("period", Some(p.as_secs()), None, None),
            Schedule::Cron { expr, window } => (
                "cron",
                None,
                Some(expr.clone()),
                window.map(|w| w.as_secs()),
            ),
        };
        let value = json!({
            "id": self.id,
            "kind": self.kind,
            "schedule_type": schedule,
            "rotation_period": period,
            "rotation_schedule": expr,
            "rotation_window": window,
            "next_run": time_value(Some(self.next_run)),
            "last_run": time_value(self.last_run),
            "last_success": time_value(self.last_success),
            "last_error": self.last_error,
            "attempts": self.attempts,
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn json_shape() {
        let job = JobState {
            id: "database/static-roles/web".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(86_400)),
            next_run: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            last_run: None,
            last_success: None,
            last_error: Some("connection refused".into()),
            attempts: 2,
        };
        let v = Value::Object(job.to_json());
        assert_eq!(v["kind"], "static-role-rotation");
        assert_eq!(v["schedule_type"], "period");
        assert_eq!(v["rotation_period"], 86_400);
        assert_eq!(v["rotation_schedule"], Value::Null);
        assert_eq!(v["next_run"], "2023-11-14T22:13:20Z");
        assert_eq!(v["last_run"], Value::Null);
        assert_eq!(v["last_error"], "connection refused");
        assert_eq!(v["attempts"], 2);
    }
}
