//! The draw pushed down to the warehouse. In one read-only snapshot the
//! engine streams every row's canonical key (Quarterdeck hashes and
//! fingerprints them itself, on a thread of its own: the engines' string
//! aggregates are capped or drop NULLs; their number is the population's
//! count) and returns the n + 1 rows of smallest rank whole, with each
//! attribute test's result; in PostgreSQL a second session on the same
//! snapshot streams the keys while the first ranks, and in an engine
//! without a snapshot a `count(*)` before the keys sees a table written in
//! between. Each drawn key must be among the streamed ones; each drawn row
//! is then re-rendered in the workspace's own DuckDB — its key rebuilt from
//! its typed values, its rank re-hashed — and the draw is refused on any
//! difference. Nothing is written here.

use serde_json::{Map, Value as Json};

use super::{Dialect, Session, Step, WarehouseError, spill::Spill};
use crate::audit::sampling::fingerprint::Fingerprint;
use crate::audit::sampling::rank::{Ranked, Ranking, rank_hex};
use crate::audit::sampling::{SampleRow, TestResults};
use crate::workspace::Workspace;
use crate::workspace::mapping::EvidenceSpec;
use crate::workspace::period::Period;
use crate::workspace::population::Population;
use crate::workspace::sql::{quote_ident, quote_literal};
use crate::workspace::values::to_json;

/// The SQL the engine runs for a draw of `n` under `seed`, in its dialect
/// (also what docs/scale.md shows an auditor, and what its own client
/// alone re-performs).
pub struct DrawSql {
    pub count: String,
    pub keys: String,
    pub top: String,
}

impl DrawSql {
    pub fn new(
        dialect: Dialect,
        population: &Population,
        (sql, period, spec): (&str, &Period, &EvidenceSpec),
        seed: &str,
        n: usize,
    ) -> Self {
        let key = population.key_sql();
        let keyed = format!("SELECT {key} AS __qd_key, population.* FROM ({sql}) AS population");
        let tests: String = spec
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!(", ({}) AS {}", population.test_sql(t, period), quote_ident(&format!("__qd_test_{i}")))
            })
            .collect();
        let columns: String =
            population.columns.iter().map(|(c, _)| format!(", population.{}", quote_ident(c))).collect();
        Self {
            count: format!("SELECT count(*) FROM ({sql}) AS population"),
            keys: format!("SELECT {key} FROM ({sql}) AS population"),
            top: format!(
                "SELECT population.__qd_key, {hex} AS __qd_rank{tests}{columns} FROM (\
                 SELECT {rank} AS __qd_rank, \
                 keyed.* FROM ({keyed}) AS keyed ORDER BY __qd_rank LIMIT {limit}) AS population \
                 ORDER BY population.__qd_rank",
                hex = dialect.sortable_hex("population.__qd_rank"),
                rank = dialect.sha256_sortable(&format!("{} || ':' || keyed.__qd_key", quote_literal(seed))),
                limit = n + 1,
            ),
        }
    }
}

/// Bytes of keys per chunk handed to the hashing thread.
const CHUNK: usize = 1 << 18;

/// Keys packed into one buffer, each as its length (u64, little-endian)
/// and its bytes: one allocation for thousands of keys.
#[derive(Default)]
struct Chunk(Vec<u8>);

impl Chunk {
    fn push(&mut self, key: &str) {
        self.0.extend_from_slice(&(key.len() as u64).to_le_bytes());
        self.0.extend_from_slice(key.as_bytes());
    }

    fn keys(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self.0.as_slice();
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<8>()?;
            let len = usize::try_from(u64::from_le_bytes(*len)).ok()?.min(tail.len());
            let (key, tail) = tail.split_at(len);
            rest = tail;
            Some(key)
        })
    }
}

/// sha256 of every streamed key into a [`Spill`], on a thread of its own
/// that fingerprints them as soon as the last key is in — while the
/// engine runs its next statement.
struct Hasher {
    tx: Option<std::sync::mpsc::SyncSender<Chunk>>,
    /// Chunks the hasher is done with, to fill again.
    spent: std::sync::mpsc::Receiver<Chunk>,
    handle: std::thread::JoinHandle<std::io::Result<(Fingerprint, Spill)>>,
}

impl Hasher {
    fn start() -> Result<Self, WarehouseError> {
        let mut spill = Spill::new()?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(4);
        let (give_back, spent) = std::sync::mpsc::channel::<Chunk>();
        let handle = std::thread::spawn(move || {
            let plain = crate::workspace::functions::prefixed_sha256::Prefix::new(b"");
            for mut chunk in rx {
                for key in chunk.keys() {
                    spill.push(&plain.digest(key))?;
                }
                chunk.0.clear();
                let _ = give_back.send(chunk);
            }
            let print = spill.fingerprint(std::thread::available_parallelism().map_or(2, |n| n.get()))?;
            Ok((print, spill))
        });
        Ok(Self { tx: Some(tx), spent, handle })
    }

    /// An empty chunk: one the hasher is done with, or a new one.
    fn chunk(&self) -> Chunk {
        self.spent.try_recv().unwrap_or_else(|_| Chunk(Vec::with_capacity(CHUNK + 1024)))
    }

    fn send(&self, keys: Chunk) {
        // A hasher that stopped has an error, which `finish` returns.
        if let Some(tx) = &self.tx {
            let _ = tx.send(keys);
        }
    }

    /// No more keys: the fingerprint starts now.
    fn close(&mut self) {
        self.tx = None;
    }

    /// The fingerprint, and the spilled digests to look keys up in.
    fn finish(mut self) -> Result<(Fingerprint, Spill), WarehouseError> {
        self.close();
        match self.handle.join() {
            Ok(done) => Ok(done?),
            Err(_) => Err(WarehouseError::Io(std::io::Error::other("the key hasher stopped"))),
        }
    }
}

/// What the key stream beside a statement list gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    pub print: Fingerprint,
    /// The keys leading the rows of the keyed step that were not among the
    /// streamed keys (the same rows, read twice, were not the same).
    pub strays: Vec<String>,
}

/// Runs `steps` and, beside them over the same rows, the canonical keys of
/// `keys` (hashed and fingerprinted on a thread of its own as they
/// arrive); every row of the steps goes to `other`. The rows of step
/// `keyed` lead with a key of the same population, each looked up among
/// the streamed ones. A deferred session answers with what its book holds:
/// the same work, done on tokio.
pub(super) fn hashing_keys(
    session: &Session,
    steps: &[Step],
    (keys, keyed): (&str, Option<usize>),
    other: &mut dyn FnMut(usize, Vec<Option<String>>),
) -> Result<Streamed, WarehouseError> {
    if let Session::Deferred(deferred) = session {
        return deferred.fingerprinted(steps, (keys, keyed), other);
    }
    let mut hashed = Hasher::start()?;
    let mut chunk = hashed.chunk();
    let mut leading: Vec<String> = Vec::new();
    let ran = session.run_beside(
        steps,
        keys,
        &mut |result, fields| {
            if Some(result) == keyed {
                leading.push(fields.first().cloned().flatten().unwrap_or_default());
            }
            other(result, fields);
            Ok(())
        },
        &mut |key| {
            match key {
                Some(key) => {
                    chunk.push(key);
                    if chunk.0.len() >= CHUNK {
                        let next = hashed.chunk();
                        hashed.send(std::mem::replace(&mut chunk, next));
                    }
                }
                // The last key is in: the fingerprint runs while the engine goes on.
                None => {
                    hashed.send(std::mem::take(&mut chunk));
                    hashed.close();
                }
            }
            Ok(())
        },
    );
    hashed.send(chunk);
    let (print, mut spill) = hashed.finish()?;
    ran?;
    let plain = crate::workspace::functions::prefixed_sha256::Prefix::new(b"");
    let digests: Vec<_> = leading.iter().map(|key| plain.digest(key.as_bytes())).collect();
    let absent = spill.absent(&digests)?;
    let strays = leading.into_iter().zip(digests).filter(|(_, d)| absent.contains(d)).map(|(key, _)| key).collect();
    Ok(Streamed { print, strays })
}

/// What a pushed-down draw brings back: the ranking and the rows drawn.
pub struct Drawn {
    pub ranking: Ranking,
    pub rows: Vec<SampleRow>,
}

/// Draws `n` rows of `population` (in the warehouse `session` reaches).
pub fn draw(
    ws: &Workspace,
    session: &Session,
    population: &Population,
    (sql, period, spec): (&str, &Period, &EvidenceSpec),
    seed: &str,
    n: usize,
) -> Result<Drawn, WarehouseError> {
    let statements = DrawSql::new(session.dialect(), population, (sql, period, spec), seed, n);
    let shared = session.dialect().one_snapshot();
    let mut count: Option<u64> = None;
    let mut top: Vec<Vec<Option<String>>> = Vec::new();
    let mismatch = |message: String| WarehouseError::Mismatch { warehouse: session.warehouse().to_string(), message };
    // In one snapshot the keys streamed are the count; without one, a
    // count before them sees a table written in between.
    let mut steps = Vec::new();
    if !shared {
        steps.push(Step::Rows(statements.count));
    }
    let ranked = steps.len();
    steps.push(Step::Rows(statements.top));
    let streamed = hashing_keys(session, &steps, (&statements.keys, Some(ranked)), &mut |result, fields| {
        if result == ranked {
            top.push(fields)
        } else {
            count = fields.first().cloned().flatten().and_then(|c| c.parse().ok())
        }
    })?;
    let print = streamed.print;
    let when = if shared { "from the same snapshot" } else { "just before" };
    if let Some(stray) = streamed.strays.first() {
        return Err(mismatch(format!(
            "drawn key `{}` is not among the {} key(s) streamed {when}: the population's SQL does not return the \
             same rows twice (random(), a volatile function, a table written during the draw?)",
            crate::text::visible(stray),
            print.population
        )));
    }
    if !shared {
        let count = count.ok_or_else(|| mismatch("the count came back empty".into()))?;
        if print.population != count {
            return Err(mismatch(format!(
                "it counted {count} row(s), then streamed {} key(s): the population's SQL does not return the same \
                 rows twice (random(), a volatile function, a table written during the draw?)",
                print.population
            )));
        }
    }
    let count = print.population;
    let expected = (n as u64 + 1).min(count);
    if top.len() as u64 != expected {
        return Err(mismatch(format!(
            "it returned {} drawn row(s) of a population of {count}; {expected} expected",
            top.len()
        )));
    }
    let drawn = rerender(ws, population, spec, &top, seed).map_err(|e| match e {
        WarehouseError::Mismatch { message, .. } => mismatch(message),
        other => other,
    })?;
    Ok(assemble(drawn, print, n))
}

/// Each returned row checked and read back through DuckDB: (key, rank, row, tests).
type Checked = (String, String, Map<String, Json>, TestResults);

fn rerender(
    ws: &Workspace,
    population: &Population,
    spec: &EvidenceSpec,
    top: &[Vec<Option<String>>],
    seed: &str,
) -> Result<Vec<Checked>, WarehouseError> {
    let mismatch = |message: String| WarehouseError::Mismatch { warehouse: String::new(), message };
    let tests = spec.tests.len();
    let width = 2 + tests + population.columns.len();
    let mut previous: Option<&str> = None;
    let mut values_rows = Vec::with_capacity(top.len());
    for (i, fields) in top.iter().enumerate() {
        if fields.len() != width {
            return Err(mismatch(format!("drawn row {} has {} field(s), {width} expected", i + 1, fields.len())));
        }
        let key = fields[0].as_deref().unwrap_or_default();
        let rank = fields[1].as_deref().unwrap_or_default();
        if rank_hex(seed, key) != rank {
            return Err(mismatch(format!(
                "the rank it computed for key `{}` is not sha256(seed ':' key)",
                crate::text::visible(key)
            )));
        }
        if previous.is_some_and(|p| p > rank) {
            return Err(mismatch("the drawn rows did not come back in ascending rank".into()));
        }
        previous = Some(rank);
        let cells = population
            .columns
            .iter()
            .zip(&fields[2 + tests..])
            .map(|((_, kind), value)| match value {
                Some(text) => format!("CAST({} AS {kind})", quote_literal(text)),
                None => format!("CAST(NULL AS {kind})"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        values_rows.push(format!("({i}, {cells})"));
    }
    if top.is_empty() {
        return Ok(Vec::new());
    }
    let names = population.columns.iter().map(|(c, _)| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let query = format!(
        "SELECT population.__qd_i, {key} AS __qd_key, population.* EXCLUDE (__qd_i) \
         FROM (VALUES {rows}) AS population(__qd_i, {names}) ORDER BY population.__qd_i",
        key = population.key_sql(),
        rows = values_rows.join(", "),
    );
    let query = crate::workspace::values::readable_sql(&ws.conn, &query)?;
    let mut stmt = ws.conn.prepare(&query)?;
    let mut result = stmt.query([])?;
    let mut read: Vec<Vec<duckdb::types::Value>> = Vec::new();
    while let Some(row) = result.next()? {
        let width = row.as_ref().column_count();
        read.push((0..width).map(|i| row.get(i)).collect::<Result<_, _>>()?);
    }
    drop(result);
    let column_names = stmt.column_names();
    let mut checked = Vec::with_capacity(top.len());
    for (fields, values) in top.iter().zip(read) {
        let mut values = values.into_iter().skip(1);
        let rendered = match values.next().map(to_json) {
            Some(Json::String(k)) => k,
            _ => String::new(),
        };
        let key = fields[0].clone().unwrap_or_default();
        if rendered != key {
            return Err(mismatch(format!(
                "key `{}` renders as `{}` in the workspace's DuckDB: a key column's type does not render alike in both",
                crate::text::visible(&key),
                crate::text::visible(&rendered)
            )));
        }
        let results = spec
            .tests
            .iter()
            .zip(&fields[2..2 + tests])
            .map(|(t, value)| {
                let result = match value.as_deref() {
                    Some("t") => Some(true),
                    Some("f") => Some(false),
                    _ => None,
                };
                (t.name.clone(), result)
            })
            .collect();
        let row: Map<String, Json> = column_names[2..].iter().cloned().zip(values.map(to_json)).collect();
        checked.push((key, fields[1].clone().unwrap_or_default(), row, results));
    }
    Ok(checked)
}

fn assemble(checked: Vec<Checked>, print: Fingerprint, n: usize) -> Drawn {
    let ranking = Ranking {
        selected: checked
            .iter()
            .take(n)
            .map(|(key, rank, _, _)| Ranked { key: key.clone(), rank: rank.clone() })
            .collect(),
        population: print.population,
        fingerprint: print.hex,
        duplicate_keys: print.duplicate_keys,
        duplicate_count: print.duplicate_count,
    };
    let rows =
        checked.into_iter().take(n).map(|(key, rank, row, tests)| SampleRow::drawn(key, rank, row, tests)).collect();
    Drawn { ranking, rows }
}

/// The count and fingerprint of a population there (what `verify
/// --packet` re-checks): the count and the digests, in one snapshot.
pub fn recount(
    session: &Session,
    population_sql: &str,
    key_columns: &[String],
) -> Result<(u64, String), WarehouseError> {
    let key = crate::workspace::population::key_sql(key_columns);
    let mut count: Option<u64> = None;
    // In one snapshot the keys streamed are the count (see `draw`).
    let steps = match session.dialect().one_snapshot() {
        true => Vec::new(),
        false => vec![Step::Rows(format!("SELECT count(*) FROM ({population_sql}) AS population"))],
    };
    let keys = format!("SELECT {key} FROM ({population_sql}) AS population");
    let print = hashing_keys(session, &steps, (&keys, None), &mut |_, fields| {
        count = fields.into_iter().next().flatten().and_then(|c| c.parse().ok());
    })?
    .print;
    if !steps.is_empty() {
        let mismatch =
            |message: String| WarehouseError::Mismatch { warehouse: session.warehouse().to_string(), message };
        let count = count.ok_or_else(|| mismatch("the count came back empty".into()))?;
        if count != print.population {
            return Err(mismatch(format!("it counted {count} row(s) and streamed {} key(s)", print.population)));
        }
    }
    Ok((print.population, print.hex))
}

#[cfg(test)]
mod tests {
    use super::Chunk;

    #[test]
    fn a_chunk_gives_back_each_key_whole_newlines_and_empties_too() {
        let keys = ["evt-1", "", "two\nlines", "tab\tand\u{1f}unit", "é"];
        let mut chunk = Chunk::default();
        for key in keys {
            chunk.push(key);
        }
        let back: Vec<&[u8]> = chunk.keys().collect();
        assert_eq!(back, keys.map(str::as_bytes));
    }
}
