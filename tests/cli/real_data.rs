//! Ingest, `sources` and `test` on real public data (../shared/data): data
//! not shaped for the product. Skipped, saying so, where it is absent.

use std::path::Path;

use crate::common::{Sandbox, shared_data};

fn real_workspace(sb: &Sandbox, data: &Path) -> std::path::PathBuf {
    let ws = sb.path().join("oss");
    std::fs::create_dir_all(ws.join("controls")).unwrap();
    let commits = data.join("openssh_commits.csv");
    let auth = data.join("loghub_openssh_auth.csv");
    std::fs::write(
        ws.join("quarterdeck.toml"),
        format!(
            r#"[workspace]
name = "OpenSSH portable (public data)"
timezone = "Australia/Brisbane"

[[source]]
name = "commits"
format = "csv"
path = "{}"
key = ["commit"]
timestamp = "committed_at"
fresh_within = "7d"

[[source]]
name = "sshd_log"
format = "csv"
path = "{}"
key = ["line_id"]
timestamp = "ts"
fresh_within = "1d"
mode = "replace"
"#,
            commits.display(),
            auth.display()
        ),
    )
    .unwrap();
    std::fs::write(
        ws.join("controls/change.toml"),
        r#"[[control]]
id = "OSS-CHG-1"
title = "Upstream commits name an approving developer"
criteria = ["CC8.1"]
owner = "maintainers@openssh.example"
frequency = "per-event"
practice = "OpenBSD commits carry `ok user@` approvals in the message."

[[control.evidence]]
name = "commits"
source = "commits"
tests = { approved = "approvers IS NOT NULL AND approvers <> ''", independent = "NOT contains(coalesce(approvers, ''), split_part(author_email, '@', 1))" }

[[control]]
id = "OSS-ACC-1"
title = "Failed logins are recorded with their source address"
criteria = ["CC6.1", "CC7.2"]
owner = "ops@openssh.example"
frequency = "daily"

[[control.evidence]]
name = "failed logins"
source = "sshd_log"
where = "outcome = 'failure'"
tests = { has_source = "src_ip IS NOT NULL" }
"#,
    )
    .unwrap();
    ws
}

#[test]
fn real_public_data_ingests_checks_and_tests() {
    let Some(data) = shared_data() else {
        eprintln!("skipped: ../shared/data is absent, so the real-data test cannot run");
        return;
    };
    let sb = Sandbox::new();
    let ws = real_workspace(&sb, &data);
    let commits = sb.at(&ws, &["--format", "json", "ingest", "commits"]).ok().json();
    assert_eq!(commits[0]["rows"], 1006);
    let log = sb.at(&ws, &["--format", "json", "ingest", "sshd_log"]).ok().json();
    assert_eq!(log[0]["rows"], 2000);
    sb.at(&ws, &["check"]).ok();

    let sources = sb.at(&ws, &["--format", "json", "sources", "--period", "2025-12"]).ok().json();
    let commits = &sources[0];
    assert_eq!(commits["rows"], 1006);
    // 2026-08-21T18:38:00+10:00 is 08:38 UTC: offsets are honoured.
    assert_eq!(commits["newest"], "2026-08-21 08:38:00");
    assert_eq!(commits["last_run_status"], "ok");
    let log = &sources[1];
    assert_eq!(log["rows"], 2000);
    // The LogHub sample covers one day: 30 of December's 31 days are gaps.
    assert_eq!(log["missing_days"], 30);

    let run = sb.at(&ws, &["--format", "json", "test", "OSS-CHG-1", "--period", "2026-Q1"]);
    assert_eq!(run.code, 1, "real commits have unapproved changes: {}", run.stderr);
    let approved = &run.json()[0];
    let population = approved["population"].as_u64().unwrap();
    assert!(population > 50, "{approved}");
    let failed = approved["failed"].as_u64().unwrap();
    assert!(failed > 0 && failed < population, "{approved}");
    assert_eq!(approved["passed"].as_u64().unwrap() + failed + approved["inconclusive"].as_u64().unwrap(), population);
    assert!(!approved["failing_keys"].as_array().unwrap().is_empty());

    let run = sb.at(&ws, &["--format", "json", "test", "OSS-ACC-1", "--period", "2025-12"]);
    let failures = &run.json()[0];
    assert!(failures["population"].as_u64().unwrap() > 100, "{failures}");
}
