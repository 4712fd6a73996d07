//! Work orders (工单): what a request that was not solved on the first call becomes, and the rules it
//! follows until the customer is satisfied.
//!
//! - [`WorkOrderNo`]: the number people say and type (GD2611260001).
//! - [`form`]: the custom fields a work-order type defines, and checking a filled-in form against them.
//! - [`lifecycle`]: the statuses, the actions that move an order between them, and who may take each.
//! - [`calendar`]: business calendars (weekly hours, holidays, 调休 make-up days) and working-time
//!   arithmetic.
//! - [`sla`]: what a type promises (accept, first feedback, resolve) and each order's SLA clock:
//!   due instants, reminders, breaches, reassignment, pauses.
//!
//! Architecture invariant: no I/O, no clock, no async. Anything that depends on the time takes `now`.

pub mod calendar;
pub mod form;
pub mod lifecycle;
mod no;
mod origin;
pub mod sla;

pub use calendar::{Calendar, CalendarSpec, Span, china_demo_spec};
pub use form::{FieldDef, FieldKind, Form, PriorityRule};
pub use lifecycle::{Action, Facts, Priority, Status, TransitionError, Who, allowed_actions, next};
pub use no::WorkOrderNo;
pub use origin::{Channel, OriginKind};
pub use sla::{
    PriorityTargets, SlaClock, SlaEvent, SlaEventKind, SlaPolicy, SlaTarget, SlaTargets,
    TargetClock,
};
