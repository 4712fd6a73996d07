//! The `kefu` binary's library half: configuration and first-start seeding, shared by `main.rs` and
//! the black-box tests.

pub mod bench;
pub mod config;
pub mod seed;
pub mod telephony;
