//! Ingest: append and replace in one transaction, malformed files refused
//! with file, line and field, evidence left exactly as it was, runs recorded.

use crate::common::{Sandbox, scalar};

#[test]
fn append_adds_new_rows_and_skips_keys_already_present() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let more = ws.join("evidence/deploys-2.csv");
    std::fs::write(
        &more,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         d-0005,2026-09-14 11:05:00,production,billing,billing#12,dave,alice\n\
         d-0006,2026-09-20 08:00:00,production,api,api#101,alice,bob\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["--format", "json", "ingest", "deploys", more.to_str().unwrap()]).ok();
    let report = &run.json()[0];
    assert_eq!(report["rows"], 1);
    assert_eq!(report["skipped"], 1);
    assert_eq!(report["total_rows"], 6);
    assert_eq!(report["files"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "6");
    assert_eq!(scalar(&ws, "SELECT rows FROM qd.source_stats WHERE source = 'deploys'"), "6");
    assert_eq!(
        scalar(&ws, "SELECT CAST(newest AS VARCHAR) FROM qd.source_stats WHERE source = 'deploys'"),
        "2026-09-20 08:00:00"
    );
}

#[test]
fn a_malformed_csv_names_file_line_and_field_and_changes_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let before = scalar(&ws, "SELECT string_agg(deploy_id, ',' ORDER BY deploy_id) FROM deploys");
    let bad = ws.join("evidence/bad.csv");
    std::fs::write(
        &bad,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         d-0100,2026-09-21 08:00:00,production,api,api#1,alice,bob\n\
         d-0101,not a time,production,api,api#2,alice,bob\n\
         d-0102,2026-09-21 09:00:00,production,api,api#3,alice,bob\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", bad.to_str().unwrap()]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("bad.csv:3: field `deployed_at`:"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was ingested"), "{}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT string_agg(deploy_id, ',' ORDER BY deploy_id) FROM deploys"), before);
    assert_eq!(scalar(&ws, "SELECT rows FROM qd.source_stats WHERE source = 'deploys'"), "5");
    let last = scalar(&ws, "SELECT status || ' ' || error FROM qd.ingest_runs ORDER BY run_id DESC LIMIT 1");
    assert!(last.starts_with("failed "), "{last}");
    assert!(last.contains("bad.csv:3"), "{last}");
}

#[test]
fn a_replace_that_fails_keeps_the_old_evidence() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let config = ws.join("quarterdeck.toml");
    let text = std::fs::read_to_string(&config).unwrap().replacen("mode = \"append\"", "mode = \"replace\"", 1);
    std::fs::write(&config, text).unwrap();
    let bad = ws.join("evidence/unterminated.csv");
    std::fs::write(
        &bad,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         d-0200,2026-09-21 08:00:00,production,\"api,api#1,alice,bob\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", bad.to_str().unwrap()]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("unterminated.csv"), "{}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");

    let good = ws.join("evidence/replacement.csv");
    std::fs::write(
        &good,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         d-0300,2026-09-21 08:00:00,production,api,api#1,alice,bob\n",
    )
    .unwrap();
    sb.at(&ws, &["ingest", "deploys", good.to_str().unwrap()]).ok();
    assert_eq!(scalar(&ws, "SELECT string_agg(deploy_id, ',') FROM deploys"), "d-0300");
    assert_eq!(scalar(&ws, "SELECT rows FROM qd.source_stats WHERE source = 'deploys'"), "1");
}

#[test]
fn missing_key_column_and_duplicate_keys_are_refused() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let no_key = ws.join("evidence/no-key.csv");
    std::fs::write(&no_key, "deploy_ident,deployed_at\nx,2026-09-21 08:00:00\n").unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", no_key.to_str().unwrap()]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("field `deploy_id` missing"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `deploy_ident`?"), "{}", run.stderr);

    let twice = ws.join("evidence/twice.csv");
    std::fs::write(
        &twice,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         d-9,2026-09-21 08:00:00,production,api,api#1,alice,bob\n\
         d-9,2026-09-22 08:00:00,production,api,api#1,alice,bob\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", twice.to_str().unwrap()]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("key (deploy_id) = (d-9) appears 2 times"), "{}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");

    // Keys in ascending order pass on a fast path; a duplicate out of order,
    // or two missing keys, still fall through to the full check.
    let header = "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n";
    let row = |id: &str| format!("{id},2026-09-21 08:00:00,production,api,api#1,alice,bob\n");
    for (ids, shown) in [(["d-10", "d-11", "d-10"], "(d-10) appears 2 times"), (["d-12", "", ""], "() appears 2 times")]
    {
        let file = ws.join("evidence/out-of-order.csv");
        std::fs::write(&file, format!("{header}{}", ids.map(row).concat())).unwrap();
        let run = sb.at(&ws, &["ingest", "deploys", file.to_str().unwrap()]);
        assert_eq!(run.code, 4, "{ids:?}: {}", run.stderr);
        assert!(run.stderr.contains(shown), "{ids:?}: {}", run.stderr);
    }
    let sorted = ws.join("evidence/sorted.csv");
    std::fs::write(&sorted, format!("{header}{}", ["d-20", "d-21", "d-22"].map(row).concat())).unwrap();
    sb.at(&ws, &["ingest", "deploys", sorted.to_str().unwrap()]).ok();
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "8");
}

#[test]
fn malformed_ndjson_is_refused_with_its_file_and_line() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    declare_alerts(&ws);
    std::fs::write(
        ws.join("evidence/alerts-1.ndjson"),
        "{\"alert_id\": \"a1\", \"fired_at\": \"2026-09-01 10:00:00\"}\n{\"alert_id\": \"a2\", \"fired_at\": \"2026-09-02 10:00:00\"}\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["--format", "json", "ingest", "alerts"]).ok();
    assert_eq!(run.json()[0]["rows"], 2);
    std::fs::write(
        ws.join("evidence/alerts-2.ndjson"),
        "{\"alert_id\": \"a3\", \"fired_at\": \"2026-09-03\"}\n{\"alert_id\": \"a4\",\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["ingest", "alerts"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("alerts-2.ndjson"), "{}", run.stderr);
    assert!(run.stderr.contains("Malformed JSON"), "{}", run.stderr);
    assert!(run.stderr.contains("in line 3"), "DuckDB counts the line after the cut-off object: {}", run.stderr);
    assert!(!run.stderr.contains("LINE 1:"), "no SQL caret art: {}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM alerts"), "2");
}

#[test]
fn unknown_source_suggests_a_name() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let run = sb.at(&ws, &["ingest", "deploy"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("unknown source `deploy`; did you mean `deploys`?"), "{}", run.stderr);
}

#[test]
fn sources_reports_rows_freshness_last_run_and_gaps() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let run = sb.at(&ws, &["--format", "json", "sources", "--period", "2026-Q3"]).ok();
    let deploys = &run.json()[0];
    assert_eq!(deploys["name"], "deploys");
    assert_eq!(deploys["rows"], 5);
    assert_eq!(deploys["newest"], "2026-09-14 11:05:00");
    assert_eq!(deploys["state"], "abandoned");
    assert_eq!(deploys["last_run_status"], "ok");
    // Fresh within 2d: stretches of two or more days without a deploy are
    // gaps; the single quiet day of 2026-07-01 is not.
    assert_eq!(deploys["missing_days"], 92 - 5 - 1);
    assert_eq!(deploys["gaps"][0]["from"], "2026-07-03");
    assert_eq!(deploys["gaps"][0]["to"], "2026-07-08");
    let csv = sb.at(&ws, &["--format", "csv", "sources"]).ok();
    assert!(csv.stdout.starts_with("name,format,rows,oldest,newest,age,age_seconds,state,"), "{}", csv.stdout);
}

#[test]
fn a_pipe_or_folder_is_refused_as_not_a_regular_file() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let before = scalar(&ws, "SELECT count(*) FROM qd.ingest_runs");
    let fifo = sb.path().join("deploys.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    let mut targets = vec![ws.join("evidence")];
    if made {
        targets.push(fifo);
    }
    for target in targets {
        let run = sb.at(&ws, &["ingest", "deploys", target.to_str().unwrap()]);
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    }
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.ingest_runs"), before, "a refused file is no run");
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");
}

#[test]
fn glob_characters_in_the_workspace_folder_name_are_literal() {
    let sb = Sandbox::new();
    let ws = sb.path().join("ws[1]");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    // A sibling that the unescaped pattern `ws[1]/evidence/…` would match.
    let sibling = sb.path().join("ws1/evidence");
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(
        sibling.join("deploys-x.csv"),
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\nd-9999,2026-09-01 10:00:00,production,api,api#9,eve,eve\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["--format", "json", "ingest", "deploys"]).ok();
    let files = run.json()[0]["files"].clone();
    assert!(files.as_array().unwrap().iter().all(|f| f["path"].as_str().unwrap().contains("ws[1]")), "{files}");
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys WHERE deploy_id = 'd-9999'"), "0");
}

#[test]
fn a_field_null_in_every_record_is_kept_as_text_and_every_command_still_runs() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    declare_alerts(&ws);
    std::fs::write(
        ws.join("evidence/alerts-1.ndjson"),
        "{\"alert_id\": \"a1\", \"fired_at\": \"2026-09-01 10:00:00\", \"ack\": null}\n\
         {\"alert_id\": \"a2\", \"fired_at\": \"2026-09-02 10:00:00\", \"ack\": null}\n",
    )
    .unwrap();
    sb.at(&ws, &["ingest", "alerts"]).ok();
    assert_eq!(
        scalar(&ws, "SELECT data_type FROM duckdb_columns() WHERE table_name = 'alerts' AND column_name = 'ack'"),
        "VARCHAR"
    );
    let rows = sb.at(&ws, &["--format", "json", "query", "SELECT * FROM alerts ORDER BY alert_id"]).ok().json();
    assert_eq!(rows[0]["ack"], serde_json::Value::Null);
}

#[test]
fn errors_quoting_evidence_reach_stderr_only_as_text() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let bad = ws.join("evidence/dup.csv");
    std::fs::write(
        &bad,
        "deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n\
         \"d\u{1b}]0;pwned\u{7}\",2026-09-21 08:00:00,production,api,api#1,alice,bob\n\
         \"d\u{1b}]0;pwned\u{7}\",2026-09-21 09:00:00,production,api,api#2,alice,bob\n",
    )
    .unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", bad.to_str().unwrap()]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("appears 2 times"), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'), "{:?}", run.stderr);
    assert!(run.stderr.contains("\\e]0;pwned"), "{}", run.stderr);
}

/// A small tmpfs of our own, unmounted on drop (mounting needs root; the
/// test says so and skips elsewhere).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &std::path::Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).ok()?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Self(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_during_an_ingest_leaves_every_committed_row() {
    let sb = Sandbox::new();
    let Some(disk) = Tmpfs::mount(&sb.path().join("small-disk"), "8m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let ws = disk.0.join("ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    sb.at(&ws, &["ingest", "deploys"]).ok();
    sb.at(&ws, &["ingest", "pull_requests"]).ok();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "all", "--seed", "s"]).ok();
    // Far more than the disk holds, from outside it.
    let big = sb.path().join("big.csv");
    let mut text = String::from("deploy_id,deployed_at,environment,service,pr_id,deployer,approver\n");
    for i in 0..400_000u64 {
        let noise = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        text.push_str(&format!(
            "x-{i:08},2026-09-{:02} 10:{:02}:00,production,svc{noise:x},pr#{i},alice{noise:o},bob{}\n",
            1 + i % 28,
            i % 60,
            noise.rotate_left(17)
        ));
    }
    std::fs::write(&big, text).unwrap();
    let run = sb.at(&ws, &["ingest", "deploys", big.to_str().unwrap()]);
    assert_ne!(run.code, 0, "the disk was meant to fill: {}", run.stdout);
    assert!(run.stderr.contains("No space left on device"), "{}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM deploys"), "5");
    assert_eq!(scalar(&ws, "SELECT count(*) FROM qd.samples"), "2");
    let verify = sb.at(&ws, &["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

/// Adds an NDJSON source `alerts` (evidence/alerts*.ndjson) to the workspace.
fn declare_alerts(ws: &std::path::Path) {
    let config = ws.join("quarterdeck.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[source]]\nname = \"alerts\"\nformat = \"ndjson\"\npath = \"evidence/alerts*.ndjson\"\nkey = [\"alert_id\"]\ntimestamp = \"fired_at\"\nfresh_within = \"1d\"\n",
    );
    std::fs::write(&config, text).unwrap();
}
