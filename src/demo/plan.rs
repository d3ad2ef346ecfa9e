//! Where the planted gaps go: fixed offsets into the last full quarter (and
//! the quarter before it), so every seed plants the same kinds of gap in the
//! same places and only the surrounding data changes.

use super::PlantedGap;
use super::clock::{Clock, DAY, HOUR, MINUTE, fmt_date, quarter_label, weekday};

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
    /// `[start, end)`: one whole ISO week of the last full quarter without a
    /// vulnerability scan (the Monday on or after day 56).
    pub scan_gap: (i64, i64),
    /// From this instant on, half of billing's production deploys ship
    /// [`NEW_SERVICE`], a service nobody added to the inventory.
    pub new_service_from: i64,
    /// The day [`RETIRED_APP`] was retired in the inventory (in the quarter
    /// before the last full one); its sign-ins go on.
    pub app_retired: i64,
}

/// The production service split out of billing and never inventoried.
pub const NEW_SERVICE: &str = "ledger-sync";
/// The app the inventory says was retired, still signed in to.
pub const RETIRED_APP: &str = "zoom";
/// The system whose access review of the last full quarter never happened
/// (at every scale: each copy of it).
pub const UNREVIEWED: &str = "snowflake";

/// How long the planted late deprovisioning took.
pub const LATE_REMOVAL: i64 = 9 * DAY;

impl Plan {
    pub fn new(clock: &Clock) -> Plan {
        let (lfq, _) = clock.lfq;
        let (prev, _) = clock.prev_q;
        let gap_start = lfq + 14 * DAY;
        let day56 = lfq + 56 * DAY;
        let monday = day56 + (7 - weekday(day56)) % 7 * DAY;
        Plan {
            deploy_lfq: lfq + 41 * DAY + 10 * HOUR,
            deploy_prev: prev + 37 * DAY + 10 * HOUR,
            pr_lfq: lfq + 23 * DAY + 9 * HOUR,
            pr_prev: prev + 55 * DAY + 9 * HOUR,
            deprov_at: lfq + 50 * DAY + 17 * HOUR + 30 * MINUTE,
            incident_at: lfq + 62 * DAY + 14 * HOUR + 20 * MINUTE,
            auth_gap: (gap_start, gap_start + 7 * DAY),
            vuln_stop: clock.end - 21 * DAY,
            scan_gap: (monday, monday + 7 * DAY),
            new_service_from: lfq + 45 * DAY,
            app_retired: prev + 60 * DAY,
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

    /// The inventory gaps, planted in systems.toml and the rows around it.
    pub fn inventory_records(&self, clock: &Clock) -> Vec<PlantedGap> {
        let (a, b) = self.scan_gap;
        let lfq = quarter_label(clock.lfq.0);
        vec![
            PlantedGap {
                kind: "unknown-system",
                source: "deploys",
                key: NEW_SERVICE.to_string(),
                description: format!(
                    "`{NEW_SERVICE}`, split out of billing, deploys to production from {} on but is not in systems.toml; nothing backs it up",
                    fmt_date(self.new_service_from)
                ),
            },
            PlantedGap {
                kind: "retired-but-active",
                source: "idp_auth_log",
                key: RETIRED_APP.to_string(),
                description: format!(
                    "`{RETIRED_APP}` was retired on {} but people still sign in to it",
                    fmt_date(self.app_retired)
                ),
            },
            PlantedGap {
                kind: "missed-access-review",
                source: "access_reviews",
                key: format!("{lfq} | {UNREVIEWED}"),
                description: format!(
                    "`{UNREVIEWED}` has no access review for {lfq}: the quarterly review did not happen"
                ),
            },
            PlantedGap {
                kind: "missed-scan-week",
                source: "vuln_scans",
                key: format!("{}..{}", fmt_date(a), fmt_date(b - DAY)),
                description: format!(
                    "No vulnerability scan in the ISO week {} to {}: the scanner was paused and nobody noticed",
                    fmt_date(a),
                    fmt_date(b - DAY)
                ),
            },
        ]
    }
}
