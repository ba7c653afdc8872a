//! criterion micro-benchmarks of the paths every request takes:
//!
//! - the barrier sealing and opening a 1 KiB value (the keyring alone, and
//!   a put/get through the barrier over in-memory storage);
//! - ACL evaluation with 100 policies compiled into one ACL;
//! - router lookup among 1,000 mounts;
//! - token lookup (entry cached, and read, decrypted and parsed from storage).
//!
//! Run: `cargo bench -p coffer-bench --bench hot_paths` (add `-- --quick`
//! for a short run).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use coffer_barrier::SealedBarrier;
use coffer_core::MountRouter;
use coffer_crypto::{Keyring, Secret};
use coffer_policy::{Acl, Policy};
use coffer_sdk::SystemClock;
use coffer_storage::{Key, MemoryStorage, Prefix, Storage, View};
use coffer_tokens::{CreateParams, TokenStore, TtlLimits};
use coffer_types::Operation;
use criterion::{BatchSize, Criterion, Throughput};
use tokio::runtime::Runtime;

/// 1 KiB of plaintext, as the load benchmark's secret.
fn kib() -> Vec<u8> {
    (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn barrier(c: &mut Criterion) {
    let mut group = c.benchmark_group("barrier");
    group.throughput(Throughput::Bytes(1024));
    let keyring = Keyring::generate(SystemTime::now()).expect("keyring");
    let plaintext = kib();
    let aad = b"logical/0b1c2d3e-mount/versions/app/db/1";
    group.bench_function("keyring_seal_1kib", |b| {
        b.iter(|| keyring.encrypt(black_box(aad), black_box(&plaintext)))
    });
    let sealed = keyring.encrypt(aad, &plaintext).expect("encrypt");
    group.bench_function("keyring_open_1kib", |b| {
        b.iter(|| keyring.decrypt(black_box(aad), black_box(&sealed)))
    });

    let rt = runtime();
    let unsealed = rt.block_on(async {
        let sealed = SealedBarrier::new(Arc::new(MemoryStorage::new()));
        let key = Secret::new([7u8; 32]);
        sealed
            .initialize(&key, SystemTime::now())
            .await
            .expect("initialize");
        sealed.unseal(&key).await.expect("unseal")
    });
    let key = Key::new("logical/0b1c2d3e-mount/versions/app/db/1").expect("key");
    group.bench_function("put_1kib", |b| {
        b.iter(|| rt.block_on(unsealed.put(&key, plaintext.clone())))
    });
    rt.block_on(unsealed.put(&key, plaintext.clone()))
        .expect("put");
    group.bench_function("get_1kib", |b| b.iter(|| rt.block_on(unsealed.get(&key))));
    group.finish();
}

/// Policy `n`: a team's KV paths, a glob, a `+` segment rule and a deny.
fn team_policy(n: usize) -> Policy {
    let hcl = format!(
        r#"
path "secret/data/team{n}/*" {{ capabilities = ["create", "read", "update"] }}
path "secret/metadata/team{n}/*" {{ capabilities = ["list", "read"] }}
path "database/creds/team{n}-ro" {{ capabilities = ["read"] }}
path "secret/data/shared/+/team{n}" {{ capabilities = ["read"] }}
path "secret/data/team{n}/admin" {{ capabilities = ["deny"] }}
"#
    );
    Policy::parse(&format!("team{n}"), &hcl).expect("policy")
}

fn acl(c: &mut Criterion) {
    let policies: Vec<Policy> = (0..100).map(team_policy).collect();
    let refs: Vec<&Policy> = policies.iter().collect();
    let acl = Acl::new(&refs).expect("acl");
    let mut group = c.benchmark_group("acl_100_policies");
    group.bench_function("prefix_rule", |b| {
        b.iter(|| {
            acl.authorize(
                black_box("secret/data/team57/app/db"),
                Operation::Read,
                None,
            )
        })
    });
    group.bench_function("segment_rule", |b| {
        b.iter(|| {
            acl.authorize(
                black_box("secret/data/shared/x/team57"),
                Operation::Read,
                None,
            )
        })
    });
    group.bench_function("denied", |b| {
        b.iter(|| acl.authorize(black_box("secret/data/other/app"), Operation::Read, None))
    });
    group.bench_function("compile", |b| b.iter(|| Acl::new(black_box(&refs))));
    group.finish();
}

fn router(c: &mut Criterion) {
    let mut router: MountRouter<usize> = MountRouter::default();
    for n in 0..1_000 {
        let prefix = match n % 3 {
            0 => format!("kv-{n:04}/"),
            1 => format!("teams/t{n:04}/kv/"),
            _ => format!("auth/approle-{n:04}/"),
        };
        router.insert(prefix, n);
    }
    assert_eq!(router.len(), 1_000);
    let mut group = c.benchmark_group("router_1000_mounts");
    group.bench_function("lookup_deep_path", |b| {
        b.iter(|| router.lookup(black_box("teams/t0502/kv/data/app/db/password")))
    });
    group.bench_function("lookup_miss", |b| {
        b.iter(|| router.lookup(black_box("nowhere/at/all/x")))
    });
    group.finish();
}

fn token_lookup(c: &mut Criterion) {
    let rt = runtime();
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let view = || View::new(storage.clone(), Prefix::new("sys/token/").expect("prefix"));
    let limits = TtlLimits {
        default_ttl: Duration::from_secs(3_600),
        max_ttl: Duration::from_secs(86_400),
    };
    let store = TokenStore::new(view(), Arc::new(SystemClock), limits);
    let (token, _) = rt
        .block_on(store.create(CreateParams {
            policies: vec!["app".into(), "default".into()],
            ..CreateParams::default()
        }))
        .expect("create");
    let token = token.expose().to_owned();
    let mut group = c.benchmark_group("token_lookup");
    group.bench_function("cached_entry", |b| {
        b.iter(|| rt.block_on(store.lookup(black_box(&token))))
    });
    group.bench_function("entry_from_storage", |b| {
        b.iter_batched(
            || {
                // A fresh store: its salt is loaded first (not timed), its
                // entry cache is empty.
                let fresh = TokenStore::new(view(), Arc::new(SystemClock), limits);
                rt.block_on(fresh.hash_token("hvs.warm-the-salt"))
                    .expect("salt");
                fresh
            },
            |fresh| rt.block_on(fresh.lookup(&token)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    barrier(&mut criterion);
    acl(&mut criterion);
    router(&mut criterion);
    token_lookup(&mut criterion);
    criterion.final_summary();
}
