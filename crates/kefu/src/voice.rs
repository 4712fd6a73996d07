//! kefu's voice: text spoken by espeak-ng (Mandarin, English `en-us`) into a WAV file that the
//! telephony engine loads (and resamples to 8 kHz) like any prompt. Used for the text of IVR nodes;
//! cached by a hash of the text, so each text is spoken once.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where the spoken form of `text` is kept: `<dir>/<language>/<sha256 prefix>.wav`.
pub fn cached_path(dir: &Path, text: &str, language: &str) -> PathBuf {
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    dir.join(sanitize(language))
        .join(format!("{}.wav", &hash[..24]))
}

fn sanitize(language: &str) -> String {
    language
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// espeak-ng's voice for a language (Mandarin: see [`crate::prompts::mandarin_voice`], which asks
/// espeak-ng once, so this may block the first time).
pub fn voice(language: &str) -> &'static str {
    if language == "en" {
        "en-us"
    } else {
        crate::prompts::mandarin_voice()
    }
}

/// Speaks `text` into `out` (written to a temporary name first, then renamed, so a reader never
/// sees half a file).
pub async fn speak(text: &str, language: &str, out: &Path) -> anyhow::Result<()> {
    if let Some(dir) = out.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = out.with_extension(format!("{}.tmp", std::process::id()));
    let lang = language.to_string();
    let voice = tokio::task::spawn_blocking(move || voice(&lang)).await?;
    let status = tokio::process::Command::new("espeak-ng")
        .arg("-v")
        .arg(voice)
        .arg("-s")
        .arg(if language == "en" { "160" } else { "165" })
        .arg("-w")
        .arg(&tmp)
        // The text as one argument after `--`: never parsed as options.
        .arg("--")
        .arg(text)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .map_err(|e| anyhow::anyhow!("running espeak-ng: {e} (install espeak-ng)"))?;
    if !status.success() {
        let _ = tokio::fs::remove_file(&tmp).await;
        anyhow::bail!("espeak-ng failed: {status}");
    }
    tokio::fs::rename(&tmp, out).await?;
    Ok(())
}
