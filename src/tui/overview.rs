//! The overview: everything light the views show (controls, audits with
//! their summaries, findings, sources, documents, questions), read in one go by the
//! worker after every change.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::failure::Failure;
use super::inventory::InventoryPicture;
use crate::audit::audits::summary::{self, AuditSummary};
use crate::audit::findings::{self, Finding};
use crate::audit::questions::{Library, Question};
use crate::audit::record;
use crate::workspace::catalog::Catalog;
use crate::workspace::documents::Register;
use crate::workspace::documents::state::{self, HashCache, Status as DocumentStatus};
use crate::workspace::mapping::{Control, Mappings};
use crate::workspace::period::Period;
use crate::workspace::sources::{SourceStatus, source_statuses};
use crate::workspace::{Access, Workspace};

/// Everything light the views show, read in one go.
#[derive(Debug, Clone)]
pub struct Overview {
    pub workspace: PathBuf,
    pub read_only: bool,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub catalog: Catalog,
    pub controls: Vec<Control>,
    pub mapping_problems: usize,
    pub audits: Vec<AuditSummary>,
    /// The audit the views work in: the latest in fieldwork, else the latest.
    pub current: Option<usize>,
    /// The current audit's period, else the last full quarter.
    pub period: Period,
    pub findings: Vec<Finding>,
    pub sources: Vec<SourceStatus>,
    /// Each document version's state in the working period.
    pub documents: Vec<DocumentStatus>,
    pub questions: Vec<Question>,
    /// Why the question library could not be read (the Query tab says it).
    pub questions_problem: Option<String>,
    /// The inventory and the calendar: read apart (`Request::Systems`),
    /// kept from the previous overview until it is read again.
    pub inventory: Option<Arc<InventoryPicture>>,
}

impl Overview {
    /// Reads it: a read-write workspace first reopens findings whose
    /// accepted risk has lapsed.
    pub fn read(ws: &Workspace, mappings: &Mappings, hashes: &mut HashCache) -> Result<Self, Failure> {
        let conn = &ws.conn;
        let now = ws.now();
        let today = ws.today();
        if ws.access == Access::ReadWrite {
            findings::reopen_expired(ws, today)?;
        }
        let all_findings = findings::list(conn)?;
        let summaries = summary::summaries(ws, &all_findings)?;
        let list: Vec<record::Audit> = summaries.iter().map(|s| s.audit.clone()).collect();
        let (questions, questions_problem) = match Library::load(&ws.root) {
            Ok(library) => (library.questions, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let period = record::working_period(&list, today, ws.config.timezone)?;
        let register = Register::load(&ws.root);
        let documents = state::assess_with(&ws.root, conn, &register, Some(&period), today, hashes)?;
        Ok(Self {
            workspace: ws.root.clone(),
            read_only: ws.access == Access::ReadOnly,
            now,
            today,
            catalog: Catalog::soc2()?,
            mapping_problems: mappings.problems.len(),
            controls: mappings.controls.clone(),
            current: record::current(&list),
            period,
            documents,
            audits: summaries,
            findings: all_findings,
            sources: source_statuses(ws, None, now)?,
            questions,
            questions_problem,
            inventory: None,
        })
    }

    pub fn current_audit(&self) -> Option<&AuditSummary> {
        self.current.and_then(|i| self.audits.get(i))
    }
}
