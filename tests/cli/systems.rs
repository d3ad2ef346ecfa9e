//! The system inventory and expected occurrences, end to end on a small
//! workspace in New York time: drift from `systems`, missed slots from `test`
//! and in an audit, findings naming a system or a slot, and hostile input
//! refused at file:line:col.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use crate::common::{Run, Sandbox, file_hash};

const CONFIG: &str = r#"[workspace]
name = "Inventory test"
timezone = "America/New_York"

[[source]]
name = "deploys"
format = "csv"
path = "evidence/deploys.csv"
key = ["deploy_id"]
timestamp = "deployed_at"
fresh_within = "30d"

[[source]]
name = "backups"
format = "csv"
path = "evidence/backups.csv"
key = ["backup_id"]
timestamp = "started_at"
fresh_within = "30d"

[[source]]
name = "signins"
format = "csv"
path = "evidence/signins.csv"
key = ["event_id"]
timestamp = "ts"
fresh_within = "30d"
"#;

const SYSTEMS: &str = r#"[inventory]
reviewed_at = 2026-07-10
reviewer = "security@acme.example"

[[observe]]
source = "deploys"
column = "service"
where = "environment = 'production'"

[[observe]]
source = "backups"
column = "system"

[[observe]]
source = "signins"
column = "app"
map = { "Zendesk" = "zendesk" }

[[system]]
id = "api"
kind = "service"
owner = "platform@acme.example"
environment = "production"
added = 2024-03-01

[[system]]
id = "postgres-orders"
kind = "datastore"
owner = "data@acme.example"

[[system]]
id = "redis-cache"
kind = "datastore"
owner = "platform@acme.example"

[[system]]
id = "zendesk"
kind = "saas"
owner = "support@acme.example"
retired = 2026-05-31
"#;

const CONTROLS: &str = r#"[[control]]
id = "RES-1"
title = "Every data store is backed up every night"
criteria = ["A1.2"]
owner = "sre@acme.example"
frequency = "daily"

[[control.evidence]]
name = "successful backups"
source = "backups"
where = "status = 'success'"
applies_to = { kind = ["datastore"] }
system = "system"
expect = "daily"
per = ["system"]
grace = "12h"

[[control]]
id = "CHG-1"
title = "Production deploys are recorded"
criteria = ["CC8.1"]
owner = "platform@acme.example"
frequency = "per-event"

[[control.evidence]]
name = "prod deploys"
source = "deploys"
where = "environment = 'production'"
tests = { recorded = "deploy_id IS NOT NULL" }
"#;

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The evidence: a deploy a day of `api`; `billing` deploying from
/// 2026-08-14 (not in the inventory); a postgres backup every day at 20:00
/// UTC except 2026-08-03, the one of 2026-08-20 landing late (10:00 New York
/// the next morning, inside the 12h grace); redis never backed up; sign-ins
/// to the retired Zendesk in September.
fn workspace(sb: &Sandbox) -> PathBuf {
    let ws = sb.path().join("ws");
    std::fs::create_dir_all(ws.join("evidence")).unwrap();
    std::fs::create_dir_all(ws.join("controls")).unwrap();
    std::fs::write(ws.join("quarterdeck.toml"), CONFIG).unwrap();
    std::fs::write(ws.join("systems.toml"), SYSTEMS).unwrap();
    std::fs::write(ws.join("controls/controls.toml"), CONTROLS).unwrap();
    let (mut deploys, mut backups, mut signins) = (
        String::from("deploy_id,deployed_at,environment,service\n"),
        String::from("backup_id,started_at,system,status\n"),
        String::from("event_id,ts,app\n"),
    );
    let start = NaiveDate::from_ymd_opt(2026, 6, 25).unwrap();
    for i in 0..110 {
        let d = start + Duration::days(i);
        let _ = writeln!(deploys, "d-{i},{} 15:00:00,production,api", day(d));
        let _ = writeln!(deploys, "s-{i},{} 16:00:00,staging,scratch", day(d));
        if d >= NaiveDate::from_ymd_opt(2026, 8, 14).unwrap() {
            let _ = writeln!(deploys, "b-{i},{} 17:00:00,production,billing", day(d));
        }
        let missing = day(d) == "2026-08-03";
        let late = day(d) == "2026-08-20";
        if !missing {
            let at =
                if late { format!("{} 14:00:00", day(d + Duration::days(1))) } else { format!("{} 20:00:00", day(d)) };
            let _ = writeln!(backups, "bk-{i},{at},postgres-orders,success");
        }
        if d.format("%m").to_string() == "09" {
            let _ = writeln!(signins, "e-{i},{} 13:00:00,Zendesk", day(d));
        }
        let _ = writeln!(signins, "o-{i},{} 12:00:00,api", day(d));
    }
    std::fs::write(ws.join("evidence/deploys.csv"), deploys).unwrap();
    std::fs::write(ws.join("evidence/backups.csv"), backups).unwrap();
    std::fs::write(ws.join("evidence/signins.csv"), signins).unwrap();
    for source in ["deploys", "backups", "signins"] {
        sb.at(&ws, &["ingest", source]).ok();
    }
    ws
}

#[track_caller]
fn code(run: &Run, expected: i32) {
    assert_eq!(run.code, expected, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

fn drift(sb: &Sandbox, ws: &Path) -> Vec<(String, String)> {
    let run = sb.at(ws, &["--format", "json", "systems", "--period", "2026-Q3", "--drift"]);
    code(&run, 1);
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d["system"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn systems_reports_each_kind_of_drift_and_exits_1() {
    let sb = Sandbox::new();
    let ws = workspace(&sb);
    let check = sb.at(&ws, &["check"]);
    code(&check, 0);
    assert_eq!(
        drift(&sb, &ws),
        [
            ("unknown".to_string(), "billing".to_string()),
            ("retired-but-active".to_string(), "zendesk".to_string()),
            ("uncovered".to_string(), "redis-cache".to_string()),
        ]
    );
    let report = sb.at(&ws, &["--format", "json", "systems", "--period", "2026-Q3"]).json();
    let unknown = &report["drift"][0];
    assert_eq!(unknown["first_seen"], "2026-08-14");
    assert_eq!(unknown["source"], "deploys");
    assert_eq!(unknown["rows"], 48, "2026-08-14 to 2026-09-30: {unknown}");
    let zendesk = &report["drift"][1];
    assert_eq!(zendesk["last_seen"], "2026-09-30");
    let systems = report["systems"].as_array().unwrap();
    let postgres = systems.iter().find(|s| s["id"] == "postgres-orders").unwrap();
    assert_eq!(postgres["covered_by"], serde_json::json!(["RES-1"]));
    assert_eq!(postgres["first_seen"], "2026-07-01");
    let redis = systems.iter().find(|s| s["id"] == "redis-cache").unwrap();
    assert_eq!(redis["uncovered_by"], serde_json::json!(["RES-1"]));
    assert_eq!(report["review"]["overdue"], false);
    // The staging deploys of `scratch` are outside the observe rule's filter.
    assert!(!report["drift"].to_string().contains("scratch"));

    // A review older than the window is drift too, judged as of the period's end.
    let text = std::fs::read_to_string(ws.join("quarterdeck.toml")).unwrap();
    std::fs::write(ws.join("quarterdeck.toml"), format!("{text}\n[inventory]\nreview_within = \"30d\"\n")).unwrap();
    assert!(drift(&sb, &ws).contains(&("review-overdue".to_string(), String::new())));

    let table = sb.at(&ws, &["systems", "--period", "2026-Q3"]);
    code(&table, 1);
    assert!(table.stdout.contains("`billing` is in deploys.service from 2026-08-14"), "{}", table.stdout);
}

#[test]
fn missed_slots_are_exceptions_in_test_and_in_the_audit_and_findings_name_them() {
    let sb = Sandbox::new();
    let ws = workspace(&sb);
    let rows = sb.at(&ws, &["--format", "json", "test", "RES-1", "--period", "2026-Q3"]);
    code(&rows, 1);
    let rows = rows.json();
    let expect = rows.as_array().unwrap().iter().find(|r| r["test"] == "expect daily per system").unwrap();
    // 92 New York days × two data stores; redis is never backed up, postgres
    // misses 2026-08-03 only (2026-08-20's landed within the grace).
    assert_eq!(expect["population"], 184);
    assert_eq!(expect["failed"], 93);
    assert_eq!(expect["passed"], 91);
    let missed: Vec<&str> = expect["failing_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert!(missed.contains(&"2026-08-03 | postgres-orders"), "{missed:?}");
    assert!(!missed.contains(&"2026-08-20 | postgres-orders"), "{missed:?}");
    assert_eq!(missed.iter().filter(|k| k.ends_with("redis-cache")).count(), 92);

    // The workspace's zone decides, never the runner's.
    let mut elsewhere =
        sb.command(&["--workspace", ws.to_str().unwrap(), "--format", "json", "test", "RES-1", "--period", "2026-Q3"]);
    let tokyo = elsewhere.env("TZ", "Asia/Tokyo").output().unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&tokyo.stdout).unwrap(), rows);

    sb.at(&ws, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    let shown = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    let res = shown["controls"].as_array().unwrap().iter().find(|c| c["control"] == "RES-1").unwrap().clone();
    assert_eq!(res["result"], "exceptions noted");
    assert_eq!(res["missed_slots"], 93);

    let add = |extra: &[&str]| {
        let mut args = vec!["findings", "add", "--audit", "2026-Q3", "--title", "gap", "--severity", "medium"];
        args.extend(["--owner", "sre@acme.example"]);
        args.extend_from_slice(extra);
        sb.at(&ws, &args)
    };
    let slot = add(&["--control", "RES-1", "--slot", "2026-08-03|postgres-orders"]);
    code(&slot, 0);
    let id = slot.stdout.trim().to_string();
    let finding = sb.at(&ws, &["--format", "json", "findings", "show", &id]).ok().json();
    assert_eq!(finding["slot"], "2026-08-03 | postgres-orders");
    let wrong = add(&["--control", "RES-1", "--slot", "2026-08-04 | postgres-orders"]);
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("no missed slot `2026-08-04 | postgres-orders`"), "{}", wrong.stderr);
    let system = add(&["--control", "CHG-1", "--system", "billing"]);
    code(&system, 0);
    let finding = sb.at(&ws, &["--format", "json", "findings", "show", system.stdout.trim()]).ok().json();
    assert_eq!(finding["system"], "billing");
    code(&sb.at(&ws, &["verify"]), 0);
}

#[test]
fn hostile_inventories_and_schedules_are_refused_at_their_place() {
    let sb = Sandbox::new();
    let ws = workspace(&sb);
    let db = file_hash(&ws.join("workspace.duckdb"));
    let cases: [(&str, String, &str); 4] = [
        (
            "systems.toml",
            format!("{SYSTEMS}\n[[system]]\nid = \"api\"\nkind = \"service\"\n"),
            "systems.toml:43:6: system `api` is listed twice (first at systems.toml:20:6)",
        ),
        (
            "systems.toml",
            SYSTEMS.replace("column = \"service\"", "column = \"servce\""),
            "systems.toml:7:10: observe `deploys.servce`: field `column`: no column `servce` in source `deploys`; did you mean `service`?",
        ),
        (
            "systems.toml",
            SYSTEMS.replace("kind = \"datastore\"\nowner = \"data", "kind = \"data-store\"\nowner = \"data"),
            "unknown kind `data-store`",
        ),
        (
            "controls/controls.toml",
            CONTROLS.replace("applies_to = { kind = [\"datastore\"] }", "applies_to = { ids = [\"postgres-order\"] }"),
            "controls/controls.toml:12:23: control `RES-1`, evidence `successful backups`: field `applies_to.ids`: no system `postgres-order` in systems.toml; did you mean `postgres-orders`?",
        ),
    ];
    for (file, text, expected) in cases {
        let original = std::fs::read_to_string(ws.join(file)).unwrap();
        std::fs::write(ws.join(file), text).unwrap();
        let run = sb.at(&ws, &["check"]);
        code(&run, 1);
        assert!(run.stderr.contains(expected), "{file}: wanted {expected}\n{}", run.stderr);
        std::fs::write(ws.join(file), original).unwrap();
    }
    // `expect` on a SELECT without a period column.
    let select = CONTROLS.replace(
        "source = \"backups\"\nwhere = \"status = 'success'\"",
        "population = \"SELECT backup_id, system FROM backups\"\nkey = [\"backup_id\"]",
    );
    std::fs::write(ws.join("controls/controls.toml"), select).unwrap();
    let run = sb.at(&ws, &["check"]);
    code(&run, 1);
    assert!(run.stderr.contains("controls/controls.toml:14:10: control `RES-1`, evidence `successful backups`: field `expect` needs a period column"), "{}", run.stderr);
    std::fs::write(ws.join("controls/controls.toml"), CONTROLS).unwrap();

    // A broken inventory: `systems` exits 4 naming the place; nothing changed.
    std::fs::write(ws.join("systems.toml"), SYSTEMS.replace("retired = 2026-05-31", "retired = \"end of May\""))
        .unwrap();
    let run = sb.at(&ws, &["systems"]);
    code(&run, 4);
    assert!(run.stderr.contains("systems.toml:40:11: system `zendesk`: field `retired`"), "{}", run.stderr);
    std::fs::write(ws.join("systems.toml"), "[[system]\nid = \"x\"").unwrap();
    let run = sb.at(&ws, &["systems"]);
    code(&run, 4);
    assert!(run.stderr.starts_with("systems.toml:1:"), "{}", run.stderr);
    assert_eq!(file_hash(&ws.join("workspace.duckdb")), db);
}
