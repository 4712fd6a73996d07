//! Routing decisions at contact-center scale: 1,000 agents, 50 queues, each agent skilled in ~5
//! queues, everyone logged in with a realistic mix of states.
//!
//! - `enqueue_to_offer`: a caller arrives in a queue with ready agents; the decision is the offer.
//! - `ready_to_offer`: an agent becomes ready while callers wait across its queues (nobody else is
//!   free); the decision is which caller it gets.
//!
//! Besides criterion's estimates, the run starts by timing 10,000 decisions of each kind one by one
//! and printing the median, p99 and max (target: p99 < 1 ms):
//! `cargo bench -p kefu-acd --bench routing`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use kefu_acd::{Acd, Agent, AgentId, CallId, Change, Effect, QueueConfig, State, Strategy};
use uuid::Uuid;

const AGENTS: u128 = 1_000;
const QUEUES: usize = 50;
const SKILLS_PER_AGENT: usize = 5;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

fn aid(n: u128) -> AgentId {
    Uuid::from_u128(n)
}

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn qkey(i: usize) -> String {
    format!("q{i:02}")
}

/// The queues and agents, every agent logged in to its ~5 queues, not ready.
fn base(rng: &mut Rng) -> (Acd, Vec<Vec<String>>) {
    let mut acd = Acd::new();
    for i in 0..QUEUES {
        let mut q = QueueConfig::new(&qkey(i));
        q.strategy = Strategy::ALL[i % Strategy::ALL.len()];
        if q.strategy == Strategy::RingAll {
            // Ring-all over hundreds of phones is no realistic set-up; keep one such queue.
            q.strategy = if i < Strategy::ALL.len() {
                Strategy::RingAll
            } else {
                Strategy::LongestIdle
            };
        }
        acd.upsert_queue(q);
    }
    let mut skills_of = Vec::new();
    for n in 1..=AGENTS {
        let mut a = Agent::new(aid(n), &format!("agent {n}"), t(0));
        a.extension = Some(format!("{}", 8000 + n));
        a.max_missed = 0;
        let mut skills = Vec::new();
        while skills.len() < SKILLS_PER_AGENT {
            let q = qkey(rng.below(QUEUES));
            if !skills.contains(&q) {
                skills.push(q);
            }
        }
        for q in &skills {
            a.skills.insert(q.clone(), 1 + rng.below(10) as u8);
        }
        acd.insert_agent(a);
        acd.login(aid(n), None, None, false, t(0)).unwrap();
        skills_of.push(skills);
    }
    (acd, skills_of)
}

fn offered(effects: &[Effect]) -> Option<(CallId, Vec<AgentId>)> {
    effects.iter().find_map(|e| match e {
        Effect::Offer { call, agents, .. } => Some((*call, agents.clone())),
        _ => None,
    })
}

struct World {
    acd: Acd,
    skills_of: Vec<Vec<String>>,
    rng: Rng,
    now: i64,
    next_call: u128,
}

impl World {
    fn call(&mut self) -> CallId {
        self.next_call += 1;
        Uuid::from_u128(1 << 64 | self.next_call)
    }

    /// Puts agents into the mix by real operations: `ready` share of them ready, the others on
    /// calls, in wrap-up, ringing, or not ready.
    fn mix(&mut self, ready_share: usize) {
        for n in 1..=AGENTS {
            let roll = self.rng.below(100);
            let id = aid(n);
            let now = t(self.now);
            self.acd.change(id, Change::Ready, now).unwrap();
            if roll < ready_share {
                continue;
            }
            // A caller in one of its queues: offered to it or to an agent ready before it, who
            // then answers, wraps up, rings, or goes on a break after the call.
            let q = self.skills_of[n as usize - 1][self.rng.below(SKILLS_PER_AGENT)].clone();
            let call = self.call();
            let (_, fx) = self.acd.enqueue(call, &q, 0, now).unwrap();
            let Some((call, agents)) = offered(&fx) else {
                continue;
            };
            let agent = agents[0];
            let kind = roll % 10;
            if kind < 6 {
                self.acd.answered(call, agent, now).unwrap();
                if kind >= 4 {
                    self.acd.ended(agent, call, 60, now).unwrap(); // wrap-up
                }
            } else if kind < 7 {
                // left ringing
            } else {
                self.acd.answered(call, agent, now).unwrap();
                self.acd
                    .change(agent, Change::NotReady("break".into()), now)
                    .unwrap();
                self.acd.ended(agent, call, 60, now).unwrap();
                self.acd.change(agent, Change::EndWrapUp, now).unwrap();
            }
        }
    }

    fn states(&self) -> String {
        let mut counts = std::collections::BTreeMap::new();
        for a in self.acd.agents() {
            *counts.entry(a.state.name()).or_insert(0) += 1;
        }
        format!("{counts:?}, {} waiting", self.acd.waiters().count())
    }
}

/// World A: about a quarter of the agents ready, no caller waiting.
fn world_ready() -> World {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (acd, skills_of) = base(&mut rng);
    let mut w = World {
        acd,
        skills_of,
        rng,
        now: 0,
        next_call: 0,
    };
    w.mix(25);
    w
}

/// World B: nobody ready, 300 callers waiting across the queues (some priority 9), and not-ready
/// agents who will become ready.
fn world_waiting() -> (World, Vec<AgentId>) {
    let mut w = world_ready();
    let ready: Vec<AgentId> = w
        .acd
        .agents()
        .filter(|a| a.state == State::Ready)
        .map(|a| a.id)
        .collect();
    let now = t(w.now);
    for id in &ready {
        w.acd
            .change(*id, Change::NotReady("break".into()), now)
            .unwrap();
    }
    for i in 0..300 {
        w.now += 1;
        let q = qkey(w.rng.below(QUEUES));
        let call = w.call();
        let priority = if i % 50 == 0 { 9 } else { 0 };
        let (_, fx) = w.acd.enqueue(call, &q, priority, t(w.now)).unwrap();
        assert!(offered(&fx).is_none());
    }
    let not_ready: Vec<AgentId> = w
        .acd
        .agents()
        .filter(|a| matches!(a.state, State::NotReady { .. }))
        .map(|a| a.id)
        .collect();
    (w, not_ready)
}

/// Decision (a): one caller arrives in a queue with ready agents and is offered. Untimed: the
/// caller leaves again (the agent is ready again).
fn enqueue_to_offer(w: &mut World) -> Duration {
    w.now += 1;
    let now = t(w.now);
    let q = qkey(w.rng.below(QUEUES));
    let call = w.call();
    let start = Instant::now();
    let r = w.acd.enqueue(call, &q, 0, now);
    let took = start.elapsed();
    black_box(&r);
    w.acd.leave(call, now);
    took
}

/// Decision (b): a not-ready agent becomes ready with callers waiting in its queues. Untimed: it
/// answers, asks for a break, ends the call and wrap-up (back to not ready), and a new caller
/// joins one of its queues so that the waiting stay the same.
fn ready_to_offer(w: &mut World, agents: &[AgentId], i: usize) -> Duration {
    w.now += 1;
    let now = t(w.now);
    let agent = agents[i % agents.len()];
    let start = Instant::now();
    let fx = w.acd.change(agent, Change::Ready, now).unwrap();
    let took = start.elapsed();
    let Some((call, _)) = offered(&fx) else {
        // Nobody waits in its queues any more: fill one.
        let n = agent.as_u128() as usize;
        w.acd
            .change(agent, Change::NotReady("break".into()), now)
            .unwrap();
        let q = w.skills_of[n - 1][0].clone();
        let c = w.call();
        w.acd.enqueue(c, &q, 0, now).unwrap();
        return took;
    };
    w.acd.answered(call, agent, now).unwrap();
    w.acd
        .change(agent, Change::NotReady("break".into()), now)
        .unwrap();
    w.acd.ended(agent, call, 30, now).unwrap();
    w.acd
        .change(agent, Change::EndWrapUp, now)
        .unwrap_or_default();
    let n = agent.as_u128() as usize;
    let q = w.skills_of[n - 1][w.rng.below(SKILLS_PER_AGENT)].clone();
    let c = w.call();
    w.acd.enqueue(c, &q, 0, now).unwrap();
    took
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "{name}: {} decisions, median {:?}, p99 {:?}, max {:?}",
        samples.len(),
        at(0.5),
        at(0.99),
        samples[samples.len() - 1]
    );
}

/// 10,000 decisions of each kind, one by one: median, p99, max.
fn percentiles() {
    let mut w = world_ready();
    println!("world A: {}", w.states());
    let samples = (0..10_000).map(|_| enqueue_to_offer(&mut w)).collect();
    report("enqueue_to_offer", samples);

    let (mut w, agents) = world_waiting();
    println!("world B: {}", w.states());
    let samples = (0..10_000)
        .map(|i| ready_to_offer(&mut w, &agents, i))
        .collect();
    report("ready_to_offer", samples);
    println!("world B after: {}", w.states());
}

fn bench(c: &mut Criterion) {
    let mut w = world_ready();
    c.bench_function("enqueue_to_offer", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| enqueue_to_offer(&mut w)).sum())
    });
    let (mut w, agents) = world_waiting();
    let mut i = 0;
    c.bench_function("ready_to_offer", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    i += 1;
                    ready_to_offer(&mut w, &agents, i)
                })
                .sum()
        })
    });
}

criterion_group!(benches, bench);

fn main() {
    // `cargo test --benches` runs the binary in test mode: build the worlds only.
    if std::env::args().any(|a| a == "--bench") {
        percentiles();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
