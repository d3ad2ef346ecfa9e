//! `period_start` and `period_end` in a mapping's SQL (a filter, a
//! population query, a test): the audit period's bounds. DuckDB's own parser
//! finds where the text names them as unqualified columns, and those places
//! are written over with the period's literals, so the SQL that runs — and
//! is recorded as `population.sql` — holds the period itself and runs as-is
//! in the DuckDB CLI. `t.period_start` (qualified) stays a table's column.

use std::ops::Range;

use duckdb::Connection;

/// The names a mapping may use for the period's bounds.
pub const NAMES: [&str; 2] = ["period_start", "period_end"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Start,
    End,
}

/// SQL text with the places where it names the period's bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodText {
    text: String,
    uses: Vec<(Range<usize>, Bound)>,
}

/// What `SELECT (` puts before an expression parsed on its own.
const EXPRESSION_PREFIX: &str = "SELECT (";

impl PeriodText {
    /// A whole statement (a population query, or `SELECT … WHERE (filter)`).
    pub fn statement(conn: &Connection, text: &str) -> Self {
        Self { text: text.to_string(), uses: uses(conn, text, 0..text.len()) }
    }

    /// An expression (a test or a filter) parsed on its own.
    pub fn expression(conn: &Connection, text: &str) -> Self {
        let wrapped = format!("{EXPRESSION_PREFIX}{text})");
        let shift = EXPRESSION_PREFIX.len();
        Self { text: text.to_string(), uses: uses(conn, &wrapped, shift..shift + text.len()) }
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the text names either bound.
    pub fn names_the_period(&self) -> bool {
        !self.uses.is_empty()
    }

    /// The text with each bound written in as the literal given for it.
    pub fn bind(&self, start: &str, end: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + 32 * self.uses.len());
        let mut at = 0;
        for (range, bound) in &self.uses {
            out.push_str(&self.text[at..range.start]);
            out.push_str(match bound {
                Bound::Start => start,
                Bound::End => end,
            });
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// Where the parsed statement names a bound as an unqualified column, as
/// byte ranges of the caller's text (which is `within` of `parsed`). A text
/// that does not parse has none: whatever runs it reports the syntax error
/// with its own message.
fn uses(conn: &Connection, parsed: &str, within: Range<usize>) -> Vec<(Range<usize>, Bound)> {
    let lower = parsed[within.clone()].to_ascii_lowercase();
    if !NAMES.iter().any(|name| lower.contains(name)) {
        return Vec::new();
    }
    let Ok(json) = conn.query_row("SELECT json_serialize_sql(?)", [parsed], |r| r.get::<_, String>(0)) else {
        return Vec::new();
    };
    let Ok(tree) = serde_json::from_str::<serde_json::Value>(&json) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    collect(&tree, &mut found);
    let mut out: Vec<(Range<usize>, Bound)> = found
        .into_iter()
        .filter_map(|(start, len, bound)| {
            let range = start..start.checked_add(len)?;
            if range.start < within.start || range.end > within.end {
                return None;
            }
            // The range must be the name itself, plain or double-quoted.
            let written = parsed.get(range.clone())?.trim_matches('"').to_ascii_lowercase();
            (written == NAMES[bound as usize]).then(|| (range.start - within.start..range.end - within.start, bound))
        })
        .collect();
    out.sort_by_key(|(range, _)| range.start);
    out.dedup_by_key(|(range, _)| range.start);
    out
}

fn collect(value: &serde_json::Value, found: &mut Vec<(usize, usize, Bound)>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("class").and_then(|c| c.as_str()) == Some("COLUMN_REF")
                && let Some(bound) = bound_named(map.get("column_names"))
                && let (Some(start), Some(len)) = (
                    map.get("query_location").and_then(|v| v.as_u64()),
                    map.get("query_location_length").and_then(|v| v.as_u64()),
                )
                && let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len))
            {
                found.push((start, len, bound));
            }
            map.values().for_each(|v| collect(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
        _ => {}
    }
}

/// `["period_start"]` or `["period_end"]`: one name, unqualified.
fn bound_named(names: Option<&serde_json::Value>) -> Option<Bound> {
    let names = names?.as_array()?;
    let [name] = names.as_slice() else {
        return None;
    };
    match name.as_str()?.to_ascii_lowercase().as_str() {
        "period_start" => Some(Bound::Start),
        "period_end" => Some(Bound::End),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection::open_in_memory().expect("in-memory database")
    }

    #[test]
    fn unqualified_names_are_bound_and_nothing_else() {
        let conn = conn();
        let sql = "SELECT 'héé period_start' AS a, \"period_start\", t.period_end FROM t \
                   WHERE x < period_end AND EXISTS (SELECT 1 FROM d WHERE d.e >= PERIOD_START)";
        let text = PeriodText::statement(&conn, sql);
        assert!(text.names_the_period());
        assert_eq!(
            text.bind("S", "E"),
            "SELECT 'héé period_start' AS a, S, t.period_end FROM t \
             WHERE x < E AND EXISTS (SELECT 1 FROM d WHERE d.e >= S)"
        );
    }

    #[test]
    fn an_expression_is_bound_where_it_names_the_period() {
        let conn = conn();
        let text = PeriodText::expression(&conn, "effective >= period_start - INTERVAL 1 YEAR");
        assert_eq!(
            text.bind("TIMESTAMP '2026-07-01 00:00:00'", "E"),
            "effective >= TIMESTAMP '2026-07-01 00:00:00' - INTERVAL 1 YEAR"
        );
    }

    #[test]
    fn text_without_the_names_or_that_does_not_parse_is_left_as_written() {
        let conn = conn();
        for sql in ["SELECT 1", "SELECT period_start FROM (", "approved_by IS NOT NULL"] {
            let text = PeriodText::expression(&conn, sql);
            assert_eq!(text.bind("S", "E"), sql);
        }
        assert!(!PeriodText::statement(&conn, "SELECT 1").names_the_period());
    }
}
