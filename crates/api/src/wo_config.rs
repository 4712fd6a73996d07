//! Work-order configuration over HTTP: business calendars and work-order types (the custom form,
//! priority rules, default units and the SLA policy).
//!
//! Everyone may read them (agents pick a type for every order they create); administrators change
//! types and administrators and supervisors change calendars. Every change names the `version` it was
//! based on: a stale one is 409 with the current version, and nothing is written.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_domain::{CalendarId, FieldErrors, UnitId, WorkOrderTypeId, bounded_text};
use kefu_store::{CalendarChanges, NewCalendar, NewWorkOrderType, WorkOrderTypeChanges};
use kefu_workorders::{
    Calendar as BusinessCalendar, CalendarSpec, FieldDef, Form, Priority, PriorityRule, SlaPolicy,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, double_option, present};

pub const MAX_NAME: usize = 40;
pub const MAX_NAME_EN: usize = 60;
pub const MAX_DESCRIPTION: usize = 500;
pub const MAX_SORT: i64 = 99_999;

fn yes() -> bool {
    true
}

fn normal() -> Priority {
    Priority::Normal
}

/// A code is 1-32 of a-z, 0-9, '_' and '-', starting with a letter (typed in any case, stored in
/// lower case).
fn code(errs: &mut FieldErrors, s: &str) -> Option<String> {
    let c = s.trim().to_ascii_lowercase();
    let ok = !c.is_empty()
        && c.len() <= 32
        && c.as_bytes()[0].is_ascii_lowercase()
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Some(c)
    } else {
        errs.push(
            "code",
            "a code is 1-32 of a-z, 0-9, '_' and '-', starting with a letter",
        );
        None
    }
}

fn text(errs: &mut FieldErrors, field: &str, s: &str, max: usize) -> Option<String> {
    errs.check(field, bounded_text(s, 1, max))
}

/// An optional text: absent, `null` and blank are all "none". `None` when invalid (error recorded).
fn opt_text(
    errs: &mut FieldErrors,
    field: &str,
    s: Option<&str>,
    max: usize,
) -> Option<Option<String>> {
    match s.filter(|s| !s.trim().is_empty()) {
        Some(s) => text(errs, field, s, max).map(Some),
        None => Some(None),
    }
}

fn sort(errs: &mut FieldErrors, v: i64) -> Option<i32> {
    if (0..=MAX_SORT).contains(&v) {
        Some(v as i32)
    } else {
        errs.push("sort", format!("must be 0 to {MAX_SORT}"));
        None
    }
}

fn spec(errs: &mut FieldErrors, spec: &CalendarSpec) {
    if let Err(e) = BusinessCalendar::parse(spec) {
        errs.0.extend(e.0.into_iter().map(|e| e.under("spec")));
    }
}

fn form(errs: &mut FieldErrors, defs: Vec<FieldDef>) -> Option<Form> {
    Form::parse(defs).map_err(|e| errs.0.extend(e.0)).ok()
}

fn rules(errs: &mut FieldErrors, form: &Form, rules: &[PriorityRule]) {
    if let Err(e) = form.check_rules(rules) {
        errs.0.extend(e.0);
    }
}

fn sla(errs: &mut FieldErrors, sla: &SlaPolicy) {
    if let Err(e) = sla.check() {
        errs.0.extend(e.0.into_iter().map(|e| e.under("sla")));
    }
}

// ---- calendars ----

/// A business calendar: weekly working hours in the company's time zone, public holidays (放假) and
/// make-up working days (调休上班).
#[derive(Serialize, ToSchema)]
pub struct CalendarView {
    pub id: uuid::Uuid,
    pub code: String,
    pub name: String,
    /// `{always_open, utc_offset_minutes, week: [[{start, end}] × 7, Monday first], holidays:
    /// [date], workdays: [date]}`; times are `HH:MM`, `end` may be `24:00`.
    #[schema(value_type = Object)]
    pub spec: CalendarSpec,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Calendar> for CalendarView {
    fn from(c: kefu_store::Calendar) -> CalendarView {
        CalendarView {
            id: c.id.0,
            code: c.code,
            name: c.name,
            spec: c.spec,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// 1-32 of a-z, 0-9, '_' and '-', unique.
    pub code: String,
    /// 1-40 characters.
    pub name: String,
    #[schema(value_type = Object)]
    pub spec: CalendarSpec,
}

/// The version the change is based on, and any of the fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarPatch {
    pub version: i32,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub spec: Option<CalendarSpec>,
}

/// Every business calendar, by code.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "work orders", responses((status = 200, body = [CalendarView])))]
pub async fn list_calendars(
    State(app): State<AppState>,
) -> ApiResult<axum::Json<Vec<CalendarView>>> {
    let all = app.store.calendars().await?;
    Ok(axum::Json(
        all.into_iter().map(CalendarView::from).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/calendars", tag = "work orders", request_body = CalendarInput, responses((status = 201, body = CalendarView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_calendar(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<CalendarInput>,
) -> ApiResult<(StatusCode, axum::Json<CalendarView>)> {
    let mut errs = FieldErrors::new();
    let code = code(&mut errs, &req.code);
    let name = text(&mut errs, "name", &req.name, MAX_NAME);
    spec(&mut errs, &req.spec);
    let (Some(code), Some(name), true) = (code, name, errs.is_empty()) else {
        return Err(errs.into());
    };
    let cal = app
        .store
        .create_calendar(
            &caller.actor,
            NewCalendar {
                code,
                name,
                spec: req.spec,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(cal.into())))
}

#[utoipa::path(get, path = "/api/v1/calendars/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CalendarView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_calendar(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<CalendarView>> {
    Ok(axum::Json(app.store.calendar(CalendarId(id)).await?.into()))
}

/// Changes a calendar. `version` must be the calendar's current one (409 otherwise, with the current
/// version in the detail); every save bumps it. New deadlines count on the changed calendar at once.
#[utoipa::path(patch, path = "/api/v1/calendars/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), request_body = CalendarPatch, responses((status = 200, body = CalendarView), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_calendar(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<CalendarPatch>,
) -> ApiResult<axum::Json<CalendarView>> {
    let mut errs = FieldErrors::new();
    let name = match &p.name {
        Some(n) => text(&mut errs, "name", n, MAX_NAME).map(Some),
        None => Some(None),
    };
    if let Some(s) = &p.spec {
        spec(&mut errs, s);
    }
    let (Some(name), true) = (name, errs.is_empty()) else {
        return Err(errs.into());
    };
    let cal = app
        .store
        .update_calendar(
            &caller.actor,
            CalendarId(id),
            p.version,
            CalendarChanges { name, spec: p.spec },
        )
        .await?;
    Ok(axum::Json(cal.into()))
}

// ---- work-order types ----

/// A kind of work order (故障申告, 投诉 …): its custom fields, the field values that raise the
/// priority, where its orders go, the calendar and SLA policy its deadlines follow.
#[derive(Serialize, ToSchema)]
pub struct WorkOrderTypeView {
    pub id: uuid::Uuid,
    /// Stable identifier (`fault`, `complaint`).
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    /// The custom fields: `[{key, label, label_en, kind, required, options: [{value, label,
    /// label_en}]}]`; kind is text, number, date, choice, customer, address or attachment.
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FieldDef>,
    /// `[{field, equals, priority}]`: an order whose choice field `field` is `equals` gets `priority`.
    #[schema(value_type = Vec<Object>)]
    pub priority_rules: Vec<PriorityRule>,
    /// emergency, urgent, normal or low.
    #[schema(value_type = String)]
    pub default_priority: Priority,
    /// The unit its orders are dispatched to unless the agent picks another; none: the call center
    /// handles them itself.
    pub default_unit_id: Option<uuid::Uuid>,
    /// Where the SLA reassigns orders nobody accepted in time.
    pub fallback_unit_id: Option<uuid::Uuid>,
    pub calendar_id: uuid::Uuid,
    /// `{targets: {emergency|urgent|normal|low: {accept_mins, first_feedback_mins, resolve_mins}},
    /// emergency_always_open, remind_at_percent: [1-99], escalate_on_breach,
    /// reassign_unaccepted_after_mins}`, in business minutes on the calendar.
    #[schema(value_type = Object)]
    pub sla: SlaPolicy,
    /// Closed orders wait for a callback (回访).
    pub callback_required: bool,
    /// Inactive types are kept for their orders, offered for no new one.
    pub active: bool,
    pub sort: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::WorkOrderType> for WorkOrderTypeView {
    fn from(t: kefu_store::WorkOrderType) -> WorkOrderTypeView {
        WorkOrderTypeView {
            id: t.id.0,
            code: t.code,
            name: t.name,
            name_en: t.name_en,
            description: t.description,
            fields: t.form.fields().to_vec(),
            priority_rules: t.priority_rules,
            default_priority: t.default_priority,
            default_unit_id: t.default_unit_id.map(|u| u.0),
            fallback_unit_id: t.fallback_unit_id.map(|u| u.0),
            calendar_id: t.calendar_id.0,
            sla: t.sla,
            callback_required: t.callback_required,
            active: t.active,
            sort: t.sort,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderTypeInput {
    /// 1-32 of a-z, 0-9, '_' and '-', unique.
    pub code: String,
    /// 1-40 characters.
    pub name: String,
    /// 1-60 characters, or none.
    #[serde(default)]
    pub name_en: Option<String>,
    /// Up to 500 characters, or none.
    #[serde(default)]
    pub description: Option<String>,
    /// At most 40 custom fields, keys unique.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub priority_rules: Vec<PriorityRule>,
    /// Default normal.
    #[serde(default = "normal")]
    #[schema(value_type = String)]
    pub default_priority: Priority,
    pub default_unit_id: Option<uuid::Uuid>,
    pub fallback_unit_id: Option<uuid::Uuid>,
    pub calendar_id: uuid::Uuid,
    /// Default: no targets, emergencies 24×7.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub sla: SlaPolicy,
    #[serde(default)]
    pub callback_required: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// 0-99999; default 0.
    #[serde(default)]
    pub sort: i64,
}

/// The version the change is based on, and any of the fields but `code`. `null` clears `name_en`,
/// `description`, `default_unit_id` and `fallback_unit_id`. New fields are checked with the type's
/// rules and new rules with its fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderTypePatch {
    pub version: i32,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub name_en: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub fields: Option<Vec<FieldDef>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub priority_rules: Option<Vec<PriorityRule>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub default_priority: Option<Priority>,
    #[serde(default, deserialize_with = "double_option")]
    pub default_unit_id: Option<Option<uuid::Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub fallback_unit_id: Option<Option<uuid::Uuid>>,
    #[serde(default, deserialize_with = "present")]
    pub calendar_id: Option<uuid::Uuid>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub sla: Option<SlaPolicy>,
    #[serde(default, deserialize_with = "present")]
    pub callback_required: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub sort: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TypeListParams {
    /// Also the types no longer in use (default false).
    pub include_inactive: Option<bool>,
}

/// The work-order types, by `sort` then name; only the active ones unless `include_inactive=true`.
#[utoipa::path(get, path = "/api/v1/work-order-types", tag = "work orders", params(TypeListParams), responses((status = 200, body = [WorkOrderTypeView]), (status = 422, body = crate::problem::Problem)))]
pub async fn list_types(
    State(app): State<AppState>,
    Query(q): Query<TypeListParams>,
) -> ApiResult<axum::Json<Vec<WorkOrderTypeView>>> {
    let all = app
        .store
        .work_order_types(q.include_inactive.unwrap_or(false))
        .await?;
    Ok(axum::Json(
        all.into_iter().map(WorkOrderTypeView::from).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/work-order-types", tag = "work orders", request_body = WorkOrderTypeInput, responses((status = 201, body = WorkOrderTypeView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_type(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<WorkOrderTypeInput>,
) -> ApiResult<(StatusCode, axum::Json<WorkOrderTypeView>)> {
    let mut errs = FieldErrors::new();
    let code = code(&mut errs, &req.code);
    let name = text(&mut errs, "name", &req.name, MAX_NAME);
    let name_en = opt_text(&mut errs, "name_en", req.name_en.as_deref(), MAX_NAME_EN);
    let description = opt_text(
        &mut errs,
        "description",
        req.description.as_deref(),
        MAX_DESCRIPTION,
    );
    let form = form(&mut errs, req.fields);
    if let Some(f) = &form {
        rules(&mut errs, f, &req.priority_rules);
    }
    sla(&mut errs, &req.sla);
    let sort = sort(&mut errs, req.sort);
    let (Some(code), Some(name), Some(name_en), Some(description), Some(form), Some(sort), true) = (
        code,
        name,
        name_en,
        description,
        form,
        sort,
        errs.is_empty(),
    ) else {
        return Err(errs.into());
    };
    let ty = app
        .store
        .create_work_order_type(
            &caller.actor,
            NewWorkOrderType {
                code,
                name,
                name_en,
                description,
                form,
                priority_rules: req.priority_rules,
                default_priority: req.default_priority,
                default_unit_id: req.default_unit_id.map(UnitId),
                fallback_unit_id: req.fallback_unit_id.map(UnitId),
                calendar_id: CalendarId(req.calendar_id),
                sla: req.sla,
                callback_required: req.callback_required,
                active: req.active,
                sort,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ty.into())))
}

#[utoipa::path(get, path = "/api/v1/work-order-types/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = WorkOrderTypeView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_type(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<WorkOrderTypeView>> {
    Ok(axum::Json(
        app.store.work_order_type(WorkOrderTypeId(id)).await?.into(),
    ))
}

/// Changes a type. `version` must be the type's current one (409 otherwise, with the current version
/// in the detail). Orders already created keep their deadlines; new ones follow the changed type.
#[utoipa::path(patch, path = "/api/v1/work-order-types/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), request_body = WorkOrderTypePatch, responses((status = 200, body = WorkOrderTypeView), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_type(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<WorkOrderTypePatch>,
) -> ApiResult<axum::Json<WorkOrderTypeView>> {
    let current = app.store.work_order_type(WorkOrderTypeId(id)).await?;
    if current.version != p.version {
        // Checked first: the body was written against a type that is no longer there.
        return Err(ApiError::conflict(format!(
            "work-order type '{}' was changed by someone else (now version {}): reload it and make your change again",
            current.code, current.version
        )));
    }
    let mut errs = FieldErrors::new();
    let name = match &p.name {
        Some(n) => text(&mut errs, "name", n, MAX_NAME).map(Some),
        None => Some(None),
    };
    let name_en = match &p.name_en {
        Some(v) => opt_text(&mut errs, "name_en", v.as_deref(), MAX_NAME_EN).map(Some),
        None => Some(None),
    };
    let description = match &p.description {
        Some(v) => opt_text(&mut errs, "description", v.as_deref(), MAX_DESCRIPTION).map(Some),
        None => Some(None),
    };
    let new_form = match p.fields {
        Some(defs) => form(&mut errs, defs).map(Some),
        None => Some(None),
    };
    // The rules as they will be, against the form as it will be.
    if let Some(f) = &new_form {
        let f = f.as_ref().unwrap_or(&current.form);
        rules(
            &mut errs,
            f,
            p.priority_rules
                .as_deref()
                .unwrap_or(&current.priority_rules),
        );
    }
    if let Some(s) = &p.sla {
        sla(&mut errs, s);
    }
    let sort = match p.sort {
        Some(v) => sort(&mut errs, v).map(Some),
        None => Some(None),
    };
    let (Some(name), Some(name_en), Some(description), Some(form), Some(sort), true) =
        (name, name_en, description, new_form, sort, errs.is_empty())
    else {
        return Err(errs.into());
    };
    let ty = app
        .store
        .update_work_order_type(
            &caller.actor,
            WorkOrderTypeId(id),
            p.version,
            WorkOrderTypeChanges {
                name,
                name_en,
                description,
                form,
                priority_rules: p.priority_rules,
                default_priority: p.default_priority,
                default_unit_id: p.default_unit_id.map(|u| u.map(UnitId)),
                fallback_unit_id: p.fallback_unit_id.map(|u| u.map(UnitId)),
                calendar_id: p.calendar_id.map(CalendarId),
                sla: p.sla,
                callback_required: p.callback_required,
                active: p.active,
                sort,
            },
        )
        .await?;
    Ok(axum::Json(ty.into()))
}
