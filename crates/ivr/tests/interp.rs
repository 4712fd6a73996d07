//! The interpreter driven step by step: the demo hotline flow and small flows for each node kind,
//! with a scripted world standing in for the call and the database.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use kefu_ivr::demo;
use kefu_ivr::interp::*;
use kefu_ivr::model::*;

/// The demo customer as the store would describe it.
fn customer() -> Vars {
    [
        ("customer.id", "c-1"),
        ("customer.no", "3301000001"),
        ("customer.name", "王小明"),
        ("customer.phones", "13800000001,057487654321"),
        ("customer.amount_due", "12345"),
        ("customer.due_date", "2026-12-15"),
        ("customer.last_payment_amount", "8800"),
        ("customer.last_payment_date", "2026-10-20"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A scripted call: keys the caller presses (one entry per collect; `None` = silence), and how the
/// world answers lookups and actions. Records every command.
struct World {
    keys: VecDeque<Option<&'static str>>,
    by_phone: Option<Vars>,
    by_no: BTreeMap<String, Vars>,
    open: bool,
    transfer: TransferEnd,
    record_secs: u32,
    hang_up_after: Option<usize>,
    commands: Vec<Command>,
}

impl World {
    fn new(keys: &[Option<&'static str>]) -> World {
        World {
            keys: keys.iter().copied().collect(),
            by_phone: None,
            by_no: BTreeMap::new(),
            open: true,
            transfer: TransferEnd::PeerHungUp,
            record_secs: 12,
            hang_up_after: None,
            commands: Vec::new(),
        }
    }

    /// Runs the session to its end (or until the caller hangs up, or 500 commands).
    fn run(&mut self, flow: Flow, caller: &str) -> Session {
        let vars: Vars = [("call.caller".to_string(), caller.to_string())].into();
        let (mut s, mut cmd) = Session::start(Arc::new(flow), vars);
        for _ in 0..500 {
            self.commands.push(cmd.clone());
            if s.ended().is_some() && matches!(cmd, Command::Hangup { .. } | Command::Done) {
                return s;
            }
            if self.hang_up_after == Some(self.commands.len()) {
                s.hangup();
                return s;
            }
            let input = match &cmd {
                Command::Play { .. } => Input::Played,
                Command::Collect { .. } => match self.keys.pop_front() {
                    Some(Some(k)) => Input::Digits {
                        digits: k.to_string(),
                        timed_out: false,
                    },
                    Some(None) => Input::Digits {
                        digits: String::new(),
                        timed_out: true,
                    },
                    None => {
                        s.hangup();
                        return s;
                    }
                },
                Command::Record { .. } => Input::Recorded {
                    path: (self.record_secs > 0).then(|| "/rec/1.wav".to_string()),
                    secs: self.record_secs,
                },
                Command::Lookup(Lookup::CustomerByPhone(p)) => {
                    Input::Found(self.by_phone.clone().filter(|_| p == "13800000001"))
                }
                Command::Lookup(Lookup::CustomerByNo(no)) => {
                    Input::Found(self.by_no.get(no).cloned())
                }
                Command::Lookup(Lookup::OrderByNo { no, .. }) => {
                    Input::Found((no == "2611260001").then(|| {
                        [
                            ("order.id".to_string(), "o-1".to_string()),
                            ("order.no".to_string(), "GD2611260001".to_string()),
                            ("order.digits".to_string(), "2611260001".to_string()),
                            ("order.status".to_string(), "accepted".to_string()),
                        ]
                        .into()
                    }))
                }
                Command::Lookup(Lookup::NewestOrder { .. }) => Input::Found(None),
                Command::Lookup(Lookup::IsOpen { .. }) => Input::Open(self.open),
                Command::CreateWorkOrder(req) => Input::Done(if req.order_type == "fault" {
                    Ok([
                        ("order.id".to_string(), "o-2".to_string()),
                        ("order.no".to_string(), "GD2611260002".to_string()),
                        ("order.digits".to_string(), "2611260002".to_string()),
                    ]
                    .into())
                } else {
                    Err("unknown type".into())
                }),
                Command::SendDocument { .. } | Command::SaveSurvey { .. } => {
                    Input::Done(Ok(Vars::new()))
                }
                Command::Transfer { .. } => Input::Transfer(self.transfer),
                Command::Hangup { .. } | Command::Done => unreachable!("handled above"),
            };
            cmd = s.resume(input);
        }
        panic!("the session did not end in 500 commands")
    }
}

fn path(s: &Session) -> Vec<String> {
    s.visits().iter().map(|v| v.node.clone()).collect()
}

fn visit<'a>(s: &'a Session, node: &str) -> &'a Visit {
    s.visits()
        .iter()
        .find(|v| v.node == node)
        .unwrap_or_else(|| panic!("{node} not visited: {:?}", path(s)))
}

fn played_prompts(c: &Command) -> Vec<String> {
    let list = match c {
        Command::Play { prompts, .. }
        | Command::Collect { prompts, .. }
        | Command::Record { prompts, .. }
        | Command::Hangup { prompts } => prompts,
        _ => return vec![],
    };
    list.iter()
        .map(|u| match u {
            Utterance::Prompt(p) => p.clone(),
            Utterance::Text(t) => format!("text:{t}"),
            Utterance::Word(w) => format!("word:{}", w.key),
        })
        .collect()
}

#[test]
fn bill_query_by_caller_id_reads_the_amount_due_then_returns_to_the_menu() {
    let mut w = World::new(&[Some("2")]);
    w.by_phone = Some(customer());
    let s = w.run(demo::main_flow(), "13800000001");
    assert_eq!(
        &path(&s)[..6],
        [
            "welcome",
            "main_menu",
            "bill_identify",
            "bill_check",
            "bill_say",
            "bill_last"
        ]
    );
    let say = visit(&s, "bill_say");
    let detail = say.detail.as_deref().unwrap();
    assert!(detail.contains("customer.amount_due=12345"), "{detail}");
    assert_eq!(say.outcome, Outcome::Passed);
    // The say node's command: the bill prompts with the amount's words between them.
    let cmd = w
        .commands
        .iter()
        .find(|c| played_prompts(c).first().map(String::as_str) == Some("bill_intro"))
        .expect("the bill was read");
    let p = played_prompts(cmd);
    assert_eq!(p[1], "bill_amount_due");
    assert!(p.contains(&"bill_due_date".to_string()));
    // After the last payment the caller is back at the main menu, where silence ends the script:
    // the caller hangs up there.
    assert_eq!(s.ended(), Some(EndReason::Hangup));
    assert_eq!(s.visits().last().unwrap().outcome, Outcome::Left);
}

#[test]
fn bill_query_by_entered_number_needs_the_phone_tail_and_retries_when_wrong() {
    // Unknown caller; enters a wrong number, then the right one, wrong tail, right number + right tail.
    let mut w = World::new(&[
        Some("2"),
        Some("999999"),
        Some("3301000001"),
        Some("0000"),
        Some("3301000001"),
        Some("0001"),
    ]);
    w.by_no.insert("3301000001".into(), customer());
    let s = w.run(demo::main_flow(), "13999999999");
    let id = visit(&s, "bill_identify");
    assert_eq!(id.outcome, Outcome::Passed);
    let d = id.detail.as_deref().unwrap();
    assert!(d.contains("unknown customer number"), "{d}");
    assert!(d.contains("phone digits did not match"), "{d}");
    assert!(d.contains("phone confirmed"), "{d}");
    assert_eq!(s.vars()["customer.no"], "3301000001");
    // The retries played the "not found" prompt before asking again.
    let asks: Vec<_> = w
        .commands
        .iter()
        .map(played_prompts)
        .filter(|p| p.contains(&"enter_customer_no".to_string()))
        .collect();
    assert_eq!(asks.len(), 3);
    assert_eq!(asks[1][0], "customer_not_found");
}

#[test]
fn identification_fails_after_the_retries_and_goes_to_an_agent() {
    let mut w = World::new(&[Some("2"), Some("1"), Some("22"), None]);
    let s = w.run(demo::main_flow(), "13999999999");
    let id = visit(&s, "bill_identify");
    assert_eq!(id.outcome, Outcome::Failed);
    assert_eq!(id.branch.as_deref(), Some("on_fail"));
    assert!(path(&s).contains(&"agent_transfer".to_string()));
}

#[test]
fn a_gas_leak_goes_straight_to_the_emergency_queue_at_top_priority_then_the_survey() {
    let mut w = World::new(&[Some("3"), Some("1"), Some("5")]);
    let s = w.run(demo::main_flow(), "13800000001");
    let transfer = w
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Transfer { target, .. } => Some(target.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        transfer,
        TransferTarget::Queue {
            queue: "emergency".into(),
            priority: 9
        }
    );
    // The safety advice is not interruptible.
    assert!(w.commands.iter().any(|c| matches!(c,
        Command::Play { prompts, interruptible: false } if prompts == &[Utterance::Prompt("leak_advice".into())])));
    // After the agent hung up: the survey, its score saved, goodbye.
    let save = w
        .commands
        .iter()
        .find(|c| matches!(c, Command::SaveSurvey { .. }))
        .unwrap();
    assert!(matches!(
        save,
        Command::SaveSurvey {
            score: 5,
            max: 5,
            ..
        }
    ));
    assert_eq!(s.ended(), Some(EndReason::Completed));
    assert_eq!(path(&s).last().unwrap(), "goodbye");
}

#[test]
fn a_fault_is_recorded_and_becomes_a_work_order_whose_number_is_read_digit_by_digit() {
    let mut w = World::new(&[Some("3"), Some("2")]);
    w.by_phone = Some(customer());
    let s = w.run(demo::main_flow(), "13800000001");
    let req = w
        .commands
        .iter()
        .find_map(|c| match c {
            Command::CreateWorkOrder(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(req.order_type, "fault");
    assert_eq!(req.attach.as_deref(), Some("/rec/1.wav"));
    assert_eq!(req.customer_id.as_deref(), Some("c-1"));
    assert!(req.sms);
    assert_eq!(req.title, "IVR 故障报修 来电 13800000001");
    let done = visit(&s, "fault_done");
    assert!(
        done.detail
            .as_deref()
            .unwrap()
            .contains("order.digits=2611260002"),
        "{done:?}"
    );
    assert_eq!(s.ended(), Some(EndReason::Completed));
}

#[test]
fn an_empty_recording_takes_the_on_empty_branch() {
    let mut w = World::new(&[Some("3"), Some("2")]);
    w.by_phone = Some(customer());
    w.record_secs = 0;
    w.transfer = TransferEnd::Handed;
    let s = w.run(demo::main_flow(), "13800000001");
    let rec = visit(&s, "fault_record");
    assert_eq!(rec.branch.as_deref(), Some("on_empty"));
    assert_eq!(rec.outcome, Outcome::Failed);
    assert_eq!(s.ended(), Some(EndReason::Transfer));
}

#[test]
fn invalid_keys_and_silence_replay_the_menu_with_their_prompts_then_fail_to_an_agent() {
    let mut w = World::new(&[Some("9"), None, Some("#")]);
    w.transfer = TransferEnd::Handed;
    let s = w.run(demo::main_flow(), "13800000001");
    let menus: Vec<_> = w
        .commands
        .iter()
        .map(played_prompts)
        .filter(|p| p.contains(&"main_menu".to_string()))
        .collect();
    assert_eq!(menus.len(), 3);
    assert_eq!(menus[1][0], "invalid_key");
    assert_eq!(menus[2][0], "no_input");
    let menu = visit(&s, "main_menu");
    assert_eq!(menu.outcome, Outcome::Failed);
    assert_eq!(path(&s)[2], "too_many");
    assert_eq!(s.ended(), Some(EndReason::Transfer));
}

#[test]
fn order_status_by_number_reads_the_status() {
    let mut w = World::new(&[Some("4"), Some("2611260001")]);
    let s = w.run(demo::main_flow(), "13999999999");
    let say = visit(&s, "order_say");
    let d = say.detail.as_deref().unwrap();
    assert!(d.contains("order.status=accepted"), "{d}");
    // An unknown number takes not_found.
    let mut w = World::new(&[Some("4"), Some("2611269999")]);
    let s = w.run(demo::main_flow(), "13999999999");
    assert_eq!(
        visit(&s, "order_lookup").branch.as_deref(),
        Some("not_found")
    );
    // Just `#` with no identified caller: not found either (nothing to look up).
    let mut w = World::new(&[Some("4"), Some("")]);
    let s = w.run(demo::main_flow(), "13999999999");
    assert_eq!(visit(&s, "order_lookup").outcome, Outcome::Failed);
}

#[test]
fn after_hours_the_agent_option_takes_a_message_that_becomes_a_work_order() {
    let mut w = World::new(&[Some("0")]);
    w.open = false;
    let s = w.run(demo::main_flow(), "13800000001");
    assert!(path(&s).contains(&"after_hours".to_string()));
    // The demo world only knows `fault` orders: the inquiry fails and the flow says goodbye.
    assert_eq!(visit(&s, "message_order").outcome, Outcome::Failed);
    assert_eq!(s.ended(), Some(EndReason::Completed));
}

#[test]
fn fax_on_demand_queues_the_price_list_to_the_caller() {
    let mut w = World::new(&[Some("6"), Some("1")]);
    let _ = w.run(demo::main_flow(), "057487654321");
    let send = w
        .commands
        .iter()
        .find(|c| matches!(c, Command::SendDocument { .. }))
        .unwrap();
    assert_eq!(
        send,
        &Command::SendDocument {
            channel: MessageChannel::Fax,
            document: "price_list".into(),
            to: "057487654321".into(),
            customer_id: None,
        }
    );
}

#[test]
fn hanging_up_mid_node_marks_the_visit_as_left() {
    let mut w = World::new(&[Some("1")]);
    w.hang_up_after = Some(3); // welcome, main menu, info menu
    let s = w.run(demo::main_flow(), "13800000001");
    assert_eq!(s.ended(), Some(EndReason::Hangup));
    let last = s.visits().last().unwrap();
    assert_eq!(last.node, "info_menu");
    assert_eq!(last.outcome, Outcome::Left);
    // Nothing more after the end.
    let mut s = s;
    assert_eq!(s.resume(Input::Played), Command::Done);
}

fn flow(json: &str) -> Flow {
    Flow::from_json(json).unwrap()
}

#[test]
fn a_loop_without_input_is_cut_off_and_sent_to_the_fallback_queue() {
    // Validation refuses such a flow; the interpreter must still stop it (e.g. a flow published
    // before a rule existed).
    let f = flow(
        r#"{"start":"a","settings":{"max_steps_without_input":10,"fallback_queue":"general"},"nodes":[
        {"id":"a","kind":"set","values":{"n":"1"},"next":"b"},
        {"id":"b","kind":"condition","rules":[{"var":"n","op":"eq","value":"1","next":"a"}],"otherwise":"a"}]}"#,
    );
    let mut w = World::new(&[]);
    w.transfer = TransferEnd::Handed;
    let s = w.run(f, "1");
    assert_eq!(s.ended(), Some(EndReason::Runaway));
    assert_eq!(s.visits().len(), 10);
    assert!(matches!(
        &w.commands[0],
        Command::Transfer { target: TransferTarget::Queue { queue, .. }, reason: TransferReason::Runaway, .. } if queue == "general"
    ));
}

#[test]
fn a_missing_node_at_run_time_hands_the_call_to_a_person() {
    let f = flow(
        r#"{"start":"a","nodes":[{"id":"a","kind":"play","prompts":[{"text":"hi"}],"next":"gone"}]}"#,
    );
    let mut w = World::new(&[]);
    w.transfer = TransferEnd::Handed;
    let s = w.run(f, "1");
    assert_eq!(s.ended(), Some(EndReason::Error));
    assert!(matches!(w.commands.last(), Some(Command::Done)));
    assert!(w.commands.iter().any(|c| matches!(
        c,
        Command::Transfer {
            reason: TransferReason::Error,
            ..
        }
    )));
}

#[test]
fn an_input_that_does_not_answer_the_command_is_a_fallback_not_a_panic() {
    let f = flow(
        r#"{"start":"a","nodes":[{"id":"a","kind":"play","prompts":[{"text":"hi"}],"next":"b"},{"id":"b","kind":"hangup"}]}"#,
    );
    let (mut s, _) = Session::start(Arc::new(f), Vars::new());
    let cmd = s.resume(Input::Open(true));
    assert!(matches!(
        cmd,
        Command::Transfer {
            reason: TransferReason::Error,
            ..
        }
    ));
    assert_eq!(s.ended(), Some(EndReason::Error));
}

#[test]
fn conditions_compare_numbers_as_numbers_and_set_fills_templates() {
    let f = flow(
        r#"{"start":"s","nodes":[
        {"id":"s","kind":"set","values":{"greeting":"您好 ${customer.name}","n":"9"},"next":"c"},
        {"id":"c","kind":"condition","rules":[
            {"var":"n","op":"gt","value":"10","next":"big"},
            {"var":"missing","op":"set","next":"big"},
            {"var":"n","op":"ge","value":"9","next":"small"}],"otherwise":"big"},
        {"id":"big","kind":"hangup","prompts":[{"text":"big"}]},
        {"id":"small","kind":"hangup","prompts":[{"text":"${greeting}"}]}]}"#,
    );
    let vars: Vars = [("customer.name".to_string(), "王小明".to_string())].into();
    let (s, cmd) = Session::start(Arc::new(f), vars);
    assert_eq!(
        cmd,
        Command::Hangup {
            prompts: vec![Utterance::Text("您好 王小明".into())]
        }
    );
    // Rule 0 would hold if "9" and "10" were compared as text; rule 1's variable is unset.
    assert_eq!(s.visits()[1].branch.as_deref(), Some("rule:2"));
}

#[test]
fn collect_checks_the_rule_and_lengths_and_an_empty_answer_needs_the_terminator() {
    let f = flow(
        r#"{"start":"c","nodes":[
        {"id":"c","kind":"collect","prompts":[{"text":"号码"}],"var":"phone","min_len":0,"max_len":12,"rule":"phone","retries":3,"invalid_prompts":[{"text":"错"}],"next":"ok","on_fail":"bad"},
        {"id":"ok","kind":"hangup"},{"id":"bad","kind":"hangup"}]}"#,
    );
    // 12345 is not a phone; silence is not an empty answer; 13800000001 is.
    let mut w = World::new(&[Some("12345"), None, Some("13800000001")]);
    let s = w.run(f.clone(), "1");
    assert_eq!(s.vars()["phone"], "13800000001");
    assert_eq!(path(&s), ["c", "ok"]);
    // `#` alone (an empty answer given on purpose) is accepted when min_len is 0: it means "none".
    let mut w = World::new(&[Some("")]);
    let s = w.run(f, "1");
    assert_eq!(s.vars()["phone"], "");
}

#[test]
fn rules_of_digits() {
    assert!(rule_holds(DigitsRule::Phone, "13800000001"));
    assert!(rule_holds(DigitsRule::Phone, "057487654321"));
    assert!(!rule_holds(DigitsRule::Phone, "23800000001"));
    assert!(!rule_holds(DigitsRule::Phone, "1380000000"));
    assert!(rule_holds(DigitsRule::CustomerNo, "330100"));
    assert!(!rule_holds(DigitsRule::CustomerNo, "33010"));
    assert!(!rule_holds(DigitsRule::CustomerNo, "3301*0"));
    assert!(rule_holds(DigitsRule::OrderNo, "2611260001"));
    assert!(!rule_holds(DigitsRule::OrderNo, "261126001"));
}

#[test]
fn fill_replaces_known_variables_and_blanks_unknown_ones() {
    let vars: Vars = [("a".to_string(), "1".to_string())].into();
    assert_eq!(fill("x${a}y${b}z", &vars), "x1yz");
    assert_eq!(fill("${b|见录音} ${a|x}", &vars), "见录音 1");
    assert_eq!(fill("no close ${a", &vars), "no close ${a");
    assert_eq!(fill("", &vars), "");
}
