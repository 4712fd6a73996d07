//! kefu's telephony engine: SIP over UDP and TCP on rsipstack (wrapped in [`sip`]), a registrar with
//! digest authentication and per-source bans, trunks with source allow-lists and DID routes, RTP media
//! legs through kefu (G.711, RFC 4733, jitter buffer, mixing, recording), and call primitives with events
//! for the IVR and ACD layers. Pure pieces (digest, guard, registrar bookkeeping) take time as input.

pub mod call;
pub mod config;
pub mod digest;
pub mod directory;
pub mod entry;
pub mod fuzzing;
pub mod guard;
pub mod media;
pub mod registrar;
mod sip;

pub use call::{
    Call, CallError, CallEvent, CallInfo, CollectEnd, CollectSpec, Collected, EndInfo, MemberMode,
    Phase, RecordSpec, Recorded, Room,
};
pub use config::TelephonyConfig;
pub use directory::{
    CallRecord, Direction, Directory, Disposition, ExtensionAuth, Route, Side, Target, Trunk,
    TrunkTransport,
};
pub use media::{PlayEnd, RecordEnd};
pub use registrar::Binding;
pub use sip::{
    Destination, IncomingCall, OriginateError, OriginateOptions, Stats, Telephony,
    TrunkRegistration,
};
