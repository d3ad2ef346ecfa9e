//! `verify`'s second half: the action log replayed against the state
//! tables. The chain proves the log agrees with itself; this proves the
//! state agrees with the log — a verdict, a frozen sample row, a finding,
//! a review, an audit, an ingest run, a collected document or an attachment
//! edited or deleted behind Quarterdeck's back is reported, each divergence
//! on its own line (files: replay_files.rs).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::workspace::Workspace;
use crate::workspace::action_log::entries;
use crate::workspace::action_log::hash_chain::LogEntry;

/// One way the state differs from what the log says happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Divergence {
    pub table: &'static str,
    pub what: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.table, self.what)
    }
}

/// sha256 over a sample's frozen rows, in order: recorded in the log when
/// the sample is drawn, recomputed by `verify`.
pub fn rows_digest(conn: &duckdb::Connection, sample_id: i64) -> duckdb::Result<String> {
    conn.query_row(
        "SELECT sha256(coalesce(string_agg(position::VARCHAR || chr(31) || key || chr(31) || rank || chr(31) || row_json
                 || chr(31) || tests, chr(30) ORDER BY position), ''))
         FROM qd.sample_rows WHERE sample_id = ?",
        [sample_id],
        |r| r.get(0),
    )
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| match x {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// Every divergence between the log and the state tables.
pub fn replay(ws: &Workspace) -> duckdb::Result<Vec<Divergence>> {
    let log = entries(&ws.conn)?;
    let mut out = Vec::new();
    audits(ws, &log, &mut out)?;
    samples(ws, &log, &mut out)?;
    verdicts(ws, &log, &mut out)?;
    findings(ws, &log, &mut out)?;
    reviews(ws, &log, &mut out)?;
    occurrences(ws, &log, &mut out)?;
    ingest_runs(ws, &log, &mut out)?;
    super::replay_files::replay(ws, &log, &mut out)?;
    Ok(out)
}

fn audits(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    // label → (seed, mapping version, status)
    let mut expected: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for e in log {
        let Some(label) = text(&e.payload, "audit") else { continue };
        match e.action.as_str() {
            "audit.start" => {
                let seed = text(&e.payload, "seed").unwrap_or_default();
                let version = text(&e.payload, "mapping_version").unwrap_or_default();
                expected.insert(label, (seed, version, "planned".into()));
            }
            "audit.status" | "audit.close" => {
                if let (Some(a), Some(to)) = (expected.get_mut(&label), text(&e.payload, "to")) {
                    a.2 = to;
                }
            }
            _ => {}
        }
    }
    let mut stmt = ws.conn.prepare("SELECT label, seed, mapping_version, status FROM qd.audits ORDER BY label")?;
    let found: Vec<(String, String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    let mut seen = BTreeSet::new();
    for (label, seed, version, status) in found {
        seen.insert(label.clone());
        let Some((want_seed, want_version, want_status)) = expected.get(&label) else {
            out.push(Divergence { table: "qd.audits", what: format!("audit `{label}` has no audit.start in the log") });
            continue;
        };
        for (field, want, got) in
            [("seed", want_seed, &seed), ("mapping_version", want_version, &version), ("status", want_status, &status)]
        {
            if want != got {
                out.push(Divergence {
                    table: "qd.audits",
                    what: format!("audit `{label}`: {field} is `{got}` but the log says `{want}`"),
                });
            }
        }
    }
    for label in expected.keys().filter(|l| !seen.contains(*l)) {
        out.push(Divergence {
            table: "qd.audits",
            what: format!("audit `{label}` is in the log but not in the table"),
        });
    }
    Ok(())
}

fn samples(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let drawn: BTreeMap<i64, &Value> = log
        .iter()
        .filter(|e| matches!(e.action.as_str(), "sample.draw" | "sample.redraw" | "request.answer"))
        .filter_map(|e| int(&e.payload, "sample_id").map(|id| (id, &e.payload)))
        .collect();
    let mut stmt =
        ws.conn.prepare("SELECT sample_id, seed, population_count, fingerprint, size FROM qd.samples ORDER BY 1")?;
    let found: Vec<(i64, String, i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    let mut seen = BTreeSet::new();
    for (id, seed, count, fingerprint, size) in found {
        seen.insert(id);
        let Some(payload) = drawn.get(&id) else {
            out.push(Divergence {
                table: "qd.samples",
                what: format!("sample {id} was never drawn according to the log"),
            });
            continue;
        };
        let checks = [
            ("seed", text(payload, "seed"), seed),
            ("population_count", int(payload, "population_count").map(|n| n.to_string()), count.to_string()),
            ("fingerprint", text(payload, "fingerprint"), fingerprint),
            ("size", int(payload, "size").map(|n| n.to_string()), size.to_string()),
        ];
        for (field, want, got) in checks {
            if want.as_ref().is_some_and(|w| w != &got) {
                out.push(Divergence {
                    table: "qd.samples",
                    what: format!("sample {id}: {field} is `{got}` but the log says `{}`", want.unwrap_or_default()),
                });
            }
        }
        if let Some(want) = text(payload, "rows_sha256") {
            let got = rows_digest(&ws.conn, id)?;
            if got != want {
                out.push(Divergence {
                    table: "qd.sample_rows",
                    what: format!("sample {id}: the frozen rows differ from the ones drawn (sha256 {got}, log {want})"),
                });
            }
        }
    }
    for id in drawn.keys().filter(|id| !seen.contains(*id)) {
        out.push(Divergence { table: "qd.samples", what: format!("sample {id} is in the log but not in the table") });
    }
    Ok(())
}

type VerdictRow = (i64, String, String, Option<String>);

fn verdicts(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let mut expected: BTreeMap<VerdictRow, i64> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action == "verdict") {
        let p = &e.payload;
        let row = (
            int(p, "sample_id").unwrap_or(-1),
            text(p, "key").unwrap_or_default(),
            text(p, "verdict").unwrap_or_default(),
            text(p, "note"),
        );
        *expected.entry(row).or_default() += 1;
    }
    let mut stmt = ws.conn.prepare("SELECT sample_id, key, verdict, note FROM qd.verdicts")?;
    let rows: Vec<VerdictRow> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    let mut found: BTreeMap<VerdictRow, i64> = BTreeMap::new();
    for row in rows {
        *found.entry(row).or_default() += 1;
    }
    let shown =
        |(id, key, verdict, _): &VerdictRow| format!("sample {id}, row `{}`: {verdict}", crate::text::visible(key));
    compare_counts("qd.verdicts", &expected, &found, shown, out);
    Ok(())
}

/// The rows of a table against the rows the log says were written, as
/// multisets: each row there more often than logged, and each logged row
/// missing, is a divergence.
pub(super) fn compare_counts<K: Ord>(
    table: &'static str,
    expected: &BTreeMap<K, i64>,
    found: &BTreeMap<K, i64>,
    shown: impl Fn(&K) -> String,
    out: &mut Vec<Divergence>,
) {
    for (row, n) in found {
        if *n > expected.get(row).copied().unwrap_or(0) {
            out.push(Divergence { table, what: format!("{} is recorded but not in the log", shown(row)) });
        }
    }
    for (row, n) in expected {
        if found.get(row).copied().unwrap_or(0) < *n {
            out.push(Divergence { table, what: format!("{} is in the log but not in the table", shown(row)) });
        }
    }
}

/// Each spec's recorded slots against the digest its audit's start logged;
/// slots of a spec the log never judged are reported too.
fn occurrences(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let mut logged: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action == "occurrences.check") {
        let p = &e.payload;
        let field = |key| text(p, key).unwrap_or_default();
        logged.insert((field("audit"), field("control"), field("spec")), field("slots_sha256"));
    }
    let mut stmt = ws.conn.prepare("SELECT DISTINCT audit, control, spec FROM qd.occurrences ORDER BY ALL")?;
    let recorded: BTreeSet<(String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    let shown = |(audit, control, spec): &(String, String, String)| {
        use crate::text::visible;
        format!("the slots of {} / {} in {}", visible(control), visible(spec), visible(audit))
    };
    for key in recorded.union(&logged.keys().cloned().collect()) {
        let digest = super::occurrences::slots_digest(&ws.conn, &key.0, &key.1, &key.2)?;
        match logged.get(key) {
            None => out.push(Divergence {
                table: "qd.occurrences",
                what: format!("{} are recorded but not in the log", shown(key)),
            }),
            Some(expected) if *expected != digest => out.push(Divergence {
                table: "qd.occurrences",
                what: format!("{} differ from what the log recorded (sha256 {expected}, now {digest})", shown(key)),
            }),
            Some(_) => {}
        }
    }
    Ok(())
}

/// (audit, control, reviewer, conclusion)
type ReviewRow = (String, String, String, String);

fn reviews(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let mut expected: BTreeMap<ReviewRow, i64> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action == "review.sign") {
        let p = &e.payload;
        let field = |key| text(p, key).unwrap_or_default();
        *expected.entry((field("audit"), field("control"), field("reviewer"), field("conclusion"))).or_default() += 1;
    }
    let mut stmt = ws.conn.prepare("SELECT audit, control, reviewer, conclusion FROM qd.reviews")?;
    let mut found: BTreeMap<ReviewRow, i64> = BTreeMap::new();
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
        *found.entry(row?).or_default() += 1;
    }
    let shown = |(audit, control, reviewer, conclusion): &ReviewRow| {
        use crate::text::{fit, visible};
        format!(
            "{} in {} reviewed by `{}` (`{}`)",
            visible(control),
            visible(audit),
            visible(reviewer),
            fit(conclusion, 60)
        )
    };
    compare_counts("qd.reviews", &expected, &found, shown, out);
    Ok(())
}

#[derive(Debug, Default, Clone, PartialEq)]
struct FindingState {
    status: String,
    severity: String,
    owner: String,
    due: Option<String>,
    title: String,
    events: i64,
    /// The linked rows, `sample_id/key`, sampled and population ones apart.
    rows: BTreeSet<String>,
}

/// A finding's linked rows as the log records them in `finding.add`.
fn logged_rows(payload: &Value) -> BTreeSet<String> {
    let linked = |field: &str, kind: &str| -> Vec<String> {
        let rows = payload.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        rows.iter()
            .map(|r| {
                let sample = r.get("sample_id").and_then(Value::as_i64).unwrap_or_default();
                format!("{kind} {sample}/{}", r.get("key").and_then(Value::as_str).unwrap_or_default())
            })
            .collect()
    };
    linked("rows", "sampled").into_iter().chain(linked("population_rows", "population")).collect()
}

fn findings(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let mut expected: BTreeMap<String, FindingState> = BTreeMap::new();
    for e in log {
        let p = &e.payload;
        let Some(id) = text(p, "id") else { continue };
        match e.action.as_str() {
            "finding.add" => {
                expected.insert(
                    id,
                    FindingState {
                        status: "open".into(),
                        severity: text(p, "severity").unwrap_or_default(),
                        owner: text(p, "owner").unwrap_or_default(),
                        due: text(p, "due"),
                        title: text(p, "title").unwrap_or_default(),
                        events: 1,
                        rows: logged_rows(p),
                    },
                );
            }
            "finding.set" | "finding.acceptance_expired" | "finding.retest" => {
                let Some(f) = expected.get_mut(&id) else { continue };
                f.events += 1;
                match e.action.as_str() {
                    "finding.set" => {
                        if let Some(s) = text(p, "status") {
                            f.status = s;
                        }
                        if let Some(s) = text(p, "severity") {
                            f.severity = s;
                        }
                        if let Some(o) = text(p, "owner") {
                            f.owner = o;
                        }
                        if let Some(d) = text(p, "due") {
                            f.due = Some(d);
                        }
                    }
                    "finding.acceptance_expired" => f.status = "open".into(),
                    _ => {
                        let passed = p.get("passed").and_then(Value::as_bool).unwrap_or(false);
                        f.status = if passed { "closed".into() } else { "open".into() };
                    }
                }
            }
            _ => {}
        }
    }
    let mut stmt = ws.conn.prepare(
        "SELECT f.id, f.status, f.severity, f.owner, CAST(f.due AS VARCHAR), f.title,
                (SELECT count(*) FROM qd.finding_events e WHERE e.finding_id = f.id),
                (SELECT coalesce(string_agg('sampled ' || r.sample_id || '/' || r.key, chr(30)), '')
                   FROM qd.finding_rows r WHERE r.finding_id = f.id),
                (SELECT coalesce(string_agg('population ' || p.sample_id || '/' || p.key, chr(30)), '')
                   FROM qd.finding_population_rows p WHERE p.finding_id = f.id)
         FROM qd.findings f ORDER BY f.id",
    )?;
    let found: Vec<(String, FindingState)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                FindingState {
                    status: r.get(1)?,
                    severity: r.get(2)?,
                    owner: r.get(3)?,
                    due: r.get(4)?,
                    title: r.get(5)?,
                    events: r.get(6)?,
                    rows: [r.get::<_, String>(7)?, r.get::<_, String>(8)?]
                        .iter()
                        .flat_map(|joined| joined.split('\u{1e}').filter(|s| !s.is_empty()).map(str::to_string))
                        .collect::<BTreeSet<String>>(),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut seen = BTreeSet::new();
    for (id, got) in found {
        seen.insert(id.clone());
        let shown_id = crate::text::visible(&id);
        let Some(want) = expected.get(&id) else {
            out.push(Divergence {
                table: "qd.findings",
                what: format!("finding `{shown_id}` was never filed according to the log"),
            });
            continue;
        };
        let fields = [
            ("status", &want.status, &got.status),
            ("severity", &want.severity, &got.severity),
            ("owner", &want.owner, &got.owner),
            ("title", &want.title, &got.title),
        ];
        for (field, w, g) in fields {
            if w != g {
                out.push(Divergence {
                    table: "qd.findings",
                    what: format!(
                        "finding `{shown_id}`: {field} is `{}` but the log says `{}`",
                        crate::text::visible(g),
                        crate::text::visible(w)
                    ),
                });
            }
        }
        if want.due != got.due {
            out.push(Divergence {
                table: "qd.findings",
                what: format!("finding `{shown_id}`: due is {:?} but the log says {:?}", got.due, want.due),
            });
        }
        if want.rows != got.rows {
            let shown =
                |rows: &BTreeSet<String>| crate::text::visible(&rows.iter().cloned().collect::<Vec<_>>().join(", "));
            out.push(Divergence {
                table: "qd.finding_rows, qd.finding_population_rows",
                what: format!(
                    "finding `{shown_id}` links rows [{}] but the log says [{}]",
                    shown(&got.rows),
                    shown(&want.rows)
                ),
            });
        }
        if want.events != got.events {
            out.push(Divergence {
                table: "qd.finding_events",
                what: format!(
                    "finding `{shown_id}` has {} remediation event(s) but the log records {}",
                    got.events, want.events
                ),
            });
        }
    }
    for id in expected.keys().filter(|id| !seen.contains(*id)) {
        out.push(Divergence {
            table: "qd.findings",
            what: format!("finding `{}` is in the log but not in the table", crate::text::visible(id)),
        });
    }
    Ok(())
}

fn ingest_runs(ws: &Workspace, log: &[LogEntry], out: &mut Vec<Divergence>) -> duckdb::Result<()> {
    let logged: BTreeMap<i64, &Value> = log
        .iter()
        .filter(|e| e.action == "ingest.run")
        .filter_map(|e| int(&e.payload, "run_id").map(|id| (id, &e.payload)))
        .collect();
    let mut stmt = ws.conn.prepare("SELECT run_id, source, status, rows FROM qd.ingest_runs ORDER BY run_id")?;
    let found: Vec<(i64, String, String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    let mut seen = BTreeSet::new();
    for (id, source, status, rows) in found {
        seen.insert(id);
        let Some(p) = logged.get(&id) else {
            out.push(Divergence {
                table: "qd.ingest_runs",
                what: format!("ingest run {id} ({source}) is not in the log"),
            });
            continue;
        };
        let want = (
            text(p, "source").unwrap_or_default(),
            text(p, "status").unwrap_or_default(),
            int(p, "rows").unwrap_or(-1),
        );
        if want != (source.clone(), status.clone(), rows) {
            out.push(Divergence {
                table: "qd.ingest_runs",
                what: format!(
                    "ingest run {id}: recorded as {source} {status} {rows} rows but the log says {} {} {} rows",
                    want.0, want.1, want.2
                ),
            });
        }
    }
    for (id, p) in logged.iter().filter(|(id, _)| !seen.contains(*id)) {
        out.push(Divergence {
            table: "qd.ingest_runs",
            what: format!(
                "ingest run {id} ({}) is in the log but not in the table",
                text(p, "source").unwrap_or_default()
            ),
        });
    }
    Ok(())
}
