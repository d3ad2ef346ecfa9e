//! What `quarterdeck.toml` declares of a source that a connector fills
//! (`format = "http_json"` or a preset): typed and validated here, with the
//! line of every wrong key; `connectors/` runs it. Nothing here touches the
//! network or reads a secret's value.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use toml::Spanned;

use super::problems::Location;

mod keys;
mod validate;
pub use validate::{Declared, parse_duration, validate};

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
