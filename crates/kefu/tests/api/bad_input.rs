//! Bad input, endpoint by endpoint: malformed JSON, wrong content types, wrong types, missing and
//! unknown fields, oversize bodies, overlong strings, invalid phone numbers and dates, bad query
//! parameters and malformed ids. Each case must get its 4xx problem+json naming the field, and nothing
//! may be written. One table, one `check`.

use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

enum Body {
    None,
    Json(Value),
    /// Content type and bytes, sent as they are.
    Raw(&'static str, Vec<u8>),
}

struct Case {
    method: Method,
    path: String,
    body: Body,
    status: u16,
    /// The one field the 422 must name; for other statuses, the problem type's last segment.
    expect: &'static str,
}

fn case(method: Method, path: &str, body: Body, status: u16, expect: &'static str) -> Case {
    Case {
        method,
        path: path.to_string(),
        body,
        status,
        expect,
    }
}

fn json_case(method: Method, path: &str, body: Value, field: &'static str) -> Case {
    case(method, path, Body::Json(body), 422, field)
}

fn raw(content_type: &'static str, s: &str) -> Body {
    Body::Raw(content_type, s.as_bytes().to_vec())
}

/// `base` with `key` set to `value` (`Value::Null` too), or removed when `value` is `None`.
fn with(base: &Value, key: &str, value: Option<Value>) -> Value {
    let mut v = base.clone();
    let o = v.as_object_mut().unwrap();
    match value {
        Some(x) => {
            o.insert(key.to_string(), x);
        }
        None => {
            o.remove(key);
        }
    }
    v
}

fn long(n: usize) -> Value {
    Value::String("长".repeat(n))
}

/// A JSON body just over the 256 KiB limit, otherwise valid.
fn oversize(base: &Value) -> Body {
    Body::Json(with(
        base,
        "remarks",
        Some(Value::String("x".repeat(300 * 1024))),
    ))
}

/// Every write endpoint's bad bodies: (method, path, a valid body) and what to break in it.
fn body_cases(customer: &str, other_customer_no: &str, unit: &str, user_id: &str) -> Vec<Case> {
    use Method as M;
    let mut cases = Vec::new();
    let c = customer_json("BAD-0001");
    let customers = "/api/v1/customers";
    let patch = format!("/api/v1/customers/{customer}");
    let payments = format!("/api/v1/customers/{customer}/payments");
    let today = Utc::now().date_naive();
    let pay = json!({"amount_cents": 1000, "paid_on": today.to_string(), "method": "counter"});
    let user = json!({"username": "newbie", "display_name": "新人", "password": "Newbie-2026", "role": "agent", "unit_id": unit});
    let unit_body = json!({"code": "NEW1", "name": "新单位", "kind": "department"});

    // The same syntax and content-type faults on every endpoint.
    for (m, path, valid) in [
        (M::POST, customers.to_string(), c.clone()),
        (M::PATCH, patch.clone(), json!({"name": "新名字"})),
        (M::POST, "/api/v1/users".to_string(), user.clone()),
        (M::POST, payments.clone(), pay.clone()),
        (M::POST, "/api/v1/units".to_string(), unit_body.clone()),
    ] {
        let text = valid.to_string();
        let mut half = text.len() / 2;
        while !text.is_char_boundary(half) {
            half -= 1;
        }
        let cut = &text[..half];
        cases.push(case(
            m.clone(),
            &path,
            raw("application/json", cut),
            400,
            "bad-request",
        ));
        cases.push(case(
            m.clone(),
            &path,
            raw("application/json", ""),
            400,
            "bad-request",
        ));
        cases.push(case(
            m.clone(),
            &path,
            raw("application/json", &format!("{text} {{}}")),
            400,
            "bad-request",
        ));
        cases.push(case(
            m.clone(),
            &path,
            raw("application/json", "{'single': 'quotes'}"),
            400,
            "bad-request",
        ));
        cases.push(case(
            m.clone(),
            &path,
            Body::Raw("application/json", b"{\"\xff\xfe\": 1}".to_vec()),
            400,
            "bad-request",
        ));
        cases.push(case(
            m.clone(),
            &path,
            raw("text/plain", &text),
            415,
            "unsupported-media-type",
        ));
        cases.push(case(
            m.clone(),
            &path,
            raw("application/x-www-form-urlencoded", "name=x"),
            415,
            "unsupported-media-type",
        ));
        cases.push(case(
            m.clone(),
            &path,
            Body::None,
            415,
            "unsupported-media-type",
        ));
        cases.push(case(m.clone(), &path, oversize(&valid), 413, "too-large"));
        cases.push(json_case(
            m.clone(),
            &path,
            with(&valid, "foo", Some(json!(1))),
            "foo",
        ));
        // Not an object: refused, even an array holding the fields in order.
        let positional: Vec<Value> = valid.as_object().unwrap().values().cloned().collect();
        cases.push(json_case(m.clone(), &path, json!(positional), "body"));
        cases.push(json_case(m.clone(), &path, json!([valid]), "body"));
        cases.push(json_case(m.clone(), &path, json!("text"), "body"));
        cases.push(json_case(m.clone(), &path, Value::Null, "body"));
    }

    // POST /customers
    let p = customers;
    for (key, value, field) in [
        ("phones", Some(json!("x")), "phones"),
        ("phones", Some(json!([13812345678u64])), "phones[0]"),
        ("phones", Some(json!(["13812345678", "12345"])), "phones[1]"),
        (
            "phones",
            Some(json!(["13812345678", "138-1234-567x"])),
            "phones[1]",
        ),
        ("phones", Some(json!([])), "phones"),
        ("phones", None, "phones"),
        ("name", None, "name"),
        ("name", Some(Value::Null), "name"),
        ("name", Some(json!(5)), "name"),
        ("name", Some(long(61)), "name"),
        ("name", Some(json!("a".repeat(61))), "name"),
        ("name", Some(json!("   ")), "name"),
        ("name", Some(json!("bell\u{7}")), "name"),
        ("customer_no", Some(json!("X1")), "customer_no"),
        ("customer_no", Some(json!("BAD 0001")), "customer_no"),
        ("customer_no", Some(json!("B".repeat(21))), "customer_no"),
        ("customer_no", None, "customer_no"),
        ("address", Some(long(201)), "address"),
        ("district", Some(long(21)), "district"),
        ("district", None, "district"),
        ("service_type", Some(json!("lpg")), "service_type"),
        ("notice_preference", Some(json!("fax")), "fax"),
        (
            "notice_preference",
            Some(json!("pigeon")),
            "notice_preference",
        ),
        ("email", Some(json!("not-an-email")), "email"),
        ("fax", Some(json!("fax me")), "fax"),
        ("language", Some(json!("fr")), "language"),
        ("meter_no", Some(json!("M".repeat(33))), "meter_no"),
        ("remarks", Some(long(501)), "remarks"),
        ("remarks", Some(json!({"a": 1})), "remarks"),
    ] {
        cases.push(json_case(M::POST, p, with(&c, key, value), field));
    }
    // A customer number that exists: conflict.
    cases.push(case(
        M::POST,
        p,
        Body::Json(with(&c, "customer_no", Some(json!(other_customer_no)))),
        409,
        "conflict",
    ));

    // PATCH /customers/{id}
    for (body, field) in [
        (json!({"phones": "x"}), "phones"),
        (json!({"phones": ["13812345678", "0574-1"]}), "phones[1]"),
        (json!({"phones": []}), "phones"),
        (json!({"name": long(61)}), "name"),
        (json!({"name": null}), "name"),
        (json!({"remarks": 7}), "remarks"),
        (json!({"remarks": "r".repeat(501)}), "remarks"),
        (json!({"notice_preference": "fax", "fax": null}), "fax"),
        (json!({"service_type": "coal"}), "service_type"),
        (json!({"customer_no": "?"}), "customer_no"),
    ] {
        cases.push(json_case(M::PATCH, &patch, body, field));
    }
    cases.push(case(
        M::PATCH,
        &patch,
        Body::Json(json!({"customer_no": other_customer_no})),
        409,
        "conflict",
    ));

    // POST /users
    let p = "/api/v1/users";
    for (key, value, field) in [
        ("role", None, "role"),
        ("role", Some(json!("root")), "role"),
        ("username", Some(json!(123)), "username"),
        ("username", Some(json!("a")), "username"),
        ("username", Some(json!("has space")), "username"),
        ("display_name", Some(long(41)), "display_name"),
        ("password", Some(json!("short1")), "password"),
        ("password", Some(json!("onlyletters")), "password"),
        ("password", None, "password"),
        ("unit_id", Some(json!("xyz")), "unit_id"),
        ("unit_id", Some(json!(uuid::Uuid::now_v7())), "unit_id"),
    ] {
        cases.push(json_case(M::POST, p, with(&user, key, value), field));
    }
    for taken in ["agent", "AGENT"] {
        cases.push(case(
            M::POST,
            p,
            Body::Json(with(&user, "username", Some(json!(taken)))),
            409,
            "conflict",
        ));
    }

    // POST /customers/{id}/payments
    let p = &payments;
    let tomorrow = today.checked_add_days(Days::new(2)).unwrap().to_string();
    for (key, value, field) in [
        ("amount_cents", Some(json!("1")), "amount_cents"),
        ("amount_cents", Some(json!(1.5)), "amount_cents"),
        ("amount_cents", Some(json!(0)), "amount_cents"),
        ("amount_cents", Some(json!(-100)), "amount_cents"),
        (
            "amount_cents",
            Some(json!(10_000_000_001i64)),
            "amount_cents",
        ),
        ("amount_cents", None, "amount_cents"),
        ("paid_on", Some(json!("2026-13-01")), "paid_on"),
        ("paid_on", Some(json!("2026-02-30")), "paid_on"),
        ("paid_on", Some(json!("01/02/2026")), "paid_on"),
        ("paid_on", Some(json!(tomorrow)), "paid_on"),
        ("paid_on", None, "paid_on"),
        ("method", Some(json!("cash")), "method"),
        ("method", None, "method"),
        ("period", Some(json!("2026-13")), "period"),
        ("period", Some(json!("1999-01")), "period"),
        ("reference", Some(long(65)), "reference"),
    ] {
        cases.push(json_case(M::POST, p, with(&pay, key, value), field));
    }
    let nobody = format!("/api/v1/customers/{}/payments", uuid::Uuid::now_v7());
    cases.push(case(
        M::POST,
        &nobody,
        Body::Json(pay.clone()),
        404,
        "not-found",
    ));

    // POST /units
    let p = "/api/v1/units";
    for (key, value, field) in [
        ("code", Some(json!("")), "code"),
        ("code", Some(json!("has space")), "code"),
        ("code", Some(json!("C".repeat(17))), "code"),
        ("code", None, "code"),
        ("name", Some(long(61)), "name"),
        ("name", None, "name"),
        ("kind", Some(json!("castle")), "kind"),
        ("kind", None, "kind"),
        ("parent_id", Some(json!("abc")), "parent_id"),
        ("parent_id", Some(json!(uuid::Uuid::now_v7())), "parent_id"),
        ("takes_queue_calls", Some(json!("yes")), "takes_queue_calls"),
    ] {
        cases.push(json_case(M::POST, p, with(&unit_body, key, value), field));
    }
    cases.push(case(
        M::POST,
        p,
        Body::Json(with(&unit_body, "code", Some(json!("hq")))),
        409,
        "conflict",
    ));

    // PATCH /units/{id} and /users/{id}: `null` for a field that cannot be cleared is refused.
    let p = format!("/api/v1/units/{unit}");
    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"kind": null}), "kind"),
        (json!({"active": null}), "active"),
        (json!({"name": long(61)}), "name"),
        (json!({"kind": "castle"}), "kind"),
        (json!({"parent_id": uuid::Uuid::now_v7()}), "parent_id"),
        (json!({"takes_queue_calls": 1}), "takes_queue_calls"),
    ] {
        cases.push(json_case(M::PATCH, &p, body, field));
    }
    cases.push(case(
        M::PATCH,
        &p,
        Body::Json(json!({"parent_id": unit})),
        409,
        "conflict",
    ));
    let p = format!("/api/v1/users/{user_id}");
    for (body, field) in [
        (json!({"role": null}), "role"),
        (json!({"display_name": null}), "display_name"),
        (json!({"unit_id": null}), "unit_id"),
        (json!({"role": "root"}), "role"),
        (json!({"display_name": long(41)}), "display_name"),
        (json!({"unit_id": uuid::Uuid::now_v7()}), "unit_id"),
        (json!({"password": "Abcdefg-123"}), "password"),
    ] {
        cases.push(json_case(M::PATCH, &p, body, field));
    }
    cases
}

fn query_and_path_cases() -> Vec<Case> {
    use Method as M;
    let get = |path: &str, status: u16, expect: &'static str| {
        case(M::GET, path, Body::None, status, expect)
    };
    let mut cases = vec![
        get("/api/v1/customers?per_page=1000", 422, "per_page"),
        get("/api/v1/customers?per_page=0", 422, "per_page"),
        get("/api/v1/customers?page=0", 422, "page"),
        get("/api/v1/customers?page=abc", 422, "page"),
        get("/api/v1/customers?page=-1", 422, "page"),
        get("/api/v1/customers?page=1.5", 422, "page"),
        get("/api/v1/customers?foo=1", 422, "foo"),
        get("/api/v1/customers?q=x&Page=2", 422, "Page"),
        get("/api/v1/customers?service_type=lpg", 422, "service_type"),
        get("/api/v1/customers?phone=call-me", 422, "phone"),
        get(
            &format!("/api/v1/customers?q={}", "q".repeat(101)),
            422,
            "q",
        ),
        get("/api/v1/customers/by-phone/abc", 422, "phone"),
        get("/api/v1/users?per_page=201", 422, "per_page"),
        get("/api/v1/users?bar=1", 422, "bar"),
        get("/api/v1/audit?from=yesterday", 422, "from"),
        get("/api/v1/audit?to=2026-13-40", 422, "to"),
        get("/api/v1/audit?page=abc", 422, "page"),
        get("/api/v1/imports?per_page=1000", 422, "per_page"),
        case(
            M::POST,
            "/api/v1/imports?kind=furniture",
            raw("text/csv", "户号\n1\n"),
            422,
            "kind",
        ),
        case(
            M::POST,
            "/api/v1/imports",
            raw("text/csv", "户号\n1\n"),
            422,
            "kind",
        ),
        case(
            M::POST,
            "/api/v1/imports?kind=customers&skip_invalid=maybe",
            raw("text/csv", "户号\n1\n"),
            422,
            "skip_invalid",
        ),
        case(
            M::POST,
            "/api/v1/imports?kind=customers&color=red",
            raw("text/csv", "户号\n1\n"),
            422,
            "color",
        ),
    ];
    let valid = Body::Json(json!({"name": "x"}));
    for (m, path, body) in [
        (M::GET, "/api/v1/customers/not-a-uuid", Body::None),
        (M::GET, "/api/v1/customers/123", Body::None),
        (M::PATCH, "/api/v1/customers/not-a-uuid", valid),
        (
            M::POST,
            "/api/v1/customers/xyz/payments",
            Body::Json(json!({"amount_cents": 1, "paid_on": "2026-01-01", "method": "counter"})),
        ),
        (M::GET, "/api/v1/users/xyz", Body::None),
        (
            M::PATCH,
            "/api/v1/users/xyz",
            Body::Json(json!({"display_name": "x"})),
        ),
        (
            M::POST,
            "/api/v1/users/xyz/password",
            Body::Json(json!({"new_password": "Abcdefg-123"})),
        ),
        (
            M::PATCH,
            "/api/v1/units/xyz",
            Body::Json(json!({"name": "x"})),
        ),
        (M::GET, "/api/v1/imports/xyz", Body::None),
        (M::DELETE, "/api/v1/tokens/xyz", Body::None),
    ] {
        cases.push(case(m, path, body, 404, "not-found"));
    }
    let unknown = uuid::Uuid::now_v7();
    for path in ["customers", "users", "imports"] {
        cases.push(get(&format!("/api/v1/{path}/{unknown}"), 404, "not-found"));
    }
    cases.push(case(
        M::PATCH,
        &format!("/api/v1/customers/{unknown}"),
        Body::Json(json!({"name": "x"})),
        404,
        "not-found",
    ));
    cases
}

/// Sends one case and returns what was wrong with the answer, if anything.
async fn check(app: &TestApp, token: &str, c: Case) -> Option<String> {
    let label = format!("{} {} → {} {}", c.method, c.path, c.status, c.expect);
    let mut req = app.as_token(token, c.method, &c.path);
    req = match c.body {
        Body::None => req,
        Body::Json(v) => req
            .header("content-type", "application/json")
            .body(v.to_string()),
        Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
    };
    let r = match req.send().await {
        Ok(r) => r,
        Err(e) => return Some(format!("{label}: request failed: {e}")),
    };
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.unwrap_or_default();
    if status != c.status {
        return Some(format!("{label}: got {status} {text}"));
    }
    if ct != "application/problem+json" {
        return Some(format!("{label}: content type {ct:?}: {text}"));
    }
    let p: Value = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(e) => return Some(format!("{label}: not JSON ({e}): {text}")),
    };
    if p["status"] != c.status || p["detail"].as_str().is_none_or(str::is_empty) {
        return Some(format!("{label}: incomplete problem {p}"));
    }
    if c.status == 422 {
        let errors = field_reasons(&p);
        let ok = p["type"] == "https://kefu.dev/problems/validation"
            && errors.len() == 1
            && errors[0].0 == c.expect
            && !errors[0].1.is_empty();
        if !ok {
            return Some(format!("{label}: errors {errors:?} in {p}"));
        }
    } else if p["type"] != format!("https://kefu.dev/problems/{}", c.expect) {
        return Some(format!("{label}: type {}", p["type"]));
    }
    None
}

#[tokio::test]
async fn every_bad_request_is_a_problem_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    every_bad_request_is_a_problem_naming_the_field_and_writes_nothing_on(&app).await;
    app.stop().await;
}

pub(crate) async fn every_bad_request_is_a_problem_naming_the_field_and_writes_nothing_on(
    app: &TestApp,
) {
    let admin = app.login("admin").await;
    let demo = app.get(&admin, "/api/v1/customers?per_page=2").await;
    let customer = demo["items"][0]["id"].as_str().unwrap().to_string();
    let other_no = demo["items"][1]["customer_no"]
        .as_str()
        .unwrap()
        .to_string();
    let unit = app.get(&admin, "/api/v1/units").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let users = app.get(&admin, "/api/v1/users?q=agent").await;
    let user_id = users["items"][0]["id"].as_str().unwrap().to_string();
    let before_detail = app
        .get(&admin, &format!("/api/v1/customers/{customer}"))
        .await;
    let customers = app.customer_count().await;
    let audit = app.audit_total().await;

    let mut cases = body_cases(&customer, &other_no, &unit, &user_id);
    cases.extend(query_and_path_cases());
    assert!(cases.len() > 150, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let label = format!("{} {}", c.method, c.path);
        if let Some(f) = check(app, &admin, c).await {
            failures.push(f);
        }
        // Nothing written, after every single case.
        let (now_customers, now_audit) = (app.customer_count().await, app.audit_total().await);
        if (now_customers, now_audit) != (customers, audit) {
            failures.push(format!(
                "{label}: wrote something: customers {customers} → {now_customers}, audit {audit} → {now_audit}"
            ));
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after_detail = app
        .get(&admin, &format!("/api/v1/customers/{customer}"))
        .await;
    assert_eq!(before_detail, after_detail, "the patched customer changed");
}

// Regression tests, one per bug the table found.

/// Bug: `{…valid…} {}` was accepted (the parser stopped after the first value) and created a customer.
#[tokio::test]
async fn trailing_data_after_the_json_body_is_refused() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let (count, audit) = (app.customer_count().await, app.audit_total().await);
    for tail in ["{}", "x", "[1]", "\"more\""] {
        let r = app
            .as_token(&agent, Method::POST, "/api/v1/customers")
            .header("content-type", "application/json")
            .body(format!("{} {tail}", customer_json("TRAIL-0001")))
            .send()
            .await
            .unwrap();
        let p = problem(r, reqwest::StatusCode::BAD_REQUEST).await;
        assert!(p["detail"].as_str().unwrap().contains("trailing"), "{p}");
    }
    assert_eq!(app.customer_count().await, count);
    assert_eq!(app.audit_total().await, audit);
    // Trailing whitespace is fine.
    let r = app
        .as_token(&agent, Method::POST, "/api/v1/customers")
        .header("content-type", "application/json")
        .body(format!("{} \n\t ", customer_json("TRAIL-0002")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    app.stop().await;
}

/// Bug: a JSON array was taken for an object with its fields in declaration order, so
/// `["NEW1", "新单位", "department", null, false]` created a unit.
#[tokio::test]
async fn a_json_array_is_not_taken_for_an_object() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let audit = app.audit_total().await;
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/units",
            &json!(["NEW1", "新单位", "department", null, false]),
        )
        .await;
    let p = problem(r, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["body"]);
    assert_eq!(app.audit_total().await, audit);
    let units = app.get(&admin, "/api/v1/units").await;
    assert!(
        units
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["code"] != "NEW1")
    );
    app.stop().await;
}

/// Bug: PATCH `{"name": null}` answered 200 and left the name as it was (recording an update), when
/// the name cannot be cleared.
#[tokio::test]
async fn patch_null_for_a_field_that_cannot_be_cleared_is_refused() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let c = app.get(&agent, "/api/v1/customers?per_page=1").await["items"][0].clone();
    let path = format!("/api/v1/customers/{}", c["id"].as_str().unwrap());
    let audit = app.audit_total().await;
    for field in ["name", "phones", "customer_no", "service_type", "language"] {
        let r = app
            .send(&agent, Method::PATCH, &path, &json!({ field: null }))
            .await;
        let p = problem(r, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&p), [field]);
    }
    assert_eq!(app.audit_total().await, audit);
    assert_eq!(app.get(&agent, &path).await["name"], c["name"]);
    app.stop().await;
}
