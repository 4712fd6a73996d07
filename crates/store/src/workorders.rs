//! Work orders: creating them (numbered per day, idempotent), acting on them (the lifecycle of
//! `kefu_workorders`, optimistic concurrency, the timeline, notifications in the same transaction),
//! finding them, the customers' status query, and the SLA sweep.
//!
//! Every change to an order is one transaction that checks the version the caller saw, writes the
//! row with version + 1, appends one timeline event, queues its notifications and appends its audit
//! entry: a change is all of these or none.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::{
    AttachmentId, CustomerId, FieldErrors, Role, UnitId, UserId, WorkOrderEventId, WorkOrderId,
    WorkOrderTypeId,
};
use kefu_workorders::sla::{SlaClock, SlaEvent, SlaEventKind, SlaTarget};
use kefu_workorders::{Action, Channel, Facts, Form, Priority, Status, Who, WorkOrderNo};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::entities::{
    customer, customer_phone, idempotency_key, unit, user, work_order, work_order_event,
};
use crate::notifications::{NewNotification, Recipients, enqueue};
use crate::{
    Actor, Backend, Page, PageRequest, Result, Store, StoreError, WorkOrderType, audit,
    contains_pattern,
};

/// Someone (or kefu itself) acting on an order: their role and unit decide what the lifecycle allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acting {
    pub user_id: Option<UserId>,
    /// `None`: kefu itself (the SLA sweep, the IVR).
    pub role: Option<Role>,
    pub unit_id: Option<UnitId>,
}

impl Acting {
    pub fn system() -> Acting {
        Acting {
            user_id: None,
            role: None,
            unit_id: None,
        }
    }

    fn who(&self, order_unit: Option<uuid::Uuid>) -> Who {
        match self.role {
            Some(role) => Who::person(
                role,
                order_unit.is_some() && order_unit == self.unit_id.map(|u| u.0),
            ),
            None => Who::system(),
        }
    }

    /// Site staff see only the orders of their own unit.
    pub fn restricted_to_unit(&self) -> Option<UnitId> {
        match self.role {
            Some(Role::SiteStaff) => Some(self.unit_id.unwrap_or(UnitId(uuid::Uuid::nil()))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedRef {
    pub id: uuid::Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRef {
    pub id: CustomerId,
    pub customer_no: String,
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Feedback {
    pub result: String,
    pub cause: Option<String>,
    pub materials: Option<String>,
    pub attachments: Vec<AttachmentId>,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkOrder {
    pub id: WorkOrderId,
    pub no: String,
    pub type_id: WorkOrderTypeId,
    pub type_name: String,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub origin_kind: Option<String>,
    pub origin_ref: Option<String>,
    pub customer: Option<CustomerRef>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    pub fields: Map<String, Value>,
    pub unit: Option<NamedRef>,
    pub assignee: Option<NamedRef>,
    pub created_by: Option<NamedRef>,
    pub sla: SlaClock,
    pub due_at: Option<DateTime<Utc>>,
    pub breached: bool,
    pub urge_count: i32,
    pub customer_query_count: i32,
    pub feedback: Option<Feedback>,
    pub satisfaction: Option<i16>,
    pub merged_into: Option<WorkOrderId>,
    pub closed_at: Option<DateTime<Utc>>,
    pub callback_required: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WorkOrder {
    pub fn facts(&self) -> Facts {
        Facts {
            callback_required: self.callback_required,
            has_unit: self.unit.is_some(),
        }
    }

    /// Whether an open order has passed a deadline at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at.is_some_and(|d| d <= now)
    }

    /// The actions `acting` may take now.
    pub fn allowed_actions(&self, acting: &Acting) -> Vec<Action> {
        kefu_workorders::allowed_actions(
            self.status,
            acting.who(self.unit.as_ref().map(|u| u.id)),
            self.facts(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkOrderEvent {
    pub id: WorkOrderEventId,
    pub action: Action,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    pub note: Option<String>,
    pub data: Option<Value>,
    pub at: DateTime<Utc>,
}

/// A row of a work-order list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkOrderSummary {
    pub id: WorkOrderId,
    pub no: String,
    pub type_id: WorkOrderTypeId,
    pub type_name: String,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub title: String,
    pub customer_id: Option<CustomerId>,
    pub customer_no: Option<String>,
    pub customer_name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub assignee_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub breached: bool,
    pub urge_count: i32,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewWorkOrder {
    pub type_id: WorkOrderTypeId,
    pub channel: Channel,
    pub origin_kind: Option<String>,
    pub origin_ref: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub contact_name: Option<String>,
    /// Canonical (kefu_domain::Phone).
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    /// Raw values: checked here against the type's form.
    pub fields: Value,
    /// `None`: the type's rules decide.
    pub priority: Option<Priority>,
    /// Dispatch at once to this unit.
    pub unit_id: Option<UnitId>,
    pub assignee_id: Option<UserId>,
}

/// A create request's idempotency key: the same `key` from the same `owner` returns the first order;
/// with a different `request_hash` it is refused.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub owner: String,
    pub key: String,
    pub request_hash: String,
}

/// What a create returned: the order, and whether it was made by an earlier request with the same key.
#[derive(Debug, Clone)]
pub struct Created {
    pub order: WorkOrder,
    pub replayed: bool,
}

/// Edits of an open order's content (not its status).
#[derive(Debug, Clone, Default)]
pub struct WorkOrderChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Option<Value>,
    pub priority: Option<Priority>,
    pub contact_name: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
}

/// An action with what it needs.
#[derive(Debug, Clone)]
pub enum Act {
    Dispatch {
        unit_id: UnitId,
        assignee_id: Option<UserId>,
    },
    Reassign {
        unit_id: UnitId,
        assignee_id: Option<UserId>,
    },
    Accept,
    Progress,
    WaitCustomer,
    Resume,
    SubmitFeedback {
        result: String,
        cause: Option<String>,
        materials: Option<String>,
        attachments: Vec<AttachmentId>,
    },
    ReturnForRework,
    Close,
    Callback {
        satisfaction: u8,
    },
    Archive,
    Reopen,
    Cancel {
        reason: String,
    },
    Merge {
        into: WorkOrderId,
    },
    Urge {
        by_customer: bool,
    },
    Comment,
    Update(WorkOrderChanges),
    CustomerQuery {
        channel: Channel,
    },
}

impl Act {
    pub fn action(&self) -> Action {
        match self {
            Act::Dispatch { .. } => Action::Dispatch,
            Act::Reassign { .. } => Action::Reassign,
            Act::Accept => Action::Accept,
            Act::Progress => Action::Progress,
            Act::WaitCustomer => Action::WaitCustomer,
            Act::Resume => Action::Resume,
            Act::SubmitFeedback { .. } => Action::SubmitFeedback,
            Act::ReturnForRework => Action::ReturnForRework,
            Act::Close => Action::Close,
            Act::Callback { .. } => Action::Callback,
            Act::Archive => Action::Archive,
            Act::Reopen => Action::Reopen,
            Act::Cancel { .. } => Action::Cancel,
            Act::Merge { .. } => Action::Merge,
            Act::Urge { .. } => Action::Urge,
            Act::Comment => Action::Comment,
            Act::Update(_) => Action::Update,
            Act::CustomerQuery { .. } => Action::CustomerQuery,
        }
    }
}

/// Filters of a work-order list. Empty: every order, newest first.
#[derive(Debug, Clone, Default)]
pub struct WorkOrderQuery {
    /// A number, digits of one, or text found in title, description and address.
    pub q: Option<String>,
    pub no: Option<String>,
    pub customer_id: Option<CustomerId>,
    /// Canonical phone: the contact phone or one of the customer's phones.
    pub phone: Option<String>,
    pub type_id: Option<WorkOrderTypeId>,
    pub statuses: Vec<Status>,
    /// Only open orders (work remains).
    pub open: bool,
    pub unit_id: Option<UnitId>,
    pub assignee_id: Option<UserId>,
    pub priority: Option<Priority>,
    /// Open orders whose earliest unmet deadline has passed at this instant, most overdue first.
    pub overdue_at: Option<DateTime<Utc>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Site staff: only this unit's orders, whatever else is asked.
    pub restrict_unit: Option<UnitId>,
}

/// How a customer proves who they are to the status-query service: an order number with the phone or
/// customer number on it, or a customer number with one of the customer's phones.
#[derive(Debug, Clone, Default)]
pub struct CustomerIdentity {
    pub no: Option<WorkOrderNo>,
    pub customer_no: Option<String>,
    pub phone: Option<String>,
}

/// What a customer may learn about their order: nothing internal (no notes, no staff names).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    pub no: String,
    pub type_name: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the order is due to be resolved, if it is open and has a deadline.
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// What an SLA sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub examined: usize,
    pub reminders: usize,
    pub breaches: usize,
    pub reassigned: usize,
}

const MAX_TITLE: usize = 100;
const MAX_DESCRIPTION: usize = 4000;
const MAX_NOTE: usize = 2000;

fn text(field: &str, v: &str, min: usize, max: usize, errors: &mut FieldErrors) -> Option<String> {
    errors.check(field, kefu_domain::bounded_text(v, min, max))
}

fn opt_text(
    field: &str,
    v: Option<&str>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => text(field, s, 1, max, errors).map(Some),
    }
}

/// Checks a free-text note of an action (`note`).
pub fn check_note(note: Option<&str>) -> std::result::Result<Option<String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let out = opt_text("note", note, MAX_NOTE, &mut errors);
    errors.into_result().map(|()| out.flatten())
}

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    let mut e = FieldErrors::new();
    e.push(field, reason);
    StoreError::Invalid(e)
}

fn json_of<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializable")
}

fn clock_of(v: &Value) -> Result<SlaClock> {
    serde_json::from_value(v.clone())
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("stored SLA clock: {e}"))))
}

impl Store {
    /// A transaction that writes: on SQLite it takes the write lock at `BEGIN IMMEDIATE` (waiting
    /// for it within the busy timeout), so it can never fail later with SQLITE_BUSY when a reader
    /// turns writer under concurrency; PostgreSQL ignores the mode.
    async fn begin_write(&self) -> Result<DatabaseTransaction> {
        Ok(self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    /// Creates an order: checks its form against the type, numbers it (`GD` + `day` + sequence),
    /// starts its SLA clock, and dispatches it when a unit is given. With an idempotency key, a retry
    /// returns the first order instead of a second one.
    pub async fn create_work_order(
        &self,
        actor: &Actor,
        acting: &Acting,
        new: NewWorkOrder,
        key: Option<IdempotencyKey>,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Created> {
        if let Some(k) = &key
            && let Some(existing) = self.replay(k).await?
        {
            return Ok(Created {
                order: existing,
                replayed: true,
            });
        }
        let ty = self
            .work_order_type(new.type_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => invalid("type_id", "no such work-order type"),
                e => e,
            })?;
        if !ty.active {
            return Err(invalid(
                "type_id",
                "this work-order type is no longer in use",
            ));
        }
        let calendar = self.calendar_for(&ty).await?;
        let mut errors = FieldErrors::new();
        let title = text("title", &new.title, 1, MAX_TITLE, &mut errors);
        let description = text(
            "description",
            &new.description,
            1,
            MAX_DESCRIPTION,
            &mut errors,
        );
        let contact_name = opt_text("contact_name", new.contact_name.as_deref(), 40, &mut errors);
        let address = opt_text("address", new.address.as_deref(), 200, &mut errors);
        let fields = match ty.form.check(&new.fields) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        errors.into_result().map_err(StoreError::Invalid)?;
        let (title, description, contact_name, address, fields) = (
            title.expect("checked"),
            description.expect("checked"),
            contact_name.expect("checked"),
            address.expect("checked"),
            fields.expect("checked"),
        );
        let priority = new
            .priority
            .unwrap_or_else(|| Form::priority(&ty.priority_rules, &fields, ty.default_priority));

        let tx = self.begin_write().await?;
        let seq = next_seq(&tx, self.backend, day).await?;
        if let Some(c) = new.customer_id {
            customer::Entity::find_by_id(c.0)
                .one(&tx)
                .await?
                .ok_or_else(|| invalid("customer_id", "no such customer"))?;
        }
        for c in ty.form.customer_ids(&fields) {
            customer::Entity::find_by_id(c)
                .one(&tx)
                .await?
                .ok_or_else(|| invalid("fields", format!("no customer with id {c}")))?;
        }
        if let Some(u) = new.unit_id {
            check_unit(&tx, u, "unit_id").await?;
        }
        if let Some(a) = new.assignee_id {
            check_assignee(&tx, a, new.unit_id).await?;
        }
        let no = WorkOrderNo::new(day, seq);
        let id = WorkOrderId::new();
        let mut clock = SlaClock::start(&ty.sla, priority, &calendar, now);
        let status = if new.unit_id.is_some() {
            clock.dispatched(&ty.sla, priority, &calendar, now);
            Status::Dispatched
        } else {
            Status::New
        };
        let model = work_order::ActiveModel {
            id: Set(id.0),
            no: Set(no.as_str().to_string()),
            type_id: Set(ty.id.0),
            status: Set(status.as_str().into()),
            priority: Set(priority.as_str().into()),
            priority_rank: Set(priority.rank() as i16),
            channel: Set(new.channel.as_str().into()),
            origin_kind: Set(new.origin_kind.clone()),
            origin_ref: Set(new.origin_ref.clone()),
            customer_id: Set(new.customer_id.map(|c| c.0)),
            contact_name: Set(contact_name),
            contact_phone: Set(new.contact_phone.clone()),
            address: Set(address),
            title: Set(title),
            description: Set(description),
            fields: Set(Value::Object(fields.clone())),
            unit_id: Set(new.unit_id.map(|u| u.0)),
            assignee_id: Set(new.assignee_id.map(|u| u.0)),
            created_by: Set(acting.user_id.map(|u| u.0)),
            sla: Set(json_of(&clock)),
            due_at: Set(clock.due_at()),
            next_sla_at: Set(clock.next_check_at(&ty.sla, &calendar)),
            breached: Set(false),
            urge_count: Set(0),
            customer_query_count: Set(0),
            feedback: Set(None),
            satisfaction: Set(None),
            merged_into: Set(None),
            closed_at: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        model.insert(&tx).await?;
        event(
            &tx,
            id,
            Action::Create,
            None,
            Status::New,
            actor,
            None,
            None,
            now,
        )
        .await?;
        if let Some(u) = new.unit_id {
            event(
                &tx,
                id,
                Action::Dispatch,
                Some(Status::New),
                Status::Dispatched,
                actor,
                None,
                Some(json!({"unit_id": u})),
                now,
            )
            .await?;
            enqueue(
                &tx,
                &NewNotification {
                    event: "work_order.dispatched".into(),
                    work_order_id: Some(id.0),
                    recipients: Recipients::Unit(u),
                    title: format!("新工单 {no}"),
                    body: format!("{}：{}", ty.name, new.title.trim()),
                    payload: json!({"no": no.as_str(), "priority": priority}),
                },
                now,
            )
            .await?;
        }
        let attachments: Vec<AttachmentId> = ty
            .form
            .attachment_ids(&fields)
            .into_iter()
            .map(AttachmentId)
            .collect();
        crate::attachments::link_attachments(&tx, id, &attachments, acting.user_id).await?;
        if let Some(k) = &key {
            let inserted = idempotency_key::ActiveModel {
                owner: Set(k.owner.clone()),
                key: Set(k.key.clone()),
                request_hash: Set(k.request_hash.clone()),
                work_order_id: Set(id.0),
                created_at: Set(now),
            }
            .insert(&tx)
            .await;
            if let Err(e) = inserted {
                // Another request with the same key won the race: give its order back.
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) {
                    tx.rollback().await?;
                    if let Some(existing) = self.replay(k).await? {
                        return Ok(Created {
                            order: existing,
                            replayed: true,
                        });
                    }
                }
                return Err(StoreError::Db(e));
            }
        }
        audit::record(
            &tx,
            actor,
            "work_order.create",
            "work_order",
            Some(id.to_string()),
            None::<&()>,
            Some(&json!({"no": no.as_str(), "type": ty.code, "status": status, "unit_id": new.unit_id})),
        )
        .await?;
        tx.commit().await?;
        Ok(Created {
            order: self.work_order(id).await?,
            replayed: false,
        })
    }

    async fn replay(&self, k: &IdempotencyKey) -> Result<Option<WorkOrder>> {
        let found = idempotency_key::Entity::find_by_id((k.owner.clone(), k.key.clone()))
            .one(&self.db)
            .await?;
        match found {
            None => Ok(None),
            Some(row) if row.request_hash == k.request_hash => {
                Ok(Some(self.work_order(WorkOrderId(row.work_order_id)).await?))
            }
            Some(_) => Err(invalid(
                "Idempotency-Key",
                "this key was already used for a different request",
            )),
        }
    }

    pub async fn work_order(&self, id: WorkOrderId) -> Result<WorkOrder> {
        let row = work_order::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("work order"))?;
        self.hydrate(&self.db, row).await
    }

    pub async fn work_order_by_no(&self, no: &WorkOrderNo) -> Result<WorkOrder> {
        let row = work_order::Entity::find()
            .filter(work_order::Column::No.eq(no.as_str()))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("work order"))?;
        self.hydrate(&self.db, row).await
    }

    async fn hydrate(&self, db: &impl ConnectionTrait, m: work_order::Model) -> Result<WorkOrder> {
        let ty = self.work_order_type(WorkOrderTypeId(m.type_id)).await?;
        let customer = match m.customer_id {
            Some(c) => customer_ref(db, c).await?,
            None => None,
        };
        let unit = match m.unit_id {
            Some(u) => unit::Entity::find_by_id(u)
                .one(db)
                .await?
                .map(|u| NamedRef {
                    id: u.id,
                    name: u.name,
                }),
            None => None,
        };
        let user_ref = |id: Option<uuid::Uuid>| async move {
            match id {
                Some(u) => {
                    Ok::<_, StoreError>(user::Entity::find_by_id(u).one(db).await?.map(|u| {
                        NamedRef {
                            id: u.id,
                            name: u.display_name,
                        }
                    }))
                }
                None => Ok(None),
            }
        };
        let assignee = user_ref(m.assignee_id).await?;
        let created_by = user_ref(m.created_by).await?;
        let stored = |v: &str| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "stored work-order value {v:?}"
            )))
        };
        Ok(WorkOrder {
            id: WorkOrderId(m.id),
            no: m.no,
            type_id: ty.id,
            type_name: ty.name,
            status: Status::parse(&m.status).map_err(|_| stored(&m.status))?,
            priority: Priority::parse(&m.priority).map_err(|_| stored(&m.priority))?,
            channel: Channel::parse(&m.channel).map_err(|_| stored(&m.channel))?,
            origin_kind: m.origin_kind,
            origin_ref: m.origin_ref,
            customer,
            contact_name: m.contact_name,
            contact_phone: m.contact_phone,
            address: m.address,
            title: m.title,
            description: m.description,
            fields: match m.fields {
                Value::Object(o) => o,
                _ => Map::new(),
            },
            unit,
            assignee,
            created_by,
            sla: clock_of(&m.sla)?,
            due_at: m.due_at,
            breached: m.breached,
            urge_count: m.urge_count,
            customer_query_count: m.customer_query_count,
            feedback: m.feedback.and_then(|f| serde_json::from_value(f).ok()),
            satisfaction: m.satisfaction,
            merged_into: m.merged_into.map(WorkOrderId),
            closed_at: m.closed_at,
            callback_required: ty.callback_required,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// The timeline, oldest first.
    pub async fn work_order_events(&self, id: WorkOrderId) -> Result<Vec<WorkOrderEvent>> {
        let rows = work_order_event::Entity::find()
            .filter(work_order_event::Column::WorkOrderId.eq(id.0))
            .order_by_asc(work_order_event::Column::At)
            .order_by_asc(work_order_event::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(WorkOrderEvent {
                    id: WorkOrderEventId(r.id),
                    action: Action::parse(&r.action).ok()?,
                    from_status: r.from_status.and_then(|s| Status::parse(&s).ok()),
                    to_status: Status::parse(&r.to_status).ok()?,
                    actor_id: r.actor_id.map(UserId),
                    actor_name: r.actor_name,
                    note: r.note,
                    data: r.data,
                    at: r.at,
                })
            })
            .collect())
    }

    // The arguments are what an action is: who (for the audit log and for the lifecycle), on what, based
    // on which version, doing what, saying what, when.
    #[allow(clippy::too_many_arguments)]
    /// Takes one action on an order, if the lifecycle allows it for `acting` and the order is still
    /// at `expected_version` (`None`: kefu's own actions, which never overwrite a person's change
    /// because they run in the same serialized transaction).
    pub async fn act_on_work_order(
        &self,
        actor: &Actor,
        acting: &Acting,
        id: WorkOrderId,
        expected_version: Option<i32>,
        act: Act,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder> {
        // The type (which never changes for an order) and its calendar are read before the
        // transaction: reading them on another pooled connection while holding the write lock
        // would let writers waiting for the lock starve the pool of the connection it needs.
        let type_id: uuid::Uuid = work_order::Entity::find_by_id(id.0)
            .select_only()
            .column(work_order::Column::TypeId)
            .into_tuple()
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("work order"))?;
        let ty = self.work_order_type(WorkOrderTypeId(type_id)).await?;
        let calendar = self.calendar_for(&ty).await?;
        let tx = self.begin_write().await?;
        lock_order(&tx, id.0).await?;
        let row = work_order::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("work order"))?;
        if let Some(unit) = acting.restricted_to_unit()
            && row.unit_id != Some(unit.0)
        {
            return Err(StoreError::NotFound("work order"));
        }
        if let Some(v) = expected_version
            && v != row.version
        {
            return Err(StoreError::Conflict(format!(
                "work order {} was changed by someone else since you loaded it (you have version {v}, it is now at version {}); reload it and try again",
                row.no, row.version
            )));
        }
        let status = Status::parse(&row.status)
            .map_err(|_| StoreError::Db(sea_orm::DbErr::Custom("stored status".into())))?;
        let facts = Facts {
            callback_required: ty.callback_required,
            has_unit: row.unit_id.is_some(),
        };
        let action = act.action();
        let to =
            kefu_workorders::next(status, action, acting.who(row.unit_id), facts).map_err(|e| {
                match e {
                    kefu_workorders::TransitionError::NotNow { .. } => {
                        StoreError::Conflict(e.to_string())
                    }
                    kefu_workorders::TransitionError::NotYours { .. } => {
                        StoreError::Forbidden(e.to_string())
                    }
                }
            })?;
        let priority = Priority::parse(&row.priority).unwrap_or(Priority::Normal);
        let mut clock = clock_of(&row.sla)?;
        let mut m: work_order::ActiveModel = row.clone().into();
        let mut data: Option<Value> = None;
        let mut notices: Vec<NewNotification> = Vec::new();
        let no = row.no.clone();
        let notice =
            |event: &str, recipients: Recipients, title: String, body: String| NewNotification {
                event: event.into(),
                work_order_id: Some(id.0),
                recipients,
                title,
                body,
                payload: json!({"no": no}),
            };
        let creator = row.created_by.map(|u| Recipients::Users(vec![UserId(u)]));
        match &act {
            Act::Dispatch {
                unit_id,
                assignee_id,
            }
            | Act::Reassign {
                unit_id,
                assignee_id,
            } => {
                check_unit(&tx, *unit_id, "unit_id").await?;
                if let Some(a) = assignee_id {
                    check_assignee(&tx, *a, Some(*unit_id)).await?;
                }
                if status.pauses_sla() {
                    clock.resume(&calendar, now);
                }
                m.unit_id = Set(Some(unit_id.0));
                m.assignee_id = Set(assignee_id.map(|a| a.0));
                clock.dispatched(&ty.sla, priority, &calendar, now);
                data = Some(json!({"unit_id": unit_id, "from_unit_id": row.unit_id}));
                notices.push(notice(
                    "work_order.dispatched",
                    Recipients::Unit(*unit_id),
                    format!("新工单 {no}"),
                    row.title.clone(),
                ));
            }
            Act::Accept => {
                clock.met(SlaTarget::Accept, now);
                if row.assignee_id.is_none() {
                    m.assignee_id = Set(acting.user_id.map(|u| u.0));
                }
                if let Some(r) = creator.clone() {
                    notices.push(notice(
                        "work_order.accepted",
                        r,
                        format!("工单 {no} 已接单"),
                        row.title.clone(),
                    ));
                }
            }
            Act::WaitCustomer => clock.pause(now),
            Act::Resume => clock.resume(&calendar, now),
            Act::SubmitFeedback {
                result,
                cause,
                materials,
                attachments,
            } => {
                let mut errors = FieldErrors::new();
                let result = text("feedback.result", result, 1, MAX_DESCRIPTION, &mut errors);
                let cause = opt_text("feedback.cause", cause.as_deref(), 1000, &mut errors);
                let materials = opt_text(
                    "feedback.materials",
                    materials.as_deref(),
                    1000,
                    &mut errors,
                );
                errors.into_result().map_err(StoreError::Invalid)?;
                crate::attachments::link_attachments(&tx, id, attachments, acting.user_id).await?;
                clock.met(SlaTarget::FirstFeedback, now);
                let fb = Feedback {
                    result: result.expect("checked"),
                    cause: cause.expect("checked"),
                    materials: materials.expect("checked"),
                    attachments: attachments.clone(),
                    submitted_at: now,
                    submitted_by: display_name(&tx, actor).await?,
                };
                data = Some(json_of(&fb));
                m.feedback = Set(Some(json_of(&fb)));
                if let Some(r) = creator.clone() {
                    notices.push(notice(
                        "work_order.feedback",
                        r,
                        format!("工单 {no} 已反馈"),
                        fb.result.clone(),
                    ));
                }
            }
            Act::ReturnForRework => {
                if let Some(u) = row.unit_id {
                    notices.push(notice(
                        "work_order.returned",
                        Recipients::Unit(UnitId(u)),
                        format!("工单 {no} 被退回重办"),
                        note.clone().unwrap_or_default(),
                    ));
                }
            }
            Act::Close => {
                clock.met(SlaTarget::Resolve, now);
                m.closed_at = Set(Some(now));
            }
            Act::Callback { satisfaction } => {
                if !(1..=5).contains(satisfaction) {
                    return Err(invalid(
                        "satisfaction",
                        "must be 1 (very dissatisfied) to 5 (very satisfied)",
                    ));
                }
                m.satisfaction = Set(Some(*satisfaction as i16));
                data = Some(json!({"satisfaction": satisfaction}));
            }
            Act::Archive | Act::Progress | Act::Comment => {}
            Act::Reopen => {
                m.closed_at = Set(None);
                m.breached = Set(false);
                clock = SlaClock::start(&ty.sla, priority, &calendar, now);
                if to == Status::Dispatched {
                    clock.dispatched(&ty.sla, priority, &calendar, now);
                    if let Some(u) = row.unit_id {
                        notices.push(notice(
                            "work_order.reopened",
                            Recipients::Unit(UnitId(u)),
                            format!("工单 {no} 重新打开"),
                            note.clone().unwrap_or_default(),
                        ));
                    }
                }
            }
            Act::Cancel { reason } => {
                let mut errors = FieldErrors::new();
                let reason = text("reason", reason, 1, MAX_NOTE, &mut errors);
                errors.into_result().map_err(StoreError::Invalid)?;
                data = Some(json!({"reason": reason}));
                m.closed_at = Set(Some(now));
            }
            Act::Merge { into } => {
                if *into == id {
                    return Err(invalid("into", "an order cannot be merged into itself"));
                }
                let target = work_order::Entity::find_by_id(into.0)
                    .one(&tx)
                    .await?
                    .ok_or_else(|| invalid("into", "no such work order"))?;
                if !Status::parse(&target.status).is_ok_and(Status::is_open) {
                    return Err(invalid("into", "the order to merge into is no longer open"));
                }
                m.merged_into = Set(Some(into.0));
                m.closed_at = Set(Some(now));
                data = Some(json!({"into": target.no}));
            }
            Act::Urge { by_customer } => {
                m.urge_count = Set(row.urge_count + 1);
                data = Some(json!({"by_customer": by_customer, "count": row.urge_count + 1}));
                if let Some(u) = row.unit_id {
                    notices.push(notice(
                        "work_order.urged",
                        Recipients::Unit(UnitId(u)),
                        format!("催办：工单 {no}"),
                        note.clone().unwrap_or_else(|| row.title.clone()),
                    ));
                }
            }
            Act::CustomerQuery { channel } => {
                m.customer_query_count = Set(row.customer_query_count + 1);
                data = Some(json!({"channel": channel}));
            }
            Act::Update(ch) => {
                let before = json!({"title": row.title, "priority": row.priority});
                let mut errors = FieldErrors::new();
                if let Some(t) = &ch.title
                    && let Some(t) = text("title", t, 1, MAX_TITLE, &mut errors)
                {
                    m.title = Set(t);
                }
                if let Some(d) = &ch.description
                    && let Some(d) = text("description", d, 1, MAX_DESCRIPTION, &mut errors)
                {
                    m.description = Set(d);
                }
                if let Some(n) = &ch.contact_name
                    && let Some(n) = opt_text("contact_name", n.as_deref(), 40, &mut errors)
                {
                    m.contact_name = Set(n);
                }
                if let Some(p) = &ch.contact_phone {
                    m.contact_phone = Set(p.clone());
                }
                if let Some(a) = &ch.address
                    && let Some(a) = opt_text("address", a.as_deref(), 200, &mut errors)
                {
                    m.address = Set(a);
                }
                if let Some(f) = &ch.fields {
                    match ty.form.check(f) {
                        Ok(f) => {
                            let ids: Vec<AttachmentId> = ty
                                .form
                                .attachment_ids(&f)
                                .into_iter()
                                .map(AttachmentId)
                                .collect();
                            crate::attachments::link_attachments(&tx, id, &ids, acting.user_id)
                                .await?;
                            m.fields = Set(Value::Object(f));
                        }
                        Err(e) => errors.0.extend(e.0),
                    }
                }
                errors.into_result().map_err(StoreError::Invalid)?;
                if let Some(p) = ch.priority
                    && p != priority
                {
                    m.priority = Set(p.as_str().into());
                    m.priority_rank = Set(p.rank() as i16);
                    clock.reprioritize(&ty.sla, p, &calendar, now);
                }
                data = Some(json!({"before": before}));
            }
        }
        if to.pauses_sla() && !status.pauses_sla() && !matches!(act, Act::WaitCustomer) {
            clock.pause(now);
        }
        if !to.is_open() {
            m.due_at = Set(None);
            m.next_sla_at = Set(None);
        } else {
            m.due_at = Set(if to.pauses_sla() {
                None
            } else {
                clock.due_at()
            });
            m.next_sla_at = Set(if to.pauses_sla() {
                None
            } else {
                clock.next_check_at(&ty.sla, &calendar)
            });
        }
        m.sla = Set(json_of(&clock));
        m.status = Set(to.as_str().into());
        m.version = Set(row.version + 1);
        m.updated_at = Set(now);
        let updated = work_order::Entity::update_many()
            .set(m)
            .filter(work_order::Column::Id.eq(id.0))
            .filter(work_order::Column::Version.eq(row.version))
            .exec(&tx)
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::Conflict(format!(
                "work order {no} was changed by someone else at the same moment; reload it and try again"
            )));
        }
        event(
            &tx,
            id,
            action,
            Some(status),
            to,
            actor,
            note.as_deref(),
            data,
            now,
        )
        .await?;
        for n in &notices {
            enqueue(&tx, n, now).await?;
        }
        audit::record(
            &tx,
            actor,
            &format!("work_order.{}", action.as_str()),
            "work_order",
            Some(id.to_string()),
            Some(&json!({"status": status, "version": row.version})),
            Some(&json!({"status": to, "version": row.version + 1})),
        )
        .await?;
        tx.commit().await?;
        self.work_order(id).await
    }

    /// A page of orders matching `q`: newest first, or most overdue first for an overdue list.
    pub async fn work_orders(
        &self,
        q: &WorkOrderQuery,
        page: PageRequest,
    ) -> Result<Page<WorkOrderSummary>> {
        let cond = self.condition(q)?;
        let total = work_order::Entity::find()
            .filter(cond.clone())
            .count(&self.db)
            .await?;
        let mut sel = work_order::Entity::find().filter(cond);
        sel = if q.overdue_at.is_some() {
            sel.order_by_asc(work_order::Column::DueAt)
        } else {
            sel.order_by_desc(work_order::Column::CreatedAt)
        };
        let rows = summaries(sel.order_by_desc(work_order::Column::Id))
            .offset(page.offset())
            .limit(page.per_page)
            .into_model::<SummaryRow>()
            .all(&self.db)
            .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .filter_map(SummaryRow::into_summary)
                .collect(),
            total,
            page: page.page.max(1),
            per_page: page.per_page,
        })
    }

    /// Every order matching `q` (up to `limit`), newest first: for CSV and Excel export.
    pub async fn work_orders_for_export(
        &self,
        q: &WorkOrderQuery,
        limit: u64,
    ) -> Result<Vec<WorkOrderSummary>> {
        let cond = self.condition(q)?;
        let sel = work_order::Entity::find()
            .filter(cond)
            .order_by_desc(work_order::Column::CreatedAt)
            .order_by_desc(work_order::Column::Id);
        let rows = summaries(sel)
            .limit(limit)
            .into_model::<SummaryRow>()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(SummaryRow::into_summary)
            .collect())
    }

    fn condition(&self, q: &WorkOrderQuery) -> Result<Condition> {
        use work_order::Column as C;
        let mut c = Condition::all();
        if let Some(u) = q.restrict_unit {
            c = c.add(C::UnitId.eq(u.0));
        }
        if let Some(no) = &q.no {
            c = c.add(C::No.eq(no.as_str()));
        }
        if let Some(id) = q.customer_id {
            c = c.add(C::CustomerId.eq(id.0));
        }
        if let Some(p) = &q.phone {
            let owners = Query::select()
                .column(customer_phone::Column::CustomerId)
                .from(customer_phone::Entity)
                .and_where(customer_phone::Column::Phone.eq(p.as_str()))
                .to_owned();
            c = c.add(
                Condition::any()
                    .add(C::ContactPhone.eq(p.as_str()))
                    .add(C::CustomerId.in_subquery(owners)),
            );
        }
        if let Some(t) = q.type_id {
            c = c.add(C::TypeId.eq(t.0));
        }
        if !q.statuses.is_empty() {
            c = c.add(C::Status.is_in(q.statuses.iter().map(|s| s.as_str())));
        }
        if q.open {
            c = c.add(
                C::Status.is_in(
                    Status::ALL
                        .iter()
                        .filter(|s| s.is_open())
                        .map(|s| s.as_str()),
                ),
            );
        }
        if let Some(u) = q.unit_id {
            c = c.add(C::UnitId.eq(u.0));
        }
        if let Some(a) = q.assignee_id {
            c = c.add(C::AssigneeId.eq(a.0));
        }
        if let Some(p) = q.priority {
            c = c.add(C::Priority.eq(p.as_str()));
        }
        if let Some(at) = q.overdue_at {
            // due_at is set only on open, running orders.
            c = c.add(C::DueAt.lte(at));
        }
        if let Some(f) = q.created_from {
            c = c.add(C::CreatedAt.gte(f));
        }
        if let Some(t) = q.created_before {
            c = c.add(C::CreatedAt.lt(t));
        }
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            c = c.add(self.text_condition(text));
        }
        Ok(c)
    }

    /// A number (with or without GD, or its digits), or text in the title, description or address:
    /// three or more characters through the trigram index, fewer as a prefix of the title.
    fn text_condition(&self, text: &str) -> Condition {
        use work_order::Column as C;
        if let Ok(no) = WorkOrderNo::parse(text) {
            return Condition::all().add(C::No.eq(no.as_str()));
        }
        if text.chars().count() < 3 {
            let upper = format!("{text}\u{10FFFF}");
            return Condition::all()
                .add(C::Title.gte(text))
                .add(C::Title.lt(upper.as_str()));
        }
        match self.backend {
            Backend::Sqlite => {
                let phrase = format!("\"{}\"", text.replace('"', "\"\""));
                Condition::all().add(Expr::cust_with_values(
                    "\"work_orders\".\"rowid\" IN (SELECT rowid FROM work_orders_fts WHERE work_orders_fts MATCH ?)",
                    [phrase],
                ))
            }
            Backend::Postgres => Condition::all().add(Expr::cust_with_exprs(
                "($1 || ' ' || $2 || ' ' || coalesce($3, '')) ILIKE $4 ESCAPE '\\'",
                [
                    Expr::col((work_order::Entity, C::Title)),
                    Expr::col((work_order::Entity, C::Description)),
                    Expr::col((work_order::Entity, C::Address)),
                    Expr::val(contains_pattern(text)),
                ],
            )),
        }
    }

    /// The customers' status query: orders of an identified customer, with only what they may see.
    /// Each order returned records the query on its timeline. Anyone not identified gets
    /// `NotFound`, whatever the reason, so the service tells a guesser nothing.
    pub async fn customer_status_query(
        &self,
        who: &CustomerIdentity,
        channel: Channel,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<StatusView>> {
        let orders = self.identified_orders(who).await?;
        let mut out = Vec::with_capacity(orders.len());
        for o in orders {
            let o = self
                .act_on_work_order(
                    actor,
                    &Acting::system(),
                    o,
                    None,
                    Act::CustomerQuery { channel },
                    None,
                    now,
                )
                .await?;
            out.push(StatusView {
                no: o.no.clone(),
                type_name: o.type_name.clone(),
                status: o.status,
                created_at: o.created_at,
                updated_at: o.updated_at,
                resolve_due_at: if o.status.is_open() {
                    o.sla.due(SlaTarget::Resolve)
                } else {
                    None
                },
                closed_at: o.closed_at,
            });
        }
        Ok(out)
    }

    /// A customer chasing their order (催办): recorded and counted on it.
    pub async fn customer_urge(
        &self,
        who: &CustomerIdentity,
        channel: Channel,
        note: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder> {
        if who.no.is_none() {
            return Err(invalid("no", "name the order to chase by its number"));
        }
        let id = *self
            .identified_orders(who)
            .await?
            .first()
            .ok_or(StoreError::NotFound("work order"))?;
        let note = Some(match note {
            Some(n) => format!("客户通过{}催办：{n}", channel.label_zh()),
            None => format!("客户通过{}催办", channel.label_zh()),
        });
        self.act_on_work_order(
            actor,
            &Acting::system(),
            id,
            None,
            Act::Urge { by_customer: true },
            note,
            now,
        )
        .await
    }

    async fn identified_orders(&self, who: &CustomerIdentity) -> Result<Vec<WorkOrderId>> {
        let not_found = || StoreError::NotFound("work order");
        let phones_of = |customer: uuid::Uuid| async move {
            Ok::<_, StoreError>(
                customer_phone::Entity::find()
                    .filter(customer_phone::Column::CustomerId.eq(customer))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|p| p.phone)
                    .collect::<Vec<_>>(),
            )
        };
        let customer_by_no = |no: String| async move {
            Ok::<_, StoreError>(
                customer::Entity::find()
                    .filter(customer::Column::CustomerNo.eq(no))
                    .one(&self.db)
                    .await?,
            )
        };
        match (&who.no, &who.customer_no, &who.phone) {
            (Some(no), customer_no, phone) if customer_no.is_some() || phone.is_some() => {
                let row = work_order::Entity::find()
                    .filter(work_order::Column::No.eq(no.as_str()))
                    .one(&self.db)
                    .await?
                    .ok_or_else(not_found)?;
                let mut proven = false;
                if let Some(p) = phone {
                    proven |= row.contact_phone.as_deref() == Some(p.as_str());
                    if let Some(c) = row.customer_id {
                        proven |= phones_of(c).await?.contains(p);
                    }
                }
                if let (Some(cno), Some(c)) = (customer_no, row.customer_id)
                    && let Some(cust) = customer_by_no(cno.clone()).await?
                {
                    proven |= cust.id == c;
                }
                if proven {
                    Ok(vec![WorkOrderId(row.id)])
                } else {
                    Err(not_found())
                }
            }
            (None, Some(cno), Some(phone)) => {
                let cust = customer_by_no(cno.clone()).await?.ok_or_else(not_found)?;
                if !phones_of(cust.id).await?.contains(phone) {
                    return Err(not_found());
                }
                let rows = work_order::Entity::find()
                    .filter(work_order::Column::CustomerId.eq(cust.id))
                    .order_by_desc(work_order::Column::CreatedAt)
                    .limit(10)
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().map(|r| WorkOrderId(r.id)).collect())
            }
            _ => Err(not_found()),
        }
    }

    /// Looks at every open order whose SLA milestone time has come (`next_sla_at <= now`, an index
    /// range): sends reminders, records breaches and escalates, reassigns orders not accepted in
    /// time to the type's fallback unit. At most `limit` orders per call; idempotent for a `now`.
    pub async fn sweep_sla(&self, now: DateTime<Utc>, limit: u64) -> Result<SweepReport> {
        let due = work_order::Entity::find()
            .filter(work_order::Column::NextSlaAt.lte(now))
            .order_by_asc(work_order::Column::NextSlaAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut report = SweepReport::default();
        let mut types: HashMap<uuid::Uuid, (WorkOrderType, kefu_workorders::calendar::Calendar)> =
            HashMap::new();
        let actor = Actor::system("sla");
        for row in due {
            report.examined += 1;
            if let std::collections::hash_map::Entry::Vacant(slot) = types.entry(row.type_id) {
                let ty = self.work_order_type(WorkOrderTypeId(row.type_id)).await?;
                let cal = self.calendar_for(&ty).await?;
                slot.insert((ty, cal));
            }
            let (ty, cal) = &types[&row.type_id];
            self.sweep_one(&actor, row, ty, cal, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn sweep_one(
        &self,
        actor: &Actor,
        row: work_order::Model,
        ty: &WorkOrderType,
        cal: &kefu_workorders::calendar::Calendar,
        now: DateTime<Utc>,
        report: &mut SweepReport,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        lock_order(&tx, row.id).await?;
        let Some(fresh) = work_order::Entity::find_by_id(row.id).one(&tx).await? else {
            return Ok(());
        };
        if fresh.version != row.version {
            // Someone changed it since it was read: the next sweep sees the new state.
            return Ok(());
        }
        let id = WorkOrderId(row.id);
        let status = Status::parse(&row.status).unwrap_or(Status::New);
        let mut clock = clock_of(&row.sla)?;
        let events: Vec<SlaEvent> = clock.due_events(&ty.sla, cal, now);
        let mut m: work_order::ActiveModel = row.clone().into();
        let mut to = status;
        for ev in &events {
            let label = ev.label_zh();
            match ev.kind {
                SlaEventKind::Remind { .. } => {
                    report.reminders += 1;
                    let recipients = match (row.assignee_id, row.unit_id) {
                        (Some(a), _) => Some(Recipients::Users(vec![UserId(a)])),
                        (None, Some(u)) => Some(Recipients::Unit(UnitId(u))),
                        (None, None) => row.created_by.map(|c| Recipients::Users(vec![UserId(c)])),
                    };
                    if let Some(r) = recipients {
                        enqueue(
                            &tx,
                            &sla_notice(id, &row.no, "work_order.sla_reminder", r, &label),
                            now,
                        )
                        .await?;
                    }
                    event(
                        &tx,
                        id,
                        Action::Remind,
                        Some(status),
                        status,
                        actor,
                        Some(&label),
                        Some(json_of(ev)),
                        now,
                    )
                    .await?;
                }
                SlaEventKind::Breach => {
                    report.breaches += 1;
                    m.breached = Set(true);
                    if ty.sla.escalate_on_breach {
                        if let Some(u) = row.unit_id {
                            enqueue(
                                &tx,
                                &sla_notice(
                                    id,
                                    &row.no,
                                    "work_order.escalated",
                                    Recipients::UnitHeads(UnitId(u)),
                                    &label,
                                ),
                                now,
                            )
                            .await?;
                        }
                        enqueue(
                            &tx,
                            &sla_notice(
                                id,
                                &row.no,
                                "work_order.escalated",
                                Recipients::Role(Role::Supervisor),
                                &label,
                            ),
                            now,
                        )
                        .await?;
                    }
                    event(
                        &tx,
                        id,
                        Action::Escalate,
                        Some(status),
                        status,
                        actor,
                        Some(&label),
                        Some(json_of(ev)),
                        now,
                    )
                    .await?;
                }
                SlaEventKind::Reassign => {
                    let target = ty.fallback_unit_id.filter(|f| Some(f.0) != row.unit_id);
                    if let (Status::Dispatched, Some(fallback)) = (to, target) {
                        report.reassigned += 1;
                        m.unit_id = Set(Some(fallback.0));
                        m.assignee_id = Set(None);
                        let priority = Priority::parse(&row.priority).unwrap_or(Priority::Normal);
                        clock.dispatched(&ty.sla, priority, cal, now);
                        to = Status::Dispatched;
                        enqueue(
                            &tx,
                            &sla_notice(
                                id,
                                &row.no,
                                "work_order.dispatched",
                                Recipients::Unit(fallback),
                                &label,
                            ),
                            now,
                        )
                        .await?;
                        event(
                            &tx,
                            id,
                            Action::Reassign,
                            Some(status),
                            to,
                            actor,
                            Some(&label),
                            Some(json!({"unit_id": fallback, "from_unit_id": row.unit_id})),
                            now,
                        )
                        .await?;
                    }
                }
            }
        }
        m.sla = Set(json_of(&clock));
        m.due_at = Set(clock.due_at());
        m.next_sla_at = Set(clock.next_check_at(&ty.sla, cal));
        m.version = Set(row.version + 1);
        m.updated_at = Set(now);
        work_order::Entity::update_many()
            .set(m)
            .filter(work_order::Column::Id.eq(row.id))
            .filter(work_order::Column::Version.eq(row.version))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many orders are open and how many of them are overdue at `now` (for dashboards and tests).
    pub async fn work_order_counts(&self, now: DateTime<Utc>) -> Result<(u64, u64)> {
        let open = work_order::Entity::find()
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
        let overdue = work_order::Entity::find()
            .filter(work_order::Column::DueAt.lte(now))
            .count(&self.db)
            .await?;
        Ok((open, overdue))
    }
}

/// Locks the order's row (PostgreSQL) as the transaction's first statement, so concurrent actions on
/// one order queue instead of racing; SQLite's `BEGIN IMMEDIATE` already serializes writers.
async fn lock_order(tx: &DatabaseTransaction, id: uuid::Uuid) -> Result<()> {
    work_order::Entity::update_many()
        .col_expr(
            work_order::Column::Version,
            Expr::col(work_order::Column::Version),
        )
        .filter(work_order::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}

fn sla_notice(
    id: WorkOrderId,
    no: &str,
    event: &str,
    recipients: Recipients,
    label: &str,
) -> NewNotification {
    NewNotification {
        event: event.into(),
        work_order_id: Some(id.0),
        recipients,
        title: format!("工单 {no}：{label}"),
        body: label.to_string(),
        payload: json!({"no": no}),
    }
}

async fn check_unit(db: &impl ConnectionTrait, u: UnitId, field: &str) -> Result<()> {
    match unit::Entity::find_by_id(u.0).one(db).await? {
        Some(unit) if unit.active => Ok(()),
        Some(_) => Err(invalid(field, "this unit is no longer active")),
        None => Err(invalid(field, "no such unit")),
    }
}

async fn check_assignee(db: &impl ConnectionTrait, a: UserId, unit: Option<UnitId>) -> Result<()> {
    match user::Entity::find_by_id(a.0).one(db).await? {
        Some(u) if u.active && unit.is_none_or(|unit| unit.0 == u.unit_id) => Ok(()),
        Some(u) if !u.active => Err(invalid("assignee_id", "this user is deactivated")),
        Some(_) => Err(invalid(
            "assignee_id",
            "this user is not in the unit the order goes to",
        )),
        None => Err(invalid("assignee_id", "no such user")),
    }
}

async fn customer_ref(db: &impl ConnectionTrait, id: uuid::Uuid) -> Result<Option<CustomerRef>> {
    let Some(c) = customer::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let phones = customer_phone::Entity::find()
        .filter(customer_phone::Column::CustomerId.eq(id))
        .order_by_asc(customer_phone::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.phone)
        .collect();
    Ok(Some(CustomerRef {
        id: CustomerId(c.id),
        customer_no: c.customer_no,
        name: c.name,
        phones,
        address: c.address,
    }))
}

/// The next number of `day`: one upsert that both SQLite and PostgreSQL serialize per day.
async fn next_seq(tx: &DatabaseTransaction, backend: Backend, day: NaiveDate) -> Result<u32> {
    let key = day.format("%y%m%d").to_string();
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO work_order_sequences (day, last) VALUES (?, 1) \
             ON CONFLICT (day) DO UPDATE SET last = work_order_sequences.last + 1 RETURNING last"
        }
        Backend::Postgres => {
            "INSERT INTO work_order_sequences (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = work_order_sequences.last + 1 RETURNING last"
        }
    };
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            sql,
            [key.into()],
        ))
        .await?
        .ok_or_else(|| StoreError::Db(sea_orm::DbErr::Custom("no sequence returned".into())))?;
    let last: i32 = row.try_get("", "last")?;
    Ok(last as u32)
}

/// The name people know the actor by: a user's display name (王晓燕), or kefu's own name for itself.
async fn display_name(db: &impl ConnectionTrait, actor: &Actor) -> Result<String> {
    if let Some(u) = actor.user_id
        && let Some(user) = user::Entity::find_by_id(u.0).one(db).await?
    {
        return Ok(user.display_name);
    }
    Ok(actor.name.clone())
}

#[allow(clippy::too_many_arguments)]
async fn event(
    db: &impl ConnectionTrait,
    id: WorkOrderId,
    action: Action,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    note: Option<&str>,
    data: Option<Value>,
    at: DateTime<Utc>,
) -> Result<()> {
    let actor_name = display_name(db, actor).await?;
    work_order_event::ActiveModel {
        id: Set(WorkOrderEventId::new().0),
        work_order_id: Set(id.0),
        action: Set(action.as_str().into()),
        from_status: Set(from.map(|s| s.as_str().into())),
        to_status: Set(to.as_str().into()),
        actor_id: Set(actor.user_id.map(|u| u.0)),
        actor_name: Set(actor_name),
        note: Set(note.map(str::to_string)),
        data: Set(data),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: uuid::Uuid,
    no: String,
    type_id: uuid::Uuid,
    type_name: Option<String>,
    status: String,
    priority: String,
    channel: String,
    title: String,
    customer_id: Option<uuid::Uuid>,
    customer_no: Option<String>,
    customer_name: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    address: Option<String>,
    unit_id: Option<uuid::Uuid>,
    unit_name: Option<String>,
    assignee_name: Option<String>,
    due_at: Option<DateTime<Utc>>,
    breached: bool,
    urge_count: i32,
    closed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SummaryRow {
    fn into_summary(self) -> Option<WorkOrderSummary> {
        Some(WorkOrderSummary {
            id: WorkOrderId(self.id),
            no: self.no,
            type_id: WorkOrderTypeId(self.type_id),
            type_name: self.type_name.unwrap_or_default(),
            status: Status::parse(&self.status).ok()?,
            priority: Priority::parse(&self.priority).ok()?,
            channel: Channel::parse(&self.channel).ok()?,
            title: self.title,
            customer_id: self.customer_id.map(CustomerId),
            customer_no: self.customer_no,
            customer_name: self.customer_name,
            contact_name: self.contact_name,
            contact_phone: self.contact_phone,
            address: self.address,
            unit_id: self.unit_id.map(UnitId),
            unit_name: self.unit_name,
            assignee_name: self.assignee_name,
            due_at: self.due_at,
            breached: self.breached,
            urge_count: self.urge_count,
            closed_at: self.closed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The list columns, with the names of the type, customer, unit and assignee looked up in the same
/// statement (one indexed probe each per row of the page).
fn summaries(sel: sea_orm::Select<work_order::Entity>) -> sea_orm::Select<work_order::Entity> {
    use work_order::Column as C;
    let lookup = |sql: &str| Expr::cust(sql.to_string());
    sel.select_only()
        .columns([
            C::Id,
            C::No,
            C::TypeId,
            C::Status,
            C::Priority,
            C::Channel,
            C::Title,
            C::CustomerId,
            C::ContactName,
            C::ContactPhone,
            C::Address,
            C::UnitId,
            C::DueAt,
            C::Breached,
            C::UrgeCount,
            C::ClosedAt,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        .expr_as(
            lookup(r#"(SELECT "t"."name" FROM "work_order_types" AS "t" WHERE "t"."id" = "work_orders"."type_id")"#),
            "type_name",
        )
        .expr_as(
            lookup(r#"(SELECT "c"."customer_no" FROM "customers" AS "c" WHERE "c"."id" = "work_orders"."customer_id")"#),
            "customer_no",
        )
        .expr_as(
            lookup(r#"(SELECT "c"."name" FROM "customers" AS "c" WHERE "c"."id" = "work_orders"."customer_id")"#),
            "customer_name",
        )
        .expr_as(
            lookup(r#"(SELECT "u"."name" FROM "units" AS "u" WHERE "u"."id" = "work_orders"."unit_id")"#),
            "unit_name",
        )
        .expr_as(
            lookup(r#"(SELECT "a"."display_name" FROM "users" AS "a" WHERE "a"."id" = "work_orders"."assignee_id")"#),
            "assignee_name",
        )
}
