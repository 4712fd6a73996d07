//! Demo customers with a year of bills and payments.
//!
//! Customer `i` draws from its own random stream `(seed, i)`, and the only state carried from one
//! customer to the next is "the last household landline" (for the few families who share one) and the
//! payment counter. So `customers(n, …)` is a prefix of `customers(m, …)` for `n < m`. Numbers that
//! must be unique are computed, not drawn and checked (no lookup table, whatever the count): the
//! customer number from `i`, phone and meter numbers from `i` through keyed permutations, payment
//! references from the payment count through a bijection.

use chrono::{Datelike, Days, Months, NaiveDate};
use kefu_domain::{
    Address, AreaCode, BillRecord, Cents, CustomerName, CustomerNo, CustomerRecord, District,
    FieldError, Language, MeterNo, NoticePreference, PaymentMethod, PaymentRecord, Period, Phone,
    ServiceType, bounded_text, email_address,
};

use crate::rng::{Rng, mix, permute_1e7, permute_1e8};
use crate::words::*;

/// The most customers [`customers`] generates: phone numbers are unique up to this count.
pub const MAX_CUSTOMERS: usize = 10_000_000;

/// The demo customers, their bills for the 12 months before `today`, and a payment for every paid
/// bill. Bills and payments are ordered by customer, then period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customers {
    pub customers: Vec<CustomerRecord>,
    pub bills: Vec<BillRecord>,
    pub payments: Vec<PaymentRecord>,
}

/// Generates `count` customers, deterministically from `seed`, with bills for the 12 periods before
/// `today`'s month.
///
/// About 30% use bottled gas, 5% are businesses, 2% are English-speaking; about 9% have overdue bills.
/// Every phone number belongs to one customer, except the landlines that a few families (about 1%)
/// share.
///
/// # Panics
/// If `count` exceeds [`MAX_CUSTOMERS`] or `today` is before 2001 (the bills' periods would precede
/// the earliest valid [`Period`]).
pub fn customers(count: usize, seed: u64, today: NaiveDate) -> Customers {
    assert!(
        count <= MAX_CUSTOMERS,
        "at most {MAX_CUSTOMERS} demo customers, not {count}"
    );
    let mut generator = Generator::new(seed, today);
    // At most 12 bills per customer and a payment per bill. Reserving the maximum costs address space
    // only (untouched pages are never mapped in) and spares copying ten million records on growth;
    // `shrink_to_fit` then gives the rest back without copying (`mremap`).
    let mut out = Customers {
        customers: Vec::with_capacity(count),
        bills: Vec::with_capacity(count * 12),
        payments: Vec::with_capacity(count * 12),
    };
    for i in 0..count {
        generator.customer(i, &mut out);
    }
    out.bills.shrink_to_fit();
    out.payments.shrink_to_fit();
    out
}

/// A billing month with the dates derived from it.
struct Month {
    period: Period,
    first_day: NaiveDate,
    /// Bills are issued on the 3rd of the following month …
    issued: NaiveDate,
    /// … and due on its 25th.
    due: NaiveDate,
    winter: bool,
    /// Gas use relative to the yearly average, in ‰ (households heat water and rooms in winter).
    household_use: u64,
    business_use: u64,
}

impl Month {
    fn new(period: Period) -> Month {
        let first_day = period.first_day();
        let next = first_day
            .checked_add_months(Months::new(1))
            .expect("date in range");
        let m = first_day.month0() as usize;
        const HOUSEHOLD: [u64; 12] = [
            1800, 1700, 1400, 1100, 900, 800, 750, 750, 800, 900, 1200, 1600,
        ];
        const BUSINESS: [u64; 12] = [
            1150, 1100, 1050, 1000, 950, 950, 950, 950, 950, 1000, 1050, 1100,
        ];
        Month {
            period,
            first_day,
            issued: next.with_day(3).expect("day 3 exists"),
            due: next.with_day(25).expect("day 25 exists"),
            winter: matches!(m, 0 | 1 | 10 | 11),
            household_use: HOUSEHOLD[m],
            business_use: BUSINESS[m],
        }
    }
}

enum Who {
    Person { elderly: bool },
    Expat,
    Business(BusinessKind),
}

/// How a pipeline customer uses gas and pays for it.
struct GasProfile {
    business: bool,
    /// Average monthly use in m³.
    base_m3: u64,
    /// Price per m³ in 分.
    price: i64,
    /// How the customer usually pays.
    habit: PaymentMethod,
    /// 0, or how many of the latest past-due bills are left unpaid.
    arrears: usize,
}

struct Generator {
    seed: u64,
    today: NaiveDate,
    area: AreaCode,
    months: Vec<Month>,
    mobile_key: u64,
    landline_key: u64,
    meter_key: u64,
    /// The surname and landline of the last household with a landline: a relative may share it.
    family: Option<(usize, Phone)>,
    payments: Payments,
}

/// Makes the payment records, numbering their references.
struct Payments {
    reference_offset: u64,
    made: u64,
}

fn valid<T>(result: Result<T, FieldError>, what: &str, input: &str) -> T {
    result.unwrap_or_else(|e| panic!("demo {what} {input:?} is invalid: {e}"))
}

impl Generator {
    fn new(seed: u64, today: NaiveDate) -> Generator {
        let mut months = Vec::with_capacity(12);
        let mut period = Period::of(today);
        for _ in 0..12 {
            period = period.previous();
            // `previous` does not check the year 2000 lower bound; round-trip through the parser.
            let text = period.to_string();
            months.push(Month::new(valid(Period::parse(&text), "period", &text)));
        }
        months.reverse();
        Generator {
            seed,
            today,
            area: AreaCode::default(),
            months,
            mobile_key: mix(seed ^ mix(1)),
            landline_key: mix(seed ^ mix(2)),
            meter_key: mix(seed ^ mix(3)),
            family: None,
            payments: Payments {
                reference_offset: mix(seed ^ mix(4)) % 10_000_000_000,
                made: 0,
            },
        }
    }

    fn phone(&self, text: &str) -> Phone {
        valid(Phone::parse(text, &self.area), "phone", text)
    }

    /// Customer `i`'s mobile number `slot` (0 or 1): the 8 digits after the prefix are a permutation
    /// of `2i + slot`, so no two customers share one.
    fn mobile(&self, r: &mut Rng, i: usize, slot: u64) -> Phone {
        let prefix = r.weighted(MOBILE_PREFIXES);
        let n = permute_1e8(2 * i as u64 + slot, self.mobile_key);
        self.phone(&format!("{prefix}{n:08}"))
    }

    /// Customer `i`'s Ningbo landline `slot` (0: phone, 1: fax), `0574-8xxxxxxx`; unique like
    /// [`Generator::mobile`], with one leading digit per block of 10⁷.
    fn landline(&self, i: usize, slot: u64) -> Phone {
        let k = 2 * i as u64 + slot;
        let lead = LANDLINE_LEADS[(k / 10_000_000) as usize] as char;
        let n = permute_1e7(k % 10_000_000, self.landline_key);
        self.phone(&format!("0574-{lead}{n:07}"))
    }

    fn customer(&mut self, i: usize, out: &mut Customers) {
        let mut r = Rng::new(self.seed, i as u64);
        let d = &DISTRICTS[r.weighted_index(DISTRICTS.iter().map(|d| d.weight))];
        let who = match r.below(1000) {
            0..50 => Who::Business(*r.weighted(BUSINESS_KINDS)),
            50..70 => Who::Expat,
            _ => Who::Person {
                elderly: r.chance(120),
            },
        };
        let customer_no = {
            let text = format!("{}{:07}", d.digit, 10_000 + i);
            valid(CustomerNo::parse(&text), "customer number", &text)
        };

        let name;
        let address;
        let service_type;
        let mut phones = Vec::with_capacity(2);
        let notice_preference;
        let mut email = None;
        let mut fax = None;
        let mut language = Language::ZhCn;
        let remarks;
        let pick_pref = |r: &mut Rng, weights: [u32; 4]| {
            use NoticePreference::*;
            *r.weighted(&[
                (Sms, weights[0]),
                (Voice, weights[1]),
                (Email, weights[2]),
                (Fax, weights[3]),
            ])
        };

        match who {
            Who::Person { elderly } => {
                let relative = self.family.is_some() && !elderly && r.chance(8);
                let surname = match (&self.family, relative) {
                    (Some((s, _)), true) => *s,
                    _ => r.weighted_index(SURNAMES.iter().map(|s| s.1)),
                };
                name = format!("{}{}", SURNAMES[surname].0, given_name(&mut r));
                let in_community = r.chance(850);
                address = if in_community {
                    community_address(&mut r, d)
                } else {
                    lane_address(&mut r, d)
                };
                service_type = bottled_or_pipeline(&mut r, if in_community { 240 } else { 600 });

                if relative {
                    let (_, shared) = self.family.take().expect("checked");
                    phones.push(self.mobile(&mut r, i, 0));
                    phones.push(shared);
                } else {
                    let landline_first = elderly && r.chance(600);
                    if landline_first {
                        phones.push(self.landline(i, 0));
                        if r.chance(500) {
                            // A son's or daughter's mobile.
                            phones.push(self.mobile(&mut r, i, 1));
                        }
                    } else {
                        phones.push(self.mobile(&mut r, i, 0));
                        match r.below(1000) {
                            0..200 => phones.push(self.mobile(&mut r, i, 1)),
                            200..330 => phones.push(self.landline(i, 0)),
                            _ => {}
                        }
                    }
                    if let Some(landline) = phones.iter().find(|p| !p.is_mobile()) {
                        self.family = Some((surname, landline.clone()));
                    }
                }

                notice_preference = if elderly {
                    pick_pref(&mut r, [300, 700, 0, 0])
                } else {
                    pick_pref(&mut r, [720, 200, 80, 0])
                };
                if notice_preference == NoticePreference::Email || r.chance(100) {
                    email = Some(person_email(&mut r, SURNAMES[surname].2));
                }
                remarks = if elderly && r.chance(350) {
                    Some(ELDERLY_REMARK)
                } else if r.chance(50) {
                    Some(*r.pick(HOUSEHOLD_REMARKS))
                } else {
                    None
                };
            }
            Who::Expat => {
                let first = *r.pick(WESTERN_FIRST);
                let last = *r.pick(WESTERN_LAST);
                name = format!("{first} {last}");
                address = community_address(&mut r, d);
                service_type = bottled_or_pipeline(&mut r, 100);
                phones.push(self.mobile(&mut r, i, 0));
                notice_preference = pick_pref(&mut r, [450, 0, 550, 0]);
                let number = if r.chance(500) {
                    String::new()
                } else {
                    r.between(1, 99).to_string()
                };
                let domain = r.pick(WESTERN_MAIL_DOMAINS);
                email = Some(format!(
                    "{}.{}{number}@{domain}",
                    first.to_lowercase(),
                    last.to_lowercase()
                ));
                language = Language::En;
                remarks = r.chance(400).then_some(EXPAT_REMARK);
            }
            Who::Business(kind) => {
                let (brand, brand_py) = *r.pick(BRANDS);
                let (n, a) = business_name_and_address(&mut r, d, kind, brand);
                name = n;
                address = a;
                service_type = bottled_or_pipeline(
                    &mut r,
                    if kind == BusinessKind::Eatery {
                        450
                    } else {
                        30
                    },
                );
                if r.chance(600) {
                    phones.push(self.landline(i, 0));
                    if r.chance(700) {
                        // The manager's mobile.
                        phones.push(self.mobile(&mut r, i, 0));
                    }
                } else {
                    phones.push(self.mobile(&mut r, i, 0));
                }
                notice_preference = pick_pref(&mut r, [350, 150, 250, 250]);
                if notice_preference == NoticePreference::Fax || r.chance(250) {
                    fax = Some(self.landline(i, 1));
                }
                if notice_preference == NoticePreference::Email || r.chance(300) {
                    let domain = if r.chance(500) { "163.com" } else { "126.com" };
                    email = Some(format!("{brand_py}{}@{domain}", r.between(10, 999)));
                }
                remarks = r.chance(350).then(|| *r.pick(BUSINESS_REMARKS));
            }
        }

        let meter_no = (service_type == ServiceType::Pipeline).then(|| {
            let installed = r.between(5, 24);
            let text = format!("{installed:02}{:08}", permute_1e8(i as u64, self.meter_key));
            valid(MeterNo::parse(&text), "meter number", &text)
        });

        match (service_type, &who) {
            (ServiceType::Pipeline, _) => {
                let business = matches!(who, Who::Business(_));
                let (base_m3, price) = match who {
                    Who::Business(kind) => {
                        let (lo, hi) = match kind {
                            BusinessKind::Restaurant => (300, 2000),
                            BusinessKind::Eatery => (80, 300),
                            BusinessKind::Property => (60, 400),
                            BusinessKind::Hotel => (500, 3000),
                            BusinessKind::Canteen => (200, 1200),
                            BusinessKind::Factory => (800, 5000),
                        };
                        (r.between(lo, hi), 380)
                    }
                    _ => (r.between(10, 40), 320),
                };
                let habit = if business {
                    *r.weighted(&[
                        (PaymentMethod::Bank, 60),
                        (PaymentMethod::Counter, 20),
                        (PaymentMethod::Wechat, 10),
                        (PaymentMethod::Alipay, 10),
                    ])
                } else {
                    *r.weighted(&[
                        (PaymentMethod::Bank, 30),
                        (PaymentMethod::Wechat, 32),
                        (PaymentMethod::Alipay, 25),
                        (PaymentMethod::Counter, 13),
                    ])
                };
                let arrears = if r.chance(125) {
                    match r.below(100) {
                        0..60 => 1,
                        60..85 => 2,
                        _ => r.between(3, 5) as usize,
                    }
                } else {
                    0
                };
                let profile = GasProfile {
                    business,
                    base_m3,
                    price,
                    habit,
                    arrears,
                };
                self.pipeline_bills(&mut r, &customer_no, &profile, out);
            }
            (ServiceType::Bottled, who) => {
                self.cylinder_bills(&mut r, &customer_no, matches!(who, Who::Business(_)), out);
            }
        }

        let district = valid(District::parse(d.name), "district", d.name);
        out.customers.push(CustomerRecord {
            customer_no,
            name: valid(CustomerName::parse(&name), "name", &name),
            phones,
            address: valid(Address::parse(&address), "address", &address),
            district,
            service_type,
            meter_no,
            notice_preference,
            fax,
            email: email.map(|e| valid(email_address(&e), "e-mail address", &e)),
            language,
            remarks: remarks.map(|s| valid(bounded_text(s, 1, 200), "remark", s)),
        });
    }

    fn pipeline_bills(
        &mut self,
        r: &mut Rng,
        customer_no: &CustomerNo,
        p: &GasProfile,
        out: &mut Customers,
    ) {
        let today = self.today;
        let past_due = self.months.iter().filter(|m| m.due < today).count();
        for (k, m) in self.months.iter().enumerate() {
            let use_permille = if p.business {
                m.business_use
            } else {
                m.household_use
            };
            let noise = r.between(800, 1200);
            let mut m3 = p.base_m3 * use_permille * noise / 1_000_000;
            if !p.business {
                m3 = m3.clamp(10, 93);
            }
            let amount = Cents(m3 as i64 * p.price);
            let in_arrears = p.arrears > 0 && (k + p.arrears >= past_due);
            let method = if r.chance(850) {
                p.habit
            } else {
                *r.pick(&[PaymentMethod::Wechat, PaymentMethod::Alipay])
            };
            let paid_on = if in_arrears {
                None
            } else {
                let planned = match method {
                    // Direct debit on a fixed day.
                    PaymentMethod::Bank => m.issued + Days::new(12 + r.below(3)),
                    _ if r.chance(80) => m.due + Days::new(r.between(1, 20)),
                    _ => m.issued + Days::new(r.below(18)),
                };
                if planned <= today {
                    Some(planned)
                } else if m.due < today {
                    // A late payer who has paid by now.
                    Some(today)
                } else {
                    None
                }
            };
            out.bills.push(BillRecord {
                customer_no: customer_no.clone(),
                period: m.period,
                amount,
                due_date: m.due,
                paid_on,
            });
            if let Some(paid_on) = paid_on {
                out.payments.push(self.payments.settle(
                    customer_no,
                    m.period,
                    amount,
                    paid_on,
                    method,
                ));
            }
        }
    }

    /// Bottled gas is paid on delivery; the bill of a month with deliveries is settled the same day.
    fn cylinder_bills(
        &mut self,
        r: &mut Rng,
        customer_no: &CustomerNo,
        business: bool,
        out: &mut Customers,
    ) {
        let habit = *r.weighted(&[
            (PaymentMethod::Wechat, 45),
            (PaymentMethod::Alipay, 30),
            (PaymentMethod::Counter, 25),
        ]);
        for m in &self.months {
            let cylinders = if business {
                if r.chance(850) { r.between(2, 8) } else { 0 }
            } else if r.chance(450) {
                if r.chance(100) { 2 } else { 1 }
            } else {
                0
            };
            if cylinders == 0 {
                continue;
            }
            // 15 kg cylinders for homes, 50 kg for businesses; dearer in winter.
            let price = match (business, m.winter) {
                (false, false) => 11_500,
                (false, true) => 12_500,
                (true, false) => 38_000,
                (true, true) => 41_000,
            };
            let amount = Cents(cylinders as i64 * price);
            let delivered = m.first_day + Days::new(r.below(28));
            let method = if r.chance(850) {
                habit
            } else {
                *r.pick(&[PaymentMethod::Wechat, PaymentMethod::Alipay])
            };
            out.bills.push(BillRecord {
                customer_no: customer_no.clone(),
                period: m.period,
                amount,
                due_date: m.due,
                paid_on: Some(delivered),
            });
            out.payments.push(self.payments.settle(
                customer_no,
                m.period,
                amount,
                delivered,
                method,
            ));
        }
    }
}

impl Payments {
    /// A payment settling one bill. Its reference, as the bank or app would print it, is unique: the
    /// running payment count through a bijection of `0..10¹⁰`.
    fn settle(
        &mut self,
        customer_no: &CustomerNo,
        period: Period,
        amount: Cents,
        paid_on: NaiveDate,
        method: PaymentMethod,
    ) -> PaymentRecord {
        let prefix = match method {
            PaymentMethod::Bank => "YH",
            PaymentMethod::Wechat => "WX",
            PaymentMethod::Alipay => "ZFB",
            PaymentMethod::Counter | PaymentMethod::Other => "GT",
        };
        const MODULUS: u128 = 10_000_000_000;
        let serial =
            (u128::from(self.made) * 7_919_461_823 + u128::from(self.reference_offset)) % MODULUS;
        self.made += 1;
        // Ten million of these in a large run: written digit by digit into one exact allocation
        // (`paid_on.format("%Y%m%d")` alone, which parses its pattern on every call, cost a tenth of
        // the run time).
        let mut reference = String::with_capacity(prefix.len() + 18);
        reference.push_str(prefix);
        let date =
            paid_on.year() as u64 * 10_000 + u64::from(paid_on.month() * 100 + paid_on.day());
        push_digits(&mut reference, date, 8);
        push_digits(&mut reference, serial as u64, 10);
        // ASCII letters and digits, 20-21 of them: checked here rather than copied by `bounded_text`.
        debug_assert_eq!(bounded_text(&reference, 1, 64).as_ref(), Ok(&reference));
        PaymentRecord {
            customer_no: customer_no.clone(),
            period: Some(period),
            amount,
            paid_on,
            method,
            reference: Some(reference),
        }
    }
}

/// Appends `n` as exactly `width` decimal digits (`n < 10^width`).
fn push_digits(s: &mut String, n: u64, width: u32) {
    debug_assert!(n < 10u64.pow(width));
    for k in (0..width).rev() {
        s.push(char::from(b'0' + (n / 10u64.pow(k) % 10) as u8));
    }
}

fn bottled_or_pipeline(r: &mut Rng, bottled_per_mille: u64) -> ServiceType {
    if r.chance(bottled_per_mille) {
        ServiceType::Bottled
    } else {
        ServiceType::Pipeline
    }
}

fn given_name(r: &mut Rng) -> String {
    match r.below(100) {
        0..30 => (*r.pick(GIVEN_SINGLE)).to_string(),
        30..75 => (*r.pick(GIVEN_DOUBLE)).to_string(),
        _ => format!("{}{}", r.pick(GIVEN_FIRST), r.pick(GIVEN_SECOND)),
    }
}

fn person_email(r: &mut Rng, surname_pinyin: &str) -> String {
    if r.chance(450) {
        format!("{}@qq.com", r.between(100_000, 3_999_999_999))
    } else {
        let domain = r.pick(MAIL_DOMAINS);
        match r.below(3) {
            0 => format!("{surname_pinyin}{}@{domain}", r.between(1955, 2005)),
            1 => format!("nb{surname_pinyin}{}@{domain}", r.between(10, 999)),
            _ => format!("{surname_pinyin}_{}@{domain}", r.between(100, 9999)),
        }
    }
}

/// A 小区 always sits at the same road and number (and 街道, in the suburbs), whatever the seed.
fn community(r: &mut Rng, d: &DistrictWords) -> (&'static str, String) {
    let c = r.below(d.communities.len() as u64) as usize;
    let h = mix(u64::from(d.digit) << 32 | c as u64);
    let town = if d.towns.is_empty() {
        ""
    } else {
        d.towns[c % d.towns.len()]
    };
    let road = d.roads[(h % d.roads.len() as u64) as usize];
    let number = 1 + (h >> 16) % 899;
    (
        d.communities[c],
        format!("宁波市{}{town}{road}{number}号", d.name),
    )
}

/// `宁波市鄞州区天童南路588号 银泰小区 3幢2单元501室`
fn community_address(r: &mut Rng, d: &DistrictWords) -> String {
    let (name, street) = community(r, d);
    let building = r.between(1, 32);
    let unit = r.between(1, 4);
    let floor = r.between(1, 18);
    let room = r.between(1, 4);
    format!("{street} {name} {building}幢{unit}单元{floor}{room:02}室")
}

/// Older housing along a lane: `宁波市海曙区西河街12弄5号201室`.
fn lane_address(r: &mut Rng, d: &DistrictWords) -> String {
    let town = if d.towns.is_empty() {
        ""
    } else {
        *r.pick(d.towns)
    };
    let road = r.pick(d.roads);
    let lane = r.between(1, 120);
    let house = r.between(1, 30);
    let floor = r.between(1, 6);
    let room = r.between(1, 2);
    format!(
        "宁波市{}{town}{road}{lane}弄{house}号{floor}{room:02}室",
        d.name
    )
}

fn business_name_and_address(
    r: &mut Rng,
    d: &DistrictWords,
    kind: BusinessKind,
    brand: &str,
) -> (String, String) {
    let shop = |r: &mut Rng| {
        let town = if d.towns.is_empty() {
            ""
        } else {
            *r.pick(d.towns)
        };
        let road = r.pick(d.roads);
        format!("宁波市{}{town}{road}{}号", d.name, r.between(1, 999))
    };
    match kind {
        BusinessKind::Restaurant => {
            let form = r.pick(&[
                "餐饮有限公司",
                "酒家有限公司",
                "海鲜楼有限公司",
                "餐饮管理有限公司",
            ]);
            (format!("宁波{brand}{form}"), format!("{} 1-2楼", shop(r)))
        }
        BusinessKind::Eatery => {
            let form = r.pick(&["面馆", "小吃店", "快餐店", "大排档", "馄饨店"]);
            (format!("{brand}{form}"), shop(r))
        }
        BusinessKind::Property => {
            let (name, street) = community(r, d);
            (format!("{name}物业"), format!("{street} {name} 物业管理处"))
        }
        BusinessKind::Hotel => {
            let name = if r.chance(500) {
                format!("宁波{brand}酒店管理有限公司")
            } else {
                format!("{brand}宾馆")
            };
            (name, shop(r))
        }
        BusinessKind::Canteen => {
            let school = r.pick(&["中学", "小学", "实验学校", "职业技术学校"]);
            (format!("宁波市{}{brand}{school}食堂", d.name), shop(r))
        }
        BusinessKind::Factory => {
            let trade = r.pick(&["食品", "热处理", "洗涤", "包装", "五金"]);
            (format!("宁波{brand}{trade}有限公司"), shop(r))
        }
    }
}

#[cfg(test)]
mod tests;
