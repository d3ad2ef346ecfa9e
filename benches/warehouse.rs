//! The draw pushed down to PostgreSQL (issue #16), against bare psql in the
//! same run, on a throwaway cluster (quarterdeck::warehouse::scratch):
//!
//! - a draw (n = 25: count, streamed digests + fingerprint, top 26 whole,
//!   re-rendered in DuckDB) over a 10M-row table against the bare
//!   `count(*)` + top-n by rank query run by `psql`. Target ≤ 1.5×.
//! - peak memory (VmHWM of this process; psql streams COPY) after a draw
//!   over 1M rows and after one over 10M: flat in the population size.
//!
//! Run: `cargo bench --bench warehouse` (QD_BENCH_DIR, default `bench-out`;
//! QD_BENCH_ROWS, default 10000000). Needs initdb, postgres and psql.

mod timing;

use std::path::{Path, PathBuf};
use std::time::Instant;

use quarterdeck::audit::sampling::{draw, rank::sample_seed};
use quarterdeck::warehouse::scratch::ScratchCluster;
use quarterdeck::workspace::ingest::ingest;
use quarterdeck::workspace::mapping::Mappings;
use quarterdeck::workspace::period::Period;
use quarterdeck::workspace::population::resolve;
use quarterdeck::workspace::{Access, Workspace};
use timing::report;

const RUNS: usize = 3;

fn config(tables: &[&str]) -> String {
    let mut text = String::from(
        "[workspace]\nname = \"Warehouse benchmark\"\n\n[[warehouse]]\nname = \"pg\"\nkind = \"postgres\"\nurl_env = \"QD_BENCH_PG_URL\"\ntimeout = \"30m\"\n",
    );
    for table in tables {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{table}\"\nwarehouse = \"pg\"\ntable = \"public.{table}\"\nkey = [\"event_id\"]\ntimestamp = \"at\"\n"
        ));
    }
    text
}

fn controls(tables: &[&str]) -> String {
    tables
        .iter()
        .map(|t| {
            format!(
                "[[control]]\nid = \"{id}\"\ntitle = \"Sign-ins\"\ncriteria = [\"CC6.1\"]\nowner = \"o@example\"\nfrequency = \"per-event\"\npractice = \"p\"\n\n\
                 [[control.evidence]]\nname = \"signins\"\nsource = \"{t}\"\nsample = 25\ntests = {{ mfa = \"mfa\" }}\n\n",
                id = t.to_uppercase().replace('_', "-")
            )
        })
        .collect()
}

/// `rows` sign-ins over 2026-Q3 in table `name`.
fn fill(pg: &ScratchCluster, name: &str, rows: u64) -> anyhow::Result<()> {
    let run = |sql: &str| pg.psql(sql).map_err(anyhow::Error::msg);
    run(&format!("CREATE TABLE public.{name} (event_id text, actor text, mfa boolean, at timestamp)"))?;
    run(&format!(
        "INSERT INTO public.{name} SELECT 'evt-' || lpad(i::text, 10, '0'), 'user' || (i % 50000), i % 3 = 0,
                TIMESTAMP '2026-07-01' + (i * (7948800.0 / {rows})) * INTERVAL '1 second'
         FROM generate_series(0, {rows} - 1) AS i"
    ))?;
    run(&format!("VACUUM ANALYZE public.{name}"))?;
    Ok(())
}

/// This process's peak resident memory (VmHWM), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() -> anyhow::Result<()> {
    let root = std::env::var_os("QD_BENCH_DIR").map_or_else(|| "bench-out".into(), PathBuf::from);
    let rows: u64 = std::env::var("QD_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let Some(pg) = ScratchCluster::start("bench").map_err(anyhow::Error::msg)? else {
        anyhow::bail!("no PostgreSQL server binaries (initdb, postgres)");
    };
    let small = (rows / 10).max(1);
    let started = Instant::now();
    fill(&pg, "signins_small", small)?;
    fill(&pg, "signins", rows)?;
    println!("{small} and {rows} rows loaded into PostgreSQL in {:.1} s", started.elapsed().as_secs_f64());
    // SAFETY of the env: set before any thread of this process reads it.
    unsafe { std::env::set_var("QD_BENCH_PG_URL", pg.url("bench")) };

    let dir: PathBuf = root.join("warehouse-ws");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("controls"))?;
    let tables = ["signins_small", "signins"];
    std::fs::write(dir.join("quarterdeck.toml"), config(&tables))?;
    std::fs::write(dir.join("controls/bench.toml"), controls(&tables))?;
    let ws = Workspace::open(Path::new(&dir), Access::ReadWrite)?;
    for table in tables {
        ingest(&ws, table, &[])?;
    }
    let mappings = Mappings::load(&ws.root);
    let period = Period::parse("2026-Q3", ws.config.timezone)?;
    let control = |id: &str| mappings.controls.iter().find(|c| c.id == id).cloned().expect("control");

    let before = peak_mib();
    let small_control = control("SIGNINS-SMALL");
    let spec = &small_control.evidence[0];
    let drawn = draw(&ws, &small_control, spec, &period, &sample_seed("s", &small_control.id, &spec.name), 25)?;
    anyhow::ensure!(drawn.population_count == small, "the small draw saw {}", drawn.population_count);
    let after_small = peak_mib();

    let big = control("SIGNINS");
    let spec = &big.evidence[0];
    let population = resolve(&ws, &big, spec)?;
    let sql = population.sql(&period);
    let key = population.key_sql();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let seed = sample_seed(&format!("s{run}"), &big.id, &spec.name);
        let started = Instant::now();
        let out = pg
            .psql(&format!(
                "SELECT count(*) FROM ({sql}) AS population; \
                 SELECT k, encode(sha256(convert_to('{seed}' || ':' || k, 'UTF8')), 'hex') COLLATE \"C\" AS rank \
                 FROM (SELECT {key} AS k FROM ({sql}) AS population) AS keyed ORDER BY rank LIMIT 26"
            ))
            .map_err(anyhow::Error::msg)?;
        bare.push(started.elapsed());
        let started = Instant::now();
        let drawn = draw(&ws, &big, spec, &period, &seed, 25)?;
        ours.push(started.elapsed());
        anyhow::ensure!(drawn.population_count == rows, "the draw saw {}", drawn.population_count);
        // psql prints every statement's result: the count, then the ranked keys.
        let first =
            out.lines().find(|l| l.contains('|')).unwrap_or_default().split('|').next().unwrap_or_default().to_string();
        anyhow::ensure!(
            drawn.rows.first().map(|r| r.key.as_str().to_string()) == Some(first),
            "bare psql ranked another row first"
        );
    }
    let after_big = peak_mib();
    if std::env::var_os("QD_BENCH_PARTS").is_some() {
        // Where a draw's time goes, each part alone.
        let time = |what: &str, f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<()> {
            let started = Instant::now();
            f()?;
            println!("part: {what}: {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        };
        let pg = &pg;
        let psql = |sql: String| move || pg.psql(&sql).map(drop).map_err(anyhow::Error::msg);
        time("count in psql", &mut psql(format!("SELECT count(*) FROM ({sql}) AS population")))?;
        time(
            "keys rendered there, to /dev/null there",
            &mut psql(format!("COPY (SELECT {key} FROM ({sql}) AS population) TO '/dev/null'")),
        )?;
        time(
            "keys through psql to /dev/null",
            &mut psql(format!("\\copy (SELECT {key} FROM ({sql}) AS population) TO '/dev/null'")),
        )?;
        let plan = quarterdeck::warehouse::draw::DrawSql::new(
            quarterdeck::warehouse::Dialect::Postgres,
            &population,
            (&sql, &period, spec),
            &sample_seed("parts", &big.id, &spec.name),
            25,
        );
        time("the draw's top n + 1 in psql", &mut psql(plan.top.clone()))?;
        // The bare top-n of the loop above, hex collated, and sorting the
        // digests as bytea as the draw's statement does: the same order.
        let bare_top = |rank: &str| {
            format!(
                "SELECT k, {rank} AS rank FROM (SELECT {key} AS k FROM ({sql}) AS population) AS keyed \
                 ORDER BY rank LIMIT 26"
            )
        };
        let digest = "sha256(convert_to('parts' || ':' || k, 'UTF8'))";
        time("bare top-n, hex collated", &mut psql(bare_top(&format!("encode({digest}, 'hex') COLLATE \"C\""))))?;
        time("bare top-n, bytea", &mut psql(bare_top(digest)))?;
        let session = quarterdeck::warehouse::session(&ws.config, "pg")?;
        time("every key fingerprinted by quarterdeck (recount)", &mut || {
            quarterdeck::warehouse::draw::recount(&session, &sql, &population.key).map(drop).map_err(Into::into)
        })?;
    }
    println!("| benchmark | quarterdeck | bare psql | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    report(&format!("draw, n = 25, {rows} rows in PostgreSQL (vs count + top-n in psql)"), &ours, &bare, "≤ 1.5×");
    println!(
        "peak memory (VmHWM): {before:.0} MiB before, {after_small:.0} MiB after a draw over {small} rows, {after_big:.0} MiB after {RUNS} draws over {rows}"
    );
    Ok(())
}
