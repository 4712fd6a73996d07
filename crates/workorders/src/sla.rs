//! Service-level agreements: what a work-order type promises ([`SlaPolicy`]), and each order's clock
//! ([`SlaClock`]), which says when a promise is due, when to remind, escalate or reassign, and whether
//! it was kept. No clock of its own: every operation takes `now`, and the order's [`Calendar`].
//!
//! # The promises
//!
//! Per priority, up to three targets in business minutes on the order's calendar ([`SlaTargets`]):
//! - **accept** (接单): counts from each dispatch (a reassignment restarts it); met when the unit
//!   accepts the order;
//! - **first feedback** (首次反馈): counts from creation; met when feedback is first submitted;
//! - **resolve** (办结): counts from creation; met when the order is closed. Closing stops the whole
//!   clock: targets not met by then no longer count or fire.
//!
//! An emergency order counts on 24×7 whatever the calendar when the policy says
//! `emergency_always_open` (gas leaks do not wait for Monday).
//!
//! # Milestones
//!
//! For each running, unmet target with a due instant:
//! - **reminder** at each `remind_at_percent` p (to the assignee): at the latest instant from which
//!   (100 − p)% of the target's business time remains until its due instant. That is the moment p%
//!   has elapsed, except when it falls on a closing time: then it comes at the next opening (nobody
//!   reads a reminder at 17:30 on Friday). Reminders are measured from the due instant, so they move
//!   with it when a pause shifts it.
//! - **breach** (escalation to the unit head and supervisor when the policy says so) at the due
//!   instant: the earliest instant at which the whole target has elapsed, which may be a closing time.
//!   A target met exactly at its due instant was met in time.
//! - **reassign** (accept only, when the policy has `reassign_unaccepted_after_mins`): that many
//!   business minutes after the dispatch, if nobody accepted.
//!
//! [`SlaClock::due_events`] returns the milestones whose time has come and that have not fired, and
//! marks them fired, so a second sweep at the same `now` returns nothing. When a sweep finds several
//! milestones of one target due at once (it ran late, or the order was upgraded), it reports only the
//! most advanced one: a breach makes its reminders moot, and of several reminders only the highest
//! percent is sent (the others are marked fired too). [`SlaClock::next_check_at`] is the earliest
//! unfired milestone: the store indexes it, so a sweep reads only the orders whose time has come.
//!
//! # Pausing
//!
//! While an order waits for the customer its clock stands still: no events, no next check, no due
//! instant ([`SlaClock::due_at`] is `None`). On resume every unmet due instant (and the reassignment
//! instant) that was still ahead when the pause began moves later by exactly the working time that
//! passed while paused: the business time that remained at the pause, `between(paused_at, due)`,
//! now counts from the resume, `due = add(now, remaining)`. A deadline that had already passed when
//! the pause began stays where it was (it was breached; waiting does not undo that). A target
//! restarted during the pause (a dispatch) counts its remaining time from its restart.
//!
//! # Changing the priority
//!
//! [`SlaClock::reprioritize`] keeps the business time each unmet target has used so far and gives it
//! the new priority's target: due = (reference instant) + (new target − used). The reference is `now`,
//! or the pause's start while paused. Used time is measured on the old calendar (24×7 or not) and the
//! rest on the new one. A fired milestone whose new instant lies after the reference is re-armed (a
//! downgrade gives more time, and the reminders come again at their new instants); one whose new
//! instant has passed stays fired. A target the old priority did not have starts with the business
//! time since its start counted as used (pauses before the change are not known for it).
//!
//! Due instants and the reassignment instant are fixed when a clock (re)starts, so editing a policy
//! changes the deadlines of new orders and new dispatches; the reminder percents come from the policy
//! at each sweep.

use chrono::{DateTime, TimeDelta, Utc};
use kefu_domain::{FieldErrors, keyword_enum};
use serde::{Deserialize, Serialize};

use crate::Priority;
use crate::calendar::Calendar;

/// The longest target: 366 days of business minutes.
pub const MAX_TARGET_MINS: u32 = 366 * 24 * 60;
/// At most this many reminder percents.
pub const MAX_REMINDERS: usize = 5;

keyword_enum!(
    /// One of the three promises of a work-order type.
    SlaTarget { Accept = "accept", FirstFeedback = "first_feedback", Resolve = "resolve" }
);

impl SlaTarget {
    fn from_chinese(s: &str) -> Option<SlaTarget> {
        Some(match s {
            "接单" | "接单时限" => SlaTarget::Accept,
            "反馈" | "首次反馈" | "反馈时限" => SlaTarget::FirstFeedback,
            "办结" | "处理" | "处理时限" => SlaTarget::Resolve,
            _ => return None,
        })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SlaTarget::Accept => "接单时限",
            SlaTarget::FirstFeedback => "反馈时限",
            SlaTarget::Resolve => "处理时限",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            SlaTarget::Accept => "acceptance deadline",
            SlaTarget::FirstFeedback => "first-feedback deadline",
            SlaTarget::Resolve => "resolution deadline",
        }
    }
}

/// The targets of one priority, in business minutes on the order's calendar; `None`: no promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_mins: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_feedback_mins: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_mins: Option<u32>,
}

impl SlaTargets {
    pub fn minutes(&self, target: SlaTarget) -> Option<u32> {
        match target {
            SlaTarget::Accept => self.accept_mins,
            SlaTarget::FirstFeedback => self.first_feedback_mins,
            SlaTarget::Resolve => self.resolve_mins,
        }
    }
}

/// The targets of each priority (as JSON: `{"emergency": {"accept_mins": 10}, "normal": {…}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityTargets {
    pub emergency: SlaTargets,
    pub urgent: SlaTargets,
    pub normal: SlaTargets,
    pub low: SlaTargets,
}

impl PriorityTargets {
    pub fn get(&self, priority: Priority) -> &SlaTargets {
        match priority {
            Priority::Emergency => &self.emergency,
            Priority::Urgent => &self.urgent,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }

    pub fn get_mut(&mut self, priority: Priority) -> &mut SlaTargets {
        match priority {
            Priority::Emergency => &mut self.emergency,
            Priority::Urgent => &mut self.urgent,
            Priority::Normal => &mut self.normal,
            Priority::Low => &mut self.low,
        }
    }
}

/// What a work-order type promises, edited by administrators (stored as JSON on the type). Every
/// field may be left out: no targets, emergencies 24×7, no reminders, no escalation, no reassignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    pub targets: PriorityTargets,
    /// Emergency orders count on 24×7 whatever the type's calendar.
    pub emergency_always_open: bool,
    /// Remind the assignee when these shares of a target have elapsed: 1-99, ascending, at most 5.
    pub remind_at_percent: Vec<u8>,
    /// Tell the unit head and the supervisors when a target is breached.
    pub escalate_on_breach: bool,
    /// Reassign (to the type's fallback unit) an order not accepted this many business minutes after
    /// its dispatch.
    pub reassign_unaccepted_after_mins: Option<u32>,
}

impl Default for SlaPolicy {
    fn default() -> SlaPolicy {
        SlaPolicy {
            targets: PriorityTargets::default(),
            emergency_always_open: true,
            remind_at_percent: Vec::new(),
            escalate_on_breach: false,
            reassign_unaccepted_after_mins: None,
        }
    }
}

impl SlaPolicy {
    /// Checks what an administrator typed. Errors name the field: `targets.normal.resolve_mins`,
    /// `remind_at_percent[1]`, `reassign_unaccepted_after_mins`.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let range = format!("must be 1-{MAX_TARGET_MINS} business minutes");
        for p in Priority::ALL {
            let targets = self.targets.get(*p);
            for t in SlaTarget::ALL {
                if let Some(m) = targets.minutes(*t)
                    && !(1..=MAX_TARGET_MINS).contains(&m)
                {
                    errors.push(format!("targets.{p}.{t}_mins"), range.clone());
                }
            }
        }
        if self.remind_at_percent.len() > MAX_REMINDERS {
            errors.push(
                "remind_at_percent",
                format!("at most {MAX_REMINDERS} reminders"),
            );
        }
        for (i, p) in self.remind_at_percent.iter().enumerate() {
            if !(1..=99).contains(p) {
                errors.push(format!("remind_at_percent[{i}]"), "must be 1-99");
            } else if i > 0 && *p <= self.remind_at_percent[i - 1] {
                errors.push(
                    format!("remind_at_percent[{i}]"),
                    "must be greater than the one before it (ascending, no repeats)",
                );
            }
        }
        if let Some(m) = self.reassign_unaccepted_after_mins
            && !(1..=MAX_TARGET_MINS).contains(&m)
        {
            errors.push("reassign_unaccepted_after_mins", range);
        }
        errors.into_result()
    }

    /// Whether an order of this priority counts on 24×7.
    pub fn always_open(&self, priority: Priority) -> bool {
        self.emergency_always_open && priority == Priority::Emergency
    }
}

/// What kind of milestone came due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlaEventKind {
    /// `percent`% of the target has elapsed.
    Remind { percent: u8 },
    /// The target's time is up and it is not met.
    Breach,
    /// Nobody accepted the order in time: reassign it.
    Reassign,
}

/// A milestone whose time has come: `at` is when it was due (a sweep may see it later).
/// As JSON: `{"target": "accept", "kind": "remind", "percent": 80, "at": "…"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaEvent {
    pub target: SlaTarget,
    #[serde(flatten)]
    pub kind: SlaEventKind,
    pub at: DateTime<Utc>,
}

impl SlaEvent {
    /// "接单时限已过 80%", "处理时限已超时", "超时未接单，自动改派".
    pub fn label_zh(&self) -> String {
        match self.kind {
            SlaEventKind::Remind { percent } => {
                format!("{}已过 {percent}%", self.target.label_zh())
            }
            SlaEventKind::Breach => format!("{}已超时", self.target.label_zh()),
            SlaEventKind::Reassign => "超时未接单，自动改派".to_string(),
        }
    }

    /// "80% of the acceptance deadline has elapsed", "resolution deadline breached".
    pub fn label_en(&self) -> String {
        match self.kind {
            SlaEventKind::Remind { percent } => {
                format!("{percent}% of the {} has elapsed", self.target.label_en())
            }
            SlaEventKind::Breach => format!("{} breached", self.target.label_en()),
            SlaEventKind::Reassign => "not accepted in time: reassigned".to_string(),
        }
    }
}

/// One target's clock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetClock {
    /// When it (re)started: creation, or for accept the latest dispatch. `None`: not running (accept
    /// before the first dispatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// The target, in business minutes (`None`: this priority promises nothing here).
    pub minutes: Option<u32>,
    /// When the target's business time runs out (moved later by pauses).
    pub due_at: Option<DateTime<Utc>>,
    pub met_at: Option<DateTime<Utc>>,
    /// The target was missed: its breach fired, or it was met after its due instant.
    pub breached: bool,
    /// The breach milestone fired.
    pub breach_fired: bool,
    /// The reminder percents that fired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reminded: Vec<u8>,
    /// Accept only: when to reassign the order if nobody accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassign_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reassign_fired: bool,
}

impl TargetClock {
    fn started(from: DateTime<Utc>, minutes: Option<u32>, cal: &Calendar) -> TargetClock {
        TargetClock {
            from: Some(from),
            minutes,
            due_at: minutes.map(|m| cal.add(from, mins(m))),
            ..TargetClock::default()
        }
    }

    /// Started and not met.
    fn open(&self) -> bool {
        self.from.is_some() && self.met_at.is_none()
    }

    /// The instant of the reminder at `percent`: (100 − percent)% of the target remains from there.
    fn reminder_at(&self, cal: &Calendar, percent: u8) -> Option<DateTime<Utc>> {
        let (m, due) = (self.minutes?, self.due_at?);
        let left = TimeDelta::milliseconds(m as i64 * 600 * (100 - percent.min(100)) as i64);
        Some(cal.sub(due, left))
    }

    /// The earliest unfired milestone (reassignment not included).
    fn next_milestone(&self, policy: &SlaPolicy, cal: &Calendar) -> Option<DateTime<Utc>> {
        if !self.open() || self.breach_fired {
            return None;
        }
        let due = self.due_at?;
        // Reminder instants grow with the percent: the first unfired one is the earliest.
        let reminder = policy
            .remind_at_percent
            .iter()
            .find(|p| (1..100).contains(*p) && !self.reminded.contains(p))
            .and_then(|p| self.reminder_at(cal, *p));
        Some(reminder.map_or(due, |r| r.min(due)))
    }
}

/// An order's SLA clock, kept by the store (as JSON, with `due_at()` and `next_check_at()` as indexed
/// columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub priority: Priority,
    /// Counts on 24×7 whatever the calendar (an emergency under `emergency_always_open`).
    pub always_open: bool,
    /// When the order was created.
    pub started_at: DateTime<Utc>,
    /// Waiting for the customer since then: the clock stands still.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
    pub accept: TargetClock,
    pub first_feedback: TargetClock,
    pub resolve: TargetClock,
}

fn mins(m: u32) -> TimeDelta {
    TimeDelta::minutes(m as i64)
}

impl SlaClock {
    /// The clock of an order created at `created_at`: first feedback and resolve start counting; accept
    /// waits for the dispatch.
    pub fn start(
        policy: &SlaPolicy,
        priority: Priority,
        calendar: &Calendar,
        created_at: DateTime<Utc>,
    ) -> SlaClock {
        let always_open = policy.always_open(priority);
        let cal = pick(always_open, calendar);
        let targets = policy.targets.get(priority);
        SlaClock {
            priority,
            always_open,
            started_at: created_at,
            paused_at: None,
            accept: TargetClock {
                minutes: targets.accept_mins,
                ..TargetClock::default()
            },
            first_feedback: TargetClock::started(created_at, targets.first_feedback_mins, cal),
            resolve: TargetClock::started(created_at, targets.resolve_mins, cal),
        }
    }

    fn cal<'a>(&self, calendar: &'a Calendar) -> &'a Calendar {
        pick(self.always_open, calendar)
    }

    pub fn target(&self, target: SlaTarget) -> &TargetClock {
        match target {
            SlaTarget::Accept => &self.accept,
            SlaTarget::FirstFeedback => &self.first_feedback,
            SlaTarget::Resolve => &self.resolve,
        }
    }

    fn target_mut(&mut self, target: SlaTarget) -> &mut TargetClock {
        match target {
            SlaTarget::Accept => &mut self.accept,
            SlaTarget::FirstFeedback => &mut self.first_feedback,
            SlaTarget::Resolve => &mut self.resolve,
        }
    }

    /// The order was closed: nothing counts any more.
    pub fn is_done(&self) -> bool {
        self.resolve.met_at.is_some()
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Whether any target was missed.
    pub fn breached(&self) -> bool {
        SlaTarget::ALL.iter().any(|t| self.target(*t).breached)
    }

    /// The order was dispatched (or reassigned) at `now`: the accept clock (re)starts, with its
    /// reminders, breach and reassignment re-armed. A different `priority` than the clock's is applied
    /// first ([`SlaClock::reprioritize`]).
    pub fn dispatched(
        &mut self,
        policy: &SlaPolicy,
        priority: Priority,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) {
        if self.is_done() {
            return;
        }
        if priority != self.priority {
            self.reprioritize(policy, priority, calendar, now);
        }
        let cal = self.cal(calendar);
        let minutes = policy.targets.get(self.priority).accept_mins;
        self.accept = TargetClock {
            reassign_at: policy
                .reassign_unaccepted_after_mins
                .map(|m| cal.add(now, mins(m))),
            ..TargetClock::started(now, minutes, cal)
        };
    }

    /// The target was met at `now` (the first time counts). Met after its due instant, it is marked
    /// breached. Meeting resolve (closing the order) stops the clock.
    pub fn met(&mut self, target: SlaTarget, now: DateTime<Utc>) {
        let t = self.target_mut(target);
        if t.met_at.is_some() {
            return;
        }
        t.met_at = Some(now);
        if t.due_at.is_some_and(|due| now > due) {
            t.breached = true;
        }
        if target == SlaTarget::Resolve {
            self.paused_at = None;
        }
    }

    /// The order waits for the customer from `now`; a second pause is ignored.
    pub fn pause(&mut self, now: DateTime<Utc>) {
        if self.paused_at.is_none() && !self.is_done() {
            self.paused_at = Some(now);
        }
    }

    /// The order no longer waits: unmet deadlines move later by the working time that passed while
    /// paused (see the module documentation).
    pub fn resume(&mut self, calendar: &Calendar, now: DateTime<Utc>) {
        let Some(paused_at) = self.paused_at.take() else {
            return;
        };
        let now = now.max(paused_at);
        let cal = self.cal(calendar);
        for t in [
            &mut self.accept,
            &mut self.first_feedback,
            &mut self.resolve,
        ] {
            let Some(from) = t.from.filter(|_| t.met_at.is_none()) else {
                continue;
            };
            let base = paused_at.max(from);
            if base >= now {
                continue;
            }
            for at in [&mut t.due_at, &mut t.reassign_at].into_iter().flatten() {
                if *at > base {
                    *at = cal.add(now, cal.between(base, *at));
                }
            }
        }
    }

    /// The order's priority changed at `now`: each unmet target keeps the business time it has used
    /// and gets the new priority's target (see the module documentation).
    pub fn reprioritize(
        &mut self,
        policy: &SlaPolicy,
        priority: Priority,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) {
        let old = self.cal(calendar);
        self.priority = priority;
        self.always_open = policy.always_open(priority);
        let new = self.cal(calendar);
        if self.is_done() {
            return;
        }
        let reference = self.paused_at.unwrap_or(now);
        let targets = *policy.targets.get(priority);
        for target in SlaTarget::ALL {
            let minutes = targets.minutes(*target);
            let t = self.target_mut(*target);
            if t.from.is_none() || t.met_at.is_some() {
                t.minutes = minutes;
                continue;
            }
            let from = t.from.expect("started");
            let r = reference.max(from);
            let used = match (t.minutes, t.due_at) {
                (Some(m), Some(due)) => mins(m) - old.between(r, due) + old.between(due, r),
                _ => old.between(from, r),
            };
            t.minutes = minutes;
            t.due_at = minutes.map(|m| new.add(r, mins(m) - used));
            if let Some(at) = t.reassign_at
                && !std::ptr::eq(old, new)
                && let Some(m) = policy.reassign_unaccepted_after_mins
            {
                let used = mins(m) - old.between(r, at) + old.between(at, r);
                t.reassign_at = Some(new.add(r, mins(m) - used));
            }
            // Re-arm what now lies ahead (of the pause's start, while paused: a resume moves it).
            t.breach_fired &= t.due_at.is_some_and(|d| d <= reference);
            let reminded = std::mem::take(&mut t.reminded);
            t.reminded = reminded
                .into_iter()
                .filter(|p| t.reminder_at(new, *p).is_some_and(|at| at <= reference))
                .collect();
            t.reassign_fired &= t.reassign_at.is_some_and(|at| at <= reference);
        }
    }

    /// The milestones whose time has come at `now` and that have not fired, in the order they came
    /// due; they are marked fired. Nothing while paused or after closing.
    pub fn due_events(
        &mut self,
        policy: &SlaPolicy,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> Vec<SlaEvent> {
        let mut events = Vec::new();
        if self.paused_at.is_some() || self.is_done() {
            return events;
        }
        let cal = pick(self.always_open, calendar);
        for target in SlaTarget::ALL {
            let target = *target;
            let t = self.target_mut(target);
            if !t.open() {
                continue;
            }
            if let Some(due) = t.due_at
                && !t.breach_fired
            {
                if due <= now {
                    t.breach_fired = true;
                    t.breached = true;
                    events.push(SlaEvent {
                        target,
                        kind: SlaEventKind::Breach,
                        at: due,
                    });
                } else {
                    let mut latest = None;
                    for p in &policy.remind_at_percent {
                        if !(1..100).contains(p) || t.reminded.contains(p) {
                            continue;
                        }
                        match t.reminder_at(cal, *p) {
                            Some(at) if at <= now => latest = Some((*p, at)),
                            _ => break,
                        }
                    }
                    if let Some((percent, at)) = latest {
                        for p in &policy.remind_at_percent {
                            if *p <= percent && !t.reminded.contains(p) {
                                t.reminded.push(*p);
                            }
                        }
                        events.push(SlaEvent {
                            target,
                            kind: SlaEventKind::Remind { percent },
                            at,
                        });
                    }
                }
            }
            if let Some(at) = t.reassign_at
                && !t.reassign_fired
                && at <= now
            {
                t.reassign_fired = true;
                events.push(SlaEvent {
                    target,
                    kind: SlaEventKind::Reassign,
                    at,
                });
            }
        }
        events.sort_by_key(|e| e.at);
        events
    }

    /// The earliest instant at which [`SlaClock::due_events`] will have something to say: the next
    /// unfired milestone. `None` while paused, after closing, or when nothing is left to fire.
    pub fn next_check_at(&self, policy: &SlaPolicy, calendar: &Calendar) -> Option<DateTime<Utc>> {
        if self.paused_at.is_some() || self.is_done() {
            return None;
        }
        let cal = self.cal(calendar);
        let reassign = self
            .accept
            .reassign_at
            .filter(|_| self.accept.open() && !self.accept.reassign_fired);
        SlaTarget::ALL
            .iter()
            .filter_map(|t| self.target(*t).next_milestone(policy, cal))
            .chain(reassign)
            .min()
    }

    /// A target's due instant (also once met, to show whether it was met in time; `None` when there
    /// is no such target or it has not started).
    pub fn due(&self, target: SlaTarget) -> Option<DateTime<Utc>> {
        self.target(target).due_at
    }

    /// The earliest due instant of an unmet target: what the overdue list sorts and filters by.
    /// `None` while paused and after closing.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        if self.paused_at.is_some() || self.is_done() {
            return None;
        }
        SlaTarget::ALL
            .iter()
            .map(|t| self.target(*t))
            .filter(|t| t.open())
            .filter_map(|t| t.due_at)
            .min()
    }

    /// Whether an unmet target's due instant has come.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.due_at().is_some_and(|d| d <= now)
    }
}

fn pick(always_open: bool, calendar: &Calendar) -> &Calendar {
    if always_open {
        Calendar::twenty_four_seven()
    } else {
        calendar
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::china_demo_spec;
    use chrono::{FixedOffset, TimeZone};

    /// A local instant in UTC+8.
    fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn demo() -> Calendar {
        Calendar::parse(&china_demo_spec()).unwrap()
    }

    fn targets(accept: Option<u32>, feedback: Option<u32>, resolve: Option<u32>) -> SlaTargets {
        SlaTargets {
            accept_mins: accept,
            first_feedback_mins: feedback,
            resolve_mins: resolve,
        }
    }

    /// 特急 10 min to accept, 1 h to first feedback, 4 h to resolve (24×7); 普通 4 h to resolve; …
    fn policy() -> SlaPolicy {
        let policy = SlaPolicy {
            targets: PriorityTargets {
                emergency: targets(Some(10), Some(60), Some(240)),
                urgent: targets(Some(30), Some(120), Some(180)),
                normal: targets(Some(30), Some(120), Some(240)),
                low: targets(Some(240), None, Some(2400)),
            },
            emergency_always_open: true,
            remind_at_percent: vec![50, 80],
            escalate_on_breach: true,
            reassign_unaccepted_after_mins: Some(60),
        };
        policy.check().unwrap();
        policy
    }

    /// Only a resolve target of `mins` for normal orders, reminders at 50% and 80%.
    fn resolve_only(mins: u32) -> SlaPolicy {
        SlaPolicy {
            targets: PriorityTargets {
                normal: targets(None, None, Some(mins)),
                ..PriorityTargets::default()
            },
            remind_at_percent: vec![50, 80],
            ..SlaPolicy::default()
        }
    }

    fn kinds(events: &[SlaEvent]) -> Vec<(SlaTarget, SlaEventKind)> {
        events.iter().map(|e| (e.target, e.kind)).collect()
    }

    #[test]
    fn a_normal_fault_reported_on_friday_afternoon_is_due_on_monday() {
        let cal = demo();
        // Friday 2026-11-20 16:00: 1.5 h left on Friday, the rest from Monday 08:30.
        let c = SlaClock::start(&policy(), Priority::Normal, &cal, cn(2026, 11, 20, 16, 0));
        assert!(!c.always_open);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 11, 0)));
        assert_eq!(
            c.due(SlaTarget::FirstFeedback),
            Some(cn(2026, 11, 23, 9, 0))
        );
        assert_eq!(
            c.due(SlaTarget::Accept),
            None,
            "accept waits for the dispatch"
        );
        assert_eq!(c.due_at(), Some(cn(2026, 11, 23, 9, 0)));
        // Half an hour later, it is due half an hour later.
        let c = SlaClock::start(&policy(), Priority::Normal, &cal, cn(2026, 11, 20, 16, 30));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 11, 30)));
        // Six hours run through Monday's lunch break.
        let c = SlaClock::start(
            &resolve_only(360),
            Priority::Normal,
            &cal,
            cn(2026, 11, 20, 16, 0),
        );
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 14, 0)));
    }

    #[test]
    fn an_emergency_counts_around_the_clock_through_a_night_and_a_holiday() {
        let cal = demo();
        let policy = policy();
        // 22:00 on the eve of National Day.
        let created = cn(2026, 9, 30, 22, 0);
        let mut c = SlaClock::start(&policy, Priority::Emergency, &cal, created);
        assert!(c.always_open);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 10, 1, 2, 0)));
        assert_eq!(
            c.due(SlaTarget::FirstFeedback),
            Some(cn(2026, 9, 30, 23, 0))
        );
        c.dispatched(&policy, Priority::Emergency, &cal, cn(2026, 9, 30, 22, 5));
        assert_eq!(c.due(SlaTarget::Accept), Some(cn(2026, 9, 30, 22, 15)));
        assert_eq!(c.accept.reassign_at, Some(cn(2026, 9, 30, 23, 5)));
        // Its reminders come in the night too: 50% of 10 minutes after 22:05.
        assert_eq!(
            c.next_check_at(&policy, &cal),
            Some(cn(2026, 9, 30, 22, 10))
        );
        // Without 24×7 it would wait for the office to open on 8 October.
        let office = SlaPolicy {
            emergency_always_open: false,
            ..policy.clone()
        };
        let c = SlaClock::start(&office, Priority::Emergency, &cal, created);
        assert!(!c.always_open);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 10, 8, 13, 30)));
    }

    #[test]
    fn a_make_up_saturday_counts() {
        let cal = demo();
        // Friday 9 October 16:00 + 4 h: 1.5 h on Friday, 2.5 h on the make-up Saturday.
        let c = SlaClock::start(&policy(), Priority::Normal, &cal, cn(2026, 10, 9, 16, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 10, 10, 11, 0)));
    }

    #[test]
    fn reminders_fire_at_50_and_80_percent_once_each_and_the_breach_once() {
        let cal = demo();
        let policy = resolve_only(240);
        // Monday 08:30 + 4 h = 13:30 (lunch 12:00-13:00).
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 13, 30)));
        let mut sweep = |h, m| kinds(&c.due_events(&policy, &cal, cn(2026, 11, 23, h, m)));
        let remind = |percent| (SlaTarget::Resolve, SlaEventKind::Remind { percent });
        assert_eq!(sweep(10, 29), []);
        // 50%: 2 h used, 2 h left.
        assert_eq!(sweep(10, 30), [remind(50)]);
        assert_eq!(sweep(10, 30), []);
        assert_eq!(sweep(11, 0), []);
        // 80%: 48 min left = 30 min after lunch + 18 min before it.
        assert_eq!(sweep(11, 41), []);
        assert_eq!(sweep(11, 42), [remind(80)]);
        assert_eq!(sweep(12, 30), []);
        assert_eq!(sweep(13, 29), []);
        assert_eq!(sweep(13, 30), [(SlaTarget::Resolve, SlaEventKind::Breach)]);
        assert_eq!(sweep(13, 30), []);
        assert_eq!(sweep(17, 0), []);
        assert!(c.resolve.breached);
        assert!(c.overdue(cn(2026, 11, 23, 13, 30)));
        assert_eq!(c.next_check_at(&policy, &cal), None);
        // The events say when they were due, whenever the sweep ran.
        let mut late = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        let events = late.due_events(&policy, &cal, cn(2026, 11, 23, 12, 30));
        assert_eq!(
            events,
            [SlaEvent {
                target: SlaTarget::Resolve,
                kind: SlaEventKind::Remind { percent: 80 },
                at: cn(2026, 11, 23, 11, 42),
            }],
            "a late sweep sends only the highest reminder"
        );
        assert_eq!(late.resolve.reminded, [50, 80]);
        // A sweep after the due instant sends only the breach.
        let mut later = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        let events = later.due_events(&policy, &cal, cn(2026, 11, 24, 9, 0));
        assert_eq!(kinds(&events), [(SlaTarget::Resolve, SlaEventKind::Breach)]);
        assert_eq!(events[0].at, cn(2026, 11, 23, 13, 30));
    }

    #[test]
    fn a_reminder_due_at_closing_time_comes_at_the_next_opening() {
        let cal = demo();
        // Friday 13:30 + 8 h: due Monday 13:30; 50% (4 h) is used up at Friday's 17:30.
        let mut c = SlaClock::start(
            &resolve_only(480),
            Priority::Normal,
            &cal,
            cn(2026, 11, 20, 13, 30),
        );
        let policy = resolve_only(480);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 13, 30)));
        assert_eq!(
            c.next_check_at(&policy, &cal),
            Some(cn(2026, 11, 23, 8, 30))
        );
        assert_eq!(c.due_events(&policy, &cal, cn(2026, 11, 21, 10, 0)), []);
    }

    #[test]
    fn reassign_fires_only_when_nobody_accepts() {
        let cal = demo();
        let policy = policy();
        let created = cn(2026, 11, 23, 9, 0);
        let mut accepted = SlaClock::start(&policy, Priority::Normal, &cal, created);
        let mut ignored = accepted.clone();
        for c in [&mut accepted, &mut ignored] {
            c.dispatched(&policy, Priority::Normal, &cal, created);
        }
        assert_eq!(
            ignored.due(SlaTarget::Accept),
            Some(cn(2026, 11, 23, 9, 30))
        );
        accepted.met(SlaTarget::Accept, cn(2026, 11, 23, 9, 20));
        assert!(!accepted.accept.breached);
        let at = cn(2026, 11, 23, 10, 0);
        let got: Vec<_> = kinds(&accepted.due_events(&policy, &cal, at));
        assert!(!got.iter().any(|(t, _)| *t == SlaTarget::Accept), "{got:?}");
        let got = ignored.due_events(&policy, &cal, at);
        assert_eq!(
            kinds(&got),
            [
                (SlaTarget::Accept, SlaEventKind::Breach),
                (SlaTarget::Accept, SlaEventKind::Reassign),
                (
                    SlaTarget::FirstFeedback,
                    SlaEventKind::Remind { percent: 50 }
                ),
            ]
        );
        assert_eq!(got[1].at, cn(2026, 11, 23, 10, 0));
        assert_eq!(ignored.due_events(&policy, &cal, at), []);
        // The store reassigns: the accept clock starts again with everything re-armed.
        ignored.dispatched(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 10, 5));
        assert_eq!(
            ignored.due(SlaTarget::Accept),
            Some(cn(2026, 11, 23, 10, 35))
        );
        assert_eq!(ignored.accept.reassign_at, Some(cn(2026, 11, 23, 11, 5)));
        assert!(!ignored.accept.breached);
        let got = ignored.due_events(&policy, &cal, cn(2026, 11, 23, 10, 20));
        assert_eq!(
            kinds(&got),
            [(SlaTarget::Accept, SlaEventKind::Remind { percent: 50 })]
        );
        // Accepted in time now: no second reassignment.
        ignored.met(SlaTarget::Accept, cn(2026, 11, 23, 10, 30));
        let got = kinds(&ignored.due_events(&policy, &cal, cn(2026, 11, 23, 12, 0)));
        assert!(!got.iter().any(|(t, _)| *t == SlaTarget::Accept), "{got:?}");
    }

    #[test]
    fn a_pause_over_a_weekend_shifts_the_due_instant_by_business_time_only() {
        let cal = demo();
        let policy = resolve_only(240);
        // Friday 15:00 + 4 h = Monday 10:00.
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 20, 15, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 10, 0)));
        c.pause(cn(2026, 11, 20, 17, 0));
        assert!(c.is_paused());
        // While paused: nothing is due, nothing fires, nothing to check.
        assert_eq!(c.due_at(), None);
        assert!(!c.overdue(cn(2026, 11, 30, 0, 0)));
        assert_eq!(c.next_check_at(&policy, &cal), None);
        assert_eq!(c.due_events(&policy, &cal, cn(2026, 11, 30, 0, 0)), []);
        c.pause(cn(2026, 11, 21, 9, 0)); // a second pause changes nothing
        // Resumed at Monday's opening: only Friday's last half hour was lost.
        c.resume(&cal, cn(2026, 11, 23, 8, 30));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 10, 30)));
        assert_eq!(c.due_at(), Some(cn(2026, 11, 23, 10, 30)));
        c.resume(&cal, cn(2026, 11, 23, 9, 0)); // not paused: nothing happens
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 10, 30)));
    }

    #[test]
    fn a_pause_over_national_day_shifts_the_due_instant_by_business_time_only() {
        let cal = demo();
        let policy = resolve_only(480);
        // Wednesday 30 September 09:00 + 8 h: 7.5 h that day, then 8 October 09:00.
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 9, 30, 9, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 10, 8, 9, 0)));
        c.pause(cn(2026, 9, 30, 16, 0));
        // Back on 9 October at 14:00: 2 h remained when it paused (1.5 h + 0.5 h).
        c.resume(&cal, cn(2026, 10, 9, 14, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 10, 9, 16, 0)));
        // Reminders move with it: 80% = 96 min left.
        assert_eq!(
            c.resolve.reminder_at(&cal, 80),
            Some(cn(2026, 10, 9, 14, 24))
        );
    }

    #[test]
    fn resuming_after_a_pause_that_began_after_the_breach() {
        let cal = demo();
        let policy = resolve_only(240);
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        let due = cn(2026, 11, 23, 13, 30);
        let events = c.due_events(&policy, &cal, cn(2026, 11, 23, 14, 0));
        assert_eq!(kinds(&events), [(SlaTarget::Resolve, SlaEventKind::Breach)]);
        c.pause(cn(2026, 11, 23, 15, 0));
        c.resume(&cal, cn(2026, 11, 25, 10, 0));
        // Waiting does not undo a breach: the due instant stays, nothing fires again.
        assert_eq!(c.due(SlaTarget::Resolve), Some(due));
        assert!(c.overdue(cn(2026, 11, 25, 10, 0)));
        assert_eq!(c.due_events(&policy, &cal, cn(2026, 11, 25, 10, 0)), []);
        assert_eq!(c.next_check_at(&policy, &cal), None);

        // Paused after the due instant but before any sweep saw it: the breach still comes, dated
        // when it was due.
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        c.pause(cn(2026, 11, 23, 13, 45));
        c.resume(&cal, cn(2026, 11, 24, 9, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(due));
        assert_eq!(
            c.next_check_at(&policy, &cal),
            Some(cn(2026, 11, 23, 10, 30))
        );
        let events = c.due_events(&policy, &cal, cn(2026, 11, 24, 9, 0));
        assert_eq!(kinds(&events), [(SlaTarget::Resolve, SlaEventKind::Breach)]);
        assert_eq!(events[0].at, due);
    }

    #[test]
    fn a_dispatch_during_a_pause_counts_from_the_dispatch() {
        let cal = demo();
        let policy = policy();
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 8, 30));
        c.pause(cn(2026, 11, 23, 9, 0));
        c.dispatched(&policy, Priority::Normal, &cal, cn(2026, 11, 23, 10, 0));
        c.resume(&cal, cn(2026, 11, 23, 11, 0));
        // The accept clock started at 10:00 and lost the hour until the resume.
        assert_eq!(c.due(SlaTarget::Accept), Some(cn(2026, 11, 23, 11, 30)));
        assert_eq!(c.accept.reassign_at, Some(cn(2026, 11, 23, 12, 0)));
        // Resolve had 3.5 h left at 09:00: from 11:00 that is 15:30.
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 15, 30)));
    }

    #[test]
    fn sweeping_twice_is_idempotent() {
        let cal = demo();
        let policy = policy();
        let created = cn(2026, 11, 23, 9, 0);
        let mut c = SlaClock::start(&policy, Priority::Urgent, &cal, created);
        c.dispatched(&policy, Priority::Urgent, &cal, created);
        let now = cn(2026, 11, 23, 14, 0);
        let first = c.due_events(&policy, &cal, now);
        assert!(first.len() >= 3, "{first:?}");
        let after_first = c.clone();
        assert_eq!(c.due_events(&policy, &cal, now), []);
        assert_eq!(c, after_first, "a second sweep changes nothing");
        // Through JSON (as the store keeps it) too.
        let mut stored: SlaClock =
            serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(stored, c);
        assert_eq!(stored.due_events(&policy, &cal, now), []);
    }

    #[test]
    fn next_check_at_is_the_time_of_the_next_event() {
        let cal = demo();
        let policy = policy();
        for (priority, created) in [
            (Priority::Normal, cn(2026, 11, 20, 15, 10)),
            (Priority::Emergency, cn(2026, 9, 30, 23, 59)),
            (Priority::Urgent, cn(2026, 10, 9, 12, 30)),
            (Priority::Low, cn(2026, 2, 13, 16, 45)),
        ] {
            let mut c = SlaClock::start(&policy, priority, &cal, created);
            c.dispatched(&policy, priority, &cal, created + TimeDelta::minutes(7));
            let mut seen = Vec::new();
            while let Some(next) = c.next_check_at(&policy, &cal) {
                let before = next - TimeDelta::nanoseconds(1);
                assert_eq!(
                    c.due_events(&policy, &cal, before),
                    [],
                    "{priority} at {before}"
                );
                let events = c.due_events(&policy, &cal, next);
                assert!(!events.is_empty(), "{priority}: nothing at {next}");
                assert!(events.iter().all(|e| e.at == next), "{events:?}");
                seen.extend(events);
                assert!(seen.len() < 20);
            }
            let reminders = seen
                .iter()
                .filter(|e| matches!(e.kind, SlaEventKind::Remind { .. }))
                .count();
            let breaches = seen
                .iter()
                .filter(|e| e.kind == SlaEventKind::Breach)
                .count();
            let reassign = seen
                .iter()
                .filter(|e| e.kind == SlaEventKind::Reassign)
                .count();
            let with_targets = SlaTarget::ALL
                .iter()
                .filter(|t| policy.targets.get(priority).minutes(**t).is_some())
                .count();
            assert_eq!(reminders, 2 * with_targets, "{priority}: {seen:?}");
            assert_eq!(breaches, with_targets, "{priority}");
            assert_eq!(reassign, 1, "{priority}");
            assert!(seen.windows(2).all(|w| w[0].at <= w[1].at));
        }
    }

    #[test]
    fn meeting_targets_stops_their_milestones_and_closing_stops_the_clock() {
        let cal = demo();
        let policy = policy();
        let created = cn(2026, 11, 23, 9, 0);
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, created);
        c.dispatched(&policy, Priority::Normal, &cal, created);
        c.met(SlaTarget::Accept, cn(2026, 11, 23, 9, 40));
        assert!(c.accept.breached, "accepted 10 minutes late");
        c.met(SlaTarget::Accept, cn(2026, 11, 23, 9, 45));
        assert_eq!(
            c.accept.met_at,
            Some(cn(2026, 11, 23, 9, 40)),
            "the first time counts"
        );
        c.met(SlaTarget::FirstFeedback, cn(2026, 11, 23, 10, 0));
        assert!(!c.first_feedback.breached);
        assert_eq!(c.due_at(), c.due(SlaTarget::Resolve));
        assert_eq!(
            c.next_check_at(&policy, &cal),
            Some(cn(2026, 11, 23, 11, 0))
        );
        c.met(SlaTarget::Resolve, cn(2026, 11, 23, 11, 30));
        assert!(c.is_done());
        assert_eq!(c.due_at(), None);
        assert_eq!(c.next_check_at(&policy, &cal), None);
        assert_eq!(c.due_events(&policy, &cal, cn(2026, 12, 1, 0, 0)), []);
        assert!(c.breached());
        // Closing without feedback also stops the feedback target.
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, created);
        c.met(SlaTarget::Resolve, cn(2026, 11, 23, 9, 10));
        assert_eq!(c.next_check_at(&policy, &cal), None);
        assert!(!c.breached());
    }

    #[test]
    fn a_new_priority_keeps_the_time_used_and_gives_the_new_target() {
        let cal = demo();
        let policy = policy();
        let created = cn(2026, 11, 23, 8, 30);
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, created);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 13, 30)));
        let ten_thirty = cn(2026, 11, 23, 10, 30);
        let got = c.due_events(&policy, &cal, ten_thirty);
        assert_eq!(
            kinds(&got),
            [
                (SlaTarget::FirstFeedback, SlaEventKind::Breach),
                (SlaTarget::Resolve, SlaEventKind::Remind { percent: 50 }),
            ]
        );
        // 紧急: resolve in 3 h, 2 h used: due 11:30. The 50% reminder (now 10:00) stays fired.
        c.reprioritize(&policy, Priority::Urgent, &cal, ten_thirty);
        assert_eq!(c.priority, Priority::Urgent);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 23, 11, 30)));
        assert_eq!(c.resolve.reminded, [50]);
        // 低: resolve in 40 h, 2 h used: 38 h from Monday 10:30 (6 h + 3 × 8 h + 8 h) is Friday's
        // closing time.
        c.reprioritize(&policy, Priority::Low, &cal, ten_thirty);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 27, 17, 30)));
        // The 50% reminder (20 h in: Wednesday 13:30) is ahead again: re-armed. Low has no feedback
        // target.
        assert_eq!(c.resolve.reminded, Vec::<u8>::new());
        assert_eq!(c.due(SlaTarget::FirstFeedback), None);
        assert_eq!(
            c.next_check_at(&policy, &cal),
            Some(cn(2026, 11, 25, 13, 30))
        );
        // While paused, the time used is what was used when the pause began.
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, created);
        c.pause(ten_thirty);
        c.reprioritize(&policy, Priority::Urgent, &cal, cn(2026, 11, 23, 15, 0));
        assert_eq!(c.due_at(), None);
        c.resume(&cal, cn(2026, 11, 24, 9, 0));
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 24, 10, 0)));
        // 特急 at Friday 17:00 with 24×7: 4 h target, 2 h used, 2 h around the clock from 17:00.
        let friday = cn(2026, 11, 27, 17, 0);
        let mut c = SlaClock::start(&policy, Priority::Normal, &cal, cn(2026, 11, 27, 15, 0));
        c.reprioritize(&policy, Priority::Emergency, &cal, friday);
        assert!(c.always_open);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 27, 19, 0)));
        // And back: the 2 h used on Friday afternoon count, the evening (24×7) too.
        c.reprioritize(&policy, Priority::Normal, &cal, cn(2026, 11, 27, 18, 0));
        assert!(!c.always_open);
        assert_eq!(c.due(SlaTarget::Resolve), Some(cn(2026, 11, 30, 9, 30)));
    }

    #[test]
    fn policies_are_checked_with_the_field_named() {
        let mut p = policy();
        p.targets.normal.resolve_mins = Some(0);
        p.targets.emergency.accept_mins = Some(MAX_TARGET_MINS + 1);
        p.remind_at_percent = vec![50, 50, 100, 20, 30, 40];
        p.reassign_unaccepted_after_mins = Some(0);
        let fields: Vec<String> = p
            .check()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "targets.emergency.accept_mins",
                "targets.normal.resolve_mins",
                "remind_at_percent",
                "remind_at_percent[1]",
                "remind_at_percent[2]",
                "remind_at_percent[3]",
                "reassign_unaccepted_after_mins",
            ]
        );
        SlaPolicy::default().check().unwrap();
        // As administrators write it.
        let json = serde_json::json!({
            "targets": {
                "emergency": {"accept_mins": 10, "resolve_mins": 240},
                "normal": {"accept_mins": 60, "first_feedback_mins": 480, "resolve_mins": 1440}
            },
            "remind_at_percent": [50, 80],
            "escalate_on_breach": true,
            "reassign_unaccepted_after_mins": 30
        });
        let p: SlaPolicy = serde_json::from_value(json).unwrap();
        p.check().unwrap();
        assert!(p.emergency_always_open, "the default");
        assert_eq!(p.targets.get(Priority::Normal).resolve_mins, Some(1440));
        assert_eq!(p.targets.get(Priority::Low), &SlaTargets::default());
        let typo = serde_json::json!({"targets": {"normal": {"resolve_min": 60}}});
        assert!(serde_json::from_value::<SlaPolicy>(typo).is_err());
    }

    #[test]
    fn events_have_labels_and_a_flat_json_form() {
        let at = cn(2026, 11, 23, 11, 42);
        let remind = SlaEvent {
            target: SlaTarget::Accept,
            kind: SlaEventKind::Remind { percent: 80 },
            at,
        };
        assert_eq!(remind.label_zh(), "接单时限已过 80%");
        let breach = SlaEvent {
            target: SlaTarget::Resolve,
            kind: SlaEventKind::Breach,
            at,
        };
        assert_eq!(breach.label_zh(), "处理时限已超时");
        assert_eq!(breach.label_en(), "resolution deadline breached");
        let reassign = SlaEvent {
            target: SlaTarget::Accept,
            kind: SlaEventKind::Reassign,
            at,
        };
        assert_eq!(reassign.label_zh(), "超时未接单，自动改派");
        let json = serde_json::to_value(remind).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"target": "accept", "kind": "remind", "percent": 80, "at": "2026-11-23T03:42:00Z"})
        );
        assert_eq!(serde_json::from_value::<SlaEvent>(json).unwrap(), remind);
        let json = serde_json::to_value(breach).unwrap();
        assert_eq!(json["kind"], "breach");
        assert_eq!(serde_json::from_value::<SlaEvent>(json).unwrap(), breach);
        assert_eq!(SlaTarget::parse("处理时限").unwrap(), SlaTarget::Resolve);
        assert_eq!(
            SlaTarget::parse("first_feedback").unwrap(),
            SlaTarget::FirstFeedback
        );
    }
}
