//! The agent state table of docs/acd.md: every allowed and refused change, pending not-ready,
//! misses, wrap-up, force, restart and reconciliation.

mod common;

use std::collections::BTreeSet;

use common::*;
use kefu_acd::agent::choosable_reason;
use kefu_acd::{Acd, Agent, Change, REASONS, Refused, State, Strategy};

fn c() -> kefu_acd::CallId {
    cid(1)
}
fn d() -> kefu_acd::CallId {
    cid(2)
}

/// An agent in the state `name`, logged in to queue `q` (call `c()`, until t(100)).
fn in_state(name: &str) -> Agent {
    let mut a = agent(1, &[("q", 1)]);
    a.queues = BTreeSet::from(["q".to_string()]);
    a.state = match name {
        "logged_out" => {
            a.queues.clear();
            State::LoggedOut
        }
        "ready" => State::Ready,
        "not_ready" => State::NotReady {
            reason: "meal".into(),
        },
        "reserved" => State::Reserved {
            call: c(),
            queue: "q".into(),
            until: t(100),
        },
        "on_call" => State::OnCall {
            call: c(),
            queue: Some("q".into()),
        },
        "wrap_up" => State::WrapUp {
            call: c(),
            queue: Some("q".into()),
            until: t(100),
        },
        _ => unreachable!(),
    };
    a
}

fn change(label: &str) -> Change {
    match label {
        "login" => Change::Login {
            queues: BTreeSet::from(["q".to_string()]),
            phone: Some("8001".into()),
            ready: false,
        },
        "logout" => Change::Logout,
        "ready" => Change::Ready,
        "not_ready(break)" => Change::NotReady("break".into()),
        "not_ready(forced)" => Change::NotReady("forced".into()),
        "not_ready(bogus)" => Change::NotReady("bogus".into()),
        "offer(q)" => Change::Offer {
            call: d(),
            queue: "q".into(),
            until: t(65),
        },
        "offer(other)" => Change::Offer {
            call: d(),
            queue: "other".into(),
            until: t(65),
        },
        "answered(c)" => Change::Answered(c()),
        "answered(d)" => Change::Answered(d()),
        "missed(c)" => Change::Missed(c()),
        "missed(d)" => Change::Missed(d()),
        "withdrawn(c)" => Change::Withdrawn(c()),
        "direct(d)" => Change::Direct(d()),
        "ended(c)" => Change::Ended {
            call: c(),
            talk_secs: 30,
            wrap_up_secs: 10,
        },
        "ended(d)" => Change::Ended {
            call: d(),
            talk_secs: 30,
            wrap_up_secs: 10,
        },
        "end_wrap_up" => Change::EndWrapUp,
        "gone(c)" => Change::Gone(c()),
        "gone(d)" => Change::Gone(d()),
        "force(ready)" => Change::Force(State::Ready),
        "force(not_ready)" => Change::Force(State::NotReady {
            reason: "break".into(),
        }),
        "force(logged_out)" => Change::Force(State::LoggedOut),
        "force(reserved)" => Change::Force(State::Reserved {
            call: d(),
            queue: "q".into(),
            until: t(65),
        }),
        "tick" => Change::Tick,
        "restarted" => Change::Restarted,
        _ => unreachable!("{label}"),
    }
}

const STATES: [&str; 6] = [
    "logged_out",
    "ready",
    "not_ready",
    "reserved",
    "on_call",
    "wrap_up",
];

/// `=`: allowed, no state change; `->x`: the new state; `!code`: refused.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 6])] = &[
    //                      logged_out      ready              not_ready          reserved       on_call        wrap_up
    ("login",             ["->not_ready",  "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed"]),
    ("logout",            ["=",            "->logged_out",   "->logged_out",   "!state_not_allowed", "!state_not_allowed", "!state_not_allowed"]),
    ("ready",             ["!state_not_allowed", "=",        "->ready",        "=",           "=",           "->ready"]),
    ("not_ready(break)",  ["!state_not_allowed", "->not_ready", "->not_ready", "=",           "=",           "="]),
    ("not_ready(forced)", ["!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason"]),
    ("not_ready(bogus)",  ["!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason", "!unknown_reason"]),
    ("offer(q)",          ["!state_not_allowed", "->reserved", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed"]),
    ("offer(other)",      ["!state_not_allowed", "!not_in_queue", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed"]),
    ("answered(c)",       ["!wrong_call",  "!wrong_call",     "!wrong_call",     "->on_call",   "!wrong_call", "!wrong_call"]),
    ("answered(d)",       ["!wrong_call",  "!wrong_call",     "!wrong_call",     "!wrong_call", "!wrong_call", "!wrong_call"]),
    ("missed(c)",         ["!wrong_call",  "!wrong_call",     "!wrong_call",     "->ready",     "!wrong_call", "!wrong_call"]),
    ("missed(d)",         ["!wrong_call",  "!wrong_call",     "!wrong_call",     "!wrong_call", "!wrong_call", "!wrong_call"]),
    ("withdrawn(c)",      ["!wrong_call",  "!wrong_call",     "!wrong_call",     "->ready",     "!wrong_call", "!wrong_call"]),
    ("direct(d)",         ["=",            "->on_call",       "->on_call",       "!state_not_allowed", "!state_not_allowed", "->on_call"]),
    ("ended(c)",          ["!wrong_call",  "!wrong_call",     "!wrong_call",     "!wrong_call", "->wrap_up",   "!wrong_call"]),
    ("ended(d)",          ["!wrong_call",  "!wrong_call",     "!wrong_call",     "!wrong_call", "!wrong_call", "!wrong_call"]),
    ("end_wrap_up",       ["!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "->ready"]),
    ("gone(c)",           ["=",            "=",               "=",               "->ready",     "->ready",     "="]),
    ("gone(d)",           ["=",            "=",               "=",               "=",           "=",           "="]),
    ("force(ready)",      ["!state_not_allowed", "=",        "->ready",        "!state_not_allowed", "!state_not_allowed", "->ready"]),
    ("force(not_ready)",  ["!state_not_allowed", "->not_ready", "->not_ready", "!state_not_allowed", "!state_not_allowed", "->not_ready"]),
    ("force(logged_out)", ["=",            "->logged_out",   "->logged_out",   "!state_not_allowed", "!state_not_allowed", "->logged_out"]),
    ("force(reserved)",   ["!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed", "!state_not_allowed"]),
    ("tick",              ["=",            "=",               "=",               "=",           "=",           "="]),
    ("restarted",         ["=",            "=",               "=",               "->ready",     "->ready",     "="]),
];

#[test]
fn the_transition_table() {
    let now = t(50);
    let mut failures = Vec::new();
    for (label, row) in TABLE {
        for (from, expected) in STATES.iter().zip(row) {
            let mut a = in_state(from);
            let before = a.clone();
            let got = match a.apply(change(label), now) {
                Ok(false) => {
                    if a.state != before.state || a.since != before.since {
                        failures.push(format!("{from} + {label}: Ok(false) but the state changed"));
                    }
                    "=".to_string()
                }
                Ok(true) => {
                    if a.since != now {
                        failures.push(format!("{from} + {label}: since not set"));
                    }
                    format!("->{}", a.state.name())
                }
                Err(e) => {
                    if a != before {
                        failures.push(format!("{from} + {label}: refused but the agent changed"));
                    }
                    format!("!{}", e.code())
                }
            };
            if got != *expected {
                failures.push(format!("{from} + {label}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_covers_every_state_and_reason_codes_are_choosable_or_kefus() {
    assert_eq!(TABLE.len(), 25);
    for (code, zh, en) in REASONS {
        assert!(!zh.is_empty() && !en.is_empty());
        assert_eq!(
            choosable_reason(code),
            !matches!(*code, "missed" | "forced" | "login"),
            "{code}"
        );
    }
    for code in ["break", "meal", "training", "meeting", "other"] {
        assert!(choosable_reason(code), "{code} (docs/acd.md)");
    }
    assert!(!choosable_reason("nap"));
}

#[test]
fn login_sets_queues_phone_and_state() {
    let mut a = in_state("logged_out");
    a.apply(change("login"), t(5)).unwrap();
    assert_eq!(
        a.state,
        State::NotReady {
            reason: "login".into()
        }
    );
    assert_eq!(a.phone.as_deref(), Some("8001"));
    assert!(a.queues.contains("q"));
    let mut b = in_state("logged_out");
    b.apply(
        Change::Login {
            queues: BTreeSet::new(),
            phone: None,
            ready: true,
        },
        t(5),
    )
    .unwrap();
    assert_eq!((b.state.clone(), b.idle_since), (State::Ready, t(5)));
    b.apply(Change::Logout, t(6)).unwrap();
    assert!(b.queues.is_empty() && b.phone.is_none());
}

#[test]
fn acd_login_checks_the_queues() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.upsert_queue(queue("r", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("q", 1)]));
    assert_eq!(
        acd.login(aid(1), Some(vec!["r".into()]), None, true, t(0)),
        Err(Refused::NotInQueue("r".into()))
    );
    assert_eq!(state_name(&acd, aid(1)), "logged_out");
    assert_eq!(
        acd.login(aid(9), None, None, true, t(0)),
        Err(Refused::UnknownAgent)
    );
    let fx = acd.login(aid(1), None, None, true, t(0)).unwrap();
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(
        acd.agent(aid(1)).unwrap().queues,
        BTreeSet::from(["q".to_string()])
    );
    assert_eq!(
        acd.login(aid(1), None, None, true, t(1))
            .unwrap_err()
            .code(),
        "state_not_allowed"
    );
    // A profile change that takes the skill away takes the queue away.
    acd.update_profile(aid(1), "agent 1", None, Default::default(), None, 2)
        .unwrap();
    assert!(acd.agent(aid(1)).unwrap().queues.is_empty());
}

/// One queue `q` (10 s wrap-up, ring 15 s) and agent 1 (max_missed 2) logged in ready at t(0).
fn one_agent() -> Acd {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("q", 1)]));
    login_ready(&mut acd, 1, t(0));
    acd
}

#[test]
fn a_not_ready_asked_for_during_a_call_is_applied_when_wrap_up_ends() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    // Asked while ringing: kept.
    let fx = acd
        .change(aid(1), Change::NotReady("break".into()), t(2))
        .unwrap();
    assert!(fx.is_empty());
    assert_eq!(acd.agent(aid(1)).unwrap().pending.as_deref(), Some("break"));
    acd.answered(cid(1), aid(1), t(3)).unwrap();
    // Asked again while talking (another reason): the latest is kept.
    acd.change(aid(1), Change::NotReady("meal".into()), t(4))
        .unwrap();
    assert_eq!(state_name(&acd, aid(1)), "on_call");
    acd.ended(aid(1), cid(1), 60, t(63)).unwrap();
    assert_eq!(state_name(&acd, aid(1)), "wrap_up");
    // Asked during wrap-up: wrap-up is not cut short.
    acd.change(aid(1), Change::NotReady("training".into()), t(64))
        .unwrap();
    assert_eq!(state_name(&acd, aid(1)), "wrap_up");
    acd.tick(t(72));
    assert_eq!(state_name(&acd, aid(1)), "wrap_up");
    let fx = acd.tick(t(73));
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "training".into()
        }
    );
    assert_eq!(published(&fx, aid(1)), ["not_ready"]);
    assert_eq!(acd.agent(aid(1)).unwrap().pending, None);
}

#[test]
fn ending_wrap_up_early_applies_the_pending_not_ready_and_ready_drops_it() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.answered(cid(1), aid(1), t(2)).unwrap();
    acd.change(aid(1), Change::NotReady("break".into()), t(3))
        .unwrap();
    acd.ended(aid(1), cid(1), 10, t(12)).unwrap();
    acd.change(aid(1), Change::EndWrapUp, t(13)).unwrap();
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "break".into()
        }
    );

    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.answered(cid(1), aid(1), t(2)).unwrap();
    acd.change(aid(1), Change::NotReady("break".into()), t(3))
        .unwrap();
    acd.ended(aid(1), cid(1), 10, t(12)).unwrap();
    // "Ready" in wrap-up: ends it now and forgets the break.
    acd.change(aid(1), Change::Ready, t(14)).unwrap();
    assert_eq!(state(&acd, aid(1)), State::Ready);
    assert_eq!(acd.agent(aid(1)).unwrap().pending, None);
    assert_eq!(acd.agent(aid(1)).unwrap().idle_since, t(14));
    assert_eq!(
        acd.change(aid(1), Change::EndWrapUp, t(15))
            .unwrap_err()
            .code(),
        "state_not_allowed"
    );
}

#[test]
fn a_pending_not_ready_also_follows_a_missed_offer() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.change(aid(1), Change::NotReady("meeting".into()), t(2))
        .unwrap();
    acd.missed(cid(1), aid(1), t(16));
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "meeting".into()
        }
    );
}

#[test]
fn wrap_up_ends_exactly_at_until_not_before() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.answered(cid(1), aid(1), t(2)).unwrap();
    let fx = acd.ended(aid(1), cid(1), 98, t(100)).unwrap();
    let wrap = State::WrapUp {
        call: cid(1),
        queue: Some("q".into()),
        until: t(110),
    };
    assert_eq!(state(&acd, aid(1)), wrap);
    assert_eq!(published(&fx, aid(1)), ["wrap_up"]);
    for now in [t(100), t(105), t(109), t_ms(109_999)] {
        assert!(acd.tick(now).is_empty());
        assert_eq!(state(&acd, aid(1)), wrap, "at {now}");
    }
    let fx = acd.tick(t(110));
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(acd.agent(aid(1)).unwrap().since, t(110));
    assert_eq!(acd.agent(aid(1)).unwrap().idle_since, t(110));
}

#[test]
fn the_agents_own_wrap_up_overrides_the_queues_and_zero_means_ready_at_once() {
    let mut acd = one_agent();
    let mut a = acd.agent(aid(1)).unwrap().clone();
    a.wrap_up_secs = Some(25);
    acd.insert_agent(a);
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.answered(cid(1), aid(1), t(2)).unwrap();
    acd.ended(aid(1), cid(1), 8, t(10)).unwrap();
    assert!(matches!(state(&acd, aid(1)), State::WrapUp { until, .. } if until == t(35)));
    acd.tick(t(34));
    assert_eq!(state_name(&acd, aid(1)), "wrap_up");
    acd.tick(t(35));
    assert_eq!(state_name(&acd, aid(1)), "ready");

    let mut a = acd.agent(aid(1)).unwrap().clone();
    a.wrap_up_secs = Some(0);
    acd.insert_agent(a);
    acd.enqueue(cid(2), "q", 0, t(40)).unwrap();
    acd.answered(cid(2), aid(1), t(41)).unwrap();
    let fx = acd.ended(aid(1), cid(2), 8, t(50)).unwrap();
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(acd.agent(aid(1)).unwrap().calls_handled, 2);
    assert_eq!(acd.agent(aid(1)).unwrap().talk_secs, 16);
}

#[test]
fn auto_not_ready_after_max_missed_misses_in_a_row() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(100)).unwrap();
    acd.missed(cid(1), aid(1), t(115));
    assert_eq!(
        state_name(&acd, aid(1)),
        "reserved",
        "offered again after one miss"
    );
    acd.missed(cid(1), aid(1), t(130));
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "missed".into()
        }
    );
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 2);
    // Ready again: the count starts over; one miss is not enough.
    let fx = acd.change(aid(1), Change::Ready, t(300)).unwrap();
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(1)])]);
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
    acd.missed(cid(1), aid(1), t(315));
    assert_eq!(state_name(&acd, aid(1)), "reserved", "offered again");
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 1);
    // An answer resets the count too.
    acd.answered(cid(1), aid(1), t(320)).unwrap();
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
}

#[test]
fn misses_not_in_a_row_and_max_missed_zero_never_set_not_ready() {
    let mut a = in_state("reserved");
    a.max_missed = 0;
    for i in 0..10 {
        a.apply(Change::Missed(c()), t(i)).unwrap();
        assert_eq!(a.state, State::Ready);
        a.apply(change("offer(q)"), t(i)).unwrap();
        a.state = in_state("reserved").state;
    }
    let mut a = in_state("reserved");
    a.max_missed = 1;
    a.apply(Change::Missed(c()), t(1)).unwrap();
    assert_eq!(
        a.state,
        State::NotReady {
            reason: "missed".into()
        }
    );
    // The pending break is dropped in favour of `missed`.
    let mut a = in_state("reserved");
    a.max_missed = 1;
    a.pending = Some("break".into());
    a.apply(Change::Missed(c()), t(1)).unwrap();
    assert_eq!(a.state.name(), "not_ready");
    assert_eq!(a.pending, None);
    // A withdrawn offer is no miss.
    let mut a = in_state("reserved");
    a.max_missed = 1;
    a.apply(Change::Withdrawn(c()), t(1)).unwrap();
    assert_eq!((a.state, a.missed_in_row), (State::Ready, 0));
}

#[test]
fn supervisor_force_is_refused_while_the_agent_holds_a_call() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    for target in [
        State::Ready,
        State::NotReady { reason: "x".into() },
        State::LoggedOut,
    ] {
        let err = acd
            .change(aid(1), Change::Force(target.clone()), t(2))
            .unwrap_err();
        assert_eq!(err.code(), "state_not_allowed", "reserved, {target:?}");
    }
    acd.answered(cid(1), aid(1), t(3)).unwrap();
    let err = acd
        .change(aid(1), Change::Force(State::LoggedOut), t(4))
        .unwrap_err();
    assert_eq!(
        err,
        Refused::NotAllowed {
            state: "on_call",
            action: "force"
        }
    );
    assert_eq!(state_name(&acd, aid(1)), "on_call");
    // After the call (wrap-up) a force goes through: not ready (forced), then logged out.
    acd.ended(aid(1), cid(1), 5, t(8)).unwrap();
    acd.change(
        aid(1),
        Change::Force(State::NotReady {
            reason: "whatever".into(),
        }),
        t(9),
    )
    .unwrap();
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "forced".into()
        }
    );
    let fx = acd
        .change(aid(1), Change::Force(State::LoggedOut), t(10))
        .unwrap();
    assert_eq!(published(&fx, aid(1)), ["logged_out"]);
    assert!(acd.agent(aid(1)).unwrap().queues.is_empty());
    assert_eq!(
        acd.change(aid(9), Change::Force(State::Ready), t(10)),
        Err(Refused::UnknownAgent)
    );
}

#[test]
fn logout_is_refused_while_busy_or_in_wrap_up() {
    let mut acd = one_agent();
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    assert!(acd.change(aid(1), Change::Logout, t(2)).is_err());
    acd.answered(cid(1), aid(1), t(3)).unwrap();
    assert!(acd.change(aid(1), Change::Logout, t(4)).is_err());
    acd.ended(aid(1), cid(1), 5, t(8)).unwrap();
    assert!(acd.change(aid(1), Change::Logout, t(9)).is_err());
    acd.tick(t(18));
    let fx = acd.change(aid(1), Change::Logout, t(19)).unwrap();
    assert_eq!(published(&fx, aid(1)), ["logged_out"]);
}

#[test]
fn restart_ends_offers_and_calls_keeps_wrap_up_and_empties_the_queues() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    for n in 1..=5 {
        acd.insert_agent(agent(n, &[("q", 1)]));
        login_ready(&mut acd, n, t(n as i64));
    }
    acd.enqueue(cid(1), "q", 0, t(10)).unwrap(); // → 1
    acd.enqueue(cid(2), "q", 0, t(10)).unwrap(); // → 2
    acd.enqueue(cid(3), "q", 0, t(10)).unwrap(); // → 3
    acd.answered(cid(2), aid(2), t(11)).unwrap();
    acd.change(aid(2), Change::NotReady("meal".into()), t(12))
        .unwrap();
    acd.answered(cid(3), aid(3), t(11)).unwrap();
    acd.ended(aid(3), cid(3), 5, t(16)).unwrap(); // wrap-up until 26
    acd.change(aid(5), Change::NotReady("break".into()), t(17))
        .unwrap();
    acd.enqueue(cid(4), "q", 0, t(18)).unwrap(); // → 4
    acd.change(aid(4), Change::Logout, t(19)).unwrap_err();
    let fx = acd.restarted(t(20));
    assert_eq!(acd.waiters().count(), 0);
    assert_eq!(state(&acd, aid(1)), State::Ready);
    assert_eq!(
        state(&acd, aid(2)),
        State::NotReady {
            reason: "meal".into()
        }
    );
    assert_eq!(
        state(&acd, aid(3)),
        State::WrapUp {
            call: cid(3),
            queue: Some("q".into()),
            until: t(26)
        }
    );
    assert_eq!(state(&acd, aid(4)), State::Ready);
    assert_eq!(published(&fx, aid(3)), Vec::<&str>::new());
    assert_eq!(published(&fx, aid(5)), Vec::<&str>::new());
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
}

#[test]
fn reconcile_releases_agents_whose_call_the_engine_lost() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle)); // wrap-up 10 s
    for n in 1..=3 {
        acd.insert_agent(agent(n, &[("q", 1)]));
        login_ready(&mut acd, n, t(n as i64));
    }
    acd.enqueue(cid(1), "q", 0, t(10)).unwrap(); // → 1
    acd.enqueue(cid(2), "q", 0, t(10)).unwrap(); // → 2
    acd.enqueue(cid(3), "q", 0, t(10)).unwrap(); // → 3
    acd.answered(cid(1), aid(1), t(11)).unwrap();
    acd.answered(cid(3), aid(3), t(11)).unwrap();
    acd.enqueue(cid(4), "q", 0, t(12)).unwrap(); // waits
    let live = [cid(3)];
    let fx = acd.reconcile(|c| live.contains(&c), t(41));
    // 1 talked 30 s and its call is gone: wrap-up, as if it had ended.
    assert_eq!(
        state(&acd, aid(1)),
        State::WrapUp {
            call: cid(1),
            queue: Some("q".into()),
            until: t(51)
        }
    );
    assert_eq!(acd.agent(aid(1)).unwrap().calls_handled, 1);
    assert_eq!(acd.agent(aid(1)).unwrap().talk_secs, 30);
    // 2 rang for a caller the engine no longer has; the caller left: no miss.
    assert_eq!(state(&acd, aid(2)), State::Ready);
    assert_eq!(acd.agent(aid(2)).unwrap().missed_in_row, 0);
    assert!(acd.waiter(cid(2)).is_none());
    assert!(acd.waiter(cid(4)).is_none(), "a lost waiting caller leaves");
    assert_eq!(state_name(&acd, aid(3)), "on_call");
    assert!(offers(&fx).is_empty());
    acd.tick(t(51));
    assert_eq!(state_name(&acd, aid(1)), "ready");
}

#[test]
fn reconcile_does_not_count_a_caller_who_hung_up_while_ringing_as_a_miss() {
    // Regression: `Gone` of an offer counted as a miss, so two callers hanging up while an agent's
    // phone rang (the hang-up seen by reconciliation first) set the agent not ready (missed).
    let mut acd = one_agent();
    for i in 1..=3 {
        acd.enqueue(cid(i), "q", 0, t(i as i64 * 10)).unwrap();
        assert_eq!(state_name(&acd, aid(1)), "reserved");
        // Past the grace of a fresh offer: the engine should have the call by now.
        let fx = acd.reconcile(|_| false, t(i as i64 * 10 + 6));
        assert_eq!(published(&fx, aid(1)), ["ready"]);
        assert_eq!(state(&acd, aid(1)), State::Ready, "after caller {i}");
        assert!(acd.waiter(cid(i)).is_none());
    }
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
}

#[test]
fn reconcile_leaves_a_fresh_offer_alone_for_the_grace_period() {
    // A callback's offer: the engine has no call with its id until the agent's leg is placed.
    let mut acd = one_agent();
    acd.change(aid(1), Change::NotReady("break".into()), t(1))
        .unwrap();
    acd.enqueue(cid(1), "q", 0, t(2)).unwrap();
    assert!(acd.to_callback(cid(1), "13800000001", t(3)).is_some());
    acd.change(aid(1), Change::Ready, t(10)).unwrap();
    for s in 10..15 {
        assert!(acd.reconcile(|_| false, t(s)).is_empty(), "at {s}");
        assert_eq!(state_name(&acd, aid(1)), "reserved");
    }
    // Still no leg after the grace: released (no miss), and the callback, still waiting, rings
    // again.
    let fx = acd.reconcile(|_| false, t(15));
    assert_eq!(published(&fx, aid(1)), ["ready", "reserved"]);
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
    assert!(acd.waiter(cid(1)).unwrap().offered_to.contains(&aid(1)));
}

#[test]
fn a_lost_call_with_no_wrap_up_makes_the_agent_ready_at_once() {
    // Regression: `Gone` of a call with no wrap-up time left the agent in wrap-up until the next
    // tick (wrap_up with until = now), while `Ended` made it ready at once.
    let mut a = in_state("on_call");
    a.wrap_up_secs = Some(0);
    a.apply(Change::Gone(c()), t(50)).unwrap();
    assert_eq!(a.state, State::Ready);
    let mut a = in_state("on_call");
    a.pending = Some("break".into());
    a.apply(Change::Gone(c()), t(50)).unwrap();
    assert_eq!(a.state.name(), "not_ready");

    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.wrap_up_secs = 0;
    acd.upsert_queue(q);
    acd.insert_agent(agent(1, &[("q", 1)]));
    login_ready(&mut acd, 1, t(0));
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    acd.answered(cid(1), aid(1), t(2)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(3)).unwrap();
    let fx = acd.reconcile(|c| c == cid(2), t(4));
    assert_eq!(offers(&fx), vec![(cid(2), vec![aid(1)])], "ready at once");
}

#[test]
fn a_direct_call_keeps_the_not_ready_reason_for_afterwards() {
    let mut acd = one_agent();
    acd.change(aid(1), Change::NotReady("meal".into()), t(1))
        .unwrap();
    let fx = acd.change(aid(1), Change::Direct(cid(7)), t(2)).unwrap();
    assert_eq!(published(&fx, aid(1)), ["on_call"]);
    acd.enqueue(cid(1), "q", 0, t(3)).unwrap();
    // A direct call has no queue: no wrap-up; back to the meal break.
    let fx = acd.ended(aid(1), cid(7), 30, t(33)).unwrap();
    assert_eq!(published(&fx, aid(1)), ["not_ready"]);
    assert_eq!(
        state(&acd, aid(1)),
        State::NotReady {
            reason: "meal".into()
        }
    );
    assert!(offers(&fx).is_empty());
    assert_eq!(
        acd.ended(aid(1), cid(7), 30, t(34)).unwrap_err().code(),
        "wrong_call"
    );
}

#[test]
fn reconcile_offers_no_caller_it_removes() {
    // Regression: reconcile freed agents before it removed the callers the engine had lost, and
    // each removal routed, so a freed agent was offered a dead caller (an Offer, then at once a
    // CancelOffer: a phone rang for nobody).
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    for n in 1..=2 {
        acd.insert_agent(agent(n, &[("q", 1)]));
        login_ready(&mut acd, n, t(n as i64));
    }
    acd.enqueue(cid(1), "q", 0, t(10)).unwrap(); // → 1
    acd.enqueue(cid(2), "q", 0, t(10)).unwrap(); // → 2
    acd.answered(cid(2), aid(2), t(11)).unwrap();
    for c in 3..=12 {
        acd.enqueue(cid(c), "q", 0, t(12)).unwrap();
    }
    acd.enqueue(cid(20), "q", 0, t(13)).unwrap();
    // The engine has only caller 20: agent 1's caller, agent 2's call and callers 3-12 are gone.
    let fx = acd.reconcile(|c| c == cid(20), t(30));
    assert_eq!(offers(&fx), vec![(cid(20), vec![aid(1)])]);
    let mut cancelled = cancels(&fx);
    cancelled.sort();
    assert_eq!(cancelled, vec![(cid(1), aid(1))]);
    assert_eq!(acd.waiters().count(), 1);
    assert_eq!(state_name(&acd, aid(2)), "wrap_up");
}

#[test]
fn change_refuses_offer_outcomes_that_would_orphan_a_waiting_caller() {
    // Regression: `Acd::change` applied any change to the agent alone; `Missed`, `Answered`,
    // `Withdrawn`, `Gone`, `Restarted` (or an `Offer`) given to it left the caller's offered_to
    // naming an agent that no longer rang for it: the caller was never offered again and never
    // overflowed.
    let mut acd = one_agent();
    acd.insert_agent(agent(2, &[("q", 1)]));
    login_ready(&mut acd, 2, t(5));
    acd.enqueue(cid(1), "q", 0, t(10)).unwrap(); // → 1
    let before = acd.agent(aid(1)).cloned();
    for change in [
        Change::Missed(cid(1)),
        Change::Answered(cid(1)),
        Change::Withdrawn(cid(1)),
        Change::Gone(cid(1)),
        Change::Restarted,
        Change::Offer {
            call: cid(9),
            queue: "q".into(),
            until: t(30),
        },
    ] {
        let err = acd.change(aid(1), change.clone(), t(11)).unwrap_err();
        assert_eq!(err.code(), "state_not_allowed", "{change:?}");
    }
    assert_eq!(acd.agent(aid(1)).cloned(), before);
    assert_eq!(
        acd.change(aid(9), Change::Missed(cid(1)), t(11)),
        Err(Refused::UnknownAgent)
    );
    // Through its method the miss re-offers the caller.
    let fx = acd.missed(cid(1), aid(1), t(25));
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(2)])]);
}
