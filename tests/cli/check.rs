//! `quarterdeck check`: each kind of mapping problem at its file:line:col,
//! exit 1; `test` runs attribute tests over the whole population.

use crate::common::Sandbox;

const BROKEN: &str = r#"[[control]]
id = "ACC-1"
title = "Access is approved"
criteria = ["CC6.9"]
owner = "it@acme.example"
frequency = "per-event"

[[control.evidence]]
name = "unknown source"
source = "deploy"

[[control]]
id = "CHG-1"
title = "A second CHG-1"
criteria = ["CC8.1"]
owner = "it@acme.example"
frequency = "weekly"

[[control.evidence]]
name = "bad columns"
source = "deploys"
period = "deployed"
tests = { typo = "aprover IS NOT NULL" }

[[control.evidence]]
name = "not boolean"
source = "deploys"
tests = { count = "length(approver)" }

[[control.evidence]]
name = "two statements"
population = "SELECT * FROM deploys; DELETE FROM deploys"
period = "deployed_at"
key = ["deploy_id"]

[[control.evidence]]
name = "bad sql"
source = "deploys"
where = "environment = = 'production'"

[[control.evidence]]
name = "no key"
population = "SELECT * FROM deploys"
period = "deployed_at"
"#;

#[test]
fn check_reports_every_problem_with_file_line_and_column() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    std::fs::write(ws.join("controls/zz-broken.toml"), BROKEN).unwrap();
    let run = sb.at(&ws, &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let expect = [
        "controls/zz-broken.toml:4:13: control `ACC-1`: unknown criterion `CC6.9`; did you mean `CC6.8`?",
        "controls/zz-broken.toml:10:10: control `ACC-1`, evidence `unknown source`: unknown source `deploy`; did you mean `deploys`?",
        "controls/zz-broken.toml:13:6: duplicate control id `CHG-1` (first defined at controls/change.toml:3:6)",
        "controls/zz-broken.toml:22:10: control `CHG-1`, evidence `bad columns`: field `period`: no column `deployed` in the population; did you mean `deployed_at`?",
        "controls/zz-broken.toml:28:19: control `CHG-1`, evidence `not boolean`, test `count`: `length(approver)` is BIGINT, not a boolean",
        "controls/zz-broken.toml:32:14: control `CHG-1`, evidence `two statements`: the population must be a single SELECT",
        "controls/zz-broken.toml:39:9: control `CHG-1`, evidence `bad sql`: SQL does not parse: syntax error at or near \"=\"",
        "controls/zz-broken.toml:42:8: control `CHG-1`, evidence `no key`: field `key` is required when the population is a SELECT",
    ];
    for line in expect {
        assert!(run.stderr.contains(line), "missing\n  {line}\nin\n{}", run.stderr);
    }
}

#[test]
fn check_names_a_test_on_a_missing_column() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let path = ws.join("controls/change.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("approver <> deployer", "approver <> deployed_by");
    std::fs::write(&path, text).unwrap();
    let run = sb.at(&ws, &["check"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("controls/change.toml:16:60:"), "{}", run.stderr);
    assert!(run.stderr.contains("test `independent`: Binder Error"), "{}", run.stderr);
    assert!(run.stderr.contains("deployed_by"), "{}", run.stderr);
}

#[test]
fn a_toml_syntax_error_is_located() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    std::fs::write(ws.join("controls/bad.toml"), "[[control]]\nid = \"X-1\"\ntitle = \n").unwrap();
    let run = sb.at(&ws, &["check"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("controls/bad.toml:3:"), "{}", run.stderr);
}

#[test]
fn full_population_tests_report_pass_fail_and_failing_keys() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let run = sb.at(&ws, &["--format", "json", "test", "CHG-1", "--period", "2026-Q3"]);
    assert_eq!(run.code, 1, "a failing test exits 1: {}", run.stderr);
    let rows = run.json();
    let approved = &rows[0];
    assert_eq!(approved["test"], "approved");
    assert_eq!(approved["population"], 4, "four production deploys in 2026-Q3");
    assert_eq!(approved["result"], "fail");
    assert_eq!(approved["failed"], 1);
    assert_eq!(approved["failing_keys"][0], "d-0004");
    let independent = &rows[1];
    assert_eq!(independent["result"], "inconclusive", "approver NULL makes `approver <> deployer` NULL, never a pass");
    assert_eq!(independent["inconclusive_keys"][0], "d-0004");

    let joined = sb.at(&ws, &["--format", "json", "test", "CHG-2", "--period", "2026-Q3"]).json();
    let before = joined.as_array().unwrap().iter().find(|r| r["test"] == "approved_before_deploy").unwrap();
    assert_eq!(before["failing_keys"][0], "d-0005");
    let independent = joined.as_array().unwrap().iter().find(|r| r["test"] == "independent").unwrap();
    assert_eq!(independent["failing_keys"][0], "d-0004");
}

#[test]
fn a_period_outside_the_evidence_is_inconclusive_not_a_pass() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let run = sb.at(&ws, &["--format", "json", "test", "CHG-1", "--period", "2025-Q1"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()[0]["result"], "inconclusive");
    assert_eq!(run.json()[0]["population"], 0);
}

#[test]
fn unknown_control_and_bad_period_are_refused() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let run = sb.at(&ws, &["test", "CHG-9"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("unknown control `CHG-9`; did you mean `CHG-2`?"), "{}", run.stderr);
    let run = sb.at(&ws, &["test", "CHG-1", "--period", "2026-Q5"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("period `2026-Q5`"), "{}", run.stderr);
}

#[test]
fn criteria_and_controls_list_the_mapping() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let criteria = sb.at(&ws, &["--format", "json", "criteria"]).ok().json();
    let criteria = criteria.as_array().unwrap();
    assert_eq!(criteria.len(), 61);
    let cc81 = criteria.iter().find(|c| c["id"] == "CC8.1").unwrap();
    assert_eq!(cc81["controls"], serde_json::json!(["CHG-1", "CHG-2"]));
    assert_eq!(cc81["mapped"], true);
    assert_eq!(criteria.iter().filter(|c| c["mapped"] == false).count(), 59);
    let table = sb.at(&ws, &["criteria"]).ok();
    assert!(table.stdout.contains("59 of 61 criteria have no control mapped"), "{}", table.stdout);
    let controls = sb.at(&ws, &["--format", "json", "controls"]).ok().json();
    assert_eq!(controls[0]["id"], "CHG-1");
    assert_eq!(controls[0]["owner"], "platform@acme.example");
    assert_eq!(controls[0]["frequency"], "per-event");
    assert_eq!(controls[1]["criteria"], serde_json::json!(["CC8.1", "CC7.1"]));
}

#[test]
fn a_sample_size_out_of_range_is_named_at_its_line() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    std::fs::write(
        ws.join("controls/zz-size.toml"),
        "[[control]]\nid = \"SZ-1\"\ntitle = \"t\"\ncriteria = [\"CC8.1\"]\nowner = \"o\"\nfrequency = \"daily\"\npractice = \"p\"\n\n\
         [[control.evidence]]\nname = \"all\"\nsource = \"deploys\"\nsample = 4294967296\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["check"]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("controls/zz-size.toml:12:10:"), "{}", run.stderr);
    assert!(run.stderr.contains("4294967296 is out of range"), "{}", run.stderr);
    std::fs::remove_file(ws.join("controls/zz-size.toml")).unwrap();
    let config = ws.join("quarterdeck.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replacen("per-event = 25", "per-event = 25\ndaily = 0", 1)).unwrap();
    let run = sb.at(&ws, &["check"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("quarterdeck.toml:") && run.stderr.contains("`daily` = 0 is out of range"),
        "{}",
        run.stderr
    );
    let big = sb.at(&ws, &["sample", "CHG-1", "--period", "2026-Q3", "--n", "4294967296"]);
    assert_eq!(big.code, 2, "a usage error: {}", big.stderr);
}
