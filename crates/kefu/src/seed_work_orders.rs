//! The demo's work-order configuration: two business calendars and the work-order types of the gas
//! group's business flows (VISION.md), with their custom fields, priority rules, units and SLA
//! policies.

use anyhow::Context;
use kefu_domain::UnitId;
use kefu_store::{Actor, NewCalendar, NewWorkOrderType, Store};
use kefu_workorders::{CalendarSpec, FieldDef, Form, Priority, PriorityRule, SlaPolicy};
use serde_json::{Value, json};

/// The office-hours calendar (2026 PRC holidays and make-up days) and the 24×7 one.
pub const STANDARD_CALENDAR: &str = "standard";
pub const ALWAYS_CALENDAR: &str = "always";

/// One demo type: everything but the ids, which are looked up by code.
struct TypeSeed {
    code: &'static str,
    name: &'static str,
    name_en: &'static str,
    description: &'static str,
    fields: Value,
    /// (field, value, priority).
    rules: &'static [(&'static str, &'static str, Priority)],
    default_priority: Priority,
    /// Unit codes of `kefu_demo::units`.
    default_unit: Option<&'static str>,
    fallback_unit: Option<&'static str>,
    calendar: &'static str,
    sla: Value,
    callback_required: bool,
}

/// A choice field's options from (value, 中文, English).
fn options(list: &[(&str, &str, &str)]) -> Value {
    list.iter()
        .map(|(v, zh, en)| json!({"value": v, "label": zh, "label_en": en}))
        .collect()
}

/// The reply channels customers ask for (VISION: voice, fax, email or SMS).
fn reply_channel() -> Value {
    json!({"key": "reply_channel", "label": "答复方式", "label_en": "Reply by", "kind": "choice",
    "options": options(&[
        ("phone", "电话", "Phone"),
        ("sms", "短信", "SMS"),
        ("fax", "传真", "Fax"),
        ("email", "邮件", "Email"),
    ])})
}

/// One working day on the standard calendar is 8 hours (08:30-12:00, 13:00-17:30).
const DAY: u32 = 8 * 60;

fn types() -> Vec<TypeSeed> {
    vec![
        TypeSeed {
            code: "inquiry",
            name: "业务咨询",
            name_en: "Inquiry",
            description: "政策、气价、安全用气、业务办理流程等咨询；坐席当场答复，无需派单。",
            fields: json!([
                {"key": "topic", "label": "咨询内容", "label_en": "Topic", "kind": "choice", "required": true,
                    "options": options(&[
                        ("tariff", "气价政策", "Tariffs"),
                        ("account_opening", "开户办理", "Opening an account"),
                        ("bottled_gas", "瓶装气业务", "Bottled gas"),
                        ("pipeline_gas", "管道气业务", "Pipeline gas"),
                        ("safety", "安全用气", "Gas safety"),
                        ("other", "其他", "Other"),
                    ])},
                reply_channel(),
            ]),
            rules: &[],
            default_priority: Priority::Low,
            default_unit: None,
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({"targets": {"low": {"resolve_mins": DAY}, "normal": {"resolve_mins": DAY / 2}}}),
            callback_required: false,
        },
        TypeSeed {
            code: "query",
            name: "业务查询",
            name_en: "Account query",
            description: "欠费、账单、缴费记录、表数查询；从计费数据中查得后答复客户。",
            fields: json!([
                {"key": "query_kind", "label": "查询内容", "label_en": "Query", "kind": "choice", "required": true,
                    "options": options(&[
                        ("balance", "欠费金额", "Amount due"),
                        ("bill", "账单明细", "Bill details"),
                        ("payments", "缴费记录", "Payments"),
                        ("meter_reading", "表数", "Meter reading"),
                    ])},
                {"key": "period", "label": "账期", "label_en": "Billing period", "kind": "text"},
                reply_channel(),
            ]),
            rules: &[],
            default_priority: Priority::Normal,
            default_unit: None,
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({"targets": {"normal": {"resolve_mins": DAY / 2}}}),
            callback_required: false,
        },
        TypeSeed {
            code: "fault",
            name: "故障申告",
            name_en: "Fault report",
            description: "燃气泄漏、无气、表具和管道故障等报修；燃气泄漏为特急，24小时计时。",
            fields: json!([
                {"key": "category", "label": "故障类别", "label_en": "Fault", "kind": "choice", "required": true,
                    "options": options(&[
                        ("gas_leak", "燃气泄漏", "Gas leak"),
                        ("no_gas", "无气", "No gas"),
                        ("meter_fault", "表具故障", "Meter fault"),
                        ("pipe_damage", "管道损坏", "Pipe damage"),
                        ("appliance", "燃气具故障", "Appliance fault"),
                        ("other", "其他（待核实）", "Other (to be confirmed)"),
                    ])},
                {"key": "location", "label": "故障地点", "label_en": "Location", "kind": "address", "required": true},
                {"key": "meter_no", "label": "表号", "label_en": "Meter number", "kind": "text"},
                {"key": "since", "label": "发生日期", "label_en": "Since", "kind": "date"},
                {"key": "photos", "label": "现场照片", "label_en": "Photos", "kind": "attachment"},
            ]),
            rules: &[
                ("category", "gas_leak", Priority::Emergency),
                ("category", "pipe_damage", Priority::Urgent),
            ],
            default_priority: Priority::Normal,
            default_unit: Some("PN"),
            fallback_unit: Some("RC1"),
            calendar: STANDARD_CALENDAR,
            sla: json!({
                "targets": {
                    "emergency": {"accept_mins": 10, "first_feedback_mins": 60, "resolve_mins": 240},
                    "urgent": {"accept_mins": 30, "first_feedback_mins": 120, "resolve_mins": DAY},
                    "normal": {"accept_mins": 60, "first_feedback_mins": DAY / 2, "resolve_mins": 2 * DAY},
                    "low": {"accept_mins": DAY / 2, "resolve_mins": 5 * DAY},
                },
                "emergency_always_open": true,
                "remind_at_percent": [50, 80],
                "escalate_on_breach": true,
                "reassign_unaccepted_after_mins": 90,
            }),
            callback_required: true,
        },
        TypeSeed {
            code: "complaint",
            name: "投诉",
            name_en: "Complaint",
            description: "客户投诉，及消协、上级部门、12345热线转来的投诉；每一步留痕，结果回访。",
            fields: json!([
                {"key": "source", "label": "投诉来源", "label_en": "Source", "kind": "choice", "required": true,
                    "options": options(&[
                        ("customer", "客户", "Customer"),
                        ("consumer_association", "消协", "Consumer association"),
                        ("authority", "上级部门", "Higher authority"),
                        ("hotline_12345", "12345热线", "12345 hotline"),
                    ])},
                {"key": "subject", "label": "投诉事项", "label_en": "Subject", "kind": "choice", "required": true,
                    "options": options(&[
                        ("attitude", "服务态度", "Staff attitude"),
                        ("billing", "收费问题", "Billing"),
                        ("repair_quality", "维修质量", "Repair quality"),
                        ("timeliness", "处理不及时", "Slow handling"),
                        ("safety", "安全隐患", "Safety hazard"),
                        ("other", "其他", "Other"),
                    ])},
                {"key": "respondent", "label": "被投诉单位或人员", "label_en": "Complained about", "kind": "text"},
                {"key": "reference_no", "label": "来文编号", "label_en": "Reference number", "kind": "text"},
                {"key": "documents", "label": "来文附件", "label_en": "Documents", "kind": "attachment"},
            ]),
            rules: &[
                ("source", "authority", Priority::Urgent),
                ("source", "hotline_12345", Priority::Urgent),
                ("source", "consumer_association", Priority::Urgent),
            ],
            default_priority: Priority::Normal,
            default_unit: Some("HQ"),
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({
                "targets": {
                    "urgent": {"accept_mins": 60, "first_feedback_mins": DAY, "resolve_mins": 3 * DAY},
                    "normal": {"accept_mins": DAY / 2, "first_feedback_mins": 2 * DAY, "resolve_mins": 5 * DAY},
                },
                "remind_at_percent": [50, 80],
                "escalate_on_breach": true,
            }),
            callback_required: true,
        },
        TypeSeed {
            code: "suggestion",
            name: "建议",
            name_en: "Suggestion",
            description: "客户对服务、收费、网点等的意见和建议；转集团公司研究答复。",
            fields: json!([
                {"key": "topic", "label": "建议类别", "label_en": "Topic", "kind": "choice", "required": true,
                    "options": options(&[
                        ("service", "服务改进", "Service"),
                        ("billing", "收费与缴费", "Billing and payment"),
                        ("safety", "安全管理", "Safety"),
                        ("outlets", "营业网点", "Service outlets"),
                        ("other", "其他", "Other"),
                    ])},
                reply_channel(),
            ]),
            rules: &[],
            default_priority: Priority::Low,
            default_unit: Some("HQ"),
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({"targets": {
                "low": {"accept_mins": DAY, "resolve_mins": 10 * DAY},
                "normal": {"accept_mins": DAY, "resolve_mins": 5 * DAY},
            }}),
            callback_required: false,
        },
        TypeSeed {
            code: "onsite",
            name: "上门服务",
            name_en: "On-site service",
            description: "预约上门安装、抄表、安检；派往所在分理处，按预约日期上门。",
            fields: json!([
                {"key": "service", "label": "服务项目", "label_en": "Service", "kind": "choice", "required": true,
                    "options": options(&[
                        ("install", "安装", "Installation"),
                        ("meter_reading", "抄表", "Meter reading"),
                        ("safety_check", "安检", "Safety check"),
                    ])},
                {"key": "appointment_date", "label": "预约日期", "label_en": "Appointment date", "kind": "date", "required": true},
                {"key": "time_slot", "label": "预约时段", "label_en": "Time slot", "kind": "choice",
                    "options": options(&[
                        ("morning", "上午", "Morning"),
                        ("afternoon", "下午", "Afternoon"),
                    ])},
                {"key": "location", "label": "服务地址", "label_en": "Address", "kind": "address", "required": true},
            ]),
            rules: &[],
            default_priority: Priority::Normal,
            default_unit: Some("BL"),
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({
                "targets": {"normal": {"accept_mins": DAY / 2, "first_feedback_mins": DAY, "resolve_mins": 5 * DAY}},
                "remind_at_percent": [80],
                "escalate_on_breach": true,
            }),
            callback_required: true,
        },
        TypeSeed {
            code: "payment_followup",
            name: "催缴跟进",
            name_en: "Payment follow-up",
            description: "欠费客户的催缴跟进：记录联系结果和承诺缴费日期。",
            fields: json!([
                {"key": "outcome", "label": "联系结果", "label_en": "Outcome", "kind": "choice", "required": true,
                    "options": options(&[
                        ("promised", "承诺缴费", "Promised to pay"),
                        ("paid", "已缴费", "Already paid"),
                        ("disputed", "对账单有异议", "Disputes the bill"),
                        ("unreachable", "联系不上", "Unreachable"),
                    ])},
                {"key": "promised_date", "label": "承诺缴费日期", "label_en": "Promised date", "kind": "date"},
                {"key": "amount_due", "label": "欠费金额（元）", "label_en": "Amount due (yuan)", "kind": "number"},
            ]),
            rules: &[],
            default_priority: Priority::Low,
            default_unit: None,
            fallback_unit: None,
            calendar: STANDARD_CALENDAR,
            sla: json!({"targets": {"low": {"resolve_mins": 3 * DAY}, "normal": {"resolve_mins": 2 * DAY}}}),
            callback_required: false,
        },
    ]
}

async fn unit_id(store: &Store, code: Option<&str>) -> anyhow::Result<Option<UnitId>> {
    let Some(code) = code else { return Ok(None) };
    let unit = store
        .unit_by_code(code)
        .await?
        .with_context(|| format!("demo unit {code}"))?;
    Ok(Some(unit.id))
}

/// The demo's work-order codes, in their list order.
pub fn demo_type_codes() -> Vec<&'static str> {
    types().iter().map(|t| t.code).collect()
}

/// Seeds the demo calendars and work-order types that are not there yet (by code), on a demo tenant
/// (the unit `CC` exists). Existing ones are left as an administrator may have changed them. Returns
/// how many it created.
pub async fn demo_work_order_config(store: &Store) -> anyhow::Result<usize> {
    if store.unit_by_code("CC").await?.is_none() {
        return Ok(0);
    }
    let actor = Actor::system("demo");
    let mut created = 0;
    let always = CalendarSpec {
        always_open: true,
        utc_offset_minutes: 480,
        week: Default::default(),
        holidays: Vec::new(),
        workdays: Vec::new(),
    };
    for (code, name, spec) in [
        (
            STANDARD_CALENDAR,
            "标准工作日历",
            kefu_workorders::china_demo_spec(),
        ),
        (ALWAYS_CALENDAR, "7×24 全天候", always),
    ] {
        if store.calendar_by_code(code).await?.is_none() {
            store
                .create_calendar(
                    &actor,
                    NewCalendar {
                        code: code.into(),
                        name: name.into(),
                        spec,
                    },
                )
                .await
                .with_context(|| format!("demo calendar {code}"))?;
            created += 1;
        }
    }
    for (i, t) in (1i32..).zip(types()) {
        if store.work_order_type_by_code(t.code).await?.is_some() {
            continue;
        }
        let calendar = store
            .calendar_by_code(t.calendar)
            .await?
            .with_context(|| format!("demo calendar {}", t.calendar))?;
        let defs: Vec<FieldDef> = serde_json::from_value(t.fields.clone())
            .with_context(|| format!("demo type {} fields", t.code))?;
        let form =
            Form::parse(defs).map_err(|e| anyhow::anyhow!("demo type {} fields: {e}", t.code))?;
        let sla: SlaPolicy = serde_json::from_value(t.sla.clone())
            .with_context(|| format!("demo type {} SLA", t.code))?;
        store
            .create_work_order_type(
                &actor,
                NewWorkOrderType {
                    code: t.code.into(),
                    name: t.name.into(),
                    name_en: Some(t.name_en.into()),
                    description: Some(t.description.into()),
                    form,
                    priority_rules: t
                        .rules
                        .iter()
                        .map(|(field, equals, priority)| PriorityRule {
                            field: field.to_string(),
                            equals: equals.to_string(),
                            priority: *priority,
                        })
                        .collect(),
                    default_priority: t.default_priority,
                    default_unit_id: unit_id(store, t.default_unit).await?,
                    fallback_unit_id: unit_id(store, t.fallback_unit).await?,
                    calendar_id: calendar.id,
                    sla,
                    callback_required: t.callback_required,
                    active: true,
                    sort: i * 10,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo type {}: {e}", t.code))?;
        created += 1;
    }
    if created > 0 {
        tracing::info!(created, "demo work-order calendars and types seeded");
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every demo type is valid as data, without a database.
    #[test]
    fn demo_types_are_valid() {
        let codes = demo_type_codes();
        for t in types() {
            let defs: Vec<FieldDef> = serde_json::from_value(t.fields.clone()).unwrap();
            let form = Form::parse(defs).unwrap_or_else(|e| panic!("{}: {e}", t.code));
            let rules: Vec<PriorityRule> = t
                .rules
                .iter()
                .map(|(f, e, p)| PriorityRule {
                    field: f.to_string(),
                    equals: e.to_string(),
                    priority: *p,
                })
                .collect();
            form.check_rules(&rules)
                .unwrap_or_else(|e| panic!("{}: {e}", t.code));
            let sla: SlaPolicy = serde_json::from_value(t.sla.clone()).unwrap();
            sla.check().unwrap_or_else(|e| panic!("{}: {e}", t.code));
            assert_eq!(codes.iter().filter(|c| **c == t.code).count(), 1);
            assert!(
                kefu_demo::units()
                    .iter()
                    .any(|u| Some(u.code) == t.default_unit)
                    || t.default_unit.is_none()
            );
        }
    }
}
