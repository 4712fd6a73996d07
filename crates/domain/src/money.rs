use crate::FieldError;

/// An amount in 分 (fen, 1/100 yuan). Integers only: no float ever touches money.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// Parses a yuan amount as written in a bill file: `123`, `123.4`, `123.45`, `-5.00`, `1,234.50`.
    pub fn parse_yuan(input: &str) -> Result<Cents, FieldError> {
        let s: String = input
            .trim()
            .chars()
            .filter(|&c| c != ',' && c != '¥' && c != '￥')
            .collect();
        let bad = || FieldError::new("", format!("not an amount in yuan: {:?}", input.trim()));
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || whole.len() > 12 || frac.len() > 2 {
            return Err(bad());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse().map_err(|_| bad())?,
        };
        let cents = whole * 100 + frac;
        Ok(Cents(if neg { -cents } else { cents }))
    }

    /// `12345` → `"123.45"`.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan() {
        assert_eq!(Cents::parse_yuan("123").unwrap(), Cents(12300));
        assert_eq!(Cents::parse_yuan("123.4").unwrap(), Cents(12340));
        assert_eq!(Cents::parse_yuan(" 1,234.05 ").unwrap(), Cents(123405));
        assert_eq!(Cents::parse_yuan("-5.00").unwrap(), Cents(-500));
        assert_eq!(Cents::parse_yuan("￥8.8").unwrap(), Cents(880));
        for bad in ["", ".5", "1.234", "1e3", "abc", "--1", "99999999999999"] {
            assert!(Cents::parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(Cents(-1205).to_yuan_string(), "-12.05");
        assert_eq!(Cents(7).to_yuan_string(), "0.07");
    }
}
