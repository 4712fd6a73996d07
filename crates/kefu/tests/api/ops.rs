//! Operations: health, readiness, metrics, the OpenAPI document and viewer, request ids, the web app's
//! fallback, and the real `kefu serve` process (demo seed, SIGTERM, configuration precedence).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    let r = app.anon(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = app.anon(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ready");

    let r = app
        .anon(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.anon(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("kefu_http_requests_total{")
                && l.contains("route=\"/api/v1/auth/me\"")
                && l.contains("status=\"401\"")
                && l.contains("method=\"GET\"")
        })
        .unwrap_or_else(|| panic!("no request counter for GET /api/v1/auth/me:\n{text}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{line}");
    assert!(
        text.contains("kefu_http_request_duration_seconds_bucket"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_and_its_offline_viewer() {
    let app = TestApp::spawn().await;
    let r = app
        .anon(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "kefu API");
    for path in [
        "/api/v1/customers",
        "/api/v1/customers/by-phone/{phone}",
        "/api/v1/auth/login",
        "/api/v1/imports",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/customers"].get("get").is_some());
    assert!(doc["paths"]["/api/v1/customers"].get("post").is_some());
    assert!(doc["components"]["schemas"].get("Problem").is_some());
    // The same document as `kefu openapi` prints.
    assert_eq!(doc, serde_json::to_value(kefu_api::openapi()).unwrap());

    let browser = reqwest::Client::new(); // follows redirects, like a browser
    let r = browser.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    let base = r.url().clone();
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Offline: every script and stylesheet comes from kefu itself.
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let target = piece.split('"').next().unwrap();
            assert!(
                !target.starts_with("http") && !target.starts_with("//"),
                "external asset {target}"
            );
            if target.ends_with(".js") || target.ends_with(".css") {
                let r = browser
                    .get(base.join(target).unwrap())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{target}");
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_a_supplied_one_is_echoed() {
    let app = TestApp::spawn().await;
    let token = app.login("agent").await;
    let mut seen = std::collections::HashSet::new();
    for (method, path) in [
        (Method::GET, "/healthz"),
        (Method::GET, "/api/v1/customers"),
        (Method::GET, "/api/v1/nope"),
        (Method::POST, "/api/v1/customers"),
        (Method::GET, "/"),
        (Method::GET, "/metrics"),
    ] {
        let r = app.as_token(&token, method, path).send().await.unwrap();
        let id = r
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{path}: no x-request-id"))
            .to_str()
            .unwrap()
            .to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        assert!(seen.insert(id), "{path}: a request id was reused");
    }
    for path in ["/healthz", "/api/v1/customers?per_page=1", "/api/v1/nope"] {
        let r = app
            .as_token(&token, Method::GET, path)
            .header("x-request-id", "trace-me-42")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-request-id"], "trace-me-42", "{path}");
    }
    // …and it is what the audit log records for a write.
    let r = app
        .as_token(&token, Method::POST, "/api/v1/customers")
        .header("x-request-id", "trace-write-7")
        .json(&customer_json("RID-0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["x-request-id"], "trace-write-7");
    let audited = app.audit("action=customer.create&actor=agent").await;
    assert_eq!(audited[0]["request_id"], "trace-write-7");
    app.stop().await;
}

#[tokio::test]
async fn the_web_app_and_unknown_api_routes() {
    let app = TestApp::spawn().await;
    for path in ["/", "/customers/xyz", "/admin/users"] {
        let r = app.anon(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.to_lowercase().contains("<!doctype html"),
            "{path}: {html}"
        );
    }
    for (method, path) in [
        (Method::GET, "/api/v1/nope"),
        (Method::POST, "/api/v1/nope"),
        (Method::GET, "/api/v2/customers"),
        (Method::GET, "/api/"),
    ] {
        let r = app.anon(method.clone(), path).send().await.unwrap();
        let p = problem(r, StatusCode::NOT_FOUND).await;
        assert_eq!(
            p["type"], "https://kefu.dev/problems/not-found",
            "{method} {path}"
        );
    }
    // A missing asset is a 404, not the app's index page.
    let r = app
        .anon(Method::GET, "/assets/missing-0000.js")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Security headers on everything.
    let r = app.anon(Method::GET, "/").send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    app.stop().await;
}

/// A `kefu serve` process and the lines of its standard error.
struct Server {
    child: Child,
    addr: SocketAddr,
    lines: Receiver<String>,
}

fn kefu(args: &[&str], data: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kefu"));
    cmd.args(args).arg("--data-dir").arg(data);
    for (k, _) in std::env::vars() {
        if k.starts_with("KEFU_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    // SIP on a free loopback port: the default 0.0.0.0:5060 may be taken on the machine, and these
    // tests run side by side (a CI run failed on "Address already in use" for 5060).
    cmd.env("KEFU_SIP__LISTEN", "127.0.0.1:0");
    // The repository's prompts (generated there by the test command), not `assets/prompts` under the
    // crate's directory, where serve would generate a second set at start.
    cmd.env(
        "KEFU_SIP__PROMPTS_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts"),
    );
    cmd.envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `cmd` and waits for its "kefu: serving http://ADDR" line; `Err` with its stderr if it exits
/// first.
fn start(mut cmd: Command) -> Result<Server, String> {
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(addr) = line.strip_prefix("kefu: serving http://") {
                    let addr = addr.trim().parse().unwrap();
                    return Ok(Server { child, addr, lines });
                }
                seen.push(line);
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                assert!(!status.success(), "exited 0 without serving");
                return Err(seen.join("\n"));
            }
            Err(RecvTimeoutError::Timeout) => {
                child.kill().ok();
                child.wait().ok();
                panic!("kefu serve did not start:\n{}", seen.join("\n"));
            }
        }
    }
}

impl Server {
    /// Sends SIGTERM and returns the exit code.
    fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                let log: Vec<String> = self.lines.try_iter().collect();
                panic!("kefu serve ignored SIGTERM:\n{}", log.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only if a test failed before terminating it: never leave a server behind.
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

#[tokio::test]
async fn kefu_serve_demo_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = kefu(
        &["serve", "--demo", "--http", "127.0.0.1:0"],
        dir.path(),
        &[("RUST_LOG", "warn")],
    );
    let server = start(cmd).unwrap();
    assert!(server.addr.ip().is_loopback());
    assert_ne!(server.addr.port(), 0);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "agent", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let page: Value = client
        .get(format!("{base}/api/v1/customers?per_page=5"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], kefu::seed::DEMO_CUSTOMERS as u64);
    let first = &page["items"][0];
    let found: Value = client
        .get(format!(
            "{base}/api/v1/customers?q={}",
            first["customer_no"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], first["id"]);
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(server.terminate(), Some(0));
    assert!(dir.path().join("kefu.db").exists());
}

/// A port held open for the test, so a server told to use it cannot.
fn held() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

#[tokio::test]
async fn configuration_file_then_environment_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_file_port, file_addr) = held();
    let (_env_port, env_addr) = held();
    let config = dir.path().join("kefu.toml");
    let write_config = |listen: &str| {
        std::fs::write(&config, format!("[http]\nlisten = \"{listen}\"\n")).unwrap();
    };
    let config_arg = config.to_str().unwrap().to_string();

    // The file alone: kefu tries the file's address (taken here, so it fails naming it).
    write_config(&file_addr);
    let err = start(kefu(&["serve", "--config", &config_arg], &data, &[]))
        .err()
        .expect("served although the configured address is taken");
    assert!(err.contains(&format!("binding {file_addr}")), "{err}");
    // The file with a free address: served there.
    write_config("127.0.0.1:0");
    let server = start(kefu(&["serve", "--config", &config_arg], &data, &[])).unwrap();
    assert_ne!(server.addr.port(), 8080, "the file was ignored");
    assert_eq!(server.terminate(), Some(0));

    // The environment overrides the file.
    write_config(&file_addr);
    let err = start(kefu(
        &["serve", "--config", &config_arg],
        &data,
        &[("KEFU_HTTP__LISTEN", &env_addr)],
    ))
    .err()
    .expect("served although the environment's address is taken");
    assert!(err.contains(&format!("binding {env_addr}")), "{err}");
    let server = start(kefu(
        &["serve", "--config", &config_arg],
        &data,
        &[("KEFU_HTTP__LISTEN", "127.0.0.1:0")],
    ))
    .unwrap();
    assert!(
        ![file_addr.clone(), "127.0.0.1:8080".into()].contains(&server.addr.to_string()),
        "{}",
        server.addr
    );
    assert_eq!(server.terminate(), Some(0));

    // The flag overrides both (the KEFU_CONFIG variable names the file this time).
    let server = start(kefu(
        &["serve", "--http", "127.0.0.1:0"],
        &data,
        &[
            ("KEFU_CONFIG", &config_arg),
            ("KEFU_HTTP__LISTEN", &env_addr),
        ],
    ))
    .unwrap();
    let addr = server.addr.to_string();
    assert!(
        ![file_addr.clone(), env_addr.clone(), "127.0.0.1:8080".into()].contains(&addr),
        "{addr}"
    );
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(server.terminate(), Some(0));
}

/// Regression test: the SIGTERM handler was installed only when the shutdown future was first polled,
/// after "serving" was announced, so a stop right after start killed the process (no exit code).
#[test]
fn sigterm_right_after_start_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..8 {
        let server = start(kefu(
            &["serve", "--http", "127.0.0.1:0"],
            dir.path(),
            &[("RUST_LOG", "warn")],
        ))
        .unwrap();
        assert_eq!(server.terminate(), Some(0));
    }
}
