//! `oscal/assessment-results.json`: one result for the audit, an observation
//! per sampled row (its verdict, the workpaper as evidence), the findings
//! tied to criteria and controls, and each review as an assessment-log entry
//! logged by the reviewer's party.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{
    BackMatter, Hash, Link, LoggedBy, Origin, OriginActor, OscalControl, OscalFinding, OscalInput, OscalRow, People,
    Property, RelatedObservation, Resource, Rlink, compound_id, instant, instant_or_verbatim, line, props, stable_uuid,
    string_value, to_value, token,
};

/// The roles of the assessment results' people, beside "prepared-by".
const ROLES: &[(&str, &str)] = &[("assessor", "Assessor"), ("reviewer", "Reviewer")];

/// The assessment results of the audit, `{"assessment-results": {...}}`,
/// valid against the OSCAL 1.2.1 schema.
pub fn assessment_results(input: &OscalInput) -> Value {
    let ws = input.workspace_id.as_str();
    let mut people = People::new(ws);
    let mut observations = Vec::new();
    let mut seen = Occurrences::default();
    for control in &input.controls {
        for row in &control.rows {
            let uuid = seen.observation_uuid(input, &control.id, row);
            observations.push(observation(input, control, row, uuid, &mut people));
        }
    }
    let findings = input.findings.iter().map(|f| finding(input, f)).collect();
    let assessment_log = review_log(input, &mut people);
    let plan = plan_resource(input);
    let import_ap = ImportAp {
        href: format!("#{}", plan.uuid),
        remarks: Some("The assessment plan is the audit's sampling method, in the back matter.".to_owned()),
    };
    let mut resources = vec![plan];
    resources.extend(workpapers(input));
    let document = Document {
        assessment_results: AssessmentResults {
            uuid: stable_uuid(ws, "assessment-results", &input.audit_label),
            metadata: people.metadata(input, format!("SOC 2 mock audit {}", input.audit_label), ROLES),
            import_ap,
            results: vec![AssessmentResult {
                uuid: stable_uuid(ws, "result", &input.audit_label),
                title: line(&format!("SOC 2 mock audit {}", input.audit_label), "SOC 2 mock audit"),
                description: format!(
                    "Mock audit {} ({}) of the period from {} (inclusive) to {} (exclusive). Sampling method: {}",
                    input.audit_label, input.audit_status, input.period_start, input.period_end, input.method
                ),
                start: instant_or_verbatim(&input.period_start),
                end: Some(instant_or_verbatim(&input.period_end)),
                props: props([
                    ("audit-label", input.audit_label.as_str()),
                    ("audit-status", input.audit_status.as_str()),
                ]),
                reviewed_controls: reviewed_controls(&input.controls),
                assessment_log,
                observations,
                findings,
            }],
            back_matter: BackMatter { resources },
        },
    };
    to_value(&document)
}

/// The UUID of the back-matter resource of the workpaper at `path`.
pub(crate) fn workpaper_uuid(input: &OscalInput, path: &str) -> String {
    stable_uuid(&input.workspace_id, "workpaper", &compound_id(&[&input.audit_label, path]))
}

/// The back-matter resource of a workpaper: its path and SHA-256.
pub(crate) fn workpaper_resource(input: &OscalInput, control: &OscalControl, row: &OscalRow) -> Resource {
    let media_type = row.workpaper.to_ascii_lowercase().ends_with(".csv").then(|| "text/csv".to_owned());
    let hashes = string_value(&row.workpaper_sha256)
        .map(|value| vec![Hash { algorithm: "SHA-256".to_owned(), value }])
        .unwrap_or_default();
    Resource {
        uuid: workpaper_uuid(input, &row.workpaper),
        title: line(&row.workpaper, "workpaper"),
        description: Some(format!("Workpaper of evidence spec {} of control {}.", row.spec, control.id)),
        props: props([("control-id", control.id.as_str()), ("spec", row.spec.as_str())]),
        rlinks: vec![Rlink { href: row.workpaper.clone(), media_type, hashes }],
    }
}

/// The workpapers' resources, each path once, in the order rows name them.
fn workpapers(input: &OscalInput) -> Vec<Resource> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for control in &input.controls {
        for row in &control.rows {
            if seen.insert(row.workpaper.as_str()) {
                out.push(workpaper_resource(input, control, row));
            }
        }
    }
    out
}

/// The assessment plan as a back-matter resource: the sampling method.
fn plan_resource(input: &OscalInput) -> Resource {
    Resource {
        uuid: stable_uuid(&input.workspace_id, "assessment-plan", &input.audit_label),
        title: line(&format!("Assessment plan of mock audit {}", input.audit_label), "Assessment plan"),
        description: Some(format!("Sampling method: {}", input.method)),
        props: Vec::new(),
        rlinks: Vec::new(),
    }
}

/// Counts rows seen per (control, spec, key), so that a repeated row gets a
/// UUID of its own while the first keeps the one findings link to.
#[derive(Default)]
pub(crate) struct Occurrences(BTreeMap<String, usize>);

impl Occurrences {
    /// The UUID of the next occurrence of this row.
    pub fn observation_uuid(&mut self, input: &OscalInput, control: &str, row: &OscalRow) -> String {
        let id = compound_id(&[&input.audit_label, control, &row.spec, &row.key]);
        let n = self.0.entry(id.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { id } else { compound_id(&[&id, &n.to_string()]) };
        stable_uuid(&input.workspace_id, "observation", &id)
    }
}

/// The observations (control, row) a finding rests on: its rows that are
/// sampled rows of its control, each once.
pub(crate) fn finding_rows<'a>(input: &'a OscalInput, f: &OscalFinding) -> Vec<(&'a OscalControl, &'a OscalRow)> {
    let Some(control) = input.controls.iter().find(|c| c.id == f.control) else { return Vec::new() };
    let mut out: Vec<(&OscalControl, &OscalRow)> = Vec::new();
    for (spec, key) in &f.rows {
        if let Some(row) = control.rows.iter().find(|r| &r.spec == spec && &r.key == key)
            && !out.iter().any(|(_, seen)| std::ptr::eq(*seen, row))
        {
            out.push((control, row));
        }
    }
    out
}

/// The UUID of the first occurrence of a row's observation.
pub(crate) fn first_observation_uuid(input: &OscalInput, control: &str, row: &OscalRow) -> String {
    Occurrences::default().observation_uuid(input, control, row)
}

/// What a verdict says, in words.
fn verdict_text(verdict: Option<&str>) -> String {
    match verdict {
        Some("pass") => "passed".to_owned(),
        Some("exception") => "exception".to_owned(),
        Some("na") => "not applicable".to_owned(),
        Some(other) => other.to_owned(),
        None => "not yet tested".to_owned(),
    }
}

/// The observation of one sampled row.
pub(crate) fn observation(
    input: &OscalInput,
    control: &OscalControl,
    row: &OscalRow,
    uuid: String,
    people: &mut People<'_>,
) -> Observation {
    let verdict = row.verdict.as_deref();
    let tester = row.tester.as_deref().and_then(|t| people.add("assessor", t));
    let tested_at = row.tested_at.as_deref().and_then(instant);
    let mut types = vec!["control-objective".to_owned()];
    if verdict == Some("exception") {
        types.push("finding".to_owned());
    }
    let path = row.workpaper.as_str();
    let sha = row.workpaper_sha256.as_str();
    Observation {
        uuid,
        title: line(&format!("{} {}: {}", control.id, row.spec, row.key), "Sampled row"),
        description: format!(
            "Sampled row \"{}\" of evidence spec {} for control {} ({}): {}.",
            row.key,
            row.spec,
            control.id,
            control.title,
            verdict_text(verdict)
        ),
        props: props([
            ("control-id", control.id.as_str()),
            ("spec", row.spec.as_str()),
            ("row-key", row.key.as_str()),
            ("verdict", verdict.unwrap_or("")),
            ("tester", row.tester.as_deref().unwrap_or("")),
            ("tested-at", tested_at.as_deref().unwrap_or("")),
        ]),
        methods: vec!["TEST".to_owned()],
        types,
        origins: tester
            .map(|actor_uuid| {
                vec![Origin {
                    actors: vec![OriginActor {
                        kind: "party".to_owned(),
                        actor_uuid,
                        role_id: Some("assessor".to_owned()),
                    }],
                }]
            })
            .unwrap_or_default(),
        subjects: vec![Subject {
            subject_uuid: workpaper_uuid(input, path),
            kind: "resource".to_owned(),
            title: line(&format!("Row {} of {}", row.key, path), "Sampled row"),
            props: props([("spec", row.spec.as_str()), ("row-key", row.key.as_str())]),
        }],
        relevant_evidence: vec![Evidence {
            href: path.to_owned(),
            description: format!("Workpaper {path}, SHA-256 {sha}."),
            props: props([("sha256", sha)]),
            links: vec![Link {
                href: format!("#{}", workpaper_uuid(input, path)),
                rel: Some("reference".to_owned()),
                media_type: None,
            }],
        }],
        collected: tested_at.unwrap_or_else(|| instant_or_verbatim(&input.as_of)),
        remarks: row.note.clone().filter(|n| !n.trim().is_empty()),
    }
}

/// The finding as OSCAL has it: its first criterion as the target (the
/// control when it has none), satisfied once closed, and the observations of
/// its rows.
pub(crate) fn finding(input: &OscalInput, f: &OscalFinding) -> Finding {
    let closed = f.status.trim() == "closed";
    let (kind, target_id) = match f.criteria.first() {
        Some(criterion) => ("objective-id", token(criterion)),
        None => ("statement-id", token(&f.control)),
    };
    let mut finding_props = props([("finding-id", f.id.as_str()), ("control-id", f.control.as_str())]);
    finding_props.extend(f.criteria.iter().filter_map(|c| Property::new("criterion", c)));
    let opened_at = instant(&f.opened_at);
    finding_props.extend(props([
        ("severity", f.severity.as_str()),
        ("owner", f.owner.as_str()),
        ("status", f.status.as_str()),
        ("due", f.due.as_deref().unwrap_or("")),
        ("opened-at", opened_at.as_deref().unwrap_or("")),
    ]));
    let related_observations = finding_rows(input, f)
        .into_iter()
        .map(|(control, row)| RelatedObservation { observation_uuid: first_observation_uuid(input, &control.id, row) })
        .collect();
    let remarks = f.acceptance.as_ref().map(|a| {
        let expires = a.expires.as_deref().map(|e| format!(" (expires {e})")).unwrap_or_default();
        format!("Risk accepted by {}{expires}: {}", a.approver, a.reason)
    });
    Finding {
        uuid: stable_uuid(&input.workspace_id, "finding", &f.id),
        title: line(&f.title, &f.id),
        description: f.description.clone(),
        props: finding_props,
        target: FindingTarget {
            kind: kind.to_owned(),
            target_id,
            status: ObjectiveStatus {
                state: if closed { "satisfied" } else { "not-satisfied" }.to_owned(),
                remarks: Some(format!("Finding status: {}.", f.status)),
            },
        },
        related_observations,
        remarks,
    }
}

/// The controls reviewed: each id as a token, with the original id, title,
/// owner, result and criteria as properties grouped by that token, and the
/// practices in the remarks.
fn reviewed_controls(controls: &[OscalControl]) -> ReviewedControls {
    if controls.is_empty() {
        return ReviewedControls {
            control_selections: vec![ControlSelection::All {
                description: "The audit has no control in scope.".to_owned(),
                include_all: IncludeAll {},
            }],
        };
    }
    let mut selection_props = Vec::new();
    let mut remarks = Vec::new();
    for c in controls {
        let group = token(&c.id);
        for (name, value) in [("control-id", &c.id), ("control-title", &c.title), ("control-owner", &c.owner)] {
            selection_props.extend(Property::grouped(name, value, &group));
        }
        selection_props.extend(Property::grouped("control-result", &c.result, &group));
        selection_props.extend(c.criteria.iter().filter_map(|cr| Property::grouped("criterion", cr, &group)));
        remarks.push(format!("- {}: {}. Practice: {}", c.id, c.title, c.practice));
    }
    ReviewedControls {
        control_selections: vec![ControlSelection::Listed {
            props: selection_props,
            include_controls: controls.iter().map(|c| SelectControl { control_id: token(&c.id) }).collect(),
            remarks: remarks.join("\n"),
        }],
    }
}

/// The reviews as assessment-log entries, each logged by its reviewer.
fn review_log(input: &OscalInput, people: &mut People<'_>) -> Option<AssessmentLog> {
    let entries: Vec<LogEntry> = input
        .reviewers
        .iter()
        .map(|r| LogEntry {
            uuid: stable_uuid(
                &input.workspace_id,
                "review",
                &compound_id(&[&input.audit_label, &r.control, &r.reviewer, &r.reviewed_at]),
            ),
            title: line(&format!("Review of {} by {}", r.control, r.reviewer), "Review"),
            description: r.conclusion.clone(),
            start: instant_or_verbatim(&r.reviewed_at),
            props: props([("control-id", r.control.as_str()), ("reviewer", r.reviewer.as_str())]),
            logged_by: people
                .add("reviewer", &r.reviewer)
                .map(|party_uuid| vec![LoggedBy { party_uuid, role_id: Some("reviewer".to_owned()) }])
                .unwrap_or_default(),
        })
        .collect();
    (!entries.is_empty()).then_some(AssessmentLog { entries })
}

/// The root wrapper.
#[derive(Serialize)]
struct Document {
    #[serde(rename = "assessment-results")]
    assessment_results: AssessmentResults,
}

/// `assessment-results`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResults {
    uuid: String,
    metadata: super::Metadata,
    import_ap: ImportAp,
    results: Vec<AssessmentResult>,
    back_matter: BackMatter,
}

/// `import-ap`: where the assessment plan is.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ImportAp {
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

/// One `result`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResult {
    uuid: String,
    title: String,
    description: String,
    start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    reviewed_controls: ReviewedControls,
    #[serde(skip_serializing_if = "Option::is_none")]
    assessment_log: Option<AssessmentLog>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

/// `reviewed-controls`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReviewedControls {
    control_selections: Vec<ControlSelection>,
}

/// One `control-selections` entry: the controls by id, or all of them
/// (only when there is none to list: the schema wants one selection).
#[derive(Serialize)]
#[serde(untagged)]
enum ControlSelection {
    Listed {
        #[serde(skip_serializing_if = "Vec::is_empty")]
        props: Vec<Property>,
        #[serde(rename = "include-controls")]
        include_controls: Vec<SelectControl>,
        remarks: String,
    },
    All {
        description: String,
        #[serde(rename = "include-all")]
        include_all: IncludeAll,
    },
}

/// `include-all`: an empty object.
#[derive(Serialize)]
struct IncludeAll {}

/// One `include-controls` entry.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SelectControl {
    control_id: String,
}

/// `assessment-log`.
#[derive(Serialize)]
struct AssessmentLog {
    entries: Vec<LogEntry>,
}

/// One assessment-log entry: a review.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LogEntry {
    uuid: String,
    title: String,
    description: String,
    start: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logged_by: Vec<LoggedBy>,
}

/// An `observation` (also carried in the POA&M).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Observation {
    /// Stable UUID.
    pub uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    methods: Vec<String>,
    types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    origins: Vec<Origin>,
    subjects: Vec<Subject>,
    relevant_evidence: Vec<Evidence>,
    collected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

/// A `subjects` entry: the sampled row, in its workpaper's resource.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Subject {
    subject_uuid: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
}

/// A `relevant-evidence` entry: the workpaper.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Evidence {
    href: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    links: Vec<Link>,
}

/// A `finding` (also carried in the POA&M).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Finding {
    /// Stable UUID.
    pub uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    target: FindingTarget,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_observations: Vec<RelatedObservation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

/// A finding's `target`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct FindingTarget {
    #[serde(rename = "type")]
    kind: String,
    target_id: String,
    status: ObjectiveStatus,
}

/// A target's `status`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ObjectiveStatus {
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}
