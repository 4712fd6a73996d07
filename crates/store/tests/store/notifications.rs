//! The notification outbox, attachments and saved filters, on both backends (listed in `store.rs`).

use chrono::{TimeDelta, Utc};
use kefu_domain::*;
use kefu_store::*;

use super::{admin, audit_count, page};

async fn unit(store: &Store, code: &str, name: &str) -> Unit {
    store
        .create_unit(
            &admin(),
            NewUnit {
                code: code.into(),
                name: name.into(),
                kind: "branch_office".into(),
                parent_id: None,
                takes_queue_calls: false,
            },
        )
        .await
        .unwrap()
}

async fn person(store: &Store, unit: &Unit, name: &str, role: Role) -> User {
    store
        .create_user(
            &admin(),
            NewUser {
                username: Username::parse(name).unwrap(),
                display_name: name.to_uppercase(),
                password_hash: "$argon2id$fake".into(),
                role,
                unit_id: unit.id,
            },
        )
        .await
        .unwrap()
}

fn note(title: &str, recipients: Recipients) -> NewNotification {
    NewNotification {
        event: "work_order.dispatched".into(),
        work_order_id: None,
        recipients,
        title: title.into(),
        body: format!("{title}：请尽快处理"),
        payload: serde_json::json!({"no": "GD2611260001"}),
    }
}

async fn titles(store: &Store, u: &User) -> Vec<String> {
    store
        .notifications(u.id, false, page())
        .await
        .unwrap()
        .page
        .items
        .into_iter()
        .map(|n| n.title)
        .collect()
}

pub async fn notifications_fan_out_to_units_roles_and_heads(store: Store) {
    let cc = unit(&store, "CC", "客服中心").await;
    let bl = unit(&store, "BL", "北仑分理处").await;
    let empty = unit(&store, "ZH", "镇海分理处").await;
    let agent1 = person(&store, &cc, "agent1", Role::Agent).await;
    let agent2 = person(&store, &cc, "agent2", Role::Agent).await;
    let boss = person(&store, &cc, "boss", Role::Supervisor).await;
    let root = person(&store, &cc, "root", Role::Admin).await;
    let site1 = person(&store, &bl, "site1", Role::SiteStaff).await;
    let site2 = person(&store, &bl, "site2", Role::SiteStaff).await;
    let gone = person(&store, &bl, "gone", Role::SiteStaff).await;
    store
        .update_user(
            &admin(),
            gone.id,
            UserChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let audit = audit_count(&store).await;
    let t0 = Utc::now();

    // A unit: each of its active people, once.
    let n = store
        .notify_for_test(&note("派单", Recipients::Unit(bl.id)), t0)
        .await
        .unwrap();
    assert_eq!(n, 2);
    for u in [&site1, &site2] {
        assert_eq!(titles(&store, u).await, ["派单"]);
    }
    assert!(titles(&store, &gone).await.is_empty());
    assert!(titles(&store, &agent1).await.is_empty());
    let row = &store.notifications(site1.id, false, page()).await.unwrap();
    assert_eq!(row.unread, 1);
    let first = &row.page.items[0];
    assert_eq!(first.recipient_id, site1.id);
    assert_eq!(first.body, "派单：请尽快处理");
    assert_eq!(first.payload["no"], "GD2611260001");
    assert_eq!(first.read_at, None);
    assert_eq!(first.delivered_at, None);

    // A role: everyone active with it, whatever their unit.
    let t1 = t0 + TimeDelta::milliseconds(1);
    let n = store
        .notify_for_test(&note("升级", Recipients::Role(Role::Agent)), t1)
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(titles(&store, &agent1).await, ["升级"]);
    assert_eq!(titles(&store, &agent2).await, ["升级"]);

    // A unit's heads: its supervisors, or else the administrators.
    let t2 = t1 + TimeDelta::milliseconds(1);
    store
        .notify_for_test(&note("本单位", Recipients::UnitHeads(cc.id)), t2)
        .await
        .unwrap();
    assert_eq!(titles(&store, &boss).await, ["本单位"]);
    assert!(titles(&store, &root).await.is_empty());
    store
        .notify_for_test(&note("无班长", Recipients::UnitHeads(bl.id)), t2)
        .await
        .unwrap();
    assert_eq!(titles(&store, &root).await, ["无班长"]);
    assert_eq!(titles(&store, &boss).await, ["本单位"]);

    // Named people: once each, skipping the deactivated and the unknown; nobody at all writes nothing.
    let n = store
        .notify_for_test(
            &note(
                "点名",
                Recipients::Users(vec![agent1.id, agent1.id, gone.id, UserId::new()]),
            ),
            t2,
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(titles(&store, &agent1).await, ["点名", "升级"]);
    assert_eq!(
        store
            .notify_for_test(&note("空", Recipients::Unit(empty.id)), t2)
            .await
            .unwrap(),
        0
    );
    // Outbox rows are the reported change's; they add no audit entries of their own.
    assert_eq!(audit_count(&store).await, audit);

    // Read marks: one's own only; again changes nothing; all at once.
    let mine = store.notifications(agent1.id, false, page()).await.unwrap();
    assert_eq!((mine.page.total, mine.unread), (2, 2));
    let theirs = store.notifications(agent2.id, false, page()).await.unwrap();
    let err = store
        .mark_notification_read(agent1.id, theirs.page.items[0].id, Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let newest = mine.page.items[0].id;
    let at = Utc::now();
    store
        .mark_notification_read(agent1.id, newest, at)
        .await
        .unwrap();
    store
        .mark_notification_read(agent1.id, newest, at + TimeDelta::hours(1))
        .await
        .unwrap();
    let mine = store.notifications(agent1.id, false, page()).await.unwrap();
    assert_eq!(mine.unread, 1);
    let read_at = mine.page.items[0].read_at.unwrap();
    assert!(
        (read_at - at).abs() < TimeDelta::seconds(1),
        "{read_at} {at}"
    );
    let unread = store.notifications(agent1.id, true, page()).await.unwrap();
    assert_eq!(unread.page.total, 1);
    assert_eq!(unread.page.items[0].title, "升级");
    assert_eq!(
        store
            .mark_all_notifications_read(agent1.id, Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.unread_notifications(agent1.id).await.unwrap(), 0);
    assert_eq!(store.unread_notifications(agent2.id).await.unwrap(), 1);

    // What the live push reads: the rows of the people online, after a point, oldest first; pushing
    // marks them delivered once.
    let rows = store
        .web_notifications_after(
            &[site1.id, agent2.id],
            (
                t0 - TimeDelta::seconds(1),
                NotificationId(uuid::Uuid::nil()),
            ),
            100,
        )
        .await
        .unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|n| (n.title.as_str(), n.recipient_id))
        .collect();
    assert_eq!(got, [("派单", site1.id), ("升级", agent2.id)]);
    let after_first = store
        .web_notifications_after(
            &[site1.id, agent2.id],
            (rows[0].created_at, rows[0].id),
            100,
        )
        .await
        .unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].id, rows[1].id);
    let one = store
        .web_notifications_after(
            &[site1.id, agent2.id],
            (
                t0 - TimeDelta::seconds(1),
                NotificationId(uuid::Uuid::nil()),
            ),
            1,
        )
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, rows[0].id);
    let ids: Vec<_> = rows.iter().map(|n| n.id).collect();
    assert_eq!(
        store
            .mark_notifications_delivered(&ids, Utc::now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .mark_notifications_delivered(&ids, Utc::now())
            .await
            .unwrap(),
        0
    );
    let site_row = &store
        .notifications(site1.id, false, page())
        .await
        .unwrap()
        .page
        .items[0];
    assert!(site_row.delivered_at.is_some());
    assert_eq!(site_row.read_at, None);
}

pub async fn attachments_are_kept_whole_with_their_checksum(store: Store) {
    let cc = unit(&store, "CC", "客服中心").await;
    let agent = person(&store, &cc, "agent1", Role::Agent).await;
    let actor = Actor {
        user_id: Some(agent.id),
        name: "agent1".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    };
    let audit = audit_count(&store).await;
    // Every byte value, so nothing is lost to an encoding on either backend.
    let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let meta = store
        .create_attachment(
            &actor,
            NewAttachment {
                filename: "现场照片 <1>.jpg".into(),
                content_type: "image/jpeg".into(),
                sha256: "ab".repeat(32),
                content: content.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(meta.filename, "现场照片 <1>.jpg");
    assert_eq!(meta.size, 70_000);
    assert_eq!(meta.uploaded_by, Some(agent.id));
    assert_eq!(meta.work_order_id, None);
    assert_eq!(meta.order_unit_id, None);
    assert_eq!(store.attachment_meta(meta.id).await.unwrap(), meta);
    assert_eq!(store.attachment_content(meta.id).await.unwrap(), content);
    assert_eq!(store.attachment_count().await.unwrap(), 1);
    assert!(
        store
            .attachments_of(WorkOrderId::new())
            .await
            .unwrap()
            .is_empty()
    );
    // One audit entry, with the metadata and never the bytes.
    assert_eq!(audit_count(&store).await, audit + 1);
    let entry = store
        .audit_entries(
            &AuditQuery {
                action: Some("attachment.upload".into()),
                ..Default::default()
            },
            page(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(entry.entity_id, Some(meta.id.to_string()));
    assert_eq!(entry.actor_id, Some(agent.id.0));
    let after = entry.after.unwrap();
    assert_eq!(after["sha256"], "ab".repeat(32));
    assert!(after.get("content").is_none());
    let missing = AttachmentId::new();
    assert!(matches!(
        store.attachment_meta(missing).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.attachment_content(missing).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn saved_filters_belong_to_their_owner(store: Store) {
    let cc = unit(&store, "CC", "客服中心").await;
    let a = person(&store, &cc, "agent1", Role::Agent).await;
    let b = person(&store, &cc, "agent2", Role::Agent).await;
    let audit = audit_count(&store).await;
    let q = serde_json::json!({"status": "dispatched", "overdue": "true"});
    let f = store
        .create_saved_filter(&admin(), a.id, "我的超时".into(), q.clone())
        .await
        .unwrap();
    assert_eq!(f.query, q);
    assert_eq!(f.user_id, a.id);
    let dup = store
        .create_saved_filter(&admin(), a.id, "我的超时".into(), q.clone())
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    // The same name for another person is theirs.
    store
        .create_saved_filter(&admin(), b.id, "我的超时".into(), serde_json::json!({}))
        .await
        .unwrap();
    store
        .create_saved_filter(&admin(), a.id, "全部".into(), serde_json::json!({}))
        .await
        .unwrap();
    let names: Vec<_> = store
        .saved_filters(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["全部", "我的超时"]);
    let err = store
        .delete_saved_filter(&admin(), b.id, f.id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    store
        .delete_saved_filter(&admin(), a.id, f.id)
        .await
        .unwrap();
    assert_eq!(store.saved_filters(a.id).await.unwrap().len(), 1);
    assert_eq!(store.saved_filters(b.id).await.unwrap().len(), 1);
    // Three creations and a deletion, each audited; the refused ones are not.
    assert_eq!(audit_count(&store).await, audit + 4);
}
