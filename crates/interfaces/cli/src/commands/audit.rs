//! `coffer audit verify|prove|verify-proof|search|public-key`: offline
//! verification of tamper-evident audit files, inclusion proofs, incident
//! search, and the server's checkpoint key.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use coffer_audit_log::{
    InclusionProof, PublicKey, Record, SearchFilter, VerifyOptions, VerifyReport, prove, search,
    verify,
};

use crate::context::Ctx;
use crate::exit::Exit;
use crate::output::{Format, error_line, line, table, to_json};

/// Exit code when verification finds tampering (or, with `-strict`,
/// uncovered records).
pub const TAMPERED: u8 = 2;

/// `coffer audit` arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The audit subcommand.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify a tamper-evident audit file offline (chain, Merkle tree,
    /// checkpoint signatures and consistency). Exit 0 when intact, 2 when
    /// tampered.
    Verify(VerifyArgs),
    /// Print the inclusion proof of one record against the newest checkpoint
    /// covering it.
    Prove(ProveArgs),
    /// Check an inclusion proof printed by `coffer audit prove -format=json`.
    VerifyProof(VerifyProofArgs),
    /// Search audit records: who accessed what, and when.
    Search(SearchArgs),
    /// Print the public key that verifies the server's audit checkpoints.
    PublicKey,
}

/// `coffer audit verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The audit file(s), oldest first (rotated files are read as one log);
    /// "-" for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// The checkpoint verifier key (`<name>+<id>+<key>`) or a file holding
    /// it. Fetched from the server when omitted.
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
    /// A checkpoint held from earlier (note text, a checkpoint line, or a
    /// file holding either): the log must still contain and extend it.
    #[arg(long, value_name = "FILE|TEXT")]
    pub from_checkpoint: Option<String>,
    /// The head the server stored, as `SIZE:ROOT` (root in hex): the file
    /// must contain at least that many records with that root.
    #[arg(long, value_name = "SIZE:ROOT")]
    pub expected_head: Option<String>,
    /// Fail when records after the newest checkpoint are not covered yet.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub strict: bool,
}

/// `coffer audit prove` arguments.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The audit file(s), oldest first; "-" for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Sequence number of the record.
    #[arg(long, value_name = "N")]
    pub seq: u64,
    /// Also verify the proof with this key (or file) before printing it.
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
}

/// `coffer audit verify-proof` arguments.
#[derive(Debug, Args)]
pub struct VerifyProofArgs {
    /// A proof file in JSON, or "-" for stdin.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The checkpoint verifier key or a file holding it. Fetched from the
    /// server when omitted.
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
}

/// `coffer audit search` arguments.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The audit file(s), oldest first; "-" for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Only requests whose path starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub path_prefix: Option<String>,
    /// Only requests by this entity id.
    #[arg(long, value_name = "ID")]
    pub entity_id: Option<String>,
    /// Only requests with this token accessor, as written in the file
    /// (HMAC-ed unless the device has hmac_accessor=false).
    #[arg(long, value_name = "HASH")]
    pub accessor: Option<String>,
    /// Only this operation (read, update, list, delete, ...).
    #[arg(long, value_name = "OP")]
    pub operation: Option<String>,
    /// Only requests from this client address.
    #[arg(long, value_name = "ADDR")]
    pub remote_address: Option<String>,
    /// Only "request" or "response" records.
    #[arg(long = "type", value_name = "TYPE")]
    pub record_type: Option<String>,
    /// Records at or after this time (RFC 3339, or a duration ago like 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Records at or before this time (RFC 3339, or a duration ago).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Records containing this plaintext value, hashed with the device's
    /// salt through sys/audit-hash/DEVICE (needs -device and a token).
    #[arg(long, value_name = "PLAINTEXT", requires = "device")]
    pub value: Vec<String>,
    /// The audit device path whose salt hashes -value.
    #[arg(long, value_name = "PATH")]
    pub device: Option<String>,
    /// Records containing this already-hashed value ("hmac-sha256:...").
    #[arg(long, value_name = "HASH")]
    pub hashed_value: Vec<String>,
}

/// Runs an audit subcommand.
pub async fn run(ctx: &Ctx, args: AuditArgs) -> Result<()> {
    match args.command {
        AuditCommand::Verify(a) => run_verify(ctx, a).await,
        AuditCommand::Prove(a) => run_prove(ctx, a).await,
        AuditCommand::VerifyProof(a) => run_verify_proof(ctx, a).await,
        AuditCommand::Search(a) => run_search(ctx, a).await,
        AuditCommand::PublicKey => {
            let key = fetch_public_key(ctx).await?;
            match ctx.out.format {
                Format::Table => line(&key),
                Format::Json => line(&to_json(&json!({ "public_key": key }))?),
            }
            Ok(())
        }
    }
}

async fn fetch_public_key(ctx: &Ctx) -> Result<String> {
    let secret = ctx
        .client()?
        .read("sys/audit-log/public-key")
        .await
        .context("Error reading the audit log public key")?
        .ok_or_else(|| Exit::remote("No audit log public key at sys/audit-log/public-key"))?;
    secret
        .data_field("public_key")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!(Exit::remote("The server's answer has no public_key")))
}

/// The key from `-public-key` (text or a file), else from the server.
async fn resolve_key(ctx: &Ctx, given: Option<&str>) -> Result<PublicKey> {
    let text = match given {
        Some(k) => text_or_file(k)?,
        None => fetch_public_key(ctx)
            .await
            .context("No -public-key given, and fetching it from the server failed")?,
    };
    text.trim()
        .parse()
        .map_err(|e| anyhow!("Invalid public key: {e}"))
}

/// `value` itself, or the contents of the file it names.
fn text_or_file(value: &str) -> Result<String> {
    let path = Path::new(value);
    if !value.contains('\n') && path.is_file() {
        return std::fs::read_to_string(path)
            .with_context(|| format!("Error reading {}", path.display()));
    }
    Ok(value.to_owned())
}

/// Opens the files as one stream (stdin for "-") and returns their total
/// size when every one is a regular file.
fn open_all(files: &[String]) -> Result<(Box<dyn Read>, Option<u64>)> {
    let mut reader: Box<dyn Read> = Box::new(std::io::empty());
    let mut total = Some(0u64);
    for name in files {
        let next: Box<dyn Read> = if name == "-" {
            total = None;
            Box::new(std::io::stdin())
        } else {
            let path = PathBuf::from(name);
            let file =
                File::open(&path).with_context(|| format!("Error opening {}", path.display()))?;
            let len = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            total = total.zip(len).map(|(a, b)| a + b);
            Box::new(file)
        };
        reader = Box::new(reader.chain(next));
    }
    Ok((reader, total))
}

/// Parses `SIZE:ROOT` (root as 64 hex digits).
fn parse_head(text: &str) -> Result<(u64, [u8; 32])> {
    let (size, root) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("-expected-head must be SIZE:ROOT"))?;
    let size = size
        .trim()
        .parse()
        .map_err(|_| anyhow!("-expected-head: invalid size {size:?}"))?;
    let root: [u8; 32] = hex::decode(root.trim())
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or_else(|| anyhow!("-expected-head: the root must be 64 hex digits"))?;
    Ok((size, root))
}

async fn run_verify(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    let key = resolve_key(ctx, args.public_key.as_deref()).await?;
    let opts = VerifyOptions {
        from_checkpoint: args
            .from_checkpoint
            .as_deref()
            .map(text_or_file)
            .transpose()?,
        expected_head: args.expected_head.as_deref().map(parse_head).transpose()?,
        strict: args.strict,
        origin: None,
    };
    let (reader, total) = open_all(&args.files)?;
    let progress = Progress::new(total, std::io::stderr().is_terminal());
    let report = verify(
        BufReader::with_capacity(1 << 20, ProgressReader::new(reader, progress)),
        &key,
        &opts,
    );
    print_report(ctx.out.format, &report, args.strict)?;
    if report.is_ok() {
        Ok(())
    } else {
        Err(Exit::silent(TAMPERED).into())
    }
}

fn print_report(format: Format, report: &VerifyReport, strict: bool) -> Result<()> {
    if format == Format::Json {
        let mut v = serde_json::to_value(report)?;
        if let Value::Object(m) = &mut v {
            m.insert("ok".into(), report.is_ok().into());
        }
        line(&to_json(&v)?);
        return Ok(());
    }
    let rows = vec![
        ("Records".to_owned(), report.records.to_string()),
        (
            "Checkpoints".to_owned(),
            format!(
                "{} ({} verified)",
                report.checkpoints, report.checkpoints_verified
            ),
        ),
        ("Tree size".to_owned(), report.tree_size.to_string()),
        ("Root".to_owned(), hex::encode(report.root)),
        (
            "Covered by checkpoints".to_owned(),
            report.covered.to_string(),
        ),
        (
            "Uncovered records".to_owned(),
            report.uncovered_records.to_string(),
        ),
    ];
    line(&crate::output::table::key_value(rows));
    for p in &report.problems {
        error_line(&format!("ERROR: {p}"));
    }
    if report.problems_omitted > 0 {
        error_line(&format!(
            "ERROR: ... and {} more problems",
            report.problems_omitted
        ));
    }
    if !strict && report.uncovered_records > 0 {
        error_line(&format!(
            "WARNING: {} record(s) after the newest checkpoint are not covered by a signed checkpoint yet",
            report.uncovered_records
        ));
    }
    if report.is_ok() {
        line("Success! The audit log is intact.");
    }
    Ok(())
}

async fn run_prove(ctx: &Ctx, args: ProveArgs) -> Result<()> {
    let (reader, _) = open_all(&args.files)?;
    let proof = prove(BufReader::new(reader), args.seq)
        .map_err(|e| anyhow!("Error proving record {}: {e}", args.seq))?;
    if let Some(k) = args.public_key.as_deref() {
        let key = resolve_key(ctx, Some(k)).await?;
        proof
            .verify(&key)
            .map_err(|e| anyhow!(Exit::with_message(TAMPERED, format!("{e}"))))?;
    }
    print_proof(ctx.out.format, &proof)
}

fn print_proof(format: Format, proof: &InclusionProof) -> Result<()> {
    match format {
        Format::Json => line(&to_json(proof)?),
        Format::Table => {
            let path: Vec<String> = proof.path.iter().map(hex::encode).collect();
            line(&crate::output::table::key_value(vec![
                ("seq".into(), proof.seq.to_string()),
                ("leaf_hash".into(), hex::encode(proof.leaf_hash)),
                ("tree_size".into(), proof.tree_size.to_string()),
                ("root".into(), hex::encode(proof.root)),
                ("path".into(), path.join(" ")),
            ]));
            line("");
            line(proof.checkpoint.trim_end());
        }
    }
    Ok(())
}

async fn run_verify_proof(ctx: &Ctx, args: VerifyProofArgs) -> Result<()> {
    let text = crate::input::file_or_stdin(&args.file)?;
    let proof: InclusionProof =
        serde_json::from_str(&text).map_err(|e| anyhow!("Invalid proof: {e}"))?;
    let key = resolve_key(ctx, args.public_key.as_deref()).await?;
    proof
        .verify(&key)
        .map_err(|e| anyhow!(Exit::with_message(TAMPERED, format!("{e}"))))?;
    match ctx.out.format {
        Format::Table => line(&format!(
            "Success! Record {} is in the log of {} records signed by {}.",
            proof.seq,
            proof.tree_size,
            key.name()
        )),
        Format::Json => line(&to_json(&json!({
            "verified": true,
            "seq": proof.seq,
            "tree_size": proof.tree_size,
        }))?),
    }
    Ok(())
}

/// An RFC 3339 time, or a duration ago ("24h", "30m").
fn parse_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let ago = coffer_types::parse_duration(text)
        .map_err(|_| anyhow!("Invalid time {text:?}: use RFC 3339 or a duration like 24h"))?;
    Ok(now - ago)
}

async fn run_search(ctx: &Ctx, args: SearchArgs) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let mut hashed = args.hashed_value.clone();
    if !args.value.is_empty() {
        let device = args.device.as_deref().unwrap_or_default();
        let device = device.trim_matches('/');
        let client = ctx.client()?;
        for plain in &args.value {
            let answer = client
                .write(
                    &format!("sys/audit-hash/{device}"),
                    &json!({ "input": plain }),
                )
                .await
                .context("Error hashing the value")?;
            let hash = answer
                .as_ref()
                .and_then(|s| s.data_field("hash"))
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!(Exit::remote("sys/audit-hash returned no hash")))?;
            hashed.push(hash.to_owned());
        }
    }
    let filter = SearchFilter {
        path_prefix: args.path_prefix,
        entity_id: args.entity_id,
        accessor_hash: args.accessor,
        operation: args.operation,
        remote_address: args.remote_address,
        record_type: args.record_type,
        since: args
            .since
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        hashed_values: hashed,
    };
    let (reader, _) = open_all(&args.files)?;
    let results = search(BufReader::with_capacity(1 << 20, reader), filter);
    match ctx.out.format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            for record in results {
                let record = record.map_err(|e| anyhow!("{e}"))?;
                if writeln!(out, "{}", serde_json::to_string(&record.value)?).is_err() {
                    break; // closed pipe
                }
            }
        }
        Format::Table => {
            let mut rows = Vec::new();
            for record in results {
                rows.push(search_row(&record.map_err(|e| anyhow!("{e}"))?));
            }
            if rows.is_empty() {
                error_line("No matching records");
            } else {
                line(&table::table(
                    &[
                        "Time",
                        "Seq",
                        "Type",
                        "Operation",
                        "Path",
                        "Entity",
                        "Display Name",
                        "Remote Address",
                        "Error",
                    ],
                    rows,
                ));
            }
        }
    }
    Ok(())
}

fn search_row(r: &Record) -> Vec<String> {
    let s = |v: Option<&str>| v.unwrap_or("").to_owned();
    vec![
        s(r.time_text()),
        r.seq().map(|n| n.to_string()).unwrap_or_default(),
        s(r.record_type()),
        s(r.operation()),
        s(r.path()),
        s(r.entity_id()),
        s(r.display_name()),
        s(r.remote_address()),
        s(r.error()),
    ]
}

/// A progress bar on stderr (only when it is a terminal and the size is known).
struct Progress {
    total: u64,
    done: u64,
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(total: Option<u64>, terminal: bool) -> Self {
        Self {
            total: total.unwrap_or(0),
            done: 0,
            enabled: terminal && total.is_some_and(|t| t > 0),
            start: Instant::now(),
            last: None,
        }
    }

    fn advance(&mut self, n: usize) {
        self.done += n as u64;
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < Duration::from_millis(100))
            && self.done < self.total
        {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}",
            render_bar(self.done, self.total, self.start.elapsed())
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
        self.enabled = false;
    }
}

/// `[=========>          ]  45%  123.4/300.0 MB  2.1s`
fn render_bar(done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: u64 = 30;
    let done = done.min(total);
    let filled = done
        .saturating_mul(WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH);
    let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
    let mut bar = "=".repeat(filled as usize);
    if filled < WIDTH {
        bar.push('>');
        bar.push_str(&" ".repeat((WIDTH - filled - 1) as usize));
    }
    format!(
        "Verifying [{bar}] {percent:>3}%  {:.1}/{:.1} MB  {:.1}s",
        done as f64 / 1e6,
        total as f64 / 1e6,
        elapsed.as_secs_f64()
    )
}

/// Counts bytes read into a [`Progress`].
struct ProgressReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> ProgressReader<R> {
    fn new(inner: R, progress: Progress) -> Self {
        Self { inner, progress }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.progress.finish();
        } else {
            self.progress.advance(n);
        }
        Ok(n)
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        self.progress.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_audit_log::{CheckpointPolicy, CheckpointSigner, LogHead, Sealer};
    use serde_json::Map;
    use std::io::BufRead;
    use std::time::SystemTime;

    fn lines_of(r: impl BufRead) -> Vec<String> {
        r.lines().map_while(std::result::Result::ok).collect()
    }

    fn sealed_log(n: u64) -> (String, PublicKey) {
        let (signer, _) = CheckpointSigner::generate("coffer.audit/file").unwrap();
        let key = signer.public_key();
        let policy = CheckpointPolicy {
            every_records: 10,
            every: Duration::ZERO,
        };
        let mut s = Sealer::new(LogHead::empty(), signer, "coffer.audit/file".into(), policy);
        let mut out = String::new();
        for i in 0..n {
            let mut m = Map::new();
            m.insert("type".into(), "request".into());
            m.insert(
                "request".into(),
                json!({"path": format!("secret/data/{i}"), "operation": "read"}),
            );
            out.push_str(std::str::from_utf8(&s.seal(m)).unwrap());
            out.push('\n');
            if let Some(cp) = s.checkpoint_if_due(SystemTime::UNIX_EPOCH) {
                out.push_str(std::str::from_utf8(&cp).unwrap());
                out.push('\n');
            }
        }
        (out, key)
    }

    #[test]
    fn progress_bar_renders() {
        let bar = render_bar(50, 100, Duration::from_millis(1500));
        assert!(bar.contains("[===============>              ]"), "{bar}");
        assert!(bar.contains(" 50%"), "{bar}");
        assert!(bar.ends_with("1.5s"), "{bar}");
        assert!(render_bar(100, 100, Duration::ZERO).contains("100%"));
        assert!(render_bar(7, 0, Duration::ZERO).contains("100%"));
        // Disabled off a terminal: nothing drawn, bytes still pass through.
        let mut r = ProgressReader::new(&b"abc\ndef\n"[..], Progress::new(Some(8), false));
        assert_eq!(lines_of(BufReader::new(&mut r)), ["abc", "def"]);
        assert_eq!(r.progress.done, 8);
    }

    #[test]
    fn parses_heads_and_times() {
        let (size, root) = parse_head(&format!("12:{}", "ab".repeat(32))).unwrap();
        assert_eq!((size, root), (12, [0xab; 32]));
        assert!(parse_head("12").is_err());
        assert!(parse_head("x:00").is_err());
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        assert_eq!(
            parse_time("24h", now).unwrap(),
            now - time::Duration::hours(24)
        );
        assert_eq!(
            parse_time("2025-01-01T00:00:00Z", now)
                .unwrap()
                .unix_timestamp(),
            1_735_689_600
        );
        assert!(parse_time("yesterday", now).is_err());
    }

    #[test]
    fn files_are_read_as_one_log() {
        let (log, key) = sealed_log(25);
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<&str> = log.lines().collect();
        // Split like a rotation would, right after checkpoint 20.
        let (a, b) = lines.split_at(22);
        let pa = dir.path().join("audit.log.1");
        let pb = dir.path().join("audit.log");
        std::fs::write(&pa, format!("{}\n", a.join("\n"))).unwrap();
        std::fs::write(&pb, format!("{}\n", b.join("\n"))).unwrap();
        let names = [pa.display().to_string(), pb.display().to_string()];
        let (reader, total) = open_all(&names).unwrap();
        assert_eq!(total, Some(log.len() as u64));
        let report = verify(BufReader::new(reader), &key, &VerifyOptions::default());
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!((report.records, report.uncovered_records), (25, 5));
        assert!(open_all(&["/nonexistent/file".into()]).is_err());
        // A key given as a file works like the key text.
        let kf = dir.path().join("key.pub");
        std::fs::write(&kf, format!("{key}\n")).unwrap();
        let text = text_or_file(&kf.display().to_string()).unwrap();
        assert_eq!(text.trim().parse::<PublicKey>().unwrap(), key);
        assert_eq!(text_or_file("not-a-file").unwrap(), "not-a-file");
    }
}
