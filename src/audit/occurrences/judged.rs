//! A spec's calendar judged: each slot of each `per` tuple met, missed or due.

use chrono::{DateTime, Utc};

use crate::workspace::calendar::{Expect, Grace, Slot};

crate::vocabulary::vocabulary! {
    /// Whether a slot was filled.
    pub enum SlotState {
        /// At least one row landed in its window.
        Met = "met",
        /// Its window closed with no row: an exception.
        Missed = "missed",
        /// Its window is still open.
        Due = "due",
    }
}

/// One slot for one `per` value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlotOutcome {
    pub slot: Slot,
    /// The `per` columns' values (empty without `per`).
    pub per: Vec<String>,
    pub rows: u64,
    pub state: SlotState,
    /// When the window closes: the slot's end plus the grace.
    pub closes: DateTime<Utc>,
}

impl SlotOutcome {
    /// `2026-Q3` or `2026-Q3 | postgres-orders`: how a slot is named (a
    /// finding names a missed one this way).
    pub fn name(&self) -> String {
        slot_name(&self.slot, &self.per)
    }
}

fn slot_name(slot: &Slot, per: &[String]) -> String {
    std::iter::once(slot.label.as_str()).chain(per.iter().map(String::as_str)).collect::<Vec<_>>().join(" | ")
}

/// One slot for one `per` value, as [`Occurrences`] holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotRef<'a> {
    pub slot: &'a Slot,
    /// The `per` columns' values (empty without `per`).
    pub per: &'a [String],
    pub rows: u64,
    pub state: SlotState,
    /// When the window closes: the slot's end plus the grace.
    pub closes: DateTime<Utc>,
}

impl SlotRef<'_> {
    /// As [`SlotOutcome::name`].
    pub fn name(&self) -> String {
        slot_name(self.slot, self.per)
    }

    pub fn to_outcome(&self) -> SlotOutcome {
        SlotOutcome {
            slot: self.slot.clone(),
            per: self.per.to_vec(),
            rows: self.rows,
            state: self.state,
            closes: self.closes,
        }
    }
}

/// A spec's calendar in a period, slot by slot. Each slot and each `per`
/// tuple is held once: a year of daily slots for hundreds of systems is a
/// hundred thousand small cells, not as many copies of their names.
#[derive(Debug, Clone)]
pub struct Occurrences {
    pub control: String,
    pub spec: String,
    pub expect: Expect,
    pub per: Vec<String>,
    pub grace: Grace,
    /// The query that found the rows (runs as-is in the DuckDB CLI).
    pub sql: String,
    /// The calendar's slots in order, with when each one's window closes.
    calendar: Vec<(Slot, DateTime<Utc>)>,
    /// The `per` tuples judged.
    tuples: Vec<Vec<String>>,
    /// By slot, then tuple.
    cells: Vec<Cell>,
}

/// One slot of one tuple: indexes into the calendar and the tuples.
#[derive(Debug, Clone, Copy)]
struct Cell {
    slot: u32,
    tuple: u32,
    rows: u64,
    state: SlotState,
}

impl Occurrences {
    pub(super) fn new(
        control: String,
        spec: String,
        expect: Expect,
        per: Vec<String>,
        grace: Grace,
        sql: String,
    ) -> Self {
        Self { control, spec, expect, per, grace, sql, calendar: Vec::new(), tuples: Vec::new(), cells: Vec::new() }
    }

    /// Adds the next slot of the calendar; its index for [`Self::add_cell`].
    pub(super) fn add_slot(&mut self, slot: Slot, closes: DateTime<Utc>) -> usize {
        self.calendar.push((slot, closes));
        self.calendar.len() - 1
    }

    /// Adds tuple `tuple`'s outcome in slot `slot` (tuples are numbered as
    /// [`Self::set_tuples`] lists them).
    pub(super) fn add_cell(&mut self, slot: usize, tuple: usize, rows: u64, state: SlotState) {
        self.cells.push(Cell { slot: slot as u32, tuple: tuple as u32, rows, state });
    }

    pub(super) fn set_tuples(&mut self, tuples: Vec<Vec<String>>) {
        self.tuples = tuples;
    }

    /// Every slot of every tuple, by slot then tuple.
    pub fn slots(&self) -> impl Iterator<Item = SlotRef<'_>> {
        self.cells.iter().map(|cell| {
            let (slot, closes) = &self.calendar[cell.slot as usize];
            SlotRef {
                slot,
                per: &self.tuples[cell.tuple as usize],
                rows: cell.rows,
                state: cell.state,
                closes: *closes,
            }
        })
    }

    /// How many slots (of every tuple) there are.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn count(&self, state: SlotState) -> u64 {
        self.cells.iter().filter(|c| c.state == state).count() as u64
    }

    pub fn missed(&self) -> impl Iterator<Item = SlotRef<'_>> {
        self.slots().filter(|s| s.state == SlotState::Missed)
    }

    /// `expect weekly` or `expect daily per system`: how the calendar is
    /// named beside a spec's attribute tests.
    pub fn name(&self) -> String {
        match self.per.as_slice() {
            [] => format!("expect {}", self.expect.as_str()),
            per => format!("expect {} per {}", self.expect.as_str(), per.join(", ")),
        }
    }
}
