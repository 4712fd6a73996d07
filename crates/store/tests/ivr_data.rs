//! What the IVR reads and writes (`ivr_data`), run on SQLite and on PostgreSQL alike, over the demo's
//! customers, bills and payments. Expected values are computed here from the demo records that were
//! imported, not read back from the code under test.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use kefu_domain::*;
use kefu_store::testing::TestDatabase;
use kefu_store::*;
use kefu_workorders::{FieldDef, Form, Priority, SlaPolicy, Status, WorkOrderNo, china_demo_spec};

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
    ivr_data_customers_read_their_bills_and_payments,
    ivr_data_orders_by_number_and_newest_record_the_query,
    ivr_data_created_orders_carry_recording_and_sms_or_nothing,
    ivr_data_documents_are_queued_to_the_outbox,
    ivr_data_survey_answers_are_range_checked,
    ivr_data_hours_follow_the_sla_calendars,
    ivr_data_queues_name_existing_extensions,
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

fn admin() -> Actor {
    Actor {
        user_id: None,
        name: "test-admin".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

fn page() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 200,
    }
}

fn fields_of(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn audit_count(store: &Store) -> u64 {
    store
        .audit_entries(&AuditQuery::default(), page())
        .await
        .unwrap()
        .total
}

/// The demo's units, customers with a year of bills and payments, the standard calendar and two
/// types: `fault` (dispatched to the pipe network office) and `inquiry` (no unit).
struct World {
    data: kefu_demo::Customers,
    units: HashMap<&'static str, UnitId>,
}

async fn world(store: &Store) -> World {
    let today = Utc::now().date_naive();
    let mut units = HashMap::new();
    for u in kefu_demo::units() {
        let unit = store
            .create_unit(
                &admin(),
                NewUnit {
                    code: u.code.into(),
                    name: u.name.into(),
                    kind: u.kind.into(),
                    parent_id: u.parent_code.map(|c| units[c]),
                    takes_queue_calls: u.takes_queue_calls,
                },
            )
            .await
            .unwrap();
        units.insert(u.code, unit.id);
    }
    let data = kefu_demo::customers(120, 96777, today);
    store
        .import_customers(&admin(), &data.customers, today, |_| {})
        .await
        .unwrap();
    let bills = store
        .import_bills(&admin(), &data.bills, false, |_| {})
        .await
        .unwrap();
    assert!(bills.unknown_customers.is_empty());
    store
        .import_payments(&admin(), &data.payments)
        .await
        .unwrap();
    let cal = store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "标准工作日历".into(),
                spec: china_demo_spec(),
            },
        )
        .await
        .unwrap();
    let form = |v: serde_json::Value| {
        let defs: Vec<FieldDef> = serde_json::from_value(v).unwrap();
        Form::parse(defs).unwrap()
    };
    let policy: SlaPolicy = serde_json::from_value(serde_json::json!({
        "targets": {"emergency": {"accept_mins": 10, "resolve_mins": 240}, "normal": {"resolve_mins": 960}}
    }))
    .unwrap();
    for (code, name, unit, form) in [
        (
            "fault",
            "故障申告",
            Some(units["PN"]),
            form(serde_json::json!([
                {"key": "category", "label": "故障类别", "kind": "choice", "required": true, "options": [
                    {"value": "gas_leak", "label": "燃气泄漏"}, {"value": "no_gas", "label": "无气"}]},
                {"key": "floor", "label": "楼层", "kind": "number"}
            ])),
        ),
        ("inquiry", "信息咨询", None, form(serde_json::json!([]))),
    ] {
        store
            .create_work_order_type(
                &admin(),
                NewWorkOrderType {
                    code: code.into(),
                    name: name.into(),
                    name_en: None,
                    description: None,
                    form,
                    priority_rules: vec![],
                    default_priority: Priority::Normal,
                    default_unit_id: unit,
                    fallback_unit_id: None,
                    calendar_id: cal.id,
                    sla: policy.clone(),
                    callback_required: false,
                    active: true,
                    sort: 1,
                },
            )
            .await
            .unwrap();
    }
    World { data, units }
}

/// What a customer's variables must say, computed from the demo records.
fn expected_vars(
    w: &World,
    c: &CustomerRecord,
    today: NaiveDate,
) -> BTreeMap<&'static str, String> {
    let no = c.customer_no.as_str();
    let bills: Vec<_> = w
        .data
        .bills
        .iter()
        .filter(|b| b.customer_no.as_str() == no)
        .collect();
    let unpaid: Vec<_> = bills.iter().filter(|b| b.paid_on.is_none()).collect();
    let due: i64 = unpaid.iter().map(|b| b.amount.0).sum();
    let overdue: i64 = unpaid
        .iter()
        .filter(|b| b.due_date < today)
        .map(|b| b.amount.0)
        .sum();
    let oldest = unpaid.iter().map(|b| b.due_date).min();
    let last = w
        .data
        .payments
        .iter()
        .filter(|p| p.customer_no.as_str() == no)
        .max_by_key(|p| p.paid_on);
    let phones: Vec<&str> = c.phones.iter().map(|p| p.as_str()).collect();
    BTreeMap::from([
        ("customer.no", no.to_string()),
        ("customer.name", c.name.as_str().to_string()),
        ("customer.phones", phones.join(",")),
        ("customer.amount_due", due.to_string()),
        ("customer.balance", (-due).to_string()),
        ("customer.overdue_amount", overdue.to_string()),
        (
            "customer.due_date",
            oldest.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "customer.last_payment_amount",
            last.map_or(0, |p| p.amount.0).to_string(),
        ),
        (
            "customer.last_payment_date",
            last.map(|p| p.paid_on.to_string()).unwrap_or_default(),
        ),
        ("customer.email", c.email.clone().unwrap_or_default()),
        ("customer.open_orders", "0".to_string()),
    ])
}

fn assert_vars(got: &Vars, want: &BTreeMap<&'static str, String>) {
    for (k, v) in want {
        assert_eq!(got.get(*k), Some(v), "{k} of {:?}", got.get("customer.no"));
    }
}

pub async fn ivr_data_customers_read_their_bills_and_payments(store: Store) {
    let w = world(&store).await;
    let today = Utc::now().date_naive();
    let mut owners: HashMap<&str, usize> = HashMap::new();
    for c in &w.data.customers {
        for p in &c.phones {
            *owners.entry(p.as_str()).or_default() += 1;
        }
    }
    let (mut owing, mut paying) = (0, 0);
    for c in &w.data.customers {
        let want = expected_vars(&w, c, today);
        owing += usize::from(want["customer.amount_due"] != "0");
        paying += usize::from(want["customer.last_payment_amount"] != "0");
        let by_no = store
            .ivr_customer_by_no(&c.customer_no.as_str().to_lowercase())
            .await
            .unwrap()
            .expect("found by customer number");
        assert_vars(&by_no, &want);
        let id: uuid::Uuid = by_no["customer.id"].parse().unwrap();
        assert_eq!(
            store
                .customer_id_by_no(c.customer_no.as_str())
                .await
                .unwrap(),
            Some(CustomerId(id))
        );
        let phone = c.phones[0].as_str();
        // As a switch sends it: with the country code.
        let by_phone = store
            .ivr_customer_by_phone(&format!("+86{phone}"))
            .await
            .unwrap();
        if owners[phone] == 1 {
            assert_eq!(by_phone.as_ref(), Some(&by_no));
        } else {
            assert_eq!(by_phone, None, "a shared number identifies nobody");
        }
    }
    assert!(owing > 0 && paying > 0, "the demo has debtors and payers");
    assert_eq!(
        store.ivr_customer_by_phone("anonymous").await.unwrap(),
        None
    );
    assert_eq!(store.ivr_customer_by_phone("").await.unwrap(), None);
    assert_eq!(
        store.ivr_customer_by_phone("13900000000").await.unwrap(),
        None
    );
    assert_eq!(store.ivr_customer_by_no("NOPE").await.unwrap(), None);

    // Paying a bill moves it out of what is due.
    let c = w
        .data
        .customers
        .iter()
        .find(|c| expected_vars(&w, c, today)["customer.amount_due"] != "0")
        .unwrap();
    let before: i64 = store
        .ivr_customer_by_no(c.customer_no.as_str())
        .await
        .unwrap()
        .unwrap()["customer.amount_due"]
        .parse()
        .unwrap();
    let bill = w
        .data
        .bills
        .iter()
        .find(|b| b.customer_no == c.customer_no && b.paid_on.is_none())
        .unwrap();
    store
        .import_payments(
            &admin(),
            &[PaymentRecord {
                customer_no: c.customer_no.clone(),
                period: Some(bill.period),
                amount: bill.amount,
                paid_on: today,
                method: PaymentMethod::ALL[0],
                reference: None,
            }],
        )
        .await
        .unwrap();
    let after = store
        .ivr_customer_by_no(c.customer_no.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after["customer.amount_due"],
        (before - bill.amount.0).to_string()
    );
    assert_eq!(after["customer.last_payment_date"], today.to_string());
    assert_eq!(
        after["customer.last_payment_amount"],
        bill.amount.0.to_string()
    );
}

fn request(ty: &str, customer: Option<uuid::Uuid>, caller: &str) -> IvrOrderRequest {
    IvrOrderRequest {
        order_type: ty.into(),
        priority: String::new(),
        title: "语音报修".into(),
        description: "客户通过语音导航报修".into(),
        recording: None,
        fields: BTreeMap::new(),
        sms: false,
        customer_id: customer,
        caller: caller.into(),
        call_uuid: Some(uuid::Uuid::now_v7()),
    }
}

async fn customer_ids(store: &Store, w: &World) -> Vec<(uuid::Uuid, String)> {
    let mut out = Vec::new();
    for c in w.data.customers.iter().take(3) {
        let id = store
            .customer_id_by_no(c.customer_no.as_str())
            .await
            .unwrap()
            .unwrap();
        out.push((id.0, c.phones[0].as_str().to_string()));
    }
    out
}

pub async fn ivr_data_orders_by_number_and_newest_record_the_query(store: Store) {
    let w = world(&store).await;
    let ids = customer_ids(&store, &w).await;
    let (alice, alice_phone) = ids[0].clone();
    let (bob, _) = ids[1].clone();
    assert_eq!(
        store.ivr_newest_order_of_customer(alice).await.unwrap(),
        None
    );

    let first = store
        .ivr_create_work_order(request("inquiry", Some(alice), &alice_phone))
        .await
        .unwrap();
    let second = store
        .ivr_create_work_order(IvrOrderRequest {
            fields: BTreeMap::from([("category".into(), "no_gas".into())]),
            ..request("fault", Some(alice), &alice_phone)
        })
        .await
        .unwrap();
    let first_id = WorkOrderId(first["order.id"].parse().unwrap());
    let no = WorkOrderNo::parse(&first["order.no"]).unwrap();
    assert_eq!(first["order.digits"], no.digits());

    // By digits, by the full number, by the number as typed with spaces.
    let by_digits = store
        .ivr_order_by_no(no.digits(), Some(alice))
        .await
        .unwrap()
        .expect("found by digits");
    let order = store.work_order(first_id).await.unwrap();
    assert_eq!(by_digits["order.id"], first["order.id"]);
    assert_eq!(by_digits["order.no"], order.no);
    assert_eq!(by_digits["order.status"], order.status.as_str());
    assert_eq!(by_digits["order.type"], "inquiry");
    assert_eq!(by_digits["order.type_name"], "信息咨询");
    assert_eq!(
        by_digits["order.created_at"],
        (order.created_at + chrono::TimeDelta::minutes(480))
            .date_naive()
            .to_string()
    );
    assert_eq!(order.customer_query_count, 1, "the query is recorded");
    assert_eq!(
        by_digits["order.created_at"],
        no.day().to_string(),
        "the number's day is the local day"
    );
    let events = store.work_order_events(first_id).await.unwrap();
    assert_eq!(events.len(), 2, "created, then queried: {events:?}");
    assert!(
        store
            .ivr_order_by_no(no.as_str(), None)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .work_order(first_id)
            .await
            .unwrap()
            .customer_query_count,
        2
    );
    // Another customer's order is not theirs to hear about; nonsense finds nothing.
    assert_eq!(
        store.ivr_order_by_no(no.digits(), Some(bob)).await.unwrap(),
        None
    );
    assert_eq!(store.ivr_order_by_no("12", None).await.unwrap(), None);
    assert_eq!(
        store.ivr_order_by_no("9912319999", None).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .work_order(first_id)
            .await
            .unwrap()
            .customer_query_count,
        2
    );

    let vars = store
        .ivr_customer_by_no(w.data.customers[0].customer_no.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vars["customer.id"], alice.to_string());
    assert_eq!(vars["customer.open_orders"], "2");

    // Newest open: the fault; once it is cancelled, the inquiry; with nothing open, the newest.
    let newest = store
        .ivr_newest_order_of_customer(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest["order.id"], second["order.id"]);
    assert_eq!(newest["order.status"], Status::Dispatched.as_str());
    let admin_acting = Acting {
        user_id: None,
        role: Some(Role::Admin),
        unit_id: None,
    };
    let second_id = WorkOrderId(second["order.id"].parse().unwrap());
    store
        .act_on_work_order(
            &admin(),
            &admin_acting,
            second_id,
            None,
            Act::Cancel {
                reason: "客户来电撤销".into(),
            },
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    let newest = store
        .ivr_newest_order_of_customer(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest["order.id"], first["order.id"]);
    store
        .act_on_work_order(
            &admin(),
            &admin_acting,
            first_id,
            None,
            Act::Cancel {
                reason: "重复".into(),
            },
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    let newest = store
        .ivr_newest_order_of_customer(alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest["order.id"], second["order.id"]);
    assert_eq!(newest["order.status"], Status::Cancelled.as_str());
    assert_eq!(store.ivr_newest_order_of_customer(bob).await.unwrap(), None);
    let vars = store
        .ivr_customer_by_no(w.data.customers[0].customer_no.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vars["customer.open_orders"], "0");
}

/// A small valid WAV: 8 kHz mono 16-bit, `n` samples of a ramp.
fn wav(n: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..n).flat_map(|i| (i as i16 * 7).to_le_bytes()).collect();
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

async fn counts(store: &Store) -> (u64, u64, u64, u64) {
    let orders = store
        .work_orders(&WorkOrderQuery::default(), page())
        .await
        .unwrap()
        .total;
    let outbox = store
        .list_outbound_messages(&OutboundQuery::default(), page())
        .await
        .unwrap()
        .total;
    (
        orders,
        store.attachment_count().await.unwrap(),
        outbox,
        audit_count(store).await,
    )
}

pub async fn ivr_data_created_orders_carry_recording_and_sms_or_nothing(store: Store) {
    let w = world(&store).await;
    let customer = w
        .data
        .customers
        .iter()
        .find(|c| c.phones[0].is_mobile())
        .unwrap();
    let cid = store
        .customer_id_by_no(customer.customer_no.as_str())
        .await
        .unwrap()
        .unwrap();
    let mobile = customer.phones[0].as_str().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak.wav");
    let bytes = wav(4000);
    std::fs::write(&path, &bytes).unwrap();
    let call = uuid::Uuid::now_v7();

    let before = counts(&store).await;
    let made = store
        .ivr_create_work_order(IvrOrderRequest {
            priority: "emergency".into(),
            recording: Some(path.clone()),
            fields: BTreeMap::from([
                ("category".into(), "gas_leak".into()),
                ("floor".into(), "6".into()),
            ]),
            sms: true,
            call_uuid: Some(call),
            ..request(
                "fault",
                Some(cid.0),
                &format!("{}-{}", &mobile[..3], &mobile[3..]),
            )
        })
        .await
        .unwrap();
    let id = WorkOrderId(made["order.id"].parse().unwrap());
    let order = store.work_order(id).await.unwrap();
    assert_eq!(made["order.no"], order.no);
    assert_eq!(
        made["order.digits"],
        WorkOrderNo::parse(&order.no).unwrap().digits()
    );
    assert_eq!(order.status, Status::Dispatched);
    assert_eq!(order.unit.as_ref().map(|u| u.id), Some(w.units["PN"].0));
    assert_eq!(order.priority, Priority::Emergency);
    assert_eq!(order.channel.as_str(), "ivr");
    assert_eq!(order.origin_kind.as_deref(), Some("call"));
    assert_eq!(order.origin_ref, Some(call.to_string()));
    assert_eq!(order.customer.as_ref().map(|c| c.id), Some(cid));
    assert_eq!(order.contact_phone.as_deref(), Some(mobile.as_str()));
    assert_eq!(order.fields["category"], "gas_leak");
    assert_eq!(order.fields["floor"], serde_json::json!(6.0));

    let files = store.attachments_of(id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].content_type, "audio/wav");
    assert_eq!(store.attachment_content(files[0].id).await.unwrap(), bytes);
    let sms = store
        .list_outbound_messages(
            &OutboundQuery {
                work_order_id: Some(id.0),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(sms.total, 1);
    let m = &sms.items[0];
    assert_eq!(
        (m.channel.as_str(), m.recipient.as_str(), m.status.as_str()),
        ("sms", mobile.as_str(), "queued")
    );
    assert!(m.body.contains(&order.no), "{}", m.body);
    assert!(m.body.starts_with("您的故障申告已受理"), "{}", m.body);
    assert_eq!(m.call_uuid, Some(call));
    let after = counts(&store).await;
    assert_eq!(
        (after.0, after.1, after.2),
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );

    // No unit on the type: the order waits at the desk; a landline caller gets no SMS.
    let made = store
        .ivr_create_work_order(IvrOrderRequest {
            sms: true,
            ..request("inquiry", None, "87654321")
        })
        .await
        .unwrap();
    let order = store
        .work_order(WorkOrderId(made["order.id"].parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(order.status, Status::New);
    assert_eq!(order.contact_phone.as_deref(), Some("057487654321"));
    assert_eq!(made["order.sms"], "");

    // Failures write nothing: an unknown type, a bad priority, a missing or non-WAV recording, a
    // form the type refuses, an unknown customer.
    let before = counts(&store).await;
    let not_wav = dir.path().join("x.wav");
    std::fs::write(&not_wav, b"hello, not audio").unwrap();
    let cases = [
        (request("no_such_type", None, &mobile), "order_type"),
        (
            IvrOrderRequest {
                priority: "whenever".into(),
                ..request("inquiry", None, &mobile)
            },
            "priority",
        ),
        (
            IvrOrderRequest {
                recording: Some(dir.path().join("missing.wav")),
                ..request("inquiry", None, &mobile)
            },
            "recording",
        ),
        (
            IvrOrderRequest {
                recording: Some(not_wav),
                ..request("inquiry", None, &mobile)
            },
            "recording",
        ),
        (
            IvrOrderRequest {
                recording: Some(path.clone()),
                sms: true,
                ..request("fault", None, &mobile)
            },
            "fields.category",
        ),
        (
            IvrOrderRequest {
                recording: Some(path.clone()),
                sms: true,
                ..request("inquiry", Some(uuid::Uuid::now_v7()), &mobile)
            },
            "customer_id",
        ),
    ];
    for (req, field) in cases {
        let e = store.ivr_create_work_order(req).await.unwrap_err();
        assert_eq!(fields_of(&e), vec![field.to_string()], "{e:?}");
    }
    assert_eq!(counts(&store).await, before, "nothing written");
}

pub async fn ivr_data_documents_are_queued_to_the_outbox(store: Store) {
    let w = world(&store).await;
    let with_email = w
        .data
        .customers
        .iter()
        .find(|c| c.email.is_some() && c.phones[0].is_mobile())
        .expect("a demo customer with an email address");
    let cid = store
        .customer_id_by_no(with_email.customer_no.as_str())
        .await
        .unwrap()
        .unwrap()
        .0;
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let price = store
        .create_document(
            &admin(),
            NewDocument {
                key: "price_list".into(),
                title: "燃气价目表".into(),
                body: "居民管道燃气第一档 3.45 元/立方米。".into(),
                file: Some(DocumentFile {
                    name: "价目表.pdf".into(),
                    content: pdf.clone(),
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(price.file_size, Some(pdf.len() as i64));
    let form = store
        .create_document(
            &admin(),
            NewDocument {
                key: "application_form".into(),
                title: "开户申请表".into(),
                body: "携带身份证和房产证明到营业厅办理。".into(),
                file: None,
            },
        )
        .await
        .unwrap();
    // Checks name the field; a duplicate key is a conflict; none of them writes.
    let audits = audit_count(&store).await;
    let e = store
        .create_document(
            &admin(),
            NewDocument {
                key: "Bad Key".into(),
                title: " ".into(),
                body: "x".into(),
                file: Some(DocumentFile {
                    name: "a.pdf".into(),
                    content: b"GIF89a".to_vec(),
                }),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["key", "title", "file"]);
    let e = store
        .create_document(
            &admin(),
            NewDocument {
                key: "price_list".into(),
                title: "again".into(),
                body: "x".into(),
                file: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(audit_count(&store).await, audits);
    let updated = store
        .update_document(
            &admin(),
            form.id,
            DocumentChanges {
                body: Some("携带身份证、房产证明到营业厅办理开户。".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.title, "开户申请表");
    assert_eq!(store.list_documents().await.unwrap().len(), 2);
    assert_eq!(
        store
            .document_file("price_list")
            .await
            .unwrap()
            .unwrap()
            .content,
        pdf
    );
    assert!(
        store
            .document_file("application_form")
            .await
            .unwrap()
            .is_none()
    );

    let call = uuid::Uuid::now_v7();
    let mobile = with_email.phones[0].as_str();
    let sms = store
        .ivr_queue_document("sms", "application_form", mobile, Some(cid), Some(call))
        .await
        .unwrap();
    let email = store
        .ivr_queue_document("email", "price_list", "", Some(cid), Some(call))
        .await
        .unwrap();
    assert_eq!(
        email["message.recipient"],
        with_email.email.clone().unwrap()
    );
    let fax = store
        .ivr_queue_document("fax", "price_list", "0574-87654321", None, Some(call))
        .await
        .unwrap();
    assert_eq!(fax["message.recipient"], "057487654321");
    let listed = store
        .list_outbound_messages(
            &OutboundQuery {
                call_uuid: Some(call),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 3);
    let by_id: HashMap<String, &OutboundMessage> =
        listed.items.iter().map(|m| (m.id.to_string(), m)).collect();
    let s = by_id[&sms["message.id"]];
    assert_eq!(
        (s.channel.as_str(), s.recipient.as_str(), s.body.as_str()),
        ("sms", mobile, updated.body.as_str())
    );
    assert_eq!(s.document_key.as_deref(), Some("application_form"));
    assert_eq!(by_id[&email["message.id"]].body, price.body);
    assert_eq!(by_id[&fax["message.id"]].channel, "fax");
    assert_eq!(by_id[&fax["message.id"]].body, "document:price_list");
    let only_fax = store
        .list_outbound_messages(
            &OutboundQuery {
                channel: Some("fax".into()),
                status: Some("queued".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(only_fax.total, 1);

    // Unknown document, unknown channel, bad recipients, a fax without a PDF: nothing queued.
    let before = counts(&store).await;
    for (channel, doc, to, field) in [
        ("sms", "no_such_doc", mobile, "document"),
        ("pigeon", "price_list", mobile, "channel"),
        ("sms", "price_list", "0574-87654321", "recipient"),
        ("sms", "price_list", "abc", "recipient"),
        ("email", "price_list", "", "recipient"),
    ] {
        let e = store
            .ivr_queue_document(channel, doc, to, None, Some(call))
            .await
            .unwrap_err();
        assert_eq!(
            fields_of(&e),
            vec![field.to_string()],
            "{channel} {doc} {to}"
        );
    }
    assert_eq!(counts(&store).await, before);
}

pub async fn ivr_data_survey_answers_are_range_checked(store: Store) {
    let call = uuid::Uuid::now_v7();
    let order = uuid::Uuid::now_v7();
    let saved = store
        .ivr_save_survey(
            Some(call),
            Some(order),
            None,
            None,
            Some("8001".into()),
            5,
            5,
        )
        .await
        .unwrap();
    assert_eq!((saved.score, saved.max_score), (5, 5));
    store
        .ivr_save_survey(Some(uuid::Uuid::now_v7()), None, None, None, None, 1, 3)
        .await
        .unwrap();
    let audits = audit_count(&store).await;
    for (score, max, field) in [
        (0, 5, "score"),
        (6, 5, "score"),
        (1, 1, "max"),
        (3, 11, "max"),
    ] {
        let e = store
            .ivr_save_survey(Some(call), None, None, None, None, score, max)
            .await
            .unwrap_err();
        assert_eq!(fields_of(&e), vec![field.to_string()]);
    }
    assert_eq!(audit_count(&store).await, audits);
    let all = store
        .list_survey_responses(&SurveyQuery::default(), page())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let of_call = store
        .list_survey_responses(
            &SurveyQuery {
                call_uuid: Some(call),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(of_call.items, vec![saved.clone()]);
    let of_order = store
        .list_survey_responses(
            &SurveyQuery {
                work_order_id: Some(order),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(of_order.items, vec![saved]);
}

/// A local instant in China (UTC+8).
fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub async fn ivr_data_hours_follow_the_sla_calendars(store: Store) {
    let spec = china_demo_spec();
    store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "标准工作日历".into(),
                spec: spec.clone(),
            },
        )
        .await
        .unwrap();
    let cal = kefu_workorders::Calendar::parse(&spec).unwrap();
    let holiday = spec.holidays[0];
    let makeup = spec.workdays[0];
    for (at, open) in [
        (cn(2026, 11, 26, 10, 0), true),   // Thursday morning
        (cn(2026, 11, 26, 12, 30), false), // lunch
        (cn(2026, 11, 26, 8, 29), false),
        (cn(2026, 11, 26, 8, 30), true),
        (cn(2026, 11, 28, 10, 0), false), // Saturday
        (cn(2026, holiday.month(), holiday.day(), 10, 0), false),
        (cn(2026, makeup.month(), makeup.day(), 10, 0), true),
    ] {
        assert_eq!(
            store.ivr_is_open("standard", at).await.unwrap(),
            open,
            "{at}"
        );
        assert_eq!(cal.is_working(at), open, "{at}");
    }
    let e = store.ivr_is_open("nope", Utc::now()).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e:?}");
}

fn ext(number: &str, unit: UnitId) -> NewExtension {
    NewExtension {
        number: ExtensionNumber::parse(number).unwrap(),
        display_name: format!("分机 {number}"),
        owner: ExtensionOwner::Unit(unit),
        enabled: true,
        secrets: DigestSecrets {
            ha1_md5: format!("md5-{number}"),
            ha1_sha256: format!("sha-{number}"),
        },
    }
}

pub async fn ivr_data_queues_name_existing_extensions(store: Store) {
    let cc = store
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
        .unwrap();
    for n in ["8001", "8002"] {
        store
            .create_extension(&admin(), ext(n, cc.id))
            .await
            .unwrap();
    }
    let new = |key: &str, members: &[&str]| NewQueue {
        key: key.into(),
        name: "综合服务".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        max_wait_secs: 120,
        active: true,
    };
    let general = store
        .create_queue(&admin(), new("general", &["8001", "8002"]))
        .await
        .unwrap();
    assert_eq!(general.members, vec!["8001", "8002"]);
    let audits = audit_count(&store).await;
    let e = store
        .create_queue(
            &admin(),
            NewQueue {
                max_wait_secs: 0,
                name: "".into(),
                ..new("Bad key", &["8001", "9999"])
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields_of(&e),
        vec!["key", "name", "max_wait_secs", "members"]
    );
    let e = store
        .create_queue(&admin(), new("general", &["8001"]))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let e = store
        .update_queue(
            &admin(),
            general.id,
            QueueChanges {
                members: Some(vec!["8003".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["members"]);
    assert_eq!(audit_count(&store).await, audits);
    let updated = store
        .update_queue(
            &admin(),
            general.id,
            QueueChanges {
                members: Some(vec!["8002".into()]),
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit_count(&store).await, audits + 1);
    assert_eq!(
        (
            updated.members.clone(),
            updated.active,
            updated.name.as_str()
        ),
        (vec!["8002".to_string()], false, "综合服务")
    );
    assert_eq!(
        store.get_queue_by_key("general").await.unwrap(),
        Some(updated.clone())
    );
    assert_eq!(store.get_queue_by_key("billing").await.unwrap(), None);
    assert_eq!(store.list_queues().await.unwrap(), vec![updated]);
    let e = store
        .update_queue(&admin(), uuid::Uuid::now_v7(), QueueChanges::default())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)));
}
