//! Admins' prompts (`ivr_prompts`): a recording of a prompt in one language, already converted to
//! 8 kHz mono 16-bit WAV by the caller, replacing the system recording of the same key; and custom keys
//! (not in the system catalog) with their text. One row per (key, language).
//!
//! The telephony runtime plays files, so a recording is also written to
//! [`custom_prompt_path`] (`<prompts_dir>/custom/<language>/<key>.<sha256 prefix>.wav`) by the API;
//! [`Store::ivr_prompt_recordings`] lets the binary write them all again on a new machine.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use kefu_domain::FieldErrors;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, Store, StoreError, audit};

mod ent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ivr_prompts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key: String,
        pub language: String,
        pub text: String,
        pub wav: Option<Vec<u8>>,
        pub sha256: Option<String>,
        pub seconds: Option<f64>,
        pub source_name: Option<String>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use ent::{ActiveModel, Column, Entity};

/// The languages prompts are kept in.
pub const PROMPT_LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// An admin's prompt row (without the audio bytes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IvrPrompt {
    pub id: uuid::Uuid,
    pub key: String,
    pub language: String,
    pub text: String,
    /// Whether a recording is stored.
    pub has_audio: bool,
    pub sha256: Option<String>,
    pub seconds: Option<f64>,
    /// The uploaded file's name.
    pub source_name: Option<String>,
    pub updated_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A recording to store: WAV bytes (8 kHz mono 16-bit, converted by the caller) and its length.
#[derive(Clone, Debug)]
pub struct PromptRecording {
    pub wav: Vec<u8>,
    pub seconds: f64,
    pub source_name: Option<String>,
}

/// Where the telephony runtime finds an admin's recording:
/// `<prompts_dir>/custom/<language>/<key>.<first 16 hex digits of its SHA-256>.wav`. The hash in the
/// name makes a new upload a new file, so a prompt cache keyed by path never plays an old one.
pub fn custom_prompt_path(prompts_dir: &Path, language: &str, key: &str, sha256: &str) -> PathBuf {
    prompts_dir
        .join("custom")
        .join(language)
        .join(format!("{key}.{}.wav", &sha256[..sha256.len().min(16)]))
}

fn check_key_language(key: &str, language: &str, errors: &mut FieldErrors) {
    if !kefu_ivr::prompts::valid_key(key) {
        errors.push(
            "key",
            "must be 1-64 characters of a-z, 0-9 and _, starting with a letter",
        );
    }
    if !PROMPT_LANGUAGES.contains(&language) {
        errors.push("language", "must be zh-CN or en");
    }
}

fn from_model(m: ent::Model) -> IvrPrompt {
    IvrPrompt {
        id: m.id,
        key: m.key,
        language: m.language,
        text: m.text,
        has_audio: m.wav.is_some(),
        sha256: m.sha256,
        seconds: m.seconds,
        source_name: m.source_name,
        updated_by: m.updated_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The columns without `wav`.
fn meta_columns() -> [Column; 10] {
    [
        Column::Id,
        Column::Key,
        Column::Language,
        Column::Text,
        Column::Sha256,
        Column::Seconds,
        Column::SourceName,
        Column::UpdatedBy,
        Column::CreatedAt,
        Column::UpdatedAt,
    ]
}

impl Store {
    /// Admins' prompts, by key then language; only `language`'s when given. The audio is not read.
    pub async fn list_ivr_prompts(&self, language: Option<&str>) -> Result<Vec<IvrPrompt>> {
        let mut q = Entity::find().select_only().columns(meta_columns());
        if let Some(l) = language {
            q = q.filter(Column::Language.eq(l));
        }
        let rows = q
            .order_by_asc(Column::Key)
            .order_by_asc(Column::Language)
            .into_model::<MetaRow>()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(MetaRow::into_prompt).collect())
    }

    /// One admin's prompt (without its audio).
    pub async fn get_ivr_prompt(&self, key: &str, language: &str) -> Result<Option<IvrPrompt>> {
        Ok(self
            .list_one(key, language)
            .await?
            .map(MetaRow::into_prompt))
    }

    async fn list_one(&self, key: &str, language: &str) -> Result<Option<MetaRow>> {
        Ok(Entity::find()
            .select_only()
            .columns(meta_columns())
            .filter(Column::Key.eq(key))
            .filter(Column::Language.eq(language))
            .into_model::<MetaRow>()
            .one(&self.db)
            .await?)
    }

    /// A new custom prompt (a key that is not a system prompt) with its text, no audio yet.
    pub async fn create_ivr_prompt(
        &self,
        actor: &Actor,
        key: &str,
        language: &str,
        text: &str,
    ) -> Result<IvrPrompt> {
        let mut errors = FieldErrors::new();
        check_key_language(key, language, &mut errors);
        let n = text.trim().chars().count();
        if n == 0 {
            errors.push("text", "must not be empty");
        } else if n > 1000 {
            errors.push("text", "at most 1000 characters");
        }
        if kefu_ivr::prompts::get(key).is_some() {
            errors.push(
                "key",
                "is a system prompt: upload a recording for it instead",
            );
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let row = ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            key: Set(key.to_string()),
            language: Set(language.to_string()),
            text: Set(text.trim().to_string()),
            wav: Set(None),
            sha256: Set(None),
            seconds: Set(None),
            source_name: Set(None),
            updated_by: Set(actor.user_id.map(|u| u.0)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a prompt with this key and language"))?;
        let p = from_model(row);
        audit::record(
            &tx,
            actor,
            "ivr_prompt.create",
            "ivr_prompt",
            Some(format!("{key}/{language}")),
            None::<&()>,
            Some(&p),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Stores `recording` for (key, language): a system key gets a row with the catalog's text, a
    /// custom key must exist (`create_ivr_prompt`) in some language. Replaces an earlier recording.
    pub async fn set_ivr_prompt_audio(
        &self,
        actor: &Actor,
        key: &str,
        language: &str,
        recording: PromptRecording,
    ) -> Result<IvrPrompt> {
        let mut errors = FieldErrors::new();
        check_key_language(key, language, &mut errors);
        errors.into_result().map_err(StoreError::Invalid)?;
        let sha: String = Sha256::digest(&recording.wav)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let existing = Entity::find()
            .filter(Column::Key.eq(key))
            .filter(Column::Language.eq(language))
            .one(&tx)
            .await?;
        let (before, after) = match existing {
            Some(m) => {
                let before = from_model(m.clone());
                let mut am: ActiveModel = m.into();
                am.wav = Set(Some(recording.wav));
                am.sha256 = Set(Some(sha));
                am.seconds = Set(Some(recording.seconds));
                am.source_name = Set(recording.source_name);
                am.updated_by = Set(actor.user_id.map(|u| u.0));
                am.updated_at = Set(now);
                (Some(before), from_model(am.update(&tx).await?))
            }
            None => {
                let text = match kefu_ivr::prompts::text(key, language) {
                    Some(t) => t.to_string(),
                    None => {
                        // A custom key made in another language: take that text.
                        Entity::find()
                            .filter(Column::Key.eq(key))
                            .one(&tx)
                            .await?
                            .map(|m| m.text)
                            .ok_or(StoreError::NotFound("prompt"))?
                    }
                };
                let row = ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    key: Set(key.to_string()),
                    language: Set(language.to_string()),
                    text: Set(text),
                    wav: Set(Some(recording.wav)),
                    sha256: Set(Some(sha)),
                    seconds: Set(Some(recording.seconds)),
                    source_name: Set(recording.source_name),
                    updated_by: Set(actor.user_id.map(|u| u.0)),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&tx)
                .await
                .map_err(|e| StoreError::from_write(e, "a prompt with this key and language"))?;
                (None, from_model(row))
            }
        };
        audit::record(
            &tx,
            actor,
            "ivr_prompt.upload",
            "ivr_prompt",
            Some(format!("{key}/{language}")),
            before.as_ref(),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes the recording of (key, language): a system prompt goes back to the system recording
    /// (its row is deleted), a custom prompt keeps its text without audio. Returns the removed
    /// recording's SHA-256 (to delete its file). `NotFound` if there was no recording.
    pub async fn delete_ivr_prompt_audio(
        &self,
        actor: &Actor,
        key: &str,
        language: &str,
    ) -> Result<String> {
        let tx = self.db.begin().await?;
        let m = Entity::find()
            .filter(Column::Key.eq(key))
            .filter(Column::Language.eq(language))
            .one(&tx)
            .await?
            .filter(|m| m.wav.is_some())
            .ok_or(StoreError::NotFound("recording"))?;
        let sha = m.sha256.clone().unwrap_or_default();
        let before = from_model(m.clone());
        let after = if kefu_ivr::prompts::get(key).is_some() {
            Entity::delete_by_id(m.id).exec(&tx).await?;
            None
        } else {
            let mut am: ActiveModel = m.into();
            am.wav = Set(None);
            am.sha256 = Set(None);
            am.seconds = Set(None);
            am.source_name = Set(None);
            am.updated_by = Set(actor.user_id.map(|u| u.0));
            am.updated_at = Set(Utc::now());
            Some(from_model(am.update(&tx).await?))
        };
        audit::record(
            &tx,
            actor,
            "ivr_prompt.delete_audio",
            "ivr_prompt",
            Some(format!("{key}/{language}")),
            Some(&before),
            after.as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(sha)
    }

    /// The stored recording of (key, language) as WAV bytes, if there is one.
    pub async fn ivr_prompt_wav(&self, key: &str, language: &str) -> Result<Option<Vec<u8>>> {
        Ok(Entity::find()
            .filter(Column::Key.eq(key))
            .filter(Column::Language.eq(language))
            .one(&self.db)
            .await?
            .and_then(|m| m.wav))
    }

    /// Every stored recording as `(key, language, sha256, wav)`, for writing them to
    /// [`custom_prompt_path`] at start.
    pub async fn ivr_prompt_recordings(&self) -> Result<Vec<(String, String, String, Vec<u8>)>> {
        let rows = Entity::find()
            .filter(Column::Wav.is_not_null())
            .order_by_asc(Column::Key)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|m| Some((m.key, m.language, m.sha256?, m.wav?)))
            .collect())
    }
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct MetaRow {
    id: uuid::Uuid,
    key: String,
    language: String,
    text: String,
    sha256: Option<String>,
    seconds: Option<f64>,
    source_name: Option<String>,
    updated_by: Option<uuid::Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl MetaRow {
    fn into_prompt(self) -> IvrPrompt {
        IvrPrompt {
            id: self.id,
            key: self.key,
            language: self.language,
            text: self.text,
            // A recording and its hash are written and cleared together.
            has_audio: self.sha256.is_some(),
            sha256: self.sha256,
            seconds: self.seconds,
            source_name: self.source_name,
            updated_by: self.updated_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
