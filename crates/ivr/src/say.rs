//! Values as spoken words. Each [`Word`] is a system prompt (its key names the WAV file,
//! `<prompts>/<language>/<key>.wav`) with its text (what the simulator shows, and what espeak-ng
//! speaks when the system set is generated).
//!
//! (The full Mandarin and English readings of numbers, money, dates and statuses are being written;
//! this first version reads digit strings only.)

use crate::model::SayAs;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub key: String,
    pub text: String,
}

/// Reads `value` as `as_` in `language` (`zh-CN` or `en`); `None` when the value cannot be read that
/// way (e.g. letters as money). `SayAs::Text` is not words (the runtime speaks it): `None`.
pub fn say(language: &str, value: &str, as_: SayAs) -> Option<Vec<Word>> {
    let zh = language != "en";
    match as_ {
        SayAs::Digits => {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(
                value
                    .chars()
                    .map(|c| {
                        let d = c as u8 - b'0';
                        Word {
                            key: format!("digit_{d}"),
                            text: if zh {
                                ["零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"][d as usize]
                                    .to_string()
                            } else {
                                c.to_string()
                            },
                        }
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}
