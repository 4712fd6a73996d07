//! The SIP engine wired to the store and the API as `kefu serve` wires it: a call to the demo service
//! number 96777 (SIPp through the demo's trusted loopback trunk) shows in /calls/active while it lasts and
//! as a call record in /calls afterwards.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

fn sipp(args: &[&str]) -> std::process::Child {
    std::process::Command::new("sipp")
        .args(args)
        .args([
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
            "-m",
            "1",
            "-timeout",
            "30s",
            "-timeout_error",
        ])
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) is installed by the test command")
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app
        .anon(Method::GET, path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_the_demo_number_shows_live_and_then_as_a_call_record() {
    let app = TestApp::spawn().await;
    let mut cfg = kefu_telephony::TelephonyConfig::new("127.0.0.1:0".parse().unwrap());
    let base = 42000 + (std::process::id() % 50) as u16 * 20;
    cfg.rtp_ports = (base, base + 19);
    cfg.prompts_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts");
    let directory = Arc::new(kefu::telephony::StoreDirectory {
        store: app.store.clone(),
    });
    let t = kefu_telephony::Telephony::start(cfg, directory)
        .await
        .unwrap();
    app.state
        .set_telephony(Arc::new(kefu::telephony::LiveEngine(t.clone())));
    tokio::spawn(kefu_telephony::entry::serve(
        t.clone(),
        t.incoming().unwrap(),
        Default::default(),
    ));
    let sip = t.local_addr().to_string();
    let token = app.login("supervisor").await;

    // The built-in SIPp caller hangs up after 3 s, while the greeting plays.
    let mut caller = sipp(&["-sn", "uac", "-s", "96777", "-d", "3000", &sip]);
    let mut live = Value::Null;
    for _ in 0..100 {
        live = get(&app, &token, "/api/v1/calls/active").await;
        if live.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(live[0]["callee"], "96777", "{live}");
    assert_eq!(live[0]["direction"], "inbound");
    let status = tokio::task::spawn_blocking(move || caller.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "SIPp's call succeeded");

    let mut calls = Value::Null;
    for _ in 0..100 {
        calls = get(&app, &token, "/api/v1/calls").await;
        if calls["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = &calls["items"][0];
    assert_eq!(r["callee"], "96777", "{calls}");
    assert_eq!(r["disposition"], "answered");
    assert_eq!(r["hangup_side"], "caller");
    assert!(
        r["trunk_id"].is_string(),
        "came in over the demo trunk: {r}"
    );
    assert!(r["billable_ms"].as_i64().unwrap() >= 2500, "{r}");
    assert_eq!(
        get(&app, &token, "/api/v1/calls/active").await,
        serde_json::json!([])
    );
    assert_eq!(t.stats().rtp_ports_in_use, 0);
    t.shutdown().await;
}
