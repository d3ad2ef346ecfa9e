//! Control mappings: `controls/*.toml`, control → practice → evidence specs.
//! Reviewed like code; parsed with the location of every field so that
//! `quarterdeck check` can point at the line to fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::calendar::{Expect, Grace};
use super::frequency::Frequency;
use super::inventory::{Kind, System};
use super::problems::{Location, Problem, did_you_mean, toml_problem};

pub const CONTROLS_DIR: &str = "controls";

/// A company control mapped to criteria, with the evidence that proves it.
#[derive(Debug, Clone)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub criteria: Vec<Located<String>>,
    pub owner: String,
    pub frequency: Frequency,
    pub practice: String,
    pub evidence: Vec<EvidenceSpec>,
    pub location: Location,
}

/// How a control is tested: a population, its period column, keys, tests.
#[derive(Debug, Clone)]
pub struct EvidenceSpec {
    pub name: String,
    pub population: PopulationDef,
    pub period: Option<Located<String>>,
    pub key: Option<Located<Vec<String>>>,
    pub sample: Option<u32>,
    pub tests: Vec<AttributeTest>,
    /// The inventory systems this spec must have evidence for.
    pub applies_to: Option<Located<AppliesTo>>,
    /// The population column naming the system a row is about.
    pub system: Option<Located<String>>,
    /// The slots a periodic control must fill: `expect`, `per`, `grace`.
    pub schedule: Option<Schedule>,
    pub location: Location,
}

/// Which systems of the inventory a spec applies to: every system of these
/// kinds, and these systems by id.
#[derive(Debug, Clone, Default)]
pub struct AppliesTo {
    pub kinds: Vec<Kind>,
    pub ids: Vec<Located<String>>,
}

impl AppliesTo {
    pub fn covers(&self, system: &System) -> bool {
        self.kinds.contains(&system.kind) || self.ids.iter().any(|id| id.value == system.id)
    }
}

/// An expected occurrence: at least one row in each slot of the calendar
/// (for each value of the `per` columns), landing at most `grace` late.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub expect: Expect,
    pub per: Located<Vec<String>>,
    pub grace: Grace,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum PopulationDef {
    /// `source = "deploys"` with an optional `where` filter.
    Source { source: Located<String>, filter: Option<Located<String>> },
    /// `population = "SELECT …"`: a read-only SELECT joining sources.
    Query(Located<String>),
}

/// A named SQL boolean expression evaluated on every row.
#[derive(Debug, Clone)]
pub struct AttributeTest {
    pub name: String,
    pub expr: String,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub location: Location,
}

/// Every control of a workspace, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    pub controls: Vec<Control>,
    pub problems: Vec<Problem>,
    /// sha256 over the files' names and contents: the mapping version.
    pub version: String,
}

impl Mappings {
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// Reads `controls/*.toml` in file-name order.
    pub fn load(root: &Path) -> Self {
        let dir = root.join(CONTROLS_DIR);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        let mut mappings = Mappings::default();
        let mut hasher = Sha256::new();
        for path in files {
            let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    hasher.update(shown.to_string_lossy().as_bytes());
                    hasher.update([0]);
                    hasher.update(text.as_bytes());
                    hasher.update([0]);
                    parse_file(&shown, &text, &mut mappings);
                }
                Err(e) => {
                    mappings.problems.push(Problem::error(Location::new(&shown, 1, 1), format!("cannot read: {e}")))
                }
            }
        }
        mappings.version = hex::encode(hasher.finalize());
        mappings
    }
}

/// Parses one mapping file, adding its controls and problems.
pub fn parse_file(file: &Path, text: &str, into: &mut Mappings) {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            into.problems.push(toml_problem(file, text, &e));
            return;
        }
    };
    let at = |span: std::ops::Range<usize>| Location::at_offset(file, text, span.start);
    for raw_control in raw.control {
        let location = at(raw_control.id.span());
        let id = raw_control.id.into_inner();
        let frequency = match Frequency::parse(raw_control.frequency.get_ref()) {
            Some(f) => f,
            None => {
                into.problems.push(Problem::error(
                    at(raw_control.frequency.span()),
                    format!(
                        "control `{id}`: field `frequency`: unknown frequency `{}`{} (one of {})",
                        raw_control.frequency.get_ref(),
                        did_you_mean(raw_control.frequency.get_ref(), Frequency::NAMES),
                        Frequency::NAMES.join(", ")
                    ),
                ));
                continue;
            }
        };
        let mut evidence = Vec::new();
        for mut raw_spec in raw_control.evidence {
            if raw_spec.applies_to.is_none() {
                raw_spec.applies_to.clone_from(&raw_control.applies_to);
            }
            if raw_spec.system.is_none() {
                raw_spec.system.clone_from(&raw_control.system);
            }
            if let Some(spec) = evidence_spec(&id, raw_spec, &at, &mut into.problems) {
                evidence.push(spec);
            }
        }
        into.controls.push(Control {
            id,
            title: raw_control.title,
            criteria: raw_control.criteria.into_iter().map(|c| located(c, &at)).collect(),
            owner: raw_control.owner,
            frequency,
            practice: raw_control.practice.unwrap_or_default(),
            evidence,
            location,
        });
    }
}

fn located<T>(spanned: Spanned<T>, at: &dyn Fn(std::ops::Range<usize>) -> Location) -> Located<T> {
    let location = at(spanned.span());
    Located { value: spanned.into_inner(), location }
}

fn evidence_spec(
    control: &str,
    raw: RawEvidence,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    problems: &mut Vec<Problem>,
) -> Option<EvidenceSpec> {
    let location = at(raw.name.span());
    let name = raw.name.into_inner();
    let population = match (raw.source, raw.population) {
        (Some(source), None) => {
            PopulationDef::Source { source: located(source, at), filter: raw.filter.map(|f| located(f, at)) }
        }
        (None, Some(query)) => {
            if let Some(filter) = &raw.filter {
                problems.push(Problem::error(
                    at(filter.span()),
                    format!("control `{control}`, evidence `{name}`: field `where` applies to `source`; put the condition inside `population`"),
                ));
                return None;
            }
            PopulationDef::Query(located(query, at))
        }
        (Some(_), Some(query)) => {
            problems.push(Problem::error(
                at(query.span()),
                format!("control `{control}`, evidence `{name}`: give either `source` or `population`, not both"),
            ));
            return None;
        }
        (None, None) => {
            problems.push(Problem::error(
                location,
                format!(
                    "control `{control}`, evidence `{name}`: needs `source` (with an optional `where`) or `population`"
                ),
            ));
            return None;
        }
    };
    let max = i64::from(super::config::MAX_SAMPLE_SIZE);
    if let Some(sample) = raw.sample.as_ref().filter(|s| !(1..=max).contains(s.get_ref())) {
        problems.push(Problem::error(
            at(sample.span()),
            format!(
                "control `{control}`, evidence `{name}`: field `sample` = {} is out of range: a sample size is from 1 to {max}",
                sample.get_ref()
            ),
        ));
        return None;
    }
    let applies_to = match raw.applies_to {
        Some(a) => Some(applies_to(control, &name, a, at, problems)?),
        None => None,
    };
    if let (Some(a), None) = (&applies_to, &raw.system) {
        problems.push(Problem::error(
            a.location.clone(),
            format!("control `{control}`, evidence `{name}`: field `applies_to` needs `system`, the population column naming the system"),
        ));
        return None;
    }
    let schedule = schedule(control, &name, &raw.expect, raw.per, &raw.grace, at, problems)?;
    let mut tests: Vec<(Spanned<String>, Spanned<String>)> = raw.tests.into_iter().collect();
    tests.sort_by_key(|(name, _)| name.span().start);
    Some(EvidenceSpec {
        name,
        population,
        period: raw.period.map(|p| located(p, at)),
        key: raw.key.map(|k| {
            let location = at(k.span());
            Located { value: k.into_inner().into_iter().map(Spanned::into_inner).collect(), location }
        }),
        sample: raw.sample.map(|s| *s.get_ref() as u32),
        tests: tests
            .into_iter()
            .map(|(test_name, expr)| AttributeTest {
                name: test_name.into_inner(),
                location: at(expr.span()),
                expr: expr.into_inner(),
            })
            .collect(),
        applies_to,
        system: raw.system.map(|s| located(s, at)),
        schedule,
        location,
    })
}

fn applies_to(
    control: &str,
    spec: &str,
    raw: Spanned<RawAppliesTo>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    problems: &mut Vec<Problem>,
) -> Option<Located<AppliesTo>> {
    let location = at(raw.span());
    let raw = raw.into_inner();
    let before = problems.len();
    let mut kinds = Vec::new();
    for kind in raw.kind {
        match Kind::parse(kind.get_ref().trim()) {
            Some(k) => kinds.push(k),
            None => problems.push(Problem::error(
                at(kind.span()),
                format!(
                    "control `{control}`, evidence `{spec}`: field `applies_to.kind`: unknown kind `{}`{} (one of {})",
                    kind.get_ref(),
                    did_you_mean(kind.get_ref(), Kind::ALL.iter().map(|k| k.as_str())),
                    Kind::spellings()
                ),
            )),
        }
    }
    let ids: Vec<Located<String>> = raw.ids.into_iter().map(|id| located(id, at)).collect();
    if kinds.is_empty() && ids.is_empty() && problems.len() == before {
        problems.push(Problem::error(
            location.clone(),
            format!("control `{control}`, evidence `{spec}`: field `applies_to` names no kind and no system id"),
        ));
    }
    (problems.len() == before).then_some(Located { value: AppliesTo { kinds, ids }, location })
}

fn schedule(
    control: &str,
    spec: &str,
    expect: &Option<Spanned<String>>,
    per: Option<Spanned<Vec<Spanned<String>>>>,
    grace: &Option<Spanned<String>>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    problems: &mut Vec<Problem>,
) -> Option<Option<Schedule>> {
    let prefix = format!("control `{control}`, evidence `{spec}`");
    let Some(expect) = expect else {
        let stray = per.as_ref().map(|p| ("per", p.span())).or(grace.as_ref().map(|g| ("grace", g.span())));
        if let Some((field, span)) = stray {
            problems.push(Problem::error(
                at(span),
                format!("{prefix}: field `{field}` needs `expect` (daily, weekly, monthly, quarterly or annual)"),
            ));
            return None;
        }
        return Some(None);
    };
    let Some(kind) = Expect::parse(expect.get_ref()) else {
        problems.push(Problem::error(
            at(expect.span()),
            format!(
                "{prefix}: field `expect`: unknown schedule `{}`{} (one of {})",
                expect.get_ref(),
                did_you_mean(expect.get_ref(), Expect::NAMES.iter().copied()),
                Expect::NAMES.join(", ")
            ),
        ));
        return None;
    };
    let grace = match grace {
        None => Grace::default(),
        Some(text) => match Grace::parse(text.get_ref()) {
            Some(g) => g,
            None => {
                problems.push(Problem::error(
                    at(text.span()),
                    format!("{prefix}: field `grace`: `{}` is not a delay such as `12h`, `5d` or `2w`", text.get_ref()),
                ));
                return None;
            }
        },
    };
    let per = match per {
        Some(p) => {
            let location = at(p.span());
            Located { value: p.into_inner().into_iter().map(Spanned::into_inner).collect(), location }
        }
        None => Located { value: Vec::new(), location: at(expect.span()) },
    };
    Some(Some(Schedule { expect: kind, per, grace, location: at(expect.span()) }))
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawAppliesTo {
    #[serde(default)]
    kind: Vec<Spanned<String>>,
    #[serde(default)]
    ids: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    control: Vec<RawControl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    criteria: Vec<Spanned<String>>,
    owner: String,
    frequency: Spanned<String>,
    practice: Option<String>,
    applies_to: Option<Spanned<RawAppliesTo>>,
    system: Option<Spanned<String>>,
    #[serde(default)]
    evidence: Vec<RawEvidence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    name: Spanned<String>,
    source: Option<Spanned<String>>,
    population: Option<Spanned<String>>,
    #[serde(rename = "where")]
    filter: Option<Spanned<String>>,
    period: Option<Spanned<String>>,
    key: Option<Spanned<Vec<Spanned<String>>>>,
    sample: Option<Spanned<i64>>,
    #[serde(default)]
    tests: BTreeMap<Spanned<String>, Spanned<String>>,
    applies_to: Option<Spanned<RawAppliesTo>>,
    system: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    per: Option<Spanned<Vec<Spanned<String>>>>,
    grace: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANGE: &str = r#"
[[control]]
id = "CHG-1"
title = "Production changes are peer-reviewed before deploy"
criteria = ["CC8.1"]
owner = "platform@acme.example"
frequency = "per-event"
practice = "Branch protection requires one approving review."

[[control.evidence]]
name = "prod deploys"
source = "deploys"
where = "environment = 'production'"
period = "deployed_at"
key = ["deploy_id"]
sample = 25
tests = { approved = "approver IS NOT NULL", independent = "approver <> author" }
"#;

    fn parse(text: &str) -> Mappings {
        let mut m = Mappings::default();
        parse_file(Path::new("controls/change.toml"), text, &mut m);
        m
    }

    #[test]
    fn reads_the_design_example_with_tests_in_file_order() {
        let m = parse(CHANGE);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let control = m.control("CHG-1").unwrap();
        assert_eq!(control.frequency, Frequency::PerEvent);
        assert_eq!(control.criteria[0].location.line, 5);
        let spec = &control.evidence[0];
        let names: Vec<_> = spec.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["approved", "independent"]);
        assert_eq!(spec.tests[0].location.line, 17);
        assert!(matches!(&spec.population, PopulationDef::Source { source, .. } if source.value == "deploys"));
    }

    #[test]
    fn unknown_frequency_names_line_and_field() {
        let m = parse(&CHANGE.replace("per-event", "hourly"));
        assert_eq!(m.problems.len(), 1);
        let p = m.problems[0].to_string();
        assert!(p.starts_with("controls/change.toml:7:13: control `CHG-1`: field `frequency`"), "{p}");
    }

    #[test]
    fn misspelled_key_is_a_located_problem() {
        let m = parse(&CHANGE.replace("period =", "perod ="));
        assert!(m.problems[0].to_string().starts_with("controls/change.toml:14:"), "{:?}", m.problems);
    }
}
