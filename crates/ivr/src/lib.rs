//! IVR flows (语音导航) without I/O.
//!
//! - [`model`]: the flow graph and its JSON form.
//! - [`validate`]: node-level errors before a flow is saved or published.
//! - [`interp`]: the interpreter, a state machine that says what to do next ([`interp::Command`]) and
//!   takes what happened ([`interp::Input`]); the telephony runtime and the browser simulator drive it.
//! - [`say`]: numbers, money, dates and digit strings as words (system prompt keys and their text).
//!
//! No I/O, no clock, no async: time comes in as an argument.

pub mod demo;
pub mod interp;
pub mod model;
pub mod prompts;
pub mod say;
pub mod validate;

pub use model::*;
