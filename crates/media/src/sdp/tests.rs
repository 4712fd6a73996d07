use super::*;

/// The offer SIPp 3.6's built-in uac scenario sends (LF line ends here; CRLF below).
const SIPP_OFFER: &str = "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
";

/// A softphone offer with video, several codecs, telephone-event on 101 and ICE noise.
const SOFTPHONE_OFFER: &str = "v=0\r
o=- 3894570001 3894570002 IN IP4 192.0.2.10\r
s=Linphone\r
c=IN IP4 192.0.2.10\r
b=AS:380\r
t=0 0\r
a=ice-ufrag:abcd\r
m=audio 7078 RTP/AVP 96 0 8 101 97\r
a=rtpmap:96 opus/48000/2\r
a=fmtp:96 useinbandfec=1\r
a=rtpmap:101 telephone-event/8000\r
a=rtpmap:97 telephone-event/48000\r
a=fmtp:101 0-15\r
a=ptime:20\r
a=rtcp-mux\r
a=candidate:1 1 UDP 2130706431 192.0.2.10 7078 typ host\r
m=video 9078 RTP/AVP 96\r
a=rtpmap:96 VP8/90000\r
";

fn offer(text: &str) -> SessionDescription {
    parse(text).unwrap()
}

#[test]
fn parses_sipp_offer() {
    let sdp = offer(SIPP_OFFER);
    assert_eq!(sdp.origin.username, "user1");
    assert_eq!(sdp.origin.session_id, 53_655_765);
    assert_eq!(sdp.origin.session_version, 2_353_687_637);
    assert_eq!(sdp.origin.address, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(sdp.session_name, "-");
    assert_eq!(sdp.connection, Some(IpAddr::from([127, 0, 0, 1])));
    assert_eq!(sdp.media.len(), 1);
    let m = &sdp.media[0];
    assert_eq!(
        (m.kind.as_str(), m.port, m.protocol.as_str()),
        ("audio", 6000, "RTP/AVP")
    );
    assert_eq!(m.formats, [0]);
    assert_eq!(
        m.rtpmaps,
        [RtpMap {
            payload_type: 0,
            encoding: "PCMU".into(),
            clock_rate: 8000,
            channels: None
        }]
    );
    assert_eq!(m.direction, Direction::SendRecv);
    assert_eq!(parse(&SIPP_OFFER.replace('\n', "\r\n")).unwrap(), sdp);
}

#[test]
fn parses_softphone_offer_and_ignores_what_it_does_not_use() {
    let sdp = offer(SOFTPHONE_OFFER);
    assert_eq!(sdp.media.len(), 2);
    let audio = &sdp.media[0];
    assert_eq!(audio.formats, [96, 0, 8, 101, 97]);
    assert_eq!(audio.rtpmaps.len(), 3);
    assert_eq!(audio.rtpmaps[0].channels, Some(2));
    assert_eq!(
        audio.fmtps,
        [(96, "useinbandfec=1".to_owned()), (101, "0-15".to_owned())]
    );
    assert_eq!(audio.ptime, Some(20));
    assert!(audio.rtcp_mux);
    assert_eq!(sdp.media[1].kind, "video");
    assert!(!sdp.media[1].rtcp_mux);
}

#[test]
fn display_round_trips() {
    for text in [SIPP_OFFER, SOFTPHONE_OFFER] {
        let sdp = offer(text);
        let printed = sdp.to_string();
        assert!(printed.ends_with("\r\n") && !printed.replace("\r\n", "").contains('\n'));
        assert_eq!(parse(&printed).unwrap(), sdp, "{printed}");
    }
}

#[test]
fn display_prints_canonical_text() {
    let sdp = build(
        IpAddr::from([10, 1, 2, 3]),
        40_000,
        7,
        8,
        &[Codec::Pcma, Codec::Pcmu],
        Some(101),
        Direction::SendRecv,
    );
    assert_eq!(
        sdp.to_string(),
        "v=0\r\n\
         o=kefu 7 8 IN IP4 10.1.2.3\r\n\
         s=kefu\r\n\
         c=IN IP4 10.1.2.3\r\n\
         t=0 0\r\n\
         m=audio 40000 RTP/AVP 8 0 101\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
}

#[test]
fn errors_name_the_line_and_the_reason() {
    let cases: &[(&str, usize, &str)] = &[
        ("o=- 1 1 IN IP4 1.2.3.4\n", 1, "the first line must be v=0"),
        ("v=1\n", 1, "unsupported version"),
        ("v=0\nhello\n", 2, "expected <letter>=<value>"),
        ("v=0\no=- 1 IN IP4 1.2.3.4\n", 2, "o= needs 6 fields"),
        ("v=0\no=- x 1 IN IP4 1.2.3.4\n", 2, "session id"),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 example.com\n",
            3,
            "not an IP4 address",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 70000 RTP/AVP 0\n",
            3,
            "port \"70000\"",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5O00 RTP/AVP 0\n",
            3,
            "port \"5O00\"",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000\n",
            3,
            "needs media, port and protocol",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0 128\n",
            3,
            "payload type \"128\"",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0\na=rtpmap:0 PCMU\n",
            4,
            "rtpmap",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0\na=rtpmap:0 PCMU/0\n",
            4,
            "clock rate",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0\na=ptime:abc\n",
            4,
            "ptime",
        ),
        (
            "v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0\no=- 1 1 IN IP4 1.2.3.4\n",
            4,
            "a second o= line",
        ),
        (
            "v=0\nm=audio 5000 RTP/AVP 0\no=- 1 1 IN IP4 1.2.3.4\n",
            3,
            "o= after the first m= line",
        ),
    ];
    for (text, line, reason) in cases {
        match parse(text) {
            Err(SdpError::Line { line: l, reason: r }) => {
                assert_eq!(l, *line, "{text:?}: {r}");
                assert!(r.contains(reason), "{text:?}: {r:?} lacks {reason:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    assert_eq!(parse(""), Err(SdpError::Missing("v=")));
    assert_eq!(parse("v=0\r\n"), Err(SdpError::Missing("o=")));
    let err = parse("v=0\nbad line\n").unwrap_err();
    assert_eq!(err.to_string(), "SDP line 2: expected <letter>=<value>");
}

#[test]
fn limits_are_enforced() {
    let mut many_media = String::from("v=0\no=- 1 1 IN IP4 1.2.3.4\n");
    for _ in 0..=MAX_MEDIA {
        many_media.push_str("m=audio 0 RTP/AVP 0\n");
    }
    assert!(matches!(
        parse(&many_media),
        Err(SdpError::Line { line: 67, .. })
    ));
    let formats = " 0".repeat(MAX_FORMATS + 1);
    let many_formats = format!("v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 1 RTP/AVP{formats}\n");
    assert!(matches!(
        parse(&many_formats),
        Err(SdpError::Line { line: 3, .. })
    ));
    let huge = format!("v=0\n{}", "x".repeat(MAX_SDP_LEN));
    assert!(matches!(parse(&huge), Err(SdpError::TooLarge(_))));
}

#[test]
fn lenient_where_peers_differ() {
    // Blank lines, no s=, port with a count, multicast TTL, a non-IP origin, a T.38 stream whose
    // formats are not payload types, unknown attributes and letters.
    let text = "v=0\n\no=- 1 2 IN IP4 pbx.example.com\nx=whatever\nm=audio 5004/2 RTP/AVP 8\nc=IN IP4 224.2.1.1/127\na=foo:bar\nm=image 6000 udptl t38\n";
    let sdp = offer(text);
    assert_eq!(sdp.session_name, "-");
    assert_eq!(sdp.origin.address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(sdp.media[0].port, 5004);
    assert_eq!(sdp.media[0].connection, Some(IpAddr::from([224, 2, 1, 1])));
    assert_eq!(sdp.media[1].formats, Vec::<u8>::new());
    assert_eq!(parse(&sdp.to_string()).unwrap(), sdp);
    // IPv6.
    let v6 =
        offer("v=0\no=- 1 2 IN IP6 2001:db8::1\nc=IN IP6 2001:db8::2\nm=audio 4000 RTP/AVP 0\n");
    assert_eq!(v6.connection, Some("2001:db8::2".parse().unwrap()));
    assert_eq!(parse(&v6.to_string()).unwrap(), v6);
}

#[test]
fn session_level_direction_applies_to_media_without_their_own() {
    let sdp = offer(
        "v=0\no=- 1 2 IN IP4 1.2.3.4\na=sendonly\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=inactive\n",
    );
    assert_eq!(sdp.media[0].direction, Direction::SendOnly);
    assert_eq!(sdp.media[1].direction, Direction::Inactive);
    assert_eq!(parse(&sdp.to_string()).unwrap(), sdp);
}

#[test]
fn answer_prefers_our_order_and_finds_telephone_event() {
    let sdp = offer(SOFTPHONE_OFFER);
    let n = negotiate_answer(&sdp, &[Codec::Pcma, Codec::Pcmu]).unwrap();
    assert_eq!(n.codec, Codec::Pcma);
    assert_eq!(n.telephone_event, Some(101));
    assert_eq!(n.remote, Some("192.0.2.10:7078".parse().unwrap()));
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.ptime, 20);
    let n = negotiate_answer(&sdp, &[Codec::Pcmu]).unwrap();
    assert_eq!(n.codec, Codec::Pcmu);
    // SIPp offers PCMU only: that is what we get even though we prefer PCMA.
    let n = negotiate_answer(&offer(SIPP_OFFER), &[Codec::Pcma, Codec::Pcmu]).unwrap();
    assert_eq!(n.codec, Codec::Pcmu);
    assert_eq!(n.telephone_event, None);
}

#[test]
fn static_payload_types_work_without_rtpmap_but_not_when_remapped() {
    let bare = offer("v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 8\n");
    assert_eq!(
        negotiate_answer(&bare, &[Codec::Pcma]).unwrap().codec,
        Codec::Pcma
    );
    let remapped = offer(
        "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 opus/48000/2\n",
    );
    assert_eq!(
        negotiate_answer(&remapped, &[Codec::Pcma, Codec::Pcmu]),
        Err(SdpError::NoCommonCodec("PCMA, PCMU".into()))
    );
}

#[test]
fn hold_offers() {
    let base = "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n";
    let n = negotiate_answer(&offer(&format!("{base}a=sendonly\n")), &[Codec::Pcmu]).unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.remote.is_some());
    let n = negotiate_answer(&offer(&format!("{base}a=inactive\n")), &[Codec::Pcmu]).unwrap();
    assert_eq!(n.direction, Direction::Inactive);
    let n = negotiate_answer(&offer(&format!("{base}a=recvonly\n")), &[Codec::Pcmu]).unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    // RFC 2543 hold.
    let zero = base.replace("c=IN IP4 1.2.3.4", "c=IN IP4 0.0.0.0");
    let n = negotiate_answer(&offer(&zero), &[Codec::Pcmu]).unwrap();
    assert_eq!(n.remote, None);
    assert_eq!(n.direction, Direction::RecvOnly);
    // Port 0: the stream is off.
    let off = base.replace("4000", "0");
    let n = negotiate_answer(&offer(&off), &[Codec::Pcmu]).unwrap();
    assert_eq!((n.remote, n.direction), (None, Direction::Inactive));
}

#[test]
fn negotiation_failures() {
    let video_only =
        offer("v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=video 4000 RTP/AVP 96\n");
    assert_eq!(
        negotiate_answer(&video_only, &[Codec::Pcma]),
        Err(SdpError::NoAudio)
    );
    let no_c = offer("v=0\no=- 1 2 IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n");
    assert_eq!(
        negotiate_answer(&no_c, &[Codec::Pcmu]),
        Err(SdpError::NoConnection)
    );
    let g729 = offer("v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 18\n");
    assert!(matches!(
        negotiate_answer(&g729, &[Codec::Pcma]),
        Err(SdpError::NoCommonCodec(_))
    ));
}

#[test]
fn enabled_audio_stream_wins_over_a_disabled_one() {
    let sdp = offer(
        "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 0\nm=audio 5000 RTP/AVP 0\n",
    );
    let n = negotiate_answer(&sdp, &[Codec::Pcmu]).unwrap();
    assert_eq!(n.remote, Some("1.2.3.4:5000".parse().unwrap()));
}

#[test]
fn build_answer_mirrors_the_offered_streams() {
    let sdp = offer(SOFTPHONE_OFFER);
    let n = negotiate_answer(&sdp, &[Codec::Pcma, Codec::Pcmu]).unwrap();
    let answer = build_answer(&sdp, &n, IpAddr::from([10, 0, 0, 1]), 30_000, 5, 5);
    assert_eq!(answer.media.len(), 2);
    assert_eq!(answer.media[0].formats, [8, 101]);
    assert_eq!(answer.media[0].port, 30_000);
    assert_eq!(
        (answer.media[1].kind.as_str(), answer.media[1].port),
        ("video", 0)
    );
    // The offerer reads our answer back to the same result.
    let back = read_answer(
        &parse(&answer.to_string()).unwrap(),
        &[Codec::Pcmu, Codec::Pcma],
    )
    .unwrap();
    assert_eq!(back.codec, Codec::Pcma);
    assert_eq!(back.telephone_event, Some(101));
    assert_eq!(back.remote, Some("10.0.0.1:30000".parse().unwrap()));
}

#[test]
fn read_answer_takes_the_answerers_first_offered_codec() {
    let answer = offer(
        "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=recvonly\n",
    );
    let n = read_answer(&answer, &[Codec::Pcma, Codec::Pcmu]).unwrap();
    assert_eq!(n.codec, Codec::Pcmu);
    assert_eq!(n.telephone_event, Some(101));
    assert_eq!(n.direction, Direction::SendOnly);
    assert!(matches!(
        read_answer(&answer, &[]),
        Err(SdpError::NoCommonCodec(_))
    ));
}

#[test]
fn direction_reverse_and_capabilities() {
    use Direction::*;
    for (d, r) in [
        (SendRecv, SendRecv),
        (SendOnly, RecvOnly),
        (RecvOnly, SendOnly),
        (Inactive, Inactive),
    ] {
        assert_eq!(d.reverse(), r);
        assert_eq!(d.reverse().reverse(), d);
        assert_eq!(d.sends(), r.receives());
    }
}

/// Found by the corpus test: our answer to an offer whose first audio stream we refused (port 0)
/// was unreadable, because `read_answer` looked only at the first audio stream.
#[test]
fn read_answer_skips_refused_streams() {
    let offer_text = "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 18\nm=audio 4002 RTP/AVP 8\n";
    let sdp = offer(offer_text);
    let n = negotiate_answer(&sdp, &[Codec::Pcma]).unwrap();
    assert_eq!(n.remote, Some("1.2.3.4:4002".parse().unwrap()));
    let answer = build_answer(&sdp, &n, IpAddr::from([10, 0, 0, 1]), 30_000, 1, 1);
    assert_eq!(answer.media[0].port, 0);
    assert_eq!(answer.media[0].formats, [18]);
    let back = read_answer(&answer, &[Codec::Pcma, Codec::Pcmu]).unwrap();
    assert_eq!(back.codec, Codec::Pcma);
    assert_eq!(back.remote, Some("10.0.0.1:30000".parse().unwrap()));
}
