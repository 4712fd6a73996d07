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

/// The same syntax and content-type faults for any JSON endpoint, given a valid body for it.
fn syntax_faults(cases: &mut Vec<Case>, m: Method, path: &str, valid: &Value) {
    let path = path.to_string();
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
    cases.push(case(m.clone(), &path, oversize(valid), 413, "too-large"));
    cases.push(json_case(
        m.clone(),
        &path,
        with(valid, "foo", Some(json!(1))),
        "foo",
    ));
    // Not an object: refused, even an array holding the fields in order.
    let positional: Vec<Value> = valid.as_object().unwrap().values().cloned().collect();
    cases.push(json_case(m.clone(), &path, json!(positional), "body"));
    cases.push(json_case(m.clone(), &path, json!([valid]), "body"));
    cases.push(json_case(m.clone(), &path, json!("text"), "body"));
    cases.push(json_case(m.clone(), &path, Value::Null, "body"));
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
        syntax_faults(&mut cases, m, &path, &valid);
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

/// Telephony configuration: extensions, trunks, routes. `ext`, `trunk` and `route` are the demo's.
fn telephony_cases(ext: &str, trunk: &str, route: &str, unit: &str, user_id: &str) -> Vec<Case> {
    use Method as M;
    let mut cases = Vec::new();
    let nobody = uuid::Uuid::now_v7();
    let extension = json!({"number": "8009", "display_name": "新分机", "user_id": user_id, "password": "Phone-8009x"});
    let ext_path = format!("/api/v1/extensions/{ext}");
    let ext_password = format!("{ext_path}/password");
    let trunk_body =
        json!({"name": "新中继", "kind": "carrier", "allowed_sources": ["203.0.113.7"]});
    let trunk_path = format!("/api/v1/trunks/{trunk}");
    let route_body = json!({"number": "96779", "target": {"kind": "flow", "name": "main"}});
    let route_path = format!("/api/v1/routes/{route}");
    for (m, path, valid) in [
        (M::POST, "/api/v1/extensions".to_string(), extension.clone()),
        (M::PATCH, ext_path.clone(), json!({"display_name": "x"})),
        (
            M::POST,
            ext_password.clone(),
            json!({"password": "Phone-8009x"}),
        ),
        (M::POST, "/api/v1/trunks".to_string(), trunk_body.clone()),
        (M::PATCH, trunk_path.clone(), json!({"enabled": false})),
        (M::POST, "/api/v1/routes".to_string(), route_body.clone()),
        (M::PATCH, route_path.clone(), json!({"description": "x"})),
    ] {
        syntax_faults(&mut cases, m, &path, &valid);
    }

    // POST /extensions
    let p = "/api/v1/extensions";
    for (key, value, field) in [
        ("number", None, "number"),
        ("number", Some(json!("1")), "number"),
        ("number", Some(json!("80a1")), "number"),
        ("number", Some(json!("123456789")), "number"),
        ("number", Some(json!(8009)), "number"),
        ("display_name", None, "display_name"),
        ("display_name", Some(long(41)), "display_name"),
        ("display_name", Some(json!("  ")), "display_name"),
        ("user_id", Some(json!("xyz")), "user_id"),
        ("user_id", Some(json!(nobody)), "user_id"),
        ("user_id", Some(Value::Null), "user_id"),
        ("user_id", None, "user_id"),
        ("unit_id", Some(json!(unit)), "unit_id"),
        ("password", None, "password"),
        ("password", Some(json!("short1")), "password"),
        ("password", Some(json!("p".repeat(65))), "password"),
        ("password", Some(json!("bell\u{7}pass1")), "password"),
        ("password", Some(json!(12345678)), "password"),
        ("enabled", Some(json!("yes")), "enabled"),
    ] {
        cases.push(json_case(M::POST, p, with(&extension, key, value), field));
    }
    cases.push(json_case(
        M::POST,
        p,
        json!({"number": "80098009", "display_name": "x", "user_id": user_id, "password": "80098009"}),
        "password",
    ));
    cases.push(json_case(
        M::POST,
        p,
        json!({"number": "8009", "display_name": "x", "unit_id": nobody, "password": "Phone-8009x"}),
        "unit_id",
    ));
    cases.push(case(
        M::POST,
        p,
        Body::Json(with(&extension, "number", Some(json!("8001")))),
        409,
        "conflict",
    ));

    // PATCH /extensions/{id}, POST /extensions/{id}/password
    for (body, field) in [
        (json!({"number": "1"}), "number"),
        (json!({"number": 8009}), "number"),
        (json!({"number": "8009"}), "password"),
        (json!({"number": null}), "number"),
        (json!({"display_name": null}), "display_name"),
        (json!({"display_name": long(41)}), "display_name"),
        (json!({"enabled": null}), "enabled"),
        (json!({"user_id": null}), "user_id"),
        (json!({"user_id": nobody}), "user_id"),
        (json!({"unit_id": nobody}), "unit_id"),
        (json!({"user_id": user_id, "unit_id": unit}), "unit_id"),
        (json!({"password": "short"}), "password"),
        (json!({"password": null}), "password"),
    ] {
        cases.push(json_case(M::PATCH, &ext_path, body, field));
    }
    cases.push(case(
        M::PATCH,
        &ext_path,
        Body::Json(json!({"number": "8001", "password": "Phone-8001x"})),
        409,
        "conflict",
    ));
    for (body, field) in [
        (json!({}), "password"),
        (json!({"password": "short"}), "password"),
        (json!({"password": 12345678}), "password"),
        (json!({"password": "p".repeat(65)}), "password"),
    ] {
        cases.push(json_case(M::POST, &ext_password, body, field));
    }

    // POST /trunks
    let p = "/api/v1/trunks";
    let too_many: Vec<String> = (0..101).map(|i| format!("10.0.{i}.0/24")).collect();
    for (key, value, field) in [
        ("name", None, "name"),
        ("name", Some(json!("")), "name"),
        ("name", Some(long(65)), "name"),
        ("kind", None, "kind"),
        ("kind", Some(json!("sip")), "kind"),
        ("enabled", Some(json!(1)), "enabled"),
        (
            "allowed_sources",
            Some(json!("203.0.113.7")),
            "allowed_sources",
        ),
        (
            "allowed_sources",
            Some(json!(["localhost"])),
            "allowed_sources[0]",
        ),
        (
            "allowed_sources",
            Some(json!(["10.0.0.1", "10.0.0.0/33"])),
            "allowed_sources[1]",
        ),
        (
            "allowed_sources",
            Some(json!(["10.20.1.1/16"])),
            "allowed_sources[0]",
        ),
        ("allowed_sources", Some(json!([1])), "allowed_sources[0]"),
        ("allowed_sources", Some(json!(too_many)), "allowed_sources"),
        (
            "inbound_username",
            Some(json!("ctc-in")),
            "inbound_password",
        ),
        (
            "inbound_password",
            Some(json!("Inbound-1x")),
            "inbound_username",
        ),
        ("proxy", Some(json!("host:0")), "proxy"),
        ("proxy", Some(json!("bad host")), "proxy"),
        ("proxy", Some(json!("2001:db8::1")), "proxy"),
        ("transport", Some(json!("tls")), "transport"),
        ("username", Some(json!("a:b")), "username"),
        ("password", Some(json!("secret")), "username"),
        ("register", Some(json!("yes")), "register"),
        ("register_expires", Some(json!(59)), "register_expires"),
        ("register_expires", Some(json!(3601)), "register_expires"),
        ("register_expires", Some(json!(-1)), "register_expires"),
        ("register_expires", Some(json!("600")), "register_expires"),
        ("caller_id", Some(json!("abc")), "caller_id"),
        ("caller_id", Some(json!("+12")), "caller_id"),
        ("max_channels", Some(json!(0)), "max_channels"),
        ("max_channels", Some(json!(10_001)), "max_channels"),
        ("max_channels", Some(json!(1.5)), "max_channels"),
    ] {
        cases.push(json_case(M::POST, p, with(&trunk_body, key, value), field));
    }
    let full = |extra: Value| {
        let mut b = trunk_body.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for (extra, field) in [
        (
            json!({"inbound_username": "a b", "inbound_password": "Inbound-1x"}),
            "inbound_username",
        ),
        (
            json!({"inbound_username": "ctc-in", "inbound_password": "short"}),
            "inbound_password",
        ),
        (
            json!({"inbound_username": "ctc-in-1", "inbound_password": "ctc-in-1"}),
            "inbound_password",
        ),
        (json!({"username": "u1", "password": ""}), "password"),
        (
            json!({"username": "u1", "password": "p".repeat(129)}),
            "password",
        ),
        (
            json!({"proxy": "sip.example", "username": "u1", "register": true}),
            "password",
        ),
        (
            json!({"proxy": "sip.example", "password": "p1", "register": true}),
            "username",
        ),
        (
            json!({"username": "u1", "password": "p1", "register": true}),
            "proxy",
        ),
    ] {
        cases.push(json_case(M::POST, p, full(extra), field));
    }
    cases.push(case(
        M::POST,
        p,
        Body::Json(with(&trunk_body, "name", Some(json!("本地测试中继")))),
        409,
        "conflict",
    ));

    // PATCH /trunks/{id} (the demo trunk: no proxy, username or password, no inbound digest)
    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"name": long(65)}), "name"),
        (json!({"kind": null}), "kind"),
        (json!({"kind": "sip"}), "kind"),
        (json!({"enabled": null}), "enabled"),
        (json!({"allowed_sources": null}), "allowed_sources"),
        (json!({"allowed_sources": ["x"]}), "allowed_sources[0]"),
        (json!({"transport": null}), "transport"),
        (json!({"transport": "sctp"}), "transport"),
        (json!({"register": null}), "register"),
        (json!({"register_expires": null}), "register_expires"),
        (json!({"register_expires": 10}), "register_expires"),
        (json!({"password": "secret"}), "username"),
        (
            json!({"inbound_password": "Inbound-1x"}),
            "inbound_username",
        ),
        (json!({"inbound_username": "ctc-in"}), "inbound_password"),
        (
            json!({"inbound_username": null, "inbound_password": "Inbound-1x"}),
            "inbound_password",
        ),
        (json!({"proxy": "bad host"}), "proxy"),
        (json!({"caller_id": "x"}), "caller_id"),
        (json!({"max_channels": 0}), "max_channels"),
        (
            json!({"proxy": "sip.example", "username": "u1", "register": true}),
            "password",
        ),
    ] {
        cases.push(json_case(M::PATCH, &trunk_path, body, field));
    }

    // POST /routes
    let p = "/api/v1/routes";
    for (key, value, field) in [
        ("number", None, "number"),
        ("number", Some(json!("12")), "number"),
        ("number", Some(json!("96-777")), "number"),
        ("number", Some(json!(96779)), "number"),
        ("target", None, "target"),
        ("target", Some(json!("flow:main")), "target"),
        (
            "target",
            Some(json!({"kind": "voicemail", "name": "x"})),
            "target.kind",
        ),
        ("target", Some(json!({"name": "main"})), "target.kind"),
        ("target", Some(json!({"kind": "flow"})), "target.name"),
        (
            "target",
            Some(json!({"kind": "flow", "name": "Main"})),
            "target.name",
        ),
        (
            "target",
            Some(json!({"kind": "flow", "name": "x".repeat(65)})),
            "target.name",
        ),
        (
            "target",
            Some(json!({"kind": "extension", "number": "x"})),
            "target.number",
        ),
        (
            "target",
            Some(json!({"kind": "extension", "number": "8999"})),
            "target.number",
        ),
        (
            "target",
            Some(json!({"kind": "extension", "name": "main"})),
            "target.name",
        ),
        (
            "target",
            Some(json!({"kind": "flow", "name": "main", "number": "8001"})),
            "target.number",
        ),
        (
            "target",
            Some(json!({"kind": "flow", "name": "main", "color": 1})),
            "target.color",
        ),
        ("trunk_id", Some(json!(nobody)), "trunk_id"),
        ("trunk_id", Some(json!("abc")), "trunk_id"),
        ("description", Some(long(201)), "description"),
    ] {
        cases.push(json_case(M::POST, p, with(&route_body, key, value), field));
    }
    cases.push(case(
        M::POST,
        p,
        Body::Json(with(&route_body, "number", Some(json!("96777")))),
        409,
        "conflict",
    ));

    // PATCH /routes/{id}
    for (body, field) in [
        (json!({"number": null}), "number"),
        (json!({"number": "1"}), "number"),
        (json!({"target": null}), "target"),
        (json!({"target": {"kind": "queue"}}), "target.name"),
        (
            json!({"target": {"kind": "extension", "number": "8999"}}),
            "target.number",
        ),
        (json!({"trunk_id": nobody}), "trunk_id"),
        (json!({"trunk_id": 5}), "trunk_id"),
        (json!({"description": long(201)}), "description"),
    ] {
        cases.push(json_case(M::PATCH, &route_path, body, field));
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
        get("/api/v1/calls?per_page=1000", 422, "per_page"),
        get("/api/v1/calls?page=0", 422, "page"),
        get("/api/v1/calls?foo=1", 422, "foo"),
        get("/api/v1/calls?direction=sideways", 422, "direction"),
        get("/api/v1/calls?disposition=maybe", 422, "disposition"),
        get("/api/v1/calls?from=yesterday", 422, "from"),
        get("/api/v1/calls?to=2026-13-01", 422, "to"),
        get("/api/v1/calls?from=2026-11-27&to=2026-11-25", 422, "to"),
        get("/api/v1/calls?trunk_id=xyz", 422, "trunk_id"),
        get("/api/v1/calls?call_uuid=1", 422, "call_uuid"),
        get("/api/v1/calls?caller=a%20b", 422, "caller"),
        get("/api/v1/calls?callee=%E5%91%BC", 422, "callee"),
        get(
            &format!("/api/v1/calls?number={}", "1".repeat(65)),
            422,
            "number",
        ),
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
        (M::GET, "/api/v1/extensions/xyz", Body::None),
        (
            M::PATCH,
            "/api/v1/extensions/xyz",
            Body::Json(json!({"enabled": false})),
        ),
        (M::DELETE, "/api/v1/extensions/xyz", Body::None),
        (
            M::POST,
            "/api/v1/extensions/xyz/password",
            Body::Json(json!({"password": "Phone-8009x"})),
        ),
        (M::GET, "/api/v1/trunks/xyz", Body::None),
        (
            M::PATCH,
            "/api/v1/trunks/xyz",
            Body::Json(json!({"enabled": false})),
        ),
        (M::DELETE, "/api/v1/trunks/xyz", Body::None),
        (M::GET, "/api/v1/routes/xyz", Body::None),
        (
            M::PATCH,
            "/api/v1/routes/xyz",
            Body::Json(json!({"description": "x"})),
        ),
        (M::DELETE, "/api/v1/routes/xyz", Body::None),
        (M::GET, "/api/v1/calls/xyz", Body::None),
    ] {
        cases.push(case(m, path, body, 404, "not-found"));
    }
    let unknown = uuid::Uuid::now_v7();
    for path in [
        "customers",
        "users",
        "imports",
        "extensions",
        "trunks",
        "routes",
        "calls",
    ] {
        cases.push(get(&format!("/api/v1/{path}/{unknown}"), 404, "not-found"));
    }
    for (m, path, body) in [
        (M::PATCH, "extensions", Some(json!({"enabled": false}))),
        (M::PATCH, "trunks", Some(json!({"enabled": false}))),
        (M::PATCH, "routes", Some(json!({"description": "x"}))),
        (M::DELETE, "extensions", None),
        (M::DELETE, "trunks", None),
        (M::DELETE, "routes", None),
    ] {
        let body = body.map(Body::Json).unwrap_or(Body::None);
        cases.push(case(
            m,
            &format!("/api/v1/{path}/{unknown}"),
            body,
            404,
            "not-found",
        ));
    }
    cases.push(case(
        M::POST,
        &format!("/api/v1/extensions/{unknown}/password"),
        Body::Json(json!({"password": "Phone-8009x"})),
        404,
        "not-found",
    ));
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

    let ext = app.store.extension_auth("8101").await.unwrap().unwrap().id;
    let trunk = app.store.trunks().await.unwrap()[0].id;
    let route = app
        .store
        .route_for_number("96777")
        .await
        .unwrap()
        .unwrap()
        .id;
    let telephony_before = (
        app.get(&admin, "/api/v1/extensions").await,
        app.get(&admin, "/api/v1/trunks").await,
        app.get(&admin, "/api/v1/routes").await,
        app.store.trunks_for_runtime().await.unwrap(),
        app.store.extension_auth("8101").await.unwrap(),
    );

    let mut cases = body_cases(&customer, &other_no, &unit, &user_id);
    cases.extend(telephony_cases(
        &ext.to_string(),
        &trunk.to_string(),
        &route.to_string(),
        &unit,
        &user_id,
    ));
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
    let telephony_after = (
        app.get(&admin, "/api/v1/extensions").await,
        app.get(&admin, "/api/v1/trunks").await,
        app.get(&admin, "/api/v1/routes").await,
        app.store.trunks_for_runtime().await.unwrap(),
        app.store.extension_auth("8101").await.unwrap(),
    );
    assert!(
        telephony_before == telephony_after,
        "the telephony configuration changed"
    );
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
