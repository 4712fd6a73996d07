//! The review workflow as a pure state machine (docs/kb.md, "Workflow").
//!
//! ```text
//! draft ──submit──▶ in_review ──approve──▶ published ──archive──▶ archived
//!   ▲                  │                      │
//!   └──────reject──────┘                      │ edit: a new draft version; readers keep
//!   ▲                                         │ seeing published_version until it is approved
//!   └───────────────────edit──────────────────┘
//! ```
//!
//! Who: `kb.edit` edits and submits; `kb.approve` approves, rejects, archives and publishes directly
//! (from draft, in review or archived). Nobody approves or directly publishes a version they wrote
//! unless they are an administrator. Editing an article in review sends it back to draft (the version
//! under review changed). An archived article is not edited; an approver publishes it again instead.
//! Archiving is also open to drafts and articles in review, so an approver can retire one that
//! should never go out.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::ArticleStatus;

/// Longest reject comment, in characters.
pub const COMMENT_MAX: usize = 1000;

/// What someone asks the workflow to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Save a new version.
    Edit,
    /// Ask for review.
    Submit,
    /// Accept the version in review: it becomes the published version.
    Approve,
    /// Send the version in review back to its author, saying why.
    Reject { comment: String },
    /// Take a published article out of reach.
    Archive,
    /// Publish the latest version without review (approvers only).
    Publish,
}

impl Action {
    /// The action's name in the API's paths and in errors.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject { .. } => "reject",
            Action::Archive => "archive",
            Action::Publish => "publish",
        }
    }
}

/// What the workflow needs to know about who acts, on this article's latest version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actor {
    /// Holds `kb.edit`.
    pub can_edit: bool,
    /// Holds `kb.approve`.
    pub can_approve: bool,
    /// Is an administrator (may approve their own version).
    pub is_admin: bool,
    /// Wrote the latest version.
    pub is_author: bool,
}

/// An allowed step and what the store must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: ArticleStatus,
    pub to: ArticleStatus,
    /// The latest version becomes `published_version` (approve, publish).
    pub publishes: bool,
    /// The action saves a new version (edit).
    pub new_version: bool,
    /// The reviewer's comment (reject), trimmed.
    pub comment: Option<String>,
}

/// Why a step is refused. The API maps `Forbidden` and `OwnVersion` to 403, `NotAllowed` to 409 and
/// `Comment` to 422 on field `comment`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkflowError {
    #[error("需要 {permission} 权限才能{action}")]
    Forbidden {
        permission: &'static str,
        action: &'static str,
    },
    #[error("不能审核通过自己写的版本（管理员除外）")]
    OwnVersion,
    #[error("{}的文章不能{}", .from.label(), action_label(.action))]
    NotAllowed {
        from: ArticleStatus,
        action: &'static str,
    },
    #[error("{0}")]
    Comment(String),
}

fn action_label(action: &str) -> &'static str {
    match action {
        "edit" => "编辑",
        "submit" => "提交审核",
        "approve" => "审核通过",
        "reject" => "驳回",
        "archive" => "归档",
        "publish" => "直接发布",
        _ => "这样操作",
    }
}

/// Applies `action` by `actor` to an article in `status`. Checks, in order: the permission, whether
/// the step exists from this status, the own-version rule, the comment.
pub fn apply(
    status: ArticleStatus,
    action: &Action,
    actor: Actor,
) -> Result<Transition, WorkflowError> {
    use ArticleStatus::*;
    let name = action.as_str();
    let (needs_approve, allowed_from): (bool, &[ArticleStatus]) = match action {
        Action::Edit => (false, &[Draft, InReview, Published]),
        Action::Submit => (false, &[Draft]),
        Action::Approve | Action::Reject { .. } => (true, &[InReview]),
        Action::Archive => (true, &[Draft, InReview, Published]),
        Action::Publish => (true, &[Draft, InReview, Archived]),
    };
    let permitted = if needs_approve {
        actor.can_approve
    } else {
        actor.can_edit
    };
    if !permitted {
        return Err(WorkflowError::Forbidden {
            permission: if needs_approve {
                "kb.approve"
            } else {
                "kb.edit"
            },
            action: action_label(name),
        });
    }
    if !allowed_from.contains(&status) {
        return Err(WorkflowError::NotAllowed {
            from: status,
            action: name,
        });
    }
    let to = match action {
        Action::Edit | Action::Reject { .. } => Draft,
        Action::Submit => InReview,
        Action::Approve | Action::Publish => Published,
        Action::Archive => Archived,
    };
    let publishes = matches!(action, Action::Approve | Action::Publish);
    if publishes && actor.is_author && !actor.is_admin {
        return Err(WorkflowError::OwnVersion);
    }
    let comment = match action {
        Action::Reject { comment } => {
            let c = comment.trim();
            if c.is_empty() {
                return Err(WorkflowError::Comment("驳回时请写明原因".to_string()));
            }
            let len = c.chars().count();
            if len > COMMENT_MAX {
                return Err(WorkflowError::Comment(format!(
                    "驳回原因最多 {COMMENT_MAX} 个字符（现在 {len} 个）"
                )));
            }
            Some(c.to_string())
        }
        _ => None,
    };
    Ok(Transition {
        from: status,
        to,
        publishes,
        new_version: matches!(action, Action::Edit),
        comment,
    })
}

/// Whether readers (search, the portal, agents without `?latest=1`) see an article at all: it has a
/// published version and is not archived. A published article being edited (status draft or
/// in review) keeps serving its `published_version`.
pub fn serves_readers(status: ArticleStatus, has_published_version: bool) -> bool {
    has_published_version && status != ArticleStatus::Archived
}
