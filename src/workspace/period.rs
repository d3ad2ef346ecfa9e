//! Audit periods: `[start, end)` instants cut at local midnight in the
//! workspace's time zone. `2026-Q3` is 2026-07-01 to 2026-10-01.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error(
        "period `{0}`: expected a quarter (2026-Q3), a month (2026-07), a year (2026) or FROM..TO dates (2026-07-01..2026-10-01)"
    )]
    Syntax(String),
    #[error("period `{0}`: the end must be after the start")]
    Empty(String),
    #[error("period `{0}`: local midnight does not exist on that date in {1}")]
    NoMidnight(String, String),
}

crate::error::kind!(BadInput: PeriodError);

/// A half-open interval of time, with the label it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The first and the day after the last local date, for DATE columns.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

impl Period {
    pub fn parse(text: &str, tz: Tz) -> Result<Self, PeriodError> {
        let text = text.trim();
        let syntax = || PeriodError::Syntax(text.to_string());
        let (from, to) = if let Some((from, to)) = text.split_once("..") {
            let from = NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").map_err(|_| syntax())?;
            let to = NaiveDate::parse_from_str(to.trim(), "%Y-%m-%d").map_err(|_| syntax())?;
            (from, to)
        } else if let Some((year, quarter)) = text.split_once("-Q") {
            let year: i32 = year.parse().map_err(|_| syntax())?;
            let q: u32 = quarter.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(syntax)?;
            let from = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).ok_or_else(syntax)?;
            (from, add_months(from, 3).ok_or_else(syntax)?)
        } else if text.len() == 7 && text.as_bytes()[4] == b'-' {
            let from = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").map_err(|_| syntax())?;
            (from, add_months(from, 1).ok_or_else(syntax)?)
        } else if text.len() == 4 {
            let year: i32 = text.parse().map_err(|_| syntax())?;
            let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(syntax)?;
            (from, NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(syntax)?)
        } else {
            return Err(syntax());
        };
        if to <= from {
            return Err(PeriodError::Empty(text.to_string()));
        }
        Ok(Self {
            label: text.to_string(),
            start: local_midnight(from, tz, text)?,
            end: local_midnight(to, tz, text)?,
            start_date: from,
            end_date: to,
        })
    }

    /// A period as stored: its label and instants, with the local dates in
    /// `tz` (the day each instant falls on there).
    pub fn of_instants(label: String, start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Self {
        Self {
            label,
            start,
            end,
            start_date: start.with_timezone(&tz).date_naive(),
            end_date: end.with_timezone(&tz).date_naive(),
        }
    }

    /// The quarter containing `date`, as a label such as `2026-Q4`.
    pub fn quarter_label(date: NaiveDate) -> String {
        format!("{}-Q{}", date.year(), (date.month() - 1) / 3 + 1)
    }

    /// The last whole quarter before the one containing `today`.
    pub fn last_full_quarter(today: NaiveDate, tz: Tz) -> Result<Self, PeriodError> {
        let this_quarter = Self::parse(&Self::quarter_label(today), tz)?;
        Self::parse(&Self::quarter_label(this_quarter.start_date - chrono::Duration::days(1)), tz)
    }

    /// The local dates of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.start_date.iter_days().take_while(|d| *d < self.end_date)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} to {}, end exclusive)", self.label, self.start_date, self.end_date)
    }
}

fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(chrono::Months::new(months))
}

fn local_midnight(date: NaiveDate, tz: Tz, text: &str) -> Result<DateTime<Utc>, PeriodError> {
    let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(|| PeriodError::Syntax(text.to_string()))?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| PeriodError::NoMidnight(text.to_string(), tz.name().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_ends_exclusive_at_the_next_quarter() {
        let p = Period::parse("2026-Q3", chrono_tz::UTC).unwrap();
        assert_eq!(p.start.to_rfc3339(), "2026-07-01T00:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(p.days().count(), 92);
    }

    #[test]
    fn the_last_full_quarter_is_the_one_before_today_s() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let last = |d| Period::last_full_quarter(d, chrono_tz::UTC).unwrap().label;
        assert_eq!(last(day(2026, 11, 26)), "2026-Q3");
        assert_eq!(last(day(2026, 10, 1)), "2026-Q3");
        assert_eq!(last(day(2026, 1, 1)), "2025-Q4");
        assert_eq!(last(day(2026, 3, 31)), "2025-Q4");
    }

    #[test]
    fn quarters_are_cut_in_the_workspace_time_zone() {
        let p = Period::parse("2026-Q3", chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(p.start.to_rfc3339(), "2026-06-30T22:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-09-30T22:00:00+00:00");
    }

    #[test]
    fn ranges_months_years_and_errors() {
        let p = Period::parse("2026-07-01..2026-07-08", chrono_tz::UTC).unwrap();
        assert_eq!(p.days().count(), 7);
        assert_eq!(Period::parse("2026-02", chrono_tz::UTC).unwrap().days().count(), 28);
        assert_eq!(Period::parse("2025", chrono_tz::UTC).unwrap().days().count(), 365);
        assert!(matches!(Period::parse("2026-Q5", chrono_tz::UTC), Err(PeriodError::Syntax(_))));
        assert!(matches!(Period::parse("2026-07-08..2026-07-01", chrono_tz::UTC), Err(PeriodError::Empty(_))));
        assert_eq!(Period::quarter_label(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()), "2026-Q4");
    }
}
