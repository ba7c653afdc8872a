//! `coffer status`: exit 0 unsealed, 2 sealed, 1 on error (Vault's documented codes).

use anyhow::Result;

use crate::commands::seal_status;
use crate::context::Ctx;
use crate::exit::{Exit, LOCAL, REMOTE};

/// Runs `coffer status`.
pub async fn run(ctx: &Ctx) -> Result<()> {
    let client = ctx
        .client()
        .map_err(|e| Exit::with_message(LOCAL, format!("{e:#}")))?;
    let status = client.sys().seal_status().await.map_err(|e| {
        let e = anyhow::Error::from(e);
        Exit::with_message(LOCAL, format!("Error checking seal status: {e:#}"))
    })?;
    seal_status::print(&client, &ctx.out, &status).await?;
    if status.sealed {
        return Err(Exit::silent(REMOTE).into());
    }
    Ok(())
}
