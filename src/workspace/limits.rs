//! `[limits]` in quarterdeck.toml: how long one statement a person or a
//! mapping wrote may run, and how much memory and temporary disk the
//! workspace's DuckDB instance may take, so that one query cannot starve
//! the machine or fill its disk.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::problems::{Location, Problem};

/// The limits in force for this workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Typed SQL and mapping tests (`test`) are interrupted after this.
    pub statement_timeout: Duration,
    /// DuckDB's `memory_limit`: a share of RAM (`50%`) or a size (`8GiB`).
    pub memory_limit: String,
    /// DuckDB's `max_temp_directory_size`: spilled data beyond this fails the query.
    pub max_temp_directory_size: String,
    /// Where DuckDB spills, relative to the workspace; None is DuckDB's own
    /// default beside the database (`workspace.duckdb.tmp`).
    pub temp_directory: Option<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(300),
            memory_limit: "50%".into(),
            max_temp_directory_size: "10GiB".into(),
            temp_directory: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(super) struct RawLimits {
    statement_timeout: Option<Spanned<String>>,
    memory_limit: Option<Spanned<String>>,
    max_temp_directory_size: Option<Spanned<String>>,
    temp_directory: Option<Spanned<String>>,
}

impl RawLimits {
    pub(super) fn validate(
        self,
        at: &dyn Fn(std::ops::Range<usize>) -> Location,
        problems: &mut Vec<Problem>,
    ) -> Limits {
        let defaults = Limits::default();
        let mut field =
            |value: Option<Spanned<String>>, name: &str, expected: &str, parse: fn(&str) -> Option<String>| {
                value.and_then(|text| {
                    let parsed = parse(text.get_ref());
                    if parsed.is_none() {
                        problems.push(Problem::error(
                            at(text.span()),
                            format!("[limits]: field `{name}`: `{}` is not {expected}", text.get_ref()),
                        ));
                    }
                    parsed
                })
            };
        let timeout = field(self.statement_timeout, "statement_timeout", "a duration (e.g. `90s`, `5m`, `1h`)", |t| {
            parse_timeout(t).map(|d| d.as_secs().to_string())
        });
        let memory = field(
            self.memory_limit,
            "memory_limit",
            "a share of memory from 10% to 90% or a size such as `8GiB`",
            |t| memory_share(t).or_else(|| size(t)),
        );
        let temp_size =
            field(self.max_temp_directory_size, "max_temp_directory_size", "a size such as `10GiB` or `500MB`", size);
        let temp_dir = field(self.temp_directory, "temp_directory", "a plain folder path", |t| {
            let dir = t.trim();
            (!dir.is_empty() && !dir.contains('\'') && !dir.chars().any(char::is_control)).then(|| dir.to_string())
        });
        Limits {
            statement_timeout: timeout
                .and_then(|secs| secs.parse().ok())
                .map_or(defaults.statement_timeout, Duration::from_secs),
            memory_limit: memory.unwrap_or(defaults.memory_limit),
            max_temp_directory_size: temp_size.unwrap_or(defaults.max_temp_directory_size),
            temp_directory: temp_dir,
        }
    }
}

/// `90s`, `5m`, `1h`: at least one second, at most a day.
pub fn parse_timeout(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit.trim() {
        "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (secs <= 86_400).then(|| Duration::from_secs(secs))
}

fn memory_share(text: &str) -> Option<String> {
    let n: u32 = text.trim().strip_suffix('%')?.trim().parse().ok()?;
    (10..=90).contains(&n).then(|| format!("{n}%"))
}

/// A size DuckDB reads: a whole number and one of its units.
fn size(text: &str) -> Option<String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let unit = unit.trim();
    ["KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"].contains(&unit).then(|| format!("{n}{unit}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_shares_and_sizes() {
        assert_eq!(parse_timeout("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_timeout("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_timeout("0s"), None);
        assert_eq!(parse_timeout("2d"), None);
        assert_eq!(parse_timeout("99999999999999999999h"), None);
        assert_eq!(memory_share("50%").as_deref(), Some("50%"));
        assert_eq!(memory_share("95%"), None);
        assert_eq!(size("8GiB").as_deref(), Some("8GiB"));
        assert_eq!(size("8 GiB").as_deref(), Some("8GiB"));
        assert_eq!(size("8g"), None);
        assert_eq!(size("-1GB"), None);
    }
}
