//! `coffer server`: starts the server. The integrator wires this to the core
//! and HTTP crates.

use anyhow::Result;

use crate::args::ServerArgs;

/// Runs the server until it is shut down.
pub async fn run(args: ServerArgs) -> Result<()> {
    let _ = args;
    anyhow::bail!("server not wired yet")
}
