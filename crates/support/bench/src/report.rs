//! Results: one row per measurement, printed as a table (with the issue's
//! targets checked underneath) or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::LoadOutcome;

/// One line of the results.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Row {
    /// Which measurement (`kv2-read`, `fill-kv`, ...).
    pub scenario: String,
    /// The server's storage (`inmem`, `redb`, `external`), or `disk`.
    pub storage: String,
    /// Connections used.
    pub connections: usize,
    /// Seconds measured.
    pub duration_s: f64,
    /// Successful requests in the window.
    pub requests: u64,
    /// Successful requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile latency.
    pub p999_ms: Option<f64>,
    /// Failed requests in the window.
    pub errors: u64,
    /// The server's highest resident memory during the measurement.
    pub server_peak_rss_kib: Option<u64>,
    /// `rps` over the ceiling's `rps` in the same run.
    pub ratio_to_ceiling: Option<f64>,
    /// The server's resident memory once the measurement ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_after_kib: Option<u64>,
    /// KV entries stored when the measurement was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// For `unseal`: from sending the unseal key to the first served read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseal_to_serving_ms: Option<f64>,
    /// The first failure, when there were errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Rounds measured, when more than one (this row is the median one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds: Option<usize>,
    /// The lowest and highest `ratio_to_ceiling` over the rounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_range: Option<[f64; 2]>,
    /// The lowest and highest `rps` over the rounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps_range: Option<[f64; 2]>,
}

impl Row {
    /// A row for `scenario` with the numbers of a load run.
    pub(crate) fn from_load(
        scenario: &str,
        storage: &str,
        connections: usize,
        outcome: &LoadOutcome,
    ) -> Self {
        Self {
            scenario: scenario.to_owned(),
            storage: storage.to_owned(),
            connections,
            duration_s: round(outcome.elapsed.as_secs_f64(), 3),
            requests: outcome.completed,
            rps: round(outcome.rate(), 1),
            p50_ms: outcome.percentile_ms(0.5),
            p99_ms: outcome.percentile_ms(0.99),
            p999_ms: outcome.percentile_ms(0.999),
            errors: outcome.errors,
            first_error: outcome.first_error.clone().filter(|_| outcome.errors > 0),
            ..Self::default()
        }
    }
}

fn round(v: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (v * scale).round() / scale
}

/// Fills in `ratio_to_ceiling` from the `ceiling` row, if there is one.
pub(crate) fn add_ratios(rows: &mut [Row]) {
    let Some(ceiling) = rows
        .iter()
        .find(|r| r.scenario == "ceiling")
        .map(|r| r.rps)
        .filter(|r| *r > 0.0)
    else {
        return;
    };
    for row in rows.iter_mut() {
        let load = !matches!(row.scenario.as_str(), "idle" | "fsync" | "unseal");
        if load && row.requests > 0 {
            row.ratio_to_ceiling = Some(round(row.rps / ceiling, 3));
        }
    }
}

/// One row per scenario from several rounds (each with its ratios filled
/// in from its own ceiling): the round with the median ratio, or the
/// median rate where there is no ratio, with the spread of the ratios.
pub(crate) fn median_rounds(rounds: Vec<Vec<Row>>) -> Vec<Row> {
    let count = rounds.len();
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    let names: Vec<String> = first.iter().map(|r| r.scenario.clone()).collect();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut runs: Vec<&Row> = rounds
            .iter()
            .filter_map(|round| round.iter().find(|r| r.scenario == name))
            .collect();
        let key = |r: &&Row| {
            (
                r.ratio_to_ceiling.filter(|_| r.scenario != "ceiling"),
                r.rps,
            )
        };
        runs.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            match (ka.0, kb.0) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => ka.1.total_cmp(&kb.1),
            }
        });
        let Some(median) = runs.get(runs.len() / 2) else {
            continue;
        };
        let mut row = (*median).clone();
        if count > 1 {
            row.rounds = Some(runs.len());
            let mut rates: Vec<f64> = runs.iter().map(|r| r.rps).collect();
            rates.sort_by(f64::total_cmp);
            if let (Some(lo), Some(hi)) = (rates.first(), rates.last()) {
                row.rps_range = Some([*lo, *hi]);
            }
            let mut ratios: Vec<f64> = runs.iter().filter_map(|r| r.ratio_to_ceiling).collect();
            ratios.sort_by(f64::total_cmp);
            if let (Some(lo), Some(hi)) = (ratios.first(), ratios.last())
                && name != "ceiling"
            {
                row.ratio_range = Some([*lo, *hi]);
            }
        }
        out.push(row);
    }
    out
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// The results as a text table, notes about errors and special rows, and
/// the targets with whether this run met them.
pub(crate) fn table(rows: &[Row]) -> String {
    let header = [
        "scenario",
        "storage",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "peak RSS MiB",
        "x ceiling",
    ];
    let mut lines: Vec<[String; 10]> = vec![header.map(str::to_owned)];
    for r in rows {
        lines.push([
            r.scenario.clone(),
            r.storage.clone(),
            r.connections.to_string(),
            format!("{:.0}", r.rps),
            ms(r.p50_ms),
            ms(r.p99_ms),
            ms(r.p999_ms),
            r.errors.to_string(),
            mib(r.server_peak_rss_kib),
            r.ratio_to_ceiling
                .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}")),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    for r in rows {
        if let (Some(n), Some([lo, hi])) = (r.rounds, r.rps_range) {
            let ratios = r
                .ratio_range
                .map(|[a, b]| format!(", x ceiling {a:.2} to {b:.2}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: median of {n} rounds (req/s {lo:.0} to {hi:.0}{ratios})",
                r.scenario
            );
        }
        if let Some(err) = &r.first_error {
            let _ = writeln!(out, "{}: {} errors, the first: {err}", r.scenario, r.errors);
        }
        if let Some(after) = r.server_rss_after_kib {
            let entries = r
                .entries
                .map(|e| format!(" with {e} entries"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: server RSS after{entries}: {} MiB",
                r.scenario,
                mib(Some(after))
            );
        }
        if let Some(t) = r.unseal_to_serving_ms {
            let entries = r
                .entries
                .map(|e| format!(" ({e} KV entries and {e} leases stored)"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "unseal: unseal key sent to first served read: {t:.0} ms{entries}"
            );
        }
    }
    let checks = targets(rows);
    if !checks.is_empty() {
        let _ = writeln!(out, "\ntargets (issue 6):");
        for (what, measured, met) in checks {
            let verdict = if met { "met" } else { "MISSED" };
            let _ = writeln!(out, "  {verdict:<6}  {what:<52} {measured}");
        }
    }
    out
}

/// The targets that this run's rows can judge: (target, measured, met).
pub(crate) fn targets(rows: &[Row]) -> Vec<(String, String, bool)> {
    let find = |name: &str| rows.iter().find(|r| r.scenario == name);
    let mut out = Vec::new();
    if let Some(r) = find("kv2-read")
        && let (Some(x), Some(p99)) = (r.ratio_to_ceiling, r.p99_ms)
    {
        out.push((
            "kv2-read >= 0.5 x ceiling, p99 <= 5 ms".to_owned(),
            format!("{x:.2} x, p99 {p99:.2} ms"),
            x >= 0.5 && p99 <= 5.0,
        ));
    }
    if let Some(r) = find("token-lookup-self")
        && let Some(x) = r.ratio_to_ceiling
    {
        out.push((
            "token-lookup-self >= 0.6 x ceiling".to_owned(),
            format!("{x:.2} x"),
            x >= 0.6,
        ));
    }
    if let Some(r) = find("kv2-write").filter(|r| r.storage == "redb") {
        let fsync = find("fsync")
            .map(|f| format!(" (one writer's fsync/s: {:.0})", f.rps))
            .unwrap_or_default();
        out.push((
            "kv2-write on redb >= 10,000 durable writes/s".to_owned(),
            format!("{:.0}/s{fsync}", r.rps),
            r.rps >= 10_000.0,
        ));
    }
    // Judged in memory, as the other ratios: on redb every login
    // is a durable commit, and its rate is the disk's (reported, not judged).
    if let Some(r) = find("approle-login").filter(|r| r.storage != "redb")
        && let Some(x) = r.ratio_to_ceiling
    {
        out.push((
            "approle-login >= 0.25 x ceiling".to_owned(),
            format!("{x:.2} x"),
            x >= 0.25,
        ));
    }
    if let Some(kib) = find("idle").and_then(|r| r.server_peak_rss_kib) {
        out.push((
            "idle server RSS <= 20 MiB".to_owned(),
            format!("{} MiB", mib(Some(kib))),
            kib <= 20 * 1024,
        ));
    }
    if let Some(r) = find("fill-kv")
        && let (Some(kib), Some(n)) = (r.server_rss_after_kib, r.entries)
    {
        out.push((
            format!("RSS after {n} KV entries <= 200 MiB"),
            format!("{} MiB", mib(Some(kib))),
            kib <= 200 * 1024,
        ));
    }
    if let Some(r) = find("unseal")
        && let Some(t) = r.unseal_to_serving_ms
    {
        let n = r
            .entries
            .map(|n| format!(" with {n} entries + {n} leases"))
            .unwrap_or_default();
        out.push((
            format!("unseal to serving <= 2 s{n}"),
            format!("{t:.0} ms"),
            t <= 2_000.0,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scenario: &str, rps: f64) -> Row {
        Row {
            scenario: scenario.into(),
            storage: "inmem".into(),
            requests: 10,
            rps,
            p99_ms: Some(1.0),
            ..Row::default()
        }
    }

    #[test]
    fn ratios_are_against_the_ceiling_of_the_same_run() {
        let mut rows = vec![
            row("ceiling", 100.0),
            row("kv2-read", 60.0),
            row("fsync", 5000.0),
        ];
        add_ratios(&mut rows);
        assert_eq!(rows[0].ratio_to_ceiling, Some(1.0));
        assert_eq!(rows[1].ratio_to_ceiling, Some(0.6));
        assert_eq!(rows[2].ratio_to_ceiling, None, "fsync is not HTTP");
        let mut alone = vec![row("kv2-read", 60.0)];
        add_ratios(&mut alone);
        assert_eq!(alone[0].ratio_to_ceiling, None);
    }

    #[test]
    fn targets_are_judged_from_the_rows() {
        let mut rows = vec![
            row("ceiling", 100.0),
            row("kv2-read", 40.0),
            row("token-lookup-self", 70.0),
        ];
        add_ratios(&mut rows);
        let checks = targets(&rows);
        assert_eq!(checks.len(), 2);
        assert!(!checks[0].2, "0.4 x misses kv2-read's 0.5");
        assert!(checks[1].2);
        let text = table(&rows);
        assert!(text.contains("MISSED  kv2-read"), "{text}");
        assert!(text.contains("met     token-lookup-self"), "{text}");
    }

    #[test]
    fn logins_are_judged_in_memory_and_writes_on_redb() {
        let on = |storage: &str| {
            let mut rows = vec![
                row("ceiling", 100.0),
                row("kv2-write", 12_000.0),
                row("approle-login", 30.0),
            ];
            for r in &mut rows[1..] {
                r.storage = storage.into();
            }
            add_ratios(&mut rows);
            targets(&rows)
                .into_iter()
                .map(|(what, _, met)| (what, met))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            on("inmem"),
            [("approle-login >= 0.25 x ceiling".to_owned(), true)]
        );
        assert_eq!(
            on("redb"),
            [(
                "kv2-write on redb >= 10,000 durable writes/s".to_owned(),
                true
            )]
        );
    }

    #[test]
    fn rounds_report_their_median_and_spread() {
        let round = |ceiling: f64, read: f64| {
            let mut rows = vec![row("ceiling", ceiling), row("kv2-read", read)];
            add_ratios(&mut rows);
            rows
        };
        let rows = median_rounds(vec![
            round(100.0, 50.0),
            round(100.0, 70.0),
            round(80.0, 48.0),
        ]);
        assert_eq!(rows.len(), 2);
        let read = &rows[1];
        assert_eq!(read.ratio_to_ceiling, Some(0.6), "median of 0.5, 0.7, 0.6");
        assert_eq!(read.rps, 48.0, "the median round's own figures");
        assert_eq!(read.rounds, Some(3));
        assert_eq!(read.ratio_range, Some([0.5, 0.7]));
        assert_eq!(read.rps_range, Some([48.0, 70.0]));
        assert_eq!(rows[0].rps, 100.0, "the ceiling's median rate");
        assert_eq!(rows[0].ratio_range, None);
        let single = median_rounds(vec![round(100.0, 50.0)]);
        assert_eq!(single[1].rounds, None);
        assert!(median_rounds(Vec::new()).is_empty());
    }

    #[test]
    fn json_has_the_required_fields() {
        let v = serde_json::to_value(vec![row("kv2-read", 1.0)]).unwrap();
        for field in [
            "scenario",
            "rps",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "errors",
            "server_peak_rss_kib",
            "ratio_to_ceiling",
        ] {
            assert!(v[0].get(field).is_some(), "{field} missing");
        }
    }
}
