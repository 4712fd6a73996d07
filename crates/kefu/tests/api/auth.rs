//! Sign-in and sessions: the cookie, bearer tokens, logout, throttling, password changes, deactivated
//! users, API tokens and the cross-site write check.

use std::time::Duration;

use kefu_domain::ThrottlePolicy;
use reqwest::{Client, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::*;

async fn login_as(app: &TestApp, username: &str, password: &str) -> Response {
    app.anon(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.as_token(token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap()
        .status()
}

fn cookie_client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

#[tokio::test]
async fn login_sets_an_http_only_lax_session_cookie() {
    let app = TestApp::spawn().await;
    let r = login_as(&app, "agent", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get(header::SET_COOKIE)
        .expect("set-cookie")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(attrs[0], format!("kefu_session={token}"));
    for want in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.contains(&want), "cookie {cookie:?} lacks {want}");
    }
    assert!(
        !attrs.contains(&"Secure"),
        "plain-HTTP settings: {cookie:?}"
    );
    assert_eq!(body["user"]["username"], "agent");
    assert_eq!(body["user"]["role"], "agent");
    assert_eq!(body["user"]["unit_name"], "客服中心");
    let perms: Vec<&str> = body["user"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(perms.contains(&"customers.read"), "{perms:?}");
    assert!(!perms.contains(&"users.write"), "{perms:?}");
    app.stop().await;
}

#[tokio::test]
async fn me_works_with_the_cookie_alone_and_with_the_bearer_token() {
    let app = TestApp::spawn().await;
    let browser = cookie_client();
    let r = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "supervisor", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    // No Authorization header: the cookie jar alone.
    let me: Value = browser
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "supervisor");
    assert_eq!(me["role"], "supervisor");
    // The same token as a bearer, from a client without cookies.
    let me = app.get(&token, "/api/v1/auth/me").await;
    assert_eq!(me["username"], "supervisor");
    // A cookie-less client with no token is refused.
    let r = app
        .anon(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let wrong = login_as(&app, "agent", "Wrong@2026").await;
    let (s1, ct1) = (wrong.status(), wrong.headers()["content-type"].clone());
    let wrong = wrong.bytes().await.unwrap();
    let unknown = login_as(&app, "nobody-here", "Wrong@2026").await;
    let (s2, ct2) = (unknown.status(), unknown.headers()["content-type"].clone());
    let unknown = unknown.bytes().await.unwrap();
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(ct1, "application/problem+json");
    assert_eq!(ct1, ct2);
    assert_eq!(wrong, unknown, "the bodies tell the two cases apart");
    let p: Value = serde_json::from_slice(&wrong).unwrap();
    assert_eq!(p["type"], "https://kefu.dev/problems/invalid-credentials");
    app.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_token_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let token = app.login("agent").await;
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
    let r = app
        .as_token(&token, Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cleared = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("kefu_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let r = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;

    // A browser: logging out empties its cookie jar, and the old cookie value no longer works.
    let browser = cookie_client();
    let login = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "agent", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie_token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = browser
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = browser
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .anon(Method::GET, "/api/v1/auth/me")
        .header("cookie", format!("kefu_session={cookie_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit("action=auth.logout").await.len(), 2);
    app.stop().await;
}

fn strict() -> kefu_api::Settings {
    kefu_api::Settings {
        login_throttle: ThrottlePolicy {
            free_failures: 2,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(300),
            lockout_after: 5,
            lockout: Duration::from_secs(600),
            window: Duration::from_secs(900),
        },
        ..Default::default()
    }
}

fn retry_after(r: &Response) -> u64 {
    r.headers()
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failures_beyond_the_free_ones_are_throttled_even_with_the_right_password() {
    let app = TestApp::spawn_settings(strict()).await;
    for _ in 0..2 {
        let r = login_as(&app, "agent", "Wrong@2026").await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    // The free failures are used up: the next attempt waits, whatever its password.
    for password in ["Wrong@2026", PASSWORD] {
        let r = login_as(&app, "agent", password).await;
        let secs = retry_after(&r);
        assert!((29..=30).contains(&secs), "Retry-After {secs}");
        let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(p["type"], "https://kefu.dev/problems/login-throttled");
        assert!(p["detail"].as_str().unwrap().contains("wait"), "{p}");
    }
    // The throttled attempts were not let through: no session was created.
    assert_eq!(app.audit_count("auth.login").await, 0);
    assert_eq!(app.audit_count("auth.login_failed").await, 2);
    app.stop().await;
}

#[tokio::test]
async fn failures_are_counted_per_source_address_across_usernames() {
    let app = TestApp::spawn_settings(strict()).await;
    for name in ["ghost-one", "ghost-two"] {
        let r = login_as(&app, name, "Wrong@2026").await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    // A third username, never tried, from the same address: throttled too.
    let r = login_as(&app, "ghost-three", "Wrong@2026").await;
    assert!(retry_after(&r) >= 1);
    problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    let r = login_as(&app, "supervisor", PASSWORD).await;
    problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    app.stop().await;
}

#[tokio::test]
async fn lockout_after_too_many_failures() {
    let app = TestApp::spawn_settings(kefu_api::Settings {
        login_throttle: ThrottlePolicy {
            free_failures: 5,
            lockout_after: 5,
            lockout: Duration::from_secs(600),
            ..strict().login_throttle
        },
        ..Default::default()
    })
    .await;
    for _ in 0..5 {
        let r = login_as(&app, "agent", "Wrong@2026").await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    let r = login_as(&app, "agent", PASSWORD).await;
    let secs = retry_after(&r);
    assert!((599..=600).contains(&secs), "Retry-After {secs}");
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("locked"), "{detail}");
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_audited() {
    let app = TestApp::spawn().await;
    failed_logins_are_audited_on(&app).await;
    app.stop().await;
}

pub(crate) async fn failed_logins_are_audited_on(app: &TestApp) {
    let r = login_as(app, "agent", "Wrong@2026").await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    let r = login_as(app, "Intruder", "Wrong@2026").await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    let failed = app.audit("action=auth.login_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    // Newest first.
    assert_eq!(failed[0]["after"]["username"], "intruder");
    assert_eq!(failed[0]["after"]["reason"], "unknown user");
    assert!(failed[0]["actor_id"].is_null());
    assert_eq!(failed[1]["after"]["username"], "agent");
    assert_eq!(failed[1]["after"]["reason"], "wrong password");
    assert!(failed[1]["actor_id"].is_string());
    for e in &failed {
        assert_eq!(e["source_ip"], "127.0.0.1");
        assert!(e["request_id"].is_string(), "{e}");
        assert!(
            !e.to_string().contains("Wrong@2026"),
            "a password leaked into the audit log: {e}"
        );
    }
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    app.send(
        token,
        Method::POST,
        "/api/v1/auth/password",
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

#[tokio::test]
async fn changing_ones_password() {
    let app = TestApp::spawn_settings(lenient()).await;
    let this = app.login("agent").await;
    let other = app.login("agent").await;

    let r = change_password(&app, &this, "Wrong@2026", "New-pass-2026").await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["current_password"]);
    for weak in ["short1", "12345678901", "onlyletters", "密码密码密码密码"] {
        let r = change_password(&app, &this, PASSWORD, weak).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&p), ["new_password"], "{weak}");
    }
    // Nothing changed so far.
    assert_eq!(me_status(&app, &other).await, StatusCode::OK);
    assert_eq!(app.audit("action=user.password").await.len(), 0);

    let r = change_password(&app, &this, PASSWORD, "New-pass-2026").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = login_as(&app, "agent", PASSWORD).await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    let r = login_as(&app, "agent", "New-pass-2026").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(me_status(&app, &this).await, StatusCode::OK);
    assert_eq!(me_status(&app, &other).await, StatusCode::UNAUTHORIZED);
    let audited = app.audit("action=user.password").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["actor_name"], "agent");
    assert!(audited[0]["after"].is_null(), "no hash in the log");
    app.stop().await;
}

#[tokio::test]
async fn admin_password_reset_ends_the_users_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let agent_id = app.get(&agent, "/api/v1/auth/me").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .send(
            &admin,
            Method::POST,
            &format!("/api/v1/users/{agent_id}/password"),
            &json!({"new_password": "weak"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["new_password"]);
    assert_eq!(me_status(&app, &agent).await, StatusCode::OK);

    let r = app
        .send(
            &admin,
            Method::POST,
            &format!("/api/v1/users/{agent_id}/password"),
            &json!({"new_password": "Reset-by-admin-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &agent).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &admin).await, StatusCode::OK);
    let r = login_as(&app, "agent", "Reset-by-admin-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in() {
    let app = TestApp::spawn_settings(lenient()).await;
    let admin = app.login("admin").await;
    let agent = app.login("agent").await;
    let agent_id = app.get(&agent, "/api/v1/auth/me").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = login_as(&app, "agent", "Wrong@2026")
        .await
        .bytes()
        .await
        .unwrap();
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{agent_id}"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    // Their session ended, and the right password gets the same answer as a wrong one.
    assert_eq!(me_status(&app, &agent).await, StatusCode::UNAUTHORIZED);
    let r = login_as(&app, "agent", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.bytes().await.unwrap(), wrong);
    let failed = app.audit("action=auth.login_failed").await;
    assert_eq!(failed[0]["after"]["reason"], "user deactivated");
    // Reactivated: they can sign in again.
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{agent_id}"),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        login_as(&app, "agent", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn api_tokens_authenticate_as_bearer_only_until_revoked() {
    let app = TestApp::spawn().await;
    api_tokens_authenticate_as_bearer_only_until_revoked_on(&app).await;
    app.stop().await;
}

pub(crate) async fn api_tokens_authenticate_as_bearer_only_until_revoked_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/tokens",
            &json!({"name": "billing sync", "username": "supervisor"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("kefu_") && secret.len() > 40, "{secret}");
    assert_eq!(created["name"], "billing sync");
    assert!(created["revoked_at"].is_null());

    // Listed without its secret, and the secret is nowhere in the audit log.
    let list = app.get(&admin, "/api/v1/tokens").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert!(list[0].get("token").is_none(), "{}", list[0]);
    assert!(!list[0].to_string().contains(&secret));
    let audited = app.audit("action=token.create").await;
    assert_eq!(audited.len(), 1);
    assert!(!audited[0].to_string().contains(&secret));

    let me = app.get(&secret, "/api/v1/auth/me").await;
    assert_eq!(me["username"], "supervisor");
    assert!(app.get(&secret, "/api/v1/customers?per_page=1").await["total"].as_u64() > Some(0));
    // A token is not a session: as a cookie it is refused.
    let r = app
        .anon(Method::GET, "/api/v1/auth/me")
        .header("cookie", format!("kefu_session={secret}"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;

    let r = app
        .as_token(&admin, Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .as_token(&secret, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
    let list = app.get(&admin, "/api/v1/tokens").await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");
    // A session id is not a token id.
    let me_id = app.get(&admin, "/api/v1/auth/me").await["id"].clone();
    let r = app
        .as_token(
            &admin,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", me_id.as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn cross_site_cookie_writes_are_refused() {
    let app = TestApp::spawn().await;
    let browser = cookie_client();
    let r = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "agent", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let before = app.customer_count().await;
    // Only a header: no request goes to evil.example.
    let r = browser
        .post(app.url("/api/v1/customers"))
        .header("origin", "http://evil.example")
        .json(&customer_json("X-EVIL-1"))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(p["detail"].as_str().unwrap().contains("cross-site"), "{p}");
    assert_eq!(app.customer_count().await, before);
    // Reading with a foreign Origin is harmless and allowed.
    let r = browser
        .get(app.url("/api/v1/auth/me"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The same write from kefu's own origin goes through.
    let r = browser
        .post(app.url("/api/v1/customers"))
        .header("origin", format!("http://{}", app.addr))
        .json(&customer_json("X-SAME-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.customer_count().await, before + 1);
    app.stop().await;
}
