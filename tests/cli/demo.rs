//! The demo workspace: deterministic, complete, checks clean, and its
//! planted gaps are what the full-population tests find.

use std::path::Path;

use crate::common::{Sandbox, file_hash};

const AS_OF: &str = "2026-11-26";

fn demo(sb: &Sandbox, name: &str, seed: &str) -> std::path::PathBuf {
    let dir = sb.path().join(name);
    let run = sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--seed", seed, "--as-of", AS_OF]).ok();
    assert!(run.stdout.contains(&format!("Demo workspace: {}", dir.display())), "{}", run.stdout);
    assert!(run.stdout.contains("Try next:"), "{}", run.stdout);
    dir
}

fn evidence_hashes(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> =
        std::fs::read_dir(dir.join("evidence")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files.iter().map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), file_hash(f))).collect()
}

#[test]
fn the_demo_is_deterministic_complete_and_checks_clean() {
    let sb = Sandbox::new();
    let a = demo(&sb, "a", "7");
    let b = demo(&sb, "b", "7");
    let c = demo(&sb, "c", "8");
    assert_eq!(evidence_hashes(&a), evidence_hashes(&b));
    assert_ne!(evidence_hashes(&a), evidence_hashes(&c));
    let table_digest = |ws: &Path| {
        sb.at(
            ws,
            &[
                "--format",
                "csv",
                "query",
                "SELECT md5(string_agg(CAST(d AS VARCHAR), '|' ORDER BY deploy_id)) FROM deploys d",
            ],
        )
        .ok()
        .stdout
    };
    assert_eq!(table_digest(&a), table_digest(&b));

    let sources = sb.at(&a, &["--format", "json", "sources"]).ok().json();
    let sources = sources.as_array().unwrap();
    assert!(sources.len() >= 8);
    for name in [
        "idp_auth_log",
        "iam_audit_log",
        "provisioning",
        "deprovisioning",
        "access_reviews",
        "pull_requests",
        "deploys",
        "alerts",
        "incidents",
    ] {
        let s = sources.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name}"));
        assert!(s["rows"].as_u64().unwrap() > 0, "{name}");
        assert_eq!(s["last_run_status"], "ok");
    }

    let controls = sb.at(&a, &["--format", "json", "controls"]).ok().json();
    assert!(controls.as_array().unwrap().len() >= 15);
    let criteria = sb.at(&a, &["--format", "json", "criteria"]).ok().json();
    for id in ["CC6.1", "CC6.2", "CC6.3", "CC7.1", "CC7.2", "CC7.3", "CC7.4", "CC7.5", "CC8.1", "A1.2", "CC9.2"] {
        let c = criteria.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
        assert_eq!(c["mapped"], true, "{id}");
    }
    let check = sb.at(&a, &["check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
}

#[test]
fn the_planted_gaps_are_found() {
    let sb = Sandbox::new();
    let ws = demo(&sb, "northwind", "7");
    let failing = |control: &str, test: &str| -> Vec<String> {
        let run = sb.at(&ws, &["--format", "json", "test", control, "--period", "2026-Q3"]);
        let rows = run.json();
        let row =
            rows.as_array().unwrap().iter().find(|r| r["test"] == test).unwrap_or_else(|| panic!("{control} {test}"));
        row["failing_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(failing("CHG-1", "approved"), ["dep-0002834"]);
    assert_eq!(failing("CHG-2", "independent"), ["auth#3001"]);
    assert_eq!(failing("AC-3", "timely"), ["OFF-000110"]);
    assert_eq!(failing("OPS-4", "postmortem"), ["INC-0032"]);
    assert_eq!(failing("AC-6", "collected").len(), 5, "seven days missing; the first five are shown");
    let clean = sb.at(&ws, &["--format", "json", "test", "AC-1", "--period", "2026-Q3"]).ok().json();
    assert_eq!(clean[0]["result"], "pass");

    let sources = sb.at(&ws, &["--format", "json", "sources", "--period", "2026-Q3"]).ok().json();
    let auth = sources.as_array().unwrap().iter().find(|s| s["name"] == "idp_auth_log").unwrap();
    assert_eq!(auth["missing_days"], 7);
    assert_eq!(auth["gaps"][0]["from"], "2026-07-15");
    assert_eq!(auth["gaps"][0]["to"], "2026-07-21");
    let scans = sources.as_array().unwrap().iter().find(|s| s["name"] == "vuln_scans").unwrap();
    assert!(scans["newest"].as_str().unwrap() < "2026-11-05", "{scans}");
}

#[test]
fn demo_refuses_a_folder_that_is_not_a_demo() {
    let sb = Sandbox::new();
    let dir = sb.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let run = sb.run(&["demo", dir.to_str().unwrap(), "--no-open"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("is not a demo workspace"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "keep me");
}

#[test]
fn fresh_refuses_to_replace_a_demo_another_process_holds_open() {
    let sb = Sandbox::new();
    let dir = sb.path().join("demo");
    sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    /// Killed on drop, so that a failing assertion leaves no query running.
    struct Holder(std::process::Child);
    impl Drop for Holder {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let holder = Holder(
        sb.command(&["--workspace", dir.to_str().unwrap(), "query", "SELECT count(*) FROM range(10000000000000)"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("holder"),
    );
    // Wait until the holder has the database open, without taking a lock
    // ourselves (a probe holding the lock could make the holder's open fail).
    let db = dir.join("workspace.duckdb");
    let holds = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| fds.filter_map(Result::ok).any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == db)))
            .unwrap_or(false)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !holds(holder.0.id()) {
        assert!(std::time::Instant::now() < deadline, "the holder never opened the workspace");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // DuckDB takes its lock right after opening the file.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = sb.run(&["demo", dir.to_str().unwrap(), "--fresh", "--no-open", "--as-of", "2026-11-26"]);
    drop(holder);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("is open in another process"), "{}", run.stderr);
    assert!(dir.join("workspace.duckdb").exists(), "the held demo is still there");
    let audits = sb.run(&["--workspace", dir.to_str().unwrap(), "audit", "list"]);
    assert_eq!(audits.code, 0, "{}", audits.stderr);
}
