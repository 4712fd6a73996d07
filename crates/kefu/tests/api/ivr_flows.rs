//! IVR flows through the API: versions that are validated and never change, publishing and rolling
//! back, export and import, live validation, what flows may name, the funnel and trace, and the
//! simulator walking a flow with keys, timeouts and wrong keys.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The fallback queue every flow names (`settings.fallback_queue`), created unless the seed has it.
async fn ensure_general_queue(app: &TestApp) {
    if app
        .store
        .get_queue_by_key("general")
        .await
        .unwrap()
        .is_none()
    {
        app.store
            .create_queue(
                &kefu_store::Actor::system("test"),
                kefu_store::NewQueue {
                    key: "general".into(),
                    name: "综合服务".into(),
                    members: vec![],
                    max_wait_secs: 300,
                    active: true,
                },
            )
            .await
            .unwrap();
    }
}

/// menu: 1 → info (play) → bye; 2 → bye; no key or wrong keys three times → bye.
fn graph(info: &str) -> Value {
    json!({
        "start": "menu",
        "nodes": [
            {"id": "menu", "kind": "menu", "label": "主菜单",
             "prompts": [{"prompt": "main_welcome"}, {"text": "查询营业时间请按1，结束请按2"}],
             "invalid_prompts": [{"text": "按键无效"}],
             "timeout_prompts": [{"text": "您没有按键"}],
             "options": {"1": "info", "2": "bye"}, "on_fail": "bye"},
            {"id": "info", "kind": "play", "prompts": [{"text": info}], "next": "bye"},
            {"id": "bye", "kind": "hangup", "prompts": [{"text": "再见"}]}
        ]
    })
}

async fn create_flow(app: &TestApp, token: &str, key: &str) -> Value {
    let r = app
        .send(
            token,
            Method::POST,
            "/api/v1/ivr/flows",
            &json!({"key": key, "name": "测试热线", "description": "for tests"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn save(app: &TestApp, token: &str, flow: &str, graph: &Value) -> reqwest::Response {
    app.send(
        token,
        Method::POST,
        &format!("/api/v1/ivr/flows/{flow}/versions"),
        &json!({"graph": graph, "note": "test"}),
    )
    .await
}

#[tokio::test]
async fn versions_are_validated_published_rolled_back_exported_and_imported() {
    let app = TestApp::spawn().await;
    ensure_general_queue(&app).await;
    let token = app.login("supervisor").await;
    let flow = create_flow(&app, &token, "test-line").await;
    let id = flow["id"].as_str().unwrap().to_string();
    assert_eq!(flow["latest_version"], Value::Null);
    assert_eq!(flow["published_version"], Value::Null);

    // Invalid: the play node has no prompt text and a menu key leads nowhere. 422 naming the node
    // and the field; nothing is written.
    let audits = app.audit_total().await;
    let mut bad = graph("营业时间");
    bad["nodes"][1]["prompts"][0]["text"] = json!("  ");
    bad["nodes"][0]["options"]["3"] = json!("nowhere");
    let p = problem(
        save(&app, &token, &id, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errs = field_reasons(&p);
    assert!(
        errs.iter()
            .any(|(f, r)| f == "graph.nodes[info].prompts[0]" && r.starts_with("empty_text")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(f, r)| f == "graph.nodes[menu].3" && r.contains("nowhere")),
        "{errs:?}"
    );
    assert_eq!(app.audit_total().await, audits);
    let versions = app
        .get(&token, &format!("/api/v1/ivr/flows/{id}/versions"))
        .await;
    assert_eq!(versions, json!([]));
    let got = app.get(&token, &format!("/api/v1/ivr/flows/{id}")).await;
    assert_eq!(got["published_version"], Value::Null);
    assert_eq!(got["latest_version"], Value::Null);

    // Two valid versions; publish the second, roll back to the first.
    for info in ["八点到五点", "九点到六点"] {
        let r = save(&app, &token, &id, &graph(info)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let versions = app
        .get(&token, &format!("/api/v1/ivr/flows/{id}/versions"))
        .await;
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[1]["version"], 1);
    assert_eq!(versions[0]["nodes"], 3);
    let publish = |v: i32| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            app.as_token(
                &token,
                Method::POST,
                &format!("/api/v1/ivr/flows/{id}/versions/{v}/publish"),
            )
            .send()
            .await
            .unwrap()
        }
    };
    let published_before = app.audit_count("ivr_flow.publish").await;
    let r = publish(2).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["published_version"], 2);
    let (_, v, g) = app
        .store
        .published_flow("test-line")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(
        serde_json::to_value(&g).unwrap()["nodes"][1]["prompts"][0]["text"],
        "九点到六点"
    );
    let r = publish(1).await;
    assert_eq!(r.json::<Value>().await.unwrap()["published_version"], 1);
    assert_eq!(
        app.store
            .published_flow("test-line")
            .await
            .unwrap()
            .unwrap()
            .1,
        1
    );
    let versions = app
        .get(&token, &format!("/api/v1/ivr/flows/{id}/versions"))
        .await;
    assert_eq!(versions[1]["published"], true);
    assert_eq!(versions[0]["published"], false);
    problem(publish(7).await, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.audit_count("ivr_flow.publish").await,
        published_before + 2
    );

    // Export: the version's document, as a file with download=1.
    let r = app
        .as_token(
            &token,
            Method::GET,
            &format!("/api/v1/ivr/flows/{id}/versions/2?download=1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"ivr-test-line-v2.json\""
    );
    let mut doc: Value = r.json().await.unwrap();
    assert_eq!(doc["key"], "test-line");
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["graph"]["nodes"][1]["prompts"][0]["text"], "九点到六点");
    let plain = app
        .as_token(
            &token,
            Method::GET,
            &format!("/api/v1/ivr/flows/{id}/versions/2"),
        )
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-disposition").is_none());

    // Import under a new key: a new flow whose version 1 is the same graph.
    doc["key"] = json!("imported");
    let r = app
        .send(&token, Method::POST, "/api/v1/ivr/flows/import", &doc)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let imported: Value = r.json().await.unwrap();
    assert_eq!(imported["created"], true);
    assert_eq!(imported["version"], 1);
    let new_id = imported["flow"]["id"].as_str().unwrap();
    let back = app
        .get(&token, &format!("/api/v1/ivr/flows/{new_id}/versions/1"))
        .await;
    assert_eq!(back["graph"], doc["graph"]);
    assert_eq!(back["name"], "测试热线");
    // Again: the next version of that flow.
    let r = app
        .send(&token, Method::POST, "/api/v1/ivr/flows/import", &doc)
        .await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        (again["created"].clone(), again["version"].clone()),
        (json!(false), json!(2))
    );
    // An import with an invalid graph writes nothing.
    let mut broken = doc.clone();
    broken["key"] = json!("broken");
    broken["graph"]["start"] = json!("missing");
    let p = problem(
        app.send(&token, Method::POST, "/api/v1/ivr/flows/import", &broken)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(fields(&p).contains(&"graph.start".to_string()), "{p}");
    assert!(app.store.ivr_flow_by_key("broken").await.unwrap().is_none());

    // A taken key is 409, a malformed one 422; unknown ids are 404.
    let r = app
        .send(
            &token,
            Method::POST,
            "/api/v1/ivr/flows",
            &json!({"key": "test-line", "name": "again"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .send(
            &token,
            Method::POST,
            "/api/v1/ivr/flows",
            &json!({"key": "Test Line!", "name": "x"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["key"]);
    for path in [
        format!("/api/v1/ivr/flows/{}", uuid::Uuid::now_v7()),
        "/api/v1/ivr/flows/not-an-id".to_string(),
        format!("/api/v1/ivr/flows/{id}/versions/3"),
    ] {
        let r = app
            .as_token(&token, Method::GET, &path)
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::NOT_FOUND).await;
    }
    let list = app.get(&token, "/api/v1/ivr/flows").await;
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"test-line") && keys.contains(&"imported"),
        "{keys:?}"
    );

    // The auditor reads, but may not change.
    let auditor = app.login("auditor").await;
    app.get(&auditor, &format!("/api/v1/ivr/flows/{id}/versions/1"))
        .await;
    let r = save(&app, &auditor, &id, &graph("x")).await;
    problem(r, StatusCode::FORBIDDEN).await;
    app.stop().await;
}

#[tokio::test]
async fn validation_is_live_and_bad_input_is_named() {
    let app = TestApp::spawn().await;
    ensure_general_queue(&app).await;
    let token = app.login("admin").await;
    let validate = |body: String| {
        app.as_token(&token, Method::POST, "/api/v1/ivr/validate")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = validate(graph("营业时间").to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"issues": []}));

    // Duplicate ids and an unknown queue: issues, still 200.
    let mut dup = graph("营业时间");
    dup["nodes"][2]["id"] = json!("info");
    dup["settings"] = json!({"fallback_queue": "nobody"});
    let r = validate(dup.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let issues = r.json::<Value>().await.unwrap()["issues"].clone();
    let codes: Vec<(Value, String, String)> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["node"].clone(),
                i["field"].as_str().unwrap().to_string(),
                i["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        codes.contains(&(json!("info"), "id".into(), "duplicate_node".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(
            Value::Null,
            "settings.fallback_queue".into(),
            "unknown_queue".into()
        )),
        "{codes:?}"
    );

    // Not JSON: 422 with serde's line and column.
    let r = validate("{\"start\": \"menu\",\n \"nodes\": [,]}".into())
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["graph"]);
    assert!(p["detail"].as_str().unwrap().contains("line 2"), "{p}");
    // An unknown node kind: named by its place.
    let mut odd = graph("x");
    odd["nodes"][1]["kind"] = json!("teleport");
    let r = validate(odd.to_string()).await.unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(fields(&p)[0].starts_with("graph.nodes[1]"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("teleport"), "{p}");

    // Saving: the same problems are 422 and nothing is written.
    let flow = create_flow(&app, &token, "bad-input").await;
    let id = flow["id"].as_str().unwrap();
    let p = problem(
        save(&app, &token, id, &dup).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        fields(&p).contains(&"graph.nodes[info].id".to_string()),
        "{p}"
    );
    let p = problem(
        save(&app, &token, id, &odd).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(fields(&p)[0].starts_with("graph.nodes[1]"), "{p}");
    let r = app
        .as_token(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/flows/{id}/versions"),
        )
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["body"]);
    let r = app
        .as_token(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/flows/{id}/versions"),
        )
        .header("content-type", "application/json")
        .body("{\"graph\": {\"start\": ")
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("line 1"), "{p}");
    // Larger than the API's body limit: 413, as problem+json.
    let mut huge = graph("x");
    let filler: Vec<Value> = (0..3000)
        .map(|i| json!({"id": format!("n{i}"), "kind": "play", "prompts": [{"text": "很长的提示音".repeat(8)}], "next": "bye"}))
        .collect();
    huge["nodes"].as_array_mut().unwrap().extend(filler);
    let body = json!({"graph": huge}).to_string();
    assert!(body.len() > kefu_api::Settings::default().max_json_bytes);
    let r = app
        .as_token(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/flows/{id}/versions"),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    let versions = app
        .get(&token, &format!("/api/v1/ivr/flows/{id}/versions"))
        .await;
    assert_eq!(versions, json!([]));
    app.stop().await;
}

#[tokio::test]
async fn known_lists_funnel_and_trace() {
    let app = TestApp::spawn().await;
    ensure_general_queue(&app).await;
    let token = app.login("supervisor").await;
    let known = app.get(&token, "/api/v1/ivr/known").await;
    let keys = |list: &str| -> Vec<String> {
        known[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(keys("queues").contains(&"general".to_string()));
    // What the store holds, listed with names.
    let types = app.store.work_order_types(false).await.unwrap();
    assert_eq!(keys("order_types").len(), types.len());
    let t = &types[0];
    assert!(
        known["order_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == t.code.as_str() && i["name"] == t.name.as_str())
    );
    let calendars = app.store.calendars().await.unwrap();
    assert_eq!(keys("calendars").len(), calendars.len());
    let units = app.store.units().await.unwrap();
    assert!(keys("sites").contains(&units[0].code));
    // The system prompts, named by their Mandarin text.
    assert!(
        known["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["key"] == "main_welcome" && p["name"] == "您好，欢迎致电燃气服务热线。"),
        "{known}"
    );
    for list in ["extensions", "documents"] {
        assert!(known[list].is_array());
    }

    let flow = create_flow(&app, &token, "funnel-line").await;
    let id: uuid::Uuid = flow["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        save(&app, &token, &id.to_string(), &graph("x"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let now = chrono::Utc::now();
    let row = |seq: i32, node: &str, kind: &str, branch: Option<&str>, outcome: &str| {
        kefu_store::IvrVisitRow {
            seq,
            node_id: node.into(),
            kind: kind.into(),
            branch: branch.map(str::to_string),
            outcome: outcome.into(),
            detail: None,
            at: now,
        }
    };
    let end = |reason: &str, last: &str| {
        Some(kefu_store::IvrSessionEnd {
            reason: reason.into(),
            last_node: Some(last.into()),
            ended_at: now,
            customer_id: None,
        })
    };
    let call = uuid::Uuid::now_v7();
    let a = app
        .store
        .ivr_session_start(id, 1, Some(call), "13800000001", now)
        .await
        .unwrap();
    app.store
        .ivr_session_record(
            a,
            &[
                row(1, "menu", "menu", Some("1"), "passed"),
                row(2, "info", "play", Some("next"), "passed"),
                row(3, "bye", "hangup", None, "passed"),
            ],
            end("completed", "bye"),
        )
        .await
        .unwrap();
    let b = app
        .store
        .ivr_session_start(id, 1, None, "13800000002", now)
        .await
        .unwrap();
    app.store
        .ivr_session_record(
            b,
            &[row(1, "menu", "menu", None, "left")],
            end("hangup", "menu"),
        )
        .await
        .unwrap();

    let f = app
        .get(&token, &format!("/api/v1/ivr/flows/{id}/funnel?version=1"))
        .await;
    assert_eq!(f["sessions"], 2);
    let menu = f["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_id"] == "menu")
        .unwrap()
        .clone();
    assert_eq!(
        (
            menu["reached"].clone(),
            menu["passed"].clone(),
            menu["left"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    let later =
        (now + chrono::TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let f = app
        .get(
            &token,
            &format!("/api/v1/ivr/flows/{id}/funnel?from={later}"),
        )
        .await;
    assert_eq!(f["sessions"], 0);
    let r = app
        .as_token(
            &token,
            Method::GET,
            &format!("/api/v1/ivr/flows/{id}/funnel?version=x"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["version"]
    );

    let t = app
        .get(&token, &format!("/api/v1/ivr/traces?call_uuid={call}"))
        .await;
    let nodes: Vec<&str> = t["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["node_id"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["menu", "info", "bye"]);
    assert_eq!(t["sessions"][0]["flow_key"], "funnel-line");
    let t = app
        .get(&token, &format!("/api/v1/ivr/traces?session_id={b}"))
        .await;
    assert_eq!(t["visits"][0]["outcome"], "left");
    let r = app
        .as_token(
            &token,
            Method::GET,
            &format!("/api/v1/ivr/traces?call_uuid={}", uuid::Uuid::now_v7()),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .as_token(&token, Method::GET, "/api/v1/ivr/traces")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    app.stop().await;
}

fn kinds(view: &Value) -> Vec<(String, String)> {
    view["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["node"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn texts(view: &Value, kind: &str) -> Vec<String> {
    view["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_simulator_walks_a_flow_with_keys_timeouts_and_wrong_keys() {
    let app = TestApp::spawn().await;
    ensure_general_queue(&app).await;
    let token = app.login("supervisor").await;
    let flow = create_flow(&app, &token, "sim-line").await;
    let id = flow["id"].as_str().unwrap().to_string();
    assert_eq!(
        save(&app, &token, &id, &graph("营业时间八点到五点"))
            .await
            .status(),
        StatusCode::CREATED
    );

    let start = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.send(&token, Method::POST, "/api/v1/ivr/simulations", &body)
                .await
        }
    };
    let r = start(json!({"flow_id": id, "caller": "13800000000"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let sim = v["id"].as_str().unwrap().to_string();
    assert_eq!(
        kinds(&v),
        [
            ("enter".into(), "menu".into()),
            ("collect".into(), "menu".into())
        ]
    );
    // A system prompt reads as its catalog text, then the flow's own text.
    assert!(
        texts(&v, "collect")[0].starts_with("您好，欢迎致电燃气服务热线。 查询营业时间请按1"),
        "{v}"
    );
    assert_eq!(v["state"]["node"], "menu");
    assert_eq!(v["state"]["waiting"], "digits");
    assert_eq!(v["state"]["vars"]["call.caller"], "13800000000");

    let input = |body: Value| {
        let app = &app;
        let token = token.clone();
        let path = format!("/api/v1/ivr/simulations/{sim}/input");
        async move { app.send(&token, Method::POST, &path, &body).await }
    };
    // A wrong key: the invalid prompt, then the menu again.
    let v: Value = input(json!({"digits": "9"})).await.json().await.unwrap();
    assert_eq!(v["state"]["node"], "menu");
    assert!(texts(&v, "collect")[0].starts_with("按键无效"), "{v}");
    // No key: the timeout prompt.
    let v: Value = input(json!({"timeout": true})).await.json().await.unwrap();
    assert!(texts(&v, "collect")[0].starts_with("您没有按键"), "{v}");
    assert_eq!(v["state"]["waiting"], "digits");
    // 1: the information, then goodbye and the end.
    let v: Value = input(json!({"digits": "1"})).await.json().await.unwrap();
    assert_eq!(
        kinds(&v),
        [
            ("enter".into(), "info".into()),
            ("play".into(), "info".into()),
            ("enter".into(), "bye".into()),
            ("play".into(), "bye".into()),
            ("end".into(), "bye".into()),
        ]
    );
    assert_eq!(texts(&v, "play"), ["营业时间八点到五点", "再见"]);
    assert_eq!(texts(&v, "end"), ["completed"]);
    assert_eq!(v["state"]["waiting"], "ended");
    // Over: more keys are a conflict.
    problem(input(json!({"digits": "1"})).await, StatusCode::CONFLICT).await;

    // Bad steps are 422; someone else's or an unknown simulation is 404.
    let r = start(json!({"flow_id": id, "caller": "13800000000"})).await;
    let v: Value = r.json().await.unwrap();
    let sim2 = v["id"].as_str().unwrap().to_string();
    let step = |who: &str, body: Value| {
        let path = format!("/api/v1/ivr/simulations/{sim2}/input");
        let who = who.to_string();
        let app = &app;
        async move { app.send(&who, Method::POST, &path, &body).await }
    };
    let p = problem(
        step(&token, json!({"digits": "1", "timeout": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["digits"]);
    problem(
        step(&token, json!({"digits": "1a"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let admin = app.login("admin").await;
    problem(
        step(&admin, json!({"digits": "1"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = app
        .send(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/simulations/{}/input", uuid::Uuid::now_v7()),
            &json!({"digits": "1"}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    // The caller hangs up in the menu.
    let v: Value = step(&token, json!({"hangup": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts(&v, "end"), ["hangup"]);
    assert_eq!(v["state"]["waiting"], "ended");

    // An unsaved graph with a work order: a dry run that says what would happen, and writes nothing.
    let order_type = app.store.work_order_types(false).await.unwrap()[0]
        .code
        .clone();
    let orders_before = app.audit_total().await;
    let draft = json!({
        "start": "order",
        "nodes": [
            {"id": "order", "kind": "create_work_order", "order_type": order_type,
             "title": "IVR 报修 ${call.caller}", "sms": false, "next": "done", "on_fail": "done"},
            {"id": "done", "kind": "hangup", "prompts": [{"text": "工单号${order.no}"}]}
        ]
    });
    let r = start(json!({"flow_id": id, "caller": "13800000000", "graph": draft})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let no = format!("GD{}9999", app.state.today().format("%y%m%d"));
    let action = &texts(&v, "action")[0];
    assert!(
        action.contains(&order_type) && action.contains(&no),
        "{action}"
    );
    assert!(action.contains("IVR 报修 13800000000"), "{action}");
    assert_eq!(texts(&v, "play"), [format!("工单号{no}")]);
    assert_eq!(app.audit_total().await, orders_before);
    // An invalid draft is refused like a save.
    let p = problem(
        start(json!({"flow_id": id, "caller": "1", "graph": {"start": "x", "nodes": []}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(fields(&p)[0].starts_with("graph."), "{p}");
    app.stop().await;
}

#[tokio::test]
async fn the_simulator_reads_real_data() {
    let app = TestApp::spawn().await;
    ensure_general_queue(&app).await;
    let token = app.login("supervisor").await;
    let flow = create_flow(&app, &token, "sim-data").await;
    let id = flow["id"].as_str().unwrap().to_string();
    // A demo customer whose mobile number is registered to nobody else.
    let list = app.get(&token, "/api/v1/customers?per_page=100").await;
    let mut found = None;
    for c in list["items"].as_array().unwrap() {
        let Some(phone) = c["primary_phone"].as_str().filter(|p| p.starts_with('1')) else {
            continue;
        };
        let owners = app
            .get(&token, &format!("/api/v1/customers/by-phone/{phone}"))
            .await;
        if owners.as_array().is_some_and(|o| o.len() == 1) {
            found = Some((
                phone.to_string(),
                c["customer_no"].as_str().unwrap().to_string(),
            ));
            break;
        }
    }
    let (phone, no) = found.expect("a demo customer with a phone of their own");
    let draft = json!({
        "start": "who",
        "nodes": [
            {"id": "who", "kind": "identify", "by": "caller_id", "next": "hello", "on_fail": "bye"},
            {"id": "hello", "kind": "say", "parts": [{"text": "您的户号是"}, {"var": "customer.no", "as": "digits"}], "next": "bye"},
            {"id": "bye", "kind": "hangup"}
        ]
    });
    let start = |caller: &str| {
        let body = json!({"flow_id": id, "caller": caller, "graph": draft});
        let app = &app;
        let token = token.clone();
        async move {
            let r = app
                .send(&token, Method::POST, "/api/v1/ivr/simulations", &body)
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        }
    };
    let v = start(&phone).await;
    assert_eq!(v["state"]["vars"]["customer.no"], no.as_str(), "{v}");
    assert!(texts(&v, "action")[0].ends_with(": found"), "{v}");
    // The number read digit by digit, as words.
    let said = &texts(&v, "play")[0];
    assert!(said.starts_with("您的户号是 "), "{said}");
    assert_eq!(
        said.trim_start_matches("您的户号是 ").chars().count(),
        no.chars().count(),
        "{said}"
    );
    // A number nobody has: not found, the on_fail branch.
    let v = start("13000000001").await;
    assert!(texts(&v, "action")[0].ends_with(": not found"), "{v}");
    assert_eq!(
        kinds(&v).last().unwrap(),
        &("end".to_string(), "bye".to_string())
    );
    assert!(v["state"]["vars"].get("customer.no").is_none());
    app.stop().await;
}
