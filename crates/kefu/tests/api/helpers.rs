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
    pub client: Client,
    server: tokio::task::JoinHandle<()>,
    db: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Backend::Sqlite, kefu_api::Settings::default()).await
    }

    pub async fn spawn_with(backend: Backend, settings: kefu_api::Settings) -> TestApp {
        let db = TestDatabase::new(backend).await;
        let store = Store::connect(&db.url).await.expect("connect");
        let state = kefu_api::AppState::new(store.clone(), settings);
        kefu::seed::demo(&store, state.today(), CUSTOMERS)
            .await
            .expect("seed demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let app = kefu_api::app(state).into_make_service_with_connect_info::<SocketAddr>();
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

    pub async fn audit_total(&self) -> u64 {
        let admin = self.login("admin").await;
        let r: Value = self
            .as_token(&admin, Method::GET, "/api/v1/audit?per_page=1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The admin's own sign-in above is one entry: leave it out.
        r["total"].as_u64().unwrap() - 1
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
