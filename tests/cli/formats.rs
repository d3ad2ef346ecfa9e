//! `--format` is honoured or refused, never ignored: JSON parses, CSV is a
//! header and records, booleans are true and false, and a command that
//! cannot give a format says so with exit 2.

use crate::common::{Run, Sandbox, scalar, workspace_in_audit};

#[test]
fn a_format_a_command_cannot_give_is_refused_with_exit_2() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let refusals: [(&[&str], &str); 7] = [
        (&["--format", "json", "audit", "start", "2026-Q3"], "--format json is not supported by audit start"),
        (&["--format", "csv", "verify"], "--format csv is not supported by verify"),
        (
            &["--format", "json", "verdict", "2026-Q3", "CHG-1", "d-1", "pass"],
            "--format json is not supported by verdict",
        ),
        (
            &["--format", "csv", "findings", "set", "F-1", "--owner", "x"],
            "--format csv is not supported by findings set",
        ),
        (&["--format", "json", "completions", "bash"], "--format json is not supported by completions"),
        (&["--format", "json", "man"], "--format json is not supported by man"),
        (&["--format", "csv", "init", "elsewhere"], "--format csv is not supported by init"),
    ];
    for (args, message) in refusals {
        let run = sb.at(&ws, args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.audits"), "0", "a refused format changes nothing");
    assert!(!sb.path().join("elsewhere").exists());
}

/// `--format json` parses as JSON, `--format csv` is a header and records,
/// and the table is there: for every command that claims all three.
#[test]
fn every_command_that_claims_a_format_gives_it() {
    let sb = Sandbox::new();
    let (ws, finding) = workspace_in_audit(&sb);
    let commands: [&[&str]; 15] = [
        &["check"],
        &["criteria"],
        &["controls"],
        &["sources"],
        &["sources", "--period", "2026-Q3"],
        &["ingest", "deploys"],
        &["test", "CHG-1", "--period", "2026-Q3"],
        &["query", "SELECT deploy_id, approver IS NOT NULL AS approved FROM deploys"],
        &["audit", "list"],
        &["audit", "show", "2026-Q3"],
        &["sample", "CHG-1", "--audit", "2026-Q3"],
        &["findings", "list"],
        &["findings", "show", &finding],
        &["requests", "list"],
        &["verify"],
    ];
    for args in commands {
        let claims_csv = args != ["verify"];
        let ok = |run: Run| {
            assert!(run.code == 0 || (args[0] == "test" && run.code == 1), "{args:?}: {}", run.stderr);
            run
        };
        let table = ok(sb.at(&ws, args));
        assert!(!table.stdout.trim().is_empty(), "{args:?}: no table");
        let mut json_args = vec!["--format", "json"];
        json_args.extend_from_slice(args);
        let json = ok(sb.at(&ws, &json_args)).json();
        assert!(json.is_array() || json.is_object(), "{args:?}: {json}");
        let mut csv_args = vec!["--format", "csv"];
        csv_args.extend_from_slice(args);
        let csv = sb.at(&ws, &csv_args);
        if claims_csv {
            let csv = ok(csv);
            let header = csv.stdout.lines().next().unwrap_or_default();
            assert!(!header.is_empty() && !header.contains(' ') || header.contains(','), "{args:?}: {}", csv.stdout);
            assert!(!csv.stdout.contains('✓') && !csv.stdout.contains('✗'), "{args:?}: {}", csv.stdout);
        } else {
            assert_eq!(csv.code, 2, "{args:?}");
        }
        assert!(!json.to_string().contains('✓'), "{args:?}: {json}");
    }
}

#[test]
fn check_in_json_gives_a_ci_every_problem_and_still_fails() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let clean = sb.at(&ws, &["--format", "json", "check"]).ok();
    assert_eq!(clean.json(), serde_json::json!([]));
    assert_eq!(sb.at(&ws, &["--format", "csv", "check"]).ok().stdout, "file,line,col,message,warning\n");
    let mapping = ws.join("controls/change.toml");
    let text = std::fs::read_to_string(&mapping).unwrap().replacen("\"CC8.1\"]", "\"CC6.9\"]", 1);
    std::fs::write(&mapping, text).unwrap();
    let run = sb.at(&ws, &["--format", "json", "check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let problems = run.json();
    let problem = &problems.as_array().unwrap()[0];
    assert_eq!(problem["file"], "controls/change.toml");
    assert_eq!(problem["line"], 5);
    assert!(problem["col"].as_u64().unwrap() > 0);
    assert!(problem["message"].as_str().unwrap().contains("unknown criterion `CC6.9`"), "{problem}");
    assert_eq!(problem["warning"], false);
    let csv = sb.at(&ws, &["--format", "csv", "check"]);
    assert_eq!(csv.code, 1);
    assert!(csv.stdout.lines().nth(1).unwrap().starts_with("controls/change.toml,5,"), "{}", csv.stdout);
}

#[test]
fn verify_in_json_says_ok_entries_head_and_problems() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let ok = sb.at(&ws, &["--format", "json", "verify"]).ok().json();
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["entries"], 2);
    assert!(ok["head"].as_str().unwrap().starts_with("2:"), "{ok}");
    assert_eq!(ok["problems"], serde_json::json!([]));
    {
        let conn = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
        conn.execute_batch("UPDATE qd.action_log SET actor = 'mallory' WHERE seq = 1").unwrap();
    }
    let run = sb.at(&ws, &["--format", "json", "verify"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let broken = run.json();
    assert_eq!(broken["ok"], false);
    assert!(broken["problems"][0].as_str().unwrap().contains("entry 1 was altered"), "{broken}");
}

#[test]
fn audit_and_finding_show_in_csv_and_json_with_true_and_false() {
    let sb = Sandbox::new();
    let (ws, finding) = workspace_in_audit(&sb);
    let audit = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    assert_eq!(audit["label"], "2026-Q3");
    assert_eq!(audit["mapping_changed"], false);
    assert_eq!(audit["controls"][0]["control"], "CHG-1");
    let csv = sb.at(&ws, &["--format", "csv", "audit", "show", "2026-Q3"]).ok().stdout;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("audit,control,result,sampled,passed,exceptions,na,undecided,missed_slots,reviewer"));
    assert!(lines.next().unwrap().starts_with("2026-Q3,CHG-1,"), "{csv}");

    let shown = sb.at(&ws, &["--format", "json", "findings", "show", &finding]).ok().json();
    assert_eq!(shown["id"], finding.as_str());
    assert_eq!(shown["overdue"], true, "due 2026-10-01, now 2026-11-26");
    assert_eq!(shown["regression"], false);
    assert_eq!(shown["events"][0]["actor"], "tester");
    let csv = sb.at(&ws, &["--format", "csv", "findings", "show", &finding]).ok().stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,audit,control,title,description,severity,owner,due,status,overdue,regression"));
    assert!(
        lines[1].starts_with(&format!(
            "{finding},2026-Q3,CHG-1,Deploy without review,,high,ana@acme.example,2026-10-01,open,true,false,"
        )),
        "{csv}"
    );
    // A sample's tests are true or false too, never a tick; the row follows
    // in the question's order: the period column, what the tests read, the rest.
    let sample = sb.at(&ws, &["--format", "csv", "sample", "CHG-1", "--audit", "2026-Q3"]).ok().stdout;
    assert!(sample.starts_with("key,rank,approved,independent,deployed_at,approver,deployer,"), "{sample}");
    assert!(sample.lines().next().is_some_and(|h| h.ends_with(",verdict,note,attachments")), "{sample}");
    assert!(sample.lines().skip(1).all(|l| l.contains(",true,") || l.contains(",false,")), "{sample}");
}
