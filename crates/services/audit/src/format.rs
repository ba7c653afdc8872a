//! Vault's JSON audit records: a `request` record before the request is
//! served and a `response` record after, sharing `request.id`. Empty fields
//! are omitted as Vault's `omitempty` does.

use std::time::SystemTime;

use coffer_sdk::time::rfc3339;
use coffer_types::timestamp::rfc3339_seconds;
use coffer_types::{Auth, Operation, Response, WrapInfo};
use serde_json::{Map, Value};

use crate::hash::{elide_list_response, hash_map};
use crate::{AuditAuth, AuditRequest, AuditResponse, FormatOptions, Salt};

/// Formats records for one device: its salt and its options.
#[derive(Clone, Copy, Debug)]
pub struct Formatter<'a> {
    salt: &'a Salt,
    opts: &'a FormatOptions,
}

/// Inserts `value` unless it is empty (Vault's `omitempty`).
fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_u64() == Some(0) || n.as_i64() == Some(0),
    };
    if !empty {
        map.insert(key.to_owned(), value);
    }
}

fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().cloned().map(Value::String).collect())
}

impl<'a> Formatter<'a> {
    /// A formatter hashing with `salt` under `opts`.
    pub fn new(salt: &'a Salt, opts: &'a FormatOptions) -> Self {
        Self { salt, opts }
    }

    /// HMACs a token (always, unless `log_raw`).
    fn token(&self, token: &str) -> Value {
        if self.opts.log_raw || token.is_empty() {
            Value::String(token.to_owned())
        } else {
            Value::String(self.salt.hash(token))
        }
    }

    /// HMACs an accessor when `hmac_accessor` (and not `log_raw`).
    fn accessor(&self, accessor: &str) -> Value {
        if self.opts.log_raw || !self.opts.hmac_accessor || accessor.is_empty() {
            Value::String(accessor.to_owned())
        } else {
            Value::String(self.salt.hash(accessor))
        }
    }

    /// The record's `auth` block: the caller's token.
    fn caller_auth(&self, auth: Option<&AuditAuth>) -> Value {
        let mut m = Map::new();
        if let Some(a) = auth {
            if let Some(t) = &a.client_token {
                put(&mut m, "client_token", self.token(t.expose()));
            }
            put(&mut m, "accessor", self.accessor(&a.accessor));
            put(
                &mut m,
                "display_name",
                Value::String(a.display_name.clone()),
            );
            put(&mut m, "policies", strings(&a.policies));
            put(&mut m, "token_policies", strings(&a.token_policies));
            put(&mut m, "identity_policies", strings(&a.identity_policies));
            put(&mut m, "metadata", Value::Object(a.metadata.clone()));
            put(&mut m, "entity_id", Value::String(a.entity_id.clone()));
            put(&mut m, "remaining_uses", Value::from(a.remaining_uses));
            put(&mut m, "token_ttl", Value::from(a.token_ttl.as_secs()));
            if let Some(at) = a.token_issue_time {
                put(
                    &mut m,
                    "token_issue_time",
                    Value::String(rfc3339_seconds(at)),
                );
            }
        }
        // Vault prints the zero token type as `default`.
        let token_type = auth
            .map(|a| a.token_type.as_str())
            .filter(|t| !t.is_empty())
            .unwrap_or("default");
        put(&mut m, "token_type", Value::String(token_type.to_owned()));
        Value::Object(m)
    }

    /// The record's `request` block.
    fn request(&self, input: &AuditRequest<'_>) -> Value {
        let req = input.request;
        let mut m = Map::new();
        put(&mut m, "id", Value::String(req.id.clone()));
        if let Some(t) = &req.client_token {
            put(&mut m, "client_token", self.token(t.expose()));
        }
        if let Some(a) = req.token_accessor() {
            put(&mut m, "client_token_accessor", self.accessor(a));
        }
        put(
            &mut m,
            "operation",
            Value::String(req.op().as_str().to_owned()),
        );
        put(
            &mut m,
            "mount_point",
            Value::String(req.mount_point.clone()),
        );
        put(&mut m, "mount_type", Value::String(req.mount_type.clone()));
        put(
            &mut m,
            "mount_accessor",
            Value::String(req.mount_accessor.clone()),
        );
        let mut ns = Map::new();
        ns.insert("id".into(), Value::String("root".into()));
        m.insert("namespace".into(), Value::Object(ns));
        put(&mut m, "path", Value::String(req.path.clone()));
        let mut data = req.data.clone();
        if !self.opts.log_raw {
            hash_map(self.salt, &mut data, input.non_hmac_request_keys);
        }
        put(&mut m, "data", Value::Object(data));
        if let Some(addr) = req.client_addr {
            put(&mut m, "remote_address", Value::String(addr.to_string()));
        }
        if let Some(port) = input.remote_port {
            put(&mut m, "remote_port", Value::from(port));
        }
        if let Some(ttl) = req.wrap_ttl {
            put(&mut m, "wrap_ttl", Value::from(ttl.as_secs()));
        }
        if let Some(headers) = input.headers {
            let mut h = Map::new();
            for (name, header) in headers {
                let values = header
                    .values
                    .iter()
                    .map(|v| {
                        if header.hmac && !self.opts.log_raw {
                            Value::String(self.salt.hash(v))
                        } else {
                            Value::String(v.clone())
                        }
                    })
                    .collect();
                h.insert(name.clone(), Value::Array(values));
            }
            put(&mut m, "headers", Value::Object(h));
        }
        Value::Object(m)
    }

    /// The `response.auth` block of a login or token creation.
    fn response_auth(&self, auth: &Auth) -> Value {
        let mut m = Map::new();
        put(&mut m, "client_token", self.token(&auth.client_token));
        put(&mut m, "accessor", self.accessor(&auth.accessor));
        put(&mut m, "policies", strings(&auth.policies));
        put(&mut m, "token_policies", strings(&auth.token_policies));
        put(
            &mut m,
            "identity_policies",
            strings(&auth.identity_policies),
        );
        if let Some(meta) = &auth.metadata {
            put(&mut m, "metadata", Value::Object(meta.clone()));
        }
        put(&mut m, "num_uses", Value::from(auth.num_uses));
        put(&mut m, "entity_id", Value::String(auth.entity_id.clone()));
        let token_type = if auth.token_type.is_empty() {
            "default"
        } else {
            auth.token_type.as_str()
        };
        put(&mut m, "token_type", Value::String(token_type.to_owned()));
        put(&mut m, "token_ttl", Value::from(auth.lease_duration));
        Value::Object(m)
    }

    fn wrap_info(&self, w: &WrapInfo) -> Value {
        let mut m = Map::new();
        put(&mut m, "token", self.token(&w.token));
        put(&mut m, "accessor", self.accessor(&w.accessor));
        put(&mut m, "ttl", Value::from(w.ttl));
        put(
            &mut m,
            "creation_time",
            Value::String(w.creation_time.clone()),
        );
        put(
            &mut m,
            "creation_path",
            Value::String(w.creation_path.clone()),
        );
        put(
            &mut m,
            "wrapped_accessor",
            self.accessor(&w.wrapped_accessor),
        );
        Value::Object(m)
    }

    /// The record's `response` block.
    fn response(&self, input: &AuditRequest<'_>, out: &AuditResponse<'_>) -> Value {
        let req = input.request;
        let mut m = Map::new();
        put(
            &mut m,
            "mount_point",
            Value::String(req.mount_point.clone()),
        );
        let resp = out.response;
        let mount_type = match resp {
            Some(r) if req.mount_type.is_empty() => r.mount_type.clone(),
            _ => req.mount_type.clone(),
        };
        put(&mut m, "mount_type", Value::String(mount_type));
        put(
            &mut m,
            "mount_accessor",
            Value::String(req.mount_accessor.clone()),
        );
        let Some(resp) = resp else {
            return Value::Object(m);
        };
        if let Some(auth) = &resp.auth {
            m.insert("auth".into(), self.response_auth(auth));
        }
        if let Some(secret) = &resp.secret {
            let mut s = Map::new();
            put(&mut s, "lease_id", Value::String(secret.lease_id.clone()));
            m.insert("secret".into(), Value::Object(s));
        }
        if let Some(mut data) = response_data(resp) {
            if self.opts.elide_list_responses && req.op() == Operation::List {
                elide_list_response(&mut data);
            }
            if !self.opts.log_raw {
                hash_map(self.salt, &mut data, out.non_hmac_response_keys);
            }
            put(&mut m, "data", Value::Object(data));
        }
        put(&mut m, "warnings", strings(&resp.warnings));
        if let Some(w) = &resp.wrap_info {
            m.insert("wrap_info".into(), self.wrap_info(w));
        }
        Value::Object(m)
    }

    /// The `request` record, written before the request is served.
    pub fn request_record(&self, input: &AuditRequest<'_>, now: SystemTime) -> Map<String, Value> {
        let mut rec = Map::new();
        rec.insert("time".into(), Value::String(rfc3339(now)));
        rec.insert("type".into(), Value::String("request".into()));
        rec.insert("auth".into(), self.caller_auth(input.auth));
        rec.insert("request".into(), self.request(input));
        if let Some(e) = input.error {
            put(&mut rec, "error", Value::String(e.to_owned()));
        }
        rec
    }

    /// The `response` record, written before the response leaves.
    pub fn response_record(
        &self,
        input: &AuditRequest<'_>,
        out: &AuditResponse<'_>,
        now: SystemTime,
    ) -> Map<String, Value> {
        let mut rec = Map::new();
        rec.insert("time".into(), Value::String(rfc3339(now)));
        rec.insert("type".into(), Value::String("response".into()));
        rec.insert("auth".into(), self.caller_auth(input.auth));
        rec.insert("request".into(), self.request(input));
        rec.insert("response".into(), self.response(input, out));
        if let Some(e) = out.error.or(input.error) {
            put(&mut rec, "error", Value::String(e.to_owned()));
        }
        rec
    }
}

/// The data a response carries: its `data` object, or a raw JSON object body.
fn response_data(resp: &Response) -> Option<Map<String, Value>> {
    match (&resp.data, &resp.raw) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(Value::Object(o))) => Some(o.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use coffer_types::{LeaseInfo, Request, Sensitive};
    use serde_json::json;

    use super::*;

    const KEY: [u8; 32] = [3u8; 32];

    fn hmac(s: &str) -> String {
        format!(
            "hmac-sha256:{}",
            hex::encode(coffer_crypto::hmac_sha256(&KEY, s.as_bytes()))
        )
    }

    fn request() -> Request {
        let mut r = Request::new(Operation::Update, "secret/data/app")
            .with_data(
                json!({"data": {"password": "canary-pw", "n": 3, "list": ["x"]}})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
            .with_token("hvs.tokenvalue");
        r.id = "req-1".into();
        r.caller_mut().accessor = Some("acc-1".into());
        r.client_addr = Some("10.0.0.7".parse().unwrap());
        r.mount_point = "secret/".into();
        r.mount_type = "kv".into();
        r.mount_accessor = "kv_1234".into();
        r.wrap_ttl = Some(Duration::from_secs(60));
        r
    }

    fn auth() -> AuditAuth {
        AuditAuth {
            client_token: Some(Sensitive::new("hvs.tokenvalue")),
            accessor: "acc-1".into(),
            display_name: "token".into(),
            policies: vec!["default".into(), "dev".into()],
            token_policies: vec!["default".into(), "dev".into()],
            metadata: json!({"user": "bob"}).as_object().unwrap().clone(),
            entity_id: "ent-1".into(),
            token_type: "service".into(),
            token_ttl: Duration::from_secs(3600),
            token_issue_time: Some(UNIX_EPOCH + Duration::new(1_700_000_000, 5)),
            ..AuditAuth::default()
        }
    }

    #[test]
    fn request_record_matches_vault_format() {
        let salt = Salt::from_bytes(&KEY).unwrap();
        let opts = FormatOptions::default();
        let req = request();
        let a = auth();
        let input = AuditRequest {
            remote_port: Some(5555),
            ..AuditRequest::new(&req).with_auth(&a)
        };
        let rec = Formatter::new(&salt, &opts)
            .request_record(&input, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert_eq!(
            Value::Object(rec),
            json!({
                "time": "2023-11-14T22:13:20Z",
                "type": "request",
                "auth": {
                    "client_token": hmac("hvs.tokenvalue"),
                    "accessor": hmac("acc-1"),
                    "display_name": "token",
                    "policies": ["default", "dev"],
                    "token_policies": ["default", "dev"],
                    "metadata": {"user": "bob"},
                    "entity_id": "ent-1",
                    "token_type": "service",
                    "token_ttl": 3600,
                    "token_issue_time": "2023-11-14T22:13:20Z",
                },
                "request": {
                    "id": "req-1",
                    "client_token": hmac("hvs.tokenvalue"),
                    "client_token_accessor": hmac("acc-1"),
                    "operation": "update",
                    "mount_point": "secret/",
                    "mount_type": "kv",
                    "mount_accessor": "kv_1234",
                    "namespace": {"id": "root"},
                    "path": "secret/data/app",
                    "data": {"data": {"password": hmac("canary-pw"), "n": 3, "list": [hmac("x")]}},
                    "remote_address": "10.0.0.7",
                    "remote_port": 5555,
                    "wrap_ttl": 60,
                },
            })
        );
    }

    #[test]
    fn unauthenticated_request_has_default_token_type_and_error() {
        let salt = Salt::from_bytes(&KEY).unwrap();
        let opts = FormatOptions::default();
        let req = Request::new(Operation::Read, "sys/mounts");
        let rec = Formatter::new(&salt, &opts).request_record(
            &AuditRequest::new(&req).with_error("permission denied"),
            UNIX_EPOCH,
        );
        assert_eq!(rec["auth"], json!({"token_type": "default"}));
        assert_eq!(rec["error"], "permission denied");
        assert_eq!(rec["request"]["operation"], "read");
    }

    #[test]
    fn log_raw_and_hmac_accessor_false() {
        let salt = Salt::from_bytes(&KEY).unwrap();
        let req = request();
        let a = auth();
        let input = AuditRequest::new(&req).with_auth(&a);
        let no_acc = FormatOptions {
            hmac_accessor: false,
            ..FormatOptions::default()
        };
        let rec = Formatter::new(&salt, &no_acc).request_record(&input, UNIX_EPOCH);
        assert_eq!(rec["auth"]["accessor"], "acc-1");
        assert_eq!(rec["request"]["client_token_accessor"], "acc-1");
        assert_eq!(rec["auth"]["client_token"], hmac("hvs.tokenvalue"));
        assert_eq!(
            rec["request"]["data"]["data"]["password"],
            hmac("canary-pw")
        );

        let raw = FormatOptions {
            log_raw: true,
            ..FormatOptions::default()
        };
        let rec = Formatter::new(&salt, &raw).request_record(&input, UNIX_EPOCH);
        assert_eq!(rec["auth"]["client_token"], "hvs.tokenvalue");
        assert_eq!(rec["auth"]["accessor"], "acc-1");
        assert_eq!(rec["request"]["data"]["data"]["password"], "canary-pw");
    }

    #[test]
    fn response_record_hashes_data_auth_and_wrap_info() {
        let salt = Salt::from_bytes(&KEY).unwrap();
        let opts = FormatOptions::default();
        let req = request();
        let a = auth();
        let input = AuditRequest::new(&req).with_auth(&a);
        let resp = Response {
            data: Some(
                json!({"password": "canary-out", "ttl": 30})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            secret: Some(LeaseInfo {
                lease_id: "secret/creds/x/abc".into(),
                ..LeaseInfo::default()
            }),
            auth: Some(Auth {
                client_token: "hvs.newtoken".into(),
                accessor: "acc-2".into(),
                policies: vec!["default".into()],
                token_type: "service".into(),
                lease_duration: 60,
                ..Auth::default()
            }),
            wrap_info: Some(WrapInfo {
                token: "hvs.wrap".into(),
                accessor: "acc-w".into(),
                ttl: 300,
                creation_time: "2023-11-14T22:13:20Z".into(),
                creation_path: "secret/data/app".into(),
                wrapped_accessor: String::new(),
            }),
            warnings: vec!["careful".into()],
            ..Response::default()
        };
        let out = AuditResponse {
            non_hmac_response_keys: &["ttl".to_owned()],
            ..AuditResponse::ok(&resp)
        };
        let rec = Formatter::new(&salt, &opts).response_record(&input, &out, UNIX_EPOCH);
        assert_eq!(rec["type"], "response");
        assert_eq!(rec["request"]["id"], "req-1");
        assert_eq!(
            rec["response"],
            json!({
                "mount_point": "secret/",
                "mount_type": "kv",
                "mount_accessor": "kv_1234",
                "auth": {
                    "client_token": hmac("hvs.newtoken"),
                    "accessor": hmac("acc-2"),
                    "policies": ["default"],
                    "token_type": "service",
                    "token_ttl": 60,
                },
                "secret": {"lease_id": "secret/creds/x/abc"},
                "data": {"password": hmac("canary-out"), "ttl": 30},
                "warnings": ["careful"],
                "wrap_info": {
                    "token": hmac("hvs.wrap"),
                    "accessor": hmac("acc-w"),
                    "ttl": 300,
                    "creation_time": "2023-11-14T22:13:20Z",
                    "creation_path": "secret/data/app",
                },
            })
        );
        let failed = Formatter::new(&salt, &opts).response_record(
            &input,
            &AuditResponse::failed("boom"),
            UNIX_EPOCH,
        );
        assert_eq!(failed["error"], "boom");
    }

    #[test]
    fn list_responses_are_elided_only_for_list_when_asked() {
        let salt = Salt::from_bytes(&KEY).unwrap();
        let mut req = Request::new(Operation::List, "secret/metadata/");
        req.id = "r".into();
        let resp = Response::with_data(json!({"keys": ["a", "b"]}).as_object().unwrap().clone());
        let input = AuditRequest::new(&req);
        let elide = FormatOptions {
            elide_list_responses: true,
            ..FormatOptions::default()
        };
        let rec = Formatter::new(&salt, &elide).response_record(
            &input,
            &AuditResponse::ok(&resp),
            UNIX_EPOCH,
        );
        assert_eq!(rec["response"]["data"], json!({"keys": 2}));
        let plain = FormatOptions::default();
        let rec = Formatter::new(&salt, &plain).response_record(
            &input,
            &AuditResponse::ok(&resp),
            UNIX_EPOCH,
        );
        assert_eq!(
            rec["response"]["data"],
            json!({"keys": [hmac("a"), hmac("b")]})
        );
        let mut read = req.clone();
        read.operation = Some(Operation::Read);
        let rec = Formatter::new(&salt, &elide).response_record(
            &AuditRequest::new(&read),
            &AuditResponse::ok(&resp),
            UNIX_EPOCH,
        );
        assert_eq!(
            rec["response"]["data"],
            json!({"keys": [hmac("a"), hmac("b")]})
        );
    }
}
