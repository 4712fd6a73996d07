//! First-start data: the demo tenant (`--demo`) or, on an empty database, a first administrator.

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use kefu_domain::Username;
use kefu_store::{Actor, NewUnit, NewUser, Store};

/// Demo customers; `kefu serve --demo` seeds this many.
pub const DEMO_CUSTOMERS: usize = 1000;
const DEMO_SEED: u64 = 96777;

/// Seeds the demo tenant unless it is already there (the unit `HQ` exists). Returns whether it seeded.
pub async fn demo(store: &Store, today: NaiveDate, customers: usize) -> anyhow::Result<bool> {
    if store.unit_by_code("HQ").await?.is_some() {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let mut ids = HashMap::new();
    for u in kefu_demo::units() {
        let parent_id = u.parent_code.map(|c| ids[c]);
        let unit = store
            .create_unit(
                &actor,
                NewUnit {
                    code: u.code.into(),
                    name: u.name.into(),
                    kind: u.kind.into(),
                    parent_id,
                    takes_queue_calls: u.takes_queue_calls,
                },
            )
            .await?;
        ids.insert(u.code, unit.id);
    }
    for u in kefu_demo::users() {
        let hash =
            tokio::task::spawn_blocking(|| kefu_api::auth::hash_password(kefu_demo::DEMO_PASSWORD))
                .await?;
        let username = Username::parse(u.username)
            .map_err(|e| anyhow::anyhow!("demo user {}: {}", u.username, e.reason))?;
        store
            .create_user(
                &actor,
                NewUser {
                    username,
                    display_name: u.display_name.into(),
                    password_hash: hash,
                    role: u.role,
                    unit_id: ids[u.unit_code],
                },
            )
            .await?;
    }
    let data = kefu_demo::customers(customers, DEMO_SEED, today);
    store
        .import_customers(&actor, &data.customers, today, |_| {})
        .await?;
    let bills = store
        .import_bills(&actor, &data.bills, false, |_| {})
        .await?;
    anyhow::ensure!(
        bills.unknown_customers.is_empty(),
        "demo bills name unknown customers"
    );
    store.import_payments(&actor, &data.payments).await?;
    tracing::info!(
        customers = data.customers.len(),
        bills = data.bills.len(),
        payments = data.payments.len(),
        "demo tenant seeded"
    );
    Ok(true)
}

/// On a database without users, creates the headquarters unit and an `admin` whose password comes from
/// `KEFU_ADMIN_PASSWORD` or is generated and printed once.
pub async fn first_admin(store: &Store) -> anyhow::Result<()> {
    if store
        .users(
            None,
            kefu_store::PageRequest {
                page: 1,
                per_page: 1,
            },
        )
        .await?
        .total
        > 0
    {
        return Ok(());
    }
    let actor = Actor::system("bootstrap");
    let unit = match store.unit_by_code("HQ").await? {
        Some(u) => u,
        None => {
            store
                .create_unit(
                    &actor,
                    NewUnit {
                        code: "HQ".into(),
                        name: "集团公司".into(),
                        kind: "headquarters".into(),
                        parent_id: None,
                        takes_queue_calls: false,
                    },
                )
                .await?
        }
    };
    let (password, generated) = match std::env::var("KEFU_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (kefu_api::auth::new_password(), true),
    };
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || kefu_api::auth::hash_password(&p)).await?;
    store
        .create_user(
            &actor,
            NewUser {
                username: Username::parse("admin").expect("static"),
                display_name: "系统管理员".into(),
                password_hash: hash,
                role: kefu_domain::Role::Admin,
                unit_id: unit.id,
            },
        )
        .await
        .context("creating the first administrator")?;
    if generated {
        eprintln!(
            "kefu: first start — created user 'admin' with password {password} (change it after signing in)"
        );
    }
    Ok(())
}
