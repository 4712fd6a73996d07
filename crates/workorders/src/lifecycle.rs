//! The life of a work order: statuses, the actions between them, and who may take each action.
//!
//! ```text
//! new ─dispatch→ dispatched ─accept→ accepted ─progress→ in_progress ⇄ waiting_customer (SLA paused)
//!  │                 ↑ reassign          └────────submit_feedback──────┘
//!  │                 │                                   ↓
//!  └──close──→ closed ←──close── feedback_submitted ─return→ in_progress (rework)
//!                │  └─callback→ callback_done ─archive→ archived
//!                └─archive (no callback required)→ archived
//! reopen: closed | callback_done → dispatched (or new when never dispatched)
//! cancel, merge: any open status → cancelled, merged
//! ```
//!
//! [`next`] is the only way to compute a new status; the store records every step on the timeline.

use kefu_domain::{FieldError, Role, keyword_enum};

keyword_enum!(
    /// Where a work order stands.
    Status {
        New = "new",
        Dispatched = "dispatched",
        Accepted = "accepted",
        InProgress = "in_progress",
        WaitingCustomer = "waiting_customer",
        FeedbackSubmitted = "feedback_submitted",
        Closed = "closed",
        CallbackDone = "callback_done",
        Archived = "archived",
        Cancelled = "cancelled",
        Merged = "merged",
    }
);

impl Status {
    fn from_chinese(s: &str) -> Option<Status> {
        Status::ALL.iter().copied().find(|v| v.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Status::New => "新建",
            Status::Dispatched => "已派单",
            Status::Accepted => "已接单",
            Status::InProgress => "处理中",
            Status::WaitingCustomer => "等待客户",
            Status::FeedbackSubmitted => "已反馈",
            Status::Closed => "已办结",
            Status::CallbackDone => "已回访",
            Status::Archived => "已归档",
            Status::Cancelled => "已撤销",
            Status::Merged => "已合并",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Dispatched => "Dispatched",
            Status::Accepted => "Accepted",
            Status::InProgress => "In progress",
            Status::WaitingCustomer => "Waiting for customer",
            Status::FeedbackSubmitted => "Feedback submitted",
            Status::Closed => "Closed",
            Status::CallbackDone => "Callback done",
            Status::Archived => "Archived",
            Status::Cancelled => "Cancelled",
            Status::Merged => "Merged",
        }
    }

    /// Work remains: SLA clocks run (or are paused), urging applies, it shows in "my open orders".
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::New
                | Status::Dispatched
                | Status::Accepted
                | Status::InProgress
                | Status::WaitingCustomer
                | Status::FeedbackSubmitted
        )
    }

    /// The SLA clock stands still: the order waits for the customer, not for us.
    pub fn pauses_sla(self) -> bool {
        self == Status::WaitingCustomer
    }

    /// The statuses in which a site holds the order (it shows in the site's inbox as to do).
    pub fn with_site(self) -> bool {
        matches!(
            self,
            Status::Dispatched | Status::Accepted | Status::InProgress | Status::WaitingCustomer
        )
    }
}

keyword_enum!(
    /// 特急 (gas leaks: 24×7, jumps every queue), 紧急, 普通, 低.
    Priority { Emergency = "emergency", Urgent = "urgent", Normal = "normal", Low = "low" }
);

impl Priority {
    fn from_chinese(s: &str) -> Option<Priority> {
        Priority::ALL.iter().copied().find(|v| v.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Priority::Emergency => "特急",
            Priority::Urgent => "紧急",
            Priority::Normal => "普通",
            Priority::Low => "低",
        }
    }

    /// 0 is the most urgent; lists sort by it.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Emergency => 0,
            Priority::Urgent => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

keyword_enum!(
    /// A step on a work order's timeline. Most move the order ([`next`]); `create`, `urge`, `comment`,
    /// `customer_query`, `remind` and `escalate` leave the status as it is.
    Action {
        Create = "create",
        Dispatch = "dispatch",
        Reassign = "reassign",
        Accept = "accept",
        Progress = "progress",
        WaitCustomer = "wait_customer",
        Resume = "resume",
        SubmitFeedback = "submit_feedback",
        ReturnForRework = "return",
        Close = "close",
        Callback = "callback",
        Archive = "archive",
        Reopen = "reopen",
        Cancel = "cancel",
        Merge = "merge",
        Urge = "urge",
        Comment = "comment",
        CustomerQuery = "customer_query",
        Remind = "remind",
        Escalate = "escalate",
        Update = "update",
    }
);

impl Action {
    fn from_chinese(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|v| v.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Action::Create => "创建",
            Action::Dispatch => "派单",
            Action::Reassign => "转派",
            Action::Accept => "接单",
            Action::Progress => "处理进展",
            Action::WaitCustomer => "等待客户",
            Action::Resume => "恢复处理",
            Action::SubmitFeedback => "提交反馈",
            Action::ReturnForRework => "退回重办",
            Action::Close => "办结",
            Action::Callback => "回访",
            Action::Archive => "归档",
            Action::Reopen => "重新打开",
            Action::Cancel => "撤销",
            Action::Merge => "合并",
            Action::Urge => "催办",
            Action::Comment => "备注",
            Action::CustomerQuery => "客户查询",
            Action::Remind => "到期提醒",
            Action::Escalate => "超时升级",
            Action::Update => "修改",
        }
    }
}

/// Who takes an action: a person with a role (and whether they belong to the unit the order is
/// assigned to), or kefu itself (the SLA sweep, the IVR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    pub role: Option<Role>,
    pub of_assigned_unit: bool,
}

impl Who {
    pub fn person(role: Role, of_assigned_unit: bool) -> Who {
        Who {
            role: Some(role),
            of_assigned_unit,
        }
    }

    pub fn system() -> Who {
        Who {
            role: None,
            of_assigned_unit: false,
        }
    }

    /// The call center's desk: agents, supervisors, administrators.
    fn desk(self) -> bool {
        matches!(
            self.role,
            Some(Role::Agent | Role::Supervisor | Role::Admin)
        )
    }

    /// Whoever holds the order: people of the assigned unit (not the auditor), and supervisors and
    /// administrators acting for them.
    fn holder(self) -> bool {
        match self.role {
            Some(Role::Supervisor | Role::Admin) => true,
            Some(Role::Auditor) | None => false,
            Some(_) => self.of_assigned_unit,
        }
    }

    fn is_system(self) -> bool {
        self.role.is_none()
    }
}

/// What the order is like, beyond its status, for the rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The type requires a callback (回访) before the order may be archived.
    pub callback_required: bool,
    /// The order has been dispatched to a unit at least once.
    pub has_unit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not apply to an order in this status (e.g. accepting a closed order).
    #[error("a work order that is {} (status {status}) cannot be given action {action}", status.label_en().to_lowercase())]
    NotNow { status: Status, action: Action },
    /// The action applies, but not by this caller.
    #[error("action {action} is not allowed for {who}")]
    NotYours { action: Action, who: String },
}

impl TransitionError {
    /// As a field error on `action` for an API's problem detail.
    pub fn to_field_error(&self) -> FieldError {
        FieldError::new("action", self.to_string())
    }
}

/// The status after `action`, or why not. Actions that keep the status return it unchanged.
pub fn next(
    status: Status,
    action: Action,
    who: Who,
    facts: Facts,
) -> Result<Status, TransitionError> {
    use Action as A;
    use Status as S;
    let not_now = || TransitionError::NotNow { status, action };
    let (to, allowed) = match action {
        A::Create => return Err(not_now()),
        A::Dispatch => ((status == S::New).then_some(S::Dispatched), who.desk()),
        A::Reassign => (
            matches!(
                status,
                S::Dispatched | S::Accepted | S::InProgress | S::WaitingCustomer
            )
            .then_some(S::Dispatched),
            who.desk() || who.is_system(),
        ),
        A::Accept => (
            (status == S::Dispatched).then_some(S::Accepted),
            who.holder(),
        ),
        A::Progress => (
            matches!(status, S::Accepted | S::InProgress).then_some(S::InProgress),
            who.holder(),
        ),
        A::WaitCustomer => (
            matches!(status, S::Accepted | S::InProgress).then_some(S::WaitingCustomer),
            who.holder() || who.desk(),
        ),
        A::Resume => (
            (status == S::WaitingCustomer).then_some(S::InProgress),
            who.holder() || who.desk(),
        ),
        A::SubmitFeedback => (
            matches!(status, S::Accepted | S::InProgress).then_some(S::FeedbackSubmitted),
            who.holder(),
        ),
        A::ReturnForRework => (
            (status == S::FeedbackSubmitted).then_some(S::InProgress),
            who.desk(),
        ),
        A::Close => (
            matches!(status, S::New | S::FeedbackSubmitted).then_some(S::Closed),
            who.desk(),
        ),
        A::Callback => ((status == S::Closed).then_some(S::CallbackDone), who.desk()),
        A::Archive => (
            (status == S::CallbackDone || (status == S::Closed && !facts.callback_required))
                .then_some(S::Archived),
            who.desk() || who.is_system(),
        ),
        A::Reopen => (
            matches!(status, S::Closed | S::CallbackDone).then_some(if facts.has_unit {
                S::Dispatched
            } else {
                S::New
            }),
            who.desk(),
        ),
        A::Cancel => (status.is_open().then_some(S::Cancelled), who.desk()),
        A::Merge => (status.is_open().then_some(S::Merged), who.desk()),
        A::Urge => (
            status.is_open().then_some(status),
            who.desk() || who.is_system(),
        ),
        A::Comment => (Some(status), who.desk() || who.holder()),
        A::Update => (status.is_open().then_some(status), who.desk()),
        A::CustomerQuery => (Some(status), who.desk() || who.is_system()),
        A::Remind => (status.is_open().then_some(status), who.is_system()),
        A::Escalate => (
            status.is_open().then_some(status),
            who.is_system() || matches!(who.role, Some(Role::Supervisor | Role::Admin)),
        ),
    };
    let to = to.ok_or_else(not_now)?;
    if !allowed {
        return Err(TransitionError::NotYours {
            action,
            who: match who.role {
                Some(r) if !who.of_assigned_unit && matches!(r, Role::SiteStaff | Role::Agent) => {
                    format!("{r} outside the assigned unit")
                }
                Some(r) => r.to_string(),
                None => "kefu itself".into(),
            },
        });
    }
    Ok(to)
}

/// The actions `who` may take on an order now, for the buttons a screen shows.
pub fn allowed_actions(status: Status, who: Who, facts: Facts) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|&a| {
            !matches!(
                a,
                Action::Create | Action::Remind | Action::CustomerQuery | Action::Escalate
            ) && next(status, a, who, facts).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    const FACTS: Facts = Facts {
        callback_required: true,
        has_unit: true,
    };

    fn agent() -> Who {
        Who::person(Role::Agent, false)
    }
    fn site() -> Who {
        Who::person(Role::SiteStaff, true)
    }

    #[test]
    fn the_whole_road_from_new_to_archived() {
        let mut s = Status::New;
        for (action, who, expected) in [
            (Action::Dispatch, agent(), Status::Dispatched),
            (Action::Accept, site(), Status::Accepted),
            (Action::Progress, site(), Status::InProgress),
            (Action::WaitCustomer, site(), Status::WaitingCustomer),
            (Action::Resume, site(), Status::InProgress),
            (Action::SubmitFeedback, site(), Status::FeedbackSubmitted),
            (Action::ReturnForRework, agent(), Status::InProgress),
            (Action::SubmitFeedback, site(), Status::FeedbackSubmitted),
            (Action::Close, agent(), Status::Closed),
            (Action::Callback, agent(), Status::CallbackDone),
            (Action::Archive, Who::system(), Status::Archived),
        ] {
            s = next(s, action, who, FACTS).unwrap_or_else(|e| panic!("{action}: {e}"));
            assert_eq!(s, expected, "{action}");
        }
    }

    #[test]
    fn illegal_transitions_are_refused() {
        for (status, action) in [
            (Status::Closed, Action::Accept),
            (Status::New, Action::Accept),
            (Status::New, Action::SubmitFeedback),
            (Status::Dispatched, Action::Close),
            (Status::Archived, Action::Reopen),
            (Status::Cancelled, Action::Urge),
            (Status::Closed, Action::Cancel),
            (Status::Closed, Action::Archive),
            (Status::Merged, Action::Dispatch),
        ] {
            assert_eq!(
                next(status, action, Who::person(Role::Admin, true), FACTS),
                Err(TransitionError::NotNow { status, action }),
                "{status} {action}"
            );
        }
    }

    #[test]
    fn only_the_assigned_unit_works_the_order() {
        let other_site = Who::person(Role::SiteStaff, false);
        assert!(matches!(
            next(Status::Dispatched, Action::Accept, other_site, FACTS),
            Err(TransitionError::NotYours { .. })
        ));
        assert!(next(Status::Dispatched, Action::Accept, site(), FACTS).is_ok());
        // Site staff cannot close, cancel or dispatch; the auditor can do nothing at all.
        for a in [
            Action::Close,
            Action::Cancel,
            Action::Reassign,
            Action::Urge,
        ] {
            let from = if a == Action::Close {
                Status::FeedbackSubmitted
            } else {
                Status::InProgress
            };
            assert!(next(from, a, site(), FACTS).is_err(), "{a}");
        }
        let auditor = Who::person(Role::Auditor, true);
        for s in Status::ALL {
            assert_eq!(allowed_actions(*s, auditor, FACTS), vec![], "{s}");
        }
        // The SLA sweep may reassign and remind, never close.
        assert!(next(Status::Dispatched, Action::Reassign, Who::system(), FACTS).is_ok());
        assert!(
            next(
                Status::FeedbackSubmitted,
                Action::Close,
                Who::system(),
                FACTS
            )
            .is_err()
        );
        assert!(next(Status::InProgress, Action::Remind, agent(), FACTS).is_err());
    }

    #[test]
    fn callback_and_reopen_depend_on_the_order() {
        let no_callback = Facts {
            callback_required: false,
            has_unit: false,
        };
        assert_eq!(
            next(Status::Closed, Action::Archive, agent(), no_callback),
            Ok(Status::Archived)
        );
        assert!(next(Status::Closed, Action::Archive, agent(), FACTS).is_err());
        assert_eq!(
            next(Status::Closed, Action::Reopen, agent(), no_callback),
            Ok(Status::New)
        );
        assert_eq!(
            next(Status::CallbackDone, Action::Reopen, agent(), FACTS),
            Ok(Status::Dispatched)
        );
        // Solved by the call center itself: closed straight from new.
        assert_eq!(
            next(Status::New, Action::Close, agent(), no_callback),
            Ok(Status::Closed)
        );
    }

    #[test]
    fn buttons_per_status() {
        let table: String = Status::ALL
            .iter()
            .map(|s| {
                let a = |who| {
                    allowed_actions(*s, who, FACTS)
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                format!("{s}\n  agent: {}\n  site:  {}\n", a(agent()), a(site()))
            })
            .collect();
        expect![[r#"
            new
              agent: dispatch close cancel merge urge comment update
              site:  comment
            dispatched
              agent: reassign cancel merge urge comment update
              site:  accept comment
            accepted
              agent: reassign wait_customer cancel merge urge comment update
              site:  progress wait_customer submit_feedback comment
            in_progress
              agent: reassign wait_customer cancel merge urge comment update
              site:  progress wait_customer submit_feedback comment
            waiting_customer
              agent: reassign resume cancel merge urge comment update
              site:  resume comment
            feedback_submitted
              agent: return close cancel merge urge comment update
              site:  comment
            closed
              agent: callback reopen comment
              site:  comment
            callback_done
              agent: archive reopen comment
              site:  comment
            archived
              agent: comment
              site:  comment
            cancelled
              agent: comment
              site:  comment
            merged
              agent: comment
              site:  comment
        "#]]
        .assert_eq(&table);
    }

    #[test]
    fn labels_read_in_chinese() {
        assert_eq!(Status::parse("已派单").unwrap(), Status::Dispatched);
        assert_eq!(Priority::parse("特急").unwrap(), Priority::Emergency);
        assert_eq!(Action::parse("催办").unwrap(), Action::Urge);
        assert!(Priority::Emergency.rank() < Priority::Low.rank());
    }
}
