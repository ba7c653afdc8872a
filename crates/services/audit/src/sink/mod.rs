//! Where a device's lines go. Sinks are blocking and run on the device's own
//! writer thread, so a sink that blocks never blocks a request: the caller
//! waits for the writer with a deadline.

mod file;
mod socket;
mod syslog;

use std::path::{Path, PathBuf};

pub(crate) use file::FileSink;
pub(crate) use socket::SocketSink;
pub(crate) use syslog::{DEFAULT_SYSLOG_SOCKET, SyslogSink};

use crate::options::{FileTarget, SinkOptions};

/// Identity and expected length of the file a file sink has open, for
/// tamper checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OpenFile {
    /// The configured path.
    pub path: PathBuf,
    /// `st_dev` of the open file.
    pub dev: u64,
    /// `st_ino` of the open file.
    pub ino: u64,
    /// The file's length after our last successful write.
    pub len: u64,
    /// Whether it is a regular file (not `/dev/null` or another device).
    pub regular: bool,
}

/// A destination for complete lines.
pub(crate) trait Sink: Send {
    /// Writes `lines` (each already prefixed and ending in `\n`) and makes
    /// them durable (a file is fsync'ed) before returning `Ok`. On failure a
    /// file sink truncates back to its previous length, so no partial line
    /// stays behind.
    fn write_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String>;

    /// Closes and reopens the destination (SIGHUP, log rotation).
    fn reopen(&mut self) -> Result<(), String>;

    /// The open file, for file sinks writing to a path.
    fn open_file(&self) -> Option<OpenFile> {
        None
    }
}

/// A sink that writes nowhere (`file_path=discard`).
pub(crate) struct DiscardSink;

impl Sink for DiscardSink {
    fn write_lines(&mut self, _lines: &[Vec<u8>]) -> Result<(), String> {
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// A sink writing to the process's standard output.
pub(crate) struct StdoutSink;

impl Sink for StdoutSink {
    fn write_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for line in lines {
            out.write_all(line)
                .map_err(|e| format!("writing to stdout: {e}"))?;
        }
        out.flush().map_err(|e| format!("flushing stdout: {e}"))
    }

    fn reopen(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Opens the sink `options` describe (a syslog sink on `syslog_socket`);
/// fails with a clear message when the destination cannot be written
/// (nothing is enabled then).
pub(crate) fn open(options: &SinkOptions, syslog_socket: &Path) -> Result<Box<dyn Sink>, String> {
    Ok(match options {
        SinkOptions::File { target, mode } => match target {
            FileTarget::Path(path) => Box::new(FileSink::open(path.clone(), *mode)?),
            FileTarget::Stdout => Box::new(StdoutSink),
            FileTarget::Discard => Box::new(DiscardSink),
        },
        SinkOptions::Socket {
            address,
            socket_type,
            write_timeout,
        } => Box::new(SocketSink::connect(
            address.clone(),
            *socket_type,
            *write_timeout,
        )?),
        SinkOptions::Syslog { facility, tag } => {
            Box::new(SyslogSink::open(syslog_socket, *facility, tag.clone())?)
        }
    })
}
