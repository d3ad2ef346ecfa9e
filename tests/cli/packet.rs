//! `quarterdeck packet` and `verify --packet` on real workspaces: a packet
//! verifies, re-exports byte for byte, fails after any single-byte change,
//! keeps hostile evidence inert, re-performs in DuckDB alone, and catches a
//! workspace changed after export.

use std::path::{Path, PathBuf};

use crate::common::{Sandbox, workspace_in_audit};

const HOSTILE: &str = "deploy_id,deployed_at,environment,service,pr_id,deployer,approver
d-9001,2026-08-03 09:00:00,production,api,api#901,\"<script>alert(1)</script>\",\"=HYPERLINK(\"\"http://x\"\")\"
d-9002,2026-08-04 09:00:00,production,api,api#902,\"\u{1b}[2J\u{1b}[31mred\",\"abc\u{202e}cba\"
d-9003,2026-08-05 09:00:00,production,api,api#903,+cmd,@SUM(A1)
";

/// The example workspace with hostile deploys, in an audit, one verdict given.
fn hostile_audit(sb: &Sandbox) -> PathBuf {
    let ws = sb.path().join("ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    std::fs::write(ws.join("evidence/deploys-hostile.csv"), HOSTILE).unwrap();
    sb.at(&ws, &["ingest", "deploys"]).ok();
    sb.at(&ws, &["ingest", "pull_requests"]).ok();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", "d-9001", "exception", "--note", "<b>no</b> approval \u{1b}[31m"]).ok();
    ws
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for file in files_of(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

#[test]
fn a_packet_verifies_and_an_unchanged_audit_exports_byte_for_byte() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    let first = sb.at(&ws, &["packet", "2026-Q3", "--format", "json"]).ok().json();
    let dir = PathBuf::from(first["path"].as_str().unwrap());
    assert_eq!(dir, ws.join("packets/2026-Q3"));
    for name in [
        "README.md",
        "index.html",
        "manifest.json",
        "SHA256SUMS",
        "findings.csv",
        "findings.json",
        "action-log.jsonl",
        "oscal/assessment-results.json",
        "oscal/poam.json",
        "controls/CHG-1/prod~20deploys/workpaper.csv",
        "controls/CHG-1/prod~20deploys/sample.json",
        "controls/CHG-1/prod~20deploys/ipe.json",
        "controls/CHG-1/prod~20deploys/population.sql",
    ] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    let verified = sb.at(&ws, &["verify", "--packet", dir.to_str().unwrap()]).ok();
    assert!(verified.stdout.contains("population(s) recounted"), "{}", verified.stdout);

    let kept = sb.path().join("kept");
    copy_dir(&dir, &kept);
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    for file in files_of(&kept) {
        let relative = file.strip_prefix(&kept).unwrap();
        let again = std::fs::read(dir.join(relative)).unwrap();
        if relative == Path::new("manifest.json") {
            // Only the generation time (and so the seal) may differ.
            let strip = |bytes: &[u8]| -> String {
                String::from_utf8_lossy(bytes)
                    .lines()
                    .filter(|l| !l.contains("\"generated_at\"") && !l.contains("\"seal\""))
                    .collect()
            };
            assert_eq!(strip(&std::fs::read(&file).unwrap()), strip(&again));
        } else {
            assert_eq!(std::fs::read(&file).unwrap(), again, "{} differs on re-export", relative.display());
        }
    }
}

#[test]
fn every_single_byte_change_and_a_cut_log_slice_fail_verification() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    let out = sb.path().join("out");
    sb.at(&ws, &["packet", "2026-Q3", "--out", out.to_str().unwrap()]).ok();
    // From the sandbox folder no workspace is at hand: the packet alone is checked.
    assert_eq!(sb.run(&["verify", "--packet", out.to_str().unwrap()]).code, 0);
    let files = files_of(&out);
    assert!(files.len() > 10);
    for file in &files {
        let relative = file.strip_prefix(&out).unwrap().display().to_string();
        let tampered = sb.path().join("tampered");
        let _ = std::fs::remove_dir_all(&tampered);
        copy_dir(&out, &tampered);
        let target = tampered.join(&relative);
        let mut bytes = std::fs::read(&target).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&target, &bytes).unwrap();
        let run = sb.run(&["verify", "--packet", tampered.to_str().unwrap(), "--format", "json"]);
        assert_eq!(run.code, 1, "a flipped byte in {relative} went unnoticed: {}", run.stdout);
        assert!(!run.json()["report"]["problems"].as_array().unwrap().is_empty());
    }
    // The log slice cut short by its last entry, and the hashes fixed up to match.
    let tampered = sb.path().join("cut");
    copy_dir(&out, &tampered);
    let log = std::fs::read_to_string(tampered.join("action-log.jsonl")).unwrap();
    let cut: Vec<&str> = log.lines().collect();
    std::fs::write(tampered.join("action-log.jsonl"), format!("{}\n", cut[..cut.len() - 1].join("\n"))).unwrap();
    let run = sb.run(&["verify", "--packet", tampered.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("action-log.jsonl"), "{}", run.stderr);
}

#[test]
fn a_zip_packet_is_deterministic_and_verifies() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    let zip = sb.path().join("p.zip");
    sb.at(&ws, &["packet", "2026-Q3", "--zip", "--out", zip.to_str().unwrap()]).ok();
    sb.at(&ws, &["verify", "--packet", zip.to_str().unwrap()]).ok();
    // On the same clock (the tests pin it) the zip is the same bytes again.
    let again = sb.path().join("again.zip");
    sb.at(&ws, &["packet", "2026-Q3", "--zip", "--out", again.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read(&zip).unwrap(), std::fs::read(&again).unwrap());
    let mut bytes = std::fs::read(&zip).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x20;
    let bad = sb.path().join("bad.zip");
    std::fs::write(&bad, &bytes).unwrap();
    assert_ne!(sb.run(&["verify", "--packet", bad.to_str().unwrap()]).code, 0);
}

#[test]
fn hostile_evidence_is_inert_in_the_html_and_the_csv() {
    let sb = Sandbox::new();
    let ws = hostile_audit(&sb);
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    let dir = ws.join("packets/2026-Q3");
    for file in files_of(&dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains('\u{1b}'), "{} holds a raw escape", file.display());
        assert!(!text.contains('\u{202e}'), "{} holds a bidi control", file.display());
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!html.contains("<script>alert"), "raw script in the HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") || html.contains("&lt;script&gt;"));
    assert!(!html.contains("<b>no</b>"));
    let csv = std::fs::read_to_string(dir.join("controls/CHG-1/prod~20deploys/workpaper.csv")).unwrap();
    for cell in csv.lines().flat_map(|l| l.split(',')) {
        let cell = cell.trim_matches('"');
        assert!(!cell.starts_with(['=', '+', '@']), "formula cell `{cell}` in the workpaper");
    }
    assert!(csv.contains("'=HYPERLINK") && csv.contains("'+cmd") && csv.contains("'@SUM"), "{csv}");
}

#[test]
fn a_read_only_workspace_and_a_closed_audit_export() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    sb.at(&ws, &["--read-only", "packet", "2026-Q3", "--out", sb.path().join("ro").to_str().unwrap()]).ok();
    sb.at(&ws, &["audit", "close", "2026-Q3"]).ok();
    let closed = sb.at(&ws, &["packet", "2026-Q3"]).ok();
    assert!(closed.stdout.contains("packet 2026-Q3 written"), "{}", closed.stdout);
    sb.at(&ws, &["verify", "--packet", ws.join("packets/2026-Q3").to_str().unwrap()]).ok();
    assert_eq!(sb.at(&ws, &["packet", "2099-Q1"]).code, 4);
}

#[test]
fn the_sample_re_performs_in_duckdb_alone() {
    let sb = Sandbox::new();
    let ws = hostile_audit(&sb);
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    let dir = ws.join("packets/2026-Q3/controls/CHG-1/prod~20deploys");
    let sample: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("sample.json")).unwrap()).unwrap();
    // A plain DuckDB connection: none of Quarterdeck's functions exist here.
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap();
    let conn = duckdb::Connection::open_with_flags(ws.join("workspace.duckdb"), config).unwrap();
    let recount = std::fs::read_to_string(dir.join("recount.sql")).unwrap();
    let (count, fingerprint): (i64, String) = conn.query_row(&recount, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(count as u64, sample["population"]["count"].as_u64().unwrap());
    assert_eq!(fingerprint, sample["population"]["fingerprint"].as_str().unwrap());
    let reperform = std::fs::read_to_string(dir.join("reperform.sql")).unwrap();
    let mut stmt = conn.prepare(&reperform).unwrap();
    let ranks: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(1)).unwrap().map(Result::unwrap).collect();
    let recorded: Vec<&str> = sample["rows"].as_array().unwrap().iter().map(|r| r["rank"].as_str().unwrap()).collect();
    assert_eq!(ranks, recorded);
    let population: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM ({})",
                std::fs::read_to_string(dir.join("population.sql")).unwrap().trim().trim_end_matches(';')
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(population, count);
}

#[test]
fn verify_catches_a_log_cut_and_a_population_changed_after_export() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    let out = sb.path().join("out");
    sb.at(&ws, &["packet", "2026-Q3", "--out", out.to_str().unwrap()]).ok();
    let conn = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
    // A row slipped into the period behind Quarterdeck's back.
    conn.execute(
        "INSERT INTO deploys VALUES ('d-7777', TIMESTAMP '2026-08-01 12:00:00', 'production', 'api', 'api#7', 'eve', 'eve')",
        [],
    )
    .unwrap();
    // And the log's newest entry removed (the head the packet recorded).
    conn.execute("DELETE FROM qd.action_log WHERE seq = (SELECT max(seq) FROM qd.action_log)", []).unwrap();
    drop(conn);
    let run = sb.at(&ws, &["verify", "--packet", out.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("truncated after export"), "{}", run.stderr);
    assert!(run.stderr.contains("the population now has"), "{}", run.stderr);
}

#[test]
fn a_reviewer_sign_off_shows_in_the_workpaper_and_the_first_page() {
    let sb = Sandbox::new();
    let ws = hostile_audit(&sb);
    let sample = sb.at(&ws, &["--format", "json", "sample", "CHG-1", "--audit", "2026-Q3"]).ok().json();
    for row in sample["rows"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        if row["verdict"].is_null() {
            sb.at(&ws, &["verdict", "2026-Q3", "CHG-1", key, "exception", "--note", "checked"]).ok();
        }
    }
    let mut review = sb.command(&[
        "--workspace",
        ws.to_str().unwrap(),
        "review",
        "2026-Q3",
        "CHG-1",
        "--conclusion",
        "Exceptions confirmed; finding to follow",
    ]);
    let reviewed: crate::common::Run = review.env("QUARTERDECK_ACTOR", "rita@acme.example").output().unwrap().into();
    reviewed.ok();
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    let dir = ws.join("packets/2026-Q3");
    let csv = std::fs::read_to_string(dir.join("controls/CHG-1/prod~20deploys/workpaper.csv")).unwrap();
    assert!(csv.contains("Reviewer,rita@acme.example"), "{csv}");
    assert!(csv.contains("Exceptions confirmed; finding to follow"), "{csv}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let first_page = &html[..html.find("id=\"method\"").unwrap()];
    assert!(first_page.contains("Not reviewed:"), "other controls are still unreviewed");
    assert!(!first_page.contains(": CHG-1,") && !first_page.contains(" CHG-1.</div>"), "CHG-1 listed as unreviewed");
    assert!(html.contains("rita@acme.example"));
    let oscal = std::fs::read_to_string(dir.join("oscal/assessment-results.json")).unwrap();
    assert!(oscal.contains("rita@acme.example"), "the reviewer is a party");
}

#[test]
fn both_oscal_documents_validate_against_the_schemas() {
    let sb = Sandbox::new();
    let (ws, _finding) = workspace_in_audit(&sb);
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    let dir = ws.join("packets/2026-Q3/oscal");
    for (file, schema) in [
        ("assessment-results.json", "oscal_assessment-results_1.2.1.schema.json"),
        ("poam.json", "oscal_poam_1.2.1.schema.json"),
    ] {
        let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oscal").join(schema);
        let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
        let document: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
}
