//! Attachments: every accepted kind uploaded and downloaded byte for byte with kefu's checksum; the
//! size limit; disguised files (an executable named .jpg, a PNG named .pdf, text with NUL bytes);
//! hostile file names; and who may download a file once a work order uses it.

use kefu_store::Backend;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, ETAG};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::work_orders::{gas_leak, unit_id};

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82";

fn jpeg() -> Vec<u8> {
    let mut b = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    b.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    b.extend_from_slice(b"\xff\xd9");
    b
}

/// An ELF executable's first bytes.
fn elf() -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    b.resize(4096, 0x90);
    b
}

/// A zip of stored entries (enough structure for type detection; no checksums).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 18]);
    out
}

fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
        ("_rels/.rels", b"<?xml version=\"1.0\"?><Relationships/>"),
        ("word/document.xml", b"<?xml version=\"1.0\"?><w:document/>"),
    ])
}

fn xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "户号").unwrap();
    ws.write(1, 0, "ATT-0001").unwrap();
    wb.save_to_buffer().unwrap()
}

/// (file name, bytes, the content type kefu must detect): one of each kind it keeps.
fn accepted() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("现场照片.png", PNG.to_vec(), "image/png"),
        ("表具.JPG", jpeg(), "image/jpeg"),
        ("动图.gif", b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;".to_vec(), "image/gif"),
        ("photo.webp", b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0".to_vec(), "image/webp"),
        ("整改通知.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(), "application/pdf"),
        ("录音.mp3", [b"ID3\x03\0\0\0\0\0\0".as_slice(), &[0xff, 0xfb, 0x90, 0x64], &[0; 400]].concat(), "audio/mpeg"),
        ("录音.wav", [b"RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\x08\0\0".as_slice(), &[0; 2048]].concat(), "audio/wav"),
        ("语音.amr", [b"#!AMR\n".as_slice(), &[0x3c; 320]].concat(), "audio/amr"),
        ("报告.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("台账.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("说明.txt", "\u{feff}燃气表读数 1234\r\n第二行\t结束\n".as_bytes().to_vec(), "text/plain; charset=utf-8"),
    ]
}

pub async fn upload(app: &TestApp, token: &str, filename: &str, bytes: Vec<u8>) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_string())
        .mime_str("application/octet-stream")
        .unwrap();
    app.as_token(token, Method::POST, "/api/v1/attachments")
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

/// Uploads and asserts 201; returns the attachment.
pub async fn upload_ok(app: &TestApp, token: &str, filename: &str, bytes: Vec<u8>) -> Value {
    let r = upload(app, token, filename, bytes).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{filename}: {body}");
    body
}

/// A multipart body written by hand: `disposition` is the part's whole Content-Disposition value.
async fn raw_upload(app: &TestApp, token: &str, disposition: &str, bytes: &[u8]) -> Response {
    let mut body = format!(
        "--XyZ\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    app.as_token(token, Method::POST, "/api/v1/attachments")
        .header(CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn download(app: &TestApp, token: &str, id: &str) -> Response {
    app.as_token(token, Method::GET, &format!("/api/v1/attachments/{id}"))
        .send()
        .await
        .unwrap()
}

fn header(r: &Response, name: impl reqwest::header::AsHeaderName) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The name in a Content-Disposition's `filename*=UTF-8''…`, decoded.
fn disposition_name(cd: &str) -> String {
    let enc = cd.split("filename*=UTF-8''").nth(1).expect("filename*");
    let bytes = enc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&enc[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn counts(app: &TestApp) -> (u64, u64) {
    (
        app.store.attachment_count().await.unwrap(),
        app.audit_total().await,
    )
}

#[tokio::test]
async fn every_accepted_kind_round_trips_with_its_checksum() {
    let app = TestApp::spawn().await;
    every_accepted_kind_round_trips_with_its_checksum_on(&app).await;
    app.stop().await;
}

pub async fn every_accepted_kind_round_trips_with_its_checksum_on(app: &TestApp) {
    let agent = app.login("agent").await;
    for (name, bytes, ct) in accepted() {
        let sha = hex(&Sha256::digest(&bytes));
        let a = upload_ok(app, &agent, name, bytes.clone()).await;
        assert_eq!(a["filename"], name);
        assert_eq!(a["content_type"], ct, "{name}");
        assert_eq!(a["size"], bytes.len() as u64);
        assert_eq!(a["sha256"], sha.as_str(), "{name}");
        assert_eq!(a["work_order_id"], Value::Null);
        let id = a["id"].as_str().unwrap();

        let r = download(app, &agent, id).await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(header(&r, CONTENT_TYPE), ct);
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert_eq!(header(&r, ETAG), format!("\"{sha}\""));
        let cd = header(&r, CONTENT_DISPOSITION);
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert_eq!(disposition_name(&cd), name);
        let got = r.bytes().await.unwrap();
        assert_eq!(got.as_ref(), bytes.as_slice(), "{name}");
        assert_eq!(hex(&Sha256::digest(&got)), sha);

        // The same version again: 304, no body.
        let r = app
            .as_token(&agent, Method::GET, &format!("/api/v1/attachments/{id}"))
            .header("if-none-match", format!("\"{sha}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let audited = app.audit("action=attachment.upload").await;
    assert_eq!(audited.len(), accepted().len());
    assert_eq!(audited[0]["actor_name"], "agent");
    assert!(audited[0]["after"]["sha256"].is_string());
    assert!(audited[0]["after"].get("content").is_none());
    // Nobody else reads a file no order uses yet; a file that does not exist is the same 404.
    let first = upload_ok(app, &agent, "a.png", PNG.to_vec()).await;
    let supervisor = app.login("supervisor").await;
    let r = download(app, &supervisor, first["id"].as_str().unwrap()).await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = download(app, &agent, &uuid::Uuid::now_v7().to_string()).await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = download(app, &agent, "not-a-uuid").await;
    problem(r, StatusCode::NOT_FOUND).await;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn_settings(kefu_api::Settings {
        max_attachment_bytes: 64 * 1024,
        ..Default::default()
    })
    .await;
    let agent = app.login("agent").await;
    let before = counts(&app).await;
    for size in [64 * 1024 + 1, 200 * 1024, 2 * 1024 * 1024] {
        let mut big = PNG.to_vec();
        big.resize(size, 0);
        let p = problem(
            upload(&app, &agent, "big.png", big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert_eq!(p["type"], "https://kefu.dev/problems/too-large", "{size}");
        assert_eq!(fields(&p), ["file"], "{size}");
    }
    assert_eq!(counts(&app).await, before);
    // Exactly at the limit is fine.
    let mut full = PNG.to_vec();
    full.resize(64 * 1024, 0);
    let a = upload_ok(&app, &agent, "full.png", full).await;
    assert_eq!(a["size"], 64 * 1024);
    app.stop().await;

    // The default limit is 10 MiB.
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let before = counts(&app).await;
    let mut big = jpeg();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let p = problem(
        upload(&app, &agent, "big.jpg", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(fields(&p), ["file"]);
    assert!(p["detail"].as_str().unwrap().contains("10 MiB"), "{p}");
    assert_eq!(counts(&app).await, before);
    let mut max = jpeg();
    max.resize(10 * 1024 * 1024, 0);
    upload_ok(&app, &agent, "max.jpg", max).await;
    app.stop().await;
}

#[tokio::test]
async fn disguised_and_malformed_uploads_are_refused_naming_the_file() {
    let app = TestApp::spawn().await;
    disguised_and_malformed_uploads_are_refused_naming_the_file_on(&app).await;
    app.stop().await;
}

pub async fn disguised_and_malformed_uploads_are_refused_naming_the_file_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let auditor = app.login("auditor").await;
    let before = counts(app).await;
    let exe = [
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".as_slice(),
        &[0; 200],
    ]
    .concat();
    // (name, bytes, words the reason must contain)
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("照片.jpg", elf(), &["executable", "elf", ".jpg"]),
        ("照片.jpg", exe.clone(), &["exe", ".jpg"]),
        ("setup.exe", exe, &["exe"]),
        ("照片.pdf", PNG.to_vec(), &["image/png", ".pdf"]),
        ("照片.jpg", PNG.to_vec(), &["image/png", ".jpg"]),
        ("报告.png", docx(), &["docx", ".png"]),
        ("台账.docx", xlsx(), &[".docx"]),
        (
            "说明.txt",
            b"first line\0second line".to_vec(),
            &["NUL", ".txt"],
        ),
        ("说明.txt", vec![0xb2, 0xe2, 0xca, 0xd4, 0x0a], &["UTF-8"]),
        (
            "说明.jpg",
            "只是文字".as_bytes().to_vec(),
            &["text", ".jpg"],
        ),
        (
            "page.html",
            b"<html><script>alert(1)</script></html>".to_vec(),
            &["text"],
        ),
        ("archive.zip", zip(&[("a.txt", b"hello")]), &["zip"]),
        (
            "data.bin",
            (0..=255u8).rev().cycle().take(1000).collect(),
            &["not recognized"],
        ),
        ("noextension", PNG.to_vec(), &["no extension"]),
    ];
    for (name, bytes, words) in cases {
        let p = problem(
            upload(app, &agent, name, bytes).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        assert_eq!(fields(&p), ["file"], "{name}: {p}");
        let reason = field_reasons(&p)[0].1.clone();
        for w in words {
            assert!(reason.contains(w), "{name}: {reason:?} lacks {w:?}");
        }
    }
    // An empty file, a missing part, a part without a file name, two files: 422 naming the field.
    let p = problem(
        upload(app, &agent, "空.txt", Vec::new()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["file"]);
    let r = app
        .as_token(&agent, Method::POST, "/api/v1/attachments")
        .multipart(reqwest::multipart::Form::new().text("note", "no file"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["note"]
    );
    let r = app
        .as_token(&agent, Method::POST, "/api/v1/attachments")
        .multipart(reqwest::multipart::Form::new())
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["file"]
    );
    let r = raw_upload(app, &agent, "form-data; name=\"file\"", PNG).await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["file"]
    );
    let two = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG).file_name("a.png"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG).file_name("b.png"),
        );
    let r = app
        .as_token(&agent, Method::POST, "/api/v1/attachments")
        .multipart(two)
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["file"]
    );
    // Not multipart at all: 415; a broken multipart body: 4xx problem.
    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/attachments",
            &json!({"file": "x"}),
        )
        .await;
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let r = app
        .as_token(&agent, Method::POST, "/api/v1/attachments")
        .header(CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG")
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(status.is_client_error(), "{status}");
    problem(r, status).await;
    // The auditor never uploads.
    problem(
        upload(app, &auditor, "a.png", PNG.to_vec()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(counts(app).await, before);
}

#[tokio::test]
async fn file_names_keep_their_last_part_and_are_served_safely() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let txt = "燃气".as_bytes().to_vec();
    for (sent, kept) in [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\fakepath\\报修 单.txt", "报修 单.txt"),
        (
            "<img src=x onerror=alert(1)>'; DROP TABLE attachments; --\".txt",
            "<img src=x onerror=alert(1)>'; DROP TABLE attachments; --\".txt",
        ),
        ("tab\there.txt", "tabhere.txt"),
        ("invoice\u{202e}gpj.txt", "invoicegpj.txt"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("%2e%2e%2fencoded.txt", "%2e%2e%2fencoded.txt"),
    ] {
        let a = upload_ok(&app, &agent, sent, txt.clone()).await;
        assert_eq!(a["filename"], kept, "{sent:?}");
        let r = download(&app, &agent, a["id"].as_str().unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let cd = header(&r, CONTENT_DISPOSITION);
        assert!(cd.is_ascii(), "{cd}");
        assert_eq!(disposition_name(&cd), kept);
        // The plain `filename` fallback holds no quote, backslash or path separator that escapes it.
        let fallback = cd
            .split("filename=\"")
            .nth(1)
            .and_then(|s| s.split("\";").next())
            .unwrap();
        assert!(!fallback.contains(['"', '\\', '/']), "{cd}");
    }
    // Names that are only directories or dots, or longer than 200 characters: 422.
    let before = counts(&app).await;
    for bad in [
        "dir/".to_string(),
        "..".into(),
        format!("{}.txt", "长".repeat(197)),
    ] {
        let p = problem(
            upload(&app, &agent, &bad, txt.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&p), ["file"], "{bad}");
    }
    let ok = format!("{}.txt", "长".repeat(196));
    assert_eq!(
        upload_ok(&app, &agent, &ok, txt.clone()).await["filename"],
        ok.as_str()
    );
    assert_eq!(counts(&app).await.0, before.0 + 1);
    app.stop().await;
}

async fn act_ok(app: &TestApp, token: &str, order: &Value, mut body: Value) -> Value {
    body["version"] = order["version"].clone();
    let path = format!(
        "/api/v1/work-orders/{}/actions",
        order["id"].as_str().unwrap()
    );
    let r = app.send(token, Method::POST, &path, &body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}: {v}");
    v
}

/// A site user of `unit`, signed in; returns the token.
async fn site_user(app: &TestApp, admin: &str, username: &str, unit: &str) -> String {
    let r = app
        .send(
            admin,
            Method::POST,
            "/api/v1/users",
            &json!({"username": username, "display_name": username, "password": PASSWORD, "role": "site_staff", "unit_id": unit}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.login(username).await
}

#[tokio::test]
async fn a_file_used_by_an_order_is_read_by_whoever_may_read_the_order() {
    let app = TestApp::spawn().await;
    a_file_used_by_an_order_is_read_by_whoever_may_read_the_order_on(&app).await;
    app.stop().await;
}

pub async fn a_file_used_by_an_order_is_read_by_whoever_may_read_the_order_on(app: &TestApp) {
    let agent = app.login("agent").await;
    let site = app.login("site").await;
    let admin = app.login("admin").await;
    let beilun = unit_id(app, &agent, "北仑分理处").await;
    let units = app.get(&admin, "/api/v1/units").await;
    let elsewhere = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] != beilun.as_str() && u["kind"] != "call_center")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let colleague = site_user(app, &admin, "site-bl-2", &beilun).await;
    let stranger = site_user(app, &admin, "site-other", &elsewhere).await;

    let o = gas_leak(app, &agent, Some(&beilun)).await;
    let o = act_ok(app, &site, &o, json!({"action": "accept"})).await;
    let photo = upload_ok(app, &site, "现场照片.png", PNG.to_vec()).await;
    let photo_id = photo["id"].as_str().unwrap().to_string();
    // Until an order uses it, the file is its uploader's alone.
    for t in [&agent, &colleague, &stranger] {
        problem(download(app, t, &photo_id).await, StatusCode::NOT_FOUND).await;
    }
    // Someone else's upload cannot be attached (it would hand it to everyone reading the order).
    let agents = upload_ok(app, &agent, "坐席截图.png", PNG.to_vec()).await;
    let r = app
        .send(
            &site,
            Method::POST,
            &format!("/api/v1/work-orders/{}/actions", o["id"].as_str().unwrap()),
            &json!({"action": "submit_feedback", "version": o["version"], "feedback": {"result": "已处理", "attachments": [agents["id"]]}}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        p["detail"].as_str().unwrap().contains("someone else")
            || field_reasons(&p)
                .iter()
                .any(|(_, r)| r.contains("someone else")),
        "{p}"
    );

    let done = act_ok(
        app,
        &site,
        &o,
        json!({"action": "submit_feedback", "feedback": {"result": "已更换胶管", "attachments": [photo_id]}}),
    )
    .await;
    let listed = app
        .get(
            &agent,
            &format!("/api/v1/work-orders/{}", done["id"].as_str().unwrap()),
        )
        .await;
    assert!(
        listed["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == photo_id.as_str() && a["sha256"] == photo["sha256"]),
        "{listed}"
    );
    // The uploader, the same site's colleague, and every role that reads any order: yes.
    let supervisor = app.login("supervisor").await;
    let auditor = app.login("auditor").await;
    for t in [&site, &colleague, &agent, &supervisor, &auditor, &admin] {
        let r = download(app, t, &photo_id).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    }
    // Another site's staff: as if it did not exist.
    problem(
        download(app, &stranger, &photo_id).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn attachments_on_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, kefu_api::Settings::default()).await;
    every_accepted_kind_round_trips_with_its_checksum_on(&app).await;
    disguised_and_malformed_uploads_are_refused_naming_the_file_on(&app).await;
    a_file_used_by_an_order_is_read_by_whoever_may_read_the_order_on(&app).await;
    app.stop().await;
}
