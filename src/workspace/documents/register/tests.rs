use super::*;

const REGISTER: &str = r#"
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

fn parse(text: &str) -> Register {
    let mut register = Register::default();
    parse_register(Path::new("documents.toml"), text, &mut register);
    register
}

fn messages(register: &Register) -> Vec<String> {
    register.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn reads_the_issue_example() {
    let r = parse(REGISTER);
    assert!(r.problems.is_empty(), "{:?}", messages(&r));
    let policy = r.document("POL-ISP", "3.2").unwrap();
    assert_eq!(policy.kind, Kind::Policy);
    assert_eq!(policy.renew.as_ref().map(|(_, due)| due.to_string()), Some("2027-02-01".into()));
    assert_eq!(policy.controls[0].location.to_string(), "documents.toml:13:13");
    let report = r.document("VEN-DATADOG-SOC2-2026", "1").unwrap();
    assert_eq!(
        report.covers.map(|(f, t)| (f.to_string(), t.to_string())),
        Some(("2025-04-01".into(), "2026-03-31".into()))
    );
    assert_eq!(report.subject.as_deref(), Some("datadog"));
}

#[test]
fn an_approval_after_the_effective_date_is_refused_at_its_line() {
    let r = parse(&REGISTER.replace("approved_at = 2026-01-28", "approved_at = 2026-02-03"));
    assert_eq!(
        messages(&r),
        [
            "documents.toml:11:15: document `POL-ISP`: approved on 2026-02-03, after it took effect on 2026-02-01: a document is approved before it is in force"
        ]
    );
}

#[test]
fn bad_dates_kinds_intervals_and_paths_are_located() {
    let r = parse(
        &REGISTER
            .replace("effective = 2026-02-01", "effective = \"2026-02-30\"")
            .replace("\"policy\"", "\"polcy\"")
            .replace("\"1y\"", "\"yearly\"")
            .replace("documents/vendors/", "../vendors/"),
    );
    let all = messages(&r).join("\n");
    assert!(
        all.contains(
            "documents.toml:5:8: document `POL-ISP`: field `kind`: unknown kind `polcy`; did you mean `policy`?"
        ),
        "{all}"
    );
    assert!(
        all.contains("documents.toml:8:13: document `POL-ISP`: field `effective`: `\"2026-02-30\"` is not a date"),
        "{all}"
    );
    assert!(all.contains("field `renew`: `yearly` is not an interval"), "{all}");
    assert!(all.contains("documents.toml:19:10: document `VEN-DATADOG-SOC2-2026`: file `../vendors/datadog-soc2-2026.pdf`: a document's files live under `documents/`"), "{all}");
    assert!(r.documents.is_empty());
}

#[test]
fn covers_from_after_to_and_a_float_version_are_refused() {
    let r = parse(&REGISTER.replace("from = 2025-04-01", "from = 2026-04-01").replace("\"3.2\"", "3.10"));
    let all = messages(&r).join("\n");
    assert!(all.contains("field `covers`: `from` 2026-04-01 is after `to` 2026-03-31"), "{all}");
    assert!(all.contains("field `version`: write it as a string"), "{all}");
}

#[test]
fn an_unknown_key_is_a_located_toml_problem() {
    let r = parse(&REGISTER.replace("subject =", "subjet ="));
    assert_eq!(r.problems.len(), 1);
    assert!(r.problems[0].to_string().starts_with("documents.toml:22:1: unknown field `subjet`"), "{:?}", messages(&r));
}

#[test]
fn front_matter_is_toml_between_plus_lines_and_other_headers_are_content() {
    let text = "+++\nid = \"PM-1\"\ntitle = \"Postmortem\"\nkind = \"postmortem\"\neffective = 2026-08-02\nsubject = \"INC-1\"\n+++\n# What happened\n";
    let (offset, front) = front_matter(text).unwrap();
    let mut r = Register::default();
    parse_front_matter(Path::new("documents/pm/inc-1.md"), text, offset, front, &mut r);
    assert!(r.problems.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.documents[0].files[0].value, "documents/pm/inc-1.md");
    assert_eq!(r.documents[0].location.line, 2);
    // strongdm/comply's headers (YAML-like, closed by `---` only) are not front matter.
    assert!(front_matter("name: Access Policy\nacronym: AOTP\n---\n# Purpose\n").is_none());
    let bad = "+++\nid = \"PM-2\"\ntitle = \"x\"\nkind = \"postmortem\"\neffective = 2026-13-02\n+++\n";
    let (offset, front) = front_matter(bad).unwrap();
    let mut r = Register::default();
    parse_front_matter(Path::new("documents/pm/inc-2.md"), bad, offset, front, &mut r);
    assert!(r.problems[0].to_string().starts_with("documents/pm/inc-2.md:5:"), "{:?}", messages(&r));
}

#[test]
fn renewal_intervals() {
    assert_eq!(renewal_months("1y"), Some(12));
    assert_eq!(renewal_months("6mo"), Some(6));
    assert_eq!(renewal_months("2q"), Some(6));
    assert_eq!(renewal_months("0y"), None);
    assert_eq!(renewal_months("1d"), None);
}
