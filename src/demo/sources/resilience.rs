//! Resilience and third-party evidence: nightly backups with monthly restore
//! tests, and the vendor review register.

use super::super::clock::{DAY, HOUR, civil_from_days, fmt_date, workweek};
use super::super::config::{BACKUPS, VENDOR_REVIEWS};
use super::super::rng::Selector;
use super::super::{Ctx, DemoError};
use super::{FileRows, scaled_name};

/// Failed nightly backups per year at scale 1 (each retried the same night).
pub const BACKUP_FAILURES_PER_YEAR: u64 = 12;

/// (system, size at the start of the window in tenths of a GB, growth per day in tenths)
pub const BACKUP_SYSTEMS: [(&str, u64, u64); 3] =
    [("postgres-orders", 1_180, 3), ("postgres-accounts", 420, 1), ("s3-documents", 8_650, 12)];

struct Run {
    at: i64,
    system: usize,
    failed: bool,
    retry: bool,
}

/// `backups`: every system backed up every night; a few runs fail and are
/// retried successfully within hours; the first successful backup of each
/// system each month is restore-tested the same day.
pub fn write_backups(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(BACKUPS.name);
    let mut out = ctx.csv(&BACKUPS)?;
    let n_systems = BACKUP_SYSTEMS.len() * ctx.opts.scale as usize;
    let names: Vec<&str> = BACKUP_SYSTEMS.iter().map(|s| s.0).collect();
    let systems: Vec<String> = (0..n_systems).map(|i| scaled_name(&names, i, "-")).collect();
    let days = ctx.clock.days();
    let mut failures = Selector::new(ctx.volume(BACKUP_FAILURES_PER_YEAR), (days * n_systems) as u64);
    let mut tested_month: Vec<Option<(i64, u32)>> = vec![None; n_systems];
    let mut runs: Vec<Run> = Vec::with_capacity(2 * n_systems);
    for day in 0..days {
        let t0 = ctx.clock.day_start(day);
        runs.clear();
        for system in 0..n_systems {
            let at = t0 + HOUR + rng.range(0, 2 * HOUR);
            let failed = failures.take(&mut rng);
            runs.push(Run { at, system, failed, retry: false });
            if failed {
                let retry_at = at + rng.range(HOUR, 3 * HOUR);
                runs.push(Run { at: retry_at, system, failed: false, retry: true });
            }
        }
        runs.sort_unstable_by_key(|r| (r.at, r.system, r.retry));
        let (y, m, _) = civil_from_days(t0.div_euclid(DAY));
        let stamp = fmt_date(t0).replace('-', "");
        for r in &runs {
            let (_, base, growth) = BACKUP_SYSTEMS[r.system % BACKUP_SYSTEMS.len()];
            let name = &systems[r.system];
            out.str(&format!("bk-{stamp}-{name}{}", if r.retry { "-retry" } else { "" }))
                .ts(r.at)
                .str(name)
                .str(if r.failed { "failed" } else { "success" });
            if r.failed {
                out.null().null();
            } else {
                let size = base + growth * day as u64 + rng.below(base / 50 + 1);
                out.tenths(size);
                if tested_month[r.system] != Some((y, m)) {
                    tested_month[r.system] = Some((y, m));
                    out.ts(r.at + rng.range(2 * HOUR, 6 * HOUR));
                } else {
                    out.null();
                }
            }
            out.end()?;
        }
    }
    out.finish()
}

/// (vendor, tier)
const VENDORS: [(&str, &str); 20] = [
    ("Cumulus Compute", "critical"),
    ("Ledgerly Payments", "critical"),
    ("Stratus Object Storage", "critical"),
    ("Keystone Identity", "critical"),
    ("Brightmail Delivery", "high"),
    ("Pagewise On-Call", "high"),
    ("Logbook Observability", "high"),
    ("Harbor Source Hosting", "high"),
    ("Quillstack Support Desk", "high"),
    ("Northstar CRM", "medium"),
    ("Tessera Data Warehouse", "high"),
    ("Signal Lane Chat", "medium"),
    ("Marlin Video", "medium"),
    ("Parcel Docs", "medium"),
    ("Orbit Analytics", "medium"),
    ("Foxglove Payroll", "high"),
    ("Lantern Background Checks", "medium"),
    ("Copperleaf Expenses", "low"),
    ("Driftwood Swag", "low"),
    ("Pebble Office Snacks", "low"),
];

/// `vendor_reviews`: each vendor reviewed once in the year by the security
/// team; critical and high vendors always supplied a SOC 2 report; the
/// next review is due a year later.
pub fn write_vendor_reviews(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(VENDOR_REVIEWS.name);
    let mut out = ctx.csv(&VENDOR_REVIEWS)?;
    let p = &ctx.people;
    let names: Vec<&str> = VENDORS.iter().map(|v| v.0).collect();
    let last = ctx.clock.end - 2 * DAY;
    for i in 0..VENDORS.len() * ctx.opts.scale as usize {
        let (_, tier) = VENDORS[i % VENDORS.len()];
        let vendor = scaled_name(&names, i, " ");
        // A weekday in the window, at office hours.
        let mut t = ctx.clock.start + rng.range(0, (last - ctx.clock.start) / DAY) * DAY;
        while workweek(t, 1, 0) == 0 {
            t += DAY;
        }
        let t = t + rng.range(9 * HOUR, 17 * HOUR);
        let soc2 = matches!(tier, "critical" | "high") || rng.chance(1, 2);
        out.id("VEN-", i as u64 + 1, 3)
            .str(&vendor)
            .str(tier)
            .ts(t)
            .boolean(soc2)
            .date(t + 365 * DAY)
            .str(p.email(p.pick(&mut rng, &p.security)));
        out.end()?;
    }
    out.finish()
}
