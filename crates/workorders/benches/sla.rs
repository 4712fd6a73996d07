//! What one SLA sweep costs: `due_events` over 100,000 open clocks at one `now` (a mix of priorities,
//! some with milestones due), and `next_check_at` (the indexed column) for 100,000 clocks, on the
//! demo calendar (weekly hours, 2026 holidays and make-up days; emergencies 24×7).
//! Run: `cargo bench -p kefu-workorders --bench sla`.

use std::hint::black_box;

use chrono::{DateTime, FixedOffset, TimeDelta, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kefu_workorders::{
    Calendar, Priority, PriorityTargets, SlaClock, SlaPolicy, SlaTarget, SlaTargets,
    china_demo_spec,
};

const CLOCKS: usize = 100_000;

fn targets(accept: u32, feedback: u32, resolve: u32) -> SlaTargets {
    SlaTargets {
        accept_mins: Some(accept),
        first_feedback_mins: Some(feedback),
        resolve_mins: Some(resolve),
    }
}

fn policy() -> SlaPolicy {
    SlaPolicy {
        targets: PriorityTargets {
            emergency: targets(10, 60, 240),
            urgent: targets(30, 240, 480),
            normal: targets(60, 480, 1440),
            low: targets(240, 960, 2400),
        },
        emergency_always_open: true,
        remind_at_percent: vec![50, 80],
        escalate_on_breach: true,
        reassign_unaccepted_after_mins: Some(120),
    }
}

/// Open orders created over the ten days before `now`, most dispatched, some accepted, with feedback
/// or waiting for the customer. Deterministic (xorshift64*).
fn clocks(policy: &SlaPolicy, cal: &Calendar, now: DateTime<Utc>) -> Vec<SlaClock> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    };
    (0..CLOCKS)
        .map(|_| {
            let priority = match next(20) {
                0 => Priority::Emergency,
                1..=3 => Priority::Urgent,
                4..=16 => Priority::Normal,
                _ => Priority::Low,
            };
            let created = now - TimeDelta::seconds(next(10 * 86_400) as i64);
            let mut c = SlaClock::start(policy, priority, cal, created);
            let step = |m: u64| created + TimeDelta::minutes(m as i64);
            if next(10) < 9 {
                c.dispatched(policy, priority, cal, step(next(30)));
                if next(2) == 0 {
                    c.met(SlaTarget::Accept, step(30 + next(60)).min(now));
                    if next(3) == 0 {
                        c.met(SlaTarget::FirstFeedback, step(90 + next(600)).min(now));
                    }
                }
            }
            if next(20) == 0 {
                c.pause(step(next(120)).min(now));
            }
            c
        })
        .collect()
}

fn sweep(c: &mut Criterion) {
    let cal = Calendar::parse(&china_demo_spec()).expect("the demo calendar");
    let policy = policy();
    let now = FixedOffset::east_opt(8 * 3600)
        .expect("UTC+8")
        .with_ymd_and_hms(2026, 10, 12, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let clocks = clocks(&policy, &cal, now);
    let due: usize = clocks
        .clone()
        .iter_mut()
        .map(|c| c.due_events(&policy, &cal, now).len())
        .sum();
    assert!(due > 0 && due < 3 * CLOCKS, "some clocks have events due");

    c.bench_function("sla due_events 100k open clocks", |b| {
        b.iter_batched(
            || clocks.clone(),
            |mut clocks| {
                let mut events = 0;
                for clock in &mut clocks {
                    events += clock.due_events(&policy, &cal, black_box(now)).len();
                }
                black_box(events);
                clocks
            },
            BatchSize::LargeInput,
        )
    });
    c.bench_function("sla next_check_at 100k clocks", |b| {
        b.iter(|| {
            let mut earliest = None;
            for clock in &clocks {
                if let Some(at) = clock.next_check_at(&policy, black_box(&cal)) {
                    earliest = Some(earliest.map_or(at, |e: DateTime<Utc>| e.min(at)));
                }
            }
            black_box(earliest)
        })
    });
}

criterion_group!(benches, sweep);
criterion_main!(benches);
