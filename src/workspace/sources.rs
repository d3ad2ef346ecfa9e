//! The source inventory: rows, newest timestamp, freshness and the last run,
//! read from the statistics kept at ingest — opening never scans evidence.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use super::config::SourceConfig;
use super::coverage;
use super::period::Period;
use super::{Workspace, WorkspaceError, optional};

/// Abandoned = stale for this long past the source's window.
pub const ABANDONED_AFTER: Duration = Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    Fresh,
    Stale,
    Abandoned,
    Empty,
    NeverLoaded,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Stale => "stale",
            Self::Abandoned => "abandoned",
            Self::Empty => "empty",
            Self::NeverLoaded => "never loaded",
        }
    }

    pub fn of(rows: Option<u64>, newest: Option<NaiveDateTime>, window: Duration, now: DateTime<Utc>) -> Self {
        match (rows, newest) {
            (None, _) => Self::NeverLoaded,
            (Some(0), _) | (Some(_), None) => Self::Empty,
            (Some(_), Some(newest)) => {
                let age = now.naive_utc() - newest;
                if age <= window {
                    Self::Fresh
                } else if age <= window + ABANDONED_AFTER {
                    Self::Stale
                } else {
                    Self::Abandoned
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct LastRun {
    pub run_id: i64,
    pub status: String,
    pub finished_at: String,
    pub rows: i64,
    pub error: Option<String>,
    /// Runs failed in a row up to the last one (0 when it succeeded), and
    /// when the first of them finished: a connector that keeps failing.
    pub failures: u64,
    pub failing_since: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SourceStatus {
    pub name: String,
    pub format: &'static str,
    pub fresh_within: String,
    pub rows: Option<u64>,
    pub oldest: Option<NaiveDateTime>,
    pub newest: Option<NaiveDateTime>,
    pub age: Option<Duration>,
    pub state: Freshness,
    pub last_run: Option<LastRun>,
    /// Local days of the requested period without rows (None: no period asked).
    pub missing_days: Option<Vec<NaiveDate>>,
}

/// Every declared source's status at `now`, with coverage for `period`.
pub fn source_statuses(
    ws: &Workspace,
    period: Option<&Period>,
    now: DateTime<Utc>,
) -> Result<Vec<SourceStatus>, WorkspaceError> {
    let today = now.with_timezone(&ws.config.timezone).date_naive();
    ws.config
        .sources
        .iter()
        .map(|source| {
            let mut status = status_of(ws, source, now)?;
            if let Some(period) = period {
                let daily = coverage::daily_rows(&ws.conn, &source.name, period, ws.config.timezone)?;
                status.missing_days = Some(coverage::missing_days(&daily, today, source.fresh_within));
            }
            Ok(status)
        })
        .collect()
}

fn status_of(ws: &Workspace, source: &SourceConfig, now: DateTime<Utc>) -> Result<SourceStatus, WorkspaceError> {
    let stats: Option<(i64, Option<String>, Option<String>)> = optional(ws.conn.query_row(
        "SELECT rows, CAST(oldest AS VARCHAR), CAST(newest AS VARCHAR) FROM qd.source_stats WHERE source = ?",
        [&source.name],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    ))?;
    let last_run = optional(ws.conn.query_row(
        "SELECT run_id, status, CAST(finished_at AS VARCHAR), rows, error FROM qd.ingest_runs
         WHERE source = ? ORDER BY run_id DESC LIMIT 1",
        [&source.name],
        |r| {
            Ok(LastRun {
                run_id: r.get(0)?,
                status: r.get(1)?,
                finished_at: r.get(2)?,
                rows: r.get(3)?,
                error: r.get(4)?,
                failures: 0,
                failing_since: None,
            })
        },
    ))?;
    let last_run = match last_run {
        Some(mut run) if run.status == "failed" => {
            let (failures, since): (u64, Option<String>) = ws.conn.query_row(
                "SELECT count(*), CAST(min(finished_at) AS VARCHAR) FROM qd.ingest_runs
                 WHERE source = ? AND status = 'failed' AND run_id > coalesce(
                     (SELECT max(run_id) FROM qd.ingest_runs WHERE source = ? AND status = 'ok'), 0)",
                [&source.name, &source.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            run.failures = failures;
            run.failing_since = since;
            Some(run)
        }
        other => other,
    };
    let rows = stats.as_ref().map(|(n, _, _)| (*n).max(0) as u64);
    let oldest = stats.as_ref().and_then(|(_, o, _)| o.as_deref()).and_then(parse_timestamp);
    let newest = stats.as_ref().and_then(|(_, _, n)| n.as_deref()).and_then(parse_timestamp);
    Ok(SourceStatus {
        name: source.name.clone(),
        format: source.format.as_str(),
        fresh_within: source.fresh_within_text.clone(),
        rows,
        oldest,
        newest,
        age: newest.map(|n| now.naive_utc() - n),
        state: Freshness::of(rows, newest, source.fresh_within, now),
        last_run,
        missing_days: None,
    })
}

pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()
}

/// `3d 4h`, `5h 12m`, `40s` — ages for people.
pub fn describe_age(age: Duration) -> String {
    let secs = age.num_seconds();
    if secs < 0 {
        return "in the future".to_string();
    }
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_states() {
        let now = "2026-11-26T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |s: &str| Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap());
        let w = Duration::days(2);
        assert_eq!(Freshness::of(None, None, w, now), Freshness::NeverLoaded);
        assert_eq!(Freshness::of(Some(0), None, w, now), Freshness::Empty);
        assert_eq!(Freshness::of(Some(5), at("2026-11-25 00:00:00"), w, now), Freshness::Fresh);
        assert_eq!(Freshness::of(Some(5), at("2026-11-05 00:00:00"), w, now), Freshness::Stale);
        assert_eq!(Freshness::of(Some(5), at("2026-10-01 00:00:00"), w, now), Freshness::Abandoned);
        assert_eq!(describe_age(Duration::hours(76)), "3d 4h");
    }
}
