//! Compiled only under #[cfg(test)] (see demo/mod.rs).
//! The controls' tests (controls/*.toml) restated in Rust over the generated
//! CSV files, with SQL's rule that a NULL result is not a pass. Used to prove
//! that the planted gaps are the only exceptions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::PlantedGap;
use super::sources::SELF_SERVICE_ACTIONS;
use super::testkit::{Row, Table, parse_ts};

const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

type Exceptions = BTreeSet<(&'static str, String)>;

fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

fn fmt_day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap().format("%Y-%m-%d").to_string()
}

/// `a <= b`, NULL if either side is.
fn le(a: Option<i64>, b: Option<i64>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a <= b)
}

fn ne(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

/// Run every test of one source-based spec: exceptions are rows in `pop`
/// for which any test is not true.
fn per_row<'a>(
    out: &mut Exceptions,
    id: &'static str,
    key: &str,
    rows: impl Iterator<Item = Row<'a>>,
    pass: impl Fn(&Row<'a>) -> bool,
) {
    for r in rows {
        if !pass(&r) {
            out.insert((id, r.key(key)));
        }
    }
}

/// Days from `first` to `last` (inclusive, day-truncated) with no entry in `seen`.
fn empty_days(out: &mut Exceptions, id: &'static str, first: i64, last: i64, seen: &BTreeSet<i64>) {
    let mut d = day_of(first);
    while d <= day_of(last) {
        if !seen.contains(&d) {
            out.insert((id, fmt_day(d)));
        }
        d += DAY;
    }
}

/// All (control, key) pairs for which some test fails.
pub fn exceptions(ws: &Path) -> Exceptions {
    let mut out = Exceptions::new();
    let auth = Table::load(ws, "idp_auth_log");
    per_row(&mut out, "AC-1", "event_id", auth.iter().filter(|r| r.s("outcome") == Some("success")), |r| {
        r.b("mfa") == Some(true)
    });
    let prov = Table::load(ws, "provisioning");
    per_row(&mut out, "AC-2", "request_id", prov.iter(), |r| {
        r.s("approver").is_some()
            && le(r.ts("approved_at"), r.ts("granted_at"))
            && ne(r.s("approver"), r.s("user_email"))
            && r.s("ticket").is_some()
    });
    let deprov = Table::load(ws, "deprovisioning");
    per_row(&mut out, "AC-3", "request_id", deprov.iter(), |r| {
        le(r.ts("access_removed_at"), r.ts("terminated_at").map(|t| t + DAY)) && r.s("ticket").is_some()
    });
    let reviews = Table::load(ws, "access_reviews");
    per_row(&mut out, "AC-4", "review_id", reviews.iter(), |r| {
        let label = r.ts("completed_at").map(|t| {
            let d = chrono::DateTime::from_timestamp(t, 0).unwrap();
            use chrono::Datelike;
            format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
        });
        r.ts("completed_at").is_some()
            && le(r.ts("completed_at"), r.ts("started_at").map(|t| t + 14 * DAY))
            && r.s("ticket").is_some()
            && r.n("users_reviewed").is_some_and(|n| n > 0.0)
            && label.as_deref() == r.s("quarter")
    });
    let iam = Table::load(ws, "iam_audit_log");
    let privileged = iam.iter().filter(|r| !SELF_SERVICE_ACTIONS.contains(&r.s("action").unwrap()));
    per_row(&mut out, "AC-5", "event_id", privileged, |r| {
        r.s("change_ticket").is_some() && ne(r.s("actor"), r.s("target"))
    });
    let auth_days: BTreeSet<i64> = auth.iter().map(|r| day_of(r.ts("ts").unwrap())).collect();
    if let (Some(&first), Some(&last)) = (auth_days.first(), auth_days.last()) {
        empty_days(&mut out, "AC-6", first, last, &auth_days);
    }

    let prs = Table::load(ws, "pull_requests");
    let deploys = Table::load(ws, "deploys");
    let prod = || deploys.iter().filter(|r| r.s("environment") == Some("production"));
    per_row(&mut out, "CHG-1", "deploy_id", prod(), |r| {
        r.s("approver").is_some() && ne(r.s("approver"), r.s("deployer"))
    });
    per_row(&mut out, "CHG-2", "pr_id", prs.iter().filter(|r| r.s("merged_at").is_some()), |r| {
        r.s("approver").is_some()
            && le(r.ts("approved_at"), r.ts("merged_at"))
            && ne(r.s("approver"), r.s("author"))
            && r.b("ci_passed") == Some(true)
    });
    let by_pr: BTreeMap<&str, Row> = prs.iter().map(|r| (r.s("pr_id").unwrap(), r)).collect();
    let joined = prod().filter(|d| d.s("pr_id").is_some_and(|p| by_pr.contains_key(p)));
    per_row(&mut out, "CHG-3", "deploy_id", joined, |d| {
        let p = by_pr[d.s("pr_id").unwrap_or_default()];
        le(p.ts("approved_at"), d.ts("deployed_at"))
            && le(p.ts("merged_at"), d.ts("deployed_at"))
            && ne(p.s("approver"), p.s("author"))
            && p.b("ci_passed") == Some(true)
    });

    let scans = Table::load(ws, "vuln_scans");
    let backups = Table::load(ws, "backups");
    let mut scan_days: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    for r in scans.iter() {
        let e = scan_days.entry(day_of(r.ts("scanned_at").unwrap())).or_default();
        e.0 += 1;
        e.1 += u32::from(r.s("status") == Some("completed"));
    }
    let newest_backup = backups.iter().map(|r| r.ts("started_at").unwrap()).max().unwrap();
    let good_scan_days: BTreeSet<i64> = scan_days.iter().filter(|(_, (n, c))| n == c).map(|(d, _)| *d).collect();
    if let Some(&first) = scan_days.keys().next() {
        empty_days(&mut out, "OPS-1", first, newest_backup, &good_scan_days);
    }
    let alerts = Table::load(ws, "alerts");
    let high = alerts.iter().filter(|r| matches!(r.s("severity"), Some("P1" | "P2")));
    per_row(&mut out, "OPS-2", "alert_id", high, |r| {
        r.s("acknowledged_by").is_some() && le(r.ts("acknowledged_at"), r.ts("fired_at").map(|t| t + 30 * MIN))
    });
    let security = alerts.iter().filter(|r| r.s("rule").unwrap().starts_with("security."));
    per_row(&mut out, "OPS-3", "alert_id", security, |r| {
        r.s("acknowledged_by").is_some() && le(r.ts("acknowledged_at"), r.ts("fired_at").map(|t| t + 4 * HOUR))
    });
    let incidents = Table::load(ws, "incidents");
    per_row(&mut out, "OPS-4", "incident_id", incidents.iter(), |r| {
        r.b("customer_impact") == Some(false)
            || (r.ts("postmortem_completed_at").is_some()
                && le(r.ts("postmortem_completed_at"), r.ts("resolved_at").map(|t| t + 10 * DAY))
                && r.n("action_items").is_some_and(|n| n > 0.0))
    });
    per_row(&mut out, "OPS-5", "incident_id", incidents.iter(), |r| {
        le(r.ts("opened_at").map(|t| t + 1), r.ts("resolved_at"))
            && (r.s("severity") != Some("SEV1") || le(r.ts("resolved_at"), r.ts("opened_at").map(|t| t + 12 * HOUR)))
    });
    let alert_of: BTreeMap<&str, i64> =
        alerts.iter().filter_map(|r| Some((r.s("incident_id")?, r.ts("fired_at")?))).collect();
    per_row(&mut out, "OPS-6", "incident_id", incidents.iter(), |r| {
        le(alert_of.get(r.s("incident_id").unwrap()).copied(), r.ts("opened_at"))
    });

    // RES-1/2/3: (system, bucket) → (successes, restore tests, min size of successes)
    for (id, bucket) in [("RES-1", DAY), ("RES-2", 0), ("RES-3", 7 * DAY)] {
        let mut groups: BTreeMap<(String, String), (u32, u32, f64)> = BTreeMap::new();
        for r in backups.iter() {
            let t = r.ts("started_at").unwrap();
            let b = match bucket {
                0 => fmt_day(t)[..7].to_owned(),
                DAY => fmt_day(t),
                // DuckDB's date_trunc('week') starts weeks on Monday; 1970-01-05 was one.
                _ => fmt_day((t - 4 * DAY).div_euclid(bucket) * bucket + 4 * DAY),
            };
            let g = groups.entry((r.key("system"), b)).or_insert((0, 0, f64::MAX));
            if r.s("status") == Some("success") {
                g.0 += 1;
                g.2 = g.2.min(r.n("size_gb").unwrap_or(0.0));
            }
            g.1 += u32::from(r.s("restore_tested_at").is_some());
        }
        for ((system, b), (ok, restores, min_size)) in groups {
            let pass = match id {
                "RES-1" => ok > 0,
                "RES-2" => restores > 0,
                _ => ok > 0 && min_size > 0.0,
            };
            if !pass {
                out.insert((id, format!("{system}|{b}")));
            }
        }
    }

    let vendors = Table::load(ws, "vendor_reviews");
    let due = |r: &Row| r.s("next_review_due").map(|d| parse_ts(&format!("{d} 00:00:00")));
    let critical = vendors.iter().filter(|r| matches!(r.s("tier"), Some("critical" | "high")));
    per_row(&mut out, "VEN-1", "vendor_id", critical, |r| {
        r.b("soc2_report_received") == Some(true) && le(due(r), r.ts("reviewed_at").map(|t| t + 366 * DAY))
    });
    per_row(&mut out, "VEN-2", "vendor_id", vendors.iter(), |r| {
        r.s("reviewer").is_some() && le(r.ts("reviewed_at").map(|t| t + 1), due(r))
    });
    out
}

/// What the planted gaps should make the controls report.
pub fn expected_exceptions(planted: &[PlantedGap]) -> Exceptions {
    let mut out = Exceptions::new();
    // The document gaps are in the register, not the CSV files: the
    // end-to-end tests run their controls' SQL (tests/cli/documents.rs).
    for g in planted.iter().filter(|g| g.source != crate::workspace::documents::SOURCE) {
        let control = match g.kind {
            "unapproved-deploy" => "CHG-1",
            "self-approved-pr" => "CHG-2",
            "late-deprovisioning" => "AC-3",
            "missing-postmortem" => "OPS-4",
            "stale-source" => "OPS-1",
            "coverage-gap" => "AC-6",
            "missed-scan-week" => "OPS-1",
            // No row to except: `systems` and the expected occurrences find
            // these (src/demo/tests_inventory.rs, tests/cli/demo_inventory.rs).
            "unknown-system" | "retired-but-active" | "missed-access-review" => continue,
            other => panic!("unknown kind {other}"),
        };
        match g.key.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (parse_ts(&format!("{a} 00:00:00")), parse_ts(&format!("{b} 00:00:00")));
                let mut d = a;
                while d <= b {
                    out.insert((control, fmt_day(d)));
                    d += DAY;
                }
            }
            None => {
                out.insert((control, g.key.clone()));
            }
        }
    }
    out
}

/// The row gaps sit in the last full quarter (2026-Q3 for as-of 2026-11-26)
/// and, for the two retested kinds, in the quarter before; the stale source
/// covers the 21 days before the as-of date; the auth gap is inside 2026-Q3.
pub fn check_planted_periods(ws: &Path, planted: &[PlantedGap]) {
    let q3 = (parse_ts("2026-07-01 00:00:00"), parse_ts("2026-10-01 00:00:00"));
    let q2 = (parse_ts("2026-04-01 00:00:00"), q3.0);
    let inside = |t: Option<i64>, q: (i64, i64)| t.is_some_and(|t| t >= q.0 && t < q.1);
    let find = |source: &str, key_col: &str, key: &str| {
        let t = Table::load(ws, source);
        let i = t.rows.iter().position(|r| r[t.col(key_col)].as_deref() == Some(key)).unwrap();
        (t, i)
    };
    let mut quarters = Vec::new();
    for g in planted.iter().filter(|g| g.source != crate::workspace::documents::SOURCE) {
        let (col, key_col, when) = match g.kind {
            "unapproved-deploy" => ("deployed_at", "deploy_id", vec!["deployed_at"]),
            "self-approved-pr" => ("merged_at", "pr_id", vec!["created_at", "approved_at", "merged_at"]),
            "late-deprovisioning" => ("terminated_at", "request_id", vec!["terminated_at", "access_removed_at"]),
            "missing-postmortem" => ("opened_at", "incident_id", vec!["opened_at", "resolved_at"]),
            "stale-source" => {
                assert_eq!(g.key, "2026-11-05..2026-11-25");
                continue;
            }
            "unknown-system" | "retired-but-active" | "missed-access-review" => continue,
            _ => {
                let (a, b) = g.key.split_once("..").unwrap();
                assert!(inside(Some(parse_ts(&format!("{a} 00:00:00"))), q3));
                assert!(inside(Some(parse_ts(&format!("{b} 23:59:59"))), q3));
                continue;
            }
        };
        let (t, i) = find(g.source, key_col, &g.key);
        let row = t.iter().nth(i).unwrap();
        let q = if inside(row.ts(col), q3) { q3 } else { q2 };
        for c in when {
            assert!(inside(row.ts(c), q), "{} {} {c} outside its quarter", g.kind, g.key);
        }
        quarters.push((g.kind, q == q3));
    }
    let in_q3 = quarters.iter().filter(|(_, q3)| *q3).count();
    assert_eq!(in_q3, 4, "{quarters:?}");
    assert_eq!(quarters.len(), 6);
}
