//! Demo work orders: a few in each status, with timelines that took place over the last days (some
//! overdue), made through the same store operations people use, so every one is a real order.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kefu_domain::UnitId;
use kefu_store::{Act, Acting, Actor, NewWorkOrder, PageRequest, Store, User, WorkOrderQuery};
use kefu_workorders::{Channel, Status};
use serde_json::{Value, json};

struct Person {
    actor: Actor,
    acting: Acting,
}

async fn person(store: &Store, username: &str) -> anyhow::Result<Person> {
    let (user, _) = store
        .login_lookup(username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo user {username} missing"))?;
    Ok(as_person(&user))
}

fn as_person(u: &User) -> Person {
    Person {
        actor: Actor {
            user_id: Some(u.id),
            name: u.username.clone(),
            source_ip: None,
            request_id: None,
        },
        acting: Acting {
            user_id: Some(u.id),
            role: Some(u.role),
            unit_id: Some(u.unit_id),
        },
    }
}

/// One demo order: its type and content, where it goes, and how far along it got.
struct Story {
    type_name: &'static str,
    fields: Value,
    title: &'static str,
    description: &'static str,
    channel: Channel,
    unit: Option<&'static str>,
    /// How far along: the last status it reached.
    reached: Status,
    /// When it was reported, hours before now.
    hours_ago: i64,
}

/// Seeds the demo's work orders once: when work-order types exist and there is no order yet.
/// Returns whether it seeded.
pub async fn demo_work_orders(store: &Store, today: NaiveDate) -> anyhow::Result<bool> {
    let types = store.work_order_types(false).await?;
    let any = store
        .work_orders(
            &WorkOrderQuery::default(),
            PageRequest {
                page: 1,
                per_page: 1,
            },
        )
        .await?;
    if types.is_empty() || any.total > 0 || store.unit_by_code("CC").await?.is_none() {
        return Ok(false);
    }
    let agent = person(store, "agent").await?;
    let site = person(store, "site").await?;
    let mut unit_ids = std::collections::HashMap::new();
    for code in ["BL", "ZH", "PN", "CC"] {
        if let Some(u) = store.unit_by_code(code).await? {
            unit_ids.insert(code, u.id);
        }
    }
    let customers = store
        .search_customers(
            &Default::default(),
            PageRequest {
                page: 1,
                per_page: 20,
            },
            today,
        )
        .await?
        .items;
    use Status::*;
    let stories = [
        Story {
            type_name: "故障申告",
            fields: json!({"category": "gas_leak"}),
            title: "楼道内有煤气味",
            description: "客户来电称三楼楼道有明显煤气味，已通知住户开窗。",
            channel: Channel::Phone,
            unit: Some("BL"),
            reached: Dispatched,
            hours_ago: 3,
        },
        Story {
            type_name: "故障申告",
            fields: json!({"category": "no_gas"}),
            title: "整栋楼无气",
            description: "明州路 88 号整栋楼自早上起无气。",
            channel: Channel::Ivr,
            unit: Some("BL"),
            reached: Accepted,
            hours_ago: 26,
        },
        Story {
            type_name: "故障申告",
            fields: json!({"category": "meter_fault"}),
            title: "燃气表不走字",
            description: "客户反映燃气表数字两周未变。",
            channel: Channel::Phone,
            unit: Some("BL"),
            reached: InProgress,
            hours_ago: 50,
        },
        Story {
            type_name: "故障申告",
            fields: json!({"category": "appliance"}),
            title: "灶具点不着火",
            description: "灶具打火后无法点燃，客户要求上门检查。",
            channel: Channel::Web,
            unit: Some("BL"),
            reached: WaitingCustomer,
            hours_ago: 30,
        },
        Story {
            type_name: "故障申告",
            fields: json!({"category": "pipe_damage"}),
            title: "施工挖破管道",
            description: "道路施工挖破中压管道，已设警戒。",
            channel: Channel::Phone,
            unit: Some("BL"),
            reached: FeedbackSubmitted,
            hours_ago: 20,
        },
        Story {
            type_name: "投诉",
            fields: json!({"source": "consumer_association"}),
            title: "消协转来：抄表员态度差",
            description: "消协转来投诉：抄表员上门时态度恶劣。",
            channel: Channel::Authority,
            unit: Some("BL"),
            reached: Closed,
            hours_ago: 120,
        },
        Story {
            type_name: "上门服务",
            fields: json!({"service": "safety_check"}),
            title: "预约安检",
            description: "客户预约本周内上门安检。",
            channel: Channel::Phone,
            unit: Some("BL"),
            reached: CallbackDone,
            hours_ago: 160,
        },
        Story {
            type_name: "业务咨询",
            fields: json!({}),
            title: "咨询阶梯气价",
            description: "客户咨询阶梯气价的计算方式，已在电话中解答。",
            channel: Channel::Phone,
            unit: None,
            reached: Archived,
            hours_ago: 72,
        },
        Story {
            type_name: "建议",
            fields: json!({}),
            title: "建议开通微信缴费",
            description: "客户建议开通微信缴费渠道。",
            channel: Channel::Email,
            unit: None,
            reached: New,
            hours_ago: 5,
        },
        Story {
            type_name: "催缴跟进",
            fields: json!({}),
            title: "欠费三个月跟进",
            description: "客户已欠费三个月，需上门核实。",
            channel: Channel::Phone,
            unit: Some("ZH"),
            reached: Dispatched,
            hours_ago: 80,
        },
        Story {
            type_name: "故障申告",
            fields: json!({"category": "no_gas"}),
            title: "重复报修：整栋楼无气",
            description: "同一楼栋另一住户来电。",
            channel: Channel::Phone,
            unit: None,
            reached: Cancelled,
            hours_ago: 25,
        },
    ];
    let now = Utc::now();
    let mut made = 0;
    for (i, s) in stories.iter().enumerate() {
        let Some(ty) = types.iter().find(|t| t.name == s.type_name) else {
            continue;
        };
        // Only fields the type has, plus every required one filled.
        let mut fields = serde_json::Map::new();
        for def in ty.form.fields() {
            let given = s.fields.get(&def.key).cloned();
            let value = match (given, def.required) {
                (Some(v), _) => v,
                (None, false) => continue,
                (None, true) => match def.kind {
                    kefu_workorders::FieldKind::Choice => json!(def.options[0].value),
                    kefu_workorders::FieldKind::Number => json!(1),
                    kefu_workorders::FieldKind::Date => json!(today.to_string()),
                    _ => json!(s.title),
                },
            };
            if def.kind == kefu_workorders::FieldKind::Choice
                && !def
                    .options
                    .iter()
                    .any(|o| Some(o.value.as_str()) == value.as_str())
            {
                continue;
            }
            fields.insert(def.key.clone(), value);
        }
        let customer = customers.get(i % customers.len().max(1));
        let at =
            |h: i64| -> DateTime<Utc> { now - Duration::hours(s.hours_ago) + Duration::hours(h) };
        let created = store
            .create_work_order(
                &agent.actor,
                &agent.acting,
                NewWorkOrder {
                    type_id: ty.id,
                    channel: s.channel,
                    origin_kind: None,
                    origin_ref: None,
                    customer_id: customer.map(|c| c.id),
                    contact_name: customer.map(|c| c.name.clone()),
                    contact_phone: customer.and_then(|c| c.primary_phone.clone()),
                    address: customer.map(|c| c.address.clone()),
                    title: s.title.into(),
                    description: s.description.into(),
                    fields: Value::Object(fields),
                    priority: None,
                    unit_id: None,
                    assignee_id: None,
                },
                None,
                (now - Duration::hours(s.hours_ago)).date_naive(),
                at(0),
            )
            .await?;
        let id = created.order.id;
        let unit: Option<UnitId> = s.unit.and_then(|c| unit_ids.get(c).copied());
        // The steps up to `reached`, each an hour or so after the last.
        let mut steps: Vec<(&Person, Act, Option<&str>)> = Vec::new();
        let order_of = |st: Status| match st {
            New => 0,
            Dispatched => 1,
            Accepted => 2,
            InProgress => 3,
            WaitingCustomer => 4,
            FeedbackSubmitted => 5,
            Closed => 6,
            CallbackDone => 7,
            Archived => 8,
            Cancelled | Merged => 9,
        };
        let goal = order_of(s.reached);
        match (s.reached, unit) {
            (Cancelled, _) => steps.push((
                &agent,
                Act::Cancel {
                    reason: "重复报修，已并入前一工单".into(),
                },
                None,
            )),
            (Archived, None) => {
                steps.push((&agent, Act::Close, Some("电话中已解答")));
                if ty.callback_required {
                    steps.push((&agent, Act::Callback { satisfaction: 5 }, Some("客户满意")));
                }
                steps.push((&agent, Act::Archive, None));
            }
            (_, Some(u)) if goal >= 1 => {
                steps.push((
                    &agent,
                    Act::Dispatch {
                        unit_id: u,
                        assignee_id: None,
                    },
                    Some("请尽快处理"),
                ));
                let site_here = if Some(u) == unit_ids.get("BL").copied() {
                    Some(&site)
                } else {
                    None
                };
                if let Some(site) = site_here {
                    if goal >= 2 {
                        steps.push((site, Act::Accept, None));
                    }
                    if goal >= 3 {
                        steps.push((site, Act::Progress, Some("已安排人员上门")));
                    }
                    if goal == 4 {
                        steps.push((site, Act::WaitCustomer, Some("客户不在家，约定改日上门")));
                    }
                    if goal >= 5 {
                        steps.push((
                            site,
                            Act::SubmitFeedback {
                                result: "已处理完毕，现场恢复正常".into(),
                                cause: Some("设备老化".into()),
                                materials: Some("胶管 1 根".into()),
                                attachments: Vec::new(),
                            },
                            None,
                        ));
                    }
                    if goal >= 6 {
                        steps.push((&agent, Act::Close, Some("已核实处理结果")));
                    }
                    if goal >= 7 {
                        steps.push((
                            &agent,
                            Act::Callback { satisfaction: 4 },
                            Some("回访客户，基本满意"),
                        ));
                    }
                }
            }
            _ => {}
        }
        let mut version = created.order.version;
        for (h, (who, act, note)) in steps.into_iter().enumerate() {
            let o = store
                .act_on_work_order(
                    &who.actor,
                    &who.acting,
                    id,
                    Some(version),
                    act,
                    note.map(str::to_string),
                    at(h as i64 + 1).min(now),
                )
                .await?;
            version = o.version;
        }
        made += 1;
    }
    // The past's SLA milestones: reminders and breaches as the sweep would have sent them.
    store.sweep_sla(now, 10_000).await?;
    tracing::info!(orders = made, "demo work orders seeded");
    Ok(true)
}
