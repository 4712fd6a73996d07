//! Business calendars: when a company works, and arithmetic in working time.
//!
//! A [`CalendarSpec`] is what an administrator edits as data: weekly hours in the company's time
//! zone, public holidays (放假) and make-up working days (调休上班). [`Calendar::parse`] checks it and
//! builds a [`Calendar`], which answers three questions about instants (`DateTime<Utc>`): is this
//! working time ([`Calendar::is_working`]), how much working time lies between two instants
//! ([`Calendar::between`]), and when will a given amount of working time have passed
//! ([`Calendar::add`], also backwards).
//!
//! How it computes: let F(t) be the working time from a fixed origin to the instant t. F is
//! non-decreasing, and in a week without exceptions it grows by exactly the weekly hours, so F is a
//! closed formula (whole weeks × weekly hours + the days before t in its week + t's own day) plus a
//! correction per holiday or make-up day before t (a prefix sum over the sorted exceptions, found by
//! binary search). `between(a, b)` is F(b) − F(a); `add(a, d)` inverts F at F(a) + d, again with a
//! closed formula inside the stretch between two exceptions and a binary search to find that stretch.
//! Every operation is O(log(number of holidays and make-up days)), whatever the duration: no loop
//! over minutes, days or weeks, so nothing can run away (a calendar needs some working time in its
//! week, which [`Calendar::parse`] checks). Arithmetic is exact to the nanosecond (i128).
//!
//! Conventions:
//! - A span is half-open: 08:30–12:00 works at 08:30 and no longer at 12:00.
//! - `add(t, d)` for d > 0 is the *earliest* instant at which d of working time has passed since t:
//!   an hour that ends at closing time ends at closing time (Friday 17:00 + 30 min = Friday 17:30,
//!   not Monday's opening). Starting outside working hours counts from the next opening.
//! - `add(t, d)` for d < 0 goes backwards and gives the *latest* instant from which |d| of working
//!   time remains until t (Monday 09:00 − 30 min = Monday 08:30, not Friday 17:30).
//! - `add(t, 0)` is t, even outside working hours.
//! - A make-up working day (调休) works Monday's hours, whatever weekday it falls on.
//! - The time zone is a fixed offset (China has had no daylight saving time since 1991).
//! - An always-open calendar (24×7, for emergencies) ignores the week, holidays and make-up days.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use kefu_domain::FieldErrors;
use serde::{Deserialize, Serialize};

/// At most this many working spans in one day.
pub const MAX_SPANS_PER_DAY: usize = 8;
/// At most this many holidays, and this many make-up days (a few years of them).
pub const MAX_DATES: usize = 1000;

const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MIN: i64 = 60 * NS_PER_SEC;
/// Day 4 after 1970-01-01 (a Thursday) is Monday 1970-01-05: weeks are counted from it.
const FIRST_MONDAY: i64 = 4;

/// One stretch of working hours in a day, `"08:30"` to `"12:00"` (local time, 24-hour clock). `end`
/// may be `"24:00"`; a night shift is two spans on two days (22:00–24:00 and 00:00–06:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub start: String,
    pub end: String,
}

impl Span {
    pub fn new(start: &str, end: &str) -> Span {
        Span {
            start: start.to_string(),
            end: end.to_string(),
        }
    }
}

/// A business calendar as an administrator edits it (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// 24×7 (emergency services): every instant is working time; `week`, `holidays` and `workdays`
    /// are then ignored (but still checked).
    #[serde(default)]
    pub always_open: bool,
    /// The company's time zone as minutes east of UTC: China is 480 (UTC+8).
    pub utc_offset_minutes: i32,
    /// Working spans of each weekday, Monday first, in order and not overlapping.
    #[serde(default)]
    pub week: [Vec<Span>; 7],
    /// Days off although the week says they are worked (国庆, 春节, …).
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Make-up working days (调休上班): worked with Monday's spans, although the week says they are off.
    #[serde(default)]
    pub workdays: Vec<NaiveDate>,
}

/// A checked calendar. The only way to get one is [`Calendar::parse`] or [`Calendar::always_open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    always_open: bool,
    utc_offset_minutes: i32,
    /// Working spans of each weekday (Monday first) as nanoseconds after local midnight: sorted,
    /// touching spans merged.
    week: [Vec<(i64, i64)>; 7],
    /// `prefix[i]`: the working time of weekdays `0..i`; `prefix[7]` is the week's.
    prefix: [i128; 8],
    /// Holidays and make-up days by local day number (days since 1970-01-01), sorted.
    exceptions: Vec<Exception>,
    /// `corrections[j]`: the sum over `exceptions[..j]` of (their working time − their weekday's).
    corrections: Vec<i128>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exception {
    day: i64,
    /// A make-up working day (`true`) or a holiday (`false`).
    working: bool,
}

static TWENTY_FOUR_SEVEN: Calendar = Calendar {
    always_open: true,
    utc_offset_minutes: 0,
    week: [const { Vec::new() }; 7],
    prefix: [0; 8],
    exceptions: Vec::new(),
    corrections: Vec::new(),
};

impl Calendar {
    /// Checks a spec. Errors name the field: `utc_offset_minutes`, `week[0][1].end`, `holidays[3]`,
    /// `workdays[0]`, `week` (no working hours at all).
    pub fn parse(spec: &CalendarSpec) -> Result<Calendar, FieldErrors> {
        let mut errors = FieldErrors::new();
        if !(-720..=840).contains(&spec.utc_offset_minutes) {
            errors.push(
                "utc_offset_minutes",
                "must be between -720 (UTC-12) and 840 (UTC+14); China is 480",
            );
        }
        let mut week: [Vec<(i64, i64)>; 7] = Default::default();
        for (d, spans) in spec.week.iter().enumerate() {
            if spans.len() > MAX_SPANS_PER_DAY {
                errors.push(
                    format!("week[{d}]"),
                    format!("at most {MAX_SPANS_PER_DAY} spans a day"),
                );
            }
            let mut previous_end: Option<i64> = None;
            for (i, span) in spans.iter().enumerate() {
                let at = |f: &str| format!("week[{d}][{i}].{f}");
                let start = parse_clock(&span.start, false)
                    .map_err(|reason| errors.push(at("start"), reason))
                    .ok();
                let end = parse_clock(&span.end, true)
                    .map_err(|reason| errors.push(at("end"), reason))
                    .ok();
                let (Some(start), Some(end)) = (start, end) else {
                    continue;
                };
                if end <= start {
                    errors.push(
                        at("end"),
                        format!("must be after the start ({})", span.start),
                    );
                    continue;
                }
                if previous_end.is_some_and(|p| start < p) {
                    errors.push(
                        at("start"),
                        "overlaps the span before it (spans are in order and do not overlap)",
                    );
                    continue;
                }
                previous_end = Some(end);
                match week[d].last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => week[d].push((start, end)),
                }
            }
        }

        let holidays = dates(&spec.holidays, "holidays", &mut errors);
        let workdays = dates(&spec.workdays, "workdays", &mut errors);
        for (i, d) in spec.workdays.iter().enumerate() {
            if holidays.contains(d) {
                errors.push(
                    format!("workdays[{i}]"),
                    format!("{d} is also a holiday: a day is either off or worked"),
                );
            }
        }

        let mut prefix = [0i128; 8];
        for d in 0..7 {
            prefix[d + 1] = prefix[d] + week[d].iter().map(|(s, e)| (e - s) as i128).sum::<i128>();
        }
        if !spec.always_open {
            if prefix[7] == 0 {
                errors.push(
                    "week",
                    "has no working hours: give some, or make the calendar always open",
                );
            } else if !workdays.is_empty() && week[0].is_empty() {
                errors.push(
                    "workdays",
                    "make-up working days work Monday's hours, and Monday has none",
                );
            }
        }
        errors.into_result()?;

        if spec.always_open {
            return Ok(Calendar {
                utc_offset_minutes: spec.utc_offset_minutes,
                ..TWENTY_FOUR_SEVEN.clone()
            });
        }
        let mut exceptions: Vec<Exception> = holidays
            .iter()
            .map(|d| (d, false))
            .chain(workdays.iter().map(|d| (d, true)))
            .map(|(d, working)| Exception {
                day: day_number(*d),
                working,
            })
            .collect();
        exceptions.sort_by_key(|e| e.day);
        let mut calendar = Calendar {
            always_open: false,
            utc_offset_minutes: spec.utc_offset_minutes,
            week,
            prefix,
            exceptions: Vec::new(),
            corrections: vec![0],
        };
        let mut sum = 0;
        for e in &exceptions {
            let regular = calendar.day_total(weekday(e.day));
            let actual = if e.working { calendar.prefix[1] } else { 0 };
            sum += actual - regular;
            calendar.corrections.push(sum);
        }
        calendar.exceptions = exceptions;
        Ok(calendar)
    }

    /// 24×7: every instant is working time (emergencies).
    pub fn always_open() -> Calendar {
        TWENTY_FOUR_SEVEN.clone()
    }

    /// The shared 24×7 calendar, for clocks that count around the clock whatever their calendar.
    pub(crate) fn twenty_four_seven() -> &'static Calendar {
        &TWENTY_FOUR_SEVEN
    }

    pub fn is_always_open(&self) -> bool {
        self.always_open
    }

    pub fn utc_offset_minutes(&self) -> i32 {
        self.utc_offset_minutes
    }

    /// The working time of an ordinary week (no holidays, no make-up days); 7 days when always open.
    pub fn weekly_working_time(&self) -> TimeDelta {
        if self.always_open {
            TimeDelta::days(7)
        } else {
            delta(self.prefix[7])
        }
    }

    /// Whether `at` is working time (spans are half-open: 12:00 is not in 08:30–12:00).
    pub fn is_working(&self, at: DateTime<Utc>) -> bool {
        if self.always_open {
            return true;
        }
        let (day, x) = self.local(at);
        self.spans(self.lookup(day).1, day)
            .iter()
            .any(|&(s, e)| s <= x && x < e)
    }

    /// The working time between `a` and `b`; zero when `b <= a`.
    pub fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if b <= a {
            return TimeDelta::zero();
        }
        if self.always_open {
            return b - a;
        }
        delta(self.worked(self.local(b)) - self.worked(self.local(a)))
    }

    /// The instant at which `business` working time has passed since `start`: the earliest such
    /// instant going forwards, the latest going backwards (negative `business`); `start` itself for
    /// zero. Saturates at chrono's range.
    pub fn add(&self, start: DateTime<Utc>, business: TimeDelta) -> DateTime<Utc> {
        if business.is_zero() {
            return start;
        }
        if self.always_open {
            return start
                .checked_add_signed(business)
                .unwrap_or(if business > TimeDelta::zero() {
                    DateTime::<Utc>::MAX_UTC
                } else {
                    DateTime::<Utc>::MIN_UTC
                });
        }
        let d = nanos(business);
        let (day, x) = self.local(start);
        let (k, exception) = self.lookup(day);
        let spans = self.spans(exception, day);
        // Most durations end the day they start (reminders before a due instant): walk that day.
        if d > 0 {
            let mut rest = d;
            for &(s, e) in spans.iter().filter(|(_, e)| *e > x) {
                let from = s.max(x);
                let len = (e - from) as i128;
                if rest <= len {
                    return self.instant(day, from + rest as i64);
                }
                rest -= len;
            }
        } else {
            let mut rest = -d;
            for &(s, e) in spans.iter().rev().filter(|(s, _)| *s < x) {
                let to = e.min(x);
                let len = (to - s) as i128;
                if rest <= len {
                    return self.instant(day, to - rest as i64);
                }
                rest -= len;
            }
        }
        let v = self.regular(day) + self.corrections[k] + today(spans, x) + d;
        let (day, x) = if d > 0 {
            self.earliest(v)
        } else {
            // The latest instant at which F is v: a nanosecond before F passes it.
            let (day, x) = self.earliest(v + 1);
            (day, x - 1)
        };
        self.instant(day, x)
    }

    /// `add(start, -business)`: the latest instant from which `business` working time remains
    /// until `start`.
    pub fn sub(&self, start: DateTime<Utc>, business: TimeDelta) -> DateTime<Utc> {
        self.add(start, -business)
    }

    /// The local day (days since 1970-01-01) of `t` and the nanoseconds since its midnight.
    fn local(&self, t: DateTime<Utc>) -> (i64, i64) {
        let secs = t.timestamp() + self.utc_offset_minutes as i64 * 60;
        (
            secs.div_euclid(86_400),
            secs.rem_euclid(86_400) * NS_PER_SEC + t.timestamp_subsec_nanos() as i64,
        )
    }

    /// The instant `x` nanoseconds (0..=a day) after the local midnight starting `day`.
    fn instant(&self, day: i64, x: i64) -> DateTime<Utc> {
        let secs =
            day as i128 * 86_400 + (x / NS_PER_SEC) as i128 - self.utc_offset_minutes as i128 * 60;
        i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, (x % NS_PER_SEC) as u32))
            .unwrap_or(if secs > 0 {
                DateTime::<Utc>::MAX_UTC
            } else {
                DateTime::<Utc>::MIN_UTC
            })
    }

    fn day_total(&self, weekday: usize) -> i128 {
        self.prefix[weekday + 1] - self.prefix[weekday]
    }

    /// How many exceptions come before `day`, and what `day` is if it is one.
    fn lookup(&self, day: i64) -> (usize, Option<bool>) {
        let k = self.exceptions.partition_point(|e| e.day < day);
        let this = self
            .exceptions
            .get(k)
            .filter(|e| e.day == day)
            .map(|e| e.working);
        (k, this)
    }

    fn spans(&self, exception: Option<bool>, day: i64) -> &[(i64, i64)] {
        match exception {
            Some(true) => &self.week[0],
            Some(false) => &[],
            None => &self.week[weekday(day)],
        }
    }

    /// Working time of the whole days before `day`, had there been no exceptions.
    fn regular(&self, day: i64) -> i128 {
        let m = day - FIRST_MONDAY;
        m.div_euclid(7) as i128 * self.prefix[7] + self.prefix[m.rem_euclid(7) as usize]
    }

    /// F at the local instant `x` nanoseconds after the midnight starting `day`: the working time
    /// since the origin.
    fn worked(&self, (day, x): (i64, i64)) -> i128 {
        let (k, exception) = self.lookup(day);
        self.regular(day) + self.corrections[k] + today(self.spans(exception, day), x)
    }

    /// The smallest day whose midnight has F ≥ `u`, had there been no exceptions.
    fn regular_inverse(&self, u: i128) -> i64 {
        let w = self.prefix[7];
        let a = (u - 1).div_euclid(w);
        let need = u - a * w; // in 1..=w
        let i = (1..=7)
            .find(|&i| self.prefix[i] >= need)
            .expect("prefix[7] is the week");
        // |u| is at most F of chrono's range plus TimeDelta's, so a week count fits easily.
        let a = i64::try_from(a).unwrap_or(if a > 0 { i64::MAX / 8 } else { i64::MIN / 8 });
        FIRST_MONDAY + 7 * a + i as i64
    }

    /// The smallest day whose midnight has F ≥ `v`.
    fn first_day_reaching(&self, v: i128) -> i64 {
        // After exception j (from its next midnight) F is regular + corrections[j + 1]. Find the
        // first exception after which v is reached: before it, the stretch holds no exception and
        // the closed formula applies.
        let after = |j: usize| self.exceptions[j].day + 1;
        let (mut lo, mut hi) = (0, self.exceptions.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.regular(after(mid)) + self.corrections[mid + 1] < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let day = self.regular_inverse(v - self.corrections[lo]);
        match self.exceptions.get(lo) {
            // Not reached by the end of exception `lo`'s day: reached at its next midnight.
            Some(e) if day > e.day => e.day + 1,
            _ => day,
        }
    }

    /// The earliest local instant (day, nanoseconds after its midnight) at which F reaches `v`.
    fn earliest(&self, v: i128) -> (i64, i64) {
        let day = self.first_day_reaching(v) - 1;
        let (k, exception) = self.lookup(day);
        let mut rest = v - (self.regular(day) + self.corrections[k]);
        debug_assert!(rest > 0);
        for &(s, e) in self.spans(exception, day) {
            let len = (e - s) as i128;
            if rest <= len {
                return (day, s + rest as i64);
            }
            rest -= len;
        }
        unreachable!("F reaches v during the day before the first midnight past it")
    }
}

/// The working time of a day's spans before `x` nanoseconds after its midnight.
fn today(spans: &[(i64, i64)], x: i64) -> i128 {
    spans
        .iter()
        .map(|&(s, e)| (x.min(e) - s).max(0) as i128)
        .sum()
}

/// Checks a list of dates: count, range, repeats. Returns them as a set.
fn dates(list: &[NaiveDate], field: &str, errors: &mut FieldErrors) -> BTreeSet<NaiveDate> {
    if list.len() > MAX_DATES {
        errors.push(field, format!("at most {MAX_DATES} dates"));
    }
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");
    let mut set = BTreeSet::new();
    for (i, d) in list.iter().enumerate() {
        if *d < first || *d > last {
            errors.push(
                format!("{field}[{i}]"),
                "must be between 2000-01-01 and 2100-12-31",
            );
        } else if !set.insert(*d) {
            errors.push(format!("{field}[{i}]"), format!("{d} is listed twice"));
        }
    }
    set
}

/// `"HH:MM"` (or `"H:MM"`) as nanoseconds after midnight; `"24:00"` only for an end.
fn parse_clock(s: &str, is_end: bool) -> Result<i64, String> {
    let bad = || {
        if is_end {
            format!("must be a time HH:MM between 00:01 and 24:00 (got {s:?})")
        } else {
            format!("must be a time HH:MM between 00:00 and 23:59 (got {s:?})")
        }
    };
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let ok = (h <= 23 && m <= 59) || (is_end && h == 24 && m == 0);
    if !ok {
        return Err(bad());
    }
    Ok((h * 60 + m) * NS_PER_MIN)
}

/// Days since 1970-01-01.
fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days()
}

/// 0 = Monday.
fn weekday(day: i64) -> usize {
    (day - FIRST_MONDAY).rem_euclid(7) as usize
}

fn nanos(d: TimeDelta) -> i128 {
    d.num_seconds() as i128 * NS_PER_SEC as i128 + d.subsec_nanos() as i128
}

fn delta(n: i128) -> TimeDelta {
    if let Ok(n) = i64::try_from(n) {
        return TimeDelta::nanoseconds(n);
    }
    let ns = NS_PER_SEC as i128;
    i64::try_from(n.div_euclid(ns))
        .ok()
        .and_then(|s| TimeDelta::new(s, n.rem_euclid(ns) as u32))
        .unwrap_or(if n > 0 {
            TimeDelta::MAX
        } else {
            TimeDelta::MIN
        })
}

/// A demonstration calendar for a gas company in mainland China: Monday to Friday 08:30–12:00 and
/// 13:00–17:30 (UTC+8), with the official 2026 public holidays and make-up working days
/// (国务院办公厅关于2026年部分节假日安排的通知).
///
/// This is data, not code: administrators edit calendars in the browser. The State Council
/// publishes the next year's schedule each November; add 2027's holidays and make-up days then.
pub fn china_demo_spec() -> CalendarSpec {
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).expect("a 2026 date");
    let range = |m: u32, from: u32, to: u32| (from..=to).map(move |d| day(m, d));
    let office = vec![Span::new("08:30", "12:00"), Span::new("13:00", "17:30")];
    let mut holidays = Vec::new();
    holidays.extend(range(1, 1, 3)); // 元旦
    holidays.extend(range(2, 15, 23)); // 春节
    holidays.extend(range(4, 4, 6)); // 清明节
    holidays.extend(range(5, 1, 5)); // 劳动节
    holidays.extend(range(6, 19, 21)); // 端午节
    holidays.extend(range(9, 25, 27)); // 中秋节
    holidays.extend(range(10, 1, 7)); // 国庆节
    let workdays = vec![
        day(1, 4),   // 元旦调休 (Sunday)
        day(2, 14),  // 春节调休 (Saturday)
        day(2, 28),  // 春节调休 (Saturday)
        day(5, 9),   // 劳动节调休 (Saturday)
        day(9, 20),  // 国庆节调休 (Sunday)
        day(10, 10), // 国庆节调休 (Saturday)
    ];
    CalendarSpec {
        always_open: false,
        utc_offset_minutes: 480,
        week: [
            office.clone(),
            office.clone(),
            office.clone(),
            office.clone(),
            office,
            Vec::new(),
            Vec::new(),
        ],
        holidays,
        workdays,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, FixedOffset, NaiveDateTime, NaiveTime, TimeZone};

    /// A local instant in UTC+8.
    fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn demo() -> Calendar {
        Calendar::parse(&china_demo_spec()).unwrap()
    }

    fn h(n: i64) -> TimeDelta {
        TimeDelta::hours(n)
    }

    fn m(n: i64) -> TimeDelta {
        TimeDelta::minutes(n)
    }

    #[test]
    fn an_hour_before_closing_on_friday_ends_on_monday_morning() {
        let cal = demo();
        // 2026-11-20 is a Friday.
        assert_eq!(
            cal.add(cn(2026, 11, 20, 17, 0), h(1)),
            cn(2026, 11, 23, 9, 0)
        );
        assert_eq!(
            cal.between(cn(2026, 11, 20, 17, 0), cn(2026, 11, 23, 9, 0)),
            h(1)
        );
        // Half an hour ends at closing time, not at Monday's opening.
        assert_eq!(
            cal.add(cn(2026, 11, 20, 17, 0), m(30)),
            cn(2026, 11, 20, 17, 30)
        );
        // Backwards: the latest instant from which half an hour remains.
        assert_eq!(
            cal.sub(cn(2026, 11, 23, 9, 0), m(30)),
            cn(2026, 11, 23, 8, 30)
        );
        assert_eq!(
            cal.add(cn(2026, 11, 23, 9, 0), -h(1)),
            cn(2026, 11, 20, 17, 0)
        );
        // Across an ordinary night.
        assert_eq!(
            cal.add(cn(2026, 11, 24, 17, 0), h(1)),
            cn(2026, 11, 25, 9, 0)
        );
    }

    #[test]
    fn lunch_is_not_working_time() {
        let cal = demo();
        assert_eq!(
            cal.add(cn(2026, 11, 24, 11, 30), h(1)),
            cn(2026, 11, 24, 13, 30)
        );
        assert_eq!(
            cal.between(cn(2026, 11, 24, 11, 0), cn(2026, 11, 24, 14, 0)),
            h(2)
        );
        assert_eq!(
            cal.between(cn(2026, 11, 24, 12, 10), cn(2026, 11, 24, 12, 50)),
            m(0)
        );
        assert!(cal.is_working(cn(2026, 11, 24, 11, 59)));
        assert!(!cal.is_working(cn(2026, 11, 24, 12, 0)));
        assert!(cal.is_working(cn(2026, 11, 24, 13, 0)));
        // Starting at lunch counts from 13:00.
        assert_eq!(
            cal.add(cn(2026, 11, 24, 12, 15), m(10)),
            cn(2026, 11, 24, 13, 10)
        );
        // A whole day is 8 hours.
        assert_eq!(
            cal.add(cn(2026, 11, 24, 8, 30), h(8)),
            cn(2026, 11, 24, 17, 30)
        );
    }

    #[test]
    fn weekends_are_skipped() {
        let cal = demo();
        // Saturday 2026-11-21 10:00 counts from Monday's opening.
        assert_eq!(
            cal.add(cn(2026, 11, 21, 10, 0), h(1)),
            cn(2026, 11, 23, 9, 30)
        );
        assert!(!cal.is_working(cn(2026, 11, 22, 10, 0)));
        assert_eq!(
            cal.between(cn(2026, 11, 20, 17, 30), cn(2026, 11, 23, 8, 30)),
            m(0)
        );
        // A working week is 40 hours, from any instant.
        assert_eq!(cal.weekly_working_time(), h(40));
        assert_eq!(
            cal.add(cn(2026, 11, 25, 10, 17), h(40)),
            cn(2026, 12, 2, 10, 17)
        );
    }

    #[test]
    fn national_day_is_off_and_its_make_up_saturday_is_worked() {
        let cal = demo();
        // Wednesday 2026-09-30 17:00 + 1h: 1-7 October are off, Thursday 8 October is worked.
        assert_eq!(cal.add(cn(2026, 9, 30, 17, 0), h(1)), cn(2026, 10, 8, 9, 0));
        assert_eq!(
            cal.between(cn(2026, 9, 30, 17, 30), cn(2026, 10, 8, 8, 30)),
            m(0)
        );
        for day in 1..=7 {
            assert!(!cal.is_working(cn(2026, 10, day, 10, 0)), "October {day}");
        }
        // Saturday 10 October is a make-up working day with Monday's hours; Sunday 11 is not.
        assert!(cal.is_working(cn(2026, 10, 10, 10, 0)));
        assert!(!cal.is_working(cn(2026, 10, 10, 12, 30)));
        assert!(!cal.is_working(cn(2026, 10, 11, 10, 0)));
        assert_eq!(
            cal.add(cn(2026, 10, 9, 17, 0), h(1)),
            cn(2026, 10, 10, 9, 0)
        );
        assert_eq!(
            cal.add(cn(2026, 10, 10, 17, 0), h(1)),
            cn(2026, 10, 12, 9, 0)
        );
        // Sunday 20 September (国庆 make-up day) too.
        assert_eq!(
            cal.between(cn(2026, 9, 20, 0, 0), cn(2026, 9, 21, 0, 0)),
            h(8)
        );
        // 春节: from Friday 13 February, Saturday 14 is worked, 15-23 are off, 24 is worked.
        assert_eq!(cal.add(cn(2026, 2, 13, 17, 0), h(1)), cn(2026, 2, 14, 9, 0));
        assert_eq!(cal.add(cn(2026, 2, 14, 17, 0), h(1)), cn(2026, 2, 24, 9, 0));
    }

    #[test]
    fn the_demo_calendar_has_248_working_days_in_2026() {
        let spec = china_demo_spec();
        for d in &spec.workdays {
            assert!(
                d.weekday().number_from_monday() >= 6,
                "{d} is a weekend day"
            );
        }
        let cal = demo();
        let year = cal.between(cn(2026, 1, 1, 0, 0), cn(2027, 1, 1, 0, 0));
        // 261 weekdays − 19 holidays on weekdays + 6 make-up days.
        assert_eq!(year, h(8 * 248));
        // 2027 has no holidays listed yet: an ordinary year of weeks.
        assert_eq!(
            cal.between(cn(2027, 1, 4, 0, 0), cn(2028, 1, 3, 0, 0)),
            h(40 * 52)
        );
    }

    #[test]
    fn hours_are_local_to_the_calendars_time_zone() {
        let cal = demo();
        // 08:30 in Beijing is 00:30 UTC.
        assert!(!cal.is_working(utc(2026, 11, 23, 0, 29)));
        assert!(cal.is_working(utc(2026, 11, 23, 0, 30)));
        assert!(cal.is_working(utc(2026, 11, 23, 9, 29)));
        assert!(!cal.is_working(utc(2026, 11, 23, 9, 30)));
        // Monday 01:00 UTC + 1h = 10:00 local.
        assert_eq!(
            cal.add(utc(2026, 11, 23, 1, 0), h(1)),
            utc(2026, 11, 23, 2, 0)
        );
        // Sunday 23:00 UTC is already Monday 07:00 in Beijing: counts from 08:30 local.
        assert_eq!(
            cal.add(utc(2026, 11, 22, 23, 0), h(1)),
            utc(2026, 11, 23, 1, 30)
        );
        // The same hours in UTC.
        let mut spec = china_demo_spec();
        spec.utc_offset_minutes = 0;
        let in_utc = Calendar::parse(&spec).unwrap();
        assert!(!in_utc.is_working(utc(2026, 11, 23, 0, 30)));
        assert!(in_utc.is_working(utc(2026, 11, 23, 8, 30)));
        assert_eq!(
            in_utc.add(utc(2026, 11, 23, 1, 0), h(1)),
            utc(2026, 11, 23, 9, 30)
        );
        // A holiday is a local date: 1 October starts at 16:00 UTC on 30 September.
        assert!(!cal.is_working(utc(2026, 9, 30, 16, 0)));
        assert!(in_utc.is_working(utc(2026, 9, 30, 16, 0)));
        // West of Greenwich.
        spec.utc_offset_minutes = -300;
        let new_york = Calendar::parse(&spec).unwrap();
        assert!(new_york.is_working(utc(2026, 11, 23, 13, 30)));
        assert!(!new_york.is_working(utc(2026, 11, 23, 13, 29)));
    }

    #[test]
    fn always_open_is_plain_time() {
        let cal = Calendar::always_open();
        assert!(cal.is_always_open());
        let t = cn(2026, 9, 30, 22, 0);
        assert_eq!(cal.add(t, h(4)), cn(2026, 10, 1, 2, 0));
        assert_eq!(cal.add(t, -h(30)), t - h(30));
        assert_eq!(cal.between(t, cn(2026, 10, 8, 22, 0)), TimeDelta::days(8));
        assert_eq!(cal.between(cn(2026, 10, 8, 22, 0), t), TimeDelta::zero());
        assert!(cal.is_working(cn(2026, 10, 1, 3, 0)));
        assert_eq!(cal.weekly_working_time(), TimeDelta::days(7));
        // A spec may say so too; its week is then ignored.
        let spec = CalendarSpec {
            always_open: true,
            utc_offset_minutes: 480,
            week: Default::default(),
            holidays: vec![NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()],
            workdays: Vec::new(),
        };
        let parsed = Calendar::parse(&spec).unwrap();
        assert_eq!(parsed.add(t, h(4)), cn(2026, 10, 1, 2, 0));
    }

    #[test]
    fn zero_and_huge_durations() {
        let cal = demo();
        let sat = cn(2026, 11, 21, 10, 0);
        assert_eq!(cal.add(sat, TimeDelta::zero()), sat);
        assert_eq!(cal.between(sat, sat), TimeDelta::zero());
        // Ten years of business time, at once.
        let far = cal.add(sat, h(40 * 52 * 10));
        assert_eq!(cal.between(sat, far), h(40 * 52 * 10));
        assert!(far > cn(2036, 1, 1, 0, 0) && far < cn(2037, 1, 1, 0, 0));
        // Beyond chrono's range: saturates instead of panicking.
        assert_eq!(cal.add(sat, TimeDelta::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.add(sat, TimeDelta::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            Calendar::always_open().add(sat, TimeDelta::MAX),
            DateTime::<Utc>::MAX_UTC
        );
    }

    /// A tiny deterministic generator (xorshift64*), so the cases never change.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Working time between two instants the slow, obvious way: day by day from the spec.
    fn reference_between(spec: &CalendarSpec, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        let zone = FixedOffset::east_opt(spec.utc_offset_minutes * 60).unwrap();
        let (la, lb) = (
            a.with_timezone(&zone).naive_local(),
            b.with_timezone(&zone).naive_local(),
        );
        let clock = |day: NaiveDate, s: &str| -> NaiveDateTime {
            let (hh, mm) = s.split_once(':').unwrap();
            let (hh, mm): (u32, u32) = (hh.parse().unwrap(), mm.parse().unwrap());
            day.and_time(NaiveTime::MIN) + TimeDelta::minutes((hh * 60 + mm) as i64)
        };
        let mut total = TimeDelta::zero();
        let mut day = la.date();
        while day <= lb.date() {
            let spans = if spec.holidays.contains(&day) {
                &[][..]
            } else if spec.workdays.contains(&day) {
                &spec.week[0][..]
            } else {
                &spec.week[day.weekday().num_days_from_monday() as usize][..]
            };
            for s in spans {
                let lo = clock(day, &s.start).max(la);
                let hi = clock(day, &s.end).min(lb);
                if hi > lo {
                    total += hi - lo;
                }
            }
            day = day.succ_opt().unwrap();
        }
        total
    }

    fn odd_specs() -> Vec<CalendarSpec> {
        let d = |y, mo, dd| NaiveDate::from_ymd_opt(y, mo, dd).unwrap();
        let night = vec![Span::new("00:00", "06:00"), Span::new("22:00", "24:00")];
        let shop = vec![
            Span::new("07:00", "07:01"),
            Span::new("09:00", "12:30"),
            Span::new("12:30", "13:00"),
            Span::new("19:45", "23:59"),
        ];
        vec![
            china_demo_spec(),
            CalendarSpec {
                always_open: false,
                utc_offset_minutes: 0,
                week: [
                    night.clone(),
                    night.clone(),
                    Vec::new(),
                    night.clone(),
                    night.clone(),
                    night.clone(),
                    night,
                ],
                holidays: vec![d(2026, 1, 1), d(2026, 1, 2), d(2026, 3, 30)],
                workdays: vec![d(2026, 1, 7), d(2026, 4, 1)],
            },
            CalendarSpec {
                always_open: false,
                utc_offset_minutes: -330,
                week: [
                    shop.clone(),
                    Vec::new(),
                    Vec::new(),
                    vec![Span::new("10:00", "11:00")],
                    Vec::new(),
                    shop,
                    Vec::new(),
                ],
                holidays: (0..40)
                    .map(|i| d(2026, 2, 1) + TimeDelta::days(i * 3))
                    .collect(),
                workdays: (0..20)
                    .map(|i| d(2026, 2, 2) + TimeDelta::days(i * 3))
                    .collect(),
            },
        ]
    }

    #[test]
    fn add_and_between_agree_with_each_other_and_with_a_day_by_day_count() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let base = utc(2025, 12, 1, 0, 0);
        for spec in odd_specs() {
            let cal = Calendar::parse(&spec).unwrap();
            for _ in 0..400 {
                let start = base
                    + TimeDelta::seconds(g.below(430 * 86_400) as i64)
                    + TimeDelta::nanoseconds(if g.below(4) == 0 {
                        g.below(1_000_000_000) as i64
                    } else {
                        0
                    });
                let longest = if g.below(2) == 0 {
                    4 * 3600
                } else {
                    120 * 3600
                };
                let d = TimeDelta::seconds(1 + g.below(longest) as i64);
                // Forwards: exactly d, and not a nanosecond earlier.
                let end = cal.add(start, d);
                assert_eq!(cal.between(start, end), d, "{start} + {d}");
                assert!(cal.between(start, end - TimeDelta::nanoseconds(1)) < d);
                assert!(cal.is_working(end - TimeDelta::nanoseconds(1)));
                // Backwards: exactly d, and not a nanosecond later.
                let back = cal.add(start, -d);
                assert_eq!(cal.between(back, start), d, "{start} - {d}");
                assert!(cal.between(back + TimeDelta::nanoseconds(1), start) < d);
                assert!(cal.is_working(back));
                // Against the obvious count.
                let other = base + TimeDelta::seconds(g.below(430 * 86_400) as i64);
                let (a, b) = (start.min(other), start.max(other));
                assert_eq!(
                    cal.between(a, b),
                    reference_between(&spec, a, b),
                    "{a}..{b}"
                );
                assert_eq!(
                    cal.between(start, end),
                    reference_between(&spec, start, end)
                );
                // Splitting a duration changes nothing.
                let part = TimeDelta::seconds(g.below(d.num_seconds() as u64) as i64 + 1);
                if part < d {
                    assert_eq!(cal.add(cal.add(start, part), d - part), end);
                }
            }
        }
    }

    #[test]
    fn bad_specs_are_refused_with_the_field_named() {
        let fields = |spec: &CalendarSpec| -> Vec<String> {
            Calendar::parse(spec)
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let mut spec = china_demo_spec();
        spec.utc_offset_minutes = 900;
        spec.week[0][1].end = "12:30".into(); // before its start (13:00)
        spec.week[1] = vec![Span::new("08:00", "12:00"), Span::new("11:00", "13:00")];
        spec.week[2][0].start = "8h30".into();
        spec.week[3][1].end = "24:01".into();
        spec.week[4][0].start = "24:00".into();
        spec.holidays.push(spec.holidays[3]);
        spec.workdays.push(spec.holidays[0]);
        spec.workdays
            .push(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap());
        assert_eq!(
            fields(&spec),
            [
                "utc_offset_minutes",
                "week[0][1].end",
                "week[1][1].start",
                "week[2][0].start",
                "week[3][1].end",
                "week[4][0].start",
                "holidays[33]",
                "workdays[7]",
                "workdays[6]",
            ]
        );

        let closed = CalendarSpec {
            always_open: false,
            utc_offset_minutes: 480,
            week: Default::default(),
            holidays: Vec::new(),
            workdays: Vec::new(),
        };
        assert_eq!(fields(&closed), ["week"]);

        let mut weekend_shop = closed.clone();
        weekend_shop.week[5] = vec![Span::new("09:00", "17:00")];
        weekend_shop.workdays = vec![NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()];
        assert_eq!(fields(&weekend_shop), ["workdays"]);

        let mut crowded = china_demo_spec();
        crowded.week[0] = (0..9)
            .map(|i| Span::new(&format!("{:02}:00", i * 2), &format!("{:02}:30", i * 2)))
            .collect();
        crowded.holidays = (0..1001)
            .map(|i| NaiveDate::from_ymd_opt(2030, 1, 1).unwrap() + TimeDelta::days(i))
            .collect();
        assert_eq!(fields(&crowded), ["week[0]", "holidays"]);

        // Unknown keys are refused when reading JSON.
        let json = serde_json::json!({"utc_offset_minutes": 480, "weeks": []});
        assert!(serde_json::from_value::<CalendarSpec>(json).is_err());
    }

    #[test]
    fn specs_read_and_write_as_json() {
        let spec = china_demo_spec();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json["week"][0][1],
            serde_json::json!({"start": "13:00", "end": "17:30"})
        );
        assert_eq!(json["holidays"][0], "2026-01-01");
        assert_eq!(serde_json::from_value::<CalendarSpec>(json).unwrap(), spec);
        let short: CalendarSpec = serde_json::from_value(
            serde_json::json!({"always_open": true, "utc_offset_minutes": 480}),
        )
        .unwrap();
        assert!(Calendar::parse(&short).unwrap().is_always_open());
    }
}
