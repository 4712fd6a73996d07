//! The interpreter: one [`Session`] per call, a state machine over a published [`Flow`].
//!
//! The session never waits and never does I/O. It says what to do next as a [`Command`] (play,
//! collect digits, record, look something up, create a work order, transfer, hang up); whoever drives
//! it — the telephony runtime on a real call, the simulator in the browser, a test — does that and
//! hands back what happened as an [`Input`]. Every node visit is kept as a [`Visit`] (the IVR trace,
//! the funnel's source). A flow that visits `max_steps_without_input` nodes without the caller pressing
//! a key is a runaway: it is cut off and sent to the fallback queue.
//!
//! ```text
//! let (mut s, mut cmd) = Session::start(flow, vars);
//! loop { let input = do_it(cmd)?; cmd = s.resume(input); if s.ended() { break } }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::*;
use crate::say::{Word, say};

/// Variables of a call: `call.caller`, `customer.amount_due`, `order.no`, what `collect` and `set`
/// stored. Values are strings; numbers compare as numbers.
pub type Vars = BTreeMap<String, String>;

/// One thing to play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Utterance {
    /// A named prompt (system or uploaded).
    Prompt(String),
    /// Text for kefu's voice.
    Text(String),
    /// A word of a value read out (a system prompt).
    Word(Word),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    CustomerByPhone(String),
    CustomerByNo(String),
    /// By the digits of a work-order number, restricted to `customer_id` when one is known.
    OrderByNo {
        no: String,
        customer_id: Option<String>,
    },
    NewestOrder {
        customer_id: String,
    },
    /// Is the calendar open now?
    IsOpen {
        calendar: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub order_type: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    /// Path of a recording to attach.
    pub attach: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub sms: bool,
    pub customer_id: Option<String>,
    pub caller: String,
}

/// Why a call is handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferReason {
    /// The flow's transfer node.
    Flow,
    /// The flow spun without input.
    Runaway,
    /// The flow could not go on (a node missing at run time).
    Error,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Play, then answer [`Input::Played`]. With `interruptible`, a key stops it (and stays queued).
    Play {
        prompts: Vec<Utterance>,
        interruptible: bool,
    },
    /// Play `prompts` (a key interrupts them), then collect up to `max_len` digits; answer
    /// [`Input::Digits`]. Keys pressed during the prompts count.
    Collect {
        prompts: Vec<Utterance>,
        max_len: u32,
        terminator: Option<char>,
        first_timeout_secs: u32,
        inter_digit_secs: u32,
    },
    /// Play `prompts`, a beep if asked, record; answer [`Input::Recorded`].
    Record {
        prompts: Vec<Utterance>,
        beep: bool,
        max_secs: u32,
        silence_secs: u32,
    },
    /// Answer [`Input::Found`] (customers, orders) or [`Input::Open`] (calendars).
    Lookup(Lookup),
    /// Answer [`Input::Done`] with `order.id`, `order.no`, `order.digits`.
    CreateWorkOrder(OrderRequest),
    /// Queue a document or message; answer [`Input::Done`].
    SendDocument {
        channel: MessageChannel,
        document: String,
        to: String,
        customer_id: Option<String>,
    },
    /// Store a survey answer against the call (and `order_id`); answer [`Input::Done`].
    SaveSurvey {
        score: u32,
        max: u32,
        order_id: Option<String>,
        customer_id: Option<String>,
    },
    /// Hand the call over; answer [`Input::Transfer`].
    Transfer {
        target: TransferTarget,
        timeout_secs: u32,
        reason: TransferReason,
    },
    /// Play the prompts and hang up. The session has ended.
    Hangup { prompts: Vec<Utterance> },
    /// Nothing more: the session has ended (the call left kefu's hands, or it was hung up).
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferEnd {
    /// Nobody answered, the target is busy or unreachable.
    Failed,
    /// The other side hung up; the caller is still on the line.
    PeerHungUp,
    /// The call left kefu (e.g. a blind transfer elsewhere): nothing more to do.
    Handed,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Played,
    /// `digits` typed (without the terminator); empty with `timed_out` when nothing came.
    Digits {
        digits: String,
        timed_out: bool,
    },
    /// `path` of the recording, `None` when nothing was recorded (silence).
    Recorded {
        path: Option<String>,
        secs: u32,
    },
    Found(Option<Vars>),
    Open(bool),
    Done(Result<Vars, String>),
    Transfer(TransferEnd),
}

/// How a visit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Still at the node.
    Pending,
    /// Left by a normal branch.
    Passed,
    /// Left by an error branch (`on_fail`, `on_empty`, `not_found`).
    Failed,
    /// The caller hung up here.
    Left,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Left => "left",
        }
    }
}

/// One node visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    /// 1, 2, 3 … in the call.
    pub seq: u32,
    pub node: String,
    pub kind: &'static str,
    pub branch: Option<String>,
    pub outcome: Outcome,
    /// What was said or done: the text a say node read, the order created, the digits rejected.
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The caller hung up in the flow.
    Hangup,
    /// Handed to a queue, a phone or an outside number.
    Transfer,
    /// The flow hung up.
    Completed,
    /// Cut off after too many steps without input (and sent to the fallback queue).
    Runaway,
    /// The flow could not go on (and the call was sent to the fallback queue).
    Error,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Hangup => "hangup",
            EndReason::Transfer => "transfer",
            EndReason::Completed => "completed",
            EndReason::Runaway => "runaway",
            EndReason::Error => "error",
        }
    }
}

/// Where inside the current node the session is waiting.
#[derive(Clone, Debug, PartialEq)]
enum Wait {
    Nothing,
    Play,
    Menu {
        attempt: u32,
    },
    Collect {
        attempt: u32,
    },
    IdentifyCaller,
    IdentifyEntry {
        attempt: u32,
    },
    IdentifyLookup {
        attempt: u32,
    },
    IdentifyConfirm {
        attempt: u32,
        found: Vars,
    },
    Say,
    Record,
    Create,
    Order,
    Send,
    Hours,
    Transfer,
    Survey {
        attempt: u32,
    },
    SurveySave,
    /// A runaway or error hand-over to the fallback queue.
    Fallback,
    Ended,
}

pub struct Session {
    flow: Arc<Flow>,
    vars: Vars,
    at: String,
    wait: Wait,
    steps_without_input: u32,
    visits: Vec<Visit>,
    end: Option<EndReason>,
}

/// Replaces `${var}` with the variable's value (unknown or empty: nothing) and `${var|text}` with
/// the value, or `text` when it is unknown or empty.
pub fn fill(template: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(end) => {
                let inner = &after[..end];
                let (name, default) = match inner.split_once('|') {
                    Some((n, d)) => (n, d),
                    None => (inner, ""),
                };
                match vars.get(name).filter(|v| !v.is_empty()) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(default),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn compare(left: Option<&String>, op: Op, right: &str) -> bool {
    let l = left.map(String::as_str).unwrap_or("");
    match op {
        Op::Set => !l.is_empty(),
        Op::Unset => l.is_empty(),
        _ => {
            let ord = match (l.parse::<f64>(), right.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b),
                _ => Some(l.cmp(right)),
            };
            let Some(ord) = ord else { return false };
            match op {
                Op::Eq => ord.is_eq(),
                Op::Ne => !ord.is_eq(),
                Op::Gt => ord.is_gt(),
                Op::Ge => ord.is_ge(),
                Op::Lt => ord.is_lt(),
                Op::Le => ord.is_le(),
                Op::Set | Op::Unset => unreachable!(),
            }
        }
    }
}

/// Does `digits` satisfy the rule (lengths are checked separately)?
pub fn rule_holds(rule: DigitsRule, digits: &str) -> bool {
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match rule {
        DigitsRule::Any => digits.bytes().all(|b| b.is_ascii_digit() || b == b'*'),
        DigitsRule::CustomerNo => all_digits && (6..=20).contains(&digits.len()),
        DigitsRule::OrderNo => all_digits && (10..=14).contains(&digits.len()),
        DigitsRule::Phone => {
            all_digits
                && ((digits.len() == 11 && digits.starts_with('1'))
                    || ((10..=12).contains(&digits.len()) && digits.starts_with('0')))
        }
    }
}

impl Session {
    /// Starts a call on `flow` with the call's variables (the runtime sets `call.caller`,
    /// `call.callee`, `call.uuid`). Returns the first command.
    pub fn start(flow: Arc<Flow>, vars: Vars) -> (Session, Command) {
        let start = flow.start.clone();
        let mut s = Session {
            flow,
            vars,
            at: String::new(),
            wait: Wait::Nothing,
            steps_without_input: 0,
            visits: Vec::new(),
            end: None,
        };
        let cmd = s.goto(&start);
        (s, cmd)
    }

    /// The node the session is at.
    pub fn node(&self) -> &str {
        &self.at
    }

    pub fn vars(&self) -> &Vars {
        &self.vars
    }

    pub fn ended(&self) -> Option<EndReason> {
        self.end
    }

    /// Waiting for the caller's keys (what the simulator's dial pad feeds).
    pub fn waiting_for_digits(&self) -> bool {
        matches!(
            self.wait,
            Wait::Menu { .. }
                | Wait::Collect { .. }
                | Wait::IdentifyEntry { .. }
                | Wait::IdentifyConfirm { .. }
                | Wait::Survey { .. }
        )
    }

    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// The visits so far (the last one may still be pending), leaving the session's list empty.
    pub fn take_trace(&mut self) -> Vec<Visit> {
        std::mem::take(&mut self.visits)
    }

    fn node_kind(&self) -> Option<&NodeKind> {
        self.flow.node(&self.at).map(|n| &n.kind)
    }

    fn detail(&mut self, d: String) {
        if let Some(v) = self.visits.last_mut() {
            match &mut v.detail {
                Some(old) => {
                    old.push_str("; ");
                    old.push_str(&d);
                }
                None => v.detail = Some(d),
            }
        }
    }

    fn leave(&mut self, branch: &str, outcome: Outcome) {
        if let Some(v) = self.visits.last_mut()
            && v.outcome == Outcome::Pending
        {
            v.branch = Some(branch.to_string());
            v.outcome = outcome;
        }
    }

    /// The caller hung up. Ends the session (a call already handed over counts as transferred).
    pub fn hangup(&mut self) {
        if self.end.is_some() && self.wait == Wait::Ended {
            return;
        }
        let reason = match self.wait {
            Wait::Transfer => EndReason::Transfer,
            Wait::Fallback => self.end.unwrap_or(EndReason::Runaway),
            _ => EndReason::Hangup,
        };
        if let Some(v) = self.visits.last_mut()
            && v.outcome == Outcome::Pending
        {
            v.outcome = if reason == EndReason::Transfer {
                Outcome::Passed
            } else {
                Outcome::Left
            };
        }
        self.end = Some(reason);
        self.wait = Wait::Ended;
    }

    fn finish(&mut self, reason: EndReason) {
        self.end = Some(reason);
        self.wait = Wait::Ended;
    }

    fn prompts(&self, list: &[PromptRef]) -> Vec<Utterance> {
        list.iter()
            .map(|p| match p {
                PromptRef::Prompt { prompt } => Utterance::Prompt(prompt.clone()),
                PromptRef::Text { text } => Utterance::Text(fill(text, &self.vars)),
            })
            .collect()
    }

    fn fallback(&mut self, reason: EndReason) -> Command {
        self.end = Some(reason);
        self.wait = Wait::Fallback;
        Command::Transfer {
            target: TransferTarget::Queue {
                queue: self.flow.settings.fallback_queue.clone(),
                priority: 0,
            },
            timeout_secs: 600,
            reason: if reason == EndReason::Runaway {
                TransferReason::Runaway
            } else {
                TransferReason::Error
            },
        }
    }

    /// Enters `id` and runs nodes that need nothing from outside (set, condition) until one does.
    fn goto(&mut self, id: &str) -> Command {
        let mut id = id.to_string();
        loop {
            let Some(node) = self.flow.node(&id).cloned() else {
                self.detail(format!("no node `{id}`"));
                return self.fallback(EndReason::Error);
            };
            self.steps_without_input += 1;
            if self.steps_without_input > self.flow.settings.max_steps_without_input {
                self.detail(format!(
                    "runaway: {} nodes without input",
                    self.flow.settings.max_steps_without_input
                ));
                return self.fallback(EndReason::Runaway);
            }
            self.at = node.id.clone();
            self.visits.push(Visit {
                seq: self.visits.last().map_or(1, |v| v.seq + 1),
                node: node.id.clone(),
                kind: node.kind.name(),
                branch: None,
                outcome: Outcome::Pending,
                detail: None,
            });
            match &node.kind {
                NodeKind::Set { values, next } => {
                    for (k, t) in values {
                        let v = fill(t, &self.vars);
                        self.vars.insert(k.clone(), v);
                    }
                    self.leave("next", Outcome::Passed);
                    id = next.clone();
                }
                NodeKind::Condition { rules, otherwise } => {
                    let hit = rules
                        .iter()
                        .enumerate()
                        .find(|(_, r)| compare(self.vars.get(&r.var), r.op, &r.value));
                    match hit {
                        Some((i, r)) => {
                            self.leave(&format!("rule:{i}"), Outcome::Passed);
                            id = r.next.clone();
                        }
                        None => {
                            self.leave("otherwise", Outcome::Passed);
                            id = otherwise.clone();
                        }
                    }
                }
                kind => return self.begin(kind.clone()),
            }
        }
    }

    /// The first command of a node that waits for something.
    fn begin(&mut self, kind: NodeKind) -> Command {
        match kind {
            NodeKind::Play {
                prompts,
                interruptible,
                ..
            } => {
                self.wait = Wait::Play;
                Command::Play {
                    prompts: self.prompts(&prompts),
                    interruptible,
                }
            }
            NodeKind::Menu { .. } => {
                self.wait = Wait::Menu { attempt: 0 };
                self.menu_command(&[])
            }
            NodeKind::Collect { .. } => {
                self.wait = Wait::Collect { attempt: 0 };
                self.collect_command(&[])
            }
            NodeKind::Identify { by, .. } => {
                if by == IdentifyBy::Entry {
                    self.wait = Wait::IdentifyEntry { attempt: 0 };
                    self.identify_entry(&[])
                } else {
                    self.wait = Wait::IdentifyCaller;
                    let caller = self.vars.get("call.caller").cloned().unwrap_or_default();
                    Command::Lookup(Lookup::CustomerByPhone(caller))
                }
            }
            NodeKind::Say { parts, .. } => {
                self.wait = Wait::Say;
                let (utterances, detail) = self.say_parts(&parts);
                self.detail(detail);
                Command::Play {
                    prompts: utterances,
                    interruptible: true,
                }
            }
            NodeKind::Record {
                prompts,
                max_secs,
                silence_secs,
                beep,
                ..
            } => {
                self.wait = Wait::Record;
                Command::Record {
                    prompts: self.prompts(&prompts),
                    beep,
                    max_secs,
                    silence_secs,
                }
            }
            NodeKind::CreateWorkOrder {
                order_type,
                priority,
                title,
                description,
                attach,
                fields,
                sms,
                ..
            } => {
                self.wait = Wait::Create;
                let attach = if attach.is_empty() {
                    None
                } else {
                    self.vars.get(&attach).filter(|p| !p.is_empty()).cloned()
                };
                Command::CreateWorkOrder(OrderRequest {
                    order_type,
                    priority,
                    title: fill(&title, &self.vars),
                    description: fill(&description, &self.vars),
                    attach,
                    fields: fields
                        .iter()
                        .map(|(k, t)| (k.clone(), fill(t, &self.vars)))
                        .collect(),
                    sms,
                    customer_id: self.customer_id(),
                    caller: self.caller(),
                })
            }
            NodeKind::OrderStatus { by, var, .. } => {
                let customer_id = self.customer_id();
                let typed = self.vars.get(&var).cloned().unwrap_or_default();
                let lookup = match (by, typed.is_empty(), customer_id) {
                    (OrderBy::OrderNo, false, customer_id) => Lookup::OrderByNo {
                        no: typed,
                        customer_id,
                    },
                    (_, _, Some(c)) => Lookup::NewestOrder { customer_id: c },
                    (_, _, None) => {
                        self.detail("no order number and no identified customer".into());
                        return self.branch("not_found", Outcome::Failed);
                    }
                };
                self.wait = Wait::Order;
                Command::Lookup(lookup)
            }
            NodeKind::SendDocument {
                channel,
                document,
                to_var,
                ..
            } => {
                let to = if !to_var.is_empty() {
                    self.vars.get(&to_var).cloned().unwrap_or_default()
                } else if channel == MessageChannel::Email {
                    self.vars.get("customer.email").cloned().unwrap_or_default()
                } else {
                    self.caller()
                };
                if to.is_empty() {
                    self.detail(format!("no address to send `{document}` to"));
                    return self.branch("on_fail", Outcome::Failed);
                }
                self.wait = Wait::Send;
                Command::SendDocument {
                    channel,
                    document,
                    to,
                    customer_id: self.customer_id(),
                }
            }
            NodeKind::Hours { calendar, .. } => {
                self.wait = Wait::Hours;
                Command::Lookup(Lookup::IsOpen { calendar })
            }
            NodeKind::Transfer {
                target,
                timeout_secs,
                ..
            } => {
                self.wait = Wait::Transfer;
                self.detail(format!("transfer to {}", describe(&target)));
                Command::Transfer {
                    target,
                    timeout_secs,
                    reason: TransferReason::Flow,
                }
            }
            NodeKind::Survey { .. } => {
                self.wait = Wait::Survey { attempt: 0 };
                self.survey_command(&[])
            }
            NodeKind::Hangup { prompts } => {
                self.leave("hangup", Outcome::Passed);
                self.finish(EndReason::Completed);
                Command::Hangup {
                    prompts: self.prompts(&prompts),
                }
            }
            NodeKind::Set { .. } | NodeKind::Condition { .. } => {
                unreachable!("goto runs set and condition nodes")
            }
        }
    }

    fn caller(&self) -> String {
        self.vars.get("call.caller").cloned().unwrap_or_default()
    }

    fn customer_id(&self) -> Option<String> {
        self.vars
            .get("customer.id")
            .filter(|c| !c.is_empty())
            .cloned()
    }

    fn say_parts(&self, parts: &[SayPart]) -> (Vec<Utterance>, String) {
        let lang = self.flow.settings.language.as_str();
        let mut out = Vec::new();
        let mut detail = Vec::new();
        for p in parts {
            match p {
                SayPart::Prompt { prompt } => {
                    out.push(Utterance::Prompt(prompt.clone()));
                    detail.push(format!("[{prompt}]"));
                }
                SayPart::Text { text } => {
                    let t = fill(text, &self.vars);
                    detail.push(t.clone());
                    out.push(Utterance::Text(t));
                }
                SayPart::Value { var, say_as } => {
                    let value = self.vars.get(var).cloned().unwrap_or_default();
                    if *say_as == SayAs::Text {
                        detail.push(format!("{var}={value}"));
                        if !value.is_empty() {
                            out.push(Utterance::Text(value));
                        }
                        continue;
                    }
                    match say(lang, &value, *say_as) {
                        Some(words) => {
                            let spoken: String = words
                                .iter()
                                .map(|w| w.text.as_str())
                                .collect::<Vec<_>>()
                                .join(if lang == "en" { " " } else { "" });
                            detail.push(format!("{var}={value} → {spoken}"));
                            out.extend(words.into_iter().map(Utterance::Word));
                        }
                        None => detail.push(format!("{var}={value} (not readable)")),
                    }
                }
            }
        }
        (out, detail.join(" "))
    }

    fn menu_command(&self, before: &[PromptRef]) -> Command {
        let Some(NodeKind::Menu {
            prompts,
            timeout_secs,
            ..
        }) = self.node_kind()
        else {
            unreachable!("at a menu")
        };
        let mut all = self.prompts(before);
        all.extend(self.prompts(prompts));
        Command::Collect {
            prompts: all,
            max_len: 1,
            terminator: None,
            first_timeout_secs: *timeout_secs,
            inter_digit_secs: 1,
        }
    }

    fn collect_command(&self, before: &[PromptRef]) -> Command {
        let Some(NodeKind::Collect {
            prompts,
            max_len,
            terminator,
            timeout_secs,
            inter_digit_secs,
            ..
        }) = self.node_kind()
        else {
            unreachable!("at a collect node")
        };
        let mut all = self.prompts(before);
        all.extend(self.prompts(prompts));
        Command::Collect {
            prompts: all,
            max_len: *max_len,
            terminator: *terminator,
            first_timeout_secs: *timeout_secs,
            inter_digit_secs: *inter_digit_secs,
        }
    }

    fn identify_entry(&self, before: &[PromptRef]) -> Command {
        let Some(NodeKind::Identify { entry_prompts, .. }) = self.node_kind() else {
            unreachable!("at an identify node")
        };
        let mut all = self.prompts(before);
        all.extend(self.prompts(entry_prompts));
        Command::Collect {
            prompts: all,
            max_len: 20,
            terminator: Some('#'),
            first_timeout_secs: 8,
            inter_digit_secs: 4,
        }
    }

    fn survey_command(&self, before: &[PromptRef]) -> Command {
        let Some(NodeKind::Survey { prompts, .. }) = self.node_kind() else {
            unreachable!("at a survey node")
        };
        let mut all = self.prompts(before);
        all.extend(self.prompts(prompts));
        Command::Collect {
            prompts: all,
            max_len: 1,
            terminator: None,
            first_timeout_secs: 8,
            inter_digit_secs: 1,
        }
    }

    /// Leaves the current node by `branch`.
    fn branch(&mut self, branch: &str, outcome: Outcome) -> Command {
        let target = self
            .node_kind()
            .and_then(|k| {
                k.branches()
                    .into_iter()
                    .find(|(b, _)| b == branch)
                    .map(|(_, t)| t.clone())
            })
            .unwrap_or_default();
        self.leave(branch, outcome);
        self.wait = Wait::Nothing;
        self.goto(&target)
    }

    fn input_seen(&mut self) {
        self.steps_without_input = 0;
    }

    /// Feeds what happened; returns the next command. After the session ended it returns
    /// [`Command::Done`].
    pub fn resume(&mut self, input: Input) -> Command {
        let wait = std::mem::replace(&mut self.wait, Wait::Nothing);
        let kind = self.node_kind().cloned();
        match (wait, input, kind) {
            (Wait::Ended, _, _) => {
                self.wait = Wait::Ended;
                Command::Done
            }
            (Wait::Fallback, Input::Transfer(_), _) => {
                self.leave("fallback", Outcome::Failed);
                self.wait = Wait::Ended;
                Command::Done
            }
            (Wait::Play | Wait::Say, Input::Played, _) => self.branch("next", Outcome::Passed),
            (
                Wait::Menu { attempt },
                Input::Digits { digits, .. },
                Some(NodeKind::Menu {
                    options,
                    retries,
                    invalid_prompts,
                    timeout_prompts,
                    ..
                }),
            ) => {
                if !digits.is_empty() {
                    self.input_seen();
                }
                if let Some(t) = options.get(&digits) {
                    let _ = t;
                    return self.branch(&digits, Outcome::Passed);
                }
                let (why, prompts) = if digits.is_empty() {
                    ("no key", timeout_prompts)
                } else {
                    ("invalid key", invalid_prompts)
                };
                self.detail(format!("{why} {digits}").trim_end().to_string());
                if attempt >= retries {
                    return self.branch("on_fail", Outcome::Failed);
                }
                self.wait = Wait::Menu {
                    attempt: attempt + 1,
                };
                self.menu_command(&prompts)
            }
            (
                Wait::Collect { attempt },
                Input::Digits { digits, timed_out },
                Some(NodeKind::Collect {
                    var,
                    min_len,
                    max_len,
                    rule,
                    retries,
                    invalid_prompts,
                    ..
                }),
            ) => {
                if !digits.is_empty() {
                    self.input_seen();
                }
                let len = digits.chars().count() as u32;
                // An empty answer counts only when allowed (`min_len` 0) and given on purpose (the
                // terminator), not by silence.
                let empty_ok = len == 0 && min_len == 0 && !timed_out;
                let fits = len >= min_len.max(1) && len <= max_len && rule_holds(rule, &digits);
                if empty_ok || fits {
                    self.vars.insert(var, digits);
                    return self.branch("next", Outcome::Passed);
                }
                self.detail(format!("rejected `{digits}`"));
                if attempt >= retries {
                    return self.branch("on_fail", Outcome::Failed);
                }
                self.wait = Wait::Collect {
                    attempt: attempt + 1,
                };
                self.collect_command(&invalid_prompts)
            }
            (Wait::IdentifyCaller, Input::Found(found), Some(NodeKind::Identify { by, .. })) => {
                match found {
                    Some(vars) => {
                        self.detail("by caller ID".into());
                        self.vars.extend(vars);
                        self.branch("next", Outcome::Passed)
                    }
                    None if by == IdentifyBy::CallerId => {
                        self.detail("caller ID not registered".into());
                        self.branch("on_fail", Outcome::Failed)
                    }
                    None => {
                        self.wait = Wait::IdentifyEntry { attempt: 0 };
                        self.identify_entry(&[])
                    }
                }
            }
            (
                Wait::IdentifyEntry { attempt },
                Input::Digits { digits, .. },
                Some(NodeKind::Identify { .. }),
            ) => {
                if !digits.is_empty() {
                    self.input_seen();
                }
                if rule_holds(DigitsRule::CustomerNo, &digits) {
                    self.wait = Wait::IdentifyLookup { attempt };
                    return Command::Lookup(Lookup::CustomerByNo(digits));
                }
                self.detail(format!("rejected `{digits}`"));
                self.identify_retry(attempt)
            }
            (
                Wait::IdentifyLookup { attempt },
                Input::Found(found),
                Some(NodeKind::Identify { confirm_digits, .. }),
            ) => match found {
                None => {
                    self.detail("unknown customer number".into());
                    self.identify_retry(attempt)
                }
                Some(vars) if confirm_digits == 0 => {
                    self.detail("by customer number".into());
                    self.vars.extend(vars);
                    self.branch("next", Outcome::Passed)
                }
                Some(vars) => {
                    let Some(NodeKind::Identify {
                        confirm_prompts, ..
                    }) = self.node_kind().cloned()
                    else {
                        unreachable!()
                    };
                    self.wait = Wait::IdentifyConfirm {
                        attempt,
                        found: vars,
                    };
                    Command::Collect {
                        prompts: self.prompts(&confirm_prompts),
                        max_len: confirm_digits,
                        terminator: Some('#'),
                        first_timeout_secs: 8,
                        inter_digit_secs: 4,
                    }
                }
            },
            (
                Wait::IdentifyConfirm { attempt, found },
                Input::Digits { digits, .. },
                Some(NodeKind::Identify { confirm_digits, .. }),
            ) => {
                if !digits.is_empty() {
                    self.input_seen();
                }
                let phones = found.get("customer.phones").cloned().unwrap_or_default();
                let ok = digits.len() == confirm_digits as usize
                    && phones
                        .split(',')
                        .any(|p| !p.is_empty() && p.trim().ends_with(&digits));
                if ok {
                    self.detail("by customer number, phone confirmed".into());
                    self.vars.extend(found);
                    self.branch("next", Outcome::Passed)
                } else {
                    self.detail("phone digits did not match".into());
                    self.identify_retry(attempt)
                }
            }
            (Wait::Record, Input::Recorded { path, secs }, Some(NodeKind::Record { var, .. })) => {
                self.input_seen();
                match path {
                    Some(p) if secs > 0 => {
                        self.detail(format!("{secs} s"));
                        self.vars.insert(var, p);
                        self.branch("next", Outcome::Passed)
                    }
                    _ => self.branch("on_empty", Outcome::Failed),
                }
            }
            (Wait::Create, Input::Done(result), _) => match result {
                Ok(vars) => {
                    if let Some(no) = vars.get("order.no") {
                        self.detail(format!("created {no}"));
                    }
                    self.vars.extend(vars);
                    self.branch("next", Outcome::Passed)
                }
                Err(e) => {
                    self.detail(e);
                    self.branch("on_fail", Outcome::Failed)
                }
            },
            (Wait::Order, Input::Found(found), _) => match found {
                Some(vars) => {
                    if let (Some(no), Some(st)) = (vars.get("order.no"), vars.get("order.status")) {
                        self.detail(format!("{no} {st}"));
                    }
                    self.vars.extend(vars);
                    self.branch("next", Outcome::Passed)
                }
                None => self.branch("not_found", Outcome::Failed),
            },
            (Wait::Send, Input::Done(result), _) => match result {
                Ok(vars) => {
                    self.vars.extend(vars);
                    self.branch("next", Outcome::Passed)
                }
                Err(e) => {
                    self.detail(e);
                    self.branch("on_fail", Outcome::Failed)
                }
            },
            (Wait::Hours, Input::Open(open), _) => {
                if open {
                    self.branch("open", Outcome::Passed)
                } else {
                    self.branch("closed", Outcome::Passed)
                }
            }
            (Wait::Transfer, Input::Transfer(end), Some(NodeKind::Transfer { after, .. })) => {
                match end {
                    TransferEnd::Failed => self.branch("on_fail", Outcome::Failed),
                    TransferEnd::PeerHungUp if after.is_some() => {
                        self.input_seen();
                        self.branch("after", Outcome::Passed)
                    }
                    TransferEnd::PeerHungUp => {
                        self.leave("transferred", Outcome::Passed);
                        self.finish(EndReason::Transfer);
                        Command::Hangup { prompts: vec![] }
                    }
                    TransferEnd::Handed => {
                        self.leave("transferred", Outcome::Passed);
                        self.finish(EndReason::Transfer);
                        Command::Done
                    }
                }
            }
            (
                Wait::Survey { attempt },
                Input::Digits { digits, .. },
                Some(NodeKind::Survey {
                    max,
                    retries,
                    invalid_prompts,
                    ..
                }),
            ) => {
                if !digits.is_empty() {
                    self.input_seen();
                }
                match digits.parse::<u32>() {
                    Ok(score) if (1..=max).contains(&score) => {
                        self.detail(format!("score {score}/{max}"));
                        self.vars.insert("survey.score".into(), score.to_string());
                        self.wait = Wait::SurveySave;
                        Command::SaveSurvey {
                            score,
                            max,
                            order_id: self.vars.get("order.id").cloned(),
                            customer_id: self.customer_id(),
                        }
                    }
                    _ => {
                        self.detail(format!("rejected `{digits}`"));
                        if attempt >= retries {
                            return self.branch("on_fail", Outcome::Failed);
                        }
                        self.wait = Wait::Survey {
                            attempt: attempt + 1,
                        };
                        self.survey_command(&invalid_prompts)
                    }
                }
            }
            (Wait::SurveySave, Input::Done(result), _) => match result {
                Ok(_) => self.branch("next", Outcome::Passed),
                Err(e) => {
                    self.detail(e);
                    self.branch("on_fail", Outcome::Failed)
                }
            },
            (wait, input, _) => {
                // A driver bug: the input does not answer the command. Hand the caller to a person
                // rather than leave them in silence.
                self.detail(format!("unexpected {input:?} while waiting for {wait:?}"));
                self.fallback(EndReason::Error)
            }
        }
    }

    fn identify_retry(&mut self, attempt: u32) -> Command {
        let Some(NodeKind::Identify {
            retries,
            invalid_prompts,
            ..
        }) = self.node_kind().cloned()
        else {
            unreachable!("at an identify node")
        };
        if attempt >= retries {
            return self.branch("on_fail", Outcome::Failed);
        }
        self.wait = Wait::IdentifyEntry {
            attempt: attempt + 1,
        };
        self.identify_entry(&invalid_prompts)
    }
}

/// A transfer target in words, for the trace.
pub fn describe(t: &TransferTarget) -> String {
    match t {
        TransferTarget::Queue { queue, priority } => format!("queue {queue} (priority {priority})"),
        TransferTarget::Extension { extension } => format!("extension {extension}"),
        TransferTarget::Site { site } => format!("site {site}"),
        TransferTarget::External { number } => format!("number {number}"),
    }
}
