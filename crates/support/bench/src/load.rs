//! The load generator: N keep-alive HTTP/1.1 connections, each sending its
//! next request as soon as the previous answer is read (a closed loop), for
//! a warm-up and then a measured window.
//!
//! Only requests sent and answered inside the window count: their number
//! gives the rate, their latencies the percentiles. A connection that fails
//! is counted as an error and opened again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Builds the requests of one scenario.
pub(crate) trait RequestSource: Send + Sync + 'static {
    /// The `seq`-th request of connection `conn`, or `None` when the
    /// scenario has sent all it needs (fixed-size scenarios such as `fill`).
    fn request(&self, conn: usize, seq: u64) -> Option<Request<Full<Bytes>>>;

    /// Whether a response with this status counts as a success.
    fn success(&self, status: StatusCode) -> bool {
        status.is_success()
    }
}

/// How long and how hard to drive.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoadShape {
    /// Concurrent connections.
    pub connections: usize,
    /// Load before the window opens (not counted).
    pub warmup: Duration,
    /// The measured window; `None` runs until the source runs out.
    pub window: Option<Duration>,
}

/// What one run of a scenario measured.
#[derive(Debug, Default)]
pub(crate) struct LoadOutcome {
    /// Successful requests inside the window.
    pub completed: u64,
    /// Failed requests (bad status or connection error) inside the window.
    pub errors: u64,
    /// The window's real length.
    pub elapsed: Duration,
    /// Latency of every successful request in the window, microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// What the first failure was, for the report.
    pub first_error: Option<String>,
}

impl LoadOutcome {
    /// Successful requests per second.
    pub(crate) fn rate(&self) -> f64 {
        per_second(self.completed, self.elapsed)
    }

    /// The latency at quantile `q` (0..=1), in milliseconds (nearest rank).
    pub(crate) fn percentile_ms(&self, q: f64) -> Option<f64> {
        percentile_ms(&self.latencies_us, q)
    }
}

/// `count` per second over `elapsed`.
pub(crate) fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// The `q` quantile of sorted microsecond samples, in milliseconds.
pub(crate) fn percentile_ms(sorted_us: &[u32], q: f64) -> Option<f64> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted_us.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(sorted_us.len() - 1);
    Some(f64::from(sorted_us[index]) / 1000.0)
}

/// One keep-alive connection.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Opens a connection to `addr` (TCP_NODELAY, HTTP/1.1).
    pub(crate) async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the peer
            // closes; either way the sender reports it on its next use.
            let _ = conn.await;
        });
        Ok(Self { sender })
    }

    /// Sends `request` and reads the whole answer.
    pub(crate) async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Bytes), hyper::Error> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// One connection's share of the outcome.
#[derive(Default)]
struct ConnTally {
    completed: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

impl ConnTally {
    fn fail(&mut self, counted: bool, what: impl FnOnce() -> String) {
        if counted {
            self.errors += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(what());
        }
    }
}

/// Drives `source` against `addr` with `shape` and returns what it measured.
pub(crate) async fn run(
    addr: SocketAddr,
    source: Arc<dyn RequestSource>,
    shape: LoadShape,
) -> LoadOutcome {
    let start = Instant::now();
    let open = start + shape.warmup;
    let close = shape.window.map(|w| open + w);
    let mut tasks = Vec::with_capacity(shape.connections);
    for conn in 0..shape.connections {
        let source = source.clone();
        tasks.push(tokio::spawn(drive(addr, source, conn, open, close)));
    }
    let mut outcome = LoadOutcome::default();
    for task in tasks {
        let tally = match task.await {
            Ok(tally) => tally,
            Err(e) => ConnTally {
                errors: 1,
                first_error: Some(format!("connection task failed: {e}")),
                ..ConnTally::default()
            },
        };
        outcome.completed += tally.completed;
        outcome.errors += tally.errors;
        outcome.latencies_us.extend(tally.latencies_us);
        if outcome.first_error.is_none() {
            outcome.first_error = tally.first_error;
        }
    }
    let end = close.unwrap_or_else(Instant::now);
    outcome.elapsed = end.saturating_duration_since(open);
    outcome.latencies_us.sort_unstable();
    outcome
}

/// One connection's closed loop.
async fn drive(
    addr: SocketAddr,
    source: Arc<dyn RequestSource>,
    conn: usize,
    open: Instant,
    close: Option<Instant>,
) -> ConnTally {
    let mut tally = ConnTally::default();
    let mut connection: Option<Connection> = None;
    let mut seq: u64 = 0;
    let before_close = |t: Instant| close.is_none_or(|c| t <= c);
    loop {
        let now = Instant::now();
        if !before_close(now) {
            break;
        }
        let current = match connection.as_mut() {
            Some(c) => c,
            None => match Connection::open(addr).await {
                Ok(c) => connection.insert(c),
                Err(e) => {
                    tally.fail(now >= open, || format!("cannot connect to {addr}: {e}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let Some(request) = source.request(conn, seq) else {
            break;
        };
        seq += 1;
        let began = Instant::now();
        let result = current.send(request).await;
        let ended = Instant::now();
        let counted = began >= open && before_close(ended);
        match result {
            Ok((status, _)) if source.success(status) => {
                if counted {
                    tally.completed += 1;
                    let us = ended.duration_since(began).as_micros();
                    tally
                        .latencies_us
                        .push(u32::try_from(us).unwrap_or(u32::MAX));
                }
            }
            Ok((status, body)) => {
                tally.fail(counted, || {
                    let text = String::from_utf8_lossy(&body);
                    let shown: String = text.chars().take(200).collect();
                    format!("HTTP {status}: {}", shown.trim())
                });
            }
            Err(e) => {
                tally.fail(counted, || format!("connection error: {e}"));
                connection = None;
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<u32> = (1..=1000).map(|n| n * 1000).collect();
        assert_eq!(percentile_ms(&samples, 0.5), Some(500.0));
        assert_eq!(percentile_ms(&samples, 0.99), Some(990.0));
        assert_eq!(percentile_ms(&samples, 0.999), Some(999.0));
        assert_eq!(percentile_ms(&samples, 1.0), Some(1000.0));
        assert_eq!(percentile_ms(&samples, 0.0), Some(1.0));
        assert_eq!(percentile_ms(&[], 0.5), None);
        assert_eq!(percentile_ms(&[7000], 0.999), Some(7.0));
    }

    #[test]
    fn rates_are_per_second_of_the_window() {
        assert_eq!(per_second(500, Duration::from_millis(250)), 2000.0);
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
    }
}
