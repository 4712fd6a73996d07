//! Business calendars and work-order types, on both backends (listed in `store.rs`).

use chrono::TimeZone;
use kefu_domain::*;
use kefu_store::*;
use kefu_workorders::{
    CalendarSpec, FieldDef, Form, Priority, PriorityRule, SlaPolicy, Span, china_demo_spec,
};

use super::{admin, audit_count, seed_unit};

fn fields_of(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn conflict(e: &StoreError) -> &str {
    match e {
        StoreError::Conflict(detail) => detail,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn fault_form() -> Form {
    let defs: Vec<FieldDef> = serde_json::from_value(serde_json::json!([
        {"key": "category", "label": "故障类别", "kind": "choice", "required": true, "options": [
            {"value": "gas_leak", "label": "燃气泄漏"},
            {"value": "no_gas", "label": "无气"}
        ]},
        {"key": "location", "label": "故障地点", "kind": "address"}
    ]))
    .unwrap();
    Form::parse(defs).unwrap()
}

fn leak_rule() -> PriorityRule {
    PriorityRule {
        field: "category".into(),
        equals: "gas_leak".into(),
        priority: Priority::Emergency,
    }
}

fn policy() -> SlaPolicy {
    serde_json::from_value(serde_json::json!({
        "targets": {"emergency": {"accept_mins": 10, "resolve_mins": 240}, "normal": {"resolve_mins": 960}},
        "remind_at_percent": [50, 80],
        "escalate_on_breach": true
    }))
    .unwrap()
}

async fn standard(store: &Store) -> Calendar {
    store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "标准工作日历".into(),
                spec: china_demo_spec(),
            },
        )
        .await
        .unwrap()
}

fn new_type(code: &str, calendar: CalendarId, unit: Option<UnitId>) -> NewWorkOrderType {
    NewWorkOrderType {
        code: code.into(),
        name: "故障申告".into(),
        name_en: Some("Fault report".into()),
        description: None,
        form: fault_form(),
        priority_rules: vec![leak_rule()],
        default_priority: Priority::Normal,
        default_unit_id: unit,
        fallback_unit_id: None,
        calendar_id: calendar,
        sla: policy(),
        callback_required: true,
        active: true,
        sort: 10,
    }
}

pub async fn calendars_are_versioned_and_checked(store: Store) {
    let cal = standard(&store).await;
    assert_eq!(cal.version, 1);
    assert_eq!(store.calendar(cal.id).await.unwrap(), cal);
    assert_eq!(
        store.calendar_by_code("standard").await.unwrap(),
        Some(cal.clone())
    );
    assert_eq!(store.calendars().await.unwrap(), std::slice::from_ref(&cal));
    // What it computes with: Friday 2026-11-20 17:00 (UTC+8) plus an hour is Monday 09:00.
    let business = store.business_calendar(cal.id).await.unwrap();
    let cn = |d, h| {
        chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    assert_eq!(
        business.add(cn(20, 17), chrono::TimeDelta::hours(1)),
        cn(23, 9)
    );

    let audits = audit_count(&store).await;
    let renamed = store
        .update_calendar(
            &admin(),
            cal.id,
            1,
            CalendarChanges {
                name: Some("办公日历".into()),
                spec: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    assert_eq!(renamed.spec, cal.spec);
    assert_eq!(store.calendar(cal.id).await.unwrap(), renamed);
    assert_eq!(audit_count(&store).await, audits + 1);

    // The same version again: refused, naming the current one, and nothing written.
    let e = store
        .update_calendar(
            &admin(),
            cal.id,
            1,
            CalendarChanges {
                name: Some("旧的".into()),
                spec: None,
            },
        )
        .await
        .unwrap_err();
    assert!(conflict(&e).contains("now version 2"), "{e}");
    assert_eq!(store.calendar(cal.id).await.unwrap(), renamed);
    assert_eq!(audit_count(&store).await, audits + 1);

    // A spec that does not parse never reaches the table.
    let mut bad = china_demo_spec();
    bad.week[0] = vec![Span::new("08:00", "12:00"), Span::new("11:00", "13:00")];
    bad.workdays.push(bad.holidays[0]);
    let e = store
        .update_calendar(
            &admin(),
            cal.id,
            2,
            CalendarChanges {
                name: None,
                spec: Some(bad.clone()),
            },
        )
        .await
        .unwrap_err();
    let fields = fields_of(&e);
    assert!(
        fields.contains(&"spec.week[0][1].start".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("spec.workdays[")),
        "{fields:?}"
    );
    let e = store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "bad".into(),
                name: "坏".into(),
                spec: bad,
            },
        )
        .await
        .unwrap_err();
    assert!(!fields_of(&e).is_empty());
    let e = store
        .create_calendar(
            &admin(),
            NewCalendar {
                code: "standard".into(),
                name: "又一个".into(),
                spec: china_demo_spec(),
            },
        )
        .await
        .unwrap_err();
    assert!(conflict(&e).contains("already exists"));
    assert_eq!(store.calendars().await.unwrap().len(), 1);
    assert_eq!(audit_count(&store).await, audits + 1);
    assert!(matches!(
        store.calendar(CalendarId::new()).await,
        Err(StoreError::NotFound("calendar"))
    ));

    // 24×7, and a change of spec.
    let always = CalendarSpec {
        always_open: true,
        utc_offset_minutes: 480,
        week: Default::default(),
        holidays: vec![],
        workdays: vec![],
    };
    let changed = store
        .update_calendar(
            &admin(),
            cal.id,
            2,
            CalendarChanges {
                name: None,
                spec: Some(always),
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.version, 3);
    assert!(
        store
            .business_calendar(cal.id)
            .await
            .unwrap()
            .is_always_open()
    );
}

pub async fn work_order_types_check_their_parts_and_references(store: Store) {
    let unit = seed_unit(&store).await;
    let cal = standard(&store).await;
    let audits = audit_count(&store).await;
    let fault = store
        .create_work_order_type(&admin(), new_type("fault", cal.id, Some(unit.id)))
        .await
        .unwrap();
    assert_eq!(fault.version, 1);
    assert_eq!(fault.form, fault_form());
    assert_eq!(fault.sla, policy());
    assert_eq!(fault.default_unit_id, Some(unit.id));
    assert_eq!(store.work_order_type(fault.id).await.unwrap(), fault);
    assert_eq!(
        store.work_order_type_by_code("fault").await.unwrap(),
        Some(fault.clone())
    );
    assert!(
        store
            .work_order_type_by_code("nope")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.calendar_for(&fault).await.unwrap(),
        cal.business().unwrap()
    );
    assert_eq!(audit_count(&store).await, audits + 1);

    // Everything that does not fit is refused, naming the field, and nothing is written.
    let nowhere = UnitId::new();
    let cases: Vec<(NewWorkOrderType, &str)> = vec![
        (new_type("a", cal.id, Some(nowhere)), "default_unit_id"),
        (
            NewWorkOrderType {
                fallback_unit_id: Some(nowhere),
                ..new_type("b", cal.id, None)
            },
            "fallback_unit_id",
        ),
        (new_type("c", CalendarId::new(), None), "calendar_id"),
        (
            NewWorkOrderType {
                priority_rules: vec![PriorityRule {
                    equals: "flood".into(),
                    ..leak_rule()
                }],
                ..new_type("d", cal.id, None)
            },
            "priority_rules[0].equals",
        ),
        (
            NewWorkOrderType {
                priority_rules: vec![PriorityRule {
                    field: "location".into(),
                    ..leak_rule()
                }],
                ..new_type("e", cal.id, None)
            },
            "priority_rules[0].field",
        ),
        (
            NewWorkOrderType {
                sla: SlaPolicy {
                    remind_at_percent: vec![100],
                    ..policy()
                },
                ..new_type("f", cal.id, None)
            },
            "sla.remind_at_percent[0]",
        ),
    ];
    for (new, field) in cases {
        let e = store
            .create_work_order_type(&admin(), new)
            .await
            .unwrap_err();
        assert!(fields_of(&e).contains(&field.to_string()), "{field}: {e}");
    }
    let e = store
        .create_work_order_type(&admin(), new_type("fault", cal.id, None))
        .await
        .unwrap_err();
    assert!(conflict(&e).contains("already exists"));
    assert_eq!(store.work_order_types(true).await.unwrap().len(), 1);
    assert_eq!(audit_count(&store).await, audits + 1);

    // An inactive unit is no longer a destination.
    let closed = store
        .create_unit(
            &admin(),
            NewUnit {
                code: "OLD".into(),
                name: "旧营业所".into(),
                kind: "branch_office".into(),
                parent_id: None,
                takes_queue_calls: false,
            },
        )
        .await
        .unwrap();
    store
        .update_unit(
            &admin(),
            closed.id,
            UnitChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let audits = audit_count(&store).await;
    let e = store
        .create_work_order_type(&admin(), new_type("g", cal.id, Some(closed.id)))
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["default_unit_id"]);

    // Listing: by sort, then name; inactive ones on request.
    let mut second = new_type("complaint", cal.id, None);
    second.name = "投诉".into();
    second.sort = 5;
    store
        .create_work_order_type(&admin(), second)
        .await
        .unwrap();
    let mut third = new_type("advice", cal.id, None);
    third.name = "建议".into();
    third.active = false;
    let advice = store.create_work_order_type(&admin(), third).await.unwrap();
    let codes = |list: Vec<WorkOrderType>| list.into_iter().map(|t| t.code).collect::<Vec<_>>();
    assert_eq!(
        codes(store.work_order_types(false).await.unwrap()),
        ["complaint", "fault"]
    );
    assert_eq!(
        codes(store.work_order_types(true).await.unwrap()),
        ["complaint", "advice", "fault"]
    );
    assert!(!advice.active);
    assert_eq!(audit_count(&store).await, audits + 2);

    // Changes are checked as a whole: a new form against the old rules.
    let plain: Vec<FieldDef> = serde_json::from_value(serde_json::json!([
        {"key": "note", "label": "备注", "kind": "text"}
    ]))
    .unwrap();
    let e = store
        .update_work_order_type(
            &admin(),
            fault.id,
            1,
            WorkOrderTypeChanges {
                form: Some(Form::parse(plain.clone()).unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["priority_rules[0].field"]);
    let e = store
        .update_work_order_type(
            &admin(),
            fault.id,
            1,
            WorkOrderTypeChanges {
                calendar_id: Some(CalendarId::new()),
                default_unit_id: Some(Some(nowhere)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["default_unit_id", "calendar_id"]);
    let changed = store
        .update_work_order_type(
            &admin(),
            fault.id,
            1,
            WorkOrderTypeChanges {
                form: Some(Form::parse(plain).unwrap()),
                priority_rules: Some(vec![]),
                default_unit_id: Some(None),
                name_en: Some(None),
                default_priority: Some(Priority::Urgent),
                active: Some(false),
                sort: Some(99),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.version, 2);
    assert_eq!(changed.form.fields()[0].key, "note");
    assert!(changed.priority_rules.is_empty());
    assert_eq!(changed.default_unit_id, None);
    assert_eq!(changed.name_en, None);
    assert_eq!(changed.default_priority, Priority::Urgent);
    assert_eq!(changed.name, fault.name);
    assert_eq!(changed.created_at, fault.created_at);
    assert_eq!(store.work_order_type(fault.id).await.unwrap(), changed);
    let e = store
        .update_work_order_type(
            &admin(),
            fault.id,
            1,
            WorkOrderTypeChanges {
                active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(conflict(&e).contains("now version 2"), "{e}");
    assert_eq!(store.work_order_type(fault.id).await.unwrap(), changed);
    assert!(matches!(
        store
            .update_work_order_type(
                &admin(),
                WorkOrderTypeId::new(),
                1,
                WorkOrderTypeChanges::default()
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(audit_count(&store).await, audits + 3);
}

/// Two administrators save the same version at the same moment: one wins, the other is told.
pub async fn concurrent_saves_of_one_version_let_exactly_one_win(store: Store) {
    let cal = standard(&store).await;
    let ty = store
        .create_work_order_type(&admin(), new_type("fault", cal.id, None))
        .await
        .unwrap();
    for round in 0..3 {
        let v = 1 + round;
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .update_work_order_type(
                            &admin(),
                            ty.id,
                            v,
                            WorkOrderTypeChanges {
                                sort: Some(i),
                                ..Default::default()
                            },
                        )
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(t) => {
                    assert_eq!(t.version, v + 1);
                    won += 1;
                }
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("round {round}: {e}"),
            }
        }
        assert_eq!(won, 1, "round {round}");
        assert_eq!(store.work_order_type(ty.id).await.unwrap().version, v + 1);
    }
    let audits = store
        .audit_entries(
            &AuditQuery {
                action: Some("work_order_type.update".into()),
                ..Default::default()
            },
            super::page(),
        )
        .await
        .unwrap();
    assert_eq!(audits.total, 3);
}
