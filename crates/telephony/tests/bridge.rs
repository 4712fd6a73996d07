//! A SIPp caller bridged through kefu (B2BUA, media through kefu) to baresip registered as extension 8001
//! with digest: audio flows both ways, checked by content (each side's tone is in what the other side
//! received and in kefu's recording of the call).

mod common;
mod support;

use std::time::Duration;

use common::{PASSWORD, engine, sipp};
use kefu_telephony::entry::EntryPoints;
use kefu_telephony::{Direction, Disposition, Target};
use support::{Baresip, BaresipOptions, Sipp, scenario, wav_has_tone, write_tone_wav};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_baresip_takes_a_bridged_call_with_audio_both_ways() {
    let mut e = engine(&[("96700", Target::Extension("8001".into()))]).await;
    let incoming = std::mem::replace(&mut e.incoming, mpsc::channel(1).1);
    let entry = EntryPoints {
        record_bridged: true,
        ..Default::default()
    };
    tokio::spawn(kefu_telephony::entry::serve(
        e.telephony.clone(),
        incoming,
        entry,
    ));

    let dir = tempfile::tempdir().unwrap();
    let tone = dir.path().join("2khz.wav");
    write_tone_wav(&tone, 2000.0, 5.0);
    let phone = Baresip::start(BaresipOptions {
        registrar: Some(e.addr),
        user: "8001".into(),
        password: PASSWORD.into(),
        audio_in: tone,
        auto_answer: true,
    })
    .expect("baresip starts");
    let registered = tokio::task::block_in_place(|| phone.wait_registered(Duration::from_secs(10)));
    assert!(
        registered,
        "baresip registered with digest: {}",
        phone.log()
    );
    assert_eq!(e.telephony.registrations()[0].extension, "8001");

    // SIPp calls the DID, sends a 1 kHz tone for ~2 s once answered, and hangs up.
    sipp(
        Sipp::new(scenario("caller_hangs_up.xml"))
            .remote(e.addr)
            .service("96700"),
    )
    .await
    .assert_ok();
    let closed = tokio::task::block_in_place(|| phone.wait_closed(Duration::from_secs(10)));
    assert!(
        closed,
        "kefu hung up the phone's leg when the caller left: {:?}",
        phone.events()
    );

    let records = e.directory.wait_records(2).await;
    assert_eq!(
        records[0].call_uuid, records[1].call_uuid,
        "both legs belong to one call"
    );
    let inbound = records
        .iter()
        .find(|r| r.direction == Direction::Inbound)
        .unwrap();
    let outbound = records
        .iter()
        .find(|r| r.direction == Direction::Outbound)
        .unwrap();
    assert_eq!(inbound.disposition, Disposition::Answered);
    assert_eq!(outbound.disposition, Disposition::Answered);
    assert_eq!(outbound.extension.as_deref(), Some("8001"));
    assert_eq!(outbound.callee, "8001");

    // What the phone heard: the caller's 1 kHz tone, relayed by kefu.
    let heard = phone.recording();
    assert!(
        wav_has_tone(&heard, 1000.0),
        "baresip received SIPp's 1 kHz tone ({})",
        heard.display()
    );
    assert!(
        !wav_has_tone(&heard, 3000.0),
        "and not some other tone: the check can fail"
    );
    // kefu's recording of the call holds both directions.
    let path = inbound
        .recording_path
        .clone()
        .expect("the bridged call was recorded");
    assert!(
        wav_has_tone(std::path::Path::new(&path), 1000.0),
        "the recording has the caller's tone"
    );
    assert!(
        wav_has_tone(std::path::Path::new(&path), 2000.0),
        "the recording has the phone's 2 kHz tone"
    );
    let stats = e.telephony.stats();
    assert_eq!((stats.legs, stats.rtp_ports_in_use), (0, 0), "{stats:?}");
}
