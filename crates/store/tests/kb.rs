//! The knowledge base's persistence (`kb`): the category tree, articles with versions and workflow,
//! attachments, favorites, events and votes, hot articles, the no-result log, synonyms, the index
//! stamp and imports — on SQLite and on PostgreSQL alike.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use kefu_store::testing::TestDatabase;
use kefu_store::*;
use uuid::Uuid;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::run(kefu_store::Backend::Postgres, super::$name).await })*
        }
    };
}

on_both_backends!(
    kb_category_tree_moves_reorders_and_refuses_cycles,
    kb_category_with_articles_or_children_is_not_deleted,
    kb_articles_keep_every_version_and_refuse_stale_edits,
    kb_workflow_publishes_and_readers_keep_the_published_version,
    kb_list_filters_by_subtree_tag_status_visibility_and_validity,
    kb_attachments_favorites_votes_and_hot,
    kb_no_results_are_aggregated_in_their_period,
    kb_synonyms_and_the_index_stamp_follow_changes,
    kb_import_creates_updates_and_writes_nothing_on_error,
    kb_writes_do_not_fail_while_others_write,
);

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    test(store.clone()).await;
    store.close().await.unwrap();
    db.drop_now().await;
}

fn editor() -> Actor {
    Actor {
        user_id: None,
        name: "test-editor".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

fn fields_of(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn audit_count(store: &Store) -> u64 {
    store
        .audit_entries(
            &AuditQuery::default(),
            PageRequest {
                page: 1,
                per_page: 1,
            },
        )
        .await
        .unwrap()
        .total
}

fn content(title: &str, category: Uuid) -> KbContent {
    KbContent {
        title: title.into(),
        category_id: category,
        tags: vec!["燃气".into()],
        visibility: "internal".into(),
        valid_from: None,
        valid_to: None,
        body: format!("# {title}\n\n正文"),
    }
}

async fn draft(store: &Store, slug: &str, c: KbContent) -> KbArticle {
    store
        .kb_create_article(
            &editor(),
            NewKbArticle {
                slug: Some(slug.into()),
                content: c,
                note: None,
            },
            t0(),
        )
        .await
        .unwrap()
}

fn step(action: &str, from: &str, to: &str) -> KbTransition {
    KbTransition {
        action: action.into(),
        from: from.into(),
        to: to.into(),
        expected_version: None,
        publish: matches!(action, "approve" | "publish"),
        unpublish: action == "archive",
        comment: (action == "reject").then(|| "请补充步骤".to_string()),
    }
}

async fn publish(store: &Store, id: Uuid) -> KbArticle {
    store
        .kb_transition(&editor(), id, step("publish", "draft", "published"), t0())
        .await
        .unwrap()
}

fn latest() -> KbArticleQuery {
    KbArticleQuery::new(KbView::Latest)
}

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 200,
    }
}

async fn kb_category_tree_moves_reorders_and_refuses_cycles(store: Store) {
    let a = editor();
    let gas = store
        .kb_create_category(&a, "燃气", None, t0())
        .await
        .unwrap();
    let bottled = store
        .kb_create_category(&a, "瓶装液化气", None, t0())
        .await
        .unwrap();
    let order = store
        .kb_create_category(&a, "订购", Some(bottled.id), t0())
        .await
        .unwrap();
    let delivery = store
        .kb_create_category(&a, "配送", Some(order.id), t0())
        .await
        .unwrap();
    assert_eq!((gas.position, bottled.position), (0, 1));

    let e = store
        .kb_create_category(&a, "订购", Some(bottled.id), t0())
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["name"]);
    let e = store
        .kb_create_category(&a, "x", Some(Uuid::now_v7()), t0())
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["parent_id"]);

    // Under itself or a descendant: refused, nothing changes.
    let before = store.kb_categories().await.unwrap();
    for target in [bottled.id, order.id, delivery.id] {
        let e = store
            .kb_update_category(
                &a,
                bottled.id,
                KbCategoryChanges {
                    parent_id: Some(Some(target)),
                    ..Default::default()
                },
                t0(),
            )
            .await
            .unwrap_err();
        assert_eq!(fields_of(&e), ["parent_id"]);
    }
    assert_eq!(store.kb_categories().await.unwrap(), before);

    // Move 配送 to the roots, first; the others shift.
    let moved = store
        .kb_update_category(
            &a,
            delivery.id,
            KbCategoryChanges {
                parent_id: Some(None),
                position: Some(0),
                name: Some("配送服务".into()),
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!((moved.parent_id, moved.position), (None, 0));
    let roots: Vec<(String, i32)> = store
        .kb_categories()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| (c.name, c.position))
        .collect();
    assert_eq!(
        roots,
        [
            ("配送服务".to_string(), 0),
            ("燃气".to_string(), 1),
            ("瓶装液化气".to_string(), 2)
        ]
    );
    // Reorder: 配送服务 last.
    store
        .kb_update_category(
            &a,
            delivery.id,
            KbCategoryChanges {
                position: Some(9),
                ..Default::default()
            },
            t0(),
        )
        .await
        .unwrap();
    let roots: Vec<String> = store
        .kb_categories()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| c.name)
        .collect();
    assert_eq!(roots, ["燃气", "瓶装液化气", "配送服务"]);
}

async fn kb_category_with_articles_or_children_is_not_deleted(store: Store) {
    let a = editor();
    let root = store
        .kb_create_category(&a, "根", None, t0())
        .await
        .unwrap();
    let child = store
        .kb_create_category(&a, "子", Some(root.id), t0())
        .await
        .unwrap();
    let art = draft(&store, "one", content("一", child.id)).await;
    assert!(matches!(
        store.kb_delete_category(&a, root.id).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.kb_delete_category(&a, child.id).await,
        Err(StoreError::Conflict(_))
    ));
    let cats = store.kb_categories().await.unwrap();
    assert_eq!(
        cats.iter()
            .find(|c| c.id == child.id)
            .unwrap()
            .article_count,
        1
    );
    // The article moves to the root; the child is empty now.
    store
        .kb_update_article(&a, art.id, 1, None, content("一", root.id), None, t0())
        .await
        .unwrap();
    store.kb_delete_category(&a, child.id).await.unwrap();
    assert!(matches!(
        store.kb_delete_category(&a, child.id).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn kb_articles_keep_every_version_and_refuse_stale_edits(store: Store) {
    let a = editor();
    let c = store
        .kb_create_category(&a, "表具", None, t0())
        .await
        .unwrap();
    let art = draft(&store, "meter-reading", content("抄表说明", c.id)).await;
    assert_eq!((art.status.as_str(), art.current_version), ("draft", 1));
    assert_eq!(art.version_by_name, "test-editor");

    let e = store
        .kb_create_article(
            &a,
            NewKbArticle {
                slug: Some("meter-reading".into()),
                content: content("另一个", c.id),
                note: None,
            },
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["slug"]);
    let e = store
        .kb_create_article(
            &a,
            NewKbArticle {
                slug: None,
                content: content("无分类", Uuid::now_v7()),
                note: None,
            },
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["category_id"]);
    // No slug given: made from the id.
    let unnamed = store
        .kb_create_article(
            &a,
            NewKbArticle {
                slug: None,
                content: content("自动标识", c.id),
                note: None,
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(unnamed.slug, unnamed.id.simple().to_string());

    let audits = audit_count(&store).await;
    let mut second = content("抄表说明（修订）", c.id);
    second.body = "新的正文".into();
    let v2 = store
        .kb_update_article(
            &a,
            art.id,
            1,
            None,
            second.clone(),
            Some("改正文".into()),
            t0() + TimeDelta::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(v2.current_version, 2);
    assert_eq!(audit_count(&store).await, audits + 1);
    // Stale: someone edits version 1 again.
    let e = store
        .kb_update_article(&a, art.id, 1, None, content("旧", c.id), None, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(audit_count(&store).await, audits + 1);

    let versions = store.kb_versions(art.id).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].content.title, "抄表说明");
    assert_eq!(versions[1].note.as_deref(), Some("改正文"));
    assert_eq!(store.kb_version(art.id, 2).await.unwrap().content, second);

    let restored = store
        .kb_restore_version(&a, art.id, 1, t0() + TimeDelta::minutes(2))
        .await
        .unwrap();
    assert_eq!(restored.current_version, 3);
    assert_eq!(restored.content, versions[0].content);
    assert_eq!(
        store.kb_version(art.id, 3).await.unwrap().note.as_deref(),
        Some("恢复自版本 1")
    );
    let e = store
        .kb_restore_version(&a, art.id, 9, t0())
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["version"]);
    assert!(matches!(
        store.kb_versions(Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn kb_workflow_publishes_and_readers_keep_the_published_version(store: Store) {
    let a = editor();
    let c = store
        .kb_create_category(&a, "安全", None, t0())
        .await
        .unwrap();
    let art = draft(&store, "gas-leak", content("燃气泄漏怎么办", c.id)).await;
    assert!(matches!(
        store.kb_article(art.id, KbView::Published).await,
        Err(StoreError::NotFound(_))
    ));
    // A step decided on a stale status is a conflict.
    let e = store
        .kb_transition(&a, art.id, step("approve", "in_review", "published"), t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)));
    store
        .kb_transition(&a, art.id, step("submit", "draft", "in_review"), t0())
        .await
        .unwrap();
    let rejected = store
        .kb_transition(&a, art.id, step("reject", "in_review", "draft"), t0())
        .await
        .unwrap();
    assert_eq!(rejected.status, "draft");
    assert_eq!(rejected.reject_comment.as_deref(), Some("请补充步骤"));
    store
        .kb_transition(&a, art.id, step("submit", "draft", "in_review"), t0())
        .await
        .unwrap();
    let mut approve = step("approve", "in_review", "published");
    approve.expected_version = Some(2);
    assert!(matches!(
        store.kb_transition(&a, art.id, approve.clone(), t0()).await,
        Err(StoreError::Conflict(_))
    ));
    approve.expected_version = Some(1);
    let published = store
        .kb_transition(&a, art.id, approve, t0())
        .await
        .unwrap();
    assert_eq!(
        (published.status.as_str(), published.published_version),
        ("published", Some(1))
    );
    assert_eq!(published.reject_comment, None);

    // An edit makes a draft; readers still see version 1.
    store
        .kb_update_article(
            &a,
            art.id,
            1,
            None,
            content("燃气泄漏处置（新）", c.id),
            None,
            t0(),
        )
        .await
        .unwrap();
    let reader = store.kb_article(art.id, KbView::Published).await.unwrap();
    assert_eq!(
        (reader.version, reader.content.title.as_str()),
        (1, "燃气泄漏怎么办")
    );
    let editor_view = store.kb_article(art.id, KbView::Latest).await.unwrap();
    assert_eq!(
        (editor_view.status.as_str(), editor_view.version),
        ("draft", 2)
    );
    assert_eq!(store.kb_published_articles().await.unwrap().len(), 1);

    publish(&store, art.id).await;
    let reader = store.kb_article(art.id, KbView::Published).await.unwrap();
    assert_eq!(reader.content.title, "燃气泄漏处置（新）");
    let by_slug = store
        .kb_article_by_slug("gas-leak", KbView::Published)
        .await
        .unwrap();
    assert_eq!(by_slug.id, art.id);

    store
        .kb_transition(&a, art.id, step("archive", "published", "archived"), t0())
        .await
        .unwrap();
    assert!(matches!(
        store.kb_article(art.id, KbView::Published).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.kb_published_articles().await.unwrap().is_empty());
}

async fn kb_list_filters_by_subtree_tag_status_visibility_and_validity(store: Store) {
    let a = editor();
    let root = store
        .kb_create_category(&a, "业务", None, t0())
        .await
        .unwrap();
    let sub = store
        .kb_create_category(&a, "过户", Some(root.id), t0())
        .await
        .unwrap();
    let other = store
        .kb_create_category(&a, "其他", None, t0())
        .await
        .unwrap();
    let mut c1 = content("过户办理", sub.id);
    c1.tags = vec!["过户".into(), "100%_tag".into()];
    c1.visibility = "public".into();
    let one = draft(&store, "transfer", c1).await;
    let mut c2 = content("停气通知", other.id);
    c2.valid_to = Some(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    let two = draft(&store, "outage", c2).await;
    let three = draft(&store, "draft-only", content("草稿", root.id)).await;
    publish(&store, one.id).await;
    publish(&store, two.id).await;

    let ids = |p: Page<KbArticle>| {
        let mut v: Vec<String> = p.items.into_iter().map(|a| a.slug).collect();
        v.sort();
        v
    };
    let mut q = latest();
    q.category_id = Some(root.id);
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["draft-only", "transfer"]
    );
    let mut q = KbArticleQuery::new(KbView::Published);
    q.category_id = Some(root.id);
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["transfer"]
    );
    let mut q = latest();
    q.tag = Some("100%_tag".into());
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["transfer"]
    );
    q.tag = Some("100".into());
    assert!(ids(store.kb_articles(&q, all()).await.unwrap()).is_empty());
    let mut q = latest();
    q.status = Some("draft".into());
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["draft-only"]
    );
    let mut q = KbArticleQuery::new(KbView::Published);
    q.visibility = Some("public".into());
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["transfer"]
    );
    let mut q = KbArticleQuery::new(KbView::Published);
    q.valid_on = Some(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["transfer"]
    );
    q.valid_on = Some(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["outage", "transfer"]
    );
    let mut q = latest();
    q.ids = Some(vec![three.id, two.id]);
    assert_eq!(
        ids(store.kb_articles(&q, all()).await.unwrap()),
        ["draft-only", "outage"]
    );

    // Pagination: newest change first, the total counts all.
    let p = store
        .kb_articles(
            &latest(),
            PageRequest {
                page: 2,
                per_page: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((p.total, p.items.len()), (3, 1));
}

async fn kb_attachments_favorites_votes_and_hot(store: Store) {
    let a = editor();
    let c = store
        .kb_create_category(&a, "服务", None, t0())
        .await
        .unwrap();
    let one = draft(&store, "one", content("一", c.id)).await;
    let two = draft(&store, "two", content("二", c.id)).await;

    let meta = store
        .kb_add_attachment(
            &a,
            one.id,
            NewAttachment {
                filename: "流程.pdf".into(),
                content_type: "application/pdf".into(),
                sha256: "00".repeat(32),
                content: b"%PDF-1.4 test".to_vec(),
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(meta.size, 13);
    assert_eq!(
        store.kb_attachments(one.id).await.unwrap(),
        vec![meta.clone()]
    );
    let (m, bytes) = store.kb_attachment(meta.id).await.unwrap();
    assert_eq!((m, bytes.as_slice()), (meta.clone(), &b"%PDF-1.4 test"[..]));
    store.kb_delete_attachment(&a, meta.id).await.unwrap();
    assert!(store.kb_attachments(one.id).await.unwrap().is_empty());

    let (u1, u2) = (Uuid::now_v7(), Uuid::now_v7());
    store.kb_set_favorite(u1, one.id, true, t0()).await.unwrap();
    store.kb_set_favorite(u1, one.id, true, t0()).await.unwrap();
    store
        .kb_set_favorite(u1, two.id, true, t0() + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(store.kb_favorite_ids(u1).await.unwrap(), [two.id, one.id]);
    store
        .kb_set_favorite(u1, two.id, false, t0())
        .await
        .unwrap();
    assert_eq!(store.kb_favorite_ids(u1).await.unwrap(), [one.id]);
    assert!(store.kb_is_favorite(u1, one.id).await.unwrap());
    assert!(!store.kb_is_favorite(u2, one.id).await.unwrap());
    assert!(matches!(
        store.kb_set_favorite(u1, Uuid::now_v7(), true, t0()).await,
        Err(StoreError::NotFound(_))
    ));

    // Two: 3 views a week ago. One: a view and a click today, and a helpful vote (changed once).
    let week_ago = t0() - TimeDelta::days(6);
    for _ in 0..3 {
        store
            .kb_record_event(two.id, "view", Some(u1), None, week_ago)
            .await
            .unwrap();
    }
    store
        .kb_record_event(one.id, "view", Some(u1), None, t0())
        .await
        .unwrap();
    store
        .kb_record_event(one.id, "click", Some(u1), Some("燃气".into()), t0())
        .await
        .unwrap();
    assert!(matches!(
        store
            .kb_record_event(Uuid::now_v7(), "view", None, None, t0())
            .await,
        Err(StoreError::NotFound(_))
    ));
    store.kb_vote(u1, one.id, Some(false), t0()).await.unwrap();
    store.kb_vote(u1, one.id, Some(true), t0()).await.unwrap();
    store.kb_vote(u2, one.id, Some(false), t0()).await.unwrap();
    store
        .kb_vote(u2, two.id, Some(true), week_ago)
        .await
        .unwrap();
    store.kb_vote(u2, two.id, None, t0()).await.unwrap();
    assert_eq!(store.kb_my_vote(u1, one.id).await.unwrap(), Some(true));
    assert_eq!(store.kb_my_vote(u2, two.id).await.unwrap(), None);
    let counts = store.kb_counts().await.unwrap();
    assert_eq!(
        counts[&one.id],
        KbCounts {
            views: 1,
            clicks: 1,
            helpful: 1,
            unhelpful: 1
        }
    );
    assert_eq!(counts[&two.id].views, 3);
    assert_eq!(store.kb_counts_of(one.id).await.unwrap(), counts[&one.id]);

    // Today: one = 1 + 2 + 3 = 6; all time: one 6, two 3.
    let today = store
        .kb_hot(Some(t0() - TimeDelta::days(1)), 10)
        .await
        .unwrap();
    assert_eq!(
        today,
        [KbHot {
            article_id: one.id,
            score: 6
        }]
    );
    let ever = store.kb_hot(None, 10).await.unwrap();
    assert_eq!(
        ever.iter()
            .map(|h| (h.article_id, h.score))
            .collect::<Vec<_>>(),
        [(one.id, 6), (two.id, 3)]
    );
    assert_eq!(store.kb_hot(None, 1).await.unwrap().len(), 1);
}

async fn kb_no_results_are_aggregated_in_their_period(store: Store) {
    let u = Some(Uuid::now_v7());
    for (q, at) in [
        ("阶梯气价", t0()),
        ("阶梯气价", t0() + TimeDelta::hours(1)),
        ("壁挂炉", t0()),
        ("旧问题", t0() - TimeDelta::days(10)),
    ] {
        store.kb_log_no_result(q, "internal", u, at).await.unwrap();
    }
    let rows = store
        .kb_no_results(Some(t0() - TimeDelta::days(1)), None, 100)
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.query.as_str(), r.count))
            .collect::<Vec<_>>(),
        [("阶梯气价", 2), ("壁挂炉", 1)]
    );
    assert_eq!(rows[0].last_at, t0() + TimeDelta::hours(1));
    let rows = store.kb_no_results(None, Some(t0()), 100).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].query, "旧问题");
}

async fn kb_synonyms_and_the_index_stamp_follow_changes(store: Store) {
    let a = editor();
    assert_eq!(store.kb_synonyms().await.unwrap().version, 0);
    let s0 = store.kb_index_stamp().await.unwrap();
    assert_eq!(s0, store.kb_index_stamp().await.unwrap());
    let groups = vec![
        vec!["煤气".to_string(), "燃气".to_string()],
        vec!["户号".into(), "用户编号".into(), "用户号".into()],
    ];
    let s = store
        .kb_set_synonyms(&a, groups.clone(), t0())
        .await
        .unwrap();
    assert_eq!((s.groups.clone(), s.version), (groups.clone(), 1));
    assert_eq!(store.kb_synonyms().await.unwrap(), s);
    let s1 = store.kb_index_stamp().await.unwrap();
    assert_ne!(s0, s1);
    let s = store
        .kb_set_synonyms(&a, groups[..1].to_vec(), t0())
        .await
        .unwrap();
    assert_eq!(s.version, 2);

    let c = store
        .kb_create_category(&a, "价格", None, t0())
        .await
        .unwrap();
    let s2 = store.kb_index_stamp().await.unwrap();
    let art = draft(&store, "price", content("气价", c.id)).await;
    let s3 = store.kb_index_stamp().await.unwrap();
    assert_ne!(s2, s3);
    publish(&store, art.id).await;
    let s4 = store.kb_index_stamp().await.unwrap();
    assert!(s4.starts_with("articles=1;"), "{s4}");
    store
        .kb_update_category(
            &a,
            c.id,
            KbCategoryChanges {
                name: Some("气价".into()),
                ..Default::default()
            },
            t0() + TimeDelta::seconds(5),
        )
        .await
        .unwrap();
    assert_ne!(store.kb_index_stamp().await.unwrap(), s4);
}

fn item(slug: &str, path: &[&str], title: &str) -> KbImportArticle {
    KbImportArticle {
        slug: slug.into(),
        category_path: path.iter().map(|s| s.to_string()).collect(),
        title: title.into(),
        tags: vec!["导入".into()],
        visibility: "public".into(),
        valid_from: None,
        valid_to: None,
        body: format!("{title}的正文"),
    }
}

async fn kb_import_creates_updates_and_writes_nothing_on_error(store: Store) {
    let a = editor();
    assert!(store.kb_is_empty().await.unwrap());
    let report = store
        .kb_import(
            &a,
            vec![
                item("order", &["瓶装液化气", "订购与配送"], "电话订气"),
                item("safety", &["瓶装液化气", "安全"], "钢瓶安全"),
                item("bill", &["缴费"], "缴费方式"),
            ],
            Some(vec![vec!["煤气".into(), "燃气".into()]]),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        report,
        KbImportReport {
            created: 3,
            updated: 0,
            unchanged: 0,
            categories_created: 4
        }
    );
    assert!(!store.kb_is_empty().await.unwrap());
    assert_eq!(store.kb_published_articles().await.unwrap().len(), 3);
    assert_eq!(store.kb_synonyms().await.unwrap().version, 1);

    // Again, with one changed: one new version, the rest unchanged.
    let mut changed = item("bill", &["缴费"], "缴费方式");
    changed.body = "新的缴费说明".into();
    let report = store
        .kb_import(
            &a,
            vec![
                item("order", &["瓶装液化气", "订购与配送"], "电话订气"),
                changed,
            ],
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.categories_created
        ),
        (0, 1, 1, 0)
    );
    let bill = store
        .kb_article_by_slug("bill", KbView::Published)
        .await
        .unwrap();
    assert_eq!(
        (bill.version, bill.content.body.as_str()),
        (2, "新的缴费说明")
    );

    // A duplicate slug: nothing of the import is written.
    let before = (
        store.kb_categories().await.unwrap().len(),
        audit_count(&store).await,
    );
    let e = store
        .kb_import(
            &a,
            vec![
                item("new-one", &["新分类"], "新文章"),
                item("dup", &["缴费"], "甲"),
                item("dup", &["缴费"], "乙"),
            ],
            None,
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(&e), ["[3].slug"]);
    assert_eq!(
        (
            store.kb_categories().await.unwrap().len(),
            audit_count(&store).await
        ),
        before
    );
    assert!(matches!(
        store.kb_article_by_slug("new-one", KbView::Latest).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Regression (the SQLite pitfall of `docs`): a transaction that reads before it writes must not
/// fail with "database is locked" while other connections write.
async fn kb_writes_do_not_fail_while_others_write(store: Store) {
    let a = editor();
    let c = store
        .kb_create_category(&a, "并发", None, t0())
        .await
        .unwrap();
    let art = draft(&store, "busy", content("并发", c.id)).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let cat = c.id;
        tasks.push(tokio::spawn(async move {
            let a = editor();
            for j in 0..5 {
                store
                    .kb_create_category(&a, &format!("子{i}-{j}"), Some(cat), t0())
                    .await
                    .unwrap();
                store
                    .kb_vote(Uuid::now_v7(), art.id, Some(true), t0())
                    .await
                    .unwrap();
                store
                    .kb_set_favorite(Uuid::now_v7(), art.id, true, t0())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.kb_counts_of(art.id).await.unwrap().helpful, 40);
    assert_eq!(store.kb_categories().await.unwrap().len(), 41);
}
