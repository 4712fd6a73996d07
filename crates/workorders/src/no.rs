//! Work-order numbers: `GD` + the creation date as YYMMDD + a sequence of that day, at least 4 digits
//! (GD2611260001). Short enough to say on the phone and type on a keypad, unique, and in creation order
//! when sorted (within a day, up to 9999 orders; the 10,000th gets 5 digits and sorts by length first).

use chrono::{Datelike, NaiveDate};
use kefu_domain::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct WorkOrderNo(String);

const PREFIX: &str = "GD";
/// Digits after the prefix: 6 for the date, 4 to 8 for the sequence.
const MIN_DIGITS: usize = 10;
const MAX_DIGITS: usize = 14;

impl WorkOrderNo {
    /// The `seq`-th order (1-based) created on `day` (in the company's time zone).
    pub fn new(day: NaiveDate, seq: u32) -> WorkOrderNo {
        WorkOrderNo(format!(
            "{PREFIX}{:02}{:02}{:02}{seq:04}",
            day.year().rem_euclid(100),
            day.month(),
            day.day()
        ))
    }

    /// Reads a number as people type it: any case, with spaces or dashes, with or without `GD`
    /// (an IVR caller keys in digits only).
    pub fn parse(input: &str) -> Result<WorkOrderNo, FieldError> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        let digits = compact.strip_prefix(PREFIX).unwrap_or(&compact);
        let shape_ok = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        let bad = || {
            FieldError::new(
                "",
                "a work-order number is GD followed by 10-14 digits, e.g. GD2611260001",
            )
        };
        if !shape_ok {
            return Err(bad());
        }
        let date_ok = NaiveDate::parse_from_str(&format!("20{}", &digits[..6]), "%Y%m%d").is_ok();
        let seq_ok = digits[6..].bytes().any(|b| b != b'0');
        if !date_ok || !seq_ok {
            return Err(bad());
        }
        Ok(WorkOrderNo(format!("{PREFIX}{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits only, as an IVR caller keys them in and as the IVR reads them out one by one.
    pub fn digits(&self) -> &str {
        &self.0[PREFIX.len()..]
    }

    /// The digits spaced for reading aloud digit by digit ("2 6 1 1 2 6 0 0 0 1"); Chinese speakers say
    /// 幺 for 1 in numbers, which the prompt set handles, not this function.
    pub fn spoken(&self) -> String {
        let mut out = String::with_capacity(self.digits().len() * 2);
        for (i, c) in self.digits().chars().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// The day the order was created.
    pub fn day(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&format!("20{}", &self.digits()[..6]), "%Y%m%d")
            .expect("checked by the constructors")
    }

    pub fn seq(&self) -> u32 {
        self.digits()[6..]
            .parse()
            .expect("checked by the constructors")
    }
}

impl std::fmt::Display for WorkOrderNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn numbers_are_short_and_sort_in_creation_order() {
        let first = WorkOrderNo::new(day(2026, 11, 26), 1);
        assert_eq!(first.as_str(), "GD2611260001");
        assert_eq!(first.digits(), "2611260001");
        assert_eq!(first.spoken(), "2 6 1 1 2 6 0 0 0 1");
        assert_eq!(first.day(), day(2026, 11, 26));
        assert_eq!(first.seq(), 1);
        let later = WorkOrderNo::new(day(2026, 11, 26), 42);
        let next_day = WorkOrderNo::new(day(2026, 11, 27), 1);
        let next_year = WorkOrderNo::new(day(2027, 1, 2), 1);
        assert!(first < later && later < next_day && next_day < next_year);
        assert_eq!(WorkOrderNo::new(day(2026, 11, 26), 12345).seq(), 12345);
    }

    #[test]
    fn parse_takes_what_people_type() {
        for typed in [
            "GD2611260001",
            "gd2611260001",
            " GD 2611 2600 01 ",
            "GD-261126-0001",
            "2611260001",
        ] {
            assert_eq!(
                WorkOrderNo::parse(typed).unwrap().as_str(),
                "GD2611260001",
                "{typed}"
            );
        }
        for bad in [
            "",
            "GD",
            "GD26112600",
            "GD261126000a",
            "GD2613260001",
            "GD2611260000",
            "XX2611260001",
            "GD261126000000001",
            "GD２６１１２６０００１",
        ] {
            assert!(WorkOrderNo::parse(bad).is_err(), "{bad}");
        }
    }
}
