//! Parquet read in place, end to end with the real binary: the example's
//! deploys moved into a hive-partitioned lake folder give the same audit
//! samples as the same rows ingested; the packet verifies, and a partition
//! rewritten under the frozen sample is named by `verify --packet`.

use std::path::Path;

use crate::common::{Sandbox, scalar};

const LAKE_SOURCE: &str = r#"[[source]]
name = "deploys"
format = "parquet"
mode = "in_place"
path = "lake/deploys"
key = ["deploy_id"]
timestamp = "deployed_at"
fresh_within = "2d"
"#;

/// Writes `evidence/deploys.csv` of `ws` as Parquet, one folder per environment.
fn write_lake(ws: &Path, extra_where: &str) {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let csv = ws.join("evidence/deploys.csv");
    let out = ws.join("lake/deploys");
    std::fs::create_dir_all(ws.join("lake")).unwrap();
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM read_csv('{}') {extra_where}) TO '{}' (FORMAT parquet, PARTITION_BY (environment), OVERWRITE_OR_IGNORE)",
        csv.display(),
        out.display()
    ))
    .unwrap();
}

fn samples(ws: &Path) -> String {
    scalar(
        ws,
        "SELECT string_agg(s.control || ':' || s.population_count || ':' || s.fingerprint || ':' || r.key, ',' ORDER BY s.control, s.spec, r.rank)
         FROM qd.samples s JOIN qd.sample_rows r USING (sample_id)",
    )
}

#[test]
fn a_lake_folder_samples_like_the_same_rows_ingested_and_verify_names_a_rewritten_partition() {
    let sb = Sandbox::new();
    let copied = sb.example_workspace();
    sb.at(&copied, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();

    let lake = sb.path().join("lake-ws");
    sb.run(&["init", lake.to_str().unwrap()]).ok();
    write_lake(&lake, "");
    let config = std::fs::read_to_string(lake.join("quarterdeck.toml")).unwrap();
    let start = config.find("[[source]]\nname = \"deploys\"").unwrap();
    let end = start + config[start..].find("\n\n").unwrap() + 1;
    std::fs::write(lake.join("quarterdeck.toml"), format!("{}{LAKE_SOURCE}{}", &config[..start], &config[end..]))
        .unwrap();
    let refreshed = sb.at(&lake, &["refresh", "deploys"]).ok();
    assert!(refreshed.stdout.contains("refreshed `deploys` in place"), "{}", refreshed.stdout);
    assert!(refreshed.stdout.contains("environment=production"), "{}", refreshed.stdout);
    sb.at(&lake, &["ingest", "pull_requests"]).ok();
    assert_eq!(scalar(&lake, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'deploys'"), "0");
    sb.at(&lake, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    assert!(!samples(&lake).is_empty());
    assert_eq!(samples(&lake), samples(&copied), "the lake and the copy draw other samples");
    // The refresh replays from the action log like every ingest run.
    sb.at(&lake, &["verify"]).ok();

    // The packet verifies while the lake is as drawn…
    sb.at(&lake, &["packet", "2026-Q3"]).ok();
    let packet = lake.join("packets/2026-Q3");
    sb.at(&lake, &["verify", "--packet", packet.to_str().unwrap()]).ok();
    // …and names the partition rewritten under the frozen sample.
    write_lake(&lake, "WHERE deploy_id <> 'd-0001'");
    let run = sb.at(&lake, &["verify", "--packet", packet.to_str().unwrap()]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("environment=production") && said.contains("rewritten"), "{said}");
    // A draw now is refused until the lake is refreshed.
    let refused = sb.at(&lake, &["audit", "start", "2026-Q4", "--seed", "s"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("quarterdeck refresh deploys"), "{}", refused.stderr);
}
