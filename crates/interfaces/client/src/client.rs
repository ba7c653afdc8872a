//! The HTTP core: building requests with Vault's headers and interpreting answers
//! the way Vault's Go client does.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Certificate, Method, Url};
use serde_json::Value;

use coffer_types::Sensitive;

use crate::config::ClientConfig;
use crate::error::{ClientError, Result, parse_error_body};
use crate::secret::Secret;
use crate::sys::Sys;

/// Content type of a JSON merge patch (RFC 7386), used by KV v2 `PATCH`.
pub const MERGE_PATCH_CONTENT_TYPE: &str = "application/merge-patch+json";

/// A client bound to one server address and (optionally) one token. Cheap to
/// clone: clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Sensitive>,
    namespace: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// An answer whose status is not interpreted (for `sys/health`, whose status
/// code carries meaning, and other raw `sys/` endpoints).
#[derive(Clone, PartialEq)]
pub struct RawResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body, or `None` when the body was empty.
    pub body: Option<Value>,
}

impl std::fmt::Debug for RawResponse {
    /// Prints the status only: raw bodies can hold key shares or tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A request body.
enum Body<'a> {
    Json(&'a Value),
    MergePatch(&'a Value),
}

impl Client {
    /// Builds a client. Fails on an unparsable address or an unreadable CA file.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let base = parse_address(&config.address)?;
        let mut builder = reqwest::Client::builder().timeout(config.timeout);
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path).map_err(|e| ClientError::CaCert {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let certs = Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::CaCert {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if certs.is_empty() {
                return Err(ClientError::CaCert {
                    path: path.clone(),
                    message: "no PEM certificates found".to_owned(),
                });
            }
            builder = builder.tls_certs_only(certs);
        }
        if config.danger_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Self {
            http,
            base,
            token: config.token,
            namespace: config.namespace.filter(|n| !n.is_empty()),
        })
    }

    /// The server address.
    pub fn address(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The token sent with each request, if any.
    pub fn token(&self) -> Option<&Sensitive> {
        self.token.as_ref()
    }

    /// Replaces the token.
    pub fn set_token(&mut self, token: Option<Sensitive>) {
        self.token = token;
    }

    /// A clone of this client that sends `token` instead.
    pub fn with_token(&self, token: Sensitive) -> Self {
        Self {
            token: Some(token),
            ..self.clone()
        }
    }

    /// Typed access to the `sys/` endpoints.
    pub fn sys(&self) -> Sys<'_> {
        Sys::new(self)
    }

    /// `GET /v1/<path>`. A `404` without data is `Ok(None)`; a `404` that carries
    /// data or warnings (a deleted KV v2 version) is returned as a secret.
    pub async fn read(&self, path: &str) -> Result<Option<Secret>> {
        self.read_with_query(path, &[]).await
    }

    /// [`Client::read`] with query parameters (e.g. KV v2 `version`).
    pub async fn read_with_query(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Option<Secret>> {
        let (method, url, status, body) = self.send(Method::GET, path, query, None).await?;
        interpret(&method, &url, status, &body, true)
    }

    /// `GET /v1/<path>?list=true` (Vault's LIST). A `404` is `Ok(None)`.
    pub async fn list(&self, path: &str) -> Result<Option<Secret>> {
        let query = [("list".to_owned(), "true".to_owned())];
        let (method, url, status, body) = self.send(Method::GET, path, &query, None).await?;
        interpret(&method, &url, status, &body, true)
    }

    /// `PUT /v1/<path>` with a JSON body. `204` is `Ok(None)`.
    pub async fn write(&self, path: &str, body: &Value) -> Result<Option<Secret>> {
        let (method, url, status, text) = self
            .send(Method::PUT, path, &[], Some(Body::Json(body)))
            .await?;
        interpret(&method, &url, status, &text, false)
    }

    /// `PATCH /v1/<path>` with a JSON merge-patch body (KV v2 patch).
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Option<Secret>> {
        let (method, url, status, text) = self
            .send(Method::PATCH, path, &[], Some(Body::MergePatch(body)))
            .await?;
        interpret(&method, &url, status, &text, false)
    }

    /// `DELETE /v1/<path>`. `204` is `Ok(None)`.
    pub async fn delete(&self, path: &str) -> Result<Option<Secret>> {
        let (method, url, status, text) = self.send(Method::DELETE, path, &[], None).await?;
        interpret(&method, &url, status, &text, false)
    }

    /// `DELETE /v1/<path>` with query parameters (Vault's `DeleteWithData`).
    pub async fn delete_with_query(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Option<Secret>> {
        let (method, url, status, text) = self.send(Method::DELETE, path, query, None).await?;
        interpret(&method, &url, status, &text, false)
    }

    /// Sends any request and returns the status and JSON body without judging
    /// the status. Fails only on transport errors or a non-JSON body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<RawResponse> {
        let (method, url, status, text) =
            self.send(method, path, query, body.map(Body::Json)).await?;
        let body = parse_json_body(&method, &url, &text)?;
        Ok(RawResponse { status, body })
    }

    /// Like [`Client::raw`], but a status of 400 or more is an error.
    pub async fn raw_checked(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        let (method, url, status, text) =
            self.send(method, path, &[], body.map(Body::Json)).await?;
        if status >= 400 {
            return Err(api_error(&method, &url, status, &text));
        }
        parse_json_body(&method, &url, &text)
    }

    /// The full URL of `/v1/<path>`.
    pub fn url_for(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}/v1/{}", path.trim_start_matches('/')));
        url
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Body<'_>>,
    ) -> Result<(String, String, u16, String)> {
        let url = self.url_for(path);
        let url_text = url.to_string();
        let method_text = method.as_str().to_owned();
        let mut request = self.http.request(method, url).headers(self.headers()?);
        if !query.is_empty() {
            request = request.query(query);
        }
        request = match body {
            Some(Body::Json(value)) => request.json(value),
            Some(Body::MergePatch(value)) => request
                .header(CONTENT_TYPE, MERGE_PATCH_CONTENT_TYPE)
                .body(value.to_string()),
            None => request,
        };
        let transport = |source| ClientError::Transport {
            method: method_text.clone(),
            url: url_text.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(transport)?;
        Ok((method_text, url_text, status, text))
    }

    fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert("X-Vault-Request", HeaderValue::from_static("true"));
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(token.expose()).map_err(|_| {
                ClientError::Config("the token contains invalid characters".to_owned())
            })?;
            value.set_sensitive(true);
            headers.insert("X-Vault-Token", value);
        }
        if let Some(ns) = &self.namespace {
            let value = HeaderValue::from_str(ns).map_err(|_| {
                ClientError::Config("the namespace contains invalid characters".to_owned())
            })?;
            headers.insert("X-Vault-Namespace", value);
        }
        Ok(headers)
    }
}

/// Parses and checks the server address.
fn parse_address(address: &str) -> Result<Url> {
    let url = Url::parse(address.trim())
        .map_err(|e| ClientError::Config(format!("invalid address {address:?}: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(ClientError::Config(format!(
            "invalid address {address:?}: unsupported scheme {other:?}"
        ))),
    }
}

fn api_error(method: &str, url: &str, status: u16, body: &str) -> ClientError {
    ClientError::Api {
        method: method.to_owned(),
        url: url.to_owned(),
        status,
        errors: parse_error_body(body),
    }
}

fn parse_json_body(method: &str, url: &str, text: &str) -> Result<Option<Value>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| ClientError::Decode {
            method: method.to_owned(),
            url: url.to_owned(),
            message: e.to_string(),
        })
}

/// Turns a status and body into Vault's `Logical()` result. With
/// `lenient_not_found`, a 404 is "nothing there" unless its body carries data
/// or warnings.
pub(crate) fn interpret(
    method: &str,
    url: &str,
    status: u16,
    body: &str,
    lenient_not_found: bool,
) -> Result<Option<Secret>> {
    if status == 404 && lenient_not_found {
        return Ok(serde_json::from_str::<Secret>(body)
            .ok()
            .filter(Secret::has_data_or_warnings));
    }
    if !(200..400).contains(&status) {
        return Err(api_error(method, url, status, body));
    }
    if status == 204 || body.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<Secret>(body)
        .map(Some)
        .map_err(|e| ClientError::Decode {
            method: method.to_owned(),
            url: url.to_owned(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(address: &str) -> Client {
        Client::new(ClientConfig::new(address)).unwrap()
    }

    #[test]
    fn urls_are_built_under_v1_and_escaped() {
        let c = client("http://127.0.0.1:8200/");
        assert_eq!(c.address(), "http://127.0.0.1:8200");
        assert_eq!(
            c.url_for("/secret/data/a b?c").as_str(),
            "http://127.0.0.1:8200/v1/secret/data/a%20b%3Fc"
        );
        let proxied = client("https://example.invalid/vault");
        assert_eq!(
            proxied.url_for("sys/health").as_str(),
            "https://example.invalid/vault/v1/sys/health"
        );
    }

    #[test]
    fn bad_addresses_and_ca_files_are_config_errors() {
        assert!(matches!(
            Client::new(ClientConfig::new("not a url")),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            Client::new(ClientConfig::new("ftp://x")),
            Err(ClientError::Config(_))
        ));
        let mut cfg = ClientConfig::new("https://127.0.0.1:8200");
        cfg.ca_cert = Some("/nonexistent/ca.pem".into());
        assert!(matches!(Client::new(cfg), Err(ClientError::CaCert { .. })));
    }

    #[test]
    fn debug_hides_the_token() {
        let mut c = client("http://127.0.0.1:8200");
        c.set_token(Some(Sensitive::new("hvs.canary")));
        assert!(!format!("{c:?}").contains("canary"));
        assert_eq!(c.token().unwrap().expose(), "hvs.canary");
        assert!(
            c.headers()
                .unwrap()
                .get("X-Vault-Token")
                .unwrap()
                .is_sensitive()
        );
    }

    #[test]
    fn interpretation_follows_vaults_go_client() {
        let ok = interpret("GET", "u", 200, r#"{"data":{"k":"v"}}"#, true).unwrap();
        assert_eq!(ok.unwrap().data_field("k"), Some(&Value::from("v")));
        assert!(interpret("PUT", "u", 204, "", false).unwrap().is_none());
        assert!(
            interpret("GET", "u", 404, r#"{"errors":[]}"#, true)
                .unwrap()
                .is_none()
        );
        assert!(interpret("GET", "u", 404, "", true).unwrap().is_none());
        let deleted = interpret(
            "GET",
            "u",
            404,
            r#"{"data":{"data":null,"metadata":{"version":2}}}"#,
            true,
        )
        .unwrap();
        assert!(deleted.is_some());
        let err = interpret("PUT", "u", 404, r#"{"errors":[]}"#, false).unwrap_err();
        assert_eq!(err.status(), Some(404));
        let err =
            interpret("GET", "u", 503, r#"{"errors":["Vault is sealed"]}"#, true).unwrap_err();
        assert_eq!(err.errors(), ["Vault is sealed"]);
        assert!(matches!(
            interpret("GET", "u", 200, "not json", true),
            Err(ClientError::Decode { .. })
        ));
    }
}
