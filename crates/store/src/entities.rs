//! SeaORM models, one module per table. Private to the store: callers get the store's own row types.

macro_rules! entity {
    ($modname:ident, $table:literal, { $($field:tt)* }) => {
        pub mod $modname {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model { $($field)* }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(unit, "units", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub takes_queue_calls: bool,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(user, "users", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: Uuid,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(credential, "credentials", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub user_id: Uuid,
    pub name: Option<String>,
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub source_ip: Option<String>,
});

entity!(customer, "customers", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_no: String,
    pub name: String,
    /// `name` without its first character: lets a given name be found through an index.
    pub name_tail: String,
    pub address: String,
    pub district: String,
    pub service_type: String,
    pub meter_no: Option<String>,
    pub notice_preference: String,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub language: String,
    pub remarks: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(customer_phone, "customer_phones", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone: String,
    pub position: i32,
});

entity!(account, "accounts", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub account_no: String,
    pub opened_on: Date,
});

entity!(bill, "bills", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub period: String,
    pub amount_cents: i64,
    pub due_date: Date,
    pub paid_on: Option<Date>,
    pub updated_at: DateTimeUtc,
});

entity!(payment, "payments", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub bill_id: Option<Uuid>,
    pub amount_cents: i64,
    pub paid_on: Date,
    pub method: String,
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
});

entity!(audit, "audit_log", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
});

entity!(import_job, "import_jobs", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub filename: String,
    pub status: String,
    pub skip_invalid: bool,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub inserted: i64,
    pub updated: i64,
    pub skipped: i64,
    pub errors: Json,
    pub failure: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
});

entity!(extension, "extensions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub display_name: String,
    /// The agent whose phone this is, or …
    pub user_id: Option<Uuid>,
    /// … the remote site's unit. Exactly one of the two is set (a CHECK constraint says so too).
    pub unit_id: Option<Uuid>,
    pub enabled: bool,
    /// Hex MD5 of `number:realm:password` (RFC 2617 digest HA1).
    pub ha1_md5: String,
    /// Hex SHA-256 of `number:realm:password` (RFC 8760 digest HA1).
    pub ha1_sha256: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(trunk, "trunks", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    /// JSON array of CIDR networks (`["127.0.0.1/32"]`).
    pub allowed_sources: String,
    pub inbound_username: Option<String>,
    pub inbound_ha1_md5: Option<String>,
    pub inbound_ha1_sha256: Option<String>,
    pub proxy: Option<String>,
    pub transport: String,
    pub username: Option<String>,
    /// The carrier's password, kept retrievable for outbound digest; never returned by the API.
    pub password: Option<String>,
    pub register: bool,
    pub register_expires: i32,
    pub caller_id: Option<String>,
    pub max_channels: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(did_route, "did_routes", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    /// flow, queue, extension or prompt.
    pub target_kind: String,
    /// The flow, queue or prompt name, or the extension number.
    pub target_value: String,
    pub trunk_id: Option<Uuid>,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(call_record, "call_records", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub call_id: String,
    pub call_uuid: Uuid,
    pub direction: String,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<Uuid>,
    pub extension: Option<String>,
    pub started_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    pub ended_at: DateTimeUtc,
    pub duration_ms: i64,
    pub billable_ms: i64,
    pub disposition: String,
    pub hangup_cause: String,
    pub sip_status: Option<i32>,
    pub hangup_side: String,
    pub recording_path: Option<String>,
    pub created_at: DateTimeUtc,
});

entity!(calendar, "calendars", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub spec: Json,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(work_order_type, "work_order_types", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub fields: Json,
    pub priority_rules: Json,
    pub default_priority: String,
    pub default_unit_id: Option<Uuid>,
    pub fallback_unit_id: Option<Uuid>,
    pub calendar_id: Uuid,
    pub sla: Json,
    pub callback_required: bool,
    pub active: bool,
    pub sort: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(work_order, "work_orders", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub no: String,
    pub type_id: Uuid,
    pub status: String,
    pub priority: String,
    pub priority_rank: i16,
    pub channel: String,
    pub origin_kind: Option<String>,
    pub origin_ref: Option<String>,
    pub customer_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    pub fields: Json,
    pub unit_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub sla: Json,
    pub due_at: Option<DateTimeUtc>,
    pub next_sla_at: Option<DateTimeUtc>,
    pub breached: bool,
    pub urge_count: i32,
    pub customer_query_count: i32,
    pub feedback: Option<Json>,
    pub satisfaction: Option<i16>,
    pub merged_into: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(work_order_event, "work_order_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub work_order_id: Uuid,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub note: Option<String>,
    pub data: Option<Json>,
    pub at: DateTimeUtc,
});

entity!(attachment, "attachments", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub work_order_id: Option<Uuid>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub content: Vec<u8>,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
});

entity!(notification, "notifications", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event: String,
    pub work_order_id: Option<Uuid>,
    pub recipient_id: Uuid,
    pub channel: String,
    pub title: String,
    pub body: String,
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub read_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub last_error: Option<String>,
});

entity!(idempotency_key, "idempotency_keys", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub request_hash: String,
    pub work_order_id: Uuid,
    pub created_at: DateTimeUtc,
});

entity!(saved_filter, "saved_filters", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub query: Json,
    pub created_at: DateTimeUtc,
});
