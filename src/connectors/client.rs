//! One HTTP GET, made robust: connect and overall timeouts; retries with
//! exponential backoff and jitter on timeouts, connection errors, cut
//! bodies and 5xx; rate limits honoured from `Retry-After` or the API's
//! rate-limit headers. Secrets go in sensitive headers and never come back
//! out: what is kept of a response is scrubbed.

use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::ConnectorError;
use super::secret::Secrets;
use crate::workspace::connector::ConnectorSpec;

/// The largest page body accepted.
pub const MAX_BODY: usize = 256 << 20;

/// Response headers kept with a stored page; none can carry a credential.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "date",
    "etag",
    "link",
    "retry-after",
    "x-total-count",
    "x-total",
    "x-next-page",
    "x-page",
    "x-per-page",
    "x-request-id",
    "x-github-request-id",
    "request-id",
];
const KEPT_PREFIXES: &[&str] = &["x-ratelimit-", "x-rate-limit-", "ratelimit-"];

/// How hard to try.
#[derive(Debug, Clone)]
pub struct Policy {
    pub retries: u32,
    pub backoff: Duration,
    pub rate_limit_wait: Duration,
    pub max_wait: Duration,
}

impl Policy {
    pub fn of(spec: &ConnectorSpec) -> Self {
        Self {
            retries: spec.retries,
            backoff: spec.backoff,
            rate_limit_wait: spec.rate_limit_wait,
            max_wait: spec.max_wait,
        }
    }
}

/// A page as received: status, the kept headers, the body.
#[derive(Debug)]
pub struct Page {
    /// The URL, scrubbed of secrets.
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Attempts it took (1 = first time).
    pub attempts: u32,
    pub elapsed: Duration,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A client for one source: its timeouts, its headers (auth marked
/// sensitive), its secrets to scrub.
pub struct Http {
    client: reqwest::Client,
    headers: HeaderMap,
    pub secrets: Secrets,
    policy: Policy,
}

impl Http {
    pub fn new(
        spec: &ConnectorSpec,
        headers: Vec<(String, String, bool)>,
        secrets: Secrets,
    ) -> Result<Self, ConnectorError> {
        install_crypto();
        let same_origin = reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().map(Url::origin);
            if attempt.previous().len() > 5 || first.as_ref() != Some(&attempt.url().origin()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(spec.connect_timeout)
            .timeout(spec.timeout)
            .redirect(same_origin)
            .user_agent(concat!("quarterdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Client(secrets.scrub(&e.to_string())))?;
        let mut map = HeaderMap::new();
        for (name, value, sensitive) in headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConnectorError::Client(format!("`{name}` is not a header name")))?;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| ConnectorError::Client(format!("header `{name}`: the value is not valid in a header")))?;
            value.set_sensitive(sensitive);
            map.insert(header, value);
        }
        Ok(Self { client, headers: map, secrets, policy: Policy::of(spec) })
    }

    /// GETs `url`, retrying what can be retried, waiting out rate limits.
    pub async fn get(&self, url: &Url) -> Result<Page, ConnectorError> {
        let started = Instant::now();
        let shown = self.secrets.scrub(url.as_str());
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(self.policy.backoff)
            .with_max_delay(self.policy.backoff.saturating_mul(64))
            .with_jitter()
            .with_max_times(self.policy.retries as usize)
            .build();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let outcome = self.attempt(url).await;
            let retry_after = match outcome {
                Ok((status, headers, body)) if (200..300).contains(&status) => {
                    return Ok(Page {
                        url: shown,
                        status,
                        headers: self.kept(&headers),
                        body,
                        attempts,
                        elapsed: started.elapsed(),
                    });
                }
                Ok((401, _, body)) => {
                    return Err(ConnectorError::Unauthorized { url: shown, detail: self.snippet(&body) });
                }
                Ok((status @ (403 | 429), headers, body)) => match rate_limit_wait(status, &headers, &body) {
                    Some(wait) => Some((wait.unwrap_or(self.policy.rate_limit_wait), status, body)),
                    None => {
                        return Err(ConnectorError::Status { url: shown, status, detail: self.snippet(&body) });
                    }
                },
                Ok((status, _, body)) if status >= 500 => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(url = %shown, status, ?delay, "server error; retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => {
                        return Err(ConnectorError::Status { url: shown, status, detail: self.snippet(&body) });
                    }
                },
                Ok((status, _, body)) => {
                    return Err(ConnectorError::Status { url: shown, status, detail: self.snippet(&body) });
                }
                Err(failure) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(url = %shown, error = %self.secrets.scrub(&failure.to_string()), ?delay, "retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => return Err(failure.into_error(shown, attempts, &self.secrets)),
                },
            };
            if let Some((wait, status, body)) = retry_after {
                if wait > self.policy.max_wait {
                    return Err(ConnectorError::RateLimited {
                        url: shown,
                        status,
                        wait_secs: wait.as_secs(),
                        detail: self.snippet(&body),
                    });
                }
                if attempts > self.policy.retries {
                    return Err(ConnectorError::RateLimited {
                        url: shown,
                        status,
                        wait_secs: wait.as_secs(),
                        detail: format!("still limited after {attempts} attempts"),
                    });
                }
                tracing::warn!(url = %shown, status, ?wait, "rate limited; waiting");
                tokio::time::sleep(wait).await;
            }
        }
    }

    async fn attempt(&self, url: &Url) -> Result<(u16, HeaderMap, Vec<u8>), Failure> {
        let mut response =
            self.client.get(url.clone()).headers(self.headers.clone()).send().await.map_err(Failure::from)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let expected = response.content_length();
        let mut body = Vec::with_capacity(expected.unwrap_or(0).min(MAX_BODY as u64) as usize);
        while let Some(chunk) = response.chunk().await.map_err(Failure::from)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(expected) = expected
            && expected != body.len() as u64
        {
            return Err(Failure::Cut { expected, got: body.len() as u64 });
        }
        Ok((status, headers, body))
    }

    fn kept(&self, headers: &HeaderMap) -> Vec<(String, String)> {
        let mut kept: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| {
                let name = name.as_str();
                KEPT_HEADERS.contains(&name) || KEPT_PREFIXES.iter().any(|p| name.starts_with(p))
            })
            .filter_map(|(name, value)| Some((name.as_str().to_string(), self.secrets.scrub(value.to_str().ok()?))))
            .collect();
        kept.sort();
        kept
    }

    /// The start of a body, for a message: scrubbed, one line, printable.
    fn snippet(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
        let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        self.secrets.scrub(text.split_whitespace().collect::<Vec<_>>().join(" ").as_str())
    }
}

/// What went wrong with one attempt before a status could be judged.
#[derive(Debug)]
enum Failure {
    Timeout,
    Connect(String),
    Body(String),
    Cut { expected: u64, got: u64 },
    TooLarge,
    Other(String),
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        let text = without_url(&e);
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_connect() {
            Self::Connect(text)
        } else if e.is_body() || e.is_decode() || text.contains("before message completed") {
            Self::Body(text)
        } else {
            Self::Other(text)
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out"),
            Self::Connect(e) => write!(f, "cannot connect: {e}"),
            Self::Body(e) => write!(f, "the body was cut off: {e}"),
            Self::Cut { expected, got } => write!(f, "the body was cut off: {got} of {expected} bytes"),
            Self::TooLarge => write!(f, "the page is larger than {} MB", MAX_BODY >> 20),
            Self::Other(e) => f.write_str(e),
        }
    }
}

impl Failure {
    fn into_error(self, url: String, attempts: u32, secrets: &Secrets) -> ConnectorError {
        let why = secrets.scrub(&self.to_string());
        match self {
            Self::Timeout => ConnectorError::Timeout { url, attempts },
            Self::Body(_) | Self::Cut { .. } => ConnectorError::Truncated { url, detail: why },
            _ => ConnectorError::Network { url, attempts, detail: why },
        }
    }
}

/// reqwest's message without the URL it appends (the caller names it).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "").replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// How long a 403/429 asks to wait: `Some(Some(d))` a known wait,
/// `Some(None)` limited but silent on when, `None` not a rate limit.
fn rate_limit_wait(status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Option<Duration>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(after) = header("retry-after") {
        return Some(parse_retry_after(after));
    }
    let remaining = ["x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining"]
        .iter()
        .find_map(|n| header(n))
        .and_then(|v| v.parse::<i64>().ok());
    if remaining == Some(0) {
        let reset = ["x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"].iter().find_map(|n| header(n));
        return Some(reset.and_then(parse_reset));
    }
    let says_rate_limit = String::from_utf8_lossy(&body[..body.len().min(2000)]).to_lowercase().contains("rate limit");
    (status == 429 || says_rate_limit).then_some(None)
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default())
}

/// A rate-limit reset: epoch seconds or milliseconds, seconds to wait, or
/// an ISO-8601 time.
pub fn parse_reset(value: &str) -> Option<Duration> {
    let now = chrono::Utc::now();
    if let Ok(n) = value.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let epoch_secs = if n > 1e12 {
            n / 1000.0
        } else if n > 1e9 {
            n
        } else {
            return Some(Duration::from_secs_f64(n));
        };
        let wait = epoch_secs - now.timestamp_millis() as f64 / 1000.0;
        return Some(Duration::from_secs_f64(wait.max(0.0)));
    }
    let at = chrono::DateTime::parse_from_rfc3339(value).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).to_std().unwrap_or_default())
}

/// rustls's ring provider, once per process (no aws-lc, no OpenSSL).
pub(crate) fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_in_every_shape_the_apis_send() {
        let now = chrono::Utc::now();
        let in_30 = now.timestamp() + 30;
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64().round() as i64);
        assert!(matches!(secs(parse_reset(&in_30.to_string())), Some(29..=30)));
        assert!(matches!(secs(parse_reset(&(in_30 * 1000).to_string())), Some(29..=30)));
        assert_eq!(secs(parse_reset("12")), Some(12));
        let iso = (now + chrono::Duration::seconds(30)).to_rfc3339();
        assert!(matches!(secs(parse_reset(&iso)), Some(29..=30)));
        assert_eq!(secs(parse_reset("1507651200000")), Some(0), "a reset long past waits nothing");
        assert_eq!(parse_reset("soon"), None);
    }

    #[test]
    fn a_forbidden_page_is_a_rate_limit_only_when_it_says_so() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(403, &h, b"{\"message\":\"Resource not accessible\"}"), None);
        assert_eq!(rate_limit_wait(429, &h, b""), Some(None));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("5"));
        assert_eq!(rate_limit_wait(403, &h, b""), Some(Some(Duration::from_secs(5))));
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(rate_limit_wait(429, &h, b""), Some(Some(Duration::from_secs(2))));
    }
}
