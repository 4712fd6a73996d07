//! IVR prompts over HTTP: the system catalog merged with admins' recordings and custom prompts, uploads
//! (WAV or MP3, detected by content, converted to 8 kHz mono 16-bit PCM WAV) and listening in the
//! browser.
//!
//! A recording is kept in the database and written to `kefu_store::custom_prompt_path`
//! (`<prompts_dir>/custom/<language>/<key>.<sha256 prefix>.wav`), the file the telephony runtime plays
//! instead of the system one; deleting it removes the file and the system recording plays again.
//! Reading takes `ivr.read`, changing `ivr.manage`; every change is audited by the store.

use std::io::Cursor;
use std::path::Path as FsPath;

use axum::body::Bytes;
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kefu_domain::FieldError;
use kefu_store::{IvrPrompt, PROMPT_LANGUAGES, PromptRecording, custom_prompt_path};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};

/// Largest upload accepted, in bytes.
pub const MAX_PROMPT_BYTES: usize = 20 * 1024 * 1024;
/// Longest recording accepted, in seconds.
pub const MAX_PROMPT_SECONDS: usize = 300;

/// A prompt as the admin page lists it.
#[derive(Serialize, ToSchema)]
pub struct PromptView {
    /// `[a-z0-9_]`: `main_menu`, `num_3`, or an admin's own key.
    pub key: String,
    /// `zh-CN` or `en`.
    pub language: String,
    pub text: String,
    /// `custom`: an admin's recording (or an admin's own prompt); `system`: the generated set.
    pub source: String,
    /// Whether the key is in the system catalog (deleting a recording goes back to it).
    pub system: bool,
    /// Whether there is audio to play (the recording, or the generated system file).
    pub has_audio: bool,
    /// Length of that audio.
    pub seconds: Option<f64>,
    /// When an admin last changed it.
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromptQuery {
    /// `zh-CN` or `en`; both when absent.
    pub language: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrompt {
    /// 1-64 of a-z, 0-9 and `_`, starting with a letter; not a system prompt's key.
    pub key: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// What the prompt says (shown in the designer and the simulator), 1-1000 characters.
    pub text: String,
}

fn check_language(language: &str) -> ApiResult<()> {
    if PROMPT_LANGUAGES.contains(&language) {
        Ok(())
    } else {
        Err(ApiError::field("language", "must be zh-CN or en"))
    }
}

/// Length of the WAV file at `path` in seconds, from its header.
fn wav_seconds(path: &FsPath) -> Option<f64> {
    let r = hound::WavReader::open(path).ok()?;
    let spec = r.spec();
    Some(f64::from(r.duration()) / f64::from(spec.sample_rate.max(1)))
}

fn system_file(app: &AppState, key: &str, language: &str) -> std::path::PathBuf {
    app.settings
        .prompts_dir
        .join(language)
        .join(format!("{key}.wav"))
}

fn view(app: &AppState, key: &str, language: &str, custom: Option<&IvrPrompt>) -> PromptView {
    let system_text = kefu_ivr::prompts::text(key, language);
    let recorded = custom.filter(|c| c.has_audio);
    let (has_audio, seconds) = match recorded {
        Some(c) => (true, c.seconds),
        None => match system_text {
            Some(_) => {
                let s = wav_seconds(&system_file(app, key, language));
                (s.is_some(), s)
            }
            None => (false, None),
        },
    };
    PromptView {
        key: key.to_string(),
        language: language.to_string(),
        text: custom
            .map(|c| c.text.clone())
            .or(system_text.map(str::to_string))
            .unwrap_or_default(),
        source: if recorded.is_some() || system_text.is_none() {
            "custom"
        } else {
            "system"
        }
        .to_string(),
        system: system_text.is_some(),
        has_audio,
        seconds,
        updated_at: custom.map(|c| c.updated_at),
    }
}

/// Every prompt: the system catalog of each language merged with admins' recordings and their own
/// prompts, by language then key.
#[utoipa::path(get, path = "/api/v1/ivr/prompts", tag = "ivr", params(PromptQuery),
    responses((status = 200, body = Vec<PromptView>), (status = 422, body = crate::problem::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q): Query<PromptQuery>,
) -> ApiResult<axum::Json<Vec<PromptView>>> {
    let languages: Vec<&'static str> = match q.language.as_deref() {
        Some(l) => {
            check_language(l)?;
            PROMPT_LANGUAGES
                .iter()
                .copied()
                .filter(|x| *x == l)
                .collect()
        }
        None => PROMPT_LANGUAGES.to_vec(),
    };
    let custom = app.store.list_ivr_prompts(None).await?;
    let app2 = app.clone();
    let views = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for language in languages {
            let mine: std::collections::BTreeMap<&str, &IvrPrompt> = custom
                .iter()
                .filter(|c| c.language == language)
                .map(|c| (c.key.as_str(), c))
                .collect();
            let mut rows: Vec<PromptView> = kefu_ivr::prompts::catalog()
                .iter()
                .filter(|p| p.text(language).is_some())
                .map(|p| view(&app2, p.key, language, mine.get(p.key).copied()))
                .collect();
            rows.extend(
                mine.values()
                    .filter(|c| kefu_ivr::prompts::get(&c.key).is_none())
                    .map(|c| view(&app2, &c.key, language, Some(c))),
            );
            rows.sort_by(|a, b| a.key.cmp(&b.key));
            out.extend(rows);
        }
        out
    })
    .await
    .map_err(|_| ApiError::internal())?;
    Ok(axum::Json(views))
}

/// Adds an admin's own prompt (a key the system catalog does not have) with its text; upload its
/// recording next.
#[utoipa::path(post, path = "/api/v1/ivr/prompts", tag = "ivr", request_body = NewPrompt,
    responses((status = 201, body = PromptView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(new): Json<NewPrompt>,
) -> ApiResult<(StatusCode, axum::Json<PromptView>)> {
    let p = app
        .store
        .create_ivr_prompt(&caller.actor, &new.key, &new.language, &new.text)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&app, &p.key, &p.language, Some(&p))),
    ))
}

fn audio_problem(status: StatusCode, kind: &'static str, reason: String) -> ApiError {
    let mut e = ApiError::new(status, kind, format!("invalid field file: {reason}"));
    e.errors.push(FieldError::new("file", reason));
    e
}

fn too_big() -> ApiError {
    audio_problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!(
            "a recording may have at most {} MiB",
            MAX_PROMPT_BYTES / (1024 * 1024)
        ),
    )
}

fn unusable(reason: impl Into<String>) -> ApiError {
    audio_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-audio",
        reason.into(),
    )
}

/// The recording as 8 kHz mono 16-bit samples: WAV (any rate and channel count kefu-media reads)
/// or MP3, told apart by their bytes.
pub fn decode_audio(bytes: &[u8]) -> Result<Vec<i16>, String> {
    let pcm = if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        kefu_media::wav::load_prompt(bytes).map_err(|e| e.to_string())?
    } else if looks_like_mp3(bytes) {
        let (interleaved, rate, channels) = decode_mp3(bytes)?;
        // Through a WAV at the MP3's own rate: kefu-media mixes down and resamples (windowed sinc).
        let mut wav = Cursor::new(Vec::new());
        {
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::new(&mut wav, spec).map_err(|e| e.to_string())?;
            for s in interleaved {
                w.write_sample(s).map_err(|e| e.to_string())?;
            }
            w.finalize().map_err(|e| e.to_string())?;
        }
        kefu_media::wav::load_prompt(wav.get_ref()).map_err(|e| e.to_string())?
    } else {
        return Err("the file is neither WAV nor MP3".into());
    };
    if pcm.is_empty() {
        return Err("the recording has no audio".into());
    }
    if pcm.len() > MAX_PROMPT_SECONDS * usize::from(8000u16) {
        return Err(format!(
            "the recording is {} s long; at most {MAX_PROMPT_SECONDS} s",
            pcm.len() / 8000
        ));
    }
    Ok(pcm)
}

/// An ID3 tag or an MPEG audio frame header (sync, layer III).
fn looks_like_mp3(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || (bytes.len() > 3 && bytes[0] == 0xFF && bytes[1] & 0xE6 == 0xE2)
}

/// MP3 to interleaved 16-bit samples, with its rate and channel count (symphonia).
fn decode_mp3(bytes: &[u8]) -> Result<(Vec<i16>, u32, u16), String> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::errors::Error;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| format!("not a readable MP3: {e}"))?;
    let mut format = probed.format;
    let track = format.default_track().ok_or("the MP3 has no audio track")?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("not a readable MP3: {e}"))?;
    let mut out: Vec<i16> = Vec::new();
    let (mut rate, mut channels) = (0u32, 0u16);
    // Room for the longest accepted recording at 48 kHz stereo.
    let cap = (MAX_PROMPT_SECONDS + 1) * 48_000 * 2;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(Error::ResetRequired) => break,
            Err(e) => return Err(format!("reading the MP3: {e}")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = *buf.spec();
                rate = spec.rate;
                channels = spec.channels.count() as u16;
                let mut samples = SampleBuffer::<i16>::new(buf.capacity() as u64, spec);
                samples.copy_interleaved_ref(buf);
                out.extend_from_slice(samples.samples());
                if out.len() > cap {
                    return Err(format!(
                        "the recording is longer than {MAX_PROMPT_SECONDS} s"
                    ));
                }
            }
            // A damaged frame is skipped, as players do.
            Err(Error::DecodeError(_)) => continue,
            Err(e) => return Err(format!("decoding the MP3: {e}")),
        }
    }
    if out.is_empty() || rate == 0 || channels == 0 {
        return Err("the MP3 has no audio".into());
    }
    Ok((out, rate, channels))
}

/// 8 kHz mono 16-bit samples as WAV bytes.
fn to_wav(pcm: &[i16]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::with_capacity(44 + pcm.len() * 2));
    let mut w = kefu_media::wav::WavRecorder::new(&mut out).expect("writing to memory");
    w.write(pcm).expect("writing to memory");
    w.finish().expect("writing to memory");
    out.into_inner()
}

/// The uploaded bytes and file name: a `multipart/form-data` body with a part named `file`, or the
/// file itself as the body.
async fn read_upload(req: Request) -> ApiResult<(Vec<u8>, Option<String>)> {
    let (parts, body) = req.into_parts();
    let is_multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let limit = MAX_PROMPT_BYTES + if is_multipart { 64 * 1024 } else { 0 };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_big())?;
    if !is_multipart {
        return Ok((bytes.to_vec(), None));
    }
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::field("file", format!("unreadable upload: {}", e.body_text())))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::field("file", format!("unreadable upload: {}", e.body_text())))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(|n| {
            n.rsplit(['/', '\\'])
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        });
        let data: Bytes = field.bytes().await.map_err(|e| {
            ApiError::field("file", format!("unreadable upload: {}", e.body_text()))
        })?;
        return Ok((data.to_vec(), name.filter(|n| !n.is_empty())));
    }
    Err(ApiError::field("file", "no part named file was sent"))
}

fn check_key(key: &str) -> ApiResult<()> {
    if kefu_ivr::prompts::valid_key(key) {
        Ok(())
    } else {
        Err(ApiError::not_found("prompt"))
    }
}

/// Removes the files of (key, language) under `custom/` but `keep`.
async fn remove_custom_files(dir: &FsPath, language: &str, key: &str, keep: Option<&FsPath>) {
    let base = dir.join("custom").join(language);
    let Ok(mut entries) = tokio::fs::read_dir(&base).await else {
        return;
    };
    let prefix = format!("{key}.");
    while let Ok(Some(e)) = entries.next_entry().await {
        let name = e.file_name().to_string_lossy().to_string();
        let stem_key = name.strip_suffix(".wav").and_then(|s| s.split('.').next());
        if name.starts_with(&prefix)
            && stem_key == Some(key)
            && Some(e.path().as_path()) != keep
            && let Err(err) = tokio::fs::remove_file(e.path()).await
        {
            tracing::warn!(file = %e.path().display(), error = %err, "removing an old prompt recording");
        }
    }
}

/// Writes a recording where the telephony runtime looks (atomically: a temporary name, then rename).
pub async fn write_custom_file(
    dir: &FsPath,
    language: &str,
    key: &str,
    sha256: &str,
    wav: &[u8],
) -> std::io::Result<std::path::PathBuf> {
    let path = custom_prompt_path(dir, language, key, sha256);
    let parent = path.parent().expect("in a directory");
    tokio::fs::create_dir_all(parent).await?;
    if !path.is_file() {
        let tmp = parent.join(format!(".{key}.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, wav).await?;
        tokio::fs::rename(&tmp, &path).await?;
    }
    Ok(path)
}

/// Uploads an admin's recording of a prompt: WAV or MP3 (detected by content), as the body or as a
/// `multipart/form-data` part named `file`; converted to 8 kHz mono 16-bit PCM. At most 20 MiB and
/// 300 s. The IVR plays it from the next prompt on.
#[utoipa::path(put, path = "/api/v1/ivr/prompts/{key}/{language}/audio", tag = "ivr",
    params(("key" = String, Path), ("language" = String, Path)),
    request_body(content_type = "audio/wav", description = "WAV or MP3 bytes, or multipart/form-data with a part named `file`"),
    responses((status = 200, body = PromptView), (status = 404, body = crate::problem::Problem), (status = 413, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    caller: Caller,
    Path((key, language)): Path<(String, String)>,
    req: Request,
) -> ApiResult<axum::Json<PromptView>> {
    check_key(&key)?;
    check_language(&language)?;
    let (bytes, name) = read_upload(req).await?;
    if bytes.is_empty() {
        return Err(unusable("the file is empty"));
    }
    let pcm = tokio::task::spawn_blocking(move || decode_audio(&bytes))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(unusable)?;
    let seconds = pcm.len() as f64 / 8000.0;
    let wav = to_wav(&pcm);
    let p = app
        .store
        .set_ivr_prompt_audio(
            &caller.actor,
            &key,
            &language,
            PromptRecording {
                wav: wav.clone(),
                seconds,
                source_name: name,
            },
        )
        .await?;
    let dir = &app.settings.prompts_dir;
    let sha = p.sha256.clone().unwrap_or_default();
    match write_custom_file(dir, &language, &key, &sha, &wav).await {
        Ok(path) => remove_custom_files(dir, &language, &key, Some(&path)).await,
        Err(e) => {
            tracing::error!(error = %e, dir = %dir.display(), "writing a prompt recording for the IVR");
        }
    }
    Ok(axum::Json(view(&app, &key, &language, Some(&p))))
}

/// The audio of a prompt for the browser's player: the admin's recording, else the generated system
/// file. 404 if there is neither.
#[utoipa::path(get, path = "/api/v1/ivr/prompts/{key}/{language}/audio", tag = "ivr",
    params(("key" = String, Path), ("language" = String, Path)),
    responses((status = 200, description = "8 kHz mono WAV", content_type = "audio/wav"), (status = 404, body = crate::problem::Problem)))]
pub async fn listen(
    State(app): State<AppState>,
    _caller: Caller,
    Path((key, language)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_key(&key)?;
    check_language(&language)?;
    let bytes = match app.store.ivr_prompt_wav(&key, &language).await? {
        Some(b) => b,
        None if kefu_ivr::prompts::text(&key, &language).is_some() => {
            tokio::fs::read(system_file(&app, &key, &language))
                .await
                .map_err(|_| ApiError::not_found("prompt audio"))?
        }
        None => return Err(ApiError::not_found("prompt audio")),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}

/// Deletes an admin's recording: a system prompt is spoken by the system recording again, an admin's
/// own prompt keeps its text without audio.
#[utoipa::path(delete, path = "/api/v1/ivr/prompts/{key}/{language}/audio", tag = "ivr",
    params(("key" = String, Path), ("language" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::problem::Problem)))]
pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    Path((key, language)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    check_key(&key)?;
    check_language(&language)?;
    app.store
        .delete_ivr_prompt_audio(&caller.actor, &key, &language)
        .await?;
    remove_custom_files(&app.settings.prompts_dir, &language, &key, None).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes every stored recording to its file (a new machine, a cleaned prompts directory); returns
/// how many were written.
pub async fn write_all_custom_files(
    store: &kefu_store::Store,
    dir: &FsPath,
) -> Result<usize, String> {
    let mut n = 0;
    let recordings = store
        .ivr_prompt_recordings()
        .await
        .map_err(|e| e.to_string())?;
    for (key, language, sha, wav) in recordings {
        let path = custom_prompt_path(dir, &language, &key, &sha);
        if !path.is_file() {
            write_custom_file(dir, &language, &key, &sha, &wav)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_files_are_refused() {
        assert!(decode_audio(b"hello world, not audio").is_err());
        assert!(decode_audio(b"RIFF\0\0\0\0WAVE").is_err());
        assert!(decode_audio(b"ID3\x04\0\0\0\0\0\0").is_err());
        assert!(decode_audio(&[0xFF, 0xFB, 0x90, 0x00, 1, 2, 3]).is_err());
    }
}
