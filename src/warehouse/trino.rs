//! Trino through its REST protocol (the one its CLI and JDBC driver
//! speak): `POST /v1/statement` with the SQL, then `GET` each `nextUri`
//! until there is none, every page's `data` streamed to the caller as it
//! arrives; `DELETE` of the `nextUri` cancels a query (on a timeout, or when
//! the caller stops reading). Every session runs in UTC with the server
//! told to stop a query past the warehouse's `timeout` as well.
//!
//! Trino has no snapshot across statements for most connectors: the steps
//! of one session are separate queries. What the draw checks between them
//! (the count against the keys streamed, each drawn row re-rendered) is
//! what catches a table written during a draw.
//!
//! The network side runs on a tokio runtime of its own thread; the caller
//! (the workspace's database thread) only reads the rows it hands over.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::mpsc;

use super::{Step, WarehouseError};

/// A Trino session's settings, parsed from its URL.
#[derive(Clone)]
pub struct Trino {
    /// `scheme://host:port`, where `/v1/statement` is.
    base: reqwest::Url,
    user: String,
    password: Option<String>,
    token: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    pub timeout: Duration,
    pub warehouse: String,
    /// Cancels its query (`DELETE` of the `nextUri`) when requested.
    pub cancel: super::Cancel,
}

impl std::fmt::Debug for Trino {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trino").field("warehouse", &self.warehouse).finish_non_exhaustive()
    }
}

/// One page of a query's results (only the fields read here).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryResults {
    next_uri: Option<String>,
    columns: Option<Vec<Column>>,
    data: Option<Vec<Vec<Json>>>,
    error: Option<QueryError>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryError {
    message: Option<String>,
    error_name: Option<String>,
    error_location: Option<ErrorLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLocation {
    line_number: Option<u64>,
    column_number: Option<u64>,
}

impl QueryError {
    fn describe(&self) -> String {
        let message = self.message.clone().unwrap_or_else(|| "the query failed".into());
        let name = self.error_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        // Trino's messages usually begin with "line L:C:" already.
        match &self.error_location {
            Some(ErrorLocation { line_number: Some(line), column_number: Some(column) })
                if !message.starts_with("line ") =>
            {
                format!("line {line}:{column}: {message}{name}")
            }
            _ => format!("{message}{name}"),
        }
    }
}

/// What the network side hands the caller.
enum Event {
    Row(Vec<Option<String>>),
    Ended,
}

/// Why a statement stopped: the engine refused its SQL, or anything else.
enum Stop {
    Query(String),
    Other(WarehouseError),
}

impl From<WarehouseError> for Stop {
    fn from(e: WarehouseError) -> Self {
        Self::Other(e)
    }
}

/// Transient answers a client retries (the protocol asks for it on 503).
const RETRIED: [u16; 4] = [429, 502, 503, 504];
const RETRIES: u32 = 5;

impl Trino {
    /// Parses `https://user[:password]@host:port/catalog/schema`, or with
    /// `?access_token=…` (a bearer token) instead of a password; `env`
    /// names the variable it came from, for messages (which never show it).
    pub fn from_url(warehouse: &str, env: &str, text: &str, timeout: Duration) -> Result<Self, WarehouseError> {
        let bad = |why: &str| WarehouseError::Url { warehouse: warehouse.into(), env: env.into(), why: why.into() };
        let url = reqwest::Url::parse(text.trim())
            .map_err(|e| bad(&format!("{e} (expected https://user@host:port/catalog/schema)")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("a Trino URL starts with https:// (or http:// for a server without TLS)"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("it names no host"));
        }
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let user = decode(url.username()).unwrap_or_default();
        if user.is_empty() {
            return Err(bad("it names no user (https://user@host/…): Trino requires one"));
        }
        let password = url.password().and_then(decode).filter(|p| !p.is_empty());
        let mut token = None;
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "access_token" if !value.is_empty() => token = Some(value.into_owned()),
                other => return Err(bad(&format!("unknown parameter `{other}` (known: access_token)"))),
            }
        }
        if password.is_some() && token.is_some() {
            return Err(bad("give a password or an access_token, not both"));
        }
        let mut path = url.path_segments().into_iter().flatten().filter(|p| !p.is_empty()).map(decode);
        let (catalog, schema) = (path.next().flatten(), path.next().flatten());
        if path.next().is_some() {
            return Err(bad("its path is /catalog/schema, no more"));
        }
        let mut base = url.clone();
        base.set_path("");
        base.set_query(None);
        base.set_fragment(None);
        let _ = base.set_username("");
        let _ = base.set_password(None);
        Ok(Self {
            base,
            user,
            password,
            token,
            catalog,
            schema,
            timeout,
            warehouse: warehouse.to_string(),
            cancel: super::Cancel::default(),
        })
    }

    /// Runs `steps` one after the other; `each(result, fields)` is called
    /// for every row of step `i` in order, `ended(i)` as soon as its last
    /// row is in.
    pub fn run_marked(
        &self,
        steps: &[Step],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        ended: &mut dyn FnMut(usize),
    ) -> Result<(), WarehouseError> {
        let statements: Vec<(String, bool)> = steps
            .iter()
            .map(|step| match step {
                Step::Rows(sql) => (sql.clone(), false),
                Step::Describe(sql) => (format!("SELECT * FROM ({sql}) AS described LIMIT 0"), true),
            })
            .collect();
        match self.execute(&statements, each, ended) {
            Ok(()) => Ok(()),
            Err(Stop::Query(message)) => Err(self.failed(&message)),
            Err(Stop::Other(e)) => Err(e),
        }
    }

    /// Compiles each statement there without running it (`EXPLAIN (TYPE
    /// VALIDATE)`), each on its own: the error of each, None where it compiled.
    pub fn compile(&self, statements: &[String]) -> Result<Vec<Option<String>>, WarehouseError> {
        let mut errors = Vec::with_capacity(statements.len());
        for statement in statements {
            let explain = vec![(super::Dialect::Trino.explain(statement), false)];
            match self.execute(&explain, &mut |_, _| Ok(()), &mut |_| {}) {
                Ok(()) => errors.push(None),
                Err(Stop::Query(message)) => errors.push(Some(self.scrub(&message))),
                Err(Stop::Other(e)) => return Err(e),
            }
        }
        Ok(errors)
    }

    /// The statements on the network thread, their rows handed back here.
    fn execute(
        &self,
        statements: &[(String, bool)],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        ended: &mut dyn FnMut(usize),
    ) -> Result<(), Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Stop::Other(WarehouseError::Io(e)))?;
        let (tx, mut rx) = mpsc::channel::<Event>(4096);
        std::thread::scope(|scope| {
            let network = scope.spawn(move || runtime.block_on(self.statements(statements, tx)));
            let mut step = 0usize;
            let mut failure = None;
            while let Some(event) = rx.blocking_recv() {
                match event {
                    Event::Ended => {
                        ended(step);
                        step += 1;
                    }
                    Event::Row(fields) => {
                        if let Err(e) = each(step, fields) {
                            failure = Some(e);
                            break;
                        }
                    }
                }
            }
            // The network side sees the channel close and cancels its query.
            drop(rx);
            let outcome = network.join().unwrap_or_else(|_| Err(Stop::Other(self.failed("the Trino client stopped"))));
            match failure {
                Some(e) => Err(Stop::Other(e)),
                None => outcome,
            }
        })
    }

    async fn statements(&self, statements: &[(String, bool)], tx: mpsc::Sender<Event>) -> Result<(), Stop> {
        super::install_crypto();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(self.timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("quarterdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| self.failed(&e.to_string()))?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        for (sql, describe) in statements {
            self.statement(&client, sql, *describe, deadline, &tx).await?;
            if tx.send(Event::Ended).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// One query: POST it, follow `nextUri` to the end, hand each row over.
    async fn statement(
        &self,
        client: &reqwest::Client,
        sql: &str,
        describe: bool,
        deadline: tokio::time::Instant,
        tx: &mpsc::Sender<Event>,
    ) -> Result<(), Stop> {
        let url = self.base.join("v1/statement").map_err(|e| self.failed(&e.to_string()))?;
        let started = Instant::now();
        let posted = self.request(deadline, None, || self.headers(client.post(url.clone())).body(sql.to_string()));
        let mut results = tokio::select! {
            answered = posted => answered?,
            () = self.cancel_requested() => return Err(Stop::Other(self.cancelled())),
        };
        let mut described = false;
        loop {
            if let Some(error) = &results.error {
                return Err(Stop::Query(error.describe()));
            }
            if describe
                && !described
                && let Some(columns) = &results.columns
            {
                described = true;
                for column in columns {
                    if tx.send(Event::Row(vec![Some(column.name.clone()), Some(column.kind.clone())])).await.is_err() {
                        self.cancel(client, results.next_uri.as_deref()).await;
                        return Ok(());
                    }
                }
            }
            for row in results.data.take().unwrap_or_default() {
                if tx.send(Event::Row(row.into_iter().map(text).collect())).await.is_err() {
                    self.cancel(client, results.next_uri.as_deref()).await;
                    return Ok(());
                }
            }
            let Some(next) = results.next_uri.take() else { break };
            let next_url = self.follow(&next)?;
            let page = self.request(deadline, Some(&next), || self.headers(client.get(next_url.clone())));
            let answered = tokio::select! {
                answered = page => answered,
                () = self.cancel_requested() => Err(Stop::Other(self.cancelled())),
            };
            results = match answered {
                Ok(results) => results,
                Err(stop) => {
                    self.cancel(client, Some(&next)).await;
                    return Err(stop);
                }
            };
        }
        if describe && !described {
            return Err(Stop::Other(self.failed("Trino described no columns")));
        }
        tracing::debug!(warehouse = %self.warehouse, ms = started.elapsed().as_millis() as u64, "trino query");
        Ok(())
    }

    /// A `nextUri` the server gave: it must stay on the server's origin
    /// (the credentials go with it).
    fn follow(&self, next: &str) -> Result<reqwest::Url, Stop> {
        let url = self.base.join(next).map_err(|e| self.failed(&format!("a nextUri that is not a URL: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(Stop::Other(self.failed("the server sent a nextUri on another host; not followed")));
        }
        Ok(url)
    }

    /// Sends a request until it is answered (retrying what the protocol
    /// says to retry), within `deadline`; the page it answers.
    async fn request(
        &self,
        deadline: tokio::time::Instant,
        next: Option<&str>,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<QueryResults, Stop> {
        let timeout =
            || Stop::Other(WarehouseError::Timeout { warehouse: self.warehouse.clone(), after: self.timeout });
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent = tokio::time::timeout_at(deadline, async {
                let response = build().send().await?;
                let status = response.status().as_u16();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
            .await
            .map_err(|_| timeout())?;
            let (status, body) = match sent {
                Ok(answer) => answer,
                Err(e) if e.is_connect() => {
                    return Err(Stop::Other(self.failed(&format!("cannot reach {}: {}", self.base, chain(&e)))));
                }
                Err(e) => {
                    return Err(Stop::Other(self.failed(&format!("the server's answer broke off: {}", chain(&e)))));
                }
            };
            if status == 200 {
                return serde_json::from_slice(&body).map_err(|e| {
                    Stop::Other(self.failed(&format!("the server's answer is not Trino's query results: {e}")))
                });
            }
            if RETRIED.contains(&status) && attempt <= RETRIES {
                let wait = Duration::from_millis(50 << attempt.min(6));
                if tokio::time::Instant::now() + wait >= deadline {
                    return Err(timeout());
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            let said = String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string();
            let why = match status {
                401 | 403 => format!("the server refused the credentials (HTTP {status})"),
                404 if next.is_some() => format!("the query is gone (HTTP 404 on its nextUri): {said}"),
                _ => format!("HTTP {status}: {said}"),
            };
            return Err(Stop::Other(self.failed(&why)));
        }
    }

    fn cancelled(&self) -> WarehouseError {
        WarehouseError::Cancelled { warehouse: self.warehouse.clone() }
    }

    /// Resolves once the session's [`super::Cancel`] is requested.
    async fn cancel_requested(&self) {
        while !self.cancel.requested() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Cancels a query that is still running (best effort, briefly).
    async fn cancel(&self, client: &reqwest::Client, next: Option<&str>) {
        let Some(url) = next.and_then(|n| self.follow(n).ok()) else { return };
        let request = self.headers(client.delete(url)).send();
        let _ = tokio::time::timeout(Duration::from_secs(5), request).await;
    }

    fn headers(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut request = request
            .header("X-Trino-User", &self.user)
            .header("X-Trino-Source", "quarterdeck")
            .header("X-Trino-Time-Zone", "UTC")
            .header("X-Trino-Session", format!("query_max_run_time={}s", self.timeout.as_secs().max(1)));
        if let Some(catalog) = &self.catalog {
            request = request.header("X-Trino-Catalog", catalog);
        }
        if let Some(schema) = &self.schema {
            request = request.header("X-Trino-Schema", schema);
        }
        match (&self.password, &self.token) {
            (Some(password), _) => request.basic_auth(&self.user, Some(password)),
            (None, Some(token)) => request.bearer_auth(token),
            (None, None) => request,
        }
    }

    fn failed(&self, why: &str) -> WarehouseError {
        WarehouseError::Failed { warehouse: self.warehouse.clone(), message: self.scrub(why) }
    }

    /// The server's message without the password or token, on few lines.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.trim().to_string();
        for secret in [&self.password, &self.token].into_iter().flatten() {
            text = text.replace(secret.as_str(), "***");
        }
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(6).collect();
        crate::text::visible(&lines.join(" / "))
    }
}

/// A reqwest error and its causes, in one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A value of Trino's JSON results as the engine's text: NULL stays None;
/// booleans as `t`/`f`, as psql's COPY text has them, so that both engines'
/// results read alike.
fn text(value: Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s),
        Json::Bool(b) => Some(if b { "t" } else { "f" }.into()),
        Json::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_user_catalog_schema_and_credentials_apart() {
        let t = Trino::from_url("tr", "T", "https://ana:pw%40x@trino.acme:8443/hive/audit", Duration::from_secs(5))
            .unwrap();
        assert_eq!(t.base.as_str(), "https://trino.acme:8443/");
        assert_eq!((t.user.as_str(), t.password.as_deref()), ("ana", Some("pw@x")));
        assert_eq!((t.catalog.as_deref(), t.schema.as_deref()), (Some("hive"), Some("audit")));
        let t =
            Trino::from_url("tr", "T", "http://ana@127.0.0.1:8080/?access_token=tok", Duration::from_secs(5)).unwrap();
        assert_eq!((t.token.as_deref(), t.catalog.as_deref()), (Some("tok"), None));
        for bad in ["postgres://a@h/db", "https://h/c", "https://a@h/c/s/x", "https://a@h/c?user=b", "nonsense"] {
            let err = Trino::from_url("tr", "T", bad, Duration::from_secs(5)).unwrap_err().to_string();
            assert!(err.contains("$T"), "{bad}: {err}");
        }
        let err = Trino::from_url("tr", "T", "https://a:pw@h/c?access_token=t", Duration::from_secs(5)).unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
    }

    #[test]
    fn values_read_as_the_engines_text() {
        let row: Vec<Json> = serde_json::from_str(r#"[null, "a\tb", true, false, 42, 1.5, [1, 2]]"#).unwrap();
        let texts: Vec<Option<String>> = row.into_iter().map(text).collect();
        assert_eq!(
            texts,
            vec![
                None,
                Some("a\tb".into()),
                Some("t".into()),
                Some("f".into()),
                Some("42".into()),
                Some("1.5".into()),
                Some("[1,2]".into())
            ]
        );
    }

    #[test]
    fn errors_name_their_line_and_column() {
        let error: QueryError = serde_json::from_str(
            r#"{"message": "Column 'x' cannot be resolved", "errorName": "COLUMN_NOT_FOUND", "errorLocation": {"lineNumber": 1, "columnNumber": 8}}"#,
        )
        .unwrap();
        assert_eq!(error.describe(), "line 1:8: Column 'x' cannot be resolved (COLUMN_NOT_FOUND)");
    }
}
