//! The IPE sheet's SQL for a population in a warehouse: its count and
//! fingerprint, and its sample, by SQL alone, to run as-is in the engine's
//! own client (`psql`, the Trino CLI) against the warehouse
//! (docs/scale.md). The rank and the fingerprint are those of DESIGN.md's
//! method: lowercase hex sha256, the UTF-8 bytes of the canonical key, and
//! a binary order for every sort.

use super::Dialect;
use crate::workspace::population::key_sql;
use crate::workspace::sql::quote_literal;

fn keyed(sql: &str, key_columns: &[String]) -> String {
    format!("WITH population AS (\n{sql}\n),\nkeyed AS (SELECT {} AS qd_key FROM population)", key_sql(key_columns))
}

/// `count` and `fingerprint` of the population, in the engine alone.
pub fn recount_sql(dialect: Dialect, sql: &str, key_columns: &[String]) -> String {
    format!(
        "{},\ndigests AS (SELECT {} AS digest FROM keyed)\n\
         SELECT count(*) AS population,\n       {} AS fingerprint\nFROM digests;",
        keyed(sql, key_columns),
        dialect.sha256_hex("qd_key"),
        dialect.sha256_hex(&dialect.joined_sorted("digest")),
    )
}

/// The sample in the engine alone: key and rank of the first `size` rows by rank.
pub fn reperform_sql(dialect: Dialect, sql: &str, key_columns: &[String], seed: &str, size: u64) -> String {
    format!(
        "{}\nSELECT replace(qd_key, chr(31), ' | ') AS key,\n       {} AS rank\n\
         FROM keyed ORDER BY rank LIMIT {size};",
        keyed(sql, key_columns),
        dialect.sha256_hex(&format!("{} || ':' || qd_key", quote_literal(seed)))
    )
}
