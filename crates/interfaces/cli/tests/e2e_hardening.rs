//! The server process protects what is in its memory: no core dumps, and
//! (unless `disable_mlock`) memory locked against swap.

mod support;

use support::ServerProcess;

fn proc_field(pid: u32, file: &str, prefix: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in /proc/{pid}/{file}"))
        .to_owned()
}

fn core_limit_is_zero(pid: u32) -> bool {
    let line = proc_field(pid, "limits", "Max core file size");
    line.split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .all(|n| n == "0")
}

fn locked_kib(pid: u32) -> u64 {
    proc_field(pid, "status", "VmLck:")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn production_server_locks_memory_and_never_dumps_core() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.hcl");
    std::fs::write(&config, "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n").unwrap();
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        false,
    );
    assert!(core_limit_is_zero(server.pid()));
    assert!(locked_kib(server.pid()) > 0, "memory is not locked");
    // Locked as faulted in: reserved but untouched memory (allocator
    // arenas, thread stacks) must not become resident.
    let rss: u64 = proc_field(server.pid(), "status", "VmRSS:")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss < 100 * 1024, "{rss} KiB resident just after start");
}

#[test]
fn dev_server_never_dumps_core() {
    let home = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &["-dev", "-dev-listen-address=127.0.0.1:0"],
        home.path(),
        false,
    );
    assert!(core_limit_is_zero(server.pid()));
}

#[test]
fn dev_server_survives_sighup() {
    // A log rotation signals the server with SIGHUP; its default action
    // would kill a process with no handler.
    let home = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &["-dev", "-dev-listen-address=127.0.0.1:0"],
        home.path(),
        false,
    );
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !server.output().contains("SIGHUP: audit devices reopened") {
        assert!(
            std::time::Instant::now() < deadline,
            "no SIGHUP handling: {}",
            server.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        support::raw_status(&server.addr, "GET", "/v1/sys/health", ""),
        200
    );
}
