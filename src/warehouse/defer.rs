//! Warehouse work the TUI's database thread does not wait on. There, the
//! workspace's sessions are *deferred*: a statement the domain code asks a
//! warehouse for is answered from a [`Book`] when the book has its answer,
//! and otherwise written into the book as asked, failing the work with
//! [`WarehouseError::Pending`]. The worker then has the asked statements
//! run on tokio ([`perform`], with sessions of their own), and serves the
//! request again with the answers in the book — the domain code runs again
//! from its start, each warehouse statement answered from the book, until
//! it asks nothing new. So the database thread never waits on the network,
//! and the domain code (the draw, the full-population tests, the refresh,
//! drift) stays one piece, shared with the CLI, whose sessions are live.
//!
//! A failure in the warehouse (down, a timeout, a cancel) is an answer too:
//! the domain code meets it where it asked, as the CLI would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::draw::Streamed;
use super::{Cancel, Dialect, Session, Step, WarehouseError};
use crate::workspace::config::Config;

/// Rows of each step of one statement list, in order.
pub type StepRows = Vec<Vec<Vec<Option<String>>>>;

/// One thing asked of a warehouse: what [`Session`]'s methods run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ask {
    /// [`Session::run_marked`] of these steps.
    Rows { warehouse: String, steps: Vec<Step> },
    /// These steps with every key of `keys` hashed and fingerprinted
    /// beside them, the rows of step `keyed` looked up among them (the
    /// draw's and the recount's [`super::draw`] work).
    Fingerprinted { warehouse: String, steps: Vec<Step>, keys: String, keyed: Option<usize> },
    /// [`Session::compile`] of these statements.
    Compiled { warehouse: String, statements: Vec<String> },
}

impl Ask {
    /// The warehouse it is asked of.
    pub fn warehouse(&self) -> &str {
        match self {
            Self::Rows { warehouse, .. } | Self::Fingerprinted { warehouse, .. } | Self::Compiled { warehouse, .. } => {
                warehouse
            }
        }
    }
}

/// What a warehouse answered an [`Ask`].
#[derive(Debug, Clone)]
pub enum Answer {
    Rows(StepRows),
    Fingerprinted(StepRows, Streamed),
    Compiled(Vec<Option<String>>),
}

/// A failure as the book keeps it: met again on every read of the book.
#[derive(Debug, Clone)]
pub struct Failed(Arc<WarehouseError>);

impl Failed {
    /// The failure, again, as the session had returned it.
    fn again(&self) -> WarehouseError {
        use WarehouseError as E;
        match &*self.0 {
            E::NoUrl { warehouse, env, shape } => E::NoUrl { warehouse: warehouse.clone(), env: env.clone(), shape },
            E::Url { warehouse, env, why } => {
                E::Url { warehouse: warehouse.clone(), env: env.clone(), why: why.clone() }
            }
            E::Failed { warehouse, message } => E::Failed { warehouse: warehouse.clone(), message: message.clone() },
            E::Timeout { warehouse, after } => E::Timeout { warehouse: warehouse.clone(), after: *after },
            E::NoClient { warehouse, why } => E::NoClient { warehouse: warehouse.clone(), why: why.clone() },
            E::Unknown(name) => E::Unknown(name.clone()),
            E::Mismatch { warehouse, message } => {
                E::Mismatch { warehouse: warehouse.clone(), message: message.clone() }
            }
            E::Cancelled { warehouse } => E::Cancelled { warehouse: warehouse.clone() },
            E::Pending { warehouse } => E::Pending { warehouse: warehouse.clone() },
            E::Io(e) => E::Io(std::io::Error::new(e.kind(), e.to_string())),
            other @ E::DuckDb(_) => E::Io(std::io::Error::other(other.to_string())),
        }
    }
}

/// The answers one piece of work has had, and what it asked last.
#[derive(Debug, Default)]
pub struct Book {
    answered: HashMap<Ask, Result<Answer, Failed>>,
    asked: Vec<Ask>,
}

/// A book shared between the workspace's sessions and the worker.
#[derive(Debug, Clone, Default)]
pub struct Deferred(Arc<Mutex<Book>>);

impl Deferred {
    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What was asked and not answered since the last call (the worker
    /// takes it after each attempt).
    pub fn take_asked(&self) -> Vec<Ask> {
        std::mem::take(&mut self.book().asked)
    }

    /// Whether the work now running has asked something not yet answered
    /// (it is failing only to be served again: nothing to log as a failure).
    pub fn awaiting(&self) -> bool {
        !self.book().asked.is_empty()
    }

    /// Answers for the next attempt.
    pub fn answer(&self, answers: Vec<(Ask, Result<Answer, Failed>)>) {
        self.book().answered.extend(answers);
    }

    /// The answer to `ask`, or None after writing it down as asked.
    fn lookup(&self, ask: Ask) -> Option<Result<Answer, WarehouseError>> {
        let mut book = self.book();
        match book.answered.get(&ask) {
            Some(answer) => Some(answer.clone().map_err(|f| f.again())),
            None => {
                if !book.asked.contains(&ask) {
                    book.asked.push(ask);
                }
                None
            }
        }
    }
}

/// Whether `ws`'s work is failing only because it waits on a warehouse's answer.
pub fn awaiting(ws: &crate::workspace::Workspace) -> bool {
    ws.deferred.as_ref().is_some_and(Deferred::awaiting)
}

/// A session whose statements are answered from a book.
#[derive(Debug, Clone)]
pub struct DeferredSession {
    pub warehouse: String,
    pub dialect: Dialect,
    pub book: Deferred,
}

impl DeferredSession {
    fn answer(&self, ask: Ask) -> Result<Answer, WarehouseError> {
        self.book.lookup(ask).unwrap_or_else(|| Err(WarehouseError::Pending { warehouse: self.warehouse.clone() }))
    }

    pub(super) fn run_marked(
        &self,
        steps: &[Step],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        ended: &mut dyn FnMut(usize),
    ) -> Result<(), WarehouseError> {
        match self.answer(Ask::Rows { warehouse: self.warehouse.clone(), steps: steps.to_vec() })? {
            Answer::Rows(rows) => replay(rows, each, ended),
            _ => Err(self.confused()),
        }
    }

    /// The steps' rows replayed to `each` and what the stream of `keys` gave.
    pub(super) fn fingerprinted(
        &self,
        steps: &[Step],
        (keys, keyed): (&str, Option<usize>),
        each: &mut dyn FnMut(usize, Vec<Option<String>>),
    ) -> Result<Streamed, WarehouseError> {
        let ask =
            Ask::Fingerprinted { warehouse: self.warehouse.clone(), steps: steps.to_vec(), keys: keys.into(), keyed };
        match self.answer(ask)? {
            Answer::Fingerprinted(rows, streamed) => {
                replay(
                    rows,
                    &mut |i, fields| {
                        each(i, fields);
                        Ok(())
                    },
                    &mut |_| {},
                )?;
                Ok(streamed)
            }
            _ => Err(self.confused()),
        }
    }

    pub(super) fn compile(&self, statements: &[String]) -> Result<Vec<Option<String>>, WarehouseError> {
        match self.answer(Ask::Compiled { warehouse: self.warehouse.clone(), statements: statements.to_vec() })? {
            Answer::Compiled(errors) => Ok(errors),
            _ => Err(self.confused()),
        }
    }

    fn confused(&self) -> WarehouseError {
        WarehouseError::Failed { warehouse: self.warehouse.clone(), message: "an answer of another kind".into() }
    }
}

fn replay(
    rows: StepRows,
    each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
    ended: &mut dyn FnMut(usize),
) -> Result<(), WarehouseError> {
    for (i, step) in rows.into_iter().enumerate() {
        for fields in step {
            each(i, fields)?;
        }
        ended(i);
    }
    Ok(())
}

/// Runs `ask` in its warehouse now, over a live session that `cancel`
/// stops (on tokio's blocking pool, in the TUI).
pub fn perform(config: &Config, cancel: &Cancel, ask: &Ask) -> Result<Answer, Failed> {
    perform_live(config, cancel, ask).map_err(|e| Failed(Arc::new(e)))
}

fn perform_live(config: &Config, cancel: &Cancel, ask: &Ask) -> Result<Answer, WarehouseError> {
    let mut session = super::session(config, ask.warehouse())?;
    match &mut session {
        Session::Postgres(pg) => pg.cancel = cancel.watch(),
        Session::Trino(trino) => trino.cancel = cancel.watch(),
        Session::Deferred(_) => {}
    }
    let mut rows: StepRows = Vec::new();
    let mut keep = |i: usize, fields: Vec<Option<String>>| {
        if rows.len() <= i {
            rows.resize_with(i + 1, Vec::new);
        }
        rows[i].push(fields);
    };
    match ask {
        Ask::Rows { steps, .. } => {
            session.run_marked(
                steps,
                &mut |i, fields| {
                    keep(i, fields);
                    Ok(())
                },
                &mut |_| {},
            )?;
            rows.resize_with(steps.len(), Vec::new);
            Ok(Answer::Rows(rows))
        }
        Ask::Fingerprinted { steps, keys, keyed, .. } => {
            let streamed = super::draw::hashing_keys(&session, steps, (keys, *keyed), &mut keep)?;
            rows.resize_with(steps.len(), Vec::new);
            Ok(Answer::Fingerprinted(rows, streamed))
        }
        Ask::Compiled { statements, .. } => Ok(Answer::Compiled(session.compile(statements)?)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::audit::sampling::fingerprint::Fingerprint;

    fn session(book: &Deferred) -> DeferredSession {
        DeferredSession { warehouse: "pg".into(), dialect: Dialect::Postgres, book: book.clone() }
    }

    fn rows_of(session: &DeferredSession, steps: &[Step]) -> Result<Vec<(usize, String)>, WarehouseError> {
        let mut seen = Vec::new();
        let mut ends = Vec::new();
        session.run_marked(
            steps,
            &mut |i, fields| {
                seen.push((i, fields.into_iter().flatten().collect::<Vec<_>>().join(",")));
                Ok(())
            },
            &mut |i| ends.push(i),
        )?;
        assert_eq!(ends, (0..steps.len()).collect::<Vec<_>>(), "every step ends once, in order");
        Ok(seen)
    }

    #[test]
    fn a_statement_without_an_answer_is_asked_once_and_the_work_waits() {
        let book = Deferred::default();
        let session = session(&book);
        let steps = [Step::Rows("SELECT count(*) FROM t".into())];
        for _ in 0..2 {
            assert!(matches!(rows_of(&session, &steps), Err(WarehouseError::Pending { .. })));
        }
        assert!(book.awaiting());
        let asked = book.take_asked();
        assert_eq!(asked, [Ask::Rows { warehouse: "pg".into(), steps: steps.to_vec() }]);
        assert!(!book.awaiting());
    }

    #[test]
    fn answered_rows_are_replayed_step_by_step_in_every_round() {
        let book = Deferred::default();
        let session = session(&book);
        let steps = [Step::Rows("SELECT 1".into()), Step::Rows("SELECT a, b FROM t".into())];
        let _ = rows_of(&session, &steps);
        let asked = book.take_asked();
        let rows = vec![vec![vec![Some("1".into())]], vec![vec![Some("x".into()), None], vec![Some("y".into())]]];
        book.answer(asked.into_iter().map(|a| (a, Ok(Answer::Rows(rows.clone())))).collect());
        for _ in 0..2 {
            let seen = rows_of(&session, &steps).unwrap();
            assert_eq!(seen, [(0, "1".to_string()), (1, "x".into()), (1, "y".into())]);
        }
        assert!(!book.awaiting(), "nothing new was asked");
        // Another statement is another ask.
        assert!(matches!(rows_of(&session, &steps[..1]), Err(WarehouseError::Pending { .. })));
    }

    #[test]
    fn a_failure_there_is_met_again_where_it_was_asked() {
        let book = Deferred::default();
        let session = session(&book);
        let steps = [Step::Rows("SELECT pg_sleep(60)".into())];
        let _ = rows_of(&session, &steps);
        let failed =
            Failed(Arc::new(WarehouseError::Timeout { warehouse: "pg".into(), after: Duration::from_secs(5) }));
        book.answer(book.take_asked().into_iter().map(|a| (a, Err(failed.clone()))).collect());
        for _ in 0..2 {
            let err = rows_of(&session, &steps).unwrap_err();
            assert_eq!(
                err.to_string(),
                "warehouse `pg`: no answer within 5s (its `timeout`); the session was cancelled"
            );
        }
    }

    #[test]
    fn a_fingerprinted_answer_gives_its_rows_and_its_print() {
        let book = Deferred::default();
        let session = session(&book);
        let steps = [Step::Rows("SELECT count(*) FROM t".into())];
        let mut rows = Vec::new();
        let keys = ("SELECT k FROM t", None);
        let pending = session.fingerprinted(&steps, keys, &mut |i, f| rows.push((i, f)));
        assert!(matches!(pending, Err(WarehouseError::Pending { .. })));
        let print = Fingerprint { hex: "ab".into(), population: 3, duplicate_keys: Vec::new(), duplicate_count: 0 };
        let streamed = Streamed { print, strays: vec!["k-9".into()] };
        let answer = Answer::Fingerprinted(vec![vec![vec![Some("3".into())]]], streamed.clone());
        book.answer(book.take_asked().into_iter().map(|a| (a, Ok(answer.clone()))).collect());
        let got = session.fingerprinted(&steps, keys, &mut |i, f| rows.push((i, f))).unwrap();
        assert_eq!(got, streamed);
        assert_eq!(rows, [(0, vec![Some("3".to_string())])]);
    }
}
