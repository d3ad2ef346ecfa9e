//! A finding names a failing row of the population that no sample drew:
//! the key is checked against the audit's population, the row is kept as it
//! was found, and `verify` holds the link to the log.

use crate::common::{Sandbox, scalar};

fn add(sb: &Sandbox, ws: &std::path::Path, control: &str, row: &str) -> crate::common::Run {
    sb.at(
        ws,
        &[
            "findings",
            "add",
            "--audit",
            "2026-Q3",
            "--control",
            control,
            "--title",
            "Deploy without approval",
            "--severity",
            "high",
            "--owner",
            "platform@northwind.example",
            "--row",
            row,
        ],
    )
}

#[test]
fn a_finding_links_a_failing_population_row_that_was_not_sampled() {
    let sb = Sandbox::new();
    let ws = sb.path().join("northwind");
    sb.run(&["demo", ws.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1,CHG-2", "--seed", "7"]).ok();
    // The planted deploy without approval fails `test`, and the sample did not draw it.
    let tested = sb.at(&ws, &["test", "CHG-1", "--period", "2026-Q3"]);
    assert!(tested.stdout.contains("first failing: dep-0002834"), "{}", tested.stdout);
    let sample = sb.at(&ws, &["--format", "json", "sample", "CHG-1", "--audit", "2026-Q3"]).ok().json();
    assert!(!sample.to_string().contains("dep-0002834"), "the planted row is not in the sample");

    // A key in no population, and a key of another control's population, are refused; nothing is written.
    for (control, key) in [("CHG-1", "dep-9999999"), ("CHG-2", "dep-0002834"), ("CHG-1", "dep-0002834 | x")] {
        let refused = add(&sb, &ws, control, key);
        assert_eq!(refused.code, 4, "{control} {key}: {}{}", refused.stdout, refused.stderr);
        assert!(refused.stderr.contains("neither sampled nor in the population"), "{}", refused.stderr);
    }
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.findings"), "0");

    let id = add(&sb, &ws, "CHG-1", "dep-0002834").ok().stdout.trim().to_string();
    let shown = sb.at(&ws, &["--format", "json", "findings", "show", &id]).ok().json();
    let linked = &shown["population_rows"][0];
    assert_eq!(linked["key"], "dep-0002834");
    assert_eq!(linked["spec"], "prod deploys");
    assert!(linked["row"]["approver"].is_null(), "the row as found: {linked}");
    assert_eq!(linked["row"]["environment"], "production");
    assert_eq!(shown["rows"].as_array().map(Vec::len), Some(0), "no sampled row is claimed");
    let text = sb.at(&ws, &["findings", "show", &id]).ok().stdout;
    assert!(text.contains("row dep-0002834 (population of sample"), "{text}");
    sb.at(&ws, &["verify"]).ok();

    // The link is held to the log: a row dropped behind the tool's back is reported.
    let db = ws.join("workspace.duckdb");
    duckdb::Connection::open(&db).unwrap().execute_batch("DELETE FROM qd.finding_population_rows").unwrap();
    let verify = sb.at(&ws, &["verify"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(verify.stderr.contains("links rows [] but the log says [population"), "{}", verify.stderr);
}

#[test]
fn a_key_in_two_specs_populations_links_its_row_in_each_and_once() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    // Two specs over the same deploys, one row sampled from each: the other
    // rows are in the populations only.
    std::fs::write(
        ws.join("controls/twice.toml"),
        r#"[[control]]
id = "CHG-9"
title = "Deploys seen twice"
criteria = ["CC8.1"]
owner = "platform@acme.example"
frequency = "per-event"
practice = "Two views of one source."

[[control.evidence]]
name = "all deploys"
source = "deploys"
sample = 1
tests = { approved = "approver IS NOT NULL" }

[[control.evidence]]
name = "prod deploys"
source = "deploys"
where = "environment = 'production'"
sample = 1
tests = { approved = "approver IS NOT NULL" }
"#,
    )
    .unwrap();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-9", "--seed", "1"]).ok();
    let sampled: Vec<String> = ["all deploys", "prod deploys"]
        .iter()
        .map(|spec| {
            let s = sb.at(&ws, &["--format", "json", "sample", "CHG-9", "--audit", "2026-Q3", "--spec", spec]).ok();
            s.json()["rows"][0]["key"].as_str().unwrap().to_string()
        })
        .collect();
    let prod: Vec<String> = scalar(
        &ws,
        "SELECT string_agg(deploy_id, ',' ORDER BY deploy_id) FROM deploys WHERE environment = 'production'",
    )
    .split(',')
    .map(str::to_string)
    .collect();
    let key = prod.iter().find(|k| !sampled.contains(k)).expect("a production deploy that neither sample drew");
    let args = [
        "findings",
        "add",
        "--audit",
        "2026-Q3",
        "--control",
        "CHG-9",
        "--title",
        "t",
        "--severity",
        "low",
        "--owner",
        "o",
        "--row",
        key,
        "--row",
        key,
    ];
    let id = sb.at(&ws, &args).ok().stdout.trim().to_string();
    let shown = sb.at(&ws, &["--format", "json", "findings", "show", &id]).ok().json();
    let specs: Vec<&str> =
        shown["population_rows"].as_array().unwrap().iter().map(|r| r["spec"].as_str().unwrap()).collect();
    assert_eq!(specs, ["all deploys", "prod deploys"], "one link per spec, the key named twice linked once");
    sb.at(&ws, &["verify"]).ok();
}
