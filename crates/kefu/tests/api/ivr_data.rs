//! The IVR's data through the API: queues, documents, the outbox and survey answers; the demo's
//! queues and documents; bad input (a problem naming the field, nothing written). The `_on` checks
//! run on SQLite and PostgreSQL.

use kefu_store::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// Standard base64 with padding (RFC 4648), as a browser's `btoa` writes it.
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn keys(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap().to_string())
        .collect()
}

async fn outbox_total(app: &TestApp) -> u64 {
    app.store
        .list_outbound_messages(
            &kefu_store::OutboundQuery::default(),
            kefu_store::PageRequest {
                page: 1,
                per_page: 1,
            },
        )
        .await
        .unwrap()
        .total
}

pub async fn round_trip_on(app: &TestApp) {
    let supervisor = app.login("supervisor").await;
    let auditor = app.login("auditor").await;

    // The demo's queues ring the demo agents' phones; its documents are there.
    let queues = app.get(&auditor, "/api/v1/queues").await;
    assert_eq!(
        keys(&queues),
        ["billing", "complaints", "emergency", "general"]
    );
    let agents: Vec<&str> = kefu::seed::DEMO_USER_EXTENSIONS
        .iter()
        .map(|(_, n)| *n)
        .collect();
    for q in queues.as_array().unwrap() {
        assert_eq!(q["members"], json!(agents), "{q}");
        assert_eq!(q["active"], true);
    }
    let general = &queues.as_array().unwrap()[3];
    assert_eq!(general["name"], "综合服务");
    let docs = app.get(&auditor, "/api/v1/ivr/documents").await;
    assert_eq!(keys(&docs), ["application_form", "price_list"]);
    assert!(docs[1]["body"].as_str().unwrap().contains("元/立方米"));
    // Seeding again changes nothing.
    kefu::seed_ivr::demo_ivr_data(&app.store).await.unwrap();
    assert_eq!(app.get(&auditor, "/api/v1/queues").await, queues);
    assert_eq!(app.get(&auditor, "/api/v1/ivr/documents").await, docs);

    // A queue: created, then changed; each write audited.
    let audits = app.audit_count("queue.create").await;
    let r = app
        .send(
            &supervisor,
            Method::POST,
            "/api/v1/queues",
            &json!({"key": "night", "name": "夜间值班", "members": [agents[0]], "max_wait_secs": 90}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let night: Value = r.json().await.unwrap();
    assert_eq!(night["members"], json!([agents[0]]));
    assert_eq!(night["active"], true);
    assert_eq!(app.audit_count("queue.create").await, audits + 1);
    let id = night["id"].as_str().unwrap();
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &format!("/api/v1/queues/{id}"),
            &json!({"members": [agents[1], agents[0]], "active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["members"], json!([agents[1], agents[0]]));
    assert_eq!(
        (
            &changed["active"],
            &changed["name"],
            &changed["max_wait_secs"]
        ),
        (&json!(false), &json!("夜间值班"), &json!(90))
    );
    let stored = app.store.get_queue_by_key("night").await.unwrap().unwrap();
    assert_eq!(stored.members, [agents[1], agents[0]]);
    assert_eq!(app.audit_count("queue.update").await, 1);

    // A document with a PDF; its title changed; its PDF removed.
    let r = app
        .send(
            &supervisor,
            Method::POST,
            "/api/v1/ivr/documents",
            &json!({"key": "safety_tips", "title": "安全用气须知", "body": "闻到燃气味请立即开窗通风，不要开关电器。",
                "file_base64": b64(PDF), "file_name": "安全用气须知.pdf"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["file_size"], PDF.len());
    assert_eq!(
        app.store
            .document_file("safety_tips")
            .await
            .unwrap()
            .unwrap()
            .content,
        PDF
    );
    let id = doc["id"].as_str().unwrap();
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &format!("/api/v1/ivr/documents/{id}"),
            &json!({"title": "安全用气常识"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(
        (&doc["title"], &doc["file_size"]),
        (&json!("安全用气常识"), &json!(PDF.len()))
    );
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &format!("/api/v1/ivr/documents/{id}"),
            &json!({"file_base64": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(
        (&doc["file_size"], &doc["file_name"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(app.audit_count("ivr_document.update").await, 2);

    // What the IVR queued and stored shows in the outbox and the survey list.
    let call = uuid::Uuid::now_v7();
    let sms = app
        .store
        .ivr_queue_document("sms", "price_list", "13812345678", None, Some(call))
        .await
        .unwrap();
    app.store
        .ivr_queue_document("fax", "application_form", "0574-87654321", None, Some(call))
        .await
        .unwrap();
    let page = app
        .get(
            &auditor,
            &format!("/api/v1/outbound-messages?channel=sms&call_uuid={call}"),
        )
        .await;
    assert_eq!(page["total"], 1);
    let m = &page["items"][0];
    assert_eq!(m["id"], sms["message.id"]);
    assert_eq!(
        (&m["recipient"], &m["status"], &m["document_key"]),
        (
            &json!("13812345678"),
            &json!("queued"),
            &json!("price_list")
        )
    );
    assert_eq!(m["body"], docs[1]["body"]);
    let page = app
        .get(
            &auditor,
            &format!("/api/v1/outbound-messages?call_uuid={call}"),
        )
        .await;
    assert_eq!(page["total"], 2);
    let page = app
        .get(&auditor, "/api/v1/outbound-messages?status=sent")
        .await;
    assert_eq!(page["total"], 0);

    let saved = app
        .store
        .ivr_save_survey(Some(call), None, None, None, Some("8001".into()), 4, 5)
        .await
        .unwrap();
    app.store
        .ivr_save_survey(Some(uuid::Uuid::now_v7()), None, None, None, None, 2, 5)
        .await
        .unwrap();
    let page = app
        .get(&auditor, &format!("/api/v1/surveys?call_uuid={call}"))
        .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], saved.id.to_string());
    assert_eq!(
        (&page["items"][0]["score"], &page["items"][0]["max_score"]),
        (&json!(4), &json!(5))
    );
    assert_eq!(page["items"][0]["agent_extension"], "8001");
    assert_eq!(app.get(&auditor, "/api/v1/surveys").await["total"], 2);
}

pub async fn bad_input_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let queue_id = app
        .store
        .get_queue_by_key("general")
        .await
        .unwrap()
        .unwrap()
        .id;
    let doc_id = app
        .store
        .get_document_by_key("price_list")
        .await
        .unwrap()
        .unwrap()
        .id;
    let before = (
        app.audit_total().await,
        app.store.list_queues().await.unwrap(),
        app.store.list_documents().await.unwrap(),
        outbox_total(app).await,
    );
    let cases: Vec<(Method, String, Value, StatusCode, Vec<&str>)> = vec![
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"key": "Bad Key", "name": "x", "members": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["key"],
        ),
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"key": "vip", "name": "", "members": ["9999"], "max_wait_secs": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["name", "max_wait_secs", "members"],
        ),
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"key": "vip", "name": "贵宾", "colour": "gold"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![],
        ),
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"key": "vip", "name": "贵宾", "max_wait_secs": "long"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["max_wait_secs"],
        ),
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"key": "general", "name": "又一个综合"}),
            StatusCode::CONFLICT,
            vec![],
        ),
        (
            Method::PATCH,
            format!("/api/v1/queues/{queue_id}"),
            json!({"members": ["8001", "8001"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["members"],
        ),
        (
            Method::PATCH,
            format!("/api/v1/queues/{queue_id}"),
            json!({"members": null}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["members"],
        ),
        (
            Method::PATCH,
            format!("/api/v1/queues/{}", uuid::Uuid::now_v7()),
            json!({"name": "无"}),
            StatusCode::NOT_FOUND,
            vec![],
        ),
        (
            Method::POST,
            "/api/v1/ivr/documents".into(),
            json!({"key": "x", "title": "x", "body": "x", "file_base64": "%%%"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["file_base64"],
        ),
        (
            Method::POST,
            "/api/v1/ivr/documents".into(),
            json!({"key": "x", "title": "x", "body": "x", "file_base64": b64(PDF)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["file_name"],
        ),
        (
            Method::POST,
            "/api/v1/ivr/documents".into(),
            json!({"key": "x", "title": "x", "body": "", "file_base64": b64(b"GIF89a"), "file_name": "a.gif"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["body", "file"],
        ),
        (
            Method::POST,
            "/api/v1/ivr/documents".into(),
            json!({"key": "price_list", "title": "x", "body": "x"}),
            StatusCode::CONFLICT,
            vec![],
        ),
        (
            Method::PATCH,
            format!("/api/v1/ivr/documents/{doc_id}"),
            json!({"title": "x".repeat(81)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["title"],
        ),
    ];
    for (method, path, body, status, want) in cases {
        let r = app.send(&admin, method.clone(), &path, &body).await;
        let p = problem(r, status).await;
        if !want.is_empty() {
            assert_eq!(fields(&p), want, "{method} {path} {body}");
        }
    }
    for (path, field) in [
        ("/api/v1/outbound-messages?channel=pigeon", "channel"),
        ("/api/v1/outbound-messages?status=lost", "status"),
        ("/api/v1/outbound-messages?per_page=0", "per_page"),
        ("/api/v1/outbound-messages?call_uuid=abc", "call_uuid"),
        ("/api/v1/surveys?work_order_id=abc", "work_order_id"),
    ] {
        let r = app
            .as_token(&admin, Method::GET, path)
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&p), [field], "{path}");
    }
    let after = (
        app.audit_total().await,
        app.store.list_queues().await.unwrap(),
        app.store.list_documents().await.unwrap(),
        outbox_total(app).await,
    );
    assert_eq!(after, before, "nothing written");
}

#[tokio::test]
async fn agents_and_sites_do_not_see_ivr_data_and_the_auditor_changes_nothing() {
    let app = TestApp::spawn().await;
    for who in ["agent", "site"] {
        let t = app.login(who).await;
        for path in [
            "/api/v1/queues",
            "/api/v1/ivr/documents",
            "/api/v1/outbound-messages",
            "/api/v1/surveys",
        ] {
            let r = app.as_token(&t, Method::GET, path).send().await.unwrap();
            problem(r, StatusCode::FORBIDDEN).await;
        }
    }
    let auditor = app.login("auditor").await;
    let audits = app.audit_total().await;
    let r = app
        .send(
            &auditor,
            Method::POST,
            "/api/v1/queues",
            &json!({"key": "vip", "name": "贵宾"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(app.audit_total().await, audits);
    assert!(app.store.get_queue_by_key("vip").await.unwrap().is_none());
    app.stop().await;
}

macro_rules! on_both {
    ($($sqlite:ident, $postgres:ident => $check:ident;)*) => {
        $(
            #[tokio::test]
            async fn $sqlite() {
                let app = TestApp::spawn().await;
                $check(&app).await;
                app.stop().await;
            }

            #[tokio::test]
            async fn $postgres() {
                let app = TestApp::spawn_with(Backend::Postgres, kefu_api::Settings::default()).await;
                $check(&app).await;
                app.stop().await;
            }
        )*
    };
}

on_both! {
    ivr_data_round_trip, ivr_data_round_trip_on_postgres => round_trip_on;
    ivr_data_bad_input_writes_nothing, ivr_data_bad_input_writes_nothing_on_postgres => bad_input_on;
}
