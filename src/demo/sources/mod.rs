//! The twelve evidence sources, one writer each (pull requests and deploys
//! are written together). Every writer draws from its own PRNG stream.

mod access;
mod auth;
mod change;
mod operations;
mod resilience;

use std::path::PathBuf;

#[cfg(test)]
pub use access::PROVISIONING_PER_YEAR;
pub use access::{REVIEWED, SYSTEMS as PROVISIONED};
pub use auth::APPS;
#[cfg(test)]
pub use auth::{AUTH_PER_YEAR, IAM_PER_YEAR, SELF_SERVICE_ACTIONS};
pub use change::REPOS;
#[cfg(test)]
pub use change::{DEPLOYS_PER_YEAR, PRS_PER_YEAR};
pub use operations::Incident;
#[cfg(test)]
pub use operations::{ALERTS_PER_YEAR, INCIDENTS_PER_YEAR};
#[cfg(test)]
pub use resilience::BACKUP_FAILURES_PER_YEAR;
pub use resilience::BACKUP_SYSTEMS;

use super::clock::Hours;
use super::rng::Rng;
use super::{Ctx, DemoError, PlantedGap};

/// A written file (workspace-relative) and its number of data rows.
pub type FileRows = (PathBuf, u64);
/// A planted gap and the instant it happened (to order gaps by quarter).
pub type DatedGap = (i64, PlantedGap);

/// `names[i]` for the first round, then `name<sep>2`, `name<sep>3`, … so
/// that scaling up adds systems without renaming the ones at scale 1.
pub fn scaled_name(names: &[&str], i: usize, sep: &str) -> String {
    let name = names[i % names.len()];
    match i / names.len() {
        0 => name.to_owned(),
        round => format!("{name}{sep}{}", round + 1),
    }
}

/// Calls `f` for `counts[d]` instants on each window day `d`, drawn from
/// `hours` and visited in time order. Holds one day in memory at a time.
pub fn daily_events<F>(ctx: &Ctx, rng: &mut Rng, counts: &[u64], hours: &Hours, mut f: F) -> Result<(), DemoError>
where
    F: FnMut(&mut Rng, i64) -> Result<(), DemoError>,
{
    let mut times: Vec<i64> = Vec::new();
    for (day, &n) in counts.iter().enumerate() {
        let t0 = ctx.clock.day_start(day);
        times.clear();
        times.extend((0..n).map(|_| t0 + hours.draw(rng)));
        times.sort_unstable();
        for &t in &times {
            f(rng, t)?;
        }
    }
    Ok(())
}

/// Write every source, appending to `files` in the order of
/// [`super::config::SOURCES`] and to `planted` in a fixed order: the last
/// full quarter's gaps first, then the stale and missing data, then the
/// quarter before.
pub fn write_all(ctx: &Ctx, files: &mut Vec<FileRows>, planted: &mut Vec<PlantedGap>) -> Result<(), DemoError> {
    let step = |done: u64, what: &str| ctx.progress.step(&format!("writing {what}"), done, 11);
    step(0, "the sign-in log");
    files.push(auth::write_idp_auth_log(ctx)?);
    step(1, "the IAM audit log");
    files.push(auth::write_iam_audit_log(ctx)?);
    step(2, "provisioning");
    files.push(access::write_provisioning(ctx)?);
    step(3, "deprovisioning");
    let (deprov_file, deprov_gap) = access::write_deprovisioning(ctx)?;
    files.push(deprov_file);
    step(4, "access reviews");
    files.push(access::write_access_reviews(ctx)?);
    step(5, "changes");
    let (change_files, change_gaps) = change::write_changes(ctx)?;
    files.extend(change_files);
    step(6, "incidents and alerts");
    let (incident_file, incidents, incident_gap) = operations::write_incidents(ctx)?;
    files.push(operations::write_alerts(ctx, &incidents)?);
    files.push(incident_file);
    step(7, "vulnerability scans");
    let (vuln_file, vuln_gap) = operations::write_vuln_scans(ctx)?;
    files.push(vuln_file);
    step(8, "backups");
    files.push(resilience::write_backups(ctx)?);
    step(9, "vendor reviews");
    files.push(resilience::write_vendor_reviews(ctx)?);
    step(10, "documents");
    let (document_files, document_gaps) = super::documents::write(ctx, &incidents)?;
    files.extend(document_files);
    step(11, "done");

    // Change gaps carry their instant: the last full quarter's come first.
    let (mut recent, mut earlier): (Vec<_>, Vec<_>) = change_gaps.into_iter().partition(|(t, _)| *t >= ctx.clock.lfq.0);
    for v in [&mut recent, &mut earlier] {
        v.sort_by_key(|(_, g)| g.kind != "unapproved-deploy");
    }
    planted.extend(recent.into_iter().map(|(_, g)| g));
    planted.push(deprov_gap);
    planted.push(incident_gap);
    planted.push(vuln_gap);
    planted.push(ctx.plan.auth_gap_record());
    planted.extend(earlier.into_iter().map(|(_, g)| g));
    planted.extend(document_gaps);
    Ok(())
}
