//! `[[warehouse]]` in quarterdeck.toml, and the `warehouse`, `table` and
//! `query` keys of a source whose rows stay there. The connection URL is
//! read from the named env var when it is needed, never from the file.

use serde::Deserialize;
use toml::Spanned;

use super::config::{RawSource, is_plain_identifier};
use super::problems::{Location, Problem, did_you_mean};

/// The engines a warehouse source can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarehouseKind {
    Postgres,
    Trino,
}

impl WarehouseKind {
    pub const NAMES: [&'static str; 2] = ["postgres", "trino"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Trino => "trino",
        }
    }

    /// How its URL looks, for messages.
    pub fn url_shape(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://user@host:port/db",
            Self::Trino => "https://user@host:port/catalog/schema",
        }
    }
}

/// A `[[warehouse]]`: an engine and the env var holding its connection
/// URL (never the URL itself: the file is reviewed in git).
#[derive(Debug, Clone)]
pub struct WarehouseConfig {
    pub name: String,
    pub kind: WarehouseKind,
    pub url_env: String,
    /// How long one statement may run there.
    pub timeout: std::time::Duration,
    pub location: Location,
}

/// A source's rows in a warehouse: a table (its dotted name, each part an
/// identifier) or a query in the engine's own dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    Table(Vec<String>),
    Query(String),
}

#[derive(Debug, Clone)]
pub struct WarehouseSource {
    pub warehouse: String,
    pub relation: Relation,
}

/// How long one warehouse statement may run unless `timeout` says.
const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWarehouse {
    name: Spanned<String>,
    kind: Spanned<String>,
    url_env: Spanned<String>,
    timeout: Option<Spanned<String>>,
}

pub(super) fn validate_all(
    raw: Vec<RawWarehouse>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    problems: &mut Vec<Problem>,
) -> Vec<WarehouseConfig> {
    let mut out: Vec<WarehouseConfig> = Vec::new();
    for warehouse in raw {
        let name = warehouse.name.get_ref().clone();
        let location = at(warehouse.name.span());
        if !is_plain_identifier(&name) {
            problems.push(Problem::error(
                location.clone(),
                format!("warehouse `{name}`: field `name` must be lowercase letters, digits and `_`"),
            ));
            continue;
        }
        if out.iter().any(|w| w.name == name) {
            problems.push(Problem::error(location, format!("warehouse `{name}` is declared twice")));
            continue;
        }
        let kind = match warehouse.kind.get_ref().as_str() {
            "postgres" | "postgresql" => WarehouseKind::Postgres,
            "trino" => WarehouseKind::Trino,
            other => {
                let hint = did_you_mean(other, WarehouseKind::NAMES);
                let more = match other {
                    "spark" => " (this build speaks PostgreSQL and Trino; see docs/scale.md for Spark)",
                    _ => "",
                };
                problems.push(Problem::error(
                    at(warehouse.kind.span()),
                    format!("warehouse `{name}`: field `kind`: unknown kind `{other}`{hint}{more}"),
                ));
                continue;
            }
        };
        let url_env = warehouse.url_env.get_ref().clone();
        if url_env.is_empty() || !url_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(Problem::error(
                at(warehouse.url_env.span()),
                format!(
                    "warehouse `{name}`: field `url_env` names an environment variable (letters, digits, `_`), not a URL: the connection never goes in the file"
                ),
            ));
            continue;
        }
        let timeout = match &warehouse.timeout {
            None => DEFAULT_TIMEOUT,
            Some(text) => {
                match parse_timeout(text.get_ref()) {
                    Some(timeout) => timeout,
                    None => {
                        problems.push(Problem::error(
                        at(text.span()),
                        format!("warehouse `{name}`: field `timeout`: `{}` is not a duration such as `30s`, `10m` or `1h`", text.get_ref()),
                    ));
                        continue;
                    }
                }
            }
        };
        out.push(WarehouseConfig { name, kind, url_env, timeout, location });
    }
    out
}

/// `30s`, or a window such as `10m` or `1h`.
fn parse_timeout(text: &str) -> Option<std::time::Duration> {
    if let Some(seconds) = text.trim().strip_suffix('s').and_then(|n| n.trim().parse::<u64>().ok()) {
        return Some(std::time::Duration::from_secs(seconds)).filter(|d| !d.is_zero());
    }
    super::config::parse_window(text)?.to_std().ok()
}

/// The warehouse keys of a source, checked: the warehouse it names, and
/// exactly one of `table` and `query`.
pub(super) fn source_relation(
    raw: &mut RawSource,
    name: &str,
    name_at: &Location,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    warehouses: &[WarehouseConfig],
    problems: &mut Vec<Problem>,
) -> Option<WarehouseSource> {
    let (table, query) = (raw.table.take(), raw.query.take());
    let Some(warehouse) = raw.warehouse.take() else {
        if let Some(stray) = table.as_ref().or(query.as_ref()) {
            problems.push(Problem::error(
                at(stray.span()),
                format!(
                    "source `{name}`: fields `table` and `query` are for a source in a warehouse (`warehouse = …`)"
                ),
            ));
        }
        return None;
    };
    if !warehouses.iter().any(|w| w.name == *warehouse.get_ref()) {
        problems.push(Problem::error(
            at(warehouse.span()),
            format!(
                "source `{name}`: field `warehouse`: no [[warehouse]] named `{}`{}",
                warehouse.get_ref(),
                did_you_mean(warehouse.get_ref(), warehouses.iter().map(|w| w.name.as_str()))
            ),
        ));
        return None;
    }
    let relation = match (table, query) {
        (Some(table), None) => {
            let parts: Vec<String> = table.get_ref().split('.').map(str::to_string).collect();
            let valid = parts.len() <= 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !p.starts_with(char::is_numeric)
                });
            if !valid {
                problems.push(Problem::error(
                    at(table.span()),
                    format!(
                        "source `{name}`: field `table`: `{}` is not a table name such as `public.commits` (letters, digits and `_`, dotted); use `query` for anything else",
                        table.get_ref()
                    ),
                ));
                return None;
            }
            Relation::Table(parts)
        }
        (None, Some(query)) if !query.get_ref().trim().is_empty() => {
            Relation::Query(query.get_ref().trim().trim_end_matches(';').trim().to_string())
        }
        (Some(_), Some(query)) => {
            problems
                .push(Problem::error(at(query.span()), format!("source `{name}`: give `table` or `query`, not both")));
            return None;
        }
        _ => {
            problems.push(Problem::error(
                name_at.clone(),
                format!(
                    "source `{name}`: a warehouse source needs `table = \"schema.table\"` or `query = \"SELECT …\"`"
                ),
            ));
            return None;
        }
    };
    if let Some(path) = &raw.path {
        problems.push(Problem::error(
            at(path.span()),
            format!("source `{name}`: field `path`: a warehouse source reads its `table` or `query` there, not files"),
        ));
    }
    if let Some(mode) = &raw.mode {
        problems.push(Problem::error(
            at(mode.span()),
            format!("source `{name}`: field `mode`: a warehouse source is always read in place"),
        ));
    }
    Some(WarehouseSource { warehouse: warehouse.into_inner(), relation })
}
