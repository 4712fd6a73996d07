//! Times the generator and prints a summary and the first customers:
//! `cargo run --release -p kefu-demo --example generate -- 1000000 3`.

use std::time::Instant;

fn main() {
    let count = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().expect("a customer count"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("valid date");
    let start = Instant::now();
    let demo = kefu_demo::customers(count, 2026, today);
    let elapsed = start.elapsed();
    let overdue: std::collections::HashSet<_> = demo
        .bills
        .iter()
        .filter(|b| b.paid_on.is_none() && b.due_date < today)
        .map(|b| &b.customer_no)
        .collect();
    println!(
        "{count} customers, {} bills, {} payments in {elapsed:.2?}; {} customers overdue",
        demo.bills.len(),
        demo.payments.len(),
        overdue.len()
    );
    let show = std::env::args()
        .nth(2)
        .map_or(3, |s| s.parse().expect("how many customers to show"));
    for c in demo.customers.iter().take(show) {
        let phones: Vec<_> = c.phones.iter().map(|p| p.as_str()).collect();
        println!(
            "{} | {} | {} | {} | {} | {} | meter {} | {} | fax {} | {} | {} | {}",
            c.customer_no.as_str(),
            c.name.as_str(),
            phones.join(" "),
            c.address.as_str(),
            c.district.as_str(),
            c.service_type,
            c.meter_no.as_ref().map_or("-", |m| m.as_str()),
            c.notice_preference,
            c.fax.as_ref().map_or("-", |f| f.as_str()),
            c.email.as_deref().unwrap_or("-"),
            c.language,
            c.remarks.as_deref().unwrap_or("-"),
        );
    }
    if let Some(first) = demo.customers.first() {
        for b in demo
            .bills
            .iter()
            .filter(|b| b.customer_no == first.customer_no)
        {
            println!("{b:?}");
        }
        for p in demo
            .payments
            .iter()
            .filter(|p| p.customer_no == first.customer_no)
            .take(3)
        {
            println!("{p:?}");
        }
    }
}
