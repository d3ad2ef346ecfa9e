//! What `quarterdeck.toml` declares of a source that a connector fills
//! (`format = "http_json"` or a preset): typed and validated here, with the
//! line of every wrong key; `connectors/` runs it. Nothing here touches the
//! network or reads a secret's value.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use toml::Spanned;

use super::config::parse_window;
use super::problems::{Location, Problem, did_you_mean};

/// The connector a source's `format` names: the generic paginated-JSON one,
/// or a preset over it that needs only a few keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    HttpJson,
    GithubPulls,
    GitlabMergeRequests,
    OktaSystemLog,
    JiraIssues,
    PagerdutyIncidents,
    MsgraphSignIns,
    MsgraphDirectoryAudits,
}

impl Preset {
    pub const ALL: [Preset; 8] = [
        Self::HttpJson,
        Self::GithubPulls,
        Self::GitlabMergeRequests,
        Self::OktaSystemLog,
        Self::JiraIssues,
        Self::PagerdutyIncidents,
        Self::MsgraphSignIns,
        Self::MsgraphDirectoryAudits,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpJson => "http_json",
            Self::GithubPulls => "github_pulls",
            Self::GitlabMergeRequests => "gitlab_merge_requests",
            Self::OktaSystemLog => "okta_system_log",
            Self::JiraIssues => "jira_issues",
            Self::PagerdutyIncidents => "pagerduty_incidents",
            Self::MsgraphSignIns => "msgraph_sign_ins",
            Self::MsgraphDirectoryAudits => "msgraph_directory_audits",
        }
    }
}

/// Where a secret's value is read from when a pull starts; never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file (relative to the workspace) that only its owner may read.
    File(PathBuf),
}

impl SecretRef {
    pub fn describe(&self) -> String {
        match self {
            Self::Env(name) => format!("env var {name}"),
            Self::File(path) => format!("file {}", path.display()),
        }
    }
}

/// How requests prove who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `<header>: <scheme> <token>` (`Authorization: Bearer …`, `SSWS …`,
    /// `token …`), or the bare token in a custom header.
    Header { header: String, scheme: Option<String>, token: SecretRef },
    /// HTTP basic from a user name and a password (or API token).
    Basic { username: SecretRef, password: SecretRef },
}

/// The pagination style of an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paginate {
    /// One request, one page.
    None,
    /// RFC 8288 `Link` header with this relation (`next`).
    Link { rel: String },
    /// A cursor in the body, sent back as a query parameter; absent, null or
    /// empty ends the pages (so does `last_field` being true).
    Cursor { field: String, param: String, last_field: Option<String> },
    /// The next page's whole URL in the body (`@odata.nextLink`, `links.next`).
    NextUrl { field: String },
    /// Page numbers from `start` until an empty page.
    Page { param: String, start: u64 },
    /// An offset advanced by each page's record count, while `more_field`
    /// is true (or, without it, until an empty page).
    Offset { param: String, more_field: Option<String> },
}

/// How a timestamp goes into a query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2026-08-03T00:00:00Z` (also `2026-08-03T00:00:00.000Z` with `rfc3339_millis`).
    Rfc3339 { millis: bool },
    /// `2026-08-03`.
    Date,
    /// Seconds since the epoch.
    Epoch,
    /// Milliseconds since the epoch.
    EpochMillis,
    /// A chrono strftime pattern, e.g. `%Y-%m-%d %H:%M`.
    Pattern(String),
}

impl TimeFormat {
    pub fn render(&self, at: DateTime<Utc>) -> String {
        match self {
            Self::Rfc3339 { millis: false } => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Self::Rfc3339 { millis: true } => at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            Self::Date => at.format("%Y-%m-%d").to_string(),
            Self::Epoch => at.timestamp().to_string(),
            Self::EpochMillis => at.timestamp_millis().to_string(),
            Self::Pattern(pattern) => at.format(pattern).to_string(),
        }
    }
}

/// A bound of the pulled interval as a query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeParam {
    pub param: String,
    pub format: TimeFormat,
    /// `{value}` in it is replaced by the formatted time (Graph's
    /// `$filter = "createdDateTime ge {value}"`); else the value alone.
    pub template: Option<String>,
}

impl TimeParam {
    pub fn value(&self, at: DateTime<Utc>) -> String {
        let value = self.format.render(at);
        match &self.template {
            Some(template) => template.replace("{value}", &value),
            None => value,
        }
    }
}

/// A connector's whole declaration.
#[derive(Debug, Clone)]
pub struct ConnectorSpec {
    pub preset: Preset,
    /// The API's root: `https://api.github.com`, an enterprise server, a
    /// loopback test server.
    pub base_url: Option<String>,
    /// The first page (absolute, or a path under `base_url`).
    pub url: Option<String>,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub auth: Option<Auth>,
    /// Dotted path to the record array; empty = the response root.
    pub records: String,
    pub paginate: Paginate,
    /// Incremental pulls: the lower bound, from the newest timestamp loaded.
    pub since: Option<TimeParam>,
    /// The upper bound, where the API needs one.
    pub until: Option<TimeParam>,
    /// At most this long an interval per request series (chunks).
    pub window: Option<Duration>,
    /// Where the first pull starts when nothing is loaded yet.
    pub start: Option<DateTime<Utc>>,
    /// Where the API reports the total number of records (`total`).
    pub total_field: Option<String>,
    /// Columns picked from each record: `column = "dotted.path"`; empty
    /// keeps the records whole.
    pub fields: Vec<(String, String)>,
    /// A point-in-time endpoint stored as one dated row with its sha256.
    pub snapshot: bool,
    pub max_pages: u32,
    pub timeout: std::time::Duration,
    pub connect_timeout: std::time::Duration,
    pub retries: u32,
    /// The first retry's wait; each next one doubles it, with jitter.
    pub backoff: std::time::Duration,
    /// How long to wait on a 403/429 that says neither when nor how long.
    pub rate_limit_wait: std::time::Duration,
    /// The longest wait a rate limit may ask before the run gives up.
    pub max_wait: std::time::Duration,
    /// Preset keys: repositories (`owner/name`), projects, a JQL search.
    pub repos: Vec<String>,
    pub projects: Vec<String>,
    pub jql: Option<String>,
    pub location: Location,
}

pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// The keys of a `[[source]]` table that only connectors read, raw.
#[derive(Debug, Default)]
pub struct RawConnectorKeys {
    pub url: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    pub params: Option<Spanned<toml::Table>>,
    pub headers: Option<Spanned<toml::Table>>,
    pub auth: Option<Spanned<toml::Table>>,
    pub token_env: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
    pub records: Option<Spanned<String>>,
    pub paginate: Option<Spanned<toml::Table>>,
    pub since: Option<Spanned<toml::Table>>,
    pub until: Option<Spanned<toml::Table>>,
    pub window: Option<Spanned<String>>,
    pub start: Option<Spanned<String>>,
    pub total_field: Option<Spanned<String>>,
    pub fields: Option<Spanned<toml::Table>>,
    pub max_pages: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<String>>,
    pub retries: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<String>>,
    pub rate_limit_wait: Option<Spanned<String>>,
    pub max_wait: Option<Spanned<String>>,
    pub repos: Option<Spanned<Vec<String>>>,
    pub projects: Option<Spanned<Vec<String>>>,
    pub jql: Option<Spanned<String>>,
}

impl RawConnectorKeys {
    /// The first connector key present, for refusing it on a file source.
    pub fn any_present(&self) -> Option<(&'static str, std::ops::Range<usize>)> {
        macro_rules! first {
            ($($field:ident),+) => {
                $(if let Some(v) = &self.$field { return Some((stringify!($field), v.span())); })+
            };
        }
        first!(
            url,
            base_url,
            params,
            headers,
            auth,
            token_env,
            token_file,
            records,
            paginate,
            since,
            until,
            window,
            start,
            total_field,
            fields,
            max_pages,
            timeout,
            connect_timeout,
            retries,
            backoff,
            rate_limit_wait,
            max_wait,
            repos,
            projects,
            jql
        );
        None
    }
}

/// Validates a connector source's keys; problems name file, line and key.
pub fn validate(
    name: &str,
    preset: Preset,
    snapshot: bool,
    raw: RawConnectorKeys,
    path: Option<&str>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    location: &Location,
    problems: &mut Vec<Problem>,
) -> Option<ConnectorSpec> {
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

/// Reads the keys of an inline table, refusing any not in `known`.
struct Keys<'a> {
    table: &'a toml::Table,
    field: &'static str,
    known: &'static [&'static str],
}

impl<'a> Keys<'a> {
    fn check(&self, loc: &Location, report: &mut dyn FnMut(Location, String)) {
        for key in self.table.keys() {
            if !self.known.contains(&key.as_str()) {
                report(
                    loc.clone(),
                    format!(
                        "field `{}`: unknown key `{key}`{} (one of {})",
                        self.field,
                        did_you_mean(key, self.known.iter().copied()),
                        self.known.join(", ")
                    ),
                );
            }
        }
    }

    fn text(&self, key: &str, loc: &Location, report: &mut dyn FnMut(Location, String)) -> Option<String> {
        match self.table.get(key) {
            None => None,
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => {
                report(loc.clone(), format!("field `{}`: `{key}` must be a non-empty string", self.field));
                None
            }
        }
    }
}

fn auth(
    raw: &RawConnectorKeys,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Option<Auth> {
    let shorthand = match (&raw.token_env, &raw.token_file) {
        (Some(env), None) => Some((SecretRef::Env(env.get_ref().clone()), env.span())),
        (None, Some(file)) => Some((SecretRef::File(PathBuf::from(file.get_ref())), file.span())),
        (Some(_), Some(file)) => {
            report(at(file.span()), "`token_env` and `token_file` both given; name one".into());
            None
        }
        (None, None) => None,
    };
    let Some(table) = &raw.auth else {
        // The preset decides the header and scheme of a bare token.
        return shorthand.map(|(token, _)| Auth::Header { header: String::new(), scheme: None, token });
    };
    let loc = at(table.span());
    let keys = Keys {
        table: table.get_ref(),
        field: "auth",
        known: &["header", "scheme", "token_env", "token_file", "username_env", "password_env"],
    };
    keys.check(&loc, report);
    let secret = |env: &str, file: &str, report: &mut dyn FnMut(Location, String)| match (
        keys.text(env, &loc, report),
        keys.text(file, &loc, report),
    ) {
        (Some(e), None) => Some(SecretRef::Env(e)),
        (None, Some(f)) => Some(SecretRef::File(PathBuf::from(f))),
        (Some(_), Some(_)) => {
            report(loc.clone(), format!("field `auth`: `{env}` and `{file}` both given; name one"));
            None
        }
        (None, None) => None,
    };
    let scheme = keys.text("scheme", &loc, report);
    if scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("basic")) || keys.table.contains_key("username_env") {
        let username = keys.text("username_env", &loc, report).map(SecretRef::Env);
        let password = keys.text("password_env", &loc, report).map(SecretRef::Env);
        return match (username, password) {
            (Some(username), Some(password)) => Some(Auth::Basic { username, password }),
            _ => {
                report(loc.clone(), "field `auth`: basic auth needs `username_env` and `password_env`".into());
                None
            }
        };
    }
    let token = secret("token_env", "token_file", report).or_else(|| shorthand.map(|(t, _)| t));
    let Some(token) = token else {
        report(loc.clone(), "field `auth`: needs `token_env` (the token comes from an env var, never the file)".into());
        return None;
    };
    let header = keys.text("header", &loc, report).unwrap_or_else(|| "Authorization".into());
    if !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        report(loc.clone(), format!("field `auth`: `{header}` is not a header name"));
    }
    Some(Auth::Header { header, scheme, token })
}

fn paginate_style(
    table: &Spanned<toml::Table>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Paginate {
    let loc = at(table.span());
    let keys = Keys {
        table: table.get_ref(),
        field: "paginate",
        known: &[
            "link",
            "cursor_field",
            "cursor_param",
            "last_field",
            "next_url_field",
            "page_param",
            "page_start",
            "offset_param",
            "more_field",
        ],
    };
    keys.check(&loc, report);
    let t = |key: &str, report: &mut dyn FnMut(Location, String)| keys.text(key, &loc, report);
    let styles = [
        keys.table.contains_key("link"),
        keys.table.contains_key("cursor_field"),
        keys.table.contains_key("next_url_field"),
        keys.table.contains_key("page_param"),
        keys.table.contains_key("offset_param"),
    ];
    if styles.iter().filter(|s| **s).count() != 1 {
        report(
            loc.clone(),
            "field `paginate`: name exactly one style: `link`, `cursor_field`, `next_url_field`, `page_param` or `offset_param`"
                .into(),
        );
        return Paginate::None;
    }
    if let Some(rel) = t("link", report) {
        return Paginate::Link { rel };
    }
    if let Some(field) = t("cursor_field", report) {
        let Some(param) = t("cursor_param", report) else {
            report(loc.clone(), "field `paginate`: `cursor_field` needs `cursor_param`".into());
            return Paginate::None;
        };
        return Paginate::Cursor { field, param, last_field: t("last_field", report) };
    }
    if let Some(field) = t("next_url_field", report) {
        return Paginate::NextUrl { field };
    }
    if let Some(param) = t("page_param", report) {
        let start = match keys.table.get("page_start") {
            None => 1,
            Some(toml::Value::Integer(n)) if *n >= 0 => *n as u64,
            Some(_) => {
                report(loc.clone(), "field `paginate`: `page_start` must be a number from 0".into());
                1
            }
        };
        return Paginate::Page { param, start };
    }
    if let Some(param) = t("offset_param", report) {
        return Paginate::Offset { param, more_field: t("more_field", report) };
    }
    Paginate::None
}

fn time_param(
    table: &Spanned<toml::Table>,
    field: &'static str,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Option<TimeParam> {
    let loc = at(table.span());
    let keys = Keys { table: table.get_ref(), field, known: &["param", "format", "template"] };
    keys.check(&loc, report);
    let Some(param) = keys.text("param", &loc, report) else {
        report(loc.clone(), format!("field `{field}`: needs `param` (the query parameter's name)"));
        return None;
    };
    let format = match keys.text("format", &loc, report).as_deref() {
        None | Some("rfc3339") => TimeFormat::Rfc3339 { millis: false },
        Some("rfc3339_millis") => TimeFormat::Rfc3339 { millis: true },
        Some("date") => TimeFormat::Date,
        Some("epoch") => TimeFormat::Epoch,
        Some("epoch_ms") => TimeFormat::EpochMillis,
        Some(pattern) if pattern.contains('%') => {
            let probe = chrono::DateTime::<Utc>::UNIX_EPOCH;
            let mut rendered = String::new();
            if std::fmt::write(&mut rendered, format_args!("{}", probe.format(pattern))).is_err() {
                report(loc.clone(), format!("field `{field}`: `{pattern}` is not a strftime pattern"));
            }
            TimeFormat::Pattern(pattern.to_string())
        }
        Some(other) => {
            report(
                loc.clone(),
                format!(
                    "field `{field}`: format `{other}` is not rfc3339, rfc3339_millis, date, epoch, epoch_ms or a strftime pattern"
                ),
            );
            TimeFormat::Rfc3339 { millis: false }
        }
    };
    let template = keys.text("template", &loc, report);
    if template.as_deref().is_some_and(|t| !t.contains("{value}")) {
        report(loc.clone(), format!("field `{field}`: `template` must contain `{{value}}`"));
    }
    Some(TimeParam { param, format, template })
}
