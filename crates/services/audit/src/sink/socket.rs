//! The `socket` device's sink: TCP, UDP or a UNIX stream socket, with a write
//! timeout. A failed connection is dropped and reopened on the next write.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::Sink;
use crate::options::SocketType;

enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixStream),
}

/// A socket sink.
pub(crate) struct SocketSink {
    address: String,
    socket_type: SocketType,
    timeout: Duration,
    conn: Option<Conn>,
}

impl SocketSink {
    /// Connects to `address` (TCP and UNIX connect now, so an unreachable
    /// peer fails at enable time).
    pub(crate) fn connect(
        address: String,
        socket_type: SocketType,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut sink = Self {
            address,
            socket_type,
            timeout,
            conn: None,
        };
        sink.conn = Some(sink.dial()?);
        Ok(sink)
    }

    fn dial(&self) -> Result<Conn, String> {
        let addr = &self.address;
        let fail = |e: std::io::Error| format!("error connecting to {addr:?}: {e}");
        match self.socket_type {
            SocketType::Tcp => {
                let mut last = None;
                for sa in addr.to_socket_addrs().map_err(fail)? {
                    match TcpStream::connect_timeout(&sa, self.timeout) {
                        Ok(s) => {
                            s.set_write_timeout(Some(self.timeout)).map_err(fail)?;
                            s.set_nodelay(true).map_err(fail)?;
                            return Ok(Conn::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(fail(last.unwrap_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "address resolved to nothing")
                })))
            }
            SocketType::Udp => {
                let sa = addr
                    .to_socket_addrs()
                    .map_err(fail)?
                    .next()
                    .ok_or_else(|| {
                        format!("error connecting to {addr:?}: address resolved to nothing")
                    })?;
                let local = if sa.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let s = UdpSocket::bind(local).map_err(fail)?;
                s.set_write_timeout(Some(self.timeout)).map_err(fail)?;
                s.connect(sa).map_err(fail)?;
                Ok(Conn::Udp(s))
            }
            SocketType::Unix => {
                let s = UnixStream::connect(addr).map_err(fail)?;
                s.set_write_timeout(Some(self.timeout)).map_err(fail)?;
                Ok(Conn::Unix(s))
            }
        }
    }

    fn send(conn: &mut Conn, lines: &[Vec<u8>]) -> std::io::Result<()> {
        match conn {
            Conn::Tcp(s) => lines.iter().try_for_each(|l| s.write_all(l)),
            Conn::Unix(s) => lines.iter().try_for_each(|l| s.write_all(l)),
            Conn::Udp(s) => lines.iter().try_for_each(|l| {
                let sent = s.send(l)?;
                if sent == l.len() {
                    Ok(())
                } else {
                    Err(std::io::Error::other("datagram truncated"))
                }
            }),
        }
    }
}

impl Sink for SocketSink {
    fn write_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.dial()?,
        };
        match Self::send(&mut conn, lines) {
            Ok(()) => {
                self.conn = Some(conn);
                Ok(())
            }
            // The connection is dropped; the next write reconnects.
            Err(e) => Err(format!("writing to {:?}: {e}", self.address)),
        }
    }

    fn reopen(&mut self) -> Result<(), String> {
        self.conn = Some(self.dial()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn tcp_udp_and_unix_deliver_lines() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut sink = SocketSink::connect(addr, SocketType::Tcp, Duration::from_secs(2)).unwrap();
        let (peer, _) = listener.accept().unwrap();
        sink.write_lines(&[b"hello\n".to_vec()]).unwrap();
        let mut line = String::new();
        BufReader::new(peer).read_line(&mut line).unwrap();
        assert_eq!(line, "hello\n");

        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sink = SocketSink::connect(
            udp.local_addr().unwrap().to_string(),
            SocketType::Udp,
            Duration::from_secs(1),
        )
        .unwrap();
        sink.write_lines(&[b"dgram\n".to_vec()]).unwrap();
        let mut buf = [0u8; 64];
        let n = udp.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"dgram\n");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sock");
        let ul = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut sink = SocketSink::connect(
            path.display().to_string(),
            SocketType::Unix,
            Duration::from_secs(1),
        )
        .unwrap();
        let (peer, _) = ul.accept().unwrap();
        sink.write_lines(&[b"unix\n".to_vec()]).unwrap();
        let mut line = String::new();
        BufReader::new(peer).read_line(&mut line).unwrap();
        assert_eq!(line, "unix\n");
    }

    #[test]
    fn unreachable_peer_fails_to_connect() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let err = SocketSink::connect(addr, SocketType::Tcp, Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(err.starts_with("error connecting to"), "{err}");
    }
}
