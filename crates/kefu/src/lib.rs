//! The `kefu` binary's library half: configuration and first-start seeding, shared by `main.rs` and
//! the black-box tests.

pub mod acd;
pub mod bench;
pub mod config;
pub mod ivr;
pub mod kb;
pub mod prompts;
pub mod seed;
pub mod seed_acd;
pub mod seed_flows;
pub mod seed_ivr;
pub mod seed_orders;
pub mod seed_work_orders;
pub mod sla;
pub mod telephony;
pub mod voice;
pub mod webhooks;
