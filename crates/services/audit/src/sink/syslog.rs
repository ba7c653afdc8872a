//! The `syslog` device's sink: the local syslog socket (`/dev/log`), one
//! message per line, in the format Go's `log/syslog` uses for local agents.

use std::io::Write;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::macros::format_description;

use super::Sink;

/// The local syslog socket.
pub(crate) const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

/// Syslog severity `info`.
const SEVERITY_INFO: u8 = 6;

enum Conn {
    Dgram(UnixDatagram),
    Stream(UnixStream),
}

/// A syslog sink.
pub(crate) struct SyslogSink {
    socket: PathBuf,
    priority: u16,
    tag: String,
    conn: Option<Conn>,
}

impl SyslogSink {
    /// Connects to the syslog socket at `socket`; fails clearly when there is
    /// none.
    pub(crate) fn open(socket: &Path, facility: u8, tag: String) -> Result<Self, String> {
        if !socket.exists() {
            return Err(format!(
                "no local syslog socket at {:?}: is a syslog daemon running?",
                socket.display().to_string()
            ));
        }
        let mut sink = Self {
            socket: socket.to_path_buf(),
            priority: u16::from(facility) * 8 + u16::from(SEVERITY_INFO),
            tag,
            conn: None,
        };
        sink.conn = Some(sink.dial()?);
        Ok(sink)
    }

    fn dial(&self) -> Result<Conn, String> {
        let dgram = UnixDatagram::unbound().and_then(|s| {
            s.connect(&self.socket)?;
            Ok(s)
        });
        match dgram {
            Ok(s) => Ok(Conn::Dgram(s)),
            Err(_) => UnixStream::connect(&self.socket)
                .map(Conn::Stream)
                .map_err(|e| {
                    format!(
                        "error connecting to syslog at {:?}: {e}",
                        self.socket.display().to_string()
                    )
                }),
        }
    }

    /// `<PRI>Mmm dd hh:mm:ss tag[pid]: message`.
    fn message(&self, line: &[u8]) -> Vec<u8> {
        let stamp = OffsetDateTime::now_utc()
            .format(format_description!(
                "[month repr:short] [day padding:space] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default();
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let mut msg = format!(
            "<{}>{} {}[{}]: ",
            self.priority,
            stamp,
            self.tag,
            std::process::id()
        )
        .into_bytes();
        msg.extend_from_slice(body);
        msg
    }
}

impl Sink for SyslogSink {
    fn write_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.dial()?,
        };
        for line in lines {
            let msg = self.message(line);
            let sent = match &mut conn {
                Conn::Dgram(s) => s.send(&msg).map(|_| ()),
                Conn::Stream(s) => s.write_all(&msg).and_then(|()| s.write_all(b"\n")),
            };
            if let Err(e) = sent {
                return Err(format!("writing to syslog: {e}"));
            }
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), String> {
        self.conn = Some(self.dial()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_rfc3164_style_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut sink = SyslogSink::open(&path, 4, "vault".into()).unwrap();
        sink.write_lines(&[b"{\"type\":\"request\"}\n".to_vec()])
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = server.recv(&mut buf).unwrap();
        let msg = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(msg.starts_with("<38>"), "{msg}");
        assert!(
            msg.ends_with(&format!(
                "vault[{}]: {{\"type\":\"request\"}}",
                std::process::id()
            )),
            "{msg}"
        );
    }

    #[test]
    fn missing_socket_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let err = SyslogSink::open(&dir.path().join("nope"), 4, "vault".into())
            .err()
            .unwrap();
        assert!(err.contains("no local syslog socket"), "{err}");
    }
}
