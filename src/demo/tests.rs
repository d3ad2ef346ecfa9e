//! Compiled only under #[cfg(test)] (see demo/mod.rs).
//! Tests of the generated workspace as a whole: determinism, volumes,
//! formats, the planted gaps and that nothing else fails a control.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::sources::{
    ALERTS_PER_YEAR, AUTH_PER_YEAR, BACKUP_FAILURES_PER_YEAR, DEPLOYS_PER_YEAR, IAM_PER_YEAR, INCIDENTS_PER_YEAR,
    PROVISIONING_PER_YEAR, PRS_PER_YEAR,
};
use super::testkit::{Row, Table, parse_ts};
use super::{DemoError, DemoOptions, DemoSummary, write_demo_files};

pub fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

pub fn opts(scale: u32, seed: u64) -> DemoOptions {
    DemoOptions { scale, seed, as_of: as_of() }
}

fn generate(scale: u32, seed: u64) -> (tempfile::TempDir, DemoSummary) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("northwind");
    let summary = write_demo_files(&ws, &opts(scale, seed)).unwrap();
    (dir, summary)
}

fn rows_by_file(s: &DemoSummary) -> BTreeMap<String, u64> {
    s.files.iter().map(|(p, n)| (p.display().to_string(), *n)).collect()
}

#[test]
fn same_options_give_identical_bytes() {
    let (a, sa) = generate(1, 7);
    let (b, sb) = generate(1, 7);
    assert_eq!(sa, sb);
    for (rel, _) in &sa.files {
        let x = std::fs::read(a.path().join("northwind").join(rel)).unwrap();
        let y = std::fs::read(b.path().join("northwind").join(rel)).unwrap();
        assert!(x == y, "{} differs between runs", rel.display());
    }
    let (c, _) = generate(1, 8);
    let x = std::fs::read(a.path().join("northwind/evidence/deploys.csv")).unwrap();
    let z = std::fs::read(c.path().join("northwind/evidence/deploys.csv")).unwrap();
    assert_ne!(x, z, "another seed gives other data");
}

#[test]
fn scale_multiplies_volumes() {
    let (_a, s1) = generate(1, 7);
    let (_b, s2) = generate(2, 7);
    let (r1, r2) = (rows_by_file(&s1), rows_by_file(&s2));
    let expect = [
        ("idp_auth_log", AUTH_PER_YEAR),
        ("iam_audit_log", IAM_PER_YEAR),
        ("provisioning", PROVISIONING_PER_YEAR),
        ("deprovisioning", 150),
        ("pull_requests", PRS_PER_YEAR),
        ("deploys", DEPLOYS_PER_YEAR),
        ("alerts", ALERTS_PER_YEAR),
        ("incidents", INCIDENTS_PER_YEAR),
        ("backups", 365 * 3 + BACKUP_FAILURES_PER_YEAR),
        ("vuln_scans", 365 - 21 - 7),
        ("access_reviews", 4 * 8 - 1),
        ("vendor_reviews", 20),
    ];
    for (source, base) in expect {
        let key = format!("evidence/{source}.csv");
        assert_eq!(r1[&key], base, "{source} at scale 1");
        assert_eq!(r2[&key], 2 * base, "{source} at scale 2");
    }
    // quarterdeck.toml, the controls, systems.toml, the CSVs, documents.toml
    // and the documents' files (one postmortem per incident that had one).
    let documents = r1.keys().filter(|f| f.starts_with("documents")).count();
    assert!(documents > 20, "{documents}");
    assert_eq!(r1.len(), 1 + super::controls::FILES.len() + 1 + 12 + documents);
    assert!(r2["systems.toml"] > r1["systems.toml"], "more systems at scale 2");
}

#[test]
fn formats_keys_and_window() {
    let (dir, summary) = generate(1, 7);
    let ws = dir.path().join("northwind");
    let (start, end) = (parse_ts("2025-11-26 00:00:00"), parse_ts("2026-11-26 00:00:00"));
    for src in super::config::SOURCES {
        let t = Table::load(&ws, src.name);
        assert_eq!(t.cols, src.columns, "{} header", src.name);
        let n = summary.files.iter().find(|(p, _)| p.ends_with(format!("{}.csv", src.name))).unwrap().1;
        assert_eq!(t.rows.len() as u64, n);
        let keys: BTreeSet<String> = t.iter().map(|r| src.key.iter().map(|k| r.key(k)).collect()).collect();
        assert_eq!(keys.len(), t.rows.len(), "{}: keys unique", src.name);
        for (i, col) in t.cols.iter().enumerate() {
            for r in &t.rows {
                let Some(v) = r[i].as_deref() else { continue };
                if col.ends_with("_at") || col == "ts" {
                    let x = parse_ts(v);
                    assert!(x >= start && x < end, "{}.{col} = {v} outside the window", src.name);
                }
            }
        }
        let ts = t.col(src.timestamp);
        assert!(t.rows.iter().all(|r| r[ts].is_some()), "{}: timestamp always set", src.name);
    }
    // Quoting survives a round trip.
    let deprov = Table::load(&ws, "deprovisioning");
    assert!(deprov.iter().all(|r| r.s("systems").unwrap().split(',').count() >= 3));
    let prs = Table::load(&ws, "pull_requests");
    assert!(prs.iter().any(|r| r.s("title").unwrap().contains("\"null\"")));
    // Every deploy ships a merged PR, after the merge, approved by the PR's approver.
    let by_pr: BTreeMap<&str, Row> = prs.iter().map(|r| (r.s("pr_id").unwrap(), r)).collect();
    let deploys = Table::load(&ws, "deploys");
    for d in deploys.iter() {
        let pr = by_pr[d.s("pr_id").unwrap()];
        assert!(pr.ts("merged_at").unwrap() <= d.ts("deployed_at").unwrap());
        assert_eq!(d.s("deployer"), pr.s("author"));
        if let Some(a) = d.s("approver") {
            assert_eq!(Some(a), pr.s("approver"));
        }
        assert_eq!(d.s("artifact").unwrap().len(), 40);
    }
    let mut last = i64::MIN;
    for d in deploys.iter() {
        let t = d.ts("deployed_at").unwrap();
        assert!(t >= last, "deploys are in time order");
        last = t;
    }
    assert!(
        Table::load(&ws, "idp_auth_log").iter().all(|r| r.s("user_email").unwrap().ends_with("@northwind.example"))
    );
}

#[test]
fn config_and_controls_are_well_formed() {
    let (dir, _) = generate(1, 7);
    let ws = dir.path().join("northwind");
    let cfg: toml::Table = std::fs::read_to_string(ws.join("quarterdeck.toml")).unwrap().parse().unwrap();
    assert_eq!(cfg["workspace"]["name"].as_str(), Some("Northwind Cloud (demo)"));
    assert_eq!(cfg["sampling"]["per-event"].as_integer(), Some(25));
    let sources = cfg["source"].as_array().unwrap();
    assert_eq!(sources.len(), 12);
    let mut names = BTreeSet::new();
    for s in sources {
        for k in ["name", "format", "path", "key", "timestamp", "fresh_within", "mode"] {
            assert!(s.get(k).is_some(), "source lacks {k}");
        }
        names.insert(s["name"].as_str().unwrap().to_owned());
        assert!(ws.join(s["path"].as_str().unwrap()).is_file());
    }
    let mut ids = BTreeSet::new();
    let mut criteria = BTreeSet::new();
    let mut freqs = BTreeSet::new();
    for (file, _) in super::controls::FILES {
        let t: toml::Table = std::fs::read_to_string(ws.join("controls").join(file)).unwrap().parse().unwrap();
        for c in t["control"].as_array().unwrap() {
            assert!(ids.insert(c["id"].as_str().unwrap().to_owned()), "duplicate id");
            for k in ["title", "owner", "practice"] {
                assert!(c[k].as_str().is_some_and(|v| !v.is_empty()));
            }
            freqs.insert(c["frequency"].as_str().unwrap().to_owned());
            criteria.extend(c["criteria"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
            for e in c["evidence"].as_array().unwrap() {
                match (e.get("source"), e.get("population")) {
                    (Some(s), None) => {
                        let s = s.as_str().unwrap();
                        assert!(names.contains(s) || s == crate::workspace::documents::SOURCE, "{s}");
                    }
                    (None, Some(p)) => {
                        assert!(p.as_str().unwrap().trim_start().starts_with("SELECT"));
                        assert!(e.get("period").is_some() && e.get("key").is_some());
                    }
                    _ => panic!("{}: exactly one of source and population", c["id"]),
                }
                assert!(!e["tests"].as_table().unwrap().is_empty());
            }
        }
    }
    assert!(ids.len() >= 15);
    let catalog = crate::workspace::catalog::Catalog::soc2().unwrap();
    let common: Vec<&str> = catalog.ids().filter(|id| id.starts_with("CC")).collect();
    assert_eq!(common.len(), 33);
    for c in common.into_iter().chain(["A1.2", "A1.3"]) {
        assert!(criteria.contains(c), "{c} not covered");
    }
    assert_eq!(freqs.len(), 6, "every frequency is used: {freqs:?}");
}

#[test]
fn planted_gaps_are_there_and_are_the_only_exceptions() {
    for (scale, seed) in [(1, 7), (1, 1), (2, 99)] {
        let (dir, summary) = generate(scale, seed);
        let ws = dir.path().join("northwind");
        let kinds: Vec<&str> = summary.planted.iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [
                "unapproved-deploy",
                "self-approved-pr",
                "late-deprovisioning",
                "missing-postmortem",
                "stale-source",
                "coverage-gap",
                "unapproved-deploy",
                "self-approved-pr",
                "overdue-policy-review",
                "stale-vendor-report",
                "changed-document",
                "unknown-system",
                "retired-but-active",
                "missed-access-review",
                "missed-scan-week"
            ]
        );
        let found = super::tests_rules::exceptions(&ws);
        let expected = super::tests_rules::expected_exceptions(&summary.planted);
        assert_eq!(found, expected, "scale {scale} seed {seed}");
        super::tests_rules::check_planted_periods(&ws, &summary.planted);
    }
}

#[test]
fn auth_gap_week_is_empty_and_scans_stopped_three_weeks_ago() {
    let (dir, summary) = generate(1, 7);
    let ws = dir.path().join("northwind");
    let gap = summary.planted.iter().find(|g| g.kind == "coverage-gap").unwrap();
    assert_eq!(gap.key, "2026-07-15..2026-07-21");
    let (a, b) = (parse_ts("2026-07-15 00:00:00"), parse_ts("2026-07-22 00:00:00"));
    let auth = Table::load(&ws, "idp_auth_log");
    let in_gap = auth.iter().filter(|r| (a..b).contains(&r.ts("ts").unwrap())).count();
    assert_eq!(in_gap, 0);
    let around = auth.iter().filter(|r| (a - 86_400..b + 86_400).contains(&r.ts("ts").unwrap())).count();
    assert!(around > 100, "the days around the gap have events");
    let newest = Table::load(&ws, "vuln_scans").iter().map(|r| r.ts("scanned_at").unwrap()).max().unwrap();
    assert!(newest <= parse_ts("2026-11-26 00:00:00") - 21 * 86_400);
    assert!(newest >= parse_ts("2026-11-26 00:00:00") - 22 * 86_400);
}

#[test]
fn refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), "x").unwrap();
    assert!(matches!(write_demo_files(dir.path(), &opts(1, 7)), Err(DemoError::NotEmpty { .. })));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(write_demo_files(empty.path(), &opts(0, 7)), Err(DemoError::InvalidScale { .. })));
    let far = DemoOptions { as_of: NaiveDate::from_ymd_opt(1960, 1, 1).unwrap(), ..opts(1, 7) };
    assert!(matches!(write_demo_files(empty.path(), &far), Err(DemoError::InvalidAsOf { .. })));
    assert!(std::fs::read_dir(empty.path()).unwrap().next().is_none(), "nothing written on error");
}
