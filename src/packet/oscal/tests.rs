//! Both documents against the OSCAL 1.2.1 schemas (tests/oscal/, offline),
//! determinism, stable UUIDs, hostile text, and, when
//! `$QUARTERDECK_TRESTLE_PYTHON` names a python with compliance-trestle,
//! the reference reader.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;

const WS: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const HOSTILE_KEY: &str = "<script>alert(1)</script>";
const ESC_NOTE: &str = "red \u{1b}[31malert\u{1b}[0m\nsecond line";
const BIDI_KEY: &str = "deploy-\u{202e}txt.exe";
const QUOTED: &str = "say \"hi\" and 'bye' \\ back";

fn row(spec: &str, key: &str, verdict: Option<&str>, tester: Option<&str>, at: Option<&str>) -> OscalRow {
    OscalRow {
        spec: spec.to_owned(),
        key: key.to_owned(),
        verdict: verdict.map(str::to_owned),
        note: None,
        tester: tester.map(str::to_owned),
        tested_at: at.map(str::to_owned),
        workpaper: format!("controls/{spec}/workpaper.csv"),
        workpaper_sha256: "ab".repeat(32),
    }
}

fn event(at: &str, actor: &str, from: Option<&str>, to: &str, note: Option<&str>) -> OscalEvent {
    OscalEvent {
        at: at.to_owned(),
        actor: actor.to_owned(),
        from: from.map(str::to_owned),
        to: to.to_owned(),
        note: note.map(str::to_owned),
    }
}

fn input() -> OscalInput {
    let mut exception =
        row("deploys", BIDI_KEY, Some("exception"), Some("  Ada\tLovelace \n"), Some("2026-08-02T10:00:00+02:00"));
    exception.note = Some(ESC_NOTE.to_owned());
    exception.workpaper = "controls/CHG-1/deploys/workpaper.csv".to_owned();
    let mut hostile = row("deploys", HOSTILE_KEY, Some("pass"), Some("Ada Lovelace"), Some("2026-08-01T09:00:00Z"));
    hostile.workpaper = "controls/CHG-1/deploys/workpaper.csv".to_owned();
    let mut quoted = row("access reviews", QUOTED, Some("na"), Some("Grace Hopper"), Some("2026-08-03T12:00:00Z"));
    quoted.note = Some(format!("{QUOTED} {HOSTILE_KEY}"));
    OscalInput {
        workspace_id: WS.to_owned(),
        tool_version: "0.1.0".to_owned(),
        audit_label: "2026-Q3".to_owned(),
        audit_status: "fieldwork".to_owned(),
        period_start: "2026-07-01T00:00:00Z".to_owned(),
        period_end: "2026-10-01T00:00:00Z".to_owned(),
        as_of: "2026-09-15T08:30:00Z".to_owned(),
        method: "25 rows per spec, seeded random sample <b>frozen</b>".to_owned(),
        controls: vec![
            OscalControl {
                id: "CHG-1".to_owned(),
                title: "Changes are \"approved\"\nbefore deploy".to_owned(),
                criteria: vec!["CC8.1".to_owned()],
                owner: "Platform team".to_owned(),
                practice: "Every deploy has a reviewed pull request.".to_owned(),
                result: "exceptions noted".to_owned(),
                rows: vec![hostile, exception, row("deploys", "untested row", None, None, None)],
            },
            OscalControl {
                id: "ACC-2".to_owned(),
                title: "Quarterly access reviews".to_owned(),
                criteria: vec!["CC6.1".to_owned(), "CC6.2".to_owned()],
                owner: "IT".to_owned(),
                practice: "Managers review access every quarter.".to_owned(),
                result: "effective".to_owned(),
                rows: vec![quoted, row("access reviews", "Q3 review", Some("pass"), Some(" "), Some("not a date"))],
            },
        ],
        findings: vec![
            OscalFinding {
                id: "2026-Q3-F001".to_owned(),
                control: "CHG-1".to_owned(),
                criteria: vec!["CC8.1".to_owned()],
                title: "Closed finding".to_owned(),
                description: "Fixed already.".to_owned(),
                severity: "low".to_owned(),
                owner: "Bob".to_owned(),
                due: Some("2026-08-31".to_owned()),
                status: "closed".to_owned(),
                opened_at: "2026-08-02T11:00:00Z".to_owned(),
                rows: vec![("deploys".to_owned(), HOSTILE_KEY.to_owned())],
                events: vec![event("2026-08-20T10:00:00Z", "Bob", Some("open"), "closed", None)],
                acceptance: None,
            },
            OscalFinding {
                id: "2026-Q3-F002".to_owned(),
                control: "CHG-1".to_owned(),
                criteria: vec!["CC8.1".to_owned()],
                title: format!("Deploy without review\n{HOSTILE_KEY}"),
                description: format!("Row {BIDI_KEY} shipped unreviewed. {ESC_NOTE}"),
                severity: "high".to_owned(),
                owner: "Carol \"CJ\" Jones".to_owned(),
                due: Some("2026-10-15".to_owned()),
                status: "remediating".to_owned(),
                opened_at: "2026-08-02T11:00:00Z".to_owned(),
                rows: vec![
                    ("deploys".to_owned(), BIDI_KEY.to_owned()),
                    ("deploys".to_owned(), "not sampled".to_owned()),
                ],
                events: vec![
                    event("2026-08-02T11:00:00Z", "Ada Lovelace", None, "open", Some("found in sample")),
                    event("2026-08-10T09:00:00Z", "Carol \"CJ\" Jones", Some("open"), "remediating", Some(ESC_NOTE)),
                ],
                acceptance: None,
            },
            OscalFinding {
                id: "2026-Q3-F003".to_owned(),
                control: "ACC-2".to_owned(),
                criteria: Vec::new(),
                title: "Accepted risk".to_owned(),
                description: "A contractor kept access.".to_owned(),
                severity: "medium".to_owned(),
                owner: "Dan".to_owned(),
                due: None,
                status: "risk-accepted".to_owned(),
                opened_at: "2026-08-03T12:00:00Z".to_owned(),
                rows: vec![("access reviews".to_owned(), QUOTED.to_owned())],
                events: vec![event("2026-08-05T12:00:00Z", "Eve", Some("open"), "risk-accepted", None)],
                acceptance: Some(OscalAcceptance {
                    approver: "Eve".to_owned(),
                    reason: format!("Contract ends soon; {HOSTILE_KEY}"),
                    expires: Some("2026-12-31".to_owned()),
                }),
            },
        ],
        reviewers: vec![
            OscalReview {
                control: "CHG-1".to_owned(),
                reviewer: "Rita Reviewer".to_owned(),
                conclusion: format!("Agree with the exception. {BIDI_KEY}"),
                reviewed_at: "2026-09-01T10:00:00Z".to_owned(),
            },
            OscalReview {
                control: "ACC-2".to_owned(),
                reviewer: "Rita Reviewer".to_owned(),
                conclusion: "Effective.".to_owned(),
                reviewed_at: "2026-09-02T10:00:00Z".to_owned(),
            },
        ],
    }
}

fn schema(file: &str) -> Value {
    let path = format!("{}/tests/oscal/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const AR_SCHEMA: &str = "oscal_assessment-results_1.2.1.schema.json";
const POAM_SCHEMA: &str = "oscal_poam_1.2.1.schema.json";

/// Every error of the document against the schema, structure
/// (`validator_for`) and formats (date-time, uri, email) alike.
fn errors(file: &str, document: &Value) -> Vec<String> {
    let schema = schema(file);
    let structure = jsonschema::validator_for(&schema).expect("schema compiles");
    let formats = jsonschema::options().should_validate_formats(true).build(&schema).expect("schema compiles");
    let mut out: Vec<String> = structure
        .iter_errors(document)
        .chain(formats.iter_errors(document))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn assert_valid(file: &str, document: &Value) {
    let errors = errors(file, document);
    assert!(
        errors.is_empty(),
        "{} schema errors against {file}:\n{}\n{}",
        errors.len(),
        errors.join("\n"),
        serde_json::to_string_pretty(document).unwrap_or_default()
    );
}

fn result(ar: &Value) -> &Value {
    &ar["assessment-results"]["results"][0]
}

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no list {key} in {v}"))
}

#[test]
fn assessment_results_is_valid_oscal() {
    assert_valid(AR_SCHEMA, &assessment_results(&input()));
}

#[test]
fn poam_is_valid_oscal() {
    assert_valid(POAM_SCHEMA, &poam(&input()));
}

#[test]
fn an_empty_audit_still_gives_valid_documents() {
    let bare = OscalInput { controls: Vec::new(), findings: Vec::new(), reviewers: Vec::new(), ..input() };
    assert_valid(AR_SCHEMA, &assessment_results(&bare));
    let doc = poam(&bare);
    assert_valid(POAM_SCHEMA, &doc);
    assert_eq!(list(&doc["plan-of-action-and-milestones"], "poam-items").len(), 1);
}

#[test]
fn the_schemas_reject_broken_documents() {
    let mut ar = assessment_results(&input());
    ar["assessment-results"].as_object_mut().expect("object").remove("metadata");
    assert!(errors(AR_SCHEMA, &ar).iter().any(|e| e.contains("metadata")), "{:?}", errors(AR_SCHEMA, &ar));

    let mut ar = assessment_results(&input());
    ar["assessment-results"]["results"][0]["observations"][0]["collected"] = "yesterday".into();
    assert!(!errors(AR_SCHEMA, &ar).is_empty(), "a bad date-time passes");

    let mut ar = assessment_results(&input());
    ar["assessment-results"]["results"][0]["reviewed-controls"]["control-selections"][0]["include-controls"][0]["control-id"] =
        "1 bad token".into();
    assert!(!errors(AR_SCHEMA, &ar).is_empty(), "a bad token passes");

    let mut ar = assessment_results(&input());
    ar["assessment-results"]["results"][0]["findings"][0]["title"] = "two\nlines".into();
    assert!(!errors(AR_SCHEMA, &ar).is_empty(), "a two-line title passes");

    let mut doc = poam(&input());
    doc["plan-of-action-and-milestones"]["poam-items"] = Value::Array(Vec::new());
    assert!(!errors(POAM_SCHEMA, &doc).is_empty(), "empty poam-items pass");

    let mut doc = poam(&input());
    doc["plan-of-action-and-milestones"]["uuid"] = "not-a-uuid".into();
    assert!(!errors(POAM_SCHEMA, &doc).is_empty(), "a bad uuid passes");
}

#[test]
fn output_is_byte_identical_on_re_export() {
    let a = input();
    let b = input();
    for (x, y) in [(assessment_results(&a), assessment_results(&b)), (poam(&a), poam(&b))] {
        let x = serde_json::to_vec_pretty(&x).expect("serializes");
        let y = serde_json::to_vec_pretty(&y).expect("serializes");
        assert_eq!(x, y);
    }
}

#[test]
fn uuids_are_stable_v5_and_per_workspace() {
    let a = stable_uuid(WS, "finding", "2026-Q3-F001");
    assert_eq!(a, stable_uuid(WS, "finding", "2026-Q3-F001"));
    assert_ne!(a, stable_uuid(&"0".repeat(64), "finding", "2026-Q3-F001"));
    assert_ne!(a, stable_uuid(WS, "risk", "2026-Q3-F001"));
    assert_ne!(a, stable_uuid(WS, "finding", "2026-Q3-F002"));
    let ns = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("urn:quarterdeck:workspace:{WS}").as_bytes());
    let expected = uuid::Uuid::new_v5(&ns, b"finding:2026-Q3-F001");
    assert_eq!(a, expected.to_string());
    assert_eq!(expected.get_version_num(), 5);

    let other = OscalInput { workspace_id: "1".repeat(64), ..input() };
    assert_ne!(
        assessment_results(&input())["assessment-results"]["uuid"],
        assessment_results(&other)["assessment-results"]["uuid"]
    );
    let ar = assessment_results(&input());
    let finding_uuid = &result(&ar)["findings"][1]["uuid"];
    assert_eq!(finding_uuid, &poam(&input())["plan-of-action-and-milestones"]["findings"][0]["uuid"]);
}

/// Every value under a key named `key`, anywhere in the document.
fn values_of<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == key {
                    out.push(child);
                }
                values_of(child, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| values_of(i, key, out)),
        _ => {}
    }
}

#[test]
fn uuids_are_unique_and_references_resolve() {
    for doc in [assessment_results(&input()), poam(&input())] {
        let mut uuids = Vec::new();
        values_of(&doc, "uuid", &mut uuids);
        let defined: BTreeSet<&str> = uuids.iter().filter_map(|u| u.as_str()).collect();
        assert_eq!(defined.len(), uuids.len(), "duplicate uuids in {doc}");
        for key in [
            "observation-uuid",
            "subject-uuid",
            "party-uuid",
            "actor-uuid",
            "finding-uuid",
            "risk-uuid",
            "response-uuid",
        ] {
            let mut refs = Vec::new();
            values_of(&doc, key, &mut refs);
            for r in refs {
                assert!(defined.contains(r.as_str().unwrap_or("")), "{key} {r} points nowhere");
            }
        }
        let mut parties = Vec::new();
        values_of(&doc, "party-uuids", &mut parties);
        for r in parties.iter().flat_map(|p| p.as_array().into_iter().flatten()) {
            assert!(defined.contains(r.as_str().unwrap_or("")), "party {r} points nowhere");
        }
    }
    let ar = assessment_results(&input());
    let href = ar["assessment-results"]["import-ap"]["href"].as_str().expect("href");
    let plan = href.strip_prefix('#').expect("a fragment");
    assert!(list(&ar["assessment-results"]["back-matter"], "resources").iter().any(|r| r["uuid"] == plan));
}

#[test]
fn one_observation_per_sampled_row() {
    let input = input();
    let rows: usize = input.controls.iter().map(|c| c.rows.len()).sum();
    let ar = assessment_results(&input);
    let observations = list(result(&ar), "observations");
    assert_eq!(observations.len(), rows);
    let untested = &observations[2];
    assert!(untested["props"].as_array().expect("props").iter().all(|p| p["name"] != "verdict"));
    assert_eq!(untested["collected"], "2026-09-15T08:30:00Z", "as_of when untested");
    assert_eq!(observations[1]["collected"], "2026-08-02T08:00:00Z", "tested_at in UTC");
    assert_eq!(observations[4]["collected"], "2026-09-15T08:30:00Z", "as_of when tested_at does not parse");
    assert_eq!(observations[0]["relevant-evidence"][0]["href"], "controls/CHG-1/deploys/workpaper.csv");
    let ids: Vec<&Value> = list(&result(&ar)["reviewed-controls"]["control-selections"][0], "include-controls")
        .iter()
        .map(|c| &c["control-id"])
        .collect();
    assert_eq!(ids, ["chg-1", "acc-2"]);
}

#[test]
fn findings_target_criteria_and_link_their_observations() {
    let ar = assessment_results(&input());
    let findings = list(result(&ar), "findings");
    assert_eq!(findings.len(), 3);
    assert_eq!(findings[0]["target"]["status"]["state"], "satisfied");
    assert_eq!(findings[1]["target"]["status"]["state"], "not-satisfied");
    assert_eq!(findings[1]["target"]["target-id"], "cc8.1");
    assert_eq!(findings[2]["target"]["type"], "statement-id", "no criteria: the control");
    assert_eq!(findings[2]["target"]["target-id"], "acc-2");
    let exception_uuid = &list(result(&ar), "observations")[1]["uuid"];
    assert_eq!(list(&findings[1], "related-observations").len(), 1, "the unsampled row links nothing");
    assert_eq!(&findings[1]["related-observations"][0]["observation-uuid"], exception_uuid);
    let reviews = list(&result(&ar)["assessment-log"], "entries");
    assert_eq!(reviews.len(), 2);
    assert_eq!(reviews[0]["logged-by"][0]["role-id"], "reviewer");
}

#[test]
fn poam_has_the_findings_not_closed() {
    let doc = poam(&input());
    let p = &doc["plan-of-action-and-milestones"];
    let items = list(p, "poam-items");
    assert_eq!(items.len(), 2);
    let text = serde_json::to_string(&doc).expect("serializes");
    assert!(!text.contains("2026-Q3-F001"), "the closed finding is in the POA&M");
    assert!(!text.contains(&stable_uuid(WS, "finding", "2026-Q3-F001")));
    let risks = list(p, "risks");
    assert_eq!(risks[0]["status"], "remediating");
    assert_eq!(risks[0]["deadline"], "2026-10-15T23:59:59Z");
    let milestones = list(&risks[0]["remediations"][0], "tasks");
    assert_eq!(milestones.len(), 3, "two status changes and the due date");
    assert_eq!(milestones[1]["timing"]["on-date"]["date"], "2026-08-10T09:00:00Z");
    assert_eq!(milestones[1]["description"], ESC_NOTE);
    assert_eq!(risks[1]["status"], "deviation-approved");
    let accepted = &risks[1]["remediations"][1];
    assert_eq!(accepted["lifecycle"], "completed");
    let names: Vec<&Value> = list(accepted, "props").iter().map(|p| &p["name"]).collect();
    assert_eq!(names, ["risk-accepted", "approver", "reason", "expires"]);
    assert_eq!(accepted["tasks"][0]["timing"]["on-date"]["date"], "2026-12-31T23:59:59Z");
    assert_eq!(list(&risks[0]["risk-log"], "entries").len(), 2);
}

#[test]
fn evidence_text_goes_verbatim_into_free_text_only() {
    let ar = assessment_results(&input());
    let observations = list(result(&ar), "observations");
    let description = observations[0]["description"].as_str().expect("text");
    assert!(description.contains(HOSTILE_KEY), "{description}");
    assert!(observations[1]["description"].as_str().expect("text").contains(BIDI_KEY));
    assert_eq!(observations[1]["remarks"], ESC_NOTE);
    assert!(observations[3]["description"].as_str().expect("text").contains(QUOTED));
    let text = serde_json::to_string(&ar).expect("serializes");
    assert!(text.contains("\\u001b[31m"), "the escape is escaped by serde");
    assert!(!text.contains('\u{1b}'));
    let reparsed: Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(reparsed, ar);
    // Constrained fields get a cleaned copy: one-line titles, trimmed names.
    let finding = &list(result(&ar), "findings")[1];
    assert!(!finding["title"].as_str().expect("title").contains('\n'));
    let names: Vec<&Value> =
        list(&ar["assessment-results"]["metadata"], "parties").iter().map(|p| &p["name"]).collect();
    assert_eq!(names, ["Quarterdeck", "Ada Lovelace", "Grace Hopper", "Rita Reviewer"]);
}

#[test]
fn token_makes_valid_control_ids() {
    assert_eq!(token("CHG-1"), "chg-1");
    assert_eq!(token("CC8.1"), "cc8.1");
    assert_eq!(token("1 a"), "_1-a");
    assert_eq!(token(""), "_");
    assert_eq!(token(HOSTILE_KEY), "_-script-alert-1---script-");
}

/// Runs compliance-trestle's reader on both documents when
/// `$QUARTERDECK_TRESTLE_PYTHON` names a python that has it (.ci/run makes
/// one); otherwise says so and passes.
#[test]
fn trestle_reads_both_documents() {
    let Some(python) = std::env::var_os("QUARTERDECK_TRESTLE_PYTHON").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: QUARTERDECK_TRESTLE_PYTHON is not set (a python with compliance-trestle==5.2.0)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let full = input();
    let bare = OscalInput { controls: Vec::new(), findings: Vec::new(), reviewers: Vec::new(), ..input() };
    for (file, module, doc) in [
        ("assessment-results.json", "trestle.oscal.assessment_results", assessment_results(&full)),
        ("poam.json", "trestle.oscal.poam", poam(&full)),
        ("bare-assessment-results.json", "trestle.oscal.assessment_results", assessment_results(&bare)),
        ("bare-poam.json", "trestle.oscal.poam", poam(&bare)),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("serializes")).expect("writes");
        let script = format!("import sys; from {module} import Model; Model.parse_file(sys.argv[1]); print('ok')");
        let out = std::process::Command::new(&python)
            .args(["-W", "ignore", "-c", &script])
            .arg(&path)
            .output()
            .expect("runs the trestle python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.trim() == "ok",
            "trestle rejects {file}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
