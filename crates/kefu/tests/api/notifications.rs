//! The notification center (list, unread count, read marks; only one's own), the live WebSocket push
//! (hello, a new notification within seconds, also when another node wrote it, session and origin
//! checks) and saved work-order filters.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use kefu_store::{Backend, NewNotification, Recipients};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a pushed message before it fails (pushes take about half a second).
const WAIT: Duration = Duration::from_secs(5);

async fn me(app: &TestApp, token: &str) -> kefu_domain::UserId {
    let me = app.get(token, "/api/v1/auth/me").await;
    kefu_domain::UserId(me["id"].as_str().unwrap().parse().unwrap())
}

/// Writes a notification for `to` as a change in the store would (no poke of the live push).
async fn enqueue(app: &TestApp, to: kefu_domain::UserId, title: &str) -> usize {
    app.store
        .notify_for_test(
            &NewNotification {
                event: "work_order.urged".into(),
                work_order_id: None,
                recipients: Recipients::Users(vec![to]),
                title: title.into(),
                body: format!("{title}：客户催办"),
                payload: json!({"no": "GD2611260001", "priority": "urgent"}),
            },
            Utc::now(),
        )
        .await
        .unwrap()
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    app.get(token, &format!("/api/v1/notifications{query}"))
        .await
}

async fn post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.as_token(token, Method::POST, path)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_lists_and_reads_their_own_notifications() {
    let app = TestApp::spawn().await;
    a_person_lists_and_reads_their_own_notifications_on(&app).await;
    app.stop().await;
}

pub async fn a_person_lists_and_reads_their_own_notifications_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    let agent_id = me(app, &agent).await;
    let supervisor_id = me(app, &supervisor).await;
    // Whatever the demo data left: read it all, so the counts below are this test's.
    for t in [&agent, &supervisor] {
        assert_eq!(
            post(app, t, "/api/v1/notifications/read-all")
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    let before = page(app, &agent, "").await["total"].as_u64().unwrap();
    let audit = app.audit_total().await;
    for title in ["第一条", "第二条", "第三条"] {
        assert_eq!(enqueue(app, agent_id, title).await, 1);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    enqueue(app, supervisor_id, "班长的").await;

    let all = page(app, &agent, "").await;
    assert_eq!(all["total"], before + 3);
    assert_eq!(all["unread"], 3);
    let items = all["items"].as_array().unwrap();
    let titles: Vec<&str> = items[..3]
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["第三条", "第二条", "第一条"], "newest first");
    let newest = &items[0];
    assert_eq!(newest["event"], "work_order.urged");
    assert_eq!(newest["body"], "第三条：客户催办");
    assert_eq!(newest["payload"]["priority"], "urgent");
    assert_eq!(newest["work_order_id"], Value::Null);
    assert_eq!(newest["read_at"], Value::Null);
    assert!(newest["created_at"].is_string());
    assert!(newest.get("recipient_id").is_none());
    let paged = page(app, &agent, "?per_page=2&page=2").await;
    assert_eq!(paged["items"][0]["title"], "第一条");
    assert_eq!(
        (paged["page"].as_u64(), paged["per_page"].as_u64()),
        (Some(2), Some(2))
    );

    // Reading one: it leaves the unread list; reading it again changes nothing.
    let id = newest["id"].as_str().unwrap();
    let path = format!("/api/v1/notifications/{id}/read");
    assert_eq!(
        post(app, &agent, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    let read_at = page(app, &agent, "").await["items"][0]["read_at"].clone();
    assert!(read_at.is_string());
    assert_eq!(
        post(app, &agent, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = page(app, &agent, "").await;
    assert_eq!(again["items"][0]["read_at"], read_at);
    assert_eq!(again["unread"], 2);
    let unread = page(app, &agent, "?unread=true").await;
    assert_eq!(unread["total"], 2);
    assert!(
        unread["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["read_at"].is_null())
    );

    // Another person's notification is not found, for reading as for anything else.
    let theirs = page(app, &supervisor, "?unread=true").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [theirs.as_str(), &uuid::Uuid::now_v7().to_string(), "nope"] {
        let r = post(app, &agent, &format!("/api/v1/notifications/{bad}/read")).await;
        problem(r, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(page(app, &supervisor, "").await["unread"], 1);

    // Read all: the caller's only.
    assert_eq!(
        post(app, &agent, "/api/v1/notifications/read-all")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(page(app, &agent, "").await["unread"], 0);
    assert_eq!(page(app, &agent, "?unread=true").await["total"], 0);
    assert_eq!(page(app, &supervisor, "").await["unread"], 1);
    // Read marks are the person's own bookkeeping: not audited.
    assert_eq!(app.audit_total().await, audit);

    // Bad parameters: 422 naming them.
    for (q, field) in [
        ("?unread=perhaps", "unread"),
        ("?per_page=0", "per_page"),
        ("?page=0", "page"),
        ("?colour=red", "colour"),
    ] {
        let r = app
            .as_token(&agent, Method::GET, &format!("/api/v1/notifications{q}"))
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&p), [field], "{q}");
    }
}

async fn connect(app: &TestApp, headers: &[(&str, String)]) -> Result<Socket, tungstenite::Error> {
    let mut req = format!("ws://{}/api/v1/notifications/ws", app.addr)
        .into_client_request()
        .unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().expect("header value"),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// The next JSON message, skipping control frames; fails after [`WAIT`].
async fn next_json(ws: &mut Socket) -> Value {
    loop {
        let got = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message within the wait");
        match got {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_websocket_pushes_new_notifications_live() {
    let app = TestApp::spawn().await;
    the_websocket_pushes_new_notifications_live_on(&app).await;
    app.stop().await;
}

pub async fn the_websocket_pushes_new_notifications_live_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let agent_id = me(app, &agent).await;
    let supervisor_id = me(app, &app.login("supervisor").await).await;
    enqueue(app, agent_id, "连接前").await;
    let unread = page(app, &agent, "").await["unread"].clone();

    let mut ws = connect(app, &[bearer(&agent)]).await.expect("connect");
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "hello", "unread": unread})
    );

    // Written by this process, which pokes the push at once.
    enqueue(app, supervisor_id, "不是给坐席的").await;
    enqueue(app, agent_id, "新工单 GD2611260001").await;
    app.state.notify_changed();
    let msg = next_json(&mut ws).await;
    assert_eq!(msg["type"], "notification", "{msg}");
    let n = &msg["notification"];
    assert_eq!(
        n["title"], "新工单 GD2611260001",
        "only the caller's: {msg}"
    );
    assert_eq!(n["body"], "新工单 GD2611260001：客户催办");
    assert_eq!(n["event"], "work_order.urged");
    assert_eq!(n["payload"]["no"], "GD2611260001");
    assert_eq!(n["read_at"], Value::Null);
    let listed = page(app, &agent, "").await;
    assert_eq!(listed["items"][0]["id"], n["id"]);

    // Written without a poke, as another kefu node sharing the database would: the poller finds it.
    enqueue(app, agent_id, "另一节点写的").await;
    let msg = next_json(&mut ws).await;
    assert_eq!(msg["notification"]["title"], "另一节点写的", "{msg}");

    // A second page of the same person (the browser: session cookie, same origin) counts them too,
    // and both pages get what comes next.
    let host = app.addr.to_string();
    let mut tab = connect(
        app,
        &[
            ("cookie", format!("kefu_session={agent}")),
            ("origin", format!("http://{host}")),
        ],
    )
    .await
    .expect("cookie connect");
    let hello = next_json(&mut tab).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["unread"], unread.as_u64().unwrap() + 2);
    enqueue(app, agent_id, "两页都收到").await;
    app.state.notify_changed();
    for socket in [&mut ws, &mut tab] {
        let msg = next_json(socket).await;
        assert_eq!(msg["notification"]["title"], "两页都收到", "{msg}");
    }

    // Pushed rows are marked delivered (the channel's mark; just after the push), and stay unread
    // (the person's).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let rows = app
            .store
            .notifications(
                agent_id,
                true,
                kefu_store::PageRequest {
                    page: 1,
                    per_page: 10,
                },
            )
            .await
            .unwrap();
        let pushed = &rows.page.items[..3];
        assert!(pushed.iter().all(|n| n.read_at.is_none()));
        if pushed.iter().all(|n| n.delivered_at.is_some()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not marked delivered: {pushed:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ws.close(None).await.unwrap();
    tab.close(None).await.unwrap();
}

#[tokio::test]
async fn the_websocket_needs_a_session_and_kefus_own_pages() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let status = |e: tungstenite::Error| match e {
        tungstenite::Error::Http(r) => r.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    };
    // No credential, a forged one, a revoked one: 401.
    assert_eq!(status(connect(&app, &[]).await.unwrap_err()), 401);
    assert_eq!(
        status(connect(&app, &[bearer("kefu_forged")]).await.unwrap_err()),
        401
    );
    let gone = app.login("agent").await;
    assert_eq!(
        post(&app, &gone, "/api/v1/auth/logout").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status(connect(&app, &[bearer(&gone)]).await.unwrap_err()),
        401
    );
    // The session cookie from another site's page: 403 (cross-site WebSocket hijacking).
    let cookie = ("cookie", format!("kefu_session={agent}"));
    for evil in [
        "http://evil.example",
        "null",
        &format!("http://{}.evil.example", app.addr.ip()),
    ] {
        let e = connect(&app, &[cookie.clone(), ("origin", evil.to_string())])
            .await
            .unwrap_err();
        assert_eq!(status(e), 403, "{evil}");
    }
    // Without an Origin (not a browser) or with kefu's own, the cookie is enough.
    let mut ws = connect(&app, std::slice::from_ref(&cookie))
        .await
        .expect("no origin");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    ws.close(None).await.unwrap();
    // A plain GET of the socket's URL: 426 problem+json.
    let r = app
        .as_token(&agent, Method::GET, "/api/v1/notifications/ws")
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UPGRADE_REQUIRED).await;
    assert_eq!(p["type"], "https://kefu.dev/problems/upgrade-required");
    app.stop().await;
}

#[tokio::test]
async fn saved_filters_belong_to_the_person_who_saved_them() {
    let app = TestApp::spawn().await;
    saved_filters_belong_to_the_person_who_saved_them_on(&app).await;
    app.stop().await;
}

pub async fn saved_filters_belong_to_the_person_who_saved_them_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let site = app.login("site").await;
    let path = "/api/v1/saved-filters";
    let query = json!({"status": "dispatched", "overdue": "true", "q": "泄漏"});
    let r = app
        .send(
            &agent,
            Method::POST,
            path,
            &json!({"name": " 我的超时单 ", "query": query}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["name"], "我的超时单");
    assert_eq!(f["query"], query);
    let id = f["id"].as_str().unwrap().to_string();
    let listed = app.get(&agent, path).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0].get("user_id").is_none());
    // Another person sees none of them, may use the same name, and cannot delete them.
    assert_eq!(app.get(&site, path).await, json!([]));
    let r = app
        .send(
            &site,
            Method::POST,
            path,
            &json!({"name": "我的超时单", "query": {}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .as_token(&site, Method::DELETE, &format!("{path}/{id}"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    // The same name twice: 409; bad input: 422 naming the field; nothing written.
    let before = app.audit_total().await;
    let r = app
        .send(
            &agent,
            Method::POST,
            path,
            &json!({"name": "我的超时单", "query": {}}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let big = json!({"q": "x".repeat(4100)});
    for (body, field) in [
        (json!({"name": "", "query": {}}), "name"),
        (json!({"name": "长".repeat(41), "query": {}}), "name"),
        (json!({"name": "a\u{7}b", "query": {}}), "name"),
        (json!({"query": {}}), "name"),
        (json!({"name": "x"}), "query"),
        (json!({"name": "x", "query": "status=open"}), "query"),
        (json!({"name": "x", "query": [1, 2]}), "query"),
        (json!({"name": "x", "query": big}), "query"),
        (json!({"name": "x", "query": {}, "owner": "admin"}), "owner"),
    ] {
        let p = problem(
            app.send(&agent, Method::POST, path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&p), [field], "{body}");
    }
    assert_eq!(app.audit_total().await, before);
    assert_eq!(app.get(&agent, path).await.as_array().unwrap().len(), 1);
    // The owner deletes it; again: 404.
    for expected in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let r = app
            .as_token(&agent, Method::DELETE, &format!("{path}/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }
    assert_eq!(app.get(&agent, path).await, json!([]));
    assert_eq!(app.get(&site, path).await.as_array().unwrap().len(), 1);
    assert_eq!(app.audit_count("saved_filter.delete").await, 1);
}

#[tokio::test]
async fn notifications_on_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, kefu_api::Settings::default()).await;
    a_person_lists_and_reads_their_own_notifications_on(&app).await;
    the_websocket_pushes_new_notifications_live_on(&app).await;
    saved_filters_belong_to_the_person_who_saved_them_on(&app).await;
    app.stop().await;
}
