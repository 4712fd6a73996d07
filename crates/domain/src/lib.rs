//! The words kefu speaks: identifiers, validated values, roles and permissions.
//!
//! Architecture invariant: this crate does no I/O and reads no clock. Anything that depends on the time
//! takes `now` as an argument, so every rule here is tested deterministically.

mod access;
mod billing;
mod customer;
mod field;
mod ids;
mod money;
mod phone;
mod record;
mod telephony;
mod throttle;

pub use access::{Permission, Role, Username};
pub use billing::{BillStatus, PaymentMethod, Period};
pub use customer::{
    Address, CustomerName, CustomerNo, District, Language, MeterNo, NoticePreference, ServiceType,
    email_address,
};
pub use field::{FieldError, FieldErrors, bounded_text};
pub use ids::*;
pub use money::Cents;
pub use phone::{AreaCode, Phone};
pub use record::{BillRecord, CustomerRecord, PaymentRecord};
pub use telephony::{
    CallDirection, CallDisposition, CallerIdNumber, CarrierPassword, DidNumber, ExtensionNumber,
    HangupSide, IpNet, RouteTarget, SipProxy, SipTransport, SipUsername, TargetName, TrunkKind,
    check_sip_password, parse_source,
};
pub use throttle::{LoginThrottle, ThrottlePolicy, ThrottleVerdict};
