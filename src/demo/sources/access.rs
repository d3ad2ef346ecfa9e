//! Access lifecycle evidence: provisioning requests, deprovisioning after
//! HR terminations, and quarterly user-access reviews.

use super::super::clock::{DAY, HOUR, Hours, MINUTE, OFFICE, fmt_ts, quarter_label, quarter_start_of_day, workweek};
use super::super::config::{ACCESS_REVIEWS, DEPROVISIONING, PROVISIONING};
use super::super::plan::{LATE_REMOVAL, UNREVIEWED};
use super::super::{Ctx, DemoError, PlantedGap};
use super::{FileRows, daily_events, scaled_name};

/// Access grants per year at scale 1.
pub const PROVISIONING_PER_YEAR: u64 = 600;

/// Systems access is requested for, and the roles each offers.
pub const SYSTEMS: [(&str, &[&str]); 10] = [
    ("aws-prod", &["readonly", "developer", "admin"]),
    ("aws-staging", &["developer", "admin"]),
    ("github", &["member", "maintainer"]),
    ("google-workspace", &["user"]),
    ("okta", &["user", "app-admin"]),
    ("datadog", &["viewer", "editor"]),
    ("pagerduty", &["responder", "manager"]),
    ("salesforce", &["sales-user", "admin"]),
    ("snowflake", &["analyst", "engineer"]),
    ("jira", &["user", "project-admin"]),
];

/// `provisioning`: every grant has a ticket and a manager's approval (never
/// the requester's own) given before access was granted.
pub fn write_provisioning(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(PROVISIONING.name);
    let mut out = ctx.csv(&PROVISIONING)?;
    let last = ctx.clock.end - 3 * DAY;
    let counts =
        ctx.clock.allocate(ctx.volume(PROVISIONING_PER_YEAR), |t| if t < last { workweek(t, 10, 1) } else { 0 });
    let p = &ctx.people;
    let mut seq = 0u64;
    daily_events(ctx, &mut rng, &counts, &Hours::new(&OFFICE), |rng, t| {
        seq += 1;
        let user = p.anyone(rng);
        let (system, roles) = rng.pick(&SYSTEMS);
        let role = rng.pick(roles);
        let approver = p.pick_other(rng, &p.managers, user);
        let approved = t + rng.range(10 * MINUTE, 30 * HOUR);
        let granted = approved + rng.range(2 * MINUTE, 8 * HOUR);
        out.id("REQ-", seq, 6)
            .ts(t)
            .str(p.email(user))
            .str(system)
            .str(role)
            .id("IT-", rng.below(90_000) + 10_000, 5)
            .str(p.email(approver))
            .ts(approved)
            .ts(granted);
        out.end()
    })?;
    out.finish()
}

/// `deprovisioning`: one per leaver; access removed within a day of the HR
/// termination, except the planted one (9 days) in the last full quarter.
pub fn write_deprovisioning(ctx: &Ctx) -> Result<(FileRows, PlantedGap), DemoError> {
    let mut rng = ctx.rng(DEPROVISIONING.name);
    let mut out = ctx.csv(&DEPROVISIONING)?;
    let leavers = &ctx.people.leavers;
    let last = ctx.clock.end - 2 * DAY;
    let counts =
        ctx.clock.allocate(leavers.len().saturating_sub(1) as u64, |t| if t < last { workweek(t, 10, 0) } else { 0 });
    // (termination instant, planted?) for every leaver, in time order.
    let mut events: Vec<(i64, bool)> = Vec::with_capacity(leavers.len());
    for (day, &n) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        events.extend((0..n).map(|_| (t0 + rng.range(15 * HOUR, 19 * HOUR), false)));
    }
    events.push((ctx.plan.deprov_at, true));
    events.sort_unstable();
    let mut planted = None;
    for (i, (&(t, late), email)) in events.iter().zip(leavers).enumerate() {
        let request_id = super::super::csv::id("OFF-", i as u64 + 1, 6);
        let removed = if late { t + LATE_REMOVAL } else { t + rng.range(5 * MINUTE, 20 * HOUR) };
        let k = 3 + rng.index(4);
        let start = rng.index(SYSTEMS.len());
        let systems: Vec<&str> = (0..k).map(|j| SYSTEMS[(start + j) % SYSTEMS.len()].0).collect();
        out.str(&request_id).str(email).ts(t).ts(removed).str(&systems.join(",")).id(
            "HR-",
            rng.below(90_000) + 10_000,
            5,
        );
        out.end()?;
        if late {
            planted = Some(PlantedGap {
                kind: "late-deprovisioning",
                source: DEPROVISIONING.name,
                key: request_id,
                description: format!(
                    "{email} was terminated at {} but access was removed only at {}, 9 days later",
                    fmt_ts(t),
                    fmt_ts(removed)
                ),
            });
        }
    }
    let file = out.finish()?;
    let gap = planted.unwrap_or_else(|| PlantedGap {
        kind: "late-deprovisioning",
        source: DEPROVISIONING.name,
        key: String::new(),
        description: "not planted: no leavers".to_owned(),
    });
    Ok((file, gap))
}

/// Systems in scope of the quarterly access review (times the scale).
pub const REVIEWED: [&str; 8] =
    ["aws-prod", "github", "okta", "google-workspace", "snowflake", "salesforce", "datadog", "pagerduty"];

/// `access_reviews`: each in-scope system reviewed in the last weeks of each
/// of the four quarters up to the last full one (a quarter whose review
/// would start before the data window is left out), except the planted
/// [`UNREVIEWED`] in the last full quarter.
pub fn write_access_reviews(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(ACCESS_REVIEWS.name);
    let mut out = ctx.csv(&ACCESS_REVIEWS)?;
    let p = &ctx.people;
    let reviewers: Vec<u32> = p.managers.iter().chain(&p.security).copied().collect();
    let n_systems = REVIEWED.len() * ctx.opts.scale as usize;
    let mut q_end = ctx.clock.lfq.1;
    let mut quarters = Vec::new();
    for _ in 0..4 {
        let window_start = q_end - 24 * DAY;
        if window_start >= ctx.clock.start {
            quarters.push(q_end);
        }
        q_end = quarter_start_of_day(q_end.div_euclid(DAY) - 1);
    }
    quarters.reverse();
    for q_end in quarters {
        let label = quarter_label(q_end - DAY);
        for s in 0..n_systems {
            let system = scaled_name(&REVIEWED, s, "-");
            if q_end == ctx.clock.lfq.1 && REVIEWED[s % REVIEWED.len()] == UNREVIEWED {
                continue;
            }
            let started = q_end - 24 * DAY + rng.range(0, 3) * DAY + rng.range(9 * HOUR, 17 * HOUR);
            let completed = started + rng.range(2 * DAY, 12 * DAY);
            let users = 12 + rng.below(170);
            out.str(&format!("AR-{}-{system}", label.replace('-', "")))
                .str(&system)
                .str(&label)
                .str(p.email(p.pick(&mut rng, &reviewers)))
                .ts(started)
                .ts(completed)
                .uint(users)
                .uint(rng.below(users / 20 + 2))
                .id("SEC-", rng.below(90_000) + 10_000, 5);
            out.end()?;
        }
    }
    out.finish()
}
