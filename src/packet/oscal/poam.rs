//! `oscal/poam.json`: a POA&M item per finding not closed, each with its
//! risk: the remediation (a milestone per status change, and the due date)
//! and the risk acceptance, the status history as the risk log, and the
//! finding and observations it rests on (same UUIDs as in the assessment
//! results).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::assessment_results::{Finding, Observation, finding, finding_rows, first_observation_uuid, observation};
use super::assessment_results::{workpaper_resource, workpaper_uuid};
use super::{
    BackMatter, LoggedBy, Origin, OriginActor, OscalAcceptance, OscalEvent, OscalFinding, OscalInput, People, Property,
    RelatedObservation, compound_id, end_of_day, instant, instant_or_verbatim, line, props, stable_uuid, string_value,
    to_value, token,
};

/// The roles of the POA&M's people, beside "prepared-by".
const ROLES: &[(&str, &str)] = &[
    ("assessor", "Assessor"),
    ("finding-owner", "Finding Owner"),
    ("risk-approver", "Risk Approver"),
    ("status-reporter", "Status Reporter"),
];

/// Whether a finding still needs a plan: every status but `closed`.
pub fn is_active(finding: &OscalFinding) -> bool {
    finding.status.trim() != "closed"
}

/// The plan of action and milestones of the audit,
/// `{"plan-of-action-and-milestones": {...}}`, valid against the OSCAL 1.2.1
/// schema. Findings not closed only; with none, a single item saying so
/// (the schema wants at least one).
pub fn poam(input: &OscalInput) -> Value {
    let ws = input.workspace_id.as_str();
    let mut people = People::new(ws);
    let active: Vec<&OscalFinding> = input.findings.iter().filter(|f| is_active(f)).collect();
    let mut observations: Vec<Observation> = Vec::new();
    let mut resources = Vec::new();
    let mut seen_observations = BTreeSet::new();
    let mut seen_workpapers = BTreeSet::new();
    for f in &active {
        for (control, row) in finding_rows(input, f) {
            let uuid = first_observation_uuid(input, &control.id, row);
            if seen_observations.insert(uuid.clone()) {
                observations.push(observation(input, control, row, uuid, &mut people));
            }
            if seen_workpapers.insert(workpaper_uuid(input, &row.workpaper)) {
                resources.push(workpaper_resource(input, control, row));
            }
        }
    }
    let risks: Vec<Risk> = active.iter().map(|f| risk(input, f, &mut people)).collect();
    let findings: Vec<Finding> = active.iter().map(|f| finding(input, f)).collect();
    let mut poam_items: Vec<PoamItem> = active.iter().map(|f| poam_item(input, f)).collect();
    if poam_items.is_empty() {
        poam_items.push(PoamItem {
            uuid: stable_uuid(ws, "poam-item", &compound_id(&["none", &input.audit_label])),
            title: "No open findings".to_owned(),
            description: format!("Every finding of audit {} is closed: nothing to remediate.", input.audit_label),
            props: Vec::new(),
            related_findings: Vec::new(),
            related_observations: Vec::new(),
            related_risks: Vec::new(),
        });
    }
    let document = Document {
        poam: Poam {
            uuid: stable_uuid(ws, "poam", &input.audit_label),
            metadata: people.metadata(
                input,
                format!("SOC 2 plan of action and milestones {}", input.audit_label),
                ROLES,
            ),
            system_id: SystemId { id: string_value(ws).unwrap_or_else(|| "unknown".to_owned()) },
            observations,
            risks,
            findings,
            poam_items,
            back_matter: (!resources.is_empty()).then_some(BackMatter { resources }),
        },
    };
    to_value(&document)
}

/// A finding's status as a risk status: the OSCAL value where one fits
/// (`risk-accepted` is a deviation approved; `ready-for-retest` is still
/// remediating), else the status as a token.
fn risk_status(status: &str) -> String {
    match status.trim() {
        "open" => "open".to_owned(),
        "remediating" | "ready-for-retest" => "remediating".to_owned(),
        "risk-accepted" => "deviation-approved".to_owned(),
        "closed" => "closed".to_owned(),
        other => token(other),
    }
}

/// The properties of a finding shared by its risk and its POA&M item.
fn finding_props(f: &OscalFinding) -> Vec<Property> {
    let mut out = props([("finding-id", f.id.as_str()), ("control-id", f.control.as_str())]);
    out.extend(f.criteria.iter().filter_map(|c| Property::new("criterion", c)));
    let opened_at = instant(&f.opened_at);
    out.extend(props([
        ("severity", f.severity.as_str()),
        ("owner", f.owner.as_str()),
        ("status", f.status.as_str()),
        ("due", f.due.as_deref().unwrap_or("")),
        ("opened-at", opened_at.as_deref().unwrap_or("")),
    ]));
    out
}

/// The observations a finding rests on, by UUID.
fn related_observations(input: &OscalInput, f: &OscalFinding) -> Vec<RelatedObservation> {
    finding_rows(input, f)
        .into_iter()
        .map(|(control, row)| RelatedObservation { observation_uuid: first_observation_uuid(input, &control.id, row) })
        .collect()
}

/// The POA&M item of a finding.
fn poam_item(input: &OscalInput, f: &OscalFinding) -> PoamItem {
    let ws = input.workspace_id.as_str();
    PoamItem {
        uuid: stable_uuid(ws, "poam-item", &f.id),
        title: line(&f.title, &f.id),
        description: f.description.clone(),
        props: finding_props(f),
        related_findings: vec![RelatedFinding { finding_uuid: stable_uuid(ws, "finding", &f.id) }],
        related_observations: related_observations(input, f),
        related_risks: vec![AssociatedRisk { risk_uuid: stable_uuid(ws, "risk", &f.id) }],
    }
}

/// The risk of a finding: its remediation, its risk acceptance, its history.
fn risk(input: &OscalInput, f: &OscalFinding, people: &mut People<'_>) -> Risk {
    let ws = input.workspace_id.as_str();
    let remediation_uuid = stable_uuid(ws, "remediation", &f.id);
    let acceptance_uuid = stable_uuid(ws, "risk-acceptance", &f.id);
    let mut remediations = vec![remediation(input, f, &remediation_uuid, people)];
    if let Some(a) = &f.acceptance {
        remediations.push(acceptance(f, a, acceptance_uuid.clone(), people));
    }
    let entries: Vec<RiskLogEntry> = f
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let response = if e.to.trim() == "risk-accepted" && f.acceptance.is_some() {
                &acceptance_uuid
            } else {
                &remediation_uuid
            };
            RiskLogEntry {
                uuid: stable_uuid(ws, "risk-log-entry", &compound_id(&[&f.id, &i.to_string()])),
                title: line(&format!("{}: {} → {}", f.id, e.from.as_deref().unwrap_or("new"), e.to), &f.id),
                description: e.note.clone().filter(|n| !n.trim().is_empty()),
                start: instant_or_verbatim(&e.at),
                props: props([("actor", e.actor.as_str())]),
                logged_by: people
                    .add("status-reporter", &e.actor)
                    .map(|party_uuid| vec![LoggedBy { party_uuid, role_id: Some("status-reporter".to_owned()) }])
                    .unwrap_or_default(),
                status_change: risk_status(&e.to),
                related_responses: vec![RelatedResponse { response_uuid: response.clone() }],
            }
        })
        .collect();
    let criteria = if f.criteria.is_empty() { String::new() } else { format!(" ({})", f.criteria.join(", ")) };
    Risk {
        uuid: stable_uuid(ws, "risk", &f.id),
        title: line(&f.title, &f.id),
        description: f.description.clone(),
        statement: format!(
            "Control {}{criteria} did not operate as described in finding {} (severity {}).",
            f.control, f.id, f.severity
        ),
        props: finding_props(f),
        status: risk_status(&f.status),
        deadline: f.due.as_deref().and_then(end_of_day),
        remediations,
        risk_log: (!entries.is_empty()).then_some(RiskLog { entries }),
        related_observations: related_observations(input, f),
    }
}

/// The party origin of a response, when the name is not blank.
fn party_origin(people: &mut People<'_>, role: &'static str, name: &str) -> Vec<Origin> {
    people
        .add(role, name)
        .map(|actor_uuid| {
            vec![Origin {
                actors: vec![OriginActor { kind: "party".to_owned(), actor_uuid, role_id: Some(role.to_owned()) }],
            }]
        })
        .unwrap_or_default()
}

/// The remediation of a finding: a milestone per status change and one for
/// the due date; completed once ready for retest, a mere recommendation
/// once the risk is accepted, planned otherwise.
fn remediation(input: &OscalInput, f: &OscalFinding, uuid: &str, people: &mut People<'_>) -> Response {
    let ws = input.workspace_id.as_str();
    let lifecycle = match f.status.trim() {
        "ready-for-retest" => "completed",
        "risk-accepted" => "recommendation",
        _ => "planned",
    };
    let mut tasks: Vec<Task> = f.events.iter().enumerate().map(|(i, e)| milestone(ws, f, i, e)).collect();
    if let Some(date) = f.due.as_deref().and_then(end_of_day) {
        tasks.push(Task {
            uuid: stable_uuid(ws, "milestone", &compound_id(&[&f.id, "due"])),
            kind: "milestone".to_owned(),
            title: line(&format!("{}: due", f.id), &f.id),
            description: Some(format!("Remediation of {} due by the end of {}.", f.id, f.due.as_deref().unwrap_or(""))),
            props: Vec::new(),
            timing: Some(Timing { on_date: OnDate { date } }),
        });
    }
    let due = f.due.as_deref().map(|d| format!(", due {d}")).unwrap_or_default();
    Response {
        uuid: uuid.to_owned(),
        lifecycle: lifecycle.to_owned(),
        title: line(&format!("Remediation of {}", f.id), "Remediation"),
        description: format!("{} remediates finding {}{due}.", f.owner, f.id),
        props: props([("owner", f.owner.as_str()), ("due", f.due.as_deref().unwrap_or(""))]),
        origins: party_origin(people, "finding-owner", &f.owner),
        tasks,
    }
}

/// A status change of a finding as a remediation milestone.
fn milestone(ws: &str, f: &OscalFinding, i: usize, e: &OscalEvent) -> Task {
    let from = e.from.as_deref().unwrap_or("new");
    Task {
        uuid: stable_uuid(ws, "milestone", &compound_id(&[&f.id, &i.to_string()])),
        kind: "milestone".to_owned(),
        title: line(&format!("{}: {from} → {}", f.id, e.to), &f.id),
        description: e.note.clone().filter(|n| !n.trim().is_empty()),
        props: props([("actor", e.actor.as_str()), ("from", e.from.as_deref().unwrap_or("")), ("to", e.to.as_str())]),
        timing: Some(Timing { on_date: OnDate { date: instant_or_verbatim(&e.at) } }),
    }
}

/// The risk acceptance of a finding as a response: completed while the
/// finding is risk-accepted, planned otherwise; its expiry a milestone.
fn acceptance(f: &OscalFinding, a: &OscalAcceptance, uuid: String, people: &mut People<'_>) -> Response {
    let lifecycle = if f.status.trim() == "risk-accepted" { "completed" } else { "planned" };
    let tasks = a
        .expires
        .as_deref()
        .and_then(end_of_day)
        .map(|date| {
            vec![Task {
                uuid: stable_uuid(people.workspace_id(), "milestone", &compound_id(&[&f.id, "acceptance-expires"])),
                kind: "milestone".to_owned(),
                title: line(&format!("{}: risk acceptance expires", f.id), &f.id),
                description: None,
                props: Vec::new(),
                timing: Some(Timing { on_date: OnDate { date } }),
            }]
        })
        .unwrap_or_default();
    Response {
        uuid,
        lifecycle: lifecycle.to_owned(),
        title: line(&format!("Risk acceptance of {}", f.id), "Risk acceptance"),
        description: a.reason.clone(),
        props: props([
            ("risk-accepted", "true"),
            ("approver", a.approver.as_str()),
            ("reason", a.reason.as_str()),
            ("expires", a.expires.as_deref().unwrap_or("")),
        ]),
        origins: party_origin(people, "risk-approver", &a.approver),
        tasks,
    }
}

/// The root wrapper.
#[derive(Serialize)]
struct Document {
    #[serde(rename = "plan-of-action-and-milestones")]
    poam: Poam,
}

/// `plan-of-action-and-milestones` (no `import-ssp`: optional in the schema,
/// and there is no SSP; the workspace is the `system-id`).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Poam {
    uuid: String,
    metadata: super::Metadata,
    system_id: SystemId,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    risks: Vec<Risk>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
    poam_items: Vec<PoamItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    back_matter: Option<BackMatter>,
}

/// `system-id`.
#[derive(Serialize)]
struct SystemId {
    id: String,
}

/// One `poam-items` entry.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct PoamItem {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_findings: Vec<RelatedFinding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_observations: Vec<RelatedObservation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_risks: Vec<AssociatedRisk>,
}

/// A reference to a finding.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedFinding {
    finding_uuid: String,
}

/// A reference to a risk.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssociatedRisk {
    risk_uuid: String,
}

/// A `risk`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Risk {
    uuid: String,
    title: String,
    description: String,
    statement: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remediations: Vec<Response>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_log: Option<RiskLog>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_observations: Vec<RelatedObservation>,
}

/// A `remediations` entry (OSCAL's response): remediation or acceptance.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Response {
    uuid: String,
    lifecycle: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    origins: Vec<Origin>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tasks: Vec<Task>,
}

/// A `tasks` entry: a milestone on a date.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Task {
    uuid: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timing: Option<Timing>,
}

/// `timing` with `on-date`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Timing {
    on_date: OnDate,
}

/// `on-date`.
#[derive(Serialize)]
struct OnDate {
    date: String,
}

/// `risk-log`.
#[derive(Serialize)]
struct RiskLog {
    entries: Vec<RiskLogEntry>,
}

/// One risk-log entry: a status change.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RiskLogEntry {
    uuid: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    start: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logged_by: Vec<LoggedBy>,
    status_change: String,
    related_responses: Vec<RelatedResponse>,
}

/// A reference to a response.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedResponse {
    response_uuid: String,
}
