//! Reviewer sign-off on the demo: a tester cannot review their own control,
//! someone else can once every sampled row is decided; the sign-off is in
//! the log, in `audit show`, and `verify` holds it to the log.

use crate::common::{Run, Sandbox, scalar};

fn demo(sb: &Sandbox) -> std::path::PathBuf {
    let dir = sb.path().join("northwind");
    sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    dir
}

/// A command run as `who` ($QUARTERDECK_ACTOR), each its own process.
fn as_person(sb: &Sandbox, ws: &std::path::Path, who: &str, args: &[&str]) -> Run {
    let mut all = vec!["--workspace", ws.to_str().unwrap()];
    all.extend_from_slice(args);
    sb.command(&all).env("QUARTERDECK_ACTOR", who).output().unwrap().into()
}

#[track_caller]
fn refused(run: Run, needle: &str) {
    assert_eq!(run.code, 4, "expected a refusal: {}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(needle), "{}", run.stderr);
}

fn verify_ok(sb: &Sandbox, ws: &std::path::Path) {
    let run = sb.at(ws, &["verify"]);
    assert_eq!(run.code, 0, "verify: {}{}", run.stdout, run.stderr);
}

const ANA: &str = "ana@northwind.example";

#[test]
fn a_control_is_reviewed_by_someone_who_did_not_test_it() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "AC-4,CHG-1", "--seed", "s"]).ok();
    let sample = sb.at(&ws, &["--format", "json", "sample", "AC-4", "--audit", "2026-Q3"]).ok().json();
    let keys: Vec<String> =
        sample["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect();
    assert!(keys.len() > 1, "{sample}");
    let review = |who: &str, conclusion: &str| {
        as_person(&sb, &ws, who, &["review", "2026-Q3", "AC-4", "--conclusion", conclusion])
    };

    // Testing under way: nothing to sign off yet.
    sb.at(&ws, &["verdict", "2026-Q3", "AC-4", &keys[0], "pass", "--note", "ticket seen"]).ok();
    refused(review(ANA, "done"), &format!("{} of {} sampled row(s) have no verdict yet", keys.len() - 1, keys.len()));
    for key in &keys[1..] {
        sb.at(&ws, &["verdict", "2026-Q3", "AC-4", key, "pass", "--note", "ticket seen"]).ok();
    }

    // The tester cannot review their own work; nothing is written.
    let before = scalar(&ws, "SELECT count(*) FROM qd.action_log");
    let own = review("tester", "all good");
    refused(
        own,
        "`tester` recorded verdicts on control `AC-4` in audit `2026-Q3`: a tester cannot review their own work",
    );
    refused(review(ANA, "  "), "a review needs a conclusion, which is logged; give it with --conclusion");
    refused(
        as_person(&sb, &ws, ANA, &["review", "2026-Q3", "AC-9", "--conclusion", "x"]),
        "is not in the scope of audit `2026-Q3`",
    );
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.action_log"), before);
    let json = as_person(&sb, &ws, ANA, &["--format", "json", "review", "2026-Q3", "AC-4", "--conclusion", "x"]);
    assert_eq!(json.code, 2, "{}", json.stderr);
    assert!(json.stderr.contains("--format json is not supported by review"), "{}", json.stderr);

    // Someone else can.
    let signed = review(ANA, "Every quarterly review was ticketed and on time.").ok();
    assert_eq!(
        signed.stdout.trim(),
        format!("AC-4 reviewed by {ANA} in 2026-Q3: Every quarterly review was ticketed and on time.")
    );
    assert_eq!(scalar(&ws, "SELECT action FROM qd.action_log ORDER BY seq DESC LIMIT 1"), "review.sign");
    assert_eq!(scalar(&ws, "SELECT actor FROM qd.action_log ORDER BY seq DESC LIMIT 1"), ANA);
    verify_ok(&sb, &ws);

    let show = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    let reviews = show["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1, "{show}");
    assert_eq!(reviews[0]["control"], "AC-4");
    assert_eq!(reviews[0]["reviewer"], ANA);
    assert_eq!(reviews[0]["conclusion"], "Every quarterly review was ticketed and on time.");
    assert!(reviews[0]["reviewed_at"].as_str().unwrap().starts_with("2026-11-26 12:00:00"), "{show}");
    assert_eq!(show["unreviewed"], serde_json::json!(["CHG-1"]));
    let control = |id: &str| show["controls"].as_array().unwrap().iter().find(|c| c["control"] == id).unwrap().clone();
    assert_eq!(control("AC-4")["reviewer"], ANA);
    assert_eq!(control("CHG-1")["reviewer"], serde_json::Value::Null);
    let table = sb.at(&ws, &["audit", "show", "2026-Q3"]).ok().stdout;
    assert!(table.contains(&format!("reviewed: AC-4 by {ANA} at 2026-11-26 12:00:00")), "{table}");
    assert!(table.contains("not reviewed: CHG-1"), "{table}");

    // A review edited behind the tool's back is caught.
    let db = ws.join("workspace.duckdb");
    let backup = sb.path().join("backup.duckdb");
    std::fs::copy(&db, &backup).unwrap();
    duckdb::Connection::open(&db).unwrap().execute_batch("UPDATE qd.reviews SET conclusion = 'looked fine'").unwrap();
    let run = sb.at(&ws, &["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("qd.reviews: AC-4 in 2026-Q3 reviewed by `ana@northwind.example` (`looked fine`) is recorded but not in the log"), "{}", run.stderr);
    std::fs::copy(&backup, &db).unwrap();
    verify_ok(&sb, &ws);

    // A re-review is a new row; a closed audit takes none.
    review("ben@northwind.example", "Re-reviewed after the walkthrough.").ok();
    let show = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    assert_eq!(show["reviews"].as_array().unwrap().len(), 2);
    assert_eq!(show["controls"][0]["reviewer"], "ben@northwind.example", "the latest counts");
    // A reviewer's name and words reach the terminal only as text.
    const HOSTILE: &str = "t\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{200f}\u{61c}x";
    let unsafe_char = |c: char| c.is_control() && c != '\n' || matches!(c, '\u{202e}' | '\u{200f}' | '\u{61c}');
    let hostile = review(HOSTILE, &format!("fine\n{HOSTILE}")).ok();
    let table = sb.at(&ws, &["audit", "show", "2026-Q3"]).ok();
    for shown in [hostile.stdout, table.stdout] {
        assert!(!shown.chars().any(unsafe_char), "{shown:?}");
    }
    let show = sb.at(&ws, &["--format", "json", "audit", "show", "2026-Q3"]).ok().json();
    assert_eq!(show["reviews"][2]["reviewer"], HOSTILE, "JSON keeps the text exactly, only escaped");
    sb.at(&ws, &["audit", "close", "2026-Q3"]).ok();
    refused(review("carol@northwind.example", "too late"), "is closed");
    verify_ok(&sb, &ws);
}
