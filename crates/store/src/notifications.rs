//! The notification outbox. A change that people must hear of (an order dispatched to a site, an SLA
//! breach) writes its notifications in its own transaction through [`enqueue`], one row per recipient
//! and channel, so a committed change is never without them and a failed one leaves none. Delivery
//! reads the outbox: the web app's notification center now; SMS and email plug in later as further
//! values of the `channel` column, each with its own delivery worker.
//!
//! Two marks, two owners: `read_at` is the person's (they opened it or pressed "read all");
//! `delivered_at` is the channel's (web: set the first time the row was pushed to an open page).
//! Both are per-person bookkeeping of rows the audited change already wrote, so setting them is not
//! audited (as a credential's `last_used_at` is not).

use chrono::{DateTime, Utc};
use kefu_domain::{NotificationId, Role, UnitId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use crate::entities::{notification, user};
use crate::{Page, PageRequest, Result, Store, StoreError};

/// The channel of the web app's notification center.
pub const WEB: &str = "web";

/// Who hears of something. Only active users receive notifications.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipients {
    /// These people (unknown or deactivated ones are skipped).
    Users(Vec<UserId>),
    /// Every active user of the unit.
    Unit(UnitId),
    /// Every active user with the role.
    Role(Role),
    /// The heads of a unit: its active supervisors, or, if it has none, the active administrators.
    UnitHeads(UnitId),
}

/// A notification to fan out to its recipients.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// e.g. `work_order.dispatched`.
    pub event: String,
    pub work_order_id: Option<uuid::Uuid>,
    pub recipients: Recipients,
    pub title: String,
    pub body: String,
    /// Whatever the web app needs to render it (order number, priority …).
    pub payload: serde_json::Value,
}

/// One person's notification (one outbox row of the web channel).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub event: String,
    pub work_order_id: Option<uuid::Uuid>,
    pub recipient_id: UserId,
    pub title: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// When it was first pushed to one of the recipient's open pages.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the recipient read it.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Notification {
        Notification {
            id: NotificationId(m.id),
            event: m.event,
            work_order_id: m.work_order_id,
            recipient_id: UserId(m.recipient_id),
            title: m.title,
            body: m.body,
            payload: m.payload,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
            read_at: m.read_at,
        }
    }
}

/// A page of a person's notifications, with their unread count (whatever the page shows).
#[derive(Debug, Clone)]
pub struct NotificationPage {
    pub page: Page<Notification>,
    pub unread: u64,
}

/// Ids in one `IN (…)` list: well under either backend's parameter limit.
const IN_CHUNK: usize = 500;

async fn active_users(db: &impl ConnectionTrait, cond: Condition) -> Result<Vec<uuid::Uuid>> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Active.eq(true))
        .filter(cond)
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// Who `r` names, now: active users only, each once.
async fn resolve(db: &impl ConnectionTrait, r: &Recipients) -> Result<Vec<uuid::Uuid>> {
    let mut users = match r {
        Recipients::Users(ids) => {
            let mut ids: Vec<uuid::Uuid> = ids.iter().map(|u| u.0).collect();
            ids.sort();
            ids.dedup();
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(IN_CHUNK) {
                found.extend(
                    active_users(
                        db,
                        Condition::all().add(user::Column::Id.is_in(chunk.to_vec())),
                    )
                    .await?,
                );
            }
            found
        }
        Recipients::Unit(u) => {
            active_users(db, Condition::all().add(user::Column::UnitId.eq(u.0))).await?
        }
        Recipients::Role(role) => {
            active_users(
                db,
                Condition::all().add(user::Column::Role.eq(role.as_str())),
            )
            .await?
        }
        Recipients::UnitHeads(u) => {
            let heads = active_users(
                db,
                Condition::all()
                    .add(user::Column::UnitId.eq(u.0))
                    .add(user::Column::Role.eq(Role::Supervisor.as_str())),
            )
            .await?;
            if heads.is_empty() {
                active_users(
                    db,
                    Condition::all().add(user::Column::Role.eq(Role::Admin.as_str())),
                )
                .await?
            } else {
                heads
            }
        }
    };
    users.sort();
    users.dedup();
    Ok(users)
}

/// Writes `n` to the outbox inside the caller's transaction: one row per recipient, channel `web`,
/// created at `now`. Returns how many rows were written (0 when nobody is to hear of it).
pub(crate) async fn enqueue(
    txn: &impl ConnectionTrait,
    n: &NewNotification,
    now: DateTime<Utc>,
) -> Result<usize> {
    let users = resolve(txn, &n.recipients).await?;
    for chunk in users.chunks(IN_CHUNK) {
        let rows = chunk.iter().map(|u| notification::ActiveModel {
            id: Set(NotificationId::new().0),
            event: Set(n.event.clone()),
            work_order_id: Set(n.work_order_id),
            recipient_id: Set(*u),
            channel: Set(WEB.into()),
            title: Set(n.title.clone()),
            body: Set(n.body.clone()),
            payload: Set(n.payload.clone()),
            created_at: Set(now),
            delivered_at: Set(None),
            read_at: Set(None),
            attempts: Set(0),
            last_error: Set(None),
        });
        notification::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(users.len())
}

impl Store {
    /// A person's web notifications, newest first (all, or only the unread), with the unread count.
    pub async fn notifications(
        &self,
        recipient: UserId,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<NotificationPage> {
        let mine = notification::Entity::find()
            .filter(notification::Column::RecipientId.eq(recipient.0))
            .filter(notification::Column::Channel.eq(WEB));
        let unread_sel = mine.clone().filter(notification::Column::ReadAt.is_null());
        let unread = unread_sel.clone().count(&self.db).await?;
        let sel = if unread_only { unread_sel } else { mine };
        let total = if unread_only {
            unread
        } else {
            sel.clone().count(&self.db).await?
        };
        let items = sel
            .order_by_desc(notification::Column::CreatedAt)
            .order_by_desc(notification::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(NotificationPage {
            page: Page {
                items: items.into_iter().map(Into::into).collect(),
                total,
                page: page.page.max(1),
                per_page: page.per_page,
            },
            unread,
        })
    }

    /// How many of a person's web notifications are unread.
    pub async fn unread_notifications(&self, recipient: UserId) -> Result<u64> {
        Ok(notification::Entity::find()
            .filter(notification::Column::RecipientId.eq(recipient.0))
            .filter(notification::Column::Channel.eq(WEB))
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// Marks one of the recipient's own notifications read (reading it again keeps the first time);
    /// another person's, or one that does not exist, is `NotFound`.
    pub async fn mark_notification_read(
        &self,
        recipient: UserId,
        id: NotificationId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mine = notification::Entity::find_by_id(id.0)
            .select_only()
            .column(notification::Column::Id)
            .filter(notification::Column::RecipientId.eq(recipient.0))
            .into_tuple::<uuid::Uuid>()
            .one(&self.db)
            .await?;
        if mine.is_none() {
            return Err(StoreError::NotFound("notification"));
        }
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .filter(notification::Column::Id.eq(id.0))
            .filter(notification::Column::RecipientId.eq(recipient.0))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Marks all of the recipient's unread notifications read; returns how many there were.
    pub async fn mark_all_notifications_read(
        &self,
        recipient: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let r = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .filter(notification::Column::RecipientId.eq(recipient.0))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected)
    }

    /// Web notifications of `recipients` after `after` in (created_at, id) order, oldest first, at most
    /// `limit`: what the live push reads every half second. An index probe per recipient
    /// ((recipient_id, created_at)), so its cost follows the people online and the window read, not the
    /// size of the outbox. The push reads a window of the last seconds rather than "after the last row
    /// seen", so it also finds rows whose transaction committed later than a newer row's (on this node
    /// or another one sharing the database).
    pub async fn web_notifications_after(
        &self,
        recipients: &[UserId],
        after: (DateTime<Utc>, NotificationId),
        limit: u64,
    ) -> Result<Vec<Notification>> {
        let (at, id) = after;
        let mut out = Vec::new();
        for chunk in recipients.chunks(IN_CHUNK) {
            let rows = notification::Entity::find()
                .filter(notification::Column::RecipientId.is_in(chunk.iter().map(|u| u.0)))
                .filter(notification::Column::CreatedAt.gte(at))
                .filter(
                    Condition::any()
                        .add(notification::Column::CreatedAt.gt(at))
                        .add(notification::Column::Id.gt(id.0)),
                )
                .filter(notification::Column::Channel.eq(WEB))
                .order_by_asc(notification::Column::CreatedAt)
                .order_by_asc(notification::Column::Id)
                .limit(limit)
                .all(&self.db)
                .await?;
            out.extend(rows.into_iter().map(Notification::from));
        }
        out.sort_by_key(|n| (n.created_at, n.id));
        out.truncate(limit as usize);
        Ok(out)
    }

    /// Records that these web notifications reached an open page (the first push wins).
    pub async fn mark_notifications_delivered(
        &self,
        ids: &[NotificationId],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut marked = 0;
        for chunk in ids.chunks(IN_CHUNK) {
            let r = notification::Entity::update_many()
                .col_expr(notification::Column::DeliveredAt, Expr::value(now))
                .filter(notification::Column::Id.is_in(chunk.iter().map(|i| i.0)))
                .filter(notification::Column::DeliveredAt.is_null())
                .exec(&self.db)
                .await?;
            marked += r.rows_affected;
        }
        Ok(marked)
    }

    /// For tests of delivery: writes `n` to the outbox in a transaction of its own, as a change would.
    /// Not for production code: notifications belong in the transaction of the change they report.
    #[doc(hidden)]
    pub async fn notify_for_test(&self, n: &NewNotification, now: DateTime<Utc>) -> Result<usize> {
        use sea_orm::TransactionTrait;
        let tx = self.db.begin().await?;
        let written = enqueue(&tx, n, now).await?;
        tx.commit().await?;
        Ok(written)
    }
}
