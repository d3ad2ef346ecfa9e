//! Packet benchmarks (issue #12), against bare DuckDB in the same run:
//!   - e2e: a whole quarterly mock audit of the scale-500 demo — `audit
//!     start --controls all`, `packet`, `verify --packet` in the workspace —
//!     the real binary, wall clock and the largest child's peak RSS
//!   - demo: `packet` of the default demo's full audit (the binary)
//!   - 40 × 25: a 40-control packet of 25-row samples, in-process, against
//!     DuckDB `COPY`ing the same 1,000 rows to CSV (and each whole
//!     population, for scale)
//!   - verify: `verify --packet` at scale 100 (10M sign-ins), in-process,
//!     against the bare `count(*)` of every population and against DuckDB's
//!     own `recount.sql` (count and sha256 fingerprint in SQL)
//!
//! Run: `cargo bench --bench packet` (QD_BENCH_DIR as for `workspace`;
//! QD_BENCH_ONLY: e2e, demo, forty, verify).

mod common;
mod timing;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use timing::{median, report, show};

use quarterdeck::audit::audits::{Scope, start};
use quarterdeck::packet::verify::verify;
use quarterdeck::packet::{PacketRequest, archive, export};
use quarterdeck::progress::Silent;
use quarterdeck::workspace::mapping::Mappings;
use quarterdeck::workspace::period::Period;
use quarterdeck::workspace::{Access, Workspace};

const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), std::path::PathBuf::from);
    std::fs::create_dir_all(&root)?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let only = std::env::var("QD_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    println!("| benchmark | quarterdeck | bare DuckDB | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    if wanted("e2e") {
        bench_end_to_end(&common::big_workspace(&root, 500, as_of)?)?;
    }
    if wanted("demo") {
        bench_demo(&root)?;
    }
    if wanted("forty") {
        bench_forty(&root)?;
    }
    if wanted("verify") {
        bench_verify(&common::big_workspace(&root, 100, as_of)?)?;
    }
    Ok(())
}

fn binary(ws: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    measured(ws, args).map(|(took, _)| took)
}

/// Runs the binary; its wall clock and its own peak RSS in MB (wait4, so
/// that no other child — an ingest that built the workspace — counts).
fn measured(ws: &Path, args: &[&str]) -> anyhow::Result<(Duration, f64)> {
    let log = tempfile::tempfile()?;
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_quarterdeck"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(log.try_clone()?)
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
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        use std::io::{Read, Seek};
        let mut log = log;
        let mut text = String::new();
        log.rewind()?;
        log.read_to_string(&mut text)?;
        anyhow::bail!("{args:?}: {text}");
    }
    Ok((took, usage.ru_maxrss as f64 / 1024.0))
}

fn bench_end_to_end(ws: &Path) -> anyhow::Result<()> {
    let (mut starts, mut packets, mut verifies, mut totals) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut peak = 0.0f64;
    let stamp = std::process::id();
    for run in 0..RUNS {
        let label = format!("bench-{stamp}-{run}");
        let out = ws.join("packets").join(&label);
        let (a, a_mb) =
            measured(ws, &["audit", "start", &label, "--period", "2026-Q3", "--controls", "all", "--seed", &label])?;
        let (p, p_mb) = measured(ws, &["packet", &label])?;
        let (v, v_mb) = measured(ws, &["verify", "--packet", &out.to_string_lossy()])?;
        peak = peak.max(a_mb).max(p_mb).max(v_mb);
        let _ = std::fs::remove_dir_all(&out);
        starts.push(a);
        packets.push(p);
        verifies.push(v);
        totals.push(a + p + v);
    }
    println!(
        "| scale-500 mock audit end to end: audit start {} + packet {} + verify --packet {} (wall clock, median of each) | {} | — | — | ≤ 8 s |",
        show(median(&starts)),
        show(median(&packets)),
        show(median(&verifies)),
        show(median(&totals))
    );
    println!("| peak RSS of any of those processes | {peak:.0} MB | — | — | ≤ 1 GB |");
    Ok(())
}

fn bench_demo(root: &Path) -> anyhow::Result<()> {
    let demo = root.join("packet-demo");
    if !demo.join("workspace.duckdb").exists() {
        let out = Command::new(env!("CARGO_BIN_EXE_quarterdeck"))
            .args(["demo", &demo.to_string_lossy(), "--no-open", "--as-of", "2026-11-26", "--fresh"])
            .output()?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        binary(&demo, &["audit", "start", "2026-Q3", "--controls", "all", "--seed", "7"])?;
    }
    let times = (0..RUNS).map(|_| binary(&demo, &["packet", "2026-Q3"])).collect::<Result<Vec<_>, _>>()?;
    println!(
        "| `packet 2026-Q3` of the default demo's full audit (process wall clock) | {} | — | — | ≤ 3 s |",
        show(median(&times))
    );
    Ok(())
}

/// A workspace of one 400,000-row source and 40 controls, each over a
/// fortieth of it (10,000 rows), with two tests and 25-row samples.
fn forty_workspace(dir: &Path) -> anyhow::Result<()> {
    if dir.join("workspace.duckdb").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir.join("controls"))?;
    std::fs::create_dir_all(dir.join("evidence"))?;
    std::fs::write(
        dir.join("quarterdeck.toml"),
        "[workspace]\nname = \"forty\"\ntimezone = \"UTC\"\n\n[[source]]\nname = \"events\"\nformat = \"csv\"\npath = \"evidence/events.csv\"\nkey = [\"id\"]\ntimestamp = \"at\"\nfresh_within = \"400d\"\n",
    )?;
    let mut controls = String::new();
    for c in 0..40 {
        controls.push_str(&format!(
            "[[control]]\nid = \"GEN-{c}\"\ntitle = \"Generated control {c}\"\ncriteria = [\"CC8.1\"]\nowner = \"owner{c}@acme.example\"\nfrequency = \"per-event\"\npractice = \"Every event of group {c} is approved by someone else.\"\n\n[[control.evidence]]\nname = \"events\"\nsource = \"events\"\nwhere = \"grp = {c}\"\nsample = 25\ntests = {{ approved = \"approver IS NOT NULL\", independent = \"approver <> actor\" }}\n\n"
        ));
    }
    std::fs::write(dir.join("controls/generated.toml"), controls)?;
    let conn = duckdb::Connection::open_in_memory()?;
    conn.execute_batch(&format!(
        "COPY (SELECT 'e-' || lpad(i::VARCHAR, 7, '0') AS id,
                      TIMESTAMP '2026-07-01' + to_seconds(i * 19) AS at,
                      i % 40 AS grp, 'user' || (i % 97) AS actor,
                      CASE WHEN i % 53 = 0 THEN NULL ELSE 'lead' || (i % 13) END AS approver
               FROM range(400000) t(i)) TO '{}' (HEADER)",
        dir.join("evidence/events.csv").display()
    ))?;
    let ws = Workspace::open(dir, Access::ReadWrite)?;
    quarterdeck::workspace::ingest::ingest_all(&ws)?;
    let mappings = Mappings::load(dir);
    let period = Period::parse("2026-Q3", ws.config.timezone)?;
    start(&ws, &mappings, "2026-Q3", &period, &Scope::All, Some("forty".into()))?;
    Ok(())
}

fn bench_forty(root: &Path) -> anyhow::Result<()> {
    let dir = root.join("packet-forty");
    forty_workspace(&dir)?;
    let ws = Workspace::open(&dir, Access::ReadOnly)?;
    let out = root.join("packet-forty-out");
    let request = PacketRequest { label: "2026-Q3", out: Some(&out), zip: false };
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let exported = export(&ws, &request)?;
        ours.push(started.elapsed());
        anyhow::ensure!(exported.files > 40 * 6, "a packet of {} files", exported.files);
    }
    // The same 1,000 rows, by key, to CSV; and each population whole.
    let bare_conn = duckdb::Connection::open_with_flags(
        dir.join("workspace.duckdb"),
        duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?,
    );
    drop(ws);
    let bare_conn = bare_conn?;
    let samples: Vec<(String, Vec<String>)> = {
        let mut stmt = bare_conn.prepare(
            "SELECT s.sql, CAST(list(r.key ORDER BY r.position) AS VARCHAR) FROM qd.samples s JOIN qd.sample_rows r USING (sample_id)
             WHERE s.audit = '2026-Q3' AND s.current GROUP BY s.sql, s.control ORDER BY s.control",
        )?;
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                row.map(|(sql, keys)| (sql, keys.trim_matches(['[', ']']).split(", ").map(str::to_string).collect()))
            })
            .collect::<Result<_, _>>()?
    };
    anyhow::ensure!(samples.len() == 40, "{} samples", samples.len());
    let scratch = root.join("packet-forty-copy");
    std::fs::create_dir_all(&scratch)?;
    let (mut rows, mut populations) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        for (i, (sql, keys)) in samples.iter().enumerate() {
            let list = keys.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
            bare_conn.execute_batch(&format!(
                "COPY (SELECT * FROM ({sql}) WHERE id IN ({list})) TO '{}' (HEADER)",
                scratch.join(format!("rows-{i}.csv")).display()
            ))?;
        }
        rows.push(started.elapsed());
        let started = Instant::now();
        for (i, (sql, _)) in samples.iter().enumerate() {
            bare_conn.execute_batch(&format!(
                "COPY ({sql}) TO '{}' (HEADER)",
                scratch.join(format!("population-{i}.csv")).display()
            ))?;
        }
        populations.push(started.elapsed());
    }
    report(
        "40-control × 25-row packet (in-process export, 400k-row source) vs COPY of the same 1,000 rows to CSV",
        &ours,
        &rows,
        "≤ 1.2×",
    );
    report("  the same against COPYing each whole population (10k rows each) to CSV", &ours, &populations, "—");
    Ok(())
}

fn bench_verify(ws_dir: &Path) -> anyhow::Result<()> {
    let ws = Workspace::open(ws_dir, Access::ReadWrite)?;
    let label = "bench-verify";
    if quarterdeck::audit::record::load(&ws, label)?.is_none() {
        let mappings = Mappings::load(ws_dir);
        let period = Period::parse("2026-Q3", ws.config.timezone)?;
        start(&ws, &mappings, label, &period, &Scope::All, Some(label.into()))?;
    }
    let out = ws_dir.join("packets/bench-verify");
    export(&ws, &PacketRequest { label, out: Some(&out), zip: false })?;
    let files = archive::read(&out)?;
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let report = verify(&files, Some(&ws), &Silent);
        ours.push(started.elapsed());
        anyhow::ensure!(report.problems.is_empty(), "{:?}", report.problems);
        anyhow::ensure!(report.populations_recounted > 0);
    }
    let recounts: Vec<String> = files
        .0
        .iter()
        .filter(|(p, _)| p.ends_with("/recount.sql"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    let populations: Vec<String> = files
        .0
        .iter()
        .filter(|(p, _)| p.ends_with("/population.sql"))
        .map(|(_, b)| String::from_utf8_lossy(b).trim().trim_end_matches(';').to_string())
        .collect();
    let (mut counts, mut sql_fingerprints) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        for sql in &populations {
            let _: i64 = ws.conn.query_row(&format!("SELECT count(*) FROM ({sql})"), [], |r| r.get(0))?;
        }
        counts.push(started.elapsed());
        let started = Instant::now();
        for sql in &recounts {
            let _: (i64, Option<String>) = ws.conn.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        }
        sql_fingerprints.push(started.elapsed());
    }
    let rows: i64 = populations
        .iter()
        .map(|sql| ws.conn.query_row(&format!("SELECT count(*) FROM ({sql})"), [], |r| r.get::<_, i64>(0)))
        .sum::<Result<i64, _>>()?;
    report(
        &format!(
            "verify --packet at scale 100 with the workspace ({} populations, {rows} rows) vs bare count(*) of each",
            populations.len()
        ),
        &ours,
        &counts,
        "≤ 2×",
    );
    report(
        "  the same against DuckDB's own recount.sql (count and sha256 fingerprint in SQL)",
        &ours,
        &sql_fingerprints,
        "—",
    );
    Ok(())
}
