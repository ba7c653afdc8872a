//! What every path handler gets, and small helpers they share.

use coffer_sdk::{Captures, Context, FieldData};
use coffer_types::timestamp::Timestamp;
use coffer_types::{Request, Response, Result};
use serde_json::{Map, Value};

use crate::error::AppRoleError;
use crate::role::{Role, valid_name};
use crate::store::Store;

/// One request's view of the backend.
pub(crate) struct Env<'a> {
    /// The mount's context.
    pub ctx: &'a Context,
    /// The request.
    pub req: &'a Request,
    /// Its storage, salt loaded.
    pub store: Store<'a>,
    /// Serialises every read-modify-write of roles and secret ids (use
    /// counts, role-id uniqueness, tidy): writers hold it exclusively;
    /// logins that change nothing hold it shared.
    pub lock: &'a tokio::sync::RwLock<()>,
    /// The path captures.
    pub captures: Captures,
}

impl Env<'_> {
    /// Now, by the server clock.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_system(self.ctx.clock.now())
    }

    /// The lowercased `role_name` capture; an invalid name is Vault's 404
    /// `unsupported path` (its pattern would not have matched).
    pub(crate) fn role_name(&self) -> Result<String, AppRoleError> {
        let name = self.captures.get("role_name");
        if !valid_name(name) {
            return Err(AppRoleError::UnsupportedPath);
        }
        Ok(name.to_lowercase())
    }

    /// The role named in the path for a read: Vault answers a read of a
    /// missing role with a bare 404.
    pub(crate) async fn role_for_read(&self) -> Result<Role> {
        self.role()
            .await?
            .ok_or_else(coffer_types::Error::not_found)
    }

    /// The role named in the path, if it exists.
    pub(crate) async fn role(&self) -> Result<Option<Role>, AppRoleError> {
        let name = self.role_name()?;
        self.store.role(&name).await
    }
}

/// A response with a `data` object.
pub(crate) fn data(map: Map<String, Value>) -> Option<Response> {
    Some(Response::with_data(map))
}

/// A response with one `data` field.
pub(crate) fn one(key: &str, value: impl Into<Value>) -> Option<Response> {
    let mut m = Map::new();
    m.insert(key.to_owned(), value.into());
    data(m)
}

/// Vault's LIST response; no keys is a 404.
pub(crate) fn list(keys: Vec<String>) -> Result<Option<Response>> {
    Response::list(keys)
}

/// A trimmed string field, empty when absent.
pub(crate) fn trimmed(fd: &FieldData, name: &str) -> Result<String> {
    Ok(fd.get_string(name)?.unwrap_or_default().trim().to_owned())
}

/// A non-negative integer field: `None` when absent, Vault's
/// `<name> cannot be negative` when negative.
pub(crate) fn non_negative(fd: &FieldData, name: &'static str) -> Result<Option<u64>> {
    match fd.get_int(name)? {
        None => Ok(None),
        Some(n) if n < 0 => Err(AppRoleError::Negative(name).into()),
        Some(n) => Ok(Some(n.unsigned_abs())),
    }
}

/// A duration field in whole seconds, `None` when absent.
pub(crate) fn secs(fd: &FieldData, name: &str) -> Result<Option<u64>> {
    Ok(fd.get_duration(name)?.map(|d| d.as_secs()))
}
