//! What reconciliation did with each day, for operators and for re-runs:
//! which files reached Tiki's SFTP and which of Tiki's result files were read.
//!
//! | `pk` | `sk` |
//! |---|---|
//! | `RECON#{YYYYMMDD}` | `DELIVERED#{file name}` |
//! | `RECON#{YYYYMMDD}` | `RESULTS#{Tiki's file name}` |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tikivip_domain::Timestamp;
use tikivip_domain::reconciliation::ReconDay;

use crate::codec::{Item, Reader, s, timestamp};
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::{Error, Store};

const DELIVERED: &str = "DELIVERED#";
const RESULTS: &str = "RESULTS#";

/// A day file delivered to Tiki.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub file: String,
    pub sha256: String,
    pub delivered_at: Timestamp,
}

/// One of Tiki's result files, read and compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultsRead {
    pub file: String,
    pub mismatches: u64,
    pub read_at: Timestamp,
}

fn day_partition(day: ReconDay) -> AttributeValue {
    s(format!("RECON#{}", day.compact()))
}

impl Store {
    /// Records that `file` (with these bytes) is on Tiki's SFTP under its final name.
    pub async fn record_delivery(&self, day: ReconDay, delivery: &Delivery) -> Result<(), Error> {
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), day_partition(day)),
            (
                SORT_KEY.to_owned(),
                s(format!("{DELIVERED}{}", delivery.file)),
            ),
            ("sha256".to_owned(), s(delivery.sha256.as_str())),
            ("delivered_at".to_owned(), timestamp(delivery.delivered_at)),
        ]);
        self.put_item(item).await
    }

    /// The day's files delivered so far.
    pub async fn deliveries(&self, day: ReconDay) -> Result<Vec<Delivery>, Error> {
        self.day_log(day, DELIVERED)
            .await?
            .iter()
            .map(|(file, item)| {
                let r = Reader::new(item, "delivery");
                Ok(Delivery {
                    file: file.clone(),
                    sha256: r.s("sha256")?.to_owned(),
                    delivered_at: r.timestamp("delivered_at")?,
                })
            })
            .collect()
    }

    /// Records that Tiki's result `file` for `day` was read, and what it showed.
    pub async fn record_results_read(
        &self,
        day: ReconDay,
        read: &ResultsRead,
    ) -> Result<(), Error> {
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), day_partition(day)),
            (SORT_KEY.to_owned(), s(format!("{RESULTS}{}", read.file))),
            (
                "mismatches".to_owned(),
                AttributeValue::N(read.mismatches.to_string()),
            ),
            ("read_at".to_owned(), timestamp(read.read_at)),
        ]);
        self.put_item(item).await
    }

    /// Tiki's result files for `day` read so far.
    pub async fn results_read(&self, day: ReconDay) -> Result<Vec<ResultsRead>, Error> {
        self.day_log(day, RESULTS)
            .await?
            .iter()
            .map(|(file, item)| {
                let r = Reader::new(item, "results read");
                let mismatches = match item.get("mismatches") {
                    Some(AttributeValue::N(n)) => n.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| Error::corrupt("results read", "mismatches is not a number"))?;
                Ok(ResultsRead {
                    file: file.clone(),
                    mismatches,
                    read_at: r.timestamp("read_at")?,
                })
            })
            .collect()
    }

    async fn put_item(&self, item: Item) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// The day's records under `prefix`, by the name after the prefix.
    async fn day_log(&self, day: ReconDay, prefix: &str) -> Result<Vec<(String, Item)>, Error> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", day_partition(day))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in output.items.unwrap_or_default() {
                let name = Reader::new(&item, "reconciliation record")
                    .s(SORT_KEY)?
                    .trim_start_matches(prefix)
                    .to_owned();
                records.push((name, item));
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(records);
            }
        }
    }
}
