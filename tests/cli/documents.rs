//! Documents: the register checked at file:line:col, collected into the
//! store with hashes logged, tested as a population, their states, files
//! attached to sampled rows — on the demo, on hostile registers, and on
//! real policy documents nobody here wrote (../shared/data/comply).

use std::path::{Path, PathBuf};

use crate::common::{Run, Sandbox};

fn demo(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("northwind");
    sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    dir
}

fn failing(sb: &Sandbox, ws: &Path, control: &str) -> Vec<String> {
    let rows = sb.at(ws, &["--format", "json", "test", control, "--period", "2026-Q3"]).json();
    let mut keys: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["failing_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn scalar(sb: &Sandbox, ws: &Path, sql: &str) -> String {
    sb.at(ws, &["--format", "csv", "query", sql]).ok().stdout.lines().nth(1).unwrap_or_default().to_string()
}

/// `findings add` in audit 2026-Q3: (control, title), (severity, owner), the row.
fn add_finding(sb: &Sandbox, ws: &Path, about: (&str, &str), who: (&str, &str), row: Option<&str>) {
    let mut args = vec!["findings", "add", "--audit", "2026-Q3", "--control", about.0, "--title", about.1];
    args.extend(["--severity", who.0, "--owner", who.1]);
    if let Some(row) = row {
        args.extend(["--row", row]);
    }
    sb.at(ws, &args).ok();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { found.extend(walk(&path)) } else { found.push(path) }
    }
    found
}

#[track_caller]
fn code(run: &Run, expected: i32) {
    assert_eq!(run.code, expected, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

#[test]
fn a_mock_audit_on_the_demo_tests_documents_and_files_a_finding_for_each_planted_gap() {
    let sb = Sandbox::new();
    let ws = demo(&sb);
    let criteria = sb.at(&ws, &["--format", "json", "criteria"]).ok().json();
    let common: Vec<_> =
        criteria.as_array().unwrap().iter().filter(|c| c["id"].as_str().unwrap().starts_with("CC")).collect();
    assert_eq!(common.len(), 33);
    assert!(common.iter().all(|c| c["mapped"] == true), "{common:?}");

    // The planted document gaps, and only they, fail their controls' SQL.
    assert_eq!(failing(&sb, &ws, "GOV-2"), ["POL-ISP | 3.1"]);
    assert_eq!(failing(&sb, &ws, "VEN-3"), ["VEN-LEDGERLY-SOC2 | 2024"]);
    assert_eq!(failing(&sb, &ws, "OPS-4"), ["INC-0032"]);
    for control in ["GOV-1", "GOV-3", "RSK-1", "MON-1"] {
        assert!(failing(&sb, &ws, control).is_empty(), "{control}");
    }
    let states = sb.at(&ws, &["--format", "json", "documents", "--period", "2026-Q3"]).ok().json();
    let state = |id: &str, version: &str| {
        let d = states.as_array().unwrap().iter().find(|d| d["id"] == id && d["version"] == version).unwrap();
        d["state"].as_str().unwrap().to_string()
    };
    assert_eq!(state("POL-ISP", "3.1"), "expired");
    assert_eq!(state("POL-NETWORK", "1.0"), "changed since collected");
    assert_eq!(state("VEN-LEDGERLY-SOC2", "2024"), "outside the period");
    assert_eq!(state("VEN-CUMULUS-SOC2", "2026"), "current");
    let postmortems = states.as_array().unwrap().iter().filter(|d| d["kind"] == "postmortem").count();
    assert!(postmortems > 20, "{postmortems}");

    // The audit samples documents like any other evidence.
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "GOV-2,GOV-3,VEN-3,OPS-4,CHG-1", "--seed", "s"]).ok();
    let sample = sb.at(&ws, &["--format", "json", "sample", "GOV-2", "--audit", "2026-Q3"]).ok().json();
    let keys: Vec<&str> = sample["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 4, "every policy in force is tested: {keys:?}");
    let sql = sample["population"]["sql"].as_str().unwrap();
    assert!(sql.contains("FROM \"documents\"") && sql.contains("\"superseded\" IS NULL OR"), "{sql}");
    let policy = "POL-ISP | 3.1";
    sb.at(&ws, &["verdict", "2026-Q3", "GOV-2", policy, "exception", "--note", "annual review overdue"]).ok();
    sb.at(&ws, &["verdict", "2026-Q3", "VEN-3", "VEN-LEDGERLY-SOC2 | 2024", "exception"]).ok();
    sb.at(&ws, &["verdict", "2026-Q3", "OPS-4", "INC-0032", "exception"]).ok();
    for (control, title, row) in [
        ("GOV-2", "Information security policy not reviewed in a year", Some(policy)),
        ("VEN-3", "Ledgerly's SOC 2 report attests to 2024", Some("VEN-LEDGERLY-SOC2 | 2024")),
        ("OPS-4", "No postmortem for INC-0032", Some("INC-0032")),
        ("GOV-3", "Network security policy edited after it was collected", None),
    ] {
        add_finding(&sb, &ws, (control, title), ("medium", "security@northwind.example"), row);
    }
    let findings = sb.at(&ws, &["--format", "json", "findings", "list"]).ok().json();
    assert_eq!(findings.as_array().unwrap().len(), 4);

    // A file attached to a sampled deploy: stored by hash, listed, logged.
    let deploys = sb.at(&ws, &["--format", "json", "sample", "CHG-1", "--audit", "2026-Q3"]).ok().json();
    let deploy = deploys["rows"][0]["key"].as_str().unwrap().to_string();
    let ticket = sb.path().join("CHG-4711 approval.png");
    std::fs::write(&ticket, b"\x89PNG\r\n\x1a\n the approval screenshot").unwrap();
    let attached = sb.at(
        &ws,
        &["attach", "2026-Q3", "CHG-1", &deploy, ticket.to_str().unwrap(), "--note", "approval in the ticket"],
    );
    code(&attached, 0);
    let listed = sb.at(&ws, &["--format", "json", "sample", "CHG-1", "--audit", "2026-Q3"]).ok().json();
    let row = listed["rows"].as_array().unwrap().iter().find(|r| r["key"] == deploy.as_str()).unwrap();
    let attachment = &row["attachments"][0];
    assert_eq!(attachment["name"], "CHG-4711 approval.png");
    assert_eq!(attachment["bytes"], 32);
    let stored = ws.join(attachment["stored"].as_str().unwrap());
    assert_eq!(std::fs::read(&stored).unwrap(), std::fs::read(&ticket).unwrap());
    let table = sb.at(&ws, &["sample", "CHG-1", "--audit", "2026-Q3"]).ok().stdout;
    assert!(table.contains("CHG-4711 approval.png (32 bytes, sha256"), "{table}");
    assert_eq!(scalar(&sb, &ws, "SELECT count(*) FROM qd.action_log WHERE action = 'attachment'"), "1");
    code(&sb.at(&ws, &["verify"]), 0);

    // A population row a finding names, though no sample drew it, takes an
    // attachment too.
    let unapproved = "dep-0002834";
    assert!(deploys["rows"].as_array().unwrap().iter().all(|r| r["key"] != unapproved), "drawn by this seed");
    add_finding(
        &sb,
        &ws,
        ("CHG-1", "Deploy without approval"),
        ("high", "platform@northwind.example"),
        Some(unapproved),
    );
    code(&sb.at(&ws, &["attach", "2026-Q3", "CHG-1", unapproved, ticket.to_str().unwrap()]), 0);
    let not_linked = sb.at(&ws, &["attach", "2026-Q3", "CHG-1", "dep-0000001", ticket.to_str().unwrap()]);
    code(&not_linked, 4);
    assert!(not_linked.stderr.contains("neither in audit `2026-Q3`'s sample"), "{}", not_linked.stderr);

    // The packet carries the attached file and the sampled documents as
    // collected; `verify --packet` holds them to the manifest.
    sb.at(&ws, &["packet", "2026-Q3"]).ok();
    let packet = ws.join("packets/2026-Q3");
    let files = walk(&packet);
    let kept = |suffix: &str| files.iter().find(|f| f.to_string_lossy().ends_with(suffix)).cloned();
    let shot = kept("-CHG-4711~20approval.png").unwrap_or_else(|| panic!("{files:?}"));
    assert!(shot.to_string_lossy().contains("/attachments/"), "{}", shot.display());
    assert_eq!(std::fs::read(&shot).unwrap(), std::fs::read(&ticket).unwrap());
    let policy_file = kept("/documents/policies/information-security-3.1.md").unwrap_or_else(|| panic!("{files:?}"));
    let collected = std::fs::read(ws.join("documents/policies/information-security-3.1.md")).unwrap();
    assert_eq!(std::fs::read(&policy_file).unwrap(), collected);
    // The edited policy goes into the packet as it was collected, not as it is now.
    let network = kept("/documents/policies/network-security.md").unwrap_or_else(|| panic!("{files:?}"));
    let now = std::fs::read(ws.join("documents/policies/network-security.md")).unwrap();
    assert_ne!(std::fs::read(&network).unwrap(), now);
    let workpaper = std::fs::read_to_string(shot.parent().unwrap().parent().unwrap().join("workpaper.csv")).unwrap();
    assert!(workpaper.contains("CHG-4711 approval.png (32 bytes, sha256"), "{workpaper}");
    // The HTML escapes `/` in attributes as `&#x2f;`, which a browser reads as `/`.
    let html = std::fs::read_to_string(packet.join("index.html")).unwrap().replace("&#x2f;", "/");
    let href = shot.strip_prefix(&packet).unwrap().to_string_lossy().to_string();
    assert!(html.contains(&format!("<a href=\"{href}\">CHG-4711 approval.png (32 bytes")), "the HTML links the file");
    code(&sb.at(&ws, &["verify", "--packet", packet.to_str().unwrap()]), 0);

    // A closed audit takes no attachment.
    sb.at(&ws, &["audit", "close", "2026-Q3"]).ok();
    let closed = sb.at(&ws, &["attach", "2026-Q3", "CHG-1", &deploy, ticket.to_str().unwrap()]);
    code(&closed, 4);
    assert!(closed.stderr.contains("closed"), "{}", closed.stderr);
    assert_eq!(scalar(&sb, &ws, "SELECT count(*) FROM qd.attachments"), "2");
    assert_eq!(sb.at(&ws, &["--format", "json", "findings", "list"]).ok().json().as_array().unwrap().len(), 5);
}

/// A workspace from `init` with a register of the issue's two documents.
fn registered(sb: &Sandbox) -> PathBuf {
    let ws = sb.example_workspace();
    std::fs::create_dir_all(ws.join("documents/policies")).unwrap();
    std::fs::create_dir_all(ws.join("documents/vendors")).unwrap();
    std::fs::write(ws.join("documents/policies/information-security.md"), "# Information Security Policy\n").unwrap();
    std::fs::write(ws.join("documents/vendors/datadog-soc2-2026.pdf"), "%PDF-1.4 a report\n").unwrap();
    std::fs::write(ws.join("controls/documents.toml"), CONTROLS).unwrap();
    std::fs::write(ws.join("documents.toml"), REGISTER).unwrap();
    ws
}

const CONTROLS: &str = r#"
[[control]]
id = "GOV-1"
title = "Policies are approved and reviewed yearly"
criteria = ["CC5.3"]
owner = "security@acme.example"
frequency = "annual"

[[control.evidence]]
name = "policies"
source = "documents"
where = "kind = 'policy'"
tests = { approved = "approved_by IS NOT NULL", reviewed_in_time = "effective >= period_start - INTERVAL 1 YEAR" }

[[control]]
id = "VEN-1"
title = "Vendor reports cover the period"
criteria = ["CC9.2"]
owner = "security@acme.example"
frequency = "annual"

[[control.evidence]]
name = "reports"
source = "documents"
where = "kind = 'vendor-report'"
tests = { recent = "covers_to >= period_end - INTERVAL 1 YEAR" }
"#;

const REGISTER: &str = r#"# documents.toml
[[document]]
id = "POL-ISP"
title = "Information Security Policy"
kind = "policy"
version = "3.2"
files = ["documents/policies/information-security.md"]
effective = 2026-02-01              # places it in a period
owner = "security@acme.example"
approved_by = "cto@acme.example"
approved_at = 2026-01-28
renew = "1y"                        # from the effective date
controls = ["GOV-1"]

[[document]]
id = "VEN-DATADOG-SOC2-2026"
title = "Datadog SOC 2 Type 2 report"
kind = "vendor-report"
files = ["documents/vendors/datadog-soc2-2026.pdf"]
effective = 2026-04-15
covers = { from = 2025-04-01, to = 2026-03-31 }
subject = "datadog"
controls = ["VEN-1"]
"#;

fn recorded(sb: &Sandbox, ws: &Path) -> (String, String) {
    (scalar(sb, ws, "SELECT count(*) FROM qd.document_files"), scalar(sb, ws, "SELECT count(*) FROM qd.action_log"))
}

#[test]
fn bad_registers_are_refused_at_file_line_col_with_nothing_recorded() {
    let sb = Sandbox::new();
    let ws = registered(&sb);
    code(&sb.at(&ws, &["check"]), 0);
    let before = recorded(&sb, &ws);
    let outside = sb.path().join("secret.txt");
    std::fs::write(&outside, "not evidence").unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("documents/policies/linked.md")).unwrap();
    std::fs::write(ws.join("documents/vendors/empty.pdf"), "").unwrap();
    let cases: [(&str, &str, &str); 7] = [
        (
            "controls = [\"VEN-1\"]",
            "controls = [\"VEN-2\"]",
            "documents.toml:23:13: document `VEN-DATADOG-SOC2-2026`: unknown control `VEN-2`; did you mean `VEN-1`?",
        ),
        (
            "datadog-soc2-2026.pdf\"]",
            "datadog-soc2-2025.pdf\"]",
            "documents.toml:19:10: document `VEN-DATADOG-SOC2-2026`: file `documents/vendors/datadog-soc2-2025.pdf`: no such file",
        ),
        (
            "effective = 2026-04-15",
            "effective = \"2026-04-31\"",
            "documents.toml:20:13: document `VEN-DATADOG-SOC2-2026`: field `effective`: `\"2026-04-31\"` is not a date (YYYY-MM-DD)",
        ),
        (
            "approved_at = 2026-01-28",
            "approved_at = 2026-02-02",
            "documents.toml:11:15: document `POL-ISP`: approved on 2026-02-02, after it took effect on 2026-02-01",
        ),
        (
            "policies/information-security.md",
            "policies/linked.md",
            "documents.toml:7:10: document `POL-ISP`: file `documents/policies/linked.md`: a symlink out of the workspace",
        ),
        (
            "vendors/datadog-soc2-2026.pdf",
            "vendors/empty.pdf",
            "documents.toml:19:10: document `VEN-DATADOG-SOC2-2026`: file `documents/vendors/empty.pdf`: the file is empty (0 bytes)",
        ),
        (
            "kind = \"policy\"",
            "kind = \"polcy\"",
            "documents.toml:5:8: document `POL-ISP`: field `kind`: unknown kind `polcy`; did you mean `policy`?",
        ),
    ];
    for (from, to, message) in cases {
        assert!(REGISTER.contains(from), "{from}");
        std::fs::write(ws.join("documents.toml"), REGISTER.replacen(from, to, 1)).unwrap();
        let check = sb.at(&ws, &["check"]);
        code(&check, 1);
        assert!(check.stderr.contains(message), "{message}\n{}", check.stderr);
        let collect = sb.at(&ws, &["documents", "collect"]);
        code(&collect, 4);
        assert!(collect.stderr.contains(message), "{}", collect.stderr);
        assert!(collect.stderr.contains("nothing was recorded"), "{}", collect.stderr);
        assert_eq!(recorded(&sb, &ws), before, "{to}: nothing recorded");
    }
    // Hostile text reaches the terminal only as text.
    std::fs::write(ws.join("documents.toml"), REGISTER.replacen("Information Security Policy", "Policy\u{1b}[2J", 1))
        .unwrap();
    let listing = sb.at(&ws, &["documents"]);
    assert!(!listing.stdout.contains('\u{1b}'), "{}", listing.stdout);
}

#[test]
fn a_file_edited_after_collection_is_reported_until_recollected_and_verify_holds_the_store() {
    let sb = Sandbox::new();
    let ws = registered(&sb);
    let collected = sb.at(&ws, &["documents", "collect"]);
    code(&collected, 0);
    assert!(collected.stdout.contains("2 new"), "{}", collected.stdout);
    let sha = scalar(&sb, &ws, "SELECT sha256 FROM documents WHERE id = 'POL-ISP'");
    assert_eq!(sha.len(), 64);
    assert!(ws.join(format!("evidence/blobs/{}/{sha}", &sha[..2])).is_file());
    // The test reads the period's bounds; the recorded SQL holds them.
    let run = sb.at(&ws, &["--format", "json", "test", "GOV-1", "--period", "2026-Q3"]).ok().json();
    assert!(run.as_array().unwrap().iter().all(|t| t["result"] == "pass"), "{run}");
    let drawn = sb.at(&ws, &["--format", "json", "sample", "GOV-1", "--period", "2026-Q3"]).ok().json();
    assert!(drawn["population"]["sql"].as_str().unwrap().contains("DATE '2026-10-01'"), "{drawn}");
    let vendor = sb.at(&ws, &["--format", "json", "documents", "--period", "2026-Q3"]).ok().json();
    assert_eq!(vendor[1]["state"], "outside the period");

    let policy = ws.join("documents/policies/information-security.md");
    std::fs::write(&policy, "# Information Security Policy\nedited later\n").unwrap();
    let listing = sb.at(&ws, &["--read-only", "--format", "json", "documents"]).ok().json();
    assert_eq!(listing[0]["state"], "changed since collected");
    let again = sb.at(&ws, &["documents", "collect"]);
    code(&again, 1);
    assert!(
        again.stderr.contains("changed since collected: documents/policies/information-security.md"),
        "{}",
        again.stderr
    );
    assert_eq!(scalar(&sb, &ws, "SELECT sha256 FROM documents WHERE id = 'POL-ISP'"), sha, "the old hash stands");
    code(&sb.at(&ws, &["--read-only", "documents", "collect", "--recollect", "POL-ISP"]), 3);
    code(&sb.at(&ws, &["documents", "collect", "--recollect", "POL-IPS"]), 4);
    code(&sb.at(&ws, &["documents", "collect", "--recollect", "POL-ISP"]), 0);
    let new_sha = scalar(&sb, &ws, "SELECT sha256 FROM documents WHERE id = 'POL-ISP'");
    assert_ne!(new_sha, sha);
    let logged = scalar(
        &sb,
        &ws,
        "SELECT payload->'recollected'->0->>'previous' FROM qd.action_log WHERE action = 'documents.collect' ORDER BY seq DESC LIMIT 1",
    );
    assert_eq!(logged, sha);
    code(&sb.at(&ws, &["verify"]), 0);

    // A stored file whose bytes no longer match its name is reported.
    let blob = ws.join(format!("evidence/blobs/{}/{new_sha}", &new_sha[..2]));
    let mut permissions = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&blob, permissions).unwrap();
    std::fs::write(&blob, "swapped").unwrap();
    let verify = sb.at(&ws, &["verify"]);
    code(&verify, 1);
    assert!(
        verify.stdout.contains("evidence/blobs") || verify.stderr.contains("evidence/blobs"),
        "{}{}",
        verify.stdout,
        verify.stderr
    );
}

#[test]
fn real_policies_with_their_own_headers_are_registered_as_they_are() {
    let comply = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/comply/policies");
    if !comply.is_dir() {
        eprintln!("skipped: {} is absent", comply.display());
        return;
    }
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let dir = ws.join("documents/policies");
    std::fs::create_dir_all(&dir).unwrap();
    let mut register = String::new();
    let mut names: Vec<_> = std::fs::read_dir(&comply).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in &names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        std::fs::copy(path, dir.join(&name)).unwrap();
        let id = format!("POL-{}", name.trim_end_matches(".md").to_uppercase());
        register.push_str(&format!(
            "[[document]]\nid = \"{id}\"\ntitle = \"{name}\"\nkind = \"policy\"\nfiles = [\"documents/policies/{name}\"]\neffective = 2026-03-01\nrenew = \"1y\"\n\n"
        ));
    }
    std::fs::write(ws.join("documents.toml"), register).unwrap();
    code(&sb.at(&ws, &["check"]), 0);
    let collected = sb.at(&ws, &["--format", "json", "documents", "collect"]).ok().json();
    assert_eq!(collected.as_array().unwrap().len(), names.len());
    // Their YAML-like headers (one citing a criterion that does not exist,
    // CC9.9) are content: nothing in them is read as a declaration.
    let states = sb.at(&ws, &["--format", "json", "documents"]).ok().json();
    assert_eq!(states.as_array().unwrap().len(), names.len());
    assert!(states.as_array().unwrap().iter().all(|d| d["state"] == "current"), "{states}");
    let total = scalar(&sb, &ws, "SELECT sum(bytes) FROM documents");
    let on_disk: u64 = names.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert_eq!(total, on_disk.to_string());
}
