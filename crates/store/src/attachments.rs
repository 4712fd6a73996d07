//! Files uploaded for work orders (photos, voice notes, documents), kept whole in the database with
//! their SHA-256: one backup holds everything, and an upload is acknowledged only once committed.
//!
//! An attachment is uploaded on its own first (it belongs to its uploader), then linked to a work order
//! when an order or its feedback uses it ([`link_attachments`], inside the work-order module's
//! transaction). Once linked it stays with that order.

use chrono::{DateTime, Utc};
use kefu_domain::{AttachmentId, FieldErrors, UnitId, UserId, WorkOrderId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;

use crate::entities::{attachment, work_order};
use crate::{Actor, Result, Store, StoreError, audit};

/// What is known about a stored file, without its bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    /// The order that uses it, once linked.
    pub work_order_id: Option<WorkOrderId>,
    /// The unit of that order (who may read it), if it has one.
    pub order_unit_id: Option<UnitId>,
    /// As uploaded, for display (directory parts and control characters removed by the API).
    pub filename: String,
    /// Detected from the bytes, e.g. `image/jpeg`.
    pub content_type: String,
    pub size: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// A file to store: the API has checked its name and type and computed its checksum.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    /// Lower-case hex SHA-256 of `content`.
    pub sha256: String,
    pub content: Vec<u8>,
}

#[derive(Debug, FromQueryResult)]
struct MetaRow {
    id: uuid::Uuid,
    work_order_id: Option<uuid::Uuid>,
    order_unit_id: Option<uuid::Uuid>,
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
    uploaded_by: Option<uuid::Uuid>,
    created_at: DateTime<Utc>,
}

impl From<MetaRow> for AttachmentMeta {
    fn from(r: MetaRow) -> AttachmentMeta {
        AttachmentMeta {
            id: AttachmentId(r.id),
            work_order_id: r.work_order_id.map(WorkOrderId),
            order_unit_id: r.order_unit_id.map(UnitId),
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by.map(UserId),
            created_at: r.created_at,
        }
    }
}

/// `SELECT` of every column but the content, with the linked order's unit.
fn meta_query() -> sea_orm::sea_query::SelectStatement {
    use attachment::Column as A;
    let a = Alias::new("attachments");
    let o = Alias::new("work_orders");
    Query::select()
        .columns(
            [
                A::Id,
                A::WorkOrderId,
                A::Filename,
                A::ContentType,
                A::Size,
                A::Sha256,
                A::UploadedBy,
                A::CreatedAt,
            ]
            .map(|c| (a.clone(), c)),
        )
        .expr_as(
            Expr::col((o.clone(), work_order::Column::UnitId)),
            Alias::new("order_unit_id"),
        )
        .from(attachment::Entity)
        .left_join(
            work_order::Entity,
            Expr::col((o, work_order::Column::Id)).equals((a, A::WorkOrderId)),
        )
        .to_owned()
}

impl Store {
    /// Stores an uploaded file and its audit entry (the metadata, never the bytes) in one transaction.
    pub async fn create_attachment(
        &self,
        actor: &Actor,
        new: NewAttachment,
    ) -> Result<AttachmentMeta> {
        let tx = self.db.begin().await?;
        let id = AttachmentId::new();
        let now = Utc::now();
        let size = new.content.len() as i64;
        attachment::ActiveModel {
            id: Set(id.0),
            work_order_id: Set(None),
            filename: Set(new.filename.clone()),
            content_type: Set(new.content_type.clone()),
            size: Set(size),
            sha256: Set(new.sha256.clone()),
            content: Set(new.content),
            uploaded_by: Set(actor.user_id.map(|u| u.0)),
            created_at: Set(now),
        }
        .insert(&tx)
        .await?;
        // Read back through the same query as every other read, so the timestamp is as stored.
        let meta = attachment_meta_in(&tx, id).await?;
        audit::record(
            &tx,
            actor,
            "attachment.upload",
            "attachment",
            Some(id.to_string()),
            None::<&()>,
            Some(&meta),
        )
        .await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// The file's metadata (not its bytes).
    pub async fn attachment_meta(&self, id: AttachmentId) -> Result<AttachmentMeta> {
        attachment_meta_in(&self.db, id).await
    }

    /// The file's bytes.
    pub async fn attachment_content(&self, id: AttachmentId) -> Result<Vec<u8>> {
        let row: Option<Vec<u8>> = attachment::Entity::find_by_id(id.0)
            .select_only()
            .column(attachment::Column::Content)
            .into_tuple()
            .one(&self.db)
            .await?;
        row.ok_or(StoreError::NotFound("attachment"))
    }

    /// How many files are stored (for tests and checks that a refused upload wrote nothing).
    pub async fn attachment_count(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(attachment::Entity::find().count(&self.db).await?)
    }

    /// The files linked to an order, oldest first.
    pub async fn attachments_of(&self, work_order_id: WorkOrderId) -> Result<Vec<AttachmentMeta>> {
        let q = meta_query()
            .and_where(
                Expr::col((Alias::new("attachments"), attachment::Column::WorkOrderId))
                    .eq(work_order_id.0),
            )
            .order_by(
                (Alias::new("attachments"), attachment::Column::CreatedAt),
                sea_orm::Order::Asc,
            )
            .order_by(
                (Alias::new("attachments"), attachment::Column::Id),
                sea_orm::Order::Asc,
            )
            .to_owned();
        let stmt = self.db.get_database_backend().build(&q);
        let rows = MetaRow::find_by_statement(stmt).all(&self.db).await?;
        Ok(rows.into_iter().map(AttachmentMeta::from).collect())
    }
}

async fn attachment_meta_in(db: &impl ConnectionTrait, id: AttachmentId) -> Result<AttachmentMeta> {
    let q = meta_query()
        .and_where(Expr::col((Alias::new("attachments"), attachment::Column::Id)).eq(id.0))
        .to_owned();
    let stmt = db.get_database_backend().build(&q);
    MetaRow::find_by_statement(stmt)
        .one(db)
        .await?
        .map(AttachmentMeta::from)
        .ok_or(StoreError::NotFound("attachment"))
}

/// Links uploaded files to a work order, inside the caller's transaction (the order's change carries
/// the audit entry). Ids already linked to this order are fine (saving the same form again); an id that
/// does not exist, belongs to another order, or — when `uploader` is a person — was uploaded by
/// someone else and not yet linked, fails the whole call with [`StoreError::Invalid`] naming
/// `attachments` and the id, so the caller's transaction writes nothing.
pub(crate) async fn link_attachments(
    txn: &impl ConnectionTrait,
    work_order_id: WorkOrderId,
    ids: &[AttachmentId],
    uploader: Option<UserId>,
) -> Result<(), StoreError> {
    let mut wanted: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let found: Vec<(uuid::Uuid, Option<uuid::Uuid>, Option<uuid::Uuid>)> =
        attachment::Entity::find()
            .select_only()
            .columns([
                attachment::Column::Id,
                attachment::Column::WorkOrderId,
                attachment::Column::UploadedBy,
            ])
            .filter(attachment::Column::Id.is_in(wanted.clone()))
            .into_tuple()
            .all(txn)
            .await?;
    let mut errors = FieldErrors::new();
    let mut to_link = Vec::new();
    for id in &wanted {
        match found.iter().find(|(f, _, _)| f == id) {
            None => errors.push("attachments", format!("attachment {id} does not exist")),
            Some((_, Some(order), _)) if *order == work_order_id.0 => {}
            Some((_, Some(_), _)) => errors.push(
                "attachments",
                format!("attachment {id} belongs to another work order"),
            ),
            Some((_, None, by)) => match uploader {
                Some(u) if *by != Some(u.0) => errors.push(
                    "attachments",
                    format!("attachment {id} was uploaded by someone else"),
                ),
                _ => to_link.push(*id),
            },
        }
    }
    errors.into_result().map_err(StoreError::Invalid)?;
    if to_link.is_empty() {
        return Ok(());
    }
    let expected = to_link.len() as u64;
    let done = attachment::Entity::update_many()
        .col_expr(
            attachment::Column::WorkOrderId,
            Expr::value(work_order_id.0),
        )
        .filter(attachment::Column::Id.is_in(to_link))
        .filter(attachment::Column::WorkOrderId.is_null())
        .exec(txn)
        .await?;
    if done.rows_affected != expected {
        return Err(StoreError::Conflict(
            "an attachment was linked to another work order at the same moment; try again".into(),
        ));
    }
    Ok(())
}
