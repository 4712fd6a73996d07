//! The call primitives the IVR and ACD layers stand on: a [`Call`] is one leg (a SIP dialog with its
//! media). Every change of state is a [`CallEvent`] on the leg's broadcast channel.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::{Notify, broadcast, watch};
use uuid::Uuid;

use crate::directory::{Direction, Disposition, Side};
use crate::media::{MediaError, MediaLeg, PlayEnd, RecordEnd};
use crate::sip::{Engine, SipLeg};

/// Facts about a leg fixed when it starts.
#[derive(Clone, Debug)]
pub struct CallInfo {
    pub leg_id: Uuid,
    pub call_uuid: Uuid,
    pub sip_call_id: String,
    pub direction: Direction,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<Uuid>,
    pub trunk_name: Option<String>,
    /// The extension on this leg: the calling phone (inbound) or the rung phone (outbound).
    pub extension: Option<String>,
    pub started_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndInfo {
    pub disposition: Disposition,
    pub cause: String,
    pub side: Side,
    pub sip_status: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEvent {
    Ringing,
    Answered,
    Digit(char),
    /// The peer put us on hold (or we put the peer on hold: `by_us`).
    Held {
        by_us: bool,
    },
    Resumed {
        by_us: bool,
    },
    Bridged {
        room: u64,
    },
    Unbridged {
        room: u64,
    },
    /// The peer asked (REFER) to transfer this call to `target`.
    TransferRequested {
        target: String,
    },
    Ended(EndInfo),
}

/// How a member of a [`Room`] takes part: whom it hears and who hears it.
///
/// - listen: a supervisor joins `Muted`; barge: the supervisor is switched to `Normal`;
/// - whisper: the supervisor is `Whisper { to: agent }`, heard by the agent only;
/// - agent mute: the agent is `Muted`;
/// - hold within the room: the caller is `Held` and hears music while agent and supervisor talk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberMode {
    /// Hears everyone, heard by everyone.
    Normal,
    /// Hears everyone, heard by nobody.
    Muted,
    /// Hears everyone, heard only by the member whose call id is `to` (by nobody while that call is
    /// not in the room).
    Whisper { to: Uuid },
    /// Heard by nobody; hears `music` (a prompt name or a WAV path, as for [`Call::music`]) in a loop
    /// instead of the room.
    Held { music: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Ringing,
    Answered,
    Ended,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the call has ended")]
    Ended,
    #[error("the call is not answered")]
    NotAnswered,
    #[error("the call is already answered")]
    AlreadyAnswered,
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("signalling: {0}")]
    Sip(String),
    #[error("{0}")]
    Invalid(String),
}

/// Digits to collect (`collect`).
#[derive(Clone, Debug)]
pub struct CollectSpec {
    pub max_digits: usize,
    /// Time allowed for the first digit.
    pub first_digit_timeout: Duration,
    /// Time allowed between digits.
    pub inter_digit_timeout: Duration,
    /// Ends input early (not included in the result), e.g. `#`.
    pub terminator: Option<char>,
}

impl Default for CollectSpec {
    fn default() -> Self {
        CollectSpec {
            max_digits: 1,
            first_digit_timeout: Duration::from_secs(5),
            inter_digit_timeout: Duration::from_secs(3),
            terminator: Some('#'),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectEnd {
    MaxDigits,
    Terminator,
    Timeout,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    pub digits: String,
    pub end: CollectEnd,
}

#[derive(Clone, Debug)]
pub struct RecordSpec {
    pub max: Duration,
    /// Stop after this much continuous silence.
    pub silence: Option<Duration>,
    pub stop_on_digit: bool,
    /// Include what the leg hears (for recording a bridged conversation).
    pub both_ways: bool,
}

impl Default for RecordSpec {
    fn default() -> Self {
        RecordSpec {
            max: Duration::from_secs(120),
            silence: Some(Duration::from_secs(5)),
            stop_on_digit: true,
            both_ways: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub path: PathBuf,
    pub duration: Duration,
    pub end: RecordEnd,
}

pub(crate) struct Status {
    pub(crate) phase: Phase,
    pub(crate) answered_at: Option<DateTime<Utc>>,
    pub(crate) end: Option<EndInfo>,
    pub(crate) recording_path: Option<String>,
    pub(crate) held_by_us: bool,
    pub(crate) held_by_peer: bool,
    pub(crate) room: Option<u64>,
}

pub(crate) struct Leg {
    pub(crate) info: CallInfo,
    pub(crate) engine: Weak<Engine>,
    pub(crate) sip: SipLeg,
    pub(crate) media: Arc<MediaLeg>,
    pub(crate) status: Mutex<Status>,
    pub(crate) events: broadcast::Sender<CallEvent>,
    digits: Mutex<VecDeque<char>>,
    digit_arrived: Notify,
    last_digit: Mutex<Option<std::time::Instant>>,
    ended: watch::Sender<bool>,
}

/// One call leg. Cheap to clone; all clones are the same leg.
#[derive(Clone)]
pub struct Call {
    pub(crate) leg: Arc<Leg>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("leg", &self.leg.info.leg_id)
            .field("caller", &self.leg.info.caller)
            .field("callee", &self.leg.info.callee)
            .finish()
    }
}

impl Leg {
    pub(crate) fn new(
        info: CallInfo,
        engine: Weak<Engine>,
        sip: SipLeg,
        media: Arc<MediaLeg>,
    ) -> Arc<Leg> {
        let (events, _) = broadcast::channel(64);
        let (ended, _) = watch::channel(false);
        Arc::new(Leg {
            info,
            engine,
            sip,
            media,
            status: Mutex::new(Status {
                phase: Phase::Ringing,
                answered_at: None,
                end: None,
                recording_path: None,
                held_by_us: false,
                held_by_peer: false,
                room: None,
            }),
            events,
            digits: Mutex::new(VecDeque::new()),
            digit_arrived: Notify::new(),
            last_digit: Mutex::new(None),
            ended,
        })
    }

    pub(crate) fn emit(&self, ev: CallEvent) {
        let _ = self.events.send(ev);
    }

    pub(crate) fn push_digit(&self, d: char) {
        // The event goes out first: whoever collects the digit has its event already.
        self.emit(CallEvent::Digit(d));
        *self.last_digit.lock() = Some(std::time::Instant::now());
        {
            let mut q = self.digits.lock();
            if q.len() >= 64 {
                q.pop_front();
            }
            q.push_back(d);
        }
        self.digit_arrived.notify_waiters();
        self.digit_arrived.notify_one();
    }

    pub(crate) fn phase(&self) -> Phase {
        self.status.lock().phase
    }

    /// Marks the leg ended (once): returns false if it already was.
    pub(crate) fn mark_ended(&self, end: EndInfo) -> bool {
        {
            let mut st = self.status.lock();
            if st.phase == Phase::Ended {
                return false;
            }
            st.phase = Phase::Ended;
            st.end = Some(end.clone());
        }
        self.media.close();
        self.emit(CallEvent::Ended(end));
        self.ended.send_replace(true);
        self.digit_arrived.notify_waiters();
        true
    }

    fn engine(&self) -> Result<Arc<Engine>, CallError> {
        self.engine.upgrade().ok_or(CallError::Ended)
    }

    fn live(&self) -> Result<(), CallError> {
        if self.phase() == Phase::Ended {
            Err(CallError::Ended)
        } else {
            Ok(())
        }
    }

    fn answered(&self) -> Result<(), CallError> {
        match self.phase() {
            Phase::Answered => Ok(()),
            Phase::Ended => Err(CallError::Ended),
            Phase::Ringing => Err(CallError::NotAnswered),
        }
    }
}

impl Call {
    pub fn info(&self) -> &CallInfo {
        &self.leg.info
    }

    pub fn id(&self) -> Uuid {
        self.leg.info.leg_id
    }

    pub fn phase(&self) -> Phase {
        self.leg.phase()
    }

    /// `ringing`, `answered`, `on_hold` (either side holds) or `ended`.
    pub fn state_name(&self) -> &'static str {
        let st = self.leg.status.lock();
        match st.phase {
            Phase::Ringing => "ringing",
            Phase::Answered if st.held_by_us || st.held_by_peer => "on_hold",
            Phase::Answered => "answered",
            Phase::Ended => "ended",
        }
    }

    pub fn end_info(&self) -> Option<EndInfo> {
        self.leg.status.lock().end.clone()
    }

    pub fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.leg.status.lock().answered_at
    }

    /// Subscribe to this leg's events (from now on).
    pub fn events(&self) -> broadcast::Receiver<CallEvent> {
        self.leg.events.subscribe()
    }

    /// RTP packets received from the peer so far.
    pub fn packets_received(&self) -> u64 {
        self.leg.media.packets_received()
    }

    /// 180 Ringing to an inbound leg.
    pub async fn ring(&self) -> Result<(), CallError> {
        self.leg.live()?;
        self.leg.sip.ringing().map_err(CallError::Sip)
    }

    /// Answers an inbound leg (200 OK with our SDP). Outbound legs are answered by the far end.
    pub async fn answer(&self) -> Result<(), CallError> {
        let engine = self.leg.engine()?;
        engine.answer(&self.leg)
    }

    /// Refuses an unanswered inbound leg with a SIP status (486 busy, 480, 603 ...).
    pub async fn reject(&self, status: u16) -> Result<(), CallError> {
        let engine = self.leg.engine()?;
        engine.reject(&self.leg, status)
    }

    /// Plays prompts (names resolved in the prompts folder, or paths to WAV files) one after the other.
    /// With `interruptible`, a digit stops the playback; the digit stays queued for `collect`.
    pub async fn play(&self, prompts: &[&str], interruptible: bool) -> Result<PlayEnd, CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        let mut loaded = Vec::with_capacity(prompts.len());
        for p in prompts {
            loaded.push(engine.prompt(p)?);
        }
        if interruptible && let Some(&d) = self.leg.digits.lock().front() {
            return Ok(PlayEnd::Interrupted(d));
        }
        let rx = self.leg.media.play(loaded, interruptible);
        let mut ended = self.leg.ended.subscribe();
        let end = tokio::select! {
            r = rx => r.unwrap_or(PlayEnd::Stopped),
            _ = ended.wait_for(|e| *e) => return Err(CallError::Ended),
        };
        if let PlayEnd::Interrupted(_) = end {
            self.digit_queued().await;
        }
        Ok(end)
    }

    /// The media ticker stops a prompt the moment a key arrives; the key reaches the digit queue a
    /// moment later through the leg's event task. Waits (briefly) for it, so whatever comes next — a
    /// collect, or another interruptible prompt — sees the key that stopped this one.
    async fn digit_queued(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        loop {
            let notified = self.leg.digit_arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.leg.digits.lock().is_empty() || self.leg.live().is_err() {
                return;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    /// Plays a prompt in a loop (music while the caller waits) until something else is played, the
    /// leg joins a room, or `stop_playing`.
    pub fn music(&self, prompt: &str) -> Result<(), CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        let samples = engine.prompt(prompt)?;
        self.leg.media.music(samples);
        Ok(())
    }

    /// When the newest key press arrived (RFC 4733, SIP INFO or in-band).
    pub fn last_digit_at(&self) -> Option<std::time::Instant> {
        *self.leg.last_digit.lock()
    }

    /// When the first frame of the newest prompt played to the leg was sent.
    pub fn prompt_started_at(&self) -> Option<std::time::Instant> {
        self.leg.media.prompt_started()
    }

    /// Stops whatever kefu is playing to the leg.
    pub fn stop_playing(&self) {
        self.leg.media.silence();
    }

    /// Forgets digits typed so far.
    pub fn flush_digits(&self) {
        self.leg.digits.lock().clear();
    }

    /// Collects digits (already-typed digits count, e.g. the one that interrupted a prompt).
    pub async fn collect(&self, spec: &CollectSpec) -> Result<Collected, CallError> {
        self.leg.answered()?;
        let mut digits = String::new();
        let mut deadline = tokio::time::Instant::now() + spec.first_digit_timeout;
        loop {
            let next = self.leg.digits.lock().pop_front();
            match next {
                Some(d) if Some(d) == spec.terminator => {
                    return Ok(Collected {
                        digits,
                        end: CollectEnd::Terminator,
                    });
                }
                Some(d) => {
                    digits.push(d);
                    if digits.len() >= spec.max_digits {
                        return Ok(Collected {
                            digits,
                            end: CollectEnd::MaxDigits,
                        });
                    }
                    deadline = tokio::time::Instant::now() + spec.inter_digit_timeout;
                    continue;
                }
                None => {}
            }
            self.leg.live()?;
            let notified = self.leg.digit_arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.leg.digits.lock().is_empty() {
                continue;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return Ok(Collected { digits, end: CollectEnd::Timeout });
                }
            }
        }
    }

    /// Records what the caller says to a WAV file (8 kHz mono). Relative paths are under the
    /// configured recordings folder. A key that stops the recording stays queued, as for `play`.
    pub async fn record(&self, path: &Path, spec: &RecordSpec) -> Result<Recorded, CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        let path = engine.recording_path(path);
        let rx = self.leg.media.record(
            path.clone(),
            spec.max,
            spec.silence.map(|d| d.as_millis() as u32),
            spec.stop_on_digit,
            spec.both_ways,
        )?;
        self.leg.status.lock().recording_path = Some(path.display().to_string());
        let mut ended = self.leg.ended.subscribe();
        let (end, samples) = tokio::select! {
            r = rx => r.unwrap_or((RecordEnd::Stopped, 0)),
            _ = ended.wait_for(|e| *e) => (RecordEnd::Stopped, 0),
        };
        if let RecordEnd::Digit(_) = end {
            self.digit_queued().await;
        }
        Ok(Recorded {
            path,
            duration: Duration::from_millis(samples / 8),
            end,
        })
    }

    /// Starts recording the conversation in the background (both directions) until the leg ends or
    /// `stop_recording`; the path goes into the call record.
    pub fn start_recording(&self, path: &Path, max: Duration) -> Result<PathBuf, CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        let path = engine.recording_path(path);
        let _rx = self
            .leg
            .media
            .record(path.clone(), max, None, false, true)?;
        self.leg.status.lock().recording_path = Some(path.display().to_string());
        Ok(path)
    }

    pub fn stop_recording(&self) {
        self.leg.media.stop_recording();
    }

    /// Pauses the recording in progress (`record` or `start_recording`): until `resume_recording`,
    /// nothing is written — not silence, nothing — so a card number read aloud is not stored, and the
    /// file is shorter than the call by the paused time. Paused time does not count towards the
    /// recording's maximum length or its silence limit. Pausing a paused recording does nothing.
    /// `Invalid` when nothing is being recorded.
    pub fn pause_recording(&self) -> Result<(), CallError> {
        self.leg.live()?;
        if self.leg.media.pause_recording(true) {
            Ok(())
        } else {
            Err(CallError::Invalid("the call is not being recorded".into()))
        }
    }

    /// Resumes a paused recording (resuming one that is not paused does nothing). `Invalid` when
    /// nothing is being recorded.
    pub fn resume_recording(&self) -> Result<(), CallError> {
        self.leg.live()?;
        if self.leg.media.pause_recording(false) {
            Ok(())
        } else {
            Err(CallError::Invalid("the call is not being recorded".into()))
        }
    }

    /// Whether a recording of this leg is in progress (paused or not).
    pub fn is_recording(&self) -> bool {
        self.leg.media.recording().is_some()
    }

    /// Whether the recording in progress is paused (false when there is none).
    pub fn is_recording_paused(&self) -> bool {
        self.leg.media.recording() == Some(true)
    }

    /// Sends DTMF keys to the far end and returns once the last one went out: RFC 4733
    /// telephone-events on the payload type agreed in SDP (each key 100 ms, 60 ms apart), or, when
    /// the far end agreed none, the keys' tones in the audio. Only `0`-`9`, `*`, `#` and `A`-`D`
    /// are keys: anything else is refused (`Invalid`) before any key is sent. Keys sent while the
    /// leg is in a room replace its audio for their duration. Several calls queue up in order. While
    /// the peer holds the call nothing is sent, and the keys are lost (the call still returns once
    /// their time has passed).
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), CallError> {
        if let Some(bad) = digits
            .chars()
            .find(|c| !matches!(c, '0'..='9' | '*' | '#' | 'A'..='D'))
        {
            return Err(CallError::Invalid(format!(
                "{bad:?} is not a DTMF key: only 0-9, *, # and A-D can be sent"
            )));
        }
        self.leg.answered()?;
        if digits.is_empty() {
            return Ok(());
        }
        let sent = self.leg.media.send_dtmf(digits);
        let mut ended = self.leg.ended.subscribe();
        tokio::select! {
            r = sent => r.map_err(|_| CallError::Ended),
            _ = ended.wait_for(|e| *e) => Err(CallError::Ended),
        }
    }

    /// The room this leg is in, if any.
    pub fn room_id(&self) -> Option<u64> {
        self.leg.status.lock().room
    }

    /// Puts the peer on hold (re-INVITE a=sendonly) and plays music to it.
    pub async fn hold(&self) -> Result<(), CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        engine.hold(&self.leg, true).await
    }

    /// Takes the peer off hold (re-INVITE a=sendrecv).
    pub async fn unhold(&self) -> Result<(), CallError> {
        self.leg.answered()?;
        let engine = self.leg.engine()?;
        engine.hold(&self.leg, false).await
    }

    /// Asks the peer to call `target` instead (REFER, blind transfer); the leg ends when it accepts.
    pub async fn refer(&self, target: &str) -> Result<(), CallError> {
        self.leg.answered()?;
        self.leg.sip.refer(target).await.map_err(CallError::Sip)
    }

    /// Ends the leg: BYE when answered, CANCEL for an outbound leg still ringing, 480 for an inbound
    /// leg not yet answered.
    pub async fn hangup(&self) -> Result<(), CallError> {
        let engine = self.leg.engine()?;
        engine.hangup(&self.leg, "normal_clearing").await;
        Ok(())
    }

    /// Waits until the leg has ended.
    pub async fn wait_ended(&self) -> EndInfo {
        let mut rx = self.leg.ended.subscribe();
        let _ = rx.wait_for(|e| *e).await;
        self.end_info().unwrap_or(EndInfo {
            disposition: Disposition::Failed,
            cause: "unknown".into(),
            side: Side::System,
            sip_status: None,
        })
    }
}

/// Several legs that hear each other (each hears everyone but itself): a two-party bridge or an
/// N-party conference. Media goes through kefu, so it can be recorded and mixed. Each member has a
/// [`MemberMode`] (normal, muted, whispering to one member, held with music).
#[derive(Clone)]
pub struct Room {
    pub(crate) inner: Arc<crate::media::RoomInner>,
    pub(crate) engine: Weak<Engine>,
}

impl Room {
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Adds an answered leg (leaving any other room it was in), heard by and hearing everyone.
    pub fn add(&self, call: &Call) -> Result<(), CallError> {
        self.add_with(call, MemberMode::Normal)
    }

    /// Adds an answered leg in `mode` (leaving any other room it was in; adding a member again
    /// re-adds it). A whisper's listener must already be in the room; a held member's music must load.
    pub fn add_with(&self, call: &Call, mode: MemberMode) -> Result<(), CallError> {
        call.leg.answered()?;
        let engine = self.engine.upgrade().ok_or(CallError::Ended)?;
        let music = self.check_mode(&engine, call, &mode)?;
        engine
            .media()
            .join(&self.inner, &call.leg.media, call.id(), mode, music);
        let previous = call.leg.status.lock().room.replace(self.inner.id);
        if let Some(p) = previous.filter(|p| *p != self.inner.id) {
            call.leg.emit(CallEvent::Unbridged { room: p });
        }
        call.leg.emit(CallEvent::Bridged {
            room: self.inner.id,
        });
        Ok(())
    }

    pub fn remove(&self, call: &Call) {
        if let Some(engine) = self.engine.upgrade() {
            engine.media().leave_room(self.inner.id, &call.leg.media);
        }
        let mut st = call.leg.status.lock();
        if st.room == Some(self.inner.id) {
            st.room = None;
            drop(st);
            call.leg.emit(CallEvent::Unbridged {
                room: self.inner.id,
            });
        }
    }

    /// Changes how a member takes part (listen → barge is `Muted` → `Normal`). `Invalid` when the
    /// call is not in this room, or a whisper names itself or a call not in the room.
    pub fn set_mode(&self, call: &Call, mode: MemberMode) -> Result<(), CallError> {
        call.leg.live()?;
        let engine = self.engine.upgrade().ok_or(CallError::Ended)?;
        if !self.call_ids().contains(&call.id()) {
            return Err(CallError::Invalid(format!(
                "call {} is not in room {}",
                call.id(),
                self.inner.id
            )));
        }
        let music = self.check_mode(&engine, call, &mode)?;
        if engine
            .media()
            .set_mode(&self.inner, &call.leg.media, mode, music)
        {
            Ok(())
        } else {
            Err(CallError::Invalid(format!(
                "call {} is not in room {}",
                call.id(),
                self.inner.id
            )))
        }
    }

    /// A member's mode; `None` when the call is not in this room.
    pub fn mode(&self, call: &Call) -> Option<MemberMode> {
        let engine = self.engine.upgrade()?;
        engine.media().mode_of(&self.inner, &call.leg.media)
    }

    /// Checks a mode for `call` and loads a held member's music.
    fn check_mode(
        &self,
        engine: &Engine,
        call: &Call,
        mode: &MemberMode,
    ) -> Result<Option<Arc<[i16]>>, CallError> {
        match mode {
            MemberMode::Whisper { to } if *to == call.id() => Err(CallError::Invalid(
                "a member cannot whisper to itself".into(),
            )),
            MemberMode::Whisper { to } if !self.call_ids().contains(to) => Err(CallError::Invalid(
                format!("call {to} is not in room {}", self.inner.id),
            )),
            MemberMode::Held { music } => Ok(Some(engine.prompt(music)?)),
            _ => Ok(None),
        }
    }

    pub fn members(&self) -> usize {
        self.engine
            .upgrade()
            .map(|e| e.media().room_members(&self.inner))
            .unwrap_or(0)
    }

    /// The ids of the calls in the room, in the order they joined.
    pub fn call_ids(&self) -> Vec<Uuid> {
        self.engine
            .upgrade()
            .map(|e| e.media().member_ids(&self.inner))
            .unwrap_or_default()
    }

    /// The calls in the room, in the order they joined.
    pub fn calls(&self) -> Vec<Call> {
        let Some(engine) = self.engine.upgrade() else {
            return Vec::new();
        };
        engine
            .media()
            .member_ids(&self.inner)
            .into_iter()
            .filter_map(|id| engine.call(id))
            .collect()
    }

    /// Dissolves the room; its legs stay up and hear silence.
    pub fn close(&self) {
        if let Some(engine) = self.engine.upgrade() {
            engine.media().close_room(&self.inner);
        }
    }
}
