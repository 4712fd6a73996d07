//! Times the generator and prints a summary: `cargo run --release -p kefu-demo --example generate -- 1000000`.

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
    for c in demo.customers.iter().take(3) {
        println!("{c:#?}");
    }
}
