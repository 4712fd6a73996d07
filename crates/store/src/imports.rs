//! Import jobs: a record of each file imported through the API, its progress and its outcome.

use chrono::{DateTime, Utc};
use kefu_domain::ImportJobId;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use crate::entities::import_job;
use crate::{Actor, Page, PageRequest, Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl ImportStatus {
    fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Running => "running",
            ImportStatus::Succeeded => "succeeded",
            ImportStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> ImportStatus {
        match s {
            "queued" => ImportStatus::Queued,
            "running" => ImportStatus::Running,
            "succeeded" => ImportStatus::Succeeded,
            _ => ImportStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub kind: String,
    pub filename: String,
    pub status: ImportStatus,
    pub skip_invalid: bool,
    pub total_rows: u64,
    pub processed_rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub skipped: u64,
    /// Row errors as the importer reported them (`[{line, column, reason}]`).
    pub errors: serde_json::Value,
    /// Why the whole job failed, if it did.
    pub failure: Option<String>,
    pub created_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn job_from(m: import_job::Model) -> ImportJob {
    ImportJob {
        id: ImportJobId(m.id),
        kind: m.kind,
        filename: m.filename,
        status: ImportStatus::parse(&m.status),
        skip_invalid: m.skip_invalid,
        total_rows: m.total_rows as u64,
        processed_rows: m.processed_rows as u64,
        inserted: m.inserted as u64,
        updated: m.updated as u64,
        skipped: m.skipped as u64,
        errors: m.errors,
        failure: m.failure,
        created_by: m.created_by,
        created_at: m.created_at,
        finished_at: m.finished_at,
    }
}

impl Store {
    pub async fn create_import_job(
        &self,
        actor: &Actor,
        kind: &str,
        filename: &str,
        skip_invalid: bool,
    ) -> Result<ImportJob> {
        let m = import_job::ActiveModel {
            id: Set(ImportJobId::new().0),
            kind: Set(kind.to_string()),
            filename: Set(filename.to_string()),
            status: Set(ImportStatus::Queued.as_str().to_string()),
            skip_invalid: Set(skip_invalid),
            total_rows: Set(0),
            processed_rows: Set(0),
            inserted: Set(0),
            updated: Set(0),
            skipped: Set(0),
            errors: Set(serde_json::json!([])),
            failure: Set(None),
            created_by: Set(actor.user_id.map(|u| u.0)),
            created_at: Set(Utc::now()),
            finished_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(job_from(m))
    }

    /// Writes a job's current state (status, counts, errors). Progress of a running job is kept in
    /// memory by the caller and written here at start and end, not per row.
    pub async fn save_import_job(&self, job: &ImportJob) -> Result<()> {
        let m = import_job::ActiveModel {
            id: Set(job.id.0),
            kind: Set(job.kind.clone()),
            filename: Set(job.filename.clone()),
            status: Set(job.status.as_str().to_string()),
            skip_invalid: Set(job.skip_invalid),
            total_rows: Set(job.total_rows as i64),
            processed_rows: Set(job.processed_rows as i64),
            inserted: Set(job.inserted as i64),
            updated: Set(job.updated as i64),
            skipped: Set(job.skipped as i64),
            errors: Set(job.errors.clone()),
            failure: Set(job.failure.clone()),
            created_by: Set(job.created_by),
            created_at: Set(job.created_at),
            finished_at: Set(job.finished_at),
        };
        m.update(&self.db).await?;
        Ok(())
    }

    pub async fn import_job(&self, id: ImportJobId) -> Result<ImportJob> {
        import_job::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(job_from)
            .ok_or(StoreError::NotFound("import job"))
    }

    pub async fn import_jobs(&self, page: PageRequest) -> Result<Page<ImportJob>> {
        let total = import_job::Entity::find().count(&self.db).await?;
        let rows = import_job::Entity::find()
            .order_by_desc(import_job::Column::CreatedAt)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page {
            items: rows.into_iter().map(job_from).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Jobs left `queued` or `running` by a process that stopped: marked failed at start, so nobody
    /// waits for them forever.
    pub async fn fail_interrupted_import_jobs(&self) -> Result<u64> {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        let r = import_job::Entity::update_many()
            .col_expr(import_job::Column::Status, Expr::value("failed"))
            .col_expr(
                import_job::Column::Failure,
                Expr::value(
                    "interrupted: kefu stopped while the import ran; nothing of it was written",
                ),
            )
            .col_expr(import_job::Column::FinishedAt, Expr::value(Utc::now()))
            .filter(import_job::Column::Status.is_in(["queued", "running"]))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected)
    }
}
