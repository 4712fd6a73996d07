//! The engine against real SIP peers on loopback: SIPp scenarios for inbound calls (hung up by each side,
//! cancelled, DTMF, hold), and baresip registered as an extension receiving a bridged call.

mod common;
mod support;

use std::time::Duration;

use common::{Engine, engine, sipp};
use kefu_telephony::{CallEvent, CollectEnd, CollectSpec, Disposition, IncomingCall, Side, Target};
use support::{Sipp, scenario};
use tokio::sync::mpsc;

async fn next_call(e: &mut Engine) -> IncomingCall {
    tokio::time::timeout(Duration::from_secs(10), e.incoming.recv())
        .await
        .expect("an inbound call within 10 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_call_answered_and_hung_up_by_the_caller() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, target } = next_call(&mut e).await;
    assert_eq!(target, Target::Flow("main".into()));
    assert_eq!(call.info().callee, "96777");
    let mut events = call.events();
    call.answer().await.unwrap();
    let end = call.wait_ended().await;
    assert_eq!(end.side, Side::Caller);
    assert_eq!(end.disposition, Disposition::Answered);
    run.await.unwrap().assert_ok();
    assert!(
        call.packets_received() > 20,
        "kefu received the caller's RTP: {}",
        call.packets_received()
    );
    let mut seen = Vec::new();
    while let Ok(ev) = events.try_recv() {
        seen.push(ev);
    }
    assert!(seen.contains(&CallEvent::Answered), "{seen:?}");
    assert!(matches!(seen.last(), Some(CallEvent::Ended(_))), "{seen:?}");
    let records = e.directory.wait_records(1).await;
    let r = &records[0];
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(r.hangup_side, Side::Caller);
    assert_eq!(r.hangup_cause, "normal_clearing");
    assert_eq!(r.callee, "96777");
    assert!(r.trunk_id.is_some(), "came in through the trusted trunk");
    assert!(r.answered_at.is_some() && r.answered_at.unwrap() <= r.ended_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entry_greeting_plays_then_kefu_hangs_up() {
    let mut e = engine(&[("96777", Target::Prompt("welcome".into()))]).await;
    let incoming = std::mem::replace(&mut e.incoming, mpsc::channel(1).1);
    tokio::spawn(kefu_telephony::entry::serve(
        e.telephony.clone(),
        incoming,
        Default::default(),
    ));
    let started = std::time::Instant::now();
    sipp(
        Sipp::new(scenario("callee_hangs_up.xml"))
            .remote(e.addr)
            .service("96777"),
    )
    .await
    .assert_ok();
    let records = e.directory.wait_records(1).await;
    let r = &records[0];
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(
        r.hangup_side,
        Side::Callee,
        "kefu (the callee of an inbound leg) hung up"
    );
    let talk = r.ended_at - r.answered_at.unwrap();
    assert!(
        talk >= chrono::TimeDelta::seconds(2),
        "the greeting (several seconds) played before the BYE: {talk}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_answer_ends_the_leg_as_cancelled() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("cancel.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    let mut events = call.events();
    call.ring().await.unwrap();
    let end = call.wait_ended().await;
    assert_eq!(events.recv().await.unwrap(), CallEvent::Ringing);
    assert!(matches!(events.recv().await.unwrap(), CallEvent::Ended(_)));
    assert_eq!(end.disposition, Disposition::Cancelled);
    assert_eq!(end.side, Side::Caller);
    run.await.unwrap().assert_ok();
    assert!(
        call.answer().await.is_err(),
        "an ended leg cannot be answered"
    );
    let r = &e.directory.wait_records(1).await[0];
    assert_eq!(r.disposition, Disposition::Cancelled);
    assert_eq!(r.sip_status, Some(487));
    assert!(r.answered_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4733_digits_arrive_as_events_and_collect() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("dtmf.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    let mut events = call.events();
    call.answer().await.unwrap();
    let spec = CollectSpec {
        max_digits: 3,
        first_digit_timeout: Duration::from_secs(10),
        inter_digit_timeout: Duration::from_secs(5),
        terminator: None,
    };
    let got = call.collect(&spec).await.unwrap();
    assert_eq!(got.digits, "123");
    assert_eq!(got.end, CollectEnd::MaxDigits);
    let mut digits = String::new();
    while let Ok(ev) = events.try_recv() {
        if let CallEvent::Digit(d) = ev {
            digits.push(d);
        }
    }
    assert_eq!(
        digits, "123",
        "each key press is one event although RFC 4733 repeats packets"
    );
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinvite_hold_and_resume_are_events() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("hold.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    let mut events = call.events();
    call.answer().await.unwrap();
    let end = call.wait_ended().await;
    assert_eq!(end.side, Side::Caller);
    run.await.unwrap().assert_ok();
    let mut seen = Vec::new();
    while let Ok(ev) = events.try_recv() {
        seen.push(ev);
    }
    let held = seen
        .iter()
        .position(|e| *e == CallEvent::Held { by_us: false })
        .unwrap_or_else(|| panic!("held: {seen:?}"));
    let resumed = seen
        .iter()
        .position(|e| *e == CallEvent::Resumed { by_us: false })
        .unwrap_or_else(|| panic!("resumed: {seen:?}"));
    assert!(held < resumed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_outside_a_dialog_is_answered() {
    let e = engine(&[]).await;
    sipp(Sipp::new(scenario("options.xml")).remote(e.addr))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrouted_number_gets_404_and_no_leg() {
    let e = engine(&[]).await;
    let run = sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("12345"),
    )
    .await;
    assert_eq!(run.successful, 0);
    assert!(run.log.contains("404"), "{}", run.log);
    assert_eq!(e.telephony.stats().legs, 0);
    assert_eq!(e.telephony.stats().rtp_ports_in_use, 0);
}

/// Regression: `wait_ended` called after the leg had ended, with nobody waiting at the time, never
/// returned (a watch channel drops a value sent while it has no receivers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_ended_returns_at_once_for_a_leg_that_already_ended() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    run.await.unwrap().assert_ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while call.phase() != kefu_telephony::Phase::Ended {
        assert!(
            std::time::Instant::now() < deadline,
            "the caller's BYE ended the leg"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let end = tokio::time::timeout(Duration::from_secs(1), call.wait_ended())
        .await
        .expect("returns at once");
    assert_eq!(end.side, Side::Caller);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_tcp_is_answered_and_hung_up() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("96777")
            .tcp(),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let end = call.wait_ended().await;
    assert_eq!(end.side, Side::Caller);
    run.await.unwrap().assert_ok();
    assert!(call.packets_received() > 20);
}

/// SIPp's `play_dtmf` sends RFC 4733 on payload type 96 (offered so in the SDP) and filler packets on
/// 97: the digits come through on the offered type, the filler is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telephone_events_on_the_offered_payload_type_are_digits() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("dtmf_play.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let spec = CollectSpec {
        max_digits: 3,
        first_digit_timeout: Duration::from_secs(10),
        inter_digit_timeout: Duration::from_secs(5),
        terminator: None,
    };
    assert_eq!(call.collect(&spec).await.unwrap().digits, "123");
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
}

/// A phone behind NAT announces an address it cannot be reached at; kefu sends its audio to where the
/// phone's RTP comes from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_goes_back_to_where_the_peer_sends_from() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let addr = e.addr;
    let app = tokio::spawn(async move {
        let IncomingCall { call, .. } = next_call(&mut e).await;
        call.answer().await.unwrap();
        (call, e)
    });
    let got = tokio::task::spawn_blocking(move || {
        let mut phone = common::RawSip::new("127.0.0.1", addr);
        // The SDP says port 9 (discard): nothing listens there.
        let ok = phone.invite_offering("96777", 9).expect("an answer");
        assert_eq!(common::status(&ok), 200, "{ok}");
        phone.ack(&ok);
        let port = common::answered_rtp_port(&ok);
        let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 2048];
        let mut received = 0;
        for seq in 0u16..40 {
            rtp.send_to(&common::pcma_silence_packet(seq), ("127.0.0.1", port))
                .unwrap();
            if let Ok((n, _)) = rtp.recv_from(&mut buf)
                && n > 12
                && buf[1] & 0x7f == 8
            {
                received += 1;
            }
        }
        received
    })
    .await
    .unwrap();
    let (call, _e) = app.await.unwrap();
    assert!(
        got > 10,
        "kefu's RTP reached the socket the peer sends from: {got} packets"
    );
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_info_digits_are_digits_too() {
    let mut e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let run = tokio::spawn(sipp(
        Sipp::new(scenario("info_dtmf.xml"))
            .remote(e.addr)
            .service("96777"),
    ));
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let spec = CollectSpec {
        max_digits: 2,
        first_digit_timeout: Duration::from_secs(10),
        inter_digit_timeout: Duration::from_secs(5),
        terminator: None,
    };
    assert_eq!(call.collect(&spec).await.unwrap().digits, "42");
    call.wait_ended().await;
    run.await.unwrap().assert_ok();
}

/// A peer that stops sending RTP (a phone that lost its network) is hung up after the media timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_audio_stops_is_ended_after_the_media_timeout() {
    let mut e = common::engine_with(&[("96777", Target::Flow("main".into()))], |cfg| {
        cfg.media_timeout = Duration::from_secs(1)
    })
    .await;
    let addr = e.addr;
    let phone = tokio::task::spawn_blocking(move || {
        let mut phone = common::RawSip::new("127.0.0.1", addr);
        let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let ok = phone
            .invite_offering("96777", rtp.local_addr().unwrap().port())
            .expect("an answer");
        phone.ack(&ok);
        let port = common::answered_rtp_port(&ok);
        // Half a second of audio, then nothing.
        for seq in 0u16..25 {
            rtp.send_to(&common::pcma_silence_packet(seq), ("127.0.0.1", port))
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        phone
    });
    let IncomingCall { call, .. } = next_call(&mut e).await;
    call.answer().await.unwrap();
    let _phone = phone.await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), call.wait_ended())
        .await
        .expect("the silent call is ended");
    assert_eq!(end.cause, "media_timeout");
    assert_eq!(end.side, Side::System);
    assert_eq!(end.disposition, Disposition::Answered);
    assert!(call.packets_received() >= 20);
}
