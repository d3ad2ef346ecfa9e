//! From one page to the next, in each style the APIs use, with the guards
//! against an API that never stops: a page cap, a set of URLs already
//! fetched, and no page on another host (it would receive the token).

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::ConnectorError;
use super::client::Page;
use super::records;
use crate::workspace::connector::Paginate;

/// The walk through one series of pages.
pub struct Pages {
    style: Paginate,
    origin: url::Origin,
    visited: HashSet<String>,
    max_pages: u32,
    fetched: u32,
    page: u64,
    offset: u64,
}

impl Pages {
    pub fn new(style: &Paginate, first: &Url, max_pages: u32) -> Self {
        let page = match style {
            Paginate::Page { start, .. } => *start,
            _ => 0,
        };
        Self {
            style: style.clone(),
            origin: first.origin(),
            visited: HashSet::new(),
            max_pages,
            fetched: 0,
            page,
            offset: 0,
        }
    }

    /// Marks `url` as about to be fetched; refuses a loop or a page past the cap.
    pub fn enter(&mut self, url: &Url, shown: &str) -> Result<(), ConnectorError> {
        if url.origin() != self.origin {
            return Err(ConnectorError::Pagination {
                url: shown.to_string(),
                detail: "the next page is on another host; it is not fetched (it would receive the credentials)".into(),
            });
        }
        if !self.visited.insert(url.as_str().to_string()) {
            return Err(ConnectorError::Pagination {
                url: shown.to_string(),
                detail: "the API sent back a page already fetched (a pagination loop)".into(),
            });
        }
        if self.fetched >= self.max_pages {
            return Err(ConnectorError::Pagination {
                url: shown.to_string(),
                detail: format!("more than {} pages (max_pages); the pagination does not end", self.max_pages),
            });
        }
        self.fetched += 1;
        Ok(())
    }

    pub fn fetched(&self) -> u32 {
        self.fetched
    }

    /// The next page's URL, or None when this page was the last. An
    /// empty page always ends the series.
    pub fn next(
        &mut self,
        current: &Url,
        page: &Page,
        body: &Value,
        count: usize,
    ) -> Result<Option<Url>, ConnectorError> {
        let bad = |detail: String| ConnectorError::Pagination { url: page.url.clone(), detail };
        if count == 0 {
            return Ok(None);
        }
        match &self.style {
            Paginate::None => Ok(None),
            Paginate::Link { rel } => match page.header("link").and_then(|h| link_target(h, rel)) {
                Some(target) => current.join(&target).map(Some).map_err(|e| bad(format!("Link `{target}`: {e}"))),
                None => Ok(None),
            },
            Paginate::Cursor { field, param, last_field } => {
                if let Some(last) = last_field
                    && records::at(body, last) == Some(&Value::Bool(true))
                {
                    return Ok(None);
                }
                Ok(records::text(records::at(body, field)).map(|cursor| with_param(current, param, &cursor)))
            }
            Paginate::NextUrl { field } => match records::at(body, field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => current.join(s).map(Some).map_err(|e| bad(format!("`{field}` = `{s}`: {e}"))),
                Some(other) => Err(bad(format!("`{field}` is {}, not a URL", records::kind(other)))),
            },
            Paginate::Page { param, .. } => {
                self.page += 1;
                Ok(Some(with_param(current, param, &self.page.to_string())))
            }
            Paginate::Offset { param, more_field } => {
                if let Some(more) = more_field {
                    match records::at(body, more) {
                        Some(Value::Bool(true)) => {}
                        Some(Value::Bool(false)) | None | Some(Value::Null) => return Ok(None),
                        Some(other) => {
                            return Err(bad(format!("`{more}` is {}, not true or false", records::kind(other))));
                        }
                    }
                }
                self.offset += count as u64;
                Ok(Some(with_param(current, param, &self.offset.to_string())))
            }
        }
    }
}

/// `url` with `param` set to `value` (replacing any it had).
pub fn with_param(url: &Url, param: &str, value: &str) -> Url {
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != param).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut next = url.clone();
    {
        let mut pairs = next.query_pairs_mut();
        pairs.clear();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        pairs.append_pair(param, value);
    }
    next
}

/// The target of the link with relation `rel` in an RFC 8288 `Link`
/// header (relations may be listed: `rel="next last"`), wherever it sits.
pub fn link_target(header: &str, rel: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = next_link_start(after).unwrap_or(after.len());
        let params = &after[..params_end];
        for param in params.split(';') {
            let Some((name, value)) = param.split_once('=') else { continue };
            if name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
            {
                return Some(target.to_string());
            }
        }
        rest = &after[params_end..];
    }
    None
}

/// Where the next `<…>` link begins after a link's parameters (outside quotes).
fn next_link_start(s: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_wherever_it_sits_in_the_link_header() {
        // GitHub's later pages list rel="prev" before rel="next".
        let h = r#"<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", <https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last""#;
        assert_eq!(
            link_target(h, "next").unwrap(),
            "https://api.github.com/repositories/1000/issues?per_page=3&page=3"
        );
        assert_eq!(
            link_target(h, "last").unwrap(),
            "https://api.github.com/repositories/1000/issues?per_page=3&page=5"
        );
        assert_eq!(link_target(r#"</p?a=1>; rel="self next""#, "next").unwrap(), "/p?a=1");
        assert_eq!(link_target(r#"<https://x/1>; rel="prev""#, "next"), None);
        assert_eq!(link_target("garbage", "next"), None);
    }

    #[test]
    fn a_param_is_replaced_not_repeated() {
        let u = Url::parse("http://h/p?cursor=a&limit=5").unwrap();
        assert_eq!(with_param(&u, "cursor", "b").as_str(), "http://h/p?limit=5&cursor=b");
    }
}
