//! A connector source's keys, checked one by one into a `ConnectorSpec`.

use chrono::{DateTime, Utc};
use toml::Spanned;

use super::keys::{auth, paginate_style, time_param};
use super::{ConnectorSpec, DEFAULT_MAX_PAGES, Paginate, Preset, RawConnectorKeys};
use crate::workspace::config::parse_window;
use crate::workspace::problems::{Location, Problem};

/// What the `[[source]]` table itself says of a connector source.
pub struct Declared<'a> {
    pub name: &'a str,
    pub preset: Preset,
    pub snapshot: bool,
    /// The source's `path`, an alias of `url`.
    pub path: Option<&'a str>,
    /// Where the source is declared, for problems of the whole table.
    pub location: &'a Location,
}

/// Validates a connector source's keys; problems name file, line and key.
pub fn validate(
    declared: Declared<'_>,
    raw: RawConnectorKeys,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    problems: &mut Vec<Problem>,
) -> Option<ConnectorSpec> {
    let Declared { name, preset, snapshot, path, location } = declared;
    let before = problems.len();
    let mut report = |loc: Location, message: String| {
        problems.push(Problem::error(loc, format!("source `{name}`: {message}")));
    };
    let mut spec = ConnectorSpec {
        preset,
        base_url: None,
        url: None,
        params: Vec::new(),
        headers: Vec::new(),
        auth: None,
        records: String::new(),
        paginate: Paginate::None,
        since: None,
        until: None,
        window: None,
        start: None,
        total_field: None,
        fields: Vec::new(),
        snapshot,
        max_pages: DEFAULT_MAX_PAGES,
        timeout: std::time::Duration::from_secs(60),
        connect_timeout: std::time::Duration::from_secs(10),
        retries: 4,
        backoff: std::time::Duration::from_millis(500),
        rate_limit_wait: std::time::Duration::from_secs(60),
        max_wait: std::time::Duration::from_secs(15 * 60),
        repos: Vec::new(),
        projects: Vec::new(),
        jql: None,
        location: location.clone(),
    };
    if let Some(base) = &raw.base_url {
        match check_url(base.get_ref()) {
            Ok(()) => spec.base_url = Some(base.get_ref().trim_end_matches('/').to_string()),
            Err(why) => report(at(base.span()), format!("field `base_url`: {why}")),
        }
    }
    match (&raw.url, path) {
        (Some(url), _) => {
            let text = url.get_ref();
            if text.contains("://") {
                if let Err(why) = check_url(text) {
                    report(at(url.span()), format!("field `url`: {why}"));
                }
            } else if spec.base_url.is_none() {
                report(at(url.span()), "field `url`: a path needs `base_url` (or give the whole URL)".into());
            }
            spec.url = Some(text.clone());
        }
        (None, Some(path)) => spec.url = Some(path.to_string()),
        (None, None) => {}
    }
    if let Some(params) = &raw.params {
        spec.params = string_pairs(params, "params", &at, &mut report);
    }
    if let Some(headers) = &raw.headers {
        spec.headers = string_pairs(headers, "headers", &at, &mut report);
        for (header, _) in &spec.headers {
            if header.eq_ignore_ascii_case("authorization") {
                report(
                    at(headers.span()),
                    "field `headers`: `Authorization` belongs in `auth` (its token from an env var), never in the file"
                        .into(),
                );
            }
        }
    }
    spec.auth = auth(&raw, &at, &mut report);
    if let Some(records) = &raw.records {
        spec.records = records.get_ref().clone();
    }
    if let Some(paginate) = &raw.paginate {
        spec.paginate = paginate_style(paginate, &at, &mut report);
    }
    if let Some(since) = &raw.since {
        spec.since = time_param(since, "since", &at, &mut report);
    }
    if let Some(until) = &raw.until {
        spec.until = time_param(until, "until", &at, &mut report);
    }
    if let Some(window) = &raw.window {
        match parse_window(window.get_ref()) {
            Some(w) => spec.window = Some(w),
            None => report(
                at(window.span()),
                format!("field `window`: `{}` is not a window such as `7d`", window.get_ref()),
            ),
        }
    }
    if let Some(start) = &raw.start {
        match parse_start(start.get_ref()) {
            Some(t) => spec.start = Some(t),
            None => report(
                at(start.span()),
                format!("field `start`: `{}` is not a date (`2026-01-01`) or an RFC 3339 time", start.get_ref()),
            ),
        }
    }
    spec.total_field = raw.total_field.as_ref().map(|t| t.get_ref().clone());
    if let Some(fields) = &raw.fields {
        spec.fields = string_pairs(fields, "fields", &at, &mut report);
    }
    if let Some(max) = &raw.max_pages {
        match u32::try_from(*max.get_ref()) {
            Ok(n) if n >= 1 => spec.max_pages = n,
            _ => report(at(max.span()), format!("field `max_pages`: {} is not from 1 to {}", max.get_ref(), u32::MAX)),
        }
    }
    if let Some(retries) = &raw.retries {
        match u32::try_from(*retries.get_ref()) {
            Ok(n) if n <= 20 => spec.retries = n,
            _ => report(at(retries.span()), format!("field `retries`: {} is not from 0 to 20", retries.get_ref())),
        }
    }
    for (field, value, target) in [
        ("timeout", &raw.timeout, &mut spec.timeout),
        ("connect_timeout", &raw.connect_timeout, &mut spec.connect_timeout),
        ("backoff", &raw.backoff, &mut spec.backoff),
        ("rate_limit_wait", &raw.rate_limit_wait, &mut spec.rate_limit_wait),
        ("max_wait", &raw.max_wait, &mut spec.max_wait),
    ] {
        if let Some(value) = value {
            match parse_duration(value.get_ref()) {
                Some(d) => *target = d,
                None => report(
                    at(value.span()),
                    format!(
                        "field `{field}`: `{}` is not a duration such as `30s`, `500ms` or `2m` (at most a day)",
                        value.get_ref()
                    ),
                ),
            }
        }
    }
    spec.repos = raw.repos.as_ref().map(|r| r.get_ref().clone()).unwrap_or_default();
    spec.projects = raw.projects.as_ref().map(|r| r.get_ref().clone()).unwrap_or_default();
    spec.jql = raw.jql.as_ref().map(|j| j.get_ref().clone());
    if let Some(repos) = &raw.repos {
        for repo in repos.get_ref() {
            let parts: Vec<&str> = repo.split('/').collect();
            let plain = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if parts.len() != 2 || !parts.iter().all(|p| plain(p)) || parts.contains(&"..") {
                report(at(repos.span()), format!("field `repos`: `{repo}` is not `owner/name`"));
            }
        }
    }
    preset_requirements(&mut spec, &raw, &at, location, &mut report);
    (problems.len() == before).then_some(spec)
}

/// What each preset needs, and the defaults it fills in.
fn preset_requirements(
    spec: &mut ConnectorSpec,
    raw: &RawConnectorKeys,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    location: &Location,
    report: &mut dyn FnMut(Location, String),
) {
    let needs_token = |spec: &ConnectorSpec, report: &mut dyn FnMut(Location, String)| {
        if spec.auth.is_none() {
            report(location.clone(), "needs `token_env` (or `auth`): the API refuses anonymous requests".into());
        }
    };
    match spec.preset {
        Preset::HttpJson => {
            if spec.url.is_none() {
                report(location.clone(), "format `http_json` needs `url` (or `base_url` and `path`)".into());
            }
        }
        Preset::GithubPulls => {
            if spec.repos.is_empty() {
                report(location.clone(), "format `github_pulls` needs `repos = [\"owner/name\", …]`".into());
            }
            spec.base_url.get_or_insert_with(|| "https://api.github.com".into());
        }
        Preset::GitlabMergeRequests => {
            if spec.projects.is_empty() {
                report(
                    location.clone(),
                    "format `gitlab_merge_requests` needs `projects = [\"group/name\", …]`".into(),
                );
            }
            spec.base_url.get_or_insert_with(|| "https://gitlab.com".into());
            needs_token(spec, report);
        }
        Preset::OktaSystemLog => {
            if spec.base_url.is_none() {
                report(location.clone(), "format `okta_system_log` needs `base_url` (https://<org>.okta.com)".into());
            }
            needs_token(spec, report);
        }
        Preset::JiraIssues => {
            if spec.base_url.is_none() {
                report(location.clone(), "format `jira_issues` needs `base_url` (https://<site>.atlassian.net)".into());
            }
            match (&spec.jql, &raw.jql) {
                (None, _) | (_, None) => {
                    report(location.clone(), "format `jira_issues` needs `jql` (the search)".into())
                }
                (Some(jql), Some(at_jql)) if jql.to_lowercase().contains("order by") => report(
                    at(at_jql.span()),
                    "field `jql`: leave out ORDER BY; the preset orders by `updated` to pull incrementally".into(),
                ),
                _ => {}
            }
            needs_token(spec, report);
        }
        Preset::PagerdutyIncidents => {
            spec.base_url.get_or_insert_with(|| "https://api.pagerduty.com".into());
            needs_token(spec, report);
        }
        Preset::MsgraphSignIns | Preset::MsgraphDirectoryAudits => {
            spec.base_url.get_or_insert_with(|| "https://graph.microsoft.com".into());
            needs_token(spec, report);
        }
    }
    if spec.preset != Preset::HttpJson
        && let Some((key, span)) = [
            raw.url.as_ref().map(|v| ("url", v.span())),
            raw.records.as_ref().map(|v| ("records", v.span())),
            raw.paginate.as_ref().map(|v| ("paginate", v.span())),
        ]
        .into_iter()
        .flatten()
        .next()
    {
        report(at(span), format!("field `{key}`: format `{}` sets it itself", spec.preset.as_str()));
    }
    if spec.snapshot && spec.preset != Preset::HttpJson {
        report(location.clone(), "mode `snapshot` is for `http_json` sources (a point-in-time endpoint)".into());
    }
}

/// `500ms`, `30s`, `2m`, `1h`: more than nothing, at most a day.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let millis = match unit.trim() {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    (millis <= 86_400_000).then(|| std::time::Duration::from_millis(millis))
}

fn check_url(text: &str) -> Result<(), String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(url) => Err(format!("`{text}`: scheme `{}` is not http or https", url.scheme())),
        Err(e) => Err(format!("`{text}` is not a URL ({e})")),
    }
}

fn parse_start(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

fn string_pairs(
    table: &Spanned<toml::Table>,
    field: &str,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (key, value) in table.get_ref() {
        match scalar_text(value) {
            Some(text) => pairs.push((key.clone(), text)),
            None => report(at(table.span()), format!("field `{field}`: `{key}` must be a string or a number")),
        }
    }
    pairs
}

fn scalar_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
