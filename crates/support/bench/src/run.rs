//! One benchmark run: start (or reach) the server, set it up, run each
//! scenario in a fixed order, and collect the rows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::args::{Args, RunSettings, StorageKind};
use crate::load::{self, LoadOutcome, LoadShape, RequestSource};
use crate::probe::{RssSampler, fsync_rate};
use crate::report::{Row, add_ratios, median_rounds};
use crate::scenario::{
    FixedGet, KvFill, KvTraffic, Logins, RequestParts, Scenario, TransitEncrypt, shared,
};
use crate::setup::{self, Fixture};
use crate::target::Coffer;
use crate::{ceiling, progress};

/// The longest the `idle` scenario watches the server.
const IDLE_WATCH: Duration = Duration::from_secs(3);

/// Everything one run shares.
struct Bench {
    settings: RunSettings,
    coffer: Coffer,
    storage: String,
    fixture: Option<Fixture>,
    stored_entries: Option<u64>,
}

/// Runs `args`' scenarios and returns their rows.
pub(crate) async fn run(args: &Args) -> anyhow::Result<Vec<Row>> {
    let settings = args.settings()?;
    let mut scenarios = args.scenarios.clone();
    scenarios.sort();
    scenarios.dedup();
    check_combination(args, &scenarios)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(std::env::temp_dir);
    let coffer = match &args.addr {
        Some(url) => {
            let token = args.token.clone().context("--addr needs --token")?;
            Coffer::external(url, token)?
        }
        None => {
            let binary = match &args.coffer_bin {
                Some(path) => path.clone(),
                None => sibling_coffer()?,
            };
            progress(&format!("starting coffer ({})", args.storage.name()));
            Coffer::start(binary, args.storage, &data_dir, !args.disable_mlock).await?
        }
    };
    let storage = coffer
        .storage
        .map_or("external", StorageKind::name)
        .to_owned();
    let mut bench = Bench {
        settings,
        coffer,
        storage,
        fixture: None,
        stored_entries: None,
    };
    let mut rows = Vec::new();
    let outcome = bench
        .run_all(&scenarios, &args.server_pid, &data_dir, &mut rows)
        .await;
    let stopped = bench.coffer.shutdown().await;
    outcome?;
    stopped?;
    Ok(rows)
}

/// Refuses combinations that cannot work, before anything starts.
fn check_combination(args: &Args, scenarios: &[Scenario]) -> anyhow::Result<()> {
    for s in [Scenario::Fill, Scenario::Unseal] {
        if !scenarios.contains(&s) {
            continue;
        }
        if args.addr.is_some() {
            anyhow::bail!(
                "scenario {} needs a server started by coffer-bench (drop --addr)",
                s.name()
            );
        }
        if args.storage != StorageKind::Redb {
            anyhow::bail!("scenario {} needs --storage redb", s.name());
        }
    }
    Ok(())
}

/// The `coffer` binary in the directory of this one.
fn sibling_coffer() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating coffer-bench")?;
    Ok(exe.with_file_name("coffer"))
}

impl Bench {
    async fn run_all(
        &mut self,
        scenarios: &[Scenario],
        server_pid: &Option<u32>,
        data_dir: &std::path::Path,
        rows: &mut Vec<Row>,
    ) -> anyhow::Result<()> {
        let pid = self.coffer.pid().or(*server_pid);
        let (repeated, once): (Vec<Scenario>, Vec<Scenario>) =
            scenarios.iter().partition(|s| s.per_round());
        let (first, last): (Vec<Scenario>, Vec<Scenario>) =
            once.into_iter().partition(|s| *s == Scenario::Idle);
        for &scenario in &first {
            rows.extend(self.run_one(scenario, pid, data_dir).await?);
        }
        let mut rounds: Vec<Vec<Row>> = Vec::new();
        for round in 1..=self.settings.rounds {
            if self.settings.rounds > 1 {
                progress(&format!("round {round} of {}", self.settings.rounds));
            }
            let mut this_round = Vec::new();
            for &scenario in &repeated {
                this_round.extend(self.run_one(scenario, pid, data_dir).await?);
            }
            add_ratios(&mut this_round);
            rounds.push(this_round);
        }
        rows.extend(median_rounds(rounds));
        for &scenario in &last {
            rows.extend(self.run_one(scenario, pid, data_dir).await?);
        }
        Ok(())
    }

    /// Runs one scenario and returns its rows (two for `fill`).
    async fn run_one(
        &mut self,
        scenario: Scenario,
        pid: Option<u32>,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Vec<Row>> {
        progress(&format!("scenario {}", scenario.name()));
        let mut rows = Vec::new();
        {
            match scenario {
                Scenario::Idle => rows.push(self.idle(pid).await),
                Scenario::Fsync => {
                    let dir = self.coffer.work_dir().unwrap_or(data_dir).to_owned();
                    let outcome = fsync_rate(&dir, self.settings.duration).await?;
                    rows.push(Row::from_load("fsync", "disk", 1, &outcome));
                }
                Scenario::Ceiling => rows.push(self.ceiling().await?),
                Scenario::Kv2Read => {
                    let fixture = self.fixture().await?;
                    let source = FixedGet::new(self.parts(&fixture)?, &fixture.read_uri());
                    rows.push(self.measure(scenario, shared(source), pid).await);
                }
                Scenario::Kv2Write | Scenario::Kv2Mixed => {
                    let fixture = self.fixture().await?;
                    let writes = if scenario == Scenario::Kv2Write {
                        10
                    } else {
                        1
                    };
                    let source = KvTraffic::new(&fixture, self.parts(&fixture)?, writes);
                    rows.push(self.measure(scenario, shared(source), pid).await);
                }
                Scenario::TokenLookupSelf => {
                    let fixture = self.fixture().await?;
                    let source = FixedGet::new(self.parts(&fixture)?, "/v1/auth/token/lookup-self");
                    rows.push(self.measure(scenario, shared(source), pid).await);
                }
                Scenario::ApproleLogin => {
                    let (role_id, secret_id) = self.approle().await?;
                    let source = Logins::new(self.coffer.addr, &role_id, &secret_id, None)?;
                    rows.push(self.measure(scenario, shared(source), pid).await);
                }
                Scenario::TransitEncrypt => {
                    let fixture = self.fixture().await?;
                    setup::prepare_transit(self.coffer.addr, &self.coffer.admin_token).await?;
                    let source = TransitEncrypt::new(self.parts(&fixture)?);
                    rows.push(self.measure(scenario, shared(source), pid).await);
                }
                Scenario::Fill => {
                    let (kv, leases) = self.fill(pid).await?;
                    rows.push(kv);
                    rows.push(leases);
                }
                Scenario::Unseal => rows.push(self.unseal().await?),
            }
        }
        Ok(rows)
    }

    fn shape(&self) -> LoadShape {
        LoadShape {
            connections: self.settings.connections,
            warmup: self.settings.warmup,
            window: Some(self.settings.duration),
        }
    }

    fn parts(&self, fixture: &Fixture) -> anyhow::Result<RequestParts> {
        RequestParts::new(self.coffer.addr, &fixture.token)
    }

    /// The fixture, set up on first use.
    async fn fixture(&mut self) -> anyhow::Result<Fixture> {
        if let Some(f) = &self.fixture {
            return Ok(f.clone());
        }
        let fixture = setup::prepare(self.coffer.addr, &self.coffer.admin_token).await?;
        self.fixture = Some(fixture.clone());
        Ok(fixture)
    }

    /// The AppRole credentials, set up on first use.
    async fn approle(&mut self) -> anyhow::Result<(String, String)> {
        let mut fixture = self.fixture().await?;
        setup::prepare_approle(self.coffer.addr, &self.coffer.admin_token, &mut fixture).await?;
        let creds = fixture.approle.clone().context("AppRole was not set up")?;
        self.fixture = Some(fixture);
        Ok(creds)
    }

    /// Drives `source` for the run's duration while sampling memory.
    async fn measure(
        &self,
        scenario: Scenario,
        source: Arc<dyn RequestSource>,
        pid: Option<u32>,
    ) -> Row {
        let sampler = RssSampler::start(pid);
        let outcome = load::run(self.coffer.addr, source, self.shape()).await;
        let mut row = Row::from_load(
            scenario.name(),
            &self.storage,
            self.settings.connections,
            &outcome,
        );
        row.server_peak_rss_kib = sampler.peak().await;
        row
    }

    /// The server's memory, untouched, for a few seconds.
    async fn idle(&self, pid: Option<u32>) -> Row {
        let watch = self.settings.duration.min(IDLE_WATCH);
        let sampler = RssSampler::start(pid);
        tokio::time::sleep(watch).await;
        let outcome = LoadOutcome {
            elapsed: watch,
            ..LoadOutcome::default()
        };
        let mut row = Row::from_load("idle", &self.storage, 0, &outcome);
        row.server_peak_rss_kib = sampler.peak().await;
        row
    }

    /// The bare hyper server, with a body as large as a KV v2 read's.
    async fn ceiling(&mut self) -> anyhow::Result<Row> {
        let fixture = self.fixture().await?;
        let server = ceiling::spawn(fixture.read_answer_bytes).await?;
        let parts = RequestParts::new(server.addr(), &fixture.token)?;
        let source = shared(FixedGet::new(parts, "/"));
        let sampler = RssSampler::start(server.pid());
        let outcome = load::run(server.addr(), source, self.shape()).await;
        let mut row = Row::from_load("ceiling", "-", self.settings.connections, &outcome);
        row.server_peak_rss_kib = sampler.peak().await;
        server.stop().await?;
        Ok(row)
    }

    /// Writes `entries` KV entries, then makes `entries` logins (each a
    /// token with a lease), as fast as the connections allow.
    async fn fill(&mut self, pid: Option<u32>) -> anyhow::Result<(Row, Row)> {
        let entries = self.settings.entries;
        let fixture = self.fixture().await?;
        let (role_id, secret_id) = self.approle().await?;
        let until_done = LoadShape {
            connections: self.settings.connections,
            warmup: Duration::ZERO,
            window: None,
        };
        let sampler = RssSampler::start(pid);
        let kv = KvFill::new(&fixture, self.parts(&fixture)?, entries);
        let outcome = load::run(self.coffer.addr, shared(kv), until_done).await;
        let mut kv_row = Row::from_load("fill-kv", &self.storage, until_done.connections, &outcome);
        kv_row.server_peak_rss_kib = sampler.peak().await;
        kv_row.server_rss_after_kib = pid.and_then(crate::target::rss_kib);
        kv_row.entries = Some(entries);
        let sampler = RssSampler::start(pid);
        let logins = Logins::new(self.coffer.addr, &role_id, &secret_id, Some(entries))?;
        let outcome = load::run(self.coffer.addr, shared(logins), until_done).await;
        let mut lease_row = Row::from_load(
            "fill-leases",
            &self.storage,
            until_done.connections,
            &outcome,
        );
        lease_row.server_peak_rss_kib = sampler.peak().await;
        lease_row.server_rss_after_kib = pid.and_then(crate::target::rss_kib);
        lease_row.entries = Some(entries);
        if kv_row.errors > 0 || lease_row.errors > 0 {
            anyhow::bail!(
                "fill failed: {}",
                kv_row
                    .first_error
                    .as_ref()
                    .or(lease_row.first_error.as_ref())
                    .map_or("errors", String::as_str)
            );
        }
        self.stored_entries = Some(entries);
        Ok((kv_row, lease_row))
    }

    /// Restarts the server and times unseal to the first served KV read.
    async fn unseal(&mut self) -> anyhow::Result<Row> {
        let fixture = self.fixture().await?;
        let addr = self.coffer.addr;
        let probe = async || -> anyhow::Result<bool> {
            let mut client =
                crate::admin::Admin::connect(addr, Some(fixture.token.clone())).await?;
            let answer = client
                .call(
                    hyper::Method::GET,
                    fixture.read_uri().trim_start_matches("/v1/"),
                    None,
                )
                .await?;
            Ok(answer.status.is_success())
        };
        let took = self.coffer.restart_and_unseal(probe).await?;
        let pid = self.coffer.pid();
        Ok(Row {
            scenario: "unseal".to_owned(),
            storage: self.storage.clone(),
            duration_s: took.as_secs_f64(),
            requests: 1,
            server_peak_rss_kib: pid.and_then(crate::target::rss_kib),
            unseal_to_serving_ms: Some((took.as_secs_f64() * 1000.0 * 10.0).round() / 10.0),
            entries: self.stored_entries,
            ..Row::default()
        })
    }
}
