//! `coffer rotation list|run`: the server's scheduled rotations (`sys/rotation`).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::{Format, line, table::table, to_json};

/// `coffer rotation` arguments.
#[derive(Debug, Args)]
pub struct RotationArgs {
    /// The rotation subcommand.
    #[command(subcommand)]
    pub command: RotationCommand,
}

/// The rotation subcommands.
#[derive(Debug, Subcommand)]
pub enum RotationCommand {
    /// List every scheduled rotation with its last run, next run and last error.
    List,
    /// Run one scheduled rotation now (for example `database/static-roles/web`).
    Run {
        /// The job's path.
        path: String,
    },
}

fn text(job: &Value, field: &str) -> String {
    match job.get(field) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The table `coffer rotation list` prints.
fn jobs_table(key_info: &serde_json::Map<String, Value>) -> String {
    let rows = key_info
        .iter()
        .map(|(id, job)| {
            let schedule = match job
                .get("rotation_schedule")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(cron) => cron.to_owned(),
                None => format!("every {}", text(job, "rotation_period")),
            };
            vec![
                id.clone(),
                text(job, "kind"),
                schedule,
                text(job, "last_run"),
                text(job, "next_run"),
                text(job, "attempts"),
                text(job, "last_error"),
            ]
        })
        .collect();
    table(
        &[
            "Path",
            "Kind",
            "Schedule",
            "Last run",
            "Next run",
            "Failures",
            "Last error",
        ],
        rows,
    )
}

/// Runs a rotation subcommand.
pub async fn run(ctx: &Ctx, args: RotationArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        RotationCommand::List => {
            let secret = client
                .read("sys/rotation")
                .await
                .context("Error listing rotations")?;
            let data = secret.and_then(|s| s.data).unwrap_or_default();
            match ctx.out.format {
                Format::Json => line(&to_json(&Value::Object(data))?),
                Format::Table => {
                    let info = data
                        .get("key_info")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if info.is_empty() {
                        line("No scheduled rotations.");
                    } else {
                        line(jobs_table(&info).trim_end());
                    }
                }
            }
            Ok(())
        }
        RotationCommand::Run { path } => {
            let path = path.trim_matches('/');
            let secret = client
                .write(&format!("sys/rotation/run/{path}"), &json!({}))
                .await
                .with_context(|| format!("Error running rotation {path}"))?
                .ok_or_else(|| Exit::remote(format!("No answer for rotation {path}")))?;
            match ctx.out.format {
                Format::Json => line(&to_json(&Value::Object(secret.data.unwrap_or_default()))?),
                Format::Table => ctx.out.success(&format!("Success! Ran rotation: {path}")),
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_schedule_and_errors() {
        let info = json!({
            "database/static-roles/web": {"kind": "static-role-rotation", "rotation_period": "24h0m0s", "rotation_schedule": "",
              "last_run": null, "next_run": "2026-11-27T00:00:00Z", "attempts": 0, "last_error": null},
            "database/rotate-root/pg": {"kind": "root-rotation", "rotation_schedule": "0 3 * * *", "attempts": 2, "last_error": "connection refused"}
        });
        let out = jobs_table(info.as_object().unwrap());
        assert!(out.contains("every 24h0m0s") && out.contains("0 3 * * *"));
        assert!(out.contains("connection refused") && out.contains("2026-11-27T00:00:00Z"));
    }
}
