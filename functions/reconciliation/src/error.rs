/// Why a run failed. Every failure leaves the day where a re-run completes it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    DayNotOver(String),
    #[error(transparent)]
    Domain(#[from] tikivip_domain::Error),
    #[error(transparent)]
    Store(#[from] tikivip_store::Error),
    #[error(transparent)]
    Archive(#[from] tikivip_archive::Error),
    #[error("SFTP: {0}")]
    Sftp(#[from] tikivip_sftp::Error),
    #[error(transparent)]
    Config(#[from] tikivip_api::Error),
    #[error("writing the day's files: {0}")]
    Io(#[from] std::io::Error),
    /// An archived file whose bytes differ from the day's as regenerated: the
    /// ledger of a closed day changed, or the format did. Never overwritten.
    #[error("archive conflict: {0}")]
    ArchiveConflict(String),
}
