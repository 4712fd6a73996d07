//! The real-peer harness checked without the engine: each SIPp scenario against a SIPp counterpart on
//! loopback, baresip calling baresip with audio checked both ways, the WAV checks on known audio (and
//! that they can fail), the ports, and the prompts in assets/.

mod support;

use std::path::Path;
use std::thread;
use std::time::Duration;

use support::*;

/// Runs `uas` as a server, points `uac` at it, and returns both runs (server, client).
fn pair(uas: Sipp, uac: Sipp) -> (SippRun, SippRun) {
    let server = uas.timeout(Duration::from_secs(30)).spawn();
    let client = uac
        .remote(server.sip_addr())
        .timeout(Duration::from_secs(30))
        .run();
    (server.wait(), client)
}

fn assert_pair_ok(uas: Sipp, uac: Sipp) {
    let (server, client) = pair(uas, uac);
    client.assert_ok();
    server.assert_ok();
    assert_eq!(client.retransmissions, 0, "{}", client.log);
}

#[test]
fn sipp_caller_hangs_up() {
    assert_pair_ok(
        Sipp::new("uas_answer.xml"),
        Sipp::new("caller_hangs_up.xml").service("1000"),
    );
}

#[test]
fn sipp_caller_hangs_up_over_tcp() {
    assert_pair_ok(
        Sipp::new("uas_answer.xml").tcp(),
        Sipp::new("caller_hangs_up.xml").service("1000").tcp(),
    );
}

#[test]
fn sipp_caller_hangs_up_against_sipps_builtin_uas() {
    assert_pair_ok(
        Sipp::builtin("uas"),
        Sipp::new(scenario("caller_hangs_up.xml")),
    );
}

#[test]
fn sipp_callee_hangs_up() {
    assert_pair_ok(
        Sipp::new("uas_answer_hangup.xml").call_duration(Duration::from_millis(500)),
        Sipp::new("callee_hangs_up.xml"),
    );
}

#[test]
fn sipp_cancel() {
    assert_pair_ok(Sipp::new("uas_ring.xml"), Sipp::new("cancel.xml"));
}

#[test]
fn sipp_hold_and_resume() {
    assert_pair_ok(Sipp::new("uas_hold.xml"), Sipp::new("hold.xml"));
}

#[test]
fn sipp_dtmf_from_pcaps_and_from_play_dtmf() {
    assert_pair_ok(Sipp::new("uas_answer.xml"), Sipp::new("dtmf.xml"));
    assert_pair_ok(Sipp::new("uas_answer.xml"), Sipp::new("dtmf_play.xml"));
}

#[test]
fn sipp_options() {
    assert_pair_ok(Sipp::new("uas_options.xml"), Sipp::new("options.xml"));
}

#[test]
fn sipp_register_with_digest_right_and_wrong_password() {
    let registrar = || Sipp::new("uas_registrar.xml");
    assert_pair_ok(
        registrar(),
        Sipp::new("register_digest.xml")
            .service("1001")
            .auth("1001", "secret"),
    );
    assert_pair_ok(
        registrar(),
        Sipp::new("register_wrong.xml")
            .service("1001")
            .auth("1001", "wrong"),
    );
    // The checks bite: register_digest fails when the password is refused, register_wrong when accepted.
    let (_, client) = pair(
        registrar(),
        Sipp::new("register_digest.xml")
            .service("1001")
            .auth("1001", "wrong"),
    );
    client.assert_failed();
    let (_, client) = pair(
        registrar(),
        Sipp::new("register_wrong.xml")
            .service("1001")
            .auth("1001", "secret"),
    );
    client.assert_failed();
}

#[test]
fn sipp_bench_scenarios_with_several_calls() {
    for bench in ["bench_playback.xml", "bench_audio.xml"] {
        assert_pair_ok(
            Sipp::new("uas_answer.xml").calls(3),
            Sipp::new(bench)
                .calls(3)
                .rate(10)
                .call_duration(Duration::from_millis(800)),
        );
    }
}

#[test]
fn sipp_failure_is_reported() {
    // Nobody answers on this port: the INVITE is retransmitted until the run's timeout.
    let nobody = std::net::SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    let run = Sipp::new("options.xml")
        .remote(nobody)
        .timeout(Duration::from_secs(2))
        .run();
    assert!(!run.is_ok(), "{}", run.log);
    assert!(run.log.contains("exit code"), "{}", run.log);
}

/// Baresip A (auto-answer, sends 1 kHz) called by baresip B (sends 2 kHz): each hears the other's tone,
/// not its own and not a third one; DTMF from B arrives at A as events.
#[test]
fn baresip_calls_baresip_and_each_hears_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (tone_a, tone_b) = (dir.path().join("1k.wav"), dir.path().join("2k.wav"));
    write_tone_wav(&tone_a, 1000.0, 3.0);
    write_tone_wav(&tone_b, 2000.0, 3.0);
    let a = Baresip::start(BaresipOptions {
        user: "alice".into(),
        audio_in: tone_a,
        auto_answer: true,
        ..BaresipOptions::default()
    })
    .unwrap();
    let b = Baresip::start(BaresipOptions {
        user: "bob".into(),
        audio_in: tone_b,
        ..BaresipOptions::default()
    })
    .unwrap();

    b.dial(&a.uri());
    assert!(
        b.wait_established(Duration::from_secs(10)),
        "B: {:?}\n{}",
        b.events(),
        b.log()
    );
    assert!(
        a.wait_established(Duration::from_secs(10)),
        "A: {:?}\n{}",
        a.events(),
        a.log()
    );
    thread::sleep(Duration::from_secs(2));
    b.send_dtmf("19");
    thread::sleep(Duration::from_secs(1));
    b.hangup();
    assert!(
        b.wait_closed(Duration::from_secs(10)),
        "B: {:?}",
        b.events()
    );
    assert!(
        a.wait_closed(Duration::from_secs(10)),
        "A: {:?}",
        a.events()
    );

    let (heard_a, heard_b) = (a.recording(), b.recording());
    assert!(
        wav_seconds(&heard_a) > 2.0,
        "A recorded {:?} s: {}",
        wav_seconds(&heard_a),
        a.log()
    );
    assert!(wav_has_tone(&heard_a, 2000.0), "A did not hear B's 2 kHz");
    assert!(!wav_has_tone(&heard_a, 1000.0), "A heard its own 1 kHz");
    assert!(
        !wav_has_tone(&heard_a, 3000.0),
        "A heard a 3 kHz nobody sent"
    );
    assert!(wav_has_tone(&heard_b, 1000.0), "B did not hear A's 1 kHz");
    assert!(!wav_has_tone(&heard_b, 2000.0), "B heard its own 2 kHz");
    assert!(
        wav_has_tone(&b.sent_audio(), 2000.0),
        "B's sent audio is not its 2 kHz"
    );
    let events = a.events();
    for digit in ["1", "9"] {
        assert!(
            events.contains(&format!("CALL_DTMF_START {digit}")),
            "A's events: {events:?}"
        );
    }
}

#[test]
fn baresip_registers_with_digest() {
    let registrar = Sipp::new("uas_registrar.xml")
        .timeout(Duration::from_secs(20))
        .spawn();
    let phone = Baresip::start(BaresipOptions {
        registrar: Some(registrar.sip_addr()),
        user: "1001".into(),
        password: "secret".into(),
        ..BaresipOptions::default()
    })
    .unwrap();
    assert!(
        phone.wait_registered(Duration::from_secs(10)),
        "{:?}\n{}",
        phone.events(),
        phone.log()
    );
    registrar.wait().assert_ok();

    let registrar = Sipp::new("uas_registrar.xml")
        .timeout(Duration::from_secs(20))
        .spawn();
    let phone = Baresip::start(BaresipOptions {
        registrar: Some(registrar.sip_addr()),
        user: "1001".into(),
        password: "wrong".into(),
        ..BaresipOptions::default()
    })
    .unwrap();
    assert!(
        !phone.wait_registered(Duration::from_secs(2)),
        "registered with a wrong password: {:?}",
        phone.events()
    );
    let run = registrar.wait();
    run.assert_ok();
    assert!(run.log.contains("SIP/2.0 403 Forbidden"), "{}", run.log);
}

#[test]
fn baresip_refuses_audio_it_cannot_send() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("16k.wav");
    write_wav(&wav, 16000, &[0; 16000]).unwrap();
    let err = Baresip::start(BaresipOptions {
        audio_in: wav,
        ..BaresipOptions::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("8 kHz mono"), "{err}");
}

#[test]
fn tone_detection_finds_tones_and_only_them() {
    let dir = tempfile::tempdir().unwrap();
    let one_k = dir.path().join("1k.wav");
    write_tone_wav(&one_k, 1000.0, 2.0);
    assert!(wav_has_tone(&one_k, 1000.0));
    for other in [400.0, 990.0, 2000.0, 3000.0] {
        assert!(
            !wav_has_tone(&one_k, other),
            "{other} Hz found in a 1 kHz tone"
        );
    }
    assert!(
        (wav_rms(&one_k) - 0.316 / 2f64.sqrt()).abs() < 0.01,
        "rms {}",
        wav_rms(&one_k)
    );
    assert!((wav_seconds(&one_k) - 2.0).abs() < 1e-9);

    // A mix of two tones has both; silence, noise and a missing file have none.
    let mix = dir.path().join("mix.wav");
    let samples: Vec<i16> = (0..16000)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            (5000.0 * (std::f64::consts::TAU * 1000.0 * t).sin()
                + 5000.0 * (std::f64::consts::TAU * 2000.0 * t).sin()) as i16
        })
        .collect();
    write_wav(&mix, 8000, &samples).unwrap();
    assert!(
        wav_has_tone(&mix, 1000.0) && wav_has_tone(&mix, 2000.0) && !wav_has_tone(&mix, 3000.0)
    );

    let silence = dir.path().join("silence.wav");
    write_wav(&silence, 8000, &[0; 16000]).unwrap();
    assert!(!wav_has_tone(&silence, 1000.0));
    assert_eq!(wav_rms(&silence), 0.0);

    let noise = dir.path().join("noise.wav");
    let mut x: u32 = 1;
    let samples: Vec<i16> = (0..16000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 16) as i16 / 4
        })
        .collect();
    write_wav(&noise, 8000, &samples).unwrap();
    assert!(!wav_has_tone(&noise, 1000.0));
    assert!(wav_rms(&noise) > 0.1);

    assert!(!wav_has_tone(Path::new("/nonexistent.wav"), 1000.0));
    assert_eq!(wav_rms(Path::new("/nonexistent.wav")), 0.0);

    // Only the first 0.5 s has the tone: skipped, so no tone.
    let early = dir.path().join("early.wav");
    let mut samples = vec![0i16; 16000];
    for (i, s) in samples.iter_mut().take(4000).enumerate() {
        *s = (8000.0 * (std::f64::consts::TAU * 1000.0 * i as f64 / 8000.0).sin()) as i16;
    }
    write_wav(&early, 8000, &samples).unwrap();
    assert!(!wav_has_tone(&early, 1000.0));
}

#[test]
fn wav_reader_takes_a_header_not_yet_fixed() {
    // sndfile writes the data size when it closes the file; while a call lasts it may read 0.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.wav");
    write_tone_wav(&path, 1000.0, 1.0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40..44].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_wav(&path).unwrap().samples.len(), 8000);
}

#[test]
fn ports_are_free_and_never_handed_out_twice() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let (first, last) = free_rtp_range(10);
        assert_eq!(first % 2, 0);
        assert_eq!(last - first, 9);
        for p in first..=last {
            assert!(seen.insert(p), "port {p} handed out twice");
        }
    }
    for _ in 0..20 {
        assert!(seen.insert(free_udp_port()));
        assert!(seen.insert(free_tcp_port()));
        let sip = free_sip_port(true);
        assert!(seen.insert(sip) && seen.insert(sip + 1));
        std::net::UdpSocket::bind(("127.0.0.1", sip)).unwrap();
        std::net::TcpListener::bind(("127.0.0.1", sip)).unwrap();
    }
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(udp_bound(socket.local_addr().unwrap().port()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(tcp_listening(listener.local_addr().unwrap().port()));
}

#[test]
fn prompts_are_small_8khz_mono_wavs() {
    for name in [
        "zh-CN/welcome.wav",
        "en/welcome.wav",
        "hold_music.wav",
        "beep.wav",
    ] {
        let path = prompt(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(size < 200 * 1024, "{name}: {size} bytes");
        let wav = read_wav(&path).unwrap();
        assert_eq!((wav.rate, wav.channels), (8000, 1), "{name}");
        assert!(wav_rms(&path) > 0.02, "{name} is (nearly) silent");
    }
    assert!((wav_seconds(&prompt("beep.wav")) - 0.4).abs() < 0.01);
    assert!(wav_seconds(&prompt("hold_music.wav")) >= 9.9);
    // the beep is 1 kHz (it is shorter than the 0.5 s wav_has_tone skips, so check it directly)
    let beep = read_wav(&prompt("beep.wav")).unwrap();
    let padded = dir_with(&beep.samples);
    assert!(wav_has_tone(&padded.1, 1000.0));
}

/// The samples after 0.5 s of silence, in a temporary WAV (kept alive with its directory).
fn dir_with(samples: &[i16]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("padded.wav");
    let mut all = vec![0i16; 4000];
    all.extend_from_slice(samples);
    write_wav(&path, 8000, &all).unwrap();
    (dir, path)
}

/// baresip calls SIPp's uas_answer.xml, which answers and plays tone_pcma_1khz.pcap (2 s of 1 kHz PCMA):
/// the generated pcap is real G.711 audio, and baresip's SIP and SDP are loopback only.
#[test]
fn baresip_hears_the_tone_pcap_sipp_plays() {
    let uas = Sipp::new("uas_answer.xml")
        .timeout(Duration::from_secs(20))
        .spawn();
    let phone = Baresip::start(BaresipOptions::default()).unwrap();
    phone.dial(&format!("sip:1000@{}", uas.sip_addr()));
    assert!(
        phone.wait_established(Duration::from_secs(10)),
        "{:?}\n{}",
        phone.events(),
        phone.log()
    );
    thread::sleep(Duration::from_millis(2600));
    phone.hangup();
    assert!(phone.wait_closed(Duration::from_secs(10)));
    let run = uas.wait();
    run.assert_ok();
    assert!(wav_has_tone(&phone.recording(), 1000.0), "{}", phone.log());
    assert!(!wav_has_tone(&phone.recording(), 2000.0));
    // Every address baresip put in its INVITE (Via, Contact, SDP) is on loopback.
    let messages = run.sip_messages();
    let invite = messages
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .expect("INVITE in the trace");
    assert!(invite.contains("\r\nc=IN IP4 127.0.0.1\r\n"), "{invite}");
    assert!(invite.contains("\r\nm=audio "), "{invite}");
    for line in invite
        .lines()
        .filter(|l| l.starts_with("Via:") || l.starts_with("Contact:"))
    {
        assert!(line.contains("127.0.0.1"), "{line}");
    }
    assert!(
        messages.iter().any(|m| m.starts_with("BYE ")),
        "{messages:?}"
    );
}
