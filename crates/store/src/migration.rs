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
