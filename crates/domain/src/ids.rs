//! Identifiers. Every row kefu creates gets a UUIDv7: unique without asking the database, roughly
//! time-ordered (good for B-tree indexes), and the same on SQLite and PostgreSQL.

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh time-ordered id.
            pub fn new() -> $name {
                $name(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(u: uuid::Uuid) -> Self {
                $name(u)
            }
        }
    )*};
}

id_type!(
    /// A department or site of the organization.
    UnitId,
    UserId,
    CustomerId,
    AccountId,
    BillId,
    PaymentId,
    /// A web session or an API token: both are bearer credentials.
    CredentialId,
    AuditId,
    ImportJobId,
    /// A phone of the registrar: an agent's or a remote site's.
    ExtensionId,
    /// A SIP trunk to a carrier or the company's PBX.
    TrunkId,
    /// A called number (DID) and where it goes.
    DidRouteId,
    /// One leg of a call, as recorded when it ended.
    CallRecordId,
    /// A work order (工单).
    WorkOrderId,
    /// A kind of work order, with its form, default unit and SLA (工单类型).
    WorkOrderTypeId,
    /// One step on a work order's timeline.
    WorkOrderEventId,
    /// A business calendar: working hours, holidays and make-up working days.
    CalendarId,
    /// A file attached to a work order or its feedback.
    AttachmentId,
    /// A notification waiting in the outbox.
    NotificationId,
);
