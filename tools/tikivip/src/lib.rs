//! Developer tooling for the TikiVIP partner backend.
//!
//! - [`local_api`]: the Lambda handlers served over plain HTTP, as API Gateway
//!   would invoke them, for `tikivip dev` and for tests.
//! - The `tikivip` command line: [`sign`] prints signature headers, [`call`]
//!   signs and sends a request, [`dev`] runs the local API.
//! - [`sqs_source`]: Lambda's SQS event source, for the dispatcher in
//!   `tikivip dev` and in tests.
//! - [`ops`]: the operator's `redrive` and `refunds-required`; [`tiniapp_ops`]:
//!   `tiniapp-order` and `tiniapp-set-aside`.
//! - [`reconcile`]: `tikivip reconcile`, a day's files by hand.
//! - [`dev_defaults`]: the development credentials and settings they share.
//! - [`output`]: how listings and times are printed (`--output json|table`);
//!   [`aws`]: `--profile` and `--region`, as the AWS CLI takes them.

pub mod aws;
pub mod call;
pub mod dev;
pub mod dev_defaults;
pub mod local_api;
pub mod ops;
pub mod output;
pub mod payment_page;
pub mod reconcile;
pub mod sign;
pub mod sqs_source;
pub mod stack;
pub mod tiniapp_ops;

/// The command line's errors: reported to a person, never matched on.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
