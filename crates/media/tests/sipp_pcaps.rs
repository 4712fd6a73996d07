//! The RTP that SIPp 3.6 really sends, from the pcap files of Debian's sip-tester package
//! (/usr/share/sip-tester, installed by scripts/deps.sh): RFC 4733 key presses and 30 ms PCMA audio.
//! Where the package is missing the checks are reported as skipped and pass.

use std::path::Path;

use kefu_media::jitter::{JitterBuffer, Pop};
use kefu_media::telephone_event::{self, EventReceiver};
use kefu_media::{Codec, FRAME_SAMPLES, rtp};

const SIPP_DIR: &str = "/usr/share/sip-tester";

/// The UDP payloads of a classic little-endian pcap of Ethernet/IPv4/UDP frames.
fn udp_payloads(pcap: &[u8]) -> Vec<&[u8]> {
    assert_eq!(
        &pcap[..4],
        &[0xD4, 0xC3, 0xB2, 0xA1],
        "little-endian pcap magic"
    );
    assert_eq!(
        u32::from_le_bytes(pcap[20..24].try_into().unwrap()),
        1,
        "Ethernet link type"
    );
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let captured = u32::from_le_bytes(pcap[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let frame = &pcap[pos + 16..pos + 16 + captured];
        pos += 16 + captured;
        assert_eq!(&frame[12..14], &[0x08, 0x00], "IPv4");
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0F) * 4;
        assert_eq!(ip[9], 17, "UDP");
        out.push(&ip[ihl + 8..]);
    }
    out
}

fn read(name: &str) -> Option<Vec<u8>> {
    let path = Path::new(SIPP_DIR).join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!(
                "skipped: {} not readable ({e}); install Debian's sip-tester",
                path.display()
            );
            None
        }
    }
}

#[test]
fn sipp_rfc4733_presses_are_reported_once_each() {
    let keys = [
        ("0", '0'),
        ("1", '1'),
        ("2", '2'),
        ("3", '3'),
        ("4", '4'),
        ("5", '5'),
        ("6", '6'),
        ("7", '7'),
        ("8", '8'),
        ("9", '9'),
        ("star", '*'),
        ("pound", '#'),
    ];
    let mut files = Vec::new();
    for (name, key) in keys {
        let Some(pcap) = read(&format!("dtmf_2833_{name}.pcap")) else {
            return;
        };
        files.push((pcap, key));
    }
    // The packets exactly as SIPp plays them (its pcaps keep their recorded timestamps, so "0",
    // recorded between "1" and "2", goes back in time), all keys twice.
    let mut receiver = EventReceiver::new();
    let mut heard = String::new();
    let mut expected = String::new();
    for _ in 0..2 {
        for (pcap, key) in &files {
            let packets = udp_payloads(pcap);
            assert_eq!(packets.len(), 10, "{key}: 7 updates and 3 end packets");
            for p in &packets {
                let (header, payload) = rtp::parse(p).unwrap();
                assert_eq!(header.payload_type, 101);
                let ev = telephone_event::parse(payload).unwrap();
                heard.extend(receiver.on_packet(header.timestamp, &ev));
            }
            expected.push(*key);
        }
    }
    assert_eq!(heard, expected);
}

#[test]
fn sipp_pcma_audio_plays_through_the_jitter_buffer() {
    let Some(pcap) = read("g711a.pcap") else {
        return;
    };
    let mut packets = udp_payloads(&pcap);
    // Deliver some neighbours swapped, as a network reorders them.
    for k in (4..packets.len() - 1).step_by(10) {
        packets.swap(k, k + 1);
    }
    let mut jb = JitterBuffer::new(Codec::Pcma, 3, 20);
    let mut out = [0i16; FRAME_SAMPLES];
    let mut received = 0;
    let mut popped = 0;
    let mut energy = 0f64;
    let mut pop = |jb: &mut JitterBuffer, popped: &mut usize| {
        assert_eq!(jb.pop(&mut out), Pop::Audio, "frame {popped}");
        energy += out.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
        *popped += 1;
    };
    for p in &packets {
        let (h, payload) = rtp::parse(p).unwrap();
        assert_eq!(Codec::from_payload_type(h.payload_type), Some(Codec::Pcma));
        assert_eq!(payload.len(), 240, "SIPp's file has 30 ms packets");
        jb.push(h.sequence, h.timestamp, payload);
        received += payload.len();
        // The 20 ms ticks that have passed by now, keeping 60 ms of margin.
        while (popped + 3) * FRAME_SAMPLES <= received {
            pop(&mut jb, &mut popped);
        }
    }
    while popped * FRAME_SAMPLES < received {
        pop(&mut jb, &mut popped);
    }
    assert_eq!(popped, 56_640 / FRAME_SAMPLES);
    assert!(energy > 0.0);
    assert_eq!(jb.stats().late + jb.stats().duplicates, 0);
}
