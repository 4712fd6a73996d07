#![allow(elided_lifetimes_in_paths)] // the migration trait is declared with elided lifetimes
//! Schema migrations, applied at start on SQLite and PostgreSQL alike. A migration never changes once
//! released: later changes are new migrations appended to `Migrator::migrations`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Foundation),
            Box::new(CustomerSearch),
            Box::new(Telephony),
            Box::new(WorkOrders),
            Box::new(Ivr),
            Box::new(Acd),
            Box::new(Kb),
        ]
    }
}

struct Foundation;

impl MigrationName for Foundation {
    fn name(&self) -> &str {
        "m20261126_000001_foundation"
    }
}

fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

fn fk(table: &str, col: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(Alias::new(table), Alias::new(col))
        .to(Alias::new(to), Alias::new("id"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Foundation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("units")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(string("kind"))
                .col(uuid_null("parent_id"))
                .col(boolean("takes_queue_calls"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("units", "parent_id", "units"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string_uniq("username"))
                .col(string("display_name"))
                .col(string("password_hash"))
                .col(string("role"))
                .col(uuid("unit_id"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("users", "unit_id", "units"))
                .to_owned(),
        )
        .await?;
        // Web sessions and API tokens: bearer secrets of which only a SHA-256 hash is stored.
        m.create_table(
            Table::create()
                .table("credentials")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(uuid("user_id"))
                .col(string_null("name"))
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_null("source_ip"))
                .foreign_key(&mut fk("credentials", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_credentials_user",
            "credentials",
            &["user_id", "kind"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("customers")
                .col(pk_uuid("id"))
                .col(string_uniq("customer_no"))
                .col(string("name"))
                .col(string("address"))
                .col(string("district"))
                .col(string("service_type"))
                .col(string_null("meter_no"))
                .col(string("notice_preference"))
                .col(string_null("fax"))
                .col(string_null("email"))
                .col(string("language"))
                .col(text_null("remarks"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_customers_name", "customers", &["name"]))
            .await?;
        m.create_index(index("ix_customers_district", "customers", &["district"]))
            .await?;
        // Caller-ID lookup: an exact match on the normalized number, through this index.
        m.create_table(
            Table::create()
                .table("customer_phones")
                .col(uuid("customer_id"))
                .col(string("phone"))
                .col(integer("position"))
                .primary_key(Index::create().col("customer_id").col("phone"))
                .foreign_key(
                    &mut fk("customer_phones", "customer_id", "customers")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_customer_phones_phone",
            "customer_phones",
            &["phone"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("accounts")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(string_uniq("account_no"))
                .col(date("opened_on"))
                .foreign_key(&mut fk("accounts", "customer_id", "customers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_accounts_customer", "accounts", &["customer_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table("bills")
                .col(pk_uuid("id"))
                .col(uuid("account_id"))
                .col(string("period"))
                .col(big_integer("amount_cents"))
                .col(date("due_date"))
                .col(date_null("paid_on"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("bills", "account_id", "accounts"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_bills_account_period",
                "bills",
                &["account_id", "period"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index("ix_bills_due", "bills", &["due_date"]))
            .await?;
        m.create_table(
            Table::create()
                .table("payments")
                .col(pk_uuid("id"))
                .col(uuid("account_id"))
                .col(uuid_null("bill_id"))
                .col(big_integer("amount_cents"))
                .col(date("paid_on"))
                .col(string("method"))
                .col(string_null("reference"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("payments", "account_id", "accounts"))
                .foreign_key(&mut fk("payments", "bill_id", "bills"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_payments_account", "payments", &["account_id"]))
            .await?;

        // Append-only: the store has no update or delete for it.
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(pk_uuid("id"))
                .col(timestamp_with_time_zone("at"))
                .col(uuid_null("actor_id"))
                .col(string("actor_name"))
                .col(string("action"))
                .col(string("entity_type"))
                .col(string_null("entity_id"))
                .col(json_binary_null("before"))
                .col(json_binary_null("after"))
                .col(string_null("source_ip"))
                .col(string_null("request_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_audit_at", "audit_log", &["at"]))
            .await?;
        m.create_index(index(
            "ix_audit_entity",
            "audit_log",
            &["entity_type", "entity_id"],
        ))
        .await?;
        m.create_index(index("ix_audit_actor", "audit_log", &["actor_id", "at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("import_jobs")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(string("filename"))
                .col(string("status"))
                .col(boolean("skip_invalid"))
                .col(big_integer("total_rows"))
                .col(big_integer("processed_rows"))
                .col(big_integer("inserted"))
                .col(big_integer("updated"))
                .col(big_integer("skipped"))
                .col(json_binary("errors"))
                .col(text_null("failure"))
                .col(uuid_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "import_jobs",
            "audit_log",
            "payments",
            "bills",
            "accounts",
            "customer_phones",
            "customers",
            "credentials",
            "users",
            "units",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Indexes for customer search by name or address fragment: SQLite's FTS5 with the trigram tokenizer
/// (kept in step with `customers` by triggers), PostgreSQL's pg_trgm GIN indexes. Both answer "contains"
/// for fragments of three or more characters; shorter ones (a surname or a given name) match the start of
/// the name or of `name_tail` through B-tree indexes.
struct CustomerSearch;

impl MigrationName for CustomerSearch {
    fn name(&self) -> &str {
        "m20261126_000002_customer_search"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CustomerSearch {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The name without its first character (the usual one-character surname), for given-name search.
        m.alter_table(
            Table::alter()
                .table("customers")
                .add_column(string("name_tail").default(""))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared("UPDATE customers SET name_tail = substr(name, 2)")
            .await?;
        let statements: &[&str] = match m.get_database_backend() {
            sea_orm::DbBackend::Sqlite => &[
                "CREATE INDEX ix_customers_name_tail ON customers (name_tail)",
                "CREATE VIRTUAL TABLE customers_fts USING fts5(name, address, content='customers', content_rowid='rowid', tokenize='trigram')",
                "CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN \
                   INSERT INTO customers_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address); END",
                "CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN \
                   INSERT INTO customers_fts(customers_fts, rowid, name, address) VALUES ('delete', old.rowid, old.name, old.address); END",
                "CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, address ON customers BEGIN \
                   INSERT INTO customers_fts(customers_fts, rowid, name, address) VALUES ('delete', old.rowid, old.name, old.address); \
                   INSERT INTO customers_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address); END",
                "INSERT INTO customers_fts(customers_fts) VALUES ('rebuild')",
            ],
            _ => &[
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE INDEX ix_customers_name_trgm ON customers USING gin (name gin_trgm_ops)",
                "CREATE INDEX ix_customers_address_trgm ON customers USING gin (address gin_trgm_ops)",
                "CREATE INDEX ix_customers_name_prefix ON customers (name text_pattern_ops)",
                "CREATE INDEX ix_customers_name_tail ON customers (name_tail text_pattern_ops)",
            ],
        };
        for s in statements {
            db.execute_unprepared(s).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            sea_orm::DbBackend::Sqlite => &[
                "DROP TRIGGER customers_fts_insert",
                "DROP TRIGGER customers_fts_delete",
                "DROP TRIGGER customers_fts_update",
                "DROP TABLE customers_fts",
                "DROP INDEX ix_customers_name_tail",
            ],
            _ => &[
                "DROP INDEX ix_customers_name_trgm",
                "DROP INDEX ix_customers_address_trgm",
                "DROP INDEX ix_customers_name_prefix",
                "DROP INDEX ix_customers_name_tail",
            ],
        };
        for s in statements {
            db.execute_unprepared(s).await?;
        }
        m.alter_table(
            Table::alter()
                .table("customers")
                .drop_column("name_tail")
                .to_owned(),
        )
        .await
    }
}

/// The registrar's extensions, SIP trunks, called-number routing and call records (issue 3).
struct Telephony;

impl MigrationName for Telephony {
    fn name(&self) -> &str {
        "m20261126_000003_telephony"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Telephony {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Only digest hashes of a phone's password are kept (MD5 and SHA-256 HA1), never the password.
        m.create_table(
            Table::create()
                .table("extensions")
                .col(pk_uuid("id"))
                .col(string_uniq("number"))
                .col(string("display_name"))
                .col(uuid_null("user_id"))
                .col(uuid_null("unit_id"))
                .col(boolean("enabled"))
                .col(string("ha1_md5"))
                .col(string("ha1_sha256"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("extensions", "user_id", "users"))
                .foreign_key(&mut fk("extensions", "unit_id", "units"))
                // An agent's phone or a site's phone: exactly one owner.
                .check(Expr::cust("(user_id IS NULL) <> (unit_id IS NULL)"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_extensions_user", "extensions", &["user_id"]))
            .await?;
        m.create_index(index("ix_extensions_unit", "extensions", &["unit_id"]))
            .await?;

        // The carrier's outbound password is stored as given (kefu answers digest challenges with
        // it); inbound digest keeps only HA1 hashes. `allowed_sources` is a JSON array of CIDRs.
        m.create_table(
            Table::create()
                .table("trunks")
                .col(pk_uuid("id"))
                .col(string_uniq("name"))
                .col(string("kind"))
                .col(boolean("enabled"))
                .col(text("allowed_sources"))
                .col(string_null("inbound_username"))
                .col(string_null("inbound_ha1_md5"))
                .col(string_null("inbound_ha1_sha256"))
                .col(string_null("proxy"))
                .col(string("transport"))
                .col(string_null("username"))
                .col(string_null("password"))
                .col(boolean("register"))
                .col(integer("register_expires"))
                .col(string_null("caller_id"))
                .col(integer_null("max_channels"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        // One route per called number: the SIP runtime looks it up by the unique index.
        m.create_table(
            Table::create()
                .table("did_routes")
                .col(pk_uuid("id"))
                .col(string_uniq("number"))
                .col(string("target_kind"))
                .col(string("target_value"))
                .col(uuid_null("trunk_id"))
                .col(string_null("description"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("did_routes", "trunk_id", "trunks"))
                .to_owned(),
        )
        .await?;

        // System data written at call rate: no foreign keys (a record outlives its trunk), no audit.
        // Lists come newest first, whole or by number, so the number indexes end with the start time.
        m.create_table(
            Table::create()
                .table("call_records")
                .col(pk_uuid("id"))
                .col(string("call_id"))
                .col(uuid("call_uuid"))
                .col(string("direction"))
                .col(string("caller"))
                .col(string("callee"))
                .col(uuid_null("trunk_id"))
                .col(string_null("extension"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(timestamp_with_time_zone("ended_at"))
                .col(big_integer("duration_ms"))
                .col(big_integer("billable_ms"))
                .col(string("disposition"))
                .col(string("hangup_cause"))
                .col(integer_null("sip_status"))
                .col(string("hangup_side"))
                .col(text_null("recording_path"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_call_records_started",
            "call_records",
            &["started_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_call_records_caller",
            "call_records",
            &["caller", "started_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_call_records_callee",
            "call_records",
            &["callee", "started_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_call_records_call_uuid",
            "call_records",
            &["call_uuid"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["call_records", "did_routes", "trunks", "extensions"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Work orders (issue 4): business calendars, work-order types, the orders with their timeline,
/// attachments, the notification outbox, idempotency keys, the per-day number sequence and saved list
/// filters.
struct WorkOrders;

impl MigrationName for WorkOrders {
    fn name(&self) -> &str {
        "m20261126_000004_work_orders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WorkOrders {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `spec` is a kefu_workorders::calendar::CalendarSpec as JSON: weekly hours, holidays and
        // make-up working days, edited as data.
        m.create_table(
            Table::create()
                .table("calendars")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(json_binary("spec"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        // `fields` is the custom form (Vec<FieldDef>), `priority_rules` Vec<PriorityRule>, `sla` a
        // kefu_workorders::sla::SlaPolicy. `fallback_unit_id` receives orders the SLA reassigns.
        m.create_table(
            Table::create()
                .table("work_order_types")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(string_null("name_en"))
                .col(text_null("description"))
                .col(json_binary("fields"))
                .col(json_binary("priority_rules"))
                .col(string("default_priority"))
                .col(uuid_null("default_unit_id"))
                .col(uuid_null("fallback_unit_id"))
                .col(uuid("calendar_id"))
                .col(json_binary("sla"))
                .col(boolean("callback_required"))
                .col(boolean("active"))
                .col(integer("sort"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("work_order_types", "default_unit_id", "units"))
                .foreign_key(&mut fk("work_order_types", "fallback_unit_id", "units"))
                .foreign_key(&mut fk("work_order_types", "calendar_id", "calendars"))
                .to_owned(),
        )
        .await?;

        // One row per order. `due_at` is the earliest unmet SLA deadline of an open order (NULL once
        // closed or while paused): the overdue list is a range scan of its index. `next_sla_at` is
        // when the SLA sweep must next look at the order (NULL: never): the sweep reads only rows
        // whose time has come. `version` grows with every change (optimistic concurrency).
        m.create_table(
            Table::create()
                .table("work_orders")
                .col(pk_uuid("id"))
                .col(string_uniq("no"))
                .col(uuid("type_id"))
                .col(string("status"))
                .col(string("priority"))
                .col(small_integer("priority_rank"))
                .col(string("channel"))
                .col(string_null("origin_kind"))
                .col(string_null("origin_ref"))
                .col(uuid_null("customer_id"))
                .col(string_null("contact_name"))
                .col(string_null("contact_phone"))
                .col(string_null("address"))
                .col(string("title"))
                .col(text("description"))
                .col(json_binary("fields"))
                .col(uuid_null("unit_id"))
                .col(uuid_null("assignee_id"))
                .col(uuid_null("created_by"))
                .col(json_binary("sla"))
                .col(timestamp_with_time_zone_null("due_at"))
                .col(timestamp_with_time_zone_null("next_sla_at"))
                .col(boolean("breached"))
                .col(integer("urge_count"))
                .col(integer("customer_query_count"))
                .col(json_binary_null("feedback"))
                .col(small_integer_null("satisfaction"))
                .col(uuid_null("merged_into"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("work_orders", "type_id", "work_order_types"))
                .foreign_key(&mut fk("work_orders", "customer_id", "customers"))
                .foreign_key(&mut fk("work_orders", "unit_id", "units"))
                .foreign_key(&mut fk("work_orders", "assignee_id", "users"))
                .foreign_key(&mut fk("work_orders", "created_by", "users"))
                .foreign_key(&mut fk("work_orders", "merged_into", "work_orders"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_work_orders_due", &["due_at"][..]),
            ("ix_work_orders_next_sla", &["next_sla_at"]),
            ("ix_work_orders_created", &["created_at"]),
            ("ix_work_orders_status", &["status", "created_at"]),
            ("ix_work_orders_unit", &["unit_id", "created_at"]),
            ("ix_work_orders_assignee", &["assignee_id", "created_at"]),
            ("ix_work_orders_customer", &["customer_id", "created_at"]),
            ("ix_work_orders_phone", &["contact_phone", "created_at"]),
            ("ix_work_orders_type", &["type_id", "created_at"]),
        ] {
            m.create_index(index(name, "work_orders", cols)).await?;
        }
        let db = m.get_connection();
        let search: &[&str] = match m.get_database_backend() {
            sea_orm::DbBackend::Sqlite => &[
                "CREATE VIRTUAL TABLE work_orders_fts USING fts5(title, description, address, content='work_orders', content_rowid='rowid', tokenize='trigram')",
                "CREATE TRIGGER work_orders_fts_insert AFTER INSERT ON work_orders BEGIN \
                   INSERT INTO work_orders_fts(rowid, title, description, address) VALUES (new.rowid, new.title, new.description, coalesce(new.address, '')); END",
                "CREATE TRIGGER work_orders_fts_delete AFTER DELETE ON work_orders BEGIN \
                   INSERT INTO work_orders_fts(work_orders_fts, rowid, title, description, address) VALUES ('delete', old.rowid, old.title, old.description, coalesce(old.address, '')); END",
                "CREATE TRIGGER work_orders_fts_update AFTER UPDATE OF title, description, address ON work_orders BEGIN \
                   INSERT INTO work_orders_fts(work_orders_fts, rowid, title, description, address) VALUES ('delete', old.rowid, old.title, old.description, coalesce(old.address, '')); \
                   INSERT INTO work_orders_fts(rowid, title, description, address) VALUES (new.rowid, new.title, new.description, coalesce(new.address, '')); END",
            ],
            _ => &[
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE INDEX ix_work_orders_text_trgm ON work_orders USING gin ((title || ' ' || description || ' ' || coalesce(address, '')) gin_trgm_ops)",
            ],
        };
        for s in search {
            db.execute_unprepared(s).await?;
        }

        // The timeline: one row per step, never updated or deleted.
        m.create_table(
            Table::create()
                .table("work_order_events")
                .col(pk_uuid("id"))
                .col(uuid("work_order_id"))
                .col(string("action"))
                .col(string_null("from_status"))
                .col(string("to_status"))
                .col(uuid_null("actor_id"))
                .col(string("actor_name"))
                .col(text_null("note"))
                .col(json_binary_null("data"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("work_order_events", "work_order_id", "work_orders"))
                .foreign_key(&mut fk("work_order_events", "actor_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_work_order_events_order",
            "work_order_events",
            &["work_order_id", "at"],
        ))
        .await?;

        // Files are kept in the database with their SHA-256: one backup holds everything, and an
        // upload is acknowledged only once committed. `work_order_id` is set when an order or its
        // feedback uses the file.
        m.create_table(
            Table::create()
                .table("attachments")
                .col(pk_uuid("id"))
                .col(uuid_null("work_order_id"))
                .col(string("filename"))
                .col(string("content_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(blob("content"))
                .col(uuid_null("uploaded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("attachments", "work_order_id", "work_orders"))
                .foreign_key(&mut fk("attachments", "uploaded_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_attachments_order",
            "attachments",
            &["work_order_id"],
        ))
        .await?;

        // The outbox: written in the same transaction as the change it reports, one row per recipient
        // and channel; delivery (web push now, SMS and email later) marks `delivered_at`.
        m.create_table(
            Table::create()
                .table("notifications")
                .col(pk_uuid("id"))
                .col(string("event"))
                .col(uuid_null("work_order_id"))
                .col(uuid("recipient_id"))
                .col(string("channel"))
                .col(string("title"))
                .col(text("body"))
                .col(json_binary("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(integer("attempts"))
                .col(text_null("last_error"))
                .foreign_key(&mut fk("notifications", "recipient_id", "users"))
                .foreign_key(&mut fk("notifications", "work_order_id", "work_orders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_notifications_recipient",
            "notifications",
            &["recipient_id", "created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_notifications_delivery",
            "notifications",
            &["channel", "delivered_at"],
        ))
        .await?;

        // A retried create with the same key (per caller) returns the first order.
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("owner"))
                .col(string("key"))
                .col(string("request_hash"))
                .col(uuid("work_order_id"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("owner"))
                        .col(Alias::new("key")),
                )
                .foreign_key(&mut fk("idempotency_keys", "work_order_id", "work_orders"))
                .to_owned(),
        )
        .await?;

        // The last number given out per day (YYMMDD in the company's time zone).
        m.create_table(
            Table::create()
                .table("work_order_sequences")
                .col(string("day").primary_key())
                .col(integer("last"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("saved_filters")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("name"))
                .col(json_binary("query"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("saved_filters", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_saved_filters_user",
                "saved_filters",
                &["user_id", "name"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            let db = m.get_connection();
            for s in [
                "DROP TRIGGER work_orders_fts_insert",
                "DROP TRIGGER work_orders_fts_delete",
                "DROP TRIGGER work_orders_fts_update",
                "DROP TABLE work_orders_fts",
            ] {
                db.execute_unprepared(s).await?;
            }
        }
        for t in [
            "saved_filters",
            "work_order_sequences",
            "idempotency_keys",
            "notifications",
            "attachments",
            "work_order_events",
            "work_orders",
            "work_order_types",
            "calendars",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The IVR (issue 5): flows and their immutable versions, the per-call trace (sessions and node
/// visits, the funnel's source), admin prompt recordings, queues (the ACD of issue 6 extends them),
/// documents for fax-on-demand, the customer-message outbox (SMS, email, fax: the channels deliver
/// later) and satisfaction survey answers.
struct Ivr;

impl MigrationName for Ivr {
    fn name(&self) -> &str {
        "m20261127_000005_ivr"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Ivr {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `key` is what DID routes name (`flow:main`). `published_version` is the version new calls
        // start on (NULL: never published).
        m.create_table(
            Table::create()
                .table("ivr_flows")
                .col(pk_uuid("id"))
                .col(string_uniq("key"))
                .col(string("name"))
                .col(text("description"))
                .col(integer_null("published_version"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // One row per saved version; `graph` is a kefu_ivr::Flow as JSON, valid when saved.
        // Versions never change once written.
        m.create_table(
            Table::create()
                .table("ivr_flow_versions")
                .col(pk_uuid("id"))
                .col(uuid("flow_id"))
                .col(integer("version"))
                .col(json_binary("graph"))
                .col(text("note"))
                .col(uuid_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("ivr_flow_versions", "flow_id", "ivr_flows"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_ivr_flow_versions_flow",
                "ivr_flow_versions",
                &["flow_id", "version"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // One row per call that entered a flow. `end_reason`: hangup (the caller hung up in the
        // flow), transfer, completed (the flow hung up), runaway, error. `last_node` is where it ended.
        m.create_table(
            Table::create()
                .table("ivr_sessions")
                .col(pk_uuid("id"))
                .col(uuid_null("call_uuid"))
                .col(uuid("flow_id"))
                .col(integer("version"))
                .col(string("caller"))
                .col(uuid_null("customer_id"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .col(string_null("end_reason"))
                .col(string_null("last_node"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_ivr_sessions_call", "ivr_sessions", &["call_uuid"]).to_owned())
            .await?;
        m.create_index(
            index(
                "ix_ivr_sessions_flow",
                "ivr_sessions",
                &["flow_id", "version", "started_at"],
            )
            .to_owned(),
        )
        .await?;
        // Every node visit: `branch` is how the call left the node (NULL: it did not leave), `outcome`
        // one of passed, failed (an error branch: on_fail, on_empty, not_found), left (the caller hung
        // up here); `detail` what was said or done (the text of a say node, the order created).
        m.create_table(
            Table::create()
                .table("ivr_visits")
                .col(pk_uuid("id"))
                .col(uuid("session_id"))
                .col(integer("seq"))
                .col(string("node_id"))
                .col(string("kind"))
                .col(string_null("branch"))
                .col(string("outcome"))
                .col(text_null("detail"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("ivr_visits", "session_id", "ivr_sessions"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_ivr_visits_session",
                "ivr_visits",
                &["session_id", "seq"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // An admin's recording of a prompt in one language, converted to 8 kHz mono WAV; it replaces
        // the system recording of the same key. Custom keys (not in the system set) carry their text.
        m.create_table(
            Table::create()
                .table("ivr_prompts")
                .col(pk_uuid("id"))
                .col(string("key"))
                .col(string("language"))
                .col(text("text"))
                .col(blob_null("wav"))
                .col(string_null("sha256"))
                .col(double_null("seconds"))
                .col(string_null("source_name"))
                .col(uuid_null("updated_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_ivr_prompts_key", "ivr_prompts", &["key", "language"])
                .unique()
                .to_owned(),
        )
        .await?;
        // Queues callers are transferred to (`general`, `billing`, `emergency`, …). `members` is a
        // JSON list of extension numbers rung until the ACD (issue 6) routes by agent state.
        m.create_table(
            Table::create()
                .table("queues")
                .col(pk_uuid("id"))
                .col(string_uniq("key"))
                .col(string("name"))
                .col(json_binary("members"))
                .col(integer("max_wait_secs"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // Documents callers can ask for (fax-on-demand, SMS/email texts): `file` (PDF) for fax and
        // email attachments, `body` the text of an SMS or email.
        m.create_table(
            Table::create()
                .table("ivr_documents")
                .col(pk_uuid("id"))
                .col(string_uniq("key"))
                .col(string("title"))
                .col(text("body"))
                .col(blob_null("file"))
                .col(string_null("file_name"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // Messages to customers waiting for a channel (SMS, email, fax) to deliver them. Written in the
        // same transaction as what caused them; `status` queued → sent | failed, by the channels.
        m.create_table(
            Table::create()
                .table("outbound_messages")
                .col(pk_uuid("id"))
                .col(string("channel"))
                .col(string("recipient"))
                .col(uuid_null("customer_id"))
                .col(string_null("document_key"))
                .col(string_null("subject"))
                .col(text("body"))
                .col(uuid_null("call_uuid"))
                .col(uuid_null("work_order_id"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_outbound_messages_status",
                "outbound_messages",
                &["status", "created_at"],
            )
            .to_owned(),
        )
        .await?;
        // A caller's satisfaction score, against the call and (when there was one) the work order.
        m.create_table(
            Table::create()
                .table("survey_responses")
                .col(pk_uuid("id"))
                .col(uuid_null("call_uuid"))
                .col(uuid_null("work_order_id"))
                .col(uuid_null("customer_id"))
                .col(uuid_null("flow_id"))
                .col(string_null("agent_extension"))
                .col(small_integer("score"))
                .col(small_integer("max_score"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_survey_responses_call",
                "survey_responses",
                &["call_uuid"],
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_survey_responses_order",
                "survey_responses",
                &["work_order_id"],
            )
            .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "survey_responses",
            "outbound_messages",
            "ivr_documents",
            "queues",
            "ivr_prompts",
            "ivr_visits",
            "ivr_sessions",
            "ivr_flow_versions",
            "ivr_flows",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The ACD (issue 6): agent profiles with their persisted live state and its log, queue settings,
/// the calls that went through queues, call recordings, agents' tasks and webhooks.
struct Acd;

impl MigrationName for Acd {
    fn name(&self) -> &str {
        "m20261128_000006_acd"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Acd {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One profile per user. `skills` is `{"general": 5}` (levels 1-10); the state columns are
        // the agent's live state as the ACD last persisted it (reloaded at start).
        m.create_table(
            Table::create()
                .table("agents")
                .col(pk_uuid("id"))
                .col(uuid_uniq("user_id"))
                .col(string_null("extension"))
                .col(json_binary("skills"))
                .col(integer_null("wrap_up_secs"))
                .col(integer("max_missed").default(2))
                .col(boolean("auto_answer").default(false))
                .col(boolean("enabled").default(true))
                .col(string("state").default("logged_out"))
                .col(string_null("reason"))
                .col(uuid_null("call_id"))
                .col(string_null("queue"))
                .col(timestamp_with_time_zone("since"))
                .col(timestamp_with_time_zone_null("until"))
                .col(string_null("pending"))
                .col(string_null("phone"))
                .col(json_binary("login_queues"))
                .col(integer("missed_in_row").default(0))
                .col(timestamp_with_time_zone_null("idle_since"))
                .col(integer("calls_handled").default(0))
                .col(big_integer("talk_secs").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("agents", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        // Every state an agent was in, from `started_at` until `ended_at` (NULL: the current one).
        m.create_table(
            Table::create()
                .table("agent_state_log")
                .col(pk_uuid("id"))
                .col(uuid("agent_id"))
                .col(string("state"))
                .col(string_null("reason"))
                .col(uuid_null("call_id"))
                .col(string_null("queue"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .foreign_key(&mut fk("agent_state_log", "agent_id", "agents"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_agent_state_log_agent",
                "agent_state_log",
                &["agent_id", "started_at"],
            )
            .to_owned(),
        )
        .await?;
        // Queue settings (SQLite adds one column per statement).
        for col in [
            string("strategy").default("longest_idle").to_owned(),
            string_null("skill"),
            integer("min_level").default(1).to_owned(),
            integer("max_len").default(0).to_owned(),
            json_binary("overflow")
                .default(r#"{"action":"voicemail"}"#)
                .to_owned(),
            integer("announce_secs").default(30).to_owned(),
            integer("ring_secs").default(15).to_owned(),
            integer("wrap_up_secs").default(10).to_owned(),
            integer("service_level_secs").default(20).to_owned(),
            string_null("calendar"),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table("queues")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        // One row per caller who entered a queue; `outcome` waiting → answered | abandoned |
        // overflowed | callback | closed. System data (no audit), written at call rate.
        m.create_table(
            Table::create()
                .table("queue_calls")
                .col(pk_uuid("id"))
                .col(uuid("call_id"))
                .col(string("queue"))
                .col(integer("priority"))
                .col(string("caller"))
                .col(uuid_null("customer_id"))
                .col(json_binary("ivr_path"))
                .col(timestamp_with_time_zone("entered_at"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .col(uuid_null("agent_id"))
                .col(string("outcome"))
                .col(string_null("overflow_to"))
                .col(big_integer("talk_ms").default(0))
                .col(big_integer("wrap_ms").default(0))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_queue_calls_queue", &["queue", "entered_at"][..]),
            ("ix_queue_calls_entered", &["entered_at"][..]),
            ("ix_queue_calls_outcome", &["outcome"][..]),
            ("ix_queue_calls_customer", &["customer_id"][..]),
            ("ix_queue_calls_call", &["call_id"][..]),
        ] {
            m.create_index(index(name, "queue_calls", cols)).await?;
        }
        // Recordings of agents' calls: `path` is relative to the recordings directory.
        m.create_table(
            Table::create()
                .table("call_recordings")
                .col(pk_uuid("id"))
                .col(uuid("call_id"))
                .col(uuid_null("queue_call_id"))
                .col(uuid_null("agent_id"))
                .col(uuid_null("customer_id"))
                .col(string("caller"))
                .col(string("path"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .col(big_integer("bytes").default(0))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_call_recordings_customer",
                &["customer_id", "started_at"][..],
            ),
            ("ix_call_recordings_agent", &["agent_id", "started_at"][..]),
            ("ix_call_recordings_started", &["started_at"][..]),
            ("ix_call_recordings_call", &["call_id"][..]),
        ] {
            m.create_index(index(name, "call_recordings", cols)).await?;
        }
        // An agent's own schedule: callbacks and follow-ups; `reminded_at` once its reminder went out.
        m.create_table(
            Table::create()
                .table("agent_tasks")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("kind"))
                .col(uuid_null("customer_id"))
                .col(string_null("phone"))
                .col(uuid_null("work_order_id"))
                .col(text("note"))
                .col(timestamp_with_time_zone("due_at"))
                .col(timestamp_with_time_zone_null("remind_at"))
                .col(timestamp_with_time_zone_null("reminded_at"))
                .col(timestamp_with_time_zone_null("done_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("agent_tasks", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_agent_tasks_user",
            "agent_tasks",
            &["user_id", "done_at", "due_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_agent_tasks_remind",
            "agent_tasks",
            &["reminded_at", "remind_at"],
        ))
        .await?;
        // Integrations' endpoints: `events` a JSON list of event types (empty: all).
        m.create_table(
            Table::create()
                .table("webhooks")
                .col(pk_uuid("id"))
                .col(string("url"))
                .col(json_binary("events"))
                .col(string("secret"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // The delivery outbox: due when not delivered and `next_at` has come (NULL: given up).
        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(pk_uuid("id"))
                .col(uuid("webhook_id"))
                .col(string("event_type"))
                .col(json_binary("body"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone_null("next_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("webhook_deliveries", "webhook_id", "webhooks"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_webhook_deliveries_due",
            "webhook_deliveries",
            &["delivered_at", "next_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_webhook_deliveries_webhook",
            "webhook_deliveries",
            &["webhook_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "webhook_deliveries",
            "webhooks",
            "agent_tasks",
            "call_recordings",
            "queue_calls",
            "agent_state_log",
            "agents",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        for c in [
            "strategy",
            "skill",
            "min_level",
            "max_len",
            "overflow",
            "announce_secs",
            "ring_secs",
            "wrap_up_secs",
            "service_level_secs",
            "calendar",
        ] {
            m.alter_table(Table::alter().table("queues").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The knowledge base (issue 7, `docs/kb.md`): categories, articles with every version, attachments,
/// favorites, counted events and votes, the log of searches without results, and synonyms.
struct Kb;

impl MigrationName for Kb {
    fn name(&self) -> &str {
        "m20261201_000007_kb"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Kb {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A tree: `parent_id` NULL for a root; names unique among siblings (checked by the store,
        // since NULL parents do not collide in a unique index).
        m.create_table(
            Table::create()
                .table("kb_categories")
                .col(pk_uuid("id"))
                .col(uuid_null("parent_id"))
                .col(string("name"))
                .col(integer("position"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("kb_categories", "parent_id", "kb_categories"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_kb_categories_parent",
            "kb_categories",
            &["parent_id", "position"],
        ))
        .await?;
        // An article's identity and workflow; its content lives in its versions. `current_version`
        // is the latest, `published_version` what readers see (NULL: nothing published).
        m.create_table(
            Table::create()
                .table("kb_articles")
                .col(pk_uuid("id"))
                .col(string_uniq("slug"))
                .col(string("status"))
                .col(integer("current_version"))
                .col(integer_null("published_version"))
                .col(uuid_null("author_id"))
                .col(uuid_null("submitted_by"))
                .col(uuid_null("reviewer_id"))
                .col(string_null("reviewer_name"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(text_null("reject_comment"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_kb_articles_status", "kb_articles", &["status"]))
            .await?;
        m.create_table(
            Table::create()
                .table("kb_article_versions")
                .col(pk_uuid("id"))
                .col(uuid("article_id"))
                .col(integer("version"))
                .col(text("title"))
                .col(uuid("category_id"))
                .col(json_binary("tags"))
                .col(string("visibility"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text("body"))
                .col(text_null("note"))
                .col(uuid_null("created_by"))
                .col(string("created_by_name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("kb_article_versions", "article_id", "kb_articles"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_kb_article_versions",
                "kb_article_versions",
                &["article_id", "version"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_kb_article_versions_category",
            "kb_article_versions",
            &["category_id"],
        ))
        .await?;
        // Files of an article, kept whole in the database like work-order attachments.
        m.create_table(
            Table::create()
                .table("kb_attachments")
                .col(pk_uuid("id"))
                .col(uuid("article_id"))
                .col(string("filename"))
                .col(string("content_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(blob("content"))
                .col(uuid_null("uploaded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("kb_attachments", "article_id", "kb_articles"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_kb_attachments_article",
            "kb_attachments",
            &["article_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("kb_favorites")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("article_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("kb_favorites", "article_id", "kb_articles"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_kb_favorites",
                "kb_favorites",
                &["user_id", "article_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // Counted events: `view` and `click` (from a search hit, with its query).
        m.create_table(
            Table::create()
                .table("kb_events")
                .col(pk_uuid("id"))
                .col(uuid("article_id"))
                .col(string("kind"))
                .col(uuid_null("user_id"))
                .col(text_null("query"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("kb_events", "article_id", "kb_articles"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_kb_events_at", "kb_events", &["at"]))
            .await?;
        m.create_index(index(
            "ix_kb_events_article",
            "kb_events",
            &["article_id", "kind"],
        ))
        .await?;
        // One vote per user and article, changeable.
        m.create_table(
            Table::create()
                .table("kb_votes")
                .col(pk_uuid("id"))
                .col(uuid("article_id"))
                .col(uuid("user_id"))
                .col(boolean("helpful"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("kb_votes", "article_id", "kb_articles"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_kb_votes", "kb_votes", &["article_id", "user_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("kb_no_results")
                .col(pk_uuid("id"))
                .col(text("query"))
                .col(string("audience"))
                .col(uuid_null("user_id"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_kb_no_results_at", "kb_no_results", &["at"]))
            .await?;
        // One row (id 1): the synonym groups and a version counted up on every change.
        m.create_table(
            Table::create()
                .table("kb_synonyms")
                .col(integer("id").primary_key())
                .col(json_binary("groups"))
                .col(big_integer("version"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "kb_synonyms",
            "kb_no_results",
            "kb_votes",
            "kb_events",
            "kb_favorites",
            "kb_attachments",
            "kb_article_versions",
            "kb_articles",
            "kb_categories",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
