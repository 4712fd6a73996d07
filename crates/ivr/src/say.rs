//! Values as spoken words. Each [`Word`] is a system prompt (its key names the WAV file,
//! `<prompts>/<language>/<key>.wav`, and is an entry of [`crate::prompts::catalog`]) with its text
//! (what the simulator shows, and what espeak-ng speaks when the system set is generated).
//!
//! Mandarin (`zh-CN`, and any language that is not `en`):
//! - numbers: 10 十, 15 十五, 110 一百一十, 1005 一千零五, 10010 一万零一十, 两百/两千/两万/两亿 but
//!   二十/十二, up to 亿 and beyond (一万亿), negatives (负), decimals (三点一四);
//! - money from integer fen: 十二元三角四分, 十二元整, 五分, 十元零五分, 零元;
//! - dates `YYYY-MM-DD`: 二〇二六年十一月二十六日 (the year digit by digit);
//! - digit strings one by one with 1 as 幺 (phone and order numbers);
//! - work-order statuses by their Chinese names.
//!
//! English: "one thousand two hundred thirty four", "twelve yuan and thirty four fen",
//! "November twenty sixth, twenty twenty six", digits as "one three eight".

use crate::model::SayAs;
use crate::prompts;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub key: String,
    pub text: String,
}

/// Reads `value` as `as_` in `language` (`zh-CN` or `en`); `None` when the value cannot be read that
/// way (e.g. letters as money). `SayAs::Text` is not words (the runtime speaks it): `None`.
pub fn say(language: &str, value: &str, as_: SayAs) -> Option<Vec<Word>> {
    let lang = if language == "en" { Lang::En } else { Lang::Zh };
    let value = value.trim();
    let mut out = Out {
        lang,
        words: Vec::new(),
    };
    match as_ {
        SayAs::Number => out.number(value)?,
        SayAs::Money => out.money(value)?,
        SayAs::Date => out.date(value)?,
        SayAs::Digits => out.digits(value)?,
        SayAs::Status => out.status(value)?,
        SayAs::Text => return None,
    }
    Some(out.words)
}

/// The work-order status keywords `say` reads, with their prompt keys.
pub const STATUSES: [&str; 11] = [
    "new",
    "dispatched",
    "accepted",
    "in_progress",
    "waiting_customer",
    "feedback_submitted",
    "closed",
    "callback_done",
    "archived",
    "cancelled",
    "merged",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

struct Out {
    lang: Lang,
    words: Vec<Word>,
}

const WAN: u64 = 10_000;
const YI: u64 = 100_000_000;

impl Out {
    /// Pushes the system prompt `key` with its catalog text.
    fn push(&mut self, key: &str) {
        let text = prompts::text(key, self.lang_code()).unwrap_or(key);
        self.push_text(key, text);
    }

    /// Pushes `key` with a text other than the catalog's (〇 for a zero in a year).
    fn push_text(&mut self, key: &str, text: &str) {
        self.words.push(Word {
            key: key.to_string(),
            text: text.to_string(),
        });
    }

    fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    fn digit(&mut self, d: u64) {
        self.push(DIGIT_KEYS[d as usize]);
    }

    // ---- numbers ----

    fn number(&mut self, value: &str) -> Option<()> {
        let (negative, rest) = match value.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, value),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if let Some(f) = frac
            && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let n: u64 = int.parse().ok()?;
        let frac = frac
            .map(|f| f.trim_end_matches('0'))
            .filter(|f| !f.is_empty());
        if negative && (n != 0 || frac.is_some()) {
            self.push("minus");
        }
        self.cardinal(n);
        if let Some(f) = frac {
            self.push("point");
            for b in f.bytes() {
                self.digit(u64::from(b - b'0'));
            }
        }
        Some(())
    }

    fn cardinal(&mut self, n: u64) {
        match self.lang {
            Lang::Zh => {
                if n == 0 {
                    self.push("num_0");
                } else {
                    self.zh_int(n, true);
                }
            }
            Lang::En => {
                if n == 0 {
                    self.push("num_0");
                } else {
                    self.en_int(n);
                }
            }
        }
    }

    /// `n > 0` in Mandarin; `leading`: nothing is said before it (10 is 十, not 一十).
    fn zh_int(&mut self, n: u64, leading: bool) {
        for (unit, key, zero_below) in [(YI, "num_1e8", YI / 10), (WAN, "num_10000", WAN / 10)] {
            if n >= unit {
                let high = n / unit;
                if high == 2 {
                    self.push("liang");
                } else {
                    self.zh_int(high, leading);
                }
                self.push(key);
                let low = n % unit;
                if low > 0 {
                    if low < zero_below {
                        self.push("num_0");
                    }
                    self.zh_int(low, false);
                }
                return;
            }
        }
        // below 10,000
        let mut emitted = false;
        let mut zero = false;
        for (unit, key) in [
            (1000, "num_1000"),
            (100, "num_100"),
            (10, "num_10"),
            (1, ""),
        ] {
            let d = (n / unit) % 10;
            if d == 0 {
                zero |= emitted;
                continue;
            }
            if zero {
                self.push("num_0");
                zero = false;
            }
            if unit == 10 && d == 1 && leading && !emitted {
                // 十五, not 一十五
            } else if d == 2 && unit >= 100 {
                self.push("liang");
            } else {
                self.digit(d);
            }
            if unit > 1 {
                self.push(key);
            }
            emitted = true;
        }
    }

    /// `n > 0` in English (short scale, no "and"): "one thousand two hundred thirty four".
    fn en_int(&mut self, n: u64) {
        const BILLION: u64 = 1_000_000_000;
        for (unit, key) in [
            (BILLION, "en_billion"),
            (1_000_000, "en_million"),
            (1_000, "num_1000"),
        ] {
            if n >= unit {
                self.en_int(n / unit);
                self.push(key);
                if !n.is_multiple_of(unit) {
                    self.en_int(n % unit);
                }
                return;
            }
        }
        if n >= 100 {
            self.digit(n / 100);
            self.push("num_100");
            if !n.is_multiple_of(100) {
                self.en_below_100(n % 100);
            }
            return;
        }
        self.en_below_100(n);
    }

    fn en_below_100(&mut self, n: u64) {
        match n {
            0..=9 => self.digit(n),
            10 => self.push("num_10"),
            11..=19 => self.push(EN_TEENS[(n - 11) as usize]),
            _ => {
                self.push(EN_TENS[(n / 10 - 2) as usize]);
                if !n.is_multiple_of(10) {
                    self.digit(n % 10);
                }
            }
        }
    }

    // ---- money ----

    fn money(&mut self, value: &str) -> Option<()> {
        let (negative, rest) = match value.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, value),
        };
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let fen: u64 = rest.parse().ok()?;
        if negative && fen != 0 {
            self.push("minus");
        }
        let yuan = fen / 100;
        let cents = fen % 100;
        match self.lang {
            Lang::Zh => {
                let (jiao, f) = (cents / 10, cents % 10);
                if yuan > 0 || cents == 0 {
                    self.zh_small_unit(yuan);
                    self.push("yuan");
                    if cents == 0 {
                        if yuan > 0 {
                            self.push("zheng");
                        }
                        return Some(());
                    }
                }
                if jiao > 0 {
                    self.zh_small_unit(jiao);
                    self.push("jiao");
                } else if yuan > 0 {
                    self.push("num_0");
                }
                if f > 0 {
                    self.digit(f);
                    self.push("fen");
                }
            }
            Lang::En => {
                if yuan > 0 || cents == 0 {
                    self.cardinal(yuan);
                    self.push("yuan");
                    if cents > 0 {
                        self.push("en_and");
                    }
                }
                if cents > 0 {
                    self.cardinal(cents);
                    self.push("fen");
                }
            }
        }
        Some(())
    }

    /// A count before 元 or 角: 2 is 两 (两元, 两角), anything else as a number.
    fn zh_small_unit(&mut self, n: u64) {
        if n == 2 {
            self.push("liang");
        } else {
            self.cardinal(n);
        }
    }

    // ---- dates ----

    fn date(&mut self, value: &str) -> Option<()> {
        // A date-time reads as its date.
        let day = match value.get(10..11) {
            Some("T") | Some(" ") => &value[..10],
            _ => value,
        };
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        if day.len() != 10 {
            return None;
        }
        use chrono::Datelike;
        let (y, m, dd) = (d.year() as u64, u64::from(d.month()), u64::from(d.day()));
        match self.lang {
            Lang::Zh => {
                for b in day[..4].bytes() {
                    let digit = u64::from(b - b'0');
                    if digit == 0 {
                        self.push_text("num_0", "〇");
                    } else {
                        self.digit(digit);
                    }
                }
                self.push("year");
                self.zh_int(m, true);
                self.push("month");
                self.zh_int(dd, true);
                self.push("day");
            }
            Lang::En => {
                self.push(EN_MONTHS[(m - 1) as usize]);
                match dd {
                    1..=19 => self.push(EN_ORDINALS[(dd - 1) as usize]),
                    20 => self.push("ord_20"),
                    30 => self.push("ord_30"),
                    _ => {
                        self.push(EN_TENS[(dd / 10 - 2) as usize]);
                        self.push(EN_ORDINALS[(dd % 10 - 1) as usize]);
                    }
                }
                self.en_year(y);
            }
        }
        Some(())
    }

    /// 2026 "twenty twenty six", 2000 "two thousand", 2005 "two thousand five", 1905 "nineteen oh
    /// five", 1900 "nineteen hundred".
    fn en_year(&mut self, y: u64) {
        let (hi, lo) = (y / 100, y % 100);
        if y < 1000 || y % 1000 < 10 {
            self.cardinal(y);
        } else if lo == 0 {
            self.en_below_100(hi);
            self.push("num_100");
        } else {
            self.en_below_100(hi);
            if lo < 10 {
                self.push("en_oh");
            }
            self.en_below_100(lo);
        }
    }

    // ---- digits and statuses ----

    fn digits(&mut self, value: &str) -> Option<()> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for b in value.bytes() {
            let d = b - b'0';
            if d == 1 && self.lang == Lang::Zh {
                self.push("yao");
            } else {
                self.digit(u64::from(d));
            }
        }
        Some(())
    }

    fn status(&mut self, value: &str) -> Option<()> {
        let s = value.to_ascii_lowercase();
        let s = STATUSES.iter().find(|k| **k == s)?;
        self.push(&format!("status_{s}"));
        Some(())
    }
}

const DIGIT_KEYS: [&str; 10] = [
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
];
const EN_TEENS: [&str; 9] = [
    "en_11", "en_12", "en_13", "en_14", "en_15", "en_16", "en_17", "en_18", "en_19",
];
const EN_TENS: [&str; 8] = [
    "en_20", "en_30", "en_40", "en_50", "en_60", "en_70", "en_80", "en_90",
];
const EN_MONTHS: [&str; 12] = [
    "month_1", "month_2", "month_3", "month_4", "month_5", "month_6", "month_7", "month_8",
    "month_9", "month_10", "month_11", "month_12",
];
const EN_ORDINALS: [&str; 19] = [
    "ord_1", "ord_2", "ord_3", "ord_4", "ord_5", "ord_6", "ord_7", "ord_8", "ord_9", "ord_10",
    "ord_11", "ord_12", "ord_13", "ord_14", "ord_15", "ord_16", "ord_17", "ord_18", "ord_19",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The spoken text (zh joined without spaces, en with spaces) or `-` when unreadable.
    fn spoken(language: &str, value: &str, as_: SayAs) -> String {
        match say(language, value, as_) {
            None => "-".to_string(),
            Some(words) => words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(if language == "en" { " " } else { "" }),
        }
    }

    fn check(language: &str, as_: SayAs, table: &[(&str, &str)]) {
        let mut wrong = Vec::new();
        for (value, want) in table {
            let got = spoken(language, value, as_);
            if got != *want {
                wrong.push(format!(
                    "{value:?} as {as_:?} in {language}: got {got:?}, want {want:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn mandarin_numbers() {
        check(
            "zh-CN",
            SayAs::Number,
            &[
                ("0", "零"),
                ("1", "一"),
                ("2", "二"),
                ("10", "十"),
                ("11", "十一"),
                ("12", "十二"),
                ("15", "十五"),
                ("20", "二十"),
                ("22", "二十二"),
                ("99", "九十九"),
                ("100", "一百"),
                ("101", "一百零一"),
                ("110", "一百一十"),
                ("115", "一百一十五"),
                ("200", "两百"),
                ("222", "两百二十二"),
                ("1000", "一千"),
                ("1005", "一千零五"),
                ("1010", "一千零一十"),
                ("1200", "一千两百"),
                ("1234", "一千两百三十四"),
                ("2000", "两千"),
                ("2002", "两千零二"),
                ("9999", "九千九百九十九"),
                ("10000", "一万"),
                ("10010", "一万零一十"),
                ("10100", "一万零一百"),
                ("11000", "一万一千"),
                ("20000", "两万"),
                ("22222", "两万两千两百二十二"),
                ("100000", "十万"),
                ("120000", "十二万"),
                ("1000000", "一百万"),
                ("1002000", "一百万两千"),
                ("1000200", "一百万零两百"),
                ("10020000", "一千零二万"),
                ("100000000", "一亿"),
                ("100001000", "一亿零一千"),
                ("100100000", "一亿零一十万"),
                ("110000000", "一亿一千万"),
                ("200000000", "两亿"),
                ("1000000001", "十亿零一"),
                ("1200000000", "十二亿"),
                ("1000000000000", "一万亿"),
                ("-5", "负五"),
                ("-0", "零"),
                ("-1234", "负一千两百三十四"),
                ("3.14", "三点一四"),
                ("0.5", "零点五"),
                ("2.50", "二点五"),
                ("-2.05", "负二点零五"),
                ("10.0", "十"),
                (" 3 ", "三"),
                ("007", "七"),
                ("", "-"),
                ("abc", "-"),
                ("1e5", "-"),
                ("1.", "-"),
                (".5", "-"),
                ("--1", "-"),
                ("1,000", "-"),
                ("99999999999999999999999", "-"),
            ],
        );
    }

    #[test]
    fn mandarin_money() {
        check(
            "zh-CN",
            SayAs::Money,
            &[
                ("1234", "十二元三角四分"),
                ("1200", "十二元整"),
                ("5", "五分"),
                ("30", "三角"),
                ("34", "三角四分"),
                ("100", "一元整"),
                ("0", "零元"),
                ("1005", "十元零五分"),
                ("1050", "十元五角"),
                ("200", "两元整"),
                ("220", "两元两角"),
                ("202", "两元零二分"),
                ("12345600", "十二万三千四百五十六元整"),
                ("-1234", "负十二元三角四分"),
                ("-5", "负五分"),
                ("12.34", "-"),
                ("", "-"),
                ("十二", "-"),
            ],
        );
    }

    #[test]
    fn mandarin_dates_digits_statuses() {
        check(
            "zh-CN",
            SayAs::Date,
            &[
                ("2026-11-26", "二〇二六年十一月二十六日"),
                ("2026-01-01", "二〇二六年一月一日"),
                ("2000-10-10", "二〇〇〇年十月十日"),
                ("1999-12-31", "一九九九年十二月三十一日"),
                ("2026-02-20", "二〇二六年二月二十日"),
                ("2026-11-26T08:00:00Z", "二〇二六年十一月二十六日"),
                ("2026-02-30", "-"),
                ("2026-1-5", "-"),
                ("26-11-26", "-"),
                ("", "-"),
            ],
        );
        check(
            "zh-CN",
            SayAs::Digits,
            &[
                ("13812345678", "幺三八幺二三四五六七八"),
                ("0574", "零五七四"),
                ("", "-"),
                ("12a", "-"),
                ("-1", "-"),
            ],
        );
        check(
            "zh-CN",
            SayAs::Status,
            &[
                ("new", "新建"),
                ("dispatched", "已派单"),
                ("accepted", "已接单"),
                ("in_progress", "处理中"),
                ("waiting_customer", "等待客户"),
                ("feedback_submitted", "已反馈"),
                ("closed", "已办结"),
                ("callback_done", "已回访"),
                ("archived", "已归档"),
                ("cancelled", "已撤销"),
                ("merged", "已合并"),
                ("Closed", "已办结"),
                ("open", "-"),
            ],
        );
        assert_eq!(say("zh-CN", "12", SayAs::Text), None);
    }

    #[test]
    fn english() {
        check(
            "en",
            SayAs::Number,
            &[
                ("0", "zero"),
                ("2", "two"),
                ("10", "ten"),
                ("15", "fifteen"),
                ("20", "twenty"),
                ("42", "forty two"),
                ("100", "one hundred"),
                ("101", "one hundred one"),
                ("1234", "one thousand two hundred thirty four"),
                ("20000", "twenty thousand"),
                ("100000", "one hundred thousand"),
                ("100000000", "one hundred million"),
                ("1000000001", "one billion one"),
                ("-7", "minus seven"),
                ("3.14", "three point one four"),
                ("x", "-"),
            ],
        );
        check(
            "en",
            SayAs::Money,
            &[
                ("1234", "twelve yuan and thirty four fen"),
                ("1200", "twelve yuan"),
                ("5", "five fen"),
                ("100", "one yuan"),
                ("0", "zero yuan"),
                ("1005", "ten yuan and five fen"),
                ("-250", "minus two yuan and fifty fen"),
                ("1.5", "-"),
            ],
        );
        check(
            "en",
            SayAs::Date,
            &[
                ("2026-11-26", "November twenty sixth twenty twenty six"),
                ("2026-01-01", "January first twenty twenty six"),
                ("2000-03-20", "March twentieth two thousand"),
                ("2005-07-30", "July thirtieth two thousand five"),
                ("1905-05-31", "May thirty first nineteen oh five"),
                ("1900-12-12", "December twelfth nineteen hundred"),
                ("2010-02-02", "February second twenty ten"),
                ("2026-13-01", "-"),
            ],
        );
        check(
            "en",
            SayAs::Digits,
            &[("13800", "one three eight zero zero"), ("", "-")],
        );
        check(
            "en",
            SayAs::Status,
            &[("in_progress", "in progress"), ("closed", "closed")],
        );
    }

    /// Reads a Mandarin numeral back (an independent parser): the value `say` meant.
    fn parse_zh(text: &str) -> u64 {
        let (mut total, mut acc, mut number) = (0u64, 0u64, 0u64);
        for c in text.chars() {
            let digit = "零一二三四五六七八九".chars().position(|d| d == c);
            match (c, digit) {
                (_, Some(d)) => number = d as u64,
                ('两', _) => number = 2,
                ('十' | '百' | '千', _) => {
                    let unit = match c {
                        '十' => 10,
                        '百' => 100,
                        _ => 1000,
                    };
                    acc += if number == 0 { 1 } else { number } * unit;
                    number = 0;
                }
                ('万', _) => {
                    acc = (acc + number) * 10_000;
                    number = 0;
                }
                ('亿', _) => {
                    total = (total + acc + number) * 100_000_000;
                    acc = 0;
                    number = 0;
                }
                _ => panic!("{c} in {text}"),
            }
        }
        total + acc + number
    }

    fn english_value(words: &[Word]) -> u64 {
        let (mut total, mut group, mut small) = (0u64, 0u64, 0u64);
        for w in words {
            let k = w.key.as_str();
            if let Some(n) = k.strip_prefix("num_").and_then(|n| n.parse::<u64>().ok()) {
                match n {
                    0..=10 => small += n,
                    100 => small *= 100,
                    1000 => {
                        group += small;
                        total += group * 1000;
                        group = 0;
                        small = 0;
                    }
                    _ => panic!("{k}"),
                }
            } else if let Some(n) = k.strip_prefix("en_").and_then(|n| n.parse::<u64>().ok()) {
                small += n;
            } else if k == "en_million" || k == "en_billion" {
                let unit = if k == "en_million" {
                    1_000_000
                } else {
                    1_000_000_000
                };
                // What came before this unit since the last larger one.
                let before = total % unit;
                total = total - before + (before + group + small) * unit;
                group = 0;
                small = 0;
            } else {
                panic!("{k}");
            }
            if small >= 100 {
                group += small;
                small = 0;
            }
        }
        total + group + small
    }

    /// Numbers read out and read back give the number, over every value to 100,000 and a spread of
    /// larger ones; Mandarin never starts with 一十, never says 零 twice in a row or at the end.
    #[test]
    fn numbers_read_back_to_themselves() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut values: Vec<u64> = (0..=100_000).collect();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 14) as u32 + 1;
            values.push(x % 10u64.pow(digits));
        }
        for n in values {
            let zh = spoken("zh-CN", &n.to_string(), SayAs::Number);
            assert_eq!(parse_zh(&zh), n, "{n} → {zh}");
            assert!(!zh.starts_with("一十"), "{n} → {zh}");
            assert!(!zh.contains("零零"), "{n} → {zh}");
            assert!(n == 0 || !zh.ends_with('零'), "{n} → {zh}");
            if n < 1_000_000_000_000 {
                let en = say("en", &n.to_string(), SayAs::Number).unwrap();
                assert_eq!(
                    english_value(&en),
                    n,
                    "{n} → {}",
                    spoken("en", &n.to_string(), SayAs::Number)
                );
            }
        }
    }

    /// Every key `say` emits is a system prompt of that language (so it has a recording), over every
    /// kind of value and a sweep of numbers, amounts and dates.
    #[test]
    fn every_word_is_a_system_prompt() {
        let mut values: Vec<(SayAs, String)> = Vec::new();
        for n in (0u64..=2_000).chain([
            10_010,
            20_000,
            100_000,
            1_000_000,
            100_000_000,
            1_000_000_001,
            123_456_789_012,
        ]) {
            values.push((SayAs::Number, n.to_string()));
            values.push((SayAs::Number, format!("-{n}.05")));
            values.push((SayAs::Money, n.to_string()));
            values.push((SayAs::Money, (n * 997).to_string()));
            values.push((SayAs::Digits, n.to_string()));
        }
        let mut day = chrono::NaiveDate::from_ymd_opt(1999, 1, 1).unwrap();
        while day.year_ce().1 < 2031 {
            values.push((SayAs::Date, day.to_string()));
            day = day.succ_opt().unwrap();
        }
        values.extend(STATUSES.iter().map(|s| (SayAs::Status, s.to_string())));
        use chrono::Datelike;
        for language in ["zh-CN", "en"] {
            for (as_, v) in &values {
                let words = say(language, v, *as_).unwrap_or_else(|| panic!("{v} as {as_:?}"));
                assert!(!words.is_empty());
                for w in words {
                    assert!(
                        w.key
                            .bytes()
                            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_')),
                        "{}",
                        w.key
                    );
                    let text = crate::prompts::text(&w.key, language);
                    assert!(
                        text.is_some(),
                        "{v} as {as_:?} in {language}: {} missing",
                        w.key
                    );
                    if w.text != "〇" {
                        assert_eq!(Some(w.text.as_str()), text, "{}", w.key);
                    }
                }
            }
        }
    }
}
