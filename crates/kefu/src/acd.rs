//! The ACD on real calls: [`AcdRuntime`] holds the one [`kefu_acd::Acd`] of the process, does its
//! [`Effect`]s with the telephony engine and the store, and runs the agents' conversations (bridge,
//! hold, transfer, conference, supervisor listening) for the desktop's commands.
//!
//! - Callers come from the IVR ([`AcdRuntime::join`]): the IVR plays music and announcements while
//!   the caller waits and learns through a [`CallerTicket`] what happens (their place, an agent took
//!   the call, the queue moved them on, the agent side ended).
//! - An offer rings the agent's phone (its extension, a remote-site phone or an outside number) with
//!   the caller's number; the first phone to answer is bridged with the caller and recorded.
//! - Every agent state change is persisted (state and log, in order, by one writer task) and
//!   published as a CTI event to that agent's desktop and to webhooks.
//! - Every second the ACD ticks (wrap-ups end, overflows, announcements); every few seconds it is
//!   reconciled with the engine's calls, so no agent stays reserved or on a call that is gone.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_acd::{Acd, Agent, Change, Effect, EnqueueError, Overflow, QueueConfig, State, Strategy};
use kefu_store::{Actor, Store};
use kefu_telephony::{Call, Destination, MemberMode, OriginateOptions, Room, Telephony};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use kefu_api::agents::{AcdControl, AcdError, CallCommand, CtiEvent, TransferTo};

/// What a waiting caller learns.
#[derive(Debug)]
pub enum CallerMsg {
    /// Their place (1 = next) and the estimated wait.
    Announce { position: usize, ewt_secs: u32 },
    /// An agent took the call: the caller is bridged.
    Connected { agent: Uuid },
    /// Back in a queue (a transfer to a queue, or a failed transfer): music again.
    Requeued { queue: String },
    /// The queue moves the caller on.
    Overflow(Overflow),
    /// The agent side ended and the caller is still on the line (the IVR may go on: survey).
    Released,
}

/// A caller's line to the ACD, held by the IVR while the caller waits and talks.
pub struct CallerTicket {
    pub rx: mpsc::UnboundedReceiver<CallerMsg>,
    pub position: usize,
    pub ewt_secs: u32,
    /// The queue tells callers their place (its announcements are on).
    pub announce: bool,
}

/// Why a caller could not join a queue.
#[derive(Debug)]
pub enum JoinRefused {
    UnknownQueue,
    /// Closed (business hours) or full: the queue's overflow applies at once.
    Overflow(Overflow),
}

/// What the IVR knows of the caller, for the agent's screen pop.
#[derive(Clone, Debug, Default)]
pub struct CallerContext {
    pub customer: Option<Value>,
    pub ivr_path: Vec<String>,
}

struct CallerSlot {
    /// The caller's line; `None` for a callback restored after a restart (the caller hung up long
    /// ago: kefu dials `number` once an agent answers).
    call: Option<Call>,
    /// The caller's number.
    number: String,
    started_at: DateTime<Utc>,
    tx: mpsc::UnboundedSender<CallerMsg>,
    queue: String,
    priority: u8,
    queue_call: Option<Uuid>,
    customer: Option<Value>,
    ivr_path: Vec<String>,
    entered_at: DateTime<Utc>,
}

/// A conversation: the caller and whoever they talk to now.
struct Conversation {
    caller: Call,
    room: Room,
    /// The agent who has the call (None after a transfer outside the agents).
    agent: Option<Uuid>,
    agent_leg: Option<Call>,
    answered_at: DateTime<Utc>,
    queue: Option<String>,
    queue_call: Option<Uuid>,
    held: bool,
    muted: bool,
    recording: Option<(Uuid, bool)>,
    /// A consultation in progress: the agent's separate room with the target (and the target's
    /// agent, when an agent was consulted).
    consult: Option<(Call, Room, Option<Uuid>)>,
    /// Other parties added (three-way, conference).
    parties: Vec<Call>,
    supervisors: Vec<(Uuid, Call)>,
    changed: Arc<tokio::sync::Notify>,
}

/// A phone ringing for a waiting call.
struct Offer {
    /// Which ring this is: a cancelled ring that ends after a new offer to the same agent for the
    /// same call must not take the new one's entry with it.
    ring: Uuid,
    stop: CancellationToken,
    /// The agent pressed answer on the desktop: ring again with auto-answer.
    answer: bool,
}

#[derive(Default)]
struct Live {
    callers: HashMap<Uuid, CallerSlot>,
    offers: HashMap<(Uuid, Uuid), Offer>,
    conversations: HashMap<Uuid, Conversation>,
}

/// Where the ACD finds its files.
#[derive(Clone, Debug)]
pub struct AcdFiles {
    pub recordings_dir: PathBuf,
    pub record_calls: bool,
    pub hold_music: Option<String>,
    /// The number customers see when kefu calls them back.
    pub callback_caller_id: String,
    /// The deployment's time zone: the wallboard's figures are those of today.
    pub utc_offset: chrono::FixedOffset,
}

pub struct AcdRuntime {
    store: Store,
    telephony: Telephony,
    files: AcdFiles,
    acd: Mutex<Acd>,
    live: Mutex<Live>,
    /// Each agent's CTI channel (created by the first desk that subscribes), so a desk wakes up
    /// for its own events only, not for every agent's.
    desks: Mutex<HashMap<Uuid, broadcast::Sender<Arc<CtiEvent>>>>,
    /// The wallboard feed, for supervisors who subscribe to it.
    board: broadcast::Sender<Arc<CtiEvent>>,
    persist: mpsc::UnboundedSender<Persist>,
    /// Each queue's figures of the day, refreshed every few seconds for the wallboard feed.
    day: Mutex<BTreeMap<String, kefu_acd::metrics::QueueMetrics>>,
    /// The last CTI event number per agent (`None`: the wallboard feed).
    seqs: Mutex<HashMap<Option<Uuid>, u64>>,
    /// Agent profiles' phones and auto-answer, by agent.
    profiles: Mutex<HashMap<Uuid, Profile>>,
    /// Whether any webhook is active (events are queued for delivery only then).
    webhooks: std::sync::atomic::AtomicBool,
}

/// What the state writer saves, in the order it happened.
enum Persist {
    /// A new state (a state-log row).
    State(Uuid, Box<kefu_store::AgentStatus>, Option<Actor>),
    /// Only the not-ready asked for while busy (applied after the wrap-up; kept across a restart).
    Pending(Uuid, Option<String>),
}

#[derive(Clone, Debug, Default)]
struct Profile {
    extension: Option<String>,
    auto_answer: bool,
}

impl AcdRuntime {
    /// Loads agents and queues from the store (agents keep their persisted state; calls in
    /// progress at the last stop are over) and starts the ticker and the state writer.
    pub async fn start(
        store: Store,
        telephony: Telephony,
        files: AcdFiles,
    ) -> anyhow::Result<Arc<AcdRuntime>> {
        let (persist, mut rx) = mpsc::unbounded_channel::<Persist>();
        let (board, _) = broadcast::channel(256);
        let rt = Arc::new(AcdRuntime {
            store: store.clone(),
            telephony,
            files,
            acd: Mutex::new(Acd::new()),
            live: Mutex::default(),
            desks: Mutex::default(),
            board,
            persist,
            seqs: Mutex::default(),
            day: Mutex::default(),
            profiles: Mutex::default(),
            webhooks: std::sync::atomic::AtomicBool::new(false),
        });
        rt.reload().await?;
        let effects = rt.acd.lock().restarted(Utc::now());
        rt.apply(effects);
        rt.restore_callers().await?;
        // One writer, in order: the state log's rows follow one another.
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let (agent, done) = match p {
                    Persist::State(agent, status, actor) => (
                        agent,
                        store
                            .record_agent_state(agent, &status, actor.as_ref())
                            .await,
                    ),
                    Persist::Pending(agent, pending) => (
                        agent,
                        store.record_agent_pending(agent, pending.as_deref()).await,
                    ),
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, %agent, "persisting an agent state failed");
                }
            }
        });
        let weak = Arc::downgrade(&rt);
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(rt) = weak.upgrade() else { return };
                n += 1;
                let now = Utc::now();
                let mut effects = rt.acd.lock().tick(now);
                if n.is_multiple_of(10) {
                    rt.refresh_webhooks().await;
                }
                if n.is_multiple_of(3) {
                    let live: std::collections::HashSet<Uuid> = rt
                        .telephony
                        .calls()
                        .iter()
                        .map(|c| c.info().call_uuid)
                        .collect();
                    effects.extend(rt.acd.lock().reconcile(|c| live.contains(&c), now));
                }
                rt.apply(effects);
                if n % 5 == 1 {
                    let from = kefu_api::agents::midnight(rt.files.utc_offset, now);
                    match kefu_api::agents::queue_metrics(&rt.store, from, now, None).await {
                        Ok(m) => *rt.day.lock() = m,
                        Err(e) => tracing::warn!(error = %e, "the wallboard's figures of the day"),
                    }
                }
                let board =
                    kefu_api::agents::merge_wallboard(rt.wallboard_json(), &rt.day.lock(), now);
                rt.publish(None, "wallboard", board);
            }
        });
        Ok(rt)
    }

    async fn refresh_webhooks(&self) {
        if let Ok(list) = self.store.webhooks().await {
            let any = list.iter().any(|w| w.active);
            self.webhooks.store(any, Ordering::Relaxed);
        }
    }

    /// Re-reads agents and queues from the store (after a change through the API).
    pub async fn reload(&self) -> anyhow::Result<()> {
        self.refresh_webhooks().await;
        let queues = self.store.list_queues().await?;
        let agents = self.store.agents().await?;
        let now = Utc::now();
        let mut acd = self.acd.lock();
        for q in queues.into_iter().filter(|q| q.active) {
            acd.upsert_queue(queue_config(&q));
        }
        let mut profiles = self.profiles.lock();
        for p in agents {
            profiles.insert(
                p.id,
                Profile {
                    extension: p.extension.clone(),
                    auto_answer: p.auto_answer,
                },
            );
            if acd.agent(p.id).is_some() {
                let _ = acd.update_profile(
                    p.id,
                    &p.display_name,
                    p.extension.clone(),
                    p.skills.clone(),
                    p.wrap_up_secs,
                    p.max_missed,
                );
                continue;
            }
            let s = &p.status;
            let mut a = Agent::new(p.id, &p.display_name, now);
            a.extension = p.extension.clone();
            a.skills = p.skills.clone();
            a.wrap_up_secs = p.wrap_up_secs;
            a.max_missed = p.max_missed;
            a.state = state_from_status(s);
            a.since = s.since;
            a.pending = s.pending.clone();
            a.queues = s.queues.iter().cloned().collect();
            a.phone = s.phone.clone();
            a.idle_since = s.idle_since.unwrap_or(s.since);
            a.calls_handled = s.calls_handled;
            a.talk_secs = s.talk_secs;
            a.missed_in_row = s.missed_in_row;
            if !p.enabled && a.state != State::LoggedOut {
                a.state = State::LoggedOut;
                a.queues.clear();
            }
            acd.insert_agent(a);
        }
        Ok(())
    }

    // ---- callers ----

    /// A caller joins `queue` with `priority`. The caller stays the IVR's: it plays music and
    /// announcements and follows the ticket until the caller is released or hangs up (then it
    /// calls [`AcdRuntime::caller_gone`]).
    pub async fn join(
        self: &Arc<Self>,
        call: &Call,
        queue: &str,
        priority: u8,
        ctx: CallerContext,
    ) -> Result<CallerTicket, JoinRefused> {
        let now = Utc::now();
        let info = call.info().clone();
        let cfg = self.acd.lock().queue(queue).cloned();
        let Some(cfg) = cfg else {
            return Err(JoinRefused::UnknownQueue);
        };
        if let Some(calendar) = self.queue_calendar(queue).await
            && !self.store.ivr_is_open(&calendar, now).await.unwrap_or(true)
        {
            self.closed_call(call, queue, priority, &ctx, now).await;
            return Err(JoinRefused::Overflow(cfg.overflow));
        }
        let customer = match ctx.customer {
            Some(c) => Some(c),
            None => self.customer_of(&info.caller).await,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        // The slot first: an offer made while joining finds the caller.
        self.live.lock().callers.insert(
            info.call_uuid,
            CallerSlot {
                call: Some(call.clone()),
                number: info.caller.clone(),
                started_at: info.started_at,
                tx,
                queue: queue.to_string(),
                priority,
                queue_call: None,
                customer: customer.clone(),
                ivr_path: ctx.ivr_path.clone(),
                entered_at: now,
            },
        );
        let queue_call = self
            .store
            .queue_call_entered(kefu_store::NewQueueCall {
                call_id: info.call_uuid,
                queue: queue.to_string(),
                priority,
                caller: info.caller.clone(),
                customer_id: customer_id(&customer),
                ivr_path: ctx.ivr_path.clone(),
                entered_at: now,
            })
            .await
            .map_err(|e| tracing::warn!(error = %e, "recording a queue call failed"))
            .ok();
        if let Some(slot) = self.live.lock().callers.get_mut(&info.call_uuid) {
            slot.queue_call = queue_call;
        }
        let joined = self
            .acd
            .lock()
            .enqueue(info.call_uuid, queue, priority, now);
        match joined {
            Ok((joined, effects)) => {
                self.apply(effects);
                Ok(CallerTicket {
                    rx,
                    position: joined.position,
                    ewt_secs: joined.ewt_secs,
                    announce: cfg.announce_secs > 0,
                })
            }
            Err(e) => {
                let slot = self.live.lock().callers.remove(&info.call_uuid);
                if let Some(id) = slot.and_then(|s| s.queue_call) {
                    let _ = self
                        .store
                        .queue_call_finished(id, "overflowed", now, 0, None)
                        .await;
                }
                Err(match e {
                    EnqueueError::Full(o) => JoinRefused::Overflow(o),
                    EnqueueError::UnknownQueue(_) | EnqueueError::AlreadyWaiting => {
                        JoinRefused::UnknownQueue
                    }
                })
            }
        }
    }

    async fn closed_call(
        &self,
        call: &Call,
        queue: &str,
        priority: u8,
        ctx: &CallerContext,
        now: DateTime<Utc>,
    ) {
        let info = call.info();
        if let Ok(id) = self
            .store
            .queue_call_entered(kefu_store::NewQueueCall {
                call_id: info.call_uuid,
                queue: queue.to_string(),
                priority,
                caller: info.caller.clone(),
                customer_id: customer_id(&ctx.customer),
                ivr_path: ctx.ivr_path.clone(),
                entered_at: now,
            })
            .await
        {
            let _ = self
                .store
                .queue_call_finished(id, "closed", now, 0, None)
                .await;
        }
    }

    async fn queue_calendar(&self, queue: &str) -> Option<String> {
        match self.store.get_queue_by_key(queue).await {
            Ok(Some(q)) => q.calendar,
            _ => None,
        }
    }

    async fn customer_of(&self, phone: &str) -> Option<Value> {
        match self.store.ivr_customer_by_phone(phone).await {
            Ok(Some(vars)) => Some(customer_json(&vars)),
            _ => None,
        }
    }

    /// The caller turned a queue overflow into a callback: it keeps its place (also across a
    /// restart: its queue-call row says so); an agent's phone ringing for it stops and the callback
    /// is offered afresh: the agent's phone rings first, then kefu dials `number`.
    /// The callback is on record before this returns (the caller is told it is confirmed only then).
    pub async fn to_callback(self: &Arc<Self>, call: Uuid, number: &str) -> bool {
        let Some(effects) = self.acd.lock().to_callback(call, number, Utc::now()) else {
            return false;
        };
        let queue_call = {
            let mut live = self.live.lock();
            live.callers.get_mut(&call).and_then(|slot| {
                // The callback's own slot: no line to the caller any more.
                slot.tx = mpsc::unbounded_channel().0;
                slot.call = None;
                slot.number = number.to_string();
                slot.queue_call
            })
        };
        if let Some(id) = queue_call
            && let Err(e) = self.store.queue_call_to_callback(id).await
        {
            tracing::warn!(error = %e, "recording a callback failed");
        }
        self.apply(effects);
        true
    }

    /// Callbacks still waiting when kefu stopped take their places again; callers who were on the
    /// line then are gone (`dropped`).
    async fn restore_callers(self: &Arc<Self>) -> anyhow::Result<()> {
        let now = Utc::now();
        for row in self.store.queue_calls_waiting().await? {
            if row.overflow_to.as_deref() == Some("callback") {
                // The slot first: an agent ready now is offered the callback at once.
                let customer = self.customer_of(&row.caller).await;
                self.live.lock().callers.insert(
                    row.call_id,
                    CallerSlot {
                        call: None,
                        number: row.caller.clone(),
                        started_at: row.entered_at,
                        tx: mpsc::unbounded_channel().0,
                        queue: row.queue.clone(),
                        priority: row.priority,
                        queue_call: Some(row.id),
                        customer,
                        ivr_path: row.ivr_path.clone(),
                        entered_at: row.entered_at,
                    },
                );
                let restored = self.acd.lock().restore_callback(
                    row.call_id,
                    &row.queue,
                    row.priority,
                    &row.caller,
                    row.entered_at,
                    now,
                );
                if let Ok(effects) = restored {
                    tracing::info!(call = %row.call_id, queue = row.queue, "callback restored");
                    self.apply(effects);
                    continue;
                }
                // Its queue is gone.
                self.live.lock().callers.remove(&row.call_id);
            }
            self.store
                .queue_call_finished(row.id, "dropped", now, 0, None)
                .await?;
        }
        Ok(())
    }

    /// The caller hung up or the IVR took it out of the queue: offers for it stop; a conversation
    /// it was in ends.
    pub async fn caller_gone(self: &Arc<Self>, call: Uuid) {
        let now = Utc::now();
        let callback = self
            .acd
            .lock()
            .waiter(call)
            .is_some_and(|w| w.kind != kefu_acd::WaiterKind::Caller);
        if callback {
            // The caller hung up to be called back: its place stays.
            return;
        }
        let effects = self.acd.lock().leave(call, now);
        self.apply(effects);
        let slot = {
            let mut live = self.live.lock();
            if live.conversations.contains_key(&call) {
                None
            } else {
                live.callers.remove(&call)
            }
        };
        if let Some(slot) = slot
            && let Some(id) = slot.queue_call
        {
            let _ = self
                .store
                .queue_call_finished(id, "abandoned", now, 0, None)
                .await;
        }
    }

    /// Takes a caller out of the queue because of an overflow (the IVR then does its action).
    pub async fn overflowed(&self, call: Uuid, to: Option<&str>) {
        let slot = self.live.lock().callers.remove(&call);
        if let Some(id) = slot.and_then(|s| s.queue_call) {
            let _ = self
                .store
                .queue_call_finished(id, "overflowed", Utc::now(), 0, to)
                .await;
        }
    }

    // ---- effects ----

    fn apply(self: &Arc<Self>, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::State {
                    agent,
                    state,
                    since,
                } => self.state_changed(agent, state, since, None),
                Effect::Offer {
                    call,
                    queue,
                    agents,
                    until,
                    callback,
                } => {
                    for agent in agents {
                        let stop = CancellationToken::new();
                        let ring = Uuid::now_v7();
                        self.live.lock().offers.insert(
                            (call, agent),
                            Offer {
                                ring,
                                stop: stop.clone(),
                                answer: false,
                            },
                        );
                        let rt = self.clone();
                        let (queue, callback) = (queue.clone(), callback.clone());
                        tokio::spawn(async move {
                            rt.ring(call, agent, queue, until, callback, (ring, stop))
                                .await;
                        });
                    }
                }
                Effect::CancelOffer { call, agent } => {
                    if let Some(offer) = self.live.lock().offers.remove(&(call, agent)) {
                        offer.stop.cancel();
                    }
                    self.publish(Some(agent), "offer_cancelled", json!({"call_id": call}));
                }
                Effect::Overflow {
                    call,
                    queue,
                    action,
                    cause,
                } => {
                    tracing::info!(%call, queue, ?action, ?cause, "queue overflow");
                    let tx = self.live.lock().callers.get(&call).map(|s| s.tx.clone());
                    match tx {
                        Some(tx) => {
                            let _ = tx.send(CallerMsg::Overflow(action));
                        }
                        None => {
                            // The caller left in the meantime: nobody to tell.
                        }
                    }
                }
                Effect::Announce {
                    call,
                    position,
                    ewt_secs,
                    ..
                } => {
                    if let Some(slot) = self.live.lock().callers.get(&call) {
                        let _ = slot.tx.send(CallerMsg::Announce { position, ewt_secs });
                    }
                }
            }
        }
    }

    /// Persists and publishes one state an agent went through. The effects of one decision come
    /// in a batch (missed → ready → reserved again), so the state is the effect's, not the agent's
    /// latest.
    fn state_changed(&self, agent: Uuid, state: State, since: DateTime<Utc>, actor: Option<Actor>) {
        let Some(mut a) = self.acd.lock().agent(agent).cloned() else {
            return;
        };
        a.state = state.clone();
        a.since = since;
        let status = status_of(&a);
        let _ = self
            .persist
            .send(Persist::State(agent, Box::new(status), actor));
        self.publish(Some(agent), "state", json!({"state": agent_state_json(&a)}));
        metrics::counter!("kefu_acd_state_changes_total", "state" => state.name()).increment(1);
    }

    /// Publishes a CTI event. Each agent's events (and the wallboard feed) are numbered on their
    /// own, consecutively, and reach the channel in that order, so a gap on a desk means it missed
    /// one of its own events.
    fn publish(&self, agent: Option<Uuid>, kind: &str, mut body: Value) {
        let mut seqs = self.seqs.lock();
        let seq = {
            let n = seqs.entry(agent).or_insert(0);
            *n += 1;
            *n
        };
        if let Value::Object(m) = &mut body {
            m.insert("type".into(), json!(kind));
            m.insert("seq".into(), json!(seq));
            if let Some(a) = agent {
                m.insert("agent_id".into(), json!(a));
            }
            m.insert("at".into(), json!(Utc::now()));
        }
        let event = Arc::new(CtiEvent {
            seq,
            agent,
            kind: kind.to_string(),
            body,
        });
        if kind != "wallboard" && self.webhooks.load(Ordering::Relaxed) {
            let store = self.store.clone();
            let ev = event.clone();
            tokio::spawn(async move {
                let _ = store.enqueue_webhook_event(&ev.kind, &ev.body).await;
            });
        }
        match agent {
            Some(a) => {
                let mut desks = self.desks.lock();
                if let Some(tx) = desks.get(&a) {
                    // No desk listens any more: forget the channel (the next desk makes a new one).
                    if tx.send(event).is_err() {
                        desks.remove(&a);
                    }
                }
            }
            None => {
                let _ = self.board.send(event);
            }
        }
        drop(seqs);
    }

    /// A receiver of `agent`'s own CTI events, from the next one published.
    pub fn subscribe_agent(&self, agent: Uuid) -> broadcast::Receiver<Arc<CtiEvent>> {
        self.desks
            .lock()
            .entry(agent)
            .or_insert_with(|| broadcast::channel(1024).0)
            .subscribe()
    }

    /// The number of the last event published for `agent`.
    pub fn last_seq(&self, agent: Uuid) -> u64 {
        self.seqs.lock().get(&Some(agent)).copied().unwrap_or(0)
    }

    // ---- offers and conversations ----

    fn destination(&self, agent: Uuid) -> Option<(Destination, bool)> {
        let phone = self.acd.lock().agent(agent).and_then(|a| a.phone.clone());
        let profile = self
            .profiles
            .lock()
            .get(&agent)
            .cloned()
            .unwrap_or_default();
        let phone = phone.or(profile.extension)?;
        Some((phone_destination(&phone), profile.auto_answer))
    }

    async fn ring(
        self: Arc<Self>,
        call: Uuid,
        agent: Uuid,
        queue: String,
        until: DateTime<Utc>,
        callback: Option<String>,
        (ring_id, stop): (Uuid, CancellationToken),
    ) {
        let slot = {
            let live = self.live.lock();
            live.callers.get(&call).map(|s| {
                (
                    s.number.clone(),
                    s.customer.clone(),
                    s.ivr_path.clone(),
                    s.entered_at,
                )
            })
        };
        let Some((caller_no, customer, ivr_path, entered_at)) = slot else {
            let effects = self.acd.lock().missed(call, agent, Utc::now());
            self.apply(effects);
            return;
        };
        self.publish(
            Some(agent),
            "offering",
            json!({
                "call_id": call,
                "caller": callback.clone().unwrap_or(caller_no.clone()),
                "customer": customer,
                "queue": queue,
                "ivr_path": ivr_path,
                "waited_ms": (Utc::now() - entered_at).num_milliseconds(),
                "callback": callback.is_some(),
            }),
        );
        let Some((dest, auto)) = self.destination(agent) else {
            let effects = self.acd.lock().missed(call, agent, Utc::now());
            self.apply(effects);
            return;
        };
        let mut auto = auto;
        let mut stop = stop;
        let r = loop {
            let ring = (until - Utc::now())
                .to_std()
                .unwrap_or(Duration::from_secs(1));
            let r = self
                .telephony
                .originate_with(
                    dest.clone(),
                    &caller_no,
                    Some(call),
                    OriginateOptions {
                        ring_timeout: Some(ring),
                        stop: stop.clone(),
                        auto_answer: auto,
                    },
                )
                .await;
            // The desktop's answer button: the same offer once more, with auto-answer.
            let again = {
                let mut live = self.live.lock();
                match live.offers.get_mut(&(call, agent)) {
                    Some(o) if o.ring == ring_id && r.is_err() && o.answer && !auto => {
                        o.stop = CancellationToken::new();
                        stop = o.stop.clone();
                        true
                    }
                    _ => false,
                }
            };
            if !again {
                break r;
            }
            auto = true;
        };
        let cancelled = {
            let mut live = self.live.lock();
            match live.offers.get(&(call, agent)) {
                Some(o) if o.ring == ring_id => {
                    live.offers.remove(&(call, agent));
                    false
                }
                // Cancelled, or cancelled and offered again (a newer ring has the entry).
                _ => true,
            }
        };
        match r {
            Ok(leg) => self.connect(call, agent, leg, callback).await,
            Err(e) => {
                tracing::debug!(error = %e, %agent, "an offer was not answered");
                if !cancelled {
                    let effects = self.acd.lock().missed(call, agent, Utc::now());
                    self.apply(effects);
                    self.publish(Some(agent), "missed", json!({"call_id": call}));
                }
            }
        }
    }

    /// An answered offer that cannot become a conversation: the agent's leg is hung up and the
    /// agent's call ends (wrap-up).
    fn drop_answer(self: &Arc<Self>, leg: &Call, agent: Uuid, call: Uuid, now: DateTime<Utc>) {
        hang_up(leg);
        let effects = self
            .acd
            .lock()
            .ended(agent, call, 0, now)
            .unwrap_or_default();
        self.apply(effects);
    }

    async fn connect(
        self: &Arc<Self>,
        call: Uuid,
        agent: Uuid,
        leg: Call,
        callback: Option<String>,
    ) {
        let now = Utc::now();
        let answered = self.acd.lock().answered(call, agent, now);
        let effects = match answered {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, %agent, "late answer hung up");
                hang_up(&leg);
                return;
            }
        };
        self.apply(effects);
        let slot = self.live.lock().callers.get(&call).map(|s| {
            (
                s.call.clone(),
                s.tx.clone(),
                s.queue.clone(),
                s.queue_call,
                s.customer.clone(),
            )
        });
        let Some((line, tx, queue, queue_call, customer)) = slot else {
            self.drop_answer(&leg, agent, call, now);
            return;
        };
        let caller = if let Some(number) = callback {
            // A callback: the agent is on the line; now the customer (an extension of ours, or an
            // outside number through the trunk).
            let dialled = match self.callback_destination(&number).await {
                Ok(dest) => self
                    .telephony
                    .originate(dest, &self.files.callback_caller_id, Some(call))
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("{e:?}")),
            };
            match dialled {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!(error = %e, number, "callback not answered");
                    self.live.lock().callers.remove(&call);
                    if let Some(id) = queue_call {
                        let _ = self
                            .store
                            .queue_call_finished(id, "callback", Utc::now(), 0, None)
                            .await;
                    }
                    self.drop_answer(&leg, agent, call, now);
                    return;
                }
            }
        } else if let Some(line) = line {
            line
        } else {
            // A restored callback offered without its number cannot happen (restore sets it);
            // nothing to bridge the agent to.
            self.drop_answer(&leg, agent, call, now);
            return;
        };
        caller.stop_playing();
        let room = match self.telephony.bridge(&caller, &leg) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "bridging an agent failed: the caller left");
                self.drop_answer(&leg, agent, call, now);
                return;
            }
        };
        if let Some(id) = queue_call {
            let _ = self.store.queue_call_answered(id, agent, now).await;
        }
        let recording = self
            .start_recording(&caller, call, queue_call, agent, &customer)
            .await;
        let changed = Arc::new(tokio::sync::Notify::new());
        self.live.lock().conversations.insert(
            call,
            Conversation {
                caller: caller.clone(),
                room,
                agent: Some(agent),
                agent_leg: Some(leg.clone()),
                answered_at: now,
                queue: Some(queue),
                queue_call,
                held: false,
                muted: false,
                recording: recording.map(|id| (id, false)),
                consult: None,
                parties: Vec::new(),
                supervisors: Vec::new(),
                changed: changed.clone(),
            },
        );
        let _ = tx.send(CallerMsg::Connected { agent });
        self.publish(Some(agent), "answered", json!({"call_id": call}));
        let rt = self.clone();
        tokio::spawn(async move { rt.follow(call).await });
    }

    async fn start_recording(
        &self,
        caller: &Call,
        call: Uuid,
        queue_call: Option<Uuid>,
        agent: Uuid,
        customer: &Option<Value>,
    ) -> Option<Uuid> {
        if !self.files.record_calls {
            return None;
        }
        let now = Utc::now();
        let rel = format!(
            "{}/{}-{}.wav",
            now.format("%Y-%m-%d"),
            call,
            now.timestamp_millis()
        );
        let path = self.files.recordings_dir.join(&rel);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = caller.start_recording(&path, Duration::from_secs(4 * 3600)) {
            tracing::warn!(error = %e, "recording an agent call failed");
            return None;
        }
        self.store
            .add_recording(kefu_store::NewRecording {
                call_id: call,
                queue_call_id: queue_call,
                agent_id: Some(agent),
                customer_id: customer_id(customer),
                caller: caller.info().caller.clone(),
                path: rel,
                started_at: now,
            })
            .await
            .map_err(|e| tracing::warn!(error = %e, "recording row"))
            .ok()
    }

    /// Follows a conversation to its end: the caller hanging up ends it for everybody; the agent
    /// side hanging up releases the caller back to the IVR.
    async fn follow(self: Arc<Self>, call: Uuid) {
        loop {
            let (caller, agent_leg, changed) = {
                let live = self.live.lock();
                let Some(c) = live.conversations.get(&call) else {
                    return;
                };
                (c.caller.clone(), c.agent_leg.clone(), c.changed.clone())
            };
            let notified = changed.notified();
            tokio::select! {
                _ = caller.wait_ended() => {
                    self.finish(call, true).await;
                    return;
                }
                _ = async {
                    match &agent_leg {
                        Some(l) => { l.wait_ended().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    // The agent's leg ended. If the conversation has moved on meanwhile (a transfer
                    // released the agent, or handed the caller to someone else), follow the new
                    // state; if parties of a conference remain, the agent leaves and they go on;
                    // else the conversation is over for the caller.
                    let old = agent_leg.as_ref().map(|l| l.id());
                    let next = {
                        let mut live = self.live.lock();
                        match live.conversations.get_mut(&call) {
                            None => return,
                            Some(c) if c.agent_leg.as_ref().map(|l| l.id()) != old => None,
                            Some(c) => {
                                let parties = c
                                    .parties
                                    .iter()
                                    .any(|p| p.phase() != kefu_telephony::Phase::Ended);
                                if parties {
                                    c.agent_leg = None;
                                    Some(Some((c.agent.take(), c.answered_at)))
                                } else {
                                    Some(None)
                                }
                            }
                        }
                    };
                    match next {
                        None | Some(Some((None, _))) => {}
                        Some(None) => {
                            self.finish(call, false).await;
                            return;
                        }
                        Some(Some((Some(agent), answered_at))) => {
                            let now = Utc::now();
                            let talk = (now - answered_at).num_seconds().max(0) as u64;
                            let effects = self.acd.lock().ended(agent, call, talk, now).unwrap_or_default();
                            self.apply(effects);
                            self.publish(Some(agent), "ended", json!({"call_id": call, "cause": "agent_left_conference"}));
                        }
                    }
                }
                _ = notified => {}
            }
        }
    }

    /// Ends a conversation: the agent goes to wrap-up, the records are closed; the caller is
    /// released (still on the line) or gone.
    async fn finish(self: &Arc<Self>, call: Uuid, caller_ended: bool) {
        let now = Utc::now();
        let (conv, slot) = {
            let mut live = self.live.lock();
            (live.conversations.remove(&call), live.callers.remove(&call))
        };
        let Some(conv) = conv else { return };
        conv.room.close();
        conv.caller.stop_recording();
        let talk = (now - conv.answered_at).num_milliseconds().max(0);
        for leg in conv
            .agent_leg
            .iter()
            .chain(conv.parties.iter())
            .chain(conv.supervisors.iter().map(|(_, c)| c))
            .chain(conv.consult.as_ref().map(|(c, _, _)| c))
        {
            hang_up(leg);
        }
        if let Some(agent) = conv.agent {
            let effects = self
                .acd
                .lock()
                .ended(agent, call, (talk / 1000) as u64, now)
                .unwrap_or_default();
            self.apply(effects);
            self.publish(
                Some(agent),
                "ended",
                json!({"call_id": call, "cause": if caller_ended {"caller_hung_up"} else {"agent_hung_up"}}),
            );
        }
        if let Some(id) = conv.queue_call {
            let _ = self
                .store
                .queue_call_finished(id, "answered", now, talk, None)
                .await;
            if let Some(agent) = conv.agent
                && let Some(a) = self.acd.lock().agent(agent)
                && let State::WrapUp { until, .. } = &a.state
            {
                let wrap = (*until - now).num_milliseconds().max(0);
                let store = self.store.clone();
                tokio::spawn(async move {
                    let _ = store.queue_call_wrapped(id, wrap).await;
                });
            }
        }
        if let Some((id, _)) = conv.recording {
            let bytes = std::fs::metadata(self.recording_path(id).await.unwrap_or_default())
                .map(|m| m.len() as i64)
                .unwrap_or(0);
            let _ = self.store.finish_recording(id, now, bytes).await;
        }
        if !caller_ended && let Some(slot) = slot {
            let _ = slot.tx.send(CallerMsg::Released);
        }
    }

    async fn recording_path(&self, id: Uuid) -> Option<PathBuf> {
        let r = self.store.recording(id).await.ok()?;
        Some(self.files.recordings_dir.join(r.path))
    }

    // ---- views ----

    fn wallboard_json(&self) -> Value {
        let acd = self.acd.lock();
        let now = Utc::now();
        let queues: Vec<Value> = acd
            .snapshot(now)
            .into_iter()
            .map(|s| {
                let name = acd.queue(&s.key).map(|q| q.name.clone()).unwrap_or_default();
                json!({
                    "key": s.key, "name": name, "waiting": s.waiting, "callbacks": s.callbacks,
                    "longest_wait_secs": s.longest_wait_secs, "agents_logged_in": s.agents_logged_in,
                    "agents_ready": s.agents_ready, "agents_busy": s.agents_busy,
                })
            })
            .collect();
        let agents: Vec<Value> = acd.agents().map(agent_state_json).collect();
        json!({"queues": queues, "agents": agents, "at": now})
    }

    fn agent_calls_json(&self, agent: Uuid) -> Vec<Value> {
        let live = self.live.lock();
        let mut out = Vec::new();
        for (id, c) in &live.conversations {
            if c.agent != Some(agent) {
                continue;
            }
            let slot = live.callers.get(id);
            out.push(json!({
                "id": id,
                "caller": c.caller.info().caller,
                "customer": slot.and_then(|s| s.customer.clone()),
                "queue": c.queue,
                "ivr_path": slot.map(|s| s.ivr_path.clone()).unwrap_or_default(),
                "state": if c.consult.is_some() { "consulting" } else if c.held { "held" } else if !c.parties.is_empty() { "conference" } else { "talking" },
                "muted": c.muted,
                "recording": c.recording.map(|(_, paused)| !paused).unwrap_or(false),
                "started_at": c.caller.info().started_at,
                "answered_at": c.answered_at,
                "legs": 2 + c.parties.len() + usize::from(c.consult.is_some()),
            }));
        }
        let acd = self.acd.lock();
        if let Some(a) = acd.agent(agent)
            && let State::Reserved { call, queue, .. } = &a.state
            && let Some(slot) = live.callers.get(call)
        {
            out.push(json!({
                "id": call,
                "caller": slot.number,
                "customer": slot.customer,
                "queue": queue,
                "ivr_path": slot.ivr_path,
                "state": "ringing",
                "muted": false,
                "recording": false,
                "started_at": slot.started_at,
                "answered_at": null,
                "legs": 1,
            }));
        }
        out
    }
}

// ---- conversions ----

fn queue_config(q: &kefu_store::Queue) -> QueueConfig {
    let mut c = QueueConfig::new(&q.key);
    c.name = q.name.clone();
    c.strategy = Strategy::parse(&q.strategy).unwrap_or_default();
    c.skill = q.skill.clone().unwrap_or_else(|| q.key.clone());
    c.min_level = q.min_level;
    c.members = q.members.clone();
    c.max_wait_secs = q.max_wait_secs.max(0) as u32;
    c.max_len = q.max_len;
    c.overflow = serde_json::from_value(q.overflow.clone()).unwrap_or(Overflow::Voicemail);
    c.announce_secs = q.announce_secs;
    c.ring_secs = q.ring_secs.max(1);
    c.wrap_up_secs = q.wrap_up_secs;
    c.service_level_secs = q.service_level_secs;
    c
}

fn state_from_status(s: &kefu_store::AgentStatus) -> State {
    let queue = s.queue.clone();
    match (s.state.as_str(), s.call_id) {
        ("ready", _) => State::Ready,
        ("not_ready", _) => State::NotReady {
            reason: s.reason.clone().unwrap_or_else(|| "other".into()),
        },
        ("reserved", Some(call)) => State::Reserved {
            call,
            queue: queue.unwrap_or_default(),
            until: s.until.unwrap_or(s.since),
        },
        ("on_call", Some(call)) => State::OnCall { call, queue },
        ("wrap_up", Some(call)) => State::WrapUp {
            call,
            queue,
            until: s.until.unwrap_or(s.since),
        },
        _ => State::LoggedOut,
    }
}

fn status_of(a: &Agent) -> kefu_store::AgentStatus {
    let (reason, call, queue, until) = match &a.state {
        State::NotReady { reason } => (Some(reason.clone()), None, None, None),
        State::Reserved { call, queue, until } => {
            (None, Some(*call), Some(queue.clone()), Some(*until))
        }
        State::OnCall { call, queue } => (None, Some(*call), queue.clone(), None),
        State::WrapUp { call, queue, until } => (None, Some(*call), queue.clone(), Some(*until)),
        _ => (None, None, None, None),
    };
    kefu_store::AgentStatus {
        state: a.state.name().to_string(),
        reason,
        call_id: call,
        queue,
        since: a.since,
        until,
        pending: a.pending.clone(),
        phone: a.phone.clone(),
        queues: a.queues.iter().cloned().collect(),
        missed_in_row: a.missed_in_row,
        idle_since: Some(a.idle_since),
        calls_handled: a.calls_handled,
        talk_secs: a.talk_secs,
    }
}

fn agent_state_json(a: &Agent) -> Value {
    let s = status_of(a);
    json!({
        "id": a.id, "name": a.name, "extension": a.extension,
        "state": s.state, "reason": s.reason, "call_id": s.call_id, "queue": s.queue,
        "since": s.since, "until": s.until, "pending": s.pending, "phone": s.phone,
        "queues": s.queues, "calls_handled": s.calls_handled, "talk_secs": s.talk_secs,
    })
}

fn customer_json(vars: &BTreeMap<String, String>) -> Value {
    let get = |k: &str| vars.get(&format!("customer.{k}")).cloned();
    json!({
        "id": get("id"), "no": get("no"), "name": get("name"),
        "phones": get("phones").map(|p| p.split(',').map(str::to_string).collect::<Vec<_>>()),
        "address": get("address"), "amount_due": get("amount_due"),
    })
}

fn customer_id(customer: &Option<Value>) -> Option<kefu_domain::CustomerId> {
    customer
        .as_ref()
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Uuid>().ok())
        .map(kefu_domain::CustomerId)
}

/// An agent's phone as written at login: `8001` (an extension), `site:8101`, `external:0574…`.
fn phone_destination(phone: &str) -> Destination {
    if let Some(n) = phone.strip_prefix("external:") {
        Destination::Trunk {
            trunk: String::new(),
            number: n.to_string(),
        }
    } else {
        Destination::Extension(phone.strip_prefix("site:").unwrap_or(phone).to_string())
    }
}

// ---- call control ----

/// How long a transfer, consultation or added party rings.
const DIAL_SECS: u64 = 30;

impl AcdRuntime {
    /// The phones a target rings. Unknown targets are refused naming `to.target`.
    async fn resolve(&self, to: &TransferTo) -> Result<Vec<Destination>, AcdError> {
        let invalid = |reason: &str| AcdError::Invalid {
            field: "to.target".into(),
            reason: reason.into(),
        };
        let store_err = |e: kefu_store::StoreError| AcdError::Unavailable(e.to_string());
        match to {
            TransferTo::Agent(id) => {
                let phone = {
                    let acd = self.acd.lock();
                    let a = acd.agent(*id).ok_or_else(|| invalid("no such agent"))?;
                    if a.state != State::Ready {
                        return Err(AcdError::Conflict {
                            field: "to.target".into(),
                            reason: format!("the agent is {}", a.state.name()),
                        });
                    }
                    a.phone.clone()
                };
                let phone = phone.ok_or_else(|| invalid("the agent has no phone"))?;
                self.phone_destinations(&phone).await
            }
            TransferTo::Queue(q) => {
                if self.acd.lock().queue(q).is_none() {
                    return Err(invalid("no such queue"));
                }
                Ok(vec![])
            }
            TransferTo::Site(code) => {
                let units = self.store.units().await.map_err(store_err)?;
                let unit = units
                    .iter()
                    .find(|u| &u.code == code)
                    .ok_or_else(|| invalid("no such site"))?;
                let phones: Vec<Destination> = self
                    .store
                    .extensions()
                    .await
                    .map_err(store_err)?
                    .into_iter()
                    .filter(|e| e.enabled && e.owner == kefu_store::ExtensionOwner::Unit(unit.id))
                    .map(|e| Destination::Extension(e.number))
                    .collect();
                if phones.is_empty() {
                    return Err(invalid("the site has no phone"));
                }
                Ok(phones)
            }
            TransferTo::Extension(n) => {
                let known = self
                    .store
                    .extensions()
                    .await
                    .map_err(store_err)?
                    .into_iter()
                    .any(|e| e.enabled && &e.number == n);
                if !known {
                    return Err(invalid("no such extension"));
                }
                Ok(vec![Destination::Extension(n.clone())])
            }
            TransferTo::External(n) => self.phone_destinations(&format!("external:{n}")).await,
        }
    }

    /// An agent's login phone as destinations (an outside number goes through the first trunk
    /// with a proxy).
    async fn phone_destinations(&self, phone: &str) -> Result<Vec<Destination>, AcdError> {
        if let Some(number) = phone.strip_prefix("external:") {
            let trunks = self
                .store
                .trunks_for_runtime()
                .await
                .map_err(|e| AcdError::Unavailable(e.to_string()))?;
            let t = trunks
                .into_iter()
                .find(|t| t.enabled && t.proxy.is_some())
                .ok_or_else(|| AcdError::Invalid {
                    field: "to.target".into(),
                    reason: "no trunk for outside calls".into(),
                })?;
            return Ok(vec![Destination::Trunk {
                trunk: t.name,
                number: number.to_string(),
            }]);
        }
        Ok(vec![phone_destination(phone)])
    }

    /// Where a callback to `number` goes: an enabled extension of ours by its number, anything
    /// else out through the trunk.
    async fn callback_destination(&self, number: &str) -> Result<Destination, AcdError> {
        let ours = self
            .store
            .extensions()
            .await
            .map_err(|e| AcdError::Unavailable(e.to_string()))?
            .into_iter()
            .any(|e| e.enabled && e.number == number);
        if ours {
            return Ok(Destination::Extension(number.to_string()));
        }
        let mut dests = self
            .phone_destinations(&format!("external:{number}"))
            .await?;
        dests
            .pop()
            .ok_or_else(|| AcdError::Unavailable("no trunk for outside calls".into()))
    }

    /// Rings `dests` at once and keeps the first that answers.
    async fn dial_first(&self, dests: Vec<Destination>, from: &str, call: Uuid) -> Option<Call> {
        let stop = CancellationToken::new();
        let (tx, mut rx) = mpsc::channel(dests.len().max(1));
        for d in dests {
            let (tx, stop, t, from) = (
                tx.clone(),
                stop.clone(),
                self.telephony.clone(),
                from.to_string(),
            );
            tokio::spawn(async move {
                let r = t
                    .originate_until(d, &from, Some(call), Duration::from_secs(DIAL_SECS), stop)
                    .await;
                if let Err(Ok(late)) = tx.send(r).await.map_err(|e| e.0) {
                    hang_up(&late);
                }
            });
        }
        drop(tx);
        let mut won = None;
        while let Some(r) = rx.recv().await {
            if let Ok(c) = r {
                won = Some(c);
                break;
            }
        }
        stop.cancel();
        rx.close();
        tokio::spawn(async move {
            while let Some(r) = rx.recv().await {
                if let Ok(c) = r {
                    hang_up(&c);
                }
            }
        });
        won
    }

    /// Checks that `call` is `agent`'s conversation.
    fn owned(&self, agent: Uuid, call: Uuid) -> Result<(), AcdError> {
        let live = self.live.lock();
        match live.conversations.get(&call) {
            Some(c) if c.agent == Some(agent) => Ok(()),
            Some(_) => Err(AcdError::Forbidden("this call is not yours".into())),
            None => {
                let ringing = self
                    .acd
                    .lock()
                    .agent(agent)
                    .is_some_and(|a| a.state.call() == Some(call));
                if ringing {
                    Ok(())
                } else if live.callers.contains_key(&call) {
                    Err(AcdError::Forbidden("this call is not yours".into()))
                } else {
                    Err(AcdError::NotFound("call".into()))
                }
            }
        }
    }

    fn conflict(reason: &str) -> AcdError {
        AcdError::Conflict {
            field: "call".into(),
            reason: reason.into(),
        }
    }

    async fn do_command(
        self: &Arc<Self>,
        agent: Uuid,
        call: Uuid,
        cmd: CallCommand,
    ) -> Result<(), AcdError> {
        self.owned(agent, call)?;
        let talking = self.live.lock().conversations.contains_key(&call);
        if !talking && cmd != CallCommand::Answer {
            return Err(Self::conflict("the call is not answered yet"));
        }
        match cmd {
            CallCommand::Answer => {
                if talking {
                    return Err(Self::conflict("the call is already answered"));
                }
                self.answer_on_phone(call, agent)
            }
            CallCommand::Hold | CallCommand::Resume => {
                let hold = cmd == CallCommand::Hold;
                let (caller, room, held) =
                    self.conv(call, |c| (c.caller.clone(), c.room.clone(), c.held))?;
                if held == hold {
                    return Err(Self::conflict(if hold {
                        "already on hold"
                    } else {
                        "not on hold"
                    }));
                }
                // Held in the room: the caller hears music and nobody hears the caller, while the
                // agent (and a supervisor) can still talk.
                let mode = if hold {
                    MemberMode::Held {
                        music: self
                            .files
                            .hold_music
                            .clone()
                            .unwrap_or_else(|| "hold_music".into()),
                    }
                } else {
                    MemberMode::Normal
                };
                room.set_mode(&caller, mode)
                    .map_err(|_| Self::conflict("the caller has left"))?;
                self.conv(call, |c| c.held = hold)?;
                self.publish(
                    Some(agent),
                    if hold { "held" } else { "resumed" },
                    json!({"call_id": call}),
                );
                Ok(())
            }
            CallCommand::Mute | CallCommand::Unmute => {
                let mute = cmd == CallCommand::Mute;
                let (room, leg) = self.conv(call, |c| (c.room.clone(), c.agent_leg.clone()))?;
                let leg = leg.ok_or_else(|| Self::conflict("no agent leg"))?;
                room.set_mode(
                    &leg,
                    if mute {
                        MemberMode::Muted
                    } else {
                        MemberMode::Normal
                    },
                )
                .map_err(|_| Self::conflict("the agent's leg has left"))?;
                self.conv(call, |c| c.muted = mute)?;
                self.publish(
                    Some(agent),
                    if mute { "muted" } else { "unmuted" },
                    json!({"call_id": call}),
                );
                Ok(())
            }
            CallCommand::Hangup => {
                let leg = self.conv(call, |c| c.agent_leg.clone())?;
                if let Some(leg) = leg {
                    hang_up(&leg);
                }
                Ok(())
            }
            CallCommand::Dtmf(digits) => {
                // To whoever the agent talks to: the consulted party, else the caller.
                let to = self.conv(call, |c| {
                    c.consult
                        .as_ref()
                        .map(|(t, _, _)| t.clone())
                        .unwrap_or_else(|| c.caller.clone())
                })?;
                to.send_dtmf(&digits).await.map_err(|e| AcdError::Invalid {
                    field: "digits".into(),
                    reason: e.to_string(),
                })
            }
            CallCommand::Recording { paused } => {
                let (caller, rec) = self.conv(call, |c| (c.caller.clone(), c.recording))?;
                let Some((id, _)) = rec else {
                    return Err(Self::conflict("the call is not recorded"));
                };
                let done = if paused {
                    caller.pause_recording()
                } else {
                    caller.resume_recording()
                };
                done.map_err(|e| Self::conflict(&e.to_string()))?;
                self.conv(call, |c| c.recording = Some((id, paused)))?;
                Ok(())
            }
            CallCommand::Transfer { to, consult: false } => {
                self.blind_transfer(agent, call, to).await
            }
            CallCommand::Transfer { to, consult: true } => self.consult(agent, call, to).await,
            CallCommand::TransferComplete => self.complete_transfer(agent, call).await,
            CallCommand::TransferCancel => self.cancel_transfer(call).await,
            CallCommand::Conference(to) => self.add_party(agent, call, to).await,
        }
    }

    /// Reads or changes a conversation.
    fn conv<T>(&self, call: Uuid, f: impl FnOnce(&mut Conversation) -> T) -> Result<T, AcdError> {
        let mut live = self.live.lock();
        let c = live
            .conversations
            .get_mut(&call)
            .ok_or_else(|| AcdError::NotFound("call".into()))?;
        Ok(f(c))
    }

    /// The desktop's answer button: the ringing offer is sent again with auto-answer, so a phone
    /// that supports it goes off-hook by itself.
    fn answer_on_phone(&self, call: Uuid, agent: Uuid) -> Result<(), AcdError> {
        let mut live = self.live.lock();
        let offer = live
            .offers
            .get_mut(&(call, agent))
            .ok_or_else(|| Self::conflict("the call is not ringing"))?;
        offer.answer = true;
        offer.stop.cancel();
        Ok(())
    }

    /// The agent leaves: its leg is let go of (the agent goes to wrap-up) while the caller stays.
    async fn release_agent(self: &Arc<Self>, call: Uuid) -> Option<(Call, Room, String, u8)> {
        let now = Utc::now();
        let (leg, agent, caller, room, answered_at, queue, changed) = self
            .conv(call, |c| {
                let leg = c.agent_leg.take();
                let agent = c.agent.take();
                (
                    leg,
                    agent,
                    c.caller.clone(),
                    c.room.clone(),
                    c.answered_at,
                    c.queue.clone(),
                    c.changed.clone(),
                )
            })
            .ok()?;
        changed.notify_waiters();
        room.remove(&caller);
        if let Some(m) = &self.files.hold_music {
            let _ = caller.music(m);
        }
        if let Some(leg) = leg {
            room.remove(&leg);
            hang_up(&leg);
        }
        if let Some(agent) = agent {
            let talk = (now - answered_at).num_seconds().max(0) as u64;
            let effects = self
                .acd
                .lock()
                .ended(agent, call, talk, now)
                .unwrap_or_default();
            self.apply(effects);
        }
        let priority = self
            .live
            .lock()
            .callers
            .get(&call)
            .map(|s| s.priority)
            .unwrap_or(0);
        Some((caller, room, queue.unwrap_or_default(), priority))
    }

    async fn blind_transfer(
        self: &Arc<Self>,
        agent: Uuid,
        call: Uuid,
        to: TransferTo,
    ) -> Result<(), AcdError> {
        let dests = self.resolve(&to).await?;
        let what = format!("{to:?}");
        let Some((caller, _room, queue, priority)) = self.release_agent(call).await else {
            return Err(AcdError::NotFound("call".into()));
        };
        self.publish(
            Some(agent),
            "transferred",
            json!({"call_id": call, "to": what}),
        );
        let rt = self.clone();
        tokio::spawn(async move {
            match to {
                TransferTo::Queue(q) => rt.requeue(call, &q, priority).await,
                TransferTo::Agent(target) => {
                    let leg = rt.dial_first(dests, &caller.info().caller, call).await;
                    match leg {
                        Some(leg) => {
                            let direct =
                                rt.acd
                                    .lock()
                                    .change(target, Change::Direct(call), Utc::now());
                            match direct {
                                Ok(effects) => {
                                    rt.apply(effects);
                                    rt.hand_to(call, leg, Some(target)).await;
                                }
                                Err(_) => {
                                    // The agent took another call meanwhile.
                                    hang_up(&leg);
                                    rt.requeue(call, &queue, priority.saturating_add(1)).await;
                                }
                            }
                        }
                        None => rt.requeue(call, &queue, priority.saturating_add(1)).await,
                    }
                }
                _ => match rt.dial_first(dests, &caller.info().caller, call).await {
                    Some(leg) => rt.hand_to(call, leg, None).await,
                    None => rt.requeue(call, &queue, priority.saturating_add(1)).await,
                },
            }
        });
        Ok(())
    }

    /// The conversation goes on between the caller and `leg` (an agent's phone, or anyone).
    async fn hand_to(self: &Arc<Self>, call: Uuid, leg: Call, agent: Option<Uuid>) {
        let caller = match self.conv(call, |c| c.caller.clone()) {
            Ok(c) => c,
            Err(_) => {
                hang_up(&leg);
                return;
            }
        };
        caller.stop_playing();
        let Ok(room) = self.telephony.bridge(&caller, &leg) else {
            hang_up(&leg);
            return;
        };
        let changed = self.conv(call, |c| {
            c.room.close();
            c.room = room;
            c.agent_leg = Some(leg);
            c.agent = agent;
            c.held = false;
            c.muted = false;
            c.answered_at = Utc::now();
            c.changed.clone()
        });
        if let Ok(changed) = changed {
            changed.notify_waiters();
        }
        if let Some(a) = agent {
            self.publish(
                Some(a),
                "answered",
                json!({"call_id": call, "transferred": true}),
            );
        }
    }

    /// Puts a caller whose conversation ended back in a queue (a transfer to a queue, or a failed
    /// transfer: nobody is lost).
    async fn requeue(self: &Arc<Self>, call: Uuid, queue: &str, priority: u8) {
        let now = Utc::now();
        let conv = self.live.lock().conversations.remove(&call);
        let Some(conv) = conv else { return };
        conv.room.close();
        conv.caller.stop_recording();
        if let Some(id) = conv.queue_call {
            let talk = (now - conv.answered_at).num_milliseconds().max(0);
            let _ = self
                .store
                .queue_call_finished(id, "answered", now, talk, None)
                .await;
        }
        if conv.caller.phase() == kefu_telephony::Phase::Ended {
            self.live.lock().callers.remove(&call);
            return;
        }
        let (customer, ivr_path, caller_no) = {
            let mut live = self.live.lock();
            let Some(slot) = live.callers.get_mut(&call) else {
                return;
            };
            slot.queue = queue.to_string();
            slot.priority = priority;
            slot.entered_at = now;
            (
                slot.customer.clone(),
                slot.ivr_path.clone(),
                slot.number.clone(),
            )
        };
        let qc = self
            .store
            .queue_call_entered(kefu_store::NewQueueCall {
                call_id: call,
                queue: queue.to_string(),
                priority,
                caller: caller_no,
                customer_id: customer_id(&customer),
                ivr_path,
                entered_at: now,
            })
            .await
            .ok();
        if let Some(slot) = self.live.lock().callers.get_mut(&call) {
            slot.queue_call = qc;
            let _ = slot.tx.send(CallerMsg::Requeued {
                queue: queue.to_string(),
            });
        }
        if let Some(m) = &self.files.hold_music {
            let _ = conv.caller.music(m);
        }
        let joined = self.acd.lock().enqueue(call, queue, priority, now);
        match joined {
            Ok((_, effects)) => self.apply(effects),
            Err(e) => {
                tracing::warn!(error = %e, %call, queue, "requeue refused");
                hang_up(&conv.caller);
            }
        }
        // The caller may hang up while waiting again.
        let rt = self.clone();
        let caller = conv.caller.clone();
        tokio::spawn(async move {
            caller.wait_ended().await;
            if rt.acd.lock().waiter(call).is_some() {
                rt.caller_gone(call).await;
            }
        });
    }

    async fn consult(
        self: &Arc<Self>,
        agent: Uuid,
        call: Uuid,
        to: TransferTo,
    ) -> Result<(), AcdError> {
        if matches!(to, TransferTo::Queue(_)) {
            return Err(AcdError::Invalid {
                field: "to.kind".into(),
                reason:
                    "consult an agent, a site, an extension or a number; transfer to a queue blind"
                        .into(),
            });
        }
        let (caller, room, leg, busy) = self.conv(call, |c| {
            (
                c.caller.clone(),
                c.room.clone(),
                c.agent_leg.clone(),
                c.consult.is_some(),
            )
        })?;
        if busy {
            return Err(Self::conflict("a consultation is already in progress"));
        }
        let leg = leg.ok_or_else(|| Self::conflict("no agent leg"))?;
        let dests = self.resolve(&to).await?;
        // The caller waits on hold while the agent talks to the target.
        room.remove(&caller);
        if let Some(m) = &self.files.hold_music {
            let _ = caller.music(m);
        }
        self.conv(call, |c| c.held = true)?;
        self.publish(
            Some(agent),
            "consulting",
            json!({"call_id": call, "to": format!("{to:?}")}),
        );
        let rt = self.clone();
        tokio::spawn(async move {
            let from = leg.info().callee.clone();
            match rt.dial_first(dests, &from, call).await {
                Some(target) => {
                    let side = rt.telephony.room();
                    if side.add(&leg).is_err() || side.add(&target).is_err() {
                        hang_up(&target);
                        return;
                    }
                    let target_agent = match to {
                        TransferTo::Agent(a) => Some(a),
                        _ => None,
                    };
                    let _ = rt.conv(call, |c| {
                        c.consult = Some((target.clone(), side, target_agent))
                    });
                    rt.publish(
                        Some(agent),
                        "consult_answered",
                        json!({"call_id": call, "target_agent": target_agent}),
                    );
                }
                None => {
                    rt.publish(Some(agent), "consult_failed", json!({"call_id": call}));
                }
            }
        });
        Ok(())
    }

    async fn complete_transfer(self: &Arc<Self>, agent: Uuid, call: Uuid) -> Result<(), AcdError> {
        let consult = self.conv(call, |c| c.consult.take())?;
        let Some((target, side, target_agent)) = consult else {
            return Err(Self::conflict("no consultation to complete"));
        };
        side.close();
        if target.phase() == kefu_telephony::Phase::Ended {
            return Err(Self::conflict("the consulted party has hung up"));
        }
        self.release_agent(call).await;
        self.publish(
            Some(agent),
            "transferred",
            json!({"call_id": call, "consult": true}),
        );
        // A consulted agent takes the call: on call with it (its wrap-up follows the call's end),
        // as after a blind transfer to it.
        let taker = target_agent.filter(|&a| {
            let direct = self.acd.lock().change(a, Change::Direct(call), Utc::now());
            match direct {
                Ok(effects) => {
                    self.apply(effects);
                    true
                }
                Err(e) => {
                    tracing::info!(error = %e, agent = %a, "the consulted agent takes the call outside the ACD");
                    false
                }
            }
        });
        self.hand_to(call, target, taker).await;
        Ok(())
    }

    async fn cancel_transfer(self: &Arc<Self>, call: Uuid) -> Result<(), AcdError> {
        let (consult, caller, room, leg) = self.conv(call, |c| {
            (
                c.consult.take(),
                c.caller.clone(),
                c.room.clone(),
                c.agent_leg.clone(),
            )
        })?;
        let Some((target, side, _)) = consult else {
            return Err(Self::conflict("no consultation to cancel"));
        };
        side.close();
        hang_up(&target);
        caller.stop_playing();
        let _ = room.add(&caller);
        if let Some(leg) = leg {
            let _ = room.add(&leg);
        }
        self.conv(call, |c| c.held = false)?;
        Ok(())
    }

    async fn add_party(
        self: &Arc<Self>,
        agent: Uuid,
        call: Uuid,
        to: TransferTo,
    ) -> Result<(), AcdError> {
        if matches!(to, TransferTo::Queue(_)) {
            return Err(AcdError::Invalid {
                field: "to.kind".into(),
                reason: "add an agent, a site, an extension or a number".into(),
            });
        }
        let dests = self.resolve(&to).await?;
        let caller_no = self.conv(call, |c| c.caller.info().caller.clone())?;
        let rt = self.clone();
        tokio::spawn(async move {
            match rt.dial_first(dests, &caller_no, call).await {
                Some(party) => {
                    let room = rt.conv(call, |c| c.room.clone());
                    match room {
                        Ok(room) if room.add(&party).is_ok() => {
                            let _ = rt.conv(call, |c| c.parties.push(party.clone()));
                            rt.publish(
                                Some(agent),
                                "conference",
                                json!({"call_id": call, "parties": 1}),
                            );
                        }
                        _ => {
                            hang_up(&party);
                        }
                    }
                }
                None => rt.publish(Some(agent), "conference_failed", json!({"call_id": call})),
            }
        });
        Ok(())
    }

    async fn do_supervise(
        self: &Arc<Self>,
        phone: &str,
        call: Uuid,
        mode: &str,
    ) -> Result<(), AcdError> {
        let (room, leg) = self.conv(call, |c| (c.room.clone(), c.agent_leg.clone()))?;
        let dests = self.phone_destinations(phone).await?;
        let rt = self.clone();
        let mode = mode.to_string();
        tokio::spawn(async move {
            let Some(sup) = rt.dial_first(dests, "kefu", call).await else {
                return;
            };
            let m = match mode.as_str() {
                "listen" => MemberMode::Muted,
                "whisper" => match &leg {
                    Some(l) => MemberMode::Whisper { to: l.id() },
                    None => MemberMode::Muted,
                },
                _ => MemberMode::Normal,
            };
            if room.add(&sup).is_err() || room.set_mode(&sup, m).is_err() {
                hang_up(&sup);
                return;
            }
            let _ = rt.conv(call, |c| c.supervisors.push((Uuid::nil(), sup.clone())));
        });
        Ok(())
    }
}

/// The ACD as the API sees it.
pub struct AcdApi(pub Arc<AcdRuntime>);

fn refused(e: kefu_acd::Refused) -> AcdError {
    match e {
        kefu_acd::Refused::UnknownAgent => AcdError::NotFound("agent".into()),
        kefu_acd::Refused::UnknownReason(r) => AcdError::Invalid {
            field: "reason".into(),
            reason: format!("unknown reason {r:?}"),
        },
        kefu_acd::Refused::NotInQueue(q) => AcdError::Invalid {
            field: "queues".into(),
            reason: format!("the agent may not serve queue {q:?}"),
        },
        other => AcdError::Conflict {
            field: "state".into(),
            reason: other.to_string(),
        },
    }
}

#[async_trait::async_trait]
impl AcdControl for AcdApi {
    async fn reload(&self) {
        if let Err(e) = self.0.reload().await {
            tracing::warn!(error = %e, "reloading the ACD's agents and queues failed");
        }
    }

    fn agent_state(&self, agent: Uuid) -> Option<Value> {
        self.0.acd.lock().agent(agent).map(agent_state_json)
    }

    fn wallboard(&self) -> Value {
        self.0.wallboard_json()
    }

    fn calls_of(&self, agent: Uuid) -> Vec<Value> {
        self.0.agent_calls_json(agent)
    }

    async fn login(
        &self,
        agent: Uuid,
        phone: Option<String>,
        queues: Option<Vec<String>>,
        ready: bool,
    ) -> Result<Value, AcdError> {
        let rt = &self.0;
        if let Some(p) = &phone {
            let number = p.strip_prefix("site:").unwrap_or(p);
            if p.strip_prefix("external:").is_none() {
                let known = rt
                    .store
                    .extensions()
                    .await
                    .map_err(|e| AcdError::Unavailable(e.to_string()))?
                    .into_iter()
                    .any(|e| e.enabled && e.number == number);
                if !known {
                    return Err(AcdError::Invalid {
                        field: "phone".into(),
                        reason: "no such extension".into(),
                    });
                }
            } else {
                rt.phone_destinations(p)
                    .await
                    .map_err(|_| AcdError::Invalid {
                        field: "phone".into(),
                        reason: "no trunk for outside calls".into(),
                    })?;
            }
        }
        let phone = match phone {
            Some(p) => Some(p),
            None => rt
                .profiles
                .lock()
                .get(&agent)
                .and_then(|p| p.extension.clone()),
        };
        if phone.is_none() {
            return Err(AcdError::Invalid {
                field: "phone".into(),
                reason: "the agent has no extension: give a phone".into(),
            });
        }
        let effects = rt
            .acd
            .lock()
            .login(agent, queues, phone, ready, Utc::now())
            .map_err(refused)?;
        rt.apply(effects);
        self.agent_state(agent)
            .ok_or_else(|| AcdError::NotFound("agent".into()))
    }

    async fn logout(&self, agent: Uuid) -> Result<Value, AcdError> {
        let effects = self
            .0
            .acd
            .lock()
            .change(agent, Change::Logout, Utc::now())
            .map_err(refused)?;
        self.0.apply(effects);
        self.agent_state(agent)
            .ok_or_else(|| AcdError::NotFound("agent".into()))
    }

    async fn set_state(
        &self,
        agent: Uuid,
        ready: bool,
        reason: Option<String>,
    ) -> Result<Value, AcdError> {
        let change = match reason {
            Some(r) if !ready => Change::NotReady(r),
            _ => Change::Ready,
        };
        let (effects, pending) = {
            let mut acd = self.0.acd.lock();
            let effects = acd.change(agent, change, Utc::now()).map_err(refused)?;
            (effects, acd.agent(agent).and_then(|a| a.pending.clone()))
        };
        let changed = effects
            .iter()
            .any(|e| matches!(e, Effect::State { agent: a, .. } if *a == agent));
        if !changed {
            // Busy: the not-ready (or its withdrawal) waits for the wrap-up; saved now so that a
            // restart keeps it.
            let _ = self.0.persist.send(Persist::Pending(agent, pending));
        }
        self.0.apply(effects);
        self.agent_state(agent)
            .ok_or_else(|| AcdError::NotFound("agent".into()))
    }

    async fn force_state(
        &self,
        agent: Uuid,
        state: &str,
        actor: &Actor,
    ) -> Result<Value, AcdError> {
        let target = match state {
            "ready" => State::Ready,
            "not_ready" => State::NotReady {
                reason: "forced".into(),
            },
            _ => State::LoggedOut,
        };
        let effects = self
            .0
            .acd
            .lock()
            .change(agent, Change::Force(target), Utc::now())
            .map_err(refused)?;
        // The forced change is the supervisor's: persisted with the actor (audited).
        for e in effects {
            match e {
                Effect::State {
                    agent: a,
                    state,
                    since,
                } if a == agent => self.0.state_changed(a, state, since, Some(actor.clone())),
                other => self.0.apply(vec![other]),
            }
        }
        self.agent_state(agent)
            .ok_or_else(|| AcdError::NotFound("agent".into()))
    }

    async fn command(&self, agent: Uuid, call: Uuid, cmd: CallCommand) -> Result<Value, AcdError> {
        self.0.do_command(agent, call, cmd).await?;
        Ok(self
            .0
            .agent_calls_json(agent)
            .into_iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(&call.to_string()))
            .unwrap_or(json!({"id": call, "state": "ended"})))
    }

    async fn supervise(&self, phone: &str, call: Uuid, mode: &str) -> Result<Value, AcdError> {
        self.0.do_supervise(phone, call, mode).await?;
        Ok(json!({"call_id": call, "mode": mode, "phone": phone}))
    }

    fn subscribe_agent(&self, agent: Uuid) -> broadcast::Receiver<Arc<CtiEvent>> {
        self.0.subscribe_agent(agent)
    }

    fn subscribe_wallboard(&self) -> broadcast::Receiver<Arc<CtiEvent>> {
        self.0.board.subscribe()
    }

    fn last_seq(&self, agent: Uuid) -> u64 {
        self.0.last_seq(agent)
    }
}

/// Hangs a leg up without waiting for the far end's answer (a phone that does not answer the BYE
/// must not hold up the ACD).
fn hang_up(leg: &Call) {
    let leg = leg.clone();
    tokio::spawn(async move {
        let _ = leg.hangup().await;
    });
}
