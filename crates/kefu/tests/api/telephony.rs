//! Telephony over HTTP: extensions, trunks and DID routes (CRUD, write-only secrets, redacted audit),
//! call records, and the live view of a (fake) SIP engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeDelta, TimeZone, Utc};
use kefu_api::{ActiveCallView, LiveTelephony, RegistrationView};
use kefu_domain::{CallDirection, CallDisposition, HangupSide, TrunkId};
use kefu_store::{Backend, NewCallRecord};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A SIP engine that reports two registrations and one call, and counts configuration changes.
#[derive(Default)]
pub struct FakeEngine {
    pub changes: AtomicUsize,
}

impl LiveTelephony for FakeEngine {
    fn registrations(&self) -> Vec<RegistrationView> {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let reg = |ext: &str, ip: &str| RegistrationView {
            extension: ext.into(),
            contact: format!("sip:{ext}@{ip}:5062"),
            source: format!("{ip}:5062"),
            transport: "udp".into(),
            user_agent: Some("Yealink SIP-T46U".into()),
            registered_at: at,
            expires_at: at + TimeDelta::seconds(3600),
        };
        vec![reg("8101", "10.1.0.9"), reg("8001", "192.168.1.23")]
    }

    fn active_calls(&self) -> Vec<ActiveCallView> {
        vec![ActiveCallView {
            call_uuid: uuid::Uuid::nil(),
            direction: CallDirection::Inbound,
            caller: "13812345678".into(),
            callee: "96777".into(),
            state: "answered".into(),
            started_at: Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
            answered_at: Some(Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 4).unwrap()),
        }]
    }

    fn config_changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// The MD5 HA1 of `user:realm:password` (the hash itself is checked against RFC 2617's example in
/// kefu-api's unit tests; here what matters is which user, realm and password went in).
fn hex_md5(s: &str) -> String {
    let (user, rest) = s.split_once(':').unwrap();
    let (realm, password) = rest.split_once(':').unwrap();
    kefu_api::digest_secrets(user, realm, password).ha1_md5
}

/// Every audit entry's before and after values, as one text.
async fn audit_text(app: &TestApp) -> String {
    let page = kefu_store::PageRequest {
        page: 1,
        per_page: 200,
    };
    let mut out = String::new();
    let mut p = page;
    loop {
        let got = app
            .store
            .audit_entries(&kefu_store::AuditQuery::default(), p)
            .await
            .unwrap();
        for e in &got.items {
            out.push_str(&format!("{} {:?} {:?}\n", e.action, e.before, e.after));
        }
        if p.page * p.per_page >= got.total {
            return out;
        }
        p.page += 1;
    }
}

fn no_secret_keys(v: &Value) {
    let text = v.to_string();
    for key in ["\"password\"", "ha1", "\"inbound_password\""] {
        assert!(!text.contains(key), "{key} in {text}");
    }
}

#[tokio::test]
async fn demo_telephony_is_seeded_once() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let exts = app.get(&admin, "/api/v1/extensions").await;
    let numbers: Vec<&str> = exts
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["8001", "8002", "8101", "8102", "8103", "8104"]);
    let agent = app.get(&admin, "/api/v1/users?q=agent").await["items"][0].clone();
    assert_eq!(exts[0]["user_id"], agent["id"]);
    assert_eq!(exts[0]["display_name"], agent["display_name"]);
    assert!(exts[2]["user_id"].is_null() && exts[2]["unit_id"].is_string());
    // As the README's demo table lists them.
    let names: Vec<&str> = exts
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "王晓燕",
            "陈丽娟",
            "北仑分理处",
            "镇海分理处",
            "管网所",
            "抢修一班"
        ]
    );
    no_secret_keys(&exts);
    // The phones sign in with the demo password.
    let auth = app.store.extension_auth("8001").await.unwrap().unwrap();
    assert_eq!(auth.ha1_md5, hex_md5(&format!("8001:kefu:{PASSWORD}")));
    assert!(auth.enabled);

    let trunks = app.get(&admin, "/api/v1/trunks").await;
    assert_eq!(trunks.as_array().unwrap().len(), 1);
    assert_eq!(trunks[0]["name"], "本地测试中继");
    assert_eq!(trunks[0]["kind"], "pbx");
    assert_eq!(trunks[0]["allowed_sources"], json!(["127.0.0.1/32"]));
    let routes = app.get(&admin, "/api/v1/routes").await;
    assert_eq!(routes.as_array().unwrap().len(), 1);
    assert_eq!(routes[0]["number"], "96777");
    assert_eq!(routes[0]["target"], json!({"kind": "flow", "name": "main"}));
    let route = app.store.route_for_number("96777").await.unwrap().unwrap();
    assert_eq!(route.target.value(), "main");

    // Again: nothing doubles.
    let audit = app.audit_total().await;
    assert!(
        !kefu::seed::demo(&app.store, Utc::now().date_naive(), CUSTOMERS)
            .await
            .unwrap()
    );
    assert_eq!(app.audit_total().await, audit);
    assert_eq!(app.store.extensions().await.unwrap().len(), 6);
    app.stop().await;
}

#[tokio::test]
async fn extensions_are_managed_and_their_passwords_never_leave() {
    let app = TestApp::spawn().await;
    extensions_are_managed_and_their_passwords_never_leave_on(&app).await;
    app.stop().await;
}

pub(crate) async fn extensions_are_managed_and_their_passwords_never_leave_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let site = app.get(&admin, "/api/v1/users?q=site").await["items"][0].clone();
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/extensions",
            &json!({"number": "8003", "display_name": "俞国平", "user_id": site["id"], "password": "Phone-8003x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ext: Value = r.json().await.unwrap();
    no_secret_keys(&ext);
    assert_eq!(ext["number"], "8003");
    assert_eq!(ext["enabled"], true);
    assert_eq!(ext["user_id"], site["id"]);
    let id = ext["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/extensions/{id}");
    assert_eq!(app.get(&admin, &path).await, ext);
    let auth = app.store.extension_auth("8003").await.unwrap().unwrap();
    assert_eq!(auth.ha1_md5, hex_md5("8003:kefu:Phone-8003x"));

    // The supervisor reads, but may not write.
    let supervisor = app.login("supervisor").await;
    assert_eq!(app.get(&supervisor, &path).await, ext);
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &path,
            &json!({"enabled": false}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // Patch: a new number needs a new password; moving to a site drops the user.
    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"number": "8004"}))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["password"]);
    let unit = app.get(&admin, "/api/v1/units").await[0]["id"].clone();
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"number": "8004", "password": "Phone-8004x", "unit_id": unit, "enabled": false, "display_name": "值班电话"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &moved["number"],
            &moved["unit_id"],
            &moved["user_id"],
            &moved["enabled"]
        ),
        (&json!("8004"), &unit, &Value::Null, &json!(false))
    );
    let auth = app.store.extension_auth("8004").await.unwrap().unwrap();
    assert_eq!(auth.ha1_md5, hex_md5("8004:kefu:Phone-8004x"));
    assert!(!auth.enabled);
    assert!(app.store.extension_auth("8003").await.unwrap().is_none());

    let r = app
        .send(
            &admin,
            Method::POST,
            &format!("{path}/password"),
            &json!({"password": "Another-8004"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let auth = app.store.extension_auth("8004").await.unwrap().unwrap();
    assert_eq!(auth.ha1_md5, hex_md5("8004:kefu:Another-8004"));
    assert_eq!(auth.ha1_sha256.len(), 64, "SHA-256 HA1 for RFC 8760 phones");

    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .as_token(&admin, Method::GET, &path)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;

    let text = audit_text(app).await;
    for action in [
        "extension.create",
        "extension.update",
        "extension.password",
        "extension.delete",
    ] {
        assert!(text.contains(action), "{action} audited");
    }
    for secret in [
        "Phone-8003x",
        "Phone-8004x",
        "Another-8004",
        &auth.ha1_md5,
        &auth.ha1_sha256,
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}

#[tokio::test]
async fn trunk_passwords_are_write_only() {
    let app = TestApp::spawn().await;
    trunk_passwords_are_write_only_on(&app).await;
    app.stop().await;
}

pub(crate) async fn trunk_passwords_are_write_only_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let body = json!({
        "name": "电信 SIP 中继",
        "kind": "运营商",
        "allowed_sources": ["203.0.113.7", "10.20.0.0/16", "203.0.113.7/32"],
        "inbound_username": "ctc-in",
        "inbound_password": "Inbound-secret-1",
        "proxy": "SIP.Carrier.example",
        "username": "057496777",
        "password": "carrier-secret-77",
        "register": true,
        "register_expires": 600,
        "caller_id": "+8657496777",
        "max_channels": 30
    });
    let r = app
        .send(&admin, Method::POST, "/api/v1/trunks", &body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    no_secret_keys(&t);
    assert_eq!(t["kind"], "carrier");
    assert_eq!(t["transport"], "udp");
    assert_eq!(t["proxy"], "sip.carrier.example:5060");
    assert_eq!(
        t["allowed_sources"],
        json!(["203.0.113.7/32", "10.20.0.0/16"])
    );
    assert_eq!(
        (&t["has_password"], &t["has_inbound_password"]),
        (&json!(true), &json!(true))
    );
    let id = t["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/trunks/{id}");
    assert_eq!(app.get(&admin, &path).await, t);
    let runtime = app.store.trunks_for_runtime().await.unwrap();
    let c = runtime.iter().find(|c| c.id.0.to_string() == id).unwrap();
    assert_eq!(c.password.as_deref(), Some("carrier-secret-77"));
    assert_eq!(
        c.inbound_ha1_md5.as_deref(),
        Some(hex_md5("ctc-in:kefu:Inbound-secret-1").as_str())
    );

    let r = app
        .send(&admin, Method::POST, "/api/v1/trunks", &body)
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // Registration needs the password: clearing it alone is refused, with register off it is fine.
    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"password": null}))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["password"]);
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"password": null, "register": false, "inbound_username": null, "transport": "tcp", "max_channels": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &t["has_password"],
            &t["has_inbound_password"],
            &t["inbound_username"]
        ),
        (&json!(false), &json!(false), &Value::Null)
    );
    assert_eq!(t["transport"], "tcp");
    assert_eq!(t["max_channels"], Value::Null);
    assert_eq!(t["username"], "057496777", "kept");
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"password": "rotated-secret", "inbound_password": "Inbound-secret-2"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["inbound_username"]);
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"password": "rotated-secret", "inbound_username": "ctc-in2", "inbound_password": "Inbound-secret-2"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c = app.store.trunks_for_runtime().await.unwrap();
    let c = c.iter().find(|c| c.id.0.to_string() == id).unwrap();
    assert_eq!(c.password.as_deref(), Some("rotated-secret"));
    assert_eq!(c.inbound_username.as_deref(), Some("ctc-in2"));

    // A route that names the trunk keeps it.
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/routes",
            &json!({"number": "057496778", "target": {"kind": "queue", "name": "billing"}, "trunk_id": id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let route: Value = r.json().await.unwrap();
    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .as_token(
            &admin,
            Method::DELETE,
            &format!("/api/v1/routes/{}", route["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .as_token(&admin, Method::GET, &path)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;

    let text = audit_text(app).await;
    for action in ["trunk.create", "trunk.update", "trunk.delete"] {
        assert!(text.contains(action), "{action} audited");
    }
    for secret in [
        "carrier-secret-77",
        "rotated-secret",
        "Inbound-secret",
        &hex_md5("ctc-in:kefu:Inbound-secret-1"),
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}

#[tokio::test]
async fn routes_send_called_numbers_to_flows_queues_extensions_and_prompts() {
    let app = TestApp::spawn().await;
    routes_send_called_numbers_on(&app).await;
    app.stop().await;
}

pub(crate) async fn routes_send_called_numbers_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let trunk = app.get(&admin, "/api/v1/trunks").await[0]["id"].clone();
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/routes",
            &json!({"number": "057486001101", "target": {"kind": "extension", "number": "8101"}, "trunk_id": trunk, "description": "北仑直线"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let route: Value = r.json().await.unwrap();
    assert_eq!(
        route["target"],
        json!({"kind": "extension", "number": "8101"})
    );
    assert_eq!(route["trunk_id"], trunk);
    let path = format!("/api/v1/routes/{}", route["id"].as_str().unwrap());
    assert_eq!(app.get(&admin, &path).await, route);
    let supervisor = app.login("supervisor").await;
    assert_eq!(app.get(&supervisor, &path).await, route);

    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"target": {"kind": "prompt", "name": "after-hours"}, "trunk_id": null, "description": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        changed["target"],
        json!({"kind": "prompt", "name": "after-hours"})
    );
    assert_eq!(
        (&changed["trunk_id"], &changed["description"]),
        (&Value::Null, &Value::Null)
    );
    let found = app
        .store
        .route_for_number("057486001101")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.target.kind(), "prompt");
    assert_eq!(found.trunk_id, None);

    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"number": "96777"}))
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        app.store
            .route_for_number("057486001101")
            .await
            .unwrap()
            .is_none()
    );
    let text = audit_text(app).await;
    for action in ["route.create", "route.update", "route.delete"] {
        assert!(text.contains(action), "{action} audited");
    }
}

fn leg(caller: &str, callee: &str, minute: u32, answered: bool) -> NewCallRecord {
    let start = Utc.with_ymd_and_hms(2026, 11, 26, 9, minute, 0).unwrap();
    NewCallRecord {
        call_id: format!("leg-{minute}@127.0.0.1"),
        call_uuid: uuid::Uuid::now_v7(),
        direction: CallDirection::Inbound,
        caller: caller.into(),
        callee: callee.into(),
        trunk_id: None,
        extension: answered.then(|| "8001".to_string()),
        started_at: start,
        answered_at: answered.then(|| start + TimeDelta::seconds(3)),
        ended_at: start + TimeDelta::seconds(93),
        disposition: if answered {
            CallDisposition::Answered
        } else {
            CallDisposition::Busy
        },
        hangup_cause: if answered {
            "normal_clearing"
        } else {
            "user_busy"
        }
        .into(),
        sip_status: (!answered).then_some(486),
        hangup_side: HangupSide::Callee,
        recording_path: None,
    }
}

#[tokio::test]
async fn call_records_are_listed_filtered_and_read() {
    let app = TestApp::spawn().await;
    call_records_are_listed_filtered_and_read_on(&app).await;
    app.stop().await;
}

pub(crate) async fn call_records_are_listed_filtered_and_read_on(app: &TestApp) {
    let trunk = TrunkId(uuid::Uuid::now_v7());
    let audit = app.audit_total().await;
    let first = app
        .store
        .insert_call_record(&leg("13812345678", "96777", 1, true))
        .await
        .unwrap();
    let mut busy = leg("13812345678", "96777", 2, false);
    busy.trunk_id = Some(trunk);
    app.store.insert_call_record(&busy).await.unwrap();
    let mut out = leg("8001", "057487654321", 3, true);
    out.direction = CallDirection::Outbound;
    let out_uuid = out.call_uuid;
    app.store.insert_call_record(&out).await.unwrap();
    assert_eq!(
        app.audit_total().await,
        audit,
        "call records are not audited"
    );

    // Agents read call records; site staff do not.
    let agent = app.login("agent").await;
    let all = app.get(&agent, "/api/v1/calls").await;
    assert_eq!(all["total"], 3);
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["leg-3@127.0.0.1", "leg-2@127.0.0.1", "leg-1@127.0.0.1"],
        "newest first"
    );
    let site = app.login("site").await;
    let r = app
        .as_token(&site, Method::GET, "/api/v1/calls")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;

    let one = app.get(&agent, &format!("/api/v1/calls/{first}")).await;
    assert_eq!(one["call_id"], "leg-1@127.0.0.1");
    assert_eq!(one["direction"], "inbound");
    assert_eq!(one["disposition"], "answered");
    assert_eq!(one["hangup_side"], "callee");
    assert_eq!(one["hangup_cause"], "normal_clearing");
    assert_eq!(
        (&one["duration_ms"], &one["billable_ms"]),
        (&json!(93_000), &json!(90_000))
    );
    assert_eq!(one["extension"], "8001");
    assert_eq!(one["started_at"], "2026-11-26T09:01:00Z");

    for (query, total) in [
        ("caller=13812345678", 2),
        ("callee=96777&disposition=busy", 1),
        ("number=057487654321", 1),
        ("number=8001", 1),
        ("direction=outbound", 1),
        ("direction=呼入", 2),
        (&format!("trunk_id={}", trunk.0), 1),
        (&format!("call_uuid={out_uuid}"), 1),
        ("from=2026-11-26T09:02:00Z&to=2026-11-26T09:03:00Z", 1),
        ("from=2026-11-26&to=2026-11-26", 3),
        ("from=2026-11-27", 0),
        ("per_page=2&page=2", 3),
    ] {
        let page = app.get(&agent, &format!("/api/v1/calls?{query}")).await;
        assert_eq!(page["total"], total, "{query}: {page}");
    }
    let page = app.get(&agent, "/api/v1/calls?per_page=2&page=2").await;
    assert_eq!(page["items"][0]["call_id"], "leg-1@127.0.0.1");
    let r = app
        .as_token(
            &agent,
            Method::GET,
            &format!("/api/v1/calls/{}", uuid::Uuid::now_v7()),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn live_views_need_a_running_engine() {
    let app = TestApp::spawn().await;
    let supervisor = app.login("supervisor").await;
    for path in ["/api/v1/registrations", "/api/v1/calls/active"] {
        let r = app
            .as_token(&supervisor, Method::GET, path)
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(p["type"], "https://kefu.dev/problems/unavailable", "{path}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("telephony not running"),
            "{p}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn live_views_come_from_the_engine_and_writes_tell_it() {
    let fake = Arc::new(FakeEngine::default());
    let app = TestApp::spawn_full(
        Backend::Sqlite,
        kefu_api::Settings::default(),
        Some(fake.clone()),
    )
    .await;
    let supervisor = app.login("supervisor").await;
    let regs = app.get(&supervisor, "/api/v1/registrations").await;
    assert_eq!(regs.as_array().unwrap().len(), 2);
    assert_eq!(regs[0]["extension"], "8001", "by extension");
    assert_eq!(regs[0]["source"], "192.168.1.23:5062");
    assert_eq!(regs[0]["transport"], "udp");
    assert_eq!(regs[0]["user_agent"], "Yealink SIP-T46U");
    assert_eq!(regs[0]["expires_at"], "2026-11-26T09:00:00Z");
    let calls = app.get(&supervisor, "/api/v1/calls/active").await;
    assert_eq!(calls[0]["direction"], "inbound");
    assert_eq!(calls[0]["callee"], "96777");
    assert_eq!(calls[0]["state"], "answered");
    assert_eq!(calls[0]["call_uuid"], uuid::Uuid::nil().to_string());
    let agent = app.login("agent").await;
    let r = app
        .as_token(&agent, Method::GET, "/api/v1/registrations")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;

    // Each successful configuration write tells the engine; a refused one does not.
    let admin = app.login("admin").await;
    assert_eq!(fake.changes.load(Ordering::SeqCst), 0);
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/routes",
            &json!({"number": "96778", "target": {"kind": "flow", "name": "main"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/routes",
            &json!({"number": "96778", "target": {"kind": "flow", "name": "main"}}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let trunk = app.get(&admin, "/api/v1/trunks").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/trunks/{trunk}"),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(fake.changes.load(Ordering::SeqCst), 2);
    app.stop().await;
}
