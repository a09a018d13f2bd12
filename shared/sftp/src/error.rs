//! What can go wrong delivering a file, by what the caller does about it: a
//! [`Config`](Error::Config) or [`HostKeyMismatch`](Error::HostKeyMismatch)
//! needs a person, a [`Connect`](Error::Connect) or
//! [`Timeout`](Error::Timeout) is worth retrying later.

/// An SFTP delivery error. Every message names the server or the path it is
/// about; none holds key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings are missing a field or hold one that cannot be used
    /// (an unreadable key, a port of 0, ...).
    #[error("SFTP settings: {0}")]
    Config(String),
    /// The server could not be reached, or the SSH handshake with it failed.
    #[error("SFTP connection: {0}")]
    Connect(String),
    /// The server presented another host key than the pinned one: it may be
    /// an impostor, so nothing is sent to it.
    #[error(
        "SFTP host key mismatch at {address}: expected {expected}, the server presented {found}"
    )]
    HostKeyMismatch {
        /// `host:port`.
        address: String,
        /// The pinned key's SHA-256 fingerprint, as `ssh-keygen -l` prints it.
        expected: String,
        /// The presented key's SHA-256 fingerprint (or what it was instead).
        found: String,
    },
    /// The server refused our user or key.
    #[error("SFTP authentication: {0}")]
    Auth(String),
    /// The server refused an operation (no such file, permission denied, ...).
    #[error("SFTP: {0}")]
    Sftp(String),
    /// The server did not answer in time.
    #[error("SFTP timeout: {0}")]
    Timeout(String),
    /// Reading the bytes to upload failed (the caller's reader): the upload
    /// stopped, and nothing appeared under the final name.
    #[error("reading the file to upload: {0}")]
    Read(#[source] std::io::Error),
}
