//! The contact-center figures with hand-computed expected values.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use common::*;
use kefu_acd::metrics::{Outcome, QueueCall, QueueMetrics, queue_metrics, time_in_states};

fn call(
    entered: i64,
    answered: Option<i64>,
    ended: Option<i64>,
    outcome: Outcome,
    talk_s: i64,
    wrap_s: i64,
) -> QueueCall {
    QueueCall {
        entered_at: t(entered),
        answered_at: answered.map(t),
        ended_at: ended.map(t),
        outcome,
        talk_ms: talk_s * 1000,
        wrap_ms: wrap_s * 1000,
    }
}

fn waiting(entered_at: DateTime<Utc>) -> QueueCall {
    QueueCall {
        entered_at,
        answered_at: None,
        ended_at: None,
        outcome: Outcome::Waiting,
        talk_ms: 0,
        wrap_ms: 0,
    }
}

#[test]
fn an_hour_of_one_queue() {
    use Outcome::*;
    let calls = vec![
        // 1: answered after 15 s (within 20), talk 100 + wrap 10.
        call(10, Some(25), Some(125), Answered, 100, 10),
        // 2: answered after 30 s (late), talk 200 + wrap 20.
        call(100, Some(130), Some(330), Answered, 200, 20),
        // 3: answered after exactly 20 s (within), still talking: not in AHT.
        call(200, Some(220), None, Answered, 0, 0),
        // 4: gave up after 10 s: abandoned within T, not against the service level.
        call(300, None, Some(310), Abandoned, 0, 0),
        // 5: gave up after 60 s: against the service level.
        call(400, None, Some(460), Abandoned, 0, 0),
        // 6: overflowed; 7: left for a callback.
        call(500, None, Some(560), Overflowed, 0, 0),
        call(600, None, Some(700), Callback, 0, 0),
        // 8: waiting 10 s at `to` (not late yet); 9: waiting 100 s (late).
        waiting(t(3590)),
        waiting(t(3500)),
        // 10: entered before the interval, answered before it: not counted.
        call(-100, Some(-50), Some(-10), Answered, 40, 0),
        // 11: entered before the interval and still waiting: waiting, not offered.
        waiting(t(-200)),
        // 12: entered exactly at `to`: outside [from, to).
        waiting(t(3600)),
        // 13: entered exactly at `from`: inside. Answered after 5 s, talk 55 + wrap 5.
        call(0, Some(5), Some(65), Answered, 55, 5),
    ];
    let m = queue_metrics(&calls, t(0), t(3600), 20);
    assert_eq!(
        m,
        QueueMetrics {
            offered: 10,
            answered: 4,
            answered_within: 3,
            abandoned: 2,
            abandoned_within: 1,
            overflowed: 1,
            callbacks: 1,
            // 3 within ÷ (4 answered + 1 abandoned late + 1 waiting late) = 50 %.
            service_level: 50.0,
            // 2 ÷ 10.
            abandon_rate: 20.0,
            // (15 + 30 + 20 + 5) ÷ 4.
            asa_secs: 17.5,
            // (110 + 220 + 60) ÷ 3.
            aht_secs: 130.0,
            // 8, 9 and 11.
            waiting: 3,
            longest_wait_secs: 3800,
        }
    );
}

#[test]
fn service_level_is_100_when_nothing_counts() {
    let m = queue_metrics(&[], t(0), t(60), 20);
    assert_eq!(m.service_level, 100.0);
    assert_eq!((m.abandon_rate, m.asa_secs, m.aht_secs), (0.0, 0.0, 0.0));
    assert_eq!((m.offered, m.waiting, m.longest_wait_secs), (0, 0, 0));
    // Only callers who gave up within T, overflows and callbacks: still nothing counts.
    let calls = vec![
        call(0, None, Some(20), Outcome::Abandoned, 0, 0),
        call(1, None, Some(5), Outcome::Abandoned, 0, 0),
        call(2, None, Some(40), Outcome::Overflowed, 0, 0),
        call(3, None, Some(50), Outcome::Callback, 0, 0),
    ];
    let m = queue_metrics(&calls, t(0), t(60), 20);
    assert_eq!(m.service_level, 100.0);
    assert_eq!(m.abandon_rate, 50.0);
    assert_eq!((m.abandoned, m.abandoned_within), (2, 2));
}

#[test]
fn service_level_zero_when_everyone_missed_the_threshold() {
    let calls = vec![
        call(0, None, Some(21), Outcome::Abandoned, 0, 0),
        call(0, Some(45), Some(100), Outcome::Answered, 55, 0),
        waiting(t(10)),
    ];
    let m = queue_metrics(&calls, t(0), t(60), 20);
    assert_eq!(m.service_level, 0.0);
    assert_eq!(m.asa_secs, 45.0);
    assert_eq!(m.aht_secs, 55.0);
    assert_eq!((m.waiting, m.longest_wait_secs), (1, 50));
}

#[test]
fn a_call_still_waiting_counts_against_the_service_level_only_past_the_threshold() {
    let answered = call(0, Some(1), Some(30), Outcome::Answered, 29, 0);
    // Waited exactly 20 s at `to`: not late.
    let m = queue_metrics(&[answered.clone(), waiting(t(40))], t(0), t(60), 20);
    assert_eq!(m.service_level, 100.0);
    assert_eq!(m.longest_wait_secs, 20);
    // 20.001 s: late.
    let m = queue_metrics(&[answered, waiting(t_ms(39_999))], t(0), t(60), 20);
    assert_eq!(m.service_level, 50.0);
    assert_eq!(m.longest_wait_secs, 20);
}

#[test]
fn waiting_at_to_is_about_the_end_of_the_interval() {
    // Leaving the queue at `to` exactly is not within [from, to): still waiting at `to`.
    let calls = vec![
        call(10, None, Some(60), Outcome::Abandoned, 0, 0),
        call(20, Some(60), Some(90), Outcome::Answered, 30, 0),
        call(30, None, Some(59), Outcome::Abandoned, 0, 0),
    ];
    let m = queue_metrics(&calls, t(0), t(60), 20);
    assert_eq!((m.waiting, m.longest_wait_secs), (2, 50));
    // The same calls over an interval that ends later: nobody waits.
    let m = queue_metrics(&calls, t(0), t(120), 20);
    assert_eq!((m.waiting, m.longest_wait_secs), (0, 0));
    // An interval that ends before they entered: nothing.
    let m = queue_metrics(&calls, t(-60), t(0), 20);
    assert_eq!(
        m,
        QueueMetrics {
            service_level: 100.0,
            ..QueueMetrics::default()
        }
    );
}

#[test]
fn threshold_changes_the_service_level_only() {
    let calls = vec![
        call(0, Some(10), Some(70), Outcome::Answered, 60, 10),
        call(0, Some(30), Some(90), Outcome::Answered, 60, 0),
        call(0, None, Some(25), Outcome::Abandoned, 0, 0),
    ];
    let m20 = queue_metrics(&calls, t(0), t(600), 20);
    let m40 = queue_metrics(&calls, t(0), t(600), 40);
    // T = 20: 1 within ÷ (2 + 1 abandoned late).
    assert!((m20.service_level - 100.0 / 3.0).abs() < 1e-9);
    // T = 40: 2 within ÷ 2 (the abandoned one gave up within T).
    assert_eq!(m40.service_level, 100.0);
    assert_eq!(m20.asa_secs, 20.0);
    assert_eq!(m20.aht_secs, 65.0);
    assert_eq!(
        (m20.abandon_rate, m40.abandon_rate),
        (100.0 / 3.0, 100.0 / 3.0)
    );
}

#[test]
fn outcomes_parse() {
    assert_eq!(Outcome::parse("waiting"), Some(Outcome::Waiting));
    assert_eq!(Outcome::parse("answered"), Some(Outcome::Answered));
    assert_eq!(Outcome::parse("abandoned"), Some(Outcome::Abandoned));
    assert_eq!(Outcome::parse("dropped"), Some(Outcome::Abandoned));
    assert_eq!(Outcome::parse("overflowed"), Some(Outcome::Overflowed));
    assert_eq!(Outcome::parse("closed"), Some(Outcome::Overflowed));
    assert_eq!(Outcome::parse("callback"), Some(Outcome::Callback));
    assert_eq!(Outcome::parse("lost"), None);
}

#[test]
fn time_in_states_clips_to_the_interval() {
    let s = |name: &str, start: i64, end: Option<i64>| (name.to_string(), t(start), end.map(t));
    let log = vec![
        s("ready", -500, Some(-400)), // before: nothing
        s("ready", -100, Some(50)),   // clipped to [0, 50): 50
        s("on_call", 50, Some(170)),  // 120
        s("wrap_up", 170, Some(180)), // 10
        s("ready", 180, Some(200)),   // 20
        s("not_ready", 200, None),    // still in it: until `to`, 100
        s("logged_out", 400, None),   // after: nothing
    ];
    let got = time_in_states(&log, t(0), t(300));
    let expected: BTreeMap<String, i64> = [
        ("not_ready", 100),
        ("on_call", 120),
        ("ready", 70),
        ("wrap_up", 10),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, expected);
    // One span over the whole interval, and an empty interval.
    let log = vec![s("on_call", -10, Some(400))];
    assert_eq!(time_in_states(&log, t(0), t(300))["on_call"], 300);
    assert!(time_in_states(&log, t(100), t(100)).is_empty());
}
