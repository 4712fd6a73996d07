//! SIP signalling on rsipstack. This is the only module that touches rsipstack types, so an upgrade of
//! that (fast-moving, exactly pinned) crate touches only this file.
//!
//! Out-of-dialog requests: REGISTER (registrar with digest), INVITE (from a trunk by source allow-list,
//! or from a registered phone with digest), OPTIONS (200), anything else 405/481/501. In-dialog requests
//! are handed to rsipstack's dialog layer, whose state changes (ACK, re-INVITE, REFER, BYE, CANCEL) come
//! back here on one channel and become [`CallEvent`]s.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use kefu_media::Codec;
use kefu_media::sdp::{self, Direction as SdpDirection, Negotiated};
use parking_lot::Mutex;
use rsipstack::EndpointBuilder;
use rsipstack::dialog::DialogId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{Dialog, DialogState, DialogStateSender, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, HeadersExt, Method, StatusCode, Uri};
use rsipstack::transaction::endpoint::Endpoint;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::call::{Call, CallError, CallEvent, CallInfo, EndInfo, Leg, Phase, Room};
use crate::config::TelephonyConfig;
use crate::digest::{Algorithm, DigestResponse, NonceCheck, Nonces};
use crate::directory::{Direction, Directory, Disposition, Side, Target, Trunk};
use crate::guard::{SourceGuard, Verdict};
use crate::media::{MediaEngine, MediaError, MediaEvent};
use crate::registrar::{self, Binding, Registrations, Transport};

const CODECS: &[Codec] = &[Codec::Pcma, Codec::Pcmu];
const TELEPHONE_EVENT_PT: u8 = 101;
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, NOTIFY, INFO, UPDATE";
/// How long the trunk list is cached before it is read from the directory again.
const TRUNK_CACHE: Duration = Duration::from_secs(5);

/// A new inbound leg and where its called number leads. Answer, play, bridge or reject it.
pub struct IncomingCall {
    pub call: Call,
    pub target: Target,
}

/// Where to place an outbound call.
#[derive(Clone, Debug)]
pub enum Destination {
    /// A registered extension (its newest binding).
    Extension(String),
    /// A number through a trunk (by name).
    Trunk { trunk: String, number: String },
    /// A SIP URI reached directly (`sip:user@127.0.0.1:5080`), for tests and fixed peers.
    Uri(String),
}

#[derive(Debug, thiserror::Error)]
pub enum OriginateError {
    #[error("extension {0} is not registered")]
    NotRegistered(String),
    #[error("no such trunk {0}")]
    NoTrunk(String),
    #[error("too many calls")]
    Busy,
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("the far end answered {status}")]
    Refused {
        status: u16,
        disposition: Disposition,
    },
    #[error("no answer")]
    NoAnswer,
    /// Stopped by the caller of `originate_until` while it rang.
    #[error("cancelled")]
    Cancelled,
    #[error("signalling: {0}")]
    Sip(String),
}

/// How `Telephony::originate_with` places a call.
#[derive(Clone, Debug, Default)]
pub struct OriginateOptions {
    /// How long the far end may ring; `None`: the configured `ring_timeout`.
    pub ring_timeout: Option<Duration>,
    /// Cancelled before the far end answers: the INVITE is cancelled (`OriginateError::Cancelled`).
    pub stop: CancellationToken,
    /// Ask the phone to answer by itself: the INVITE carries `Call-Info: <sip:KEFU>;answer-after=0`
    /// and `Alert-Info: <http://localhost>;info=alert-autoanswer` (honored by Yealink, Polycom,
    /// Grandstream, baresip and others when their auto-answer setting allows it).
    pub auto_answer: bool,
}

/// kefu's registration with a carrier (outbound REGISTER), as last seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkRegistration {
    pub trunk_id: Uuid,
    pub trunk_name: String,
    /// Registered right now.
    pub registered: bool,
    /// The carrier's last final answer (200, 403, ...), or none when it did not answer.
    pub last_status: Option<u16>,
    pub last_attempt: chrono::DateTime<Utc>,
    /// When the registration runs out (registered) or the next attempt is due (failed).
    pub expires_at: chrono::DateTime<Utc>,
}

/// Counters for tests and monitoring: nothing may leak after calls end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub legs: usize,
    pub media_legs: usize,
    pub rtp_ports_in_use: usize,
    pub dialogs: usize,
    pub transactions: usize,
    pub registrations: usize,
}

/// The SIP side of a leg (an rsipstack dialog).
pub(crate) struct SipLeg {
    dialog: InviteDialog,
    /// What we last agreed with the peer.
    negotiated: Mutex<Option<Negotiated>>,
    sdp_session: u64,
    sdp_version: Mutex<u64>,
}

impl SipLeg {
    pub(crate) fn ringing(&self) -> Result<(), String> {
        self.dialog.ringing(None, None).map_err(|e| e.to_string())
    }

    pub(crate) async fn refer(&self, target: &str) -> Result<(), String> {
        let uri = Uri::try_from(target).map_err(|e| e.to_string())?;
        match self.dialog.refer(uri, None, None).await {
            Ok(Some(r)) if r.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                Ok(())
            }
            Ok(Some(r)) => Err(format!("REFER answered {}", u16::from(r.status_code))),
            Ok(None) => Err("REFER not answered".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

pub(crate) struct Engine {
    cfg: TelephonyConfig,
    directory: Arc<dyn Directory>,
    endpoint: Arc<Endpoint>,
    dialogs: Arc<DialogLayer>,
    state_tx: DialogStateSender,
    legs: Mutex<HashMap<String, Arc<Leg>>>,
    registrations: Mutex<Registrations>,
    guard: Mutex<SourceGuard>,
    nonces: Nonces,
    media: Arc<MediaEngine>,
    incoming_tx: mpsc::Sender<IncomingCall>,
    prompts: Mutex<HashMap<String, Arc<[i16]>>>,
    trunks: Mutex<Option<(Instant, Arc<Vec<Trunk>>)>>,
    trunk_registrations: Mutex<HashMap<Uuid, TrunkRegistration>>,
    cancel: CancellationToken,
    local: SocketAddr,
    me: Weak<Engine>,
}

/// The running telephony engine.
#[derive(Clone)]
pub struct Telephony {
    engine: Arc<Engine>,
    incoming: Arc<Mutex<Option<mpsc::Receiver<IncomingCall>>>>,
}

fn leg_key(id: &DialogId) -> String {
    format!("{}\u{0}{}", id.call_id, id.local_tag)
}

/// The user part of a SIP URI in a header value (`"A" <sip:8001@host>;tag=x` → `8001`).
pub(crate) fn uri_user(value: &str) -> Option<String> {
    let start = value.find("sip:").or_else(|| value.find("sips:"))?;
    let rest = &value[start..];
    let rest = &rest[rest.find(':')? + 1..];
    let at = rest.find('@')?;
    let user = &rest[..at];
    if user.is_empty() || user.contains(['>', ';', ' ']) {
        return None;
    }
    let user = user.split(':').next().unwrap_or(user);
    (!user.is_empty()).then(|| user.to_string())
}

fn source(tx: &Transaction) -> Option<SocketAddr> {
    tx.connection
        .as_ref()?
        .get_remote_addr()?
        .get_socketaddr()
        .ok()
}

fn transport_of(tx: &Transaction) -> Transport {
    match tx.connection.as_ref().map(|c| c.transport()) {
        Some(rsipstack::sip::Transport::Tcp) => Transport::Tcp,
        _ => Transport::Udp,
    }
}

fn header(name: &str, value: impl Into<String>) -> Header {
    Header::Other(name.into(), value.into())
}

fn sdp_headers() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

impl Telephony {
    /// Binds SIP (UDP and TCP on `cfg.sip`) and starts the engine's tasks.
    pub async fn start(
        cfg: TelephonyConfig,
        directory: Arc<dyn Directory>,
    ) -> anyhow::Result<Telephony> {
        let cancel = CancellationToken::new();
        let transports = TransportLayer::new(cancel.child_token());
        let socket = bind_sip(cfg.sip)?;
        socket.set_nonblocking(true)?;
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        let udp = UdpConnection::from_socket(
            Arc::new(GuardedUdp(socket)),
            None,
            Some(cancel.child_token()),
        )
        .await?;
        let local = udp.get_addr().get_socketaddr()?;
        transports.add_transport(udp.into());
        let tcp = TcpListenerConnection::new(local, None).await?;
        transports.add_transport(tcp.into());
        let endpoint = Arc::new(
            EndpointBuilder::new()
                .with_user_agent(&cfg.user_agent)
                .with_cancel_token(cancel.child_token())
                .with_transport_layer(transports)
                .build(),
        );
        let incoming_transactions = endpoint.incoming_transactions()?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_tx, state_rx) = dialogs.new_dialog_state_channel();
        let mut guard = SourceGuard::new(cfg.guard.clone());
        guard.set_trusted(cfg.trusted.clone());
        let media_ip = if cfg.sip.ip().is_unspecified() {
            cfg.sip.ip()
        } else {
            local.ip()
        };
        let media = MediaEngine::start(
            media_ip,
            cfg.rtp_ports,
            cfg.jitter_frames,
            cfg.media_timeout,
            cancel.child_token(),
        );
        let (incoming_tx, incoming_rx) = mpsc::channel(1024);
        let nonces = Nonces::new(rand::random(), cfg.nonce_ttl);
        let engine = Arc::new_cyclic(|me| Engine {
            cfg,
            directory,
            endpoint: endpoint.clone(),
            dialogs,
            state_tx,
            legs: Mutex::new(HashMap::new()),
            registrations: Mutex::new(Registrations::default()),
            guard: Mutex::new(guard),
            nonces,
            media,
            incoming_tx,
            prompts: Mutex::new(HashMap::new()),
            trunks: Mutex::new(None),
            trunk_registrations: Mutex::new(HashMap::new()),
            cancel: cancel.clone(),
            local,
            me: me.clone(),
        });
        {
            let endpoint = endpoint.clone();
            tokio::spawn(async move { endpoint.serve().await });
        }
        // rsipstack binds the TCP listener in a task of its own: return once it accepts, so a caller
        // (a test, a health check) never meets a refused connection.
        let probe = if local.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port())
        } else {
            local
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(probe).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::spawn(transactions(engine.clone(), incoming_transactions));
        tokio::spawn(dialog_states(Arc::downgrade(&engine), state_rx));
        tokio::spawn(sweeper(Arc::downgrade(&engine)));
        tokio::spawn(register_trunks(Arc::downgrade(&engine)));
        tracing::info!(%local, "SIP listening (UDP and TCP)");
        Ok(Telephony {
            engine,
            incoming: Arc::new(Mutex::new(Some(incoming_rx))),
        })
    }

    /// The address SIP is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.engine.local
    }

    /// The stream of new inbound legs; can be taken once.
    pub fn incoming(&self) -> Option<mpsc::Receiver<IncomingCall>> {
        self.incoming.lock().take()
    }

    pub fn registrations(&self) -> Vec<Binding> {
        self.engine.registrations.lock().all(Utc::now())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.engine
            .legs
            .lock()
            .values()
            .map(|leg| Call { leg: leg.clone() })
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let e = &self.engine;
        Stats {
            legs: e.legs.lock().len(),
            media_legs: e.media.legs_open(),
            rtp_ports_in_use: e.media.ports_in_use(),
            dialogs: e.dialogs.len(),
            transactions: e.endpoint.inner.get_stats().running_transactions,
            registrations: e.registrations.lock().all(Utc::now()).len(),
        }
    }

    /// Forgets cached configuration (trunks) so the next call reads it afresh.
    pub fn reload(&self) {
        *self.engine.trunks.lock() = None;
    }

    /// kefu's registrations with carriers (trunks with `register`).
    pub fn trunk_registrations(&self) -> Vec<TrunkRegistration> {
        let mut v: Vec<TrunkRegistration> = self
            .engine
            .trunk_registrations
            .lock()
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.trunk_name.cmp(&b.trunk_name));
        v
    }

    /// Sources banned right now for repeated authentication failures.
    pub fn banned(&self) -> Vec<std::net::IpAddr> {
        self.engine
            .guard
            .lock()
            .banned(Instant::now())
            .into_iter()
            .map(|(ip, _)| ip)
            .collect()
    }

    /// An empty room; add answered legs to connect them.
    pub fn room(&self) -> Room {
        Room {
            inner: self.engine.media.new_room(),
            engine: Arc::downgrade(&self.engine),
        }
    }

    /// Connects two answered legs.
    pub fn bridge(&self, a: &Call, b: &Call) -> Result<Room, CallError> {
        let room = self.room();
        room.add(a)?;
        room.add(b)?;
        Ok(room)
    }

    /// Completes an attended transfer: the transferee (held while the transferor consulted) is taken
    /// off hold and connected to the target; both leave their rooms. The transferor's legs are the
    /// caller's to hang up. The new pair ends together.
    pub async fn attended_transfer(
        &self,
        transferee: &Call,
        target: &Call,
    ) -> Result<Room, CallError> {
        if transferee.leg.status.lock().held_by_us {
            transferee.unhold().await?;
        }
        let room = self.bridge(transferee, target)?;
        tokio::spawn(follow(transferee.clone(), target.clone(), room.clone()));
        Ok(room)
    }

    /// Places an outbound leg and waits until it is answered (or fails).
    pub async fn originate(
        &self,
        to: Destination,
        caller: &str,
        call_uuid: Option<Uuid>,
    ) -> Result<Call, OriginateError> {
        let ring = self.engine.cfg.ring_timeout;
        self.engine
            .originate(to, caller, call_uuid, ring, CancellationToken::new(), false)
            .await
    }

    /// Like [`Telephony::originate`], ringing at most `ring_timeout`, and stopped (CANCEL) when
    /// `stop` is cancelled before the far end answers: how a queue rings several phones and keeps
    /// the first that answers.
    pub async fn originate_until(
        &self,
        to: Destination,
        caller: &str,
        call_uuid: Option<Uuid>,
        ring_timeout: std::time::Duration,
        stop: CancellationToken,
    ) -> Result<Call, OriginateError> {
        self.engine
            .originate(to, caller, call_uuid, ring_timeout, stop, false)
            .await
    }

    /// Like [`Telephony::originate`] with options: ring timeout, stop, auto-answer.
    pub async fn originate_with(
        &self,
        to: Destination,
        caller: &str,
        call_uuid: Option<Uuid>,
        options: OriginateOptions,
    ) -> Result<Call, OriginateError> {
        let ring = options.ring_timeout.unwrap_or(self.engine.cfg.ring_timeout);
        self.engine
            .originate(
                to,
                caller,
                call_uuid,
                ring,
                options.stop,
                options.auto_answer,
            )
            .await
    }

    /// A live leg by its id.
    pub fn call(&self, id: Uuid) -> Option<Call> {
        self.engine.call(id)
    }

    /// Ends every leg and stops the engine.
    pub async fn shutdown(&self) {
        let legs: Vec<Arc<Leg>> = self.engine.legs.lock().values().cloned().collect();
        let hung_up = !legs.is_empty();
        for leg in legs {
            self.engine.hangup(&leg, "system_shutdown").await;
        }
        if hung_up {
            // The BYEs and CANCELs go out from their own tasks: give them a moment to leave before the
            // transports close.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.engine.cancel.cancel();
    }
}

async fn transactions(engine: Arc<Engine>, mut rx: rsipstack::transaction::TransactionReceiver) {
    let cancel = engine.cancel.clone();
    loop {
        let tx = tokio::select! {
            _ = cancel.cancelled() => return,
            tx = rx.recv() => match tx { Some(tx) => tx, None => return },
        };
        let engine = engine.clone();
        tokio::spawn(async move { engine.on_transaction(tx).await });
    }
}

async fn dialog_states(
    engine: Weak<Engine>,
    mut rx: rsipstack::dialog::dialog::DialogStateReceiver,
) {
    while let Some(state) = rx.recv().await {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        engine.on_dialog_state(state).await;
    }
}

async fn sweeper(engine: Weak<Engine>) {
    let mut every = tokio::time::interval(Duration::from_secs(30));
    loop {
        every.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if engine.cancel.is_cancelled() {
            return;
        }
        engine.registrations.lock().sweep(Utc::now());
    }
}

/// Keeps kefu registered with every trunk that asks for it: REGISTER at start, refreshed at half the
/// granted time, retried every 30 s after a failure; un-REGISTER (expires 0) when a trunk stops asking.
async fn register_trunks(engine: Weak<Engine>) {
    let mut clients: HashMap<Uuid, rsipstack::dialog::registration::Registration> = HashMap::new();
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if engine.cancel.is_cancelled() {
            return;
        }
        let trunks = engine.trunks().await;
        let wanted: Vec<&Trunk> = trunks
            .iter()
            .filter(|t| t.enabled && t.register && t.proxy.is_some() && t.username.is_some())
            .collect();
        // Trunks that no longer register: forget them (a carrier expires the binding by itself).
        let gone: Vec<Uuid> = clients
            .keys()
            .filter(|id| !wanted.iter().any(|t| t.id == **id))
            .copied()
            .collect();
        for id in gone {
            clients.remove(&id);
            engine.trunk_registrations.lock().remove(&id);
        }
        for t in wanted {
            let now = Utc::now();
            let due = engine
                .trunk_registrations
                .lock()
                .get(&t.id)
                .is_none_or(|r| {
                    let remaining = r.expires_at - now;
                    if r.registered {
                        remaining < chrono::TimeDelta::seconds((t.register_expires / 2) as i64)
                    } else {
                        remaining <= chrono::TimeDelta::zero()
                    }
                });
            if !due {
                continue;
            }
            let client = clients.entry(t.id).or_insert_with(|| {
                let credential = Credential {
                    username: t.username.clone().unwrap_or_default(),
                    password: t.password.clone().unwrap_or_default(),
                    realm: None,
                    auth_username: None,
                };
                rsipstack::dialog::registration::Registration::new(
                    engine.endpoint.inner.clone(),
                    Some(credential),
                )
            });
            let transport = match t.transport {
                crate::directory::TrunkTransport::Tcp => ";transport=tcp",
                crate::directory::TrunkTransport::Udp => "",
            };
            let server = match Uri::try_from(
                format!("sip:{}{transport}", t.proxy.as_deref().unwrap_or_default()).as_str(),
            ) {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(trunk = %t.name, error = %e, "trunk proxy is not a SIP address");
                    continue;
                }
            };
            let result = tokio::time::timeout(
                Duration::from_secs(32),
                client.register(server, Some(t.register_expires)),
            )
            .await;
            let status = match &result {
                Ok(Ok(resp)) => Some(u16::from(resp.status_code.clone())),
                _ => None,
            };
            let registered = status.is_some_and(|s| (200..300).contains(&s));
            let granted = if registered {
                client.expires().max(1)
            } else {
                30
            };
            if registered {
                tracing::info!(trunk = %t.name, expires = granted, "registered with the carrier");
            } else {
                tracing::warn!(trunk = %t.name, ?status, "registering with the carrier failed; retrying in 30 s");
            }
            engine.trunk_registrations.lock().insert(
                t.id,
                TrunkRegistration {
                    trunk_id: t.id,
                    trunk_name: t.name.clone(),
                    registered,
                    last_status: status,
                    last_attempt: now,
                    expires_at: now + chrono::TimeDelta::seconds(granted as i64),
                },
            );
        }
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

enum Caller {
    Trunk(Box<Trunk>),
    Extension(String),
}

enum Auth {
    Ok(String),
    /// Reply sent (challenge or refusal).
    Replied,
}

impl Engine {
    pub(crate) fn media(&self) -> &Arc<MediaEngine> {
        &self.media
    }

    /// A live leg by its id.
    pub(crate) fn call(&self, id: Uuid) -> Option<Call> {
        self.legs
            .lock()
            .values()
            .find(|leg| leg.info.leg_id == id)
            .map(|leg| Call { leg: leg.clone() })
    }

    fn contact(&self) -> String {
        format!(
            "sip:kefu@{}",
            SocketAddr::new(self.cfg.advertised_ip(), self.local.port())
        )
    }

    pub(crate) fn recording_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cfg.recordings_dir.join(path)
        }
    }

    /// A prompt by name (`welcome` → `<prompts>/<language>/welcome.wav`, then `<prompts>/welcome.wav`) or
    /// a path to a WAV file. Loaded once and cached.
    pub(crate) fn prompt(&self, name: &str) -> Result<Arc<[i16]>, MediaError> {
        if let Some(p) = self.prompts.lock().get(name) {
            return Ok(p.clone());
        }
        let candidates: Vec<PathBuf> = if name.ends_with(".wav") || name.contains('/') {
            vec![PathBuf::from(name)]
        } else {
            vec![
                self.cfg
                    .prompts_dir
                    .join(&self.cfg.language)
                    .join(format!("{name}.wav")),
                self.cfg.prompts_dir.join(format!("{name}.wav")),
            ]
        };
        let path = candidates
            .iter()
            .find(|p| p.is_file())
            .ok_or_else(|| MediaError::Prompt(name.into(), "not found".into()))?;
        let bytes =
            std::fs::read(path).map_err(|e| MediaError::Prompt(name.into(), e.to_string()))?;
        let samples: Arc<[i16]> = kefu_media::wav::load_prompt(&bytes)
            .map_err(|e| MediaError::Prompt(name.into(), e.to_string()))?
            .into();
        self.prompts
            .lock()
            .insert(name.to_string(), samples.clone());
        Ok(samples)
    }

    async fn trunks(&self) -> Arc<Vec<Trunk>> {
        if let Some((at, t)) = self.trunks.lock().as_ref()
            && at.elapsed() < TRUNK_CACHE
        {
            return t.clone();
        }
        match self.directory.trunks().await {
            Ok(t) => {
                let t = Arc::new(t);
                *self.trunks.lock() = Some((Instant::now(), t.clone()));
                t
            }
            Err(e) => {
                tracing::error!(error = %e, "reading trunks failed");
                self.trunks
                    .lock()
                    .as_ref()
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default()
            }
        }
    }

    async fn on_transaction(self: Arc<Self>, mut tx: Transaction) {
        let Some(src) = source(&tx) else { return };
        if tx.original.method != Method::Ack
            && let Some((status, why)) = malformed(&tx.original)
        {
            let warning = header("Warning", format!("399 kefu \"{why}\""));
            let _ = tx.reply_with(status, vec![warning], None).await;
            return;
        }
        let method = tx.original.method;
        if method != Method::Ack {
            let trusted_trunk = self.trunks().await.iter().any(|t| t.allows(src.ip()));
            if !trusted_trunk {
                let verdict = self.guard.lock().request(src.ip(), Instant::now());
                match verdict {
                    Verdict::Allow => {}
                    Verdict::Banned(_) => return,
                    Verdict::Limited => {
                        let _ = tx
                            .reply_with(
                                StatusCode::ServiceUnavailable,
                                vec![header("Retry-After", "5")],
                                None,
                            )
                            .await;
                        return;
                    }
                }
            }
        }
        if let Some(dialog) = self.dialogs.match_dialog(&tx) {
            match dialog {
                Dialog::Invite(mut d) => {
                    if let Err(e) = d.handle(&mut tx).await {
                        tracing::debug!(error = %e, "in-dialog request failed");
                    }
                }
                _ => {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                }
            }
            return;
        }
        let has_to_tag = tx
            .original
            .to_header()
            .ok()
            .and_then(|t| t.tag().ok().flatten())
            .is_some();
        let result = match method {
            Method::Invite if has_to_tag => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
            Method::Invite => {
                self.on_invite(tx, src).await;
                Ok(())
            }
            Method::Register => {
                self.on_register(&mut tx, src).await;
                Ok(())
            }
            Method::Options => {
                tx.reply_with(
                    StatusCode::OK,
                    vec![header("Allow", ALLOW), header("Accept", "application/sdp")],
                    None,
                )
                .await
            }
            Method::Ack => Ok(()),
            Method::Bye
            | Method::Cancel
            | Method::Info
            | Method::Update
            | Method::Refer
            | Method::Notify
            | Method::PRack => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
            _ => {
                tx.reply_with(
                    StatusCode::MethodNotAllowed,
                    vec![header("Allow", ALLOW)],
                    None,
                )
                .await
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "reply failed");
        }
    }

    fn auth_failed(&self, src: SocketAddr, user: &str, method: &str, reason: &str) {
        // One stable line per failure, for fail2ban: `failregex = SIP auth failed: source=<HOST> `
        tracing::warn!(target: "kefu::sip::auth", "SIP auth failed: source={} user=\"{}\" method={} reason={}", src.ip(), user.escape_debug(), method, reason);
        if let Some(until) = self.guard.lock().failure(src.ip(), Instant::now()) {
            tracing::warn!(target: "kefu::sip::auth", "SIP source banned: source={} seconds={}", src.ip(), until.saturating_duration_since(Instant::now()).as_secs());
        }
    }

    /// Digest-authenticates an extension, or with `trunk` that trunk's inbound credentials. Unknown
    /// users and wrong passwords get the same reply.
    async fn authenticate(
        &self,
        tx: &mut Transaction,
        src: SocketAddr,
        proxy: bool,
        trunk: Option<&Trunk>,
    ) -> Auth {
        let method = tx.original.method.to_string();
        let (ask, give, challenge_status) = if proxy {
            (
                "Proxy-Authorization",
                "Proxy-Authenticate",
                StatusCode::ProxyAuthenticationRequired,
            )
        } else {
            (
                "Authorization",
                "WWW-Authenticate",
                StatusCode::Unauthorized,
            )
        };
        let challenge = |stale: bool| {
            self.nonces
                .challenge(&self.cfg.realm, now_unix(), stale, Algorithm::Md5)
        };
        let Some(value) = tx.original.header_value(ask) else {
            let _ = tx
                .reply_with(challenge_status, vec![header(give, challenge(false))], None)
                .await;
            return Auth::Replied;
        };
        let parsed = match DigestResponse::parse(&value) {
            Ok(p) => p,
            Err(e) => {
                self.auth_failed(src, "", &method, &e.to_string());
                let _ = tx.reply(StatusCode::Forbidden).await;
                return Auth::Replied;
            }
        };
        match self.nonces.check(&parsed.nonce, now_unix()) {
            NonceCheck::Valid => {}
            NonceCheck::Stale => {
                let _ = tx
                    .reply_with(challenge_status, vec![header(give, challenge(true))], None)
                    .await;
                return Auth::Replied;
            }
            NonceCheck::Invalid => {
                let _ = tx
                    .reply_with(challenge_status, vec![header(give, challenge(false))], None)
                    .await;
                return Auth::Replied;
            }
        }
        let ext = match trunk {
            Some(t) => {
                (t.inbound_username.as_deref() == Some(parsed.username.as_str())).then(|| {
                    crate::directory::ExtensionAuth {
                        number: parsed.username.clone(),
                        display_name: t.name.clone(),
                        ha1_md5: t.inbound_ha1_md5.clone().unwrap_or_default(),
                        ha1_sha256: t.inbound_ha1_sha256.clone().unwrap_or_default(),
                        enabled: t.enabled,
                    }
                })
            }
            None => match self.directory.extension(&parsed.username).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "extension lookup failed");
                    let _ = tx.reply(StatusCode::ServerInternalError).await;
                    return Auth::Replied;
                }
            },
        };
        let ok = match (&ext, parsed.algorithm()) {
            (Some(ext), Some(Algorithm::Md5)) if ext.enabled && parsed.realm == self.cfg.realm => {
                parsed.verify(&method, &ext.ha1_md5)
            }
            (Some(ext), Some(Algorithm::Sha256))
                if ext.enabled && parsed.realm == self.cfg.realm =>
            {
                parsed.verify(&method, &ext.ha1_sha256)
            }
            _ => {
                // Same work as a real check, so timing does not tell unknown users apart.
                let _ = parsed.verify(&method, "00000000000000000000000000000000");
                false
            }
        };
        if !ok {
            self.auth_failed(src, &parsed.username, &method, "bad credentials");
            let _ = tx.reply(StatusCode::Forbidden).await;
            return Auth::Replied;
        }
        self.guard.lock().success(src.ip());
        Auth::Ok(parsed.username)
    }

    async fn on_register(&self, tx: &mut Transaction, src: SocketAddr) {
        let user = match self.authenticate(tx, src, false, None).await {
            Auth::Ok(u) => u,
            Auth::Replied => return,
        };
        let aor = tx.original.header_value("To").and_then(|t| uri_user(&t));
        if aor.as_deref() != Some(user.as_str()) {
            self.auth_failed(
                src,
                &user,
                "REGISTER",
                "To does not match the authenticated user",
            );
            let _ = tx.reply(StatusCode::Forbidden).await;
            return;
        }
        let header_expires = tx
            .original
            .header_value("Expires")
            .and_then(|v| v.trim().parse::<u32>().ok());
        let contacts: Vec<String> = tx
            .original
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Contact(c) => Some(c.value().to_string()),
                _ => None,
            })
            .flat_map(|v| split_contacts(&v))
            .collect();
        let ua = tx.original.header_value("User-Agent");
        let now = Utc::now();
        let transport = transport_of(tx);
        let mut reply_contacts = Vec::new();
        {
            let mut regs = self.registrations.lock();
            for c in &contacts {
                if c.trim() == "*" {
                    if header_expires == Some(0) {
                        regs.unregister_all(&user);
                    }
                    continue;
                }
                let (uri, params) = split_contact(c);
                let expires = registrar::grant_expires(params.or(header_expires));
                regs.register(&user, &uri, src, transport, ua.clone(), expires, now);
                if expires > 0 {
                    reply_contacts.push(format!("<{uri}>;expires={expires}"));
                }
            }
            for b in regs.lookup(&user, now) {
                let c = format!(
                    "<{}>;expires={}",
                    b.contact,
                    (b.expires_at - now).num_seconds().max(0)
                );
                if !reply_contacts
                    .iter()
                    .any(|r| r.starts_with(&format!("<{}>", b.contact)))
                {
                    reply_contacts.push(c);
                }
            }
        }
        tracing::info!(extension = %user, source = %src, "registered");
        let mut headers: Vec<Header> = reply_contacts
            .into_iter()
            .map(|c| header("Contact", c))
            .collect();
        headers.push(header(
            "Date",
            now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ));
        let _ = tx.reply_with(StatusCode::OK, headers, None).await;
    }

    async fn on_invite(self: Arc<Self>, mut tx: Transaction, src: SocketAddr) {
        if self.legs.lock().len() >= self.cfg.max_calls {
            let _ = tx
                .reply_with(
                    StatusCode::ServiceUnavailable,
                    vec![header("Retry-After", "5")],
                    None,
                )
                .await;
            return;
        }
        let trunks = self.trunks().await;
        // A registered phone is known by the exact address it registered from (a phone may share an IP
        // with a trusted trunk, e.g. a softphone on the PBX host); then trunks by source; then any phone
        // registered from the same IP. Everyone else is refused without a challenge.
        let (phone_here, phone_ip) = {
            let regs = self.registrations.lock().all(Utc::now());
            (
                regs.iter().any(|b| b.source == src),
                regs.iter().any(|b| b.source.ip() == src.ip()),
            )
        };
        let trunk = trunks.iter().find(|t| t.allows(src.ip()));
        // Carriers that authenticate with digest: from their allow-listed address when they have one
        // ("and"), from anywhere when they have none ("or").
        let digest_only = trunks
            .iter()
            .find(|t| t.enabled && t.allowed_sources.is_empty() && t.inbound_username.is_some());
        let caller_kind = match trunk {
            Some(t) if !phone_here && t.inbound_username.is_some() => {
                match self.authenticate(&mut tx, src, true, Some(t)).await {
                    Auth::Ok(_) => Caller::Trunk(Box::new(t.clone())),
                    Auth::Replied => return,
                }
            }
            Some(t) if !phone_here => Caller::Trunk(Box::new(t.clone())),
            _ if phone_here || phone_ip => {
                match self.authenticate(&mut tx, src, true, None).await {
                    Auth::Ok(u) => Caller::Extension(u),
                    Auth::Replied => return,
                }
            }
            _ if digest_only.is_some() => {
                let t = digest_only.expect("checked");
                match self.authenticate(&mut tx, src, true, Some(t)).await {
                    Auth::Ok(_) => Caller::Trunk(Box::new(t.clone())),
                    Auth::Replied => return,
                }
            }
            _ => {
                let from = tx
                    .original
                    .header_value("From")
                    .and_then(|f| uri_user(&f))
                    .unwrap_or_default();
                self.auth_failed(src, &from, "INVITE", "unknown source");
                let _ = tx.reply(StatusCode::Forbidden).await;
                return;
            }
        };
        let callee = tx
            .original
            .uri
            .user()
            .map(str::to_string)
            .unwrap_or_default();
        let caller = tx
            .original
            .header_value("From")
            .and_then(|f| uri_user(&f))
            .unwrap_or_else(|| "anonymous".into());
        let target = match self.resolve(&caller_kind, &callee).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                let _ = tx.reply(StatusCode::NotFound).await;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "route lookup failed");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
        let offer = match std::str::from_utf8(&tx.original.body)
            .ok()
            .filter(|b| !b.trim().is_empty())
        {
            Some(body) => sdp::parse(body),
            None => {
                let _ = tx
                    .reply_with(
                        StatusCode::NotAcceptableHere,
                        vec![header("Warning", "399 kefu \"an SDP offer is required\"")],
                        None,
                    )
                    .await;
                return;
            }
        };
        let negotiated = match offer.and_then(|o| sdp::negotiate_answer(&o, CODECS)) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx
                    .reply_with(
                        StatusCode::NotAcceptableHere,
                        vec![header(
                            "Warning",
                            format!("399 kefu \"{}\"", e.to_string().replace('"', "'")),
                        )],
                        None,
                    )
                    .await;
                return;
            }
        };
        let media = match self.media.open_leg().await {
            Ok(m) => m,
            Err(_) => {
                let _ = tx
                    .reply_with(
                        StatusCode::ServiceUnavailable,
                        vec![header("Retry-After", "5")],
                        None,
                    )
                    .await;
                return;
            }
        };
        let contact = Uri::try_from(self.contact().as_str()).ok();
        let dialog = match self.dialogs.get_or_create_server_invite(
            &tx,
            self.state_tx.clone(),
            None,
            contact,
        ) {
            Ok(d) => d,
            Err(e) => {
                media.close();
                tracing::debug!(error = %e, "dialog creation failed");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
        media.apply(&negotiated);
        media.set_sending(false);
        let (trunk_id, trunk_name, extension) = match &caller_kind {
            Caller::Trunk(t) => (Some(t.id), Some(t.name.clone()), None),
            Caller::Extension(e) => (None, None, Some(e.clone())),
        };
        let info = CallInfo {
            leg_id: Uuid::now_v7(),
            call_uuid: Uuid::now_v7(),
            sip_call_id: dialog.id().call_id.clone(),
            direction: Direction::Inbound,
            caller,
            callee,
            trunk_id,
            trunk_name,
            extension,
            started_at: Utc::now(),
        };
        let sip = SipLeg {
            dialog: dialog.clone(),
            negotiated: Mutex::new(Some(negotiated)),
            sdp_session: rand::random::<u32>() as u64,
            sdp_version: Mutex::new(1),
        };
        let leg = Leg::new(info, self.me.clone(), sip, media);
        self.watch_media(&leg);
        self.legs.lock().insert(leg_key(&dialog.id()), leg.clone());
        let call = Call { leg: leg.clone() };
        if self
            .incoming_tx
            .try_send(IncomingCall { call, target })
            .is_err()
        {
            self.end_leg(
                &leg,
                EndInfo {
                    disposition: Disposition::Failed,
                    cause: "no_application".into(),
                    side: Side::System,
                    sip_status: Some(503),
                },
            );
            let _ = dialog.reject(Some(StatusCode::ServiceUnavailable), None);
        }
        let mut dialog = dialog;
        if let Err(e) = dialog.handle(&mut tx).await {
            tracing::debug!(error = %e, "INVITE transaction ended with an error");
        }
    }

    async fn resolve(&self, caller: &Caller, callee: &str) -> anyhow::Result<Option<Target>> {
        match caller {
            Caller::Trunk(t) => Ok(self
                .directory
                .route(callee)
                .await?
                .filter(|r| r.trunk_id.is_none_or(|id| id == t.id))
                .map(|r| r.target)),
            Caller::Extension(_) => {
                if self
                    .directory
                    .extension(callee)
                    .await?
                    .is_some_and(|e| e.enabled)
                {
                    return Ok(Some(Target::Extension(callee.to_string())));
                }
                Ok(self.directory.route(callee).await?.map(|r| r.target))
            }
        }
    }

    fn watch_media(&self, leg: &Arc<Leg>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        leg.media.set_events(tx);
        let weak = Arc::downgrade(leg);
        let engine = self.me.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let Some(leg) = weak.upgrade() else { return };
                match ev {
                    MediaEvent::Digit(d) => leg.push_digit(d),
                    MediaEvent::MediaTimeout => {
                        if let Some(engine) = engine.upgrade() {
                            engine.hangup(&leg, "media_timeout").await;
                        }
                    }
                }
            }
        });
    }

    fn local_sdp(&self, leg: &Leg, direction: SdpDirection) -> Vec<u8> {
        let n = *leg.sip.negotiated.lock();
        let codecs: Vec<Codec> = match &n {
            Some(n) => vec![n.codec],
            None => CODECS.to_vec(),
        };
        let te = n
            .as_ref()
            .map(|n| n.telephone_event)
            .unwrap_or(Some(TELEPHONE_EVENT_PT));
        let version = {
            let mut v = leg.sip.sdp_version.lock();
            *v += 1;
            *v
        };
        sdp::build(
            self.cfg.advertised_ip(),
            leg.media.local_port(),
            leg.sip.sdp_session,
            version,
            &codecs,
            te,
            direction,
        )
        .to_string()
        .into_bytes()
    }

    pub(crate) fn answer(&self, leg: &Arc<Leg>) -> Result<(), CallError> {
        {
            let st = leg.status.lock();
            match st.phase {
                Phase::Ended => return Err(CallError::Ended),
                Phase::Answered => return Err(CallError::AlreadyAnswered),
                Phase::Ringing => {}
            }
        }
        if leg.info.direction != Direction::Inbound {
            return Err(CallError::Invalid(
                "only inbound legs are answered by kefu".into(),
            ));
        }
        let direction = leg
            .sip
            .negotiated
            .lock()
            .as_ref()
            .map(|n| n.direction)
            .unwrap_or(SdpDirection::SendRecv);
        let body = self.local_sdp(leg, direction);
        leg.sip
            .dialog
            .accept(Some(sdp_headers()), Some(body))
            .map_err(|e| CallError::Sip(e.to_string()))?;
        {
            let mut st = leg.status.lock();
            st.phase = Phase::Answered;
            st.answered_at = Some(Utc::now());
        }
        if let Some(n) = leg.sip.negotiated.lock().as_ref() {
            leg.media.apply(n);
        }
        leg.emit(CallEvent::Answered);
        Ok(())
    }

    pub(crate) fn reject(&self, leg: &Arc<Leg>, status: u16) -> Result<(), CallError> {
        if !(400..700).contains(&status) {
            return Err(CallError::Invalid(format!(
                "{status} is not a final failure status"
            )));
        }
        match leg.phase() {
            Phase::Ended => return Err(CallError::Ended),
            Phase::Answered => return Err(CallError::AlreadyAnswered),
            Phase::Ringing => {}
        }
        let disposition = if matches!(status, 486 | 600) {
            Disposition::Busy
        } else {
            Disposition::Rejected
        };
        self.end_leg(
            leg,
            EndInfo {
                disposition,
                cause: "rejected".into(),
                side: Side::Callee,
                sip_status: Some(status),
            },
        );
        leg.sip
            .dialog
            .reject(Some(StatusCode::from(status)), None)
            .map_err(|e| CallError::Sip(e.to_string()))
    }

    pub(crate) async fn hold(&self, leg: &Arc<Leg>, on: bool) -> Result<(), CallError> {
        let direction = if on {
            SdpDirection::SendOnly
        } else {
            SdpDirection::SendRecv
        };
        let body = self.local_sdp(leg, direction);
        let resp = leg
            .sip
            .dialog
            .reinvite(Some(sdp_headers()), Some(body))
            .await
            .map_err(|e| CallError::Sip(e.to_string()))?;
        match resp {
            Some(r) if r.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {}
            Some(r) => {
                return Err(CallError::Sip(format!(
                    "re-INVITE answered {}",
                    u16::from(r.status_code)
                )));
            }
            None => return Err(CallError::Sip("re-INVITE not answered".into())),
        }
        leg.status.lock().held_by_us = on;
        if on {
            match self.prompt("hold_music") {
                Ok(m) => leg.media.music(m),
                Err(_) => leg.media.silence(),
            }
            leg.emit(CallEvent::Held { by_us: true });
        } else {
            leg.media.silence();
            leg.emit(CallEvent::Resumed { by_us: true });
        }
        Ok(())
    }

    pub(crate) async fn hangup(&self, leg: &Arc<Leg>, cause: &str) {
        let phase = leg.phase();
        // kefu ending a leg on its own account (no audio, shutting down) is the system's doing; an
        // application hanging up is kefu's side of the leg.
        let our_side = if matches!(cause, "media_timeout" | "system_shutdown") {
            Side::System
        } else if leg.info.direction == Direction::Inbound {
            Side::Callee
        } else {
            Side::Caller
        };
        match phase {
            Phase::Ended => {}
            Phase::Answered => {
                self.end_leg(
                    leg,
                    EndInfo {
                        disposition: Disposition::Answered,
                        cause: cause.into(),
                        side: our_side,
                        sip_status: None,
                    },
                );
                // The leg has ended for kefu; the BYE's transaction (up to 32 s when the peer never
                // answers) runs on its own, so hanging up returns at once.
                let dialog = leg.sip.dialog.clone();
                tokio::spawn(async move {
                    if let Err(e) = dialog.bye().await {
                        tracing::debug!(error = %e, "BYE failed");
                    }
                });
            }
            Phase::Ringing if leg.info.direction == Direction::Inbound => {
                self.end_leg(
                    leg,
                    EndInfo {
                        disposition: Disposition::Rejected,
                        cause: cause.into(),
                        side: our_side,
                        sip_status: Some(480),
                    },
                );
                let _ = leg
                    .sip
                    .dialog
                    .reject(Some(StatusCode::TemporarilyUnavailable), None);
            }
            Phase::Ringing => {
                self.end_leg(
                    leg,
                    EndInfo {
                        disposition: Disposition::Cancelled,
                        cause: cause.into(),
                        side: our_side,
                        sip_status: None,
                    },
                );
                let dialog = leg.sip.dialog.clone();
                tokio::spawn(async move { dialog.cancel().await });
            }
        }
    }

    /// Marks a leg ended (first caller wins), forgets it and writes its call record.
    fn end_leg(&self, leg: &Arc<Leg>, end: EndInfo) {
        if !leg.mark_ended(end.clone()) {
            return;
        }
        self.legs.lock().retain(|_, l| !Arc::ptr_eq(l, leg));
        let st = leg.status.lock();
        let record = crate::directory::CallRecord {
            leg_id: leg.info.leg_id,
            call_uuid: leg.info.call_uuid,
            sip_call_id: leg.info.sip_call_id.clone(),
            direction: leg.info.direction,
            caller: leg.info.caller.clone(),
            callee: leg.info.callee.clone(),
            trunk_id: leg.info.trunk_id,
            extension: leg.info.extension.clone(),
            started_at: leg.info.started_at,
            answered_at: st.answered_at,
            ended_at: Utc::now(),
            disposition: end.disposition,
            hangup_cause: end.cause.clone(),
            sip_status: end.sip_status,
            hangup_side: end.side,
            recording_path: st.recording_path.clone(),
        };
        drop(st);
        let directory = self.directory.clone();
        tokio::spawn(async move {
            if let Err(e) = directory.record(record).await {
                tracing::error!(error = %e, "writing the call record failed");
            }
        });
    }

    fn leg_for(&self, id: &DialogId) -> Option<Arc<Leg>> {
        self.legs.lock().get(&leg_key(id)).cloned()
    }

    async fn on_dialog_state(self: &Arc<Self>, state: DialogState) {
        match state {
            DialogState::Confirmed(id, _) => {
                if let Some(leg) = self.leg_for(&id) {
                    tracing::debug!(leg = %leg.info.leg_id, "dialog confirmed");
                }
            }
            DialogState::Early(id, _) => {
                if let Some(leg) = self.leg_for(&id) {
                    leg.emit(CallEvent::Ringing);
                }
            }
            DialogState::Updated(id, req, handle) => {
                let Some(leg) = self.leg_for(&id) else {
                    let _ = handle.reply(StatusCode::CallTransactionDoesNotExist).await;
                    return;
                };
                if req.method != Method::Invite && req.body.is_empty() {
                    let _ = handle.reply(StatusCode::OK).await;
                    return;
                }
                let parsed = std::str::from_utf8(&req.body)
                    .ok()
                    .filter(|b| !b.trim().is_empty())
                    .map(sdp::parse);
                let negotiated = match parsed {
                    None => *leg.sip.negotiated.lock(),
                    Some(Ok(offer)) => match sdp::negotiate_answer(&offer, CODECS) {
                        Ok(n) => Some(n),
                        Err(_) => {
                            let _ = handle.reply(StatusCode::NotAcceptableHere).await;
                            return;
                        }
                    },
                    Some(Err(_)) => {
                        let _ = handle.reply(StatusCode::BadRequest).await;
                        return;
                    }
                };
                let Some(n) = negotiated else {
                    let _ = handle.reply(StatusCode::NotAcceptableHere).await;
                    return;
                };
                let held = matches!(n.direction, SdpDirection::RecvOnly | SdpDirection::Inactive)
                    || n.remote.is_none();
                *leg.sip.negotiated.lock() = Some(n);
                let body = self.local_sdp(&leg, n.direction);
                leg.media.apply(&n);
                let was_held = std::mem::replace(&mut leg.status.lock().held_by_peer, held);
                let _ = handle
                    .respond(StatusCode::OK, Some(sdp_headers()), Some(body))
                    .await;
                if held && !was_held {
                    leg.emit(CallEvent::Held { by_us: false });
                } else if !held && was_held {
                    leg.emit(CallEvent::Resumed { by_us: false });
                }
            }
            DialogState::Refer(id, req, handle) => {
                let Some(leg) = self.leg_for(&id) else {
                    let _ = handle.reply(StatusCode::CallTransactionDoesNotExist).await;
                    return;
                };
                let Some(target) = req
                    .header_value("Refer-To")
                    .or_else(|| req.header_value("r"))
                else {
                    let _ = handle.reply(StatusCode::BadRequest).await;
                    return;
                };
                let _ = handle.reply(StatusCode::Accepted).await;
                let target = target
                    .trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or("")
                    .to_string();
                leg.emit(CallEvent::TransferRequested {
                    target: target.clone(),
                });
                let engine = self.clone();
                tokio::spawn(async move { engine.blind_transfer(leg, target).await });
            }
            DialogState::Info(id, req, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
                if let Some(leg) = self.leg_for(&id) {
                    // SIP INFO DTMF (application/dtmf-relay: "Signal=5").
                    let body = String::from_utf8_lossy(&req.body);
                    if let Some(sig) = body.lines().find_map(|l| l.trim().strip_prefix("Signal="))
                        && let Some(d) = sig
                            .trim()
                            .chars()
                            .next()
                            .filter(|c| c.is_ascii_digit() || "*#ABCD".contains(*c))
                    {
                        leg.push_digit(d);
                    }
                }
            }
            DialogState::Options(_, _, handle) => {
                let _ = handle
                    .respond(StatusCode::OK, Some(vec![header("Allow", ALLOW)]), None)
                    .await;
            }
            DialogState::Notify(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
            }
            DialogState::Terminated(id, reason) => {
                self.dialogs.remove_dialog(&id);
                if let Some(leg) = self.leg_for(&id) {
                    let end = end_info(&leg, &reason);
                    self.end_leg(&leg, end);
                }
            }
            DialogState::Calling(_) | DialogState::Trying(_) | DialogState::WaitAck(_, _) => {}
        }
    }

    /// REFER from a leg's peer: call the target, put it in the leg's room in the leg's place, and end
    /// the transferring leg. A leg in no room is simply asked to leave.
    async fn blind_transfer(self: Arc<Self>, leg: Arc<Leg>, target: String) {
        let room_id = leg.status.lock().room;
        let partner = room_id.and_then(|room| {
            self.legs
                .lock()
                .values()
                .find(|l| !Arc::ptr_eq(l, &leg) && l.status.lock().room == Some(room))
                .cloned()
        });
        let Some(partner) = partner else {
            self.hangup(&leg, "transferred").await;
            return;
        };
        let destination = match uri_user(&target) {
            Some(user)
                if !self
                    .registrations
                    .lock()
                    .lookup(&user, Utc::now())
                    .is_empty() =>
            {
                Destination::Extension(user)
            }
            _ => Destination::Uri(target.clone()),
        };
        match self
            .originate(
                destination,
                &partner.info.caller,
                Some(partner.info.call_uuid),
                self.cfg.ring_timeout,
                CancellationToken::new(),
                false,
            )
            .await
        {
            Ok(new_call) => {
                let _ = leg
                    .sip
                    .dialog
                    .notify_refer(StatusCode::OK, "terminated;reason=noresource")
                    .await;
                let room = Room {
                    inner: self.media.new_room(),
                    engine: self.me.clone(),
                };
                let partner_call = Call {
                    leg: partner.clone(),
                };
                let _ = room.add(&partner_call);
                let _ = room.add(&new_call);
                self.hangup(&leg, "transferred").await;
                // The new pair ends together.
                tokio::spawn(follow(partner_call, new_call, room));
            }
            Err(e) => {
                tracing::info!(error = %e, %target, "blind transfer failed");
                let _ = leg
                    .sip
                    .dialog
                    .notify_refer(
                        StatusCode::ServiceUnavailable,
                        "terminated;reason=noresource",
                    )
                    .await;
            }
        }
    }

    async fn originate(
        self: &Arc<Self>,
        to: Destination,
        caller: &str,
        call_uuid: Option<Uuid>,
        ring_timeout: std::time::Duration,
        stop: CancellationToken,
        auto_answer: bool,
    ) -> Result<Call, OriginateError> {
        if stop.is_cancelled() {
            return Err(OriginateError::Cancelled);
        }
        if self.legs.lock().len() >= self.cfg.max_calls {
            return Err(OriginateError::Busy);
        }
        let me = SocketAddr::new(self.cfg.advertised_ip(), self.local.port());
        let (callee_uri, destination, credential, trunk, extension, callee_number, caller_number) =
            match &to {
                Destination::Extension(number) => {
                    let binding = self
                        .registrations
                        .lock()
                        .lookup(number, Utc::now())
                        .into_iter()
                        .next()
                        .ok_or_else(|| OriginateError::NotRegistered(number.clone()))?;
                    let dest = SipAddr {
                        r#type: Some(match binding.transport {
                            Transport::Udp => rsipstack::sip::Transport::Udp,
                            Transport::Tcp => rsipstack::sip::Transport::Tcp,
                        }),
                        addr: binding.source.into(),
                    };
                    (
                        binding.contact.clone(),
                        Some(dest),
                        None,
                        None,
                        Some(number.clone()),
                        number.clone(),
                        caller.to_string(),
                    )
                }
                Destination::Trunk { trunk, number } => {
                    let trunks = self.trunks().await;
                    let t = trunks
                        .iter()
                        .find(|t| &t.name == trunk && t.enabled)
                        .cloned()
                        .ok_or_else(|| OriginateError::NoTrunk(trunk.clone()))?;
                    let proxy = t
                        .proxy
                        .clone()
                        .ok_or_else(|| OriginateError::NoTrunk(trunk.clone()))?;
                    let transport = match t.transport {
                        crate::directory::TrunkTransport::Tcp => ";transport=tcp",
                        crate::directory::TrunkTransport::Udp => "",
                    };
                    let credential = t.username.clone().map(|u| Credential {
                        username: u,
                        password: t.password.clone().unwrap_or_default(),
                        realm: None,
                        auth_username: None,
                    });
                    let caller_number = t.caller_id.clone().unwrap_or_else(|| caller.to_string());
                    (
                        format!("sip:{number}@{proxy}{transport}"),
                        None,
                        credential,
                        Some(t),
                        None,
                        number.clone(),
                        caller_number,
                    )
                }
                Destination::Uri(uri) => (
                    uri.clone(),
                    None,
                    None,
                    None,
                    None,
                    uri_user(uri).unwrap_or_else(|| uri.clone()),
                    caller.to_string(),
                ),
            };
        let media = self.media.open_leg().await?;
        let sdp_session = rand::random::<u32>() as u64;
        let offer = sdp::build(
            self.cfg.advertised_ip(),
            media.local_port(),
            sdp_session,
            1,
            CODECS,
            Some(TELEPHONE_EVENT_PT),
            SdpDirection::SendRecv,
        );
        let fail = |e: String| OriginateError::Sip(e);
        let opt = InviteOption {
            caller: Uri::try_from(format!("sip:{caller_number}@{me}").as_str())
                .map_err(|e| fail(e.to_string()))?,
            callee: Uri::try_from(callee_uri.as_str()).map_err(|e| fail(e.to_string()))?,
            destination,
            content_type: Some("application/sdp".into()),
            offer: Some(offer.to_string().into_bytes()),
            contact: Uri::try_from(self.contact().as_str()).map_err(|e| fail(e.to_string()))?,
            credential,
            headers: auto_answer.then(|| {
                vec![
                    header(
                        "Call-Info",
                        format!("<sip:{}>;answer-after=0", self.cfg.advertised_ip()),
                    ),
                    header("Alert-Info", "<http://localhost>;info=alert-autoanswer"),
                ]
            }),
            ..Default::default()
        };
        let (dialog, handle) = match self.dialogs.do_invite_async(opt, self.state_tx.clone()) {
            Ok(x) => x,
            Err(e) => {
                media.close();
                return Err(fail(e.to_string()));
            }
        };
        let info = CallInfo {
            leg_id: Uuid::now_v7(),
            call_uuid: call_uuid.unwrap_or_else(Uuid::now_v7),
            sip_call_id: dialog.id().call_id.clone(),
            direction: Direction::Outbound,
            caller: caller_number,
            callee: callee_number,
            trunk_id: trunk.as_ref().map(|t| t.id),
            trunk_name: trunk.as_ref().map(|t| t.name.clone()),
            extension,
            started_at: Utc::now(),
        };
        let sip = SipLeg {
            dialog: dialog.clone(),
            negotiated: Mutex::new(None),
            sdp_session,
            sdp_version: Mutex::new(1),
        };
        let leg = Leg::new(info, self.me.clone(), sip, media);
        self.watch_media(&leg);
        self.legs.lock().insert(leg_key(&dialog.id()), leg.clone());
        let mut ended = leg.events.subscribe();
        let outcome = tokio::select! {
            r = tokio::time::timeout(ring_timeout, handle) => r,
            _ = stop.cancelled() => {
                // The INVITE task goes on and sees the 487 our CANCEL brings.
                self.hangup(&leg, "originator_cancel").await;
                self.end_leg(
                    &leg,
                    EndInfo {
                        disposition: Disposition::Cancelled,
                        cause: "originator_cancel".into(),
                        side: Side::System,
                        sip_status: None,
                    },
                );
                return Err(OriginateError::Cancelled);
            }
        };
        let result = match outcome {
            Err(_) => {
                self.hangup(&leg, "no_answer").await;
                self.end_leg(
                    &leg,
                    EndInfo {
                        disposition: Disposition::NoAnswer,
                        cause: "no_answer".into(),
                        side: Side::System,
                        sip_status: None,
                    },
                );
                return Err(OriginateError::NoAnswer);
            }
            // The INVITE task failed (join error) or the INVITE did (signalling error).
            Ok(joined) => joined
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string())),
        };
        let resp = match result {
            Ok((_, resp)) => resp,
            Err(e) => {
                self.end_leg(
                    &leg,
                    EndInfo {
                        disposition: Disposition::Failed,
                        cause: "signalling_error".into(),
                        side: Side::System,
                        sip_status: None,
                    },
                );
                return Err(OriginateError::Sip(e));
            }
        };
        let Some(resp) = resp else {
            self.end_leg(
                &leg,
                EndInfo {
                    disposition: Disposition::Failed,
                    cause: "no_response".into(),
                    side: Side::System,
                    sip_status: None,
                },
            );
            return Err(OriginateError::NoAnswer);
        };
        let status = u16::from(resp.status_code.clone());
        if !(200..300).contains(&status) {
            let disposition = disposition_for(status);
            self.end_leg(
                &leg,
                EndInfo {
                    disposition,
                    cause: cause_for(status).into(),
                    side: Side::Callee,
                    sip_status: Some(status),
                },
            );
            return Err(OriginateError::Refused {
                status,
                disposition,
            });
        }
        if leg.phase() == Phase::Ended {
            // Hung up (by us) while the INVITE was under way.
            let _ = dialog.bye().await;
            return Err(OriginateError::NoAnswer);
        }
        let answer = std::str::from_utf8(&resp.body).ok().map(sdp::parse);
        let negotiated = match answer {
            Some(Ok(a)) => sdp::read_answer(&a, CODECS).ok(),
            _ => None,
        };
        let Some(n) = negotiated else {
            self.end_leg(
                &leg,
                EndInfo {
                    disposition: Disposition::Failed,
                    cause: "bad_sdp_answer".into(),
                    side: Side::System,
                    sip_status: Some(status),
                },
            );
            let _ = dialog.bye().await;
            return Err(OriginateError::Sip("no usable SDP answer".into()));
        };
        // The dialog's id gained the far end's tag: the leg is still found by (Call-ID, our tag).
        leg.media.apply(&n);
        *leg.sip.negotiated.lock() = Some(n);
        {
            let mut st = leg.status.lock();
            st.phase = Phase::Answered;
            st.answered_at = Some(Utc::now());
        }
        while ended.try_recv().is_ok() {}
        leg.emit(CallEvent::Answered);
        Ok(Call { leg })
    }
}

/// Ends both legs of a pair when either ends, and closes their room. A leg moved to another room in
/// the meantime (a transfer) is left alone.
pub(crate) async fn follow(a: Call, b: Call, room: Room) {
    let other = tokio::select! {
        _ = a.wait_ended() => b,
        _ = b.wait_ended() => a,
    };
    if other.leg.status.lock().room == Some(room.id()) {
        let _ = other.hangup().await;
    }
    room.close();
}

fn disposition_for(status: u16) -> Disposition {
    match status {
        486 | 600 => Disposition::Busy,
        408 | 480 => Disposition::NoAnswer,
        487 => Disposition::Cancelled,
        603 | 403 | 404 | 488 => Disposition::Rejected,
        _ => Disposition::Failed,
    }
}

fn cause_for(status: u16) -> &'static str {
    match status {
        486 | 600 => "user_busy",
        408 | 480 => "no_answer",
        487 => "originator_cancel",
        603 => "call_rejected",
        404 => "unallocated_number",
        403 => "forbidden",
        488 => "incompatible_destination",
        503 => "service_unavailable",
        _ => "failure",
    }
}

fn end_info(leg: &Leg, reason: &TerminatedReason) -> EndInfo {
    let inbound = leg.info.direction == Direction::Inbound;
    // rsipstack names sides by who sent the INVITE (UAC) and who received it (UAS).
    let (uac, uas) = (Side::Caller, Side::Callee);
    let answered = leg.status.lock().answered_at.is_some();
    let answered_or = |d: Disposition| if answered { Disposition::Answered } else { d };
    match reason {
        TerminatedReason::UacCancel => EndInfo {
            disposition: Disposition::Cancelled,
            cause: "originator_cancel".into(),
            side: uac,
            sip_status: Some(487),
        },
        TerminatedReason::UacBye => EndInfo {
            disposition: answered_or(Disposition::Cancelled),
            cause: "normal_clearing".into(),
            side: uac,
            sip_status: None,
        },
        TerminatedReason::UasBye => EndInfo {
            disposition: answered_or(Disposition::Failed),
            cause: "normal_clearing".into(),
            side: uas,
            sip_status: None,
        },
        TerminatedReason::Timeout => EndInfo {
            disposition: answered_or(if inbound {
                Disposition::Failed
            } else {
                Disposition::NoAnswer
            }),
            cause: "timeout".into(),
            side: Side::System,
            sip_status: Some(408),
        },
        TerminatedReason::UacBusy | TerminatedReason::UasBusy => EndInfo {
            disposition: Disposition::Busy,
            cause: "user_busy".into(),
            side: uas,
            sip_status: Some(486),
        },
        TerminatedReason::UasDecline => EndInfo {
            disposition: Disposition::Rejected,
            cause: "call_rejected".into(),
            side: uas,
            sip_status: Some(603),
        },
        TerminatedReason::ProxyError(code)
        | TerminatedReason::UacOther(code)
        | TerminatedReason::UasOther(code) => {
            let status = u16::from(code.clone());
            EndInfo {
                disposition: answered_or(disposition_for(status)),
                cause: cause_for(status).into(),
                side: if matches!(reason, TerminatedReason::UacOther(_)) {
                    uac
                } else {
                    uas
                },
                sip_status: Some(status),
            }
        }
        TerminatedReason::ProxyAuthRequired => EndInfo {
            disposition: Disposition::Failed,
            cause: "authentication_required".into(),
            side: uas,
            sip_status: Some(407),
        },
    }
}

/// The most a SIP message may have (rsipstack's TCP frame limit).
const MAX_MESSAGE: usize = 65_535;
/// What rsipstack reads of a datagram; a longer one would arrive cut.
const MAX_DATAGRAM: usize = 8_192;

/// The SIP UDP socket, on a port that is free for TCP too: rsipstack binds the TCP listener later, in a
/// task of its own, and only logs it when that fails. With port 0, ports are tried until one is free
/// for both.
fn bind_sip(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind(addr)?;
        match std::net::TcpListener::bind(udp.local_addr()?) {
            Ok(_probe) => return Ok(udp),
            Err(e) if addr.port() != 0 => return Err(e),
            Err(_) => continue,
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no port free for both SIP over UDP and TCP",
    ))
}

/// Why a parsed request is refused before anything looks at it.
fn malformed(req: &rsipstack::sip::Request) -> Option<(StatusCode, &'static str)> {
    if req.version != rsipstack::sip::Version::V2 {
        return Some((StatusCode::VersionNotSupported, "only SIP/2.0"));
    }
    let content_length = req.headers.iter().find_map(|h| match h {
        Header::ContentLength(v) => Some(v.value().trim().to_string()),
        _ => None,
    });
    if let Some(v) = content_length
        && v.parse::<usize>().ok() != Some(req.body.len())
    {
        return Some((
            StatusCode::BadRequest,
            "Content-Length does not match the body",
        ));
    }
    match req.cseq_header().and_then(|c| c.method()) {
        Ok(m) if m == req.method => {}
        _ => return Some((StatusCode::BadRequest, "CSeq does not match the request")),
    }
    if req
        .headers
        .iter()
        .any(|h| h.value().bytes().any(|b| b < 0x20 && b != b'\t'))
    {
        return Some((StatusCode::BadRequest, "control character in a header"));
    }
    let size: usize = req
        .headers
        .iter()
        .map(|h| h.name().len() + h.value().len() + 4)
        .sum::<usize>()
        + req.body.len();
    if size > MAX_MESSAGE {
        return Some((StatusCode::MessageTooLarge, "message too large"));
    }
    None
}

/// The SIP UDP socket as rsipstack sees it: datagrams longer than rsipstack reads are dropped (they
/// would arrive cut), and a `received` parameter in a request's top Via is removed (only we set it;
/// rsipstack keeps a forged one when sent-by matches the source, and replies go there).
struct GuardedUdp(tokio::net::UdpSocket);

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for GuardedUdp {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        let mut datagram = vec![0u8; 65_536];
        loop {
            let (n, from) = self.0.recv_from(&mut datagram).await?;
            if n > buf.len().min(MAX_DATAGRAM) {
                tracing::debug!(%from, bytes = n, "datagram too large, dropped");
                continue;
            }
            let clean = strip_top_via_received(&datagram[..n]);
            buf[..clean.len()].copy_from_slice(&clean);
            return Ok((clean.len(), from));
        }
    }
    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.0.send_to(buf, addr).await?)
    }
    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.0.local_addr()?)
    }
}

/// A request with `;received=...` taken out of its first Via value.
fn strip_top_via_received(msg: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    if msg.starts_with(b"SIP/") {
        return Cow::Borrowed(msg);
    }
    let head_end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(msg.len());
    let mut start = 0;
    while start < head_end {
        let end = msg[start..head_end]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head_end, |p| start + p);
        let line = &msg[start..end];
        let is_via = line.len() > 2
            && (line[..4.min(line.len())].eq_ignore_ascii_case(b"via:")
                || line[..2].eq_ignore_ascii_case(b"v:"));
        if is_via {
            let value_end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
            let lower = line[..value_end].to_ascii_lowercase();
            let Some(at) = lower.windows(10).position(|w| w == b";received=") else {
                return Cow::Borrowed(msg);
            };
            let stop = line[at + 1..value_end]
                .iter()
                .position(|&b| b == b';' || b == b' ')
                .map_or(value_end, |p| at + 1 + p);
            let mut out = msg[..start + at].to_vec();
            out.extend_from_slice(&msg[start + stop..]);
            return Cow::Owned(strip_top_via_received(&out).into_owned());
        }
        start = end + 2;
    }
    Cow::Borrowed(msg)
}

/// `<sip:a@b>;expires=60, <sip:c@d>` → the two contacts (commas inside <> or quotes kept).
pub(crate) fn split_contacts(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                let part = value[start..i].trim();
                if !part.is_empty() {
                    out.push(part.to_string());
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = value[start..].trim();
    if !last.is_empty() {
        out.push(last.to_string());
    }
    out
}

/// A contact's URI and its `expires` parameter.
pub(crate) fn split_contact(c: &str) -> (String, Option<u32>) {
    // The `<` that opens the URI is the first one outside a quoted display name.
    let mut quoted = false;
    let open = c.char_indices().find_map(|(i, ch)| match ch {
        '"' => {
            quoted = !quoted;
            None
        }
        '<' if !quoted => Some(i),
        _ => None,
    });
    let close = open.and_then(|a| c[a..].find('>').map(|b| a + b));
    let (uri, params) = match (open, close) {
        (Some(a), Some(b)) => (c[a + 1..b].to_string(), &c[b + 1..]),
        _ => match c.split_once(';') {
            Some((u, p)) => (u.trim().to_string(), p),
            None => (c.trim().to_string(), ""),
        },
    };
    let expires = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("expires"))
        .and_then(|(_, v)| v.trim().parse().ok());
    (uri, expires)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_parts_of_header_values() {
        assert_eq!(
            uri_user("\"张三\" <sip:8001@127.0.0.1:5060>;tag=abc").as_deref(),
            Some("8001")
        );
        assert_eq!(
            uri_user("<sip:96777@127.0.0.1;user=phone>").as_deref(),
            Some("96777")
        );
        assert_eq!(uri_user("sip:8001:secret@host").as_deref(), Some("8001"));
        assert_eq!(uri_user("<sip:127.0.0.1>"), None);
        assert_eq!(uri_user("garbage"), None);
        // Regression (found by the corpus mutations): an empty user before a password gave Some("").
        assert_eq!(uri_user("<sip::secret@host>"), None);
    }

    #[test]
    fn contacts_split_and_expires_read() {
        let v = split_contacts(
            "<sip:8001@127.0.0.1:5070;transport=udp>;expires=60, \"A, B\" <sip:8001@10.0.0.1>",
        );
        assert_eq!(v.len(), 2);
        assert_eq!(
            split_contact(&v[0]),
            (
                "sip:8001@127.0.0.1:5070;transport=udp".to_string(),
                Some(60)
            )
        );
        assert_eq!(
            split_contact(&v[1]),
            ("sip:8001@10.0.0.1".to_string(), None)
        );
        assert_eq!(
            split_contact("sip:a@b;expires=0"),
            ("sip:a@b".to_string(), Some(0))
        );
    }

    /// Regression (found by the corpus mutations): `Contact: , <sip:...>` gave an empty contact.
    #[test]
    fn empty_entries_in_a_contact_list_are_skipped() {
        assert_eq!(
            split_contacts(" , <sip:a@b>,,"),
            vec!["<sip:a@b>".to_string()]
        );
    }

    /// Regression (found by the corpus mutations): a `>` inside a quoted display name was taken for
    /// the end of the URI, and the whole header became the contact.
    #[test]
    fn a_quoted_display_name_with_angle_brackets_does_not_end_the_uri() {
        assert_eq!(
            split_contact("\"张三 <> \" <sip:8001@127.0.0.1:5060>;expires=30"),
            ("sip:8001@127.0.0.1:5060".to_string(), Some(30))
        );
    }

    #[test]
    fn failure_statuses_map_to_dispositions() {
        assert_eq!(disposition_for(486), Disposition::Busy);
        assert_eq!(disposition_for(480), Disposition::NoAnswer);
        assert_eq!(disposition_for(487), Disposition::Cancelled);
        assert_eq!(disposition_for(603), Disposition::Rejected);
        assert_eq!(disposition_for(500), Disposition::Failed);
    }
}
