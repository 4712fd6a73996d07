//! Random sequences of everything that can happen to the ACD, on a few agents and queues; after
//! each step the invariants hold (no orphan offer, no talking agent whose call still waits, the
//! router is work-conserving, published states agree), and at the end, once time has passed and the
//! engine has no call left, no agent is stuck reserved, on a call or in wrap-up.

mod common;

use std::collections::BTreeMap;

use common::*;
use kefu_acd::{Acd, AgentId, CallId, Change, Effect, Overflow, State, Strategy as Routing};
use proptest::prelude::*;

const AGENTS: u128 = 5;
const QUEUES: [&str; 4] = ["a", "b", "c", "d"];
const REASONS: [&str; 4] = ["break", "meal", "bogus", "missed"];

#[derive(Clone, Debug)]
enum Op {
    Login {
        agent: u128,
        queues: u8,
        ready: bool,
    },
    Ready(u128),
    NotReady(u128, usize),
    Logout(u128),
    Enqueue {
        queue: usize,
        priority: u8,
    },
    Leave(usize),
    ToCallback(usize),
    AnswerOffered(usize, usize),
    AnswerWrong(u128, usize),
    MissOffered(usize, usize),
    MissWrong(u128, usize),
    Ended {
        agent: u128,
        talk: u64,
        own: bool,
    },
    EndWrapUp(u128),
    Direct(u128, usize),
    Force(u128, u8),
    Tick(i64),
    Reconcile(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let agent = 1..=AGENTS;
    prop_oneof![
        3 => (agent.clone(), any::<u8>(), any::<bool>())
            .prop_map(|(agent, queues, ready)| Op::Login { agent, queues, ready }),
        6 => agent.clone().prop_map(Op::Ready),
        2 => (agent.clone(), 0..REASONS.len()).prop_map(|(a, r)| Op::NotReady(a, r)),
        1 => agent.clone().prop_map(Op::Logout),

        5 => (0..QUEUES.len(), prop_oneof![3 => Just(0u8), 1 => 0..=9u8])
            .prop_map(|(queue, priority)| Op::Enqueue { queue, priority }),
        2 => any::<usize>().prop_map(Op::Leave),
        1 => any::<usize>().prop_map(Op::ToCallback),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(w, a)| Op::AnswerOffered(w, a)),
        1 => (agent.clone(), any::<usize>()).prop_map(|(a, c)| Op::AnswerWrong(a, c)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(w, a)| Op::MissOffered(w, a)),
        1 => (agent.clone(), any::<usize>()).prop_map(|(a, c)| Op::MissWrong(a, c)),
        3 => (agent.clone(), 0..600u64, any::<bool>())
            .prop_map(|(agent, talk, own)| Op::Ended { agent, talk, own }),
        1 => agent.clone().prop_map(Op::EndWrapUp),
        1 => (agent.clone(), any::<usize>()).prop_map(|(a, c)| Op::Direct(a, c)),
        1 => (agent.clone(), 0..4u8).prop_map(|(a, t)| Op::Force(a, t)),
        4 => prop_oneof![Just(0i64), 1..5i64, 5..40i64].prop_map(Op::Tick),
        1 => any::<u64>().prop_map(Op::Reconcile),
    ]
}

fn setup() -> Acd {
    let mut acd = Acd::new();
    let mut a = queue("a", Routing::LongestIdle);
    a.max_wait_secs = 60;
    a.overflow = Overflow::Callback;
    a.announce_secs = 20;
    let mut b = queue("b", Routing::RoundRobin);
    b.max_len = 3;
    b.overflow = Overflow::Queue { queue: "c".into() };
    b.ring_secs = 10;
    b.wrap_up_secs = 0;
    let mut c = queue("c", Routing::RingAll);
    c.max_wait_secs = 30;
    c.overflow = Overflow::Hangup;
    let mut d = queue("d", Routing::Sequential);
    d.members = vec!["8003".into(), "8001".into()];
    d.max_wait_secs = 45;
    d.overflow = Overflow::Voicemail;
    d.min_level = 5;
    for q in [a, b, c, d] {
        acd.upsert_queue(q);
    }
    let skills: [&[(&str, u8)]; 5] = [
        &[("a", 3), ("b", 1)],
        &[("b", 2), ("c", 1), ("d", 7)],
        &[("a", 1), ("c", 4)],
        &[("a", 9), ("b", 9), ("c", 9), ("d", 9)],
        &[("d", 2), ("c", 1)],
    ];
    for n in 1..=AGENTS {
        let mut ag = agent(n, skills[n as usize - 1]);
        ag.extension = Some(format!("800{n}"));
        ag.max_missed = [2, 1, 0, 2, 3][n as usize - 1];
        ag.wrap_up_secs = [None, Some(0), None, Some(5), None][n as usize - 1];
        acd.insert_agent(ag);
        // Most start logged in (1 and 5 ready), so that calls flow from the first step.
        if n != 3 {
            acd.login(aid(n), None, None, n % 4 == 1, t(0)).unwrap();
        }
    }
    acd
}

struct World {
    acd: Acd,
    now: i64,
    calls: Vec<CallId>,
    next_call: u128,
}

impl World {
    fn call(&self, i: usize) -> Option<CallId> {
        (!self.calls.is_empty()).then(|| self.calls[i % self.calls.len()])
    }

    /// Waiters being offered, in a stable order.
    fn offered(&self) -> Vec<(CallId, Vec<AgentId>)> {
        let mut v: Vec<_> = self
            .acd
            .waiters()
            .filter(|w| !w.offered_to.is_empty())
            .map(|w| (w.call, w.offered_to.iter().copied().collect::<Vec<_>>()))
            .collect();
        v.sort();
        v
    }

    /// What the runtime does with effects it must act on at once: a queue overflow moves the
    /// caller to the other queue.
    fn runtime(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut out = effects.clone();
        for e in effects {
            if let Effect::Overflow {
                call,
                action: Overflow::Queue { queue },
                ..
            } = e
                && let Ok((_, fx)) = self.acd.enqueue(call, &queue, 0, t(self.now))
            {
                out.extend(fx);
            }
        }
        out
    }

    fn step(&mut self, op: &Op) -> Vec<Effect> {
        let now = t(self.now);
        let acd = &mut self.acd;
        let fx = match op.clone() {
            Op::Login {
                agent,
                queues,
                ready,
            } => {
                let eligible = acd.eligible_queues(aid(agent));
                let list: Vec<String> = QUEUES
                    .iter()
                    .enumerate()
                    .filter(|(i, q)| queues & (1 << i) != 0 && eligible.contains(**q))
                    .map(|(_, q)| q.to_string())
                    .collect();
                let list = (!list.is_empty() && queues & 0x80 == 0).then_some(list);
                acd.login(aid(agent), list, None, ready, now)
                    .unwrap_or_default()
            }
            Op::Ready(a) => acd.change(aid(a), Change::Ready, now).unwrap_or_default(),
            Op::NotReady(a, r) => acd
                .change(aid(a), Change::NotReady(REASONS[r].into()), now)
                .unwrap_or_default(),
            Op::Logout(a) => acd.change(aid(a), Change::Logout, now).unwrap_or_default(),
            Op::Enqueue { queue, priority } => {
                self.next_call += 1;
                let call = cid(self.next_call);
                self.calls.push(call);
                match acd.enqueue(call, QUEUES[queue], priority, now) {
                    Ok((joined, fx)) => {
                        assert_eq!(Some(joined.position), acd.position(call).or(Some(0)));
                        fx
                    }
                    Err(_) => Vec::new(),
                }
            }
            Op::Leave(i) => match self.call(i) {
                Some(c) => self.acd.leave(c, now),
                None => Vec::new(),
            },
            Op::ToCallback(i) => match self.call(i) {
                Some(c) => self
                    .acd
                    .to_callback(c, "13800000000", now)
                    .unwrap_or_default(),
                None => Vec::new(),
            },
            Op::AnswerOffered(w, a) => {
                let offered = self.offered();
                if offered.is_empty() {
                    return Vec::new();
                }
                let (call, agents) = &offered[w % offered.len()];
                let agent = agents[a % agents.len()];
                self.acd
                    .answered(*call, agent, now)
                    .expect("an offered agent answers")
            }
            Op::AnswerWrong(a, i) => {
                let Some(c) = self.call(i) else {
                    return Vec::new();
                };
                let offered = self
                    .acd
                    .waiter(c)
                    .is_some_and(|w| w.offered_to.contains(&aid(a)));
                if offered {
                    return Vec::new();
                }
                let before = self.acd.agent(aid(a)).cloned();
                assert!(self.acd.answered(c, aid(a), now).is_err());
                assert_eq!(
                    self.acd.agent(aid(a)).cloned(),
                    before,
                    "a refused answer changes nothing"
                );
                Vec::new()
            }
            Op::MissOffered(w, a) => {
                let offered = self.offered();
                if offered.is_empty() {
                    return Vec::new();
                }
                let (call, agents) = &offered[w % offered.len()];
                self.acd.missed(*call, agents[a % agents.len()], now)
            }
            Op::MissWrong(a, i) => match self.call(i) {
                Some(c) => self.acd.missed(c, aid(a), now),
                None => Vec::new(),
            },
            Op::Ended { agent, talk, own } => {
                let call = match (&self.acd.agent(aid(agent)).unwrap().state, own) {
                    (State::OnCall { call, .. }, true) => Some(*call),
                    _ => self.call(talk as usize),
                };
                match call {
                    Some(c) => self.acd.ended(aid(agent), c, talk, now).unwrap_or_default(),
                    None => Vec::new(),
                }
            }
            Op::EndWrapUp(a) => acd
                .change(aid(a), Change::EndWrapUp, now)
                .unwrap_or_default(),
            Op::Direct(a, i) => {
                // A transfer to the agent: a call that is not waiting in a queue.
                self.next_call += 1;
                let c = cid(1_000_000 + self.next_call + i as u128 % 3);
                self.calls.push(c);
                self.acd
                    .change(aid(a), Change::Direct(c), now)
                    .unwrap_or_default()
            }
            Op::Force(a, target) => {
                let target = match target {
                    0 => State::Ready,
                    1 => State::NotReady { reason: "x".into() },
                    2 => State::LoggedOut,
                    _ => State::WrapUp {
                        call: cid(0),
                        queue: None,
                        until: now,
                    },
                };
                acd.change(aid(a), Change::Force(target), now)
                    .unwrap_or_default()
            }
            Op::Tick(secs) => {
                self.now += secs;
                self.acd.tick(t(self.now))
            }
            Op::Reconcile(mask) => {
                let live: Vec<CallId> = self
                    .calls
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << (i % 64)) != 0)
                    .map(|(_, c)| *c)
                    .collect();
                self.acd.reconcile(|c| live.contains(&c), now)
            }
        };
        self.runtime(fx)
    }
}

fn check(acd: &Acd, effects: &[Effect], ctx: &str) {
    let waiting: BTreeMap<CallId, _> = acd.waiters().map(|w| (w.call, w)).collect();
    for a in acd.agents() {
        match &a.state {
            State::Reserved { call, queue, .. } => {
                let w = waiting.get(call).unwrap_or_else(|| {
                    panic!(
                        "{ctx}: {} reserved for {call}, which is not waiting",
                        a.name
                    )
                });
                assert!(
                    w.offered_to.contains(&a.id),
                    "{ctx}: {} reserved, not in offered_to",
                    a.name
                );
                assert_eq!(&w.queue, queue, "{ctx}: queue of {}'s offer", a.name);
                let holders = waiting
                    .values()
                    .filter(|w| w.offered_to.contains(&a.id))
                    .count();
                assert_eq!(holders, 1, "{ctx}: {} offered by {holders} waiters", a.name);
            }
            State::OnCall { call, .. } => {
                assert!(
                    !waiting.contains_key(call),
                    "{ctx}: {} talks on {call}, still waiting",
                    a.name
                );
            }
            State::LoggedOut => assert!(
                a.queues.is_empty(),
                "{ctx}: {} logged out with queues",
                a.name
            ),
            _ => {}
        }
        if !matches!(a.state, State::Reserved { .. }) {
            let holders = waiting
                .values()
                .filter(|w| w.offered_to.contains(&a.id))
                .count();
            assert_eq!(
                holders,
                0,
                "{ctx}: {} ({}) in an offered_to",
                a.name,
                a.state.name()
            );
        }
        if a.state == State::Ready {
            for w in waiting.values() {
                assert!(
                    !(a.queues.contains(&w.queue) && w.offered_to.is_empty()),
                    "{ctx}: {} ready while {} waits un-offered in {}",
                    a.name,
                    w.call,
                    w.queue
                );
            }
        }
        // The last published state is the state.
        let last = effects.iter().rev().find_map(|e| match e {
            Effect::State {
                agent,
                state,
                since,
            } if *agent == a.id => Some((state, since)),
            _ => None,
        });
        if let Some((state, since)) = last {
            assert_eq!(
                (state, since),
                (&a.state, &a.since),
                "{ctx}: {} published",
                a.name
            );
        }
    }
    for w in waiting.values() {
        for id in &w.offered_to {
            let a = acd.agent(*id).unwrap();
            assert!(
                matches!(&a.state, State::Reserved { call, .. } if *call == w.call),
                "{ctx}: {} offered {} but is {:?}",
                a.name,
                w.call,
                a.state
            );
        }
    }
    for e in effects {
        if let Effect::Offer { agents, .. } = e {
            assert!(!agents.is_empty(), "{ctx}: an offer to nobody");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_orphan_offer_no_stuck_agent(ops in proptest::collection::vec(op(), 1..60)) {
        let mut w = World { acd: setup(), now: 0, calls: Vec::new(), next_call: 0 };
        for (i, op) in ops.iter().enumerate() {
            let fx = w.step(op);
            check(&w.acd, &fx, &format!("step {i} {op:?}"));
        }
        // Time passes and the engine has no call left.
        w.now += 3_600;
        let fx = w.acd.tick(t(w.now));
        check(&w.acd, &fx, "final tick");
        let fx = w.acd.reconcile(|_| false, t(w.now));
        check(&w.acd, &fx, "final reconcile");
        // Only callbacks may still wait (nobody is on the line); an agent may ring for one.
        for waiter in w.acd.waiters() {
            let callback = matches!(waiter.kind, kefu_acd::WaiterKind::Callback { .. });
            prop_assert!(callback, "{} still waits", waiter.call);
        }
        for a in w.acd.agents() {
            let ok = match &a.state {
                State::LoggedOut | State::Ready | State::NotReady { .. } => true,
                State::Reserved { call, .. } => w.acd.waiter(*call).is_some(),
                State::WrapUp { until, .. } => *until > t(w.now),
                State::OnCall { .. } => false,
            };
            prop_assert!(ok, "{} stuck in {:?}", a.name, a.state);
        }
        // The callbacks are dealt with (or given up); time passes again.
        let callbacks: Vec<CallId> = w.acd.waiters().map(|x| x.call).collect();
        for c in callbacks {
            let fx = w.acd.leave(c, t(w.now));
            check(&w.acd, &fx, "leave callback");
        }
        w.now += 3_600;
        let fx = w.acd.tick(t(w.now));
        check(&w.acd, &fx, "last tick");
        let fx = w.acd.reconcile(|_| false, t(w.now));
        check(&w.acd, &fx, "last reconcile");
        for a in w.acd.agents() {
            prop_assert!(
                matches!(a.state, State::LoggedOut | State::Ready | State::NotReady { .. }),
                "{} stuck in {:?}", a.name, a.state
            );
        }
    }
}
