//! Organization: units, roles and users.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn unit_by_code<'a>(units: &'a Value, code: &str) -> &'a Value {
    units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("no unit {code} in {units}"))
}

#[tokio::test]
async fn units_create_patch_and_their_parents() {
    let app = TestApp::spawn().await;
    units_create_patch_and_their_parents_on(&app).await;
    app.stop().await;
}

pub(crate) async fn units_create_patch_and_their_parents_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let units = app.get(&admin, "/api/v1/units").await;
    assert_eq!(units.as_array().unwrap().len(), 8);
    let bl = unit_by_code(&units, "BL")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hq = unit_by_code(&units, "HQ")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(unit_by_code(&units, "HQ")["parent_id"].is_null());
    assert_eq!(unit_by_code(&units, "CC")["takes_queue_calls"], true);

    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/units",
            &json!({"code": "rc-4", "name": "北仑抢修二班", "kind": "repair_crew", "parent_id": bl, "takes_queue_calls": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let unit: Value = r.json().await.unwrap();
    assert_eq!(unit["code"], "RC-4");
    assert_eq!(unit["name"], "北仑抢修二班");
    assert_eq!(unit["kind"], "repair_crew");
    assert_eq!(unit["parent_id"], bl.as_str());
    assert_eq!(unit["takes_queue_calls"], true);
    assert_eq!(unit["active"], true);
    let id = unit["id"].as_str().unwrap().to_string();
    let units = app.get(&admin, "/api/v1/units").await;
    assert_eq!(unit_by_code(&units, "RC-4"), &unit);

    // The same code again, in any case: conflict.
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/units",
            &json!({"code": "Rc-4", "name": "重复", "kind": "repair_crew"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    // An unknown parent, on create and on update: 422 parent_id.
    let ghost = uuid::Uuid::now_v7().to_string();
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/units",
            &json!({"code": "RC-5", "name": "无主", "kind": "repair_crew", "parent_id": ghost}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["parent_id"]);
    let path = format!("/api/v1/units/{id}");
    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"parent_id": ghost}))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["parent_id"]);
    // Its own parent: conflict.
    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"parent_id": id}))
        .await;
    problem(r, StatusCode::CONFLICT).await;
    assert_eq!(
        app.audit(&format!("entity_id={id}&action=unit.update"))
            .await
            .len(),
        0
    );

    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"name": "总部直属抢修班", "parent_id": hq, "takes_queue_calls": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["name"], "总部直属抢修班");
    assert_eq!(patched["parent_id"], hq.as_str());
    assert_eq!(patched["takes_queue_calls"], false);
    assert_eq!(patched["kind"], "repair_crew");
    assert_eq!(patched["code"], "RC-4");
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"parent_id": null, "active": false, "kind": "department"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    assert!(patched["parent_id"].is_null());
    assert_eq!(patched["active"], false);
    assert_eq!(patched["kind"], "department");
    assert_eq!(patched["name"], "总部直属抢修班");

    let audited = app.audit(&format!("entity_id={id}")).await;
    let actions: Vec<&str> = audited
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unit.update", "unit.update", "unit.create"]);
    assert_eq!(audited[1]["before"]["name"], "北仑抢修二班");
    assert_eq!(audited[1]["after"]["name"], "总部直属抢修班");
    assert_eq!(audited[0]["before"]["active"], true);
    assert_eq!(audited[0]["after"]["active"], false);
    assert_eq!(audited[2]["after"]["code"], "RC-4");
}

#[tokio::test]
async fn roles_list_every_role_with_its_permissions() {
    let app = TestApp::spawn().await;
    let supervisor = app.login("supervisor").await;
    let roles = app.get(&supervisor, "/api/v1/roles").await;
    let roles = roles.as_array().unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["admin", "supervisor", "agent", "site_staff", "auditor"]
    );
    let perms = |role: &str| -> Vec<String> {
        roles.iter().find(|r| r["role"] == role).unwrap()["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    let label = |role: &str| roles.iter().find(|r| r["role"] == role).unwrap()["label_zh"].clone();
    assert_eq!(label("admin"), "系统管理员");
    assert_eq!(label("agent"), "坐席");
    assert!(perms("admin").contains(&"tokens.manage".to_string()));
    assert!(perms("admin").contains(&"users.write".to_string()));
    assert!(perms("auditor").contains(&"audit.read".to_string()));
    for write in [
        "users.write",
        "customers.write",
        "payments.write",
        "imports.run",
    ] {
        assert!(!perms("auditor").contains(&write.to_string()), "{write}");
    }
    assert!(perms("agent").contains(&"customers.write".to_string()));
    assert!(!perms("agent").contains(&"payments.write".to_string()));
    // Each user's own permissions are those of their role.
    let me = app.get(&supervisor, "/api/v1/auth/me").await;
    let mine: Vec<String> = me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(mine, perms("supervisor"));
    app.stop().await;
}

async fn create_user(app: &TestApp, admin: &str, body: &Value) -> reqwest::Response {
    app.send(admin, Method::POST, "/api/v1/users", body).await
}

#[tokio::test]
async fn users_create_get_patch_and_search() {
    let app = TestApp::spawn().await;
    users_create_get_patch_and_search_on(&app).await;
    app.stop().await;
}

pub(crate) async fn users_create_get_patch_and_search_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let units = app.get(&admin, "/api/v1/units").await;
    let cc = unit_by_code(&units, "CC")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bl = unit_by_code(&units, "BL")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"username": " Zhang.San ", "display_name": "张三丰", "password": "Taiji-2026", "role": "agent", "unit_id": cc});
    let r = create_user(app, &admin, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["username"], "zhang.san");
    assert_eq!(user["display_name"], "张三丰");
    assert_eq!(user["role"], "agent");
    assert_eq!(user["unit_id"], cc.as_str());
    assert_eq!(user["unit_name"], "客服中心");
    assert_eq!(user["active"], true);
    assert!(
        !user.to_string().contains("password") && !user.to_string().contains("argon2"),
        "{user}"
    );
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&admin, &format!("/api/v1/users/{id}")).await, user);

    // Usernames are unique whatever their case.
    let audit = app.audit_total().await;
    for taken in ["ZHANG.SAN", "zhang.san", "Agent"] {
        let mut dup = body.clone();
        dup["username"] = json!(taken);
        let p = problem(create_user(app, &admin, &dup).await, StatusCode::CONFLICT).await;
        assert!(p["detail"].as_str().unwrap().contains("username"), "{p}");
    }
    assert_eq!(app.audit_total().await, audit);
    assert_eq!(app.get(&admin, "/api/v1/users").await["total"], 6);

    // The new user signs in with any case of their name.
    let r = app
        .anon(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "ZHANG.san", "password": "Taiji-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .as_token(&token, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;

    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &json!({"display_name": "张三", "role": "supervisor", "unit_id": bl}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["display_name"], "张三");
    assert_eq!(patched["role"], "supervisor");
    assert_eq!(patched["unit_name"], "北仑分理处");
    assert_eq!(patched["username"], "zhang.san");
    // The new role applies to the running session at once.
    let me = app.get(&token, "/api/v1/auth/me").await;
    assert_eq!(me["role"], "supervisor");
    assert_eq!(app.get(&token, "/api/v1/users").await["total"], 6);

    // Search by username or display-name fragment, with pagination.
    let found = app.get(&admin, "/api/v1/users?q=zhang").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], id.as_str());
    let found = app.get(&admin, "/api/v1/users?q=%E5%BC%A0%E4%B8%89").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["username"], "zhang.san");
    assert_eq!(app.get(&admin, "/api/v1/users?q=nobody").await["total"], 0);
    let mut names = Vec::new();
    for page in 1..=3 {
        let p = app
            .get(&admin, &format!("/api/v1/users?per_page=2&page={page}"))
            .await;
        assert_eq!(p["total"], 6);
        assert_eq!(p["items"].as_array().unwrap().len(), 2);
        names.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(
        names,
        [
            "admin",
            "agent",
            "auditor",
            "site",
            "supervisor",
            "zhang.san"
        ]
    );

    let audited = app.audit(&format!("entity_id={id}")).await;
    let actions: Vec<&str> = audited
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.update", "user.create"]);
    assert_eq!(audited[0]["before"]["role"], "agent");
    assert_eq!(audited[0]["after"]["role"], "supervisor");
    for e in &audited {
        assert!(!e.to_string().contains("argon2"), "a hash in the log: {e}");
        assert!(
            !e.to_string().contains("Taiji-2026"),
            "a password in the log: {e}"
        );
    }
}

#[tokio::test]
async fn an_admin_cannot_deactivate_themselves_or_change_their_own_role() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let me = app.get(&admin, "/api/v1/auth/me").await;
    let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    let audit = app.audit_total().await;
    for body in [
        json!({"active": false}),
        json!({"role": "agent"}),
        json!({"role": "auditor", "display_name": "x"}),
    ] {
        let r = app.send(&admin, Method::PATCH, &path, &body).await;
        problem(r, StatusCode::CONFLICT).await;
    }
    assert_eq!(app.audit_total().await, audit);
    let still = app.get(&admin, &path).await;
    assert_eq!(still["role"], "admin");
    assert_eq!(still["active"], true);
    // Harmless changes to oneself are fine, including naming one's current role.
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"display_name": "周建明（管理员）", "role": "admin", "active": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["display_name"],
        "周建明（管理员）"
    );
    // Another admin may do to them what they may not do to themselves.
    let units = app.get(&admin, "/api/v1/units").await;
    let hq = unit_by_code(&units, "HQ")["id"].clone();
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "admin2", "display_name": "第二管理员", "password": "Second-admin-1", "role": "admin", "unit_id": hq}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = r.json::<Value>().await.unwrap();
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{}", second["id"].as_str().unwrap()),
            &json!({"role": "auditor"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}
