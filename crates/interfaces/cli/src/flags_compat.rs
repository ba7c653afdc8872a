//! Vault's Go-style flags (`-format=json`, `-mount secret`) on top of clap.
//!
//! Before clap sees the arguments, every `-name` or `-name=value` whose `name`
//! is a long flag declared anywhere in the command tree is rewritten to
//! `--name` / `--name=value`. Everything else is left alone: `--long` flags,
//! `-h`, a lone `-` (stdin), negative numbers, `k=v` data and everything after
//! `--`. The known names come from the clap definition, so flags stay declared once.

use std::collections::HashSet;
use std::ffi::OsString;

/// Every long flag name and alias in `command` and its subcommands, plus `help`.
pub fn long_flag_names(command: &clap::Command) -> HashSet<String> {
    let mut names = HashSet::from(["help".to_owned()]);
    collect(command, &mut names);
    names
}

fn collect(command: &clap::Command, names: &mut HashSet<String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            names.insert(long.to_owned());
        }
        if let Some(aliases) = arg.get_all_aliases() {
            names.extend(aliases.into_iter().map(str::to_owned));
        }
    }
    for sub in command.get_subcommands() {
        collect(sub, names);
    }
}

/// Rewrites single-dash long flags to clap's double-dash form. The first
/// element (the program name) is kept as is.
pub fn normalize(args: Vec<OsString>, known: &HashSet<String>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    if let Some(program) = iter.next() {
        out.push(program);
    }
    let mut passthrough = false;
    for arg in iter {
        if passthrough {
            out.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        match rewrite(text, known) {
            Some(rewritten) => out.push(OsString::from(rewritten)),
            None => out.push(arg),
        }
    }
    out
}

/// `-name[=value]` → `--name[=value]` when `name` is a known long flag.
fn rewrite(arg: &str, known: &HashSet<String>) -> Option<String> {
    let rest = arg.strip_prefix('-')?;
    if rest.starts_with('-') {
        return None;
    }
    let name = rest.split_once('=').map_or(rest, |(n, _)| n);
    let first = name.chars().next()?;
    if name.chars().count() < 2 || !first.is_ascii_alphabetic() || !known.contains(name) {
        return None;
    }
    Some(format!("-{arg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Vec<String> {
        let known: HashSet<String> = ["format", "address", "field", "mount", "ns", "help", "cas"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        normalize(args.iter().map(OsString::from).collect(), &known)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_become_double_dash() {
        assert_eq!(
            run(&[
                "coffer",
                "kv",
                "get",
                "-format=json",
                "-field=password",
                "-mount",
                "secret",
                "app"
            ]),
            [
                "coffer",
                "kv",
                "get",
                "--format=json",
                "--field=password",
                "--mount",
                "secret",
                "app"
            ]
        );
        assert_eq!(
            run(&["coffer", "-address=http://x:1", "status"]),
            ["coffer", "--address=http://x:1", "status"]
        );
        assert_eq!(
            run(&["coffer", "-ns=team", "status"]),
            ["coffer", "--ns=team", "status"]
        );
        assert_eq!(
            run(&["coffer", "kv", "put", "-cas=-1", "p", "a=b"]),
            ["coffer", "kv", "put", "--cas=-1", "p", "a=b"]
        );
    }

    #[test]
    fn other_arguments_are_untouched() {
        assert_eq!(
            run(&[
                "coffer", "--format", "json", "-h", "-", "-1", "k=-v", "-unknown", "--", "-format"
            ]),
            [
                "coffer", "--format", "json", "-h", "-", "-1", "k=-v", "-unknown", "--", "-format"
            ]
        );
        assert_eq!(run(&["coffer", "-help"]), ["coffer", "--help"]);
        assert_eq!(run(&["coffer"]), ["coffer"]);
    }

    #[test]
    fn names_are_collected_from_clap() {
        let cmd = clap::Command::new("x")
            .arg(clap::Arg::new("a").long("alpha").visible_alias("al"))
            .subcommand(clap::Command::new("s").arg(clap::Arg::new("b").long("beta")));
        let names = long_flag_names(&cmd);
        for n in ["alpha", "al", "beta", "help"] {
            assert!(names.contains(n), "{n}");
        }
    }
}
