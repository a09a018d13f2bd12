//! SFTP delivery of the reconciliation files to Tiki.
//!
//! One [`Sftp`] is one SSH connection with one SFTP session on it, opened
//! with our key only, to a server that must present the host key pinned in
//! [`SftpSettings`] (a changed key is refused, never learnt). A file is
//! written under `{name}.part` and renamed to `{name}` once complete, so a
//! reader polling the directory never takes half a file for a whole one.
//!
//! SSH runs on the aws-lc-rs the workspace already links through rustls:
//! no `ring`, no OpenSSL.

#![forbid(unsafe_code)]

mod connect;
mod error;
mod settings;
#[cfg(feature = "test-support")]
pub mod test_support;
mod transfer;

use std::fmt;

use russh::client::Handle;
use russh_sftp::client::RawSftpSession;

pub use error::Error;
pub use settings::{DEFAULT_TIMEOUT, SftpSettings};

/// A connected, authenticated SFTP session; see [`Sftp::connect`].
///
/// Its requests may run concurrently from several tasks (`&self`); each one
/// is answered within the settings' timeout or fails with [`Error::Timeout`].
/// Meant to be opened for a delivery run and closed after it: nothing keeps
/// an idle connection alive.
pub struct Sftp {
    ssh: Handle<connect::PinnedHostKey>,
    /// The raw protocol rather than russh-sftp's `SftpSession`: it exposes
    /// the server's extensions (`posix-rename@openssh.com`) and sends them.
    sftp: RawSftpSession,
    /// Whether the server renames over an existing file in one step.
    posix_rename: bool,
    /// `host:port`, for messages.
    address: String,
}

impl fmt::Debug for Sftp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sftp")
            .field("address", &self.address)
            .field("posix_rename", &self.posix_rename)
            .finish_non_exhaustive()
    }
}
