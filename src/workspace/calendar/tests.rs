//! The calendar across year ends, leap days, DST changes and ISO week 53.

use chrono::Weekday;

use super::*;

const ZONES: [Tz; 10] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::America::Santiago,
    chrono_tz::America::Havana,
    chrono_tz::Asia::Beirut,
    chrono_tz::Pacific::Apia,
];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn plus_days(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_add_days(Days::new(n)).unwrap()
}

/// Every local date from 1990-01-01 to 2045-12-31.
fn every_day() -> impl Iterator<Item = NaiveDate> {
    day(1990, 1, 1).iter_days().take_while(|d| *d < day(2046, 1, 1))
}

/// A xorshift64 generator: the same "random" ranges on every run.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn random_ranges_are_tiled_by_contiguous_slots_in_order() {
    let mut rng = Xorshift(0x5eed_c0ff_ee15_d00d);
    let span = day(1990, 1, 1).signed_duration_since(day(2045, 12, 31)).num_days().unsigned_abs();
    for expect in Expect::ALL {
        let longest = match expect {
            Expect::Daily => 90,
            Expect::Weekly => 365,
            Expect::Monthly => 1000,
            Expect::Quarterly => 1500,
            Expect::Annual => 3000,
        };
        for _ in 0..300 {
            let from = plus_days(day(1990, 1, 1), rng.below(span));
            let to = plus_days(from, 1 + rng.below(longest));
            let slots = slots(expect, from, to);
            let (Some(first), Some(last)) = (slots.first(), slots.last()) else { panic!("{expect} {from}..{to}") };
            assert!(first.contains(from), "{expect} {from}..{to}: first {first:?}");
            assert!(last.contains(to.pred_opt().unwrap()), "{expect} {from}..{to}: last {last:?}");
            assert!(slots.iter().all(|s| s.start < s.end), "{expect} {from}..{to}: an empty slot");
            for pair in slots.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{expect} {from}..{to}");
                assert!(pair[0] < pair[1], "{expect} {from}..{to}: {pair:?} out of order");
            }
            for date in from.iter_days().take_while(|d| *d < to) {
                let holding: Vec<&Slot> = slots.iter().filter(|s| s.contains(date)).collect();
                assert_eq!(holding, [&expect.slot_of(date)], "{expect} {from}..{to}: {date}");
            }
        }
        assert!(slots(expect, day(2026, 7, 1), day(2026, 7, 1)).is_empty());
        assert!(slots(expect, day(2026, 7, 2), day(2026, 7, 1)).is_empty());
    }
}

#[test]
fn every_day_from_1990_to_2045_lies_in_one_slot_of_the_right_shape() {
    for expect in Expect::ALL {
        let mut previous: Option<Slot> = None;
        for date in every_day() {
            let slot = expect.slot_of(date);
            assert!(slot.contains(date), "{expect} {date}: {slot:?}");
            match &previous {
                Some(p) if p.contains(date) => assert_eq!(&slot, p, "{expect} {date}"),
                Some(p) => assert_eq!(slot.start, p.end, "{expect} {date}: a gap after {p:?}"),
                None => {}
            }
            let (start, days) = (slot.start, slot.days());
            match expect {
                Expect::Daily => {
                    assert_eq!(days, 1);
                    assert_eq!(slot.label, date.format("%Y-%m-%d").to_string());
                }
                Expect::Weekly => {
                    assert_eq!((days, start.weekday()), (7, Weekday::Mon), "{date}");
                    let week = start.iso_week();
                    assert_eq!(slot.label, format!("{}-W{:02}", week.year(), week.week()), "{date}");
                    assert_eq!(week, date.iso_week(), "{date}");
                }
                Expect::Monthly => {
                    assert!((28..=31).contains(&days) && start.day() == 1, "{date}: {slot:?}");
                    assert_eq!(slot.label, start.format("%Y-%m").to_string());
                }
                Expect::Quarterly => {
                    assert!((90..=92).contains(&days), "{date}: {slot:?}");
                    assert!([1, 4, 7, 10].contains(&start.month()) && start.day() == 1, "{date}: {slot:?}");
                    assert_eq!(slot.label, format!("{}-Q{}", start.year(), start.month() / 3 + 1));
                }
                Expect::Annual => {
                    let leap = NaiveDate::from_ymd_opt(start.year(), 2, 29).is_some();
                    assert_eq!(days, if leap { 366 } else { 365 }, "{date}");
                    assert_eq!((start.month(), start.day()), (1, 1));
                    assert_eq!(slot.label, start.year().to_string());
                }
            }
            previous = Some(slot);
        }
    }
}

#[test]
fn iso_years_with_a_week_53_have_it_and_others_do_not() {
    let weeks = slots(Expect::Weekly, day(1990, 1, 1), day(2046, 1, 1));
    let long_years: Vec<i32> = weeks
        .iter()
        .filter_map(|w| w.label.strip_suffix("-W53"))
        .map(|year| year.parse().unwrap())
        .filter(|year| (2010..=2040).contains(year))
        .collect();
    assert_eq!(long_years, [2015, 2020, 2026, 2032, 2037]);
    for year in 1991..=2044 {
        let has_53 = weeks.iter().any(|w| w.label == format!("{year}-W53"));
        assert_eq!(has_53, NaiveDate::from_isoywd_opt(year, 53, Weekday::Mon).is_some(), "{year}");
        assert!(weeks.iter().any(|w| w.label == format!("{year}-W52")), "{year}");
    }
    let label = |d| Expect::Weekly.slot_of(d).label;
    assert_eq!(label(day(2020, 12, 31)), "2020-W53");
    assert_eq!(label(day(2021, 1, 3)), "2020-W53");
    assert_eq!(label(day(2021, 1, 4)), "2021-W01");
    assert_eq!(label(day(2024, 12, 29)), "2024-W52");
    assert_eq!(label(day(2024, 12, 30)), "2025-W01");
    assert_eq!(label(day(2027, 1, 1)), "2026-W53");
    assert_eq!(label(day(2026, 7, 1)), "2026-W27");
    let w53 = Expect::Weekly.slot_of(day(2021, 1, 1));
    assert_eq!((w53.start, w53.end), (day(2020, 12, 28), day(2021, 1, 4)));
}

#[test]
fn a_leap_day_falls_in_its_week_month_quarter_and_year() {
    let leap_day = day(2024, 2, 29);
    let slot = |expect: Expect| expect.slot_of(leap_day);
    assert_eq!(slot(Expect::Daily), Slot { label: "2024-02-29".into(), start: leap_day, end: day(2024, 3, 1) });
    assert_eq!(slot(Expect::Weekly).label, "2024-W09");
    assert_eq!(slot(Expect::Monthly), Slot { label: "2024-02".into(), start: day(2024, 2, 1), end: day(2024, 3, 1) });
    assert_eq!((slot(Expect::Quarterly).label, slot(Expect::Quarterly).days()), ("2024-Q1".to_string(), 91));
    assert_eq!((slot(Expect::Annual).label, slot(Expect::Annual).days()), ("2024".to_string(), 366));
    assert_eq!(Expect::Monthly.slot_of(day(2100, 2, 10)).days(), 28, "2100 is not a leap year");
    assert_eq!(Expect::Monthly.slot_of(day(2000, 2, 10)).days(), 29, "2000 is");
    let q3 = Expect::Quarterly.slot_of(day(2026, 8, 15));
    assert_eq!(q3, Slot { label: "2026-Q3".into(), start: day(2026, 7, 1), end: day(2026, 10, 1) });
}

/// The days in 1990–2045 on which a zone has no local time at all.
fn skipped_days(tz: Tz) -> Vec<NaiveDate> {
    if tz == chrono_tz::Pacific::Apia { vec![day(2011, 12, 30)] } else { Vec::new() }
}

#[test]
fn local_midnight_is_the_first_instant_of_each_local_day() {
    let second = TimeDelta::seconds(1);
    for tz in ZONES {
        let (mut gaps, mut ambiguous, mut skipped) = (0, 0, Vec::new());
        let mut previous: Option<(NaiveDate, DateTime<Utc>)> = None;
        for date in every_day() {
            let midnight = local_midnight(date, tz);
            let local = midnight.with_timezone(&tz).naive_local();
            let before = (midnight - second).with_timezone(&tz).naive_local();
            assert!(local.date() >= date && before.date() < date, "{tz} {date}: {midnight} is not its first instant");
            assert_eq!(midnight.timestamp() % 900, 0, "{tz} {date}: {midnight} is off the quarter hour");
            match tz.from_local_datetime(&date.and_time(NaiveTime::MIN)) {
                LocalResult::Single(t) => assert_eq!(t, midnight),
                LocalResult::Ambiguous(a, b) => {
                    ambiguous += 1;
                    assert_eq!(midnight, a.min(b), "{tz} {date}: the earlier of two midnights");
                }
                LocalResult::None => gaps += 1,
            }
            if local.date() != date {
                skipped.push(date);
                assert_eq!(local, plus_days(date, 1).and_time(NaiveTime::MIN), "{tz} {date}");
            }
            if let Some((earlier, at)) = previous {
                if skipped.last() == Some(&earlier) {
                    assert_eq!(at, midnight, "{tz} {earlier} was skipped: it shares {date}'s midnight");
                } else {
                    assert!(at < midnight, "{tz} {earlier} {at} is not before {date} {midnight}");
                }
            }
            previous = Some((date, midnight));
        }
        assert_eq!(skipped, skipped_days(tz), "{tz}");
        let zone = tz.name();
        match zone {
            "America/Santiago" | "America/Havana" | "Asia/Beirut" => assert!(gaps > 10, "{zone}: {gaps} gaps"),
            "Pacific/Apia" => assert!(gaps >= 1, "{zone}"),
            _ => assert_eq!(gaps, 0, "{zone}"),
        }
        if zone == "America/Havana" {
            assert!(ambiguous > 10, "Havana falls back across midnight: {ambiguous}");
        }
    }
}

#[test]
fn midnights_in_a_dst_gap_or_on_a_skipped_day_move_forward() {
    let at = |y, m, d, tz| local_midnight(day(y, m, d), tz);
    // Cuba springs forward at 00:00 to 01:00 CDT (-4); Chile at 24:00
    // on Saturday to 01:00 -03; Lebanon at 00:00 to 01:00 EEST.
    assert_eq!(at(2013, 3, 10, chrono_tz::America::Havana), utc("2013-03-10T05:00:00Z"));
    assert_eq!(at(2022, 9, 11, chrono_tz::America::Santiago), utc("2022-09-11T04:00:00Z"));
    assert_eq!(at(2019, 3, 31, chrono_tz::Asia::Beirut), utc("2019-03-30T22:00:00Z"));
    // Cuba falls back at 01:00 CDT to 00:00 CST: the first midnight counts.
    assert_eq!(at(2013, 11, 3, chrono_tz::America::Havana), utc("2013-11-03T04:00:00Z"));
    // Samoa went from 2011-12-29 24:00 (-10) straight to 2011-12-31 (+14).
    let apia = chrono_tz::Pacific::Apia;
    assert_eq!(at(2011, 12, 30, apia), utc("2011-12-30T10:00:00Z"));
    assert_eq!(at(2011, 12, 31, apia), utc("2011-12-30T10:00:00Z"));
    let skipped = Expect::Daily.slot_of(day(2011, 12, 30));
    let (start, end) = window(&skipped, Grace::default(), apia);
    assert_eq!(start, end, "a day that never happened holds no instant");
    let (_, end) = window(&skipped, Grace::parse("1d").unwrap(), apia);
    assert_eq!(end, utc("2011-12-31T10:00:00Z"));
    assert_eq!(at(2026, 7, 1, chrono_tz::Asia::Kathmandu), utc("2026-06-30T18:15:00Z"));
    assert_eq!(at(2026, 1, 1, chrono_tz::Australia::Lord_Howe), utc("2025-12-31T13:00:00Z"));
}

#[test]
fn windows_end_at_the_wall_clock_midnight_after_the_grace() {
    let graces = ["0d", "1d", "5d", "2w"].map(|g| Grace::parse(g).unwrap());
    for tz in ZONES {
        let months = slots(Expect::Monthly, day(1990, 1, 1), day(2046, 1, 1));
        let weeks = slots(Expect::Weekly, day(1990, 1, 1), day(2046, 1, 1));
        let monthly = months.iter().flat_map(|m| graces.map(|g| (m, g)));
        for (slot, grace) in monthly.chain(weeks.iter().map(|w| (w, graces[1]))) {
            let (start, end) = window(slot, grace, tz);
            assert_eq!(start, local_midnight(slot.start, tz), "{tz} {}", slot.label);
            assert!(end > start, "{tz} {} {grace}", slot.label);
            let days = u64::from(grace.hours() / 24);
            assert_eq!(end, local_midnight(plus_days(slot.end, days), tz), "{tz} {} {grace}", slot.label);
        }
    }
    // Every night in Berlin, across each last Sunday of March and October.
    let berlin = chrono_tz::Europe::Berlin;
    let mut previous = None;
    for slot in slots(Expect::Daily, day(1990, 1, 1), day(2046, 1, 1)) {
        let (start, end) = window(&slot, graces[2], berlin);
        assert_eq!(end, local_midnight(plus_days(slot.end, 5), berlin), "{}", slot.label);
        assert_eq!(window(&slot, graces[0], berlin).1, local_midnight(slot.end, berlin));
        if let Some((before_start, before_end)) = previous {
            assert!(before_start < start && before_end < end, "{}: windows out of order", slot.label);
        }
        previous = Some((start, end));
    }
}

#[test]
fn a_grace_is_wall_clock_time_whatever_dst_does() {
    let berlin = chrono_tz::Europe::Berlin;
    let grace = |text| Grace::parse(text).unwrap();
    let daily = |y, m, d| Expect::Daily.slot_of(day(y, m, d));
    // The night before the last Sunday of March is 23 hours long.
    let (start, end) = window(&daily(2026, 3, 28), grace("1d"), berlin);
    assert_eq!((start, end), (utc("2026-03-27T23:00:00Z"), utc("2026-03-29T22:00:00Z")));
    let (start, end) = window(&daily(2026, 10, 24), grace("1d"), berlin);
    assert_eq!(end - start, TimeDelta::hours(49));
    // 5d after a slot ending 2026-10-21 is 2026-10-26 00:00 CET, not 120 hours.
    assert_eq!(window(&daily(2026, 10, 20), grace("5d"), berlin).1, utc("2026-10-25T23:00:00Z"));
    assert_eq!(window(&daily(2026, 10, 20), grace("120h"), berlin).1, utc("2026-10-25T23:00:00Z"));
    let q3 = Expect::Quarterly.slot_of(day(2026, 8, 1));
    assert_eq!(window(&q3, grace("5d"), berlin), (utc("2026-06-30T22:00:00Z"), utc("2026-10-05T22:00:00Z")));
    let march = Expect::Monthly.slot_of(day(2026, 3, 1));
    assert_eq!(window(&march, grace("2w"), berlin).1, utc("2026-04-14T22:00:00Z"));
    // 02:00 on 2026-03-29 does not exist: it moves on to 03:00 CEST.
    assert_eq!(window(&daily(2026, 3, 28), grace("2h"), berlin).1, utc("2026-03-29T01:00:00Z"));
    assert_eq!(window(&daily(2026, 3, 28), grace("3h"), berlin).1, utc("2026-03-29T01:00:00Z"));
    // 02:00 on 2026-10-25 happens twice: the first one closes the window.
    assert_eq!(window(&daily(2026, 10, 24), grace("2h"), berlin).1, utc("2026-10-25T00:00:00Z"));
    assert_eq!(window(&daily(2026, 10, 24), grace("3h"), berlin).1, utc("2026-10-25T02:00:00Z"));
    let new_york = chrono_tz::America::New_York;
    assert_eq!(window(&daily(2026, 3, 7), grace("2h"), new_york).1, utc("2026-03-08T07:00:00Z"));
}

#[test]
fn grace_reads_hours_days_and_weeks_up_to_a_year() {
    let hours = |text: &str| Grace::parse(text).map(Grace::hours);
    assert_eq!(hours("12h"), Some(12));
    assert_eq!(hours("5d"), Some(120));
    assert_eq!(hours("2w"), Some(336));
    assert_eq!(hours("0d"), Some(0));
    assert_eq!(hours("0h"), Some(0));
    assert_eq!(hours(" 3d\t"), Some(72));
    assert_eq!(hours("366d"), Some(8784));
    assert_eq!(hours("8784h"), Some(8784));
    assert_eq!(hours("52w"), Some(8736));
    // One `|` between each refused text: the first is the empty text.
    let refused = "| |d|h|5|30m|1m|-1d|+1d|1.5d|1,5d|5 d|5D|5dd|1d2h|d5|367d|8785h|53w|4294967296h|\
                   99999999999999999999d|١d|5d!|five days|5days";
    for junk in refused.split('|') {
        assert_eq!(Grace::parse(junk), None, "{junk:?}");
    }
    assert!(Grace::default().is_zero() && Grace::parse("0w").unwrap().is_zero());
    assert!(!Grace::parse("1h").unwrap().is_zero());
}

#[test]
fn grace_text_is_canonical_and_reads_back() {
    let text = |text: &str| Grace::parse(text).unwrap().text();
    assert_eq!(text("0h"), "0d");
    assert_eq!(text("12h"), "12h");
    assert_eq!(text("24h"), "1d");
    assert_eq!(text("7d"), "1w");
    assert_eq!(text("14d"), "2w");
    assert_eq!(text("180h"), "180h");
    assert_eq!(text("10d"), "10d");
    assert_eq!(Grace::default().to_string(), "0d");
    for hours in 0..=Grace::MAX_HOURS {
        let grace = Grace::from_hours(hours).unwrap();
        assert_eq!(Grace::parse(&grace.text()), Some(grace), "{hours}h");
        assert_eq!(Grace::parse(&format!("{hours}h")), Some(grace));
    }
    assert_eq!(Grace::from_hours(Grace::MAX_HOURS + 1), None);
}

#[test]
fn expect_names_read_back_and_serialize_lowercase() {
    for (name, expect) in Expect::NAMES.iter().zip(Expect::ALL) {
        assert_eq!(Expect::parse(name), Some(expect));
        assert_eq!(expect.as_str(), *name);
        assert_eq!(serde_json::to_string(&expect).unwrap(), format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<Expect>(&format!("\"{name}\"")).unwrap(), expect);
    }
    assert_eq!(Expect::parse("  weekly\n"), Some(Expect::Weekly));
    for junk in ["", "Daily", "yearly", "annually", "week", "daily weekly"] {
        assert_eq!(Expect::parse(junk), None, "{junk:?}");
    }
}

#[test]
fn days_until_rounds_up_and_stops_at_zero() {
    let now = utc("2026-07-01T12:00:00Z");
    let until = |delta: TimeDelta| days_until(now, now + delta);
    assert_eq!(until(TimeDelta::zero()), 0);
    assert_eq!(until(TimeDelta::days(-3)), 0);
    assert_eq!(until(TimeDelta::nanoseconds(1)), 1);
    assert_eq!(until(TimeDelta::seconds(1)), 1);
    assert_eq!(until(TimeDelta::days(1)), 1);
    assert_eq!(until(TimeDelta::days(1) + TimeDelta::nanoseconds(1)), 2);
    assert_eq!(until(TimeDelta::days(5) - TimeDelta::hours(1)), 5);
}
