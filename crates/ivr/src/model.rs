//! The flow graph as business staff draw it and as it is stored: a [`Flow`] is a set of [`Node`]s,
//! each with a kind and the ids of the nodes its branches lead to. JSON is the exchange format
//! (import/export, the designer, the database); serde field names are part of that contract
//! (`docs/api.md`, "IVR flows").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the JSON format. Bumped only for changes old readers cannot ignore.
pub const SCHEMA: u32 = 1;

/// A node's id: letters, digits, `_` and `-`, 1..=64 characters (checked by validation).
pub type NodeId = String;

/// A flow: what the caller hears and what kefu does, node by node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    #[serde(default = "schema")]
    pub schema: u32,
    /// The node a call starts at.
    pub start: NodeId,
    #[serde(default)]
    pub settings: Settings,
    pub nodes: Vec<Node>,
}

fn schema() -> u32 {
    SCHEMA
}

/// Flow-wide settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Language of the system prompts used to say data (`zh-CN` or `en`).
    pub language: String,
    /// A call that visits this many nodes without the caller pressing a key is a runaway: it is
    /// cut off and handed to `fallback_queue`.
    pub max_steps_without_input: u32,
    /// Where runaways and calls whose flow failed go.
    pub fallback_queue: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: "zh-CN".into(),
            max_steps_without_input: 50,
            fallback_queue: "general".into(),
        }
    }
}

/// Where a node is drawn in the designer (ignored by the interpreter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// Unknown fields are refused by the kind (serde cannot refuse them on a struct with a flattened
/// part).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    /// Shown in the designer and in the funnel.
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub position: Position,
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// Something to play: a named prompt (a system prompt or one an admin uploaded) or text that kefu
/// speaks with its voice (espeak-ng) and caches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum PromptRef {
    Prompt { prompt: String },
    Text { text: String },
}

/// How a value is read out (see `say`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SayAs {
    /// A quantity: 1234 → 一千二百三十四.
    Number,
    /// Fen (integer cents) → 十二元三角四分.
    Money,
    /// `YYYY-MM-DD` → 二〇二六年十一月二十六日.
    Date,
    /// Digit by digit (numbers, phones): 1 is 幺.
    Digits,
    /// A work-order status keyword → its spoken name.
    Status,
    /// Speak the text as it is (with the flow's voice).
    Text,
}

/// One piece of what a `say` node reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum SayPart {
    Prompt {
        prompt: String,
    },
    Text {
        text: String,
    },
    /// A variable's value (`customer.amount_due`, `order.status`, one set by `collect` or `set`).
    Value {
        var: String,
        #[serde(rename = "as")]
        say_as: SayAs,
    },
}

/// Checks on collected digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigitsRule {
    /// Any digits within the length limits.
    Any,
    /// A customer number (户号): 6 to 20 digits.
    CustomerNo,
    /// A work-order number's digits (YYMMDD + sequence, 10 to 14 digits).
    OrderNo,
    /// A mobile (11 digits from 1) or a landline with area code (10 to 12 digits from 0).
    Phone,
}

/// How `identify` finds the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifyBy {
    /// The caller's number; if it is not registered, ask for the customer number.
    CallerIdThenEntry,
    /// Only the caller's number.
    CallerId,
    /// Always ask for the customer number.
    Entry,
}

/// Where a call is handed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransferTarget {
    /// A queue by key; `priority` 0..=9, higher is served first (a gas leak is 9).
    Queue {
        queue: String,
        #[serde(default)]
        priority: u8,
    },
    Extension {
        extension: String,
    },
    /// A site (unit) by code: rings the site's phones.
    Site {
        site: String,
    },
    /// An outside number through a trunk.
    External {
        number: String,
    },
}

/// Where a fax, SMS or email asked for in the IVR goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Fax,
    Sms,
    Email,
}

/// Comparison in a `condition` rule. Values compare as numbers when both sides are numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// The variable is set and not empty (`value` is ignored).
    Set,
    /// The variable is unset or empty (`value` is ignored).
    Unset,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub var: String,
    pub op: Op,
    #[serde(default)]
    pub value: String,
    pub next: NodeId,
}

fn default_retries() -> u32 {
    2
}
fn default_timeout() -> u32 {
    5
}
fn default_inter() -> u32 {
    3
}
fn yes() -> bool {
    true
}

/// What a node does, with its branches. Field names are the JSON contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NodeKind {
    /// Plays prompts, then goes on.
    Play {
        prompts: Vec<PromptRef>,
        /// A key press cuts the prompts short (the key stays for the next node).
        #[serde(default = "yes")]
        interruptible: bool,
        next: NodeId,
    },
    /// A menu: prompts, then one key chooses a branch.
    Menu {
        prompts: Vec<PromptRef>,
        /// Key (`0`-`9`, `*`, `#`) → node.
        options: BTreeMap<String, NodeId>,
        #[serde(default = "default_timeout")]
        timeout_secs: u32,
        /// Attempts after the first before `on_fail`.
        #[serde(default = "default_retries")]
        retries: u32,
        /// Played after a key that is not an option (then the menu again).
        #[serde(default)]
        invalid_prompts: Vec<PromptRef>,
        /// Played after no key (then the menu again).
        #[serde(default)]
        timeout_prompts: Vec<PromptRef>,
        on_fail: NodeId,
    },
    /// Collects digits into a variable.
    Collect {
        prompts: Vec<PromptRef>,
        var: String,
        #[serde(default = "one")]
        min_len: u32,
        max_len: u32,
        #[serde(default = "hash")]
        terminator: Option<char>,
        #[serde(default = "default_timeout")]
        timeout_secs: u32,
        #[serde(default = "default_inter")]
        inter_digit_secs: u32,
        #[serde(default = "any")]
        rule: DigitsRule,
        #[serde(default = "default_retries")]
        retries: u32,
        #[serde(default)]
        invalid_prompts: Vec<PromptRef>,
        next: NodeId,
        on_fail: NodeId,
    },
    /// Finds the caller's customer record. Sets `customer.*` (id, no, name, balance, amount_due,
    /// due_date, last_payment_amount, last_payment_date, open_orders).
    Identify {
        by: IdentifyBy,
        /// Asks for the customer number (when the caller ID is not enough).
        #[serde(default)]
        entry_prompts: Vec<PromptRef>,
        /// Ask for this many last digits of the registered phone to confirm an entered number
        /// (0: no confirmation).
        #[serde(default)]
        confirm_digits: u32,
        #[serde(default)]
        confirm_prompts: Vec<PromptRef>,
        /// Played when an entered number is unknown or the confirmation is wrong.
        #[serde(default)]
        invalid_prompts: Vec<PromptRef>,
        #[serde(default = "default_retries")]
        retries: u32,
        next: NodeId,
        on_fail: NodeId,
    },
    /// Reads prompts and data in natural speech.
    Say { parts: Vec<SayPart>, next: NodeId },
    /// Records a message (after a beep) into `var` (the recording's path).
    Record {
        prompts: Vec<PromptRef>,
        #[serde(default = "recording")]
        var: String,
        #[serde(default = "max_record")]
        max_secs: u32,
        #[serde(default = "silence")]
        silence_secs: u32,
        #[serde(default = "yes")]
        beep: bool,
        next: NodeId,
        /// Nothing was recorded (silence, hang-up is a hang-up).
        on_empty: NodeId,
    },
    /// Creates a work order of a type, linked to the identified customer and the call; sets
    /// `order.id`, `order.no`. With `sms`, the number goes to the caller by SMS (outbox).
    CreateWorkOrder {
        /// Work-order type key (`fault`, `complaint`, …).
        order_type: String,
        /// `low`, `normal`, `urgent`, `emergency` (empty: the type's rules and default decide).
        #[serde(default)]
        priority: String,
        /// Title and description; `${var}` is replaced by the variable's value.
        title: String,
        #[serde(default)]
        description: String,
        /// Variable holding a recording to attach (usually `recording`).
        #[serde(default)]
        attach: String,
        /// Custom-field key → template (`${var}`, or `${var|text}` with a fallback).
        #[serde(default)]
        fields: BTreeMap<String, String>,
        #[serde(default = "yes")]
        sms: bool,
        next: NodeId,
        on_fail: NodeId,
    },
    /// Looks up a work order by the number in `var` (`order_no`), or the customer's newest open one
    /// (`customer`). Sets `order.*` (id, no, status, type, created_at).
    OrderStatus {
        by: OrderBy,
        #[serde(default)]
        var: String,
        next: NodeId,
        not_found: NodeId,
    },
    /// Queues a document or message for the channels to deliver (fax-on-demand, SMS, email).
    SendDocument {
        channel: MessageChannel,
        /// Document key (`price_list`, `application_form`, …) or a message template.
        document: String,
        /// Variable with the destination (empty: the caller's number, or the customer's email).
        #[serde(default)]
        to_var: String,
        next: NodeId,
        on_fail: NodeId,
    },
    /// Business-hours and holiday branch on a calendar (the SLA calendars).
    Hours {
        calendar: String,
        open: NodeId,
        closed: NodeId,
    },
    /// The first rule that holds decides; else `otherwise`.
    Condition { rules: Vec<Rule>, otherwise: NodeId },
    /// Sets variables (`${var}` templates).
    Set {
        values: BTreeMap<String, String>,
        next: NodeId,
    },
    /// Hands the call over. `after`: where the caller goes when the other side hangs up first
    /// (e.g. the survey); `on_fail`: nobody answered or the target is unreachable.
    Transfer {
        target: TransferTarget,
        #[serde(default = "ring")]
        timeout_secs: u32,
        #[serde(default)]
        after: Option<NodeId>,
        on_fail: NodeId,
    },
    /// Asks for a score `1..=max`; stored against the call and `order.id` if set.
    Survey {
        prompts: Vec<PromptRef>,
        #[serde(default = "five")]
        max: u32,
        #[serde(default = "default_retries")]
        retries: u32,
        #[serde(default)]
        invalid_prompts: Vec<PromptRef>,
        next: NodeId,
        on_fail: NodeId,
    },
    /// Plays its prompts and hangs up.
    Hangup {
        #[serde(default)]
        prompts: Vec<PromptRef>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderBy {
    OrderNo,
    Customer,
}

fn one() -> u32 {
    1
}
fn hash() -> Option<char> {
    Some('#')
}
fn any() -> DigitsRule {
    DigitsRule::Any
}
fn recording() -> String {
    "recording".into()
}
fn max_record() -> u32 {
    60
}
fn silence() -> u32 {
    4
}
fn ring() -> u32 {
    30
}
fn five() -> u32 {
    5
}

impl NodeKind {
    /// The keyword of the kind, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Play { .. } => "play",
            NodeKind::Menu { .. } => "menu",
            NodeKind::Collect { .. } => "collect",
            NodeKind::Identify { .. } => "identify",
            NodeKind::Say { .. } => "say",
            NodeKind::Record { .. } => "record",
            NodeKind::CreateWorkOrder { .. } => "create_work_order",
            NodeKind::OrderStatus { .. } => "order_status",
            NodeKind::SendDocument { .. } => "send_document",
            NodeKind::Hours { .. } => "hours",
            NodeKind::Condition { .. } => "condition",
            NodeKind::Set { .. } => "set",
            NodeKind::Transfer { .. } => "transfer",
            NodeKind::Survey { .. } => "survey",
            NodeKind::Hangup { .. } => "hangup",
        }
    }

    /// Every branch: (branch name, target). Branch names are what the designer shows on the
    /// node's handles and what the trace records (`next`, `on_fail`, `1`, `rule:0`, …).
    pub fn branches(&self) -> Vec<(String, &NodeId)> {
        let mut out: Vec<(String, &NodeId)> = Vec::new();
        match self {
            NodeKind::Play { next, .. }
            | NodeKind::Say { next, .. }
            | NodeKind::Set { next, .. } => out.push(("next".into(), next)),
            NodeKind::Menu {
                options, on_fail, ..
            } => {
                for (k, n) in options {
                    out.push((k.clone(), n));
                }
                out.push(("on_fail".into(), on_fail));
            }
            NodeKind::Collect { next, on_fail, .. }
            | NodeKind::Identify { next, on_fail, .. }
            | NodeKind::CreateWorkOrder { next, on_fail, .. }
            | NodeKind::SendDocument { next, on_fail, .. }
            | NodeKind::Survey { next, on_fail, .. } => {
                out.push(("next".into(), next));
                out.push(("on_fail".into(), on_fail));
            }
            NodeKind::Record { next, on_empty, .. } => {
                out.push(("next".into(), next));
                out.push(("on_empty".into(), on_empty));
            }
            NodeKind::OrderStatus {
                next, not_found, ..
            } => {
                out.push(("next".into(), next));
                out.push(("not_found".into(), not_found));
            }
            NodeKind::Hours { open, closed, .. } => {
                out.push(("open".into(), open));
                out.push(("closed".into(), closed));
            }
            NodeKind::Condition { rules, otherwise } => {
                for (i, r) in rules.iter().enumerate() {
                    out.push((format!("rule:{i}"), &r.next));
                }
                out.push(("otherwise".into(), otherwise));
            }
            NodeKind::Transfer { after, on_fail, .. } => {
                if let Some(a) = after {
                    out.push(("after".into(), a));
                }
                out.push(("on_fail".into(), on_fail));
            }
            NodeKind::Hangup { .. } => {}
        }
        out
    }

    /// Every prompt the node may play (for validation and prompt lists).
    pub fn prompts(&self) -> Vec<&PromptRef> {
        let mut out = Vec::new();
        match self {
            NodeKind::Play { prompts, .. }
            | NodeKind::Record { prompts, .. }
            | NodeKind::Hangup { prompts } => out.extend(prompts),
            NodeKind::Menu {
                prompts,
                invalid_prompts,
                timeout_prompts,
                ..
            } => {
                out.extend(prompts);
                out.extend(invalid_prompts);
                out.extend(timeout_prompts);
            }
            NodeKind::Collect {
                prompts,
                invalid_prompts,
                ..
            }
            | NodeKind::Survey {
                prompts,
                invalid_prompts,
                ..
            } => {
                out.extend(prompts);
                out.extend(invalid_prompts);
            }
            NodeKind::Identify {
                entry_prompts,
                confirm_prompts,
                invalid_prompts,
                ..
            } => {
                out.extend(entry_prompts);
                out.extend(confirm_prompts);
                out.extend(invalid_prompts);
            }
            _ => {}
        }
        out
    }
}

impl Flow {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Parses a flow from JSON. Serde's message names the line, column and field.
    pub fn from_json(json: &str) -> Result<Flow, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a flow always serializes")
    }
}

/// Queue keys, extensions, sites, work-order types, calendars, prompts and documents that exist,
/// for validation (the store fills it; tests build it by hand).
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub queues: Vec<String>,
    pub extensions: Vec<String>,
    pub sites: Vec<String>,
    pub order_types: Vec<String>,
    pub calendars: Vec<String>,
    pub prompts: Vec<String>,
    pub documents: Vec<String>,
}
