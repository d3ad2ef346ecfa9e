//! Operations evidence: incidents, the alerts that detected them (and many
//! that did not need one), and daily vulnerability scans.

use super::super::clock::{AROUND_THE_CLOCK, DAY, HOUR, Hours, MINUTE, fmt_date, fmt_ts, workweek};
use super::super::config::{ALERTS, INCIDENTS, VULN_SCANS};
use super::super::csv::id;
use super::super::rng::Rng;
use super::super::{Ctx, DemoError, PlantedGap};
use super::{FileRows, scaled_name};

pub const INCIDENTS_PER_YEAR: u64 = 40;
pub const ALERTS_PER_YEAR: u64 = 3_000;

const SERVICES: [&str; 8] = ["api", "web", "billing", "auth-service", "data-pipeline", "mobile-bff", "search", "infra"];

const INCIDENT_TITLES: [&str; 8] = [
    "Elevated 5xx errors on {}",
    "Degraded latency in {}",
    "{} unavailable for some tenants",
    "Failed background jobs in {}",
    "Certificate expiry on {}",
    "Database failover affecting {}",
    "Partial outage of {} in eu-west",
    "Queue backlog delayed {} processing",
];

/// An incident as the alerts need it.
pub struct Incident {
    pub id: String,
    pub opened_at: i64,
    pub service: &'static str,
    pub sev1: bool,
    pub title: String,
    /// When its postmortem was completed, if it has one.
    pub postmortem_at: Option<i64>,
    pub resolved_at: i64,
}

/// `incidents`: every customer-impacting incident has a postmortem within 10
/// days of resolution with action items, except the planted one.
pub fn write_incidents(ctx: &Ctx) -> Result<(FileRows, Vec<Incident>, PlantedGap), DemoError> {
    let mut rng = ctx.rng(INCIDENTS.name);
    let mut out = ctx.csv(&INCIDENTS)?;
    let (first, last) = (ctx.clock.start + DAY, ctx.clock.end - 14 * DAY);
    let n = ctx.volume(INCIDENTS_PER_YEAR);
    let counts = ctx.clock.allocate(n - 1, |t| if t >= first && t < last { workweek(t, 3, 2) } else { 0 });
    let hours = Hours::new(&AROUND_THE_CLOCK);
    let mut opened: Vec<(i64, bool)> = Vec::with_capacity(n as usize);
    for (day, &c) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        opened.extend((0..c).map(|_| (t0 + hours.draw(&mut rng), false)));
    }
    opened.push((ctx.plan.incident_at, true));
    opened.sort_unstable();
    let mut incidents = Vec::with_capacity(opened.len());
    let mut gap = None;
    for (i, &(t, planted)) in opened.iter().enumerate() {
        let incident_id = id("INC-", i as u64 + 1, 4);
        let service = *rng.pick(&SERVICES);
        let roll = rng.below(100);
        let sev = if planted {
            2
        } else if roll < 10 {
            1
        } else if roll < 45 {
            2
        } else {
            3
        };
        let impact = planted || sev == 1 || (sev == 2 && rng.chance(7, 10)) || (sev == 3 && rng.chance(3, 20));
        let resolved = t + match sev {
            1 => rng.range(30 * MINUTE, 12 * HOUR),
            2 => rng.range(HOUR, 36 * HOUR),
            _ => rng.range(HOUR, 72 * HOUR),
        };
        let postmortem = !planted && (impact || sev == 1 || rng.chance(3, 10));
        let title = rng.pick(&INCIDENT_TITLES).replace("{}", service);
        out.str(&incident_id).ts(t).with(|b| {
            b.extend_from_slice(b"SEV");
            b.push(b'0' + sev as u8);
        });
        out.str(&title).boolean(impact).ts(resolved);
        let mut postmortem_at = None;
        if postmortem {
            let at = resolved + rng.range(DAY, 9 * DAY);
            postmortem_at = Some(at);
            out.str(&format!("https://wiki.northwind.example/postmortems/{incident_id}")).ts(at).uint(1 + rng.below(8));
        } else {
            out.null().null().uint(0);
        }
        out.end()?;
        if planted {
            gap = Some(PlantedGap {
                kind: "missing-postmortem",
                source: INCIDENTS.name,
                key: incident_id.clone(),
                description: format!(
                    "{incident_id} \"{title}\" (SEV2, customer-impacting) opened {} has no postmortem",
                    fmt_ts(t)
                ),
            });
        }
        incidents.push(Incident {
            id: incident_id,
            opened_at: t,
            service,
            sev1: sev == 1,
            title,
            postmortem_at,
            resolved_at: resolved,
        });
    }
    let gap = gap.unwrap_or_else(|| PlantedGap {
        kind: "missing-postmortem",
        source: INCIDENTS.name,
        key: String::new(),
        description: "not planted".to_owned(),
    });
    Ok((out.finish()?, incidents, gap))
}

const SECURITY_RULES: [&str; 4] = [
    "security.guardduty-finding",
    "security.impossible-travel",
    "security.failed-login-spike",
    "security.root-account-use",
];
const OPS_RULES: [&str; 6] = [
    "ops.high-error-rate",
    "ops.latency-p99",
    "ops.disk-usage",
    "ops.queue-backlog",
    "ops.cert-expiry",
    "ops.pod-crashloop",
];

/// One alert before it is written; `incident` indexes the incident list.
struct Alert {
    at: i64,
    incident: Option<usize>,
}

/// `alerts`: one alert per incident (fired minutes before it was opened) and
/// the rest unlinked. P1/P2 alerts are acknowledged within 30 minutes and
/// security alerts within 4 hours; lower priorities may be acknowledged late
/// or never.
pub fn write_alerts(ctx: &Ctx, incidents: &[Incident]) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(ALERTS.name);
    let mut out = ctx.csv(&ALERTS)?;
    let p = &ctx.people;
    let responders: Vec<u32> = p.sre.iter().chain(&p.security).copied().collect();
    let total = ctx.volume(ALERTS_PER_YEAR);
    let unlinked = total.saturating_sub(incidents.len() as u64);
    let counts = ctx.clock.allocate(unlinked, |t| workweek(t, 5, 4));
    let hours = Hours::new(&AROUND_THE_CLOCK);
    let fired: Vec<i64> = incidents.iter().map(|i| i.opened_at - rng.range(MINUTE, 15 * MINUTE)).collect();
    let mut order: Vec<usize> = (0..fired.len()).collect();
    order.sort_unstable_by_key(|&i| (fired[i], i));
    let mut next_incident = 0usize;
    let mut day_alerts: Vec<Alert> = Vec::new();
    let mut seq = 0u64;
    for (day, &c) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        day_alerts.clear();
        day_alerts.extend((0..c).map(|_| Alert { at: t0 + hours.draw(&mut rng), incident: None }));
        while let Some(&i) = order.get(next_incident) {
            if fired[i] >= t0 + DAY {
                break;
            }
            day_alerts.push(Alert { at: fired[i], incident: Some(i) });
            next_incident += 1;
        }
        day_alerts.sort_unstable_by_key(|a| (a.at, a.incident));
        for a in &day_alerts {
            seq += 1;
            write_alert(ctx, &mut rng, &mut out, seq, a, incidents, &responders)?;
        }
    }
    out.finish()
}

fn write_alert(
    ctx: &Ctx,
    rng: &mut Rng,
    out: &mut super::super::csv::CsvOut,
    seq: u64,
    a: &Alert,
    incidents: &[Incident],
    responders: &[u32],
) -> Result<(), DemoError> {
    let p = &ctx.people;
    let linked = a.incident.and_then(|i| incidents.get(i));
    let (severity, rule, service) = match linked {
        Some(inc) => (if inc.sev1 { 1 } else { 1 + rng.below(2) }, *rng.pick(&OPS_RULES), inc.service),
        None => {
            let roll = rng.below(100);
            let sev = if roll < 2 {
                1
            } else if roll < 12 {
                2
            } else if roll < 50 {
                3
            } else {
                4
            };
            let security = rng.chance(3, 20);
            let rule = if security { *rng.pick(&SECURITY_RULES) } else { *rng.pick(&OPS_RULES) };
            (sev, rule, *rng.pick(&SERVICES))
        }
    };
    let security = rule.starts_with("security.");
    let ack_delay = if linked.is_some() {
        Some(rng.range(MINUTE, 10 * MINUTE))
    } else if severity <= 2 {
        Some(rng.range(MINUTE, 25 * MINUTE))
    } else if security {
        Some(rng.range(5 * MINUTE, 3 * HOUR))
    } else if severity == 3 {
        rng.chance(4, 5).then(|| rng.range(5 * MINUTE, 8 * HOUR))
    } else {
        rng.chance(1, 2).then(|| rng.range(10 * MINUTE, DAY))
    };
    // Required acknowledgements stay inside the window; optional late ones are dropped.
    let required = severity <= 2 || security;
    let ack = ack_delay.map(|d| a.at + d).and_then(|t| {
        if t < ctx.clock.end {
            Some(t)
        } else if required {
            Some(ctx.clock.end - 1)
        } else {
            None
        }
    });
    let acker = ack.map(|_| p.email(p.pick(rng, responders)));
    out.id("alt-", seq, 7)
        .ts(a.at)
        .with(|b| {
            b.push(b'P');
            b.push(b'0' + severity as u8);
        })
        .str(rule)
        .str(service)
        .opt_ts(ack)
        .opt_str(acker)
        .opt_str(linked.map(|i| i.id.as_str()));
    out.end()
}

const SCAN_TARGETS: [(&str, &str); 4] = [
    ("prod-cluster-us", "trivy"),
    ("prod-cluster-eu", "trivy"),
    ("corp-endpoints", "nessus"),
    ("ci-runners", "inspector"),
];

/// `vuln_scans`: one completed scan a night per target (targets = scale),
/// except one ISO week of the last full quarter, until collection silently
/// stopped 21 days before the as-of date.
pub fn write_vuln_scans(ctx: &Ctx) -> Result<(FileRows, PlantedGap), DemoError> {
    let mut rng = ctx.rng(VULN_SCANS.name);
    let mut out = ctx.csv(&VULN_SCANS)?;
    let names: Vec<&str> = SCAN_TARGETS.iter().map(|t| t.0).collect();
    let n_targets = ctx.opts.scale as usize;
    for day in 0..ctx.clock.days() {
        let t0 = ctx.clock.day_start(day);
        if t0 >= ctx.plan.vuln_stop {
            break;
        }
        if (ctx.plan.scan_gap.0..ctx.plan.scan_gap.1).contains(&t0) {
            continue;
        }
        let stamp = fmt_date(t0).replace('-', "");
        for i in 0..n_targets {
            let target = scaled_name(&names, i, "-");
            let scanner = SCAN_TARGETS[i % SCAN_TARGETS.len()].1;
            let t = t0 + 2 * HOUR + (i as i64 % 60) * MINUTE + rng.range(0, MINUTE);
            let critical = if rng.chance(1, 10) { 1 + rng.below(2) } else { 0 };
            out.str(&format!("scan-{stamp}-{target}"))
                .ts(t)
                .str(scanner)
                .str(&target)
                .uint(critical)
                .uint(rng.below(13))
                .uint(5 + rng.below(56))
                .str("completed");
            out.end()?;
        }
    }
    Ok((out.finish()?, ctx.plan.vuln_record(&ctx.clock)))
}
