//! Where the planted gaps go: fixed offsets into the last full quarter (and
//! the quarter before it), so every seed plants the same kinds of gap in the
//! same places and only the surrounding data changes.

use super::PlantedGap;
use super::clock::{Clock, DAY, HOUR, MINUTE, fmt_date};

/// Target instants for the planted gaps (unix seconds, UTC).
#[derive(Clone, Debug)]
pub struct Plan {
    /// The first production deploy at or after this instant has no approver.
    pub deploy_lfq: i64,
    pub deploy_prev: i64,
    /// The first PR created at or after this instant is approved by its author.
    pub pr_lfq: i64,
    pub pr_prev: i64,
    /// A termination at exactly this instant, access removed 9 days later.
    pub deprov_at: i64,
    /// A customer-impacting incident opened at exactly this instant, no postmortem.
    pub incident_at: i64,
    /// `[start, end)`: seven whole days without sign-in events.
    pub auth_gap: (i64, i64),
    /// No vulnerability scans at or after this instant (as_of - 21 days).
    pub vuln_stop: i64,
}

/// How long the planted late deprovisioning took.
pub const LATE_REMOVAL: i64 = 9 * DAY;

impl Plan {
    pub fn new(clock: &Clock) -> Plan {
        let (lfq, _) = clock.lfq;
        let (prev, _) = clock.prev_q;
        let gap_start = lfq + 14 * DAY;
        Plan {
            deploy_lfq: lfq + 41 * DAY + 10 * HOUR,
            deploy_prev: prev + 37 * DAY + 10 * HOUR,
            pr_lfq: lfq + 23 * DAY + 9 * HOUR,
            pr_prev: prev + 55 * DAY + 9 * HOUR,
            deprov_at: lfq + 50 * DAY + 17 * HOUR + 30 * MINUTE,
            incident_at: lfq + 62 * DAY + 14 * HOUR + 20 * MINUTE,
            auth_gap: (gap_start, gap_start + 7 * DAY),
            vuln_stop: clock.end - 21 * DAY,
        }
    }

    /// The auth-log gap as a planted gap (its key is the inclusive day range).
    pub fn auth_gap_record(&self) -> PlantedGap {
        let (a, b) = self.auth_gap;
        PlantedGap {
            kind: "coverage-gap",
            source: "idp_auth_log",
            key: format!("{}..{}", fmt_date(a), fmt_date(b - DAY)),
            description: format!(
                "No sign-in events for 7 days, {} to {} inclusive: the IdP log export failed silently",
                fmt_date(a),
                fmt_date(b - DAY)
            ),
        }
    }

    /// The stopped vulnerability scanner as a planted gap.
    pub fn vuln_record(&self, clock: &Clock) -> PlantedGap {
        PlantedGap {
            kind: "stale-source",
            source: "vuln_scans",
            key: format!("{}..{}", fmt_date(self.vuln_stop), fmt_date(clock.end - DAY)),
            description: format!(
                "Vulnerability scans stopped 21 days before the as-of date: none from {} on",
                fmt_date(self.vuln_stop)
            ),
        }
    }
}
