use aws_config::SdkConfig;
use tikivip_sftp::{Sftp, SftpSettings};

use crate::Error;

/// Tiki's SFTP server and its folders.
///
/// - `TIKI_SFTP_ARN` (or `TIKI_SFTP` locally): a JSON document `{host, port,
///   user, private_key, host_key, timeout_seconds?}`; the host key is pinned,
///   never learnt on first use.
/// - `TIKI_SFTP_INBOUND` (default `/IF_TIKI_VIP/INBOUND`): where our files go.
/// - `TIKI_SFTP_OUTBOUND` (default `/IF_TIKI_VIP/OUTBOUND`): Tiki's results.
#[derive(Clone, Debug)]
pub struct TikiDrop {
    pub sftp: SftpSettings,
    pub inbound: String,
    pub outbound: String,
}

impl TikiDrop {
    pub async fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        let env_setting = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let text = tikivip_api::load_secret_text(aws, "TIKI_SFTP", env_setting).await?;
        Ok(TikiDrop {
            sftp: SftpSettings::from_json(&text)?,
            inbound: env_setting("TIKI_SFTP_INBOUND")
                .unwrap_or_else(|| "/IF_TIKI_VIP/INBOUND".to_owned()),
            outbound: env_setting("TIKI_SFTP_OUTBOUND")
                .unwrap_or_else(|| "/IF_TIKI_VIP/OUTBOUND".to_owned()),
        })
    }

    pub async fn connect(&self) -> Result<Sftp, Error> {
        Ok(Sftp::connect(&self.sftp).await?)
    }
}
