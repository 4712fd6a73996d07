//! IVR flows, versions, publishing and the trace/funnel, run on SQLite and on PostgreSQL alike.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kefu_ivr::Flow;
use kefu_store::testing::TestDatabase;
use kefu_store::*;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

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
    flows_are_versioned_validated_and_published,
    known_lists_what_exists,
    trace_and_funnel_come_from_the_recorded_visits,
    concurrent_saves_number_versions_one_after_the_other,
);

/// The store, and a plain connection for rows the IVR does not write itself (queues).
struct Db {
    store: Store,
    raw: DatabaseConnection,
}

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    let raw = Database::connect(&db.url).await.unwrap();
    test(Db {
        store: store.clone(),
        raw: raw.clone(),
    })
    .await;
    raw.close().await.unwrap();
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

async fn add_queue(db: &Db, key: &str, name: &str) {
    db.raw
        .execute_unprepared(&format!(
            "INSERT INTO queues (id, key, name, members, max_wait_secs, active, created_at, updated_at) \
             VALUES ('{}', '{key}', '{name}', '[]', 300, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            Uuid::now_v7()
        ))
        .await
        .unwrap();
}

async fn audit_count(store: &Store) -> u64 {
    store
        .audit_entries(
            &AuditQuery::default(),
            PageRequest {
                page: 1,
                per_page: 1,
            },
        )
        .await
        .unwrap()
        .total
}

/// menu: 1 → info (play) → bye; 2 → bye; no key → bye.
fn small_flow(info_text: &str) -> Flow {
    Flow::from_json(
        &serde_json::json!({
            "start": "menu",
            "nodes": [
                {"id": "menu", "kind": "menu", "prompts": [{"text": "查询请按1，结束请按2"}],
                 "options": {"1": "info", "2": "bye"}, "on_fail": "bye"},
                {"id": "info", "kind": "play", "prompts": [{"text": info_text}], "next": "bye"},
                {"id": "bye", "kind": "hangup", "prompts": [{"text": "再见"}]}
            ]
        })
        .to_string(),
    )
    .unwrap()
}

fn invalid_fields(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Invalid(errors) => errors.0.into_iter().map(|e| (e.field, e.reason)).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn flows_are_versioned_validated_and_published(db: Db) {
    let store = &db.store;
    add_queue(&db, "general", "综合服务").await;
    let flow = store
        .create_ivr_flow(
            &admin(),
            NewIvrFlow {
                key: "main".into(),
                name: "服务热线".into(),
                description: "96777".into(),
                graph: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(flow.latest_version, None);
    assert_eq!(flow.published_version, None);
    assert_eq!(store.published_flow("main").await.unwrap(), None);

    // A menu option leading nowhere: named by node and field, nothing written.
    let audits = audit_count(store).await;
    let mut bad = small_flow("营业时间");
    if let kefu_ivr::NodeKind::Menu { options, .. } = &mut bad.nodes[0].kind {
        options.insert("3".into(), "nowhere".into());
    }
    let fields = invalid_fields(
        store
            .save_ivr_version(&admin(), flow.id, &bad, "")
            .await
            .unwrap_err(),
    );
    assert!(
        fields
            .iter()
            .any(|(f, r)| f == "graph.nodes[menu].3" && r.starts_with("unknown_node")),
        "{fields:?}"
    );
    assert!(store.ivr_versions(flow.id).await.unwrap().is_empty());
    assert_eq!(audit_count(store).await, audits);

    let v1 = store
        .save_ivr_version(
            &admin(),
            flow.id,
            &small_flow("营业时间八点到五点"),
            "first",
        )
        .await
        .unwrap();
    let v2 = store
        .save_ivr_version(
            &admin(),
            flow.id,
            &small_flow("营业时间九点到六点"),
            "later",
        )
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(audit_count(store).await, audits + 2);
    let listed = store.ivr_versions(flow.id).await.unwrap();
    assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(listed[1].note, "first");
    assert_eq!(listed[0].nodes, 3);
    // Versions read back exactly as saved.
    assert_eq!(
        store.ivr_version(flow.id, 1).await.unwrap().graph,
        small_flow("营业时间八点到五点")
    );
    assert!(matches!(
        store.ivr_version(flow.id, 3).await,
        Err(StoreError::NotFound(_))
    ));

    let published = store
        .publish_ivr_version(&admin(), flow.id, 2)
        .await
        .unwrap();
    assert_eq!(published.published_version, Some(2));
    assert_eq!(published.latest_version, Some(2));
    assert!(published.published_at.is_some());
    let (id, version, graph) = store.published_flow("main").await.unwrap().unwrap();
    assert_eq!((id, version), (flow.id, 2));
    assert_eq!(graph, small_flow("营业时间九点到六点"));
    // Rolling back is publishing an older version.
    store
        .publish_ivr_version(&admin(), flow.id, 1)
        .await
        .unwrap();
    let (_, version, graph) = store.published_flow("main").await.unwrap().unwrap();
    assert_eq!(version, 1);
    assert_eq!(graph, small_flow("营业时间八点到五点"));
    assert!(matches!(
        store.publish_ivr_version(&admin(), flow.id, 9).await,
        Err(StoreError::NotFound(_))
    ));

    // Publishing checks again against what exists now: the fallback queue is gone.
    db.raw
        .execute_unprepared("UPDATE queues SET active = false WHERE key = 'general'")
        .await
        .unwrap();
    let fields = invalid_fields(
        store
            .publish_ivr_version(&admin(), flow.id, 2)
            .await
            .unwrap_err(),
    );
    assert_eq!(fields[0].0, "graph.settings.fallback_queue", "{fields:?}");
    assert_eq!(
        store.ivr_flow(flow.id).await.unwrap().published_version,
        Some(1)
    );

    // Keys: taken is a conflict, malformed is invalid, and neither writes anything.
    let audits = audit_count(store).await;
    let again = store
        .create_ivr_flow(
            &admin(),
            NewIvrFlow {
                key: "main".into(),
                name: "另一个".into(),
                description: String::new(),
                graph: None,
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    let fields = invalid_fields(
        store
            .create_ivr_flow(
                &admin(),
                NewIvrFlow {
                    key: "Main Line".into(),
                    name: " ".into(),
                    description: String::new(),
                    graph: None,
                    note: String::new(),
                },
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        fields.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["key", "name"]
    );
    assert_eq!(audit_count(store).await, audits);
    assert_eq!(store.ivr_flows().await.unwrap().len(), 1);

    // Created with a graph: version 1 at once.
    db.raw
        .execute_unprepared("UPDATE queues SET active = true WHERE key = 'general'")
        .await
        .unwrap();
    let other = store
        .create_ivr_flow(
            &admin(),
            NewIvrFlow {
                key: "after-hours".into(),
                name: "夜间".into(),
                description: String::new(),
                graph: Some(small_flow("明天再来")),
                note: "imported".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(other.latest_version, Some(1));
    let all = store.ivr_flows().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|f| (f.key.as_str(), f.latest_version, f.published_version))
            .collect::<Vec<_>>(),
        [("after-hours", Some(1), None), ("main", Some(2), Some(1))]
    );
}

async fn known_lists_what_exists(db: Db) {
    let store = &db.store;
    add_queue(&db, "general", "综合服务").await;
    add_queue(&db, "billing", "账务").await;
    store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "标准工作日历".into(),
                spec: kefu_workorders::china_demo_spec(),
            },
        )
        .await
        .unwrap();
    let unit = store
        .create_unit(
            &admin(),
            NewUnit {
                code: "east".into(),
                name: "东区营业所".into(),
                kind: "site".into(),
                parent_id: None,
                takes_queue_calls: false,
            },
        )
        .await
        .unwrap();
    let catalog = store.ivr_catalog().await.unwrap();
    assert_eq!(
        catalog
            .queues
            .iter()
            .map(|q| (q.key.as_str(), q.name.as_str()))
            .collect::<Vec<_>>(),
        [("billing", "账务"), ("general", "综合服务")]
    );
    assert!(
        catalog
            .sites
            .iter()
            .any(|s| s.key == unit.code && s.name == "东区营业所")
    );
    assert_eq!(catalog.calendars[0].key, "standard");
    let known = store.ivr_known().await.unwrap();
    assert_eq!(known.queues, ["billing", "general"]);
    assert!(known.calendars.contains(&"standard".to_string()));
    assert!(known.extensions.is_empty());
    assert!(known.documents.is_empty());
}

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap() + TimeDelta::minutes(min)
}

fn visit(
    seq: i32,
    node: &str,
    kind: &str,
    branch: Option<&str>,
    outcome: &str,
    min: i64,
) -> IvrVisitRow {
    IvrVisitRow {
        seq,
        node_id: node.into(),
        kind: kind.into(),
        branch: branch.map(str::to_string),
        outcome: outcome.into(),
        detail: None,
        at: at(min),
    }
}

fn end(reason: &str, last: &str, min: i64) -> Option<IvrSessionEnd> {
    Some(IvrSessionEnd {
        reason: reason.into(),
        last_node: Some(last.into()),
        ended_at: at(min),
        customer_id: None,
    })
}

async fn trace_and_funnel_come_from_the_recorded_visits(db: Db) {
    let store = &db.store;
    add_queue(&db, "general", "综合服务").await;
    let flow = store
        .create_ivr_flow(
            &admin(),
            NewIvrFlow {
                key: "main".into(),
                name: "热线".into(),
                description: String::new(),
                graph: Some(small_flow("营业时间")),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .save_ivr_version(&admin(), flow.id, &small_flow("新的营业时间"), "")
        .await
        .unwrap();
    let call = Uuid::now_v7();

    // A: wrong key twice, then 1, info, bye (completed).
    let a = store
        .ivr_session_start(flow.id, 1, Some(call), "13800000001", at(0))
        .await
        .unwrap();
    // Written in two parts, the pending menu visit first and completed later (same seq).
    store
        .ivr_session_record(a, &[visit(1, "menu", "menu", None, "passed", 0)], None)
        .await
        .unwrap();
    store
        .ivr_session_record(
            a,
            &[
                visit(1, "menu", "menu", Some("1"), "passed", 1),
                visit(2, "info", "play", Some("next"), "passed", 1),
                visit(3, "bye", "hangup", None, "passed", 2),
            ],
            end("completed", "bye", 2),
        )
        .await
        .unwrap();
    // B: hangs up in the menu.
    let b = store
        .ivr_session_start(flow.id, 1, None, "13800000002", at(5))
        .await
        .unwrap();
    store
        .ivr_session_record(
            b,
            &[visit(1, "menu", "menu", None, "left", 6)],
            end("hangup", "menu", 6),
        )
        .await
        .unwrap();
    // C: no key (on_fail, failed), bye; version 1 too.
    let c = store
        .ivr_session_start(flow.id, 1, None, "13800000003", at(10))
        .await
        .unwrap();
    store
        .ivr_session_record(
            c,
            &[
                visit(1, "menu", "menu", Some("on_fail"), "failed", 11),
                visit(2, "bye", "hangup", None, "passed", 11),
            ],
            end("completed", "bye", 11),
        )
        .await
        .unwrap();
    // D: version 2, still running.
    let d = store
        .ivr_session_start(flow.id, 2, None, "13800000004", at(20))
        .await
        .unwrap();
    store
        .ivr_session_record(d, &[visit(1, "menu", "menu", None, "passed", 20)], None)
        .await
        .unwrap();

    // The trace of the call: visits in order, the pending one completed.
    let trace = store.ivr_trace(TraceOf::Call(call)).await.unwrap();
    assert_eq!(trace.sessions.len(), 1);
    assert_eq!(trace.sessions[0].id, a);
    assert_eq!(trace.sessions[0].end_reason.as_deref(), Some("completed"));
    assert_eq!(trace.sessions[0].flow_key.as_deref(), Some("main"));
    assert_eq!(
        trace
            .visits
            .iter()
            .map(|v| (v.row.seq, v.row.node_id.as_str(), v.row.branch.as_deref()))
            .collect::<Vec<_>>(),
        [
            (1, "menu", Some("1")),
            (2, "info", Some("next")),
            (3, "bye", None)
        ]
    );
    assert_eq!(trace.visits[0].row.at, at(1));
    let by_session = store.ivr_trace(TraceOf::Session(b)).await.unwrap();
    assert_eq!(by_session.visits.len(), 1);
    assert_eq!(by_session.visits[0].row.outcome, "left");
    assert!(matches!(
        store.ivr_trace(TraceOf::Call(Uuid::now_v7())).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.ivr_session_record(Uuid::now_v7(), &[], None).await,
        Err(StoreError::NotFound(_))
    ));

    // Version 1: three sessions.
    let f = store
        .ivr_funnel(flow.id, Some(1), None, None)
        .await
        .unwrap();
    assert_eq!(f.sessions, 3);
    let node = |id: &str| {
        let n = f.nodes.iter().find(|n| n.node_id == id).unwrap();
        (n.reached, n.passed, n.failed, n.left)
    };
    assert_eq!(node("menu"), (3, 1, 1, 1));
    assert_eq!(node("info"), (1, 1, 0, 0));
    assert_eq!(node("bye"), (2, 2, 0, 0));
    assert_eq!(f.nodes[0].node_id, "menu");
    assert_eq!(
        f.ends
            .iter()
            .map(|e| (e.reason.as_str(), e.sessions))
            .collect::<Vec<_>>(),
        [("completed", 2), ("hangup", 1)]
    );
    // Every version; and a time window that leaves out A.
    let all = store.ivr_funnel(flow.id, None, None, None).await.unwrap();
    assert_eq!(all.sessions, 4);
    assert!(
        all.ends
            .iter()
            .any(|e| e.reason == "active" && e.sessions == 1)
    );
    let window = store
        .ivr_funnel(flow.id, None, Some(at(3)), Some(at(20)))
        .await
        .unwrap();
    assert_eq!(window.sessions, 2);
    assert!(window.nodes.iter().all(|n| n.node_id != "info"));
    assert!(matches!(
        store.ivr_funnel(Uuid::now_v7(), None, None, None).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn concurrent_saves_number_versions_one_after_the_other(db: Db) {
    let store = &db.store;
    add_queue(&db, "general", "综合服务").await;
    let flow = store
        .create_ivr_flow(
            &admin(),
            NewIvrFlow {
                key: "busy".into(),
                name: "繁忙".into(),
                description: String::new(),
                graph: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let saves = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .save_ivr_version(&admin(), flow.id, &small_flow(&format!("版本{i}")), "")
                .await
        })
    });
    let mut versions = Vec::new();
    for s in saves {
        versions.push(s.await.unwrap().unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    assert_eq!(store.ivr_versions(flow.id).await.unwrap().len(), 8);
}
