//! `systems.toml` read with the place of every field, so that `check` can
//! point at the line to fix. Only what the file alone can tell is judged
//! here; the sources and columns it names are checked against the
//! workspace in check.rs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::{Kind, SYSTEMS_FILE};
use crate::workspace::mapping::Located;
use crate::workspace::problems::{LineIndex, Location, Problem, did_you_mean, toml_date, toml_problem};

/// One system of the inventory.
#[derive(Debug, Clone)]
pub struct System {
    pub id: String,
    pub kind: Kind,
    pub owner: Option<String>,
    pub environment: Option<String>,
    pub in_scope: bool,
    pub description: Option<String>,
    /// The first day in service, where known.
    pub added: Option<NaiveDate>,
    /// The last day in service.
    pub retired: Option<NaiveDate>,
    pub location: Location,
}

impl System {
    /// Whether it was in service on some day of the local dates [from, to).
    pub fn active_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.added.is_none_or(|a| a < to) && self.retired.is_none_or(|r| r >= from)
    }
}

/// Where systems show up in the evidence: a source's column, optionally
/// filtered, with observed values that spell a system differently mapped
/// to its id.
#[derive(Debug, Clone)]
pub struct ObserveRule {
    pub source: Located<String>,
    pub column: Located<String>,
    pub filter: Option<Located<String>>,
    /// Observed value → system id.
    pub map: BTreeMap<String, Located<String>>,
    pub location: Location,
}

impl ObserveRule {
    /// `deploys.service`, the way a rule is named in messages.
    pub fn name(&self) -> String {
        format!("{}.{}", self.source.value, self.column.value)
    }
}

/// The last review of the inventory itself: evidence that it is kept.
#[derive(Debug, Clone)]
pub struct Review {
    pub reviewed_at: NaiveDate,
    pub reviewer: String,
    pub location: Location,
}

/// Who the people are, for judging owners: the rows of a source that are
/// active people, and the column holding their address.
#[derive(Debug, Clone)]
pub struct PeopleRule {
    pub source: Located<String>,
    pub column: Located<String>,
    pub filter: Option<Located<String>>,
}

/// The inventory and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Whether the workspace has a `systems.toml` at all.
    pub present: bool,
    pub review: Option<Review>,
    /// Where `[inventory]` is (or the file's start): for problems about the review.
    pub review_location: Option<Location>,
    pub people: Option<PeopleRule>,
    pub observe: Vec<ObserveRule>,
    pub systems: Vec<System>,
    pub problems: Vec<Problem>,
    /// sha256 over the file's text: which inventory a result read.
    pub version: String,
    /// Each system's index in `systems`, by id (1000s of systems are
    /// looked up once per evidence group).
    by_id: HashMap<String, usize>,
}

impl Inventory {
    pub fn system(&self, id: &str) -> Option<&System> {
        self.by_id.get(id).and_then(|&i| self.systems.get(i))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.systems.iter().map(|s| s.id.as_str())
    }

    /// The system id an observed value names: through the rule's map, else
    /// the value itself.
    pub fn resolve<'a>(&self, rule: &'a ObserveRule, value: &'a str) -> &'a str {
        rule.map.get(value).map_or(value, |id| id.value.as_str())
    }

    /// The system id a value of a control's population names: the value
    /// itself when it is an id, else through the first rule that maps it.
    pub fn resolve_any<'a>(&'a self, value: &'a str) -> &'a str {
        if self.system(value).is_some() {
            return value;
        }
        self.observe.iter().find_map(|r| r.map.get(value)).map_or(value, |id| id.value.as_str())
    }

    /// Reads `systems.toml`; a workspace without one has an empty inventory.
    pub fn load(root: &Path) -> Self {
        let file = PathBuf::from(SYSTEMS_FILE);
        match std::fs::read_to_string(root.join(&file)) {
            Ok(text) => Self::parse(&file, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(e) => Self {
                present: true,
                problems: vec![Problem::error(Location::new(&file, 1, 1), format!("cannot read: {e}"))],
                ..Self::default()
            },
        }
    }

    /// Parses the text of `systems.toml`.
    pub fn parse(file: &Path, text: &str) -> Self {
        let mut inventory =
            Self { present: true, version: hex::encode(Sha256::digest(text.as_bytes())), ..Self::default() };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                inventory.problems.push(toml_problem(file, text, &e));
                return inventory;
            }
        };
        let index = LineIndex::new(file, text);
        let at = |span: std::ops::Range<usize>| index.at(span.start);
        let problems = &mut inventory.problems;
        let mut report = |loc: Location, message: String| problems.push(Problem::error(loc, message));

        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for raw in raw.system {
            let Some(system) = system_of(raw, &at, &mut report) else { continue };
            if let Some(first) = seen.get(&system.id) {
                report(system.location.clone(), format!("system `{}` is listed twice (first at {first})", system.id));
                continue;
            }
            seen.insert(system.id.clone(), system.location.clone());
            inventory.by_id.insert(system.id.clone(), inventory.systems.len());
            inventory.systems.push(system);
        }
        let ids: Vec<String> = inventory.systems.iter().map(|s| s.id.clone()).collect();
        let known = |id: &str| inventory.by_id.contains_key(id);
        for raw in raw.observe {
            let location = at(raw.source.span());
            let rule = ObserveRule {
                source: located(raw.source, &at),
                column: located(raw.column, &at),
                filter: raw.filter.map(|f| located(f, &at)),
                map: raw.map.into_iter().map(|(value, id)| (value, located(id, &at))).collect(),
                location,
            };
            for id in rule.map.values() {
                if !known(&id.value) {
                    report(
                        id.location.clone(),
                        format!(
                            "observe `{}`: field `map`: no system `{}` in the inventory{}",
                            rule.name(),
                            id.value,
                            did_you_mean(&id.value, ids.iter().map(String::as_str))
                        ),
                    );
                }
            }
            inventory.observe.push(rule);
        }
        if let Some(section) = raw.inventory {
            inventory.review_location = Some(at(section.span()));
            let section = section.into_inner();
            inventory.people = section.people.map(|p| PeopleRule {
                source: located(p.source, &at),
                column: located(p.column, &at),
                filter: p.filter.map(|f| located(f, &at)),
            });
            let label = "inventory";
            let reviewed_at =
                section.reviewed_at.as_ref().and_then(|d| toml_date(d, label, "reviewed_at", &at, &mut report));
            match (reviewed_at, section.reviewer, &section.reviewed_at) {
                (Some(reviewed_at), Some(reviewer), Some(span)) if !reviewer.get_ref().trim().is_empty() => {
                    inventory.review = Some(Review {
                        reviewed_at,
                        reviewer: reviewer.get_ref().trim().to_string(),
                        location: at(span.span()),
                    });
                }
                (Some(_), _, Some(span)) => report(
                    at(span.span()),
                    "inventory: field `reviewed_at` without `reviewer`: who reviewed it?".to_string(),
                ),
                (None, Some(reviewer), None) => report(
                    at(reviewer.span()),
                    "inventory: field `reviewer` without `reviewed_at`: when was it reviewed?".to_string(),
                ),
                _ => {}
            }
        }
        inventory
    }
}

type At<'a> = &'a dyn Fn(std::ops::Range<usize>) -> Location;

fn located<T>(spanned: Spanned<T>, at: At) -> Located<T> {
    let location = at(spanned.span());
    Located { value: spanned.into_inner(), location }
}

fn system_of(raw: RawSystem, at: At, report: &mut dyn FnMut(Location, String)) -> Option<System> {
    let location = at(raw.id.span());
    let id = raw.id.get_ref().trim().to_string();
    let label = if id.is_empty() { "system".to_string() } else { format!("system `{id}`") };
    let mut ok = true;
    if id.is_empty() || id.chars().any(|c| c.is_control() || c == '|') {
        report(location.clone(), format!("{label}: field `id` must be non-empty, without `|` or control characters"));
        ok = false;
    }
    let kind = Kind::parse(raw.kind.get_ref().trim());
    if kind.is_none() {
        report(
            at(raw.kind.span()),
            format!(
                "{label}: field `kind`: unknown kind `{}`{} (one of {})",
                raw.kind.get_ref(),
                did_you_mean(raw.kind.get_ref(), Kind::ALL.iter().map(|k| k.as_str())),
                Kind::spellings()
            ),
        );
    }
    let mut date_of = |value: &Option<Spanned<toml::Value>>, field: &str| {
        let before = value.as_ref()?;
        let parsed = toml_date(before, &label, field, at, report);
        if parsed.is_none() {
            ok = false;
        }
        parsed
    };
    let added = date_of(&raw.added, "added");
    let retired = date_of(&raw.retired, "retired");
    if let (Some(added), Some(retired)) = (added, retired)
        && retired < added
    {
        let span = raw.retired.as_ref().map_or(0..0, Spanned::span);
        report(at(span), format!("{label}: retired on {retired}, before it was added on {added}"));
        ok = false;
    }
    let text = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if !ok {
        return None;
    }
    Some(System {
        id,
        kind: kind?,
        owner: text(raw.owner),
        environment: text(raw.environment),
        in_scope: raw.in_scope.unwrap_or(true),
        description: text(raw.description),
        added,
        retired,
        location,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    inventory: Option<Spanned<RawSection>>,
    #[serde(default)]
    observe: Vec<RawObserve>,
    #[serde(default)]
    system: Vec<RawSystem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    reviewed_at: Option<Spanned<toml::Value>>,
    reviewer: Option<Spanned<String>>,
    people: Option<RawPeople>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeople {
    source: Spanned<String>,
    column: Spanned<String>,
    #[serde(rename = "where")]
    filter: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObserve {
    source: Spanned<String>,
    column: Spanned<String>,
    #[serde(rename = "where")]
    filter: Option<Spanned<String>>,
    #[serde(default)]
    map: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    id: Spanned<String>,
    kind: Spanned<String>,
    owner: Option<String>,
    environment: Option<String>,
    in_scope: Option<bool>,
    description: Option<String>,
    added: Option<Spanned<toml::Value>>,
    retired: Option<Spanned<toml::Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"# systems.toml
[inventory]
reviewed_at = 2026-10-02
reviewer = "security@acme.example"

[[observe]]
source = "deploys"
column = "service"
where = "environment = 'production'"
map = { "api-server" = "api" }

[[system]]
id = "api"
kind = "service"
owner = "platform@acme.example"
environment = "production"
in_scope = true
added = 2024-03-01

[[system]]
id = "legacy-billing"
kind = "service"
owner = "billing@acme.example"
in_scope = true
retired = 2026-05-31
"#;

    fn parse(text: &str) -> Inventory {
        Inventory::parse(Path::new(SYSTEMS_FILE), text)
    }

    fn messages(inventory: &Inventory) -> Vec<String> {
        inventory.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_the_issue_example() {
        let inv = parse(EXAMPLE);
        assert!(inv.problems.is_empty(), "{:?}", messages(&inv));
        assert_eq!(inv.systems.len(), 2);
        let review = inv.review.as_ref().unwrap();
        assert_eq!(review.reviewed_at.to_string(), "2026-10-02");
        assert_eq!(inv.observe[0].name(), "deploys.service");
        assert_eq!(inv.resolve(&inv.observe[0], "api-server"), "api");
        assert_eq!(inv.resolve_any("api-server"), "api");
        let legacy = inv.system("legacy-billing").unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(legacy.active_between(d("2026-04-01"), d("2026-07-01")));
        assert!(!legacy.active_between(d("2026-07-01"), d("2026-10-01")));
        assert!(!inv.system("api").unwrap().active_between(d("2023-01-01"), d("2024-03-01")));
    }

    #[test]
    fn a_system_listed_twice_points_at_the_second() {
        let text = format!("{EXAMPLE}\n[[system]]\nid = \"api\"\nkind = \"service\"\n");
        let inv = parse(&text);
        let m = messages(&inv);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("systems.toml:28:6: system `api` is listed twice (first at systems.toml:13:6)"),
            "{m:?}"
        );
    }

    #[test]
    fn unknown_kind_and_map_target_suggest_the_right_word() {
        let inv = parse(
            &EXAMPLE
                .replace("kind = \"service\"\nowner = \"platform", "kind = \"servce\"\nowner = \"platform")
                .replace("= \"api\" }", "= \"apj\" }"),
        );
        let m = messages(&inv);
        assert!(m.iter().any(|p| p.contains("unknown kind `servce`") && p.contains("did you mean `service`")), "{m:?}");
        assert!(m.iter().any(|p| p.starts_with("systems.toml:10:") && p.contains("no system `apj`")), "{m:?}");
    }

    #[test]
    fn bad_dates_and_retired_before_added_are_located() {
        // TOML itself refuses an impossible date, at its place.
        let inv = parse(&EXAMPLE.replace("added = 2024-03-01", "added = 2024-02-30"));
        assert!(messages(&inv)[0].starts_with("systems.toml:18:9: invalid date"), "{:?}", messages(&inv));
        let inv = parse(&EXAMPLE.replace("added = 2024-03-01", "added = \"March 2024\""));
        assert!(
            messages(&inv)[0].starts_with("systems.toml:18:9: system `api`: field `added`"),
            "{:?}",
            messages(&inv)
        );
        let inv = parse(&EXAMPLE.replace("retired = 2026-05-31", "added = 2026-06-01\nretired = 2026-05-31"));
        assert!(
            messages(&inv)[0].contains("retired on 2026-05-31, before it was added on 2026-06-01"),
            "{:?}",
            messages(&inv)
        );
    }

    #[test]
    fn a_review_needs_a_reviewer_and_unknown_keys_are_refused() {
        let inv = parse(&EXAMPLE.replace("reviewer = \"security@acme.example\"\n", ""));
        assert!(messages(&inv)[0].contains("`reviewed_at` without `reviewer`"), "{:?}", messages(&inv));
        let inv = parse(&EXAMPLE.replace("in_scope = true\nadded", "in_scop = true\nadded"));
        assert!(messages(&inv)[0].starts_with("systems.toml:17:1:"), "{:?}", messages(&inv));
    }

    #[test]
    fn no_file_is_an_empty_inventory() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::load(dir.path());
        assert!(!inv.present && inv.systems.is_empty() && inv.problems.is_empty());
    }
}
