//! Each document's state, as `quarterdeck documents`, the dashboard and the
//! Sources view show it: its files judged against their recorded hashes
//! (re-hashed now: nothing is trusted from the file system), its place in
//! the period, and its renewal.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::collect::{Hashed, Recorded, hash_files, recorded};
use super::{Document, RENEWAL_NOTICE_DAYS, Register};
use crate::workspace::period::Period;

/// One state per document version, the most pressing first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// A declared file is not there (or unusable: empty, a symlink out).
    Missing,
    /// A file's content differs from what was collected.
    Changed,
    /// Declared, never collected.
    NotCollected,
    /// Not in force in the period, or attesting to another window.
    OutsidePeriod,
    /// Its renewal date has passed.
    Expired,
    /// Its renewal falls due within 30 days.
    RenewalDue,
    /// A later version took its place.
    Superseded,
    Current,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Missing => "missing file",
            Self::Changed => "changed since collected",
            Self::NotCollected => "not collected",
            Self::OutsidePeriod => "outside the period",
            Self::Expired => "expired",
            Self::RenewalDue => "renewal due",
            Self::Superseded => "superseded",
            Self::Current => "current",
        }
    }
}

/// A document version with its state and why.
#[derive(Debug, Clone)]
pub struct Status {
    pub document: Document,
    pub state: State,
    pub detail: String,
    /// The recorded hash (one file: its own) and when it was collected.
    pub sha256: Option<String>,
    pub collected_at: Option<String>,
    pub superseded: Option<NaiveDate>,
}

impl Status {
    /// Whether the state is something to act on: not current, and not
    /// merely another period's document (a later postmortem, an earlier
    /// version) — an attestation whose window misses the period is.
    pub fn needs_attention(&self) -> bool {
        match self.state {
            State::Current | State::Superseded => false,
            State::OutsidePeriod => self.document.covers.is_some(),
            _ => true,
        }
    }
}

/// Every document's state. `period` places documents in time; without one,
/// the question is whether each is current today.
pub fn assess(
    root: &std::path::Path,
    conn: &duckdb::Connection,
    register: &Register,
    period: Option<&Period>,
    today: NaiveDate,
) -> duckdb::Result<Vec<Status>> {
    assess_with(root, conn, register, period, today, &mut HashCache::default())
}

/// What a file looked like when it was last hashed, so that a long-lived
/// process (the terminal UI) hashes again only a file whose size, inode,
/// modification or status-change time moved. `quarterdeck documents`
/// starts with an empty cache: it hashes every file.
#[derive(Debug, Default)]
pub struct HashCache {
    seen: BTreeMap<String, (Stamp, (String, u64))>,
}

type Stamp = (u64, i128, i128, u64);

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    let nanos = |t: std::io::Result<std::time::SystemTime>| {
        t.ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i128)
    };
    #[cfg(unix)]
    let (changed, inode) = {
        use std::os::unix::fs::MetadataExt as _;
        (i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()), meta.ino())
    };
    #[cfg(not(unix))]
    let (changed, inode) = (0, 0);
    Some((meta.len(), nanos(meta.modified()), changed, inode))
}

impl HashCache {
    /// Each path's hash: from the cache where the file has not moved.
    fn hash(&mut self, root: &std::path::Path, paths: &[String]) -> Vec<Hashed> {
        let stamps: Vec<Option<Stamp>> = paths.iter().map(|p| stamp(&root.join(p))).collect();
        let fresh = |i: usize| match (&stamps[i], self.seen.get(&paths[i])) {
            (Some(now), Some((then, _))) => now != then,
            _ => true,
        };
        let stale: Vec<usize> = (0..paths.len()).filter(|&i| fresh(i)).collect();
        let rehashed = hash_files(root, &stale.iter().map(|&i| paths[i].clone()).collect::<Vec<_>>());
        let mut rehashed: BTreeMap<usize, Hashed> = stale.into_iter().zip(rehashed).collect();
        (0..paths.len())
            .map(|i| match rehashed.remove(&i) {
                Some(result) => {
                    match (&result, stamps[i]) {
                        (Ok(hash), Some(now)) => {
                            self.seen.insert(paths[i].clone(), (now, hash.clone()));
                        }
                        _ => {
                            self.seen.remove(&paths[i]);
                        }
                    }
                    result
                }
                None => Ok(self.seen.get(&paths[i]).map(|(_, h)| h.clone()).unwrap_or_default()),
            })
            .collect()
    }
}

/// [`assess`], hashing through `cache`.
pub fn assess_with(
    root: &std::path::Path,
    conn: &duckdb::Connection,
    register: &Register,
    period: Option<&Period>,
    today: NaiveDate,
    cache: &mut HashCache,
) -> duckdb::Result<Vec<Status>> {
    let recorded = recorded(conn)?;
    let paths: Vec<String> = register.documents.iter().flat_map(|d| d.files.iter().map(|f| f.value.clone())).collect();
    let mut hashed = cache.hash(root, &paths).into_iter();
    // The day things are judged on: today, or the period's last day if
    // the period is already over.
    let on = match period {
        Some(p) => today.min(p.end_date - Duration::days(1)),
        None => today,
    };
    let mut versions: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
    for d in &register.documents {
        versions.entry(&d.id).or_default().push(d.effective);
    }
    let mut statuses = Vec::with_capacity(register.documents.len());
    for d in &register.documents {
        let superseded =
            versions.get(d.id.as_str()).and_then(|dates| dates.iter().filter(|e| **e > d.effective).min().copied());
        let files: Vec<_> = d.files.iter().map(|f| (f, hashed.next())).collect();
        let (mut state, mut detail) = (State::Current, String::new());
        for (file, now) in &files {
            let key = (d.id.clone(), d.version.clone(), file.value.clone());
            let judged = judge_file(&recorded, &key, now.as_ref());
            if let Some((s, why)) = judged
                && s < state
            {
                (state, detail) = (s, why);
            }
        }
        if state == State::Current {
            (state, detail) = in_time(d, superseded, period, on);
        }
        let sha256 = match files.as_slice() {
            [(file, _)] => recorded.get(&(d.id.clone(), d.version.clone(), file.value.clone())).map(|r| r.0.clone()),
            _ => None,
        };
        let collected_at = files
            .iter()
            .filter_map(|(f, _)| recorded.get(&(d.id.clone(), d.version.clone(), f.value.clone())).map(|r| r.2.clone()))
            .max();
        statuses.push(Status { document: d.clone(), state, detail, sha256, collected_at, superseded });
    }
    Ok(statuses)
}

fn judge_file(recorded: &Recorded, key: &(String, String, String), now: Option<&Hashed>) -> Option<(State, String)> {
    let path = &key.2;
    match now {
        None => Some((State::Missing, format!("{path}: not read"))),
        Some(Err(why)) => Some((State::Missing, format!("{path}: {why}"))),
        Some(Ok((sha, _))) => match recorded.get(key) {
            None => Some((State::NotCollected, format!("{path}: run `quarterdeck documents collect`"))),
            Some((recorded, _, at)) if sha != recorded => Some((
                State::Changed,
                format!("{path}: sha256 {} now, {} when collected {at}", short(sha), short(recorded)),
            )),
            Some(_) => None,
        },
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Its place in time: in force and attesting to the period, renewed.
fn in_time(d: &Document, superseded: Option<NaiveDate>, period: Option<&Period>, on: NaiveDate) -> (State, String) {
    if let Some(p) = period {
        if d.effective >= p.end_date {
            return (State::OutsidePeriod, format!("effective {}, after the period ends", d.effective));
        }
        if let Some(next) = superseded.filter(|next| *next <= p.start_date) {
            return (State::OutsidePeriod, format!("superseded on {next}, before the period"));
        }
        if let Some((from, to)) = d.covers
            && (to < p.start_date || from >= p.end_date)
        {
            return (State::OutsidePeriod, format!("covers {from}..{to}, which does not overlap {}", p.label));
        }
    }
    if let Some(next) = superseded.filter(|next| *next <= on) {
        return (State::Superseded, format!("a later version took effect on {next}"));
    }
    // Judged for today, an attestation whose window ended over a year ago
    // (a vendor report, a pentest) no longer speaks for the present.
    if period.is_none()
        && let Some((_, to)) = d.covers
        && on.checked_sub_months(chrono::Months::new(12)).is_some_and(|year_ago| to < year_ago)
    {
        return (State::Expired, format!("covers up to {to}, over a year ago"));
    }
    if let Some((every, due)) = &d.renew {
        if *due <= on {
            return (State::Expired, format!("renewal ({every}) was due {due}"));
        }
        if *due - on <= Duration::days(RENEWAL_NOTICE_DAYS) {
            return (State::RenewalDue, format!("renewal ({every}) due {due}"));
        }
        return (State::Current, format!("renew by {due}"));
    }
    (State::Current, String::new())
}
