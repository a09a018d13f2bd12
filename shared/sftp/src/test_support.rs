//! A real OpenSSH server for tests: Debian's `/usr/sbin/sshd` (installed by
//! `scripts/sftp.sh install`, `make sftp`) on 127.0.0.1, in a throwaway
//! directory, with its own host key and one authorised client key.
//!
//! Real rather than an in-process stand-in: Tiki's server is an OpenSSH one,
//! and what is tested is how it answers (its `rename`, its
//! `posix-rename@openssh.com`, its refusals).
//!
//! ```no_run
//! # async fn example() {
//! use tikivip_sftp::{Sftp, test_support::OpenSshServer};
//! let server = OpenSshServer::start();
//! let inbound = server.mkdir("IF_TIKI_VIP/INBOUND");
//! let sftp = Sftp::connect(&server.settings()).await.unwrap();
//! sftp.upload(&inbound, "file.csv", b"a,b\n").await.unwrap();
//! # }
//! ```

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{DEFAULT_TIMEOUT, SftpSettings};

/// The server binary: `$SSHD`, else Debian's.
const SSHD: &str = "/usr/sbin/sshd";

/// How long sshd may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running sshd, stopped when dropped.
pub struct OpenSshServer {
    dir: TempDir,
    sshd: Option<Child>,
    port: u16,
    user: String,
    host_key: String,
    client_key: String,
}

/// An ed25519 key pair from `ssh-keygen`.
pub struct KeyPair {
    /// OpenSSH PEM text.
    pub private_key: String,
    /// OpenSSH's one-line form, `ssh-ed25519 AAAA... comment`.
    pub public_key: String,
}

impl OpenSshServer {
    /// Starts sshd on a free port of 127.0.0.1 and waits until it accepts
    /// connections. Panics, with sshd's own messages, when it cannot.
    pub fn start() -> OpenSshServer {
        let sshd = std::env::var("SSHD").unwrap_or_else(|_| SSHD.to_owned());
        assert!(
            Path::new(&sshd).exists(),
            "{sshd} is missing: install it with `make sftp` (scripts/sftp.sh install)"
        );
        // sshd's privilege separation directory; Debian's package creates it
        // only when the service starts.
        let _ = std::fs::create_dir_all("/run/sshd");

        let dir = tempfile::Builder::new()
            .prefix("tikivip-sshd-")
            .tempdir()
            .expect("a temporary directory for sshd");
        let host = key_pair_in(dir.path(), "host_key");
        let client = key_pair_in(dir.path(), "client_key");
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, &client.public_key).expect("authorized_keys written");
        std::fs::create_dir(dir.path().join("data")).expect("the data directory created");

        let mut server = OpenSshServer {
            dir,
            sshd: None,
            port: 0,
            user: current_user(),
            host_key: host.public_key,
            client_key: client.private_key,
        };
        // Another process may take the free port between our finding it and
        // sshd binding it: try a few.
        for _ in 0..3 {
            match server.try_listen(&sshd) {
                Ok(()) => return server,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("sshd did not start:\n{log}"),
            }
        }
        panic!("sshd found no free port");
    }

    /// Starts sshd on a free port and waits until it listens; `Err` holds
    /// its messages when it exits or takes too long.
    fn try_listen(&mut self, sshd: &str) -> Result<(), String> {
        self.port = free_port();
        let config = self.dir.path().join("sshd_config");
        std::fs::write(&config, self.config()).expect("sshd_config written");
        let log = self.dir.path().join("sshd.log");
        let stderr = std::fs::File::create(&log).expect("sshd.log created");
        let child = Command::new(sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("{sshd} could not be run: {error}"));
        let child = self.sshd.insert(child);
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.sshd = None;
                return Err(format!("sshd exited ({status}):\n{}", read_log()));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!(
                    "sshd not listening on 127.0.0.1:{} after {START_TIMEOUT:?}:\n{}",
                    self.port,
                    read_log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything in the throwaway directory; nothing of `/etc/ssh`.
    fn config(&self) -> String {
        let dir = self.dir.path().display();
        format!(
            "\
Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
LogLevel VERBOSE
Subsystem sftp internal-sftp
",
            port = self.port
        )
    }

    /// Settings for this server: the current user, the authorised key, this
    /// server's host key pinned.
    pub fn settings(&self) -> SftpSettings {
        SftpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            user: self.user.clone(),
            private_key: self.client_key.clone(),
            host_key: self.host_key.clone(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory the tests' files live under (absolute: no chroot, whose
    /// ownership rules a temporary directory does not meet).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `relative` under [`root`](Self::root), as the absolute path string
    /// the SFTP calls take.
    pub fn path(&self, relative: &str) -> String {
        self.root().join(relative).display().to_string()
    }

    /// Creates `relative` under [`root`](Self::root) (with its parents) and
    /// returns its [`path`](Self::path).
    pub fn mkdir(&self, relative: &str) -> String {
        let path = self.path(relative);
        std::fs::create_dir_all(&path).unwrap_or_else(|error| panic!("mkdir {path}: {error}"));
        path
    }

    /// What sshd has logged so far (connections, refusals).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Stops sshd (also done on drop). Sessions still open end with their
    /// clients.
    pub fn stop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
    }
}

impl Drop for OpenSshServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh ed25519 key pair, e.g. a key the server does not know, or a host
/// key it does not have.
pub fn generate_key() -> KeyPair {
    let dir = tempfile::tempdir().expect("a temporary directory for ssh-keygen");
    key_pair_in(dir.path(), "key")
}

/// `ssh-keygen -t ed25519 -N ''` into `dir/name` and `dir/name.pub`.
fn key_pair_in(dir: &Path, name: &str) -> KeyPair {
    let path = dir.join(name);
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .unwrap_or_else(|error| panic!("ssh-keygen could not be run: {error}"));
    assert!(
        output.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    };
    KeyPair {
        private_key: read(&path),
        public_key: read(&path.with_extension("pub")).trim().to_owned(),
    }
}

/// `id -un`: the user sshd lets in with the authorised key.
fn current_user() -> String {
    let output = Command::new("id")
        .arg("-un")
        .output()
        .expect("`id -un` runs");
    assert!(output.status.success(), "`id -un` failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
