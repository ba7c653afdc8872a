//! Times parsing a policy of N path blocks and compiling its ACL, for the
//! sizes given on the command line (default 1000 16000 50000):
//! `cargo run --release -p coffer-policy --example policy_scale -- 1000 16000`.
//! `POLICY_SHAPE=duplicates` writes every block for the same path, each with
//! its own required and allowed parameter (the merging worst case);
//! `POLICY_SHAPE=plus` writes only `+` patterns.

use std::time::Instant;

use coffer_policy::{Acl, Policy};

/// A policy of `n` path blocks mixing exact, prefix and `+` patterns, with a
/// few parameter constraints, about 42 bytes a block.
fn policy_text(n: usize) -> String {
    let shape = std::env::var("POLICY_SHAPE").unwrap_or_default();
    let mut text = String::with_capacity(n * 48);
    for i in 0..n {
        if shape == "duplicates" {
            text.push_str(&format!(
                "path \"secret/data/app\" {{\n  capabilities = [\"read\"]\n  \
                 required_parameters = [\"r{i}\"]\n  allowed_parameters = {{ \"a{i}\" = [\"v\"] }}\n}}\n"
            ));
            continue;
        }
        if shape == "plus" {
            text.push_str(&format!(
                "path \"kv/+/svc{i}/+/x\" {{\n  capabilities = [\"read\"]\n}}\n"
            ));
            continue;
        }
        let path = match i % 4 {
            0 => format!("secret/data/app{i}"),
            1 => format!("secret/data/team{i}/*"),
            2 => format!("kv/+/svc{i}/+"),
            _ => format!("auth/token/role{i}"),
        };
        text.push_str(&format!(
            "path \"{path}\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n"
        ));
    }
    text
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() {
        vec![1_000, 16_000, 50_000]
    } else {
        sizes
    };
    for n in sizes {
        let text = policy_text(n);
        let start = Instant::now();
        let policy = Policy::parse("scale", &text)?;
        let parsed = start.elapsed();
        let acl = Acl::new(&[&policy])?;
        let total = start.elapsed();
        drop(acl);
        println!(
            "{n:>6} blocks, {:>8} bytes: parse {:>9.3} s, parse + ACL {:>9.3} s",
            text.len(),
            parsed.as_secs_f64(),
            total.as_secs_f64()
        );
    }
    Ok(())
}
