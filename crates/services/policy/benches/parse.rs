//! Policy parsing and ACL compilation at 1,000 and 16,000 path blocks, so a
//! return of the O(N²) behaviour of issue 12 (6 s at 16,000 blocks) shows
//! up as a 16x-per-16x ratio instead of the 16x of linear work.
//!
//! Run: `cargo bench -p coffer-policy --bench parse`. For one-shot timings
//! up to 50,000 blocks see `examples/policy_scale.rs`.

use std::hint::black_box;
use std::time::Duration;

use coffer_policy::{Acl, Policy};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A policy of `n` path blocks mixing exact, prefix and `+` patterns.
fn policy_text(n: usize) -> String {
    (0..n)
        .map(|i| {
            let path = match i % 4 {
                0 => format!("secret/data/app{i}"),
                1 => format!("secret/data/team{i}/*"),
                2 => format!("kv/+/svc{i}/+"),
                _ => format!("auth/token/role{i}"),
            };
            format!("path \"{path}\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n")
        })
        .collect()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for n in [1_000usize, 16_000] {
        let text = policy_text(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse", n), &text, |b, text| {
            b.iter(|| Policy::parse("bench", black_box(text)).map(|p| p.rules().len()))
        });
        group.bench_with_input(BenchmarkId::new("parse+acl", n), &text, |b, text| {
            b.iter(|| {
                let policy = Policy::parse("bench", black_box(text))?;
                Acl::new(&[&policy]).map(|acl| acl.is_root())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
