//! Work-order configuration through the API: business calendars and work-order types, their
//! optimistic concurrency, bad input (each a problem naming the field, nothing written), who may
//! change them, and the demo's types. The `_on` checks run on SQLite and PostgreSQL.

use kefu_store::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A unit's id by its code (HQ, CC, BL, ZH, PN, RC1 …).
async fn unit(app: &TestApp, code: &str) -> String {
    let u = app.store.unit_by_code(code).await.unwrap().unwrap();
    u.id.to_string()
}

async fn calendar_id(app: &TestApp, code: &str) -> String {
    let c = app.store.calendar_by_code(code).await.unwrap().unwrap();
    c.id.to_string()
}

fn calendar_body(code: &str) -> Value {
    let office = json!([{"start": "08:00", "end": "12:00"}, {"start": "13:30", "end": "17:30"}]);
    json!({
        "code": code,
        "name": "北仑分理处日历",
        "spec": {
            "utc_offset_minutes": 480,
            "week": [office, office, office, office, office, [{"start": "09:00", "end": "12:00"}], []],
            "holidays": ["2026-10-01", "2026-10-02"],
            "workdays": ["2026-10-10"],
        }
    })
}

fn type_body(code: &str, calendar_id: &str, unit_id: &str) -> Value {
    json!({
        "code": code,
        "name": "换表申请",
        "name_en": "Meter replacement",
        "description": "客户申请更换燃气表",
        "fields": [
            {"key": "reason", "label": "换表原因", "kind": "choice", "required": true, "options": [
                {"value": "broken", "label": "表坏", "label_en": "Broken"},
                {"value": "upgrade", "label": "升级智能表"}
            ]},
            {"key": "meter_no", "label": "表号", "kind": "text", "required": false},
            {"key": "visit_on", "label": "上门日期", "kind": "date", "required": false}
        ],
        "priority_rules": [{"field": "reason", "equals": "broken", "priority": "urgent"}],
        "default_priority": "normal",
        "default_unit_id": unit_id,
        "fallback_unit_id": null,
        "calendar_id": calendar_id,
        "sla": {
            "targets": {"normal": {"accept_mins": 60, "resolve_mins": 960}, "urgent": {"accept_mins": 30}},
            "remind_at_percent": [50, 80],
            "escalate_on_breach": true
        },
        "callback_required": true,
        "sort": 200
    })
}

async fn type_count(app: &TestApp) -> usize {
    app.store.work_order_types(true).await.unwrap().len()
}

async fn calendar_count(app: &TestApp) -> usize {
    app.store.calendars().await.unwrap().len()
}

pub async fn calendars_and_types_round_trip_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let supervisor = app.login("supervisor").await;

    // A calendar: created by a supervisor, read by everyone, renamed with its version.
    let r = app
        .send(
            &supervisor,
            Method::POST,
            "/api/v1/calendars",
            &calendar_body("BEILUN"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cal: Value = r.json().await.unwrap();
    let cal_id = cal["id"].as_str().unwrap().to_string();
    assert_eq!(cal["code"], "beilun");
    assert_eq!(cal["version"], 1);
    assert_eq!(
        cal["spec"]["week"][5],
        json!([{"start": "09:00", "end": "12:00"}])
    );
    assert_eq!(cal["spec"]["always_open"], false);
    let agent = app.login("agent").await;
    assert_eq!(
        app.get(&agent, &format!("/api/v1/calendars/{cal_id}"))
            .await,
        cal
    );
    let all = app.get(&agent, "/api/v1/calendars").await;
    let codes: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["always", "beilun", "standard"]);
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &format!("/api/v1/calendars/{cal_id}"),
            &json!({"version": 1, "name": "  北仑日历  "}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let cal2: Value = r.json().await.unwrap();
    assert_eq!(cal2["name"], "北仑日历");
    assert_eq!(cal2["version"], 2);
    assert_eq!(cal2["spec"], cal["spec"]);
    assert_eq!(cal2["created_at"], cal["created_at"]);
    // The spec alone; what the store computes with follows it.
    let mut spec = cal["spec"].clone();
    spec["always_open"] = json!(true);
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/calendars/{cal_id}"),
            &json!({"version": 2, "spec": spec}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let business = app
        .store
        .business_calendar(kefu_domain::CalendarId(cal_id.parse().unwrap()))
        .await
        .unwrap();
    assert!(business.is_always_open());
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/calendars",
            &calendar_body("beilun"),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // A type: created by the administrator, read by everyone.
    let pn = unit(app, "PN").await;
    let body = type_body("Meter_Swap", &cal_id, &pn);
    let r = app
        .send(&admin, Method::POST, "/api/v1/work-order-types", &body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ty: Value = r.json().await.unwrap();
    let id = ty["id"].as_str().unwrap().to_string();
    assert_eq!(ty["code"], "meter_swap");
    for key in [
        "name",
        "name_en",
        "description",
        "fields",
        "priority_rules",
        "default_priority",
        "default_unit_id",
        "fallback_unit_id",
        "calendar_id",
        "callback_required",
        "sort",
    ] {
        assert_eq!(ty[key], body[key], "{key}");
    }
    assert_eq!(ty["active"], true);
    assert_eq!(ty["version"], 1);
    assert_eq!(ty["sla"]["targets"]["normal"]["resolve_mins"], 960);
    assert_eq!(ty["sla"]["remind_at_percent"], json!([50, 80]));
    assert_eq!(ty["sla"]["emergency_always_open"], true);
    assert_eq!(
        app.get(&agent, &format!("/api/v1/work-order-types/{id}"))
            .await,
        ty
    );
    let site = app.login("site").await;
    let listed = app.get(&site, "/api/v1/work-order-types").await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == ty["id"])
    );
    let r = app
        .send(&admin, Method::POST, "/api/v1/work-order-types", &body)
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("already exists"));

    // Change the form and the rules together, clear the unit, deactivate.
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/work-order-types/{id}"),
            &json!({
                "version": 1,
                "fields": [
                    {"key": "why", "label": "原因", "kind": "choice", "options": [{"value": "leak", "label": "漏气"}]}
                ],
                "priority_rules": [{"field": "why", "equals": "leak", "priority": "emergency"}],
                "default_unit_id": null,
                "description": "",
                "sla": {"emergency_always_open": false},
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ty2: Value = r.json().await.unwrap();
    assert_eq!(ty2["version"], 2);
    assert_eq!(ty2["fields"][0]["key"], "why");
    assert_eq!(ty2["priority_rules"][0]["priority"], "emergency");
    assert_eq!(ty2["default_unit_id"], Value::Null);
    assert_eq!(ty2["description"], Value::Null);
    assert_eq!(ty2["name"], "换表申请");
    assert_eq!(ty2["sla"]["emergency_always_open"], false);
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/v1/work-order-types/{id}"),
            &json!({"version": 2, "active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let active = app.get(&agent, "/api/v1/work-order-types").await;
    assert!(
        !active
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == ty["id"])
    );
    let every = app
        .get(&agent, "/api/v1/work-order-types?include_inactive=true")
        .await;
    let sorts: Vec<i64> = every
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["sort"].as_i64().unwrap())
        .collect();
    assert!(sorts.windows(2).all(|w| w[0] <= w[1]), "{sorts:?}");
    assert!(
        every
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == ty["id"])
    );
    // What the work-order module reads.
    let stored = app
        .store
        .work_order_type_by_code("meter_swap")
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.active);
    assert_eq!(stored.version, 3);
    assert!(
        app.store
            .calendar_for(&stored)
            .await
            .unwrap()
            .is_always_open()
    );

    // Every write is in the audit log, with the state before and after.
    let audited = app.audit(&format!("entity_id={id}")).await;
    let actions: Vec<&str> = audited
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "work_order_type.update",
            "work_order_type.update",
            "work_order_type.create"
        ]
    );
    assert_eq!(audited[0]["before"]["active"], true);
    assert_eq!(audited[0]["after"]["active"], false);
    assert_eq!(audited[0]["actor_name"], "admin");
    let audited = app.audit(&format!("entity_id={cal_id}")).await;
    assert_eq!(audited.len(), 3);
    assert_eq!(audited[2]["action"], "calendar.create");
    assert_eq!(audited[2]["actor_name"], "supervisor");
}

pub async fn a_stale_version_is_a_conflict_and_changes_nothing_on(app: &TestApp) {
    let admin = app.login("admin").await;
    for (path, first, second) in [
        (
            format!("/api/v1/calendars/{}", calendar_id(app, "standard").await),
            json!({"name": "甲"}),
            json!({"name": "乙"}),
        ),
        (
            format!(
                "/api/v1/work-order-types/{}",
                app.store
                    .work_order_type_by_code("fault")
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            ),
            json!({"name": "故障报修", "sort": 1}),
            json!({"name": "报修", "callback_required": false}),
        ),
    ] {
        let before = app.get(&admin, &path).await;
        let v = before["version"].as_i64().unwrap();
        let with_version = |mut b: Value| {
            b["version"] = json!(v);
            b
        };
        let r = app
            .send(&admin, Method::PATCH, &path, &with_version(first.clone()))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let after_first = app.get(&admin, &path).await;
        assert_eq!(after_first["version"], v + 1);
        let audits = app.audit_total().await;

        let r = app
            .send(&admin, Method::PATCH, &path, &with_version(second))
            .await;
        let p = problem(r, StatusCode::CONFLICT).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("now version {}", v + 1)),
            "{detail}"
        );
        assert_eq!(app.get(&admin, &path).await, after_first, "{path}");
        assert_eq!(after_first["name"], first["name"]);
        assert_eq!(app.audit_total().await, audits, "{path}");
    }
    // A version from the future is as stale as one from the past.
    let path = format!("/api/v1/calendars/{}", calendar_id(app, "always").await);
    let r = app
        .send(&admin, Method::PATCH, &path, &json!({"version": 99}))
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("now version 1"));
}

struct Case {
    method: Method,
    path: String,
    body: Value,
    field: &'static str,
}

/// `base` with the JSON pointer `at` replaced by `value`, or removed when `value` is `None`.
fn edit(base: &Value, at: &str, value: Option<Value>) -> Value {
    let mut v = base.clone();
    let (parent, key) = at.rsplit_once('/').unwrap();
    let target = v.pointer_mut(parent).unwrap();
    match (target, value) {
        (Value::Object(o), Some(x)) => {
            o.insert(key.to_string(), x);
        }
        (Value::Object(o), None) => {
            o.remove(key);
        }
        (Value::Array(a), Some(x)) => a[key.parse::<usize>().unwrap()] = x,
        (Value::Array(a), None) => {
            a.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("{at}"),
    }
    v
}

pub async fn bad_input_is_a_problem_naming_the_field_and_writes_nothing_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let cal = calendar_id(app, "standard").await;
    let pn = unit(app, "PN").await;
    let fault = app
        .store
        .work_order_type_by_code("fault")
        .await
        .unwrap()
        .unwrap();
    let ty = type_body("new_type", &cal, &pn);
    let c = calendar_body("new_cal");
    let nobody = uuid::Uuid::now_v7().to_string();
    let types = "/api/v1/work-order-types".to_string();
    let calendars = "/api/v1/calendars".to_string();
    let fault_path = format!("{types}/{}", fault.id);
    let cal_path = format!("{calendars}/{cal}");
    let v = fault.version;
    let post = |path: &String, body: Value, field| Case {
        method: Method::POST,
        path: path.clone(),
        body,
        field,
    };
    let patch = |path: &String, body: Value, field| Case {
        method: Method::PATCH,
        path: path.clone(),
        body,
        field,
    };
    let week = |spans: Value| edit(&c, "/spec/week/0", Some(spans));
    let cases = vec![
        // The form.
        post(
            &types,
            edit(&ty, "/fields/1/kind", Some(json!("colour"))),
            "fields[1].kind",
        ),
        post(
            &types,
            edit(&ty, "/fields/2/key", Some(json!("meter_no"))),
            "fields[2].key",
        ),
        post(
            &types,
            edit(&ty, "/fields/0/key", Some(json!("Reason Code"))),
            "fields[0].key",
        ),
        post(
            &types,
            edit(&ty, "/fields/0/options", Some(json!([]))),
            "fields[0].options",
        ),
        post(
            &types,
            edit(&ty, "/fields/0/options", None),
            "fields[0].options",
        ),
        post(
            &types,
            edit(
                &ty,
                "/fields/2",
                Some(json!({"key": "slot", "label": "时段", "kind": "choice",
                    "options": [{"value": "Bad Value", "label": "上午"}]})),
            ),
            "fields[2].options[0].value",
        ),
        post(
            &types,
            edit(&ty, "/fields/1/label", Some(json!("长".repeat(41)))),
            "fields[1].label",
        ),
        post(
            &types,
            edit(&ty, "/fields/1/colour", Some(json!("red"))),
            "fields[1].colour",
        ),
        post(&types, edit(&ty, "/fields", Some(json!("x"))), "fields"),
        // Priority rules.
        post(
            &types,
            edit(&ty, "/priority_rules/0/field", Some(json!("meter_no"))),
            "priority_rules[0].field",
        ),
        post(
            &types,
            edit(&ty, "/priority_rules/0/equals", Some(json!("flood"))),
            "priority_rules[0].equals",
        ),
        post(
            &types,
            edit(&ty, "/priority_rules/0/priority", Some(json!("extreme"))),
            "priority_rules[0].priority",
        ),
        post(
            &types,
            edit(&ty, "/default_priority", Some(json!("asap"))),
            "default_priority",
        ),
        // The SLA policy.
        post(
            &types,
            edit(&ty, "/sla/remind_at_percent", Some(json!([50, 120]))),
            "sla.remind_at_percent[1]",
        ),
        post(
            &types,
            edit(&ty, "/sla/remind_at_percent", Some(json!([80, 50]))),
            "sla.remind_at_percent[1]",
        ),
        post(
            &types,
            edit(&ty, "/sla/targets/normal/resolve_mins", Some(json!(0))),
            "sla.targets.normal.resolve_mins",
        ),
        post(
            &types,
            edit(&ty, "/sla/targets/normal/resolve_mins", Some(json!(-5))),
            "sla.targets.normal.resolve_mins",
        ),
        post(
            &types,
            edit(&ty, "/sla/reassign_unaccepted_after_mins", Some(json!(0))),
            "sla.reassign_unaccepted_after_mins",
        ),
        post(
            &types,
            edit(&ty, "/sla/targets/urgent/respond_mins", Some(json!(5))),
            "sla.targets.urgent.respond_mins",
        ),
        // References.
        post(
            &types,
            edit(&ty, "/default_unit_id", Some(json!(nobody))),
            "default_unit_id",
        ),
        post(
            &types,
            edit(&ty, "/fallback_unit_id", Some(json!(nobody))),
            "fallback_unit_id",
        ),
        post(
            &types,
            edit(&ty, "/calendar_id", Some(json!(nobody))),
            "calendar_id",
        ),
        post(
            &types,
            edit(&ty, "/calendar_id", Some(json!("standard"))),
            "calendar_id",
        ),
        post(&types, edit(&ty, "/calendar_id", None), "calendar_id"),
        // Texts, codes and numbers.
        post(
            &types,
            edit(&ty, "/name", Some(json!("长".repeat(41)))),
            "name",
        ),
        post(&types, edit(&ty, "/name", Some(json!("  "))), "name"),
        post(
            &types,
            edit(&ty, "/name_en", Some(json!("x".repeat(61)))),
            "name_en",
        ),
        post(
            &types,
            edit(&ty, "/description", Some(json!("长".repeat(501)))),
            "description",
        ),
        post(&types, edit(&ty, "/code", Some(json!("故障"))), "code"),
        post(&types, edit(&ty, "/code", Some(json!("1fault"))), "code"),
        post(&types, edit(&ty, "/sort", Some(json!(-1))), "sort"),
        post(&types, edit(&ty, "/colour", Some(json!("red"))), "colour"),
        // Changes to a type: against the type as it is.
        patch(&fault_path, json!({"name": "x"}), "version"),
        patch(&fault_path, json!({"version": v, "code": "x"}), "code"),
        patch(&fault_path, json!({"version": v, "name": null}), "name"),
        patch(&fault_path, json!({"version": v, "active": null}), "active"),
        patch(
            &fault_path,
            json!({"version": v, "fields": [{"key": "note", "label": "备注", "kind": "text"}]}),
            "priority_rules[0].field",
        ),
        patch(
            &fault_path,
            json!({"version": v, "priority_rules": [{"field": "category", "equals": "earthquake", "priority": "urgent"}]}),
            "priority_rules[0].equals",
        ),
        patch(
            &fault_path,
            json!({"version": v, "sla": {"remind_at_percent": [0]}}),
            "sla.remind_at_percent[0]",
        ),
        patch(
            &fault_path,
            json!({"version": v, "calendar_id": nobody}),
            "calendar_id",
        ),
        patch(
            &fault_path,
            json!({"version": v, "fallback_unit_id": nobody}),
            "fallback_unit_id",
        ),
        // Calendars.
        post(
            &calendars,
            week(json!([{"start": "25:00", "end": "26:00"}])),
            "spec.week[0][0].start",
        ),
        post(
            &calendars,
            week(json!([{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}])),
            "spec.week[0][1].start",
        ),
        post(
            &calendars,
            week(json!([{"start": "13:00", "end": "12:00"}])),
            "spec.week[0][0].end",
        ),
        post(
            &calendars,
            week(json!([{"start": "08:00"}])),
            "spec.week[0][0].end",
        ),
        post(&calendars, edit(&c, "/spec/week/6", None), "spec.week"),
        post(
            &calendars,
            edit(&c, "/spec/workdays", Some(json!(["2026-10-01"]))),
            "spec.workdays[0]",
        ),
        post(
            &calendars,
            edit(&c, "/spec/holidays/1", Some(json!("2026-02-30"))),
            "spec.holidays[1]",
        ),
        post(
            &calendars,
            edit(&c, "/spec/utc_offset_minutes", Some(json!(900))),
            "spec.utc_offset_minutes",
        ),
        post(
            &calendars,
            edit(&c, "/spec/week", Some(json!([[], [], [], [], [], [], []]))),
            "spec.week",
        ),
        post(
            &calendars,
            edit(&c, "/spec/timezone", Some(json!("Asia/Shanghai"))),
            "spec.timezone",
        ),
        post(
            &calendars,
            edit(&c, "/name", Some(json!("长".repeat(41)))),
            "name",
        ),
        post(&calendars, edit(&c, "/code", Some(json!(""))), "code"),
        post(&calendars, edit(&c, "/spec", None), "spec"),
        patch(&cal_path, json!({"name": "x"}), "version"),
        patch(&cal_path, json!({"version": 1, "code": "x"}), "code"),
        patch(
            &cal_path,
            json!({"version": 1, "spec": week(json!([{"start": "08:00", "end": "24:01"}]))["spec"]}),
            "spec.week[0][0].end",
        ),
    ];
    let audits = app.audit_total().await;
    let (n_types, n_calendars) = (type_count(app).await, calendar_count(app).await);
    let mut failures = Vec::new();
    for case in &cases {
        let r = app
            .send(&admin, case.method.clone(), &case.path, &case.body)
            .await;
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let p: Value = r.json().await.unwrap_or(Value::Null);
        let named = fields(&p);
        if status != StatusCode::UNPROCESSABLE_ENTITY
            || ct.as_deref() != Some("application/problem+json")
            || !named.iter().any(|f| f == case.field)
        {
            failures.push(format!(
                "{} {} expecting {}: {status} {p}",
                case.method, case.path, case.field
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_total().await, audits, "nothing written");
    assert_eq!(type_count(app).await, n_types);
    assert_eq!(calendar_count(app).await, n_calendars);
    assert_eq!(
        app.store.work_order_type(fault.id).await.unwrap(),
        fault,
        "the fault type is unchanged"
    );

    // An unknown id is 404, not 422.
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &format!("{types}/{nobody}"),
            &json!({"version": 1}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .as_token(&admin, Method::GET, &format!("{calendars}/not-an-id"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .as_token(
            &admin,
            Method::GET,
            "/api/v1/work-order-types?include_inactive=maybe",
        )
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["include_inactive"]);
}

#[tokio::test]
async fn agents_read_types_and_calendars_but_do_not_change_them() {
    let app = TestApp::spawn().await;
    let cal = calendar_id(&app, "standard").await;
    let fault = app
        .store
        .work_order_type_by_code("fault")
        .await
        .unwrap()
        .unwrap();
    let fault_path = format!("/api/v1/work-order-types/{}", fault.id);
    let cal_path = format!("/api/v1/calendars/{cal}");
    let pn = unit(&app, "PN").await;
    let audits = app.audit_total().await;
    for role in ["agent", "site", "auditor", "supervisor"] {
        let t = app.login(role).await;
        let audits = app.audit_total().await;
        let types = app.get(&t, "/api/v1/work-order-types").await;
        assert!(types.as_array().unwrap().len() >= 7, "{role}");
        app.get(&t, &fault_path).await;
        app.get(&t, "/api/v1/calendars").await;
        app.get(&t, &cal_path).await;
        let r = app
            .send(
                &t,
                Method::POST,
                "/api/v1/work-order-types",
                &type_body("x", &cal, &pn),
            )
            .await;
        problem(r, StatusCode::FORBIDDEN).await;
        let r = app
            .send(
                &t,
                Method::PATCH,
                &fault_path,
                &json!({"version": fault.version, "active": false}),
            )
            .await;
        problem(r, StatusCode::FORBIDDEN).await;
        if role != "supervisor" {
            let r = app
                .send(
                    &t,
                    Method::PATCH,
                    &cal_path,
                    &json!({"version": 1, "name": "x"}),
                )
                .await;
            problem(r, StatusCode::FORBIDDEN).await;
            let r = app
                .send(&t, Method::POST, "/api/v1/calendars", &calendar_body("x"))
                .await;
            problem(r, StatusCode::FORBIDDEN).await;
        }
        assert_eq!(app.audit_total().await, audits, "{role} wrote something");
    }
    assert!(app.audit_total().await > audits, "sign-ins are audited");
    assert_eq!(app.store.work_order_type(fault.id).await.unwrap(), fault);
    // A supervisor keeps the calendars.
    let supervisor = app.login("supervisor").await;
    let r = app
        .send(
            &supervisor,
            Method::PATCH,
            &cal_path,
            &json!({"version": 1, "name": "标准日历"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn the_demo_types_are_seeded_once_with_their_units_and_promises() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let types = app.get(&agent, "/api/v1/work-order-types").await;
    let types = types.as_array().unwrap();
    let by_code = |code: &str| {
        types
            .iter()
            .find(|t| t["code"] == code)
            .unwrap_or_else(|| panic!("no demo type {code}"))
            .clone()
    };
    let codes: Vec<&str> = types.iter().map(|t| t["code"].as_str().unwrap()).collect();
    assert_eq!(codes, kefu::seed_work_orders::demo_type_codes());
    let standard = calendar_id(&app, "standard").await;
    for (code, name, unit_code) in [
        ("inquiry", "业务咨询", None),
        ("query", "业务查询", None),
        ("fault", "故障申告", Some("PN")),
        ("complaint", "投诉", Some("HQ")),
        ("suggestion", "建议", Some("HQ")),
        ("onsite", "上门服务", Some("BL")),
        ("payment_followup", "催缴跟进", None),
    ] {
        let t = by_code(code);
        assert_eq!(t["name"], name);
        assert!(t["name_en"].as_str().is_some_and(|n| !n.is_empty()));
        assert_eq!(t["calendar_id"], standard.as_str(), "{code}");
        let expected = match unit_code {
            Some(u) => json!(unit(&app, u).await),
            None => Value::Null,
        };
        assert_eq!(t["default_unit_id"], expected, "{code}");
    }

    let fault = by_code("fault");
    let category = &fault["fields"][0];
    assert_eq!(category["key"], "category");
    assert_eq!(category["kind"], "choice");
    let options: Vec<&str> = category["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        [
            "gas_leak",
            "no_gas",
            "meter_fault",
            "pipe_damage",
            "appliance",
            "other"
        ]
    );
    assert_eq!(category["options"][0]["label"], "燃气泄漏");
    assert!(
        fault["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "address")
    );
    assert_eq!(
        fault["priority_rules"][0],
        json!({"field": "category", "equals": "gas_leak", "priority": "emergency"})
    );
    assert_eq!(
        fault["sla"]["targets"]["emergency"],
        json!({"accept_mins": 10, "first_feedback_mins": 60, "resolve_mins": 240})
    );
    assert_eq!(fault["sla"]["emergency_always_open"], true);
    assert_eq!(fault["callback_required"], true);
    assert_eq!(fault["fallback_unit_id"], json!(unit(&app, "RC1").await));

    let complaint = by_code("complaint");
    let sources: Vec<&str> = complaint["fields"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["客户", "消协", "上级部门", "12345热线"]);
    assert_eq!(complaint["callback_required"], true);
    // Five working days of eight hours.
    assert_eq!(
        complaint["sla"]["targets"]["normal"]["resolve_mins"],
        5 * 8 * 60
    );
    let onsite = by_code("onsite");
    assert!(
        onsite["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "date" && f["label"] == "预约日期")
    );
    assert_eq!(by_code("inquiry")["callback_required"], false);

    let calendars = app.get(&agent, "/api/v1/calendars").await;
    let always = calendars
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "always")
        .unwrap();
    assert_eq!(always["spec"]["always_open"], true);
    let standard = app
        .get(&agent, &format!("/api/v1/calendars/{standard}"))
        .await;
    assert_eq!(standard["name"], "标准工作日历");
    assert!(
        standard["spec"]["holidays"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-10-01"))
    );

    // Seeding again creates nothing.
    let audits = app.audit_total().await;
    kefu::seed::demo(&app.store, app.state.today(), CUSTOMERS)
        .await
        .unwrap();
    assert_eq!(
        kefu::seed_work_orders::demo_work_order_config(&app.store)
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.audit_total().await, audits);
    assert_eq!(type_count(&app).await, types.len());
    assert_eq!(calendar_count(&app).await, 2);
    app.stop().await;
}

macro_rules! on_both {
    ($($sqlite:ident, $postgres:ident => $check:ident;)*) => {
        $(
            #[tokio::test]
            async fn $sqlite() {
                let app = TestApp::spawn().await;
                $check(&app).await;
                app.stop().await;
            }

            #[tokio::test]
            async fn $postgres() {
                let app = TestApp::spawn_with(Backend::Postgres, kefu_api::Settings::default()).await;
                $check(&app).await;
                app.stop().await;
            }
        )*
    };
}

on_both! {
    calendars_and_types_round_trip, calendars_and_types_round_trip_on_postgres
        => calendars_and_types_round_trip_on;
    a_stale_version_is_a_conflict, a_stale_version_is_a_conflict_on_postgres
        => a_stale_version_is_a_conflict_and_changes_nothing_on;
    bad_config_is_refused, bad_config_is_refused_on_postgres
        => bad_input_is_a_problem_naming_the_field_and_writes_nothing_on;
}
