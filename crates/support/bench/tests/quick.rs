//! The benchmark tool, run for real: `--quick` against a server it starts
//! from the same target directory (`cargo test --workspace` builds
//! `target/debug/coffer` for the CLI tests), and its answers to bad input.
//! No figure is asserted: a debug build on a shared machine measures
//! nothing worth keeping; the point is that every scenario works.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn bench_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_coffer-bench"))
}

/// Runs coffer-bench with `args`, failing clearly if the server binary it
/// starts was not built.
fn run(args: &[&str]) -> Output {
    let bench = bench_binary();
    let coffer = bench.with_file_name("coffer");
    assert!(
        coffer.is_file(),
        "{} is missing: run these tests with `cargo test --workspace`, which builds it",
        coffer.display()
    );
    Command::new(&bench)
        .args(args)
        .env_remove("COFFER_BENCH_TOKEN")
        .output()
        .expect("run coffer-bench")
}

fn rows(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "coffer-bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON on standard output");
    json.as_array().expect("a list of rows").clone()
}

fn row<'a>(rows: &'a [Value], scenario: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no {scenario} row in {rows:?}"))
}

/// The error a failed run printed: exactly one line, naming the tool.
fn one_line_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "expected a failure");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("coffer-bench: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    errors[0].to_owned()
}

#[test]
fn quick_run_of_the_default_scenarios_in_memory() {
    let rows = rows(&run(&["--quick", "--json", "--connections", "8"]));
    for scenario in [
        "ceiling",
        "kv2-read",
        "kv2-write",
        "kv2-mixed",
        "token-lookup-self",
        "approle-login",
    ] {
        let r = row(&rows, scenario);
        for field in ["rps", "p50_ms", "p99_ms", "p999_ms", "ratio_to_ceiling"] {
            assert!(r[field].is_number(), "{scenario}: {field} in {r}");
        }
        assert_eq!(r["errors"], 0, "{scenario}: {r}");
        assert!(r["requests"].as_u64().unwrap() > 0, "{scenario}: {r}");
        assert!(
            r["server_peak_rss_kib"].as_u64().unwrap() > 0,
            "{scenario}: {r}"
        );
    }
    assert_eq!(row(&rows, "ceiling")["ratio_to_ceiling"], 1.0);
    assert!(row(&rows, "idle")["server_peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(row(&rows, "fsync")["rps"].as_f64().unwrap() > 0.0);
}

#[test]
fn quick_run_on_redb_fills_restarts_and_unseals() {
    let rows = rows(&run(&[
        "--quick",
        "--json",
        "--storage",
        "redb",
        "--connections",
        "8",
        "--scenarios",
        "kv2-write,fill,unseal",
    ]));
    assert_eq!(row(&rows, "kv2-write")["errors"], 0);
    let fill = row(&rows, "fill-kv");
    assert_eq!(fill["requests"], 2_000, "{fill}");
    assert!(fill["server_rss_after_kib"].as_u64().unwrap() > 0);
    assert_eq!(row(&rows, "fill-leases")["requests"], 2_000);
    let unseal = row(&rows, "unseal");
    assert!(
        unseal["unseal_to_serving_ms"].as_f64().unwrap() > 0.0,
        "{unseal}"
    );
    assert_eq!(unseal["entries"], 2_000);
}

#[test]
fn an_unreachable_server_is_one_clear_line() {
    let out = run(&[
        "--addr",
        "http://127.0.0.1:1",
        "--token",
        "root",
        "--scenarios",
        "kv2-read",
        "--quick",
    ]);
    let line = one_line_error(&out);
    assert!(
        line.contains("cannot reach a server at 127.0.0.1:1"),
        "{line}"
    );
}

#[test]
fn a_scenario_without_its_engine_is_one_clear_line() {
    let out = run(&["--quick", "--scenarios", "transit-encrypt"]);
    let line = one_line_error(&out);
    assert!(
        line.contains("scenario transit-encrypt needs the transit secrets engine"),
        "{line}"
    );
}

#[test]
fn impossible_combinations_are_refused_before_anything_starts() {
    let line = one_line_error(&run(&["--quick", "--scenarios", "fill"]));
    assert!(
        line.contains("scenario fill needs --storage redb"),
        "{line}"
    );
    let line = one_line_error(&run(&[
        "--addr",
        "http://127.0.0.1:1",
        "--token",
        "t",
        "--scenarios",
        "unseal",
    ]));
    assert!(
        line.contains("needs a server started by coffer-bench"),
        "{line}"
    );
    let line = one_line_error(&run(&[
        "--quick",
        "--addr",
        "https://127.0.0.1:1",
        "--token",
        "t",
    ]));
    assert!(line.contains("only plain http://"), "{line}");
    let line = one_line_error(&run(&["--duration", "0"]));
    assert!(line.contains("--duration must be more than 0"), "{line}");
    // Unknown scenario names are clap's usage error (exit 2), not a panic.
    let out = run(&["--scenarios", "kv3-read"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'kv3-read'"));
}
