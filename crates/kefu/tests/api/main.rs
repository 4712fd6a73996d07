//! Black-box tests of the HTTP API: the real application on a random port with a fresh database.

mod acd_calls;
// The ACD paths end to end with real SIP peers (answer button, transfers, whisper/barge, webhooks,
// overflow, callbacks, business hours, restart).
mod acd_flows;
// ACD records (store helper)
mod acd_records;
// The telephony crate's real-peer harness (baresip phones, free ports, WAV checks), shared.
mod attachments;
mod auth;
mod bad_input;
mod customers;
mod helpers;
mod imports;
mod ivr_calls;
mod ivr_data;
mod ivr_flows;
// The knowledge base: workflow, search, archives, what the public may see.
mod kb;
mod notifications;
mod ops;
mod permissions;
#[path = "../../../telephony/tests/support/mod.rs"]
mod phones;
mod postgres;
mod prompts;
mod sip;
mod telephony;
mod users;
mod wo_config;
mod work_orders;
