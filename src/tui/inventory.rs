//! What the UI shows of the inventory and the calendar, read in one go by
//! the worker apart from the overview (it scans the observed sources, so it
//! is reread only when evidence or audits change): the drift report for the
//! working period, the current audit's missed slots, and the current
//! quarter's due and missed occurrences.

use super::failure::Failure;
use crate::audit::occurrences::{self, DueSlot, SlotState, StoredSlot};
use crate::workspace::Workspace;
use crate::workspace::inventory::Inventory;
use crate::workspace::inventory::drift::{self, SystemsReport};
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;

#[derive(Debug, Clone)]
pub struct InventoryPicture {
    /// Whether the workspace has a `systems.toml`.
    pub present: bool,
    /// The drift report of the working period (None without an inventory,
    /// or when it could not be made: `problems` says why).
    pub report: Option<SystemsReport>,
    /// The slots the current audit recorded as missed, with its label.
    pub audit_missed: Option<(String, Vec<StoredSlot>)>,
    /// This quarter's open slots, soonest first, and those already missed.
    pub due: Vec<DueSlot>,
    pub missed: Vec<DueSlot>,
    /// Why a part could not be read (an invalid systems.toml, a spec whose
    /// population is refused): shown, never fatal to the rest.
    pub problems: Vec<String>,
    /// The workspace's zone: dates are shown in it.
    pub tz: chrono_tz::Tz,
}

impl InventoryPicture {
    /// Reads it for `period`; `audit` is the current audit, if any.
    pub fn read(ws: &Workspace, mappings: &Mappings, period: &Period, audit: Option<&str>) -> Result<Self, Failure> {
        let inventory = Inventory::load(&ws.root);
        let mut problems = Vec::new();
        let report = match inventory.present {
            false => None,
            true => match drift::report(ws, &inventory, mappings, period, ws.today()) {
                Ok(report) => Some(report),
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            },
        };
        let (due, missed) = match occurrences::upcoming(ws, &inventory, mappings) {
            Ok(found) => found,
            Err(e) => {
                problems.push(e.to_string());
                (Vec::new(), Vec::new())
            }
        };
        let audit_missed = match audit {
            Some(label) => {
                let slots = occurrences::load(&ws.conn, label)?
                    .into_iter()
                    .filter(|s| s.outcome.state == SlotState::Missed)
                    .collect();
                Some((label.to_string(), slots))
            }
            None => None,
        };
        Ok(Self { present: inventory.present, report, audit_missed, due, missed, problems, tz: ws.config.timezone })
    }

    /// Drift lines of the period (none without a report).
    pub fn drift(&self) -> &[drift::Drift] {
        self.report.as_ref().map(|r| r.drift.as_slice()).unwrap_or_default()
    }
}
