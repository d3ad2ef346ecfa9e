//! `quarterdeck pull` against a real HTTP server on 127.0.0.1 that answers
//! in each vendor's shape: every pagination style over three pages, and
//! every fault a pull must survive — after each failure the evidence is as
//! it was and the run log says why. No test's token ever reaches a log,
//! an error, a run record, a stored page or a packet.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quarterdeck::demo::api_server::{Reply, Request, Server};
use serde_json::{Value, json};

use crate::common::{Run, Sandbox};

const TOKEN: &str = "qd-sentinel-9f3a7c41e2";

fn serve(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    Server::start(0, Arc::new(handler)).expect("loopback server")
}

/// A new workspace with `sources` (TOML) appended to its configuration.
fn workspace(sb: &Sandbox, sources: &str) -> PathBuf {
    let ws = sb.path().join("ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    let config = ws.join("quarterdeck.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push('\n');
    text.push_str(sources);
    std::fs::write(&config, text).unwrap();
    ws
}

fn pull(sb: &Sandbox, ws: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--workspace", ws.to_str().unwrap(), "pull"];
    all.extend_from_slice(args);
    sb.command(&all).env("QD_TOKEN", TOKEN).output().expect("run").into()
}

fn rows(sb: &Sandbox, ws: &Path, table: &str) -> Vec<Value> {
    let run = sb.at(ws, &["--format", "json", "query", &format!("SELECT * FROM {table} ORDER BY ALL")]);
    if run.code != 0 {
        return Vec::new();
    }
    run.json().as_array().cloned().unwrap_or_default()
}

fn last_run(sb: &Sandbox, ws: &Path, source: &str) -> Value {
    let all = sb.at(ws, &["--format", "json", "sources"]).ok().json();
    all.as_array().unwrap().iter().find(|s| s["name"] == source).cloned().unwrap()
}

fn source_block(name: &str, url: &str, extra: &str) -> String {
    format!(
        r#"
[[source]]
name = "{name}"
format = "http_json"
url = "{url}"
auth = {{ header = "Authorization", scheme = "SSWS", token_env = "QD_TOKEN" }}
key = ["id"]
timestamp = "at"
fresh_within = "1d"
retries = 2
backoff = "10ms"
rate_limit_wait = "200ms"
timeout = "2s"
{extra}
"#
    )
}

/// Records `from..to` in an API's shape.
fn records(from: usize, to: usize) -> Vec<Value> {
    (from..to).map(|i| json!({"id": format!("e{i:03}"), "at": format!("2026-11-2{}T0{}:00:00Z", i % 5 + 1, i % 9), "actor": {"login": format!("u{i}")}})).collect()
}

/// A fake API's answer to one request, given the server's base URL.
type Responder = Box<dyn Fn(&Request, &str) -> Reply + Send + Sync>;

/// A named fault: the reply that makes it.
type Fault = (&'static str, fn() -> Reply);

#[test]
fn every_pagination_style_walks_three_pages() {
    let styles: Vec<(&str, &str, Responder)> = vec![
        (
            "by_link",
            r#"paginate = { link = "next" }"#,
            Box::new(|req: &Request, base: &str| {
                let page: usize = req.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let mut reply = Reply::json(200, &json!(records((page - 1) * 2, page * 2)));
                if page > 1 {
                    reply = reply.with_header("link", format!("<{base}/a?page={}>; rel=\"prev\"", page - 1));
                }
                if page < 3 {
                    // rel="prev" before rel="next", as GitHub sends on later pages.
                    let prev =
                        if page > 1 { format!("<{base}/a?page={}>; rel=\"prev\", ", page - 1) } else { String::new() };
                    reply.headers.retain(|(k, _)| k != "link");
                    reply = reply.with_header("link", format!("{prev}<{base}/a?page={}>; rel=\"next\"", page + 1));
                }
                reply
            }),
        ),
        (
            "by_cursor",
            r#"records = "data"
paginate = { cursor_field = "meta.next", cursor_param = "cursor" }"#,
            Box::new(|req: &Request, _: &str| {
                let page = match req.param("cursor") {
                    None => 1,
                    Some("c2") => 2,
                    Some(_) => 3,
                };
                let next = if page < 3 { json!(format!("c{}", page + 1)) } else { json!(null) };
                Reply::json(200, &json!({"data": records((page - 1) * 2, page * 2), "meta": {"next": next}}))
            }),
        ),
        (
            "by_next_url",
            r#"records = "value"
paginate = { next_url_field = "@odata.nextLink" }"#,
            Box::new(|req: &Request, base: &str| {
                let page: usize = req.param("skiptoken").and_then(|p| p.parse().ok()).unwrap_or(1);
                let mut body = json!({"value": records((page - 1) * 2, page * 2)});
                if page < 3 {
                    body["@odata.nextLink"] = json!(format!("{base}/a?skiptoken={}", page + 1));
                }
                Reply::json(200, &body)
            }),
        ),
        (
            "by_page",
            r#"paginate = { page_param = "page" }"#,
            Box::new(|req: &Request, _: &str| {
                let page: usize = req.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                Reply::json(200, &json!(if page <= 3 { records((page - 1) * 2, page * 2) } else { vec![] }))
            }),
        ),
        (
            "by_offset",
            r#"records = "incidents"
params = { limit = 2 }
paginate = { offset_param = "offset", more_field = "more" }
total_field = "total""#,
            Box::new(|req: &Request, _: &str| {
                let offset: usize = req.param("offset").and_then(|p| p.parse().ok()).unwrap_or(0);
                Reply::json(
                    200,
                    &json!({"incidents": records(offset, offset + 2), "more": offset + 2 < 6, "total": 6, "offset": offset}),
                )
            }),
        ),
    ];
    for (name, extra, handler) in styles {
        let sb = Sandbox::new();
        let base = Arc::new(std::sync::OnceLock::<String>::new());
        let seen = Arc::clone(&base);
        let server = serve(move |req| handler(req, seen.get().map(String::as_str).unwrap_or("")));
        base.set(server.url()).unwrap();
        let ws = workspace(&sb, &source_block(name, &format!("{}/a", server.url()), extra));
        let run = pull(&sb, &ws, &[]).ok();
        let loaded = rows(&sb, &ws, name);
        assert_eq!(loaded.len(), 6, "{name}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(server.requests().len(), if name == "by_page" { 4 } else { 3 }, "{name}");
        // Every request carried the token, in the header the source named.
        assert!(server.requests().iter().all(|r| r.header("authorization") == Some(&format!("SSWS {TOKEN}"))));
        assert_eq!(last_run(&sb, &ws, name)["last_run_status"], "ok", "{name}");
        // Nested values load as JSON, queryable.
        let login = sb
            .at(
                &ws,
                &["--format", "json", "query", &format!("SELECT actor->>'login' AS l FROM {name} WHERE id = 'e001'")],
            )
            .ok()
            .json();
        assert_eq!(login[0]["l"], "u1", "{name}");
        // A second pull asks from the newest timestamp and loads nothing twice.
        pull(&sb, &ws, &[]).ok();
        assert_eq!(rows(&sb, &ws, name).len(), 6, "{name}");
    }
}

/// A pull that must fail: it names why, the evidence is unchanged, and the
/// run log records the failure.
fn assert_fails_cleanly(extra: &str, handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static, needle: &str) {
    let sb = Sandbox::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fail_now = Arc::clone(&failing);
    // The pull before the fault succeeds, in the shape the source reads.
    let good = if extra.contains(r#"records = "data""#) {
        json!({"data": records(0, 3), "next": null})
    } else if extra.contains(r#"records = "incidents""#) {
        json!({"incidents": records(0, 3), "total": 3})
    } else {
        json!(records(0, 3))
    };
    let server = serve(move |req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        if fail_now.load(Ordering::SeqCst) { handler(req, n) } else { Reply::json(200, &good) }
    });
    let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), extra));
    pull(&sb, &ws, &[]).ok();
    let before = sb.at(&ws, &["--format", "csv", "query", "SELECT * FROM events ORDER BY ALL"]).ok().stdout;
    failing.store(true, Ordering::SeqCst);
    let run = pull(&sb, &ws, &[]);
    assert_eq!(run.code, 6, "{needle}: {}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("events") && (run.stderr.contains(needle) || run.stdout.contains(needle)),
        "{needle}: {}\n{}",
        run.stdout,
        run.stderr
    );
    let after = sb.at(&ws, &["--format", "csv", "query", "SELECT * FROM events ORDER BY ALL"]).ok().stdout;
    assert_eq!(before, after, "{needle}: the evidence changed");
    let status = last_run(&sb, &ws, "events");
    assert_eq!(status["last_run_status"], "failed", "{needle}");
    assert!(status["last_run_error"].as_str().unwrap_or_default().contains(needle), "{needle}: {status}");
    assert_no_token(&ws, &[&run]);
}

#[test]
fn a_500_then_success_is_retried() {
    let sb = Sandbox::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let server = serve(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::raw(500, "text/plain", "boom"),
        _ => Reply::json(200, &json!(records(0, 3))),
    });
    let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), ""));
    pull(&sb, &ws, &[]).ok();
    assert_eq!(rows(&sb, &ws, "events").len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn rate_limits_are_waited_out() {
    // Each limited reply is made when it is asked for: the reset is two
    // seconds after that request.
    let cases: Vec<Fault> = vec![
        ("retry_after", || Reply::raw(429, "application/json", "{}").with_header("retry-after", "1")),
        ("remaining_zero", || {
            Reply::raw(403, "application/json", r#"{"message":"API rate limit exceeded"}"#)
                .with_header("x-ratelimit-remaining", "0")
                .with_header("x-ratelimit-reset", (chrono::Utc::now().timestamp() + 2).to_string())
        }),
        ("remaining_zero_in_millis", || {
            Reply::raw(429, "application/json", "{}")
                .with_header("x-rate-limit-remaining", "0")
                .with_header("x-rate-limit-reset", (chrono::Utc::now().timestamp_millis() + 1500).to_string())
        }),
    ];
    for (name, limited) in cases {
        let sb = Sandbox::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let server = serve(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
            0 => limited(),
            _ => Reply::json(200, &json!(records(0, 3))),
        });
        let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), ""));
        let started = std::time::Instant::now();
        pull(&sb, &ws, &[]).ok();
        assert!(started.elapsed() >= Duration::from_millis(900), "{name}: did not wait");
        assert_eq!(rows(&sb, &ws, "events").len(), 3, "{name}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{name}");
    }
}

#[test]
fn a_link_loop_fails_the_pull() {
    assert_fails_cleanly(
        r#"paginate = { link = "next" }"#,
        |req, _| {
            let page = req.param("page").unwrap_or("1");
            let next = if page == "1" { "2" } else { "1" };
            Reply::json(200, &json!(records(0, 3))).with_header("link", format!("</a?page={next}>; rel=\"next\""))
        },
        "pagination loop",
    );
}

#[test]
fn a_cursor_that_never_ends_hits_the_page_cap() {
    assert_fails_cleanly(
        r#"records = "data"
paginate = { cursor_field = "next", cursor_param = "cursor" }
max_pages = 5"#,
        |_, n| Reply::json(200, &json!({"data": records(0, 3), "next": format!("c{n}")})),
        "more than 5 pages",
    );
}

#[test]
fn a_truncated_body_fails_the_pull() {
    assert_fails_cleanly(
        "",
        |_, _| {
            let mut reply = Reply::json(200, &json!(records(0, 50)));
            reply.cut_at = Some(100);
            reply
        },
        "cut off",
    );
}

#[test]
fn a_body_that_is_not_json_fails_the_pull() {
    assert_fails_cleanly("", |_, _| Reply::raw(200, "text/html", "<html>maintenance</html>"), "not JSON");
}

#[test]
fn a_401_fails_the_pull() {
    assert_fails_cleanly(
        "",
        |_, _| Reply::json(401, &json!({"errorSummary": "Invalid token provided"})),
        "401 Unauthorized",
    );
}

#[test]
fn a_response_slower_than_the_timeout_fails_the_pull() {
    assert_fails_cleanly(
        "",
        |_, _| {
            let mut reply = Reply::json(200, &json!(records(0, 3)));
            reply.delay = Duration::from_secs(4);
            reply
        },
        "timeout",
    );
}

#[test]
fn a_total_that_does_not_match_fails_the_pull() {
    assert_fails_cleanly(
        r#"records = "incidents"
total_field = "total""#,
        |_, _| Reply::json(200, &json!({"incidents": records(0, 3), "total": 10, "more": false})),
        "reported 10 record(s)",
    );
}

#[test]
fn a_token_echoed_by_the_api_is_stored_nowhere() {
    let sb = Sandbox::new();
    let server = serve(|req| {
        let echoed = req.header("authorization").unwrap_or_default().to_string();
        Reply::json(200, &json!([{"id": "e1", "at": "2026-11-25T00:00:00Z", "debug": echoed.clone()}]))
            .with_header("x-echo", echoed)
    });
    let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), ""));
    let run = pull(&sb, &ws, &[]).ok();
    let packet_run = sb.at(&ws, &["sources"]);
    assert_no_token(&ws, &[&run, &packet_run]);
}

/// The sentinel token appears in no output and in no file of the workspace.
fn assert_no_token(ws: &Path, runs: &[&Run]) {
    for run in runs {
        assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN), "token in output");
    }
    let mut stack = vec![ws.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "token in {}", path.display());
            }
        }
    }
}

#[test]
fn a_snapshot_stores_the_configuration_as_a_dated_row_with_its_hash() {
    let sb = Sandbox::new();
    let body = json!({"required_pull_request_reviews": {"required_approving_review_count": 1}, "enforce_admins": {"enabled": true}});
    let served = body.clone();
    let server = serve(move |_| Reply::json(200, &served));
    let ws = workspace(
        &sb,
        &format!(
            r#"
[[source]]
name = "branch_protection"
format = "http_json"
url = "{}/repos/acme/api/branches/main/protection"
token_env = "QD_TOKEN"
mode = "snapshot"
key = ["taken_at"]
timestamp = "taken_at"
fresh_within = "7d"
"#,
            server.url()
        ),
    );
    pull(&sb, &ws, &[]).ok();
    let got = rows(&sb, &ws, "branch_protection");
    assert_eq!(got.len(), 1);
    let stored: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(stored, body);
    use sha2::Digest;
    assert_eq!(got[0]["sha256"], hex::encode(sha2::Sha256::digest(body.to_string().as_bytes())));
    assert!(got[0]["taken_at"].as_str().unwrap().starts_with("2026-11-26 12:00:00"));
}

#[test]
fn pages_fetched_while_another_process_holds_the_workspace_load_later_once() {
    let sb = Sandbox::new();
    let server = serve(|_| Reply::json(200, &json!(records(0, 4))));
    let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), ""));
    // Another process holds the workspace (as the TUI does for hours).
    let held = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
    let mut blocked = sb.command(&["--workspace", ws.to_str().unwrap(), "pull"]);
    let run: Run = blocked.env("QD_TOKEN", TOKEN).output().unwrap().into();
    drop(held);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("held by"), "{}", run.stderr);
    assert!(run.stdout.contains("waiting to load"), "{}", run.stdout);
    let run = pull(&sb, &ws, &["events"]).ok();
    assert_eq!(rows(&sb, &ws, "events").len(), 4, "{}", run.stdout);
    let pulled = crate::common::scalar(&ws, "SELECT count(*) FROM qd.ingest_runs WHERE pull_id IS NOT NULL");
    assert!(pulled.parse::<u32>().unwrap() >= 2, "each pull is recorded: {pulled}");
    let twice = crate::common::scalar(
        &ws,
        "SELECT count(*) FROM (SELECT pull_id FROM qd.ingest_runs WHERE pull_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1)",
    );
    assert_eq!(twice, "0", "a pull loads once");
}

#[test]
fn github_pulls_collects_merged_pull_requests_with_their_reviews() {
    let sb = Sandbox::new();
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = Arc::clone(&base);
    let server = serve(move |req| {
        let base = seen.get().cloned().unwrap_or_default();
        let pr = |n: u64, merged: Option<&str>, updated: &str| {
            json!({"number": n, "title": format!("Change {n}"), "user": {"login": "dev"}, "created_at": "2026-11-01T00:00:00Z",
                   "updated_at": updated, "merged_at": merged, "base": {"ref": "main"}, "head": {"sha": format!("sha{n}")},
                   "html_url": format!("https://github.com/acme/api/pull/{n}")})
        };
        match req.path.as_str() {
            "/repos/acme/api/pulls" => match req.param("page") {
                None => Reply::json(200, &json!([pr(3, Some("2026-11-20T10:00:00Z"), "2026-11-20T10:00:00Z"), pr(2, None, "2026-11-19T00:00:00Z")]))
                    .with_header("link", format!("<{base}/repos/acme/api/pulls?page=2>; rel=\"next\", <{base}/repos/acme/api/pulls?page=2>; rel=\"last\""))
                    .with_header("x-ratelimit-remaining", "4999"),
                Some(_) => Reply::json(200, &json!([pr(1, Some("2026-11-10T09:00:00Z"), "2026-11-10T09:00:00Z")]))
                    .with_header("link", format!("<{base}/repos/acme/api/pulls?page=1>; rel=\"prev\"")),
            },
            path if path.ends_with("/reviews") => Reply::json(200, &json!([
                {"user": {"login": "rev"}, "state": "APPROVED", "submitted_at": "2026-11-20T09:00:00Z"}
            ])),
            path => {
                let n: u64 = path.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                Reply::json(200, &json!({"number": n, "merged_by": {"login": "lead"}}))
            }
        }
    });
    base.set(server.url()).unwrap();
    let ws = workspace(
        &sb,
        &format!(
            r#"
[[source]]
name = "gh_pulls"
format = "github_pulls"
repos = ["acme/api"]
base_url = "{}"
token_env = "QD_TOKEN"
key = ["repo", "number"]
timestamp = "merged_at"
fresh_within = "7d"
"#,
            server.url()
        ),
    );
    pull(&sb, &ws, &[]).ok();
    let got = sb
        .at(&ws, &["--format", "json", "query", "SELECT repo, number, author, merged_by, head_sha, reviews->>'$[0].reviewer' AS reviewer, reviews->>'$[0].state' AS state FROM gh_pulls ORDER BY number"])
        .ok()
        .json();
    assert_eq!(got.as_array().unwrap().len(), 2, "{got}");
    assert_eq!(got[0]["repo"], "acme/api");
    assert_eq!(got[1]["merged_by"], "lead");
    assert_eq!(got[1]["reviewer"], "rev");
    assert_eq!(got[1]["state"], "APPROVED");
    assert!(server.requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

#[test]
fn the_recorded_github_exchange_paginates_through_its_link_headers() {
    let Some(data) = crate::common::shared_data() else { return };
    let recorded: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data.join("github/paginate-issues.json")).unwrap()).unwrap();
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = Arc::clone(&base);
    let server = serve(move |req| {
        let base = seen.get().cloned().unwrap_or_default();
        let Some(found) = recorded.iter().find(|e| e["path"].as_str() == Some(req.target.as_str())) else {
            return Reply::json(404, &json!({"message": "Not Found"}));
        };
        let mut reply = Reply::json(found["status"].as_u64().unwrap_or(200) as u16, &found["response"]);
        for (name, value) in found["headers"].as_object().unwrap() {
            if name == "content-type" || name == "content-length" {
                continue;
            }
            reply =
                reply.with_header(name, value.as_str().unwrap_or_default().replace("https://api.github.com", &base));
        }
        reply
    });
    base.set(server.url()).unwrap();
    let sb = Sandbox::new();
    let ws = workspace(
        &sb,
        &format!(
            r#"
[[source]]
name = "issues"
format = "http_json"
url = "{}/repos/octokit-fixture-org/paginate-issues/issues?per_page=3"
token_env = "QD_TOKEN"
paginate = {{ link = "next" }}
fields = {{ id = "id", number = "number", title = "title", author = "user.login", created_at = "created_at" }}
key = ["id"]
timestamp = "created_at"
"#,
            server.url()
        ),
    );
    pull(&sb, &ws, &[]).ok();
    assert_eq!(rows(&sb, &ws, "issues").len(), 13);
    assert_eq!(server.requests().len(), 5);
}

#[test]
fn the_tui_pulls_in_the_background_and_loads_what_another_process_fetched() {
    if crate::tui::tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    // Each pull finds three events it has not seen before.
    let server = serve(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Reply::json(200, &json!(records(n * 3, n * 3 + 3)))
    });
    let ws = workspace(&sb, &source_block("events", &format!("{}/a", server.url()), ""));
    let command =
        crate::tui::quarterdeck_command_with(&sb, &ws, &[("QD_TOKEN", TOKEN), ("QUARTERDECK_PULL_CHECK", "2")]);
    let tmux = crate::tui::Tmux::start("pull", &sb, &command);
    tmux.wait_for(&["Dashboard"]);
    tmux.send("6");
    tmux.wait_for(&["events"]);
    tmux.send("G");
    tmux.send("P");
    tmux.wait_for(&["Pull events now?"]);
    tmux.send("Enter");
    tmux.wait_for(&["events: pull", "3 row(s) added", "(run 1)"]);
    // Another process pulls while the TUI holds the workspace: it stores
    // the pages, and the TUI loads them on its next look.
    let other = pull(&sb, &ws, &[]);
    assert_eq!(other.code, 0, "{}\n{}", other.stdout, other.stderr);
    assert!(other.stderr.contains("held by"), "{}", other.stderr);
    tmux.wait_for(&["events: pull", "loaded, 3 row(s) added", "(run 2)"]);
    tmux.send("q");
    std::thread::sleep(Duration::from_millis(500));
    drop(tmux);
    assert_eq!(rows(&sb, &ws, "events").len(), 6);
}

/// A workspace with one preset source; the token (and a user name) in the env.
fn preset_pull(sb: &Sandbox, block: &str) -> (PathBuf, Run) {
    let ws = workspace(sb, block);
    let mut all = vec!["--workspace", ws.to_str().unwrap(), "pull"];
    all.push("--jobs");
    all.push("2");
    let run: Run = sb.command(&all).env("QD_TOKEN", TOKEN).env("QD_USER", "ana@acme.example").output().unwrap().into();
    (ws, run.ok())
}

#[test]
fn gitlab_merge_requests_collects_merged_requests_with_their_approvals() {
    let sb = Sandbox::new();
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = Arc::clone(&base);
    let server = serve(move |req| {
        let base = seen.get().cloned().unwrap_or_default();
        let mr = |iid: u64, merged: &str| {
            json!({"id": 1000 + iid, "iid": iid, "title": format!("MR {iid}"), "state": "merged", "author": {"username": "dev"},
                   "created_at": "2026-11-01T00:00:00.000Z", "merged_at": merged, "merge_user": {"username": "lead"},
                   "target_branch": "main", "sha": format!("abc{iid}"), "web_url": format!("https://gitlab.com/acme/api/-/merge_requests/{iid}")})
        };
        assert_eq!(req.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        if req.path.ends_with("/approvals") {
            return Reply::json(
                200,
                &json!({"approved": true, "approved_by": [{"user": {"username": "rev", "name": "Rev"}}]}),
            );
        }
        assert!(req.target.contains("/api/v4/projects/acme%2Fapi/merge_requests"), "{}", req.target);
        assert_eq!(req.param("state"), Some("merged"));
        match req.param("page") {
            None => Reply::json(200, &json!([mr(2, "2026-11-20T10:00:00.000Z")]))
                .with_header(
                    "link",
                    format!("<{base}/api/v4/projects/acme%2Fapi/merge_requests?page=2&state=merged>; rel=\"next\""),
                )
                .with_header("ratelimit-remaining", "1999"),
            Some(_) => Reply::json(200, &json!([mr(1, "2026-11-10T10:00:00.000Z")])),
        }
    });
    base.set(server.url()).unwrap();
    let (ws, _) = preset_pull(
        &sb,
        &format!(
            "[[source]]\nname = \"mrs\"\nformat = \"gitlab_merge_requests\"\nprojects = [\"acme/api\"]\nbase_url = \"{}\"\n\
             token_env = \"QD_TOKEN\"\nkey = [\"project\", \"iid\"]\ntimestamp = \"merged_at\"\n",
            server.url()
        ),
    );
    let got = sb
        .at(
            &ws,
            &[
                "--format",
                "json",
                "query",
                "SELECT project, iid, merged_by, approved_by->>'$[0]' AS approver FROM mrs ORDER BY iid",
            ],
        )
        .ok()
        .json();
    assert_eq!(got.as_array().unwrap().len(), 2, "{got}");
    assert_eq!(got[0]["project"], "acme/api");
    assert_eq!(got[1]["merged_by"], "lead");
    assert_eq!(got[1]["approver"], "rev");
}

#[test]
fn okta_system_log_pulls_a_bounded_interval_through_link_headers() {
    let sb = Sandbox::new();
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = Arc::clone(&base);
    let server = serve(move |req| {
        let base = seen.get().cloned().unwrap_or_default();
        assert_eq!(req.header("authorization"), Some(format!("SSWS {TOKEN}").as_str()));
        assert!(req.param("until").is_some() && req.param("since").is_some(), "{}", req.target);
        let event = |n: u32| {
            json!({"uuid": format!("u{n}"), "published": format!("2026-11-2{n}T08:00:00.000Z"), "eventType": "user.session.start",
                   "actor": {"alternateId": "ana@acme.example", "type": "User"}, "outcome": {"result": "SUCCESS"}})
        };
        match req.param("after") {
            None => Reply::json(200, &json!([event(1), event(2)]))
                .with_header("link", format!("<{base}/api/v1/logs?after=2&limit=1000&until=x&since=y>; rel=\"next\""))
                .with_header("x-rate-limit-remaining", "99"),
            // Okta keeps linking `next` past the end: an empty page ends it.
            Some("2") => Reply::json(200, &json!([event(3)]))
                .with_header("link", format!("<{base}/api/v1/logs?after=3&limit=1000&until=x&since=y>; rel=\"next\"")),
            Some(_) => Reply::json(200, &json!([]))
                .with_header("link", format!("<{base}/api/v1/logs?after=4&limit=1000&until=x&since=y>; rel=\"next\"")),
        }
    });
    base.set(server.url()).unwrap();
    let (ws, _) = preset_pull(
        &sb,
        &format!(
            "[[source]]\nname = \"okta_log\"\nformat = \"okta_system_log\"\nbase_url = \"{}\"\ntoken_env = \"QD_TOKEN\"\n\
             key = [\"uuid\"]\ntimestamp = \"published\"\n",
            server.url()
        ),
    );
    assert_eq!(rows(&sb, &ws, "okta_log").len(), 3);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn jira_issues_searches_with_basic_auth_and_a_page_token() {
    let sb = Sandbox::new();
    let server = serve(|req| {
        let expected = "Basic YW5hQGFjbWUuZXhhbXBsZTpxZC1zZW50aW5lbC05ZjNhN2M0MWUy"; // base64 of ana@acme.example:{TOKEN}
        assert_eq!(req.header("authorization"), Some(expected));
        let jql = req.param("jql").unwrap_or_default();
        assert!(jql.starts_with("(project = CHG) AND updated >= \"") && jql.ends_with("ORDER BY updated ASC"), "{jql}");
        let issue = |n: u32| {
            json!({"id": format!("{}", 10000 + n), "key": format!("CHG-{n}"), "fields": {"summary": format!("Change {n}"),
                   "status": {"name": "Done"}, "issuetype": {"name": "Change"}, "priority": {"name": "High"},
                   "assignee": {"displayName": "Ana"}, "reporter": {"displayName": "Bo"},
                   "created": "2026-11-20T10:00:00.000+0000", "updated": format!("2026-11-2{n}T10:00:00.000+0000"), "resolutiondate": null}})
        };
        match req.param("nextPageToken") {
            None => {
                Reply::json(200, &json!({"issues": [issue(1), issue(2)], "nextPageToken": "tok-2", "isLast": false}))
            }
            Some(_) => Reply::json(200, &json!({"issues": [issue(3)], "isLast": true})),
        }
    });
    let (ws, _) = preset_pull(
        &sb,
        &format!(
            "[[source]]\nname = \"changes\"\nformat = \"jira_issues\"\nbase_url = \"{}\"\njql = \"project = CHG\"\n\
             auth = {{ scheme = \"Basic\", username_env = \"QD_USER\", password_env = \"QD_TOKEN\" }}\n\
             key = [\"key\"]\ntimestamp = \"updated\"\n",
            server.url()
        ),
    );
    let got = sb
        .at(&ws, &["--format", "json", "query", "SELECT key, status, assignee FROM changes ORDER BY key"])
        .ok()
        .json();
    assert_eq!(got.as_array().unwrap().len(), 3, "{got}");
    assert_eq!(got[0]["status"], "Done");
    assert_eq!(got[2]["assignee"], "Ana");
    assert_no_token(&ws, &[]);
}

#[test]
fn pagerduty_incidents_walks_offsets_in_windows_and_checks_the_total() {
    let sb = Sandbox::new();
    let server = serve(|req| {
        assert_eq!(req.header("authorization"), Some(format!("Token token={TOKEN}").as_str()));
        assert_eq!(req.header("accept"), Some("application/vnd.pagerduty+json;version=2"));
        assert!(req.param("since").is_some() && req.param("until").is_some(), "{}", req.target);
        let offset: u32 = req.param("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
        let incident = |n: u32| {
            json!({"id": format!("P{n}"), "incident_number": n, "title": format!("Outage {n}"), "status": "resolved",
                   "urgency": "high", "created_at": format!("2026-11-2{n}T03:00:00Z"), "service": {"summary": "api"},
                   "priority": null, "html_url": format!("https://acme.pagerduty.com/incidents/P{n}")})
        };
        let page: Vec<Value> = (offset..(offset + 2).min(3)).map(|n| incident(n + 1)).collect();
        Reply::json(200, &json!({"incidents": page, "limit": 2, "offset": offset, "more": offset + 2 < 3, "total": 3}))
    });
    let (ws, _) = preset_pull(
        &sb,
        &format!(
            "[[source]]\nname = \"incidents\"\nformat = \"pagerduty_incidents\"\nbase_url = \"{}\"\ntoken_env = \"QD_TOKEN\"\n\
             start = \"2026-11-01\"\nkey = [\"id\"]\ntimestamp = \"created_at\"\n",
            server.url()
        ),
    );
    assert_eq!(rows(&sb, &ws, "incidents").len(), 3);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn msgraph_presets_follow_odata_next_links_with_a_filter() {
    for (format, endpoint, column) in [
        ("msgraph_sign_ins", "/v1.0/auditLogs/signIns", "createdDateTime"),
        ("msgraph_directory_audits", "/v1.0/auditLogs/directoryAudits", "activityDateTime"),
    ] {
        let sb = Sandbox::new();
        let base = Arc::new(std::sync::OnceLock::<String>::new());
        let seen = Arc::clone(&base);
        let server = serve(move |req| {
            let base = seen.get().cloned().unwrap_or_default();
            assert_eq!(req.path, endpoint);
            assert_eq!(req.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
            let record = |n: u32| json!({"id": format!("r{n}"), column: format!("2026-11-2{n}T08:00:00Z"), "status": {"errorCode": 0}});
            match req.param("$skiptoken") {
                None => {
                    assert!(
                        req.param("$filter").is_some_and(|f| f.starts_with(&format!("{column} ge "))),
                        "{}",
                        req.target
                    );
                    Reply::json(
                        200,
                        &json!({"@odata.context": "x", "value": [record(1), record(2)],
                        "@odata.nextLink": format!("{base}{endpoint}?$top=999&$skiptoken=abc")}),
                    )
                }
                Some(_) => Reply::json(200, &json!({"value": [record(3)]})),
            }
        });
        base.set(server.url()).unwrap();
        let (ws, _) = preset_pull(
            &sb,
            &format!(
                "[[source]]\nname = \"graph\"\nformat = \"{format}\"\nbase_url = \"{}\"\ntoken_env = \"QD_TOKEN\"\n\
                 key = [\"id\"]\ntimestamp = \"{column}\"\n",
                server.url()
            ),
        );
        assert_eq!(rows(&sb, &ws, "graph").len(), 3, "{format}");
    }
}

#[test]
fn a_connector_declaration_names_the_line_of_what_is_wrong() {
    let sb = Sandbox::new();
    for (block, needle) in [
        (
            "[[source]]\nname = \"x\"\nformat = \"http_json\"\nurl = \"http://127.0.0.1:1/a\"\npaginate = { lnk = \"next\" }\nkey = [\"id\"]\ntimestamp = \"at\"\n",
            "field `paginate`: unknown key `lnk`",
        ),
        (
            "[[source]]\nname = \"x\"\nformat = \"csv\"\npath = \"a.csv\"\ntoken_env = \"T\"\nkey = [\"id\"]\ntimestamp = \"at\"\n",
            "field `token_env` is for connector formats",
        ),
        (
            "[[source]]\nname = \"x\"\nformat = \"http_json\"\nurl = \"http://127.0.0.1:1/a\"\nheaders = { Authorization = \"Bearer abc\" }\nkey = [\"id\"]\ntimestamp = \"at\"\n",
            "`Authorization` belongs in `auth`",
        ),
        ("[[source]]\nname = \"x\"\nformat = \"github_pulls\"\nkey = [\"id\"]\ntimestamp = \"at\"\n", "needs `repos"),
        (
            "[[source]]\nname = \"x\"\nformat = \"http_json\"\nurl = \"ftp://h/a\"\nkey = [\"id\"]\ntimestamp = \"at\"\n",
            "is not http or https",
        ),
    ] {
        let ws = sb.path().join(format!("ws{}", needle.len()));
        sb.run(&["init", ws.to_str().unwrap()]).ok();
        let config = ws.join("quarterdeck.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}\n{block}")).unwrap();
        let run = sb.at(&ws, &["pull"]);
        assert_eq!(run.code, 4, "{needle}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        assert!(run.stderr.contains("quarterdeck.toml:"), "{}", run.stderr);
    }
}

#[test]
fn a_missing_token_or_an_open_secrets_file_is_refused_by_name() {
    let sb = Sandbox::new();
    let server = serve(|_| Reply::json(200, &json!([])));
    let ws = workspace(
        &sb,
        &source_block("events", &format!("{}/a", server.url()), "")
            .replace("token_env = \"QD_TOKEN\"", "token_env = \"QD_ABSENT\""),
    );
    let run = sb.at(&ws, &["pull"]);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stdout.contains("env var QD_ABSENT is not set"), "{}", run.stdout);
    assert!(server.requests().is_empty(), "no request goes out without its credential");
}
