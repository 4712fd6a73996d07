//! kefu's HTTP surface: the JSON API under `/api/v1`, its OpenAPI document and viewer, health and
//! metrics endpoints, and the embedded web app.
//!
//! Architecture invariants:
//! - This crate is the only one that knows wire formats: DTOs here, domain and store types elsewhere.
//! - Every API route has a rule in [`access::RULES`]; the guard refuses routes without one.
//! - Every error leaves as RFC 9457 problem+json (see [`problem`]); extractors never answer in plain text.

pub mod access;
pub mod agents;
mod attachments;
mod audit;
pub mod auth;
mod calls;
mod customers;
pub mod imports;
mod ivr;
pub mod kb;
mod notifications;
mod org;
pub mod problem;
pub mod prompts;
mod queues;
// ACD records (store helper): recordings, agents' tasks, webhooks
mod recordings;
mod tasks;
pub mod telephony;
mod web;
mod webhooks;
mod wo_config;
mod workorders;

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{FixedOffset, NaiveDate, TimeDelta, Utc};
use kefu_domain::{AreaCode, LoginThrottle, ThrottlePolicy};
use kefu_store::{PageRequest, Store};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Deserializer, Serialize};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use crate::customers::{CustomerInput, parse_customer};
use crate::problem::{ApiError, ApiResult};
pub use crate::telephony::{ActiveCallView, LiveTelephony, RegistrationView, digest_secrets};

/// Deployment settings the API needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Area code given to local landline numbers without one.
    pub area: AreaCode,
    /// The deployment's time zone, for "today" (bills due, overdue).
    pub utc_offset: FixedOffset,
    pub session_ttl: TimeDelta,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    pub max_json_bytes: usize,
    pub max_import_bytes: usize,
    pub login_throttle: ThrottlePolicy,
    /// The SIP digest realm: extension and trunk passwords are stored as hashes of
    /// `username:realm:password`, so changing it needs every SIP password set again.
    pub sip_realm: String,
    /// Largest work-order attachment (photos, documents), in bytes.
    pub max_attachment_bytes: usize,
    /// The company name printed at the top of a work order.
    pub company_name: String,
    /// Where the CJK fonts for printed work orders are; empty: the system's font directories.
    pub font_paths: Vec<std::path::PathBuf>,
    /// The IVR's prompts: the generated system set (`<dir>/<language>/<key>.wav`) and admins'
    /// recordings written for the telephony runtime (`<dir>/custom/…`).
    pub prompts_dir: std::path::PathBuf,
    // ACD records (store helper)
    /// Where the ACD writes call recordings (recordings' paths are relative to it): the telephony
    /// engine's `recordings_dir` (`<data_dir>/recordings` by default).
    pub recordings_dir: std::path::PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            area: AreaCode::default(),
            utc_offset: FixedOffset::east_opt(8 * 3600).expect("UTC+8"),
            session_ttl: TimeDelta::hours(12),
            secure_cookies: false,
            max_json_bytes: 256 * 1024,
            max_import_bytes: 200 * 1024 * 1024,
            login_throttle: ThrottlePolicy::default(),
            sip_realm: "kefu".into(),
            max_attachment_bytes: 10 * 1024 * 1024,
            company_name: "宁波燃气集团 客户服务中心".into(),
            font_paths: Vec::new(),
            prompts_dir: std::path::PathBuf::from("assets/prompts"),
            // ACD records (store helper)
            recordings_dir: std::path::PathBuf::from("data/recordings"),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    throttle: Arc<Mutex<LoginThrottle>>,
    imports: Arc<imports::RunningImports>,
    dummy_hash: String,
    /// The running SIP engine, once the binary has plugged it in; shared by every clone of the state.
    telephony: Arc<RwLock<Option<Arc<dyn LiveTelephony>>>>,
    /// Live notification push (one outbox poller per process).
    hub: Arc<notifications::Hub>,
    /// CJK fonts for printing, loaded on first use.
    fonts: Arc<OnceLock<Result<kefu_print::Fonts, String>>>,
    /// The running ACD, once the binary has plugged it in.
    acd: Arc<RwLock<Option<Arc<dyn agents::AcdControl>>>>,
    /// The knowledge base's search index, once the binary has plugged it in.
    kb: Arc<RwLock<Option<Arc<dyn kb::KbSearch>>>>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> AppState {
        AppState {
            store,
            throttle: Arc::new(Mutex::new(LoginThrottle::new(
                settings.login_throttle.clone(),
            ))),
            settings: Arc::new(settings),
            imports: Arc::default(),
            dummy_hash: auth::hash_password("kefu-dummy-password-for-timing"),
            telephony: Arc::default(),
            hub: Arc::default(),
            fonts: Arc::default(),
            acd: Arc::default(),
            kb: Arc::default(),
        }
    }

    /// Tells the live notification push that this process just committed notifications.
    pub fn notify_changed(&self) {
        self.hub.poke();
    }

    /// The fonts for printed work orders (loaded once; an error says what to install).
    pub(crate) fn fonts(&self) -> Result<kefu_print::Fonts, String> {
        self.fonts
            .get_or_init(|| {
                let loaded = if self.settings.font_paths.is_empty() {
                    kefu_print::Fonts::system()
                } else {
                    kefu_print::Fonts::load(&self.settings.font_paths)
                };
                loaded.map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The state with the running SIP engine plugged in (registrations, live calls).
    pub fn with_telephony(self, engine: Arc<dyn LiveTelephony>) -> AppState {
        self.set_telephony(engine);
        self
    }

    /// Plugs in (or replaces) the SIP engine; seen at once by every clone of this state, so it can
    /// happen after the router is built.
    pub fn set_telephony(&self, engine: Arc<dyn LiveTelephony>) {
        *self.telephony.write().expect("telephony lock") = Some(engine);
    }

    /// The SIP engine, if one is running.
    pub fn telephony(&self) -> Option<Arc<dyn LiveTelephony>> {
        self.telephony.read().expect("telephony lock").clone()
    }

    /// Plugs in the running ACD (agents' states and calls, CTI).
    pub fn set_acd(&self, acd: Arc<dyn agents::AcdControl>) {
        *self.acd.write().expect("acd lock") = Some(acd);
    }

    /// The ACD, if one is running.
    pub fn acd(&self) -> Option<Arc<dyn agents::AcdControl>> {
        self.acd.read().expect("acd lock").clone()
    }

    /// Today in the deployment's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now()
            .with_timezone(&self.settings.utc_offset)
            .date_naive()
    }
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

pub(crate) struct PageParams {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl PageParams {
    pub fn request(self) -> ApiResult<PageRequest> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 || page > 1_000_000 {
            return Err(ApiError::field("page", "must be between 1 and 1000000"));
        }
        if per_page == 0 || per_page > PageRequest::MAX_PER_PAGE {
            return Err(ApiError::field(
                "per_page",
                format!("must be between 1 and {}", PageRequest::MAX_PER_PAGE),
            ));
        }
        Ok(PageRequest { page, per_page })
    }
}

/// A trimmed free-text field of `min..=max` characters, or a 422 naming it.
pub(crate) fn bounded(field: &str, s: &str, min: usize, max: usize) -> ApiResult<String> {
    kefu_domain::bounded_text(s, min, max).map_err(|e| ApiError::field(field, e.reason))
}

/// For PATCH fields that cannot be cleared: absent is `None`, and an explicit `null` is refused (422
/// naming the field) rather than taken for "leave unchanged".
pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// For PATCH: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "kefu API", description = "kefu 客服 contact-center platform: organization, users, customers, billing data, imports, audit, telephony configuration and call records. Sign in with POST /api/v1/auth/login, then send the session cookie or `Authorization: Bearer <token>`. Errors are RFC 9457 application/problem+json."),
    tags(
        (name = "auth", description = "Sign-in, own account, API tokens"),
        (name = "organization", description = "Units (departments and sites), roles, users"),
        (name = "customers", description = "Customers, caller-ID lookup, bills and payments"),
        (name = "imports", description = "Importing billing-system files"),
        (name = "audit", description = "The audit log"),
        (name = "telephony", description = "Extensions (phones), SIP trunks, called-number routes, registrations"),
        (name = "calls", description = "Call records and calls in progress"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(problem::Problem))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(access::SESSION_COOKIE))),
        );
        api.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The API routes with their OpenAPI document, not yet guarded.
fn api_routes(settings: &Settings) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(imports::start, imports::list))
        .layer(DefaultBodyLimit::max(settings.max_import_bytes));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        // ACD: agents, their calls, supervisors, wallboard, CTI
        .routes(routes!(agents::list, agents::create))
        .routes(routes!(agents::update))
        .routes(routes!(agents::get_me))
        .routes(routes!(agents::login))
        .routes(routes!(agents::logout))
        .routes(routes!(agents::set_state))
        .routes(routes!(agents::force_state))
        .routes(routes!(agents::state_log))
        .routes(routes!(agents::reasons))
        .routes(routes!(agents::my_calls))
        .routes(routes!(agents::command))
        .routes(routes!(agents::listen))
        .routes(routes!(agents::whisper))
        .routes(routes!(agents::barge))
        .routes(routes!(agents::wallboard))
        .routes(routes!(agents::report_queues))
        .routes(routes!(agents::cti))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::list_tokens, auth::create_token))
        .routes(routes!(auth::revoke_token))
        .routes(routes!(org::list_units, org::create_unit))
        .routes(routes!(org::update_unit))
        .routes(routes!(org::list_roles))
        .routes(routes!(org::list_users, org::create_user))
        .routes(routes!(org::get_user, org::update_user))
        .routes(routes!(org::reset_password))
        .routes(routes!(customers::search, customers::create))
        .routes(routes!(customers::by_phone))
        .routes(routes!(customers::detail, customers::update))
        .routes(routes!(customers::record_payment))
        .routes(routes!(imports::get))
        .routes(routes!(audit::list))
        .routes(routes!(
            telephony::list_extensions,
            telephony::create_extension
        ))
        .routes(routes!(
            telephony::get_extension,
            telephony::update_extension,
            telephony::delete_extension
        ))
        .routes(routes!(telephony::set_extension_password))
        .routes(routes!(telephony::list_trunks, telephony::create_trunk))
        .routes(routes!(
            telephony::get_trunk,
            telephony::update_trunk,
            telephony::delete_trunk
        ))
        .routes(routes!(telephony::list_routes, telephony::create_route))
        .routes(routes!(
            telephony::get_route,
            telephony::update_route,
            telephony::delete_route
        ))
        .routes(routes!(telephony::registrations))
        .routes(routes!(calls::list))
        .routes(routes!(telephony::active_calls))
        .routes(routes!(calls::get))
        .routes(routes!(
            wo_config::list_calendars,
            wo_config::create_calendar
        ))
        .routes(routes!(wo_config::get_calendar, wo_config::update_calendar))
        .routes(routes!(wo_config::list_types, wo_config::create_type))
        .routes(routes!(wo_config::get_type, wo_config::update_type))
        .routes(routes!(ivr::list_flows, ivr::create_flow))
        .routes(routes!(ivr::import))
        .routes(routes!(ivr::get_flow))
        .routes(routes!(ivr::list_versions, ivr::save_version))
        .routes(routes!(ivr::get_version))
        .routes(routes!(ivr::publish))
        .routes(routes!(ivr::funnel))
        .routes(routes!(ivr::validate))
        .routes(routes!(ivr::known))
        .routes(routes!(ivr::traces))
        .routes(routes!(ivr::start_simulation))
        .routes(routes!(ivr::simulation_input))
        .routes(routes!(workorders::list, workorders::create))
        .routes(routes!(workorders::export))
        .routes(routes!(workorders::by_no))
        .routes(routes!(workorders::get, workorders::update))
        .routes(routes!(workorders::act))
        .routes(routes!(workorders::pdf))
        .routes(routes!(workorders::status_query))
        .routes(routes!(workorders::customer_urge))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(notifications::read_all))
        .routes(routes!(notifications::ws))
        .routes(routes!(
            notifications::list_filters,
            notifications::save_filter
        ))
        .routes(routes!(notifications::delete_filter))
        .routes(routes!(attachments::download))
        .routes(routes!(queues::list_queues, queues::create_queue))
        .routes(routes!(queues::update_queue))
        // ACD records (store helper): recordings, agents' tasks, webhooks
        .routes(routes!(recordings::list))
        .routes(routes!(recordings::audio))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::update))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::update, webhooks::delete))
        .routes(routes!(queues::list_documents, queues::create_document))
        .routes(routes!(queues::update_document))
        .routes(routes!(queues::list_outbound))
        .routes(routes!(queues::list_surveys))
        .layer(DefaultBodyLimit::max(settings.max_json_bytes))
        .merge(uploads)
        .routes(routes!(prompts::list, prompts::create))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(prompts::listen, prompts::upload, prompts::delete))
                // The handler reads the body itself (at most MAX_PROMPT_BYTES, 413 beyond); this
                // lets a multipart envelope of that size through.
                .layer(DefaultBodyLimit::max(prompts::MAX_PROMPT_BYTES + 64 * 1024)),
        )
        .merge(kb_routes())
        .merge(
            OpenApiRouter::new()
                .routes(routes!(attachments::upload))
                // The multipart envelope on top of the largest file.
                .layer(DefaultBodyLimit::max(
                    settings.max_attachment_bytes + 64 * 1024,
                )),
        )
}

/// The knowledge base's routes, with their own body limits: article bodies up to 256 KiB of
/// Markdown (checked by field, so the JSON may be larger), attachments up to 20 MiB, archives.
fn kb_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(kb::list_categories, kb::create_category))
                .routes(routes!(kb::update_category, kb::delete_category))
                .routes(routes!(kb::list_articles, kb::create_article))
                .routes(routes!(kb::get_article, kb::update_article))
                .routes(routes!(kb::submit))
                .routes(routes!(kb::approve))
                .routes(routes!(kb::reject))
                .routes(routes!(kb::archive))
                .routes(routes!(kb::publish))
                .routes(routes!(kb::versions))
                .routes(routes!(kb::get_version))
                .routes(routes!(kb::diff))
                .routes(routes!(kb::restore))
                .routes(routes!(kb::download_attachment, kb::delete_attachment))
                .routes(routes!(kb::search))
                .routes(routes!(kb::suggest))
                .routes(routes!(kb::click))
                .routes(routes!(kb::vote))
                .routes(routes!(kb::add_favorite, kb::remove_favorite))
                .routes(routes!(kb::favorites))
                .routes(routes!(kb::hot))
                .routes(routes!(kb::no_results))
                .routes(routes!(kb::get_synonyms, kb::put_synonyms))
                .routes(routes!(kb::public_search))
                .routes(routes!(kb::public_suggest))
                .routes(routes!(kb::public_article))
                .routes(routes!(kb::export))
                .layer(DefaultBodyLimit::max(kb::MAX_ARTICLE_JSON_BYTES)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(kb::import))
                .layer(DefaultBodyLimit::max(kb::MAX_ARCHIVE_BYTES + 64 * 1024)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(kb::upload_attachment))
                // The multipart envelope on top of the largest file; the handler answers 413 on
                // field `file` beyond the file limit.
                .layer(DefaultBodyLimit::max(kb::MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
}

/// The OpenAPI document of the API (also served at `/api/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes(&Settings::default()).split_for_parts().1
}

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0])
                .expect("static buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only kefu's own handle");
            }
            handle
        })
        .clone()
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api_routes(&state.settings).split_for_parts();
    let api = api.route_layer(from_fn_with_state(state.clone(), access::guard));
    let metrics = metrics_handle();
    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || std::future::ready(metrics.render())))
        .fallback(web::serve)
        .with_state(state)
        .layer(from_fn(http_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer")))
}

async fn readyz(State(app): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => "ready".into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}

async fn http_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("kefu_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("kefu_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
