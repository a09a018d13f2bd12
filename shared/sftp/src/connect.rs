//! Opening a session: TCP, the SSH handshake with the host key pinned, our
//! key, then the SFTP subsystem.

use std::borrow::Cow;
use std::sync::Arc;

use russh::client::{self, Config, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{Disconnect, Preferred};
use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use tokio::net::TcpStream;

use crate::{Error, Sftp, SftpSettings};

/// The SFTP extension that renames over an existing file (POSIX `rename(2)`);
/// plain SFTP v3 `rename` refuses an existing target.
pub(crate) const POSIX_RENAME: &str = "posix-rename@openssh.com";

impl Sftp {
    /// Connects and authenticates with `settings.private_key` (no password,
    /// no agent), accepting the server only if it presents exactly
    /// `settings.host_key`; all of it within `settings.timeout`.
    pub async fn connect(settings: &SftpSettings) -> Result<Sftp, Error> {
        settings.check()?;
        tokio::time::timeout(settings.timeout, open(settings))
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "connecting to {}: no session within {:?}",
                    settings.address(),
                    settings.timeout
                ))
            })?
    }

    /// Tests only: behave as with a server without `posix-rename@openssh.com`
    /// (OpenSSH always has it), to exercise the remove-then-rename path.
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn without_posix_rename(mut self) -> Sftp {
        self.posix_rename = false;
        self
    }

    /// Ends the SFTP session, then the SSH connection.
    pub async fn close(self) -> Result<(), Error> {
        let sftp = self.sftp.close_session();
        // Disconnect even when the SFTP channel could not be closed.
        let ssh = self
            .ssh
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
        sftp.map_err(|error| {
            Error::Sftp(format!(
                "closing the session with {}: {error}",
                self.address
            ))
        })?;
        ssh.map_err(|error| Error::Connect(format!("disconnecting from {}: {error}", self.address)))
    }
}

async fn open(settings: &SftpSettings) -> Result<Sftp, Error> {
    let address = settings.address();
    let pinned = settings.pinned_host_key()?;
    let key = settings.client_key()?;

    let stream = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(|error| Error::Connect(format!("{address}: {error}")))?;
    let config = Config {
        preferred: Preferred {
            // Only the pinned key's type, so that a server with several host
            // keys presents the one we know.
            key: Cow::Owned(vec![pinned.algorithm()]),
            ..Preferred::default()
        },
        nodelay: true,
        ..Config::default()
    };
    let handler = PinnedHostKey {
        address: address.clone(),
        pinned,
    };
    let mut ssh = client::connect_stream(Arc::new(config), stream, handler)
        .await
        .map_err(|error| match error {
            HandshakeError::Mismatch(error) => error,
            HandshakeError::Ssh(error) => {
                Error::Connect(format!("SSH handshake with {address}: {error}"))
            }
        })?;

    let auth = ssh
        .authenticate_publickey(
            settings.user.as_str(),
            PrivateKeyWithHashAlg::new(Arc::new(key), None),
        )
        .await
        .map_err(|error| Error::Auth(format!("{address}: {error}")))?;
    if !auth.success() {
        return Err(Error::Auth(format!(
            "{address} refused the key of user {:?}",
            settings.user
        )));
    }

    let (sftp, posix_rename) = start_sftp(&ssh, settings)
        .await
        .map_err(|error| Error::Sftp(format!("starting SFTP on {address}: {error}")))?;
    Ok(Sftp {
        ssh,
        sftp,
        posix_rename,
        address,
    })
}

/// Opens the `sftp` subsystem on a new channel and negotiates the protocol;
/// also says whether the server renames over an existing file.
async fn start_sftp(
    ssh: &Handle<PinnedHostKey>,
    settings: &SftpSettings,
) -> Result<(RawSftpSession, bool), SftpError> {
    let channel = ssh
        .channel_open_session()
        .await
        .map_err(|error| SftpError::IO(error.to_string()))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|error| SftpError::IO(error.to_string()))?;
    let config = russh_sftp::client::Config {
        // Whole seconds (the library's unit), rounded up.
        request_timeout_secs: settings.timeout.as_secs()
            + u64::from(settings.timeout.subsec_nanos() > 0),
        ..Default::default()
    };
    let mut sftp = RawSftpSession::new_with_config(channel.into_stream(), config);
    let version = sftp.init().await?;
    let has = |name: &str| version.extensions.get(name).is_some_and(|v| v == "1");
    if has(russh_sftp::extensions::LIMITS) {
        // Writes and reads then stay within the server's sizes.
        let limits = sftp.limits().await?;
        sftp.set_limits(limits.into());
    }
    Ok((sftp, has(POSIX_RENAME)))
}

/// The client side of the handshake: accepts the server only if it presents
/// the pinned key.
pub(crate) struct PinnedHostKey {
    address: String,
    pinned: PublicKey,
}

/// A failed handshake: russh's error, or ours when the host key is not the
/// pinned one (kept apart so that it reaches the caller as
/// [`Error::HostKeyMismatch`], not as a generic handshake failure).
#[derive(Debug)]
pub(crate) enum HandshakeError {
    Ssh(russh::Error),
    Mismatch(Error),
}

impl From<russh::Error> for HandshakeError {
    fn from(error: russh::Error) -> Self {
        HandshakeError::Ssh(error)
    }
}

impl client::Handler for PinnedHostKey {
    type Error = HandshakeError;

    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> Result<bool, HandshakeError> {
        // Equality of the key itself; the comment of the pinned line is not
        // part of it. A certificate is never accepted in place of the key.
        let found = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. }
                if key.key_data() == self.pinned.key_data() =>
            {
                return Ok(true);
            }
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string()
            }
            PublicKeyOrCertificate::Certificate(certificate) => format!(
                "a certificate for {}",
                certificate.public_key().fingerprint(HashAlg::Sha256)
            ),
        };
        Err(HandshakeError::Mismatch(Error::HostKeyMismatch {
            address: self.address.clone(),
            expected: self.pinned.fingerprint(HashAlg::Sha256).to_string(),
            found,
        }))
    }
}
