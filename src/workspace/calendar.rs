//! The calendar of expected occurrences: the slots (days, ISO weeks, months,
//! quarters, years) in which a periodic control must leave evidence, and the
//! instants each slot's evidence may fall in. Pure code: local dates in the
//! workspace's time zone, turned into UTC instants only at the end.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// How often a control must leave evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Annual,
}

impl Expect {
    /// The names a mapping may write, shortest slot first.
    pub const NAMES: &'static [&'static str] = &["daily", "weekly", "monthly", "quarterly", "annual"];
    const ALL: [Self; 5] = [Self::Daily, Self::Weekly, Self::Monthly, Self::Quarterly, Self::Annual];

    /// One of [`Self::NAMES`], blanks around it ignored; case matters.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annual => "annual",
        }
    }

    /// The slot containing a local date. Weeks are ISO weeks: they start on
    /// Monday and belong to the year of their Thursday (`2020-W53` runs
    /// 2020-12-28 to 2021-01-04).
    pub fn slot_of(self, date: NaiveDate) -> Slot {
        // The fallbacks below are reached only at the ends of chrono's
        // calendar (year ±262 143), where a slot is cut short.
        match self {
            Self::Daily => Slot {
                label: format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
                start: date,
                end: date.succ_opt().unwrap_or(NaiveDate::MAX),
            },
            Self::Weekly => {
                let back = u64::from(date.weekday().num_days_from_monday());
                let start = date.checked_sub_days(Days::new(back)).unwrap_or(NaiveDate::MIN);
                Slot {
                    label: iso_week_label(start),
                    start,
                    end: start.checked_add_days(Days::new(7)).unwrap_or(NaiveDate::MAX),
                }
            }
            Self::Monthly => {
                let start = date.with_day(1).unwrap_or(date);
                Slot { label: format!("{:04}-{:02}", date.year(), date.month()), start, end: months_after(start, 1) }
            }
            Self::Quarterly => {
                let quarter = date.month0() / 3;
                let start = date.with_day(1).and_then(|d| d.with_month0(3 * quarter)).unwrap_or(date);
                Slot { label: format!("{:04}-Q{}", date.year(), quarter + 1), start, end: months_after(start, 3) }
            }
            Self::Annual => {
                let start = date.with_ordinal(1).unwrap_or(date);
                Slot { label: format!("{:04}", date.year()), start, end: months_after(start, 12) }
            }
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `2026-W27` for the week starting on `monday`: the ISO year and week are
/// those of the week's Thursday.
fn iso_week_label(monday: NaiveDate) -> String {
    let thursday = monday.checked_add_days(Days::new(3)).unwrap_or(monday);
    format!("{:04}-W{:02}", thursday.year(), thursday.ordinal0() / 7 + 1)
}

fn months_after(first: NaiveDate, months: u32) -> NaiveDate {
    first.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// How late an occurrence may land after its slot ends: whole hours, days or
/// weeks of local wall-clock time. "0d" is allowed (no grace); default is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grace {
    hours: u32,
}

impl Grace {
    /// The longest grace: 366 days.
    pub const MAX_HOURS: u32 = 366 * 24;

    /// A grace of so many hours, if it is at most [`Self::MAX_HOURS`].
    pub fn from_hours(hours: u32) -> Option<Self> {
        (hours <= Self::MAX_HOURS).then_some(Self { hours })
    }

    /// `12h`, `5d`, `2w` or `0d`: ASCII digits and one lower-case unit,
    /// blanks around it ignored. Minutes, signs, fractions, combinations
    /// (`1d2h`) and anything past 366 days are refused.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (digits, unit) = if let Some(digits) = text.strip_suffix('h') {
            (digits, 1)
        } else if let Some(digits) = text.strip_suffix('d') {
            (digits, 24)
        } else if let Some(digits) = text.strip_suffix('w') {
            (digits, 7 * 24)
        } else {
            return None;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let count: u32 = digits.parse().ok()?;
        Self::from_hours(count.checked_mul(unit)?)
    }

    pub fn hours(self) -> u32 {
        self.hours
    }

    pub fn is_zero(self) -> bool {
        self.hours == 0
    }

    /// The canonical text: `2w` if whole weeks, else `5d` if whole days,
    /// else `12h`; no grace is `0d`. [`Self::parse`] reads it back.
    pub fn text(self) -> String {
        match self.hours {
            0 => "0d".to_string(),
            h if h % (7 * 24) == 0 => format!("{}w", h / (7 * 24)),
            h if h % 24 == 0 => format!("{}d", h / 24),
            h => format!("{h}h"),
        }
    }
}

impl fmt::Display for Grace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// One slot of the calendar: local dates [start, end).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Slot {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Slot {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// How many local dates the slot holds.
    pub fn days(&self) -> i64 {
        self.end.signed_duration_since(self.start).num_days()
    }
}

/// Every slot that overlaps the local dates [from, to), in order (the first
/// may start before `from`, the last may end after `to`). Empty when
/// to <= from.
pub fn slots(expect: Expect, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut cursor = from;
    while cursor < to {
        let slot = expect.slot_of(cursor);
        let next = slot.end;
        out.push(slot);
        if next <= cursor {
            break; // the end of chrono's calendar
        }
        cursor = next;
    }
    out
}

/// Local midnight of `date` in `tz` as a UTC instant: the first instant at
/// which the local date in `tz` is `date` or later. Where midnight is
/// ambiguous (clocks fall back across it), the earlier of the two. Where it
/// does not exist (a DST gap at midnight: America/Santiago, America/Havana,
/// Asia/Beirut some years), the first instant after the gap, 01:00 local for
/// a one-hour gap. Where the whole day was skipped (Pacific/Apia 2011-12-30),
/// the first instant of the next existing day, so the skipped day and the
/// next one share their midnight and the skipped day's slot holds no instant.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    at_wall_clock(date.and_time(NaiveTime::MIN), tz)
}

/// The instant a local wall-clock time names in `tz`: the one instant if it
/// occurs once, the earlier if it occurs twice (clocks fell back), and if the
/// clocks jumped over it (a DST gap), the instant they jumped, when the wall
/// clock first reads a time after it.
pub fn at_wall_clock(wall: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => after_gap(wall, tz),
    }
}

/// The first instant at which the wall clock in `tz` reads `wall` or later,
/// for a `wall` inside a gap: found by bisecting, to the second (the tz
/// database's transitions fall on whole seconds).
fn after_gap(wall: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    // Every offset in the tz database lies within ±16 hours (Manila's and
    // Sitka's mean solar times are the extremes), so 17 hours either side of
    // `wall` read as UTC, the wall clock reads before and after `wall`.
    const REACH: i64 = 17 * 3600;
    let reads_before =
        |second: i64| DateTime::from_timestamp(second, 0).is_some_and(|t| t.with_timezone(&tz).naive_local() < wall);
    let guess = wall.and_utc().timestamp();
    let (mut before, mut after) = (guess.saturating_sub(REACH), guess.saturating_add(REACH));
    while after - before > 1 {
        let middle = before + (after - before) / 2;
        if reads_before(middle) {
            before = middle;
        } else {
            after = middle;
        }
    }
    DateTime::from_timestamp(after, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The instants a slot's occurrence may fall in: [local midnight of start,
/// local wall-clock (midnight of end + grace hours)), as UTC. The grace is
/// added to the local wall-clock time (5d after a slot ending 2026-10-01 is
/// 2026-10-06 00:00 local, whatever DST does in between); both ends are read
/// as [`at_wall_clock`] reads them, so a time inside a DST gap moves forward
/// past it and an ambiguous one is the earlier. The window is empty only for
/// a day the zone skipped, with no grace.
pub fn window(slot: &Slot, grace: Grace, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = slot
        .end
        .and_time(NaiveTime::MIN)
        .checked_add_signed(TimeDelta::hours(i64::from(grace.hours)))
        .unwrap_or(NaiveDateTime::MAX);
    (local_midnight(slot.start, tz), at_wall_clock(end, tz))
}

/// Whole days of 24 hours from `now` until an instant, rounded up: 1 for
/// anything up to a day away; 0 if it is now or past.
pub fn days_until(now: DateTime<Utc>, until: DateTime<Utc>) -> i64 {
    const DAY: i64 = 24 * 3600;
    let left = until.signed_duration_since(now);
    if left <= TimeDelta::zero() {
        return 0;
    }
    let seconds = left.num_seconds() + i64::from(left.subsec_nanos() > 0);
    (seconds + DAY - 1) / DAY
}

#[cfg(test)]
mod tests;
