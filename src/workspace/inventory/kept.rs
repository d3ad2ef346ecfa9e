//! Sightings kept at ingest, so that `systems` reads a small table instead
//! of scanning the evidence. For each set — a source, a column, a `where` —
//! that an observe rule or a coverage spec asks of a workspace source, every
//! value of the column per 15-minute bucket of the source's timestamp, with
//! its first and last instant and its row count (`qd.sightings`). A period
//! whose bounds fall on 15-minute marks (every whole local day of every time
//! zone in use does) is then the buckets inside it, and its answer is the
//! grouped scan's, exactly.
//!
//! Kept exact by construction: the ingest that changes a source's rows
//! forgets its sets in the same transaction, and keeps them again after it
//! commits. A set is only kept where it answers as the scan would: a source
//! loaded into the workspace (not a warehouse or a lake read in place), a
//! TIMESTAMP timestamp, a `where` that names neither period bound nor any
//! function whose answer depends on the moment it runs. Anything else — a
//! rule added since its source's last ingest, a `where` changed, a keep that
//! failed — finds no set, and the scan answers.

use chrono::DateTime;
use duckdb::params;

use super::observe::{self, Seen};
use super::{Inventory, InventoryError, drift};
use crate::workspace::Workspace;
use crate::workspace::config::{IngestMode, SourceConfig};
use crate::workspace::mapping::{Located, Mappings};
use crate::workspace::period::Period;
use crate::workspace::population;
use crate::workspace::query::{QueryError, bounded};
use crate::workspace::sql::quote_ident;

/// What a set is kept of: a source, a column of it, a `where`.
type Set<'a> = (&'a Located<String>, &'a str, Option<&'a Located<String>>);

/// The width of a bucket, in microseconds.
const BUCKET_US: i64 = 15 * 60 * 1_000_000;

/// Functions whose answer depends on when or where the statement runs: a
/// `where` calling one does not pick the same rows at ingest as in a report.
const MOMENT_FUNCTIONS: &[&str] = &[
    "now",
    "current_timestamp",
    "get_current_timestamp",
    "transaction_timestamp",
    "current_date",
    "today",
    "current_time",
    "get_current_time",
    "current_localtime",
    "current_localtimestamp",
    "localtime",
    "localtimestamp",
    "current_setting",
    "current_query",
    "current_database",
    "current_schema",
    "current_schemas",
    "current_catalog",
    "random",
    "gen_random_uuid",
    "uuid",
    "uuidv4",
    "uuidv7",
];

/// Forgets every set kept for `source`; called in the transaction that
/// changes its rows.
pub fn forget(conn: &duckdb::Connection, source: &str) -> duckdb::Result<()> {
    conn.execute(
        "DELETE FROM qd.sightings WHERE set_id IN (SELECT set_id FROM qd.sighting_sets WHERE source = ?)",
        [source],
    )?;
    conn.execute("DELETE FROM qd.sighting_sets WHERE source = ?", [source])?;
    Ok(())
}

/// Keeps the sets that systems.toml's observe rules and the mappings'
/// coverage specs ask of `source`, from its rows as they are now; how many
/// were kept. A set that cannot be kept is left to the scan (and logged):
/// a mistake in systems.toml or a mapping is `check`'s to report, never a
/// reason for an ingest to fail.
pub fn keep(ws: &Workspace, source: &str) -> usize {
    if !ws.config.source(source).is_some_and(keepable) {
        return 0;
    }
    let inventory = Inventory::load(&ws.root);
    let mappings = Mappings::load(&ws.root);
    let mut asks = observe::asks(ws, &inventory);
    asks.extend(drift::coverage_asks(ws, &mappings).1);
    let mut sets: Vec<Set> = Vec::new();
    for ask in &asks {
        let Some((of, filter)) = ask.shares.filter(|(of, _)| of.value == source) else { continue };
        let text = |f: Option<&Located<String>>| f.map(|f| f.value.clone());
        if !sets.iter().any(|(_, column, known)| *column == ask.column && text(*known) == text(filter)) {
            sets.push((of, ask.column, filter));
        }
    }
    let mut kept = 0;
    for (of, column, filter) in sets {
        match keep_set(ws, of, column, filter) {
            Ok(true) => kept += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(source, column, error = %e, "sightings not kept; the scan answers"),
        }
    }
    kept
}

/// The sightings kept for (`source`, `column`, `filter`) in `period`, as the
/// grouped scan would give them; `None` where no set answers it exactly.
pub(super) fn lookup(
    ws: &Workspace,
    source: &str,
    column: &str,
    filter: Option<&str>,
    period: &Period,
) -> Result<Option<Vec<Seen>>, InventoryError> {
    let Some(config) = ws.config.source(source).filter(|s| keepable(s)) else { return Ok(None) };
    let (start, end) = (period.start.timestamp_micros(), period.end.timestamp_micros());
    if start % BUCKET_US != 0 || end % BUCKET_US != 0 {
        return Ok(None);
    }
    let conn = &ws.conn;
    let set: Option<i64> = conn
        .prepare_cached(
            "SELECT max(set_id) FROM qd.sighting_sets
             WHERE source = ? AND column_name = ? AND filter IS NOT DISTINCT FROM ? AND timestamp = ?",
        )
        .and_then(|mut stmt| stmt.query_row(params![source, column, filter, config.timestamp], |r| r.get(0)))
        .map_err(QueryError::from)?;
    let Some(set) = set else { return Ok(None) };
    let seen = bounded(ws, || {
        let mut stmt = conn.prepare_cached(
            "SELECT value, min(first_us), max(last_us), CAST(sum(rows) AS UBIGINT) FROM qd.sightings
             WHERE set_id = ? AND bucket >= ? AND bucket < ? GROUP BY value ORDER BY value",
        )?;
        let rows = stmt.query_map(params![set, start, end], |r| {
            let instant = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap_or_default();
            Ok(Seen { value: r.get(0)?, first: instant(r.get(1)?), last: instant(r.get(2)?), rows: r.get(3)? })
        })?;
        rows.collect::<duckdb::Result<Vec<_>>>()
    })?;
    Ok(Some(seen))
}

/// A source whose rows only an ingest changes, in the workspace's tables.
fn keepable(source: &SourceConfig) -> bool {
    source.warehouse.is_none() && source.mode != IngestMode::InPlace
}

/// Keeps one set (replacing any kept before); false where the set would not
/// answer every period as the scan does.
fn keep_set(
    ws: &Workspace,
    source: &Located<String>,
    column: &str,
    filter: Option<&Located<String>>,
) -> Result<bool, InventoryError> {
    let owner = format!("inventory sightings {}.{column}", source.value);
    let population = population::of_source(ws, &owner, source, filter)?;
    let timestamp = population.column_type(&population.period_column);
    if population.warehouse.is_some()
        || population.period_until.is_some()
        || population.base_names_the_period()
        || timestamp != Some("TIMESTAMP")
    {
        return Ok(false);
    }
    let at = quote_ident(&population.period_column);
    let of = quote_ident(column);
    let select = format!(
        "SELECT CAST({of} AS VARCHAR) AS value, epoch_us(time_bucket(INTERVAL 15 MINUTE, {at})) AS bucket,\n\
         epoch_us(min({at})) AS first_us, epoch_us(max({at})) AS last_us, count(*) AS rows\n\
         FROM ({}\n) AS population WHERE {of} IS NOT NULL AND {at} IS NOT NULL GROUP BY 1, 2",
        population.base_sql
    );
    let calls = ws.guard().functions_called(&select).map_err(|refusal| InventoryError::Refused(refusal.to_string()))?;
    if calls.iter().any(|f| MOMENT_FUNCTIONS.contains(&f.as_str())) {
        return Ok(false);
    }
    let conn = &ws.conn;
    let filter = filter.map(|f| f.value.as_str());
    conn.execute_batch("BEGIN TRANSACTION").map_err(QueryError::from)?;
    let written = bounded(ws, || {
        conn.execute(
            "DELETE FROM qd.sightings WHERE set_id IN (SELECT set_id FROM qd.sighting_sets
             WHERE source = ? AND column_name = ? AND filter IS NOT DISTINCT FROM ?)",
            params![source.value, column, filter],
        )?;
        conn.execute(
            "DELETE FROM qd.sighting_sets WHERE source = ? AND column_name = ? AND filter IS NOT DISTINCT FROM ?",
            params![source.value, column, filter],
        )?;
        let set: i64 = conn.query_row("SELECT coalesce(max(set_id), 0) + 1 FROM qd.sighting_sets", [], |r| r.get(0))?;
        conn.execute(
            "INSERT INTO qd.sighting_sets VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMP))",
            params![set, source.value, column, filter, population.period_column, ws.now_text()],
        )?;
        // In bucket order, so a period reads only its own row groups.
        conn.execute_batch(&format!("INSERT INTO qd.sightings SELECT {set}, * FROM ({select}) ORDER BY bucket"))?;
        conn.execute_batch("COMMIT")
    });
    if written.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    written?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::inventory::observe::{grouped, rule_population};
    use crate::workspace::inventory::scan::{self, tests::workspace_with};

    const RULES: &str = r#"
[[observe]]
source = "deploys"
column = "service"

[[observe]]
source = "deploys"
column = "service"
where = "environment = 'production'"

[[observe]]
source = "deploys"
column = "service"
where = "deploys.environment <> 'dev'"

[[observe]]
source = "deploys"
column = "environment"
where = "epoch_ms(deployed_at) < epoch_ms(now())"
"#;

    fn periods(ws: &Workspace) -> Vec<Period> {
        ["2026-Q3", "2026-07", "2026-09", "2026-Q4", "2026"]
            .iter()
            .map(|label| Period::parse(label, ws.config.timezone).unwrap())
            .collect()
    }

    /// Each rule's kept answer (None: not kept) beside its own scan's.
    fn answers(ws: &Workspace, period: &Period) -> Vec<(Option<Vec<Seen>>, Vec<Seen>)> {
        let inventory = Inventory::load(&ws.root);
        inventory
            .observe
            .iter()
            .map(|rule| {
                let filter = rule.filter.as_ref().map(|f| f.value.as_str());
                let kept = lookup(ws, &rule.source.value, &rule.column.value, filter, period).unwrap();
                let scanned = grouped(ws, &rule_population(ws, rule).unwrap(), &rule.column.value, period).unwrap();
                (kept, scanned)
            })
            .collect()
    }

    #[test]
    fn kept_sightings_answer_every_period_as_the_scan_does() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace_with(dir.path(), RULES);
        for period in periods(&ws) {
            let answers = answers(&ws, &period);
            for (kept, scanned) in &answers[..3] {
                assert_eq!(kept.as_ref(), Some(scanned), "{}", period.label);
            }
            // A `where` that depends on the moment it runs is not kept.
            assert_eq!(answers[3].0, None);
            assert!(!answers[3].1.is_empty() || period.label == "2026-Q4");
        }
        assert!(!answers(&ws, &periods(&ws)[0])[1].1.is_empty());
    }

    #[test]
    fn an_ingest_forgets_its_sources_sets_and_keeps_them_again() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace_with(dir.path(), RULES);
        let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
        let before = answers(&ws, &period);
        // New deploys, one of a service never seen before.
        let more = dir.path().join("evidence/more.csv");
        std::fs::write(
            &more,
            "deploy_id,deployed_at,environment,service\n\
             n-1,2026-08-01 12:00:00,production,svc-new\n\
             n-2,2026-08-02 03:59:59,production,svc-1\n",
        )
        .unwrap();
        crate::workspace::ingest::ingest(&ws, "deploys", &[more]).unwrap();
        let after = answers(&ws, &period);
        assert_ne!(before[1], after[1]);
        for (kept, scanned) in &after[..3] {
            assert_eq!(kept.as_ref(), Some(scanned));
        }
        assert!(after[1].1.iter().any(|seen| seen.value == "svc-new" && seen.rows == 1));
        // Forgotten (as an ingest does in its transaction): the scan answers, the same.
        forget(&ws.conn, "deploys").unwrap();
        assert!(answers(&ws, &period).iter().all(|(kept, _)| kept.is_none()));
        let inventory = Inventory::load(&ws.root);
        let asks = observe::asks(&ws, &inventory);
        let scanned = scan::seen(&ws, &asks, &period).unwrap();
        assert_eq!(keep(&ws, "deploys"), 3);
        assert_eq!(scan::seen(&ws, &asks, &period).unwrap(), scanned);
    }

    #[test]
    fn a_rule_added_since_the_last_ingest_is_answered_by_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace_with(dir.path(), RULES);
        let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
        let added = format!(
            "{RULES}\n[[observe]]\nsource = \"deploys\"\ncolumn = \"service\"\nwhere = \"environment = 'staging'\"\n"
        );
        std::fs::write(dir.path().join("systems.toml"), added).unwrap();
        let answers = answers(&ws, &period);
        let (kept, scanned) = &answers[4];
        assert_eq!(*kept, None);
        let inventory = Inventory::load(&ws.root);
        let asks = observe::asks(&ws, &inventory);
        assert_eq!(&scan::seen(&ws, &asks, &period).unwrap()[4], scanned);
        assert!(!scanned.is_empty());
    }
}
