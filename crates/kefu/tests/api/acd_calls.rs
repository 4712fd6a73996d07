//! The ACD on real calls: SIPp callers reach a queue through a DID route, SIPp phones registered with
//! digest as the agents' extensions answer, the agent's CTI WebSocket shows the offer with the
//! screen pop, and the state log, queue figures and call records show what happened. Also the
//! refusals: commands for calls that are not the agent's, unknown targets, states not allowed now.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::TestApp;
use crate::ivr_calls::{
    Step, answering_phone, call, customer_with_amount_due, free_udp_port, register,
};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The engine, the IVR and the ACD wired as `kefu serve` wires them, on a free loopback port.
pub(crate) struct Acd {
    pub(crate) telephony: kefu_telephony::Telephony,
    pub(crate) runtime: Arc<kefu::acd::AcdRuntime>,
    pub(crate) sip: String,
    _dirs: Vec<tempfile::TempDir>,
}

pub(crate) async fn start_acd(app: &TestApp) -> Acd {
    start_acd_on(app.store.clone(), app.state.clone()).await
}

/// [`start_acd`] on a store and an application state (owned: a test may start the ACD on a runtime of
/// its own, and stop that runtime as a crash would).
pub(crate) async fn start_acd_on(store: kefu_store::Store, state: kefu_api::AppState) -> Acd {
    let prompts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts");
    let mut cfg = kefu_telephony::TelephonyConfig::new("127.0.0.1:0".parse().unwrap());
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = 28000 + (n % 50) * 40;
    cfg.rtp_ports = (base, base + 39);
    cfg.prompts_dir = prompts.clone();
    let recordings = tempfile::tempdir().unwrap();
    cfg.recordings_dir = recordings.path().to_path_buf();
    let directory = Arc::new(kefu::telephony::StoreDirectory {
        store: store.clone(),
    });
    let t = kefu_telephony::Telephony::start(cfg, directory)
        .await
        .unwrap();
    let tts = tempfile::tempdir().unwrap();
    let ivr = Arc::new(kefu::ivr::IvrRuntime::new(
        store.clone(),
        t.clone(),
        kefu::ivr::IvrFiles {
            prompts_dir: prompts,
            tts_dir: tts.path().to_path_buf(),
            record_calls: true,
        },
    ));
    let runtime = kefu::acd::AcdRuntime::start(
        store.clone(),
        t.clone(),
        kefu::acd::AcdFiles {
            recordings_dir: recordings.path().to_path_buf(),
            record_calls: true,
            callback_caller_id: "96777".into(),
            hold_music: ivr.hold_music("zh-CN"),
            utc_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        },
    )
    .await
    .unwrap();
    ivr.set_acd(runtime.clone());
    state.set_acd(Arc::new(kefu::acd::AcdApi(runtime.clone())));
    tokio::spawn(kefu_telephony::entry::serve(
        t.clone(),
        t.incoming().unwrap(),
        kefu_telephony::entry::EntryPoints {
            runner: Some(ivr),
            ..Default::default()
        },
    ));
    let sip = t.local_addr().to_string();
    Acd {
        telephony: t,
        runtime,
        sip,
        _dirs: vec![recordings, tts],
    }
}

impl Acd {
    /// Waits until every leg has ended.
    pub(crate) async fn settle(&self) {
        for _ in 0..200 {
            if self.telephony.stats().legs == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("calls still up: {:?}", self.telephony.stats());
    }
}

/// Routes `number` straight to `queue`.
pub(crate) async fn route_to_queue(app: &TestApp, admin: &str, number: &str, queue: &str) {
    let r = app
        .as_token(admin, Method::POST, "/api/v1/routes")
        .json(&json!({"number": number, "target": {"kind": "queue", "name": queue}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

pub(crate) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.as_token(token, Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn post_ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = post(app, token, path, body).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn problem(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn cti(app: &TestApp, token: &str) -> Socket {
    let mut req = format!("ws://{}/api/v1/cti", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

/// Messages until one of `kind` arrives (within 40 s); returns it and every message before it.
pub(crate) async fn until(ws: &mut Socket, kind: &str) -> (Value, Vec<Value>) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let got = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event; saw {seen:?}"));
        match got {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == kind {
                    return (v, seen);
                }
                seen.push(v);
            }
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// The next `state` event whose state is `state`.
pub(crate) async fn until_state(ws: &mut Socket, state: &str) -> Value {
    loop {
        let (v, _) = until(ws, "state").await;
        if v["state"]["state"] == state {
            return v;
        }
    }
}

pub(crate) async fn my_agent_id(app: &TestApp, token: &str) -> String {
    app.get(token, "/api/v1/agents/me").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_agent_answers_a_queue_call_with_the_callers_screen_pop_then_wraps_up() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    route_to_queue(&app, &admin, "96778", "general").await;
    let id = my_agent_id(&app, &agent).await;
    let r = app
        .as_token(&admin, Method::PATCH, &format!("/api/v1/agents/{id}"))
        .json(&json!({"wrap_up_secs": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The agent's phone: extension 8001, registered with digest, answers and hangs up after 2 s.
    let phone_port = free_udp_port();
    register(&acd.sip, "8001", phone_port).await;
    let mut phone = answering_phone(phone_port, 2000);
    let mut ws = cti(&app, &agent).await;
    let (hello, _) = until(&mut ws, "hello").await;
    assert_eq!(hello["agent_id"], id.as_str());
    let state = post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true}),
    )
    .await;
    assert_eq!(state["state"], "ready", "{state}");
    assert!(
        state["queues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == "general")
    );
    let (caller, _, customer_id) = customer_with_amount_due(&app).await;
    let customer = app
        .get(&agent, &format!("/api/v1/customers/{customer_id}"))
        .await;
    let sip = acd.sip.clone();
    let from = caller.clone();
    let sipp = tokio::spawn(async move {
        call(&sip, "96778", &from, &[Step::Pause(500), Step::AwaitBye]).await
    });
    let (offer, _) = until(&mut ws, "offering").await;
    assert_eq!(offer["caller"], caller.as_str());
    assert_eq!(offer["queue"], "general");
    assert_eq!(offer["customer"]["id"], customer_id.as_str(), "{offer}");
    assert_eq!(offer["customer"]["name"], customer["name"], "{customer}");
    let call_id = offer["call_id"].as_str().unwrap().to_string();
    let (answered, _) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], call_id.as_str());
    let (ended, _) = until(&mut ws, "ended").await;
    assert_eq!(ended["cause"], "agent_hung_up");
    until_state(&mut ws, "ready").await;
    assert!(sipp.await.unwrap(), "the caller's call succeeded");
    assert!(
        tokio::task::spawn_blocking(move || phone.wait())
            .await
            .unwrap()
            .unwrap()
            .success()
    );
    acd.settle().await;
    // Every state on record, in order.
    let log = app
        .get(&admin, &format!("/api/v1/agents/{id}/state-log"))
        .await;
    let states: Vec<&str> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    let tail: Vec<&str> = states.iter().rev().take(5).rev().copied().collect();
    assert_eq!(
        tail,
        ["ready", "reserved", "on_call", "wrap_up", "ready"],
        "{log}"
    );
    // The queue's figures and both legs' call records.
    let report = app.get(&admin, "/api/v1/reports/queues").await;
    assert_eq!(report["queues"]["general"]["answered"], 1, "{report}");
    assert_eq!(report["queues"]["general"]["offered"], 1);
    let cdrs = app
        .get(&admin, &format!("/api/v1/calls?call_uuid={call_id}"))
        .await;
    let numbers: Vec<String> = cdrs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}>{}", c["caller"], c["callee"]))
        .collect();
    assert_eq!(numbers.len(), 2, "{cdrs}");
    assert!(numbers.iter().any(|n| n.contains("8001")), "{numbers:?}");
    // The agent call was recorded and is listed for the customer.
    let recs = app
        .get(&admin, &format!("/api/v1/recordings?call_id={call_id}"))
        .await;
    assert_eq!(recs["items"].as_array().unwrap().len(), 1, "{recs}");
    acd.telephony.shutdown().await;
    drop(acd.runtime);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_phone_never_answers_is_set_not_ready_and_the_caller_is_not_lost() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    route_to_queue(&app, &admin, "96778", "general").await;
    let id = my_agent_id(&app, &agent).await;
    // Logged in and ready, but extension 8001 is not registered: every offer fails at once.
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true}),
    )
    .await;
    let mut ws = cti(&app, &agent).await;
    let sip = acd.sip.clone();
    let sipp = tokio::spawn(async move {
        call(
            &sip,
            "96778",
            "13900001111",
            &[Step::Pause(6000), Step::Bye],
        )
        .await
    });
    let missed = until_state(&mut ws, "not_ready").await;
    assert_eq!(missed["state"]["reason"], "missed", "{missed}");
    // The caller is still waiting in the queue (not lost) until it hangs up.
    let board = app.get(&admin, "/api/v1/wallboard").await;
    let general = board["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "general")
        .unwrap()
        .clone();
    assert_eq!(general["waiting"], 1, "{board}");
    assert!(sipp.await.unwrap());
    acd.settle().await;
    let report = app.get(&admin, "/api/v1/reports/queues").await;
    assert_eq!(report["queues"]["general"]["abandoned"], 1, "{report}");
    let log = app
        .get(&admin, &format!("/api/v1/agents/{id}/state-log"))
        .await;
    let reserved = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "reserved")
        .count();
    assert_eq!(reserved, 2, "two offers, then not ready: {log}");
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_and_commands_that_are_not_allowed_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    let id = my_agent_id(&app, &agent).await;
    // Logged out: neither ready nor not ready.
    let r = post(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "ready"}),
    )
    .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert_eq!(fields(&p), ["state"], "{p}");
    let r = post(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "dance"}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["state"]
    );
    // Unknown queue, unknown phone.
    let r = post(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"queues": ["nope"]}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["queues"]
    );
    let r = post(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"phone": "9999"}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["phone"]
    );
    // Logged in: a reason kefu sets itself cannot be chosen.
    post_ok(&app, &agent, "/api/v1/agents/me/login", json!({})).await;
    let r = post(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "not_ready", "reason": "missed"}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["reason"]
    );
    let s = post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "not_ready", "reason": "meal"}),
    )
    .await;
    assert_eq!(s["reason"], "meal");
    // A call that does not exist; a malformed command.
    let nobody = uuid::Uuid::now_v7();
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{nobody}/hold"),
        json!({}),
    )
    .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{nobody}/transfer"),
        json!({"to": {"kind": "moon", "target": "x"}}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["to.kind"]
    );
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{nobody}/dtmf"),
        json!({"digits": "12x"}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["digits"]
    );
    // The supervisor forces the agent ready; agents may not force.
    let s = post_ok(
        &app,
        &supervisor,
        &format!("/api/v1/agents/{id}/state"),
        json!({"state": "ready"}),
    )
    .await;
    assert_eq!(s["state"], "ready");
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agents/{id}/state"),
        json!({"state": "logged_out"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A user who is no agent has no desk.
    let site = app.login("site").await;
    let r = app
        .as_token(&site, Method::GET, "/api/v1/agents/me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // CTI: messages other than subscribe/ping are answered with an error; a flood closes the socket.
    let mut ws = cti(&app, &agent).await;
    until(&mut ws, "hello").await;
    futures_util::SinkExt::send(&mut ws, Message::Text("{\"do\":\"evil\"}".into()))
        .await
        .unwrap();
    until(&mut ws, "error").await;
    futures_util::SinkExt::send(
        &mut ws,
        Message::Text("{\"subscribe\":\"wallboard\"}".into()),
    )
    .await
    .unwrap();
    let (e, _) = until(&mut ws, "error").await;
    assert!(e["reason"].as_str().unwrap().contains("supervisors"));
    for _ in 0..40 {
        if futures_util::SinkExt::send(&mut ws, Message::Text("{\"type\":\"ping\"}".into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(_) => break None,
            Err(_) => panic!("the flooded socket stayed open"),
        }
    };
    assert_eq!(closed, Some(1008));
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_transfers_a_caller_to_a_remote_sites_phone_and_both_legs_are_on_record() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, "96778", "general").await;
    // The site owning extension 8101.
    let exts = app.get(&admin, "/api/v1/extensions").await;
    let ext = exts
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "8101")
        .cloned()
        .expect("the demo's first site phone");
    let units = app.get(&admin, "/api/v1/units").await;
    let site = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ext["owner"]["unit_id"] || u["id"] == ext["unit_id"])
        .cloned()
        .unwrap_or_else(|| panic!("the unit of {ext}"));
    let code = site["code"].as_str().unwrap().to_string();
    // The agent talks long enough to transfer; the site phone answers and hangs up after 2 s.
    let agent_port = free_udp_port();
    register(&acd.sip, "8001", agent_port).await;
    let mut agent_phone = answering_phone(agent_port, 30_000);
    let site_port = free_udp_port();
    register(&acd.sip, "8101", site_port).await;
    let mut site_phone = answering_phone(site_port, 2000);
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let sip = acd.sip.clone();
    let sipp = tokio::spawn(async move {
        call(
            &sip,
            "96778",
            "13900002222",
            &[Step::Pause(500), Step::AwaitBye],
        )
        .await
    });
    let (answered, _) = until(&mut ws, "answered").await;
    let call_id = answered["call_id"].as_str().unwrap().to_string();
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["id"], call_id.as_str(), "{calls}");
    assert_eq!(calls[0]["state"], "talking");
    // Refusals on a live call: an unknown target; a command from someone else's desk; a double
    // answer.
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{call_id}/transfer"),
        json!({"to": {"kind": "queue", "target": "nope"}}),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["to.target"]
    );
    let r = post(
        &app,
        &supervisor,
        &format!("/api/v1/agent-calls/{call_id}/hangup"),
        json!({}),
    )
    .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = post(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{call_id}/answer"),
        json!({}),
    )
    .await;
    problem(r, StatusCode::CONFLICT).await;
    // Hold and resume, then the blind transfer to the site.
    let held = post_ok(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{call_id}/hold"),
        json!({}),
    )
    .await;
    assert_eq!(held["state"], "held");
    post_ok(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{call_id}/resume"),
        json!({}),
    )
    .await;
    post_ok(
        &app,
        &agent,
        &format!("/api/v1/agent-calls/{call_id}/transfer"),
        json!({"to": {"kind": "site", "target": code}}),
    )
    .await;
    // The agent is released (wrap-up) as the transfer starts.
    let (_, before) = until(&mut ws, "transferred").await;
    if !before
        .iter()
        .any(|e| e["type"] == "state" && e["state"]["state"] == "wrap_up")
    {
        until_state(&mut ws, "wrap_up").await;
    }
    assert!(sipp.await.unwrap(), "the caller's call succeeded");
    for p in [&mut agent_phone, &mut site_phone] {
        let _ = p.kill();
        let _ = p.wait();
    }
    acd.settle().await;
    let cdrs = app
        .get(&admin, &format!("/api/v1/calls?call_uuid={call_id}"))
        .await;
    let callees: Vec<&str> = cdrs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["callee"].as_str().unwrap())
        .collect();
    assert!(callees.contains(&"8001"), "{cdrs}");
    assert!(callees.contains(&"8101"), "{cdrs}");
    acd.telephony.shutdown().await;
}

/// A baresip phone registered with digest as `ext` (the demo password), answering at once.
fn baresip_agent(sip: &str, ext: &str) -> crate::phones::Baresip {
    let b = crate::phones::Baresip::start(crate::phones::BaresipOptions {
        registrar: Some(sip.parse().unwrap()),
        user: ext.to_string(),
        password: kefu_demo::DEMO_PASSWORD.to_string(),
        auto_answer: true,
        ..Default::default()
    })
    .expect("baresip (Debian package baresip-core) is installed by the test command");
    assert!(
        b.wait_registered(Duration::from_secs(10)),
        "baresip {ext} registered: {}",
        b.log()
    );
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_agents_answer_two_sipp_callers_longest_idle_first_and_hear_them() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, "96778", "general").await;
    let agent_id = my_agent_id(&app, &agent).await;
    let supervisor_id = my_agent_id(&app, &supervisor).await;
    let first = baresip_agent(&acd.sip, "8001");
    let second = baresip_agent(&acd.sip, "8002");
    // The agent is ready first, so it has been idle longest and gets the first caller.
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let mut agent_ws = cti(&app, &agent).await;
    let mut supervisor_ws = cti(&app, &supervisor).await;
    let sip = acd.sip.clone();
    let one = tokio::spawn(async move {
        call(
            &sip,
            "96778",
            "13900003333",
            &[Step::Pause(1500), Step::Tone, Step::Bye],
        )
        .await
    });
    let (offer, _) = until(&mut agent_ws, "offering").await;
    assert_eq!(offer["caller"], "13900003333");
    until(&mut agent_ws, "answered").await;
    let sip = acd.sip.clone();
    let two = tokio::spawn(async move {
        call(
            &sip,
            "96778",
            "13900004444",
            &[Step::Pause(1500), Step::Tone, Step::Bye],
        )
        .await
    });
    // The agent is busy: the second caller goes to the supervisor; each desk sees only its own.
    let (offer, seen) = until(&mut supervisor_ws, "offering").await;
    assert_eq!(offer["caller"], "13900004444");
    assert!(
        seen.iter()
            .all(|e| e["agent_id"].is_null() || e["agent_id"] == supervisor_id.as_str()),
        "{seen:?}"
    );
    assert!(one.await.unwrap() && two.await.unwrap());
    until_state(&mut agent_ws, "wrap_up").await;
    until_state(&mut supervisor_ws, "wrap_up").await;
    acd.settle().await;
    // Each baresip heard its caller's 1 kHz tone through kefu's bridge.
    for b in [&first, &second] {
        assert!(
            crate::phones::wav_has_tone(&b.recording(), 1000.0),
            "the agent heard the caller: {}",
            b.log()
        );
    }
    let log = app
        .get(&admin, &format!("/api/v1/agents/{agent_id}/state-log"))
        .await;
    assert!(
        log["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["state"] == "on_call"),
        "{log}"
    );
    acd.telephony.shutdown().await;
}

/// The legs the engine has up for `call`.
pub(crate) fn legs_of(acd: &Acd, call: &str) -> usize {
    acd.telephony
        .calls()
        .iter()
        .filter(|c| {
            c.info().call_uuid.to_string() == call && c.phase() != kefu_telephony::Phase::Ended
        })
        .count()
}

pub(crate) async fn until_legs(acd: &Acd, call: &str, n: usize) {
    for _ in 0..300 {
        if legs_of(acd, call) == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} legs for {call}: {}", legs_of(acd, call));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_and_the_agent_mutes_pauses_the_recording_consults_and_conferences() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, "96778", "general").await;
    // Phones: the agent (8001), the supervisor (8002), two site phones (8101 joins the conference,
    // 8102 is consulted). Each answers once and stays up long enough.
    let mut phones = Vec::new();
    for ext in ["8001", "8002", "8101", "8102"] {
        let port = free_udp_port();
        register(&acd.sip, ext, port).await;
        phones.push(answering_phone(port, 60_000));
    }
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let sip = acd.sip.clone();
    let caller = tokio::spawn(async move {
        // Stays on the line while the agent works, then hangs up (ending the conference).
        call(
            &sip,
            "96778",
            "13900005555",
            &[Step::Pause(40_000), Step::Bye],
        )
        .await
    });
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    let path = |action: &str| format!("/api/v1/agent-calls/{id}/{action}");
    until_legs(&acd, &id, 2).await;
    // The supervisor listens from 8002: a third leg joins.
    let r = post(&app, &supervisor, &path("listen"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    until_legs(&acd, &id, 3).await;
    // Agents may not listen.
    let r = post(&app, &agent, &path("whisper"), json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Mute, recording pause, DTMF.
    let c = post_ok(&app, &agent, &path("mute"), json!({})).await;
    assert_eq!(c["muted"], true, "{c}");
    let c = post_ok(&app, &agent, &path("unmute"), json!({})).await;
    assert_eq!(c["muted"], false);
    let c = post_ok(&app, &agent, &path("recording"), json!({"paused": true})).await;
    assert_eq!(c["recording"], false, "{c}");
    let c = post_ok(&app, &agent, &path("recording"), json!({"paused": false})).await;
    assert_eq!(c["recording"], true);
    post_ok(&app, &agent, &path("dtmf"), json!({"digits": "12#"})).await;
    // Three-way: 8101 joins.
    post_ok(
        &app,
        &agent,
        &path("conference"),
        json!({"to": {"kind": "extension", "target": "8101"}}),
    )
    .await;
    until(&mut ws, "conference").await;
    until_legs(&acd, &id, 4).await;
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["state"], "conference", "{calls}");
    // Consult 8102, then change one's mind: back to the conversation.
    post_ok(
        &app,
        &agent,
        &path("transfer"),
        json!({"to": {"kind": "extension", "target": "8102"}, "mode": "consult"}),
    )
    .await;
    until(&mut ws, "consult_answered").await;
    until_legs(&acd, &id, 5).await;
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["state"], "consulting", "{calls}");
    post_ok(&app, &agent, &path("transfer-cancel"), json!({})).await;
    until_legs(&acd, &id, 4).await;
    let r = post(&app, &agent, &path("transfer-complete"), json!({})).await;
    problem(r, StatusCode::CONFLICT).await;
    // The agent hangs up: it leaves the conference (wrap-up), the caller and 8101 talk on until the
    // caller hangs up, which lets everyone go.
    post_ok(&app, &agent, &path("hangup"), json!({})).await;
    let (ended, before) = until(&mut ws, "ended").await;
    assert_eq!(ended["cause"], "agent_left_conference", "{ended}");
    if !before
        .iter()
        .any(|e| e["type"] == "state" && e["state"]["state"] == "wrap_up")
    {
        until_state(&mut ws, "wrap_up").await;
    }
    assert!(caller.await.unwrap(), "the caller's call succeeded");
    until_legs(&acd, &id, 0).await;
    for mut p in phones {
        let _ = p.kill();
        let _ = p.wait();
    }
    acd.settle().await;
    acd.telephony.shutdown().await;
}
