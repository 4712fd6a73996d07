//! Work orders (工单): create, list and export, read with the timeline, edit, take lifecycle actions,
//! print, and the customers' status query.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use kefu_domain::{
    AttachmentId, CustomerId, FieldErrors, Phone, UnitId, UserId, WorkOrderId, WorkOrderTypeId,
};
use kefu_store::{
    Act, Acting, CustomerIdentity, IdempotencyKey, NewWorkOrder, WorkOrderChanges, WorkOrderQuery,
};
use kefu_workorders::{Action, Channel, OriginKind, Priority, Status, WorkOrderNo};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageOf, PageParams, double_option, present};

#[derive(Serialize, ToSchema)]
pub struct Named {
    pub id: uuid::Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrderCustomer {
    pub id: uuid::Uuid,
    pub customer_no: String,
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct Deadlines {
    pub accept_due_at: Option<DateTime<Utc>>,
    pub feedback_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    /// The clock stands still (waiting for the customer).
    pub paused: bool,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackView {
    pub result: String,
    pub cause: Option<String>,
    pub materials: Option<String>,
    pub attachments: Vec<uuid::Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: uuid::Uuid,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_name: String,
    pub note: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: uuid::Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// A work order with its timeline, attachments and the actions the caller may take now.
#[derive(Serialize, ToSchema)]
pub struct WorkOrder {
    pub id: uuid::Uuid,
    /// GD + YYMMDD + sequence: GD2611260001.
    pub no: String,
    pub type_id: uuid::Uuid,
    pub type_name: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
    pub origin_kind: Option<String>,
    pub origin_ref: Option<String>,
    pub customer: Option<OrderCustomer>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    pub unit: Option<Named>,
    pub assignee: Option<Named>,
    pub created_by_name: Option<String>,
    /// The earliest unmet deadline while the order is open and its clock runs.
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// A deadline was missed at some point.
    pub breached: bool,
    pub sla: Deadlines,
    pub urge_count: i32,
    pub customer_query_count: i32,
    pub feedback: Option<FeedbackView>,
    pub satisfaction: Option<i16>,
    pub merged_into: Option<uuid::Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub callback_required: bool,
    /// Send it back with every change: a change based on an older version is refused (409).
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: Vec<TimelineEntry>,
    pub attachments: Vec<AttachmentView>,
    pub allowed_actions: Vec<String>,
}

/// A row of the work-order list.
#[derive(Serialize, ToSchema)]
pub struct WorkOrderSummary {
    pub id: uuid::Uuid,
    pub no: String,
    pub type_id: uuid::Uuid,
    pub type_name: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
    pub title: String,
    pub customer_id: Option<uuid::Uuid>,
    pub customer_no: Option<String>,
    pub customer_name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub unit_id: Option<uuid::Uuid>,
    pub unit_name: Option<String>,
    pub assignee_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub breached: bool,
    pub urge_count: i32,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn summary(s: kefu_store::WorkOrderSummary, now: DateTime<Utc>) -> WorkOrderSummary {
    WorkOrderSummary {
        id: s.id.0,
        no: s.no,
        type_id: s.type_id.0,
        type_name: s.type_name,
        status: s.status.as_str().into(),
        priority: s.priority.as_str().into(),
        channel: s.channel.as_str().into(),
        title: s.title,
        customer_id: s.customer_id.map(|c| c.0),
        customer_no: s.customer_no,
        customer_name: s.customer_name,
        contact_name: s.contact_name,
        contact_phone: s.contact_phone,
        address: s.address,
        unit_id: s.unit_id.map(|u| u.0),
        unit_name: s.unit_name,
        assignee_name: s.assignee_name,
        overdue: s.status.is_open() && s.due_at.is_some_and(|d| d <= now),
        due_at: s.due_at,
        breached: s.breached,
        urge_count: s.urge_count,
        closed_at: s.closed_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

pub(crate) fn acting(caller: &Caller) -> Acting {
    Acting {
        user_id: Some(caller.principal.user.id),
        role: Some(caller.principal.user.role),
        unit_id: Some(caller.principal.user.unit_id),
    }
}

/// The whole order as the caller sees it.
async fn view(app: &AppState, caller: &Caller, o: kefu_store::WorkOrder) -> ApiResult<WorkOrder> {
    let acting = acting(caller);
    if let Some(unit) = acting.restricted_to_unit()
        && o.unit.as_ref().map(|u| u.id) != Some(unit.0)
    {
        return Err(ApiError::not_found("work order"));
    }
    let now = Utc::now();
    let timeline = app.store.work_order_events(o.id).await?;
    let attachments = app.store.attachments_of(o.id).await?;
    let allowed = o.allowed_actions(&acting);
    Ok(WorkOrder {
        id: o.id.0,
        no: o.no.clone(),
        type_id: o.type_id.0,
        type_name: o.type_name.clone(),
        status: o.status.as_str().into(),
        priority: o.priority.as_str().into(),
        channel: o.channel.as_str().into(),
        origin_kind: o.origin_kind.clone(),
        origin_ref: o.origin_ref.clone(),
        customer: o.customer.clone().map(|c| OrderCustomer {
            id: c.id.0,
            customer_no: c.customer_no,
            name: c.name,
            phones: c.phones,
            address: c.address,
        }),
        contact_name: o.contact_name.clone(),
        contact_phone: o.contact_phone.clone(),
        address: o.address.clone(),
        title: o.title.clone(),
        description: o.description.clone(),
        fields: o.fields.clone(),
        unit: o.unit.clone().map(|u| Named {
            id: u.id,
            name: u.name,
        }),
        assignee: o.assignee.clone().map(|u| Named {
            id: u.id,
            name: u.name,
        }),
        created_by_name: o.created_by.clone().map(|u| u.name),
        due_at: o.due_at,
        overdue: o.overdue(now),
        breached: o.breached,
        sla: Deadlines {
            accept_due_at: o.sla.due(kefu_workorders::sla::SlaTarget::Accept),
            feedback_due_at: o.sla.due(kefu_workorders::sla::SlaTarget::FirstFeedback),
            resolve_due_at: o.sla.due(kefu_workorders::sla::SlaTarget::Resolve),
            paused: o.status.pauses_sla(),
        },
        urge_count: o.urge_count,
        customer_query_count: o.customer_query_count,
        feedback: o.feedback.clone().map(|f| FeedbackView {
            result: f.result,
            cause: f.cause,
            materials: f.materials,
            attachments: f.attachments.into_iter().map(|a| a.0).collect(),
            submitted_at: f.submitted_at,
            submitted_by: f.submitted_by,
        }),
        satisfaction: o.satisfaction,
        merged_into: o.merged_into.map(|m| m.0),
        closed_at: o.closed_at,
        callback_required: o.callback_required,
        version: o.version,
        created_at: o.created_at,
        updated_at: o.updated_at,
        timeline: timeline
            .into_iter()
            .map(|e| TimelineEntry {
                id: e.id.0,
                action: e.action.as_str().into(),
                from_status: e.from_status.map(|s| s.as_str().into()),
                to_status: e.to_status.as_str().into(),
                actor_name: e.actor_name,
                note: e.note,
                data: e.data,
                at: e.at,
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentView {
                id: a.id.0,
                filename: a.filename,
                content_type: a.content_type,
                size: a.size,
                sha256: a.sha256,
                created_at: a.created_at,
            })
            .collect(),
        allowed_actions: allowed.iter().map(|a| a.as_str().to_string()).collect(),
    })
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// call, message, document or person.
    pub kind: String,
    /// What created it: a call record's id, a message id, a document reference (1-100 characters).
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkOrderInput {
    pub type_id: uuid::Uuid,
    /// phone, ivr, sms, fax, email, web, walk_in or authority.
    pub channel: String,
    pub origin: Option<Origin>,
    pub customer_id: Option<uuid::Uuid>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    /// Values of the type's custom fields, by key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Value,
    /// Omitted: the type's priority rules decide.
    pub priority: Option<String>,
    /// Dispatch at once to this unit.
    pub unit_id: Option<uuid::Uuid>,
    pub assignee_id: Option<uuid::Uuid>,
}

fn parse_phone(
    app: &AppState,
    field: &str,
    v: Option<&str>,
) -> Result<Option<String>, FieldErrors> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(p) => Phone::parse(p, &app.settings.area)
            .map(|p| Some(p.as_str().to_string()))
            .map_err(|e| {
                let mut errs = FieldErrors::new();
                errs.push(field, e.reason);
                errs
            }),
    }
}

/// Creates a work order. Send an `Idempotency-Key` header (any 1-100 visible characters, e.g. a UUID
/// made once per form) so that a retried request returns the same order instead of making a second.
#[utoipa::path(post, path = "/api/v1/work-orders", tag = "work orders", request_body = NewWorkOrderInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create return the first order")),
    responses((status = 201, body = WorkOrder), (status = 200, description = "Replayed: an earlier request with this key made it", body = WorkOrder), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<NewWorkOrderInput>,
) -> ApiResult<Response> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| (1..=100).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or_else(|| {
                    ApiError::field("Idempotency-Key", "1-100 visible ASCII characters")
                })?;
            let body = serde_json::to_vec(&input).unwrap_or_default();
            Some(IdempotencyKey {
                owner: caller.principal.user.id.to_string(),
                key: k.to_string(),
                request_hash: hex::encode(Sha256::digest(&body)),
            })
        }
    };
    let mut errors = FieldErrors::new();
    let channel = errors.check("channel", Channel::parse(&input.channel));
    let priority = match input.priority.as_deref() {
        None => Some(None),
        Some(p) => errors.check("priority", Priority::parse(p)).map(Some),
    };
    let origin = match &input.origin {
        None => Some((None, None)),
        Some(o) => {
            let kind = errors.check("origin.kind", OriginKind::parse(&o.kind));
            let reference = errors.check(
                "origin.ref",
                kefu_domain::bounded_text(&o.reference, 1, 100),
            );
            kind.zip(reference)
                .map(|(k, r)| (Some(k.as_str().to_string()), Some(r)))
        }
    };
    let phone = match parse_phone(&app, "contact_phone", input.contact_phone.as_deref()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    errors.into_result()?;
    let (origin_kind, origin_ref) = origin.expect("checked");
    let new = NewWorkOrder {
        type_id: WorkOrderTypeId(input.type_id),
        channel: channel.expect("checked"),
        origin_kind,
        origin_ref,
        customer_id: input.customer_id.map(CustomerId),
        contact_name: input.contact_name.clone(),
        contact_phone: phone.expect("checked"),
        address: input.address.clone(),
        title: input.title.clone(),
        description: input.description.clone(),
        fields: input.fields.clone(),
        priority: priority.expect("checked"),
        unit_id: input.unit_id.map(UnitId),
        assignee_id: input.assignee_id.map(UserId),
    };
    let created = app
        .store
        .create_work_order(
            &caller.actor,
            &acting(&caller),
            new,
            key,
            app.today(),
            Utc::now(),
        )
        .await?;
    app.notify_changed();
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = view(&app, &caller, created.order).await?;
    let mut resp = (status, axum::Json(body)).into_response();
    if created.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// An order number (or its digits), or text in the title, description or address.
    pub q: Option<String>,
    pub no: Option<String>,
    pub customer_id: Option<String>,
    pub customer_no: Option<String>,
    /// The contact phone or one of the customer's phones, any common format.
    pub phone: Option<String>,
    pub type_id: Option<String>,
    /// One or more statuses, comma-separated.
    pub status: Option<String>,
    /// Only orders where work remains.
    pub open: Option<bool>,
    pub unit_id: Option<String>,
    pub assignee_id: Option<String>,
    pub priority: Option<String>,
    /// Only overdue orders, most overdue first.
    pub overdue: Option<bool>,
    /// Created on or after this date (company time) or RFC 3339 instant.
    pub from: Option<String>,
    /// Created on or before this date (inclusive) or before this instant.
    pub to: Option<String>,
    /// csv or xlsx (export only).
    pub format: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn uuid_param(field: &str, v: &Option<String>, errors: &mut FieldErrors) -> Option<uuid::Uuid> {
    given(v).and_then(|s| match s.parse() {
        Ok(u) => Some(u),
        Err(_) => {
            errors.push(field, "not a UUID");
            None
        }
    })
}

fn instant(
    offset: &FixedOffset,
    field: &str,
    s: &str,
    end_of_day: bool,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => {
            let d = if end_of_day {
                d.succ_opt().unwrap_or(d)
            } else {
                d
            };
            offset
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .single()
                .map(|t| t.with_timezone(&Utc))
        }
        Err(_) => {
            errors.push(field, "a date YYYY-MM-DD or an RFC 3339 time");
            None
        }
    }
}

async fn query_of(app: &AppState, caller: &Caller, p: &ListParams) -> ApiResult<WorkOrderQuery> {
    let mut errors = FieldErrors::new();
    let offset = app.settings.utc_offset;
    let mut statuses = Vec::new();
    if let Some(s) = given(&p.status) {
        for part in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(st) = errors.check("status", Status::parse(part)) {
                statuses.push(st);
            }
        }
    }
    let q = given(&p.q).map(str::to_string);
    if let Some(t) = &q
        && t.chars().count() > 100
    {
        errors.push("q", "at most 100 characters");
    }
    let no = given(&p.no).and_then(|n| errors.check("no", WorkOrderNo::parse(n)));
    let phone = match parse_phone(app, "phone", given(&p.phone)) {
        Ok(p) => p,
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    let mut customer_id = uuid_param("customer_id", &p.customer_id, &mut errors).map(CustomerId);
    let type_id = uuid_param("type_id", &p.type_id, &mut errors).map(WorkOrderTypeId);
    let unit_id = uuid_param("unit_id", &p.unit_id, &mut errors).map(UnitId);
    let assignee_id = uuid_param("assignee_id", &p.assignee_id, &mut errors).map(UserId);
    let priority = given(&p.priority).and_then(|s| errors.check("priority", Priority::parse(s)));
    let from = given(&p.from).and_then(|s| instant(&offset, "from", s, false, &mut errors));
    let to = given(&p.to).and_then(|s| instant(&offset, "to", s, true, &mut errors));
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        errors.push("to", "must be later than from");
    }
    errors.into_result()?;
    let mut nothing = false;
    if let Some(cno) = given(&p.customer_no) {
        match app.store.customer_id_by_no(cno).await? {
            Some(id) if customer_id.is_none_or(|c| c == id) => customer_id = Some(id),
            _ => nothing = true,
        }
    }
    let acting = acting(caller);
    Ok(WorkOrderQuery {
        q,
        no: no.map(|n| n.as_str().to_string()),
        customer_id: if nothing {
            Some(CustomerId(uuid::Uuid::nil()))
        } else {
            customer_id
        },
        phone,
        type_id,
        statuses,
        open: p.open.unwrap_or(false),
        unit_id,
        assignee_id,
        priority,
        overdue_at: p.overdue.unwrap_or(false).then(Utc::now),
        created_from: from,
        created_before: to,
        restrict_unit: acting.restricted_to_unit(),
    })
}

/// Work orders, newest first (or most overdue first with `overdue=true`); every filter given must
/// match. Site staff see only their unit's orders.
#[utoipa::path(get, path = "/api/v1/work-orders", tag = "work orders", params(ListParams), responses((status = 200, body = PageOf<WorkOrderSummary>), (status = 422, body = crate::problem::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<PageOf<WorkOrderSummary>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    if p.format.is_some() {
        return Err(ApiError::field("format", "only for /work-orders/export"));
    }
    let q = query_of(&app, &caller, &p).await?;
    let found = app.store.work_orders(&q, page).await?;
    let now = Utc::now();
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(|s| summary(s, now)).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

/// Most rows one export writes.
const EXPORT_LIMIT: u64 = 100_000;

/// The list as a CSV (UTF-8 with BOM, for Excel) or Excel file, with Chinese headers; up to 100,000
/// rows.
#[utoipa::path(get, path = "/api/v1/work-orders/export", tag = "work orders", params(ListParams), responses((status = 200, description = "text/csv or an .xlsx workbook"), (status = 422, body = crate::problem::Problem)))]
pub async fn export(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    let format = given(&p.format).unwrap_or("csv").to_ascii_lowercase();
    if format != "csv" && format != "xlsx" {
        return Err(ApiError::field("format", "csv or xlsx"));
    }
    if p.page.is_some() || p.per_page.is_some() {
        return Err(ApiError::field(
            "page",
            "an export has every matching row; no paging",
        ));
    }
    let q = query_of(&app, &caller, &p).await?;
    let rows = app.store.work_orders_for_export(&q, EXPORT_LIMIT).await?;
    let offset = app.settings.utc_offset;
    let now = Utc::now();
    let headers = [
        "工单编号",
        "类型",
        "状态",
        "优先级",
        "来源渠道",
        "标题",
        "户号",
        "客户",
        "联系人",
        "联系电话",
        "地址",
        "处理单位",
        "处理人",
        "时限",
        "超时",
        "催办次数",
        "创建时间",
        "办结时间",
    ];
    let local = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let table: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let overdue = r.status.is_open() && r.due_at.is_some_and(|d| d <= now);
            vec![
                r.no,
                r.type_name,
                r.status.label_zh().into(),
                r.priority.label_zh().into(),
                r.channel.label_zh().into(),
                r.title,
                r.customer_no.unwrap_or_default(),
                r.customer_name.unwrap_or_default(),
                r.contact_name.unwrap_or_default(),
                r.contact_phone.unwrap_or_default(),
                r.address.unwrap_or_default(),
                r.unit_name.unwrap_or_default(),
                r.assignee_name.unwrap_or_default(),
                local(r.due_at),
                if overdue { "是" } else { "" }.into(),
                r.urge_count.to_string(),
                local(Some(r.created_at)),
                local(r.closed_at),
            ]
        })
        .collect();
    let stamp = now.with_timezone(&offset).format("%Y%m%d-%H%M");
    let (bytes, content_type, name) = if format == "csv" {
        let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        w.write_record(headers).map_err(|_| ApiError::internal())?;
        for row in &table {
            // A cell starting with = + - @ would be a formula in a spreadsheet: quote it as text.
            w.write_record(row.iter().map(|c| spreadsheet_safe(c)))
                .map_err(|_| ApiError::internal())?;
        }
        let bytes = w.into_inner().map_err(|_| ApiError::internal())?;
        (
            bytes,
            "text/csv; charset=utf-8",
            format!("work-orders-{stamp}.csv"),
        )
    } else {
        let bytes = tokio::task::spawn_blocking(move || xlsx(&headers, &table))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| {
                tracing::error!(error = %e, "xlsx export");
                ApiError::internal()
            })?;
        (
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("work-orders-{stamp}.xlsx"),
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn spreadsheet_safe(c: &str) -> String {
    if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{c}")
    } else {
        c.to_string()
    }
}

fn xlsx(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("工单")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // Strings only: nothing a customer typed is ever evaluated as a formula.
            sheet.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[utoipa::path(get, path = "/api/v1/work-orders/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = WorkOrder), (status = 404, body = crate::problem::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<WorkOrder>> {
    let o = app.store.work_order(WorkOrderId(id)).await?;
    Ok(axum::Json(view(&app, &caller, o).await?))
}

/// An order by its number (GD2611260001, or its digits).
#[utoipa::path(get, path = "/api/v1/work-orders/by-no/{no}", tag = "work orders", params(("no" = String, Path)), responses((status = 200, body = WorkOrder), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn by_no(
    State(app): State<AppState>,
    caller: Caller,
    Path(no): Path<String>,
) -> ApiResult<axum::Json<WorkOrder>> {
    let no = WorkOrderNo::parse(&no).map_err(|e| ApiError::field("no", e.reason))?;
    let o = app.store.work_order_by_no(&no).await?;
    Ok(axum::Json(view(&app, &caller, o).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderPatch {
    /// The version you loaded.
    pub version: i32,
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub address: Option<Option<String>>,
    pub note: Option<String>,
}

/// Edits an open order's content (the call center's desk only). `version` must be the one loaded.
#[utoipa::path(patch, path = "/api/v1/work-orders/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)), request_body = WorkOrderPatch, responses((status = 200, body = WorkOrder), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<WorkOrderPatch>,
) -> ApiResult<axum::Json<WorkOrder>> {
    let mut errors = FieldErrors::new();
    let priority = p
        .priority
        .as_deref()
        .and_then(|s| errors.check("priority", Priority::parse(s)));
    let contact_phone = match &p.contact_phone {
        None => None,
        Some(v) => match parse_phone(&app, "contact_phone", v.as_deref()) {
            Ok(ph) => Some(ph),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        },
    };
    let note = match kefu_store::check_note(p.note.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    errors.into_result()?;
    let changes = WorkOrderChanges {
        title: p.title,
        description: p.description,
        fields: p.fields,
        priority,
        contact_name: p.contact_name,
        contact_phone,
        address: p.address,
    };
    let o = app
        .store
        .act_on_work_order(
            &caller.actor,
            &acting(&caller),
            WorkOrderId(id),
            Some(p.version),
            Act::Update(changes),
            note,
            Utc::now(),
        )
        .await?;
    Ok(axum::Json(view(&app, &caller, o).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// 处理结果.
    pub result: String,
    /// 原因.
    pub cause: Option<String>,
    /// 材料.
    pub materials: Option<String>,
    /// Uploaded attachments (photos, files).
    #[serde(default)]
    pub attachments: Vec<uuid::Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// dispatch, reassign, accept, progress, wait_customer, resume, submit_feedback, return, close,
    /// callback, archive, reopen, cancel, merge, urge or comment.
    pub action: String,
    /// The version you loaded.
    pub version: i32,
    pub note: Option<String>,
    /// dispatch and reassign: the unit (department, site or crew) that gets the order.
    pub unit_id: Option<uuid::Uuid>,
    pub assignee_id: Option<uuid::Uuid>,
    /// cancel: why.
    pub reason: Option<String>,
    /// merge: the number of the order this one duplicates.
    pub into: Option<String>,
    /// submit_feedback.
    pub feedback: Option<FeedbackInput>,
    /// callback: 1 (very dissatisfied) to 5 (very satisfied).
    pub satisfaction: Option<u8>,
    /// urge: the customer is chasing (recorded and counted as such).
    pub by_customer: Option<bool>,
}

/// Takes one lifecycle action. Illegal in the order's status → 409; not allowed for the caller → 403;
/// `version` older than the order's → 409 and nothing changes.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/actions", tag = "work orders", params(("id" = uuid::Uuid, Path)), request_body = ActionInput, responses((status = 200, body = WorkOrder), (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn act(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(input): Json<ActionInput>,
) -> ApiResult<axum::Json<WorkOrder>> {
    let action = Action::parse(&input.action).map_err(|e| ApiError::field("action", e.reason))?;
    let need = |field: &str| ApiError::field(field, format!("required for {action}"));
    let note = kefu_store::check_note(input.note.as_deref())?;
    let act = match action {
        Action::Dispatch | Action::Reassign => {
            let unit_id = UnitId(input.unit_id.ok_or_else(|| need("unit_id"))?);
            let assignee_id = input.assignee_id.map(UserId);
            if action == Action::Dispatch {
                Act::Dispatch {
                    unit_id,
                    assignee_id,
                }
            } else {
                Act::Reassign {
                    unit_id,
                    assignee_id,
                }
            }
        }
        Action::Accept => Act::Accept,
        Action::Progress => {
            if note.is_none() {
                return Err(need("note"));
            }
            Act::Progress
        }
        Action::WaitCustomer => Act::WaitCustomer,
        Action::Resume => Act::Resume,
        Action::SubmitFeedback => {
            let f = input.feedback.ok_or_else(|| need("feedback"))?;
            Act::SubmitFeedback {
                result: f.result,
                cause: f.cause,
                materials: f.materials,
                attachments: f.attachments.into_iter().map(AttachmentId).collect(),
            }
        }
        Action::ReturnForRework => {
            if note.is_none() {
                return Err(need("note"));
            }
            Act::ReturnForRework
        }
        Action::Close => Act::Close,
        Action::Callback => Act::Callback {
            satisfaction: input.satisfaction.ok_or_else(|| need("satisfaction"))?,
        },
        Action::Archive => Act::Archive,
        Action::Reopen => Act::Reopen,
        Action::Cancel => Act::Cancel {
            reason: input.reason.ok_or_else(|| need("reason"))?,
        },
        Action::Merge => {
            let into = input.into.ok_or_else(|| need("into"))?;
            let no = WorkOrderNo::parse(&into).map_err(|e| ApiError::field("into", e.reason))?;
            let target = app
                .store
                .work_order_by_no(&no)
                .await
                .map_err(|_| ApiError::field("into", "no work order with this number"))?;
            Act::Merge { into: target.id }
        }
        Action::Urge => Act::Urge {
            by_customer: input.by_customer.unwrap_or(false),
        },
        Action::Comment => {
            if note.is_none() {
                return Err(need("note"));
            }
            Act::Comment
        }
        Action::Create
        | Action::Update
        | Action::CustomerQuery
        | Action::Remind
        | Action::Escalate => {
            return Err(ApiError::field(
                "action",
                format!("{action} is not taken through this endpoint"),
            ));
        }
    };
    let o = app
        .store
        .act_on_work_order(
            &caller.actor,
            &acting(&caller),
            WorkOrderId(id),
            Some(input.version),
            act,
            note,
            Utc::now(),
        )
        .await?;
    app.notify_changed();
    Ok(axum::Json(view(&app, &caller, o).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusQueryInput {
    /// The order number (or its digits).
    pub no: Option<String>,
    pub customer_no: Option<String>,
    /// Any common format.
    pub phone: Option<String>,
    /// How the customer asks: ivr, sms, email, web, phone …
    pub channel: String,
    /// urge only: what the customer said.
    pub note: Option<String>,
}

/// What a customer is told about an order.
#[derive(Serialize, ToSchema)]
pub struct CustomerStatus {
    pub no: String,
    pub type_name: String,
    pub status: String,
    /// 已派单 …
    pub status_label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn identity(app: &AppState, s: &StatusQueryInput) -> ApiResult<(CustomerIdentity, Channel)> {
    let mut errors = FieldErrors::new();
    let channel = errors.check("channel", Channel::parse(&s.channel));
    let no = given(&s.no).and_then(|n| errors.check("no", WorkOrderNo::parse(n)));
    let customer_no = given(&s.customer_no).map(str::to_string);
    let phone = match parse_phone(app, "phone", given(&s.phone)) {
        Ok(p) => p,
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    errors.into_result()?;
    let who = CustomerIdentity {
        no,
        customer_no,
        phone,
    };
    let identified = match (&who.no, &who.customer_no, &who.phone) {
        (Some(_), c, p) => c.is_some() || p.is_some(),
        (None, Some(_), Some(_)) => true,
        _ => false,
    };
    if !identified {
        return Err(ApiError::field(
            "no",
            "identify the customer: an order number with the phone or customer number on it, or a customer number with one of the customer's phones",
        ));
    }
    Ok((who, channel.expect("checked")))
}

/// The customers' status query (for the IVR, SMS, email and web channels): an identified customer's
/// orders with status and safe fields only; each query is recorded on the order. Not identified →
/// 404, whatever the reason.
#[utoipa::path(post, path = "/api/v1/status-query", tag = "work orders", request_body = StatusQueryInput, responses((status = 200, body = [CustomerStatus]), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn status_query(
    State(app): State<AppState>,
    caller: Caller,
    Json(s): Json<StatusQueryInput>,
) -> ApiResult<axum::Json<Vec<CustomerStatus>>> {
    if s.note.is_some() {
        return Err(ApiError::field("note", "only for /status-query/urge"));
    }
    let (who, channel) = identity(&app, &s)?;
    let found = app
        .store
        .customer_status_query(&who, channel, &caller.actor, Utc::now())
        .await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|v| CustomerStatus {
                no: v.no,
                type_name: v.type_name,
                status: v.status.as_str().into(),
                status_label: v.status.label_zh().into(),
                created_at: v.created_at,
                updated_at: v.updated_at,
                resolve_due_at: v.resolve_due_at,
                closed_at: v.closed_at,
            })
            .collect(),
    ))
}

/// A customer chases an order (催办): recorded on it and counted, and the unit is told.
#[utoipa::path(post, path = "/api/v1/status-query/urge", tag = "work orders", request_body = StatusQueryInput, responses((status = 200, body = CustomerStatus), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn customer_urge(
    State(app): State<AppState>,
    caller: Caller,
    Json(s): Json<StatusQueryInput>,
) -> ApiResult<axum::Json<CustomerStatus>> {
    let (who, channel) = identity(&app, &s)?;
    let note = kefu_store::check_note(s.note.as_deref())?;
    let o = app
        .store
        .customer_urge(&who, channel, note, &caller.actor, Utc::now())
        .await?;
    app.notify_changed();
    Ok(axum::Json(CustomerStatus {
        no: o.no.clone(),
        type_name: o.type_name.clone(),
        status: o.status.as_str().into(),
        status_label: o.status.label_zh().into(),
        created_at: o.created_at,
        updated_at: o.updated_at,
        resolve_due_at: o
            .status
            .is_open()
            .then(|| o.sla.due(kefu_workorders::sla::SlaTarget::Resolve))
            .flatten(),
        closed_at: o.closed_at,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PdfParams {
    /// zh-CN (default) or en.
    pub lang: Option<String>,
}

/// The printed service work order (服务工单) as a PDF: header, number with QR and bar code, customer,
/// problem, custom fields, deadlines, timeline, feedback and signature lines; CJK fonts embedded.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/pdf", tag = "work orders", params(("id" = uuid::Uuid, Path), PdfParams), responses((status = 200, description = "application/pdf"), (status = 404, body = crate::problem::Problem), (status = 503, body = crate::problem::Problem)))]
pub async fn pdf(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Query(p): Query<PdfParams>,
) -> ApiResult<Response> {
    let english = match p.lang.as_deref() {
        None | Some("zh-CN") | Some("zh") => false,
        Some("en") => true,
        Some(_) => return Err(ApiError::field("lang", "zh-CN or en")),
    };
    let o = app.store.work_order(WorkOrderId(id)).await?;
    let v = view(&app, &caller, o.clone()).await?;
    let ty = app.store.work_order_type(o.type_id).await?;
    let offset = app.settings.utc_offset;
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let label = |zh: &str, en: Option<&str>| {
        if english {
            en.unwrap_or(zh).to_string()
        } else {
            zh.to_string()
        }
    };
    let mut fields = Vec::new();
    for def in ty.form.fields() {
        let Some(value) = o.fields.get(&def.key) else {
            continue;
        };
        let shown = match (def.kind, value) {
            (kefu_workorders::FieldKind::Choice, Value::String(s)) => def
                .options
                .iter()
                .find(|opt| &opt.value == s)
                .map(|opt| label(&opt.label, opt.label_en.as_deref()))
                .unwrap_or_else(|| s.clone()),
            (kefu_workorders::FieldKind::Attachment, Value::Array(ids)) => {
                let names: Vec<String> = ids
                    .iter()
                    .filter_map(|i| i.as_str())
                    .map(|i| {
                        v.attachments
                            .iter()
                            .find(|a| a.id.to_string() == i)
                            .map(|a| a.filename.clone())
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect();
                names.join("、")
            }
            (kefu_workorders::FieldKind::Customer, Value::String(s)) => o
                .customer
                .as_ref()
                .filter(|c| c.id.0.to_string() == *s)
                .map(|c| format!("{} {}", c.customer_no, c.name))
                .unwrap_or_else(|| s.clone()),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        fields.push((label(&def.label, def.label_en.as_deref()), shown));
    }
    let mut due = Vec::new();
    for (target, at) in [
        (kefu_workorders::sla::SlaTarget::Accept, v.sla.accept_due_at),
        (
            kefu_workorders::sla::SlaTarget::FirstFeedback,
            v.sla.feedback_due_at,
        ),
        (
            kefu_workorders::sla::SlaTarget::Resolve,
            v.sla.resolve_due_at,
        ),
    ] {
        if let Some(at) = at {
            due.push((label(target.label_zh(), Some(target.label_en())), local(at)));
        }
    }
    let status_label = |s: Status| {
        if english {
            s.label_en().to_string()
        } else {
            s.label_zh().to_string()
        }
    };
    let sheet = kefu_print::WorkOrderSheet {
        company: app.settings.company_name.clone(),
        title: label("服务工单", Some("Service work order")),
        number: o.no.clone(),
        qr_payload: o.no.clone(),
        created_at: local(o.created_at),
        printed_at: local(Utc::now()),
        type_name: o.type_name.clone(),
        priority: label(o.priority.label_zh(), Some(o.priority.as_str())),
        status: status_label(o.status),
        channel: label(o.channel.label_zh(), Some(o.channel.as_str())),
        unit: o.unit.as_ref().map(|u| u.name.clone()),
        assignee: o.assignee.as_ref().map(|u| u.name.clone()),
        customer: o.customer.as_ref().map(|c| kefu_print::SheetCustomer {
            name: c.name.clone(),
            customer_no: c.customer_no.clone(),
            phones: c.phones.clone(),
            address: o.address.clone().unwrap_or_else(|| c.address.clone()),
        }),
        problem: format!("{}\n{}", o.title, o.description),
        fields,
        due,
        timeline: v
            .timeline
            .iter()
            .map(|e| kefu_print::SheetEvent {
                at: local(e.at),
                actor: e.actor_name.clone(),
                action: Action::parse(&e.action)
                    .map(|a| label(a.label_zh(), Some(a.as_str())))
                    .unwrap_or_else(|_| e.action.clone()),
                note: e.note.clone().unwrap_or_default(),
            })
            .collect(),
        feedback: o.feedback.as_ref().map(|f| kefu_print::SheetFeedback {
            result: f.result.clone(),
            cause: f.cause.clone().unwrap_or_default(),
            materials: f.materials.clone().unwrap_or_default(),
            attachments: f
                .attachments
                .iter()
                .map(|a| {
                    v.attachments
                        .iter()
                        .find(|m| m.id == a.0)
                        .map(|m| m.filename.clone())
                        .unwrap_or_else(|| a.to_string())
                })
                .collect(),
        }),
        labels: if english {
            kefu_print::Labels::en()
        } else {
            kefu_print::Labels::zh_cn()
        },
    };
    let fonts = app.fonts().map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "print-unavailable",
            format!("printing is not available: {e}"),
        )
    })?;
    let bytes = tokio::task::spawn_blocking(move || kefu_print::render(&sheet, &fonts))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "rendering a work order");
            ApiError::internal()
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.pdf\"", o.no),
            ),
        ],
        bytes,
    )
        .into_response())
}
