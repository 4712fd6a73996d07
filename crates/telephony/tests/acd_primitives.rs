//! The engine primitives the ACD stands on, against real peers on loopback: member modes in a room
//! (supervisor listen, whisper and barge, agent mute, hold with music inside the room), DTMF sent to
//! the far end, recording pause and resume, and auto-answer headers on originate.
//!
//! Most tests use two kefu engines: engine A is the one under test; engine B answers A's calls and
//! is each party's phone (it plays the party's tone and records what A sends it). Audio is checked by
//! content: a tone is found, or not, with Goertzel in what a party received.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Engine, engine};
use kefu_telephony::{
    Call, CallError, CollectEnd, CollectSpec, Destination, IncomingCall, MemberMode,
    OriginateOptions, RecordSpec, Target,
};
use support::{Sipp, free_sip_port, scenario, wav_has_tone, write_tone_wav};

async fn next_call(e: &mut Engine) -> IncomingCall {
    tokio::time::timeout(Duration::from_secs(10), e.incoming.recv())
        .await
        .expect("a call")
        .unwrap()
}

/// Engine B: the party phones, reached as sip:<number>@B.
async fn phones(numbers: &[&str]) -> Engine {
    let routes: Vec<(&str, Target)> = numbers
        .iter()
        .map(|n| (*n, Target::Flow("phone".into())))
        .collect();
    engine(&routes).await
}

/// One party: its leg on A (in A's rooms) and its phone's leg on B.
struct Party {
    a: Call,
    b: Call,
}

/// A calls `number` on B; B answers and plays `tone` (a WAV path) to A in a loop.
async fn dial(a: &Engine, b: &mut Engine, number: &str, tone: &Path) -> Party {
    let far = format!("sip:{number}@{}", b.addr);
    let (a_leg, b_leg) = tokio::join!(
        a.telephony.originate(Destination::Uri(far), "96777", None),
        async {
            let IncomingCall { call, .. } = next_call(b).await;
            assert_eq!(call.info().callee, number);
            call.answer().await.unwrap();
            call
        }
    );
    let b_leg = b_leg;
    b_leg.music(&tone.display().to_string()).unwrap();
    Party {
        a: a_leg.expect("B answers"),
        b: b_leg,
    }
}

/// Records, on each party's phone, what A sends it for 2 s (after letting a mode change settle).
async fn hear(parties: &[&Party], dir: &Path, phase: &str) -> Vec<PathBuf> {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut tasks = Vec::new();
    for (i, p) in parties.iter().enumerate() {
        let phone = p.b.clone();
        let path = dir.join(format!("{phase}-{i}.wav"));
        tasks.push(tokio::spawn(async move {
            let spec = RecordSpec {
                max: Duration::from_secs(30),
                silence: None,
                stop_on_digit: false,
                both_ways: false,
            };
            phone.record(&path, &spec).await.unwrap().path
        }));
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    for p in parties {
        p.b.stop_recording();
    }
    let mut paths = Vec::new();
    for t in tasks {
        paths.push(t.await.unwrap());
    }
    paths
}

/// Asserts which of the tones (name, Hz) a recording has.
fn assert_tones(path: &Path, who: &str, phase: &str, tones: &[(&str, f64, bool)]) {
    for (name, hz, expected) in tones {
        assert_eq!(
            wav_has_tone(path, *hz),
            *expected,
            "{phase}: the {who} {} the {name}'s {hz} Hz tone ({})",
            if *expected { "hears" } else { "must not hear" },
            path.display()
        );
    }
}

const CALLER: f64 = 600.0;
const AGENT: f64 = 1100.0;
const SUPERVISOR: f64 = 1900.0;
const MUSIC: f64 = 2700.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_whisper_barge_mute_and_hold_in_a_room() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, hz) in [
        ("caller", CALLER),
        ("agent", AGENT),
        ("supervisor", SUPERVISOR),
        ("music", MUSIC),
    ] {
        write_tone_wav(&d.join(format!("{name}.wav")), hz, 3.0);
    }
    let a = engine(&[]).await;
    let mut b = phones(&["10001", "10002", "10003"]).await;
    let caller = dial(&a, &mut b, "10001", &d.join("caller.wav")).await;
    let agent = dial(&a, &mut b, "10002", &d.join("agent.wav")).await;
    let supervisor = dial(&a, &mut b, "10003", &d.join("supervisor.wav")).await;

    // The caller talks to the agent; the supervisor listens in.
    let room = a.telephony.bridge(&caller.a, &agent.a).unwrap();
    room.add_with(&supervisor.a, MemberMode::Muted).unwrap();
    assert_eq!(
        room.call_ids(),
        vec![caller.a.id(), agent.a.id(), supervisor.a.id()]
    );
    let calls: Vec<_> = room.calls().iter().map(Call::id).collect();
    assert_eq!(calls, room.call_ids());
    assert_eq!(supervisor.a.room_id(), Some(room.id()));
    assert_eq!(room.mode(&supervisor.a), Some(MemberMode::Muted));
    assert_eq!(room.mode(&caller.a), Some(MemberMode::Normal));
    let all = [&caller, &agent, &supervisor];

    let phase = "listen";
    let [c, g, s] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[("agent", AGENT, true), ("supervisor", SUPERVISOR, false)],
    );
    assert_tones(
        &g,
        "agent",
        phase,
        &[("caller", CALLER, true), ("supervisor", SUPERVISOR, false)],
    );
    assert_tones(
        &s,
        "supervisor",
        phase,
        &[("caller", CALLER, true), ("agent", AGENT, true)],
    );

    // The supervisor coaches the agent: the caller does not hear it.
    room.set_mode(&supervisor.a, MemberMode::Whisper { to: agent.a.id() })
        .unwrap();
    let phase = "whisper";
    let [c, g, s] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[("agent", AGENT, true), ("supervisor", SUPERVISOR, false)],
    );
    assert_tones(
        &g,
        "agent",
        phase,
        &[("caller", CALLER, true), ("supervisor", SUPERVISOR, true)],
    );
    assert_tones(
        &s,
        "supervisor",
        phase,
        &[("caller", CALLER, true), ("agent", AGENT, true)],
    );

    // The supervisor barges in: everyone hears everyone.
    room.set_mode(&supervisor.a, MemberMode::Normal).unwrap();
    let phase = "barge";
    let [c, g, s] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[("agent", AGENT, true), ("supervisor", SUPERVISOR, true)],
    );
    assert_tones(
        &g,
        "agent",
        phase,
        &[("caller", CALLER, true), ("supervisor", SUPERVISOR, true)],
    );
    assert_tones(
        &s,
        "supervisor",
        phase,
        &[("caller", CALLER, true), ("agent", AGENT, true)],
    );

    // The agent mutes: its tone reaches nobody; it still hears both.
    room.set_mode(&agent.a, MemberMode::Muted).unwrap();
    let phase = "mute";
    let [c, g, s] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[("agent", AGENT, false), ("supervisor", SUPERVISOR, true)],
    );
    assert_tones(
        &g,
        "agent",
        phase,
        &[("caller", CALLER, true), ("supervisor", SUPERVISOR, true)],
    );
    assert_tones(
        &s,
        "supervisor",
        phase,
        &[("caller", CALLER, true), ("agent", AGENT, false)],
    );

    // The agent unmutes and holds the caller inside the room: the caller hears music, not the
    // others; the others do not hear the caller, nor the music.
    room.set_mode(&agent.a, MemberMode::Normal).unwrap();
    let music = d.join("music.wav").display().to_string();
    room.set_mode(
        &caller.a,
        MemberMode::Held {
            music: music.clone(),
        },
    )
    .unwrap();
    assert_eq!(room.mode(&caller.a), Some(MemberMode::Held { music }));
    let phase = "held";
    let [c, g, s] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[
            ("music", MUSIC, true),
            ("agent", AGENT, false),
            ("supervisor", SUPERVISOR, false),
        ],
    );
    assert_tones(
        &g,
        "agent",
        phase,
        &[
            ("caller", CALLER, false),
            ("music", MUSIC, false),
            ("supervisor", SUPERVISOR, true),
        ],
    );
    assert_tones(
        &s,
        "supervisor",
        phase,
        &[
            ("caller", CALLER, false),
            ("music", MUSIC, false),
            ("agent", AGENT, true),
        ],
    );

    // Back from hold: the music stops and the caller is in the conversation again.
    room.set_mode(&caller.a, MemberMode::Normal).unwrap();
    let phase = "resumed";
    let [c, g, _] = <[PathBuf; 3]>::try_from(hear(&all, d, phase).await).unwrap();
    assert_tones(
        &c,
        "caller",
        phase,
        &[
            ("music", MUSIC, false),
            ("agent", AGENT, true),
            ("supervisor", SUPERVISOR, true),
        ],
    );
    assert_tones(&g, "agent", phase, &[("caller", CALLER, true)]);

    // Refused: a whisper to itself or to a call outside the room, music that does not load, a call
    // that is not a member.
    let whisper_self = MemberMode::Whisper {
        to: supervisor.a.id(),
    };
    assert!(matches!(
        room.set_mode(&supervisor.a, whisper_self),
        Err(CallError::Invalid(_))
    ));
    let outsider = MemberMode::Whisper {
        to: uuid::Uuid::now_v7(),
    };
    assert!(matches!(
        room.set_mode(&supervisor.a, outsider),
        Err(CallError::Invalid(_))
    ));
    let missing = MemberMode::Held {
        music: d.join("no-such.wav").display().to_string(),
    };
    assert!(matches!(
        room.set_mode(&caller.a, missing),
        Err(CallError::Media(_))
    ));
    assert_eq!(room.mode(&caller.a), Some(MemberMode::Normal), "unchanged");
    room.remove(&supervisor.a);
    assert_eq!(room.call_ids(), vec![caller.a.id(), agent.a.id()]);
    assert_eq!(room.mode(&supervisor.a), None);
    assert_eq!(supervisor.a.room_id(), None);
    assert!(matches!(
        room.set_mode(&supervisor.a, MemberMode::Normal),
        Err(CallError::Invalid(_))
    ));

    for p in all {
        p.a.hangup().await.unwrap();
        p.b.wait_ended().await;
    }
    room.close();
    let s = a.telephony.stats();
    assert_eq!((s.legs, s.rtp_ports_in_use), (0, 0), "{s:?}");
}

/// A whisperer whose listener leaves the room is heard by nobody (not by everyone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whisper_whose_listener_left_reaches_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_tone_wav(&d.join("caller.wav"), CALLER, 3.0);
    write_tone_wav(&d.join("agent.wav"), AGENT, 3.0);
    write_tone_wav(&d.join("supervisor.wav"), SUPERVISOR, 3.0);
    let a = engine(&[]).await;
    let mut b = phones(&["10001", "10002", "10003"]).await;
    let caller = dial(&a, &mut b, "10001", &d.join("caller.wav")).await;
    let agent = dial(&a, &mut b, "10002", &d.join("agent.wav")).await;
    let supervisor = dial(&a, &mut b, "10003", &d.join("supervisor.wav")).await;
    let room = a.telephony.bridge(&caller.a, &agent.a).unwrap();
    room.add_with(&supervisor.a, MemberMode::Whisper { to: agent.a.id() })
        .unwrap();
    room.remove(&agent.a);
    let [c, s] = <[PathBuf; 2]>::try_from(hear(&[&caller, &supervisor], d, "left").await).unwrap();
    assert_tones(
        &c,
        "caller",
        "left",
        &[("supervisor", SUPERVISOR, false), ("agent", AGENT, false)],
    );
    assert_tones(&s, "supervisor", "left", &[("caller", CALLER, true)]);
    for p in [&caller, &agent, &supervisor] {
        p.a.hangup().await.unwrap();
    }
    room.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_dtmf_reaches_the_far_end_as_rfc4733_keys() {
    let dir = tempfile::tempdir().unwrap();
    let tone = dir.path().join("quiet.wav");
    write_tone_wav(&tone, CALLER, 1.0);
    let a = engine(&[]).await;
    let mut b = phones(&["10001"]).await;
    let p = dial(&a, &mut b, "10001", &tone).await;
    let far = p.b.clone();
    let collected = tokio::spawn(async move {
        far.collect(&CollectSpec {
            max_digits: 16,
            first_digit_timeout: Duration::from_secs(10),
            inter_digit_timeout: Duration::from_secs(5),
            terminator: None,
        })
        .await
        .unwrap()
    });
    p.a.send_dtmf("0123456789*#ABCD").await.unwrap();
    let got = collected.await.unwrap();
    assert_eq!(got.digits, "0123456789*#ABCD");
    assert_eq!(got.end, CollectEnd::MaxDigits);

    // Anything but a key is refused before a key goes out.
    for bad in ["12x", "12a", "1 2", "１"] {
        match p.a.send_dtmf(bad).await {
            Err(CallError::Invalid(msg)) => assert!(msg.contains("DTMF key"), "{msg}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    p.a.send_dtmf("").await.unwrap();
    p.a.send_dtmf("7").await.unwrap();
    let got =
        p.b.collect(&CollectSpec {
            max_digits: 1,
            first_digit_timeout: Duration::from_secs(10),
            ..CollectSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(got.digits, "7", "no key of the refused strings was sent");

    // Keys can be sent while the leg is in a room (they replace its audio for a moment).
    let q = dial(&a, &mut b, "10001", &tone).await;
    let room = a.telephony.bridge(&p.a, &q.a).unwrap();
    p.a.send_dtmf("#9").await.unwrap();
    let got =
        p.b.collect(&CollectSpec {
            max_digits: 2,
            first_digit_timeout: Duration::from_secs(10),
            terminator: None,
            ..CollectSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(got.digits, "#9");
    p.a.hangup().await.unwrap();
    q.a.hangup().await.unwrap();
    assert!(matches!(p.a.send_dtmf("1").await, Err(CallError::Ended)));
    room.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_recording_leaves_out_what_was_said_while_paused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The far end says 600 Hz, then (while paused) 1100 Hz, then 1900 Hz.
    write_tone_wav(&d.join("before.wav"), CALLER, 3.0);
    write_tone_wav(&d.join("secret.wav"), AGENT, 3.0);
    write_tone_wav(&d.join("after.wav"), SUPERVISOR, 3.0);
    let a = engine(&[]).await;
    let mut b = phones(&["10001"]).await;
    let p = dial(&a, &mut b, "10001", &d.join("before.wav")).await;
    assert!(!p.a.is_recording());
    assert!(matches!(p.a.pause_recording(), Err(CallError::Invalid(_))));
    let path =
        p.a.start_recording(Path::new("paused.wav"), Duration::from_secs(60))
            .unwrap();
    assert!(p.a.is_recording() && !p.a.is_recording_paused());
    tokio::time::sleep(Duration::from_millis(1500)).await;

    p.a.pause_recording().unwrap();
    p.a.pause_recording().unwrap();
    assert!(p.a.is_recording_paused());
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.b.music(&d.join("secret.wav").display().to_string())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    p.b.music(&d.join("after.wav").display().to_string())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    p.a.resume_recording().unwrap();
    assert!(p.a.is_recording() && !p.a.is_recording_paused());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    p.a.stop_recording();
    assert!(!p.a.is_recording());
    assert!(matches!(p.a.resume_recording(), Err(CallError::Invalid(_))));

    assert!(wav_has_tone(&path, CALLER), "before the pause: recorded");
    assert!(
        !wav_has_tone(&path, AGENT),
        "during the pause: not recorded"
    );
    assert!(
        wav_has_tone(&path, SUPERVISOR),
        "after the resume: recorded"
    );
    p.a.hangup().await.unwrap();
}

/// A SIPp phone that fails the call unless the INVITE asks for auto-answer (and one that fails it if
/// it does).
async fn originate_to_sipp(uas: &str, auto_answer: bool) -> support::SippRun {
    let port = free_sip_port(false);
    let phone = Sipp::new(scenario(uas))
        .local_port(port)
        .timeout(Duration::from_secs(30))
        .spawn();
    let a = engine(&[]).await;
    let result = a
        .telephony
        .originate_with(
            Destination::Uri(format!("sip:8001@127.0.0.1:{port}")),
            "96777",
            None,
            OriginateOptions {
                ring_timeout: Some(Duration::from_secs(5)),
                auto_answer,
                ..Default::default()
            },
        )
        .await;
    if let Ok(call) = result {
        call.hangup().await.unwrap();
        call.wait_ended().await;
    }
    tokio::task::spawn_blocking(move || phone.wait())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_answer_adds_call_info_and_alert_info_to_the_invite() {
    originate_to_sipp("uas_autoanswer.xml", true)
        .await
        .assert_ok();
    originate_to_sipp("uas_no_autoanswer.xml", false)
        .await
        .assert_ok();
    // The checks can fail: each scenario fails the other case.
    originate_to_sipp("uas_autoanswer.xml", false)
        .await
        .assert_failed();
    originate_to_sipp("uas_no_autoanswer.xml", true)
        .await
        .assert_failed();
}
