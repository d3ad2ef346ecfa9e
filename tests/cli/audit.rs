//! A whole mock audit on the demo, then the next quarter's: reproducible
//! samples, verdicts, findings, retests, auditor requests and the action log.

use serde_json::Value;

use crate::common::{Run, Sandbox, scalar};

fn demo(sb: &Sandbox) -> std::path::PathBuf {
    let dir = sb.path().join("northwind");
    sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    dir
}

fn json_sample(sb: &Sandbox, ws: &std::path::Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json", "sample"];
    all.extend_from_slice(args);
    sb.at(ws, &all).ok().json()
}

fn verify_ok(sb: &Sandbox, ws: &std::path::Path) {
    let run = sb.at(ws, &["verify"]);
    assert_eq!(run.code, 0, "verify: {}{}", run.stdout, run.stderr);
}

/// `findings add` with [audit, control, title, severity, owner] and extra flags.
fn add_finding(sb: &Sandbox, ws: &std::path::Path, fields: &[&str; 5], extra: &[&str]) -> Run {
    let [audit, control, title, severity, owner] = *fields;
    let mut args = vec!["findings", "add", "--audit", audit, "--control", control, "--title", title];
    args.extend(["--severity", severity, "--owner", owner]);
    args.extend_from_slice(extra);
    sb.at(ws, &args)
}

#[track_caller]
fn refused(run: Run, needle: &str) {
    assert_eq!(run.code, 4, "expected a refusal: {}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(needle), "{}", run.stderr);
}

/// The sample as an auditor re-performs it with DuckDB alone (docs/sampling.md).
fn reperform(ws: &std::path::Path, sample: &Value) -> (Vec<String>, String, String) {
    let sql = sample["population"]["sql"].as_str().unwrap();
    let seed = sample["seed"].as_str().unwrap();
    let key = "coalesce(CAST(deploy_id AS VARCHAR), '')";
    let size = sample["size"].as_u64().unwrap();
    let keys = scalar(
        ws,
        &format!(
            "SELECT string_agg(k, ',' ORDER BY r) FROM (SELECT {key} AS k, sha256('{seed}' || ':' || {key}) AS r
             FROM ({sql}) ORDER BY r LIMIT {size})"
        ),
    );
    let fingerprint = scalar(
        ws,
        &format!("SELECT sha256(string_agg(h, chr(10) ORDER BY h)) FROM (SELECT sha256({key}) AS h FROM ({sql}))"),
    );
    let count = scalar(ws, &format!("SELECT count(*) FROM ({sql})"));
    (keys.split(',').map(str::to_string).collect(), fingerprint, count)
}

#[test]
fn a_mock_audit_and_its_retest_next_quarter() {
    let sb = Sandbox::new();
    let ws = demo(&sb);

    // Q2: start, sample, verdicts, findings, close.
    let start = sb.at(&ws, &["audit", "start", "2026-Q2", "--controls", "all", "--seed", "q2-seed"]).ok();
    assert!(start.stdout.contains("audit 2026-Q2 started"), "{}", start.stdout);
    let chg1 = json_sample(&sb, &ws, &["CHG-1", "--audit", "2026-Q2"]);
    assert_eq!(chg1["size"], 25);
    assert_eq!(chg1["period"]["start"], "2026-04-01T00:00:00Z");
    assert!(chg1["method"].as_str().unwrap().contains("sha256"));
    let (keys, fingerprint, count) = reperform(&ws, &chg1);
    let drawn: Vec<String> =
        chg1["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(drawn, keys, "the sample is what an auditor re-performs by hand");
    assert_eq!(chg1["population"]["fingerprint"], fingerprint.as_str());
    assert_eq!(chg1["population"]["count"].to_string(), count);
    // Frozen: showing it again gives the same sample.
    assert_eq!(json_sample(&sb, &ws, &["CHG-1", "--audit", "2026-Q2"]), chg1);

    let first = chg1["rows"][0]["key"].as_str().unwrap();
    sb.at(&ws, &["verdict", "2026-Q2", "CHG-1", first, "exception", "--note", "approval missing in ticket"]).ok();
    let f1 = add_finding(
        &sb,
        &ws,
        &["2026-Q2", "CHG-1", "Deploy without approval", "high", "platform@northwind.example"],
        &["--due", "2026-12-31", "--row", first],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    assert_eq!(f1, "F-2026Q2-001");
    let chg2 = json_sample(&sb, &ws, &["CHG-2", "--audit", "2026-Q2"]);
    let pr = chg2["rows"][0]["key"].as_str().unwrap();
    sb.at(&ws, &["verdict", "2026-Q2", "CHG-2", pr, "exception"]).ok();
    let f2 = add_finding(
        &sb,
        &ws,
        &["2026-Q2", "CHG-2", "PR merged without review", "medium", "eng@northwind.example"],
        &["--due", "2026-01-31", "--row", pr],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    refused(sb.at(&ws, &["findings", "set", &f1, "--status", "closed"]), "only a passing retest closes a finding");
    refused(sb.at(&ws, &["findings", "set", &f1, "--status", "ready-for-retest"]), "is not allowed");
    for f in [&f1, &f2] {
        sb.at(&ws, &["findings", "set", f, "--status", "remediating", "--note", "fix under way"]).ok();
        sb.at(&ws, &["findings", "set", f, "--status", "ready-for-retest", "--note", "fixed"]).ok();
    }
    sb.at(&ws, &["audit", "close", "2026-Q2"]).ok();
    refused(sb.at(&ws, &["verdict", "2026-Q2", "CHG-1", first, "pass", "--note", "x"]), "is closed");
    refused(add_finding(&sb, &ws, &["2026-Q2", "CHG-1", "t", "low", "o"], &[]), "is closed");
    refused(
        sb.at(&ws, &["sample", "CHG-1", "--audit", "2026-Q2", "--redraw", "--reason", "late evidence"]),
        "is closed",
    );
    verify_ok(&sb, &ws);

    // Q3: two random controls plus the two carrying findings; CHG-1's retest
    // passes, CHG-2's fails.
    let start = sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "2", "--seed", "q3-seed"]).ok();
    assert!(start.stdout.contains("retesting controls with active findings: CHG-1, CHG-2"), "{}", start.stdout);
    let chg1 = json_sample(&sb, &ws, &["CHG-1", "--audit", "2026-Q3"]);
    for row in chg1["rows"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let clean = row["tests"].as_object().unwrap().values().all(|v| v == &Value::Bool(true));
        assert!(clean, "the demo's planted deploy is not in this seed's sample: {row}");
        sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", key, "pass"]).ok();
    }
    let chg2 = json_sample(&sb, &ws, &["CHG-2", "--audit", "2026-Q3"]);
    let pr = chg2["rows"][3]["key"].as_str().unwrap();
    sb.at(&ws, &["verdict", "2026-Q3", "CHG-2", pr, "exception", "--note", "approved after merge"]).ok();
    refused(sb.at(&ws, &["verdict", "2026-Q3", "CHG-2", "no-such-key", "pass"]), "is not in audit `2026-Q3`'s sample");
    let closed = sb.at(&ws, &["audit", "close", "2026-Q3"]).ok();
    assert!(closed.stdout.contains(&format!("retest passed: {f1} closed")), "{}", closed.stdout);
    assert!(closed.stdout.contains(&format!("retest failed: {f2} reopened (regression)")), "{}", closed.stdout);

    let list = sb.at(&ws, &["--format", "json", "findings", "list"]).ok().json();
    let by_id = |id: &str| list.as_array().unwrap().iter().find(|f| f["id"] == id).unwrap().clone();
    assert_eq!(by_id(&f1)["status"], "closed");
    assert_eq!(by_id(&f2)["status"], "open");
    assert_eq!(by_id(&f2)["regression"], true);
    assert_eq!(by_id(&f2)["overdue"], true, "due 2026-01-31 and open");
    let show = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    assert_eq!(show["status"], "closed");
    assert_eq!(show["findings_closed"], serde_json::json!([f1]));
    assert_eq!(show["regressions"], serde_json::json!([f2]));
    assert_eq!(show["previous_audit"], "2026-Q2");
    let history = sb.at(&ws, &["--format", "json", "findings", "show", &f2]).ok().json();
    let steps: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(steps, ["open", "remediating", "ready-for-retest", "open"]);
    verify_ok(&sb, &ws);
}

#[test]
fn the_same_seed_draws_the_same_sample_with_any_thread_count() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    let draw = |threads: &str| {
        let out = sb
            .command(&[
                "--workspace",
                ws.to_str().unwrap(),
                "--format",
                "json",
                "sample",
                "AC-1",
                "--period",
                "2026-Q3",
                "--seed",
                "fixed",
                "--n",
                "40",
            ])
            .env("QUARTERDECK_THREADS", threads)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = draw("1");
    assert_eq!(one, draw("2"));
    assert_eq!(one, draw("4"));
    let sample: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(sample["size"], 40);
    assert!(sample["population"]["count"].as_u64().unwrap() > 10_000);
}

#[test]
fn auditor_requests_are_answered_with_frozen_samples_and_tracked() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    let answer = sb
        .at(
            &ws,
            &[
                "--format",
                "json",
                "ask",
                "show me 10 random production changes from last quarter, with their approvals",
            ],
        )
        .ok()
        .json();
    assert_eq!(answer["control"], "CHG-1");
    assert_eq!(answer["size"], 10);
    let requests = sb.at(&ws, &["--format", "json", "requests", "list"]).ok().json();
    assert_eq!(requests[0]["control"], "CHG-1");
    assert_eq!(requests[0]["status"], "answered");
    assert!(requests[0]["sample_id"].as_i64().is_some());
    refused(sb.at(&ws, &["ask", "what is the airspeed velocity of an unladen swallow"]), "no question");
    verify_ok(&sb, &ws);
}

#[test]
fn verify_catches_an_altered_reordered_or_deleted_log_row() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1,AC-3", "--seed", "s"]).ok();
    verify_ok(&sb, &ws);
    let tamper = |sql: &str| {
        let conn = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
        conn.execute_batch(sql).unwrap();
    };
    let broken = |needle: &str| {
        let run = sb.at(&ws, &["verify"]);
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains(needle), "{}", run.stderr);
    };
    tamper("UPDATE qd.action_log SET actor = 'mallory' WHERE seq = 2");
    broken("entry 2 was altered");
    tamper("UPDATE qd.action_log SET actor = 'tester' WHERE seq = 2");
    verify_ok(&sb, &ws);
    // Swap entries 2 and 3, keeping seq in order.
    let swap = "UPDATE qd.action_log SET seq = -2 WHERE seq = 2; UPDATE qd.action_log SET seq = 2 WHERE seq = 3;
                UPDATE qd.action_log SET seq = 3 WHERE seq = -2;";
    tamper(swap);
    broken("entry 2");
    tamper(swap);
    verify_ok(&sb, &ws);
    tamper("DELETE FROM qd.action_log WHERE seq = 3");
    broken("seq 4 follows seq 2");
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1", "--seed", "s"]).ok();
    let before = scalar(&ws, "SELECT count(*) FROM qd.action_log");
    refused(sb.at(&ws, &["sample", "CHG-9", "--audit", "2026-Q3"]), "unknown control `CHG-9`");
    refused(sb.at(&ws, &["sample", "CHG-1", "--spec", "nope", "--audit", "2026-Q3"]), "no evidence spec `nope`");
    refused(
        sb.at(&ws, &["sample", "CHG-1", "--audit", "2026-Q3", "--redraw"]),
        "needs a reason, which is logged; give it with --reason",
    );
    refused(sb.at(&ws, &["audit", "start", "2026-Q3"]), "already exists");
    let typo = sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", "x", "maybe"]);
    assert_eq!(typo.code, 2, "a verdict typo is a usage error: {}", typo.stderr);
    assert!(typo.stderr.contains("[possible values: pass, exception, na]"), "{}", typo.stderr);
    refused(sb.at(&ws, &["verdict", "2026-Q9", "CHG-1", "x", "pass"]), "unknown audit `2026-Q9`");
    refused(sb.at(&ws, &["findings", "set", "F-2026Q3-999", "--status", "remediating"]), "unknown finding");
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.action_log"), before);
    let redraw = sb.at(&ws, &["sample", "CHG-1", "--audit", "2026-Q3", "--redraw", "--reason", "late evidence"]).ok();
    assert!(redraw.stdout.contains("CHG-1"));
    assert_eq!(scalar(&ws, "SELECT action FROM qd.action_log ORDER BY seq DESC LIMIT 1"), "sample.redraw");
    verify_ok(&sb, &ws);
}

#[test]
fn verify_checks_the_state_against_the_log_and_the_head_kept_beside_it() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1,AC-3", "--seed", "s"]).ok();
    let chg1 = json_sample(&sb, &ws, &["CHG-1", "--audit", "2026-Q3"]);
    let key = chg1["rows"][0]["key"].as_str().unwrap().to_string();
    sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", &key, "exception", "--note", "no ticket"]).ok();
    verify_ok(&sb, &ws);
    // The head file names the log's newest entry.
    let head = std::fs::read_to_string(ws.join("quarterdeck.head")).unwrap();
    let newest = scalar(&ws, "SELECT seq::VARCHAR || ':' || hash FROM qd.action_log ORDER BY seq DESC LIMIT 1");
    assert_eq!(head.trim(), newest);
    let db = ws.join("workspace.duckdb");
    let backup = sb.path().join("backup.duckdb");
    std::fs::copy(&db, &backup).unwrap();
    let tamper = |sql: &str| {
        std::fs::copy(&backup, &db).unwrap();
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute_batch(sql).unwrap();
    };
    let broken = |needle: &str| {
        let run = sb.at(&ws, &["verify"]);
        assert_eq!(run.code, 1, "{needle}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    };
    // Tail truncated: the chain still agrees with itself, the head file does not.
    tamper("DELETE FROM qd.action_log WHERE seq = (SELECT max(seq) FROM qd.action_log)");
    broken("entries after");
    // ... and a write refuses to build on it.
    let refused = sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", &key, "pass", "--note", "x"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("quarterdeck.head"), "{}", refused.stderr);
    tamper("UPDATE qd.verdicts SET verdict = 'pass'");
    broken("qd.verdicts");
    tamper("UPDATE qd.sample_rows SET row_json = replace(row_json, 'production', 'staging')");
    broken("frozen rows differ");
    tamper("DELETE FROM qd.ingest_runs WHERE source = 'deploys'");
    broken("qd.ingest_runs: ingest run");
    tamper("UPDATE qd.audits SET seed = 'other'");
    broken("seed is `other`");
    tamper("UPDATE qd.samples SET population_count = population_count - 1");
    broken("population_count");
    // A short mapping version in the database is shown, never a panic.
    tamper("UPDATE qd.audits SET mapping_version = 'ab'");
    let list = sb.at(&ws, &["audit", "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    std::fs::copy(&backup, &db).unwrap();
    verify_ok(&sb, &ws);
    // A head held elsewhere: the log must still contain it.
    let run = sb.at(&ws, &["verify", "--expect-head", head.trim()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let later = format!("{}:{}", newest.split(':').next().unwrap().parse::<i64>().unwrap() + 5, "a".repeat(64));
    let run = sb.at(&ws, &["verify", "--expect-head", &later]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--expect-head"), "{}", run.stderr);
    let run = sb.at(&ws, &["verify", "--expect-head", "soon"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}

#[test]
fn an_ingest_under_an_open_audit_is_in_the_log() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1", "--seed", "s"]).ok();
    sb.at(&ws, &["ingest", "deploys"]).ok();
    let payload: serde_json::Value = serde_json::from_str(&scalar(
        &ws,
        "SELECT payload FROM qd.action_log WHERE action = 'ingest.run' ORDER BY seq DESC LIMIT 1",
    ))
    .unwrap();
    assert_eq!(payload["source"], "deploys");
    assert_eq!(payload["status"], "ok");
    assert_eq!(payload["files"][0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(payload["open_audits"][0]["audit"], "2026-Q3");
    assert_eq!(payload["open_audits"][0]["rows_before"], payload["open_audits"][0]["rows_after"]);
    verify_ok(&sb, &ws);
}

/// The same hostile corpus at every CLI path to a terminal: finding fields,
/// actor names, notes, in listings, details and errors.
#[test]
fn hostile_text_in_findings_notes_and_actors_reaches_the_terminal_only_as_text() {
    const HOSTILE: &str = "t\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{200f}\u{61c}x";
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "CHG-1", "--seed", "s"]).ok();
    let chg1 = json_sample(&sb, &ws, &["CHG-1", "--audit", "2026-Q3"]);
    let key = chg1["rows"][0]["key"].as_str().unwrap().to_string();
    let mut verdict = sb.command(&[
        "--workspace",
        ws.to_str().unwrap(),
        "verdict",
        "2026-Q3",
        "CHG-1",
        &key,
        "exception",
        "--note",
        HOSTILE,
    ]);
    verdict.env("QUARTERDECK_ACTOR", HOSTILE);
    assert_eq!(verdict.status().unwrap().code(), Some(0));
    add_finding(&sb, &ws, &["2026-Q3", "CHG-1", HOSTILE, "high", HOSTILE], &["--row", &key]).ok();
    let unsafe_char = |c: char| c.is_control() && c != '\n' || matches!(c, '\u{202e}' | '\u{200f}' | '\u{61c}');
    for args in [
        &["findings", "list"][..],
        &["findings", "show", "F-2026Q3-001"],
        &["--format", "json", "findings", "show", "F-2026Q3-001"],
        &["--format", "json", "findings", "list"],
        &["sample", "CHG-1", "--audit", "2026-Q3"],
        &["audit", "show", "2026-Q3"],
        &["findings", "show", HOSTILE],
    ] {
        let run = sb.at(&ws, args);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(!shown.chars().any(unsafe_char), "{args:?}: {shown:?}");
    }
    let json = sb.at(&ws, &["--format", "json", "findings", "show", "F-2026Q3-001"]).ok().json();
    assert_eq!(json["title"], HOSTILE, "JSON keeps the text exactly, only escaped");
}
