//! The knowledge base through HTTP (`docs/kb.md`): categories, the review workflow and search,
//! versions, ranking inputs, the no-result log, synonyms, archives, hostile input, what the public
//! may see, and the index across restarts — with the real index on disk plugged in.

use std::sync::Arc;

use kefu::kb::KbService;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

struct Kb {
    app: TestApp,
    dir: tempfile::TempDir,
    admin: String,
    supervisor: String,
    agent: String,
    auditor: String,
}

impl Kb {
    async fn spawn() -> Kb {
        let app = TestApp::spawn().await;
        let dir = tempfile::tempdir().unwrap();
        let (svc, report) = KbService::open(app.store.clone(), &dir.path().join("kb-index"))
            .await
            .unwrap();
        assert!(report.rebuilt, "a new index is built");
        app.state.set_kb(svc);
        let admin = app.login("admin").await;
        let supervisor = app.login("supervisor").await;
        let agent = app.login("agent").await;
        let auditor = app.login("auditor").await;
        Kb {
            app,
            dir,
            admin,
            supervisor,
            agent,
            auditor,
        }
    }

    async fn stop(self) {
        self.app.state.take_kb();
        self.app.stop().await;
        drop(self.dir);
    }

    async fn category(&self, name: &str, parent: Option<&str>) -> String {
        let r = self
            .app
            .send(
                &self.admin,
                Method::POST,
                "/api/v1/kb/categories",
                &json!({ "name": name, "parent_id": parent }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "category {name}");
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A draft by `token`.
    async fn draft(&self, token: &str, body: Value) -> Value {
        let r = self
            .app
            .send(token, Method::POST, "/api/v1/kb/articles", &body)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "create article");
        r.json().await.unwrap()
    }

    async fn step(&self, token: &str, id: &str, action: &str, body: Value) -> reqwest::Response {
        self.app
            .send(
                token,
                Method::POST,
                &format!("/api/v1/kb/articles/{id}/{action}"),
                &body,
            )
            .await
    }

    /// Created and published directly by the administrator.
    async fn published(&self, body: Value) -> String {
        let a = self.draft(&self.admin, body).await;
        let id = a["id"].as_str().unwrap().to_string();
        let r = self.step(&self.admin, &id, "publish", json!({})).await;
        assert_eq!(r.status(), StatusCode::OK, "publish");
        id
    }

    async fn search(&self, token: &str, q: &str) -> Value {
        self.app
            .get(token, &format!("/api/v1/kb/search?q={}", enc(q)))
            .await
    }

    async fn public(&self, path: &str) -> reqwest::Response {
        self.app.anon(Method::GET, path).send().await.unwrap()
    }
}

fn enc(s: &str) -> String {
    pct(s.as_bytes())
}

/// Percent-encodes every byte but ASCII letters and digits.
fn pct(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hit_ids(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn article(title: &str, category: &str, body: &str, visibility: &str) -> Value {
    json!({
        "title": title,
        "category_id": category,
        "body": body,
        "tags": ["燃气"],
        "visibility": visibility,
    })
}

#[tokio::test]
async fn kb_category_tree_moves_refuses_cycles_and_keeps_non_empty_ones() {
    let kb = Kb::spawn().await;
    let bottled = kb.category("瓶装液化气", None).await;
    let order = kb.category("订购与配送", Some(&bottled)).await;
    let deep = kb.category("夜间订气", Some(&order)).await;
    let safety = kb.category("安全", None).await;

    // Under its own descendant: 422 on parent_id, nothing changes.
    let before = kb.app.get(&kb.agent, "/api/v1/kb/categories").await;
    let audits = kb.app.audit_total().await;
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::PATCH,
            &format!("/api/v1/kb/categories/{bottled}"),
            &json!({ "parent_id": deep }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&p), ["parent_id"]);
    assert_eq!(kb.app.get(&kb.agent, "/api/v1/kb/categories").await, before);
    assert_eq!(kb.app.audit_total().await, audits);
    // A name taken among siblings, an empty name.
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::POST,
            "/api/v1/kb/categories",
            &json!({ "name": "安全" }),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["name"]
    );
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::POST,
            "/api/v1/kb/categories",
            &json!({ "name": " " }),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["name"]
    );

    // Move 订购与配送 (with its child) under 安全, first; the tree shows it there.
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::PATCH,
            &format!("/api/v1/kb/categories/{order}"),
            &json!({ "parent_id": safety, "position": 0 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tree: Value = r.json().await.unwrap();
    let safety_node = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == safety.as_str())
        .unwrap();
    assert_eq!(safety_node["children"][0]["name"], "订购与配送");
    assert_eq!(
        safety_node["children"][0]["children"][0]["name"],
        "夜间订气"
    );

    // Not empty: children, then an article.
    let r = kb
        .app
        .as_token(
            &kb.admin,
            Method::DELETE,
            &format!("/api/v1/kb/categories/{order}"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;
    kb.draft(
        &kb.agent,
        article("夜间订气说明", &deep, "晚上也能订。", "internal"),
    )
    .await;
    let r = kb
        .app
        .as_token(
            &kb.admin,
            Method::DELETE,
            &format!("/api/v1/kb/categories/{deep}"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;
    let tree = kb.app.get(&kb.agent, "/api/v1/kb/categories").await;
    assert!(tree.to_string().contains("\"article_count\":1"));
    // An empty one goes; agents may not manage categories.
    let r = kb
        .app
        .as_token(
            &kb.agent,
            Method::DELETE,
            &format!("/api/v1/kb/categories/{bottled}"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let r = kb
        .app
        .as_token(
            &kb.admin,
            Method::DELETE,
            &format!("/api/v1/kb/categories/{bottled}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    kb.stop().await;
}

#[tokio::test]
async fn kb_review_workflow_controls_what_search_finds_and_keeps_every_version() {
    let kb = Kb::spawn().await;
    let cat = kb.category("安全用气", None).await;
    let a = kb
        .draft(
            &kb.agent,
            json!({
                "title": "燃气泄漏应急处理",
                "category_id": cat,
                "body": "闻到燃气味：关闭阀门，开窗通风。\n不要开关电器。\n到室外拨打抢修电话。",
                "tags": ["泄漏", "抢修"],
                "visibility": "internal",
                "slug": "gas-leak",
            }),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(
        (a["status"].as_str(), a["version"].as_i64()),
        (Some("draft"), Some(1))
    );

    // A draft is not searchable, nor readable by a reader.
    assert_eq!(kb.search(&kb.agent, "泄漏").await["total"], 0);
    let r = kb
        .app
        .as_token(
            &kb.auditor,
            Method::GET,
            &format!("/api/v1/kb/articles/{id}"),
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;

    // Submit; the agent may not approve (permission), nor may a supervisor approve their own.
    let r = kb.step(&kb.agent, &id, "submit", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = kb.step(&kb.agent, &id, "approve", json!({})).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let own = kb
        .draft(
            &kb.supervisor,
            article("班长自己写的", &cat, "正文", "internal"),
        )
        .await;
    let own_id = own["id"].as_str().unwrap();
    assert_eq!(
        kb.step(&kb.supervisor, own_id, "submit", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let p = problem(
        kb.step(&kb.supervisor, own_id, "approve", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("自己"), "{p}");
    // The administrator may approve their own.
    let mine = kb
        .draft(
            &kb.admin,
            article("管理员自己写的", &cat, "正文", "internal"),
        )
        .await;
    let mine_id = mine["id"].as_str().unwrap();
    kb.step(&kb.admin, mine_id, "submit", json!({})).await;
    assert_eq!(
        kb.step(&kb.admin, mine_id, "approve", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    // Reject needs a comment; a second submit of an in-review article is a conflict.
    let p = problem(
        kb.step(&kb.supervisor, &id, "reject", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["comment"]);
    problem(
        kb.step(&kb.agent, &id, "submit", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;

    let r = kb.step(&kb.supervisor, &id, "approve", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    for q in ["泄漏", "燃气泄漏", "xielou", "rqxl", "抢修"] {
        let res = kb.search(&kb.agent, q).await;
        assert!(hit_ids(&res).contains(&id), "{q}: {res}");
    }
    let hit = &kb.search(&kb.agent, "泄漏").await["hits"][0];
    assert!(
        hit["title_html"].as_str().unwrap().contains("<mark>"),
        "{hit}"
    );
    let sugg = kb.app.get(&kb.agent, "/api/v1/kb/suggest?q=ranqi").await;
    assert!(sugg.to_string().contains(&id), "{sugg}");

    // An edit makes version 2 (a draft); readers and search keep version 1.
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::PATCH,
            &format!("/api/v1/kb/articles/{id}"),
            &json!({
                "expected_version": 1,
                "title": "燃气泄漏处置流程修订版",
                "body": "闻到燃气味：关闭阀门，开窗通风。\n到室外拨打抢修电话 96345。",
                "note": "补充电话号码",
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v2: Value = r.json().await.unwrap();
    assert_eq!(
        (v2["version"].as_i64(), v2["status"].as_str()),
        (Some(2), Some("draft"))
    );
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::PATCH,
            &format!("/api/v1/kb/articles/{id}"),
            &json!({ "expected_version": 1, "title": "晚到的修改" }),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let reader = kb
        .app
        .get(&kb.auditor, &format!("/api/v1/kb/articles/{id}"))
        .await;
    assert_eq!(
        (reader["version"].as_i64(), reader["title"].as_str()),
        (Some(1), Some("燃气泄漏应急处理"))
    );
    let latest = kb
        .app
        .get(
            &kb.agent,
            &format!("/api/v1/kb/articles/{id}?latest=1&count=0"),
        )
        .await;
    assert_eq!(latest["version"], 2);
    assert!(kb.search(&kb.agent, "修订版").await["total"] == 0);
    assert!(hit_ids(&kb.search(&kb.agent, "泄漏").await).contains(&id));

    // History and the line diff.
    let versions = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{id}/versions"))
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[1]["note"], "补充电话号码");
    let v1 = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{id}/versions/1"))
        .await;
    assert_eq!(v1["title"], "燃气泄漏应急处理");
    let diff = kb
        .app
        .get(
            &kb.agent,
            &format!("/api/v1/kb/articles/{id}/diff?from=1&to=2"),
        )
        .await;
    let ops: Vec<(String, String)> = diff["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["op"].as_str().unwrap().to_string(),
                l["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        ops.contains(&("delete".into(), "不要开关电器。".into())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("insert".into(), "到室外拨打抢修电话 96345。".into())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("equal".into(), "闻到燃气味：关闭阀门，开窗通风。".into())),
        "{ops:?}"
    );
    let r = kb
        .app
        .as_token(
            &kb.agent,
            Method::GET,
            &format!("/api/v1/kb/articles/{id}/diff?from=1&to=9"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["to"]
    );

    // Approved: search finds the new title.
    kb.step(&kb.agent, &id, "submit", json!({})).await;
    assert_eq!(
        kb.step(
            &kb.supervisor,
            &id,
            "approve",
            json!({ "expected_version": 2 })
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert!(hit_ids(&kb.search(&kb.agent, "修订版").await).contains(&id));

    // Restore version 1 as version 3 (a draft again).
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::POST,
            &format!("/api/v1/kb/articles/{id}/restore"),
            &json!({ "version": 1 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v3: Value = r.json().await.unwrap();
    assert_eq!(
        (v3["version"].as_i64(), v3["title"].as_str()),
        (Some(3), Some("燃气泄漏应急处理"))
    );

    // Archived: gone from search.
    assert_eq!(
        kb.step(&kb.supervisor, &id, "archive", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    assert!(!hit_ids(&kb.search(&kb.agent, "泄漏").await).contains(&id));
    kb.stop().await;
}

#[tokio::test]
async fn kb_favorites_views_clicks_votes_and_hot() {
    let kb = Kb::spawn().await;
    let cat = kb.category("缴费", None).await;
    let a = kb
        .published(article(
            "网上缴费步骤",
            &cat,
            "打开网上营业厅。",
            "internal",
        ))
        .await;
    let b = kb
        .published(article(
            "银行代扣办理",
            &cat,
            "带上身份证和银行卡。",
            "internal",
        ))
        .await;

    let r = kb
        .app
        .as_token(
            &kb.agent,
            Method::PUT,
            &format!("/api/v1/kb/articles/{a}/favorite"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let favs = kb.app.get(&kb.agent, "/api/v1/kb/favorites").await;
    assert_eq!(favs[0]["id"], a.as_str());
    assert!(
        kb.app
            .get(&kb.auditor, "/api/v1/kb/favorites")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Two views by the agent, one not counted; a click from search; votes.
    kb.app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{a}"))
        .await;
    kb.app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{a}?count=0"))
        .await;
    let seen = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{a}"))
        .await;
    assert_eq!(
        (seen["views"].as_u64(), seen["favorite"].as_bool()),
        (Some(2), Some(true))
    );
    kb.app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{b}"))
        .await;
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::POST,
            &format!("/api/v1/kb/articles/{a}/click"),
            &json!({ "q": "缴费" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let vote = |token: String, helpful: Value| {
        let kb = &kb;
        let a = a.clone();
        async move {
            let r = kb
                .app
                .send(
                    &token,
                    Method::POST,
                    &format!("/api/v1/kb/articles/{a}/vote"),
                    &json!({ "helpful": helpful }),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    vote(kb.agent.clone(), json!(false)).await;
    let v = vote(kb.agent.clone(), json!(true)).await;
    assert_eq!(
        (v["helpful"].as_u64(), v["unhelpful"].as_u64()),
        (Some(1), Some(0))
    );
    let v = vote(kb.auditor.clone(), json!(false)).await;
    assert_eq!(
        (v["helpful"].as_u64(), v["unhelpful"].as_u64()),
        (Some(1), Some(1))
    );
    let mine = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{a}?count=0"))
        .await;
    assert_eq!(mine["my_vote"], true);

    // Hot today: a = 2 views + 2 × 1 click + 3 × 1 helpful = 7; b = 1.
    let hot = kb.app.get(&kb.agent, "/api/v1/kb/hot?period=day").await;
    let scores: Vec<(String, u64)> = hot
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_string(),
                h["score"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(scores, [(a.clone(), 7), (b.clone(), 1)]);
    let r = kb
        .app
        .as_token(&kb.agent, Method::GET, "/api/v1/kb/hot?period=year")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["period"]
    );

    let r = kb
        .app
        .as_token(
            &kb.agent,
            Method::DELETE,
            &format!("/api/v1/kb/articles/{a}/favorite"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        kb.app
            .get(&kb.agent, "/api/v1/kb/favorites")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    kb.stop().await;
}

#[tokio::test]
async fn kb_searches_without_results_are_logged_and_synonyms_change_search() {
    let kb = Kb::spawn().await;
    let cat = kb.category("瓶装液化气", None).await;
    let id = kb
        .published(article(
            "液化气钢瓶检测周期",
            &cat,
            "钢瓶每四年检测一次。",
            "public",
        ))
        .await;

    assert_eq!(kb.search(&kb.agent, "壁挂炉点不着火").await["total"], 0);
    assert_eq!(kb.search(&kb.agent, "壁挂炉点不着火").await["total"], 0);
    let r = kb.public("/api/v1/public/kb/search?q=%E5%A3%81%E6%8C%82%E7%82%89%E7%82%B9%E4%B8%8D%E7%9D%80%E7%81%AB").await;
    assert_eq!(r.status(), StatusCode::OK);
    let log = kb.app.get(&kb.agent, "/api/v1/kb/no-results").await;
    assert_eq!(log[0]["query"], "壁挂炉点不着火");
    assert_eq!(log[0]["count"], 3);
    // A search that finds something is not logged.
    assert!(hit_ids(&kb.search(&kb.agent, "钢瓶").await).contains(&id));
    assert_eq!(
        kb.app
            .get(&kb.agent, "/api/v1/kb/no-results")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // 煤罐 finds nothing until it is a synonym of 钢瓶.
    assert_eq!(kb.search(&kb.agent, "煤罐").await["total"], 0);
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::PUT,
            "/api/v1/kb/synonyms",
            &json!([{ "words": ["煤罐", "钢瓶"] }]),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::PUT,
            "/api/v1/kb/synonyms",
            &json!([{ "words": ["煤罐"] }]),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = kb
        .app
        .send(
            &kb.admin,
            Method::PUT,
            "/api/v1/kb/synonyms",
            &json!([{ "words": ["煤罐", "钢瓶"] }]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        kb.app.get(&kb.agent, "/api/v1/kb/synonyms").await,
        json!([{ "words": ["煤罐", "钢瓶"] }])
    );
    assert!(hit_ids(&kb.search(&kb.agent, "煤罐").await).contains(&id));
    kb.stop().await;
}

fn sample_articles(cat: &str, sub: &str) -> Vec<Value> {
    vec![
        json!({
            "title": "瓶装液化气电话订购流程", "category_id": sub, "slug": "bottled-gas-phone-order",
            "body": "# 电话订气\n\n拨打 96345，报**户号**和地址。\n\n- 白天两小时送达\n- 夜间次日送达",
            "tags": ["瓶装气", "订气"], "visibility": "public", "valid_from": "2026-01-01",
        }),
        json!({
            "title": "钢瓶押金退还", "category_id": cat, "slug": "cylinder-deposit-refund",
            "body": "凭押金单到供应站办理。", "tags": ["押金"], "visibility": "internal",
        }),
        json!({
            "title": "夜间送气安排", "category_id": sub, "slug": "night-delivery",
            "body": "夜间 20 点后只接急单。", "tags": [], "visibility": "internal", "valid_to": "2099-12-31",
        }),
    ]
}

/// slug → (title, category path, tags, visibility, valid_from, valid_to, body), latest versions.
async fn contents(kb: &Kb) -> Vec<Value> {
    let list = kb
        .app
        .get(&kb.admin, "/api/v1/kb/articles?per_page=200")
        .await;
    let mut out = Vec::new();
    for a in list["items"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        let full = kb
            .app
            .get(
                &kb.admin,
                &format!("/api/v1/kb/articles/{id}?latest=1&count=0"),
            )
            .await;
        out.push(json!([
            full["slug"],
            full["title"],
            full["category_path"],
            full["tags"],
            full["visibility"],
            full["valid_from"],
            full["valid_to"],
            full["body"],
            full["status"],
        ]));
    }
    out.sort_by_key(|v| v[0].as_str().unwrap().to_string());
    out
}

async fn upload(kb: &Kb, token: &str, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    kb.app
        .as_token(token, Method::POST, path)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn kb_export_then_import_into_a_fresh_server_gives_the_same_articles() {
    let kb = Kb::spawn().await;
    let cat = kb.category("瓶装液化气", None).await;
    let sub = kb.category("订购与配送", Some(&cat)).await;
    for a in sample_articles(&cat, &sub) {
        kb.published(a).await;
    }
    kb.app
        .send(
            &kb.admin,
            Method::PUT,
            "/api/v1/kb/synonyms",
            &json!([{ "words": ["煤气", "燃气"] }]),
        )
        .await;
    let original = contents(&kb).await;
    assert_eq!(original.len(), 3);

    for (format, name) in [("markdown", "知识库.zip"), ("xlsx", "知识库.xlsx")] {
        let r = kb
            .app
            .as_token(
                &kb.admin,
                Method::GET,
                &format!("/api/v1/kb/export?format={format}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{format}");
        let bytes = r.bytes().await.unwrap().to_vec();

        let fresh = Kb::spawn().await;
        let r = upload(
            &fresh,
            &fresh.admin,
            "/api/v1/kb/import",
            name,
            bytes.clone(),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{format}: {}",
            r.text().await.unwrap()
        );
        assert_eq!(contents(&fresh).await, original, "{format}");
        assert_eq!(
            fresh.app.get(&fresh.agent, "/api/v1/kb/synonyms").await,
            json!([{ "words": ["煤气", "燃气"] }])
        );
        // Searchable at once, synonyms included.
        assert_eq!(fresh.search(&fresh.agent, "订购流程").await["total"], 1);
        // The same archive again: nothing changes.
        let r = upload(&fresh, &fresh.admin, "/api/v1/kb/import", name, bytes).await;
        let report: Value = r.json().await.unwrap();
        assert_eq!(
            (report["created"].as_u64(), report["unchanged"].as_u64()),
            (Some(0), Some(3))
        );
        fresh.stop().await;
    }
    kb.stop().await;
}

#[tokio::test]
async fn kb_import_with_a_bad_row_writes_nothing() {
    let kb = Kb::spawn().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("文章").unwrap();
    let header = [
        "slug",
        "标题",
        "分类",
        "标签",
        "可见范围",
        "生效日期",
        "失效日期",
        "正文",
    ];
    let good = [
        "good-one",
        "好的文章",
        "缴费",
        "缴费",
        "公开",
        "",
        "",
        "正文",
    ];
    let bad = [
        "Bad Slug!",
        "",
        "缴费",
        "",
        "secret",
        "2026-13-01",
        "",
        "正文",
    ];
    for (r, row) in [header, good, bad].iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let audits = kb.app.audit_total().await;
    let r = upload(&kb, &kb.admin, "/api/v1/kb/import", "导入.xlsx", bytes).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let f = fields(&p);
    assert!(f.len() >= 3, "{p}");
    assert!(
        f.iter().all(|f| f.contains(":3:")),
        "every error on row 3: {f:?}"
    );
    assert_eq!(kb.app.audit_total().await, audits);
    assert!(
        kb.app
            .get(&kb.admin, "/api/v1/kb/categories")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kb.app.get(&kb.admin, "/api/v1/kb/articles").await["total"],
        0
    );
    // Not an archive at all.
    let r = upload(
        &kb,
        &kb.admin,
        "/api/v1/kb/import",
        "a.txt",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["file"]
    );
    kb.stop().await;
}

#[tokio::test]
async fn kb_hostile_huge_and_odd_input_is_refused_or_harmless() {
    let kb = Kb::spawn().await;
    let cat = kb.category("测试", None).await;
    let hostile = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[点我](javascript:alert(3))\n\n<iframe src=\"https://example.com\"></iframe>\n\n<p style=\"color:red\" onclick=\"x()\">红字</p>";
    let id = kb
        .published(article("危险的正文", &cat, hostile, "public"))
        .await;
    let a = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{id}"))
        .await;
    let html = a["body_html"].as_str().unwrap().to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "style=",
        "onclick",
    ] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains("红字"));
    let public: Value = kb
        .public(&format!("/api/v1/public/kb/articles/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !public["body_html"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("<script")
    );

    // Bad fields: all named at once, nothing written.
    let audits = kb.app.audit_total().await;
    let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::POST,
            "/api/v1/kb/articles",
            &json!({ "title": "", "category_id": cat, "body": "x", "tags": tags, "visibility": "secret", "valid_from": "2026-02-30" }),
        )
        .await;
    let mut f = fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await);
    f.sort();
    assert_eq!(f, ["tags", "title", "valid_from", "visibility"]);
    // A body over 256 KiB.
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::POST,
            "/api/v1/kb/articles",
            &json!({ "title": "太长", "category_id": cat, "body": "长".repeat(100_000), "visibility": "internal" }),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["body"]
    );
    // An unknown category.
    let r = kb
        .app
        .send(
            &kb.agent,
            Method::POST,
            "/api/v1/kb/articles",
            &article("无分类", &uuid::Uuid::now_v7().to_string(), "x", "internal"),
        )
        .await;
    assert_eq!(
        fields(&problem(r, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["category_id"]
    );
    assert_eq!(kb.app.audit_total().await, audits);

    // Attachments: a small PDF is kept; 20 MiB + 1 byte is 413 on `file`.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let r = upload(
        &kb,
        &kb.agent,
        &format!("/api/v1/kb/articles/{id}/attachments"),
        "说明.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let att: Value = r.json().await.unwrap();
    let r = kb
        .app
        .as_token(
            &kb.auditor,
            Method::GET,
            &format!("/api/v1/kb/attachments/{}", att["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    let mut huge = b"%PDF-1.4\n".to_vec();
    huge.resize(20 * 1024 * 1024 + 1, b'0');
    let r = upload(
        &kb,
        &kb.agent,
        &format!("/api/v1/kb/articles/{id}/attachments"),
        "大.pdf",
        huge,
    )
    .await;
    assert_eq!(
        fields(&problem(r, StatusCode::PAYLOAD_TOO_LARGE).await),
        ["file"]
    );
    let seen = kb
        .app
        .get(&kb.agent, &format!("/api/v1/kb/articles/{id}?count=0"))
        .await;
    assert_eq!(seen["attachments"].as_array().unwrap().len(), 1);

    // Any query text: random bytes, 10 KB, query-language syntax, control characters.
    let mut seed: u32 = 7;
    let random: Vec<u8> = (0..300)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect();
    let random_q = pct(&random);
    let long_q = enc(&"燃气 gas ".repeat(1000));
    for q in [
        random_q,
        long_q,
        enc("title:(危险 AND \"x) OR *?~2 ^3"),
        enc("\u{0}\u{7}\r\n燃气"),
        "%FF%FE%00".to_string(),
    ] {
        for path in ["/api/v1/kb/search", "/api/v1/kb/suggest"] {
            let r = kb
                .app
                .as_token(&kb.agent, Method::GET, &format!("{path}?q={q}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path} {q}");
        }
        for path in ["/api/v1/public/kb/search", "/api/v1/public/kb/suggest"] {
            assert_eq!(
                kb.public(&format!("{path}?q={q}")).await.status(),
                StatusCode::OK,
                "{path} {q}"
            );
        }
    }
    // The logged no-result query is cut to 100 characters.
    for row in kb
        .app
        .get(&kb.agent, "/api/v1/kb/no-results")
        .await
        .as_array()
        .unwrap()
    {
        assert!(row["query"].as_str().unwrap().chars().count() <= 100);
    }
    kb.stop().await;
}

/// The permissions proof: an internal article (a unique word in its title and body), a public draft,
/// a public archived article and a public expired one never reach the public — not in hits,
/// suggestions, snippets, articles by id, nor in any count. Every public path is listed here, and
/// the route table's public KB routes must all be among them.
#[tokio::test]
async fn kb_internal_articles_never_reach_any_public_path() {
    const PUBLIC_PATHS: &[&str] = &[
        "/api/v1/public/kb/search",
        "/api/v1/public/kb/suggest",
        "/api/v1/public/kb/articles/{id}",
    ];
    let in_table: Vec<&str> = kefu_api::access::RULES
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v1/public/kb"))
        .map(|(_, p, _)| *p)
        .collect();
    assert_eq!(
        in_table, PUBLIC_PATHS,
        "every public KB path is checked below"
    );

    let kb = Kb::spawn().await;
    let cat = kb.category("燃气安全", None).await;
    let secret = "绝密暗号 zqxwsecret";
    let internal = kb
        .published(json!({
            "title": format!("燃气内部处置 {secret}"),
            "category_id": cat,
            "body": format!("燃气处置的内部口径：{secret}，不对外。"),
            "tags": ["燃气", "zqxwtag"],
            "visibility": "internal",
        }))
        .await;
    let public = kb
        .published(article(
            "燃气安全使用常识",
            &cat,
            "燃气使用后关闭阀门。",
            "public",
        ))
        .await;
    let draft = kb
        .draft(
            &kb.admin,
            article("燃气草稿 zqxwdraft", &cat, "zqxwdraft 燃气", "public"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let archived = kb
        .published(article(
            "燃气归档 zqxwarchived",
            &cat,
            "zqxwarchived 燃气",
            "public",
        ))
        .await;
    assert_eq!(
        kb.step(&kb.admin, &archived, "archive", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let expired = kb
        .published(json!({
            "title": "燃气过期通知 zqxwexpired", "category_id": cat, "body": "zqxwexpired 燃气",
            "tags": [], "visibility": "public", "valid_to": "2020-01-01",
        }))
        .await;
    let hidden = [
        internal.clone(),
        draft.clone(),
        archived.clone(),
        expired.clone(),
    ];
    let hidden_words = [
        "绝密暗号",
        "zqxwsecret",
        "zqxwtag",
        "zqxwdraft",
        "zqxwarchived",
        "zqxwexpired",
    ];

    // Staff find the internal one (so the checks below can fail).
    assert!(hit_ids(&kb.search(&kb.agent, "绝密暗号").await).contains(&internal));
    assert!(hit_ids(&kb.search(&kb.agent, "zqxwsecret").await).contains(&internal));

    let leaks = |body: &str| -> Vec<String> {
        hidden
            .iter()
            .map(String::as_str)
            .chain(hidden_words)
            .filter(|w| body.contains(w))
            .map(str::to_string)
            .collect()
    };
    // Search and suggest: the words of the hidden articles, their pinyin and initials, and a word
    // all of them share with the public one (whose count must be exactly the public one).
    let queries = [
        "绝密暗号",
        "绝密",
        "暗号",
        "zqxwsecret",
        "zqxw",
        "zqxwtag",
        "juemi",
        "anhao",
        "jmah",
        "jm",
        "zqxwdraft",
        "zqxwarchived",
        "zqxwexpired",
        "内部处置",
        "nbcz",
        "燃气",
        "ranqi",
        "rq",
        "燃",
    ];
    for q in queries {
        let r = kb
            .public(&format!("/api/v1/public/kb/search?q={}", enc(q)))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(leaks(&body).is_empty(), "public search {q}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let ids = hit_ids(&v);
        assert!(
            ids.iter().all(|id| *id == public),
            "public search {q}: {body}"
        );
        assert_eq!(
            v["total"].as_u64().unwrap() as usize,
            ids.len(),
            "public count {q}: {body}"
        );
        let r = kb
            .public(&format!(
                "/api/v1/public/kb/search?q={}&limit=1&offset=1",
                enc(q)
            ))
            .await;
        let v: Value = r.json().await.unwrap();
        assert!(
            v["total"].as_u64().unwrap() <= 1,
            "public count with paging {q}: {v}"
        );

        let r = kb
            .public(&format!("/api/v1/public/kb/suggest?q={}", enc(q)))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(leaks(&body).is_empty(), "public suggest {q}: {body}");
    }
    let shared: Value = kb
        .public(&format!("/api/v1/public/kb/search?q={}", enc("燃气")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hit_ids(&shared), vec![public.clone()]);
    // By id: the same 404 as an id that never existed.
    let missing = kb
        .public(&format!(
            "/api/v1/public/kb/articles/{}",
            uuid::Uuid::now_v7()
        ))
        .await;
    let missing = problem(missing, StatusCode::NOT_FOUND).await;
    for id in &hidden {
        let r = kb.public(&format!("/api/v1/public/kb/articles/{id}")).await;
        let p = problem(r, StatusCode::NOT_FOUND).await;
        assert_eq!(p, missing, "{id}");
    }
    let ok = kb
        .public(&format!("/api/v1/public/kb/articles/{public}"))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body = ok.text().await.unwrap();
    assert!(leaks(&body).is_empty(), "{body}");
    // The staff routes stay closed to anonymous callers.
    for path in [
        "/api/v1/kb/search?q=zqxwsecret",
        "/api/v1/kb/articles",
        &format!("/api/v1/kb/articles/{internal}"),
    ] {
        problem(kb.public(path).await, StatusCode::UNAUTHORIZED).await;
    }
    kb.stop().await;
}

#[tokio::test]
async fn kb_index_is_reused_when_current_and_rebuilt_when_deleted_or_stale() {
    let kb = Kb::spawn().await;
    let cat = kb.category("表具", None).await;
    let id = kb
        .published(article("燃气表读数方法", &cat, "看黑色数字。", "internal"))
        .await;
    kb.draft(&kb.agent, article("只是草稿", &cat, "草稿", "internal"))
        .await;
    let dir = kb.dir.path().join("kb-index");

    // "Restart": close the index, open it again over the same database.
    let reopen = |kb: &Kb| {
        let store = kb.app.store.clone();
        let dir = dir.clone();
        let state = kb.app.state.clone();
        async move {
            let old = state.take_kb();
            drop(old);
            // The index's writer is released when the last handle goes.
            let mut tries = 0;
            loop {
                match KbService::open(store.clone(), &dir).await {
                    Ok((svc, report)) => {
                        state.set_kb(svc as Arc<dyn kefu_api::kb::KbSearch>);
                        return report;
                    }
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("reopen: {e:#}"),
                }
            }
        }
    };
    let report = reopen(&kb).await;
    assert!(!report.rebuilt, "the stamp is equal: no rebuild");
    assert_eq!(report.articles, 1);
    assert!(hit_ids(&kb.search(&kb.agent, "读数").await).contains(&id));

    // Deleted: rebuilt with the same content.
    kb.app.state.take_kb();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    std::fs::remove_dir_all(&dir).unwrap();
    let report = reopen(&kb).await;
    assert!(report.rebuilt);
    assert_eq!(report.articles, 1);
    assert!(hit_ids(&kb.search(&kb.agent, "读数").await).contains(&id));

    // Stale: the database changed while the index was closed.
    kb.app.state.take_kb();
    let a = kb
        .app
        .store
        .kb_article(
            uuid::Uuid::parse_str(&id).unwrap(),
            kefu_store::KbView::Published,
        )
        .await
        .unwrap();
    kb.app
        .store
        .kb_transition(
            &kefu_store::Actor::system("test"),
            a.id,
            kefu_store::KbTransition {
                action: "archive".into(),
                from: "published".into(),
                to: "archived".into(),
                expected_version: None,
                publish: false,
                unpublish: true,
                comment: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let report = reopen(&kb).await;
    assert!(report.rebuilt);
    assert_eq!(report.articles, 0);
    assert_eq!(kb.search(&kb.agent, "读数").await["total"], 0);
    kb.stop().await;
}

#[tokio::test]
async fn kb_demo_seed_publishes_the_demo_kb_once_and_it_is_searchable() {
    let kb = Kb::spawn().await;
    let n = kefu::kb::seed_demo(&kb.app.store).await.unwrap();
    assert!(n >= 60, "{n} demo articles");
    assert_eq!(
        kefu::kb::seed_demo(&kb.app.store).await.unwrap(),
        0,
        "only when empty"
    );
    kb.app.state.kb().unwrap().changed(None).await.unwrap();
    let synonyms = kb.app.get(&kb.agent, "/api/v1/kb/synonyms").await;
    assert!(!synonyms.as_array().unwrap().is_empty());
    // Editors see every article; readers only those valid today (the demo has dated notices).
    let all = kb
        .app
        .get(&kb.admin, "/api/v1/kb/articles?per_page=200")
        .await;
    assert_eq!(all["total"].as_u64(), Some(n));
    let valid = kb
        .app
        .get(&kb.auditor, "/api/v1/kb/articles?per_page=200")
        .await;
    let valid = valid["total"].as_u64().unwrap();
    assert!(valid > 0 && valid <= n, "{valid} of {n}");
    let res = kb.search(&kb.agent, "燃气泄漏").await;
    assert!(res["total"].as_u64().unwrap() > 0, "{res}");
    kb.stop().await;
}
