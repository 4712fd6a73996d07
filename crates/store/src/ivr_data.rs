//! What the IVR reads and writes: callers as customers, their bills and orders as string variables
//! (`customer.amount_due`, `order.no`, …) for the interpreter, orders made by the IVR, documents sent
//! on request (the `outbound_messages` outbox), survey answers, business hours; and the queues and
//! documents an administrator configures.
//!
//! Amounts are integer fen; dates `YYYY-MM-DD`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use kefu_domain::{AreaCode, CustomerId, FieldErrors, Phone, WorkOrderId};
use kefu_workorders::{Channel, FieldKind, OriginKind, Priority, Status, WorkOrderNo};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::entities::{attachment, work_order};
use crate::{
    Act, Acting, Actor, NewWorkOrder, Page, PageRequest, Result, Store, StoreError, WorkOrder,
    audit,
};

/// The interpreter's variables: names to string values.
pub type Vars = BTreeMap<String, String>;

mod ent {
    pub mod queue {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "queues")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub key: String,
            pub name: String,
            pub members: Json,
            pub max_wait_secs: i32,
            pub active: bool,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            // ACD records (store helper): the queue's ACD settings.
            pub strategy: String,
            pub skill: Option<String>,
            pub min_level: i32,
            pub max_len: i32,
            pub overflow: Json,
            pub announce_secs: i32,
            pub ring_secs: i32,
            pub wrap_up_secs: i32,
            pub service_level_secs: i32,
            pub calendar: Option<String>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod document {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "ivr_documents")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub key: String,
            pub title: String,
            pub body: String,
            pub file: Option<Vec<u8>>,
            pub file_name: Option<String>,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod outbound {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "outbound_messages")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub channel: String,
            pub recipient: String,
            pub customer_id: Option<Uuid>,
            pub document_key: Option<String>,
            pub subject: Option<String>,
            pub body: String,
            pub call_uuid: Option<Uuid>,
            pub work_order_id: Option<Uuid>,
            pub status: String,
            pub attempts: i32,
            pub last_error: Option<String>,
            pub created_at: DateTimeUtc,
            pub sent_at: Option<DateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod survey {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "survey_responses")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub call_uuid: Option<Uuid>,
            pub work_order_id: Option<Uuid>,
            pub customer_id: Option<Uuid>,
            pub flow_id: Option<Uuid>,
            pub agent_extension: Option<String>,
            pub score: i16,
            pub max_score: i16,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use ent::{document, outbound, queue, survey};

/// An order the IVR makes for a caller. `title`, `description` and `fields` are already filled in
/// from the call's variables.
#[derive(Debug, Clone, Default)]
pub struct IvrOrderRequest {
    /// The work-order type's code (`fault`).
    pub order_type: String,
    /// A priority keyword; empty: the type decides.
    pub priority: String,
    pub title: String,
    pub description: String,
    /// A recording (WAV) to attach to the order.
    pub recording: Option<PathBuf>,
    pub fields: BTreeMap<String, String>,
    /// Queue an SMS with the order number to the caller (a mobile number).
    pub sms: bool,
    pub customer_id: Option<uuid::Uuid>,
    /// The caller ID as received.
    pub caller: String,
    pub call_uuid: Option<uuid::Uuid>,
}

/// A queue callers are transferred to; `members` are extension numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queue {
    pub id: uuid::Uuid,
    pub key: String,
    pub name: String,
    pub members: Vec<String>,
    pub max_wait_secs: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    // ACD records (store helper): the ACD settings (`docs/acd.md`, "Queue settings").
    /// One of [`crate::QUEUE_STRATEGIES`].
    pub strategy: String,
    /// `None`: the queue's key.
    pub skill: Option<String>,
    pub min_level: u8,
    /// 0: unlimited.
    pub max_len: u32,
    /// `{"action":"queue","queue":"<key>"}`, `{"action":"voicemail"}`, `{"action":"callback"}` or
    /// `{"action":"hangup"}`.
    pub overflow: Value,
    /// 0: never.
    pub announce_secs: u32,
    pub ring_secs: u32,
    pub wrap_up_secs: u32,
    pub service_level_secs: u32,
    /// A calendar code: closed outside its working time.
    pub calendar: Option<String>,
}

/// A new queue; its ACD settings are given to [`Store::create_queue_with`] (defaults otherwise).
#[derive(Debug, Clone)]
pub struct NewQueue {
    pub key: String,
    pub name: String,
    pub members: Vec<String>,
    pub max_wait_secs: i32,
    pub active: bool,
}

#[derive(Debug, Clone, Default)]
pub struct QueueChanges {
    pub name: Option<String>,
    pub members: Option<Vec<String>>,
    pub max_wait_secs: Option<i32>,
    pub active: Option<bool>,
    // ACD records (store helper): `Some(None)` clears `skill` / `calendar`.
    pub strategy: Option<String>,
    pub skill: Option<Option<String>>,
    pub min_level: Option<u8>,
    pub max_len: Option<u32>,
    pub overflow: Option<Value>,
    pub announce_secs: Option<u32>,
    pub ring_secs: Option<u32>,
    pub wrap_up_secs: Option<u32>,
    pub service_level_secs: Option<u32>,
    pub calendar: Option<Option<String>>,
}

/// A document callers can ask for; the PDF's bytes are read with [`Store::document_file`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub id: uuid::Uuid,
    pub key: String,
    pub title: String,
    pub body: String,
    pub file_name: Option<String>,
    /// Size of the PDF in bytes, if there is one.
    pub file_size: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A PDF for a document.
#[derive(Debug, Clone)]
pub struct DocumentFile {
    pub name: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub key: String,
    pub title: String,
    pub body: String,
    pub file: Option<DocumentFile>,
}

#[derive(Debug, Clone, Default)]
pub struct DocumentChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    /// `Some(None)` removes the PDF.
    pub file: Option<Option<DocumentFile>>,
}

/// A message waiting for (or delivered by) a channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundMessage {
    pub id: uuid::Uuid,
    pub channel: String,
    pub recipient: String,
    pub customer_id: Option<uuid::Uuid>,
    pub document_key: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct OutboundQuery {
    pub channel: Option<String>,
    pub status: Option<String>,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyResponse {
    pub id: uuid::Uuid,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    pub customer_id: Option<uuid::Uuid>,
    pub flow_id: Option<uuid::Uuid>,
    pub agent_extension: Option<String>,
    pub score: i16,
    pub max_score: i16,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct SurveyQuery {
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
}

/// The channels the outbox knows besides the web notifications.
pub const MESSAGE_CHANNELS: &[&str] = &["sms", "email", "fax"];
/// An outbound message's states.
pub const MESSAGE_STATUSES: &[&str] = &["queued", "sent", "failed"];

const MAX_RECORDING_BYTES: u64 = 20 * 1024 * 1024;
const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    let mut e = FieldErrors::new();
    e.push(field, reason);
    StoreError::Invalid(e)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A queue or document key: `[a-z0-9_-]`, 1-32 characters.
fn check_key(key: &str, errors: &mut FieldErrors) {
    let ok = (1..=32).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        errors.push("key", "must be 1-32 characters of a-z, 0-9, _ and -");
    }
}

fn check_text(field: &str, v: &str, max: usize, errors: &mut FieldErrors) {
    let n = v.trim().chars().count();
    if n == 0 {
        errors.push(field, "must not be empty");
    } else if n > max {
        errors.push(field, format!("at most {max} characters"));
    }
}

fn queue_from(m: queue::Model) -> Queue {
    Queue {
        id: m.id,
        key: m.key,
        name: m.name,
        members: serde_json::from_value(m.members).unwrap_or_default(),
        max_wait_secs: m.max_wait_secs,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
        // ACD records (store helper)
        strategy: m.strategy,
        skill: m.skill,
        min_level: u8::try_from(m.min_level).unwrap_or(1),
        max_len: u32::try_from(m.max_len).unwrap_or(0),
        overflow: m.overflow,
        announce_secs: u32::try_from(m.announce_secs).unwrap_or(0),
        ring_secs: u32::try_from(m.ring_secs).unwrap_or(15),
        wrap_up_secs: u32::try_from(m.wrap_up_secs).unwrap_or(0),
        service_level_secs: u32::try_from(m.service_level_secs).unwrap_or(20),
        calendar: m.calendar,
    }
}

fn document_from(m: document::Model) -> Document {
    Document {
        id: m.id,
        key: m.key,
        title: m.title,
        body: m.body,
        file_name: m.file_name,
        file_size: m.file.as_ref().map(|f| f.len() as i64),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn outbound_from(m: outbound::Model) -> OutboundMessage {
    OutboundMessage {
        id: m.id,
        channel: m.channel,
        recipient: m.recipient,
        customer_id: m.customer_id,
        document_key: m.document_key,
        subject: m.subject,
        body: m.body,
        call_uuid: m.call_uuid,
        work_order_id: m.work_order_id,
        status: m.status,
        attempts: m.attempts,
        last_error: m.last_error,
        created_at: m.created_at,
        sent_at: m.sent_at,
    }
}

fn survey_from(m: survey::Model) -> SurveyResponse {
    SurveyResponse {
        id: m.id,
        call_uuid: m.call_uuid,
        work_order_id: m.work_order_id,
        customer_id: m.customer_id,
        flow_id: m.flow_id,
        agent_extension: m.agent_extension,
        score: m.score,
        max_score: m.max_score,
        created_at: m.created_at,
    }
}

/// A PDF as stored with a document: a name and bytes that start like a PDF.
fn check_file(f: &DocumentFile, errors: &mut FieldErrors) {
    if !f.content.starts_with(b"%PDF-") {
        errors.push("file", "must be a PDF");
    } else if f.content.len() > MAX_DOCUMENT_BYTES {
        errors.push("file", format!("at most {MAX_DOCUMENT_BYTES} bytes"));
    }
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        errors.push("file_name", "must be 1-120 characters");
    }
}

/// A queued message row.
struct NewMessage<'a> {
    channel: &'a str,
    recipient: String,
    customer_id: Option<uuid::Uuid>,
    document_key: Option<String>,
    subject: Option<String>,
    body: String,
    call_uuid: Option<uuid::Uuid>,
    work_order_id: Option<uuid::Uuid>,
}

async fn queue_message(
    db: &impl ConnectionTrait,
    actor: &Actor,
    m: NewMessage<'_>,
    now: DateTime<Utc>,
) -> Result<OutboundMessage> {
    let row = outbound::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        channel: Set(m.channel.to_string()),
        recipient: Set(m.recipient),
        customer_id: Set(m.customer_id),
        document_key: Set(m.document_key),
        subject: Set(m.subject),
        body: Set(m.body),
        call_uuid: Set(m.call_uuid),
        work_order_id: Set(m.work_order_id),
        status: Set("queued".into()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(db)
    .await?;
    let msg = outbound_from(row);
    audit::record(
        db,
        actor,
        "outbound_message.queue",
        "outbound_message",
        Some(msg.id.to_string()),
        None::<&()>,
        Some(&json!({"channel": msg.channel, "recipient": msg.recipient,
            "document_key": msg.document_key, "work_order_id": msg.work_order_id})),
    )
    .await?;
    Ok(msg)
}

impl Store {
    // ---- callers and their orders, as the IVR's variables ----

    /// The customer calling from `phone` (a caller ID): exactly one customer with this registered
    /// number. An unparsable number, no owner or several owners (a shared landline) is `None`: the
    /// IVR then asks for the customer number.
    pub async fn ivr_customer_by_phone(&self, phone: &str) -> Result<Option<Vars>> {
        let Ok(phone) = Phone::parse(phone, &AreaCode::default()) else {
            return Ok(None);
        };
        let owners = self
            .customers_by_phone(&phone, Utc::now().date_naive())
            .await?;
        match owners.as_slice() {
            [one] => Ok(Some(self.ivr_customer_vars(one.id).await?)),
            _ => Ok(None),
        }
    }

    /// The customer with this customer number (as typed: trimmed, any case).
    pub async fn ivr_customer_by_no(&self, no: &str) -> Result<Option<Vars>> {
        match self.customer_id_by_no(no).await? {
            Some(id) => Ok(Some(self.ivr_customer_vars(id).await?)),
            None => Ok(None),
        }
    }

    /// `customer.*`: who they are and where their bills stand, from the same detail the customer
    /// page shows. `amount_due` is every unpaid bill, `overdue_amount` those past their due date
    /// (on today's UTC date), `due_date` the oldest unpaid bill's due date, `balance` what the
    /// customer has to their credit (minus what they owe: there are no prepayments in the data).
    async fn ivr_customer_vars(&self, id: CustomerId) -> Result<Vars> {
        let today = Utc::now().date_naive();
        let detail = self.customer_detail(id, today).await?;
        let bills = detail.accounts.iter().flat_map(|a| a.bills.iter());
        let unpaid: Vec<_> = bills.filter(|b| b.paid_on.is_none()).collect();
        let amount_due: i64 = unpaid.iter().map(|b| b.amount_cents).sum();
        let overdue: i64 = unpaid
            .iter()
            .filter(|b| b.due_date < today)
            .map(|b| b.amount_cents)
            .sum();
        let due_date = unpaid.iter().map(|b| b.due_date).min();
        let last_payment = detail
            .accounts
            .iter()
            .flat_map(|a| a.payments.iter())
            .max_by_key(|p| p.paid_on);
        let open_orders = work_order::Entity::find()
            .filter(work_order::Column::CustomerId.eq(id.0))
            .filter(
                work_order::Column::Status.is_in(
                    Status::ALL
                        .iter()
                        .filter(|s| s.is_open())
                        .map(|s| s.as_str()),
                ),
            )
            .count(&self.db)
            .await?;
        let c = &detail.customer;
        let mut v = Vars::new();
        let mut put = |k: &str, val: String| {
            v.insert(format!("customer.{k}"), val);
        };
        put("id", c.id.0.to_string());
        put("no", c.customer_no.clone());
        put("name", c.name.clone());
        put("phones", c.phones.join(","));
        put("address", c.address.clone());
        put("language", c.language.clone());
        put("service_type", c.service_type.clone());
        put("email", c.email.clone().unwrap_or_default());
        put("fax", c.fax.clone().unwrap_or_default());
        put("balance", (-amount_due).to_string());
        put("amount_due", amount_due.to_string());
        put("overdue_amount", overdue.to_string());
        put("due_date", due_date.map(ymd).unwrap_or_default());
        put(
            "last_payment_amount",
            last_payment.map_or(0, |p| p.amount_cents).to_string(),
        );
        put(
            "last_payment_date",
            last_payment.map(|p| ymd(p.paid_on)).unwrap_or_default(),
        );
        put("open_orders", open_orders.to_string());
        Ok(v)
    }

    /// The order with this number (`GD2611260001` or its digits), of `customer_id` when one is
    /// given (another customer's order is `None`). Finding it records the query on the order.
    pub async fn ivr_order_by_no(
        &self,
        digits_or_no: &str,
        customer_id: Option<uuid::Uuid>,
    ) -> Result<Option<Vars>> {
        let Ok(no) = WorkOrderNo::parse(digits_or_no) else {
            return Ok(None);
        };
        let row = work_order::Entity::find()
            .filter(work_order::Column::No.eq(no.as_str()))
            .one(&self.db)
            .await?;
        match row {
            Some(r) if customer_id.is_none() || r.customer_id == customer_id => {
                Ok(Some(self.ivr_order_vars(WorkOrderId(r.id)).await?))
            }
            _ => Ok(None),
        }
    }

    /// The customer's newest open order, else their newest order. Finding it records the query.
    pub async fn ivr_newest_order_of_customer(
        &self,
        customer_id: uuid::Uuid,
    ) -> Result<Option<Vars>> {
        let newest = |open: bool| {
            let mut sel = work_order::Entity::find()
                .select_only()
                .column(work_order::Column::Id)
                .filter(work_order::Column::CustomerId.eq(customer_id));
            if open {
                sel = sel.filter(
                    work_order::Column::Status.is_in(
                        Status::ALL
                            .iter()
                            .filter(|s| s.is_open())
                            .map(|s| s.as_str()),
                    ),
                );
            }
            sel.order_by_desc(work_order::Column::CreatedAt)
                .order_by_desc(work_order::Column::Id)
                .into_tuple::<uuid::Uuid>()
                .one(&self.db)
        };
        let id = match newest(true).await? {
            Some(id) => Some(id),
            None => newest(false).await?,
        };
        match id {
            Some(id) => Ok(Some(self.ivr_order_vars(WorkOrderId(id)).await?)),
            None => Ok(None),
        }
    }

    /// Records the customer's query on the order (as the status-query service does) and returns
    /// `order.*`. An order whose lifecycle does not take a query (none today) is read as it is.
    async fn ivr_order_vars(&self, id: WorkOrderId) -> Result<Vars> {
        let order = match self
            .act_on_work_order(
                &Actor::system("ivr"),
                &Acting::system(),
                id,
                None,
                Act::CustomerQuery {
                    channel: Channel::Ivr,
                },
                None,
                Utc::now(),
            )
            .await
        {
            Ok(o) => o,
            Err(StoreError::Db(e)) => return Err(StoreError::Db(e)),
            Err(e) => {
                tracing::warn!(error = %e, order = %id, "IVR query not recorded on the order");
                self.work_order(id).await?
            }
        };
        self.order_vars(&order).await
    }

    async fn order_vars(&self, o: &WorkOrder) -> Result<Vars> {
        let ty = self.work_order_type(o.type_id).await?;
        let no = WorkOrderNo::parse(&o.no).map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "stored work-order number {}: {}",
                o.no, e.reason
            )))
        })?;
        let mut v = Vars::new();
        v.insert("order.id".into(), o.id.0.to_string());
        v.insert("order.no".into(), o.no.clone());
        v.insert("order.digits".into(), no.digits().to_string());
        v.insert("order.status".into(), o.status.as_str().to_string());
        v.insert("order.type".into(), ty.code.clone());
        v.insert("order.type_name".into(), o.type_name.clone());
        v.insert("order.priority".into(), o.priority.as_str().to_string());
        // The day in the company's time zone (its calendar's), as the order number's day.
        let offset = self.calendar_for(&ty).await?.utc_offset_minutes();
        v.insert(
            "order.created_at".into(),
            ymd((o.created_at + TimeDelta::minutes(i64::from(offset))).date_naive()),
        );
        Ok(v)
    }

    // ---- what the IVR writes ----

    /// Creates an order for a caller: channel `ivr`, origin the call, linked to the customer when
    /// known, contact phone the caller, dispatched to the type's default unit when it has one. The
    /// recording is read and checked before anything is written; the order is then created, and its
    /// recording and the confirmation SMS (to a mobile caller, when asked) are written in one
    /// transaction right after. Returns `order.id`, `order.no`, `order.digits` (and `order.sms`:
    /// `queued` or empty).
    pub async fn ivr_create_work_order(&self, req: IvrOrderRequest) -> Result<Vars> {
        let ty = self
            .work_order_type_by_code(req.order_type.trim())
            .await?
            .ok_or_else(|| invalid("order_type", "no such work-order type"))?;
        if !ty.active {
            return Err(invalid(
                "order_type",
                "this work-order type is no longer in use",
            ));
        }
        let priority = match req.priority.trim() {
            "" => None,
            p => Some(Priority::parse(p).map_err(|e| invalid("priority", e.reason))?),
        };
        let recording = match &req.recording {
            None => None,
            Some(path) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    invalid("recording", format!("cannot read {}: {e}", path.display()))
                })?;
                if meta.len() > MAX_RECORDING_BYTES {
                    return Err(invalid(
                        "recording",
                        format!("at most {MAX_RECORDING_BYTES} bytes"),
                    ));
                }
                let bytes = std::fs::read(path).map_err(|e| {
                    invalid("recording", format!("cannot read {}: {e}", path.display()))
                })?;
                if !(bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE") {
                    return Err(invalid("recording", "not a WAV file"));
                }
                Some(bytes)
            }
        };
        let caller = Phone::parse(&req.caller, &AreaCode::default()).ok();
        // Values typed in as digits are numbers to a number field; everything else is text.
        let mut fields = Map::new();
        for (k, val) in &req.fields {
            let def = ty.form.fields().iter().find(|d| &d.key == k);
            let value = match def.map(|d| d.kind) {
                Some(FieldKind::Number) => val
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                    .unwrap_or_else(|| Value::String(val.clone())),
                _ => Value::String(val.clone()),
            };
            fields.insert(k.clone(), value);
        }
        let now = Utc::now();
        let calendar = self.calendar_for(&ty).await?;
        let day = (now + TimeDelta::minutes(i64::from(calendar.utc_offset_minutes()))).date_naive();
        let actor = Actor::system("ivr");
        let created = self
            .create_work_order(
                &actor,
                &Acting::system(),
                NewWorkOrder {
                    type_id: ty.id,
                    channel: Channel::Ivr,
                    origin_kind: Some(OriginKind::Call.as_str().into()),
                    origin_ref: req.call_uuid.map(|u| u.to_string()),
                    customer_id: req.customer_id.map(CustomerId),
                    contact_name: None,
                    contact_phone: caller.as_ref().map(|p| p.as_str().to_string()),
                    address: None,
                    title: req.title.clone(),
                    description: req.description.clone(),
                    fields: Value::Object(fields),
                    priority,
                    unit_id: ty.default_unit_id,
                    assignee_id: None,
                },
                None,
                day,
                now,
            )
            .await?;
        let order = created.order;
        let no = WorkOrderNo::parse(&order.no).map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "created work-order number {}: {}",
                order.no, e.reason
            )))
        })?;
        let sms_to = caller.filter(|p| req.sms && p.is_mobile());
        let mut sms_queued = false;
        if recording.is_some() || sms_to.is_some() {
            let tx = self.db.begin().await?;
            if let Some(bytes) = recording {
                let id = uuid::Uuid::now_v7();
                let sha256 = format!("{:x}", Sha256::digest(&bytes));
                let size = bytes.len() as i64;
                let filename = format!("{}-录音.wav", order.no);
                attachment::ActiveModel {
                    id: Set(id),
                    work_order_id: Set(Some(order.id.0)),
                    filename: Set(filename.clone()),
                    content_type: Set("audio/wav".into()),
                    size: Set(size),
                    sha256: Set(sha256.clone()),
                    content: Set(bytes),
                    uploaded_by: Set(None),
                    created_at: Set(now),
                }
                .insert(&tx)
                .await?;
                audit::record(
                    &tx,
                    &actor,
                    "attachment.upload",
                    "attachment",
                    Some(id.to_string()),
                    None::<&()>,
                    Some(&json!({"work_order_id": order.id, "filename": filename,
                        "content_type": "audio/wav", "size": size, "sha256": sha256})),
                )
                .await?;
            }
            if let Some(to) = sms_to {
                queue_message(
                    &tx,
                    &actor,
                    NewMessage {
                        channel: "sms",
                        recipient: to.as_str().to_string(),
                        customer_id: req.customer_id,
                        document_key: None,
                        subject: None,
                        body: format!(
                            "您的{}已受理，工单号 {}。查询进度请拨打客服热线并输入工单号 {}。",
                            ty.name,
                            order.no,
                            no.digits()
                        ),
                        call_uuid: req.call_uuid,
                        work_order_id: Some(order.id.0),
                    },
                    now,
                )
                .await?;
                sms_queued = true;
            }
            tx.commit().await?;
        }
        let mut v = Vars::new();
        v.insert("order.id".into(), order.id.0.to_string());
        v.insert("order.no".into(), order.no.clone());
        v.insert("order.digits".into(), no.digits().to_string());
        v.insert(
            "order.sms".into(),
            if sms_queued { "queued" } else { "" }.into(),
        );
        Ok(v)
    }

    /// Queues document `document_key` for `recipient` on `channel` (`fax`, `sms`, `email`): an SMS or
    /// email carries the document's text, a fax the document itself (`body` is the reference
    /// `document:<key>`: its PDF, or its text when it has none). An empty
    /// recipient of an email is the customer's address. Returns `message.id`, `message.channel`,
    /// `message.recipient`.
    pub async fn ivr_queue_document(
        &self,
        channel: &str,
        document_key: &str,
        recipient: &str,
        customer_id: Option<uuid::Uuid>,
        call_uuid: Option<uuid::Uuid>,
    ) -> Result<Vars> {
        if !MESSAGE_CHANNELS.contains(&channel) {
            return Err(invalid("channel", "must be fax, sms or email"));
        }
        let doc = document::Entity::find()
            .filter(document::Column::Key.eq(document_key))
            .one(&self.db)
            .await?
            .ok_or_else(|| invalid("document", format!("no document `{document_key}`")))?;
        let recipient = match channel {
            "email" => {
                let mut to = recipient.trim().to_string();
                if to.is_empty()
                    && let Some(c) = customer_id
                {
                    to = self
                        .customer(CustomerId(c))
                        .await?
                        .email
                        .unwrap_or_default();
                }
                if !(to.contains('@') && to.len() <= 254 && !to.contains(char::is_whitespace)) {
                    return Err(invalid("recipient", "not an email address"));
                }
                to
            }
            _ => {
                let p = Phone::parse(recipient, &AreaCode::default())
                    .map_err(|e| invalid("recipient", e.reason))?;
                if channel == "sms" && !p.is_mobile() {
                    return Err(invalid("recipient", "an SMS goes to a mobile number"));
                }
                p.as_str().to_string()
            }
        };
        // A fax carries the document itself (its PDF, or its text rendered by the fax channel).
        let body = if channel == "fax" {
            format!("document:{}", doc.key)
        } else {
            doc.body.clone()
        };
        let tx = self.db.begin().await?;
        let msg = queue_message(
            &tx,
            &Actor::system("ivr"),
            NewMessage {
                channel,
                recipient,
                customer_id,
                document_key: Some(doc.key.clone()),
                subject: Some(doc.title.clone()),
                body,
                call_uuid,
                work_order_id: None,
            },
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        let mut v = Vars::new();
        v.insert("message.id".into(), msg.id.to_string());
        v.insert("message.channel".into(), msg.channel);
        v.insert("message.recipient".into(), msg.recipient);
        Ok(v)
    }

    /// Stores a caller's satisfaction score (`1..=max`, `max` in `2..=10`).
    #[allow(clippy::too_many_arguments)]
    pub async fn ivr_save_survey(
        &self,
        call_uuid: Option<uuid::Uuid>,
        work_order_id: Option<uuid::Uuid>,
        customer_id: Option<uuid::Uuid>,
        flow_id: Option<uuid::Uuid>,
        agent_extension: Option<String>,
        score: i16,
        max: i16,
    ) -> Result<SurveyResponse> {
        let mut errors = FieldErrors::new();
        if !(2..=10).contains(&max) {
            errors.push("max", "must be 2-10");
        } else if !(1..=max).contains(&score) {
            errors.push("score", format!("must be 1-{max}"));
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let tx = self.db.begin().await?;
        let row = survey::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            call_uuid: Set(call_uuid),
            work_order_id: Set(work_order_id),
            customer_id: Set(customer_id),
            flow_id: Set(flow_id),
            agent_extension: Set(agent_extension.filter(|e| !e.is_empty())),
            score: Set(score),
            max_score: Set(max),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await?;
        let saved = survey_from(row);
        audit::record(
            &tx,
            &Actor::system("ivr"),
            "survey.save",
            "survey_response",
            Some(saved.id.to_string()),
            None::<&()>,
            Some(&saved),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Whether calendar `calendar_code` (the SLA engine's calendars) is in working time at `now`.
    pub async fn ivr_is_open(&self, calendar_code: &str, now: DateTime<Utc>) -> Result<bool> {
        let cal = self
            .calendar_by_code(calendar_code)
            .await?
            .ok_or(StoreError::NotFound("calendar"))?;
        Ok(cal.business()?.is_working(now))
    }

    // ---- queues ----

    pub async fn list_queues(&self) -> Result<Vec<Queue>> {
        Ok(queue::Entity::find()
            .order_by_asc(queue::Column::Key)
            .all(&self.db)
            .await?
            .into_iter()
            .map(queue_from)
            .collect())
    }

    pub async fn get_queue_by_key(&self, key: &str) -> Result<Option<Queue>> {
        Ok(queue::Entity::find()
            .filter(queue::Column::Key.eq(key))
            .one(&self.db)
            .await?
            .map(queue_from))
    }

    pub async fn get_queue(&self, id: uuid::Uuid) -> Result<Queue> {
        queue::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(queue_from)
            .ok_or(StoreError::NotFound("queue"))
    }

    /// Members must be existing extension numbers (each once).
    async fn check_members(&self, members: &[String], errors: &mut FieldErrors) -> Result<()> {
        let known: Vec<String> = self
            .extensions()
            .await?
            .into_iter()
            .map(|e| e.number)
            .collect();
        let mut seen = std::collections::HashSet::new();
        for m in members {
            if !known.contains(m) {
                errors.push("members", format!("no extension {m}"));
            } else if !seen.insert(m) {
                errors.push("members", format!("extension {m} is listed twice"));
            }
        }
        if members.len() > 100 {
            errors.push("members", "at most 100 members");
        }
        Ok(())
    }

    /// A queue with the default ACD settings.
    pub async fn create_queue(&self, actor: &Actor, new: NewQueue) -> Result<Queue> {
        self.create_queue_with(actor, new, crate::QueueSettings::default())
            .await
    }

    /// A queue with its ACD settings (each `None` takes the default).
    pub async fn create_queue_with(
        &self,
        actor: &Actor,
        new: NewQueue,
        settings: crate::QueueSettings,
    ) -> Result<Queue> {
        let mut errors = FieldErrors::new();
        check_key(&new.key, &mut errors);
        check_text("name", &new.name, 40, &mut errors);
        check_wait(new.max_wait_secs, &mut errors);
        self.check_members(&new.members, &mut errors).await?;
        // ACD records (store helper): the settings' checks (acd.rs).
        let s = settings.resolve();
        let overflow = self
            .check_queue_settings(
                &new.key,
                &crate::acd::QueueSettingsCheck {
                    strategy: Some(&s.strategy),
                    skill: s.skill.as_deref(),
                    min_level: Some(s.min_level),
                    max_len: Some(s.max_len),
                    overflow: Some(&s.overflow),
                    announce_secs: Some(s.announce_secs),
                    ring_secs: Some(s.ring_secs),
                    wrap_up_secs: Some(s.wrap_up_secs),
                    service_level_secs: Some(s.service_level_secs),
                    calendar: s.calendar.as_deref(),
                },
                &mut errors,
            )
            .await?;
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let row = queue::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            key: Set(new.key),
            name: Set(new.name.trim().to_string()),
            members: Set(json!(new.members)),
            max_wait_secs: Set(new.max_wait_secs),
            active: Set(new.active),
            created_at: Set(now),
            updated_at: Set(now),
            // ACD records (store helper)
            strategy: Set(s.strategy),
            skill: Set(s.skill),
            min_level: Set(i32::from(s.min_level)),
            max_len: Set(i32::try_from(s.max_len).unwrap_or(i32::MAX)),
            overflow: Set(overflow.unwrap_or(s.overflow)),
            announce_secs: Set(i32::try_from(s.announce_secs).unwrap_or(i32::MAX)),
            ring_secs: Set(i32::try_from(s.ring_secs).unwrap_or(i32::MAX)),
            wrap_up_secs: Set(i32::try_from(s.wrap_up_secs).unwrap_or(i32::MAX)),
            service_level_secs: Set(i32::try_from(s.service_level_secs).unwrap_or(i32::MAX)),
            calendar: Set(s.calendar),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a queue with this key"))?;
        let q = queue_from(row);
        audit::record(
            &tx,
            actor,
            "queue.create",
            "queue",
            Some(q.id.to_string()),
            None::<&()>,
            Some(&q),
        )
        .await?;
        tx.commit().await?;
        Ok(q)
    }

    pub async fn update_queue(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        ch: QueueChanges,
    ) -> Result<Queue> {
        let before = self.get_queue(id).await?;
        let mut errors = FieldErrors::new();
        if let Some(n) = &ch.name {
            check_text("name", n, 40, &mut errors);
        }
        if let Some(w) = ch.max_wait_secs {
            check_wait(w, &mut errors);
        }
        if let Some(m) = &ch.members {
            self.check_members(m, &mut errors).await?;
        }
        // ACD records (store helper): the settings' checks (acd.rs).
        let skill = ch.skill.clone().map(|s| s.filter(|s| !s.is_empty()));
        let calendar = ch.calendar.clone().map(|c| c.filter(|c| !c.is_empty()));
        let overflow = self
            .check_queue_settings(
                &before.key,
                &crate::acd::QueueSettingsCheck {
                    strategy: ch.strategy.as_deref(),
                    skill: skill.as_ref().and_then(|s| s.as_deref()),
                    min_level: ch.min_level,
                    max_len: ch.max_len,
                    overflow: ch.overflow.as_ref(),
                    announce_secs: ch.announce_secs,
                    ring_secs: ch.ring_secs,
                    wrap_up_secs: ch.wrap_up_secs,
                    service_level_secs: ch.service_level_secs,
                    calendar: calendar.as_ref().and_then(|c| c.as_deref()),
                },
                &mut errors,
            )
            .await?;
        errors.into_result().map_err(StoreError::Invalid)?;
        let tx = self.db.begin().await?;
        let mut am = queue::ActiveModel {
            id: Set(id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(n) = ch.name {
            am.name = Set(n.trim().to_string());
        }
        if let Some(m) = ch.members {
            am.members = Set(json!(m));
        }
        if let Some(w) = ch.max_wait_secs {
            am.max_wait_secs = Set(w);
        }
        if let Some(a) = ch.active {
            am.active = Set(a);
        }
        // ACD records (store helper)
        let secs = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        if let Some(v) = ch.strategy {
            am.strategy = Set(v);
        }
        if let Some(v) = skill {
            am.skill = Set(v);
        }
        if let Some(v) = ch.min_level {
            am.min_level = Set(i32::from(v));
        }
        if let Some(v) = ch.max_len {
            am.max_len = Set(secs(v));
        }
        if let Some(v) = overflow {
            am.overflow = Set(v);
        }
        if let Some(v) = ch.announce_secs {
            am.announce_secs = Set(secs(v));
        }
        if let Some(v) = ch.ring_secs {
            am.ring_secs = Set(secs(v));
        }
        if let Some(v) = ch.wrap_up_secs {
            am.wrap_up_secs = Set(secs(v));
        }
        if let Some(v) = ch.service_level_secs {
            am.service_level_secs = Set(secs(v));
        }
        if let Some(v) = calendar {
            am.calendar = Set(v);
        }
        let after = queue_from(am.update(&tx).await?);
        audit::record(
            &tx,
            actor,
            "queue.update",
            "queue",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ---- documents ----

    pub async fn list_documents(&self) -> Result<Vec<Document>> {
        Ok(document::Entity::find()
            .order_by_asc(document::Column::Key)
            .all(&self.db)
            .await?
            .into_iter()
            .map(document_from)
            .collect())
    }

    pub async fn get_document(&self, id: uuid::Uuid) -> Result<Document> {
        document::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(document_from)
            .ok_or(StoreError::NotFound("document"))
    }

    pub async fn get_document_by_key(&self, key: &str) -> Result<Option<Document>> {
        Ok(document::Entity::find()
            .filter(document::Column::Key.eq(key))
            .one(&self.db)
            .await?
            .map(document_from))
    }

    /// The PDF of document `key`, if it has one (for the fax and email channels).
    pub async fn document_file(&self, key: &str) -> Result<Option<DocumentFile>> {
        Ok(document::Entity::find()
            .filter(document::Column::Key.eq(key))
            .one(&self.db)
            .await?
            .and_then(|d| {
                Some(DocumentFile {
                    name: d.file_name.unwrap_or_else(|| format!("{}.pdf", d.key)),
                    content: d.file?,
                })
            }))
    }

    pub async fn create_document(&self, actor: &Actor, new: NewDocument) -> Result<Document> {
        let mut errors = FieldErrors::new();
        check_key(&new.key, &mut errors);
        check_text("title", &new.title, 80, &mut errors);
        check_text("body", &new.body, 4000, &mut errors);
        if let Some(f) = &new.file {
            check_file(f, &mut errors);
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let (file, file_name) = match new.file {
            Some(f) => (Some(f.content), Some(f.name.trim().to_string())),
            None => (None, None),
        };
        let row = document::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            key: Set(new.key),
            title: Set(new.title.trim().to_string()),
            body: Set(new.body.trim().to_string()),
            file: Set(file),
            file_name: Set(file_name),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a document with this key"))?;
        let d = document_from(row);
        audit::record(
            &tx,
            actor,
            "ivr_document.create",
            "ivr_document",
            Some(d.id.to_string()),
            None::<&()>,
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn update_document(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        ch: DocumentChanges,
    ) -> Result<Document> {
        let before = self.get_document(id).await?;
        let mut errors = FieldErrors::new();
        if let Some(t) = &ch.title {
            check_text("title", t, 80, &mut errors);
        }
        if let Some(b) = &ch.body {
            check_text("body", b, 4000, &mut errors);
        }
        if let Some(Some(f)) = &ch.file {
            check_file(f, &mut errors);
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let tx = self.db.begin().await?;
        let mut am = document::ActiveModel {
            id: Set(id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(t) = ch.title {
            am.title = Set(t.trim().to_string());
        }
        if let Some(b) = ch.body {
            am.body = Set(b.trim().to_string());
        }
        match ch.file {
            Some(Some(f)) => {
                am.file = Set(Some(f.content));
                am.file_name = Set(Some(f.name.trim().to_string()));
            }
            Some(None) => {
                am.file = Set(None);
                am.file_name = Set(None);
            }
            None => {}
        }
        let after = document_from(am.update(&tx).await?);
        audit::record(
            &tx,
            actor,
            "ivr_document.update",
            "ivr_document",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ---- the outbox and survey answers ----

    /// Messages, newest first.
    pub async fn list_outbound_messages(
        &self,
        q: &OutboundQuery,
        page: PageRequest,
    ) -> Result<Page<OutboundMessage>> {
        let mut cond = Condition::all();
        if let Some(c) = &q.channel {
            cond = cond.add(outbound::Column::Channel.eq(c.as_str()));
        }
        if let Some(s) = &q.status {
            cond = cond.add(outbound::Column::Status.eq(s.as_str()));
        }
        if let Some(c) = q.call_uuid {
            cond = cond.add(outbound::Column::CallUuid.eq(c));
        }
        if let Some(w) = q.work_order_id {
            cond = cond.add(outbound::Column::WorkOrderId.eq(w));
        }
        let sel = outbound::Entity::find().filter(cond);
        let total = sel.clone().count(&self.db).await?;
        let items = sel
            .order_by_desc(outbound::Column::CreatedAt)
            .order_by_desc(outbound::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?
            .into_iter()
            .map(outbound_from)
            .collect();
        Ok(Page {
            items,
            total,
            page: page.page.max(1),
            per_page: page.per_page,
        })
    }

    /// Survey answers, newest first.
    pub async fn list_survey_responses(
        &self,
        q: &SurveyQuery,
        page: PageRequest,
    ) -> Result<Page<SurveyResponse>> {
        let mut cond = Condition::all();
        if let Some(c) = q.call_uuid {
            cond = cond.add(survey::Column::CallUuid.eq(c));
        }
        if let Some(w) = q.work_order_id {
            cond = cond.add(survey::Column::WorkOrderId.eq(w));
        }
        let sel = survey::Entity::find().filter(cond);
        let total = sel.clone().count(&self.db).await?;
        let items = sel
            .order_by_desc(survey::Column::CreatedAt)
            .order_by_desc(survey::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?
            .into_iter()
            .map(survey_from)
            .collect();
        Ok(Page {
            items,
            total,
            page: page.page.max(1),
            per_page: page.per_page,
        })
    }
}

fn check_wait(secs: i32, errors: &mut FieldErrors) {
    if !(10..=3600).contains(&secs) {
        errors.push("max_wait_secs", "must be 10-3600 seconds");
    }
}
