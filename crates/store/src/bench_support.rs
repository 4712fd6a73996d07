//! Bulk loading for benchmarks only (`kefu bench work-orders`, see docs/benchmarks.md).
//!
//! [`Store::bench_insert_work_orders`] writes work-order rows as they are, many rows per `INSERT` and
//! many `INSERT`s per transaction, so that a million orders load in a minute or two. It skips
//! everything [`Store::create_work_order`] does besides the row: no form or unit checks, no timeline,
//! no notifications, no audit entry (so it breaks the audit invariant on purpose). The server and the
//! API never call it; never use it for real data.

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::{CustomerId, UnitId, UserId, WorkOrderId, WorkOrderTypeId};
use kefu_workorders::sla::SlaClock;
use kefu_workorders::{Channel, Priority, Status, WorkOrderNo};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::Value;

use crate::entities::{customer, work_order};
use crate::{Backend, Result, Store, StoreError};

/// Rows per `INSERT`: 33 columns × 900 rows stays below SQLite's 32,766 bound parameters (and
/// PostgreSQL's 65,535).
const ROWS_PER_INSERT: usize = 900;

/// One order row for [`Store::bench_insert_work_orders`]; the id is made and the number taken from the
/// day's sequence by the loader.
#[derive(Debug, Clone)]
pub struct BenchOrder {
    pub type_id: WorkOrderTypeId,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub customer_id: Option<CustomerId>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    pub fields: Value,
    pub unit_id: Option<UnitId>,
    pub created_by: Option<UserId>,
    pub sla: SlaClock,
    pub due_at: Option<DateTime<Utc>>,
    pub next_sla_at: Option<DateTime<Utc>>,
    pub breached: bool,
    pub satisfaction: Option<i16>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The day its number is of (`GD` + YYMMDD + sequence), in the company's time zone.
    pub day: NaiveDate,
}

impl Store {
    /// Benchmarks only: inserts `orders` in one transaction, [`ROWS_PER_INSERT`] rows per statement,
    /// numbering them from each day's sequence (which it advances, so orders created later through
    /// [`Store::create_work_order`] get the next numbers). Returns their ids in the order given.
    pub async fn bench_insert_work_orders(
        &self,
        orders: &[BenchOrder],
    ) -> Result<Vec<WorkOrderId>> {
        let tx = self.db.begin().await?;
        // One range of numbers per day present in this batch.
        let mut days: Vec<NaiveDate> = orders.iter().map(|o| o.day).collect();
        days.sort();
        days.dedup();
        let mut next: std::collections::HashMap<NaiveDate, u32> = Default::default();
        for day in days {
            let count = orders.iter().filter(|o| o.day == day).count() as i32;
            let key = day.format("%y%m%d").to_string();
            let sql = match self.backend {
                Backend::Sqlite => {
                    "INSERT INTO work_order_sequences (day, last) VALUES (?, ?) \
                     ON CONFLICT (day) DO UPDATE SET last = work_order_sequences.last + excluded.last RETURNING last"
                }
                Backend::Postgres => {
                    "INSERT INTO work_order_sequences (day, last) VALUES ($1, $2) \
                     ON CONFLICT (day) DO UPDATE SET last = work_order_sequences.last + excluded.last RETURNING last"
                }
            };
            let row = tx
                .query_one_raw(Statement::from_sql_and_values(
                    tx.get_database_backend(),
                    sql,
                    [key.into(), count.into()],
                ))
                .await?
                .ok_or_else(|| {
                    StoreError::Db(sea_orm::DbErr::Custom("no sequence returned".into()))
                })?;
            let last: i32 = row.try_get("", "last")?;
            next.insert(day, (last - count + 1) as u32);
        }
        let mut ids = Vec::with_capacity(orders.len());
        for chunk in orders.chunks(ROWS_PER_INSERT) {
            let rows: Vec<work_order::ActiveModel> = chunk
                .iter()
                .map(|o| {
                    let seq = next.get_mut(&o.day).expect("numbered above");
                    let no = WorkOrderNo::new(o.day, *seq);
                    *seq += 1;
                    let id = WorkOrderId::new();
                    ids.push(id);
                    let json = serde_json::to_value(&o.sla).expect("serializable");
                    let closed = !o.status.is_open();
                    work_order::ActiveModel {
                        id: Set(id.0),
                        no: Set(no.as_str().to_string()),
                        type_id: Set(o.type_id.0),
                        status: Set(o.status.as_str().into()),
                        priority: Set(o.priority.as_str().into()),
                        priority_rank: Set(o.priority.rank() as i16),
                        channel: Set(o.channel.as_str().into()),
                        origin_kind: Set(None),
                        origin_ref: Set(None),
                        customer_id: Set(o.customer_id.map(|c| c.0)),
                        contact_name: Set(o.contact_name.clone()),
                        contact_phone: Set(o.contact_phone.clone()),
                        address: Set(o.address.clone()),
                        title: Set(o.title.clone()),
                        description: Set(o.description.clone()),
                        fields: Set(o.fields.clone()),
                        unit_id: Set(o.unit_id.map(|u| u.0)),
                        assignee_id: Set(None),
                        created_by: Set(o.created_by.map(|u| u.0)),
                        sla: Set(json),
                        due_at: Set(if closed { None } else { o.due_at }),
                        next_sla_at: Set(if closed { None } else { o.next_sla_at }),
                        breached: Set(o.breached),
                        urge_count: Set(0),
                        customer_query_count: Set(0),
                        feedback: Set(None),
                        satisfaction: Set(o.satisfaction),
                        merged_into: Set(None),
                        closed_at: Set(o.closed_at),
                        version: Set(1),
                        created_at: Set(o.created_at),
                        updated_at: Set(o.closed_at.unwrap_or(o.created_at)),
                    }
                })
                .collect();
            work_order::Entity::insert_many(rows)
                .exec_without_returning(&tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Benchmarks only: the ids of up to `limit` customers, oldest first (to give bulk-loaded orders
    /// real customers).
    pub async fn bench_customer_ids(&self, limit: u64) -> Result<Vec<CustomerId>> {
        let ids: Vec<uuid::Uuid> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .order_by_asc(customer::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    /// Benchmarks only: how many orders there are.
    pub async fn bench_work_order_count(&self) -> Result<u64> {
        Ok(work_order::Entity::find().count(&self.db).await?)
    }

    /// Benchmarks only: how many orders the SLA sweep would look at `now` (`next_sla_at <= now`).
    pub async fn bench_sla_due_count(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(work_order::Entity::find()
            .filter(work_order::Column::NextSlaAt.lte(now))
            .count(&self.db)
            .await?)
    }

    /// Benchmarks only: refreshes the planner's statistics after a bulk load (`ANALYZE`), as
    /// autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would in production.
    pub async fn bench_analyze(&self) -> Result<()> {
        self.db.execute_unprepared("ANALYZE").await?;
        Ok(())
    }
}
