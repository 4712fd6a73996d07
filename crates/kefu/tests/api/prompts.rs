//! IVR prompts: the generated system set (`kefu prompts generate`) and admins' recordings (upload WAV
//! or MP3, listen, delete back to the system prompt).
//!
//! `fixtures/tone_440hz_1s.mp3` is one second of a 440 Hz sine, 22.05 kHz stereo, 32 kbit/s, made with
//! Debian's sox and lame:
//!
//!     sox -R -n -r 22050 -c 2 -b 16 tone.wav synth 1.0 sine 440 gain -6
//!     lame --quiet -b 32 --noreplaygain tone.wav tone_440hz_1s.mp3

use kefu_media::tone::tone_present;
use kefu_media::wav::load_prompt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const MP3: &[u8] = include_bytes!("fixtures/tone_440hz_1s.mp3");

/// A 16-bit PCM WAV of `seconds` of a `freq` Hz sine at `rate` Hz on `channels` channels, written by
/// hand (independently of the code under test).
fn sine_wav(rate: u32, channels: u16, freq: f64, seconds: f64) -> Vec<u8> {
    let frames = (f64::from(rate) * seconds) as u32;
    let data_len = frames * u32::from(channels) * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let v = (0.4
            * 32767.0
            * (2.0 * std::f64::consts::PI * freq * f64::from(i) / f64::from(rate)).sin())
            as i16;
        for _ in 0..channels {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// (sample rate, channels, bits) from a canonical WAV header.
fn wav_format(bytes: &[u8]) -> (u32, u16, u16) {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    (
        u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
        u16::from_le_bytes(bytes[22..24].try_into().unwrap()),
        u16::from_le_bytes(bytes[34..36].try_into().unwrap()),
    )
}

fn espeak_present() -> bool {
    ["espeak-ng", "sox"].iter().all(|t| {
        std::process::Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn generate_speaks_the_missing_system_prompts_as_8khz_mono_wav() {
    if !espeak_present() {
        eprintln!(
            "SKIPPED generate_speaks_the_missing_system_prompts_as_8khz_mono_wav: espeak-ng or sox is not installed (scripts/deps.sh installs both)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
            .args(["prompts", "generate", "--prompts-dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run(&["--language", "all"]);
    let zh = kefu_ivr::prompts::catalog()
        .iter()
        .filter(|p| p.text("zh-CN").is_some())
        .count();
    let en = kefu_ivr::prompts::catalog()
        .iter()
        .filter(|p| p.text("en").is_some())
        .count();
    assert_eq!(
        first.trim(),
        format!("prompts: {} made, 0 already there, 0 failed", zh + en)
    );
    for (lang, key) in [
        ("zh-CN", "num_5"),
        ("zh-CN", "main_menu"),
        ("zh-CN", "liang"),
        ("zh-CN", "status_closed"),
        ("en", "goodbye"),
        ("en", "ord_1"),
    ] {
        let bytes = std::fs::read(dir.path().join(lang).join(format!("{key}.wav"))).unwrap();
        assert_eq!(wav_format(&bytes), (8000, 1, 16), "{lang}/{key}");
        let pcm = load_prompt(&bytes).unwrap();
        let seconds = pcm.len() as f64 / 8000.0;
        let loud = pcm.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(loud > 400, "{lang}/{key}: speech, not silence ({loud})");
        if kefu_ivr::prompts::get(key).unwrap().is_word() {
            assert!((0.1..1.5).contains(&seconds), "{lang}/{key}: {seconds} s");
        } else {
            assert!(seconds > 1.0, "{lang}/{key}: {seconds} s");
        }
    }
    assert!(!dir.path().join("en/liang.wav").exists(), "Mandarin only");
    // Nothing is missing the second time; one language at a time.
    std::fs::remove_file(dir.path().join("en/goodbye.wav")).unwrap();
    assert_eq!(
        run(&["--language", "en"]).trim(),
        format!("prompts: 1 made, {} already there, 0 failed", en - 1)
    );
    // No temporary files are left.
    for lang in ["zh-CN", "en"] {
        for e in std::fs::read_dir(dir.path().join(lang)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.starts_with('.'), "{name}");
        }
    }
}

async fn app_with_prompts() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    // One system file, as `kefu prompts generate` leaves it.
    std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
    std::fs::write(
        dir.path().join("zh-CN/goodbye.wav"),
        sine_wav(8000, 1, 600.0, 0.5),
    )
    .unwrap();
    let app = TestApp::spawn_settings(kefu_api::Settings {
        prompts_dir: dir.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    (app, dir)
}

fn find<'a>(list: &'a Value, key: &str, language: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key && p["language"] == language)
        .unwrap_or_else(|| panic!("{key}/{language} listed"))
}

async fn listen(app: &TestApp, token: &str, key: &str, language: &str) -> reqwest::Response {
    app.as_token(
        token,
        Method::GET,
        &format!("/api/v1/ivr/prompts/{key}/{language}/audio"),
    )
    .send()
    .await
    .unwrap()
}

fn custom_files(dir: &std::path::Path, language: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("custom").join(language))
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn an_uploaded_recording_replaces_the_system_prompt_until_deleted() {
    let (app, dir) = app_with_prompts().await;
    let admin = app.login("admin").await;

    let list = app.get(&admin, "/api/v1/ivr/prompts?language=zh-CN").await;
    let goodbye = find(&list, "goodbye", "zh-CN");
    assert_eq!(
        (
            &goodbye["text"],
            &goodbye["source"],
            &goodbye["has_audio"],
            &goodbye["system"]
        ),
        (
            &json!("感谢您的来电，再见。"),
            &json!("system"),
            &json!(true),
            &json!(true)
        )
    );
    assert_eq!(goodbye["seconds"], json!(0.5));
    assert_eq!(find(&list, "num_10000", "zh-CN")["text"], "万");
    assert_eq!(find(&list, "main_menu", "zh-CN")["has_audio"], false);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["language"] == "zh-CN"),
        "one language"
    );
    let both = app.get(&admin, "/api/v1/ivr/prompts").await;
    assert_eq!(find(&both, "ord_1", "en")["text"], "first");

    // The system file, for the browser's player.
    let r = listen(&app, &admin, "goodbye", "zh-CN").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        std::fs::read(dir.path().join("zh-CN/goodbye.wav")).unwrap()
    );

    // A 44.1 kHz stereo recording of a 1 kHz tone, as the body.
    let r = app
        .as_token(
            &admin,
            Method::PUT,
            "/api/v1/ivr/prompts/goodbye/zh-CN/audio",
        )
        .header("content-type", "audio/wav")
        .body(sine_wav(44_100, 2, 1000.0, 1.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["source"], &v["has_audio"]),
        (&json!("custom"), &json!(true))
    );
    assert!((v["seconds"].as_f64().unwrap() - 1.0).abs() < 0.01, "{v}");
    let r = listen(&app, &admin, "goodbye", "zh-CN").await;
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let stored = r.bytes().await.unwrap().to_vec();
    assert_eq!(wav_format(&stored), (8000, 1, 16));
    let pcm = load_prompt(&stored).unwrap();
    assert!((7900..=8100).contains(&pcm.len()), "{}", pcm.len());
    assert!(
        tone_present(&pcm, 1000.0),
        "the tone survives the conversion"
    );
    assert!(!tone_present(&pcm, 600.0));
    // … and is where the telephony runtime looks for it, named by its hash.
    let files = custom_files(dir.path(), "zh-CN");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("goodbye.") && files[0].ends_with(".wav"));
    assert_eq!(
        std::fs::read(dir.path().join("custom/zh-CN").join(&files[0])).unwrap(),
        stored
    );

    // A second upload replaces the file (a new name: the runtime's cache never plays the old one).
    let r = app
        .as_token(
            &admin,
            Method::PUT,
            "/api/v1/ivr/prompts/goodbye/zh-CN/audio",
        )
        .body(sine_wav(16_000, 1, 800.0, 0.5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let files2 = custom_files(dir.path(), "zh-CN");
    assert_eq!(files2.len(), 1);
    assert_ne!(files2, files);
    let list = app.get(&admin, "/api/v1/ivr/prompts?language=zh-CN").await;
    assert_eq!(find(&list, "goodbye", "zh-CN")["source"], "custom");
    assert_eq!(find(&list, "goodbye", "zh-CN")["seconds"], json!(0.5));

    // Deleting goes back to the system recording.
    let r = app
        .as_token(
            &admin,
            Method::DELETE,
            "/api/v1/ivr/prompts/goodbye/zh-CN/audio",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(custom_files(dir.path(), "zh-CN").is_empty());
    let r = listen(&app, &admin, "goodbye", "zh-CN").await;
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        std::fs::read(dir.path().join("zh-CN/goodbye.wav")).unwrap()
    );
    let r = app
        .as_token(
            &admin,
            Method::DELETE,
            "/api/v1/ivr/prompts/goodbye/zh-CN/audio",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    // No system file in English yet: nothing to play.
    problem(
        listen(&app, &admin, "goodbye", "en").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.audit_count("ivr_prompt.upload").await, 2);
    assert_eq!(app.audit_count("ivr_prompt.delete_audio").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn mp3_uploads_are_decoded_and_bad_files_are_refused() {
    let (app, dir) = app_with_prompts().await;
    let admin = app.login("admin").await;

    // MP3 as a multipart part.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(MP3.to_vec()).file_name("再见.mp3"),
    );
    let r = app
        .as_token(&admin, Method::PUT, "/api/v1/ivr/prompts/goodbye/en/audio")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["text"], "Thank you for calling. Goodbye.");
    let seconds = v["seconds"].as_f64().unwrap();
    assert!((0.95..1.2).contains(&seconds), "{seconds}");
    let stored = listen(&app, &admin, "goodbye", "en")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(wav_format(&stored), (8000, 1, 16));
    let pcm = load_prompt(&stored).unwrap();
    assert!(tone_present(&pcm, 440.0), "the MP3's tone");
    assert_eq!(custom_files(dir.path(), "en").len(), 1);

    let before = app.audit_total().await;
    let put = |body: Vec<u8>| {
        app.as_token(
            &admin,
            Method::PUT,
            "/api/v1/ivr/prompts/goodbye/zh-CN/audio",
        )
        .body(body)
        .send()
    };
    // Garbage, an empty body, a WAV header without audio, half an MP3 frame.
    for bad in [
        b"this is not audio at all".to_vec(),
        Vec::new(),
        b"RIFF\x04\0\0\0WAVE".to_vec(),
        MP3[..40].to_vec(),
    ] {
        let p = problem(put(bad).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["field"], "file", "{p}");
    }
    // Longer than 300 s (8 kHz mono: 5.3 MB, under the size cap).
    let p = problem(
        put(sine_wav(8000, 1, 440.0, 301.0)).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("300 s"), "{p}");
    // Larger than 20 MiB.
    let p = problem(
        put(vec![0u8; 20 * 1024 * 1024 + 1]).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("20 MiB"), "{p}");
    // Unknown prompts and languages.
    let r = app
        .as_token(
            &admin,
            Method::PUT,
            "/api/v1/ivr/prompts/no_such_prompt/zh-CN/audio",
        )
        .body(sine_wav(8000, 1, 440.0, 0.2))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .as_token(&admin, Method::PUT, "/api/v1/ivr/prompts/goodbye/fr/audio")
        .body(sine_wav(8000, 1, 440.0, 0.2))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.audit_total().await,
        before,
        "refused uploads write nothing"
    );
    assert!(custom_files(dir.path(), "zh-CN").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn admins_add_their_own_prompts_and_only_managers_change_them() {
    let (app, _dir) = app_with_prompts().await;
    let admin = app.login("admin").await;
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/ivr/prompts",
            &json!({"key": "holiday_notice", "language": "zh-CN", "text": "春节期间营业时间调整。"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["source"], &v["system"], &v["has_audio"]),
        (&json!("custom"), &json!(false), &json!(false))
    );
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/ivr/prompts",
            &json!({"key": "holiday_notice", "language": "zh-CN", "text": "again"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .send(
            &admin,
            Method::POST,
            "/api/v1/ivr/prompts",
            &json!({"key": "Bad Key", "language": "zh-CN", "text": "x"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "key");
    let r = app
        .as_token(
            &admin,
            Method::PUT,
            "/api/v1/ivr/prompts/holiday_notice/zh-CN/audio",
        )
        .body(sine_wav(8000, 1, 700.0, 0.3))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list = app.get(&admin, "/api/v1/ivr/prompts?language=zh-CN").await;
    let mine = find(&list, "holiday_notice", "zh-CN");
    assert_eq!(
        (&mine["has_audio"], &mine["text"]),
        (&json!(true), &json!("春节期间营业时间调整。"))
    );

    // The auditor reads and listens; an agent cannot; neither changes anything.
    let auditor = app.login("auditor").await;
    app.get(&auditor, "/api/v1/ivr/prompts").await;
    assert_eq!(
        listen(&app, &auditor, "holiday_notice", "zh-CN")
            .await
            .status(),
        StatusCode::OK
    );
    let r = app
        .as_token(
            &auditor,
            Method::PUT,
            "/api/v1/ivr/prompts/holiday_notice/zh-CN/audio",
        )
        .body(sine_wav(8000, 1, 700.0, 0.3))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let agent = app.login("agent").await;
    let r = app
        .as_token(&agent, Method::GET, "/api/v1/ivr/prompts")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    app.stop().await;
}
