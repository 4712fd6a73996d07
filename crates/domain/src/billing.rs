use chrono::{Datelike, NaiveDate};

use crate::FieldError;
use crate::keyword_enum;

/// A billing period: one calendar month, written `2026-10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Result<Period, FieldError> {
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(FieldError::new(
                "",
                "a billing period is YYYY-MM between 2000-01 and 2100-12",
            ));
        }
        Ok(Period { year, month })
    }

    /// Accepts `2026-10`, `2026/10` and `202610`.
    pub fn parse(input: &str) -> Result<Period, FieldError> {
        let s = input.trim();
        let bad = || FieldError::new("", format!("not a billing period (YYYY-MM): {s:?}"));
        let (y, m) = if let Some((y, m)) = s.split_once(['-', '/']) {
            (y, m)
        } else if s.len() == 6 {
            s.split_at(4)
        } else {
            return Err(bad());
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        Period::new(year, month)
    }

    pub fn of(date: NaiveDate) -> Period {
        Period {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn previous(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated period")
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

keyword_enum!(
    /// Whether a bill has been settled. `Overdue` is not stored: it is `Unpaid` past the due date.
    BillStatus { Unpaid = "unpaid", Paid = "paid", Overdue = "overdue" }
);

impl BillStatus {
    fn from_chinese(s: &str) -> Option<BillStatus> {
        match s {
            "未缴" | "未缴费" | "欠费" => Some(BillStatus::Unpaid),
            "已缴" | "已缴费" => Some(BillStatus::Paid),
            "逾期" => Some(BillStatus::Overdue),
            _ => None,
        }
    }

    /// What a bill is on `today`: paid, unpaid, or unpaid past its due date.
    pub fn on(paid: bool, due: NaiveDate, today: NaiveDate) -> BillStatus {
        if paid {
            BillStatus::Paid
        } else if today > due {
            BillStatus::Overdue
        } else {
            BillStatus::Unpaid
        }
    }
}

keyword_enum!(
    PaymentMethod { Counter = "counter", Bank = "bank", Wechat = "wechat", Alipay = "alipay", Other = "other" }
);

impl PaymentMethod {
    fn from_chinese(s: &str) -> Option<PaymentMethod> {
        match s {
            "柜台" | "营业厅" => Some(PaymentMethod::Counter),
            "银行" | "银行代扣" => Some(PaymentMethod::Bank),
            "微信" => Some(PaymentMethod::Wechat),
            "支付宝" => Some(PaymentMethod::Alipay),
            "其他" => Some(PaymentMethod::Other),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(Period::parse("2026-10").unwrap().to_string(), "2026-10");
        assert_eq!(Period::parse("2026/3").unwrap().to_string(), "2026-03");
        assert_eq!(
            Period::parse("202601").unwrap().previous().to_string(),
            "2025-12"
        );
        for bad in ["2026-13", "26-10", "2026", "abc", "2026-00", "1999-12"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overdue_is_derived() {
        let due = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let before = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_eq!(BillStatus::on(false, due, before), BillStatus::Unpaid);
        assert_eq!(BillStatus::on(false, due, after), BillStatus::Overdue);
        assert_eq!(BillStatus::on(true, due, after), BillStatus::Paid);
    }
}
