//! Coverage: on which local days of a period a source has rows. A day with
//! none, in a source that should have some, is a finding waiting to happen.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use duckdb::Connection;

use super::period::Period;

/// Rows per local day of the period, from the per-15-minute counts kept at
/// ingest (no evidence table is scanned). Days without rows are present with 0.
pub fn daily_rows(
    conn: &Connection,
    source: &str,
    period: &Period,
    tz: Tz,
) -> duckdb::Result<BTreeMap<NaiveDate, u64>> {
    let mut days: BTreeMap<NaiveDate, u64> = period.days().map(|d| (d, 0)).collect();
    let mut stmt = conn.prepare(
        "SELECT CAST(bucket AS VARCHAR), sum(rows)::BIGINT FROM qd.source_buckets
         WHERE source = ? AND bucket >= CAST(? AS TIMESTAMP) AND bucket < CAST(? AS TIMESTAMP)
         GROUP BY bucket",
    )?;
    let start = period.start.naive_utc().to_string();
    let end = period.end.naive_utc().to_string();
    let rows =
        stmt.query_map([source, start.as_str(), end.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (bucket, count) = row?;
        if let Ok(utc) = NaiveDateTime::parse_from_str(&bucket, "%Y-%m-%d %H:%M:%S") {
            let local = DateTime::<Utc>::from_naive_utc_and_offset(utc, Utc).with_timezone(&tz).date_naive();
            if let Some(day) = days.get_mut(&local) {
                *day += count.max(0) as u64;
            }
        }
    }
    Ok(days)
}

/// The days of the period before `today` that lie in a stretch without rows
/// at least as long as the source's freshness window: a source fresh within
/// a day should have rows every day; one fresh within eight weeks, not.
pub fn missing_days(daily: &BTreeMap<NaiveDate, u64>, today: NaiveDate, window: chrono::Duration) -> Vec<NaiveDate> {
    let shortest = window.num_days().max(1) + i64::from(window.num_seconds() % 86_400 != 0 && window.num_days() > 0);
    let empty: Vec<NaiveDate> = daily.iter().filter(|(d, n)| **d < today && **n == 0).map(|(d, _)| *d).collect();
    ranges(&empty)
        .into_iter()
        .filter(|(a, b)| (*b - *a).num_days() + 1 >= shortest)
        .flat_map(|(a, b)| a.iter_days().take_while(move |d| *d <= b))
        .collect()
}

/// Consecutive days folded into inclusive ranges.
pub fn ranges(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &day in days {
        match out.last_mut() {
            Some((_, last)) if last.succ_opt() == Some(day) => *last = day,
            _ => out.push((day, day)),
        }
    }
    out
}

/// `2026-08-03..2026-08-09 (7d), 2026-09-01` — for tables.
pub fn describe_ranges(days: &[NaiveDate]) -> String {
    ranges(days)
        .iter()
        .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}..{b} ({}d)", (*b - *a).num_days() + 1) })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_gap_counts_when_it_is_as_long_as_the_freshness_window() {
        let mut daily: BTreeMap<NaiveDate, u64> = d("2026-07-01").iter_days().take(10).map(|d| (d, 1)).collect();
        for day in ["2026-07-02", "2026-07-04", "2026-07-05", "2026-07-06"] {
            daily.insert(d(day), 0);
        }
        let today = d("2026-08-01");
        assert_eq!(missing_days(&daily, today, chrono::Duration::days(1)).len(), 4);
        assert_eq!(missing_days(&daily, today, chrono::Duration::hours(12)).len(), 4);
        assert_eq!(
            missing_days(&daily, today, chrono::Duration::days(2)),
            [d("2026-07-04"), d("2026-07-05"), d("2026-07-06")]
        );
        assert!(missing_days(&daily, today, chrono::Duration::weeks(1)).is_empty());
        assert!(
            missing_days(&daily, d("2026-07-03"), chrono::Duration::days(1)).len() == 1,
            "days from today on are not gaps"
        );
    }

    #[test]
    fn folds_days_into_ranges() {
        let days = [d("2026-08-03"), d("2026-08-04"), d("2026-08-05"), d("2026-09-01")];
        assert_eq!(describe_ranges(&days), "2026-08-03..2026-08-05 (3d), 2026-09-01");
    }
}
