//! Expected occurrences: a periodic control (a nightly backup per system, a
//! weekly scan, a quarterly access review) must leave a row in every slot of
//! its calendar. The gap is the row that is not there, which no sample can
//! draw: each empty slot whose window has closed is an exception. One grouped
//! scan per spec (its `per` values × 15-minute buckets); the calendar is
//! `workspace::calendar`, pure code.

mod judged;
mod tally;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::AuditError;
use crate::workspace::Workspace;
use crate::workspace::calendar::{self, Expect, Grace, Slot};
use crate::workspace::inventory::Inventory;
use crate::workspace::mapping::{Control, EvidenceSpec};
use crate::workspace::period::Period;
use crate::workspace::population::Population;
use crate::workspace::query::bounded;
use crate::workspace::sql::quote_ident;
pub use judged::{Occurrences, SlotOutcome, SlotRef, SlotState};
use tally::Tally;

/// Rows per (`per` values, 15-minute bucket in UTC microseconds) counted
/// in the warehouse the population stays in, in its SQL, into `tally`; the SQL.
fn warehouse_groups(
    session: &crate::warehouse::Session,
    population: &Population,
    (values, events, where_clause): (&[String], &str, &str),
    is_date: bool,
    (tally, resolve): (&mut Tally, &impl Fn(Vec<String>) -> Vec<String>),
) -> Result<String, AuditError> {
    let column = quote_ident(&population.period_column);
    let dialect = session.dialect();
    let bucket = if is_date {
        format!("CAST({} AS BIGINT) * 1000000", dialect.epoch_seconds(&format!("CAST({column} AS timestamp)")))
    } else {
        format!("{} * 900000000", dialect.bucket(&column))
    };
    let width = values.len();
    let positions = (1..=width + 1).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {}{bucket} AS bucket, count(*) AS n FROM ({events}) AS population{where_clause} GROUP BY {positions} ORDER BY {positions}",
        values.iter().map(|v| format!("{v}, ")).collect::<String>(),
    );
    session.run(&[crate::warehouse::Step::Rows(sql.clone())], &mut |_, fields| {
        let number = |f: Option<&Option<String>>| f.and_then(|m| m.as_deref()).and_then(|m| m.parse::<i64>().ok());
        let micros = number(fields.get(width)).unwrap_or_default();
        let rows = number(fields.get(width + 1)).unwrap_or_default().max(0) as u64;
        let parts = fields.iter().take(width).map(|f| f.as_deref().unwrap_or_default());
        tally.add(parts, micros, rows, resolve);
        Ok(())
    })?;
    Ok(sql)
}

/// The slots of `spec` in `period`, judged at `now`; `None` for a spec
/// without `expect`.
pub fn check(
    ws: &Workspace,
    inventory: &Inventory,
    control: &Control,
    spec: &EvidenceSpec,
    population: &Population,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Option<Occurrences>, AuditError> {
    let Some(schedule) = &spec.schedule else { return Ok(None) };
    let tz = ws.config.timezone;
    let slots = calendar::slots(schedule.expect, period.start_date, period.end_date);
    let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        slots.iter().map(|s| calendar::window(s, schedule.grace, tz)).collect();
    let (Some(from), Some(to)) = (windows.iter().map(|w| w.0).min(), windows.iter().map(|w| w.1).max()) else {
        return Ok(Some(empty(control, spec, schedule.expect, schedule.grace, String::new())));
    };
    let window = Period::of_instants(format!("{}..{}", from.to_rfc3339(), to.to_rfc3339()), from, to, tz);
    let per = &schedule.per.value;
    let values: Vec<String> = per.iter().map(|c| format!("CAST({} AS VARCHAR)", quote_ident(c))).collect();
    let not_null: Vec<String> = per.iter().map(|c| format!("{} IS NOT NULL", quote_ident(c))).collect();
    let is_date = population.column_type(&population.period_column) == Some("DATE");
    let where_clause = if not_null.is_empty() { String::new() } else { format!(" WHERE {}", not_null.join(" AND ")) };
    let events = population.events_sql(period, &window);
    // Which values must fill each slot: the inventory's systems the spec
    // applies to (while in service), or every value seen.
    let by_inventory = spec
        .applies_to
        .as_ref()
        .filter(|_| spec.system.as_ref().is_some_and(|s| per.len() == 1 && per[0] == s.value) && inventory.present);
    let resolve = |tuple: Vec<String>| match by_inventory {
        Some(_) => tuple.into_iter().map(|v| inventory.resolve_any(&v).to_string()).collect(),
        None => tuple,
    };
    let mut tally = Tally::new(&windows, is_date, tz);
    let sql = match &population.warehouse {
        Some(warehouse) => {
            let session = crate::warehouse::session_in(ws, warehouse)?;
            warehouse_groups(&session, population, (&values, &events, &where_clause), is_date, (&mut tally, &resolve))?
        }
        None => {
            // 15-minute buckets: every slot's window starts and ends on one, in any zone.
            let bucket = if is_date {
                format!("epoch_us({})", population.instant_sql())
            } else {
                format!("(epoch_us({}) // 900000000) * 900000000", population.instant_sql())
            };
            // One row per tuple: its buckets, each with its rows.
            let parts = (1..=per.len()).map(|i| format!("p{i}, ")).collect::<String>();
            let sql = format!(
                "SELECT {parts}list({{'bucket': bucket, 'rows': n}}) AS buckets FROM (\n\
                 SELECT {}{bucket} AS bucket, count(*) AS n\nFROM ({events}) AS population{where_clause}\nGROUP BY ALL\n\
                 ) AS groups GROUP BY ALL",
                values.iter().enumerate().map(|(i, v)| format!("{v} AS p{}, ", i + 1)).collect::<String>(),
            );
            ws.guard()
                .select(&sql)
                .map_err(|refusal| AuditError::Refused(format!("{}: {refusal}", schedule.location)))?;
            // Read as Arrow batches: no row-by-row conversion, no string
            // copied but a tuple's first spelling.
            let mut unreadable = None;
            bounded(ws, || {
                let mut stmt = ws.conn.prepare(&sql)?;
                for batch in stmt.stream_arrow([])? {
                    if let Err(why) = tally.add_batch(&batch?, per.len(), &resolve) {
                        unreadable.get_or_insert(why);
                    }
                }
                Ok(())
            })?;
            if let Some(why) = unreadable {
                return Err(AuditError::Refused(format!("{}: {why}", schedule.location)));
            }
            sql
        }
    };
    let expected: Vec<(Vec<String>, Option<&crate::workspace::inventory::System>)> = match by_inventory {
        Some(applies_to) => inventory
            .systems
            .iter()
            .filter(|s| s.in_scope && applies_to.value.covers(s))
            .map(|s| (vec![s.id.clone()], Some(s)))
            .collect(),
        None if per.is_empty() => vec![(Vec::new(), None)],
        None => tally.seen().into_iter().map(|t| (t, None)).collect(),
    };
    let ids: Vec<Option<usize>> = expected.iter().map(|(tuple, _)| tally.id(tuple)).collect();
    let mut occurrences = empty(control, spec, schedule.expect, schedule.grace, sql);
    for (i, slot) in slots.iter().enumerate() {
        let closes = windows[i].1;
        let at = occurrences.add_slot(slot.clone(), closes);
        for (t, ((_, system), id)) in expected.iter().zip(&ids).enumerate() {
            if system.is_some_and(|s| !s.active_between(slot.start, slot.end)) {
                continue;
            }
            let rows = id.map_or(0, |id| tally.rows(id, i));
            let state = if rows > 0 {
                SlotState::Met
            } else if closes <= now {
                SlotState::Missed
            } else {
                SlotState::Due
            };
            occurrences.add_cell(at, t, rows, state);
        }
    }
    occurrences.set_tuples(expected.into_iter().map(|(tuple, _)| tuple).collect());
    Ok(Some(occurrences))
}

fn empty(control: &Control, spec: &EvidenceSpec, expect: Expect, grace: Grace, sql: String) -> Occurrences {
    Occurrences::new(
        control.id.clone(),
        spec.name.clone(),
        expect,
        spec.schedule.as_ref().map(|s| s.per.value.clone()).unwrap_or_default(),
        grace,
        sql,
    )
}

/// One slot as an audit recorded it when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSlot {
    pub control: String,
    pub spec: String,
    pub outcome: SlotOutcome,
}

const SEPARATOR: char = '\u{1f}';

/// Records a spec's slots with the audit (inside the audit's transaction),
/// and says so in the log with a digest of what was recorded.
pub fn store(ws: &Workspace, audit: &str, occurrences: &Occurrences) -> Result<(), AuditError> {
    let rows: Vec<serde_json::Value> = occurrences
        .slots()
        .map(|s| {
            serde_json::json!({"audit": audit, "control": occurrences.control, "spec": occurrences.spec,
                "slot": s.slot.label, "starts": s.slot.start.to_string(), "ends": s.slot.end.to_string(),
                "per": s.per.join(&SEPARATOR.to_string()), "rows": s.rows, "state": s.state.as_str(),
                "closes": s.closes.naive_utc().to_string()})
        })
        .collect();
    let json = serde_json::Value::Array(rows).to_string();
    ws.conn.execute(
        "INSERT INTO qd.occurrences
         SELECT r.audit, r.control, r.spec, r.slot, CAST(r.starts AS DATE), CAST(r.ends AS DATE), r.per, r.rows,
                r.state, CAST(r.closes AS TIMESTAMP)
         FROM (SELECT unnest(from_json(CAST(? AS JSON), '[{\"audit\":\"VARCHAR\",\"control\":\"VARCHAR\",\"spec\":\"VARCHAR\",
               \"slot\":\"VARCHAR\",\"starts\":\"VARCHAR\",\"ends\":\"VARCHAR\",\"per\":\"VARCHAR\",\"rows\":\"BIGINT\",
               \"state\":\"VARCHAR\",\"closes\":\"VARCHAR\"}]')) AS r)",
        [&json],
    )?;
    crate::workspace::action_log::append(
        ws,
        "occurrences.check",
        serde_json::json!({"audit": audit, "control": occurrences.control, "spec": occurrences.spec,
            "expect": occurrences.expect.as_str(), "per": occurrences.per, "grace": occurrences.grace.text(),
            "slots": occurrences.len(), "met": occurrences.count(SlotState::Met),
            "missed": occurrences.count(SlotState::Missed), "due": occurrences.count(SlotState::Due),
            "slots_sha256": slots_digest(&ws.conn, audit, &occurrences.control, &occurrences.spec)?}),
    )?;
    Ok(())
}

/// sha256 over a spec's recorded slots in a canonical order: logged when the
/// audit starts, recomputed by `verify`.
pub fn slots_digest(conn: &duckdb::Connection, audit: &str, control: &str, spec: &str) -> duckdb::Result<String> {
    conn.query_row(
        "SELECT sha256(coalesce(string_agg(slot || chr(31) || per || chr(31) || CAST(starts AS VARCHAR) || chr(31)
                 || CAST(ends AS VARCHAR) || chr(31) || CAST(rows AS VARCHAR) || chr(31) || state || chr(31)
                 || CAST(closes AS VARCHAR), chr(30) ORDER BY starts, per, slot, rows, state, closes), ''))
         FROM qd.occurrences WHERE audit = ? AND control = ? AND spec = ?",
        [audit, control, spec],
        |r| r.get(0),
    )
}

/// An audit's recorded slots, by control, spec, slot and `per` value.
pub fn load(conn: &duckdb::Connection, audit: &str) -> Result<Vec<StoredSlot>, AuditError> {
    let mut stmt = conn.prepare(
        "SELECT control, spec, slot, CAST(starts AS VARCHAR), CAST(ends AS VARCHAR), per, rows, state,
                CAST(closes AS VARCHAR)
         FROM qd.occurrences WHERE audit = ? ORDER BY control, spec, starts, per",
    )?;
    let rows = stmt
        .query_map([audit], |r| {
            let at = crate::workspace::stored::At { table: "qd.occurrences", row: audit };
            let per: String = r.get(5)?;
            Ok(StoredSlot {
                control: r.get(0)?,
                spec: r.get(1)?,
                outcome: SlotOutcome {
                    slot: Slot {
                        label: r.get(2)?,
                        start: at.date(3, "starts", &r.get::<_, String>(3)?)?,
                        end: at.date(4, "ends", &r.get::<_, String>(4)?)?,
                    },
                    per: if per.is_empty() { Vec::new() } else { per.split(SEPARATOR).map(str::to_string).collect() },
                    rows: r.get(6)?,
                    state: at.word(7, "state", &r.get::<_, String>(7)?)?,
                    closes: at.utc(8, "closes", &r.get::<_, String>(8)?)?,
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The missed slot of `control` that `named` names (`2026-Q3 | postgres-orders`,
/// spaces around `|` optional), as the audit recorded it.
pub fn find_missed(conn: &duckdb::Connection, audit: &str, control: &str, named: &str) -> Result<String, AuditError> {
    let squash = |s: &str| s.split('|').map(str::trim).collect::<Vec<_>>().join(" | ");
    let wanted = squash(named);
    let missed: Vec<String> = load(conn, audit)?
        .into_iter()
        .filter(|s| s.control == control && s.outcome.state == SlotState::Missed)
        .map(|s| s.outcome.name())
        .collect();
    if missed.contains(&wanted) {
        return Ok(wanted);
    }
    Err(AuditError::NotMissed {
        audit: audit.to_string(),
        control: control.to_string(),
        slot: crate::text::visible(named),
        hint: crate::workspace::problems::did_you_mean(&wanted, missed.iter().map(String::as_str)),
    })
}

/// An open slot of a periodic control: the next occurrence it owes.
#[derive(Debug, Clone, PartialEq)]
pub struct DueSlot {
    pub control: String,
    pub spec: String,
    pub outcome: SlotOutcome,
}

/// How many `per` values a grouped line names before "and N more".
const NAMED: usize = 8;

/// "AC-4 quarterly reviews: snowflake due in 9 day(s) (2026-Q4)": one
/// line for slots of one spec that close together (every datastore's
/// backup tonight): their `per` values listed, the rest said once.
pub fn describe_group(group: &[DueSlot], now: DateTime<Utc>) -> String {
    let Some(first) = group.first() else { return String::new() };
    let values: Vec<String> =
        group.iter().filter(|d| !d.outcome.per.is_empty()).map(|d| d.outcome.per.join(" | ")).collect();
    let what = match values.as_slice() {
        [] => format!("{} {}", first.control, first.spec),
        values if values.len() > NAMED => format!(
            "{} {}: {} and {} more",
            first.control,
            first.spec,
            values[..NAMED].join(", "),
            values.len() - NAMED
        ),
        values => format!("{} {}: {}", first.control, first.spec, values.join(", ")),
    };
    match first.outcome.state {
        SlotState::Missed => format!("{what} missed in {}", first.outcome.slot.label),
        _ => match calendar::days_until(now, first.outcome.closes) {
            0 => format!("{what} due now ({})", first.outcome.slot.label),
            days => format!("{what} due in {days} day(s) ({})", first.outcome.slot.label),
        },
    }
}

/// Slots grouped for display: consecutive ones of the same spec and slot
/// that close at the same instant.
pub fn grouped(slots: &[DueSlot]) -> Vec<&[DueSlot]> {
    slots
        .chunk_by(|a, b| {
            (&a.control, &a.spec, &a.outcome.slot.label, a.outcome.closes)
                == (&b.control, &b.spec, &b.outcome.slot.label, b.outcome.closes)
        })
        .collect()
}

/// For each scheduled spec and `per` value, the started slot of the
/// current quarter that is still unfilled and closes soonest ("access
/// review for postgres-orders due in 9 days"), soonest first; and the
/// slots already missed this quarter.
pub fn upcoming(
    ws: &Workspace,
    inventory: &Inventory,
    mappings: &crate::workspace::mapping::Mappings,
) -> Result<(Vec<DueSlot>, Vec<DueSlot>), AuditError> {
    let now = ws.now();
    let today = ws.today();
    let tz = ws.config.timezone;
    let quarter = Period::parse(&Period::quarter_label(today), tz)?;
    let (mut due, mut missed) = (Vec::new(), Vec::new());
    for control in &mappings.controls {
        for spec in control.evidence.iter().filter(|s| s.schedule.is_some()) {
            let population = crate::workspace::population::resolve(ws, control, spec)?;
            let Some(occurrences) = check(ws, inventory, control, spec, &population, &quarter, now)? else { continue };
            let mut soonest: BTreeMap<Vec<String>, SlotOutcome> = BTreeMap::new();
            for slot in occurrences.slots() {
                match slot.state {
                    SlotState::Missed => missed.push(DueSlot {
                        control: control.id.clone(),
                        spec: spec.name.clone(),
                        outcome: slot.to_outcome(),
                    }),
                    SlotState::Due if slot.slot.start <= today => {
                        let keep = soonest.get(slot.per).is_none_or(|s| slot.closes < s.closes);
                        if keep {
                            soonest.insert(slot.per.to_vec(), slot.to_outcome());
                        }
                    }
                    _ => {}
                }
            }
            due.extend(soonest.into_values().map(|outcome| DueSlot {
                control: control.id.clone(),
                spec: spec.name.clone(),
                outcome,
            }));
        }
    }
    due.sort_by(|a, b| {
        (a.outcome.closes, &a.control, &a.outcome.per).cmp(&(b.outcome.closes, &b.control, &b.outcome.per))
    });
    Ok((due, missed))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn due(system: &str, closes: DateTime<Utc>) -> DueSlot {
        let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).expect("date");
        DueSlot {
            control: "AC-4".into(),
            spec: "access reviews".into(),
            outcome: SlotOutcome {
                slot: Slot { label: "2026-Q4".into(), start: day(1), end: day(31) },
                per: vec![system.to_string()],
                rows: 0,
                state: SlotState::Due,
                closes,
            },
        }
    }

    #[test]
    fn slots_closing_together_share_a_line_that_names_at_most_eight() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("now");
        let soon = now + chrono::TimeDelta::days(9);
        let later = now + chrono::TimeDelta::days(20);
        let mut slots: Vec<DueSlot> = (0..10).map(|i| due(&format!("db-{i}"), soon)).collect();
        slots.push(due("okta", later));
        let groups = grouped(&slots);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            describe_group(groups[0], now),
            "AC-4 access reviews: db-0, db-1, db-2, db-3, db-4, db-5, db-6, db-7 and 2 more due in 9 day(s) (2026-Q4)"
        );
        assert_eq!(describe_group(groups[1], now), "AC-4 access reviews: okta due in 20 day(s) (2026-Q4)");
        let mut missed = due("okta", now);
        missed.outcome.state = SlotState::Missed;
        assert_eq!(describe_group(&[missed], now), "AC-4 access reviews: okta missed in 2026-Q4");
    }
}
