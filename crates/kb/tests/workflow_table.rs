//! The review workflow, every status × action × kind of actor.

use expect_test::expect;
use kefu_kb::model::ArticleStatus;
use kefu_kb::workflow::{Action, Actor, WorkflowError, apply, serves_readers};

fn actions() -> Vec<Action> {
    vec![
        Action::Edit,
        Action::Submit,
        Action::Approve,
        Action::Reject {
            comment: "步骤三写错了".into(),
        },
        Action::Archive,
        Action::Publish,
    ]
}

/// Every combination of the four flags.
fn all_actors() -> Vec<Actor> {
    (0..16u8)
        .map(|bits| Actor {
            can_edit: bits & 1 != 0,
            can_approve: bits & 2 != 0,
            is_admin: bits & 4 != 0,
            is_author: bits & 8 != 0,
        })
        .collect()
}

fn cell(status: ArticleStatus, action: &Action, actor: Actor) -> String {
    match apply(status, action, actor) {
        Ok(t) => {
            assert_eq!(t.from, status);
            format!("{}{}", t.to.as_str(), if t.publishes { "*" } else { "" })
        }
        Err(WorkflowError::Forbidden { permission, .. }) => format!("403:{permission}"),
        Err(WorkflowError::OwnVersion) => "403:own".into(),
        Err(WorkflowError::NotAllowed { .. }) => "409".into(),
        Err(WorkflowError::Comment(_)) => "422".into(),
    }
}

/// The table the reviewer reads: rows are statuses, columns actions; `*` marks a step that makes the
/// latest version the published one.
fn table(actor: Actor) -> String {
    let mut out = String::new();
    for status in ArticleStatus::ALL {
        out.push_str(&format!("{:<10}", status.as_str()));
        for action in actions() {
            out.push_str(&format!(
                "{:>9}={:<14}",
                action.as_str(),
                cell(status, &action, actor)
            ));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

const EDITOR: Actor = Actor {
    can_edit: true,
    can_approve: false,
    is_admin: false,
    is_author: true,
};
const APPROVER: Actor = Actor {
    can_edit: true,
    can_approve: true,
    is_admin: false,
    is_author: false,
};
const APPROVER_AUTHOR: Actor = Actor {
    is_author: true,
    ..APPROVER
};
const ADMIN_AUTHOR: Actor = Actor {
    can_edit: true,
    can_approve: true,
    is_admin: true,
    is_author: true,
};
const READER: Actor = Actor {
    can_edit: false,
    can_approve: false,
    is_admin: false,
    is_author: false,
};

#[test]
fn editor_edits_and_submits_only() {
    expect![[r#"
        draft          edit=draft            submit=in_review       approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        in_review      edit=draft            submit=409             approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        published      edit=draft            submit=409             approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        archived       edit=409              submit=409             approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
    "#]]
    .assert_eq(&table(EDITOR));
}

#[test]
fn approver_reviews_someone_elses_version() {
    expect![[r#"
        draft          edit=draft            submit=in_review       approve=409              reject=409             archive=archived        publish=published*
        in_review      edit=draft            submit=409             approve=published*       reject=draft           archive=archived        publish=published*
        published      edit=draft            submit=409             approve=409              reject=409             archive=archived        publish=409
        archived       edit=409              submit=409             approve=409              reject=409             archive=409             publish=published*
    "#]]
    .assert_eq(&table(APPROVER));
}

#[test]
fn approver_may_not_approve_or_publish_their_own_version() {
    expect![[r#"
        draft          edit=draft            submit=in_review       approve=409              reject=409             archive=archived        publish=403:own
        in_review      edit=draft            submit=409             approve=403:own          reject=draft           archive=archived        publish=403:own
        published      edit=draft            submit=409             approve=409              reject=409             archive=archived        publish=409
        archived       edit=409              submit=409             approve=409              reject=409             archive=409             publish=403:own
    "#]]
    .assert_eq(&table(APPROVER_AUTHOR));
}

#[test]
fn administrator_may_approve_their_own_version() {
    expect![[r#"
        draft          edit=draft            submit=in_review       approve=409              reject=409             archive=archived        publish=published*
        in_review      edit=draft            submit=409             approve=published*       reject=draft           archive=archived        publish=published*
        published      edit=draft            submit=409             approve=409              reject=409             archive=archived        publish=409
        archived       edit=409              submit=409             approve=409              reject=409             archive=409             publish=published*
    "#]]
    .assert_eq(&table(ADMIN_AUTHOR));
}

#[test]
fn reader_does_nothing() {
    expect![[r#"
        draft          edit=403:kb.edit      submit=403:kb.edit     approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        in_review      edit=403:kb.edit      submit=403:kb.edit     approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        published      edit=403:kb.edit      submit=403:kb.edit     approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
        archived       edit=403:kb.edit      submit=403:kb.edit     approve=403:kb.approve   reject=403:kb.approve  archive=403:kb.approve  publish=403:kb.approve
    "#]]
    .assert_eq(&table(READER));
}

/// The rules of docs/kb.md, checked on all 16 actors × 4 statuses × 6 actions.
#[test]
fn rules_hold_for_every_actor() {
    for actor in all_actors() {
        for status in ArticleStatus::ALL {
            for action in actions() {
                let result = apply(status, &action, actor);
                let Ok(t) = result else { continue };
                match action {
                    Action::Edit | Action::Submit => assert!(actor.can_edit),
                    _ => assert!(actor.can_approve, "{action:?} needs kb.approve"),
                }
                if t.publishes {
                    assert_eq!(t.to, ArticleStatus::Published);
                    assert!(
                        !actor.is_author || actor.is_admin,
                        "an author published their own version: {actor:?} {status:?} {action:?}"
                    );
                }
                assert_eq!(t.new_version, action == Action::Edit);
                // Only approval or direct publication reaches `published`.
                if t.to == ArticleStatus::Published {
                    assert!(matches!(action, Action::Approve | Action::Publish));
                }
            }
        }
    }
}

#[test]
fn reject_needs_a_comment_and_keeps_it_trimmed() {
    let reject = |c: &str| Action::Reject { comment: c.into() };
    assert_eq!(
        apply(ArticleStatus::InReview, &reject("  "), APPROVER),
        Err(WorkflowError::Comment("驳回时请写明原因".into()))
    );
    assert!(matches!(
        apply(
            ArticleStatus::InReview,
            &reject(&"长".repeat(1001)),
            APPROVER
        ),
        Err(WorkflowError::Comment(_))
    ));
    let t = apply(ArticleStatus::InReview, &reject(" 电话号码有误 "), APPROVER).unwrap();
    assert_eq!(t.comment.as_deref(), Some("电话号码有误"));
    assert_eq!(t.to, ArticleStatus::Draft);
    assert!(!t.publishes);
}

#[test]
fn editing_a_published_article_keeps_serving_the_published_version() {
    let t = apply(ArticleStatus::Published, &Action::Edit, EDITOR).unwrap();
    assert_eq!(t.to, ArticleStatus::Draft);
    assert!(!t.publishes && t.new_version);
    assert!(serves_readers(t.to, true));
    assert!(serves_readers(ArticleStatus::InReview, true));
    assert!(!serves_readers(ArticleStatus::Draft, false));
    assert!(!serves_readers(ArticleStatus::Archived, true));
}

#[test]
fn errors_read_in_chinese() {
    let e = apply(ArticleStatus::Archived, &Action::Submit, EDITOR).unwrap_err();
    assert_eq!(e.to_string(), "已归档的文章不能提交审核");
    let e = apply(ArticleStatus::InReview, &Action::Approve, EDITOR).unwrap_err();
    assert_eq!(e.to_string(), "需要 kb.approve 权限才能审核通过");
    let e = apply(ArticleStatus::InReview, &Action::Approve, APPROVER_AUTHOR).unwrap_err();
    assert_eq!(e.to_string(), "不能审核通过自己写的版本（管理员除外）");
}
