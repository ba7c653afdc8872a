//! A throwaway PostgreSQL cluster that checks passwords.
//!
//! The machine's PostgreSQL trusts every local connection, so it cannot show
//! that a password works, or that it stopped working after a rotation or a
//! revocation. [`PgCluster`] starts a private server (its own data directory
//! in the temporary directory, its own port on 127.0.0.1) where every
//! connection, TCP or Unix socket, needs `scram-sha-256`.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::pg_tools::{
    encode_userinfo, free_port, os_user_ids, random_alphanumeric, run, server_bin_dir,
};
use crate::require_environment;

/// How many ports to try when another process takes the free port first.
const START_ATTEMPTS: usize = 5;

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A private PostgreSQL server with password (`scram-sha-256`)
/// authentication everywhere, listening on `127.0.0.1:`[`port`](Self::port)
/// only. Its superuser is `postgres` with a random password. Dropping it
/// stops the server (`pg_ctl stop -m immediate`) and removes its directory.
///
/// When the tests run as root, the server runs as the `postgres` OS user
/// (through `runuser`), since PostgreSQL refuses to run as root.
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    ids: Option<(u32, u32)>,
    port: u16,
    password: String,
    running: bool,
}

impl PgCluster {
    /// Starts a cluster (plain TCP, no TLS).
    pub fn start() -> Result<PgCluster, String> {
        Self::launch(None)
    }

    /// Starts a cluster that also accepts TLS (`ssl = on`) with the given
    /// PEM server certificate (chain) and private key. Plain connections
    /// stay allowed, so `sslmode=disable` and `sslmode=require` both work.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Result<PgCluster, String> {
        Self::launch(Some((cert_pem, key_pem)))
    }

    /// [`start`](Self::start) for a test: when the machine cannot run a
    /// cluster (no PostgreSQL server binaries, no `postgres` OS user), prints
    /// why `test` is skipped and returns `None`, or panics when
    /// [`crate::services_required`] ([`crate::skip_or_fail`]). A cluster
    /// that fails to start panics.
    pub fn start_or_skip(test: &str) -> Option<PgCluster> {
        Self::launch_or_skip(test, None)
    }

    /// [`start_with_tls`](Self::start_with_tls), skipping like
    /// [`start_or_skip`](Self::start_or_skip).
    pub fn start_with_tls_or_skip(test: &str, cert_pem: &str, key_pem: &str) -> Option<PgCluster> {
        Self::launch_or_skip(test, Some((cert_pem, key_pem)))
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of the superuser `postgres`.
    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres", &self.password)
    }

    /// `postgres://<user>:<password>@127.0.0.1:<port>/postgres`, user and
    /// password percent-encoded.
    pub fn url_for(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/postgres",
            encode_userinfo(user),
            encode_userinfo(password),
            self.port
        )
    }

    /// The directory of the server's Unix socket (password authentication
    /// there too).
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("sock")
    }

    /// The cluster's directory (data directory, socket, log), removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server log so far (for failing tests to print).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn launch_or_skip(test: &str, tls: Option<(&str, &str)>) -> Option<PgCluster> {
        let needed =
            prerequisites().map_err(|why| format!("cannot start a PostgreSQL cluster ({why})"));
        require_environment(test, needed)?;
        match Self::launch(tls) {
            Ok(cluster) => Some(cluster),
            Err(e) => panic!("{test}: the PostgreSQL cluster did not start: {e}"),
        }
    }

    fn launch(tls: Option<(&str, &str)>) -> Result<PgCluster, String> {
        let bin = server_bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "coffer-pg-{}-{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed),
            random_alphanumeric(8)?
        ));
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // From here on, dropping `cluster` removes the directory.
        let mut cluster = PgCluster {
            as_postgres: fs::metadata(&dir).map_err(io_err(&dir))?.uid() == 0,
            dir,
            bin,
            ids: None,
            port: 0,
            password: random_alphanumeric(32)?,
            running: false,
        };
        if cluster.as_postgres {
            cluster.ids = Some(os_user_ids("postgres")?);
        }
        cluster.init(tls)?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// Creates the data directory and writes the configuration.
    fn init(&self, tls: Option<(&str, &str)>) -> Result<(), String> {
        self.own(&self.dir, 0o700)?;
        let sock = self.socket_dir();
        fs::create_dir(&sock).map_err(io_err(&sock))?;
        self.own(&sock, 0o700)?;
        let pwfile = self.dir.join("pwfile");
        fs::write(&pwfile, format!("{}\n", self.password)).map_err(io_err(&pwfile))?;
        self.own(&pwfile, 0o600)?;

        let data = self.data_dir();
        let pwfile_arg = format!("--pwfile={}", pwfile.display());
        let data_arg = data.display().to_string();
        run(
            self.as_postgres,
            &self.dir,
            &self.bin.join("initdb"),
            &[
                "-D",
                &data_arg,
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                &pwfile_arg,
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        fs::remove_file(&pwfile).map_err(io_err(&pwfile))?;

        // Every connection needs the password: no trust, no peer.
        let hba = data.join("pg_hba.conf");
        fs::write(
            &hba,
            "local all all scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n\
             host all all ::1/128 scram-sha-256\n",
        )
        .map_err(io_err(&hba))?;

        let mut conf = format!(
            "\n# coffer-test-services\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             password_encryption = 'scram-sha-256'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 16MB\n\
             max_connections = 50\n",
            sock.display()
        );
        if let Some((cert, key)) = tls {
            for (name, pem) in [("server.crt", cert), ("server.key", key)] {
                let path = data.join(name);
                fs::write(&path, pem).map_err(io_err(&path))?;
                self.own(&path, 0o600)?;
            }
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let conf_path = data.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(io_err(&conf_path))
    }

    /// Starts the server on a free port, trying another when one is taken
    /// between finding it and binding it.
    fn start_server(&mut self) -> Result<(), String> {
        let data = self.data_dir().display().to_string();
        let log = self.dir.join("server.log").display().to_string();
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let opts = format!("-p {port}");
            let started = run(
                self.as_postgres,
                &self.dir,
                &self.bin.join("pg_ctl"),
                &[
                    "start", "-D", &data, "-l", &log, "-w", "-t", "60", "-s", "-o", &opts,
                ],
            );
            match started {
                Ok(_) => {
                    self.port = port;
                    self.running = true;
                    return Ok(());
                }
                Err(e) => {
                    let server_log = self.log();
                    if !server_log.contains("Address already in use") {
                        return Err(format!("{e}\nserver log:\n{server_log}"));
                    }
                    last = e;
                }
            }
        }
        Err(format!(
            "no free port after {START_ATTEMPTS} attempts: {last}"
        ))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Sets `path`'s mode, and gives it to the `postgres` OS user when the
    /// server runs as that user.
    fn own(&self, path: &Path, mode: u32) -> Result<(), String> {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err(path))?;
        if let Some((uid, gid)) = self.ids {
            chown(path, Some(uid), Some(gid)).map_err(io_err(path))?;
        }
        Ok(())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let data = self.data_dir().display().to_string();
            // A server that will not stop still loses its directory below.
            let _ = run(
                self.as_postgres,
                &self.dir,
                &self.bin.join("pg_ctl"),
                &[
                    "stop",
                    "-D",
                    &data,
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "30",
                    "-s",
                ],
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl fmt::Debug for PgCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCluster")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("superuser_password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Why this machine cannot run a cluster, if it cannot.
fn prerequisites() -> Result<(), String> {
    server_bin_dir()?;
    if is_root() {
        os_user_ids("postgres")?;
        std::process::Command::new("runuser")
            .arg("--version")
            .output()
            .map_err(|e| format!("runuser is needed to run PostgreSQL as root's tests: {e}"))?;
    }
    Ok(())
}

/// Whether this process runs as root (the owner of what it creates).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// `SELECT 1` through psql over TCP; the error output when it fails.
    fn psql_tcp(cluster: &PgCluster, user: &str, password: &str) -> Result<String, String> {
        psql(
            &["-h", "127.0.0.1", "-p", &cluster.port().to_string()],
            user,
            password,
        )
    }

    fn psql(conn: &[&str], user: &str, password: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .args(conn)
            .args(["-U", user, "-d", "postgres", "-w", "-At", "-c", "SELECT 1"])
            .env("PGPASSWORD", password)
            .env("PGPASSFILE", "/nonexistent")
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGSSLMODE", "disable")
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    #[test]
    fn passwords_are_checked_and_drop_cleans_up() {
        let Some(cluster) = PgCluster::start_or_skip("passwords_are_checked_and_drop_cleans_up")
        else {
            return;
        };
        assert!(cluster.superuser_password().len() >= 24);
        assert!(!format!("{cluster:?}").contains(cluster.superuser_password()));
        assert_eq!(
            cluster.url(),
            format!(
                "postgres://postgres:{}@127.0.0.1:{}/postgres",
                cluster.superuser_password(),
                cluster.port()
            )
        );

        let right = psql_tcp(&cluster, "postgres", cluster.superuser_password());
        assert_eq!(right, Ok("1".to_owned()), "log:\n{}", cluster.log());
        let wrong = psql_tcp(&cluster, "postgres", "not-the-password").unwrap_err();
        assert!(wrong.contains("password authentication failed"), "{wrong}");
        // The Unix socket needs the password too (no trust, no peer).
        let sock = cluster.socket_dir().display().to_string();
        let port = cluster.port().to_string();
        let by_socket = psql(&["-h", &sock, "-p", &port], "postgres", "wrong").unwrap_err();
        assert!(
            by_socket.contains("password authentication failed"),
            "{by_socket}"
        );
        assert_eq!(
            psql(
                &["-h", &sock, "-p", &port],
                "postgres",
                cluster.superuser_password()
            ),
            Ok("1".to_owned())
        );

        let dir = cluster.dir().to_path_buf();
        let password = cluster.superuser_password().to_owned();
        assert!(dir.join("data").is_dir());
        drop(cluster);
        assert!(!dir.exists(), "{} is left behind", dir.display());
        let gone = psql(&["-h", "127.0.0.1", "-p", &port], "postgres", &password).unwrap_err();
        assert!(
            gone.contains("Connection refused"),
            "the server still answers: {gone}"
        );
    }

    #[test]
    fn clusters_run_side_by_side() {
        let Some(a) = PgCluster::start_or_skip("clusters_run_side_by_side") else {
            return;
        };
        let Some(b) = PgCluster::start_or_skip("clusters_run_side_by_side") else {
            return;
        };
        assert_ne!(a.port(), b.port());
        assert_ne!(a.superuser_password(), b.superuser_password());
        // One cluster's password does not open the other.
        assert!(psql_tcp(&b, "postgres", a.superuser_password()).is_err());
        assert_eq!(
            psql_tcp(&b, "postgres", b.superuser_password()),
            Ok("1".to_owned())
        );
        assert!(
            a.url_for("v-a b", "p@ss")
                .contains("v-a%20b:p%40ss@127.0.0.1")
        );
    }
}
