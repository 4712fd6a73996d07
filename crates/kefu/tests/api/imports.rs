//! Imports through the API (background jobs polled to the end) and through the `kefu import` command.

use std::process::{Command, Output};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const HEADER: &str = "户号,户名,电话,地址,区域,气种";
const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A customers CSV with Chinese headers: `good` valid rows (IM-0001 …), and, if `bad`, a row with an
/// invalid phone on line 3 and one without a name on line 5.
fn customers_csv(good: usize, bad: bool) -> String {
    let mut lines = vec![HEADER.to_string()];
    let mut n = 0;
    let mut row = |lines: &mut Vec<String>| {
        n += 1;
        lines.push(format!(
            "IM-{n:04},导入客户{n},0574-8800 {n:04},宁波市鄞州区导入路{n}号,鄞州区,{}",
            if n % 2 == 0 { "瓶装气" } else { "管道气" }
        ));
    };
    for i in 0..good {
        if bad && i == 1 {
            lines.push("IM-BAD1,坏电话,12345,宁波市鄞州区某路1号,鄞州区,管道气".into()); // line 3
        }
        if bad && i == 2 {
            lines.push("IM-BAD2,,13800001111,宁波市鄞州区某路2号,鄞州区,管道气".into()); // line 5
        }
        row(&mut lines);
    }
    lines.join("\n") + "\n"
}

async fn start(app: &TestApp, token: &str, extra: &str, ct: &str, body: Vec<u8>) -> Value {
    let r = app.upload(token, "customers", extra, ct, body).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let job: Value = r.json().await.unwrap();
    assert!(
        ["queued", "running"].contains(&job["status"].as_str().unwrap()),
        "{job}"
    );
    let id = job["id"].as_str().unwrap().to_string();
    app.wait_import(token, &id).await
}

fn counts(job: &Value) -> (u64, u64, u64, u64) {
    (
        job["total_rows"].as_u64().unwrap(),
        job["inserted"].as_u64().unwrap(),
        job["updated"].as_u64().unwrap(),
        job["skipped"].as_u64().unwrap(),
    )
}

fn errors(job: &Value) -> Vec<(u64, String)> {
    job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()), "{e}");
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_csv_of_customers_is_imported() {
    let app = TestApp::spawn().await;
    a_csv_of_customers_is_imported_on(&app).await;
    app.stop().await;
}

pub(crate) async fn a_csv_of_customers_is_imported_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let before = app.customer_count().await;
    let job = start(
        app,
        &admin,
        "&filename=customers.csv",
        CSV,
        customers_csv(5, false).into_bytes(),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["kind"], "customers");
    assert_eq!(job["filename"], "customers.csv");
    assert_eq!(job["percent"], 100);
    assert_eq!(counts(&job), (5, 5, 0, 0));
    assert_eq!(job["processed_rows"], 5);
    assert_eq!(job["errors"], json!([]));
    assert!(job["failure"].is_null());
    assert!(job["finished_at"].is_string());
    assert_eq!(app.customer_count().await, before + 5);

    let found = app.get(&admin, "/api/v1/customers?q=IM-0002").await;
    assert_eq!(found["total"], 1);
    let c = &found["items"][0];
    assert_eq!(c["name"], "导入客户2");
    assert_eq!(c["primary_phone"], "057488000002");
    assert_eq!(c["district"], "鄞州区");
    assert_eq!(c["service_type"], "bottled");
    let by_phone = app
        .get(&admin, "/api/v1/customers/by-phone/0574-88000005")
        .await;
    assert_eq!(by_phone[0]["customer_no"], "IM-0005");
    // The job is listed, and the import is in the audit log.
    let list = app.get(&admin, "/api/v1/imports").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], job["id"]);
    let audited = app.audit("action=customer.import&actor=admin").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["after"]["inserted"], 5);
    assert_eq!(audited[0]["actor_name"], "admin");
}

#[tokio::test]
async fn bad_rows_fail_the_whole_import_unless_skipped() {
    let app = TestApp::spawn().await;
    bad_rows_fail_the_whole_import_unless_skipped_on(&app).await;
    app.stop().await;
}

pub(crate) async fn bad_rows_fail_the_whole_import_unless_skipped_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let before = app.customer_count().await;
    let file = customers_csv(4, true);
    let job = start(
        app,
        &admin,
        "&filename=bad.csv&skip_invalid=false",
        CSV,
        file.clone().into_bytes(),
    )
    .await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["percent"], 100);
    assert_eq!(counts(&job), (6, 0, 0, 0));
    assert_eq!(
        errors(&job),
        [(3, "电话".to_string()), (5, "户名".to_string())]
    );
    let failure = job["failure"].as_str().unwrap();
    assert!(failure.contains("2 of 6 rows"), "{failure}");
    assert_eq!(app.customer_count().await, before);
    assert_eq!(
        app.audit("action=customer.import&actor=admin").await.len(),
        0
    );

    let job = start(
        app,
        &admin,
        "&filename=bad.csv&skip_invalid=true",
        CSV,
        file.into_bytes(),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["skip_invalid"], true);
    assert_eq!(counts(&job), (6, 4, 0, 2));
    assert_eq!(
        errors(&job),
        [(3, "电话".to_string()), (5, "户名".to_string())]
    );
    assert_eq!(app.customer_count().await, before + 4);
    let bad = app.get(&admin, "/api/v1/customers?q=IM-BAD1").await;
    assert_eq!(bad["total"], 0);
}

#[tokio::test]
async fn reimporting_updates_instead_of_duplicating() {
    let app = TestApp::spawn().await;
    reimporting_updates_instead_of_duplicating_on(&app).await;
    app.stop().await;
}

pub(crate) async fn reimporting_updates_instead_of_duplicating_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let file = customers_csv(3, false);
    let job = start(app, &admin, "", CSV, file.clone().into_bytes()).await;
    assert_eq!(counts(&job), (3, 3, 0, 0));
    let count = app.customer_count().await;
    // The same file again: nothing new, nothing changed.
    let job = start(app, &admin, "", CSV, file.clone().into_bytes()).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(counts(&job), (3, 0, 0, 0));
    assert_eq!(app.customer_count().await, count);
    // One row changed (name and phone): one update, audited with before and after.
    let changed = file
        .replace("导入客户2", "改名客户2")
        .replace("0574-8800 0002", "13988880002");
    let job = start(app, &admin, "", CSV, changed.into_bytes()).await;
    assert_eq!(counts(&job), (3, 0, 1, 0));
    assert_eq!(app.customer_count().await, count);
    let found = app.get(&admin, "/api/v1/customers?q=IM-0002").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["name"], "改名客户2");
    assert_eq!(found["items"][0]["primary_phone"], "13988880002");
    let old = app
        .get(&admin, "/api/v1/customers/by-phone/057488000002")
        .await;
    assert_eq!(old, json!([]));
    let audited = app.audit("action=customer.import_update").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["before"]["name"], "导入客户2");
    assert_eq!(audited[0]["after"]["name"], "改名客户2");
}

/// Also a regression test: the error's column was `customer_no` even when the file calls it `户号`.
#[tokio::test]
async fn unknown_customer_in_bills_fails_the_import_on_its_line_under_the_files_header() {
    let app = TestApp::spawn().await;
    unknown_customer_in_bills_fails_the_import_on_its_line_under_the_files_header_on(&app).await;
    app.stop().await;
}

pub(crate) async fn unknown_customer_in_bills_fails_the_import_on_its_line_under_the_files_header_on(
    app: &TestApp,
) {
    let admin = app.login("admin").await;
    let demo = app.get(&admin, "/api/v1/customers?per_page=1").await["items"][0].clone();
    let no = demo["customer_no"].as_str().unwrap();
    let id = demo["id"].as_str().unwrap();
    let file = format!(
        "户号,账期,金额,缴费截止日\n{no},2019-01,88.50,2019-02-15\nNOPE-0001,2019-01,10.00,2019-02-15\n"
    );
    let r = app
        .upload(
            &admin,
            "bills",
            "&filename=bills.csv",
            CSV,
            file.clone().into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = app.wait_import(&admin, &job_id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["kind"], "bills");
    assert_eq!(errors(&job), [(3, "户号".to_string())]);
    assert!(
        job["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("NOPE-0001"),
        "{job}"
    );
    let bill_2019 = |d: &Value| {
        d["accounts"][0]["bills"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["period"] == "2019-01")
            .cloned()
    };
    let d = app.get(&admin, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(bill_2019(&d), None, "a failed import wrote a bill");

    // Skipping the unknown customer imports the other bill.
    let r = app
        .upload(
            &admin,
            "bills",
            "&skip_invalid=true",
            CSV,
            file.into_bytes(),
        )
        .await;
    let job_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = app.wait_import(&admin, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(counts(&job), (2, 1, 0, 1));
    let d = app.get(&admin, &format!("/api/v1/customers/{id}")).await;
    let bill = bill_2019(&d).expect("the imported bill");
    assert_eq!(bill["amount_cents"], 8850);
    assert_eq!(bill["due_date"], "2019-02-15");
    assert_eq!(bill["status"], "overdue");
}

fn xlsx(rows: &[[&str; 6]], numeric_phone: Option<(u32, f64)>) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADER.split(',').enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    // Spreadsheets often hold phone numbers as numbers.
    if let Some((row, phone)) = numeric_phone {
        ws.write_number(row, 2, phone).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test]
async fn an_xlsx_upload_is_imported() {
    let app = TestApp::spawn().await;
    an_xlsx_upload_is_imported_on(&app).await;
    app.stop().await;
}

pub(crate) async fn an_xlsx_upload_is_imported_on(app: &TestApp) {
    let admin = app.login("admin").await;
    let before = app.customer_count().await;
    let body = xlsx(
        &[
            [
                "XL-0001",
                "表格客户一",
                "0574-87110001",
                "宁波市北仑区表格路1号",
                "北仑区",
                "管道气",
            ],
            [
                "XL-0002",
                "表格客户二",
                "",
                "宁波市北仑区表格路2号",
                "北仑区",
                "瓶装",
            ],
            [
                "XL-0003",
                "表格客户三",
                "13800138003",
                "宁波市北仑区表格路3号",
                "北仑区",
                "pipeline",
            ],
        ],
        Some((2, 13900139002.0)),
    );
    assert!(body.starts_with(b"PK"));
    let job = start(app, &admin, "&filename=%E5%AE%A2%E6%88%B7.xlsx", XLSX, body).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["filename"], "客户.xlsx");
    assert_eq!(counts(&job), (3, 3, 0, 0));
    assert_eq!(app.customer_count().await, before + 3);
    let found = app.get(&admin, "/api/v1/customers?q=XL-0002").await;
    assert_eq!(found["items"][0]["primary_phone"], "13900139002");
    assert_eq!(found["items"][0]["service_type"], "bottled");
}

#[tokio::test]
async fn empty_and_binary_uploads_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let before = (app.customer_count().await, app.audit_total().await);
    let r = app
        .upload(&admin, "customers", "&filename=x.csv", CSV, Vec::new())
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["body"]);
    // An old binary Excel file: refused up front, naming the file.
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend([0u8; 504]);
    let r = app
        .upload(
            &admin,
            "customers",
            "&filename=old.xls",
            "application/vnd.ms-excel",
            xls,
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["filename"]);
    assert_eq!(
        (app.customer_count().await, app.audit_total().await),
        before
    );
    assert_eq!(app.get(&admin, "/api/v1/imports").await["total"], 0);

    // Some other binary: the job fails with a reason a person can act on, and writes no customer.
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let job = start(
        &app,
        &admin,
        "&filename=photo.jpg",
        "application/octet-stream",
        binary,
    )
    .await;
    assert_eq!(job["status"], "failed", "{job}");
    let failure = job["failure"].as_str().unwrap();
    assert!(failure.contains("not text"), "{failure}");
    assert_eq!(counts(&job), (0, 0, 0, 0));
    assert_eq!(app.customer_count().await, before.0);
    // A CSV without the required columns fails naming them.
    let job = start(&app, &admin, "", CSV, "户号,户名\nA-0001,某人\n".into()).await;
    assert_eq!(job["status"], "failed", "{job}");
    let failure = job["failure"].as_str().unwrap();
    assert!(
        failure.contains("电话") || failure.contains("phones"),
        "{failure}"
    );
    assert_eq!(app.customer_count().await, before.0);
    app.stop().await;
}

/// Runs `kefu import …` on a data directory of its own, without any `KEFU_*` settings from outside.
fn kefu_import(data: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kefu"));
    cmd.arg("import").args(args).arg("--data-dir").arg(data);
    for (k, _) in std::env::vars() {
        if k.starts_with("KEFU_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn").output().unwrap()
}

#[test]
fn the_import_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = dir.path().join("good.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, customers_csv(3, false)).unwrap();
    std::fs::write(&bad, customers_csv(4, true)).unwrap();

    let out = kefu_import(&data, &["customers", good.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("good.csv: 3 rows — 3 inserted, 0 updated, 0 skipped"),
        "{stdout}"
    );
    assert!(data.join("kefu.db").exists());

    let out = kefu_import(&data, &["customers", bad.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("line 3, 电话"), "{stderr}");
    assert!(stderr.contains("line 5, 户名"), "{stderr}");
    assert!(stderr.contains("2 of 6 rows have errors"), "{stderr}");
    assert!(!stdout.contains("inserted"), "{stdout}");

    let out = kefu_import(
        &data,
        &["customers", bad.to_str().unwrap(), "--skip-invalid"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // IM-0001…IM-0003 are there from the first run and unchanged; IM-0004 is new.
    assert!(
        stdout.contains("bad.csv: 6 rows — 1 inserted, 0 updated, 2 skipped"),
        "{stdout}"
    );
    assert!(stderr.contains("line 3, 电话"), "{stderr}");

    let missing = dir.path().join("missing.csv");
    let out = kefu_import(&data, &["customers", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.csv"),
        "{out:?}"
    );
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused() {
    let app = TestApp::spawn_settings(kefu_api::Settings {
        max_import_bytes: 4096,
        ..Default::default()
    })
    .await;
    let admin = app.login("admin").await;
    let before = (app.customer_count().await, app.audit_total().await);
    let file = customers_csv(200, false);
    assert!(file.len() > 4096);
    let r = app
        .upload(&admin, "customers", "", CSV, file.into_bytes())
        .await;
    let p = problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(p["type"], "https://kefu.dev/problems/too-large");
    assert_eq!(
        (app.customer_count().await, app.audit_total().await),
        before
    );
    assert_eq!(app.get(&admin, "/api/v1/imports").await["total"], 0);
    // Under the limit, the same endpoint takes it.
    let job = start(&app, &admin, "", CSV, customers_csv(3, false).into_bytes()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    app.stop().await;
}

/// A job is never seen failed with less than 100 %. (It was, under load: stored as failed while its
/// runner still held progress counters. The window is narrow; the deterministic regression test is
/// kefu-api's `a_failed_job_is_100_percent_even_while_its_counters_linger`.)
#[tokio::test]
async fn a_failed_job_reports_100_percent_from_the_moment_it_fails() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let file = customers_csv(4, true);
    let mut failed_seen = 0;
    for _ in 0..10 {
        let r = app
            .upload(&admin, "customers", "", CSV, file.clone().into_bytes())
            .await;
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        // Polled without pause, to look at the job in every state it passes through.
        loop {
            let job = app.get(&admin, &format!("/api/v1/imports/{id}")).await;
            match job["status"].as_str().unwrap() {
                "failed" => {
                    assert_eq!(job["percent"], 100, "{job}");
                    assert_eq!(job["processed_rows"], 6, "{job}");
                    failed_seen += 1;
                    break;
                }
                "queued" | "running" => {
                    assert!(job["percent"].as_u64().unwrap() < 100, "{job}");
                }
                other => panic!("status {other}: {job}"),
            }
            assert!(std::time::Instant::now() < deadline, "{job}");
        }
    }
    assert_eq!(failed_seen, 10);
    app.stop().await;
}
