//! The ACD's call paths end to end with real SIP peers, beyond acd_calls.rs: the desktop's answer
//! button, consultative and blind transfers (to an agent, to a queue), a supervisor whispering and
//! barging in, webhooks reaching a real HTTP receiver, queue overflow (to another queue, to a
//! callback), business hours, and a restart with agents in every state.
//!
//! Every party that must be *heard* is a baresip phone "speaking" a sine of its own frequency and
//! recording what it receives, so each ear is checked for each mouth: the caller 1 kHz, the first
//! agent 1.5 kHz, the second agent or the supervisor 2 kHz. SIPp plays the phones whose SIP matters
//! more than their audio. Everything is on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acd_calls::{
    Acd, cti, my_agent_id, post_ok, route_to_queue, start_acd, start_acd_on, until, until_legs,
    until_state,
};
use crate::helpers::{PASSWORD, TestApp};
use crate::ivr_calls::{
    SIPP_MEDIA, Step, answering_phone, call, free_udp_port, prompt_ms, register, trace_of, visit,
};
use crate::phones::{Baresip, BaresipOptions, read_wav, wav_has_tone, write_tone_wav, write_wav};

/// What each party says.
const CALLER_HZ: f64 = 1000.0;
const AGENT_HZ: f64 = 1500.0;
const OTHER_HZ: f64 = 2000.0;
/// SIPp's `tone_pcma_1khz.pcap`.
const PCAP_HZ: f64 = 1000.0;

/// The number routed straight to a queue in these tests.
const SERVICE: &str = "96778";

// ---- phones ----

/// A baresip phone saying a sine of `hz` (None: silence). Registered with kefu at `registrar` as
/// extension `user` (the demo password), or not registered: a caller from outside, through the
/// demo's loopback trunk.
fn phone(registrar: Option<&str>, user: &str, hz: Option<f64>, auto_answer: bool) -> Baresip {
    let dir = tempfile::tempdir().unwrap();
    let audio_in = match hz {
        Some(hz) => {
            let p = dir.path().join("voice.wav");
            write_tone_wav(&p, hz, 2.0);
            p
        }
        None => PathBuf::new(),
    };
    let b = Baresip::start(BaresipOptions {
        registrar: registrar.map(|r| r.parse().unwrap()),
        user: user.to_string(),
        password: kefu_demo::DEMO_PASSWORD.to_string(),
        audio_in,
        auto_answer,
    })
    .expect("baresip (Debian package baresip-core) is installed by the test command");
    if registrar.is_some() {
        assert!(
            b.wait_registered(Duration::from_secs(10)),
            "baresip {user} registered: {}",
            b.log()
        );
    }
    b
}

/// An agent's (or supervisor's) desk phone: extension `ext`, answering at once, saying `hz`.
fn desk_phone(acd: &Acd, ext: &str, hz: f64) -> Baresip {
    phone(Some(&acd.sip), ext, Some(hz), true)
}

/// A customer calling `number` from `from` (its caller ID), saying `hz`.
fn customer(acd: &Acd, number: &str, from: &str, hz: Option<f64>) -> Baresip {
    let b = phone(None, from, hz, false);
    b.dial(&format!("sip:{number}@{}", acd.sip));
    b
}

/// How many samples `phone` has received in its latest call so far.
fn heard_so_far(phone: &Baresip) -> usize {
    read_wav(&phone.recording())
        .map(|w| w.samples.len())
        .unwrap_or(0)
}

/// Whether `phone` heard a sine of `hz` in its latest call after its first `from` samples.
fn heard_since(phone: &Baresip, hz: f64, from: usize) -> bool {
    let Ok(w) = read_wav(&phone.recording()) else {
        return false;
    };
    let rest = &w.samples[from.min(w.samples.len())..];
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("since.wav");
    write_wav(&cut, w.rate, rest).unwrap();
    wav_has_tone(&cut, hz)
}

/// Waits (up to 15 s) until `phone` has heard `hz` after its first `from` samples.
async fn hears(phone: &Baresip, hz: f64, from: usize) -> bool {
    for _ in 0..30 {
        if heard_since(phone, hz, from) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// A SIPp phone on 127.0.0.1:`port` playing `fixtures/<scenario>` for `calls` calls (with SIPp's
/// 1 kHz pcap next to it). The directory must live as long as the phone.
fn sipp_phone(scenario: &str, port: u16, calls: u32) -> (std::process::Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures");
    std::fs::copy(fixtures.join(scenario), dir.path().join(scenario)).unwrap();
    std::fs::copy(
        Path::new(SIPP_MEDIA).join("tone_pcma_1khz.pcap"),
        dir.path().join("tone_pcma_1khz.pcap"),
    )
    .unwrap();
    let child = std::process::Command::new("sipp")
        .args([
            "-sf",
            scenario,
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-mp",
            &free_udp_port().to_string(),
            "-m",
            &calls.to_string(),
            "-nostdin",
            "-timeout",
            "90s",
            "-timeout_error",
            "-trace_err",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) is installed by the test command");
    (child, dir)
}

/// Waits (up to 30 s) for a SIPp process to end; whether all its calls succeeded.
async fn sipp_succeeded(child: &mut std::process::Child, dir: &Path) -> bool {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            if !status.success() {
                for e in std::fs::read_dir(dir).unwrap().flatten() {
                    if e.file_name().to_string_lossy().contains("error") {
                        eprintln!(
                            "SIPp errors: {}",
                            std::fs::read_to_string(e.path()).unwrap_or_default()
                        );
                    }
                }
            }
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    false
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---- API ----

/// The agent `id` as the agents list shows it (its live `state`).
async fn agent_view(app: &TestApp, admin: &str, id: &str) -> Value {
    let list = app.get(admin, "/api/v1/agents").await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("agent {id} in {list}"))
}

async fn state_of(app: &TestApp, admin: &str, id: &str) -> Value {
    agent_view(app, admin, id).await["state"].clone()
}

/// Changes queue `key`'s settings (as an administrator).
async fn patch_queue(app: &TestApp, admin: &str, key: &str, changes: Value) {
    let queues = app.get(admin, "/api/v1/queues").await;
    let id = queues
        .as_array()
        .or_else(|| queues["items"].as_array())
        .unwrap()
        .iter()
        .find(|q| q["key"] == key)
        .unwrap_or_else(|| panic!("queue {key}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .send(
            admin,
            Method::PATCH,
            &format!("/api/v1/queues/{id}"),
            &changes,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The queue-call rows of `call`, oldest first.
async fn queue_calls_of(app: &TestApp, call: &str) -> Vec<kefu_store::QueueCallRow> {
    let now = Utc::now();
    app.store
        .queue_calls_between(now - chrono::TimeDelta::hours(1), now, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.call_id.to_string() == call)
        .collect()
}

/// The callees of the call records of `call`, in the order their legs started, once (within 10 s)
/// they include `wanted` (a record is written just after its leg ends).
async fn legs_called(app: &TestApp, admin: &str, call: &str, wanted: &[&str]) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let cdrs = app
            .get(admin, &format!("/api/v1/calls?call_uuid={call}"))
            .await;
        let mut legs: Vec<(String, String)> = cdrs["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["started_at"].as_str().unwrap().to_string(),
                    c["callee"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        legs.sort();
        let legs: Vec<String> = legs.into_iter().map(|(_, callee)| callee).collect();
        let complete = wanted.iter().all(|w| {
            legs.iter().filter(|l| l == w).count() >= wanted.iter().filter(|x| *x == w).count()
        });
        if complete || tokio::time::Instant::now() >= deadline {
            return legs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The states `id` went through, oldest first.
async fn state_log(app: &TestApp, admin: &str, id: &str) -> Vec<Value> {
    let log = app
        .get(admin, &format!("/api/v1/agents/{id}/state-log"))
        .await;
    log["log"].as_array().unwrap().clone()
}

fn path(call: &str, action: &str) -> String {
    format!("/api/v1/agent-calls/{call}/{action}")
}

/// Whether a `state` event with `state` is among `events`.
fn went(events: &[Value], state: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "state" && e["state"]["state"] == state)
}

// ---- tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_button_makes_a_phone_that_only_rings_answer_and_the_caller_hears_the_agent() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let id = my_agent_id(&app, &agent).await;
    let me = app.get(&agent, "/api/v1/agents/me").await;
    assert_eq!(
        me["auto_answer"], false,
        "the demo agent answers by hand: {me}"
    );
    // The desk phone rings on a plain INVITE and answers only when asked to (Call-Info
    // answer-after=0); then it says 1 kHz.
    let port = free_udp_port();
    register(&acd.sip, "8001", port).await;
    let (mut desk, desk_dir) = sipp_phone("agent_phone_answer_button.xml", port, 2);
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let caller = customer(&acd, SERVICE, "13900006666", None);
    let (offer, _) = until(&mut ws, "offering").await;
    let call_id = offer["call_id"].as_str().unwrap().to_string();
    // Nobody lifts the handset: it rings.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["state"], "ringing", "{calls}");
    assert_eq!(state_of(&app, &admin, &id).await["state"], "reserved");
    // The answer button.
    post_ok(&app, &agent, &path(&call_id, "answer"), json!({})).await;
    let (answered, before) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], call_id.as_str());
    assert!(
        !before.iter().any(|e| e["type"] == "missed"),
        "the first ring stopped for the answer is no miss: {before:?}"
    );
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["state"], "talking", "{calls}");
    assert_eq!(state_of(&app, &admin, &id).await["state"], "on_call");
    assert!(
        hears(&caller, PCAP_HZ, 0).await,
        "the caller heard the agent: {}",
        caller.log()
    );
    caller.hangup();
    until_state(&mut ws, "wrap_up").await;
    assert!(
        sipp_succeeded(&mut desk, desk_dir.path()).await,
        "the phone rang once without answering, then answered the auto-answer INVITE"
    );
    let log = state_log(&app, &admin, &id).await;
    let states: Vec<&str> = log.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(
        states.iter().filter(|s| **s == "reserved").count(),
        1,
        "{states:?}"
    );
    assert!(states.contains(&"on_call"), "{states:?}");
    assert!(
        !log.iter().any(|r| r["reason"] == "missed"),
        "no miss: {log:?}"
    );
    acd.settle().await;
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_completed_leaves_the_caller_talking_with_the_consulted_agent() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let agent_id = my_agent_id(&app, &agent).await;
    let second_id = my_agent_id(&app, &supervisor).await;
    let agent_phone = desk_phone(&acd, "8001", AGENT_HZ);
    let second_phone = desk_phone(&acd, "8002", OTHER_HZ);
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    // The second agent is ready in another queue: it is there to be consulted.
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["complaints"]}),
    )
    .await;
    let caller = customer(&acd, SERVICE, "13900007777", Some(CALLER_HZ));
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    assert!(
        hears(&agent_phone, CALLER_HZ, 0).await,
        "the agent heard the caller"
    );
    post_ok(
        &app,
        &agent,
        &path(&id, "transfer"),
        json!({"to": {"kind": "agent", "target": second_id}, "mode": "consult"}),
    )
    .await;
    let (consulted, _) = until(&mut ws, "consult_answered").await;
    assert_eq!(consulted["target_agent"], second_id.as_str(), "{consulted}");
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["state"], "consulting", "{calls}");
    // The agents talk; the caller waits on hold, unheard by the consulted agent.
    assert!(
        hears(&second_phone, AGENT_HZ, 0).await,
        "the consulted agent heard the agent"
    );
    assert!(
        !heard_since(&second_phone, CALLER_HZ, 0),
        "the consulted agent did not hear the caller during the consultation"
    );
    let caller_mark = heard_so_far(&caller);
    let second_mark = heard_so_far(&second_phone);
    post_ok(&app, &agent, &path(&id, "transfer-complete"), json!({})).await;
    let (transferred, before) = until(&mut ws, "transferred").await;
    assert_eq!(transferred["call_id"], id.as_str());
    assert_eq!(transferred["consult"], true, "{transferred}");
    if !went(&before, "wrap_up") {
        until_state(&mut ws, "wrap_up").await;
    }
    // The caller and the consulted agent talk; the first agent is gone.
    assert!(
        hears(&caller, OTHER_HZ, caller_mark).await,
        "the caller heard the consulted agent: {}",
        caller.log()
    );
    assert!(
        hears(&second_phone, CALLER_HZ, second_mark).await,
        "the consulted agent heard the caller"
    );
    let tail = heard_so_far(&caller);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !heard_since(&caller, AGENT_HZ, tail),
        "the first agent left the conversation"
    );
    assert_eq!(state_of(&app, &admin, &agent_id).await["state"], "wrap_up");
    caller.hangup();
    acd.settle().await;
    let legs = legs_called(&app, &admin, &id, &["8001", "8002"]).await;
    assert!(
        legs.iter().any(|l| l == "8001") && legs.iter().any(|l| l == "8002"),
        "{legs:?}"
    );
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].agent_id.map(|a| a.to_string()), Some(agent_id));
    assert_eq!(rows[0].outcome, "answered");
    drop((agent_phone, second_phone));
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfers_to_a_queue_and_to_an_agent_reach_that_queues_agent_and_that_agent() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let agent_id = my_agent_id(&app, &agent).await;
    let second_id = my_agent_id(&app, &supervisor).await;
    let agent_phone = desk_phone(&acd, "8001", AGENT_HZ);
    let second_phone = desk_phone(&acd, "8002", OTHER_HZ);
    let mut ws = cti(&app, &agent).await;
    let mut second_ws = cti(&app, &supervisor).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["complaints"]}),
    )
    .await;
    let caller = customer(&acd, SERVICE, "13900008888", Some(CALLER_HZ));
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    // To the complaints queue: the caller waits there and is offered to its agent.
    post_ok(
        &app,
        &agent,
        &path(&id, "transfer"),
        json!({"to": {"kind": "queue", "target": "complaints"}, "mode": "blind"}),
    )
    .await;
    let (_, before) = until(&mut ws, "transferred").await;
    if !went(&before, "wrap_up") {
        until_state(&mut ws, "wrap_up").await;
    }
    let (offer, _) = until(&mut second_ws, "offering").await;
    assert_eq!(offer["call_id"], id.as_str(), "{offer}");
    assert_eq!(offer["queue"], "complaints");
    assert_eq!(offer["caller"], "13900008888");
    let (answered, _) = until(&mut second_ws, "answered").await;
    assert_eq!(answered["call_id"], id.as_str());
    assert!(
        hears(&second_phone, CALLER_HZ, 0).await,
        "the complaints agent heard the caller"
    );
    let caller_mark = heard_so_far(&caller);
    assert!(
        hears(&caller, OTHER_HZ, caller_mark).await,
        "the caller heard the complaints agent"
    );
    // The first agent ends its wrap-up early; the complaints agent hands the caller to it.
    let s = post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "ready"}),
    )
    .await;
    assert_eq!(s["state"], "ready", "{s}");
    post_ok(
        &app,
        &supervisor,
        &path(&id, "transfer"),
        json!({"to": {"kind": "agent", "target": agent_id}, "mode": "blind"}),
    )
    .await;
    let (_, before) = until(&mut second_ws, "transferred").await;
    if !went(&before, "wrap_up") {
        until_state(&mut second_ws, "wrap_up").await;
    }
    let (answered, before) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], id.as_str(), "{answered}");
    assert_eq!(answered["transferred"], true, "{answered}");
    assert!(went(&before, "on_call"), "{before:?}");
    let calls = app.get(&agent, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["id"], id.as_str(), "{calls}");
    assert_eq!(calls[0]["state"], "talking", "{calls}");
    let caller_mark = heard_so_far(&caller);
    assert!(
        hears(&agent_phone, CALLER_HZ, 0).await,
        "the agent heard the caller on the transferred call"
    );
    assert!(
        hears(&caller, AGENT_HZ, caller_mark).await,
        "the caller heard the agent again"
    );
    caller.hangup();
    let (ended, _) = until(&mut ws, "ended").await;
    assert_eq!(ended["call_id"], id.as_str());
    // Released. (A call handed over directly is no queue's: its end has no wrap-up, see the report.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = state_of(&app, &admin, &agent_id).await;
        if s["state"] != "on_call" {
            assert!(
                ["wrap_up", "ready"].contains(&s["state"].as_str().unwrap()),
                "{s}"
            );
            assert!(s["call_id"].is_null() || s["state"] == "wrap_up", "{s}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    acd.settle().await;
    let rows = queue_calls_of(&app, &id).await;
    let summary: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.queue.clone(),
                r.outcome.clone(),
                r.agent_id.map(|a| a.to_string()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "general".to_string(),
                "answered".to_string(),
                Some(agent_id.clone())
            ),
            (
                "complaints".to_string(),
                "answered".to_string(),
                Some(second_id)
            ),
        ],
        "{rows:?}"
    );
    let legs = legs_called(&app, &admin, &id, &["8001", "8001"]).await;
    assert_eq!(
        legs.iter().filter(|l| *l == "8001").count(),
        2,
        "the agent's phone rang twice: {legs:?}"
    );
    drop((agent_phone, second_phone));
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whispering_supervisor_is_heard_by_the_agent_only_and_barging_in_by_both() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let agent_phone = desk_phone(&acd, "8001", AGENT_HZ);
    // The supervisor listens from its own extension (its agent profile's), not logged in.
    let supervisor_phone = desk_phone(&acd, "8002", OTHER_HZ);
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let caller = customer(&acd, SERVICE, "13900005656", Some(CALLER_HZ));
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    until_legs(&acd, &id, 2).await;
    assert!(
        hears(&caller, AGENT_HZ, 0).await,
        "the caller heard the agent"
    );
    // Whisper: a third leg; the agent hears the supervisor, the caller does not.
    post_ok(&app, &supervisor, &path(&id, "whisper"), json!({})).await;
    until_legs(&acd, &id, 3).await;
    assert!(
        supervisor_phone.wait_established(Duration::from_secs(10)),
        "{}",
        supervisor_phone.log()
    );
    let agent_mark = heard_so_far(&agent_phone);
    let caller_mark = heard_so_far(&caller);
    assert!(
        hears(&agent_phone, OTHER_HZ, agent_mark).await,
        "the agent heard the whispering supervisor"
    );
    assert!(
        hears(&caller, AGENT_HZ, caller_mark).await,
        "the caller still heard the agent meanwhile"
    );
    assert!(
        !heard_since(&caller, OTHER_HZ, caller_mark),
        "the caller did not hear the whispering supervisor"
    );
    assert!(
        hears(&supervisor_phone, CALLER_HZ, 0).await,
        "the supervisor heard the caller"
    );
    // Barge: the supervisor hangs up and barges in; now both hear it.
    supervisor_phone.hangup();
    until_legs(&acd, &id, 2).await;
    post_ok(&app, &supervisor, &path(&id, "barge"), json!({})).await;
    until_legs(&acd, &id, 3).await;
    let agent_mark = heard_so_far(&agent_phone);
    let caller_mark = heard_so_far(&caller);
    assert!(
        hears(&caller, OTHER_HZ, caller_mark).await,
        "the caller heard the barging supervisor"
    );
    assert!(
        hears(&agent_phone, OTHER_HZ, agent_mark).await,
        "the agent heard the barging supervisor"
    );
    caller.hangup();
    until_state(&mut ws, "wrap_up").await;
    until_legs(&acd, &id, 0).await;
    drop((agent_phone, supervisor_phone));
    acd.settle().await;
    acd.telephony.shutdown().await;
}

/// What the webhook receiver got: headers, body, and the status it answered.
type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes, u16)>>>;

/// The receiver: the first request is answered 500 (so it must come again), the others 200.
async fn hook(
    axum::extract::State(got): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut got = got.lock().unwrap();
    let status = if got.is_empty() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    got.push((headers, body, status.as_u16()));
    status
}

fn hmac_sha256_hex(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_a_real_receiver_signed_and_a_failed_delivery_comes_again() {
    const SECRET: &str = "hook-secret-2026";
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let got: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/kefu-events", listener.local_addr().unwrap());
    let receiver = tokio::spawn({
        let app = axum::Router::new()
            .route("/kefu-events", axum::routing::post(hook))
            .with_state(got.clone());
        async move { axum::serve(listener, app).await.unwrap() }
    });
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/webhooks",
            &json!({"url": url, "secret": SECRET, "events": ["offering", "answered", "ended"]}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    // kefu serve's delivery loop, every 200 ms.
    let delivery = tokio::spawn(kefu::webhooks::deliver_forever(
        app.store.clone(),
        Duration::from_millis(200),
    ));
    // A call: the agent's phone answers and hangs up after 1.5 s.
    let port = free_udp_port();
    register(&acd.sip, "8001", port).await;
    let desk = answering_phone(port, 1500);
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
        call(
            &sip,
            SERVICE,
            "13900009999",
            &[Step::Pause(500), Step::AwaitBye],
        )
        .await
    });
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    until(&mut ws, "ended").await;
    assert!(caller.await.unwrap(), "the caller's call succeeded");
    // Offering, answered and ended arrive, each answered 200 at last (the first one after a retry:
    // the backoff is 10 s).
    let delivered = |got: &Received| -> Vec<String> {
        got.lock()
            .unwrap()
            .iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(h, _, _)| h["x-kefu-event"].to_str().unwrap().to_string())
            .collect()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let d = delivered(&got);
        if ["offering", "answered", "ended"]
            .iter()
            .all(|e| d.iter().any(|x| x == e))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivered so far: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = got.lock().unwrap().clone();
    for (headers, body, _) in &got {
        let signature = headers["x-kefu-signature"].to_str().unwrap();
        assert_eq!(
            signature,
            format!("sha256={}", hmac_sha256_hex(SECRET, body)),
            "signed with the webhook's secret"
        );
        assert_ne!(
            signature,
            format!("sha256={}", hmac_sha256_hex("another-secret", body))
        );
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            event["type"],
            headers["x-kefu-event"].to_str().unwrap(),
            "{event}"
        );
        assert!(
            ["offering", "answered", "ended"].contains(&event["type"].as_str().unwrap()),
            "only the events asked for: {event}"
        );
        assert_eq!(event["call_id"], id.as_str(), "{event}");
        assert_eq!(headers["content-type"], "application/json");
    }
    // The refused delivery came again: the same delivery id and body, then answered 200.
    let (first_headers, first_body, first_status) = &got[0];
    assert_eq!(*first_status, 500);
    let first_id = first_headers["x-kefu-delivery"].to_str().unwrap();
    let again: Vec<_> = got[1..]
        .iter()
        .filter(|(h, _, _)| h["x-kefu-delivery"] == first_id)
        .collect();
    assert_eq!(again.len(), 1, "retried once");
    assert_eq!(again[0].1, *first_body);
    assert_eq!(again[0].2, 200);
    delivery.abort();
    receiver.abort();
    stop(desk);
    acd.settle().await;
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_waiting_too_long_overflows_to_another_queue_whose_agent_answers() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let supervisor = app.login("supervisor").await;
    let second_id = my_agent_id(&app, &supervisor).await;
    route_to_queue(&app, &admin, "96779", "billing").await;
    // Nobody serves billing; after 10 s (the shortest maximum wait) its callers go to complaints.
    patch_queue(
        &app,
        &admin,
        "billing",
        json!({"max_wait_secs": 10, "overflow": {"action": "queue", "queue": "complaints"}}),
    )
    .await;
    let port = free_udp_port();
    register(&acd.sip, "8002", port).await;
    let desk = answering_phone(port, 30_000);
    let mut ws = cti(&app, &supervisor).await;
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["complaints"]}),
    )
    .await;
    let sip = acd.sip.clone();
    let started = tokio::time::Instant::now();
    let caller = tokio::spawn(async move {
        call(
            &sip,
            "96779",
            "13900001212",
            &[Step::Pause(16_000), Step::Bye],
        )
        .await
    });
    let (offer, _) = until(&mut ws, "offering").await;
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "offered only after billing's maximum wait: {:?}",
        started.elapsed()
    );
    assert_eq!(offer["queue"], "complaints", "{offer}");
    assert_eq!(offer["caller"], "13900001212");
    let id = offer["call_id"].as_str().unwrap().to_string();
    let (answered, _) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], id.as_str());
    assert!(caller.await.unwrap(), "the caller's call succeeded");
    until_state(&mut ws, "wrap_up").await;
    stop(desk);
    acd.settle().await;
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (
            rows[0].queue.as_str(),
            rows[0].outcome.as_str(),
            rows[0].overflow_to.as_deref()
        ),
        ("billing", "overflowed", Some("complaints")),
        "{rows:?}"
    );
    assert_eq!(
        (rows[1].queue.as_str(), rows[1].outcome.as_str()),
        ("complaints", "answered"),
        "{rows:?}"
    );
    assert_eq!(rows[1].agent_id.map(|a| a.to_string()), Some(second_id));
    let report = app.get(&admin, "/api/v1/reports/queues").await;
    assert_eq!(report["queues"]["billing"]["overflowed"], 1, "{report}");
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_to_a_mobile_number_goes_out_through_the_trunk_showing_the_hotline() {
    // Regression: a callback number that is no extension of ours was dialled as an extension
    // (NotRegistered) and the callback was closed without anyone being called.
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    patch_queue(
        &app,
        &admin,
        "general",
        json!({"max_wait_secs": 10, "overflow": {"action": "callback"}}),
    )
    .await;
    // The carrier: a SIPp phone on loopback behind an outbound trunk.
    let carrier_port = free_udp_port();
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/trunks",
            &json!({"name": "出局中继", "kind": "运营商", "proxy": format!("127.0.0.1:{carrier_port}")}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": false, "queues": ["general"]}),
    )
    .await;
    let mobile = "13800001234";
    let caller_steps = [
        Step::Pause(12_500 + prompt_ms("queue_callback_offer").min(3000)),
        Step::Keys("1"),
        Step::AwaitBye,
    ];
    assert!(
        call(&acd.sip, SERVICE, mobile, &caller_steps).await,
        "the caller chose the callback and kefu hung up"
    );
    let agent_port = free_udp_port();
    register(&acd.sip, "8001", agent_port).await;
    let desk = answering_phone(agent_port, 30_000);
    let carrier = answering_phone(carrier_port, 3000);
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "ready"}),
    )
    .await;
    let (offer, _) = until(&mut ws, "offering").await;
    assert_eq!(offer["callback"], true, "{offer}");
    assert_eq!(offer["caller"], mobile, "{offer}");
    let id = offer["call_id"].as_str().unwrap().to_string();
    let (answered, _) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], id.as_str());
    let (ended, _) = until(&mut ws, "ended").await;
    assert_eq!(ended["cause"], "caller_hung_up", "{ended}");
    stop(desk);
    stop(carrier);
    acd.settle().await;
    let legs = legs_called(&app, &admin, &id, &["8001", mobile]).await;
    assert!(legs.iter().any(|l| l == mobile), "{legs:?}");
    let cdrs = app
        .get(&admin, &format!("/api/v1/calls?call_uuid={id}"))
        .await;
    let out = cdrs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["callee"] == mobile)
        .cloned()
        .unwrap();
    assert_eq!(
        out["caller"], "96777",
        "the customer sees the hotline: {out}"
    );
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(rows[0].outcome, "answered", "{rows:?}");
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_presses_1_for_a_callback_is_called_back_once_an_agent_is_ready() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let agent_id = my_agent_id(&app, &agent).await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    patch_queue(
        &app,
        &admin,
        "general",
        json!({"max_wait_secs": 10, "overflow": {"action": "callback"}}),
    )
    .await;
    // The agent is logged in but not ready: the caller waits, is offered a callback, presses 1 and
    // hangs up when kefu has confirmed it. The caller's number is a phone kefu can reach: 8103.
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": false, "queues": ["general"]}),
    )
    .await;
    let caller_steps = [
        Step::Pause(12_500 + prompt_ms("queue_callback_offer").min(3000)),
        Step::Keys("1"),
        Step::AwaitBye,
    ];
    assert!(
        call(&acd.sip, SERVICE, "8103", &caller_steps).await,
        "the caller chose the callback and kefu hung up"
    );
    let now = Utc::now();
    let waiting: Vec<_> = app
        .store
        .queue_calls_between(now - chrono::TimeDelta::hours(1), now, Some("general"))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.caller == "8103")
        .collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].outcome, "waiting", "{waiting:?}");
    assert_eq!(
        waiting[0].overflow_to.as_deref(),
        Some("callback"),
        "{waiting:?}"
    );
    let id = waiting[0].call_id.to_string();
    let board = app.get(&admin, "/api/v1/wallboard").await;
    let general = board["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "general")
        .cloned()
        .unwrap();
    assert_eq!(general["callbacks"], 1, "{board}");
    // The phones: the agent's answers; the customer's (8103) answers and hangs up after 3 s.
    let agent_port = free_udp_port();
    register(&acd.sip, "8001", agent_port).await;
    let desk = answering_phone(agent_port, 30_000);
    let customer_port = free_udp_port();
    register(&acd.sip, "8103", customer_port).await;
    let customer_phone = answering_phone(customer_port, 3000);
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "ready"}),
    )
    .await;
    let (offer, _) = until(&mut ws, "offering").await;
    assert_eq!(offer["call_id"], id.as_str(), "{offer}");
    assert_eq!(offer["callback"], true, "{offer}");
    assert_eq!(offer["caller"], "8103");
    let (answered, _) = until(&mut ws, "answered").await;
    assert_eq!(answered["call_id"], id.as_str());
    let (ended, before) = until(&mut ws, "ended").await;
    assert_eq!(ended["cause"], "caller_hung_up", "{ended}");
    if !went(&before, "wrap_up") {
        until_state(&mut ws, "wrap_up").await;
    }
    stop(desk);
    stop(customer_phone);
    acd.settle().await;
    // The agent's phone rang first, then the customer's.
    let legs = legs_called(&app, &admin, &id, &["8001", "8103"]).await;
    let agent_leg = legs.iter().position(|l| l == "8001");
    let customer_leg = legs.iter().position(|l| l == "8103");
    assert!(
        agent_leg.is_some() && customer_leg.is_some() && agent_leg < customer_leg,
        "{legs:?}"
    );
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].outcome, "answered", "{rows:?}");
    assert_eq!(rows[0].agent_id.map(|a| a.to_string()), Some(agent_id));
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_closed_by_its_calendar_sends_the_caller_down_the_flows_failure_branch() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let supervisor = app.login("supervisor").await;
    let second_id = my_agent_id(&app, &supervisor).await;
    // A calendar closed today (a holiday, yesterday to tomorrow in China's time, so the test does
    // not depend on the hour), on the complaints queue.
    let today = (Utc::now() + chrono::TimeDelta::hours(8)).date_naive();
    let day = |d: i64| (today + chrono::TimeDelta::days(d)).to_string();
    let all_day = json!([{"start": "00:00", "end": "24:00"}]);
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/calendars",
            &json!({"code": "closed_today", "name": "今日休息", "spec": {
                "utc_offset_minutes": 480,
                "week": [all_day, all_day, all_day, all_day, all_day, all_day, all_day],
                "holidays": [day(-1), day(0), day(1)],
            }}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    patch_queue(
        &app,
        &admin,
        "complaints",
        json!({"calendar": "closed_today", "overflow": {"action": "voicemail"}}),
    )
    .await;
    // The complaints agent is ready, with a phone that would answer.
    let port = free_udp_port();
    register(&acd.sip, "8002", port).await;
    let desk = answering_phone(port, 30_000);
    let mut ws = cti(&app, &supervisor).await;
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["complaints"]}),
    )
    .await;
    // The hotline's flow: 5 (complaints) transfers to the queue; closed, the caller leaves a message.
    let caller = "13912340007";
    assert!(
        call(
            &acd.sip,
            "96777",
            caller,
            &[
                Step::Pause(600),
                Step::Keys("5"),
                Step::Pause(prompt_ms("complaint_transfer") + prompt_ms("after_hours") + 1500),
                Step::Tone,
                Step::Keys("#"),
                Step::AwaitBye,
            ],
        )
        .await,
        "the caller's call succeeded"
    );
    let trace = trace_of(&app, &admin, caller).await;
    assert_eq!(visit(&trace, "complaint_transfer")["branch"], "on_fail");
    assert_eq!(
        visit(&trace, "message_order")["branch"],
        "next",
        "{trace:?}"
    );
    let now = Utc::now();
    let rows: Vec<_> = app
        .store
        .queue_calls_between(now - chrono::TimeDelta::hours(1), now, Some("complaints"))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.caller == caller)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].outcome, "closed", "{rows:?}");
    assert!(
        !state_log(&app, &admin, &second_id)
            .await
            .iter()
            .any(|r| r["state"] == "reserved"),
        "the closed queue offered nobody"
    );
    // Open around the clock, the same caller path reaches the agent.
    patch_queue(&app, &admin, "complaints", json!({"calendar": "always"})).await;
    let sip = acd.sip.clone();
    let second = tokio::spawn(async move {
        call(
            &sip,
            "96777",
            "13912340008",
            &[
                Step::Pause(600),
                Step::Keys("5"),
                Step::Pause(prompt_ms("complaint_transfer") + 4000),
                Step::Bye,
            ],
        )
        .await
    });
    let (offer, _) = until(&mut ws, "offering").await;
    assert_eq!(offer["queue"], "complaints", "{offer}");
    assert_eq!(offer["caller"], "13912340008");
    until(&mut ws, "answered").await;
    assert!(second.await.unwrap());
    stop(desk);
    acd.settle().await;
    acd.telephony.shutdown().await;
}

/// Creates an agent user `username` (the demo password) serving general, and returns its id.
async fn new_agent(app: &TestApp, admin: &str, username: &str, name: &str) -> String {
    let units = app.get(admin, "/api/v1/units").await;
    let cc = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "CC")
        .unwrap()["id"]
        .clone();
    let r = app
        .send(
            admin,
            Method::POST,
            "/api/v1/users",
            &json!({"username": username, "display_name": name, "password": PASSWORD, "role": "agent", "unit_id": cc}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = app
        .send(
            admin,
            Method::POST,
            "/api/v1/agents",
            &json!({"username": username, "extension": null, "skills": {"general": 3}}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits (up to 20 s) until the store holds `state` for each agent (the state writer is behind the
/// API by a moment).
async fn persisted(app: &TestApp, expected: &[(&str, &str)]) -> Vec<kefu_store::AgentProfile> {
    for _ in 0..200 {
        let agents = app.store.agents().await.unwrap();
        let ok = expected.iter().all(|(id, state)| {
            agents
                .iter()
                .any(|a| a.id.to_string() == *id && a.status.state == *state)
        });
        if ok {
            return agents;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "persisted states: {:?}",
        app.store
            .agents()
            .await
            .unwrap()
            .iter()
            .map(|a| (a.username.clone(), a.status.state.clone()))
            .collect::<Vec<_>>()
    );
}

/// The ACD on a runtime of its own, which the test shuts down as the process would die: no task of
/// it gets to clean up. (Started from a thread of its own: the ACD's start is no task to send
/// between threads.)
async fn start_doomed_acd(app: &TestApp) -> (tokio::runtime::Runtime, Acd) {
    let doomed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (handle, store, state) = (
        doomed.handle().clone(),
        app.store.clone(),
        app.state.clone(),
    );
    std::thread::spawn(move || {
        let _ = tx.send(handle.block_on(start_acd_on(store, state)));
    });
    (doomed, rx.await.unwrap())
}

/// A caller (8103) who chose a callback in queue `general`, then kefu killed (its ACD runtime shut
/// down as a crash would): the callback's call id.
async fn callback_left_by_a_crash(app: &TestApp, admin: &str, agent: &str) -> String {
    route_to_queue(app, admin, SERVICE, "general").await;
    patch_queue(
        app,
        admin,
        "general",
        json!({"max_wait_secs": 10, "overflow": {"action": "callback"}}),
    )
    .await;
    let (doomed, acd) = start_doomed_acd(app).await;
    post_ok(
        app,
        agent,
        "/api/v1/agents/me/login",
        json!({"ready": false, "queues": ["general"]}),
    )
    .await;
    let caller_steps = [
        Step::Pause(12_500 + prompt_ms("queue_callback_offer").min(3000)),
        Step::Keys("1"),
        Step::AwaitBye,
    ];
    assert!(
        call(&acd.sip, SERVICE, "8103", &caller_steps).await,
        "the caller chose the callback and kefu hung up"
    );
    // The callback is on record before kefu dies.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let id = loop {
        let now = Utc::now();
        let rows: Vec<_> = app
            .store
            .queue_calls_between(now - chrono::TimeDelta::hours(1), now, Some("general"))
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.caller == "8103" && r.overflow_to.as_deref() == Some("callback"))
            .collect();
        if let Some(r) = rows.first() {
            break r.call_id.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no callback row: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    doomed.shutdown_background();
    drop(acd);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_ready_when_kefu_restarts_is_offered_a_waiting_callback_at_once() {
    // Regression: the offers made while callbacks were restored at start were dropped, so an agent
    // ready at that moment was reserved for the callback with no ring, no state event and no row.
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let agent_id = my_agent_id(&app, &agent).await;
    let id = callback_left_by_a_crash(&app, &admin, &agent).await;
    // The agent was ready when kefu died.
    let mut status = app
        .store
        .agent(agent_id.parse().unwrap())
        .await
        .unwrap()
        .status;
    status.state = "ready".into();
    status.reason = None;
    status.since = Utc::now();
    app.store
        .record_agent_state(agent_id.parse().unwrap(), &status, None)
        .await
        .unwrap();
    let acd = start_acd(&app).await;
    // At once, the callback is offered to it: its state log says reserved for that call.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let log = state_log(&app, &admin, &agent_id).await;
        if log
            .iter()
            .any(|r| r["state"] == "reserved" && r["call_id"] == id.as_str())
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_waiting_when_kefu_stops_is_called_back_after_the_restart() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let id = callback_left_by_a_crash(&app, &admin, &agent).await;
    // kefu again, on the same database: the callback waits at its place.
    let acd = start_acd(&app).await;
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(
        (rows.len(), rows[0].outcome.as_str()),
        (1, "waiting"),
        "{rows:?}"
    );
    let board = app.get(&admin, "/api/v1/wallboard").await;
    let general = board["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "general")
        .cloned()
        .unwrap();
    assert_eq!(general["callbacks"], 1, "{board}");
    let mut ws = cti(&app, &agent).await;
    let agent_port = free_udp_port();
    register(&acd.sip, "8001", agent_port).await;
    let desk = answering_phone(agent_port, 30_000);
    let customer_port = free_udp_port();
    register(&acd.sip, "8103", customer_port).await;
    let customer_phone = answering_phone(customer_port, 3000);
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "ready"}),
    )
    .await;
    let (offer, _) = until(&mut ws, "offering").await;
    assert_eq!(offer["call_id"], id.as_str(), "{offer}");
    assert_eq!(offer["callback"], true, "{offer}");
    assert_eq!(offer["caller"], "8103", "{offer}");
    until(&mut ws, "answered").await;
    until(&mut ws, "ended").await;
    stop(desk);
    stop(customer_phone);
    acd.settle().await;
    let legs = legs_called(&app, &admin, &id, &["8001", "8103"]).await;
    assert!(legs.iter().any(|l| l == "8103"), "{legs:?}");
    let rows = queue_calls_of(&app, &id).await;
    assert_eq!(rows[0].outcome, "answered", "{rows:?}");
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_every_agent_comes_back_in_a_consistent_state() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    // Long rings (the reserved agent keeps ringing) and a wrap-up that outlives the restart.
    patch_queue(
        &app,
        &admin,
        "general",
        json!({"ring_secs": 60, "wrap_up_secs": 20}),
    )
    .await;
    let talking = app.login("agent").await;
    let wrapping = app.login("supervisor").await;
    let talking_id = my_agent_id(&app, &talking).await;
    let wrapping_id = my_agent_id(&app, &wrapping).await;
    let ringing_id = new_agent(&app, &admin, "acd_ringing", "振铃坐席").await;
    let meal_id = new_agent(&app, &admin, "acd_meal", "用餐坐席").await;
    let ready_id = new_agent(&app, &admin, "acd_ready", "就绪坐席").await;
    let out_id = new_agent(&app, &admin, "acd_out", "签出坐席").await;
    let ringing = app.login("acd_ringing").await;
    let meal = app.login("acd_meal").await;
    let ready = app.login("acd_ready").await;
    let out = app.login("acd_out").await;
    let (doomed, acd) = start_doomed_acd(&app).await;
    let login = |token: String, body: Value| {
        let app = &app;
        async move { post_ok(app, &token, "/api/v1/agents/me/login", body).await }
    };
    // On a call.
    let talking_phone = desk_phone(&acd, "8001", AGENT_HZ);
    login(
        talking.clone(),
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let first = customer(&acd, SERVICE, "13900002001", Some(CALLER_HZ));
    assert!(first.wait_established(Duration::from_secs(20)));
    persisted(&app, &[(talking_id.as_str(), "on_call")]).await;
    // In wrap-up: answered a caller who hung up.
    let wrapping_phone = desk_phone(&acd, "8002", OTHER_HZ);
    login(
        wrapping.clone(),
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let second = customer(&acd, SERVICE, "13900002002", Some(CALLER_HZ));
    persisted(&app, &[(wrapping_id.as_str(), "on_call")]).await;
    second.hangup();
    persisted(&app, &[(wrapping_id.as_str(), "wrap_up")]).await;
    // Reserved: its phone (8101) rings and nobody answers.
    let ringing_phone = phone(Some(&acd.sip), "8101", None, false);
    login(
        ringing.clone(),
        json!({"ready": true, "queues": ["general"], "phone": "8101"}),
    )
    .await;
    let third = customer(&acd, SERVICE, "13900002003", None);
    assert!(ringing_phone.wait_event("CALL_INCOMING", 1, Duration::from_secs(20)));
    // Not ready for a meal; ready with nothing to do; logged out.
    login(meal.clone(), json!({"phone": "8102"})).await;
    post_ok(
        &app,
        &meal,
        "/api/v1/agents/me/state",
        json!({"state": "not_ready", "reason": "meal"}),
    )
    .await;
    login(
        ready.clone(),
        json!({"ready": true, "queues": ["general"], "phone": "8103"}),
    )
    .await;
    login(out.clone(), json!({"phone": "8104"})).await;
    let out_at = Utc::now();
    post_ok(&app, &out, "/api/v1/agents/me/logout", json!({})).await;
    // Logged out again, and written (not just the logged-out state the agent was created in).
    let mut tries = 0;
    while !app
        .store
        .agent(out_id.parse().unwrap())
        .await
        .unwrap()
        .status
        .since
        .ge(&out_at)
    {
        tries += 1;
        assert!(tries < 200, "the logout was not written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = persisted(
        &app,
        &[
            (talking_id.as_str(), "on_call"),
            (wrapping_id.as_str(), "wrap_up"),
            (ringing_id.as_str(), "reserved"),
            (meal_id.as_str(), "not_ready"),
            (ready_id.as_str(), "ready"),
            (out_id.as_str(), "logged_out"),
        ],
    )
    .await;
    let wrap_until = before
        .iter()
        .find(|a| a.id.to_string() == wrapping_id)
        .unwrap()
        .status
        .until
        .expect("a wrap-up has an end");
    let reserved_call = before
        .iter()
        .find(|a| a.id.to_string() == ringing_id)
        .unwrap()
        .status
        .call_id
        .expect("the offered call");
    // The crash.
    doomed.shutdown_background();
    drop((first, second, third));
    drop((talking_phone, wrapping_phone, ringing_phone));
    let crashed_at = Utc::now();
    let acd = start_acd(&app).await;
    let state = |id: String| {
        let (app, admin) = (&app, &admin);
        async move { state_of(app, admin, &id).await }
    };
    // No call survived: on a call or ringing is over; what was asked for and what was chosen stays.
    let s = state(talking_id.clone()).await;
    assert_eq!(s["state"], "ready", "{s}");
    assert!(s["call_id"].is_null(), "{s}");
    let s = state(ringing_id.clone()).await;
    assert_eq!(s["state"], "ready", "{s}");
    let s = state(meal_id.clone()).await;
    assert_eq!(
        (s["state"].as_str(), s["reason"].as_str()),
        (Some("not_ready"), Some("meal")),
        "{s}"
    );
    assert_eq!(state(ready_id.clone()).await["state"], "ready");
    assert_eq!(state(out_id.clone()).await["state"], "logged_out");
    let s = state(wrapping_id.clone()).await;
    assert_eq!(s["state"], "wrap_up", "{s}");
    let until: chrono::DateTime<Utc> = serde_json::from_value(s["until"].clone()).unwrap();
    assert_eq!(
        until.timestamp_millis(),
        wrap_until.timestamp_millis(),
        "the wrap-up keeps its end"
    );
    for id in [
        &talking_id,
        &wrapping_id,
        &ringing_id,
        &meal_id,
        &ready_id,
        &out_id,
    ] {
        let s = state(id.clone()).await;
        assert!(
            !["reserved", "on_call"].contains(&s["state"].as_str().unwrap()),
            "{s}"
        );
    }
    // The wrap-up ends on time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = state(wrapping_id.clone()).await;
        if s["state"] == "ready" {
            assert!(Utc::now() >= wrap_until, "not before its end");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The state log records the changes the restart made.
    let after = |log: Vec<Value>| -> Vec<(String, Option<String>)> {
        log.into_iter()
            .filter(|r| {
                serde_json::from_value::<chrono::DateTime<Utc>>(r["started_at"].clone()).unwrap()
                    >= crashed_at
            })
            .map(|r| {
                (
                    r["state"].as_str().unwrap().to_string(),
                    r["reason"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    assert_eq!(
        after(state_log(&app, &admin, &talking_id).await),
        [("ready".to_string(), None)]
    );
    assert_eq!(
        after(state_log(&app, &admin, &ringing_id).await),
        [("ready".to_string(), None)]
    );
    assert_eq!(
        after(state_log(&app, &admin, &wrapping_id).await),
        [("ready".to_string(), None)]
    );
    assert!(after(state_log(&app, &admin, &meal_id).await).is_empty());
    // The caller who was waiting when kefu died is closed, not left waiting.
    let rows = queue_calls_of(&app, &reserved_call.to_string()).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].outcome, "dropped", "{rows:?}");
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_asked_for_during_a_call_survives_a_crash() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let agent = app.login("agent").await;
    let id = my_agent_id(&app, &agent).await;
    let (doomed, acd) = start_doomed_acd(&app).await;
    let desk = desk_phone(&acd, "8001", AGENT_HZ);
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    let caller = customer(&acd, SERVICE, "13900002011", Some(CALLER_HZ));
    persisted(&app, &[(id.as_str(), "on_call")]).await;
    let s = post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/state",
        json!({"state": "not_ready", "reason": "break"}),
    )
    .await;
    assert_eq!(s["pending"], "break", "{s}");
    // The state writer has had time for anything it was given.
    tokio::time::sleep(Duration::from_secs(1)).await;
    doomed.shutdown_background();
    drop((caller, desk));
    let acd = start_acd(&app).await;
    let s = state_of(&app, &admin, &id).await;
    assert_eq!(
        (s["state"].as_str(), s["reason"].as_str()),
        (Some("not_ready"), Some("break")),
        "the pending break applies after the restart: {s}"
    );
    acd.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consulted_agent_who_takes_the_transfer_is_on_call_with_it() {
    let app = TestApp::spawn().await;
    let acd = start_acd(&app).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    route_to_queue(&app, &admin, SERVICE, "general").await;
    let second_id = my_agent_id(&app, &supervisor).await;
    let mut phones = Vec::new();
    for ext in ["8001", "8002"] {
        let port = free_udp_port();
        register(&acd.sip, ext, port).await;
        phones.push(answering_phone(port, 30_000));
    }
    let mut ws = cti(&app, &agent).await;
    post_ok(
        &app,
        &agent,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["general"]}),
    )
    .await;
    post_ok(
        &app,
        &supervisor,
        "/api/v1/agents/me/login",
        json!({"ready": true, "queues": ["complaints"]}),
    )
    .await;
    let sip = acd.sip.clone();
    let caller = tokio::spawn(async move {
        call(
            &sip,
            SERVICE,
            "13900007878",
            &[Step::Pause(12_000), Step::Bye],
        )
        .await
    });
    let (answered, _) = until(&mut ws, "answered").await;
    let id = answered["call_id"].as_str().unwrap().to_string();
    post_ok(
        &app,
        &agent,
        &path(&id, "transfer"),
        json!({"to": {"kind": "agent", "target": second_id}, "mode": "consult"}),
    )
    .await;
    until(&mut ws, "consult_answered").await;
    post_ok(&app, &agent, &path(&id, "transfer-complete"), json!({})).await;
    until(&mut ws, "transferred").await;
    // The consulted agent talks with the caller: it is on this call, and its desk has it.
    let s = state_of(&app, &admin, &second_id).await;
    assert_eq!(
        (s["state"].as_str(), s["call_id"].as_str()),
        (Some("on_call"), Some(id.as_str())),
        "{s}"
    );
    let calls = app.get(&supervisor, "/api/v1/agents/me/calls").await;
    assert_eq!(calls[0]["id"], id.as_str(), "{calls}");
    assert!(caller.await.unwrap());
    for p in phones {
        stop(p);
    }
    acd.settle().await;
    acd.telephony.shutdown().await;
}
