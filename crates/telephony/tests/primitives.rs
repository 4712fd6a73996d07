//! Call primitives against real peers: a prompt interrupted by a digit, recording with its stop
//! conditions, hold with music, an N-party conference where each hears everyone but itself, and
//! transfers by REFER in both directions.

mod common;
mod support;

use std::path::Path;
use std::time::Duration;

use common::{Engine, PASSWORD, engine, engine_with, sipp};
use kefu_telephony::{
    Call, CallEvent, CollectSpec, Destination, IncomingCall, PlayEnd, RecordEnd, RecordSpec, Target,
};
use support::{Baresip, BaresipOptions, Sipp, scenario, wav_has_tone, wav_seconds, write_tone_wav};

async fn next_call(e: &mut Engine) -> IncomingCall {
    tokio::time::timeout(Duration::from_secs(10), e.incoming.recv())
        .await
        .expect("a call")
        .unwrap()
}

fn phone(e: &Engine, user: &str, tone_hz: f64, dir: &Path) -> Baresip {
    let tone = dir.join(format!("{user}.wav"));
    write_tone_wav(&tone, tone_hz, 5.0);
    let p = Baresip::start(BaresipOptions {
        registrar: Some(e.addr),
        user: user.into(),
        password: PASSWORD.into(),
        audio_in: tone,
        auto_answer: true,
    })
    .expect("baresip starts");
    assert!(
        tokio::task::block_in_place(|| p.wait_registered(Duration::from_secs(10))),
        "{}",
        p.log()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digit_interrupts_the_prompt_and_is_kept_for_collect() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("dtmf.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let started = std::time::Instant::now();
    let end = call.play(&["hold_music"], true).await.unwrap();
    assert_eq!(end, PlayEnd::Interrupted('1'));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped well before the 10 s of music ended"
    );
    let got = call
        .collect(&CollectSpec {
            max_digits: 3,
            ..CollectSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(
        got.digits, "123",
        "the interrupting digit is the first one collected"
    );
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
}

/// Regression: the key that stopped a prompt reached the digit queue only a moment after `play`
/// returned, so a menu's interruptible prompt started right after it played in full (the IVR's main
/// menu ignored the key that cut its welcome short). The next interruptible prompt must see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_that_stops_a_prompt_also_stops_the_next_interruptible_one() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("dtmf_play.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    assert_eq!(
        call.play(&["hold_music"], true).await.unwrap(),
        PlayEnd::Interrupted('1')
    );
    // (SIPp's own generator, `play_dtmf`: with it the race showed every time.) Without the fix this
    // second prompt plays until the next key, 2, stops it.
    assert_eq!(
        call.play(&["hold_music"], true).await.unwrap(),
        PlayEnd::Interrupted('1')
    );
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_stops_at_its_length_or_on_silence() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    // The caller sends a 1 kHz tone: a 1 s recording ends at its length, with the tone in it.
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let spec = RecordSpec {
        max: Duration::from_secs(1),
        silence: Some(Duration::from_millis(700)),
        stop_on_digit: true,
        both_ways: false,
    };
    let rec = call.record(Path::new("message.wav"), &spec).await.unwrap();
    assert_eq!(rec.end, RecordEnd::MaxLength);
    assert!(
        (wav_seconds(&rec.path) - 1.0).abs() < 0.05,
        "{}",
        wav_seconds(&rec.path)
    );
    assert_eq!(rec.duration, Duration::from_secs(1));
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
    // This caller says nothing: the recording ends after 0.7 s of silence.
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("callee_hangs_up.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let spec = RecordSpec {
        max: Duration::from_secs(10),
        ..spec
    };
    let rec = call.record(Path::new("quiet.wav"), &spec).await.unwrap();
    assert_eq!(rec.end, RecordEnd::Silence);
    let secs = wav_seconds(&rec.path);
    assert!((0.65..1.2).contains(&secs), "{secs}");
    assert!(!wav_has_tone(&rec.path, 1000.0));
    call.hangup().await.unwrap();
    run.await.unwrap().assert_ok();
}

/// Two kefu engines talk SIP to each other here: A calls B, puts B on hold and back. (baresip 1.0 stops
/// decoding while held, so it cannot tell whether music arrived.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_plays_music_to_the_peer_and_both_sides_see_hold_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    // A's hold music is a 700 Hz tone here, so its arrival can be checked.
    write_tone_wav(&dir.path().join("hold_music.wav"), 700.0, 3.0);
    let prompts = dir.path().to_path_buf();
    let a = engine_with(&[], move |cfg| cfg.prompts_dir = prompts).await;
    let mut b = engine(&[("96777", Target::Flow("main".into()))]).await;
    let far = format!("sip:96777@{}", b.addr);
    let (call, incoming) = tokio::join!(
        a.telephony.originate(Destination::Uri(far), "8001", None),
        async {
            let IncomingCall { call, .. } = next_call(&mut b).await;
            call.answer().await.unwrap();
            call
        }
    );
    let (call, held) = (call.unwrap(), incoming);
    let mut a_events = call.events();
    let mut b_events = held.events();
    let recorder = held.clone();
    let recording = tokio::spawn(async move {
        let spec = RecordSpec {
            max: Duration::from_secs(20),
            silence: None,
            stop_on_digit: false,
            both_ways: false,
        };
        recorder.record(Path::new("held.wav"), &spec).await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    call.hold().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    call.unhold().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    call.hangup().await.unwrap();
    let rec = recording.await.unwrap();
    assert_eq!(
        a_events.recv().await.unwrap(),
        CallEvent::Held { by_us: true }
    );
    assert_eq!(
        a_events.recv().await.unwrap(),
        CallEvent::Resumed { by_us: true }
    );
    assert_eq!(
        b_events.recv().await.unwrap(),
        CallEvent::Held { by_us: false }
    );
    assert_eq!(
        b_events.recv().await.unwrap(),
        CallEvent::Resumed { by_us: false }
    );
    assert!(
        wav_has_tone(&rec.path, 700.0),
        "the held party heard the hold music"
    );
    let secs = wav_seconds(&rec.path);
    assert!((2.5..4.0).contains(&secs), "{secs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_conference_each_hears_everyone_but_itself() {
    let e = engine(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let tones = [("8001", 600.0), ("8002", 1100.0), ("8003", 1900.0)];
    let phones: Vec<Baresip> = tones
        .iter()
        .map(|(u, f)| phone(&e, u, *f, dir.path()))
        .collect();
    let room = e.telephony.room();
    let mut calls: Vec<Call> = Vec::new();
    for (user, _) in tones {
        let c = e
            .telephony
            .originate(Destination::Extension(user.into()), "96777", None)
            .await
            .unwrap();
        room.add(&c).unwrap();
        calls.push(c);
    }
    assert_eq!(room.members(), 3);
    tokio::time::sleep(Duration::from_secs(3)).await;
    for c in &calls {
        c.hangup().await.unwrap();
    }
    for p in &phones {
        assert!(tokio::task::block_in_place(
            || p.wait_closed(Duration::from_secs(5))
        ));
    }
    for (i, p) in phones.iter().enumerate() {
        let heard = p.recording();
        for (j, (_, f)) in tones.iter().enumerate() {
            assert_eq!(
                wav_has_tone(&heard, *f),
                i != j,
                "phone {} and the {f} Hz tone of phone {}",
                tones[i].0,
                tones[j].0
            );
        }
    }
    room.close();
    let s = e.telephony.stats();
    assert_eq!((s.legs, s.rtp_ports_in_use), (0, 0), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refer_from_kefu_makes_the_phone_call_the_target() {
    let mut e = engine(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let first = phone(&e, "8001", 600.0, dir.path());
    let second = phone(&e, "8002", 1100.0, dir.path());
    let call = e
        .telephony
        .originate(Destination::Extension("8001".into()), "96777", None)
        .await
        .unwrap();
    // Phone 8001 is asked to call 8002 instead: it sends a new INVITE (with digest) to kefu.
    let target = format!("sip:8002@{}", e.addr);
    call.refer(&target)
        .await
        .expect("the phone accepts the REFER");
    let IncomingCall {
        call: new_leg,
        target,
    } = next_call(&mut e).await;
    assert_eq!(target, Target::Extension("8002".into()));
    assert_eq!(
        new_leg.info().extension.as_deref(),
        Some("8001"),
        "the phone authenticated as 8001"
    );
    let outbound = e
        .telephony
        .originate(Destination::Extension("8002".into()), "8001", None)
        .await
        .unwrap();
    new_leg.answer().await.unwrap();
    let room = e.telephony.bridge(&new_leg, &outbound).unwrap();
    assert!(tokio::task::block_in_place(
        || second.wait_established(Duration::from_secs(5))
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    new_leg.hangup().await.unwrap();
    outbound.hangup().await.unwrap();
    room.close();
    let _ = call.hangup().await;
    assert!(
        wav_has_tone(&second.recording(), 600.0),
        "8002 hears 8001 after the transfer"
    );
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_from_a_phone_connects_the_caller_to_the_target() {
    let mut e = engine(&[("96700", Target::Extension("8001".into()))]).await;
    let incoming = std::mem::replace(&mut e.incoming, tokio::sync::mpsc::channel(1).1);
    tokio::spawn(kefu_telephony::entry::serve(
        e.telephony.clone(),
        incoming,
        Default::default(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let agent = phone(&e, "8001", 600.0, dir.path());
    let colleague = phone(&e, "8002", 1100.0, dir.path());
    // A caller (SIPp) reaches 8001 through kefu and waits for kefu's BYE.
    let caller = tokio::spawn(sipp(
        Sipp::new(scenario("callee_hangs_up.xml"))
            .remote(e.addr)
            .service("96700"),
    ));
    assert!(
        tokio::task::block_in_place(|| agent.wait_established(Duration::from_secs(10))),
        "{:?}",
        agent.events()
    );
    // The agent transfers the caller to 8002 (REFER from the phone).
    agent
        .command("transfer", Some(&format!("sip:8002@{}", e.addr)))
        .expect("baresip sends REFER");
    assert!(
        tokio::task::block_in_place(|| colleague.wait_established(Duration::from_secs(10))),
        "{:?}",
        colleague.events()
    );
    assert!(
        tokio::task::block_in_place(|| agent.wait_closed(Duration::from_secs(10))),
        "the agent's leg ended"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let legs = e.telephony.calls();
    assert_eq!(legs.len(), 2, "the caller and 8002 remain: {legs:?}");
    for l in legs {
        l.hangup().await.unwrap();
    }
    caller.await.unwrap().assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attended_transfer_connects_the_held_caller_to_the_consulted_party() {
    let e = engine(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let caller = phone(&e, "8001", 600.0, dir.path());
    let _agent = phone(&e, "8002", 1100.0, dir.path());
    let expert = phone(&e, "8003", 1900.0, dir.path());
    let a = e
        .telephony
        .originate(Destination::Extension("8001".into()), "96777", None)
        .await
        .unwrap();
    let b = e
        .telephony
        .originate(Destination::Extension("8002".into()), "96777", None)
        .await
        .unwrap();
    let first = e.telephony.bridge(&a, &b).unwrap();
    // The agent holds the caller and consults the expert.
    first.remove(&a);
    tokio::time::timeout(Duration::from_secs(10), a.hold())
        .await
        .expect("hold within 10 s")
        .unwrap();
    let c = e
        .telephony
        .originate(Destination::Extension("8003".into()), "8002", None)
        .await
        .unwrap();
    let consult = e.telephony.bridge(&b, &c).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The agent completes the transfer and leaves.
    consult.remove(&c);
    let _room = tokio::time::timeout(
        Duration::from_secs(10),
        e.telephony.attended_transfer(&a, &c),
    )
    .await
    .expect("transfer within 10 s")
    .unwrap();
    let recording = c
        .start_recording(Path::new("transfer.wav"), Duration::from_secs(60))
        .unwrap();
    b.hangup().await.unwrap();
    first.close();
    consult.close();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        e.telephony.calls().len(),
        2,
        "the caller and the expert talk"
    );
    c.hangup().await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), a.wait_ended())
        .await
        .expect("the caller's leg ends");
    assert_eq!(
        end.cause, "normal_clearing",
        "the caller's leg ended with the expert's"
    );
    assert!(tokio::task::block_in_place(
        || caller.wait_closed(Duration::from_secs(5))
    ));
    let dumps = |p: &Baresip| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(p.dir().join("recordings"))
            .unwrap()
            .flatten()
            .map(|d| d.path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect()
    };
    assert!(
        dumps(&expert).iter().any(|d| wav_has_tone(d, 600.0)),
        "the expert heard the caller"
    );
    // baresip 1.0 stops decoding once held, so what the caller hears is checked in kefu's recording of
    // the expert's leg (both directions): the caller's tone and the expert's.
    assert!(
        wav_has_tone(&recording, 600.0) && wav_has_tone(&recording, 1900.0),
        "caller and expert talk"
    );
    assert!(!wav_has_tone(&recording, 1100.0), "the agent is gone");
}

/// A queue rings several phones and keeps the first that answers: the others must be stopped with a
/// CANCEL (SIPp's ringing phone checks it gets one, answers 487 and the ACK), and nothing leaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn originate_until_cancels_a_ringing_phone_when_told() {
    let phone = Sipp::new(scenario("uas_ring.xml"))
        .calls(1)
        .timeout(Duration::from_secs(20))
        .spawn();
    let e = engine(&[]).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        stopper.cancel();
    });
    let started = std::time::Instant::now();
    let r = e
        .telephony
        .originate_until(
            Destination::Uri(format!("sip:8001@{}", phone.sip_addr())),
            "96777",
            None,
            Duration::from_secs(15),
            stop,
        )
        .await;
    assert!(
        matches!(r, Err(kefu_telephony::OriginateError::Cancelled)),
        "{:?}",
        r.err()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    tokio::task::spawn_blocking(move || phone.wait())
        .await
        .unwrap()
        .assert_ok();
    // The leg is gone, its port back in the pool.
    for _ in 0..100 {
        if e.telephony.stats().legs == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(e.telephony.stats().legs, 0);
    assert_eq!(e.telephony.stats().rtp_ports_in_use, 0);
}
