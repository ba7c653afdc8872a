//! What the engine stores: connections, roles and static roles. Every record
//! lives in the mount's view, so behind the barrier; passwords are
//! [`Sensitive`] so no `Debug` prints them.

use std::time::{Duration, SystemTime};

use coffer_sdk::JobSchedule;
use coffer_types::Sensitive;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// When a password rotates: a period, or a cron schedule with an optional window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rotation {
    /// Seconds between rotations (`rotation_period`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    /// A 5-field cron expression (`rotation_schedule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Seconds after a fire time a rotation may still start (`rotation_window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
}

impl Rotation {
    /// The scheduler's form, or `None` when nothing is scheduled.
    pub fn job_schedule(&self) -> Option<JobSchedule> {
        match (&self.schedule, self.period) {
            (Some(expr), _) => Some(JobSchedule::Cron {
                expr: expr.clone(),
                window: self.window.map(Duration::from_secs),
            }),
            (None, Some(p)) => Some(JobSchedule::Every(Duration::from_secs(p))),
            (None, None) => None,
        }
    }

    /// Vault's fields, for reads.
    pub fn to_fields(&self, out: &mut Map<String, Value>) {
        if let Some(expr) = &self.schedule {
            out.insert("rotation_schedule".into(), expr.clone().into());
            out.insert("rotation_window".into(), self.window.unwrap_or(0).into());
        } else {
            out.insert("rotation_period".into(), self.period.unwrap_or(0).into());
        }
    }
}

/// A rotation recorded before the database is changed, so a crash or a
/// failure at any point leaves a password someone knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The new password, being applied.
    pub password: Sensitive,
    /// When the rotation started.
    pub since: SystemTime,
}

/// `config/:name`: one database connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DbConfig {
    pub plugin_name: String,
    pub connection_url: String,
    pub username: String,
    pub password: Sensitive,
    /// A root rotation in flight.
    #[serde(default)]
    pub pending: Option<Pending>,
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    pub verify_connection: bool,
    #[serde(default)]
    pub password_policy: String,
    #[serde(default)]
    pub username_template: String,
    #[serde(default)]
    pub root_rotation_statements: Vec<String>,
    pub max_open_connections: u32,
    pub max_idle_connections: u32,
    pub max_connection_lifetime: u64,
    /// The plugin's own fields.
    #[serde(default)]
    pub options: Map<String, Value>,
    /// Scheduled root rotation.
    #[serde(default)]
    pub rotation: Rotation,
    #[serde(default)]
    pub disable_automated_rotation: bool,
    #[serde(default)]
    pub last_root_rotation: Option<SystemTime>,
    #[serde(default)]
    pub plugin_version: String,
    /// Bumped by every change that needs a new connection (a write, a root
    /// rotation), so cached connections are replaced.
    #[serde(default)]
    pub generation: u64,
}

/// `roles/:name`: how dynamic users are made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Role {
    pub db_name: String,
    #[serde(default)]
    pub creation_statements: Vec<String>,
    #[serde(default)]
    pub revocation_statements: Vec<String>,
    #[serde(default)]
    pub rollback_statements: Vec<String>,
    #[serde(default)]
    pub renew_statements: Vec<String>,
    /// Seconds; zero means the mount's default.
    #[serde(default)]
    pub default_ttl: u64,
    /// Seconds; zero means the mount's maximum.
    #[serde(default)]
    pub max_ttl: u64,
}

/// `static-roles/:name`: one existing database user whose password the
/// engine owns and rotates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StaticRole {
    pub db_name: String,
    pub username: String,
    #[serde(default)]
    pub rotation_statements: Vec<String>,
    pub rotation: Rotation,
    /// The password in the database (empty until the first rotation).
    pub password: Sensitive,
    #[serde(default)]
    pub last_vault_rotation: Option<SystemTime>,
    /// A rotation in flight.
    #[serde(default)]
    pub pending: Option<Pending>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_passwords() {
        let role = StaticRole {
            db_name: "pg".into(),
            username: "app".into(),
            rotation_statements: vec![],
            rotation: Rotation::default(),
            password: Sensitive::from("canary-static-pw"),
            last_vault_rotation: None,
            pending: Some(Pending {
                password: Sensitive::from("canary-pending-pw"),
                since: SystemTime::UNIX_EPOCH,
            }),
        };
        let text = format!("{role:?}");
        assert!(!text.contains("canary"), "{text}");
    }

    #[test]
    fn rotation_schedules() {
        let every = Rotation {
            period: Some(60),
            ..Rotation::default()
        };
        assert_eq!(
            every.job_schedule(),
            Some(JobSchedule::Every(Duration::from_secs(60)))
        );
        let cron = Rotation {
            schedule: Some("0 * * * *".into()),
            window: Some(3600),
            ..Rotation::default()
        };
        assert!(matches!(
            cron.job_schedule(),
            Some(JobSchedule::Cron { .. })
        ));
        assert_eq!(Rotation::default().job_schedule(), None);
    }
}
