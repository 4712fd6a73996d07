//! A person's own things around work orders: the notification center (list, read marks, and a
//! WebSocket that pushes new notifications live) and their saved work-order list filters.
//!
//! Live push, and why it also works with several kefu nodes on one PostgreSQL: notifications are rows
//! of the outbox, written by whichever node made the change. Each process runs at most one poller
//! (started by the first open socket, stopped when the last one closes) that every 500 ms — or at once
//! when this process committed notifications ([`crate::AppState::notify_changed`]) — reads the web
//! rows of the people connected to it over the last [`WINDOW`] (an index probe per person), sends the
//! rows it has not sent yet through a broadcast channel to the sockets, and marks them `delivered_at`.
//! Reading a window instead of "after the last row seen" catches a row whose transaction committed
//! after a newer row's; rows are sent once per process (a set of sent ids covers the window).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use kefu_domain::{NotificationId, UserId};
use kefu_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, broadcast};
use utoipa::{IntoParams, ToSchema};

use crate::access::{Caller, Principal};
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageParams};

#[derive(Serialize, Clone, ToSchema)]
pub struct Notification {
    pub id: uuid::Uuid,
    /// work_order.dispatched, work_order.urged, work_order.escalated …
    pub event: String,
    pub work_order_id: Option<uuid::Uuid>,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    /// When the person read it; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<kefu_store::Notification> for Notification {
    fn from(n: kefu_store::Notification) -> Notification {
        Notification {
            id: n.id.0,
            event: n.event,
            work_order_id: n.work_order_id,
            title: n.title,
            body: n.body,
            payload: n.payload,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub total: u64,
    /// All of the caller's unread notifications, whatever the page shows.
    pub unread: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only the unread ones.
    pub unread: Option<bool>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// The caller's notifications, newest first, with their unread count.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(ListParams),
    responses((status = 200, body = NotificationPage), (status = 422, body = crate::problem::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<NotificationPage>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let found = app
        .store
        .notifications(caller.principal.user.id, p.unread.unwrap_or(false), page)
        .await?;
    Ok(axum::Json(NotificationPage {
        items: found.page.items.into_iter().map(Into::into).collect(),
        total: found.page.total,
        unread: found.unread,
        page: found.page.page,
        per_page: found.page.per_page,
    }))
}

/// Marks one of the caller's notifications read (again: no change). Another person's is 404.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn read(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .mark_notification_read(caller.principal.user.id, NotificationId(id), Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", responses((status = 204)))]
pub async fn read_all(State(app): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    app.store
        .mark_all_notifications_read(caller.principal.user.id, Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How far back each poll looks: longer than a transaction that writes notifications takes to commit,
/// plus the clock difference between nodes.
pub const WINDOW: TimeDelta = TimeDelta::seconds(30);
/// How often the poller reads the outbox when nothing pokes it.
const POLL: Duration = Duration::from_millis(500);
/// Rows per read; a larger backlog is read in several.
const BATCH: u64 = 1000;
/// How often an open socket is pinged and its session checked.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// One notification on its way to its recipient's sockets.
struct Pushed {
    to: UserId,
    notification: Notification,
}

#[derive(Default)]
struct Online {
    /// Open sockets per person.
    sockets: HashMap<UserId, usize>,
    polling: bool,
}

/// The live push of one process: the poller, the broadcast channel to the sockets, and who is online.
pub(crate) struct Hub {
    tx: broadcast::Sender<Arc<Pushed>>,
    wake: Notify,
    online: Mutex<Online>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: broadcast::channel(1024).0,
            wake: Notify::new(),
            online: Mutex::default(),
        }
    }
}

/// An open socket, counted while it lives.
struct Connected {
    hub: Arc<Hub>,
    user: UserId,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut online = self.hub.online.lock().expect("online lock");
        if let Some(n) = online.sockets.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                online.sockets.remove(&self.user);
            }
        }
    }
}

impl Hub {
    /// Wakes the poller now (after this process committed notifications). Without a poller (no
    /// socket open) it does nothing but leave a permit.
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    /// Counts a socket of `user` as open, and starts the poller if it is not running.
    fn connect(self: &Arc<Self>, store: &Store, user: UserId) -> Connected {
        let mut online = self.online.lock().expect("online lock");
        *online.sockets.entry(user).or_default() += 1;
        if !online.polling {
            online.polling = true;
            tokio::spawn(poll(Arc::downgrade(self), store.clone()));
        }
        Connected {
            hub: self.clone(),
            user,
        }
    }
}

/// The poller: runs while anybody is connected (and the hub exists), then stops.
async fn poll(hub: Weak<Hub>, store: Store) {
    let mut sent: HashMap<NotificationId, DateTime<Utc>> = HashMap::new();
    let mut failures = 0u32;
    loop {
        let Some(hub) = hub.upgrade() else { return };
        let users: Vec<UserId> = {
            let mut online = hub.online.lock().expect("online lock");
            if online.sockets.is_empty() {
                online.polling = false;
                return;
            }
            online.sockets.keys().copied().collect()
        };
        let since = Utc::now() - WINDOW;
        match push_new(&hub, &store, &users, since, &mut sent).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "reading the notification outbox");
            }
        }
        sent.retain(|_, at| *at >= since);
        // Back off while the database fails (up to 10 s), so a lost database is not hammered.
        let pause = POLL * failures.clamp(1, 20);
        tokio::select! {
            _ = hub.wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// One poll: the rows of `users` since `since` not sent yet go to the sockets and are marked
/// delivered.
async fn push_new(
    hub: &Hub,
    store: &Store,
    users: &[UserId],
    since: DateTime<Utc>,
    sent: &mut HashMap<NotificationId, DateTime<Utc>>,
) -> kefu_store::Result<()> {
    let mut after = (since, NotificationId(uuid::Uuid::nil()));
    loop {
        let rows = store.web_notifications_after(users, after, BATCH).await?;
        let full = rows.len() as u64 == BATCH;
        if let Some(last) = rows.last() {
            after = (last.created_at, last.id);
        }
        let mut delivered = Vec::new();
        for n in rows {
            if sent.insert(n.id, n.created_at).is_some() {
                continue;
            }
            delivered.push(n.id);
            // No receiver: every socket closed since the read; the row stays undelivered.
            let _ = hub.tx.send(Arc::new(Pushed {
                to: n.recipient_id,
                notification: n.into(),
            }));
        }
        if !delivered.is_empty() {
            store
                .mark_notifications_delivered(&delivered, Utc::now())
                .await?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// A browser sends `Origin` with every WebSocket handshake; one naming another host is a cross-site
/// page trying to use the caller's session cookie (cross-site WebSocket hijacking).
fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    !origin_host.eq_ignore_ascii_case(host)
}

/// The WebSocket handshake of kefu's sockets: a session cookie from a cross-site page is refused
/// (403), a request that is no WebSocket handshake gets 426 with `Upgrade: websocket`.
pub(crate) fn websocket(
    headers: &HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<WebSocketUpgrade, Box<Response>> {
    let via_cookie = !headers.contains_key(header::AUTHORIZATION);
    if via_cookie && cross_site(headers) {
        return Err(Box::new(
            ApiError::forbidden("cross-site WebSocket refused").into_response(),
        ));
    }
    upgrade.map_err(|e| {
        let mut r = ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade-required",
            format!("connect with a WebSocket client: {}", e.body_text()),
        )
        .into_response();
        r.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        Box::new(r)
    })
}

/// Live notifications over a WebSocket, authenticated like every route (the session cookie, or a
/// bearer token for other clients; a cookie from a cross-site page is refused). The server sends
/// `{"type":"hello","unread":N}` on connect, then `{"type":"notification","notification":{…}}` for
/// each new notification of the caller, within about a second of its commit, and
/// `{"type":"resync"}` if the socket fell behind (reread the list). The socket closes (code 4401)
/// once the session ends.
#[utoipa::path(get, path = "/api/v1/notifications/ws", tag = "notifications",
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 426, body = crate::problem::Problem)))]
pub async fn ws(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = match websocket(&headers, upgrade) {
        Ok(u) => u,
        Err(refused) => return Ok(*refused),
    };
    let principal = caller.principal;
    Ok(upgrade
        // The page sends nothing but control frames.
        .max_message_size(4096)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve_socket(app, principal, socket).await {
                tracing::debug!(error = %e, "notification socket ended");
            }
        }))
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

async fn hello(store: &Store, me: UserId) -> kefu_store::Result<Message> {
    let unread = store.unread_notifications(me).await?;
    Ok(text(json!({"type": "hello", "unread": unread})))
}

/// Whether the session or token behind the socket is still good (not revoked or expired, user
/// active).
async fn still_valid(store: &Store, p: &Principal) -> bool {
    let now = Utc::now();
    match (
        store.credential(p.credential.id).await,
        store.user(p.user.id).await,
    ) {
        (Ok(c), Ok(u)) => {
            c.revoked_at.is_none() && c.expires_at.is_none_or(|e| e > now) && u.active
        }
        _ => false,
    }
}

async fn serve_socket(
    app: AppState,
    principal: Principal,
    mut socket: WebSocket,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let me = principal.user.id;
    let store = app.store.clone();
    // Subscribe before counting: a row committed from now on is either in the count below or pushed.
    let mut rx = app.hub.tx.subscribe();
    let _online = app.hub.connect(&store, me);
    let since = Utc::now() - WINDOW;
    let greeting = hello(&store, me).await?;
    // The recent rows already counted: the poller may push them once more (it reads a window).
    let mut counted: HashSet<uuid::Uuid> = store
        .web_notifications_after(&[me], (since, NotificationId(uuid::Uuid::nil())), 10_000)
        .await?
        .into_iter()
        .map(|n| n.id.0)
        .collect();
    socket.send(greeting).await?;
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok(p) if p.to == me => {
                    if counted.remove(&p.notification.id) {
                        continue;
                    }
                    socket
                        .send(text(json!({"type": "notification", "notification": p.notification})))
                        .await?;
                }
                Ok(_) => {}
                // Fell behind: the page rereads its list and count.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    socket.send(text(json!({"type": "resync"}))).await?
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(_)) => {}
            },
            _ = keepalive.tick() => {
                if !still_valid(&store, &principal).await {
                    let bye = CloseFrame { code: 4401, reason: "the session has ended: sign in again".into() };
                    socket.send(Message::Close(Some(bye))).await?;
                    return Ok(());
                }
                socket.send(Message::Ping(Default::default())).await?;
            }
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SavedFilter {
    pub id: uuid::Uuid,
    pub name: String,
    /// The list's query parameters, as saved.
    #[schema(value_type = Object)]
    pub query: Value,
    pub created_at: DateTime<Utc>,
}

impl From<kefu_store::SavedFilter> for SavedFilter {
    fn from(f: kefu_store::SavedFilter) -> SavedFilter {
        SavedFilter {
            id: f.id,
            name: f.name,
            query: f.query,
            created_at: f.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedFilter {
    /// 1-40 characters, unique per person.
    pub name: String,
    /// The work-order list's query parameters as the web app keeps them: a JSON object of at most
    /// 4 KB.
    #[schema(value_type = Object)]
    pub query: Map<String, Value>,
}

/// The largest saved query, as JSON text.
const MAX_QUERY_BYTES: usize = 4096;

/// The caller's saved work-order list filters, by name.
#[utoipa::path(get, path = "/api/v1/saved-filters", tag = "work orders", responses((status = 200, body = [SavedFilter])))]
pub async fn list_filters(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<SavedFilter>>> {
    let found = app.store.saved_filters(caller.principal.user.id).await?;
    Ok(axum::Json(found.into_iter().map(Into::into).collect()))
}

/// Saves a filter under a name (a name the caller already uses: 409).
#[utoipa::path(post, path = "/api/v1/saved-filters", tag = "work orders", request_body = NewSavedFilter,
    responses((status = 201, body = SavedFilter), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn save_filter(
    State(app): State<AppState>,
    caller: Caller,
    Json(f): Json<NewSavedFilter>,
) -> ApiResult<(StatusCode, axum::Json<SavedFilter>)> {
    let name = crate::bounded("name", &f.name, 1, 40)?;
    let query = Value::Object(f.query);
    if query.to_string().len() > MAX_QUERY_BYTES {
        return Err(ApiError::field(
            "query",
            format!("at most {MAX_QUERY_BYTES} bytes of JSON"),
        ));
    }
    let saved = app
        .store
        .create_saved_filter(&caller.actor, caller.principal.user.id, name, query)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// Deletes one of the caller's saved filters (another person's: 404).
#[utoipa::path(delete, path = "/api/v1/saved-filters/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_filter(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .delete_saved_filter(&caller.actor, caller.principal.user.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
