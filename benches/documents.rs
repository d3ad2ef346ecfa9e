//! Document collection benchmark (issue #14): the release binary's
//! `documents collect` over 10,000 documents of 200 KB (2 GB), into a new
//! store each run, against `sha256sum` over the same files in the same run
//! (one process, files in order, as `find … | xargs sha256sum` runs it).
//! Target: collect at ≥ 80% of sha256sum's speed (time ≤ 1.25×). The files
//! are read once by each; both run on a warm page cache (a first, untimed
//! pass of each reads everything in). Also measured: a second collect (all
//! files hashed again, none copied) and `cp -r` + `sync` of the same files,
//! the cost of the store's copy on this disk.
//!
//! Run: `cargo bench --bench documents` (QD_BENCH_DIR as for `workspace`;
//! QD_BENCH_DOCUMENTS the count, default 10000; it needs 4 GB free).

mod timing;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use timing::report;

const SIZE: usize = 200 * 1024;
const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), PathBuf::from);
    let count: usize = std::env::var("QD_BENCH_DOCUMENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let ws = root.join(format!("documents-{count}"));
    corpus(&ws, count)?;
    let files = ws.join("documents");
    println!("{count} documents, {:.2} GB", (count * SIZE) as f64 / 1e9);
    println!("| benchmark | quarterdeck | sha256sum | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    // Warm the cache, and check both hash alike.
    sha256sum(&files)?;
    collect(&ws)?;
    let (mut ours, mut bare, mut again, mut copies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        bare.push(sha256sum(&files)?);
        ours.push(collect(&ws)?);
        again.push(recollect(&ws)?);
        copies.push(copy(&ws)?);
    }
    report(
        &format!("documents collect, {count} × 200 KB, into a new store"),
        &ours,
        &bare,
        "≤ 1.25× (≥ 80% of the speed)",
    );
    report("collect again: every file read and hashed, none new", &again, &bare, "—");
    report("for scale: `cp -r documents` + `sync`, the store's copy alone", &copies, &bare, "—");
    let (o, b) = (timing::median(&ours), timing::median(&bare));
    println!();
    println!(
        "throughput: collect {:.0} MB/s, sha256sum {:.0} MB/s ({:.0}% of its speed)",
        (count * SIZE) as f64 / 1e6 / o.as_secs_f64(),
        (count * SIZE) as f64 / 1e6 / b.as_secs_f64(),
        100.0 * b.as_secs_f64() / o.as_secs_f64()
    );
    Ok(())
}

/// A workspace with `count` distinct 200 KB files and their register.
fn corpus(ws: &Path, count: usize) -> anyhow::Result<()> {
    let register = ws.join("documents.toml");
    if register.is_file() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(ws);
    let out = Command::new(env!("CARGO_BIN_EXE_quarterdeck")).arg("init").arg(ws).output()?;
    anyhow::ensure!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    let mut text = String::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = vec![0u8; SIZE];
    for i in 0..count {
        let dir = format!("documents/{:03}", i / 100);
        std::fs::create_dir_all(ws.join(&dir))?;
        for chunk in bytes.chunks_mut(8) {
            // xorshift64: distinct content per file, no dedupe in the store.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let file = format!("{dir}/report-{i:05}.pdf");
        std::fs::write(ws.join(&file), &bytes)?;
        let _ = write!(
            text,
            "[[document]]\nid = \"DOC-{i:05}\"\ntitle = \"Report {i}\"\nkind = \"other\"\nfiles = [\"{file}\"]\neffective = 2026-01-01\n\n"
        );
    }
    std::fs::write(register, text)?;
    Ok(())
}

/// `sha256sum` over every file, in order, one process at a time (xargs).
fn sha256sum(files: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("find . -type f -print0 | sort -z | xargs -0 sha256sum > /dev/null")
        .current_dir(files)
        .output()?;
    anyhow::ensure!(out.status.success(), "sha256sum: {}", String::from_utf8_lossy(&out.stderr));
    Ok(started.elapsed())
}

/// `documents collect` into a new database and store: everything is new.
fn collect(ws: &Path) -> anyhow::Result<Duration> {
    for gone in ["workspace.duckdb", "workspace.duckdb.wal", "quarterdeck.head"] {
        let _ = std::fs::remove_file(ws.join(gone));
    }
    let blobs = ws.join("evidence/blobs");
    if blobs.exists() {
        // The store's files are read-only; their folders are not.
        std::fs::remove_dir_all(&blobs)?;
    }
    recollect(ws)
}

/// A collect over the store as it is (a second one: every file hashed, nothing copied).
fn recollect(ws: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_quarterdeck"))
        .arg("--workspace")
        .arg(ws)
        .args(["documents", "collect"])
        .env("QUARTERDECK_NOW", "2026-11-26T12:00:00Z")
        .output()?;
    let took = started.elapsed();
    anyhow::ensure!(out.status.success(), "collect again: {}", String::from_utf8_lossy(&out.stderr));
    Ok(took)
}

/// What copying the files costs on this disk, flushed as collect flushes.
fn copy(ws: &Path) -> anyhow::Result<Duration> {
    let target = ws.with_extension("copy");
    let _ = std::fs::remove_dir_all(&target);
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("cp -r documents '{}' && sync", target.display()))
        .current_dir(ws)
        .output()?;
    let took = started.elapsed();
    anyhow::ensure!(out.status.success(), "cp: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&target)?;
    Ok(took)
}
