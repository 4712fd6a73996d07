//! The ACD's persistence (`acd`): agent profiles and their state log, queue settings, queue calls,
//! recordings, agents' tasks and webhooks — on SQLite and on PostgreSQL alike.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kefu_domain::*;
use kefu_store::testing::TestDatabase;
use kefu_store::*;
use serde_json::json;
use uuid::Uuid;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Postgres, super::$name).await })*
        }
    };
}

on_both_backends!(
    acd_agents_are_created_checked_and_changed,
    acd_state_changes_close_and_open_log_rows,
    acd_queue_settings_have_defaults_and_are_checked,
    acd_queue_calls_between_keep_their_bounds,
    acd_callbacks_stay_waiting_and_are_found_at_start,
    acd_a_not_ready_asked_for_while_busy_is_kept_without_a_log_row,
    acd_recordings_are_listed_and_playback_audited,
    acd_tasks_belong_to_their_user_and_remind_once,
    acd_webhooks_filter_events_and_retry,
    acd_state_changes_are_not_lost_while_others_write,
);

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    test(store.clone()).await;
    store.close().await.unwrap();
    db.drop_now().await;
}

fn admin() -> Actor {
    Actor {
        user_id: None,
        name: "test-admin".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

fn as_user(u: &User) -> Actor {
    Actor {
        user_id: Some(u.id),
        name: u.username.clone(),
        source_ip: None,
        request_id: None,
    }
}

fn page() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 200,
    }
}

fn fields_of(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn audit_count(store: &Store) -> u64 {
    store
        .audit_entries(&AuditQuery::default(), page())
        .await
        .unwrap()
        .total
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

/// A unit, extensions 8001 and 8002, and users `alice`, `bob` (agents' role) and `carol`.
struct World {
    users: BTreeMap<&'static str, User>,
}

async fn world(store: &Store) -> World {
    let cc = store
        .create_unit(
            &admin(),
            NewUnit {
                code: "CC".into(),
                name: "客服中心".into(),
                kind: "call_center".into(),
                parent_id: None,
                takes_queue_calls: true,
            },
        )
        .await
        .unwrap();
    for n in ["8001", "8002"] {
        store
            .create_extension(
                &admin(),
                NewExtension {
                    number: ExtensionNumber::parse(n).unwrap(),
                    display_name: format!("分机 {n}"),
                    owner: ExtensionOwner::Unit(cc.id),
                    enabled: true,
                    secrets: DigestSecrets {
                        ha1_md5: format!("md5-{n}"),
                        ha1_sha256: format!("sha-{n}"),
                    },
                },
            )
            .await
            .unwrap();
    }
    let mut users = BTreeMap::new();
    for (name, display) in [("alice", "王小丽"), ("bob", "李明"), ("carol", "张三")] {
        let u = store
            .create_user(
                &admin(),
                NewUser {
                    username: Username::parse(name).unwrap(),
                    display_name: display.into(),
                    password_hash: "x".into(),
                    role: Role::Agent,
                    unit_id: cc.id,
                },
            )
            .await
            .unwrap();
        users.insert(name, u);
    }
    World { users }
}

fn skills(pairs: &[(&str, u8)]) -> BTreeMap<String, u8> {
    pairs.iter().map(|(k, l)| (k.to_string(), *l)).collect()
}

fn new_agent(username: &str, extension: Option<&str>) -> NewAgent {
    NewAgent {
        username: username.into(),
        extension: extension.map(str::to_string),
        skills: skills(&[("general", 5), ("billing", 3)]),
        wrap_up_secs: None,
        max_missed: None,
        auto_answer: false,
    }
}

pub async fn acd_agents_are_created_checked_and_changed(store: Store) {
    let w = world(&store).await;
    let before = audit_count(&store).await;
    let alice = store
        .create_agent(&admin(), new_agent("alice", Some("8001")))
        .await
        .unwrap();
    assert_eq!(audit_count(&store).await, before + 1);
    assert_eq!(
        (
            alice.user_id,
            alice.username.as_str(),
            alice.display_name.as_str(),
            alice.extension.as_deref(),
            alice.max_missed,
            alice.wrap_up_secs,
            alice.enabled,
            alice.status.state.as_str(),
        ),
        (
            w.users["alice"].id,
            "alice",
            "王小丽",
            Some("8001"),
            DEFAULT_MAX_MISSED,
            None,
            true,
            "logged_out"
        )
    );
    assert_eq!(alice.skills, skills(&[("general", 5), ("billing", 3)]));
    assert_eq!(store.agent(alice.id).await.unwrap(), alice);
    assert_eq!(
        store.agent_by_user(w.users["alice"].id).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.agent_by_user(w.users["bob"].id).await.unwrap(), None);
    assert!(matches!(
        store.agent(Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));

    // Refusals name their fields and write nothing.
    let audits = audit_count(&store).await;
    let e = store
        .create_agent(
            &admin(),
            NewAgent {
                skills: skills(&[
                    ("general", 0),
                    ("", 3),
                    ("a very long skill key of more than 32", 2),
                ]),
                wrap_up_secs: Some(4000),
                max_missed: Some(21),
                ..new_agent("nobody", Some("9999"))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields_of(&e),
        vec![
            "username",
            "extension",
            "skills",
            "skills",
            "skills.general",
            "wrap_up_secs",
            "max_missed"
        ]
    );
    let e = store
        .create_agent(&admin(), new_agent("alice", None))
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["username"]);
    let e = store
        .update_agent(
            &admin(),
            alice.id,
            AgentChanges {
                extension: Some(Some("7777".into())),
                skills: Some(skills(&[("general", 11)])),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["extension", "skills.general"]);
    assert_eq!(audit_count(&store).await, audits);
    assert_eq!(store.agents().await.unwrap(), vec![alice.clone()]);

    let bob = store
        .create_agent(
            &admin(),
            NewAgent {
                wrap_up_secs: Some(30),
                max_missed: Some(0),
                auto_answer: true,
                ..new_agent("bob", None)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            bob.wrap_up_secs,
            bob.max_missed,
            bob.auto_answer,
            bob.extension
        ),
        (Some(30), 0, true, None)
    );
    let changed = store
        .update_agent(
            &admin(),
            alice.id,
            AgentChanges {
                extension: Some(None),
                skills: Some(skills(&[("emergency", 9)])),
                wrap_up_secs: Some(Some(5)),
                max_missed: Some(3),
                auto_answer: Some(true),
                enabled: Some(false),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.extension.clone(),
            changed.skills.clone(),
            changed.wrap_up_secs,
            changed.max_missed,
            changed.auto_answer,
            changed.enabled,
            changed.status.clone(),
        ),
        (
            None,
            skills(&[("emergency", 9)]),
            Some(5),
            3,
            true,
            false,
            alice.status.clone()
        )
    );
    let entries = store
        .audit_entries(
            &AuditQuery {
                action: Some("agent.update".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(entries.total, 1);
    assert_eq!(entries.items[0].entity_id, Some(alice.id.to_string()));
    let all: Vec<String> = store
        .agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(all, vec!["alice", "bob"]);
    assert!(matches!(
        store
            .update_agent(&admin(), Uuid::now_v7(), AgentChanges::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
}

fn status(state: &str, at: DateTime<Utc>) -> AgentStatus {
    AgentStatus {
        state: state.into(),
        ..AgentStatus::logged_out(at)
    }
}

pub async fn acd_a_not_ready_asked_for_while_busy_is_kept_without_a_log_row(store: Store) {
    let _w = world(&store).await;
    let alice = store
        .create_agent(&admin(), new_agent("alice", Some("8001")))
        .await
        .unwrap();
    let on_call = AgentStatus {
        call_id: Some(Uuid::now_v7()),
        ..status("on_call", t(0))
    };
    store
        .record_agent_state(alice.id, &on_call, None)
        .await
        .unwrap();
    let rows = |s: &Store| {
        let s = s.clone();
        async move {
            s.agent_state_log(alice.id, t(-10), t(1000))
                .await
                .unwrap()
                .len()
        }
    };
    let logged = rows(&store).await;
    store
        .record_agent_pending(alice.id, Some("meal"))
        .await
        .unwrap();
    let a = store.agent(alice.id).await.unwrap();
    assert_eq!(
        (a.status.state.as_str(), a.status.pending.as_deref()),
        ("on_call", Some("meal"))
    );
    assert_eq!(
        rows(&store).await,
        logged,
        "no state-log row for a pending change"
    );
    store.record_agent_pending(alice.id, None).await.unwrap();
    assert_eq!(store.agent(alice.id).await.unwrap().status.pending, None);
    assert!(matches!(
        store
            .record_agent_pending(Uuid::now_v7(), Some("meal"))
            .await,
        Err(kefu_store::StoreError::NotFound(_))
    ));
}

pub async fn acd_state_changes_close_and_open_log_rows(store: Store) {
    let w = world(&store).await;
    let alice = store
        .create_agent(&admin(), new_agent("alice", Some("8001")))
        .await
        .unwrap();
    let bob = store
        .create_agent(&admin(), new_agent("bob", Some("8002")))
        .await
        .unwrap();
    let audits = audit_count(&store).await;
    let call = Uuid::now_v7();
    let ready = AgentStatus {
        phone: Some("8001".into()),
        queues: vec!["general".into(), "billing".into()],
        idle_since: Some(t(0)),
        ..status("ready", t(0))
    };
    store
        .record_agent_state(alice.id, &ready, None)
        .await
        .unwrap();
    let on_call = AgentStatus {
        call_id: Some(call),
        queue: Some("general".into()),
        calls_handled: 1,
        ..status("on_call", t(60))
    };
    let on_call = AgentStatus {
        phone: ready.phone.clone(),
        queues: ready.queues.clone(),
        ..on_call
    };
    store
        .record_agent_state(alice.id, &on_call, None)
        .await
        .unwrap();
    let wrap = AgentStatus {
        until: Some(t(190)),
        pending: Some("break".into()),
        talk_secs: 120,
        ..on_call.clone()
    };
    let wrap = AgentStatus {
        state: "wrap_up".into(),
        since: t(180),
        ..wrap
    };
    store
        .record_agent_state(alice.id, &wrap, None)
        .await
        .unwrap();
    // The ACD's own changes are not audited.
    assert_eq!(audit_count(&store).await, audits);
    assert_eq!(store.agent(alice.id).await.unwrap().status, wrap);

    let log = store
        .agent_state_log(alice.id, t(0), t(3600))
        .await
        .unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|r| {
            (
                r.state.as_str(),
                r.call_id,
                r.queue.clone(),
                r.started_at,
                r.ended_at,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ready", None, None, t(0), Some(t(60))),
            (
                "on_call",
                Some(call),
                Some("general".into()),
                t(60),
                Some(t(180))
            ),
            ("wrap_up", Some(call), Some("general".into()), t(180), None),
        ]
    );
    // Only rows overlapping the interval.
    let mid: Vec<_> = store
        .agent_state_log(alice.id, t(60), t(180))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(mid, vec!["on_call"]);
    let later: Vec<_> = store
        .agent_state_log(alice.id, t(1000), t(2000))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(later, vec!["wrap_up"]);
    assert!(
        store
            .agent_state_log(alice.id, t(-100), t(0))
            .await
            .unwrap()
            .is_empty()
    );
    // Another agent's log is its own.
    assert!(
        store
            .agent_state_log(bob.id, t(0), t(3600))
            .await
            .unwrap()
            .is_empty()
    );

    // A supervisor's forced change is audited with the state before and after.
    let supervisor = as_user(&w.users["carol"]);
    let forced = AgentStatus {
        reason: Some("forced".into()),
        ..status("not_ready", t(300))
    };
    store
        .record_agent_state(bob.id, &forced, Some(&supervisor))
        .await
        .unwrap();
    assert_eq!(audit_count(&store).await, audits + 1);
    let e = store
        .audit_entries(
            &AuditQuery {
                action: Some("agent.state".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(e.items[0].actor_name, "carol");
    assert_eq!(e.items[0].after.as_ref().unwrap()["reason"], "forced");
    assert_eq!(e.items[0].before.as_ref().unwrap()["state"], "logged_out");
    assert!(matches!(
        store
            .record_agent_state(Uuid::now_v7(), &forced, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

fn queue(key: &str) -> NewQueue {
    NewQueue {
        key: key.into(),
        name: format!("队列 {key}"),
        members: vec![],
        max_wait_secs: 120,
        active: true,
    }
}

pub async fn acd_queue_settings_have_defaults_and_are_checked(store: Store) {
    store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "标准工作日历".into(),
                spec: kefu_workorders::china_demo_spec(),
            },
        )
        .await
        .unwrap();
    let general = store
        .create_queue(&admin(), queue("general"))
        .await
        .unwrap();
    assert_eq!(
        (
            general.strategy.as_str(),
            general.skill.clone(),
            general.min_level,
            general.max_len,
            general.overflow.clone(),
            general.announce_secs,
            general.ring_secs,
            general.wrap_up_secs,
            general.service_level_secs,
            general.calendar.clone(),
        ),
        (
            "longest_idle",
            None,
            1,
            0,
            json!({"action": "voicemail"}),
            30,
            15,
            10,
            20,
            None
        )
    );
    let audits = audit_count(&store).await;
    let e = store
        .create_queue_with(
            &admin(),
            queue("billing"),
            QueueSettings {
                strategy: Some("random".into()),
                skill: Some("two words".into()),
                min_level: Some(0),
                max_len: Some(20_000),
                overflow: Some(json!({"action": "queue", "queue": "nowhere"})),
                announce_secs: Some(4000),
                ring_secs: Some(4),
                wrap_up_secs: Some(3601),
                service_level_secs: Some(3601),
                calendar: Some("lunar".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields_of(&e),
        vec![
            "strategy",
            "skill",
            "min_level",
            "max_len",
            "announce_secs",
            "ring_secs",
            "wrap_up_secs",
            "service_level_secs",
            "calendar",
            "overflow.queue"
        ]
    );
    let e = store
        .create_queue_with(
            &admin(),
            queue("billing"),
            QueueSettings {
                overflow: Some(json!({"action": "fax"})),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["overflow.action"]);
    let e = store
        .create_queue_with(
            &admin(),
            queue("billing"),
            QueueSettings {
                overflow: Some(json!({"action": "queue", "queue": "billing"})),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["overflow.queue"]);
    assert_eq!(audit_count(&store).await, audits);
    assert!(store.get_queue_by_key("billing").await.unwrap().is_none());

    let billing = store
        .create_queue_with(
            &admin(),
            queue("billing"),
            QueueSettings {
                strategy: Some("skills_based".into()),
                skill: Some("bills".into()),
                min_level: Some(3),
                max_len: Some(10),
                overflow: Some(json!({"action": "queue", "queue": "general", "extra": 1})),
                announce_secs: Some(0),
                ring_secs: Some(20),
                wrap_up_secs: Some(0),
                service_level_secs: Some(30),
                calendar: Some("standard".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            billing.strategy.as_str(),
            billing.skill.as_deref(),
            billing.min_level,
            billing.max_len,
            billing.overflow.clone(),
            billing.announce_secs,
            billing.ring_secs,
            billing.wrap_up_secs,
            billing.service_level_secs,
            billing.calendar.as_deref(),
        ),
        (
            "skills_based",
            Some("bills"),
            3,
            10,
            json!({"action": "queue", "queue": "general"}),
            0,
            20,
            0,
            30,
            Some("standard")
        )
    );
    assert_eq!(store.get_queue(billing.id).await.unwrap(), billing);

    // Changes check only what they change; `Some(None)` clears.
    let audits = audit_count(&store).await;
    let e = store
        .update_queue(
            &admin(),
            general.id,
            QueueChanges {
                strategy: Some("ring_none".into()),
                ring_secs: Some(121),
                overflow: Some(json!({"action": "queue", "queue": "general"})),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields_of(&e),
        vec!["strategy", "ring_secs", "overflow.queue"]
    );
    assert_eq!(audit_count(&store).await, audits);
    let changed = store
        .update_queue(
            &admin(),
            billing.id,
            QueueChanges {
                strategy: Some("ring_all".into()),
                skill: Some(None),
                calendar: Some(None),
                overflow: Some(json!({"action": "callback"})),
                min_level: Some(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.strategy.as_str(),
            changed.skill.clone(),
            changed.calendar.clone(),
            changed.overflow.clone(),
            changed.min_level,
            changed.ring_secs,
            changed.max_len,
        ),
        (
            "ring_all",
            None,
            None,
            json!({"action": "callback"}),
            10,
            20,
            10
        )
    );
    assert_eq!(audit_count(&store).await, audits + 1);
    for s in QUEUE_STRATEGIES {
        store
            .update_queue(
                &admin(),
                general.id,
                QueueChanges {
                    strategy: Some(s.to_string()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
}

fn queue_call(queue: &str, entered: DateTime<Utc>, customer: Option<CustomerId>) -> NewQueueCall {
    NewQueueCall {
        call_id: Uuid::now_v7(),
        queue: queue.into(),
        priority: 5,
        caller: "13812345678".into(),
        customer_id: customer,
        ivr_path: vec!["welcome".into(), "menu".into()],
        entered_at: entered,
    }
}

pub async fn acd_callbacks_stay_waiting_and_are_found_at_start(store: Store) {
    let caller = store
        .queue_call_entered(queue_call("general", t(0), None))
        .await
        .unwrap();
    let callback = store
        .queue_call_entered(queue_call("billing", t(-30), None))
        .await
        .unwrap();
    let answered = store
        .queue_call_entered(queue_call("general", t(5), None))
        .await
        .unwrap();
    store
        .queue_call_finished(answered, "answered", t(50), 40_000, None)
        .await
        .unwrap();
    store.queue_call_to_callback(callback).await.unwrap();
    assert!(matches!(
        store.queue_call_to_callback(Uuid::now_v7()).await,
        Err(kefu_store::StoreError::NotFound(_))
    ));
    let waiting = store.queue_calls_waiting().await.unwrap();
    let got: Vec<_> = waiting
        .iter()
        .map(|r| (r.id, r.outcome.as_str(), r.overflow_to.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (callback, "waiting", Some("callback")),
            (caller, "waiting", None)
        ],
        "oldest first, the callback marked"
    );
    // At start: the caller on the line then is closed as dropped.
    store
        .queue_call_finished(caller, "dropped", t(100), 0, None)
        .await
        .unwrap();
    let left: Vec<_> = store
        .queue_calls_waiting()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![callback]);
}

pub async fn acd_queue_calls_between_keep_their_bounds(store: Store) {
    let customer = CustomerId::new();
    let agent = Uuid::now_v7();
    let audits = audit_count(&store).await;
    // Entered before, exactly at `from`, inside, exactly at `to`, after; one waiting since before.
    let before = store
        .queue_call_entered(queue_call("general", t(-1), None))
        .await
        .unwrap();
    let at_from = store
        .queue_call_entered(queue_call("general", t(0), Some(customer)))
        .await
        .unwrap();
    let inside = store
        .queue_call_entered(NewQueueCall {
            priority: 9,
            ..queue_call("emergency", t(30), Some(customer))
        })
        .await
        .unwrap();
    let at_to = store
        .queue_call_entered(queue_call("general", t(60), None))
        .await
        .unwrap();
    let waiting_long = store
        .queue_call_entered(queue_call("billing", t(-600), None))
        .await
        .unwrap();
    // Finish the ones that are not waiting.
    store
        .queue_call_finished(before, "abandoned", t(5), 0, None)
        .await
        .unwrap();
    store
        .queue_call_answered(at_from, agent, t(10))
        .await
        .unwrap();
    store
        .queue_call_finished(at_from, "answered", t(70), 60_000, None)
        .await
        .unwrap();
    store.queue_call_wrapped(at_from, 8_000).await.unwrap();
    store
        .queue_call_finished(inside, "overflowed", t(40), 0, Some("general"))
        .await
        .unwrap();
    store
        .queue_call_finished(at_to, "abandoned", t(65), 0, None)
        .await
        .unwrap();
    assert_eq!(
        audit_count(&store).await,
        audits,
        "queue calls are not audited"
    );

    let ids = |rows: Vec<QueueCallRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.queue_calls_between(t(0), t(60), None).await.unwrap()),
        vec![waiting_long, at_from, inside]
    );
    assert_eq!(
        ids(store
            .queue_calls_between(t(0), t(60), Some("general"))
            .await
            .unwrap()),
        vec![at_from]
    );
    assert_eq!(
        ids(store
            .queue_calls_between(t(0), t(61), Some("general"))
            .await
            .unwrap()),
        vec![at_from, at_to]
    );
    // A waiting call is listed only once it has entered.
    assert_eq!(
        ids(store
            .queue_calls_between(t(-2000), t(-1000), None)
            .await
            .unwrap()),
        Vec::<Uuid>::new()
    );

    let rows = store.queue_calls_between(t(0), t(60), None).await.unwrap();
    let answered = rows.iter().find(|r| r.id == at_from).unwrap();
    assert_eq!(
        (
            answered.outcome.as_str(),
            answered.agent_id,
            answered.answered_at,
            answered.ended_at,
            answered.talk_ms,
            answered.wrap_ms,
            answered.customer_id,
            answered.ivr_path.clone(),
            answered.priority,
        ),
        (
            "answered",
            Some(agent),
            Some(t(10)),
            Some(t(70)),
            60_000,
            8_000,
            Some(customer),
            vec!["welcome".to_string(), "menu".to_string()],
            5
        )
    );
    let overflowed = rows.iter().find(|r| r.id == inside).unwrap();
    assert_eq!(
        (
            overflowed.outcome.as_str(),
            overflowed.overflow_to.as_deref(),
            overflowed.priority
        ),
        ("overflowed", Some("general"), 9)
    );
    let waiting = rows.iter().find(|r| r.id == waiting_long).unwrap();
    assert_eq!(
        (waiting.outcome.as_str(), waiting.ended_at),
        ("waiting", None)
    );

    // A customer's calls, newest first, limited.
    assert_eq!(
        ids(store.queue_calls_of_customer(customer, 10).await.unwrap()),
        vec![inside, at_from]
    );
    assert_eq!(
        ids(store.queue_calls_of_customer(customer, 1).await.unwrap()),
        vec![inside]
    );
    assert!(
        store
            .queue_calls_of_customer(CustomerId::new(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Unknown rows and outcomes.
    assert!(matches!(
        store.queue_call_answered(Uuid::now_v7(), agent, t(1)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.queue_call_wrapped(Uuid::now_v7(), 1).await,
        Err(StoreError::NotFound(_))
    ));
    let e = store
        .queue_call_finished(waiting_long, "lost", t(1), 0, None)
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["outcome"]);
}

pub async fn acd_recordings_are_listed_and_playback_audited(store: Store) {
    let w = world(&store).await;
    let alice = store
        .create_agent(&admin(), new_agent("alice", Some("8001")))
        .await
        .unwrap();
    let customer = CustomerId::new();
    let call = Uuid::now_v7();
    let audits = audit_count(&store).await;
    let first = store
        .add_recording(NewRecording {
            call_id: call,
            queue_call_id: None,
            agent_id: Some(alice.id),
            customer_id: Some(customer),
            caller: "13812345678".into(),
            path: "2026/11/28/a.wav".into(),
            started_at: t(0),
        })
        .await
        .unwrap();
    let second = store
        .add_recording(NewRecording {
            call_id: Uuid::now_v7(),
            queue_call_id: Some(Uuid::now_v7()),
            agent_id: None,
            customer_id: None,
            caller: "057487654321".into(),
            path: "2026/11/28/b.wav".into(),
            started_at: t(100),
        })
        .await
        .unwrap();
    assert_eq!(
        audit_count(&store).await,
        audits,
        "recording rows are not audited"
    );
    let r = store.recording(first).await.unwrap();
    assert_eq!(
        (
            r.ended_at,
            r.bytes,
            r.path.as_str(),
            r.agent_id,
            r.customer_id
        ),
        (None, 0, "2026/11/28/a.wav", Some(alice.id), Some(customer))
    );
    store.finish_recording(first, t(60), 960_044).await.unwrap();
    let r = store.recording(first).await.unwrap();
    assert_eq!((r.ended_at, r.bytes), (Some(t(60)), 960_044));
    assert!(matches!(
        store.finish_recording(Uuid::now_v7(), t(1), 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.recording(Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));

    let q = |customer_id, call_id, agent_id| RecordingQuery {
        customer_id,
        call_id,
        agent_id,
        page: page(),
    };
    let ids = |p: Page<Recording>| p.items.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.recordings(q(None, None, None)).await.unwrap()),
        vec![second, first]
    );
    assert_eq!(
        ids(store
            .recordings(q(Some(customer), None, None))
            .await
            .unwrap()),
        vec![first]
    );
    assert_eq!(
        ids(store.recordings(q(None, Some(call), None)).await.unwrap()),
        vec![first]
    );
    assert_eq!(
        ids(store
            .recordings(q(None, None, Some(alice.id)))
            .await
            .unwrap()),
        vec![first]
    );
    assert_eq!(
        ids(store
            .recordings(q(Some(customer), None, Some(Uuid::now_v7())))
            .await
            .unwrap()),
        Vec::<Uuid>::new()
    );
    let paged = store
        .recordings(RecordingQuery {
            page: PageRequest {
                page: 2,
                per_page: 1,
            },
            ..q(None, None, None)
        })
        .await
        .unwrap();
    assert_eq!((paged.total, paged.page, ids(paged)), (2, 2, vec![first]));

    store
        .audit_recording_played(&as_user(&w.users["carol"]), first)
        .await
        .unwrap();
    store
        .audit_recording_played(&as_user(&w.users["carol"]), first)
        .await
        .unwrap();
    let plays = store
        .audit_entries(
            &AuditQuery {
                action: Some("recording.play".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(plays.total, 2);
    assert_eq!(plays.items[0].entity_id, Some(first.to_string()));
    assert_eq!(plays.items[0].actor_name, "carol");
    assert!(matches!(
        store
            .audit_recording_played(&as_user(&w.users["carol"]), Uuid::now_v7())
            .await,
        Err(StoreError::NotFound(_))
    ));
}

fn new_task(kind: &str, due: DateTime<Utc>) -> NewTask {
    NewTask {
        kind: kind.into(),
        customer_id: None,
        phone: Some("13812345678".into()),
        work_order_id: None,
        note: "  回电确认维修时间  ".into(),
        due_at: due,
        remind_at: None,
    }
}

pub async fn acd_tasks_belong_to_their_user_and_remind_once(store: Store) {
    let w = world(&store).await;
    let alice = as_user(&w.users["alice"]);
    let bob = as_user(&w.users["bob"]);
    let audits = audit_count(&store).await;
    let e = store
        .create_task(
            &alice,
            NewTask {
                kind: "meeting".into(),
                customer_id: Some(CustomerId::new()),
                phone: Some("call me".into()),
                work_order_id: Some(WorkOrderId::new()),
                note: "x".repeat(2001),
                ..new_task("callback", t(0))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields_of(&e),
        vec!["kind", "phone", "note", "customer_id", "work_order_id"]
    );
    let e = store
        .create_task(
            &alice,
            NewTask {
                phone: None,
                ..new_task("callback", t(0))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["phone"]);
    assert!(matches!(
        store
            .create_task(&admin(), new_task("callback", t(0)))
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(audit_count(&store).await, audits);

    let later = store
        .create_task(
            &alice,
            NewTask {
                remind_at: Some(t(3000)),
                ..new_task("follow_up", t(3600))
            },
        )
        .await
        .unwrap();
    let sooner = store
        .create_task(
            &alice,
            NewTask {
                remind_at: Some(t(-60)),
                ..new_task("callback", t(0))
            },
        )
        .await
        .unwrap();
    let bobs = store
        .create_task(
            &bob,
            NewTask {
                remind_at: Some(t(-120)),
                ..new_task("callback", t(10))
            },
        )
        .await
        .unwrap();
    assert_eq!(audit_count(&store).await, audits + 3);
    assert_eq!(
        (
            sooner.user_id,
            sooner.note.as_str(),
            sooner.done_at,
            sooner.reminded_at
        ),
        (w.users["alice"].id, "回电确认维修时间", None, None)
    );
    let ids = |v: Vec<AgentTask>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.tasks_of(w.users["alice"].id, false).await.unwrap()),
        vec![sooner.id, later.id]
    );

    // Another user's task is not found, and nothing changes.
    assert!(matches!(
        store
            .update_task(
                &bob,
                sooner.id,
                TaskChanges {
                    done: Some(true),
                    ..Default::default()
                },
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .update_task(&alice, Uuid::now_v7(), TaskChanges::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
    let e = store
        .update_task(
            &alice,
            sooner.id,
            TaskChanges {
                kind: Some("nap".into()),
                phone: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["kind"]);
    let e = store
        .update_task(
            &alice,
            sooner.id,
            TaskChanges {
                phone: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["phone"]);
    assert_eq!(audit_count(&store).await, audits + 3);

    // Reminders: due ones once, open ones only.
    let due = store.due_task_reminders(t(0)).await.unwrap();
    let mut due_ids = ids(due.clone());
    due_ids.sort();
    let mut expected = vec![sooner.id, bobs.id];
    expected.sort();
    assert_eq!(due_ids, expected);
    assert!(due.iter().all(|t| t.reminded_at.is_some()));
    assert!(store.due_task_reminders(t(1)).await.unwrap().is_empty());

    // Done; a new reminder time reminds again.
    let done = store
        .update_task(
            &alice,
            sooner.id,
            TaskChanges {
                done: Some(true),
                note: Some("已回电".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(done.done_at.is_some());
    assert_eq!(done.note, "已回电");
    assert_eq!(
        ids(store.tasks_of(w.users["alice"].id, false).await.unwrap()),
        vec![later.id]
    );
    assert_eq!(
        ids(store.tasks_of(w.users["alice"].id, true).await.unwrap()),
        vec![sooner.id, later.id]
    );
    let moved = store
        .update_task(
            &bob,
            bobs.id,
            TaskChanges {
                remind_at: Some(Some(t(200))),
                due_at: Some(t(300)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((moved.reminded_at, moved.due_at), (None, t(300)));
    assert!(store.due_task_reminders(t(199)).await.unwrap().is_empty());
    assert_eq!(
        ids(store.due_task_reminders(t(200)).await.unwrap()),
        vec![bobs.id]
    );
    // A done task is never reminded; reopening it leaves its sent reminder sent.
    store
        .update_task(
            &alice,
            later.id,
            TaskChanges {
                done: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(store.due_task_reminders(t(4000)).await.unwrap().is_empty());
    let reopened = store
        .update_task(
            &alice,
            sooner.id,
            TaskChanges {
                done: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(reopened.done_at, None);
    assert_eq!(audit_count(&store).await, audits + 7);
}

pub async fn acd_webhooks_filter_events_and_retry(store: Store) {
    let audits = audit_count(&store).await;
    let e = store
        .create_webhook(
            &admin(),
            NewWebhook {
                url: "ftp://example.com/hook".into(),
                events: vec!["State".into()],
                secret: "short".into(),
                active: true,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["url", "events", "secret"]);
    for bad in [
        "http://",
        "https:///path",
        "http://user:pw@example.com/",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "example.com",
    ] {
        assert!(check_webhook_url(bad).is_err(), "{bad}");
    }
    for good in [
        "http://127.0.0.1:8080/hook",
        "https://crm.example.com/kefu?x=1",
        "http://[::1]:9000/",
    ] {
        assert!(check_webhook_url(good).is_ok(), "{good}");
    }
    assert_eq!(audit_count(&store).await, audits);

    let all = store
        .create_webhook(
            &admin(),
            NewWebhook {
                url: " https://crm.example.com/all ".into(),
                events: vec![],
                secret: "s3cret-all".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let states = store
        .create_webhook(
            &admin(),
            NewWebhook {
                url: "https://crm.example.com/states".into(),
                events: vec!["state".into(), "state".into(), "ended".into()],
                secret: "s3cret-states".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let off = store
        .create_webhook(
            &admin(),
            NewWebhook {
                url: "https://crm.example.com/off".into(),
                events: vec![],
                secret: "s3cret-off".into(),
                active: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.url, "https://crm.example.com/all");
    assert_eq!(states.events, vec!["state", "ended"]);
    assert_eq!(audit_count(&store).await, audits + 3);
    // The secret is in no audit entry.
    let entries = store
        .audit_entries(
            &AuditQuery {
                entity_type: Some("webhook".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert!(
        entries
            .items
            .iter()
            .all(|e| !serde_json::to_string(e).unwrap().contains("s3cret"))
    );
    assert_eq!(
        store
            .webhooks()
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.id)
            .collect::<Vec<_>>(),
        vec![all.id, states.id, off.id]
    );

    // Filtering: `offering` goes to the catch-all only, `state` to both active ones.
    let now = Utc::now();
    assert_eq!(
        store
            .enqueue_webhook_event("offering", &json!({"type": "offering"}))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .enqueue_webhook_event("state", &json!({"type": "state", "agent_id": "a"}))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        audit_count(&store).await,
        audits + 3,
        "deliveries are not audited"
    );
    let due = store
        .due_webhook_deliveries(now + TimeDelta::seconds(5), 100)
        .await
        .unwrap();
    let mut seen: Vec<(String, String, String)> = due
        .iter()
        .map(|d| (d.url.clone(), d.event_type.clone(), d.secret.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "https://crm.example.com/all".into(),
                "offering".into(),
                "s3cret-all".into()
            ),
            (
                "https://crm.example.com/all".into(),
                "state".into(),
                "s3cret-all".into()
            ),
            (
                "https://crm.example.com/states".into(),
                "state".into(),
                "s3cret-states".into()
            ),
        ]
    );
    assert_eq!(
        store
            .due_webhook_deliveries(now + TimeDelta::seconds(5), 2)
            .await
            .unwrap()
            .len(),
        2
    );
    let to_states = due.iter().find(|d| d.webhook_id == states.id).unwrap();
    assert_eq!(to_states.body, json!({"type": "state", "agent_id": "a"}));
    assert_eq!(to_states.attempts, 0);

    // Delivered: gone from the due list. Failed: due again at the retry time; given up: never.
    let offering = due.iter().find(|d| d.event_type == "offering").unwrap();
    let state_all = due
        .iter()
        .find(|d| d.event_type == "state" && d.webhook_id == all.id)
        .unwrap();
    let later = now + TimeDelta::seconds(60);
    store.webhook_delivered(offering.id, now).await.unwrap();
    store
        .webhook_failed(state_all.id, "HTTP 500", Some(later))
        .await
        .unwrap();
    store
        .webhook_failed(to_states.id, "connection refused", None)
        .await
        .unwrap();
    assert!(
        store
            .due_webhook_deliveries(now + TimeDelta::seconds(59), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.due_webhook_deliveries(later, 100).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        (
            retried[0].id,
            retried[0].attempts,
            retried[0].last_error.as_deref()
        ),
        (state_all.id, 1, Some("HTTP 500"))
    );
    store
        .webhook_failed(state_all.id, "HTTP 502", Some(later))
        .await
        .unwrap();
    assert_eq!(
        store.due_webhook_deliveries(later, 100).await.unwrap()[0].attempts,
        2
    );
    store.webhook_delivered(state_all.id, later).await.unwrap();
    assert!(
        store
            .due_webhook_deliveries(later, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let history = store.webhook_deliveries_of(all.id).await.unwrap();
    assert!(history.iter().all(|d| d.delivered_at.is_some()));
    let given_up = store.webhook_deliveries_of(states.id).await.unwrap();
    assert_eq!(
        (
            given_up[0].attempts,
            given_up[0].next_at,
            given_up[0].delivered_at
        ),
        (1, None, None)
    );
    assert!(matches!(
        store.webhook_delivered(Uuid::now_v7(), now).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.webhook_failed(Uuid::now_v7(), "x", None).await,
        Err(StoreError::NotFound(_))
    ));

    // Changes: checked, the secret kept unless given; a paused webhook gets nothing.
    let audits = audit_count(&store).await;
    let e = store
        .update_webhook(
            &admin(),
            states.id,
            WebhookChanges {
                url: Some("mailto:x@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), vec!["url"]);
    assert_eq!(audit_count(&store).await, audits);
    let paused = store
        .update_webhook(
            &admin(),
            states.id,
            WebhookChanges {
                active: Some(false),
                events: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((paused.active, paused.events.len()), (false, 0));
    assert_eq!(
        store
            .enqueue_webhook_event("state", &json!({}))
            .await
            .unwrap(),
        1
    );
    store
        .update_webhook(
            &admin(),
            off.id,
            WebhookChanges {
                active: Some(true),
                secret: Some("new-secret-value".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .enqueue_webhook_event("state", &json!({}))
        .await
        .unwrap();
    let due = store
        .due_webhook_deliveries(Utc::now() + TimeDelta::seconds(1), 100)
        .await
        .unwrap();
    assert!(
        due.iter()
            .any(|d| d.webhook_id == off.id && d.secret == "new-secret-value")
    );
    assert!(due.iter().all(|d| d.webhook_id != states.id));

    // Deleting drops the webhook and its deliveries.
    store.delete_webhook(&admin(), all.id).await.unwrap();
    assert!(matches!(
        store.webhook_deliveries_of(all.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_webhook(&admin(), all.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.webhooks().await.unwrap().len(), 2);
    assert_eq!(audit_count(&store).await, audits + 3);
}

/// Regression: a state change read the agent before writing, and on SQLite a write committed by
/// another connection in between made it fail at once ("database is locked", SQLITE_BUSY_SNAPSHOT):
/// the ACD lost agents' states while calls were being recorded.
pub async fn acd_state_changes_are_not_lost_while_others_write(store: Store) {
    let _w = world(&store).await;
    let alice = store
        .create_agent(&admin(), new_agent("alice", Some("8001")))
        .await
        .unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                store
                    .queue_call_entered(NewQueueCall {
                        call_id: Uuid::now_v7(),
                        queue: "general".into(),
                        priority: 0,
                        caller: "13800000000".into(),
                        customer_id: None,
                        ivr_path: vec![],
                        entered_at: t(i),
                    })
                    .await
                    .unwrap();
            }
        })
    };
    for i in 0..150 {
        let state = if i % 2 == 0 { "ready" } else { "not_ready" };
        store
            .record_agent_state(alice.id, &status(state, t(i)), None)
            .await
            .unwrap();
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    let log = store
        .agent_state_log(alice.id, t(-1), t(1000))
        .await
        .unwrap();
    assert_eq!(log.len(), 150);
}
