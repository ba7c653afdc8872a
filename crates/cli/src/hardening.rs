//! Process hardening for the server. Memory holds the barrier keys and
//! decrypted secrets, so: no core dumps (a crash must not write them to disk),
//! not dumpable (no ptrace or `/proc/<pid>/mem` by other processes of the same
//! user), and, like Vault, all memory locked against swapping unless the
//! configuration says `disable_mlock = true`.

use anyhow::Context as _;
use rustix::mm::{MlockAllFlags, mlockall};
use rustix::process::{Resource, Rlimit, setrlimit};

/// Sets the core file size limit to zero and marks the process not dumpable.
pub fn disable_core_dumps() -> anyhow::Result<()> {
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .context("setting the core dump size limit to 0")?;
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .context("marking the process not dumpable")?;
    Ok(())
}

/// Locks every current and future page in RAM, failing with Vault's advice
/// when the system does not allow it.
pub fn lock_memory() -> anyhow::Result<()> {
    mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE).context(
        "failed to lock memory: the mlock syscall is not available or not permitted \
         (it needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK). Grant that, or set \
         `disable_mlock = true` in the configuration if swap is disabled or encrypted",
    )
}
