//! SDP for audio calls (RFC 4566 syntax, RFC 3264 offer/answer), hand-written for exactly what a
//! G.711 telephony engine needs.
//!
//! Parsing keeps what offer/answer uses — origin, session name, connection addresses, media lines
//! with their formats, `rtpmap`, `fmtp`, `ptime`, direction and `rtcp-mux` — and ignores every other
//! line and attribute (bandwidth, timing, ICE, crypto, …). It is lenient where real peers differ
//! (CRLF or LF, blank lines, lines out of order, a missing `s=`) and strict where a mistake would
//! change the call: a missing `v=`/`o=`, a bad port, payload type, address or `rtpmap` is an error
//! naming the line. Sizes are bounded by [`MAX_SDP_LEN`], [`MAX_MEDIA`] and [`MAX_FORMATS`].
//!
//! A session-level direction attribute is folded into every media description that has none, and
//! [`Display`](std::fmt::Display) prints every media description's direction, so printing and parsing
//! again gives the same value.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use thiserror::Error;

use crate::Codec;

/// Largest SDP body accepted, in bytes.
pub const MAX_SDP_LEN: usize = 64 * 1024;
/// Most `m=` lines accepted.
pub const MAX_MEDIA: usize = 64;
/// Most formats on one `m=` line, and most `rtpmap` or `fmtp` attributes per media description.
pub const MAX_FORMATS: usize = 256;
/// The packet time assumed when the peer does not say (RFC 3551 §4.5 for G.711).
pub const DEFAULT_PTIME: u32 = 20;
/// Largest `a=ptime` accepted, in ms.
pub const MAX_PTIME: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<IpAddr>,
    pub media: Vec<MediaDescription>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: u64,
    pub session_version: u64,
    pub address: IpAddr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `image`, …
    pub kind: String,
    pub port: u16,
    /// `RTP/AVP`, `RTP/SAVP`, `udptl`, …
    pub protocol: String,
    /// RTP payload types, in the peer's order of preference. Empty for non-RTP protocols, whose
    /// formats are not payload types.
    pub formats: Vec<u8>,
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <parameters>`.
    pub fmtps: Vec<(u8, String)>,
    pub direction: Direction,
    pub ptime: Option<u32>,
    /// Media-level `c=`, overriding the session's.
    pub connection: Option<IpAddr>,
    pub rtcp_mux: bool,
}

/// `a=rtpmap:<payload_type> <encoding>/<clock_rate>[/<channels>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
}

/// Media direction (RFC 3264 §6.1), from the point of view of whoever wrote the description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction the other side takes: our answer to `sendonly` is `recvonly` and so on.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether this side sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this side receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn without_send(self) -> Direction {
        match self {
            Direction::SendRecv | Direction::RecvOnly => Direction::RecvOnly,
            Direction::SendOnly | Direction::Inactive => Direction::Inactive,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// Why an SDP body was refused, or why no call can be set up with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    #[error("SDP body of {0} bytes is larger than {MAX_SDP_LEN}")]
    TooLarge(usize),
    #[error("SDP line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("SDP has no {0} line")]
    Missing(&'static str),
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP offers no codec we support (we support {0})")]
    NoCommonCodec(String),
    #[error("SDP has no connection address for the audio stream")]
    NoConnection,
}

fn line_error(line: usize, reason: impl Into<String>) -> SdpError {
    SdpError::Line {
        line,
        reason: reason.into(),
    }
}

/// Session-level direction, folded into media descriptions that have none.
struct Pending {
    direction: Option<Direction>,
}

/// Parses an SDP body.
pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    if text.len() > MAX_SDP_LEN {
        return Err(SdpError::TooLarge(text.len()));
    }
    let mut origin = None;
    let mut session_name = None;
    let mut connection = None;
    let mut media: Vec<MediaDescription> = Vec::new();
    // Per media description, whether it had its own direction attribute.
    let mut media_direction_set: Vec<bool> = Vec::new();
    let mut session = Pending { direction: None };
    let mut seen_version = false;

    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let (kind, value) = match line.as_bytes() {
            [k, b'=', ..] if k.is_ascii_lowercase() => (*k, &line[2..]),
            _ => return Err(line_error(number, "expected <letter>=<value>")),
        };
        if !seen_version {
            if kind != b'v' {
                return Err(line_error(number, "the first line must be v=0"));
            }
            if value.trim() != "0" {
                return Err(line_error(number, format!("unsupported version {value:?}")));
            }
            seen_version = true;
            continue;
        }
        match kind {
            b'v' => return Err(line_error(number, "a second v= line")),
            b'o' => {
                if origin.is_some() {
                    return Err(line_error(number, "a second o= line"));
                }
                if !media.is_empty() {
                    return Err(line_error(number, "o= after the first m= line"));
                }
                origin = Some(parse_origin(value).map_err(|r| line_error(number, r))?);
            }
            b's' if media.is_empty() && session_name.is_none() => {
                session_name = Some(value.to_owned());
            }
            b'c' => {
                let address = parse_connection(value).map_err(|r| line_error(number, r))?;
                match media.last_mut() {
                    Some(m) => m.connection = Some(address),
                    None => connection = Some(address),
                }
            }
            b'm' => {
                if media.len() == MAX_MEDIA {
                    return Err(line_error(
                        number,
                        format!("more than {MAX_MEDIA} media lines"),
                    ));
                }
                media.push(parse_media(value).map_err(|r| line_error(number, r))?);
                media_direction_set.push(false);
            }
            b'a' => {
                let (name, attr_value) = match value.split_once(':') {
                    Some((n, v)) => (n, Some(v)),
                    None => (value, None),
                };
                if let Some(direction) = Direction::from_attribute(name) {
                    match (media.last_mut(), media_direction_set.last_mut()) {
                        (Some(m), Some(set)) => {
                            m.direction = direction;
                            *set = true;
                        }
                        _ => session.direction = Some(direction),
                    }
                    continue;
                }
                let Some(m) = media.last_mut() else {
                    continue; // other session-level attributes are not used
                };
                parse_media_attribute(m, name, attr_value).map_err(|r| line_error(number, r))?;
            }
            _ => {} // b=, t=, k=, i=, u=, e=, p=, z=, r= and unknown letters are ignored
        }
    }

    if !seen_version {
        return Err(SdpError::Missing("v="));
    }
    let origin = origin.ok_or(SdpError::Missing("o="))?;
    if let Some(direction) = session.direction {
        for (m, set) in media.iter_mut().zip(media_direction_set) {
            if !set {
                m.direction = direction;
            }
        }
    }
    Ok(SessionDescription {
        origin,
        session_name: session_name.unwrap_or_else(|| "-".to_owned()),
        connection,
        media,
    })
}

fn parse_origin(value: &str) -> Result<Origin, String> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [username, id, version, net, addrtype, address] = fields[..] else {
        return Err(format!(
            "o= needs 6 fields, found {}",
            value.split_whitespace().count()
        ));
    };
    if net != "IN" {
        return Err(format!("unsupported network type {net:?}"));
    }
    let session_id = id
        .parse()
        .map_err(|_| format!("session id {id:?} is not a number"))?;
    let session_version = version
        .parse()
        .map_err(|_| format!("session version {version:?} is not a number"))?;
    // The origin's address only identifies the session; peers put host names there, so a non-IP
    // address is kept as the unspecified address of its type rather than refused.
    let address = parse_address(addrtype, address).unwrap_or(match addrtype {
        "IP6" => IpAddr::from([0u16; 8]),
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    });
    Ok(Origin {
        username: username.to_owned(),
        session_id,
        session_version,
        address,
    })
}

fn parse_address(addrtype: &str, address: &str) -> Option<IpAddr> {
    // Multicast addresses may carry /ttl and /count suffixes.
    let address = address.split('/').next().unwrap_or(address);
    match addrtype {
        "IP4" => address.parse().ok().map(IpAddr::V4),
        "IP6" => address.parse().ok().map(IpAddr::V6),
        _ => None,
    }
}

fn parse_connection(value: &str) -> Result<IpAddr, String> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [net, addrtype, address] = fields[..] else {
        return Err(format!(
            "c= needs 3 fields, found {}",
            value.split_whitespace().count()
        ));
    };
    if net != "IN" {
        return Err(format!("unsupported network type {net:?}"));
    }
    parse_address(addrtype, address)
        .ok_or_else(|| format!("{address:?} is not an {addrtype} address"))
}

fn parse_media(value: &str) -> Result<MediaDescription, String> {
    let mut fields = value.split_whitespace();
    let (Some(kind), Some(port), Some(protocol)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err("m= needs media, port and protocol".to_owned());
    };
    // "49170/2" is a port with a count of consecutive ports; the count is not used.
    let port_text = port.split_once('/').map_or(port, |(p, _)| p);
    let port = port_text
        .parse::<u16>()
        .map_err(|_| format!("port {port:?} is not a number from 0 to 65535"))?;
    let mut formats = Vec::new();
    if protocol.contains("RTP/") {
        for f in fields {
            if formats.len() == MAX_FORMATS {
                return Err(format!("more than {MAX_FORMATS} formats"));
            }
            formats.push(parse_payload_type(f)?);
        }
    }
    Ok(MediaDescription {
        kind: kind.to_owned(),
        port,
        protocol: protocol.to_owned(),
        formats,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        direction: Direction::SendRecv,
        ptime: None,
        connection: None,
        rtcp_mux: false,
    })
}

fn parse_payload_type(text: &str) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(pt) if pt <= 127 => Ok(pt),
        _ => Err(format!(
            "payload type {text:?} is not a number from 0 to 127"
        )),
    }
}

fn parse_media_attribute(
    m: &mut MediaDescription,
    name: &str,
    value: Option<&str>,
) -> Result<(), String> {
    match (name, value) {
        ("rtpmap", Some(v)) => {
            if m.rtpmaps.len() == MAX_FORMATS {
                return Err(format!("more than {MAX_FORMATS} rtpmap attributes"));
            }
            m.rtpmaps.push(parse_rtpmap(v)?);
        }
        ("fmtp", Some(v)) => {
            if m.fmtps.len() == MAX_FORMATS {
                return Err(format!("more than {MAX_FORMATS} fmtp attributes"));
            }
            let v = v.trim();
            let (pt, params) = v.split_once(char::is_whitespace).unwrap_or((v, ""));
            m.fmtps
                .push((parse_payload_type(pt)?, params.trim().to_owned()));
        }
        ("ptime", Some(v)) => match v.trim().parse::<u32>() {
            Ok(ms) if (1..=MAX_PTIME).contains(&ms) => m.ptime = Some(ms),
            _ => return Err(format!("ptime {v:?} is not a number from 1 to {MAX_PTIME}")),
        },
        ("rtcp-mux", _) => m.rtcp_mux = true,
        _ => {}
    }
    Ok(())
}

fn parse_rtpmap(value: &str) -> Result<RtpMap, String> {
    let value = value.trim();
    let Some((pt, rest)) = value.split_once(char::is_whitespace) else {
        return Err(format!(
            "rtpmap {value:?} needs a payload type and an encoding"
        ));
    };
    let payload_type = parse_payload_type(pt)?;
    let parts: Vec<&str> = rest.trim_start().split('/').collect();
    let (encoding, rate, channels) = match parts[..] {
        [e, r] => (e, r, None),
        [e, r, c] => (e, r, Some(c)),
        _ => {
            return Err(format!(
                "rtpmap {value:?} is not <encoding>/<rate>[/<channels>]"
            ));
        }
    };
    if encoding.is_empty() || encoding.contains(char::is_whitespace) {
        return Err(format!("rtpmap encoding {encoding:?} is not a name"));
    }
    let clock_rate = rate
        .parse::<u32>()
        .ok()
        .filter(|&r| r > 0)
        .ok_or_else(|| format!("rtpmap clock rate {rate:?} is not a positive number"))?;
    let channels = channels
        .map(|c| {
            c.parse::<u8>()
                .ok()
                .filter(|&c| c > 0)
                .ok_or_else(|| format!("rtpmap channels {c:?} is not a number from 1 to 255"))
        })
        .transpose()?;
    Ok(RtpMap {
        payload_type,
        encoding: encoding.to_owned(),
        clock_rate,
        channels,
    })
}

fn address_fields(address: &IpAddr) -> (&'static str, String) {
    match address {
        IpAddr::V4(a) => ("IP4", a.to_string()),
        IpAddr::V6(a) => ("IP6", a.to_string()),
    }
}

impl fmt::Display for SessionDescription {
    /// Prints the description with CRLF line ends, `t=0 0`, and every media description's direction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        let (addrtype, address) = address_fields(&o.address);
        write!(f, "v=0\r\n")?;
        write!(
            f,
            "o={} {} {} IN {addrtype} {address}\r\n",
            o.username, o.session_id, o.session_version
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(c) = &self.connection {
            let (addrtype, address) = address_fields(c);
            write!(f, "c=IN {addrtype} {address}\r\n")?;
        }
        write!(f, "t=0 0\r\n")?;
        for m in &self.media {
            write!(f, "m={} {} {}", m.kind, m.port, m.protocol)?;
            for pt in &m.formats {
                write!(f, " {pt}")?;
            }
            write!(f, "\r\n")?;
            if let Some(c) = &m.connection {
                let (addrtype, address) = address_fields(c);
                write!(f, "c=IN {addrtype} {address}\r\n")?;
            }
            for r in &m.rtpmaps {
                write!(
                    f,
                    "a=rtpmap:{} {}/{}",
                    r.payload_type, r.encoding, r.clock_rate
                )?;
                if let Some(c) = r.channels {
                    write!(f, "/{c}")?;
                }
                write!(f, "\r\n")?;
            }
            for (pt, params) in &m.fmtps {
                if params.is_empty() {
                    write!(f, "a=fmtp:{pt}\r\n")?;
                } else {
                    write!(f, "a=fmtp:{pt} {params}\r\n")?;
                }
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            write!(f, "a={}\r\n", m.direction.as_str())?;
            if m.rtcp_mux {
                write!(f, "a=rtcp-mux\r\n")?;
            }
        }
        Ok(())
    }
}

/// The outcome of offer/answer for the call's audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    /// The payload type the peer uses for `telephone-event/8000`, if it offered or accepted it.
    pub telephone_event: Option<u8>,
    /// Where to send RTP; `None` when the peer holds the call with `c=0.0.0.0` or disabled the stream
    /// with port 0.
    pub remote: Option<SocketAddr>,
    /// Our direction: whether we send and whether we receive.
    pub direction: Direction,
    /// Packet time the peer asked for (ms), [`DEFAULT_PTIME`] if it did not.
    pub ptime: u32,
}

impl MediaDescription {
    /// Whether this description is RTP audio.
    pub fn is_rtp_audio(&self) -> bool {
        self.kind == "audio" && self.protocol.contains("RTP/")
    }

    fn rtpmap(&self, pt: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|r| r.payload_type == pt)
    }

    /// Whether payload type `pt` of this description is `codec`: the static payload type without an
    /// `rtpmap` (or with one that agrees), 8 kHz mono.
    fn format_is(&self, pt: u8, codec: Codec) -> bool {
        if pt != codec.payload_type() {
            return false;
        }
        match self.rtpmap(pt) {
            None => true,
            Some(r) => {
                r.encoding.eq_ignore_ascii_case(codec.encoding_name())
                    && r.clock_rate == 8000
                    && r.channels.is_none_or(|c| c == 1)
            }
        }
    }

    /// The payload type of `telephone-event/8000`, if listed.
    fn telephone_event(&self) -> Option<u8> {
        self.formats.iter().copied().find(|&pt| {
            self.rtpmap(pt).is_some_and(|r| {
                r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == 8000
            })
        })
    }
}

fn remote_address(
    sdp: &SessionDescription,
    m: &MediaDescription,
) -> Result<Option<SocketAddr>, SdpError> {
    let ip = m
        .connection
        .or(sdp.connection)
        .ok_or(SdpError::NoConnection)?;
    if ip.is_unspecified() || m.port == 0 {
        Ok(None)
    } else {
        Ok(Some(SocketAddr::new(ip, m.port)))
    }
}

fn negotiated(
    sdp: &SessionDescription,
    m: &MediaDescription,
    codec: Codec,
) -> Result<Negotiated, SdpError> {
    let remote = remote_address(sdp, m)?;
    let mut direction = m.direction.reverse();
    if m.port == 0 {
        direction = Direction::Inactive;
    } else if remote.is_none() {
        // RFC 2543 hold (c=0.0.0.0): nowhere to send to, but the peer may still send to us.
        direction = direction.without_send();
    }
    Ok(Negotiated {
        codec,
        telephone_event: m.telephone_event(),
        remote,
        direction,
        ptime: m.ptime.unwrap_or(DEFAULT_PTIME),
    })
}

fn codec_list(codecs: &[Codec]) -> String {
    codecs
        .iter()
        .map(|c| c.encoding_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Answers an offer: the first RTP audio stream that has one of our codecs, with the codec chosen by
/// our preference order `prefs` (PCMA first suits China). Static payload types 0 and 8 are recognized
/// without `rtpmap`. A `sendonly` or `inactive` offer, or `c=0.0.0.0`, is the peer holding the call.
pub fn negotiate_answer(
    offer: &SessionDescription,
    prefs: &[Codec],
) -> Result<Negotiated, SdpError> {
    if !offer.media.iter().any(|m| m.is_rtp_audio()) {
        return Err(SdpError::NoAudio);
    }
    for (_, m) in audio_in_answer_order(offer) {
        let chosen = prefs
            .iter()
            .copied()
            .find(|&c| m.formats.iter().any(|&pt| m.format_is(pt, c)));
        if let Some(codec) = chosen {
            return negotiated(offer, m, codec);
        }
    }
    Err(SdpError::NoCommonCodec(codec_list(prefs)))
}

/// RTP audio descriptions with their indexes, enabled ones (port ≠ 0) first.
fn audio_in_answer_order(
    sdp: &SessionDescription,
) -> impl Iterator<Item = (usize, &MediaDescription)> + '_ {
    let audio = |enabled: bool| {
        sdp.media
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.is_rtp_audio() && (m.port != 0) == enabled)
    };
    audio(true).chain(audio(false))
}

/// Builds the answer to `offer` after [`negotiate_answer`]: one media description per offered one
/// (RFC 3264 §6), the negotiated audio stream on `local_ip:port` with the chosen codec, the peer's
/// telephone-event payload type and our direction, every other stream refused with port 0.
pub fn build_answer(
    offer: &SessionDescription,
    negotiated: &Negotiated,
    local_ip: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
) -> SessionDescription {
    let mut answer = build(
        local_ip,
        port,
        session_id,
        version,
        &[negotiated.codec],
        negotiated.telephone_event,
        negotiated.direction,
    );
    let ours = answer.media.remove(0);
    let chosen = audio_in_answer_order(offer)
        .find(|(_, m)| {
            m.formats
                .iter()
                .any(|&pt| m.format_is(pt, negotiated.codec))
        })
        .map(|(i, _)| i);
    answer.media = offer
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if chosen == Some(i) {
                ours.clone()
            } else {
                MediaDescription {
                    kind: m.kind.clone(),
                    port: 0,
                    protocol: m.protocol.clone(),
                    formats: m.formats.iter().copied().take(1).collect(),
                    rtpmaps: Vec::new(),
                    fmtps: Vec::new(),
                    direction: Direction::Inactive,
                    ptime: None,
                    connection: None,
                    rtcp_mux: false,
                }
            }
        })
        .collect();
    answer
}

/// Reads the answer to our offer of `offered`: the first enabled RTP audio stream (port ≠ 0; a
/// disabled one only if there is nothing else) with a codec we offered, taking the one the answerer
/// put first.
pub fn read_answer(answer: &SessionDescription, offered: &[Codec]) -> Result<Negotiated, SdpError> {
    if !answer.media.iter().any(|m| m.is_rtp_audio()) {
        return Err(SdpError::NoAudio);
    }
    for (_, m) in audio_in_answer_order(answer) {
        let codec = m
            .formats
            .iter()
            .find_map(|&pt| offered.iter().copied().find(|&c| m.format_is(pt, c)));
        if let Some(codec) = codec {
            return negotiated(answer, m, codec);
        }
    }
    Err(SdpError::NoCommonCodec(codec_list(offered)))
}

/// Builds our SDP, for offers and answers alike: one `RTP/AVP` audio stream on `local_ip:port` with
/// `codecs` in order, `telephone-event/8000` with `a=fmtp:<pt> 0-16` if given, `a=ptime:20` and the
/// direction.
pub fn build(
    local_ip: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    codecs: &[Codec],
    telephone_event: Option<u8>,
    direction: Direction,
) -> SessionDescription {
    let mut formats: Vec<u8> = codecs.iter().map(|c| c.payload_type()).collect();
    let mut rtpmaps: Vec<RtpMap> = codecs
        .iter()
        .map(|c| RtpMap {
            payload_type: c.payload_type(),
            encoding: c.encoding_name().to_owned(),
            clock_rate: 8000,
            channels: None,
        })
        .collect();
    let mut fmtps = Vec::new();
    if let Some(pt) = telephone_event {
        formats.push(pt);
        rtpmaps.push(RtpMap {
            payload_type: pt,
            encoding: "telephone-event".to_owned(),
            clock_rate: 8000,
            channels: None,
        });
        fmtps.push((pt, "0-16".to_owned()));
    }
    SessionDescription {
        origin: Origin {
            username: "kefu".to_owned(),
            session_id,
            session_version: version,
            address: local_ip,
        },
        session_name: "kefu".to_owned(),
        connection: Some(local_ip),
        media: vec![MediaDescription {
            kind: "audio".to_owned(),
            port,
            protocol: "RTP/AVP".to_owned(),
            formats,
            rtpmaps,
            fmtps,
            direction,
            ptime: Some(DEFAULT_PTIME),
            connection: None,
            rtcp_mux: false,
        }],
    }
}

#[cfg(test)]
mod tests;
