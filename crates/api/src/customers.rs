//! Customers, caller-ID lookup, accounts, bills and payments.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::{
    Address, Cents, CustomerId, CustomerName, CustomerNo, CustomerRecord, District, FieldErrors,
    Language, MeterNo, NoticePreference, PaymentMethod, PaymentRecord, Period, Phone, ServiceType,
    bounded_text, email_address,
};
use kefu_store::CustomerQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageOf, PageParams, bounded, double_option, present};

/// A customer as sent by a client (create) or the full state after a merge (update).
#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// 户号: 4-20 letters, digits or dashes.
    pub customer_no: String,
    pub name: String,
    /// One or more numbers; the first is the primary one. Any common format: `138 1234 5678`,
    /// `0574-87654321`, `+86 …`.
    pub phones: Vec<String>,
    pub address: String,
    /// e.g. 海曙区.
    pub district: String,
    /// bottled or pipeline.
    pub service_type: String,
    pub meter_no: Option<String>,
    /// voice, fax, sms or email.
    pub notice_preference: String,
    pub fax: Option<String>,
    pub email: Option<String>,
    /// zh-CN or en.
    #[serde(default = "default_language")]
    pub language: String,
    pub remarks: Option<String>,
}

fn default_language() -> String {
    "zh-CN".into()
}

/// Validates every field of `input`, reporting all errors at once.
pub fn parse_customer(
    input: &CustomerInput,
    area: &kefu_domain::AreaCode,
) -> Result<CustomerRecord, FieldErrors> {
    let mut errs = FieldErrors::new();
    let customer_no = errs.check("customer_no", CustomerNo::parse(&input.customer_no));
    let name = errs.check("name", CustomerName::parse(&input.name));
    let mut phones: Vec<Phone> = Vec::new();
    if input.phones.is_empty() {
        errs.push("phones", "at least one phone number is required");
    }
    if input.phones.len() > 10 {
        errs.push("phones", "at most 10 phone numbers");
    }
    for (i, p) in input.phones.iter().enumerate().take(10) {
        if let Some(p) = errs.check(&format!("phones[{i}]"), Phone::parse(p, area))
            && !phones.contains(&p)
        {
            phones.push(p);
        }
    }
    let address = errs.check("address", Address::parse(&input.address));
    let district = errs.check("district", District::parse(&input.district));
    let service_type = errs.check("service_type", ServiceType::parse(&input.service_type));
    let meter_no = match input.meter_no.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(m) => errs.check("meter_no", MeterNo::parse(m)).map(Some),
        None => Some(None),
    };
    let notice = errs.check(
        "notice_preference",
        NoticePreference::parse(&input.notice_preference),
    );
    let fax = match input.fax.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(f) => errs.check("fax", Phone::parse(f, area)).map(Some),
        None => Some(None),
    };
    let email = match input.email.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(e) => errs.check("email", email_address(e)).map(Some),
        None => Some(None),
    };
    let language = errs.check("language", Language::parse(&input.language));
    let remarks = match input.remarks.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(r) => errs.check("remarks", bounded_text(r, 1, 500)).map(Some),
        None => Some(None),
    };
    if notice == Some(NoticePreference::Fax) && fax == Some(None) {
        errs.push("fax", "required when notice_preference is fax");
    }
    if notice == Some(NoticePreference::Email) && email == Some(None) {
        errs.push("email", "required when notice_preference is email");
    }
    errs.clone().into_result()?;
    match (
        customer_no,
        name,
        address,
        district,
        service_type,
        meter_no,
        notice,
        fax,
        email,
        language,
        remarks,
    ) {
        (
            Some(customer_no),
            Some(name),
            Some(address),
            Some(district),
            Some(service_type),
            Some(meter_no),
            Some(notice_preference),
            Some(fax),
            Some(email),
            Some(language),
            Some(remarks),
        ) => Ok(CustomerRecord {
            customer_no,
            name,
            phones,
            address,
            district,
            service_type,
            meter_no,
            notice_preference,
            fax,
            email,
            language,
            remarks,
        }),
        _ => Err(errs),
    }
}

#[derive(Serialize, ToSchema)]
pub struct Customer {
    pub id: uuid::Uuid,
    pub customer_no: String,
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
    pub district: String,
    pub service_type: String,
    pub meter_no: Option<String>,
    pub notice_preference: String,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub language: String,
    pub remarks: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Customer> for Customer {
    fn from(c: kefu_store::Customer) -> Customer {
        Customer {
            id: c.id.0,
            customer_no: c.customer_no,
            name: c.name,
            phones: c.phones,
            address: c.address,
            district: c.district,
            service_type: c.service_type,
            meter_no: c.meter_no,
            notice_preference: c.notice_preference,
            fax: c.fax,
            email: c.email,
            language: c.language,
            remarks: c.remarks,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustomerSummary {
    pub id: uuid::Uuid,
    pub customer_no: String,
    pub name: String,
    pub primary_phone: Option<String>,
    pub address: String,
    pub district: String,
    pub service_type: String,
    /// Unpaid bills past their due date, in fen.
    pub overdue_cents: i64,
}

impl From<kefu_store::CustomerSummary> for CustomerSummary {
    fn from(c: kefu_store::CustomerSummary) -> CustomerSummary {
        CustomerSummary {
            id: c.id.0,
            customer_no: c.customer_no,
            name: c.name,
            primary_phone: c.primary_phone,
            address: c.address,
            district: c.district,
            service_type: c.service_type,
            overdue_cents: c.overdue_cents,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Bill {
    pub id: uuid::Uuid,
    /// YYYY-MM.
    pub period: String,
    pub amount_cents: i64,
    pub due_date: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    /// unpaid, paid or overdue.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Payment {
    pub id: uuid::Uuid,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub method: String,
    pub period: Option<String>,
    pub reference: Option<String>,
}

impl From<kefu_store::Payment> for Payment {
    fn from(p: kefu_store::Payment) -> Payment {
        Payment {
            id: p.id,
            amount_cents: p.amount_cents,
            paid_on: p.paid_on,
            method: p.method,
            period: p.period,
            reference: p.reference,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: uuid::Uuid,
    pub account_no: String,
    pub opened_on: NaiveDate,
    /// Newest period first.
    pub bills: Vec<Bill>,
    /// Newest first.
    pub payments: Vec<Payment>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: Customer,
    pub accounts: Vec<Account>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CustomerSearch {
    /// A customer number or phone number (exact), or a name or address fragment.
    pub q: Option<String>,
    pub customer_no: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub district: Option<String>,
    /// bottled or pipeline.
    pub service_type: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerSearch), responses((status = 200, body = PageOf<CustomerSummary>), (status = 422, body = crate::problem::Problem)))]
pub async fn search(
    State(app): State<AppState>,
    Query(s): Query<CustomerSearch>,
) -> ApiResult<axum::Json<PageOf<CustomerSummary>>> {
    let page = PageParams {
        page: s.page,
        per_page: s.per_page,
    }
    .request()?;
    let text =
        |f: &str, v: &Option<String>| v.as_deref().map(|v| bounded(f, v, 0, 100)).transpose();
    let q = text("q", &s.q)?;
    let area = &app.settings.area;
    let query = CustomerQuery {
        q_phone: q.as_deref().and_then(|q| Phone::parse(q, area).ok()),
        q,
        customer_no: text("customer_no", &s.customer_no)?,
        phone: s
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| Phone::parse(p, area).map_err(|e| ApiError::field("phone", e.reason)))
            .transpose()?,
        name: text("name", &s.name)?,
        address: text("address", &s.address)?,
        district: text("district", &s.district)?,
        service_type: s
            .service_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| {
                ServiceType::parse(t)
                    .map(|t| t.as_str().to_string())
                    .map_err(|e| ApiError::field("service_type", e.reason))
            })
            .transpose()?,
    };
    let found = app
        .store
        .search_customers(&query, page, app.today())
        .await?;
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(Into::into).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

/// Caller-ID lookup: the customers having exactly this number (any common format; normalized first).
#[utoipa::path(get, path = "/api/v1/customers/by-phone/{phone}", tag = "customers", params(("phone" = String, Path)), responses((status = 200, body = [CustomerSummary]), (status = 422, body = crate::problem::Problem)))]
pub async fn by_phone(
    State(app): State<AppState>,
    Path(phone): Path<String>,
) -> ApiResult<axum::Json<Vec<CustomerSummary>>> {
    let phone =
        Phone::parse(&phone, &app.settings.area).map_err(|e| ApiError::field("phone", e.reason))?;
    let found = app.store.customers_by_phone(&phone, app.today()).await?;
    Ok(axum::Json(found.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerInput, responses((status = 201, body = Customer), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(input): Json<CustomerInput>,
) -> ApiResult<(StatusCode, axum::Json<Customer>)> {
    let record = parse_customer(&input, &app.settings.area)?;
    let c = app
        .store
        .create_customer(&caller.actor, &record, app.today())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(c.into())))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CustomerDetail), (status = 404, body = crate::problem::Problem)))]
pub async fn detail(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<CustomerDetail>> {
    let d = app
        .store
        .customer_detail(CustomerId(id), app.today())
        .await?;
    Ok(axum::Json(CustomerDetail {
        customer: d.customer.into(),
        accounts: d
            .accounts
            .into_iter()
            .map(|a| Account {
                id: a.account.id.0,
                account_no: a.account.account_no,
                opened_on: a.account.opened_on,
                bills: a
                    .bills
                    .into_iter()
                    .map(|b| Bill {
                        id: b.id,
                        period: b.period,
                        amount_cents: b.amount_cents,
                        due_date: b.due_date,
                        paid_on: b.paid_on,
                        status: b.status.as_str().into(),
                    })
                    .collect(),
                payments: a.payments.into_iter().map(Into::into).collect(),
            })
            .collect(),
    }))
}

/// Any subset of the customer's fields; `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default, deserialize_with = "present")]
    pub customer_no: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub district: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub service_type: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub meter_no: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub notice_preference: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub fax: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub remarks: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = uuid::Uuid, Path)), request_body = CustomerPatch, responses((status = 200, body = Customer), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<CustomerPatch>,
) -> ApiResult<axum::Json<Customer>> {
    let c = app.store.customer(CustomerId(id)).await?;
    let merged = CustomerInput {
        customer_no: p.customer_no.unwrap_or(c.customer_no),
        name: p.name.unwrap_or(c.name),
        phones: p.phones.unwrap_or(c.phones),
        address: p.address.unwrap_or(c.address),
        district: p.district.unwrap_or(c.district),
        service_type: p.service_type.unwrap_or(c.service_type),
        meter_no: p.meter_no.unwrap_or(c.meter_no),
        notice_preference: p.notice_preference.unwrap_or(c.notice_preference),
        fax: p.fax.unwrap_or(c.fax),
        email: p.email.unwrap_or(c.email),
        language: p.language.unwrap_or(c.language),
        remarks: p.remarks.unwrap_or(c.remarks),
    };
    let record = parse_customer(&merged, &app.settings.area)?;
    Ok(axum::Json(
        app.store
            .update_customer(&caller.actor, CustomerId(id), &record)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// In fen; positive.
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    /// counter, bank, wechat, alipay or other.
    pub method: String,
    /// The bill this payment settles (YYYY-MM), if any.
    pub period: Option<String>,
    pub reference: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/payments", tag = "customers", params(("id" = uuid::Uuid, Path)), request_body = PaymentInput, responses((status = 201, body = Payment), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn record_payment(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<PaymentInput>,
) -> ApiResult<(StatusCode, axum::Json<Payment>)> {
    let mut errs = FieldErrors::new();
    if !(1..=10_000_000_000).contains(&p.amount_cents) {
        errs.push("amount_cents", "must be between 1 and 10000000000 fen");
    }
    let today = app.today();
    if p.paid_on > today {
        errs.push("paid_on", "must not be in the future");
    }
    let method = errs.check("method", PaymentMethod::parse(&p.method));
    let period = match p.period.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => errs.check("period", Period::parse(s)).map(Some),
        None => Some(None),
    };
    let reference = match p.reference.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(r) => errs.check("reference", bounded_text(r, 1, 64)).map(Some),
        None => Some(None),
    };
    errs.into_result()?;
    let (Some(method), Some(period), Some(reference)) = (method, period, reference) else {
        return Err(ApiError::internal());
    };
    let c = app.store.customer(CustomerId(id)).await?;
    let customer_no = CustomerNo::parse(&c.customer_no).map_err(|_| ApiError::internal())?;
    let record = PaymentRecord {
        customer_no,
        period,
        amount: Cents(p.amount_cents),
        paid_on: p.paid_on,
        method,
        reference,
    };
    let payment = app
        .store
        .record_payment(&caller.actor, CustomerId(id), &record)
        .await
        .map_err(|e| match e {
            kefu_store::StoreError::NotFound("bill of this period") => {
                ApiError::field("period", "this customer has no bill for this period")
            }
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(payment.into())))
}
