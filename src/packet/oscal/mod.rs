//! OSCAL 1.2.1 documents of an audit packet: `oscal/assessment-results.json`
//! ([`assessment_results`]) and `oscal/poam.json` ([`poam`]).
//!
//! Pure functions from plain data ([`OscalInput`], filled by the caller from
//! the audit) to JSON. Plain serde structs (no OSCAL crate is maintained),
//! kebab-case, absent optionals and empty lists left out so that the
//! schema's `minItems: 1` holds. Every UUID is a v5 UUID of the workspace and
//! the object's own id ([`stable_uuid`]), and nothing reads the clock: the
//! same input gives the same bytes, so a re-export keeps every UUID.
//!
//! Text from the evidence (row keys, notes, titles, conclusions) goes
//! verbatim into free-text fields (`description`, `remarks`); fields the
//! schema constrains get a cleaned copy: titles lose their line breaks,
//! property values and names collapse their whitespace, and ids that must be
//! tokens are rewritten by [`token`] (the original kept in a property).

pub mod assessment_results;
pub mod poam;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use assessment_results::assessment_results;
pub use poam::poam;

/// The OSCAL version both documents declare.
pub const OSCAL_VERSION: &str = "1.2.1";

/// Namespace of every property this module defines (OSCAL reserves names
/// without a namespace for NIST's own).
pub const PROP_NS: &str = "urn:quarterdeck:oscal";

/// Everything the two documents say about one audit, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalInput {
    /// 64-hex string identifying the workspace: the namespace of every UUID,
    /// and the POA&M's `system-id`.
    pub workspace_id: String,
    /// Version of Quarterdeck that wrote the packet, e.g. "0.1.0".
    pub tool_version: String,
    /// The audit's label, e.g. "2026-Q3": document `version` and the id the
    /// documents' UUIDs derive from.
    pub audit_label: String,
    /// `planned`, `fieldwork` or `closed`.
    pub audit_status: String,
    /// RFC 3339, UTC: the first instant of the period (inclusive).
    pub period_start: String,
    /// RFC 3339, UTC: the end of the period (exclusive).
    pub period_end: String,
    /// RFC 3339: the instant the packet speaks for. Used as `last-modified`
    /// and wherever a date is needed and none is known (never the clock).
    pub as_of: String,
    /// The sampling method, as text (the assessment plan).
    pub method: String,
    /// The controls in the audit's scope, with their sampled rows.
    pub controls: Vec<OscalControl>,
    /// The audit's findings, closed ones included.
    pub findings: Vec<OscalFinding>,
    /// Reviewers' conclusions, one per review.
    pub reviewers: Vec<OscalReview>,
}

/// One control in scope and the rows sampled for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalControl {
    /// The control's id, e.g. "CHG-1".
    pub id: String,
    /// The control's title.
    pub title: String,
    /// Trust Services Criteria it maps to, e.g. ["CC8.1"].
    pub criteria: Vec<String>,
    /// Who owns the control.
    pub owner: String,
    /// What the organisation does (the control's practice).
    pub practice: String,
    /// `effective`, `exceptions noted` or `not tested`.
    pub result: String,
    /// The sampled rows, in the order they are to appear.
    pub rows: Vec<OscalRow>,
}

/// One sampled row of an evidence spec and what the tester concluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalRow {
    /// The evidence spec the row belongs to, e.g. "deploys".
    pub spec: String,
    /// The row's shown key (any text).
    pub key: String,
    /// `pass`, `exception` or `na`; `None` while untested.
    pub verdict: Option<String>,
    /// The tester's note.
    pub note: Option<String>,
    /// Who recorded the verdict.
    pub tester: Option<String>,
    /// RFC 3339 instant of the verdict.
    pub tested_at: Option<String>,
    /// Relative path of the workpaper in the packet, e.g.
    /// "controls/CHG-1/deploys/workpaper.csv".
    pub workpaper: String,
    /// Hex SHA-256 of that workpaper.
    pub workpaper_sha256: String,
}

/// One finding of the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalFinding {
    /// The finding's id, e.g. "2026-Q3-F001".
    pub id: String,
    /// The control it is against.
    pub control: String,
    /// The criteria it is against, e.g. ["CC8.1"].
    pub criteria: Vec<String>,
    /// Short title.
    pub title: String,
    /// Full description.
    pub description: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// Who owns the remediation.
    pub owner: String,
    /// Due date, YYYY-MM-DD.
    pub due: Option<String>,
    /// `open`, `remediating`, `ready-for-retest`, `closed` or `risk-accepted`.
    pub status: String,
    /// RFC 3339 instant the finding was opened.
    pub opened_at: String,
    /// The sampled rows it rests on: (spec, key) of rows of `control`.
    pub rows: Vec<(String, String)>,
    /// Its status history, oldest first.
    pub events: Vec<OscalEvent>,
    /// The risk acceptance, when the risk was accepted.
    pub acceptance: Option<OscalAcceptance>,
}

/// One change of a finding's status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalEvent {
    /// RFC 3339 instant of the change.
    pub at: String,
    /// Who made it.
    pub actor: String,
    /// The status before (`None` for the first).
    pub from: Option<String>,
    /// The status after.
    pub to: String,
    /// Why, as text.
    pub note: Option<String>,
}

/// A risk acceptance of a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalAcceptance {
    /// Who accepted the risk.
    pub approver: String,
    /// Why.
    pub reason: String,
    /// When the acceptance lapses, YYYY-MM-DD.
    pub expires: Option<String>,
}

/// A reviewer's conclusion on one control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscalReview {
    /// The control reviewed.
    pub control: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// The conclusion, as text.
    pub conclusion: String,
    /// RFC 3339 instant of the review.
    pub reviewed_at: String,
}

/// The UUID (v5) of the object `id` of kind `kind` in a workspace: the name
/// `"{kind}:{id}"` in the namespace that is itself the v5 UUID of
/// `"urn:quarterdeck:workspace:{workspace_id}"` under the URL namespace.
/// Same arguments, same UUID; another workspace, another UUID.
pub fn stable_uuid(workspace_id: &str, kind: &str, id: &str) -> String {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("urn:quarterdeck:workspace:{workspace_id}").as_bytes());
    Uuid::new_v5(&namespace, format!("{kind}:{id}").as_bytes()).to_string()
}

/// An object id made of several parts that may hold any text: their JSON
/// array, so that no two different lists of parts give the same id.
pub(crate) fn compound_id(parts: &[&str]) -> String {
    serde_json::to_string(parts).unwrap_or_else(|_| parts.join("\u{1f}"))
}

/// The text as a one-line title (`^[^\n]+$`): line breaks become spaces,
/// everything else stays; `fallback` when nothing visible is left.
pub(crate) fn line(text: &str, fallback: &str) -> String {
    let one = text.replace(['\r', '\n'], " ");
    if one.trim().is_empty() { fallback.to_owned() } else { one }
}

/// The text as an OSCAL string (`^\S(.*\S)?$`, as in property values and
/// party names): runs of whitespace become one space, none at either end;
/// `None` when nothing is left.
pub(crate) fn string_value(text: &str) -> Option<String> {
    let words: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || c == '\u{feff}').filter(|w| !w.is_empty()).collect();
    if words.is_empty() { None } else { Some(words.join(" ")) }
}

/// The text as an OSCAL token (`[A-Za-z_][A-Za-z0-9_.-]*`, the form of
/// `control-id` and `target-id`): ASCII lowercased, any other character
/// replaced by `-`, and `_` put before a first character that cannot start
/// one ("CHG-1" → "chg-1", "CC8.1" → "cc8.1", "1 a" → "_1-a").
pub fn token(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '_' | '-' | '.' => c,
            _ => '-',
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// An RFC 3339 instant as OSCAL wants it (UTC, `Z`, with an offset always);
/// `None` when it does not parse.
pub(crate) fn instant(text: &str) -> Option<String> {
    let at = DateTime::parse_from_rfc3339(text.trim()).ok()?;
    Some(at.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// An RFC 3339 instant, or the text as given when it does not parse (the
/// schema check then shows the caller's mistake instead of hiding it).
pub(crate) fn instant_or_verbatim(text: &str) -> String {
    instant(text).unwrap_or_else(|| text.to_owned())
}

/// A YYYY-MM-DD date as the instant its day ends in UTC (a due or expiry
/// date means "by the end of that day"); `None` when it does not parse.
pub(crate) fn end_of_day(date: &str) -> Option<String> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    Some(format!("{day}T23:59:59Z"))
}

/// An OSCAL property (`prop`) in [`PROP_NS`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Property {
    /// A token naming the property.
    pub name: String,
    /// Always [`PROP_NS`].
    pub ns: String,
    /// The value, an OSCAL string.
    pub value: String,
    /// A token relating properties that belong together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Property {
    /// The property `name` = `value`, or `None` when the value is blank.
    pub fn new(name: &str, value: &str) -> Option<Property> {
        Some(Property { name: name.to_owned(), ns: PROP_NS.to_owned(), value: string_value(value)?, group: None })
    }

    /// The same in the group `group` (a token).
    pub fn grouped(name: &str, value: &str, group: &str) -> Option<Property> {
        Property::new(name, value).map(|p| Property { group: Some(group.to_owned()), ..p })
    }
}

/// Properties from (name, value) pairs, blank values left out.
pub(crate) fn props<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Property> {
    pairs.into_iter().filter_map(|(name, value)| Property::new(name, value)).collect()
}

/// An OSCAL link.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Link {
    /// Where it points: a relative path or `#uuid` of a back-matter resource.
    pub href: String,
    /// How the target relates (a token), e.g. "reference".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// The target's media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// A role (`metadata.roles`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Role {
    /// A token naming the role.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// A party (`metadata.parties`): a person, or the organisation that runs
/// the tool.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Party {
    /// Stable UUID.
    pub uuid: String,
    /// `person` or `organization`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name, an OSCAL string.
    pub name: String,
    /// Short name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The parties that play a role (`metadata.responsible-parties`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ResponsibleParty {
    /// The role's id.
    pub role_id: String,
    /// The parties' UUIDs (at least one).
    pub party_uuids: Vec<String>,
}

/// A document's metadata.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Metadata {
    /// One-line title.
    pub title: String,
    /// The packet's as-of instant.
    pub last_modified: String,
    /// The audit label.
    pub version: String,
    /// [`OSCAL_VERSION`].
    pub oscal_version: String,
    /// Properties of the document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    /// Roles the document's parties play.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// The tool's organisation and every person named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    /// Who plays which role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A hash of a resource.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Hash {
    /// "SHA-256".
    pub algorithm: String,
    /// Hex digest.
    pub value: String,
}

/// A link to a resource's content, with its hashes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Rlink {
    /// Relative path in the packet.
    pub href: String,
    /// Media type of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Its digests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
}

/// A back-matter resource: a workpaper, or the assessment plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Resource {
    /// Stable UUID, the target of `#uuid` links.
    pub uuid: String,
    /// One-line title.
    pub title: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    /// Where the content is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rlinks: Vec<Rlink>,
}

/// A document's back matter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct BackMatter {
    /// Its resources (at least one, or no back matter at all).
    pub resources: Vec<Resource>,
}

/// Who logged an entry (of an assessment log or a risk log).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct LoggedBy {
    /// The party.
    pub party_uuid: String,
    /// The role it acted in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
}

/// A reference to an observation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RelatedObservation {
    /// The observation's UUID.
    pub observation_uuid: String,
}

/// Who produced an observation or a response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Origin {
    /// The actors (at least one).
    pub actors: Vec<OriginActor>,
}

/// One actor of an [`Origin`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct OriginActor {
    /// `party` here.
    #[serde(rename = "type")]
    pub kind: String,
    /// The party's UUID.
    pub actor_uuid: String,
    /// The role it acted in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
}

/// The people a document names, by role, each a party with a stable UUID.
pub(crate) struct People<'a> {
    workspace_id: &'a str,
    /// Role id → names playing it.
    roles: BTreeMap<&'static str, BTreeSet<String>>,
}

impl<'a> People<'a> {
    /// Nobody yet, in the workspace `workspace_id`.
    pub fn new(workspace_id: &'a str) -> People<'a> {
        People { workspace_id, roles: BTreeMap::new() }
    }

    /// The workspace whose UUIDs these are.
    pub fn workspace_id(&self) -> &'a str {
        self.workspace_id
    }

    /// The UUID of the tool's own party (the organisation that prepared the
    /// document).
    pub fn tool(&self) -> String {
        stable_uuid(self.workspace_id, "party", "tool:quarterdeck")
    }

    /// Records that `name` plays `role`; the person's party UUID, or `None`
    /// for a blank name (no party then).
    pub fn add(&mut self, role: &'static str, name: &str) -> Option<String> {
        let name = string_value(name)?;
        let uuid = self.person(&name);
        self.roles.entry(role).or_default().insert(name);
        Some(uuid)
    }

    /// The UUID of the person party named `name` (already cleaned).
    fn person(&self, name: &str) -> String {
        stable_uuid(self.workspace_id, "party", &format!("person:{name}"))
    }

    /// Metadata naming everybody: the tool's organisation (role
    /// "prepared-by") and one person party per distinct name, sorted by
    /// name, with the roles of `titles` that somebody plays.
    pub fn metadata(&self, input: &OscalInput, title: String, titles: &[(&'static str, &str)]) -> Metadata {
        let tool = Party {
            uuid: self.tool(),
            kind: "organization".to_owned(),
            name: "Quarterdeck".to_owned(),
            short_name: Some("quarterdeck".to_owned()),
            props: props([("tool-version", input.tool_version.as_str())]),
            remarks: Some(format!("SOC 2 audit preparation tool, version {}.", input.tool_version)),
        };
        let names: BTreeSet<&String> = self.roles.values().flatten().collect();
        let persons = names.into_iter().map(|name| Party {
            uuid: self.person(name),
            kind: "person".to_owned(),
            name: name.clone(),
            short_name: None,
            props: Vec::new(),
            remarks: None,
        });
        let mut roles = vec![Role { id: "prepared-by".to_owned(), title: "Prepared By".to_owned() }];
        let mut responsible =
            vec![ResponsibleParty { role_id: "prepared-by".to_owned(), party_uuids: vec![self.tool()] }];
        for (id, role_title) in titles {
            let Some(names) = self.roles.get(id).filter(|n| !n.is_empty()) else { continue };
            roles.push(Role { id: (*id).to_owned(), title: (*role_title).to_owned() });
            let party_uuids = names.iter().map(|n| self.person(n)).collect();
            responsible.push(ResponsibleParty { role_id: (*id).to_owned(), party_uuids });
        }
        Metadata {
            title: line(&title, "SOC 2 mock audit"),
            last_modified: instant_or_verbatim(&input.as_of),
            version: string_value(&input.audit_label).unwrap_or_else(|| "unlabelled".to_owned()),
            oscal_version: OSCAL_VERSION.to_owned(),
            props: props([("audit-label", input.audit_label.as_str()), ("audit-status", input.audit_status.as_str())]),
            roles,
            parties: std::iter::once(tool).chain(persons).collect(),
            responsible_parties: responsible,
            remarks: Some(format!(
                "Written by Quarterdeck {} from workspace {} as of {}.",
                input.tool_version, input.workspace_id, input.as_of
            )),
        }
    }
}

/// A serializable document as a JSON value (plain structs of strings and
/// lists cannot fail to serialize; `Null` would show if one ever did).
pub(crate) fn to_value<T: Serialize>(document: &T) -> serde_json::Value {
    serde_json::to_value(document).unwrap_or_default()
}
