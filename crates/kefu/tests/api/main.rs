//! Black-box tests of the HTTP API: the real application on a random port with a fresh database.

// ACD records (store helper)
mod acd_records;
mod attachments;
mod auth;
mod bad_input;
mod customers;
mod helpers;
mod imports;
mod ivr_calls;
mod ivr_data;
mod ivr_flows;
mod notifications;
mod ops;
mod permissions;
mod postgres;
mod prompts;
mod sip;
mod telephony;
mod users;
mod wo_config;
mod work_orders;
