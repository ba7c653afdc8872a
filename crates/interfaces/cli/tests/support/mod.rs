//! Helpers shared by the end-to-end tests: run the real `coffer` binary, make
//! TLS material, and talk Vault's HTTP API with a plain HTTP client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Path of the binary under test.
pub fn coffer_bin() -> &'static str {
    env!("CARGO_BIN_EXE_coffer")
}

/// A running `coffer server` process.
pub struct ServerProcess {
    child: Child,
    /// `http://` or `https://` address it listens on.
    pub addr: String,
    /// Everything the process printed (stdout and stderr).
    pub output: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `coffer server <args>` with HOME set to `home`, and waits until
    /// it prints its listener address.
    pub fn start(args: &[&str], home: &Path, tls: bool) -> Self {
        let mut child = Command::new(coffer_bin())
            .arg("server")
            .args(args)
            .env("HOME", home)
            .env("COFFER_LOG", "info")
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn coffer server");
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let err_out = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut o = err_out.lock().unwrap();
                o.push_str(&line);
                o.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = output.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
                if !sent
                    && let Some(rest) = line.split("addr: \"").nth(1)
                    && let Some(addr) = rest.split('"').next()
                {
                    let _ = tx.send(addr.to_owned());
                    sent = true;
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start:\n{}", output.lock().unwrap());
            }
        };
        let scheme = if tls { "https" } else { "http" };
        let server = Self {
            child,
            addr: format!("{scheme}://{addr}"),
            output,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let host = self.addr.split("://").nth(1).unwrap().to_owned();
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server at {} never accepted connections", self.addr);
    }

    /// Kills the process with SIGKILL (no clean shutdown).
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.output.lock().unwrap().clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1/localhost, written as PEM files.
pub struct TlsFiles {
    /// CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// Server certificate (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA certificate as PEM text.
    pub ca_pem: String,
    /// A client certificate and key signed by the same CA (PEM, concatenated).
    pub client_identity_pem: String,
}

/// Writes a fresh CA and server certificate into `dir`.
pub fn make_tls(dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Coffer Test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "coffer-test-server");
    let cert = params.signed_by(&server_key, &issuer).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "coffer-test-client");
    let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();
    let files = TlsFiles {
        ca_cert: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
        ca_pem: ca_cert.pem(),
        client_identity_pem: format!("{}{}", client_cert.pem(), client_key.serialize_pem()),
    };
    std::fs::write(&files.ca_cert, ca_cert.pem()).unwrap();
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, server_key.serialize_pem()).unwrap();
    files
}

/// A minimal Vault API client for tests: status code plus JSON body.
pub struct Api {
    http: reqwest::Client,
    /// Base address.
    pub addr: String,
    /// Token sent as `X-Vault-Token`.
    pub token: Option<String>,
}

impl Api {
    /// A client for `addr`, trusting `ca_pem` when given.
    pub fn new(addr: &str, ca_pem: Option<&str>) -> Self {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(pem) = ca_pem {
            builder =
                builder.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]);
        }
        Self {
            http: builder.build().unwrap(),
            addr: addr.to_owned(),
            token: None,
        }
    }

    /// Sends a request; `body` is JSON for writes.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}/v1/{}", self.addr, path));
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// GET.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PUT", path, Some(body)).await
    }

    /// Sends raw bytes with PUT.
    pub async fn put_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let mut req = self
            .http
            .put(format!("{}/v1/{}", self.addr, path))
            .body(body);
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Writes a production config (redb storage in `dir`, TLS with `tls`) and returns its path.
pub fn write_config(dir: &Path, tls: Option<&TlsFiles>) -> PathBuf {
    let listener = match tls {
        Some(t) => format!(
            "listener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n}}\n",
            t.cert.display(),
            t.key.display()
        ),
        None => {
            "listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n".to_owned()
        }
    };
    let text = format!(
        "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node1\"\n}}\n{listener}default_lease_ttl = \"1h\"\nmax_lease_ttl = \"24h\"\nui = true\ndisable_mlock = true\napi_addr = \"https://127.0.0.1:8200\"\n",
        dir.join("data").display()
    );
    let path = dir.join("coffer.hcl");
    std::fs::write(&path, text).unwrap();
    path
}

/// Unseals with the given key shares; returns the last status.
pub async fn unseal(api: &Api, keys: &[&str]) -> Value {
    let mut last = Value::Null;
    for k in keys {
        let (status, body) = api.put("sys/unseal", serde_json::json!({ "key": k })).await;
        assert_eq!(status, 200, "unseal: {body}");
        last = body;
    }
    last
}

/// Sends a raw HTTP/1.1 request line (no client-side path normalisation) and
/// returns the status code.
pub fn raw_status(addr: &str, method: &str, target: &str, token: &str) -> u16 {
    use std::io::{Read, Write};
    let host = addr.split("://").nth(1).unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "{method} {target} HTTP/1.1\r\nHost: {host}\r\nX-Vault-Token: {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"))
}
