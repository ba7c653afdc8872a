//! The `sys/` endpoints, answered by the core itself. One path family per
//! file; this module dispatches.

mod capabilities;
pub(crate) mod cors;
mod declared;
mod host_info;
mod internal;
pub(crate) mod mounts;
mod openapi;
mod plugins;
pub(crate) mod policies;
pub(crate) mod remount;
pub(crate) mod status;
pub(crate) mod tools;
pub(crate) mod version_history;

use coffer_types::{Error, ErrorKind, Operation, Request, Response, Result};

use crate::Core;
use crate::pipeline::Caller;
use crate::unsealed::Unsealed;

/// The version string the status endpoints report.
pub(crate) const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+coffer");
/// Build date reported by the status endpoints.
pub(crate) const BUILD_DATE: &str = "2026-11-26T00:00:00Z";

/// The core's own `sys/` paths (relative) that need `sudo` on top of the
/// operation's capability. The pieces' sudo paths come from their
/// declarations ([`Unsealed::sys_pieces`]).
const SUDO_PATHS: &[&str] = &["raw", "raw/*", "rotate", "seal"];

/// Whether a `sys/` path needs `sudo`: one of the core's own, or a path a
/// piece declares with `.sudo()`.
pub(crate) fn needs_sudo(unsealed: &Unsealed, relative: &str) -> bool {
    core_needs_sudo(relative)
        || coffer_sdk::special_path_matches(&unsealed.sys_pieces.special().root, relative)
}

/// Whether one of the core's own `sys/` paths needs `sudo`.
fn core_needs_sudo(relative: &str) -> bool {
    SUDO_PATHS.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => relative.starts_with(prefix),
        None => *p == relative,
    })
}

/// The sudo globs of every `sys/` path: the core's and the pieces'.
pub(crate) fn sudo_globs(unsealed: &Unsealed) -> Vec<String> {
    SUDO_PATHS
        .iter()
        .map(|s| (*s).to_owned())
        .chain(unsealed.sys_pieces.special().root.iter().cloned())
        .collect()
}

pub(crate) use internal::acl_exempt;

/// The endpoints that need no token and work while sealed. `None` when
/// `req` is not one of them.
pub(crate) async fn unauthenticated(core: &Core, req: &Request) -> Option<Result<Response>> {
    let relative = req.path.strip_prefix("sys/")?;
    let op = req.op();
    let result = match relative {
        "init" => status::init(core, req).await,
        "seal-status" => status::seal_status(core, op).await,
        "unseal" => status::unseal(core, req).await,
        "health" => status::health(core, req).await,
        "leader" => status::leader(core, op).await,
        "rekey/init" | "rekey/update" | "rekey/verify" => {
            crate::rekey::handle(core, relative, req).await
        }
        "generate-root/attempt" | "generate-root/update" => {
            crate::generate_root::handle(core, relative, req).await
        }
        "wrapping/lookup" => match core.unsealed() {
            Ok(unsealed) => unsealed.wrapping_lookup(req).await,
            Err(e) => Err(e),
        },
        // Vault lists it among the unauthenticated paths: without a token,
        // the mounts tuned `listing_visibility=unauth`. With a token it
        // takes the authenticated path (what the token's policies reach).
        "internal/specs/openapi"
            if op != Operation::Help && req.client_token.as_ref().is_none_or(|t| t.is_empty()) =>
        {
            core.unsealed().and_then(|unsealed| {
                allow(op, &[Operation::Read])?;
                Ok(openapi::unauthenticated_document(&unsealed))
            })
        }
        _ => return None,
    };
    Some(result)
}

/// The authenticated `sys/` endpoints. `relative` is the path under `sys/`;
/// `ctx` is the `sys/` mount's context, handed to the services' `sys/`
/// pieces (each a [`coffer_sdk::Backend`] over its own path table).
pub(crate) async fn handle(
    core: &Core,
    unsealed: &Unsealed,
    ctx: &coffer_sdk::Context,
    caller: &Caller,
    req: &Request,
    full_path: &str,
) -> Result<Option<Response>> {
    let relative = req.path.as_str();
    let op = req.op();
    // The pieces' paths, help included, are dispatched from their
    // declarations; the core's own handlers answer the rest.
    if let Some(piece) = unsealed.sys_pieces.piece_for(relative) {
        return piece.handle(ctx, req).await;
    }
    if op == Operation::Help {
        return Ok(Some(help(relative)));
    }
    let first = relative.split('/').next().unwrap_or("");
    match first {
        "seal" | "key-status" | "rotate" => {
            status::authenticated(core, unsealed, relative, op).await
        }
        "capabilities" | "capabilities-self" | "capabilities-accessor" => {
            capabilities::handle(unsealed, caller, relative, req).await
        }
        "internal" => internal::handle(unsealed, caller, relative, req).await,
        "wrapping" => unsealed.handle_wrapping(caller, relative, req).await,
        _ => Err(Error::new(
            ErrorKind::NotFound,
            format!("no handler for route {full_path:?}. route entry not found."),
        )),
    }
}

fn help(relative: &str) -> Response {
    let mut data = serde_json::Map::new();
    data.insert(
        "help".into(),
        serde_json::Value::String(format!(
            "Request: sys/{relative}\n\nThe system backend: seal lifecycle, mounts, auth methods, policies and capabilities. See Vault's sys API documentation; Coffer follows it."
        )),
    );
    Response::with_data(data)
}

/// Fails with 405 unless `op` is one of `allowed`.
pub(crate) fn allow(op: Operation, allowed: &[Operation]) -> Result<()> {
    let op = if op == Operation::Create {
        Operation::Update
    } else {
        op
    };
    if allowed.contains(&op) {
        Ok(())
    } else {
        Err(Error::unsupported("unsupported operation"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_paths() {
        assert!(core_needs_sudo("seal"));
        assert!(core_needs_sudo("rotate"));
        assert!(!core_needs_sudo("auth/userpass"));
        assert!(!core_needs_sudo("auth"));
        assert!(!core_needs_sudo("mounts/secret"));
        assert!(!core_needs_sudo("policies/acl/x"));
    }
}
