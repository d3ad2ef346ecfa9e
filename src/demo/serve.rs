//! `quarterdeck demo --serve`: the demo's pull requests served by a
//! loopback server in GitHub's REST shapes, so a newcomer can watch
//! `quarterdeck pull` work without credentials. The server answers the
//! exact endpoints the `github_pulls` preset calls, with `Link` pagination
//! and GitHub's rate-limit headers; any bearer token is accepted, none is
//! refused silently (no token: 401, as GitHub answers).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::api_server::{Handler, Reply, Request};

/// One demo pull request, as the workspace holds it.
#[derive(Debug, Clone)]
pub struct DemoPull {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    pub created_at: String,
    pub merged_at: Option<String>,
    pub approver: Option<String>,
    pub approved_at: Option<String>,
}

const PER_PAGE: usize = 30;

/// The GitHub-shaped handler over `pulls`; `base` is the server's own URL
/// (for the `Link` headers).
pub fn github(pulls: Vec<DemoPull>, base: Arc<std::sync::OnceLock<String>>) -> Handler {
    let mut by_repo: BTreeMap<String, Vec<DemoPull>> = BTreeMap::new();
    for pull in pulls {
        by_repo.entry(pull.repo.clone()).or_default().push(pull);
    }
    for list in by_repo.values_mut() {
        // `sort=updated&direction=desc`: the newest first.
        list.sort_by(|a, b| updated(b).cmp(updated(a)));
    }
    Arc::new(move |req: &Request| {
        let base = base.get().cloned().unwrap_or_default();
        if !req.header("authorization").is_some_and(|a| a.starts_with("Bearer ") && a.len() > 7) {
            return Reply::json(
                401,
                &json!({"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}),
            );
        }
        let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let reply = match parts.as_slice() {
            ["repos", owner, name, "pulls"] => list(&by_repo, &format!("{owner}/{name}"), req, &base),
            ["repos", owner, name, "pulls", number] => find(&by_repo, owner, name, number).map(detail),
            ["repos", owner, name, "pulls", number, "reviews"] => find(&by_repo, owner, name, number).map(reviews),
            _ => None,
        };
        reply
            .unwrap_or_else(|| Reply::json(404, &json!({"message": "Not Found"})))
            .with_header("x-ratelimit-limit", "5000")
            .with_header("x-ratelimit-remaining", "4999")
            .with_header("x-ratelimit-reset", (chrono::Utc::now().timestamp() + 3600).to_string())
    })
}

fn updated(pull: &DemoPull) -> &str {
    pull.merged_at.as_deref().unwrap_or(&pull.created_at)
}

fn list(by_repo: &BTreeMap<String, Vec<DemoPull>>, repo: &str, req: &Request, base: &str) -> Option<Reply> {
    let pulls = by_repo.get(repo)?;
    let page: usize = req.param("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let pages = pulls.len().div_ceil(PER_PAGE).max(1);
    let items: Vec<Value> = pulls.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).map(summary).collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<{base}/repos/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page={PER_PAGE}&page={p}>; rel=\"{rel}\""
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    let mut reply = Reply::json(200, &Value::Array(items));
    if !links.is_empty() {
        reply = reply.with_header("link", links.join(", "));
    }
    Some(reply)
}

fn find<'a>(
    by_repo: &'a BTreeMap<String, Vec<DemoPull>>,
    owner: &str,
    name: &str,
    number: &str,
) -> Option<&'a DemoPull> {
    let number: u64 = number.parse().ok()?;
    by_repo.get(&format!("{owner}/{name}"))?.iter().find(|p| p.number == number)
}

fn login(email: &str) -> String {
    email.split('@').next().unwrap_or(email).replace('.', "-")
}

fn summary(pull: &DemoPull) -> Value {
    json!({
        "number": pull.number, "state": "closed", "title": pull.title,
        "user": {"login": login(&pull.author)},
        "created_at": pull.created_at, "updated_at": updated(pull), "closed_at": updated(pull),
        "merged_at": pull.merged_at,
        "base": {"ref": "main"}, "head": {"ref": format!("change-{}", pull.number), "sha": format!("{:040x}", pull.number * 2654435761)},
        "html_url": format!("https://github.com/{}/pull/{}", pull.repo, pull.number),
    })
}

fn detail(pull: &DemoPull) -> Reply {
    let mut body = summary(pull);
    body["merged"] = json!(pull.merged_at.is_some());
    // Whoever approved merged it (the demo's practice).
    body["merged_by"] = match (&pull.merged_at, &pull.approver) {
        (Some(_), Some(approver)) => json!({"login": login(approver)}),
        (Some(_), None) => json!({"login": login(&pull.author)}),
        _ => Value::Null,
    };
    Reply::json(200, &body)
}

fn reviews(pull: &DemoPull) -> Reply {
    let list = match (&pull.approver, &pull.approved_at) {
        (Some(approver), Some(at)) => {
            json!([{"id": pull.number, "user": {"login": login(approver)}, "state": "APPROVED", "submitted_at": at}])
        }
        _ => json!([]),
    };
    Reply::json(200, &list)
}
