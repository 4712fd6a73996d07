//! The main flows on PostgreSQL (`KEFU_TEST_POSTGRES_URL`, default the server on 127.0.0.1:5432): one
//! end-to-end walk through an agent's and a supervisor's day, then the SQLite suites' own checks run
//! again on a fresh PostgreSQL database each.

use kefu_store::Backend;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn pg() -> TestApp {
    TestApp::spawn_with(Backend::Postgres, kefu_api::Settings::default()).await
}

#[tokio::test]
async fn main_flow_on_postgres() {
    let app = pg().await;
    assert_eq!(app.customer_count().await, CUSTOMERS as u64);

    // Sign in as the web app does: the cookie alone.
    let browser = Client::builder().cookie_store(true).build().unwrap();
    let r = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "Agent", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = browser
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "agent");

    // Create a customer.
    let mut body = customer_json("pg-0001");
    body["name"] = json!("甬城燃气测试户");
    body["phones"] = json!(["+86 138 0057 4001", "0574-8765 0001"]);
    let r = browser
        .post(app.url("/api/v1/customers"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["customer_no"], "PG-0001");
    assert_eq!(c["phones"], json!(["13800574001", "057487650001"]));
    let r = browser
        .post(app.url("/api/v1/customers"))
        .json(&customer_json("Pg-0001"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;
    assert_eq!(app.customer_count().await, CUSTOMERS as u64 + 1);

    // Find it: name fragment, number, phone in another format, caller ID.
    let agent = app.login("agent").await;
    for q in [
        "%E7%87%83%E6%B0%94%E6%B5%8B",
        "pg-0001",
        "0574%2087650001",
        "%2B8613800574001",
    ] {
        let found = app.get(&agent, &format!("/api/v1/customers?q={q}")).await;
        assert_eq!(found["total"], 1, "q={q}: {found}");
        assert_eq!(found["items"][0]["id"], id.as_str(), "q={q}");
        assert_eq!(found["items"][0]["primary_phone"], "13800574001");
    }
    let found = app.get(&agent, "/api/v1/customers/by-phone/87650001").await;
    assert_eq!(found[0]["id"], id.as_str());
    let r = app
        .send(
            &agent,
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &json!({"remarks": "<b>管道</b>'; --", "phones": ["13800574002"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get(&agent, "/api/v1/customers/by-phone/13800574001")
            .await,
        json!([])
    );
    assert_eq!(
        app.get(&agent, &format!("/api/v1/customers/{id}")).await["remarks"],
        "<b>管道</b>'; --"
    );

    // A supervisor takes a payment for an overdue bill.
    let supervisor = app.login("supervisor").await;
    let page = app.get(&supervisor, "/api/v1/customers?per_page=200").await;
    let debtor = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["overdue_cents"].as_i64().unwrap() > 0)
        .unwrap()
        .clone();
    let debtor_id = debtor["id"].as_str().unwrap();
    let d = app
        .get(&supervisor, &format!("/api/v1/customers/{debtor_id}"))
        .await;
    let bill = d["accounts"][0]["bills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["status"] == "overdue")
        .unwrap()
        .clone();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string();
    let r = app
        .send(
            &supervisor,
            Method::POST,
            &format!("/api/v1/customers/{debtor_id}/payments"),
            &json!({"amount_cents": bill["amount_cents"], "paid_on": today, "method": "bank", "period": bill["period"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let d = app
        .get(&supervisor, &format!("/api/v1/customers/{debtor_id}"))
        .await;
    let paid = d["accounts"][0]["bills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["period"] == bill["period"])
        .unwrap()
        .clone();
    assert_eq!(paid["status"], "paid");
    let after = app
        .get(
            &supervisor,
            &format!(
                "/api/v1/customers?customer_no={}",
                debtor["customer_no"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        after["items"][0]["overdue_cents"].as_i64().unwrap(),
        debtor["overdue_cents"].as_i64().unwrap() - bill["amount_cents"].as_i64().unwrap()
    );

    // An import job, polled to its end.
    let admin = app.login("admin").await;
    let csv = "户号,户名,电话,地址,区域,气种\nPG-0100,导入一,13800570100,宁波市江北区导入路1号,江北区,管道气\nPG-0101,导入二,13800570101,宁波市江北区导入路2号,江北区,瓶装气\n";
    let r = app
        .upload(
            &admin,
            "customers",
            "&filename=pg.csv",
            "text/csv",
            csv.into(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = app.wait_import(&admin, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["inserted"], 2);
    assert_eq!(job["percent"], 100);
    assert_eq!(app.customer_count().await, CUSTOMERS as u64 + 3);

    // The audit log has every write, with before and after values.
    let audited = app.audit(&format!("entity_id={id}")).await;
    let actions: Vec<&str> = audited
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["customer.update", "customer.create"]);
    assert_eq!(
        audited[0]["before"]["phones"],
        json!(["13800574001", "057487650001"])
    );
    assert_eq!(audited[0]["after"]["phones"], json!(["13800574002"]));
    assert_eq!(audited[0]["source_ip"], "127.0.0.1");
    let payments = app
        .audit(&format!("entity_id={debtor_id}&action=payment.create"))
        .await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["actor_name"], "supervisor");
    assert_eq!(
        app.audit("action=customer.import&actor=admin").await.len(),
        1
    );
    app.stop().await;
}

macro_rules! on_postgres {
    ($($name:ident => $check:path;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let app = pg().await;
                $check(&app).await;
                app.stop().await;
            }
        )*
    };
}

on_postgres! {
    bad_input_on_postgres => crate::bad_input::every_bad_request_is_a_problem_naming_the_field_and_writes_nothing_on;
    create_customer_on_postgres => crate::customers::create_normalizes_phones_opens_an_account_and_is_audited_on;
    search_on_postgres => crate::customers::search_by_name_fragment_number_and_phone_in_any_format_on;
    caller_id_on_postgres => crate::customers::caller_id_lookup_on;
    patch_customer_on_postgres => crate::customers::patch_changes_fields_clears_remarks_and_moves_caller_id_on;
    payment_on_postgres => crate::customers::paying_an_overdue_bill_settles_it_on;
    hostile_strings_on_postgres => crate::customers::hostile_strings_are_stored_and_returned_verbatim_on;
    csv_import_on_postgres => crate::imports::a_csv_of_customers_is_imported_on;
    bad_rows_import_on_postgres => crate::imports::bad_rows_fail_the_whole_import_unless_skipped_on;
    reimport_on_postgres => crate::imports::reimporting_updates_instead_of_duplicating_on;
    bills_import_on_postgres => crate::imports::unknown_customer_in_bills_fails_the_import_on_its_line_under_the_files_header_on;
    xlsx_import_on_postgres => crate::imports::an_xlsx_upload_is_imported_on;
    units_on_postgres => crate::users::units_create_patch_and_their_parents_on;
    users_on_postgres => crate::users::users_create_get_patch_and_search_on;
    failed_logins_on_postgres => crate::auth::failed_logins_are_audited_on;
    api_tokens_on_postgres => crate::auth::api_tokens_authenticate_as_bearer_only_until_revoked_on;
    extensions_on_postgres => crate::telephony::extensions_are_managed_and_their_passwords_never_leave_on;
    trunks_on_postgres => crate::telephony::trunk_passwords_are_write_only_on;
    routes_on_postgres => crate::telephony::routes_send_called_numbers_on;
    call_records_on_postgres => crate::telephony::call_records_are_listed_filtered_and_read_on;
}
