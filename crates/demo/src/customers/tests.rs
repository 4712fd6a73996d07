use std::collections::{HashMap, HashSet};

use expect_test::expect;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();

fn is_overdue(b: &BillRecord, today: NaiveDate) -> bool {
    b.paid_on.is_none() && b.due_date < today
}

fn per_mille(part: usize, whole: usize) -> usize {
    part * 1000 / whole
}

#[test]
fn same_inputs_same_output_and_a_longer_list_extends_a_shorter_one() {
    let a = customers(400, 7, TODAY);
    assert_eq!(a, customers(400, 7, TODAY));
    assert_ne!(a.customers, customers(400, 8, TODAY).customers);

    let short = customers(150, 7, TODAY);
    assert_eq!(short.customers[..], a.customers[..150]);
    assert_eq!(short.bills[..], a.bills[..short.bills.len()]);
    assert_eq!(short.payments[..], a.payments[..short.payments.len()]);
}

#[test]
fn count_is_honoured() {
    for n in [0, 1, 2, 17, 1000] {
        let c = customers(n, 1, TODAY);
        assert_eq!(c.customers.len(), n);
        let numbers: HashSet<_> = c.customers.iter().map(|c| &c.customer_no).collect();
        assert_eq!(numbers.len(), n, "customer numbers must be unique");
        let meters: Vec<_> = c
            .customers
            .iter()
            .filter_map(|c| c.meter_no.as_ref())
            .collect();
        assert_eq!(
            meters.iter().collect::<HashSet<_>>().len(),
            meters.len(),
            "meter numbers are unique"
        );
    }
    assert!(customers(0, 1, TODAY).bills.is_empty());
}

#[test]
fn phones_identify_one_customer_except_a_few_family_landlines() {
    let n = 20_000;
    let c = customers(n, 3, TODAY);
    let mut owners: HashMap<&Phone, Vec<&CustomerRecord>> = HashMap::new();
    for cust in &c.customers {
        assert!(
            !cust.phones.is_empty() && cust.phones.len() <= 2,
            "{:?}",
            cust.phones
        );
        let own: HashSet<_> = cust.phones.iter().collect();
        assert_eq!(
            own.len(),
            cust.phones.len(),
            "duplicate phone in {}",
            cust.customer_no.as_str()
        );
        for p in &cust.phones {
            owners.entry(p).or_default().push(cust);
        }
    }
    let shared: Vec<_> = owners.iter().filter(|(_, o)| o.len() > 1).collect();
    for (phone, o) in &shared {
        assert_eq!(o.len(), 2, "{} shared by {}", phone.as_str(), o.len());
        assert!(
            !phone.is_mobile(),
            "a shared number is a family landline, not {}",
            phone.as_str()
        );
        let surname = |c: &CustomerRecord| c.name.as_str().chars().next();
        assert_eq!(surname(o[0]), surname(o[1]), "a family shares a surname");
    }
    let shared_pm = per_mille(shared.len(), n);
    assert!(
        (2..=20).contains(&shared_pm),
        "{shared_pm}‰ of customers share a number"
    );

    // Fax numbers belong to no one else.
    let faxes: Vec<_> = c.customers.iter().filter_map(|c| c.fax.as_ref()).collect();
    assert!(!faxes.is_empty());
    assert_eq!(faxes.iter().collect::<HashSet<_>>().len(), faxes.len());
    assert!(faxes.iter().all(|f| !owners.contains_key(f)));

    let mobiles = owners.keys().filter(|p| p.is_mobile()).count();
    let landlines = owners.len() - mobiles;
    assert!(
        mobiles > 3 * landlines,
        "mostly mobiles: {mobiles} vs {landlines}"
    );
}

#[test]
fn every_value_round_trips_through_the_domain_parsers() {
    let c = customers(2000, 11, TODAY);
    let area = AreaCode::default();
    for cust in &c.customers {
        assert_eq!(
            CustomerNo::parse(cust.customer_no.as_str()).unwrap(),
            cust.customer_no
        );
        assert_eq!(CustomerName::parse(cust.name.as_str()).unwrap(), cust.name);
        assert_eq!(Address::parse(cust.address.as_str()).unwrap(), cust.address);
        assert_eq!(
            District::parse(cust.district.as_str()).unwrap(),
            cust.district
        );
        assert!(
            cust.address
                .as_str()
                .starts_with(&format!("宁波市{}", cust.district.as_str()))
        );
        for p in cust.phones.iter().chain(&cust.fax) {
            assert_eq!(&Phone::parse(p.as_str(), &area).unwrap(), p);
        }
        if let Some(m) = &cust.meter_no {
            assert_eq!(&MeterNo::parse(m.as_str()).unwrap(), m);
        }
        if let Some(e) = &cust.email {
            assert_eq!(&email_address(e).unwrap(), e);
        }
        if let Some(r) = &cust.remarks {
            assert_eq!(&bounded_text(r, 1, 200).unwrap(), r);
        }
        assert_eq!(
            ServiceType::parse(cust.service_type.as_str()).unwrap(),
            cust.service_type
        );
        assert_eq!(
            NoticePreference::parse(cust.notice_preference.as_str()).unwrap(),
            cust.notice_preference
        );
        assert_eq!(
            Language::parse(cust.language.as_str()).unwrap(),
            cust.language
        );
    }
    for b in &c.bills {
        assert_eq!(Period::parse(&b.period.to_string()).unwrap(), b.period);
        assert_eq!(
            Cents::parse_yuan(&b.amount.to_yuan_string()).unwrap(),
            b.amount
        );
        assert!(b.amount > Cents(0));
    }
    for p in &c.payments {
        assert_eq!(PaymentMethod::parse(p.method.as_str()).unwrap(), p.method);
        let r = p.reference.as_deref().unwrap();
        assert_eq!(bounded_text(r, 1, 64).unwrap(), r);
    }
    let references: HashSet<_> = c.payments.iter().map(|p| &p.reference).collect();
    assert_eq!(
        references.len(),
        c.payments.len(),
        "payment references are unique"
    );
}

/// The rules that hold whatever `today` is: early in a month (the newest bill not yet due), late in a
/// month (the newest bill past due) and across a new year.
#[test]
fn bills_and_payments_are_consistent_on_any_day() {
    for today in [
        TODAY,
        day(2026, 3, 1),
        day(2026, 3, 28),
        day(2027, 1, 5),
        day(2025, 12, 31),
    ] {
        let c = customers(1000, 5, today);
        let this_month = Period::of(today);
        let mut oldest = this_month;
        for _ in 0..12 {
            oldest = oldest.previous();
        }
        let by_no: HashMap<_, _> = c.customers.iter().map(|c| (&c.customer_no, c)).collect();
        let mut bills_of: HashMap<_, Vec<&BillRecord>> = HashMap::new();
        for b in &c.bills {
            assert!(
                b.period >= oldest && b.period < this_month,
                "{today}: period {}",
                b.period
            );
            let next = b
                .period
                .first_day()
                .checked_add_months(Months::new(1))
                .unwrap();
            assert_eq!(b.due_date, next.with_day(25).unwrap());
            if let Some(paid) = b.paid_on {
                assert!(paid <= today, "{today}: paid in the future: {paid}");
                assert!(
                    paid >= b.period.first_day(),
                    "{today}: paid before the period: {paid}"
                );
            }
            bills_of.entry(&b.customer_no).or_default().push(b);
        }
        for cust in &c.customers {
            let bills = bills_of.remove(&cust.customer_no).unwrap_or_default();
            let periods: Vec<_> = bills.iter().map(|b| b.period).collect();
            assert!(
                periods.is_sorted() && periods.windows(2).all(|w| w[0] != w[1]),
                "one bill per period"
            );
            match cust.service_type {
                ServiceType::Pipeline => {
                    assert_eq!(bills.len(), 12, "{}", cust.customer_no.as_str());
                    assert!(cust.meter_no.is_some());
                }
                ServiceType::Bottled => {
                    assert!(cust.meter_no.is_none());
                    assert!(
                        bills.iter().all(|b| b.paid_on.is_some()),
                        "cylinders are paid on delivery"
                    );
                }
            }
        }
        assert!(bills_of.is_empty(), "bills of unknown customers");

        // Every paid bill has exactly its payment, and nothing else is paid.
        let paid: Vec<_> = c
            .bills
            .iter()
            .filter_map(|b| Some((&b.customer_no, Some(b.period), b.amount, b.paid_on?)))
            .collect();
        let payments: Vec<_> = c
            .payments
            .iter()
            .map(|p| (&p.customer_no, p.period, p.amount, p.paid_on))
            .collect();
        assert_eq!(paid, payments, "{today}");
        assert!(
            c.payments
                .iter()
                .all(|p| by_no.contains_key(&p.customer_no))
        );

        let overdue: HashSet<_> = c
            .bills
            .iter()
            .filter(|b| is_overdue(b, today))
            .map(|b| &b.customer_no)
            .collect();
        let overdue_pm = per_mille(overdue.len(), c.customers.len());
        assert!(
            (50..=150).contains(&overdue_pm),
            "{today}: {overdue_pm}‰ overdue"
        );
    }
}

#[test]
fn the_mix_of_customers_is_plausible() {
    let n = 1000;
    let c = customers(n, 42, TODAY);
    let count = |f: &dyn Fn(&CustomerRecord) -> bool| {
        per_mille(c.customers.iter().filter(|c| f(c)).count(), n)
    };

    let bottled = count(&|c| c.service_type == ServiceType::Bottled);
    assert!((200..=400).contains(&bottled), "{bottled}‰ bottled");
    let businesses =
        count(&|c| c.name.as_str().ends_with("公司") || c.name.as_str().contains("物业"));
    assert!((20..=90).contains(&businesses), "{businesses}‰ businesses");
    let english = count(&|c| c.language == Language::En);
    assert!((5..=50).contains(&english), "{english}‰ English");
    let sms = count(&|c| c.notice_preference == NoticePreference::Sms);
    assert!(sms > 500, "{sms}‰ SMS");
    for pref in NoticePreference::ALL {
        assert!(
            count(&|c| c.notice_preference == *pref) > 0,
            "nobody prefers {pref}"
        );
    }
    assert_eq!(
        count(&|c| c.notice_preference == NoticePreference::Email && c.email.is_none()),
        0
    );
    assert_eq!(
        count(&|c| c.notice_preference == NoticePreference::Fax && c.fax.is_none()),
        0
    );
    let remarks = count(&|c| c.remarks.is_some());
    assert!((20..=150).contains(&remarks), "{remarks}‰ with remarks");
    for district in DISTRICTS {
        let share = count(&|c| c.district.as_str() == district.name);
        assert!(share > 80, "{}: {share}‰", district.name);
    }
    let methods: HashSet<_> = c.payments.iter().map(|p| p.method).collect();
    for m in [
        PaymentMethod::Bank,
        PaymentMethod::Wechat,
        PaymentMethod::Alipay,
        PaymentMethod::Counter,
    ] {
        assert!(methods.contains(&m), "nobody pays by {m}");
    }
}

#[test]
fn household_gas_bills_are_plausible_and_higher_in_winter() {
    let c = customers(1000, 9, TODAY);
    // People are called 王伟 or 陈晓燕 or David Miller; businesses have longer names (天一宾馆 …).
    let households: HashSet<_> = c
        .customers
        .iter()
        .filter(|c| c.service_type == ServiceType::Pipeline)
        .filter(|c| c.language == Language::En || c.name.as_str().chars().count() <= 3)
        .map(|c| &c.customer_no)
        .collect();
    assert!(households.len() > 500);
    let (mut winter, mut summer) = (Vec::new(), Vec::new());
    for b in c
        .bills
        .iter()
        .filter(|b| households.contains(&b.customer_no))
    {
        assert!(
            (3000..=30000).contains(&b.amount.0),
            "a household pays 30-300 yuan a month: {b:?}"
        );
        match b.period.first_day().month() {
            12 | 1 | 2 => winter.push(b.amount.0),
            6..=8 => summer.push(b.amount.0),
            _ => {}
        }
    }
    let mean = |v: &[i64]| v.iter().sum::<i64>() / v.len() as i64;
    let (w, s) = (mean(&winter), mean(&summer));
    assert!(w > s * 3 / 2, "winter {w} vs summer {s}");

    let business_bills = c
        .bills
        .iter()
        .filter(|b| !households.contains(&b.customer_no));
    assert!(
        business_bills.clone().any(|b| b.amount > Cents(100_000)),
        "some business pays over 1,000 yuan"
    );
}

#[test]
fn sample_customers() {
    let c = customers(3, 2026, TODAY);
    let text: String = c
        .customers
        .iter()
        .map(|c| {
            let phones: Vec<_> = c.phones.iter().map(|p| p.as_str()).collect();
            format!(
                "{} {} [{}] {} {} meter={} notice={} fax={} email={} lang={} remarks={}\n",
                c.customer_no.as_str(),
                c.name.as_str(),
                phones.join(", "),
                c.address.as_str(),
                c.service_type,
                c.meter_no.as_ref().map_or("-", |m| m.as_str()),
                c.notice_preference,
                c.fax.as_ref().map_or("-", |m| m.as_str()),
                c.email.as_deref().unwrap_or("-"),
                c.language,
                c.remarks.as_deref().unwrap_or("-"),
            )
        })
        .collect();
    expect![[r#"
        10010000 李俊明 [13750810182] 宁波市海曙区县前街354号 白云庄小区 14幢4单元1302室 pipeline meter=2144844165 notice=sms fax=- email=- lang=zh-CN remarks=-
        40010001 应佳怡 [13373146362] 宁波市北仑区霞浦街道太河路713号 鸿润花园 2幢1单元702室 pipeline meter=1806908252 notice=sms fax=- email=- lang=zh-CN remarks=-
        30010002 孙丽林 [18632853091] 宁波市鄞州区中山东路736号 和美家园 5幢4单元902室 pipeline meter=1827350142 notice=voice fax=- email=- lang=zh-CN remarks=-
    "#]].assert_eq(&text);
}
