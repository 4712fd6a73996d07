//! Checks a flow before it is saved or published: every problem is an [`Issue`] on a node (or on the
//! flow) naming the field and the reason. A flow with no issues can run: every branch leads to a
//! node, every node is reachable, every prompt, queue, extension, site, work-order type, calendar and
//! document it names exists, no loop can spin without the caller's input, and every number is in range.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::model::*;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// The node the issue is on (`None`: the flow as a whole).
    pub node: Option<String>,
    /// The field: `start`, `options.1`, `prompts[0]`, `target.queue`, …
    pub field: String,
    /// A stable keyword for programs and translations.
    pub code: &'static str,
    /// What is wrong, in English.
    pub message: String,
}

struct Issues(Vec<Issue>);

impl Issues {
    fn flow(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.0.push(Issue {
            node: None,
            field: field.into(),
            code,
            message: message.into(),
        });
    }
    fn node(&mut self, node: &str, field: &str, code: &'static str, message: impl Into<String>) {
        self.0.push(Issue {
            node: Some(node.into()),
            field: field.into(),
            code,
            message: message.into(),
        });
    }
}

/// Most nodes a flow may have (a designer can draw ~100; this is a safety limit).
pub const MAX_NODES: usize = 500;
/// Longest spoken text of one prompt.
pub const MAX_TEXT: usize = 500;

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A variable name: `customer.amount_due`, `recording`, `x1` (lower-case letters, digits, `_`, `.`).
pub fn valid_var(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.as_bytes()[0].is_ascii_lowercase()
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// Checks `${var}` placeholders in a template; returns the first problem.
fn template_problem(t: &str) -> Option<String> {
    let mut rest = t;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Some("a `${` has no closing `}`".into());
        };
        let inner = &after[..end];
        let var = inner.split_once('|').map_or(inner, |(v, _)| v);
        if !valid_var(var) {
            return Some(format!("`${{{var}}}` is not a variable name"));
        }
        rest = &after[end + 1..];
    }
    None
}

/// Every issue of `flow` against what exists (`known`). Empty: the flow is valid.
pub fn validate(flow: &Flow, known: &Known) -> Vec<Issue> {
    let mut out = Issues(Vec::new());
    if flow.schema != SCHEMA {
        out.flow(
            "schema",
            "bad_schema",
            format!(
                "schema {} is not supported (expected {SCHEMA})",
                flow.schema
            ),
        );
    }
    if flow.nodes.is_empty() {
        out.flow("nodes", "no_nodes", "a flow needs at least one node");
        return out.0;
    }
    if flow.nodes.len() > MAX_NODES {
        out.flow(
            "nodes",
            "too_many_nodes",
            format!("a flow has at most {MAX_NODES} nodes"),
        );
        return out.0;
    }
    let s = &flow.settings;
    if s.language != "zh-CN" && s.language != "en" {
        out.flow(
            "settings.language",
            "bad_language",
            "the language is zh-CN or en",
        );
    }
    if !(5..=1000).contains(&s.max_steps_without_input) {
        out.flow(
            "settings.max_steps_without_input",
            "bad_range",
            "between 5 and 1000 steps",
        );
    }
    if !known.queues.contains(&s.fallback_queue) {
        out.flow(
            "settings.fallback_queue",
            "unknown_queue",
            format!("no queue `{}`", s.fallback_queue),
        );
    }

    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &flow.nodes {
        *ids.entry(n.id.as_str()).or_default() += 1;
    }
    for (id, count) in &ids {
        if *count > 1 {
            out.node(
                id,
                "id",
                "duplicate_node",
                format!("{count} nodes have the id `{id}`"),
            );
        }
        if !valid_id(id) {
            out.node(
                id,
                "id",
                "bad_id",
                "a node id has 1-64 letters, digits, `_` or `-`",
            );
        }
    }
    if flow.start.is_empty() {
        out.flow("start", "no_start", "choose the node calls start at");
    } else if !ids.contains_key(flow.start.as_str()) {
        out.flow("start", "unknown_node", format!("no node `{}`", flow.start));
    }

    for n in &flow.nodes {
        check_node(n, &ids, known, &mut out);
    }

    // Reachability from the start.
    if ids.contains_key(flow.start.as_str()) {
        let reached = reachable(flow);
        for n in &flow.nodes {
            if !reached.contains(n.id.as_str()) {
                out.node(
                    &n.id,
                    "id",
                    "unreachable",
                    "no path from the start leads here",
                );
            }
        }
    }
    loops_without_input(flow, &mut out);
    out.0
}

fn reachable(flow: &Flow) -> BTreeSet<&str> {
    let by_id: BTreeMap<&str, &Node> = flow.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([flow.start.as_str()]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(n) = by_id.get(id) {
            for (_, t) in n.kind.branches() {
                if by_id.contains_key(t.as_str()) && !seen.contains(t.as_str()) {
                    queue.push_back(t);
                }
            }
        }
    }
    seen
}

/// Nodes that wait for the caller (or a person) and so cannot spin: a cycle made only of other nodes
/// would loop forever without input.
fn waits_for_caller(k: &NodeKind) -> bool {
    matches!(
        k,
        NodeKind::Menu { .. }
            | NodeKind::Collect { .. }
            | NodeKind::Record { .. }
            | NodeKind::Survey { .. }
            | NodeKind::Transfer { .. }
            | NodeKind::Identify {
                by: IdentifyBy::Entry | IdentifyBy::CallerIdThenEntry,
                ..
            }
    )
}

fn loops_without_input(flow: &Flow, out: &mut Issues) {
    // Tarjan-free approach: repeatedly peel nodes with no incoming edge inside the "spinning"
    // subgraph; whatever remains lies on (or feeds only into) a cycle of spinning nodes.
    let spinning: BTreeMap<&str, &Node> = flow
        .nodes
        .iter()
        .filter(|n| !waits_for_caller(&n.kind))
        .map(|n| (n.id.as_str(), n))
        .collect();
    let mut succ: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut indeg: BTreeMap<&str, usize> = spinning.keys().map(|k| (*k, 0)).collect();
    for (id, n) in &spinning {
        let set: BTreeSet<&str> = n
            .kind
            .branches()
            .into_iter()
            .map(|(_, t)| t.as_str())
            .filter(|t| spinning.contains_key(t))
            .collect();
        for t in &set {
            *indeg.get_mut(t).expect("in map") += 1;
        }
        succ.insert(id, set);
    }
    let mut queue: VecDeque<&str> = indeg
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(k, _)| *k)
        .collect();
    while let Some(id) = queue.pop_front() {
        for t in &succ[id] {
            let d = indeg.get_mut(t).expect("in map");
            *d -= 1;
            if *d == 0 {
                queue.push_back(t);
            }
        }
        indeg.remove(id);
    }
    // Of what remains, report the nodes that lie on a cycle (they can reach themselves).
    for id in indeg.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = succ[id].iter().copied().collect();
        let mut cyclic = false;
        while let Some(x) = stack.pop() {
            if x == *id {
                cyclic = true;
                break;
            }
            if seen.insert(x) && indeg.contains_key(x) {
                stack.extend(succ[x].iter().copied());
            }
        }
        if cyclic {
            out.node(
                id,
                "next",
                "loop_without_input",
                "this node is on a loop that never waits for the caller",
            );
        }
    }
}

fn check_prompts(id: &str, field: &str, prompts: &[PromptRef], known: &Known, out: &mut Issues) {
    for (i, p) in prompts.iter().enumerate() {
        let f = format!("{field}[{i}]");
        match p {
            PromptRef::Prompt { prompt } => {
                if !known.prompts.iter().any(|k| k == prompt) {
                    out.node(
                        id,
                        &f,
                        "missing_prompt",
                        format!("no prompt `{prompt}` (record or upload it first)"),
                    );
                }
            }
            PromptRef::Text { text } => check_text(id, &f, text, out),
        }
    }
}

fn check_text(id: &str, field: &str, text: &str, out: &mut Issues) {
    if text.trim().is_empty() {
        out.node(id, field, "empty_text", "the text is empty");
    } else if text.chars().count() > MAX_TEXT {
        out.node(
            id,
            field,
            "too_long",
            format!("at most {MAX_TEXT} characters"),
        );
    } else if let Some(p) = template_problem(text) {
        out.node(id, field, "bad_template", p);
    }
}

fn need_prompts(id: &str, prompts: &[PromptRef], out: &mut Issues) {
    if prompts.is_empty() {
        out.node(
            id,
            "prompts",
            "no_prompts",
            "say something first, or the caller will not know what to press",
        );
    }
}

fn range(id: &str, field: &str, v: u32, lo: u32, hi: u32, out: &mut Issues) {
    if !(lo..=hi).contains(&v) {
        out.node(
            id,
            field,
            "bad_range",
            format!("{field} is between {lo} and {hi} (got {v})"),
        );
    }
}

fn var(id: &str, field: &str, v: &str, out: &mut Issues) {
    if !valid_var(v) {
        out.node(
            id,
            field,
            "bad_var",
            format!("`{v}` is not a variable name (a-z, 0-9, `_`, `.`, starting with a letter)"),
        );
    }
}

fn exists(
    id: &str,
    field: &str,
    what: &str,
    code: &'static str,
    value: &str,
    list: &[String],
    out: &mut Issues,
) {
    if !list.iter().any(|k| k == value) {
        out.node(id, field, code, format!("no {what} `{value}`"));
    }
}

fn check_node(n: &Node, ids: &BTreeMap<&str, usize>, known: &Known, out: &mut Issues) {
    let id = n.id.as_str();
    if n.label.chars().count() > 100 {
        out.node(
            id,
            "label",
            "too_long",
            "a label has at most 100 characters",
        );
    }
    for (branch, target) in n.kind.branches() {
        if target.is_empty() {
            out.node(
                id,
                &branch,
                "unconnected",
                format!("branch `{branch}` leads nowhere: connect it to a node"),
            );
        } else if !ids.contains_key(target.as_str()) {
            out.node(
                id,
                &branch,
                "unknown_node",
                format!("branch `{branch}` leads to `{target}`, which does not exist"),
            );
        }
    }
    match &n.kind {
        NodeKind::Play { prompts, .. } => {
            need_prompts(id, prompts, out);
            check_prompts(id, "prompts", prompts, known, out);
        }
        NodeKind::Menu {
            prompts,
            options,
            timeout_secs,
            retries,
            invalid_prompts,
            timeout_prompts,
            ..
        } => {
            need_prompts(id, prompts, out);
            check_prompts(id, "prompts", prompts, known, out);
            check_prompts(id, "invalid_prompts", invalid_prompts, known, out);
            check_prompts(id, "timeout_prompts", timeout_prompts, known, out);
            if options.is_empty() {
                out.node(id, "options", "no_options", "a menu needs at least one key");
            }
            for k in options.keys() {
                let ok = k.len() == 1 && matches!(k.as_bytes()[0], b'0'..=b'9' | b'*' | b'#');
                if !ok {
                    out.node(
                        id,
                        &format!("options.{k}"),
                        "bad_option",
                        "a menu option is one key: 0-9, * or #",
                    );
                }
            }
            range(id, "timeout_secs", *timeout_secs, 1, 60, out);
            range(id, "retries", *retries, 0, 9, out);
        }
        NodeKind::Collect {
            prompts,
            var: v,
            min_len,
            max_len,
            terminator,
            timeout_secs,
            inter_digit_secs,
            retries,
            invalid_prompts,
            ..
        } => {
            need_prompts(id, prompts, out);
            check_prompts(id, "prompts", prompts, known, out);
            check_prompts(id, "invalid_prompts", invalid_prompts, known, out);
            var(id, "var", v, out);
            range(id, "max_len", *max_len, 1, 32, out);
            range(id, "min_len", *min_len, 0, 32, out);
            if min_len > max_len {
                out.node(id, "min_len", "bad_range", "min_len is more than max_len");
            }
            if let Some(t) = terminator
                && !matches!(t, '#' | '*')
            {
                out.node(id, "terminator", "bad_option", "the terminator is # or *");
            }
            range(id, "timeout_secs", *timeout_secs, 1, 60, out);
            range(id, "inter_digit_secs", *inter_digit_secs, 1, 30, out);
            range(id, "retries", *retries, 0, 9, out);
        }
        NodeKind::Identify {
            by,
            entry_prompts,
            confirm_digits,
            confirm_prompts,
            invalid_prompts,
            retries,
            ..
        } => {
            check_prompts(id, "entry_prompts", entry_prompts, known, out);
            check_prompts(id, "confirm_prompts", confirm_prompts, known, out);
            check_prompts(id, "invalid_prompts", invalid_prompts, known, out);
            if *by != IdentifyBy::CallerId && entry_prompts.is_empty() {
                out.node(
                    id,
                    "entry_prompts",
                    "no_prompts",
                    "ask the caller for the customer number",
                );
            }
            range(id, "confirm_digits", *confirm_digits, 0, 8, out);
            if *confirm_digits > 0 && confirm_prompts.is_empty() {
                out.node(
                    id,
                    "confirm_prompts",
                    "no_prompts",
                    "ask the caller for the last digits of the phone",
                );
            }
            range(id, "retries", *retries, 0, 9, out);
        }
        NodeKind::Say { parts, .. } => {
            if parts.is_empty() {
                out.node(id, "parts", "no_prompts", "a say node says something");
            }
            for (i, p) in parts.iter().enumerate() {
                let f = format!("parts[{i}]");
                match p {
                    SayPart::Prompt { prompt } => check_prompts(
                        id,
                        "parts",
                        std::slice::from_ref(&PromptRef::Prompt {
                            prompt: prompt.clone(),
                        }),
                        known,
                        out,
                    ),
                    SayPart::Text { text } => check_text(id, &f, text, out),
                    SayPart::Value { var: v, .. } => var(id, &format!("{f}.var"), v, out),
                }
            }
        }
        NodeKind::Record {
            prompts,
            var: v,
            max_secs,
            silence_secs,
            ..
        } => {
            check_prompts(id, "prompts", prompts, known, out);
            var(id, "var", v, out);
            range(id, "max_secs", *max_secs, 1, 600, out);
            range(id, "silence_secs", *silence_secs, 1, 60, out);
        }
        NodeKind::CreateWorkOrder {
            order_type,
            priority,
            title,
            description,
            attach,
            fields,
            ..
        } => {
            exists(
                id,
                "order_type",
                "work-order type",
                "unknown_order_type",
                order_type,
                &known.order_types,
                out,
            );
            if !matches!(
                priority.as_str(),
                "" | "low" | "normal" | "urgent" | "emergency"
            ) {
                out.node(
                    id,
                    "priority",
                    "bad_option",
                    "priority is low, normal, urgent, emergency or empty (the type's rules decide)",
                );
            }
            check_text(id, "title", title, out);
            if let Some(p) = template_problem(description) {
                out.node(id, "description", "bad_template", p);
            }
            if !attach.is_empty() {
                var(id, "attach", attach, out);
            }
            for (k, t) in fields {
                if let Some(p) = template_problem(t) {
                    out.node(id, &format!("fields.{k}"), "bad_template", p);
                }
            }
        }
        NodeKind::OrderStatus { by, var: v, .. } => {
            if *by == OrderBy::OrderNo {
                var(id, "var", v, out);
            }
        }
        NodeKind::SendDocument {
            document, to_var, ..
        } => {
            exists(
                id,
                "document",
                "document",
                "unknown_document",
                document,
                &known.documents,
                out,
            );
            if !to_var.is_empty() {
                var(id, "to_var", to_var, out);
            }
        }
        NodeKind::Hours { calendar, .. } => exists(
            id,
            "calendar",
            "calendar",
            "unknown_calendar",
            calendar,
            &known.calendars,
            out,
        ),
        NodeKind::Condition { rules, .. } => {
            for (i, r) in rules.iter().enumerate() {
                var(id, &format!("rules[{i}].var"), &r.var, out);
            }
        }
        NodeKind::Set { values, .. } => {
            if values.is_empty() {
                out.node(id, "values", "no_values", "set at least one variable");
            }
            for (k, t) in values {
                var(id, &format!("values.{k}"), k, out);
                if let Some(p) = template_problem(t) {
                    out.node(id, &format!("values.{k}"), "bad_template", p);
                }
            }
        }
        NodeKind::Transfer {
            target,
            timeout_secs,
            ..
        } => {
            range(id, "timeout_secs", *timeout_secs, 5, 600, out);
            match target {
                TransferTarget::Queue { queue, priority } => {
                    exists(
                        id,
                        "target.queue",
                        "queue",
                        "unknown_queue",
                        queue,
                        &known.queues,
                        out,
                    );
                    range(id, "target.priority", u32::from(*priority), 0, 9, out);
                }
                TransferTarget::Extension { extension } => exists(
                    id,
                    "target.extension",
                    "extension",
                    "unknown_extension",
                    extension,
                    &known.extensions,
                    out,
                ),
                TransferTarget::Site { site } => exists(
                    id,
                    "target.site",
                    "site",
                    "unknown_site",
                    site,
                    &known.sites,
                    out,
                ),
                TransferTarget::External { number } => {
                    if !(3..=20).contains(&number.len())
                        || !number.bytes().all(|b| b.is_ascii_digit())
                    {
                        out.node(
                            id,
                            "target.number",
                            "bad_number",
                            "an outside number has 3-20 digits",
                        );
                    }
                }
            }
        }
        NodeKind::Survey {
            prompts,
            max,
            retries,
            invalid_prompts,
            ..
        } => {
            need_prompts(id, prompts, out);
            check_prompts(id, "prompts", prompts, known, out);
            check_prompts(id, "invalid_prompts", invalid_prompts, known, out);
            range(id, "max", *max, 2, 9, out);
            range(id, "retries", *retries, 0, 9, out);
        }
        NodeKind::Hangup { prompts } => check_prompts(id, "prompts", prompts, known, out),
    }
}
