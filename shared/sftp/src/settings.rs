//! Where and as whom to deliver: the SFTP server, its pinned host key, and our
//! key. Read from JSON (a secret's value), checked whole before any connection.

use std::fmt;
use std::time::Duration;

use russh::keys::{Algorithm, PrivateKey, PublicKey};
use serde::Deserialize;

use crate::Error;

/// How long a connection, or one request on it, may take when the settings
/// do not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An SFTP server and the keys to talk to it.
///
/// `Debug` prints everything but the private key.
#[derive(Clone, PartialEq, Eq)]
pub struct SftpSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Our private key, OpenSSH PEM text (`-----BEGIN OPENSSH PRIVATE KEY-----`),
    /// without a passphrase: it is kept in a secret store, not on a disk.
    pub private_key: String,
    /// The server's public host key, in OpenSSH's one-line form
    /// (`ssh-ed25519 AAAA...`, an optional comment after it). Pinned: the
    /// server must present exactly this key; none is ever trusted on first use.
    pub host_key: String,
    /// The limit on connecting, and on each request once connected.
    pub timeout: Duration,
}

/// The JSON form. `timeout_seconds` is optional.
#[derive(Deserialize)]
struct Json {
    host: String,
    port: u16,
    user: String,
    private_key: String,
    host_key: String,
    timeout_seconds: Option<u64>,
}

impl SftpSettings {
    /// Reads `{"host", "port", "user", "private_key", "host_key",
    /// "timeout_seconds"?}` (30 seconds when absent), and checks that both keys
    /// can be used, so a bad secret fails where it is read, not at the first
    /// delivery.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let json: Json =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
                .map_err(|error| match error.path().to_string() {
                    path if path == "." => Error::Config(error.inner().to_string()),
                    path => Error::Config(format!("{path}: {}", error.inner())),
                })?;
        let settings = Self {
            host: json.host,
            port: json.port,
            user: json.user,
            private_key: json.private_key,
            host_key: json.host_key,
            timeout: json
                .timeout_seconds
                .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        };
        settings.check()?;
        Ok(settings)
    }

    /// Every field usable; [`Sftp::connect`](crate::Sftp::connect) checks the
    /// same, for settings built field by field.
    pub fn check(&self) -> Result<(), Error> {
        if self.host.trim().is_empty() {
            return Err(Error::Config("host is empty".into()));
        }
        if self.port == 0 {
            return Err(Error::Config("port is 0".into()));
        }
        if self.user.trim().is_empty() {
            return Err(Error::Config("user is empty".into()));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("timeout_seconds is 0".into()));
        }
        self.client_key()?;
        self.pinned_host_key()?;
        Ok(())
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Our private key, parsed.
    pub(crate) fn client_key(&self) -> Result<PrivateKey, Error> {
        let key = russh::keys::decode_secret_key(&self.private_key, None)
            // The parser's message never quotes the key.
            .map_err(|error| Error::Config(format!("private_key: {error}")))?;
        supported("private_key", key.algorithm())?;
        Ok(key)
    }

    /// The pinned host key, parsed.
    pub(crate) fn pinned_host_key(&self) -> Result<PublicKey, Error> {
        let key = PublicKey::from_openssh(self.host_key.trim()).map_err(|error| {
            Error::Config(format!(
                "host_key: {error} (expected OpenSSH's one-line form, \"ssh-ed25519 AAAA...\")"
            ))
        })?;
        supported("host_key", key.algorithm())?;
        Ok(key)
    }
}

/// The key types this build speaks: russh is built without its `rsa` feature
/// (no RSA code linked), so RSA keys are refused here, with their name, rather
/// than failing the handshake with a generic message.
fn supported(field: &str, algorithm: Algorithm) -> Result<(), Error> {
    match algorithm {
        Algorithm::Ed25519 | Algorithm::Ecdsa { .. } => Ok(()),
        other => Err(Error::Config(format!(
            "{field}: {other} keys are not supported (ed25519 or ecdsa)"
        ))),
    }
}

impl fmt::Debug for SftpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("private_key", &"<redacted>")
            .field("host_key", &self.host_key)
            .field("timeout", &self.timeout)
            .finish()
    }
}
