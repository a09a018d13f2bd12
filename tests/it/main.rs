//! End-to-end suites; each test runs the real handlers against its own table in
//! the DynamoDB emulator that `make test` starts.

mod bad_input;
mod browser;
mod cli;
mod concurrency;
mod create;
mod delivery_on_real_aws;
mod dependency_hygiene;
mod emulator_limits;
mod gateway_event;
mod ipn_delivery;
mod lookup;
mod openapi;
mod payment_result;
mod properties;
mod reconciliation;
mod refund;
mod signature;
mod template;
mod tiniapp;
mod way_back;
mod webview;
