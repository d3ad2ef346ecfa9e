//! Everything a packet says, gathered once from the audit read model (the
//! same functions the CLI and the TUI read: `summary`, `store::load`,
//! `findings`, `source_statuses`, the action log). Nothing here renders and
//! nothing recomputes a number those functions define.
//!
//! Every time-dependent judgement (freshness, a lapsed acceptance, coverage)
//! is made as of the action-log head, never the clock, so that exporting an
//! unchanged audit again gives the same packet.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::PacketError;
use super::ipe::{self, Ipe, PeriodColumn};
use crate::audit::audits::summary::{AuditSummary, summary};
use crate::audit::findings::{self, Event, Finding, effective_status};
use crate::audit::full_population::{SpecOutcome, test_control};
use crate::audit::lifecycle::FindingStatus;
use crate::audit::occurrences::{self, StoredSlot};
use crate::audit::record::sample_ids;
use crate::audit::review::{self, Review};
use crate::audit::sampling::Sample;
use crate::audit::sampling::store;
use crate::audit::verdicts::ControlOutcome;
use crate::progress::Progress;
use crate::workspace::Workspace;
use crate::workspace::action_log::hash_chain::LogEntry;
use crate::workspace::action_log::{Head, entries};
use crate::workspace::catalog::{Catalog, Criterion};
use crate::workspace::frequency::Frequency;
use crate::workspace::mapping::{Control, Mappings};
use crate::workspace::population;
use crate::workspace::sources::{SourceStatus, parse_timestamp, source_statuses};

/// One audit, as its packet tells it.
#[derive(Debug)]
pub struct Dossier {
    /// Names this workspace for stable OSCAL uuids: the hash of the first
    /// action-log entry, which nothing rewrites without breaking the chain.
    pub workspace_id: String,
    pub summary: AuditSummary,
    /// The mapping as it is now, and whether it is the one the audit froze.
    pub mapping_version: String,
    pub mapping_changed: bool,
    pub timezone: String,
    pub controls: Vec<ControlDossier>,
    pub findings: Vec<FindingDossier>,
    pub sources: Vec<SourceStatus>,
    /// The instant every judgement is made at: the log head's time.
    pub as_of: DateTime<Utc>,
    pub head: Head,
    /// This audit's entries of the action log, in seq order.
    pub log: Vec<LogEntry>,
    pub reviews: Vec<Review>,
    /// The local date of `as_of`, for due dates and lapsed acceptances.
    pub today: NaiveDate,
    /// Sample size by frequency: (frequency, size, set in quarterdeck.toml
    /// rather than Quarterdeck's default).
    pub sample_sizes: Vec<(Frequency, u32, bool)>,
    /// Controls in scope with no reviewer's sign-off.
    pub unreviewed: Vec<String>,
}

/// A control in scope: its mapping, result, samples and sign-off.
#[derive(Debug)]
pub struct ControlDossier {
    pub id: String,
    /// None when the control is no longer in the mappings.
    pub control: Option<Control>,
    pub criteria: Vec<Criterion>,
    pub outcome: ControlOutcome,
    pub samples: Vec<SampleDossier>,
    /// Every test of every spec over the whole period's population.
    pub population_tests: Vec<SpecOutcome>,
    /// Why the full-population tests could not run, when they could not.
    pub population_error: Option<String>,
    pub review: Option<Review>,
    /// Its expected occurrences, as recorded when the audit started.
    pub occurrences: Vec<StoredSlot>,
    /// Findings of this control in the packet, by id.
    pub findings: Vec<String>,
}

/// A frozen sample with who drew it and its IPE sheet.
#[derive(Debug)]
pub struct SampleDossier {
    pub sample_id: i64,
    pub sample: Sample,
    pub drawn_at: String,
    pub drawn_by: String,
    pub redraw_reason: Option<String>,
    /// The column the period bounds, as the mapping resolves it now.
    pub period_column: Option<String>,
    pub ipe: Ipe,
}

/// A finding with its remediation history.
#[derive(Debug)]
pub struct FindingDossier {
    pub finding: Finding,
    /// Its status as of the packet (an acceptance past its expiry is open).
    pub status: FindingStatus,
    pub events: Vec<Event>,
}

/// Reads the audit `label` whole. `progress` hears one step per control.
pub fn gather(ws: &Workspace, label: &str, progress: &dyn Progress) -> Result<Dossier, PacketError> {
    let summary = summary(ws, label)?;
    let log = entries(&ws.conn)?;
    let (Some(first), Some(last)) = (log.first(), log.last()) else {
        return Err(PacketError::EmptyLog);
    };
    let head = Head { seq: last.seq, hash: last.hash.clone() };
    let as_of = parse_timestamp(&last.at).map(|t| t.and_utc()).ok_or_else(|| PacketError::Unreadable {
        what: format!("action log entry {}: time `{}`", last.seq, last.at),
    })?;
    let today = as_of.with_timezone(&ws.config.timezone).date_naive();
    let mappings = Mappings::load(&ws.root);
    let catalog = Catalog::soc2().map_err(|e| PacketError::Unreadable { what: format!("the SOC 2 catalog: {e}") })?;
    let reviews = review::list(&ws.conn, label)?;
    let latest_reviews = review::latest_by_control(&reviews);

    let findings = packet_findings(ws, &summary, today)?;
    let samples = samples_by_control(ws, label)?;
    let slots = occurrences::load(&ws.conn, label)?;
    let mut controls = Vec::with_capacity(summary.results.len());
    let total = summary.results.len() as u64;
    for (done, outcome) in summary.results.iter().enumerate() {
        progress.step(&format!("control {}", outcome.control), done as u64, total);
        let control = mappings.control(&outcome.control).cloned();
        let (population_tests, population_error) = match &control {
            Some(c) if !c.evidence.is_empty() => match test_control(ws, c, &summary.audit.period) {
                Ok(tests) => (tests, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            },
            Some(_) => (Vec::new(), Some("the control has no evidence spec".to_string())),
            None => (Vec::new(), Some("the control is no longer in the mappings".to_string())),
        };
        let criteria = control
            .as_ref()
            .map(|c| {
                c.criteria.iter().filter_map(|m| catalog.criteria.iter().find(|k| k.id == m.value).cloned()).collect()
            })
            .unwrap_or_default();
        let mut drawn = Vec::new();
        for (sample_id, sample) in samples.get(&outcome.control).into_iter().flatten() {
            // The full-population tests resolved the spec already; resolve
            // (describe the SQL) again only when they could not run.
            let tested = population_tests.iter().find(|t| t.spec == sample.spec).map(|t| &t.population);
            let resolved = match tested {
                Some(_) => None,
                None => control.as_ref().and_then(|c| {
                    let spec = c.evidence.iter().find(|s| s.name == sample.spec)?;
                    population::resolve(ws, c, spec).ok()
                }),
            };
            let column = tested.or(resolved.as_ref()).map(|p| PeriodColumn {
                name: &p.period_column,
                kind: p.column_type(&p.period_column).unwrap_or("TIMESTAMP"),
                placed: p.warehouse.as_deref().zip(p.source_name.as_deref()),
            });
            drawn.push(sample_dossier(ws, *sample_id, sample.clone(), column, today)?);
        }
        controls.push(ControlDossier {
            id: outcome.control.clone(),
            criteria,
            control,
            outcome: outcome.clone(),
            samples: drawn,
            population_tests,
            population_error,
            review: latest_reviews.get(&outcome.control).map(|r| (*r).clone()),
            occurrences: slots.iter().filter(|s| s.control == outcome.control).cloned().collect(),
            findings: findings
                .iter()
                .filter(|f| f.finding.control == outcome.control)
                .map(|f| f.finding.id.clone())
                .collect(),
        });
    }
    progress.step("sources", total, total);
    let sources = source_statuses(ws, Some(&summary.audit.period), as_of)?;
    let unreviewed = review::unreviewed(&summary.audit.controls, &reviews);
    let slice = audit_slice(&log, &summary, &controls, &findings);
    Ok(Dossier {
        workspace_id: first.hash.clone(),
        mapping_changed: mappings.version != summary.audit.mapping_version,
        mapping_version: mappings.version.clone(),
        timezone: ws.config.timezone.to_string(),
        controls,
        findings,
        sources,
        as_of,
        head,
        log: slice,
        reviews,
        today,
        sample_sizes: Frequency::NAMES
            .iter()
            .filter_map(|name| Frequency::parse(name))
            .map(|f| (f, ws.config.sample_size(f), ws.config.sampling.contains_key(&f)))
            .collect(),
        unreviewed,
        summary,
    })
}

/// The current samples of the audit, by control, each whole.
fn samples_by_control(ws: &Workspace, label: &str) -> Result<BTreeMap<String, Vec<(i64, Sample)>>, PacketError> {
    let mut out: BTreeMap<String, Vec<(i64, Sample)>> = BTreeMap::new();
    for (id, control, _spec) in sample_ids(&ws.conn, label)? {
        let sample = store::load(ws, id)?.ok_or_else(|| PacketError::Unreadable { what: format!("sample {id}") })?;
        out.entry(control).or_default().push((id, sample));
    }
    Ok(out)
}

fn sample_dossier(
    ws: &Workspace,
    sample_id: i64,
    sample: Sample,
    column: Option<PeriodColumn<'_>>,
    today: NaiveDate,
) -> Result<SampleDossier, PacketError> {
    let (drawn_at, drawn_by, redraw_reason): (String, String, Option<String>) = ws.conn.query_row(
        "SELECT CAST(drawn_at AS VARCHAR), drawn_by, redraw_reason FROM qd.samples WHERE sample_id = ?",
        [sample_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let period_column = column.as_ref().map(|c| c.name.to_string());
    let ipe = ipe::sheet(ws, &sample, column, &drawn_at, today)?;
    Ok(SampleDossier { sample_id, sample, drawn_at, drawn_by, redraw_reason, period_column, ipe })
}

/// The findings an auditor of this audit needs: those filed in it, those
/// its retests closed, and every other finding on its controls still
/// active or accepted as of the packet; oldest first.
fn packet_findings(
    ws: &Workspace,
    summary: &AuditSummary,
    today: NaiveDate,
) -> Result<Vec<FindingDossier>, PacketError> {
    let label = summary.audit.label.as_str();
    let mut out = Vec::new();
    for finding in findings::list(&ws.conn)? {
        let status = effective_status(&finding, today);
        let on_scope = summary.audit.controls.contains(&finding.control);
        let belongs = finding.audit == label
            || finding.closed_in.as_deref() == Some(label)
            || (on_scope && (status.is_active() || status == FindingStatus::RiskAccepted));
        if belongs {
            let events = findings::events(&ws.conn, &finding.id)?;
            out.push(FindingDossier { finding, status, events });
        }
    }
    Ok(out)
}

/// The log entries that concern this audit: its own (start, draws,
/// verdicts, close, sign-offs), those of its findings, and the ingest runs
/// of the sources its populations read.
fn audit_slice(
    log: &[LogEntry],
    summary: &AuditSummary,
    controls: &[ControlDossier],
    findings: &[FindingDossier],
) -> Vec<LogEntry> {
    let label = summary.audit.label.as_str();
    let finding_ids: BTreeSet<&str> = findings.iter().map(|f| f.finding.id.as_str()).collect();
    let sources: BTreeSet<&str> =
        controls.iter().flat_map(|c| &c.samples).flat_map(|s| &s.ipe.sources).map(String::as_str).collect();
    let text = |e: &LogEntry, key: &str| e.payload.get(key).and_then(|v| v.as_str()).map(str::to_string);
    log.iter()
        .filter(|e| {
            text(e, "audit").as_deref() == Some(label)
                || text(e, "id").is_some_and(|id| finding_ids.contains(id.as_str()))
                || (e.action == "ingest.run" && text(e, "source").is_some_and(|s| sources.contains(s.as_str())))
        })
        .cloned()
        .collect()
}
