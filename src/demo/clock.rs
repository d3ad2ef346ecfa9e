//! Integer calendar arithmetic for the data window (UTC, seconds since the
//! Unix epoch) and fast timestamp formatting. No floating point, no wall clock.

use chrono::{Datelike, NaiveDate};

use super::rng::{Rng, cumulative};

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;
/// Length of the data window in days.
pub const WINDOW_DAYS: i64 = 365;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Monday = 0 … Sunday = 6 for a timestamp.
pub fn weekday(t: i64) -> i64 {
    (t.div_euclid(DAY) + 3).rem_euclid(7)
}

/// Start (unix seconds) of the calendar quarter containing day number `z`.
pub fn quarter_start_of_day(z: i64) -> i64 {
    let (y, m, _) = civil_from_days(z);
    let qm = (m - 1) / 3 * 3 + 1;
    days_from_civil(y, qm, 1) * DAY
}

/// "2026-Q3" for a timestamp.
pub fn quarter_label(t: i64) -> String {
    let (y, m, _) = civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-Q{}", (m - 1) / 3 + 1)
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

fn date_bytes(z: i64) -> [u8; 10] {
    let (y, m, d) = civil_from_days(z);
    let y = y.clamp(0, 9999) as u32;
    let mut v = Vec::with_capacity(10);
    push2(&mut v, y / 100);
    push2(&mut v, y % 100);
    v.push(b'-');
    push2(&mut v, m);
    v.push(b'-');
    push2(&mut v, d);
    let mut out = [0u8; 10];
    out.copy_from_slice(&v);
    out
}

/// `YYYY-MM-DD HH:MM:SS` for any timestamp (slow path; see [`Clock::push_ts`]).
pub fn fmt_ts(t: i64) -> String {
    let mut v = Vec::with_capacity(19);
    push_ts_slow(&mut v, t);
    String::from_utf8_lossy(&v).into_owned()
}

/// `YYYY-MM-DD` for a timestamp's day.
pub fn fmt_date(t: i64) -> String {
    String::from_utf8_lossy(&date_bytes(t.div_euclid(DAY))).into_owned()
}

fn push_time(buf: &mut Vec<u8>, secs_of_day: i64) {
    let s = secs_of_day as u32;
    push2(buf, s / 3600);
    buf.push(b':');
    push2(buf, s / 60 % 60);
    buf.push(b':');
    push2(buf, s % 60);
}

fn push_ts_slow(buf: &mut Vec<u8>, t: i64) {
    buf.extend_from_slice(&date_bytes(t.div_euclid(DAY)));
    buf.push(b' ');
    push_time(buf, t.rem_euclid(DAY));
}

/// The data window `[start, end)`, the quarters that matter for planting
/// gaps, and a cache of formatted dates for the window's days.
#[derive(Clone, Debug)]
pub struct Clock {
    /// as_of - 365 days, 00:00 UTC.
    pub start: i64,
    /// as_of, 00:00 UTC (exclusive).
    pub end: i64,
    /// The last full calendar quarter before the one containing as_of.
    pub lfq: (i64, i64),
    /// The quarter before `lfq`.
    pub prev_q: (i64, i64),
    dates: Vec<[u8; 10]>,
}

impl Clock {
    /// `None` when as_of lies outside years 1971..=9998.
    pub fn new(as_of: NaiveDate) -> Option<Clock> {
        if !(1971..=9998).contains(&as_of.year()) {
            return None;
        }
        let end_day = days_from_civil(i64::from(as_of.year()), as_of.month(), as_of.day());
        let start_day = end_day - WINDOW_DAYS;
        let cur_q = quarter_start_of_day(end_day);
        let lfq_start = quarter_start_of_day(cur_q.div_euclid(DAY) - 1);
        let prev_start = quarter_start_of_day(lfq_start.div_euclid(DAY) - 1);
        let dates = (start_day..end_day).map(date_bytes).collect();
        Some(Clock {
            start: start_day * DAY,
            end: end_day * DAY,
            lfq: (lfq_start, cur_q),
            prev_q: (prev_start, lfq_start),
            dates,
        })
    }

    /// Number of days in the window.
    pub fn days(&self) -> usize {
        self.dates.len()
    }

    /// Unix seconds of the window's day `i` at 00:00.
    pub fn day_start(&self, i: usize) -> i64 {
        self.start + i as i64 * DAY
    }

    /// Window day index of a timestamp (may be out of range).
    pub fn day_index(&self, t: i64) -> i64 {
        (t - self.start).div_euclid(DAY)
    }

    /// Append `YYYY-MM-DD HH:MM:SS`.
    #[inline]
    pub fn push_ts(&self, buf: &mut Vec<u8>, t: i64) {
        let i = self.day_index(t);
        match usize::try_from(i).ok().and_then(|i| self.dates.get(i)) {
            Some(d) => {
                buf.extend_from_slice(d);
                buf.push(b' ');
                push_time(buf, t.rem_euclid(DAY));
            }
            None => push_ts_slow(buf, t),
        }
    }

    /// Append `YYYY-MM-DD` of a timestamp's day.
    pub fn push_date(&self, buf: &mut Vec<u8>, t: i64) {
        buf.extend_from_slice(&date_bytes(t.div_euclid(DAY)));
    }

    /// Split `total` events over the window's days in proportion to
    /// `weight(day_start)`; exact total, linear in `total`.
    pub fn allocate(&self, total: u64, weight: impl Fn(i64) -> u64) -> Vec<u64> {
        let w: Vec<u64> = (0..self.days()).map(|i| weight(self.day_start(i))).collect();
        let sum: u128 = w.iter().map(|&x| u128::from(x)).sum();
        if sum == 0 {
            return vec![0; w.len()];
        }
        let mut acc: u128 = 0;
        let mut prev: u128 = 0;
        w.iter()
            .map(|&x| {
                acc += u128::from(x);
                let c = u128::from(total) * acc / sum;
                let n = c - prev;
                prev = c;
                n as u64
            })
            .collect()
    }
}

/// Hour-of-day profiles (UTC; Northwind works European and US east hours).
pub struct Hours {
    cum: Vec<u32>,
}

/// Office hours, busy 08:00–18:00.
pub const OFFICE: [u32; 24] = [2, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 17, 14, 16, 18, 18, 16, 12, 8, 6, 5, 4, 3, 2];
/// Engineering work: like office hours, a little later.
pub const ENGINEERING: [u32; 24] = [1, 1, 0, 0, 0, 1, 2, 4, 9, 14, 16, 16, 12, 15, 17, 17, 15, 12, 8, 5, 3, 2, 2, 1];
/// Machines and alerts: flat with a bump in the day.
pub const AROUND_THE_CLOCK: [u32; 24] = [6, 5, 5, 5, 5, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 7, 7, 7, 6, 6];

impl Hours {
    pub fn new(weights: &[u32; 24]) -> Hours {
        Hours { cum: cumulative(weights) }
    }

    /// Seconds into the day: an hour from the profile, minute and second uniform.
    #[inline]
    pub fn draw(&self, rng: &mut Rng) -> i64 {
        let h = rng.weighted(&self.cum) as i64;
        h * HOUR + rng.range(0, HOUR)
    }
}

/// Day weight: `weekday` Monday to Friday, `weekend` Saturday and Sunday.
pub fn workweek(t: i64, weekday_w: u64, weekend_w: u64) -> u64 {
    if weekday(t) < 5 { weekday_w } else { weekend_w }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for z in [-1, 0, 1, 11_016, 20_000, 20_783, 60_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(fmt_ts(days_from_civil(2026, 11, 26) * DAY + 3723), "2026-11-26 01:02:03");
        assert_eq!(weekday(days_from_civil(2026, 11, 26) * DAY), 3); // a Thursday
    }

    #[test]
    fn quarters() {
        let c = Clock::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).unwrap();
        assert_eq!(fmt_ts(c.lfq.0), "2026-07-01 00:00:00");
        assert_eq!(fmt_ts(c.lfq.1), "2026-10-01 00:00:00");
        assert_eq!(fmt_ts(c.prev_q.0), "2026-04-01 00:00:00");
        assert_eq!(fmt_ts(c.start), "2025-11-26 00:00:00");
        assert_eq!(quarter_label(c.lfq.0), "2026-Q3");
        let c = Clock::new(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(quarter_label(c.lfq.0), "2025-Q4");
        assert_eq!(quarter_label(c.prev_q.0), "2025-Q3");
    }

    #[test]
    fn allocation_is_exact() {
        let c = Clock::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).unwrap();
        let v = c.allocate(100_000, |t| workweek(t, 10, 3));
        assert_eq!(v.iter().sum::<u64>(), 100_000);
    }
}
