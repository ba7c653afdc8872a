//! Vault's `*` globs for backends: `go-glob` ([`matches`], `*` anywhere, as
//! in `allowed_roles` and `allowed_policies_glob`) and
//! `strutil.GlobbedStringsMatch` ([`EdgeGlob`], `*` only at the ends, as in
//! policy parameter values). They live in `coffer_types::glob`, where the
//! pure policy crate reaches them too; backends reach them here.

pub use coffer_types::glob::{EdgeGlob, matches, matches_any};
