//! The IVR on real calls: SIPp callers (RFC 4733 digits, a tone as the caller's voice) walk the demo
//! hotline flow through the demo's loopback trunk, and the IVR trace, work orders, attachments, the
//! message outbox and survey answers show what kefu did.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// One step of a scripted caller.
pub(crate) enum Step {
    Pause(u32),
    /// RFC 4733 digits (SIPp's generator, payload type 96).
    Keys(&'static str),
    /// 2 s of a 1 kHz tone, the caller "speaking".
    Tone,
    /// The caller hangs up.
    Bye,
    /// kefu hangs up (within 60 s).
    AwaitBye,
}

pub(crate) const SIPP_MEDIA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../telephony/tests/sipp");

/// A SIPp caller scenario from `from` (its caller ID) doing `steps`.
fn scenario(from: &str, steps: &[Step]) -> String {
    let mut body = String::new();
    for s in steps {
        match s {
            Step::Pause(ms) => body.push_str(&format!("<pause milliseconds=\"{ms}\"/>\n")),
            Step::Keys(k) => body.push_str(&format!(
                "<nop><action><exec play_dtmf=\"{k}\"/></action></nop>\n<pause milliseconds=\"{}\"/>\n",
                300 * k.len() + 200
            )),
            Step::Tone => body.push_str(
                "<nop><action><exec play_pcap_audio=\"tone_pcma_1khz.pcap\"/></action></nop>\n<pause milliseconds=\"2200\"/>\n",
            ),
            Step::Bye => body.push_str(&format!(
                r#"<send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{from}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
<recv response="200" crlf="true"/>
"#
            )),
            Step::AwaitBye => body.push_str(
                r#"<recv request="BYE" timeout="60000"/>
<send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#,
            ),
        }
    }
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="kefu IVR caller">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{from}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      User-Agent: SIPp kefu-ivr-test
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 0 96
      a=rtpmap:8 PCMA/8000
      a=rtpmap:0 PCMU/8000
      a=rtpmap:96 telephone-event/8000
      a=fmtp:96 0-16
      a=ptime:20
      a=sendrecv

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{from}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
{body}
</scenario>
"#
    )
}

/// Runs a SIPp caller to `number` at `sip`; returns whether SIPp's call succeeded.
pub(crate) async fn call(sip: &str, number: &str, from: &str, steps: &[Step]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ivr.xml"), scenario(from, steps)).unwrap();
    std::fs::copy(
        Path::new(SIPP_MEDIA).join("tone_pcma_1khz.pcap"),
        dir.path().join("tone_pcma_1khz.pcap"),
    )
    .unwrap();
    let port = free_udp_port();
    let mport = free_udp_port();
    let args: Vec<String> = [
        sip,
        "-sf",
        "ivr.xml",
        "-s",
        number,
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-nostdin",
        "-m",
        "1",
        "-timeout",
        "90s",
        "-timeout_error",
        "-trace_err",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "-p".into(),
        port.to_string(),
        "-mp".into(),
        mport.to_string(),
    ])
    .collect();
    let path: PathBuf = dir.path().to_path_buf();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sipp")
            .args(&args)
            .current_dir(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("sipp (Debian package sip-tester) is installed by the test command")
    })
    .await
    .unwrap();
    if !status.success() {
        for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if e.file_name().to_string_lossy().contains("error") {
                eprintln!(
                    "SIPp errors: {}",
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                );
            }
        }
    }
    status.success()
}

pub(crate) fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The telephony engine and the IVR wired as `kefu serve` wires them, on a free loopback port.
struct Ivr {
    telephony: kefu_telephony::Telephony,
    runtime: Arc<kefu::ivr::IvrRuntime>,
    sip: String,
    _tts: tempfile::TempDir,
    _recordings: tempfile::TempDir,
}

async fn start_ivr(app: &TestApp) -> Ivr {
    start_ivr_with(
        app,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts"),
    )
    .await
}

async fn start_ivr_with(app: &TestApp, prompts: PathBuf) -> Ivr {
    let mut cfg = kefu_telephony::TelephonyConfig::new("127.0.0.1:0".parse().unwrap());
    // Each engine of this test binary its own RTP ports, below the ephemeral range SIPp's and the
    // tests' `:0` ports come from (test binaries run one after the other).
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = 24000 + (n % 100) * 40;
    cfg.rtp_ports = (base, base + 39);
    cfg.prompts_dir = prompts.clone();
    let recordings = tempfile::tempdir().unwrap();
    cfg.recordings_dir = recordings.path().to_path_buf();
    let directory = Arc::new(kefu::telephony::StoreDirectory {
        store: app.store.clone(),
    });
    let t = kefu_telephony::Telephony::start(cfg, directory)
        .await
        .unwrap();
    let tts = tempfile::tempdir().unwrap();
    let runtime = Arc::new(kefu::ivr::IvrRuntime::new(
        app.store.clone(),
        t.clone(),
        kefu::ivr::IvrFiles {
            prompts_dir: prompts,
            tts_dir: tts.path().to_path_buf(),
            record_calls: false,
        },
    ));
    tokio::spawn(kefu_telephony::entry::serve(
        t.clone(),
        t.incoming().unwrap(),
        kefu_telephony::entry::EntryPoints {
            runner: Some(runtime.clone()),
            ..Default::default()
        },
    ));
    let sip = t.local_addr().to_string();
    Ivr {
        telephony: t,
        runtime,
        sip,
        _tts: tts,
        _recordings: recordings,
    }
}

impl Ivr {
    /// A SIPp caller from `from` to 96777 doing `steps`: its call must succeed, and every leg end.
    async fn caller(&self, from: &str, steps: &[Step]) {
        assert!(
            call(&self.sip, "96777", from, steps).await,
            "SIPp's call from {from} succeeded"
        );
        self.settle().await;
    }

    /// Waits until no IVR session runs and every leg has ended.
    async fn settle(&self) {
        for _ in 0..200 {
            if self.runtime.active() == 0 && self.telephony.stats().legs == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("calls still up: {:?}", self.telephony.stats());
    }
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

/// The IVR trace's visits of the only call from `caller`.
pub(crate) async fn trace_of(app: &TestApp, token: &str, caller: &str) -> Vec<Value> {
    let t = trace_response(app, token, caller).await;
    t["visits"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("trace: {t}"))
}

fn nodes(trace: &[Value]) -> Vec<&str> {
    trace
        .iter()
        .map(|v| v["node_id"].as_str().unwrap())
        .collect()
}

pub(crate) fn visit<'a>(trace: &'a [Value], node: &str) -> &'a Value {
    trace
        .iter()
        .find(|v| v["node_id"] == node)
        .unwrap_or_else(|| panic!("{node} not visited: {:?}", nodes(trace)))
}

/// A demo customer with an amount due and a mobile phone: (phone, amount due in fen, id).
pub(crate) async fn customer_with_amount_due(app: &TestApp) -> (String, i64, String) {
    let token = app.login("agent").await;
    let list = get(app, &token, "/api/v1/customers?per_page=100").await;
    for c in list["items"].as_array().unwrap() {
        let Some(phone) = c["primary_phone"].as_str().filter(|p| p.starts_with('1')) else {
            continue;
        };
        let id = c["id"].as_str().unwrap();
        let detail = get(app, &token, &format!("/api/v1/customers/{id}")).await;
        // What the customer owes: every bill not paid yet, independently of the IVR's query.
        let due: i64 = detail["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["bills"].as_array().unwrap().iter())
            .filter(|b| b["paid_on"].is_null())
            .map(|b| b["amount_cents"].as_i64().unwrap())
            .sum();
        if due > 0 {
            return (phone.to_string(), due, id.to_string());
        }
    }
    panic!("no demo customer owes anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bill_query_reads_the_demo_customers_real_amount_due() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let (phone, due, _) = customer_with_amount_due(&app).await;
    // 2 (bill query) over the welcome; identified by caller ID; the bill is read; back at the main
    // menu the caller hangs up.
    ivr.caller(
        &phone,
        &[
            Step::Pause(600),
            Step::Keys("2"),
            Step::Pause(4000),
            Step::Bye,
        ],
    )
    .await;
    let token = app.login("supervisor").await;
    let trace = trace_of(&app, &token, &phone).await;
    assert_eq!(
        &nodes(&trace)[..4],
        ["welcome", "main_menu", "bill_identify", "bill_check"]
    );
    let say = visit(&trace, "bill_say");
    let detail = say["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("customer.amount_due={due} ")),
        "{detail} (expected {due})"
    );
    assert_eq!(visit(&trace, "bill_identify")["branch"], "next");
    ivr.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_report_records_the_caller_and_files_a_work_order_with_the_recording_and_an_sms() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let (phone, _, customer_id) = customer_with_amount_due(&app).await;
    // 3 (fault), 2 (other fault), the caller speaks (a tone), # ends the recording; kefu reads the
    // order number and hangs up.
    ivr.caller(
        &phone,
        &[
            Step::Pause(600),
            Step::Keys("3"),
            Step::Pause(500),
            Step::Keys("2"),
            // The recording starts after the prompt and the beep.
            Step::Pause(prompt_ms("record_fault") + prompt_ms("beep") + 1000),
            Step::Tone,
            Step::Keys("#"),
            Step::AwaitBye,
        ],
    )
    .await;
    let token = app.login("supervisor").await;
    let trace = trace_of(&app, &token, &phone).await;
    let order = visit(&trace, "fault_order");
    assert_eq!(order["branch"], "next", "{trace:?}");
    let detail = order["detail"].as_str().unwrap();
    let no = detail.strip_prefix("created ").unwrap().to_string();
    let wo = get(&app, &token, &format!("/api/v1/work-orders/by-no/{no}")).await;
    assert_eq!(wo["channel"], "ivr");
    assert_eq!(wo["customer"]["id"], customer_id.as_str());
    assert_eq!(wo["contact_phone"], phone.as_str());
    // The recording is attached: a WAV with the caller's tone in it.
    let atts = wo["attachments"].as_array().expect("attachments listed");
    assert_eq!(atts.len(), 1, "{wo}");
    let att = atts[0]["id"].as_str().unwrap();
    let bytes = app
        .anon(Method::GET, &format!("/api/v1/attachments/{att}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let samples = kefu_media::wav::load_prompt(&bytes).expect("a WAV");
    assert!(
        samples.len() >= 8000,
        "at least a second recorded: {}",
        samples.len()
    );
    assert!(
        kefu_media::tone::tone_present(&samples, 1000.0),
        "the caller's 1 kHz tone is in the recording"
    );
    // The SMS with the number waits in the outbox.
    let sms = get(&app, &token, "/api/v1/outbound-messages?channel=sms").await;
    let items = sms["items"].as_array().or_else(|| sms.as_array()).unwrap();
    assert!(
        items
            .iter()
            .any(|m| m["recipient"] == phone.as_str() && m["body"].as_str().unwrap().contains(&no)),
        "{sms}"
    );
    ivr.telephony.shutdown().await;
}

/// Registers extension `ext` (the demo password) from 127.0.0.1:`port` with SIPp.
pub(crate) async fn register(sip: &str, ext: &str, port: u16) {
    let args: Vec<String> = [
        sip,
        "-sf",
        &format!("{SIPP_MEDIA}/register_digest.xml"),
        "-s",
        ext,
        "-au",
        ext,
        "-ap",
        kefu_demo::DEMO_PASSWORD,
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-nostdin",
        "-m",
        "1",
        "-timeout",
        "10s",
        "-timeout_error",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let ok = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sipp")
            .args(&args)
            .current_dir(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    })
    .await
    .unwrap();
    assert!(ok, "extension {ext} registered");
}

/// A phone on 127.0.0.1:`port` that answers one call and hangs up `talk_ms` later (SIPp).
pub(crate) fn answering_phone(port: u16, talk_ms: u32) -> std::process::Child {
    std::process::Command::new("sipp")
        .args([
            "-sf",
            &format!("{SIPP_MEDIA}/uas_answer_hangup.xml"),
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-mp",
            &free_udp_port().to_string(),
            "-d",
            &talk_ms.to_string(),
            "-nostdin",
            "-m",
            "1",
            "-timeout",
            "90s",
            "-timeout_error",
        ])
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp")
}

/// How long a prompt plays in ms (0 when the set was not generated: missing prompts are skipped).
pub(crate) fn prompt_ms(key: &str) -> u32 {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts");
    let file = [
        p.join("zh-CN").join(format!("{key}.wav")),
        p.join(format!("{key}.wav")),
    ]
    .into_iter()
    .find(|f| f.is_file());
    file.and_then(|f| std::fs::read(f).ok()).map_or(0, |bytes| {
        (kefu_media::wav::load_prompt(&bytes).unwrap().len() / 8) as u32
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gas_leak_reaches_the_emergency_queue_and_the_caller_rates_the_call_afterwards() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let token = app.login("admin").await;
    // The emergency desk's phone: extension 8001, registered and answering.
    let queues = get(&app, &token, "/api/v1/queues").await;
    let emergency = queues
        .as_array()
        .or_else(|| queues["items"].as_array())
        .unwrap()
        .iter()
        .find(|q| q["key"] == "emergency")
        .cloned()
        .expect("the demo's emergency queue");
    assert!(
        emergency["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "8001"),
        "{emergency}"
    );
    let phone_port = free_udp_port();
    register(&ivr.sip, "8001", phone_port).await;
    let mut phone = answering_phone(phone_port, 2000);
    let caller = "13912345678";
    // 3 (fault), 1 (gas leak): the safety advice (not interruptible), the emergency desk answers and
    // hangs up after 2 s; then the survey: 5.
    let wait = prompt_ms("leak_advice") + 2000 + 3000;
    let ok = call(
        &ivr.sip,
        "96777",
        caller,
        &[
            Step::Pause(600),
            Step::Keys("3"),
            Step::Pause(400),
            Step::Keys("1"),
            Step::Pause(wait),
            Step::Keys("5"),
            Step::AwaitBye,
        ],
    )
    .await;
    assert!(ok, "SIPp's call succeeded");
    let status = tokio::task::spawn_blocking(move || phone.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the emergency phone answered and hung up");
    ivr.settle().await;
    let trace = trace_of(&app, &token, caller).await;
    let transfer = visit(&trace, "leak_transfer");
    assert_eq!(transfer["branch"], "after", "{trace:?}");
    assert!(
        transfer["detail"]
            .as_str()
            .unwrap()
            .contains("queue emergency (priority 9)")
    );
    assert_eq!(visit(&trace, "survey")["branch"], "next");
    // The score is stored against the call.
    let surveys = get(&app, &token, "/api/v1/surveys").await;
    let items = surveys
        .as_array()
        .or_else(|| surveys["items"].as_array())
        .unwrap();
    assert!(
        items.iter().any(|s| s["score"] == 5 && s["max_score"] == 5),
        "{surveys}"
    );
    ivr.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_status_by_number_reads_the_orders_status() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let token = app.login("supervisor").await;
    // A demo order and its number's digits.
    let list = get(&app, &token, "/api/v1/work-orders?per_page=5").await;
    let order = &list["items"][0];
    let no = order["no"].as_str().unwrap().to_string();
    let digits: &'static str = Box::leak(no.trim_start_matches("GD").to_string().into_boxed_str());
    let keys: &'static str = Box::leak(format!("{digits}#").into_boxed_str());
    let caller = "13912340004";
    ivr.caller(
        caller,
        &[
            Step::Pause(600),
            Step::Keys("4"),
            Step::Pause(300),
            Step::Keys(keys),
            Step::Pause(2000),
            Step::Bye,
        ],
    )
    .await;
    let trace = trace_of(&app, &token, caller).await;
    let say = visit(&trace, "order_say");
    let d = say["detail"].as_str().unwrap();
    assert!(
        d.contains(&format!(
            "order.status={}",
            order["status"].as_str().unwrap()
        )),
        "{d}"
    );
    assert!(d.contains(&format!("order.digits={digits}")), "{d}");
    ivr.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fax_on_demand_queues_the_price_list_for_the_callers_number() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let caller = "057487650006";
    ivr.caller(
        caller,
        &[
            Step::Pause(600),
            Step::Keys("6"),
            Step::Pause(300),
            Step::Keys("1"),
            Step::Pause(1500),
            Step::Bye,
        ],
    )
    .await;
    let token = app.login("supervisor").await;
    let out = get(&app, &token, "/api/v1/outbound-messages?channel=fax").await;
    let items = out.as_array().or_else(|| out["items"].as_array()).unwrap();
    assert!(
        items
            .iter()
            .any(|m| m["recipient"] == caller && m["document_key"] == "price_list"),
        "{out}"
    );
    let trace = trace_of(&app, &token, caller).await;
    assert_eq!(visit(&trace, "doc_price")["branch"], "next");
    ivr.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_nobody_answers_becomes_a_voice_message_work_order() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let caller = "13912340005";
    // 5 (complaints): nobody in the queue is registered, so the transfer fails at once and the caller
    // leaves a message (a tone), ended with #.
    ivr.caller(
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
    .await;
    let token = app.login("supervisor").await;
    let trace = trace_of(&app, &token, caller).await;
    assert_eq!(visit(&trace, "complaint_transfer")["branch"], "on_fail");
    let created = visit(&trace, "message_order");
    assert_eq!(created["branch"], "next", "{trace:?}");
    let no = created["detail"]
        .as_str()
        .unwrap()
        .strip_prefix("created ")
        .unwrap()
        .to_string();
    let wo = get(&app, &token, &format!("/api/v1/work-orders/by-no/{no}")).await;
    assert_eq!(wo["channel"], "ivr");
    assert_eq!(wo["attachments"].as_array().unwrap().len(), 1, "{wo}");
    ivr.telephony.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_information_menu_and_back_to_the_main_menu() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let caller = "13912340001";
    // 1 (information), 4 (safety) cut short by *, back to the main menu; hang up there.
    ivr.caller(
        caller,
        &[
            Step::Pause(600),
            Step::Keys("1"),
            Step::Pause(300),
            Step::Keys("4"),
            Step::Pause(1000),
            Step::Keys("*"),
            Step::Pause(1000),
            Step::Bye,
        ],
    )
    .await;
    let token = app.login("supervisor").await;
    let trace = trace_of(&app, &token, caller).await;
    let path = nodes(&trace);
    assert_eq!(
        path,
        [
            "welcome",
            "main_menu",
            "info_menu",
            "info_safety",
            "info_menu",
            "main_menu"
        ],
    );
    assert_eq!(trace.last().unwrap()["outcome"], "left");
    ivr.telephony.shutdown().await;
}

/// The trace response of the only call from `caller` (sessions and visits).
async fn trace_response(app: &TestApp, token: &str, caller: &str) -> Value {
    let calls = get(app, token, "/api/v1/calls").await;
    let call = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["caller"] == caller)
        .unwrap_or_else(|| panic!("no call from {caller}: {calls}"))
        .clone();
    let uuid = call["call_uuid"].as_str().unwrap();
    get(app, token, &format!("/api/v1/ivr/traces?call_uuid={uuid}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_published_during_a_call_serves_new_calls_while_the_call_keeps_its_own() {
    let app = TestApp::spawn().await;
    let ivr = start_ivr(&app).await;
    let token = app.login("admin").await;
    let flow = app.store.ivr_flow_by_key("main").await.unwrap().unwrap();
    // Version 2 swaps the main menu's keys 2 and 4 (bill query ↔ order status).
    let mut v2 = app.store.ivr_version(flow.id, 1).await.unwrap().graph;
    for n in &mut v2.nodes {
        if let kefu_ivr::model::NodeKind::Menu { options, .. } = &mut n.kind
            && n.id == "main_menu"
        {
            options.insert("2".into(), "order_ident".into());
            options.insert("4".into(), "bill_identify".into());
        }
    }
    // Caller A is in the menu (version 1) when version 2 is published; it presses 2 afterwards.
    let sip = ivr.sip.clone();
    let first = tokio::spawn(async move {
        call(
            &sip,
            "96777",
            "13911110001",
            &[
                Step::Pause(3000),
                Step::Keys("2"),
                Step::Pause(1500),
                Step::Bye,
            ],
        )
        .await
    });
    for _ in 0..100 {
        if ivr.runtime.active() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ivr.runtime.active(), 1, "caller A is in the IVR");
    let r = app
        .send(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/flows/{}/versions", flow.id),
            &serde_json::json!({"graph": v2, "note": "keys 2 and 4 swapped"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .send(
            &token,
            Method::POST,
            &format!("/api/v1/ivr/flows/{}/versions/2/publish", flow.id),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Caller B arrives after the publish and presses 2 at once.
    let second = call(
        &ivr.sip,
        "96777",
        "13911110002",
        &[
            Step::Pause(600),
            Step::Keys("2"),
            Step::Pause(1500),
            Step::Bye,
        ],
    )
    .await;
    assert!(second);
    assert!(first.await.unwrap(), "caller A's call was not disturbed");
    ivr.settle().await;
    let a = trace_response(&app, &token, "13911110001").await;
    let b = trace_response(&app, &token, "13911110002").await;
    assert_eq!(a["sessions"][0]["version"], 1, "{a}");
    assert_eq!(b["sessions"][0]["version"], 2, "{b}");
    let third = |t: &Value| {
        t["visits"][2]["node_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{t}"))
            .to_string()
    };
    assert_eq!(third(&a), "bill_identify", "A follows version 1: {a}");
    assert_eq!(third(&b), "order_ident", "B follows version 2: {b}");
    ivr.telephony.shutdown().await;
}

/// Regression: a prompt file kefu cannot play (here a welcome that is not a WAV) ended the call; it
/// is skipped and the caller goes on through the flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplayable_prompt_is_skipped_and_the_caller_goes_on() {
    let app = TestApp::spawn().await;
    let prompts = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(prompts.path().join("zh-CN")).unwrap();
    std::fs::write(
        prompts.path().join("zh-CN/main_welcome.wav"),
        b"this is not a WAV file",
    )
    .unwrap();
    let ivr = start_ivr_with(&app, prompts.path().to_path_buf()).await;
    let caller = "13912340009";
    ivr.caller(
        caller,
        &[
            Step::Pause(600),
            Step::Keys("1"),
            Step::Pause(800),
            Step::Bye,
        ],
    )
    .await;
    let token = app.login("supervisor").await;
    let trace = trace_of(&app, &token, caller).await;
    assert_eq!(&nodes(&trace)[..3], ["welcome", "main_menu", "info_menu"]);
    ivr.telephony.shutdown().await;
}
