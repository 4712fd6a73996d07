//! The system prompt set on disk: every entry of [`kefu_ivr::prompts::catalog`] spoken by espeak-ng
//! (Mandarin `-v cmn-latn-pinyin`, see [`mandarin_voice`]; English `-v en-us`) and converted by sox to what G.711 carries (8 kHz, mono,
//! 16-bit PCM), as `<prompts_dir>/<language>/<key>.wav`. `kefu prompts generate` and `kefu serve` (at
//! start, before SIP) make the missing ones.
//!
//! Words (`num_3`, `yuan`, …) are trimmed of espeak-ng's own silence and get 20 ms before and 40 ms
//! after, so a number read from several files does not drag; sentences get 150 ms before and 300 ms
//! after, like `scripts/prompts.sh`. The output is deterministic for a given espeak-ng and sox
//! (`sox -R`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kefu_ivr::prompts::{self, SystemPrompt};

/// Files made by `scripts/prompts.sh` and committed: made here only when missing, never rewritten by
/// `--force`.
const COMMITTED: &[&str] = &["welcome"];

/// What a generation did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written.
    pub made: usize,
    /// Files that were there already.
    pub kept: usize,
    /// `(file, why)` for each prompt that could not be made.
    pub failed: Vec<(PathBuf, String)>,
}

/// Whether espeak-ng and sox can be run.
pub fn tools_available() -> Result<(), String> {
    for (tool, arg) in [("espeak-ng", "--version"), ("sox", "--version")] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!(
                "{tool} is not installed (scripts/deps.sh installs espeak-ng and sox)"
            ));
        }
    }
    Ok(())
}

/// The languages `--language` names: `zh-CN`, `en` or `all`.
pub fn languages(arg: &str) -> anyhow::Result<Vec<&'static str>> {
    match arg {
        "all" => Ok(prompts::LANGUAGES.to_vec()),
        l => prompts::LANGUAGES
            .iter()
            .find(|x| **x == l)
            .map(|x| vec![*x])
            .ok_or_else(|| anyhow::anyhow!("unknown language {l:?}: zh-CN, en or all")),
    }
}

/// The file of system prompt `key` in `language`.
pub fn system_path(dir: &Path, language: &str, key: &str) -> PathBuf {
    dir.join(language).join(format!("{key}.wav"))
}

/// Makes `<dir>/<language>/<key>.wav` for every catalog entry of `languages` that is missing (every
/// one but the committed files with `force`), on `threads` threads. Blocking: run it off the async
/// runtime.
pub fn generate(dir: &Path, languages: &[&str], force: bool, threads: usize) -> Report {
    let mut jobs: Vec<(&'static SystemPrompt, &str, &'static str, PathBuf)> = Vec::new();
    let mut report = Report::default();
    for language in languages {
        for p in prompts::catalog() {
            let Some(text) = p.text(language) else {
                continue;
            };
            let path = system_path(dir, language, p.key);
            let rewrite = force && !COMMITTED.contains(&p.key);
            if path.is_file() && !rewrite {
                report.kept += 1;
                continue;
            }
            jobs.push((p, language, text, path));
        }
    }
    let next = AtomicUsize::new(0);
    let made = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, 8) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((p, language, text, path)) = jobs.get(i) else {
                        break;
                    };
                    match speak(text, language, p.is_word(), path) {
                        Ok(()) => {
                            made.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failed.lock().expect("no panics").push((path.clone(), e)),
                    }
                }
            });
        }
    });
    report.made = made.into_inner();
    report.failed = failed.into_inner().expect("no panics");
    report.failed.sort();
    report
}

/// Speaks `text` into `out` (through temporary files next to it, renamed at the end so a reader never
/// sees half a file).
fn speak(text: &str, language: &str, word: bool, out: &Path) -> Result<(), String> {
    let dir = out.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag = format!("{}.{:?}", std::process::id(), std::thread::current().id())
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "");
    let raw = dir.join(format!(".{stem}.{tag}.espeak.wav"));
    let tmp = dir.join(format!(".{stem}.{tag}.tmp.wav"));
    let result = (|| {
        let (voice, rate) = if language == "en" {
            ("en-us", "160")
        } else {
            (mandarin_voice(), "165")
        };
        run(Command::new("espeak-ng")
            .args(["-v", voice, "-s", rate, "-w"])
            .arg(&raw)
            // The text as one argument after `--`: never parsed as options.
            .arg("--")
            .arg(text))?;
        let mut sox = Command::new("sox");
        sox.arg("-R")
            .arg(&raw)
            .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"])
            .arg(&tmp);
        if word {
            // Trim espeak-ng's silence at both ends, then a short pad.
            sox.args([
                "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
                "reverse", "gain", "-n", "-3", "pad", "0.02", "0.04",
            ]);
        } else {
            sox.args(["gain", "-n", "-3", "pad", "0.15", "0.3"]);
        }
        run(&mut sox)?;
        std::fs::rename(&tmp, out).map_err(|e| format!("renaming to {}: {e}", out.display()))
    })();
    let _ = std::fs::remove_file(&raw);
    let _ = std::fs::remove_file(&tmp);
    result
}

/// espeak-ng's Mandarin voice: `cmn-latn-pinyin` where it exists. espeak-ng 1.51 (Debian 12) looks
/// characters up as pinyin with tone digits and its plain `cmn` voice ("latin as English") then reads
/// that pinyin as English — 三 comes out as "san one", 您好 as "nin two hay three"; `cmn-latn-pinyin`
/// reads the same pinyin as Mandarin (三 s'a55n). Older builds without it get `cmn`.
pub fn mandarin_voice() -> &'static str {
    static VOICE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    VOICE.get_or_init(|| {
        let listed = Command::new("espeak-ng")
            .arg("--voices=cmn")
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("cmn-latn-pinyin"))
            .unwrap_or(false);
        if listed { "cmn-latn-pinyin" } else { "cmn" }
    })
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("running {name}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// At `kefu serve`'s start: makes the missing system prompts if espeak-ng and sox are there, and says
/// what it did; warns if they are not.
pub async fn generate_missing_at_start(dir: PathBuf) {
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        tools_available()?;
        Ok::<_, String>(generate(&dir, &prompts::LANGUAGES, false, 2))
    })
    .await;
    match result {
        Ok(Ok(report)) => {
            for (file, why) in &report.failed {
                tracing::warn!(file = %file.display(), %why, "system prompt not generated");
            }
            if report.made > 0 || !report.failed.is_empty() {
                tracing::info!(
                    made = report.made,
                    kept = report.kept,
                    failed = report.failed.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "system prompts generated with espeak-ng"
                );
                eprintln!(
                    "kefu: generated {} system prompts ({} failed)",
                    report.made,
                    report.failed.len()
                );
            }
        }
        Ok(Err(why)) => {
            tracing::warn!(
                %why,
                "system prompts not generated: the IVR skips prompts whose files are missing"
            );
            eprintln!("kefu: warning: system prompts not generated: {why}");
        }
        Err(e) => tracing::warn!(error = %e, "system prompt generation panicked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Mandarin voice reads characters as Mandarin, not their pinyin as English (the `(en)` switch
    /// in espeak-ng's phoneme output).
    #[test]
    fn mandarin_is_spoken_as_mandarin() {
        if tools_available().is_err() {
            eprintln!("SKIPPED mandarin_is_spoken_as_mandarin: espeak-ng is not installed");
            return;
        }
        let out = Command::new("espeak-ng")
            .args([
                "-v",
                mandarin_voice(),
                "-q",
                "-x",
                "--",
                "您好，三元两角，幺〇",
            ])
            .output()
            .unwrap();
        let phonemes = String::from_utf8_lossy(&out.stdout);
        assert!(!phonemes.contains("(en)"), "{phonemes}");
        assert!(phonemes.contains("s'a55n"), "三: {phonemes}");
    }

    #[test]
    fn languages_from_the_flag() {
        assert_eq!(languages("all").unwrap(), vec!["zh-CN", "en"]);
        assert_eq!(languages("en").unwrap(), vec!["en"]);
        assert!(languages("fr").is_err());
    }
}
