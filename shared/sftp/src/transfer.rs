//! Uploads (write aside, then rename into place), listings and downloads.

use futures::stream::{FuturesUnordered, StreamExt};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::connect::POSIX_RENAME;
use crate::{Error, Sftp};

/// Bytes per write or read request: russh-sftp's preferred write size, well
/// within OpenSSH's limits.
const CHUNK: usize = 32 * 1024;

/// Writes sent before the first is acknowledged: a round trip per 512 KiB
/// rather than per 32 KiB, within russh's 2 MiB channel window.
const WRITES_IN_FLIGHT: usize = 16;

impl Sftp {
    /// Uploads `bytes` as `{dir}/{name}`; see [`Sftp::upload_stream`].
    pub async fn upload(&self, dir: &str, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.upload_stream(dir, name, bytes).await.map(|_| ())
    }

    /// Uploads what `reader` yields as `{dir}/{name}` and returns its length.
    ///
    /// The bytes go to `{dir}/{name}.part`, which is renamed to `{dir}/{name}`
    /// only once they are all written and the file closed: the final name
    /// never shows part of a file. An existing `{dir}/{name}` is replaced (a
    /// re-delivery), in one step where the server supports
    /// `posix-rename@openssh.com` (OpenSSH does), else by removing it first.
    /// On failure the `.part` file is removed, unless the server stopped
    /// answering.
    pub async fn upload_stream(
        &self,
        dir: &str,
        name: &str,
        mut reader: impl AsyncRead + Unpin,
    ) -> Result<u64, Error> {
        let path = join(dir, name)?;
        let part = format!("{path}.part");
        let written = self.write_file(&part, &mut reader).await;
        let delivered = match written {
            Ok(length) => self.rename_over(&part, &path).await.map(|()| length),
            Err(error) => Err(error),
        };
        if let Err(error) = &delivered
            && !matches!(error, Error::Timeout(_))
        {
            // Best effort: a `.part` left behind is harmless, only untidy.
            let _ = self.sftp.remove(part.as_str()).await;
        }
        delivered
    }

    /// The names in `dir` (`.` and `..` left out), sorted.
    pub async fn list(&self, dir: &str) -> Result<Vec<String>, Error> {
        let failed = |error| self.error(format!("listing {dir}"), error);
        let handle = self.sftp.opendir(dir).await.map_err(failed)?.handle;
        let mut names = Vec::new();
        let read = loop {
            match self.sftp.readdir(handle.as_str()).await {
                Ok(batch) => names.extend(batch.files.into_iter().map(|file| file.filename)),
                Err(error) if is_eof(&error) => break Ok(()),
                Err(error) => break Err(failed(error)),
            }
        };
        let closed = self.sftp.close(handle).await.map_err(failed);
        read.and(closed)?;
        names.retain(|name| name != "." && name != "..");
        names.sort();
        Ok(names)
    }

    /// The whole of `{dir}/{name}`.
    pub async fn download(&self, dir: &str, name: &str) -> Result<Vec<u8>, Error> {
        let path = join(dir, name)?;
        let failed = |error| self.error(format!("downloading {path}"), error);
        let handle = self
            .sftp
            .open(path.as_str(), OpenFlags::READ, FileAttributes::empty())
            .await
            .map_err(failed)?
            .handle;
        let mut bytes = Vec::new();
        // One request at a time: the files are small, and a short read just
        // means asking again from where it stopped.
        let read = loop {
            let request = self
                .sftp
                .read(handle.as_str(), bytes.len() as u64, CHUNK as u32);
            match request.await {
                Ok(data) => bytes.extend_from_slice(&data.data),
                Err(error) if is_eof(&error) => break Ok(()),
                Err(error) => break Err(failed(error)),
            }
        };
        let closed = self.sftp.close(handle).await.map_err(failed);
        read.and(closed)?;
        Ok(bytes)
    }

    /// Creates (or truncates) `path` and writes all of `reader` to it.
    async fn write_file(
        &self,
        path: &str,
        reader: &mut (impl AsyncRead + Unpin),
    ) -> Result<u64, Error> {
        let failed = |error| self.error(format!("writing {path}"), error);
        let flags = OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE;
        let handle = self
            .sftp
            .open(path, flags, FileAttributes::empty())
            .await
            .map_err(failed)?
            .handle;
        let written = self.write_all(path, &handle, reader).await;
        // Closed either way; on success the close is what makes the server
        // flush the file before it is renamed into place.
        let closed = self.sftp.close(handle.as_str()).await.map_err(failed);
        let written = written?;
        closed?;
        Ok(written)
    }

    /// Writes all of `reader` to `path`, open as `handle`, returning its length.
    ///
    /// Reading the source and receiving acknowledgements take turns in one
    /// loop: a write request goes out as soon as its chunk is full, while up
    /// to [`WRITES_IN_FLIGHT`] earlier ones await their answer. (A request of
    /// russh-sftp is only sent when its future is first polled, hence the
    /// `select!` rather than queueing futures while reading.) `read` is
    /// cancel-safe: an acknowledgement arriving first loses no bytes.
    async fn write_all(
        &self,
        path: &str,
        handle: &str,
        reader: &mut (impl AsyncRead + Unpin),
    ) -> Result<u64, Error> {
        let failed = |error| self.error(format!("writing {path}"), error);
        let mut in_flight = FuturesUnordered::new();
        let mut chunk = vec![0; CHUNK];
        let mut filled = 0;
        let mut offset = 0u64;
        let mut end = false;
        loop {
            if filled == CHUNK || (end && filled > 0) {
                in_flight.push(self.sftp.write(handle, offset, chunk[..filled].to_vec()));
                offset += filled as u64;
                filled = 0;
            }
            tokio::select! {
                Some(acknowledged) = in_flight.next(), if !in_flight.is_empty() => {
                    acknowledged.map_err(failed)?;
                }
                read = reader.read(&mut chunk[filled..]), if !end && in_flight.len() < WRITES_IN_FLIGHT => {
                    match read.map_err(Error::Read)? {
                        0 => end = true,
                        length => filled += length,
                    }
                }
                // The source is exhausted and every write acknowledged.
                else => return Ok(offset),
            }
        }
    }

    /// Renames `from` to `to`, replacing `to` if it exists.
    async fn rename_over(&self, from: &str, to: &str) -> Result<(), Error> {
        let failed = |error| self.error(format!("renaming {from} to {to}"), error);
        if self.posix_rename {
            let reply = self
                .sftp
                .extended(POSIX_RENAME, posix_rename_request(from, to))
                .await
                .map_err(failed)?;
            return match reply {
                Packet::Status(status) if status.status_code == StatusCode::Ok => Ok(()),
                Packet::Status(status) => Err(failed(status.into())),
                _ => Err(failed(SftpError::UnexpectedPacket)),
            };
        }
        // SFTP v3 `rename` refuses an existing target: remove it first. The
        // final name is then briefly absent, never incomplete.
        match self.sftp.remove(to).await {
            Ok(_) => {}
            Err(error) if is_no_such_file(&error) => {}
            Err(error) => return Err(failed(error)),
        }
        self.sftp.rename(from, to).await.map(|_| ()).map_err(failed)
    }

    /// Our error for a failed request about `what`.
    fn error(&self, what: String, error: SftpError) -> Error {
        match error {
            SftpError::Timeout => {
                Error::Timeout(format!("{what} on {}: no answer in time", self.address))
            }
            error => Error::Sftp(format!("{what} on {}: {error}", self.address)),
        }
    }
}

/// `{dir}/{name}`; `name` must be a plain file name, so that a name read
/// from elsewhere cannot reach outside `dir`.
fn join(dir: &str, name: &str) -> Result<String, Error> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::Sftp(format!("{name:?} is not a file name")));
    }
    Ok(format!("{}/{name}", dir.trim_end_matches('/')))
}

/// The body of a `posix-rename@openssh.com` request: two SSH strings.
fn posix_rename_request(from: &str, to: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(8 + from.len() + to.len());
    for path in [from, to] {
        body.extend_from_slice(&(path.len() as u32).to_be_bytes());
        body.extend_from_slice(path.as_bytes());
    }
    body
}

fn status_code(error: &SftpError) -> Option<StatusCode> {
    match error {
        SftpError::Status(status) => Some(status.status_code),
        _ => None,
    }
}

fn is_eof(error: &SftpError) -> bool {
    status_code(error) == Some(StatusCode::Eof)
}

fn is_no_such_file(error: &SftpError) -> bool {
    status_code(error) == Some(StatusCode::NoSuchFile)
}
