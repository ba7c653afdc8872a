//! The sdk's backend test harness under the names the kv tests use.

pub(crate) use coffer_sdk::testing::{Harness, START, data as body};
