//! The raw `sys/` endpoints: seal status, init, unseal, seal, health, rekey,
//! generate-root, key status and rotation. These answer bare JSON (no envelope).
//!
//! Answers of rekey and generate-root can carry key shares or encoded tokens;
//! they are returned as JSON values that callers must not log.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use coffer_types::Sensitive;

use crate::client::{Client, RawResponse};
use crate::error::{ClientError, Result};
use crate::sys_types::{InitRequest, InitResponse, SealStatus};

/// Which keys a rekey operation replaces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekeyTarget {
    /// The unseal (barrier) keys.
    #[default]
    Barrier,
    /// The recovery keys of an auto-unseal.
    Recovery,
}

impl RekeyTarget {
    fn prefix(self) -> &'static str {
        match self {
            RekeyTarget::Barrier => "sys/rekey",
            RekeyTarget::Recovery => "sys/rekey-recovery-key",
        }
    }
}

/// `sys/` calls of one [`Client`].
#[derive(Clone, Copy, Debug)]
pub struct Sys<'a> {
    client: &'a Client,
}

impl<'a> Sys<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        Ok(self
            .client
            .raw_checked(method, path, body)
            .await?
            .unwrap_or(Value::Null))
    }

    async fn call_typed<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T> {
        let url = self.client.url_for(path).to_string();
        let method_text = method.as_str().to_owned();
        let value = self.call(method, path, body).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Decode {
            method: method_text,
            url,
            message: e.to_string(),
        })
    }

    /// `GET sys/seal-status`.
    pub async fn seal_status(&self) -> Result<SealStatus> {
        self.call_typed(Method::GET, "sys/seal-status", None).await
    }

    /// `GET sys/init`: whether the server is initialised.
    pub async fn init_status(&self) -> Result<bool> {
        let value = self.call(Method::GET, "sys/init", None).await?;
        Ok(value
            .get("initialized")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// `PUT sys/init`.
    pub async fn init(&self, request: &InitRequest) -> Result<InitResponse> {
        let body = serde_json::to_value(request).map_err(|e| ClientError::Config(e.to_string()))?;
        self.call_typed(Method::PUT, "sys/init", Some(&body)).await
    }

    /// `PUT sys/unseal` with one key share.
    pub async fn unseal(&self, key: &Sensitive) -> Result<SealStatus> {
        let body = json!({ "key": key.expose() });
        self.call_typed(Method::PUT, "sys/unseal", Some(&body))
            .await
    }

    /// `PUT sys/unseal` with `reset: true`: forget the shares supplied so far.
    pub async fn unseal_reset(&self) -> Result<SealStatus> {
        let body = json!({ "reset": true });
        self.call_typed(Method::PUT, "sys/unseal", Some(&body))
            .await
    }

    /// `PUT sys/seal`.
    pub async fn seal(&self) -> Result<()> {
        self.call(Method::PUT, "sys/seal", None).await.map(drop)
    }

    /// `GET sys/health`. The status code is part of the answer (200 active,
    /// 429 standby, 501 not initialised, 503 sealed), so it is not an error.
    pub async fn health(&self) -> Result<RawResponse> {
        self.client.raw(Method::GET, "sys/health", &[], None).await
    }

    /// `GET sys/leader`.
    pub async fn leader(&self) -> Result<Value> {
        self.call(Method::GET, "sys/leader", None).await
    }

    /// `GET sys/key-status`.
    pub async fn key_status(&self) -> Result<Value> {
        self.call(Method::GET, "sys/key-status", None).await
    }

    /// `PUT sys/rotate`: installs a new barrier encryption key term.
    pub async fn rotate(&self) -> Result<()> {
        self.call(Method::PUT, "sys/rotate", None).await.map(drop)
    }

    /// `GET sys/rekey/init` (or the recovery-key equivalent).
    pub async fn rekey_status(&self, target: RekeyTarget) -> Result<Value> {
        let path = format!("{}/init", target.prefix());
        self.call(Method::GET, &path, None).await
    }

    /// `PUT sys/rekey/init` with `secret_shares`, `secret_threshold`, `pgp_keys`,
    /// `backup`, `require_verification`.
    pub async fn rekey_init(&self, target: RekeyTarget, body: &Value) -> Result<Value> {
        let path = format!("{}/init", target.prefix());
        self.call(Method::PUT, &path, Some(body)).await
    }

    /// `DELETE sys/rekey/init`: cancels a rekey.
    pub async fn rekey_cancel(&self, target: RekeyTarget, nonce: &str) -> Result<()> {
        let path = format!("{}/init", target.prefix());
        let body = json!({ "nonce": nonce });
        self.call(Method::DELETE, &path, Some(&body))
            .await
            .map(drop)
    }

    /// `PUT sys/rekey/update` with one existing key share.
    pub async fn rekey_update(
        &self,
        target: RekeyTarget,
        key: &Sensitive,
        nonce: &str,
    ) -> Result<Value> {
        let path = format!("{}/update", target.prefix());
        let body = json!({ "key": key.expose(), "nonce": nonce });
        self.call(Method::PUT, &path, Some(&body)).await
    }

    /// `PUT sys/rekey/verify` with one new key share.
    pub async fn rekey_verify(
        &self,
        target: RekeyTarget,
        key: &Sensitive,
        nonce: &str,
    ) -> Result<Value> {
        let path = format!("{}/verify", target.prefix());
        let body = json!({ "key": key.expose(), "nonce": nonce });
        self.call(Method::PUT, &path, Some(&body)).await
    }

    /// `GET sys/generate-root/attempt`.
    pub async fn generate_root_status(&self) -> Result<Value> {
        self.call(Method::GET, "sys/generate-root/attempt", None)
            .await
    }

    /// `PUT sys/generate-root/attempt`. Without `otp` or `pgp_key` the server
    /// generates the one-time password and returns it as `otp`.
    pub async fn generate_root_init(
        &self,
        otp: Option<&str>,
        pgp_key: Option<&str>,
    ) -> Result<Value> {
        let mut body = serde_json::Map::new();
        if let Some(otp) = otp {
            body.insert("otp".into(), Value::from(otp));
        }
        if let Some(key) = pgp_key {
            body.insert("pgp_key".into(), Value::from(key));
        }
        let body = Value::Object(body);
        self.call(Method::PUT, "sys/generate-root/attempt", Some(&body))
            .await
    }

    /// `DELETE sys/generate-root/attempt`.
    pub async fn generate_root_cancel(&self, nonce: &str) -> Result<()> {
        let body = json!({ "nonce": nonce });
        self.call(Method::DELETE, "sys/generate-root/attempt", Some(&body))
            .await
            .map(drop)
    }

    /// `PUT sys/generate-root/update` with one key share.
    pub async fn generate_root_update(&self, key: &Sensitive, nonce: &str) -> Result<Value> {
        let body = json!({ "key": key.expose(), "nonce": nonce });
        self.call(Method::PUT, "sys/generate-root/update", Some(&body))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rekey_targets_use_vaults_paths() {
        assert_eq!(RekeyTarget::Barrier.prefix(), "sys/rekey");
        assert_eq!(RekeyTarget::Recovery.prefix(), "sys/rekey-recovery-key");
        assert_eq!(RekeyTarget::default(), RekeyTarget::Barrier);
    }
}
