//! A customers file: one customer per row.

use kefu_domain::{
    Address, AreaCode, CustomerName, CustomerNo, CustomerRecord, District, FieldError, Language,
    MeterNo, NoticePreference, Phone, ServiceType, bounded_text, email_address,
};

use crate::sheet::{Column, Kind, RowCtx};

const CUSTOMER_NO: usize = 0;
const NAME: usize = 1;
const PHONES: usize = 2;
const ADDRESS: usize = 3;
const DISTRICT: usize = 4;
const SERVICE_TYPE: usize = 5;
const METER_NO: usize = 6;
const NOTICE_PREFERENCE: usize = 7;
const FAX: usize = 8;
const EMAIL: usize = 9;
const LANGUAGE: usize = 10;
const REMARKS: usize = 11;

pub(crate) const COLUMNS: &[Column] = &[
    Column::required(&["customer_no", "户号"]),
    Column::required(&["name", "姓名", "户名"]),
    Column::required(&["phones", "电话"]),
    Column::required(&["address", "地址"]),
    Column::required(&["district", "区域", "区"]),
    Column::required(&["service_type", "气种", "用气类型"]),
    Column::optional(&["meter_no", "表号"]),
    Column::optional(&["notice_preference", "通知方式"]),
    Column::optional(&["fax", "传真"]),
    Column::optional(&["email", "邮箱"]),
    Column::optional(&["language", "语言"]),
    Column::optional(&["remarks", "备注"]),
];

pub(crate) struct Customers<'a> {
    pub area: &'a AreaCode,
}

impl Kind for Customers<'_> {
    type Record = CustomerRecord;
    type Key = CustomerNo;
    const COLUMNS: &'static [Column] = COLUMNS;
    const KEY_COLUMN: usize = CUSTOMER_NO;

    fn parse(&self, row: &mut RowCtx<'_>) -> (Option<CustomerNo>, Option<CustomerRecord>) {
        let area = self.area;
        let customer_no = row.required(CUSTOMER_NO, CustomerNo::parse);
        let name = row.required(NAME, CustomerName::parse);
        let phones = row
            .cell(PHONES)
            .text()
            .and_then(|text| phones(text.as_deref().unwrap_or(""), area));
        let phones = row.check(PHONES, phones);
        let address = row.required(ADDRESS, Address::parse);
        let district = row.required(DISTRICT, District::parse);
        let service_type = row.required(SERVICE_TYPE, |s| {
            ServiceType::parse(s).map_err(|e| got(e, s))
        });
        let meter_no = row.optional(METER_NO, MeterNo::parse);
        let notice = row.optional(NOTICE_PREFERENCE, |s| {
            NoticePreference::parse(s).map_err(|e| got(e, s))
        });
        let notice = notice.map(|n| n.unwrap_or(NoticePreference::Sms));
        let fax = row.optional(FAX, |s| Phone::parse(s, area));
        let email = row.optional(EMAIL, email_address);
        let language = row.optional(LANGUAGE, |s| Language::parse(s).map_err(|e| got(e, s)));
        let remarks = row.optional(REMARKS, |s| bounded_text(s, 1, 500));
        if notice == Some(NoticePreference::Fax) && matches!(fax, Some(None)) {
            row.error(FAX, "required when the notice preference is fax");
        }
        if notice == Some(NoticePreference::Email) && matches!(email, Some(None)) {
            row.error(EMAIL, "required when the notice preference is email");
        }
        let record = (|| {
            Some(CustomerRecord {
                customer_no: customer_no.clone()?,
                name: name?,
                phones: phones?,
                address: address?,
                district: district?,
                service_type: service_type?,
                meter_no: meter_no?,
                notice_preference: notice?,
                fax: fax?,
                email: email?,
                language: language?.unwrap_or(Language::ZhCn),
                remarks: remarks?,
            })
        })();
        (customer_no, record)
    }
}

/// A keyword error with the value that was given.
fn got(e: FieldError, value: &str) -> FieldError {
    FieldError::new(e.field, format!("{} (got {value:?})", e.reason))
}

/// One or more numbers separated by `;` `；` `,` `，` `/` or blanks, each normalized, duplicates dropped.
/// Blanks also occur inside one number (`138 1234 5678`, `0574 87654321`): a piece between explicit
/// separators is first read as one number, and split at blanks only if that fails.
fn phones(cell: &str, area: &AreaCode) -> Result<Vec<Phone>, String> {
    let mut phones: Vec<Phone> = Vec::new();
    let mut problems = Vec::new();
    for piece in cell
        .split([';', '；', ',', '，', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let found = match Phone::parse(piece, area) {
            Ok(phone) => vec![Ok(phone)],
            Err(whole) => {
                let parts: Vec<_> = piece
                    .split_whitespace()
                    .map(|p| (p, Phone::parse(p, area)))
                    .collect();
                if parts.len() > 1 && parts.iter().any(|(_, r)| r.is_ok()) {
                    parts
                        .into_iter()
                        .map(|(p, r)| r.map_err(|e| (p, e)))
                        .collect()
                } else {
                    vec![Err((piece, whole))]
                }
            }
        };
        for result in found {
            match result {
                Ok(phone) if !phones.contains(&phone) => phones.push(phone),
                Ok(_) => {}
                Err((text, e)) => problems.push(format!("{text:?}: {}", e.reason)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    if phones.is_empty() {
        return Err("at least one phone number is required".to_string());
    }
    Ok(phones)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cell: &str) -> Result<Vec<String>, String> {
        phones(cell, &AreaCode::default())
            .map(|p| p.iter().map(|p| p.as_str().to_string()).collect())
    }

    #[test]
    fn phone_lists() {
        let both = Ok(vec!["13812345678".to_string(), "057487654321".to_string()]);
        for cell in [
            "13812345678;87654321",
            "13812345678；0574-87654321",
            "138 1234 5678, 87654321",
            "13812345678，87654321",
            "13812345678/87654321",
            "13812345678 87654321",
            "13812345678  0574-87654321 13812345678",
            "138-1234-5678; 0574 87654321;",
        ] {
            assert_eq!(check(cell), both, "{cell}");
        }
        assert_eq!(
            check(" ; "),
            Err("at least one phone number is required".to_string())
        );
        assert_eq!(
            check("13812345678 abc; 12345"),
            Err("\"abc\": invalid character 'a' in phone number; \"12345\": a mobile number has 11 digits and starts with 13-19".to_string())
        );
        assert_eq!(
            check("138 1234 567"),
            Err(
                "\"138 1234 567\": a mobile number has 11 digits and starts with 13-19".to_string()
            )
        );
    }
}
