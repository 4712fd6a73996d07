//! Customers: create, search, caller-ID lookup, update, payments, hostile strings, and the audit trail of
//! every write.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app
        .send(token, Method::POST, "/api/v1/customers", body)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

async fn patch(app: &TestApp, token: &str, id: &str, body: &Value) -> reqwest::Response {
    app.send(
        token,
        Method::PATCH,
        &format!("/api/v1/customers/{id}"),
        body,
    )
    .await
}

/// Every customer through the search API (all pages), as summaries.
async fn all_customers(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let p = app
            .get(
                token,
                &format!("/api/v1/customers?per_page=200&page={page}&{query}"),
            )
            .await;
        let items = p["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        out.extend(items.iter().cloned());
    }
    out
}

fn enc(s: &str) -> String {
    // Enough percent-encoding for the values used here (spaces, plus, brackets, CJK).
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn create_normalizes_phones_opens_an_account_and_is_audited() {
    let app = TestApp::spawn().await;
    create_normalizes_phones_opens_an_account_and_is_audited_on(&app).await;
    app.stop().await;
}

pub(crate) async fn create_normalizes_phones_opens_an_account_and_is_audited_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let before = app.customer_count().await;
    let mut body = customer_json("nb-test-01");
    body["phones"] = json!(["0574-8765 4321", "+86 139 1234 0000", "(0574) 87654321"]);
    body["email"] = json!("li@example.com");
    body["meter_no"] = json!("  M-0001 ");
    let c = create(app, &agent, &body).await;
    assert_eq!(c["customer_no"], "NB-TEST-01");
    assert_eq!(c["phones"], json!(["057487654321", "13912340000"]));
    assert_eq!(c["name"], "测试客户");
    assert_eq!(c["meter_no"], "M-0001");
    assert_eq!(c["language"], "zh-CN");
    assert_eq!(c["notice_preference"], "sms");
    assert!(c["fax"].is_null() && c["remarks"].is_null());
    assert!(uuid::Uuid::parse_str(c["id"].as_str().unwrap()).is_ok());
    assert_eq!(app.customer_count().await, before + 1);

    let id = id_of(&c);
    let d = app.get(&agent, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(d["customer_no"], "NB-TEST-01");
    assert_eq!(d["phones"], c["phones"]);
    let accounts = d["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["account_no"], "NB-TEST-01");
    assert_eq!(accounts[0]["bills"], json!([]));
    assert_eq!(accounts[0]["payments"], json!([]));

    let audited = app.audit(&format!("entity_id={id}")).await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    let e = &audited[0];
    assert_eq!(e["action"], "customer.create");
    assert_eq!(e["entity_type"], "customer");
    assert_eq!(e["actor_name"], "agent");
    assert!(e["before"].is_null());
    assert_eq!(e["after"]["customer_no"], "NB-TEST-01");
    assert_eq!(e["after"]["phones"], c["phones"]);
    assert_eq!(e["source_ip"], "127.0.0.1");
}

#[tokio::test]
async fn a_duplicate_customer_number_is_a_conflict_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    create(&app, &agent, &customer_json("DUP-0001")).await;
    let (count, audit) = (app.customer_count().await, app.audit_total().await);
    let mut again = customer_json("dup-0001");
    again["name"] = json!("另一个客户");
    again["phones"] = json!(["13700000001"]);
    let r = app
        .send(&agent, Method::POST, "/api/v1/customers", &again)
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("DUP-0001"), "{p}");
    assert_eq!(app.customer_count().await, count);
    assert_eq!(app.audit_total().await, audit);
    let found = app
        .get(&agent, "/api/v1/customers/by-phone/13700000001")
        .await;
    assert_eq!(found, json!([]), "the rejected customer's phone was stored");
    // And a demo customer's number is taken too.
    let demo = app.get(&agent, "/api/v1/customers?per_page=1").await["items"][0].clone();
    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/customers",
            &customer_json(demo["customer_no"].as_str().unwrap()),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    assert_eq!(app.customer_count().await, count);
    app.stop().await;
}

#[tokio::test]
async fn search_by_name_fragment_number_and_phone_in_any_format() {
    let app = TestApp::spawn().await;
    search_by_name_fragment_number_and_phone_in_any_format_on(&app).await;
    app.stop().await;
}

pub(crate) async fn search_by_name_fragment_number_and_phone_in_any_format_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let mut ids = Vec::new();
    for (no, name, phone) in [
        ("ZQ-0001", "Zyxw 一号", "0574-8765 4321"),
        ("ZQ-0002", "Zyxw 二号", "13811112222"),
        ("ZQ-0003", "老Zyxw", "13811113333"),
    ] {
        let mut b = customer_json(no);
        b["name"] = json!(name);
        b["phones"] = json!([phone]);
        ids.push(id_of(&create(app, &agent, &b).await));
    }
    let ids_of = |p: &Value| -> BTreeSet<String> {
        p["items"].as_array().unwrap().iter().map(id_of).collect()
    };
    let found = app.get(&agent, "/api/v1/customers?q=Zyxw").await;
    assert_eq!(found["total"], 3);
    assert_eq!(ids_of(&found), ids.iter().cloned().collect());
    let found = app
        .get(&agent, "/api/v1/customers?name=Zyxw%20%E4%BA%8C")
        .await;
    assert_eq!(ids_of(&found), BTreeSet::from([ids[1].clone()]));

    // Exact customer number, in any case.
    for q in ["ZQ-0002", "zq-0002", " ZQ-0002 "] {
        let found = app
            .get(&agent, &format!("/api/v1/customers?q={}", enc(q)))
            .await;
        assert_eq!(found["total"], 1, "q={q:?}");
        assert_eq!(found["items"][0]["customer_no"], "ZQ-0002");
        assert_eq!(found["items"][0]["name"], "Zyxw 二号");
        assert_eq!(found["items"][0]["primary_phone"], "13811112222");
    }
    let found = app
        .get(&agent, "/api/v1/customers?customer_no=zq-0003")
        .await;
    assert_eq!(ids_of(&found), BTreeSet::from([ids[2].clone()]));

    // A phone number in any format, through q and through phone=.
    for q in [
        "057487654321",
        "0574-87654321",
        "(0574) 8765 4321",
        "+86 574 8765 4321",
        "0086-574-87654321",
        "87654321",
    ] {
        for param in ["q", "phone"] {
            let found = app
                .get(&agent, &format!("/api/v1/customers?{param}={}", enc(q)))
                .await;
            assert_eq!(
                ids_of(&found),
                BTreeSet::from([ids[0].clone()]),
                "{param}={q:?}"
            );
        }
    }
    let found = app
        .get(
            &agent,
            &format!("/api/v1/customers?q={}", enc("+86 138 1111 3333")),
        )
        .await;
    assert_eq!(ids_of(&found), BTreeSet::from([ids[2].clone()]));

    // Fragments of a demo customer's name and address find it, and only matching customers.
    let all = all_customers(app, &agent, "").await;
    // (Three or more characters: a fragment anywhere. CJK, so no question of case.)
    let demo = all
        .iter()
        .find(|c| {
            let name = c["name"].as_str().unwrap();
            name.chars().count() >= 5 && name.chars().skip(1).take(3).all(|ch| !ch.is_ascii())
        })
        .unwrap();
    let name: Vec<char> = demo["name"].as_str().unwrap().chars().collect();
    let fragment: String = name[1..4].iter().collect();
    let found = all_customers(app, &agent, &format!("name={}", enc(&fragment))).await;
    assert!(found.iter().any(|c| c["id"] == demo["id"]), "{fragment}");
    let expected = all
        .iter()
        .filter(|c| c["name"].as_str().unwrap().contains(&fragment))
        .count();
    assert_eq!(found.len(), expected, "name={fragment}");
    let q_found = all_customers(app, &agent, &format!("q={}", enc(&fragment))).await;
    let expected = all
        .iter()
        .filter(|c| {
            c["name"].as_str().unwrap().contains(&fragment)
                || c["address"].as_str().unwrap().contains(&fragment)
        })
        .count();
    assert_eq!(q_found.len(), expected, "q={fragment}");
    let address: Vec<char> = demo["address"].as_str().unwrap().chars().collect();
    let fragment: String = address[address.len() - 5..].iter().collect();
    let found = all_customers(app, &agent, &format!("address={}", enc(&fragment))).await;
    assert!(found.iter().any(|c| c["id"] == demo["id"]), "{fragment}");
    for c in &found {
        assert!(c["address"].as_str().unwrap().contains(&fragment), "{c}");
    }
    // Nothing matches: an empty page, not an error.
    let none = app.get(&agent, "/api/v1/customers?q=qqqqqqqq").await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn filters_and_pagination() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let all = all_customers(&app, &agent, "").await;
    assert_eq!(all.len(), CUSTOMERS);
    let first = app.get(&agent, "/api/v1/customers").await;
    assert_eq!(first["total"], CUSTOMERS as u64);
    assert_eq!(first["page"], 1);
    assert_eq!(first["per_page"], 20);
    assert_eq!(first["items"].as_array().unwrap().len(), 20);

    // Pages of 7 cover everyone exactly once, oldest customer first.
    let mut seen = Vec::new();
    for page in 1..=9 {
        let p = app
            .get(&agent, &format!("/api/v1/customers?per_page=7&page={page}"))
            .await;
        assert_eq!(p["total"], CUSTOMERS as u64);
        assert_eq!(p["page"], page);
        let n = p["items"].as_array().unwrap().len();
        assert_eq!(n, if page < 9 { 7 } else { CUSTOMERS - 56 }, "page {page}");
        seen.extend(p["items"].as_array().unwrap().iter().map(id_of));
    }
    let all_ids: Vec<String> = all.iter().map(id_of).collect();
    assert_eq!(seen, all_ids);
    // Ids are UUIDv7: their text order is their creation order.
    let mut by_creation = all_ids.clone();
    by_creation.sort();
    assert_eq!(all_ids, by_creation);
    let beyond = app
        .get(&agent, "/api/v1/customers?per_page=7&page=10")
        .await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], CUSTOMERS as u64);

    // district and service_type, alone and together.
    let district = all[0]["district"].as_str().unwrap().to_string();
    for st in ["bottled", "pipeline"] {
        let expected: Vec<String> = all
            .iter()
            .filter(|c| c["district"] == district.as_str() && c["service_type"] == st)
            .map(id_of)
            .collect();
        let q = format!("district={}&service_type={st}", enc(&district));
        let found: Vec<String> = all_customers(&app, &agent, &q)
            .await
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(found, expected, "{q}");
        let total = app
            .get(&agent, &format!("/api/v1/customers?per_page=1&{q}"))
            .await["total"]
            .clone();
        assert_eq!(total, expected.len() as u64);
    }
    let by_district = all_customers(&app, &agent, &format!("district={}", enc(&district))).await;
    let expected = all
        .iter()
        .filter(|c| c["district"] == district.as_str())
        .count();
    assert_eq!(by_district.len(), expected);
    assert!(expected > 0 && expected < CUSTOMERS, "{expected}");
    let bottled = all_customers(&app, &agent, "service_type=bottled").await;
    let pipeline = all_customers(&app, &agent, "service_type=pipeline").await;
    assert!(!bottled.is_empty() && !pipeline.is_empty());
    assert_eq!(bottled.len() + pipeline.len(), CUSTOMERS);
    assert!(bottled.iter().all(|c| c["service_type"] == "bottled"));
    app.stop().await;
}

#[tokio::test]
async fn caller_id_lookup() {
    let app = TestApp::spawn().await;
    caller_id_lookup_on(&app).await;
    app.stop().await;
}

pub(crate) async fn caller_id_lookup_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let all = all_customers(app, &agent, "").await;
    let mobile = all
        .iter()
        .find(|c| {
            c["primary_phone"]
                .as_str()
                .is_some_and(|p| p.starts_with('1'))
        })
        .expect("a demo customer with a mobile number");
    let phone = mobile["primary_phone"].as_str().unwrap();
    let spaced = format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]);
    for dialled in [phone.to_string(), spaced, format!("0086{phone}")] {
        let found = app
            .get(
                &agent,
                &format!("/api/v1/customers/by-phone/{}", enc(&dialled)),
            )
            .await;
        let found = found.as_array().unwrap();
        assert!(
            found.iter().any(|c| c["id"] == mobile["id"]),
            "{dialled}: {found:?}"
        );
        for c in found {
            let d = app
                .get(&agent, &format!("/api/v1/customers/{}", id_of(c)))
                .await;
            assert!(
                d["phones"].as_array().unwrap().iter().any(|p| p == phone),
                "{c}"
            );
        }
    }
    // A landline, local number only: the deployment's area code is assumed.
    let mut b = customer_json("CID-0001");
    b["phones"] = json!(["13900000009", "0574-8700 1122"]);
    let c = create(app, &agent, &b).await;
    for dialled in ["87001122", "0574 8700 1122", "+86-574-87001122"] {
        let found = app
            .get(
                &agent,
                &format!("/api/v1/customers/by-phone/{}", enc(dialled)),
            )
            .await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{dialled}");
        assert_eq!(found[0]["id"], c["id"]);
        assert_eq!(found[0]["primary_phone"], "13900000009");
    }
    let none = app
        .get(&agent, "/api/v1/customers/by-phone/13000000001")
        .await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn patch_changes_fields_clears_remarks_and_moves_caller_id() {
    let app = TestApp::spawn().await;
    patch_changes_fields_clears_remarks_and_moves_caller_id_on(&app).await;
    app.stop().await;
}

pub(crate) async fn patch_changes_fields_clears_remarks_and_moves_caller_id_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let mut b = customer_json("PT-0001");
    b["remarks"] = json!("门口有狗");
    b["phones"] = json!(["13955550001"]);
    let c = create(app, &agent, &b).await;
    let id = id_of(&c);
    assert_eq!(c["remarks"], "门口有狗");

    let r = app
        .as_token(&agent, Method::PATCH, &format!("/api/v1/customers/{id}"))
        .header("x-request-id", "req-patch-name-1")
        .json(&json!({"name": "新名字", "address": "宁波市海曙区中山西路2号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["name"], "新名字");
    assert_eq!(after["address"], "宁波市海曙区中山西路2号");
    // Untouched fields stay.
    assert_eq!(after["remarks"], "门口有狗");
    assert_eq!(after["phones"], json!(["13955550001"]));
    assert_eq!(after["customer_no"], "PT-0001");
    assert_eq!(after["created_at"], c["created_at"]);
    assert_ne!(after["updated_at"], c["updated_at"]);
    let audited = app
        .audit(&format!("entity_id={id}&action=customer.update"))
        .await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["before"]["name"], "测试客户");
    assert_eq!(audited[0]["after"]["name"], "新名字");
    assert_eq!(audited[0]["before"]["address"], c["address"]);
    assert_eq!(audited[0]["actor_name"], "agent");
    assert_eq!(audited[0]["request_id"], "req-patch-name-1");

    // null clears remarks; absent leaves it.
    let r = patch(app, &agent, &id, &json!({"remarks": null})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.json::<Value>().await.unwrap()["remarks"].is_null());
    let d = app.get(&agent, &format!("/api/v1/customers/{id}")).await;
    assert!(d["remarks"].is_null());
    assert_eq!(d["name"], "新名字");

    // New phones: the caller-ID lookup follows.
    let r = patch(
        app,
        &agent,
        &id,
        &json!({"phones": ["0574 8711 2233", "139-5555-0002"]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["phones"],
        json!(["057487112233", "13955550002"])
    );
    let old = app
        .get(&agent, "/api/v1/customers/by-phone/13955550001")
        .await;
    assert_eq!(old, json!([]));
    for now in ["057487112233", "13955550002"] {
        let found = app
            .get(&agent, &format!("/api/v1/customers/by-phone/{now}"))
            .await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{now}");
        assert_eq!(found[0]["id"], id.as_str());
        assert_eq!(found[0]["primary_phone"], "057487112233");
    }
    let audited = app
        .audit(&format!("entity_id={id}&action=customer.update"))
        .await;
    assert_eq!(audited.len(), 3);
    assert_eq!(audited[0]["before"]["phones"], json!(["13955550001"]));
    assert_eq!(
        audited[0]["after"]["phones"],
        json!(["057487112233", "13955550002"])
    );
    assert_eq!(audited[1]["before"]["remarks"], "门口有狗");
    assert!(audited[1]["after"]["remarks"].is_null());

    // The customer number may change, to one not in use; the old one is then free.
    let r = patch(app, &agent, &id, &json!({"customer_no": "pt-0002"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let found = app.get(&agent, "/api/v1/customers?q=PT-0002").await;
    assert_eq!(found["items"][0]["id"], id.as_str());
    assert_eq!(
        app.get(&agent, "/api/v1/customers?q=PT-0001").await["total"],
        0
    );
}

#[tokio::test]
async fn fax_is_required_when_notices_go_by_fax() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let mut b = customer_json("FAX-0001");
    b["notice_preference"] = json!("fax");
    let r = app
        .send(&agent, Method::POST, "/api/v1/customers", &b)
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["fax"]);
    b["fax"] = json!("0574-8700 9999");
    let c = create(&app, &agent, &b).await;
    assert_eq!(c["fax"], "057487009999");
    let id = id_of(&c);
    // Clearing the fax while notices still go by fax: refused, and nothing changes.
    let r = patch(&app, &agent, &id, &json!({"fax": null})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["fax"]);
    assert_eq!(
        app.get(&agent, &format!("/api/v1/customers/{id}")).await["fax"],
        "057487009999"
    );
    // Switching to SMS and clearing the fax together is fine.
    let r = patch(
        &app,
        &agent,
        &id,
        &json!({"notice_preference": "sms", "fax": null}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: Value = r.json().await.unwrap();
    assert!(after["fax"].is_null());
    // And switching a customer without a fax to fax notices is refused.
    let r = patch(&app, &agent, &id, &json!({"notice_preference": "fax"})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["fax"]);
    let r = patch(
        &app,
        &agent,
        &id,
        &json!({"notice_preference": "email", "email": "x@example.com"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn paying_an_overdue_bill_settles_it() {
    let app = TestApp::spawn().await;
    paying_an_overdue_bill_settles_it_on(&app).await;
    app.stop().await;
}

pub(crate) async fn paying_an_overdue_bill_settles_it_on(app: &TestApp) {
    let supervisor = app.login("supervisor").await;
    let all = all_customers(app, &supervisor, "").await;
    let debtor = all
        .iter()
        .find(|c| c["overdue_cents"].as_i64().unwrap() > 0)
        .expect("a demo customer with an overdue bill");
    let id = id_of(debtor);
    let overdue_before = debtor["overdue_cents"].as_i64().unwrap();
    let d = app
        .get(&supervisor, &format!("/api/v1/customers/{id}"))
        .await;
    let bills = d["accounts"][0]["bills"].as_array().unwrap();
    let overdue: Vec<&Value> = bills.iter().filter(|b| b["status"] == "overdue").collect();
    let sum: i64 = overdue
        .iter()
        .map(|b| b["amount_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, overdue_before, "summary and detail disagree");
    let bill = overdue[0];
    let period = bill["period"].as_str().unwrap().to_string();
    let amount = bill["amount_cents"].as_i64().unwrap();
    let payments_before = d["accounts"][0]["payments"].as_array().unwrap().len();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string();

    let r = app
        .send(
            &supervisor,
            Method::POST,
            &format!("/api/v1/customers/{id}/payments"),
            &json!({"amount_cents": amount, "paid_on": today, "method": "wechat", "period": period, "reference": "WX-20260001"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["amount_cents"], amount);
    assert_eq!(p["paid_on"], today.as_str());
    assert_eq!(p["method"], "wechat");
    assert_eq!(p["period"], period.as_str());
    assert_eq!(p["reference"], "WX-20260001");

    let d = app
        .get(&supervisor, &format!("/api/v1/customers/{id}"))
        .await;
    let paid = d["accounts"][0]["bills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["period"] == period.as_str())
        .unwrap()
        .clone();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_on"], today.as_str());
    let payments = d["accounts"][0]["payments"].as_array().unwrap();
    assert_eq!(payments.len(), payments_before + 1);
    assert!(payments.iter().any(|x| x["id"] == p["id"]));
    let summary = app
        .get(
            &supervisor,
            &format!(
                "/api/v1/customers?customer_no={}",
                debtor["customer_no"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        summary["items"][0]["overdue_cents"].as_i64().unwrap(),
        overdue_before - amount
    );
    let audited = app
        .audit(&format!("entity_id={id}&action=payment.create"))
        .await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["actor_name"], "supervisor");
    assert_eq!(audited[0]["after"]["amount_cents"], amount);
    assert_eq!(audited[0]["after"]["period"], period.as_str());

    // A period without a bill: refused, nothing written.
    let audit = app.audit_total().await;
    let r = app
        .send(
            &supervisor,
            Method::POST,
            &format!("/api/v1/customers/{id}/payments"),
            &json!({"amount_cents": 100, "paid_on": today, "method": "counter", "period": "2001-01"}),
        )
        .await;
    let problem_body = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&problem_body), ["period"]);
    assert_eq!(app.audit_total().await, audit);
    let d = app
        .get(&supervisor, &format!("/api/v1/customers/{id}"))
        .await;
    assert_eq!(
        d["accounts"][0]["payments"].as_array().unwrap().len(),
        payments_before + 1
    );
    // A payment without a period is recorded without settling anything.
    let r = app
        .send(
            &supervisor,
            Method::POST,
            &format!("/api/v1/customers/{id}/payments"),
            &json!({"amount_cents": 5000, "paid_on": today, "method": "counter"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.json::<Value>().await.unwrap()["period"].is_null());
    let summary = app
        .get(
            &supervisor,
            &format!(
                "/api/v1/customers?customer_no={}",
                debtor["customer_no"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        summary["items"][0]["overdue_cents"].as_i64().unwrap(),
        overdue_before - amount
    );
}

#[tokio::test]
async fn hostile_strings_are_stored_and_returned_verbatim() {
    let app = TestApp::spawn().await;
    hostile_strings_are_stored_and_returned_verbatim_on(&app).await;
    app.stop().await;
}

pub(crate) async fn hostile_strings_are_stored_and_returned_verbatim_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let sql = "'; DROP TABLE customers; --";
    let html = "<script>alert(1)</script>";
    let mut b = customer_json("HOST-0001");
    b["name"] = json!(sql);
    b["address"] = json!(format!("{html} 100% _under_score\\ \"quoted\""));
    b["remarks"] = json!(html);
    let c = create(app, &agent, &b).await;
    let id = id_of(&c);
    let d = app.get(&agent, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(d["name"], sql);
    assert_eq!(d["remarks"], html);
    assert_eq!(d["address"], b["address"]);
    // The raw body carries the script tag as JSON text, served as JSON.
    let r = app
        .as_token(&agent, Method::GET, &format!("/api/v1/customers/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.text().await.unwrap().contains(html));

    // Searching for them is plain text matching, not SQL.
    for q in [sql, "DROP TABLE", "100%", "_under_", "<script>"] {
        let found = app
            .get(&agent, &format!("/api/v1/customers?q={}", enc(q)))
            .await;
        assert_eq!(found["total"], 1, "q={q:?}: {found}");
        assert_eq!(found["items"][0]["id"], id.as_str(), "q={q:?}");
    }
    // LIKE wildcards are literal characters.
    for a in ["%", "_", "\\"] {
        let found = app
            .get(&agent, &format!("/api/v1/customers?address={}", enc(a)))
            .await;
        assert_eq!(found["total"], 1, "address={a:?}: {found}");
        assert_eq!(found["items"][0]["id"], id.as_str(), "address={a:?}");
    }
    // The customers table is still there and whole.
    assert_eq!(app.customer_count().await, CUSTOMERS as u64 + 1);
    let r = patch(
        app,
        &agent,
        &id,
        &json!({"name": "Robert'); DROP TABLE users;--"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get(&agent, "/api/v1/customers").await["total"],
        CUSTOMERS as u64 + 1
    );
    let admin = app.login("admin").await;
    assert_eq!(app.get(&admin, "/api/v1/users").await["total"], 5);
    let audited = app.audit(&format!("entity_id={id}")).await;
    assert_eq!(audited.len(), 2);
    assert_eq!(audited[1]["after"]["name"], sql);
    assert_eq!(audited[1]["after"]["remarks"], html);
}
