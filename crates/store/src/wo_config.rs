//! Work-order configuration: business calendars and work-order types (custom form, priority rules,
//! default units, SLA policy), edited by administrators as data.
//!
//! Both carry a `version` for optimistic concurrency: an update names the version it was based on and
//! is refused with [`StoreError::Conflict`] when someone changed the row since (`UPDATE … WHERE id = ?
//! AND version = ?`).
//!
//! What is stored is always valid: a calendar's spec parses ([`BusinessCalendar::parse`]), a type's
//! form is a [`Form`], its priority rules name choice fields and options of that form, its SLA policy
//! passes [`SlaPolicy::check`], and the units and calendar it names exist. Reading a row therefore
//! never fails on its JSON unless the database was edited by hand.

use chrono::{DateTime, SubsecRound, Utc};
use kefu_domain::{CalendarId, FieldErrors, UnitId, WorkOrderTypeId};
use kefu_workorders::calendar::Calendar as BusinessCalendar;
use kefu_workorders::{CalendarSpec, FieldDef, Form, Priority, PriorityRule, SlaPolicy};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;

use crate::entities::{calendar, unit, work_order_type};
use crate::{Actor, Result, Store, StoreError, audit};

/// A business calendar as stored: its spec is checked (it parses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calendar {
    pub id: CalendarId,
    /// Stable identifier (`standard`, `always`).
    pub code: String,
    pub name: String,
    pub spec: CalendarSpec,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Calendar {
    /// The calendar to compute with.
    pub fn business(&self) -> Result<BusinessCalendar> {
        BusinessCalendar::parse(&self.spec).map_err(|e| unreadable("calendar", &self.code, e))
    }
}

#[derive(Debug, Clone)]
pub struct NewCalendar {
    pub code: String,
    pub name: String,
    pub spec: CalendarSpec,
}

#[derive(Debug, Clone, Default)]
pub struct CalendarChanges {
    pub name: Option<String>,
    pub spec: Option<CalendarSpec>,
}

/// A kind of work order (故障申告, 投诉 …): what its form asks, how urgent its orders are, where they go
/// and what it promises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkOrderType {
    pub id: WorkOrderTypeId,
    /// Stable identifier (`fault`, `complaint`).
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    /// The custom fields of its orders.
    pub form: Form,
    /// Field values that raise an order's priority (燃气泄漏 → 特急); they name choice fields of `form`.
    pub priority_rules: Vec<PriorityRule>,
    /// The priority of an order no rule matches.
    pub default_priority: Priority,
    /// Where its orders are dispatched unless the agent picks another unit; `None`: handled by the
    /// call center itself.
    pub default_unit_id: Option<UnitId>,
    /// Where the SLA reassigns orders nobody accepted in time.
    pub fallback_unit_id: Option<UnitId>,
    /// The business calendar its SLA targets count on.
    pub calendar_id: CalendarId,
    pub sla: SlaPolicy,
    /// Closed orders wait for a callback (回访) to the customer.
    pub callback_required: bool,
    /// An inactive type is kept for its orders but offered for no new one.
    pub active: bool,
    /// Lists show types by `sort`, then name.
    pub sort: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewWorkOrderType {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub form: Form,
    pub priority_rules: Vec<PriorityRule>,
    pub default_priority: Priority,
    pub default_unit_id: Option<UnitId>,
    pub fallback_unit_id: Option<UnitId>,
    pub calendar_id: CalendarId,
    pub sla: SlaPolicy,
    pub callback_required: bool,
    pub active: bool,
    pub sort: i32,
}

/// `None`: unchanged. `Some(None)` clears an optional value.
#[derive(Debug, Clone, Default)]
pub struct WorkOrderTypeChanges {
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub form: Option<Form>,
    pub priority_rules: Option<Vec<PriorityRule>>,
    pub default_priority: Option<Priority>,
    pub default_unit_id: Option<Option<UnitId>>,
    pub fallback_unit_id: Option<Option<UnitId>>,
    pub calendar_id: Option<CalendarId>,
    pub sla: Option<SlaPolicy>,
    pub callback_required: Option<bool>,
    pub active: Option<bool>,
    pub sort: Option<i32>,
}

/// A row whose JSON no longer reads (edited by hand, or written by a newer kefu).
fn unreadable(what: &str, code: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(DbErr::Custom(format!(
        "{what} '{code}': stored configuration is unreadable: {e}"
    )))
}

fn stale(what: &str, code: &str, version: i32) -> StoreError {
    StoreError::Conflict(format!(
        "{what} '{code}' was changed by someone else (now version {version}): reload it and make your change again"
    ))
}

/// Timestamps at the precision both backends keep (microseconds), so what a write returns equals
/// what a later read gives.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("configuration serializes to JSON")
}

fn calendar_from(m: calendar::Model) -> Result<Calendar> {
    let spec = serde_json::from_value(m.spec).map_err(|e| unreadable("calendar", &m.code, e))?;
    Ok(Calendar {
        id: CalendarId(m.id),
        code: m.code,
        name: m.name,
        spec,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn type_from(m: work_order_type::Model) -> Result<WorkOrderType> {
    let bad = |e: &dyn std::fmt::Display| unreadable("work-order type", &m.code, e);
    let defs: Vec<FieldDef> = serde_json::from_value(m.fields.clone()).map_err(|e| bad(&e))?;
    let form = Form::parse(defs).map_err(|e| bad(&e))?;
    let priority_rules = serde_json::from_value(m.priority_rules.clone()).map_err(|e| bad(&e))?;
    let sla = serde_json::from_value(m.sla.clone()).map_err(|e| bad(&e))?;
    let default_priority = Priority::parse(&m.default_priority).map_err(|e| bad(&e))?;
    Ok(WorkOrderType {
        id: WorkOrderTypeId(m.id),
        code: m.code,
        name: m.name,
        name_en: m.name_en,
        description: m.description,
        form,
        priority_rules,
        default_priority,
        default_unit_id: m.default_unit_id.map(UnitId),
        fallback_unit_id: m.fallback_unit_id.map(UnitId),
        calendar_id: CalendarId(m.calendar_id),
        sla,
        callback_required: m.callback_required,
        active: m.active,
        sort: m.sort,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// A calendar spec's errors under `spec` (`spec.week[0][1].end`).
fn check_spec(spec: &CalendarSpec, errors: &mut FieldErrors) {
    if let Err(e) = BusinessCalendar::parse(spec) {
        errors.0.extend(e.0.into_iter().map(|e| e.under("spec")));
    }
}

/// The checks a type's parts need together: its rules against its form, its SLA policy.
fn check_type(form: &Form, rules: &[PriorityRule], sla: &SlaPolicy) -> Result<()> {
    let mut errors = FieldErrors::new();
    if let Err(e) = form.check_rules(rules) {
        errors.0.extend(e.0);
    }
    if let Err(e) = sla.check() {
        errors.0.extend(e.0.into_iter().map(|e| e.under("sla")));
    }
    errors.into_result().map_err(StoreError::Invalid)
}

impl Store {
    // ---- calendars ----

    /// Every calendar, by code.
    pub async fn calendars(&self) -> Result<Vec<Calendar>> {
        calendar::Entity::find()
            .order_by_asc(calendar::Column::Code)
            .all(&self.db)
            .await?
            .into_iter()
            .map(calendar_from)
            .collect()
    }

    pub async fn calendar(&self, id: CalendarId) -> Result<Calendar> {
        calendar_from(
            calendar::Entity::find_by_id(id.0)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound("calendar"))?,
        )
    }

    pub async fn calendar_by_code(&self, code: &str) -> Result<Option<Calendar>> {
        calendar::Entity::find()
            .filter(calendar::Column::Code.eq(code))
            .one(&self.db)
            .await?
            .map(calendar_from)
            .transpose()
    }

    /// The calendar `id` to compute with.
    pub async fn business_calendar(&self, id: CalendarId) -> Result<BusinessCalendar> {
        self.calendar(id).await?.business()
    }

    /// The calendar the SLA targets of `ty`'s orders count on.
    pub async fn calendar_for(&self, ty: &WorkOrderType) -> Result<BusinessCalendar> {
        self.business_calendar(ty.calendar_id).await
    }

    /// Creates a calendar. A spec that does not parse is [`StoreError::Invalid`] under `spec`; a code
    /// in use is a [`StoreError::Conflict`].
    pub async fn create_calendar(&self, actor: &Actor, new: NewCalendar) -> Result<Calendar> {
        let mut errors = FieldErrors::new();
        check_spec(&new.spec, &mut errors);
        errors.into_result().map_err(StoreError::Invalid)?;
        let at = now();
        let tx = self.db.begin().await?;
        let model = calendar::ActiveModel {
            id: Set(CalendarId::new().0),
            code: Set(new.code),
            name: Set(new.name),
            spec: Set(json(&new.spec)),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a calendar with this code"))?;
        let created = calendar_from(model)?;
        audit::record(
            &tx,
            actor,
            "calendar.create",
            "calendar",
            Some(created.id.to_string()),
            None::<&()>,
            Some(&created),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a calendar that is still at `expected_version`; the result has the next version. A
    /// calendar changed since is a [`StoreError::Conflict`] naming its current version, and nothing
    /// is written. Every save bumps the version, even one that changes nothing.
    pub async fn update_calendar(
        &self,
        actor: &Actor,
        id: CalendarId,
        expected_version: i32,
        ch: CalendarChanges,
    ) -> Result<Calendar> {
        let before = self.calendar(id).await?;
        if before.version != expected_version {
            return Err(stale("calendar", &before.code, before.version));
        }
        let mut after = before.clone();
        if let Some(v) = ch.name {
            after.name = v;
        }
        if let Some(v) = ch.spec {
            let mut errors = FieldErrors::new();
            check_spec(&v, &mut errors);
            errors.into_result().map_err(StoreError::Invalid)?;
            after.spec = v;
        }
        after.version = expected_version + 1;
        after.updated_at = now();
        let tx = self.db.begin().await?;
        // The write comes first in the transaction, and only lands on the version that was read: the
        // row it replaces is exactly `before`.
        let done = calendar::Entity::update_many()
            .set(calendar::ActiveModel {
                name: Set(after.name.clone()),
                spec: Set(json(&after.spec)),
                version: Set(after.version),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(calendar::Column::Id.eq(id.0))
            .filter(calendar::Column::Version.eq(expected_version))
            .exec(&tx)
            .await?;
        if done.rows_affected == 0 {
            let current = calendar::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound("calendar"))?;
            return Err(stale("calendar", &current.code, current.version));
        }
        audit::record(
            &tx,
            actor,
            "calendar.update",
            "calendar",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ---- work-order types ----

    /// Work-order types by `sort`, then name; the inactive ones only with `include_inactive`.
    pub async fn work_order_types(&self, include_inactive: bool) -> Result<Vec<WorkOrderType>> {
        let mut sel = work_order_type::Entity::find();
        if !include_inactive {
            sel = sel.filter(work_order_type::Column::Active.eq(true));
        }
        sel.order_by_asc(work_order_type::Column::Sort)
            .order_by_asc(work_order_type::Column::Name)
            .order_by_asc(work_order_type::Column::Code)
            .all(&self.db)
            .await?
            .into_iter()
            .map(type_from)
            .collect()
    }

    pub async fn work_order_type(&self, id: WorkOrderTypeId) -> Result<WorkOrderType> {
        type_from(
            work_order_type::Entity::find_by_id(id.0)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound("work-order type"))?,
        )
    }

    pub async fn work_order_type_by_code(&self, code: &str) -> Result<Option<WorkOrderType>> {
        work_order_type::Entity::find()
            .filter(work_order_type::Column::Code.eq(code))
            .one(&self.db)
            .await?
            .map(type_from)
            .transpose()
    }

    /// Creates a type. Rules that do not fit the form, a bad SLA policy, or a unit or calendar that
    /// does not exist are [`StoreError::Invalid`] naming the field (`priority_rules[0].equals`,
    /// `sla.remind_at_percent[1]`, `default_unit_id`, `calendar_id`); a code in use is a
    /// [`StoreError::Conflict`].
    pub async fn create_work_order_type(
        &self,
        actor: &Actor,
        new: NewWorkOrderType,
    ) -> Result<WorkOrderType> {
        check_type(&new.form, &new.priority_rules, &new.sla)?;
        self.check_refs(
            new.default_unit_id,
            new.fallback_unit_id,
            Some(new.calendar_id),
        )
        .await?;
        let at = now();
        let tx = self.db.begin().await?;
        let model = work_order_type::ActiveModel {
            id: Set(WorkOrderTypeId::new().0),
            code: Set(new.code),
            name: Set(new.name),
            name_en: Set(new.name_en),
            description: Set(new.description),
            fields: Set(json(&new.form)),
            priority_rules: Set(json(&new.priority_rules)),
            default_priority: Set(new.default_priority.as_str().to_string()),
            default_unit_id: Set(new.default_unit_id.map(|u| u.0)),
            fallback_unit_id: Set(new.fallback_unit_id.map(|u| u.0)),
            calendar_id: Set(new.calendar_id.0),
            sla: Set(json(&new.sla)),
            callback_required: Set(new.callback_required),
            active: Set(new.active),
            sort: Set(new.sort),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a work-order type with this code"))?;
        let created = type_from(model)?;
        audit::record(
            &tx,
            actor,
            "work_order_type.create",
            "work_order_type",
            Some(created.id.to_string()),
            None::<&()>,
            Some(&created),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a type that is still at `expected_version` (see [`Store::update_calendar`]). The
    /// changed type is checked as a whole: new fields with the old rules, new rules with the old
    /// fields. Units and the calendar are checked only when the change names them.
    pub async fn update_work_order_type(
        &self,
        actor: &Actor,
        id: WorkOrderTypeId,
        expected_version: i32,
        ch: WorkOrderTypeChanges,
    ) -> Result<WorkOrderType> {
        let before = self.work_order_type(id).await?;
        if before.version != expected_version {
            return Err(stale("work-order type", &before.code, before.version));
        }
        let mut after = before.clone();
        if let Some(v) = ch.name {
            after.name = v;
        }
        if let Some(v) = ch.name_en {
            after.name_en = v;
        }
        if let Some(v) = ch.description {
            after.description = v;
        }
        if let Some(v) = ch.form {
            after.form = v;
        }
        if let Some(v) = ch.priority_rules {
            after.priority_rules = v;
        }
        if let Some(v) = ch.default_priority {
            after.default_priority = v;
        }
        if let Some(v) = ch.default_unit_id {
            after.default_unit_id = v;
        }
        if let Some(v) = ch.fallback_unit_id {
            after.fallback_unit_id = v;
        }
        if let Some(v) = ch.calendar_id {
            after.calendar_id = v;
        }
        if let Some(v) = ch.sla {
            after.sla = v;
        }
        if let Some(v) = ch.callback_required {
            after.callback_required = v;
        }
        if let Some(v) = ch.active {
            after.active = v;
        }
        if let Some(v) = ch.sort {
            after.sort = v;
        }
        check_type(&after.form, &after.priority_rules, &after.sla)?;
        self.check_refs(
            ch.default_unit_id.flatten(),
            ch.fallback_unit_id.flatten(),
            ch.calendar_id,
        )
        .await?;
        after.version = expected_version + 1;
        after.updated_at = now();
        let tx = self.db.begin().await?;
        let done = work_order_type::Entity::update_many()
            .set(work_order_type::ActiveModel {
                name: Set(after.name.clone()),
                name_en: Set(after.name_en.clone()),
                description: Set(after.description.clone()),
                fields: Set(json(&after.form)),
                priority_rules: Set(json(&after.priority_rules)),
                default_priority: Set(after.default_priority.as_str().to_string()),
                default_unit_id: Set(after.default_unit_id.map(|u| u.0)),
                fallback_unit_id: Set(after.fallback_unit_id.map(|u| u.0)),
                calendar_id: Set(after.calendar_id.0),
                sla: Set(json(&after.sla)),
                callback_required: Set(after.callback_required),
                active: Set(after.active),
                sort: Set(after.sort),
                version: Set(after.version),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(work_order_type::Column::Id.eq(id.0))
            .filter(work_order_type::Column::Version.eq(expected_version))
            .exec(&tx)
            .await?;
        if done.rows_affected == 0 {
            let current = work_order_type::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound("work-order type"))?;
            return Err(stale("work-order type", &current.code, current.version));
        }
        audit::record(
            &tx,
            actor,
            "work_order_type.update",
            "work_order_type",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The units and calendar a type names exist (and the units are active), or an error naming the
    /// field. Units and calendars are never deleted, so reading before the write is enough.
    async fn check_refs(
        &self,
        default_unit: Option<UnitId>,
        fallback_unit: Option<UnitId>,
        calendar: Option<CalendarId>,
    ) -> Result<()> {
        let mut errors = FieldErrors::new();
        for (field, id) in [
            ("default_unit_id", default_unit),
            ("fallback_unit_id", fallback_unit),
        ] {
            let Some(id) = id else { continue };
            match unit::Entity::find_by_id(id.0).one(&self.db).await? {
                None => errors.push(field, format!("no unit with id {id}")),
                Some(u) if !u.active => {
                    errors.push(field, format!("unit {} is no longer active", u.name))
                }
                Some(_) => {}
            }
        }
        if let Some(id) = calendar
            && calendar::Entity::find_by_id(id.0)
                .one(&self.db)
                .await?
                .is_none()
        {
            errors.push("calendar_id", format!("no calendar with id {id}"));
        }
        errors.into_result().map_err(StoreError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_version_says_which_version_is_current() {
        let e = stale("calendar", "standard", 7);
        assert!(e.to_string().contains("now version 7"), "{e}");
    }
}
