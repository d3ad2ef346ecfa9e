//! The date-sensitive parts of the suite, run as of several fixed days: the
//! month ends, the year end, and both daylight-saving changes. Nothing may
//! depend on the day the tests happen to run.

use crate::common::Sandbox;

/// "Now" for each run, with the last full quarter it implies.
const DAYS: &[(&str, &str)] = &[
    ("2026-01-31T23:30:00Z", "2025-Q4"),
    ("2026-02-28T12:00:00Z", "2025-Q4"),
    ("2026-03-29T01:30:00Z", "2025-Q4"), // Europe springs forward
    ("2026-04-01T00:00:00Z", "2026-Q1"),
    ("2026-11-01T06:30:00Z", "2026-Q3"), // the US falls back
    ("2026-12-31T23:59:59Z", "2026-Q3"),
    ("2027-01-01T00:00:00Z", "2026-Q4"),
];

#[test]
fn the_audit_cycle_behaves_the_same_on_any_day() {
    for (now, quarter) in DAYS {
        let sb = Sandbox::new();
        let day = &now[..10];
        let dir = sb.path().join("demo");
        let at = |args: &[&str]| {
            let mut all = vec!["--workspace", dir.to_str().unwrap()];
            all.extend_from_slice(args);
            let mut cmd = sb.command(&all);
            cmd.env("QUARTERDECK_NOW", now);
            crate::common::Run::from(cmd.output().expect("run"))
        };
        let mut demo = sb.command(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", day]);
        demo.env("QUARTERDECK_NOW", now);
        let made: crate::common::Run = demo.output().expect("demo").into();
        assert_eq!(made.code, 0, "{now}: {}", made.stderr);
        assert!(made.stdout.contains(&format!("--period {quarter}")), "{now}: {}", made.stdout);
        let sources = at(&["--format", "json", "sources", "--period", quarter]).ok().json();
        assert!(sources.as_array().is_some_and(|s| s.len() == 12), "{now}: {sources}");
        let started = at(&["audit", "start", quarter, "--controls", "CHG-1,AC-1", "--seed", "s"]);
        assert_eq!(started.code, 0, "{now}: {}", started.stderr);
        let sample = at(&["--format", "json", "sample", "CHG-1", "--audit", quarter]).ok().json();
        let key = sample["rows"][0]["key"].as_str().expect("a sampled key").to_string();
        at(&["verdict", quarter, "CHG-1", &key, "exception", "--note", "late"]).ok();
        // Due yesterday: overdue today, whatever today is.
        let yesterday = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap().pred_opt().unwrap().to_string();
        let added = at(&[
            "findings",
            "add",
            "--audit",
            quarter,
            "--control",
            "CHG-1",
            "--title",
            "late approval",
            "--severity",
            "low",
            "--owner",
            "o@example",
            "--due",
            &yesterday,
            "--row",
            &key,
        ]);
        assert_eq!(added.code, 0, "{now}: {}", added.stderr);
        let list = at(&["--format", "json", "findings", "list"]).ok().json();
        assert_eq!(list[0]["overdue"], true, "{now}: {list}");
        let created = crate::common::scalar(&dir, "SELECT CAST(created_at AS VARCHAR) FROM qd.findings");
        assert!(created.starts_with(&now[..10]), "{now}: recorded at {created}");
        at(&["test", "AC-1", "--period", quarter]);
        let verify = at(&["verify"]);
        assert_eq!(verify.code, 0, "{now}: {}{}", verify.stdout, verify.stderr);
    }
}
