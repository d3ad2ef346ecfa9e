//! Identity evidence: the IdP sign-in log (the big one, streamed one day at
//! a time) and the cloud IAM audit log.

use super::super::clock::{Hours, OFFICE, workweek};
use super::super::config::{IAM_AUDIT_LOG, IDP_AUTH_LOG};
use super::super::csv::push_uint;
use super::super::rng::cumulative;
use super::super::{Ctx, DemoError};
use super::FileRows;

/// Sign-in events per year at scale 1.
pub const AUTH_PER_YEAR: u64 = 100_000;
/// IAM audit events per year at scale 1.
pub const IAM_PER_YEAR: u64 = 20_000;

pub const APPS: [&str; 10] = [
    "google-workspace",
    "slack",
    "github",
    "aws-console",
    "jira",
    "datadog",
    "pagerduty",
    "salesforce",
    "zoom",
    "notion",
];
const APP_WEIGHTS: [u32; 10] = [22, 20, 14, 8, 10, 6, 3, 5, 7, 5];

/// `idp_auth_log`: sign-ins to company apps through the IdP. Every
/// successful sign-in used MFA; about 2% of attempts fail. No rows at all
/// during the planted seven-day gap.
pub fn write_idp_auth_log(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(IDP_AUTH_LOG.name);
    let mut out = ctx.csv(&IDP_AUTH_LOG)?;
    let (gap_a, gap_b) = ctx.plan.auth_gap;
    let counts =
        ctx.clock.allocate(ctx.volume(AUTH_PER_YEAR), |t| if t >= gap_a && t < gap_b { 0 } else { workweek(t, 10, 3) });
    let hours = Hours::new(&OFFICE);
    let app_cum = cumulative(&APP_WEIGHTS);
    let n_staff = ctx.people.staff.len();
    let mut times: Vec<i64> = Vec::new();
    let mut seq: u64 = 0;
    for (day, &n) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        times.clear();
        times.extend((0..n).map(|_| t0 + hours.draw(&mut rng)));
        times.sort_unstable();
        for &t in &times {
            seq += 1;
            let user = rng.index(n_staff);
            let app = APPS[rng.weighted(&app_cum)];
            let failed = rng.chance(2, 100);
            let mfa = !failed || rng.chance(1, 2);
            let office = rng.chance(3, 5);
            let host = rng.below(30) + 10;
            let laptop = rng.chance(4, 5);
            out.id("auth-", seq, 8)
                .ts(t)
                .str(&ctx.people.staff[user])
                .str(app)
                .boolean(mfa)
                .str(if failed { "failure" } else { "success" })
                .with(|b| {
                    if office {
                        b.extend_from_slice(b"203.0.113.");
                        push_uint(b, host, 1);
                    } else {
                        b.extend_from_slice(b"198.51.100.");
                        push_uint(b, (user % 250) as u64 + 1, 1);
                    }
                })
                .with(|b| {
                    b.extend_from_slice(if laptop { b"NW-LT-" } else { b"NW-MB-" });
                    push_uint(b, user as u64, 5);
                });
            out.end()?;
        }
    }
    out.finish()
}

/// Actions that change privileges: each needs a change ticket and an actor
/// other than the principal changed. (Access-key rotation is self-service.)
const USER_ACTIONS: [&str; 5] = ["CreateUser", "DeleteUser", "AddUserToGroup", "RemoveUserFromGroup", "PutUserPolicy"];
const ROLE_ACTIONS: [&str; 6] =
    ["AttachRolePolicy", "DetachRolePolicy", "CreateRole", "UpdateRole", "DeleteRole", "UpdateAssumeRolePolicy"];
pub const SELF_SERVICE_ACTIONS: [&str; 3] = ["CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey"];
const ROLES: [&str; 12] = [
    "prod-readonly",
    "prod-deployer",
    "prod-admin",
    "staging-developer",
    "staging-admin",
    "billing-readonly",
    "data-analyst",
    "data-engineer",
    "security-audit",
    "break-glass",
    "support-readonly",
    "ci-runner",
];

/// `iam_audit_log`: cloud IAM changes by admins (SRE, security, IT) with a
/// change ticket, plus self-service access-key rotation (ticket optional).
pub fn write_iam_audit_log(ctx: &Ctx) -> Result<FileRows, DemoError> {
    let mut rng = ctx.rng(IAM_AUDIT_LOG.name);
    let mut out = ctx.csv(&IAM_AUDIT_LOG)?;
    let counts = ctx.clock.allocate(ctx.volume(IAM_PER_YEAR), |t| workweek(t, 10, 1));
    let hours = Hours::new(&OFFICE);
    let p = &ctx.people;
    let admins: Vec<u32> = p.sre.iter().chain(&p.security).chain(&p.it_admins).copied().collect();
    let mut times: Vec<i64> = Vec::new();
    let mut seq: u64 = 0;
    for (day, &n) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        times.clear();
        times.extend((0..n).map(|_| t0 + hours.draw(&mut rng)));
        times.sort_unstable();
        for &t in &times {
            seq += 1;
            out.id("iam-", seq, 8).ts(t);
            let kind = rng.below(10);
            if kind < 3 {
                let who = p.email(p.pick(&mut rng, &p.builders));
                let action = *rng.pick(&SELF_SERVICE_ACTIONS);
                out.str(who).str(action).str(who).null();
                if rng.chance(3, 10) {
                    out.id("CHG-", rng.below(90_000) + 10_000, 5);
                } else {
                    out.null();
                }
            } else {
                let actor = p.pick(&mut rng, &admins);
                let role = *rng.pick(&ROLES);
                out.str(p.email(actor));
                if kind < 6 {
                    let target = p.pick_other(&mut rng, &p.builders, actor);
                    let action = rng.pick(&USER_ACTIONS);
                    out.str(action).str(p.email(target)).str(role);
                } else {
                    let action = rng.pick(&ROLE_ACTIONS);
                    out.str(action)
                        .with(|b| {
                            b.extend_from_slice(b"role/");
                            b.extend_from_slice(role.as_bytes());
                        })
                        .str(role);
                }
                out.id("CHG-", rng.below(90_000) + 10_000, 5);
            }
            out.end()?;
        }
    }
    out.finish()
}
