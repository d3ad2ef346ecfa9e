//! The sampling method in Spark SQL, in a local Spark session (pyspark):
//! every key of the fixture renders and ranks as in DuckDB, and a sample
//! Quarterdeck drew from a Parquet folder re-performs with the SQL that
//! docs/scale.md gives an auditor. Quarterdeck has no Spark client
//! (docs/scale.md says why); this is what holds the method to Spark.
//!
//! Runs where `QUARTERDECK_SPARK_PYTHON` (or `python3`) imports pyspark and
//! `java` runs; skips otherwise, unless QUARTERDECK_REQUIRE_SPARK is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quarterdeck::audit::sampling::rank::rank_hex;

use crate::common::{Sandbox, scalar};

/// A python that imports pyspark, where Java runs too.
fn spark_python() -> Option<PathBuf> {
    let python: PathBuf = std::env::var_os("QUARTERDECK_SPARK_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    let runs = |cmd: &mut Command| cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    let present =
        runs(Command::new(&python).args(["-c", "import pyspark"])) && runs(Command::new("java").arg("-version"));
    if !present {
        assert!(
            std::env::var_os("QUARTERDECK_REQUIRE_SPARK").is_none(),
            "QUARTERDECK_REQUIRE_SPARK is set, but {} has no pyspark or there is no java",
            python.display()
        );
        eprintln!("skipped: no pyspark in {} or no java", python.display());
        return None;
    }
    Some(python)
}

/// Each statement's rows (values as text), run in order in one local Spark session.
fn spark_sql(python: &Path, statements: &[String]) -> Vec<Vec<Vec<Option<String>>>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/spark/run_sql.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(serde_json::to_string(statements).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Spark failed:\n{stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A Spark SQL string literal: backslash is an escape there.
fn spark_literal(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".into(), |v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
}

#[derive(serde::Deserialize)]
struct Fixture {
    key: Vec<FixtureKey>,
}

#[derive(serde::Deserialize)]
struct FixtureKey {
    spark: Option<String>,
    literal: Option<String>,
    text: String,
    rank: String,
}

#[test]
fn every_key_type_of_the_fixture_renders_and_ranks_alike_in_spark() {
    let Some(python) = spark_python() else { return };
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/warehouse_keys.toml")).unwrap();
    let fixture: Fixture = toml::from_str(&text).unwrap();
    let keys: Vec<&FixtureKey> = fixture.key.iter().filter(|k| k.spark.is_some()).collect();
    assert!(keys.len() >= 10, "the fixture gives Spark types to {} keys", keys.len());
    let cast = |k: &FixtureKey| {
        format!(
            "coalesce(CAST(CAST({} AS {}) AS STRING), '')",
            spark_literal(k.literal.as_deref()),
            k.spark.as_deref().unwrap_or_default()
        )
    };
    let mut statements: Vec<String> =
        keys.iter().map(|k| format!("SELECT {c}, sha2(concat('fixture', ':', {c}), 256)", c = cast(k))).collect();
    // All of them as one key of many columns, joined by U+001F.
    let joined = keys.iter().map(|k| cast(k)).collect::<Vec<_>>().join(" || chr(31) || ");
    statements.push(format!("SELECT sha2(concat('fixture', ':', {joined}), 256)"));
    let results = spark_sql(&python, &statements);
    assert_eq!(results.len(), statements.len());
    for (key, rows) in keys.iter().zip(&results) {
        let got = &rows[0];
        assert_eq!(got[0].as_deref(), Some(key.text.as_str()), "Spark, {:?}", key.spark);
        assert_eq!(got[1].as_deref(), Some(key.rank.as_str()), "Spark, {:?}", key.spark);
    }
    let texts: Vec<&str> = keys.iter().map(|k| k.text.as_str()).collect();
    assert_eq!(results[keys.len()][0][0].as_deref(), Some(rank_hex("fixture", &texts.join("\u{1f}")).as_str()));
}

const SIGNINS: &str = r#"
[[source]]
name = "signins"
format = "parquet"
mode = "in_place"
path = "lake/signins"
key = ["at", "actor"]
timestamp = "at"
fresh_within = "400d"
"#;

const CONTROL: &str = r#"[[control]]
id = "SIGNIN-1"
title = "Sign-ins are made with MFA"
criteria = ["CC6.1"]
owner = "security@acme.example"
frequency = "per-event"
practice = "Every sign-in to production is made with a second factor."

[[control.evidence]]
name = "signins"
source = "signins"
sample = 25
tests = { mfa = "mfa" }
"#;

/// The SQL block of docs/scale.md an auditor re-performs a Spark sample with.
fn documented_reperform_sql() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scale.md")).unwrap();
    let block =
        doc.split("<!-- spark-reperform -->").nth(1).unwrap().split("<!-- /spark-reperform -->").next().unwrap();
    block.trim().trim_start_matches("```sql").trim_end_matches("```").trim().to_string()
}

#[test]
fn a_sample_drawn_from_a_parquet_folder_re_performs_in_spark_with_the_documented_sql() {
    let Some(python) = spark_python() else { return };
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    // Sign-ins across the quarter's edges, with sub-second times and an
    // actor that is sometimes NULL, sometimes '' and sometimes not ASCII.
    let lake = ws.join("lake/signins");
    std::fs::create_dir_all(ws.join("lake")).unwrap();
    duckdb::Connection::open_in_memory()
        .unwrap()
        .execute_batch(&format!(
            "COPY (SELECT TIMESTAMP '2026-06-20 00:00:00' + i * INTERVAL 1597 SECOND + (i % 4) * INTERVAL 250 MILLISECOND AS at,
                    CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN '' WHEN i % 13 = 0 THEN 'zoë-' || i ELSE 'user' || (i % 97) END AS actor,
                    i % 5 <> 0 AS mfa,
                    strftime(TIMESTAMP '2026-06-20 00:00:00' + i * INTERVAL 1597 SECOND, '%Y-%m') AS month
             FROM range(6000) AS t(i))
             TO '{}' (FORMAT parquet, PARTITION_BY (month))",
            lake.display()
        ))
        .unwrap();
    let config = std::fs::read_to_string(ws.join("quarterdeck.toml")).unwrap();
    std::fs::write(ws.join("quarterdeck.toml"), format!("{config}{SIGNINS}")).unwrap();
    std::fs::write(ws.join("controls/signins.toml"), CONTROL).unwrap();
    sb.at(&ws, &["refresh", "signins"]).ok();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    let recorded =
        |what: &str| scalar(&ws, &format!("SELECT {what} FROM qd.samples WHERE control = 'SIGNIN-1' AND current"));
    let (seed, count, fingerprint) = (recorded("seed"), recorded("population_count"), recorded("fingerprint"));
    let keys: Vec<String> = scalar(
        &ws,
        "SELECT string_agg(r.key, chr(10) ORDER BY r.rank) FROM qd.samples s JOIN qd.sample_rows r USING (sample_id)
         WHERE s.control = 'SIGNIN-1' AND s.current",
    )
    .split('\n')
    .map(str::to_string)
    .collect();
    assert_eq!(keys.len(), 25);
    assert!(count.parse::<u64>().unwrap() > 4000, "{count}");

    let sql = documented_reperform_sql()
        .replace("parquet.`lake/signins`", &format!("parquet.`{}`", lake.display()))
        .replace("'SEED'", &spark_literal(Some(&seed)));
    let statements: Vec<String> =
        sql.split(";\n").map(|s| s.trim().trim_end_matches(';').to_string()).filter(|s| !s.is_empty()).collect();
    assert_eq!(statements.len(), 5, "{sql}");
    let results = spark_sql(&python, &statements);
    let counted = &results[3][0];
    assert_eq!(counted[0].as_deref(), Some(count.as_str()), "the population count in Spark");
    assert_eq!(counted[1].as_deref(), Some(fingerprint.as_str()), "the fingerprint in Spark");
    let drawn: Vec<String> = results[4].iter().map(|row| row[0].clone().unwrap_or_default()).collect();
    assert_eq!(drawn, keys, "the sample in Spark");
    // The sampled keys carry the edge cases the key's text must survive.
    assert!(drawn.iter().all(|k| k.contains('\u{1f}') && k.starts_with("2026-")), "{drawn:?}");
}
