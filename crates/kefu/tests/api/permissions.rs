//! The permission matrix: every route of the OpenAPI document, for every role, allowed or denied as
//! this table says. The table is written out here, independent of the server's own rule table, so a
//! change to either shows up; a route missing from it fails `table_covers_every_route`.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};

use crate::helpers::*;

const ALL: &[&str] = &["admin", "supervisor", "agent", "site", "auditor"];
/// Telephony configuration and the live view: watched by supervisors, changed by the administrator.
const TELEPHONY_READ: &[&str] = &["admin", "supervisor"];
const ADMIN: &[&str] = &["admin"];
/// Call records: everyone in the contact center and the auditor; not the remote sites.
const CALLS: &[&str] = &["admin", "supervisor", "agent", "auditor"];
/// IVR flows: read by supervisors, administrators and the auditor; changed by the first two.
const IVR_READ: &[&str] = &["admin", "supervisor", "auditor"];
const IVR_MANAGE: &[&str] = &["admin", "supervisor"];

/// The call center's desk: creates work orders and answers customers' status queries.
const DESK: &[&str] = &["admin", "supervisor", "agent"];
/// Everyone who works orders (the lifecycle then decides per action); never the auditor.
const ACTORS: &[&str] = &["admin", "supervisor", "agent", "site"];
/// The knowledge base: everyone reads; the desk writes drafts; supervisors approve; the
/// administrator runs the structure (categories, synonyms, archives).
const KB_EDIT: &[&str] = &["admin", "supervisor", "agent"];
const KB_APPROVE: &[&str] = &["admin", "supervisor"];

/// (method, path, who may call it). `None`: public.
const MATRIX: &[(&str, &str, Option<&[&str]>)] = &[
    ("POST", "/api/v1/auth/login", None),
    ("POST", "/api/v1/auth/logout", Some(ALL)),
    ("GET", "/api/v1/auth/me", Some(ALL)),
    ("POST", "/api/v1/auth/password", Some(ALL)),
    ("GET", "/api/v1/tokens", Some(&["admin"])),
    ("POST", "/api/v1/tokens", Some(&["admin"])),
    ("DELETE", "/api/v1/tokens/{id}", Some(&["admin"])),
    ("GET", "/api/v1/units", Some(ALL)),
    ("POST", "/api/v1/units", Some(&["admin"])),
    ("PATCH", "/api/v1/units/{id}", Some(&["admin"])),
    (
        "GET",
        "/api/v1/roles",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    (
        "GET",
        "/api/v1/users",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    ("POST", "/api/v1/users", Some(&["admin"])),
    (
        "GET",
        "/api/v1/users/{id}",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    ("PATCH", "/api/v1/users/{id}", Some(&["admin"])),
    ("POST", "/api/v1/users/{id}/password", Some(&["admin"])),
    ("GET", "/api/v1/customers", Some(ALL)),
    (
        "POST",
        "/api/v1/customers",
        Some(&["admin", "supervisor", "agent"]),
    ),
    ("GET", "/api/v1/customers/by-phone/{phone}", Some(ALL)),
    ("GET", "/api/v1/customers/{id}", Some(ALL)),
    (
        "PATCH",
        "/api/v1/customers/{id}",
        Some(&["admin", "supervisor", "agent"]),
    ),
    (
        "POST",
        "/api/v1/customers/{id}/payments",
        Some(&["admin", "supervisor"]),
    ),
    (
        "GET",
        "/api/v1/imports",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    ("POST", "/api/v1/imports", Some(&["admin"])),
    (
        "GET",
        "/api/v1/imports/{id}",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    ("GET", "/api/v1/audit", Some(&["admin", "auditor"])),
    ("GET", "/api/v1/extensions", Some(TELEPHONY_READ)),
    ("POST", "/api/v1/extensions", Some(ADMIN)),
    ("GET", "/api/v1/extensions/{id}", Some(TELEPHONY_READ)),
    ("PATCH", "/api/v1/extensions/{id}", Some(ADMIN)),
    ("DELETE", "/api/v1/extensions/{id}", Some(ADMIN)),
    ("POST", "/api/v1/extensions/{id}/password", Some(ADMIN)),
    ("GET", "/api/v1/trunks", Some(TELEPHONY_READ)),
    ("POST", "/api/v1/trunks", Some(ADMIN)),
    ("GET", "/api/v1/trunks/{id}", Some(TELEPHONY_READ)),
    ("PATCH", "/api/v1/trunks/{id}", Some(ADMIN)),
    ("DELETE", "/api/v1/trunks/{id}", Some(ADMIN)),
    ("GET", "/api/v1/routes", Some(TELEPHONY_READ)),
    ("POST", "/api/v1/routes", Some(ADMIN)),
    ("GET", "/api/v1/routes/{id}", Some(TELEPHONY_READ)),
    ("PATCH", "/api/v1/routes/{id}", Some(ADMIN)),
    ("DELETE", "/api/v1/routes/{id}", Some(ADMIN)),
    ("GET", "/api/v1/registrations", Some(TELEPHONY_READ)),
    ("GET", "/api/v1/calls", Some(CALLS)),
    ("GET", "/api/v1/calls/active", Some(TELEPHONY_READ)),
    ("GET", "/api/v1/calls/{id}", Some(CALLS)),
    ("GET", "/api/v1/calendars", Some(ALL)),
    ("POST", "/api/v1/calendars", Some(&["admin", "supervisor"])),
    ("GET", "/api/v1/calendars/{id}", Some(ALL)),
    (
        "PATCH",
        "/api/v1/calendars/{id}",
        Some(&["admin", "supervisor"]),
    ),
    ("GET", "/api/v1/work-order-types", Some(ALL)),
    ("POST", "/api/v1/work-order-types", Some(ADMIN)),
    ("GET", "/api/v1/work-order-types/{id}", Some(ALL)),
    ("PATCH", "/api/v1/work-order-types/{id}", Some(ADMIN)),
    ("GET", "/api/v1/work-orders", Some(ALL)),
    ("POST", "/api/v1/work-orders", Some(DESK)),
    (
        "GET",
        "/api/v1/work-orders/export",
        Some(&["admin", "supervisor", "agent", "auditor"]),
    ),
    ("GET", "/api/v1/work-orders/by-no/{no}", Some(ALL)),
    ("GET", "/api/v1/work-orders/{id}", Some(ALL)),
    ("PATCH", "/api/v1/work-orders/{id}", Some(ACTORS)),
    ("POST", "/api/v1/work-orders/{id}/actions", Some(ACTORS)),
    ("GET", "/api/v1/work-orders/{id}/pdf", Some(ALL)),
    ("POST", "/api/v1/status-query", Some(DESK)),
    ("POST", "/api/v1/status-query/urge", Some(DESK)),
    ("POST", "/api/v1/attachments", Some(ACTORS)),
    ("GET", "/api/v1/attachments/{id}", Some(ALL)),
    ("GET", "/api/v1/notifications", Some(ALL)),
    ("POST", "/api/v1/notifications/{id}/read", Some(ALL)),
    ("POST", "/api/v1/notifications/read-all", Some(ALL)),
    ("GET", "/api/v1/notifications/ws", Some(ALL)),
    ("GET", "/api/v1/saved-filters", Some(ALL)),
    ("POST", "/api/v1/saved-filters", Some(ALL)),
    ("DELETE", "/api/v1/saved-filters/{id}", Some(ALL)),
    // Queues, documents, the outbox, surveys: read as the IVR is (which covers telephony.read).
    (
        "GET",
        "/api/v1/queues",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    ("POST", "/api/v1/queues", Some(&["admin", "supervisor"])),
    (
        "PATCH",
        "/api/v1/queues/{id}",
        Some(&["admin", "supervisor"]),
    ),
    (
        "GET",
        "/api/v1/ivr/documents",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    (
        "POST",
        "/api/v1/ivr/documents",
        Some(&["admin", "supervisor"]),
    ),
    (
        "PATCH",
        "/api/v1/ivr/documents/{id}",
        Some(&["admin", "supervisor"]),
    ),
    (
        "GET",
        "/api/v1/outbound-messages",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    (
        "GET",
        "/api/v1/surveys",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    // IVR prompts: read (and listened to) as the IVR is, changed by whoever manages it.
    (
        "GET",
        "/api/v1/ivr/prompts",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    (
        "POST",
        "/api/v1/ivr/prompts",
        Some(&["admin", "supervisor"]),
    ),
    (
        "GET",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Some(&["admin", "supervisor", "auditor"]),
    ),
    (
        "PUT",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Some(&["admin", "supervisor"]),
    ),
    (
        "DELETE",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Some(&["admin", "supervisor"]),
    ),
    ("GET", "/api/v1/ivr/flows", Some(IVR_READ)),
    ("POST", "/api/v1/ivr/flows", Some(IVR_MANAGE)),
    ("POST", "/api/v1/ivr/flows/import", Some(IVR_MANAGE)),
    ("GET", "/api/v1/ivr/flows/{id}", Some(IVR_READ)),
    ("GET", "/api/v1/ivr/flows/{id}/versions", Some(IVR_READ)),
    ("POST", "/api/v1/ivr/flows/{id}/versions", Some(IVR_MANAGE)),
    (
        "GET",
        "/api/v1/ivr/flows/{id}/versions/{version}",
        Some(IVR_READ),
    ),
    (
        "POST",
        "/api/v1/ivr/flows/{id}/versions/{version}/publish",
        Some(IVR_MANAGE),
    ),
    ("GET", "/api/v1/ivr/flows/{id}/funnel", Some(IVR_READ)),
    ("POST", "/api/v1/ivr/validate", Some(IVR_READ)),
    ("GET", "/api/v1/ivr/known", Some(IVR_READ)),
    ("GET", "/api/v1/ivr/traces", Some(IVR_READ)),
    ("POST", "/api/v1/ivr/simulations", Some(IVR_MANAGE)),
    (
        "POST",
        "/api/v1/ivr/simulations/{id}/input",
        Some(IVR_MANAGE),
    ),
    // ACD records (store helper): recordings (an agent only its own calls'), the desk's own tasks,
    // webhooks (the administrator).
    ("GET", "/api/v1/recordings", Some(CALLS)),
    ("GET", "/api/v1/recordings/{id}/audio", Some(CALLS)),
    ("GET", "/api/v1/agents/me/tasks", Some(DESK)),
    ("POST", "/api/v1/agents/me/tasks", Some(DESK)),
    ("PATCH", "/api/v1/agents/me/tasks/{id}", Some(DESK)),
    // ACD: agents, their calls, supervisors, wallboard, CTI
    (
        "GET",
        "/api/v1/agents",
        Some(&["admin", "supervisor", "agent", "auditor"]),
    ),
    ("POST", "/api/v1/agents", Some(ADMIN)),
    ("PATCH", "/api/v1/agents/{id}", Some(ADMIN)),
    ("GET", "/api/v1/agents/me", Some(DESK)),
    ("POST", "/api/v1/agents/me/login", Some(DESK)),
    ("POST", "/api/v1/agents/me/logout", Some(DESK)),
    ("POST", "/api/v1/agents/me/state", Some(DESK)),
    ("POST", "/api/v1/agents/{id}/state", Some(IVR_MANAGE)),
    ("GET", "/api/v1/agents/{id}/state-log", Some(IVR_READ)),
    (
        "GET",
        "/api/v1/acd/reasons",
        Some(&["admin", "supervisor", "agent", "auditor"]),
    ),
    ("GET", "/api/v1/agents/me/calls", Some(DESK)),
    ("POST", "/api/v1/agent-calls/{id}/{action}", Some(DESK)),
    ("POST", "/api/v1/agent-calls/{id}/listen", Some(IVR_MANAGE)),
    ("POST", "/api/v1/agent-calls/{id}/whisper", Some(IVR_MANAGE)),
    ("POST", "/api/v1/agent-calls/{id}/barge", Some(IVR_MANAGE)),
    ("GET", "/api/v1/wallboard", Some(IVR_READ)),
    ("GET", "/api/v1/reports/queues", Some(IVR_READ)),
    ("GET", "/api/v1/cti", Some(DESK)),
    ("GET", "/api/v1/webhooks", Some(ADMIN)),
    ("POST", "/api/v1/webhooks", Some(ADMIN)),
    ("PATCH", "/api/v1/webhooks/{id}", Some(ADMIN)),
    ("DELETE", "/api/v1/webhooks/{id}", Some(ADMIN)),
    // The knowledge base.
    ("GET", "/api/v1/kb/categories", Some(ALL)),
    ("POST", "/api/v1/kb/categories", Some(ADMIN)),
    ("PATCH", "/api/v1/kb/categories/{id}", Some(ADMIN)),
    ("DELETE", "/api/v1/kb/categories/{id}", Some(ADMIN)),
    ("GET", "/api/v1/kb/articles", Some(ALL)),
    ("POST", "/api/v1/kb/articles", Some(KB_EDIT)),
    ("GET", "/api/v1/kb/articles/{id}", Some(ALL)),
    ("PATCH", "/api/v1/kb/articles/{id}", Some(KB_EDIT)),
    ("POST", "/api/v1/kb/articles/{id}/submit", Some(KB_EDIT)),
    ("POST", "/api/v1/kb/articles/{id}/approve", Some(KB_APPROVE)),
    ("POST", "/api/v1/kb/articles/{id}/reject", Some(KB_APPROVE)),
    ("POST", "/api/v1/kb/articles/{id}/archive", Some(KB_APPROVE)),
    ("POST", "/api/v1/kb/articles/{id}/publish", Some(KB_APPROVE)),
    ("GET", "/api/v1/kb/articles/{id}/versions", Some(ALL)),
    (
        "GET",
        "/api/v1/kb/articles/{id}/versions/{version}",
        Some(ALL),
    ),
    ("GET", "/api/v1/kb/articles/{id}/diff", Some(ALL)),
    ("POST", "/api/v1/kb/articles/{id}/restore", Some(KB_EDIT)),
    (
        "POST",
        "/api/v1/kb/articles/{id}/attachments",
        Some(KB_EDIT),
    ),
    ("GET", "/api/v1/kb/attachments/{id}", Some(ALL)),
    ("DELETE", "/api/v1/kb/attachments/{id}", Some(KB_EDIT)),
    ("GET", "/api/v1/kb/search", Some(ALL)),
    ("GET", "/api/v1/kb/suggest", Some(ALL)),
    ("POST", "/api/v1/kb/articles/{id}/click", Some(ALL)),
    ("POST", "/api/v1/kb/articles/{id}/vote", Some(ALL)),
    ("PUT", "/api/v1/kb/articles/{id}/favorite", Some(ALL)),
    ("DELETE", "/api/v1/kb/articles/{id}/favorite", Some(ALL)),
    ("GET", "/api/v1/kb/favorites", Some(ALL)),
    ("GET", "/api/v1/kb/hot", Some(ALL)),
    ("GET", "/api/v1/kb/no-results", Some(KB_EDIT)),
    ("GET", "/api/v1/kb/synonyms", Some(ALL)),
    ("PUT", "/api/v1/kb/synonyms", Some(ADMIN)),
    ("GET", "/api/v1/kb/export", Some(ADMIN)),
    ("POST", "/api/v1/kb/import", Some(ADMIN)),
    ("GET", "/api/v1/public/kb/search", None),
    ("GET", "/api/v1/public/kb/suggest", None),
    ("GET", "/api/v1/public/kb/articles/{id}", None),
];

#[test]
fn table_covers_every_route() {
    let doc = serde_json::to_value(kefu_api::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tabled: BTreeSet<_> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without an entry in the permission matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix entries for routes that no longer exist: {stale:?}"
    );
    // And the server has a rule for each one (a route without a rule is refused for everybody).
    for (m, p, _) in MATRIX {
        assert!(
            kefu_api::access::rule(&m.parse().unwrap(), p).is_some(),
            "no server rule for {m} {p}"
        );
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", &uuid::Uuid::now_v7().to_string())
        .replace("{phone}", "13800000000")
        .replace("{no}", "GD2611260001")
        .replace("{version}", "1")
}

#[tokio::test]
async fn every_role_on_every_route() {
    let app = TestApp::spawn().await;
    let mut failures = Vec::new();
    for role in ALL {
        let token = app.login(role).await;
        for (m, path, who) in MATRIX {
            let Some(who) = who else { continue };
            let method: Method = m.parse().unwrap();
            // Logging out ends the token: use a fresh one for it.
            let t = if *path == "/api/v1/auth/logout" {
                app.login(role).await
            } else {
                token.clone()
            };
            let mut req = app.as_token(&t, method.clone(), &concrete(path));
            if method == Method::POST || method == Method::PATCH {
                req = req.header("content-type", "application/json").body("{}");
            }
            let status = req.send().await.unwrap().status();
            let allowed = who.contains(role);
            let ok = if allowed {
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{role} {m} {path}: expected {}, got {status}",
                    if allowed { "allowed" } else { "403" }
                ));
            }
        }
    }
    app.stop().await;
    assert!(
        failures.is_empty(),
        "permission matrix violations:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn anonymous_requests_are_refused_everywhere_but_login() {
    let app = TestApp::spawn().await;
    for (m, path, who) in MATRIX {
        if who.is_none() {
            continue;
        }
        let r = app
            .anon(m.parse().unwrap(), &concrete(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::UNAUTHORIZED).await;
        assert_eq!(
            p["type"], "https://kefu.dev/problems/unauthorized",
            "{m} {path}"
        );
    }
    let r = app
        .anon(Method::GET, "/api/v1/customers")
        .bearer_auth("kefu_forged")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
    app.stop().await;
}
