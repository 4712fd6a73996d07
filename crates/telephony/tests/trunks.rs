//! Trunks toward a carrier: kefu registers with it (digest) and places outbound calls through it.
//! SIPp plays the carrier.

mod common;
mod support;

use std::time::Duration;

use common::{Memory, RawSip, carrier, engine_on, status};
use kefu_telephony::digest::{Algorithm, ha1};
use kefu_telephony::{Destination, Direction, Disposition, Side};
use support::{Sipp, free_sip_port, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kefu_registers_with_a_carrier_that_challenges() {
    let port = free_sip_port(false);
    let carrier_addr = format!("127.0.0.1:{port}").parse().unwrap();
    let registrar = Sipp::new(scenario("uas_registrar.xml"))
        .local_port(port)
        .calls(1)
        .timeout(Duration::from_secs(20))
        .spawn();
    let e = engine_on(
        Memory::new(&[]).with_trunk(carrier("电信", carrier_addr, true)),
        |_| {},
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let regs = e.telephony.trunk_registrations();
        if regs.first().is_some_and(|r| r.registered) {
            assert_eq!(regs[0].trunk_name, "电信");
            assert_eq!(regs[0].last_status, Some(200));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not registered with the carrier: {regs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::task::spawn_blocking(move || registrar.wait())
        .await
        .unwrap()
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_call_through_the_trunk_carries_audio_and_writes_a_call_record() {
    let port = free_sip_port(false);
    let carrier_addr = format!("127.0.0.1:{port}").parse().unwrap();
    let far_end = Sipp::new(scenario("uas_answer.xml"))
        .local_port(port)
        .calls(1)
        .timeout(Duration::from_secs(30))
        .spawn();
    let e = engine_on(
        Memory::new(&[]).with_trunk(carrier("电信", carrier_addr, false)),
        |_| {},
    )
    .await;
    let call = e
        .telephony
        .originate(
            Destination::Trunk {
                trunk: "电信".into(),
                number: "13800138000".into(),
            },
            "8001",
            None,
        )
        .await
        .expect("the carrier answers");
    assert_eq!(call.info().direction, Direction::Outbound);
    assert_eq!(
        call.info().caller,
        "057496777",
        "the trunk's caller ID is presented"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        call.packets_received() > 50,
        "RTP from the far end: {}",
        call.packets_received()
    );
    call.hangup().await.unwrap();
    tokio::task::spawn_blocking(move || far_end.wait())
        .await
        .unwrap()
        .assert_ok();
    let r = &e.directory.wait_records(1).await[0];
    assert_eq!(r.direction, Direction::Outbound);
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(r.callee, "13800138000");
    assert_eq!(
        r.hangup_side,
        Side::Caller,
        "kefu placed the leg and hung it up"
    );
    assert!(r.trunk_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_an_unregistered_extension_fails_cleanly() {
    let e = engine_on(Memory::new(&[]), |_| {}).await;
    let err = e
        .telephony
        .originate(Destination::Extension("8001".into()), "96777", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
    assert_eq!(e.telephony.stats().rtp_ports_in_use, 0);
}

fn digest_trunk(allowed: &[&str]) -> kefu_telephony::Trunk {
    let mut t = carrier("网通", "127.0.0.1:9".parse().unwrap(), false);
    t.allowed_sources = allowed.iter().map(|a| a.parse().unwrap()).collect();
    t.inbound_username = Some("carrier-in".into());
    t.inbound_ha1_md5 = Some(ha1(Algorithm::Md5, "carrier-in", "kefu", "in-secret"));
    t
}

/// Answers every inbound call with 486, recording the trunk it came over.
fn busy_app(e: &mut common::Engine) -> tokio::sync::mpsc::UnboundedReceiver<Option<uuid::Uuid>> {
    let mut incoming = std::mem::replace(&mut e.incoming, tokio::sync::mpsc::channel(1).1);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(c) = incoming.recv().await {
            let _ = tx.send(c.call.info().trunk_id);
            let _ = c.call.reject(486).await;
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carrier_that_authenticates_with_digest_is_challenged_then_accepted() {
    let trunk = digest_trunk(&[]);
    let id = trunk.id;
    let mut e = engine_on(
        Memory::new(&[("96777", kefu_telephony::Target::Flow("main".into()))]).with_trunk(trunk),
        |_| {},
    )
    .await;
    let mut trunk_ids = busy_app(&mut e);
    let addr = e.addr;
    tokio::task::spawn_blocking(move || {
        let mut c = RawSip::new("127.0.0.51", addr);
        let wrong = c
            .invite_with_password("96777", "carrier-in", "guess")
            .unwrap();
        assert_eq!(status(&wrong), 403, "{wrong}");
        let ok = c
            .invite_with_password("96777", "carrier-in", "in-secret")
            .unwrap();
        assert_eq!(
            status(&ok),
            486,
            "authenticated, routed, and refused by the app: {ok}"
        );
    })
    .await
    .unwrap();
    assert_eq!(
        trunk_ids.recv().await.unwrap(),
        Some(id),
        "the call is the digest trunk's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_listed_carrier_with_digest_needs_both() {
    let mut e = engine_on(
        Memory::new(&[("96777", kefu_telephony::Target::Flow("main".into()))])
            .with_trunk(digest_trunk(&["127.0.0.52/32"])),
        |_| {},
    )
    .await;
    let _apps = busy_app(&mut e);
    let addr = e.addr;
    tokio::task::spawn_blocking(move || {
        let mut listed = RawSip::new("127.0.0.52", addr);
        let first = listed.invite("96777", None).unwrap();
        assert_eq!(
            status(&first),
            407,
            "the allow-listed source still authenticates: {first}"
        );
        let mut stranger = RawSip::new("127.0.0.53", addr);
        let r = stranger.invite("96777", None).unwrap();
        assert_eq!(
            status(&r),
            403,
            "another source with no digest-only trunk is refused: {r}"
        );
    })
    .await
    .unwrap();
}
