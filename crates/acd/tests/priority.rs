//! Order of service, places and estimated waits, overflow, queue limits, callbacks, announcements,
//! misses and forgotten offers.

mod common;

use common::*;
use kefu_acd::router::{DEFAULT_AHT_SECS, OFFER_GRACE_SECS};
use kefu_acd::{
    Acd, Change, Effect, EnqueueError, Joined, Overflow, OverflowCause, State, Strategy, WaiterKind,
};

fn overflows(effects: &[Effect]) -> Vec<(kefu_acd::CallId, Overflow, OverflowCause)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Overflow {
                call,
                action,
                cause,
                ..
            } => Some((*call, action.clone(), *cause)),
            _ => None,
        })
        .collect()
}

fn announcements(effects: &[Effect]) -> Vec<(kefu_acd::CallId, usize, u32)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Announce {
                call,
                position,
                ewt_secs,
                ..
            } => Some((*call, *position, *ewt_secs)),
            _ => None,
        })
        .collect()
}

/// Queues `billing` and `gas`; agent 1 serves both, agent 2 billing only, agent 3 gas only; all
/// logged in, not ready.
fn two_queues() -> Acd {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("billing", Strategy::LongestIdle));
    acd.upsert_queue(queue("gas", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("billing", 1), ("gas", 1)]));
    acd.insert_agent(agent(2, &[("billing", 1)]));
    acd.insert_agent(agent(3, &[("gas", 1)]));
    for n in 1..=3 {
        acd.login(aid(n), None, None, false, t(0)).unwrap();
    }
    acd
}

#[test]
fn a_gas_leak_entering_later_is_offered_before_earlier_callers_of_the_same_queue() {
    let mut acd = two_queues();
    let (j1, _) = acd.enqueue(cid(1), "billing", 0, t(0)).unwrap();
    let (j2, _) = acd.enqueue(cid(2), "billing", 0, t(1)).unwrap();
    let (j3, _) = acd.enqueue(cid(3), "billing", 9, t(2)).unwrap();
    assert_eq!((j1.position, j2.position, j3.position), (1, 2, 1));
    assert_eq!(acd.position(cid(1)), Some(2));
    assert_eq!(acd.position(cid(2)), Some(3));
    let fx = acd.change(aid(2), Change::Ready, t(10)).unwrap();
    assert_eq!(offers(&fx), vec![(cid(3), vec![aid(2)])]);
    let fx = acd.change(aid(1), Change::Ready, t(11)).unwrap();
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(1)])]);
}

#[test]
fn a_gas_leak_in_another_queue_beats_a_billing_call_that_waited_longer() {
    let mut acd = two_queues();
    acd.enqueue(cid(1), "billing", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "billing", 0, t(1)).unwrap();
    acd.enqueue(cid(3), "gas", 9, t(5)).unwrap();
    // Agent 1 serves both queues: the gas leak first.
    let fx = acd.change(aid(1), Change::Ready, t(10)).unwrap();
    assert_eq!(offers(&fx), vec![(cid(3), vec![aid(1)])]);
    // Agent 2 serves billing only: the longest waiting billing call.
    let fx = acd.change(aid(2), Change::Ready, t(11)).unwrap();
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(2)])]);
}

#[test]
fn equal_priority_across_queues_goes_to_the_earliest_arrival() {
    let mut acd = two_queues();
    acd.enqueue(cid(1), "gas", 3, t(4)).unwrap();
    acd.enqueue(cid(2), "billing", 3, t(2)).unwrap();
    acd.enqueue(cid(3), "billing", 3, t(3)).unwrap();
    acd.enqueue(cid(4), "billing", 2, t(0)).unwrap();
    let mut got = Vec::new();
    let mut fx = acd.change(aid(1), Change::Ready, t(10)).unwrap();
    for at in 11.. {
        if offers(&fx).is_empty() {
            break;
        }
        let (call, _) = offer(&fx);
        got.push(call);
        acd.answered(call, aid(1), t(at)).unwrap();
        acd.ended(aid(1), call, 1, t(at)).unwrap();
        fx = acd.change(aid(1), Change::EndWrapUp, t(at)).unwrap();
    }
    assert_eq!(got, [2, 3, 1, 4].map(cid));
}

#[test]
fn equal_priority_and_arrival_time_keep_the_order_of_joining() {
    let mut acd = two_queues();
    for c in [5, 3, 4] {
        acd.enqueue(cid(c), "billing", 0, t(0)).unwrap();
    }
    assert_eq!(acd.position(cid(5)), Some(1));
    assert_eq!(acd.position(cid(3)), Some(2));
    assert_eq!(acd.position(cid(4)), Some(3));
    let fx = acd.change(aid(1), Change::Ready, t(1)).unwrap();
    assert_eq!(offer(&fx).0, cid(5));
}

#[test]
fn position_and_estimated_wait() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    // Nobody staffs the queue: one agent assumed, the default handle time.
    let joined: Vec<Joined> = (1..=3)
        .map(|c| acd.enqueue(cid(c), "q", 0, t(c as i64)).unwrap().0)
        .collect();
    let expect = |position, ewt_secs| Joined { position, ewt_secs };
    assert_eq!(DEFAULT_AHT_SECS, 180.0);
    assert_eq!(joined, vec![expect(1, 0), expect(2, 180), expect(3, 360)]);
    let (j, _) = acd.enqueue(cid(4), "q", 5, t(9)).unwrap();
    assert_eq!(j, expect(1, 0));
    assert_eq!(acd.position(cid(3)), Some(4));
    assert_eq!(acd.ewt_secs("q", 4), 540);
    assert_eq!(acd.position(cid(99)), None);
    assert_eq!(acd.ewt_secs("nope", 4), 0);
}

#[test]
fn estimated_wait_shares_the_moving_handle_time_among_agents_staffing_the_queue() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle)); // wrap-up 10 s
    for n in 1..=3 {
        acd.insert_agent(agent(n, &[("q", 1)]));
    }
    login_ready(&mut acd, 1, t(0));
    login_ready(&mut acd, 2, t(1));
    acd.login(aid(3), None, None, false, t(0)).unwrap(); // not ready: not staffing
    acd.enqueue(cid(1), "q", 0, t(10)).unwrap(); // → 1
    acd.answered(cid(1), aid(1), t(11)).unwrap();
    acd.ended(aid(1), cid(1), 100, t(111)).unwrap(); // 100 s talk + 10 s wrap-up
    // 0.8 × 180 + 0.2 × 110 = 166.
    acd.enqueue(cid(2), "q", 0, t(112)).unwrap(); // → 2, ringing, still in the queue
    assert_eq!(state_name(&acd, aid(2)), "reserved");
    let (j3, _) = acd.enqueue(cid(3), "q", 0, t(113)).unwrap();
    let (j4, _) = acd.enqueue(cid(4), "q", 0, t(114)).unwrap();
    // Agents 1 (wrap-up) and 2 (reserved) staff the queue.
    assert_eq!(
        j3,
        Joined {
            position: 2,
            ewt_secs: 83
        }
    );
    assert_eq!(
        j4,
        Joined {
            position: 3,
            ewt_secs: 166
        }
    );
}

fn overflow_queue(action: Overflow) -> Acd {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.max_wait_secs = 60;
    q.overflow = action;
    q.announce_secs = 0;
    acd.upsert_queue(q);
    acd.upsert_queue(queue("other", Strategy::LongestIdle));
    acd
}

#[test]
fn max_wait_overflows_with_the_queues_action() {
    for action in [
        Overflow::Queue {
            queue: "other".into(),
        },
        Overflow::Voicemail,
        Overflow::Hangup,
    ] {
        let mut acd = overflow_queue(action.clone());
        acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
        acd.enqueue(cid(2), "q", 0, t(10)).unwrap();
        assert!(overflows(&acd.tick(t(59))).is_empty());
        let fx = acd.tick(t(60));
        assert_eq!(
            overflows(&fx),
            vec![(cid(1), action.clone(), OverflowCause::Timeout)]
        );
        assert!(
            acd.waiter(cid(1)).is_none(),
            "{action:?}: it left the queue"
        );
        assert_eq!(acd.position(cid(2)), Some(1));
        assert!(overflows(&acd.tick(t(69))).is_empty());
        assert_eq!(
            overflows(&acd.tick(t(70))),
            vec![(cid(2), action.clone(), OverflowCause::Timeout)]
        );
        assert_eq!(acd.waiters().count(), 0);
    }
}

#[test]
fn max_wait_with_callback_keeps_the_place_while_the_caller_decides() {
    let mut acd = overflow_queue(Overflow::Callback);
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(10)).unwrap();
    let fx = acd.tick(t(60));
    assert_eq!(
        overflows(&fx),
        vec![(cid(1), Overflow::Callback, OverflowCause::Timeout)]
    );
    assert!(acd.waiter(cid(1)).unwrap().callback_offered);
    assert_eq!(acd.position(cid(1)), Some(1));
    // Asked once only.
    assert!(overflows(&acd.tick(t(65))).is_empty());
    // Accepted: a callback at the same place.
    assert!(acd.to_callback(cid(1), "13800000001", t(66)).is_some());
    assert_eq!(acd.position(cid(1)), Some(1));
    assert_eq!(
        overflows(&acd.tick(t(70))),
        vec![(cid(2), Overflow::Callback, OverflowCause::Timeout)]
    );
    // Refused and gone.
    acd.leave(cid(2), t(75));
    assert_eq!(acd.waiters().count(), 1);
}

#[test]
fn max_wait_does_not_overflow_a_caller_ringing_an_agent() {
    let mut acd = overflow_queue(Overflow::Voicemail);
    let mut a = agent(1, &[("q", 1)]);
    a.max_missed = 1;
    acd.insert_agent(a);
    acd.login(aid(1), None, None, false, t(0)).unwrap();
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.change(aid(1), Change::Ready, t(50)).unwrap(); // rings until 65
    assert!(overflows(&acd.tick(t(60))).is_empty());
    assert!(overflows(&acd.tick(t(64))).is_empty());
    // The agent did not answer (and is set not ready): now the caller overflows.
    let fx = acd.missed(cid(1), aid(1), t(65));
    assert!(offers(&fx).is_empty());
    assert_eq!(acd.agent(aid(1)).unwrap().state.name(), "not_ready");
    assert_eq!(
        overflows(&acd.tick(t(66))),
        vec![(cid(1), Overflow::Voicemail, OverflowCause::Timeout)]
    );
}

#[test]
fn a_forgotten_offer_expires_at_until_plus_grace_and_the_caller_then_overflows() {
    let mut acd = overflow_queue(Overflow::Hangup);
    let mut a = agent(1, &[("q", 1)]);
    a.max_missed = 1;
    acd.insert_agent(a);
    acd.login(aid(1), None, None, false, t(0)).unwrap();
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.change(aid(1), Change::Ready, t(50)).unwrap(); // until 65
    assert_eq!(OFFER_GRACE_SECS, 5);
    let fx = acd.tick(t(69));
    assert!(fx.is_empty(), "{fx:?}");
    let fx = acd.tick(t(70));
    assert_eq!(cancels(&fx), vec![(cid(1), aid(1))]);
    assert_eq!(published(&fx, aid(1)), ["not_ready"]);
    assert_eq!(
        overflows(&fx),
        vec![(cid(1), Overflow::Hangup, OverflowCause::Timeout)]
    );
}

#[test]
fn max_len_refuses_with_the_overflow() {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.max_len = 2;
    q.overflow = Overflow::Queue {
        queue: "other".into(),
    };
    acd.upsert_queue(q);
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(1)).unwrap();
    assert_eq!(
        acd.enqueue(cid(3), "q", 9, t(2)).unwrap_err(),
        EnqueueError::Full(Overflow::Queue {
            queue: "other".into()
        })
    );
    assert!(acd.waiter(cid(3)).is_none());
    assert_eq!(
        acd.enqueue(cid(1), "q", 0, t(2)).unwrap_err(),
        EnqueueError::AlreadyWaiting
    );
    assert_eq!(
        acd.enqueue(cid(4), "nope", 0, t(2)).unwrap_err(),
        EnqueueError::UnknownQueue("nope".into())
    );
    acd.leave(cid(1), t(3));
    assert!(acd.enqueue(cid(3), "q", 0, t(4)).is_ok());
}

#[test]
fn a_callback_keeps_its_place_and_is_offered_with_the_number() {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.max_wait_secs = 60;
    acd.upsert_queue(q);
    for n in 1..=2 {
        acd.insert_agent(agent(n, &[("q", 1)]));
        acd.login(aid(n), None, None, false, t(0)).unwrap();
    }
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(5)).unwrap();
    acd.enqueue(cid(3), "q", 0, t(10)).unwrap();
    assert!(acd.to_callback(cid(2), "13800000002", t(11)).is_some());
    assert!(
        acd.to_callback(cid(2), "13800000002", t(11)).is_none(),
        "already a callback"
    );
    assert!(
        acd.to_callback(cid(9), "13800000002", t(11)).is_none(),
        "unknown call"
    );
    assert_eq!(
        acd.waiter(cid(2)).unwrap().kind,
        WaiterKind::Callback {
            number: "13800000002".into()
        }
    );
    assert_eq!(acd.position(cid(2)), Some(2));
    assert_eq!(acd.position(cid(3)), Some(3));
    // No announcement and no overflow for the callback.
    let announced: Vec<_> = (1..=45)
        .flat_map(|s| announcements(&acd.tick(t(s))))
        .map(|a| a.0)
        .collect();
    assert_eq!(announced, [cid(1), cid(3)]);
    let fx = acd.tick(t(200));
    assert_eq!(
        overflows(&fx).iter().map(|o| o.0).collect::<Vec<_>>(),
        [cid(1), cid(3)]
    );
    assert!(acd.waiter(cid(2)).is_some());
    let snap = acd.snapshot(t(200));
    assert_eq!((snap[0].waiting, snap[0].callbacks), (0, 1));
    let fx = acd.change(aid(1), Change::Ready, t(201)).unwrap();
    let offer = fx
        .iter()
        .find(|e| matches!(e, Effect::Offer { .. }))
        .unwrap();
    assert_eq!(
        offer,
        &Effect::Offer {
            call: cid(2),
            queue: "q".into(),
            agents: vec![aid(1)],
            until: t(216),
            callback: Some("13800000002".into()),
        }
    );
}

#[test]
fn announcements_come_every_announce_secs_with_position_and_wait() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle)); // every 30 s
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(3)).unwrap();
    let mut got = Vec::new();
    for s in 1..=95 {
        for a in announcements(&acd.tick(t(s))) {
            got.push((s, a));
        }
    }
    assert_eq!(
        got,
        vec![
            (30, (cid(1), 1, 0)),
            (33, (cid(2), 2, 180)),
            (60, (cid(1), 1, 0)),
            (63, (cid(2), 2, 180)),
            (90, (cid(1), 1, 0)),
            (93, (cid(2), 2, 180)),
        ]
    );
}

#[test]
fn no_announcement_while_the_caller_rings_an_agent() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    let mut a = agent(1, &[("q", 1)]);
    a.max_missed = 1;
    acd.insert_agent(a);
    acd.login(aid(1), None, None, false, t(0)).unwrap();
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.change(aid(1), Change::Ready, t(25)).unwrap(); // rings until 40
    for s in 26..=39 {
        assert!(announcements(&acd.tick(t(s))).is_empty());
    }
    acd.missed(cid(1), aid(1), t(40));
    assert_eq!(announcements(&acd.tick(t(41))), vec![(cid(1), 1, 0)]);
}

#[test]
fn announcements_stop_when_the_queue_turns_them_off() {
    // Regression: a waiter's next announcement was kept after the queue's announce_secs became 0
    // ("never"), and then it was told its place every second (`every.max(1)`).
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    let mut q = acd.queue("q").unwrap().clone();
    q.announce_secs = 0;
    acd.upsert_queue(q);
    for s in 1..=40 {
        assert!(announcements(&acd.tick(t(s))).is_empty(), "at {s}");
    }
}

#[test]
fn a_queue_that_starts_announcing_tells_callers_already_waiting() {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.announce_secs = 0;
    acd.upsert_queue(q.clone());
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    acd.enqueue(cid(2), "q", 0, t(1)).unwrap();
    acd.enqueue(cid(3), "q", 0, t(2)).unwrap();
    assert!(acd.to_callback(cid(3), "13800000003", t(3)).is_some());
    assert!(announcements(&acd.tick(t(10))).is_empty());
    q.announce_secs = 30;
    acd.upsert_queue(q);
    // At the next tick, in queue order; not the callback (nobody on its line).
    let told: Vec<_> = announcements(&acd.tick(t(11)))
        .into_iter()
        .map(|(c, p, _)| (c, p))
        .collect();
    assert_eq!(told, vec![(cid(1), 1), (cid(2), 2)]);
    assert!(announcements(&acd.tick(t(40))).is_empty());
    assert_eq!(announcements(&acd.tick(t(41))).len(), 2, "every 30 s after");
}

#[test]
fn a_missed_agent_is_skipped_for_that_call_while_others_are_ready() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::SkillsBased));
    for (n, level) in [(1, 9), (2, 5), (3, 3)] {
        let mut a = agent(n, &[("q", level)]);
        a.max_missed = 0;
        acd.insert_agent(a);
        login_ready(&mut acd, n, t(0));
    }
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
    let fx = acd.missed(cid(1), aid(1), t(16));
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(2)])]);
    assert_eq!(state_name(&acd, aid(1)), "ready");
    // Another caller is not affected by 1's miss.
    let (_, fx) = acd.enqueue(cid(2), "q", 0, t(17)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
    let fx = acd.missed(cid(1), aid(2), t(31));
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(3)])]);
    // Everybody ready missed it: tried again, by the strategy.
    let fx = acd.missed(cid(1), aid(3), t(46));
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(2)])]);
    assert_eq!(acd.waiter(cid(1)).unwrap().declined.len(), 3);
}

#[test]
fn a_forgotten_offer_is_a_miss_after_until_plus_grace() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("q", 1)]));
    login_ready(&mut acd, 1, t(0));
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap(); // until 15
    for s in 1..20 {
        let fx = acd.tick(t(s));
        assert!(cancels(&fx).is_empty(), "at {s}");
    }
    assert_eq!(state_name(&acd, aid(1)), "reserved");
    let fx = acd.tick(t(20));
    assert_eq!(cancels(&fx), vec![(cid(1), aid(1))]);
    assert_eq!(published(&fx, aid(1)), ["ready", "reserved"]);
    assert_eq!(
        offers(&fx),
        vec![(cid(1), vec![aid(1)])],
        "nobody else: again"
    );
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 1);
    assert_eq!(
        state(&acd, aid(1)),
        State::Reserved {
            call: cid(1),
            queue: "q".into(),
            until: t(35)
        }
    );
    // The second forgotten offer: max_missed 2 → not ready.
    let fx = acd.tick(t(40));
    assert_eq!(published(&fx, aid(1)), ["not_ready"]);
    assert!(offers(&fx).is_empty());
}

#[test]
fn a_caller_who_leaves_while_ringing_frees_the_agent_without_a_miss() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("q", 1)]));
    login_ready(&mut acd, 1, t(0));
    acd.enqueue(cid(1), "q", 0, t(0)).unwrap();
    let fx = acd.leave(cid(1), t(3));
    assert_eq!(cancels(&fx), vec![(cid(1), aid(1))]);
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(acd.agent(aid(1)).unwrap().missed_in_row, 0);
    assert!(acd.leave(cid(1), t(4)).is_empty());
}

#[test]
fn a_callback_chosen_while_an_agent_rings_stops_that_ring_and_is_offered_again_as_a_callback() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::LongestIdle));
    acd.insert_agent(agent(1, &[("q", 1)]));
    login_ready(&mut acd, 1, t(0));
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    assert_eq!(offer(&fx), (cid(1), vec![aid(1)]));
    let fx = acd.to_callback(cid(1), "13800000001", t(3)).unwrap();
    assert_eq!(cancels(&fx), vec![(cid(1), aid(1))]);
    // Freed and offered the same place again, now to dial the number after the agent answers.
    let again: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Offer {
                call,
                agents,
                callback,
                ..
            } => Some((*call, agents.clone(), callback.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        again,
        vec![(cid(1), vec![aid(1)], Some("13800000001".to_string()))]
    );
    assert_eq!(state_name(&acd, aid(1)), "reserved");
}

#[test]
fn a_restored_callback_keeps_its_place_before_callers_who_joined_after_it() {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::LongestIdle);
    q.max_wait_secs = 60;
    q.overflow = Overflow::Callback;
    acd.upsert_queue(q);
    acd.insert_agent(agent(1, &[("q", 1)]));
    acd.login(aid(1), None, None, false, t(0)).unwrap();
    // The runtime restarted at t(100); the callback had joined at t(10), a new caller joins at t(101).
    assert!(
        acd.restore_callback(cid(1), "q", 0, "13800000001", t(10), t(100))
            .unwrap()
            .is_empty()
    );
    acd.enqueue(cid(2), "q", 0, t(101)).unwrap();
    assert_eq!(acd.position(cid(1)), Some(1));
    assert_eq!(acd.position(cid(2)), Some(2));
    assert_eq!(
        acd.waiter(cid(1)).unwrap().kind,
        WaiterKind::Callback {
            number: "13800000001".into()
        }
    );
    // No overflow or callback question for it, however long it waited (the later caller is asked).
    assert_eq!(
        overflows(&acd.tick(t(10_000))),
        vec![(cid(2), Overflow::Callback, OverflowCause::Timeout)]
    );
    assert!(acd.waiter(cid(1)).is_some());
    let fx = acd.change(aid(1), Change::Ready, t(10_001)).unwrap();
    assert_eq!(offer(&fx).0, cid(1));
    assert_eq!(
        acd.restore_callback(cid(1), "q", 0, "13800000001", t(10), t(10_002)),
        Err(EnqueueError::AlreadyWaiting)
    );
    assert_eq!(
        acd.restore_callback(cid(3), "nope", 0, "13800000001", t(10), t(10_002)),
        Err(EnqueueError::UnknownQueue("nope".into()))
    );
}
