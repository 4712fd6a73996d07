//! First-start data: the demo tenant (`--demo`) or, on an empty database, a first administrator.

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use kefu_domain::{DidNumber, ExtensionNumber, RouteTarget, SipTransport, TrunkKind, Username};
use kefu_store::{
    Actor, ExtensionOwner, NewDidRoute, NewExtension, NewTrunk, NewUnit, NewUser, Store,
};

/// Demo customers; `kefu serve --demo` seeds this many.
pub const DEMO_CUSTOMERS: usize = 1000;
const DEMO_SEED: u64 = 96777;

/// The demo's phones: (username, extension) for people, then the first remote sites' extensions from
/// 8101 on. Every SIP password is the demo password.
pub const DEMO_USER_EXTENSIONS: &[(&str, &str)] = &[("agent", "8001"), ("supervisor", "8002")];
/// The first extension number of the remote sites' phones (8101-8104).
pub const DEMO_SITE_EXTENSIONS_FROM: u32 = 8101;
/// The demo trunk: trusts SIP from this machine.
pub const DEMO_TRUNK: &str = "本地测试中继";
/// The gas group's service number, routed to the main IVR flow.
pub const DEMO_SERVICE_NUMBER: &str = "96777";

/// Seeds the demo tenant and its telephony (see [`demo_in_realm`]) with the default SIP realm.
pub async fn demo(store: &Store, today: NaiveDate, customers: usize) -> anyhow::Result<bool> {
    demo_in_realm(
        store,
        today,
        customers,
        &kefu_api::Settings::default().sip_realm,
    )
    .await
}

/// Seeds the demo tenant unless it is already there (the unit `HQ` exists), then the demo telephony
/// unless some telephony is configured, with SIP password hashes for `realm` (the deployment's
/// `Settings::sip_realm`). Returns whether it seeded the tenant.
pub async fn demo_in_realm(
    store: &Store,
    today: NaiveDate,
    customers: usize,
    realm: &str,
) -> anyhow::Result<bool> {
    let seeded = demo_tenant(store, today, customers).await?;
    crate::seed_work_orders::demo_work_order_config(store).await?;
    crate::seed_orders::demo_work_orders(store, today).await?;
    demo_telephony(store, realm).await?;
    crate::seed_ivr::demo_ivr_data(store).await?;
    crate::seed_flows::demo_flows(store).await?;
    crate::seed_acd::demo_agents(store).await?;
    Ok(seeded)
}

/// Extensions for the demo agent and supervisor (8001, 8002) and for four remote sites (8101-8104),
/// a trunk trusting 127.0.0.1, and the service number 96777 routed to the IVR flow `main`. Only on a
/// demo tenant (the call center `CC` exists) with no extension, trunk or route yet, so a database that
/// had its telephony configured, or deleted, is left alone. Returns whether it seeded.
pub async fn demo_telephony(store: &Store, realm: &str) -> anyhow::Result<bool> {
    if store.unit_by_code("CC").await?.is_none()
        || !store.extensions().await?.is_empty()
        || !store.trunks().await?.is_empty()
        || !store.did_routes().await?.is_empty()
    {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let secrets = |number: &str| kefu_api::digest_secrets(number, realm, kefu_demo::DEMO_PASSWORD);
    let number = |n: &str| {
        ExtensionNumber::parse(n).map_err(|e| anyhow::anyhow!("demo extension {n}: {}", e.reason))
    };
    for (username, n) in DEMO_USER_EXTENSIONS {
        let Some((user, _)) = store.login_lookup(username).await? else {
            continue;
        };
        store
            .create_extension(
                &actor,
                NewExtension {
                    number: number(n)?,
                    display_name: user.display_name.clone(),
                    owner: ExtensionOwner::User(user.id),
                    enabled: true,
                    secrets: secrets(n),
                },
            )
            .await?;
    }
    let sites = kefu_demo::units()
        .into_iter()
        .filter(|u| !u.takes_queue_calls && u.kind != "headquarters")
        .take(4);
    for (i, site) in (0u32..).zip(sites) {
        let Some(unit) = store.unit_by_code(site.code).await? else {
            continue;
        };
        let n = (DEMO_SITE_EXTENSIONS_FROM + i).to_string();
        store
            .create_extension(
                &actor,
                NewExtension {
                    number: number(&n)?,
                    display_name: unit.name.clone(),
                    owner: ExtensionOwner::Unit(unit.id),
                    enabled: true,
                    secrets: secrets(&n),
                },
            )
            .await?;
    }
    store
        .create_trunk(
            &actor,
            NewTrunk {
                name: DEMO_TRUNK.into(),
                kind: TrunkKind::Pbx,
                enabled: true,
                allowed_sources: vec![
                    kefu_domain::parse_source("127.0.0.1/32")
                        .map_err(|e| anyhow::anyhow!(e.reason))?,
                ],
                inbound: None,
                proxy: None,
                transport: SipTransport::Udp,
                username: None,
                password: None,
                register: false,
                register_expires: 3600,
                caller_id: None,
                max_channels: None,
            },
        )
        .await?;
    store
        .create_did_route(
            &actor,
            NewDidRoute {
                number: DidNumber::parse(DEMO_SERVICE_NUMBER)
                    .map_err(|e| anyhow::anyhow!(e.reason))?,
                target: RouteTarget::parse("flow", "main")
                    .map_err(|e| anyhow::anyhow!(e.reason))?,
                trunk_id: None,
                description: Some("燃气集团服务热线 gas group service number".into()),
            },
        )
        .await?;
    tracing::info!(
        "demo telephony seeded: extensions, a local trunk and route {DEMO_SERVICE_NUMBER}"
    );
    Ok(true)
}

/// The organization, users and customers of the demo; skipped when the unit `HQ` exists.
async fn demo_tenant(store: &Store, today: NaiveDate, customers: usize) -> anyhow::Result<bool> {
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
