//! `kefu bench`: measurements for docs/benchmarks.md, run against a real store. Not tests: it prints
//! figures (medians and tail latencies) and judges nothing.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use kefu_domain::{AreaCode, CustomerId, Phone, UnitId};
use kefu_store::bench_support::BenchOrder;
use kefu_store::{
    Acting, Actor, CustomerQuery, NewWorkOrder, PageRequest, Store, WorkOrderQuery, WorkOrderType,
};
use kefu_workorders::calendar::Calendar as BusinessCalendar;
use kefu_workorders::{Channel, FieldKind, Form, SlaClock, SlaTarget, Status};
use serde_json::{Map, Value, json};

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

// ---- Work orders (issue 4) ----

/// What `kefu bench work-orders` measures. Each seeds the demo tenant (units, users, `--customers`
/// customers, work-order calendars and types) into an empty database first.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum WorkOrderBench {
    /// Create and dispatch orders (`create_work_order` with a unit) from concurrent tasks: orders per
    /// second and latency per create, for each number of tasks in turn.
    Create {
        /// Concurrent tasks, one run each (e.g. 8,32).
        #[arg(long, value_delimiter = ',', default_value = "8,32")]
        tasks: Vec<usize>,
        /// Seconds per run.
        #[arg(long, default_value_t = 25)]
        secs: u64,
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
    },
    /// Bulk-load orders up to `--orders` (70% closed or archived, 30% open, `--overdue-share` of all
    /// overdue), then time the first page of the overdue list (all, and one site's).
    Overdue {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        /// Share of all orders that is open and past a deadline.
        #[arg(long, default_value_t = 0.03)]
        overdue_share: f64,
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
    },
    /// Bulk-load `--orders` open orders with real SLA clocks, `--due-share` of them with a milestone
    /// due now (1 = all), then time `sweep_sla(now, --batch)` rounds until nothing is due.
    Sweep {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        #[arg(long, default_value_t = 0.03)]
        due_share: f64,
        #[arg(long, default_value_t = 500)]
        batch: u64,
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
    },
}

/// A small deterministic PRNG (xorshift64*): the same data for the same seed on every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// [0, 1)
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// A random instant `lo..hi` seconds after `from`.
    fn secs_after(&mut self, from: DateTime<Utc>, lo: i64, hi: i64) -> DateTime<Utc> {
        from + TimeDelta::seconds(lo + self.below((hi - lo).max(1) as u64) as i64)
    }
}

/// The demo's types with their calendars, units, people and customers.
struct WoCtx {
    /// (type, calendar, weight in the order mix)
    types: Vec<(WorkOrderType, BusinessCalendar, u32)>,
    /// Units orders go to (the sites, the pipe network office and its crews, headquarters).
    units: Vec<UnitId>,
    site_unit: UnitId,
    agent: (Actor, Acting),
    customers: Vec<CustomerId>,
    offset: FixedOffset,
}

const ROADS: &[&str] = &[
    "宁波市北仑区明州路",
    "宁波市北仑区新碶街道长江路",
    "宁波市镇海区骆驼街道东邑路",
    "宁波市镇海区招宝山街道车站路",
    "宁波市鄞州区天童北路",
    "宁波市江北区人民路",
    "宁波市海曙区中山西路",
    "宁波市北仑区大碶街道太河路",
];

impl WoCtx {
    async fn load(
        store: &Store,
        customers: usize,
        today: NaiveDate,
        offset: FixedOffset,
    ) -> anyhow::Result<WoCtx> {
        if crate::seed::demo(store, today, customers).await? {
            println!("seeded the demo tenant with {customers} customers");
        }
        let weight = |code: &str| match code {
            "fault" => 35,
            "inquiry" => 15,
            "query" => 10,
            "complaint" => 15,
            "onsite" => 15,
            "suggestion" => 5,
            "payment_followup" => 5,
            _ => 1,
        };
        let mut types = Vec::new();
        for ty in store.work_order_types(false).await? {
            let cal = store.calendar_for(&ty).await?;
            let w = weight(&ty.code);
            types.push((ty, cal, w));
        }
        anyhow::ensure!(!types.is_empty(), "no work-order types: not a demo tenant");
        let mut units = Vec::new();
        for code in ["BL", "ZH", "PN", "RC1", "RC2", "RC3", "HQ"] {
            let u = store
                .unit_by_code(code)
                .await?
                .with_context(|| format!("demo unit {code}"))?;
            // The branch offices take the most orders.
            let n = match code {
                "BL" => 3,
                "ZH" | "PN" => 2,
                _ => 1,
            };
            units.extend(std::iter::repeat_n(u.id, n));
        }
        let (user, _) = store
            .login_lookup("agent")
            .await?
            .context("demo user agent")?;
        let agent = (
            Actor {
                user_id: Some(user.id),
                name: user.username.clone(),
                source_ip: None,
                request_id: None,
            },
            Acting {
                user_id: Some(user.id),
                role: Some(user.role),
                unit_id: Some(user.unit_id),
            },
        );
        Ok(WoCtx {
            types,
            site_unit: units[0],
            units,
            agent,
            customers: store.bench_customer_ids(customers as u64).await?,
            offset,
        })
    }

    fn pick_type(&self, rng: &mut Rng) -> usize {
        let total: u32 = self.types.iter().map(|t| t.2).sum();
        let mut r = rng.below(total as u64) as u32;
        for (i, t) in self.types.iter().enumerate() {
            if r < t.2 {
                return i;
            }
            r -= t.2;
        }
        0
    }

    /// A unit for an order of `ty`: its default unit half of the time, else any.
    fn pick_unit(&self, ty: &WorkOrderType, rng: &mut Rng) -> UnitId {
        match ty.default_unit_id {
            Some(u) if rng.below(2) == 0 => u,
            _ => *rng.pick(&self.units),
        }
    }
}

/// A filled-in form for `ty`: every required field, half of the optional ones (no attachments).
fn fill_form(
    ty: &WorkOrderType,
    rng: &mut Rng,
    day: NaiveDate,
    address: &str,
) -> Map<String, Value> {
    let mut fields = Map::new();
    for def in ty.form.fields() {
        if !def.required && rng.below(2) == 0 {
            continue;
        }
        let v = match def.kind {
            FieldKind::Choice => json!(rng.pick(&def.options).value),
            FieldKind::Number => json!(rng.below(5000) as f64 / 10.0),
            FieldKind::Date => json!(day.to_string()),
            FieldKind::Address => json!(address),
            FieldKind::Text => json!(format!("BJ{:08}", rng.below(100_000_000))),
            FieldKind::Customer | FieldKind::Attachment => continue,
        };
        fields.insert(def.key.clone(), v);
    }
    fields
}

/// Title, description and address of a generated order: varied text, so the text indexes hold
/// realistic rows.
fn order_text(ty: &WorkOrderType, rng: &mut Rng) -> (String, String, String) {
    let address = format!(
        "{}{}号{}幢{}室",
        rng.pick(ROADS),
        1 + rng.below(300),
        1 + rng.below(30),
        101 + rng.below(6) * 100 + rng.below(4)
    );
    let what = [
        "有煤气味",
        "无气",
        "燃气表不走字",
        "灶具打不着火",
        "账单金额有疑问",
        "预约上门安检",
        "抄表员未上门",
        "缴费后仍显示欠费",
        "热水器点火困难",
        "管道外墙锈蚀",
    ];
    let title = format!("{}：{}", ty.name, rng.pick(&what));
    let description = format!(
        "客户来电反映{}，联系电话见工单，要求尽快处理（编号 {}）。",
        rng.pick(&what),
        rng.below(1_000_000)
    );
    (title, description, address)
}

/// A random mobile number in canonical form.
fn mobile(rng: &mut Rng) -> String {
    format!("13{}{:08}", 5 + rng.below(5), rng.below(100_000_000))
}

/// `kefu bench work-orders …`
pub async fn work_orders(
    store: &Store,
    what: WorkOrderBench,
    today: NaiveDate,
    offset: FixedOffset,
) -> anyhow::Result<()> {
    match what {
        WorkOrderBench::Create {
            tasks,
            secs,
            customers,
        } => {
            let ctx = WoCtx::load(store, customers, today, offset).await?;
            wo_create(store, &ctx, &tasks, Duration::from_secs(secs), today).await
        }
        WorkOrderBench::Overdue {
            orders,
            samples,
            overdue_share,
            customers,
        } => {
            let ctx = WoCtx::load(store, customers, today, offset).await?;
            wo_overdue(store, &ctx, orders, samples, overdue_share).await
        }
        WorkOrderBench::Sweep {
            orders,
            due_share,
            batch,
            customers,
        } => {
            let ctx = WoCtx::load(store, customers, today, offset).await?;
            wo_sweep(store, &ctx, orders, due_share, batch).await
        }
    }
}

fn new_order(ctx: &WoCtx, rng: &mut Rng, day: NaiveDate) -> NewWorkOrder {
    let (ty, _, _) = &ctx.types[ctx.pick_type(rng)];
    let (title, description, address) = order_text(ty, rng);
    let fields = fill_form(ty, rng, day, &address);
    let customer = (rng.below(5) != 0).then(|| *rng.pick(&ctx.customers));
    NewWorkOrder {
        type_id: ty.id,
        channel: *rng.pick(&[Channel::Phone, Channel::Phone, Channel::Ivr, Channel::Web]),
        origin_kind: None,
        origin_ref: None,
        customer_id: customer,
        contact_name: Some(format!("客户{}", rng.below(10_000))),
        contact_phone: Some(mobile(rng)),
        address: Some(address),
        title,
        description,
        fields: Value::Object(fields),
        priority: None,
        unit_id: Some(ctx.pick_unit(ty, rng)),
        assignee_id: None,
    }
}

async fn wo_create(
    store: &Store,
    ctx: &WoCtx,
    runs: &[usize],
    secs: Duration,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let (actor, acting) = &ctx.agent;
    // Warm-up: caches, pools, the day's sequence row.
    let mut rng = Rng::new(1);
    for _ in 0..200 {
        store
            .create_work_order(
                actor,
                acting,
                new_order(ctx, &mut rng, today),
                None,
                today,
                Utc::now(),
            )
            .await?;
    }
    let ctx = std::sync::Arc::new(WoCtx {
        types: ctx.types.clone(),
        units: ctx.units.clone(),
        site_unit: ctx.site_unit,
        agent: ctx.agent.clone(),
        customers: ctx.customers.clone(),
        offset: ctx.offset,
    });
    for &tasks in runs {
        let started = Instant::now();
        let deadline = started + secs;
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = store.clone();
            let ctx = ctx.clone();
            handles.push(tokio::spawn(async move {
                let mut rng = Rng::new(1000 + t as u64);
                let mut times = Vec::new();
                let mut errors: Vec<String> = Vec::new();
                let (actor, acting) = &ctx.agent;
                while Instant::now() < deadline {
                    let new = new_order(&ctx, &mut rng, today);
                    let t0 = Instant::now();
                    match store
                        .create_work_order(actor, acting, new, None, today, Utc::now())
                        .await
                    {
                        Ok(c) => {
                            debug_assert_eq!(c.order.status, Status::Dispatched);
                            times.push(t0.elapsed());
                        }
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (times, errors)
            }));
        }
        let mut all = Sample::new("create+dispatch");
        let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
        for h in handles {
            let (t, e) = h.await?;
            all.times.extend(t);
            for e in e {
                *errors.entry(e.chars().take(120).collect()).or_default() += 1;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "\ncreate+dispatch, {tasks} tasks, backend {:?}: {} orders in {elapsed:.1} s = {:.0} orders/s, {} failed",
            store.backend(),
            all.times.len(),
            all.times.len() as f64 / elapsed,
            errors.values().sum::<usize>()
        );
        if !all.times.is_empty() {
            all.print();
        }
        for (e, n) in &errors {
            println!("  {n} × {e}");
        }
    }

    // Where one create's time goes: its parts timed one by one, from one task.
    let n = 500;
    let (ty, _, _) = &ctx.types[0];
    let mut parts = [
        Sample::new("  work_order_type"),
        Sample::new("  + calendar_for"),
        Sample::new("  work_order (hydrate)"),
        Sample::new("  whole create, 1 task"),
    ];
    let mut last = None;
    for _ in 0..n {
        let ty = timed(&mut parts[0], store.work_order_type(ty.id)).await?;
        timed(&mut parts[1], store.calendar_for(&ty)).await?;
        let c = timed(
            &mut parts[3],
            store.create_work_order(
                actor,
                acting,
                new_order(&ctx, &mut rng, today),
                None,
                today,
                Utc::now(),
            ),
        )
        .await?;
        last = Some(c.order.id);
        timed(&mut parts[2], store.work_order(c.order.id)).await?;
    }
    anyhow::ensure!(last.is_some());
    println!("\nparts of one create (sequential, {n} each):");
    for p in &parts {
        p.print();
    }
    Ok(())
}

/// One row of the overdue-list data set: 70% closed or archived (no deadline), 30% open with their
/// earliest deadline spread over ±10 days around `now` such that `overdue_share` of all orders is
/// overdue. The SLA clock is a real one started at the order's creation; the indexed columns follow
/// the wanted spread rather than that clock (the list reads only the columns).
fn list_order(ctx: &WoCtx, rng: &mut Rng, now: DateTime<Utc>, overdue_share: f64) -> BenchOrder {
    let (ty, cal, _) = &ctx.types[ctx.pick_type(rng)];
    let (title, description, address) = order_text(ty, rng);
    let open = rng.unit() < 0.30;
    let status = if open {
        *rng.pick(&[
            Status::New,
            Status::Dispatched,
            Status::Dispatched,
            Status::Dispatched,
            Status::Accepted,
            Status::Accepted,
            Status::InProgress,
            Status::InProgress,
            Status::FeedbackSubmitted,
            Status::WaitingCustomer,
        ])
    } else {
        *rng.pick(&[
            Status::Archived,
            Status::Archived,
            Status::Archived,
            Status::Archived,
            Status::Archived,
            Status::Closed,
            Status::Closed,
            Status::CallbackDone,
            Status::CallbackDone,
            Status::Cancelled,
        ])
    };
    let day_secs = 86_400;
    // Open orders: the earliest deadline, then a creation before it.
    let (created_at, due_at) = if open {
        let overdue = rng.unit() < overdue_share / 0.30;
        let due = if overdue {
            rng.secs_after(now, -10 * day_secs, -60)
        } else {
            rng.secs_after(now, 60, 10 * day_secs)
        };
        let created = rng.secs_after(due, -5 * day_secs, -3600).min(now);
        (created, (status != Status::WaitingCustomer).then_some(due))
    } else {
        (rng.secs_after(now, -730 * day_secs, -day_secs), None)
    };
    let day = created_at.with_timezone(&ctx.offset).date_naive();
    let fields = fill_form(ty, rng, day, &address);
    let priority = Form::priority(&ty.priority_rules, &fields, ty.default_priority);
    let unit = (status != Status::New).then(|| ctx.pick_unit(ty, rng));
    let mut clock = SlaClock::start(&ty.sla, priority, cal, created_at);
    if unit.is_some() {
        clock.dispatched(&ty.sla, priority, cal, created_at + TimeDelta::minutes(5));
    }
    let closed_at = (!open).then(|| rng.secs_after(created_at, 3600, 5 * day_secs).min(now));
    if let Some(at) = closed_at {
        clock.met(
            SlaTarget::Accept,
            at.min(created_at + TimeDelta::minutes(30)),
        );
        clock.met(SlaTarget::Resolve, at);
    } else if !matches!(status, Status::New | Status::Dispatched) {
        clock.met(SlaTarget::Accept, created_at + TimeDelta::minutes(20));
    }
    if status == Status::WaitingCustomer {
        clock.pause(now.min(created_at + TimeDelta::hours(2)));
    }
    let customer = (rng.below(5) != 0).then(|| *rng.pick(&ctx.customers));
    BenchOrder {
        type_id: ty.id,
        status,
        priority,
        channel: *rng.pick(&[Channel::Phone, Channel::Phone, Channel::Ivr, Channel::Web]),
        customer_id: customer,
        contact_name: Some(format!("客户{}", rng.below(10_000))),
        contact_phone: Some(mobile(rng)),
        address: Some(address),
        title,
        description,
        fields: Value::Object(fields),
        unit_id: unit,
        created_by: ctx.agent.0.user_id,
        sla: clock,
        due_at,
        next_sla_at: due_at.filter(|d| *d > now),
        breached: due_at.is_some_and(|d| d <= now),
        satisfaction: matches!(status, Status::CallbackDone | Status::Archived)
            .then(|| 3 + rng.below(3) as i16),
        closed_at,
        created_at,
        day,
    }
}

/// Loads `count` orders made by `make`, 50,000 per transaction, and prints the rate.
async fn bulk_load(
    store: &Store,
    count: usize,
    mut make: impl FnMut() -> BenchOrder,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut done = 0;
    let mut build = Duration::ZERO;
    while done < count {
        let n = (count - done).min(50_000);
        let b = Instant::now();
        let batch: Vec<BenchOrder> = (0..n).map(|_| make()).collect();
        build += b.elapsed();
        store.bench_insert_work_orders(&batch).await?;
        done += n;
        if done % 200_000 == 0 || done == count {
            println!(
                "  {done} orders in {:.1} s ({:.0} rows/s; generating them took {:.1} s)",
                t.elapsed().as_secs_f64(),
                done as f64 / t.elapsed().as_secs_f64(),
                build.as_secs_f64()
            );
        }
    }
    Ok(())
}

async fn wo_overdue(
    store: &Store,
    ctx: &WoCtx,
    orders: usize,
    samples: usize,
    overdue_share: f64,
) -> anyhow::Result<()> {
    let have = store.bench_work_order_count().await? as usize;
    if have < orders {
        println!(
            "bulk-loading {} orders (database has {have}) …",
            orders - have
        );
        let now = Utc::now();
        let mut rng = Rng::new(have as u64 + 7);
        bulk_load(store, orders - have, || {
            list_order(ctx, &mut rng, now, overdue_share)
        })
        .await?;
        if store.backend() == kefu_store::Backend::Postgres {
            // What autovacuum does after a load this size; SQLite has no statistics in kefu.
            store.bench_analyze().await?;
        }
    }
    let (open, overdue) = store.work_order_counts(Utc::now()).await?;
    println!(
        "\n{} orders, {open} open, {overdue} overdue; backend {:?}",
        store.bench_work_order_count().await?,
        store.backend()
    );
    let site = ctx.site_unit;
    let mut kinds = [
        (Sample::new("overdue, page 1 of 20"), None, 20),
        (Sample::new("overdue, page 1 of 50"), None, 50),
        (Sample::new("overdue of one site, 20"), Some(site), 20),
        (Sample::new("overdue of one site, 50"), Some(site), 50),
    ];
    let mut totals = [0u64; 4];
    for _ in 0..samples {
        for (i, (s, unit, per_page)) in kinds.iter_mut().enumerate() {
            let q = WorkOrderQuery {
                overdue_at: Some(Utc::now()),
                restrict_unit: *unit,
                ..Default::default()
            };
            let page = timed(
                s,
                store.work_orders(
                    &q,
                    PageRequest {
                        page: 1,
                        per_page: *per_page,
                    },
                ),
            )
            .await?;
            anyhow::ensure!(
                page.items.len() as u64 == page.total.min(*per_page),
                "short page"
            );
            totals[i] = page.total;
        }
    }
    for ((s, _, _), total) in kinds.iter().zip(totals) {
        s.print();
        println!("{:<28} (total counted: {total})", "");
    }
    Ok(())
}

/// One open order of the sweep data set, with a real SLA clock: created in the last 10 days (from 1
/// to 10 days ago when all are to be due), dispatched minutes later unless new, accepted by some,
/// waiting for the customer (paused) for a few (none when all are to be due). Earlier sweeps have
/// fired its past milestones, except, for `due_share` of the orders, the last batch before `now`:
/// those are what a sweep at `now` finds due.
fn sweep_order(ctx: &WoCtx, rng: &mut Rng, now: DateTime<Utc>, due_share: f64) -> BenchOrder {
    let all_due = due_share >= 1.0;
    let (ty, cal, _) = &ctx.types[ctx.pick_type(rng)];
    let (title, description, address) = order_text(ty, rng);
    let mut statuses = vec![
        Status::New,
        Status::Dispatched,
        Status::Dispatched,
        Status::Dispatched,
        Status::Dispatched,
        Status::Accepted,
        Status::Accepted,
        Status::InProgress,
        Status::InProgress,
    ];
    if !all_due {
        statuses.push(Status::WaitingCustomer);
    }
    let status = *rng.pick(&statuses);
    let day_secs = 86_400;
    let created_at = if all_due {
        rng.secs_after(now, -10 * day_secs, -day_secs)
    } else {
        rng.secs_after(now, -10 * day_secs, -60)
    };
    let day = created_at.with_timezone(&ctx.offset).date_naive();
    let fields = fill_form(ty, rng, day, &address);
    let priority = Form::priority(&ty.priority_rules, &fields, ty.default_priority);
    let unit = (status != Status::New).then(|| ctx.pick_unit(ty, rng));
    let policy = &ty.sla;
    let mut clock = SlaClock::start(policy, priority, cal, created_at);
    let dispatched = rng.secs_after(created_at, 60, 1800).min(now);
    if unit.is_some() {
        clock.dispatched(policy, priority, cal, dispatched);
    }
    if matches!(
        status,
        Status::Accepted | Status::InProgress | Status::WaitingCustomer
    ) {
        clock.met(
            SlaTarget::Accept,
            rng.secs_after(dispatched, 60, 3600).min(now),
        );
    }
    if status == Status::WaitingCustomer {
        clock.pause(rng.secs_after(dispatched, 3600, 4 * 3600).min(now));
    }
    // The sweeps before now.
    if rng.unit() < due_share {
        while let Some(t) = clock.next_check_at(policy, cal).filter(|t| *t <= now) {
            let mut peek = clock.clone();
            peek.due_events(policy, cal, t);
            if peek
                .next_check_at(policy, cal)
                .is_none_or(|next| next > now)
            {
                break; // leave the last batch before now for this sweep
            }
            clock = peek;
        }
    } else {
        clock.due_events(policy, cal, now);
    }
    let customer = (rng.below(5) != 0).then(|| *rng.pick(&ctx.customers));
    BenchOrder {
        type_id: ty.id,
        status,
        priority,
        channel: *rng.pick(&[Channel::Phone, Channel::Phone, Channel::Ivr, Channel::Web]),
        customer_id: customer,
        contact_name: Some(format!("客户{}", rng.below(10_000))),
        contact_phone: Some(mobile(rng)),
        address: Some(address),
        title,
        description,
        fields: Value::Object(fields),
        unit_id: unit,
        created_by: ctx.agent.0.user_id,
        due_at: clock.due_at(),
        next_sla_at: clock.next_check_at(policy, cal),
        breached: clock.breached(),
        sla: clock,
        satisfaction: None,
        closed_at: None,
        created_at,
        day,
    }
}

async fn wo_sweep(
    store: &Store,
    ctx: &WoCtx,
    orders: usize,
    due_share: f64,
    batch: u64,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let before = store.bench_sla_due_count(now).await?;
    println!("bulk-loading {orders} open orders …");
    let mut rng = Rng::new(42);
    bulk_load(store, orders, || sweep_order(ctx, &mut rng, now, due_share)).await?;
    if store.backend() == kefu_store::Backend::Postgres {
        store.bench_analyze().await?;
    }
    let due = store.bench_sla_due_count(now).await? - before;
    println!(
        "\n{due} of {orders} loaded orders due at now ({:.1}%), plus {before} demo orders; backend {:?}",
        100.0 * due as f64 / orders as f64,
        store.backend()
    );
    let mut rounds = Sample::new("sweep round");
    let mut total = kefu_store::SweepReport::default();
    let started = Instant::now();
    loop {
        let r = timed(&mut rounds, store.sweep_sla(now, batch)).await?;
        total.examined += r.examined;
        total.reminders += r.reminders;
        total.breaches += r.breaches;
        total.reassigned += r.reassigned;
        if (r.examined as u64) < batch || rounds.times.len() > 100_000 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let left = store.bench_sla_due_count(now).await?;
    println!(
        "sweep_sla(now, {batch}) until nothing is due: {secs:.2} s, {} rounds, {} orders examined ({:.0} orders/s): {} reminders, {} breaches, {} reassigned; {left} still due",
        rounds.times.len(),
        total.examined,
        total.examined as f64 / secs,
        total.reminders,
        total.breaches,
        total.reassigned
    );
    rounds.print();
    Ok(())
}
