//! `kefu bench`: measurements for docs/benchmarks.md, run against a real store. Not tests: it prints
//! figures (medians and tail latencies) and judges nothing.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use kefu_domain::{AreaCode, Phone};
use kefu_store::{Actor, CustomerQuery, PageRequest, Store};

/// Latency summary of one kind of operation.
struct Sample {
    name: &'static str,
    times: Vec<Duration>,
}

impl Sample {
    fn new(name: &'static str) -> Sample {
        Sample {
            name,
            times: Vec::new(),
        }
    }

    fn pct(&self, p: f64) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[((t.len() as f64 - 1.0) * p).round() as usize]
    }

    fn print(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<28} n={:<6} p50={:>8.3} ms  p90={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
            self.name,
            self.times.len(),
            ms(self.pct(0.5)),
            ms(self.pct(0.9)),
            ms(self.pct(0.99)),
            ms(self.pct(1.0))
        );
    }
}

async fn timed<T>(s: &mut Sample, f: impl std::future::Future<Output = T>) -> T {
    let t = Instant::now();
    let out = f.await;
    s.times.push(t.elapsed());
    out
}

/// Seeds `customers` demo customers into `store` if it has fewer, then measures caller-ID lookups and
/// customer searches.
pub async fn lookup(
    store: &Store,
    customers: usize,
    samples: usize,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let data = kefu_demo::customers(customers, 2026, today);
    let have = store.customer_count().await? as usize;
    if have < customers {
        println!("seeding {customers} customers (database has {have}) …");
        let t = Instant::now();
        for chunk in data.customers.chunks(50_000) {
            store
                .import_customers(&Actor::system("bench"), chunk, today, |_| {})
                .await?;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "seeded in {secs:.1} s: {:.0} customers/s written",
            data.customers.len() as f64 / secs
        );
    }
    let area = AreaCode::default();
    let step = (data.customers.len() / samples.max(1)).max(1);
    let picks: Vec<_> = data.customers.iter().step_by(step).take(samples).collect();

    let mut by_phone = Sample::new("caller-ID lookup (phone)");
    let mut misses = Sample::new("caller-ID lookup (unknown)");
    for (i, c) in picks.iter().enumerate() {
        let found = timed(&mut by_phone, store.customers_by_phone(&c.phones[0], today)).await?;
        anyhow::ensure!(
            found
                .iter()
                .any(|f| f.customer_no == c.customer_no.as_str()),
            "lookup lost {}",
            c.customer_no.as_str()
        );
        let unknown = Phone::parse(&format!("1990000{:04}", i % 10_000), &area).expect("valid");
        timed(&mut misses, store.customers_by_phone(&unknown, today)).await?;
    }

    let page = PageRequest {
        page: 1,
        per_page: 20,
    };
    let mut kinds = [
        Sample::new("search q=customer number"),
        Sample::new("search q=phone"),
        Sample::new("search q=full name"),
        Sample::new("search q=address fragment"),
        Sample::new("search name=given name"),
    ];
    for c in picks.iter().take(samples.min(2000)) {
        let q = |text: &str| CustomerQuery {
            q: Some(text.to_string()),
            q_phone: Phone::parse(text, &area).ok(),
            ..Default::default()
        };
        timed(
            &mut kinds[0],
            store.search_customers(&q(c.customer_no.as_str()), page, today),
        )
        .await?;
        timed(
            &mut kinds[1],
            store.search_customers(&q(c.phones[0].as_str()), page, today),
        )
        .await?;
        timed(
            &mut kinds[2],
            store.search_customers(&q(c.name.as_str()), page, today),
        )
        .await?;
        // The road and number, e.g. 天童南路588号.
        let addr: String = c
            .address
            .as_str()
            .split_whitespace()
            .next()
            .unwrap_or("")
            .chars()
            .skip(6)
            .take(8)
            .collect();
        timed(
            &mut kinds[3],
            store.search_customers(&q(&addr), page, today),
        )
        .await?;
        let given: String = c.name.as_str().chars().skip(1).collect();
        let nq = CustomerQuery {
            name: Some(given),
            ..Default::default()
        };
        timed(&mut kinds[4], store.search_customers(&nq, page, today)).await?;
    }
    println!(
        "\n{} customers, backend {:?}",
        store.customer_count().await?,
        store.backend()
    );
    by_phone.print();
    misses.print();
    for k in &kinds {
        k.print();
    }
    Ok(())
}

/// Imports `rows` generated customers, then their year of bills, from CSV files (reading and writing, as
/// `kefu import` does) into `store`, and prints rows per second for each.
pub async fn import(store: &Store, rows: usize, today: NaiveDate) -> anyhow::Result<()> {
    let data = kefu_demo::customers(rows, 7, today);
    let mut customers = Vec::new();
    kefu_import::write_customers_csv(&data.customers, &mut customers).context("writing CSV")?;
    let mut bills = Vec::new();
    kefu_import::write_bills_csv(&data.bills, &mut bills).context("writing CSV")?;
    drop(data);
    for (kind, csv) in [
        (kefu_import::ImportKind::Customers, customers),
        (kefu_import::ImportKind::Bills, bills),
    ] {
        let mib = csv.len() as f64 / 1048576.0;
        let t = Instant::now();
        let out = kefu_api::imports::run(
            store,
            &Actor::system("bench"),
            kind,
            kefu_import::FileFormat::Csv,
            csv.into(),
            false,
            AreaCode::default(),
            today,
            |_, _, _| {},
        )
        .await?;
        let secs = t.elapsed().as_secs_f64();
        anyhow::ensure!(out.failure.is_none(), "import failed: {:?}", out.failure);
        println!(
            "{kind}: {} rows ({mib:.1} MiB CSV; {} inserted, {} updated) in {secs:.2} s: {:.0} rows/s (backend {:?})",
            out.total_rows,
            out.inserted,
            out.updated,
            out.total_rows as f64 / secs,
            store.backend()
        );
    }
    Ok(())
}
