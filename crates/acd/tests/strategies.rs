//! Every routing strategy, deterministically, with a simulated clock: which agent(s) the Offer names.

mod common;

use common::*;
use kefu_acd::{Acd, Change, Effect, State, Strategy};

/// A queue `q` with `strategy`, no wrap-up (an ended call makes the agent ready at once), and
/// agents `ids` holding skill `q` at level 5.
fn setup(strategy: Strategy, ids: &[u128]) -> Acd {
    let mut acd = Acd::new();
    let mut q = queue("q", strategy);
    q.wrap_up_secs = 0;
    acd.upsert_queue(q);
    for &n in ids {
        acd.insert_agent(agent(n, &[("q", 5)]));
    }
    acd
}

#[test]
fn longest_idle_offers_the_agent_free_the_longest() {
    let mut acd = setup(Strategy::LongestIdle, &[1, 2, 3]);
    let mut clock = Clock::new();
    login_ready(&mut acd, 3, clock.set(0));
    login_ready(&mut acd, 1, clock.set(5));
    login_ready(&mut acd, 2, clock.set(10));

    let (_, fx) = acd.enqueue(cid(1), "q", 0, clock.set(20)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3));
    let (_, fx) = acd.enqueue(cid(2), "q", 0, clock.advance(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
    let (_, fx) = acd.enqueue(cid(3), "q", 0, clock.advance(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(2));

    // Agent 3 finishes first, then 2, then 1: now 3 is the longest idle.
    answer_and_end(&mut acd, 3, 30, clock.set(60));
    answer_and_end(&mut acd, 2, 30, clock.set(61));
    answer_and_end(&mut acd, 1, 30, clock.set(62));
    let (_, fx) = acd.enqueue(cid(4), "q", 0, clock.set(70)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3));
    let (_, fx) = acd.enqueue(cid(5), "q", 0, clock.advance(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(2));
}

#[test]
fn longest_idle_tie_goes_to_the_lowest_id() {
    let mut acd = setup(Strategy::LongestIdle, &[7, 4, 9]);
    for n in [9, 7, 4] {
        login_ready(&mut acd, n, t(0));
    }
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(4));
    let (_, fx) = acd.enqueue(cid(2), "q", 0, t(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(7));
}

#[test]
fn offer_names_the_queue_ring_time_and_no_callback() {
    let mut acd = setup(Strategy::LongestIdle, &[1]);
    login_ready(&mut acd, 1, t(0));
    let (joined, fx) = acd.enqueue(cid(1), "q", 0, t(100)).unwrap();
    assert_eq!(joined.position, 1);
    assert_eq!(joined.ewt_secs, 0);
    let offer = fx
        .iter()
        .find(|e| matches!(e, Effect::Offer { .. }))
        .unwrap();
    assert_eq!(
        offer,
        &Effect::Offer {
            call: cid(1),
            queue: "q".into(),
            agents: vec![aid(1)],
            until: t(115),
            callback: None,
        }
    );
    assert_eq!(
        state(&acd, aid(1)),
        State::Reserved {
            call: cid(1),
            queue: "q".into(),
            until: t(115)
        }
    );
    assert_eq!(published(&fx, aid(1)), ["reserved"]);
}

#[test]
fn round_robin_goes_round_and_wraps() {
    let mut acd = setup(Strategy::RoundRobin, &[1, 2, 3, 4]);
    for n in [4, 3, 2, 1] {
        login_ready(&mut acd, n, t(0));
    }
    let mut clock = Clock::new();
    clock.set(10);
    let mut got = Vec::new();
    for c in 1..=9 {
        let (_, fx) = acd.enqueue(cid(c), "q", 0, clock.advance(1)).unwrap();
        let a = offered_agent(&fx);
        got.push(a);
        // Everyone is ready again before the next call: the order is the strategy's alone.
        let n = a.as_u128();
        answer_and_end(&mut acd, n, 5, clock.advance(1));
    }
    let expected: Vec<_> = [1, 2, 3, 4, 1, 2, 3, 4, 1].into_iter().map(aid).collect();
    assert_eq!(got, expected);
}

#[test]
fn round_robin_skips_an_agent_who_is_not_ready() {
    let mut acd = setup(Strategy::RoundRobin, &[1, 2, 3]);
    for n in [1, 2, 3] {
        login_ready(&mut acd, n, t(0));
    }
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
    answer_and_end(&mut acd, 1, 5, t(2));
    acd.change(aid(2), Change::NotReady("break".into()), t(3))
        .unwrap();
    let (_, fx) = acd.enqueue(cid(2), "q", 0, t(4)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3));
    answer_and_end(&mut acd, 3, 5, t(5));
    // After 3 it wraps to 1 (2 is still on a break).
    let (_, fx) = acd.enqueue(cid(3), "q", 0, t(6)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
}

#[test]
fn round_robin_with_several_calls_in_one_pass_continues_the_round() {
    let mut acd = setup(Strategy::RoundRobin, &[1, 2, 3, 4]);
    for n in 1..=4 {
        login_ready(&mut acd, n, t(0));
    }
    let (_, fx) = acd.enqueue(cid(0), "q", 0, t(1)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
    answer_and_end(&mut acd, 1, 5, t(2));
    for n in 1..=4 {
        acd.change(aid(n), Change::NotReady("break".into()), t(3))
            .unwrap();
    }
    for c in 1..=3 {
        let (_, fx) = acd.enqueue(cid(c), "q", 0, t(3 + c as i64)).unwrap();
        assert!(offers(&fx).is_empty());
    }
    // Everybody ready again without routing in between; then one routing pass.
    for n in 1..=4 {
        let mut a = acd.agent(aid(n)).unwrap().clone();
        a.state = State::Ready;
        acd.insert_agent(a);
    }
    let fx = acd.route(t(10));
    assert_eq!(
        offers(&fx),
        vec![
            (cid(1), vec![aid(2)]),
            (cid(2), vec![aid(3)]),
            (cid(3), vec![aid(4)]),
        ]
    );
    for n in 2..=4 {
        answer_and_end(&mut acd, n, 5, t(11));
    }
    let (_, fx) = acd.enqueue(cid(4), "q", 0, t(12)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1), "after 4 the round wraps to 1");
}

#[test]
fn fewest_calls_counts_calls_handled_then_longest_idle() {
    let mut acd = setup(Strategy::FewestCalls, &[1, 2, 3, 4]);
    for (n, handled, idle) in [(1, 5, 0), (2, 2, 30), (3, 2, 20), (4, 7, 0)] {
        login_ready(&mut acd, n, t(idle));
        let mut a = acd.agent(aid(n)).unwrap().clone();
        a.calls_handled = handled;
        acd.insert_agent(a);
    }
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(100)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3), "2 calls, idle since 20");
    let (_, fx) = acd.enqueue(cid(2), "q", 0, t(100)).unwrap();
    assert_eq!(offered_agent(&fx), aid(2), "2 calls, idle since 30");
    let (_, fx) = acd.enqueue(cid(3), "q", 0, t(100)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1), "5 calls");
    // 3 and 2 handle their calls (3 calls each); 3 is free first.
    answer_and_end(&mut acd, 3, 10, t(110));
    answer_and_end(&mut acd, 2, 10, t(111));
    assert_eq!(acd.agent(aid(3)).unwrap().calls_handled, 3);
    let (_, fx) = acd.enqueue(cid(4), "q", 0, t(120)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3), "3 calls each, 3 idle longer");
}

#[test]
fn fewest_calls_and_least_talk_time_count_since_logging_in() {
    // Regression: the counters survived logout and login, so an agent who logged in for a new
    // shift was compared with yesterday's calls (a newcomer got every call).
    let mut acd = setup(Strategy::FewestCalls, &[1, 2]);
    login_ready(&mut acd, 1, t(0));
    let mut a = acd.agent(aid(1)).unwrap().clone();
    a.calls_handled = 40;
    a.talk_secs = 9_000;
    acd.insert_agent(a);
    acd.change(aid(1), Change::Logout, t(10)).unwrap();
    login_ready(&mut acd, 1, t(20));
    assert_eq!(acd.agent(aid(1)).unwrap().calls_handled, 0);
    assert_eq!(acd.agent(aid(1)).unwrap().talk_secs, 0);
    login_ready(&mut acd, 2, t(30));
    let mut b = acd.agent(aid(2)).unwrap().clone();
    b.calls_handled = 1;
    acd.insert_agent(b);
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(40)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
}

#[test]
fn least_talk_time_counts_talk_seconds() {
    let mut acd = setup(Strategy::LeastTalkTime, &[1, 2, 3]);
    for n in [1, 2, 3] {
        login_ready(&mut acd, n, t(0));
    }
    // Each takes one call: 1 talks 300 s, 2 talks 40 s, 3 talks 120 s.
    for (c, talk) in [(1, 300), (2, 40), (3, 120)] {
        acd.enqueue(cid(c), "q", 0, t(10)).unwrap();
        let _ = talk;
    }
    answer_and_end(&mut acd, 1, 300, t(400));
    answer_and_end(&mut acd, 2, 40, t(400));
    answer_and_end(&mut acd, 3, 120, t(400));
    assert_eq!(acd.agent(aid(2)).unwrap().talk_secs, 40);
    let (_, fx) = acd.enqueue(cid(4), "q", 0, t(500)).unwrap();
    assert_eq!(offered_agent(&fx), aid(2));
    let (_, fx) = acd.enqueue(cid(5), "q", 0, t(500)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3));
    let (_, fx) = acd.enqueue(cid(6), "q", 0, t(500)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
}

#[test]
fn least_talk_time_tie_goes_to_the_longest_idle() {
    let mut acd = setup(Strategy::LeastTalkTime, &[1, 2]);
    login_ready(&mut acd, 1, t(10));
    login_ready(&mut acd, 2, t(5));
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(20)).unwrap();
    assert_eq!(offered_agent(&fx), aid(2));
}

#[test]
fn skills_based_offers_the_highest_level_then_longest_idle() {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::SkillsBased);
    q.min_level = 3;
    q.members = vec!["8009".into()];
    acd.upsert_queue(q);
    acd.insert_agent(agent(1, &[("q", 3)]));
    acd.insert_agent(agent(2, &[("q", 7)]));
    acd.insert_agent(agent(3, &[("q", 7)]));
    acd.insert_agent(agent(4, &[("q", 10)]));
    acd.insert_agent(agent(5, &[("q", 2)])); // below the minimum level: not eligible
    let mut member = agent(6, &[]); // a listed member without the skill: level 0
    member.extension = Some("8009".into());
    acd.insert_agent(member);
    assert!(acd.eligible_queues(aid(5)).is_empty());
    assert!(acd.eligible_queues(aid(6)).contains("q"));
    assert!(
        acd.login(aid(5), Some(vec!["q".into()]), None, true, t(0))
            .is_err()
    );
    for (n, at) in [(1, 0), (2, 8), (3, 4), (4, 9), (6, 0)] {
        login_ready(&mut acd, n, t(at));
    }
    let picks: Vec<_> = (1..=5)
        .map(|c| offered_agent(&acd.enqueue(cid(c), "q", 0, t(20)).unwrap().1))
        .collect();
    assert_eq!(picks, [4, 3, 2, 1, 6].map(aid));
}

#[test]
fn ring_all_rings_every_eligible_ready_agent_and_the_first_answer_wins() {
    let mut acd = Acd::new();
    acd.upsert_queue(queue("q", Strategy::RingAll));
    acd.upsert_queue(queue("other", Strategy::LongestIdle));
    for n in [5, 1, 3] {
        acd.insert_agent(agent(n, &[("q", 1)]));
        login_ready(&mut acd, n, t(n as i64));
    }
    acd.insert_agent(agent(2, &[("q", 1)]));
    acd.login(aid(2), None, None, false, t(0)).unwrap(); // not ready
    acd.insert_agent(agent(4, &[("other", 1)]));
    login_ready(&mut acd, 4, t(0)); // ready, another queue
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(10)).unwrap();
    let (call, agents) = offer(&fx);
    assert_eq!(call, cid(1));
    assert_eq!(agents, [1, 3, 5].map(aid));
    for n in [1, 3, 5] {
        assert_eq!(state_name(&acd, aid(n)), "reserved");
    }
    let fx = acd.answered(cid(1), aid(3), t(12)).unwrap();
    let mut c = cancels(&fx);
    c.sort();
    assert_eq!(c, vec![(cid(1), aid(1)), (cid(1), aid(5))]);
    assert_eq!(published(&fx, aid(1)), ["ready"]);
    assert_eq!(published(&fx, aid(5)), ["ready"]);
    assert_eq!(state_name(&acd, aid(3)), "on_call");
    for n in [1, 5] {
        assert_eq!(
            acd.agent(aid(n)).unwrap().missed_in_row,
            0,
            "no miss for {n}"
        );
    }
    assert!(acd.waiter(cid(1)).is_none());
    // The second phone to pick up is too late.
    assert!(acd.answered(cid(1), aid(5), t(12)).is_err());
    assert_eq!(state_name(&acd, aid(5)), "ready");
}

#[test]
fn ring_all_rings_again_when_everybody_missed() {
    let mut acd = setup(Strategy::RingAll, &[1, 2]);
    for n in [1, 2] {
        let mut a = acd.agent(aid(n)).unwrap().clone();
        a.max_missed = 0;
        acd.insert_agent(a);
        login_ready(&mut acd, n, t(0));
    }
    acd.enqueue(cid(1), "q", 0, t(1)).unwrap();
    let fx = acd.missed(cid(1), aid(1), t(16));
    assert!(offers(&fx).is_empty(), "2 still rings");
    assert_eq!(state_name(&acd, aid(1)), "ready");
    let fx = acd.missed(cid(1), aid(2), t(16));
    assert_eq!(offers(&fx), vec![(cid(1), vec![aid(1), aid(2)])]);
}

/// A sequential queue: members 8003, 8001, 8002 (agents 3, 1, 2, without the skill), and agents
/// with the skill but not listed: `others` (id, extension).
fn sequential(others: &[(u128, Option<&str>)]) -> Acd {
    let mut acd = Acd::new();
    let mut q = queue("q", Strategy::Sequential);
    q.members = vec!["8003".into(), "8001".into(), "8002".into()];
    q.wrap_up_secs = 0;
    acd.upsert_queue(q);
    for (n, ext) in [(1, "8001"), (2, "8002"), (3, "8003")] {
        let mut a = agent(n, &[]);
        a.extension = Some(ext.into());
        acd.insert_agent(a);
    }
    for &(n, ext) in others {
        let mut a = agent(n, &[("q", 1)]);
        a.extension = ext.map(Into::into);
        acd.insert_agent(a);
    }
    acd
}

#[test]
fn sequential_takes_the_member_order_then_extension_order() {
    let mut acd = sequential(&[(4, Some("8000")), (5, Some("7000"))]);
    for n in 1..=5 {
        login_ready(&mut acd, n, t(10 - n as i64));
    }
    let picks: Vec<_> = (1..=5)
        .map(|c| offered_agent(&acd.enqueue(cid(c), "q", 0, t(20)).unwrap().1))
        .collect();
    assert_eq!(picks, [3, 1, 2, 5, 4].map(aid));

    // Always the first ready one, however short its idle time.
    answer_and_end(&mut acd, 2, 10, t(30));
    answer_and_end(&mut acd, 1, 10, t(31));
    answer_and_end(&mut acd, 3, 10, t(40));
    let (_, fx) = acd.enqueue(cid(7), "q", 0, t(41)).unwrap();
    assert_eq!(offered_agent(&fx), aid(3));
    answer_and_end(&mut acd, 3, 10, t(42));
    acd.change(aid(3), Change::NotReady("meal".into()), t(43))
        .unwrap();
    let (_, fx) = acd.enqueue(cid(8), "q", 0, t(44)).unwrap();
    assert_eq!(offered_agent(&fx), aid(1));
}

#[test]
fn sequential_puts_agents_without_extension_last_and_ties_to_the_longest_idle() {
    // Regression: an agent without an extension (None) sorted before every extension, so it was
    // offered before the agents in extension order; and two of them tied on the id, not on the
    // longest idle.
    let mut acd = sequential(&[(4, Some("8000")), (9, None), (6, None)]);
    login_ready(&mut acd, 4, t(0));
    login_ready(&mut acd, 6, t(0));
    login_ready(&mut acd, 9, t(1));
    let (_, fx) = acd.enqueue(cid(1), "q", 0, t(5)).unwrap();
    assert_eq!(offered_agent(&fx), aid(4));
    // 9 was offered first of the two without an extension only if idle longer: make it so.
    let mut a9 = acd.agent(aid(9)).unwrap().clone();
    a9.idle_since = t(-100);
    acd.insert_agent(a9);
    let (_, fx) = acd.enqueue(cid(2), "q", 0, t(6)).unwrap();
    assert_eq!(offered_agent(&fx), aid(9));
    let (_, fx) = acd.enqueue(cid(3), "q", 0, t(7)).unwrap();
    assert_eq!(offered_agent(&fx), aid(6));
}

#[test]
fn strategies_parse_and_print() {
    for s in Strategy::ALL {
        assert_eq!(Strategy::parse(s.key()), Some(*s));
        let json = serde_json::to_string(s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.key()));
    }
    assert_eq!(Strategy::parse("random"), None);
    assert_eq!(Strategy::default(), Strategy::LongestIdle);
}
