//! The black-box harness: the real application on a random loopback port with a fresh database
//! (SQLite by default; PostgreSQL for the tests that run on both), seeded with a small demo tenant.

use std::net::SocketAddr;

use kefu_store::testing::TestDatabase;
use kefu_store::{Backend, Store};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub const PASSWORD: &str = kefu_demo::DEMO_PASSWORD;
/// Demo customers in a test tenant: enough to search, few enough to seed fast.
pub const CUSTOMERS: usize = 60;

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub state: kefu_api::AppState,
    pub client: Client,
    server: tokio::task::JoinHandle<()>,
    db: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Backend::Sqlite, kefu_api::Settings::default()).await
    }

    pub async fn spawn_with(backend: Backend, settings: kefu_api::Settings) -> TestApp {
        TestApp::spawn_full(backend, settings, None).await
    }

    /// With a SIP engine (a fake, in tests) plugged in, or none.
    pub async fn spawn_full(
        backend: Backend,
        settings: kefu_api::Settings,
        telephony: Option<std::sync::Arc<dyn kefu_api::LiveTelephony>>,
    ) -> TestApp {
        let db = TestDatabase::new(backend).await;
        let store = Store::connect(&db.url).await.expect("connect");
        let mut state = kefu_api::AppState::new(store.clone(), settings);
        if let Some(t) = telephony {
            state = state.with_telephony(t);
        }
        kefu::seed::demo(&store, state.today(), CUSTOMERS)
            .await
            .expect("seed demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let app = kefu_api::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            addr,
            store,
            state,
            client,
            server,
            db: Some(db),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request with no credential.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Signs in and returns the bearer token.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .anon(Method::POST, "/api/v1/auth/login")
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn as_token(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// Stops the server and drops the database.
    pub async fn stop(mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
        self.store.clone().close().await.ok();
        if let Some(db) = self.db.take() {
            db.drop_now().await;
        }
    }

    /// All audit entries so far. Read from the store: signing in to read it through the API would itself
    /// add an entry, so two readings around a rejected request would never compare equal.
    pub async fn audit_total(&self) -> u64 {
        let page = kefu_store::PageRequest {
            page: 1,
            per_page: 1,
        };
        self.store
            .audit_entries(&kefu_store::AuditQuery::default(), page)
            .await
            .unwrap()
            .total
    }
}

/// Asserts `r` is a problem+json with `status`, and returns its body.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"].as_u64(), Some(status.as_u16() as u64));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

/// The field names of a 422 problem's `errors`.
pub fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn customer_json(no: &str) -> Value {
    serde_json::json!({
        "customer_no": no,
        "name": "测试客户",
        "phones": ["13912340000"],
        "address": "宁波市江北区人民路1号",
        "district": "江北区",
        "service_type": "pipeline",
        "notice_preference": "sms",
    })
}

/// Settings whose login throttle never gets in the way (for tests that fail sign-ins on purpose).
pub fn lenient() -> kefu_api::Settings {
    kefu_api::Settings {
        login_throttle: kefu_domain::ThrottlePolicy {
            free_failures: 1000,
            lockout_after: 1000,
            ..Default::default()
        },
        ..Default::default()
    }
}

impl TestApp {
    pub async fn spawn_settings(settings: kefu_api::Settings) -> TestApp {
        TestApp::spawn_with(Backend::Sqlite, settings).await
    }

    /// `method path` with a JSON body, as `token`.
    pub async fn send(&self, token: &str, method: Method, path: &str, body: &Value) -> Response {
        self.as_token(token, method, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// GET `path` as `token`, asserting 200, and returns the JSON body.
    pub async fn get(&self, token: &str, path: &str) -> Value {
        let r = self
            .as_token(token, Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    /// Customers in the database (read from the store, not through the API).
    pub async fn customer_count(&self) -> u64 {
        self.store.customer_count().await.unwrap()
    }

    /// Audit entries matching `query` (e.g. `action=customer.create`), newest first, as the auditor.
    pub async fn audit(&self, query: &str) -> Vec<Value> {
        let auditor = self.login("auditor").await;
        let page = self
            .get(&auditor, &format!("/api/v1/audit?per_page=200&{query}"))
            .await;
        page["items"].as_array().unwrap().clone()
    }

    /// Polls an import job until it has finished (or a generous deadline passes) and returns it.
    pub async fn wait_import(&self, token: &str, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let job = self.get(token, &format!("/api/v1/imports/{id}")).await;
            if job["status"] == "succeeded" || job["status"] == "failed" {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "import {id} did not finish: {job}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Uploads `body` as an import of `kind` (query string `extra` appended) and returns the response.
    pub async fn upload(
        &self,
        token: &str,
        kind: &str,
        extra: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        self.as_token(
            token,
            Method::POST,
            &format!("/api/v1/imports?kind={kind}{extra}"),
        )
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
    }
}

/// The field and reason of each error of a 422 problem.
pub fn field_reasons(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_string(),
                        e["reason"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// How many audit entries have this action, read from the store (no sign-in, so usable while the
    /// login throttle is closed).
    pub async fn audit_count(&self, action: &str) -> u64 {
        let q = kefu_store::AuditQuery {
            action: Some(action.to_string()),
            ..Default::default()
        };
        let page = kefu_store::PageRequest {
            page: 1,
            per_page: 1,
        };
        self.store.audit_entries(&q, page).await.unwrap().total
    }
}
