//! What every path handler works with: the sdk's [`Call`] plus the mount's
//! store (salt loaded) and lock, built in one place ([`Env::open`]), and
//! small helpers the handlers share.

use std::ops::Deref;

use coffer_sdk::token_fields::TokenFields;
use coffer_sdk::{Call, FieldData, FieldDef};
use coffer_types::timestamp::Timestamp;
use coffer_types::{Response, Result};
use serde_json::{Map, Value};

use crate::AppRole;
use crate::error::AppRoleError;
use crate::role::{Role, valid_name};
use crate::store::Store;

/// One request's view of the backend: the call (dereferenced to, for `ctx`,
/// `req`, `fields` and the captures) with the store and the lock.
pub(crate) struct Env<'a> {
    /// The request as the dispatch hands it over.
    pub call: &'a Call<'a>,
    /// Its storage, salt loaded.
    pub store: Store<'a>,
    /// Serialises every read-modify-write of roles and secret ids (use
    /// counts, role-id uniqueness, tidy): writers hold it exclusively;
    /// logins that change nothing hold it shared.
    pub lock: &'a tokio::sync::RwLock<()>,
}

impl<'a> Deref for Env<'a> {
    type Target = Call<'a>;
    fn deref(&self) -> &Call<'a> {
        self.call
    }
}

impl<'a> Env<'a> {
    /// The view of `call` on `backend`: opens the store (loading the salt).
    pub(crate) async fn open(backend: &'a AppRole, call: &'a Call<'a>) -> Result<Self> {
        Ok(Self {
            call,
            store: Store::open(&call.ctx.storage, &backend.salt, &backend.records).await?,
            lock: &backend.lock,
        })
    }

    /// Now, by the server clock.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_system(self.ctx.clock.now())
    }

    /// The lowercased `role_name` capture; an invalid name is Vault's 404
    /// `unsupported path` (its pattern would not have matched).
    pub(crate) fn role_name(&self) -> Result<String, AppRoleError> {
        let name = self.capture("role_name");
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

/// Applies the token fields of `body` that `declared` (the path's fields)
/// names to `token`. Role writes parse a rewritten copy of the call's body
/// (Vault's `default-service`/`default-batch` token types, the per-field
/// paths' single value), so this reads that copy through the sdk's token
/// field declarations, keeping only the names the path declares, with the
/// same undeclared-read check the dispatch applies to handlers.
pub(crate) fn parse_token_fields(
    token: &mut TokenFields,
    body: &Map<String, Value>,
    declared: &[FieldDef],
) -> Result<()> {
    let body: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| declared.iter().any(|f| f.name == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let fields = FieldData::new(&body, TokenFields::FIELDS)?;
    token.parse_update(&fields)?;
    fields.check_reads()
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
