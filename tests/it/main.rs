//! End-to-end suites; each test runs the real handlers against its own table in
//! the DynamoDB emulator that `make test` starts.

mod bad_input;
mod concurrency;
mod create;
mod dependency_hygiene;
mod ipn_delivery;
mod lookup;
mod payment_result;
mod refund;
mod signature;
mod template;
mod tiniapp;
