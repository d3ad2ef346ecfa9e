//! The demo's planted inventory gaps, found the way a quarterly mock audit
//! finds them: `systems` for the drift, `test` for the missed occurrences,
//! an audit that counts them, and a finding filed for each.

use std::path::PathBuf;

use crate::common::{Run, Sandbox};

fn demo(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("northwind");
    sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    dir
}

#[track_caller]
fn code(run: &Run, expected: i32) {
    assert_eq!(run.code, expected, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

fn missed(sb: &Sandbox, ws: &std::path::Path, control: &str, test: &str) -> Vec<String> {
    let run = sb.at(ws, &["--format", "json", "test", control, "--period", "2026-Q3"]);
    let rows = run.json();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["test"] == test)
        .unwrap_or_else(|| panic!("{control}: no `{test}` row in {rows}"))
        .clone();
    row["failing_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_mock_audit_of_the_demo_finds_and_files_every_inventory_gap() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    code(&sb.at(&ws, &["check"]), 0);

    let run = sb.at(&ws, &["--format", "json", "systems", "--period", "2026-Q3"]);
    code(&run, 1);
    let report = run.json();
    let drift: Vec<(String, String, String)> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
            (s("kind"), s("system"), s("control"))
        })
        .collect();
    let line = |k: &str, s: &str, c: &str| (k.to_string(), s.to_string(), c.to_string());
    assert_eq!(
        drift,
        [
            line("unknown", "ledger-sync", ""),
            line("retired-but-active", "zoom", ""),
            line("uncovered", "snowflake", "AC-4"),
        ],
        "{report}"
    );
    let unknown = &report["drift"][0];
    assert_eq!(unknown["source"], "deploys");
    assert!(unknown["first_seen"].as_str().unwrap() >= "2026-08-15", "{unknown}");
    assert!(unknown["rows"].as_u64().unwrap() > 5, "{unknown}");
    // Nothing backs the new service up: it is in no backup row at all.
    let backed_up =
        sb.at(&ws, &["--format", "csv", "query", "SELECT count(*) FROM backups WHERE system = 'ledger-sync'"]);
    assert_eq!(backed_up.ok().stdout.lines().nth(1), Some("0"));
    let zoom = &report["drift"][1];
    assert_eq!(zoom["source"], "idp_auth_log");
    assert!(zoom["last_seen"].as_str().unwrap() >= "2026-09-29", "{zoom}");
    let systems = report["systems"].as_array().unwrap();
    let orders = systems.iter().find(|s| s["id"] == "postgres-orders").unwrap();
    assert_eq!(orders["covered_by"], serde_json::json!(["RES-1"]));
    let api = systems.iter().find(|s| s["id"] == "api").unwrap();
    assert_eq!(api["covered_by"], serde_json::json!(["CHG-1"]));

    assert_eq!(missed(&sb, &ws, "AC-4", "expect quarterly per system"), ["2026-Q3 | snowflake"]);
    assert_eq!(missed(&sb, &ws, "OPS-1", "expect weekly"), ["2026-W36"]);
    assert!(missed(&sb, &ws, "RES-1", "expect daily per system").is_empty());

    sb.at(&ws, &["audit", "start", "2026-Q3"]).ok();
    let shown = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    let missed_slots = |id: &str| {
        shown["controls"].as_array().unwrap().iter().find(|c| c["control"] == id).unwrap()["missed_slots"].clone()
    };
    assert_eq!(missed_slots("AC-4"), 1);
    assert_eq!(missed_slots("OPS-1"), 1);
    assert_eq!(missed_slots("RES-1"), 0);

    let file = |control: &str, extra: [&str; 2], title: &str| {
        let mut args = vec!["findings", "add", "--audit", "2026-Q3", "--control", control, "--title", title];
        args.extend(["--severity", "high", "--owner", "security@northwind.example"]);
        args.extend(extra);
        let run = sb.at(&ws, &args);
        code(&run, 0);
        run.stdout.trim().to_string()
    };
    let filed = [
        file("CHG-1", ["--system", "ledger-sync"], "ledger-sync deploys to production but is not inventoried"),
        file("AC-4", ["--system", "zoom"], "zoom is retired but still signed in to"),
        file("AC-4", ["--slot", "2026-Q3 | snowflake"], "no Q3 access review of snowflake"),
        file("OPS-1", ["--slot", "2026-W36"], "no vulnerability scan in 2026-W36"),
    ];
    let findings = sb.at(&ws, &["--format", "json", "findings", "list", "--audit", "2026-Q3"]).ok().json();
    let named: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| filed.contains(&f["id"].as_str().unwrap().to_string()))
        .map(|f| (f["system"].as_str().unwrap_or("").to_string(), f["slot"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(named.len(), 4, "{findings}");
    for expected in [("ledger-sync", ""), ("zoom", ""), ("", "2026-Q3 | snowflake"), ("", "2026-W36")] {
        assert!(named.contains(&(expected.0.to_string(), expected.1.to_string())), "{named:?}");
    }
    code(&sb.at(&ws, &["verify"]), 0);
}
