//! Deterministic synthetic data, for benchmarks, round-trip tests and demo data sets.

use chrono::NaiveDate;
use kefu_domain::{
    Address, AreaCode, BillRecord, Cents, CustomerName, CustomerNo, CustomerRecord, District,
    Language, MeterNo, NoticePreference, Period, Phone, ServiceType,
};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "霞",
];
const DISTRICTS: &[&str] = &["海曙区", "江北区", "鄞州区", "镇海区", "北仑区", "奉化区"];
const STREETS: &[&str] = &[
    "中山西路",
    "人民路",
    "天童南路",
    "解放北路",
    "百丈路",
    "钱湖北路",
];

/// A small, fast, deterministic generator (SplitMix64): the same `n` always gives the same data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `n` plausible customers numbered `NB00000001`…, in Ningbo (area code 0574). Some have two phone
/// numbers, a fax or an e-mail preference, and remarks with commas and quotes, to exercise the CSV
/// quoting.
pub fn sample_customers(n: usize) -> Vec<CustomerRecord> {
    let area = AreaCode::default();
    let mut mix = Mix(42);
    (0..n)
        .map(|i| {
            let district = mix.pick(DISTRICTS);
            let mobile = format!("1{}{:09}", 3 + mix.below(7), mix.next() % 1_000_000_000);
            let mut phones = vec![Phone::parse(&mobile, &area).expect("valid mobile")];
            if mix.below(4) == 0 {
                let landline = format!("0574{}", 80_000_000 + mix.below(10_000_000));
                phones.push(Phone::parse(&landline, &area).expect("valid landline"));
            }
            let (notice, fax, email) = match mix.below(20) {
                0 => (NoticePreference::Fax, Some(phones[0].clone()), None),
                1 => (
                    NoticePreference::Email,
                    None,
                    Some(format!("user{i}@example.com")),
                ),
                2 => (NoticePreference::Voice, None, None),
                _ => (NoticePreference::Sms, None, None),
            };
            let fax = fax.map(|_| {
                Phone::parse(&format!("0574{}", 80_000_000 + i % 10_000_000), &area).expect("fax")
            });
            let name = format!(
                "{}{}{}",
                mix.pick(SURNAMES),
                mix.pick(GIVEN),
                mix.pick(GIVEN)
            );
            let address = format!(
                "{district}{}{}号{}室",
                mix.pick(STREETS),
                1 + mix.below(300),
                101 + mix.below(1500)
            );
            let remarks = match mix.below(10) {
                0 => Some("老人独居, 上门请先电话联系".to_string()),
                1 => Some("表箱在\"楼道\"外侧".to_string()),
                _ => None,
            };
            CustomerRecord {
                customer_no: CustomerNo::parse(&format!("NB{:08}", i + 1))
                    .expect("valid customer number"),
                name: CustomerName::parse(&name).expect("valid name"),
                phones,
                address: Address::parse(&address).expect("valid address"),
                district: District::parse(district).expect("valid district"),
                service_type: if mix.below(5) == 0 {
                    ServiceType::Bottled
                } else {
                    ServiceType::Pipeline
                },
                meter_no: (mix.below(5) != 0).then(|| {
                    MeterNo::parse(&format!("M{:010}", mix.next() % 10_000_000_000)).expect("meter")
                }),
                notice_preference: notice,
                fax,
                email,
                language: if mix.below(50) == 0 {
                    Language::En
                } else {
                    Language::ZhCn
                },
                remarks,
            }
        })
        .collect()
}

/// `n` bills: twelve months (2025-01 to 2025-12) for each of the customers of [`sample_customers`],
/// due on the 20th of the next month, most of them paid.
pub fn sample_bills(n: usize) -> Vec<BillRecord> {
    let mut mix = Mix(7);
    (0..n)
        .map(|i| {
            let period = Period::new(2025, (i % 12) as u32 + 1).expect("valid period");
            let due_date = NaiveDate::from_ymd_opt(2025, (i % 12) as u32 + 1, 20)
                .expect("valid date")
                + chrono::Months::new(1);
            let paid_on =
                (mix.below(5) != 0).then(|| due_date - chrono::Days::new(mix.below(20) as u64));
            BillRecord {
                customer_no: CustomerNo::parse(&format!("NB{:08}", i / 12 + 1))
                    .expect("valid customer number"),
                period,
                amount: Cents(1_000 + mix.below(50_000) as i64),
                due_date,
                paid_on,
            }
        })
        .collect()
}
