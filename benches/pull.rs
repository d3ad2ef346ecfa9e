//! Connector benchmark (issue #13): the release binary pulls N pages × 100
//! records from a loopback server (Link pagination, Okta-shaped events)
//! and loads them; against bare DuckDB reading the same records from the
//! NDJSON file the pull wrote. Peak memory of the pulling process, at 100
//! and at 1,000 pages, must stay flat.
//!
//! Run: `cargo bench --bench pull` (QD_BENCH_DIR as for `workspace`).

mod timing;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quarterdeck::demo::api_server::{Reply, Server};
use timing::{report, show};

const RECORDS_PER_PAGE: usize = 100;
const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), PathBuf::from);
    std::fs::create_dir_all(&root)?;
    println!("| benchmark | quarterdeck | bare DuckDB | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    let mut peaks = Vec::new();
    for pages in [100usize, 1000] {
        let server = serve(pages)?;
        let mut ours = Vec::new();
        let mut bare = Vec::new();
        let mut peak = 0.0f64;
        for run in 0..RUNS {
            let ws = root.join(format!("pull-{pages}-{run}"));
            let _ = std::fs::remove_dir_all(&ws);
            workspace(&ws, &server.url())?;
            let (took, mb) = pull(&ws)?;
            ours.push(took);
            peak = peak.max(mb);
            bare.push(bare_read(&ws)?);
        }
        report(
            &format!("pull {pages} pages × {RECORDS_PER_PAGE} records and load"),
            &ours,
            &bare,
            if pages == 100 { "≤ 2 s" } else { "—" },
        );
        println!("| peak RSS, {pages} pages | {peak:.1} MB | — | — | flat |");
        peaks.push(peak);
    }
    println!();
    println!("peak RSS 1,000 pages / 100 pages: {:.3} (target ≤ 1.10)", peaks[1] / peaks[0]);
    Ok(())
}

/// Pages of Okta-shaped events joined by `Link` headers.
fn serve(pages: usize) -> anyhow::Result<Server> {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = Arc::clone(&base);
    let server = Server::start(
        0,
        Arc::new(move |req| {
            let page: usize = req.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let events: Vec<serde_json::Value> = (0..RECORDS_PER_PAGE)
                .map(|i| {
                    let n = (page - 1) * RECORDS_PER_PAGE + i;
                    serde_json::json!({
                        "uuid": format!("evt-{n:08}"), "published": format!("2026-11-{:02}T{:02}:{:02}:00.000Z", 1 + n % 25, n % 24, n % 60),
                        "eventType": "user.session.start", "severity": "INFO", "displayMessage": "User login to Okta",
                        "actor": {"id": format!("00u{n:06}"), "type": "User", "alternateId": format!("user{}@acme.example", n % 500), "displayName": "A User"},
                        "client": {"ipAddress": format!("10.0.{}.{}", n % 250, n % 200), "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"}},
                        "outcome": {"result": if n.is_multiple_of(17) { "FAILURE" } else { "SUCCESS" }, "reason": null},
                        "authenticationContext": {"authenticationStep": 0, "externalSessionId": format!("s{n}")}
                    })
                })
                .collect();
            let mut reply = Reply::json(200, &serde_json::Value::Array(events));
            if page < pages {
                let url = seen.get().cloned().unwrap_or_default();
                reply = reply.with_header("link", format!("<{url}/api/v1/logs?page={}>; rel=\"next\"", page + 1));
            }
            reply.with_header("x-rate-limit-remaining", "999")
        }),
    )?;
    let _ = base.set(server.url());
    Ok(server)
}

fn workspace(ws: &Path, url: &str) -> anyhow::Result<()> {
    let out = Command::new(env!("CARGO_BIN_EXE_quarterdeck")).arg("init").arg(ws).output()?;
    anyhow::ensure!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    let config = ws.join("quarterdeck.toml");
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(&format!(
        "\n[[source]]\nname = \"okta_log\"\nformat = \"http_json\"\nurl = \"{url}/api/v1/logs\"\n\
         auth = {{ scheme = \"SSWS\", token_env = \"QD_BENCH_TOKEN\" }}\npaginate = {{ link = \"next\" }}\n\
         key = [\"uuid\"]\ntimestamp = \"published\"\nfresh_within = \"1d\"\n"
    ));
    std::fs::write(config, text)?;
    Ok(())
}

/// The binary's pull: wall clock and its own peak RSS (wait4).
fn pull(ws: &Path) -> anyhow::Result<(Duration, f64)> {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_quarterdeck"))
        .arg("--workspace")
        .arg(ws)
        .arg("pull")
        .env("QD_BENCH_TOKEN", "bench-token-123456")
        .env("QUARTERDECK_NOW", "2026-11-26T12:00:00Z")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 reaps our own child and fills the rusage it is given.
    let usage = unsafe {
        libc::wait4(pid, &mut status, 0, usage.as_mut_ptr());
        usage.assume_init()
    };
    let took = started.elapsed();
    std::mem::forget(child);
    anyhow::ensure!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "pull failed in {}", ws.display());
    Ok((took, usage.ru_maxrss as f64 / 1024.0))
}

/// DuckDB reading the records the pull wrote into a table, in-process.
fn bare_read(ws: &Path) -> anyhow::Result<Duration> {
    let file = std::fs::read_dir(ws.join("evidence/pulls/okta_log"))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("records.ndjson"))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("no records.ndjson"))?;
    let conn = duckdb::Connection::open_in_memory()?;
    let started = Instant::now();
    conn.execute_batch(&format!(
        "CREATE TABLE t AS SELECT * FROM read_json('{}', format = 'newline_delimited')",
        file.display()
    ))?;
    let took = started.elapsed();
    eprintln!("bare read of {}: {}", file.display(), show(took));
    Ok(took)
}
