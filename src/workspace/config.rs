//! `quarterdeck.toml`: the workspace's name, time zone, sampling defaults and
//! evidence sources. Every problem is reported with its file:line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::connector::{self, ConnectorSpec, Preset, RawConnectorKeys};
use super::frequency::Frequency;
use super::limits::{Limits, RawLimits};
use super::problems::{Location, Problem, did_you_mean, toml_problem};
pub use super::warehouse_config::{Relation, WarehouseConfig, WarehouseKind, WarehouseSource};

pub const CONFIG_FILE: &str = "quarterdeck.toml";

/// The largest sample a spec or `[sampling]` may ask for.
pub const MAX_SAMPLE_SIZE: u32 = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

crate::error::kind!(BadInput: ConfigError);

fn render_problems(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// The parsed, validated workspace configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub name: String,
    pub timezone: chrono_tz::Tz,
    pub sampling: BTreeMap<Frequency, u32>,
    pub sources: Vec<SourceConfig>,
    pub warehouses: Vec<WarehouseConfig>,
    pub limits: Limits,
    /// How old the inventory's last review may be (`[inventory] review_within`).
    pub review_within: ReviewWindow,
}

/// How often the system inventory must be reviewed: calendar months
/// (`1q`, `3mo`, `1y`) or days (`90d`, `13w`). One quarter unless set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewWindow {
    pub text: String,
    months: u32,
    days: i64,
}

impl Default for ReviewWindow {
    fn default() -> Self {
        Self { text: "1q".into(), months: 3, days: 0 }
    }
}

impl ReviewWindow {
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(months) = super::documents::register::renewal_months(text) {
            return Some(Self { text: text.trim().to_string(), months, days: 0 });
        }
        let window = parse_window(text).filter(|w| w.num_days() >= 1 && w.num_hours() % 24 == 0)?;
        Some(Self { text: text.trim().to_string(), months: 0, days: window.num_days() })
    }

    /// The last day a review on `reviewed_at` still counts.
    pub fn until(&self, reviewed_at: chrono::NaiveDate) -> chrono::NaiveDate {
        let months = reviewed_at.checked_add_months(chrono::Months::new(self.months)).unwrap_or(chrono::NaiveDate::MAX);
        months.checked_add_signed(chrono::Duration::days(self.days)).unwrap_or(chrono::NaiveDate::MAX)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
    Json,
    Ndjson,
    Parquet,
    /// Filled by a connector; its pulled pages load as NDJSON.
    Connector(Preset),
    /// Left in a warehouse (`warehouse = …`): queried there, never copied.
    Warehouse,
}

impl SourceFormat {
    pub const FILE_NAMES: [&'static str; 4] = ["csv", "json", "ndjson", "parquet"];

    /// Every format's name: the file formats, then the connectors.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::FILE_NAMES.into_iter().chain(Preset::ALL.into_iter().map(Preset::as_str))
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "ndjson" => Some(Self::Ndjson),
            "parquet" => Some(Self::Parquet),
            other => Preset::parse(other).map(Self::Connector),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Parquet => "parquet",
            Self::Connector(preset) => preset.as_str(),
            Self::Warehouse => "warehouse",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestMode {
    Append,
    Replace,
    /// Parquet read where it lies, through a view; never copied.
    InPlace,
}

impl IngestMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Append => "append",
            Self::Replace => "replace",
            Self::InPlace => "in_place",
        }
    }
}

/// One evidence source: a table in the workspace filled by ingest.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub format: SourceFormat,
    /// Path or glob relative to the workspace folder.
    pub path: Option<String>,
    pub key: Vec<String>,
    pub timestamp: String,
    pub fresh_within: chrono::Duration,
    pub fresh_within_text: String,
    pub mode: IngestMode,
    pub location: Location,
    /// What a connector source fetches, and how (None for a file source).
    pub connector: Option<ConnectorSpec>,
    /// Where a warehouse source's rows live (None for every other source).
    pub warehouse: Option<WarehouseSource>,
}

impl Config {
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    pub fn warehouse(&self, name: &str) -> Option<&WarehouseConfig> {
        self.warehouses.iter().find(|w| w.name == name)
    }

    pub fn source_names(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|s| s.name.as_str())
    }

    /// Sample size for a frequency: quarterdeck.toml's `[sampling]`, else DOMAIN.md's default.
    pub fn sample_size(&self, frequency: Frequency) -> u32 {
        self.sampling.get(&frequency).copied().unwrap_or(frequency.default_sample_size())
    }

    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        let path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        Self::parse(&path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(vec![toml_problem(path, text, &e)]))?;
        let mut problems = Vec::new();
        let at = |span: std::ops::Range<usize>| Location::at_offset(path, text, span.start);

        let name = raw.workspace.name.clone().unwrap_or_else(|| "Quarterdeck workspace".into());
        let timezone = match &raw.workspace.timezone {
            None => chrono_tz::UTC,
            Some(tz) => tz.get_ref().parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
                problems.push(Problem::error(
                    at(tz.span()),
                    format!(
                        "field `timezone`: unknown time zone `{}` (use an IANA name such as `UTC` or `Europe/Berlin`)",
                        tz.get_ref()
                    ),
                ));
                chrono_tz::UTC
            }),
        };

        let mut sampling = BTreeMap::new();
        for (key, size) in &raw.sampling {
            match Frequency::parse(key.get_ref()) {
                None => problems.push(Problem::error(
                    at(key.span()),
                    format!(
                        "[sampling]: unknown frequency `{}`{} (one of {})",
                        key.get_ref(),
                        did_you_mean(key.get_ref(), Frequency::NAMES),
                        Frequency::NAMES.join(", ")
                    ),
                )),
                Some(_) if !(1..=i64::from(MAX_SAMPLE_SIZE)).contains(size.get_ref()) => problems.push(Problem::error(
                    at(size.span()),
                    format!(
                        "[sampling]: `{}` = {} is out of range: a sample size is from 1 to {MAX_SAMPLE_SIZE}",
                        key.get_ref(),
                        size.get_ref()
                    ),
                )),
                Some(f) => {
                    sampling.insert(f, *size.get_ref() as u32);
                }
            }
        }

        let warehouses = super::warehouse_config::validate_all(raw.warehouse, &at, &mut problems);
        let mut sources: Vec<SourceConfig> = Vec::new();
        for raw_source in raw.source {
            if let Some(source) = validate_source(raw_source, &at, (&sources, &warehouses), &mut problems) {
                sources.push(source);
            }
        }

        let limits = raw.limits.validate(&at, &mut problems);
        let review_within = match &raw.inventory.review_within {
            None => ReviewWindow::default(),
            Some(text) => ReviewWindow::parse(text.get_ref()).unwrap_or_else(|| {
                problems.push(Problem::error(
                    at(text.span()),
                    format!(
                        "[inventory]: field `review_within`: `{}` is not a window such as `1q`, `3mo`, `1y` or `90d`",
                        text.get_ref()
                    ),
                ));
                ReviewWindow::default()
            }),
        };

        if problems.is_empty() {
            Ok(Self { path: path.to_path_buf(), name, timezone, sampling, sources, warehouses, limits, review_within })
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

fn validate_source(
    mut raw: RawSource,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    (earlier, warehouses): (&[SourceConfig], &[WarehouseConfig]),
    problems: &mut Vec<Problem>,
) -> Option<SourceConfig> {
    let before = problems.len();
    let name = raw.name.get_ref().clone();
    let name_at = at(raw.name.span());
    if !is_plain_identifier(&name) {
        problems.push(Problem::error(
            name_at.clone(),
            format!("source `{name}`: field `name` must be lowercase letters, digits and `_`, starting with a letter"),
        ));
    } else if name.starts_with("qd") {
        problems
            .push(Problem::error(name_at.clone(), format!("source `{name}`: names starting with `qd` are reserved")));
    } else if name == super::documents::SOURCE {
        problems.push(Problem::error(
            name_at.clone(),
            format!("source `{name}`: the name is the document register's built-in source (documents.toml)"),
        ));
    } else if earlier.iter().any(|s| s.name == name) {
        problems.push(Problem::error(name_at.clone(), format!("source `{name}` is declared twice")));
    }
    let warehouse = super::warehouse_config::source_relation(&mut raw, &name, &name_at, at, warehouses, problems);
    let format = match (&raw.format, &warehouse) {
        (None, Some(_)) => Some(SourceFormat::Warehouse),
        (Some(format), Some(_)) => {
            problems.push(Problem::error(
                at(format.span()),
                format!(
                    "source `{name}`: field `format`: a warehouse source has none (its rows stay in the warehouse)"
                ),
            ));
            None
        }
        (None, None) => {
            problems.push(Problem::error(
                name_at.clone(),
                format!(
                    "source `{name}`: field `format` is required (one of {}), or `warehouse` for rows left in a warehouse",
                    SourceFormat::names().collect::<Vec<_>>().join(", ")
                ),
            ));
            None
        }
        (Some(format), None) => {
            let parsed = SourceFormat::parse(format.get_ref());
            if parsed.is_none() {
                problems.push(Problem::error(
                    at(format.span()),
                    format!(
                        "source `{name}`: field `format`: unknown format `{}`{} (one of {})",
                        format.get_ref(),
                        did_you_mean(format.get_ref(), SourceFormat::names()),
                        SourceFormat::names().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            parsed
        }
    };
    if raw.key.get_ref().is_empty() {
        problems.push(Problem::error(
            at(raw.key.span()),
            format!("source `{name}`: field `key` needs at least one column"),
        ));
    }
    for column in raw.key.get_ref().iter().chain(std::iter::once(&raw.timestamp)) {
        if column.get_ref().trim().is_empty() {
            problems.push(Problem::error(at(column.span()), format!("source `{name}`: empty column name")));
        }
    }
    let fresh_text = raw.fresh_within.as_ref().map_or("1d".to_string(), |f| f.get_ref().clone());
    let fresh_within = match parse_window(&fresh_text) {
        Some(d) => d,
        None => {
            let loc = raw.fresh_within.as_ref().map_or(name_at.clone(), |f| at(f.span()));
            problems.push(Problem::error(
                loc,
                format!(
                    "source `{name}`: field `fresh_within`: `{fresh_text}` is not a window such as `12h`, `2d` or `1w`"
                ),
            ));
            chrono::Duration::zero()
        }
    };
    let is_connector = matches!(format, Some(SourceFormat::Connector(_)));
    let connector_keys = raw.connector_keys();
    let mut snapshot = false;
    let mode = match raw.mode.as_ref().map(|m| m.get_ref().as_str()) {
        // Rows left in a warehouse are read where they live (a `mode` given
        // for one is reported by warehouse_config.rs).
        _ if warehouse.is_some() => IngestMode::InPlace,
        None | Some("append") => IngestMode::Append,
        Some("replace") => IngestMode::Replace,
        Some("in_place") if format == Some(SourceFormat::Parquet) => {
            if raw.path.is_none() {
                problems.push(Problem::error(
                    name_at.clone(),
                    format!("source `{name}`: mode `in_place` needs `path`: the folder or glob of its Parquet files"),
                ));
            }
            IngestMode::InPlace
        }
        // A point-in-time endpoint: each pull appends one dated row.
        Some("snapshot") if is_connector => {
            snapshot = true;
            IngestMode::Append
        }
        Some(other) => {
            let loc = raw.mode.as_ref().map_or(name_at.clone(), |m| at(m.span()));
            let choices = match format {
                _ if is_connector => "`append`, `replace` or `snapshot`",
                Some(SourceFormat::Parquet) => "`append`, `replace` or `in_place`",
                _ => "`append` or `replace` (`in_place` is for Parquet)",
            };
            problems.push(Problem::error(loc, format!("source `{name}`: field `mode`: `{other}` is not {choices}")));
            IngestMode::Append
        }
    };
    let connector = match format {
        Some(SourceFormat::Connector(preset)) => connector::validate(
            connector::Declared {
                name: &name,
                preset,
                snapshot,
                path: raw.path.as_ref().map(|p| p.get_ref().as_str()),
                location: &name_at,
            },
            connector_keys,
            at,
            problems,
        ),
        _ => {
            if let Some((key, span)) = connector_keys.any_present() {
                problems.push(Problem::error(
                    at(span),
                    format!("source `{name}`: field `{key}` is for connector formats (http_json, github_pulls, …), not files"),
                ));
            }
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(SourceConfig {
        name,
        format: format?,
        path: raw.path.map(|p| p.into_inner()),
        key: raw.key.into_inner().into_iter().map(Spanned::into_inner).collect(),
        timestamp: raw.timestamp.into_inner(),
        fresh_within,
        fresh_within_text: fresh_text,
        mode,
        location: name_at,
        connector,
        warehouse,
    })
}

/// Lowercase identifiers only, so that a source name is also a safe table name.
pub fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

/// A freshness window: `90m`, `12h`, `2d`, `1w`.
pub fn parse_window(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    match unit.trim() {
        "m" | "min" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "d" => Some(chrono::Duration::days(n)),
        "w" => Some(chrono::Duration::weeks(n)),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    workspace: RawWorkspace,
    #[serde(default)]
    sampling: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    source: Vec<RawSource>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    inventory: RawInventory,
    /// Connectors are declared here too; they are read by `connectors/`.
    #[serde(default, rename = "connector")]
    _connector: Vec<toml::Table>,
    #[serde(default)]
    warehouse: Vec<super::warehouse_config::RawWarehouse>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    review_within: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    name: Option<String>,
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    name: Spanned<String>,
    format: Option<Spanned<String>>,
    // A warehouse source (workspace/warehouse_config.rs).
    pub(super) warehouse: Option<Spanned<String>>,
    pub(super) table: Option<Spanned<String>>,
    pub(super) query: Option<Spanned<String>>,
    pub(super) path: Option<Spanned<String>>,
    key: Spanned<Vec<Spanned<String>>>,
    timestamp: Spanned<String>,
    fresh_within: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<String>>,
    // What only connector sources read (workspace/connector.rs).
    url: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    params: Option<Spanned<toml::Table>>,
    headers: Option<Spanned<toml::Table>>,
    auth: Option<Spanned<toml::Table>>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    records: Option<Spanned<String>>,
    paginate: Option<Spanned<toml::Table>>,
    since: Option<Spanned<toml::Table>>,
    until: Option<Spanned<toml::Table>>,
    window: Option<Spanned<String>>,
    start: Option<Spanned<String>>,
    total_field: Option<Spanned<String>>,
    fields: Option<Spanned<toml::Table>>,
    max_pages: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    backoff: Option<Spanned<String>>,
    rate_limit_wait: Option<Spanned<String>>,
    max_wait: Option<Spanned<String>>,
    repos: Option<Spanned<Vec<String>>>,
    projects: Option<Spanned<Vec<String>>>,
    jql: Option<Spanned<String>>,
}

impl RawSource {
    /// The connector keys, moved out for `connector::validate`.
    fn connector_keys(&mut self) -> RawConnectorKeys {
        RawConnectorKeys {
            url: self.url.take(),
            base_url: self.base_url.take(),
            params: self.params.take(),
            headers: self.headers.take(),
            auth: self.auth.take(),
            token_env: self.token_env.take(),
            token_file: self.token_file.take(),
            records: self.records.take(),
            paginate: self.paginate.take(),
            since: self.since.take(),
            until: self.until.take(),
            window: self.window.take(),
            start: self.start.take(),
            total_field: self.total_field.take(),
            fields: self.fields.take(),
            max_pages: self.max_pages.take(),
            timeout: self.timeout.take(),
            connect_timeout: self.connect_timeout.take(),
            retries: self.retries.take(),
            backoff: self.backoff.take(),
            rate_limit_wait: self.rate_limit_wait.take(),
            max_wait: self.max_wait.take(),
            repos: self.repos.take(),
            projects: self.projects.take(),
            jql: self.jql.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("quarterdeck.toml"), text)
    }

    const GOOD: &str = r#"
[workspace]
name = "Acme Cloud"
timezone = "Europe/Berlin"

[sampling]
per-event = 30

[[source]]
name = "deploys"
format = "csv"
path = "evidence/deploys*.csv"
key = ["deploy_id"]
timestamp = "deployed_at"
fresh_within = "2d"
mode = "append"
"#;

    #[test]
    fn reads_the_design_example() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.name, "Acme Cloud");
        assert_eq!(config.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(config.sample_size(Frequency::PerEvent), 30);
        assert_eq!(config.sample_size(Frequency::Weekly), 5);
        let deploys = config.source("deploys").unwrap();
        assert_eq!(deploys.key, vec!["deploy_id"]);
        assert_eq!(deploys.fresh_within, chrono::Duration::days(2));
    }

    #[test]
    fn names_the_line_and_field_of_a_bad_window() {
        let text = GOOD.replace("fresh_within = \"2d\"", "fresh_within = \"2 fortnights\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("quarterdeck.toml:15:16: source `deploys`: field `fresh_within`"), "{err}");
    }

    #[test]
    fn names_the_line_of_an_unknown_key() {
        let text = GOOD.replace("mode = \"append\"", "moed = \"append\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("quarterdeck.toml:16:"), "{err}");
        assert!(err.contains("moed"), "{err}");
    }

    #[test]
    fn refuses_unsafe_source_names() {
        let text = GOOD.replace("name = \"deploys\"", "name = \"deploys; drop\"");
        assert!(parse(&text).unwrap_err().to_string().contains("field `name`"));
    }

    #[test]
    fn windows() {
        assert_eq!(parse_window("12h"), Some(chrono::Duration::hours(12)));
        assert_eq!(parse_window("1w"), Some(chrono::Duration::days(7)));
        assert_eq!(parse_window("0d"), None);
        assert_eq!(parse_window("d"), None);
    }
}
