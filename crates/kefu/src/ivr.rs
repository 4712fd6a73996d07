//! The IVR on real calls: runs a published flow's [`Session`] on a telephony [`Call`], doing each
//! [`Command`] with the call primitives and the store, and writes the call's IVR trace.
//!
//! A call starts on the version published when it arrives and keeps it to the end (the session holds
//! its own copy of the graph), so publishing never disturbs calls in progress. Prompts are found as
//! files: an admin's recording of the key, else the generated system set
//! (`<prompts>/<language>/<key>.wav`), else `<prompts>/<key>.wav`; text is spoken once by espeak-ng
//! into `<data>/tts/` and reused. Transfers to a queue ring the queue's member phones at once and keep
//! the first that answers (the ACD replaces this with routing by agent state), the caller hearing
//! music meanwhile; the waiting callers of a queue are served by priority (a gas leak first), then
//! by arrival.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kefu_ivr::interp::{
    Command, Input, Lookup, Outcome, Session, TransferEnd, Utterance, Vars, Visit,
};
use kefu_ivr::model::{Flow, MessageChannel, TransferTarget};
use kefu_store::Store;
use kefu_telephony::{
    Call, CallError, CollectEnd, CollectSpec, Destination, RecordSpec, Telephony,
};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Where the runtime finds and keeps its files.
#[derive(Clone, Debug)]
pub struct IvrFiles {
    pub prompts_dir: PathBuf,
    /// Spoken text cache (`<data>/tts`).
    pub tts_dir: PathBuf,
    /// Record agent calls reached from the IVR (both ways).
    pub record_calls: bool,
}

pub struct IvrRuntime {
    store: Store,
    telephony: Telephony,
    files: IvrFiles,
    /// Admin recordings, re-read at most every few seconds.
    custom: Mutex<CustomPrompts>,
    queues: Arc<Waiting>,
    /// Calls whose session is running (for tests and metrics).
    active: std::sync::atomic::AtomicUsize,
    /// The ACD: queue transfers go through it once it is plugged in (else a queue's member phones
    /// ring at once).
    acd: std::sync::OnceLock<Arc<crate::acd::AcdRuntime>>,
}

/// Admin recordings found on disk: (key, language) → file, and when the folder was read.
#[derive(Default)]
struct CustomPrompts {
    read_at: Option<Instant>,
    files: HashMap<(String, String), PathBuf>,
}

/// How long the list of admin recordings is trusted.
const CUSTOM_TTL: Duration = Duration::from_secs(3);

/// A caller's place in a queue: higher priority first, then arrival.
type Place = (std::cmp::Reverse<u8>, u64);

/// Callers waiting for each queue, served by priority then arrival: only the first caller of a queue
/// rings its phones; the others hear music until it is their turn.
#[derive(Default)]
struct Waiting {
    queues: Mutex<HashMap<String, BTreeMap<Place, ()>>>,
    seq: std::sync::atomic::AtomicU64,
    changed: tokio::sync::Notify,
}

impl Waiting {
    fn join(&self, queue: &str, priority: u8) -> Place {
        let key = (
            std::cmp::Reverse(priority),
            self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        self.queues
            .lock()
            .entry(queue.to_string())
            .or_default()
            .insert(key, ());
        key
    }

    fn first(&self, queue: &str, key: Place) -> bool {
        self.queues
            .lock()
            .get(queue)
            .and_then(|q| q.keys().next().copied())
            == Some(key)
    }

    fn leave(&self, queue: &str, key: Place) {
        if let Some(q) = self.queues.lock().get_mut(queue) {
            q.remove(&key);
        }
        self.changed.notify_waiters();
    }

    /// Callers ahead of `key` (the queue position, 0 = next).
    fn ahead(&self, queue: &str, key: Place) -> usize {
        self.queues
            .lock()
            .get(queue)
            .map(|q| q.range(..key).count())
            .unwrap_or(0)
    }
}

/// Plays prompt files. A file that cannot be played (unreadable, not a WAV) is skipped with a
/// warning: the caller goes on through the flow rather than being cut off.
async fn play(call: &Call, files: &[&str], interruptible: bool) -> Result<(), CallError> {
    match call.play(files, interruptible).await {
        Ok(_) => Ok(()),
        Err(CallError::Media(e)) => {
            tracing::warn!(error = %e, ?files, "IVR prompt unplayable: skipped");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Turns a visit into the store's row.
fn visit_row(v: &Visit, at: chrono::DateTime<Utc>) -> kefu_store::IvrVisitRow {
    kefu_store::IvrVisitRow {
        seq: v.seq as i32,
        node_id: v.node.clone(),
        kind: v.kind.to_string(),
        branch: v.branch.clone(),
        outcome: match v.outcome {
            Outcome::Pending | Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Left => "left",
        }
        .to_string(),
        detail: v.detail.clone(),
        at,
    }
}

impl IvrRuntime {
    pub fn new(store: Store, telephony: Telephony, files: IvrFiles) -> IvrRuntime {
        IvrRuntime {
            store,
            telephony,
            files,
            custom: Mutex::default(),
            queues: Arc::default(),
            active: Default::default(),
            acd: std::sync::OnceLock::new(),
        }
    }

    /// Routes queue transfers through the ACD from now on.
    pub fn set_acd(&self, acd: Arc<crate::acd::AcdRuntime>) {
        let _ = self.acd.set(acd);
    }

    /// Hold music as a file, for the ACD.
    pub fn hold_music(&self, language: &str) -> Option<String> {
        self.prompt_file("hold_music", language)
    }

    /// Sessions running now.
    pub fn active(&self) -> usize {
        self.active.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs the published version of flow `key` on `call` (still ringing) to its end.
    pub async fn run(&self, call: Call, key: &str) -> anyhow::Result<()> {
        let Some((flow_id, version, flow)) = self.store.published_flow(key).await? else {
            tracing::warn!(flow = key, "no published IVR flow: playing the greeting");
            call.answer().await?;
            call.play(&["welcome"], false).await?;
            call.hangup().await?;
            return Ok(());
        };
        call.answer().await?;
        self.active
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result = self.run_session(&call, flow_id, version, flow).await;
        self.active
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        result
    }

    async fn run_session(
        &self,
        call: &Call,
        flow_id: Uuid,
        version: i32,
        flow: Flow,
    ) -> anyhow::Result<()> {
        let info = call.info().clone();
        let caller = info.caller.clone();
        let session_id = self
            .store
            .ivr_session_start(flow_id, version, Some(info.call_uuid), &caller, Utc::now())
            .await?;
        let language = flow.settings.language.clone();
        let vars: Vars = [
            ("call.caller".to_string(), caller.clone()),
            ("call.callee".to_string(), info.callee.clone()),
            ("call.uuid".to_string(), info.call_uuid.to_string()),
            ("flow.id".to_string(), flow_id.to_string()),
        ]
        .into();
        let (mut session, mut cmd) = Session::start(Arc::new(flow), vars);
        // Visits written so far (all left behind; the current one may still change).
        let mut written = 0usize;
        let mut times: Vec<chrono::DateTime<Utc>> = Vec::new();
        // The caller's last key, until the next prompt shows how long the answer took.
        let mut digit_at: Option<std::time::Instant> = None;
        loop {
            while times.len() < session.visits().len() {
                times.push(Utc::now());
            }
            if let Command::Transfer { .. } = cmd {
                // Before the caller is handed over, what the IVR did is on record (the agent's
                // screen shows the path).
                let upto = session.visits().len().saturating_sub(1);
                if upto > written {
                    let rows: Vec<_> = session.visits()[written..upto]
                        .iter()
                        .zip(&times[written..upto])
                        .map(|(v, at)| visit_row(v, *at))
                        .collect();
                    self.store
                        .ivr_session_record(session_id, &rows, None)
                        .await?;
                    written = upto;
                }
            }
            let plays = match &cmd {
                Command::Play { prompts, .. }
                | Command::Collect { prompts, .. }
                | Command::Record { prompts, .. }
                | Command::Hangup { prompts } => !prompts.is_empty(),
                _ => false,
            };
            match self.execute(call, &cmd, &language, &session).await {
                Ok(Some(input)) => {
                    if plays
                        && let Some(d) = digit_at.take()
                        && let Some(p) = call.prompt_started_at()
                        && p > d
                    {
                        metrics::histogram!("kefu_ivr_digit_to_prompt_seconds")
                            .record((p - d).as_secs_f64());
                    }
                    if let Input::Digits { digits, .. } = &input
                        && !digits.is_empty()
                    {
                        digit_at = call.last_digit_at();
                    }
                    cmd = session.resume(input)
                }
                Ok(None) => break,
                Err(CallError::Ended) => {
                    session.hangup();
                    break;
                }
                Err(e) => {
                    tracing::info!(error = %e, leg = %info.leg_id, "IVR call ended early");
                    session.hangup();
                    let _ = call.hangup().await;
                    break;
                }
            }
        }
        while times.len() < session.visits().len() {
            times.push(Utc::now());
        }
        let end = session
            .ended()
            .unwrap_or(kefu_ivr::interp::EndReason::Hangup);
        let rows: Vec<_> = session.visits()[written..]
            .iter()
            .zip(&times[written..])
            .map(|(v, at)| visit_row(v, *at))
            .collect();
        let customer = session
            .vars()
            .get("customer.id")
            .and_then(|c| c.parse::<Uuid>().ok());
        self.store
            .ivr_session_record(
                session_id,
                &rows,
                Some(kefu_store::IvrSessionEnd {
                    reason: end.as_str().to_string(),
                    last_node: Some(session.node().to_string()),
                    ended_at: Utc::now(),
                    customer_id: customer,
                }),
            )
            .await?;
        if call.phase() != kefu_telephony::Phase::Ended
            && end != kefu_ivr::interp::EndReason::Transfer
        {
            let _ = call.hangup().await;
        }
        Ok(())
    }

    /// Does one command. `None`: the session is over (hung up or handed on).
    async fn execute(
        &self,
        call: &Call,
        cmd: &Command,
        language: &str,
        session: &Session,
    ) -> Result<Option<Input>, CallError> {
        Ok(Some(match cmd {
            Command::Play {
                prompts,
                interruptible,
            } => {
                let files = self.files_for(prompts, language).await;
                if !files.is_empty() {
                    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                    play(call, &refs, *interruptible).await?;
                }
                Input::Played
            }
            Command::Collect {
                prompts,
                max_len,
                terminator,
                first_timeout_secs,
                inter_digit_secs,
            } => {
                let files = self.files_for(prompts, language).await;
                if !files.is_empty() {
                    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                    play(call, &refs, true).await?;
                }
                let got = call
                    .collect(&CollectSpec {
                        max_digits: (*max_len).max(1) as usize,
                        first_digit_timeout: Duration::from_secs(u64::from(*first_timeout_secs)),
                        inter_digit_timeout: Duration::from_secs(u64::from(*inter_digit_secs)),
                        terminator: *terminator,
                    })
                    .await?;
                Input::Digits {
                    timed_out: got.end == CollectEnd::Timeout,
                    digits: got.digits,
                }
            }
            Command::Record {
                prompts,
                beep,
                max_secs,
                silence_secs,
            } => {
                let files = self.files_for(prompts, language).await;
                if !files.is_empty() {
                    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                    play(call, &refs, false).await?;
                }
                call.flush_digits();
                if *beep && let Some(b) = self.prompt_file("beep", language) {
                    call.play(&[b.as_str()], false).await?;
                }
                let info = call.info();
                let rel = format!(
                    "ivr/{}/{}-{}.wav",
                    info.started_at.format("%Y-%m-%d"),
                    info.call_uuid,
                    session.visits().last().map_or(0, |v| v.seq)
                );
                let silence = Duration::from_secs(u64::from(*silence_secs));
                let rec = call
                    .record(
                        Path::new(&rel),
                        &RecordSpec {
                            max: Duration::from_secs(u64::from(*max_secs)),
                            silence: Some(silence),
                            stop_on_digit: true,
                            both_ways: false,
                        },
                    )
                    .await?;
                // The key that ended the message (`#`) is not an answer to what comes next.
                if let kefu_telephony::RecordEnd::Digit(_) = rec.end {
                    call.flush_digits();
                }
                // A recording that stopped on silence ends with that much silence: what is left
                // is what the caller said.
                let spoken = if rec.end == kefu_telephony::RecordEnd::Silence {
                    rec.duration.saturating_sub(silence)
                } else {
                    rec.duration
                };
                let secs = spoken.as_secs_f64().round() as u32;
                Input::Recorded {
                    path: (spoken >= Duration::from_millis(700))
                        .then(|| rec.path.display().to_string()),
                    secs: if spoken >= Duration::from_millis(700) {
                        secs.max(1)
                    } else {
                        0
                    },
                }
            }
            Command::Lookup(l) => self.lookup(l).await,
            Command::CreateWorkOrder(req) => {
                let call_uuid = call.info().call_uuid;
                Input::Done(
                    self.store
                        .ivr_create_work_order(kefu_store::IvrOrderRequest {
                            order_type: req.order_type.clone(),
                            priority: req.priority.clone(),
                            title: req.title.clone(),
                            description: req.description.clone(),
                            recording: req.attach.as_ref().map(PathBuf::from),
                            fields: req.fields.clone(),
                            sms: req.sms,
                            customer_id: req.customer_id.as_deref().and_then(|c| c.parse().ok()),
                            caller: req.caller.clone(),
                            call_uuid: Some(call_uuid),
                        })
                        .await
                        .map_err(|e| e.to_string()),
                )
            }
            Command::SendDocument {
                channel,
                document,
                to,
                customer_id,
            } => Input::Done(
                self.store
                    .ivr_queue_document(
                        match channel {
                            MessageChannel::Fax => "fax",
                            MessageChannel::Sms => "sms",
                            MessageChannel::Email => "email",
                        },
                        document,
                        to,
                        customer_id.as_deref().and_then(|c| c.parse().ok()),
                        Some(call.info().call_uuid),
                    )
                    .await
                    .map_err(|e| e.to_string()),
            ),
            Command::SaveSurvey {
                score,
                max,
                order_id,
                customer_id,
            } => Input::Done(
                self.store
                    .ivr_save_survey(
                        Some(call.info().call_uuid),
                        order_id.as_deref().and_then(|c| c.parse().ok()),
                        customer_id.as_deref().and_then(|c| c.parse().ok()),
                        session.vars().get("flow.id").and_then(|c| c.parse().ok()),
                        session.vars().get("transfer.extension").cloned(),
                        *score as i16,
                        *max as i16,
                    )
                    .await
                    .map(|_| Vars::new())
                    .map_err(|e| e.to_string()),
            ),
            Command::Transfer {
                target,
                timeout_secs,
                ..
            } => Input::Transfer(match (target, self.acd.get()) {
                (TransferTarget::Queue { queue, priority }, Some(acd)) => {
                    let ctx = crate::acd::CallerContext {
                        customer: customer_of_session(session.vars()),
                        ivr_path: session.visits().iter().map(|v| v.node.clone()).collect(),
                    };
                    self.queue_transfer(
                        acd,
                        call,
                        queue,
                        *priority,
                        Duration::from_secs(u64::from(*timeout_secs)),
                        language,
                        ctx,
                    )
                    .await?
                }
                _ => {
                    self.transfer(
                        call,
                        target,
                        Duration::from_secs(u64::from(*timeout_secs)),
                        language,
                    )
                    .await?
                }
            }),
            Command::Hangup { prompts } => {
                let files = self.files_for(prompts, language).await;
                if !files.is_empty() {
                    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                    let _ = call.play(&refs, false).await;
                }
                let _ = call.hangup().await;
                return Ok(None);
            }
            Command::Done => return Ok(None),
        }))
    }

    async fn lookup(&self, l: &Lookup) -> Input {
        let uuid = |s: &Option<String>| s.as_deref().and_then(|c| c.parse::<Uuid>().ok());
        let found = match l {
            Lookup::CustomerByPhone(p) => self.store.ivr_customer_by_phone(p).await,
            Lookup::CustomerByNo(n) => self.store.ivr_customer_by_no(n).await,
            Lookup::OrderByNo { no, customer_id } => {
                self.store.ivr_order_by_no(no, uuid(customer_id)).await
            }
            Lookup::NewestOrder { customer_id } => match customer_id.parse() {
                Ok(c) => self.store.ivr_newest_order_of_customer(c).await,
                Err(_) => Ok(None),
            },
            Lookup::IsOpen { calendar } => {
                return Input::Open(match self.store.ivr_is_open(calendar, Utc::now()).await {
                    Ok(open) => open,
                    Err(e) => {
                        // An unreadable calendar: rather open (a person answers) than closed.
                        tracing::warn!(error = %e, calendar, "IVR hours check failed");
                        true
                    }
                });
            }
        };
        Input::Found(found.unwrap_or_else(|e| {
            tracing::warn!(error = %e, ?l, "IVR lookup failed");
            None
        }))
    }

    /// The phones a transfer target rings.
    async fn destinations(&self, target: &TransferTarget) -> anyhow::Result<Vec<Destination>> {
        Ok(match target {
            TransferTarget::Queue { queue, .. } => {
                match self.store.get_queue_by_key(queue).await? {
                    Some(q) if q.active => {
                        q.members.into_iter().map(Destination::Extension).collect()
                    }
                    _ => vec![],
                }
            }
            TransferTarget::Extension { extension } => {
                vec![Destination::Extension(extension.clone())]
            }
            TransferTarget::Site { site } => {
                let units = self.store.units().await?;
                let Some(unit) = units.iter().find(|u| &u.code == site) else {
                    return Ok(vec![]);
                };
                self.store
                    .extensions()
                    .await?
                    .into_iter()
                    .filter(|e| e.enabled && e.owner == kefu_store::ExtensionOwner::Unit(unit.id))
                    .map(|e| Destination::Extension(e.number))
                    .collect()
            }
            TransferTarget::External { number } => {
                let trunks = self.store.trunks_for_runtime().await?;
                match trunks.into_iter().find(|t| t.enabled && t.proxy.is_some()) {
                    Some(t) => vec![Destination::Trunk {
                        trunk: t.name,
                        number: number.clone(),
                    }],
                    None => vec![],
                }
            }
        })
    }

    /// Hands the caller to `target`: rings its phones (all at once, the first to answer wins) while
    /// the caller hears music, bridges, and waits for the end of the conversation.
    async fn transfer(
        &self,
        call: &Call,
        target: &TransferTarget,
        timeout: Duration,
        language: &str,
    ) -> Result<TransferEnd, CallError> {
        let dests = match self.destinations(target).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, ?target, "IVR transfer target unreadable");
                vec![]
            }
        };
        if dests.is_empty() {
            return Ok(TransferEnd::Failed);
        }
        if let Some(m) = self.prompt_file("hold_music", language) {
            call.music(&m)?;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        // Queues serve their callers in order of priority, then arrival.
        let turn = match target {
            TransferTarget::Queue { queue, priority } => {
                Some((queue.clone(), self.queues.join(queue, *priority)))
            }
            _ => None,
        };
        let result = self
            .ring_and_bridge(call, dests, deadline, turn.as_ref())
            .await;
        if let Some((q, key)) = &turn {
            self.queues.leave(q, *key);
        }
        result
    }

    async fn ring_and_bridge(
        &self,
        call: &Call,
        dests: Vec<Destination>,
        deadline: tokio::time::Instant,
        turn: Option<&(String, Place)>,
    ) -> Result<TransferEnd, CallError> {
        // Wait for our turn in the queue.
        if let Some((q, key)) = turn {
            loop {
                let notified = self.queues.changed.notified();
                if self.queues.first(q, *key) {
                    break;
                }
                tracing::debug!(queue = %q, ahead = self.queues.ahead(q, *key), "waiting in queue");
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep_until(deadline) => return Ok(TransferEnd::Failed),
                    _ = call.wait_ended() => return Err(CallError::Ended),
                }
            }
        }
        let stop = CancellationToken::new();
        let (tx, mut rx) = tokio::sync::mpsc::channel(dests.len());
        let info = call.info().clone();
        let ring = deadline.saturating_duration_since(tokio::time::Instant::now());
        for d in dests {
            let (tx, stop, telephony, caller) = (
                tx.clone(),
                stop.clone(),
                self.telephony.clone(),
                info.caller.clone(),
            );
            tokio::spawn(async move {
                let r = telephony
                    .originate_until(d, &caller, Some(info.call_uuid), ring, stop)
                    .await;
                if let Err(Ok(late)) = tx.send(r).await.map_err(|e| e.0) {
                    // Answered after another phone won (or the caller left): hang it up.
                    let _ = late.hangup().await;
                }
            });
        }
        drop(tx);
        let mut agent = None;
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(Ok(c)) => { agent = Some(c); break; }
                    Some(Err(e)) => tracing::debug!(error = %e, "a queue phone did not answer"),
                    None => break,
                },
                _ = call.wait_ended() => {
                    stop.cancel();
                    // Phones that answer in the meantime are hung up by their tasks.
                    rx.close();
                    while let Some(r) = rx.recv().await {
                        if let Ok(c) = r { let _ = c.hangup().await; }
                    }
                    return Err(CallError::Ended);
                }
            }
        }
        stop.cancel();
        rx.close();
        // Any phone that answered at the same moment as the winner.
        tokio::spawn(async move {
            while let Some(r) = rx.recv().await {
                if let Ok(c) = r {
                    let _ = c.hangup().await;
                }
            }
        });
        let Some(agent) = agent else {
            call.stop_playing();
            return Ok(TransferEnd::Failed);
        };
        call.stop_playing();
        let room = match self.telephony.bridge(call, &agent) {
            Ok(r) => r,
            Err(_) => {
                let _ = agent.hangup().await;
                return Err(CallError::Ended);
            }
        };
        if self.files.record_calls {
            let name = format!(
                "{}/{}.wav",
                info.started_at.format("%Y-%m-%d"),
                info.call_uuid
            );
            let _ = call.start_recording(Path::new(&name), Duration::from_secs(4 * 3600));
        }
        tokio::select! {
            _ = agent.wait_ended() => {
                room.close();
                call.stop_recording();
                if call.phase() == kefu_telephony::Phase::Ended {
                    Err(CallError::Ended)
                } else {
                    Ok(TransferEnd::PeerHungUp)
                }
            }
            _ = call.wait_ended() => {
                room.close();
                let _ = agent.hangup().await;
                Err(CallError::Ended)
            }
        }
    }

    /// A prompt key as a file, if there is one: the admin's recording, the system set, the shared
    /// files.
    fn prompt_file(&self, key: &str, language: &str) -> Option<String> {
        if let Some(p) = self.custom_file(key, language) {
            return Some(p);
        }
        let dir = &self.files.prompts_dir;
        [
            dir.join(language).join(format!("{key}.wav")),
            dir.join(format!("{key}.wav")),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
    }

    fn custom_file(&self, key: &str, language: &str) -> Option<String> {
        let fresh = self
            .custom
            .lock()
            .read_at
            .is_some_and(|at| at.elapsed() < CUSTOM_TTL);
        if !fresh {
            let files = self.custom_prompt_files();
            *self.custom.lock() = CustomPrompts {
                read_at: Some(Instant::now()),
                files,
            };
        }
        self.custom
            .lock()
            .files
            .get(&(key.to_string(), language.to_string()))
            .map(|p| p.display().to_string())
    }

    /// Admin recordings on disk: `<prompts>/custom/<language>/<key>.<hash>.wav` (the newest of a
    /// key wins; the hash in the name makes a new upload a new file, so the engine's prompt cache
    /// never plays an old one).
    fn custom_prompt_files(&self) -> HashMap<(String, String), PathBuf> {
        let mut out: HashMap<(String, String), (std::time::SystemTime, PathBuf)> = HashMap::new();
        let base = self.files.prompts_dir.join("custom");
        let Ok(langs) = std::fs::read_dir(&base) else {
            return HashMap::new();
        };
        for lang in langs.flatten() {
            let language = lang.file_name().to_string_lossy().to_string();
            let Ok(files) = std::fs::read_dir(lang.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                let Some(stem) = name.strip_suffix(".wav") else {
                    continue;
                };
                let key = stem.split('.').next().unwrap_or(stem).to_string();
                let modified = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                let entry = out.entry((key, language.clone()));
                match entry {
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        if o.get().0 < modified {
                            o.insert((modified, f.path()));
                        }
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert((modified, f.path()));
                    }
                }
            }
        }
        out.into_iter().map(|(k, (_, p))| (k, p)).collect()
    }

    async fn files_for(&self, list: &[Utterance], language: &str) -> Vec<String> {
        let mut out = Vec::with_capacity(list.len());
        for u in list {
            let file = match u {
                Utterance::Prompt(key) => self.prompt_file(key, language),
                Utterance::Word(w) => self.prompt_file(&w.key, language),
                Utterance::Text(t) => self.spoken(t, language).await,
            };
            match file {
                Some(f) => out.push(f),
                None => tracing::warn!(?u, language, "IVR prompt missing: skipped"),
            }
        }
        out
    }

    /// `text` spoken by espeak-ng, cached by its hash.
    async fn spoken(&self, text: &str, language: &str) -> Option<String> {
        if text.trim().is_empty() {
            return None;
        }
        let path = crate::voice::cached_path(&self.files.tts_dir, text, language);
        if path.is_file() {
            return Some(path.display().to_string());
        }
        match crate::voice::speak(text, language, &path).await {
            Ok(()) => Some(path.display().to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "speaking IVR text failed");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl kefu_telephony::entry::FlowRunner for IvrRuntime {
    async fn run_flow(&self, call: Call, flow: String) {
        if let Err(e) = self.run(call.clone(), &flow).await {
            tracing::warn!(error = %e, flow, "IVR flow failed");
            let _ = call.hangup().await;
        }
    }

    async fn run_queue(&self, call: Call, queue: String) {
        let result: Result<(), CallError> = async {
            call.answer().await?;
            let end = match self.acd.get() {
                Some(acd) => {
                    self.queue_transfer(
                        acd,
                        &call,
                        &queue,
                        0,
                        Duration::from_secs(3600),
                        "zh-CN",
                        crate::acd::CallerContext::default(),
                    )
                    .await?
                }
                None => {
                    self.transfer(
                        &call,
                        &TransferTarget::Queue { queue, priority: 0 },
                        Duration::from_secs(600),
                        "zh-CN",
                    )
                    .await?
                }
            };
            if end != TransferEnd::Handed {
                let _ = call.hangup().await;
            }
            Ok(())
        }
        .await;
        if result.is_err() {
            let _ = call.hangup().await;
        }
    }
}

/// The screen pop of an identified caller, from the session's `customer.*` variables.
fn customer_of_session(vars: &Vars) -> Option<serde_json::Value> {
    let get = |k: &str| vars.get(&format!("customer.{k}")).filter(|v| !v.is_empty());
    get("id")?;
    Some(serde_json::json!({
        "id": get("id"), "no": get("no"), "name": get("name"),
        "phones": get("phones").map(|p| p.split(',').map(str::to_string).collect::<Vec<_>>()),
        "address": get("address"), "amount_due": get("amount_due"),
    }))
}

/// What a queue overflow leads to.
enum AfterOverflow {
    /// Into another queue.
    Queue(String),
    /// Keep waiting (the caller did not want a callback).
    Wait,
    End(TransferEnd),
}

impl IvrRuntime {
    /// A caller waits in a queue of the ACD: music, their place and estimated wait every
    /// `announce_secs`, the queue's overflow (another queue, a voice message through the flow's
    /// failure branch, a callback that keeps their place, or goodbye); then the conversation with
    /// the agent (and whoever the agent transfers to), until the agent side ends (the flow goes on:
    /// survey) or the caller hangs up.
    #[allow(clippy::too_many_arguments)]
    async fn queue_transfer(
        &self,
        acd: &Arc<crate::acd::AcdRuntime>,
        call: &Call,
        queue: &str,
        priority: u8,
        timeout: Duration,
        language: &str,
        ctx: crate::acd::CallerContext,
    ) -> Result<TransferEnd, CallError> {
        use crate::acd::{CallerMsg, JoinRefused};
        let id = call.info().call_uuid;
        let mut queue = queue.to_string();
        let deadline = tokio::time::Instant::now() + timeout;
        'queues: loop {
            let ticket = match acd.join(call, &queue, priority, ctx.clone()).await {
                Ok(t) => t,
                Err(JoinRefused::UnknownQueue) => return Ok(TransferEnd::Failed),
                Err(JoinRefused::Overflow(o)) => {
                    match self.overflow(acd, call, &o, language, false).await? {
                        AfterOverflow::Queue(q) => {
                            queue = q;
                            continue 'queues;
                        }
                        AfterOverflow::Wait | AfterOverflow::End(_) => {
                            return Ok(TransferEnd::Failed);
                        }
                    }
                }
            };
            let mut rx = ticket.rx;
            let music = self.prompt_file("hold_music", language);
            // Someone ahead: the caller hears their place at once, not only after the first
            // announcement interval.
            if ticket.announce
                && ticket.position > 1
                && let Err(e) = self
                    .announce(call, ticket.position, ticket.ewt_secs, language)
                    .await
            {
                acd.caller_gone(id).await;
                return Err(e);
            }
            if let Some(m) = &music {
                call.music(m)?;
            }
            let mut connected = false;
            loop {
                tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(CallerMsg::Announce { position, ewt_secs }) if !connected => {
                            self.announce(call, position, ewt_secs, language).await?;
                            if let Some(m) = &music { call.music(m)?; }
                        }
                        Some(CallerMsg::Announce { .. }) => {}
                        Some(CallerMsg::Connected { .. }) => connected = true,
                        Some(CallerMsg::Requeued { .. }) => connected = false,
                        Some(CallerMsg::Released) => return Ok(TransferEnd::PeerHungUp),
                        Some(CallerMsg::Overflow(o)) => {
                            match self.overflow(acd, call, &o, language, true).await? {
                                AfterOverflow::Queue(q) => { queue = q; continue 'queues; }
                                AfterOverflow::Wait => {
                                    if let Some(m) = &music { call.music(m)?; }
                                }
                                AfterOverflow::End(e) => return Ok(e),
                            }
                        }
                        None => {
                            // The ACD let go of the caller (a callback took its place).
                            return Err(CallError::Ended);
                        }
                    },
                    _ = call.wait_ended() => {
                        acd.caller_gone(id).await;
                        return Err(CallError::Ended);
                    }
                    _ = tokio::time::sleep_until(deadline), if !connected => {
                        // The flow's own patience ran out: its failure branch takes over.
                        acd.caller_gone(id).await;
                        call.stop_playing();
                        return Ok(TransferEnd::Failed);
                    }
                }
            }
        }
    }

    /// "您前面还有 N 位用户在等候，预计等待 M 分钟。"
    async fn announce(
        &self,
        call: &Call,
        position: usize,
        ewt_secs: u32,
        language: &str,
    ) -> Result<(), CallError> {
        let ahead = position.saturating_sub(1);
        let mut list: Vec<Utterance> = Vec::new();
        if ahead == 0 {
            list.push(Utterance::Prompt("queue_next".into()));
        } else {
            list.push(Utterance::Prompt("queue_position".into()));
            for w in
                kefu_ivr::say::say(language, &ahead.to_string(), kefu_ivr::model::SayAs::Number)
                    .unwrap_or_default()
            {
                list.push(Utterance::Word(w));
            }
            list.push(Utterance::Prompt("queue_position_unit".into()));
            let minutes = ewt_secs.div_ceil(60).max(1);
            list.push(Utterance::Prompt("queue_wait".into()));
            for w in kefu_ivr::say::say(
                language,
                &minutes.to_string(),
                kefu_ivr::model::SayAs::Number,
            )
            .unwrap_or_default()
            {
                list.push(Utterance::Word(w));
            }
            list.push(Utterance::Prompt("queue_minutes".into()));
        }
        let files = self.files_for(&list, language).await;
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        play(call, &refs, false).await
    }

    async fn overflow(
        &self,
        acd: &Arc<crate::acd::AcdRuntime>,
        call: &Call,
        action: &kefu_acd::Overflow,
        language: &str,
        waiting: bool,
    ) -> Result<AfterOverflow, CallError> {
        use kefu_acd::Overflow;
        let id = call.info().call_uuid;
        call.stop_playing();
        Ok(match action {
            Overflow::Queue { queue } => {
                acd.overflowed(id, Some(queue)).await;
                AfterOverflow::Queue(queue.clone())
            }
            Overflow::Voicemail => {
                acd.overflowed(id, None).await;
                AfterOverflow::End(TransferEnd::Failed)
            }
            Overflow::Hangup => {
                acd.overflowed(id, None).await;
                let files = self
                    .files_for(&[Utterance::Prompt("goodbye".into())], language)
                    .await;
                let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                let _ = play(call, &refs, false).await;
                let _ = call.hangup().await;
                return Err(CallError::Ended);
            }
            Overflow::Callback if waiting => {
                let files = self
                    .files_for(
                        &[Utterance::Prompt("queue_callback_offer".into())],
                        language,
                    )
                    .await;
                let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                call.flush_digits();
                play(call, &refs, true).await?;
                let got = call
                    .collect(&CollectSpec {
                        max_digits: 1,
                        first_digit_timeout: Duration::from_secs(8),
                        ..CollectSpec::default()
                    })
                    .await?;
                if got.digits == "1" && acd.to_callback(id, &call.info().caller).await {
                    let files = self
                        .files_for(
                            &[Utterance::Prompt("queue_callback_confirmed".into())],
                            language,
                        )
                        .await;
                    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                    let _ = play(call, &refs, false).await;
                    let _ = call.hangup().await;
                    return Err(CallError::Ended);
                }
                AfterOverflow::Wait
            }
            // A full or closed queue cannot keep a place: a voice message instead.
            Overflow::Callback => {
                acd.overflowed(id, None).await;
                AfterOverflow::End(TransferEnd::Failed)
            }
        })
    }
}
