//! The inventory against the evidence, for a period: each system's first and
//! last sighting, which controls cover it, and the drift a mock audit turns
//! into findings — unknown systems, retired systems still active, in-scope
//! systems a control applies to without evidence, an overdue review, owners
//! who are not active people. Coverage is computed from each population in
//! the period, never declared.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::observe::{self, Seen, Sighting};
use super::{Inventory, InventoryError, Kind, scan};
use crate::workspace::Workspace;
use crate::workspace::mapping::{AppliesTo, Control, EvidenceSpec, Mappings, PopulationDef};
use crate::workspace::period::Period;
use crate::workspace::population;
use crate::workspace::query::bounded;
use crate::workspace::sql::quote_ident;

crate::vocabulary::vocabulary! {
    /// What is wrong between the inventory and the evidence.
    pub enum DriftKind {
        /// Seen in the evidence, not in the inventory.
        Unknown = "unknown",
        /// Seen after the day it was retired.
        RetiredButActive = "retired-but-active",
        /// In scope, but a control that applies to it has no evidence for it.
        Uncovered = "uncovered",
        /// The inventory's last review is older than the window.
        ReviewOverdue = "review-overdue",
        /// No owner, or an owner who is not an active person.
        OwnerUnknown = "owner-unknown",
    }
}

/// One line of drift.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Drift {
    pub kind: DriftKind,
    pub system: Option<String>,
    pub source: Option<String>,
    pub control: Option<String>,
    pub spec: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Rows of the period behind it (0 where none are).
    pub rows: u64,
    /// The line in words, as a finding's title would put it.
    pub detail: String,
}

/// One spec that applies to systems, and its rows per system in the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpecCoverage {
    pub control: String,
    pub spec: String,
    /// The population column naming the system.
    pub column: String,
    /// The in-scope systems it applies to in the period.
    pub applies: Vec<String>,
    /// Rows per system id (values the inventory does not list included).
    pub rows: BTreeMap<String, u64>,
    /// `applies` for lookups (a cell is asked for every system).
    #[serde(skip)]
    applies_set: HashSet<String>,
}

impl SpecCoverage {
    /// `Some(rows)` where the spec applies to the system, else `None`.
    pub fn cell(&self, system: &str) -> Option<u64> {
        self.applies_set.contains(system).then(|| self.rows.get(system).copied().unwrap_or(0))
    }
}

/// A system of the inventory as the period's evidence shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SystemStatus {
    pub id: String,
    pub kind: Kind,
    pub owner: Option<String>,
    pub environment: Option<String>,
    pub in_scope: bool,
    pub added: Option<NaiveDate>,
    pub retired: Option<NaiveDate>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Rows the observe rules saw in the period.
    pub rows: u64,
    /// Controls with evidence for it in the period.
    pub covered_by: Vec<String>,
    /// Controls that apply to it and have none.
    pub uncovered_by: Vec<String>,
}

/// The inventory review, for the report's first line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReviewStatus {
    pub reviewed_at: Option<NaiveDate>,
    pub reviewer: Option<String>,
    /// The last day the review counts.
    pub valid_until: Option<NaiveDate>,
    /// The day it is judged on: the period's last day, or today if earlier.
    pub as_of: NaiveDate,
    pub overdue: bool,
}

/// Everything `quarterdeck systems` shows for a period.
#[derive(Debug, Clone)]
pub struct SystemsReport {
    pub period: Period,
    pub review: ReviewStatus,
    pub systems: Vec<SystemStatus>,
    pub coverage: Vec<SpecCoverage>,
    pub sightings: Vec<Sighting>,
    pub drift: Vec<Drift>,
}

/// The inventory against the evidence of `period`, judged as of the
/// period's last day (or `today`, if that is earlier).
pub fn report(
    ws: &Workspace,
    inventory: &Inventory,
    mappings: &Mappings,
    period: &Period,
    today: NaiveDate,
) -> Result<SystemsReport, InventoryError> {
    if let Some(first) = inventory.problems.iter().find(|p| !p.warning) {
        return Err(InventoryError::Invalid(first.to_string()));
    }
    // The rules and the coverage specs share their scans.
    let rule_asks = observe::asks(ws, inventory);
    let rules = rule_asks.len();
    let (specs, spec_asks) = coverage_asks(ws, mappings);
    let mut seen = scan::seen(ws, &rule_asks.into_iter().chain(spec_asks).collect::<Vec<_>>(), period)?;
    let coverage = coverage_of(inventory, &specs, seen.split_off(rules), period);
    let seen = observe::sightings_of(inventory, seen);
    let people = match &inventory.people {
        Some(rule) => Some(people(ws, rule)?),
        None => None,
    };
    let last_day = period.end_date.pred_opt().unwrap_or(period.end_date);
    let as_of = today.min(last_day);
    let review = review_status(ws, inventory, as_of);

    let mut drift = Vec::new();
    if review.overdue {
        let detail = match (review.reviewed_at, review.valid_until) {
            (Some(at), Some(until)) => format!(
                "the inventory was last reviewed on {at}; the review lapsed after {until} (window {})",
                ws.config.review_within.text
            ),
            _ => "the inventory has never been reviewed ([inventory] reviewed_at in systems.toml)".to_string(),
        };
        drift.push(Drift::new(DriftKind::ReviewOverdue, None, detail));
    }
    let tz = ws.config.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    for s in &seen {
        match inventory.system(&s.system) {
            None => drift.push(Drift {
                source: Some(s.source.clone()),
                first_seen: Some(s.first_seen),
                last_seen: Some(s.last_seen),
                rows: s.rows,
                ..Drift::new(
                    DriftKind::Unknown,
                    Some(&s.system),
                    format!(
                        "`{}` is in {} from {} ({} rows in the period) but not in the inventory",
                        s.system,
                        s.rule,
                        local(s.first_seen),
                        s.rows
                    ),
                )
            }),
            Some(system) => {
                if let Some(retired) = system.retired.filter(|r| local(s.last_seen) > *r) {
                    drift.push(Drift {
                        source: Some(s.source.clone()),
                        first_seen: Some(s.first_seen),
                        last_seen: Some(s.last_seen),
                        rows: s.rows,
                        ..Drift::new(
                            DriftKind::RetiredButActive,
                            Some(&system.id),
                            format!(
                                "`{}` was retired on {retired} but is in {} until {}",
                                system.id,
                                s.rule,
                                local(s.last_seen)
                            ),
                        )
                    });
                }
            }
        }
    }
    for spec in &coverage {
        for system in &spec.applies {
            if spec.cell(system) == Some(0) {
                drift.push(Drift {
                    control: Some(spec.control.clone()),
                    spec: Some(spec.spec.clone()),
                    ..Drift::new(
                        DriftKind::Uncovered,
                        Some(system),
                        format!(
                            "`{system}` is in scope for {} ({}) but has no evidence in {}",
                            spec.control, spec.spec, period.label
                        ),
                    )
                });
            }
        }
    }
    for system in
        inventory.systems.iter().filter(|s| s.in_scope && s.active_between(period.start_date, period.end_date))
    {
        let detail = match (&system.owner, &people) {
            (None, _) => Some(format!("`{}` has no owner", system.id)),
            (Some(owner), Some(people)) if !people.contains(&owner.to_lowercase()) => {
                Some(format!("`{}`'s owner {owner} is not an active person", system.id))
            }
            _ => None,
        };
        if let Some(detail) = detail {
            drift.push(Drift::new(DriftKind::OwnerUnknown, Some(&system.id), detail));
        }
    }
    drift.sort_by(|a, b| (a.kind as u8, &a.system, &a.control).cmp(&(b.kind as u8, &b.system, &b.control)));

    let mut by_system: HashMap<&str, Vec<&Sighting>> = HashMap::new();
    for s in &seen {
        by_system.entry(s.system.as_str()).or_default().push(s);
    }
    let systems = inventory
        .systems
        .iter()
        .map(|system| {
            let mine = by_system.get(system.id.as_str()).map(Vec::as_slice).unwrap_or_default();
            let mut covered_by = BTreeSet::new();
            let mut uncovered_by = BTreeSet::new();
            for spec in &coverage {
                match spec.cell(&system.id) {
                    Some(0) => uncovered_by.insert(spec.control.clone()),
                    Some(_) => covered_by.insert(spec.control.clone()),
                    None if spec.rows.get(&system.id).is_some_and(|n| *n > 0) => {
                        covered_by.insert(spec.control.clone())
                    }
                    None => false,
                };
            }
            uncovered_by.retain(|c| !covered_by.contains(c));
            SystemStatus {
                id: system.id.clone(),
                kind: system.kind,
                owner: system.owner.clone(),
                environment: system.environment.clone(),
                in_scope: system.in_scope,
                added: system.added,
                retired: system.retired,
                first_seen: mine.iter().map(|s| s.first_seen).min(),
                last_seen: mine.iter().map(|s| s.last_seen).max(),
                rows: mine.iter().map(|s| s.rows).sum(),
                covered_by: covered_by.into_iter().collect(),
                uncovered_by: uncovered_by.into_iter().collect(),
            }
        })
        .collect();
    Ok(SystemsReport { period: period.clone(), review, systems, coverage, sightings: seen, drift })
}

impl Drift {
    /// The control a finding on this line is about: the one it names, else
    /// the first whose evidence reads the source the system showed up in
    /// (a deploy of an unknown service: the change control).
    pub fn suggested_control(&self, controls: &[Control]) -> Option<String> {
        if let Some(control) = &self.control {
            return Some(control.clone());
        }
        let source = self.source.as_deref()?;
        controls
            .iter()
            .find(|c| {
                c.evidence.iter().any(
                    |spec| matches!(&spec.population, PopulationDef::Source { source: s, .. } if s.value == source),
                )
            })
            .map(|c| c.id.clone())
    }

    fn new(kind: DriftKind, system: Option<&String>, detail: String) -> Self {
        Self {
            kind,
            system: system.cloned(),
            source: None,
            control: None,
            spec: None,
            first_seen: None,
            last_seen: None,
            rows: 0,
            detail,
        }
    }
}

/// Every spec with `applies_to`: its rows per system in the period.
pub fn coverage(
    ws: &Workspace,
    inventory: &Inventory,
    mappings: &Mappings,
    period: &Period,
) -> Result<Vec<SpecCoverage>, InventoryError> {
    let (specs, asks) = coverage_asks(ws, mappings);
    Ok(coverage_of(inventory, &specs, scan::seen(ws, &asks, period)?, period))
}

/// A spec that applies to systems: its control, itself, what it applies to
/// and the column naming the system.
type Applying<'a> = (&'a Control, &'a EvidenceSpec, &'a AppliesTo, &'a str);

/// Each spec with `applies_to`, and what it asks of the evidence. A spec
/// reading a source by the source's own timestamp shares its scan.
pub(super) fn coverage_asks<'a>(ws: &'a Workspace, mappings: &'a Mappings) -> (Vec<Applying<'a>>, Vec<scan::Ask<'a>>) {
    let mut specs = Vec::new();
    let mut asks = Vec::new();
    for control in &mappings.controls {
        for spec in &control.evidence {
            let (Some(applies_to), Some(column)) = (&spec.applies_to, &spec.system) else { continue };
            let shares = match &spec.population {
                PopulationDef::Source { source, filter } => {
                    let own_timestamp = ws.config.source(&source.value).map(|s| s.timestamp.as_str());
                    let period = spec.period.as_ref().map(|p| p.value.as_str());
                    (period.is_none() || period == own_timestamp).then_some((source, filter.as_ref()))
                }
                PopulationDef::Query(_) => None,
            };
            specs.push((control, spec, &applies_to.value, column.value.as_str()));
            asks.push(scan::Ask {
                shares,
                column: &column.value,
                alone: Box::new(move || Ok(population::resolve(ws, control, spec)?)),
            });
        }
    }
    (specs, asks)
}

/// The specs' coverage from what their asks saw.
fn coverage_of(inventory: &Inventory, specs: &[Applying], seen: Vec<Vec<Seen>>, period: &Period) -> Vec<SpecCoverage> {
    specs
        .iter()
        .zip(seen)
        .map(|((control, spec, applies_to, column), values)| {
            let mut rows: BTreeMap<String, u64> = BTreeMap::new();
            for seen in values {
                *rows.entry(inventory.resolve_any(&seen.value).to_string()).or_default() += seen.rows;
            }
            let applies: Vec<String> = inventory
                .systems
                .iter()
                .filter(|s| s.in_scope && applies_to.covers(s) && s.active_between(period.start_date, period.end_date))
                .map(|s| s.id.clone())
                .collect();
            SpecCoverage {
                control: control.id.clone(),
                spec: spec.name.clone(),
                column: column.to_string(),
                applies_set: applies.iter().cloned().collect(),
                applies,
                rows,
            }
        })
        .collect()
}

fn review_status(ws: &Workspace, inventory: &Inventory, as_of: NaiveDate) -> ReviewStatus {
    let review = inventory.review.as_ref();
    let valid_until = review.map(|r| ws.config.review_within.until(r.reviewed_at));
    ReviewStatus {
        reviewed_at: review.map(|r| r.reviewed_at),
        reviewer: review.map(|r| r.reviewer.clone()),
        valid_until,
        as_of,
        // Only a workspace that keeps an inventory can be late reviewing it.
        overdue: inventory.present && valid_until.is_none_or(|until| until < as_of),
    }
}

/// The active people's addresses, lowercased: the people rule's rows as they
/// are now (a roster is a snapshot, not a period's events).
fn people(ws: &Workspace, rule: &super::register::PeopleRule) -> Result<BTreeSet<String>, InventoryError> {
    let population = population::of_source(ws, "inventory people", &rule.source, rule.filter.as_ref())?;
    let query = format!(
        "SELECT DISTINCT lower(CAST({} AS VARCHAR)) FROM ({}) AS people WHERE {0} IS NOT NULL",
        quote_ident(&rule.column.value),
        population.base_sql
    );
    if let Some(warehouse) = &population.warehouse {
        let mut people = BTreeSet::new();
        crate::warehouse::session_in(ws, warehouse)?.run(
            &[crate::warehouse::Step::Rows(query)],
            &mut |_, fields| {
                people.extend(fields.into_iter().next().flatten());
                Ok(())
            },
        )?;
        return Ok(people);
    }
    ws.guard().select(&query).map_err(|refusal| InventoryError::Refused(refusal.to_string()))?;
    Ok(bounded(ws, || {
        let mut stmt = ws.conn.prepare(&query)?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<BTreeSet<_>, _>>()
    })?)
}
