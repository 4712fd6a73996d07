//! Admins' prompt recordings and custom prompts, on SQLite and on PostgreSQL alike.

use std::path::Path;

use kefu_store::testing::TestDatabase;
use kefu_store::*;

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
    a_recording_replaces_a_system_prompt_until_deleted,
    custom_prompts_have_text_then_audio,
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

fn admin() -> Actor {
    Actor {
        user_id: None,
        name: "test-admin".into(),
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

async fn audit_actions(store: &Store) -> Vec<String> {
    let mut a: Vec<String> = store
        .audit_entries(
            &AuditQuery {
                entity_type: Some("ivr_prompt".into()),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                per_page: 100,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.entity_id.unwrap_or_default()))
        .collect();
    a.sort();
    a
}

fn recording(bytes: &[u8]) -> PromptRecording {
    PromptRecording {
        wav: bytes.to_vec(),
        seconds: 1.5,
        source_name: Some("goodbye.mp3".into()),
    }
}

async fn a_recording_replaces_a_system_prompt_until_deleted(store: Store) {
    assert!(store.list_ivr_prompts(None).await.unwrap().is_empty());
    let p = store
        .set_ivr_prompt_audio(&admin(), "goodbye", "zh-CN", recording(b"RIFF one"))
        .await
        .unwrap();
    assert_eq!(
        (
            p.key.as_str(),
            p.language.as_str(),
            p.text.as_str(),
            p.has_audio,
            p.seconds
        ),
        ("goodbye", "zh-CN", "感谢您的来电，再见。", true, Some(1.5))
    );
    let first_sha = p.sha256.clone().unwrap();
    assert_eq!(first_sha.len(), 64);
    // A second upload replaces the first: one row, a new hash.
    let p2 = store
        .set_ivr_prompt_audio(&admin(), "goodbye", "zh-CN", recording(b"RIFF two"))
        .await
        .unwrap();
    assert_eq!(p2.id, p.id);
    assert_ne!(p2.sha256.as_deref(), Some(first_sha.as_str()));
    assert_eq!(
        store.ivr_prompt_wav("goodbye", "zh-CN").await.unwrap(),
        Some(b"RIFF two".to_vec())
    );
    assert_eq!(store.ivr_prompt_wav("goodbye", "en").await.unwrap(), None);
    let listed = store.list_ivr_prompts(Some("zh-CN")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].has_audio);
    assert!(store.list_ivr_prompts(Some("en")).await.unwrap().is_empty());
    let recs = store.ivr_prompt_recordings().await.unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].3, b"RIFF two".to_vec());
    let path = custom_prompt_path(Path::new("/p"), "zh-CN", "goodbye", &recs[0].2);
    assert_eq!(
        path,
        Path::new(&format!("/p/custom/zh-CN/goodbye.{}.wav", &recs[0].2[..16]))
    );

    // Deleting goes back to the system prompt: no row.
    let sha = store
        .delete_ivr_prompt_audio(&admin(), "goodbye", "zh-CN")
        .await
        .unwrap();
    assert_eq!(Some(sha), p2.sha256);
    assert!(store.list_ivr_prompts(None).await.unwrap().is_empty());
    assert!(matches!(
        store
            .delete_ivr_prompt_audio(&admin(), "goodbye", "zh-CN")
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Unknown keys and languages are refused.
    assert!(matches!(
        store
            .set_ivr_prompt_audio(&admin(), "no_such_prompt", "zh-CN", recording(b"x"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .set_ivr_prompt_audio(&admin(), "goodbye", "fr", recording(b"x"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .set_ivr_prompt_audio(&admin(), "../etc", "zh-CN", recording(b"x"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        audit_actions(&store).await,
        [
            "ivr_prompt.delete_audio goodbye/zh-CN",
            "ivr_prompt.upload goodbye/zh-CN",
            "ivr_prompt.upload goodbye/zh-CN",
        ]
    );
}

async fn custom_prompts_have_text_then_audio(store: Store) {
    let p = store
        .create_ivr_prompt(
            &admin(),
            "holiday_notice",
            "zh-CN",
            " 春节期间营业时间调整。 ",
        )
        .await
        .unwrap();
    assert_eq!(
        (p.text.as_str(), p.has_audio),
        ("春节期间营业时间调整。", false)
    );
    assert!(matches!(
        store
            .create_ivr_prompt(&admin(), "holiday_notice", "zh-CN", "again")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_ivr_prompt(&admin(), "goodbye", "zh-CN", "a system key")
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_ivr_prompt(&admin(), "blank", "zh-CN", "  ")
            .await,
        Err(StoreError::Invalid(_))
    ));
    // A recording in another language takes the text the key has.
    let en = store
        .set_ivr_prompt_audio(&admin(), "holiday_notice", "en", recording(b"RIFF en"))
        .await
        .unwrap();
    assert_eq!(en.text, "春节期间营业时间调整。");
    // Deleting a custom prompt's audio keeps its text.
    store
        .set_ivr_prompt_audio(&admin(), "holiday_notice", "zh-CN", recording(b"RIFF zh"))
        .await
        .unwrap();
    store
        .delete_ivr_prompt_audio(&admin(), "holiday_notice", "zh-CN")
        .await
        .unwrap();
    let zh = store
        .get_ivr_prompt("holiday_notice", "zh-CN")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((zh.has_audio, zh.sha256, zh.seconds), (false, None, None));
    assert_eq!(
        store
            .list_ivr_prompts(None)
            .await
            .unwrap()
            .iter()
            .map(|p| format!("{}/{} {}", p.key, p.language, p.has_audio))
            .collect::<Vec<_>>(),
        ["holiday_notice/en true", "holiday_notice/zh-CN false"]
    );
}
