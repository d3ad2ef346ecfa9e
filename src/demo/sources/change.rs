//! Change-management evidence: pull requests and the deploys of merged PRs,
//! generated together so that every deploy names a real, merged, approved
//! PR and happens after its merge. Deploys wait in a small heap until no
//! later PR can produce an earlier deploy, so both files come out in time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::super::clock::{DAY, ENGINEERING, HOUR, Hours, MINUTE, fmt_ts, quarter_label, workweek};
use super::super::config::{DEPLOYS, PULL_REQUESTS};
use super::super::csv::CsvOut;
use super::super::plan::NEW_SERVICE;
use super::super::rng::{Rng, Selector, cumulative};
use super::super::{Ctx, DemoError, PlantedGap};
use super::{DatedGap, FileRows, daily_events};

/// Pull requests per year at scale 1.
pub const PRS_PER_YEAR: u64 = 5_000;
/// Deploys per year at scale 1.
pub const DEPLOYS_PER_YEAR: u64 = 4_000;
/// One PR in this many is never merged (abandoned or still open).
const UNMERGED_ONE_IN: u64 = 25;

/// (short name used in pr_id, repository, deployed service, weight)
pub const REPOS: [(&str, &str, &str, u32); 8] = [
    ("api", "northwind/api", "api", 24),
    ("web", "northwind/web", "web", 18),
    ("billing", "northwind/billing", "billing", 10),
    ("auth", "northwind/auth-service", "auth-service", 8),
    ("infra", "northwind/infra", "infra", 12),
    ("data", "northwind/data-pipeline", "data-pipeline", 10),
    ("mobile", "northwind/mobile-bff", "mobile-bff", 9),
    ("search", "northwind/search", "search", 9),
];

const COMPONENTS: [&str; 12] = [
    "invoice export",
    "session cache",
    "rate limiter",
    "webhook retries",
    "tenant settings",
    "audit trail",
    "search indexer",
    "login flow",
    "billing cron",
    "feature flags",
    "CSV import",
    "notification queue",
];

/// `{}` is replaced by a component; some titles need CSV quoting on purpose.
const TITLES: [&str; 10] = [
    "Fix flaky retry in {}",
    "Add metrics to {}",
    "Refactor {}, remove dead code",
    "Handle \"null\" payloads in {}",
    "Bump dependencies for {}",
    "Speed up {} queries",
    "Add tests for {}",
    "Document {}",
    "Guard {} behind a feature flag",
    "Fix timezone bug in {}",
];

struct PendingDeploy {
    production: bool,
    service: &'static str,
    artifact: [u8; 40],
    pr_id: String,
    deployer: u32,
    approver: Option<u32>,
    rolled_back: bool,
    planted: bool,
}

/// A deploy waiting for its turn, ordered by time then creation order.
struct Queued {
    at: i64,
    n: u64,
    d: PendingDeploy,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.n) == (other.at, other.n)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.n).cmp(&(other.at, other.n))
    }
}

/// Which planted PR/deploy gaps are still to place: (target instant, quarter end, done).
struct Targets(Vec<(i64, i64, bool)>);

impl Targets {
    /// Claim the first target whose time has come (and whose quarter has not passed).
    fn claim(&mut self, t: i64) -> bool {
        for target in &mut self.0 {
            if !target.2 && t >= target.0 && t < target.1 {
                target.2 = true;
                return true;
            }
        }
        false
    }
}

fn artifact(rng: &mut Rng) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut a = [0u8; 40];
    for chunk in a.chunks_mut(16) {
        let mut x = rng.next_u64();
        for c in chunk {
            *c = HEX[(x & 15) as usize];
            x >>= 4;
        }
    }
    a
}

/// Writes `pull_requests` and `deploys`; returns both files and the planted
/// gaps (unapproved production deploy and self-approved PR, in the last full
/// quarter and the quarter before it).
pub fn write_changes(ctx: &Ctx) -> Result<(Vec<FileRows>, Vec<DatedGap>), DemoError> {
    let mut rng = ctx.rng(PULL_REQUESTS.name);
    let mut drng = ctx.rng(DEPLOYS.name);
    let mut prs = ctx.csv(&PULL_REQUESTS)?;
    let mut deploys = ctx.csv(&DEPLOYS)?;
    let p = &ctx.people;
    let plan = &ctx.plan;
    let (lfq, prev) = (ctx.clock.lfq, ctx.clock.prev_q);
    let mut pr_targets = Targets(vec![(plan.pr_lfq, lfq.1, false), (plan.pr_prev, prev.1, false)]);
    let mut deploy_targets = Targets(vec![(plan.deploy_lfq, lfq.1, false), (plan.deploy_prev, prev.1, false)]);

    let total = ctx.volume(PRS_PER_YEAR);
    let ordinary = total - pr_targets.0.len() as u64;
    let unmerged = total / UNMERGED_ONE_IN;
    let mut unmerged_sel = Selector::new(unmerged, ordinary);
    let mut deploy_sel = Selector::new(ctx.volume(DEPLOYS_PER_YEAR), ordinary - unmerged);
    let last = ctx.clock.end - 3 * DAY;
    let counts = ctx.clock.allocate(total, |t| if t < last { workweek(t, 10, 1) } else { 0 });
    let repo_cum = cumulative(&REPOS.map(|r| r.3));
    let mut next_number: Vec<u64> = REPOS.iter().map(|_| 1000 + rng.below(3000)).collect();
    let mut heap: BinaryHeap<Reverse<Queued>> = BinaryHeap::new();
    let mut queued = 0u64;
    let mut deploy_seq = 0u64;
    let mut gaps = Vec::new();

    daily_events(ctx, &mut rng, &counts, &Hours::new(&ENGINEERING), |rng, t| {
        while heap.peek().is_some_and(|q| q.0.at < t) {
            if let Some(Reverse(q)) = heap.pop() {
                deploy_seq += 1;
                write_deploy(&mut deploys, deploy_seq, q.at, &q.d, ctx, &mut gaps)?;
            }
        }
        let r = rng.weighted(&repo_cum);
        let (short, repo, service, _) = REPOS[r];
        next_number[r] += 1;
        let pr_id = format!("{short}#{}", next_number[r]);
        let author = p.pick(rng, &p.builders);
        let component = rng.pick(&COMPONENTS);
        let title = rng.pick(&TITLES).replace("{}", component);
        let self_approved = pr_targets.claim(t);
        let merged = self_approved || !unmerged_sel.take(rng);
        let approved = merged || rng.chance(1, 2);
        let approver = if self_approved { author } else { p.pick_other(rng, &p.builders, author) };
        let approved_at = t + rng.range(10 * MINUTE, 20 * HOUR);
        let merged_at = approved_at + rng.range(MINUTE, 4 * HOUR);
        let ci_passed = merged || rng.chance(3, 5);
        prs.str(&pr_id).str(repo).str(p.email(author)).str(&title).ts(t);
        prs.opt_ts(merged.then_some(merged_at));
        prs.opt_str(approved.then(|| p.email(approver)));
        prs.opt_ts(approved.then_some(approved_at));
        prs.boolean(ci_passed);
        prs.end()?;
        if self_approved {
            gaps.push((
                t,
                PlantedGap {
                    kind: "self-approved-pr",
                    source: PULL_REQUESTS.name,
                    key: pr_id.clone(),
                    description: format!(
                        "{pr_id} ({}) was approved by its own author {} and merged at {}",
                        quarter_label(t),
                        p.email(author),
                        fmt_ts(merged_at)
                    ),
                },
            ));
        } else if merged && deploy_sel.take(&mut drng) {
            let at = merged_at + drng.range(5 * MINUTE, 3 * HOUR);
            let production = drng.chance(4, 5);
            let planted = production && deploy_targets.claim(at);
            queued += 1;
            let d = PendingDeploy {
                production,
                service,
                artifact: artifact(&mut drng),
                pr_id,
                deployer: author,
                approver: if planted { None } else { Some(approver) },
                rolled_back: !planted && drng.chance(1, 50),
                planted,
            };
            heap.push(Reverse(Queued { at, n: queued, d }));
        }
        Ok(())
    })?;
    while let Some(Reverse(q)) = heap.pop() {
        deploy_seq += 1;
        write_deploy(&mut deploys, deploy_seq, q.at, &q.d, ctx, &mut gaps)?;
    }
    let files = vec![prs.finish()?, deploys.finish()?];
    Ok((files, gaps))
}

fn write_deploy(
    out: &mut CsvOut,
    seq: u64,
    at: i64,
    d: &PendingDeploy,
    ctx: &Ctx,
    gaps: &mut Vec<DatedGap>,
) -> Result<(), DemoError> {
    let p = &ctx.people;
    // Half of billing's production deploys from mid-quarter on ship the
    // service split out of it, which never made it into the inventory.
    let split = d.production && d.service == "billing" && at >= ctx.plan.new_service_from && seq.is_multiple_of(2);
    let service = if split { NEW_SERVICE } else { d.service };
    out.id("dep-", seq, 7)
        .ts(at)
        .str(if d.production { "production" } else { "staging" })
        .str(service)
        .with(|b| b.extend_from_slice(&d.artifact))
        .str(&d.pr_id)
        .str(p.email(d.deployer))
        .opt_str(d.approver.map(|a| p.email(a)))
        .boolean(d.rolled_back);
    out.end()?;
    if d.planted {
        gaps.push((
            at,
            PlantedGap {
                kind: "unapproved-deploy",
                source: DEPLOYS.name,
                key: super::super::csv::id("dep-", seq, 7),
                description: format!(
                    "Production deploy of {} ({}) at {} by {} has no approver: the deploy gate was bypassed",
                    service,
                    d.pr_id,
                    fmt_ts(at),
                    p.email(d.deployer)
                ),
            },
        ));
    }
    Ok(())
}
