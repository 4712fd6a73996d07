//! Importing billing-system files: the job runner shared by the API (background jobs with progress)
//! and the `kefu import` command.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::{AreaCode, ImportJobId};
use kefu_import::{FileFormat, ImportKind, RowError};
use kefu_store::{Actor, ImportJob as StoredJob, ImportStatus, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Path, Query};
use crate::{AppState, PageOf, PageParams};

/// At most this many row errors are kept with a job (the count of bad rows is always exact).
const MAX_KEPT_ERRORS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Reading,
    Writing,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub total_rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub skipped: u64,
    pub errors: Vec<RowError>,
    /// Why nothing was written, if nothing was.
    pub failure: Option<String>,
}

/// Reads `bytes` as a `kind` file and writes its good rows. Rows with errors make the whole import
/// fail (nothing written) unless `skip_invalid`, in which case they are skipped and reported.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    store: &Store,
    actor: &Actor,
    kind: ImportKind,
    format: FileFormat,
    bytes: Bytes,
    skip_invalid: bool,
    area: AreaCode,
    today: NaiveDate,
    progress: impl Fn(Phase, u64, u64) + Send + Sync + Clone + 'static,
) -> Result<Outcome, kefu_store::StoreError> {
    let mut out = Outcome::default();
    let p = progress.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let report = |d: usize, t: usize| p(Phase::Reading, d as u64, t as u64);
        match kind {
            ImportKind::Customers => {
                kefu_import::read_customers(&bytes, format, &area, report).map(Parsed::Customers)
            }
            ImportKind::Bills => kefu_import::read_bills(&bytes, format, report).map(Parsed::Bills),
        }
    })
    .await
    .map_err(|e| {
        kefu_store::StoreError::Db(kefu_store::DbErr::Custom(format!(
            "import reader crashed: {e}"
        )))
    })?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            out.failure = Some(e.to_string());
            return Ok(out);
        }
    };
    let (total, bad_rows, mut errors) = match &parsed {
        Parsed::Customers(p) => (p.total_rows, p.bad_rows(), p.errors.clone()),
        Parsed::Bills(p) => (p.total_rows, p.bad_rows(), p.errors.clone()),
    };
    out.total_rows = total as u64;
    if bad_rows > 0 && !skip_invalid {
        out.failure = Some(format!(
            "{bad_rows} of {total} rows have errors; nothing was imported (fix them, or import with skip_invalid)"
        ));
        out.errors = errors;
        return Ok(out);
    }
    out.skipped = bad_rows as u64;
    let total_u = total as u64;
    match parsed {
        Parsed::Customers(p) => {
            let records: Vec<_> = p.records.into_iter().map(|(_, r)| r).collect();
            let offset = bad_rows as u64;
            let counts = store
                .import_customers(actor, &records, today, |n| {
                    progress(Phase::Writing, offset + n as u64, total_u)
                })
                .await?;
            out.inserted = counts.inserted;
            out.updated = counts.updated;
        }
        Parsed::Bills(p) => {
            let column = p.header("customer_no");
            let (lines, records): (Vec<usize>, Vec<_>) = p.records.into_iter().unzip();
            let offset = bad_rows as u64;
            let r = store
                .import_bills(actor, &records, skip_invalid, |n| {
                    progress(Phase::Writing, offset + n as u64, total_u)
                })
                .await?;
            for &i in &r.unknown_customers {
                errors.push(RowError {
                    line: lines[i],
                    column: column.clone(),
                    reason: format!(
                        "no customer with number {}",
                        records[i].customer_no.as_str()
                    ),
                });
            }
            errors.sort_by_key(|e| e.line);
            if !r.unknown_customers.is_empty() && !skip_invalid {
                out.failure = Some(format!(
                    "{} rows name unknown customers; nothing was imported",
                    r.unknown_customers.len()
                ));
                out.errors = errors;
                return Ok(out);
            }
            out.skipped += r.unknown_customers.len() as u64;
            out.inserted = r.counts.inserted;
            out.updated = r.counts.updated;
        }
    }
    progress(Phase::Writing, total_u, total_u);
    out.errors = errors;
    Ok(out)
}

enum Parsed {
    Customers(kefu_import::Parsed<kefu_domain::CustomerRecord>),
    Bills(kefu_import::Parsed<kefu_domain::BillRecord>),
}

/// Progress of the jobs running in this process. The database has each job's state at start and end.
#[derive(Default)]
pub struct RunningImports {
    jobs: Mutex<HashMap<ImportJobId, Arc<Counters>>>,
}

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    read: AtomicU64,
    written: AtomicU64,
}

impl Counters {
    fn percent(&self) -> u8 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0;
        }
        let done = self.read.load(Ordering::Relaxed).min(total)
            + self.written.load(Ordering::Relaxed).min(total);
        (done * 100 / (2 * total)).min(99) as u8
    }
}

#[derive(Serialize, ToSchema)]
pub struct ImportJob {
    pub id: uuid::Uuid,
    /// customers or bills.
    pub kind: String,
    pub filename: String,
    /// queued, running, succeeded or failed.
    pub status: String,
    pub skip_invalid: bool,
    /// 0-100.
    pub percent: u8,
    pub total_rows: u64,
    pub processed_rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub skipped: u64,
    /// Bad rows (the first 1,000): line number, column, reason.
    #[schema(value_type = Vec<Object>)]
    pub errors: serde_json::Value,
    /// Why the job failed, if it did.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn job_dto(j: StoredJob, running: Option<&Counters>) -> ImportJob {
    let (percent, processed, total) = match (j.status, running) {
        // Finished: the stored counts, even while the runner has yet to drop its counters.
        (ImportStatus::Succeeded | ImportStatus::Failed, _) => {
            (100, j.processed_rows, j.total_rows)
        }
        (_, Some(c)) => (
            c.percent(),
            c.read
                .load(Ordering::Relaxed)
                .max(c.written.load(Ordering::Relaxed)),
            c.total.load(Ordering::Relaxed),
        ),
        _ => (0, j.processed_rows, j.total_rows),
    };
    let status = match j.status {
        ImportStatus::Queued => "queued",
        ImportStatus::Running => "running",
        ImportStatus::Succeeded => "succeeded",
        ImportStatus::Failed => "failed",
    };
    ImportJob {
        id: j.id.0,
        kind: j.kind,
        filename: j.filename,
        status: status.into(),
        skip_invalid: j.skip_invalid,
        percent,
        total_rows: total,
        processed_rows: processed,
        inserted: j.inserted,
        updated: j.updated,
        skipped: j.skipped,
        errors: j.errors,
        failure: j.failure,
        created_at: j.created_at,
        finished_at: j.finished_at,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// customers or bills.
    pub kind: String,
    /// Import the good rows and report the bad ones (default: a file with bad rows imports nothing).
    #[serde(default)]
    pub skip_invalid: bool,
    /// The file's name; its extension tells CSV from XLSX when the content type does not.
    pub filename: Option<String>,
}

/// Start importing a file (the raw file is the request body). Returns at once with the job; poll it
/// for progress.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "text/csv"),
    responses((status = 202, body = ImportJob), (status = 413, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn start(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<ImportParams>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, axum::Json<ImportJob>)> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!(
                    "import files are limited to {} MiB",
                    app.settings.max_import_bytes / (1024 * 1024)
                ),
            )
        } else {
            ApiError::bad_request(r.to_string())
        }
    })?;
    let kind: ImportKind = p
        .kind
        .parse()
        .map_err(|e: String| ApiError::field("kind", e))?;
    if body.is_empty() {
        return Err(ApiError::field("body", "the file is empty"));
    }
    let filename = p
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or("upload")
        .chars()
        .take(200)
        .collect::<String>();
    let format = FileFormat::detect(&filename, &body)
        .map_err(|e| ApiError::field("filename", e.to_string()))?;
    let job = app
        .store
        .create_import_job(&caller.actor, kind.as_str(), &filename, p.skip_invalid)
        .await?;
    let counters = Arc::new(Counters::default());
    app.imports
        .jobs
        .lock()
        .expect("imports lock")
        .insert(job.id, counters.clone());
    let response = job_dto(job.clone(), Some(&counters));
    tokio::spawn(execute(
        app.clone(),
        caller.actor,
        job,
        kind,
        format,
        body,
        counters,
    ));
    Ok((StatusCode::ACCEPTED, axum::Json(response)))
}

async fn execute(
    app: AppState,
    actor: Actor,
    mut job: StoredJob,
    kind: ImportKind,
    format: FileFormat,
    body: Bytes,
    counters: Arc<Counters>,
) {
    job.status = ImportStatus::Running;
    if let Err(e) = app.store.save_import_job(&job).await {
        tracing::error!(error = %e, "saving import job");
    }
    let c = counters.clone();
    let progress = move |phase: Phase, done: u64, total: u64| {
        c.total.store(total, Ordering::Relaxed);
        match phase {
            Phase::Reading => c.read.store(done, Ordering::Relaxed),
            Phase::Writing => c.written.store(done, Ordering::Relaxed),
        }
    };
    let result = run(
        &app.store,
        &actor,
        kind,
        format,
        body,
        job.skip_invalid,
        app.settings.area.clone(),
        app.today(),
        progress,
    )
    .await;
    match result {
        Ok(out) => {
            job.total_rows = out.total_rows;
            job.processed_rows = out.total_rows;
            job.inserted = out.inserted;
            job.updated = out.updated;
            job.skipped = out.skipped;
            job.errors =
                serde_json::to_value(out.errors.iter().take(MAX_KEPT_ERRORS).collect::<Vec<_>>())
                    .unwrap_or_default();
            job.status = if out.failure.is_some() {
                ImportStatus::Failed
            } else {
                ImportStatus::Succeeded
            };
            job.failure = out.failure;
        }
        Err(e) => {
            tracing::error!(error = %e, job = %job.id, "import failed");
            job.status = ImportStatus::Failed;
            job.failure = Some("the database refused the import; nothing was written".into());
        }
    }
    job.finished_at = Some(Utc::now());
    if let Err(e) = app.store.save_import_job(&job).await {
        tracing::error!(error = %e, "saving import job");
    }
    metrics::counter!("kefu_import_rows_total", "kind" => job.kind.clone())
        .increment(job.inserted + job.updated);
    app.imports
        .jobs
        .lock()
        .expect("imports lock")
        .remove(&job.id);
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ImportJob), (status = 404, body = crate::problem::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<ImportJob>> {
    let job = app.store.import_job(ImportJobId(id)).await?;
    let running = app
        .imports
        .jobs
        .lock()
        .expect("imports lock")
        .get(&job.id)
        .cloned();
    Ok(axum::Json(job_dto(job, running.as_deref())))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ListParams), responses((status = 200, body = PageOf<ImportJob>)))]
pub async fn list(
    State(app): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<PageOf<ImportJob>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let found = app.store.import_jobs(page).await?;
    let running = app.imports.jobs.lock().expect("imports lock").clone();
    let items = found
        .items
        .into_iter()
        .map(|j| {
            let r = running.get(&j.id).cloned();
            job_dto(j, r.as_deref())
        })
        .collect();
    Ok(axum::Json(PageOf {
        items,
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a job stored as failed while its runner still held progress counters (the moment
    /// between saving the outcome and dropping them) was shown with the runner's percent, e.g. 50.
    #[test]
    fn a_failed_job_is_100_percent_even_while_its_counters_linger() {
        let counters = Counters::default();
        counters.total.store(6, Ordering::Relaxed);
        counters.read.store(6, Ordering::Relaxed);
        let job = |status| StoredJob {
            id: ImportJobId::new(),
            kind: "customers".into(),
            filename: "bad.csv".into(),
            status,
            skip_invalid: false,
            total_rows: 6,
            processed_rows: 6,
            inserted: 0,
            updated: 0,
            skipped: 0,
            errors: serde_json::json!([]),
            failure: Some("2 of 6 rows have errors".into()),
            created_by: None,
            created_at: Utc::now(),
            finished_at: Some(Utc::now()),
        };
        for status in [ImportStatus::Failed, ImportStatus::Succeeded] {
            let dto = job_dto(job(status), Some(&counters));
            assert_eq!(
                (dto.percent, dto.processed_rows),
                (100, 6),
                "{}",
                dto.status
            );
        }
        assert_eq!(
            job_dto(job(ImportStatus::Running), Some(&counters)).percent,
            50
        );
    }
}
