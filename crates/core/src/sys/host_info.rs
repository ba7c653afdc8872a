//! `sys/host-info`: what Vault's `hostutil.CollectHostInfo` reports about
//! the machine (gopsutil's CPU, CPU times, disk, host and memory records,
//! with gopsutil's field names), read from `/proc` and `/etc` without
//! `unsafe` and without a new dependency.
//!
//! Disk usage needs `statvfs`, which the standard library does not offer:
//! each `disk` entry has the mount point and file system type of gopsutil's
//! `UsageStat` but no byte or inode counts. A record that cannot be read (a
//! system without `/proc`) is left out and named in a warning, as Vault
//! turns collection errors into warnings.

use crate::error::CoreError;
use std::path::{Path as FsPath, PathBuf};
use std::time::SystemTime;

use coffer_sdk::{Call, Path, PathDef, handler};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value, json};

use super::tools::ToolsPiece;

/// The declaration of `sys/host-info`.
fn def() -> PathDef {
    PathDef {
        pattern: "host-info",
        fields: &[],
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Information about the host instance that this Vault server is running on.",
        description: "Information about the host instance that this Vault server is running on. \
             The information that gets collected includes host hardware information, and CPU, \
             disk, and memory utilization. Coffer reads it from /proc and /etc (Linux): the \
             disk entries list mount points and file system types only, without the usage \
             figures (total, free, used, inodes), which need statvfs.",
    }
}

/// The piece's paths of this family.
pub(super) fn paths() -> Vec<Path<ToolsPiece>> {
    vec![Path::new(def()).read(handler!(read))]
}

async fn read(_: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let now = call.ctx.clock.now();
    let (data, warnings) = tokio::task::spawn_blocking(move || collect(&Roots::system(), now))
        .await
        .map_err(|source| CoreError::Task {
            doing: "collecting host information",
            source,
        })?;
    let mut resp = Response::with_data(data);
    resp.warnings = warnings;
    Ok(Some(resp))
}

/// Where the collected files live (the real system, or a test fixture).
struct Roots {
    proc_dir: PathBuf,
    etc_dir: PathBuf,
}

impl Roots {
    fn system() -> Self {
        Self {
            proc_dir: PathBuf::from("/proc"),
            etc_dir: PathBuf::from("/etc"),
        }
    }
}

fn read_file(path: &FsPath) -> std::result::Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The response data and the warnings of what could not be collected.
fn collect(roots: &Roots, now: SystemTime) -> (Map<String, Value>, Vec<String>) {
    let mut data = Map::new();
    let mut warnings = Vec::new();
    data.insert(
        "timestamp".into(),
        Value::String(coffer_types::timestamp::rfc3339(now)),
    );
    let mut put = |name: &str, value: std::result::Result<Value, String>| match value {
        Ok(v) => {
            data.insert(name.into(), v);
        }
        Err(e) => warnings.push(format!("{name}: {e}")),
    };
    put(
        "cpu",
        read_file(&roots.proc_dir.join("cpuinfo")).map(|t| cpu_info(&t)),
    );
    let stat = read_file(&roots.proc_dir.join("stat"));
    put("cpu_times", stat.clone().map(|t| cpu_times(&t)));
    put(
        "disk",
        read_file(&roots.proc_dir.join("filesystems"))
            .and_then(|fs| read_file(&roots.proc_dir.join("self/mounts")).map(|m| disks(&fs, &m))),
    );
    put("host", host(roots, stat.as_deref().ok()));
    put(
        "memory",
        read_file(&roots.proc_dir.join("meminfo")).map(|t| memory(&t)),
    );
    (data, warnings)
}

/// `key : value` lines, as `/proc/cpuinfo` and `/proc/meminfo` write them.
fn key_values(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let (k, v) = l.split_once(':')?;
        Some((k.trim(), v.trim()))
    })
}

/// gopsutil's `cpu.InfoStat` per logical processor.
fn cpu_info(text: &str) -> Value {
    let mut cpus = Vec::new();
    for block in text.split("\n\n").filter(|b| b.contains("processor")) {
        let mut info = Map::new();
        let mut s = |k: &str, v: &str| {
            info.insert(k.into(), Value::String(v.to_owned()));
        };
        s("vendorId", "");
        s("family", "");
        s("model", "");
        s("physicalId", "");
        s("coreId", "");
        s("modelName", "");
        s("microcode", "");
        let mut cpu = 0i64;
        let (mut stepping, mut mhz, mut cache) = (0i64, 0f64, 0i64);
        let mut flags: Vec<Value> = Vec::new();
        for (k, v) in key_values(block) {
            match k {
                "processor" => cpu = v.parse().unwrap_or(0),
                "vendor_id" | "vendor" => s("vendorId", v),
                "cpu family" => s("family", v),
                "model" => s("model", v),
                "model name" | "cpu model" => s("modelName", v),
                "physical id" => s("physicalId", v),
                "core id" => s("coreId", v),
                "microcode" => s("microcode", v),
                "stepping" => stepping = v.parse().unwrap_or(0),
                "cpu MHz" | "clock" => {
                    mhz = v.trim_end_matches("MHz").trim().parse().unwrap_or(0.0)
                }
                "cache size" => {
                    cache = v.trim_end_matches("KB").trim().parse().unwrap_or(0);
                }
                "flags" | "Features" => {
                    flags = v.split_whitespace().map(|f| json!(f)).collect();
                }
                _ => {}
            }
        }
        info.insert("cpu".into(), json!(cpu));
        info.insert("stepping".into(), json!(stepping));
        // gopsutil counts each logical processor as one core on Linux.
        info.insert("cores".into(), json!(1));
        info.insert("mhz".into(), json!(mhz));
        info.insert("cacheSize".into(), json!(cache));
        info.insert("flags".into(), Value::Array(flags));
        cpus.push(Value::Object(info));
    }
    Value::Array(cpus)
}

/// Clock ticks per second of `/proc/stat` (`USER_HZ`, fixed at 100 by the
/// kernel's ABI whatever the kernel's own tick rate).
const USER_HZ: f64 = 100.0;

/// gopsutil's `cpu.TimesStat` per processor (`cpu0`, `cpu1`, ...), in
/// seconds, as Vault collects them (`cpu.Times(true)`).
fn cpu_times(stat: &str) -> Value {
    const NAMES: [&str; 10] = [
        "user",
        "nice",
        "system",
        "idle",
        "iowait",
        "irq",
        "softirq",
        "steal",
        "guest",
        "guestNice",
    ];
    let mut out = Vec::new();
    for line in stat.lines() {
        let mut parts = line.split_whitespace();
        let Some(name) = parts.next() else { continue };
        let per_cpu = name
            .strip_prefix("cpu")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !per_cpu {
            continue;
        }
        let mut t = Map::new();
        t.insert("cpu".into(), json!(name));
        for (field, value) in NAMES.iter().zip(parts) {
            let ticks: f64 = value.parse().unwrap_or(0.0);
            t.insert((*field).into(), json!(ticks / USER_HZ));
        }
        out.push(Value::Object(t));
    }
    Value::Array(out)
}

/// The mounted file systems backed by a device (the types
/// `/proc/filesystems` does not mark `nodev`), as gopsutil's
/// `disk.Partitions(false)` chooses them, in `UsageStat`'s shape without
/// the usage figures.
fn disks(filesystems: &str, mounts: &str) -> Value {
    let physical: Vec<&str> = filesystems
        .lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = Vec::new();
    for line in mounts.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, path, fstype, ..] = fields.as_slice() else {
            continue;
        };
        if physical.contains(fstype) {
            out.push(json!({ "path": unescape_mount(path), "fstype": fstype }));
        }
    }
    Value::Array(out)
}

/// `/proc/self/mounts` writes spaces, tabs, newlines and backslashes in
/// paths as three-digit octal escapes.
fn unescape_mount(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0')))
            .and_then(|n| u8::try_from(n).ok());
        match escape {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `KEY=value` lines of `/etc/os-release`, quotes removed.
fn os_release(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), json!(v.trim().trim_matches('"'))))
        .collect()
}

/// gopsutil's `host.InfoStat`.
fn host(roots: &Roots, stat: Option<&str>) -> std::result::Result<Value, String> {
    let trimmed = |p: PathBuf| read_file(&p).map(|s| s.trim().to_owned());
    let hostname = trimmed(roots.proc_dir.join("sys/kernel/hostname"))
        .or_else(|_| trimmed(roots.etc_dir.join("hostname")))?;
    let uptime = read_file(&roots.proc_dir.join("uptime"))?
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|s| s as u64)
        .unwrap_or(0);
    let boot_time = stat
        .into_iter()
        .flat_map(str::lines)
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let procs = std::fs::read_dir(&roots.proc_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
                })
                .count()
        })
        .unwrap_or(0);
    let release = read_file(&roots.etc_dir.join("os-release"))
        .map(|t| os_release(&t))
        .unwrap_or_default();
    let get = |k: &str| {
        release
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let platform = get("ID");
    let family = match get("ID_LIKE").split_whitespace().next() {
        Some(like) => like.to_owned(),
        None => platform.clone(),
    };
    let kernel = trimmed(roots.proc_dir.join("sys/kernel/osrelease")).unwrap_or_default();
    let host_id = trimmed(PathBuf::from("/sys/class/dmi/id/product_uuid"))
        .or_else(|_| trimmed(roots.proc_dir.join("sys/kernel/random/boot_id")))
        .unwrap_or_default();
    Ok(json!({
        "hostname": hostname,
        "uptime": uptime,
        "bootTime": boot_time,
        "procs": procs,
        "os": std::env::consts::OS,
        "platform": platform,
        "platformFamily": family,
        "platformVersion": get("VERSION_ID"),
        "kernelVersion": kernel,
        "kernelArch": std::env::consts::ARCH,
        "virtualizationSystem": "",
        "virtualizationRole": "",
        "hostid": host_id,
    }))
}

/// gopsutil's `mem.VirtualMemoryStat` from `/proc/meminfo` (kB values in
/// bytes; `used` and `usedPercent` computed as gopsutil does).
fn memory(text: &str) -> Value {
    let kb = |name: &str| -> u64 {
        key_values(text)
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let bytes = |name: &str| kb(name).saturating_mul(1024);
    let total = bytes("MemTotal");
    let free = bytes("MemFree");
    let buffers = bytes("Buffers");
    let sreclaimable = bytes("SReclaimable");
    let cached = bytes("Cached").saturating_add(sreclaimable);
    let used = total
        .saturating_sub(free)
        .saturating_sub(buffers)
        .saturating_sub(cached);
    let used_percent = if total == 0 {
        0.0
    } else {
        used as f64 / total as f64 * 100.0
    };
    json!({
        "total": total,
        "available": bytes("MemAvailable"),
        "used": used,
        "usedPercent": used_percent,
        "free": free,
        "active": bytes("Active"),
        "inactive": bytes("Inactive"),
        "buffers": buffers,
        "cached": cached,
        "writeBack": bytes("Writeback"),
        "dirty": bytes("Dirty"),
        "writeBackTmp": bytes("WritebackTmp"),
        "shared": bytes("Shmem"),
        "slab": bytes("Slab"),
        "sreclaimable": sreclaimable,
        "sunreclaim": bytes("SUnreclaim"),
        "pageTables": bytes("PageTables"),
        "swapCached": bytes("SwapCached"),
        "commitLimit": bytes("CommitLimit"),
        "committedAS": bytes("Committed_AS"),
        "swapTotal": bytes("SwapTotal"),
        "swapFree": bytes("SwapFree"),
        "mapped": bytes("Mapped"),
        "vmallocTotal": bytes("VmallocTotal"),
        "vmallocUsed": bytes("VmallocUsed"),
        "vmallocChunk": bytes("VmallocChunk"),
        "hugePagesTotal": kb("HugePages_Total"),
        "hugePagesFree": kb("HugePages_Free"),
        "hugePagesRsvd": kb("HugePages_Rsvd"),
        "hugePagesSurp": kb("HugePages_Surp"),
        "hugePageSize": bytes("Hugepagesize"),
        "anonHugePages": bytes("AnonHugePages"),
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::sys::tools::tests::{ctx, send};

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 78\nmodel name\t: Intel(R) Core(TM) i5\nstepping\t: 3\nmicrocode\t: 0xd6\ncpu MHz\t\t: 2400.000\ncache size\t: 3072 KB\nphysical id\t: 0\ncore id\t\t: 1\nflags\t\t: fpu vme sse\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 78\ncache size\t: 3072 KB\n\n";

    const STAT: &str = "cpu  500 10 300 9000 20 0 5 0 0 0\ncpu0 250 5 150 4500 10 0 2 1 0 0\ncpu1 250 5 150 4500 10 0 3 0 0 0\nintr 123\nbtime 1570114491\n";

    const MEMINFO: &str = "MemTotal:       16000 kB\nMemFree:         4000 kB\nMemAvailable:    9000 kB\nBuffers:         1000 kB\nCached:          2000 kB\nSReclaimable:    1000 kB\nSwapTotal:          0 kB\nHugePages_Total:    2\nHugepagesize:    2048 kB\n";

    #[test]
    fn cpu_records_have_gopsutil_names() {
        let cpus = cpu_info(CPUINFO);
        assert_eq!(cpus.as_array().unwrap().len(), 2);
        assert_eq!(
            cpus[0],
            json!({
                "cpu": 0, "vendorId": "GenuineIntel", "family": "6", "model": "78",
                "stepping": 3, "physicalId": "0", "coreId": "1", "cores": 1,
                "modelName": "Intel(R) Core(TM) i5", "mhz": 2400.0, "cacheSize": 3072,
                "flags": ["fpu", "vme", "sse"], "microcode": "0xd6",
            })
        );
        assert_eq!(cpus[1]["cpu"], 1);
        assert_eq!(cpus[1]["modelName"], "");
    }

    #[test]
    fn cpu_times_are_per_processor_seconds() {
        let times = cpu_times(STAT);
        assert_eq!(
            times,
            json!([
                {"cpu": "cpu0", "user": 2.5, "nice": 0.05, "system": 1.5, "idle": 45.0,
                 "iowait": 0.1, "irq": 0.0, "softirq": 0.02, "steal": 0.01, "guest": 0.0,
                 "guestNice": 0.0},
                {"cpu": "cpu1", "user": 2.5, "nice": 0.05, "system": 1.5, "idle": 45.0,
                 "iowait": 0.1, "irq": 0.0, "softirq": 0.03, "steal": 0.0, "guest": 0.0,
                 "guestNice": 0.0},
            ])
        );
    }

    #[test]
    fn memory_in_bytes_with_gopsutil_used() {
        let m = memory(MEMINFO);
        assert_eq!(m["total"], 16000 * 1024);
        assert_eq!(m["available"], 9000 * 1024);
        assert_eq!(m["cached"], 3000 * 1024);
        assert_eq!(m["used"], (16000 - 4000 - 1000 - 3000) * 1024);
        assert_eq!(m["usedPercent"], 50.0);
        assert_eq!(m["hugePagesTotal"], 2);
        assert_eq!(m["hugePageSize"], 2048 * 1024);
        assert_eq!(memory("")["usedPercent"], 0.0);
    }

    #[test]
    fn disks_are_device_backed_mounts() {
        let fs = "nodev\tsysfs\nnodev\tproc\n\text4\n\txfs\n";
        let mounts = "proc /proc proc rw 0 0\n/dev/sda1 / ext4 rw 0 0\n/dev/sdb /data\\040dir xfs rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n";
        assert_eq!(
            disks(fs, mounts),
            json!([
                {"path": "/", "fstype": "ext4"},
                {"path": "/data dir", "fstype": "xfs"},
            ])
        );
        assert_eq!(unescape_mount("a\\134b\\011"), "a\\b\t");
        assert_eq!(unescape_mount("trailing\\"), "trailing\\");
        assert_eq!(unescape_mount("short\\04"), "short\\04");
    }

    /// A fixture tree: every record read from it; a missing tree gives
    /// warnings, not an error.
    #[test]
    fn collects_from_a_tree_and_warns_for_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let proc_dir = dir.path().join("proc");
        let etc_dir = dir.path().join("etc");
        std::fs::create_dir_all(proc_dir.join("self")).unwrap();
        std::fs::create_dir_all(proc_dir.join("sys/kernel")).unwrap();
        std::fs::create_dir_all(proc_dir.join("42")).unwrap();
        std::fs::create_dir_all(proc_dir.join("7")).unwrap();
        std::fs::create_dir_all(&etc_dir).unwrap();
        let w = |p: PathBuf, s: &str| std::fs::write(p, s).unwrap();
        w(proc_dir.join("cpuinfo"), CPUINFO);
        w(proc_dir.join("stat"), STAT);
        w(proc_dir.join("meminfo"), MEMINFO);
        w(proc_dir.join("uptime"), "28618.52 1000.0\n");
        w(proc_dir.join("filesystems"), "\text4\n");
        w(proc_dir.join("self/mounts"), "/dev/sda1 / ext4 rw 0 0\n");
        w(proc_dir.join("sys/kernel/hostname"), "vault-server-1\n");
        w(proc_dir.join("sys/kernel/osrelease"), "6.1.0\n");
        w(etc_dir.join("os-release"), "ID=debian\nVERSION_ID=\"12\"\n");
        let roots = Roots {
            proc_dir,
            etc_dir: etc_dir.clone(),
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_570_142_709);
        let (data, warnings) = collect(&roots, at);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(data["timestamp"], "2019-10-03T22:45:09Z");
        assert_eq!(data["host"]["hostname"], "vault-server-1");
        assert_eq!(data["host"]["uptime"], 28618);
        assert_eq!(data["host"]["bootTime"], 1570114491);
        assert_eq!(data["host"]["procs"], 2);
        assert_eq!(data["host"]["platform"], "debian");
        assert_eq!(data["host"]["platformFamily"], "debian");
        assert_eq!(data["host"]["platformVersion"], "12");
        assert_eq!(data["host"]["kernelVersion"], "6.1.0");
        assert_eq!(data["cpu"].as_array().unwrap().len(), 2);
        assert_eq!(data["cpu_times"].as_array().unwrap().len(), 2);
        assert_eq!(data["disk"], json!([{"path": "/", "fstype": "ext4"}]));
        assert_eq!(data["memory"]["total"], 16000 * 1024);

        let empty = Roots {
            proc_dir: dir.path().join("nothing"),
            etc_dir,
        };
        let (data, warnings) = collect(&empty, at);
        let keys: Vec<&String> = data.keys().collect();
        assert_eq!(keys, ["timestamp"]);
        let named: Vec<&str> = warnings
            .iter()
            .map(|w| w.split(':').next().unwrap())
            .collect();
        assert_eq!(named, ["cpu", "cpu_times", "disk", "host", "memory"]);
    }

    /// The endpoint on this machine: Vault's keys, with the clock's time.
    #[tokio::test]
    async fn endpoint_reads_the_host() {
        let (c, _) = ctx();
        let piece = ToolsPiece::new(crate::config::core_catalog());
        let resp = send(&piece, &c, Operation::Read, "host-info", json!({}))
            .await
            .unwrap()
            .unwrap();
        let data = resp.data.unwrap();
        assert_eq!(data["timestamp"], "2023-11-14T22:13:20Z");
        if cfg!(target_os = "linux") {
            assert!(resp.warnings.is_empty(), "{:?}", resp.warnings);
            for key in ["cpu", "cpu_times", "disk", "host", "memory"] {
                assert!(data.contains_key(key), "{key}");
            }
            assert!(data["memory"]["total"].as_u64().unwrap() > 0);
            assert!(!data["cpu"].as_array().unwrap().is_empty());
        }
        let err = send(&piece, &c, Operation::Update, "host-info", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }
}
