//! One source's pull, on tokio: walk its plan's pages, store each response
//! and the records it held, check the API's total, and write the manifest
//! — complete or failed — so that whoever holds the workspace next loads
//! (or records) it. Nothing here touches the database.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::ConnectorError;
use super::client::{Http, Page};
use super::paginate::Pages;
use super::plan::{Enrich, Plan, Series, plan};
use super::records;
use super::secret::{self, Secrets};
use super::store::{Manifest, PullWriter, new_pull_id};
use crate::workspace::config::SourceConfig;
use crate::workspace::connector::Auth;

/// What a pull reports as it goes (per source).
#[derive(Debug, Clone)]
pub struct Tick {
    pub source: String,
    /// Responses stored so far (pages, and what a record needed beside it).
    pub requests: u32,
    pub rows: u64,
}

pub type OnTick = Arc<dyn Fn(&Tick) + Send + Sync>;

/// What one source's pull needs: no database, only plain data.
#[derive(Debug, Clone)]
pub struct Job {
    pub root: PathBuf,
    pub source: SourceConfig,
    /// The newest timestamp already loaded or pulled.
    pub newest: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// A pull as it ended, on disk.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub source: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Pulls one source. Err only when not even the failed pull could be
/// written down (the folder could not be made).
pub async fn fetch(job: Job, on_tick: OnTick) -> Result<Fetched, ConnectorError> {
    let started = Instant::now();
    let started_at = job.now;
    let pull_id = new_pull_id(started_at);
    let source = job.source.name.clone();
    let mut writer = PullWriter::create(&job.root, &source, &pull_id)?;
    let mut state = State {
        tick: Tick { source: source.clone(), requests: 0, rows: 0 },
        on_tick,
        total: None,
        pulled: 0,
        newest: None,
    };
    let planned = plan(&job.source, job.newest, job.now);
    let (since, until) = planned.as_ref().map(|p| (p.since, p.until)).unwrap_or_default();
    let mut secrets = Secrets::default();
    let outcome = match planned {
        Ok(plan) => run(&job, &plan, &mut writer, &mut state, &mut secrets).await,
        Err(e) => Err(e),
    };
    let outcome = outcome.and_then(|()| match state.total {
        Some(total) if total != state.pulled => {
            Err(ConnectorError::TotalMismatch { reported: total, pulled: state.pulled })
        }
        _ => Ok(()),
    });
    let error = outcome.err().map(|e| secrets.scrub(&e.to_string()));
    let manifest = Manifest {
        pull_id,
        source: source.clone(),
        format: job.source.format.as_str().to_string(),
        status: if error.is_none() { "complete" } else { "failed" }.into(),
        started_at,
        finished_at: started_at + chrono::Duration::from_std(started.elapsed()).unwrap_or_default(),
        millis: started.elapsed().as_millis() as u64,
        since,
        until,
        exchanges: Vec::new(),
        records: Default::default(),
        total_reported: state.total,
        pulled: state.pulled,
        newest: state.newest,
        error,
    };
    let (manifest, dir) = writer.finish(manifest)?;
    if manifest.succeeded()
        && let Some(newest) = manifest.newest
    {
        super::store::remember_waiting(&job.root, &source, newest)?;
    }
    Ok(Fetched { source, dir, manifest })
}

struct State {
    tick: Tick,
    on_tick: OnTick,
    total: Option<u64>,
    pulled: u64,
    newest: Option<DateTime<Utc>>,
}

async fn run(
    job: &Job,
    plan: &Plan,
    writer: &mut PullWriter,
    state: &mut State,
    secrets: &mut Secrets,
) -> Result<(), ConnectorError> {
    let spec = job.source.connector.as_ref().ok_or_else(|| ConnectorError::NotAConnector(job.source.name.clone()))?;
    let mut headers: Vec<(String, String, bool)> =
        plan.headers.iter().map(|(k, v)| (k.clone(), v.clone(), false)).collect();
    if let Some(auth) = &spec.auth {
        headers.push(auth_header(job, auth, plan.auth_header, secrets)?);
    }
    let http = Http::new(spec, headers, secrets.clone())?;
    for series in &plan.series {
        walk(job, &http, series, plan.snapshot, writer, state).await?;
    }
    Ok(())
}

/// The credential as a header, marked sensitive; its value joins the
/// secrets every stored text is scrubbed of.
fn auth_header(
    job: &Job,
    auth: &Auth,
    preset: (&'static str, Option<&'static str>),
    secrets: &mut Secrets,
) -> Result<(String, String, bool), ConnectorError> {
    let name = &job.source.name;
    match auth {
        Auth::Header { header, scheme, token } => {
            let token = secret::read(&job.root, name, token)?;
            secrets.push(&token);
            let header = if header.is_empty() { preset.0.to_string() } else { header.clone() };
            let scheme = scheme.as_deref().or(preset.1);
            let value = match scheme {
                // PagerDuty's `Token token=…` joins without a space.
                Some(s) if s.ends_with('=') => format!("{s}{}", token.expose()),
                Some(s) => format!("{s} {}", token.expose()),
                None => token.expose().to_string(),
            };
            Ok((header, value, true))
        }
        Auth::Basic { username, password } => {
            let user = secret::read(&job.root, name, username)?;
            let pass = secret::read(&job.root, name, password)?;
            secrets.push(&pass);
            let encoded = base64(format!("{}:{}", user.expose(), pass.expose()).as_bytes());
            let encoded_secret = secret::Secret::from_derived(encoded.clone());
            secrets.push(&encoded_secret);
            Ok(("Authorization".into(), format!("Basic {encoded}"), true))
        }
    }
}

async fn walk(
    job: &Job,
    http: &Http,
    series: &Series,
    snapshot: bool,
    writer: &mut PullWriter,
    state: &mut State,
) -> Result<(), ConnectorError> {
    let spec = job.source.connector.as_ref().ok_or_else(|| ConnectorError::NotAConnector(job.source.name.clone()))?;
    let mut pages = Pages::new(&series.paginate, &series.url, spec.max_pages);
    let mut next = Some(series.url.clone());
    let mut first = true;
    while let Some(url) = next.take() {
        let shown = http.secrets.scrub(url.as_str());
        pages.enter(&url, &shown)?;
        let page = http.get(&url).await?;
        let (stored, redacted) = received(http, &page);
        let body = parse_json(&page, &stored)?;
        if snapshot {
            writer.exchange(&page, &stored, redacted, None)?;
            let row = serde_json::json!({
                "taken_at": super::plan::rfc3339(job.now), "url": page.url, "status": page.status,
                "sha256": writer.exchanges.last().map(|e| e.sha256.clone()), "body": String::from_utf8_lossy(&stored),
            });
            observe(state, &job.source.timestamp, &row);
            writer.row(&row)?;
            state.pulled += 1;
            tick(state, writer);
            return Ok(());
        }
        let items = records::records(&body, &series.records)
            .map_err(|detail| ConnectorError::Shape { url: page.url.clone(), detail })?;
        writer.exchange(&page, &stored, redacted, Some(items.len() as u64))?;
        if first {
            if let Some(field) = &series.total_field {
                match records::at(&body, field) {
                    Some(Value::Number(n)) if n.as_u64().is_some() => {
                        *state.total.get_or_insert(0) += n.as_u64().unwrap_or_default();
                    }
                    None | Some(Value::Null) => {}
                    Some(other) => {
                        return Err(ConnectorError::Shape {
                            url: page.url.clone(),
                            detail: format!("`{field}` is {}, not a count", records::kind(other)),
                        });
                    }
                }
            }
            first = false;
        }
        state.pulled += items.len() as u64;
        let mut older = false;
        for item in items {
            if let Some((field, bound)) = &series.stop_older
                && timestamp(records::at(item, field)).is_some_and(|t| t < *bound)
            {
                older = true;
            }
            if let Some((field, bound)) = &series.keep_since {
                match timestamp(records::at(item, field)) {
                    None => continue,
                    Some(t) if bound.is_some_and(|b| t < b) => continue,
                    Some(_) => {}
                }
            }
            let mut row = records::project(item, &series.fields);
            if let Value::Object(map) = &mut row {
                for (column, value) in &series.context {
                    map.insert(column.clone(), value.clone());
                }
            }
            enrich(http, &series.enrich, item, &mut row, writer).await?;
            observe(state, &job.source.timestamp, &row);
            writer.row(&row)?;
        }
        tick(state, writer);
        next = if older { None } else { pages.next(&url, &page, &body, items.len())? };
    }
    Ok(())
}

fn tick(state: &mut State, writer: &PullWriter) {
    state.tick.requests = writer.exchanges.len() as u32;
    state.tick.rows = writer.rows;
    (state.on_tick)(&state.tick);
}

/// Keeps the newest timestamp the rows carry, for the next incremental pull.
fn observe(state: &mut State, column: &str, row: &Value) {
    if let Some(t) = timestamp(row.get(column)) {
        state.newest = Some(state.newest.map_or(t, |n| n.max(t)));
    }
}

/// A record's timestamp: RFC 3339, or `YYYY-MM-DD HH:MM:SS` as UTC.
pub fn timestamp(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, pattern) {
            return Some(t.and_utc());
        }
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|t| t.with_timezone(&Utc))
}

/// The body as it is kept and read: any echoed secret already `***`.
fn received(http: &Http, page: &Page) -> (Vec<u8>, bool) {
    match http.secrets.scrub_bytes(&page.body) {
        Some(clean) => (clean, true),
        None => (page.body.clone(), false),
    }
}

fn parse_json(page: &Page, body: &[u8]) -> Result<Value, ConnectorError> {
    serde_json::from_slice(body).map_err(|e| {
        let detail = if e.is_eof() {
            format!("the body ends mid-JSON after {} bytes (a truncated response)", body.len())
        } else {
            format!("the body is not JSON (line {}, column {}: {e})", e.line(), e.column())
        };
        ConnectorError::NotJson { url: page.url.clone(), detail }
    })
}

/// Fetches what a record needs beside it, each response stored too.
async fn enrich(
    http: &Http,
    how: &Enrich,
    item: &Value,
    row: &mut Value,
    writer: &mut PullWriter,
) -> Result<(), ConnectorError> {
    let Value::Object(map) = row else { return Ok(()) };
    match how {
        Enrich::None => Ok(()),
        Enrich::GithubPull { base, repo } => {
            let number = records::text(records::at(item, "number")).unwrap_or_default();
            let detail = fetch_one(http, &format!("{base}/repos/{repo}/pulls/{number}"), writer).await?;
            map.insert("merged_by".into(), records::at(&detail, "merged_by.login").cloned().unwrap_or(Value::Null));
            let mut reviews = Vec::new();
            let first = parse_url(&format!("{base}/repos/{repo}/pulls/{number}/reviews?per_page=100"))?;
            let mut walk =
                Pages::new(&crate::workspace::connector::Paginate::Link { rel: "next".into() }, &first, 1000);
            let mut next = Some(first);
            while let Some(url) = next.take() {
                walk.enter(&url, &http.secrets.scrub(url.as_str()))?;
                let page = http.get(&url).await?;
                let (stored, redacted) = received(http, &page);
                let body = parse_json(&page, &stored)?;
                let items = records::records(&body, "")
                    .map_err(|detail| ConnectorError::Shape { url: page.url.clone(), detail })?;
                writer.exchange(&page, &stored, redacted, Some(items.len() as u64))?;
                for review in items {
                    reviews.push(serde_json::json!({
                        "reviewer": records::at(review, "user.login"),
                        "state": records::at(review, "state"),
                        "submitted_at": records::at(review, "submitted_at"),
                    }));
                }
                next = walk.next(&url, &page, &body, items.len())?;
            }
            map.insert("reviews".into(), Value::Array(reviews));
            Ok(())
        }
        Enrich::GitlabApprovals { base, project } => {
            let iid = records::text(records::at(item, "iid")).unwrap_or_default();
            let body =
                fetch_one(http, &format!("{base}/api/v4/projects/{project}/merge_requests/{iid}/approvals"), writer)
                    .await?;
            let approvers: Vec<Value> = records::at(&body, "approved_by")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| records::at(x, "user.username").cloned()).collect())
                .unwrap_or_default();
            map.insert("approved_by".into(), Value::Array(approvers));
            Ok(())
        }
    }
}

async fn fetch_one(http: &Http, url: &str, writer: &mut PullWriter) -> Result<Value, ConnectorError> {
    let page = http.get(&parse_url(url)?).await?;
    let (stored, redacted) = received(http, &page);
    let body = parse_json(&page, &stored)?;
    writer.exchange(&page, &stored, redacted, None)?;
    Ok(body)
}

fn parse_url(text: &str) -> Result<Url, ConnectorError> {
    Url::parse(text).map_err(|e| ConnectorError::Client(format!("`{text}` is not a URL: {e}")))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encodes_as_rfc_4648() {
        assert_eq!(base64(b"ana@example.com:tok"), "YW5hQGV4YW1wbGUuY29tOnRvaw==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn timestamps_in_the_shapes_apis_send() {
        let t = |s: &str| timestamp(Some(&Value::String(s.into()))).map(|t| t.to_rfc3339());
        assert_eq!(t("2026-08-03T10:00:00Z").unwrap(), "2026-08-03T10:00:00+00:00");
        assert_eq!(t("2026-08-03T12:00:00.000+0200").unwrap(), "2026-08-03T10:00:00+00:00");
        assert_eq!(t("2026-08-03 10:00:00").unwrap(), "2026-08-03T10:00:00+00:00");
        assert_eq!(t("yesterday"), None);
    }
}
