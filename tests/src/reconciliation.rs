//! The reconciliation job over a fresh table, a fresh bucket and a real
//! OpenSSH server on loopback, with transactions written at chosen instants.

use std::collections::HashMap;
use std::path::PathBuf;

use reconciliation::{DayFiles, Reconciliation, RunRequest, TikiDrop};
use tikivip_archive::Archive;
use tikivip_domain::reconciliation::{ReconDay, ReconciliationFormat};
use tikivip_domain::wire::Text;
use tikivip_domain::{
    EventId, NewTransaction, PaymentOutcome, PaymentResult, RefundRequest, RequestId,
    TikiTransactionId, Timestamp, Transaction, TransactionId, Vnd,
};
use tikivip_sftp::test_support::OpenSshServer;
use tikivip_store::Store;

use crate::{emulator_config, fresh_store, tiki_id};

pub const PARTNER: &str = "testpartner";

/// A fresh bucket of its own for one test.
pub async fn fresh_archive() -> Archive {
    let bucket = format!("it-{}", uuid::Uuid::now_v7().simple());
    let archive = Archive::new(aws_sdk_s3::Client::new(&emulator_config().await), bucket);
    archive
        .create_bucket()
        .await
        .expect("create the test bucket");
    archive
}

/// The job, its peers, and the SFTP folders as local paths.
pub struct ReconStack {
    pub job: Reconciliation,
    pub sftp: OpenSshServer,
    pub inbound: PathBuf,
    pub outbound: PathBuf,
}

impl ReconStack {
    /// With the default format, but `extra` settings (e.g. the row limit).
    pub async fn new(extra: &[(&str, &str)]) -> Self {
        let sftp = OpenSshServer::start();
        let inbound = sftp.root().join("IF_TIKI_VIP/INBOUND");
        let outbound = sftp.root().join("IF_TIKI_VIP/OUTBOUND");
        std::fs::create_dir_all(&inbound).unwrap();
        std::fs::create_dir_all(&outbound).unwrap();
        let mut vars: HashMap<String, String> =
            HashMap::from([("RECONCILIATION_PARTNER_NAME".into(), PARTNER.into())]);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let format = ReconciliationFormat::from_vars(|name| vars.get(name).cloned()).unwrap();
        let job = Reconciliation {
            files: DayFiles {
                store: fresh_store().await,
                archive: fresh_archive().await,
                format,
            },
            tiki: TikiDrop {
                sftp: sftp.settings(),
                inbound: inbound.display().to_string(),
                outbound: outbound.display().to_string(),
            },
        };
        ReconStack {
            job,
            sftp,
            inbound,
            outbound,
        }
    }

    pub fn store(&self) -> &Store {
        &self.job.files.store
    }

    /// Runs the job for `day`, as an operator would, a day later.
    pub async fn run(
        &self,
        day: ReconDay,
    ) -> Result<reconciliation::DayReport, reconciliation::Error> {
        let request = RunRequest {
            day: Some(day.to_string()),
        };
        self.job
            .run(&request, day.end() + time::Duration::DAY)
            .await
    }

    /// The files Tiki's INBOUND holds, by name, excluding anything partial.
    pub fn inbound_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&self.inbound)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    pub async fn created_at(&self, at: Timestamp, amount: u64) -> Transaction {
        created_at(self.store(), at, amount).await
    }
}

/// A PENDING transaction created at `at`.
pub async fn created_at(store: &Store, at: Timestamp, amount: u64) -> Transaction {
    let new = NewTransaction {
        id: TransactionId::generate(),
        tiki_id: TikiTransactionId::parse(tiki_id()).unwrap(),
        amount: Vnd::new(amount).unwrap(),
        description: None,
        customer: None,
        redirect_url: None,
        created_at: at,
    };
    store.create_transaction(new).await.unwrap().transaction
}

/// The transaction paid at `at`.
pub async fn paid_at(store: &Store, txn: &Transaction, at: Timestamp) -> Transaction {
    let result = PaymentResult {
        transaction_id: txn.id.clone(),
        outcome: PaymentOutcome::Success,
        amount: txn.amount,
        partner_banking_method: None,
        event_id: EventId::parse(format!("evt-{}", uuid::Uuid::now_v7().simple())).unwrap(),
        occurred_at: at,
    };
    store.settle(&result, at).await.unwrap();
    store.transaction(&txn.id).await.unwrap().unwrap()
}

/// A refund of `amount` from Tiki at `at`.
pub async fn refunded_at(store: &Store, txn: &Transaction, amount: u64, at: Timestamp) {
    let request = RefundRequest {
        tiki_transaction_id: txn.tiki_id.clone(),
        amount: Vnd::new(amount).unwrap(),
        transaction_id: txn.id.clone(),
        reason: Text::new("customer asked").unwrap(),
        request_id: RequestId::parse(format!("req-{}", uuid::Uuid::now_v7().simple())).unwrap(),
        origin: Default::default(),
    };
    store.refund(&request, at).await.unwrap();
}

/// A host key no server of the test has: what a pinned key of another
/// server (or an impostor's) looks like.
pub fn another_host_key() -> String {
    tikivip_sftp::test_support::generate_key().public_key
}
