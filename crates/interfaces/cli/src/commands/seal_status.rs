//! The seal-status table shared by `status` and `operator unseal` (Vault's
//! `OutputSealStatus`), and its JSON form with the HA fields of `sys/leader`.

use anyhow::Result;
use serde_json::{Map, Value};

use coffer_client::{Client, SealStatus};

use crate::output::table::table;
use crate::output::value::go_value;
use crate::output::{Format, Output, line, to_json};

fn leader_bool(leader: Option<&Value>, key: &str) -> bool {
    leader
        .and_then(|l| l.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn leader_str(leader: Option<&Value>, key: &str) -> String {
    leader
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn leader_u64(leader: Option<&Value>, key: &str) -> u64 {
    leader
        .and_then(|l| l.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The table Vault prints for `vault status`.
pub fn render(status: &SealStatus, leader: Option<&Value>) -> String {
    let prefix = if status.recovery_seal {
        "Recovery "
    } else {
        ""
    };
    let mut rows: Vec<(String, String)> = vec![
        (format!("{prefix}Seal Type"), status.seal_type.clone()),
        ("Initialized".into(), status.initialized.to_string()),
        ("Sealed".into(), status.sealed.to_string()),
        (format!("Total {prefix}Shares"), status.n.to_string()),
        ("Threshold".into(), status.t.to_string()),
    ];
    if status.sealed {
        rows.push((
            "Unseal Progress".into(),
            format!("{}/{}", status.progress, status.t),
        ));
        rows.push(("Unseal Nonce".into(), status.nonce.clone()));
    }
    if status.migration {
        rows.push(("Seal Migration in Progress".into(), "true".into()));
    }
    rows.push(("Version".into(), status.version.clone()));
    rows.push(("Build Date".into(), status.build_date.clone()));
    rows.push(("Storage Type".into(), status.storage_type.clone()));
    if !status.cluster_name.is_empty() && !status.cluster_id.is_empty() {
        rows.push(("Cluster Name".into(), status.cluster_name.clone()));
        rows.push(("Cluster ID".into(), status.cluster_id.clone()));
    }
    let ha = leader_bool(leader, "ha_enabled");
    rows.push(("HA Enabled".into(), ha.to_string()));
    if ha && !status.sealed {
        rows.push((
            "HA Cluster".into(),
            leader_str(leader, "leader_cluster_address"),
        ));
        let is_self = leader_bool(leader, "is_self");
        rows.push((
            "HA Mode".into(),
            if is_self { "active" } else { "standby" }.into(),
        ));
        let active = leader_str(leader, "active_time");
        if is_self && !active.is_empty() && !active.starts_with("0001-01-01") {
            rows.push(("Active Since".into(), active));
        }
        if !is_self {
            let addr = leader_str(leader, "leader_address");
            let addr = if addr.is_empty() {
                "<none>".to_owned()
            } else {
                addr
            };
            rows.push(("Active Node Address".into(), addr));
        }
    }
    for (key, label) in [
        ("raft_committed_index", "Raft Committed Index"),
        ("raft_applied_index", "Raft Applied Index"),
        ("last_wal", "Last WAL"),
    ] {
        let n = leader_u64(leader, key);
        if n > 0 {
            rows.push((label.into(), n.to_string()));
        }
    }
    if let Some(Value::Array(w)) = status.extra.get("warnings")
        && !w.is_empty()
    {
        rows.push(("Warnings".into(), go_value(&Value::Array(w.clone()))));
    }
    table(
        &["Key", "Value"],
        rows.into_iter().map(|(k, v)| vec![k, v]).collect(),
    )
}

/// The JSON Vault prints: the seal status plus the leader's HA fields.
pub fn json(status: &SealStatus, leader: Option<&Value>) -> Result<Value> {
    let mut out = match serde_json::to_value(status)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    out.insert(
        "ha_enabled".into(),
        Value::from(leader_bool(leader, "ha_enabled")),
    );
    if let Some(Value::Object(l)) = leader {
        for key in [
            "is_self",
            "active_time",
            "leader_address",
            "leader_cluster_address",
            "performance_standby",
            "raft_committed_index",
            "raft_applied_index",
        ] {
            if let Some(v) = l.get(key).filter(|v| !is_zero(v)) {
                out.insert(key.into(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Looks up the leader (ignoring failures: a sealed or non-HA server may not
/// answer) and prints the status in the chosen format.
pub async fn print(client: &Client, out: &Output, status: &SealStatus) -> Result<()> {
    let leader = if status.sealed {
        None
    } else {
        client.sys().leader().await.ok()
    };
    match out.format {
        Format::Json => line(&to_json(&json(status, leader.as_ref())?)?),
        Format::Table => line(&render(status, leader.as_ref())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn status(sealed: bool) -> SealStatus {
        serde_json::from_value(
            json!({"type": "shamir", "initialized": true, "sealed": sealed,
            "t": 3, "n": 5, "progress": 1, "nonce": "n1", "version": "0.1.0",
            "build_date": "2025-01-01T00:00:00Z", "storage_type": "inmem",
            "cluster_name": "coffer-cluster-1", "cluster_id": "c-1"}),
        )
        .unwrap()
    }

    #[test]
    fn unsealed_status_matches_vaults_layout() {
        let out = render(&status(false), Some(&json!({"ha_enabled": false})));
        assert_eq!(
            out,
            "Key             Value\n\
             ---             -----\n\
             Seal Type       shamir\n\
             Initialized     true\n\
             Sealed          false\n\
             Total Shares    5\n\
             Threshold       3\n\
             Version         0.1.0\n\
             Build Date      2025-01-01T00:00:00Z\n\
             Storage Type    inmem\n\
             Cluster Name    coffer-cluster-1\n\
             Cluster ID      c-1\n\
             HA Enabled      false"
        );
    }

    #[test]
    fn sealed_status_shows_progress() {
        let out = render(&status(true), None);
        assert!(out.contains("Unseal Progress    1/3"));
        assert!(out.contains("Unseal Nonce       n1"));
    }

    #[test]
    fn ha_rows_for_an_active_node() {
        let leader = json!({"ha_enabled": true, "is_self": true, "active_time": "2025-01-01T00:00:00Z",
            "leader_cluster_address": "https://n1:8201", "raft_committed_index": 7});
        let out = render(&status(false), Some(&leader));
        assert!(out.contains("HA Mode                 active"));
        assert!(out.contains("Raft Committed Index    7"));
        let j = json(&status(false), Some(&leader)).unwrap();
        assert_eq!(j["ha_enabled"], true);
        assert_eq!(j["sealed"], false);
        assert_eq!(j["type"], "shamir");
    }
}
