//! Warehouse sources, end to end with the real binary and a real
//! PostgreSQL: a throwaway cluster these tests start and stop themselves
//! (`initdb` in a temp folder, a Unix socket, no system service). They skip,
//! saying so, where the PostgreSQL server binaries are absent (and fail
//! then under QUARTERDECK_REQUIRE_POSTGRES, which `.ci/run` sets).

use std::path::{Path, PathBuf};

use quarterdeck::warehouse::scratch::ScratchCluster;

use crate::common::{Sandbox, scalar};

/// The password in every URL: trust auth ignores it; nothing may show it.
pub const SECRET: &str = "s3cret-pw-never-shown";

/// A throwaway cluster (quarterdeck::warehouse::scratch), with the helpers these tests need.
pub struct Cluster(ScratchCluster);

impl Cluster {
    pub fn start() -> Option<Self> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match ScratchCluster::start(&n.to_string()) {
            Ok(Some(cluster)) => Some(Self(cluster)),
            Ok(None) => {
                // CI installs them and says so: there, their absence fails.
                assert!(
                    std::env::var_os("QUARTERDECK_REQUIRE_POSTGRES").is_none(),
                    "QUARTERDECK_REQUIRE_POSTGRES is set, but initdb and postgres are not installed"
                );
                eprintln!("skipped: no PostgreSQL server binaries (initdb, postgres)");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    pub fn url(&self) -> String {
        self.0.url(SECRET)
    }

    pub fn psql(&self, sql: &str) -> String {
        self.0.psql(sql).unwrap_or_else(|e| panic!("psql {sql}: {e}"))
    }

    /// A table of the workspace's DuckDB, copied into PostgreSQL with the
    /// same column types, so both hold the same rows.
    pub fn copy_table(&self, ws: &Path, table: &str) {
        let conn = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
        let mut stmt = conn.prepare(&format!("DESCRIBE \"{table}\"")).unwrap();
        let columns: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
        let pg_type = |t: &str| match t {
            "VARCHAR" => "text",
            "TIMESTAMP" => "timestamp",
            "TIMESTAMP WITH TIME ZONE" => "timestamptz",
            "BIGINT" => "bigint",
            "INTEGER" => "integer",
            "BOOLEAN" => "boolean",
            "DATE" => "date",
            "DOUBLE" => "double precision",
            other => panic!("no PostgreSQL type for {other}"),
        };
        let ddl = columns.iter().map(|(c, t)| format!("\"{c}\" {}", pg_type(t))).collect::<Vec<_>>().join(", ");
        self.psql(&format!("CREATE TABLE public.\"{table}\" ({ddl})"));
        let csv = self.0.dir().join(format!("{table}.csv"));
        conn.execute_batch(&format!("COPY \"{table}\" TO '{}' (HEADER, FORMAT csv)", csv.display())).unwrap();
        self.psql(&format!("\\copy public.\"{table}\" FROM '{}' CSV HEADER", csv.display()));
    }
}

/// A control over pull requests alone, valid SQL in DuckDB and PostgreSQL.
const PR_CONTROL: &str = r#"
[[control]]
id = "CHG-3"
title = "Pull requests are approved by someone other than their author before merge"
criteria = ["CC8.1"]
owner = "platform@acme.example"
frequency = "per-event"
practice = "Branch protection requires an approving review from another engineer."

[[control.evidence]]
name = "merged pull requests"
source = "pull_requests"
sample = 4
tests = { approved_before_merge = "approved_at <= merged_at", independent = "approver <> author" }
"#;

const PG_SOURCE: &str = r#"[[warehouse]]
name = "pg"
kind = "postgres"
url_env = "EVIDENCE_PG_URL"
timeout = "20s"

[[source]]
name = "pull_requests"
warehouse = "pg"
table = "public.pull_requests"
key = ["pr_id"]
timestamp = "merged_at"
fresh_within = "30d"
"#;

/// CHG-1 (deploys, ingested) and CHG-3 (pull requests): CHG-2's population
/// is a DuckDB query over both sources, which a warehouse source cannot feed.
pub(crate) fn controls_without_the_join(ws: &Path) {
    let path = ws.join("controls/change.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let chg2 = text.find("[[control]]\nid = \"CHG-2\"").unwrap();
    std::fs::write(&path, format!("{}{PR_CONTROL}", &text[..chg2])).unwrap();
}

/// The demo's `pull_requests` source in quarterdeck.toml replaced by `source`
/// (a warehouse source of either engine).
pub(crate) fn replace_pull_requests_source(ws: &Path, source: &str) {
    let path = ws.join("quarterdeck.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let start = config.find("[[source]]\nname = \"pull_requests\"").unwrap();
    let end = start + config[start..].find("\n\n").map_or(config.len() - start, |e| e + 1);
    std::fs::write(&path, format!("{}{source}{}", &config[..start], &config[end..])).unwrap();
}

/// A new workspace with CHG-1 and CHG-3, its deploys ingested and its pull
/// requests left in PostgreSQL (not refreshed yet).
fn pull_requests_in_postgres(sb: &Sandbox) -> PathBuf {
    let ws = sb.path().join("pg-ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    controls_without_the_join(&ws);
    replace_pull_requests_source(&ws, PG_SOURCE);
    sb.at(&ws, &["ingest", "deploys"]).ok();
    ws
}

pub(crate) fn samples(ws: &Path) -> String {
    scalar(
        ws,
        "SELECT string_agg(s.control || ':' || s.population_count || ':' || s.fingerprint || ':' || r.key || ':' || r.rank || ':' || r.row_json, ',' ORDER BY s.control, s.spec, r.rank)
         FROM qd.samples s JOIN qd.sample_rows r USING (sample_id)",
    )
}

/// The first file named `name` under `dir` whose path mentions `part`.
pub(crate) fn find_file(dir: &Path, name: &str, part: &str) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == name) && path.to_string_lossy().contains(part) {
                return Some(path);
            }
        }
    }
    None
}

/// Everything under `dir`, as bytes, to search for a secret.
pub(crate) fn contains_anywhere(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path);
            }
        }
    }
    hits
}

#[test]
fn a_postgres_source_samples_like_the_same_rows_ingested_and_the_packet_verifies() {
    let Some(pg) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let copied = sb.example_workspace();
    controls_without_the_join(&copied);
    sb.at(&copied, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    pg.copy_table(&copied, "pull_requests");

    let ws = pull_requests_in_postgres(&sb);
    let env = |args: &[&str]| {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = sb.command(&all).env("EVIDENCE_PG_URL", pg.url()).output().unwrap();
        crate::common::Run::from(out)
    };
    let refreshed = env(&["refresh", "pull_requests"]).ok();
    assert!(refreshed.stdout.contains("warehouse `pg`"), "{}", refreshed.stdout);
    // Freshness and coverage come from the counts taken there.
    let sources = env(&["sources"]).ok();
    assert!(sources.stdout.contains("pull_requests"), "{}", sources.stdout);
    assert_eq!(
        scalar(&ws, "SELECT rows FROM qd.source_stats WHERE source = 'pull_requests'"),
        pg.psql("SELECT count(*) FROM pull_requests")
    );
    env(&["check"]).ok();
    env(&["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    assert!(!samples(&ws).is_empty());
    assert_eq!(samples(&ws), samples(&copied), "PostgreSQL and the copy drew other samples");

    // Verdicts, a finding, the packet, verify: none of them knows where the rows are.
    let shown = env(&["--format", "json", "sample", "CHG-3", "--audit", "2026-Q3"]).ok().json();
    let key = shown["rows"][0]["key"].as_str().unwrap().to_string();
    // The tests ran in PostgreSQL; their results are frozen with the row.
    let independent = &shown["rows"][0]["tests"]["independent"];
    assert!(independent.is_boolean(), "{shown}");
    let verdict = if independent == true { "pass" } else { "exception" };
    env(&["verdict", "2026-Q3", "CHG-3", &key, verdict, "--note", "checked against the review"]).ok();
    let finding = ["findings", "add", "--audit", "2026-Q3", "--control", "CHG-3", "--title", "Self-approved merge"];
    env(&[&finding[..], &["--severity", "high", "--owner", "ana@acme.example", "--due", "2026-12-15"]].concat()).ok();
    // The whole population's tests run there too.
    let tested = env(&["--format", "json", "test", "CHG-3", "--period", "2026-Q3"]);
    assert!(tested.stdout.contains("independent"), "{}{}", tested.stdout, tested.stderr);
    env(&["packet", "2026-Q3"]).ok();
    let packet = ws.join("packets/2026-Q3");
    env(&["verify", "--packet", packet.to_str().unwrap()]).ok();
    env(&["verify"]).ok();
    // The IPE sheet's SQL re-performs the draw in psql alone.
    let dir = find_file(&packet, "reperform.sql", "CHG-3").expect("CHG-3's reperform.sql");
    let reperformed = pg.psql(&std::fs::read_to_string(&dir).unwrap()).replace('|', ":");
    let frozen = scalar(
        &ws,
        "SELECT string_agg(replace(r.key, chr(31), ' | ') || ':' || r.rank, chr(10) ORDER BY r.rank)
         FROM qd.samples s JOIN qd.sample_rows r USING (sample_id) WHERE s.control = 'CHG-3'",
    );
    assert_eq!(reperformed, frozen);
    let recount = pg.psql(&std::fs::read_to_string(dir.with_file_name("recount.sql")).unwrap());
    let stored = scalar(&ws, "SELECT population_count || '|' || fingerprint FROM qd.samples WHERE control = 'CHG-3'");
    assert_eq!(recount, stored);
    assert!(
        contains_anywhere(&ws, SECRET).is_empty(),
        "the password was written: {:?}",
        contains_anywhere(&ws, SECRET)
    );

    // The console cannot read a warehouse source's stand-in, and says why.
    let console = env(&["query", "SELECT count(*) FROM pull_requests"]);
    assert_ne!(console.code, 0);
    assert!(console.stderr.contains("stays in warehouse `pg`"), "{}", console.stderr);
}

#[test]
fn a_warehouse_down_slow_or_unstable_fails_the_draw_and_freezes_nothing() {
    let Some(pg) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let seed_ws = sb.example_workspace();
    pg.copy_table(&seed_ws, "pull_requests");
    let ws = sb.path().join("pg-ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    controls_without_the_join(&ws);
    replace_pull_requests_source(&ws, &PG_SOURCE.replace("timeout = \"20s\"", "timeout = \"1s\""));
    sb.at(&ws, &["ingest", "deploys"]).ok();
    let run = |url: &str, args: &[&str]| {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::common::Run::from(sb.command(&all).env("EVIDENCE_PG_URL", url).output().unwrap())
    };
    run(&pg.url(), &["refresh", "pull_requests"]).ok();
    let no_audit = || {
        scalar(&ws, "SELECT count(*) FROM qd.audits") == "0" && scalar(&ws, "SELECT count(*) FROM qd.samples") == "0"
    };

    // Down: a socket folder with no server behind it.
    let down = format!("postgres://qd:{SECRET}@/postgres?host=/nonexistent-qd&port=5439");
    let failed = run(&down, &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(failed.code, 0);
    assert!(failed.stderr.contains("warehouse `pg`") && !failed.stderr.contains(SECRET), "{}", failed.stderr);
    assert!(no_audit(), "a failed draw froze something");
    // A refresh that fails is recorded with why, and shows no password.
    let failed = run(&down, &["refresh", "pull_requests"]);
    assert_ne!(failed.code, 0);
    let why = scalar(&ws, "SELECT error FROM qd.ingest_runs WHERE status = 'failed' ORDER BY run_id DESC LIMIT 1");
    assert!(why.contains("warehouse `pg`") && !why.contains(SECRET), "{why}");
    // Not set at all.
    let unset = crate::common::Run::from(
        sb.command(&["--workspace", ws.to_str().unwrap(), "audit", "start", "2026-Q3", "--seed", "s"])
            .env_remove("EVIDENCE_PG_URL")
            .output()
            .unwrap(),
    );
    assert_ne!(unset.code, 0);
    assert!(unset.stderr.contains("$EVIDENCE_PG_URL is not set"), "{}", unset.stderr);

    // Slow: every row sleeps; the 1 s timeout cancels it.
    let controls = ws.join("controls/change.toml");
    let text = std::fs::read_to_string(&controls).unwrap();
    let with_where = |filter: &str| {
        text.replace("source = \"pull_requests\"\n", &format!("source = \"pull_requests\"\nwhere = \"{filter}\"\n"))
    };
    std::fs::write(&controls, with_where("pg_sleep(0.3) IS NOT NULL")).unwrap();
    let slow = run(&pg.url(), &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(slow.code, 0);
    assert!(slow.stderr.contains("timeout"), "{}", slow.stderr);
    assert!(no_audit());

    // Unstable: the drawn rows and the keys streamed beside them, read in
    // two sessions of one snapshot, differ. The filter passes every row in
    // the draw's own statement (it alone names __qd_rank; the filter spells
    // it in two parts) and about half in the key stream, so drawn keys are
    // missing from the keys — as with random(), but not by chance.
    let two_faced = "position('__qd_' || 'rank' in current_query()) > 0 OR md5(CAST(pr_id AS text)) < '8'";
    std::fs::write(&controls, with_where(two_faced)).unwrap();
    let unstable = run(&pg.url(), &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(unstable.code, 0, "{} {}", unstable.stdout, unstable.stderr);
    assert!(
        unstable.stderr.contains("is not among the") && unstable.stderr.contains("nothing was drawn"),
        "{}",
        unstable.stderr
    );
    assert!(no_audit());
    // The other way round: the draw's statement sees no row, the keys all.
    let blind = "position('__qd_' || 'rank' in current_query()) = 0";
    std::fs::write(&controls, with_where(blind)).unwrap();
    let unstable = run(&pg.url(), &["audit", "start", "2026-Q3", "--seed", "s"]);
    assert_ne!(unstable.code, 0);
    assert!(unstable.stderr.contains("nothing was drawn"), "{}", unstable.stderr);
    assert!(no_audit());

    // check compiles the tests there, with the mapping's file:line:col.
    std::fs::write(&controls, text.replace("approver <> author", "approver <> no_such_column")).unwrap();
    let checked = run(&pg.url(), &["check"]);
    assert_ne!(checked.code, 0);
    let said = format!("{}{}", checked.stdout, checked.stderr);
    assert!(said.contains("controls/change.toml:") && said.contains("no_such_column"), "{said}");
}

#[test]
fn check_refuses_key_columns_that_render_differently_in_each_engine() {
    let Some(pg) = Cluster::start() else { return };
    pg.psql("CREATE TABLE public.amounts (amount double precision, at timestamp, memo text)");
    pg.psql("INSERT INTO public.amounts VALUES (100.0, '2026-07-01 10:00:00', 'a')");
    let sb = Sandbox::new();
    let ws = sb.path().join("ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    std::fs::write(
        ws.join("quarterdeck.toml"),
        format!(
            "[workspace]\nname = \"t\"\n\n{}",
            PG_SOURCE
                .replace("name = \"pull_requests\"", "name = \"amounts\"")
                .replace("public.pull_requests", "public.amounts")
                .replace("[\"pr_id\"]", "[\"amount\"]")
                .replace("\"merged_at\"", "\"at\"")
        ),
    )
    .unwrap();
    std::fs::write(
        ws.join("controls/change.toml"),
        "[[control]]\nid = \"AMT-1\"\ntitle = \"t\"\ncriteria = [\"CC8.1\"]\nowner = \"o@x\"\nfrequency = \"per-event\"\npractice = \"p\"\n\n[[control.evidence]]\nname = \"amounts\"\nsource = \"amounts\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::common::Run::from(sb.command(&all).env("EVIDENCE_PG_URL", pg.url()).output().unwrap())
    };
    run(&["refresh", "amounts"]).ok();
    let checked = run(&["check"]);
    assert_ne!(checked.code, 0);
    let said = format!("{}{}", checked.stdout, checked.stderr);
    assert!(said.contains("column `amount`") && said.contains("double precision") && said.contains("100.0"), "{said}");
}

#[derive(serde::Deserialize)]
struct Fixture {
    key: Vec<FixtureKey>,
    refused: Vec<FixtureRefused>,
}

#[derive(serde::Deserialize)]
struct FixtureKey {
    postgres: String,
    duckdb: String,
    literal: Option<String>,
    text: String,
    rank: String,
}

#[derive(serde::Deserialize)]
struct FixtureRefused {
    postgres: String,
    duckdb: String,
    literal: String,
    postgres_text: String,
    duckdb_text: String,
}

fn literal(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_string(), |v| format!("'{}'", v.replace('\'', "''")))
}

#[test]
fn every_key_type_of_the_fixture_renders_and_ranks_alike_in_duckdb_and_postgres() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/warehouse_keys.toml")).unwrap();
    let fixture: Fixture = toml::from_str(&text).unwrap();
    let duck = duckdb::Connection::open_in_memory().unwrap();
    // (The bundled DuckDB has no ICU: a TIMESTAMPTZ always prints in UTC.)
    let rendered = |kind: &str, value: Option<&str>| -> String {
        duck.query_row(&format!("SELECT coalesce(CAST(CAST({} AS {kind}) AS VARCHAR), '')", literal(value)), [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    for key in &fixture.key {
        assert_eq!(rendered(&key.duckdb, key.literal.as_deref()), key.text, "DuckDB, {}", key.postgres);
        assert_eq!(quarterdeck::audit::sampling::rank::rank_hex("fixture", &key.text), key.rank, "{}", key.text);
        assert_eq!(quarterdeck::warehouse::columns::key_refusal(&key.postgres), None, "{}", key.postgres);
        assert_eq!(quarterdeck::warehouse::columns::duckdb_type(&key.postgres), key.duckdb);
    }
    for refused in &fixture.refused {
        assert!(quarterdeck::warehouse::columns::key_refusal(&refused.postgres).is_some(), "{}", refused.postgres);
        assert_eq!(
            rendered(&refused.duckdb, Some(&refused.literal)),
            refused.duckdb_text,
            "DuckDB, {}",
            refused.postgres
        );
    }
    let Some(pg) = Cluster::start() else { return };
    pg.psql("SET TimeZone = 'UTC'");
    for key in &fixture.key {
        let cast =
            format!("coalesce(CAST(CAST({} AS {}) AS VARCHAR), '')", literal(key.literal.as_deref()), key.postgres);
        let got = pg.psql(&format!(
            "SET TimeZone = 'UTC'; SELECT {cast} || chr(9) || encode(sha256(convert_to('fixture' || ':' || {cast}, 'UTF8')), 'hex')"
        ));
        assert_eq!(got, format!("{}\t{}", key.text, key.rank), "PostgreSQL, {}", key.postgres);
    }
    for refused in &fixture.refused {
        let got = pg.psql(&format!(
            "SET TimeZone = 'UTC'; SELECT CAST(CAST({} AS {}) AS VARCHAR)",
            literal(Some(&refused.literal)),
            refused.postgres
        ));
        assert_eq!(got, refused.postgres_text, "PostgreSQL, {}", refused.postgres);
    }
    // All of them as one key of many columns, joined by U+001F.
    let joined: Vec<&str> = fixture.key.iter().map(|k| k.text.as_str()).collect();
    let joined = joined.join("\u{1f}");
    let columns: Vec<String> = fixture
        .key
        .iter()
        .map(|k| format!("coalesce(CAST(CAST({} AS {}) AS VARCHAR), '')", literal(k.literal.as_deref()), k.postgres))
        .collect();
    let got = pg.psql(&format!(
        "SET TimeZone = 'UTC'; SELECT encode(sha256(convert_to('fixture' || ':' || {}, 'UTF8')), 'hex')",
        columns.join(" || chr(31) || ")
    ));
    assert_eq!(got, quarterdeck::audit::sampling::rank::rank_hex("fixture", &joined));
}

/// Copies the demo's configuration and evidence, not its database.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        let skipped =
            ["workspace.duckdb", "workspace.duckdb.wal", "quarterdeck.head", "blobs", "packets", ".quarterdeck-demo"];
        if skipped.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// Replaces the `[[source]]` block named `name` in quarterdeck.toml.
fn replace_source(ws: &Path, name: &str, block: &str) {
    let path = ws.join("quarterdeck.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let start = config.find(&format!("[[source]]\nname = \"{name}\"")).unwrap();
    let end = start + config[start..].find("\n\n").map_or(config.len() - start, |e| e + 1);
    std::fs::write(&path, format!("{}{block}{}", &config[..start], &config[end..])).unwrap();
}

#[test]
fn the_demo_with_its_sign_in_log_in_a_lake_and_its_pull_requests_in_postgres_samples_like_the_ingested_demo() {
    let Some(pg) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let ingested = sb.path().join("demo");
    sb.run(&["demo", ingested.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    // CHG-3 joins deploys and pull requests in the workspace's DuckDB, which a
    // warehouse source cannot feed: the audit takes the controls over each.
    let start =
        ["audit", "start", "mock-q3", "--period", "2026-Q3", "--controls", "AC-1,AC-6,CHG-1,CHG-2", "--seed", "s"];
    sb.at(&ingested, &start).ok();

    let ws = sb.path().join("placed");
    copy_tree(&ingested, &ws);
    // The sign-in log as a hive-partitioned Parquet folder (by app), read in place.
    let lake = ws.join("lake/idp_auth_log");
    std::fs::create_dir_all(ws.join("lake")).unwrap();
    {
        let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap();
        let conn = duckdb::Connection::open_with_flags(ingested.join("workspace.duckdb"), config).unwrap();
        conn.execute_batch(&format!(
            "COPY (SELECT * FROM idp_auth_log) TO '{}' (FORMAT parquet, PARTITION_BY (app))",
            lake.display()
        ))
        .unwrap();
    }
    replace_source(
        &ws,
        "idp_auth_log",
        "[[source]]\nname = \"idp_auth_log\"\nformat = \"parquet\"\nmode = \"in_place\"\npath = \"lake/idp_auth_log\"\nkey = [\"event_id\"]\ntimestamp = \"ts\"\nfresh_within = \"1d\"\n",
    );
    // The pull requests in PostgreSQL.
    pg.copy_table(&ingested, "pull_requests");
    let pulls = PG_SOURCE.replace("fresh_within = \"30d\"", "fresh_within = \"7d\"");
    replace_source(&ws, "pull_requests", &pulls);
    let env = |args: &[&str]| {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::common::Run::from(sb.command(&all).env("EVIDENCE_PG_URL", pg.url()).output().unwrap())
    };
    let config: toml::Table = toml::from_str(&std::fs::read_to_string(ws.join("quarterdeck.toml")).unwrap()).unwrap();
    for source in config["source"].as_array().unwrap() {
        match source["name"].as_str().unwrap() {
            name @ ("idp_auth_log" | "pull_requests") => env(&["refresh", name]).ok(),
            name => env(&["ingest", name]).ok(),
        };
    }
    env(&["documents", "collect"]).ok();
    env(&start).ok();
    let compared = |ws: &Path| {
        scalar(
            ws,
            "SELECT string_agg(s.control || ':' || s.population_count || ':' || s.fingerprint || ':' || r.key || ':' || r.rank, ',' ORDER BY s.control, s.spec, r.rank)
             FROM qd.samples s JOIN qd.sample_rows r USING (sample_id)",
        )
    };
    assert!(compared(&ws).contains("CHG-2:") && compared(&ws).contains("AC-1:"));
    assert_eq!(compared(&ws), compared(&ingested), "the placed demo drew other samples than the ingested one");
    // The inventory reads the evidence where it lies: the same systems, coverage and drift.
    let systems = |run: crate::common::Run| run.stdout;
    let there = systems(env(&["--format", "json", "systems", "--period", "2026-Q3"]));
    let copied = systems(sb.at(&ingested, &["--format", "json", "systems", "--period", "2026-Q3"]));
    assert!(there.contains("\"system\""), "{there}");
    assert_eq!(there, copied, "the inventory differs where the evidence lies elsewhere");

    // Verdicts, a finding, the packet and verify, end to end.
    let shown = env(&["--format", "json", "sample", "CHG-2", "--audit", "mock-q3"]).ok().json();
    let key = shown["rows"][0]["key"].as_str().unwrap().to_string();
    env(&["verdict", "mock-q3", "CHG-2", &key, "exception", "--note", "approval not found"]).ok();
    let finding = ["findings", "add", "--audit", "mock-q3", "--control", "CHG-2", "--title", "Unapproved merge"];
    env(&[&finding[..], &["--severity", "medium", "--owner", "ana@northwind.example", "--due", "2026-12-31"]].concat())
        .ok();
    env(&["packet", "mock-q3"]).ok();
    let packet = ws.join("packets/mock-q3");
    env(&["verify", "--packet", packet.to_str().unwrap()]).ok();
    env(&["verify"]).ok();
    assert!(contains_anywhere(&ws, SECRET).is_empty(), "the password was written");
}

const BACKUP_CONTROL: &str = r#"[[control]]
id = "RES-1"
title = "Every system is backed up every night"
criteria = ["A1.2"]
owner = "sre@acme.example"
frequency = "daily"
practice = "Nightly snapshots."

[[control.evidence]]
name = "nightly backups"
source = "backups"
where = "status = 'success'"
expect = "daily"
per = ["system"]
grace = "1h"
tests = { succeeded = "status = 'success'" }
"#;

#[test]
fn expected_occurrences_of_a_warehouse_source_are_counted_there_and_miss_the_same_nights() {
    let Some(pg) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let mut csv = String::from("backup_id,started_at,system,status\n");
    for day in 1..=31 {
        for system in ["orders-db", "billing-db"] {
            if system == "billing-db" && day == 15 {
                continue; // the missed night
            }
            csv.push_str(&format!("{system}-{day},2026-07-{day:02} 02:30:00,{system},success\n"));
        }
    }
    let make = |name: &str, source: &str| {
        let ws = sb.path().join(name);
        sb.run(&["init", ws.to_str().unwrap()]).ok();
        std::fs::write(ws.join("evidence/backups.csv"), &csv).unwrap();
        std::fs::write(ws.join("controls/change.toml"), BACKUP_CONTROL).unwrap();
        let config = std::fs::read_to_string(ws.join("quarterdeck.toml")).unwrap();
        std::fs::write(ws.join("quarterdeck.toml"), format!("{config}\n{source}")).unwrap();
        ws
    };
    let ingested = make(
        "ingested",
        "[[source]]\nname = \"backups\"\nformat = \"csv\"\npath = \"evidence/backups.csv\"\nkey = [\"backup_id\"]\ntimestamp = \"started_at\"\n",
    );
    sb.at(&ingested, &["ingest", "backups"]).ok();
    pg.copy_table(&ingested, "backups");
    let placed = make(
        "placed",
        &PG_SOURCE
            .replace("name = \"pull_requests\"", "name = \"backups\"")
            .replace("public.pull_requests", "public.backups")
            .replace("[\"pr_id\"]", "[\"backup_id\"]")
            .replace("\"merged_at\"", "\"started_at\""),
    );
    let run = |ws: &Path, args: &[&str]| {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::common::Run::from(sb.command(&all).env("EVIDENCE_PG_URL", pg.url()).output().unwrap())
    };
    run(&placed, &["refresh", "backups"]).ok();
    let slots = |ws: &Path| {
        let out = run(ws, &["--format", "json", "test", "RES-1", "--period", "2026-07"]);
        serde_json::from_str::<serde_json::Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr))
    };
    let (copied, there) = (slots(&ingested), slots(&placed));
    let expect = there.as_array().unwrap().iter().find(|t| t["test"] == "expect daily per system").unwrap();
    assert_eq!((expect["population"].as_u64(), expect["failed"].as_u64()), (Some(62), Some(1)), "{there}");
    assert!(expect["failing_keys"].to_string().contains("billing-db"), "{there}");
    assert_eq!(copied, there);

    // The inventory's observe rule reads the backups there too: the same drift.
    let inventory = "[inventory]\nreviewed_at = 2026-07-01\nreviewer = \"sre@acme.example\"\n\n\
                     [[observe]]\nsource = \"backups\"\ncolumn = \"system\"\n\n\
                     [[system]]\nid = \"orders-db\"\nkind = \"datastore\"\nowner = \"sre@acme.example\"\nin_scope = true\nadded = 2024-01-01\n";
    for ws in [&ingested, &placed] {
        std::fs::write(ws.join("systems.toml"), inventory).unwrap();
    }
    let drift = |ws: &Path| run(ws, &["--format", "json", "systems", "--period", "2026-07"]).stdout;
    assert!(drift(&placed).contains("billing-db"), "{}", drift(&placed));
    assert_eq!(drift(&placed), drift(&ingested));
}

#[test]
fn a_cancelled_session_stops_its_statement_in_postgres_at_once() {
    use quarterdeck::warehouse::{Cancel, Postgres, Session, Step, WarehouseError};
    use std::time::Duration;
    let Some(pg) = Cluster::start() else { return };
    let mut session = Postgres::from_url("pg", "EVIDENCE_PG_URL", &pg.url(), Duration::from_secs(60)).unwrap();
    let cancel = Cancel::default();
    session.cancel = cancel.clone();
    let session = Session::Postgres(session);
    let asking = std::thread::spawn({
        let cancel = cancel.clone();
        move || {
            std::thread::sleep(Duration::from_millis(500));
            cancel.request();
        }
    });
    let started = std::time::Instant::now();
    let ran = session.run(&[Step::Rows("SELECT pg_sleep(45)".into())], &mut |_, _| Ok(()));
    asking.join().unwrap();
    assert!(matches!(ran, Err(WarehouseError::Cancelled { .. })), "{ran:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // The server stopped the statement too (psql asked it to).
    let running = || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(45)%' AND pid <> pg_backend_pid()")
    };
    let waited = std::time::Instant::now();
    while running().trim() != "0" && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(running().trim(), "0");
    // The stop was for that statement: a session watching from now runs again.
    let Session::Postgres(mut again) = session else { unreachable!() };
    again.cancel = cancel.watch();
    let session = Session::Postgres(again);
    let mut rows = Vec::new();
    let mut keep = |_, fields| {
        rows.push(fields);
        Ok(())
    };
    session.run(&[Step::Rows("SELECT 1".into())], &mut keep).unwrap();
    assert_eq!(rows, [vec![Some("1".to_string())]]);
}

/// The TUI starts an audit whose draw waits on a locked PostgreSQL table:
/// the database thread is not the one waiting (the draw runs on tokio), so
/// the console answers meanwhile; the audit then starts with the samples the
/// CLI draws from the same rows ingested.
#[test]
fn the_tui_serves_the_console_while_a_draw_waits_on_postgres() {
    use std::time::{Duration, Instant};
    if crate::tui::tmux_missing() {
        return;
    }
    let Some(pg) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let copied = sb.example_workspace();
    controls_without_the_join(&copied);
    pg.copy_table(&copied, "pull_requests");
    let ws = pull_requests_in_postgres(&sb);
    let url = pg.url();
    let mut refresh = sb.command(&["--workspace", ws.to_str().unwrap(), "refresh", "pull_requests"]);
    crate::common::Run::from(refresh.env("EVIDENCE_PG_URL", &url).output().unwrap()).ok();

    // Held until it ends: every read of the table waits for it.
    const HELD: Duration = Duration::from_secs(8);
    let held = format!(
        "BEGIN; LOCK TABLE public.pull_requests IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({}); COMMIT;",
        HELD.as_secs()
    );
    let locked = "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' \
                  AND relation = 'public.pull_requests'::regclass";
    std::thread::scope(|scope| {
        let locker = scope.spawn(|| {
            pg.psql(&held);
            Instant::now()
        });
        let waited = Instant::now();
        while pg.psql(locked).trim() != "1" {
            assert!(waited.elapsed() < Duration::from_secs(5), "the lock was not taken");
            std::thread::sleep(Duration::from_millis(50));
        }
        let command = format!(
            "{}; echo QD-EXITED $?; sleep 30",
            crate::tui::quarterdeck_command_with(&sb, &ws, &[("EVIDENCE_PG_URL", &url)])
        );
        let tmux = crate::tui::Tmux::start("pg-draw", &sb, &command);
        tmux.wait_for(&["Dashboard"]);
        tmux.send(":");
        tmux.wait_for(&["Palette"]);
        for c in "start a mock".chars() {
            tmux.send(&c.to_string());
        }
        tmux.wait_for(&["Audits: Start a mock audit"]);
        tmux.send("Enter");
        tmux.wait_for(&["Start a mock audit", "Label (e.g. 2026-Q3)"]);
        tmux.send("Enter");
        // The draw now waits on the lock; the console is served all the same.
        tmux.send("7");
        assert!(tmux.run(&["send-keys", "-l", "SELECT 40 + 2 AS answer"]).status.success());
        tmux.send("Enter");
        tmux.wait_for(&["answer", "42"]);
        let answered = Instant::now();
        let released = locker.join().unwrap();
        assert!(answered < released, "the console answered only once the warehouse did");
        tmux.wait_for(&["started:", "sample(s) drawn"]);
        tmux.send("C-c");
        tmux.wait_for(&["QD-EXITED 0"]);
    });

    let (label, seed) = {
        let row = scalar(&ws, "SELECT label || ' ' || seed FROM qd.audits");
        let (label, seed) = row.split_once(' ').unwrap();
        (label.to_string(), seed.to_string())
    };
    sb.at(&copied, &["audit", "start", &label, "--controls", "all", "--seed", &seed]).ok();
    assert!(samples(&ws).contains("CHG-3"), "{}", samples(&ws));
    assert_eq!(samples(&ws), samples(&copied), "the TUI's draw from PostgreSQL differs from the CLI's");
}
