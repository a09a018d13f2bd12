//! `tikivip dev` as a child process that the soak kills (SIGKILL) and
//! restarts: the stack's state is only what it wrote to the emulator.

use std::fs::File;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tikivip_bench::Error;
use tokio::process::{Child, Command};

/// How to start the stack.
pub struct StackCommand {
    pub binary: PathBuf,
    pub port: u16,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

pub struct RunningStack {
    command: StackCommand,
    child: Child,
}

impl StackCommand {
    pub async fn start(self) -> Result<RunningStack, Error> {
        let child = self.spawn().await?;
        Ok(RunningStack {
            command: self,
            child,
        })
    }

    async fn spawn(&self) -> Result<Child, Error> {
        let log = File::options().create(true).append(true).open(&self.log)?;
        let mut child = Command::new(&self.binary)
            .arg("dev")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("PORT", self.port.to_string())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            if let Some(status) = child.try_wait()? {
                return Err(format!(
                    "the stack exited at start ({status}); see {}",
                    self.log.display()
                )
                .into());
            }
            if Instant::now() > deadline {
                return Err("the stack did not listen within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(child)
    }
}

impl RunningStack {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Whether the process has ended (killed from elsewhere, or on its own).
    pub fn has_exited(&mut self) -> Result<bool, Error> {
        Ok(self.child.try_wait()?.is_some())
    }

    /// Waits up to `limit` for the process to end.
    pub async fn exited_within(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.child.wait()).await.is_ok()
    }

    /// SIGKILL, as Lambda's end of an execution environment (or an OOM) is.
    pub async fn kill(&mut self) -> Result<(), Error> {
        self.child.kill().await?;
        Ok(())
    }

    pub async fn restart(&mut self) -> Result<(), Error> {
        self.child = self.command.spawn().await?;
        Ok(())
    }
}
