//! Parse throughput: 100,000 generated rows from CSV, the whole `read_*` call (decode, CSV, validation,
//! duplicate check). Run with `cargo bench -p kefu-import`; criterion prints elements (rows) per second,
//! and the median is in `<target>/criterion/<group>/<bench>/new/estimates.json`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kefu_domain::AreaCode;
use kefu_import::{
    FileFormat, read_bills, read_customers, sample_bills, sample_customers, write_bills_csv,
    write_customers_csv,
};

const ROWS: usize = 100_000;

fn parse(c: &mut Criterion) {
    let area = AreaCode::default();
    let mut customers = Vec::new();
    write_customers_csv(&sample_customers(ROWS), &mut customers).unwrap();
    let mut bills = Vec::new();
    write_bills_csv(&sample_bills(ROWS), &mut bills).unwrap();

    let mut group = c.benchmark_group("import");
    group.throughput(Throughput::Elements(ROWS as u64));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("customers_csv_100k", |b| {
        b.iter(|| {
            let parsed =
                read_customers(black_box(&customers), FileFormat::Csv, &area, |_, _| {}).unwrap();
            assert_eq!(parsed.records.len(), ROWS);
            parsed
        })
    });
    group.bench_function("bills_csv_100k", |b| {
        b.iter(|| {
            let parsed = read_bills(black_box(&bills), FileFormat::Csv, |_, _| {}).unwrap();
            assert_eq!(parsed.records.len(), ROWS);
            parsed
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
