//! Issue 11: the daily reconciliation file, archived to S3, delivered over
//! SFTP to a real OpenSSH server, and Tiki's results read back.

mod delivery;
mod ledger;
mod results;
