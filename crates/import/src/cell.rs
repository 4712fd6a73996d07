//! One cell's value, from CSV text or a workbook cell, and its conversions to text, dates, periods and
//! money.

use std::borrow::Cow;

use calamine::Data;
use chrono::{Datelike, NaiveDate};
use kefu_domain::{Cents, Period};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    /// Trimmed, never blank.
    Text(&'a str),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// A date (or date-time) cell; the time of day is dropped.
    Date(NaiveDate),
    /// An Excel error value such as `#N/A`.
    Error(&'a calamine::CellErrorType),
    /// A date cell that does not hold a valid date (e.g. a duration).
    BadDate,
}

impl<'a> Cell<'a> {
    pub(crate) fn from_csv(s: &'a str) -> Cell<'a> {
        let s = s.trim();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    pub(crate) fn from_xlsx(data: &'a Data) -> Cell<'a> {
        match data {
            Data::Empty => Cell::Empty,
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::from_csv(s),
            Data::Float(f) => Cell::Number(*f),
            Data::Int(i) => Cell::Int(*i),
            Data::Bool(b) => Cell::Bool(*b),
            Data::Error(e) => Cell::Error(e),
            Data::DateTime(dt) => {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                match NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()) {
                    Some(date) if dt.is_datetime() && dt.as_f64() >= 1.0 => Cell::Date(date),
                    _ => Cell::BadDate,
                }
            }
        }
    }

    /// The cell as text, as a person sees it: `Ok(None)` if empty.
    pub(crate) fn text(self) -> Result<Option<Cow<'a, str>>, String> {
        Ok(Some(match self {
            Cell::Empty => return Ok(None),
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Number(f) => Cow::Owned(number_text(f)),
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Bool(b) => Cow::Borrowed(if b { "TRUE" } else { "FALSE" }),
            Cell::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            Cell::Error(e) => return Err(excel_error(e)),
            Cell::BadDate => {
                return Err("the cell holds a time or duration, not a date".to_string());
            }
        }))
    }

    /// A date cell, or text `YYYY-MM-DD`, `YYYY/M/D`, `YYYY.MM.DD`, `YYYYMMDD` or `YYYY年M月D日`,
    /// optionally followed by a time of day (dropped).
    pub(crate) fn date(self) -> Result<Option<NaiveDate>, String> {
        match self {
            Cell::Date(d) => in_range(d).map(Some),
            Cell::Number(f) if f.fract() != 0.0 || !(1.0e7..1.0e8).contains(&f) => Err(format!(
                "a number where a date is expected: {} (write YYYY-MM-DD or format the cell as a date)",
                number_text(f)
            )),
            other => other.text()?.map(|t| parse_date(&t)).transpose(),
        }
    }

    /// A period cell: text `YYYY-MM` (see [`Period::parse`]), `YYYY年M月`, a full date, or a date cell.
    pub(crate) fn period(self) -> Result<Option<Period>, String> {
        match self {
            Cell::Date(d) => Period::new(d.year(), d.month())
                .map(Some)
                .map_err(|e| e.reason),
            other => other.text()?.map(|t| parse_period(&t)).transpose(),
        }
    }

    /// An amount in yuan: text as [`Cents::parse_yuan`] takes it, or a number cell rounded to cents.
    pub(crate) fn amount(self) -> Result<Option<Cents>, String> {
        match self {
            Cell::Number(f) => number_cents(f).map(Some),
            Cell::Int(i) => i
                .checked_mul(100)
                .map(|c| Some(Cents(c)))
                .ok_or_else(|| "amount out of range".to_string()),
            Cell::Date(_) => Err("a date where an amount is expected".to_string()),
            other => other
                .text()?
                .map(|t| Cents::parse_yuan(&t).map_err(|e| e.reason))
                .transpose(),
        }
    }
}

fn excel_error(e: &calamine::CellErrorType) -> String {
    format!("the cell holds the Excel error {e}")
}

/// A number as Excel shows it in a General cell: whole numbers without `.0` (`13812345678`, `202610`).
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Yuan to cents without float arithmetic on the money: take the 15 significant digits Excel itself
/// keeps, then round to whole cents half away from zero, in integers.
fn number_cents(f: f64) -> Result<Cents, String> {
    if !f.is_finite() || f.abs() >= 1e12 {
        return Err(format!("amount out of range: {f}"));
    }
    // `d.dddddddddddddde±x`: 15 significant digits, value = digits × 10^(x-14), cents = digits × 10^(x-12).
    let sci = format!("{:.14e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let digits: u128 = mantissa.replace('.', "").parse().expect("digits");
    let exponent: i32 = exponent.parse().expect("exponent");
    let shift = 12 - exponent; // > 0 since |f| < 1e12
    let cents = if shift > 30 {
        0
    } else {
        let unit = 10u128.pow(shift as u32);
        digits / unit + u128::from(digits % unit * 2 >= unit)
    };
    let cents = i64::try_from(cents).expect("below 1e14");
    Ok(Cents(if f < 0.0 { -cents } else { cents }))
}

fn in_range(d: NaiveDate) -> Result<NaiveDate, String> {
    if (2000..=2100).contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!(
            "date out of range (2000 to 2100): {}",
            d.format("%Y-%m-%d")
        ))
    }
}

fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let bad = || format!("not a date (YYYY-MM-DD): {:?}", clip(input, 40));
    // Drop a time of day: `2026-11-20 00:00:00`, `2026-11-20T00:00`.
    let date = match input.split_once([' ', 'T']) {
        Some((date, time))
            if time
                .trim()
                .chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '.') =>
        {
            date
        }
        Some(_) => return Err(bad()),
        None => input,
    };
    let date = date.replace(['年', '月'], "-");
    let date = date.strip_suffix('日').unwrap_or(&date);
    let parts: Vec<&str> = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        vec![&date[..4], &date[4..6], &date[6..]]
    } else {
        date.split(['-', '/', '.']).collect()
    };
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return Err(bad());
    }
    let number = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (number(y)?, number(m)?, number(d)?);
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| format!("no such date: {:?}", clip(input, 40)))?;
    in_range(date)
}

fn parse_period(input: &str) -> Result<Period, String> {
    let s = input.replace('年', "-");
    let s = s.strip_suffix('月').unwrap_or(&s);
    match Period::parse(s) {
        Ok(p) => Ok(p),
        // A whole date names its month: what Excel writes for a date-formatted period saved as CSV.
        Err(e) => match parse_date(input) {
            Ok(d) => Period::new(d.year(), d.month()).map_err(|e| e.reason),
            Err(_) => Err(e.reason),
        },
    }
}

/// At most `max` characters of `s`, with `…` if cut: a huge cell must not make a huge error message.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_cents_as_excel_shows_them() {
        let cases = [
            (123.45, 12345),
            (0.1 + 0.2, 30),
            (42.435, 4244),
            (12.3 * 3.45, 4244),
            (1.005, 101),
            (0.125, 13),
            (-5.0, -500),
            (-0.004, 0),
            (1e-20, 0),
            (999_999_999_999.99, 99_999_999_999_999),
            (100.0, 10000),
        ];
        for (f, cents) in cases {
            assert_eq!(number_cents(f), Ok(Cents(cents)), "{f}");
        }
        assert!(number_cents(1e12).is_err());
        assert!(number_cents(f64::NAN).is_err());
    }

    #[test]
    fn dates_in_the_forms_billing_exports_use() {
        let want = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        for s in [
            "2026-01-05",
            "2026/1/5",
            "2026.01.05",
            "20260105",
            "2026年1月5日",
            "2026/1/5 0:00",
            "2026-01-05T00:00:00",
        ] {
            assert_eq!(parse_date(s), Ok(want), "{s}");
        }
        for s in [
            "2026-13-01",
            "2026-02-30",
            "05/01/2026",
            "2026-1",
            "1999-12-31",
            "2026-01-05 noon",
            "tomorrow",
        ] {
            assert!(parse_date(s).is_err(), "{s}");
        }
    }

    #[test]
    fn periods_in_the_forms_billing_exports_use() {
        for s in [
            "2026-10",
            "2026/10",
            "202610",
            "2026年10月",
            "2026-10-01",
            "2026/10/31",
        ] {
            assert_eq!(
                parse_period(s).map(|p| p.to_string()),
                Ok("2026-10".to_string()),
                "{s}"
            );
        }
        assert!(parse_period("2026-13").is_err());
    }

    #[test]
    fn numbers_read_as_text_have_no_float_tail() {
        assert_eq!(number_text(13812345678.0), "13812345678");
        assert_eq!(number_text(202610.0), "202610");
        assert_eq!(number_text(1.5), "1.5");
    }
}
