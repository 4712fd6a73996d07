//! The store's behaviour, run on SQLite and on PostgreSQL alike: each test body is generated twice.

use chrono::{NaiveDate, TimeDelta, Utc};
use kefu_domain::*;
use kefu_store::testing::TestDatabase;
use kefu_store::*;

#[path = "store/telephony.rs"]
mod telephony;
use telephony::*;
#[path = "store/wo_config.rs"]
mod wo_config;
use wo_config::*;
#[path = "store/notifications.rs"]
mod notifications;
use notifications::*;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Postgres, super::$name).await })*
        }
    };
}

on_both_backends!(
    organization_and_users,
    duplicate_username_is_a_conflict_and_writes_nothing,
    credentials_authenticate_expire_and_revoke,
    password_change_ends_other_sessions,
    customers_create_search_and_lookup_by_phone,
    customer_update_replaces_phones_and_is_audited,
    import_customers_twice_updates_instead_of_duplicating,
    import_bills_with_unknown_customer_writes_nothing,
    payments_settle_bills_and_overdue_is_derived,
    hostile_strings_are_stored_verbatim,
    search_by_fragment_follows_names_and_updates,
    extensions_authenticate_by_number_and_keep_secrets_out_of_the_audit,
    trunks_give_the_runtime_their_secrets_and_nobody_else,
    routes_map_called_numbers_to_targets,
    call_records_are_written_cheaply_and_found_by_any_filter,
    calendars_are_versioned_and_checked,
    work_order_types_check_their_parts_and_references,
    concurrent_saves_of_one_version_let_exactly_one_win,
    notifications_fan_out_to_units_roles_and_heads,
    attachments_are_kept_whole_with_their_checksum,
    saved_filters_belong_to_their_owner,
);

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    test(store.clone()).await;
    store.close().await.unwrap();
    db.drop_now().await;
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn admin() -> Actor {
    Actor {
        user_id: None,
        name: "test-admin".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

fn customer(no: &str, name: &str, phones: &[&str]) -> CustomerRecord {
    let area = AreaCode::default();
    CustomerRecord {
        customer_no: CustomerNo::parse(no).unwrap(),
        name: CustomerName::parse(name).unwrap(),
        phones: phones
            .iter()
            .map(|p| Phone::parse(p, &area).unwrap())
            .collect(),
        address: Address::parse("宁波市鄞州区天童南路588号 3幢2单元501室").unwrap(),
        district: District::parse("鄞州区").unwrap(),
        service_type: ServiceType::Pipeline,
        meter_no: Some(MeterNo::parse("M-0001").unwrap()),
        notice_preference: NoticePreference::Sms,
        fax: None,
        email: None,
        language: Language::ZhCn,
        remarks: None,
    }
}

fn bill(
    no: &str,
    period: &str,
    yuan: &str,
    due: (i32, u32, u32),
    paid: Option<(i32, u32, u32)>,
) -> BillRecord {
    let d = |(y, m, dd): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    BillRecord {
        customer_no: CustomerNo::parse(no).unwrap(),
        period: Period::parse(period).unwrap(),
        amount: Cents::parse_yuan(yuan).unwrap(),
        due_date: d(due),
        paid_on: paid.map(d),
    }
}

fn page() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 50,
    }
}

async fn audit_count(store: &Store) -> u64 {
    store
        .audit_entries(&AuditQuery::default(), page())
        .await
        .unwrap()
        .total
}

async fn seed_unit(store: &Store) -> Unit {
    store
        .create_unit(
            &admin(),
            NewUnit {
                code: "CC".into(),
                name: "客服中心".into(),
                kind: "call_center".into(),
                parent_id: None,
                takes_queue_calls: true,
            },
        )
        .await
        .unwrap()
}

async fn seed_user(store: &Store, unit: &Unit, name: &str) -> User {
    store
        .create_user(
            &admin(),
            NewUser {
                username: Username::parse(name).unwrap(),
                display_name: "张三".into(),
                password_hash: "$argon2id$fake".into(),
                role: Role::Agent,
                unit_id: unit.id,
            },
        )
        .await
        .unwrap()
}

async fn organization_and_users(store: Store) {
    let hq = store
        .create_unit(
            &admin(),
            NewUnit {
                code: "HQ".into(),
                name: "集团公司".into(),
                kind: "headquarters".into(),
                parent_id: None,
                takes_queue_calls: false,
            },
        )
        .await
        .unwrap();
    let bl = store
        .create_unit(
            &admin(),
            NewUnit {
                code: "BL".into(),
                name: "北仑分理处".into(),
                kind: "branch_office".into(),
                parent_id: Some(hq.id),
                takes_queue_calls: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.units().await.unwrap().len(), 2);
    assert_eq!(
        store.unit_by_code("BL").await.unwrap().unwrap().parent_id,
        Some(hq.id)
    );
    let renamed = store
        .update_unit(
            &admin(),
            bl.id,
            UnitChanges {
                name: Some("北仑分理处（新）".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "北仑分理处（新）");
    assert!(matches!(
        store
            .update_unit(
                &admin(),
                bl.id,
                UnitChanges {
                    parent_id: Some(Some(bl.id)),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::Conflict(_))
    ));

    let u = seed_user(&store, &bl, "Site01").await;
    assert_eq!(u.username, "site01");
    let (found, hash) = store.login_lookup("SITE01").await.unwrap().unwrap();
    assert_eq!(found.id, u.id);
    assert_eq!(hash, "$argon2id$fake");
    let page = store.users(Some("张"), page()).await.unwrap();
    assert_eq!(page.total, 1);
    let changed = store
        .update_user(
            &admin(),
            u.id,
            UserChanges {
                role: Some(Role::Supervisor),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Supervisor);

    let audit = store
        .audit_entries(
            &AuditQuery {
                entity_type: Some("user".into()),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                per_page: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 2);
    let update = &audit.items[0];
    assert_eq!(update.action, "user.update");
    assert_eq!(update.before.as_ref().unwrap()["role"], "agent");
    assert_eq!(update.after.as_ref().unwrap()["role"], "supervisor");
    assert!(
        !update
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains("argon2"),
        "no password hash in the audit log"
    );
    assert_eq!(update.source_ip.as_deref(), Some("127.0.0.1"));
}

async fn duplicate_username_is_a_conflict_and_writes_nothing(store: Store) {
    let unit = seed_unit(&store).await;
    seed_user(&store, &unit, "agent").await;
    let before = audit_count(&store).await;
    let again = store
        .create_user(
            &admin(),
            NewUser {
                username: Username::parse("AGENT").unwrap(),
                display_name: "x".into(),
                password_hash: "h".into(),
                role: Role::Agent,
                unit_id: unit.id,
            },
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(audit_count(&store).await, before);
    assert_eq!(store.users(None, page()).await.unwrap().total, 1);
}

async fn credentials_authenticate_expire_and_revoke(store: Store) {
    let unit = seed_unit(&store).await;
    let u = seed_user(&store, &unit, "agent").await;
    let now = Utc::now();
    let c = store
        .create_credential(
            &admin(),
            CredentialKind::Session,
            u.id,
            None,
            "hash-1".into(),
            Some(now + TimeDelta::hours(1)),
        )
        .await
        .unwrap();
    let (cred, user) = store.authenticate("hash-1", now).await.unwrap().unwrap();
    assert_eq!((cred.id, user.id), (c.id, u.id));
    assert!(store.authenticate("hash-2", now).await.unwrap().is_none());
    assert!(
        store
            .authenticate("hash-1", now + TimeDelta::hours(2))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    store.revoke_credential(&admin(), c.id).await.unwrap();
    assert!(
        store.authenticate("hash-1", now).await.unwrap().is_none(),
        "revoked"
    );

    let t = store
        .create_credential(
            &admin(),
            CredentialKind::ApiToken,
            u.id,
            Some("billing sync".into()),
            "hash-3".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.api_tokens().await.unwrap().len(), 1);
    assert!(store.authenticate("hash-3", now).await.unwrap().is_some());
    store
        .update_user(
            &admin(),
            u.id,
            UserChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        store.authenticate("hash-3", now).await.unwrap().is_none(),
        "deactivated user"
    );
    assert_eq!(
        store.credential(t.id).await.unwrap().name.as_deref(),
        Some("billing sync")
    );
}

async fn password_change_ends_other_sessions(store: Store) {
    let unit = seed_unit(&store).await;
    let u = seed_user(&store, &unit, "agent").await;
    let now = Utc::now();
    let a = store
        .create_credential(
            &admin(),
            CredentialKind::Session,
            u.id,
            None,
            "a".into(),
            None,
        )
        .await
        .unwrap();
    store
        .create_credential(
            &admin(),
            CredentialKind::Session,
            u.id,
            None,
            "b".into(),
            None,
        )
        .await
        .unwrap();
    store
        .create_credential(
            &admin(),
            CredentialKind::ApiToken,
            u.id,
            None,
            "t".into(),
            None,
        )
        .await
        .unwrap();
    store
        .set_password(&admin(), u.id, "new-hash".into(), Some(a.id))
        .await
        .unwrap();
    assert!(
        store.authenticate("a", now).await.unwrap().is_some(),
        "the session that changed it stays"
    );
    assert!(
        store.authenticate("b", now).await.unwrap().is_none(),
        "other sessions end"
    );
    assert!(
        store.authenticate("t", now).await.unwrap().is_some(),
        "API tokens stay"
    );
    assert_eq!(
        store.login_lookup("agent").await.unwrap().unwrap().1,
        "new-hash"
    );
}

async fn customers_create_search_and_lookup_by_phone(store: Store) {
    let a = store
        .create_customer(
            &admin(),
            &customer("3000001", "王建国", &["138 1234 5678", "0574-87654321"]),
            today(),
        )
        .await
        .unwrap();
    store
        .create_customer(
            &admin(),
            &customer("3000002", "王小明", &["13900000002"]),
            today(),
        )
        .await
        .unwrap();
    store
        .create_customer(
            &admin(),
            &customer("3000003", "李四", &["87654321"]),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(a.phones, ["13812345678", "057487654321"]);

    let area = AreaCode::default();
    let by_phone = store
        .customers_by_phone(&Phone::parse("+86 574 8765 4321", &area).unwrap(), today())
        .await
        .unwrap();
    let mut nos: Vec<_> = by_phone.iter().map(|c| c.customer_no.as_str()).collect();
    nos.sort();
    assert_eq!(
        nos,
        ["3000001", "3000003"],
        "a shared family landline finds both"
    );
    assert!(
        store
            .customers_by_phone(&Phone::parse("13700000000", &area).unwrap(), today())
            .await
            .unwrap()
            .is_empty()
    );

    let search = |q: CustomerQuery| {
        let store = store.clone();
        async move {
            store
                .search_customers(&q, page(), today())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.customer_no)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(CustomerQuery {
            q: Some("王".into()),
            ..Default::default()
        })
        .await,
        ["3000001", "3000002"]
    );
    assert_eq!(
        search(CustomerQuery {
            q: Some("3000002".into()),
            ..Default::default()
        })
        .await,
        ["3000002"]
    );
    assert_eq!(
        search(CustomerQuery {
            q: Some("天童南路".into()),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        search(CustomerQuery {
            q: Some("13812345678".into()),
            q_phone: Phone::parse("13812345678", &area).ok(),
            ..Default::default()
        })
        .await,
        ["3000001"]
    );
    assert_eq!(
        search(CustomerQuery {
            name: Some("小明".into()),
            district: Some("鄞州区".into()),
            ..Default::default()
        })
        .await,
        ["3000002"]
    );
    assert!(
        search(CustomerQuery {
            q: Some("%".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "% is literal"
    );
    let paged = store
        .search_customers(
            &CustomerQuery::default(),
            PageRequest {
                page: 2,
                per_page: 2,
            },
            today(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            paged.total,
            paged.items.len(),
            paged.items[0].customer_no.as_str()
        ),
        (3, 1, "3000003")
    );

    let dup = store
        .create_customer(
            &admin(),
            &customer("3000001", "重复", &["13600000000"]),
            today(),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

async fn customer_update_replaces_phones_and_is_audited(store: Store) {
    let c = store
        .create_customer(
            &admin(),
            &customer("3000001", "王建国", &["13812345678"]),
            today(),
        )
        .await
        .unwrap();
    let mut r = customer("3000001", "王建国", &["13900000000", "13812345678"]);
    r.remarks = Some("老人独居，上门请提前电话联系".into());
    let after = store.update_customer(&admin(), c.id, &r).await.unwrap();
    assert_eq!(after.phones, ["13900000000", "13812345678"]);
    assert_eq!(after.created_at, c.created_at);
    let area = AreaCode::default();
    assert_eq!(
        store
            .customers_by_phone(&Phone::parse("13900000000", &area).unwrap(), today())
            .await
            .unwrap()
            .len(),
        1
    );
    let entries = store
        .audit_entries(
            &AuditQuery {
                entity_id: Some(c.id.to_string()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(entries.items[0].action, "customer.update");
    assert_eq!(
        entries.items[0].before.as_ref().unwrap()["phones"],
        serde_json::json!(["13812345678"])
    );
    assert_eq!(
        entries.items[0].after.as_ref().unwrap()["remarks"],
        "老人独居，上门请提前电话联系"
    );
}

async fn import_customers_twice_updates_instead_of_duplicating(store: Store) {
    let records: Vec<_> = (0..1200)
        .map(|i| {
            customer(
                &format!("{:07}", 1000000 + i),
                "客户",
                &[&format!("139{:08}", i)],
            )
        })
        .collect();
    let mut seen = Vec::new();
    let first = store
        .import_customers(&admin(), &records, today(), |n| seen.push(n))
        .await
        .unwrap();
    assert_eq!(
        first,
        ImportCounts {
            inserted: 1200,
            updated: 0
        }
    );
    assert_eq!(seen.last(), Some(&1200));
    let mut changed = records.clone();
    changed[5].name = CustomerName::parse("改名").unwrap();
    changed[700].phones = vec![Phone::parse("13700000700", &AreaCode::default()).unwrap()];
    let second = store
        .import_customers(&admin(), &changed, today(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        second,
        ImportCounts {
            inserted: 0,
            updated: 2
        }
    );
    assert_eq!(store.customer_count().await.unwrap(), 1200);
    let found = store
        .search_customers(
            &CustomerQuery {
                q: Some("改名".into()),
                ..Default::default()
            },
            page(),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(found.items[0].customer_no, "1000005");
}

async fn import_bills_with_unknown_customer_writes_nothing(store: Store) {
    store
        .import_customers(
            &admin(),
            &[customer("3000001", "王建国", &["13812345678"])],
            today(),
            |_| {},
        )
        .await
        .unwrap();
    let bills = [
        bill("3000001", "2026-09", "88.50", (2026, 10, 25), None),
        bill("9999999", "2026-09", "10", (2026, 10, 25), None),
    ];
    let r = store
        .import_bills(&admin(), &bills, false, |_| {})
        .await
        .unwrap();
    assert_eq!(r.unknown_customers, [1]);
    assert_eq!(r.counts, ImportCounts::default());
    let c = store
        .search_customers(&CustomerQuery::default(), page(), today())
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(
        store.customer_detail(c.id, today()).await.unwrap().accounts[0]
            .bills
            .is_empty()
    );

    let r = store
        .import_bills(&admin(), &bills, true, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (r.counts, r.unknown_customers),
        (
            ImportCounts {
                inserted: 1,
                updated: 0
            },
            vec![1]
        )
    );
    let again = [bill(
        "3000001",
        "2026-09",
        "90.00",
        (2026, 10, 25),
        Some((2026, 10, 20)),
    )];
    let r = store
        .import_bills(&admin(), &again, false, |_| {})
        .await
        .unwrap();
    assert_eq!(
        r.counts,
        ImportCounts {
            inserted: 0,
            updated: 1
        }
    );
    let detail = store.customer_detail(c.id, today()).await.unwrap();
    let b = &detail.accounts[0].bills;
    assert_eq!(
        (b.len(), b[0].amount_cents, b[0].status),
        (1, 9000, BillStatus::Paid)
    );
}

async fn payments_settle_bills_and_overdue_is_derived(store: Store) {
    let c = store
        .create_customer(
            &admin(),
            &customer("3000001", "王建国", &["13812345678"]),
            today(),
        )
        .await
        .unwrap();
    let bills = [
        bill("3000001", "2026-09", "100.00", (2026, 10, 25), None),
        bill("3000001", "2026-10", "50.00", (2026, 11, 25), None),
        bill("3000001", "2026-11", "70.00", (2026, 12, 25), None),
    ];
    store
        .import_bills(&admin(), &bills, false, |_| {})
        .await
        .unwrap();
    let summary = |store: Store| async move {
        store
            .customers_by_phone(
                &Phone::parse("13812345678", &AreaCode::default()).unwrap(),
                today(),
            )
            .await
            .unwrap()
            .remove(0)
    };
    assert_eq!(summary(store.clone()).await.overdue_cents, 15000);
    let detail = store.customer_detail(c.id, today()).await.unwrap();
    let statuses: Vec<_> = detail.accounts[0]
        .bills
        .iter()
        .map(|b| (b.period.as_str(), b.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("2026-11", BillStatus::Unpaid),
            ("2026-10", BillStatus::Overdue),
            ("2026-09", BillStatus::Overdue)
        ]
    );

    let pay = PaymentRecord {
        customer_no: CustomerNo::parse("3000001").unwrap(),
        period: Some(Period::parse("2026-09").unwrap()),
        amount: Cents(10000),
        paid_on: today(),
        method: PaymentMethod::Wechat,
        reference: Some("WX20261126".into()),
    };
    let p = store.record_payment(&admin(), c.id, &pay).await.unwrap();
    assert_eq!(p.period.as_deref(), Some("2026-09"));
    assert_eq!(summary(store.clone()).await.overdue_cents, 5000);
    let detail = store.customer_detail(c.id, today()).await.unwrap();
    assert_eq!(detail.accounts[0].payments.len(), 1);
    assert_eq!(detail.accounts[0].bills[2].paid_on, Some(today()));
}

async fn hostile_strings_are_stored_verbatim(store: Store) {
    let mut r = customer("3000001", "'; DROP TABLE customers; --", &["13812345678"]);
    r.remarks = Some("<script>alert(1)</script>".into());
    let c = store.create_customer(&admin(), &r, today()).await.unwrap();
    let back = store.customer(c.id).await.unwrap();
    assert_eq!(back.name, "'; DROP TABLE customers; --");
    assert_eq!(back.remarks.as_deref(), Some("<script>alert(1)</script>"));
    let found = store
        .search_customers(
            &CustomerQuery {
                q: Some("DROP TABLE".into()),
                ..Default::default()
            },
            page(),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(store.customer_count().await.unwrap(), 1);
}

async fn search_by_fragment_follows_names_and_updates(store: Store) {
    let mut schmidt = customer("3000004", "Julia Schmidt", &["13900000004"]);
    schmidt.address = Address::parse("宁波市鄞州区银泰小区 3幢2单元501室").unwrap();
    for r in [
        customer("3000001", "王小明", &["13900000001"]),
        customer("3000002", "李王", &["13900000002"]),
        customer("3000003", "欧阳建国", &["13900000003"]),
        schmidt,
    ] {
        store.create_customer(&admin(), &r, today()).await.unwrap();
    }
    let q = |text: &str| {
        let store = store.clone();
        let text = text.to_string();
        async move {
            let found = store
                .search_customers(
                    &CustomerQuery {
                        q: Some(text),
                        ..Default::default()
                    },
                    page(),
                    today(),
                )
                .await
                .unwrap();
            found.items.into_iter().map(|c| c.name).collect::<Vec<_>>()
        }
    };
    // One or two characters: the start of the name or of the given name.
    assert_eq!(q("王").await, ["王小明", "李王"]);
    assert_eq!(q("小明").await, ["王小明"]);
    assert_eq!(
        q("建国").await,
        Vec::<String>::new(),
        "欧阳's given name starts at the third character"
    );
    // Three or more: anywhere in the name or address, ignoring case.
    assert_eq!(q("阳建国").await, ["欧阳建国"]);
    assert_eq!(q("schmidt").await, ["Julia Schmidt"]);
    assert_eq!(q("银泰小区 3幢").await, ["Julia Schmidt"]);
    assert_eq!(
        q("\"quoted\"").await,
        Vec::<String>::new(),
        "quotes are literal"
    );
    // Digits alone are a customer or phone number, not a fragment of an address's house number.
    assert_eq!(q("501").await, Vec::<String>::new());
    assert_eq!(q("3000004").await, ["Julia Schmidt"]);
    let by_phone = CustomerQuery {
        q: Some("139 0000 0004".into()),
        q_phone: Phone::parse("139 0000 0004", &AreaCode::default()).ok(),
        ..Default::default()
    };
    assert_eq!(
        store
            .search_customers(&by_phone, page(), today())
            .await
            .unwrap()
            .items[0]
            .name,
        "Julia Schmidt"
    );
    // Updates move the index along.
    let c = store
        .search_customers(
            &CustomerQuery {
                customer_no: Some("3000001".into()),
                ..Default::default()
            },
            page(),
            today(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let mut renamed = customer("3000001", "赵大伟", &["13900000001"]);
    renamed.address = Address::parse("宁波市北仑区明州路1号").unwrap();
    store
        .update_customer(&admin(), c.id, &renamed)
        .await
        .unwrap();
    assert_eq!(q("王").await, ["李王"]);
    assert_eq!(q("赵大伟").await, ["赵大伟"]);
    assert_eq!(q("大伟").await, ["赵大伟"]);
    assert_eq!(q("明州路").await, ["赵大伟"]);
}
