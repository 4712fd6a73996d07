//! The ACD's plain records through the API: queue settings (checked by field), call recordings (an
//! agent sees only its own calls'; every playback audited), the desk's own tasks, webhooks (the
//! secret never shown).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// 0.1 s of silence as 8 kHz mono 16-bit PCM WAV.
fn wav() -> Vec<u8> {
    let samples = 800u32;
    let data = samples * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

#[tokio::test]
async fn queue_settings_are_checked_and_kept() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let audits = app.audit_total().await;

    let base = json!({"key": "acd_test", "name": "ACD 测试", "max_wait_secs": 60});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/queues",
            &with(json!({"strategy": "random"})),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["strategy"]
    );
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/queues",
            &with(json!({"overflow": {"action": "queue", "queue": "nowhere"}})),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["overflow.queue"]
    );
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/queues",
            &with(json!({"ring_secs": 3, "min_level": 11, "calendar": "lunar",
                "overflow": {"action": "fax"}})),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["min_level", "ring_secs", "calendar", "overflow.action"]
    );
    assert_eq!(app.audit_total().await, audits, "refusals write nothing");

    // Defaults, then every setting given.
    let r = app
        .send(&admin, Method::POST, "/api/v1/queues", &base)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let q: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &q["strategy"],
            &q["skill"],
            &q["min_level"],
            &q["max_len"],
            &q["overflow"],
            &q["announce_secs"],
            &q["ring_secs"],
            &q["wrap_up_secs"],
            &q["service_level_secs"],
            &q["calendar"],
        ),
        (
            &json!("longest_idle"),
            &Value::Null,
            &json!(1),
            &json!(0),
            &json!({"action": "voicemail"}),
            &json!(30),
            &json!(15),
            &json!(10),
            &json!(20),
            &Value::Null
        )
    );
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/queues",
            &json!({"key": "acd_full", "name": "全设置", "strategy": "skills_based",
                "skill": "billing", "min_level": 4, "max_len": 5,
                "overflow": {"action": "queue", "queue": "acd_test"}, "announce_secs": 0,
                "ring_secs": 20, "wrap_up_secs": 0, "service_level_secs": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let full: Value = r.json().await.unwrap();
    assert_eq!(
        full["overflow"],
        json!({"action": "queue", "queue": "acd_test"})
    );
    assert_eq!(
        (
            &full["strategy"],
            &full["skill"],
            &full["min_level"],
            &full["ring_secs"]
        ),
        (
            &json!("skills_based"),
            &json!("billing"),
            &json!(4),
            &json!(20)
        )
    );

    // PATCH: checked by field; `null` clears the skill.
    let path = format!("/api/v1/queues/{}", full["id"].as_str().unwrap());
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"strategy": "ring_none", "overflow": {"action": "queue", "queue": "acd_full"}}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["strategy", "overflow.queue"]
    );
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"strategy": "ring_all", "skill": null, "overflow": {"action": "callback"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &changed["strategy"],
            &changed["skill"],
            &changed["overflow"],
            &changed["max_len"]
        ),
        (
            &json!("ring_all"),
            &Value::Null,
            &json!({"action": "callback"}),
            &json!(5)
        )
    );
    let listed = app.get(&admin, "/api/v1/queues").await;
    let found = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "acd_full")
        .unwrap();
    assert_eq!(found["strategy"], "ring_all");
    app.stop().await;
}

async fn user_id(app: &TestApp, username: &str) -> kefu_domain::UserId {
    app.store
        .login_lookup(username)
        .await
        .unwrap()
        .unwrap()
        .0
        .id
}

/// The agent profile of demo user `username` (made here when the demo has none).
async fn agent_of(app: &TestApp, username: &str) -> Uuid {
    if let Some(a) = app
        .store
        .agent_by_user(user_id(app, username).await)
        .await
        .unwrap()
    {
        return a.id;
    }
    app.store
        .create_agent(
            &kefu_store::Actor::system("test"),
            kefu_store::NewAgent {
                username: username.into(),
                extension: None,
                skills: Default::default(),
                wrap_up_secs: None,
                max_missed: None,
                auto_answer: false,
            },
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn recordings_are_listed_by_role_and_playback_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_settings(kefu_api::Settings {
        recordings_dir: dir.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let agent_profile = agent_of(&app, "agent").await;
    let supervisor_profile = agent_of(&app, "supervisor").await;
    let customer = kefu_domain::CustomerId::new();
    let add = |agent: Uuid, path: &str, secs: i64| kefu_store::NewRecording {
        call_id: Uuid::now_v7(),
        queue_call_id: None,
        agent_id: Some(agent),
        customer_id: Some(customer),
        caller: "13812345678".into(),
        path: path.into(),
        started_at: chrono::Utc::now() - chrono::TimeDelta::seconds(secs),
    };
    let own = app
        .store
        .add_recording(add(agent_profile, "2026/11/28/own.wav", 100))
        .await
        .unwrap();
    app.store
        .finish_recording(own, chrono::Utc::now(), wav().len() as i64)
        .await
        .unwrap();
    let others = app
        .store
        .add_recording(add(supervisor_profile, "2026/11/28/other.wav", 50))
        .await
        .unwrap();
    let gone = app
        .store
        .add_recording(add(agent_profile, "2026/11/28/gone.wav", 10))
        .await
        .unwrap();
    std::fs::create_dir_all(dir.path().join("2026/11/28")).unwrap();
    std::fs::write(dir.path().join("2026/11/28/own.wav"), wav()).unwrap();
    std::fs::write(dir.path().join("2026/11/28/other.wav"), wav()).unwrap();

    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;
    let auditor = app.login("auditor").await;
    // Supervisors and the auditor see every recording, newest first; an agent only its own.
    for token in [&supervisor, &auditor] {
        let page = app
            .get(token, &format!("/api/v1/recordings?customer_id={customer}"))
            .await;
        assert_eq!(
            ids(&page),
            vec![gone.to_string(), others.to_string(), own.to_string()]
        );
    }
    let page = app.get(&agent, "/api/v1/recordings").await;
    assert_eq!(ids(&page), vec![gone.to_string(), own.to_string()]);
    assert_eq!(page["total"], 2);
    let first = &page["items"][1];
    assert_eq!(first["agent_id"], agent_profile.to_string());
    assert_eq!(first["caller"], "13812345678");
    assert!(first["duration_ms"].as_i64().unwrap() >= 99_000);
    assert!(first.get("path").is_none());
    let r = app
        .as_token(
            &agent,
            Method::GET,
            &format!("/api/v1/recordings?agent_id={supervisor_profile}"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let filtered = app
        .get(
            &supervisor,
            &format!("/api/v1/recordings?agent_id={supervisor_profile}"),
        )
        .await;
    assert_eq!(ids(&filtered), vec![others.to_string()]);
    let r = app
        .as_token(&agent, Method::GET, "/api/v1/recordings?per_page=0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["per_page"]
    );

    // Playback: the WAV, audited every time.
    let plays = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .audit_entries(
                    &kefu_store::AuditQuery {
                        action: Some("recording.play".into()),
                        ..Default::default()
                    },
                    kefu_store::PageRequest {
                        page: 1,
                        per_page: 100,
                    },
                )
                .await
                .unwrap()
        }
    };
    for n in 1..=2 {
        let r = app
            .as_token(
                &agent,
                Method::GET,
                &format!("/api/v1/recordings/{own}/audio"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "audio/wav");
        assert_eq!(r.bytes().await.unwrap().to_vec(), wav());
        let entries = plays(&app).await;
        assert_eq!(entries.total, n);
        assert_eq!(entries.items[0].actor_name, "agent");
        assert_eq!(entries.items[0].entity_id, Some(own.to_string()));
    }
    // Another agent's recording: refused for the agent, played for the auditor.
    let r = app
        .as_token(
            &agent,
            Method::GET,
            &format!("/api/v1/recordings/{others}/audio"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .as_token(
            &auditor,
            Method::GET,
            &format!("/api/v1/recordings/{others}/audio"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(plays(&app).await.total, 3);
    // The file is gone, or the recording unknown: 404, nothing audited.
    for id in [gone, Uuid::now_v7()] {
        let r = app
            .as_token(
                &supervisor,
                Method::GET,
                &format!("/api/v1/recordings/{id}/audio"),
            )
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(plays(&app).await.total, 3);
    app.stop().await;
}

#[tokio::test]
async fn tasks_belong_to_their_user() {
    let app = TestApp::spawn().await;
    let agent = app.login("agent").await;
    let supervisor = app.login("supervisor").await;

    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/agents/me/tasks",
            &json!({"phone": "call me", "due_at": "2026-12-01T02:00:00Z"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["phone"]
    );
    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/agents/me/tasks",
            &json!({"kind": "nap", "customer_id": Uuid::now_v7(), "due_at": "2026-12-01T02:00:00Z"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["kind", "customer_id"]
    );

    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/agents/me/tasks",
            &json!({"phone": "138 1234 5678", "note": "回电确认维修时间",
                "due_at": "2026-12-01T02:00:00Z", "remind_at": "2026-12-01T01:45:00Z"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let callback: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &callback["kind"],
            &callback["phone"],
            &callback["done"],
            &callback["note"]
        ),
        (
            &json!("callback"),
            &json!("13812345678"),
            &json!(false),
            &json!("回电确认维修时间")
        )
    );
    let r = app
        .send(
            &agent,
            Method::POST,
            "/api/v1/agents/me/tasks",
            &json!({"note": "跟进投诉处理", "due_at": "2026-11-30T02:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let follow_up: Value = r.json().await.unwrap();
    assert_eq!(follow_up["kind"], "follow_up");

    let ids = |list: &Value| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect()
    };
    let mine = app.get(&agent, "/api/v1/agents/me/tasks").await;
    assert_eq!(
        ids(&mine),
        vec![follow_up["id"].clone(), callback["id"].clone()]
    );
    assert!(
        app.get(&supervisor, "/api/v1/agents/me/tasks")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Another user's task is not found; nothing changes.
    let path = format!(
        "/api/v1/agents/me/tasks/{}",
        callback["id"].as_str().unwrap()
    );
    let r = app
        .send(&supervisor, Method::PATCH, &path, &json!({"done": true}))
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .send(
            &agent,
            Method::PATCH,
            &format!("/api/v1/agents/me/tasks/{}", Uuid::now_v7()),
            &json!({"done": true}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .send(&agent, Method::PATCH, &path, &json!({"done": null}))
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["done"]
    );

    let r = app
        .send(
            &agent,
            Method::PATCH,
            &path,
            &json!({"done": true, "note": "已回电", "remind_at": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert_eq!(
        (&done["done"], &done["note"], &done["remind_at"]),
        (&json!(true), &json!("已回电"), &Value::Null)
    );
    assert!(done["done_at"].is_string());
    assert_eq!(
        ids(&app.get(&agent, "/api/v1/agents/me/tasks?done=false").await),
        vec![follow_up["id"].clone()]
    );
    assert_eq!(
        ids(&app.get(&agent, "/api/v1/agents/me/tasks?done=true").await),
        vec![callback["id"].clone()]
    );
    assert_eq!(app.audit("action=agent_task.update").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn webhooks_never_show_their_secret() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let supervisor = app.login("supervisor").await;
    let audits = app.audit_total().await;

    for url in ["ftp://crm.example.com/", "https://", "crm.example.com/hook"] {
        let r = app
            .send(
                &admin,
                Method::POST,
                "/api/v1/webhooks",
                &json!({"url": url, "secret": "s3cret-value"}),
            )
            .await;
        assert_eq!(
            fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
            vec!["url"],
            "{url}"
        );
    }
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/webhooks",
            &json!({"url": "https://crm.example.com/hook", "secret": "short", "events": ["Bad Event"]}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["events", "secret"]
    );
    assert_eq!(app.audit_total().await, audits);

    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/webhooks",
            &json!({"url": "https://crm.example.com/hook", "secret": "s3cret-value",
                "events": ["state", "ended"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let text = r.text().await.unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let hook: Value = serde_json::from_str(&text).unwrap();
    assert!(hook.get("secret").is_none());
    assert_eq!(
        (&hook["url"], &hook["events"], &hook["active"]),
        (
            &json!("https://crm.example.com/hook"),
            &json!(["state", "ended"]),
            &json!(true)
        )
    );
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());

    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"secret": "another-s3cret", "active": false, "events": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let r = app
        .send(
            &admin,
            Method::PATCH,
            &path,
            &json!({"url": "mailto:x@example.com"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["url"]
    );
    let r = app
        .as_token(&admin, Method::GET, "/api/v1/webhooks")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (&list[0]["active"], &list[0]["events"]),
        (&json!(false), &json!([]))
    );
    // Nor does the audit log hold the secret.
    let entries = app.audit("entity_type=webhook").await;
    assert_eq!(entries.len(), 2);
    assert!(!serde_json::to_string(&entries).unwrap().contains("s3cret"));

    let r = app
        .as_token(&supervisor, Method::GET, "/api/v1/webhooks")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .as_token(&admin, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    assert!(
        app.get(&admin, "/api/v1/webhooks")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}
