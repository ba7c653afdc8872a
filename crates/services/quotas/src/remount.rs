//! Re-pointing quotas when a mount moves (`sys/remount`), as Vault's
//! `quotas.Manager.HandleRemount` does: a quota on the moved mount, or on a
//! path below it, follows the mount to its new path; every other quota
//! stays as it is.

use coffer_types::Result;

use crate::QuotaManager;
use crate::quota::{QuotaRecord, sanitize_path};
use crate::rules::ActiveQuota;
use crate::store;

/// A mount path as the router spells it: no leading `/`, one trailing `/`
/// ("" stays "").
fn mount_prefix(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() || trimmed.ends_with('/') {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/")
    }
}

/// `record` re-pointed from the mount `from` to `to` (both ending in `/`),
/// or `None` when its path is neither `from` nor below it. Global and
/// default-login quotas never move. The whole path is compared, so a quota
/// whose path was split without the mount table (`team/` + `kv/data/app`
/// for the mount `team/kv/`) moves too, and is split at the real mount.
fn moved(record: &QuotaRecord, from: &str, to: &str) -> Option<QuotaRecord> {
    if record.login_default || record.mount_path.is_empty() {
        return None;
    }
    let mut full = record.path();
    if !full.ends_with('/') {
        full.push('/');
    }
    let rest = full.strip_prefix(from)?;
    Some(QuotaRecord {
        mount_path: to.to_owned(),
        path_suffix: rest.trim_end_matches('/').to_owned(),
        ..record.clone()
    })
}

impl QuotaManager {
    /// Called by the core once a mount has moved from `from` to `to` (full
    /// routing paths: `secret/`, `auth/userpass/`; a missing trailing `/` is
    /// added). Every quota whose path is the mount or a path below it
    /// (`secret/`, `secret/data/app`, `secret/data/*`) is rewritten to the
    /// same place under `to`, stored (all of them in one write) and put in
    /// force with fresh buckets, as Vault re-initialises a remounted quota;
    /// other quotas and their buckets are untouched. On error nothing has
    /// changed.
    pub async fn handle_remount(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (mount_prefix(from), mount_prefix(to));
        if from.is_empty() || to.is_empty() || from == to {
            return Ok(());
        }
        let _writing = self.writes.lock().await;
        let rules = self.rules();
        let records = rules
            .quotas
            .values()
            .filter_map(|q| moved(&q.record, &from, &to))
            .collect::<Vec<_>>();
        if records.is_empty() {
            return Ok(());
        }
        for record in &records {
            sanitize_path(&record.path())?;
            record.validate()?;
        }
        store::save_quotas(&self.view, &records).await?;
        let next = records.into_iter().fold((*rules).clone(), |next, record| {
            next.with_quota(ActiveQuota::new(record, self.next_generation()))
        });
        self.install(next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body, ip};
    use coffer_types::ErrorKind;
    use serde_json::{Value, json};

    async fn add(h: &Harness, name: &str, path: &str, rate: u32) {
        h.write(
            &format!("quotas/rate-limit/{name}"),
            json!({"path": path, "rate": rate, "interval": "1h"}),
        )
        .await
        .unwrap();
    }

    async fn path_of(h: &Harness, name: &str) -> Value {
        body(&h.read(&format!("quotas/rate-limit/{name}")).await.unwrap())["path"].clone()
    }

    #[test]
    fn records_move_only_from_the_mount_and_below() {
        let record = |mount: &str, suffix: &str| QuotaRecord {
            name: "q".into(),
            mount_path: mount.into(),
            path_suffix: suffix.into(),
            rate: 1.0,
            interval_seconds: 1,
            block_interval_seconds: 0,
            login_default: false,
        };
        let path = |r: Option<QuotaRecord>| r.map(|r| (r.mount_path, r.path_suffix));
        let to = "kv/";
        let from = "secret/";
        assert_eq!(
            path(moved(&record("secret/", ""), from, to)),
            Some(("kv/".into(), String::new()))
        );
        assert_eq!(
            path(moved(&record("secret/", "data/*"), from, to)),
            Some(("kv/".into(), "data/*".into()))
        );
        assert_eq!(path(moved(&record("secretive/", ""), from, to)), None);
        assert_eq!(path(moved(&record("other/", "secret/x"), from, to)), None);
        assert_eq!(path(moved(&record("", ""), from, to)), None);
        // Split without the mount table, moved at the real mount.
        assert_eq!(
            path(moved(&record("team/", "kv/data/app"), "team/kv/", "new/")),
            Some(("new/".into(), "data/app".into()))
        );
        assert_eq!(
            path(moved(&record("team/", "kv"), "team/kv/", "new/")),
            Some(("new/".into(), String::new()))
        );
        let mut login = record("", "");
        login.login_default = true;
        assert_eq!(path(moved(&login, from, to)), None);
        assert_eq!(mount_prefix("/secret"), "secret/");
        assert_eq!(mount_prefix("auth/userpass/"), "auth/userpass/");
        assert_eq!(mount_prefix(""), "");
    }

    #[tokio::test]
    async fn quotas_follow_their_mount_and_are_stored() {
        let h = Harness::new().await;
        add(&h, "mount", "secret/", 1).await;
        add(&h, "exact", "secret/data/app", 1).await;
        add(&h, "glob", "secret/data/*", 1).await;
        add(&h, "other", "secretive/", 1).await;
        add(&h, "auth", "auth/userpass/", 1).await;
        add(&h, "global", "", 100).await;

        h.mgr.handle_remount("secret/", "moved/kv/").await.unwrap();
        h.mgr
            .handle_remount("auth/userpass", "auth/people")
            .await
            .unwrap();

        let expected = [
            ("mount", "moved/kv/"),
            ("exact", "moved/kv/data/app"),
            ("glob", "moved/kv/data/*"),
            ("other", "secretive/"),
            ("auth", "auth/people/"),
            ("global", ""),
        ];
        for (name, path) in expected {
            assert_eq!(path_of(&h, name).await, path, "{name}");
        }
        // Persisted: a restart reads the new paths.
        let reloaded = h.reload().await;
        let rules = reloaded.rules();
        for (name, path) in expected {
            assert_eq!(rules.quotas[name].record.path(), path, "{name}");
        }
        assert!(rules.quotas.contains_key("default-login"));

        // The rules in force match at the new path, not the old one.
        h.mgr
            .check("moved/kv/metadata/x", "moved/kv/", ip(1), false)
            .unwrap();
        let err = h
            .mgr
            .check("moved/kv/metadata/x", "moved/kv/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        for _ in 0..5 {
            // Only the global quota (100 per hour) covers a new `secret/`.
            h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        }
        h.mgr
            .check("moved/kv/data/app", "moved/kv/", ip(1), false)
            .unwrap();
        let err = h
            .mgr
            .check("moved/kv/data/app", "moved/kv/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        h.mgr
            .check("auth/people/login/bob", "auth/people/", ip(1), true)
            .unwrap();
        assert!(
            h.mgr
                .check("auth/people/login/bob", "auth/people/", ip(1), true)
                .is_err()
        );
    }

    #[tokio::test]
    async fn moved_quotas_get_fresh_buckets_and_others_keep_theirs() {
        let h = Harness::new().await;
        add(&h, "kv", "secret/", 1).await;
        add(&h, "db", "database/", 1).await;
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        h.mgr
            .check("database/x", "database/", ip(1), false)
            .unwrap();
        h.mgr.handle_remount("secret/", "kv/").await.unwrap();
        // Vault re-initialises a moved quota: its bucket is full again.
        h.mgr.check("kv/x", "kv/", ip(1), false).unwrap();
        assert!(h.mgr.check("kv/x", "kv/", ip(1), false).is_err());
        // The untouched quota kept its (empty) bucket.
        assert!(
            h.mgr
                .check("database/x", "database/", ip(1), false)
                .is_err()
        );
    }

    #[tokio::test]
    async fn nothing_to_move_changes_nothing() {
        let h = Harness::new().await;
        add(&h, "kv", "secret/", 1).await;
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        h.mgr.handle_remount("other/", "elsewhere/").await.unwrap();
        h.mgr.handle_remount("", "elsewhere/").await.unwrap();
        h.mgr.handle_remount("secret/", "secret").await.unwrap();
        assert_eq!(path_of(&h, "kv").await, "secret/");
        // Same generation: the bucket is still empty.
        assert!(h.mgr.check("secret/x", "secret/", ip(1), false).is_err());
    }

    #[tokio::test]
    async fn an_invalid_destination_changes_nothing() {
        let h = Harness::new().await;
        add(&h, "kv", "secret/", 1).await;
        let err = h.mgr.handle_remount("secret/", "a//b/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert_eq!(err.messages(), ["invalid mount path \"a//b/\""]);
        assert_eq!(path_of(&h, "kv").await, "secret/");
        assert_eq!(
            h.reload().await.rules().quotas["kv"].record.path(),
            "secret/"
        );
    }
}
