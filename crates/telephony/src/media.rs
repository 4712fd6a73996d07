//! The media runtime: one RTP/RTCP socket pair per call leg from a port pool, a receive task per leg
//! (RTP into the jitter buffer, RFC 4733 events into digits, symmetric-RTP source learning), and one
//! ticker that every 20 ms pops each leg's jitter buffer, mixes rooms (bridges and conferences: each
//! member hears everyone but itself, and members can be muted, whisper to one member, or be held with
//! music: see [`MemberMode`]), feeds recorders and in-band DTMF detection, and sends each leg its next
//! frame (a prompt, hold music, the room's mix, or silence) or the next RFC 4733 packet of a digit
//! being sent. The codecs, SDP and the pure pieces are in `kefu-media`; this module only moves packets
//! and owns timing. The ticker keeps its working vectors from tick to tick, so mixing allocates nothing
//! once they have grown to the size of the largest room.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kefu_media::dtmf::DtmfDetector;
use kefu_media::jitter::JitterBuffer;
use kefu_media::mixer::HeardBy;
use kefu_media::sdp::{Direction as SdpDirection, Negotiated};
use kefu_media::silence::SilenceDetector;
use kefu_media::telephone_event::{self, EventPacket, EventReceiver, EventSender};
use kefu_media::wav::WavRecorder;
use kefu_media::{Codec, FRAME_SAMPLES, g711, mixer, rtcp, rtp, tone};
use parking_lot::Mutex;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::call::MemberMode;

pub type Frame = [i16; FRAME_SAMPLES];
const SILENCE: Frame = [0; FRAME_SAMPLES];
/// RTCP sender reports every 5 s (RFC 3550's minimum interval).
const RTCP_EVERY_TICKS: u64 = 250;
/// How long each digit `send_dtmf` sends lasts, and the pause after it (audio flows in the pause).
const DTMF_DIGIT_MS: u32 = 100;
const DTMF_GAP_TICKS: u32 = 3;
/// The peak of each of the two sines of an in-band digit (about -10 dBFS each).
const DTMF_INBAND_AMPLITUDE: i16 = 10_000;

/// Even RTP ports of the configured range; RTCP uses the odd one above.
pub(crate) struct PortPool {
    free: VecDeque<u16>,
    total: usize,
}

impl PortPool {
    pub(crate) fn new(lo: u16, hi: u16) -> PortPool {
        let start = lo + (lo % 2);
        let free: VecDeque<u16> = (start..hi).step_by(2).filter(|p| *p < hi).collect();
        PortPool {
            total: free.len(),
            free,
        }
    }
    fn take(&mut self) -> Option<u16> {
        self.free.pop_front()
    }
    /// Released ports go to the back so a late packet of an old call rarely reaches a new one.
    fn put(&mut self, port: u16) {
        self.free.push_back(port);
    }
    fn in_use(&self) -> usize {
        self.total - self.free.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no free RTP port")]
    NoPorts,
    #[error("prompt {0}: {1}")]
    Prompt(String, String),
    #[error("recording {0}: {1}")]
    Recording(String, String),
}

/// What a leg hears from kefu when it is not in a room.
enum Source {
    Silence,
    Play {
        prompts: Vec<Arc<[i16]>>,
        index: usize,
        pos: usize,
        interruptible: bool,
        done: Option<oneshot::Sender<PlayEnd>>,
    },
    Music {
        samples: Arc<[i16]>,
        pos: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayEnd {
    Completed,
    Interrupted(char),
    /// Replaced by another play, music, a room, or the call ended.
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordEnd {
    MaxLength,
    Silence,
    Digit(char),
    /// Stopped by the application or the call ended.
    Stopped,
}

struct Recorder {
    path: PathBuf,
    writer: WavRecorder<BufWriter<File>>,
    max_samples: u64,
    written: u64,
    silence: Option<(SilenceDetector, u32)>,
    stop_on_digit: bool,
    /// Record what the leg hears too (a bridged call's recording), not only what it says.
    both_ways: bool,
    /// Paused (`Call::pause_recording`): nothing is written, nothing counts towards the length or the
    /// silence limit; the file simply has no samples for the paused time.
    paused: bool,
    done: Option<oneshot::Sender<(RecordEnd, u64)>>,
}

/// Digits being sent to the peer (`Call::send_dtmf`): one request after the other, each answered when
/// its last packet (or in-band tone) went out.
#[derive(Default)]
struct DtmfOut {
    queue: VecDeque<DtmfRequest>,
    /// The digit on the wire now.
    current: Option<DtmfNow>,
    /// Ticks of ordinary audio still to send before the next digit.
    gap: u32,
}

struct DtmfRequest {
    digits: VecDeque<char>,
    done: Option<oneshot::Sender<()>>,
}

enum DtmfNow {
    /// RFC 4733 packets on the negotiated telephone-event payload type.
    Event(EventSender),
    /// The peer agreed no telephone-event: the two tones, in the audio.
    Tone { samples: Vec<i16>, pos: usize },
}

/// What a tick sends a leg instead of (or as) its audio while a digit is sent.
enum DtmfFrame {
    /// Nothing: send the audio.
    None,
    /// Send this RFC 4733 packet instead of the audio.
    Event(EventPacket),
}

pub(crate) enum MediaEvent {
    Digit(char),
    MediaTimeout,
}

struct LegState {
    codec: Codec,
    telephone_event: Option<u8>,
    remote: Option<SocketAddr>,
    latched: bool,
    /// false while the peer holds us (its SDP says recvonly/inactive) or before answer when silent.
    sending: bool,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    packets_sent: u32,
    octets_sent: u32,
    packets_received: u64,
    last_rx: Option<Instant>,
    jitter: JitterBuffer,
    jitter_depth: usize,
    events: EventReceiver,
    inband: Option<DtmfDetector>,
    source: Source,
    room: Option<u64>,
    /// Held in its room (`MemberMode::Held`): hears its source (the music) instead of the mix.
    room_held: bool,
    heard: Frame,
    room_out: Option<Frame>,
    recorder: Option<Recorder>,
    dtmf: DtmfOut,
    media_timeout_reported: bool,
    /// When the first frame of the newest play went out (the IVR's digit → prompt latency).
    prompt_started: Option<Instant>,
}

pub struct MediaLeg {
    pub(crate) port: u16,
    /// RTP and RTCP; taken (closed) when the leg is closed, so the port is free when it is counted so.
    sockets: Mutex<Option<(Arc<UdpSocket>, Arc<UdpSocket>)>>,
    state: Mutex<LegState>,
    events: Mutex<Option<mpsc::UnboundedSender<MediaEvent>>>,
    cancel: CancellationToken,
    closed: AtomicBool,
    engine: std::sync::Weak<MediaEngine>,
}

pub(crate) struct RoomInner {
    pub(crate) id: u64,
    /// Lock order: a room's members, then a member leg's state; never the other way round.
    members: Mutex<Vec<Member>>,
}

struct Member {
    leg: Arc<MediaLeg>,
    /// The call's leg id (whispers name their listener by it).
    id: Uuid,
    mode: MemberMode,
}

/// The ticker's working vectors, kept from tick to tick so a tick allocates nothing once they have
/// grown.
#[derive(Default)]
struct Scratch {
    legs: Vec<Arc<MediaLeg>>,
    rooms: Vec<Arc<RoomInner>>,
    inputs: Vec<Frame>,
    heard_by: Vec<HeardBy>,
    outputs: Vec<Frame>,
    payload: Vec<u8>,
    packet: Vec<u8>,
}

pub struct MediaEngine {
    ip: IpAddr,
    ports: Mutex<PortPool>,
    legs: Mutex<Vec<Arc<MediaLeg>>>,
    rooms: Mutex<Vec<Arc<RoomInner>>>,
    next_room: AtomicU64,
    jitter_frames: usize,
    media_timeout: Duration,
    cancel: CancellationToken,
}

impl MediaEngine {
    pub(crate) fn start(
        ip: IpAddr,
        ports: (u16, u16),
        jitter_frames: usize,
        media_timeout: Duration,
        cancel: CancellationToken,
    ) -> Arc<MediaEngine> {
        let engine = Arc::new(MediaEngine {
            ip,
            ports: Mutex::new(PortPool::new(ports.0, ports.1)),
            legs: Mutex::new(Vec::new()),
            rooms: Mutex::new(Vec::new()),
            next_room: AtomicU64::new(1),
            jitter_frames: jitter_frames.max(1),
            media_timeout,
            cancel,
        });
        let weak = Arc::downgrade(&engine);
        tokio::spawn(async move { ticker(weak).await });
        engine
    }

    pub(crate) fn ports_in_use(&self) -> usize {
        self.ports.lock().in_use()
    }

    pub(crate) fn legs_open(&self) -> usize {
        self.legs.lock().len()
    }

    /// Binds a socket pair on the next free even port. Ports another program holds are skipped.
    pub(crate) async fn open_leg(self: &Arc<Self>) -> Result<Arc<MediaLeg>, MediaError> {
        let mut tries = 0;
        let (port, socket, rtcp) = loop {
            let Some(port) = self.ports.lock().take() else {
                return Err(MediaError::NoPorts);
            };
            let rtp_addr = SocketAddr::new(self.ip, port);
            let rtcp_addr = SocketAddr::new(self.ip, port + 1);
            match (
                UdpSocket::bind(rtp_addr).await,
                UdpSocket::bind(rtcp_addr).await,
            ) {
                (Ok(a), Ok(b)) => break (port, a, b),
                _ => {
                    self.ports.lock().put(port);
                    tries += 1;
                    if tries > 64 {
                        return Err(MediaError::NoPorts);
                    }
                    // A leg closed a moment ago: its receive task may not have let go of the socket.
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
        };
        let leg = Arc::new(MediaLeg {
            port,
            sockets: Mutex::new(Some((Arc::new(socket), Arc::new(rtcp)))),
            state: Mutex::new(LegState::new(Codec::Pcma, self.jitter_frames)),
            events: Mutex::new(None),
            cancel: self.cancel.child_token(),
            closed: AtomicBool::new(false),
            engine: Arc::downgrade(self),
        });
        self.legs.lock().push(leg.clone());
        tokio::spawn(receive(leg.clone()));
        Ok(leg)
    }

    pub(crate) fn new_room(&self) -> Arc<RoomInner> {
        let room = Arc::new(RoomInner {
            id: self.next_room.fetch_add(1, Ordering::Relaxed),
            members: Mutex::new(Vec::new()),
        });
        self.rooms.lock().push(room.clone());
        room
    }

    /// Adds a leg to a room (leaving any room it was in) in `mode`; `music` is what a held member
    /// hears (loaded by the caller).
    pub(crate) fn join(
        &self,
        room: &Arc<RoomInner>,
        leg: &Arc<MediaLeg>,
        id: Uuid,
        mode: MemberMode,
        music: Option<Arc<[i16]>>,
    ) {
        let previous = leg.state.lock().room;
        if let Some(old) = previous {
            self.leave_room(old, leg);
        }
        {
            let mut st = leg.state.lock();
            st.stop_source(PlayEnd::Stopped);
            st.room = Some(room.id);
            st.room_out = None;
            st.jitter.reset();
            st.hold_in_room(music);
        }
        room.members.lock().push(Member {
            leg: leg.clone(),
            id,
            mode,
        });
    }

    /// Changes a member's mode; false when the leg is not a member. `music` as for `join`.
    pub(crate) fn set_mode(
        &self,
        room: &Arc<RoomInner>,
        leg: &Arc<MediaLeg>,
        mode: MemberMode,
        music: Option<Arc<[i16]>>,
    ) -> bool {
        {
            let mut members = room.members.lock();
            let Some(m) = members.iter_mut().find(|m| Arc::ptr_eq(&m.leg, leg)) else {
                return false;
            };
            m.mode = mode;
        }
        let mut st = leg.state.lock();
        if st.room == Some(room.id) {
            st.hold_in_room(music);
        }
        true
    }

    /// A member's mode, when the leg is one.
    pub(crate) fn mode_of(&self, room: &Arc<RoomInner>, leg: &Arc<MediaLeg>) -> Option<MemberMode> {
        room.members
            .lock()
            .iter()
            .find(|m| Arc::ptr_eq(&m.leg, leg))
            .map(|m| m.mode.clone())
    }

    /// The leg ids of the members, in the order they joined.
    pub(crate) fn member_ids(&self, room: &Arc<RoomInner>) -> Vec<Uuid> {
        room.members.lock().iter().map(|m| m.id).collect()
    }

    pub(crate) fn leave_room(&self, room_id: u64, leg: &Arc<MediaLeg>) {
        let rooms = self.rooms.lock().clone();
        for room in rooms.iter().filter(|r| r.id == room_id) {
            room.members.lock().retain(|m| !Arc::ptr_eq(&m.leg, leg));
        }
        leg.state.lock().left_room(room_id);
    }

    pub(crate) fn close_room(&self, room: &Arc<RoomInner>) {
        let members = std::mem::take(&mut *room.members.lock());
        for m in members {
            m.leg.state.lock().left_room(room.id);
        }
        self.rooms.lock().retain(|r| !Arc::ptr_eq(r, room));
    }

    pub(crate) fn room_members(&self, room: &Arc<RoomInner>) -> usize {
        room.members.lock().len()
    }

    fn tick(&self, tick: u64, now: Instant, scratch: &mut Scratch) {
        let Scratch {
            legs,
            rooms,
            inputs,
            heard_by,
            outputs,
            payload,
            packet,
        } = scratch;
        legs.clear();
        legs.extend(self.legs.lock().iter().cloned());
        // 1: what each leg said in the last 20 ms, through its jitter buffer.
        for leg in legs.iter() {
            let mut st = leg.state.lock();
            if let Some(d) = st.hear() {
                drop(st);
                leg.digit(d);
                st = leg.state.lock();
            }
            if !self.media_timeout.is_zero()
                && !st.media_timeout_reported
                && let Some(last) = st.last_rx
                && now.saturating_duration_since(last) > self.media_timeout
            {
                st.media_timeout_reported = true;
                drop(st);
                leg.emit(MediaEvent::MediaTimeout);
            }
        }
        // 2: rooms: each member hears the sum of the others its mode lets it hear.
        rooms.clear();
        rooms.extend(self.rooms.lock().iter().cloned());
        for room in rooms.iter() {
            let members = room.members.lock();
            if members.is_empty() {
                continue;
            }
            inputs.clear();
            heard_by.clear();
            for m in members.iter() {
                inputs.push(m.leg.state.lock().heard);
                heard_by.push(match &m.mode {
                    MemberMode::Normal => HeardBy::Everyone,
                    MemberMode::Muted | MemberMode::Held { .. } => HeardBy::Nobody,
                    MemberMode::Whisper { to } => members
                        .iter()
                        .position(|other| other.id == *to)
                        .map_or(HeardBy::Nobody, HeardBy::Only),
                });
            }
            outputs.clear();
            outputs.resize(members.len(), SILENCE);
            mixer::mix(inputs, heard_by, outputs);
            for (m, out) in members.iter().zip(outputs.iter()) {
                if !matches!(m.mode, MemberMode::Held { .. }) {
                    m.leg.state.lock().room_out = Some(*out);
                }
            }
        }
        rooms.clear();
        // 3: each leg's next frame (or digit packet), sent; recorders fed.
        for leg in legs.iter() {
            let mut st = leg.state.lock();
            let mut pcm = st.speak();
            let dtmf = st.dtmf_step(&mut pcm);
            if st.sending
                && let Some(remote) = st.remote
            {
                let header = match dtmf {
                    DtmfFrame::Event(ev) => {
                        payload.clear();
                        payload.extend_from_slice(&ev.payload());
                        let pt = st.telephone_event.unwrap_or(101);
                        ev.rtp_header(pt, st.seq, st.ssrc)
                    }
                    DtmfFrame::None => {
                        payload.clear();
                        g711::encode(st.codec, &pcm, payload);
                        rtp::RtpHeader {
                            marker: st.packets_sent == 0,
                            payload_type: st.codec.payload_type(),
                            sequence: st.seq,
                            timestamp: st.timestamp,
                            ssrc: st.ssrc,
                        }
                    }
                };
                rtp::write(&header, payload, packet);
                if let Some((rtp_socket, _)) = leg.sockets.lock().as_ref() {
                    let _ = rtp_socket.try_send_to(packet, remote);
                }
                st.seq = st.seq.wrapping_add(1);
                st.packets_sent = st.packets_sent.wrapping_add(1);
                st.octets_sent = st.octets_sent.wrapping_add(payload.len() as u32);
                if tick % RTCP_EVERY_TICKS == (leg.port as u64 % RTCP_EVERY_TICKS) {
                    let sr = rtcp::SenderReport {
                        ssrc: st.ssrc,
                        ntp_timestamp: ntp_now(),
                        rtp_timestamp: st.timestamp,
                        packet_count: st.packets_sent,
                        octet_count: st.octets_sent,
                        reports: Vec::new(),
                    };
                    let mut buf = Vec::new();
                    rtcp::write_sender_report(&sr, &mut buf);
                    let rtcp_remote = SocketAddr::new(remote.ip(), remote.port().wrapping_add(1));
                    if let Some((_, rtcp_socket)) = leg.sockets.lock().as_ref() {
                        let _ = rtcp_socket.try_send_to(&buf, rtcp_remote);
                    }
                }
            }
            st.timestamp = st.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        }
        legs.clear();
    }
}

fn ntp_now() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() + 2_208_988_800;
    let frac = ((now.subsec_nanos() as u64) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

async fn ticker(engine: std::sync::Weak<MediaEngine>) {
    let mut interval = tokio::time::interval(Duration::from_millis(20));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let cancel = match engine.upgrade() {
        Some(e) => e.cancel.clone(),
        None => return,
    };
    let mut tick: u64 = 0;
    let mut scratch = Scratch::default();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => {}
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        engine.tick(tick, Instant::now(), &mut scratch);
        tick += 1;
    }
}

async fn receive(leg: Arc<MediaLeg>) {
    let Some((socket, rtcp)) = leg.sockets.lock().clone() else {
        return;
    };
    let mut buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            _ = leg.cancel.cancelled() => return,
            r = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                leg.on_rtp(&buf[..n], from);
            }
            r = rtcp.recv_from(&mut rtcp_buf) => {
                // Peers' reports are parsed (malformed ones ignored); statistics are a later concern.
                if let Ok((n, _)) = r {
                    let _ = rtcp::parse_compound(&rtcp_buf[..n]);
                }
            }
        }
    }
}

impl LegState {
    fn new(codec: Codec, jitter_frames: usize) -> LegState {
        LegState {
            codec,
            telephone_event: None,
            remote: None,
            latched: false,
            sending: false,
            ssrc: rand::random(),
            seq: rand::random(),
            timestamp: rand::random(),
            packets_sent: 0,
            octets_sent: 0,
            packets_received: 0,
            last_rx: None,
            jitter: JitterBuffer::new(codec, jitter_frames, 50),
            jitter_depth: jitter_frames,
            events: EventReceiver::new(),
            inband: None,
            source: Source::Silence,
            room: None,
            room_held: false,
            heard: SILENCE,
            room_out: None,
            recorder: None,
            dtmf: DtmfOut::default(),
            media_timeout_reported: false,
            prompt_started: None,
        }
    }

    /// A packet from the peer: a telephone event may complete a key press; audio goes to the jitter
    /// buffer. Other payload types (comfort noise, a codec not agreed) are ignored.
    fn receive(&mut self, h: &rtp::RtpHeader, payload: &[u8]) -> Option<char> {
        self.packets_received += 1;
        if Some(h.payload_type) == self.telephone_event {
            let ev = telephone_event::parse(payload).ok()?;
            return self.events.on_packet(h.timestamp, &ev);
        }
        if h.payload_type == self.codec.payload_type() {
            self.jitter.push(h.sequence, h.timestamp, payload);
        }
        None
    }

    /// First step of a tick: the next 20 ms of what the peer said, through the jitter buffer, and a
    /// key press the in-band detector heard in it.
    fn hear(&mut self) -> Option<char> {
        let mut heard = SILENCE;
        self.jitter.pop(&mut heard);
        self.heard = heard;
        self.inband.as_mut().and_then(|det| det.push(&heard))
    }

    /// Last step of a tick: what the peer hears next (its room's mix, else kefu's prompt, music or
    /// silence), also fed to a recording.
    fn speak(&mut self) -> Frame {
        let mut pcm = SILENCE;
        if self.room.is_some() && !self.room_held {
            pcm = self.room_out.take().unwrap_or(SILENCE);
        } else {
            let starting = matches!(
                self.source,
                Source::Play {
                    index: 0,
                    pos: 0,
                    ..
                }
            );
            self.next_source_frame(&mut pcm);
            if starting {
                self.prompt_started = Some(Instant::now());
            }
        }
        self.feed_recorder(&pcm);
        pcm
    }

    /// A key press stops an interruptible prompt and a recording that stops on digits.
    fn on_digit(&mut self, d: char) {
        if matches!(
            self.source,
            Source::Play {
                interruptible: true,
                ..
            }
        ) {
            self.stop_source(PlayEnd::Interrupted(d));
        }
        if self.recorder.as_ref().is_some_and(|r| r.stop_on_digit) {
            self.finish_recording(RecordEnd::Digit(d));
        }
    }

    /// Held in the room with `music` (a member in `MemberMode::Held`), or not held (`None`): the
    /// music starts or stops.
    fn hold_in_room(&mut self, music: Option<Arc<[i16]>>) {
        match music {
            Some(samples) => {
                self.stop_source(PlayEnd::Stopped);
                self.source = Source::Music { samples, pos: 0 };
                self.room_held = true;
            }
            None if self.room_held => {
                self.stop_source(PlayEnd::Stopped);
                self.room_held = false;
            }
            None => {}
        }
    }

    /// The leg left room `room_id` (or the room closed): no mix, and no room music any more.
    fn left_room(&mut self, room_id: u64) {
        if self.room == Some(room_id) {
            self.room = None;
            self.room_out = None;
            self.hold_in_room(None);
        }
    }

    /// The digit being sent this tick, if any: an RFC 4733 packet to send instead of `pcm`, or (no
    /// telephone-event agreed) the digit's tones written over `pcm`. Requests are answered once their
    /// last digit went out.
    fn dtmf_step(&mut self, pcm: &mut Frame) -> DtmfFrame {
        let out = &mut self.dtmf;
        if out.current.is_none() {
            if out.gap > 0 {
                out.gap -= 1;
                return DtmfFrame::None;
            }
            let next = loop {
                let Some(req) = out.queue.front_mut() else {
                    return DtmfFrame::None;
                };
                match req.digits.pop_front() {
                    Some(d) => break d,
                    None => {
                        if let Some(tx) = req.done.take() {
                            let _ = tx.send(());
                        }
                        out.queue.pop_front();
                    }
                }
            };
            out.current = Some(match self.telephone_event {
                // Validated by `Call::send_dtmf`; a key EventSender refuses is skipped.
                Some(_) => match EventSender::new(next, self.timestamp, DTMF_DIGIT_MS) {
                    Ok(sender) => DtmfNow::Event(sender),
                    Err(_) => return DtmfFrame::None,
                },
                None => DtmfNow::Tone {
                    samples: tone::dtmf_tone(
                        next,
                        DTMF_INBAND_AMPLITUDE,
                        (DTMF_DIGIT_MS * 8) as usize,
                    ),
                    pos: 0,
                },
            });
        }
        let frame = match out.current.as_mut() {
            Some(DtmfNow::Event(sender)) => match sender.next() {
                Some(packet) => DtmfFrame::Event(packet),
                None => {
                    out.current = None;
                    out.gap = DTMF_GAP_TICKS;
                    DtmfFrame::None
                }
            },
            Some(DtmfNow::Tone { samples, pos }) => {
                let n = (samples.len() - *pos).min(FRAME_SAMPLES);
                pcm[..n].copy_from_slice(&samples[*pos..*pos + n]);
                pcm[n..].fill(0);
                *pos += n;
                if *pos >= samples.len() {
                    out.current = None;
                    out.gap = DTMF_GAP_TICKS;
                }
                DtmfFrame::None
            }
            None => DtmfFrame::None,
        };
        // A request whose last digit just ended is answered now, not after the next gap.
        if out.current.is_none()
            && let Some(req) = out.queue.front_mut()
            && req.digits.is_empty()
        {
            if let Some(tx) = req.done.take() {
                let _ = tx.send(());
            }
            out.queue.pop_front();
        }
        frame
    }

    fn stop_source(&mut self, end: PlayEnd) {
        if let Source::Play { done, .. } = &mut self.source
            && let Some(tx) = done.take()
        {
            let _ = tx.send(end);
        }
        self.source = Source::Silence;
    }

    fn next_source_frame(&mut self, out: &mut Frame) {
        match &mut self.source {
            Source::Silence => *out = SILENCE,
            Source::Music { samples, pos } => {
                if samples.is_empty() {
                    *out = SILENCE;
                    return;
                }
                for s in out.iter_mut() {
                    *s = samples[*pos];
                    *pos = (*pos + 1) % samples.len();
                }
            }
            Source::Play {
                prompts,
                index,
                pos,
                done,
                ..
            } => {
                let mut filled = 0;
                while filled < FRAME_SAMPLES && *index < prompts.len() {
                    let p = &prompts[*index];
                    let n = (p.len() - *pos).min(FRAME_SAMPLES - filled);
                    out[filled..filled + n].copy_from_slice(&p[*pos..*pos + n]);
                    filled += n;
                    *pos += n;
                    if *pos >= p.len() {
                        *index += 1;
                        *pos = 0;
                    }
                }
                out[filled..].fill(0);
                if *index >= prompts.len() {
                    if let Some(tx) = done.take() {
                        let _ = tx.send(PlayEnd::Completed);
                    }
                    self.source = Source::Silence;
                }
            }
        }
    }

    fn feed_recorder(&mut self, sent: &Frame) {
        let Some(rec) = self.recorder.as_mut() else {
            return;
        };
        if rec.paused {
            return;
        }
        let mut frame = self.heard;
        if rec.both_ways {
            for (a, b) in frame.iter_mut().zip(sent) {
                *a = a.saturating_add(*b);
            }
        }
        let take = (rec.max_samples - rec.written).min(FRAME_SAMPLES as u64) as usize;
        if rec.writer.write(&frame[..take]).is_err() {
            self.finish_recording(RecordEnd::Stopped);
            return;
        }
        rec.written += take as u64;
        let mut end = None;
        if rec.written >= rec.max_samples {
            end = Some(RecordEnd::MaxLength);
        } else if let Some((det, limit_ms)) = rec.silence.as_mut()
            && det.push(&self.heard) >= *limit_ms
        {
            end = Some(RecordEnd::Silence);
        }
        if let Some(end) = end {
            self.finish_recording(end);
        }
    }

    fn finish_recording(&mut self, end: RecordEnd) {
        if let Some(mut rec) = self.recorder.take() {
            let _ = rec.writer.finish();
            if let Some(tx) = rec.done.take() {
                let _ = tx.send((end, rec.written));
            }
            tracing::debug!(path = %rec.path.display(), ?end, "recording finished");
        }
    }
}

impl MediaLeg {
    pub(crate) fn set_events(&self, tx: mpsc::UnboundedSender<MediaEvent>) {
        *self.events.lock() = Some(tx);
    }

    fn emit(&self, ev: MediaEvent) {
        if let Some(tx) = self.events.lock().as_ref() {
            let _ = tx.send(ev);
        }
    }

    pub(crate) fn local_port(&self) -> u16 {
        self.port
    }

    /// Applies a negotiated SDP: codec, telephone-event type, where to send, and whether to send.
    pub(crate) fn apply(&self, n: &Negotiated) {
        let mut st = self.state.lock();
        if st.codec != n.codec {
            st.codec = n.codec;
            st.jitter = JitterBuffer::new(n.codec, st.jitter_depth, 50);
        }
        st.telephone_event = n.telephone_event;
        st.inband = if n.telephone_event.is_none() {
            Some(DtmfDetector::new())
        } else {
            None
        };
        if !st.latched {
            st.remote = n.remote;
        }
        if n.remote.is_none() {
            st.remote = None;
            st.latched = false;
        }
        st.sending = n.remote.is_some()
            && matches!(n.direction, SdpDirection::SendRecv | SdpDirection::SendOnly);
    }

    pub(crate) fn set_sending(&self, on: bool) {
        self.state.lock().sending = on;
    }

    fn on_rtp(&self, packet: &[u8], from: SocketAddr) {
        if rtp::is_rtcp(packet) {
            return;
        }
        let Ok((h, payload)) = rtp::parse(packet) else {
            return;
        };
        let mut st = self.state.lock();
        // Symmetric RTP: send where the peer's packets come from (phones behind NAT at remote sites).
        if !st.latched || st.remote != Some(from) {
            if !st.latched {
                st.latched = true;
                st.remote = Some(from);
            } else {
                return; // a stranger's packets once latched: ignored (RTP bleed / injection)
            }
        }
        st.last_rx = Some(Instant::now());
        if let Some(d) = st.receive(&h, payload) {
            drop(st);
            self.digit(d);
        }
    }

    /// A digit arrived (RFC 4733 or in-band): stops an interruptible prompt or a recording that
    /// stops on digits, then goes to the call.
    fn digit(&self, d: char) {
        self.state.lock().on_digit(d);
        self.emit(MediaEvent::Digit(d));
    }

    pub(crate) fn play(
        &self,
        prompts: Vec<Arc<[i16]>>,
        interruptible: bool,
    ) -> oneshot::Receiver<PlayEnd> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.state.lock();
        st.stop_source(PlayEnd::Stopped);
        st.source = Source::Play {
            prompts,
            index: 0,
            pos: 0,
            interruptible,
            done: Some(tx),
        };
        rx
    }

    /// When the first frame of the newest play was sent.
    pub(crate) fn prompt_started(&self) -> Option<Instant> {
        self.state.lock().prompt_started
    }

    pub(crate) fn music(&self, samples: Arc<[i16]>) {
        let mut st = self.state.lock();
        st.stop_source(PlayEnd::Stopped);
        st.source = Source::Music { samples, pos: 0 };
    }

    pub(crate) fn silence(&self) {
        self.state.lock().stop_source(PlayEnd::Stopped);
    }

    pub(crate) fn record(
        &self,
        path: PathBuf,
        max: Duration,
        silence_ms: Option<u32>,
        stop_on_digit: bool,
        both_ways: bool,
    ) -> Result<oneshot::Receiver<(RecordEnd, u64)>, MediaError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| MediaError::Recording(path.display().to_string(), e.to_string()))?;
        }
        let file = File::create(&path)
            .map_err(|e| MediaError::Recording(path.display().to_string(), e.to_string()))?;
        let writer = WavRecorder::new(BufWriter::new(file))
            .map_err(|e| MediaError::Recording(path.display().to_string(), e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        let mut st = self.state.lock();
        st.finish_recording(RecordEnd::Stopped);
        st.recorder = Some(Recorder {
            path,
            writer,
            max_samples: max.as_millis() as u64 * 8,
            written: 0,
            silence: silence_ms.map(|ms| (SilenceDetector::new(-45.0), ms)),
            stop_on_digit,
            both_ways,
            paused: false,
            done: Some(tx),
        });
        Ok(rx)
    }

    pub(crate) fn stop_recording(&self) {
        self.state.lock().finish_recording(RecordEnd::Stopped);
    }

    /// Pauses or resumes the recording in progress; false when nothing is being recorded.
    pub(crate) fn pause_recording(&self, paused: bool) -> bool {
        match self.state.lock().recorder.as_mut() {
            Some(rec) => {
                rec.paused = paused;
                true
            }
            None => false,
        }
    }

    /// Whether a recording is in progress, and whether it is paused.
    pub(crate) fn recording(&self) -> Option<bool> {
        self.state.lock().recorder.as_ref().map(|r| r.paused)
    }

    /// Queues digits to send (already checked to be DTMF keys); the receiver is answered when the
    /// last one went out.
    pub(crate) fn send_dtmf(&self, digits: &str) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.state.lock().dtmf.queue.push_back(DtmfRequest {
            digits: digits.chars().collect(),
            done: Some(tx),
        });
        rx
    }

    pub(crate) fn packets_received(&self) -> u64 {
        self.state.lock().packets_received
    }

    /// Ends the leg's media: sockets closed, port returned, prompts and recordings finished.
    pub(crate) fn close(self: &Arc<Self>) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.cancel.cancel();
        let room = {
            let mut st = self.state.lock();
            st.stop_source(PlayEnd::Stopped);
            st.finish_recording(RecordEnd::Stopped);
            st.dtmf = DtmfOut::default();
            st.room
        };
        if let Some(engine) = self.engine.upgrade() {
            if let Some(room) = room {
                engine.leave_room(room, self);
            }
            engine.legs.lock().retain(|l| !Arc::ptr_eq(l, self));
            *self.sockets.lock() = None;
            engine.ports.lock().put(self.port);
        }
        *self.events.lock() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_media::telephone_event::TelephoneEvent;
    use kefu_media::tone;

    /// A leg's media logic driven tick by tick, without sockets or clocks.
    fn leg() -> LegState {
        LegState::new(Codec::Pcma, 3)
    }

    fn audio(st: &mut LegState, seq: u16, pcm: &[i16]) {
        let mut payload = Vec::new();
        g711::encode(Codec::Pcma, pcm, &mut payload);
        let h = rtp::RtpHeader {
            marker: false,
            payload_type: 8,
            sequence: seq,
            timestamp: seq as u32 * 160,
            ssrc: 7,
        };
        assert_eq!(st.receive(&h, &payload), None);
    }

    #[test]
    fn prompts_play_back_to_back_then_report_completed() {
        let mut st = leg();
        let a: Arc<[i16]> = vec![1i16; 200].into();
        let b: Arc<[i16]> = vec![2i16; 100].into();
        let (tx, mut rx) = oneshot::channel();
        st.source = Source::Play {
            prompts: vec![a, b],
            index: 0,
            pos: 0,
            interruptible: false,
            done: Some(tx),
        };
        let f1 = st.speak();
        assert!(f1.iter().all(|&s| s == 1));
        assert!(rx.try_recv().is_err(), "still playing");
        let f2 = st.speak();
        assert_eq!(&f2[..40], &[1; 40][..]);
        assert_eq!(&f2[40..140], &[2; 100][..]);
        assert_eq!(&f2[140..], &[0; 20][..], "padded with silence");
        assert_eq!(rx.try_recv().unwrap(), PlayEnd::Completed);
        assert_eq!(st.speak(), SILENCE);
    }

    #[test]
    fn the_first_frame_of_a_play_is_timed_and_later_frames_are_not() {
        let mut st = leg();
        assert_eq!(st.prompt_started, None);
        st.speak();
        assert_eq!(st.prompt_started, None, "silence is not a prompt");
        st.source = Source::Play {
            prompts: vec![vec![1i16; 400].into()],
            index: 0,
            pos: 0,
            interruptible: false,
            done: None,
        };
        st.speak();
        let first = st.prompt_started.expect("timed");
        st.speak();
        assert_eq!(st.prompt_started, Some(first));
    }

    #[test]
    fn a_digit_interrupts_only_an_interruptible_prompt() {
        let mut st = leg();
        let p: Arc<[i16]> = vec![5i16; 8000].into();
        let (tx, mut rx) = oneshot::channel();
        st.source = Source::Play {
            prompts: vec![p.clone()],
            index: 0,
            pos: 0,
            interruptible: false,
            done: Some(tx),
        };
        st.speak();
        st.on_digit('5');
        assert!(rx.try_recv().is_err(), "not interruptible: still playing");
        let (tx, mut rx) = oneshot::channel();
        st.source = Source::Play {
            prompts: vec![p],
            index: 0,
            pos: 0,
            interruptible: true,
            done: Some(tx),
        };
        st.speak();
        st.on_digit('#');
        assert_eq!(rx.try_recv().unwrap(), PlayEnd::Interrupted('#'));
        assert_eq!(st.speak(), SILENCE);
    }

    #[test]
    fn hold_music_loops() {
        let mut st = leg();
        st.source = Source::Music {
            samples: (0..100).collect::<Vec<i16>>().into(),
            pos: 0,
        };
        let f = st.speak();
        assert_eq!(f[99], 99);
        assert_eq!(f[100], 0, "wrapped around");
        assert_eq!(f[159], 59);
    }

    #[test]
    fn rfc4733_packets_make_one_digit_per_press() {
        let mut st = leg();
        st.telephone_event = Some(101);
        let mut digits = Vec::new();
        for (i, end) in [false, false, false, true, true, true]
            .into_iter()
            .enumerate()
        {
            let ev = TelephoneEvent {
                event: 5,
                end,
                volume: 10,
                duration: 160 * (i as u16 + 1),
            };
            let mut payload = Vec::new();
            telephone_event::write(&ev, &mut payload);
            let h = rtp::RtpHeader {
                marker: i == 0,
                payload_type: 101,
                sequence: 100 + i as u16,
                timestamp: 8000,
                ssrc: 1,
            };
            digits.extend(st.receive(&h, &payload));
        }
        assert_eq!(digits, vec!['5']);
    }

    #[test]
    fn audio_comes_out_of_the_jitter_buffer_after_its_depth_in_order() {
        let mut st = leg();
        let frames: Vec<Vec<i16>> = (0..6).map(|i| vec![(i as i16 + 1) * 1000; 160]).collect();
        // Arrival order 0, 2, 1, 3, 4, 5: one packet late.
        for &i in &[0usize, 2, 1, 3, 4, 5] {
            audio(&mut st, 1000 + i as u16, &frames[i]);
        }
        let mut levels = Vec::new();
        for _ in 0..6 {
            st.hear();
            levels.push(st.heard[80]);
        }
        let expected: Vec<i16> = frames
            .iter()
            .map(|f| {
                let mut enc = Vec::new();
                g711::encode(Codec::Pcma, &f[..1], &mut enc);
                let mut dec = Vec::new();
                g711::decode(Codec::Pcma, &enc, &mut dec);
                dec[0]
            })
            .collect();
        assert_eq!(levels, expected, "reordered and played in sequence");
    }

    #[test]
    fn in_band_dtmf_is_detected_when_no_telephone_event_was_agreed() {
        let mut st = leg();
        st.inband = Some(DtmfDetector::new());
        let tone = tone::dtmf_tone('7', 8000, 160 * 5);
        let mut seq = 0u16;
        for chunk in tone.chunks(160) {
            audio(&mut st, seq, chunk);
            seq += 1;
        }
        for _ in 0..5 {
            audio(&mut st, seq, &[0; 160]);
            seq += 1;
        }
        let digits: Vec<char> = (0..12).filter_map(|_| st.hear()).collect();
        assert_eq!(digits, vec!['7']);
    }

    fn recorder(
        st: &mut LegState,
        dir: &std::path::Path,
        max_ms: u64,
        silence_ms: Option<u32>,
    ) -> oneshot::Receiver<(RecordEnd, u64)> {
        let path = dir.join("r.wav");
        let writer = WavRecorder::new(BufWriter::new(File::create(&path).unwrap())).unwrap();
        let (tx, rx) = oneshot::channel();
        st.recorder = Some(Recorder {
            path,
            writer,
            max_samples: max_ms * 8,
            written: 0,
            silence: silence_ms.map(|ms| (SilenceDetector::new(-45.0), ms)),
            stop_on_digit: true,
            both_ways: false,
            paused: false,
            done: Some(tx),
        });
        rx
    }

    #[test]
    fn a_recording_stops_exactly_at_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = leg();
        let mut rx = recorder(&mut st, dir.path(), 1000, None);
        // 1 s = 50 ticks of 20 ms: the 50th completes it.
        for tick in 1..50 {
            st.hear();
            st.speak();
            assert!(rx.try_recv().is_err(), "tick {tick}");
        }
        st.hear();
        st.speak();
        assert_eq!(rx.try_recv().unwrap(), (RecordEnd::MaxLength, 8000));
        assert!(st.recorder.is_none());
    }

    #[test]
    fn a_recording_stops_after_the_silence_limit_and_on_a_digit() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = leg();
        let mut rx = recorder(&mut st, dir.path(), 60_000, Some(400));
        // 10 ticks of speech-level tone, then silence: 400 ms = 20 silent ticks end it.
        let mut loud = [0i16; 160];
        tone::sine(440.0, 8000, 0, &mut loud);
        for seq in 0..10 {
            audio(&mut st, seq, &loud);
        }
        let mut ticks = 0;
        while rx.try_recv().is_err() {
            st.hear();
            st.speak();
            ticks += 1;
            assert!(ticks < 100, "silence ends the recording");
        }
        // The 10 frames were all buffered before the first tick, so they play at once: 10 loud ticks,
        // one concealed fade-out, then 20 silent ones (400 ms).
        assert_eq!(ticks, 31);
        let mut rx = recorder(&mut st, dir.path(), 60_000, None);
        st.hear();
        st.speak();
        st.on_digit('#');
        assert_eq!(rx.try_recv().unwrap(), (RecordEnd::Digit('#'), 160));
    }

    /// Runs a leg's send side until its digits are out: the RFC 4733 packets it sent, and the audio.
    fn send_all(st: &mut LegState, rx: &mut oneshot::Receiver<()>) -> (Vec<EventPacket>, Vec<i16>) {
        let (mut packets, mut audio) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            if rx.try_recv().is_ok() {
                return (packets, audio);
            }
            let mut pcm = st.speak();
            match st.dtmf_step(&mut pcm) {
                DtmfFrame::Event(p) => packets.push(p),
                DtmfFrame::None => audio.extend_from_slice(&pcm),
            }
            st.timestamp = st.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        }
        panic!("the digits were never all sent");
    }

    fn queue(st: &mut LegState, digits: &str) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        st.dtmf.queue.push_back(DtmfRequest {
            digits: digits.chars().collect(),
            done: Some(tx),
        });
        rx
    }

    #[test]
    fn digits_go_out_as_rfc4733_events_that_a_receiver_reads_once_each() {
        let mut st = leg();
        st.telephone_event = Some(101);
        let mut rx = queue(&mut st, "19*#AD0");
        let (packets, _) = send_all(&mut st, &mut rx);
        let mut receiver = EventReceiver::new();
        let digits: String = packets
            .iter()
            .filter_map(|p| receiver.on_packet(p.timestamp, &p.event))
            .collect();
        assert_eq!(digits, "19*#AD0");
        // 100 ms each: 4 updates and 3 end packets, the first with the marker.
        assert_eq!(packets.len(), 7 * 7);
        assert!(packets[0].marker && !packets[1].marker && packets[7].marker);
        assert!(packets[6].event.end && packets[6].event.duration == 800);
        // Digits start at the stream's timestamp, each later than the one before.
        assert!(packets[7].timestamp > packets[0].timestamp);
        assert!(st.dtmf.queue.is_empty() && st.dtmf.current.is_none());
    }

    #[test]
    fn without_telephone_event_the_digits_are_tones_the_detector_hears() {
        let mut st = leg();
        st.telephone_event = None;
        let mut rx = queue(&mut st, "5#0");
        let (packets, audio) = send_all(&mut st, &mut rx);
        assert!(packets.is_empty());
        let mut det = DtmfDetector::new();
        let mut digits = String::new();
        for chunk in audio.chunks(FRAME_SAMPLES).chain([&SILENCE[..]; 10]) {
            digits.extend(det.push(chunk));
        }
        assert_eq!(digits, "5#0");
    }

    #[test]
    fn a_second_request_waits_for_the_first() {
        let mut st = leg();
        st.telephone_event = Some(101);
        let mut first = queue(&mut st, "1");
        let mut second = queue(&mut st, "2");
        let (packets, _) = send_all(&mut st, &mut first);
        assert!(second.try_recv().is_err(), "2 is not sent yet");
        assert_eq!(packets.len(), 7);
        let (packets, _) = send_all(&mut st, &mut second);
        assert_eq!(packets.len(), 7);
        assert_eq!(packets[0].event.event, 2);
    }

    #[test]
    fn a_paused_recording_writes_nothing_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = leg();
        let mut rx = recorder(&mut st, dir.path(), 60_000, None);
        let mut loud = [0i16; FRAME_SAMPLES];
        tone::sine(440.0, 8000, 0, &mut loud);
        for tick in 0..30u16 {
            if tick == 10 {
                st.recorder.as_mut().unwrap().paused = true;
            }
            if tick == 20 {
                st.recorder.as_mut().unwrap().paused = false;
            }
            audio(&mut st, tick, &loud);
            st.hear();
            st.speak();
        }
        st.finish_recording(RecordEnd::Stopped);
        assert_eq!(
            rx.try_recv().unwrap(),
            (RecordEnd::Stopped, 20 * FRAME_SAMPLES as u64),
            "10 ticks before the pause and 10 after"
        );
    }

    #[test]
    fn a_member_held_in_its_room_hears_music_and_back_the_mix() {
        let mut st = leg();
        st.room = Some(1);
        st.room_out = Some([7; FRAME_SAMPLES]);
        assert_eq!(st.speak(), [7; FRAME_SAMPLES]);
        st.hold_in_room(Some(vec![3i16; 50].into()));
        st.room_out = Some([7; FRAME_SAMPLES]);
        assert_eq!(st.speak(), [3; FRAME_SAMPLES], "music, not the mix");
        st.hold_in_room(None);
        st.room_out = Some([7; FRAME_SAMPLES]);
        assert_eq!(st.speak(), [7; FRAME_SAMPLES]);
        // Leaving the room while held stops the music too.
        st.hold_in_room(Some(vec![3i16; 50].into()));
        st.left_room(1);
        assert_eq!(st.speak(), SILENCE);
        assert!(!st.room_held);
    }

    #[test]
    fn port_pool_hands_out_even_ports_with_room_for_rtcp() {
        let mut p = PortPool::new(10001, 10010);
        let mut got = Vec::new();
        while let Some(x) = p.take() {
            got.push(x);
        }
        assert_eq!(got, vec![10002, 10004, 10006, 10008]);
        assert_eq!(p.in_use(), 4);
        p.put(10004);
        assert_eq!(p.in_use(), 3);
        assert_eq!(p.take(), Some(10004));
    }
}
