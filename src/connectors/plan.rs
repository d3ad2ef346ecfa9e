//! From a source's declaration to the requests of one pull: the series of
//! pages to walk (one per repository, project or time window), how to read
//! each page, and what each record needs fetched beside it. The presets
//! are plans over the generic connector, with the vendors' endpoints.

use chrono::{DateTime, Duration, Utc};
use url::Url;

use super::ConnectorError;
use crate::workspace::config::SourceConfig;
use crate::workspace::connector::{ConnectorSpec, Paginate, Preset, TimeFormat, TimeParam};

/// How far back a preset's first pull reaches when nothing is loaded and
/// the source sets no `start`.
pub const FIRST_PULL_DAYS: i64 = 90;
/// PagerDuty answers at most this long an interval per query.
const PAGERDUTY_WINDOW_DAYS: i64 = 180;

/// One walk through pages.
#[derive(Debug, Clone)]
pub struct Series {
    pub url: Url,
    pub paginate: Paginate,
    pub records: String,
    pub fields: Vec<(String, String)>,
    pub total_field: Option<String>,
    /// Columns every row of the series gets (the repository it came from).
    pub context: Vec<(String, serde_json::Value)>,
    /// Stop after a page whose last record's field is older than this
    /// (lists sorted newest first that take no `since`).
    pub stop_older: Option<(String, DateTime<Utc>)>,
    /// Keep only records whose field is set and not older than the bound.
    pub keep_since: Option<(String, Option<DateTime<Utc>>)>,
    pub enrich: Enrich,
}

/// What a record needs fetched beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrich {
    None,
    /// A GitHub pull request's detail (merged_by) and its reviews.
    GithubPull {
        base: String,
        repo: String,
    },
    /// A GitLab merge request's approvals.
    GitlabApprovals {
        base: String,
        project: String,
    },
}

/// The requests of one pull.
#[derive(Debug, Clone)]
pub struct Plan {
    pub series: Vec<Series>,
    pub snapshot: bool,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// The auth header, its scheme, and fixed headers of the API.
    pub auth_header: (&'static str, Option<&'static str>),
    pub headers: Vec<(String, String)>,
}

/// Plans a pull of `source` at `now`, incremental from `newest` (the newest
/// timestamp already loaded or pulled).
pub fn plan(source: &SourceConfig, newest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Plan, ConnectorError> {
    let spec = source.connector.as_ref().ok_or_else(|| ConnectorError::NotAConnector(source.name.clone()))?;
    let default_start = (spec.preset != Preset::HttpJson).then(|| now - Duration::days(FIRST_PULL_DAYS));
    let since = newest.or(spec.start).or(default_start);
    let base = spec.base_url.clone().unwrap_or_default();
    let bad = |detail: String| ConnectorError::Plan { source_name: source.name.clone(), detail };
    let parse = |text: &str| Url::parse(text).map_err(|e| bad(format!("`{text}` is not a URL: {e}")));
    let mut series = Vec::new();
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    let mut until = None;
    let auth_header = match spec.preset {
        Preset::HttpJson => {
            let first = match spec.url.as_deref() {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => parse(url)?,
                Some(path) => parse(&join(&base, path))?,
                None => return Err(bad("no `url`".into())),
            };
            let windows = if spec.snapshot { vec![(None, None)] } else { windows(spec, since, now) };
            until = windows.last().and_then(|w| w.1);
            for (lo, hi) in windows {
                let mut url = first.clone();
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in &spec.params {
                        q.append_pair(k, v);
                    }
                    if let (Some(p), Some(lo)) = (&spec.since, lo) {
                        q.append_pair(&p.param, &p.value(lo));
                    }
                    if let (Some(p), Some(hi)) = (&spec.until, hi) {
                        q.append_pair(&p.param, &p.value(hi));
                    }
                }
                series.push(Series {
                    url: tidy(url),
                    paginate: if spec.snapshot { Paginate::None } else { spec.paginate.clone() },
                    records: spec.records.clone(),
                    fields: spec.fields.clone(),
                    total_field: spec.total_field.clone(),
                    context: Vec::new(),
                    stop_older: None,
                    keep_since: None,
                    enrich: Enrich::None,
                });
            }
            headers.extend(spec.headers.iter().cloned());
            ("Authorization", Some("Bearer"))
        }
        Preset::GithubPulls => {
            headers = vec![
                ("Accept".into(), "application/vnd.github+json".into()),
                ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
            ];
            for repo in &spec.repos {
                let url = parse(&format!(
                    "{}/repos/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=100",
                    base.trim_end_matches('/')
                ))?;
                series.push(Series {
                    url,
                    paginate: Paginate::Link { rel: "next".into() },
                    records: String::new(),
                    fields: fields(&[
                        ("number", "number"),
                        ("title", "title"),
                        ("author", "user.login"),
                        ("created_at", "created_at"),
                        ("merged_at", "merged_at"),
                        ("base", "base.ref"),
                        ("head_sha", "head.sha"),
                        ("url", "html_url"),
                    ]),
                    total_field: None,
                    context: vec![("repo".into(), serde_json::Value::String(repo.clone()))],
                    stop_older: since.map(|s| ("updated_at".to_string(), s)),
                    keep_since: Some(("merged_at".into(), since)),
                    enrich: Enrich::GithubPull { base: base.trim_end_matches('/').to_string(), repo: repo.clone() },
                });
            }
            ("Authorization", Some("Bearer"))
        }
        Preset::GitlabMergeRequests => {
            for project in &spec.projects {
                let encoded: String = url::form_urlencoded::byte_serialize(project.as_bytes()).collect();
                let mut url = parse(&format!(
                    "{}/api/v4/projects/{encoded}/merge_requests?state=merged&order_by=updated_at&sort=desc&per_page=100",
                    base.trim_end_matches("/api/v4")
                ))?;
                if let Some(since) = since {
                    url.query_pairs_mut().append_pair("updated_after", &rfc3339(since));
                }
                series.push(Series {
                    url,
                    paginate: Paginate::Link { rel: "next".into() },
                    records: String::new(),
                    fields: fields(&[
                        ("iid", "iid"),
                        ("title", "title"),
                        ("author", "author.username"),
                        ("created_at", "created_at"),
                        ("merged_at", "merged_at"),
                        ("merged_by", "merge_user.username"),
                        ("target_branch", "target_branch"),
                        ("sha", "sha"),
                        ("url", "web_url"),
                    ]),
                    total_field: None,
                    context: vec![("project".into(), serde_json::Value::String(project.clone()))],
                    stop_older: None,
                    keep_since: Some(("merged_at".into(), since)),
                    enrich: Enrich::GitlabApprovals {
                        base: base.trim_end_matches("/api/v4").to_string(),
                        project: encoded,
                    },
                });
            }
            ("Authorization", Some("Bearer"))
        }
        Preset::OktaSystemLog => {
            let mut url = parse(&format!("{base}/api/v1/logs?limit=1000&sortOrder=ASCENDING"))?;
            {
                let mut q = url.query_pairs_mut();
                if let Some(since) = since {
                    q.append_pair("since", &millis(since));
                }
                // Bounded: without `until` Okta's log is a poll that never ends.
                q.append_pair("until", &millis(now));
            }
            until = Some(now);
            series.push(simple(url, Paginate::Link { rel: "next".into() }, "", Vec::new(), None));
            ("Authorization", Some("SSWS"))
        }
        Preset::JiraIssues => {
            let jql = spec.jql.clone().unwrap_or_default();
            let bounded = match since {
                Some(since) => {
                    format!("({jql}) AND updated >= \"{}\" ORDER BY updated ASC", since.format("%Y-%m-%d %H:%M"))
                }
                None => format!("({jql}) ORDER BY updated ASC"),
            };
            let mut url = parse(&format!("{base}/rest/api/3/search/jql"))?;
            url.query_pairs_mut().append_pair("jql", &bounded).append_pair("maxResults", "100").append_pair(
                "fields",
                "summary,status,issuetype,priority,assignee,reporter,created,updated,resolutiondate",
            );
            series.push(simple(
                url,
                Paginate::Cursor {
                    field: "nextPageToken".into(),
                    param: "nextPageToken".into(),
                    last_field: Some("isLast".into()),
                },
                "issues",
                fields(&[
                    ("key", "key"),
                    ("id", "id"),
                    ("summary", "fields.summary"),
                    ("status", "fields.status.name"),
                    ("issue_type", "fields.issuetype.name"),
                    ("priority", "fields.priority.name"),
                    ("assignee", "fields.assignee.displayName"),
                    ("reporter", "fields.reporter.displayName"),
                    ("created", "fields.created"),
                    ("updated", "fields.updated"),
                    ("resolved", "fields.resolutiondate"),
                ]),
                None,
            ));
            ("Authorization", Some("Bearer"))
        }
        Preset::PagerdutyIncidents => {
            headers = vec![("Accept".into(), "application/vnd.pagerduty+json;version=2".into())];
            let mut spec = spec.clone();
            spec.window = Some(spec.window.unwrap_or(Duration::days(PAGERDUTY_WINDOW_DAYS)));
            let param = |name: &str| TimeParam {
                param: name.into(),
                format: TimeFormat::Rfc3339 { millis: false },
                template: None,
            };
            let windows = windows(&spec, since, now);
            until = windows.last().and_then(|w| w.1);
            for (lo, hi) in windows {
                let mut url = parse(&format!("{base}/incidents?limit=100&total=true&time_zone=UTC"))?;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(lo) = lo {
                        q.append_pair("since", &param("since").value(lo));
                    }
                    if let Some(hi) = hi {
                        q.append_pair("until", &param("until").value(hi));
                    }
                }
                series.push(simple(
                    url,
                    Paginate::Offset { param: "offset".into(), more_field: Some("more".into()) },
                    "incidents",
                    fields(&[
                        ("id", "id"),
                        ("incident_number", "incident_number"),
                        ("title", "title"),
                        ("status", "status"),
                        ("urgency", "urgency"),
                        ("created_at", "created_at"),
                        ("resolved_at", "resolved_at"),
                        ("last_status_change_at", "last_status_change_at"),
                        ("service", "service.summary"),
                        ("priority", "priority.summary"),
                        ("url", "html_url"),
                    ]),
                    Some("total".into()),
                ));
            }
            ("Authorization", Some("Token token="))
        }
        Preset::MsgraphSignIns | Preset::MsgraphDirectoryAudits => {
            let (endpoint, column, picked) = if spec.preset == Preset::MsgraphSignIns {
                (
                    "auditLogs/signIns",
                    "createdDateTime",
                    fields(&[
                        ("id", "id"),
                        ("createdDateTime", "createdDateTime"),
                        ("userPrincipalName", "userPrincipalName"),
                        ("userDisplayName", "userDisplayName"),
                        ("appDisplayName", "appDisplayName"),
                        ("ipAddress", "ipAddress"),
                        ("clientAppUsed", "clientAppUsed"),
                        ("conditionalAccessStatus", "conditionalAccessStatus"),
                        ("isInteractive", "isInteractive"),
                        ("errorCode", "status.errorCode"),
                        ("failureReason", "status.failureReason"),
                    ]),
                )
            } else {
                (
                    "auditLogs/directoryAudits",
                    "activityDateTime",
                    fields(&[
                        ("id", "id"),
                        ("activityDateTime", "activityDateTime"),
                        ("activityDisplayName", "activityDisplayName"),
                        ("category", "category"),
                        ("operationType", "operationType"),
                        ("result", "result"),
                        ("resultReason", "resultReason"),
                        ("loggedByService", "loggedByService"),
                        ("initiatedByUser", "initiatedBy.user.userPrincipalName"),
                        ("initiatedByApp", "initiatedBy.app.displayName"),
                    ]),
                )
            };
            let mut url = parse(&format!("{}/v1.0/{endpoint}", base.trim_end_matches("/v1.0")))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("$top", "999");
                if let Some(since) = since {
                    q.append_pair("$filter", &format!("{column} ge {}", rfc3339(since)));
                }
            }
            series.push(simple(url, Paginate::NextUrl { field: "@odata.nextLink".into() }, "value", picked, None));
            ("Authorization", Some("Bearer"))
        }
    };
    Ok(Plan { series, snapshot: spec.snapshot, since, until, auth_header, headers })
}

/// One request series' time bounds, `[since, until)`; either open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `[lo, hi)` chunks of at most the source's window, up to `now`; one
/// unbounded series without a window.
fn windows(spec: &ConnectorSpec, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Vec<Window> {
    match (spec.window, since) {
        (Some(window), Some(mut lo)) if window > Duration::zero() => {
            let mut out = Vec::new();
            while lo < now {
                let hi = (lo + window).min(now);
                out.push((Some(lo), Some(hi)));
                lo = hi;
            }
            if out.is_empty() {
                out.push((Some(now), Some(now)));
            }
            out
        }
        _ => vec![(since, spec.until.as_ref().map(|_| now))],
    }
}

fn simple(url: Url, paginate: Paginate, records: &str, fields: Vec<(String, String)>, total: Option<String>) -> Series {
    Series {
        url,
        paginate,
        records: records.into(),
        fields,
        total_field: total,
        context: Vec::new(),
        stop_older: None,
        keep_since: None,
        enrich: Enrich::None,
    }
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect()
}

fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// A URL without an empty `?` left by an empty query.
fn tidy(mut url: Url) -> Url {
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn millis(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::config::Config;

    fn source(toml: &str) -> SourceConfig {
        let config = Config::parse(std::path::Path::new("quarterdeck.toml"), toml).unwrap();
        config.sources[0].clone()
    }

    #[test]
    fn windows_chunk_the_interval_and_bound_each_request() {
        let s = source(
            r#"[[source]]
name = "incidents"
format = "http_json"
url = "http://127.0.0.1:9/incidents"
params = { limit = 100 }
since = { param = "since" }
until = { param = "until", format = "date" }
window = "10d"
key = ["id"]
timestamp = "created_at"
"#,
        );
        let now = "2026-08-25T00:00:00Z".parse().unwrap();
        let newest = "2026-08-01T00:00:00Z".parse().unwrap();
        let plan = plan(&s, Some(newest), now).unwrap();
        let urls: Vec<String> = plan.series.iter().map(|s| s.url.to_string()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:9/incidents?limit=100&since=2026-08-01T00%3A00%3A00Z&until=2026-08-11",
                "http://127.0.0.1:9/incidents?limit=100&since=2026-08-11T00%3A00%3A00Z&until=2026-08-21",
                "http://127.0.0.1:9/incidents?limit=100&since=2026-08-21T00%3A00%3A00Z&until=2026-08-25",
            ]
        );
    }
}
