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
///
/// Pages are locked as they are faulted in (`MCL_ONFAULT`, Linux 4.4 and
/// later): every page that ever holds data is locked, so nothing is
/// swapped, but reserved address space that is never touched (allocator
/// arenas, thread stacks) is not populated. Plain `MCL_CURRENT |
/// MCL_FUTURE` would make the whole reservation resident: over 1 GiB at
/// start with the allocator's arenas. Kernels without `MCL_ONFAULT` get
/// the plain form.
pub fn lock_memory() -> anyhow::Result<()> {
    let on_fault = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT;
    if mlockall(on_fault).is_ok() {
        return Ok(());
    }
    mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE).context(
        "failed to lock memory: the mlock syscall is not available or not permitted \
         (it needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK). Grant that, or set \
         `disable_mlock = true` in the configuration if swap is disabled or encrypted",
    )
}
