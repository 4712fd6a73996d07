//! The database behind kefu: one code base for the embedded SQLite default and for PostgreSQL.
//!
//! Architecture invariants:
//! - Callers see only this crate's row types and the domain's values; SeaORM models stay private.
//! - Every write takes an [`Actor`] and appends to the audit log in the same transaction, so a change
//!   without its audit entry cannot be committed. The audit log has no update or delete here.
//! - Backend differences (connection options, search SQL) live in `connect` and [`Backend`]; nothing else
//!   branches on the database.

// ACD records (store helper)
mod acd;
mod attachments;
mod audit;
pub mod bench_support;
mod customers;
mod entities;
mod imports;
mod ivr_data;
mod ivr_flows;
mod ivr_prompts;
mod kb;
mod migration;
mod notifications;
mod org;
mod saved_filters;
mod telephony;
pub mod testing;
mod wo_config;
mod workorders;

pub use sea_orm::DbErr;
use sea_orm::{Condition, ConnectOptions, Database, DatabaseConnection, SqlErr};
use sea_orm_migration::MigratorTrait;

// ACD records (store helper)
pub use acd::{
    AGENT_STATES, AgentChanges, AgentProfile, AgentStateLogRow, AgentStatus, AgentTask,
    DEFAULT_MAX_MISSED, NewAgent, NewQueueCall, NewRecording, NewTask, NewWebhook,
    OVERFLOW_ACTIONS, QUEUE_CALL_OUTCOMES, QUEUE_STRATEGIES, QueueCallRow, QueueSettings,
    Recording, RecordingQuery, TASK_KINDS, TaskChanges, Webhook, WebhookChanges, WebhookDelivery,
    check_webhook_url,
};
pub use attachments::{AttachmentMeta, NewAttachment};
pub use audit::{AuditEntry, AuditQuery};
pub use customers::{
    Account, AccountDetail, Bill, BillImport, Customer, CustomerDetail, CustomerQuery,
    CustomerSummary, ImportCounts, Payment,
};
pub use imports::{ImportJob, ImportStatus};
pub use ivr_data::{
    Document, DocumentChanges, DocumentFile, IvrOrderRequest, MESSAGE_CHANNELS, MESSAGE_STATUSES,
    NewDocument, NewQueue, OutboundMessage, OutboundQuery, Queue, QueueChanges, SurveyQuery,
    SurveyResponse, Vars,
};
pub use ivr_flows::{
    IvrCatalog, IvrEndCount, IvrFlow, IvrFlowVersion, IvrFunnel, IvrFunnelNode, IvrKnownItem,
    IvrSession, IvrSessionEnd, IvrTrace, IvrVersionSummary, IvrVisit, IvrVisitRow, NewIvrFlow,
    TraceOf, issue_errors, issue_field, valid_flow_key,
};
pub use ivr_prompts::{IvrPrompt, PROMPT_LANGUAGES, PromptRecording, custom_prompt_path};
pub use kb::{
    KB_STATUSES, KbArticle, KbArticleQuery, KbAttachmentMeta, KbCategory, KbCategoryChanges,
    KbContent, KbCounts, KbHot, KbImportArticle, KbImportReport, KbNoResult, KbSynonyms,
    KbTransition, KbVersion, KbView, NewKbArticle,
};
pub use notifications::{NewNotification, Notification, NotificationPage, Recipients};
pub use org::{Credential, CredentialKind, NewUnit, NewUser, Unit, UnitChanges, User, UserChanges};
pub use saved_filters::SavedFilter;
pub use telephony::{
    CallQuery, CallRecord, DidRoute, DidRouteChanges, DigestSecrets, Extension, ExtensionAuth,
    ExtensionChanges, ExtensionOwner, InboundDigest, NewCallRecord, NewDidRoute, NewExtension,
    NewTrunk, Trunk, TrunkChanges, TrunkConfig,
};
pub use wo_config::{
    Calendar, CalendarChanges, NewCalendar, NewWorkOrderType, WorkOrderType, WorkOrderTypeChanges,
};
pub use workorders::{
    Act, Acting, Created, CustomerIdentity, CustomerRef, Feedback, IdempotencyKey, NamedRef,
    NewWorkOrder, StatusView, SweepReport, WorkOrder, WorkOrderChanges, WorkOrderEvent,
    WorkOrderQuery, WorkOrderSummary, check_note,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input names something that does not exist or may not be used (an unknown unit, an
    /// attachment of another order): which field, and why.
    #[error("invalid: {0}")]
    Invalid(kefu_domain::FieldErrors),
    /// The caller may not do this to this record (a site's staff acting on another site's order).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Maps unique-constraint violations to `Conflict` with a message the caller can show.
    fn from_write(e: DbErr, what: &str) -> StoreError {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                StoreError::Conflict(format!("{what} already exists"))
            }
            _ => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Who is writing, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<kefu_domain::UserId>,
    pub name: String,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// kefu itself (the demo seed, a scheduled job), not a person.
    pub fn system(what: &str) -> Actor {
        Actor {
            user_id: None,
            name: format!("system:{what}"),
            source_ip: None,
            request_id: None,
        }
    }
}

/// A page request: `page` is 1-based.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u64 = 200;

    fn offset(self) -> u64 {
        (self.page.max(1) - 1) * self.per_page
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`) and applies pending migrations.
    ///
    /// SQLite runs in WAL mode with `synchronous=NORMAL` (durable across process crashes; the last
    /// transactions may be lost on power failure), foreign keys on, a busy timeout so that writers
    /// queue instead of failing, and memory-mapped reads.
    pub async fn connect(url: &str) -> Result<Store> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Db(DbErr::Custom(format!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://…"
            ))));
        };
        let mut opts = ConnectOptions::new(url);
        opts.sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                opts.max_connections(8).min_connections(1);
                opts.map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(std::time::Duration::from_secs(10))
                        // Reads through a memory map and a 32 MiB page cache per connection instead of
                        // a syscall per page: searches touch many index pages.
                        .pragma("mmap_size", "1073741824")
                        .pragma("cache_size", "-32768")
                });
            }
            Backend::Postgres => {
                opts.max_connections(16).min_connections(1);
            }
        }
        let db = Database::connect(opts).await?;
        migration::Migrator::up(&db, None).await?;
        Ok(Store { db, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For readiness checks: one round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Closes the pool (SQLite checkpoints its WAL on the last close).
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}

/// A customer text field searched by fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextField {
    Name,
    Address,
    NameOrAddress,
}

impl Store {
    /// Orders customers by creation: SQLite's rowid, PostgreSQL's UUIDv7 id. Either is what the search
    /// indexes yield rows in, so a page of a broad search needs no sort of all its matches.
    fn in_creation_order(
        &self,
        sel: sea_orm::Select<entities::customer::Entity>,
    ) -> sea_orm::Select<entities::customer::Entity> {
        use sea_orm::QueryOrder;
        match self.backend {
            Backend::Sqlite => sel.order_by(
                sea_orm::sea_query::Expr::cust("\"customers\".\"rowid\""),
                sea_orm::Order::Asc,
            ),
            Backend::Postgres => sel.order_by_asc(entities::customer::Column::Id),
        }
    }

    /// Customers whose name or address contains `fragment`: through the trigram index (FTS5 on SQLite,
    /// pg_trgm on PostgreSQL) for three or more characters. Shorter fragments are too unselective to
    /// mean "anywhere": one or two characters match the start of the name (a surname) or of the name
    /// after its first character (a given name: 小明 finds 王小明), through B-tree indexes — or, for an
    /// address, anywhere by scanning.
    fn fragment(&self, field: TextField, fragment: &str) -> Condition {
        use entities::customer::Column;
        use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
        let like = |f: &str| LikeExpr::new(contains_pattern(f)).escape('\\');
        let short = fragment.chars().count() < 3;
        match (self.backend, short, field) {
            (_, true, TextField::Address) => {
                Condition::all().add(Expr::col(Column::Address).like(like(fragment)))
            }
            (Backend::Sqlite, true, _) => {
                // Every string starting with `fragment` sorts between it and it + U+10FFFF (BINARY collation).
                let upper = format!("{fragment}\u{10FFFF}");
                let starts = |c: Column| {
                    Condition::all()
                        .add(Expr::col(c).gte(fragment))
                        .add(Expr::col(c).lt(upper.as_str()))
                };
                Condition::any()
                    .add(starts(Column::Name))
                    .add(starts(Column::NameTail))
            }
            (Backend::Postgres, true, _) => {
                let prefix = contains_pattern(fragment);
                let starts =
                    |c: Column| Expr::col(c).like(LikeExpr::new(&prefix[1..]).escape('\\'));
                Condition::any()
                    .add(starts(Column::Name))
                    .add(starts(Column::NameTail))
            }
            (Backend::Sqlite, false, _) => {
                let columns = match field {
                    TextField::Name => "name",
                    TextField::Address => "address",
                    TextField::NameOrAddress => "{name address}",
                };
                let phrase = format!("{columns} : \"{}\"", fragment.replace('"', "\"\""));
                Condition::all().add(Expr::cust_with_values(
                    "\"customers\".\"rowid\" IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?)",
                    [phrase],
                ))
            }
            (Backend::Postgres, false, _) => {
                let pattern = contains_pattern(fragment);
                let ilike = |c: Column| {
                    Expr::cust_with_exprs(
                        "$1 ILIKE $2 ESCAPE '\\'",
                        [
                            Expr::col((entities::customer::Entity, c)),
                            Expr::val(pattern.clone()),
                        ],
                    )
                };
                match field {
                    TextField::Name => Condition::all().add(ilike(Column::Name)),
                    TextField::Address => Condition::all().add(ilike(Column::Address)),
                    TextField::NameOrAddress => Condition::any()
                        .add(ilike(Column::Name))
                        .add(ilike(Column::Address)),
                }
            }
        }
    }
}

/// SQL `LIKE` pattern matching `fragment` anywhere, with `%`, `_` and `\` escaped (used with `ESCAPE '\'`).
fn contains_pattern(fragment: &str) -> String {
    let mut p = String::with_capacity(fragment.len() + 2);
    p.push('%');
    for c in fragment.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
