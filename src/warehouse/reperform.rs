//! The IPE sheet's SQL for a population in PostgreSQL: its count and
//! fingerprint, and its sample, by SQL alone, to run as-is in `psql`
//! against the warehouse (docs/scale.md). The rank and the fingerprint are
//! those of DESIGN.md's method: lowercase hex sha256, the UTF-8 bytes of
//! the canonical key, and a binary collation ("C") for every sort.

use crate::workspace::population::key_sql;
use crate::workspace::sql::quote_literal;

fn keyed(sql: &str, key_columns: &[String]) -> String {
    format!("WITH population AS (\n{sql}\n),\nkeyed AS (SELECT {} AS qd_key FROM population)", key_sql(key_columns))
}

/// `count` and `fingerprint` of the population, in psql alone.
pub fn recount_sql(sql: &str, key_columns: &[String]) -> String {
    format!(
        "{},\ndigests AS (SELECT encode(sha256(convert_to(qd_key, 'UTF8')), 'hex') COLLATE \"C\" AS digest FROM keyed)\n\
         SELECT count(*) AS population,\n       \
         encode(sha256(convert_to(coalesce(string_agg(digest, chr(10) ORDER BY digest), ''), 'UTF8')), 'hex') AS fingerprint\n\
         FROM digests;",
        keyed(sql, key_columns)
    )
}

/// The sample in psql alone: key and rank of the first `size` rows by rank.
pub fn reperform_sql(sql: &str, key_columns: &[String], seed: &str, size: u64) -> String {
    format!(
        "{}\nSELECT replace(qd_key, chr(31), ' | ') AS key,\n       \
         encode(sha256(convert_to({} || ':' || qd_key, 'UTF8')), 'hex') COLLATE \"C\" AS rank\n\
         FROM keyed ORDER BY rank LIMIT {size};",
        keyed(sql, key_columns),
        quote_literal(seed)
    )
}
