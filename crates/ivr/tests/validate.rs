//! Flow validation: one case per kind of error, each a small change to a valid flow, and the demo
//! flow valid against the demo's data.

use kefu_ivr::model::*;
use kefu_ivr::validate::{Issue, validate};
use serde_json::{Value, json};

fn known() -> Known {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    Known {
        queues: s(&["general", "billing", "emergency", "complaints"]),
        extensions: s(&["8001", "8002"]),
        sites: s(&["beilun"]),
        order_types: s(&["fault", "inquiry", "complaint"]),
        calendars: s(&["standard", "always"]),
        prompts: s(&["hello", "menu", "bye"]),
        documents: s(&["price_list"]),
    }
}

/// A small valid flow touching most node kinds.
fn base() -> Value {
    json!({
        "schema": 1,
        "start": "hello",
        "settings": {"language": "zh-CN", "max_steps_without_input": 50, "fallback_queue": "general"},
        "nodes": [
            {"id": "hello", "kind": "play", "prompts": [{"prompt": "hello"}], "next": "hours"},
            {"id": "hours", "kind": "hours", "calendar": "standard", "open": "menu", "closed": "bye"},
            {"id": "menu", "kind": "menu", "prompts": [{"prompt": "menu"}],
             "options": {"1": "who", "2": "fax", "0": "agent"}, "on_fail": "agent"},
            {"id": "who", "kind": "identify", "by": "caller_id_then_entry",
             "entry_prompts": [{"text": "请输入用户编号"}], "next": "say", "on_fail": "agent"},
            {"id": "say", "kind": "say", "parts": [{"text": "您应缴"}, {"var": "customer.amount_due", "as": "money"}], "next": "rec"},
            {"id": "rec", "kind": "record", "prompts": [{"text": "请留言"}], "next": "order", "on_empty": "bye"},
            {"id": "order", "kind": "create_work_order", "order_type": "fault", "title": "报修 ${call.caller}",
             "attach": "recording", "next": "set", "on_fail": "agent"},
            {"id": "set", "kind": "set", "values": {"x": "${order.no}"}, "next": "cond"},
            {"id": "cond", "kind": "condition", "rules": [{"var": "x", "op": "set", "next": "status"}], "otherwise": "bye"},
            {"id": "status", "kind": "order_status", "by": "customer", "next": "survey", "not_found": "bye"},
            {"id": "fax", "kind": "send_document", "channel": "fax", "document": "price_list", "next": "bye", "on_fail": "bye"},
            {"id": "agent", "kind": "transfer", "target": {"to": "queue", "queue": "general", "priority": 1},
             "after": "survey", "on_fail": "bye"},
            {"id": "survey", "kind": "survey", "prompts": [{"text": "请评价"}], "next": "bye", "on_fail": "bye"},
            {"id": "bye", "kind": "hangup", "prompts": [{"prompt": "bye"}]}
        ]
    })
}

fn issues(v: &Value) -> Vec<Issue> {
    let flow: Flow = serde_json::from_value(v.clone()).expect("parses");
    validate(&flow, &known())
}

fn node_mut<'a>(v: &'a mut Value, id: &str) -> &'a mut Value {
    v["nodes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["id"] == id)
        .unwrap()
}

#[test]
fn the_base_flow_is_valid() {
    assert_eq!(issues(&base()), vec![]);
}

#[test]
fn the_demo_flow_parses_and_round_trips() {
    let flow = kefu_ivr::demo::main_flow();
    let again = Flow::from_json(&flow.to_json()).unwrap();
    assert_eq!(flow, again);
    assert_eq!(flow.start, "welcome");
}

/// Each case: a change to the base flow and the (node, field, code) it must produce.
#[test]
fn every_kind_of_error_is_reported_on_its_node_and_field() {
    type Change = fn(&mut Value);
    let cases: Vec<(&str, Change, Option<&str>, &str, &str)> = vec![
        (
            "schema",
            |v| v["schema"] = json!(2),
            None,
            "schema",
            "bad_schema",
        ),
        (
            "no nodes",
            |v| v["nodes"] = json!([]),
            None,
            "nodes",
            "no_nodes",
        ),
        (
            "language",
            |v| v["settings"]["language"] = json!("fr"),
            None,
            "settings.language",
            "bad_language",
        ),
        (
            "steps",
            |v| v["settings"]["max_steps_without_input"] = json!(1),
            None,
            "settings.max_steps_without_input",
            "bad_range",
        ),
        (
            "fallback queue",
            |v| v["settings"]["fallback_queue"] = json!("nope"),
            None,
            "settings.fallback_queue",
            "unknown_queue",
        ),
        (
            "no start",
            |v| v["start"] = json!(""),
            None,
            "start",
            "no_start",
        ),
        (
            "unknown start",
            |v| v["start"] = json!("ghost"),
            None,
            "start",
            "unknown_node",
        ),
        (
            "duplicate",
            |v| {
                let n = v["nodes"][13].clone();
                v["nodes"].as_array_mut().unwrap().push(n);
            },
            Some("bye"),
            "id",
            "duplicate_node",
        ),
        (
            "bad id",
            |v| {
                v["nodes"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"id": "a b", "kind": "hangup"}));
            },
            Some("a b"),
            "id",
            "bad_id",
        ),
        (
            "unknown target",
            |v| node_mut(v, "hello")["next"] = json!("ghost"),
            Some("hello"),
            "next",
            "unknown_node",
        ),
        (
            "unconnected",
            |v| node_mut(v, "menu")["on_fail"] = json!(""),
            Some("menu"),
            "on_fail",
            "unconnected",
        ),
        (
            "unreachable",
            |v| {
                v["nodes"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"id": "island", "kind": "hangup"}));
            },
            Some("island"),
            "id",
            "unreachable",
        ),
        (
            "loop without input",
            |v| {
                node_mut(v, "set")["next"] = json!("cond");
                node_mut(v, "cond")["otherwise"] = json!("set");
            },
            Some("set"),
            "next",
            "loop_without_input",
        ),
        (
            "missing prompt",
            |v| node_mut(v, "hello")["prompts"] = json!([{"prompt": "nope"}]),
            Some("hello"),
            "prompts[0]",
            "missing_prompt",
        ),
        (
            "empty text",
            |v| node_mut(v, "rec")["prompts"] = json!([{"text": "  "}]),
            Some("rec"),
            "prompts[0]",
            "empty_text",
        ),
        (
            "long text",
            |v| node_mut(v, "rec")["prompts"] = json!([{"text": "长".repeat(501)}]),
            Some("rec"),
            "prompts[0]",
            "too_long",
        ),
        (
            "bad template",
            |v| node_mut(v, "order")["title"] = json!("报修 ${call.caller"),
            Some("order"),
            "title",
            "bad_template",
        ),
        (
            "no prompts",
            |v| node_mut(v, "menu")["prompts"] = json!([]),
            Some("menu"),
            "prompts",
            "no_prompts",
        ),
        (
            "no options",
            |v| node_mut(v, "menu")["options"] = json!({}),
            Some("menu"),
            "options",
            "no_options",
        ),
        (
            "bad option",
            |v| node_mut(v, "menu")["options"]["12"] = json!("bye"),
            Some("menu"),
            "options.12",
            "bad_option",
        ),
        (
            "bad var",
            |v| node_mut(v, "say")["parts"][1]["var"] = json!("Customer"),
            Some("say"),
            "parts[1].var",
            "bad_var",
        ),
        (
            "bad range",
            |v| node_mut(v, "menu")["timeout_secs"] = json!(0),
            Some("menu"),
            "timeout_secs",
            "bad_range",
        ),
        (
            "unknown order type",
            |v| node_mut(v, "order")["order_type"] = json!("nope"),
            Some("order"),
            "order_type",
            "unknown_order_type",
        ),
        (
            "bad priority",
            |v| node_mut(v, "order")["priority"] = json!("asap"),
            Some("order"),
            "priority",
            "bad_option",
        ),
        (
            "unknown document",
            |v| node_mut(v, "fax")["document"] = json!("nope"),
            Some("fax"),
            "document",
            "unknown_document",
        ),
        (
            "unknown calendar",
            |v| node_mut(v, "hours")["calendar"] = json!("nope"),
            Some("hours"),
            "calendar",
            "unknown_calendar",
        ),
        (
            "unknown queue",
            |v| node_mut(v, "agent")["target"]["queue"] = json!("nope"),
            Some("agent"),
            "target.queue",
            "unknown_queue",
        ),
        (
            "queue priority",
            |v| node_mut(v, "agent")["target"]["priority"] = json!(10),
            Some("agent"),
            "target.priority",
            "bad_range",
        ),
        (
            "unknown extension",
            |v| node_mut(v, "agent")["target"] = json!({"to": "extension", "extension": "9999"}),
            Some("agent"),
            "target.extension",
            "unknown_extension",
        ),
        (
            "unknown site",
            |v| node_mut(v, "agent")["target"] = json!({"to": "site", "site": "mars"}),
            Some("agent"),
            "target.site",
            "unknown_site",
        ),
        (
            "bad number",
            |v| node_mut(v, "agent")["target"] = json!({"to": "external", "number": "12a"}),
            Some("agent"),
            "target.number",
            "bad_number",
        ),
        (
            "no values",
            |v| node_mut(v, "set")["values"] = json!({}),
            Some("set"),
            "values",
            "no_values",
        ),
        (
            "survey max",
            |v| node_mut(v, "survey")["max"] = json!(1),
            Some("survey"),
            "max",
            "bad_range",
        ),
        (
            "collect lengths",
            |v| {
                node_mut(v, "hello")["next"] = json!("c");
                v["nodes"].as_array_mut().unwrap().push(
                    json!({"id": "c", "kind": "collect", "prompts": [{"text": "号"}], "var": "n",
                "min_len": 5, "max_len": 3, "next": "hours", "on_fail": "hours"}),
                );
            },
            Some("c"),
            "min_len",
            "bad_range",
        ),
        (
            "identify asks nothing",
            |v| node_mut(v, "who")["entry_prompts"] = json!([]),
            Some("who"),
            "entry_prompts",
            "no_prompts",
        ),
        (
            "confirm without prompts",
            |v| node_mut(v, "who")["confirm_digits"] = json!(4),
            Some("who"),
            "confirm_prompts",
            "no_prompts",
        ),
    ];
    for (name, change, node, field, code) in cases {
        let mut v = base();
        change(&mut v);
        let got = issues(&v);
        assert!(
            got.iter()
                .any(|i| i.node.as_deref() == node && i.field == field && i.code == code),
            "{name}: expected {code} on {node:?}.{field}, got {got:#?}"
        );
        for i in &got {
            assert!(!i.message.is_empty(), "{name}: {i:?} has no message");
        }
    }
}

#[test]
fn a_loop_through_a_menu_is_fine_but_a_loop_of_plays_is_not() {
    // The demo flow loops back to its main menu from many places: that waits for the caller.
    let mut v = base();
    node_mut(&mut v, "survey")["next"] = json!("menu");
    assert_eq!(issues(&v), vec![]);
    // Two plays pointing at each other spin forever.
    let mut v = base();
    node_mut(&mut v, "hello")["next"] = json!("p2");
    v["nodes"].as_array_mut().unwrap().push(
        json!({"id": "p2", "kind": "play", "prompts": [{"prompt": "hello"}], "next": "hello"}),
    );
    let got = issues(&v);
    let on_loop: Vec<_> = got
        .iter()
        .filter(|i| i.code == "loop_without_input")
        .filter_map(|i| i.node.clone())
        .collect();
    assert_eq!(on_loop, ["hello", "p2"]);
}

#[test]
fn unknown_fields_and_kinds_are_refused_when_parsing() {
    for bad in [
        r#"{"start":"a","nodes":[{"id":"a","kind":"teleport","next":"a"}]}"#,
        r#"{"start":"a","nodes":[{"id":"a","kind":"hangup","colour":"red"}]}"#,
        r#"{"start":"a","nodes":[{"id":"a","kind":"play","next":"a"}]}"#,
        r#"{"start":"a","extra":1,"nodes":[]}"#,
        r#"{"start":"a","nodes":[{"id":"a","kind":"transfer","target":{"to":"moon"},"on_fail":"a"}]}"#,
    ] {
        assert!(Flow::from_json(bad).is_err(), "{bad}");
    }
}
