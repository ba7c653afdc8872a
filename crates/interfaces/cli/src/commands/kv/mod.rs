//! `coffer kv`: the key/value secrets engine, versions 1 and 2, with both
//! `kv get secret/app` and `kv get -mount=secret app` path forms.

pub mod metadata;
pub mod paths;
pub mod read;
pub mod versions;
pub mod write;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::context::Ctx;

/// `coffer kv` arguments.
#[derive(Debug, Args)]
pub struct KvArgs {
    /// The kv subcommand.
    #[command(subcommand)]
    pub command: KvCommand,
}

/// The kv subcommands.
#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Retrieve data from the KV store.
    Get(read::GetArgs),
    /// Set or update data in the KV store (replaces the whole secret).
    Put(write::PutArgs),
    /// Set or update data in the KV store without overwriting other keys (v2 only).
    Patch(write::PatchArgs),
    /// Delete versions of a secret (v2) or the secret (v1).
    Delete(versions::DeleteArgs),
    /// Undelete versions of a secret (v2 only).
    Undelete(versions::VersionsArgs),
    /// Permanently destroy versions of a secret (v2 only).
    Destroy(versions::VersionsArgs),
    /// List data or secrets.
    List(read::ListArgs),
    /// Interact with the metadata of secrets (v2 only).
    Metadata(metadata::MetadataArgs),
}

/// The `-mount` option shared by every kv subcommand.
#[derive(Clone, Debug, Default, Args)]
pub struct MountArg {
    /// Where the KV engine is mounted. When given, the path argument is the
    /// secret path inside the mount; otherwise the path includes the mount.
    #[arg(long, value_name = "PATH")]
    pub mount: Option<String>,
}

impl MountArg {
    /// The mount, when given and not empty.
    pub fn get(&self) -> Option<&str> {
        self.mount.as_deref().filter(|m| !m.is_empty())
    }
}

/// Runs a kv subcommand.
pub async fn run(ctx: &Ctx, args: KvArgs) -> Result<()> {
    let client = ctx.client()?;
    match args.command {
        KvCommand::Get(a) => read::get(ctx, &client, a).await,
        KvCommand::List(a) => read::list(ctx, &client, a).await,
        KvCommand::Put(a) => write::put(ctx, &client, a).await,
        KvCommand::Patch(a) => write::patch(ctx, &client, a).await,
        KvCommand::Delete(a) => versions::delete(ctx, &client, a).await,
        KvCommand::Undelete(a) => versions::undelete(ctx, &client, a).await,
        KvCommand::Destroy(a) => versions::destroy(ctx, &client, a).await,
        KvCommand::Metadata(a) => metadata::run(ctx, &client, a).await,
    }
}
