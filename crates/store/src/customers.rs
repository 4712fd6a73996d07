//! Customers, their phone numbers (for caller-ID lookup), accounts, bills and payments.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::{
    AccountId, BillRecord, BillStatus, CustomerId, CustomerRecord, PaymentRecord, Phone,
};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;

use crate::entities::{account, bill, customer, customer_phone, payment};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, TextField, audit};

/// A customer as stored: every value was validated by the domain on its way in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub customer_no: String,
    pub name: String,
    /// Canonical numbers; the first is the primary one.
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerSummary {
    pub id: CustomerId,
    pub customer_no: String,
    pub name: String,
    pub primary_phone: Option<String>,
    pub address: String,
    pub district: String,
    pub service_type: String,
    /// Sum of unpaid bills past their due date, in fen.
    pub overdue_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub account_no: String,
    pub opened_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    pub id: uuid::Uuid,
    pub period: String,
    pub amount_cents: i64,
    pub due_date: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    pub status: BillStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: uuid::Uuid,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub method: String,
    pub period: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: Account,
    pub bills: Vec<Bill>,
    pub payments: Vec<Payment>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: Customer,
    pub accounts: Vec<AccountDetail>,
}

/// Search criteria; all given ones must match.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Free text: a customer number or a phone number (exact), or a name or address fragment. A `q` of
    /// only digits (and spaces, dashes, +) is taken as a number and matched exactly.
    pub q: Option<String>,
    /// `q` read as a phone number, when it is one.
    pub q_phone: Option<Phone>,
    pub customer_no: Option<String>,
    pub phone: Option<Phone>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub district: Option<String>,
    pub service_type: Option<String>,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
}

/// Bills whose customer number is unknown, by their index in the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillImport {
    pub counts: ImportCounts,
    pub unknown_customers: Vec<usize>,
}

fn customer_from(m: customer::Model, phones: Vec<String>) -> Customer {
    Customer {
        id: CustomerId(m.id),
        customer_no: m.customer_no,
        name: m.name,
        phones,
        address: m.address,
        district: m.district,
        service_type: m.service_type,
        meter_no: m.meter_no,
        notice_preference: m.notice_preference,
        fax: m.fax,
        email: m.email,
        language: m.language,
        remarks: m.remarks,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn active_from(
    id: uuid::Uuid,
    r: &CustomerRecord,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> customer::ActiveModel {
    customer::ActiveModel {
        id: Set(id),
        customer_no: Set(r.customer_no.as_str().to_string()),
        name: Set(r.name.as_str().to_string()),
        name_tail: Set(r.name.as_str().chars().skip(1).collect()),
        address: Set(r.address.as_str().to_string()),
        district: Set(r.district.as_str().to_string()),
        service_type: Set(r.service_type.as_str().to_string()),
        meter_no: Set(r.meter_no.as_ref().map(|m| m.as_str().to_string())),
        notice_preference: Set(r.notice_preference.as_str().to_string()),
        fax: Set(r.fax.as_ref().map(|f| f.as_str().to_string())),
        email: Set(r.email.clone()),
        language: Set(r.language.as_str().to_string()),
        remarks: Set(r.remarks.clone()),
        created_at: Set(created_at),
        updated_at: Set(now),
    }
}

fn phone_rows(id: uuid::Uuid, phones: &[Phone]) -> Vec<customer_phone::ActiveModel> {
    phones
        .iter()
        .enumerate()
        .map(|(i, p)| customer_phone::ActiveModel {
            customer_id: Set(id),
            phone: Set(p.as_str().to_string()),
            position: Set(i as i32),
        })
        .collect()
}

/// The same customer data as `c`? (Used to tell an import's real updates from unchanged rows.)
fn same_data(c: &Customer, r: &CustomerRecord) -> bool {
    c.name == r.name.as_str()
        && c.address == r.address.as_str()
        && c.district == r.district.as_str()
        && c.service_type == r.service_type.as_str()
        && c.meter_no.as_deref() == r.meter_no.as_ref().map(|m| m.as_str())
        && c.notice_preference == r.notice_preference.as_str()
        && c.fax.as_deref() == r.fax.as_ref().map(|f| f.as_str())
        && c.email == r.email
        && c.language == r.language.as_str()
        && c.remarks == r.remarks
        && c.phones
            .iter()
            .map(String::as_str)
            .eq(r.phones.iter().map(Phone::as_str))
}

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
const CHUNK: usize = 500;

impl Store {
    pub async fn create_customer(
        &self,
        actor: &Actor,
        r: &CustomerRecord,
        today: NaiveDate,
    ) -> Result<Customer> {
        let tx = self.db.begin().await?;
        let now = Utc::now();
        let id = CustomerId::new().0;
        customer::Entity::insert(active_from(id, r, now, now))
            .exec_without_returning(&tx)
            .await
            .map_err(|e| {
                StoreError::from_write(e, format!("customer {}", r.customer_no.as_str()).as_str())
            })?;
        customer_phone::Entity::insert_many(phone_rows(id, &r.phones))
            .exec_without_returning(&tx)
            .await?;
        account::Entity::insert(account::ActiveModel {
            id: Set(AccountId::new().0),
            customer_id: Set(id),
            account_no: Set(r.customer_no.as_str().to_string()),
            opened_on: Set(today),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "an account with this number"))?;
        let created = load_customer(&tx, id).await?;
        audit::record(
            &tx,
            actor,
            "customer.create",
            "customer",
            Some(id.to_string()),
            None::<&()>,
            Some(&created),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Replaces the customer's data with `r`. The customer number may change only to one not in use.
    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: CustomerId,
        r: &CustomerRecord,
    ) -> Result<Customer> {
        let tx = self.db.begin().await?;
        let before = load_customer(&tx, id.0).await?;
        replace_customer(&tx, &before, r).await?;
        let after = load_customer(&tx, id.0).await?;
        audit::record(
            &tx,
            actor,
            "customer.update",
            "customer",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn customer(&self, id: CustomerId) -> Result<Customer> {
        load_customer(&self.db, id.0).await
    }

    pub async fn customer_detail(
        &self,
        id: CustomerId,
        today: NaiveDate,
    ) -> Result<CustomerDetail> {
        let customer = load_customer(&self.db, id.0).await?;
        let accounts = account::Entity::find()
            .filter(account::Column::CustomerId.eq(id.0))
            .order_by_asc(account::Column::AccountNo)
            .all(&self.db)
            .await?;
        let account_ids: Vec<_> = accounts.iter().map(|a| a.id).collect();
        let bills = bill::Entity::find()
            .filter(bill::Column::AccountId.is_in(account_ids.clone()))
            .order_by_desc(bill::Column::Period)
            .all(&self.db)
            .await?;
        let periods: HashMap<uuid::Uuid, String> =
            bills.iter().map(|b| (b.id, b.period.clone())).collect();
        let payments = payment::Entity::find()
            .filter(payment::Column::AccountId.is_in(account_ids))
            .order_by_desc(payment::Column::PaidOn)
            .order_by_desc(payment::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let accounts = accounts
            .into_iter()
            .map(|a| AccountDetail {
                bills: bills
                    .iter()
                    .filter(|b| b.account_id == a.id)
                    .map(|b| Bill {
                        id: b.id,
                        period: b.period.clone(),
                        amount_cents: b.amount_cents,
                        due_date: b.due_date,
                        paid_on: b.paid_on,
                        status: BillStatus::on(b.paid_on.is_some(), b.due_date, today),
                    })
                    .collect(),
                payments: payments
                    .iter()
                    .filter(|p| p.account_id == a.id)
                    .map(|p| Payment {
                        id: p.id,
                        amount_cents: p.amount_cents,
                        paid_on: p.paid_on,
                        method: p.method.clone(),
                        period: p.bill_id.and_then(|b| periods.get(&b).cloned()),
                        reference: p.reference.clone(),
                    })
                    .collect(),
                account: Account {
                    id: AccountId(a.id),
                    account_no: a.account_no,
                    opened_on: a.opened_on,
                },
            })
            .collect();
        Ok(CustomerDetail { customer, accounts })
    }

    async fn phone_owners(&self, phone: &Phone) -> Result<Vec<uuid::Uuid>> {
        Ok(customer_phone::Entity::find()
            .select_only()
            .column(customer_phone::Column::CustomerId)
            .filter(customer_phone::Column::Phone.eq(phone.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Caller-ID lookup: customers having exactly this (normalized) number. One indexed probe.
    pub async fn customers_by_phone(
        &self,
        phone: &Phone,
        today: NaiveDate,
    ) -> Result<Vec<CustomerSummary>> {
        let owners = Query::select()
            .column(customer_phone::Column::CustomerId)
            .from(customer_phone::Entity)
            .and_where(customer_phone::Column::Phone.eq(phone.as_str()))
            .to_owned();
        let sel = customer::Entity::find()
            .filter(customer::Column::Id.in_subquery(owners))
            .order_by_asc(customer::Column::CustomerNo);
        let rows = summaries(self.backend, sel, today).all(&self.db).await?;
        Ok(rows.into_iter().map(CustomerSummary::from).collect())
    }

    /// Search results, oldest customer first (a stable order for paging).
    pub async fn search_customers(
        &self,
        q: &CustomerQuery,
        page: PageRequest,
        today: NaiveDate,
    ) -> Result<Page<CustomerSummary>> {
        // Phone owners are looked up first: a literal id list combines with the other conditions
        // through indexes on both backends, where a subquery inside an OR makes PostgreSQL scan.
        let owners = |p: Option<Phone>| async move {
            match p {
                Some(p) => self.phone_owners(&p).await.map(Some),
                None => Ok(None),
            }
        };
        let q_owners = owners(q.q_phone.clone()).await?;
        let phone_owners = owners(q.phone.clone()).await?;
        let mut cond = Condition::all();
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // A number (digits, spaces, dashes, +) is a customer or phone number, not a text fragment.
            let is_number = text
                .chars()
                .all(|c| c.is_ascii_digit() || " -+()".contains(c));
            let mut any = Condition::any();
            if !is_number {
                any = any.add(self.fragment(TextField::NameOrAddress, text));
            }
            if let Ok(no) = kefu_domain::CustomerNo::parse(text) {
                any = any.add(customer::Column::CustomerNo.eq(no.as_str()));
            }
            if let Some(ids) = q_owners.filter(|ids| !ids.is_empty()) {
                any = any.add(customer::Column::Id.is_in(ids));
            }
            cond = cond.add(any);
        }
        if let Some(no) = q
            .customer_no
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            cond = cond.add(customer::Column::CustomerNo.eq(no.to_ascii_uppercase()));
        }
        if let Some(ids) = phone_owners {
            cond = cond.add(customer::Column::Id.is_in(ids));
        }
        if let Some(n) = q.name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            cond = cond.add(self.fragment(TextField::Name, n));
        }
        if let Some(a) = q
            .address
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            cond = cond.add(self.fragment(TextField::Address, a));
        }
        if let Some(d) = q
            .district
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            cond = cond.add(customer::Column::District.eq(d));
        }
        if let Some(t) = q.service_type.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(customer::Column::ServiceType.eq(t));
        }
        let sel = customer::Entity::find().filter(cond);
        let total = sel.clone().count(&self.db).await?;
        let sel = self
            .in_creation_order(sel)
            .offset(page.offset())
            .limit(page.per_page);
        let rows = summaries(self.backend, sel, today).all(&self.db).await?;
        Ok(Page {
            items: rows.into_iter().map(CustomerSummary::from).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Inserts new customers and updates known ones (matched by customer number), all in one
    /// transaction: either the whole batch is written or nothing. Updates are audited one by one with
    /// their before and after values; inserts with one summary entry.
    pub async fn import_customers(
        &self,
        actor: &Actor,
        records: &[CustomerRecord],
        today: NaiveDate,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportCounts> {
        let tx = self.db.begin().await?;
        let mut counts = ImportCounts::default();
        let now = Utc::now();
        for (n, chunk) in records.chunks(CHUNK).enumerate() {
            let nos: Vec<&str> = chunk.iter().map(|r| r.customer_no.as_str()).collect();
            let existing: HashMap<String, customer::Model> = customer::Entity::find()
                .filter(customer::Column::CustomerNo.is_in(nos))
                .all(&tx)
                .await?
                .into_iter()
                .map(|m| (m.customer_no.clone(), m))
                .collect();
            let mut phones_of: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
            if !existing.is_empty() {
                for p in customer_phone::Entity::find()
                    .filter(
                        customer_phone::Column::CustomerId.is_in(existing.values().map(|m| m.id)),
                    )
                    .order_by_asc(customer_phone::Column::Position)
                    .all(&tx)
                    .await?
                {
                    phones_of.entry(p.customer_id).or_default().push(p.phone);
                }
            }
            let (mut new_customers, mut new_phones, mut new_accounts) =
                (Vec::new(), Vec::new(), Vec::new());
            for r in chunk {
                match existing.get(r.customer_no.as_str()) {
                    Some(m) => {
                        let before =
                            customer_from(m.clone(), phones_of.remove(&m.id).unwrap_or_default());
                        if same_data(&before, r) {
                            continue;
                        }
                        replace_customer(&tx, &before, r).await?;
                        let after = load_customer(&tx, m.id).await?;
                        audit::record(
                            &tx,
                            actor,
                            "customer.import_update",
                            "customer",
                            Some(m.id.to_string()),
                            Some(&before),
                            Some(&after),
                        )
                        .await?;
                        counts.updated += 1;
                    }
                    None => {
                        let id = CustomerId::new().0;
                        new_customers.push(active_from(id, r, now, now));
                        new_phones.extend(phone_rows(id, &r.phones));
                        new_accounts.push(account::ActiveModel {
                            id: Set(AccountId::new().0),
                            customer_id: Set(id),
                            account_no: Set(r.customer_no.as_str().to_string()),
                            opened_on: Set(today),
                        });
                    }
                }
            }
            counts.inserted += new_customers.len() as u64;
            if !new_customers.is_empty() {
                customer::Entity::insert_many(new_customers)
                    .exec_without_returning(&tx)
                    .await
                    .map_err(|e| StoreError::from_write(e, "a customer number"))?;
                for phones in new_phones.chunks(CHUNK) {
                    customer_phone::Entity::insert_many(phones.to_vec())
                        .exec_without_returning(&tx)
                        .await?;
                }
                account::Entity::insert_many(new_accounts)
                    .exec_without_returning(&tx)
                    .await
                    .map_err(|e| StoreError::from_write(e, "an account number"))?;
            }
            progress((n * CHUNK + chunk.len()).min(records.len()));
        }
        if counts.inserted > 0 {
            let summary =
                serde_json::json!({ "inserted": counts.inserted, "updated": counts.updated });
            audit::record(
                &tx,
                actor,
                "customer.import",
                "customer",
                None,
                None::<&()>,
                Some(&summary),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Inserts or updates bills by (customer number, period), in one transaction. With unknown customer
    /// numbers and `skip_unknown == false`, nothing is written and their indexes are returned.
    pub async fn import_bills(
        &self,
        actor: &Actor,
        records: &[BillRecord],
        skip_unknown: bool,
        mut progress: impl FnMut(usize),
    ) -> Result<BillImport> {
        let tx = self.db.begin().await?;
        let mut account_of: HashMap<String, uuid::Uuid> = HashMap::new();
        let mut unknown = Vec::new();
        for (n, chunk) in records.chunks(CHUNK).enumerate() {
            let nos: HashSet<&str> = chunk
                .iter()
                .map(|r| r.customer_no.as_str())
                .filter(|no| !account_of.contains_key(*no))
                .collect();
            if !nos.is_empty() {
                let rows: Vec<(String, uuid::Uuid)> = account::Entity::find()
                    .select_only()
                    .column(customer::Column::CustomerNo)
                    .column(account::Column::Id)
                    .join(sea_orm::JoinType::InnerJoin, account_customer())
                    .filter(customer::Column::CustomerNo.is_in(nos))
                    .order_by_asc(account::Column::AccountNo)
                    .into_tuple()
                    .all(&tx)
                    .await?;
                for (no, id) in rows {
                    account_of.entry(no).or_insert(id);
                }
            }
            for (i, r) in chunk.iter().enumerate() {
                if !account_of.contains_key(r.customer_no.as_str()) {
                    unknown.push(n * CHUNK + i);
                }
            }
        }
        if !unknown.is_empty() && !skip_unknown {
            return Ok(BillImport {
                counts: ImportCounts::default(),
                unknown_customers: unknown,
            });
        }
        let now = Utc::now();
        let mut counts = ImportCounts::default();
        let known: Vec<&BillRecord> = records
            .iter()
            .filter(|r| account_of.contains_key(r.customer_no.as_str()))
            .collect();
        for (n, chunk) in known.chunks(CHUNK).enumerate() {
            let accounts: HashSet<uuid::Uuid> = chunk
                .iter()
                .map(|r| account_of[r.customer_no.as_str()])
                .collect();
            let existing: HashSet<(uuid::Uuid, String)> = bill::Entity::find()
                .select_only()
                .column(bill::Column::AccountId)
                .column(bill::Column::Period)
                .filter(bill::Column::AccountId.is_in(accounts))
                .into_tuple()
                .all(&tx)
                .await?
                .into_iter()
                .collect();
            let rows: Vec<bill::ActiveModel> = chunk
                .iter()
                .map(|r| {
                    let account_id = account_of[r.customer_no.as_str()];
                    if existing.contains(&(account_id, r.period.to_string())) {
                        counts.updated += 1;
                    } else {
                        counts.inserted += 1;
                    }
                    bill::ActiveModel {
                        id: Set(uuid::Uuid::now_v7()),
                        account_id: Set(account_id),
                        period: Set(r.period.to_string()),
                        amount_cents: Set(r.amount.0),
                        due_date: Set(r.due_date),
                        paid_on: Set(r.paid_on),
                        updated_at: Set(now),
                    }
                })
                .collect();
            bill::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([bill::Column::AccountId, bill::Column::Period])
                        .update_columns([
                            bill::Column::AmountCents,
                            bill::Column::DueDate,
                            bill::Column::PaidOn,
                            bill::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
            progress(records.len().min((n + 1) * CHUNK + unknown.len()));
        }
        let summary = serde_json::json!({ "inserted": counts.inserted, "updated": counts.updated, "skipped_unknown_customers": unknown.len() });
        audit::record(
            &tx,
            actor,
            "bill.import",
            "bill",
            None,
            None::<&()>,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        Ok(BillImport {
            counts,
            unknown_customers: unknown,
        })
    }

    /// Records payments in bulk (the demo seed and billing-system feeds), in one transaction; each
    /// settles its period's bill if it names one. Payments for unknown customers or periods are refused
    /// as a whole (`NotFound`).
    pub async fn import_payments(&self, actor: &Actor, records: &[PaymentRecord]) -> Result<u64> {
        let tx = self.db.begin().await?;
        let now = Utc::now();
        for chunk in records.chunks(CHUNK) {
            let nos: HashSet<&str> = chunk.iter().map(|r| r.customer_no.as_str()).collect();
            let accounts: HashMap<String, uuid::Uuid> = account::Entity::find()
                .select_only()
                .column(customer::Column::CustomerNo)
                .column(account::Column::Id)
                .join(sea_orm::JoinType::InnerJoin, account_customer())
                .filter(customer::Column::CustomerNo.is_in(nos))
                .order_by_desc(account::Column::AccountNo)
                .into_tuple::<(String, uuid::Uuid)>()
                .all(&tx)
                .await?
                .into_iter()
                .collect();
            let bills: HashMap<(uuid::Uuid, String), (uuid::Uuid, bool)> = bill::Entity::find()
                .filter(bill::Column::AccountId.is_in(accounts.values().copied()))
                .all(&tx)
                .await?
                .into_iter()
                .map(|b| ((b.account_id, b.period), (b.id, b.paid_on.is_some())))
                .collect();
            let mut rows = Vec::with_capacity(chunk.len());
            let mut settle = Vec::new();
            for r in chunk {
                let account_id = *accounts
                    .get(r.customer_no.as_str())
                    .ok_or(StoreError::NotFound("customer account"))?;
                let bill = match r.period {
                    Some(p) => Some(
                        *bills
                            .get(&(account_id, p.to_string()))
                            .ok_or(StoreError::NotFound("bill of this period"))?,
                    ),
                    None => None,
                };
                if let Some((id, false)) = bill {
                    settle.push((id, r.paid_on));
                }
                rows.push(payment::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    account_id: Set(account_id),
                    bill_id: Set(bill.map(|(id, _)| id)),
                    amount_cents: Set(r.amount.0),
                    paid_on: Set(r.paid_on),
                    method: Set(r.method.as_str().to_string()),
                    reference: Set(r.reference.clone()),
                    created_at: Set(now),
                });
            }
            payment::Entity::insert_many(rows)
                .exec_without_returning(&tx)
                .await?;
            for (id, paid_on) in settle {
                bill::Entity::update_many()
                    .col_expr(bill::Column::PaidOn, Expr::value(paid_on))
                    .col_expr(bill::Column::UpdatedAt, Expr::value(now))
                    .filter(bill::Column::Id.eq(id))
                    .filter(bill::Column::PaidOn.is_null())
                    .exec(&tx)
                    .await?;
            }
        }
        let summary = serde_json::json!({ "inserted": records.len() });
        audit::record(
            &tx,
            actor,
            "payment.import",
            "payment",
            None,
            None::<&()>,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        Ok(records.len() as u64)
    }

    /// Records one payment for a customer.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        id: CustomerId,
        r: &PaymentRecord,
    ) -> Result<Payment> {
        let tx = self.db.begin().await?;
        let c = load_customer(&tx, id.0).await?;
        if c.customer_no != r.customer_no.as_str() {
            return Err(StoreError::Conflict(
                "payment is for another customer".into(),
            ));
        }
        let p = write_payment(&tx, r).await?;
        audit::record(
            &tx,
            actor,
            "payment.create",
            "customer",
            Some(id.to_string()),
            None::<&()>,
            Some(&p),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// A customer's id by customer number (exact, as stored).
    pub async fn customer_id_by_no(&self, no: &str) -> Result<Option<CustomerId>> {
        Ok(customer::Entity::find()
            .filter(customer::Column::CustomerNo.eq(no.trim().to_uppercase()))
            .one(&self.db)
            .await?
            .map(|c| CustomerId(c.id)))
    }

    pub async fn customer_count(&self) -> Result<u64> {
        Ok(customer::Entity::find().count(&self.db).await?)
    }
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: uuid::Uuid,
    customer_no: String,
    name: String,
    address: String,
    district: String,
    service_type: String,
    primary_phone: Option<String>,
    overdue_cents: i64,
}

impl From<SummaryRow> for CustomerSummary {
    fn from(r: SummaryRow) -> CustomerSummary {
        CustomerSummary {
            id: CustomerId(r.id),
            customer_no: r.customer_no,
            name: r.name,
            primary_phone: r.primary_phone,
            address: r.address,
            district: r.district,
            service_type: r.service_type,
            overdue_cents: r.overdue_cents,
        }
    }
}

/// The customers of `sel` as summaries, with the primary phone and the overdue amount computed in the
/// same statement: a search page or a caller-ID lookup is one round trip to the database.
fn summaries(
    backend: crate::Backend,
    sel: sea_orm::Select<customer::Entity>,
    today: NaiveDate,
) -> sea_orm::Selector<sea_orm::SelectModel<SummaryRow>> {
    let primary_phone = Expr::cust(
        r#"(SELECT "p0"."phone" FROM "customer_phones" AS "p0" WHERE "p0"."customer_id" = "customers"."id" AND "p0"."position" = 0)"#,
    );
    // sea-query keeps a custom expression's value only with its backend's placeholder style.
    let placeholder = match backend {
        crate::Backend::Sqlite => "?",
        crate::Backend::Postgres => "$1",
    };
    let overdue = Expr::cust_with_values(
        format!(
            r#"COALESCE((SELECT CAST(SUM("b"."amount_cents") AS BIGINT) FROM "bills" AS "b" INNER JOIN "accounts" AS "a" ON "a"."id" = "b"."account_id" WHERE "a"."customer_id" = "customers"."id" AND "b"."paid_on" IS NULL AND "b"."due_date" < {placeholder}), 0)"#
        ),
        [today],
    );
    sel.select_only()
        .columns([
            customer::Column::Id,
            customer::Column::CustomerNo,
            customer::Column::Name,
            customer::Column::Address,
            customer::Column::District,
            customer::Column::ServiceType,
        ])
        .expr_as(primary_phone, "primary_phone")
        .expr_as(overdue, "overdue_cents")
        .into_model::<SummaryRow>()
}

fn account_customer() -> sea_orm::RelationDef {
    account::Entity::belongs_to(customer::Entity)
        .from(account::Column::CustomerId)
        .to(customer::Column::Id)
        .into()
}

async fn write_payment(db: &impl ConnectionTrait, r: &PaymentRecord) -> Result<Payment> {
    let acc = account::Entity::find()
        .join(sea_orm::JoinType::InnerJoin, account_customer())
        .filter(customer::Column::CustomerNo.eq(r.customer_no.as_str()))
        .order_by_asc(account::Column::AccountNo)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("customer account"))?;
    let bill = match r.period {
        Some(period) => Some(
            bill::Entity::find()
                .filter(bill::Column::AccountId.eq(acc.id))
                .filter(bill::Column::Period.eq(period.to_string()))
                .one(db)
                .await?
                .ok_or(StoreError::NotFound("bill of this period"))?,
        ),
        None => None,
    };
    let id = uuid::Uuid::now_v7();
    payment::ActiveModel {
        id: Set(id),
        account_id: Set(acc.id),
        bill_id: Set(bill.as_ref().map(|b| b.id)),
        amount_cents: Set(r.amount.0),
        paid_on: Set(r.paid_on),
        method: Set(r.method.as_str().to_string()),
        reference: Set(r.reference.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    if let Some(b) = &bill
        && b.paid_on.is_none()
    {
        let mut am: bill::ActiveModel = b.clone().into();
        am.paid_on = Set(Some(r.paid_on));
        am.updated_at = Set(Utc::now());
        am.update(db).await?;
    }
    Ok(Payment {
        id,
        amount_cents: r.amount.0,
        paid_on: r.paid_on,
        method: r.method.as_str().to_string(),
        period: r.period.map(|p| p.to_string()),
        reference: r.reference.clone(),
    })
}

async fn load_customer(db: &impl ConnectionTrait, id: uuid::Uuid) -> Result<Customer> {
    let m = customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
    let phones: Vec<String> = customer_phone::Entity::find()
        .select_only()
        .column(customer_phone::Column::Phone)
        .filter(customer_phone::Column::CustomerId.eq(id))
        .order_by_asc(customer_phone::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    Ok(customer_from(m, phones))
}

async fn replace_customer(
    db: &impl ConnectionTrait,
    before: &Customer,
    r: &CustomerRecord,
) -> Result<()> {
    let id = before.id.0;
    active_from(id, r, before.created_at, Utc::now())
        .update(db)
        .await
        .map_err(|e| {
            StoreError::from_write(e, format!("customer {}", r.customer_no.as_str()).as_str())
        })?;
    customer_phone::Entity::delete_many()
        .filter(customer_phone::Column::CustomerId.eq(id))
        .exec(db)
        .await?;
    customer_phone::Entity::insert_many(phone_rows(id, &r.phones))
        .exec_without_returning(db)
        .await?;
    Ok(())
}
