//! What time it is, for everything the workspace records: the wall clock,
//! or a fixed instant (tests, and `QUARTERDECK_NOW` for scripted runs), so
//! that nothing recorded or shown depends on the day a test happens to run.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The variable that fixes "now" for a whole process (RFC 3339, or a date).
pub const NOW_VAR: &str = "QUARTERDECK_NOW";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    Fixed(DateTime<Utc>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{NOW_VAR}=`{0}` is not a time: give RFC 3339 (2026-11-26T12:00:00Z) or a date (2026-11-26)")]
pub struct BadNow(pub String);

crate::error::kind!(BadInput: BadNow);

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }

    /// Now as DuckDB's TIMESTAMP text (UTC).
    pub fn now_text(&self) -> String {
        self.now().naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }

    /// `QUARTERDECK_NOW` when set, else the wall clock.
    pub fn from_env() -> Result<Self, BadNow> {
        match std::env::var(NOW_VAR) {
            Ok(text) if !text.trim().is_empty() => Self::parse(text.trim()),
            _ => Ok(Clock::System),
        }
    }

    pub fn parse(text: &str) -> Result<Self, BadNow> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Clock::Fixed(at.with_timezone(&Utc)));
        }
        if let Ok(at) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
            return Ok(Clock::Fixed(at.and_utc()));
        }
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => Ok(Clock::Fixed(day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())),
            Err(_) => Err(BadNow(text.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_reads_the_same_every_time() {
        let clock = Clock::parse("2026-12-31T23:59:59Z").unwrap();
        assert_eq!(clock.now_text(), "2026-12-31 23:59:59.000000");
        assert_eq!(Clock::parse("2026-02-28").unwrap().now_text(), "2026-02-28 12:00:00.000000");
        assert_eq!(Clock::parse("2026-03-29T01:30:00+01:00").unwrap().now_text(), "2026-03-29 00:30:00.000000");
        assert!(Clock::parse("yesterday").is_err());
    }
}
